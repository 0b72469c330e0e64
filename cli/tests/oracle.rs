//! The real Docker Engine as the judge: `netsim oracle`.
//!
//! Always: every record under `traces/docker/` (what the engine did, kept by `netsim oracle
//! FILE --save`) compared with the simulator, without an engine. Where `docker info` works
//! (CI's machines run an engine; `.ci/run` says loudly when one does not): the live
//! comparison of every recorded lab, the refusal to touch an engine that holds things netsim
//! did not make, and clean-up after a run that fails half-way.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{netsim, root};

/// What the run printed, with miette's line wrapping undone.
fn text(o: &std::process::Output) -> String {
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    all.lines().map(|l| l.trim_start().trim_start_matches('│').trim()).collect::<Vec<_>>().join(" ")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// (record folder, scenario) for every kept record.
fn records() -> Vec<(PathBuf, PathBuf)> {
    let base = root().join("traces/docker");
    let mut out = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                if p.join("record.json").exists() {
                    let rel = p.strip_prefix(&base).expect("under traces/docker");
                    out.push((p.clone(), root().join("scenarios").join(rel).with_extension("ron")));
                }
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The shipped labs one engine on this machine can host (traces/docker/README.md lists why
/// the others cannot).
const HOSTABLE: [&str; 9] = [
    "docker/default-vs-user-bridge",
    "docker/host-and-none",
    "docker/isolated-bridges",
    "docker/macvlan",
    "docker/published-ports",
    "docker/standalone-tutorial",
    "docker/swarm-single-node",
    "docker/swarm-task-interfaces",
    "docker/webapp-mysql-bridge",
];

#[test]
fn every_record_matches_the_simulator() {
    let recs = records();
    let names: Vec<String> = recs
        .iter()
        .map(|(d, _)| d.strip_prefix(root().join("traces/docker")).expect("rel").display().to_string())
        .collect();
    for h in HOSTABLE {
        assert!(names.iter().any(|n| n == h), "no record for {h} under traces/docker (have {names:?})");
    }
    for (dir, scenario) in &recs {
        let out = netsim(&["oracle", s(scenario), "--against", s(dir)]);
        let t = text(&out);
        assert!(out.status.success() && t.contains("compared: no difference"), "{}:\n{t}", dir.display());
        // A record that holds nothing would prove nothing.
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).expect("record")).expect("json");
        assert!(rec["steps"].as_array().is_some_and(|a| !a.is_empty()), "{}: no steps", dir.display());
        assert!(rec["namespaces"].as_object().is_some_and(|o| o.len() >= 2), "{}: no namespaces", dir.display());
        assert!(rec["engine"]["server_version"].as_str().is_some_and(|v| !v.is_empty()));
    }
}

#[test]
fn a_record_that_disagrees_is_reported() {
    // The user-bridge lab's record against the default-bridge steps of another lab.
    let dir = root().join("traces/docker/docker/published-ports");
    let other = root().join("scenarios/docker/webapp-mysql-bridge.ron");
    let out = netsim(&["oracle", s(&other), "--against", s(&dir)]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("network appnet: the simulator has it, the engine does not"), "{t}");
    assert!(t.contains("differences between the engine and the simulator"), "{t}");
}

#[test]
fn scenarios_one_engine_cannot_host_say_why() {
    let out = netsim(&["oracle", s(&root().join("scenarios/swarm-webapp-mysql.ron")), "--against", "/nonexistent"]);
    let t = text(&out);
    assert!(!out.status.success());
    assert!(t.contains("has 2 Docker hosts (node1, node2)"), "{t}");
    let out = netsim(&["oracle", s(&root().join("scenarios/docker/macvlan-8021q.ron")), "--against", "/nonexistent"]);
    assert!(text(&out).contains("802.1Q"), "{}", text(&out));
    // A fault typed on the Docker host would be typed on this machine.
    let out = netsim(&["oracle", s(&root().join("scenarios/docker/faults.ron")), "--against", "/nonexistent"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            "`tc qdisc add dev eth0 root netem delay 100ms` on host1 would change this machine's own network"
        ),
        "{}",
        text(&out)
    );
    // A compose lab works on its files, which the oracle does not replay step by step.
    let out =
        netsim(&["oracle", s(&root().join("scenarios/docker/compose-webapp-mysql.ron")), "--against", "/nonexistent"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("`cd shop` works on the lab's files"), "{}", text(&out));
}

fn engine_present() -> bool {
    Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success())
}

fn docker(args: &[&str]) -> String {
    let o = Command::new("docker").args(args).output().expect("docker");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Nothing of the oracle's is left: containers, networks, images, the LAN namespaces and veth.
fn assert_clean() {
    assert_eq!(docker(&["ps", "-aq", "--filter", "label=netsim.oracle=1"]).trim(), "");
    assert_eq!(docker(&["network", "ls", "-q", "--filter", "label=netsim.oracle=1"]).trim(), "");
    assert_eq!(docker(&["images", "-q", "--filter", "label=netsim.oracle=1"]).trim(), "");
    let ns = Command::new("ip").args(["netns", "list"]).output().expect("ip");
    let ns = String::from_utf8_lossy(&ns.stdout);
    assert!(!ns.contains("nsim-o-"), "left namespaces:\n{ns}");
    let link = Command::new("ip").args(["link", "show", "nsim-eth0"]).output().expect("ip");
    assert!(!link.status.success(), "nsim-eth0 was left behind");
}

/// One test, so the runs never meet on the engine (tests of one binary run in parallel).
#[test]
fn live_on_the_engine() {
    // The replay enters sandboxes (nsenter) and makes the LAN's namespaces and veth.
    if !common::is_root("live_on_the_engine") {
        return;
    }
    if !engine_present() {
        eprintln!("NO DOCKER ENGINE here (`docker info` failed): the live oracle comparison is skipped");
        return;
    }
    // The simulator models 20.10 and v29; another release cannot be judged against either.
    let version = docker(&["version", "--format", "{{.Server.Version}}"]);
    if sim_core::docker::era::Era::parse(version.trim()).is_none() {
        eprintln!(
            "Docker Engine {} is an era the simulator does not model: the live oracle comparison is skipped",
            version.trim()
        );
        return;
    }
    // Every recorded lab, live: no difference, nothing left behind.
    for h in HOSTABLE {
        let f = root().join("scenarios").join(format!("{h}.ron"));
        let out = netsim(&["oracle", s(&f)]);
        let t = text(&out);
        assert!(out.status.success() && t.contains("compared: no difference"), "{h}:\n{t}");
        assert_clean();
    }

    // An engine that holds a network netsim did not make is left alone.
    docker(&["network", "create", "nsim-someone-elses"]);
    let f = root().join("scenarios/docker/isolated-bridges.ron");
    let out = netsim(&["oracle", s(&f)]);
    docker(&["network", "rm", "nsim-someone-elses"]);
    let t = text(&out);
    assert!(!out.status.success() && t.contains("user networks nsim-someone-elses"), "{t}");
    assert!(t.contains("--force"), "{t}");
    assert_clean();

    // Containers the lab did not name: the engine draws other names than the simulator, and
    // the comparison reads the engine's as the simulator's; a foreground `docker run` runs its
    // client in the agent image.
    let dir = std::env::temp_dir().join(format!("nsim-oracle-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let steps = r#"
        (on: "host1", run: "docker network create halfnet"),
        (on: "host1", run: "docker run -dit --name first --network halfnet alpine"),
        (on: "host1", run: "docker run -dit --network halfnet alpine"),
        (on: "host1", run: "docker run --rm --network halfnet alpine ping -c 1 first"),"#;
    let lab = |more: &str| {
        format!(
            r#"Scenario(
    name: "unnamed",
    hosts: [(name: "host1", addr: "192.168.99.101/24"), (name: "laptop", addr: "192.168.99.10/24", docker: false)],
    steps: [{steps}{more}
    ],
)"#
        )
    };
    let f = dir.join("unnamed.ron");
    std::fs::write(&f, lab("")).expect("write");
    let out = netsim(&["oracle", s(&f)]);
    let t = text(&out);
    assert!(out.status.success() && t.contains("compared: no difference"), "{t}");
    assert!(t.contains("a container run in the foreground"), "{t}");
    assert_clean();

    // A run that stops half-way (a step on a machine without Docker that runs no program the
    // agent has) still takes down what it made.
    let f = dir.join("half.ron");
    std::fs::write(&f, lab("\n        (on: \"laptop\", run: \"hostname\"),")).expect("write");
    let out = netsim(&["oracle", s(&f)]);
    let t = text(&out);
    assert!(!out.status.success() && t.contains("not a program the agent runs"), "{t}");
    assert_clean();

    // The lab is typed with the daemon's own client where one is installed (Debian's
    // docker.io ships it beside dockerd): docker/cli 28 refuses `--mac-address` on API 1.41.
    let f = dir.join("mac.ron");
    std::fs::write(
        &f,
        r#"Scenario(
    name: "a chosen MAC",
    engine: (version: "20.10", mtu: 1400),
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create --subnet 10.91.0.0/24 macnet"),
        (on: "host1", run: "docker run -dit --name m1 --network macnet --mac-address 02:42:0a:5b:00:99 alpine"),
        (on: "host1", run: "docker run -dit --name m2 --network macnet alpine"),
        (on: "host1", run: "docker exec m2 ping -c 2 m1"),
    ],
)"#,
    )
    .expect("write");
    let out = netsim(&["oracle", s(&f)]);
    let t = text(&out);
    if t.contains(&format!("typed with docker {}", version.trim())) {
        assert!(out.status.success() && t.contains("compared: no difference"), "{t}");
    } else {
        eprintln!("SKIP the --mac-address lab: no docker client of the daemon's release here\n{t}");
    }
    assert_clean();
    let _ = std::fs::remove_dir_all(&dir);
}
