//! Property tests over random learning-bridge trees.
//!
//! Each case builds k bridges (each `br0` in its own namespace `b<i>`) joined into a random
//! tree by veth pairs whose both ends are bridge ports, plus h hosts (`h<j>`, `eth0`,
//! 10.0.0.(j+1)/24) whose veth peer is a port of a random bridge. Every host listens on UDP
//! port 9; a random list of sends carries the unique payloads "m<i>". The run goes until
//! idle and the trace is checked against what a tree of Linux bridges must do.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use proptest::prelude::*;
use sim_core::capture::{PcapngWriter, read_pcapng};
use sim_core::kernel::trace::{Dir, Record, Why};
use sim_core::kernel::{DevId, DevKind, NsId};
use sim_core::plan::{AddrPlan, Ipv4Net, Link, NsPlan, Plan};
use sim_core::userland::apps::Traffic;
use sim_core::wire::{self, Mac};
use sim_core::{EventId, Sim, SimTime, Until, World};

// ----- the generated scenario ------------------------------------------------------------------

/// One UDP datagram: host `src` sends "m<index>" to host `dst`, port 9, at `at_us` µs.
#[derive(Clone, Debug)]
struct Send {
    src: usize,
    dst: usize,
    at_us: u64,
}

#[derive(Clone, Debug)]
struct Topo {
    /// `parent[i - 1]` is the bridge that bridge `i` (1..k) hangs off.
    parent: Vec<usize>,
    /// `attach[j]` is the bridge host `j`'s veth peer is a port of.
    attach: Vec<usize>,
    sends: Vec<Send>,
}

impl Topo {
    fn bridges(&self) -> usize {
        self.parent.len() + 1
    }
    fn hosts(&self) -> usize {
        self.attach.len()
    }

    /// A one-line description for failure messages.
    fn describe(&self) -> String {
        let tree: Vec<String> = self.parent.iter().enumerate().map(|(i, p)| format!("b{}-b{p}", i + 1)).collect();
        let hosts: Vec<String> = self.attach.iter().enumerate().map(|(j, b)| format!("h{j}@b{b}")).collect();
        let sends: Vec<String> =
            self.sends.iter().enumerate().map(|(i, s)| format!("m{i}:h{}->h{}@{}us", s.src, s.dst, s.at_us)).collect();
        format!(
            "{} bridge(s) [{}], hosts [{}], sends [{}]",
            self.bridges(),
            tree.join(" "),
            hosts.join(" "),
            sends.join(" ")
        )
    }

    fn plan(&self) -> Plan {
        let ns = |name: String| NsPlan { name, lo_up: true, ip_forward: false, bridge_nf_call_iptables: true };
        let veth = |name: &str, ns: String, peer: String, peer_ns: String, master: Option<String>| Link::Veth {
            name: name.into(),
            ns,
            peer,
            peer_ns,
            mac: None,
            peer_mac: None,
            mtu: None,
            master,
            peer_master: Some("br0".into()),
            delay: None,
            txqueuelen: None,
        };
        let mut p = Plan::default();
        for b in 0..self.bridges() {
            p.namespaces.push(ns(format!("b{b}")));
            p.links.push(Link::Bridge {
                name: "br0".into(),
                ns: format!("b{b}"),
                mac: None,
                mtu: None,
                ageing: None,
                txqueuelen: None,
            });
        }
        for (i, parent) in self.parent.iter().enumerate() {
            let b = i + 1;
            p.links.push(veth("up0", format!("b{b}"), format!("dn{b}"), format!("b{parent}"), Some("br0".into())));
        }
        for (j, b) in self.attach.iter().enumerate() {
            p.namespaces.push(ns(format!("h{j}")));
            p.links.push(veth("eth0", format!("h{j}"), format!("p{j}"), format!("b{b}"), None));
            p.addresses.push(AddrPlan { ns: format!("h{j}"), dev: "eth0".into(), addr: Ipv4Net::new(host_ip(j), 24) });
        }
        p
    }

