//! `--endpoint-mode dnsrr` and `--publish mode=host` against Docker Engine 20.10.24 as the
//! fixtures `testdata/engine-20.10/lab7-*` record it, and the same behaviour in the v29 era.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::Swarm;
use crate::docker::engine::{Engine, GWBRIDGE};
use crate::kernel::show::{What, show};
use crate::scenario::Loaded;
use crate::{Sim, Until};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../testdata/engine-20.10/", $name))
    };
}

/// What the recorded engine had done before the `lab7-*` set-up: four bridge networks created
/// and removed, so 20.10's round-robin subnets give docker_gwbridge 172.22/16 as there.
const HISTORY: [&str; 4] = ["appnet", "netA", "netB", "webnet"];

/// One swarm node (`node1`, the only one) and a plain LAN host (`lanpc`), on `version`.
fn scenario(version: &str, steps: &[&str]) -> String {
    let mut all: Vec<String> = Vec::new();
    if version == "20.10" {
        for n in HISTORY {
            all.push(format!("(on: \"node1\", run: \"docker network create {n}\")"));
            all.push(format!("(on: \"node1\", run: \"docker network rm {n}\")"));
        }
    }
    for s in steps {
        let (on, run) = s.split_once(": ").unwrap_or(("node1", s));
        all.push(format!("(on: \"{on}\", run: \"{run}\")"));
    }
    format!(
        r#"Scenario(
    name: "swarm modes",
    engine: (version: "{version}", mtu: 1400),
    hosts: [
        (name: "node1", addr: "192.168.99.101/24"),
        (name: "lanpc", addr: "192.168.99.50/24"),
    ],
    steps: [{}],
)"#,
        all.join(",\n        ")
    )
}

const INIT: [&str; 2] =
    ["docker swarm init --advertise-addr 192.168.99.101", "docker network create -d overlay --attachable appnet"];
const WEBRR: &str = "docker service create --name webrr --replicas 2 --endpoint-mode dnsrr --network appnet nginx";
const WEBHOST: &str =
    "docker service create --name webhost --network appnet --publish mode=host,target=80,published=8080 nginx";
const CLIENT: &str = "docker service create --name client --network appnet alpine sleep 1d";

fn run(version: &str, steps: &[&str]) -> Sim {
    let mut all: Vec<&str> = INIT.to_vec();
    all.extend_from_slice(steps);
    let text = scenario(version, &all);
    let l = Loaded::from_str("swarm-modes.ron", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut s = l.build(None).unwrap_or_else(|e| panic!("{e:?}"));
    s.run_until(Until::Idle);
    s
}

fn swarm(s: &Sim) -> &Swarm {
    s.director.as_ref().and_then(|d| d.swarm.as_ref()).expect("a swarm")
}

fn engine<'a>(s: &'a Sim, host: &str) -> &'a Engine {
    s.director.as_ref().expect("director").engine(host).expect("daemon")
}

/// What step `line` printed (its last run), or its error.
fn printed(s: &Sim, line: &str) -> Result<String, String> {
    let d = s.director.as_ref().expect("director");
    d.transcript.iter().rev().find(|t| t.line == line).unwrap_or_else(|| panic!("no step `{line}`")).output.clone()
}

