//! Helpers shared by sim-core's tests: reading the transcripts kept under `traces/docker/`.

/// (command, (output, exit status)) for each block of a record kept by hand under
/// `traces/docker/`: `$ command`, what it printed, `[exit N]`; `#` lines are comments.
#[allow(dead_code)]
pub fn record(name: &str) -> Vec<(String, (String, u8))> {
    transcript(&format!("docker/{name}"))
}

/// [`record`] of a transcript anywhere under `traces/` (lines before the first command, the
/// programs' versions, are left out).
pub fn transcript(name: &str) -> Vec<(String, (String, u8))> {
    let path = format!("{}/../traces/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the record is kept in the repository");
    let mut out = Vec::new();
    let mut cmd: Option<String> = None;
    let mut body = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(c) = line.strip_prefix("$ ") {
            cmd = Some(c.to_string());
            body.clear();
        } else if let Some(code) = line.strip_prefix("[exit ").and_then(|l| l.strip_suffix(']')) {
            let c = cmd.take().expect("an exit status follows a command");
            out.push((c, (std::mem::take(&mut body), code.parse().expect("a number"))));
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// `output` without what only a machine without a registry prints about an image when a
/// service is made or changed ("image alpine:latest could not be accessed on a registry…").
/// (Each test file builds this module anew; not all of them use this.)
#[allow(dead_code)]
pub fn without_registry_warnings(output: &str) -> String {
    output
        .lines()
        .filter(|l| {
            !((l.starts_with("image ") && l.contains(" could not be accessed on a registry"))
                || l.starts_with("its digest.")
                || l.starts_with("possibly leading")
                || l.starts_with("versions of the image"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A lab of one Docker host, `host1`, whose daemon is the recorded engine's (20.10, `"mtu":
/// 1400`), running `steps` there one after another, run to its end.
#[allow(dead_code)]
pub fn run_on_host1(steps: &[String]) -> sim_core::Sim {
    run_on_hosts("", steps)
}

/// [`run_on_host1`] with more hosts on host1's LAN (`extra`: RON host entries, each ending
/// in a comma).
pub fn run_on_hosts(extra: &str, steps: &[String]) -> sim_core::Sim {
    run_on_hosts_as(&format!("(name: \"host1\", addr: \"192.168.99.101/24\"), {extra}"), steps)
}

/// The `steps` on `host1` of a lab whose hosts are `hosts` (RON host entries).
#[allow(dead_code)]
pub fn run_on_hosts_as(hosts: &str, steps: &[String]) -> sim_core::Sim {
    let steps: String = steps
        .iter()
        .map(|s| format!("        (on: \"host1\", run: \"{}\"),\n", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let text = format!(
        "Scenario(\n    name: \"record\",\n    engine: (version: \"20.10\", mtu: 1400),\n    hosts: [{hosts}],\n    steps: [\n{steps}    ],\n)\n"
    );
    let mut sim =
        sim_core::scenario::Loaded::from_str("record.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(sim_core::Until::Idle);
    sim
}

/// Whether a line of `Sim::app_output` is the simulator's note rather than a program's
/// output (what the embedded DNS did, where a name was resolved, which nameserver is
/// outside the lab, an ICMP error a UDP socket was not told of).
#[allow(dead_code)]
pub fn is_note(l: &str) -> bool {
    l.starts_with("embedded DNS: ")
        || l.starts_with("resolved ")
        || l.starts_with("/etc/hosts: ")
        || l.starts_with("no embedded DNS here")
        || (l.starts_with("udp :") && l.contains(": ICMP from "))
}

/// Runs the record `rec` on `host1` ([`run_record`]) and checks each command printed what
/// the engine printed and exited as it did, both sides read through `normalise`.
#[allow(dead_code)]
pub fn assert_record_runs_as_on_the_engine(rec: &[(String, (String, u8))], normalise: fn(&str) -> Vec<String>) {
    let sim = run_record(rec);
    let d = sim.director.as_ref().expect("a Docker lab");
    for ((cmd, (want, exit)), log) in rec.iter().zip(&d.transcript) {
        let got = match &log.output {
            Ok(t) | Err(t) => normalise(t),
        };
        assert_eq!(got, normalise(want), "`{cmd}` prints as the engine did");
        assert_eq!(log.status, *exit, "`{cmd}` exits as the engine did");
    }
}

/// The steps of the record `rec` run on `host1` ([`run_on_host1`]); every one of them ran.
#[allow(dead_code)]
pub fn run_record(rec: &[(String, (String, u8))]) -> sim_core::Sim {
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = run_on_host1(&steps);
    let ran = sim.director.as_ref().expect("a lab with hosts").transcript.len();
    assert_eq!(ran, rec.len(), "every step ran");
    sim
}

/// The run's program lines (namespace, line) after each step of the record `rec`, from the
/// step's command line (on `host1`) up to the next one's.
fn by_step(sim: &sim_core::Sim, rec: &[(String, (String, u8))]) -> Vec<Vec<(String, String)>> {
    let mut got: Vec<Vec<(String, String)>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && got.len() < rec.len() && l == rec[got.len()].0 {
            got.push(Vec::new());
        } else if let Some(lines) = got.last_mut() {
            lines.push((ns, l));
        }
    }
    assert_eq!(got.len(), rec.len(), "every step's command is in the log");
    got
}

/// Each step's program lines (what the container or host printed, not the simulator's
/// notes; a 64-hex ID as `ID`) and its exit status, for the steps of the record `rec`, from
/// a run of them on `host1` ([`run_on_host1`]). `from_host`: the programs run on the host
/// itself rather than in containers.
#[allow(dead_code)]
pub fn step_outputs(rec: &[(String, (String, u8))], from_host: bool) -> Vec<(Vec<String>, u8)> {
    let sim = run_record(rec);
    let d = sim.director.as_ref().expect("a lab with hosts");
    let steps = by_step(&sim, rec).into_iter().map(|lines| {
        let mut out = Vec::new();
        for (ns, l) in lines {
            let program = if from_host { ns == "host1" && !l.starts_with("  ") } else { ns != "host1" };
            if program && !is_note(&l) {
                out.push(l);
            } else if ns == "host1" && l.len() == 66 && l[2..].chars().all(|c| c.is_ascii_hexdigit()) {
                out.push("ID".into());
            }
        }
        out
    });
    steps.zip(&d.transcript).map(|(lines, log)| (lines, log.status)).collect()
}

/// Each step of the record `rec` (run as `sim`) as a shell shows it: what the host printed
/// under the command (the daemon's answers and failures, a 64-hex ID as `ID`, without the
/// simulator's `(exit status N)` line) and, for the steps `program` picks, what the step's
/// program printed in its container (not the simulator's notes); with the step's exit status.
#[allow(dead_code)]
pub fn shell_lines(
    sim: &sim_core::Sim,
    rec: &[(String, (String, u8))],
    program: impl Fn(usize) -> bool,
) -> Vec<(Vec<String>, u8)> {
    let d = sim.director.as_ref().expect("a lab with hosts");
    let steps = by_step(sim, rec).into_iter().enumerate().map(|(step, lines)| {
        let mut out = Vec::new();
        for (ns, l) in lines {
            match l.strip_prefix("  ") {
                Some(s) if ns == "host1" => {
                    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                        out.push("ID".into());
                    } else if !s.starts_with("(exit status ") && !s.is_empty() {
                        out.push(s.to_string());
                    }
                }
                _ if ns != "host1" && program(step) && !is_note(&l) && !l.is_empty() => out.push(l),
                _ => {}
            }
        }
        out
    });
    steps.zip(&d.transcript).map(|(lines, log)| (lines, log.status)).collect()
}

/// `time=0.209 ms` and `0.104/0.139/0.209 ms` with their numbers as `T`: round trips,
/// which the simulator's clock does not time as the kernel does.
#[allow(dead_code)]
pub fn without_times(l: &str) -> String {
    let mut out = String::new();
    let mut chars = l.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() && out.ends_with(['=', '/', ' ']) && l.ends_with(" ms") {
            let mut num = c.to_string();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                num.push(d);
                chars.next();
            }
            out.push_str(if num.contains('.') { "T" } else { &num });
        } else {
            out.push(c);
        }
    }
    out
}

/// `:PORT` with PORT in Linux's ephemeral range (32768–60999) as `:EPH`, before a space, a
/// parenthesis or the end, as the records' `record.sh` write a client's port.
#[allow(dead_code)]
pub fn eph(l: &str) -> String {
    let mut out = String::new();
    let mut rest = l;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(p) = rest[..n].parse::<u32>()
            && (32768..=60999).contains(&p)
            && matches!(rest[n..].chars().next(), None | Some(' ' | ')'))
        {
            out.push_str("EPH");
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

/// Each step of the record `rec` (run as `sim`) as its shell shows it, ephemeral ports as
/// `EPH`: what host1 printed under the command (a 64-hex ID as `ID`, without the
/// simulator's `(exit status N)`), then the lines of the step's own program: the exec'd
/// container's for `docker exec NAME …`, host1's for a command typed there, without the
/// lines `note` calls the simulator's. A listener another step talks to prints into its
/// own container, not into that step.
#[allow(dead_code)]
pub fn program_lines(
    sim: &sim_core::Sim,
    rec: &[(String, (String, u8))],
    note: impl Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let whose: Vec<String> = rec
        .iter()
        .map(|(c, _)| match c.strip_prefix("docker exec ") {
            Some(r) => format!("host1:{}", r.split(' ').find(|w| !w.starts_with('-')).unwrap_or_default()),
            None => "host1".to_string(),
        })
        .collect();
    let mut got: Vec<Vec<String>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && got.len() < rec.len() && l == rec[got.len()].0 {
            got.push(Vec::new());
            continue;
        }
        let step = got.len().wrapping_sub(1);
        let Some(lines) = got.last_mut() else { continue };
        match l.strip_prefix("  ") {
            Some(s) if ns == "host1" => {
                if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    lines.push("ID".into());
                } else if !s.starts_with("(exit status ") {
                    lines.push(eph(s));
                }
            }
            _ if ns == whose[step] && !is_note(&l) && !note(&l) && !l.is_empty() => lines.push(eph(&l)),
            _ => {}
        }
    }
    assert_eq!(got.len(), rec.len(), "every step's command is in the log");
    got
}

/// What the shell of `host` showed under each of `cmds` (the programs' lines, without those
/// `note` calls the simulator's own and blank ones), and the exit status: a command line the
/// program refuses, or a request that failed, ends in the simulator's indented `(exit status
/// N)` after the program's lines, which are then indented too.
#[allow(dead_code)]
pub fn lines_under(
    sim: &sim_core::Sim,
    host: &str,
    cmds: &[&str],
    note: impl Fn(&str) -> bool,
) -> Vec<(String, Vec<String>, u8)> {
    let mut got: Vec<(String, Vec<String>)> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns != host {
            continue;
        }
        if cmds.contains(&l.as_str()) {
            got.push((l, Vec::new()));
        } else if let Some((_, lines)) = got.last_mut()
            && !note(&l)
            && !l.trim().is_empty()
        {
            lines.push(l);
        }
    }
    assert_eq!(got.len(), cmds.len(), "every command ran: {got:#?}");
    got.into_iter()
        .map(|(cmd, lines)| match lines.last().and_then(|l| l.strip_prefix("  (exit status ")) {
            Some(code) => {
                let status = code.trim_end_matches(')').parse::<u8>().expect("status");
                let lines = lines[..lines.len() - 1].iter().map(|l| l.strip_prefix("  ").unwrap_or(l).to_string());
                (cmd, lines.collect(), status)
            }
            None => (cmd, lines, 0),
        })
        .collect()
}

/// The frames of a capture kept under `traces/` (`docker/busybox-ping/record.pcapng`).
#[allow(dead_code)]
pub fn captured(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/../traces/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).expect("the capture is kept in the repository");
    let (_, frames) = sim_core::capture::read_pcapng(file).expect("a pcapng file");
    frames.into_iter().map(|f| f.data).collect()
}

/// The frames the simulator sent out of `dev` (`host1:c1/lo`), in order.
#[allow(dead_code)]
pub fn sent_on(sim: &sim_core::Sim, dev: &str) -> Vec<Vec<u8>> {
    let id = sim.world.devs.iter().find(|d| sim.world.dev_path(d.id) == dev).expect("the device").id;
    sim.records()
        .iter()
        .filter(|r| r.dir == sim_core::kernel::trace::Dir::Tx && r.dev == Some(id))
        .filter_map(|r| r.frame.clone())
        .collect()
}

/// The `plan:` of a client, a router and a server in two /24s: `client` and `router_in` on
/// the first link, `router_out` and `server` on the second (each `A.B.C.D`), with default
/// routes through the router.
#[allow(dead_code)]
pub fn router_plan(client: &str, router_in: &str, router_out: &str, server: &str) -> String {
    format!(
        r#"plan: (
        namespaces: [(name: "client"), (name: "router", ip_forward: true), (name: "server")],
        links: [
            Veth(name: "eth0", ns: "client", peer: "eth0", peer_ns: "router"),
            Veth(name: "eth1", ns: "router", peer: "eth0", peer_ns: "server"),
        ],
        addresses: [
            (ns: "client", dev: "eth0", addr: "{client}/24"),
            (ns: "router", dev: "eth0", addr: "{router_in}/24"),
            (ns: "router", dev: "eth1", addr: "{router_out}/24"),
            (ns: "server", dev: "eth0", addr: "{server}/24"),
        ],
        routes: [
            (ns: "client", dst: "default", via: "{router_in}"),
            (ns: "server", dst: "default", via: "{router_out}"),
        ],
    ),"#
    )
}

/// What the simulator says beside a client's and a server's lines: a connection's progress,
/// the response curl got, the server's and docker-proxy's notes, a message `-s` kept quiet
/// (and [`is_note`]'s).
#[allow(dead_code)]
pub fn client_note(l: &str) -> bool {
    is_note(l)
        || l.starts_with("tcp ")
        || l.starts_with("curl: HTTP/")
        || l.starts_with("httpd: ")
        || l.starts_with("docker-proxy: ")
        || l.ends_with("(not shown: -s)")
}

/// Every 64-digit hex ID as `ID`, as the records write them.
#[allow(dead_code)]
pub fn ids(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for ch in s.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_hexdigit() && ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            run.push(ch);
            continue;
        }
        out += if run.len() == 64 { "ID" } else { &run };
        run.clear();
        out.push(ch);
    }
    out.pop();
    out
}

/// A record's text with its stand-in web server's page read as the page the simulator's
/// nginx serves: without a registry the engine ran busybox httpd for `nginx`, serving a
/// one-line page (`<html><body><h1>It works!</h1></body></html>`) in place of nginx's
/// welcome page.
#[allow(dead_code)]
pub fn stand_in_page(record: &str) -> String {
    let page = sim_core::userland::proto::webapp::NGINX_INDEX;
    record.replace("<html><body><h1>It works!</h1></body></html>\n", page)
}

/// A Linux lab kept beside its kernel record (`traces/kernel/linux/NAME.ron` and `NAME.txt`,
/// whose script names its namespaces `PREFIX-NAME`), run to its end: each step but the pings
/// (whose lines the script sends away) prints what the kernel's tools printed, after `fix`
/// reads the record's namespace names as the lab's. Returns the differences.
#[allow(dead_code)]
pub fn kernel_lab_differences(name: &str, at_least: usize, fix: impl Fn(&str) -> String) -> Vec<String> {
    let rec = transcript(&format!("kernel/linux/{name}.txt"));
    assert!(rec.len() >= at_least, "{} blocks", rec.len());
    let path = format!("{}/../traces/kernel/linux/{name}.ron", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the lab is kept beside its record");
    let mut sim = sim_core::scenario::Loaded::from_str(&format!("{name}.ron"), &text)
        .expect("loads")
        .build(None)
        .expect("builds");
    sim.run_until(sim_core::Until::Idle);
    let d = sim.director.as_ref().expect("a lab with steps");
    let logs: Vec<_> = d.transcript.iter().filter(|l| !l.line.starts_with("ping ")).collect();
    assert_eq!(logs.len(), rec.len(), "a step per recorded command");
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in logs.iter().zip(&rec) {
        let (ns, line) = cmd.trim_start_matches('[').split_once("] ").expect("[NS] COMMAND");
        assert_eq!((log.host.as_str(), log.line.as_str()), (ns, line), "the same command in the same namespace");
        let got = match &log.output {
            Ok(t) => t.clone(),
            // A complaint is kept without the newline the program ends it with.
            Err(t) if !t.is_empty() && !t.ends_with('\n') => format!("{t}\n"),
            Err(t) => t.clone(),
        };
        let want = fix(want);
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- kernel [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    diffs
}
