//! The app's state apart from any panel: the loaded scenario, the simulator at the event the
//! student is looking at, and the checkpoints that make stepping back exact and instant.
//!
//! Stepping back is replay: the simulator is deterministic (same seed, same events, same
//! bytes), so the state after event n is a checkpoint at or before n plus the events up to n.
//! Commands typed in the console are part of that history: each is injected again at the
//! event count it was typed at, so replaying through it gives the same state as living it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use sim_core::grade::{self, Report, Verdict};
use sim_core::kernel::trace::Record;
use sim_core::lesson::Expectation;
use sim_core::scenario::Loaded;
use sim_core::sim::{EventKind, Sim, StepOutcome};

use crate::challenge::Challenge;

/// A checkpoint every this many events at first: stepping back replays at most this many.
const CHECKPOINT_EVERY: u64 = 64;

/// At most this many checkpoints: past it every other one goes and the spacing doubles, so a
/// long run costs memory in its length's logarithm, not in its length.
const MAX_CHECKPOINTS: usize = 256;

/// How many events the run's length is counted to when a file opens; a longer run shows its
/// timeline as "at least this many" and counts further as the student gets there. The count
/// runs before the first frame is painted, so it must stay well under a second.
const COUNT_AHEAD: u64 = 200_000;

/// A panic of the simulator, caught at the session's edge and said in the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// The event count before the event that failed: the run stops there.
    pub at_events: u64,
    pub message: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the simulator failed on event {} and stops before it: {} (a bug of netsim: please report it with the \
             scenario file)",
            self.at_events + 1,
            self.message
        )
    }
}

/// Runs `f`, turning a panic into its message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_message(p.as_ref()))
}

/// What a panic said (`panic!` with a literal, or with a formatted message).
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A saved state, without the trace records: those only grow, so the live simulator's list,
/// cut to `records`, is the checkpoint's own.
#[derive(Clone)]
struct Checkpoint {
    at: u64,
    sim: Sim,
    records: usize,
}

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

/// The lab's checks (`expect`) as the checklist shows them.
#[derive(Clone, Debug, Default)]
pub struct Grading {
    /// The file's own run, graded once when it loads (`grade::run` on a build of its own,
    /// so the session's run never sees the grader): each verdict shows from the event it
    /// was made at. None in an exercise, whose run is the student's.
    pub scripted: Option<Report>,
    /// The run as it stood after this many events, graded at once (`grade::now`) after a
    /// command the student typed had run.
    pub now: Option<(u64, Report)>,
    /// Why the lab could not be graded (a build that failed, a panic of the grader).
    pub error: Option<String>,
    /// The event the run was last graded at, even if that failed: once per position is
    /// enough, and a grader that fails is not asked again every frame.
    attempted: Option<u64>,
}

/// One check at the current event.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    pub expectation: &'a Expectation,
    /// None while the run has not reached the point where the check is made.
    pub verdict: Option<&'a Verdict>,
}

/// The checklist at the current event.
#[derive(Clone, Debug)]
pub struct Checklist<'a> {
    pub rows: Vec<Row<'a>>,
    /// Points of the checks passed so far, of `total`.
    pub score: u32,
    pub total: u32,
    /// The event the student's history was graded at, when the rows say that.
    pub graded_at: Option<u64>,
    /// Why the graded run stopped before its end (`sim::Stall`): it was graded there.
    pub stalled: Option<&'a str>,
}

/// A command typed in the console, and the event count it was typed at.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub at_events: u64,
    pub host: String,
    pub line: String,
}

/// Records and outcomes of events past the current position, first the next.
#[derive(Default)]
struct Ahead {
    records: VecDeque<Record>,
    outcomes: VecDeque<StepOutcome>,
}

