//! The event loop: pops one event at a time, hands it to the kernel (a frame, a timer), to
//! the programs (their timers) or to the director (a scenario's step), queues what it
//! scheduled with the current event as cause, and appends what it recorded to the trace.
//!
//! The trace is the run's append-only log and lives here, not in the kernel: the kernel
//! hands over each event's records when the event is over, so a copy of the run (a GUI
//! checkpoint, a grader's probe) is a copy of its state plus a position in the log.

use std::ops::Range;

use crate::director::Director;
use crate::engine::{EventId, SimTime};
use crate::kernel::trace::Record;
use crate::kernel::{DevId, Event, NO_CAUSE, NsId, Queued, Userland};
use crate::userland::{Programs, World};

/// What one step did.
#[derive(Clone, Debug)]
pub struct StepOutcome {
    pub id: EventId,
    pub cause: Option<EventId>,
    pub time: SimTime,
    pub what: EventKind,
    /// The trace records this event produced, as indices into `Sim::records()`.
    pub records: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A frame crossed a link and arrived on this device.
    Arrive(DevId),
    /// A frame the device's netem held left it.
    Dequeue(DevId),
    NeighTimer,
    /// A TCP connection's retransmission timer.
    TcpTimer,
    /// A fragment queue's reassembly timer.
    FragTimer,
    AppTimer(usize),
    /// The scenario's step with this index ran.
    Step(u32),
    /// The swarm's orchestrator acted between steps: a task ended, or one waiting out its
    /// restart delay started (`Director::wake`).
    Orchestrator,
}

/// When `run_until` stops.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// Run every event at or before this time, then set the clock to it.
    Time(SimTime),
    /// Run this many events (fewer if the queue empties).
    Events(u64),
    /// Run until no event is left.
    Idle,
}

/// How many events in a row may run at one simulated instant before the run is declared
/// stuck. A lab's busiest instant (a broadcast flooded over a big bridge, a service's tasks
/// started together) runs thousands; a loop with no delay in it, such as two UDP echo apps
/// answering each other over `lo`, runs forever without the clock moving, so neither
/// `--until` nor the end of the queue would ever stop it. A big world may legitimately run
/// more: the steps of a Docker lab all run at one instant, and a thousand `docker run`s
/// flood their announcements over a thousand-port bridge together, so the limit grows to
/// one event per pair of devices (`Sim::stall_limit`).
pub const STALL_EVENTS: u64 = 100_000;

/// How many of the stuck instant's namespaces the message names.
const STALL_NAMES: usize = 8;

