//! busybox `wget` in the simulator prints what busybox printed against the same page
//! (`traces/programs/wget/record.txt`, made by `record.sh` beside it: real busybox in a
//! network namespace, the simulator's own web server in another).

mod common;

use sim_core::Until;
use sim_core::scenario::Loaded;

/// One recorded command: what busybox printed (its build banner and blank lines left out)
/// and its exit status.
struct Case {
    cmd: String,
    lines: Vec<String>,
    exit: u8,
}

fn record() -> Vec<Case> {
    common::transcript("programs/wget/record.txt")
        .into_iter()
        .map(|(cmd, (out, exit))| Case {
            cmd,
            lines: out.lines().filter(|l| !l.is_empty() && !l.starts_with("BusyBox v")).map(String::from).collect(),
            exit,
        })
        .collect()
}

#[test]
fn wget_prints_what_busybox_prints() {
    let cases = record();
    assert!(cases.len() >= 15, "the record has its cases");
    let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/programs/wget/wget.ron");
    let text = std::fs::read_to_string(lab).expect("the lab");
    let loaded = Loaded::from_str(lab, &text).unwrap();
    let steps: Vec<&str> = loaded.scenario.steps.iter().map(|s| s.run.as_str()).collect();
    let cmds: Vec<&str> = cases.iter().map(|c| c.cmd.as_str()).collect();
    assert_eq!(steps, cmds, "the lab runs the recorded commands");
    let mut sim = loaded.build(None).unwrap();
    sim.run_until(Until::Idle);
    // What wc printed, cut at each command; the simulator's own notes (the connection's
    // progress, which busybox does not print) left out.
    let got = common::lines_under(&sim, "wc", &cmds, |l| l.starts_with("tcp "));
    for (c, (cmd, lines, exit)) in cases.iter().zip(&got) {
        assert_eq!(&c.cmd, cmd);
        let want: Vec<&String> = c.lines.iter().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.iter().collect::<Vec<_>>(), want, "`{}` prints as busybox does", c.cmd);
        assert_eq!(*exit, c.exit, "`{}` exits as busybox does", c.cmd);
    }
}

/// On the wire: busybox asks the server to close (`Connection: close`), and it does, first.
#[test]
fn the_server_closes_first_when_wget_asks() {
    let text = r#"Scenario(
    name: "wget close",
    hosts: [(name: "wc", addr: "10.77.0.1/24"), (name: "ws", addr: "10.77.0.2/24")],
    traffic: [Http(ns: "ws", port: 80)],
    steps: [(on: "wc", run: "wget -qO- http://10.77.0.2/"), (on: "wc", run: "curl http://10.77.0.2/")],
)"#;
    let mut sim = Loaded::from_str("close.ron", text).unwrap().build(None).unwrap();
    sim.run_until(Until::Idle);
    let out = sim.app_output();
    let closed: Vec<&str> =
        out.iter().filter(|(_, l)| l.ends_with("peer closed (FIN)")).map(|(ns, _)| ns.as_str()).collect();
    // wget: the client hears the server's FIN first, then the server the client's (as
    // busybox against a real server closes: the capture beside the record); curl closes
    // first itself.
    assert_eq!(closed, ["wc", "ws", "ws", "wc"], "{out:#?}");
}
