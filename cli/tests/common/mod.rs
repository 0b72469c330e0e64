//! Helpers shared by the CLI tests: running the binary, walking the shipped scenarios, and
//! letting tshark judge a capture. tshark is required: tests fail (not skip) without it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether this process is root; if not, says on stderr that `test` is skipped and why.
pub fn is_root(test: &str) -> bool {
    let euid = nix::unistd::geteuid();
    if !euid.is_root() {
        // Straight to stderr: the test harness would keep an `eprintln!` of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIP {test}: needs root (euid {euid}): it builds real network namespaces");
    }
    euid.is_root()
}

pub fn netsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netsim")).args(args).current_dir(root()).output().expect("netsim runs")
}

/// A path for a test's own file, in a folder of this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join(name)
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// The `.ron` files of `scenarios/<dir>`, sorted; at least `min` of them.
pub fn scenarios_in(dir: &str, min: usize) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios").join(dir))
        .unwrap_or_else(|e| panic!("scenarios/{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    v.sort();
    assert!(v.len() >= min, "expected the shipped labs in scenarios/{dir}, found {v:?}");
    v
}

pub fn tshark(pcap: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tshark ({e}): install it (apt-get install tshark); CI does"));
    assert!(out.status.success(), "tshark failed on {}: {}", pcap.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `tshark -Y FILTER -T fields -e …`, one line per frame. TCP sequence analysis is off: in a
/// capture of many interfaces the copies of one segment look like retransmissions to it, and
/// it would then not hand them to HTTP or MySQL.
pub fn fields(pcap: &Path, filter: &str, names: &[&str]) -> Vec<String> {
    let mut args = vec!["-o", "tcp.analyze_sequence_numbers:FALSE", "-Y", filter, "-T", "fields"];
    for n in names {
        args.extend(["-e", n]);
    }
    tshark(pcap, &args).lines().map(str::to_string).collect()
}

// ICMP checksums are always verified; the others only on request.
pub const CHECKSUMS: [&str; 6] =
    ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"];
// Wireshark's checksum status: 0 = bad, 1 = good, 2 = unverified, 3 = not present.
pub const BAD_CHECKSUM: &str =
    "ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0 || icmp.checksum.status == 0";

/// What a run printed from the step typed as `from` up to (not including) the step `to`.
pub fn between<'a>(log: &'a str, from: &str, to: Option<&str>) -> &'a str {
    nth_between(log, from, 0, to)
}

/// Like `between`, from the `n`th (0-based) step typed as `from`.
pub fn nth_between<'a>(log: &'a str, from: &str, n: usize, to: Option<&str>) -> &'a str {
    let pat = format!("$ {from}\n");
    let start = log.match_indices(&pat).nth(n).unwrap_or_else(|| panic!("no step #{n} `{from}` in:\n{log}")).0;
    let rest = &log[start + pat.len()..];
    match to {
        Some(t) => &rest[..rest.find(&format!("$ {t}\n")).unwrap_or_else(|| panic!("no step `{t}` in:\n{log}"))],
        None => rest,
    }
}

/// The known divergences: `traces/kernel/divergences.txt` names, trace by trace
/// (`linux/router-nat.pcapng`), each conversation `netsim diff` still finds different, and
/// why. `cli/tests/traces.rs` holds the judge to exactly those for the recorded traces; a
/// live run on the kernel may show fewer (a race can go either way), never others.
#[allow(dead_code)]
pub fn known_divergences() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("traces/kernel/divergences.txt")).expect("divergences.txt");
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (trace, rest) = line.split_once(": ").unwrap_or_else(|| panic!("`TRACE: CONVERSATION — WHY`: {line}"));
        let (conv, why) = rest.split_once(" — ").unwrap_or_else(|| panic!("no reason given: {line}"));
        assert!(!why.trim().is_empty(), "no reason given: {line}");
        out.entry(trace.to_string()).or_default().insert(conv.to_string());
    }
    out
}

/// The conversations a `netsim diff` report says differ (`frames: IFACE, KIND: …`).
#[allow(dead_code)]
pub fn differing_conversations(stdout: &str) -> std::collections::BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("frames: "))
        .map(|l| l.split(": ").next().expect("a conversation").to_string())
        .collect()
}

/// A live `netsim diff` of a lab whose kernel trace is `trace`: every state, output and tool
/// line agrees, and frames were compared. Which conversations differ is judged on the
/// recorded trace (`cli/tests/traces.rs`), where it cannot change from run to run; live, a
/// race the uncalibrated per-hop times decide (a FIN against an ACK) can go either way.
#[allow(dead_code)]
pub fn assert_only_frames_differ(trace: &str, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let other: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("frames: ") && !l.starts_with("  "))
        .collect();
    assert!(other.is_empty(), "{trace}: differences beyond frames:\n{all}");
    let compared: usize = stdout
        .split(" conversations on ")
        .next()
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{trace}: no summary of the frames compared:\n{all}"));
    assert!(compared >= 5, "{trace}: only {compared} conversations compared:\n{all}");
}
