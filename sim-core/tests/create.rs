//! `docker create` and `docker start` in the simulator as on Docker Engine 20.10.24
//! (`traces/docker/create/record.txt`, made by `record.sh` beside it): the container is
//! made `Created`, with no address on its networks and no published port; `network connect`
//! only notes a network for the start; a port taken or a network that is not there fails
//! `docker start`, not `docker create`; a created client's program runs when it starts, into
//! its log; `create` takes no `-d`.
//!
//! A client's ephemeral port is compared as `EPH`, ping's times and how long ago a
//! container started as `T`, as they are the machine's.

mod common;

use common::record;

/// `Up 11 seconds`, `Exited (0) 5 seconds ago` with their durations as `T`.
fn status_times(l: &str) -> String {
    let words: Vec<&str> = l.split(' ').collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let unit = words.get(i + 1).is_some_and(|u| u.starts_with("second") || u.starts_with("minute"));
        if words[i].bytes().all(|b| b.is_ascii_digit()) && unit {
            out.push("T");
            i += 2;
        } else if words[i..].starts_with(&["Less", "than", "a", "second"]) {
            out.push("T");
            i += 4;
        } else {
            out.push(words[i]);
            i += 1;
        }
    }
    out.join(" ")
}

#[test]
fn created_containers_start_as_on_the_engine() {
    let rec = record("create/record.txt");
    assert!(rec.len() >= 20, "the record has its cases");
    // The record paused a second after each command, as a student types.
    let paused: Vec<(String, (String, u8))> =
        rec.iter().flat_map(|c| [c.clone(), ("sleep 1".to_string(), (String::new(), 0))]).collect();
    let sim = common::run_record(&paused);
    let got: Vec<Vec<String>> =
        common::program_lines(&sim, &paused, common::client_note).into_iter().step_by(2).collect();
    let d = sim.director.as_ref().expect("a lab with hosts");
    let logs: Vec<_> = d.transcript.iter().step_by(2).collect();
    let mut differ = Vec::new();
    for (((cmd, (want, exit)), lines), log) in rec.iter().zip(&got).zip(logs) {
        let mut want: Vec<String> =
            common::stand_in_page(want).lines().filter(|l| !l.is_empty()).map(String::from).collect();
        let mut lines: Vec<String> = lines.iter().map(|l| common::ids(l)).collect();
        if want.first().is_some_and(|l| l.starts_with("unknown shorthand flag")) {
            // docker/cli 28 adds its usage lines after the flag's error.
            want.truncate(1);
            lines.truncate(1);
        }
        if cmd.starts_with("docker logs") {
            (want, lines) = (
                want.iter().map(|l| common::without_times(l)).collect(),
                lines.iter().map(|l| common::without_times(l)).collect(),
            );
        }
        if cmd.starts_with("docker ps") {
            (want, lines) =
                (want.iter().map(|l| status_times(l)).collect(), lines.iter().map(|l| status_times(l)).collect());
        }
        if lines != want || log.status != *exit {
            differ.push(format!(
                "$ {cmd}\n--- engine [exit {exit}]\n{}\n--- netsim [exit {}]\n{}",
                want.join("\n"),
                log.status,
                lines.join("\n")
            ));
        }
    }
    assert!(differ.is_empty(), "{} of {} differ:\n{}", differ.len(), rec.len(), differ.join("\n"));
}