/// Why a run stopped although events were still queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    pub time: SimTime,
    pub events: u64,
    /// The namespaces of the last events, most active first.
    pub namespaces: Vec<String>,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the run cannot advance: {} events in a row at t={}, with no delay between them (a loop that \
             takes no time, such as frames going round bridges joined by links of `delay: \"0s\"`), so \
             it was stopped",
            self.events, self.time
        )?;
        if !self.namespaces.is_empty() {
            write!(f, "; the events were in {}", self.namespaces.join(", "))?;
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct Sim {
    pub world: World,
    /// The trace: every record of the run so far, in order (`take_records` hands them over).
    records: Vec<Record>,
    /// Steps the current event made due, queued after what the kernel scheduled.
    steps_due: Vec<(SimTime, u32)>,
    pub events_run: u64,
    /// The scenario's steps (Docker commands, programs typed on hosts), if it has any.
    pub director: Option<Box<Director>>,
    /// Events run so far at the current instant (at most `STALL_EVENTS`).
    at_instant: u64,
    stalled: Option<Stall>,
}

impl Sim {
    pub fn new(mut world: World) -> Sim {
        // What the world queued as it was built (programs' first timers) has no cause; from
        // here on, what it queues is caused by the event running, or the last to run.
        world.cause = world.cur;
        // Queued again in time order (then as added): a lane keeps its delay until it empties,
        // so the earliest events take the lanes and give them back first, as a run's own
        // events do; in the order added, a late program start could hold one for a second
        // and send the run's frames through the heap meanwhile.
        let mut initial = world.queue.take_since(0);
        initial.sort_by_key(|(t, _)| *t);
        for (t, x) in initial {
            world.queue.push(t, x);
        }
        let records = std::mem::take(&mut world.recorded);
        Sim { world, records, steps_due: Vec::new(), events_run: 0, director: None, at_instant: 0, stalled: None }
    }

    /// A simulation driven by a scenario's steps; the first is queued at its time.
    pub fn with_director(world: World, director: Director) -> Sim {
        let mut sim = Sim::new(world);
        if !director.steps.is_empty() {
            let t = director.due(0).unwrap_or(SimTime::ZERO);
            sim.world.queue.push(t, (Queued::Step(0), NO_CAUSE));
        }
        sim.director = Some(Box::new(director));
        sim
    }

    /// Runs step `i` and queues the one after it: at its own time, or when this step's
    /// program has finished.
    fn run_step(&mut self, i: u32) -> Result<(), crate::kernel::PlanError> {
        let Some(d) = self.director.as_mut() else { return Ok(()) };
        let app = d.run_step(i as usize, &mut self.world)?;
        let next = i as usize + 1;
        // A typed command runs on its own: the scenario's chain of steps goes on as written.
        if next < d.scripted {
            let now = self.world.now;
            match (d.due(next), app) {
                (Some(t), _) => self.steps_due.push((t.max(now), next as u32)),
                (None, Some(a)) => d.waiting = Some(a),
                (None, None) => {
                    let took = d.transcript.last().map(|l| l.took).unwrap_or_default();
                    self.steps_due.push((now + took, next as u32))
                }
            }
        } else if next == d.scripted {
            // The file's last step: no command follows to carry a foreground container's exit,
            // so it comes when the program ends (or at once, for a tool's).
            match app {
                Some(a) => d.waiting = Some(a),
                None => d.finish_foreground_now(&mut self.world)?,
            }
        }
        Ok(())
    }

    /// A command typed on a host now, as a student would in a shell (`docker run …`, `ping …`):
    /// checked first, then queued to run at the current time; the scenario's own steps go on.
    /// Returns the step's index.
    pub fn type_command(&mut self, on: &str, run: &str) -> Result<usize, String> {
        let Some(d) = self.director.as_mut() else {
            return Err("this scenario has no hosts to type commands on (add `hosts:` to it)".into());
        };
        d.check_typed(on, run)?;
        // From here the run leaves the path the load check followed.
        d.prepare(None);
        d.steps.push(crate::director::Step::typed(Some(self.world.now), on, run));
        let i = d.steps.len() - 1;
        self.world.queue.push(self.world.now, (Queued::Step(i as u32), NO_CAUSE));
        Ok(i)
    }

    /// Types a command and runs the simulation until the command has run (not until a
    /// program it started ends): what it printed, or its failure in Docker's or the shell's
    /// words.
    pub fn run_command(&mut self, on: &str, run: &str) -> Result<Result<String, String>, String> {
        let i = self.type_command(on, run)?;
        loop {
            if let Some(log) = self.director.as_ref().and_then(|d| d.transcript.iter().rev().find(|l| l.index == i)) {
                return Ok(log.output.clone());
            }
            if self.run_until(Until::Events(1)) == 0 {
                return Err(format!("`{run}` on {on} never ran: the run stopped first"));
            }
        }
    }

    pub fn now(&self) -> SimTime {
        self.world.now
    }

    /// The scenario step the next event runs, if it is one: the steps before it are over.
    pub fn next_step(&self) -> Option<u32> {
        match self.world.queue.peek() {
            Some((Queued::Step(i), _)) => Some(*i),
            _ => None,
        }
    }

    /// A copy of the run as it stands, for looking without touching it: the scenario's
    /// remaining steps are dropped from it, it keeps no records of the run so far, and it
    /// records from now on (what a check reads).
    pub fn probe(&mut self) -> Sim {
        let mut p = self.without_records();
        p.world.queue.retain(|(ev, _)| !matches!(ev, Queued::Step(_)));
        if let Some(d) = p.director.as_mut() {
            d.next = d.scripted;
            d.waiting = None;
        }
        p.world.trace = true;
        p
    }

    /// Starts a program now, as a step that runs one does; returns its app index.
    pub fn start(&mut self, t: &crate::userland::apps::Traffic) -> Result<usize, String> {
        let i = self.world.add_traffic(t)?;
        self.absorb();
        Ok(i)
    }

    /// Takes in what the kernel did outside an event (a program started, a frame handed to a
    /// device by hand): its records join the trace, as the current event's (what it queued
    /// is queued already, caused by the current event).
    pub(crate) fn absorb(&mut self) {
        self.records.append(&mut self.world.recorded);
    }

    /// A copy of the run's state without its trace (a checkpoint: the trace up to now is
    /// `records()[..len]`, which the copy does not repeat).
    pub fn without_records(&mut self) -> Sim {
        let records = std::mem::take(&mut self.records);
        let copy = self.clone();
        self.records = records;
        copy
    }

    /// Puts a checkpoint's state back (`without_records` made it) with `records` as its trace:
    /// the run's records up to where the checkpoint was taken.
    pub fn restore(&mut self, checkpoint: &Sim, records: Vec<Record>) {
        *self = checkpoint.clone();
        self.records = records;
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Every printed line so far, as (namespace, line): the programs', the steps' transcript
    /// and netsim's notes, as the hop log shows them.
    pub fn app_output(&self) -> Vec<(String, String)> {
        self.printed(|w| w.printed())
    }

    /// What the programs printed, without the shell's transcript of the steps or netsim's
    /// notes: the lines a real program prints on its own (`netsim diff` compares them with
    /// the kernel run's).
    pub fn program_output(&self) -> Vec<(String, String)> {
        self.printed(|w| match w {
            crate::kernel::trace::Why::App(t) => Some(t),
            _ => None,
        })
    }

    fn printed(&self, text: impl Fn(&crate::kernel::trace::Why) -> Option<&str>) -> Vec<(String, String)> {
        self.records
            .iter()
            .filter(|r| r.dir == crate::kernel::trace::Dir::App)
            .filter_map(|r| Some((self.world.netns(r.ns).name.clone(), text(r.why.last()?)?.to_string())))
            .collect()
    }

    /// Hands over the records so far (for streaming output of long runs).
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    pub fn pending_events(&self) -> usize {
        self.world.queue.len()
    }

    pub fn next_event_time(&self) -> Option<SimTime> {
        self.world.queue.peek_time()
    }

    /// Set when the run stopped because the clock could not advance (`STALL_EVENTS`); from
    /// then on `step` runs nothing.
    pub fn stalled(&self) -> Option<&Stall> {
        self.stalled.as_ref()
    }

    /// Executes exactly one event; `None` when nothing is queued, or the run is stalled.
    pub fn step(&mut self) -> Option<StepOutcome> {
        // The event's records are appended last, so they start where the trace ends now.
        let first = self.records.len();
        let what = self.run_next()?;
        let w = &self.world;
        Some(StepOutcome { id: w.cur, cause: w.cur_cause, time: w.now, what, records: first..self.records.len() })
    }

    /// `step` without its outcome, for the loops of `run_until`, which read none: inlined
    /// into them, a run's every event is one pass of a loop, not a call that also fills in
    /// an outcome to be dropped. `step` reads the outcome off the world afterwards (only this
    /// sets the world's clock, current event and cause).
    #[inline(always)]
    fn run_next(&mut self) -> Option<EventKind> {
        if self.stalled.is_some() {
            return None;
        }
        if self.world.queue.peek_time() == Some(self.world.now) {
            self.at_instant += 1;
            if self.at_instant >= self.stall_limit() {
                self.stalled = Some(self.stall());
                return None;
            }
        } else {
            self.at_instant = 0;
        }
        // An event is numbered when it runs, from 1: the hop log's `#N`, the capture's
        // comments, the GUI's timeline and `--at` all count the same way.
        let (time, (ev, cause)) = self.world.queue.pop()?;
        // Where what this event queues starts, should the orchestrator's wake-ups have to
        // go ahead of it.
        let first_queued = self.world.queue.next_seq();
        let id = EventId(self.events_run + 1);
        let cause = (cause != NO_CAUSE).then_some(cause);
        let w = &mut self.world;
        w.now = time;
        w.cur = id;
        w.cause = id;
        w.cur_cause = cause;
        w.why.clear();
        let what = match ev {
            Queued::Kernel(Event::Arrive { dev, frame, csum_partial, confirm }) => {
                w.csum_partial = csum_partial;
                w.dst_pending_confirm = confirm;
                w.arrive(dev, frame);
                w.csum_partial = false;
                w.dst_pending_confirm = false;
                EventKind::Arrive(dev)
            }
            Queued::Kernel(Event::LoArrive(b)) => {
                let (dev, frame, meta) = *b;
                w.rx_meta = meta;
                w.arrive(dev, frame);
                w.rx_meta = None;
                EventKind::Arrive(dev)
            }
            Queued::Kernel(Event::Dequeue(h)) => {
                let dev = h.dev;
                w.qdisc_dequeue(*h);
                EventKind::Dequeue(dev)
            }
            Queued::Kernel(Event::ProxyArp { dev, frame }) => {
                w.proxy_arp_send(dev, frame);
                EventKind::NeighTimer
            }
            Queued::Kernel(Event::Neigh { ns, dev, ip, epoch }) => {
                w.neigh_timer(ns, dev, ip, epoch);
                EventKind::NeighTimer
            }
            Queued::Kernel(Event::TcpDelAck { ns, key }) => {
                w.tcp_delack_timer(ns, key);
                EventKind::TcpTimer
            }
            Queued::Kernel(Event::TcpTick { tick }) => {
                w.tcp_wheel_tick(tick);
                EventKind::TcpTimer
            }
            Queued::Kernel(Event::Frag { ns, key, born }) => {
                w.frag_timer(ns, key, born);
                EventKind::FragTimer
            }
            Queued::Kernel(Event::App { app, tag }) => {
                Programs::timer(w, app, tag);
                EventKind::AppTimer(app)
            }
            Queued::Step(i) => EventKind::Step(i),
            Queued::Wake => {
                if let Some(d) = self.director.as_mut()
                    && let Err(e) = d.wake(w)
                {
                    w.app_note(NsId(0), || format!("netsim: the swarm's change could not be applied: {e}"));
                }
                EventKind::Orchestrator
            }
        };
        if let EventKind::Step(i) = what
            && let Err(e) = self.run_step(i)
        {
            // A plan the world cannot realise (a bug of the Docker model, as steps are
            // checked when the file loads): say so in the log and go on.
            self.world.app_note(NsId(0), || format!("netsim: step {} could not be applied: {e}", i + 1));
        }
        let w = &mut self.world;
        // The orchestrator's wake-ups come from a step, a wake-up or a program's end only.
        let mut wakes = matches!(what, EventKind::Step(_) | EventKind::Orchestrator);
        // Programs seldom exit: most events have nothing to take.
        if !w.user.exited.is_empty() {
            let exited = w.take_exited();
            if let Some(d) = self.director.as_mut() {
                for a in exited {
                    d.program_exited(w, a);
                }
            }
            wakes = true;
        }
        if wakes
            && let Some(d) = self.director.as_mut()
            && !d.wakeups.is_empty()
        {
            // Wake-ups are queued ahead of what the event itself queued (which the kernel has
            // queued as it went): of two at one instant, the orchestrator acts first.
            let own = w.queue.take_since(first_queued);
            for t in d.wakeups.drain(..) {
                w.queue.push(t, (Queued::Wake, id));
            }
            for (t, x) in own {
                w.queue.push(t, x);
            }
        }
        if let Some(d) = self.director.as_mut()
            && let Some(a) = d.waiting
            && w.user.apps.get(a).is_some_and(|x| x.done)
        {
            d.waiting = None;
            if d.next < d.scripted {
                self.steps_due.push((w.now + d.shell_return(), d.next as u32));
            } else if let Err(e) = d.finish_foreground_now(w) {
                w.app_note(NsId(0), || format!("netsim: a container's exit could not be applied: {e}"));
            }
        }
        w.lo_meta = None;
        // A scenario's steps come due at a few events of a run.
        if !self.steps_due.is_empty() {
            for (t, i) in self.steps_due.drain(..) {
                w.queue.push(t, (Queued::Step(i), id));
            }
        }
        self.events_run += 1;
        // Most events record nothing (none with tracing off): no append to set up.
        if !self.world.recorded.is_empty() {
            self.records.append(&mut self.world.recorded);
        }
        Some(what)
    }

    /// Events at one instant after which the run is stuck: `STALL_EVENTS`, or every device's
    /// broadcast reaching every device in a big world.
    pub fn stall_limit(&self) -> u64 {
        let devs = self.world.devs.len() as u64;
        STALL_EVENTS.max(devs.saturating_mul(devs))
    }

    /// What the stuck instant was doing: the namespaces of its last records.
    fn stall(&self) -> Stall {
        let mut count: Vec<(String, usize)> = Vec::new();
        for r in self.records.iter().rev().take(1000) {
            let name = &self.world.netns(r.ns).name;
            match count.iter_mut().find(|(n, _)| n == name) {
                Some((_, k)) => *k += 1,
                None => count.push((name.clone(), 1)),
            }
        }
        count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let more = count.len().saturating_sub(STALL_NAMES);
        let mut namespaces: Vec<String> = count.into_iter().take(STALL_NAMES).map(|(n, _)| n).collect();
        if more > 0 {
            namespaces.push(format!("{more} more"));
        }
        Stall { time: self.world.now, events: self.at_instant, namespaces }
    }

    /// Runs until the condition; returns how many events ran.
    pub fn run_until(&mut self, until: Until) -> u64 {
        let start = self.events_run;
        match until {
            Until::Time(t) => {
                while self.world.queue.peek_time().is_some_and(|n| n <= t) {
                    if self.run_next().is_none() {
                        return self.events_run - start;
                    }
                }
                if self.world.now < t {
                    self.world.now = t;
                }
            }
            Until::Events(n) => while self.events_run - start < n && self.run_next().is_some() {},
            Until::Idle => while self.run_next().is_some() {},
        }
        self.events_run - start
    }

    /// Steps while `keep_going` says so (it sees each outcome); returns the last outcome.
    pub fn run_while(&mut self, mut keep_going: impl FnMut(&StepOutcome, &World) -> bool) -> Option<StepOutcome> {
        let mut last = None;
        while let Some(o) = self.step() {
            let go = keep_going(&o, &self.world);
            last = Some(o);
            if !go {
                break;
            }
        }
        last
    }
}
