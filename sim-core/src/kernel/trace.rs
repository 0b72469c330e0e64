//! Trace records: what happened at each hop, and why.
//!
//! Every record belongs to the event that produced it and names that event's cause, so a
//! frame's whole journey can be followed back. `Why` is a closed enum: every reason the
//! simulator can give for a forwarding decision is listed here, and is what the CLI and GUI
//! show to students.

use std::fmt;
use std::net::Ipv4Addr;

use crate::engine::{EventId, SimTime};
use crate::kernel::{DevId, NsId};
use crate::wire::Mac;

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

/// One reason, in the kernel's terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    /// A bridge knew the destination MAC.
    FdbHit { bridge: String, mac: Mac, port: String },
    /// A bridge did not know the destination (or it was broadcast/multicast) and flooded.
    Flood { bridge: String, mac: Mac, ports: usize, broadcast: bool },
    /// The destination was the bridge itself or one of its ports: passed up to the bridge's stack.
    BridgeLocal { bridge: String },
    /// The FDB entry points back at the ingress port and hairpin is off.
    HairpinDrop { bridge: String, port: String },
    /// A bridge learned a source MAC on a port.
    Learned { bridge: String, mac: Mac, port: String, moved_from: Option<String> },
    /// A route was chosen.
    Route { route: String },
    /// Forwarding: `ip_forward` was on and TTL was decremented.
    Forward { ttl: u8 },
    /// Neighbour table consulted for the next hop.
    Neigh { ip: Ipv4Addr, dev: String, state: &'static str, mac: Option<Mac> },
    /// ARP request sent while resolving (attempt n of max).
    ArpProbe { ip: Ipv4Addr, attempt: u8, max: u8, queued: usize },
    /// An ARP request for a local address was answered.
    ArpReply { ip: Ipv4Addr },
    /// A neighbour entry changed state.
    NeighUpdate { ip: Ipv4Addr, mac: Mac, state: &'static str },
    /// A netfilter rule or policy decided or rewrote something.
    Netfilter(String),
    /// An IPVS decision: a new or existing connection, the real server, the reply rewrite.
    Ipvs(String),
    /// VXLAN encapsulation toward a remote VTEP.
    VxlanEncap { dev: String, vni: u32, remote: Ipv4Addr, fdb: &'static str },
    /// VXLAN decapsulation.
    VxlanDecap { dev: String, vni: u32, remote: Ipv4Addr },
    /// The VXLAN device answered an ARP request from its neighbour table (`proxy`).
    VxlanProxyArp { dev: String, ip: Ipv4Addr, mac: Mac },
    /// VXLAN had no FDB/neighbour entry; the kernel would raise an L2MISS/L3MISS netlink event.
    VxlanMiss { dev: String, what: String },
    /// macvlan: switched among siblings, or sent to/received from the parent.
    Macvlan { dev: String, what: String },
    /// 802.1Q tag added or removed.
    Vlan { dev: String, vid: u16, pushed: bool },
    /// The packet was for this namespace.
    Local { what: String },
    /// Any reason for a drop.
    Drop(String),
    /// Application output.
    App(String),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::FdbHit { bridge, mac, port } => {
                write!(f, "{bridge}: fdb {mac} → port {port}")
            }
            Why::Flood { bridge, mac, ports, broadcast } => {
                let what = if *broadcast { "broadcast/multicast" } else { "unknown unicast" };
                write!(f, "{bridge}: {what} {mac} → flood to {ports} port(s) but the ingress")
            }
            Why::BridgeLocal { bridge } => write!(f, "{bridge}: destination is the bridge itself → up to its stack"),
            Why::HairpinDrop { bridge, port } => {
                write!(f, "{bridge}: fdb says {port}, the ingress port; hairpin off → drop")
            }
            Why::Learned { bridge, mac, port, moved_from } => match moved_from {
                Some(old) => write!(f, "{bridge}: learned {mac} on {port} (moved from {old})"),
                None => write!(f, "{bridge}: learned {mac} on {port}"),
            },
            Why::Route { route } => write!(f, "route: {route}"),
            Why::Forward { ttl } => write!(f, "ip_forward=1 → forward, ttl {}→{}", ttl, ttl.saturating_sub(1)),
            Why::Neigh { ip, dev, state, mac } => match mac {
                Some(m) => write!(f, "neigh {ip} dev {dev} lladdr {m} {state}"),
                None => write!(f, "neigh {ip} dev {dev} {state}"),
            },
            Why::ArpProbe { ip, attempt, max, queued } => {
                write!(f, "resolving {ip}: ARP request {attempt}/{max}, {queued} packet(s) queued")
            }
            Why::ArpReply { ip } => write!(f, "ARP request for local address {ip} → reply"),
            Why::NeighUpdate { ip, mac, state } => write!(f, "neigh {ip} lladdr {mac} → {state}"),
            Why::Netfilter(s) => write!(f, "{s}"),
            Why::Ipvs(s) => write!(f, "{s}"),
            Why::VxlanEncap { dev, vni, remote, fdb } => {
                write!(f, "{dev}: encap vni {vni} → remote VTEP {remote} ({fdb})")
            }
            Why::VxlanDecap { dev, vni, remote } => write!(f, "{dev}: decap vni {vni} from VTEP {remote}"),
            Why::VxlanProxyArp { dev, ip, mac } => {
                write!(f, "{dev}: proxy ARP, {ip} is-at {mac} from the neighbour table; nothing crosses the underlay")
            }
            Why::VxlanMiss { dev, what } => write!(f, "{dev}: {what}"),
            Why::Macvlan { dev, what } => write!(f, "{dev}: {what}"),
            Why::Vlan { dev, vid, pushed } => {
                if *pushed {
                    write!(f, "{dev}: tag 802.1Q vid {vid}")
                } else {
                    write!(f, "{dev}: untag 802.1Q vid {vid}")
                }
            }
            Why::Local { what } => write!(f, "{what}"),
            Why::Drop(s) => write!(f, "drop: {s}"),
            Why::App(s) => write!(f, "{s}"),
        }
    }
}
