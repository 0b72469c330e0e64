//! Grading a lab: the `expect` checks of a scenario (`lesson::Check`), made against a run.
//!
//! Checks that read what happened (a program's line, a frame on an interface) count the
//! trace records as the run produces them, so a long run needs no copy of its trace. Checks
//! that look at the lab (a name looked up, a port connected to, a command typed) do it in a
//! copy of the run taken at their moment (`Sim::probe`): the lab itself never sees the
//! grader's packets, so grading changes no frame of the run, its hop log or its capture.

use std::net::Ipv4Addr;

use serde::Serialize;

use crate::World;
use crate::engine::SimTime;
use crate::kernel::trace::{Dir, Record, Why};
use crate::lesson::{Check, Expectation};
use crate::sim::Sim;
use crate::userland::apps::Traffic;

/// How long a probe waits for its answer (simulated time): past ARP's three probes and the
/// first SYN retransmission, as `nc -w 5` would.
const PROBE_WAIT: SimTime = SimTime::from_secs(5);
/// How long a typed command may run before its output is read (a resolver's retries).
const COMMAND_WAIT: SimTime = SimTime::from_secs(30);
/// Longest evidence text kept for one check.
const MAX_EVIDENCE: usize = 300;

/// The result of one expectation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Verdict {
    pub name: String,
    pub points: u32,
    pub passed: bool,
    /// What satisfied the check, or what was seen instead.
    pub evidence: String,
    /// The hop-log event number (`#N`) of the frame or line that satisfied it.
    pub event: Option<u64>,
    /// Shown when the check failed.
    pub hint: Option<String>,
    /// Checked after this step (counted from 1), or at the end of the run.
    pub after: Option<usize>,
    /// How many events had run when it was checked: the GUI shows it from there on.
    pub events_run: u64,
}

/// Every expectation's verdict, in the file's order.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Report {
    pub verdicts: Vec<Verdict>,
    pub passed: usize,
    pub failed: usize,
    pub score: u32,
    pub total: u32,
    /// The run could not advance and was graded where it stopped (`sim::Stall`).
    pub stalled: Option<String>,
}

impl Report {
    fn new(verdicts: Vec<Verdict>) -> Report {
        let passed = verdicts.iter().filter(|v| v.passed).count();
        let score = verdicts.iter().filter(|v| v.passed).map(|v| v.points).sum();
        let total = verdicts.iter().map(|v| v.points).sum();
        Report { failed: verdicts.len() - passed, passed, score, total, verdicts, stalled: None }
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }
}

/// What the record-reading checks have seen so far.
#[derive(Clone, Debug, Default)]
struct Tally {
    count: u64,
    first: Option<(u64, String)>,
    /// The namespace a `container` names, once it exists.
    ns: Option<String>,
    /// What the check watches exists (a container's namespace appears with its step): a
    /// frame never seen where nothing could send it proves nothing.
    exists: bool,
}

/// Grades one run: call `before_event` before each `Sim::step`, `observe` with the records
/// each step made, and `finish` at the end.
#[derive(Clone, Debug)]
pub struct Grader {
    exps: Vec<Expectation>,
    tally: Vec<Tally>,
    /// The frames each `Frame` check counts.
    filters: Vec<Option<crate::lesson::FrameFilter>>,
    verdicts: Vec<Option<Verdict>>,
    /// Every check waits for the end (an exercise run with the student's commands, whose
    /// steps are not the file's).
    at_end: bool,
    /// Command lines of the steps: their echo in the hop log is not a program's output.
    echoes: Vec<String>,
}

impl Grader {
    pub fn new(exps: &[Expectation], at_end: bool) -> Grader {
        let tally = exps
            .iter()
            .map(|e| Tally { exists: !matches!(e.check, Check::Frame { .. }), ..Tally::default() })
            .collect();
        Grader {
            tally,
            filters: exps.iter().map(|e| e.check.frame_filter()).collect(),
            verdicts: vec![None; exps.len()],
            exps: exps.to_vec(),
            at_end,
            echoes: Vec::new(),
        }
    }

    /// Makes the checks due before the next event: those tied to a step that has finished
    /// (the next event starts a later one).
    pub fn before_event(&mut self, sim: &mut Sim) {
        if self.at_end {
            return;
        }
        let Some(next) = sim.next_step() else { return };
        for i in 0..self.exps.len() {
            if self.verdicts[i].is_none() && self.exps[i].after.is_some_and(|k| k <= next as usize) {
                self.verdicts[i] = Some(self.judge(i, sim));
            }
        }
    }

