//! Rolling updates: how swarmkit's updater replaces the tasks of a service whose spec changed
//! (`manager/orchestrator/update/updater.go`), slot after slot, as its update config says
//! (docs/docker-model.md *Rolling updates*; traces/docker/swarm-update-force).
//!
//! The updater's workers (`--update-parallelism`, all at once for 0) each take a slot, wait
//! until its new task runs, then wait `--update-delay` before the next. Stop-first (the
//! default) shuts the old task down first and starts the new one when it has stopped, after
//! its stop grace period for a program that ignores SIGTERM; start-first starts the new one
//! and then shuts the old one down. When every slot is done the updater watches the tasks
//! for the monitoring period and marks the update completed. Every wait is known when a slot
//! is taken (no task fails here), so the whole update is laid out in time as it starts and
//! replayed by `Swarm::advance`.

use std::collections::VecDeque;

use super::{EngineError, Node, Service, Swarm, Task, TaskSpec, TaskState, base36, err};
use crate::docker::{cli, images, timing};
use crate::engine::SimTime;

/// A spec's `UpdateConfig` (or `RollbackConfig`): docker/cli's defaults until flags change
/// them (`cli/command/service/opts.go`; swarmkit `api/defaults/service.go`).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateConfig {
    /// How many slots are replaced at once; 0: all of them.
    pub parallelism: u64,
    pub delay: SimTime,
    /// `pause`, `continue` or `rollback`: what a failed new task sets off (no task fails in
    /// this model, so it is only shown).
    pub failure_action: String,
    pub monitor: SimTime,
    /// As typed (`0` by default), between 0 and 1.
    pub max_failure_ratio: String,
    pub start_first: bool,
}

impl Default for UpdateConfig {
    fn default() -> UpdateConfig {
        UpdateConfig {
            parallelism: 1,
            delay: SimTime::ZERO,
            failure_action: "pause".into(),
            monitor: SimTime::from_secs(5),
            max_failure_ratio: "0".into(),
            start_first: false,
        }
    }
}

impl UpdateConfig {
    /// This config with `f`'s flags applied, checked as the daemon checks them (moby
    /// `daemon/cluster/convert/service.go` `updateConfigToGRPC`: the failure action, then the
    /// order; swarmkit `controlapi` `validateUpdate`: the ratio).
    pub fn with(&self, f: &cli::UpdateFlags) -> Result<UpdateConfig, EngineError> {
        let mut c = self.clone();
        c.parallelism = f.parallelism.unwrap_or(c.parallelism);
        c.delay = f.delay.unwrap_or(c.delay);
        c.monitor = f.monitor.filter(|m| *m != SimTime::ZERO).unwrap_or(c.monitor);
        if let Some(a) = &f.failure_action {
            match a.as_str() {
                "pause" | "" => c.failure_action = "pause".into(),
                "continue" | "rollback" => c.failure_action = a.clone(),
                _ => return Err(err(format!("Error response from daemon: unrecognized update failure action {a}"))),
            }
        }
        if let Some(o) = &f.order {
            c.start_first = match o.as_str() {
                "stop-first" | "" => false,
                "start-first" => true,
                _ => return Err(err(format!("Error response from daemon: unrecognized update order {o}"))),
            };
        }
        if let Some(r) = &f.max_failure_ratio {
            if !r.parse::<f32>().is_ok_and(|r| (0.0..=1.0).contains(&r)) {
                return Err(err(
                    "Error response from daemon: rpc error: code = InvalidArgument desc = TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1",
                ));
            }
            c.max_failure_ratio = r.clone();
        }
        Ok(c)
    }

