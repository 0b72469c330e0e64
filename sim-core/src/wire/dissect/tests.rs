//! The dissector against Wireshark: real netsim frames, field by field, as tshark reads them.
//! tshark is required (CI installs it): these tests fail, not skip, without it.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use super::*;
use crate::capture::PcapngWriter;
use crate::kernel::trace::Dir;
use crate::scenario::Loaded;
use crate::userland::proto::{dns, mysql};
use crate::wire::{self, IcmpError, Ipv4Params, Mac, TcpRepr};

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

/// A capture point's name and the frames seen there.
type Capture = (String, Vec<Vec<u8>>);

/// Every frame a scenario sends, grouped by device with the frames the device receives: a
/// group is what `tcpdump -i <dev>` shows. One capture point per tshark run matters: tshark's
/// MySQL dissector keeps per-conversation state, and copies of one segment on the veth, the
/// bridge and inside VXLAN in one file (or a device's sent half of a conversation alone) make
/// it misread the login request as a command.
fn scenario_captures(rel: &str) -> Vec<Capture> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    let loaded = Loaded::from_file(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut sim = loaded.build(None).unwrap_or_else(|e| panic!("{rel}: {e}"));
    sim.run_until(crate::Until::Idle);
    // Per device: its capture, and what it sent (to tell loopback's echo).
    let mut by_dev: BTreeMap<Option<u32>, (Capture, HashSet<Vec<u8>>)> = BTreeMap::new();
    for r in sim.records().iter().filter(|r| matches!(r.dir, Dir::Tx | Dir::Rx)) {
        let Some(frame) = &r.frame else { continue };
        let name = match r.dev {
            Some(d) => sim.world.dev_path(d),
            None => sim.world.netns(r.ns).name.clone(),
        };
        let ((_, frames), sent) =
            by_dev.entry(r.dev.map(|d| d.0)).or_insert_with(|| ((name, Vec::new()), HashSet::new()));
        // Loopback receives what it sent; tcpdump on `lo` shows it once.
        if r.dir == Dir::Tx {
            sent.insert(frame.clone());
        } else if sent.contains(frame) {
            continue;
        }
        frames.push(frame.clone());
    }
    by_dev.into_values().map(|(capture, _)| capture).collect()
}

fn tutorial_captures() -> &'static [Capture] {
    static CAPTURES: OnceLock<Vec<Capture>> = OnceLock::new();
    CAPTURES.get_or_init(|| scenario_captures("scenarios/swarm-webapp-mysql.ron"))
}

fn mac(n: u8) -> Mac {
    Mac([0x02, 0x42, 0x0a, 0, 0, n])
}

fn params(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16) -> Ipv4Params {
    Ipv4Params { src: src.into(), dst: dst.into(), proto, ttl: 64, id, df: true, tos: 0 }
}

/// Fills the 14 bytes of room the IP layer leaves in front.
fn eth(mut f: Vec<u8>, src: u8, dst: u8) -> Vec<u8> {
    wire::write_eth_header(&mut f, mac(src), mac(dst), wire::ETHERTYPE_IPV4);
    f
}

/// One TCP connection between two addresses, numbered as Linux would.
struct Flow {
    ends: [([u8; 4], u16, u8); 2],
    seq: [u32; 2],
    id: u16,
    frames: Vec<Vec<u8>>,
}

const SYN: u8 = 1;
const ACK: u8 = 2;
const PSH: u8 = 4;
const FIN: u8 = 8;

impl Flow {
    fn new(client: ([u8; 4], u16, u8), server: ([u8; 4], u16, u8)) -> Flow {
        Flow { ends: [client, server], seq: [0x4d10_0000, 0x8a20_0000], id: 0x1c46, frames: Vec::new() }
    }

    fn seg(&mut self, from: usize, flags: u8, payload: &[u8]) {
        let (me, peer) = (self.ends[from], self.ends[1 - from]);
        let syn = flags & SYN != 0;
        let t = TcpRepr {
            sport: me.1,
            dport: peer.1,
            seq: self.seq[from],
            ack: if flags & ACK != 0 { self.seq[1 - from] } else { 0 },
            syn,
            ackf: flags & ACK != 0,
            fin: flags & FIN != 0,
            psh: flags & PSH != 0,
            window: 502,
            mss: syn.then_some(1460),
            sack_perm: syn,
            ts: Some((1000 + self.frames.len() as u32, if syn && from == 0 { 0 } else { 999 })),
            wscale: syn.then_some(7),
            ..Default::default()
        };
        self.id = self.id.wrapping_add(1);
        let f = wire::tcp_frame(&params(me.0, peer.0, wire::PROTO_TCP, self.id), &t, payload);
        self.frames.push(eth(f, me.2, peer.2));
        self.seq[from] = self.seq[from].wrapping_add(payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0));
    }

    fn open(&mut self) {
        self.seg(0, SYN, &[]);
        self.seg(1, SYN | ACK, &[]);
        self.seg(0, ACK, &[]);
    }

    fn send(&mut self, from: usize, data: &[u8]) {
        for chunk in data.chunks(1400) {
            self.seg(from, PSH | ACK, chunk);
        }
        self.seg(1 - from, ACK, &[]);
    }

    fn close(&mut self) {
        self.seg(0, FIN | ACK, &[]);
        self.seg(1, FIN | ACK, &[]);
        self.seg(0, ACK, &[]);
    }
}

