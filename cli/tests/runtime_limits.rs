//! Runs that reach a limit end as Linux ends them, with the words a user would see there,
//! never as a panic or a loop: names DNS cannot carry, a loop with no delay in it.

mod common;

use common::{netsim, scratch};

/// glibc refuses a label over 63 octets or a name over 255 before it sends a query, and
/// getaddrinfo(3) says "Name or service not known" (checked on Linux: `ping` of such a name in
/// a namespace with no network at all answers that, not "Temporary failure in name
/// resolution"; see docs/linux-model.md, *Names the resolver refuses*).
#[test]
fn names_dns_cannot_carry_are_refused_before_any_query() {
    let label = "a".repeat(70);
    let long = format!("{}x", "abc.".repeat(80));
    let lab = scratch("long-names.ron");
    std::fs::write(
        &lab,
        format!(
            r#"Scenario(
    name: "names too long for DNS",
    seed: 3,
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create appnet"),
        (on: "host1", run: "docker run -d --name web --network appnet nginx"),
        (on: "host1", run: "docker run -dit --name client --network appnet alpine"),
        (on: "host1", run: "docker exec client nslookup {label}"),
        (on: "host1", run: "docker exec client ping -c 1 {long}"),
        (on: "host1", run: "docker exec client wget http://{label}/"),
        (on: "host1", run: "docker exec client nslookup web"),
    ],
)
"#
        ),
    )
    .expect("write");
    let out = netsim(&["run", lab.to_str().expect("utf8")]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{log}", String::from_utf8_lossy(&out.stderr));
    // alpine's nslookup is busybox's: its write of the query res_mkquery refused fails
    // (traces/docker/busybox-nslookup/record.txt).
    assert!(log.contains("nslookup: write to '127.0.0.11': Message too long"), "{log}");
    // alpine's ping is busybox's: `bad address` whatever the resolver said.
    assert!(log.contains(&format!("ping: bad address '{long}'")), "{log}");
    assert!(log.contains(&format!("wget: bad address '{label}'")), "{log}");
    // No query left for the long names; the short one after them is still answered.
    assert!(!log.contains(&format!("A? {label}")) && !log.contains("A? abc.abc"), "{log}");
    assert!(log.contains("A? web."), "{log}");
}

/// Two bridges joined by two veth pairs that take no time to cross (`delay: "0s"`) pass one
/// ARP broadcast round the loop forever at one instant (there is no STP): the run is stopped
/// with a clear error (and `--until` would never have been reached), the pcapng is whole.
#[test]
fn a_loop_that_cannot_advance_time_is_stopped_and_reported() {
    let lab = scratch("bridge-loop.ron");
    std::fs::write(
        &lab,
        r#"Scenario(
    name: "a bridge loop without delay",
    seed: 1,
    plan: (
        namespaces: [(name: "sw"), (name: "h")],
        links: [
            Bridge(name: "br0", ns: "sw"),
            Bridge(name: "br1", ns: "sw"),
            Veth(name: "a0", ns: "sw", master: "br0", peer: "b0", peer_ns: "sw", peer_master: "br1", delay: "0s"),
            Veth(name: "a1", ns: "sw", master: "br0", peer: "b1", peer_ns: "sw", peer_master: "br1", delay: "0s"),
            Veth(name: "eth0", ns: "h", peer: "hp", peer_ns: "sw", peer_master: "br0", delay: "0s"),
        ],
        addresses: [(ns: "h", dev: "eth0", addr: "10.0.0.1/24")],
    ),
    traffic: [Ping(at: "1s", ns: "h", dst: "10.0.0.2", count: 1)],
)
"#,
    )
    .expect("write");
    let pcap = scratch("bridge-loop.pcapng");
    let out = netsim(&[
        "run",
        lab.to_str().expect("utf8"),
        "--quiet",
        "--until",
        "10s",
        "--pcap",
        pcap.to_str().expect("utf8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the run cannot advance: 100000 events in a row at t=1"), "{err}");
    assert!(err.contains("were in sw, h"), "{err}");
    let bytes = std::fs::read(&pcap).expect("pcapng written");
    let (_, frames) = sim_core::capture::read_pcapng(&bytes[..]).expect("the capture parses to its end");
    assert!(frames.len() > 1000, "{} frames", frames.len());
}

/// `ping -c` in a step gets the same cap as a scenario's traffic item: an error at the step's
/// line, not a run that never ends.
#[test]
fn a_ping_count_past_the_cap_fails_its_step_and_is_located() {
    let lab = scratch("huge-count.ron");
    std::fs::write(
        &lab,
        r#"Scenario(
    name: "huge count",
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker run -dit --name box alpine"),
        (on: "host1", run: "docker exec box ping -c 4294967295 172.17.0.1"),
    ],
)
"#,
    )
    .expect("write");
    let out = netsim(&["run", lab.to_str().expect("utf8"), "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // miette wraps long messages; read them as one line.
    let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    // The step fails as the simulator's own refusal; the lab goes on, and the loader says
    // where.
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(exit status 127)"));
    assert!(
        flat.contains("ping -c 4294967295: the simulator sends at most 100000 echo requests for one command"),
        "{err}"
    );
    assert!(err.contains("huge-count.ron:6:45:"), "{err}");
}
