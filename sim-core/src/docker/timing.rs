//! How long a `docker` command keeps the shell waiting, so that the next step starts when a
//! student's would (docs/docker-model.md *How long a command takes*).
//!
//! The daemon's work happens when the command runs; the step after it starts once the command
//! has returned. Figures are medians of five runs of each command timed from the shell on
//! Docker Engine 20.10.24 (a busybox image imported with `docker import`, so nothing is
//! pulled): the client's start, the API round trip and the daemon's work together.

use super::cli::{DockerCommand as D, NetworkDriver};
use crate::engine::SimTime;

/// How long `cmd` takes when it succeeds; `None` for a command that only reads state or
/// starts a program (the step after such a command waits for its program instead).
pub fn busy(cmd: &D) -> Option<SimTime> {
    let ms = match cmd {
        D::SwarmInit(_) => 611,
        // `docker swarm leave --force` (a worker's leave is the same call).
        D::SwarmLeave(_) => 1103,
        D::NetworkCreate(n) if n.driver == NetworkDriver::Overlay => 44,
        D::NetworkCreate(_) => 128,
        D::NetworkRm(_) => 208,
        D::NetworkConnect(_) | D::NetworkDisconnect(_) => 93,
        // A detached run creates the sandbox and starts the container before it returns.
        D::Run(r) if r.detach => 314,
        // `docker create` makes the container and no sandbox.
        D::Create(_) => 38,
        // `docker stop -t 0`: a container that exits on SIGTERM at once stops as fast.
        D::Stop(_) | D::Kill(_) => 146,
        D::Start(_) => 256,
        D::Restart(_) => 146 + 256,
        // `docker rm -f` of two running containers took 296 ms: per container, half.
        D::Rm(r) => 148 * r.containers.len().max(1) as u64,
        // Without `--detach` the client follows the tasks until they run, then watches them
        // for five seconds more before it says "Service converged" (docker/cli
        // cli/command/service/progress/progress.go, `ServiceProgress`: `monitor`).
        D::ServiceCreate(s) if s.detach => 48,
        D::ServiceCreate(_) => 6608,
        D::ServiceScale(s) if s.detach => 48,
        D::ServiceScale(_) => 5768,
        // The same wait as a scale: the client follows the change until it has converged
        // (the swarm says how long an update's rolling replacement and monitoring period
        // take: `Swarm::follow`).
        D::ServiceUpdate(s) if s.detach => 48,
        D::ServiceUpdate(_) => 5768,
        D::ServiceRm(_) => 25,
        _ => return None,
    };
    Some(SimTime::from_millis(ms))
}

/// How long a swarm task takes from being made to running its program: the attached
/// `docker service create` above (6 608 ms) is this and the client's five seconds of watching
/// after the task runs. A task that replaces one that ended starts this long after its
/// restart delay.
pub const TASK_START: SimTime = SimTime::from_millis(6608 - 5000);

/// What an attached `docker service update` takes beyond the spec's monitoring period when
/// its tasks are converged at once (the client's start and round trips): 3.138 s with
/// `--update-monitor 3s`, on Docker Engine 20.10.24.
pub const FOLLOW_CONVERGED: SimTime = SimTime::from_millis(138);

/// The same after a rolling update, counted from the last new task running: the client
/// notices it at its next poll (every 200 ms). Three attached `--force` updates took 0.41,
/// 0.39 and 0.38 s longer than the model's last task and monitoring period.
pub const FOLLOW_AFTER_ROLLOUT: SimTime = SimTime::from_millis(390);

/// From a task's desired state becoming Shutdown to SIGTERM reaching its program: the node's
/// agent learns of it and starts the stop. Measured with `docker events` on Docker Engine
/// 20.10.24 during `docker service update --force`: 1.19, 1.21, 1.42 and 1.19 s (stop-first,
/// from the update), 1.24 and 1.15 s (start-first, from the new task running); a task on an
/// overlay waits `GOSSIP_CONVERGE` more.
pub const SIGTERM_LAG: SimTime = SimTime::from_millis(1200);

/// From a prepared task's desired state becoming Running to its container running, in a
/// rolling update: 0.46, 0.44 and 0.52 s after the old task's container died (stop-first),
/// 0.45 and 0.55 s after the new task was made (start-first), on Docker Engine 20.10.24.
pub const UPDATE_START: SimTime = SimTime::from_millis(460);

/// The same for a task on an overlay (or the ingress network), whose new endpoint is
/// attached as it starts: 1.47 s after the old task's container died in one update
/// (`docker events`), 0.73 and 0.68 s in two others (from how long the attached update took
/// on Docker Engine 20.10.24); the median.
pub const UPDATE_START_OVERLAY: SimTime = SimTime::from_millis(730);

/// How long the node's agent waits, after taking a task that is attached to an overlay or
/// the ingress network out of its service's load balancer and DNS, before it stops the
/// container, so that the other nodes learn of it first (moby
/// `daemon/cluster/executor/container/controller.go`, `defaultGossipConvergeDelay`).
pub const GOSSIP_CONVERGE: SimTime = SimTime::from_secs(2);

/// How long a task's container has to stop after SIGTERM before it is killed: a service's
/// `--stop-grace-period`, 10 s by default (swarmkit `api/defaults/service.go`, which docker/cli
/// `cli/command/service/opts.go` shows as the flag's default).
pub const STOP_GRACE: SimTime = SimTime::from_secs(10);

/// How long after its program exits `docker exec` (or a foreground `docker run`) gives the
/// shell back: the client learns of the exit when the attach stream closes, then asks the
/// daemon for the exit code (`ContainerExecInspect`). Timed on Docker Engine 20.10.24 with a
/// static program that prints the wall clock, against the shell's clock before and after
/// the command: the program ran 56–67 ms after the command started and the shell had it
/// back 7–9 ms after the program's time (median 7 ms of nine). The program's start is not
/// delayed here; this wait keeps the next step behind what the program's exit sets off
/// (a closing connection's last segments).
pub const EXEC_RETURN: SimTime = SimTime::from_millis(7);