/// A MySQL session between proto::mysql's client and server, carried over `flow`.
fn mysql_session(flow: &mut Flow, password: &str, db: Option<&str>, queries: &[&str]) {
    let mut database = mysql::Database::new();
    let users = vec![("root".to_string(), "edureka".to_string())];
    let (mut server, greeting) = mysql::ServerConn::new(7, [5; 20], users);
    let mut client = mysql::ClientConn::new("root", password, db, queries.iter().map(|q| q.to_string()).collect());
    flow.open();
    let mut to_client = greeting;
    while !to_client.is_empty() {
        flow.send(1, &to_client);
        let out = client.on_data(&to_client);
        if out.send.is_empty() {
            break;
        }
        flow.send(0, &out.send);
        if out.done {
            break;
        }
        to_client = server.on_data(&mut database, &out.send).send;
    }
    flow.close();
}

/// Frames made with the project's own builders, for what the tutorial lacks: ICMP echo and
/// errors quoting UDP and TCP, stacked 802.1Q tags, MySQL errors and result sets with NULL,
/// wrong checksums.
fn crafted_frames() -> &'static [Vec<u8>] {
    static FRAMES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let (a, b, r) = ([10, 0, 0, 2], [10, 0, 0, 5], [10, 0, 0, 1]);
        let mut out = Vec::new();
        let echo = wire::icmp_echo_frame(&params(a, b, wire::PROTO_ICMP, 7238), false, 0x0031, 1, &[0xab; 56]);
        out.push(eth(echo.clone(), 2, 5));
        out.push(eth(wire::icmp_echo_frame(&params(b, a, wire::PROTO_ICMP, 9), true, 0x0031, 1, &[0xab; 56]), 5, 2));

        let query = dns::build_query(0x1c46, "mysql").unwrap();
        let answer = dns::embedded_answer(&query, &|_: &str| Some(vec![Ipv4Addr::new(10, 0, 1, 5)])).unwrap().0;
        let q = eth(wire::udp_frame(&params(a, [127, 0, 0, 11], wire::PROTO_UDP, 1), 40000, 53, &query), 2, 5);
        out.push(q.clone());
        out.push(eth(wire::udp_frame(&params([127, 0, 0, 11], a, wire::PROTO_UDP, 2), 53, 40000, &answer), 5, 2));
        let unreachable = IcmpError::PortUnreachable;
        out.push(eth(wire::icmp_error_frame(&params(b, a, wire::PROTO_ICMP, 3), unreachable, &q[14..]), 5, 2));
        let host = IcmpError::HostUnreachable;
        out.push(eth(wire::icmp_error_frame(&params(r, a, wire::PROTO_ICMP, 4), host, &q[14..]), 1, 2));

        // A full-sized segment meets a smaller MTU; a SYN runs out of TTL.
        let mut big = Flow::new((a, 41000, 2), (b, 80, 5));
        big.open();
        big.send(0, &[b'x'; 1400]);
        let frag = IcmpError::FragNeeded { mtu: 1450 };
        out.push(eth(wire::icmp_error_frame(&params(r, a, wire::PROTO_ICMP, 5), frag, &big.frames[3][14..]), 1, 2));
        let ttl = IcmpError::TtlExceeded;
        out.push(eth(wire::icmp_error_frame(&params(r, a, wire::PROTO_ICMP, 6), ttl, &big.frames[0][14..]), 1, 2));

        // ARP behind one and two 802.1Q tags.
        let arp = wire::ArpRepr {
            op: wire::ARP_REQUEST,
            sender_mac: mac(2),
            sender_ip: a.into(),
            target_mac: Mac::ZERO,
            target_ip: b.into(),
        };
        let mut tagged = arp.frame(mac(2), Mac::BROADCAST);
        wire::push_vlan_tag(&mut tagged, 10);
        out.push(tagged.clone());
        wire::push_vlan_tag(&mut tagged, 20);
        out.push(tagged);
        let reply = wire::ArpRepr { op: wire::ARP_REPLY, sender_mac: mac(5), sender_ip: b.into(), target_mac: mac(2), target_ip: a.into() };
        out.push(reply.frame(mac(5), mac(2)));

        // An echo inside VXLAN, as an overlay carries it between hosts.
        let mut inner = eth(echo, 2, 5);
        let mut vx = wire::vxlan::Repr { vni: 4097 }.to_bytes().to_vec();
        vx.append(&mut inner);
        let outer = params([192, 168, 99, 101], [192, 168, 99, 102], wire::PROTO_UDP, 77);
        out.push(eth(wire::udp_frame_nocsum(&outer, 51234, wire::vxlan::PORT, &vx), 101, 102));

        let mut http = Flow::new((a, 53013, 2), (b, 80, 5));
        http.open();
        http.send(0, b"POST /index.php HTTP/1.1\r\nHost: localhost:8001\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Length: 34\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ncourse_name=Docker&course_id=DK101");
        http.send(1, b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.7 (Ubuntu)\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello");
        http.close();
        out.extend(http.frames);

        let mut session = Flow::new(([10, 0, 1, 3], 52678, 3), ([10, 0, 1, 5], 3306, 5));
        mysql_session(
            &mut session,
            "edureka",
            None,
            &[
                "CREATE DATABASE HandsOn",
                "USE HandsOn",
                "CREATE TABLE course_details (course_name VARCHAR(10), course_id VARCHAR(11))",
                "INSERT INTO course_details VALUES ('Docker', 'DK101'), ('Ansible', NULL)",
                "SELECT * FROM course_details",
                "SELECT * FROM nope",
            ],
        );
        out.extend(session.frames);
        let mut denied = Flow::new(([10, 0, 1, 3], 52680, 3), ([10, 0, 1, 5], 3306, 5));
        mysql_session(&mut denied, "wrong", Some("HandsOn"), &[]);
        out.extend(denied.frames);

        // Wrong checksums: the verdicts must match Wireshark's.
        let mut bad = Flow::new((a, 1234, 2), (b, 5678, 5));
        bad.seg(0, PSH | ACK, b"xyz");
        let mut f = bad.frames.remove(0);
        f[14 + 10] ^= 0x55;
        out.push(f.clone());
        f[14 + 10] ^= 0x55;
        let last = f.len() - 1;
        f[last] ^= 1;
        out.push(f);
        out
    })
}

