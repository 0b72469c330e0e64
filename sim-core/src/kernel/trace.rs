//! Trace records: what happened at each hop, and why.
//!
//! Every record belongs to the event that produced it and names that event's cause, so a
//! frame's whole journey can be followed back. `Why` is a closed enum of typed facts: every
//! reason the simulator can give for a forwarding decision is listed here, with the ids of
//! what decided it (a device, a route, an iptables rule, an IPVS connection). Nothing is
//! text until it is shown: [`Why::show`] names the devices through [`Names`], so keeping a
//! reason costs a copy of a few words, and a run that prints nothing formats nothing.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use crate::engine::{EventId, SimTime};
use crate::kernel::ipvs::IpvsNote;
use crate::kernel::netfilter::Note;
use crate::kernel::{DevId, NsId, Route};
use crate::wire::IcmpError;
use crate::wire::{Dotted, Mac};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// The frame left through this device.
    Tx,
    /// The frame arrived on this device.
    Rx,
    /// The frame was dropped here.
    Drop,
    /// The packet reached a local socket or the stack's own handler.
    Deliver,
    /// An application said something (ping output, bytes received).
    App,
}

#[derive(Clone, Debug)]
pub struct Record {
    pub event: EventId,
    pub cause: Option<EventId>,
    pub time: SimTime,
    pub ns: NsId,
    pub dev: Option<DevId>,
    pub dir: Dir,
    pub frame: Option<Vec<u8>>,
    pub why: Vec<Why>,
}

/// What turns a reason's ids into names. A device keeps its id and its name for the whole run
/// (a deleted one stays in the table, dead), so a record made at any time names the device it
/// was made on.
pub trait Names {
    /// The device's name (`eth0`, `br-1a2b3c4d5e6f`), or `?` for an id this kernel never had
    /// (a record shown against a world from before the device was made).
    fn dev_name(&self, d: DevId) -> &str;
}