    /// The world with all traffic added, not yet run.
    fn world(&self, seed: u64) -> World {
        let mut w =
            World::from_plan(&self.plan(), seed).unwrap_or_else(|e| panic!("plan rejected: {e}: {}", self.describe()));
        for j in 0..self.hosts() {
            w.add_traffic(&Traffic::UdpListen { ns: format!("h{j}"), port: 9, echo: false })
                .unwrap_or_else(|e| panic!("listen on h{j}: {e}"));
        }
        for (i, s) in self.sends.iter().enumerate() {
            w.add_traffic(&Traffic::UdpSend {
                at: SimTime::from_micros(s.at_us),
                ns: format!("h{}", s.src),
                dst: host_ip(s.dst),
                dport: 9,
                sport: None,
                payload: format!("m{i}"),
                count: 1,
                interval: SimTime::from_secs(1),
                ttl: None,
            })
            .unwrap_or_else(|e| panic!("send m{i}: {e}"));
        }
        w
    }

    fn run(&self, seed: u64) -> Run {
        let mut sim = Sim::new(self.world(seed));
        sim.run_until(Until::Idle);
        let w = &sim.world;
        let ns = |name: String| w.ns_by_name(&name).unwrap_or_else(|| panic!("no namespace {name}"));
        let host_ns: Vec<NsId> = (0..self.hosts()).map(|j| ns(format!("h{j}"))).collect();
        let host_eth0: Vec<DevId> =
            host_ns.iter().map(|n| w.dev_by_name(*n, "eth0").unwrap_or_else(|| panic!("no eth0"))).collect();
        let bridges: Vec<DevId> = (0..self.bridges())
            .map(|b| w.dev_by_name(ns(format!("b{b}")), "br0").unwrap_or_else(|| panic!("no br0 in b{b}")))
            .collect();
        Run { sim, host_ns, host_eth0, bridges }
    }
}

fn host_ip(j: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, j as u8 + 1)
}

struct Run {
    sim: Sim,
    host_ns: Vec<NsId>,
    host_eth0: Vec<DevId>,
    bridges: Vec<DevId>,
}

fn topo() -> impl Strategy<Value = Topo> {
    (1usize..=6, 2usize..=10)
        .prop_flat_map(|(k, h)| {
            let parent: Vec<std::ops::Range<usize>> = (1..k).map(|i| 0..i).collect();
            let attach = proptest::collection::vec(0..k, h);
            // Times in µs (a veth crossing takes 17 µs): some within a few hops of each other
            // (sends queued behind an ARP resolution, frames crossing), most within the first seconds,
            // some much later: past neighbour REACHABLE time (STALE/DELAY/PROBE) and past the
            // bridges' 300 s FDB ageing.
            let at_us = prop_oneof![2 => 0u64..60, 4 => 0u64..2_500_000, 1 => 0u64..400_000_000];
            // dst is drawn from the h-1 other hosts and shifted past src.
            let sends = proptest::collection::vec((0..h, 0..h - 1, at_us), 1..=12);
            (parent, attach, sends)
        })
        .prop_map(|(parent, attach, sends)| Topo {
            parent,
            attach,
            sends: sends
                .into_iter()
                .map(|(src, d, at_us)| Send { src, dst: if d >= src { d + 1 } else { d }, at_us })
                .collect(),
        })
}

// ----- checkers ------------------------------------------------------------------------------

fn bridge_of(w: &World, dev: DevId) -> Option<DevId> {
    w.devs[dev.0 as usize].master.filter(|m| matches!(w.devs[m.0 as usize].kind, DevKind::Bridge(_)))
}

/// Records grouped by the event that produced them (an event's records are contiguous).
fn by_event(records: &[Record]) -> impl Iterator<Item = &[Record]> {
    records.chunk_by(|a, b| a.event == b.event)
}