    /// Counts the records one event made for the checks that read them.
    pub fn observe(&mut self, sim: &Sim, recs: &[Record]) {
        if self.echoes.is_empty()
            && let Some(d) = sim.director.as_ref()
        {
            self.echoes = d.steps.iter().map(|s| s.run.clone()).collect();
        }
        let w = &sim.world;
        for i in 0..self.exps.len() {
            if self.verdicts[i].is_some() {
                continue;
            }
            match &self.exps[i].check {
                Check::Output { on, contains, .. } => {
                    for r in recs {
                        let (Dir::App, Some(text)) = (r.dir, r.why.last().and_then(Why::printed)) else { continue };
                        let ns = &w.netns(r.ns).name;
                        if on.as_deref().is_some_and(|h| !in_host(ns, h))
                            || !text.contains(contains.as_str())
                            || self.echoes.iter().any(|e| e == text)
                        {
                            continue;
                        }
                        let t = &mut self.tally[i];
                        t.count += 1;
                        t.first.get_or_insert_with(|| (r.event.0, format!("#{} {ns} $ {}", r.event.0, text.trim())));
                    }
                }
                Check::Frame { on, container, .. } => {
                    let (host, dev_want) = split_dev(on);
                    if self.tally[i].ns.is_none() {
                        // A container's namespace appears with the step that starts it.
                        self.tally[i].ns = match container {
                            Some(c) => sandbox(sim, host, c),
                            None => Some(host.to_string()),
                        };
                    }
                    let Some(want_ns) = self.tally[i].ns.clone() else { continue };
                    // A frame never seen proves something only where it could have been sent.
                    if !self.tally[i].exists {
                        let ns = w.ns_by_name(&want_ns);
                        self.tally[i].exists =
                            ns.is_some_and(|n| dev_want.is_none_or(|d| w.dev_by_name(n, d).is_some()));
                    }
                    let Some(filter) = &self.filters[i] else { continue };
                    for r in recs {
                        let (Dir::Tx, Some(dev), Some(frame)) = (r.dir, r.dev, r.frame.as_deref()) else { continue };
                        let d = w.dev(dev);
                        if w.netns(d.ns).name != want_ns || dev_want.is_some_and(|x| x != d.name) {
                            continue;
                        }
                        if frame_matches(filter, frame) {
                            let t = &mut self.tally[i];
                            t.count += 1;
                            t.first.get_or_insert_with(|| {
                                (
                                    r.event.0,
                                    format!(
                                        "#{} {} {}",
                                        r.event.0,
                                        w.dev_path(dev),
                                        crate::wire::pretty::summary(frame)
                                    ),
                                )
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Makes every check not made yet, at the end of the run.
    pub fn finish(&mut self, sim: &mut Sim) -> Report {
        for i in 0..self.exps.len() {
            if self.verdicts[i].is_none() {
                self.verdicts[i] = Some(self.judge(i, sim));
            }
        }
        Report::new(self.verdicts.iter().flatten().cloned().collect())
    }

    fn judge(&self, i: usize, sim: &mut Sim) -> Verdict {
        let e = &self.exps[i];
        let t = &self.tally[i];
        let (passed, evidence, event) = match &e.check {
            Check::Output { contains, seen, .. } => {
                tally_verdict(t, *seen, 1, || format!("no program printed `{contains}`"))
            }
            Check::Frame { at_least, count, seen, .. } => {
                let want = count.or(*at_least).unwrap_or(1) as u64;
                let (mut passed, evidence, event) = tally_verdict(t, *seen, want, || match &t.ns {
                    None => "the container's namespace never existed".to_string(),
                    Some(_) => format!("{} matching frame(s) left {}, {want} expected", t.count, frame_place(&e.check)),
                });
                if count.is_some_and(|c| c as u64 != t.count) {
                    passed = false;
                }
                let evidence = match count {
                    Some(c) if *c as u64 != t.count => {
                        format!("{} matching frame(s) left {}, exactly {c} expected", t.count, frame_place(&e.check))
                    }
                    _ => evidence,
                };
                (passed, evidence, event)
            }
            check => match look(sim, check) {
                Ok((passed, evidence)) => (passed, evidence, None),
                Err(m) => (false, m, None),
            },
        };
        let mut evidence = evidence.replace('\n', " ⏎ ");
        if evidence.len() > MAX_EVIDENCE {
            let cut = (0..=MAX_EVIDENCE).rev().find(|&c| evidence.is_char_boundary(c)).unwrap_or(0);
            evidence.truncate(cut);
            evidence.push('…');
        }
        Verdict {
            name: e.name.clone(),
            points: e.points,
            passed,
            evidence,
            event,
            hint: if passed { None } else { e.hint.clone() },
            after: if self.at_end { None } else { e.after },
            events_run: sim.events_run,
        }
    }
}

/// Runs `sim` to its end (or `until`) and grades it; a run that stalls (`Sim::stalled`) is
/// graded where it stopped, and the report says why (`Report::stalled`).
pub fn run(mut sim: Sim, exps: &[Expectation], at_end: bool, until: Option<SimTime>) -> Report {
    let sim = &mut sim;
    let mut g = Grader::new(exps, at_end);
    loop {
        g.before_event(sim);
        if let (Some(u), Some(t)) = (until, sim.next_event_time())
            && t > u
        {
            break;
        }
        let Some(o) = sim.step() else { break };
        g.observe(sim, &sim.records()[o.records.clone()]);
        // Graded runs keep no trace behind them: the tallies hold what the checks need.
        if sim.records().len() > 4096 {
            sim.take_records();
        }
    }
    let mut report = g.finish(sim);
    report.stalled = sim.stalled().map(ToString::to_string);
    report
}

/// Grades a run as it stands now, every check at once (an exercise in the GUI after each
/// typed command), from the records the run has kept since its start.
pub fn now(sim: &mut Sim, exps: &[Expectation]) -> Report {
    let mut g = Grader::new(exps, true);
    g.observe(sim, sim.records());
    // Looks that could change the lab probe a copy of their own; the others only read.
    g.finish(sim)
}

fn tally_verdict(t: &Tally, seen: bool, want: u64, none: impl FnOnce() -> String) -> (bool, String, Option<u64>) {
    match (&t.first, seen) {
        (Some((ev, text)), true) if t.count >= want => (true, format!("{text} ({} in all)", t.count), Some(*ev)),
        (Some((ev, text)), false) => (false, format!("seen: {text} ({} in all)", t.count), Some(*ev)),
        (None, false) if t.exists => (true, "never seen".into(), None),
        (None, false) => (false, none(), None),
        (_, true) => (false, none(), None),
    }
}

/// `host` itself, or one of its containers' namespaces (`host:name`).
fn in_host(ns: &str, host: &str) -> bool {
    ns == host || ns.strip_prefix(host).is_some_and(|r| r.starts_with(':'))
}

/// `ns/dev` → (ns, Some(dev)); `ns` or `ns/*` → (ns, None).
pub fn split_dev(on: &str) -> (&str, Option<&str>) {
    match on.rsplit_once('/') {
        Some((ns, "*")) => (ns, None),
        Some((ns, dev)) => (ns, Some(dev)),
        None => (on, None),
    }
}

fn frame_place(c: &Check) -> String {
    match c {
        Check::Frame { on, container: Some(ct), .. } => format!("{ct} on {on}"),
        Check::Frame { on, .. } => on.clone(),
        _ => String::new(),
    }
}

/// Whether some layer of `frame` shows each field the filter gives (its `on` is the
/// caller's to compare).
pub fn frame_matches(f: &crate::lesson::FrameFilter, frame: &[u8]) -> bool {
    let crate::lesson::FrameFilter { proto, src, dst, sport, dport, vni, len, contains, .. } = f;
    let layers = crate::wire::dissect::dissect(frame);
    let field = |layer: &str, name: &str, want: &str| {
        layers.iter().any(|l| {
            l.name == layer && l.fields.iter().any(|f| f.name == name && f.value.split(' ').next() == Some(want))
        })
    };
    if let Some(p) = proto
        && !layers.iter().any(|l| l.name.eq_ignore_ascii_case(p))
    {
        return false;
    }
    let addr = |name_ip: &str, name_arp: &str, a: Ipv4Addr| {
        let a = a.to_string();
        field("IPv4", name_ip, &a) || field("ARP", name_arp, &a)
    };
    if src.is_some_and(|a| !addr("Source Address", "Sender IP address", a)) {
        return false;
    }
    if dst.is_some_and(|a| !addr("Destination Address", "Target IP address", a)) {
        return false;
    }
    let port = |name: &str, p: u16| {
        let p = p.to_string();
        field("TCP", name, &p) || field("UDP", name, &p)
    };
    if sport.is_some_and(|p| !port("Source Port", p)) || dport.is_some_and(|p| !port("Destination Port", p)) {
        return false;
    }
    if vni.is_some_and(|v| !field("VXLAN", "VXLAN Network Identifier (VNI)", &v.to_string())) {
        return false;
    }
    if len.is_some_and(|n| !field("IPv4", "Total Length", &n.to_string())) {
        return false;
    }
    if let Some(text) = contains
        && !frame.windows(text.len().max(1)).any(|w| w == text.as_bytes())
    {
        return false;
    }
    true
}

/// Whether record `r` is a frame leaving the interface `f.on` names, with `f`'s fields.
pub fn record_matches(f: &crate::lesson::FrameFilter, w: &World, r: &Record) -> bool {
    let (Dir::Tx, Some(dev), Some(frame)) = (r.dir, r.dev, r.frame.as_deref()) else { return false };
    let (ns, want_dev) = split_dev(&f.on);
    let d = w.dev(dev);
    w.netns(d.ns).name == ns && want_dev.is_none_or(|x| x == d.name) && frame_matches(f, frame)
}

/// The sandbox namespace of container `name` on `host`, running or not (a Frame check counts
/// what it sent while it ran).
fn sandbox(sim: &Sim, host: &str, name: &str) -> Option<String> {
    let e = sim.director.as_ref()?.engine(host).ok()?;
    e.container(name).map(|c| e.sandbox_ns(c))
}

/// The namespace `on` names, or its `container`'s sandbox.
pub fn namespace(sim: &Sim, on: &str, container: Option<&str>) -> Result<String, String> {
    let Some(name) = container else {
        return match sim.world.ns_by_name(on) {
            Some(_) => Ok(on.to_string()),
            None => Err(format!("no host or namespace `{on}`")),
        };
    };
    let d = sim.director.as_ref().ok_or_else(|| format!("`container: {name}` needs a scenario with hosts"))?;
    let e = d.engine(on).map_err(|e| e.0)?;
    let c = e.container(name).ok_or_else(|| format!("Error response from daemon: No such container: {name}"))?;
    if c.state != crate::docker::engine::RunState::Running {
        return Err(format!("Error response from daemon: Container {name} is not running"));
    }
    Ok(e.sandbox_ns(c))
}

/// Checks that look at the lab now: (passed, what was seen).
fn look(sim: &mut Sim, check: &Check) -> Result<(bool, String), String> {
    match check {
        Check::Reach { on, container, to, port, yes } => {
            let ns = namespace(sim, on, container.as_deref())?;
            // The probe is the container's own `ping` (busybox's in alpine), so what it quotes
            // reads as the student's would.
            let flavour = container
                .as_deref()
                .and_then(|name| sim.director.as_ref()?.engine(on).ok()?.container(name).map(|c| c.image.clone()))
                .map(|image| crate::docker::images::ping_flavour(&image))
                .unwrap_or_default();
            let (reached, seen) = reach(sim, &ns, to, *port, flavour)?;
            let to = match port {
                Some(p) => format!("{to}:{p}"),
                None => to.clone(),
            };
            let said = if reached { "answers" } else { "does not answer" };
            Ok((reached == *yes, format!("from {ns}, {to} {said}: {seen}")))
        }
        Check::Resolve { on, container, name, answer } => {
            let ns = namespace(sim, on, container.as_deref())?;
            let (addrs, lines) = lookup(sim, &ns, name)?;
            // "Does not resolve": the embedded DNS relays the NXDOMAIN of the upstream it
            // forwards to (libnetwork `resolver.go`), or SERVFAIL when it has none to ask:
            // either is an answer without addresses.
            let passed = if answer.eq_ignore_ascii_case("NXDOMAIN") {
                addrs.is_empty()
            } else {
                addrs.iter().any(|a| a.to_string() == *answer)
            };
            let got = if addrs.is_empty() {
                lines.lines().last().unwrap_or("no answer").to_string()
            } else {
                addrs.iter().map(Ipv4Addr::to_string).collect::<Vec<_>>().join(", ")
            };
            Ok((passed, format!("nslookup {name} in {ns}: {got}")))
        }
        Check::Counter { on, container, table, chain, rule, at_least } => {
            let ns_name = namespace(sim, on, container.as_deref())?;
            let w = &sim.world;
            let ns = w.ns_by_name(&ns_name).ok_or_else(|| format!("no namespace `{ns_name}`"))?;
            let t = table.as_deref().unwrap_or("filter");
            let table =
                crate::kernel::netfilter::Table::from_name(t).ok_or_else(|| format!("no iptables table `{t}`"))?;
            let nf = &w.netns(ns).nf;
            let (pkts, what) = match rule {
                Some(want) => {
                    let rules =
                        nf.rules(table, chain).ok_or_else(|| format!("no chain `{chain}` in {t} on {ns_name}"))?;
                    let r = rules
                        .iter()
                        .find(|r| r.text().contains(want.as_str()))
                        .ok_or_else(|| format!("no rule of {chain} ({t}) on {ns_name} contains `{want}`"))?;
                    (r.counters().0, r.text().to_string())
                }
                None => {
                    let (p, _) = nf
                        .policy_counters(table, chain)
                        .ok_or_else(|| format!("no built-in chain `{chain}` in {t} on {ns_name}"))?;
                    (p, format!("policy of {chain}"))
                }
            };
            Ok((pkts >= *at_least, format!("[{pkts} packets] {what} ({t}, {ns_name})")))
        }
        Check::Table { on, container, show, contains, seen } => {
            let ns_name = namespace(sim, on, container.as_deref())?;
            let what: crate::kernel::show::What = show.parse()?;
            let ns = sim.world.ns_by_name(&ns_name).ok_or_else(|| format!("no namespace `{ns_name}`"))?;
            let text = crate::kernel::show::show(&sim.world, ns, what);
            let words: Vec<&str> = contains.split_whitespace().collect();
            // Whole words: `10.0.0.1` must not match `10.0.0.10`.
            let hit = text.lines().find(|l| words.iter().all(|w| l.split_whitespace().any(|x| x == *w)));
            Ok(match (hit, *seen) {
                (Some(l), true) => (true, format!("{show} on {ns_name}: {}", l.trim())),
                (Some(l), false) => (false, format!("{show} on {ns_name} has: {}", l.trim())),
                (None, true) => {
                    (false, format!("no {show} line on {ns_name} has `{contains}` ({} lines)", text.lines().count()))
                }
                (None, false) => (true, format!("no {show} line on {ns_name} has `{contains}`")),
            })
        }
        Check::Command { on, run, contains, equals } => {
            let out = command(sim, on, run)?;
            let passed = contains.as_ref().is_none_or(|c| out.contains(c.as_str()))
                && equals.as_ref().is_none_or(|e| out.trim() == e.trim());
            Ok((passed, format!("{on}$ {run} → {}", out.trim())))
        }
        // Made from the tallies of the records (`Grader::observe`), never here.
        Check::Output { .. } | Check::Frame { .. } => Err("netsim: this check reads the run's records".into()),
    }
}

/// Lines programs printed in the probe, in `ns`.
fn probe_lines(p: &Sim, ns: &str) -> Vec<String> {
    let w = &p.world;
    p.records()
        .iter()
        .filter_map(|r| match (r.dir, r.why.last()) {
            (Dir::App, Some(why)) if w.netns(r.ns).name == ns => why.printed().map(str::to_string),
            _ => None,
        })
        .collect()
}

/// Runs the probe until `done` says so or `wait` has passed.
fn run_probe(p: &mut Sim, wait: SimTime, mut done: impl FnMut(&World) -> bool) {
    let end = p.now() + wait;
    while !done(&p.world) {
        match p.next_event_time() {
            Some(t) if t <= end => {
                if p.step().is_none() {
                    break;
                }
            }
            _ => break,
        }
    }
}

/// `nslookup name` in `ns`: the addresses, and what it printed.
fn lookup(sim: &mut Sim, ns: &str, name: &str) -> Result<(Vec<Ipv4Addr>, String), String> {
    let mut p = sim.probe();
    let app = p.start(&Traffic::Nslookup {
        at: p.now(),
        ns: ns.into(),
        name: name.into(),
        flavour: Default::default(),
        server: None,
        opts: Default::default(),
    })?;
    run_probe(&mut p, COMMAND_WAIT, |w| w.user.apps[app].done);
    let lines = probe_lines(&p, ns);
    // nslookup prints the server's address first, then `Name:` and the answers.
    let answers = lines.iter().skip_while(|l| !l.starts_with("Name:"));
    let addrs = answers.filter_map(|l| l.strip_prefix("Address:")).filter_map(|a| a.trim().parse().ok()).collect();
    Ok((addrs, lines.join("\n")))
}

/// Whether `to` answers a ping (no port) or accepts a TCP connection to `port`, from `ns`.
fn reach(
    sim: &mut Sim,
    ns: &str,
    to: &str,
    port: Option<u16>,
    flavour: crate::userland::proto::ping::Flavour,
) -> Result<(bool, String), String> {
    let Some(port) = port else {
        let mut p = sim.probe();
        let t = Traffic::Ping {
            at: p.now(),
            ns: ns.into(),
            dst: to.into(),
            count: 1,
            interval: SimTime::from_secs(1),
            size: 56,
            pmtudisc: crate::kernel::sock::Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour,
            ttl: None,
            // The grader names nothing: no PTR queries of its own.
            numeric: true,
            interface: None,
        };
        let app = p.start(&t)?;
        run_probe(&mut p, PROBE_WAIT, |w| w.user.apps[app].done);
        // The probe's own count of replies: another ping in the namespace prints the same
        // kind of lines.
        let received = matches!(p.world.user.apps[app].kind, crate::userland::apps::AppKind::Ping { received, .. } if received > 0);
        let lines = probe_lines(&p, ns);
        // What the probe printed that says why: a reply, or an error (not the header it
        // prints before anything comes back).
        let said = |reply: bool| {
            lines.iter().rev().find(|l| !l.is_empty() && !l.starts_with("PING ") && l.contains("bytes from") == reply)
        };
        return Ok(match (received, said(true)) {
            (true, Some(l)) => (true, format!("ping: {l}")),
            (true, None) => (true, "ping: a reply came".to_string()),
            (false, _) => (
                false,
                format!("ping: {}", said(false).map_or_else(|| format!("no reply within {PROBE_WAIT}"), String::clone)),
            ),
        });
    };
    let dst: Ipv4Addr = match to.parse() {
        Ok(a) => a,
        Err(_) => match lookup(sim, ns, to)? {
            (a, _) if !a.is_empty() => a[0],
            (_, lines) => return Ok((false, format!("{to} does not resolve: {}", lines.lines().last().unwrap_or("")))),
        },
    };
    let mut p = sim.probe();
    let t = Traffic::TcpConnect {
        at: p.now(),
        ns: ns.into(),
        dst,
        dport: port,
        send: String::new(),
        close: true,
        ttl: None,
    };
    let app = p.start(&t)?;
    let ns_id = p.world.ns_by_name(ns).ok_or_else(|| format!("no namespace `{ns}`"))?;
    // Decided by the probe's own connection (another program may talk to the same port): past
    // SYN_SENT it is connected; gone while the program ends, it was refused or timed out.
    let mut connected = false;
    run_probe(&mut p, PROBE_WAIT, |w| {
        connected |=
            w.netns(ns_id).tcp.values().any(|c| c.owner == app && c.state != crate::kernel::tcp::TcpState::SynSent);
        connected || w.user.apps[app].done
    });
    let target = format!("{dst}:{port}:");
    let lines = probe_lines(&p, ns);
    let said = lines.iter().rev().find(|l| l.contains(&target) && !l.ends_with("connected"));
    Ok(match (connected, said) {
        (true, _) => (true, format!("TCP {dst}:{port} connected")),
        (false, Some(l)) => (false, l.clone()),
        (false, None) => (false, format!("TCP {dst}:{port}: no answer within {PROBE_WAIT}")),
    })
}

/// A command typed on `on` in a probe: what it printed at once, then what its program
/// printed until it ended.
fn command(sim: &mut Sim, on: &str, run: &str) -> Result<String, String> {
    let mut p = sim.probe();
    let apps_before = p.world.user.apps.len();
    let printed = p.run_command(on, run)?;
    // The programs the command started (a client in a container, on the host); a command
    // that only looks printed all it prints already.
    let clients: Vec<String> = p
        .director
        .as_ref()
        .and_then(|d| d.transcript.last())
        .map(|l| l.started.iter().filter(|t| !t.is_server()).map(|t| t.ns().to_string()).collect())
        .unwrap_or_default();
    let mut out = match printed {
        Ok(t) => t,
        Err(e) => e,
    };
    if clients.is_empty() {
        return Ok(out);
    }
    let from = p.records().len();
    run_probe(&mut p, COMMAND_WAIT, |w| w.user.apps[apps_before..].iter().filter(|a| a.done).count() >= clients.len());
    for r in &p.records()[from..] {
        let (Dir::App, Some(t)) = (r.dir, r.why.last().and_then(Why::printed)) else { continue };
        if clients.iter().any(|ns| *ns == p.world.netns(r.ns).name) {
            out.push_str(t);
            out.push('\n');
        }
    }
    Ok(out)
}