    pub fn order(&self) -> &'static str {
        if self.start_first { "start-first" } else { "stop-first" }
    }

    /// As the API returns it (api/types/swarm `UpdateConfig`: a zero delay is left out).
    pub fn json(&self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("Parallelism".into(), self.parallelism.into());
        if self.delay != SimTime::ZERO {
            o.insert("Delay".into(), self.delay.as_nanos().into());
        }
        o.insert("FailureAction".into(), self.failure_action.clone().into());
        o.insert("Monitor".into(), self.monitor.as_nanos().into());
        // Go's encoding/json writes a whole float as an integer (`0`, `1`).
        let ratio: f64 = self.max_failure_ratio.parse().unwrap_or(0.0);
        let ratio = match ratio.fract() == 0.0 {
            true => serde_json::json!(ratio as i64),
            false => serde_json::json!(ratio),
        };
        o.insert("MaxFailureRatio".into(), ratio);
        o.insert("Order".into(), self.order().into());
        serde_json::Value::Object(o)
    }

    /// `docker service inspect --pretty`'s lines for it (docker/cli
    /// `cli/command/service/formatter.go`), `what` being `Update` or `Rollback`.
    pub fn pretty(&self, what: &str) -> String {
        let mut o = format!("{what}Config:\n Parallelism:\t{}\n", self.parallelism);
        if self.delay != SimTime::ZERO {
            o += &format!(" Delay:\t\t{}\n", go_duration_string(self.delay));
        }
        o += &format!(" On failure:\t{}\n", self.failure_action);
        o += &format!(" Monitoring Period: {}\n", go_duration_string(self.monitor));
        o += &format!(" Max failure ratio: {}\n", self.max_failure_ratio.parse::<f64>().unwrap_or(0.0));
        o += &format!(" {what} order:{}{}\n", if what == "Update" { "      " } else { "    " }, self.order());
        o
    }

    /// How long after its workers are done the update is complete: the monitoring period,
    /// or the delay and a second when the delay is as long (swarmkit `Updater.Run`).
    fn watch(&self) -> SimTime {
        match self.delay >= self.monitor {
            true => self.delay + SimTime::from_secs(1),
            false => self.monitor,
        }
    }
}

