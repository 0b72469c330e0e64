//! The kernel plan: a plain, serialisable description of what to build on a Linux kernel.
//!
//! The Docker model compiles scenarios into a plan; the simulator (`Kernel::from_plan`) and the
//! real-netns backend realise the same plan. Names are the kernel's: namespaces, links
//! (veth, bridge, vxlan, macvlan, vlan), addresses, routes, neighbours, FDB entries, sysctls
//! and iptables rules in `iptables-save` syntax.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::engine::SimTime;
use crate::wire::Mac;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<NsPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddrPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RoutePlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<NeighPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fdb: Vec<FdbPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iptables: Vec<IptablesPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipvs: Vec<IpvsPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sysctls: Vec<SysctlPlan>,
    /// Devices set down (`ip link set DEV down`); every other link is up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down: Vec<DevPlan>,
    /// Root qdiscs other than the default (`tc qdisc add dev DEV root netem …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qdiscs: Vec<QdiscPlan>,
    /// Bridge ports whose flags differ from the kernel's defaults (`bridge link set …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridge_ports: Vec<BrPortPlan>,
}

/// `bridge link set dev DEV hairpin on isolated on …` in `ns`: the flags of a bridge port
/// (`BR_HAIRPIN_MODE`, `BR_LEARNING`, `BR_FLOOD`, `BR_MCAST_FLOOD`, `BR_BCAST_FLOOD`,
/// `BR_ISOLATED` in include/linux/if_bridge.h). Each field has the kernel's default for a
/// new port (`new_nbp` in net/bridge/br_if.c): what a lab leaves out is as the kernel has it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct BrPortPlan {
    pub ns: String,
    pub dev: String,
    /// A frame may leave through the port it came in by (reflective relay, for VEPA).
    #[serde(default)]
    pub hairpin: bool,
    /// Source MACs of frames coming in are learned into the FDB.
    #[serde(default = "yes")]
    pub learning: bool,
    /// Unicast to a MAC the FDB does not know is flooded out of this port.
    #[serde(default = "yes")]
    pub flood: bool,
    /// Multicast is flooded out of this port.
    #[serde(default = "yes")]
    pub mcast_flood: bool,
    /// Broadcast is flooded out of this port.
    #[serde(default = "yes")]
    pub bcast_flood: bool,
    /// Frames from one isolated port never leave through another.
    #[serde(default)]
    pub isolated: bool,
}

impl BrPortPlan {
    /// A port with the kernel's defaults.
    pub fn new(ns: &str, dev: &str) -> Self {
        BrPortPlan {
            ns: ns.to_string(),
            dev: dev.to_string(),
            hairpin: false,
            learning: true,
            flood: true,
            mcast_flood: true,
            bcast_flood: true,
            isolated: false,
        }
    }

    /// Whether every flag is the kernel's default (the entry says nothing).
    pub fn is_default(&self) -> bool {
        *self == BrPortPlan::new(&self.ns, &self.dev)
    }

    /// The flags by the names `bridge link` gives them, in the order it prints them.
    pub fn flags(&self) -> [(&'static str, bool); 6] {
        [
            ("hairpin", self.hairpin),
            ("learning", self.learning),
            ("flood", self.flood),
            ("mcast_flood", self.mcast_flood),
            ("bcast_flood", self.bcast_flood),
            ("isolated", self.isolated),
        ]
    }

    /// Sets the flag `bridge link` calls `name`; false if there is no such flag.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        let f = match name {
            "hairpin" => &mut self.hairpin,
            "learning" => &mut self.learning,
            "flood" => &mut self.flood,
            "mcast_flood" => &mut self.mcast_flood,
            "bcast_flood" => &mut self.bcast_flood,
            "isolated" => &mut self.isolated,
            _ => return false,
        };
        *f = on;
        true
    }
}

/// One device of `ns`: `ip link set DEV down` when listed in `Plan::down`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct DevPlan {
    pub ns: String,
    pub dev: String,
}

/// `tc qdisc add dev DEV root netem NETEM` in `ns`: `netem` holds the words after `netem`
/// as tc takes them (`delay 50ms loss 20% rate 1mbit`), read by `kernel::qdisc::Netem`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct QdiscPlan {
    pub ns: String,
    pub dev: String,
    pub netem: String,
}

/// `sysctl -w KEY=VALUE` in `ns`. Modelled: `net.ipv4.conf.<dev>.route_localnet`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct SysctlPlan {
    pub ns: String,
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct NsPlan {
    pub name: String,
    /// Bring `lo` up (a new namespace has it down; Docker and most labs bring it up).
    #[serde(default = "yes")]
    pub lo_up: bool,
    /// `net.ipv4.ip_forward`.
    #[serde(default)]
    pub ip_forward: bool,
    /// `net.bridge.bridge-nf-call-iptables`: bridged IPv4 traverses iptables (br_netfilter).
    /// On by default in a new namespace once br_netfilter is loaded (docs/linux-model.md).
    #[serde(default = "yes")]
    pub bridge_nf_call_iptables: bool,
}

