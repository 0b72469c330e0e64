//! The benchmark workloads, as plans, so `netsim bench` and tests build the same thing as
//! the ns-3 baseline program (`bench_lan`, described in BENCHMARKS.md).

use std::net::Ipv4Addr;

use crate::apps::{App, AppKind, Traffic};
use crate::engine::SimTime;
use crate::plan::{AddrPlan, Link, NsPlan, Plan};
use crate::sim::Sim;
use crate::world::{Event, World};

/// Parameters of the LAN benchmark: N hosts on one learning bridge, each sending P UDP
/// datagrams of `size` bytes, `interval` apart, to one random other host, starting at a
/// random time in [0, 1) s.
#[derive(Clone, Copy, Debug)]
pub struct Lan {
    pub hosts: usize,
    pub packets: u32,
    pub size: usize,
    pub interval: SimTime,
    pub seed: u64,
}

/// Host i's address in 10.0.0.0/16, as bench_lan.cc assigns them (10.0.0.1, 10.0.0.2, …).
pub fn lan_addr(i: usize) -> Ipv4Addr {
    let n = i as u32 + 1;
    Ipv4Addr::new(10, 0, (n >> 8) as u8, (n & 0xff) as u8)
}

pub fn lan_plan(hosts: usize) -> Plan {
    let mut p = Plan::default();
    p.namespaces.push(NsPlan { name: "sw".into(), lo_up: true, ip_forward: false, bridge_nf_call_iptables: true });
    p.links.push(Link::Bridge { name: "br0".into(), ns: "sw".into(), mac: None, mtu: None, ageing: None });
    for i in 0..hosts {
        let h = format!("h{i}");
        p.namespaces.push(NsPlan { name: h.clone(), lo_up: true, ip_forward: false, bridge_nf_call_iptables: true });
        p.links.push(Link::Veth {
            name: "eth0".into(),
            ns: h.clone(),
            peer: format!("p{i}"),
            peer_ns: "sw".into(),
            mac: None,
            peer_mac: None,
            mtu: None,
            master: None,
            peer_master: Some("br0".into()),
            delay: None,
        });
        let addr = crate::plan::Ipv4Net::new(lan_addr(i), 16);
        p.addresses.push(AddrPlan { ns: h, dev: "eth0".into(), addr });
    }
    p
}

/// The Docker lab of `netsim bench docker`, as a scenario file: one host, one user-defined
/// bridge `appnet`, `containers` containers on it (`docker run -d --name nI --network appnet
/// alpine`), then `pings` pings by name from n0 across the bridge. What grows with N is
/// what a Docker step costs: the daemon's plan, the embedded DNS of every sandbox, the
/// bridge's ports and the announcements flooded over them.
pub fn docker_lab(containers: usize, pings: usize) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "Scenario(\n    name: \"bench docker\",\n    seed: 1,\n    hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")],\n    steps: [\n        (on: \"host1\", run: \"docker network create appnet\"),\n",
    );
    for i in 0..containers {
        let _ = writeln!(s, "        (on: \"host1\", run: \"docker run -d --name n{i} --network appnet alpine\"),");
    }
    for i in 0..pings {
        let to = (i + 1) % containers.max(1);
        let _ = writeln!(s, "        (on: \"host1\", run: \"docker exec n0 ping -c 1 n{to}\"),");
    }
    s.push_str("    ],\n)\n");
    s
}

/// Builds the LAN benchmark ready to run, with tracing off.
pub fn lan(cfg: Lan) -> Sim {
    let mut w = World::from_plan(&lan_plan(cfg.hosts), cfg.seed).expect("the benchmark plan is valid");
    w.trace = false;
    for i in 0..cfg.hosts {
        let ns = format!("h{i}");
        w.add_traffic(&Traffic::UdpListen { ns: ns.clone(), port: 9, echo: false }).expect("port 9 is free");
    }
    for i in 0..cfg.hosts {
        let nsid = w.ns_by_name(&format!("h{i}")).expect("exists");
        let mut d = w.rng.range(0, cfg.hosts as u64 - 2) as usize;
        if d >= i {
            d += 1;
        }
        let start = SimTime(w.rng.range(0, 999_999_999));
        let sport = w.ephemeral_port();
        let app = w.apps.len();
        w.apps.push(App {
            ns: nsid,
            kind: AppKind::BenchUdp {
                dst: lan_addr(d),
                dport: 9,
                sport,
                size: cfg.size,
                count: cfg.packets,
                interval: cfg.interval,
                sent: 0,
            },
            done: false,
            resolve: None,
        });
        w.pending.push((start, Event::App { app, tag: 0 }));
    }
    Sim::new(w)
}
