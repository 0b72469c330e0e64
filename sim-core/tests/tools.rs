//! The commands that print a machine's or a container's state (`cat /etc/hosts`, `hostname`,
//! `ip`, `iptables -S`, `docker port`, `docker inspect`), judged by what Docker Engine 20.10
//! printed for the same containers (`traces/docker/etc-files/`, `traces/docker/inspect/`).

mod common;

use common::record;
use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

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
    let rec: std::collections::BTreeMap<_, _> = record("etc-files/record.txt").into_iter().collect();
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 probenet",
        "docker network create --subnet 10.78.0.0/24 probenet2",
        "docker run -dit --name w1 --network probenet --hostname web1 --add-host db:1.2.3.4 alpine",
        "docker exec w1 /bin/cat /etc/hosts /etc/resolv.conf /etc/hostname",
        "docker rm -f w1",
        "docker run -dit --name w2 --network probenet --dns 9.9.9.9 --hostname web2 alpine",
        "docker exec w2 /bin/cat /etc/resolv.conf",
        "docker rm -f w2",
        "docker run -dit --name plain --hostname plain alpine",
        "docker exec plain /bin/cat /etc/hosts",
        "docker run -dit --name lonely --network none --hostname lonely alpine",
        "docker exec lonely /bin/cat /etc/hosts",
        "docker run -dit --name pc --hostname pc1 --network probenet alpine",
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
    let sim = lab(&["docker run -dit --name plain alpine", "docker exec plain cat /etc/resolv.conf"]);
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
        // nginx's image is Debian's: iproute2, which ends each route with a blank.
        "default via 10.77.0.1 dev eth0 \n10.77.0.0/24 dev eth0 proto kernel scope link src 10.77.0.2 \n"
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

#[test]
fn docker_port_lists_each_binding_as_the_engine_does() {
    let rec = record("inspect/port.txt");
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 probenet",
        "docker run -dit --name p1 --network probenet --network-alias www -p 8080:80 -p 127.0.0.1:8443:443/tcp -p 9000:9000/udp -e FOO=bar alpine",
        "docker port p1",
        "docker port p1 80",
        "docker port p1 80/tcp",
        "docker port p1 9000/udp",
        "docker port p1 81",
        "docker port nope",
        "iptables -t nat -S DOCKER",
        "iptables -S DOCKER",
    ]);
    for (cmd, want) in &rec {
        assert_eq!(&printed(&sim, cmd), want, "`{cmd}`");
    }
    // The DNAT of a port bound to one host address names it; rules by host port, highest first.
    let nat = printed(&sim, "iptables -t nat -S DOCKER").0;
    let dnat: Vec<&str> = nat.lines().filter(|l| l.contains("DNAT")).collect();
    assert_eq!(dnat.len(), 3, "{nat}");
    assert!(dnat[0].ends_with("-p udp -m udp --dport 9000 -j DNAT --to-destination 10.77.0.2:9000"), "{nat}");
    assert!(
        dnat[1].starts_with("-A DOCKER -d 127.0.0.1/32 ! -i br-")
            && dnat[1].ends_with("--dport 8443 -j DNAT --to-destination 10.77.0.2:443"),
        "{nat}"
    );
    assert!(dnat[2].ends_with("--dport 8080 -j DNAT --to-destination 10.77.0.2:80"), "{nat}");
}

#[test]
fn publish_all_takes_ephemeral_ports_highest_exposed_port_first_and_one_counter_per_protocol() {
    let sim = lab(&[
        "docker run -d --name db -P mysql",
        "docker run -d --name web -P -p 8080:80 nginx",
        "docker run -d --name db2 -P mysql",
        "docker port db",
        "docker port web",
        "docker port db2",
    ]);
    let v4 = |c: &str| -> Vec<String> {
        printed(&sim, c).0.lines().filter(|l| !l.contains("[::]")).map(str::to_string).collect()
    };
    assert_eq!(v4("docker port db"), ["3306/tcp -> 0.0.0.0:32769", "33060/tcp -> 0.0.0.0:32768"]);
    // -p took 80 already: nothing more to publish.
    assert_eq!(v4("docker port web"), ["80/tcp -> 0.0.0.0:8080"]);
    assert_eq!(v4("docker port db2"), ["3306/tcp -> 0.0.0.0:32771", "33060/tcp -> 0.0.0.0:32770"]);
}