pub struct Session {
    /// Where the scenario came from (None: built from text, as in tests).
    pub path: Option<PathBuf>,
    pub loaded: Loaded,
    /// The simulator after `sim.events_run` events: what every panel shows.
    pub sim: Sim,
    /// What each event run so far did, in order (index = event count before it ran).
    pub outcomes: Vec<StepOutcome>,
    /// The first is the state before any event; spaced `checkpoint_every` apart.
    checkpoints: Vec<Checkpoint>,
    /// What was lived past the current position, after going back: the same events come
    /// again going forward (the run is deterministic, and typing a command clears this), so a
    /// jump forward restores a checkpoint and takes these instead of running them.
    ahead: Ahead,
    checkpoint_every: u64,
    pub typed: Vec<Typed>,
    /// Events in the whole run as known now (the timeline's length).
    pub total_events: u64,
    /// Whether `total_events` is the whole run, or only how far it has been counted.
    pub total_known: bool,
    /// A panic of the simulator: the run stops before the event that caused it.
    pub fault: Option<Fault>,
    /// The file's modification time when it was loaded, for reload-on-change.
    pub mtime: Option<std::time::SystemTime>,
    /// The lab is an exercise: the student types its hidden steps (every step with
    /// `exercise: true`), so the session runs only the steps the file shows, as
    /// `netsim check --commands` does.
    pub exercise: bool,
    pub grading: Grading,
    /// The lab's quiz, asked before each item's moment in challenge mode.
    pub challenge: Challenge,
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
        let sc = &loaded.scenario;
        let exercise = sc.exercise || sc.steps.iter().any(|st| st.hidden);
        // The hidden steps are the answer: the student must neither see them run nor find
        // the lab done already.
        let loaded = if exercise { loaded.with_commands(&loaded.file, "")? } else { loaded };
        let sim = match guarded(|| loaded.build(None)) {
            Ok(r) => r?,
            Err(m) => {
                let file = loaded.file.clone();
                return Err(LoadError {
                    file,
                    line: 1,
                    col: 1,
                    message: format!("the simulator failed while building this scenario: {m} (a bug of netsim)"),
                    help: None,
                });
            }
        };
        let mut s = Session {
            path: None,
            loaded,
            checkpoints: vec![Checkpoint { at: 0, sim: sim.clone(), records: 0 }],
            checkpoint_every: CHECKPOINT_EVERY,
            ahead: Ahead::default(),
            sim,
            outcomes: Vec::new(),
            typed: Vec::new(),
            total_events: 0,
            total_known: false,
            fault: None,
            mtime: None,
            exercise,
            grading: Grading::default(),
            challenge: Challenge::default(),
        };
        s.count_total_from_start();
        s.prepare_challenge();
        if !exercise && !s.loaded.scenario.expect.is_empty() {
            match grade_file_run(&s.loaded) {
                Ok(r) => s.grading.scripted = Some(r),
                Err(m) => s.grading.error = Some(m),
            }
        }
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
        self.position() >= self.total_events && (self.total_known || self.fault.is_some())
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

    /// The quiz item waiting for an answer before the next event can run (challenge mode).
    pub fn quiz_due(&self) -> Option<usize> {
        self.challenge.due(self.position())
    }

    /// Runs one event; None at the end, at a fault, or before a quiz item's moment while it
    /// waits for its answer (`quiz_due`).
    pub fn step(&mut self) -> Option<&StepOutcome> {
        if self.quiz_due().is_some() {
            return None;
        }
        self.step_unasked()
    }

    /// Runs one event whatever the quiz waits for: replaying events already lived, to go back.
    fn step_unasked(&mut self) -> Option<&StepOutcome> {
        let here = self.sim.events_run;
        if self.fault.as_ref().is_some_and(|f| f.at_events <= here) {
            return None;
        }
        let until = self.loaded.scenario.until;
        let (sim, typed, outcomes) = (&mut self.sim, &self.typed, &mut self.outcomes);
        match guarded(|| Self::advance(sim, typed, outcomes, until, here + 1)) {
            Ok(false) => {
                // The true end: the count so far is the whole run.
                self.total_events = here;
                self.total_known = true;
                return None;
            }
            Ok(true) => {}
            Err(message) => {
                // The event left the world half-changed: put back the state before it, by
                // replaying from a checkpoint (those events ran before without failing), and
                // never run that event again.
                self.fault = Some(Fault { at_events: here, message });
                self.total_events = here;
                self.total_known = true;
                self.rewind(here);
                while self.position() < here && self.step_unasked().is_some() {}
                return None;
            }
        }
        if self.sim.events_run > self.total_events {
            self.total_events = self.sim.events_run;
        }
        // The event was lived before: what it left ahead is here now.
        if let Some(o) = self.ahead.outcomes.pop_front() {
            self.ahead.records.drain(..o.records.len().min(self.ahead.records.len()));
        }
        self.checkpoint();
        self.outcomes.last()
    }