/// Go's `time.Duration.String`: `4s`, `1m30s`, `1h0m0s`, `500ms`.
pub fn go_duration_string(d: SimTime) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (div, unit) = match ns {
            n if n < 1_000 => (1, "ns"),
            n if n < 1_000_000 => (1_000, "µs"),
            _ => (1_000_000, "ms"),
        };
        return format!("{}{unit}", trim_fraction(ns, div));
    }
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let s = trim_fraction(secs % 60 * 1_000_000_000 + frac, 1_000_000_000);
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// `n / div` with its fraction's trailing zeros dropped, as Go prints a duration.
fn trim_fraction(n: u64, div: u64) -> String {
    let whole = n / div;
    let frac = n % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let f = format!("{frac:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// A service's `UpdateStatus`: none before its first update, and none again after an update
/// that sends a new spec (swarmkit `controlapi.UpdateService` resets it; the updater sets it
/// when it has tasks to replace).
#[derive(Clone, Debug)]
pub struct UpdateStatus {
    /// `updating`, `completed`, `rollback_started` or `rollback_completed`.
    pub state: &'static str,
    pub started: SimTime,
    pub completed: Option<SimTime>,
    pub message: &'static str,
}

impl UpdateStatus {
    pub fn json(&self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("State".into(), self.state.into());
        o.insert("StartedAt".into(), crate::docker::inspect::created(self.started).into());
        if let Some(c) = self.completed {
            o.insert("CompletedAt".into(), crate::docker::inspect::created(c).into());
        }
        o.insert("Message".into(), self.message.into());
        serde_json::Value::Object(o)
    }
}

/// An update under way: the slots left, and when each worker may take its next.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// (slot, node): a global service's slot is its node.
    todo: VecDeque<(u64, String)>,
    workers: Vec<SimTime>,
    config: UpdateConfig,
}

impl Rollout {
    /// When the updater acts next: a worker takes a slot, or the update is complete.
    fn due(&self) -> SimTime {
        match self.todo.is_empty() {
            false => self.workers.iter().copied().min().unwrap_or(SimTime::ZERO),
            true => {
                let last = self.workers.iter().copied().max().unwrap_or(SimTime::ZERO);
                SimTime::from_nanos(last.as_nanos().saturating_add(self.config.watch().as_nanos()))
            }
        }
    }
}

impl Service {
    /// A task made from another spec than the service's, on `node` (swarmkit
    /// `orchestrator.IsTaskDirty`): a change of the placement constraints alone leaves a task
    /// alone while its node meets them.
    pub(super) fn out_of_date(&self, t: &Task, node: Option<&Node>) -> bool {
        let now = self.task_spec();
        if t.spec == now {
            return false;
        }
        let placement_only = TaskSpec { constraints: now.constraints.clone(), ..t.spec.clone() } == now;
        !placement_only || !node.is_some_and(|n| self.constraints.iter().all(|c| c.meets(n)))
    }

    /// The slot a task holds, as the updater and the reaper count them: its number, and for a
    /// global service (whose tasks are all slot 0) its node.
    fn slot_of(&self, t: &Task) -> (u64, String) {
        (t.slot, if self.global { t.node.clone() } else { String::new() })
    }

    /// Its tasks that may run (swarmkit's runnable: desired state up to Running) in `key`.
    fn runnable_in(&self, key: &(u64, String)) -> Vec<usize> {
        (0..self.tasks.len()).filter(|&i| self.tasks[i].live() && self.slot_of(&self.tasks[i]) == *key).collect()
    }

    /// Its tasks are attached to an overlay or the ingress network (moby's executor:
    /// `controller.hasServiceBinding`).
    fn bound(&self) -> bool {
        !self.networks.is_empty() || !self.ports.is_empty()
    }

    /// From a task's desired state becoming Shutdown to its container having stopped.
    fn stop_time(&self) -> SimTime {
        let gossip = if self.bound() { timing::GOSSIP_CONVERGE } else { SimTime::ZERO };
        timing::SIGTERM_LAG + gossip + self.grace()
    }

    /// From a prepared task's desired state becoming Running to its container running.
    fn start_time(&self) -> SimTime {
        if self.bound() { timing::UPDATE_START_OVERLAY } else { timing::UPDATE_START }
    }

    /// How long a task of this service takes to stop once SIGTERM reaches it: at once for a
    /// program that ends on it, else its stop grace period.
    pub(super) fn grace(&self) -> SimTime {
        let command = match self.args.is_empty() {
            true => images::default_command(&self.image),
            false => self.args.clone(),
        };
        match images::stops_on_sigterm(&self.image, &command) {
            true => SimTime::ZERO,
            false => self.stop_grace,
        }
    }
}

impl Swarm {
    /// Starts replacing service `si`'s out-of-date tasks now, as `config` says (swarmkit
    /// `Updater.Run`): a slot is out of date when its task is, or when it holds more than one
    /// that may run. Slots are taken in order (swarmkit walks a Go map, whose order changes
    /// from run to run: traces/docker/swarm-update-force). With nothing to replace, a
    /// rollback is complete at once. Returns when the last new task will run.
    pub(super) fn start_rollout(&mut self, si: usize, config: UpdateConfig) -> Option<SimTime> {
        let now = self.clock;
        let s = &self.services[si];
        let mut keys: Vec<(u64, String)> = s.tasks.iter().filter(|t| t.live()).map(|t| s.slot_of(t)).collect();
        keys.sort();
        keys.dedup();
        let dirty: VecDeque<(u64, String)> = keys
            .into_iter()
            .filter(|k| {
                let r = s.runnable_in(k);
                r.len() > 1
                    || r.iter().any(|&i| {
                        let t = &s.tasks[i];
                        s.out_of_date(t, self.nodes.iter().find(|n| n.host == t.node))
                    })
            })
            .collect();
        let s = &mut self.services[si];
        if dirty.is_empty() {
            s.rollout = None;
            if let Some(st) = s.update_status.as_mut().filter(|st| st.completed.is_none()) {
                complete(st, now);
            }
            return None;
        }
        if s.update_status.is_none() {
            s.update_status =
                Some(UpdateStatus { state: "updating", started: now, completed: None, message: "update in progress" });
        }
        // Every wait is known now: lay the workers' slots out in time to learn the end.
        let workers = match config.parallelism {
            0 => dirty.len(),
            p => (p as usize).min(dirty.len()),
        };
        let mut free = vec![now; workers];
        let mut last = now;
        for k in &dirty {
            let w = (0..free.len()).min_by_key(|&w| free[w]).unwrap_or(0);
            let running = s.runnable_in(k).iter().any(|&i| s.tasks[i].state == TaskState::Running);
            let took = match (config.start_first, running) {
                (false, true) => s.stop_time() + s.start_time(),
                _ => s.start_time(),
            };
            last = last.max(free[w] + took);
            free[w] = free[w] + took + config.delay;
        }
        s.rollout = Some(Rollout { todo: dirty, workers: vec![now; workers], config });
        self.run_rollout(si, now);
        Some(last)
    }

    /// The updater of service `si` up to `now`.
    fn run_rollout(&mut self, si: usize, now: SimTime) {
        while let Some(at) = self.services[si].rollout.as_ref().map(Rollout::due).filter(|&t| t <= now) {
            self.rollout_step(si, at);
        }
        if let Some(due) = self.services[si].rollout.as_ref().map(Rollout::due).filter(|&t| t < SimTime::MAX) {
            self.wakes.push(due);
        }
    }

    /// When an update under way acts next, and on which service.
    pub(super) fn next_rollout(&self) -> Option<(SimTime, usize)> {
        self.services.iter().enumerate().filter_map(|(si, s)| Some((s.rollout.as_ref()?.due(), si))).min()
    }

    /// Service `si`'s updater at `at`: a free worker takes the next slot, or, with none left,
    /// the update is complete.
    pub(super) fn rollout_step(&mut self, si: usize, at: SimTime) {
        let clock = self.clock;
        self.clock = at;
        let Some(r) = self.services[si].rollout.as_mut() else {
            self.clock = clock;
            return;
        };
        let Some(key) = r.todo.pop_front() else {
            let s = &mut self.services[si];
            s.rollout = None;
            if let Some(st) = s.update_status.as_mut() {
                complete(st, at);
            }
            self.version += 1;
            self.clock = clock;
            return;
        };
        let w = (0..r.workers.len()).min_by_key(|&w| r.workers[w]).unwrap_or(0);
        let (start_first, delay) = (r.config.start_first, r.config.delay);
        let old = self.services[si].runnable_in(&key);
        if old.is_empty() {
            // Scaled away since: nothing to replace.
            self.clock = clock;
            return;
        }
        let stops = at + self.services[si].stop_time();
        let mut go = at;
        let mut replaces = Vec::new();
        for &ti in &old {
            let t = &mut self.services[si].tasks[ti];
            match (start_first, &t.state) {
                (true, _) => replaces.push(t.id.clone()),
                (false, TaskState::Running) => {
                    t.state = TaskState::Stopping;
                    t.started = at;
                    t.due = stops;
                    go = go.max(stops);
                    self.wakes.push(stops);
                }
                (false, _) => {
                    // One that never ran: shut down at once, with no scheduler's complaint
                    // left on it (traces/docker/swarm-update-spec).
                    t.state = TaskState::Shutdown;
                    t.started = at;
                    t.error.clear();
                }
            }
        }
        let placed = match self.services[si].global {
            true => Ok(key.1.clone()),
            false => self.pick_node(si),
        };
        let pending = placed.is_err();
        let id = base36(&mut self.rng, 25);
        let s = &mut self.services[si];
        let due = go + s.start_time();
        let mut task = s.unstarted(id, key.0, placed, at, due);
        (task.go, task.replaces) = (go, replaces);
        s.tasks.push(task);
        self.version += 1;
        let Some(r) = self.services[si].rollout.as_mut() else {
            self.clock = clock;
            return;
        };
        // A new task that no node can take holds its worker, and so the update, which stays
        // `updating` until another update replaces it (a node that could later take the task
        // does not release the worker here, as it would on the engine).
        r.workers[w] = if pending { SimTime::MAX } else { due + delay };
        self.wakes.push(due);
        self.clock = clock;
    }

    /// A start-first update's new task runs: the tasks it replaces are shut down now.
    pub(super) fn shut_down_replaced(&mut self, si: usize, ids: &[String]) {
        let now = self.clock;
        let stops = now + self.services[si].stop_time();
        for id in ids {
            let Some(ti) = self.services[si].tasks.iter().position(|t| t.id == *id) else { continue };
            let t = &mut self.services[si].tasks[ti];
            match t.state {
                TaskState::Running => {
                    t.state = TaskState::Stopping;
                    t.started = now;
                    t.due = stops;
                    self.wakes.push(stops);
                }
                TaskState::Pending | TaskState::Ready => {
                    t.state = TaskState::Shutdown;
                    t.started = now;
                    t.error.clear();
                }
                _ => {}
            }
        }
    }
}

/// How many tasks a slot keeps, its history included (swarmkit's
/// `TaskHistoryRetentionLimit`, 5 by default in the cluster spec docker/cli makes).
const TASK_HISTORY: usize = 5;

impl Swarm {
    /// The task reaper (swarmkit `manager/orchestrator/taskreaper`): a replicated or global
    /// service's slot (a global one's node) keeps at most `TASK_HISTORY` tasks; the oldest
    /// that are over go. A job's tasks are not reaped.
    pub(super) fn reap(&mut self) {
        for s in &mut self.services {
            if s.job.is_some() {
                continue;
            }
            let mut keys: Vec<(u64, String)> = s.tasks.iter().map(|t| s.slot_of(t)).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let mut n = s.tasks.iter().filter(|t| s.slot_of(t) == k).count();
                while n > TASK_HISTORY {
                    let ended = |t: &Task| {
                        matches!(
                            t.state,
                            TaskState::Shutdown | TaskState::Complete | TaskState::Failed | TaskState::Rejected
                        )
                    };
                    let Some(i) = s.tasks.iter().position(|t| ended(t) && s.slot_of(t) == k) else { break };
                    s.tasks.remove(i);
                    n -= 1;
                }
            }
        }
    }
}

fn complete(st: &mut UpdateStatus, at: SimTime) {
    let rollback = st.state.starts_with("rollback");
    st.state = if rollback { "rollback_completed" } else { "completed" };
    st.message = if rollback { "rollback completed" } else { "update completed" };
    st.completed = Some(at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        for (ns, want) in [
            (0, "0s"),
            (4_000_000_000, "4s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (1_500, "1.5µs"),
        ] {
            assert_eq!(go_duration_string(SimTime::from_nanos(ns)), want, "{ns} ns");
        }
    }
}
