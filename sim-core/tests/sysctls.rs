//! The `net.ipv4.conf` knobs a plan may set, and the errors for those it may not: each
//! knob's range as ip-sysctl.rst gives it, `all` besides a device, `default` not modelled.
//! What the knobs do is held to the kernel's captures `traces/kernel/linux/arp-sysctls` and
//! `rp-filter` (`cli/tests/traces.rs`).

use sim_core::scenario::Loaded;

fn build(sysctl: &str) -> Result<(), String> {
    let text = format!(
        r#"Scenario(
    name: "sysctls",
    plan: (
        namespaces: [(name: "a"), (name: "b")],
        links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
        sysctls: [{sysctl}],
    ),
)"#
    );
    let loaded = Loaded::from_str("sysctls.ron", &text).map_err(|e| e.to_string())?;
    loaded.build(None).map(|_| ()).map_err(|e| format!("{e}"))
}

#[test]
fn knobs_are_taken_in_their_ranges_and_others_refused_by_name() {
    for ok in [
        r#"(ns: "a", key: "net.ipv4.conf.all.arp_ignore", value: "8")"#,
        r#"(ns: "a", key: "net.ipv4.conf.eth0.arp_announce", value: "2")"#,
        r#"(ns: "a", key: "net.ipv4.conf.eth0.rp_filter", value: "1")"#,
        r#"(ns: "a", key: "net.ipv4.conf.all.proxy_arp", value: "1")"#,
        r#"(ns: "a", key: "net.ipv4.conf.eth0.arp_filter", value: "1")"#,
        r#"(ns: "a", key: "net.ipv4.conf.eth0.route_localnet", value: "1")"#,
    ] {
        assert_eq!(build(ok), Ok(()), "{ok}");
    }
    for (bad, says) in [
        (r#"(ns: "a", key: "net.ipv4.conf.eth0.rp_filter", value: "3")"#, "is not a number from 0 to 2"),
        (r#"(ns: "a", key: "net.ipv4.conf.eth0.arp_ignore", value: "yes")"#, "is not a number from 0 to 8"),
        (r#"(ns: "a", key: "net.ipv4.conf.all.arp_filter", value: "2")"#, "is not a number from 0 to 1"),
        (r#"(ns: "a", key: "net.ipv4.conf.default.rp_filter", value: "1")"#, "not modelled"),
        (r#"(ns: "a", key: "net.ipv4.conf.all.route_localnet", value: "1")"#, "not modelled"),
        (r#"(ns: "a", key: "net.ipv4.conf.eth0.accept_local", value: "1")"#, "not modelled"),
        (r#"(ns: "a", key: "net.ipv4.conf.eth9.rp_filter", value: "1")"#, "no device `eth9` in `a`"),
    ] {
        let e = build(bad).expect_err(bad);
        assert!(e.contains(says), "{bad}: {e}");
    }
}
