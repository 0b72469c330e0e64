//! `netsim check`: a lab graded by its `expect` checks. The tutorial passes every check; a
//! copy with MySQL on another overlay fails the checks that need the row, by name; the frame
//! check agrees with tshark's reading of the lab's own capture; an exercise is graded on the
//! student's commands. tshark is required: these tests fail (not skip) without it.

mod common;

use std::path::{Path, PathBuf};

use common::{fields, netsim, root, scratch};

const TUTORIAL: &str = "scenarios/swarm-webapp-mysql.ron";

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The tutorial with MySQL created on an overlay of its own: the webapp cannot resolve or
/// reach it, so the INSERT never happens. Step numbers stay as they were.
fn broken_tutorial() -> PathBuf {
    let src = std::fs::read_to_string(root().join(TUTORIAL)).expect("tutorial");
    let mysql = "docker service create --name mysql -d --network myoverlaynetwork -p 3306:3306 hshar/mysql:5.5";
    assert!(src.contains(mysql) && src.contains("run: \"docker service ls\""));
    let broken = src.replace(mysql, "docker network create -d overlay othernet").replace(
        "run: \"docker service ls\"",
        "run: \"docker service create --name mysql -d --network othernet -p 3306:3306 hshar/mysql:5.5\"",
    );
    let p = scratch("broken-tutorial.ron");
    std::fs::write(&p, broken).expect("write");
    p
}

/// The lines of a report: (PASS or FAIL, the check's name).
fn verdicts(report: &str) -> Vec<(String, String)> {
    report
        .lines()
        .filter_map(|l| {
            let (mark, rest) = l.split_once(' ')?;
            if mark != "PASS" && mark != "FAIL" {
                return None;
            }
            let (_points, name) = rest.split_once(' ')?;
            let name = name.split(" (after step").next().unwrap_or(name);
            Some((mark.to_string(), name.to_string()))
        })
        .collect()
}

#[test]
fn the_tutorial_passes_every_check() {
    let out = netsim(&["check", TUTORIAL]);
    let report = text(&out);
    assert!(out.status.success(), "netsim check failed:\n{report}{}", String::from_utf8_lossy(&out.stderr));
    let v = verdicts(&report);
    assert!(v.len() >= 8, "at least 8 checks, got {}:\n{report}", v.len());
    assert!(v.iter().all(|(m, _)| m == "PASS"), "{report}");
    let last = report.lines().last().unwrap_or_default();
    assert_eq!(last, format!("{} passed, 0 failed; score 17/17", v.len()));
    // Evidence names what satisfied each check: the row, the VIP, the VXLAN frame.
    assert!(report.contains("| Docker      | DK101     |"), "{report}");
    assert!(report.contains("nslookup mysql in node1:webapp1"), "{report}");
    assert!(report.contains("vni 4097"), "{report}");
}

#[test]
fn a_broken_tutorial_fails_the_checks_that_need_the_row() {
    let broken = broken_tutorial();
    let out = netsim(&["check", broken.to_str().expect("utf8")]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "a failing check exits 1:\n{report}");
    let v = verdicts(&report);
    let failed: Vec<&str> = v.iter().filter(|(m, _)| m == "FAIL").map(|(_, n)| n.as_str()).collect();
    for name in [
        "from the webapp, `mysql` resolves to the service's VIP",
        "the webapp reaches mysql:3306 across the nodes",
        "the INSERT crosses the underlay inside VXLAN 4097",
        "the form's POST is answered: record created",
        "the SELECT returns the row",
    ] {
        assert!(failed.contains(&name), "`{name}` should fail:\n{report}");
    }
    // What still holds is still passed: the swarm and the overlay were made as before.
    for name in ["the swarm has two nodes", "myoverlaynetwork is 10.0.1.0/24", "myoverlaynetwork is VXLAN ID 4097"] {
        assert!(v.iter().any(|(m, n)| m == "PASS" && n == name), "`{name}` should pass:\n{report}");
    }
    assert!(report.contains("hint: the embedded DNS (127.0.0.11) answers a service name with its VIP"), "{report}");
    assert!(report.contains("nslookup mysql in node1:webapp1") && report.contains("can't find mysql"), "{report}");
    assert!(report.lines().last().unwrap_or_default().contains(&format!("{} failed", failed.len())));
}