fn yes() -> bool {
    true
}

/// A link (network device). `ns` is where it lives; `master` enslaves it to a bridge there.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub enum Link {
    Veth {
        name: String,
        ns: String,
        peer: String,
        peer_ns: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        master: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_master: Option<String>,
        /// How long a frame takes to cross: by default `kernel::defaults::LINK_DELAY`, a
        /// kernel's veth crossing with the receiving side's work.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delay: Option<SimTime>,
        /// The transmit queue's length (`ip link … txqueuelen N`, `qlen` in `ip link`):
        /// the kernel's 1000 unless the creator says otherwise; Docker's drivers set 0
        /// (libnetwork makes its links with vishvananda/netlink `LinkAttrs{TxQLen: 0}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txqueuelen: Option<u32>,
    },
    Bridge {
        name: String,
        ns: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        /// FDB ageing time; Linux's default is 300 s.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ageing: Option<SimTime>,
        /// The transmit queue's length (`ip link … txqueuelen N`, `qlen` in `ip link`):
        /// the kernel's 1000 unless the creator says otherwise; Docker's drivers set 0
        /// (libnetwork makes its links with vishvananda/netlink `LinkAttrs{TxQLen: 0}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txqueuelen: Option<u32>,
    },
    Vxlan {
        name: String,
        ns: String,
        vni: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        local: Option<Ipv4Addr>,
        /// Underlay device (`dev eth0`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
        #[serde(default = "vxlan_port")]
        dstport: u16,
        #[serde(default = "yes")]
        learning: bool,
        #[serde(default)]
        proxy: bool,
        #[serde(default)]
        l2miss: bool,
        #[serde(default)]
        l3miss: bool,
        /// Compute the outer UDP checksum (`ip link … [no]udpcsum`): on unless the creator
        /// says otherwise, as a vxlan made with `ip link` has it; Docker's overlay driver turns
        /// it off (the netlink attribute IFLA_VXLAN_UDP_CSUM set to 0).
        #[serde(default = "yes")]
        udpcsum: bool,
        /// `srcport MIN MAX`: the outer UDP source port is taken from MIN up to, not
        /// including, MAX (`udp_flow_src_port`); unset, or MIN = MAX, from the local port
        /// range. The kernel refuses MAX < MIN ("Invalid source port range").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        srcport: Option<(u16, u16)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        master: Option<String>,
        /// The namespace whose stack carries the outer UDP (where the device was created
        /// before being moved into `ns`, as Docker does with vxlan0). Defaults to `ns`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        underlay_ns: Option<String>,
        /// The transmit queue's length (`ip link … txqueuelen N`, `qlen` in `ip link`):
        /// the kernel's 1000 unless the creator says otherwise; Docker's drivers set 0
        /// (libnetwork makes its links with vishvananda/netlink `LinkAttrs{TxQLen: 0}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txqueuelen: Option<u32>,
    },
    Macvlan {
        name: String,
        ns: String,
        parent: String,
        /// Namespace of the parent; defaults to `ns` (a macvlan may be moved away from it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent_ns: Option<String>,
        #[serde(default)]
        mode: MacvlanMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        /// The transmit queue's length (`ip link … txqueuelen N`, `qlen` in `ip link`):
        /// the kernel's 1000 unless the creator says otherwise; Docker's drivers set 0
        /// (libnetwork makes its links with vishvananda/netlink `LinkAttrs{TxQLen: 0}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txqueuelen: Option<u32>,
    },
    /// An 802.1Q sub-interface (`ip link add link eth0 name eth0.10 type vlan id 10`).
    Vlan {
        name: String,
        ns: String,
        parent: String,
        id: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<Mac>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        /// The transmit queue's length (`ip link … txqueuelen N`, `qlen` in `ip link`):
        /// the kernel's 1000 unless the creator says otherwise; Docker's drivers set 0
        /// (libnetwork makes its links with vishvananda/netlink `LinkAttrs{TxQLen: 0}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txqueuelen: Option<u32>,
    },
}