// ---------------------------------------------------------------------------------------------
// tshark
// ---------------------------------------------------------------------------------------------

fn temp_pcap(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("netsim-dissect-{}-{tag}-{n}.pcapng", std::process::id()))
}

/// tshark's values of `fields` for every frame, one row per frame (repeated fields joined with
/// commas, as tshark does).
fn tshark_fields(frames: &[Vec<u8>], tag: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut w = PcapngWriter::new(Vec::new(), "netsim dissect test").unwrap();
    let id = w.add_interface(tag, None).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_frame(id, i as u64 * 1000, f, None).unwrap();
    }
    let file = temp_pcap(tag);
    std::fs::write(&file, w.finish().unwrap()).unwrap();
    let mut args: Vec<&str> = vec!["-n", "-r", file.to_str().unwrap()];
    // Copies of one segment on several devices are no retransmissions; and checksums verified,
    // to compare the verdicts.
    for pref in [
        "tcp.analyze_sequence_numbers:FALSE",
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
    ] {
        args.extend(["-o", pref]);
    }
    args.extend(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = Command::new("tshark").args(&args).output();
    std::fs::remove_file(&file).ok();
    let out = out.unwrap_or_else(|e| {
        panic!("cannot run tshark ({e}): these tests check the dissector against Wireshark; install it (apt-get install tshark)")
    });
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Vec<String>> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), frames.len(), "tshark printed one row per frame");
    rows
}

/// What tshark prints for the fields compared.
const FIELDS: &[&str] = &[
    "eth.dst",
    "eth.src",
    "eth.type",
    "vlan.priority",
    "vlan.id",
    "vlan.etype",
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "ip.version",
    "ip.hdr_len",
    "ip.dsfield",
    "ip.len",
    "ip.id",
    "ip.flags",
    "ip.frag_offset",
    "ip.ttl",
    "ip.proto",
    "ip.checksum",
    "ip.checksum.status",
    "ip.src",
    "ip.dst",
    "icmp.type",
    "icmp.code",
    "icmp.checksum",
    "icmp.checksum.status",
    "icmp.ident",
    "icmp.seq",
    "icmp.mtu",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum",
    "udp.checksum.status",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.checksum",
    "tcp.checksum.status",
    "tcp.urgent_pointer",
    "tcp.option_kind",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "vxlan.flags",
    "vxlan.vni",
    "dns.id",
    "dns.flags",
    "dns.count.queries",
    "dns.count.answers",
    "dns.count.auth_rr",
    "dns.count.add_rr",
    "dns.qry.name",
    "dns.resp.name",
    "dns.resp.ttl",
    "dns.a",
    "http.request.method",
    "http.request.uri",
    "http.request.version",
    "http.response.version",
    "http.response.code",
    "http.response.phrase",
    "http.host",
    "http.content_type",
    "mysql.packet_length",
    "mysql.packet_number",
    "mysql.command",
    "mysql.response_code",
    "mysql.query",
    "mysql.user",
    "mysql.schema",
    "mysql.version",
    "mysql.thread_id",
    "mysql.caps.server",
    "mysql.caps.client",
    "mysql.max_packet",
    "mysql.auth_plugin",
    "mysql.client_auth_plugin",
    "mysql.affected_rows",
    "mysql.insert_id",
    "mysql.error_code",
    "mysql.sqlstate",
    "mysql.error.message",
    "mysql.num_fields",
    "mysql.field.table",
    "mysql.field.name",
    "mysql.row.text",
];