    fn checkpoint(&mut self) {
        let n = self.sim.events_run;
        if !n.is_multiple_of(self.checkpoint_every) || self.checkpoints.last().is_some_and(|c| c.at >= n) {
            return;
        }
        let (sim, records) = (self.sim.without_records(), self.sim.records().len());
        self.checkpoints.push(Checkpoint { at: n, sim, records });
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            self.checkpoint_every *= 2;
            let every = self.checkpoint_every;
            self.checkpoints.retain(|c| c.at.is_multiple_of(every));
        }
    }

    /// Puts back the checkpoint at or before `n` events (the one at 0 is never removed); what
    /// the events after it did is kept ahead.
    fn rewind(&mut self, n: u64) {
        let Some(cp) = self.checkpoints.iter().rev().find(|c| c.at <= n) else { return };
        let mut records = self.sim.take_records();
        let later = records.split_off(cp.records.min(records.len()));
        for r in later.into_iter().rev() {
            self.ahead.records.push_front(r);
        }
        for o in self.outcomes.split_off((cp.at as usize).min(self.outcomes.len())).into_iter().rev() {
            self.ahead.outcomes.push_front(o);
        }
        self.sim.restore(&cp.sim, records);
    }

    /// Jumps forward to the last checkpoint at or before `n` that lies within what was lived
    /// ahead, taking its records and outcomes instead of running its events again.
    fn skip_ahead(&mut self, n: u64) {
        let here = self.position();
        let lived = here + self.ahead.outcomes.len() as u64;
        // Going forward stops before a quiz item waiting for its answer: never jump past one.
        let stop = self.challenge.next_stop(here).map_or(n.min(lived), |q| q.min(n).min(lived));
        let Some(cp) = self.checkpoints.iter().rev().find(|c| c.at > here && c.at <= stop) else { return };
        let mut records = self.sim.take_records();
        let take = cp.records.saturating_sub(records.len()).min(self.ahead.records.len());
        records.extend(self.ahead.records.drain(..take));
        self.outcomes.extend(self.ahead.outcomes.drain(..(cp.at - here) as usize));
        self.sim.restore(&cp.sim, records);
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

    /// Runs to the end of the run, or `COUNT_AHEAD` events on when a long run's end is not
    /// known yet, so one click never freezes the window.
    /// What each step's program printed (ping, curl, wget, nslookup, mysql), by transcript
    /// position: the lines in the program's namespace whose event descends from the step's
    /// (each event's cause is the event that scheduled it), as a terminal shows a command's
    /// own output. Another program's lines in that namespace (a server answering someone
    /// else, a second program started meanwhile) are not this one's, and neither are the
    /// embedded DNS's notes.
    pub fn program_output(&self) -> std::collections::HashMap<usize, Vec<String>> {
        use sim_core::kernel::trace::{Dir, Why};
        use sim_core::userland::apps::Traffic;
        let mut out: std::collections::HashMap<usize, Vec<String>> = std::collections::HashMap::new();
        let Some(d) = self.sim.director.as_deref() else { return out };
        let program_ns: Vec<Option<&str>> = d
            .transcript
            .iter()
            .map(|log| {
                let client = matches!(log.output, Ok(ref t) if t.is_empty());
                log.started
                    .iter()
                    .find(|t| {
                        matches!(
                            t,
                            Traffic::Ping { .. }
                                | Traffic::Curl { .. }
                                | Traffic::Nslookup { .. }
                                | Traffic::Mysql { .. }
                                | Traffic::UdpSend { .. }
                                | Traffic::TcpConnect { .. }
                        )
                    })
                    .filter(|_| client)
                    .map(|t| t.ns())
            })
            .collect();
        if program_ns.iter().all(Option::is_none) {
            return out;
        }
        // The transcript position of each step that ran, by step index.
        let position: std::collections::HashMap<usize, usize> =
            d.transcript.iter().enumerate().map(|(k, log)| (log.index, k)).collect();
        // Which step each event descends from: events run in order and a cause runs before
        // what it caused, so one pass settles it. Event n is `outcomes[n - 1]`.
        let mut owner: Vec<Option<usize>> = vec![None; self.outcomes.len() + 1];
        for (j, o) in self.outcomes.iter().enumerate() {
            owner[j + 1] = match o.what {
                EventKind::Step(i) => position.get(&(i as usize)).copied(),
                _ => o.cause.and_then(|c| owner.get(c.0 as usize).copied().flatten()),
            };
        }
        let world = &self.sim.world;
        for r in self.sim.records().iter().filter(|r| r.dir == Dir::App) {
            let Some(text) = r.why.last().and_then(Why::printed) else { continue };
            let Some(k) = owner.get(r.event.0 as usize).copied().flatten() else { continue };
            let ns = world.netns(r.ns).name.as_str();
            if program_ns[k] != Some(ns) || text.starts_with("embedded DNS:") {
                continue;
            }
            // The command line itself, echoed when the step ran, is the prompt's.
            if d.transcript[k].host == ns && *text == d.transcript[k].line {
                continue;
            }
            out.entry(k).or_default().push(text.to_string());
        }
        out
    }

    pub fn run_to_end(&mut self) {
        let stop = self.position().saturating_add(COUNT_AHEAD);
        while self.position() < stop && self.step().is_some() {}
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

    /// Puts the simulator in exactly the state it had after `n` events (forward or back);
    /// going forward stops before a quiz item waiting for its answer.
    pub fn go_to(&mut self, n: u64) {
        if n > self.position() {
            self.skip_ahead(n);
        }
        if n < self.position() {
            self.rewind(n);
            // Going back asks nothing: a moment passed with the challenge off (or moved by
            // a typed command) must not keep the student from the events before it.
            while self.position() < n && self.step_unasked().is_some() {}
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
        let mut probe = self.sim.without_records();
        let typed_here: Vec<Typed> = self.typed.iter().filter(|t| t.at_events == here).cloned().collect();
        guarded(move || {
            for t in &typed_here {
                probe.type_command(&t.host, &t.line)?;
            }
            probe.type_command(host, line)
        })
        .map_err(|m| format!("the simulator failed on this command: {m} (a bug of netsim)"))??;
        self.typed.retain(|t| t.at_events <= here);
        // Checkpoints after this point lived a history without the command, and so did a
        // fault after it.
        self.checkpoints.retain(|c| c.at <= here);
        self.ahead = Ahead::default();
        self.fault = None;
        self.typed.push(Typed { at_events: here, host: host.into(), line: line.into() });
        // A grading after this point graded a history that is gone now.
        if self.grading.now.as_ref().is_some_and(|(at, _)| *at > here) {
            self.grading.now = None;
        }
        if self.grading.attempted.is_some_and(|at| at > here) {
            self.grading.attempted = None;
        }
        self.count_total_from_start();
        // The quiz's moments and the simulator's answers are those of the new history.
        self.prepare_challenge();
        Ok(())
    }

    /// Places the quiz on a complete run of the history as it stands (the file's steps and
    /// the commands typed), traced, from the state before the first event; answers given
    /// so far are kept.
    fn prepare_challenge(&mut self) {
        let quiz = &self.loaded.scenario.quiz;
        if quiz.is_empty() {
            return;
        }
        let Some(first) = self.checkpoints.first() else { return };
        let mut run = first.sim.clone();
        run.world.trace = true;
        let (typed, until) = (&self.typed, self.loaded.scenario.until);
        let prepared = guarded(|| {
            let mut outcomes = Vec::new();
            Self::advance(&mut run, typed, &mut outcomes, until, COUNT_AHEAD);
            Challenge::from_run(quiz, &run, &outcomes)
        });
        let mut c = match prepared {
            Ok(c) => c,
            Err(m) => {
                Challenge::failed(quiz, format!("the simulator failed while preparing the quiz: {m} (a bug of netsim)"))
            }
        };
        if !self.challenge.items.is_empty() {
            c.keep_answers(&self.challenge);
        }
        self.challenge = c;
    }

    /// The checks at the current event. The file's run and this one are the same history
    /// up to the first typed command, so its verdicts hold until there; past it only a
    /// grading of this run (`grade_now`) says anything. A check not made yet is pending,
    /// also when stepping back before the event it was made at.
    pub fn checklist(&self) -> Checklist<'_> {
        let here = self.position();
        let exps = &self.loaded.scenario.expect;
        let total = exps.iter().map(|e| e.points).sum();
        let (verdicts, graded_at, stalled): (Vec<Option<&Verdict>>, _, _) = match &self.grading.now {
            Some((at, r)) if here >= *at => {
                ((0..exps.len()).map(|i| r.verdicts.get(i)).collect(), Some(*at), r.stalled.as_deref())
            }
            _ => {
                let same_until = self.typed.iter().map(|t| t.at_events).min().unwrap_or(u64::MAX);
                let made = |i: usize| {
                    let v = self.grading.scripted.as_ref()?.verdicts.get(i)?;
                    (v.events_run <= here && v.events_run <= same_until).then_some(v)
                };
                let stalled = self.grading.scripted.as_ref().and_then(|r| r.stalled.as_deref());
                ((0..exps.len()).map(made).collect(), None, stalled)
            }
        };
        let rows: Vec<Row> =
            exps.iter().zip(verdicts).map(|(expectation, verdict)| Row { expectation, verdict }).collect();
        let score = rows.iter().filter_map(|r| r.verdict).filter(|v| v.passed).map(|v| v.points).sum();
        Checklist { rows, score, total, graded_at, stalled }
    }

    /// Grades the run as it stands now, every check at once, as `netsim check --commands`
    /// grades the student's commands at the end.
    pub fn grade_now(&mut self) {
        let exps = self.loaded.scenario.expect.clone();
        if exps.is_empty() {
            return;
        }
        let here = self.position();
        self.grading.attempted = Some(here);
        // The grader reads the session's records; its probes make their own.
        let sim = &mut self.sim;
        let r = guarded(|| grade::now(sim, &exps));
        match r {
            Ok(r) => {
                self.grading.now = Some((here, r));
                self.grading.error = None;
            }
            Err(m) => self.grading.error = Some(format!("the grader failed: {m} (a bug of netsim)")),
        }
    }

    /// Grades the run now (`grade_now`) when a command the student typed has just run, or
    /// the run has reached its end after one: the moments the student wants to know whether
    /// it worked. Called every frame; grades each position once.
    pub fn grade_if_due(&mut self) {
        if self.typed.is_empty() || self.loaded.scenario.expect.is_empty() {
            return;
        }
        if self.grading.attempted == Some(self.position()) {
            return;
        }
        let Some(d) = self.sim.director.as_deref() else { return };
        let typed_ran = d.transcript.iter().any(|l| l.index >= d.scripted);
        let just_ran = matches!(
            self.outcomes.last().map(|o| o.what),
            Some(EventKind::Step(i)) if i as usize >= d.scripted
        );
        if just_ran || (typed_ran && self.at_end()) {
            self.grade_now();
        }
    }

    /// The commands typed in the console, one per line as `netsim check --commands` reads
    /// them (`host$ command`).
    pub fn commands_text(&self) -> String {
        self.typed.iter().map(|t| format!("{}$ {}\n", t.host, t.line)).collect()
    }

    /// Where "Save my commands" writes: beside the scenario, `<stem>.commands.txt`.
    pub fn commands_path(&self) -> Option<PathBuf> {
        self.beside("commands.txt")
    }

    /// Where "Save report" writes: beside the scenario, `<stem>.report.json`.
    pub fn report_path(&self) -> Option<PathBuf> {
        self.beside("report.json")
    }

    fn beside(&self, ext: &str) -> Option<PathBuf> {
        let p = self.path.as_ref()?;
        let stem = p.file_stem()?.to_string_lossy();
        Some(p.with_file_name(format!("{stem}.{ext}")))
    }

    /// How many events the whole run has (the scenario's `until` included), counted up to
    /// `COUNT_AHEAD` events: a copy replayed from the start with every typed command, without
    /// tracing. A panic on the way is found here first and kept as the session's fault.
    fn count_total_from_start(&mut self) {
        let Some(first) = self.checkpoints.first() else { return };
        let mut copy = first.sim.clone();
        copy.world.trace = false;
        let (typed, until) = (&self.typed, self.loaded.scenario.until);
        let mut at = 0;
        let r = guarded(|| {
            while copy.events_run < COUNT_AHEAD {
                at = copy.events_run;
                let mut outcomes = Vec::new();
                let target = (copy.events_run + 4096).min(COUNT_AHEAD);
                if !Self::advance(&mut copy, typed, &mut outcomes, until, target) || copy.events_run < target {
                    return true;
                }
            }
            false
        });
        match r {
            Ok(ended) => {
                self.total_events = copy.events_run.max(self.position());
                self.total_known = ended;
            }
            Err(_) => {
                // Which event of the last batch failed is found when the session gets there,
                // and said then (`fault`).
                self.total_events = at.max(self.position());
                self.total_known = false;
            }
        }
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

/// The file's own run graded from start to end, on a build of its own.
fn grade_file_run(loaded: &Loaded) -> Result<Report, String> {
    let sc = &loaded.scenario;
    let sim = loaded.build(None).map_err(|e| format!("the lab does not build for grading: {}", e.message))?;
    guarded(|| grade::run(sim, &sc.expect, false, sc.until))
        .map_err(|m| format!("the grader failed: {m} (a bug of netsim)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::kernel::show::{What, show};

    /// The tutorial with its quiz off: these tests run it through, stopping for nothing.
    fn tutorial() -> Session {
        let mut s = Session::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/swarm-webapp-mysql.ron"))
            .unwrap_or_else(|e| panic!("{e}"));
        s.challenge.on = false;
        s
    }

    /// Everything a panel can show of a state: each record, and each namespace's tables.
    fn fingerprint(sim: &Sim) -> Vec<String> {
        let w = &sim.world;
        let mut out: Vec<String> = sim
            .records()
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

    /// After going back, a jump forward restores a checkpoint ahead and takes the events'
    /// records and outcomes kept from when they were lived: the state, the trace and the
    /// outcomes equal those of a session that ran there event by event.
    #[test]
    fn jumping_forward_over_lived_events_lands_on_exactly_their_state() {
        let mut lived = tutorial();
        lived.run_to_end();
        let total = lived.total_events;
        let mut s = tutorial();
        s.run_to_end();
        for m in [total / 3, 65, total - 1, 130, total, 1, 0, total / 2] {
            s.go_to(m);
            let mut fresh = tutorial();
            fresh.go_to(m);
            assert_eq!(s.position(), m);
            assert_eq!(fingerprint(&s.sim), fingerprint(&fresh.sim), "state after {m} events");
            let ids = |x: &Session| x.outcomes.iter().map(|o| (o.id, o.records.clone())).collect::<Vec<_>>();
            assert_eq!(ids(&s), ids(&fresh), "outcomes after {m} events");
        }
        // What is kept ahead goes when a typed command rewrites the history after it.
        s.go_to(total / 2);
        assert!(!s.ahead.outcomes.is_empty());
        s.type_command("node1", "docker network ls").expect("typed");
        assert!(s.ahead.outcomes.is_empty() && s.ahead.records.is_empty());
    }

    /// A jump forward over lived events still stops before a quiz item waiting for its
    /// answer: here the run was lived to its end with the challenge off, then turned on.
    #[test]
    fn jumping_forward_stops_at_an_unanswered_quiz_item() {
        let mut s = tutorial();
        s.run_to_end();
        let total = s.position();
        s.go_to(0);
        assert_eq!(s.ahead.outcomes.len() as u64, total, "the whole run is kept ahead");
        s.challenge.on = true;
        let first = s.challenge.items.iter().filter_map(|it| it.at).min().expect("an item is asked");
        s.go_to(total);
        assert_eq!(s.position(), first, "stopped before the first item, not past it");
        assert!(s.quiz_due().is_some());
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

    /// A command typed before the quiz's moments moves them with the history it changes;
    /// what was answered stays answered.
    #[test]
    fn a_typed_command_moves_the_quiz_with_the_history_and_keeps_the_answers() {
        let mut s = tutorial();
        s.challenge.on = true;
        let before: Vec<Option<u64>> = s.challenge.items.iter().map(|it| it.at).collect();
        let choice = before[0].expect("the Choice is asked");
        s.go_to(s.total_events);
        assert_eq!((s.position(), s.quiz_due()), (choice, Some(0)), "stopped before step 10");
        let right = s.challenge.items[0].question.as_ref().unwrap().answer;
        assert!(s.challenge.answer(0, right).is_some_and(|a| a.right));
        s.type_command("node1", "docker network ls").unwrap();
        assert!(s.challenge.items[0].answered.as_ref().is_some_and(|(_, a)| a.right), "the answer stays");
        let moved = s.challenge.items[1].at.expect("still asked");
        assert!(moved > before[1].unwrap(), "the typed command's event runs first: {before:?} → {moved}");
        // The new moment is still just before the frame leaves docker_gwbridge.
        s.go_to(s.total_events);
        assert_eq!((s.position(), s.quiz_due()), (moved, Some(1)));
        let f = s.challenge.items[1].quiz.frame.clone().unwrap();
        assert!(!s.sim.records().iter().any(|r| grade::record_matches(&f, &s.sim.world, r)));
        let o = s.step_unasked().expect("an event").clone();
        assert!(s.sim.records()[o.records].iter().any(|r| grade::record_matches(&f, &s.sim.world, r)));
    }

    #[test]
    fn a_rejected_command_changes_nothing() {
        let mut s = tutorial();
        s.run_to_end();
        let before = fingerprint(&s.sim);
        let e = s.type_command("node9", "docker network ls").unwrap_err();
        assert!(e.starts_with("no host `node9`"), "{e}");
        assert!(s.typed.is_empty() && s.at_end());
        assert_eq!(fingerprint(&s.sim), before);
    }

    #[test]
    fn a_bad_file_is_an_error_with_its_position() {
        let e = Session::from_text("bad.ron", "Scenario(name: \"x\", seeed: 1)").err().expect("an error");
        assert_eq!((e.file.as_str(), e.line), ("bad.ron", 1));
        assert!(e.col > 1 && e.message.contains("seeed"), "{e}");
    }

    /// A long run (100 000 pings) opens after counting `COUNT_AHEAD` events, not the whole
    /// run; its checkpoints stay few and hold no trace records, and stepping back through the
    /// thinned checkpoints still lands on exactly the state of that event.
    #[test]
    fn a_long_run_opens_at_once_and_its_checkpoints_stay_few() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/linux/bridge-two-namespaces.ron"),
        )
        .expect("read");
        let long = text.replace(
            "traffic: [",
            "traffic: [\n        Ping(at: \"20s\", ns: \"ns1\", dst: \"10.0.0.2\", count: 100000, interval: \"1ms\"),",
        );
        let mut s = Session::from_text("long.ron", &long).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.total_known && s.total_events == COUNT_AHEAD, "{} {}", s.total_events, s.total_known);
        assert!(!s.at_end());
        s.go_to(40_000);
        assert!(s.checkpoints.len() <= MAX_CHECKPOINTS + 1, "{} checkpoints", s.checkpoints.len());
        assert!(s.checkpoint_every > CHECKPOINT_EVERY, "the spacing doubled");
        assert!(s.checkpoints.iter().all(|c| c.sim.records().is_empty()));
        let want = fingerprint(&s.sim);
        s.go_to(12_345);
        s.go_to(40_000);
        assert_eq!(fingerprint(&s.sim), want);
    }

    /// A panic of the simulator stops the run before the failing event, with the state before
    /// it put back; the rest of the timeline stays usable.
    #[test]
    fn a_simulator_panic_becomes_a_fault_and_the_state_before_it_stays() {
        let mut s =
            Session::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/linux/bridge-two-namespaces.ron"))
                .unwrap_or_else(|e| panic!("{e}"));
        let before = fingerprint(&s.sim);
        // A world whose applications vanished: the next application timer indexes nothing.
        s.sim.world.user.apps.clear();
        s.run_to_end();
        let f = s.fault.clone().expect("the panic is kept as a fault");
        assert!(f.message.contains("index out of bounds"), "{f}");
        assert_eq!(s.position(), f.at_events);
        assert!(s.at_end() && s.step().is_none());
        // The state shown is the one replayed from a checkpoint, not the broken one.
        assert!(!s.sim.world.user.apps.is_empty());
        s.go_to(0);
        assert_eq!(fingerprint(&s.sim), before);
    }
}