fn ok(s: &Sim, line: &str) -> String {
    printed(s, line).unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

/// The running tasks' addresses on `net`.
fn task_ips(s: &Sim, service: &str, net: &str) -> BTreeSet<Ipv4Addr> {
    let svc = swarm(s).services.iter().find(|x| x.name == service).expect("service");
    svc.running().filter_map(|t| t.ips.iter().find(|(n, _)| n == net).map(|x| x.1)).collect()
}

/// The address a task has on docker_gwbridge (the engine's endpoint).
fn gwbridge_ip(s: &Sim, task_prefix: &str) -> Ipv4Addr {
    let e = engine(s, "node1");
    let c = e.containers.iter().find(|c| c.name.starts_with(task_prefix)).expect("task container");
    c.endpoints.iter().find(|x| x.network == GWBRIDGE).expect("gwbridge endpoint").ip
}

fn ns_text(s: &Sim, ns: &str, what: What) -> String {
    let id = s.world.ns_by_name(ns).unwrap_or_else(|| panic!("no namespace {ns}"));
    show(&s.world, id, what)
}

fn task_ns(s: &Sim, prefix: &str) -> String {
    let e = engine(s, "node1");
    let c = e.containers.iter().find(|c| c.name.starts_with(prefix)).expect("task container");
    e.sandbox_ns(c)
}

/// iptables-save text as (table, line) with comments and counters dropped and `renames`
/// applied; tables are compared as sets of lines per table in order.
fn rules(text: &str, renames: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut table = String::new();
    for l in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty() && *l != "COMMIT") {
        if let Some(t) = l.strip_prefix('*') {
            table = t.to_string();
            continue;
        }
        let mut l = l.to_string();
        if l.starts_with(':')
            && let Some(i) = l.rfind(" [")
        {
            l.truncate(i);
        }
        for (from, to) in renames {
            l = l.replace(from.as_str(), to);
        }
        out.push((table.clone(), l));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

// ----- --publish mode=host ------------------------------------------------------------------

#[test]
fn lab7_mode_host_programs_the_host_like_docker_run_p_on_docker_gwbridge() {
    let s = run("20.10", &[WEBRR, WEBHOST]);
    let sim = ns_text(&s, "node1", What::Iptables);
    let mine = gwbridge_ip(&s, "webhost.1.");
    let sim_rules = rules(&sim, &[(mine.to_string(), "<webhost>".into())]);
    // The real task's docker_gwbridge address (task-webhost-ip-addr.json: eth1 172.22.0.7).
    let real_rules =
        rules(fixture!("lab7-host-iptables-save-with-services.txt"), &[("172.22.0.7".into(), "<webhost>".into())]);
    assert_eq!(sim_rules, real_rules, "\nsim:\n{sim}");
    // The lines the brief names, by themselves: a change to either side shows here.
    for want in [
        "-A DOCKER -d <webhost>/32 ! -i docker_gwbridge -o docker_gwbridge -p tcp -m tcp --dport 80 -j ACCEPT",
        "-A DOCKER ! -i docker_gwbridge -p tcp -m tcp --dport 8080 -j DNAT --to-destination <webhost>:80",
        "-A POSTROUTING -s <webhost>/32 -d <webhost>/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
    ] {
        assert!(sim_rules.iter().any(|(_, l)| l == want), "missing {want}\n{sim}");
    }
}

#[test]
fn lab7_mode_host_task_has_no_ingress_interface_and_routes_via_docker_gwbridge() {
    let s = run("20.10", &[WEBHOST, "docker service ls"]);
    let ns = task_ns(&s, "webhost.1.");
    let route = ns_text(&s, &ns, What::Route);
    let mine = gwbridge_ip(&s, "webhost.1.");
    let vip_task = *task_ips(&s, "webhost", "appnet").first().expect("task on appnet");
    let norm = |t: &str, gw: &str, ov: &str| -> Vec<String> {
        t.lines()
            .map(|l| l.trim_end().replace(gw, "<gw-ip>").replace(ov, "<overlay-ip>"))
            .filter(|l| !l.is_empty())
            .collect()
    };
    assert_eq!(
        norm(&route, &mine.to_string(), &vip_task.to_string()),
        norm(fixture!("lab7-task-webhost-ip-route.txt"), "172.22.0.7", "10.0.1.9"),
        "\n{route}"
    );
    let svc = swarm(&s).services.iter().find(|x| x.name == "webhost").expect("webhost");
    assert!(svc.running().all(|t| t.ips.iter().all(|(n, _)| n == "appnet")), "no ingress attachment: {:?}", svc.tasks);
    assert_eq!(svc.vips.len(), 1, "a VIP on appnet only: {:?}", svc.vips);
    // `docker service ls` shows no port for it, as the real one did (service-ls.txt).
    let ls = ok(&s, "docker service ls");
    let real_ls = fixture!("lab7-service-ls.txt");
    let row = |t: &str| t.lines().find(|l| l.contains(" webhost ")).map(|l| l.trim_end().to_string());
    let (sim_row, real_row) = (row(&ls).expect("sim row"), row(real_ls).expect("real row"));
    assert!(sim_row.ends_with("nginx:latest") && real_row.ends_with("netsim-research:latest"), "{sim_row}\n{real_row}");
}

#[test]
fn mode_host_in_v29_uses_the_v29_layout_on_docker_gwbridge() {
    let s = run("29", &[WEBHOST]);
    let sim = ns_text(&s, "node1", What::Iptables);
    let ip = gwbridge_ip(&s, "webhost.1.");
    for want in [
        format!("-A DOCKER -d {ip}/32 ! -i docker_gwbridge -o docker_gwbridge -p tcp -m tcp --dport 80 -j ACCEPT"),
        format!("-A DOCKER ! -i docker_gwbridge -p tcp -m tcp --dport 8080 -j DNAT --to-destination {ip}:80"),
        format!("-A PREROUTING -d {ip}/32 ! -i docker_gwbridge -j DROP"),
    ] {
        assert!(sim.lines().any(|l| l == want), "missing {want}\n{sim}");
    }
    // v29's layout has no DOCKER-ISOLATION chains and no hairpin MASQUERADE (docker-proxy).
    let hairpin = format!("-s {ip}/32 -d {ip}/32");
    assert!(!sim.contains("DOCKER-ISOLATION-STAGE-1") && !sim.contains(&hairpin), "{sim}");
    assert!(!sim.contains("DOCKER-INGRESS -p tcp"), "not through the routing mesh: {sim}");
}

#[test]
fn a_lan_host_reaches_a_mode_host_task_on_the_node_address_in_both_eras() {
    for version in ["29", "20.10"] {
        let s = run(version, &[WEBHOST, "lanpc: curl http://192.168.99.101:8080/"]);
        let ns = task_ns(&s, "webhost.1.");
        let out = s.app_output();
        let lines = |who: &str| -> Vec<&str> {
            out.iter().filter(|(n, _)| n == who).map(|(_, t)| t.as_str()).collect::<Vec<_>>()
        };
        let lan = lines("lanpc");
        assert!(lan.contains(&"curl: HTTP/1.1 200 OK (615 bytes)"), "{version}: {lan:#?}");
        let gw = gwbridge_ip(&s, "webhost.1.");
        let task = lines(&ns);
        assert!(
            task.iter().any(|l| l.starts_with(&format!("tcp {gw}:80 received")) && l.contains("from 192.168.99.50:")),
            "{version}: the task sees the LAN host's own address (DNAT only): {task:#?}"
        );
        // Nothing went through the routing mesh.
        let sbox = lines("node1:ingress_sbox");
        assert!(sbox.is_empty(), "{version}: {sbox:#?}");
    }
}

#[test]
fn single_node_swarm_runs_both_replicas_and_refuses_a_second_host_port_holder() {
    for version in ["29", "20.10"] {
        let dup = "docker service create --name webhost2 --publish mode=host,target=80,published=8080 nginx";
        let ing = "docker service create --name webing --publish published=8080,target=80 nginx";
        let mut s = run(version, &[WEBRR, WEBHOST, "docker service ps webrr"]);
        let ps = ok(&s, "docker service ps webrr");
        let rows: Vec<&str> = ps.lines().skip(1).filter(|l| l.contains("webrr.")).collect();
        assert_eq!(rows.len(), 2, "{ps}");
        assert!(rows.iter().all(|l| l.contains(" node1 ") && l.contains("Running")), "{ps}");
        assert_eq!(task_ips(&s, "webrr", "appnet").len(), 2);
        // The only node holds 8080 for webhost's task: swarmkit's HostPortFilter finds none, so
        // the service is made and its task waits, pending, with the filter's reason.
        s.run_command("node1", dup).unwrap().expect("the service is made");
        let d = s.director.as_ref().expect("director");
        let sw = d.swarm.as_ref().expect("swarm");
        let svc = sw.services.iter().find(|x| x.name == "webhost2").expect("webhost2");
        assert_eq!(svc.running().count(), 0);
        let t = svc.live().next().expect("a pending task");
        assert_eq!(t.error, "no suitable node (host-mode port already in use on 1 node)");
        assert!(d.engines[0].1.containers.iter().all(|c| !c.name.starts_with("webhost2.")), "no sandbox for it");
        s.run_command("node1", "docker service rm webhost2").unwrap().expect("removed");
        // An ingress port over another service's host-mode port (controlapi checkPortConflicts).
        let id = swarm(&s).services.iter().find(|x| x.name == "webhost").expect("webhost").id.clone();
        assert_eq!(
            s.run_command("node1", ing).unwrap().expect_err("conflict"),
            format!(
                "Error response from daemon: rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'webhost' ({id}) as a host-published port"
            )
        );
    }
}

#[test]
fn mode_host_over_an_ingress_port_is_refused() {
    let ing = "docker service create --name webing --publish published=8080,target=80 nginx";
    let mut s = run("29", &[ing]);
    let id = swarm(&s).services.iter().find(|x| x.name == "webing").expect("webing").id.clone();
    assert_eq!(
        s.run_command("node1", WEBHOST).unwrap().expect_err("conflict"),
        format!(
            "Error response from daemon: rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'webing' ({id}) as an ingress port"
        )
    );
}

#[test]
fn a_mode_host_port_goes_when_its_service_does() {
    let s = run("20.10", &[WEBHOST, "docker service rm webhost"]);
    let sim = ns_text(&s, "node1", What::Iptables);
    assert!(!sim.contains("8080") && !sim.contains("--dport 80 "), "{sim}");
}

// ----- --endpoint-mode dnsrr ------------------------------------------------------------------

/// The addresses of an nslookup answer, in either the simulator's or busybox's layout.
fn answers(text: &str) -> BTreeSet<Ipv4Addr> {
    // busybox prints the header once for A and once for AAAA (empty): take all after the first.
    let body = text.split_once("Non-authoritative answer:").map(|x| x.1).unwrap_or_default();
    body.lines().filter_map(|l| l.strip_prefix("Address:")).filter_map(|a| a.trim().parse().ok()).collect()
}

fn nslookup(s: &Sim, name: &str) -> BTreeSet<Ipv4Addr> {
    let ns = task_ns(s, "client.1.");
    let text: Vec<String> = s
        .app_output()
        .into_iter()
        .filter(|(n, _)| *n == ns)
        .map(|(_, t)| t)
        .skip_while(|t| !t.starts_with("Server:"))
        .collect();
    // The client's outputs, one lookup after another: split at each "Server:".
    let joined = text.join("\n");
    let parts: Vec<&str> = joined.split("Server:").filter(|p| !p.trim().is_empty()).collect();
    let want = format!("Name:\t{name}");
    let part = parts.iter().find(|p| p.contains(&want)).unwrap_or_else(|| panic!("no answer for {name}: {joined}"));
    answers(part)
}

fn real_services() -> Value {
    let v: Value = serde_json::from_str(fixture!("lab7-network-inspect-appnet-verbose.json")).expect("JSON");
    v[0]["Services"].clone()
}

fn endpoint_ips(service: &Value) -> BTreeSet<Ipv4Addr> {
    service["Tasks"]
        .as_array()
        .expect("Tasks")
        .iter()
        .map(|t| t["EndpointIP"].as_str().expect("EndpointIP").parse().expect("IP"))
        .collect()
}

#[test]
fn dnsrr_name_resolves_to_every_task_and_a_vip_service_to_its_vip_in_both_eras() {
    let real = real_services();
    // The real engine: webrr → both task IPs (= its endpoints), webhost → its VIP.
    assert_eq!(answers(fixture!("lab7-task-nslookup-webrr.txt")), endpoint_ips(&real["webrr"]));
    let real_vip: Ipv4Addr = real["webhost"]["VIP"].as_str().expect("VIP").parse().expect("IP");
    assert_eq!(answers(fixture!("lab7-task-nslookup-webhost.txt")), BTreeSet::from([real_vip]));
    for version in ["29", "20.10"] {
        let s = run(
            version,
            &[WEBRR, WEBHOST, CLIENT, "docker exec client nslookup webrr", "docker exec client nslookup webhost"],
        );
        let tasks = task_ips(&s, "webrr", "appnet");
        assert_eq!(tasks.len(), 2);
        assert_eq!(nslookup(&s, "webrr"), tasks, "{version}");
        let svc = swarm(&s).services.iter().find(|x| x.name == "webhost").expect("webhost");
        assert_eq!(nslookup(&s, "webhost"), BTreeSet::from([svc.vips[0].1]), "{version}");
        let rr = swarm(&s).services.iter().find(|x| x.name == "webrr").expect("webrr");
        assert!(rr.vips.is_empty(), "{version}: dnsrr has no VIP: {:?}", rr.vips);
    }
}

#[test]
fn dnsrr_gets_no_ipvs_and_no_vip_in_the_load_balancer() {
    for version in ["29", "20.10"] {
        let s = run(version, &[WEBRR]);
        let d = s.director.as_ref().expect("director");
        assert!(d.plan().ipvs.is_empty(), "{version}: {:?}", d.plan().ipvs);
        assert!(!d.plan().iptables.iter().any(|r| r.rule.contains("MARK")), "{version}");
        let node = swarm(&s).node("node1").expect("node1");
        assert!(node.fwmarks.is_empty(), "{version}: {:?}", node.fwmarks);
        // 20.10 makes the node's lb sandbox with dnsrr services alone, without a VIP in it
        // (traces/docker/docker/swarm-single-node: lb-appnet, eth0 only); the v29 model
        // makes it for VIP services only (unverified on a real v29 engine).
        let lb = s.world.ns_by_name("node1:lb-appnet");
        if version == "20.10" {
            let lb = lb.expect("20.10: lb-appnet");
            let addrs: Vec<String> = s.world.netns(lb).addrs.iter().map(|a| a.addr.to_string()).collect();
            assert_eq!(addrs.iter().filter(|a| !a.starts_with("127.")).count(), 1, "{addrs:?}");
        } else {
            assert!(lb.is_none(), "{version}");
        }
    }
}

#[test]
fn lab7_inspect_verbose_services_show_dnsrr_without_a_vip() {
    let real = real_services();
    for version in ["29", "20.10"] {
        let s = run(version, &[WEBRR, WEBHOST, "docker network inspect -v appnet"]);
        let v: Value = serde_json::from_str(&ok(&s, "docker network inspect -v appnet")).expect("JSON");
        let sim = &v[0]["Services"];
        let keys = |x: &Value| -> Vec<String> { x.as_object().expect("object").keys().cloned().collect() };
        for name in ["webrr", "webhost"] {
            assert_eq!(keys(&sim[name]), keys(&real[name]), "{version} {name}");
            let (st, rt) = (&sim[name]["Tasks"][0], &real[name]["Tasks"][0]);
            assert_eq!(keys(st), keys(rt), "{version} {name}");
            assert_eq!(keys(&st["Info"]), keys(&rt["Info"]), "{version} {name}");
            assert_eq!(st["Info"]["Host IP"], "192.168.99.101");
            assert_eq!(sim[name]["Ports"], real[name]["Ports"], "{version} {name}");
            assert_eq!(
                sim[name]["Tasks"].as_array().map(Vec::len),
                real[name]["Tasks"].as_array().map(Vec::len),
                "{version} {name}"
            );
        }
        assert_eq!(sim["webrr"]["VIP"], real["webrr"]["VIP"], "{version}: <nil>");
        assert_eq!(sim["webrr"]["VIP"], "<nil>");
        assert_eq!(endpoint_ips(&sim["webrr"]), task_ips(&s, "webrr", "appnet"), "{version}");
        let svc = swarm(&s).services.iter().find(|x| x.name == "webhost").expect("webhost");
        assert_eq!(sim["webhost"]["VIP"], svc.vips[0].1.to_string(), "{version}");
        // Plain inspect (no -v) has no Services, as the real one (network-inspect-appnet.json).
        let d = s.director.as_ref().expect("director");
        let plain: Value = serde_json::from_str(&d.inspect_network("node1", "appnet").expect("inspect")).expect("JSON");
        assert!(plain[0].get("Services").is_none(), "{version}");
    }
}

#[test]
fn same_seed_same_run_with_dnsrr_and_mode_host() {
    let steps =
        [WEBRR, WEBHOST, CLIENT, "docker exec client nslookup webrr", "lanpc: curl http://192.168.99.101:8080/"];
    let (a, b) = (run("20.10", &steps), run("20.10", &steps));
    assert_eq!(a.app_output(), b.app_output());
    let frames = |s: &Sim| -> Vec<Option<Vec<u8>>> { s.records().iter().map(|r| r.frame.clone()).collect() };
    assert_eq!(frames(&a), frames(&b));
}
