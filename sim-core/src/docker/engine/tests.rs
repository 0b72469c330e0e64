//! Sections in *italics* are in docs/docker-model.md.

use super::*;
use crate::userland::apps::Traffic;
use crate::{Sim, SimTime, Until, World};

fn engine() -> Engine {
    Engine::new("node1", 1, Vec::new()).expect("daemon starts")
}

#[test]
fn fresh_daemon_and_first_user_network_follow_docker_defaults() {
    let mut e = engine();
    // *Default address pools*: docker0 takes 172.17.0.0/16 with gateway .1; the first user network
    // 172.18.0.0/16.
    let b = e.network("bridge").expect("bridge");
    assert_eq!((b.device.as_deref(), b.gateway), (Some("docker0"), Some("172.17.0.1".parse().expect("ip"))));
    let id = e.exec_line("docker network create mynet").expect("create");
    assert_eq!(id.len(), 64);
    let n = e.network("mynet").expect("mynet");
    assert_eq!(n.pool.map(|p| p.subnet.to_string()), Some("172.18.0.0/16".into()));
    // *Bridge devices*: br- + the first 12 hex chars of the network id.
    assert_eq!(n.device.clone(), Some(format!("br-{}", &id[..12])));
    e.exec_line("docker run -d --name web --network mynet -p 8080:80 nginx").expect("run");
    e.exec_line("docker run -d --name db --network mynet mysql:8").expect("run");
    e.exec_line("docker run -d --name old nginx").expect("run on the default bridge");
    let ip = |e: &Engine, c: &str| e.containers.iter().find(|x| x.name == c).expect("c").endpoints[0].ip.to_string();
    // *Addresses inside a subnet*: lowest free address from the bottom; .1 is the gateway.
    assert_eq!(
        (ip(&e, "web"), ip(&e, "db"), ip(&e, "old")),
        ("172.18.0.2".into(), "172.18.0.3".into(), "172.17.0.2".into())
    );
    e.exec_line("docker rm -f db").expect("rm");
    e.exec_line("docker run -d --name db2 --network mynet mysql:8").expect("run");
    assert_eq!(ip(&e, "db2"), "172.18.0.3", "a released address is reused at once on local networks");
}

#[test]
fn daemon_errors_read_like_dockers() {
    let mut e = engine();
    e.exec_line("docker network create mynet").expect("create");
    // dockerd's words (moby `libnetwork/error.go` NetworkNameError; 20.10.24 prints the same):
    // `network with name X already exists`.
    assert_eq!(
        e.exec_line("docker network create mynet").unwrap_err().0,
        "Error response from daemon: network with name mynet already exists"
    );
    assert_eq!(
        e.exec_line("docker network rm nope").unwrap_err().0,
        "Error response from daemon: network nope not found"
    );
    assert!(
        e.exec_line("docker network rm bridge")
            .unwrap_err()
            .0
            .contains("bridge is a pre-defined network and cannot be removed")
    );
    e.exec_line("docker run -d --name web nginx").expect("run");
    let dup = e.exec_line("docker run -d --name web nginx").unwrap_err().0;
    assert!(
        dup.starts_with(
            "Error response from daemon: Conflict. The container name \"/web\" is already in use by container \""
        ),
        "{dup}"
    );
    // *Addresses inside a subnet*: a static IP only on user-defined networks. dockerd 20.10 says
    // "user specified IP address is supported on user defined networks only"; newer releases
    // hyphenate it (`daemon/container_operations.go`); the CLI parser answers first, in the 20.10
    // words.
    let ip = e.exec_line("docker run -d --name x --ip 172.17.0.9 nginx").unwrap_err().0;
    assert!(
        ip.replace('-', " ").contains("user specified IP address is supported on user defined networks only"),
        "{ip}"
    );
    // *Published ports*: `Bind for 0.0.0.0:8080 failed: port is already allocated`.
    e.exec_line("docker run -d --name p1 -p 8080:80 nginx").expect("run");
    let bind = e.exec_line("docker run -d --name p2 -p 8080:80 nginx").unwrap_err().0;
    assert!(bind.contains("Bind for 0.0.0.0:8080 failed: port is already allocated"), "{bind}");
    // The start failed, not the create: p2 is left Created, holding its name but no address
    // or port (traces/docker/lifecycle/record.txt).
    let p2 = e.containers.iter().find(|c| c.name == "p2").expect("a Created container");
    assert_eq!(p2.state, RunState::Created);
    assert!(p2.endpoints.is_empty() && p2.ports.is_empty());
    // *IPAM API and errors*: an explicit overlapping subnet.
    let ov = e.exec_line("docker network create --subnet 172.17.5.0/24 other").unwrap_err().0;
    assert!(ov.contains("Pool overlaps with other one on this address space"), "{ov}");
    assert!(e.exec_line("docker network create -d overlay ov").unwrap_err().0.starts_with("netsim:"));
    let busy = e
        .exec_line("docker network create n2")
        .and_then(|_| e.exec_line("docker network connect n2 web"))
        .and_then(|_| e.exec_line("docker network rm n2"));
    assert!(busy.unwrap_err().0.contains("has active endpoints"));
}

