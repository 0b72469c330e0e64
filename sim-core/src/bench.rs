//! The benchmark workloads, as plans, so `netsim bench` and tests build the same thing as
//! the ns-3 baseline program (`bench_lan`, described in BENCHMARKS.md).

use std::net::Ipv4Addr;

use crate::World;
use crate::engine::SimTime;
use crate::kernel::Event;
use crate::plan::{AddrPlan, Link, NsPlan, Plan};
use crate::sim::Sim;
use crate::userland::apps::{App, AppKind, Traffic};

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
    p.links.push(Link::Bridge {
        name: "br0".into(),
        ns: "sw".into(),
        mac: None,
        mtu: None,
        ageing: None,
        txqueuelen: None,
    });
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
            txqueuelen: None,
        });
        let addr = crate::plan::Ipv4Net::new(lan_addr(i), 16);
        p.addresses.push(AddrPlan { ns: h, dev: "eth0".into(), addr });
    }
    p
}

/// The Docker lab of `netsim bench docker`, as a scenario file: one host, one user-defined
/// bridge `appnet`, `containers` containers on it (`docker run -dit --name nI --network appnet
/// alpine`), then `pings` pings by name from n0 across the bridge. What grows with N is
/// what a Docker step costs: the daemon's plan, the embedded DNS of every sandbox, the
/// bridge's ports and the announcements flooded over them.
pub fn docker_lab(containers: usize, pings: usize) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "Scenario(\n    name: \"bench docker\",\n    seed: 1,\n    hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")],\n    steps: [\n        (on: \"host1\", run: \"docker network create appnet\"),\n",
    );
    for i in 0..containers {
        let _ = writeln!(s, "        (on: \"host1\", run: \"docker run -dit --name n{i} --network appnet alpine\"),");
    }
    for i in 0..pings {
        let to = (i + 1) % containers.max(1);
        let _ = writeln!(s, "        (on: \"host1\", run: \"docker exec n0 ping -c 1 n{to}\"),");
    }
    s.push_str("    ],\n)\n");
    s
}

/// Parameters of the overlay benchmark (the workload of the ns-3 baseline `bench_overlay`,
/// BENCHMARKS.md): K hosts on an underlay switch, each with a bridge `br0` holding M
/// containers and a VXLAN port (VNI 42, head-end replication to every other host, learning);
/// every container sends P UDP datagrams of `size` bytes, `interval` apart, to one random
/// container on another host, starting at a random time in [0, 1) s.
#[derive(Clone, Copy, Debug)]
pub struct Overlay {
    pub hosts: usize,
    pub containers: usize,
    pub packets: u32,
    pub size: usize,
    pub interval: SimTime,
    pub seed: u64,
}

/// Host h's underlay address in 172.16.0.0/16, as bench_overlay.cc assigns them.
fn underlay_addr(h: usize) -> Ipv4Addr {
    let n = h as u32 + 1;
    Ipv4Addr::new(172, 16, (n >> 8) as u8, (n & 0xff) as u8)
}

