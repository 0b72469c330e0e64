//! Linux behaviours of the stack, each in a small inline scenario, checked against the
//! kernel's documented defaults (neigh/default sysctls, RFC 792/1812 ICMP, bridge ageing).

use sim_core::kernel::trace::Dir;
use sim_core::scenario::Loaded;
use sim_core::sim::Sim;
use sim_core::{SimTime, Until};

fn sim(plan: &str, traffic: &str) -> Sim {
    let text = format!("Scenario(name: \"t\", seed: 9, plan: ({plan}), traffic: [{traffic}])");
    let l = Loaded::from_str("inline.ron", &text).unwrap_or_else(|e| panic!("{e}"));
    let mut s = l.build(None).unwrap_or_else(|e| panic!("{e}"));
    s.run_until(Until::Idle);
    s
}

const PAIR: &str = r#"
    namespaces: [(name: "a"), (name: "b")],
    links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
    addresses: [(ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "b", dev: "eth0", addr: "10.0.0.2/24")],
"#;

fn tx_on(s: &Sim, path: &str) -> Vec<(SimTime, String)> {
    s.records()
        .iter()
        .filter(|r| r.dir == Dir::Tx && r.dev.is_some_and(|d| s.world.dev_path(d) == path))
        .map(|r| (r.time, sim_core::wire::pretty::summary(r.frame.as_deref().unwrap_or_default())))
        .collect()
}

fn apps(s: &Sim) -> Vec<String> {
    s.app_output().into_iter().map(|(_, t)| t).collect()
}