#[test]
fn an_image_no_host_has_fails_as_docker_run_does_without_a_registry() {
    let sim = lab(&["docker run -d --name web ngnix", "docker run -d --name web nginx"]);
    let (out, status) = printed(&sim, "docker run -d --name web ngnix");
    assert_eq!(status, 125);
    assert!(
        out.starts_with("Unable to find image 'ngnix:latest' locally\ndocker: Error response from daemon: "),
        "{out}"
    );
    // Nothing was made: the name is free for the next step.
    assert_eq!(printed(&sim, "docker run -d --name web nginx").1, 0);
}

/// `docker inspect` of the recorded containers: every field the simulator fills has the
/// engine's value, once IDs (random on both) are read as what they stand for.
#[test]
fn docker_inspect_of_a_container_has_the_engines_fields_and_values() {
    use serde_json::Value;
    let read = |f: &str| -> Value {
        let path = format!("{}/../traces/docker/inspect/{f}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("recorded")).expect("JSON")
    };
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 probenet",
        "docker run -dit --name p1 --network probenet --network-alias www -p 8080:80 -p 127.0.0.1:8443:443/tcp -e FOO=bar alpine",
        "docker run -dit --name p3 alpine",
        "docker inspect p1",
        "docker inspect p3",
        "docker inspect nope",
    ]);
    for (step, file) in
        [("docker inspect p1", "user-bridge-published.json"), ("docker inspect p3", "default-bridge.json")]
    {
        let (text, status) = printed(&sim, step);
        assert_eq!(status, 0, "{text}");
        assert!(text.starts_with("[\n    {\n        \"Id\": "), "indented as docker/cli does: {text}");
        let got: Value = serde_json::from_str(&text).expect("JSON");
        let want = read(file);
        let (got, want) = (&got[0], &want[0]);
        let id = |v: &Value| v["Id"].as_str().unwrap_or_default().chars().take(12).collect::<String>();
        // Each field the simulator prints, compared with the engine's; the short ID alias and
        // the hostname are the container's own ID on each side.
        let mut paths: Vec<Vec<&str>> = vec![
            vec!["Name"],
            vec!["State", "Status"],
            vec!["State", "Running"],
            vec!["HostConfig", "NetworkMode"],
            vec!["HostConfig", "PortBindings"],
            vec!["Config", "ExposedPorts"],
            vec!["Config", "Env"],
            vec!["NetworkSettings", "Ports"],
            vec!["NetworkSettings", "Gateway"],
            vec!["NetworkSettings", "IPAddress"],
            vec!["NetworkSettings", "IPPrefixLen"],
            vec!["NetworkSettings", "MacAddress"],
        ];
        let net = if file.starts_with("user") { "probenet" } else { "bridge" };
        for k in
            ["IPAMConfig", "Links", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress", "DriverOpts", "IPv6Gateway"]
        {
            paths.push(vec!["NetworkSettings", "Networks", net, k]);
        }
        for p in &paths {
            let at = |v: &Value| p.iter().fold(v.clone(), |v, k| v[*k].clone());
            assert_eq!(at(got), at(want), "{file}: {}", p.join("."));
        }
        let aliases = |v: &Value, me: &str| -> Value {
            let a = &v["NetworkSettings"]["Networks"][net]["Aliases"];
            match a.as_array() {
                Some(a) => Value::Array(a.iter().map(|x| if x == me { "ID".into() } else { x.clone() }).collect()),
                None => a.clone(),
            }
        };
        assert_eq!(aliases(got, &id(got)), aliases(want, &id(want)), "{file}: Aliases");
        assert_eq!(got["Config"]["Hostname"].as_str(), Some(id(got).as_str()));
        // Nothing the engine does not print.
        for k in got.as_object().expect("an object").keys() {
            assert!(want.get(k).is_some(), "{file}: the engine has no `{k}`");
        }
    }
    assert_eq!(printed(&sim, "docker inspect nope"), ("[]\nError: No such object: nope\n".into(), 1));
}