fn values<'l>(layers: &'l [Layer], layer: &str, field: &str) -> Vec<&'l str> {
    layers
        .iter()
        .filter(|l| l.name == layer)
        .flat_map(|l| l.fields.iter().filter(|f| f.name == field).map(|f| f.value.as_str()))
        .collect()
}

fn first_word(s: &str) -> &str {
    s.split([' ', ',']).next().unwrap_or_default()
}

/// `IPv4 (0x0800)` → `0x0800`.
fn in_parens(s: &str) -> &str {
    s.rsplit_once('(').map(|(_, r)| r.trim_end_matches(')')).unwrap_or_default()
}

fn hex_value(s: &str) -> u32 {
    u32::from_str_radix(first_word(s).trim_start_matches("0x"), 16).unwrap_or(u32::MAX)
}

/// Our checksum verdict as tshark's `*.checksum.status` (0 bad, 1 good, 2 unverified, 3 none).
fn status(s: &str) -> &'static str {
    if s.contains("[correct]") {
        "1"
    } else if s.contains("[incorrect") {
        "0"
    } else if s.contains("[zero-value ignored]") {
        "3"
    } else {
        "2"
    }
}

/// Our value of a tshark field, joined over every layer that has it, as tshark joins them.
fn ours(l: &[Layer], field: &str) -> String {
    let pick = |layer: &str, name: &str, f: fn(&str) -> String| -> String {
        values(l, layer, name).into_iter().map(f).collect::<Vec<_>>().join(",")
    };
    let same = |s: &str| s.to_string();
    let word = |s: &str| first_word(s).to_string();
    let paren = |s: &str| in_parens(s).to_string();
    let tcp_option = |kind: &str, f: fn(&str) -> String| pick("TCP", &format!("TCP Option - {kind}"), f);
    match field {
        "eth.dst" => pick("Ethernet II", "Destination", word),
        "eth.src" => pick("Ethernet II", "Source", word),
        "eth.type" => pick("Ethernet II", "Type", paren),
        "vlan.priority" => pick("802.1Q", "Priority", word),
        "vlan.id" => pick("802.1Q", "ID", same),
        "vlan.etype" => pick("802.1Q", "Type", paren),
        "arp.opcode" => pick("ARP", "Opcode", paren),
        "arp.src.hw_mac" => pick("ARP", "Sender MAC address", same),
        "arp.src.proto_ipv4" => pick("ARP", "Sender IP address", same),
        "arp.dst.hw_mac" => pick("ARP", "Target MAC address", same),
        "arp.dst.proto_ipv4" => pick("ARP", "Target IP address", same),
        "ip.version" => pick("IPv4", "Version", same),
        "ip.hdr_len" => pick("IPv4", "Header Length", word),
        "ip.dsfield" => pick("IPv4", "Differentiated Services Field", word),
        "ip.len" => pick("IPv4", "Total Length", same),
        "ip.id" => pick("IPv4", "Identification", word),
        "ip.flags" => pick("IPv4", "Flags", |s| format!("0x{:02x}", hex_value(s))),
        "ip.frag_offset" => pick("IPv4", "Fragment Offset", same),
        "ip.ttl" => pick("IPv4", "Time to Live", same),
        "ip.proto" => pick("IPv4", "Protocol", paren),
        "ip.checksum" => pick("IPv4", "Header Checksum", word),
        "ip.checksum.status" => pick("IPv4", "Header Checksum", |s| status(s).into()),
        "ip.src" => pick("IPv4", "Source Address", same),
        "ip.dst" => pick("IPv4", "Destination Address", same),
        "icmp.type" => pick("ICMP", "Type", word),
        "icmp.code" => pick("ICMP", "Code", word),
        "icmp.checksum" => pick("ICMP", "Checksum", word),
        "icmp.checksum.status" => pick("ICMP", "Checksum", |s| status(s).into()),
        "icmp.ident" => pick("ICMP", "Identifier", |s| in_parens(s).into()),
        "icmp.seq" => pick("ICMP", "Sequence Number", same),
        "icmp.mtu" => pick("ICMP", "MTU of next hop", same),
        "udp.srcport" => pick("UDP", "Source Port", same),
        "udp.dstport" => pick("UDP", "Destination Port", same),
        "udp.length" => pick("UDP", "Length", same),
        "udp.checksum" => pick("UDP", "Checksum", word),
        "udp.checksum.status" => pick("UDP", "Checksum", |s| status(s).into()),
        "tcp.srcport" => pick("TCP", "Source Port", same),
        "tcp.dstport" => pick("TCP", "Destination Port", same),
        // With sequence analysis off, tcp.seq is the raw number too.
        "tcp.seq" => pick("TCP", "Sequence Number (raw)", same),
        // Wireshark leaves tcp.seq_raw out of the segment an ICMP error quotes.
        "tcp.seq_raw" => l
            .iter()
            .zip(quoted(l))
            .filter(|(x, q)| x.name == "TCP" && !q)
            .flat_map(|(x, _)| values(std::slice::from_ref(x), "TCP", "Sequence Number (raw)"))
            .collect::<Vec<_>>()
            .join(","),
        "tcp.ack_raw" => pick("TCP", "Acknowledgment Number (raw)", same),
        "tcp.hdr_len" => pick("TCP", "Header Length", word),
        "tcp.flags" => pick("TCP", "Flags", |s| format!("0x{:04x}", hex_value(s))),
        "tcp.window_size_value" => pick("TCP", "Window", same),
        "tcp.checksum" => pick("TCP", "Checksum", word),
        "tcp.checksum.status" => pick("TCP", "Checksum", |s| status(s).into()),
        "tcp.urgent_pointer" => pick("TCP", "Urgent Pointer", same),
        "tcp.option_kind" => l
            .iter()
            .filter(|x| x.name == "TCP")
            .flat_map(|x| x.fields.iter())
            .filter_map(|f| f.name.strip_prefix("TCP Option - "))
            .map(|n| match n {
                "End of Option List (EOL)" => "0",
                "No-Operation (NOP)" => "1",
                "Maximum segment size" => "2",
                "Window scale" => "3",
                "SACK permitted" => "4",
                "SACK" => "5",
                "Timestamps" => "8",
                _ => "?",
            })
            .collect::<Vec<_>>()
            .join(","),
        "tcp.options.mss_val" => tcp_option("Maximum segment size", word),
        "tcp.options.wscale.shift" => tcp_option("Window scale", word),
        "tcp.options.timestamp.tsval" => {
            tcp_option("Timestamps", |s| s.split(['l', ',']).nth(1).unwrap_or_default().trim().to_string())
        }
        "tcp.options.timestamp.tsecr" => tcp_option("Timestamps", |s| s.rsplit(' ').next().unwrap_or_default().into()),
        "vxlan.flags" => pick("VXLAN", "Flags", |s| format!("0x{:04x}", hex_value(s) << 8)),
        "vxlan.vni" => pick("VXLAN", "VXLAN Network Identifier (VNI)", same),
        "dns.id" => pick("DNS", "Transaction ID", same),
        "dns.flags" => pick("DNS", "Flags", word),
        "dns.count.queries" => pick("DNS", "Questions", same),
        "dns.count.answers" => pick("DNS", "Answer RRs", same),
        "dns.count.auth_rr" => pick("DNS", "Authority RRs", same),
        "dns.count.add_rr" => pick("DNS", "Additional RRs", same),
        "dns.qry.name" => pick("DNS", "Query", |s| s.split(':').next().unwrap_or_default().into()),
        "dns.resp.name" => pick("DNS", "Answer", |s| s.split(':').next().unwrap_or_default().into()),
        "dns.resp.ttl" => {
            pick("DNS", "Answer", |s| s.split(", ").find_map(|p| p.strip_prefix("ttl ")).unwrap_or_default().into())
        }
        "dns.a" => pick("DNS", "Answer", |s| s.split(", addr ").nth(1).unwrap_or_default().into()),
        "http.request.method" => pick("HTTP", "Request Method", same),
        "http.request.uri" => pick("HTTP", "Request URI", same),
        "http.request.version" => pick("HTTP", "Request Version", same),
        "http.response.version" => pick("HTTP", "Response Version", same),
        "http.response.code" => pick("HTTP", "Status Code", same),
        "http.response.phrase" => pick("HTTP", "Response Phrase", same),
        "http.host" => pick("HTTP", "Host", same),
        "http.content_type" => pick("HTTP", "Content-Type", same),
        "mysql.packet_length" => pick("MySQL", "Packet Length", same),
        "mysql.packet_number" => pick("MySQL", "Packet Number", same),
        "mysql.command" => pick("MySQL", "Command", paren),
        "mysql.response_code" => pick("MySQL", "Response Code", paren),
        "mysql.query" => pick("MySQL", "Statement", same),
        "mysql.user" => pick("MySQL", "Username", same),
        "mysql.schema" => pick("MySQL", "Schema", same),
        "mysql.version" => pick("MySQL", "Version", same),
        "mysql.thread_id" => pick("MySQL", "Thread ID", same),
        "mysql.caps.server" => pick("MySQL", "Server Capabilities", same),
        "mysql.caps.client" => pick("MySQL", "Client Capabilities", same),
        "mysql.max_packet" => pick("MySQL", "MAX Packet", same),
        "mysql.auth_plugin" => pick("MySQL", "Authentication Plugin", same),
        "mysql.client_auth_plugin" => pick("MySQL", "Client Auth Plugin", same),
        "mysql.affected_rows" => pick("MySQL", "Affected Rows", same),
        // Wireshark shows the last insert id only when it is not 0.
        "mysql.insert_id" => {
            values(l, "MySQL", "Last INSERT ID").into_iter().filter(|v| *v != "0").collect::<Vec<_>>().join(",")
        }
        "mysql.error_code" => pick("MySQL", "Error Code", same),
        "mysql.sqlstate" => pick("MySQL", "SQL state", same),
        "mysql.error.message" => pick("MySQL", "Error message", same),
        "mysql.num_fields" => pick("MySQL", "Number of fields", same),
        "mysql.field.table" => pick("MySQL", "Table", same),
        "mysql.field.name" => pick("MySQL", "Name", same),
        "mysql.row.text" => pick("MySQL", "Text", same),
        other => panic!("no mapping for {other}"),
    }
}