/// One reason, in the kernel's terms: the decision and the ids of what decided it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Why {
    /// A bridge knew the destination MAC (`br_fdb_find`).
    FdbHit { bridge: DevId, mac: Mac, port: DevId },
    /// A bridge did not know the destination (or it was broadcast/multicast) and flooded.
    Flood { bridge: DevId, mac: Mac, ports: usize, broadcast: bool },
    /// The destination was the bridge itself or one of its ports: passed up to the bridge's stack.
    BridgeLocal { bridge: DevId },
    /// The FDB entry points back at the ingress port and hairpin is off.
    HairpinDrop { bridge: DevId, port: DevId },
    /// A bridge learned a source MAC on a port.
    Learned { bridge: DevId, mac: Mac, port: DevId, moved_from: Option<DevId> },
    /// A route of the main table was chosen (as `ip route show` prints it).
    Route(Route),
    /// The local table's route: the destination is an address of this namespace.
    LocalRoute { dst: Option<Ipv4Addr>, lo: DevId },
    /// A socket bound to `dev` (`SO_BINDTODEVICE`, `ping -I DEV`) found no route through it:
    /// the kernel takes the destination to be on that link (`ip_route_output_key_hash_rcu`).
    OnLinkRoute { dst: Ipv4Addr, dev: DevId },
    /// Forwarding: `ip_forward` was on and TTL was decremented.
    Forward { ttl: u8 },
    /// Neighbour table consulted for the next hop.
    Neigh { ip: Ipv4Addr, dev: DevId, state: &'static str, mac: Option<Mac> },
    /// ARP request sent while resolving (attempt n of max).
    ArpProbe { ip: Ipv4Addr, attempt: u8, max: u8, queued: usize },
    /// An ARP request for a local address was answered.
    ArpReply { ip: Ipv4Addr },
    /// proxy_arp: a reply for an address routed out of another interface.
    ArpProxyReply { ip: Ipv4Addr },
    /// A neighbour entry changed state.
    NeighUpdate { ip: Ipv4Addr, mac: Mac, state: &'static str },
    /// A netfilter rule or policy of namespace `ns` decided or rewrote something, or its
    /// conntrack classified the packet.
    Netfilter { ns: NsId, note: Note },
    /// An IPVS decision: a new or existing connection, the real server, the reply rewrite.
    Ipvs(IpvsNote),
    /// VXLAN encapsulation toward a remote VTEP.
    VxlanEncap { dev: DevId, vni: u32, remote: Ipv4Addr, fdb: &'static str },
    /// VXLAN decapsulation.
    VxlanDecap { dev: DevId, vni: u32, remote: Ipv4Addr },
    /// The VXLAN device answered an ARP request from its neighbour table (`proxy`).
    VxlanProxyArp { dev: DevId, ip: Ipv4Addr, mac: Mac },
    /// VXLAN had no FDB/neighbour entry; the kernel would raise an L2MISS/L3MISS netlink event.
    VxlanMiss { dev: DevId, miss: VxlanMiss },
    /// macvlan: switched among siblings, or sent to/received from the parent.
    Macvlan { dev: DevId, what: MacvlanHop },
    /// 802.1Q tag added or removed.
    Vlan { dev: DevId, vid: u16, pushed: bool },
    /// The device's netem held the frame this long before it left.
    Netem { dev: DevId, held: SimTime },
    /// What the namespace's own stack did with a packet for it, or why it sent one.
    Local(Local),
    /// Why the frame went no further (`enum skb_drop_reason` in the kernel's terms).
    Drop(DropReason),
    /// A packet a program or the kernel sent of its own accord, and who sent it.
    Sent(Sent),
    /// A program's own words: a line it printed while it ran, as the same program prints it
    /// on a real host (the kernel backend's agents print the same lines: netns/src/agent.rs).
    App(String),
    /// The terminal's transcript of a step: the command as typed, what it printed before the
    /// prompt came back, and its exit status when not 0.
    Shell(String),
    /// netsim's account of what a program's socket saw (connected, data queued, FIN, RST,
    /// an ICMP error), which the program itself does not print.
    Note(String),
}

impl Why {
    /// The text of a printed line, whoever printed it: a program, the shell or netsim.
    pub fn printed(&self) -> Option<&str> {
        match self {
            Why::App(t) | Why::Shell(t) | Why::Note(t) => Some(t),
            _ => None,
        }
    }
}

/// Who sent a packet that no other packet caused, and what it meant by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Sent {
    /// sendto(2) on a UDP socket; `who` is the program's own name for what it sends.
    Udp { who: Cow<'static, str>, bytes: usize, dst: Ipv4Addr, dport: u16 },
    /// An echo request from a ping socket.
    EchoRequest { dst: Ipv4Addr, seq: u16 },
    /// The kernel sent a SYN again: no answer within the RTO.
    SynRetransmit,
    /// The kernel sent data or a FIN again: not acknowledged within the RTO, the `tries`th
    /// time (the RTO doubles each time).
    Retransmit { rto: SimTime, tries: u8 },
    /// The kernel sent a segment again at once: the peer's SACK blocks (the first
    /// `left`..`right`) show that what was sent after it arrived.
    SackRetransmit { left: u32, right: u32 },
    /// The tail loss probe: the last segment sent (or new data) went again, two round trips
    /// after the last was sent and no ACK came.
    LossProbe,
    /// The kernel sent a segment again, cut to a path MTU a "fragmentation needed" taught it.
    PmtuRetransmit { mtu: u32 },
    /// An unsolicited ARP request for an address just put on an interface (`arping -U`, as
    /// dockerd sends for a new sandbox interface).
    UnsolicitedArp { ip: Ipv4Addr },
}

/// The misses of a VXLAN device (drivers/net/vxlan/vxlan_core.c, `vxlan_xmit`, `arp_reduce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VxlanMiss {
    /// `l2miss`: no FDB entry for the destination MAC.
    L2Miss(Mac),
    /// No FDB entry and no all-zeros default.
    NoFdb(Mac),
    /// `proxy`: an ARP that is not a request for another host.
    NotARequest,
    /// `l3miss`: no neighbour entry for the requested address.
    L3Miss(Ipv4Addr),
    /// `proxy` without `l3miss`: no neighbour entry for the requested address.
    NoNeigh(Ipv4Addr),
}

/// Where a macvlan device sent or took a frame (drivers/net/macvlan.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacvlanHop {
    /// `macvlan_broadcast` from the parent's wire.
    BroadcastFromParent,
    /// The destination is this child's MAC.
    ToChild(Mac),
    /// Bridge mode: a broadcast copied to a bridge-mode sibling.
    BroadcastToSibling,
    /// Bridge mode: the destination is a sibling's MAC.
    ToSibling { mac: Mac, sibling: DevId },
    /// Out through the parent's wire.
    OutThroughParent(DevId),
}