/// The frame check and tshark read the same capture the same way: a VXLAN frame with VNI
/// 4097 carrying the INSERT left node1's eth0 in the tutorial, and none did in the broken copy.
#[test]
fn the_frame_check_agrees_with_tshark() {
    let filter = "frame.interface_name == \"node1/eth0\" && vxlan.vni == 4097 && mysql.query contains \"INSERT\"";
    for (lab, expect_pass) in [(root().join(TUTORIAL), true), (broken_tutorial(), false)] {
        let stem = lab.file_stem().expect("stem").to_string_lossy().into_owned();
        let pcap = scratch(&format!("{stem}-check.pcapng"));
        let run = netsim(&["run", lab.to_str().expect("utf8"), "-q", "--pcap", pcap.to_str().expect("utf8")]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let frames = fields(&pcap, filter, &["frame.number"]);
        assert_eq!(!frames.is_empty(), expect_pass, "tshark on {}: {frames:?}", lab.display());
        let out = netsim(&["check", lab.to_str().expect("utf8"), "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
        let v = json["report"]["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|v| v["name"] == "the INSERT crosses the underlay inside VXLAN 4097")
            .expect("the frame check")
            .clone();
        assert_eq!(v["passed"], expect_pass, "{v}");
        if expect_pass {
            assert!(v["event"].as_u64().is_some(), "a passed frame check names its event: {v}");
        }
    }
}

#[test]
fn json_reports_every_check_with_the_totals() {
    let out = netsim(&["check", TUTORIAL, "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = &json["report"];
    let n = r["verdicts"].as_array().expect("verdicts").len();
    assert_eq!(r["passed"], n);
    assert_eq!(r["failed"], 0);
    assert_eq!(r["score"], r["total"]);
    assert_eq!(json["lab"], "swarm: webapp and MySQL on an overlay");
    for v in r["verdicts"].as_array().expect("verdicts") {
        assert!(v["name"].is_string() && v["points"].is_u64() && v["evidence"].is_string(), "{v}");
    }
    let broken = broken_tutorial();
    let out = netsim(&["check", broken.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON of a failing lab");
    assert!(json["report"]["failed"].as_u64().is_some_and(|f| f >= 4));
}

/// A user-bridge exercise: the student must put two containers on one network so that they
/// reach each other by name.
const EXERCISE: &str = r#"Scenario(
    name: "exercise: names on a user bridge",
    seed: 7,
    hosts: [(name: "host1", addr: "192.168.50.10/24")],
    exercise: true,
    steps: [
        (on: "host1", run: "docker network create appnet"),
        (on: "host1", run: "docker run -d --name web --network appnet nginx"),
        (on: "host1", run: "docker run -dit --name client --network appnet alpine"),
    ],
    expect: [
        (name: "client resolves web", hint: "names resolve on user-defined networks only",
         check: Resolve(on: "host1", container: "client", name: "web", answer: "172.18.0.2")),
        (name: "client reaches web:80", points: 2, check: Reach(on: "host1", container: "client", to: "web", port: 80)),
    ],
)"#;

fn exercise() -> PathBuf {
    let p = scratch("exercise.ron");
    std::fs::write(&p, EXERCISE).expect("write");
    p
}

fn check_with(lab: &Path, commands: &str, name: &str) -> std::process::Output {
    let c = scratch(name);
    std::fs::write(&c, commands).expect("write");
    netsim(&["check", lab.to_str().expect("utf8"), "--commands", c.to_str().expect("utf8")])
}

#[test]
fn an_exercise_is_graded_on_the_students_commands() {
    let lab = exercise();
    let good = "# my solution\nhost1$ docker network create appnet\nhost1$ docker run -d --name web --network appnet nginx\n\
                host1$ docker run -dit --name client --network appnet alpine\n";
    let out = check_with(&lab, good, "good.txt");
    assert!(out.status.success(), "{}{}", text(&out), String::from_utf8_lossy(&out.stderr));
    assert!(text(&out).ends_with("2 passed, 0 failed; score 3/3\n"), "{}", text(&out));
    // On the default bridge there is no embedded DNS: the name does not resolve.
    let wrong = "host1$ docker run -d --name web nginx\nhost1$ docker run -dit --name client alpine\n";
    let out = check_with(&lab, wrong, "wrong.txt");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = verdicts(&text(&out));
    assert_eq!(v, [("FAIL".into(), "client resolves web".into()), ("FAIL".into(), "client reaches web:80".into())]);
    assert!(text(&out).contains("hint: names resolve on user-defined networks only"));
    // Without the exercise's commands nothing is built.
    let out = check_with(&lab, "", "empty.txt");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("Error response from daemon: No such container: client"), "{}", text(&out));
}

#[test]
fn a_commands_file_with_an_unknown_host_is_refused_at_its_line() {
    let src = std::fs::read_to_string(root().join(TUTORIAL)).expect("tutorial");
    let lab = scratch("tutorial-copy.ron");
    std::fs::write(&lab, src).expect("write");
    let out = check_with(&lab, "node1$ docker node ls\n\n  node3$ docker ps\n", "node3.txt");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("node3.txt:3:3: no host `node3` in this lab"), "{err}");
    assert!(err.contains("hosts: node1, node2"), "{err}");
}

#[test]
fn checks_that_name_what_the_lab_lacks_are_errors_at_their_place() {
    let lab = scratch("bad-checks.ron");
    let bad = EXERCISE
        .replace("check: Resolve(on: \"host1\"", "after: 9, check: Resolve(on: \"host9\"")
        .replace("answer: \"172.18.0.2\"", "answer: \"web.local\"");
    std::fs::write(&lab, bad).expect("write");
    let out = netsim(&["check", lab.to_str().expect("utf8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    // All three, each at its own line and column.
    // (miette wraps long messages: the start of each is matched.)
    assert!(err.contains("bad-checks.ron:13:17: after: 9: the file has 3"), "{err}");
    assert!(err.contains("bad-checks.ron:13:39: `container` needs a"), "{err}");
    assert!(err.contains("bad-checks.ron:13:90: answer `web.local`: give"), "{err}");
    let none = netsim(&["check", "scenarios/linux/router-nat.ron.missing"]);
    assert_eq!(none.status.code(), Some(1));
}

/// Every shipped lab that has checks passes them as written (the exercise's hidden steps are
/// its solution), and says what it teaches.
#[test]
fn every_shipped_lab_passes_its_own_checks() {
    let mut graded = 0;
    for dir in ["", "docker", "linux"] {
        let labs: Vec<PathBuf> = match dir {
            "" => vec![root().join(TUTORIAL)],
            d => common::scenarios_in(d, 5),
        };
        for lab in labs {
            let src = std::fs::read_to_string(&lab).expect("read");
            if !src.contains("expect: [") {
                continue;
            }
            assert!(src.contains("lesson: ("), "{} has checks but no lesson", lab.display());
            let out = netsim(&["check", lab.to_str().expect("utf8")]);
            assert!(out.status.success(), "{}:\n{}{}", lab.display(), text(&out), String::from_utf8_lossy(&out.stderr));
            graded += 1;
        }
    }
    assert!(graded >= 2, "the tutorial and the exercise at least: {graded}");
}

/// The shipped exercise graded on a student's commands: half a solution gets the points of
/// what it did.
#[test]
fn the_shipped_exercise_grades_half_a_solution_by_what_it_did() {
    let lab = root().join("scenarios/docker/exercise-names.ron");
    let half = "host1$ docker network create appnet\nhost1$ docker network connect appnet web\n";
    let out = check_with(&lab, half, "half.txt");
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out);
    assert!(report.ends_with("1 passed, 3 failed; score 1/6\n"), "{report}");
    let full = format!("{half}host1$ docker network connect appnet client\n");
    let out = check_with(&lab, &full, "full.txt");
    assert!(out.status.success(), "{}", text(&out));
}

/// A frame check's count is tshark's count of the same frames in the lab's capture: two echo
/// requests leave ns1, one UDP datagram reaches port 9999, none reaches port 7.
#[test]
fn frame_counts_are_tsharks() {
    // The plan of scenarios/linux/bridge-two-namespaces.ron, with checks of its own.
    let lab = r#"Scenario(
    name: "bridge, graded",
    seed: 1,
    plan: (
        namespaces: [(name: "host"), (name: "ns1"), (name: "ns2")],
        links: [
            Bridge(name: "br0", ns: "host"),
            Veth(name: "eth0", ns: "ns1", peer: "veth1", peer_ns: "host", peer_master: "br0"),
            Veth(name: "eth0", ns: "ns2", peer: "veth2", peer_ns: "host", peer_master: "br0"),
        ],
        addresses: [
            (ns: "host", dev: "br0", addr: "10.0.0.254/24"),
            (ns: "ns1", dev: "eth0", addr: "10.0.0.1/24"),
            (ns: "ns2", dev: "eth0", addr: "10.0.0.2/24"),
        ],
    ),
    traffic: [
        Ping(at: "1s", ns: "ns1", dst: "10.0.0.2", count: 2),
        UdpListen(ns: "ns2", port: 9999, echo: true),
        UdpSend(at: "6s", ns: "ns1", dst: "10.0.0.2", dport: 9999, payload: "hello over the bridge"),
    ],
    expect: [
        (name: "two echo requests", check: Frame(on: "ns1/eth0", proto: "icmp", dst: "10.0.0.2", count: 2)),
        (name: "three echo requests", check: Frame(on: "ns1/eth0", proto: "icmp", dst: "10.0.0.2", count: 3)),
        (name: "one datagram to 9999", check: Frame(on: "host/veth2", proto: "udp", dport: 9999, count: 1)),
        (name: "nothing to port 7", check: Frame(on: "ns1", dport: 7, seen: false)),
        (name: "the reply says hello", check: Frame(on: "ns2/eth0", sport: 9999, contains: "hello over the bridge")),
    ],
)"#;
    let graded = scratch("bridge-graded.ron");
    std::fs::write(&graded, lab).expect("write");
    let pcap = scratch("bridge-graded.pcapng");
    let run = netsim(&["run", graded.to_str().expect("utf8"), "-q", "--pcap", pcap.to_str().expect("utf8")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let tshark_count = |filter: &str| fields(&pcap, filter, &["frame.number"]).len();
    let requests = tshark_count("frame.interface_name == \"ns1/eth0\" && icmp.type == 8 && ip.dst == 10.0.0.2");
    let datagrams = tshark_count("frame.interface_name == \"host/veth2\" && udp.dstport == 9999");
    assert_eq!((requests, datagrams), (2, 1), "tshark's counts");
    assert_eq!(tshark_count("frame.interface_name == \"ns1/eth0\" && (udp.dstport == 7 || tcp.dstport == 7)"), 0);
    let out = netsim(&["check", graded.to_str().expect("utf8"), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let passed: Vec<bool> =
        json["report"]["verdicts"].as_array().expect("verdicts").iter().map(|v| v["passed"] == true).collect();
    assert_eq!(passed, [true, false, true, true, true], "{json:#}");
}

/// What a check must not be fooled by: another program's lines in the probing namespace (a
/// ping to another host that answers), a word inside a longer one, a device that does not
/// exist for a frame never seen.
#[test]
fn checks_see_only_their_own_probe_and_whole_words() {
    let lab = r#"Scenario(
    name: "bridge, probes",
    seed: 1,
    plan: (
        namespaces: [(name: "host"), (name: "ns1"), (name: "ns2")],
        links: [
            Bridge(name: "br0", ns: "host"),
            Veth(name: "eth0", ns: "ns1", peer: "veth1", peer_ns: "host", peer_master: "br0"),
            Veth(name: "eth0", ns: "ns2", peer: "veth2", peer_ns: "host", peer_master: "br0"),
        ],
        addresses: [(ns: "ns1", dev: "eth0", addr: "10.0.0.1/24"), (ns: "ns2", dev: "eth0", addr: "10.0.0.2/24")],
    ),
    traffic: [
        Ping(at: "1s", ns: "ns1", dst: "10.0.0.2", count: 30),
        UdpListen(ns: "ns2", port: 9999, echo: true),
        TcpListen(ns: "ns2", port: 80, reply: "HTTP/1.0 200 OK\r\n\r\n", close_after_reply: true),
        TcpConnect(at: "2s", ns: "ns1", dst: "10.0.0.2", dport: 80, send: "GET / HTTP/1.0\r\n\r\n"),
    ],
    until: "10s",
    expect: [
        (name: "nobody at .99", check: Reach(on: "ns1", to: "10.0.0.99", yes: false)),
        (name: "ns2 answers", check: Reach(on: "ns1", to: "10.0.0.2")),
        (name: "nothing listens on 81", check: Reach(on: "ns1", to: "10.0.0.2", port: 81, yes: false)),
        (name: "80 listens", check: Reach(on: "ns1", to: "10.0.0.2", port: 80)),
        (name: "a partial address is not a word", check: Table(on: "ns1", show: "neigh", contains: "10.0.0")),
        (name: "a frame never seen on a device that is not there", check: Frame(on: "ns1/eht0", seen: false)),
    ],
)"#;
    let p = scratch("probes.ron");
    std::fs::write(&p, lab).expect("write");
    let out = netsim(&["check", p.to_str().expect("utf8"), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let passed: Vec<bool> =
        json["report"]["verdicts"].as_array().expect("verdicts").iter().map(|v| v["passed"] == true).collect();
    assert_eq!(passed, [true, true, true, true, false, false], "{json:#}");
    let zero = lab.replace("check: Frame(on: \"ns1/eht0\", seen: false)", "check: Frame(on: \"ns1/eth0\", count: 0)");
    std::fs::write(&p, zero).expect("write");
    let out = netsim(&["check", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a count of 0"), "{}", String::from_utf8_lossy(&out.stderr));
}
