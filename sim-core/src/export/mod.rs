//! A lab taken to real machines: one bash script per host (`netsim export FILE --to script`).
//!
//! Each script runs the commands the lab types on its host, in the lab's order, and makes
//! the lab's checks that look at that host (`expect`), printing PASS, FAIL or SKIP and a
//! score. Hosts are kept in step with one another through a folder they share
//! (`NETSIM_SYNC_DIR`: a step or a host's checks done leaves a marker there), or, without
//! one, by asking whoever runs the script to press Enter once the other host has done its
//! part. `bash HOST.sh down` takes away what the script made.
//!
//! The scripts are written here as text, with no IO, so that the CLI writes them and tests
//! read them. What cannot be checked on a real host without a capture (`Frame` checks) is
//! reported as SKIP, never as a pass. What a real engine names differently from the
//! simulator is looked up where the script runs: a swarm task by its service
//! (`docker ps --filter name=^/SERVICE.`), a load-balancer sandbox by its network's ID
//! (`/var/run/docker/netns/lb_ID`, as libnetwork's `osl.GenerateKey` truncates
//! `"lb_" + network ID` to 12 characters), a join token by asking the manager.

mod compose;

pub use compose::{Form, compose};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::docker::cli::{self, DockerCommand};
use crate::lesson::{Check, Expectation, wrap};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// One host's script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostScript {
    pub host: String,
    /// `HOST.sh`.
    pub file_name: String,
    pub text: String,
}

/// Why a lab cannot be exported as scripts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("{0} has no hosts: export writes the commands typed on a lab's hosts")]
    NoHosts(String),
    #[error(
        "{file} builds part of its network by hand (`plan`: {what}); export writes only commands typed on hosts, and a script cannot know how a real machine should get these"
    )]
    HandBuilt { file: String, what: String },
    #[error("{file} runs scripted programs (`traffic`: {n}); export writes only commands typed on hosts")]
    Traffic { file: String, n: usize },
    #[error("{file}: step {step} on {host}: `{run}` cannot be written for bash: {why}")]
    Step { file: String, step: usize, host: String, run: String, why: String },
    /// The lab does not fit one compose or stack file.
    #[error("{file}: {why}")]
    NoFit { file: String, why: String },
}

/// The scripts for every host of `sc`, in the file's order of hosts. `file` names the lab
/// in the scripts' headers.
pub fn scripts(sc: &Scenario, file: &str) -> Result<Vec<HostScript>, ExportError> {
    if sc.plan != Plan::default() {
        return Err(ExportError::HandBuilt { file: file.to_string(), what: hand_built(&sc.plan) });
    }
    if sc.hosts.is_empty() {
        return Err(ExportError::NoHosts(file.to_string()));
    }
    if !sc.traffic.is_empty() {
        return Err(ExportError::Traffic { file: file.to_string(), n: sc.traffic.len() });
    }
    let lab = Lab::new(sc, file)?;
    Ok(sc
        .hosts
        .iter()
        .map(|h| HostScript { host: h.name.clone(), file_name: format!("{}.sh", h.name), text: lab.script(&h.name) })
        .collect())
}

fn hand_built(p: &Plan) -> String {
    let mut what: Vec<String> = p.namespaces.iter().map(|n| format!("namespace {}", n.name)).collect();
    what.extend(p.links.iter().map(|l| format!("device {}", l.name())));
    if what.is_empty() {
        what.push("addresses, routes or rules".into());
    }
    what.truncate(4);
    what.join(", ")
}

/// One step as the script types it.
struct StepOut {
    on: String,
    /// As the lab wrote it: the prompt line the script prints.
    line: String,
    /// The words for bash, quoted.
    bash: String,
    fails: bool,
    note: Option<String>,
    hidden: bool,
    /// Seconds after the lab began, for a step with `at`.
    at: Option<f64>,
    /// A `docker run`/`create` without `--name`: its ID is kept for `down`.
    unnamed_container: bool,
    /// `docker swarm init`: the join tokens are published after it.
    swarm_init: bool,
    /// `docker exec SERVICE …`: the service whose task it runs in.
    task_of: Option<String>,
    /// `cd DIR`: typed in the script's own shell, so that the steps after it start there.
    cd: bool,
}

struct Lab<'a> {
    sc: &'a Scenario,
    file: &'a str,
    steps: Vec<StepOut>,
    /// Per host: what `down` takes away, in the order it does it.
    down: BTreeMap<String, Vec<String>>,
}

