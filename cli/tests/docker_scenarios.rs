//! The shipped Docker labs (scenarios/docker/*.ron) run as a student runs them, with
//! Wireshark's tshark judging every exported capture and Docker's documented behaviour
//! judging the rest; sections in *italics* are in docs/docker-model.md, which names the moby
//! source of each. tshark is required: these tests fail (not skip) without it.

mod common;

use std::path::{Path, PathBuf};

use common::{BAD_CHECKSUM, CHECKSUMS, between, fields, netsim, nth_between, root, tshark};

fn lab(name: &str) -> PathBuf {
    root().join("scenarios/docker").join(format!("{name}.ron"))
}

fn docker_scenarios() -> Vec<PathBuf> {
    common::scenarios_in("docker", 5)
}

/// `netsim run FILE --quiet --pcap tmp.pcapng`: the capture and what the commands printed.
fn run(scenario: &Path) -> (PathBuf, String) {
    let name = scenario.file_stem().expect("stem").to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("netsim-docker-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Tests run in parallel and several run the same lab: each run gets its own file.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pcap = dir.join(format!("{name}-{n}.pcapng"));
    let out = netsim(&["run", scenario.to_str().expect("utf8"), "--quiet", "--pcap", pcap.to_str().expect("utf8")]);
    assert!(out.status.success(), "netsim run {} failed: {}", scenario.display(), String::from_utf8_lossy(&out.stderr));
    (pcap, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The full hop log (frames and the kernel's reasons), as `netsim run FILE` prints it.
fn hop_log(scenario: &Path) -> String {
    let out = netsim(&["run", scenario.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn show(scenario: &Path, ns: &str, what: &str) -> String {
    let out = netsim(&["show", scenario.to_str().expect("utf8"), ns, what]);
    assert!(out.status.success(), "show {ns} {what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bridge device of a network: `br-` + the first 12 hex chars of the ID that
/// `docker network create NAME` printed (*Bridge devices*).
fn bridge_of(log: &str, net: &str) -> String {
    let after = between(log, &format!("docker network create {net}"), None);
    let id_line = after.lines().next().expect("the ID line");
    let id = id_line.rsplit(' ').next().expect("id").trim();
    assert_eq!(id.len(), 64, "a local network ID is 64 hex chars: {id_line}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    format!("br-{}", &id[..12])
}

fn assert_has_lines(text: &str, lines: &[String], what: &str) {
    for l in lines {
        assert!(text.lines().any(|t| t == l), "{what}: missing line `{l}` in:\n{text}");
    }
}

#[test]
fn every_docker_lab_runs_and_exports_a_clean_pcapng() {
    for s in docker_scenarios() {
        let name = s.file_stem().expect("stem").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&s).expect("read");
        assert!(text.starts_with("//"), "{name}: a lab starts with a comment saying what it teaches");
        let (pcap, _) = run(&s);
        let malformed = tshark(&pcap, &["-Y", "_ws.malformed"]);
        assert!(malformed.trim().is_empty(), "{name}: malformed packets:\n{malformed}");
        let mut args: Vec<&str> = CHECKSUMS.to_vec();
        args.extend(["-Y", BAD_CHECKSUM]);
        let bad = tshark(&pcap, &args);
        assert!(bad.trim().is_empty(), "{name}: bad checksums:\n{bad}");
        let frames = fields(&pcap, "frame", &["frame.interface_name"]);
        assert!(frames.len() > 20, "{name}: too few frames ({})", frames.len());
        for ifname in &frames {
            assert!(ifname.contains('/'), "{name}: interface `{ifname}` is not namespace/interface");
        }
    }
}

#[test]
fn default_bridge_has_no_names_user_bridge_resolves_names_and_aliases() {
    let s = lab("default-vs-user-bridge");
    let (pcap, log) = run(&s);

    // Default bridge: no embedded DNS, so the name fails; the IP works (*Default bridge vs
    // user-defined*).
    let by_name = between(&log, "docker exec c1 ping -c 1 c2", Some("docker exec c1 ping -c 2 172.17.0.3"));
    assert!(!by_name.contains("bytes from"), "{by_name}");
    assert!(by_name.contains("ping: bad address 'c2'"), "ping must report that c2 does not resolve:\n{by_name}");
    let by_ip = between(&log, "docker exec c1 ping -c 2 172.17.0.3", Some("docker network create appnet"));
    // alpine's ping is busybox's: numbered from 0, `packets received`.
    assert!(by_ip.contains("64 bytes from 172.17.0.3: seq=0 ttl=64"), "{by_ip}");
    assert!(by_ip.contains("2 packets transmitted, 2 packets received, 0% packet loss"), "{by_ip}");

    // User bridge: names and aliases through 127.0.0.11; the first user network is 172.18.0.0/16,
    // and containers get .2, .3, .4 in order (*Default address pools*, *Addresses inside a
    // subnet*).
    let web = between(&log, "docker exec client ping -c 2 web", Some("docker exec client nslookup database"));
    assert!(web.contains("resolved web → 172.18.0.2"), "{web}");
    assert!(web.contains("2 packets transmitted, 2 packets received, 0% packet loss"), "{web}");
    let ns = between(&log, "docker exec client nslookup database", Some("docker exec client ping -c 2 database"));
    assert!(ns.contains("Server:\t\t127.0.0.11"), "{ns}");
    assert!(ns.contains("Name:\tdatabase") && ns.contains("Address: 172.18.0.3"), "{ns}");
    let alias =
        between(&log, "docker exec client ping -c 2 database", Some("docker exec client wget -qO- http://web/"));
    assert!(alias.contains("64 bytes from 172.18.0.3: seq=0 ttl=64"), "{alias}");
    // alpine has no curl: busybox's wget prints the page.
    let page = between(&log, "docker exec client wget -qO- http://web/", None);
    assert!(page.contains("client $ <h1>Welcome to nginx!</h1>"), "{page}");

    let br = bridge_of(&log, "appnet");
    let host_addr = show(&s, "host1", "addr");
    assert!(host_addr.contains(&format!("inet 172.18.0.1/16 brd 172.18.255.255 scope global {br}")), "{host_addr}");
    assert!(host_addr.contains("inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0"), "{host_addr}");
    for (c, ip, gw) in [
        ("c1", "172.17.0.2", "172.17.0.1"),
        ("c2", "172.17.0.3", "172.17.0.1"),
        ("web", "172.18.0.2", "172.18.0.1"),
        ("db", "172.18.0.3", "172.18.0.1"),
        ("client", "172.18.0.4", "172.18.0.1"),
    ] {
        let addr = show(&s, &format!("host1:{c}"), "addr");
        assert!(addr.contains(&format!("inet {ip}/16 ")), "{c}: {addr}");
        let route = show(&s, &format!("host1:{c}"), "route");
        assert!(route.lines().any(|l| l == format!("default via {gw} dev eth0 ")), "{c}: {route}");
    }

    // On the wire: every embedded-DNS answer to an A query has TTL 600 (*Embedded DNS*) and
    // the right address, and alpine's nslookup's AAAA query gets NOERROR with no record; the
    // queries stay on the client's lo; c1 never asks 127.0.0.11.
    let aaaa =
        fields(&pcap, "dns.flags.response == 1 && dns.qry.type == 28", &["dns.flags.rcode", "dns.count.answers"]);
    assert_eq!(aaaa, ["0\t0"], "one AAAA answer, empty");
    let answers = fields(
        &pcap,
        "dns.flags.response == 1 && dns.qry.type == 1",
        &["frame.interface_name", "dns.qry.name", "dns.resp.ttl", "dns.a"],
    );
    assert!(!answers.is_empty(), "no DNS answer in the capture");
    for a in &answers {
        let f: Vec<&str> = a.split('\t').collect();
        assert_eq!(f[0], "host1:client/lo", "{a}");
        assert_eq!(f[2], "600", "embedded DNS TTL: {a}");
        let want = match f[1] {
            "web" => "172.18.0.2",
            "database" => "172.18.0.3",
            other => panic!("unexpected DNS name {other}: {a}"),
        };
        assert_eq!(f[3], want, "{a}");
    }
    let queries = fields(&pcap, "dns.flags.response == 0", &["ip.dst", "dns.qry.name"]);
    assert!(queries.iter().any(|q| q == "127.0.0.11\tweb"), "{queries:?}");
    assert!(queries.iter().any(|q| q == "127.0.0.11\tdatabase"), "{queries:?}");
    assert!(
        fields(&pcap, "ip.dst == 127.0.0.11 && frame.interface_name contains \"c1\"", &["frame.number"]).is_empty()
    );
    // Containers on one bridge are one L2 segment: the echo reaches web with TTL 64.
    let echo = fields(&pcap, "icmp.type == 8 && ip.dst == 172.18.0.2", &["frame.interface_name", "ip.ttl"]);
    assert!(echo.iter().any(|l| l == "host1:web/eth0\t64"), "{echo:?}");

    // The v29 filter/nat/raw layout for docker0 plus one user bridge (*iptables, v29*), and the
    // container's DNS redirect (*Embedded DNS*).
    let ipt = show(&s, "host1", "iptables");
    let want: Vec<String> = [
        "-A FORWARD -j DOCKER-USER",
        "-A FORWARD -j DOCKER-FORWARD",
        "-A DOCKER-FORWARD -j DOCKER-CT",
        "-A DOCKER-FORWARD -j DOCKER-INTERNAL",
        "-A DOCKER-FORWARD -j DOCKER-BRIDGE",
        "-A DOCKER-FORWARD -i docker0 -j ACCEPT",
        "-A DOCKER-FORWARD -i @BR@ -j ACCEPT",
        "-A DOCKER-CT -o @BR@ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A DOCKER-BRIDGE -o @BR@ -j DOCKER",
        "-A DOCKER ! -i docker0 -o docker0 -j DROP",
        "-A DOCKER ! -i @BR@ -o @BR@ -j DROP",
        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
        "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
        "-A POSTROUTING -s 172.18.0.0/16 ! -o @BR@ -j MASQUERADE",
        "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
        "-A PREROUTING -d 172.18.0.2/32 ! -i @BR@ -j DROP",
        "-A PREROUTING -d 172.18.0.3/32 ! -i @BR@ -j DROP",
        "-A PREROUTING -d 172.18.0.4/32 ! -i @BR@ -j DROP",
        "-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP",
    ]
    .iter()
    .map(|l| l.replace("@BR@", &br))
    .collect();
    assert_has_lines(&ipt, &want, "host1 iptables");
    let newer = ipt.find("-s 172.18.0.0/16").expect("appnet MASQUERADE");
    let older = ipt.find("-s 172.17.0.0/16").expect("docker0 MASQUERADE");
    assert!(newer < older, "MASQUERADE rules are inserted: the newest network comes first\n{ipt}");
    assert!(!ipt.contains("DOCKER-ISOLATION"), "v29 has no ISOLATION chains:\n{ipt}");
    let cipt = show(&s, "host1:client", "iptables");
    assert_has_lines(
        &cipt,
        &[
            "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT".into(),
            "-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING".into(),
        ],
        "client iptables",
    );
    assert!(
        cipt.contains(
            "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:"
        )
    );
    assert!(show(&s, "host1:c1", "iptables").find("127.0.0.11").is_none(), "no embedded DNS on the default bridge");
}

#[test]
fn published_port_is_dnat_from_the_lan_and_from_the_host_itself() {
    let s = lab("published-ports");
    let (pcap, log) = run(&s);
    let br = bridge_of(&log, "webnet");

    let lan = between(&log, "curl http://192.168.99.101:8080/", None);
    assert!(lan.contains("received 83 bytes from 192.168.99.10:"), "nginx must see the laptop's real address:\n{lan}");
    assert!(lan.contains("received 83 bytes from 192.168.99.101:"), "the host's own request:\n{lan}");
    // localhost is docker-proxy's: nginx sees the proxy's connection, from the gateway.
    let lo = between(&log, "curl http://localhost:8080/", None);
    assert!(lo.contains("tcp connect 172.18.0.1:"), "docker-proxy connects from the gateway:\n{lo}");
    assert!(lo.contains("received 78 bytes from 172.18.0.1:"), "nginx sees the proxy:\n{lo}");
    assert_eq!(log.matches("curl: HTTP/1.1 200 OK").count(), 3, "{log}");

    let ipt = show(&s, "host1", "iptables");
    assert_has_lines(
        &ipt,
        &[
            format!("-A DOCKER ! -i {br} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80"),
            format!("-A DOCKER -d 172.18.0.2/32 ! -i {br} -o {br} -p tcp -m tcp --dport 80 -j ACCEPT"),
            format!("-A PREROUTING -d 172.18.0.2/32 ! -i {br} -j DROP"),
        ],
        "host1 iptables",
    );

    // On the bridge: the laptop's SYN, forwarded (TTL 63) with its own source address; the
    // host's SYN, local (TTL 64) with the host's LAN address. The laptop sees the answer
    // from 192.168.99.101:8080, never from the container.
    let syns = fields(
        &pcap,
        &format!("frame.interface_name == \"host1/{br}\" && tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        &["ip.src", "ip.dst", "tcp.dstport", "ip.ttl"],
    );
    assert_eq!(
        syns,
        ["192.168.99.10\t172.18.0.2\t80\t63", "192.168.99.101\t172.18.0.2\t80\t64", "172.18.0.1\t172.18.0.2\t80\t64"],
        "{syns:?}"
    );
    let synack = fields(
        &pcap,
        "frame.interface_name == \"laptop/eth0\" && tcp.flags.syn == 1 && tcp.flags.ack == 1",
        &["ip.src", "tcp.srcport"],
    );
    assert_eq!(synack, ["192.168.99.101\t8080"]);
    assert!(
        fields(&pcap, "frame.interface_name contains \"laptop\" && ip.addr == 172.18.0.0/16", &["frame.number"])
            .is_empty()
    );

    let ct = show(&s, "host1", "conntrack");
    assert!(ct.contains("dport=8080 src=172.18.0.2 dst=192.168.99.10 sport=80"), "{ct}");
    assert!(ct.contains("src=192.168.99.101 dst=192.168.99.101"), "{ct}");
    assert!(ct.contains("dport=8080 src=172.18.0.2 dst=192.168.99.101 sport=80"), "{ct}");

    // Where the DNAT happens: PREROUTING for the laptop, OUTPUT for the host.
    let hops = hop_log(&s);
    let dnat = format!("-A DOCKER ! -i {br} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80");
    assert!(hops.contains(&format!("nat/PREROUTING: {dnat} → DNAT 192.168.99.101:8080 → 172.18.0.2:80")), "{hops}");
    assert!(hops.contains(&format!("nat/OUTPUT: {dnat} → DNAT 192.168.99.101:8080 → 172.18.0.2:80")), "{hops}");
}

#[test]
fn user_bridges_are_isolated_until_network_connect() {
    let s = lab("isolated-bridges");
    let (pcap, log) = run(&s);
    let br_b = bridge_of(&log, "netB");

    let before = between(&log, "docker exec ca ping -c 2 172.19.0.2", Some("docker network connect netB ca"));
    assert!(before.contains("2 packets transmitted, 0 packets received, 100% packet loss"), "{before}");
    assert!(!before.contains("bytes from"), "{before}");
    let after = nth_between(&log, "docker exec ca ping -c 2 172.19.0.2", 1, Some("docker exec ca ping -c 1 cb"));
    assert!(after.contains("2 packets transmitted, 2 packets received, 0% packet loss"), "{after}");
    let by_name = between(&log, "docker exec ca ping -c 1 cb", None);
    assert!(by_name.contains("resolved cb → 172.19.0.2"), "{by_name}");
    assert!(by_name.contains("1 packets transmitted, 1 packets received"), "{by_name}");

    // netB is the second user network: 172.19.0.0/16; ca joins it as eth1 with the next free
    // address (*Default address pools*, *Addresses inside a subnet*, interface names *Objects and
    // names*).
    let addr = show(&s, "host1:ca", "addr");
    assert!(addr.contains("inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0"), "{addr}");
    assert!(addr.contains("inet 172.19.0.3/16 brd 172.19.255.255 scope global eth1"), "{addr}");
    assert!(show(&s, "host1:cb", "addr").contains("inet 172.19.0.2/16 "));

    // The direct attempt dies in raw PREROUTING (v29 per-endpoint rule, *iptables, v29*/*Who
    // reaches whom*).
    let hops = hop_log(&s);
    assert!(
        hops.contains(&format!("raw/PREROUTING: -A PREROUTING -d 172.19.0.2/32 ! -i {br_b} -j DROP → DROP")),
        "{hops}"
    );
    // Nothing from 172.18.0.2 ever reaches netB; the replies all go to ca's netB address.
    assert!(
        fields(&pcap, "ip.src == 172.18.0.2 && frame.interface_name contains \"cb\"", &["frame.number"]).is_empty()
    );
    let replies = fields(&pcap, "icmp.type == 0", &["ip.dst"]);
    assert!(!replies.is_empty());
    assert!(replies.iter().all(|d| d == "172.19.0.3"), "{replies:?}");
    // After the connect, the same L2 segment: TTL unchanged.
    let req = fields(&pcap, "icmp.type == 8 && frame.interface_name == \"host1:cb/eth0\"", &["ip.src", "ip.ttl"]);
    assert_eq!(req.len(), 3, "{req:?}");
    assert!(req.iter().all(|l| l == "172.19.0.3\t64"), "{req:?}");
}

#[test]
fn host_network_shares_the_host_stack_and_none_has_only_lo() {
    let s = lab("host-and-none");
    let (pcap, log) = run(&s);

    // host: no namespace of its own; nginx answers on host1:80 without any DNAT.
    let out = netsim(&["show", s.to_str().expect("utf8"), "host1:web", "addr"]);
    assert!(!out.status.success(), "a host-mode container must not get its own namespace");
    let ipt = show(&s, "host1", "iptables");
    assert!(!ipt.contains("DNAT"), "{ipt}");
    let lan = between(&log, "curl http://192.168.99.101/", Some("docker run -dit --name tools --network host alpine"));
    assert!(lan.contains("host1 $ httpd: GET / HTTP/1.1"), "nginx runs in host1's own namespace:\n{lan}");
    assert!(lan.contains("curl: HTTP/1.1 200 OK"), "{lan}");
    let syn = fields(
        &pcap,
        "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == 80",
        &["frame.interface_name", "ip.src"],
    );
    assert!(syn.contains(&"host1/eth0\t192.168.99.101".to_string()), "{syn:?}");

    let ping = between(
        &log,
        "docker exec tools ping -c 2 192.168.99.10",
        Some("docker exec tools wget -qO- http://127.0.0.1/"),
    );
    assert!(ping.contains("host1 $ 64 bytes from 192.168.99.10: seq=0 ttl=64"), "{ping}");
    let echo = fields(&pcap, "icmp.type == 8", &["frame.interface_name", "ip.src", "ip.dst"]);
    assert!(echo.contains(&"host1/eth0\t192.168.99.101\t192.168.99.10".to_string()), "{echo:?}");
    assert!(echo.iter().all(|l| !l.contains("172.17.")), "no bridge address in host mode: {echo:?}");
    let local = between(
        &log,
        "docker exec tools wget -qO- http://127.0.0.1/",
        Some("docker run -dit --name sealed --network none alpine"),
    );
    assert!(local.contains("<h1>Welcome to nginx!</h1>"), "host mode shares 127.0.0.1 with the host:\n{local}");

    // none: only lo, no route, and ping fails at once without a frame.
    let addr = show(&s, "host1:sealed", "addr");
    assert!(addr.starts_with("1: lo:"), "{addr}");
    assert!(!addr.contains("\n2: "), "only lo: {addr}");
    assert!(show(&s, "host1:sealed", "route").trim().is_empty());
    let sealed = between(&log, "docker exec sealed ping -c 1 192.168.99.10", None);
    assert!(sealed.contains("Network is unreachable"), "{sealed}");
    assert!(!sealed.contains("bytes from"), "{sealed}");
    assert!(fields(&pcap, "frame.interface_name contains \"sealed\"", &["frame.number"]).is_empty());
}

#[test]
fn webapp_mysql_bridge_decodes_http_dns_and_mysql() {
    let s = lab("webapp-mysql-bridge");
    let (pcap, log) = run(&s);
    assert!(log.contains("| Docker      | DK101     |"), "{log}");
    assert!(log.contains("| course_name | course_id |"), "{log}");

    let queries = fields(&pcap, "mysql.query", &["mysql.query"]);
    assert!(
        queries.iter().any(|q| q == "INSERT INTO course_details (course_name, course_id) VALUES ('Docker', 'DK101')"),
        "{queries:?}"
    );
    assert!(queries.iter().any(|q| q == "SELECT * FROM course_details"), "{queries:?}");
    // The INSERT crosses the bridge from webapp1 (172.18.0.3) to mysql (172.18.0.2).
    let insert =
        fields(&pcap, "mysql.query contains \"INSERT\"", &["frame.interface_name", "ip.src", "ip.dst", "ip.ttl"]);
    assert!(insert.contains(&"host1:mysql/eth0\t172.18.0.3\t172.18.0.2\t64".to_string()), "{insert:?}");
    let rows = fields(&pcap, "mysql.field.name", &["mysql.field.name", "mysql.row.text"]);
    assert!(rows.iter().any(|r| r == "course_name,course_id\tDocker,DK101"), "{rows:?}");

    // The browser's POST: DNATed to webapp1 with the laptop's own address.
    let post =
        fields(&pcap, "http.request.method == \"POST\"", &["frame.interface_name", "ip.src", "ip.dst", "tcp.dstport"]);
    assert!(post.contains(&"laptop/eth0\t192.168.99.10\t192.168.99.101\t8001".to_string()), "{post:?}");
    assert!(post.iter().any(|p| p.ends_with("\t192.168.99.10\t172.18.0.3\t80")), "{post:?}");
    let body = fields(&pcap, "http.request.method == \"POST\"", &["urlencoded-form.key", "urlencoded-form.value"]);
    assert!(body.iter().any(|b| b == "course_name,course_id\tDocker,DK101"), "{body:?}");

    let dns = fields(
        &pcap,
        "dns.qry.name == \"mysql\" && dns.flags.response == 1",
        &["frame.interface_name", "dns.resp.ttl", "dns.a"],
    );
    assert!(!dns.is_empty(), "no answer for mysql");
    assert!(dns.iter().all(|d| d == "host1:webapp1/lo\t600\t172.18.0.2"), "{dns:?}");
}

#[test]
fn macvlan_children_sit_on_the_lan_without_nat_and_the_parent_cannot_reach_them() {
    let f = lab("macvlan");
    let (pcap, out) = run(&f);
    // *macvlan and ipvlan*: containers appear on the LAN with addresses from --ip-range, their own
    // MAC, no NAT.
    let addr = show(&f, "host1:web", "addr");
    assert!(addr.contains("inet 192.168.99.192/24"), "first address of --ip-range 192.168.99.192/27:\n{addr}");
    let route = show(&f, "host1:web", "route");
    assert!(route.lines().any(|l| l.starts_with("default via 192.168.99.1 dev eth0")), "{route}");
    let mac = addr
        .lines()
        .find(|l| l.trim_start().starts_with("link/ether"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a MAC")
        .to_string();
    let first = u8::from_str_radix(&mac[..2], 16).expect("hex");
    // v29 (docker::era): a random locally administered unicast MAC, not 02:42:<IP>.
    assert_eq!(first & 0x03, 0x02, "locally administered unicast: {mac}");
    assert_ne!(mac, "02:42:c0:a8:63:c0", "v29 does not derive the MAC from the IP");
    // The laptop talks to the container's own MAC and address, with no DNAT anywhere.
    let syn = fields(
        &pcap,
        "frame.interface_name == \"laptop/eth0\" && tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 192.168.99.192",
        &["eth.dst", "tcp.dstport"],
    );
    assert_eq!(syn, vec![format!("{mac}\t80")], "the SYN goes to the container's MAC, port 80");
    assert!(between(&out, "curl http://192.168.99.192/", Some("ping -c 1 192.168.99.192")).contains("200 OK"), "{out}");
    assert!(!show(&f, "host1", "iptables").contains("192.168.99.192"), "macvlan has no NAT rules");
    // The host cannot reach its own macvlan child (*macvlan and ipvlan*, [kernel]): ARP never gets
    // an answer.
    let ping = between(&out, "ping -c 1 192.168.99.192", None);
    assert!(ping.contains("Destination Host Unreachable") && ping.contains("100% packet loss"), "{ping}");
}

#[test]
fn macvlan_on_an_8021q_parent_tags_the_lan() {
    let f = lab("macvlan-8021q");
    let (pcap, out) = run(&f);
    // On eth0.10 Docker made the 802.1Q link; the LAN carries VLAN 10 tags both ways.
    let link = show(&f, "host1", "link");
    assert!(link.contains("eth0.10"), "Docker creates the 802.1Q parent:\n{link}");
    let tagged = fields(&pcap, "frame.interface_name == \"lan/host1\" && vlan.id == 10 && tcp", &["ip.src", "ip.dst"]);
    assert!(tagged.iter().any(|l| l == "192.168.10.10\t192.168.10.2"), "{tagged:?}");
    assert!(tagged.iter().any(|l| l == "192.168.10.2\t192.168.10.10"), "{tagged:?}");
    let vlan_out = between(&out, "curl http://192.168.10.2/", None);
    assert!(vlan_out.contains("200 OK"), "{vlan_out}");
    // docker network inspect shows the driver and the parent option (*Inspect output*).
    let inspect = netsim(&["inspect", f.to_str().expect("utf8"), "network", "vlan10"]);
    let json = String::from_utf8_lossy(&inspect.stdout);
    assert!(json.contains("\"Driver\": \"macvlan\"") && json.contains("\"parent\": \"eth0.10\""), "{json}");
    assert!(
        json.contains("\"Subnet\": \"192.168.10.0/24\"") && json.contains("\"Gateway\": \"192.168.10.1\""),
        "{json}"
    );
}

#[test]
fn docker_runs_are_deterministic_per_seed() {
    // Steps, IDs, MACs, DNS ports and ISNs all come from the scenario's seed: the same seed
    // gives the same capture byte for byte; another seed gives another one.
    let tutorial = root().join("scenarios/swarm-webapp-mysql.ron");
    let dir = std::env::temp_dir().join(format!("netsim-det-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let capture = |name: &str, seed: &str| {
        let p = dir.join(name);
        let out = netsim(&[
            "run",
            tutorial.to_str().expect("utf8"),
            "-q",
            "--seed",
            seed,
            "--pcap",
            p.to_str().expect("utf8"),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(&p).expect("pcapng")
    };
    let (a, b, c) = (capture("a.pcapng", "3"), capture("b.pcapng", "3"), capture("c.pcapng", "4"));
    assert!(a.len() > 10_000, "a real capture");
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed draws other IDs, MACs and ports");
}

#[test]
fn network_inspect_shows_what_docker_shows_for_bridges() {
    // *Inspect output*: docker network inspect fields, Docker's key order, values from the run.
    let f = lab("webapp-mysql-bridge");
    let out = netsim(&["inspect", f.to_str().expect("utf8"), "network", "appnet"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8_lossy(&out.stdout);
    let keys: Vec<&str> = json
        .lines()
        .filter(|l| l.starts_with("    \"") && !l.starts_with("     "))
        .filter_map(|l| l.trim().split('"').nth(1))
        .collect();
    assert_eq!(
        keys,
        [
            "Name",
            "Id",
            "Created",
            "Scope",
            "Driver",
            "EnableIPv4",
            "EnableIPv6",
            "IPAM",
            "Internal",
            "Attachable",
            "Ingress",
            "ConfigFrom",
            "ConfigOnly",
            "Containers",
            "Options",
            "Labels"
        ],
        "top-level keys in api/types/network order:\n{json}"
    );
    for needle in [
        "\"Scope\": \"local\"",
        "\"Driver\": \"bridge\"",
        "\"Subnet\": \"172.18.0.0/16\"",
        "\"Gateway\": \"172.18.0.1\"",
        "\"Name\": \"mysql\"",
        "\"IPv4Address\": \"172.18.0.2/16\"",
        "\"IPv4Address\": \"172.18.0.3/16\"",
        "\"IPv6Address\": \"\"",
    ] {
        assert!(json.contains(needle), "missing {needle}:\n{json}");
    }
    // The default bridge carries Docker's options for docker0 (*Default bridge vs user-defined*).
    let out = netsim(&["inspect", f.to_str().expect("utf8"), "network", "bridge"]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(json.contains("\"com.docker.network.bridge.name\": \"docker0\""), "{json}");
    assert!(json.contains("\"com.docker.network.bridge.default_bridge\": \"true\""), "{json}");
    let out = netsim(&["inspect", f.to_str().expect("utf8"), "network", "nosuchnet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("network nosuchnet not found"));
}