/// What a namespace's stack did with a packet for it, or why it sent one of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Local {
    ArpUpdatesNeighbour {
        ip: Ipv4Addr,
        mac: Mac,
    },
    QueuedWhileResolving {
        nexthop: Ipv4Addr,
        waiting: usize,
    },
    EchoRequest {
        dst: Ipv4Addr,
    },
    EchoReply {
        to: Ipv4Addr,
        seq: u16,
    },
    IcmpErrorSent {
        kind: IcmpError,
        to: Ipv4Addr,
    },
    /// An ICMP error not sent: its destination's bucket is empty (`icmp_ratelimit`).
    IcmpRateLimited {
        kind: IcmpError,
        to: Ipv4Addr,
    },
    RejectTcpReset {
        to: (Ipv4Addr, u16),
        from: (Ipv4Addr, u16),
    },
    /// A segment of a connection (`state` is `None` once it is gone).
    TcpSegmentSent {
        state: Option<crate::kernel::tcp::TcpState>,
        bytes: usize,
        to: (Ipv4Addr, u16),
    },
    TcpResetNoSocket {
        dport: u16,
    },
    TcpMalformed,
    TcpSynForListener {
        dport: u16,
    },
    TcpResetIgnored,
    TcpNoSocket {
        dport: u16,
    },
    TcpForConnection {
        local: (Ipv4Addr, u16),
        remote: (Ipv4Addr, u16),
    },
    UdpToPort {
        src: (Ipv4Addr, u16),
        dport: u16,
    },
    /// ICMP for a ping socket bound to another device than the one it came in on.
    PingBoundElsewhere {
        ident: u16,
    },
    EchoReplyNoSocket {
        ident: u16,
    },
    EchoReplyToSocket {
        ident: u16,
    },
    IcmpIgnored {
        ty: u8,
        code: u8,
    },
    IcmpQuotesNothing {
        ty: u8,
        code: u8,
    },
    IcmpErrorAbout {
        dst: Ipv4Addr,
        ty: u8,
        code: u8,
        /// The next-hop MTU of a "fragmentation needed".
        mtu: u16,
    },
    /// A fragment waits in its queue for the rest of its packet.
    FragmentHeld {
        id: u16,
        have: usize,
    },
    /// The last missing fragment came: the packet goes on whole.
    Reassembled {
        id: u16,
        fragments: usize,
        bytes: usize,
    },
    /// A packet bigger than the path MTU, without DF, left in fragments (`ip_fragment`).
    Fragmented {
        bytes: usize,
        mtu: usize,
        fragments: usize,
    },
}

/// Why a frame went no further. Named after the kernel's `SKB_DROP_REASON_*`
/// (include/net/dropreason-core.h) where one fits; the text says it in a student's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    DevDown,
    /// `SKB_DROP_REASON_DEV_READY` on a veth: the peer is down.
    PeerDown,
    /// netem's `loss`: dropped in the qdisc, before any capture sees it (`SKB_DROP_REASON_QDISC_DROP`).
    NetemLoss,
    /// More than netem's `limit` packets were waiting.
    QdiscOverlimit {
        limit: u32,
    },
    BridgeDown,
    /// Shorter than an Ethernet header.
    Runt,
    /// `SKB_DROP_REASON_UNHANDLED_PROTO` at 802.1Q.
    NoVlanDevice {
        vid: u16,
    },
    /// `SKB_DROP_REASON_OTHERHOST`.
    OtherHost {
        dst: Mac,
    },
    /// `SKB_DROP_REASON_UNHANDLED_PROTO` at the ethertype.
    NoEthertypeHandler(u16),
    HairpinOff {
        port: DevId,
    },
    /// Both ports are isolated (`bridge link set … isolated on`): `should_deliver` refuses.
    PortIsolated {
        from: DevId,
        to: DevId,
    },
    BridgeToItself,
    VxlanMiss(VxlanMiss),
    VxlanProxyConsumes,
    /// `SKB_DROP_REASON_VXLAN_VNI_NOT_FOUND`.
    VxlanNoVni {
        vni: u32,
        dport: u16,
    },
    VxlanNoUnderlayRoute {
        remote: Ipv4Addr,
    },
    MalformedArp,
    /// arp_accept=0.
    ArpNotForUs,
    /// A second ARP answer for `ip` with another address, within locktime of the entry's
    /// last change: the entry keeps `kept`.
    NeighLocktime {
        ip: Ipv4Addr,
        kept: Mac,
    },
    /// `arp_ignore` at `level` keeps this interface from answering for `tip`.
    ArpIgnored {
        tip: Ipv4Addr,
        level: u8,
    },
    /// `arp_filter`: the route back to `sip` leaves by `via`, not this interface.
    ArpFiltered {
        sip: Ipv4Addr,
        tip: Ipv4Addr,
        via: Option<DevId>,
    },
    /// `SKB_DROP_REASON_IP_RPFILTER`: no route back to `src` by the interface it came in on
    /// (strict, `level` 1), or none at all (loose, 2).
    RpFilter {
        src: Ipv4Addr,
        level: u8,
    },
    /// `SKB_DROP_REASON_NEIGH_FAILED`.
    NeighFailed {
        ip: Ipv4Addr,
        dev: DevId,
        max: u8,
    },
    /// `SKB_DROP_REASON_IP_INHDR` and friends: what `ip_rcv` found wrong.
    IpRcv(&'static str),
    MulticastNotJoined,
    NotLocalNoForward {
        dst: Ipv4Addr,
    },
    /// `SKB_DROP_REASON_IP_OUTNOROUTES`.
    NoRoute {
        dst: Ipv4Addr,
    },
    NoRouteAfterNat {
        dst: Ipv4Addr,
    },
    /// `SKB_DROP_REASON_IP_INHDR` (TTL exceeded).
    TtlExpired,
    /// `SKB_DROP_REASON_PKT_TOO_BIG` when forwarding.
    ForwardTooBig {
        len: usize,
        mtu: usize,
        out: DevId,
    },
    /// `SKB_DROP_REASON_PKT_TOO_BIG` on output (sendmsg fails with EMSGSIZE).
    TooBig {
        len: usize,
        mtu: usize,
    },
    /// `SKB_DROP_REASON_DUP_FRAG`: the same fragment again; its queue waits on.
    FragDuplicate,
    /// A fragment overlapping another one (counted as `ReasmOverlaps`): the
    /// whole queue goes.
    FragOverlap,
    /// `SKB_DROP_REASON_PKT_TOO_BIG` in reassembly: a fragment that disagrees with the
    /// length the last fragment gave, or a packet beyond 65535 bytes; the whole queue goes.
    FragTooBig,
    /// `SKB_DROP_REASON_IP_CSUM` / `TCP_CSUM` / `UDP_CSUM`.
    BadChecksum,
    /// `SKB_DROP_REASON_UNHANDLED_PROTO` at the IP protocol.
    NoProtoHandler(u8),
    /// `SKB_DROP_REASON_PKT_TOO_SMALL`.
    TruncatedUdp,
    UdpBroadcastNoSocket {
        dport: u16,
    },
    /// `SKB_DROP_REASON_NO_SOCKET`.
    NoUdpSocket {
        dport: u16,
    },
    IpvsNoDest,
    IpvsDestGone {
        conn: u64,
        dest: (Ipv4Addr, u16),
        expired: bool,
    },
    IpvsNoRoute {
        real: Ipv4Addr,
    },
    /// A local source leaving through a non-loopback device (`route_localnet=0`).
    Martian {
        src: Ipv4Addr,
        dev: DevId,
    },
    /// `SKB_DROP_REASON_NETFILTER_DROP`: a hook's chain dropped or rejected it.
    Netfilter {
        chain: &'static str,
        bridged: bool,
        reject: Option<crate::kernel::netfilter::RejectWith>,
    },
}

