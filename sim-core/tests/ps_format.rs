//! `docker ps --format` in the simulator prints what Docker Engine 20.10.24 printed for the
//! same containers (`traces/docker/ps-format/record.txt`, made by `record.sh` beside it).

mod common;

use common::record;

#[test]
fn docker_ps_format_prints_as_the_engine_does() {
    let rec = record("ps-format/record.txt");
    assert!(rec.len() >= 10, "the record has its cases");
    // The record's containers ran busybox's `sleep 1000` from an image named bbtest.
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.replace(" alpine", " alpine sleep 1000")).collect();
    let sim = common::run_on_host1(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len());
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in d.transcript.iter().zip(&rec) {
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let got: String = got
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| match l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()) {
                true => "ID\n".to_string(),
                false => format!("{l}\n"),
            })
            .collect();
        let want = want.replace("bbtest", "alpine");
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- engine [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}