/// Invariant 1: within one event, a frame received on port P of bridge B and then sent out a
/// port of B (one forwarding decision) never leaves through P. Returns how many forwarding
/// decisions (Tx of the received frame on a port of the same bridge) were checked.
fn check_no_reflection(w: &World, records: &[Record]) -> Result<usize, String> {
    let mut decisions = 0;
    for group in by_event(records) {
        // bridge -> (ingress port, frame)
        let mut ingress: HashMap<DevId, (DevId, &[u8])> = HashMap::new();
        for r in group {
            let (Some(dev), Some(frame)) = (r.dev, r.frame.as_deref()) else { continue };
            let Some(br) = bridge_of(w, dev) else { continue };
            match r.dir {
                Dir::Rx => {
                    ingress.entry(br).or_insert((dev, frame));
                }
                Dir::Tx => {
                    let Some(&(port, rx_frame)) = ingress.get(&br) else { continue };
                    if rx_frame != frame {
                        continue;
                    }
                    decisions += 1;
                    if port == dev {
                        return Err(format!(
                            "event {}: bridge {} received a frame on port {} and sent it back out the same port \
                             (hairpin is off) at {:?}; why: [{}]",
                            r.event,
                            w.dev_path(br),
                            w.dev_path(port),
                            r.time,
                            r.why.iter().map(|x| x.show(w).to_string()).collect::<Vec<_>>().join(" / ")
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(decisions)
}

/// Invariant 2: every learned (non-local, non-permanent) FDB entry points at the port on which
/// its MAC was last received as a source, and was refreshed at that time; and every source
/// MAC received on a port is in the FDB (runs are far shorter than the 300 s ageing).
fn check_fdb(w: &World, bridges: &[DevId], records: &[Record]) -> Result<usize, String> {
    let mut checked = 0;
    for &br in bridges {
        let mut last: HashMap<Mac, (DevId, SimTime)> = HashMap::new();
        for r in records {
            let (Dir::Rx, Some(dev), Some(frame)) = (r.dir, r.dev, r.frame.as_deref()) else { continue };
            if bridge_of(w, dev) != Some(br) || frame.len() < wire::ETH_HLEN {
                continue;
            }
            let src = wire::eth_src(frame);
            if !src.is_multicast() && !src.is_zero() {
                last.insert(src, (dev, r.time));
            }
        }
        let DevKind::Bridge(b) = &w.devs[br.0 as usize].kind else { unreachable!("not a bridge") };
        for (mac, e) in &b.fdb {
            if e.local || e.permanent {
                continue;
            }
            checked += 1;
            match last.get(mac) {
                None => {
                    return Err(format!(
                        "bridge {}: learned entry {mac} on {} but that MAC was never received on any of its ports",
                        w.dev_path(br),
                        w.dev_path(e.port)
                    ));
                }
                Some(&(port, t)) if port != e.port || t != e.updated => {
                    return Err(format!(
                        "bridge {}: fdb {mac} -> {} (updated {:?}), but it was last received on {} at {:?}",
                        w.dev_path(br),
                        w.dev_path(e.port),
                        e.updated,
                        w.dev_path(port),
                        t
                    ));
                }
                Some(_) => {}
            }
        }
        for (mac, (port, t)) in &last {
            let aged = w.now.saturating_sub(*t) > b.ageing;
            if !aged && !b.fdb.contains_key(mac) {
                return Err(format!(
                    "bridge {}: {mac} was received on {} at {:?} but is not in the FDB",
                    w.dev_path(br),
                    w.dev_path(*port),
                    t
                ));
            }
        }
    }
    Ok(checked)
}

/// Invariant 3: payload "m<i>" is received exactly once, by the listener in its destination.
fn check_exactly_once(t: &Topo, run: &Run) -> Result<(), String> {
    let w = &run.sim.world;
    let mut got: HashMap<String, Vec<NsId>> = HashMap::new();
    for r in run.sim.records() {
        if r.dir != Dir::App {
            continue;
        }
        for why in &r.why {
            let Why::App(text) = why else { continue };
            if !text.starts_with("udp :9 received ") {
                continue;
            }
            let Some((_, payload)) = text.rsplit_once(": ") else {
                return Err(format!("unparsable receive line {text:?}"));
            };
            got.entry(payload.trim_matches('"').to_string()).or_default().push(r.ns);
        }
    }
    let names = |v: &[NsId]| v.iter().map(|n| w.netns(*n).name.clone()).collect::<Vec<_>>().join(", ");
    for (i, s) in t.sends.iter().enumerate() {
        let key = format!("m{i}");
        let seen = got.remove(&key).unwrap_or_default();
        let want = run.host_ns[s.dst];
        if seen != [want] {
            return Err(format!(
                "datagram {key:?} h{} -> h{} ({}) at {} µs: expected exactly one receive in h{}, got {} in [{}]",
                s.src,
                s.dst,
                host_ip(s.dst),
                s.at_us,
                s.dst,
                seen.len(),
                names(&seen)
            ));
        }
    }
    if let Some((k, v)) = got.into_iter().next() {
        return Err(format!("payload {k:?} received in [{}] but never sent", names(&v)));
    }
    Ok(())
}

fn is_arp_request_broadcast(frame: &[u8]) -> bool {
    frame.len() >= wire::ETH_HLEN + 8
        && wire::eth_dst(frame).is_broadcast()
        && wire::ethertype(frame) == wire::ETHERTYPE_ARP
        && frame[20..22] == [0, 1]
}

/// Invariant 4: the first ARP request broadcast by each host reaches every other host's eth0
/// exactly once (same bytes, caused by that transmission) and never comes back to the sender.
/// Returns how many broadcasts were checked.
fn check_flood(run: &Run) -> Result<usize, String> {
    let records = run.sim.records();
    let cause: HashMap<EventId, Option<EventId>> = records.iter().map(|r| (r.event, r.cause)).collect();
    let descends = |mut e: EventId, root: EventId| loop {
        if e == root {
            return true;
        }
        match cause.get(&e).copied().flatten() {
            Some(c) if c < e => e = c,
            _ => return false,
        }
    };
    let mut checked = 0;
    for (j, &eth0) in run.host_eth0.iter().enumerate() {
        let first = records.iter().find(|r| {
            r.dir == Dir::Tx && r.dev == Some(eth0) && r.frame.as_deref().is_some_and(is_arp_request_broadcast)
        });
        let Some(tx) = first else { continue };
        let bytes = tx.frame.as_deref().unwrap_or_default();
        checked += 1;
        // Copies caused by this transmission, and copies of the same bytes from anywhere (a
        // lossless run has no reason to retransmit the request).
        let mut caused = vec![0usize; run.host_eth0.len()];
        let mut same = vec![0usize; run.host_eth0.len()];
        for r in records {
            if r.dir != Dir::Rx || r.frame.as_deref() != Some(bytes) {
                continue;
            }
            if let Some(k) = run.host_eth0.iter().position(|d| Some(*d) == r.dev) {
                same[k] += 1;
                if descends(r.event, tx.event) {
                    caused[k] += 1;
                }
            }
        }
        for k in 0..run.host_eth0.len() {
            let want = usize::from(k != j);
            if caused[k] != want || same[k] != want {
                return Err(format!(
                    "ARP request broadcast by h{j} at {:?} (event {}): h{k}/eth0 received it {} time(s) as a \
                     result of that transmission and {} time(s) in all, expected {want}",
                    tx.time, tx.event, caused[k], same[k]
                ));
            }
        }
    }
    Ok(checked)
}

type Key = (SimTime, Option<DevId>, Dir, Option<Vec<u8>>);

fn record_keys(records: &[Record]) -> Vec<Key> {
    records.iter().map(|r| (r.time, r.dev, r.dir, r.frame.clone())).collect()
}

/// All Tx/Rx frames as a pcapng file, one interface per device in order of first appearance.
fn pcapng(w: &World, records: &[Record]) -> (Vec<u8>, usize) {
    let mut out = PcapngWriter::new(Vec::new(), "netsim-tests").expect("pcapng header");
    let mut ifaces: HashMap<DevId, u32> = HashMap::new();
    let mut frames = 0;
    for r in records {
        let (Dir::Tx | Dir::Rx, Some(dev), Some(frame)) = (r.dir, r.dev, r.frame.as_deref()) else { continue };
        let id = match ifaces.get(&dev) {
            Some(id) => *id,
            None => {
                let id = out.add_interface(&w.dev_path(dev), None).expect("pcapng interface");
                ifaces.insert(dev, id);
                id
            }
        };
        out.write_frame(id, r.time.as_nanos(), frame, None).expect("pcapng frame");
        frames += 1;
    }
    (out.finish().expect("pcapng finish"), frames)
}

/// Cases per property: 1024 (well above the 256 minimum; ~3 s in debug), or `FORWARDING_PROPS_CASES` for longer bug hunts.
fn cases() -> u32 {
    std::env::var("FORWARDING_PROPS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024)
}

// ----- properties ----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn bridge_never_reflects_to_ingress_port(t in topo(), seed in any::<u64>()) {
        let run = t.run(seed);
        let n = check_no_reflection(&run.sim.world, run.sim.records())
            .map_err(|e| TestCaseError::fail(format!("{e}\n  topology: {}", t.describe())))?;
        prop_assert!(n > 0, "no bridge forwarding decision seen: the checker would be vacuous\n  topology: {}", t.describe());
    }

    #[test]
    fn fdb_points_at_last_ingress_port(t in topo(), seed in any::<u64>()) {
        let run = t.run(seed);
        let n = check_fdb(&run.sim.world, &run.bridges, run.sim.records())
            .map_err(|e| TestCaseError::fail(format!("{e}\n  topology: {}", t.describe())))?;
        prop_assert!(n > 0, "no learned FDB entry at all\n  topology: {}", t.describe());
    }

    #[test]
    fn unicast_udp_delivered_exactly_once(t in topo(), seed in any::<u64>()) {
        let run = t.run(seed);
        check_exactly_once(&t, &run).map_err(|e| TestCaseError::fail(format!("{e}\n  topology: {}", t.describe())))?;
    }

    #[test]
    fn broadcast_floods_every_other_host_exactly_once(t in topo(), seed in any::<u64>()) {
        let run = t.run(seed);
        let n = check_flood(&run).map_err(|e| TestCaseError::fail(format!("{e}\n  topology: {}", t.describe())))?;
        prop_assert!(n > 0, "no host sent an ARP request broadcast\n  topology: {}", t.describe());
    }

    #[test]
    fn same_seed_same_trace_and_capture(t in topo(), seed in any::<u64>()) {
        let a = t.run(seed);
        let b = t.run(seed);
        let (ka, kb) = (record_keys(a.sim.records()), record_keys(b.sim.records()));
        if let Some(i) = (0..ka.len().min(kb.len())).find(|i| ka[*i] != kb[*i]) {
            return Err(TestCaseError::fail(format!(
                "seed {seed}: runs diverge at record {i}: {:?} vs {:?}\n  topology: {}",
                ka[i], kb[i], t.describe()
            )));
        }
        prop_assert_eq!(ka.len(), kb.len(), "seed {}: record counts differ\n  topology: {}", seed, t.describe());
        let (pa, na) = pcapng(&a.sim.world, a.sim.records());
        let (pb, _) = pcapng(&b.sim.world, b.sim.records());
        prop_assert!(pa == pb, "seed {}: pcapng bytes differ ({} vs {} bytes)\n  topology: {}", seed, pa.len(), pb.len(), t.describe());
        let (names, frames) = read_pcapng(&pa[..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(frames.len(), na, "pcapng read back a different number of frames");
        // Read back, the capture is exactly the Tx/Rx records: interface, ns timestamp, bytes.
        let w = &a.sim.world;
        let captured = a.sim.records().iter().filter(|r| matches!(r.dir, Dir::Tx | Dir::Rx) && r.dev.is_some() && r.frame.is_some());
        for (i, (r, f)) in captured.zip(&frames).enumerate() {
            let dev = r.dev.map(|d| w.dev_path(d)).unwrap_or_default();
            let name = names.get(f.interface_id as usize).cloned().unwrap_or_default();
            prop_assert!(
                name == dev && f.ts_ns == r.time.as_nanos() && Some(&f.data) == r.frame.as_ref(),
                "pcapng frame {} reads back as ({}, {} ns, {} bytes) but the record is ({}, {} ns, {} bytes)\n  topology: {}",
                i, name, f.ts_ns, f.data.len(), dev, r.time.as_nanos(), r.frame.as_ref().map_or(0, Vec::len), t.describe()
            );
        }
        // A different seed must change the MACs, or this property could never fail.
        let macs = |w: &World| w.devs.iter().filter(|d| !matches!(d.kind, DevKind::Loopback)).map(|d| d.mac).collect::<Vec<_>>();
        let other = t.world(seed ^ 0x9e37_79b9_7f4a_7c15);
        prop_assert_ne!(macs(&a.sim.world), macs(&other), "a different seed gave the same MACs");
    }
}

// ----- the checkers are not vacuous ------------------------------------------------------------

/// b0 - b1 - b2 in a chain, hosts on every bridge, traffic across the whole tree.
fn fixed_topo() -> Topo {
    Topo {
        parent: vec![0, 1],
        attach: vec![0, 2, 1, 0],
        sends: vec![
            Send { src: 0, dst: 1, at_us: 0 },
            Send { src: 1, dst: 0, at_us: 10_000 },
            Send { src: 2, dst: 3, at_us: 20_000 },
            Send { src: 3, dst: 1, at_us: 30_000 },
        ],
    }
}

#[test]
fn reflection_checker_catches_a_reflected_frame() {
    let t = fixed_topo();
    let run = t.run(7);
    let w = &run.sim.world;
    let records = run.sim.records();
    let n = check_no_reflection(w, records).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 8, "expected many forwarding decisions across a 3-bridge chain, saw {n}");

    // Inject a copy of the first forwarded frame going back out its ingress port, in the
    // same event: the checker must reject it.
    let mut forged = records.to_vec();
    let (at, ingress) = records
        .iter()
        .enumerate()
        .find_map(|(i, r)| {
            let dev = r.dev?;
            (r.dir == Dir::Rx && bridge_of(w, dev).is_some()).then_some((i, dev))
        })
        .expect("some frame arrives on a bridge port");
    let tx_idx = (at + 1..records.len())
        .find(|&i| records[i].event == records[at].event && records[i].dir == Dir::Tx)
        .expect("the bridge forwards it");
    let mut reflected = records[tx_idx].clone();
    reflected.dev = Some(ingress);
    forged.insert(tx_idx + 1, reflected);
    let err = check_no_reflection(w, &forged).expect_err("a reflected frame must be caught");
    assert!(err.contains("same port"), "{err}");
}

#[test]
fn fdb_checker_catches_a_wrong_port() {
    let t = fixed_topo();
    let mut run = t.run(7);
    let n = check_fdb(&run.sim.world, &run.bridges, run.sim.records()).unwrap_or_else(|e| panic!("{e}"));
    assert!(n > 0, "no learned entries");
    // Point one learned entry of b1 (two ports at least) at another port.
    let br = run.bridges[1];
    let DevKind::Bridge(b) = &mut run.sim.world.devs[br.0 as usize].kind else { unreachable!() };
    let ports = b.ports.clone();
    let e = b.fdb.values_mut().find(|e| !e.local && !e.permanent).expect("b1 learned something");
    e.port = *ports.iter().find(|p| **p != e.port).expect("b1 has several ports");
    let err = check_fdb(&run.sim.world, &run.bridges, run.sim.records()).expect_err("a wrong port must be caught");
    assert!(err.contains("last received"), "{err}");
}