#[test]
fn stop_start_restart_kill_and_a_failed_start_as_the_engine_does_them() {
    // The record's containers ran a loop that exits 0 on SIGTERM: here a server, which ends
    // on `docker stop` as that loop did (a shell kept up by `-it` would wait to be killed).
    let rec = record("lifecycle/record.txt");
    let sim = lab(&[
        "docker network create --subnet 10.77.0.0/24 lifenet",
        "docker run -d --name ca --network lifenet -p 8080:80 nginx",
        "docker run -d --name cb --network lifenet nginx",
        "docker stop ca",
        "docker inspect -f '{{.State.Status}} {{.State.ExitCode}} [{{.NetworkSettings.Networks.lifenet.IPAddress}}]' ca",
        "docker port ca",
        "docker exec ca /bin/cat /etc/hostname",
        "docker run -d --name cc --network lifenet nginx",
        "docker start ca",
        "docker inspect -f '{{.State.Status}} {{.NetworkSettings.Networks.lifenet.IPAddress}}' ca",
        "docker port ca",
        "docker kill cb",
        "docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' cb",
        "docker kill cb",
        "docker run -d --name cd --network lifenet -p 8080:80 nginx",
        "docker inspect -f '{{.State.Status}}' cd",
        "docker run -d --name cd --network lifenet nginx",
        "docker start cd",
        "docker rm cb",
        "docker rm ca",
        "docker restart cc",
        "docker inspect -f '{{.State.Status}} {{.NetworkSettings.Networks.lifenet.IPAddress}}' cc",
        "docker stop nope",
        "docker run -d --name x --network lifenet nginx",
    ]);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len());
    for (log, (engine_line, (want, status))) in d.transcript.iter().zip(&rec) {
        // The engine's commands ran the image's shell loop; the lab's run nginx.
        let engine = match log.line.strip_suffix(" nginx") {
            Some(head) => format!(
                "{head} netsim-probe /bin/sh -c 'trap \"exit 0\" TERM; while :; do /bin/cat /etc/hostname >/dev/null; done'"
            ),
            None => log.line.clone(),
        };
        assert_eq!(&engine, engine_line, "the lab follows the record step by step");
        assert_eq!(log.status, *status, "`{}`", log.line);
        let got = match &log.output {
            Ok(t) | Err(t) => common::ids(t),
        };
        if log.line.starts_with("docker run") || log.line.starts_with("docker network create") {
            // These print the new ID, which the record leaves out; docker/cli 28 adds a usage
            // hint after a failed one, and the daemon's words are the first line (20.10's CLI
            // ended it with a full stop).
            let first = |s: &str| s.lines().find(|l| *l != "ID").unwrap_or_default().trim_end_matches('.').to_string();
            if *status != 0 {
                assert_eq!(first(&got), first(want), "`{}`", log.line);
            }
        } else {
            assert_eq!(got.trim_end(), want.trim_end(), "`{}`", log.line);
        }
    }
}

#[test]
fn dns_mac_address_and_ports_on_an_internal_network_as_docker_applies_them() {
    let sim = lab(&[
        "docker network create --internal secret",
        "docker run -d --name vault --network secret -p 8099:80 nginx",
        "docker port vault",
        "iptables -t nat -S DOCKER",
        "docker run -dit --name box --dns 9.9.9.9 --mac-address 02:00:00:00:00:aa alpine",
        "docker exec box cat /etc/resolv.conf",
        "docker exec box ip link",
    ]);
    // On 20.10 an --internal network publishes nothing: no DNAT, `docker port` prints nothing.
    assert_eq!(printed(&sim, "docker port vault"), (String::new(), 0));
    assert!(!printed(&sim, "iptables -t nat -S DOCKER").0.contains("8099"));
    // --dns is resolv.conf's nameserver where the embedded DNS is not used (the default bridge).
    assert_eq!(printed(&sim, "docker exec box cat /etc/resolv.conf").0, "nameserver 9.9.9.9\n");
    assert!(printed(&sim, "docker exec box ip link").0.contains("link/ether 02:00:00:00:00:aa"));
}

