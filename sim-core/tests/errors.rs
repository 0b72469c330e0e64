//! What a command that fails prints, and its exit status, judged case by case against what
//! Docker Engine 20.10 printed for the same commands (`traces/docker/errors/`).

use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

/// A command as typed, what it printed and its exit status.
type Typed = (String, String, u8);

/// The record's cases: each a name and its commands.
fn cases() -> Vec<(String, Vec<Typed>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/docker/errors/record.txt");
    let text = std::fs::read_to_string(path).expect("the record is kept in the repository");
    let mut out: Vec<(String, Vec<Typed>)> = Vec::new();
    let mut cmd: Option<String> = None;
    let mut body = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## case ") {
            out.push((name.to_string(), Vec::new()));
        } else if line.starts_with('#') {
        } else if let Some(c) = line.strip_prefix("$ ") {
            cmd = Some(c.to_string());
            body.clear();
        } else if let Some(code) = line.strip_prefix("[exit ").and_then(|l| l.strip_suffix(']')) {
            let c = cmd.take().expect("an exit status follows a command");
            let case = out.last_mut().expect("commands belong to a case");
            case.1.push((c, std::mem::take(&mut body), code.parse().expect("a number")));
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The command as a lab writes it: the record's containers ran the probe image's loop,
/// which stays up as alpine's shell does under `-it`.
fn as_lab(cmd: &str) -> String {
    match cmd.find(" netsim-probe ") {
        Some(i) => format!("{} alpine", cmd[..i].replacen("docker run -d ", "docker run -dit ", 1)),
        None => cmd.to_string(),
    }
}

/// The line that says what went wrong: the first that is not the new container's ID.
fn error_line(out: &str) -> String {
    let ids = |l: &&str| *l != "ID" && !(l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()));
    out.lines().find(ids).unwrap_or_default().trim_end_matches('.').to_string()
}

/// IDs as the record writes them: 64 hex digits `ID`, 12 `SHORTID`.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        *out += match run.len() {
            64 => "ID",
            12 => "SHORTID",
            _ => run,
        };
        run.clear();
    };
    for ch in s.chars() {
        if ch.is_ascii_digit() || ('a'..='f').contains(&ch) {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn run(cmds: &[String]) -> Sim {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let steps: String = cmds.iter().map(|c| format!("        (on: \"host1\", run: \"{}\"),\n", esc(c))).collect();
    let text = format!(
        "Scenario(\n    name: \"errors\",\n    engine: (version: \"20.10\", mtu: 1400),\n    hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("errors.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

/// The record's `swarm-join-without-manager` case.
const JOIN_REFUSED: &str = "docker swarm join --token SWMTKN-1-x 192.168.99.101:2377";

#[test]
fn failing_commands_say_what_the_engine_says_with_its_exit_status() {
    let mut differ = Vec::new();
    let all = cases();
    for (name, cmds) in &all {
        // The record's daemon had refused a `docker swarm join` before (the record's own
        // case, in the first of its two runs), which leaves 20.10 a cluster provider without
        // a node: every case runs after one (traces/docker/errors/README.md).
        let lines: Vec<String> =
            std::iter::once(JOIN_REFUSED.to_string()).chain(cmds.iter().map(|(c, _, _)| as_lab(c))).collect();
        let sim = run(&lines);
        let d = sim.director.as_ref().expect("a Docker lab");
        let (log, (_, want, status)) = (d.transcript.last().expect("the steps ran"), cmds.last().expect("a command"));
        let got = match &log.output {
            Ok(t) | Err(t) => normalise(t),
        };
        // The line that says what went wrong, and the exit status; the CLI's usage hint and
        // the ID a failed `docker run` prints first are not compared.
        let (g, w) = (error_line(&got), error_line(want));
        if g != w || log.status != *status {
            differ.push(format!("{name}: engine `{w}` ({status}), simulator `{g}` ({})", log.status));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} cases differ from the engine:\n{}",
        differ.len(),
        all.len(),
        differ.join("\n")
    );
}