fn vxlan_port() -> u16 {
    crate::wire::vxlan::PORT
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum MacvlanMode {
    #[default]
    Bridge,
    Private,
    Vepa,
}

impl Plan {
    /// The bridge that device `dev` of namespace `ns` is a port of, if the plan enslaves it.
    pub fn master_of(&self, ns: &str, dev: &str) -> Option<&str> {
        self.links.iter().find_map(|l| match l {
            Link::Veth { name, ns: n, master, .. } if n == ns && name == dev => master.as_deref(),
            Link::Veth { peer, peer_ns, peer_master, .. } if peer_ns == ns && peer == dev => peer_master.as_deref(),
            Link::Vxlan { name, ns: n, master, .. } if n == ns && name == dev => master.as_deref(),
            _ => None,
        })
    }
}

impl Link {
    pub fn name(&self) -> &str {
        match self {
            Link::Veth { name, .. }
            | Link::Bridge { name, .. }
            | Link::Vxlan { name, .. }
            | Link::Macvlan { name, .. }
            | Link::Vlan { name, .. } => name,
        }
    }
    pub fn ns(&self) -> &str {
        match self {
            Link::Veth { ns, .. }
            | Link::Bridge { ns, .. }
            | Link::Vxlan { ns, .. }
            | Link::Macvlan { ns, .. }
            | Link::Vlan { ns, .. } => ns,
        }
    }
    /// The MTU the plan sets (None: the kernel's default or the parent's).
    pub fn mtu(&self) -> Option<u32> {
        match self {
            Link::Veth { mtu, .. }
            | Link::Bridge { mtu, .. }
            | Link::Vxlan { mtu, .. }
            | Link::Macvlan { mtu, .. }
            | Link::Vlan { mtu, .. } => *mtu,
        }
    }
}

/// An IPv4 prefix, `10.0.0.0/24`, or `default`: the one prefix type of the simulator (plans,
/// routes, addresses, Docker's IPAM). The address is kept as given, host bits and all, as
/// `ip addr` keeps `10.0.0.5/24` and as Docker reports `10.10.10.0/8` back in its error;
/// `trunc` clears them. Ordered by address, then length (moby's `netiputil.PrefixCompare`,
/// which the subnet allocator relies on). Methods treat a length above 32 as 32 and never
/// panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Ipv4Net {
    pub const DEFAULT: Ipv4Net = Ipv4Net { addr: Ipv4Addr::UNSPECIFIED, len: 0 };
    pub fn new(addr: Ipv4Addr, len: u8) -> Self {
        Ipv4Net { addr, len }
    }
    /// The prefix length, at most 32.
    pub fn bits(&self) -> u8 {
        self.len.min(32)
    }
    /// The netmask as a number (`0xffff0000` for /16).
    pub fn mask(&self) -> u32 {
        // Shifted in 64 bits, so /0 needs no branch of its own (a u32 cannot shift by 32):
        // routing and address lookups take a mask per entry per packet.
        (u64::from(u32::MAX) << (32 - u32::from(self.bits()))) as u32
    }
    /// The netmask as an address (`255.255.0.0`).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask())
    }
    /// The first address, as a number.
    pub fn first_u32(&self) -> u32 {
        u32::from(self.addr) & self.mask()
    }
    /// The last address, as a number.
    pub fn last_u32(&self) -> u32 {
        self.first_u32() | !self.mask()
    }
    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.first_u32())
    }
    /// The last address (the broadcast address of prefixes shorter than /31).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.last_u32())
    }
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.first_u32()
    }
    /// The same prefix with host bits cleared (what `ip route` prints).
    pub fn trunc(&self) -> Ipv4Net {
        Ipv4Net { addr: self.network(), len: self.bits() }
    }
    /// No host bit is set and the length is valid.
    pub fn is_trunc(&self) -> bool {
        self.len <= 32 && self.addr == self.network()
    }
    /// How many addresses it covers (1 for /32, 2^32 for /0).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.bits()))
    }
    /// Whether `other` lies entirely inside this prefix.
    pub fn contains_prefix(&self, other: &Ipv4Net) -> bool {
        other.bits() >= self.bits() && self.contains(other.network())
    }
    /// Whether the two share an address.
    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.first_u32() <= other.last_u32() && other.first_u32() <= self.last_u32()
    }
    /// The `n`-th address (0 = the network address), if `n < size()`.
    pub fn nth(&self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.first_u32() + n as u32))
    }
    /// How far `ip` is from the network address, if it is inside.
    pub fn offset_of(&self, ip: Ipv4Addr) -> Option<u64> {
        self.contains(ip).then(|| u64::from(u32::from(ip) - self.first_u32()))
    }
    /// Every address, network to broadcast, in order (lazy).
    pub fn addrs(&self) -> impl Iterator<Item = Ipv4Addr> + use<> {
        (u64::from(self.first_u32())..=u64::from(self.last_u32())).map(|v| Ipv4Addr::from(v as u32))
    }
    /// The prefix cut into `/new_len` subnets, in order (lazy); none when `new_len` is shorter
    /// than the prefix or longer than 32.
    pub fn subnets(&self, new_len: u8) -> impl Iterator<Item = Ipv4Net> + use<> {
        let (first, last) = (u64::from(self.first_u32()), u64::from(self.last_u32()));
        let ok = new_len >= self.bits() && new_len <= 32;
        let step = 1u64 << (32 - u32::from(new_len.min(32)));
        let count = if ok { (last - first + 1) / step } else { 0 };
        (0..count).map(move |i| Ipv4Net { addr: Ipv4Addr::from((first + i * step) as u32), len: new_len })
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", crate::wire::Dotted(self.addr), self.len)
    }
}