pub fn overlay_plan(hosts: usize, containers: usize) -> Plan {
    let mut p = Plan::default();
    let ns = |name: String| NsPlan { name, lo_up: true, ip_forward: false, bridge_nf_call_iptables: true };
    let veth = |name: String, ns: String, peer: String, peer_ns: String, peer_master: Option<String>| Link::Veth {
        name,
        ns,
        peer,
        peer_ns,
        mac: None,
        peer_mac: None,
        mtu: None,
        master: None,
        peer_master,
        delay: None,
        txqueuelen: None,
    };
    p.namespaces.push(ns("usw".into()));
    p.links.push(Link::Bridge {
        name: "ul0".into(),
        ns: "usw".into(),
        mac: None,
        mtu: None,
        ageing: None,
        txqueuelen: None,
    });
    for h in 0..hosts {
        let host = format!("h{h}");
        p.namespaces.push(ns(host.clone()));
        p.links.push(veth("eth0".into(), host.clone(), format!("u{h}"), "usw".into(), Some("ul0".into())));
        p.addresses.push(AddrPlan {
            ns: host.clone(),
            dev: "eth0".into(),
            addr: crate::plan::Ipv4Net::new(underlay_addr(h), 16),
        });
        p.links.push(Link::Bridge {
            name: "br0".into(),
            ns: host.clone(),
            mac: None,
            mtu: None,
            ageing: None,
            txqueuelen: None,
        });
        p.links.push(Link::Vxlan {
            name: "vxlan0".into(),
            ns: host.clone(),
            vni: 42,
            local: Some(underlay_addr(h)),
            dev: Some("eth0".into()),
            dstport: crate::wire::vxlan::PORT,
            learning: true,
            proxy: false,
            l2miss: false,
            l3miss: false,
            // As Docker's overlay sends it, and as this workload was measured before.
            udpcsum: false,
            srcport: None,
            mac: None,
            mtu: None,
            master: Some("br0".into()),
            underlay_ns: None,
            txqueuelen: None,
        });
        for o in (0..hosts).filter(|o| *o != h) {
            p.fdb.push(crate::plan::FdbPlan {
                ns: host.clone(),
                dev: "vxlan0".into(),
                mac: crate::wire::Mac::ZERO,
                dst: Some(underlay_addr(o)),
            });
        }
        for m in 0..containers {
            let i = h * containers + m;
            let c = format!("c{i}");
            p.namespaces.push(ns(c.clone()));
            p.links.push(veth("eth0".into(), c.clone(), format!("v{m}"), host.clone(), Some("br0".into())));
            p.addresses.push(AddrPlan { ns: c, dev: "eth0".into(), addr: crate::plan::Ipv4Net::new(lan_addr(i), 16) });
        }
    }
    p
}

/// Builds the overlay benchmark ready to run, with tracing off. Fails as the kernel would
/// build it: more than [`BR_MAX_PORTS`] containers on a host's bridge (with its VXLAN port),
/// or hosts on the underlay switch, is `Exchange full`.
///
/// [`BR_MAX_PORTS`]: crate::kernel::defaults::BR_MAX_PORTS
pub fn overlay(cfg: Overlay) -> Result<Sim, String> {
    let plan = overlay_plan(cfg.hosts, cfg.containers);
    let mut w = World::from_plan(&plan, cfg.seed).map_err(|e| e.to_string())?;
    w.trace = false;
    let all = cfg.hosts * cfg.containers;
    for i in 0..all {
        w.add_traffic(&Traffic::UdpListen { ns: format!("c{i}"), port: 9, echo: false }).expect("port 9 is free");
    }
    for i in 0..all {
        // A container on one of the other hosts, as bench_overlay.cc's `cross=1` picks it.
        let j = w.rng.range(0, (all - cfg.containers - 1) as u64) as usize;
        let mine = (i / cfg.containers) * cfg.containers;
        let d = if j < mine { j } else { j + cfg.containers };
        bench_client(&mut w, &format!("c{i}"), lan_addr(d), cfg.size, cfg.packets, cfg.interval);
    }
    Ok(Sim::new(w))
}

/// Datagrams the benchmark's port-9 sockets received, as ns-3's UdpServers count them (the
/// stack's own `delivered` also counts the VXLAN packets a host decapsulates).
pub fn received(sim: &Sim) -> u64 {
    sim.world
        .user
        .apps
        .iter()
        .map(|a| if let AppKind::UdpListen { received, .. } = a.kind { received } else { 0 })
        .sum()
}

/// A UDP client of the benchmarks: `count` datagrams to `dst`:9 from `ns`, starting at a
/// random time in [0, 1) s.
fn bench_client(w: &mut World, ns: &str, dst: Ipv4Addr, size: usize, count: u32, interval: SimTime) {
    let nsid = w.ns_by_name(ns).expect("the benchmark made it");
    let start = SimTime(w.rng.range(0, 999_999_999));
    let sport = w.ephemeral_port();
    let app = w.user.apps.len();
    w.user.apps.push(App {
        log: None,
        ns: nsid,
        kind: AppKind::BenchUdp { dst, dport: 9, sport, size, count, interval, sent: 0, route: Default::default() },
        done: false,
        resolve: None,
        status: 0,
    });
    w.schedule_at(start, Event::App { app, tag: 0 });
}

