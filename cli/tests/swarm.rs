//! The swarm model (ingress routing mesh, overlay VXLAN, service VIPs, IPVS, swarm IPAM and
//! scheduling) checked against Docker's behaviour (sections in *italics* are in
//! docs/docker-model.md, which names the moby and swarmkit sources) and Wireshark's tshark, on the
//! founding tutorial (scenarios/swarm-webapp-mysql.ron) and the overlay lab
//! (scenarios/docker/swarm-overlay-vip.ron). tshark is required: these tests fail (not skip)
//! without it.

mod common;

use std::path::{Path, PathBuf};

use common::{BAD_CHECKSUM, CHECKSUMS, between, fields, netsim, nth_between, root, tshark};

fn tutorial() -> PathBuf {
    root().join("scenarios/swarm-webapp-mysql.ron")
}

fn overlay_lab() -> PathBuf {
    root().join("scenarios/docker/swarm-overlay-vip.ron")
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-swarm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `netsim run FILE --quiet --pcap tmp.pcapng`: the capture and what the commands printed.
/// `tag` names the capture, so that tests running in parallel do not share a file.
fn run(scenario: &Path, tag: &str) -> (PathBuf, String) {
    let name = scenario.file_stem().expect("stem").to_string_lossy().into_owned();
    let pcap = temp_dir().join(format!("{name}-{tag}.pcapng"));
    let out = netsim(&["run", scenario.to_str().expect("utf8"), "--quiet", "--pcap", pcap.to_str().expect("utf8")]);
    assert!(out.status.success(), "netsim run {} failed: {}", scenario.display(), String::from_utf8_lossy(&out.stderr));
    (pcap, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `netsim run FILE --quiet` without a capture.
fn run_quiet(scenario: &Path) -> String {
    let out = netsim(&["run", scenario.to_str().expect("utf8"), "--quiet"]);
    assert!(out.status.success(), "netsim run {} failed: {}", scenario.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn show(scenario: &Path, ns: &str, what: &str) -> String {
    let out = netsim(&["show", scenario.to_str().expect("utf8"), ns, what]);
    assert!(out.status.success(), "show {ns} {what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `netsim inspect FILE network NAME [--on HOST]` with every whitespace removed, so that a
/// JSON fragment can be matched as `{"Name":"node1","IP":"192.168.99.101"}`.
fn inspect_compact(scenario: &Path, net: &str, on: Option<&str>) -> String {
    let mut args = vec!["inspect", scenario.to_str().expect("utf8"), "network", net];
    if let Some(h) = on {
        args.extend(["--on", h]);
    }
    let out = netsim(&args);
    assert!(out.status.success(), "inspect {net}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has_lines(text: &str, lines: &[String], what: &str) {
    for l in lines {
        // iproute2 ends a neighbour line with a blank.
        assert!(text.lines().any(|t| t.trim_end() == l), "{what}: missing line `{l}` in:\n{text}");
    }
}

/// The first full task name `<service>.<slot>.<task id>` that starts with `prefix` in `text`.
fn task_name(text: &str, prefix: &str) -> String {
    let at = text.find(prefix).unwrap_or_else(|| panic!("no task `{prefix}…` in:\n{text}"));
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect()
}

/// The address (without the prefix length) of the `inet A/LEN` line on `dev` in `ip addr`
/// output, skipping /32 aliases (VIPs).
fn inet_on(addr: &str, dev: &str) -> String {
    addr.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("inet ") && l.ends_with(&format!(" {dev}")) && !l.contains("/32 "))
        .map(|l| l[5..l.find('/').expect("prefix")].to_string())
        .next()
        .unwrap_or_else(|| panic!("no inet on {dev} in:\n{addr}"))
}

/// The overlay driver's MAC for an address: 02:42 followed by the IPv4 bytes (*Overlay plumbing*).
fn overlay_mac(ip: &str) -> String {
    let b: Vec<u8> = ip.split('.').map(|o| o.parse().expect("octet")).collect();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3])
}

/// The `mtu N` of interface `dev` in `ip link`/`ip addr` output.
fn mtu_of(text: &str, dev: &str) -> u32 {
    let line = text
        .lines()
        .find(|l| {
            l.split_whitespace().nth(1).is_some_and(|n| n == format!("{dev}:") || n.starts_with(&format!("{dev}@")))
        })
        .unwrap_or_else(|| panic!("no interface {dev} in:\n{text}"));
    let mut w = line.split_whitespace();
    w.by_ref().find(|t| *t == "mtu").expect("mtu");
    w.next().expect("mtu value").parse().expect("number")
}

/// The address lines `nslookup` printed for the answer (not the server's `Address:` line).
fn nslookup_answers(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_once("$ Address: ").map(|(_, a)| a.trim().to_string()))
        .filter(|a| !a.contains('#'))
        .collect()
}

/// Every `10.0.1.x` address mentioned in `text`.
fn overlay_addrs(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| t.starts_with("10.0.1.") && t.split('.').count() == 4 && !t.ends_with('.'))
        .map(str::to_string)
        .collect()
}

fn is_swarm_id(id: &str) -> bool {
    id.len() == 25 && id.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}

#[test]
fn tutorial_end_to_end_decodes_http_dns_mysql_and_vxlan() {
    let s = tutorial();
    let (pcap, log) = run(&s, "e2e");

    // Step 9 of the tutorial: the SELECT on the MySQL node shows the posted course.
    let select = between(
        &log,
        "docker exec mysql mysql -u root -pedureka HandsOn -e \"SHOW tables; select * from course_details\"",
        None,
    );
    assert!(select.contains("| course_name | course_id |"), "{select}");
    assert!(select.contains("| Docker      | DK101     |"), "{select}");
    // Step 6: the webapp task runs on the manager, MySQL on the worker (*Swarm behaviour* spread).
    let ps1 = between(&log, "docker ps", Some("docker ps"));
    let ps2 = nth_between(&log, "docker ps", 1, None);
    let webapp = task_name(ps1, "webapp1.1.");
    let mysql = task_name(ps2, "mysql.1.");
    assert!(!ps1.contains("mysql.1."), "{ps1}");

    // A clean capture (same checks as the other Docker labs).
    let malformed = tshark(&pcap, &["-Y", "_ws.malformed"]);
    assert!(malformed.trim().is_empty(), "malformed packets:\n{malformed}");
    let mut args: Vec<&str> = CHECKSUMS.to_vec();
    args.extend(["-Y", BAD_CHECKSUM]);
    let bad = tshark(&pcap, &args);
    assert!(bad.trim().is_empty(), "bad checksums:\n{bad}");

    // *Routing mesh*: the browser's POST to localhost:8001 is DNATed to ingress_sbox
    // (172.18.0.2:8001) on docker_gwbridge, with the form values intact.
    let post = fields(
        &pcap,
        "http.request.method == \"POST\"",
        &["frame.interface_name", "ip.dst", "tcp.dstport", "ip.src", "urlencoded-form.key", "urlencoded-form.value"],
    );
    let on = |ifname: &str| post.iter().filter(|p| p.starts_with(&format!("{ifname}\t"))).collect::<Vec<_>>();
    let gw = on("node1/docker_gwbridge");
    assert_eq!(gw.len(), 1, "{post:?}");
    assert!(gw[0].starts_with("node1/docker_gwbridge\t172.18.0.2\t8001\t"), "{post:?}");
    assert!(gw[0].ends_with("\tcourse_name,course_id\tDocker,DK101"), "{post:?}");
    // In the task, before the REDIRECT: still port 8001, from node1's ingress_sbox address
    // (*Routing mesh*: the backend sees the ingress_sbox IP, not the client), to the task's ingress
    // IP.
    let task_addr = show(&s, &format!("node1:{webapp}"), "addr");
    let task_ingress = inet_on(&task_addr, "eth0");
    assert!(task_ingress.starts_with("10.0.0."), "{task_addr}");
    let in_task = on(&format!("node1:{webapp}/eth0"));
    assert_eq!(
        in_task,
        [&format!("node1:{webapp}/eth0\t{task_ingress}\t8001\t10.0.0.2\tcourse_name,course_id\tDocker,DK101")],
        "{post:?}"
    );

    // *Embedded DNS*: the webapp asks 127.0.0.11 for `mysql` and gets the service VIP, TTL 600; the
    // VIP is on myoverlaynetwork (10.0.1.0/24) and is not the MySQL task's own address.
    let mysql_ip = inet_on(&show(&s, &format!("node2:{mysql}"), "addr"), "eth1");
    assert!(mysql_ip.starts_with("10.0.1."), "{mysql_ip}");
    let dns = fields(
        &pcap,
        "dns.qry.name == \"mysql\" && dns.flags.response == 1",
        &["frame.interface_name", "dns.resp.ttl", "dns.a"],
    );
    assert_eq!(dns.len(), 1, "{dns:?}");
    let f: Vec<&str> = dns[0].split('\t').collect();
    assert_eq!(f[0], format!("node1:{webapp}/lo"), "{dns:?}");
    assert_eq!(f[1], "600", "embedded DNS TTL (*Embedded DNS*): {dns:?}");
    let vip = f[2].to_string();
    assert!(vip.starts_with("10.0.1.") && !vip.contains(','), "one A record, the VIP: {dns:?}");
    assert_ne!(vip, mysql_ip, "`mysql` must resolve to the VIP, not to the task (*Embedded DNS*, *Service VIP*)");
    // *Service VIP*: the VIP is a /32 alias in node1's LB sandbox.
    let lb_addr = show(&s, "node1:lb-myoverlaynetwork", "addr");
    assert!(lb_addr.contains(&format!("inet {vip}/32 scope global eth0")), "{lb_addr}");
    let lb_ip = inet_on(&lb_addr, "eth0");

    // *On the wire* + *Service VIP*: the INSERT crosses the underlay in VXLAN VNI 4097 between the
    // nodes' advertise addresses, UDP 4789, outer checksum 0, outer TTL 64; inside, the LB's
    // address to the MySQL task (IP-derived MACs, *Overlay plumbing*).
    let vx = fields(
        &pcap,
        "mysql.query contains \"INSERT\" && vxlan",
        &[
            "frame.interface_name",
            "vxlan.vni",
            "ip.src",
            "ip.dst",
            "udp.dstport",
            "udp.checksum",
            "ip.ttl",
            "eth.src",
            "eth.dst",
            "mysql.query",
        ],
    );
    let ifaces: Vec<&str> = vx.iter().map(|l| l.split('\t').next().expect("iface")).collect();
    assert!(ifaces.contains(&"node1/eth0") && ifaces.contains(&"node2/eth0"), "{vx:?}");
    for l in &vx {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[1], "4097", "{l}");
        assert_eq!(f[2], format!("192.168.99.101,{lb_ip}"), "outer src = node1, inner src = node1's LB IP: {l}");
        assert_eq!(f[3], format!("192.168.99.102,{mysql_ip}"), "outer dst = node2, inner dst = the task: {l}");
        assert_eq!(f[4], "4789", "{l}");
        assert_eq!(f[5], "0x0000", "outer UDP checksum 0 (*On the wire*): {l}");
        assert!(f[6].starts_with("64,"), "outer TTL 64 (*On the wire*): {l}");
        assert!(f[7].ends_with(&format!(",{}", overlay_mac(&lb_ip))), "{l}");
        assert!(f[8].ends_with(&format!(",{}", overlay_mac(&mysql_ip))), "{l}");
        assert_eq!(f[9], "INSERT INTO course_details (course_name, course_id) VALUES ('Docker', 'DK101')", "{l}");
    }

    // *Peer table*: ARP for overlay addresses never reaches the underlay (the overlays do ARP, the
    // filter matches them there, but not on the nodes' eth0).
    let arp10 = "arp && (arp.src.proto_ipv4 == 10.0.0.0/8 || arp.dst.proto_ipv4 == 10.0.0.0/8)";
    assert!(!fields(&pcap, arp10, &["frame.interface_name"]).is_empty(), "no overlay ARP at all?");
    let leaked = fields(
        &pcap,
        &format!("({arp10}) && (frame.interface_name == \"node1/eth0\" || frame.interface_name == \"node2/eth0\")"),
        &["frame.interface_name", "arp.dst.proto_ipv4"],
    );
    assert!(leaked.is_empty(), "ARP for overlay addresses on the underlay: {leaked:?}");
}

#[test]
fn hop_log_follows_dnat_mark_ipvs_snat_redirect_then_vxlan() {
    let s = tutorial();
    let out = netsim(&["run", s.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hops = String::from_utf8_lossy(&out.stdout).into_owned();
    let webapp = task_name(&hops, "webapp1.1.");
    let ingress_ip = inet_on(&show(&s, &format!("node1:{webapp}"), "addr"), "eth0");
    // *Routing mesh* packet walk, then *Service VIP*/*VNI and ports* for the MySQL connection to
    // node2.
    let chain = [
        "DNAT 127.0.0.1:8001 → 172.18.0.2:8001".to_string(),
        "-j MARK --set-xmark 0x100/0xffffffff → mark set to 0x100".to_string(),
        format!("IPVS FWM 256 rr → {ingress_ip}:0 (Masq)"),
        "-m ipvs --ipvs -j SNAT --to-source 10.0.0.2 → SNAT ".to_string(),
        format!("REDIRECT {ingress_ip}:8001 → {ingress_ip}:80"),
        "vxlan0: encap vni 4097 → remote VTEP 192.168.99.102".to_string(),
    ];
    let mut at = 0;
    for step in &chain {
        let found = hops[at..]
            .find(step.as_str())
            .unwrap_or_else(|| panic!("`{step}` not found after the previous link of the chain {chain:?} in:\n{hops}"));
        at += found + step.len();
        if step.contains("SNAT") {
            // The SNAT line's translation ends in node1's ingress_sbox address.
            let line_end = hops[at..].find('\n').expect("eol");
            assert!(hops[at..at + line_end].contains("→ 10.0.0.2:"), "{}", &hops[at..at + line_end]);
        }
    }
}

#[test]
fn swarm_allocations_names_and_overlay_plumbing() {
    let s = tutorial();
    let log = run_quiet(&s);

    // *Default address pools*/*VNI and ports*/*ingress and docker_gwbridge*: ingress is
    // 10.0.0.0/24, gateway .1, VNI 4096, on both nodes.
    for node in ["node1", "node2"] {
        let ing = inspect_compact(&s, "ingress", Some(node));
        assert!(ing.contains(r#""Config":[{"Subnet":"10.0.0.0/24","Gateway":"10.0.0.1"}]"#), "{node}: {ing}");
        assert!(ing.contains(r#""com.docker.network.driver.overlay.vxlanid_list":"4096""#), "{node}: {ing}");
        assert!(ing.contains(r#""Ingress":true"#) && ing.contains(r#""Scope":"swarm""#), "{node}: {ing}");
        // docker_gwbridge takes the first free local pool (*Default address pools*).
        let host = show(&s, node, "addr");
        assert!(host.contains("inet 172.18.0.1/16 brd 172.18.255.255 scope global docker_gwbridge"), "{host}");
    }
    // *ingress and docker_gwbridge*: ingress_sbox eth0 = the node's ingress attachment (.2 on the
    // first node, .3 on the second), eth1 = 172.18.0.2/16, the first endpoint on docker_gwbridge.
    for (node, ip, mac) in [("node1", "10.0.0.2", "02:42:0a:00:00:02"), ("node2", "10.0.0.3", "02:42:0a:00:00:03")] {
        let sbox = show(&s, &format!("{node}:ingress_sbox"), "addr");
        assert!(sbox.contains(&format!("inet {ip}/24 brd 10.0.0.255 scope global eth0")), "{node}: {sbox}");
        assert!(sbox.contains(&format!("link/ether {mac} ")), "{node}: {sbox}");
        assert!(sbox.contains("inet 172.18.0.2/16 brd 172.18.255.255 scope global eth1"), "{node}: {sbox}");
        assert_eq!(mtu_of(&sbox, "eth0"), 1450, "{node}: {sbox}");
        assert_eq!(mtu_of(&sbox, "eth1"), 1500, "{node}: {sbox}");
    }

    // *Objects and names*/*Inspect output*: the overlay's ID is 25 base-36 chars, the one `network
    // create` printed; the first user overlay is 10.0.1.0/24 with VNI 4097, scope swarm, peers =
    // both nodes.
    let created = between(&log, "docker network create -d overlay myoverlaynetwork", None);
    let id = created.lines().next().expect("ID line").rsplit(' ').next().expect("id").trim().to_string();
    assert!(is_swarm_id(&id), "swarm network ID: `{id}`");
    let net = inspect_compact(&s, "myoverlaynetwork", None);
    for frag in [
        format!(r#""Name":"myoverlaynetwork","Id":"{id}""#),
        r#""Scope":"swarm","Driver":"overlay""#.to_string(),
        r#""Config":[{"Subnet":"10.0.1.0/24","Gateway":"10.0.1.1"}]"#.to_string(),
        r#""com.docker.network.driver.overlay.vxlanid_list":"4097""#.to_string(),
        r#"{"Name":"node1","IP":"192.168.99.101"}"#.to_string(),
        r#"{"Name":"node2","IP":"192.168.99.102"}"#.to_string(),
        r#""lb-myoverlaynetwork":{"Name":"myoverlaynetwork-endpoint""#.to_string(),
    ] {
        assert!(net.contains(&frag), "inspect myoverlaynetwork lacks {frag}:\n{net}");
    }
    let ingress_id = {
        let ing = inspect_compact(&s, "ingress", None);
        let at = ing.find(r#""Id":""#).expect("Id") + 6;
        ing[at..at + 25].to_string()
    };
    assert!(is_swarm_id(&ingress_id), "{ingress_id}");

    // *Swarm behaviour*: task names `<service>.<slot>.<task id>` with a 25-char task ID.
    let webapp = task_name(&log, "webapp1.1.");
    let mysql = task_name(&log, "mysql.1.");
    for t in [&webapp, &mysql] {
        let id = t.rsplit('.').next().expect("task id");
        assert!(is_swarm_id(id), "task name {t}");
    }

    // *Overlay plumbing*: one overlay namespace `1-<first 10 of the ID>` per node with br0 (the
    // gateway, 10.0.1.1/24) and vxlan0 (VNI 4097, port 4789, proxy, l2miss, l3miss), MTU 1450.
    let ovl = format!("1-{}", &id[..10]);
    let webapp_ip = inet_on(&show(&s, &format!("node1:{webapp}"), "addr"), "eth1");
    let mysql_ip = inet_on(&show(&s, &format!("node2:{mysql}"), "addr"), "eth1");
    let lb1 = inet_on(&show(&s, "node1:lb-myoverlaynetwork", "addr"), "eth0");
    let lb2 = inet_on(&show(&s, "node2:lb-myoverlaynetwork", "addr"), "eth0");
    let mut all = vec![webapp_ip.clone(), mysql_ip.clone(), lb1.clone(), lb2.clone()];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "distinct endpoint addresses: {all:?}");
    assert!(all.iter().all(|a| a.starts_with("10.0.1.") && a != "10.0.1.1"), "{all:?}");
    for (node, me, local, remote, peer) in [
        ("node1", "192.168.99.101", [&webapp_ip, &lb1], [&mysql_ip, &lb2], "192.168.99.102"),
        ("node2", "192.168.99.102", [&mysql_ip, &lb2], [&webapp_ip, &lb1], "192.168.99.101"),
    ] {
        let ns = format!("{node}:{ovl}");
        let addr = show(&s, &ns, "addr");
        assert!(addr.contains("inet 10.0.1.1/24 brd 10.0.1.255 scope global br0"), "{ns}: {addr}");
        assert!(addr.contains(&format!("vxlan id 4097 local {me} dstport 4789 proxy l2miss l3miss")), "{ns}: {addr}");
        assert_eq!(mtu_of(&addr, "br0"), 1450, "{ns}: {addr}");
        assert_eq!(mtu_of(&addr, "vxlan0"), 1450, "{ns}: {addr}");
        assert!(addr.lines().any(|l| l.contains(" vxlan0: ") && l.contains(" master br0 ")), "{ns}: {addr}");
        // *Peer table*: PERMANENT neighbours and `dst` FDB entries for the remote endpoints only.
        let neigh = show(&s, &ns, "neigh");
        let fdb = show(&s, &ns, "fdb");
        for ip in remote {
            let mac = overlay_mac(ip);
            assert_has_lines(&neigh, &[format!("{ip} dev vxlan0 lladdr {mac} PERMANENT")], &format!("{ns} neigh"));
            assert_has_lines(&fdb, &[format!("{mac} dev vxlan0 dst {peer} self permanent")], &format!("{ns} fdb"));
        }
        for ip in local {
            assert!(!neigh.contains(&format!("{ip} ")), "{ns}: local endpoint {ip} must not be programmed:\n{neigh}");
            let mac = overlay_mac(ip);
            assert!(!fdb.lines().any(|l| l.starts_with(&mac) && l.contains(" dst ")), "{ns}: {fdb}");
        }
        assert!(!fdb.contains(&format!("dst {me}")), "{ns}: no FDB entry points at the node itself:\n{fdb}");
        // The ingress overlay namespace exists too, with VNI 4096.
        let ing = show(&s, &format!("{node}:1-{}", &ingress_id[..10]), "link");
        assert!(ing.contains(&format!("vxlan id 4096 local {me} dstport 4789")), "{node}: {ing}");
    }

    // *Overlay plumbing*: task interfaces on overlays have MTU 1450 and 02:42:<IP> MACs; the
    // docker_gwbridge leg (default route, *Overlay plumbing*) keeps 1500. The interfaces are
    // named by network (ingress, then myoverlaynetwork), docker_gwbridge last (*Objects and
    // names*).
    for (node, task) in [("node1", &webapp), ("node2", &mysql)] {
        let ns = format!("{node}:{task}");
        let addr = show(&s, &ns, "addr");
        for dev in ["eth0", "eth1"] {
            let ip = inet_on(&addr, dev);
            assert_eq!(mtu_of(&addr, dev), 1450, "{ns} {dev}: {addr}");
            assert!(addr.contains(&format!("link/ether {} ", overlay_mac(&ip))), "{ns} {dev} MAC: {addr}");
        }
        assert!(inet_on(&addr, "eth2").starts_with("172.18.0."), "{ns}: {addr}");
        assert_eq!(mtu_of(&addr, "eth2"), 1500, "{ns}: {addr}");
        let route = show(&s, &ns, "route");
        assert!(route.lines().any(|l| l == "default via 172.18.0.1 dev eth2 "), "{ns}: {route}");
    }
}

#[test]
fn iptables_and_ipvs_follow_the_routing_mesh_layout() {
    let s = tutorial();
    let log = run_quiet(&s);
    let webapp = task_name(&log, "webapp1.1.");
    let ingress_ip = inet_on(&show(&s, &format!("node1:{webapp}"), "addr"), "eth0");

    // *Routing mesh* host rules (nat and filter) and *ingress and docker_gwbridge* docker_gwbridge
    // with icc=false.
    let ipt = show(&s, "node1", "iptables");
    let want: Vec<String> = [
        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS",
        "-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS",
        "-A DOCKER-INGRESS -p tcp -m tcp --dport 8001 -j DNAT --to-destination 172.18.0.2:8001",
        "-A DOCKER-INGRESS -p tcp -m tcp --dport 3306 -j DNAT --to-destination 172.18.0.2:3306",
        "-A DOCKER-INGRESS -j RETURN",
        "-A POSTROUTING -o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE",
        "-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE",
        "-A DOCKER-FORWARD -j DOCKER-INGRESS",
        "-A DOCKER-INGRESS -p tcp -m tcp --dport 8001 -j ACCEPT",
        "-A DOCKER-INGRESS -p tcp -m tcp --sport 8001 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A DOCKER-FORWARD -i docker_gwbridge -o docker_gwbridge -j DROP",
        "-A DOCKER-FORWARD -i docker_gwbridge ! -o docker_gwbridge -j ACCEPT",
    ]
    .iter()
    .map(|l| l.to_string())
    .collect();
    assert_has_lines(&ipt, &want, "node1 iptables");
    // DOCKER-INGRESS comes before DOCKER in nat PREROUTING, and is the first DOCKER-FORWARD rule.
    let ing = ipt.find("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS").expect("jump");
    let dock = ipt.find("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n").expect("DOCKER jump");
    assert!(ing < dock, "{ipt}");
    let first_fwd = ipt.lines().find(|l| l.starts_with("-A DOCKER-FORWARD ")).expect("DOCKER-FORWARD");
    assert_eq!(first_fwd, "-A DOCKER-FORWARD -j DOCKER-INGRESS", "{ipt}");
    // icc=false: no blanket accept of docker_gwbridge → docker_gwbridge.
    assert!(!ipt.contains("-A DOCKER-FORWARD -i docker_gwbridge -j ACCEPT"), "{ipt}");

    // ingress_sbox: MARK (iptables-save's --set-xmark form), the ipvs SNAT (*Routing mesh*).
    let sbox = show(&s, "node1:ingress_sbox", "iptables");
    assert_has_lines(
        &sbox,
        &[
            "*mangle".into(),
            "-A PREROUTING -p tcp -m tcp --dport 8001 -j MARK --set-xmark 0x100/0xffffffff".into(),
            "*nat".into(),
            "-A POSTROUTING -d 10.0.0.0/24 -m ipvs --ipvs -j SNAT --to-source 10.0.0.2".into(),
        ],
        "ingress_sbox iptables",
    );
    // The ingress VIP of webapp1 gets the same mark in mangle INPUT (*Routing mesh*).
    let sbox_addr = show(&s, "node1:ingress_sbox", "addr");
    let vips: Vec<&str> = sbox_addr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("inet 10.0.0."))
        .filter(|l| l.contains("/32 "))
        .collect();
    assert!(!vips.is_empty(), "the ingress VIPs are /32 aliases on eth0: {sbox_addr}");
    assert!(
        sbox.lines()
            .any(|l| l.starts_with("-A INPUT -d 10.0.0.") && l.ends_with("-j MARK --set-xmark 0x100/0xffffffff"))
    );

    // *Routing mesh*/*Inspect output*: `ipvsadm -ln` in ingress_sbox: FWM 256 rr → the task's
    // ingress IP, port 0, Masq.
    let ipvs = show(&s, "node1:ingress_sbox", "ipvs");
    let lines: Vec<&str> = ipvs.lines().collect();
    let fwm = lines.iter().position(|l| l.trim_end() == "FWM  256 rr").unwrap_or_else(|| panic!("{ipvs}"));
    let real: Vec<&str> = lines[fwm + 1].split_whitespace().collect();
    let rs = format!("{ingress_ip}:0");
    assert_eq!(real[..4], ["->", rs.as_str(), "Masq", "1"], "{ipvs}");

    // The task: REDIRECT published → target, then the INPUT/OUTPUT pairs (*Routing mesh*), the
    // ACCEPTs (inserted with -I) before the DROPs.
    let task = show(&s, &format!("node1:{webapp}"), "iptables");
    let ip = &ingress_ip;
    assert_has_lines(
        &task,
        &[
            format!("-A PREROUTING -d {ip}/32 -p tcp -m tcp --dport 8001 -j REDIRECT --to-ports 80"),
            format!("-A INPUT -d {ip}/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT"),
            format!("-A OUTPUT -s {ip}/32 -p tcp -m tcp --sport 80 -m conntrack --ctstate ESTABLISHED -j ACCEPT"),
            format!("-A INPUT -d {ip}/32 -p sctp -j DROP"),
            format!("-A INPUT -d {ip}/32 -p udp -j DROP"),
            format!("-A INPUT -d {ip}/32 -p tcp -j DROP"),
            format!("-A OUTPUT -s {ip}/32 -p sctp -j DROP"),
            format!("-A OUTPUT -s {ip}/32 -p udp -j DROP"),
            format!("-A OUTPUT -s {ip}/32 -p tcp -j DROP"),
        ],
        "task iptables",
    );
    let accept = task.find(&format!("-A INPUT -d {ip}/32 -p tcp -m tcp --dport 80")).expect("accept");
    let drop = task.find(&format!("-A INPUT -d {ip}/32 -p tcp -j DROP")).expect("drop");
    assert!(accept < drop, "{task}");

    // *Service VIP*: the LB sandbox of myoverlaynetwork: mangle INPUT -d VIP → MARK, SNAT to its
    // own IP.
    let lb = show(&s, "node1:lb-myoverlaynetwork", "iptables");
    let lb_ip = inet_on(&show(&s, "node1:lb-myoverlaynetwork", "addr"), "eth0");
    assert_has_lines(
        &lb,
        &[format!("-A POSTROUTING -d 10.0.1.0/24 -m ipvs --ipvs -j SNAT --to-source {lb_ip}")],
        "lb-myoverlaynetwork iptables",
    );
    assert!(
        lb.lines().any(|l| l.starts_with("-A INPUT -d 10.0.1.") && l.contains("/32 -j MARK --set-xmark 0x")),
        "{lb}"
    );
}

#[test]
fn overlay_lab_vip_tasks_round_robin_scale_and_node_failure() {
    let s = overlay_lab();
    let log = run_quiet(&s);

    // *Embedded DNS*: `web` → one address (the VIP); `tasks.web` → every task.
    let vip = nslookup_answers(between(
        &log,
        "docker exec client nslookup web",
        Some("docker exec client nslookup tasks.web"),
    ));
    assert_eq!(vip.len(), 1, "{vip:?}");
    let vip = vip[0].clone();
    let tasks_before = nslookup_answers(between(
        &log,
        "docker exec client nslookup tasks.web",
        Some("docker exec client wget -qO- http://web/"),
    ));
    assert_eq!(tasks_before.len(), 2, "{tasks_before:?}");
    assert!(!tasks_before.contains(&vip), "{tasks_before:?} vs VIP {vip}");

    // *Routing mesh*/*Service VIP*: two successive page fetches (alpine's wget) to the VIP reach two different tasks (IPVS
    // rr), each seeing node1's LB address as the source.
    let lb1 = inet_on(&show(&s, "node1:lb-appnet", "addr"), "eth0");
    let mut backends = Vec::new();
    for n in 0..2 {
        let to = if n == 0 { "docker exec client wget -qO- http://web/" } else { "docker service scale web=3" };
        let out = nth_between(&log, "docker exec client wget -qO- http://web/", n, Some(to));
        assert!(out.contains("<h1>Welcome to nginx!</h1>"), "{out}");
        let line = out.lines().find(|l| l.contains("received") && l.contains("GET / HTTP/1.1")).expect("served");
        assert!(line.contains(&format!(" from {lb1}:")), "backend sees the LB IP: {line}");
        let ns = line.split_whitespace().find(|w| w.starts_with("node")).expect("namespace").to_string();
        backends.push(ns);
    }
    assert_ne!(backends[0], backends[1], "round robin must pick another task the second time");

    // After `scale web=3`: three task addresses, the first two kept.
    let scaled = nslookup_answers(nth_between(
        &log,
        "docker exec client nslookup tasks.web",
        1,
        Some("docker run -dit --name probe --network appnet alpine"),
    ));
    assert_eq!(scaled.len(), 3, "{scaled:?}");
    assert!(tasks_before.iter().all(|a| scaled.contains(a)), "{tasks_before:?} ⊄ {scaled:?}");

    // Node failure (*Swarm behaviour*): node2's tasks are shut down and replaced on node1 by new
    // tasks in the same slots; swarm IPAM is serial, so their addresses were never used before.
    let before_failure = &log[..log.find("$ systemctl stop docker\n").expect("stop step")];
    let used = overlay_addrs(before_failure);
    let ps_before = between(&log, "docker service ps web", Some("docker exec client nslookup web"));
    let ps = nth_between(&log, "docker service ps web", 1, Some("docker exec client nslookup tasks.web"));
    let rows = |text: &str, node: &str, state: &str| -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| l.split_once(" $ ").map(|(_, r)| r))
            // A replaced task is listed under its slot's running one as `\_ web.2`.
            .map(|r| r.split_whitespace().filter(|w| *w != "\\_").collect::<Vec<_>>())
            .filter(|w| w.len() >= 6 && w[3] == node && w[4] == state)
            .map(|w| (w[0].to_string(), w[1].to_string()))
            .collect()
    };
    let down = rows(ps, "node2", "Shutdown");
    let up = rows(ps, "node1", "Running");
    let was_on_node2 = rows(ps_before, "node2", "Running");
    assert!(!down.is_empty(), "node2's tasks must be Shutdown:\n{ps}");
    assert!(rows(ps, "node2", "Running").is_empty(), "nothing runs on node2 any more:\n{ps}");
    for (old_id, slot) in &down {
        let new = up.iter().find(|(_, s)| s == slot).unwrap_or_else(|| panic!("no new {slot} on node1:\n{ps}"));
        assert_ne!(&new.0, old_id, "a new task ID for {slot}:\n{ps}");
    }
    assert!(was_on_node2.iter().all(|t| down.contains(t)), "{was_on_node2:?} vs {down:?}");
    let after = nslookup_answers(nth_between(
        &log,
        "docker exec client nslookup tasks.web",
        2,
        Some("docker exec client wget -qO- http://web/"),
    ));
    assert_eq!(after.len(), 3, "{after:?}");
    let fresh: Vec<&String> = after.iter().filter(|a| !scaled.contains(a)).collect();
    assert_eq!(fresh.len(), down.len(), "one new address per moved task: {scaled:?} → {after:?}");
    for a in &fresh {
        assert!(a.starts_with("10.0.1."), "{a}");
        assert!(!used.contains(a), "serial IPAM must not reuse {a} (used before: {used:?})");
    }
    let last = nth_between(&log, "docker exec client wget -qO- http://web/", 2, None);
    assert!(last.contains("<h1>Welcome to nginx!</h1>"), "{last}");
    assert!(last.contains(&format!("resolved web → {vip}")), "the VIP stays:\n{last}");

    // node2's task namespaces are gone; the new tasks have namespaces on node1 with the new
    // addresses; node1's IPVS lists exactly the live tasks.
    let stop = between(&log, "systemctl stop docker", Some("docker service ps web"));
    let moved: Vec<(String, String)> = stop
        .lines()
        .filter_map(|l| l.split_once(" $ ").map(|(_, r)| r.trim()))
        .filter(|r| r.starts_with("web."))
        .filter_map(|r| r.split_once(" → ").map(|(a, b)| (a.to_string(), b.trim_end_matches(" on node1").to_string())))
        .collect();
    assert_eq!(moved.len(), down.len(), "{stop}");
    for (old, new) in &moved {
        let gone = netsim(&["show", s.to_str().expect("utf8"), &format!("node2:{old}"), "addr"]);
        assert!(!gone.status.success(), "node2:{old} must be gone after `systemctl stop docker`");
        let addr = show(&s, &format!("node1:{new}"), "addr");
        let ip = inet_on(&addr, "eth0");
        assert!(fresh.contains(&&ip), "{new}: {ip} not in {fresh:?}");
    }
    let ipvs = show(&s, "node1:lb-appnet", "ipvs");
    let fwm = ipvs.find("FWM  256 rr").expect("web's FWM");
    let block = ipvs[fwm..].lines().skip(1).take_while(|l| l.trim_start().starts_with("->")).collect::<Vec<_>>();
    let mut reals: Vec<String> =
        block.iter().map(|l| l.split_whitespace().nth(1).expect("rs").trim_end_matches(":0").to_string()).collect();
    reals.sort();
    let mut want = after.clone();
    want.sort();
    assert_eq!(reals, want, "{ipvs}");
}

/// Writes a two-node scenario with `steps` (one per line) and runs it; returns the
/// normalised error text, the file name and the 1-based line of each step.
fn run_bad(name: &str, steps: &[(&str, &str)]) -> (String, String, Vec<usize>) {
    let mut text = format!(
        "// {name}: a scenario with a mistake\nScenario(\n    name: \"{name}\",\n    seed: 1,\n    hosts: [\n        \
         (name: \"node1\", addr: \"192.168.99.101/24\"),\n        (name: \"node2\", addr: \"192.168.99.102/24\"),\n    ],\n    \
         steps: [\n"
    );
    let mut lines = Vec::new();
    for (on, run) in steps {
        lines.push(text.lines().count() + 1);
        text.push_str(&format!("        (on: \"{on}\", run: \"{run}\"),\n"));
    }
    text.push_str("    ],\n)\n");
    let file = format!("{name}.ron");
    let path = temp_dir().join(&file);
    std::fs::write(&path, &text).expect("write scenario");
    let out = netsim(&["run", path.to_str().expect("utf8"), "-q"]);
    // As in a shell, the failing step prints its error and the lab goes on; the loader
    // warns about it on stderr, at its place in the file.
    assert!(out.status.success(), "{name}: the run goes on past a failing step");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(exit status "), "{name}: the failure shows in the hop log: {stdout}");
    let err = String::from_utf8_lossy(&out.stderr).replace('│', " ");
    (err.split_whitespace().collect::<Vec<_>>().join(" "), file, lines)
}

/// The warning names `file:LINE:COL` with LINE the last step's line and COL inside its `run:` string.
fn assert_at_last_step(err: &str, file: &str, lines: &[usize], step: &str) {
    let line = *lines.last().expect("a step");
    let at = err.find(&format!("{file}:{line}:")).unwrap_or_else(|| panic!("no {file}:{line}: in {err}"));
    let col: usize = err[at + file.len() + line.to_string().len() + 2..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no column in {err}"));
    let source = format!("        (on: \"node1\", run: \"{step}\"),");
    let start = source.find("run: \"").expect("run") + 6 + 1; // 1-based column of the first char
    assert!(col >= start && col < start + step.len(), "column {col} is outside the run string ({start}..): {err}");
}

#[test]
fn bad_swarm_steps_are_reported_at_their_run_line_with_dockers_words() {
    const INIT: (&str, &str) = ("node1", "docker swarm init --advertise-addr 192.168.99.101");
    const JOIN: (&str, &str) = ("node2", "docker swarm join --token WORKER_TOKEN 192.168.99.101:2377");
    // (scenario name, steps, Docker's words)
    type Case = (&'static str, Vec<(&'static str, &'static str)>, &'static str);
    let cases: [Case; 6] = [
        (
            "bad-token",
            vec![INIT, ("node2", "docker swarm join --token SWMTKN-1-bogus 192.168.99.101:2377")],
            "A valid join token is necessary to join this cluster",
        ),
        (
            "overlay-on-worker",
            vec![INIT, JOIN, ("node2", "docker network create -d overlay wnet")],
            "Error response from daemon: Cannot create a multi-host network from a worker node",
        ),
        (
            "no-swarm",
            vec![("node1", "docker service create --name web nginx")],
            "Error response from daemon: This node is not a swarm manager",
        ),
        (
            "unknown-flag",
            vec![INIT, ("node1", "docker service create --bogus --name web nginx")],
            "unknown flag: --bogus",
        ),
        (
            "port-in-use",
            vec![
                INIT,
                ("node1", "docker service create --name web -p 8080:80 nginx"),
                ("node1", "docker service create --name web2 -p 8080:80 nginx"),
            ],
            "InvalidArgument desc = port '8080' is already in use by service",
        ),
        (
            "network-exists",
            vec![
                INIT,
                ("node1", "docker network create -d overlay appnet"),
                ("node1", "docker network create -d overlay appnet"),
            ],
            "Error response from daemon: network with name appnet already exists",
        ),
    ];
    for (name, steps, words) in cases {
        let (err, file, lines) = run_bad(name, &steps);
        assert!(err.contains(words), "{name}: expected `{words}` in: {err}");
        let (on, step) = *steps.last().expect("step");
        // The column check uses the `node1` prefix length; `node2` has the same length.
        assert_eq!(on.len(), "node1".len());
        assert_at_last_step(&err, &file, &lines, step);
    }
}

#[test]
fn published_port_conflict_names_the_other_service() {
    // SK/manager/controlapi/service.go checkPortConflicts:
    // "port '%d' is already in use by service '%s' (%s) as an ingress port".
    let (err, _, _) = run_bad(
        "port-in-use-wording",
        &[
            ("node1", "docker swarm init --advertise-addr 192.168.99.101"),
            ("node1", "docker service create --name web -p 8080:80 nginx"),
            ("node1", "docker service create --name web2 -p 8080:80 nginx"),
        ],
    );
    assert!(err.contains("port '8080' is already in use by service 'web' ("), "{err}");
    assert!(err.contains(") as an ingress port"), "{err}");
}

#[test]
fn ipvs_treats_every_packet_of_a_connection_alike() {
    // Every packet of an IPVS connection goes through the same transmit function
    // (ip_vs_in → cp->packet_xmit), so whether or not IPVS costs a hop (*On the wire* leaves that
    // open), the SYN and the later segments leave the LB with the same TTL.
    let (pcap, _) = run(&tutorial(), "ttl");
    for (ifname, dst) in [("node1:ingress_sbox/eth0", "10.0.0.0/24"), ("node1:lb-myoverlaynetwork/eth0", "10.0.1.0/24")]
    {
        let ttls = fields(
            &pcap,
            &format!("frame.interface_name == \"{ifname}\" && tcp && ip.dst == {dst}"),
            &["ip.src", "ip.ttl"],
        );
        let outgoing: Vec<&String> =
            ttls.iter().filter(|l| l.starts_with("10.0.0.2\t") || l.starts_with("10.0.1.4\t")).collect();
        assert!(outgoing.len() > 2, "{ifname}: {ttls:?}");
        assert!(
            outgoing.iter().all(|l| l.split('\t').nth(1) == outgoing[0].split('\t').nth(1)),
            "{ifname}: {outgoing:?}"
        );
    }
}