#[test]
fn unanswered_arp_three_broadcasts_one_second_apart_then_host_unreachable() {
    let s = sim(PAIR, r#"Ping(at: "1s", ns: "a", dst: "10.0.0.9", count: 1)"#);
    let arps: Vec<_> = tx_on(&s, "a/eth0").into_iter().filter(|(_, l)| l.contains("who-has 10.0.0.9")).collect();
    // mcast_solicit=3, retrans_time=1 s: requests at 1, 2, 3 s; FAILED when the third times out.
    // Seen on Linux 6.18 (two netns, AF_PACKET capture): requests at +0, +1.03,
    // +2.06 s, then `ip neigh` says FAILED.
    let times: Vec<u64> = arps.iter().map(|(t, _)| t.as_nanos()).collect();
    assert_eq!(times, [1_000_000_000, 2_000_000_000, 3_000_000_000], "{arps:?}");
    assert!(arps.iter().all(|(_, l)| l.contains("> ff:ff:ff:ff:ff:ff")));
    let a = apps(&s);
    assert!(a.iter().any(|l| l == "From 10.0.0.1 icmp_seq=1 Destination Host Unreachable"), "{a:?}");
    let ns = s.world.ns_by_name("a").expect("a");
    assert_eq!(
        sim_core::kernel::show::show(&s.world, ns, sim_core::kernel::show::What::Neigh),
        // iproute2 ends the line with a blank after the state.
        "10.0.0.9 dev eth0 FAILED \n"
    );
}

#[test]
fn stale_entry_in_use_is_reprobed_by_unicast_after_delay_first_probe_time() {
    // b learns a's MAC from a's ARP request (STALE), uses it for its replies (DELAY), and
    // 5 s later sends a unicast probe (PROBE) that a answers. Seen on Linux 6.18:
    // the responder's unicast "who-has" came 5.096 s after a single ping.
    let s = sim(PAIR, r#"Ping(at: "1s", ns: "a", dst: "10.0.0.2", count: 1)"#);
    let b_arps: Vec<_> = tx_on(&s, "b/eth0").into_iter().filter(|(_, l)| l.contains("ARP, Request")).collect();
    assert_eq!(b_arps.len(), 1, "{b_arps:?}");
    let (t, line) = &b_arps[0];
    // a's queued echo request reaches b at 1.000003 s; b's reply turns STALE into DELAY.
    // Due 5 s later, it fires on the timer wheel's next 64-tick slot (256 ms at HZ=250), as the
    // kernel's did 96 ms late.
    assert_eq!(t.as_nanos(), 6_144_000_000, "{line}");
    assert!(!line.contains("ff:ff:ff:ff:ff:ff"), "a PROBE is unicast: {line}");
    let ns = s.world.ns_by_name("b").expect("b");
    let neigh = sim_core::kernel::show::show(&s.world, ns, sim_core::kernel::show::What::Neigh);
    assert!(neigh.starts_with("10.0.0.1 dev eth0 lladdr ") && neigh.trim_end().ends_with("REACHABLE"), "{neigh}");
}

const ROUTED: &str = r#"
    namespaces: [(name: "a"), (name: "r", ip_forward: true), (name: "b")],
    links: [
        Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "r"),
        Veth(name: "eth1", ns: "r", peer: "eth0", peer_ns: "b", mtu: 1400),
    ],
    addresses: [
        (ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "r", dev: "eth0", addr: "10.0.0.254/24"),
        (ns: "r", dev: "eth1", addr: "10.0.1.254/24"), (ns: "b", dev: "eth0", addr: "10.0.1.1/24"),
    ],
    routes: [(ns: "a", dst: "default", via: "10.0.0.254"), (ns: "b", dst: "default", via: "10.0.1.254")],
"#;

#[test]
fn router_decrements_ttl_and_reports_mtu_and_missing_routes() {
    let s = sim(
        ROUTED,
        r#"Ping(at: "1s", ns: "a", dst: "10.0.1.1", count: 1),
           Ping(at: "3s", ns: "a", dst: "10.0.1.1", count: 1, size: 1400),
           Ping(at: "5s", ns: "a", dst: "192.0.2.1", count: 1)"#,
    );
    let a = apps(&s);
    assert!(a.iter().any(|l| l.starts_with("64 bytes from 10.0.1.1: icmp_seq=1 ttl=63")), "{a:?}");
    // 1428-byte packet, DF set by ping (it fits the sender's 1500), egress MTU 1400: ICMP
    // frag needed (type 3 code 4), in iputils' words with the MTU.
    assert!(a.iter().any(|l| l == "From 10.0.0.254 icmp_seq=1 Frag needed and DF set (mtu = 1400)"), "{a:?}");
    let r_tx = tx_on(&s, "r/eth0");
    assert!(r_tx.iter().any(|(_, l)| l.contains("need to frag (mtu 1400)")), "{r_tx:?}");
    // No route at the router: net unreachable from the router.
    assert!(a.iter().any(|l| l == "From 10.0.0.254 icmp_seq=1 Destination Net Unreachable"), "{a:?}");
}

#[test]
fn a_routing_loop_ends_in_time_exceeded() {
    // r1 and r2 send unknown destinations to each other: the packet bounces until its TTL
    // runs out, and the router holding it when TTL reaches 1 reports ICMP time exceeded.
    let plan = r#"
        namespaces: [(name: "a"), (name: "r1", ip_forward: true), (name: "r2", ip_forward: true)],
        links: [
            Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "r1"),
            Veth(name: "eth1", ns: "r1", peer: "eth0", peer_ns: "r2"),
        ],
        addresses: [
            (ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "r1", dev: "eth0", addr: "10.0.0.254/24"),
            (ns: "r1", dev: "eth1", addr: "10.0.9.1/24"), (ns: "r2", dev: "eth0", addr: "10.0.9.2/24"),
        ],
        routes: [
            (ns: "a", dst: "default", via: "10.0.0.254"),
            (ns: "r1", dst: "default", via: "10.0.9.2"),
            (ns: "r2", dst: "default", via: "10.0.9.1"),
        ],
    "#;
    let s = sim(plan, r#"Ping(at: "1s", ns: "a", dst: "192.0.2.1", count: 1)"#);
    let a = apps(&s);
    // r1 receives TTLs 64, 62, …, 2 and r2 receives 63, …, 1: r2 drops it and answers from
    // the address routing picks toward a (its eth0, 10.0.9.2; icmp_errors_use_inbound_ifaddr=0).
    assert!(a.iter().any(|l| l == "From 10.0.9.2 icmp_seq=1 Time to live exceeded"), "{a:?}");
    let crossings = tx_on(&s, "r1/eth1").iter().filter(|(_, l)| l.contains("192.0.2.1: ICMP echo request")).count();
    assert_eq!(crossings, 32, "r1 forwarded the echo request with TTL 64, 62, …, 2");
}

#[test]
fn bridge_fdb_entries_age_out_after_300_seconds() {
    let plan = r#"
        namespaces: [(name: "h"), (name: "a"), (name: "b")],
        links: [
            Bridge(name: "br0", ns: "h"),
            Veth(name: "eth0", ns: "a", peer: "va", peer_ns: "h", peer_master: "br0"),
            Veth(name: "eth0", ns: "b", peer: "vb", peer_ns: "h", peer_master: "br0"),
        ],
        addresses: [(ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "b", dev: "eth0", addr: "10.0.0.2/24")],
    "#;
    let text = format!(
        "Scenario(name: \"t\", plan: ({plan}), traffic: [Ping(at: \"1s\", ns: \"a\", dst: \"10.0.0.2\", count: 1)])"
    );
    let mut s = Loaded::from_str("inline.ron", &text).expect("load").build(None).expect("build");
    s.run_until(Until::Time(SimTime::from_secs(290)));
    let h = s.world.ns_by_name("h").expect("h");
    let learned = |s: &Sim| {
        sim_core::kernel::show::show(&s.world, h, sim_core::kernel::show::What::Fdb)
            .lines()
            .filter(|l| !l.contains("permanent"))
            .count()
    };
    // a's and b's MACs, learned around 1 s (and refreshed by the unicast probe at ~6 s).
    assert_eq!(learned(&s), 2);
    s.run_until(Until::Time(SimTime::from_secs(310)));
    assert_eq!(learned(&s), 0, "ageing_time 300 s");
}

#[test]
fn redirect_in_output_keeps_the_connection_across_loopback() {
    // `iptables -t nat -A OUTPUT -p tcp --dport 80 -j REDIRECT --to-ports 8080`, as Docker's
    // DOCKER_OUTPUT chain does for the embedded DNS: the packet loops back through lo with
    // its conntrack entry, and the reply is translated back to the address the client used.
    let plan = r#"
        namespaces: [(name: "a")],
        links: [Bridge(name: "br0", ns: "a")],
        addresses: [(ns: "a", dev: "br0", addr: "10.0.0.1/24")],
        routes: [(ns: "a", dst: "default", dev: "br0")],
        iptables: [
            (ns: "a", table: "nat", rule: "-A OUTPUT -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080"),
            (ns: "a", table: "filter", rule: "-A INPUT -m conntrack --ctstate INVALID -j DROP"),
        ],
    "#;
    let s = sim(
        plan,
        r#"TcpListen(ns: "a", port: 8080, reply: "redirected", close_after_reply: true),
           TcpConnect(at: "1s", ns: "a", dst: "203.0.113.5", dport: 80, send: "hi")"#,
    );
    let a = apps(&s);
    assert!(a.iter().any(|l| l.ends_with("→ 203.0.113.5:80: connected")), "{a:?}");
    assert!(a.iter().any(|l| l.contains("received 10 bytes from 203.0.113.5:80: \"redirected\"")), "{a:?}");
}