impl<'a> Lab<'a> {
    fn new(sc: &'a Scenario, file: &'a str) -> Result<Lab<'a>, ExportError> {
        let parsed_all: Vec<Option<DockerCommand>> = sc
            .steps
            .iter()
            .map(|s| s.run.trim_start().starts_with("docker").then(|| cli::parse(&s.run).ok()).flatten())
            .collect();
        // Names a swarm task is reached by: a service's, unless a container has it too.
        let mut containers = BTreeSet::new();
        let mut services = BTreeSet::new();
        for p in parsed_all.iter().flatten() {
            match p {
                DockerCommand::Run(r) | DockerCommand::Create(r) => containers.extend(r.name.clone()),
                DockerCommand::ServiceCreate(c) => services.extend(c.name.clone()),
                _ => {}
            }
        }
        let tasks: BTreeSet<String> = services.difference(&containers).cloned().collect();
        let mut steps = Vec::new();
        let mut undo: BTreeMap<String, Undo> = BTreeMap::new();
        // Each host's working directory as its steps leave it (`cd`), for `docker-compose down`.
        let mut cwd: BTreeMap<String, String> = BTreeMap::new();
        for (i, (s, parsed)) in sc.steps.iter().zip(parsed_all).enumerate() {
            let err = |why: String| ExportError::Step {
                file: file.to_string(),
                step: i + 1,
                host: s.on.clone(),
                run: s.run.clone(),
                why,
            };
            let words: Vec<String> =
                cli::shell_words(&s.run).map_err(|e| err(e.message.clone()))?.into_iter().map(|(w, _)| w).collect();
            if words.is_empty() {
                return Err(err("it is empty".into()));
            }
            let exec_target = match &parsed {
                Some(DockerCommand::Exec(e)) if tasks.contains(&e.container) => Some(e.container.clone()),
                _ => None,
            };
            let here = cwd.get(&s.on).cloned().unwrap_or_else(|| crate::director::HOME.to_string());
            let cd = words[0] == "cd";
            if cd {
                cwd.insert(s.on.clone(), crate::director::cd_target(&here, words.get(1).map(String::as_str)));
            }
            let compose =
                (words[0] == "docker-compose").then(|| crate::docker::compose::parse(&words[1..]).ok()).flatten();
            // Compose's exec wants a terminal, which the script's steps (reading /dev/null)
            // have not: `-T` after the verb, as a script must give it.
            let mut needs_t = matches!(&compose, Some(inv) if matches!(inv.verb, crate::docker::compose::Verb::Exec { .. }))
                && !words.iter().any(|w| w == "-T");
            let mut out = Vec::with_capacity(words.len());
            let mut target_done = false;
            for (k, w) in words.iter().enumerate() {
                if k >= 2 && !target_done && exec_target.as_deref() == Some(w.as_str()) {
                    // The first word after `docker exec`'s flags that names the service.
                    target_done = true;
                    out.push(format!("\"$(netsim_container {})\"", quote(w)));
                } else if w == "WORKER_TOKEN" || w == "MANAGER_TOKEN" {
                    out.push(format!("\"$(netsim_get {w})\""));
                } else {
                    out.push(quote(w));
                }
                if needs_t && w == "exec" {
                    out.push("-T".into());
                    needs_t = false;
                }
            }
            let u = undo.entry(s.on.clone()).or_default();
            let mut unnamed_container = false;
            match &parsed {
                Some(DockerCommand::Run(r)) => match &r.name {
                    Some(n) => u.containers.push(n.clone()),
                    None => unnamed_container = !r.rm || r.detach,
                },
                Some(DockerCommand::Create(r)) => match &r.name {
                    Some(n) => u.containers.push(n.clone()),
                    None => unnamed_container = true,
                },
                Some(DockerCommand::ServiceCreate(c)) => u.services.extend(c.name.clone()),
                Some(DockerCommand::NetworkCreate(c)) => u.networks.push(c.name.clone()),
                Some(DockerCommand::SwarmInit(_) | DockerCommand::SwarmJoin(_)) => u.swarm = true,
                _ if words.starts_with(&["docker".to_string(), "stack".to_string()]) => {
                    if let Ok(crate::docker::stack::StackCmd::Deploy { stack, .. }) =
                        crate::docker::stack::parse(&words[2..])
                    {
                        u.compose.push(vec!["docker".into(), "stack".into(), "rm".into(), stack]);
                    }
                }
                _ if compose.is_some() => {
                    if let Some(inv) =
                        compose.as_ref().filter(|i| matches!(i.verb, crate::docker::compose::Verb::Up { .. }))
                    {
                        // `docker-compose down` with the same file and project, where `up` ran.
                        let mut down = vec!["docker-compose".to_string()];
                        for f in &inv.source.files {
                            down.extend(["-f".into(), f.clone()]);
                        }
                        if let Some(p) = &inv.source.project {
                            down.extend(["-p".into(), p.clone()]);
                        }
                        down.push("down".into());
                        let dir = match here.strip_prefix(crate::director::HOME) {
                            Some(rest) => format!("~{rest}"),
                            None => quote(&here),
                        };
                        let line = down.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
                        u.compose.push(vec!["bash".into(), "-c".into(), format!("cd {dir} && {line}")]);
                    }
                }
                _ => u.faults.extend(fault_undo(&words)),
            }
            steps.push(StepOut {
                on: s.on.clone(),
                line: s.run.clone(),
                bash: out.join(" "),
                fails: s.fails,
                note: s.note.clone(),
                hidden: sc.is_students(i),
                at: s.at.map(|t| t.as_secs_f64()),
                unnamed_container,
                swarm_init: matches!(parsed, Some(DockerCommand::SwarmInit(_))),
                task_of: exec_target,
                cd,
            });
        }
        let down = undo.into_iter().map(|(h, u)| (h, u.commands())).collect();
        Ok(Lab { sc, file, steps, down })
    }

    /// The host a check is made on: `on`'s host part (`node1:ingress_sbox` → node1); an
    /// `Output` check without `on` on the lab's first host.
    fn check_host(&self, c: &Check) -> String {
        let on = match c {
            Check::Reach { on, .. }
            | Check::Resolve { on, .. }
            | Check::Frame { on, .. }
            | Check::Counter { on, .. }
            | Check::Table { on, .. }
            | Check::Command { on, .. } => on.as_str(),
            Check::Output { on: Some(on), .. } => on.as_str(),
            Check::Output { on: None, .. } => self.sc.hosts[0].name.as_str(),
        };
        let host = crate::grade::split_dev(on).0;
        host.split_once(':').map_or(host, |(h, _)| h).to_string()
    }

    fn script(&self, host: &str) -> String {
        let sc = self.sc;
        let me = sc.hosts.iter().find(|h| h.name == host).expect("a host of the lab");
        let mut s = String::new();
        let _ = writeln!(s, "#!/usr/bin/env bash");
        let _ = writeln!(s, "# {}: what is typed on {host}, and the lab's checks made there.", one_line(&sc.name));
        let _ = writeln!(s, "# Written by `netsim export {} --to script`: one script per host of the lab.", self.file);
        if !sc.description.is_empty() {
            let _ = writeln!(s, "#");
            for l in wrap(&sc.description, 88) {
                let _ = writeln!(s, "# {l}");
            }
        }
        let _ = writeln!(s, "#");
        let _ = writeln!(s, "# Run it on {host} ({}) as root: bash {host}.sh", me.addr.addr);
        let _ = writeln!(s, "# Take away what it made: bash {host}.sh down");
        if sc.hosts.len() > 1 {
            let others: Vec<String> = sc
                .hosts
                .iter()
                .filter(|h| h.name != host)
                .map(|h| format!("{} ({}, {}.sh)", h.name, h.addr.addr, h.name))
                .collect();
            let _ = writeln!(s, "# The lab's other hosts: {}.", others.join(", "));
            let _ = writeln!(s, "# Steps on different hosts run in the lab's order. With NETSIM_SYNC_DIR naming a");
            let _ =
                writeln!(s, "# folder every host shares (an NFS mount; any folder when the hosts are one machine),");
            let _ = writeln!(s, "# each script waits there for what the other hosts do before its own steps; without");
            let _ = writeln!(s, "# it, the script asks you to press Enter once the other host is done. Give every");
            let _ = writeln!(s, "# run an empty folder.");
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "NETSIM_HOST={}", quote(host));
        let _ = writeln!(s, "NETSIM_ADDR={}", me.addr.addr);
        s.push_str(RUNTIME);
        let _ = writeln!(s);

        // down: what this host's steps made, taken away in reverse.
        let _ = writeln!(s, "netsim_down() {{");
        let _ = writeln!(s, "  netsim_say \"== taking away what {host}.sh made\"");
        let _ = writeln!(
            s,
            "  if [ -s \"$NETSIM_STATE\" ]; then xargs -r docker rm -f < \"$NETSIM_STATE\"; rm -f \"$NETSIM_STATE\"; fi"
        );
        let cmds = self.down.get(host).cloned().unwrap_or_default();
        for c in &cmds {
            let _ = writeln!(s, "  netsim_undo {c}");
        }
        let _ = writeln!(s, "  return 0");
        let _ = writeln!(s, "}}");
        let _ = writeln!(s, "if [ \"${{1:-}}\" = down ]; then netsim_down; exit 0; fi");
        let _ = writeln!(s, "if [ $# -gt 0 ]; then echo \"usage: bash {host}.sh [down]\" >&2; exit 2; fi");
        let _ = writeln!(s, "netsim_preflight");
        // Steps start in the home folder, as a lab's do (`director::HOME`), beside the files
        // the lab gives the host.
        let _ = writeln!(s, "cd \"$HOME\" || exit 1");
        for (path, text) in &me.files {
            let mut end = "NETSIM_EOF".to_string();
            while text.lines().any(|l| l == end) {
                end.push('_');
            }
            let _ = writeln!(s, "mkdir -p -- \"$(dirname -- {})\"", quote(path));
            let _ = writeln!(s, "cat > {} <<'{end}'", quote(path));
            s.push_str(text);
            if !text.ends_with('\n') {
                s.push('\n');
            }
            let _ = writeln!(s, "{end}");
        }
        let _ = writeln!(s);

        // The items this host does, in the lab's order: step i, then the checks after it.
        let n = self.steps.len();
        let mut by_after: BTreeMap<usize, Vec<&Expectation>> = BTreeMap::new();
        for e in &sc.expect {
            // A check after the last step, or at none, is made at the end.
            let k = e.after.unwrap_or(n).min(n);
            by_after.entry(k).or_default().push(e);
        }
        // Which hosts make checks after step k: the next step waits for them.
        let checkers = |k: usize| -> BTreeSet<String> {
            by_after.get(&k).map(|v| v.iter().map(|e| self.check_host(&e.check)).collect()).unwrap_or_default()
        };
        // Checks made before any step (after: 0) come first.
        self.emit_checks(&mut s, host, 0, by_after.get(&0));
        for (i, st) in self.steps.iter().enumerate() {
            let k = i + 1;
            if st.on == host {
                let _ = writeln!(s, "# Step {k} of {n}.");
                if let Some(note) = &st.note {
                    for l in wrap(note, 88) {
                        let _ = writeln!(s, "# {l}");
                    }
                }
                if let Some(svc) = &st.task_of {
                    let _ = writeln!(
                        s,
                        "# {svc} is a service: its task runs where the swarm puts it, which may not be this host."
                    );
                }
                if st.hidden {
                    let _ = writeln!(s, "# (In netsim this is the student's to type.)");
                }
                if let Some(at) = st.at {
                    let _ = writeln!(s, "netsim_at {at}");
                } else {
                    self.emit_wait_for_step(&mut s, host, k - 1, &checkers(k - 1));
                }
                let _ = writeln!(s, "netsim_step {k} {}", quote(&st.line));
                if st.cd {
                    // In this shell, not a pipeline's subshell: the steps after it start there.
                    let _ = writeln!(s, "{} 2>&1", st.bash);
                    let _ = writeln!(s, "netsim_status=$?");
                } else {
                    let _ = writeln!(s, "{{ {}; }} < /dev/null 2>&1 | netsim_out", st.bash);
                    let _ = writeln!(s, "netsim_status=${{PIPESTATUS[0]}}");
                }
                if st.unnamed_container {
                    let _ = writeln!(s, "netsim_made");
                }
                if st.swarm_init {
                    let _ = writeln!(s, "netsim_publish WORKER_TOKEN \"$(docker swarm join-token -q worker)\"");
                    let _ = writeln!(s, "netsim_publish MANAGER_TOKEN \"$(docker swarm join-token -q manager)\"");
                }
                let _ = writeln!(s, "netsim_end {k} \"$netsim_status\" {}", u8::from(st.fails));
                let _ = writeln!(s);
            }
            self.emit_checks(&mut s, host, k, by_after.get(&k));
        }
        let _ = writeln!(s, "netsim_summary");
        s
    }

    /// Waits (when another host did it) for step `k` and for every other host's checks
    /// after it.
    fn emit_wait_for_step(&self, s: &mut String, host: &str, k: usize, checkers: &BTreeSet<String>) {
        self.emit_wait_for_step_only(s, host, k);
        for c in checkers.iter().filter(|c| c.as_str() != host) {
            let _ = writeln!(s, "netsim_wait checks-{k}-{c} {}", quote(&format!("{c}'s checks after step {k}")));
        }
    }

    /// Waits for step `k` (counted from 1) when another host typed it.
    fn emit_wait_for_step_only(&self, s: &mut String, host: &str, k: usize) {
        if let Some(prev) = k.checked_sub(1).map(|i| &self.steps[i])
            && prev.on != host
        {
            let _ = writeln!(
                s,
                "netsim_wait step-{k} {}",
                quote(&format!("step {k} on {} ({})", prev.on, one_line(&prev.line)))
            );
        }
    }

    fn emit_checks(&self, s: &mut String, host: &str, k: usize, exps: Option<&Vec<&Expectation>>) {
        let Some(exps) = exps else { return };
        let mine: Vec<&&Expectation> = exps.iter().filter(|e| self.check_host(&e.check) == host).collect();
        if mine.is_empty() {
            return;
        }
        let when = if k == 0 { "before the first step".to_string() } else { format!("after step {k}") };
        let _ = writeln!(s, "# The lab's checks {when}.");
        self.emit_wait_for_step_only(s, host, k);
        for e in mine {
            let _ = writeln!(
                s,
                "netsim_check {} {} {} {}",
                e.points,
                quote(&e.name),
                quote(e.hint.as_deref().unwrap_or("")),
                self.check_call(&e.check)
            );
        }
        let _ = writeln!(s, "netsim_mark checks-{k}-{}", quote(host));
        let _ = writeln!(s);
    }

    /// The runtime function (and its arguments, quoted) that makes one check.
    fn check_call(&self, c: &Check) -> String {
        // A namespace named as `netsim show` takes it: `host` or `host:sandbox`.
        let place = |on: &str, container: &Option<String>| -> (String, String) {
            let ns = on.split_once(':').map(|(_, n)| n.to_string()).unwrap_or_default();
            (quote(container.as_deref().unwrap_or("")), quote(&ns))
        };
        match c {
            Check::Reach { on, container, to, port, yes } => {
                let (c, ns) = place(on, container);
                let port = port.map(|p| p.to_string()).unwrap_or_default();
                format!("netsim_reach {c} {ns} {} {} {}", quote(to), quote(&port), u8::from(*yes))
            }
            Check::Resolve { on, container, name, answer } => {
                let (c, _) = place(on, container);
                format!("netsim_resolve {c} {} {}", quote(name), quote(answer))
            }
            Check::Output { on, contains, seen } => {
                let scope = if on.is_some() { "this" } else { "all" };
                format!("netsim_output {scope} {} {}", u8::from(*seen), quote(contains))
            }
            Check::Frame { on, container, .. } => {
                let place = match container {
                    Some(ct) => format!("{ct} on {on}"),
                    None => on.clone(),
                };
                format!("netsim_frame {}", quote(&place))
            }
            Check::Counter { on, container, table, chain, rule, at_least } => {
                let (c, ns) = place(on, container);
                format!(
                    "netsim_counter {c} {ns} {} {} {} {at_least}",
                    quote(table.as_deref().unwrap_or("filter")),
                    quote(chain),
                    quote(rule.as_deref().unwrap_or(""))
                )
            }
            Check::Table { on, container, show, contains, seen } => {
                let (c, ns) = place(on, container);
                let cmd = match show.parse::<crate::kernel::show::What>() {
                    Ok(w) => show_command(w),
                    // The loader refuses an unknown table; keep the word for the message.
                    Err(_) => show.clone(),
                };
                format!("netsim_table {c} {ns} {} {} -- {cmd}", u8::from(*seen), quote(contains))
            }
            Check::Command { run, contains, equals, .. } => {
                let words = cli::shell_words(run)
                    .map(|w| w.into_iter().map(|(w, _)| quote(&w)).collect::<Vec<_>>().join(" "))
                    .unwrap_or_else(|_| quote(run));
                format!(
                    "netsim_command {} {} -- {words}",
                    quote(contains.as_deref().unwrap_or("")),
                    match equals {
                        Some(e) => quote(&format!("={e}")),
                        None => "''".to_string(),
                    }
                )
            }
        }
    }
}