/// One random host of `hosts` other than `i`: whom host `i` sends to.
fn peer(rng: &mut crate::engine::SimRng, hosts: usize, i: usize) -> usize {
    let d = rng.range(0, hosts as u64 - 2) as usize;
    if d >= i { d + 1 } else { d }
}

/// The LAN benchmark as a scenario file, for what a student's run costs on the same workload
/// (`netsim run FILE -q --pcap …`): the same plan, a UDP listener on port 9 of every host and
/// a UDP sender per host (`size` bytes of `x`, `packets` of them `interval` apart, to one
/// random other host, from a random time in [0, 1) s). The listeners print a line per
/// datagram, as a scenario's do.
pub fn lan_scenario(cfg: Lan) -> Result<String, String> {
    let pretty = ron::ser::PrettyConfig::default();
    let plan = ron::ser::to_string_pretty(&lan_plan(cfg.hosts), pretty.clone()).map_err(|e| e.to_string())?;
    let mut rng = crate::engine::SimRng::new(cfg.seed);
    let mut traffic: Vec<Traffic> =
        (0..cfg.hosts).map(|i| Traffic::UdpListen { ns: format!("h{i}"), port: 9, echo: false }).collect();
    for i in 0..cfg.hosts {
        let d = peer(&mut rng, cfg.hosts, i);
        traffic.push(Traffic::UdpSend {
            at: SimTime(rng.range(0, 999_999_999)),
            ns: format!("h{i}"),
            dst: lan_addr(d),
            dport: 9,
            sport: None,
            payload: "x".repeat(cfg.size),
            count: cfg.packets,
            interval: cfg.interval,
            ttl: None,
        });
    }
    let traffic = ron::ser::to_string_pretty(&traffic, pretty).map_err(|e| e.to_string())?;
    Ok(format!(
        "Scenario(\n    name: \"bench lan\",\n    seed: {},\n    plan: {plan},\n    traffic: {traffic},\n)\n",
        cfg.seed
    ))
}

/// Builds the LAN benchmark ready to run, with tracing off. Fails as the kernel would build
/// it: a bridge takes [`BR_MAX_PORTS`] hosts, one more is `Exchange full`.
///
/// [`BR_MAX_PORTS`]: crate::kernel::defaults::BR_MAX_PORTS
pub fn lan(cfg: Lan) -> Result<Sim, String> {
    let mut w = World::from_plan(&lan_plan(cfg.hosts), cfg.seed).map_err(|e| e.to_string())?;
    w.trace = false;
    for i in 0..cfg.hosts {
        let ns = format!("h{i}");
        w.add_traffic(&Traffic::UdpListen { ns: ns.clone(), port: 9, echo: false }).expect("port 9 is free");
    }
    for i in 0..cfg.hosts {
        let d = peer(&mut w.rng, cfg.hosts, i);
        bench_client(&mut w, &format!("h{i}"), lan_addr(d), cfg.size, cfg.packets, cfg.interval);
    }
    Ok(Sim::new(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Until;

    #[test]
    fn every_overlay_datagram_crosses_the_underlay_and_arrives() {
        let cfg =
            Overlay { hosts: 3, containers: 2, packets: 5, size: 64, interval: SimTime::from_micros(100), seed: 7 };
        let mut sim = overlay(cfg).unwrap_or_else(|e| panic!("{e}"));
        sim.run_until(Until::Idle);
        assert_eq!(received(&sim), 3 * 2 * 5);
        // Each datagram crosses four links (container → host bridge, host → underlay switch,
        // switch → the other host, host bridge → container), as bench_overlay.cc counts them;
        // ARP adds a few more, replicated to every other VTEP.
        let hops = sim.world.stats.hops;
        assert!((4 * 30..4 * 30 + 200).contains(&hops), "{hops} hops");
    }
}
