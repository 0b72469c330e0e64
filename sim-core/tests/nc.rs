//! busybox `nc -z` in the simulator prints what it printed on Docker Engine 20.10.24 for the
//! same containers (`traces/docker/nc/record.txt`, made by `record.sh` beside it): an open
//! port, a closed one at each verbosity, a name no network knows, an address no one has, a
//! container on another network (Docker's isolation drops the SYN), and the command lines
//! busybox refuses.

mod common;

use common::record;

/// What the simulator adds to a program's lines: the connection's progress and the
/// resolver's, which busybox does not print.
fn note(l: &str) -> bool {
    l.starts_with("tcp ") || l.starts_with("embedded DNS: ") || l.starts_with("resolved ")
}

#[test]
fn nc_scans_a_port_as_busybox_does_on_the_engine() {
    let rec = record("nc/record.txt");
    assert!(rec.len() >= 15, "the record has its cases");
    let sim = common::run_record(&rec);
    // Each step's lines: the daemon's answer and a failure's words (on the host, indented,
    // with its status), then what nc printed in the container.
    let mut got: Vec<(String, Vec<String>, u8)> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && rec.iter().any(|(c, _)| *c == l) && got.len() < rec.len() {
            got.push((l, Vec::new(), 0));
            continue;
        }
        let Some((_, lines, status)) = got.last_mut() else { continue };
        match l.strip_prefix("  ") {
            Some(s) if ns == "host1" => match s.strip_prefix("(exit status ").and_then(|r| r.strip_suffix(')')) {
                Some(code) => *status = code.parse().expect("a status"),
                None if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) => lines.push("ID".into()),
                None => lines.push(s.to_string()),
            },
            _ if ns != "host1" && !note(&l) && !l.is_empty() => lines.push(l),
            _ => {}
        }
    }
    assert_eq!(got.len(), rec.len(), "every step ran: {got:#?}");
    for ((cmd, (want, exit)), (line, lines, status)) in rec.iter().zip(&got) {
        assert_eq!(cmd, line);
        let want: Vec<&str> = want.lines().filter(|l| !l.trim().is_empty()).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines, want, "`{cmd}` prints as on the engine");
        // A command line busybox refuses fails the step with busybox's status; a scan that
        // ran gives the step nc's own: 1 for a port that did not answer.
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
    }
}
