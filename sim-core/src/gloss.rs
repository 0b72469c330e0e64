//! A kernel decision in Docker's nouns, where Docker made what decided it: the routing mesh,
//! a service's VIP, the embedded DNS, a published port, the isolation between networks, the
//! masquerade. The kernel's reasons (`kernel::trace::Why`) stay in the kernel's terms, as
//! `ip`, `iptables-save` and `ipvsadm` would show them; this says which of Docker's objects
//! they belong to, for a student who typed `docker` commands and not `iptables` ones.
//!
//! What dockerd programs, and why, is in docs/docker-model.md (published ports, the embedded
//! DNS, the routing mesh and service VIPs); each case below quotes the rule or the IPVS
//! service that shows it.

use std::net::Ipv4Addr;

use crate::World;
use crate::director::Director;
use crate::kernel::NsId;
use crate::kernel::ipvs::{IpvsNote, ServiceKey};
use crate::kernel::netfilter::{Note, NoteKind, Table};
use crate::kernel::trace::Why;

/// The address where dockerd's embedded DNS answers inside a container (libnetwork's
/// `resolver.go`).
const EMBEDDED_DNS: &str = "127.0.0.11";

impl Director {
    /// `why`, taken in namespace `ns`, said in Docker's nouns; None where the kernel decided
    /// on its own (a route, an FDB entry, a neighbour).
    pub fn docker_gloss(&self, w: &World, ns: NsId, why: &Why) -> Option<String> {
        let name = &w.netns(ns).name;
        let (host, sandbox) = name.split_once(':').unwrap_or((name.as_str(), ""));
        match why {
            Why::Ipvs(note) => self.ipvs_gloss(host, sandbox, note),
            Why::Netfilter { note, .. } => self.netfilter_gloss(host, sandbox, note),
            _ => None,
        }
    }

    fn ipvs_gloss(&self, host: &str, sandbox: &str, note: &IpvsNote) -> Option<String> {
        let service = match note {
            IpvsNote::New { svc: ServiceKey::Fwmark(m), .. }
            | IpvsNote::Existing { svc: ServiceKey::Fwmark(m), .. } => self.service_by_fwmark(host, *m),
            IpvsNote::Reply { vip, .. } => self.service_by_vip(vip.0),
            _ => None,
        }?;
        let mesh = sandbox == "ingress_sbox";
        Some(match (note, mesh) {
            (IpvsNote::Reply { .. }, true) => {
                format!("the routing mesh: the reply of service {service}'s task goes back with ingress_sbox's address")
            }
            (IpvsNote::Reply { .. }, false) => {
                format!("service {service}'s VIP: the task's reply goes back from the VIP the client asked")
            }
            (_, true) => format!(
                "the routing mesh: a connection to a port service {service} publishes, sent to one of its tasks \
                 (on any node)"
            ),
            (_, false) => format!("service {service}'s VIP: IPVS spreads connections over the service's tasks"),
        })
    }

    /// The service whose load balancer on node `host` marks its packets `mark`.
    fn service_by_fwmark(&self, host: &str, mark: u32) -> Option<String> {
        let node = self.swarm.as_ref()?.node(host)?;
        node.fwmarks.iter().find(|(_, f)| *f == mark).map(|(s, _)| s.clone())
    }

    /// The service whose VIP (on any of its networks) is `ip`.
    fn service_by_vip(&self, ip: Ipv4Addr) -> Option<String> {
        let sw = self.swarm.as_ref()?;
        sw.services.iter().find(|s| s.vips.iter().any(|(_, v)| *v == ip)).map(|s| s.name.clone())
    }

    /// The container (or swarm task) with address `ip` on `host`.
    fn container_by_ip(&self, host: &str, ip: Ipv4Addr) -> Option<String> {
        let e = self.engine(host).ok()?;
        e.containers.iter().find(|c| c.endpoints.iter().any(|ep| ep.ip == ip)).map(|c| c.name.clone())
    }

