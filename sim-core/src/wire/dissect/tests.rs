//! The dissector against Wireshark: every frame of the tutorial's run, field by field, as
//! tshark reads it. tshark is required (CI installs it): the test fails without it.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::capture::PcapngWriter;
use crate::scenario::Loaded;
use crate::trace::Dir;

/// Every frame the tutorial sends, as it leaves a device.
fn tutorial_frames() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/swarm-webapp-mysql.ron");
    let mut sim = Loaded::from_file(&path).unwrap_or_else(|e| panic!("{e}")).build(None).unwrap();
    sim.run_until(crate::Until::Idle);
    sim.records().iter().filter(|r| r.dir == Dir::Tx).filter_map(|r| r.frame.clone()).collect()
}

/// The values of every field called `name` in layers called `layer`, joined as tshark joins
/// repeated fields.
fn ours(layers: &[Layer], layer: &str, name: &str, f: impl Fn(&str) -> String) -> String {
    let v: Vec<String> = layers
        .iter()
        .filter(|l| l.name == layer)
        .flat_map(|l| l.fields.iter().filter(|x| x.name == name).map(|x| f(&x.value)))
        .collect();
    v.join(",")
}

fn first_word(s: &str) -> String {
    s.split([' ', ':']).next().unwrap_or_default().to_string()
}

#[test]
fn every_tutorial_frame_dissects_as_tshark_reads_it() {
    let frames = tutorial_frames();
    let file = std::env::temp_dir().join(format!("netsim-dissect-{}.pcapng", std::process::id()));
    let mut w = PcapngWriter::new(Vec::new(), "netsim test").unwrap();
    let id = w.add_interface("all", None).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_frame(id, i as u64, f, None).unwrap();
    }
    std::fs::write(&file, w.finish().unwrap()).unwrap();
    let fields = [
        "eth.src",
        "ip.src",
        "ip.dst",
        "ip.ttl",
        "ip.proto",
        "tcp.srcport",
        "tcp.seq_raw",
        "udp.dstport",
        "vxlan.vni",
        "dns.qry.name",
        "http.request.uri",
        "mysql.query",
        "arp.dst.proto_ipv4",
    ];
    let mut args: Vec<&str> = vec![
        "-n",
        "-r",
        file.to_str().unwrap(),
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
        "-T",
        "fields",
        "-E",
        "separator=|",
    ];
    for f in &fields {
        args.extend(["-e", f]);
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tshark ({e}): install it (apt-get install tshark); CI does"));
    std::fs::remove_file(&file).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(rows.len(), frames.len());
    let (mut vxlan_tcp, mut dns, mut http, mut query, mut greeting) = (0, 0, 0, 0, 0);
    for (i, (frame, row)) in frames.iter().zip(&rows).enumerate() {
        let l = dissect(frame);
        for layer in &l {
            assert!(layer.range.end <= frame.len(), "frame {i}: {layer:?}");
            for f in &layer.fields {
                assert!(
                    f.range.start >= layer.range.start
                        && f.range.end <= layer.range.end.max(f.range.end.min(frame.len())),
                    "frame {i}: {f:?}"
                );
                assert!(f.range.end <= frame.len(), "frame {i}: {f:?}");
            }
        }
        let id = |s: &str| s.to_string();
        let mine = [
            ours(&l, "Ethernet II", "Source", id).split(',').next().unwrap_or_default().to_string(),
            ours(&l, "IPv4", "Source Address", id),
            ours(&l, "IPv4", "Destination Address", id),
            ours(&l, "IPv4", "Time to Live", id),
            ours(&l, "IPv4", "Protocol", |v| v.split('(').nth(1).unwrap_or("").trim_end_matches(')').to_string()),
            ours(&l, "TCP", "Source Port", id),
            ours(&l, "TCP", "Sequence Number (raw)", id),
            ours(&l, "UDP", "Destination Port", id),
            ours(&l, "VXLAN", "VXLAN Network Identifier (VNI)", id),
            ours(&l, "DNS", "Query", first_word),
            ours(&l, "HTTP", "Request line", |v| v.split(' ').nth(1).unwrap_or("").to_string()),
            ours(&l, "MySQL", "Payload", |v| v.strip_prefix("Command: Query ").map(str::to_string).unwrap_or_default())
                .split(',')
                .filter(|q| !q.is_empty())
                .collect::<Vec<_>>()
                .join(","),
            ours(&l, "ARP", "Target IP address", id),
        ];
        let theirs: Vec<&str> = row.split('|').collect();
        for (k, name) in fields.iter().enumerate() {
            let t = theirs.get(k).copied().unwrap_or_default();
            // tshark's eth.src lists the inner frame's too; we compare the outer one.
            let t = if *name == "eth.src" { t.split(',').next().unwrap_or_default() } else { t };
            assert_eq!(mine[k], t, "frame {i} field {name}: ours {:?}, tshark {t:?}\n{l:#?}", mine[k]);
        }
        let names: Vec<&str> = l.iter().map(|x| x.name.as_str()).collect();
        vxlan_tcp += usize::from(names.contains(&"VXLAN") && names.contains(&"TCP"));
        dns += usize::from(l.iter().any(|x| x.name == "DNS" && x.fields.iter().any(|f| f.name == "Answer")));
        http += usize::from(names.contains(&"HTTP"));
        query += usize::from(l.iter().any(|x| x.fields.iter().any(|f| f.value.starts_with("Command: Query"))));
        greeting += usize::from(l.iter().any(|x| x.fields.iter().any(|f| f.value.starts_with("Server Greeting"))));
    }
    assert!(
        vxlan_tcp > 0 && dns > 0 && http > 0 && query > 0 && greeting > 0,
        "{vxlan_tcp} {dns} {http} {query} {greeting}"
    );
}

#[test]
fn hex_dump_lines() {
    let f: Vec<u8> = (0u8..20).collect();
    assert_eq!(
        hex_dump(&f),
        [
            "0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f   ................",
            "0010  10 11 12 13                                        ....",
        ]
    );
}

#[test]
fn truncated_and_random_bytes_never_panic() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for f in tutorial_frames() {
        for cut in 0..f.len() {
            let _ = dissect(&f[..cut]);
        }
        let mut g = f.clone();
        for _ in 0..8 {
            let i = (next() as usize) % g.len();
            g[i] = next() as u8;
            let _ = dissect(&g);
        }
    }
}
