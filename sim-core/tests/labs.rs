//! The shipped Linux labs, run to the end, with what a student should see asserted from the
//! applications' point of view (ping output, bytes received, errors) and from the wire.

use sim_core::Until;
use sim_core::kernel::trace::Dir;
use sim_core::scenario::Loaded;
use sim_core::sim::Sim;

fn run(name: &str) -> Sim {
    let path = format!("{}/../scenarios/linux/{name}.ron", env!("CARGO_MANIFEST_DIR"));
    let l = Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = l.build(None).unwrap_or_else(|e| panic!("{e}"));
    sim.run_until(Until::Idle);
    sim
}

/// Application lines as `ns: text`.
fn app_lines(sim: &Sim) -> Vec<String> {
    sim.app_output().into_iter().map(|(ns, t)| format!("{ns}: {t}")).collect()
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[test]
fn bridge_lab() {
    let sim = run("bridge-two-namespaces");
    let a = app_lines(&sim);
    assert!(has(&a, "ns1: 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64"), "{a:#?}");
    assert!(has(&a, "ns1: --- 10.0.0.2 ping statistics ---"), "{a:#?}");
    assert!(has(&a, "ns1: 2 packets transmitted, 2 received, 0% packet loss, time 1000ms"), "{a:#?}");
    assert!(has(&a, "ns2: udp :9999 received 21 bytes from 10.0.0.1"), "{a:#?}");
    assert!(has(&a, "Destination Port Unreachable"), "{a:#?}");
    assert!(has(&a, "ns1: tcp 10.0.0.1:") && has(&a, "received 41 bytes from 10.0.0.2:80"), "{a:#?}");
    assert!(has(&a, "10.0.0.2:81: Connection refused"), "{a:#?}");
    // The first ARP request is the only frame flooded to veth2 before learning.
    let first_on_veth2 =
        sim.records().iter().find(|r| r.dir == Dir::Tx && r.dev.is_some_and(|d| sim.world.dev_path(d) == "host/veth2"));
    let f = first_on_veth2.and_then(|r| r.frame.as_ref()).expect("a frame on veth2");
    assert_eq!(sim_core::wire::ethertype(f), 0x0806);
    assert!(sim_core::wire::eth_dst(f).is_broadcast());
}

#[test]
fn vxlan_lab() {
    let sim = run("vxlan-two-hosts");
    let a = app_lines(&sim);
    assert!(has(&a, "c1: 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64"), "same L2 segment: TTL unchanged: {a:#?}");
    assert!(has(&a, "c2: tcp 10.0.0.2:8080 received 13 bytes from 10.0.0.1"), "{a:#?}");
    assert!(
        has(&a, "c1: tcp 10.0.0.1:") && has(&a, "received 13 bytes from 10.0.0.2:8080: \"pong from c2\\n\""),
        "{a:#?}"
    );
    // vxlan0 learned the remote MACs from the inner source addresses.
    let h1 = sim.world.ns_by_name("host1").expect("host1");
    let fdb = sim_core::kernel::show::show(&sim.world, h1, sim_core::kernel::show::What::Fdb);
    assert!(fdb.lines().any(|l| l.contains("dev vxlan0 dst 192.168.0.2 self") && !l.contains("permanent")), "{fdb}");
    // Every frame on the underlay is ARP for the VTEP or VXLAN to UDP 4789.
    for r in sim
        .records()
        .iter()
        .filter(|r| r.dir == Dir::Tx && r.dev.is_some_and(|d| sim.world.dev_path(d) == "host1/eth0"))
    {
        let f = r.frame.as_ref().expect("frame");
        let s = sim_core::wire::pretty::summary(f);
        assert!(s.contains("ARP, Re") || s.contains(".4789: VXLAN"), "{s}");
    }
}

#[test]
fn router_nat_lab() {
    let sim = run("router-nat");
    let a = app_lines(&sim);
    assert!(has(&a, "lan1: 64 bytes from 203.0.113.10: icmp_seq=1 ttl=63"), "one router hop: {a:#?}");
    // MASQUERADE: the server sees the router's address; conntrack brings the answer home.
    assert!(has(&a, "server: tcp 203.0.113.10:80 received 18 bytes from 203.0.113.1:"), "{a:#?}");
    assert!(has(&a, "hello, NATed client"), "{a:#?}");
    // DNAT: router:8080 reaches lan1:80, with the client's real address; the answer comes
    // back from router:8080.
    assert!(has(&a, "lan1: tcp 192.168.1.2:80 received 18 bytes from 203.0.113.10:"), "{a:#?}");
    assert!(has(&a, "server: tcp 203.0.113.10:") && has(&a, "received 46 bytes from 203.0.113.1:8080"), "{a:#?}");
    // FORWARD policy DROP stops unsolicited traffic to the LAN.
    assert!(has(&a, "server: 1 packets transmitted, 0 received, 100% packet loss"), "{a:#?}");
    // ARP failure at the router comes back as host unreachable, un-NATed to lan1.
    assert!(has(&a, "lan1: From 203.0.113.1 icmp_seq=1 Destination Host Unreachable"), "{a:#?}");
    let r = sim.world.ns_by_name("router").expect("router");
    let save = sim_core::kernel::show::show(&sim.world, r, sim_core::kernel::show::What::Iptables);
    // The policy counts the dropped ping (a lab's `Counter` check reads it); iptables-save
    // prints 0 as iptables-nft does, whose base chains carry no counter.
    let nf = &sim.world.netns(r).nf;
    assert_eq!(nf.policy_counters(sim_core::kernel::netfilter::Table::Filter, "FORWARD"), Some((1, 84)));
    assert!(save.contains(":FORWARD DROP [0:0]"), "{save}");
}

#[test]
fn macvlan_lab() {
    let sim = run("macvlan-vlan");
    let a = app_lines(&sim);
    assert!(has(&a, "c1: 64 bytes from 192.168.10.12"), "siblings in bridge mode: {a:#?}");
    assert!(has(&a, "c1: 64 bytes from 192.168.10.2"), "child to another host: {a:#?}");
    assert!(has(&a, "c3: 64 bytes from 10.10.0.2"), "macvlan on an 802.1Q parent: {a:#?}");
    assert!(
        has(&a, "host1: From 192.168.10.1 icmp_seq=1 Destination Host Unreachable"),
        "parent cannot reach its child: {a:#?}"
    );
    // Sibling traffic never touches the wire: no ICMP between c1 and c2 on host1/eth0.
    for r in sim.records().iter().filter(|r| r.dev.is_some_and(|d| sim.world.dev_path(d) == "host1/eth0")) {
        if let Some(f) = &r.frame {
            let s = sim_core::wire::pretty::summary(f);
            assert!(!(s.contains("192.168.10.11 > 192.168.10.12") && s.contains("ICMP")), "{s}");
        }
    }
    // VLAN 10 frames carry the tag on the shared wire.
    assert!(sim.records().iter().any(|r| r.dev.is_some_and(|d| sim.world.dev_path(d) == "lan/port2")
        && r.frame.as_ref().is_some_and(|f| sim_core::wire::ethertype(f) == 0x8100)));
}

#[test]
fn printed_plans_load_back_unchanged() {
    // `netsim plan` prints what a student reads and what the netns backend will load.
    let dir = format!("{}/../scenarios/linux", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios/linux") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let plan = Loaded::from_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario.plan;
        let text = ron::ser::to_string_pretty(&plan, ron::ser::PrettyConfig::new().struct_names(true)).expect("print");
        let opts = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let back: sim_core::plan::Plan =
            opts.from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert_eq!(back, plan, "{}", path.display());
        n += 1;
    }
    assert!(n >= 5);
}

/// Every frame a shipped lab sends or drops is explained, and by its own decisions: an ARP
/// request by the neighbour resolution, not by the NAT rules of the packet waiting for it; a
/// TCP segment by its connection, not by a program's line about another packet sent in the
/// same event. What a frame is comes from its bytes (etherparse), not from the simulator.
#[test]
fn every_hop_of_every_lab_has_reasons_of_its_own() {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use sim_core::kernel::trace::Why;
    let root = format!("{}/../scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = vec![format!("{root}/swarm-webapp-mysql.ron").into()];
    for dir in ["linux", "docker"] {
        for e in std::fs::read_dir(format!("{root}/{dir}")).expect("scenarios") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "ron") {
                files.push(p);
            }
        }
    }
    files.sort();
    // The lab kept beside its kernel capture: REJECT's RSTs and ICMP errors start chains of their own.
    files.push(format!("{}/../traces/kernel/linux/reject.ron", env!("CARGO_MANIFEST_DIR")).into());
    let mut hops = 0;
    for path in &files {
        let l = Loaded::from_file(path).unwrap_or_else(|e| panic!("{e}"));
        let mut sim = l.build(None).unwrap_or_else(|e| panic!("{e}"));
        sim.run_until(Until::Idle);
        for r in sim.records().iter().filter(|r| matches!(r.dir, Dir::Tx | Dir::Drop)) {
            hops += 1;
            let at = format!("{}: event {} {:?}", path.display(), r.event.0, r.dir);
            assert!(!r.why.is_empty(), "{at}: a hop without a reason");
            let Some(frame) = r.frame.as_deref() else { continue };
            if frame.get(12..14) == Some(&[0x08, 0x06]) {
                let netfilter = r.why.iter().any(|w| matches!(w, Why::Netfilter { .. } | Why::Ipvs(_)));
                assert!(!netfilter, "{at}: an ARP frame explained by netfilter or IPVS: {:?}", r.why);
            }
            let Ok(p) = SlicedPacket::from_ethernet(frame) else { continue };
            if let (Some(NetSlice::Ipv4(_)), Some(TransportSlice::Tcp(_))) = (&p.net, &p.transport) {
                let apps: Vec<&Why> = r.why.iter().filter(|w| matches!(w, Why::App(_))).collect();
                assert!(apps.is_empty(), "{at}: a TCP segment explained by a program's line: {apps:?}");
            }
        }
    }
    assert!(hops > 1000, "{hops} hops in {} labs", files.len());
}

/// An event's number is its place in the run: the n-th event to run is #n, every record it
/// leaves says so, and a cause is always an event that ran before. The GUI's timeline counts
/// events run (`Sim::events_run`), so `--at n`, the top bar, the inspector, the hop log and the
/// capture's comments all mean the same event.
#[test]
fn events_are_numbered_in_the_order_they_run() {
    let path = format!("{}/../scenarios/swarm-webapp-mysql.ron", env!("CARGO_MANIFEST_DIR"));
    let l = Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = l.build(None).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    while let Some(o) = sim.step() {
        n += 1;
        assert_eq!((o.id.0, sim.events_run), (n, n));
        assert!(o.cause.is_none_or(|c| c.0 < n), "event {n} caused by {:?}", o.cause);
        let recs = &sim.records()[o.records.clone()];
        assert!(recs.iter().all(|r| r.event.0 == n && r.cause == o.cause), "records of event {n}");
    }
    assert!(n > 300, "{n} events");
}