impl Why {
    /// The reason as the hop log, the capture's comments and the GUI print it.
    pub fn show<'a>(&'a self, names: &'a dyn Names) -> Shown<'a> {
        Shown { why: self, names }
    }
}

/// Each reason's text, made the first time it is shown and kept: the hop log and the capture
/// write a run's frames with a few reasons repeated many times over (each flow's route,
/// neighbour and FDB entry). A reason names devices by id, and a device keeps its name and
/// id for the whole run (`Names`), so a text never goes stale while its world lives. Keep
/// one per world.
#[derive(Default)]
pub struct Texts {
    index: crate::kernel::Map<Why, u32>,
    texts: Vec<Box<str>>,
}

impl Texts {
    /// Reasons kept at most (a program's own words are reasons too, and rarely repeat).
    const MAX: usize = 1 << 14;

    /// The reason as [`Why::show`] writes it.
    pub fn get<'a>(&'a mut self, why: &'a Why, names: &dyn Names) -> &'a str {
        // A printed line is its own text already.
        if let Some(line) = why.printed() {
            return line;
        }
        if let Some(&i) = self.index.get(why) {
            return &self.texts[i as usize];
        }
        if self.texts.len() >= Self::MAX {
            self.index.clear();
            self.texts.clear();
        }
        self.index.insert(why.clone(), self.texts.len() as u32);
        self.texts.push(why.show(names).to_string().into());
        self.texts.last().map_or("", |t| t)
    }
}