#[test]
fn compiled_daemon_serves_a_published_port_and_isolates_networks() {
    let mut e = engine();
    for line in [
        "docker network create frontend",
        "docker network create backend",
        "docker run -d --name web --network frontend -p 8001:80 webapp",
        "docker run -d --name db --network backend mysql:8",
        "docker network connect backend web",
        "docker run -dit --name spy --network frontend alpine",
    ] {
        e.exec_line(line).unwrap_or_else(|x| panic!("{line}: {x}"));
    }
    let mut plan = Plan::default();
    e.plan(&mut plan);
    // A LAN client next to node1.
    super::super::bridge::tests::add_lan_client(&mut plan, "node1");
    let mut w = World::from_plan(&plan, 5).unwrap_or_else(|x| panic!("{x}"));
    let ip = |c: &str, n: &str| {
        e.containers
            .iter()
            .find(|x| x.name == c)
            .and_then(|x| x.endpoints.iter().find(|p| p.network == n))
            .map(|p| p.ip)
            .expect("endpoint")
    };
    let at = SimTime::from_secs;
    for t in [
        Traffic::TcpListen { ns: "web".into(), port: 80, reply: Some("ok".into()), close_after_reply: true },
        Traffic::TcpListen { ns: "db".into(), port: 3306, reply: Some("mysql".into()), close_after_reply: true },
        Traffic::TcpConnect {
            at: at(1),
            ns: "lan".into(),
            dst: "192.168.0.10".parse().expect("ip"),
            dport: 8001,
            send: "GET".into(),
            close: true,
            ttl: None,
        },
        Traffic::TcpConnect {
            at: at(2),
            ns: "web".into(),
            dst: ip("db", "backend"),
            dport: 3306,
            send: "q".into(),
            close: true,
            ttl: None,
        },
        Traffic::Ping {
            at: at(3),
            ns: "spy".into(),
            dst: ip("db", "backend").to_string(),
            count: 1,
            interval: at(1),
            size: 56,
            pmtudisc: crate::kernel::sock::Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour: Default::default(),
            ttl: None,
            numeric: false,
            interface: None,
        },
    ] {
        w.add_traffic(&t).expect("traffic");
    }
    let mut s = Sim::new(w);
    s.run_until(Until::Idle);
    let logs = s.app_output();
    let has = |ns: &str, needle: &str| logs.iter().any(|(n, t)| n == ns && t.contains(needle));
    assert!(has("web", "received 3 bytes from 192.168.0.20:"), "published port, real client address: {logs:#?}");
    assert!(has("lan", "received 2 bytes from 192.168.0.10:8001: \"ok\""), "{logs:#?}");
    // web is on both networks, so it reaches db; spy is only on frontend.
    assert!(has("db", &format!("from {}:", ip("web", "backend"))), "{logs:#?}");
    assert!(has("spy", "1 packets transmitted, 0 received"), "{logs:#?}");
    // web's default route: among its non-internal endpoints the network name that sorts
    // first supplies the gateway (*Objects and names*), so backend (joined second, eth1) wins.
    let web_routes: Vec<_> = plan.routes.iter().filter(|r| r.ns == "web").collect();
    assert_eq!(web_routes.len(), 1);
    assert_eq!(web_routes[0].dev.as_deref(), Some("eth1"), "eth1 is the backend endpoint, joined second");
}

