//! The bridge driver, compiled into a kernel plan: what `dockerd` (iptables backend,
//! userland-proxy on; v29 or 20.10, see `era`) builds on one host for its bridge networks and
//! their containers.
//!
//! Devices follow *Bridge devices* (`docker0` / `br-<12 hex>`, host-side `veth<7 hex>`,
//! `eth0` in the container, default route via the gateway except on `--internal` networks);
//! iptables follows *iptables, v29* (v29), rule for rule (`LN/drivers/bridge/internal/iptabler`),
//! or the classic layout of *iptables, classic (v27 and earlier)* as Docker 20.10.24 prints it
//! (fixtures in `testdata/engine-20.10/`).

use std::net::Ipv4Addr;

use super::era::{Era, IptablesLayout};
use crate::kernel::reconf::RuleSegment;
use crate::plan::{AddrPlan, IptablesPlan, Ipv4Net, Link, NsPlan, Plan, RoutePlan};
use crate::wire::Mac;

/// One bridge network as the daemon holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct BridgeNetwork {
    /// `bridge` for the default network, else the user's name.
    pub name: String,
    /// The bridge device: `docker0`, or `br-` + 12 hex chars of the network id.
    pub device: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub mac: Mac,
    pub internal: bool,
    /// `com.docker.network.bridge.enable_icc` (daemon `--icc` for the default bridge).
    pub icc: bool,
    /// `com.docker.network.bridge.enable_ip_masquerade`.
    pub masquerade: bool,
    pub mtu: u32,
}

/// A container's endpoint on one bridge network.
#[derive(Clone, Debug, PartialEq)]
pub struct BridgeEndpoint {
    /// The container's sandbox: a namespace of its own.
    pub sandbox: String,
    /// Index into the networks slice.
    pub network: usize,
    /// Interface name inside the sandbox (`eth0`, `eth1`, …).
    pub ifname: String,
    /// Host-side veth (`veth` + 7 hex chars).
    pub host_veth: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    /// Whether this endpoint supplies the sandbox's default route.
    pub gateway: bool,
    pub ports: Vec<PortBinding>,
    /// The container's place among the daemon's containers (the order of their host rules).
    pub seq: u64,
}

/// `-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/proto]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortBinding {
    pub proto: Proto,
    pub host_port: u16,
    pub container_port: u16,
    /// The host address it is published on; `None` is every address (0.0.0.0 and `::`).
    pub host_ip: Option<Ipv4Addr>,
}

impl PortBinding {
    /// Whether the two cannot both be bound: the same port and protocol on the same address,
    /// or on every address.
    pub fn clashes(&self, other: &PortBinding) -> bool {
        self.proto == other.proto
            && self.host_port == other.host_port
            && (self.host_ip.is_none() || other.host_ip.is_none() || self.host_ip == other.host_ip)
    }

