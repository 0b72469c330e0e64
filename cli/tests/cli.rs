//! The `netsim` binary as a user runs it, with Wireshark's tshark as the judge of every
//! exported capture. tshark is required: CI installs it, and these tests fail (not skip)
//! without it.

mod common;

use std::path::{Path, PathBuf};

use common::{BAD_CHECKSUM, CHECKSUMS, netsim, root, scratch, tshark};

fn linux_scenarios() -> Vec<PathBuf> {
    common::scenarios_in("linux", 4)
}

fn export(scenario: &Path, name: &str, seed: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pcap = dir.join(format!("{name}-{seed}.pcapng"));
    let out = netsim(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--seed",
        seed,
        "--pcap",
        pcap.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(out.status.success(), "netsim run {} failed: {}", scenario.display(), String::from_utf8_lossy(&out.stderr));
    pcap
}

#[test]
fn every_linux_lab_exports_a_clean_pcapng() {
    for s in linux_scenarios() {
        let name = s.file_stem().expect("stem").to_string_lossy().into_owned();
        let pcap = export(&s, &name, "1");
        let malformed = tshark(&pcap, &["-Y", "_ws.malformed"]);
        assert!(malformed.trim().is_empty(), "{name}: malformed packets:\n{malformed}");
        let mut args: Vec<&str> = CHECKSUMS.to_vec();
        args.extend(["-Y", BAD_CHECKSUM]);
        let bad = tshark(&pcap, &args);
        assert!(bad.trim().is_empty(), "{name}: bad checksums:\n{bad}");
        let fields = tshark(&pcap, &["-T", "fields", "-e", "frame.interface_name", "-e", "frame.protocols"]);
        assert!(fields.lines().count() > 10, "{name}: too few frames");
        for l in fields.lines() {
            let ifname = l.split('\t').next().unwrap_or("");
            assert!(ifname.contains('/'), "{name}: interface `{ifname}` is not namespace/interface");
        }
        let protos = fields;
        assert!(protos.contains("eth:ethertype:arp"), "{name}: no ARP");
        assert!(protos.contains(":icmp"), "{name}: no ICMP");
    }
}

#[test]
fn tshark_decodes_vxlan_inner_frames_and_tcp() {
    let s = root().join("scenarios/linux/vxlan-two-hosts.ron");
    let pcap = export(&s, "vxlan", "2");
    // Inner ARP and ICMP inside VXLAN, dissected by Wireshark itself.
    let inner = tshark(
        &pcap,
        &[
            "-o",
            "udp.check_checksum:TRUE",
            "-Y",
            "vxlan && icmp",
            "-T",
            "fields",
            "-e",
            "vxlan.vni",
            "-e",
            "udp.dstport",
            "-e",
            "udp.checksum.status",
            "-e",
            "ip.ttl",
        ],
    );
    assert!(!inner.trim().is_empty(), "no ICMP inside VXLAN");
    for l in inner.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[0], "42", "vni: {l}");
        assert_eq!(f[1], "4789", "dst port: {l}");
        // A vxlan made with `ip link` checksums its outer UDP (Docker's overlay does not:
        // cli/tests/swarm.rs); Wireshark verifies it (status 1: good).
        assert_eq!(f[2], "1", "outer UDP checksum present and right: {l}");
        assert!(f[3].starts_with("64,64"), "outer and inner TTL 64: {l}");
    }
    let arp = tshark(&pcap, &["-Y", "vxlan && arp"]);
    assert!(!arp.trim().is_empty(), "ARP is head-end replicated over VXLAN when no proxy is set");
    let tcp = tshark(
        &pcap,
        &[
            "-Y",
            "vxlan && tcp.flags.syn == 1 && tcp.flags.ack == 0",
            "-T",
            "fields",
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.window_size_value",
            "-e",
            "frame.len",
        ],
    );
    let first = tcp.lines().next().expect("a SYN inside VXLAN");
    // The inner SYN of a 1450-MTU container: MSS 1410 and the window the kernel offers with it,
    // 64860 (46 × 1410, tcp_select_initial_window), as its own capture of this lab shows;
    // 74 bytes + 50 of VXLAN.
    let kernel = tshark(
        &root().join("traces/kernel/linux/vxlan-two-hosts.pcapng"),
        &[
            "-Y",
            "tcp.flags.syn == 1 && tcp.flags.ack == 0",
            "-T",
            "fields",
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.window_size_value",
        ],
    );
    assert_eq!(kernel.lines().next(), Some("1410\t64860"), "the kernel's SYN");
    assert_eq!(first.split('\t').collect::<Vec<_>>(), ["1410", "64860", "124"], "{first}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let s = root().join("scenarios/linux/bridge-two-namespaces.ron");
    let a = std::fs::read(export(&s, "det-a", "7")).expect("read");
    let dir = std::env::temp_dir().join(format!("netsim-cli-test-{}", std::process::id()));
    let b_path = dir.join("det-b.pcapng");
    let out =
        netsim(&["run", s.to_str().expect("utf8"), "--seed", "7", "--pcap", b_path.to_str().expect("utf8"), "--quiet"]);
    assert!(out.status.success());
    let b = std::fs::read(&b_path).expect("read");
    assert_eq!(a, b, "same scenario and seed must give identical pcapng bytes");
    let c = std::fs::read(export(&s, "det-c", "8")).expect("read");
    assert_ne!(a, c, "another seed draws other MACs, ports and ISNs");
}