#[test]
fn network_prune_removes_the_networks_no_container_uses() {
    let sim = lab(&[
        "docker network create idle",
        "docker network create busy",
        "docker run -d --name web --network busy nginx",
        "docker network prune -f",
        "docker network prune",
        "docker network ls",
    ]);
    // As the engine printed it for one unused network (traces/docker/inspect/README.md).
    assert_eq!(printed(&sim, "docker network prune -f"), ("Deleted Networks:\nidle\n\n".into(), 0));
    let (prompt, status) = printed(&sim, "docker network prune");
    assert!(prompt.starts_with("netsim:") && prompt.contains("-f") && status == 127, "{prompt}");
    let ls = printed(&sim, "docker network ls").0;
    assert!(ls.contains(" busy ") && !ls.contains(" idle "), "{ls}");
}

#[test]
fn a_foreground_run_runs_its_program_in_the_container_which_then_exits() {
    let sim = lab(&[
        "docker network create appnet",
        "docker run -d --name web --network appnet nginx",
        "docker run --rm --network appnet alpine nslookup web",
        "docker run --name once --network appnet busybox ping -c 1 web",
        "docker run --rm --network appnet alpine cat /etc/resolv.conf",
        "docker ps -a",
        "docker run --rm --name last --network appnet alpine ping -c 1 web",
    ]);
    let out = sim.app_output();
    // The program ran in a container of its own, on appnet, and found web by name.
    assert!(
        out.iter().any(|(ns, l)| ns.starts_with("host1:") && ns != "host1:web" && l == "Address: 172.18.0.2"),
        "{out:#?}"
    );
    assert!(out.iter().any(|(ns, l)| ns == "host1:once" && l.starts_with("64 bytes from 172.18.0.2")), "{out:#?}");
    assert_eq!(
        printed(&sim, "docker run --rm --network appnet alpine cat /etc/resolv.conf").0,
        "nameserver 127.0.0.11\noptions ndots:0\n"
    );
    // Without --rm the container stays, exited; with it, it is gone, the last one too.
    let ps = printed(&sim, "docker ps -a").0;
    assert_eq!(ps.lines().count(), 3, "web and once only: {ps}");
    assert!(ps.lines().any(|l| l.contains("Exited (0)") && l.ends_with(" once")), "{ps}");
    assert!(out.iter().any(|(ns, l)| ns == "host1:last" && l.starts_with("64 bytes from")), "{out:#?}");
    assert!(sim.world.ns_by_name("host1:last").is_none(), "the last step's --rm container went when its ping ended");
    assert!(sim.world.ns_by_name("host1:once").is_none(), "an exited container has no sandbox");
}

#[test]
fn a_format_that_does_not_parse_exits_64_and_one_that_fails_exits_1() {
    // As the engine answered `docker network inspect -f` on 20.10.24 with CLI 28.2.2.
    let sim = lab(&[
        "docker network create zzt",
        "docker network inspect -f '{{.Name' zzt",
        "docker network inspect -f '{{.Nope}}' zzt",
    ]);
    assert_eq!(
        printed(&sim, "docker network inspect -f '{{.Name' zzt"),
        ("template parsing error: template: :1: unclosed action\n".into(), 64)
    );
    assert_eq!(
        printed(&sim, "docker network inspect -f '{{.Nope}}' zzt"),
        (
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"\n"
                .into(),
            1
        )
    );
}