    /// The addresses `docker port` and `docker ps` show it on: an unspecified host address is
    /// bound for IPv4 and IPv6 alike.
    pub fn shown_addresses(&self) -> Vec<String> {
        match self.host_ip {
            Some(ip) => vec![ip.to_string()],
            None => vec!["0.0.0.0".into(), "[::]".into()],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Adds the daemon's work on host namespace `host` to `plan`: bridges, veth pairs, container
/// namespaces, addresses, routes and iptables rules. `host` must already be in the plan.
/// Networks are given in creation order, endpoints in join order, which is the order the
/// daemon programs (and so the order `iptables-save` shows) their rules. The v29 layout.
pub fn compile(plan: &mut Plan, host: &str, networks: &[BridgeNetwork], endpoints: &[BridgeEndpoint]) {
    compile_for(Era::V29, plan, host, networks, endpoints)
}

/// [`compile`] as the daemon of `era` does it: the devices are the same; the iptables
/// layout is the era's.
pub fn compile_for(era: Era, plan: &mut Plan, host: &str, networks: &[BridgeNetwork], endpoints: &[BridgeEndpoint]) {
    compile_part(era, plan, None, host, networks, endpoints, |_| true)
}

/// [`compile_for`] with the sandboxes of the endpoints `sandbox` selects: every endpoint
/// counts for the host's rules, only those add their namespace, veth, address and route (a
/// step compiles again only the sandboxes it touched). With `segments`, in the v29 layout,
/// each container's host rules (its address in raw PREROUTING, its published ports) are a
/// segment of the host's rules owned by its sandbox, after the daemon's own (a step compiles
/// only the containers it touched; the classic layout interleaves containers' rules, so
/// there every endpoint's go in `plan`).
pub fn compile_part(
    era: Era,
    plan: &mut Plan,
    segments: Option<&mut Vec<RuleSegment>>,
    host: &str,
    networks: &[BridgeNetwork],
    endpoints: &[BridgeEndpoint],
    sandbox: impl Fn(&BridgeEndpoint) -> bool,
) {
    // The daemon turns ip_forward on; having had to change it, it sets the FORWARD policy
    // to DROP (*Bridge devices* ip_forward).
    if let Some(ns) = plan.namespaces.iter_mut().find(|n| n.name == host) {
        ns.ip_forward = true;
    }
    let rules = match (era.iptables_layout(), segments) {
        (IptablesLayout::V29, Some(segments)) => {
            let own = v29_rules(networks, &[]);
            for e in endpoints {
                let mut rules = Vec::new();
                v29_endpoint_rules(&mut rules, networks, e);
                let rules =
                    rules.into_iter().map(|(table, rule)| IptablesPlan { ns: host.into(), table: table.into(), rule });
                match segments.last_mut() {
                    Some(s) if s.order == e.seq && s.ns == host => s.rules.extend(rules),
                    _ => segments.push(RuleSegment {
                        ns: host.into(),
                        owner: e.sandbox.clone(),
                        order: e.seq,
                        rules: rules.collect(),
                    }),
                }
            }
            own
        }
        (IptablesLayout::V29, None) => v29_rules(networks, endpoints),
        (IptablesLayout::Classic, _) => classic_rules(networks, endpoints),
    };

    for n in networks {
        let br = &n.device;
        plan.links.push(Link::Bridge {
            txqueuelen: Some(0),
            name: br.clone(),
            ns: host.into(),
            mac: Some(n.mac),
            mtu: Some(n.mtu),
            ageing: None,
        });
        plan.addresses.push(AddrPlan { ns: host.into(), dev: br.clone(), addr: Ipv4Net::new(n.gateway, n.subnet.len) });
    }

    // The namespaces the plan has: looked up once per endpoint, so a daemon of N containers
    // compiles in N steps, not N² (every `docker run` compiles the daemon again).
    let mut have: crate::kernel::Set<String> = plan.namespaces.iter().map(|ns| ns.name.clone()).collect();
    for e in endpoints.iter().filter(|e| sandbox(e)) {
        let n = &networks[e.network];
        let br = &n.device;
        // A sandbox on several networks is one namespace with several interfaces.
        if have.insert(e.sandbox.clone()) {
            plan.namespaces.push(NsPlan {
                name: e.sandbox.clone(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            });
        }
        plan.links.push(Link::Veth {
            txqueuelen: Some(0),
            name: e.ifname.clone(),
            ns: e.sandbox.clone(),
            peer: e.host_veth.clone(),
            peer_ns: host.into(),
            mac: Some(e.mac),
            peer_mac: None,
            mtu: Some(n.mtu),
            master: None,
            peer_master: Some(br.clone()),
            delay: None,
        });
        plan.addresses.push(AddrPlan {
            ns: e.sandbox.clone(),
            dev: e.ifname.clone(),
            addr: Ipv4Net::new(e.ip, n.subnet.len),
        });
        // ≤ v27 gives containers on an internal network a default route too (20.10.24 fixture
        // `lab8-network-inspect-internalnet.json`).
        let route = !n.internal || era.iptables_layout() == IptablesLayout::Classic;
        if e.gateway && route {
            plan.routes.push(RoutePlan {
                ns: e.sandbox.clone(),
                dst: Ipv4Net::DEFAULT,
                via: Some(n.gateway),
                dev: Some(e.ifname.clone()),
                src: None,
                metric: 0,
            });
        }
    }
    plan.iptables.extend(rules.into_iter().map(|(table, rule)| IptablesPlan {
        ns: host.into(),
        table: table.into(),
        rule,
    }));
}

/// A published port: the filter ACCEPT (inserted on top in v29, appended in the classic
/// layout, `filter_op`) and the nat DNAT, the same text in every era.
fn port_rules(
    rules: &mut Vec<(&'static str, String)>,
    filter_op: &str,
    br: &str,
    ip: std::net::Ipv4Addr,
    p: &PortBinding,
) {
    let proto = p.proto.name();
    // dockerd checks a rule before it adds it (`iptables -C`): two host ports for one
    // container port share the ACCEPT.
    let accept = format!(
        "{filter_op} DOCKER -d {ip}/32 ! -i {br} -o {br} -p {proto} -m {proto} --dport {} -j ACCEPT",
        p.container_port
    );
    if !rules.iter().any(|(t, r)| *t == "filter" && *r == accept) {
        ipt(rules, "filter", accept);
    }
    let only = p.host_ip.map(|h| format!("-d {h}/32 ")).unwrap_or_default();
    ipt(
        rules,
        "nat",
        format!(
            "-A DOCKER {only}! -i {br} -p {proto} -m {proto} --dport {} -j DNAT --to-destination {ip}:{}",
            p.host_port, p.container_port
        ),
    );
}

fn ipt(rules: &mut Vec<(&'static str, String)>, table: &'static str, rule: String) {
    rules.push((table, rule));
}

/// v29 (*iptables, v29*, `LN/drivers/bridge/internal/iptabler`).
fn v29_rules(networks: &[BridgeNetwork], endpoints: &[BridgeEndpoint]) -> Vec<(&'static str, String)> {
    let mut rules: Vec<(&str, String)> = Vec::new();
    for chain in ["DOCKER", "DOCKER-USER", "DOCKER-FORWARD", "DOCKER-CT", "DOCKER-INTERNAL", "DOCKER-BRIDGE"] {
        ipt(&mut rules, "filter", format!("-N {chain}"));
    }
    ipt(&mut rules, "filter", "-P FORWARD DROP".into());
    ipt(&mut rules, "filter", "-A FORWARD -j DOCKER-USER".into());
    ipt(&mut rules, "filter", "-A FORWARD -j DOCKER-FORWARD".into());
    for chain in ["DOCKER-CT", "DOCKER-INTERNAL", "DOCKER-BRIDGE"] {
        ipt(&mut rules, "filter", format!("-A DOCKER-FORWARD -j {chain}"));
    }
    ipt(&mut rules, "nat", "-N DOCKER".into());
    ipt(&mut rules, "nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER".into());
    // userland-proxy on: loopback traffic is left to docker-proxy.
    ipt(&mut rules, "nat", "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER".into());

    for n in networks {
        let br = &n.device;
        let subnet = n.subnet.trunc();
        if n.icc {
            ipt(&mut rules, "filter", format!("-A DOCKER-FORWARD -i {br} -j ACCEPT"));
        } else {
            ipt(&mut rules, "filter", format!("-A DOCKER-FORWARD -i {br} -o {br} -j DROP"));
            ipt(&mut rules, "filter", format!("-A DOCKER-FORWARD -i {br} ! -o {br} -j ACCEPT"));
        }
        ipt(&mut rules, "filter", format!("-A DOCKER-CT -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
        ipt(&mut rules, "filter", format!("-A DOCKER-BRIDGE -o {br} -j DOCKER"));
        ipt(&mut rules, "filter", format!("-A DOCKER ! -i {br} -o {br} -j DROP"));
        if n.internal {
            ipt(&mut rules, "filter", format!("-A DOCKER-INTERNAL ! -s {subnet} -o {br} -j DROP"));
            ipt(&mut rules, "filter", format!("-A DOCKER-INTERNAL ! -d {subnet} -i {br} -j DROP"));
        } else if n.masquerade {
            // Inserted: the newest network's rule comes first.
            ipt(&mut rules, "nat", format!("-I POSTROUTING -s {subnet} ! -o {br} -j MASQUERADE"));
        }
    }

    for e in endpoints {
        v29_endpoint_rules(&mut rules, networks, e);
    }
    rules
}

/// One endpoint's host rules in the v29 layout.
fn v29_endpoint_rules(rules: &mut Vec<(&'static str, String)>, networks: &[BridgeNetwork], e: &BridgeEndpoint) {
    let br = &networks[e.network].device;
    if !networks[e.network].internal {
        // Direct routed access to the container is refused from anywhere but its bridge.
        ipt(rules, "raw", format!("-A PREROUTING -d {}/32 ! -i {br} -j DROP", e.ip));
    }
    for p in &e.ports {
        port_rules(rules, "-I", br, e.ip, p);
    }
}

/// ≤ v27, as 20.10.24 prints it (*iptables, classic (v27 and earlier)*;
/// `v20.10.24:vendor/github.com/docker/libnetwork/drivers/bridge/setup_ip_tables.go`,
/// `iptables/iptables.go` ProgramChain, `port_mapping.go`; fixtures
/// `testdata/engine-20.10/lab*-host-iptables-save*.txt`). Every network's rules are inserted at the
/// top of their chain when it is created, so the newest network's come first; icc=false's
/// `-i br -o br -j DROP`, and every published port's rules, are appended.
fn classic_rules(networks: &[BridgeNetwork], endpoints: &[BridgeEndpoint]) -> Vec<(&'static str, String)> {
    const S1: &str = "DOCKER-ISOLATION-STAGE-1";
    const S2: &str = "DOCKER-ISOLATION-STAGE-2";
    let mut rules: Vec<(&str, String)> = Vec::new();
    for chain in ["DOCKER", S1, S2, "DOCKER-USER"] {
        ipt(&mut rules, "filter", format!("-N {chain}"));
    }
    ipt(&mut rules, "filter", "-P FORWARD DROP".into());
    ipt(&mut rules, "filter", "-A FORWARD -j DOCKER-USER".into());
    ipt(&mut rules, "filter", format!("-A FORWARD -j {S1}"));
    let newest_first = || networks.iter().rev();
    for n in newest_first() {
        let br = &n.device;
        if !n.internal {
            ipt(
                &mut rules,
                "filter",
                format!("-A FORWARD -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            );
            ipt(&mut rules, "filter", format!("-A FORWARD -o {br} -j DOCKER"));
            ipt(&mut rules, "filter", format!("-A FORWARD -i {br} ! -o {br} -j ACCEPT"));
        }
        if n.icc {
            ipt(&mut rules, "filter", format!("-A FORWARD -i {br} -o {br} -j ACCEPT"));
        }
    }
    for n in networks.iter().filter(|n| !n.icc) {
        let br = &n.device;
        ipt(&mut rules, "filter", format!("-A FORWARD -i {br} -o {br} -j DROP"));
    }
    for n in newest_first() {
        let (br, subnet) = (&n.device, n.subnet.trunc());
        if n.internal {
            ipt(&mut rules, "filter", format!("-A {S1} ! -s {subnet} -o {br} -j DROP"));
            ipt(&mut rules, "filter", format!("-A {S1} ! -d {subnet} -i {br} -j DROP"));
        } else {
            ipt(&mut rules, "filter", format!("-A {S1} -i {br} ! -o {br} -j {S2}"));
        }
    }
    ipt(&mut rules, "filter", format!("-A {S1} -j RETURN"));
    for n in newest_first().filter(|n| !n.internal) {
        ipt(&mut rules, "filter", format!("-A {S2} -o {} -j DROP", n.device));
    }
    ipt(&mut rules, "filter", format!("-A {S2} -j RETURN"));
    ipt(&mut rules, "filter", "-A DOCKER-USER -j RETURN".into());

    ipt(&mut rules, "nat", "-N DOCKER".into());
    ipt(&mut rules, "nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER".into());
    // userland-proxy on: loopback traffic is left to docker-proxy.
    ipt(&mut rules, "nat", "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER".into());
    let nat_nets = || newest_first().filter(|n| !n.internal && n.masquerade);
    for n in nat_nets() {
        ipt(&mut rules, "nat", format!("-A POSTROUTING -s {} ! -o {} -j MASQUERADE", n.subnet.trunc(), n.device));
    }
    // One container's ports go in by host port, highest first, as 20.10 programs them
    // (`traces/docker/inspect/README.md`).
    let ports = || {
        endpoints.iter().flat_map(|e| {
            let mut ps: Vec<&PortBinding> = e.ports.iter().collect();
            ps.sort_by_key(|p| std::cmp::Reverse(p.host_port));
            ps.into_iter().map(move |p| (e, p))
        })
    };
    for (e, p) in ports() {
        let proto = p.proto.name();
        let masq = format!(
            "-A POSTROUTING -s {ip}/32 -d {ip}/32 -p {proto} -m {proto} --dport {} -j MASQUERADE",
            p.container_port,
            ip = e.ip
        );
        if !rules.iter().any(|(t, r)| *t == "nat" && *r == masq) {
            ipt(&mut rules, "nat", masq);
        }
    }
    // skipDNAT: traffic from the bridge to a published port is docker-proxy's.
    for n in nat_nets() {
        ipt(&mut rules, "nat", format!("-A DOCKER -i {} -j RETURN", n.device));
    }
    for (e, p) in ports() {
        port_rules(&mut rules, "-A", &networks[e.network].device, e.ip, p);
    }
    rules
}

#[cfg(test)]
pub(crate) mod tests;
