//! The app's state apart from any panel: the loaded scenario, the simulator at the event the
//! student is looking at, and the checkpoints that make stepping back exact and instant.
//!
//! Stepping back is replay: the simulator is deterministic (same seed, same events, same
//! bytes), so the state after event n is a checkpoint at or before n plus the events up to n.
//! Commands typed in the console are part of that history: each is injected again at the
//! event count it was typed at, so replaying through it gives the same state as living it.

use std::path::{Path, PathBuf};

use sim_core::scenario::Loaded;
use sim_core::sim::{EventKind, Sim, StepOutcome};

/// A checkpoint every this many events: stepping back replays at most this many.
const CHECKPOINT_EVERY: u64 = 64;

/// A scenario file that did not load, said as the CLI says it: `file:line:col: message`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\nhelp: {h}")?;
        }
        Ok(())
    }
}

impl From<Box<sim_core::scenario::ScenarioError>> for LoadError {
    fn from(e: Box<sim_core::scenario::ScenarioError>) -> Self {
        LoadError { file: e.file.clone(), line: e.line, col: e.col, message: e.message.clone(), help: e.help.clone() }
    }
}

/// A command typed in the console, and the event count it was typed at.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub at_events: u64,
    pub host: String,
    pub line: String,
}

pub struct Session {
    /// Where the scenario came from (None: built from text, as in tests).
    pub path: Option<PathBuf>,
    pub loaded: Loaded,
    /// The simulator after `sim.events_run` events: what every panel shows.
    pub sim: Sim,
    /// What each event run so far did, in order (index = event count before it ran).
    pub outcomes: Vec<StepOutcome>,
    /// (events run, state): the first is the state before any event.
    checkpoints: Vec<(u64, Sim)>,
    pub typed: Vec<Typed>,
    /// Events in the whole run as known now (the timeline's length).
    pub total_events: u64,
    /// The file's modification time when it was loaded, for reload-on-change.
    pub mtime: Option<std::time::SystemTime>,
}

impl Session {
    pub fn open(path: &Path) -> Result<Session, LoadError> {
        let loaded = Loaded::from_file(path)?;
        let mut s = Session::from_loaded(loaded)?;
        s.path = Some(path.to_path_buf());
        s.mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(s)
    }

    pub fn from_text(file: &str, text: &str) -> Result<Session, LoadError> {
        Session::from_loaded(Loaded::from_str(file, text)?)
    }

    fn from_loaded(loaded: Loaded) -> Result<Session, LoadError> {
        let sim = loaded.build(None)?;
        let mut s = Session {
            path: None,
            loaded,
            checkpoints: vec![(0, sim.clone())],
            sim,
            outcomes: Vec::new(),
            typed: Vec::new(),
            total_events: 0,
            mtime: None,
        };
        s.total_events = s.count_total_from_start();
        Ok(s)
    }

    pub fn name(&self) -> &str {
        &self.loaded.scenario.name
    }

    /// Events run so far: the position on the timeline.
    pub fn position(&self) -> u64 {
        self.sim.events_run
    }

    /// Whether every event of the run (to the scenario's `until`, typed commands included)
    /// has run.
    pub fn at_end(&self) -> bool {
        self.position() >= self.total_events
    }

    /// Runs events on `sim` up to `target` events (or the end), injecting typed commands at
    /// their counts; returns whether any event ran.
    fn advance(
        sim: &mut Sim,
        typed: &[Typed],
        outcomes: &mut Vec<StepOutcome>,
        until: Option<sim_core::SimTime>,
        target: u64,
    ) -> bool {
        let mut ran = false;
        while sim.events_run < target {
            // A command typed at this count goes in just before the next event, live or in
            // replay alike; its step event then runs at once.
            let mut typed_now = false;
            let here = sim.events_run;
            for t in typed.iter().filter(|t| t.at_events == here) {
                // Checked when typed; a replay cannot fail where the original did not.
                typed_now |= sim.type_command(&t.host, &t.line).is_ok();
            }
            if !typed_now
                && let (Some(u), Some(next)) = (until, sim.next_event_time())
                && next > u
            {
                break;
            }
            match sim.step() {
                Some(o) => {
                    outcomes.push(o);
                    ran = true;
                }
                None => break,
            }
        }
        ran
    }