/// What a host's steps made, for `down`.
#[derive(Default)]
struct Undo {
    containers: Vec<String>,
    services: Vec<String>,
    networks: Vec<String>,
    swarm: bool,
    /// Commands that undo a fault, in the order the faults were made.
    faults: Vec<Vec<String>>,
    /// `docker-compose down` for each `up`, in the folder it ran in; `docker stack rm` for
    /// each stack deployed.
    compose: Vec<Vec<String>>,
}

impl Undo {
    fn commands(self) -> Vec<String> {
        let q = |v: &[String]| v.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        let mut out = Vec::new();
        for f in self.faults.iter().rev() {
            out.push(q(f));
        }
        for c in self.compose.iter().rev() {
            out.push(q(c));
        }
        if !self.services.is_empty() {
            out.push(format!("docker service rm {}", q(&self.services)));
        }
        if !self.containers.is_empty() {
            out.push(format!("docker rm -f {}", q(&self.containers)));
        }
        let mut nets = self.networks;
        nets.reverse();
        nets.dedup();
        if !nets.is_empty() {
            out.push(format!("docker network rm {}", q(&nets)));
        }
        if self.swarm {
            out.push("docker swarm leave --force".into());
        }
        out
    }
}

/// The command that undoes a fault step (as `netconf` reads it): a netem taken away, a link
/// set up again, an iptables rule appended or inserted deleted; `None` for what changes
/// nothing to undo.
fn fault_undo(words: &[String]) -> Option<Vec<String>> {
    use crate::netconf::{NetCmd, QdiscOp};
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
    match crate::netconf::parse(words)?.ok()? {
        NetCmd::LinkSet { dev, up: false } => Some(owned(vec!["ip", "link", "set", &dev, "up"])),
        NetCmd::Qdisc { op: QdiscOp::Add | QdiscOp::Replace, dev, .. } => {
            Some(owned(vec!["tc", "qdisc", "del", "dev", &dev, "root"]))
        }
        NetCmd::Iptables { table, rule } => {
            let mut w: Vec<String> = cli::shell_words(&rule).ok()?.into_iter().map(|(w, _)| w).collect();
            let insert = matches!(w.first()?.as_str(), "-I" | "--insert");
            if !insert && !matches!(w[0].as_str(), "-A" | "--append") {
                return None;
            }
            w[0] = "-D".into();
            // `-I CHAIN N rule`: the position is not part of the rule.
            if insert && w.get(2).is_some_and(|n| n.parse::<u32>().is_ok()) {
                w.remove(2);
            }
            let mut v = vec!["iptables".to_string()];
            if table != "filter" {
                v.extend(["-t".to_string(), table]);
            }
            v.extend(w);
            Some(v)
        }
        _ => None,
    }
}