    fn netfilter_gloss(&self, host: &str, sandbox: &str, note: &Note) -> Option<String> {
        // A Linux lab's own rules (a router's MASQUERADE) are nobody's but the lab's.
        self.engine(host).ok()?;
        let rule = note.rule.as_ref().map(|r| r.text.as_ref()).unwrap_or("");
        let chain = rule.strip_prefix("-A ").and_then(|r| r.split_whitespace().next()).unwrap_or("");
        if rule.contains(EMBEDDED_DNS) {
            return Some(format!(
                "the embedded DNS: dockerd answers names at {EMBEDDED_DNS}:53 inside the container, and this rule \
                 moves the query to the port it really listens on (and the answer back)"
            ));
        }
        match (&note.what, chain) {
            (NoteKind::Dnat { to, .. }, "DOCKER-INGRESS") => Some(format!(
                "the routing mesh: port {} is published by a swarm service on every node; sent to ingress_sbox \
                 ({}), where IPVS picks a task",
                match &note.what {
                    NoteKind::Dnat { from, .. } => from.1,
                    _ => to.1,
                },
                to.0
            )),
            (NoteKind::Dnat { from, to }, "DOCKER") => {
                let who =
                    self.container_by_ip(host, to.0).map(|c| format!("container {c}")).unwrap_or(to.0.to_string());
                Some(format!("a published port (`-p {}:{}`): sent to {who}", from.1, to.1))
            }
            (NoteKind::Mark(m), _) if note.table == Table::Mangle && !sandbox.is_empty() => {
                self.service_by_fwmark(host, *m).map(|s| match sandbox {
                    "ingress_sbox" => format!(
                        "the routing mesh: a packet to a port service {s} publishes is marked {m} so that IPVS sends \
                         it to one of {s}'s tasks"
                    ),
                    _ => format!(
                        "service {s}'s VIP: the packet is marked {m} so that IPVS sends it to one of {s}'s tasks"
                    ),
                })
            }
            // `-o docker_gwbridge -m addrtype --src-type LOCAL`: the host's own connection to a
            // published port (curl localhost:8001) needs an address the reply can come back to.
            (NoteKind::Masquerade { to, .. }, _) if rule.contains("--src-type LOCAL") => Some(format!(
                "the routing mesh: a connection from the host itself takes the host's address on the bridge ({}), \
                 so that the reply comes back to it",
                to.0
            )),
            // `-s SUBNET ! -o BRIDGE -j MASQUERADE`, one per network that may go out.
            (NoteKind::Masquerade { to, .. }, _) if rule.contains("-s ") && sandbox.is_empty() => {
                Some(format!("Docker's masquerade: a container leaves its network with the host's address ({})", to.0))
            }
            // `-t raw -A PREROUTING -d ADDR/32 ! -i BRIDGE -j DROP`: a container's address is
            // reached only through its own network's bridge, not routed to from elsewhere.
            (NoteKind::Drop, "PREROUTING") if note.table == Table::Raw => {
                let mut words = rule.split_whitespace();
                let addr = words.clone().skip_while(|w| *w != "-d").nth(1)?.trim_end_matches("/32").parse().ok()?;
                let bridge = words.by_ref().skip_while(|w| *w != "-i").nth(1)?;
                let who =
                    self.container_by_ip(host, addr).map(|c| format!("container {c}")).unwrap_or(addr.to_string());
                let net = self.engine(host).ok()?.networks.iter().find(|n| n.device.as_deref() == Some(bridge));
                let net = net.map(|n| format!("network {} ({bridge})", n.name)).unwrap_or(bridge.to_string());
                Some(format!(
                    "Docker's isolation: {who} is reached only through its own {net}, not routed to from elsewhere"
                ))
            }
            (NoteKind::Drop, c) if c.starts_with("DOCKER-ISOLATION") => {
                Some("Docker's isolation: two bridge networks do not reach each other through the host".to_string())
            }
            _ => None,
        }
    }
}