    /// Runs one event; None at the end.
    pub fn step(&mut self) -> Option<&StepOutcome> {
        let target = self.sim.events_run + 1;
        if !Self::advance(&mut self.sim, &self.typed, &mut self.outcomes, self.loaded.scenario.until, target) {
            return None;
        }
        self.checkpoint();
        self.outcomes.last()
    }

    fn checkpoint(&mut self) {
        let n = self.sim.events_run;
        if n.is_multiple_of(CHECKPOINT_EVERY) && self.checkpoints.last().is_none_or(|(c, _)| *c < n) {
            self.checkpoints.push((n, self.sim.clone()));
        }
    }

    /// Runs events until one of the scenario's steps has run (or the end); returns how many ran.
    pub fn run_to_next_step(&mut self) -> u64 {
        let start = self.position();
        while let Some(o) = self.step() {
            if matches!(o.what, EventKind::Step(_)) {
                break;
            }
        }
        self.position() - start
    }

    pub fn run_to_end(&mut self) {
        while self.step().is_some() {}
    }

    /// One event back.
    pub fn back(&mut self) -> bool {
        let n = self.position();
        if n == 0 {
            return false;
        }
        self.go_to(n - 1);
        true
    }

    /// Puts the simulator in exactly the state it had after `n` events (forward or back).
    pub fn go_to(&mut self, n: u64) {
        if n < self.position() {
            let (at, cp) = self
                .checkpoints
                .iter()
                .rev()
                .find(|(at, _)| *at <= n)
                .cloned()
                .expect("the checkpoint at 0 events is never removed");
            self.sim = cp;
            self.outcomes.truncate(at as usize);
        }
        while self.position() < n && self.step().is_some() {}
    }

    /// A command typed on a host at the current event; it runs with the next step. Typing
    /// after stepping back rewrites history: what was typed later is dropped.
    pub fn type_command(&mut self, host: &str, line: &str) -> Result<(), String> {
        let line = line.trim();
        if line.is_empty() {
            return Err("type a command, e.g. `docker network ls`".into());
        }
        let here = self.position();
        // Check on a copy, with the commands already typed here, so a rejected one changes nothing.
        let mut probe = self.sim.clone();
        for t in self.typed.iter().filter(|t| t.at_events == here) {
            probe.type_command(&t.host, &t.line)?;
        }
        probe.type_command(host, line)?;
        self.typed.retain(|t| t.at_events <= here);
        // Checkpoints after this point lived a history without the command.
        self.checkpoints.retain(|(at, _)| *at <= here);
        self.typed.push(Typed { at_events: here, host: host.into(), line: line.into() });
        self.total_events = self.count_total_from_start();
        Ok(())
    }

    /// How many events the whole run has (the scenario's `until` included): a copy replayed
    /// from the start with every typed command, without tracing.
    fn count_total_from_start(&self) -> u64 {
        let (_, first) = &self.checkpoints[0];
        let mut copy = first.clone();
        copy.world.trace = false;
        let mut outcomes = Vec::new();
        Self::advance(&mut copy, &self.typed, &mut outcomes, self.loaded.scenario.until, u64::MAX);
        copy.events_run
    }

    /// The hosts a command can be typed on.
    pub fn hosts(&self) -> Vec<String> {
        self.sim.director.as_ref().map(|d| d.hosts.iter().map(|h| h.name.clone()).collect()).unwrap_or_default()
    }