/// Which layers lie inside an ICMP error's quote.
fn quoted(l: &[Layer]) -> Vec<bool> {
    l.iter().enumerate().map(|(i, x)| l[..i].iter().any(|p| p.name == "ICMP" && x.depth > p.depth)).collect()
}

/// The one place we disagree with Wireshark on purpose: a quote cut short (a full-sized segment
/// in a "fragmentation needed") cannot have its checksum verified; Wireshark sums the bytes
/// that are there and calls it bad, we say unverified.
fn known_difference(l: &[Layer], field: &str) -> bool {
    matches!(field, "tcp.checksum.status" | "udp.checksum.status")
        && l.iter().zip(quoted(l)).any(|(x, q)| q && x.fields.iter().any(|f| f.value.ends_with("[unverified]")))
}

/// Compares every field of every frame; returns the number of non-empty values compared.
fn compare(frames: &[Vec<u8>], rows: &[Vec<String>], what: &str, mismatches: &mut Vec<String>) -> usize {
    let mut compared = 0;
    for (i, (frame, row)) in frames.iter().zip(rows).enumerate() {
        let layers = dissect(frame);
        check_ranges(frame, &layers);
        for (k, field) in FIELDS.iter().enumerate() {
            if known_difference(&layers, field) {
                continue;
            }
            let theirs = row.get(k).map(String::as_str).unwrap_or_default();
            let mine = ours(&layers, field);
            compared += usize::from(!theirs.is_empty());
            if mine != theirs {
                mismatches.push(format!("{what} frame {i} {field}: ours {mine:?}, tshark {theirs:?}"));
            }
        }
    }
    compared
}