/// A hundred containers `c0`…`c99`, and names that are hexadecimal words, each found by its own
/// name even where an earlier container's ID starts with it (moby `daemon/container.go`
/// `GetContainer`: full ID, then name, then ID prefix).
#[test]
fn names_are_found_before_id_prefixes() {
    let mut e = engine();
    e.exec_line("docker network create appnet").expect("create");
    let mut names: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
    names.extend(["db", "cafe", "add", "abc", "bad", "fee"].map(String::from));
    for n in &names {
        e.exec_line(&format!("docker run -d --name {n} --network appnet nginx"))
            .unwrap_or_else(|x| panic!("{n}: {}", x.0));
    }
    // A name that is an earlier container's ID prefix, for certain.
    let taken = e.containers[0].id[..5].to_string();
    e.exec_line(&format!("docker run -d --name {taken} --network appnet nginx")).expect("run");
    names.push(taken);
    for n in &names {
        let i = e.container_idx(n).expect("found");
        assert_eq!(&e.containers[i].name, n);
    }
    // An ID prefix still finds a container when no name matches, and is refused when several
    // IDs share it, as dockerd refuses it.
    let id = e.containers[3].id.clone();
    assert_eq!(e.container_idx(&id[..10]).expect("prefix"), 3);
    // More than 16 containers: some two IDs share their first hex digit, and no name has one
    // character.
    let shared = (0..16)
        .map(|d| char::from_digit(d, 16).unwrap_or('0').to_string())
        .find(|p| e.containers.iter().filter(|c| c.id.starts_with(p.as_str())).count() > 1)
        .expect("pigeonhole");
    assert_eq!(
        e.container_idx(&shared).unwrap_err().0,
        format!("Error response from daemon: multiple IDs found with provided prefix: {shared}")
    );
    // The same order for networks: a network named like another's ID prefix is found by name.
    let net_id = e.network("appnet").expect("appnet").id.clone();
    e.exec_line(&format!("docker network create {}", &net_id[..4])).expect("create");
    assert_eq!(e.network(&net_id[..4]).expect("by name").name, net_id[..4]);
    assert_eq!(e.network(&net_id[..12]).expect("by prefix").name, "appnet");
}

#[test]
fn a_bridge_takes_1023_containers_and_the_next_is_exchange_full() {
    // The kernel numbers bridge ports in 10 bits with 0 reserved: on Linux 6.18 the 1024th
    // `ip link set vethN master br0` answered "RTNETLINK answers: Exchange full", and dockerd
    // passes the errno's text on (docs/linux-model.md *Limits a run can reach*).
    let mut e = engine();
    let id = e.exec_line("docker network create appnet").expect("create");
    for i in 0..crate::kernel::defaults::BR_MAX_PORTS {
        e.exec_line(&format!("docker run -dit --name n{i} --network appnet alpine")).expect("a port is free");
    }
    let full = e.exec_line("docker run -dit --name last --network appnet alpine").unwrap_err().0;
    // The container is made (its ID printed first) and fails to start, left Created.
    let (made, full) = full.split_once('\n').expect("the ID, then the failure");
    assert_eq!(Some(made), e.container("last").map(|c| c.id.as_str()));
    assert_eq!(e.container("last").map(|c| c.state), Some(RunState::Created));
    let (head, tail) = full.split_once("adding interface veth").expect("names the veth");
    assert_eq!(head, "docker: Error response from daemon: failed to create endpoint last on network appnet: ");
    assert!(tail.ends_with(&format!(" to bridge br-{} failed: exchange full", &id[..12])), "{tail}");
    // The default bridge is another bridge: it still has room.
    e.exec_line("docker run -dit --name other alpine").expect("docker0 has its own ports");
    // The world refuses the same, for a hand-written plan.
    let mut plan = crate::plan::Plan::default();
    e.plan(&mut plan);
    let world = World::from_plan(&plan, 1).expect("1023 ports build");
    let br = format!("br-{}", &id[..12]);
    let host = world.ns_by_name("node1").expect("host");
    let dev = world.dev_by_name(host, &br).expect("bridge");
    match &world.dev(dev).kind {
        crate::kernel::DevKind::Bridge(b) => assert_eq!(b.ports.len(), 1023),
        _ => panic!("{br} is a bridge"),
    }
    plan.links.push(crate::plan::Link::Veth {
        name: "extra".into(),
        ns: "node1".into(),
        peer: "extra-peer".into(),
        peer_ns: "node1".into(),
        mac: None,
        peer_mac: None,
        mtu: None,
        master: Some(br.clone()),
        peer_master: None,
        delay: None,
        txqueuelen: None,
    });
    let err = World::from_plan(&plan, 1).err().expect("the 1024th port is refused");
    assert_eq!(err.token, "extra");
    assert!(err.message.contains("RTNETLINK answers: Exchange full"), "{}", err.message);
}