    /// Whether the file changed on disk since it was loaded.
    pub fn file_changed(&self) -> bool {
        match (&self.path, self.mtime) {
            (Some(p), Some(t)) => std::fs::metadata(p).and_then(|m| m.modified()).is_ok_and(|m| m != t),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::show::{What, show};

    fn tutorial() -> Session {
        Session::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/swarm-webapp-mysql.ron"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Everything a panel can show of a state: each record, and each namespace's tables.
    fn fingerprint(sim: &Sim) -> Vec<String> {
        let w = &sim.world;
        let mut out: Vec<String> = w
            .records
            .iter()
            .map(|r| format!("{} {} {:?} {:?} {:?} {:?}", r.event.0, r.time, r.dev, r.dir, r.frame, r.why))
            .collect();
        for n in w.ns.iter().filter(|n| !n.dead) {
            for what in [What::Addr, What::Route, What::Neigh, What::Fdb, What::Iptables, What::Conntrack, What::Ipvs] {
                out.push(format!("{}: {}", n.name, show(w, n.id, what)));
            }
        }
        out.push(format!("now {} pending {}", sim.now(), sim.pending_events()));
        out
    }

    #[test]
    fn stepping_back_lands_on_exactly_the_state_of_that_event() {
        let mut s = tutorial();
        let total = s.total_events;
        assert!(total > 300, "the tutorial has hundreds of events, got {total}");
        // The state after each of these counts, lived forward once.
        let marks = [0, 1, 63, 64, 65, 150, total / 2, total - 1];
        let mut lived = Vec::new();
        for &m in &marks {
            s.go_to(m);
            assert_eq!(s.position(), m);
            lived.push(fingerprint(&s.sim));
        }
        s.run_to_end();
        assert_eq!(s.position(), total, "the precomputed total is the real one");
        assert!(s.at_end());
        // Back to each, from the end, in reverse: the same state, record for record.
        for (&m, fp) in marks.iter().zip(&lived).rev() {
            s.go_to(m);
            assert_eq!(&fingerprint(&s.sim), fp, "state after {m} events differs when reached backwards");
            assert_eq!(s.outcomes.len() as u64, m);
        }
        // One event back from the end equals the lived state there.
        s.run_to_end();
        assert!(s.back());
        assert_eq!(&fingerprint(&s.sim), lived.last().unwrap());
    }

    #[test]
    fn a_typed_command_is_part_of_the_history_that_replays() {
        let mut s = tutorial();
        s.run_to_next_step();
        s.run_to_next_step();
        let here = s.position();
        s.type_command("node1", "docker network create -d bridge typednet").unwrap();
        assert!(!s.at_end());
        s.run_to_end();
        let end = fingerprint(&s.sim);
        assert!(s.sim.director.as_ref().unwrap().transcript.iter().any(|l| l.line.contains("typednet")));
        assert_eq!(s.position(), s.total_events);
        // Back before the command and forward again: it runs again, at the same point.
        s.go_to(here - 1);
        assert!(!s.sim.director.as_ref().unwrap().transcript.iter().any(|l| l.line.contains("typednet")));
        s.run_to_end();
        assert_eq!(fingerprint(&s.sim), end);
        // Typing earlier rewrites history: the later command is gone.
        s.go_to(1);
        s.type_command("node1", "docker network ls").unwrap();
        s.run_to_end();
        let lines: Vec<String> = s.sim.director.as_ref().unwrap().transcript.iter().map(|l| l.line.clone()).collect();
        assert!(!lines.iter().any(|l| l.contains("typednet")), "{lines:#?}");
        assert!(lines.iter().any(|l| l == "docker network ls"));
    }

    #[test]
    fn a_rejected_command_changes_nothing() {
        let mut s = tutorial();
        s.run_to_end();
        let before = fingerprint(&s.sim);
        let e = s.type_command("node1", "docker network create -d overlay myoverlaynetwork").unwrap_err();
        assert!(e.starts_with("Error response from daemon:"), "{e}");
        assert!(s.typed.is_empty() && s.at_end());
        assert_eq!(fingerprint(&s.sim), before);
    }

    #[test]
    fn a_bad_file_is_an_error_with_its_position() {
        let e = Session::from_text("bad.ron", "Scenario(name: \"x\", seeed: 1)").err().expect("an error");
        assert_eq!((e.file.as_str(), e.line), ("bad.ron", 1));
        assert!(e.col > 1 && e.message.contains("seeed"), "{e}");
    }
}