/// Every layer inside the frame, every field inside its layer.
fn check_ranges(frame: &[u8], layers: &[Layer]) {
    for l in layers {
        assert!(l.range.start <= l.range.end && l.range.end <= frame.len(), "{l:?} in a {}-byte frame", frame.len());
        for f in &l.fields {
            assert!(
                f.range.start <= f.range.end && l.range.start <= f.range.start && f.range.end <= l.range.end,
                "field {f:?} outside its layer {} {:?}",
                l.name,
                l.range
            );
        }
    }
}

fn has_field(layers: &[Layer], layer: &str, field: &str) -> bool {
    layers.iter().any(|l| l.name == layer && l.fields.iter().any(|f| f.name == field))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn tutorial_frames_dissect_as_tshark_reads_them() {
    let captures = tutorial_captures();
    // One tshark per capture point, a few at a time.
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let mut rows: Vec<Option<Vec<Vec<String>>>> = vec![None; captures.len()];
    let done: Vec<(usize, Vec<Vec<String>>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, frames)) = captures.get(i) else { return mine };
                        mine.push((i, tshark_fields(frames, &format!("dev{i}"), FIELDS)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for (i, r) in done {
        rows[i] = Some(r);
    }
    let mut mismatches = Vec::new();
    let (mut frames_n, mut compared) = (0, 0);
    let (mut vxlan_tcp, mut dns_answer, mut http, mut query, mut greeting, mut login) = (0, 0, 0, 0, 0, 0);
    for ((dev, frames), rows) in captures.iter().zip(&rows) {
        compared += compare(frames, rows.as_ref().unwrap(), dev, &mut mismatches);
        frames_n += frames.len();
        for f in frames {
            let l = dissect(f);
            let inner_tcp = l.iter().any(|x| x.name == "TCP" && x.depth == 1);
            vxlan_tcp += usize::from(l.iter().any(|x| x.name == "VXLAN") && inner_tcp);
            dns_answer += usize::from(has_field(&l, "DNS", "Answer"));
            http += usize::from(has_field(&l, "HTTP", "Request Method"));
            query += usize::from(has_field(&l, "MySQL", "Statement"));
            greeting += usize::from(l.iter().any(|x| x.summary.starts_with("MySQL Protocol: Server Greeting")));
            login += usize::from(has_field(&l, "MySQL", "Username"));
        }
    }
    eprintln!(
        "{frames_n} frames on {} capture points, {compared} tshark values compared; VXLAN+TCP {vxlan_tcp}, \
         DNS answers {dns_answer}, HTTP requests {http}, MySQL queries {query}, greetings {greeting}, logins {login}",
        captures.len()
    );
    assert!(mismatches.is_empty(), "{} disagreements with tshark:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(
        vxlan_tcp > 0 && dns_answer > 0 && http > 0 && query > 0 && greeting > 0 && login > 0,
        "the tutorial must exercise every decoder: VXLAN+TCP {vxlan_tcp}, DNS answers {dns_answer}, \
         HTTP requests {http}, MySQL queries {query}, greetings {greeting}, logins {login}"
    );
}

#[test]
fn crafted_frames_dissect_as_tshark_reads_them() {
    let frames = crafted_frames();
    let rows = tshark_fields(frames, "crafted", FIELDS);
    let mut mismatches = Vec::new();
    let compared = compare(frames, &rows, "crafted", &mut mismatches);
    eprintln!("{} crafted frames, {compared} tshark values compared", frames.len());
    assert!(mismatches.is_empty(), "{} disagreements with tshark:\n{}", mismatches.len(), mismatches.join("\n"));
    let all: Vec<Vec<Layer>> = frames.iter().map(|f| dissect(f)).collect();
    let count = |p: &dyn Fn(&[Layer]) -> bool| all.iter().filter(|l| p(l.as_slice())).count();
    assert!(count(&|l| l.iter().any(|x| x.name == "ICMP") && l.iter().any(|x| x.name == "UDP" && x.depth == 1)) >= 2);
    assert!(count(&|l| l.iter().any(|x| x.name == "ICMP") && l.iter().any(|x| x.name == "TCP" && x.depth == 1)) >= 2);
    assert!(count(&|l| l.iter().filter(|x| x.name == "802.1Q").count() == 2) == 1);
    assert!(count(&|l| has_field(l, "MySQL", "Error Code")) == 2);
    assert!(count(&|l| has_field(l, "MySQL", "Text") && has_field(l, "MySQL", "Name")) >= 1);
    assert!(count(&|l| l.iter().any(|x| x.fields.iter().any(|f| f.value.contains("[incorrect")))) == 2);
}

/// The spellings the inspector promises, on frames whose values are known.
#[test]
fn fields_read_as_wireshark_spells_them() {
    let frames = crafted_frames();
    let find = |layers: &[Layer], layer: &str, field: &str| -> String {
        values(layers, layer, field).first().map(|s| s.to_string()).unwrap_or_else(|| panic!("no {layer} {field}"))
    };
    let echo = dissect(&frames[0]);
    let names: Vec<&str> = echo.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Ethernet II", "IPv4", "ICMP"]);
    assert_eq!(find(&echo, "Ethernet II", "Type"), "IPv4 (0x0800)");
    assert_eq!(find(&echo, "IPv4", "Identification"), "0x1c46 (7238)");
    assert_eq!(find(&echo, "IPv4", "Flags"), "0x2, Don't fragment");
    assert_eq!(find(&echo, "IPv4", "Protocol"), "ICMP (1)");
    assert!(find(&echo, "IPv4", "Header Checksum").ends_with("[correct]"));
    assert_eq!(find(&echo, "ICMP", "Type"), "8 (Echo (ping) request)");
    assert_eq!(echo[1].summary, "Internet Protocol Version 4, Src: 10.0.0.2, Dst: 10.0.0.5");
    assert_eq!(echo[1].range, 14..34);
    assert_eq!(echo[1].fields.iter().find(|f| f.name == "Source Address").unwrap().range, 26..30);

    let answer = dissect(&frames[3]);
    assert_eq!(find(&answer, "DNS", "Query"), "mysql: type A, class IN");
    assert_eq!(find(&answer, "DNS", "Answer"), "mysql: type A, class IN, ttl 600, addr 10.0.1.5");
    assert_eq!(find(&answer, "DNS", "Flags"), "0x8180 Standard query response, No error");
    let query = answer.iter().find(|l| l.name == "DNS").unwrap().fields.iter().find(|f| f.name == "Query").unwrap();
    // "\x05mysql\0" then type and class: the name's bytes are where the field points.
    assert_eq!(&frames[3][query.range.start..query.range.start + 6], b"\x05mysql");
    assert_eq!(query.range.len(), 11);

    let errors: Vec<Vec<Layer>> = frames[4..8].iter().map(|f| dissect(f)).collect();
    assert_eq!(find(&errors[0], "ICMP", "Code"), "3 (Port unreachable)");
    assert_eq!(find(&errors[1], "ICMP", "Code"), "1 (Host unreachable)");
    assert_eq!(find(&errors[2], "ICMP", "Code"), "4 (Fragmentation needed)");
    assert_eq!(find(&errors[2], "ICMP", "MTU of next hop"), "1450");
    assert_eq!(find(&errors[3], "ICMP", "Type"), "11 (Time-to-live exceeded)");
    let quoted: Vec<(&str, u8)> = errors[3].iter().map(|l| (l.name.as_str(), l.depth)).collect();
    assert_eq!(quoted, [("Ethernet II", 0), ("IPv4", 0), ("ICMP", 0), ("IPv4", 1), ("TCP", 1)]);

    let all: Vec<Vec<Layer>> = frames.iter().map(|f| dissect(f)).collect();
    let flags: Vec<String> = all.iter().flat_map(|l| values(l, "TCP", "Flags")).map(str::to_string).collect();
    assert!(flags.contains(&"0x002 (SYN)".to_string()));
    assert!(flags.contains(&"0x012 (SYN, ACK)".to_string()));
    assert!(flags.contains(&"0x018 (PSH, ACK)".to_string()));
    let options: Vec<String> = all.iter().flat_map(|l| values(l, "TCP", "Options")).map(str::to_string).collect();
    assert!(options.contains(
        &"(20 bytes), Maximum segment size, SACK permitted, Timestamps, No-Operation (NOP), Window scale".to_string()
    ));

    let summaries: Vec<&str> = all.iter().flatten().filter(|l| l.name == "MySQL").map(|l| l.summary.as_str()).collect();
    for want in [
        "MySQL Protocol: Server Greeting, protocol 10, version 5.5.62, connection id 7",
        "MySQL Protocol: Login Request, user root",
        "MySQL Protocol: Login Request, user root, schema HandsOn",
        "MySQL Protocol: Request Query: CREATE DATABASE HandsOn",
        "MySQL Protocol: Response OK, 1 row affected",
        "MySQL Protocol: Response OK, 2 rows affected (Records: 2  Duplicates: 0  Warnings: 0)",
        "MySQL Protocol: Response, 2 fields",
        "MySQL Protocol: Field course_details.course_name",
        "MySQL Protocol: Response EOF",
        "MySQL Protocol: Row: Ansible, NULL",
        "MySQL Protocol: Response Error 1146 (42S02): Table 'HandsOn.nope' doesn't exist",
        "MySQL Protocol: Request Quit",
    ] {
        assert!(summaries.contains(&want), "no {want:?} in {summaries:#?}");
    }
    assert!(summaries.iter().any(|s| s.starts_with("MySQL Protocol: Response Error 1045 (28000): Access denied")));

    let http: Vec<&Layer> = all.iter().flatten().filter(|l| l.name == "HTTP").collect();
    assert_eq!(http[0].summary, "Hypertext Transfer Protocol, POST /index.php HTTP/1.1");
    let body = http[0].fields.iter().find(|f| f.name == "Body").unwrap();
    assert_eq!(body.value, "34 bytes: course_name=Docker&course_id=DK101");
    assert_eq!(http[1].summary, "Hypertext Transfer Protocol, HTTP/1.1 200 OK");
    let host = http[0].fields.iter().find(|f| f.name == "Host").unwrap();
    let frame = frames.iter().find(|f| f.windows(4).any(|w| w == b"POST")).unwrap();
    assert_eq!(&frame[host.range.clone()], b"Host: localhost:8001");
}

#[test]
fn hex_dump_lines() {
    let frame = [
        0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x05, 0x08, 0x00, 0x45, 0x00, b'G', b'E',
        b'T', b' ', b'/', b'~', 0x7f, 0x20,
    ];
    assert_eq!(
        hex_dump(&frame),
        [
            "0000  02 42 0a 00 00 02 02 42  0a 00 00 05 08 00 45 00   .B.....B......E.",
            "0010  47 45 54 20 2f 7e 7f 20                            GET /~. ",
        ]
    );
    assert_eq!(hex_dump(&frame[..3]), ["0000  02 42 0a                                           .B."]);
    assert!(hex_dump(&[]).is_empty());
}

/// Every prefix of every frame: the layers that fit, then "Malformed", never a panic.
#[test]
fn truncated_frames_end_in_malformed_layers() {
    let mut frames: Vec<&Vec<u8>> = crafted_frames().iter().collect();
    frames.extend(tutorial_captures().iter().flat_map(|(_, f)| f));
    for f in frames {
        for cut in 0..f.len() {
            let layers = dissect(&f[..cut]);
            check_ranges(&f[..cut], &layers);
        }
    }
    // Cut inside the IPv4 header: Ethernet, the IPv4 fields that fit, then Malformed.
    let echo = &crafted_frames()[0][..14 + 9];
    let names: Vec<String> = dissect(echo).into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["Ethernet II", "IPv4", "Malformed"]);
    let ip = &dissect(echo)[1];
    assert_eq!(ip.fields.last().unwrap().name, "Time to Live");
    assert_eq!(dissect(&[0x02, 0x42])[0].name, "Malformed");
}

fn corpus() -> &'static [Vec<u8>] {
    crafted_frames()
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        check_ranges(&bytes, &dissect(&bytes));
    }

    #[test]
    fn mutated_frames_never_panic(
        pick in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
        cut in any::<usize>(),
    ) {
        let mut f = corpus()[pick % corpus().len()].clone();
        for (at, b) in edits {
            let n = f.len();
            f[at % n] = b;
        }
        f.truncate(cut % (f.len() + 1));
        check_ranges(&f, &dissect(&f));
    }

    /// Real headers, then garbage where MySQL, DNS, HTTP or an inner frame should be.
    #[test]
    fn garbage_behind_real_headers_never_panics(
        pick in any::<usize>(),
        keep in any::<usize>(),
        tail in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let f = &corpus()[pick % corpus().len()];
        let mut g = f[..(34 + keep % 40).min(f.len())].to_vec();
        g.extend_from_slice(&tail);
        check_ranges(&g, &dissect(&g));
    }
}
