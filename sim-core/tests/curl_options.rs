//! curl's `-I`, `-i`, `-f`, `-o` and `-w` in the simulator print what curl 7.88.1 printed of
//! the same answers (`traces/programs/curl-options/record.txt`, made by `record.sh` beside it:
//! Debian's curl against `server.py`, which answers with the simulator's server's bytes).

mod common;

use sim_core::Until;
use sim_core::scenario::Loaded;

/// One recorded command: what curl printed (blank lines left out) and its exit status.
struct Case {
    cmd: String,
    lines: Vec<String>,
    exit: u8,
}

fn record() -> Vec<Case> {
    common::transcript("programs/curl-options/record.txt")
        .into_iter()
        .map(|(cmd, (out, exit))| Case {
            cmd,
            lines: out.lines().filter(|l| !l.is_empty()).map(String::from).collect(),
            exit,
        })
        .collect()
}

#[test]
fn curl_prints_heads_errors_and_write_out_as_curl_does() {
    let cases = record();
    assert!(cases.len() >= 9, "the record has its cases");
    let mut steps = String::from("        (on: \"laptop\", run: \"docker run -d --name web -p 8080:80 nginx\"),\n");
    for c in &cases {
        steps += &format!("        (on: \"laptop\", run: \"{}\"),\n", c.cmd.replace('\\', "\\\\"));
    }
    let text = format!(
        "Scenario(\n    name: \"curl\",\n    hosts: [(name: \"laptop\", addr: \"192.168.50.10/24\")],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("curl.ron", &text).unwrap().build(None).unwrap();
    sim.run_until(Until::Idle);
    // What the laptop's shell showed, cut at each command; the simulator's own notes on the
    // connection and the answer (which curl does not print) left out.
    let note = |l: &str| ["tcp ", "resolved ", "docker-proxy: ", "curl: HTTP/1.1 "].iter().any(|p| l.starts_with(p));
    let cmds: Vec<&str> = cases.iter().map(|c| c.cmd.as_str()).collect();
    let got = common::lines_under(&sim, "laptop", &cmds, note);
    for (c, (cmd, lines, exit)) in cases.iter().zip(&got) {
        assert_eq!(&c.cmd, cmd);
        assert_eq!(lines, &c.lines, "`{}` prints as curl does", c.cmd);
        assert_eq!(*exit, c.exit, "`{}` exits as curl does", c.cmd);
    }
}