/// The command on a real host that prints what `netsim show WHAT` prints.
fn show_command(w: crate::kernel::show::What) -> String {
    use crate::kernel::show::What;
    match w {
        What::Addr => "ip addr show",
        What::Link => "ip link show",
        What::Route => "ip route show",
        What::Neigh => "ip neigh show",
        What::Fdb => "bridge fdb show",
        What::Iptables => "iptables-save",
        What::Conntrack => "conntrack -L",
        What::Ipvs => "ipvsadm -Ln",
        What::Qdisc => "tc qdisc show",
        What::BrLink => "bridge link show",
        What::BrLinkDetails => "bridge -d link show",
    }
    .to_string()
}

pub use crate::docker::cli::quote;

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The functions every script carries. Each check prints one line of evidence and returns
/// 0 (pass), 1 (fail) or 2 (cannot be checked on this host).
const RUNTIME: &str = r#"
set -u
NETSIM_SYNC_DIR=${NETSIM_SYNC_DIR:-}
# The steps run in the home folder (`cd "$HOME"` below), as a lab's do: a relative path given
# here is taken from where the script was started.
netsim_abs() { case $1 in /*|'') printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
NETSIM_SYNC_DIR=$(netsim_abs "$NETSIM_SYNC_DIR")
# Seconds to wait for another host before giving up.
NETSIM_WAIT=${NETSIM_WAIT:-900}
if [ -n "$NETSIM_SYNC_DIR" ]; then
  NETSIM_LOG=${NETSIM_LOG:-$NETSIM_SYNC_DIR/$NETSIM_HOST.log}
else
  NETSIM_LOG=${NETSIM_LOG:-./netsim-$NETSIM_HOST.log}
fi
NETSIM_LOG=$(netsim_abs "$NETSIM_LOG")
# The IDs of containers made without --name, for `down`.
NETSIM_STATE=$(netsim_abs "${NETSIM_STATE:-./netsim-$NETSIM_HOST.made}")
NETSIM_SCORE=0 NETSIM_TOTAL=0 NETSIM_PASSED=0 NETSIM_FAILED=0 NETSIM_SKIPPED=0 NETSIM_STEPS_FAILED=0

netsim_say() { printf '%s\n' "$*"; }

# Whether someone can be asked (a terminal this script can open).
netsim_tty() { ( : < /dev/tty ) 2>/dev/null; }

netsim_preflight() {
  if [ "$(id -u)" != 0 ]; then
    netsim_say "netsim: run this as root (sudo bash $0): the lab's commands change the network" >&2
    exit 2
  fi
  if ! ip -4 -o addr show | grep -qw -- "inet $NETSIM_ADDR"; then
    netsim_say "netsim: warning: this machine has no address $NETSIM_ADDR, which the lab gives $NETSIM_HOST; commands that name it will not reach it" >&2
  fi
  if [ -n "$NETSIM_SYNC_DIR" ]; then
    mkdir -p "$NETSIM_SYNC_DIR" || exit 2
    if [ -e "$NETSIM_SYNC_DIR/$NETSIM_HOST.log" ]; then
      netsim_say "netsim: $NETSIM_SYNC_DIR holds an earlier run ($NETSIM_HOST.log): give every run an empty NETSIM_SYNC_DIR" >&2
      exit 2
    fi
    ( set -C; date +%s.%N > "$NETSIM_SYNC_DIR/t0" ) 2>/dev/null
    NETSIM_T0=$(cat "$NETSIM_SYNC_DIR/t0")
  else
    NETSIM_T0=$(date +%s.%N)
  fi
  : > "$NETSIM_LOG"
}

# KEY WHAT: block until another host has done KEY.
netsim_wait() {
  local key=$1 what=$2 tries=0
  if [ -n "$NETSIM_SYNC_DIR" ]; then
    while [ ! -e "$NETSIM_SYNC_DIR/$key" ]; do
      if [ "$tries" -ge $((NETSIM_WAIT * 5)) ]; then
        netsim_say "netsim: gave up after ${NETSIM_WAIT}s waiting for $what ($NETSIM_SYNC_DIR/$key)" >&2
        exit 3
      fi
      sleep 0.2
      tries=$((tries + 1))
    done
  elif netsim_tty; then
    printf '== waiting for %s: press Enter once it is done ' "$what" > /dev/tty
    read -r _ < /dev/tty
  else
    netsim_say "== not waiting for $what (no NETSIM_SYNC_DIR, no terminal)"
  fi
}

netsim_mark() { [ -z "$NETSIM_SYNC_DIR" ] || : > "$NETSIM_SYNC_DIR/$1"; }

# SECONDS: sleep until that long after the lab began.
netsim_at() {
  local left
  left=$(awk -v t0="$NETSIM_T0" -v at="$1" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + at - now; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$left"
}

netsim_step() { netsim_say "$NETSIM_HOST\$ $2"; }
netsim_out() { tee -a "$NETSIM_LOG"; }

# N STATUS FAILS: a step has run; FAILS=1 when the lab means it to fail.
netsim_end() {
  if [ "$2" -ne 0 ]; then netsim_say "(exit status $2)"; fi
  if [ "$3" = 1 ] && [ "$2" -eq 0 ]; then
    netsim_say "netsim: step $1 is meant to fail (fails: true), and did not"
  elif [ "$3" = 0 ] && [ "$2" -ne 0 ]; then
    NETSIM_STEPS_FAILED=$((NETSIM_STEPS_FAILED + 1))
  fi
  netsim_mark "step-$1"
}

netsim_made() { docker ps -lq >> "$NETSIM_STATE"; }

# NAME VALUE: a swarm join token, for the hosts that join.
netsim_publish() {
  [ -z "$NETSIM_SYNC_DIR" ] || printf '%s\n' "$2" > "$NETSIM_SYNC_DIR/$1"
  netsim_say "== $1 (for docker swarm join on the other hosts): $2"
}

# NAME: a join token, from the environment, the shared folder, or whoever runs this.
netsim_get() {
  local v=${!1:-}
  if [ -z "$v" ] && [ -n "$NETSIM_SYNC_DIR" ] && [ -s "$NETSIM_SYNC_DIR/$1" ]; then v=$(cat "$NETSIM_SYNC_DIR/$1"); fi
  if [ -z "$v" ] && netsim_tty; then
    printf '== paste %s (the manager printed it after docker swarm init): ' "$1" > /dev/tty
    read -r v < /dev/tty
  fi
  if [ -z "$v" ]; then
    netsim_say "netsim: $1 is not known here: set $1=… or NETSIM_SYNC_DIR" >&2
    return 1
  fi
  printf '%s' "$v"
}

# NAME: the container, or a running task of the swarm service NAME.
netsim_container() {
  if docker inspect --type container "$1" > /dev/null 2>&1; then
    printf '%s' "$1"
    return 0
  fi
  local id
  id=$(docker ps -q --filter "name=^/$1\\." | head -n 1)
  if [ -z "$id" ]; then
    netsim_say "netsim: no container and no running task of a service $1 on $NETSIM_HOST" >&2
    return 1
  fi
  printf '%s' "$id"
}

# NAME: a sandbox's network namespace, named as netsim shows it.
netsim_netns() {
  case $1 in
    lb-*) printf '/var/run/docker/netns/lb_%s' "$(docker network inspect -f '{{.Id}}' "${1#lb-}" | cut -c1-9)" ;;
    *) printf '/var/run/docker/netns/%s' "$1" ;;
  esac
}

# CONTAINER NETNS CMD…: CMD in that network namespace (both empty: this host's own).
netsim_in() {
  local c=$1 ns=$2 id pid
  shift 2
  if [ -n "$c" ]; then
    id=$(netsim_container "$c") || { netsim_say "there is no container $c"; return 1; }
    pid=$(docker inspect -f '{{.State.Pid}}' "$id")
    if [ "$pid" = 0 ]; then netsim_say "$c is not running"; return 1; fi
    nsenter -t "$pid" -n -- "$@"
  elif [ -n "$ns" ]; then
    nsenter --net="$(netsim_netns "$ns")" -- "$@"
  else
    "$@"
  fi
}

# CONTAINER NAME: the IPv4 addresses NAME resolves to there (the host's when CONTAINER is empty).
netsim_lookup() {
  local c=$1 name=$2 id out
  if [[ $name =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then printf '%s\n' "$name"; return 0; fi
  if [ -z "$c" ]; then getent ahostsv4 "$name" | awk '!seen[$1]++ { print $1 }'; return 0; fi
  id=$(netsim_container "$c") || return 0
  if out=$(docker exec "$id" getent ahostsv4 "$name" 2> /dev/null); then
    printf '%s\n' "$out" | awk '!seen[$1]++ { print $1 }'
    return 0
  fi
  # Images without getent (busybox) ask their resolver with nslookup.
  docker exec "$id" nslookup "$name" 2> /dev/null | awk '/^Name:/ { a = 1; next } a && /^Address/' | grep -oE '([0-9]+\.){3}[0-9]+'
  return 0
}

# POINTS NAME HINT CHECK ARGS…
netsim_check() {
  local points=$1 name=$2 hint=$3 out st
  shift 3
  out=$("$@" 2>&1)
  st=$?
  out=$(printf '%s' "$out" | head -n 3 | cut -c1-200)
  case $st in
    0)
      NETSIM_PASSED=$((NETSIM_PASSED + 1)) NETSIM_SCORE=$((NETSIM_SCORE + points)) NETSIM_TOTAL=$((NETSIM_TOTAL + points))
      netsim_say "PASS  $name ($points/$points)" ;;
    2)
      NETSIM_SKIPPED=$((NETSIM_SKIPPED + 1))
      netsim_say "SKIP  $name (not graded here)" ;;
    *)
      NETSIM_FAILED=$((NETSIM_FAILED + 1)) NETSIM_TOTAL=$((NETSIM_TOTAL + points))
      netsim_say "FAIL  $name (0/$points)" ;;
  esac
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/      /'
  if [ "$st" != 0 ] && [ "$st" != 2 ] && [ -n "$hint" ]; then netsim_say "      hint: $hint"; fi
}

# CONTAINER NETNS TO PORT WANT: TO answers a ping (no PORT) or a TCP connection to PORT.
netsim_reach() {
  local c=$1 ns=$2 to=$3 port=$4 want=$5 addr what ok=1
  addr=$(netsim_lookup "$c" "$to" | head -n 1)
  what="$to${port:+ port $port}"
  if [ -z "$addr" ]; then
    netsim_say "$to does not resolve"
  elif [ -n "$port" ]; then
    netsim_in "$c" "$ns" timeout 5 bash -c 'exec 3<> "/dev/tcp/$0/$1"' "$addr" "$port" > /dev/null 2>&1 && ok=0
  else
    netsim_in "$c" "$ns" ping -c 1 -W 5 "$addr" > /dev/null 2>&1 && ok=0
  fi
  [ "$addr" = "$to" ] || [ -z "$addr" ] || what="$what ($addr)"
  if [ $ok = 0 ]; then netsim_say "$what answers"; else netsim_say "$what does not answer"; fi
  if [ $ok = 0 ]; then [ "$want" = 1 ]; else [ "$want" = 0 ]; fi
}

# CONTAINER NAME ANSWER: NAME resolves to ANSWER (an address among its answers, or NXDOMAIN).
netsim_resolve() {
  local got
  got=$(netsim_lookup "$1" "$2" | tr '\n' ' ')
  got=${got% }
  if [ "$3" = NXDOMAIN ]; then
    if [ -z "$got" ]; then netsim_say "$2 does not resolve"; return 0; fi
    netsim_say "$2 resolves to $got"
    return 1
  fi
  netsim_say "$2 resolves to ${got:-nothing}"
  [[ " $got " == *" $3 "* ]]
}

# SCOPE WANT TEXT: a line a step printed holds TEXT (this host's steps; every host's in
# the shared folder with SCOPE=all).
netsim_output() {
  local line files=("$NETSIM_LOG")
  if [ "$1" = all ] && [ -n "$NETSIM_SYNC_DIR" ]; then files=("$NETSIM_SYNC_DIR"/*.log); fi
  line=$(cat "${files[@]}" 2> /dev/null | grep -F -m 1 -- "$3")
  if [ -n "$line" ]; then
    netsim_say "$line"
    [ "$2" = 1 ]
  else
    netsim_say "no line holds \"$3\""
    [ "$2" = 0 ]
  fi
}

netsim_frame() {
  netsim_say "a frame check needs a capture on $1: netsim makes it in the simulator (netsim check)"
  return 2
}

# CONTAINER NETNS TABLE CHAIN RULE AT_LEAST: the packet counter of the first rule of CHAIN
# holding RULE (the chain's policy when RULE is empty) is at least AT_LEAST.
netsim_counter() {
  local c=$1 ns=$2 table=$3 chain=$4 rule=$5 least=$6 line n
  if [ -z "$rule" ]; then
    line=$(netsim_in "$c" "$ns" iptables-save -c -t "$table" | grep -m 1 -- "^:$chain ")
    n=$(printf '%s' "$line" | sed -n 's/.*\[\([0-9]*\):[0-9]*\].*/\1/p')
  else
    line=$(netsim_in "$c" "$ns" iptables-save -c -t "$table" | grep -F -- "-A $chain " | grep -F -m 1 -- "$rule")
    n=$(printf '%s' "$line" | sed -n 's/^\[\([0-9]*\):[0-9]*\].*/\1/p')
  fi
  if [ -z "$line" ]; then netsim_say "no rule of $table $chain holds \"$rule\""; return 1; fi
  netsim_say "$line"
  [ "${n:-0}" -ge "$least" ]
}

