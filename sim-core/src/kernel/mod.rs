//! The kernel model: namespaces, devices, neighbour and routing tables, netfilter, IPVS and
//! sockets, realised from a kernel plan. Frame processing lives in `l2` (devices) and `l3`
//! (the IP stack), sockets in `sock` (UDP, ICMP, ports) and `tcp`, all as `impl Kernel`
//! blocks, the way smoltcp splits `InterfaceInner` by layer.
//!
//! The kernel knows nothing above it: no program, no Docker, no scenario, no trace storage.
//! What a socket receives goes to the `Userland` it was built with, as a system call's
//! return would reach a process; what it records is handed to the event loop after each
//! event. Processing an event never calls back into the engine: anything that must happen
//! later (a frame arriving at a veth peer, an ARP retransmit, a program's timer) is pushed to
//! `pending`, which the engine drains into its queue with the current event as cause.

pub mod frag;
pub mod ipvs;
mod l2;
pub mod l3;
pub mod netfilter;
pub mod qdisc;
pub mod rcvbuf;
pub mod reconf;
pub mod show;
pub mod sock;
pub mod tcp;
pub mod trace;
pub mod wheel;

pub use sock::Userland;

use std::collections::{HashMap, HashSet};

/// Hash maps keyed by small ids, MACs and addresses: FxHash, since SipHash's DoS
/// resistance buys nothing inside a simulation and costs a third of the hot path.
pub type Map<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;
pub type Set<K> = HashSet<K, rustc_hash::FxBuildHasher>;
use std::fmt;
use std::net::Ipv4Addr;

use crate::engine::{EventId, EventQueue, SimRng, SimTime};
use crate::plan::{self, Ipv4Net, MacvlanMode, Plan};
use crate::wire::Mac;
use netfilter::{Netfilter, Table};
use trace::{Dir, DropReason, Record, Why};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevId(pub u32);

/// Linux's defaults that the model uses.
pub mod defaults {
    use crate::engine::SimTime;
    /// Ports one bridge takes: port numbers are 10 bits and 0 is reserved, so the 1024th
    /// `ip link set … master` fails with EXFULL (`BR_MAX_PORTS` and `find_portno` in the
    /// kernel's net/bridge/br_if.c; checked on Linux 6.18: "RTNETLINK answers: Exchange full").
    pub const BR_MAX_PORTS: usize = 1023;
    pub const MTU: u32 = 1500;
    pub const LO_MTU: u32 = 65536;
    pub const TTL: u8 = 64;
    /// A veth crossing with the receiving side's work folded in (the softirq that takes the
    /// frame, a bridge's forwarding, the stack up to the socket): a ping across a bridge
    /// crosses four veths in 49 to 62 µs on Linux 6.18 (the medians of four runs of
    /// traces/kernel/linux/round-trips.ron; docs/linux-model.md, "The simulator's clock").
    pub const LINK_DELAY: SimTime = SimTime::from_micros(12);
    pub const BRIDGE_AGEING: SimTime = SimTime::from_secs(300);
    pub const VXLAN_AGEING: SimTime = SimTime::from_secs(300);
    /// neigh/default: retrans_time_ms, mcast_solicit, ucast_solicit, base_reachable_time_ms,
    /// delay_first_probe_time, unres_qlen.
    pub const ARP_RETRANS: SimTime = SimTime::from_secs(1);
    pub const MCAST_SOLICIT: u8 = 3;
    pub const UCAST_SOLICIT: u8 = 3;
    pub const BASE_REACHABLE_MS: u64 = 30_000;
    pub const DELAY_FIRST_PROBE: SimTime = SimTime::from_secs(5);
    pub const UNRES_QLEN: usize = 101;
    /// `DEFAULT_TX_QUEUE_LEN` (include/linux/netdevice.h): a device's transmit queue length
    /// unless its creator sets one; the loopback's too.
    pub const TXQUEUELEN: u32 = 1000;
    /// net.ipv4.ip_local_port_range
    pub const EPHEMERAL: (u16, u16) = (32768, 60999);
    /// net.ipv4.icmp_ratelimit (1000 ms): the cost of one ICMP error to one destination;
    /// a destination's bucket holds `XRLIM_BURST_FACTOR` (6) of them (net/ipv4/icmp.c
    /// `icmpv4_xrlim_allow`, net/ipv4/inetpeer.c `inet_peer_xrlim_allow`).
    pub const ICMP_RATELIMIT: SimTime = SimTime::from_secs(1);
    pub const ICMP_BURST: u64 = 6;
    /// neigh/default/proxy_delay: a proxied ARP reply to a broadcast request waits a random
    /// time below this (`NEIGH_VAR(p, PROXY_DELAY)`, (8 * HZ) / 10).
    pub const PROXY_DELAY_MS: u64 = 800;
    /// neigh/default/locktime: an ARP answer with another address within this time of the
    /// entry's last change is ignored (`NEIGH_VAR_LOCKTIME`, 1 * HZ in `arp_tbl`).
    pub const LOCKTIME: SimTime = SimTime::from_secs(1);
}

/// What the event queue holds: the kernel's events, and those of the layers above it that
/// keep their place among them (a scenario's step, the swarm orchestrator's wake-up), which
/// the kernel only holds in order: the event loop (`Sim`) runs them.
#[derive(Clone, Debug)]
pub enum Queued {
    Kernel(Event),
    Step(u32),
    Wake,
}

/// The cause of events queued before the run (a plain id keeps queue entries small).
pub const NO_CAUSE: EventId = EventId(u64::MAX);

#[derive(Clone, Debug)]
pub enum Event {
    /// A frame arrives at a device after crossing a link (veth, lo, macvlan sibling);
    /// `csum_partial` and `confirm` are `Kernel::csum_partial` and
    /// `Kernel::dst_pending_confirm` of the frame as it left.
    Arrive { dev: DevId, frame: Vec<u8>, csum_partial: bool, confirm: bool },
    /// A frame looping back through lo keeps its netfilter state, as the kernel keeps
    /// skb->_nfct. Boxed: loopback is rare and `Arrive` is the hot, small variant.
    LoArrive(Box<(DevId, Vec<u8>, Option<netfilter::PacketMeta>)>),
    /// Neighbour timer: retransmit ARP or move between NUD states.
    Neigh { ns: NsId, dev: DevId, ip: Ipv4Addr, epoch: u32 },
    /// A TCP connection's delayed-ACK timer.
    TcpDelAck { ns: NsId, key: tcp::TcpKey },
    /// The tick of jiffy `tick`: the TCP retransmission timers (SYN, SYN-ACK, data and FIN,
    /// the tail loss probe) that the timer wheel fires then (`kernel::wheel`).
    TcpTick { tick: u64 },
    /// A timer a program set (`Kernel::set_timer`): handed to `Userland::timer`.
    App { app: usize, tag: u32 },
    /// A fragment queue's 30 s are up (`born` tells it from a later queue of the same key).
    Frag { ns: NsId, key: frag::FragKey, born: SimTime },
    /// A frame a device's netem held leaves it (`kernel::qdisc`).
    Dequeue(Box<Held>),
    /// A proxied ARP reply leaves after the random wait of `proxy_delay` (`pneigh_enqueue`
    /// and `neigh_proxy_process` in net/core/neighbour.c).
    ProxyArp { dev: DevId, frame: Vec<u8> },
}

/// A frame a device's qdisc holds: where and since when, and which qdisc (its handle and
/// generation: a frame of a qdisc replaced or reset since is dropped, not sent).
#[derive(Clone, Debug)]
pub struct Held {
    pub dev: DevId,
    pub frame: Vec<u8>,
    pub meta: Option<netfilter::PacketMeta>,
    pub since: SimTime,
    pub qdisc: (u32, u32),
}