/// A reason with the names it refers to: `Display` writes it.
pub struct Shown<'a> {
    why: &'a Why,
    names: &'a dyn Names,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |d: DevId| self.names.dev_name(d);
        match self.why {
            Why::FdbHit { bridge, mac, port } => write!(f, "{}: fdb {mac} → port {}", n(*bridge), n(*port)),
            Why::Flood { bridge, mac, ports, broadcast } => {
                let what = if *broadcast { "broadcast/multicast" } else { "unknown unicast" };
                write!(f, "{}: {what} {mac} → flood to {ports} port(s) but the ingress", n(*bridge))
            }
            Why::BridgeLocal { bridge } => {
                write!(f, "{}: destination is the bridge itself → up to its stack", n(*bridge))
            }
            Why::HairpinDrop { bridge, port } => {
                write!(f, "{}: fdb says {}, the ingress port; hairpin off → drop", n(*bridge), n(*port))
            }
            Why::Learned { bridge, mac, port, moved_from } => match moved_from {
                Some(old) => write!(f, "{}: learned {mac} on {} (moved from {})", n(*bridge), n(*port), n(*old)),
                None => write!(f, "{}: learned {mac} on {}", n(*bridge), n(*port)),
            },
            Why::Route(r) => write!(f, "route: {}", RouteShown { route: r, names: self.names }),
            // The local table: `ip route show table local` prints it so.
            Why::LocalRoute { dst: Some(d), lo } => write!(f, "route: local {d} dev {} table local", n(*lo)),
            Why::LocalRoute { dst: None, lo } => write!(f, "route: local dev {} table local", n(*lo)),
            Why::OnLinkRoute { dst, dev } => {
                write!(
                    f,
                    "route: none for {dst} through {}, to which the socket is bound: taken as on its link",
                    n(*dev)
                )
            }
            Why::Forward { ttl } => write!(f, "ip_forward=1 → forward, ttl {}→{}", ttl, ttl.saturating_sub(1)),
            Why::Neigh { ip, dev, state, mac } => match mac {
                Some(m) => write!(f, "neigh {} dev {} lladdr {m} {state}", Dotted(*ip), n(*dev)),
                None => write!(f, "neigh {} dev {} {state}", Dotted(*ip), n(*dev)),
            },
            Why::ArpProbe { ip, attempt, max, queued } => {
                write!(f, "resolving {ip}: ARP request {attempt}/{max}, {queued} packet(s) queued")
            }
            Why::ArpReply { ip } => write!(f, "ARP request for local address {ip} → reply"),
            Why::ArpProxyReply { ip } => {
                write!(
                    f,
                    "ARP request for {ip}, routed out of another interface, and proxy_arp=1 → reply with this MAC"
                )
            }
            Why::NeighUpdate { ip, mac, state } => write!(f, "neigh {ip} lladdr {mac} → {state}"),
            Why::Netfilter { note, .. } => write!(f, "{note}"),
            Why::Ipvs(note) => write!(f, "{note}"),
            Why::VxlanEncap { dev, vni, remote, fdb } => {
                write!(f, "{}: encap vni {vni} → remote VTEP {remote} ({fdb})", n(*dev))
            }
            Why::VxlanDecap { dev, vni, remote } => write!(f, "{}: decap vni {vni} from VTEP {remote}", n(*dev)),
            Why::VxlanProxyArp { dev, ip, mac } => write!(
                f,
                "{}: proxy ARP, {ip} is-at {mac} from the neighbour table; nothing crosses the underlay",
                n(*dev)
            ),
            Why::VxlanMiss { dev, miss } => write!(f, "{}: {miss}", n(*dev)),
            Why::Macvlan { dev, what } => {
                write!(f, "{}: ", n(*dev))?;
                match what {
                    MacvlanHop::BroadcastFromParent => {
                        f.write_str("broadcast from the parent's wire: a copy to every child")
                    }
                    MacvlanHop::ToChild(mac) => write!(f, "{mac} is this child's MAC → delivered to it"),
                    MacvlanHop::BroadcastToSibling => f.write_str("bridge mode: broadcast copied to sibling"),
                    MacvlanHop::ToSibling { mac, sibling } => {
                        write!(f, "bridge mode: {mac} is sibling {} → switched locally, never on the wire", n(*sibling))
                    }
                    MacvlanHop::OutThroughParent(p) => write!(f, "out through parent {}'s wire", n(*p)),
                }
            }
            Why::Vlan { dev, vid, pushed } => {
                let what = if *pushed { "tag" } else { "untag" };
                write!(f, "{}: {what} 802.1Q vid {vid}", n(*dev))
            }
            Why::Netem { dev, held } => write!(f, "{}: netem held it {} before it left", n(*dev), held_for(*held)),
            Why::Local(l) => write!(f, "{l}"),
            Why::Drop(d) => {
                f.write_str("drop: ")?;
                d.write(f, self.names)
            }
            Why::Sent(Sent::Udp { who, bytes, dst, dport }) => {
                write!(f, "{who}: {bytes} bytes to {}:{dport}", Dotted(*dst))
            }
            Why::Sent(Sent::EchoRequest { dst, seq }) => write!(f, "ping {dst}: echo request icmp_seq={seq}"),
            Why::Sent(Sent::SynRetransmit) => f.write_str("SYN retransmitted: no answer within the RTO"),
            Why::Sent(Sent::PmtuRetransmit { mtu }) => {
                write!(f, "retransmitted smaller: the path MTU is {mtu} (fragmentation needed)")
            }
            Why::Sent(Sent::SackRetransmit { left, right }) => {
                write!(f, "retransmitted at once: the peer's SACK {left}:{right} shows later data arrived (RACK)")
            }
            Why::Sent(Sent::LossProbe) => {
                f.write_str("tail loss probe: nothing acknowledged within two round trips, the last segment sent again")
            }
            Why::Sent(Sent::Retransmit { rto, tries }) => write!(
                f,
                "retransmitted: not acknowledged within the RTO ({} ms, retransmission {tries})",
                rto.as_nanos() / 1_000_000
            ),
            Why::Sent(Sent::UnsolicitedArp { ip }) => write!(f, "dockerd: unsolicited ARP for {ip} on a new interface"),
            Why::App(s) | Why::Shell(s) | Why::Note(s) => f.write_str(s),
        }
    }
}

