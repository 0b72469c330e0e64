//! The scenario's steps, as a student types them: `docker …` commands for a host's daemon,
//! and programs run on a host (`curl`, `ping`, `mysql`, `nslookup`). Steps are events in the
//! simulator's own queue, so stepping, replay and checkpoints treat them like frames.
//!
//! A docker step changes the daemon's state (`docker::engine`), which compiles into a new
//! kernel plan; the difference from the previous plan is applied to the running world
//! (`reconf`). A step that runs a program waits, by default, until the program has finished,
//! as a shell would; `at` starts a step at a fixed time instead.

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::World;
use crate::docker::cli;
use crate::docker::engine::{Container, ContainerKind, Engine, EngineError, ipv4_only};
use crate::docker::era::EngineSpec;
use crate::docker::swarm::{AttachRequest, Swarm};
use crate::engine::SimTime;
use crate::kernel::reconf::{PlanShards, RuleSegment};
use crate::kernel::{Map, PlanError, Set};
use crate::plan::{AddrPlan, Ipv4Net, Link, NsPlan, Plan};
use crate::userland::apps::{DnsZone, DnsZones, Traffic};

/// A machine on the scenario's LAN: a namespace with `eth0` on the LAN switch, and (unless
/// `docker: false`) a Docker Engine.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    /// Its address on the LAN, e.g. "192.168.99.101/24".
    pub addr: Ipv4Net,
    #[serde(default = "yes")]
    pub docker: bool,
    /// Files on the host, by path (relative ones in `/root`, where steps start): a compose
    /// file for `docker-compose`, anything `cat` should show.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub files: std::collections::BTreeMap<String, String>,
}

/// Where a step's shell starts on a host, and where its relative paths point.
pub const HOME: &str = "/root";

/// Where `cd [ARG]` typed in `cwd` leads: home without an argument or with `~`.
pub(crate) fn cd_target(cwd: &str, arg: Option<&str>) -> String {
    match arg {
        None | Some("~") => HOME.to_string(),
        Some(d) => crate::docker::compose::absolute(cwd, d),
    }
}

impl HostSpec {
    /// A host's file by absolute path.
    pub fn file(&self, path: &str) -> Option<&String> {
        self.files.iter().find(|(p, _)| crate::docker::compose::absolute(HOME, p) == path).map(|(_, t)| t)
    }

    /// Whether `dir` (absolute) is a directory of the host: `/`, home, or one holding a file.
    fn is_dir(&self, dir: &str) -> bool {
        ["/", HOME, "/tmp", "/etc"].contains(&dir)
            || self.files.keys().any(|p| {
                crate::docker::compose::absolute(HOME, p).starts_with(&format!("{}/", dir.trim_end_matches('/')))
            })
    }
}

fn yes() -> bool {
    true
}

/// One command typed on a host.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Start at this time; by default when the previous step has finished.
    #[serde(default)]
    pub at: Option<SimTime>,
    /// The host it is typed on.
    pub on: String,
    /// The command line.
    pub run: String,
    /// The lesson is this command's failure: the loader expects it to fail and says so
    /// when it does not; an unmarked step that fails is reported as a warning. Either way
    /// the lab goes on, as a shell without `set -e` does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fails: bool,
    /// What this step shows, for the hop log and the GUI's lesson pane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Part of the exercise: not shown to the student, who types it (or something that does
    /// the same) instead; `netsim check --commands` runs the student's commands in its place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

impl Step {
    /// A command typed now on `on`, with nothing said about it.
    pub fn typed(at: Option<SimTime>, on: &str, run: &str) -> Step {
        Step { at, on: on.into(), run: run.into(), fails: false, note: None, hidden: false }
    }
}

/// A command that failed, as its shell saw it: what it printed and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub status: u8,
    /// The simulator cannot run the command at all (a program or a docker command it does
    /// not model); the message says so in netsim's words, not the engine's.
    pub unmodelled: bool,
}

impl Failure {
    /// A failure of the docker CLI or the daemon behind it: docker/cli exits 125 on a flag it
    /// cannot parse (`cli/cobra.go`, `FlagErrorFunc`) and on any failure of `docker run`
    /// before the container's command runs (`cli/command/container/run.go`), 64 on a
    /// `--format` template that does not parse, 1 otherwise.
    fn docker(message: String, flag_error: bool, run: bool) -> Failure {
        let unmodelled = message.trim_start_matches("docker: ").starts_with("netsim:");
        // A `--format` that does not parse: docker/cli exits 64 (a template that fails on an
        // object exits 1, and says where it was `executing`).
        let bad_template = message.starts_with("template parsing error: ") && !message.contains(": executing \"");
        let status = if unmodelled {
            127
        } else if let Some(status) = runc_refused(&message, run) {
            status
        } else if bad_template {
            64
        } else if flag_error || run {
            125
        } else {
            1
        };
        Failure { message, status, unmodelled }
    }

    /// A program on a host or in a container failed to start: bash's 127 for a program it
    /// cannot find, 1 for a usage error the program reports itself.
    fn program(message: String) -> Failure {
        let unmodelled = message.starts_with("netsim:");
        let status = if unmodelled { 127 } else { runc_refused(&message, false).unwrap_or(1) };
        Failure { status, message, unmodelled }
    }
}

/// The status of a program runc could not start because the image lacks it
/// (`docker::images::missing_exec`, `missing_start`): `docker exec` exits 126, `docker run`
/// 127 (docker/cli `runStartContainerErr`; traces/docker/missing-program/record.txt).
fn runc_refused(message: &str, run: bool) -> Option<u8> {
    if message.starts_with("OCI runtime exec failed") {
        Some(126)
    } else if run && message.contains("executable file not found in $PATH") {
        Some(127)
    } else {
        None
    }
}

impl From<crate::docker::compose::Refused> for Failure {
    /// A `docker-compose` or `docker stack` line refused before it reached the daemon.
    fn from(r: crate::docker::compose::Refused) -> Failure {
        Failure { unmodelled: r.message.starts_with("netsim:"), message: r.message, status: r.status }
    }
}

/// What a step printed, and what it did to the kernel and the processes: enough for another
/// backend (the real kernel) to replay the run.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLog {
    pub index: usize,
    pub at: SimTime,
    /// The step had no `at` of its own: it started when the one before had finished.
    pub chained: bool,
    pub host: String,
    pub line: String,
    pub output: Result<String, String>,
    /// How long the command kept the shell (`docker::timing`): the next step, unless it has
    /// its own `at` or waits for a program, starts this much later.
    pub took: SimTime,
    /// The command's exit status: when it failed before anything ran, or, for a program,
    /// once it has ended (0 until then).
    pub status: u8,
    /// The plan change the step made.
    pub delta: Option<crate::kernel::reconf::PlanDelta>,
    /// Processes the step started: new sandboxes' servers and announcements, then its
    /// client program (which the next step waits for). The embedded DNS servers, which
    /// carry their zones as they were then, only where `Director::keep_script` says.
    pub started: Vec<Traffic>,
    /// Programs the step started without waiting for them (`docker exec -d`).
    pub background: Vec<Traffic>,
    /// Sandboxes whose embedded DNS now asks other networks: their new zones, by namespace
    /// (only where `Director::keep_script` says).
    pub dns: Vec<(String, DnsZones)>,
    /// Networks whose names changed (a container joined or left): their new zone, which
    /// every sandbox asking that network (`DnsZone::key`) answers from now on (only where
    /// `Director::keep_script` says).
    pub zones: Vec<Arc<DnsZone>>,
}

/// A step that fails: which one and why, in the words Docker or the shell would use.
#[derive(Clone, Debug, PartialEq)]
pub struct StepError {
    pub index: usize,
    pub failure: Failure,
}

/// What checking a file's steps found: each step that fails as a command (the run shows the
/// failure and goes on), each step whose effect the simulator cannot build (the file cannot
/// run), and what each step changes in the plan (`None` for a step that changes nothing or
/// fails).
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub failures: Vec<StepError>,
    pub errors: Vec<StepError>,
    pub deltas: Vec<Option<crate::kernel::reconf::PlanDelta>>,
    /// The steps that start a program in the foreground (`docker exec … ping`, `curl` on a
    /// host) or run a tool that reads the namespace (`iptables -L CHAIN`): whether one fails
    /// is known only when it has run.
    pub programs: Vec<usize>,
}

/// The namespace and bridge of the LAN switch the hosts plug into.
pub const LAN_NS: &str = "lan";
pub const LAN_BRIDGE: &str = "lan0";

/// Docker's names for kernel objects (`Director::docker_names`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DockerNames {
    /// The network a bridge carries, by (namespace, bridge device).
    pub bridges: Map<(String, String), String>,
    /// The overlay network and VNI of an overlay namespace, by namespace name.
    pub overlays: Map<String, (String, u32)>,
}

#[derive(Clone)]
pub struct Director {
    pub hosts: Vec<HostSpec>,
    /// The namespaces of the scenario's own plan, which a step may name as it names a host
    /// (a shell in them, without Docker).
    plain: Vec<HostSpec>,
    /// One daemon per Docker host, by host name.
    pub engines: Vec<(String, Engine)>,
    /// The scenario's steps, then the commands typed during the run (`Sim::type_command`).
    pub steps: Vec<Step>,
    /// How many of `steps` the scenario wrote; the rest were typed and do not chain.
    pub scripted: usize,
    /// The scenario's own plan plus the LAN: what no daemon owns.
    base: Plan,
    /// `base` by namespace, for compiling a part of the plan.
    base_shards: PlanShards,
    /// Namespaces whose part of `base` (or of `typed_rules`) a command changed since the last
    /// delta (`ip link set`, `tc qdisc`, `iptables`).
    base_touched: Set<String>,
    /// iptables commands typed in steps: they run after the daemons' rules, as commands typed
    /// once dockerd has made its chains (`iptables -I DOCKER-USER …`).
    typed_rules: Vec<crate::plan::IptablesPlan>,
    /// The plan the world realises now, by namespace, unless `plan_stale` (then `compile()`
    /// gives it).
    plan: PlanShards,
    /// Steps ran with deltas from `prepared`, so `plan` is behind the daemons' state.
    plan_stale: bool,
    /// What each of the file's steps changes in the plan, as the load check found it
    /// (`check_all`): the run applies these rather than compiling and diffing the whole
    /// plan again. Dropped once a typed command makes the run leave the file's path.
    prepared: Option<Arc<Vec<Option<crate::kernel::reconf::PlanDelta>>>>,
    /// Debug builds keep the plan compiled at every step, to check `prepared` and each part
    /// compiled alone against it.
    #[cfg(debug_assertions)]
    shadow_plan: Plan,
    /// Index of the next step to run.
    pub next: usize,
    /// The client app the next step waits for.
    pub waiting: Option<usize>,
    pub transcript: Vec<StepLog>,
    /// Sandboxes whose servers (embedded DNS, the image's server) run already, with when
    /// their container started (`servers_key`).
    started: Set<String>,
    /// The programs steps started that have not ended: app → index in `transcript`.
    programs: Map<usize, usize>,
    /// The key in `started` of each running container, by (daemon, `Container::seq`).
    started_by: Map<(usize, u64), String>,
    /// The docker-proxy programs running for each container (by daemon and sequence), which
    /// stop with it: they live in the host's namespace, which outlives the sandbox.
    proxies: Map<(usize, u64), Vec<usize>>,
    /// The servers each container's start began (its image's: nginx, MySQL…), by (daemon,
    /// container `seq`). They stop with the container, as the proxies do: a `--network host`
    /// container's run in the host's namespace, which no sandbox takes with it, and a `docker
    /// restart` starts them anew in a namespace the old ones may still hold ports of.
    servers_run: Map<(usize, u64), Vec<usize>>,
    /// Sandbox interfaces dockerd has announced (unsolicited ARP), as (namespace, device, address).
    announced: Set<(String, String, std::net::Ipv4Addr)>,
    /// Every network's embedded-DNS zone as the sandboxes share it, by `DnsZone::key`.
    zones: Map<String, Arc<DnsZone>>,
    /// The swarm, once a host ran `docker swarm init`.
    pub swarm: Option<Swarm>,
    /// The container of a foreground `docker run IMAGE CMD` (host, name, `--rm`): it exits
    /// when its program has, which the next command waited for, as a shell's prompt does.
    foreground: Option<(String, String, bool)>,
    /// When the foreground container's program ended, and its exit status: the container's
    /// own (`docker ps -a`'s `Exited (1) 2 seconds ago`).
    foreground_exit: Option<(SimTime, u8)>,
    /// Programs started as a container's process by `docker run -d IMAGE CMD`: (host,
    /// container, `--rm`). When one ends, its container stops at the next step.
    detached: Map<usize, (String, String, bool)>,
    /// Detached programs that ended: (host, container, when, exit status; `None` for a
    /// `--rm` container, which goes).
    detached_exits: Vec<(String, String, SimTime, Option<u8>)>,
    /// Detached containers whose command ends by itself at a known time (`sleep 2`): host,
    /// name, when it started, when it ends, and `--rm`. Taken at the first step after.
    timed_exits: Vec<(String, String, SimTime, SimTime, bool)>,
    /// What `docker logs` prints, by (host, container ID): for each time the container
    /// started, its process when it is a program the simulator runs, or the words it printed
    /// before it could start. The daemon keeps every start's lines in one log (its
    /// json-file), so a restarted container's log goes on after the earlier run's
    /// (traces/docker/create/record.txt).
    logs: Map<(String, String), Vec<ContainerLog>>,
    /// Swarm tasks whose process is a program the simulator runs: by program, the task's
    /// container; and what each task's container printed, by container (`docker service logs`).
    task_apps: Map<usize, String>,
    task_logs: Map<String, ContainerLog>,
    /// Tasks whose program ended (container, when, exit status), for the orchestrator.
    task_exits: Vec<(String, SimTime, u8)>,
    /// When the orchestrator acts next (a task ended, a restart delay is over): the run
    /// queues a wake-up for each (`Director::wake`).
    pub wakeups: Vec<SimTime>,
    seed: u64,
    /// The daemon every Docker host runs (release, `--mtu`).
    pub engine_spec: EngineSpec,
    /// Keep in each step's log the DNS zones it started or changed, which the kernel backend
    /// replays (`StepLog::started`, `dns`, `zones`); a run that only simulates drops them,
    /// as each is a whole zone as it was then and a log of them grows with the square of a
    /// lab's containers.
    pub keep_script: bool,
    /// Each host's working directory, where `cd` left it (`HOME` until then).
    cwd: Map<String, String>,
}