/// The per-interface IPv4 knobs of `net.ipv4.conf.<dev|all>` that change how ARP is
/// answered and asked, and which sources are believed (Documentation/networking/
/// ip-sysctl.rst). All 0 by default, as in a new namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conf {
    /// 0: answer ARP for any local address; 1: only for an address of the interface asked
    /// on; 2: that, and the sender in the address's subnet; 8: never (`arp_ignore` in
    /// net/ipv4/arp.c). 3 differs from 0 only for host-scope addresses, 4–7 are 0.
    pub arp_ignore: u8,
    /// 0: an ARP request's sender address is the waiting packet's source; 1: only if it is
    /// in a subnet of the device that holds the target; 2: always the device's best address
    /// for the target (`arp_solicit`).
    pub arp_announce: u8,
    /// 0: no source validation; 1: strict (the route back to the source leaves by the
    /// interface the packet came in on); 2: loose (there is a route back)
    /// (`__fib_validate_source` in net/ipv4/fib_frontend.c).
    pub rp_filter: u8,
    /// Answer ARP for an address routed out of another interface, with this interface's MAC
    /// (`arp_fwd_proxy`), where the namespace forwards.
    pub proxy_arp: bool,
    /// Answer ARP for a local address only on the interface the route back to the sender
    /// leaves by (`arp_filter` in net/ipv4/arp.c).
    pub arp_filter: bool,
}

#[derive(Clone, Debug)]
pub struct Device {
    pub id: DevId,
    pub name: String,
    pub ns: NsId,
    pub ifindex: u32,
    pub mac: Mac,
    /// The MAC was given explicitly (a bridge keeps it instead of following its ports).
    pub mac_set: bool,
    pub mtu: u32,
    pub up: bool,
    pub master: Option<DevId>,
    /// Devices stacked on this one: macvlan children and VLAN sub-interfaces.
    pub uppers: Vec<DevId>,
    /// Its flags as a bridge port (meaningful while `master` is a bridge).
    pub brport: BrPort,
    /// `net.ipv4.conf.<dev>.route_localnet`: 127/8 sources may leave through it.
    pub route_localnet: bool,
    /// `net.ipv4.conf.<dev>.{arp_ignore,arp_announce,arp_filter,rp_filter,proxy_arp}`: what the device
    /// was given; the kernel combines each with the namespace's `all` (`Kernel::conf`).
    pub conf: Conf,
    pub kind: DevKind,
    pub stats: DevStats,
    /// A root qdisc other than the default (`tc qdisc add dev DEV root netem …`).
    pub qdisc: Option<Box<qdisc::Qdisc>>,
    /// The transmit queue's length, which `ip link` shows as `qlen` (`plan::Link`).
    pub txqueuelen: u32,
}

/// A bridge port's flags (`struct net_bridge_port`'s `flags`; plan::BrPortPlan says what
/// each does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrPort {
    pub hairpin: bool,
    pub learning: bool,
    pub flood: bool,
    pub mcast_flood: bool,
    pub bcast_flood: bool,
    pub isolated: bool,
}

impl Default for BrPort {
    /// A new port's (`new_nbp` in net/bridge/br_if.c: `BR_LEARNING | BR_FLOOD |
    /// BR_MCAST_FLOOD | BR_BCAST_FLOOD`).
    fn default() -> Self {
        BrPort { hairpin: false, learning: true, flood: true, mcast_flood: true, bcast_flood: true, isolated: false }
    }
}

