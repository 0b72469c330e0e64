//! Swarm commands beyond create, scale and rm — `docker service update`, `service inspect`
//! (JSON, `-f`, `--pretty`), `service ps`, `node ps`, `node inspect -f` — against what Docker Engine 20.10
//! printed for the same commands on a one-node swarm (`traces/docker/swarm-commands/`,
//! recorded by its `record.sh`).

mod common;

use common::record;
use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

/// What differs between any two runs, as the record's script writes it: swarm IDs (25
/// base-36 characters), task IDs (12), times, the machine's address, the store's index, how
/// long ago a task started; and blank lines, which the script leaves out.
fn normal(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let mut l = line.replace("192.168.99.101", "ADDR");
        if let Some(i) = l.find("SWMTKN-") {
            let end = l[i..].find(' ').map_or(l.len(), |e| i + e);
            l.replace_range(i..end, "TOKEN");
        }
        let mut words = String::new();
        let mut run = String::new();
        for ch in l.chars().chain(std::iter::once('\u{0}')) {
            if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
                run.push(ch);
                continue;
            }
            let has_letter = run.chars().any(|c| c.is_ascii_lowercase());
            let has_digit = run.chars().any(|c| c.is_ascii_digit());
            let hex = run.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
            words += match run.len() {
                64 if hex => "ID",
                25 if has_letter || has_digit => "SWARMID",
                12 if has_letter && has_digit => "SHORTID",
                _ => &run,
            };
            run.clear();
            if ch != '\u{0}' {
                words.push(ch);
            }
        }
        l = words;
        // A table row begins with an ID, whatever its characters (the record's script too).
        if l.len() > 12
            && l.as_bytes()[12] == b' '
            && l[..12].bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            l.replace_range(..12, "SHORTID");
        }
        // "2026-11-28T12:00:00.048000000Z" → TIME; "Index": 14 → N; "23 seconds ago" → N.
        for (pat, with) in [(r#""Index": "#, "N"), ("Running ", "")] {
            if let Some(i) = l.rfind(pat) {
                let start = i + pat.len();
                let end = l[start..].find(|c: char| !c.is_ascii_digit()).map_or(l.len(), |e| start + e);
                if end > start {
                    l.replace_range(start..end, if with.is_empty() { "N" } else { with });
                }
            }
        }
        if let Some(i) = l.find("2026-") {
            let end = l[i..].find('Z').map_or(l.len(), |e| i + e + 1);
            l.replace_range(i..end, "TIME");
        }
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// A task table's "STATE <how long> ago" as "STATE N ago": how long ago a task changed
/// state depends on how fast the commands were typed (and the record's waits).
/// `Up 2 seconds`, `Up Less than a second` (docker ps's STATUS) as `Up N`.
fn up_for(s: &str) -> String {
    s.lines()
        .map(|l| {
            let Some(i) = l.find("Up ") else { return format!("{l}\n") };
            let rest = &l[i + 3..];
            let words = ["Less than a second", "About a minute", "About an hour"];
            let len = match words.iter().find(|w| rest.starts_with(*w)) {
                Some(w) => w.len(),
                None => {
                    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                    let unit = ["seconds", "second", "minutes", "minute", "hours", "hour"]
                        .iter()
                        .find(|u| rest[n..].strip_prefix(' ').is_some_and(|r| r.starts_with(*u)));
                    match unit {
                        Some(u) if n > 0 => n + 1 + u.len(),
                        _ => return format!("{l}\n"),
                    }
                }
            };
            format!("{}Up N{}\n", &l[..i], &rest[len..])
        })
        .collect()
}

fn ages(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut l = line.to_string();
        let mut from = 0;
        while let Some(i) = l[from..].find(" ago").map(|i| i + from) {
            // go-units' words before " ago": "less than a second", "about a minute", "N seconds"…
            let head = &l[..i];
            let start = ["less than a second", "about a minute", "about an hour"]
                .iter()
                .find(|w| head.ends_with(*w))
                .map(|w| i - w.len())
                .or_else(|| {
                    let unit = ["seconds", "second", "minutes", "hours"].iter().find(|u| head.ends_with(*u))?;
                    // A number, or `normal`'s N for one.
                    let num = head[..i - unit.len()].trim_end_matches(' ');
                    let digits = num.len() - num.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'N').len();
                    (digits > 0).then_some(num.len() - digits)
                });
            match start {
                Some(st) => {
                    l.replace_range(st..i, "N");
                    from = st + "N ago".len();
                }
                None => from = i + 4,
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn lab(steps: &[String]) -> Sim {
    let steps: String = steps
        .iter()
        .map(|s| format!("        (on: \"node1\", run: \"{}\"),\n", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let text = format!(
        "Scenario(\n    name: \"swarm commands\",\n    engine: (version: \"20.10\", mtu: 1400),\n    hosts: [(name: \"node1\", addr: \"192.168.99.101/24\")],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim = Loaded::from_str("swarm-commands.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

#[test]
fn service_update_inspect_and_node_ps_print_what_the_engine_printed() {
    prints_as_recorded("swarm-commands/record.txt", 25);
}

/// `--mode global`: one task per node, slot 0, named by its node's ID; `scale` and
/// `--replicas` refused in docker/cli's words; the mode in `inspect` and `service ls`.
#[test]
fn a_global_service_runs_as_on_the_engine() {
    prints_as_recorded("swarm-global/record.txt", 12);
}

/// Jobs (`--mode replicated-job|global-job`, `--max-concurrent`), tasks that run a command
/// and end (a failed job's task and a replicated service's task start again after the
/// restart delay, waiting Ready), `service ls`'s counts of completions, and `docker service
/// logs` with its options.
#[test]
fn jobs_restarts_and_service_logs_as_on_the_engine() {
    prints_as_recorded("swarm-jobs/record.txt", 35);
}

/// Restart policies: `none` leaves a completed task alone, `on-failure` a completed one too,
/// `--restart-max-attempts 1` restarts a failing task once (after `--restart-delay 1s`); the
/// daemon's word for an unknown condition and Go's for a duration without a known unit.
#[test]
fn a_service_restarts_as_its_policy_says_on_the_engine() {
    prints_as_recorded("swarm-restart/record.txt", 16);
}

/// A job run again: `scale` sets a replicated job's completions and `update` (even one that
/// changes nothing, `--force` or `--max-concurrent`) starts a new iteration, whose tasks alone
/// count in `service ls`; the old iteration's running tasks are desired Remove until their
/// stop grace period is over; `--replicas` is refused on a job.
#[test]
fn a_job_runs_again_when_scaled_or_updated_as_on_the_engine() {
    prints_as_recorded("swarm-job-update/record.txt", 34);
}

/// Programs that end by themselves: a service of plain alpine runs `/bin/sh`, which without
/// `-t` exits 0 at once, so its task is Complete and replaced after the restart delay again
/// and again (with `-t` it stays up); `sleep 2` ends after two seconds; a container's do too.
#[test]
fn tasks_whose_program_ends_by_itself_restart_as_on_the_engine() {
    prints_as_recorded("task-ends/record.txt", 17);
}

/// `swarm init --default-addr-pool … --default-addr-pool-mask-length N`: ingress and every
/// overlay take their subnets from the pools, N bits long; a size smaller than a pool is
/// refused in the daemon's words; `docker info` shows the pools and the size.
#[test]
fn swarm_init_takes_its_address_pools_as_on_the_engine() {
    prints_as_recorded("swarm-addr-pool/record.txt", 13);
}

/// `docker service ps`, `docker service ls` and `docker node ls` with `-q`, `--no-trunc`,
/// `--filter` and `--format`: the task IDs whole under `-q`, a replaced task's name indented
/// only in a table, the daemon's filters and its words for one it does not take, the
/// template's error naming docker/cli's context type; `node ls` with the engine's version.
#[test]
fn swarm_lists_take_their_options_as_on_the_engine() {
    prints_as_recorded("swarm-list-options/record.txt", 27);
}

/// `docker service rollback`: the spec before the last update comes back, and a second
/// rollback undoes the first; a service never updated has nothing to roll back to.
#[test]
fn a_service_rolls_back_as_on_the_engine() {
    prints_as_recorded("swarm-rollback/record.txt", 12);
}

/// A rolling update: `docker service update --force` replaces each slot's task in turn
/// (`--update-parallelism 2`: two at once; `--update-delay`: a pause after each), stop-first
/// (the old task runs desired Shutdown through its stop grace period while the new one waits
/// Ready, then Starting) or start-first (the new one runs, then the old one stops); the
/// update's status from `updating` to `completed`; `--update-*` and `--stop-grace-period` in
/// the spec and in `--pretty`; the daemon's words for a bad order, failure action or ratio;
/// an attached update returns when it is complete.
#[test]
fn a_rolling_update_replaces_tasks_as_on_the_engine() {
    prints_as_recorded("swarm-update-force/record.txt", 40);
}

/// `docker service update --image`: each slot's task replaced by one of the new image (the
/// old ones keep theirs in `service ps`), `docker service rollback` replacing them again with
/// the old image, start-first; the daemon's words for an image reference it refuses.
#[test]
fn an_image_update_rolls_out_and_back_as_on_the_engine() {
    prints_as_recorded("swarm-update-image/record.txt", 25);
}

/// What an update replaces: `--constraint-add` leaves a task whose node meets the new
/// constraints and replaces one whose node does not (the new one waits `Pending`), and
/// `--constraint-rm` lets it run again; `--env-add` and `--env-rm` replace every task; the
/// daemon's words for a constraint without an operator.
#[test]
fn an_update_replaces_the_tasks_its_spec_change_touches_as_on_the_engine() {
    prints_as_recorded("swarm-update-spec/record.txt", 30);
}

/// Standalone containers on an attachable overlay: `docker run --network OV` and `network
/// connect OV C` give the container an endpoint there, listed under the overlay's name in
/// `inspect` (with no gateway: its way out is docker_gwbridge); `network disconnect` takes it
/// away again; a second `connect` or `disconnect` is refused in the daemon's words; the
/// network stays in use while a container that was attached exists; `--gateway` keeps its
/// address for the gateway, and the containers are numbered from the bottom of the subnet.
#[test]
fn standalone_containers_join_and_leave_an_attachable_overlay_as_on_the_engine() {
    prints_as_recorded("swarm-attachable/record.txt", 25);
}

/// `docker network ls` with filters (a key's values are alternatives, keys must all hold; a
/// swarm network the node has not instantiated is found by its whole name only), `--format`
/// with `table`, `--no-trunc` and `-q`, and the daemon's and the CLI's errors.
#[test]
fn network_ls_filters_and_formats_as_on_the_engine() {
    prints_as_recorded("network-ls/record.txt", 25);
}

/// `--network-add`, `--network-rm`, `--publish-add` and `--publish-rm`: VIPs follow the
/// service's networks (ingress with its first published port), every task is replaced,
/// `--publish-rm` matches a port by its target, and the client's and the daemon's words for
/// a network already attached, one not found and a port in use.
#[test]
fn an_update_of_networks_and_ports_moves_the_vips_as_on_the_engine() {
    prints_as_recorded("swarm-update-endpoint/record.txt", 35);
}

/// `docker run` on an attachable overlay as on any network: no `--name` needed, a program in
/// the foreground with `--rm` or detached with its log; a container that stops gives its
/// address back and takes a new one when it starts again (the node's load-balancer endpoint
/// too, after it); ingress takes no standalone container, which stays `Created`.
#[test]
fn containers_run_on_an_attachable_overlay_as_on_the_engine() {
    prints_as_recorded("swarm-attachable-run/record.txt", 25);
}

/// Containers that are not running and an attachable overlay: `network connect` of a
/// created or stopped container only notes the network (inspect lists it with no address, a
/// second connect is no error) and the container joins it when it starts, after its other
/// networks; `network disconnect` of a stopped one forgets it.
#[test]
fn a_stopped_container_joins_an_overlay_when_it_starts_as_on_the_engine() {
    prints_as_recorded("swarm-attachable-stopped/record.txt", 30);
}

/// `docker run -p` on an attachable overlay: the port is published on the container's
/// docker_gwbridge endpoint (DNAT, ACCEPT and hairpin MASQUERADE name docker_gwbridge), a
/// port taken makes the gateway endpoint's join fail and leaves the container `Created`,
/// and a stopped container's rules go and come back with it.
#[test]
fn a_port_of_a_container_on_an_overlay_is_published_on_docker_gwbridge_as_on_the_engine() {
    prints_as_recorded("swarm-attachable-publish/record.txt", 25);
}

/// A network the daemon does not know: `docker run --network` makes the container and its
/// start fails, a running container's `network connect` fails, a stopped one's notes the
/// name for a start that fails; in 20.10's words, which depend on whether a refused `docker
/// swarm join` left the daemon a cluster provider without a node.
#[test]
fn an_unknown_network_is_worded_by_the_daemons_past_as_on_the_engine() {
    prints_as_recorded("unknown-network/record.txt", 15);
}

/// A task table with its slots in any order: the engine's updater takes the slots in a Go
/// map's order (swarmkit `replicated.Orchestrator.reconcile`), which changes from run to run.
/// Each slot's rows (its task and the `\_` history under it) stay together, the slot's
/// number is left out, and the slots are sorted.
fn slots_any_order(s: &str) -> String {
    let mut lines = s.lines();
    let mut out = lines.next().map(|h| format!("{h}\n")).unwrap_or_default();
    let mut slots: Vec<String> = Vec::new();
    for l in lines {
        let words: Vec<String> = l
            .split(' ')
            .map(|w| match w.rsplit_once('.') {
                Some((name, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => format!("{name}.N"),
                _ => w.to_string(),
            })
            .collect();
        let row = words.join(" ") + "\n";
        match (l.contains("\\_"), slots.last_mut()) {
            (true, Some(slot)) => slot.push_str(&row),
            _ => slots.push(row),
        }
    }
    slots.sort();
    out.extend(slots);
    out
}

/// busybox ping's lines with the round trips' times as `T`: they are the machine's.
fn ping_times(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = match l.find("time=") {
                Some(i) => format!("{}time=T ms", &l[..i]),
                None => l.to_string(),
            };
            match l.find("min/avg/max = ") {
                Some(i) => format!("{}min/avg/max = T ms\n", &l[..i]),
                None => l + "\n",
            }
        })
        .collect()
}

/// What the simulator says beside a program's lines: a connection's progress, the response
/// curl got, the server's and the proxy's notes, a message `-s` kept quiet, and the shell's
/// and the swarm's own lines (indented).
fn host_note(l: &str) -> bool {
    l.starts_with("  ") || common::client_note(l)
}

/// What the programs of containers printed after each of `steps` (on node1), up to the next
/// step: a foreground `docker run`'s output, which the shell shows; and what a program on
/// node1 itself printed.
fn program_lines(sim: &Sim, steps: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "node1" && out.len() < steps.len() && l == steps[out.len()] {
            out.push(String::new());
        } else if (ns == "node1" || ns.starts_with("node1:"))
            && !host_note(&l)
            && !common::is_note(&l)
            && !l.is_empty()
            && let Some(o) = out.last_mut()
        {
            o.push_str(&l);
            o.push('\n');
        }
    }
    out
}

/// Every step of a one-node swarm record run in the simulator, compared with what the engine
/// printed and its exit status.
fn prints_as_recorded(name: &str, at_least: usize) {
    let rec = record(name);
    assert!(rec.len() >= at_least, "{} blocks", rec.len());
    // The record's tasks ran busybox's `sleep`; the lab's run alpine with the same command,
    // unless the record's image ran its own (`/bin/sh`, as alpine's does).
    let path = format!("{}/../traces/docker/{name}", env!("CARGO_MANIFEST_DIR"));
    let own_command =
        std::fs::read_to_string(&path).is_ok_and(|t| t.lines().take(3).any(|l| l.contains("runs its own command")));
    let steps: Vec<String> = rec
        .iter()
        .map(|(c, _)| {
            let c = c.replace("ADDR", "192.168.99.101").replace("HOST", "node1");
            // `docker run … alpine` too: the record's script gives it the same command.
            let makes = c.starts_with("docker run ") || c.starts_with("docker create ");
            let runs_alpine = c.ends_with(" -d alpine") || (makes && c.ends_with(" alpine"));
            match runs_alpine && !own_command {
                true => c + " sleep 100000",
                false => c,
            }
        })
        .collect();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.transcript.len(), rec.len());
    let programs = program_lines(&sim, &steps);
    // docker_gwbridge's subnet where the record shows it (its MASQUERADE rule), as `172.N.`.
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let gwbridge_net = text.lines().find_map(|l| {
        let net = l.strip_prefix("-A POSTROUTING -s ")?.strip_suffix(".0.0/16 ! -o docker_gwbridge -j MASQUERADE")?;
        Some(format!("{net}."))
    });
    let mut diffs = Vec::new();
    for (k, (log, (cmd, (want, status)))) in d.transcript.iter().zip(&rec).enumerate() {
        let mut got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        let foreground = cmd.starts_with("docker run ") && !cmd.contains(" -d ") && !cmd.contains(" -dit ");
        let on_host = !cmd.starts_with("docker ") && !cmd.starts_with("sleep ");
        if (foreground || on_host) && got.is_empty() {
            // The container's program, or the host's, printed into the shell.
            got = programs.get(k).cloned().unwrap_or_default();
        }
        // Where the engine's image stood in for alpine, and what only a registry-less
        // machine prints about it.
        let want = want
            .replace("bbtest:latest", "alpine:latest")
            .replace("HOSTNAME", "\u{0}")
            .replace("HOST", "node1")
            .replace('\u{0}', "HOSTNAME");
        let want = common::stand_in_page(&common::without_registry_warnings(&want));
        let (mut got, mut want) = (normal(&got), normal(&want));
        let follows = cmd.starts_with("docker service update") || cmd.starts_with("docker service rollback");
        if follows && !cmd.contains(" -d ") {
            // The client's progress, one line per poll: its first and its last lines.
            let ends = |s: &str| {
                let v: Vec<&str> = s.lines().collect();
                format!("{}\n{}\n", v.first().unwrap_or(&""), v.last().unwrap_or(&""))
            };
            (got, want) = (ends(&got), ends(&want));
        }
        if cmd.starts_with("docker node ps") || cmd.starts_with("docker service ps") {
            // The record's machine is called `vm`; how long ago a task started depends on how
            // fast the commands were typed, and the column's width with it.
            let squeeze = |s: &str| {
                s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n").collect::<String>()
            };
            want = ages(&squeeze(&want.replace(" vm ", " node1 ")));
            got = ages(&squeeze(&got));
            if name.starts_with("swarm-update-") {
                (want, got) = (slots_any_order(&want), slots_any_order(&got));
            }
        }
        if cmd.starts_with("docker ps") {
            // How long ago a container started or stopped depends on how fast the commands
            // were typed.
            (want, got) = (up_for(&ages(&want)), up_for(&ages(&got)));
        }
        if cmd.starts_with("docker service inspect --pretty") {
            // How long ago the update started and completed depends on how fast the commands
            // were typed.
            let lower = |s: &str| ages(&s.replace("Less than a second", "less than a second"));
            (want, got) = (lower(&want), lower(&got));
        }
        if cmd.starts_with("docker service logs") {
            // The record's machine is `vm`.
            (want, got) = (ping_times(&want.replace("@vm ", "@node1 ")), ping_times(&got));
            // The daemon merges the tasks' log streams as their lines reach it, so which task's
            // lines come first differs from run to run (two records of the same commands);
            // each task's own lines keep their order.
            let by_task = |s: &str| {
                let mut lines: Vec<&str> = s.lines().collect();
                if !lines.iter().all(|l| l.contains('|')) {
                    return s.to_string();
                }
                lines.sort_by_key(|l| l.split('|').next().unwrap_or_default().to_string());
                lines.iter().map(|l| format!("{l}\n")).collect::<String>()
            };
            (want, got) = (by_task(&want), by_task(&got));
        }
        if cmd.starts_with("docker node ls") {
            // The record's machine is called `vm`, the lab's node `node1`: the column's width.
            let squeeze = |s: &str| {
                s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n").collect::<String>()
            };
            want = squeeze(&want.replace(" vm ", " node1 "));
            got = squeeze(&got);
        }
        if cmd.starts_with("docker service ls") {
            // The record's image has a shorter name than the lab's: its column is narrower.
            let squeeze = |s: &str| {
                s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n").collect::<String>()
            };
            (want, got) = (squeeze(&want), squeeze(&got));
        }
        if cmd.starts_with("docker network inspect -f '{{range .Containers}}") {
            // Go ranges over the map by container ID, which is random: the (name, address)
            // pairs in any order.
            let pairs = |s: &str| {
                let w: Vec<&str> = s.split_whitespace().collect();
                let mut p: Vec<String> = w.chunks(2).map(|c| c.join(" ")).collect();
                p.sort();
                p.join(" ") + "\n"
            };
            (want, got) = (pairs(&want), pairs(&got));
        }
        if cmd.ends_with(" ip link") {
            // The record's `ip` is busybox's, which words a link's flags and numbers its
            // interfaces unlike the simulator's iproute2: the interfaces' names, in order.
            let names = |s: &str| {
                s.lines()
                    .filter_map(|l| {
                        let (index, rest) = l.split_once(": ")?;
                        index.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
                        let name = rest.split([':', '@']).next()?;
                        Some(format!("{name}\n"))
                    })
                    .collect::<String>()
            };
            (want, got) = (names(&want), names(&got));
        }
        if want.ends_with("\nexit status 1\n") && cmd.starts_with("docker network rm") {
            // docker/cli 28 ends a failed `network rm` with the status it exits with (its
            // `StatusError`); the 20.10 client, which the lab's era stands for, prints nothing more.
            want.truncate(want.len() - "exit status 1\n".len());
        }
        if cmd.contains(" ping ") || cmd.starts_with("docker logs ") {
            (want, got) = (ping_times(&want), ping_times(&got));
        }
        // This machine's own iptables-legacy tables, which are not Docker's.
        want = want.replace("# Warning: iptables-legacy tables present, use iptables-legacy to see them\n", "");
        if let Some(engine_net) = &gwbridge_net {
            // 20.10 walks its address pools round-robin from where the daemon last stopped
            // (traces/docker/README.md, *Subnets*): the record's docker_gwbridge is the
            // fresh daemon's 172.18.0.0/16.
            want = want.replace(engine_net.as_str(), "172.18.");
        }
        // docker/cli 28's hint after a failed `docker run` (the errors test leaves it out too).
        want = want.replace("\nRun 'docker run --help' for more information\n", "\n");
        if want.contains("\nUsage:  docker ") {
            // docker/cli 28 adds its usage lines after the flag's error.
            want = want.lines().next().map(|l| format!("{l}\n")).unwrap_or_default();
            got = got.lines().next().map(|l| format!("{l}\n")).unwrap_or_default();
        }
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- engine [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}

#[test]
fn the_last_manager_leaving_with_force_takes_the_swarm_away_and_keeps_docker_gwbridge() {
    let steps: Vec<String> = [
        "docker swarm init --advertise-addr 192.168.99.101",
        "docker network create -d overlay ov",
        "docker service create --name web --network ov -p 8080:80 -d nginx",
        "docker swarm leave --force",
        "docker network ls",
        "docker run -dit --name after alpine",
    ]
    .map(String::from)
    .to_vec();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    let out: Vec<(&str, u8)> = d
        .transcript
        .iter()
        .map(|l| {
            (
                match &l.output {
                    Ok(t) | Err(t) => t.as_str(),
                },
                l.status,
            )
        })
        .collect();
    assert_eq!(out[3], ("Node left the swarm.", 0));
    assert!(d.swarm.is_none());
    // The engine keeps docker_gwbridge (seen when the record was made: record.sh removes it).
    assert!(
        out[4].0.contains("docker_gwbridge") && !out[4].0.contains(" ov ") && !out[4].0.contains("ingress"),
        "{}",
        out[4].0
    );
    assert_eq!(out[5].1, 0, "a container runs after the swarm is gone: {}", out[5].0);
    // Nothing of the swarm is left in the kernel: no task, no ingress_sbox, no lb or overlay
    // namespace; the host's own rules no longer publish 8080.
    let w = &sim.world;
    let plan = d.plan();
    let names: Vec<&str> = plan.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert!(names.iter().all(|n| w.ns_by_name(n).is_some()), "the kernel has what the plan has");
    assert!(w.ns_by_name("node1:ingress_sbox").is_none(), "ingress_sbox is gone from the kernel too");
    assert!(
        names
            .iter()
            .all(|n| !n.contains("web.") && !n.contains("ingress_sbox") && !n.contains("lb-") && !n.contains(":1-")),
        "{names:?}"
    );
    let rules =
        sim_core::kernel::show::show(w, w.ns_by_name("node1").expect("node1"), sim_core::kernel::show::What::Iptables);
    assert!(!rules.contains("8080"), "{rules}");
}

/// A global service on three nodes: a task on each node up at creation, one more on a node
/// that joins later (swarmkit's global orchestrator), none moved when a node's daemon stops.
#[test]
fn a_global_service_follows_the_nodes() {
    let sim = three_nodes(
        "global",
        r#"
        (on: "node1", run: "docker swarm init --advertise-addr 192.168.99.101"),
        (on: "node2", run: "docker swarm join --token WORKER_TOKEN 192.168.99.101:2377"),
        (on: "node1", run: "docker network create -d overlay ov"),
        (on: "node1", run: "docker service create --name mon --mode global --network ov -d alpine sleep 100000"),
        (on: "node1", run: "docker service ls"),
        (on: "node3", run: "docker swarm join --token WORKER_TOKEN 192.168.99.101:2377"),
        (on: "node1", run: "docker service ls"),
        (on: "node1", run: "docker node ps node3"),
        (on: "node3", run: "systemctl stop docker"),
        (on: "node1", run: "docker service ls"),
"#,
    );
    let d = sim.director.as_ref().expect("a Docker lab");
    let out = |i: usize| match &d.transcript[i].output {
        Ok(t) | Err(t) => t.clone(),
    };
    let replicas = |i: usize| out(i).lines().nth(1).and_then(|l| l.split_whitespace().nth(3)).map(str::to_string);
    assert!(out(4).contains(" global "), "{}", out(4));
    assert_eq!(replicas(4).as_deref(), Some("2/2"), "one task on each of the two nodes: {}", out(4));
    assert_eq!(replicas(6).as_deref(), Some("3/3"), "node3 got its own task when it joined: {}", out(6));
    let node3 = out(7);
    assert_eq!(node3.lines().count(), 2, "one task on node3: {node3}");
    let node3_id = &d.swarm.as_ref().expect("a swarm").node("node3").expect("node3").id;
    assert!(node3.contains(&format!("mon.{node3_id} ")), "named by its node: {node3}");
    assert_eq!(replicas(9).as_deref(), Some("2/2"), "nothing replaces node3's task elsewhere: {}", out(9));
    let swarm = d.swarm.as_ref().expect("a swarm");
    let on = |host: &str| swarm.services[0].running().filter(|t| t.node == host).count();
    assert_eq!((on("node1"), on("node2"), on("node3")), (1, 1, 0));
}

/// `docker node update --availability` on a one-node swarm, as the engine ran it: paused,
/// the node keeps its tasks but takes no new one (pending); drained, its tasks stop and wait,
/// pending, with swarmkit's reason; active again, they run there.
#[test]
fn draining_and_pausing_a_node_as_on_the_engine() {
    prints_as_recorded("swarm-drain/record.txt", 15);
}

/// Node labels and roles, and placement constraints, on a one-node swarm as the engine ran
/// them: a task whose constraints no node meets waits, Pending, with swarmkit's reason; a
/// label added later places it, and a running task whose node no longer meets its
/// service's constraints is rejected and waits again; the last manager cannot be demoted;
/// a constraint without an operator is refused.
#[test]
fn labels_roles_and_placement_constraints_as_on_the_engine() {
    prints_as_recorded("swarm-constraints/record.txt", 20);
}

/// Two nodes: draining one moves its replicated task to the other and stops its global
/// task; making it active again brings the global task back but moves nothing back (swarm
/// does not rebalance); a paused node takes no new task.
#[test]
fn a_drained_nodes_tasks_move_to_the_others() {
    let text = r#"Scenario(
    name: "drain",
    hosts: [
        (name: "node1", addr: "192.168.99.101/24"),
        (name: "node2", addr: "192.168.99.102/24"),
    ],
    steps: [
        (on: "node1", run: "docker swarm init --advertise-addr 192.168.99.101"),
        (on: "node2", run: "docker swarm join --token WORKER_TOKEN 192.168.99.101:2377"),
        (on: "node1", run: "docker service create --name web --replicas 2 -d alpine sleep 100000"),
        (on: "node1", run: "docker service create --name mon --mode global -d alpine sleep 100000"),
        (on: "node1", run: "docker node update --availability drain node2"),
        (on: "node1", run: "docker node ls"),
        (on: "node1", run: "docker node update --availability active node2"),
        (on: "node1", run: "docker node update --availability pause node1"),
        (on: "node1", run: "docker service scale web=3"),
    ],
)"#;
    let mut sim = Loaded::from_str("drain.ron", text).expect("loads").build(None).expect("builds");
    let d = sim.director.as_ref().expect("a Docker lab");
    assert_eq!(d.check_all().failures.len(), 0);
    sim.run_until(Until::Idle);
    let d = sim.director.as_ref().expect("a Docker lab");
    let out = |i: usize| match &d.transcript[i].output {
        Ok(t) | Err(t) => t.clone(),
    };
    assert_eq!((out(4).as_str(), d.transcript[4].status), ("node2", 0), "docker/cli prints the node as named");
    let node2_row = out(5).lines().find(|l| l.contains(" node2 ")).unwrap_or_default().to_string();
    assert!(node2_row.contains(" Drain "), "{}", out(5));
    let swarm = d.swarm.as_ref().expect("a swarm");
    let on =
        |svc: &str, host: &str| swarm.service(svc).expect("the service").running().filter(|t| t.node == host).count();
    // After the drain web ran twice on node1; node2 active again took mon back, not web; with
    // node1 paused, web's third task went to node2.
    assert_eq!((on("web", "node1"), on("web", "node2")), (2, 1));
    assert_eq!((on("mon", "node1"), on("mon", "node2")), (1, 1));
    // And the kernel holds what the daemons ran: one sandbox per running task.
    for t in swarm.services.iter().flat_map(|s| s.running().map(move |t| (s, t))) {
        let si = swarm.services.iter().position(|s| s.name == t.0.name).expect("the service");
        let name = format!("{}:{}", t.1.node, swarm.task_name(si, t.1));
        assert!(sim.world.ns_by_name(&name).is_some(), "{name} has a namespace");
    }
}

/// A task whose program ended leaves nothing in the world: its sandbox's namespace goes when
/// the task completes, and a replacement's comes when it starts.
#[test]
fn an_ended_task_takes_its_sandbox_with_it() {
    let steps: Vec<String> = [
        "docker swarm init --advertise-addr 192.168.99.101",
        "docker network create -d overlay jobnet",
        "docker service create --name once --mode replicated-job --network jobnet -d alpine ping -c 1 127.0.0.1",
        "sleep 3",
        "docker service ls",
    ]
    .map(String::from)
    .to_vec();
    let sim = lab(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    let ls = d.transcript.last().map(|l| l.output.clone());
    assert!(matches!(&ls, Some(Ok(t)) if t.contains("0/1 (1/1 completed)")), "{ls:?}");
    let tasks: Vec<&str> = sim
        .world
        .ns
        .iter()
        .filter(|n| !n.dead)
        .map(|n| n.name.as_str())
        .filter(|n| n.starts_with("node1:once."))
        .collect();
    assert!(tasks.is_empty(), "the completed task's sandbox is still there: {tasks:?}");
}

/// Which daemons know an overlay: a manager asks the cluster for every network; a worker's
/// request is refused there (swarmkit answers only an active manager) and it knows the
/// overlays it has instantiated, with a task or a container on them; a daemon outside the
/// swarm knows none (moby 20.10 `api/server/router/network/network_routes.go`,
/// `getNetworksList` and `getNetwork`, and `daemon/cluster/networks.go`). Docker's overlay
/// tutorial says so of its workers: nginx-net is listed there once a task runs on them.
#[test]
fn a_worker_knows_the_overlays_it_runs_and_a_stranger_none() {
    let text = r#"Scenario(
    name: "who-knows",
    engine: (version: "20.10"),
    hosts: [
        (name: "manager", addr: "192.168.99.100/24"),
        (name: "worker-1", addr: "192.168.99.101/24"),
        (name: "outsider", addr: "192.168.99.102/24"),
    ],
    steps: [
        (on: "manager", run: "docker swarm init --advertise-addr=192.168.99.100"),
        (on: "worker-1", run: "docker swarm join --token WORKER_TOKEN 192.168.99.100:2377"),
        (on: "manager", run: "docker network create -d overlay nginx-net"),
        (on: "worker-1", run: "docker network ls --format '{{.Name}}'"),
        (on: "worker-1", run: "docker network inspect -f '{{.Name}}' nginx-net"),
        (on: "outsider", run: "docker network inspect -f '{{.Name}}' nginx-net"),
        (on: "manager", run: "docker network inspect -f '{{.Name}}' nginx-net"),
        (on: "manager", run: "docker service create --name web --replicas 2 --network nginx-net nginx"),
        (on: "worker-1", run: "docker network ls --format '{{.Name}}'"),
        (on: "worker-1", run: "docker network inspect -f '{{.Name}}' nginx-net"),
    ],
)"#;
    let mut sim =
        sim_core::scenario::Loaded::from_str("who-knows.ron", text).expect("loads").build(None).expect("builds");
    sim.run_until(sim_core::Until::Idle);
    let t = &sim.director.as_ref().expect("hosts").transcript;
    let out = |i: usize| match &t[i].output {
        Ok(s) | Err(s) => s.trim().to_string(),
    };
    assert_eq!(out(3), "bridge\ndocker_gwbridge\nhost\ningress\nnone", "no task on the worker yet");
    // With a format, nothing found prints nothing before the error.
    assert_eq!((out(4).as_str(), t[4].status), ("Error response from daemon: network nginx-net not found", 1));
    assert_eq!((out(5).as_str(), t[5].status), ("Error response from daemon: network nginx-net not found", 1));
    assert_eq!((out(6).as_str(), t[6].status), ("nginx-net", 0), "the manager knows every network");
    assert_eq!(out(8), "bridge\ndocker_gwbridge\nhost\ningress\nnginx-net\nnone", "a task runs on the worker now");
    assert_eq!((out(9).as_str(), t[9].status), ("nginx-net", 0));
}

/// Raft needs more than half of the managers for a leader, and only a leader schedules
/// (swarmkit `manager/manager.go`, `becomeLeader`). Three managers lose one: the leader
/// replaces the lost node's task. Two managers lose one: the task that ran there is gone and
/// nothing replaces it, the other node's task runs on, and the manager left answers every
/// swarm command with moby's `errNoQuorum`.
#[test]
fn a_swarm_without_a_leader_schedules_nothing() {
    let lab = |managers: usize| {
        let join = |n: usize| {
            let token = if n <= managers { "MANAGER_TOKEN" } else { "WORKER_TOKEN" };
            format!("(on: \"node{n}\", run: \"docker swarm join --token {token} 192.168.99.101:2377\"),")
        };
        format!(
            r#"
        (on: "node1", run: "docker swarm init --advertise-addr 192.168.99.101"),
        {}
        {}
        (on: "node1", run: "docker service create --name web --replicas 3 -d alpine sleep 100000"),
        (on: "node1", run: "systemctl stop docker"),
        (on: "node2", run: "docker node ls"),
        (on: "node2", run: "docker service ps web"),
        (on: "node2", run: "docker ps --format {{{{.Names}}}}"),
"#,
            join(2),
            join(3)
        )
    };
    let run = |managers: usize| {
        let sim = three_nodes("quorum", &lab(managers));
        let d = sim.director.as_ref().expect("a Docker lab");
        let out: Vec<(bool, String)> = d
            .transcript
            .iter()
            .map(|l| match &l.output {
                Ok(t) => (true, t.clone()),
                Err(t) => (false, t.clone()),
            })
            .collect();
        let swarm = d.swarm.as_ref().expect("a swarm");
        let on = |host: &str| swarm.services[0].running().filter(|t| t.node == host).count();
        (out, (on("node1"), on("node2"), on("node3")))
    };
    // Three managers, one lost: two are a quorum, and node1's task starts again elsewhere.
    let (out, placed) = run(3);
    assert!(out[5].0 && out[6].0, "{out:?}");
    assert_eq!(placed.0, 0);
    assert_eq!(placed.1 + placed.2, 3, "the lost task is replaced: {placed:?}");
    assert!(out[5].1.contains("Leader"), "{}", out[5].1);
    // Two managers (node3 a worker), one lost: no leader.
    let (out, placed) = run(2);
    let no_leader = "Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";
    assert_eq!(out[5], (false, no_leader.to_string()));
    assert_eq!(out[6], (false, no_leader.to_string()));
    assert_eq!(placed, (0, 1, 1), "node1's task is not replaced; the others run on");
    assert_eq!(out[7].1.lines().filter(|l| l.starts_with("web.")).count(), 1, "{}", out[7].1);
}

/// A lab of three Docker hosts, node1 to node3 on 192.168.99.101–103, whose `steps` (RON
/// step entries) have run to the end.
fn three_nodes(name: &str, steps: &str) -> Sim {
    let text = format!(
        r#"Scenario(
    name: "{name}",
    hosts: [
        (name: "node1", addr: "192.168.99.101/24"),
        (name: "node2", addr: "192.168.99.102/24"),
        (name: "node3", addr: "192.168.99.103/24"),
    ],
    steps: [{steps}    ],
)"#
    );
    let mut sim = Loaded::from_str(&format!("{name}.ron"), &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}