/// A route as `ip route show` prints it.
pub struct RouteShown<'a> {
    pub route: &'a Route,
    pub names: &'a dyn Names,
}

impl fmt::Display for RouteShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.route;
        if r.dst.len == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}", r.dst)?;
        }
        if let Some(gw) = r.via {
            write!(f, " via {}", Dotted(gw))?;
        }
        write!(f, " dev {}", self.names.dev_name(r.dev))?;
        if r.kernel {
            f.write_str(" proto kernel scope link")?;
        } else if r.via.is_none() {
            f.write_str(" scope link")?;
        }
        if let Some(src) = r.src {
            write!(f, " src {}", Dotted(src))?;
        }
        if r.metric != 0 {
            write!(f, " metric {}", r.metric)?;
        }
        Ok(())
    }
}

impl fmt::Display for VxlanMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VxlanMiss::L2Miss(dst) => write!(f, "L2MISS for {dst}: netlink notification, frame dropped"),
            VxlanMiss::NoFdb(dst) => write!(f, "no FDB entry for {dst} and no default destination"),
            VxlanMiss::NotARequest => f.write_str("proxy: ARP that is not a request for another host is consumed"),
            VxlanMiss::L3Miss(ip) => write!(f, "L3MISS for {ip}: netlink notification, request consumed"),
            VxlanMiss::NoNeigh(ip) => write!(f, "no neighbour entry for {ip}: request consumed"),
        }
    }
}

impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Local::ArpUpdatesNeighbour { ip, mac } => write!(f, "ARP from {ip} ({mac}) updates the neighbour entry"),
            Local::QueuedWhileResolving { nexthop, waiting } => {
                write!(f, "queued while resolving {nexthop} ({waiting} waiting)")
            }
            Local::EchoRequest { dst } => write!(f, "ICMP echo request for local {dst} → kernel sends echo reply"),
            Local::EchoReply { to, seq } => write!(f, "kernel: ICMP echo reply to {to} icmp_seq={seq}"),
            Local::IcmpErrorSent { kind, to } => write!(f, "ICMP {kind:?} sent to {to}"),
            Local::IcmpRateLimited { kind, to } => write!(
                f,
                "ICMP {kind:?} to {to} not sent: icmp_ratelimit allows one per second to a destination, in bursts of 6"
            ),
            Local::RejectTcpReset { to, from } => {
                write!(f, "REJECT --reject-with tcp-reset: RST to {}:{} from {}:{}", to.0, to.1, from.0, from.1)
            }
            Local::TcpSegmentSent { state: Some(st), bytes, to } => {
                write!(f, "TCP {st:?}: segment with {bytes} bytes to {}:{}", to.0, to.1)
            }
            Local::TcpSegmentSent { state: None, bytes, to } => {
                write!(f, "TCP: segment with {bytes} bytes to {}:{}", to.0, to.1)
            }
            Local::TcpResetNoSocket { dport } => write!(f, "TCP RST: no socket on port {dport}"),
            Local::TcpMalformed => f.write_str("malformed TCP segment"),
            Local::TcpSynForListener { dport } => write!(f, "TCP SYN for listening port {dport} → SYN-ACK"),
            Local::TcpResetIgnored => f.write_str("TCP RST for no connection: ignored"),
            Local::TcpNoSocket { dport } => write!(f, "TCP to port {dport} with no socket → RST"),
            Local::TcpForConnection { local, remote } => {
                write!(f, "TCP segment for connection {}:{} ↔ {}:{}", local.0, local.1, remote.0, remote.1)
            }
            Local::UdpToPort { src, dport } => write!(f, "UDP {}:{} → local port {dport}", Dotted(src.0), src.1),
            Local::EchoReplyNoSocket { ident } => write!(f, "ICMP echo reply id {ident}: no ping socket"),
            Local::PingBoundElsewhere { ident } => {
                write!(f, "ICMP for ping socket id {ident}, which is bound to another device: not delivered")
            }
            Local::EchoReplyToSocket { ident } => write!(f, "ICMP echo reply → ping socket id {ident}"),
            Local::IcmpIgnored { ty, code } => write!(f, "ICMP type {ty} code {code}: nothing to do"),
            Local::IcmpQuotesNothing { ty, code } => write!(f, "ICMP type {ty} code {code}: quotes no IPv4 header"),
            Local::FragmentHeld { id, have } => {
                write!(f, "fragment of IP ID {id:#06x} held for reassembly ({have} received)")
            }
            Local::Reassembled { id, fragments, bytes } => {
                write!(f, "IP ID {id:#06x} reassembled from {fragments} fragments: {bytes} bytes")
            }
            Local::Fragmented { bytes, mtu, fragments } => {
                write!(f, "{bytes} bytes exceed the MTU {mtu}, no DF: sent as {fragments} fragments")
            }
            Local::IcmpErrorAbout { dst, ty, code, mtu } => {
                write!(f, "ICMP error about a packet to {dst}: {}", crate::kernel::sock::icmp_error_text(ty, code, mtu))
            }
        }
    }
}