/// `docker run --network container:NAME`: the joined container has its target's interfaces,
/// host name and resolver; it cannot publish or name its own; when the target stops it is
/// left with lo alone (also after the target starts again) until it restarts; and once the
/// target is gone it cannot start. Every step's words and status as the engine printed them
/// (20.10.24: `traces/docker/container-mode/record.txt`); `ip` is busybox's there, so only its
/// addresses are compared.
#[test]
fn a_container_in_another_containers_namespace_as_the_engine_runs_it() {
    let rec = record("container-mode/record.txt");
    let steps: Vec<&str> = rec.iter().map(|(c, _)| c.as_str()).collect();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len());
    let short = |s: &str| -> String {
        s.split(|c: char| !c.is_ascii_alphanumeric()).fold(s.to_string(), |acc, w| {
            if w.len() == 12 && w.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
                acc.replace(w, "SHORTID")
            } else {
                acc
            }
        })
    };
    let inet = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| {
                l.trim().strip_prefix("inet ").map(|r| r.split_whitespace().next().unwrap_or("").to_string())
            })
            .collect()
    };
    for (log, (line, (want, status))) in d.transcript.iter().zip(&rec) {
        assert_eq!(&log.line, line);
        assert_eq!(log.status, *status, "`{line}`");
        let got = short(&common::ids(match &log.output {
            Ok(t) | Err(t) => t,
        }));
        if line.contains(" ip -4 addr") {
            assert_eq!(inet(&got), inet(want), "`{line}`");
        } else if line.starts_with("docker run") || line.starts_with("docker network create") {
            let rest = |s: &str| {
                s.lines().filter(|l| *l != "ID").map(|l| l.trim_end_matches('.').to_string()).collect::<Vec<_>>()
            };
            assert_eq!(rest(&got), rest(want), "`{line}`");
        } else {
            assert_eq!(got.trim_end(), want.trim_end(), "`{line}`");
        }
    }
}

/// The point of `--network container:`: a server in the joined container answers on the
/// target's address (a pod's sidecar), the joined container reaches what the target reaches,
/// and a second server on the same port cannot bind and exits, as nginx does.
#[test]
fn a_joined_container_serves_and_reaches_through_its_targets_namespace() {
    let sim = lab(&[
        "docker network create appnet",
        "docker run -dit --name app --network appnet alpine",
        "docker run -dit --name client --network appnet alpine",
        "docker run -d --name sidecar --network container:app nginx",
        "docker exec client wget -qO- http://app/",
        "docker exec sidecar wget -qO- http://client:81/",
        "docker run -d --name second --network container:app nginx",
        "docker ps -a",
    ]);
    let out = sim.app_output();
    let client: Vec<&str> = out.iter().filter(|(ns, _)| ns == "host1:client").map(|(_, l)| l.as_str()).collect();
    assert!(client.contains(&"<h1>Welcome to nginx!</h1>"), "the sidecar answers on app's address: {client:#?}");
    let app: Vec<&str> = out.iter().filter(|(ns, _)| ns == "host1:app").map(|(_, l)| l.as_str()).collect();
    assert!(
        app.iter().any(|l| l.starts_with("wget: can't connect to remote host (172.18.0.3): Connection refused")),
        "the sidecar's wget leaves from app's namespace and reaches client: {app:#?}"
    );
    let (ps, _) = printed(&sim, "docker ps -a");
    let status = |name: &str| ps.lines().find(|l| l.trim_end().ends_with(name)).map(|l| l.contains("Exited (1)"));
    assert_eq!((status("second"), status("sidecar")), (Some(true), Some(false)), "{ps}");
}

/// `iptables-save -t TABLE` and `-c` print one table (one that no rule uses too) with or
/// without counters, and its options' errors are iptables-save's own, as on the kernel
/// (`traces/programs/iptables-save/record.txt`, made by `record.sh` beside it).
#[test]
fn iptables_save_takes_a_table_and_counters_as_on_the_kernel() {
    let rec = common::transcript("programs/iptables-save/record.txt");
    assert!(rec.len() >= 7, "the record has its cases");
    // The record's namespace had no Docker: host1 is a plain machine (`docker: false`).
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_hosts_as(r#"(name: "host1", addr: "192.168.99.101/24", docker: false)"#, &steps);
    for ((cmd, (want, exit)), (got, status)) in rec.iter().zip(common::shell_lines(&sim, &rec, |_| false)) {
        let want: Vec<&str> = want.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(got, want, "`{cmd}` prints as on the kernel");
        assert_eq!(status, *exit, "`{cmd}` exits as on the kernel");
    }
}
