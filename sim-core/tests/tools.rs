//! The programs that print a machine's state (`cat /etc/hosts`, `hostname`, `ip`,
//! `iptables -S`), judged by what Docker Engine 20.10 printed for the same containers
//! (`traces/docker/etc-files/record.txt`).

use std::collections::BTreeMap;

use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

/// The record's commands and what each printed, with its exit status.
fn record() -> BTreeMap<String, (String, u8)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/docker/etc-files/record.txt");
    let text = std::fs::read_to_string(path).expect("the record is kept in the repository");
    let mut out = BTreeMap::new();
    let mut cmd: Option<String> = None;
    let mut body = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(c) = line.strip_prefix("$ ") {
            cmd = Some(c.to_string());
            body.clear();
        } else if let Some(code) = line.strip_prefix("[exit ").and_then(|l| l.strip_suffix(']')) {
            let c = cmd.take().expect("an exit status follows a command");
            out.insert(c, (std::mem::take(&mut body), code.parse().expect("a number")));
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

fn lab(steps: &[&str]) -> Sim {
    let steps: String = steps.iter().map(|s| format!("        (on: \"host1\", run: \"{s}\"),\n")).collect();
    let text = format!(
        "Scenario(\n    name: \"tools\",\n    engine: (version: \"20.10\", mtu: 1400),\n    hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("tools.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

/// What step `line` printed (a failure's words too) and its exit status.
fn printed(sim: &Sim, line: &str) -> (String, u8) {
    let d = sim.director.as_ref().expect("a Docker lab");
    let log = d.transcript.iter().find(|l| l.line == line).unwrap_or_else(|| panic!("no step `{line}`"));
    let text = match &log.output {
        Ok(t) | Err(t) => t.clone(),
    };
    (if text.ends_with('\n') || text.is_empty() { text } else { text + "\n" }, log.status)
}

#[test]
fn etc_hosts_resolv_conf_and_hostname_are_what_docker_writes() {
    let rec = record();
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 probenet",
        "docker network create --subnet 10.78.0.0/24 probenet2",
        "docker run -d --name w1 --network probenet --hostname web1 --add-host db:1.2.3.4 alpine",
        "docker exec w1 /bin/cat /etc/hosts /etc/resolv.conf /etc/hostname",
        "docker rm -f w1",
        "docker run -d --name w2 --network probenet --dns 9.9.9.9 --hostname web2 alpine",
        "docker exec w2 /bin/cat /etc/resolv.conf",
        "docker rm -f w2",
        "docker run -d --name plain --hostname plain alpine",
        "docker exec plain /bin/cat /etc/hosts",
        "docker run -d --name lonely --network none --hostname lonely alpine",
        "docker exec lonely /bin/cat /etc/hosts",
        "docker run -d --name pc --hostname pc1 --network probenet alpine",
        "docker network connect probenet2 pc",
        "docker exec pc /bin/cat /etc/hosts /etc/resolv.conf",
        "docker exec pc /bin/hostname",
        "docker exec pc /bin/cat /nope",
    ]);
    // Each engine command ran a container of its own with `docker run --rm`; the lab runs
    // one with -d, execs the same program in it (which reads the same files) and removes it.
    let pairs = [
        (
            "docker run --rm --network probenet --hostname web1 --add-host db:1.2.3.4 netsim-probe /bin/cat /etc/hosts /etc/resolv.conf /etc/hostname",
            "docker exec w1 /bin/cat /etc/hosts /etc/resolv.conf /etc/hostname",
        ),
        (
            "docker run --rm --network probenet --dns 9.9.9.9 --hostname web2 netsim-probe /bin/cat /etc/resolv.conf",
            "docker exec w2 /bin/cat /etc/resolv.conf",
        ),
        ("docker run --rm --hostname plain netsim-probe /bin/cat /etc/hosts", "docker exec plain /bin/cat /etc/hosts"),
        (
            "docker run --rm --network none --hostname lonely netsim-probe /bin/cat /etc/hosts",
            "docker exec lonely /bin/cat /etc/hosts",
        ),
        ("docker exec pc /bin/cat /etc/hosts /etc/resolv.conf", "docker exec pc /bin/cat /etc/hosts /etc/resolv.conf"),
        ("docker exec pc /bin/hostname", "docker exec pc /bin/hostname"),
        ("docker exec pc /bin/cat /nope", "docker exec pc /bin/cat /nope"),
    ];
    for (engine, sim_line) in pairs {
        let want = rec.get(engine).unwrap_or_else(|| panic!("`{engine}` is not in the record"));
        assert_eq!(&printed(&sim, sim_line), want, "`{sim_line}` against the engine's `{engine}`");
    }
}

#[test]
fn a_default_bridge_container_gets_googles_servers_when_the_host_has_none() {
    // The record's host had a nameserver, which the container copied; the lab's host has
    // none, so libnetwork's defaults apply.
    let sim = lab(&["docker run -d --name plain alpine", "docker exec plain cat /etc/resolv.conf"]);
    assert_eq!(
        printed(&sim, "docker exec plain cat /etc/resolv.conf"),
        ("nameserver 8.8.8.8\nnameserver 8.8.4.4\n".into(), 0)
    );
}

#[test]
fn ip_and_iptables_print_the_namespace_they_run_in() {
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 probenet",
        "docker run -d --name web --network probenet -p 8080:80 nginx",
        "docker exec web ip route",
        "ip -4 addr show",
        "iptables -t nat -S DOCKER",
        "iptables -S NOPE",
        "docker exec web iptables -S",
    ]);
    assert_eq!(
        printed(&sim, "docker exec web ip route").0,
        "default via 10.77.0.1 dev eth0\n10.77.0.0/24 dev eth0 proto kernel scope link src 10.77.0.2\n"
    );
    let addr = printed(&sim, "ip -4 addr show").0;
    assert!(addr.contains("inet 192.168.99.101/24") && addr.contains("inet 10.77.0.1/24"), "{addr}");
    let (nat, status) = printed(&sim, "iptables -t nat -S DOCKER");
    assert_eq!(status, 0);
    assert!(nat.starts_with("-N DOCKER\n"), "{nat}");
    assert!(
        nat.contains("-A DOCKER ! -i br-")
            && nat.contains("-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.0.2:80"),
        "{nat}"
    );
    assert_eq!(printed(&sim, "iptables -S NOPE").1, 1);
    // A container lacks CAP_NET_ADMIN (Docker's default capabilities).
    let (denied, status) = printed(&sim, "docker exec web iptables -S");
    assert_eq!(status, 4);
    assert!(denied.contains("Permission denied (you must be root)"), "{denied}");
}
