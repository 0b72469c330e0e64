//! `docker-compose` (1.29) in a lab against what it did on Docker Engine 20.10 for the same
//! files and commands (`traces/docker/compose/`, recorded by its `record.sh`): the project's
//! networks and their order, container names, addresses, aliases, labels, interfaces, the
//! progress lines, `ps`, `down`, and the errors.

mod common;

use common::record;
use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../traces/docker/compose/files");

/// What differs between two runs, as the record's script writes it: 64- and 12-hex IDs,
/// the config hash, the working directory, interface indexes; the order of a network's
/// aliases (the engine keeps them in a map); and blank lines, which the script leaves out.
fn normal(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let mut l = String::new();
        let mut run = String::new();
        for ch in line.chars().chain(std::iter::once('\u{0}')) {
            if ch.is_ascii_alphanumeric() {
                run.push(ch);
                continue;
            }
            let hex = run.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            l += match run.len() {
                64 if hex => "ID",
                40 if hex => "HASH",
                12 if hex => "SHORTID",
                _ => &run,
            };
            run.clear();
            if ch != '\u{0}' {
                l.push(ch);
            }
        }
        l = l.replace("\"/root/", "\"/DIR/");
        // `62: eth0    inet …` → `N: eth0 …`.
        if let Some((idx, rest)) = l.split_once(": ")
            && !idx.is_empty()
            && idx.chars().all(|c| c.is_ascii_digit())
        {
            l = format!("N: {rest}");
        }
        // A JSON list of strings (aliases), sorted.
        if let (Some(a), Some(b)) = (l.find("[\""), l.rfind("\"]")) {
            let mut items: Vec<&str> = l[a + 1..b + 1].split(',').collect();
            items.sort();
            l = format!("{}[{}]{}", &l[..a], items.join(","), &l[b + 2..]);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// Compose's parallel operations end in whatever order the daemon answers: progress lines
/// (`VERB NAME ... [done]`) are compared as a set, the other lines in order.
fn split(s: &str) -> (Vec<String>, Vec<String>) {
    let (mut progress, mut rest): (Vec<String>, Vec<String>) =
        s.lines().map(String::from).partition(|l| l.contains(" ... ") || l.ends_with(" ..."));
    progress.sort();
    rest.retain(|l| !l.is_empty());
    (progress, rest)
}

fn files() -> String {
    let mut out = String::new();
    for dir in ["shop", "ord", "bad1", "bad2"] {
        let text = std::fs::read_to_string(format!("{DIR}/{dir}/docker-compose.yml")).expect("kept in the repository");
        out += &format!("\"{dir}/docker-compose.yml\": {:?}, ", text);
    }
    out + "\"empty/.keep\": \"\""
}

fn lab(steps: &[String]) -> Sim {
    let steps: String = steps.iter().map(|s| format!("        (on: \"node1\", run: {s:?}),\n")).collect();
    let text = format!(
        "Scenario(\n    name: \"compose\",\n    engine: (version: \"20.10\"),\n    hosts: [(name: \"node1\", addr: \"192.168.99.101/24\", files: {{{}}})],\n    steps: [\n{steps}    ],\n)\n",
        files()
    );
    let mut sim = Loaded::from_str("compose.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

#[test]
fn docker_compose_does_what_compose_1_29_did_on_the_engine() {
    let rec = record("compose/record.txt");
    assert!(rec.len() >= 25, "{} blocks", rec.len());
    // The shell's `cd empty && docker-compose up -d` is two steps of a lab.
    let mut steps = Vec::new();
    let mut compared = Vec::new();
    for (i, (c, _)) in rec.iter().enumerate() {
        match c.split_once(" && ") {
            Some((cd, rest)) => {
                steps.push(cd.to_string());
                steps.push(rest.to_string());
            }
            None => steps.push(c.clone()),
        }
        compared.push((steps.len() - 1, i));
    }
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), steps.len(), "every step ran");
    let mut diffs = Vec::new();
    for (step, i) in compared {
        let (cmd, (want, status)) = &rec[i];
        let log = &d.transcript[step];
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let (got, want) = (split(&normal(&got)), split(&normal(want)));
        if got != want || log.status != *status {
            diffs.push(format!(
                "$ {cmd}\n--- engine [exit {status}]\n{want:#?}\n--- netsim [exit {}]\n{got:#?}",
                log.status
            ));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}

#[test]
fn the_services_reach_each_other_by_name_and_alias_on_the_networks_they_share() {
    let steps: Vec<String> = [
        "cd shop",
        "docker-compose up -d",
        "docker-compose exec web ping -c 1 database",
        "docker-compose exec web ping -c 1 cache",
        "docker-compose exec cache ping -c 1 -W 1 db",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let sim = lab(&steps);
    let lines =
        |ns: &str| -> Vec<String> { sim.app_output().into_iter().filter(|(n, _)| n == ns).map(|(_, t)| t).collect() };
    let (web, cache) = (lines("node1:shop_web_1"), lines("node1:shop_cache_1"));
    // web and db share `back`, where db is also `database`.
    assert!(web.iter().any(|l| l.starts_with("64 bytes from 172.28.0.2")), "{web:?}");
    // cache is alone on the project's default network: the others' names are not in its
    // zone, and its name is not in theirs.
    // alpine's ping is busybox's, which says `bad address`.
    let unknown = |lines: &[String], name: &str| lines.iter().any(|l| *l == format!("ping: bad address '{name}'"));
    assert!(unknown(&web, "cache"), "{web:?}");
    assert!(unknown(&cache, "db"), "{cache:?}");
    assert!(!cache.iter().any(|l| l.starts_with("64 bytes")), "{cache:?}");
}

#[test]
fn cd_moves_a_hosts_later_steps_and_says_what_bash_says_when_it_cannot() {
    let steps: Vec<String> =
        ["cd nosuch", "cd shop/docker-compose.yml", "cd shop", "cat docker-compose.yml", "cd", "docker-compose ps"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    let out = |i: usize| match &d.transcript[i].output {
        Ok(t) | Err(t) => t.clone(),
    };
    assert_eq!((out(0).as_str(), d.transcript[0].status), ("bash: cd: nosuch: No such file or directory", 1));
    assert_eq!(out(1), "bash: cd: shop/docker-compose.yml: Not a directory");
    assert_eq!(d.transcript[2].status, 0);
    // `cat` prints a file of the lab's from the folder `cd` left the shell in.
    let cat: Vec<String> = sim.app_output().into_iter().filter(|(n, _)| n == "node1").map(|(_, t)| t).collect();
    assert!(cat.iter().any(|l| l.contains("subnet: 172.28.0.0/16")), "{cat:?}");
    // Back home, no compose file: Compose's own words.
    assert_eq!(d.transcript[5].status, 1);
    assert!(out(5).contains("Can't find a suitable configuration file in this directory or any"), "{}", out(5));
}

/// As `normal` for a swarm's IDs: 25 base-36 characters, and 12 with a digit and a letter
/// (task, service and network short IDs); how long ago a task started; the column widths
/// and the node's name in `stack ps` (the record's machine is `vm`).
fn swarm_normal(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let mut l = String::new();
        let mut run = String::new();
        for ch in line.replace("192.168.99.101", "ADDR").chars().chain(std::iter::once('\u{0}')) {
            if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
                run.push(ch);
                continue;
            }
            let (letter, digit) =
                (run.chars().any(|c| c.is_ascii_lowercase()), run.chars().any(|c| c.is_ascii_digit()));
            l += match run.len() {
                25 => "SWARMID",
                12 if letter && digit => "SHORTID",
                _ => &run,
            };
            run.clear();
            if ch != '\u{0}' {
                l.push(ch);
            }
        }
        if let Some(i) = l.find("SWMTKN-") {
            let end = l[i..].find(' ').map_or(l.len(), |e| i + e);
            l.replace_range(i..end, "TOKEN");
        }
        if let Some(i) = l.find("Running ")
            && l[i..].contains(" ago")
        {
            let end = l[i..].find(" ago").map_or(l.len(), |e| i + e + 4);
            l.replace_range(i..end, "Running N ago");
            l = l.replace(" vm ", " node1 ");
        }
        if l.contains("Running N ago") || l.contains("CURRENT STATE") {
            l = l.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn docker_stack_does_what_docker_cli_28_did_on_a_20_10_swarm() {
    let rec = record("stack/record.txt");
    assert!(rec.len() >= 15, "{} blocks", rec.len());
    let file = std::fs::read_to_string(format!("{DIR}/../../stack/files/stack/docker-compose.yml")).expect("kept");
    let steps: String = rec
        .iter()
        .map(|(c, _)| format!("        (on: \"node1\", run: {:?}),\n", c.replace("ADDR", "192.168.99.101")))
        .collect();
    let text = format!(
        "Scenario(\n    name: \"stack\",\n    engine: (version: \"20.10\", mtu: 1400),\n    hosts: [(name: \"node1\", addr: \"192.168.99.101/24\", files: {{\"stack/docker-compose.yml\": {file:?}}})],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("stack.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len(), "every step ran");
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in d.transcript.iter().zip(&rec) {
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let want = common::without_registry_warnings(want);
        // docker/cli makes a stack's networks and services, and removes them, in the order
        // of maps and of the daemon's lists: compared as sets.
        let set = |s: &str| {
            let mut v: Vec<String> = swarm_normal(s).lines().map(String::from).collect();
            if cmd.starts_with("docker stack deploy") || cmd.starts_with("docker stack rm") {
                v.sort();
            }
            v
        };
        if set(&got) != set(&want) || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- engine [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}

#[test]
fn a_stacks_services_answer_by_their_short_names_and_aliases_on_their_overlays() {
    let file = std::fs::read_to_string(format!("{DIR}/../../stack/files/stack/docker-compose.yml")).expect("kept");
    let steps = [
        "docker swarm init --advertise-addr 192.168.99.101",
        "docker stack deploy -c stack/docker-compose.yml shop",
        "docker exec shop_web.1 ping -c 1 database",
        "docker exec shop_web.1 ping -c 1 tasks.db",
        "docker exec shop_db.1 ping -c 1 web",
    ];
    let steps: String = steps.iter().map(|c| format!("        (on: \"node1\", run: {c:?}),\n")).collect();
    let text = format!(
        "Scenario(\n    name: \"stack\",\n    engine: (version: \"20.10\"),\n    hosts: [(name: \"node1\", addr: \"192.168.99.101/24\", files: {{\"stack/docker-compose.yml\": {file:?}}})],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("stack.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    let lines: Vec<String> = sim.app_output().into_iter().map(|(_, t)| t).collect();
    let resolved =
        |name: &str| lines.iter().find_map(|l| l.strip_prefix(&format!("resolved {name} → "))).map(String::from);
    // `database` and `db` are the service's VIP on shop_back; `tasks.db` its one task; web
    // and db share shop_back, so db finds web there.
    let (database, tasks) = (resolved("database").expect("database resolves"), resolved("tasks.db").expect("tasks.db"));
    assert_ne!(database, tasks, "the VIP, then the task's own address: {lines:?}");
    assert!(resolved("web").is_some(), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.contains("1 packets received")).count(), 3, "{lines:?}");
}