/// A command names the namespaces whose part of the plan it may change, and compiling just
/// those gives exactly the items the whole plan has there.
#[test]
fn a_command_touches_its_host_and_its_containers_sandboxes_only() {
    let mut e = engine();
    let touched = |e: &mut Engine| {
        let mut t: Vec<String> = e.take_touched().into_iter().collect();
        t.sort();
        t
    };
    e.exec_line("docker network create appnet").expect("create");
    assert_eq!(touched(&mut e), ["node1"], "a network is the host's bridge and rules");
    for i in 0..5 {
        e.exec_line(&format!("docker run -d --name c{i} --network appnet -p 808{i}:80 nginx")).expect("run");
    }
    e.take_touched();
    e.exec_line("docker run -d --name web --network appnet -p 8090:80 nginx").expect("run");
    assert_eq!(touched(&mut e), ["node1", "web"]);
    e.exec_line("docker network connect bridge c1").expect("connect");
    assert_eq!(touched(&mut e), ["c1", "node1"]);
    e.exec_line("docker stop c2").expect("stop");
    e.exec_line("docker rm -f c3").expect("rm");
    assert_eq!(touched(&mut e), ["c2", "c3", "node1"]);
    e.exec_line("docker ps").expect("ps");
    assert!(touched(&mut e).is_empty(), "looking changes nothing");

    // The part for {host, web, c1} is the whole plan's items there, in its order.
    let mut whole = Plan::default();
    e.plan(&mut whole);
    let scope: Set<String> = ["node1", "web", "c1"].into_iter().map(String::from).collect();
    let mut part = Plan::default();
    e.plan_part(&mut part, Some(&scope), None);
    let inside = |ns: &str| scope.contains(ns);
    assert_eq!(part.namespaces, whole.namespaces.iter().filter(|n| inside(&n.name)).cloned().collect::<Vec<_>>());
    assert_eq!(part.links, whole.links.iter().filter(|l| inside(l.ns())).cloned().collect::<Vec<_>>());
    assert_eq!(part.addresses, whole.addresses.iter().filter(|a| inside(&a.ns)).cloned().collect::<Vec<_>>());
    assert_eq!(part.routes, whole.routes.iter().filter(|r| inside(&r.ns)).cloned().collect::<Vec<_>>());
    assert_eq!(part.iptables, whole.iptables.iter().filter(|r| inside(&r.ns)).cloned().collect::<Vec<_>>());
    assert!(part.iptables.iter().any(|r| r.ns == "web"), "web's embedded DNS rules are in the part");
    assert!(!part.links.iter().any(|l| l.ns() == "c4"), "an untouched sandbox is not compiled");
    assert!(
        part.iptables.iter().any(|r| r.ns == "node1" && r.rule.contains("--dport 8084")),
        "the host's rules still list every container's ports"
    );
}