/// A short span as a person reads it: `50 ms`, `1.25 ms`, `300 us`.
fn held_for(t: SimTime) -> String {
    let ns = t.as_nanos();
    if ns >= 1_000_000 {
        let ms = ns as f64 / 1e6;
        if ms.fract() == 0.0 { format!("{ms:.0} ms") } else { format!("{ms:.3} ms") }
    } else {
        format!("{} us", ns / 1000)
    }
}

impl DropReason {
    fn write(&self, f: &mut fmt::Formatter<'_>, names: &dyn Names) -> fmt::Result {
        let n = |d: DevId| names.dev_name(d);
        match *self {
            DropReason::DevDown => f.write_str("device is down"),
            DropReason::PeerDown => f.write_str("veth peer is down (NO-CARRIER)"),
            DropReason::NetemLoss => f.write_str("netem loss: the qdisc dropped it, so no capture sees it leave"),
            DropReason::QdiscOverlimit { limit } => write!(f, "netem queue full ({limit} packets, its limit)"),
            DropReason::BridgeDown => f.write_str("bridge is down"),
            DropReason::Runt => f.write_str("runt frame"),
            DropReason::NoVlanDevice { vid } => write!(f, "802.1Q vid {vid}: no VLAN device for it on this interface"),
            DropReason::OtherHost { dst } => {
                write!(f, "destination {dst} is not this device's MAC (PACKET_OTHERHOST)")
            }
            DropReason::NoEthertypeHandler(t) => write!(f, "no handler for ethertype 0x{t:04x}"),
            DropReason::HairpinOff { port } => write!(f, "hairpin off: not sent back out {}", n(port)),
            DropReason::PortIsolated { from, to } => {
                write!(f, "isolated ports: not sent from {} to {}", n(from), n(to))
            }
            DropReason::BridgeToItself => f.write_str("bridge sending to its own address"),
            DropReason::VxlanMiss(m) => write!(f, "{m}"),
            DropReason::VxlanProxyConsumes => f.write_str("vxlan proxy consumes it"),
            DropReason::VxlanNoVni { vni, dport } => write!(f, "vxlan: no device with VNI {vni} on port {dport}"),
            DropReason::VxlanNoUnderlayRoute { remote } => write!(f, "no underlay route to VTEP {remote}"),
            DropReason::MalformedArp => f.write_str("malformed ARP"),
            DropReason::ArpNotForUs => {
                f.write_str("ARP not for a local address and no neighbour entry to update (arp_accept=0)")
            }
            DropReason::NeighLocktime { ip, kept } => {
                write!(f, "another address for {ip} within locktime (1 s) of the last: the entry keeps {kept}")
            }
            DropReason::ArpIgnored { tip, level: 8 } => write!(f, "arp_ignore=8: no ARP reply for {tip}, ever"),
            DropReason::ArpIgnored { tip, level: 1 } => {
                write!(f, "arp_ignore=1: {tip} is not an address of the interface asked on, so no reply")
            }
            DropReason::ArpIgnored { tip, level } => write!(
                f,
                "arp_ignore={level}: {tip} is not an address of the interface asked on with the sender in its subnet, so no reply"
            ),
            DropReason::ArpFiltered { sip, tip, via: Some(d) } => write!(
                f,
                "arp_filter: the route back to {sip} leaves by {}, not this interface, so no reply for {tip}",
                n(d)
            ),
            DropReason::ArpFiltered { sip, tip, via: None } => {
                write!(f, "arp_filter: no route back to {sip}, so no reply for {tip}")
            }
            DropReason::RpFilter { src, level: 1 } => {
                write!(f, "rp_filter=1 (strict): the route back to {src} does not leave by this interface")
            }
            DropReason::RpFilter { src, .. } => write!(f, "rp_filter=2 (loose): no route back to {src}"),
            DropReason::NeighFailed { ip, dev, max } => {
                write!(f, "no ARP reply from {ip} on {} after {max} requests", n(dev))
            }
            DropReason::IpRcv(e) => write!(f, "ip_rcv: {e}"),
            DropReason::MulticastNotJoined => f.write_str("multicast: no group joined"),
            DropReason::NotLocalNoForward { dst } => write!(f, "{dst} is not a local address and ip_forward=0"),
            DropReason::NoRoute { dst } => write!(f, "no route to {dst}"),
            DropReason::NoRouteAfterNat { dst } => write!(f, "no route to {dst} after NAT"),
            DropReason::TtlExpired => f.write_str("TTL expired in transit"),
            DropReason::ForwardTooBig { len, mtu, out } => {
                write!(f, "packet of {len} bytes exceeds the MTU {mtu} of {}", n(out))
            }
            DropReason::TooBig { len, mtu } => write!(f, "packet of {len} bytes exceeds the MTU {mtu} (EMSGSIZE)"),
            DropReason::FragDuplicate => f.write_str("a fragment already received: dropped, the rest wait"),
            DropReason::FragOverlap => f.write_str("a fragment overlapping another one: the whole packet is dropped"),
            DropReason::FragTooBig => f.write_str("a fragment beyond the packet's length: the whole packet is dropped"),
            DropReason::BadChecksum => f.write_str("bad transport checksum"),
            DropReason::NoProtoHandler(p) => write!(f, "no handler for IP protocol {p}"),
            DropReason::TruncatedUdp => f.write_str("truncated UDP"),
            DropReason::UdpBroadcastNoSocket { dport } => write!(f, "UDP broadcast to port {dport}: no socket"),
            DropReason::NoUdpSocket { dport } => write!(f, "no UDP socket on port {dport} → ICMP port unreachable"),
            DropReason::IpvsNoDest => f.write_str("IPVS: the service has no real server → ICMP port unreachable"),
            DropReason::IpvsDestGone { conn, dest, expired } => {
                write!(f, "IPVS conn #{conn} dest {}:{} no longer available: drop", dest.0, dest.1)?;
                if expired {
                    f.write_str(" (expire_nodest_conn: conn expired)")?;
                }
                Ok(())
            }
            DropReason::IpvsNoRoute { real } => write!(f, "IPVS: no route to real server {real}"),
            DropReason::Martian { src, dev } => {
                write!(f, "source {src} may not leave through {}: route_localnet=0 (martian)", n(dev))
            }
            DropReason::Netfilter { chain, bridged, reject } => {
                let bridged = if bridged { " (bridged, br_netfilter)" } else { "" };
                match reject {
                    Some(w) => write!(f, "netfilter {chain}{bridged} rejected it (--reject-with {w})"),
                    None => write!(f, "netfilter {chain}{bridged} dropped it"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::plan::Plan;

    /// A reason keeps ids, not names: shown later, it names the devices as they were when it
    /// was made, even after `ip link del` took them (a device's id and name are never reused),
    /// and an id the kernel never had shows as `?` instead of failing.
    #[test]
    fn a_reason_names_its_devices_after_they_are_gone() {
        let plan: Plan = ron::from_str(
            r#"(namespaces: [(name: "h")],
                links: [Bridge(name: "br0", ns: "h"), Veth(name: "v1", ns: "h", peer: "v1p", peer_ns: "h", master: Some("br0"))])"#,
        )
        .expect("plan");
        let mut k = Kernel::<()>::from_plan(&plan, 1).unwrap_or_else(|e| panic!("{e}"));
        let h = k.ns_by_name("h").expect("h");
        let (br, v1) = (k.dev_by_name(h, "br0").expect("br0"), k.dev_by_name(h, "v1").expect("v1"));
        let mac = Mac([2, 0, 0, 0, 0, 1]);
        let why = Why::FdbHit { bridge: br, mac, port: v1 };
        assert_eq!(why.show(&k).to_string(), "br0: fdb 02:00:00:00:00:01 → port v1");
        k.remove_dev(v1);
        assert!(k.dev_by_name(h, "v1").is_none(), "v1 is gone");
        assert_eq!(why.show(&k).to_string(), "br0: fdb 02:00:00:00:00:01 → port v1");
        let never = Why::Drop(DropReason::HairpinOff { port: DevId(9999) });
        assert_eq!(never.show(&k).to_string(), "drop: hairpin off: not sent back out ?");
    }
}