impl FromStr for Ipv4Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "default" {
            return Ok(Ipv4Net::DEFAULT);
        }
        let (a, l) = s.split_once('/').unwrap_or((s, "32"));
        let addr: Ipv4Addr = a.parse().map_err(|_| format!("`{s}` is not an IPv4 prefix (like 10.0.0.0/24)"))?;
        let len: u8 =
            l.parse().ok().filter(|l| *l <= 32).ok_or_else(|| format!("`{s}`: prefix length must be 0..=32"))?;
        Ok(Ipv4Net { addr, len })
    }
}

impl Serialize for Ipv4Net {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.len == 0 && self.addr.is_unspecified() { s.serialize_str("default") } else { s.collect_str(self) }
    }
}

impl<'de> Deserialize<'de> for Ipv4Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// `ip addr add 10.0.0.1/24 dev eth0` in `ns`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct AddrPlan {
    pub ns: String,
    pub dev: String,
    pub addr: Ipv4Net,
}

/// `ip route add DST [via GW] [dev DEV] [src SRC] [metric M]` in `ns`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct RoutePlan {
    pub ns: String,
    pub dst: Ipv4Net,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Ipv4Addr>,
    #[serde(default)]
    pub metric: u32,
}

/// `ip neigh add IP lladdr MAC dev DEV nud permanent`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct NeighPlan {
    pub ns: String,
    pub dev: String,
    pub ip: Ipv4Addr,
    pub lladdr: Mac,
}

/// `bridge fdb add MAC dev DEV [dst IP] [self|master] permanent`.
/// On a vxlan device with `dst`, the entry names the remote VTEP; `00:00:00:00:00:00`
/// is the default destination for broadcast and unknown unicast (head-end replication).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct FdbPlan {
    pub ns: String,
    pub dev: String,
    pub mac: Mac,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<Ipv4Addr>,
}

/// One iptables command in `ns`, as after `iptables -t TABLE`: `-A CHAIN ...`, `-N CHAIN`,
/// `-P CHAIN DROP`, `-I CHAIN ...`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct IptablesPlan {
    pub ns: String,
    #[serde(default = "filter")]
    pub table: String,
    pub rule: String,
}

/// `ipvsadm -A -f FWMARK -s rr` and one `-a -f FWMARK -r DEST:0 -m -w 1` per destination, as
/// Docker programs its load balancers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct IpvsPlan {
    pub ns: String,
    pub fwmark: u32,
    #[serde(default)]
    pub dests: Vec<Ipv4Addr>,
}

fn filter() -> String {
    "filter".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_math() {
        let n: Ipv4Net = "172.17.0.1/16".parse().unwrap();
        assert_eq!(n.network(), Ipv4Addr::new(172, 17, 0, 0));
        assert_eq!(n.broadcast(), Ipv4Addr::new(172, 17, 255, 255));
        assert!(n.contains(Ipv4Addr::new(172, 17, 3, 4)));
        assert!(!n.contains(Ipv4Addr::new(172, 18, 0, 1)));
        assert!(Ipv4Net::DEFAULT.contains(Ipv4Addr::new(8, 8, 8, 8)));
        assert!("10.0.0.0/33".parse::<Ipv4Net>().is_err());
        assert_eq!("default".parse::<Ipv4Net>().unwrap(), Ipv4Net::DEFAULT);
    }

    #[test]
    fn masks_of_every_length() {
        for len in 0..=40u8 {
            let ones = u32::from(len.min(32));
            let want = if ones == 0 { 0 } else { u32::MAX << (32 - ones) };
            assert_eq!(Ipv4Net::new(Ipv4Addr::new(10, 1, 2, 3), len).mask(), want, "/{len}");
        }
    }

    #[test]
    fn plan_round_trips_through_ron() {
        let p = Plan {
            namespaces: vec![NsPlan {
                name: "a".into(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            }],
            links: vec![Link::Bridge {
                name: "br0".into(),
                ns: "a".into(),
                mac: None,
                mtu: None,
                ageing: None,
                txqueuelen: None,
            }],
            addresses: vec![AddrPlan { ns: "a".into(), dev: "br0".into(), addr: "10.0.0.1/24".parse().unwrap() }],
            ..Default::default()
        };
        let text = ron::ser::to_string_pretty(&p, Default::default()).unwrap();
        let back: Plan = ron::from_str(&text).unwrap();
        assert_eq!(back, p);
    }
}