/// How long after a program typed on a host exits the next typed command starts: the shell
/// reaps it (wait(2)), then forks and execs the next. bash on Linux 6.18 runs 200 `/bin/true`
/// in a loop in 0.27 s, 1.4 ms from one start to the next. Without it the next step began at
/// the instant of the exit, while the segments the program's close(2) sent were still on the
/// wire: a router's conntrack entry read then was CLOSE_WAIT, where the kernel's, read by
/// the next command, is TIME_WAIT (traces/kernel/linux/iptables-list.ron under `netsim diff`).
pub const SHELL_RETURN: SimTime = SimTime::from_millis(1);

impl Director {
    /// The hosts on their LAN and freshly started daemons; returns the initial plan too.
    pub fn new(hosts: &[HostSpec], steps: &[Step], scenario_plan: &Plan, seed: u64) -> Result<Director, String> {
        Self::with_engine(hosts, steps, scenario_plan, seed, EngineSpec::default())
    }

    /// As [`Director::new`], with every daemon of `spec`'s release and `--mtu`.
    pub fn with_engine(
        hosts: &[HostSpec],
        steps: &[Step],
        scenario_plan: &Plan,
        seed: u64,
        spec: EngineSpec,
    ) -> Result<Director, String> {
        let mut base = scenario_plan.clone();
        if !hosts.is_empty() {
            base.namespaces.push(NsPlan {
                name: LAN_NS.into(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: false,
            });
            base.links.push(Link::Bridge {
                txqueuelen: None,
                name: LAN_BRIDGE.into(),
                ns: LAN_NS.into(),
                mac: None,
                mtu: None,
                ageing: None,
            });
        }
        let mut engines = Vec::new();
        for (i, h) in hosts.iter().enumerate() {
            if hosts[..i].iter().any(|o| o.name == h.name) {
                return Err(format!("host `{}` is defined twice", h.name));
            }
            base.namespaces.push(NsPlan {
                name: h.name.clone(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            });
            let port: String = h.name.chars().take(15).collect();
            base.links.push(Link::Veth {
                txqueuelen: None,
                name: "eth0".into(),
                ns: h.name.clone(),
                peer: port,
                peer_ns: LAN_NS.into(),
                mac: None,
                peer_mac: None,
                mtu: None,
                master: None,
                peer_master: Some(LAN_BRIDGE.into()),
                delay: None,
            });
            base.addresses.push(AddrPlan { ns: h.name.clone(), dev: "eth0".into(), addr: h.addr });
            if h.docker {
                // Dynamic subnets avoid the host's own on-link networks (docs/docker-model.md
                // *Picking a subnet*).
                let reserved = vec![h.addr.trunc()];
                let mut e =
                    Engine::with_spec(&h.name, seed.wrapping_add(1 + i as u64), reserved, spec).map_err(|e| e.0)?;
                e.ns_prefix = format!("{}:", h.name);
                engines.push((h.name.clone(), e));
            }
        }
        // Every host has the images the lab names, as if pulled before it began.
        let named = lab_images(hosts, steps);
        for (_, e) in &mut engines {
            for r in &named {
                e.have_image(r);
            }
        }
        let plain = scenario_plan
            .namespaces
            .iter()
            .filter(|n| !hosts.iter().any(|h| h.name == n.name))
            .map(|n| HostSpec {
                name: n.name.clone(),
                addr: Ipv4Net::DEFAULT,
                docker: false,
                files: Default::default(),
            })
            .collect();
        let mut d = Director {
            hosts: hosts.to_vec(),
            plain,
            base_touched: Set::default(),
            typed_rules: Vec::new(),
            engines,
            steps: steps.to_vec(),
            scripted: steps.len(),
            base_shards: PlanShards::new(&base),
            base,
            plan: PlanShards::default(),
            plan_stale: false,
            prepared: None,
            #[cfg(debug_assertions)]
            shadow_plan: Plan::default(),
            next: 0,
            waiting: None,
            transcript: Vec::new(),
            started: Set::default(),
            started_by: Map::default(),
            proxies: Map::default(),
            servers_run: Map::default(),
            programs: Map::default(),
            announced: Set::default(),
            zones: Map::default(),
            swarm: None,
            foreground: None,
            foreground_exit: None,
            detached: Map::default(),
            detached_exits: Vec::new(),
            timed_exits: Vec::new(),
            logs: Map::default(),
            task_apps: Map::default(),
            task_logs: Map::default(),
            task_exits: Vec::new(),
            wakeups: Vec::new(),
            seed,
            engine_spec: spec,
            keep_script: false,
            cwd: Map::default(),
        };
        d.recompile();
        Ok(d)
    }

    /// The whole plan, as the world realises it.
    fn compile(&self) -> Plan {
        let (mut p, segments) = self.compile_segmented();
        RuleSegment::flatten(&mut p, segments);
        p
    }

    /// The whole plan with each container's host rules and the rules typed in a namespace
    /// as segments of that namespace's rules (`PlanShards` keeps them apart, so a step
    /// changes only its own). With a swarm, whose commands reach every node, the daemons'
    /// rules are all in the plan.
    fn compile_segmented(&self) -> (Plan, Vec<RuleSegment>) {
        let mut p = self.base.clone();
        let mut segments = Vec::new();
        for (host, e) in &self.engines {
            match &self.swarm {
                Some(s) => {
                    e.plan(&mut p);
                    s.plan(host, e, &mut p);
                }
                None => e.plan_part(&mut p, None, Some(&mut segments)),
            }
        }
        segments.extend(self.typed_segments(None));
        (p, segments)
    }

    /// The rules typed in each namespace (of those in `scope`; all with `None`): a segment
    /// after everything the daemons give it, owned by the namespace itself.
    fn typed_segments(&self, scope: Option<&Set<String>>) -> Vec<RuleSegment> {
        let mut by_ns: std::collections::BTreeMap<&str, Vec<crate::plan::IptablesPlan>> = Default::default();
        for r in self.typed_rules.iter().filter(|r| scope.is_none_or(|s| s.contains(&r.ns))) {
            by_ns.entry(r.ns.as_str()).or_default().push(r.clone());
        }
        by_ns
            .into_iter()
            .map(|(ns, rules)| RuleSegment { ns: ns.to_string(), owner: ns.to_string(), order: u64::MAX, rules })
            .collect()
    }

    /// The plan compiled again from the daemons' state, as the world holds it now; what the
    /// daemons touched since is forgotten (it is in the new plan).
    fn recompile(&mut self) {
        for (_, e) in &mut self.engines {
            e.take_touched();
        }
        self.base_touched.clear();
        let (plan, segments) = self.compile_segmented();
        #[cfg(debug_assertions)]
        {
            let mut whole = plan.clone();
            RuleSegment::flatten(&mut whole, segments.clone());
            self.shadow_plan = whole;
        }
        self.plan = PlanShards::with_segments(plan, segments);
        self.plan_stale = false;
    }

    /// What the commands since the last change did to the plan, and the plan kept up to date.
    /// A daemon's command changes its host and the sandboxes of the containers it touched
    /// (`Engine::take_touched`): only those namespaces are compiled and diffed, so a step
    /// costs what it changes, not the size of the lab. A swarm's commands reach every node
    /// and its overlay namespaces: with a swarm the whole plan is compiled.
    fn step_delta(&mut self) -> crate::kernel::reconf::PlanDelta {
        let mut touched: Set<String> = std::mem::take(&mut self.base_touched);
        for (_, e) in &mut self.engines {
            touched.extend(e.take_touched());
        }
        #[cfg(debug_assertions)]
        let (old_whole, new_whole) = (self.shadow_plan.clone(), self.compile());
        let delta = if self.swarm.is_some() {
            let (new, segments) = self.compile_segmented();
            let mut all: Set<String> = self.plan.namespaces().map(str::to_string).collect();
            all.extend(PlanShards::new(&new).namespaces().map(str::to_string));
            let mut all: Vec<String> = all.into_iter().collect();
            all.sort();
            self.plan.diff_part(&all, new, segments)
        } else {
            let mut names: Vec<String> = touched.iter().cloned().collect();
            names.sort();
            let mut part = self.base_shards.part(&names);
            let mut segments = Vec::new();
            for (host, e) in &self.engines {
                if touched.contains(host) {
                    e.plan_part(&mut part, Some(&touched), Some(&mut segments));
                }
            }
            segments.extend(self.typed_segments(Some(&touched)));
            self.plan.diff_part(&names, part, segments)
        };
        #[cfg(debug_assertions)]
        {
            let whole = old_whole.diff(&new_whole);
            assert!(
                delta.same_change(&whole, &old_whole),
                "the change compiled in the touched namespaces is not the whole plan's:\n{delta:?}\n{whole:?}"
            );
            self.shadow_plan = new_whole;
        }
        delta
    }

    /// Every network's zone after a step: the previous `Arc` where nothing changed, so the
    /// sandboxes that share it need no update; the zones that did change are returned.
    fn share_zones(&mut self) -> Vec<Arc<DnsZone>> {
        let mut fresh: Map<String, DnsZone> = Map::default();
        for (_, e) in &self.engines {
            fresh.extend(e.dns_zones().into_values().map(|z| (z.key.clone(), z)));
        }
        if let Some(s) = &self.swarm {
            fresh.extend(s.dns_zones().into_values().map(|z| (z.key.clone(), z)));
        }
        let mut changed = Vec::new();
        let mut zones = Map::default();
        for (key, z) in fresh {
            let shared = match self.zones.remove(&key) {
                Some(old) if *old == z => old,
                _ => {
                    let z = Arc::new(z);
                    changed.push(z.clone());
                    z
                }
            };
            zones.insert(key, shared);
        }
        // Replayed in key order, so the same run gives the same step log.
        changed.sort_by(|a, b| a.key.cmp(&b.key));
        self.zones = zones;
        changed
    }

    /// The zones a sandbox's embedded DNS asks, in order: a task's are its service's
    /// overlays, any other container's its user-defined networks.
    fn zones_of(&self, e: &Engine, c: &Container, swarm_keys: &Map<String, Vec<String>>) -> DnsZones {
        let keys = match (&self.swarm, c.kind) {
            (Some(_), ContainerKind::Task) => swarm_keys.get(&c.name).cloned().unwrap_or_default(),
            // A container of the daemon's connected to overlays too: its local networks
            // first, then the overlays, in the order it joined them.
            (Some(_), _) if !c.swarm_ifnames.is_empty() => {
                let mut k = e.dns_zone_keys(c);
                k.extend(swarm_keys.get(&c.name).into_iter().flatten().cloned());
                k
            }
            _ => e.dns_zone_keys(c),
        };
        DnsZones(keys.iter().filter_map(|k| self.zones.get(k).cloned()).collect())
    }

    /// Runs every step's control-plane part on a copy, to report a bad step when the file
    /// loads rather than halfway through a run. As a shell script without `set -e`, it goes
    /// on after a step that fails: a later step sees what the earlier ones did, failed ones
    /// included. Returns every failure and, for each step that changed the plan, the change.
    pub fn check_all(&self) -> Checked {
        let mut d = self.clone();
        let mut checked = Checked::default();
        let mut world = None;
        for i in 0..d.steps.len() {
            let Some(step) = d.steps.get(i).cloned() else { break };
            // A step on a host the file does not have is the file's mistake, not a command's.
            if let Err(message) = d.host(&step.on) {
                checked.deltas.push(None);
                checked
                    .errors
                    .push(StepError { index: i, failure: Failure { message, status: 127, unmodelled: true } });
                continue;
            }
            match d.dry_run(&step, &mut world) {
                Ok((delta, program)) => {
                    checked.deltas.push(delta);
                    if program {
                        checked.programs.push(i);
                    }
                }
                Err(Dry::Failed(failure, delta)) => {
                    checked.deltas.push(delta.map(|d| *d));
                    checked.failures.push(StepError { index: i, failure });
                }
                Err(Dry::Invalid(message)) => {
                    checked.deltas.push(None);
                    checked
                        .errors
                        .push(StepError { index: i, failure: Failure { message, status: 1, unmodelled: true } });
                }
            }
        }
        checked
    }

    /// The plan the world realises now, compiled whole from the daemons' state.
    pub fn plan(&self) -> Plan {
        self.compile()
    }

    /// Lets the run apply the deltas the load check found (`check_all` of this director's
    /// copy, with the same seed) instead of computing each again.
    pub fn prepare(&mut self, deltas: Option<Arc<Vec<Option<crate::kernel::reconf::PlanDelta>>>>) {
        self.prepared = deltas;
    }

    /// A step's control-plane part: the daemon's answer, and the plan it leads to must be one
    /// the world can build. The world of the previous check takes the step's delta, as the
    /// run will, so checking a file costs what its steps change, not the world once per step.
    /// Also says whether the step starts a program in the foreground.
    fn dry_run(
        &mut self,
        step: &Step,
        world: &mut Option<World>,
    ) -> Result<(Option<crate::kernel::reconf::PlanDelta>, bool), Dry> {
        // A copy of a running director (a typed command's check) may be behind its daemons.
        if self.plan_stale {
            self.recompile();
        }
        let exited = self.finish_foreground();
        let out = self.command(step, SimTime::ZERO);
        // A tool reads the namespace as it is when the step runs (`iptables -L CHAIN`, `ip addr
        // show DEV`): whether it fails is known then, as a program's.
        let program = matches!(out, Ok(Outcome::Client(_) | Outcome::Foreground(_) | Outcome::Tool { .. }));
        if let Ok(Outcome::Detached(d)) = &out {
            // Its log is its program's, which the check does not run.
            for p in &d.programs {
                self.logs.entry((d.host.clone(), p.id.clone())).or_default().push(ContainerLog::Text(String::new()));
            }
        }
        // A failing command may have changed the daemon before it failed (`network rm A B`
        // with B in use): what it changed is built as after any command.
        if !exited
            && out.is_ok()
            && !matches!(out, Ok(Outcome::Changed(..) | Outcome::Foreground { .. } | Outcome::Detached(_)))
        {
            return out.map(|_| (None, program)).map_err(|f| Dry::Failed(f, None));
        }
        let delta = self.step_delta();
        let built = match world.take() {
            Some(mut w) => w.apply_delta(&delta).map(|()| w),
            None => World::from_plan(&self.compile(), 0),
        };
        // After a failure the next check builds afresh: a half-applied delta proves nothing.
        *world = Some(built.map_err(|e| Dry::Invalid(format!("netsim: the resulting plan is invalid: {e}")))?);
        // A command that fails after a foreground container exited still carries the exit.
        match out {
            Ok(_) => Ok((Some(delta), program)),
            Err(f) => Err(Dry::Failed(f, Some(Box::new(delta)))),
        }
    }

    /// Applies the exit of the last foreground `docker run`'s container, if one is pending:
    /// it stops (`Exited (0)`), or with `--rm` goes. Returns whether the daemon changed.
    fn finish_foreground(&mut self) -> bool {
        let Some((host, name, rm)) = self.foreground.take() else { return false };
        let end = self.foreground_exit.take();
        let Some(e) = self.engine_mut(&host) else { return false };
        if let Some((at, _)) = end {
            e.clock = at;
        }
        let changed = if rm { e.remove(&name) } else { e.exited(&name, end.map_or(0, |(_, status)| status)) };
        self.release_attachments();
        changed
    }

    /// The foreground container's exit when no command follows to carry it (the file's last
    /// step, or the last typed one): applied to the world at once.
    pub fn finish_foreground_now(&mut self, world: &mut World) -> Result<(), PlanError> {
        if self.foreground.is_none() {
            return Ok(());
        }
        if self.plan_stale {
            self.recompile();
        }
        self.finish_foreground();
        // The load check never ran this exit: no prepared delta covers it, and no step of the
        // transcript carries it (nothing follows for a replay to build on).
        self.realise(world, None).map(|_| ())
    }

    /// Checks a command typed during the run before it is queued: it must name a host, and
    /// its effect must be one the simulator can build. A command that fails as a command
    /// (the daemon refuses it, a program is missing) runs and shows its failure, as a shell
    /// would.
    pub fn check_typed(&self, on: &str, run: &str) -> Result<(), String> {
        self.host(on)?;
        match self.clone().dry_run(&Step::typed(None, on, run), &mut None) {
            Err(Dry::Invalid(m)) => Err(m),
            _ => Ok(()),
        }
    }

    /// The host a step names, or the hosts it could have named.
    pub fn host(&self, on: &str) -> Result<&HostSpec, String> {
        self.hosts.iter().chain(&self.plain).find(|h| h.name == on).ok_or_else(|| {
            let names: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
            let plain: Vec<&str> = self.plain.iter().map(|h| h.name.as_str()).collect();
            match (names.is_empty(), plain.is_empty()) {
                (_, true) => format!("no host `{on}` (hosts: {})", names.join(", ")),
                (true, false) => format!("no namespace `{on}` (namespaces: {})", plain.join(", ")),
                (false, false) => {
                    format!(
                        "no host or namespace `{on}` (hosts: {}; namespaces: {})",
                        names.join(", "),
                        plain.join(", ")
                    )
                }
            }
        })
    }

    /// When step `i` is due: its own `at`, or `None` when it waits for the previous one.
    pub fn due(&self, i: usize) -> Option<SimTime> {
        self.steps.get(i).and_then(|s| s.at)
    }

    /// Runs step `i` on the world; returns the client app it started, if any.
    pub fn run_step(&mut self, i: usize, world: &mut World) -> Result<Option<usize>, PlanError> {
        let step = self.steps[i].clone();
        let now = world.now;
        if i < self.scripted {
            self.next = i + 1;
        }
        let host_ns = world.ns_by_name(&step.on);
        if let Some(ns) = host_ns {
            let line = step.run.clone();
            world.shell_log(ns, || line);
        }
        let mut prepared = self.prepared.as_ref().and_then(|p| p.get(i)).and_then(Option::clone);
        // A detached program that ended stops its container now. The load check could not
        // know when it would: its deltas no longer describe the daemons, here or after.
        let mut exits = std::mem::take(&mut self.detached_exits);
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.timed_exits).into_iter().partition(|x| x.3 <= now);
        self.timed_exits = later;
        for (host, name, started, at, rm) in due {
            // Still the run that was timed: not stopped, removed or started again since.
            let same = self
                .engine(&host)
                .ok()
                .and_then(|e| e.container(&name))
                .is_some_and(|c| c.state == crate::docker::engine::RunState::Running && c.started == started);
            if same {
                exits.push((host, name, at, (!rm).then_some(0)));
            }
        }
        // So does a swarm task whose program ended by itself (`sleep`), found now.
        let advancing = self.swarm.as_ref().is_some_and(|s| s.pending_by(now));
        if !exits.is_empty() || advancing {
            self.prepared = None;
            prepared = None;
        }
        // The check found no change for a step it covers; any other step may change the plan
        // and needs the plan before it, for a diff of its own.
        let covered = self.prepared.as_ref().is_some_and(|p| i < p.len());
        if !covered && self.plan_stale {
            self.recompile();
        }
        let mut exited = self.finish_foreground();
        for (host, name, at, status) in exits {
            exited |= self.container_exited(&host, &name, at, status);
        }
        if advancing && let Some(s) = self.swarm.as_mut() {
            let (wakes, changed) = s.advance(now, &mut self.engines).map_err(|e| PlanError::new(e.0, "swarm"))?;
            self.wakeups.extend(wakes);
            exited |= changed;
        }
        let mut out = self.command(&step, now);
        let mut status = 0;
        let mut app = None;
        let mut effects = Effects::default();
        if (exited || out.is_err())
            && !matches!(out, Ok(Outcome::Changed(..) | Outcome::Foreground(_) | Outcome::Detached(_)))
        {
            effects = self.realise(world, prepared.take())?;
        }
        if let Ok(Outcome::Foreground(program)) = out {
            // The sandbox first, then its program in it.
            effects = self.realise(world, prepared.take())?;
            out = Ok(*program);
        }
        let mut took = SimTime::ZERO;
        let output = match out {
            Ok(Outcome::Changed(text, busy)) => {
                took = busy;
                effects = self.realise(world, prepared.take())?;
                Ok(text)
            }
            Ok(Outcome::Foreground(_)) => Ok(String::new()),
            Ok(Outcome::Printed(text)) => Ok(text),
            Ok(Outcome::Slept(t)) => {
                took = t;
                Ok(String::new())
            }
            Ok(Outcome::Detached(d)) => {
                let Detached { printed, host, programs, busy } = *d;
                took = busy;
                effects = self.realise(world, prepared.take())?;
                for DetachedProgram { id, name, rm, program } in programs {
                    let idx = world.add_traffic(&program).map_err(|m| PlanError::new(m, program.ns()))?;
                    world.keep_output(idx);
                    self.detached.insert(idx, (host.clone(), name, rm));
                    self.logs.entry((host.clone(), id)).or_default().push(ContainerLog::Program(idx));
                    effects.started.push(program);
                }
                Ok(printed)
            }
            Ok(Outcome::Logs { runs, tail }) => {
                let text: String = runs
                    .iter()
                    .map(|run| match run {
                        ContainerLog::Program(app) => world.output_of(*app).unwrap_or_default(),
                        ContainerLog::Text(t) => t.as_str(),
                    })
                    .collect();
                Ok(last_lines(&text, tail))
            }
            Ok(Outcome::ServiceLogs { head, tasks, tail }) => {
                let mut out = head;
                for (prefix, log) in tasks {
                    let text = match &log {
                        ContainerLog::Program(app) => world.output_of(*app).unwrap_or_default(),
                        ContainerLog::Text(t) => t.as_str(),
                    };
                    for line in last_lines(text, tail).lines() {
                        if let Some(p) = &prefix {
                            out.push_str(p);
                        }
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                Ok(out)
            }
            Ok(Outcome::Tool { host, container, tool }) => {
                match self.run_tool(world, &host, container.as_deref(), &tool) {
                    Ok(text) => Ok(text),
                    Err(f) => {
                        status = f.status;
                        Err(f.message)
                    }
                }
            }
            Ok(Outcome::Background(t)) => {
                world.add_traffic(&t).map_err(|m| PlanError::new(m, t.ns()))?;
                effects.background.push(t);
                Ok(String::new())
            }
            Ok(Outcome::Client(t)) => {
                let idx = world.add_traffic(&t).map_err(|m| PlanError::new(m, t.ns()))?;
                app = Some(idx);
                // A foreground container's process: its output is its log too.
                if let Some(id) = self.foreground_id() {
                    world.keep_output(idx);
                    self.logs.entry(id).or_default().push(ContainerLog::Program(idx));
                }
                effects.started.push(t);
                Ok(String::new())
            }
            Err(f) => {
                status = f.status;
                Err(f.message)
            }
        };
        if let Some(ns) = host_ns {
            let text = match &output {
                Ok(t) => t.clone(),
                Err(e) => e.clone(),
            };
            for l in text.lines().filter(|l| !l.is_empty()) {
                let l = format!("  {l}");
                world.shell_log(ns, || l);
            }
            if status != 0 {
                world.shell_log(ns, || format!("  (exit status {status})"));
            }
        }
        self.transcript.push(StepLog {
            index: i,
            at: now,
            chained: step.at.is_none(),
            host: step.on.clone(),
            line: step.run.clone(),
            output,
            status,
            took,
            delta: effects.delta,
            started: match self.keep_script {
                true => effects.started,
                false => effects.started.into_iter().filter(|t| !matches!(t, Traffic::Dns { .. })).collect(),
            },
            background: effects.background,
            dns: if self.keep_script { effects.dns } else { Vec::new() },
            zones: if self.keep_script { effects.zones } else { Vec::new() },
        });
        if let Some(a) = app {
            self.programs.insert(a, self.transcript.len() - 1);
        }
        Ok(app)
    }

    /// How long after the program the next step waits for has exited that step starts: a
    /// `docker` command's client returns a moment later (`timing::EXEC_RETURN`), a
    /// program run on a host once the shell has reaped it and started the next
    /// (`SHELL_RETURN`).
    pub fn shell_return(&self) -> SimTime {
        match self.transcript.last() {
            Some(l) if l.line.starts_with("docker ") => crate::docker::timing::EXEC_RETURN,
            _ => SHELL_RETURN,
        }
    }

    /// Program `app` ended: a step's program gives the step its exit status, which the shell
    /// shows after what it printed, as a failed command's (`docker exec` passes its
    /// command's status on).
    pub fn program_exited(&mut self, world: &mut World, app: usize) {
        if let Some(name) = self.task_apps.remove(&app) {
            let status = world.user.apps.get(app).map_or(0, |a| a.status);
            self.task_exits.push((name, world.now, status));
            self.wakeups.push(world.now);
            return;
        }
        if let Some((host, name, rm)) = self.detached.remove(&app) {
            let status = world.user.apps.get(app).map_or(0, |a| a.status);
            self.detached_exits.push((host, name, world.now, (!rm).then_some(status)));
        }
        let Some(i) = self.programs.remove(&app) else { return };
        let status = world.user.apps.get(app).map_or(0, |a| a.status);
        if self.foreground.is_some() && i + 1 == self.transcript.len() {
            self.foreground_exit = Some((world.now, status));
        }
        let Some(log) = self.transcript.get_mut(i) else { return };
        if status == 0 {
            // The load check could not know a program's outcome: say so now.
            if self.steps.get(log.index).is_some_and(|s| s.fails)
                && let Some(ns) = world.ns_by_name(&log.host)
            {
                world.shell_log(ns, || "  (marked `fails: true`, but the program exited 0)".to_string());
            }
            return;
        }
        log.status = status;
        if let Some(ns) = world.ns_by_name(&log.host) {
            world.shell_log(ns, || format!("  (exit status {status})"));
        }
    }

    /// The swarm's orchestrator between steps: tasks whose program ended are Complete or
    /// Failed and replaced as their restart policy says, and tasks whose restart delay is
    /// over start (their program too). The lab ends with its last step: after it, nothing is
    /// started again. As for a foreground container's exit at the end, no step of the
    /// transcript carries this change, so the kernel backend's replay does not have it.
    pub fn wake(&mut self, world: &mut World) -> Result<(), PlanError> {
        let now = world.now;
        let Some(swarm) = self.swarm.as_ref() else { return Ok(()) };
        let starts = self.next < self.scripted && swarm.pending_by(now);
        if self.task_exits.is_empty() && !starts {
            return Ok(());
        }
        // The plan before the change, which the change is diffed against; the load check ran
        // none of this, so its deltas no longer describe the daemons.
        self.prepared = None;
        if self.plan_stale {
            self.recompile();
        }
        let swarm = self.swarm.as_mut().expect("checked above");
        for (name, at, status) in std::mem::take(&mut self.task_exits) {
            let node = self.engines.iter().find(|(_, e)| e.container(&name).is_some()).map(|(h, _)| h.clone());
            if let Some(due) =
                swarm.task_exited(&name, status, at, &mut self.engines).map_err(|e| PlanError::new(e.0, &name))?
            {
                self.wakeups.push(due);
            }
            if let Some(ns) = node.and_then(|h| world.ns_by_name(&h)) {
                world.shell_log(ns, || format!("  (swarm: task {name} ended with status {status})"));
            }
        }
        if starts {
            let (wakes, _) = swarm.advance(now, &mut self.engines).map_err(|e| PlanError::new(e.0, "swarm"))?;
            self.wakeups.extend(wakes);
        }
        self.realise(world, None).map(|_| ())
    }

    /// Applies the daemons' new plan to the world and starts the servers of new sandboxes.
    fn realise(
        &mut self,
        world: &mut World,
        prepared: Option<crate::kernel::reconf::PlanDelta>,
    ) -> Result<Effects, PlanError> {
        #[cfg(debug_assertions)]
        let used_prepared = prepared.is_some();
        let delta = match prepared {
            Some(delta) => {
                // The load check ran the same commands from the same state: its delta is this
                // step's (debug builds, the tests, compare it with a fresh one below). The
                // plan is behind now, and compiled whole when next needed (`recompile`).
                self.plan_stale = true;
                for (_, e) in &mut self.engines {
                    e.take_touched();
                }
                self.base_touched.clear();
                delta
            }
            None => {
                debug_assert!(!self.plan_stale, "a step the load check saw change nothing changed the plan");
                self.step_delta()
            }
        };
        #[cfg(debug_assertions)]
        {
            let new = self.compile();
            let fresh = self.shadow_plan.diff(&new);
            assert!(
                !used_prepared || fresh.same_change(&delta, &self.shadow_plan),
                "the load check's delta is not this step's: {delta:?}\n{fresh:?}"
            );
            self.shadow_plan = new;
        }
        world.apply_delta(&delta)?;
        let mut fx = Effects { delta: Some(delta), ..Default::default() };
        // The world's zones follow every daemon's changes, whichever way the sandboxes ask.
        let mut touched = Vec::new();
        for (i, (_, e)) in self.engines.iter_mut().enumerate() {
            for op in e.take_zone_ops() {
                world.apply_zone_op(op);
            }
            touched.push((i, e.take_touched_containers()));
        }
        // Without a swarm (whose zones are its services'), and unless the step log must
        // carry every zone for the kernel's replay, a step visits only the containers it
        // touched: the sandboxes ask the world's zones by key, changed above.
        if self.swarm.is_none() && !self.keep_script {
            self.realise_touched(world, &mut fx, touched)?;
        } else {
            self.realise_all(world, &mut fx)?;
        }
        let announced = match &fx.delta {
            Some(d) => self.announce(world, d)?,
            None => Vec::new(),
        };
        fx.started.extend(announced);
        Ok(fx)
    }

    /// [`Director::realise`] for the containers in `touched` (by daemon and `seq`): new
    /// sandboxes get their embedded DNS and servers, changed ones ask their networks' zones,
    /// and those that stopped or went free their names for a new container.
    fn realise_touched(
        &mut self,
        world: &mut World,
        fx: &mut Effects,
        touched: Vec<(usize, Vec<u64>)>,
    ) -> Result<(), PlanError> {
        #[cfg(debug_assertions)]
        for (_, e) in &self.engines {
            for z in e.dns_zones().values() {
                assert_eq!(world.zone(&z.key), Some(z), "the world's zone {} is not the daemon's", z.key);
            }
        }
        for (ei, mut seqs) in touched {
            seqs.sort_unstable();
            seqs.dedup();
            let e = &self.engines[ei].1;
            for seq in seqs {
                let running = e.container_by_seq(seq).filter(|c| c.state == crate::docker::engine::RunState::Running);
                let Some(c) = running else {
                    // Sandboxes that went away free their names for a new container.
                    if let Some(k) = self.started_by.remove(&(ei, seq)) {
                        self.started.remove(&k);
                    }
                    for app in self.proxies.remove(&(ei, seq)).unwrap_or_default() {
                        world.stop_program(app);
                    }
                    for app in self.servers_run.remove(&(ei, seq)).unwrap_or_default() {
                        world.stop_program(app);
                    }
                    continue;
                };
                let ns_name = e.sandbox_ns(c);
                let Some(ns) = world.ns_by_name(&ns_name) else { continue };
                let mut servers = Vec::new();
                let mut keys = None;
                if e.has_embedded_dns(c) {
                    let want = e.dns_zone_keys(c);
                    if !world.has_dns_server(ns) && world.nameserver(ns).is_none() {
                        // dockerd's resolver starts with the sandbox's first user-defined
                        // network (at creation, or at a later `network connect`).
                        servers.push(Traffic::Dns {
                            ns: ns_name.clone(),
                            port: c.dns_ports.0,
                            records: DnsZones::default(),
                        });
                        keys = Some(want);
                    } else if world.has_dns_server(ns) && world.dns_keys(ns) != Some(want.as_slice()) {
                        keys = Some(want);
                    }
                }
                let key = servers_key(e, c);
                if let Some(old) = self.started_by.insert((ei, seq), key.clone())
                    && old != key
                {
                    self.started.remove(&old);
                }
                let mut proxies = Vec::new();
                let mut image_servers = 0;
                if self.started.insert(key) {
                    for app in self.servers_run.remove(&(ei, seq)).unwrap_or_default() {
                        world.stop_program(app);
                    }
                    let mine = e.servers(c);
                    image_servers = mine.len();
                    servers.extend(mine);
                    proxies = e.proxies(c);
                    // Its /etc/hosts as it starts: its own names, `--add-host`, `--link`.
                    world.set_hosts(ns, e.hosts_names(c));
                    world.set_dns_links(ns, e.dns_links(c));
                }
                let mut books = Books {
                    host: &self.engines[ei].0,
                    container: (ei, seq),
                    servers_run: &mut self.servers_run,
                    logs: &mut self.logs,
                    task_logs: &mut self.task_logs,
                };
                start_servers(world, fx, &mut books, c, e, servers, image_servers)?;
                start_proxies(world, fx, self.proxies.entry((ei, seq)).or_default(), proxies);
                if let Some(keys) = keys {
                    world.set_dns_keys(ns, keys);
                }
            }
        }
        Ok(())
    }

    /// [`Director::realise`] for every container: each sandbox is given its zones whole
    /// (with a swarm, or for a step log the kernel replays).
    fn realise_all(&mut self, world: &mut World, fx: &mut Effects) -> Result<(), PlanError> {
        fx.zones = self.share_zones();
        let swarm_keys = self.swarm.as_ref().map(Swarm::dns_zone_keys).unwrap_or_default();
        for (ei, (_, e)) in self.engines.iter().enumerate() {
            for c in e.containers.iter().filter(|c| c.state == crate::docker::engine::RunState::Running) {
                let ns_name = e.sandbox_ns(c);
                let Some(ns) = world.ns_by_name(&ns_name) else { continue };
                let mut servers = Vec::new();
                if e.has_embedded_dns(c) {
                    let zones = self.zones_of(e, c, &swarm_keys);
                    // A server that asked the world's zones by key is given them whole now.
                    let keyed = world.dns_keys(ns).is_some();
                    match world.dns_zones(ns) {
                        // dockerd's resolver starts with the sandbox's first user-defined or
                        // swarm network (at creation, or at a later `network connect`).
                        None if world.nameserver(ns).is_none() => {
                            servers.push(Traffic::Dns { ns: ns_name.clone(), port: c.dns_ports.0, records: zones })
                        }
                        Some(old) if keyed || !old.same(&zones) => {
                            if !old.keys().eq(zones.keys()) {
                                fx.dns.push((ns_name.clone(), zones.clone()));
                            }
                            world.set_dns_zones(ns, zones);
                        }
                        _ => {}
                    }
                }
                let mut proxies = Vec::new();
                let mut task_program = None;
                let mut image_servers = 0;
                if self.started.insert(servers_key(e, c)) {
                    for app in self.servers_run.remove(&(ei, c.seq)).unwrap_or_default() {
                        world.stop_program(app);
                    }
                    let mine = e.servers(c);
                    image_servers = mine.len();
                    servers.extend(mine);
                    proxies = e.proxies(c);
                    // Its /etc/hosts as it starts: its own names, `--add-host`, `--link`.
                    world.set_hosts(ns, e.hosts_names(c));
                    world.set_dns_links(ns, e.dns_links(c));
                    task_program = task_program_of(e, c, world.now);
                }
                let mut books = Books {
                    host: &self.engines[ei].0,
                    container: (ei, c.seq),
                    servers_run: &mut self.servers_run,
                    logs: &mut self.logs,
                    task_logs: &mut self.task_logs,
                };
                start_servers(world, fx, &mut books, c, e, servers, image_servers)?;
                match task_program {
                    Some(Ok(t)) => {
                        let idx = world.add_traffic(&t).map_err(|m| PlanError::new(m, &ns_name))?;
                        world.keep_output(idx);
                        self.task_apps.insert(idx, c.name.clone());
                        self.task_logs.insert(c.name.clone(), ContainerLog::Program(idx));
                        fx.started.push(t);
                    }
                    // It printed why it could not start, and exited 1.
                    Some(Err(m)) => {
                        self.task_logs.insert(c.name.clone(), ContainerLog::Text(format!("{m}\n")));
                        self.task_exits.push((c.name.clone(), world.now, 1));
                        self.wakeups.push(world.now);
                    }
                    None => {}
                }
                start_proxies(world, fx, self.proxies.entry((ei, c.seq)).or_default(), proxies);
            }
        }
        // Sandboxes that went away free their names for a new container.
        let mut alive: Map<(usize, u64), String> = Map::default();
        for (i, (_, e)) in self.engines.iter().enumerate() {
            for c in e.containers.iter().filter(|c| c.state == crate::docker::engine::RunState::Running) {
                alive.insert((i, c.seq), servers_key(e, c));
            }
        }
        let keys: Set<&String> = alive.values().collect();
        self.started.retain(|n| keys.contains(n));
        let gone: Vec<(usize, u64)> =
            self.proxies.keys().chain(self.servers_run.keys()).filter(|k| !alive.contains_key(k)).copied().collect();
        for k in gone {
            let apps = self.proxies.remove(&k).into_iter().chain(self.servers_run.remove(&k));
            for app in apps.flatten() {
                world.stop_program(app);
            }
        }
        self.started_by = alive;
        Ok(())
    }

    /// v28+: every new sandbox interface with an address is announced by dockerd with unsolicited
    /// ARP requests (docs/docker-model.md *On the wire*; `Era::unsolicited_arps`, none in 20.10).
    fn announce(
        &mut self,
        world: &mut World,
        delta: &crate::kernel::reconf::PlanDelta,
    ) -> Result<Vec<Traffic>, PlanError> {
        let mut started = Vec::new();
        let n = self.engine_spec.version.unsolicited_arps();
        let sandbox =
            |ns: &str| ns.contains(':') && !ns.split_once(':').is_some_and(|(_, rest)| rest.starts_with("1-"));
        // What the step took away is no longer announced (a namespace takes its addresses).
        let gone: Set<&str> = delta.removed.namespaces.iter().map(|n| n.name.as_str()).collect();
        let dropped: Set<(&str, &str, std::net::Ipv4Addr)> =
            delta.removed.addresses.iter().map(|a| (a.ns.as_str(), a.dev.as_str(), a.addr.addr)).collect();
        self.announced.retain(|(ns, dev, ip)| !gone.contains(ns.as_str()) && !dropped.contains(&(ns, dev, *ip)));
        let now: Vec<(String, String, std::net::Ipv4Addr)> = delta
            .added
            .addresses
            .iter()
            .filter(|a| sandbox(&a.ns) && a.addr.len < 32)
            .map(|a| (a.ns.clone(), a.dev.clone(), a.addr.addr))
            .collect();
        for x in &now {
            if n == 0 || self.announced.contains(x) {
                continue;
            }
            let t = Traffic::Announce {
                at: world.now,
                ns: x.0.clone(),
                dev: x.1.clone(),
                count: n,
                interval: crate::docker::era::UNSOLICITED_ARP_GAP,
            };
            world.add_traffic(&t).map_err(|m| PlanError::new(m, &x.0))?;
            started.push(t);
            self.announced.insert(x.clone());
        }
        Ok(started)
    }

    /// What a state-printing program prints now, on `host` or in its `container`.
    fn run_tool(
        &self,
        world: &World,
        host: &str,
        container: Option<&str>,
        tool: &crate::tools::Tool,
    ) -> Result<String, Failure> {
        use crate::kernel::show::What;
        use crate::tools::Tool;
        let engine = self.engine(host).ok();
        let c = container.and_then(|n| engine.and_then(|e| e.container(n)));
        let ns_name = match (engine, c) {
            (Some(e), Some(c)) => e.sandbox_ns(c),
            _ => host.to_string(),
        };
        let gone = || Failure {
            message: format!("Error response from daemon: Container {} is not running", container.unwrap_or(host)),
            status: 1,
            unmodelled: false,
        };
        let ns = world.ns_by_name(&ns_name).ok_or_else(gone)?;
        let in_container = c.is_some_and(|c| c.mode != crate::docker::engine::SandboxMode::Host);
        let fail = |message: String, status: u8| Failure { message, status, unmodelled: false };
        // alpine's and busybox's `ip` is busybox's applet, which prints its own way.
        let busybox = c.is_some_and(|c| crate::docker::images::find(&c.image).is_some_and(|i| i.busybox));
        let table = |what: What| match (busybox, what) {
            (true, What::Route) => crate::kernel::show::busybox_ip_route(world, ns),
            (true, What::Addr) => crate::kernel::show::busybox_ip_addr(world, ns, true),
            (true, What::Link) => crate::kernel::show::busybox_ip_addr(world, ns, false),
            (true, What::Neigh) => crate::kernel::show::busybox_ip_neigh(world, ns),
            _ => crate::kernel::show::typed(world, ns, what),
        };
        match tool {
            Tool::Show(what) => Ok(table(*what)),
            Tool::Inet4(t) => {
                self.run_tool(world, host, container, t).map(|text| crate::tools::inet4(&text))
            }
            Tool::OneLine(t) => {
                let addr = match &**t {
                    Tool::Inet4(inner) => matches!(**inner, Tool::Show(What::Addr) | Tool::ShowDev(What::Addr, _)),
                    other => matches!(other, Tool::Show(What::Addr) | Tool::ShowDev(What::Addr, _)),
                };
                self.run_tool(world, host, container, t).map(|text| crate::tools::oneline(&text, addr))
            }
            Tool::ShowQdisc(dev) => {
                let all = crate::kernel::show::show(world, ns, crate::kernel::show::What::Qdisc);
                let line = all.lines().find(|l| l.split(" dev ").nth(1).and_then(|r| r.split(' ').next()) == Some(dev));
                match line {
                    // tc leaves out `dev NAME` when it was asked for one device.
                    Some(l) => Ok(l.replace(&format!(" dev {dev} "), " ") + "\n"),
                    None => Err(fail(format!("Cannot find device \"{dev}\""), 1)),
                }
            }
            Tool::ShowDev(what @ (What::BrLink | What::BrLinkDetails), dev) => {
                match crate::tools::device_block(&table(*what), dev) {
                    Ok(block) => Ok(block),
                    // A device that is not a bridge port prints nothing.
                    Err(_) if crate::tools::device_block(&table(What::Link), dev).is_ok() => Ok(String::new()),
                    Err(_) => Err(fail(format!("Cannot find device \"{dev}\""), 255)),
                }
            }
            Tool::ShowDev(what, dev) => match crate::tools::device_block(&table(*what), dev) {
                Ok(block) => Ok(block),
                // busybox's `ip` says it its own way (`ip_common.c`, `xll_name_to_index`).
                Err(_) if busybox => Err(fail(format!("ip: can't find device '{dev}'"), 1)),
                Err(e) => Err(fail(e.message, e.status)),
            },
            // Docker's default capabilities leave NET_ADMIN out: iptables cannot read the rules.
            Tool::IptablesSave { .. } | Tool::IptablesRules { .. } | Tool::IptablesList { .. } if in_container => Err(fail(
                "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)"
                    .into(),
                4,
            )),
            Tool::IptablesSave { table, counters } => Ok(world.netns(ns).nf.save_tables(*table, *counters)),
            Tool::IptablesRules { table, chain } => {
                world.netns(ns).nf.list_rules(*table, chain.as_deref()).map_err(|m| fail(m, 1))
            }
            Tool::IptablesList { table, chain, rule, flags } => {
                let hosts = crate::tools::hosts_lines(&crate::tools::host_etc_hosts(host));
                let names = crate::kernel::netfilter::Names { hosts: &hosts };
                world.netns(ns).nf.list(*table, chain.as_deref(), *rule, *flags, &names).map_err(|m| fail(m, 1))
            }
            Tool::Cat { prog, files } => {
                let host_resolv: String = world
                    .ns_by_name(host)
                    .and_then(|h| world.user.resolver.get(&h))
                    .map(|ip| format!("nameserver {ip}\n"))
                    .unwrap_or_default();
                let host_hosts = crate::tools::host_etc_hosts(host);
                crate::tools::cat(prog, files, |f| match (f, engine.zip(c)) {
                    ("/etc/hosts", Some((e, c))) => Some(e.etc_hosts(c, &host_hosts)),
                    ("/etc/hosts", None) => Some(host_hosts.clone()),
                    ("/etc/resolv.conf", Some((e, c))) => Some(e.resolv_conf(c, &host_resolv)),
                    ("/etc/resolv.conf", None) => Some(host_resolv.clone()),
                    ("/etc/hostname", Some((e, c))) if in_container => Some(format!("{}\n", e.hostname(c))),
                    ("/etc/hostname", _) => Some(format!("{host}\n")),
                    (path, None) => {
                        let abs = crate::docker::compose::absolute(&self.cwd(host), path);
                        self.hosts.iter().find(|h| h.name == host).and_then(|h| h.file(&abs)).cloned()
                    }
                    _ => None,
                })
                .map_err(|t| fail(t.message, t.status))
            }
            Tool::Hostname => Ok(match (engine, c) {
                (Some(e), Some(c)) if in_container => format!("{}\n", e.hostname(c)),
                _ => format!("{host}\n"),
            }),
        }
    }

    /// `ip link set`, `tc qdisc`, `iptables` on a host or namespace: a change of the lab's own
    /// part of its plan, applied with the step's delta.
    fn netconf(&mut self, ns: &str, cmd: &crate::netconf::NetCmd) -> Result<String, crate::tools::ToolError> {
        let now = self.compile();
        let out = crate::netconf::apply(cmd, ns, &now, &mut self.base, &mut self.typed_rules)?;
        self.base_shards = PlanShards::new(&self.base);
        self.base_touched.insert(ns.to_string());
        Ok(out)
    }

    fn engine_mut(&mut self, host: &str) -> Option<&mut Engine> {
        self.engines.iter_mut().find(|(h, _)| h == host).map(|(_, e)| e)
    }

    /// The command's effect on the control plane.
    fn command(&mut self, step: &Step, now: SimTime) -> Result<Outcome, Failure> {
        let host =
            self.host(&step.on).cloned().map_err(|message| Failure { message, status: 127, unmodelled: true })?;
        let line = step.run.trim();
        let first = line.split_whitespace().next().unwrap_or_default();
        if first == "docker-compose" || line.starts_with("docker compose ") || line == "docker compose" {
            return self.compose(&host, line, now);
        }
        if first == "cd" {
            return self.cd(&host, line);
        }
        if first == "sleep" {
            let words = cli::shell_words(line).map_err(|e| Failure::program(format!("bash: {}", e.message)))?;
            let args: Vec<&str> = words[1..].iter().map(|w| w.0.as_str()).collect();
            return crate::tools::sleep(&args).map(Outcome::Slept).map_err(|t| Failure {
                unmodelled: t.message.starts_with("netsim:"),
                message: t.message,
                status: t.status,
            });
        }
        if line.starts_with("docker stack ") || line == "docker stack" {
            return self.stack(&host, line, now);
        }
        if line.starts_with("docker ") || line == "docker" {
            if self.engine_mut(&host.name).is_none() {
                return Err(Failure {
                    message: "bash: docker: command not found".into(),
                    status: 127,
                    unmodelled: false,
                });
            }
            // A run that the CLI refuses still exits as a failed run does.
            let words: Vec<&str> = line.split_whitespace().take(3).collect();
            let is_run = matches!(words.as_slice(), ["docker", "run", ..] | ["docker", "container", "run"]);
            // docker/cli 28 prints a flag error as it is, an arity error or any refusal of
            // `docker run` after `docker: `, and the rest (the IPAM options' checks) as they are.
            let era = self.engine_mut(&host.name).map(|e| e.era()).unwrap_or_default();
            let cmd = cli::parse(line).map_err(|mut e| {
                // The 20.10 client's distribution/reference does not name the repository.
                if era == crate::docker::era::Era::V20_10
                    && let Some((head, _)) = e.message.split_once("repository name (")
                    && e.message.ends_with(") must be lowercase")
                {
                    e.message = format!("{head}repository name must be lowercase");
                }
                let flag = cli::is_flag_error(&e);
                let prefixed = !flag && (is_run || cli::is_arity_error(&e)) || e.message.starts_with("netsim:");
                let message = if prefixed { format!("docker: {}", e.message) } else { e.message.clone() };
                Failure::docker(message, flag, is_run)
            })?;
            let run = matches!(cmd, cli::DockerCommand::Run(_));
            let mut busy = crate::docker::timing::busy(&cmd).unwrap_or_default();
            // A container that ignores SIGTERM holds `docker stop` until its timeout.
            if let (cli::DockerCommand::Stop(s) | cli::DockerCommand::Restart(s), Some(e)) =
                (&cmd, self.engine_mut(&host.name))
            {
                busy += e.stop_wait(&s.containers, s.timeout);
            }
            let out = self.docker(&host, &cmd, now).map(|o| match o {
                // An attached `service update` lasts as its update does (`Swarm::follow`).
                Outcome::Changed(text, follow) if follow > SimTime::ZERO => Outcome::Changed(text, follow),
                Outcome::Changed(text, _) => Outcome::Changed(text, busy),
                Outcome::Detached(mut d) => {
                    d.busy = busy;
                    Outcome::Detached(d)
                }
                o => o,
            });
            return out.map_err(|EngineError(e)| {
                // docker/cli prints a failed `docker run`'s daemon error after `docker: `.
                let e = if run && e.starts_with("Error response from daemon") { format!("docker: {e}") } else { e };
                Failure::docker(e, false, run)
            });
        }
        if ["systemctl stop docker", "service docker stop"].contains(&line) {
            return self
                .stop_daemon(&host.name)
                .map(|t| Outcome::Changed(t, SimTime::ZERO))
                .map_err(|EngineError(e)| Failure::program(e));
        }
        let words = cli::shell_words(line).map_err(|e| Failure::program(format!("bash: {}", e.message)))?;
        let argv = cli::Argv { words: words.iter().map(|w| w.0.clone()).collect(), spans: Vec::new() };
        if let Some(cmd) = crate::netconf::parse(&argv.words) {
            let fail = |t: crate::tools::ToolError| Failure {
                unmodelled: t.message.starts_with("netsim:"),
                message: t.message,
                status: t.status,
            };
            let cmd = cmd.map_err(fail)?;
            return self.netconf(&host.name, &cmd).map(|t| Outcome::Changed(t, SimTime::ZERO)).map_err(fail);
        }
        if let Some(tool) = crate::tools::parse(&argv.words) {
            let tool = tool.map_err(|t| Failure {
                unmodelled: t.message.starts_with("netsim:"),
                message: t.message,
                status: t.status,
            })?;
            return Ok(Outcome::Tool { host: host.name.clone(), container: None, tool });
        }
        let t = crate::docker::engine::app_traffic(
            cli::parse_app_command(&argv),
            &argv,
            host.name.clone(),
            None,
            &host.name,
            now,
        )
        .map_err(|e| Failure::program(e.0))?;
        Ok(Outcome::Client(t))
    }
}

impl Director {
    /// The host's working directory.
    fn cwd(&self, host: &str) -> String {
        self.cwd.get(host).cloned().unwrap_or_else(|| HOME.to_string())
    }

    /// `cd [DIR]`: the steps after it on this host start there, as in one shell.
    fn cd(&mut self, host: &HostSpec, line: &str) -> Result<Outcome, Failure> {
        let words = cli::shell_words(line).map_err(|e| Failure::program(format!("bash: {}", e.message)))?;
        if words.len() > 2 {
            return Err(Failure::program("bash: cd: too many arguments".into()));
        }
        let target = cd_target(&self.cwd(&host.name), words.get(1).map(|w| w.0.as_str()));
        if !host.is_dir(&target) {
            let typed = &words[1].0;
            let why = if host.file(&target).is_some() { "Not a directory" } else { "No such file or directory" };
            return Err(Failure::program(format!("bash: cd: {typed}: {why}")));
        }
        self.cwd.insert(host.name.clone(), target);
        Ok(Outcome::Printed(String::new()))
    }

    /// `docker-compose …` (Compose 1.29) against the host's daemon, with the host's files.
    fn compose(&mut self, host: &HostSpec, line: &str, now: SimTime) -> Result<Outcome, Failure> {
        use crate::docker::compose;
        if line.starts_with("docker compose") {
            return Err(Failure {
                message:
                    "netsim: `docker compose` (Compose v2) is not modelled yet; `docker-compose` (Compose 1.29) is"
                        .into(),
                status: 127,
                unmodelled: true,
            });
        }
        if self.engine_mut(&host.name).is_none() {
            return Err(Failure {
                message: "bash: docker-compose: command not found".into(),
                status: 127,
                unmodelled: false,
            });
        }
        let words = cli::shell_words(line).map_err(|e| Failure::program(format!("bash: {}", e.message)))?;
        let words: Vec<String> = words.into_iter().skip(1).map(|w| w.0).collect();
        let inv = compose::parse(&words)?;
        let cwd = self.cwd(&host.name);
        let project = compose::load(&inv.source, &cwd, &|p| host.file(p).cloned())?;
        let e = self.engine_mut(&host.name).ok_or_else(|| Failure::program(format!("no daemon on {}", host.name)))?;
        e.clock = now;
        let done = compose::run(e, &project, &inv.verb).map_err(|EngineError(m)| Failure::program(m))?;
        if let Some((container, argv)) = done.exec {
            let argv = cli::Argv { words: argv, spans: Vec::new() };
            return self.program(&host.name, &container, &argv, now).map_err(|EngineError(m)| Failure::program(m));
        }
        if let Some(compose::Logs { containers, tail }) = done.logs {
            let mut tasks = Vec::new();
            for (prefix, name) in containers {
                let e = self.engine(&host.name).map_err(|EngineError(m)| Failure::program(m))?;
                let Some(c) = e.container(&name) else { continue };
                match self.logs.get(&(host.name.clone(), c.id.clone())) {
                    Some(runs) => tasks.extend(runs.iter().map(|r| (Some(prefix.clone()), r.clone()))),
                    None if crate::docker::engine::prints_nothing(c) || crate::docker::engine::writes_web_log(c) => {}
                    None => {
                        return Err(Failure::program(format!(
                            "netsim: what `{}` prints in {name} is not modelled, so neither is its log",
                            c.command.join(" ")
                        )));
                    }
                }
            }
            return Ok(Outcome::ServiceLogs { head: done.out, tasks, tail });
        }
        Ok(match done.changed {
            true => Outcome::Changed(done.out, done.busy),
            false => Outcome::Printed(done.out),
        })
    }

    /// `docker stack …` on a swarm manager, with the host's files.
    fn stack(&mut self, host: &HostSpec, line: &str, now: SimTime) -> Result<Outcome, Failure> {
        use crate::docker::{compose, stack};
        if self.engine_mut(&host.name).is_none() {
            return Err(Failure { message: "bash: docker: command not found".into(), status: 127, unmodelled: false });
        }
        let words = cli::shell_words(line).map_err(|e| Failure::program(format!("bash: {}", e.message)))?;
        let words: Vec<String> = words.into_iter().skip(2).map(|w| w.0).collect();
        let cmd = stack::parse(&words)?;
        let me = host.name.as_str();
        let notice = match &cmd {
            stack::StackCmd::Deploy { detach: false, .. } => stack::DETACH_NOTICE,
            _ => "",
        };
        let manager = self.swarm.as_ref().filter(|s| s.require_manager(me).is_ok() && s.node(me).is_some_and(|n| n.up));
        let Some(swarm) = manager else {
            return Err(Failure::program(format!(
                "{notice}this node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again"
            )));
        };
        let plan = match &cmd {
            stack::StackCmd::Ls => return Ok(Outcome::Printed(stack::ls(swarm))),
            stack::StackCmd::Services { stack: st } => return Ok(Outcome::Printed(stack::services(swarm, st))),
            stack::StackCmd::Ps { stack: st } => return Ok(Outcome::Printed(stack::ps(swarm, st)?)),
            stack::StackCmd::Rm { stacks } => stack::rm(swarm, stacks),
            stack::StackCmd::Deploy { file, stack: st, .. } => {
                let src = compose::Source { files: vec![file.clone()], project: Some(st.clone()), project_dir: None };
                let project = compose::load(&src, &self.cwd(me), &|p| host.file(p).cloned())?;
                stack::deploy(&project, st, swarm)?
            }
        };
        let (mut out, mut busy) = (notice.to_string(), SimTime::ZERO);
        for (said, argv) in plan {
            if let Some(l) = said {
                out += &l;
                out.push('\n');
            }
            if argv.is_empty() {
                continue;
            }
            let c = cli::parse_argv(&argv).map_err(|e| Failure::program(format!("{out}{}", e.message)))?;
            busy += crate::docker::timing::busy(&c).unwrap_or_default();
            self.docker(host, &c, now).map_err(|EngineError(e)| Failure::program(format!("{out}{e}")))?;
        }
        Ok(Outcome::Changed(out, busy))
    }

    fn docker(&mut self, host: &HostSpec, cmd: &cli::DockerCommand, now: SimTime) -> Result<Outcome, EngineError> {
        // `docker restart` of a container on an overlay: it leaves the overlay as it stops
        // and joins it again as it starts.
        if let cli::DockerCommand::Restart(r) = cmd
            && let Ok(e) = self.engine(&host.name)
            && let Some(s) = self.swarm.as_ref()
            && r.containers
                .iter()
                .filter_map(|c| e.container(c))
                .any(|c| s.attachments.iter().any(|a| a.node == host.name && a.container == c.name))
        {
            // Both print the names; the start's outcome carries the processes it started.
            self.docker(host, &cli::DockerCommand::Stop(r.clone()), now)?;
            let start = cli::Start { containers: r.containers.clone(), attach: false, interactive: false };
            return self.docker(host, &cli::DockerCommand::Start(start), now);
        }
        let out = self.docker_command(host, cmd, now);
        self.release_attachments();
        self.reattach_started(&host.name)?;
        out
    }

    fn docker_command(
        &mut self,
        host: &HostSpec,
        cmd: &cli::DockerCommand,
        now: SimTime,
    ) -> Result<Outcome, EngineError> {
        use cli::DockerCommand as D;
        let me = host.name.as_str();
        if let Some(s) = self.swarm.as_mut() {
            s.clock = now;
        }
        if let Some(e) = self.engine_mut(me) {
            e.clock = now;
        }
        if let D::NetworkLs(l) = cmd {
            let overlays = match self.swarm.as_ref().filter(|s| s.node(me).is_some_and(|n| n.up)) {
                Some(s) => s.listed_overlays(me),
                None => Vec::new(),
            };
            let out = crate::docker::network_ls::list(self.engine(me)?, l, &overlays)?;
            return Ok(Outcome::Printed(out));
        }
        if let D::Ps(_) = cmd {
            let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
            return e.apply(cmd).map(Outcome::Printed);
        }
        if let D::NetworkInspect(i) = cmd {
            let e = self.engine(me)?;
            let (mut found, mut missing) = (Vec::new(), Vec::new());
            for n in &i.networks {
                match crate::docker::inspect::network(e, self.swarm.as_ref(), me, n) {
                    Ok(v) => found.push(v),
                    Err(EngineError(m)) => missing.push(m),
                }
            }
            // `-v` on an overlay: the services and tasks the node knows on it.
            if i.verbose
                && let Some(s) = self.swarm.as_ref()
            {
                for n in found.iter_mut() {
                    let name = n["Name"].as_str().unwrap_or_default().to_string();
                    if n["Scope"] == "swarm"
                        && let (Some(services), serde_json::Value::Object(m)) = (s.services_verbose(me, &name), n)
                    {
                        m.insert("Services".into(), services);
                    }
                }
            }
            // What was found is printed, then the error for what was not (`[]` when nothing).
            let out = crate::docker::inspect::print(&found, i.format.as_deref())?;
            return match missing.is_empty() {
                true => Ok(Outcome::Printed(out)),
                false => Err(EngineError(format!("{out}{}", missing.join("\n")))),
            };
        }
        if let D::Port(p) = cmd {
            return self.engine(me)?.port(p).map(Outcome::Printed);
        }
        match cmd {
            D::Version(f) => {
                return crate::docker::system::version(self.engine(me)?, f.as_deref()).map(Outcome::Printed);
            }
            D::Info(f) => {
                let view = self.swarm.as_ref().map(|swarm| crate::docker::system::SwarmView { swarm, host: me });
                return crate::docker::system::info(self.engine(me)?, view, f.as_deref()).map(Outcome::Printed);
            }
            D::Images(l) => return crate::docker::system::images(self.engine(me)?, l).map(Outcome::Printed),
            D::Pull(p) => return Err(crate::docker::system::pull(p)),
            D::Run(r) | D::Create(r) => {
                if let Some(e) = self.engine_mut(me) {
                    e.have_image(&r.image);
                }
            }
            _ => {}
        }
        if let D::Logs(l) = cmd {
            return self.logs(me, l);
        }
        if let D::Inspect(i) = cmd {
            return self.inspect(me, i).map(Outcome::Printed);
        }
        let in_swarm = self.swarm.as_ref().is_some_and(|s| s.node(me).is_some_and(|n| n.up));
        if let (D::ServiceLogs(l), true) = (cmd, in_swarm) {
            return self.service_logs(me, l);
        }
        match cmd {
            D::Exec(x) => {
                let e = self.engine(me)?;
                let c = e.container(&x.container).ok_or_else(|| {
                    EngineError(format!("Error response from daemon: No such container: {}", x.container))
                })?;
                if c.state != crate::docker::engine::RunState::Running {
                    return Err(EngineError(format!("Error response from daemon: Container {} is not running", c.id)));
                }
                let out = self.program(me, &c.name.clone(), &x.command, now)?;
                return Ok(match out {
                    Outcome::Client(t) if x.detach => Outcome::Background(t),
                    // What a tool prints goes nowhere either.
                    Outcome::Tool { .. } if x.detach => Outcome::Printed(String::new()),
                    out => out,
                });
            }
            D::SwarmInit(i) => {
                if in_swarm || self.swarm.is_some() {
                    return Err(EngineError(
                        "Error response from daemon: This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.".into(),
                    ));
                }
                let addr = match i.advertise_addr.as_ref().map(|a| &a.host) {
                    Some(cli::AddrHost::Ip(std::net::IpAddr::V4(ip))) => *ip,
                    Some(_) => return Err(EngineError("netsim: give --advertise-addr as an IPv4 address".into())),
                    None => host.addr.addr,
                };
                if addr != host.addr.addr {
                    return Err(EngineError(format!(
                        "Error response from daemon: must specify a listening address because the address to advertise is not recognized as a system address, and a system's IP address to use could not be uniquely identified (netsim: {me} has {})",
                        host.addr.addr
                    )));
                }
                let mut pools = Vec::new();
                for c in &i.default_addr_pools {
                    let ip = crate::docker::engine::ipv4_only(c.addr)?;
                    let base = crate::plan::Ipv4Net::new(ip, c.prefix_len);
                    let size = u8::try_from(i.default_addr_pool_mask_length).unwrap_or(u8::MAX);
                    pools.push(crate::docker::ipam::PoolSpec { base, size });
                }
                let mut s = Swarm::init_with_pools(me, addr, self.seed, self.engine_spec.version, pools)?;
                s.created = now;
                self.swarm = Some(s);
                self.join_plumbing(me)?;
                let msg = self.swarm.as_ref().map(|s| s.init_message(me)).unwrap_or_default();
                return Ok(Outcome::Changed(msg, SimTime::ZERO));
            }
            D::SwarmLeave(_) if !in_swarm => {
                return Err(EngineError("Error response from daemon: This node is not part of a swarm".into()));
            }
            D::SwarmLeave(l) => return self.swarm_leave(me, l.force),
            D::SwarmJoin(j) => {
                let joined = self.swarm_join(host, j);
                if let Err(EngineError(m)) = &joined
                    && !m.contains("already part of a swarm")
                    && !m.starts_with("netsim:")
                    && let Some(e) = self.engine_mut(me)
                {
                    // The node had started and went; the daemon keeps its cluster provider.
                    e.cluster_left = true;
                }
                return joined;
            }
            _ => {}
        }
        if let D::Run(r) | D::Create(r) = cmd
            && let Some(net) = self.overlay_of(me, r)
        {
            return self.run_on_overlay(me, r, &net, matches!(cmd, D::Run(_)), now);
        }
        if let Some(out) = self.overlay_attach(me, cmd)? {
            return Ok(out);
        }
        if let D::NetworkRm(r) = cmd
            && r.networks.len() > 1
        {
            return self.network_rm_each(host, r, now);
        }
        if let Some(s) = self.swarm.as_mut() {
            let swarm_cmd = is_swarm_command(cmd);
            if swarm_cmd && !in_swarm {
                return Err(EngineError(
                    "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.".into(),
                ));
            }
            if let Some(r) = s.apply(me, cmd, &mut self.engines) {
                self.wakeups.append(&mut s.wakes);
                let follow = s.follow.take().unwrap_or_default();
                return r.map(|t| Outcome::Changed(t, follow));
            }
        } else if is_swarm_command(cmd) {
            return Err(EngineError(
                "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.".into(),
            ));
        }
        let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
        // The containers whose processes this command starts: `start` those not running,
        // `restart` every one.
        let starts: Vec<String> = match cmd {
            D::Start(x) => x
                .containers
                .iter()
                .filter_map(|c| e.container(c))
                .filter(|c| c.state != crate::docker::engine::RunState::Running)
                .map(|c| c.name.clone())
                .collect(),
            D::Restart(x) => x.containers.iter().filter_map(|c| e.container(c)).map(|c| c.name.clone()).collect(),
            _ => Vec::new(),
        };
        let out = e.apply(cmd)?;
        match cmd {
            D::Run(r) => self.after_run(me, out, r, now),
            D::Start(_) | D::Restart(_) if !starts.is_empty() => self.start_programs(me, out, &starts, now),
            _ => Ok(Outcome::Changed(out, SimTime::ZERO)),
        }
    }

    /// `docker start` and `restart`: the containers of `names` that now run start their processes
    /// ([`Director::container_process`]), each writing on after its earlier runs' log.
    fn start_programs(
        &mut self,
        me: &str,
        out: String,
        names: &[String],
        now: SimTime,
    ) -> Result<Outcome, EngineError> {
        let mut programs = Vec::new();
        for name in names {
            let Some((words, rm)) = self.engine(me)?.container(name).map(|c| (c.command.clone(), c.auto_remove)) else {
                continue;
            };
            let argv = cli::Argv { words, spans: Vec::new() };
            programs.extend(self.container_process(me, name, &argv, rm, now)?);
        }
        if programs.is_empty() {
            return Ok(Outcome::Changed(out, SimTime::ZERO));
        }
        Ok(Outcome::Detached(Box::new(Detached { printed: out, host: me.to_string(), programs, busy: SimTime::ZERO })))
    }

    /// `docker swarm join` on `host`.
    fn swarm_join(&mut self, host: &HostSpec, j: &cli::SwarmJoin) -> Result<Outcome, EngineError> {
        let me = host.name.as_str();
        // The daemon reads the token before it looks for a manager (swarmkit
        // `ca.ParseJoinToken`: `SWMTKN-1-` and two base-36 parts).
        let token = j.token.as_deref().unwrap_or_default();
        let parts: Vec<&str> = token.split('-').collect();
        let well_formed = matches!(parts.as_slice(), ["SWMTKN", "1", a, b]
            if a.len() == 50 && b.len() == 25 && (a.to_string() + b).bytes().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        if !well_formed && !["WORKER_TOKEN", "MANAGER_TOKEN"].contains(&token) && self.swarm.is_none() {
            return Err(EngineError("Error response from daemon: invalid join token".into()));
        }
        let Some(s) = self.swarm.as_mut() else {
            return Err(EngineError(
                "Error response from daemon: rpc error: code = Unavailable desc = connection error: no swarm manager listening".into(),
            ));
        };
        let out = s.join(me, host.addr.addr, j)?;
        self.join_plumbing(me)?;
        if let Some(s) = self.swarm.as_mut() {
            s.node_joined(&mut self.engines)?;
        }
        Ok(Outcome::Changed(out, SimTime::ZERO))
    }

    /// `docker network rm A B …`: docker/cli removes each network by itself, local or swarm,
    /// printing its name, or the daemon's error, and goes on; it exits 1 if one failed, and
    /// with `-f` says nothing of a network that is not there (`cli/command/network/remove.go`).
    fn network_rm_each(&mut self, host: &HostSpec, r: &cli::NetworkRm, now: SimTime) -> Result<Outcome, EngineError> {
        let (mut lines, mut failed) = (Vec::new(), false);
        for n in &r.networks {
            let one = cli::DockerCommand::NetworkRm(cli::NetworkRm { networks: vec![n.clone()], force: r.force });
            match self.docker(host, &one, now) {
                Ok(_) => lines.push(n.clone()),
                Err(EngineError(m)) if r.force && m.ends_with(&format!("network {n} not found")) => {}
                Err(EngineError(m)) => {
                    failed = true;
                    lines.push(m);
                }
            }
        }
        let text = lines.join("\n");
        if failed { Err(EngineError(text)) } else { Ok(Outcome::Changed(text, SimTime::ZERO)) }
    }

    /// `docker run -d IMAGE CMD`: the container's process ([`Director::container_process`]);
    /// the step does not wait for it.
    fn detached_run(&mut self, me: &str, id: String, r: &cli::Run, now: SimTime) -> Result<Outcome, EngineError> {
        let Some(name) = self.engine(me)?.container(&id).map(|c| c.name.clone()) else {
            return Ok(Outcome::Changed(id, SimTime::ZERO));
        };
        Ok(match self.container_process(me, &name, &r.command, r.rm, now)? {
            Some(p) => Outcome::Detached(Box::new(Detached {
                printed: id,
                host: me.to_string(),
                programs: vec![p],
                busy: SimTime::ZERO,
            })),
            None => Outcome::Changed(id, SimTime::ZERO),
        })
    }

    /// The process of container `name`, which has just started running `argv` (`docker run
    /// -d`, `docker start`): a program the simulator runs becomes it, printing into the
    /// container's log; the container stops when it ends (at the next step). One that
    /// cannot start (a command line it refuses) prints its words into the log and exits 1 at
    /// once. Any other command runs unseen, and one the simulator times (`sleep 5`) ends on
    /// time. `rm`: the daemon removes the container when it ends.
    fn container_process(
        &mut self,
        me: &str,
        name: &str,
        argv: &cli::Argv,
        rm: bool,
        now: SimTime,
    ) -> Result<Option<DetachedProgram>, EngineError> {
        let e = self.engine(me)?;
        let Some(c) = e.container(name).filter(|c| c.state == crate::docker::engine::RunState::Running) else {
            return Ok(None);
        };
        let id = c.id.clone();
        if cli::parse_app_command(argv).is_none() {
            if let Some(d) = crate::docker::images::runs_for(&c.image, &c.command, c.open_stdin) {
                self.timed_exits.push((me.to_string(), name.to_string(), c.started, c.started + d, rm));
            }
            return Ok(None);
        }
        match self.program(me, name, argv, now) {
            Ok(Outcome::Client(program)) => Ok(Some(DetachedProgram { id, name: name.to_string(), rm, program })),
            Err(EngineError(m)) if !m.starts_with("netsim:") => {
                let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
                if rm {
                    e.remove(name)
                } else {
                    e.exited(name, 1)
                };
                self.logs.entry((me.to_string(), id)).or_default().push(ContainerLog::Text(format!("{m}\n")));
                Ok(None)
            }
            Err(x) => Err(x),
            Ok(_) => Ok(None),
        }
    }

    /// A detached container's process ended at `at` with `status` (`None`: a `--rm`
    /// container, which goes). Returns whether the daemon changed.
    fn container_exited(&mut self, host: &str, name: &str, at: SimTime, status: Option<u8>) -> bool {
        let Some(e) = self.engine_mut(host) else { return false };
        let clock = e.clock;
        e.clock = at;
        let changed = match status {
            Some(code) => e.exited(name, code),
            None => e.remove(name),
        };
        e.clock = clock;
        self.release_attachments();
        changed
    }

    /// The foreground container this step made, as (host, container ID).
    fn foreground_id(&self) -> Option<(String, String)> {
        let (host, name, _) = self.foreground.as_ref()?;
        let c = self.engine(host).ok()?.container(name)?;
        Some((host.clone(), c.id.clone()))
    }

    /// `docker logs NAME`: what the container's process printed, where the simulator runs
    /// it or knows it prints nothing (a shell that exited at once, `sleep`).
    fn logs(&self, me: &str, l: &cli::Logs) -> Result<Outcome, EngineError> {
        let e = self.engine(me)?;
        let c = e
            .container(&l.container)
            .ok_or_else(|| EngineError(format!("Error response from daemon: No such container: {}", l.container)))?;
        match self.logs.get(&(me.to_string(), c.id.clone())).filter(|runs| !runs.is_empty()) {
            Some(runs) => Ok(Outcome::Logs { runs: runs.clone(), tail: l.tail }),
            None if crate::docker::engine::prints_nothing(c) || crate::docker::engine::writes_web_log(c) => {
                Ok(Outcome::Printed(String::new()))
            }
            None => Err(EngineError(format!(
                "netsim: what `{}` prints in {} is not modelled, so neither is its log",
                c.command.join(" "),
                c.name
            ))),
        }
    }

    /// `docker service logs SERVICE|TASK`: what each task's container printed, where the
    /// simulator runs its program; a task whose command runs unseen (`sleep`) prints nothing.
    /// A node outside the swarm is answered as for any swarm command (`docker`).
    fn service_logs(&self, me: &str, l: &cli::ServiceLogs) -> Result<Outcome, EngineError> {
        let Some(s) = self.swarm.as_ref() else { return Err(EngineError("netsim: no swarm".into())) };
        s.require_manager(me)?;
        let found = s
            .log_tasks(&l.target, l.no_task_ids, l.no_trunc)
            .ok_or_else(|| EngineError(format!("no such task or service: {}", l.target)))?;
        let tasks = found
            .into_iter()
            .filter_map(|(c, prefix)| {
                Some(((!l.raw).then(|| format!("{prefix}    | ")), self.task_logs.get(&c)?.clone()))
            })
            .collect();
        Ok(Outcome::ServiceLogs { head: String::new(), tasks, tail: l.tail })
    }

    /// `docker run IMAGE CMD` in the foreground: CMD runs in the new container as `docker exec`
    /// would run it, and the container exits when it has (`finish_foreground`). A program the
    /// simulator does not run leaves nothing behind.
    fn foreground_run(&mut self, me: &str, id: &str, r: &cli::Run, now: SimTime) -> Result<Outcome, EngineError> {
        let name = self.engine(me)?.container(id).map(|c| c.name.clone()).unwrap_or_default();
        match self.program(me, &name, &r.command, now) {
            Ok(p) => {
                self.foreground = Some((me.to_string(), name, r.rm));
                Ok(Outcome::Foreground(Box::new(p)))
            }
            Err(x) => {
                if let Some(e) = self.engine_mut(me) {
                    e.remove(&name);
                }
                Err(x)
            }
        }
    }

    /// A command line run in container `name` of `me` (`docker exec`, a foreground `docker
    /// run`): a command that looks, or a client program.
    fn program(&self, me: &str, name: &str, argv: &cli::Argv, now: SimTime) -> Result<Outcome, EngineError> {
        let e = self.engine(me)?;
        let c = e
            .container(name)
            .ok_or_else(|| EngineError(format!("Error response from daemon: No such container: {name}")))?;
        if let Some(p) = crate::docker::images::missing_program(&c.image, &argv.words) {
            return Err(EngineError(crate::docker::images::missing_exec(p)));
        }
        // Nobody types into a step's standard input: a shell given no script reads
        // end-of-file and exits 0, having printed nothing.
        if crate::docker::images::bare_shell(&argv.words) {
            return Ok(Outcome::Printed(String::new()));
        }
        if let Some(cmd) = crate::netconf::parse(&argv.words) {
            // Docker's default capabilities leave NET_ADMIN out.
            let cmd = cmd.map_err(|t| EngineError(t.message))?;
            return Err(EngineError(match cmd {
                crate::netconf::NetCmd::LinkSet { .. } | crate::netconf::NetCmd::BridgeLinkSet { .. } => {
                    "RTNETLINK answers: Operation not permitted".into()
                }
                crate::netconf::NetCmd::Iptables { .. } => {
                    "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)".into()
                }
                crate::netconf::NetCmd::Qdisc { .. } => {
                    "RTNETLINK answers: Operation not permitted\nWe have an error talking to the kernel".into()
                }
            }));
        }
        match crate::tools::parse(&argv.words) {
            Some(tool) => {
                let tool = tool.map_err(|t| EngineError(t.message))?;
                Ok(Outcome::Tool { host: me.to_string(), container: Some(c.name.clone()), tool })
            }
            None => {
                let cmd = cli::parse_app_command(argv);
                crate::docker::engine::app_traffic(cmd, argv, e.sandbox_ns(c), Some(&c.image), &e.hostname(c), now)
                    .map(Outcome::Client)
            }
        }
    }

    /// `docker inspect NAME…`: containers first, then networks, as the daemon looks them up
    /// when no `--type` is given; a name that is neither prints `[]` (or nothing with
    /// `--format`) and docker/cli's error, exit status 1.
    fn inspect(&self, me: &str, i: &cli::Inspect) -> Result<String, EngineError> {
        let e = self.engine(me)?;
        let kind = i.kind.as_deref();
        if let Some(k) = kind.filter(|k| !["container", "network"].contains(k)) {
            return Err(EngineError(format!("netsim: `docker inspect --type {k}` is not modelled")));
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in &i.names {
            let c = e.container(name).filter(|_| kind != Some("network"));
            let v = match c {
                Some(c) => {
                    let overlays = self
                        .swarm
                        .as_ref()
                        .map(|s| {
                            let mut v = s.overlay_endpoints(&c.name, me);
                            v.extend(s.parked_endpoints(&c.parked_swarm));
                            v
                        })
                        .unwrap_or_default();
                    Some(crate::docker::inspect::container(e, c, &overlays))
                }
                None if kind != Some("container") => {
                    crate::docker::inspect::network(e, self.swarm.as_ref(), me, name).ok()
                }
                None => None,
            };
            match v {
                Some(v) => found.push(v),
                None => missing.push(format!("Error: No such object: {name}")),
            }
        }
        let out = crate::docker::inspect::print(&found, i.format.as_deref())?;
        if missing.is_empty() { Ok(out) } else { Err(EngineError(format!("{out}{}", missing.join("\n")))) }
    }

    /// `docker network inspect NAME` as `host`'s daemon answers it now.
    pub fn inspect_network(&self, host: &str, name: &str) -> Result<String, String> {
        let e = self.engine(host).map_err(|e| e.0)?;
        let v = crate::docker::inspect::networks(e, self.swarm.as_ref(), host, &[name.to_string()]).map_err(|e| e.0)?;
        Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
    }

    /// Docker's names for what the kernel calls by device and namespace names: the network a
    /// bridge carries (`br-a5ea0a9cfb30` is `appnet`, `br0` in an overlay namespace its overlay)
    /// and the overlay network, with its VNI, an overlay namespace (`1-zct4aq3ssg`) serves.
    /// What a picture of the lab labels them with; the daemons and the swarm are the source.
    pub fn docker_names(&self) -> DockerNames {
        let mut out = DockerNames::default();
        for (host, e) in &self.engines {
            for n in &e.networks {
                if let Some(dev) = &n.device {
                    out.bridges.insert((host.clone(), dev.clone()), n.name.clone());
                }
            }
        }
        if let Some(sw) = &self.swarm {
            for (i, n) in sw.networks.iter().enumerate() {
                for node in &sw.nodes {
                    let ns = sw.overlay_ns(i, &node.host);
                    out.bridges.insert((ns.clone(), "br0".to_string()), n.name.clone());
                    out.overlays.insert(ns, (n.name.clone(), n.vni));
                }
            }
        }
        out
    }

    pub fn engine(&self, host: &str) -> Result<&Engine, EngineError> {
        self.engines
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, e)| e)
            .ok_or_else(|| EngineError(format!("no daemon on {host}")))
    }

    /// Standalone containers on an attachable overlay: `docker network connect OVERLAY C` and
    /// `docker network disconnect OVERLAY C`. The container is the engine's; its overlay
    /// endpoint is the swarm's ([`Director::attach_overlay`]).
    fn overlay_attach(&mut self, me: &str, cmd: &cli::DockerCommand) -> Result<Option<Outcome>, EngineError> {
        use cli::DockerCommand as D;
        let Some(s) = self.swarm.as_ref().filter(|s| s.node(me).is_some_and(|n| n.up)) else { return Ok(None) };
        match cmd {
            D::NetworkConnect(c) if s.is_overlay(&c.network) && self.engine(me)?.network(&c.network).is_none() => {
                let e = self.engine(me)?;
                let Some(ctr) = e.container(&c.container) else {
                    return Err(EngineError(format!("Error response from daemon: No such container: {}", c.container)));
                };
                let name = ctr.name.clone();
                if let Some(a) = s.attachment(&name, me, &c.network) {
                    // moby `daemon/container_operations.go`, `findAndAttachNetwork`.
                    return Err(EngineError(format!(
                        "Error response from daemon: {name} is already attached to network {}",
                        a.network
                    )));
                }
                let net = c.network.clone();
                if ctr.state != crate::docker::engine::RunState::Running {
                    // The daemon notes it for the start (traces/docker/swarm-attachable-stopped).
                    let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
                    e.note_swarm_network(&name, &net, c.aliases.clone());
                    return Ok(Some(Outcome::Changed(String::new(), SimTime::ZERO)));
                }
                self.attach_overlay(me, &name, &net, c.ipv4_address.map(ipv4_only).transpose()?, c.aliases.clone())?;
                Ok(Some(Outcome::Changed(String::new(), SimTime::ZERO)))
            }
            D::NetworkDisconnect(d) if s.is_overlay(&d.network) && self.engine(me)?.network(&d.network).is_none() => {
                let e = self.engine(me)?;
                let Some(ctr) = e.container(&d.container) else {
                    return Err(EngineError(format!("Error response from daemon: No such container: {}", d.container)));
                };
                if ctr.state != crate::docker::engine::RunState::Running {
                    // The daemon forgets what it noted (`Engine::disconnect_stopped`).
                    return Ok(None);
                }
                let (name, id) = (ctr.name.clone(), ctr.id.clone());
                let Some(a) = s.attachment(&name, me, &d.network).cloned() else {
                    // moby `daemon/container_operations.go`, `disconnectFromNetwork`.
                    let net = s.net_name(&d.network).unwrap_or_default();
                    return Err(EngineError(format!(
                        "Error response from daemon: container {id} is not connected to network {net}"
                    )));
                };
                if let Some(s) = self.swarm.as_mut() {
                    s.disconnect(&name, me, &a.network);
                }
                let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
                e.swarm_interface_gone(&name, &a.ifname);
                e.gwbridge_as_needed(&name)?;
                Ok(Some(Outcome::Changed(String::new(), SimTime::ZERO)))
            }
            _ => Ok(None),
        }
    }

    /// Container `name` of `me`'s daemon joins overlay `net` (`docker run --network`, `network
    /// connect`, `docker start` again): the daemon names the interface, the swarm gives the
    /// address, and docker_gwbridge comes when the overlay is the sandbox's only way out.
    fn attach_overlay(
        &mut self,
        me: &str,
        name: &str,
        net: &str,
        ip: Option<std::net::Ipv4Addr>,
        aliases: Vec<String>,
    ) -> Result<(), EngineError> {
        let internal = self.swarm.as_ref().is_some_and(|s| s.net_internal(net));
        let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
        let ifname = e.swarm_interface(name, None, internal).unwrap_or_default();
        let req = AttachRequest { ifname: ifname.clone(), ip, aliases };
        let attached = match self.swarm.as_mut() {
            Some(s) => s.attach(name, me, net, req),
            None => Err(EngineError(format!("Error response from daemon: network {net} not found"))),
        };
        let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
        if let Err(x) = attached {
            e.swarm_interface_gone(name, &ifname);
            return Err(x);
        }
        e.gwbridge_as_needed(name)
    }

    /// The overlay `docker run`'s first `--network` names, when it is a swarm network this
    /// node's daemon does not hold as a local one.
    fn overlay_of(&self, me: &str, r: &cli::Run) -> Option<String> {
        let cli::NetworkMode::UserDefined(net) = &r.networks.first()?.mode else { return None };
        let s = self.swarm.as_ref().filter(|s| s.node(me).is_some_and(|n| n.up))?;
        (s.is_overlay(net) && self.engine(me).ok()?.network(net).is_none()).then(|| net.clone())
    }

    /// `docker run --network OVERLAY …`: the daemon makes the container as on any network
    /// (its name, command, program, `--rm`, `-p`), without one, and the swarm attaches it
    /// before its program starts (moby `daemon/container_operations.go`: the network is found
    /// in the cluster and attached as the container starts); its ports are published on its
    /// docker_gwbridge endpoint. On a network that takes no standalone container the start
    /// fails and the container stays `Created`. `docker create` only makes it.
    fn run_on_overlay(
        &mut self,
        me: &str,
        r: &cli::Run,
        net: &str,
        start: bool,
        now: SimTime,
    ) -> Result<Outcome, EngineError> {
        let first = r.networks.first().cloned().unwrap_or_else(|| cli::NetworkAttachment::new(cli::NetworkMode::None));
        let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
        let out = e.run_on_swarm(r, net, start)?;
        if !start {
            return Ok(Outcome::Changed(out, SimTime::ZERO));
        }
        let made = e.container(&out).map(|c| (c.name.clone(), c.state == crate::docker::engine::RunState::Running));
        if let Some((name, running)) = made
            && running
            && let Err(EngineError(m)) = self.attach_overlay(
                me,
                &name,
                net,
                first.ipv4_address.map(ipv4_only).transpose()?,
                first.aliases.clone(),
            )
        {
            // The container is made; its start fails (20.10: ingress is not attachable).
            if let Some(e) = self.engine_mut(me) {
                e.start_failed(&name, r.rm, vec![(net.to_string(), first.aliases.clone())]);
            }
            return Err(EngineError(if r.detach { format!("{out}\ndocker: {m}") } else { m }));
        }
        self.after_run(me, out, r, now)
    }

    /// What follows `docker run` once the daemon made the container: its program in the
    /// foreground, or detached, or nothing the simulator runs.
    fn after_run(&mut self, me: &str, out: String, r: &cli::Run, now: SimTime) -> Result<Outcome, EngineError> {
        match (r.detach, r.command.words.is_empty()) {
            (false, false) => self.foreground_run(me, &out, r, now),
            (true, false) => self.detached_run(me, out, r, now),
            _ => Ok(Outcome::Changed(out, SimTime::ZERO)),
        }
    }

    /// The swarm's attachments follow their containers: one whose container went is
    /// deleted; one whose container stopped gives its address back and is joined again when
    /// the container starts (the daemon's `releaseNetwork` and `connectToNetwork`).
    fn release_attachments(&mut self) {
        let Some(s) = self.swarm.as_ref() else { return };
        let mut gone: Vec<(String, String)> = Vec::new();
        let mut stopped: Vec<(String, String)> = Vec::new();
        for a in s.attachments.iter().chain(&s.detached) {
            let c = self.engines.iter().find(|(h, _)| *h == a.node).and_then(|(_, e)| e.container(&a.container));
            let key = (a.container.clone(), a.node.clone());
            match c {
                None if !gone.contains(&key) => gone.push(key),
                Some(c) if c.state != crate::docker::engine::RunState::Running && !stopped.contains(&key) => {
                    stopped.push(key)
                }
                _ => {}
            }
        }
        for (c, node) in gone {
            if let Some(s) = self.swarm.as_mut() {
                s.detach(&c, &node);
            }
        }
        for (c, node) in stopped {
            // The overlays it was on (not one it was disconnected from) come back with it.
            let held: Vec<(String, Vec<String>)> = self
                .swarm
                .as_ref()
                .map(|s| {
                    s.attachments
                        .iter()
                        .filter(|a| a.container == c && a.node == node)
                        .map(|a| (a.network.clone(), a.aliases.clone()))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(s) = self.swarm.as_mut() {
                s.detach(&c, &node);
            }
            if let Some(e) = self.engine_mut(&node) {
                e.park_swarm(&c, held);
            }
        }
    }

    /// Containers of `me`'s daemon that started again join the overlays they left.
    fn reattach_started(&mut self, me: &str) -> Result<(), EngineError> {
        let names: Vec<String> = match self.engine(me) {
            Ok(e) => e.containers.iter().filter(|c| !c.parked_swarm.is_empty()).map(|c| c.name.clone()).collect(),
            Err(_) => return Ok(()),
        };
        for name in names {
            let nets = self.engine_mut(me).map(|e| e.take_parked_swarm(&name)).unwrap_or_default();
            for (net, aliases) in nets {
                self.attach_overlay(me, &name, &net, None, aliases)?;
            }
        }
        Ok(())
    }

    /// What joining a swarm builds on a node: docker_gwbridge and ingress_sbox
    /// (docs/docker-model.md *ingress and docker_gwbridge*).
    fn join_plumbing(&mut self, host: &str) -> Result<(), EngineError> {
        let e = self.engine_mut(host).ok_or_else(|| EngineError(format!("no daemon on {host}")))?;
        e.ensure_gwbridge()?;
        if e.container("ingress_sbox").is_none() {
            e.add_sandbox("ingress_sbox", "", Vec::new(), ContainerKind::Infra, Some("eth1"))?;
        }
        Ok(())
    }

    /// `docker swarm leave`: the last manager, alone in its swarm, erases the swarm with
    /// `--force` (its services and their tasks, the overlays, ingress_sbox; docker_gwbridge
    /// stays) and refuses without it (traces/docker/swarm-commands/record.txt). A node
    /// leaving a swarm of several is not modelled.
    fn swarm_leave(&mut self, me: &str, force: bool) -> Result<Outcome, EngineError> {
        let Some(s) = self.swarm.as_mut() else {
            return Err(EngineError("Error response from daemon: This node is not part of a swarm".into()));
        };
        if s.nodes.len() > 1 {
            return Err(EngineError(
                "netsim: `docker swarm leave` on a swarm of several nodes is not modelled yet".into(),
            ));
        }
        if !force {
            return Err(EngineError(
                "Error response from daemon: You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.".into(),
            ));
        }
        if !s.attachments.is_empty() {
            return Err(EngineError(
                "netsim: leaving a swarm while containers are attached to its overlays is not modelled yet".into(),
            ));
        }
        s.erase(me, &mut self.engines)?;
        self.swarm = None;
        // Everything the swarm had is compiled away: every namespace counts as touched.
        let all: Vec<String> = self.plan.namespaces().map(str::to_string).collect();
        self.base_touched.extend(all);
        let e = self.engine_mut(me).ok_or_else(|| EngineError(format!("no daemon on {me}")))?;
        e.remove_sandbox("ingress_sbox");
        // The daemon gives its cluster provider back (moby `DaemonLeavesCluster`).
        e.cluster_left = false;
        Ok(Outcome::Changed("Node left the swarm.".into(), SimTime::ZERO))
    }

    /// `systemctl stop docker`: the containers die (live-restore is off by default); a
    /// swarm node goes down and the managers reschedule its tasks.
    fn stop_daemon(&mut self, host: &str) -> Result<String, EngineError> {
        let mut out = String::new();
        if let Some(s) = self.swarm.as_mut()
            && s.node(host).is_some_and(|n| n.up)
        {
            out = s.node_down(host, &mut self.engines)?;
        }
        let e = self.engine_mut(host).ok_or_else(|| EngineError(format!("no daemon on {host}")))?;
        let names: Vec<String> = e.containers.iter().map(|c| c.name.clone()).collect();
        for n in names {
            e.remove_sandbox(&n);
        }
        Ok(out)
    }
}

/// Whose servers run (`Director::started`): a sandbox's, or in a namespace another container
/// lent (`--network container:`), that container's own.
/// Starts a container's docker-proxy programs in its host's namespace, keeping their app
/// indexes in `running`. One whose port a program of the lab's own holds is not started,
/// as dockerd's proxy then fails to bind (a note says so).
fn start_proxies(world: &mut World, fx: &mut Effects, running: &mut Vec<usize>, proxies: Vec<Traffic>) {
    for t in proxies {
        match world.add_traffic(&t) {
            Ok(app) => {
                running.push(app);
                fx.started.push(t);
            }
            Err(m) => {
                if let Some(ns) = world.ns_by_name(t.ns()) {
                    world.app_log(ns, || format!("docker-proxy: {m}"));
                }
            }
        }
    }
}

/// A web image's server (nginx, httpd) keeps its container's log: what it writes as it
/// starts, then a line per request it answers (`userland::proto::weblog`). Returns whether
/// `app` is one.
fn web_server_log(world: &mut World, app: usize, t: &Traffic, c: &Container, e: &Engine) -> bool {
    use crate::userland::proto::webapp::WebServer;
    let Traffic::Http { server: server @ (WebServer::Nginx { .. } | WebServer::Httpd { .. }), .. } = t else {
        return false;
    };
    // httpd names itself by the address its hostname resolves to: the container's first.
    let ip = match c.mode {
        crate::docker::engine::SandboxMode::Host => world.ns_by_name(&e.host).and_then(|ns| {
            let n = world.netns(ns);
            n.addrs.iter().map(|a| a.addr.addr).find(|a| !a.is_loopback())
        }),
        _ => c.endpoints.first().map(|p| p.ip),
    }
    .unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    world.keep_output(app);
    let text = crate::userland::proto::weblog::started(
        server,
        world.now,
        ip,
        crate::docker::system::KERNEL_VERSION,
        crate::docker::system::NCPU,
    );
    world.write_log(app, &text);
    true
}

/// What the director keeps of one container's servers while it starts them.
struct Books<'a> {
    host: &'a str,
    /// (daemon, container `seq`).
    container: (usize, u64),
    servers_run: &'a mut Map<(usize, u64), Vec<usize>>,
    logs: &'a mut Map<(String, String), Vec<ContainerLog>>,
    task_logs: &'a mut Map<String, ContainerLog>,
}

/// Starts a sandbox's `servers` (its embedded DNS, then the last `image_servers` of them:
/// its image's, which `Books::servers_run` keeps so that they stop with the container). A
/// web server's log is kept for `docker logs`, and `docker service logs` of a swarm task.
fn start_servers(
    world: &mut World,
    fx: &mut Effects,
    books: &mut Books<'_>,
    c: &Container,
    e: &Engine,
    servers: Vec<Traffic>,
    image_servers: usize,
) -> Result<(), PlanError> {
    let first_image_server = servers.len() - image_servers;
    for (i, t) in servers.into_iter().enumerate() {
        let app = world.add_traffic(&t).map_err(|m| PlanError::new(m, t.ns()))?;
        if i >= first_image_server {
            books.servers_run.entry(books.container).or_default().push(app);
        }
        if web_server_log(world, app, &t, c, e) {
            let log = ContainerLog::Program(app);
            if c.kind == crate::docker::engine::ContainerKind::Task {
                books.task_logs.insert(c.name.clone(), log.clone());
            }
            books.logs.entry((books.host.to_string(), c.id.clone())).or_default().push(log);
        }
        fx.started.push(t);
    }
    Ok(())
}

/// What a container's servers were started for: its sandbox's namespace (and its name where
/// it shares another's), and when it started, so that a `docker restart` starts them anew.
fn servers_key(e: &Engine, c: &Container) -> String {
    let ns = e.sandbox_ns(c);
    let at = c.started.as_nanos();
    match &c.mode {
        crate::docker::engine::SandboxMode::Joined { stripped: false, .. } => format!("{ns} {} @{at}", c.name),
        _ => format!("{ns} @{at}"),
    }
}

/// What applying a step did, for its `StepLog`.
#[derive(Default)]
struct Effects {
    delta: Option<crate::kernel::reconf::PlanDelta>,
    started: Vec<Traffic>,
    background: Vec<Traffic>,
    dns: Vec<(String, DnsZones)>,
    zones: Vec<Arc<DnsZone>>,
}

enum Outcome {
    /// The daemon's state changed; what docker printed, and how long the command kept the
    /// shell (`docker::timing`).
    Changed(String, SimTime),
    /// Nothing changed; what docker printed.
    Printed(String),
    /// `sleep N`: nothing printed, the shell held for this long.
    Slept(SimTime),
    /// `docker run -d IMAGE CMD` of a program the simulator runs: the daemon made the
    /// container, whose process is that program; the step does not wait for it.
    Detached(Box<Detached>),
    /// `docker logs`: what each run of the container printed, in order, its last `tail`
    /// lines.
    Logs { runs: Vec<ContainerLog>, tail: Option<usize> },
    /// `docker service logs`, `docker-compose logs`: `head`, then each container's log in
    /// turn, its last `tail` lines, each line after its prefix (the task's name and `|`;
    /// `None`: `--raw`).
    ServiceLogs { head: String, tasks: Vec<(Option<String>, ContainerLog)>, tail: Option<usize> },
    /// A program to run.
    Client(Traffic),
    /// `docker exec -d`: a program started in the container that the step does not wait
    /// for, and whose output goes nowhere (the exec is not attached).
    Background(Traffic),
    /// A program that prints the machine's state when the step runs (`ip addr`, `cat
    /// /etc/resolv.conf`), on a host or, through `docker exec`, in a container.
    Tool { host: String, container: Option<String>, tool: crate::tools::Tool },
    /// `docker run IMAGE CMD` without `-d`: the daemon made and started the container, whose
    /// program (a client or a tool) runs in it now.
    Foreground(Box<Outcome>),
}

/// Detached containers' programs, to start once their sandboxes are built: `docker run -d`'s
/// one, or those of the containers `docker start` started.
struct Detached {
    /// What the command printed: `docker run -d` the container's ID, `docker start` names.
    printed: String,
    host: String,
    programs: Vec<DetachedProgram>,
    busy: SimTime,
}

/// One container's process.
struct DetachedProgram {
    /// The container's ID, its log's key.
    id: String,
    name: String,
    rm: bool,
    program: Traffic,
}

/// Where a container's log comes from.
#[derive(Clone, Debug)]
enum ContainerLog {
    /// Its process is this program, which keeps what it prints.
    Program(usize),
    /// Its process printed this and exited.
    Text(String),
}

/// The program a swarm task's container runs when its service gave a command the simulator
/// runs (`docker service create … alpine ping -c 3 web`); `Err` with what it printed when it
/// cannot start. A command it does not run (`sleep 100000`) runs unseen, as the image's own.
fn task_program_of(e: &Engine, c: &Container, now: SimTime) -> Option<Result<Traffic, String>> {
    if c.kind != crate::docker::engine::ContainerKind::Task
        || c.command == crate::docker::images::default_command(&c.image)
    {
        return None;
    }
    // The command was checked when the service was made; its spans are that line's.
    let argv = cli::Argv { words: c.command.clone(), spans: vec![cli::Span::default(); c.command.len()] };
    let cmd = cli::parse_app_command(&argv)?;
    match crate::docker::engine::app_traffic(Some(cmd), &argv, e.sandbox_ns(c), Some(&c.image), &e.hostname(c), now) {
        Ok(t) => Some(Ok(t)),
        Err(EngineError(m)) if m.starts_with("netsim:") => None,
        Err(EngineError(m)) => Some(Err(m)),
    }
}

/// The last `tail` lines of `text` (all of it without `--tail`).
fn last_lines(text: &str, tail: Option<usize>) -> String {
    match tail {
        None => text.to_string(),
        Some(n) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].iter().map(|l| format!("{l}\n")).collect()
        }
    }
}

/// Why a step's dry run stopped.
enum Dry {
    /// The command fails as a command: the run shows it and goes on (with the plan change
    /// of a foreground container's exit that came before it, if any).
    Failed(Failure, Option<Box<crate::kernel::reconf::PlanDelta>>),
    /// The command's effect is a plan the simulator cannot build.
    Invalid(String),
}

/// The images a lab names: in its `docker run`, `docker create`, `docker service create`
/// and `service update --image` steps, and in the `image:` of the services of the compose
/// and stack files its hosts hold.
fn lab_images(hosts: &[HostSpec], steps: &[Step]) -> Vec<cli::ImageRef> {
    use cli::DockerCommand as D;
    let mut out = Vec::new();
    for s in steps {
        let line = s.run.trim();
        if !line.starts_with("docker ") {
            continue;
        }
        match cli::parse(line) {
            Ok(D::Run(r) | D::Create(r)) => out.push(r.image.clone()),
            Ok(D::ServiceCreate(c)) => out.push(c.image.clone()),
            Ok(D::ServiceUpdate(u)) => out.extend(u.image.as_deref().and_then(|i| cli::ImageRef::parse(i).ok())),
            _ => {}
        }
    }
    for h in hosts {
        for text in h.files.values() {
            let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else { continue };
            for doc in docs {
                let Some(services) = doc["services"].as_hash() else { continue };
                for svc in services.values() {
                    out.extend(svc["image"].as_str().and_then(|i| cli::ImageRef::parse(i).ok()));
                }
            }
        }
    }
    out
}

/// Commands only a swarm manager answers.
fn is_swarm_command(cmd: &cli::DockerCommand) -> bool {
    use cli::DockerCommand as D;
    matches!(
        cmd,
        D::ServiceCreate(_)
            | D::ServiceScale(_)
            | D::ServiceUpdate(_)
            | D::ServiceInspect(_)
            | D::ServiceRm(_)
            | D::ServiceLs(_)
            | D::ServiceLogs(_)
            | D::ServicePs(_)
            | D::NodeLs(_)
            | D::NodePs(_)
            | D::NodeInspect(_)
            | D::NodeUpdate(_)
            | D::SwarmJoinToken(_)
    ) || matches!(cmd, D::NetworkCreate(c) if c.driver == cli::NetworkDriver::Overlay)
}