impl From<&crate::plan::BrPortPlan> for BrPort {
    fn from(p: &crate::plan::BrPortPlan) -> Self {
        BrPort {
            hairpin: p.hairpin,
            learning: p.learning,
            flood: p.flood,
            mcast_flood: p.mcast_flood,
            bcast_flood: p.bcast_flood,
            isolated: p.isolated,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct DevStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub dropped: u64,
}

#[derive(Clone, Debug)]
pub enum DevKind {
    Loopback,
    Veth { peer: DevId, delay: SimTime },
    Bridge(Bridge),
    Vxlan(Box<Vxlan>),
    Macvlan { parent: DevId, mode: MacvlanMode },
    Vlan { parent: DevId, vid: u16 },
}

impl DevKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            DevKind::Loopback => "loopback",
            DevKind::Veth { .. } => "veth",
            DevKind::Bridge(_) => "bridge",
            DevKind::Vxlan(_) => "vxlan",
            DevKind::Macvlan { .. } => "macvlan",
            DevKind::Vlan { .. } => "vlan",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Bridge {
    pub ports: Vec<DevId>,
    pub fdb: Map<Mac, FdbEntry>,
    pub ageing: SimTime,
    /// The next entry's [`FdbEntry::seq`].
    pub fdb_seq: u64,
}

impl Bridge {
    /// A new FDB entry (`fdb_create` in net/bridge/br_fdb.c), numbered in the order entries
    /// are made.
    pub fn fdb_insert(&mut self, mac: Mac, port: DevId, updated: SimTime, local: bool, permanent: bool) {
        let seq = self.fdb_seq;
        self.fdb_seq += 1;
        self.fdb.insert(mac, FdbEntry { port, updated, local, permanent, seq });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdbEntry {
    pub port: DevId,
    pub updated: SimTime,
    /// The MAC of a port or of the bridge itself: frames to it go up the stack.
    pub local: bool,
    pub permanent: bool,
    /// When the entry was made, in the bridge's order: the kernel keeps its entries on a list
    /// newest first (`hlist_add_head_rcu` in `fdb_create`), which `bridge fdb` prints in that
    /// order; an entry that moves to another port keeps its place.
    pub seq: u64,
}

#[derive(Clone, Debug)]
pub struct Vxlan {
    pub vni: u32,
    pub local: Option<Ipv4Addr>,
    pub dstport: u16,
    pub learning: bool,
    pub proxy: bool,
    pub l2miss: bool,
    pub l3miss: bool,
    /// The outer UDP header carries a checksum (`udpcsum`).
    pub udpcsum: bool,
    /// The outer source ports, MIN up to MAX (`srcport`; the local port range when unset).
    pub srcport: Option<(u16, u16)>,
    pub underlay_ns: NsId,
    pub underlay_dev: Option<DevId>,
    pub fdb: Map<Mac, VxFdb>,
    /// All-zeros FDB entries: where broadcast and unknown unicast go (head-end replication).
    pub default_dst: Vec<Ipv4Addr>,
    pub ageing: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VxFdb {
    pub dst: Ipv4Addr,
    pub permanent: bool,
    pub updated: SimTime,
}

#[derive(Clone, Debug)]
pub struct IfAddr {
    pub dev: DevId,
    pub addr: Ipv4Net,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub dst: Ipv4Net,
    pub via: Option<Ipv4Addr>,
    pub dev: DevId,
    pub src: Option<Ipv4Addr>,
    pub metric: u32,
    /// Added by the kernel for an address (`proto kernel scope link`).
    pub kernel: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nud {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
    Permanent,
}

impl Neigh {
    /// The kernel's count of the entry's probes (`NDA_PROBES`).
    pub fn kernel_probes(&self) -> u32 {
        u32::from(self.probes) + if self.multicast { u32::from(defaults::UCAST_SOLICIT) } else { 0 }
    }
}

impl Nud {
    /// Whether the kernel keeps a timer on an entry in this state (`NUD_IN_TIMER`), and with
    /// it a reference (`neigh_add_timer`): `ip neigh`'s `ref 1`.
    pub fn in_timer(self) -> bool {
        matches!(self, Nud::Incomplete | Nud::Reachable | Nud::Delay | Nud::Probe)
    }

    pub fn name(self) -> &'static str {
        match self {
            Nud::Incomplete => "INCOMPLETE",
            Nud::Reachable => "REACHABLE",
            Nud::Stale => "STALE",
            Nud::Delay => "DELAY",
            Nud::Probe => "PROBE",
            Nud::Failed => "FAILED",
            Nud::Permanent => "PERMANENT",
        }
    }
}

impl Netns {
    /// The first timer epoch of a neighbour entry made now (`neigh_lives`).
    pub(crate) fn new_neigh_life(&mut self) -> u32 {
        self.neigh_lives = self.neigh_lives.wrapping_add(1);
        self.neigh_lives << 16
    }
}

#[derive(Clone, Debug)]
pub struct Neigh {
    pub mac: Mac,
    pub state: Nud,
    pub confirmed: SimTime,
    pub updated: SimTime,
    pub probes: u8,
    /// `probes` counts multicast solicitations, which the kernel counts after the unicast
    /// ones: `__neigh_event_send` starts an INCOMPLETE entry's count at `ucast_probes`, and
    /// only PROBE sets it to 0 (what `ip neigh` shows as `probes N`, `kernel_probes`).
    pub multicast: bool,
    /// Packets (frames with an unfilled Ethernet header) waiting for resolution.
    /// Packets waiting for the address, each with the reasons it had when it was queued.
    pub queue: Vec<(Vec<u8>, Vec<Why>)>,
    /// Bumped whenever a timer is armed; stale timer events are ignored.
    pub epoch: u32,
}

#[derive(Clone, Debug)]
pub struct Netns {
    pub id: NsId,
    pub name: String,
    pub devs: Vec<DevId>,
    /// `devs` by name: a Docker host holds a veth per container, and every device added is
    /// checked against the names there.
    dev_index: Map<String, DevId>,
    pub lo: DevId,
    pub addrs: Vec<IfAddr>,
    pub routes: Vec<Route>,
    pub neigh: Map<(DevId, Ipv4Addr), Neigh>,
    /// How many neighbour entries this namespace made: a new entry's timer epochs start at
    /// this count times 2^16, so that the timer of an entry that was deleted (`ip link set
    /// DEV down`, a lost carrier) never fires for the entry made again in its place (the
    /// kernel deletes the timer with the entry, `neigh_del_timer`).
    pub neigh_lives: u32,
    pub nf: Netfilter,
    pub ip_forward: bool,
    /// `net.ipv4.conf.all.*` of the knobs in [`Conf`].
    pub conf_all: Conf,
    pub bridge_nf_call_iptables: bool,
    pub ip_id: u16,
    pub reachable_time: SimTime,
    pub next_ifindex: u32,
    /// Sockets: which application owns a UDP port, TCP listener, ping identifier.
    pub udp: Map<u16, usize>,
    pub tcp_listen: Map<u16, usize>,
    /// Listeners bound to one local address rather than every one (`bind(2)` to it).
    pub tcp_listen_addr: Map<u16, Ipv4Addr>,
    pub tcp: Map<tcp::TcpKey, tcp::TcpConn>,
    pub ping: Map<u16, usize>,
    /// Ping sockets bound to a device (`SO_BINDTODEVICE`), by identifier: they hear only
    /// what arrives on it (`ping_lookup` in net/ipv4/ping.c compares `sk_bound_dev_if`).
    pub ping_dev: Map<u16, DevId>,
    /// Raw ICMP sockets (`socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`): each owner with the
    /// local address it is bound to (unspecified: any), in the order they were opened.
    pub raw_icmp: Vec<(Ipv4Addr, usize)>,
    /// The ICMP error rate limit's buckets, by the destination of the errors (the
    /// `inet_peer` of each): tokens, in time, and when they were last counted.
    pub icmp_peers: Map<Ipv4Addr, (SimTime, SimTime)>,
    /// VXLAN devices whose outer UDP lives in this namespace, by destination port.
    pub vxlan_socks: Map<u16, Vec<DevId>>,
    /// Deleted (`ip netns del`): its applications stop.
    pub dead: bool,
    /// The IPVS table (Docker's load-balancer namespaces).
    pub ipvs: ipvs::Ipvs,
    /// The iptables lines the plan gave this namespace, in order (`set_iptables` changes the
    /// rules by the difference from them).
    pub(crate) rules: Vec<(Table, String)>,
    /// Fragments waiting for the rest of their packet.
    pub frags: Map<frag::FragKey, frag::FragQueue>,
    /// Path MTUs learnt from "fragmentation needed" (route exceptions), until they expire.
    pub pmtu: Map<Ipv4Addr, (u32, SimTime)>,
}

/// Counters over the whole run.
#[derive(Clone, Debug, Default)]
pub struct WorldStats {
    /// Frames that crossed a link (veth, lo, macvlan sibling): one per `Arrive` event.
    pub hops: u64,
    pub delivered: u64,
    pub dropped: u64,
}

/// The kernel: every namespace, device and table, and the program side `U` it hands socket
/// events to (`Userland`). It never looks inside `U`; `userland::World` is the kernel with
/// netsim's programs.
#[derive(Clone)]
pub struct Kernel<U> {
    pub ns: Vec<Netns>,
    pub devs: Vec<Device>,
    pub rng: SimRng,
    pub now: SimTime,
    pub cur: EventId,
    pub cur_cause: Option<EventId>,
    /// Every event to come, with the event that queued it. The kernel queues into it as it
    /// goes (`schedule`), and the event loop takes the next event from it: an event's frame
    /// is not first set aside in a list the loop moves over afterwards.
    pub queue: EventQueue<(Queued, EventId)>,
    /// The cause of what is queued now: the running event, or `NO_CAUSE` before the run
    /// (`Sim::new` sets it).
    pub(crate) cause: EventId,
    /// What the current event has recorded so far; the event loop moves them to its trace
    /// (`Sim::records`) when the event is over.
    pub(crate) recorded: Vec<Record>,
    /// Record trace records at all (off in benchmarks).
    pub trace: bool,
    /// Record frame hops (Tx, Rx, Drop, Deliver) and their reasons; off, only what the
    /// applications print is recorded (`netsim run -q` without `--pcap` shows nothing else).
    pub hops: bool,
    /// Which devices' frames are recorded (None: all).
    pub capture: Option<HashSet<DevId>>,
    pub stats: WorldStats,
    pub(crate) why: Vec<Why>,
    /// Why the TCP segment about to be made is sent again (a retransmission's timer or the
    /// peer's SACK): noted on that segment inside `originate`, which starts its reasons
    /// afresh (`Kernel::tcp_emit`).
    pub(crate) resent: Option<trace::Sent>,
    /// Netfilter state of the packet being sent through lo, handed to its Arrive event.
    pub(crate) lo_meta: Option<netfilter::PacketMeta>,
    /// Netfilter state that arrived with the current frame (looped-back packets only).
    pub(crate) rx_meta: Option<netfilter::PacketMeta>,
    /// The frame being handled carries the transport checksum its sending socket wrote,
    /// unchanged since: an skb with `CHECKSUM_PARTIAL` (include/linux/skbuff.h). A UDP
    /// socket sending through a device that offloads checksums (veth and the bridge do,
    /// `NETIF_F_HW_CSUM`) leaves the sum to the device; veth hands the skb to its peer as it
    /// is (`veth_xmit`, drivers/net/veth.c) and a bridge forwards it as it is, so at the
    /// receiver `skb_csum_unnecessary` holds and `udp4_csum_init` does not sum the datagram
    /// again. Here the sum is written at once (a capture shows it as the device would send
    /// it), and the receiver skips it where Linux does. Set by a UDP send for its datagram
    /// and by the event loop for a frame arriving with it; clear for every other packet a
    /// stack sends (`originate`), for fragments and reassembled packets (whose sum is made
    /// in software before cutting), after decapsulation and after a qdisc held the frame.
    pub(crate) csum_partial: bool,
    /// The packet being handled carries `skb->dst_pending_confirm`: a TCP socket sent it as
    /// the first segment after an ACK showed the path works. Whoever routes it out confirms
    /// the neighbour it goes to (`sock_confirm_neigh` in `ip_finish_output2`), the sending
    /// host and, since nothing clears the bit when a veth hands the packet over
    /// (`skb_scrub_packet`), every router that forwards it: a router's entry for a host
    /// that sends or receives TCP through it is confirmed by that traffic. Clear for every
    /// packet a stack makes otherwise (`originate`).
    pub(crate) dst_pending_confirm: bool,
    /// Live namespaces by name: a Docker lab looks sandboxes up by name at every step, and a
    /// scan of a thousand namespaces per lookup made each step cost the lab's size.
    pub(crate) ns_index: Map<String, NsId>,
    /// Qdiscs made so far: the next one's handle is 8001: and up (`qdisc_alloc_handle`
    /// counts for the whole machine).
    pub(crate) qdiscs_made: u32,
    /// Moves on with every change of what a socket's cached route was made from (routes,
    /// addresses, devices, learnt path MTUs): a `sock::DstCache` made at another value is
    /// stale (`Kernel::route_cached`).
    pub(crate) dst_gen: u64,
    /// TCP's retransmission timers on the kernel's timer wheel.
    pub(crate) tcp_wheel: wheel::Wheel,
    /// The programs: what sockets and timers belong to.
    pub user: U,
}

/// A plan that cannot be realised: what and which object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub message: String,
    /// The offending name or value, for locating it in the source file.
    pub token: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanError {}

fn perr(message: String, token: &str) -> PlanError {
    PlanError { message, token: token.to_string() }
}

impl PlanError {
    pub fn new(message: String, token: &str) -> Self {
        perr(message, token)
    }
}

impl<U> trace::Names for Kernel<U> {
    fn dev_name(&self, d: DevId) -> &str {
        self.devs.get(d.0 as usize).map_or("?", |x| x.name.as_str())
    }
}

impl<U: Userland> Kernel<U> {
    pub fn new(seed: u64) -> Kernel<U> {
        Kernel {
            ns: Vec::new(),
            devs: Vec::new(),
            rng: SimRng::new(seed),
            now: SimTime::ZERO,
            cur: EventId(0),
            cur_cause: None,
            queue: EventQueue::default(),
            cause: NO_CAUSE,
            recorded: Vec::new(),
            trace: true,
            hops: true,
            capture: None,
            stats: WorldStats::default(),
            why: Vec::new(),
            resent: None,
            lo_meta: None,
            rx_meta: None,
            csum_partial: false,
            dst_pending_confirm: false,
            ns_index: Map::default(),
            qdiscs_made: 0,
            dst_gen: 0,
            tcp_wheel: wheel::Wheel::default(),
            user: U::default(),
        }
    }

    // ----- lookups -------------------------------------------------------------------------

    pub fn ns_by_name(&self, name: &str) -> Option<NsId> {
        self.ns_index.get(name).copied()
    }

    pub fn dev_by_name(&self, ns: NsId, name: &str) -> Option<DevId> {
        self.ns[ns.0 as usize].dev_index.get(name).copied()
    }

    #[inline]
    pub fn dev(&self, d: DevId) -> &Device {
        &self.devs[d.0 as usize]
    }

    #[inline]
    pub fn dev_mut(&mut self, d: DevId) -> &mut Device {
        &mut self.devs[d.0 as usize]
    }

    #[inline]
    pub fn netns(&self, n: NsId) -> &Netns {
        &self.ns[n.0 as usize]
    }

    #[inline]
    pub fn netns_mut(&mut self, n: NsId) -> &mut Netns {
        &mut self.ns[n.0 as usize]
    }

    /// `<namespace>/<interface>`, the name captures and the hop log use.
    pub fn dev_path(&self, d: DevId) -> String {
        let dev = self.dev(d);
        format!("{}/{}", self.netns(dev.ns).name, dev.name)
    }

    /// Primary (first) IPv4 address of a device.
    pub fn primary_addr(&self, d: DevId) -> Option<Ipv4Addr> {
        let ns = self.netns(self.dev(d).ns);
        ns.addrs.iter().find(|a| a.dev == d).map(|a| a.addr.addr)
    }

    // ----- tracing -------------------------------------------------------------------------

    /// Whether a hop's reasons are wanted: records are kept and so are hops.
    #[inline]
    pub(crate) fn explaining(&self) -> bool {
        self.trace && self.hops
    }

    /// A reason for what happens to the frame, kept only when tracing: inlined everywhere,
    /// so with tracing off a note is one test and its reason is never made.
    #[inline(always)]
    pub(crate) fn note(&mut self, w: impl FnOnce() -> Why) {
        if self.explaining() {
            self.why.push(w());
        }
    }

    /// Sends a packet or frame this namespace makes itself (a program's, or the kernel's:
    /// an echo reply, an ICMP error, an ARP request or reply). Its reasons start empty and
    /// are what `send` notes and what happens to it from there: not the reasons of the frame
    /// that caused it, nor of a packet sent before it in the same event. The event's chain
    /// is back afterwards, for whatever else the event records about its own frame.
    pub(crate) fn originate(&mut self, send: impl FnOnce(&mut Kernel<U>)) {
        // A new packet's checksum is whatever its sender says, not that of the frame being
        // handled (`csum_partial`).
        let partial = std::mem::replace(&mut self.csum_partial, false);
        let confirm = std::mem::replace(&mut self.dst_pending_confirm, false);
        if !self.explaining() {
            send(self);
            self.csum_partial = partial;
            self.dst_pending_confirm = confirm;
            return;
        }
        let caused_by = std::mem::take(&mut self.why);
        send(self);
        self.why = caused_by;
        self.csum_partial = partial;
        self.dst_pending_confirm = confirm;
    }

    #[inline]
    pub(crate) fn why_mark(&self) -> usize {
        self.why.len()
    }

    #[inline]
    pub(crate) fn why_reset(&mut self, mark: usize) {
        self.why.truncate(mark);
    }

    fn captured(&self, dev: DevId) -> bool {
        self.capture.as_ref().is_none_or(|c| c.contains(&dev))
    }

    /// Whether a record is housekeeping a lesson can leave out (`netsim run --brief`, the
    /// GUI's "lesson only"): dockerd's unsolicited ARPs (and their drops), and loopback
    /// traffic and deliveries that no iptables or IPVS decision touched. The embedded DNS's
    /// DNAT over lo is a decision, so its queries stay.
    pub fn housekeeping(&self, r: &Record) -> bool {
        let announced = r.why.iter().any(|y| matches!(y, Why::Sent(trace::Sent::UnsolicitedArp { .. })));
        let decided = r.why.iter().any(|y| matches!(y, Why::Netfilter { .. } | Why::Ipvs(_)));
        let lo = r.dev.and_then(|d| self.devs.get(d.0 as usize)).is_some_and(|d| matches!(d.kind, DevKind::Loopback));
        announced || (!decided && (lo || r.dir == Dir::Deliver))
    }

    /// Inlined for its first test: with tracing off, every hop calls it and it does nothing.
    #[inline]
    pub(crate) fn record(&mut self, ns: NsId, dev: Option<DevId>, dir: Dir, frame: Option<&[u8]>) {
        if !self.trace || (!self.hops && dir != Dir::App) {
            return;
        }
        self.record_kept(ns, dev, dir, frame)
    }

    fn record_kept(&mut self, ns: NsId, dev: Option<DevId>, dir: Dir, frame: Option<&[u8]>) {
        if let (Some(d), Dir::Tx | Dir::Rx) = (dev, dir)
            && !self.captured(d)
        {
            return;
        }
        self.recorded.push(Record {
            event: self.cur,
            cause: self.cur_cause,
            time: self.now,
            ns,
            dev,
            dir,
            frame: frame.map(|f| f.to_vec()),
            why: self.why.clone(),
        });
    }

    /// A drop, with its reason, recorded against the device where it happened.
    pub(crate) fn drop_frame(&mut self, dev: DevId, frame: &[u8], reason: DropReason) {
        self.stats.dropped += 1;
        self.dev_mut(dev).stats.dropped += 1;
        if self.explaining() {
            let ns = self.dev(dev).ns;
            let mark = self.why_mark();
            self.why.push(Why::Drop(reason));
            self.record(ns, Some(dev), Dir::Drop, Some(frame));
            self.why_reset(mark);
        }
    }

    /// A line a program printed.
    pub(crate) fn app_log(&mut self, ns: NsId, text: impl FnOnce() -> String) {
        self.printed(ns, || Why::App(text()))
    }

    /// A line a program prints that netsim's note, earlier in the same event, already said
    /// word for word (a plain client's "connected", a read's "received"): the note becomes the
    /// program's line, so the hop log does not show it twice.
    pub(crate) fn app_log_over_note(&mut self, ns: NsId, text: String) {
        if self.trace {
            let cur = self.cur;
            let note = self
                .recorded
                .iter_mut()
                .rev()
                .take_while(|r| r.event == cur)
                .find(|r| r.ns == ns && matches!(r.why.last(), Some(Why::Note(t)) if *t == text));
            if let Some(r) = note {
                r.why = vec![Why::App(text)];
                return;
            }
        }
        self.app_log(ns, || text)
    }

    /// A line of a step's transcript: the command, what it printed at once, its status.
    pub(crate) fn shell_log(&mut self, ns: NsId, text: impl FnOnce() -> String) {
        self.printed(ns, || Why::Shell(text()))
    }

    /// netsim's account of a socket's event, beside what the program prints.
    pub(crate) fn app_note(&mut self, ns: NsId, text: impl FnOnce() -> String) {
        self.printed(ns, || Why::Note(text()))
    }

    fn printed(&mut self, ns: NsId, why: impl FnOnce() -> Why) {
        if self.trace {
            // A printed line stands alone, without the reasons of the frame that woke it.
            self.recorded.push(Record {
                event: self.cur,
                cause: self.cur_cause,
                time: self.now,
                ns,
                dev: None,
                dir: Dir::App,
                frame: None,
                why: vec![why()],
            });
        }
    }

    /// Something a socket's cached route may have been made from changed: every cached route
    /// is stale from now on. Called after each change of the routes, the addresses, a
    /// device (added, removed, up, down, its MTU, its namespace) or a learnt path MTU.
    pub(crate) fn dst_changed(&mut self) {
        self.dst_gen = self.dst_gen.wrapping_add(1);
    }

    /// Inlined, as the queue's push is: a veth's frame and a program's timer are queued here
    /// at every hop, and a call would copy the event to memory to hand it over.
    #[inline(always)]
    pub(crate) fn schedule(&mut self, after: SimTime, ev: Event) {
        self.schedule_at(self.now + after, ev)
    }

    /// Queues `ev` to run at `at`, caused by the running event.
    #[inline(always)]
    pub(crate) fn schedule_at(&mut self, at: SimTime, ev: Event) {
        self.queue.push(at, (Queued::Kernel(ev), self.cause));
    }

    /// Takes every kernel event queued, in the order they would run (tests look at what a
    /// kernel without an event loop scheduled).
    #[cfg(test)]
    pub(crate) fn take_scheduled(&mut self) -> Vec<(SimTime, Event)> {
        std::iter::from_fn(|| self.queue.pop())
            .filter_map(|(t, (q, _))| match q {
                Queued::Kernel(e) => Some((t, e)),
                _ => None,
            })
            .collect()
    }

    // ----- building ------------------------------------------------------------------------

    pub fn add_ns(&mut self, name: &str) -> NsId {
        let id = NsId(self.ns.len() as u32);
        self.ns_index.insert(name.to_string(), id);
        // base_reachable_time/2 .. 3*base/2, drawn once per table as neigh_rand_reach_time does.
        let b = defaults::BASE_REACHABLE_MS;
        let reach = SimTime::from_millis(self.rng.range(b / 2, b * 3 / 2 - 1));
        self.ns.push(Netns {
            id,
            name: name.to_string(),
            devs: Vec::new(),
            dev_index: Map::default(),
            lo: DevId(u32::MAX),
            addrs: Vec::new(),
            routes: Vec::new(),
            neigh: Map::default(),
            neigh_lives: 0,
            conf_all: Conf::default(),
            nf: Netfilter::new(),
            ip_forward: false,
            bridge_nf_call_iptables: true,
            ip_id: self.rng.next_u32() as u16,
            reachable_time: reach,
            next_ifindex: 1,
            udp: Map::default(),
            tcp_listen: Map::default(),
            tcp_listen_addr: Map::default(),
            tcp: Map::default(),
            ping: Map::default(),
            ping_dev: Map::default(),
            raw_icmp: Vec::new(),
            icmp_peers: Map::default(),
            vxlan_socks: Map::default(),
            dead: false,
            ipvs: ipvs::Ipvs::new(),
            rules: Vec::new(),
            frags: Map::default(),
            pmtu: Map::default(),
        });
        let lo = self.add_dev(id, "lo", DevKind::Loopback, Some(Mac::ZERO), Some(defaults::LO_MTU));
        self.dev_mut(lo).up = false;
        self.netns_mut(id).lo = lo;
        let loopback: Ipv4Net = "127.0.0.1/8".parse().unwrap_or(Ipv4Net::DEFAULT);
        self.netns_mut(id).addrs.push(IfAddr { dev: lo, addr: loopback });
        self.dst_changed();
        id
    }

    pub fn add_dev(&mut self, ns: NsId, name: &str, kind: DevKind, mac: Option<Mac>, mtu: Option<u32>) -> DevId {
        let id = DevId(self.devs.len() as u32);
        let mac_set = mac.is_some();
        let mac = mac.unwrap_or_else(|| Mac(self.rng.mac()));
        let n = self.netns_mut(ns);
        let ifindex = n.next_ifindex;
        n.next_ifindex += 1;
        n.devs.push(id);
        n.dev_index.insert(name.to_string(), id);
        self.devs.push(Device {
            id,
            name: name.to_string(),
            ns,
            ifindex,
            mac,
            mac_set,
            mtu: mtu.unwrap_or(defaults::MTU),
            up: true,
            master: None,
            uppers: Vec::new(),
            brport: BrPort::default(),
            route_localnet: false,
            conf: Conf::default(),
            kind,
            stats: DevStats::default(),
            qdisc: None,
            txqueuelen: defaults::TXQUEUELEN,
        });
        self.dst_changed();
        id
    }

    /// Realises a kernel plan. Every name is checked; the first problem is returned with the
    /// offending token so the scenario loader can point at it.
    pub fn from_plan(plan: &Plan, seed: u64) -> Result<Kernel<U>, PlanError> {
        let mut w = Kernel::new(seed);
        w.extend(plan)?;
        Ok(w)
    }

    /// Realises more of a plan on top of what exists: items may refer to namespaces and devices
    /// made earlier (a Docker step adding a container to a running host). iptables lines are
    /// appended; use `set_iptables` to replace a namespace's rules.
    pub fn extend(&mut self, plan: &Plan) -> Result<(), PlanError> {
        let r = self.extend_by(plan);
        self.dst_changed();
        r
    }

    fn extend_by(&mut self, plan: &Plan) -> Result<(), PlanError> {
        let w = self;
        for n in &plan.namespaces {
            if w.ns_by_name(&n.name).is_some() {
                return Err(perr(format!("namespace `{}` is defined twice", n.name), &n.name));
            }
            let id = w.add_ns(&n.name);
            let lo = w.netns(id).lo;
            w.dev_mut(lo).up = n.lo_up;
            let ns = w.netns_mut(id);
            ns.ip_forward = n.ip_forward;
            ns.bridge_nf_call_iptables = n.bridge_nf_call_iptables;
        }
        let ns_of = |w: &Kernel<U>, name: &str| {
            w.ns_by_name(name).ok_or_else(|| perr(format!("no namespace `{name}`: add it to `namespaces`"), name))
        };
        let check_name = |w: &Kernel<U>, ns: NsId, name: &str| -> Result<(), PlanError> {
            if name.is_empty() || name.len() > 15 || name.contains(['/', ' ']) {
                return Err(perr(
                    format!(
                        "`{name}` is not a valid interface name (1 to 15 characters, no `/` or spaces, as IFNAMSIZ allows)"
                    ),
                    name,
                ));
            }
            if w.dev_by_name(ns, name).is_some() {
                return Err(perr(format!("namespace `{}` already has a device `{name}`", w.netns(ns).name), name));
            }
            Ok(())
        };
        let mut masters: Vec<(NsId, String, String)> = Vec::new();
        // Bridges first, so ports can be enslaved in any order.
        let mut links: Vec<&plan::Link> = plan.links.iter().collect();
        links.sort_by_key(|l| !matches!(l, plan::Link::Bridge { .. }));
        let mut deferred_vxlan_dev: Vec<(DevId, NsId, String)> = Vec::new();
        for link in links {
            match link {
                plan::Link::Bridge { name, ns, mac, mtu, ageing, txqueuelen } => {
                    let ns = ns_of(w, ns)?;
                    check_name(w, ns, name)?;
                    let b = Bridge {
                        ports: Vec::new(),
                        fdb: Map::default(),
                        ageing: ageing.unwrap_or(defaults::BRIDGE_AGEING),
                        fdb_seq: 0,
                    };
                    let d = w.add_dev(ns, name, DevKind::Bridge(b), *mac, *mtu);
                    w.dev_mut(d).txqueuelen = txqueuelen.unwrap_or(defaults::TXQUEUELEN);
                    w.bridge_add_local(d, d);
                }
                plan::Link::Veth {
                    name,
                    ns,
                    peer,
                    peer_ns,
                    mac,
                    peer_mac,
                    mtu,
                    master,
                    peer_master,
                    delay,
                    txqueuelen,
                } => {
                    let a_ns = ns_of(w, ns)?;
                    let b_ns = ns_of(w, peer_ns)?;
                    check_name(w, a_ns, name)?;
                    if a_ns == b_ns && name == peer {
                        return Err(perr(format!("veth `{name}`: the peer needs another name"), peer));
                    }
                    check_name(w, b_ns, peer)?;
                    let delay = delay.unwrap_or(defaults::LINK_DELAY);
                    let a = w.add_dev(a_ns, name, DevKind::Veth { peer: DevId(u32::MAX), delay }, *mac, *mtu);
                    let b = w.add_dev(b_ns, peer, DevKind::Veth { peer: a, delay }, *peer_mac, *mtu);
                    w.dev_mut(a).kind = DevKind::Veth { peer: b, delay };
                    for d in [a, b] {
                        w.dev_mut(d).txqueuelen = txqueuelen.unwrap_or(defaults::TXQUEUELEN);
                    }
                    if let Some(m) = master {
                        masters.push((a_ns, name.clone(), m.clone()));
                    }
                    if let Some(m) = peer_master {
                        masters.push((b_ns, peer.clone(), m.clone()));
                    }
                }
                plan::Link::Vxlan {
                    name,
                    ns,
                    vni,
                    local,
                    dev,
                    dstport,
                    learning,
                    proxy,
                    l2miss,
                    l3miss,
                    udpcsum,
                    srcport,
                    mac,
                    mtu,
                    master,
                    underlay_ns,
                    txqueuelen,
                } => {
                    let ns_id = ns_of(w, ns)?;
                    check_name(w, ns_id, name)?;
                    if *vni >= 1 << 24 {
                        return Err(perr(format!("vxlan `{name}`: VNI {vni} does not fit in 24 bits"), name));
                    }
                    if let Some((lo, hi)) = srcport
                        && hi < lo
                    {
                        return Err(perr(
                            format!(
                                "vxlan `{name}`: srcport {lo} {hi}: Invalid source port range (the kernel's words)"
                            ),
                            name,
                        ));
                    }
                    let u_ns = match underlay_ns {
                        Some(u) => ns_of(w, u)?,
                        None => ns_id,
                    };
                    let vx = Vxlan {
                        vni: *vni,
                        local: *local,
                        dstport: *dstport,
                        learning: *learning,
                        proxy: *proxy,
                        l2miss: *l2miss,
                        l3miss: *l3miss,
                        udpcsum: *udpcsum,
                        srcport: *srcport,
                        underlay_ns: u_ns,
                        underlay_dev: None,
                        fdb: Map::default(),
                        default_dst: Vec::new(),
                        ageing: defaults::VXLAN_AGEING,
                    };
                    let d = w.add_dev(ns_id, name, DevKind::Vxlan(Box::new(vx)), *mac, *mtu);
                    w.dev_mut(d).txqueuelen = txqueuelen.unwrap_or(defaults::TXQUEUELEN);
                    let clash = w
                        .netns(u_ns)
                        .vxlan_socks
                        .get(dstport)
                        .into_iter()
                        .flatten()
                        .any(|o| matches!(&w.dev(*o).kind, DevKind::Vxlan(x) if x.vni == *vni));
                    if clash {
                        return Err(perr(
                            format!(
                                "vxlan `{name}`: another vxlan device already uses VNI {vni} on port {dstport} in `{}` (the kernel says: File exists)",
                                w.netns(u_ns).name
                            ),
                            name,
                        ));
                    }
                    w.netns_mut(u_ns).vxlan_socks.entry(*dstport).or_default().push(d);
                    if let Some(m) = master {
                        masters.push((ns_id, name.clone(), m.clone()));
                    }
                    if let Some(ud) = dev {
                        deferred_vxlan_dev.push((d, u_ns, ud.clone()));
                    } else if mtu.is_none() {
                        w.dev_mut(d).mtu = defaults::MTU - crate::wire::vxlan::OVERHEAD as u32;
                    }
                }
                plan::Link::Macvlan { .. } | plan::Link::Vlan { .. } => {}
            }
        }
        // Stacked devices need their parents to exist.
        for link in &plan.links {
            match link {
                plan::Link::Macvlan { name, ns, parent, parent_ns, mode, mac, mtu, txqueuelen } => {
                    let ns_id = ns_of(w, ns)?;
                    let p_ns = match parent_ns {
                        Some(p) => ns_of(w, p)?,
                        None => ns_id,
                    };
                    check_name(w, ns_id, name)?;
                    let p = w.dev_by_name(p_ns, parent).ok_or_else(|| {
                        perr(
                            format!("macvlan `{name}`: no parent device `{parent}` in `{}`", w.netns(p_ns).name),
                            parent,
                        )
                    })?;
                    let pmtu = w.dev(p).mtu;
                    let d = w.add_dev(
                        ns_id,
                        name,
                        DevKind::Macvlan { parent: p, mode: *mode },
                        *mac,
                        Some(mtu.unwrap_or(pmtu)),
                    );
                    w.dev_mut(d).txqueuelen = txqueuelen.unwrap_or(defaults::TXQUEUELEN);
                    w.dev_mut(p).uppers.push(d);
                }
                plan::Link::Vlan { name, ns, parent, id, mac, mtu, txqueuelen } => {
                    let ns_id = ns_of(w, ns)?;
                    check_name(w, ns_id, name)?;
                    if *id == 0 || *id >= 4095 {
                        return Err(perr(format!("vlan `{name}`: id {id} is out of range 1..=4094"), name));
                    }
                    let p = w
                        .dev_by_name(ns_id, parent)
                        .ok_or_else(|| perr(format!("vlan `{name}`: no parent device `{parent}` in `{ns}`"), parent))?;
                    let (pmac, pmtu) = (w.dev(p).mac, w.dev(p).mtu);
                    // A VLAN device inherits its parent's MAC, as Linux does.
                    let d = w.add_dev(
                        ns_id,
                        name,
                        DevKind::Vlan { parent: p, vid: *id },
                        Some(mac.unwrap_or(pmac)),
                        Some(mtu.unwrap_or(pmtu)),
                    );
                    w.dev_mut(d).txqueuelen = txqueuelen.unwrap_or(defaults::TXQUEUELEN);
                    w.dev_mut(p).uppers.push(d);
                }
                _ => {}
            }
        }
        for (d, u_ns, ud) in deferred_vxlan_dev {
            let u = w.dev_by_name(u_ns, &ud).ok_or_else(|| {
                perr(format!("vxlan `{}`: no underlay device `{ud}` in `{}`", w.dev(d).name, w.netns(u_ns).name), &ud)
            })?;
            let umtu = w.dev(u).mtu;
            if let DevKind::Vxlan(vx) = &mut w.dev_mut(d).kind {
                vx.underlay_dev = Some(u);
            }
            if !plan
                .links
                .iter()
                .any(|l| matches!(l, plan::Link::Vxlan { name, mtu: Some(_), .. } if *name == w.dev(d).name))
            {
                w.dev_mut(d).mtu = umtu.saturating_sub(crate::wire::vxlan::OVERHEAD as u32);
            }
        }
        for (ns, port, master) in masters {
            let p = w.dev_by_name(ns, &port).ok_or_else(|| perr(format!("no device `{port}`"), &port))?;
            let m = w.dev_by_name(ns, &master).ok_or_else(|| {
                perr(format!("`{port}`: no bridge `{master}` in namespace `{}`", w.netns(ns).name), &master)
            })?;
            if !matches!(w.dev(m).kind, DevKind::Bridge(_)) {
                return Err(perr(format!("`{port}`: master `{master}` is not a bridge"), &master));
            }
            w.bridge_add_port(m, p)?;
        }
        for a in &plan.addresses {
            let ns = ns_of(w, &a.ns)?;
            let d = w
                .dev_by_name(ns, &a.dev)
                .ok_or_else(|| perr(format!("address {}: no device `{}` in `{}`", a.addr, a.dev, a.ns), &a.dev))?;
            if w.dev(d).master.is_some() {
                // Linux accepts it, but a bridge port never sees IP: warn by refusing.
                return Err(perr(
                    format!(
                        "address {} on `{}`: the device is a bridge port, so the address would be unreachable; put it on the bridge",
                        a.addr, a.dev
                    ),
                    &a.dev,
                ));
            }
            if w.netns(ns).addrs.iter().any(|x| x.dev == d && x.addr.addr == a.addr.addr) {
                return Err(perr(
                    format!("address {} is already on `{}` (RTNETLINK answers: File exists)", a.addr, a.dev),
                    &a.dev,
                ));
            }
            w.add_addr(ns, d, a.addr);
        }
        for r in &plan.routes {
            let ns = ns_of(w, &r.ns)?;
            let dev = match &r.dev {
                Some(name) => Some(
                    w.dev_by_name(ns, name)
                        .ok_or_else(|| perr(format!("route {}: no device `{name}` in `{}`", r.dst, r.ns), name))?,
                ),
                None => None,
            };
            let dev = match (dev, r.via) {
                (Some(d), _) => d,
                (None, Some(gw)) => {
                    let n = w.netns(ns);
                    // fib_check_nh: the gateway's link route, the longest prefix, and of equal
                    // ones the first made, as a lookup picks it (two interfaces in one subnet:
                    // the first's).
                    n.routes
                        .iter()
                        .filter(|rt| rt.via.is_none() && rt.dst.contains(gw))
                        .min_by_key(|rt| (std::cmp::Reverse(rt.dst.len), rt.metric))
                        .map(|rt| rt.dev)
                        .ok_or_else(|| perr(format!("route {} via {gw}: the gateway is not on a connected network (RTNETLINK answers: Network is unreachable)", r.dst), &gw.to_string()))?
                }
                (None, None) => return Err(perr(format!("route {}: give `via` or `dev`", r.dst), &r.dst.to_string())),
            };
            let route = Route { dst: r.dst.trunc(), via: r.via, dev, src: r.src, metric: r.metric, kernel: false };
            if w.netns(ns).routes.iter().any(|x| x.dst == route.dst && x.metric == route.metric) {
                return Err(perr(
                    format!("route {} is already in `{}` (RTNETLINK answers: File exists)", r.dst, r.ns),
                    &r.dst.to_string(),
                ));
            }
            w.netns_mut(ns).routes.push(route);
        }
        for n in &plan.neighbours {
            let ns = ns_of(w, &n.ns)?;
            let d = w
                .dev_by_name(ns, &n.dev)
                .ok_or_else(|| perr(format!("neighbour {}: no device `{}` in `{}`", n.ip, n.dev, n.ns), &n.dev))?;
            w.netns_mut(ns).neigh.insert(
                (d, n.ip),
                Neigh {
                    mac: n.lladdr,
                    state: Nud::Permanent,
                    confirmed: SimTime::ZERO,
                    updated: SimTime::ZERO,
                    probes: 0,
                    multicast: false,
                    queue: Vec::new(),
                    epoch: 0,
                },
            );
        }
        for f in &plan.fdb {
            let ns = ns_of(w, &f.ns)?;
            let d = w
                .dev_by_name(ns, &f.dev)
                .ok_or_else(|| perr(format!("fdb {}: no device `{}` in `{}`", f.mac, f.dev, f.ns), &f.dev))?;
            let master = w.dev(d).master;
            match (&mut w.devs[d.0 as usize].kind, f.dst) {
                (DevKind::Vxlan(vx), Some(dst)) => {
                    if f.mac.is_zero() {
                        if !vx.default_dst.contains(&dst) {
                            vx.default_dst.push(dst);
                        }
                    } else {
                        vx.fdb.insert(f.mac, VxFdb { dst, permanent: true, updated: SimTime::ZERO });
                    }
                }
                (_, Some(_)) => {
                    return Err(perr(
                        format!("fdb {} dev {}: `dst` only applies to vxlan devices", f.mac, f.dev),
                        &f.dev,
                    ));
                }
                (_, None) => {
                    let Some(br) = master else {
                        return Err(perr(
                            format!("fdb {} dev {}: the device is not a bridge port", f.mac, f.dev),
                            &f.dev,
                        ));
                    };
                    if let DevKind::Bridge(b) = &mut w.devs[br.0 as usize].kind {
                        b.fdb_insert(f.mac, d, SimTime::ZERO, false, true);
                    }
                }
            }
        }
        for r in &plan.iptables {
            let ns = ns_of(w, &r.ns)?;
            let table = match r.table.as_str() {
                "raw" => Table::Raw,
                "mangle" => Table::Mangle,
                "nat" => Table::Nat,
                "filter" => Table::Filter,
                other => return Err(perr(format!("iptables: no table `{other}` (raw, mangle, nat, filter)"), other)),
            };
            w.netns_mut(ns)
                .nf
                .exec(table, &r.rule)
                .map_err(|e| perr(format!("iptables -t {} {}: {e}", r.table, r.rule), &r.rule))?;
            w.netns_mut(ns).rules.push((table, r.rule.clone()));
        }
        for s in &plan.sysctls {
            w.set_sysctl(s)?;
        }
        let ipvs_ns: Vec<&str> = plan.ipvs.iter().map(|v| v.ns.as_str()).collect();
        for name in ipvs_ns {
            let ns = ns_of(w, name)?;
            let mine: Vec<crate::plan::IpvsPlan> = plan.ipvs.iter().filter(|v| v.ns == name).cloned().collect();
            w.set_ipvs(ns, &mine)?;
        }
        for q in &plan.qdiscs {
            let ns = ns_of(w, &q.ns)?;
            let d = w.dev_by_name(ns, &q.dev).ok_or_else(|| {
                perr(format!("qdisc: no device `{}` in `{}` (Cannot find device \"{}\")", q.dev, q.ns, q.dev), &q.dev)
            })?;
            w.set_qdisc(d, Some(&q.netem))?;
        }
        for x in &plan.bridge_ports {
            let ns = ns_of(w, &x.ns)?;
            let d = w.dev_by_name(ns, &x.dev).ok_or_else(|| {
                perr(
                    format!(
                        "bridge port: no device `{}` in `{}` (Cannot find bridge device \"{}\")",
                        x.dev, x.ns, x.dev
                    ),
                    &x.dev,
                )
            })?;
            if !w.dev(d).master.is_some_and(|m| matches!(w.dev(m).kind, DevKind::Bridge(_))) {
                return Err(perr(
                    format!(
                        "bridge port: `{}` in `{}` is not a bridge port (RTNETLINK answers: Operation not supported)",
                        x.dev, x.ns
                    ),
                    &x.dev,
                ));
            }
            w.dev_mut(d).brport = BrPort::from(x);
        }
        // Last, so that what the plan put on a device is there, and taken away, as when the
        // device is set down after it was configured.
        for x in &plan.down {
            let ns = ns_of(w, &x.ns)?;
            let d = w.dev_by_name(ns, &x.dev).ok_or_else(|| {
                perr(format!("down: no device `{}` in `{}` (Cannot find device \"{}\")", x.dev, x.ns, x.dev), &x.dev)
            })?;
            w.link_down(d);
        }
        Ok(())
    }

    /// `sysctl -w`: the keys the model knows, `net.ipv4.conf.<dev|all>.<knob>` with the
    /// knobs `route_localnet` (a device's only), `arp_ignore`, `arp_announce`, `arp_filter`,
    /// `rp_filter` and `proxy_arp`, each in the range the kernel accepts (`devinet_conf_proc`
    /// takes any integer; these are the values ip-sysctl.rst gives a meaning).
    pub fn set_sysctl(&mut self, s: &crate::plan::SysctlPlan) -> Result<(), PlanError> {
        let ns =
            self.ns_by_name(&s.ns).ok_or_else(|| perr(format!("sysctl {}: no namespace `{}`", s.key, s.ns), &s.ns))?;
        let unmodelled = || {
            let knobs = "net.ipv4.conf.<dev|all>.{arp_ignore,arp_announce,arp_filter,rp_filter,proxy_arp} and net.ipv4.conf.<dev>.route_localnet are";
            perr(format!("sysctl {}: not modelled ({knobs})", s.key), &s.key)
        };
        let Some((dev, knob)) = s.key.strip_prefix("net.ipv4.conf.").and_then(|r| r.rsplit_once('.')) else {
            return Err(unmodelled());
        };
        let max = match knob {
            "route_localnet" | "proxy_arp" | "arp_filter" => 1,
            "arp_ignore" => 8,
            "arp_announce" | "rp_filter" => 2,
            _ => return Err(unmodelled()),
        };
        let value = match s.value.trim().parse::<u8>() {
            Ok(v) if v <= max => v,
            _ => {
                return Err(perr(
                    format!("sysctl {}: value `{}` is not a number from 0 to {max}", s.key, s.value),
                    &s.key,
                ));
            }
        };
        let conf = match dev {
            "default" => return Err(unmodelled()),
            "all" if knob == "route_localnet" => return Err(unmodelled()),
            "all" => &mut self.netns_mut(ns).conf_all,
            _ => {
                let d = self
                    .dev_by_name(ns, dev)
                    .ok_or_else(|| perr(format!("sysctl {}: no device `{dev}` in `{}`", s.key, s.ns), &s.key))?;
                if knob == "route_localnet" {
                    self.dev_mut(d).route_localnet = value == 1;
                    self.dst_changed();
                    return Ok(());
                }
                &mut self.dev_mut(d).conf
            }
        };
        match knob {
            "arp_ignore" => conf.arp_ignore = value,
            "arp_announce" => conf.arp_announce = value,
            "rp_filter" => conf.rp_filter = value,
            "arp_filter" => conf.arp_filter = value == 1,
            _ => conf.proxy_arp = value == 1,
        }
        self.dst_changed();
        Ok(())
    }

    /// What a device's knobs come to with the namespace's `all`: the larger value of the two
    /// (`IN_DEV_MAXCONF` in include/linux/inetdevice.h), and for `proxy_arp` either one
    /// (`IN_DEV_ORCONF`).
    pub fn conf(&self, dev: DevId) -> Conf {
        let (d, all) = (self.dev(dev).conf, self.netns(self.dev(dev).ns).conf_all);
        Conf {
            arp_ignore: d.arp_ignore.max(all.arp_ignore),
            arp_announce: d.arp_announce.max(all.arp_announce),
            rp_filter: d.rp_filter.max(all.rp_filter),
            proxy_arp: d.proxy_arp || all.proxy_arp,
            arp_filter: d.arp_filter || all.arp_filter,
        }
    }

    /// `ip addr add`: the address plus the kernel's prefix route (`proto kernel scope link`).
    pub fn add_addr(&mut self, ns: NsId, dev: DevId, addr: Ipv4Net) {
        let n = self.netns_mut(ns);
        n.addrs.push(IfAddr { dev, addr });
        if addr.len < 32 && !n.routes.iter().any(|r| r.kernel && r.dev == dev && r.dst == addr.trunc()) {
            n.routes.push(Route { dst: addr.trunc(), via: None, dev, src: Some(addr.addr), metric: 0, kernel: true });
        }
        self.dst_changed();
    }

    pub(crate) fn bridge_add_local(&mut self, br: DevId, port: DevId) {
        let mac = self.dev(port).mac;
        let now = self.now;
        if let DevKind::Bridge(b) = &mut self.dev_mut(br).kind {
            b.fdb_insert(mac, port, now, true, true);
        }
    }

    /// `ip link set PORT master BR`.
    pub fn bridge_add_port(&mut self, br: DevId, port: DevId) -> Result<(), PlanError> {
        if let DevKind::Bridge(b) = &self.dev(br).kind
            && b.ports.len() >= defaults::BR_MAX_PORTS
        {
            let (p, bridge) = (&self.dev(port).name, &self.dev(br).name);
            return Err(perr(
                format!(
                    "`{p}`: RTNETLINK answers: Exchange full ({bridge} has {} ports already)",
                    defaults::BR_MAX_PORTS
                ),
                p,
            ));
        }
        self.dev_mut(port).master = Some(br);
        if let DevKind::Bridge(b) = &mut self.dev_mut(br).kind {
            b.ports.push(port);
        }
        self.bridge_add_local(br, port);
        // Without an explicit address a bridge takes the lowest port MAC (br_stp_recalculate_bridge_id).
        if !self.dev(br).mac_set {
            let old = self.dev(br).mac;
            let lowest = match &self.dev(br).kind {
                DevKind::Bridge(b) => b.ports.iter().map(|p| self.dev(*p).mac).min(),
                _ => None,
            };
            if let Some(m) = lowest {
                self.dev_mut(br).mac = m;
                if let DevKind::Bridge(b) = &mut self.dev_mut(br).kind {
                    if b.fdb.get(&old).is_some_and(|e| e.port == br) {
                        b.fdb.remove(&old);
                    }
                    if !b.fdb.contains_key(&m) {
                        b.fdb_insert(m, br, SimTime::ZERO, true, true);
                    }
                }
            }
        }
        Ok(())
    }

    /// `ip route` text for one route.
    pub fn route_text(&self, r: &Route) -> String {
        trace::RouteShown { route: r, names: self }.to_string()
    }
}

/// What the kernel's own unit tests build on.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{DevId, Kernel, NsId};
    use crate::plan::Plan;
    use crate::wire::Mac;

    /// The MAC b's neighbour table gives a.
    pub const A_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);

    /// Namespaces a (10.0.0.1) and b (10.0.0.2) on one veth, b knowing a's MAC, and no
    /// programs: the kernel, b and b's eth0.
    pub fn veth_pair() -> (Kernel<()>, NsId, DevId) {
        let plan: Plan = ron::from_str(
            r#"(namespaces: [(name: "a"), (name: "b")],
                links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
                addresses: [(ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "b", dev: "eth0", addr: "10.0.0.2/24")],
                neighbours: [(ns: "b", dev: "eth0", ip: "10.0.0.1", lladdr: "02:00:00:00:00:01")])"#,
        )
        .expect("plan");
        let k = Kernel::<()>::from_plan(&plan, 1).unwrap_or_else(|e| panic!("{e}"));
        let b = k.ns_by_name("b").expect("b");
        let eth0 = k.dev_by_name(b, "eth0").expect("eth0");
        (k, b, eth0)
    }
}
