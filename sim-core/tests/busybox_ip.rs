//! busybox's `ip addr`, `ip link`, `ip neigh` (and `-4`, `-o`, `show DEV`) in alpine
//! containers, against what the applet printed in the same containers on Docker Engine
//! 20.10.24, built with musl as alpine builds it (`traces/docker/busybox-ip/`, recorded by
//! its `record.sh`).

mod common;

use common::record;

/// Interface indexes are the host kernel's count of every device it has made; the
/// loopback's is always 1. Blank lines are the record script's echo of an empty output.
fn normal(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let mut l = line.to_string();
        if let Some((idx, rest)) = l.split_once(": ")
            && idx != "1"
            && !idx.is_empty()
            && idx.bytes().all(|b| b.is_ascii_digit())
        {
            l = format!("N: {rest}");
        }
        if let Some(i) = l.find("@if") {
            let end = l[i + 3..].find(|c: char| !c.is_ascii_digit()).map_or(l.len(), |e| i + 3 + e);
            l.replace_range(i..end, "@ifN");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn alpines_ip_prints_as_busybox_built_with_musl_prints() {
    let rec = record("busybox-ip/record.txt");
    assert!(rec.len() >= 21, "{} blocks", rec.len());
    let steps: Vec<String> =
        rec.iter().map(|(c, _)| if c.ends_with(" alpine") { format!("{c} sleep 1000") } else { c.clone() }).collect();
    let sim = common::run_on_host1(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len(), "every step ran");
    let mut diffs = Vec::new();
    let mut compared = 0;
    for (log, (cmd, (want, status))) in d.transcript.iter().zip(&rec) {
        // The ping is busybox-ping's to judge; it is here for the neighbour it leaves.
        if !cmd.contains(" ip ") {
            continue;
        }
        compared += 1;
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let (got, want) = (normal(&got), normal(want));
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- engine [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(compared >= 13, "{compared} ip commands");
    assert!(diffs.is_empty(), "{} of {compared} differ:\n{}", diffs.len(), diffs.join("\n"));
}
