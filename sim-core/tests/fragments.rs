//! ping across a smaller MTU, judged by what iputils printed on the kernel: the lab
//! traces/kernel/linux/fragments.ron runs the pings that traces/kernel/linux/fragments-iputils.sh
//! ran with the real ping (iputils 20221126) on the same topology, and the simulator's ping
//! prints the same lines. (The frames are compared with the kernel's capture in
//! cli/tests/traces.rs.)

use sim_core::Until;
use sim_core::scenario::Loaded;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A line with its times (which follow each run's clock) left out: a reply's `time=`, the
/// summary's `time NNNms` and the round-trip figures.
fn without_time(l: &str) -> String {
    let l = l.split(" time=").next().unwrap_or(l);
    let l = l.split(", time ").next().unwrap_or(l);
    if l.starts_with("rtt ") { l.split(" = ").next().unwrap_or(l) } else { l }.to_string()
}

/// Everything iputils printed, in order, without the record's own lines (the version, each
/// `$ command`).
fn iputils_lines(text: &str) -> Vec<String> {
    text.lines().skip(1).filter(|l| !l.starts_with("$ ")).map(without_time).collect()
}

#[test]
fn ping_prints_what_iputils_printed_across_a_smaller_mtu() {
    let r = root();
    let recorded = std::fs::read_to_string(r.join("traces/kernel/linux/fragments-iputils.txt")).expect("the record");
    let want = iputils_lines(&recorded);
    assert!(want.iter().any(|l| l == "From 192.168.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)"), "{want:?}");
    let l = Loaded::from_file(&r.join("traces/kernel/linux/fragments.ron")).unwrap_or_else(|e| panic!("{e}"));
    let mut s = l.build(None).unwrap_or_else(|e| panic!("{e}"));
    s.run_until(Until::Idle);
    let got: Vec<String> = s.app_output().into_iter().map(|(_, t)| without_time(&t)).collect();
    assert_eq!(got, want, "simulator (left) and iputils on the kernel (right)");
}
