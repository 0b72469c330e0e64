//! `docker ps` and `docker ps -a` in the simulator print the table docker/cli printed for
//! Docker Engine 20.10.24 (`traces/docker/ps-table/record.txt`, made by `record.sh` beside
//! it): columns as wide as their widest cell (Go's tabwriter), CREATED and STATUS as go-units
//! words a duration, the ports an image exposes (`80/tcp`) beside the published ones (a
//! range of the same numbers as one), a shell kept by `-it`, and `sleep` as PID 1, which
//! SIGTERM does not stop: `docker stop` kills it after 10 s (`Exited (137)`).
//!
//! The durations' numbers are compared as `N`: the simulator's steps take about as long as
//! the engine's did, not to the second.

mod common;

use common::record;

/// `15 seconds ago`, `Up 16 seconds`: the number as `N`; a short container ID as `ID`.
fn without_seconds(l: &str) -> String {
    let words: Vec<&str> = l.split(' ').collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let secs = words.get(i + 1).is_some_and(|n| n.starts_with("second")) && w.bytes().all(|b| b.is_ascii_digit());
        let id = w.len() == 12 && w.bytes().all(|b| b.is_ascii_hexdigit());
        out.push(if secs {
            "N"
        } else if id {
            "ID"
        } else {
            w
        });
    }
    out.join(" ")
}

#[test]
fn docker_ps_prints_its_table_as_the_engine_did() {
    let rec = record("ps-table/record.txt");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_host1(&steps);
    let outputs = common::shell_lines(&sim, &rec, |_| false);
    let mut tables = 0;
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(&outputs) {
        let want: Vec<String> = want.lines().filter(|l| !l.is_empty()).map(without_seconds).collect();
        let got: Vec<String> = lines.iter().map(|l| without_seconds(l)).collect();
        assert_eq!(got, want, "`{cmd}` prints as on the engine");
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
        tables += usize::from(cmd.starts_with("docker ps"));
    }
    assert_eq!(tables, 2);
}