#[test]
fn bad_scenario_reports_file_line_col_and_hint() {
    let dir = std::env::temp_dir().join(format!("netsim-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let good = std::fs::read_to_string(root().join("scenarios/linux/bridge-two-namespaces.ron")).expect("read");
    let bad = dir.join("bad.ron");
    let text = good.replace("peer_master: \"br0\")", "peer_mastr: \"br0\")");
    std::fs::write(&bad, &text).expect("write");
    // Where the typo is, counted as an editor counts (lines and columns from 1).
    let (line, col) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("peer_mastr").map(|c| (i + 1, c + 1)))
        .expect("the typo is in the file");
    let out = netsim(&["run", bad.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("bad.ron:{line}:{col}")), "file:line:col missing: {err}");
    assert!(err.contains("peer_mastr"), "{err}");
    assert!(err.contains("help"), "no hint: {err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = netsim(&["run", "no/such/file.ron"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the scenario file"));

    let s = root().join("scenarios/linux/bridge-two-namespaces.ron");
    let out = netsim(&["run", s.to_str().expect("utf8"), "--pcap", "/no/such/dir/x.pcapng"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create the file"));

    let out = netsim(&["run", s.to_str().expect("utf8"), "--capture", "ns1/eth9"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no interface `eth9`"));

    let out = netsim(&["run", s.to_str().expect("utf8"), "--until", "soon"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a time"));
}

#[test]
fn run_prints_hops_with_reasons_and_show_prints_kernel_formats() {
    let s = root().join("scenarios/linux/bridge-two-namespaces.ron");
    let out = netsim(&["run", s.to_str().expect("utf8")]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("ns1/eth0 ▶"), "{log}");
    assert!(log.contains("br0: learned"), "{log}");
    assert!(log.contains("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64"), "{log}");
    assert!(log.contains("Connection refused"), "{log}");

    let out = netsim(&["show", s.to_str().expect("utf8"), "ns1", "route"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "default via 10.0.0.254 dev eth0 \n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n");
    let out = netsim(&["show", s.to_str().expect("utf8"), "host", "fdb"]);
    let fdb = String::from_utf8_lossy(&out.stdout);
    assert!(fdb.lines().any(|l| l.ends_with("dev veth1 master br0 ")), "{fdb}");
    let out = netsim(&["show", s.to_str().expect("utf8"), "nope", "addr"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no namespace `nope`"));
}

#[test]
fn the_bad_checksum_filter_does_catch_bad_checksums() {
    // Guards the test above against a filter that matches nothing: one good and one
    // corrupted UDP frame, and tshark must single out the second.
    let p = sim_core::wire::Ipv4Params {
        src: "10.0.0.1".parse().expect("ip"),
        dst: "10.0.0.2".parse().expect("ip"),
        proto: 17,
        ttl: 64,
        id: 1,
        df: true,
        tos: 0,
    };
    let mut good = sim_core::wire::udp_frame(&p, 40000, 9, b"payload");
    let m = sim_core::wire::Mac([2, 0, 0, 0, 0, 1]);
    sim_core::wire::write_eth_header(&mut good, m, m, 0x0800);
    let mut bad = good.clone();
    let n = bad.len() - 1;
    bad[n] ^= 0xff;
    let dir = std::env::temp_dir().join(format!("netsim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("badsum.pcapng");
    let mut w =
        sim_core::capture::PcapngWriter::new(std::fs::File::create(&path).expect("create"), "test").expect("writer");
    let id = w.add_interface("t/eth0", None).expect("idb");
    w.write_frame(id, 1, &good, None).expect("write");
    w.write_frame(id, 2, &bad, None).expect("write");
    w.finish().expect("finish");
    let mut args: Vec<&str> = CHECKSUMS.to_vec();
    args.extend(["-Y", BAD_CHECKSUM, "-T", "fields", "-e", "frame.number"]);
    assert_eq!(tshark(&path, &args).trim(), "2");
}

#[test]
fn with_proxy_and_static_entries_no_arp_crosses_the_underlay() {
    let s = root().join("scenarios/linux/vxlan-static-proxy.ron");
    let pcap = export(&s, "overlay", "5");
    assert_eq!(tshark(&pcap, &["-Y", "vxlan && arp"]).trim(), "", "ARP must be answered locally by vxlan0 (proxy)");
    let icmp = tshark(&pcap, &["-Y", "vxlan && icmp", "-T", "fields", "-e", "vxlan.vni", "-e", "frame.len"]);
    let first = icmp.lines().next().expect("ICMP inside VXLAN");
    // Docker's first VNI, and 98 bytes of inner frame + 50 bytes of VXLAN overhead.
    assert_eq!(first, "4096\t148");
    // The reply to c1's ARP came from vxlan0's neighbour table, not from c2.
    let arp =
        tshark(&pcap, &["-Y", "arp.opcode == 2", "-T", "fields", "-e", "frame.interface_name", "-e", "arp.src.hw_mac"]);
    assert!(arp.lines().any(|l| l == "host1/vxlan0\t02:42:0a:00:01:03"), "{arp}");
}

#[test]
fn a_file_with_three_errors_reports_three_spans_at_their_lines() {
    let good = std::fs::read_to_string(root().join("scenarios/linux/bridge-two-namespaces.ron")).expect("read");
    let lines: Vec<&str> = good.lines().collect();
    let line_of = |needle: &str| lines.iter().position(|l| l.contains(needle)).expect(needle) + 1;
    let bad = good
        .replace("peer: \"veth1\",", "peer: \"veth1\", mtu: 67,")
        .replace("peer: \"veth2\",", "peer: \"..\",")
        .replace(
            "(ns: \"ns2\", dev: \"eth0\", addr: \"10.0.0.2/24\")",
            "(ns: \"ns2\", dev: \"eth9\", addr: \"10.0.0.2/24\")",
        );
    assert_ne!(bad, good);
    let at = [line_of("peer: \"veth1\","), line_of("peer: \"veth2\","), line_of("addr: \"10.0.0.2/24\"")];
    let path = scratch("three.ron");
    std::fs::write(&path, &bad).expect("write");
    let out = netsim(&["run", path.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    // miette wraps long messages; continuation lines start with `│`.
    let flat = err.replace("\n  │ ", " ");
    for (line, words) in
        at.iter().zip(["mtu less than device minimum", "is not a valid interface name", "no device `eth9`"])
    {
        let head = format!("three.ron:{line}:");
        let hit = flat.lines().find(|l| l.contains(&head)).unwrap_or_else(|| panic!("no error at line {line}:\n{err}"));
        assert!(hit.contains(words), "line {line} should say {words}: {hit}\n{err}");
    }
    // One header per error, each with its source line.
    assert_eq!(err.matches("three.ron:").count(), 6, "{err}");
}

#[test]
fn pcap_dash_writes_pcapng_to_stdout_and_the_hop_log_to_stderr() {
    let s = root().join("scenarios/linux/bridge-two-namespaces.ron");
    let out = netsim(&["run", s.to_str().expect("utf8"), "--pcap", "-"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!root().join("-").exists(), "a file named `-` was written");
    // A pcapng Section Header Block starts the output; the text went to stderr.
    assert_eq!(out.stdout.get(..4), Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]));
    let (_, frames) = sim_core::capture::read_pcapng(&out.stdout[..]).expect("stdout is pcapng");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("ns1/eth0 ▶") && log.contains(&format!("# wrote {} frames to standard output", frames.len())),
        "{log}"
    );
    let path = scratch("dash.pcapng");
    std::fs::write(&path, &out.stdout).expect("write");
    assert!(tshark(&path, &[]).lines().count() == frames.len());
}

#[test]
fn pcap_onto_the_scenario_file_is_refused_and_the_file_kept() {
    let s = scratch("keep.ron");
    std::fs::copy(root().join("scenarios/linux/bridge-two-namespaces.ron"), &s).expect("copy");
    let before = std::fs::read(&s).expect("read");
    let link = scratch("keep-link.pcapng");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&s, &link).expect("symlink");
    let dotted = s.parent().expect("dir").join(".").join("keep.ron");
    for target in [s.clone(), link, dotted] {
        let out = netsim(&["run", s.to_str().expect("utf8"), "--pcap", target.to_str().expect("utf8")]);
        assert!(!out.status.success(), "--pcap {} accepted", target.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is the scenario file"), "{err}");
        assert_eq!(std::fs::read(&s).expect("read"), before, "the scenario was overwritten");
    }
}

#[test]
fn capture_with_nothing_to_show_it_is_an_error() {
    let s = root().join("scenarios/linux/bridge-two-namespaces.ron");
    let out = netsim(&["run", s.to_str().expect("utf8"), "--capture", "ns1/eth0", "--quiet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--capture has no effect"));
    // Without --quiet it picks what the hop log shows.
    let out = netsim(&["run", s.to_str().expect("utf8"), "--capture", "ns1/eth0"]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("ns1/eth0 ▶") && !log.contains("ns2/eth0 ▶"), "{log}");
    let out = netsim(&["run", s.to_str().expect("utf8"), "--capture", "ns1/eth0", "--backend", "netns"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--capture is not supported with --backend netns"));
}

#[test]
fn capture_names_a_container_made_by_a_step() {
    let s = root().join("scenarios/docker/webapp-mysql-bridge.ron");
    let pcap = scratch("mysql.pcapng");
    let out = netsim(&[
        "run",
        s.to_str().expect("utf8"),
        "--capture",
        "host1:mysql/eth0",
        "--pcap",
        pcap.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names = tshark(&pcap, &["-T", "fields", "-e", "frame.interface_name"]);
    assert!(names.lines().count() > 5, "{names}");
    assert!(names.lines().all(|l| l == "host1:mysql/eth0"), "{names}");
    // A name that never appears is reported, by name, after the run.
    let out = netsim(&[
        "run",
        s.to_str().expect("utf8"),
        "--capture",
        "host1:mysql/eth0,host1:nosuch/eth0",
        "--pcap",
        pcap.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`host1:nosuch/eth0`: no namespace `host1:nosuch`") && !err.contains("host1:mysql/eth0`"),
        "{err}"
    );
}

#[test]
fn sigint_closes_the_pcapng_on_a_whole_block_and_exits_130() {
    let lab = scratch("long.ron");
    let text = std::fs::read_to_string(root().join("scenarios/linux/bridge-two-namespaces.ron")).expect("read");
    // Tens of thousands of pings: far longer than the test waits.
    let long = text.replace(
        "traffic: [",
        "traffic: [\n        Ping(at: \"20s\", ns: \"ns1\", dst: \"10.0.0.2\", count: 100000, interval: \"1ms\"),",
    );
    assert_ne!(long, text);
    std::fs::write(&lab, long).expect("write");
    for (sig, code) in [(nix::sys::signal::Signal::SIGINT, 130), (nix::sys::signal::Signal::SIGTERM, 143)] {
        let pcap = scratch(&format!("long-{code}.pcapng"));
        // Into a file, not a pipe: the pings' lines would fill a pipe nobody reads until the
        // end, and a child blocked in write(2) never gets back to its signal flag.
        let out = scratch(&format!("long-{code}.out"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netsim"))
            .args(["run", lab.to_str().expect("utf8"), "--quiet", "--pcap", pcap.to_str().expect("utf8")])
            .stdout(std::fs::File::create(&out).expect("create"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Wait until frames are being written, then interrupt.
        let t0 = std::time::Instant::now();
        while std::fs::metadata(&pcap).map_or(0, |m| m.len()) < 200_000 {
            assert!(t0.elapsed() < std::time::Duration::from_secs(60), "no capture written");
            assert!(child.try_wait().expect("wait").is_none(), "the run ended before the signal");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
        nix::sys::signal::kill(pid, sig).expect("kill");
        // Bounded: a run that ignores the signal fails this test instead of hanging the suite.
        let t1 = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if t1.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().expect("kill -9");
                panic!("{sig}: the run was still going 60 s after the signal");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let stdout = std::fs::read_to_string(&out).expect("read");
        let tail = &stdout[stdout.char_indices().rev().nth(2000).map_or(0, |(i, _)| i)..];
        assert_eq!(status.code(), Some(code), "{sig}: …{tail}");
        assert!(stdout.contains(&format!("# stopped by {sig}")), "…{tail}");
        // Every block is whole: the reader gets to the end, and tshark agrees.
        let bytes = std::fs::read(&pcap).expect("read");
        let (_, frames) = sim_core::capture::read_pcapng(&bytes[..]).expect("the capture parses to its end");
        assert!(stdout.contains(&format!("# wrote {} frames", frames.len())), "…{tail}");
        assert_eq!(tshark(&pcap, &[]).lines().count(), frames.len());
        let mut len = 0usize;
        let mut at = 0usize;
        while at + 8 <= bytes.len() {
            len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
            at += len;
        }
        assert!(len > 0 && at == bytes.len(), "a block is cut at {at} of {}", bytes.len());
    }
}

#[test]
fn non_regular_and_oversized_scenario_files_are_refused() {
    let out = netsim(&["run", "/dev/zero"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file"), "{err}");
    let big = scratch("big.ron");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(64 << 20).expect("sparse file");
    let out = netsim(&["run", big.to_str().expect("utf8")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 8 MiB"));
    std::fs::remove_file(&big).expect("rm");
}

/// `bench lan --save` writes the benchmark's workload as a scenario file that runs as the
/// benchmark does: every datagram sent is received, as many as the benchmark delivers, and
/// tshark sees each one leave its sender's veth.
#[test]
fn the_lan_benchmark_saved_as_a_scenario_runs_the_same_workload() {
    let file = common::scratch("lan.ron");
    let pcap = common::scratch("lan.pcapng");
    let f = file.to_str().expect("utf-8 path");
    let out = common::netsim(&["bench", "lan", "--hosts", "4", "--packets", "5", "--save", f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bench = common::netsim(&["bench", "lan", "--hosts", "4", "--packets", "5"]);
    let bench = String::from_utf8_lossy(&bench.stdout).into_owned();
    assert!(bench.contains("sent=20 delivered=20"), "{bench}");
    let run = common::netsim(&["run", f, "-q", "--pcap", pcap.to_str().expect("utf-8 path")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(text.lines().filter(|l| l.contains("udp :9 received 64 bytes")).count(), 20, "{text}");
    let sent = common::tshark(
        &pcap,
        &["-Y", "udp.dstport == 9 && frame.interface_name matches \"^h[0-9]+/\"", "-T", "fields", "-e", "frame.number"],
    );
    // Each datagram is seen leaving its sender and arriving at its receiver: two host veths.
    assert_eq!(sent.lines().count(), 40, "{sent}");
}

/// A benchmark larger than a Linux bridge takes is refused with the reason, not a panic:
/// one bridge takes 1023 ports (the 1024th is `Exchange full`, as the Docker lab of 1024
/// containers shows), so the LAN takes 1023 hosts and the overlay 1022 containers a host.
#[test]
fn a_benchmark_larger_than_a_bridge_takes_is_refused_with_the_reason() {
    for args in [
        &["bench", "lan", "--hosts", "1024", "--packets", "1"][..],
        &["bench", "lan", "--hosts", "1024", "--save", "/dev/null"][..],
        &["bench", "overlay", "--hosts", "2", "--containers", "1023", "--packets", "1"][..],
    ] {
        let out = common::netsim(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("at most 1023") && !err.contains("panicked"), "{args:?}: {err}");
    }
    let out = common::netsim(&["bench", "lan", "--hosts", "1023", "--packets", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("N=1023 P=1 sent=1023 delivered=1023"), "{text}");
}

fn scenario_path(rel: &str) -> String {
    format!("{}/../scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// Distinct values of one tshark field over a capture.
fn distinct(pcap: &std::path::Path, filter: &str, field: &str) -> std::collections::BTreeSet<String> {
    common::tshark(pcap, &["-Y", filter, "-T", "fields", "-e", field]).lines().map(str::to_string).collect()
}

/// `--pcap --once` writes each packet where it was first seen: Wireshark's TCP analysis,
/// which flags the later copies of a full capture as retransmissions, flags none, and every
/// HTTP request, MySQL query and DNS question of the full capture is still there, first on
/// the interface where the full capture shows it first.
#[test]
fn a_capture_with_each_packet_once_has_no_false_retransmissions() {
    let lab = scenario_path("swarm-webapp-mysql.ron");
    let (full, once) = (common::scratch("full.pcapng"), common::scratch("once.pcapng"));
    for (pcap, extra) in [(&full, None), (&once, Some("--once"))] {
        let mut args = vec!["run", lab.as_str(), "-q", "--pcap", pcap.to_str().expect("utf-8 path")];
        args.extend(extra);
        let out = common::netsim(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let retrans = "tcp.analysis.retransmission || tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order";
    let count = |p: &std::path::Path, f: &str| common::tshark(p, &["-Y", f]).lines().count();
    assert!(count(&full, retrans) > 0, "the full capture has copies Wireshark takes for retransmissions");
    assert_eq!(count(&once, retrans), 0, "{}", common::tshark(&once, &["-Y", retrans]));
    assert!(count(&once, "frame") * 2 < count(&full, "frame"));
    for (filter, field) in
        [("http.request", "http.request.uri"), ("mysql.query", "mysql.query"), ("dns", "dns.qry.name")]
    {
        let (a, b) = (distinct(&full, filter, field), distinct(&once, filter, field));
        assert!(!a.is_empty() && a == b, "{field}: {a:?} vs {b:?}");
    }
    // The POST's first sighting: the same interface in both.
    let first = |p: &std::path::Path| {
        common::tshark(p, &["-Y", "http.request.method == \"POST\"", "-T", "fields", "-e", "frame.interface_name"])
            .lines()
            .next()
            .map(str::to_string)
    };
    assert_eq!(first(&once), first(&full));
    // NAT makes the POST a packet of another connection (DNAT, IPVS): once in each, never
    // twice in one.
    let posts = common::tshark(
        &once,
        &[
            "-Y",
            "http.request.method == \"POST\"",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
        ],
    );
    let tuples: std::collections::BTreeSet<&str> = posts.lines().collect();
    assert!(!tuples.is_empty() && tuples.len() == posts.lines().count(), "{posts}");
}

/// `--brief` keeps the frames that carry the lesson: every NAT, IPVS and VXLAN decision of the
/// full hop log, and none of dockerd's announcements.
#[test]
fn the_brief_hop_log_keeps_the_decisions_and_drops_the_housekeeping() {
    let run = |lab: &str, level: Option<&str>| {
        let lab = scenario_path(lab);
        let mut args = vec!["run", lab.as_str()];
        args.extend(level);
        let out = common::netsim(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let records =
        |text: &str| text.lines().filter(|l| l.contains(" ▶ ") || l.contains(" ● ") || l.contains(" ✖ ")).count();
    for lab in ["swarm-webapp-mysql.ron", "docker/swarm-overlay-vip.ron", "docker/published-ports.ron"] {
        let (full, brief) = (run(lab, None), run(lab, Some("--brief")));
        let decisions = |text: &str| -> Vec<String> {
            let mut v: Vec<String> = text
                .lines()
                .filter(|l| l.contains("DNAT") || l.contains("IPVS") || l.contains("encap vni"))
                .map(str::to_string)
                .collect();
            v.sort();
            v
        };
        assert_eq!(decisions(&full), decisions(&brief), "{lab}");
        assert!(!brief.contains("unsolicited ARP"), "{lab}");
        assert!(records(&brief) < records(&full), "{lab}");
    }
    assert!(run("docker/swarm-overlay-vip.ron", None).contains("unsolicited ARP"));
}

/// `--capture` takes a container, task or sandbox as `docker ps` and `ip netns` on its host name
/// it (`web/eth0`); the capture is the one of its full name (`host1:web/eth0`). A name on
/// several hosts is an error that lists them.
#[test]
fn capture_takes_a_container_by_the_name_docker_ps_shows() {
    let lab = scenario_path("docker/published-ports.ron");
    let (short, full) = (common::scratch("short.pcapng"), common::scratch("full-name.pcapng"));
    for (pcap, name) in [(&short, "web/eth0"), (&full, "host1:web/eth0")] {
        let out =
            common::netsim(&["run", lab.as_str(), "-q", "--capture", name, "--pcap", pcap.to_str().expect("utf-8")]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let frames =
        |p: &std::path::Path| common::tshark(p, &["-T", "fields", "-e", "frame.interface_name", "-e", "frame.len"]);
    assert!(!frames(&short).trim().is_empty());
    assert_eq!(frames(&short), frames(&full));
    assert!(frames(&short).lines().all(|l| l.starts_with("host1:web/eth0\t")), "{}", frames(&short));

    let tutorial = scenario_path("swarm-webapp-mysql.ron");
    let out = common::netsim(&["run", tutorial.as_str(), "-q", "--capture", "ingress_sbox/eth0", "--pcap", "-"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`ingress_sbox` is on several hosts") && err.contains("`node2:ingress_sbox`"), "{err}");
}
