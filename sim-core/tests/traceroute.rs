//! busybox `traceroute` in the simulator prints what it printed on Docker Engine 20.10.24
//! for the same lab (`traces/docker/traceroute/record.txt`, made by `record.sh` beside it):
//! a container on the same bridge (one hop, named by the embedded DNS's PTR), a second host
//! on the Docker host's LAN (the gateway, then the host), the default bridge, `-m`, `-f`,
//! `-q`, `-p`, a packet size, an isolated network (the gateway answers, then nothing), an
//! address no one has (` !H` after the gateway's ARP gives up), `NAME.NETWORK`, and the
//! command lines busybox refuses. The record also judges the kernel's ICMP rate limit: the
//! probes' answers come from a few addresses, run after run, and twice a destination's
//! bucket is empty when a run starts, so its first probe is a `*`.
//!
//! Round trips are compared as `T ms`: the simulator's clock is not the kernel's.

mod common;

use common::record;

/// `0.004 ms` and `3069.060 ms` alike, as `T ms`.
fn without_times(l: &str) -> String {
    let mut out = Vec::new();
    let words: Vec<&str> = l.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        let time = words.get(i + 1) == Some(&"ms")
            && w.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.len() == 3
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
        out.push(if time { "T" } else { w });
    }
    out.join(" ")
}

/// The lines busybox prints before its usage that name its build.
fn banner(l: &str) -> bool {
    l.starts_with("BusyBox v") || l.trim().is_empty()
}

#[test]
fn traceroute_runs_as_busybox_did_on_the_engine() {
    let rec = record("traceroute/record.txt");
    assert!(rec.len() >= 25, "the record has its cases");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_hosts("(name: \"far\", addr: \"192.168.99.102/24\", docker: false),", &steps);
    let got = common::shell_lines(&sim, &rec, |_| true);
    let mut star_first = 0;
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(&got) {
        let want: Vec<String> = want.lines().filter(|l| !banner(l)).map(without_times).collect();
        let lines: Vec<String> = lines.iter().filter(|l| !banner(l)).map(|l| without_times(l)).collect();
        assert_eq!(lines, want, "`{cmd}` prints as on the engine");
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
        star_first += lines.iter().filter(|l| l.len() > 4 && l[2..].starts_with("  *  ")).count();
    }
    assert_eq!(star_first, 2, "two runs whose first answer the rate limit withheld, as in the record");
}