# CONTAINER NETNS WANT WORDS -- CMD…: a line CMD prints has every word of WORDS.
netsim_table() {
  local c=$1 ns=$2 want=$3 words=$4 out w
  shift 5
  if ! command -v "$1" > /dev/null; then netsim_say "$1 is not installed here"; return 2; fi
  out=$(netsim_in "$c" "$ns" "$@" 2>&1) || { netsim_say "$*: $out"; return 1; }
  read -r -a words <<< "$words"
  for w in "${words[@]}"; do out=$(printf '%s\n' "$out" | grep -wF -- "$w"); done
  if [ -n "$out" ]; then
    printf '%s\n' "$out" | head -n 1
    [ "$want" = 1 ]
  else
    netsim_say "no line of \`$*\` has all of: ${words[*]}"
    [ "$want" = 0 ]
  fi
}

# CONTAINS =EQUALS -- CMD…: what CMD prints holds CONTAINS, or is EQUALS (trimmed).
netsim_command() {
  local contains=$1 equals=$2 out t
  shift 3
  out=$("$@" 2>&1 < /dev/null)
  t=${out#"${out%%[![:space:]]*}"}
  t=${t%"${t##*[![:space:]]}"}
  printf '%s\n' "$t" | head -n 3
  if [ -n "$contains" ] && [[ $out != *"$contains"* ]]; then return 1; fi
  if [ -n "$equals" ] && [ "$t" != "${equals#=}" ]; then return 1; fi
  return 0
}

# CMD…: one command of `down`; what is already gone is not an error.
netsim_undo() {
  netsim_say "$NETSIM_HOST# $*"
  "$@" < /dev/null 2>&1 | sed 's/^/  /'
}

netsim_summary() {
  netsim_say "== $NETSIM_HOST: $NETSIM_PASSED passed, $NETSIM_FAILED failed, $NETSIM_SKIPPED not graded here; score $NETSIM_SCORE/$NETSIM_TOTAL"
  if [ "$NETSIM_STEPS_FAILED" -gt 0 ]; then netsim_say "== $NETSIM_STEPS_FAILED step(s) failed that the lab does not expect to fail"; fi
  [ "$NETSIM_FAILED" -eq 0 ]
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_protects_the_rest() {
        assert_eq!(quote("192.168.99.101:8080"), "192.168.99.101:8080");
        assert_eq!(quote("{{.Name}}"), "'{{.Name}}'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
    }

    #[test]
    fn a_fault_is_undone_by_its_opposite() {
        let w = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let undo = |s: &str| fault_undo(&w(s)).map(|v| v.join(" "));
        assert_eq!(undo("tc qdisc add dev eth0 root netem delay 100ms").as_deref(), Some("tc qdisc del dev eth0 root"));
        assert_eq!(undo("ip link set eth0 down").as_deref(), Some("ip link set eth0 up"));
        assert_eq!(
            undo("iptables -I DOCKER-USER 1 -s 192.168.99.10 -j DROP").as_deref(),
            Some("iptables -D DOCKER-USER -s 192.168.99.10 -j DROP")
        );
        assert_eq!(
            undo("iptables -t nat -A POSTROUTING -j MASQUERADE").as_deref(),
            Some("iptables -t nat -D POSTROUTING -j MASQUERADE")
        );
        assert_eq!(undo("iptables -D DOCKER-USER -j DROP"), None);
        assert_eq!(undo("ip link set eth0 up"), None);
        assert_eq!(undo("curl http://x/"), None);
    }
}