/// The change a step makes, diffed in the namespaces it touched, is the whole plans' diff:
/// with the host's rules kept whole, and with each container's host rules a segment of its
/// own, changed by splices at their places (a container in the middle taken away, one added
/// at the end, one given a second network).
#[test]
fn a_diff_in_the_touched_namespaces_is_the_whole_diff() {
    use crate::kernel::reconf::{PlanShards, RuleSegment};
    for segmented in [false, true] {
        let mut e = engine();
        e.exec_line("docker network create appnet").expect("create");
        for c in ["ca", "cb", "cd"] {
            e.exec_line(&format!("docker run -d --name {c} --network appnet -p 80 nginx")).expect("run");
        }
        e.take_touched();
        let mut before = Plan::default();
        let mut segments = Vec::new();
        e.plan_part(&mut before, None, segmented.then_some(&mut segments));
        assert_eq!(segments.len(), if segmented { 3 } else { 0 }, "a segment per container");
        let mut shards = PlanShards::with_segments(before.clone(), segments.clone());
        RuleSegment::flatten(&mut before, segments);
        e.exec_line("docker rm -f ca").expect("rm");
        e.exec_line("docker run -d --name cc --network appnet -p 8081:80 nginx").expect("run");
        e.exec_line("docker network connect bridge cb").expect("connect");
        let scope = e.take_touched();
        let mut names: Vec<String> = scope.iter().cloned().collect();
        names.sort();
        let mut part = Plan::default();
        let mut segments = Vec::new();
        e.plan_part(&mut part, Some(&scope), segmented.then_some(&mut segments));
        assert!(!part.links.iter().any(|l| l.ns() == "cd"), "an untouched sandbox is not compiled");
        let delta = shards.diff_part(&names, part, segments);
        let mut after = Plan::default();
        e.plan(&mut after);
        let whole = before.diff(&after);
        assert!(!whole.removed.namespaces.is_empty() && !whole.added.namespaces.is_empty(), "{whole:?}");
        assert!(delta.same_change(&whole, &before), "segmented {segmented}:\n{delta:?}\n{whole:?}");
        if segmented {
            // Each splice is one container's rules, not the host's list.
            let sizes: Vec<(usize, usize)> = delta.iptables.iter().map(|(_, s)| (s.drop, s.insert.len())).collect();
            assert!(sizes.iter().all(|(d, i)| d + i <= 4), "{sizes:?}");
            assert_eq!(delta.iptables.len(), 3, "ca's, cb's and cc's segments: {sizes:?}");
        }
        // The shards now hold the plan after the step.
        let all: Vec<String> = shards.namespaces().map(String::from).collect();
        let mut got = shards.part(&all);
        let mut want = after.clone();
        assert_eq!(
            got.iptables.iter().filter(|r| r.ns == "node1").collect::<Vec<_>>(),
            want.iptables.iter().filter(|r| r.ns == "node1").collect::<Vec<_>>(),
            "the host's rules in their order"
        );
        for p in [&mut got, &mut want] {
            p.links.sort_by_cached_key(|x| format!("{x:?}"));
            p.iptables.sort_by_cached_key(|x| format!("{x:?}"));
            p.namespaces.sort_by_cached_key(|x| format!("{x:?}"));
            p.addresses.sort_by_cached_key(|x| format!("{x:?}"));
            p.routes.sort_by_cached_key(|x| format!("{x:?}"));
        }
        assert_eq!(got, want);
    }
}

/// go-units' own cases (`TestHumanDuration` in github.com/docker/go-units
/// `duration_test.go`): the words `docker ps` puts in CREATED and STATUS.
#[test]
fn durations_are_worded_as_go_units_words_them() {
    let (m, h) = (60, 3600);
    let (day, week, month, year) = (24 * h, 7 * 24 * h, 30 * 24 * h, 365 * 24 * h);
    let s = |secs: u64| super::human_duration(crate::engine::SimTime::from_secs(secs));
    assert_eq!(super::human_duration(crate::engine::SimTime::from_millis(450)), "Less than a second");
    let cases: &[(&str, u64)] = &[
        ("1 second", 1),
        ("45 seconds", 45),
        ("59 seconds", 59),
        ("About a minute", 60),
        ("3 minutes", 3 * m),
        ("35 minutes", 35 * m + 40),
        ("59 minutes", 59 * m),
        ("About an hour", h),
        ("About an hour", h + 29 * m),
        ("2 hours", h + 31 * m),
        ("3 hours", 3 * h + 29 * m),
        ("4 hours", 3 * h + 31 * m),
        ("24 hours", 24 * h),
        ("36 hours", day + 12 * h),
        ("2 days", 2 * day),
        ("13 days", 13 * day + 5 * h),
        ("2 weeks", 2 * week),
        ("4 weeks", month),
        ("6 weeks", month + 2 * week),
        ("2 months", 2 * month),
        ("5 months", 5 * month + 2 * week),
        ("24 months", 24 * month),
        ("2 years", 24 * month + 2 * week),
        ("3 years", 3 * year + 2 * month),
    ];
    for &(want, secs) in cases {
        assert_eq!(s(secs), want, "{secs} s");
    }
}
