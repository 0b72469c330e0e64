//! The daemon's own commands — `docker version`, `docker info` (before and after `swarm
//! init`), `docker images`/`docker image ls`, `docker pull` without a registry — against what
//! Docker Engine 20.10.24 printed for them, typed with its own 20.10 client
//! (`traces/docker/system/`, recorded by its `record.sh`).

mod common;

use common::record;
use serde_json::Value;
use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

/// The record's host: `docker info` names it.
const HOST: &str = "vm";
const ADDR: &str = "192.168.99.101";

fn lab(steps: &[String]) -> Sim {
    let steps: String = steps
        .iter()
        .map(|s| format!("        (on: \"{HOST}\", run: \"{}\"),\n", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let text = format!(
        "Scenario(\n    name: \"system\",\n    engine: (version: \"20.10\"),\n    hosts: [(name: \"{HOST}\", addr: \"{ADDR}/24\")],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("system.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

/// A word of 12 or 25 lower-case letters and digits with both in it (a short or swarm ID),
/// a 64-hex ID, the address and a time, as the record's script writes them.
fn ids(l: &str) -> String {
    let mut l = l.replace(ADDR, "ADDR");
    if let Some(i) = l.find("SWMTKN-") {
        let end = l[i..].find(' ').map_or(l.len(), |e| i + e);
        l.replace_range(i..end, "TOKEN");
    }
    let mut out = String::new();
    let mut run = String::new();
    for ch in l.chars().chain(std::iter::once('\u{0}')) {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            run.push(ch);
            continue;
        }
        let mixed = run.chars().any(|c| c.is_ascii_lowercase()) && run.chars().any(|c| c.is_ascii_digit());
        out += match run.len() {
            64 => "ID",
            25 if mixed => "SWARMID",
            12 if mixed => "SHORTID",
            _ => &run,
        };
        run.clear();
        if ch != '\u{0}' {
            out.push(ch);
        }
    }
    out
}

/// A JSON value's shape: its keys in order, each scalar as its type; what the two sides may
/// differ in (the machine's figures, the times) goes, the layout stays.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                // The simulated swarm has no certificates.
                .filter(|(k, _)| k.as_str() != "TLSInfo")
                // A template names the Go field (`APIVersion`); `{{json .}}` its JSON tag.
                .map(|(k, v)| (if k == "APIVersion" { "ApiVersion".into() } else { k.clone() }, shape(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => Value::String("s".into()),
        Value::Number(_) => Value::String("n".into()),
        Value::Bool(_) => Value::String("b".into()),
        Value::Null => Value::Null,
    }
}

/// One side's output for `cmd`, with what may differ between the two made alike.
fn normal(cmd: &str, out: &str) -> String {
    // The 20.10 client words an arity error `"docker X" requires …`, then its usage;
    // the simulator, docker/cli 28's way, `docker: 'docker X' requires …`.
    let first = out.lines().next().unwrap_or("");
    let arity = first.strip_prefix("docker: ").unwrap_or(first);
    if (arity.contains(" requires ") || arity.contains(" accepts no arguments"))
        && (arity.starts_with('"') || arity.starts_with('\''))
    {
        // cli.ExactArgs: 20.10 says `requires exactly 1 argument.`, 28 `requires 1 argument`.
        let arity = arity.replace('"', "'").replace(" requires exactly ", " requires ");
        return format!("{}\n", arity.trim_end_matches('.'));
    }
    let mut lines = Vec::new();
    for l in out.lines().filter(|l| !l.trim().is_empty()) {
        if l.starts_with('{') {
            let v: Value = serde_json::from_str(l).expect("JSON");
            lines.push(shape(&v).to_string());
            continue;
        }
        let mut l = ids(l);
        // This machine's resolver, in the daemon's lookup error.
        if let Some(i) = l.find(" on ")
            && l[i..].contains(":53: no such host")
        {
            let end = l[i..].find(": no such host").map_or(l.len(), |e| i + e);
            l.replace_range(i..end, "");
        }
        // The machine's own: the daemon's key, its kernel's build.
        for key in [" ID: ", " Kernel Version: "] {
            if l.starts_with(key) {
                l = format!("{key}…");
            }
        }
        // A Go map's order.
        if let Some(r) = l.strip_prefix(" Runtimes: ") {
            let mut w: Vec<&str> = r.split(' ').collect();
            w.sort();
            l = format!(" Runtimes: {}", w.join(" "));
        }
        // An image's figures: the record's is this machine's busybox, imported.
        let lists = cmd.starts_with("docker images") || cmd.starts_with("docker image ls");
        if lists && !cmd.contains("--format") && !l.starts_with("REPOSITORY") {
            let cells: Vec<&str> = l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
            l = match cells.as_slice() {
                [repo, tag, ..] => format!("{repo} {tag} …"),
                _ => "…".into(),
            };
        }
        if lists && cmd.contains("{{.ID}}") {
            l = l
                .replace("SHORTID", "…")
                .split(' ')
                .map(|w| if w.len() == 12 { "…" } else { w })
                .collect::<Vec<_>>()
                .join(" ");
        }
        lines.push(l.trim_end().to_string());
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn version_info_images_and_pull_print_what_the_engine_printed() {
    let rec = record("system/record.txt");
    assert!(rec.len() >= 33, "{} blocks", rec.len());
    let steps: Vec<String> = rec
        .iter()
        .map(|(c, _)| {
            let c = c.trim_end().replace("ADDR", ADDR);
            // The record's containers ran busybox's `sleep`.
            let makes = c.starts_with("docker run ") || c.starts_with("docker create ");
            if makes && c.ends_with(" alpine") { c + " sleep 100000" } else { c }
        })
        .collect();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len(), "every step ran");
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in d.transcript.iter().zip(&rec) {
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let (got, want) = (normal(cmd, &got), normal(cmd, want));
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- engine [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}

/// The figures the record's images cannot show: an official image's `latest` is the build
/// docker-library/repo-info records, other tags and other images are built on the host.
#[test]
fn a_hosts_images_are_the_labs_with_their_published_builds() {
    let steps: Vec<String> = [
        "docker run -d --name ca alpine sleep 100",
        "docker create --name cb nginx:1.27",
        "docker create --name cc hshar/webapp",
        "docker images",
        "docker images --no-trunc --format '{{.Repository}} {{.ID}}'",
        "docker images '*/*'",
        "docker info -f '{{.Images}}'",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    let out: Vec<String> = d
        .transcript
        .iter()
        .map(|l| match &l.output {
            Ok(t) | Err(t) => t.clone(),
        })
        .collect();
    let rows: Vec<&str> = out[3].lines().collect();
    assert_eq!(rows[0], "REPOSITORY     TAG       IMAGE ID       CREATED                  SIZE");
    // Built as the lab began (no layers), then the published builds, newest first: alpine
    // 3.24.2 of 2026-09-17, two months before the run's date.
    assert!(rows[1].starts_with("hshar/webapp   latest    ") && rows[1].ends_with("Less than a second ago   0B"));
    assert!(rows[2].starts_with("nginx          1.27      ") && rows[2].ends_with("Less than a second ago   0B"));
    assert_eq!(rows[3], "alpine         latest    320994c3b997   2 months ago             8.42MB");
    assert_eq!(rows.len(), 4, "{}", out[3]);
    assert!(out[4].contains("alpine sha256:320994c3b997e2ec6433f717f153e108023c5bec8fefa8d76b83451d16d05ea8\n"));
    assert_eq!(out[5].lines().count(), 2, "only hshar/webapp has a `/`: {}", out[5]);
    assert_eq!(out[6], "3\n");
}

/// The v29 era has no recorded engine to print.
#[test]
fn the_v29_era_says_why_it_has_no_version_to_print() {
    let text = "Scenario(name: \"v\", hosts: [(name: \"h\", addr: \"192.168.99.101/24\")], steps: [(on: \"h\", run: \"docker version\", fails: true)])";
    let mut sim = Loaded::from_str("v.ron", text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    let log = &sim.director.as_ref().expect("a lab").transcript[0];
    let Err(m) = &log.output else { panic!("docker version failed") };
    assert!(m.contains("only Docker Engine 20.10.24 was recorded"), "{m}");
}
