//! Swarm mode: nodes, overlay networks, services and their tasks, as the managers keep them
//! (swarmkit's allocator and scheduler), and the overlay driver that realises them on each node
//! (docs/docker-model.md *Overlay and swarm*; its sections are named in *italics* below): the
//! `1-<id>` namespace with br0 and vxlan0, static FDB and neighbour entries from the gossip table,
//! docker_gwbridge, `ingress_sbox`, per-network load-balancer sandboxes, IPVS with firewall marks
//! from 256, and the routing mesh.
//!
//! The control plane (raft on 2377, gossip on 7946) is modelled as state, not as frames:
//! what it would deliver appears as the entries it programs.

use std::net::Ipv4Addr;

use super::bridge::{PortBinding, Proto};
use super::cli::{self, DockerCommand};
use super::engine::{ContainerKind, Engine, EngineError, GWBRIDGE};
use super::ipam::{AddressSpace, Ipam, IpamConfig, PoolId};
use super::tabwrite;
use crate::engine::{SimRng, SimTime};
use crate::kernel::Map;
use crate::plan::{AddrPlan, FdbPlan, IptablesPlan, Ipv4Net, IpvsPlan, Link, NeighPlan, NsPlan, Plan};
use crate::userland::apps::DnsZone;
use crate::wire::Mac;

/// VXLAN overhead: overlay MTU = 1500 − 50 (LN/drivers/overlay/overlay.go vxlanEncap).
pub const OVERLAY_MTU: u32 = 1450;
/// The first VNI the manager hands out (ovmanager.go): ingress gets it.
pub const FIRST_VNI: u32 = 4096;
/// Per-node firewall-mark counter start (LN/service.go fwMarkCtr).
pub const FIRST_FWMARK: u32 = 256;

fn err(s: impl Into<String>) -> EngineError {
    EngineError(s.into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Manager,
    Worker,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub host: String,
    pub id: String,
    pub addr: Ipv4Addr,
    pub role: Role,
    /// `false` once its daemon stopped (`systemctl stop docker`).
    pub up: bool,
    /// `docker node update --availability`: only an active node takes new tasks; draining one
    /// also moves its tasks away.
    pub availability: cli::NodeAvailability,
    /// Next firewall mark for a service load balancer on this node.
    pub next_fwmark: u32,
    /// Fwmark of each service on this node, by service name.
    pub fwmarks: Vec<(String, u32)>,
    /// `docker node update --label-add`: what `node.labels.KEY` constraints read.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// A service's placement constraint, `KEY==VALUE` or `KEY!=VALUE` (swarmkit
/// `manager/constraint/constraint.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub key: String,
    pub equal: bool,
    pub value: String,
    /// As typed: the spec keeps it so, and `--constraint-rm` names it so.
    pub raw: String,
}

impl Constraint {
    /// `Parse`: the first operator found splits it, and the key and the value must each be
    /// of their kind of characters.
    pub fn parse(raw: &str) -> Result<Constraint, String> {
        for (op, equal) in [("==", true), ("!=", false)] {
            let Some((k, v)) = raw.split_once(op) else { continue };
            let (key, value) = (k.trim(), v.trim());
            let key_ok = key.len() > 1
                && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !key_ok {
                return Err(format!("key '{key}' is invalid"));
            }
            let value_ok = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || ":-_.*()?+[]\\^$|/".contains(c));
            if !value_ok {
                return Err(format!("value '{value}' is invalid"));
            }
            return Ok(Constraint { key: key.to_string(), equal, value: value.to_string(), raw: raw.to_string() });
        }
        Err("constraint expected one operator from ==, !=".to_string())
    }

    /// `NodeMatches`: the node's value for the key, compared without regard to case; a
    /// label the node lacks is empty; a key of no known kind matches no node.
    pub(super) fn meets(&self, n: &Node) -> bool {
        let label = |k: &str| n.labels.get(k).cloned().unwrap_or_default();
        let have = match self.key.to_lowercase().as_str() {
            "node.id" => n.id.clone(),
            "node.hostname" => n.host.clone(),
            "node.ip" => n.addr.to_string(),
            "node.role" => match n.role {
                Role::Manager => "manager".into(),
                Role::Worker => "worker".into(),
            },
            "node.platform.os" => "linux".into(),
            "node.platform.arch" => "x86_64".into(),
            k if k.starts_with("node.labels.") => label(&self.key["node.labels.".len()..]),
            // The engine's own labels (daemon.json `labels`): the lab's daemons have none.
            k if k.starts_with("engine.labels.") => String::new(),
            _ => return false,
        };
        have.eq_ignore_ascii_case(&self.value) == self.equal
    }
}

#[derive(Clone, Debug)]
pub struct OverlayNet {
    pub name: String,
    pub id: String,
    pub pool: PoolId,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub vni: u32,
    pub ingress: bool,
    pub attachable: bool,
    /// `--internal`: no way out, so an endpoint here wants no docker_gwbridge (libnetwork
    /// `sandbox.needDefaultGW`).
    pub internal: bool,
    /// Each node's load-balancer endpoint: `ingress-sbox` on ingress, `lb-<net>` elsewhere.
    pub lb: Vec<(String, Ipv4Addr)>,
    /// Endpoint IDs of `lb`, by node.
    pub lb_ids: Vec<(String, String)>,
    pub created: SimTime,
    /// `--label`s (a stack's networks carry `com.docker.stack.namespace`).
    pub labels: std::collections::BTreeMap<String, String>,
}

/// What `docker network create -d overlay` made: the flags that change who may join and
/// what a joining sandbox gets.
#[derive(Clone, Copy, Debug, Default)]
struct Kind {
    ingress: bool,
    attachable: bool,
    internal: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    Running,
    Shutdown,
    /// Stopped by the constraint enforcer: its node no longer meets the service's
    /// constraints (desired state Shutdown; the reason is the task's `error`).
    Rejected,
    /// No node can take it (the scheduler's reason is the task's `error`); it is placed when
    /// one can.
    Pending,
    /// Made to replace a task that ended, it waits out the restart delay (`due`) on its node
    /// (swarmkit `manager/orchestrator/restart/restart.go`: desired state Ready until then).
    Ready,
    /// Its program exited 0.
    Complete,
    /// Its program exited with another status (the task's `error`).
    Failed,
    /// A job's task of an iteration that an update replaced: desired Remove, it runs until
    /// its program stops (`due`: at once for one that ends on SIGTERM, else when the stop
    /// grace period is over), and is then deleted (traces/docker/swarm-job-update).
    Removing,
    /// Replaced by a rolling update: desired Shutdown, it runs until its program stops
    /// (`due`), and then stays in the slot's history as Shutdown
    /// (traces/docker/swarm-update-force).
    Stopping,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub slot: u64,
    pub node: String,
    pub state: TaskState,
    /// Address on each of the service's networks, ingress first when published.
    pub ips: Vec<(String, Ipv4Addr)>,
    /// The endpoint ID on each of those networks.
    pub endpoint_ids: Vec<String>,
    /// When it started running (or, pending, since when it waits).
    pub started: SimTime,
    /// Why it is pending, in swarmkit's words (`docker service ps`'s ERROR).
    pub error: String,
    /// Ready: when its restart delay is over and it starts; Removing: when it is gone;
    /// Stopping: when its program has stopped.
    pub due: SimTime,
    /// Ready: from when its desired state is Running (it is then Starting until `due`): a
    /// rolling update's new task waits for the old one to stop.
    pub go: SimTime,
    /// Ready: the tasks a start-first update shuts down once this one runs.
    pub replaces: Vec<String>,
    /// What of its service's spec it was made from: a task of an older spec is out of date
    /// (`Service::out_of_date`), and shows its own image in `service ps`.
    pub spec: TaskSpec,
    /// A job's iteration the task belongs to (swarmkit `Task.JobIteration`); 0 otherwise.
    pub iteration: u64,
    /// Running: when its program ends by itself, where that is known without running it
    /// (`images::runs_for`: `sleep N`, a shell without a terminal).
    pub ends: Option<SimTime>,
}

impl Task {
    /// Waiting out its restart delay, or its stop, which is over at `now`.
    fn due_at(&self, now: SimTime) -> bool {
        matches!(self.state, TaskState::Ready | TaskState::Removing | TaskState::Stopping) && self.due <= now
    }

    /// It holds its slot: running, waiting for a node, or waiting to start (swarmkit's
    /// runnable tasks: desired state up to Running).
    fn live(&self) -> bool {
        matches!(self.state, TaskState::Running | TaskState::Pending | TaskState::Ready)
    }
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub id: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    /// The tasks asked for (replicated; a global service asks for one per node: `desired`).
    pub replicas: u64,
    /// `--mode global`: one task on every node, slot 0, named by its node.
    pub global: bool,
    /// User overlays, in `--network` order.
    pub networks: Vec<String>,
    /// (published, target, proto) through the routing mesh.
    pub ports: Vec<(u16, u16, &'static str)>,
    /// (published, target, proto) with `mode=host`: bound on the node of each task, as
    /// `docker run -p` binds them, on the task's docker_gwbridge endpoint.
    pub host_ports: Vec<(u16, u16, &'static str)>,
    /// The VIP on each network (ingress included when published); empty for
    /// `--endpoint-mode dnsrr`, whose name resolves to the task addresses.
    pub vips: Vec<(String, Ipv4Addr)>,
    pub tasks: Vec<Task>,
    /// The image as the service's spec holds it, tag included (`alpine:latest`).
    pub image_ref: String,
    /// The command's words after the image (`ContainerSpec.Args`).
    pub args: Vec<String>,
    pub dnsrr: bool,
    /// When it was made and last changed, and the object's version (the store's index).
    pub created: SimTime,
    pub updated: SimTime,
    pub version: u64,
    /// What of the spec before the last `docker service update` this model keeps (its
    /// `PreviousSpec`), for `docker service rollback`.
    pub previous: Option<Previous>,
    /// How its tasks are replaced when its spec changes (`--update-*`).
    pub update_config: UpdateConfig,
    /// `--stop-grace-period`: how long a task has after SIGTERM before it is killed.
    pub stop_grace: SimTime,
    /// How many `--force` updates its spec has had (`TaskTemplate.ForceUpdate`).
    pub force_update: u64,
    /// The last update's progress (`UpdateStatus`).
    pub update_status: Option<UpdateStatus>,
    /// The update replacing its tasks, while it is under way.
    pub rollout: Option<update::Rollout>,
    /// `--label`s (a stack's services carry `com.docker.stack.namespace`).
    pub labels: std::collections::BTreeMap<String, String>,
    /// `--network name=NET,alias=A`: more names the service answers to on NET, as its own
    /// name does (`A` → VIP, `tasks.A` → the tasks).
    pub aliases: Vec<(String, String)>,
    /// `--constraint`s: the nodes its tasks may run on.
    pub constraints: Vec<Constraint>,
    /// `--mode replicated-job|global-job`: its tasks run to completion.
    pub job: Option<Job>,
    /// When a task whose container ended is replaced.
    pub restart: Restart,
    /// `-t`/`--tty`: its tasks' program has a terminal (a shell then waits on it).
    pub tty: bool,
}

/// The parts of a service's spec that make its tasks: a task made from other values than the
/// service's is out of date, and an update replaces it (swarmkit `orchestrator.IsTaskDirty`).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// `TaskTemplate.ForceUpdate`: `--force` counts it up.
    pub force: u64,
    /// The image with its tag.
    pub image_ref: String,
    pub env: Vec<(String, String)>,
    pub constraints: Vec<Constraint>,
    /// `TaskTemplate.Networks`, with their `--network` aliases.
    pub networks: Vec<String>,
    pub aliases: Vec<(String, String)>,
    /// The endpoint spec (swarmkit compares a task's endpoint with the service's too):
    /// ingress-published and host-published ports.
    pub ports: Vec<(u16, u16, &'static str)>,
    pub host_ports: Vec<(u16, u16, &'static str)>,
}

/// The parts of a service's previous spec that this model keeps.
#[derive(Clone, Debug)]
pub struct Previous {
    pub replicas: u64,
    pub spec: TaskSpec,
    pub stop_grace: SimTime,
    pub update_config: UpdateConfig,
}

/// A job's spec (swarmkit `ReplicatedJob`; a global job has one completion per node).
#[derive(Clone, Copy, Debug)]
pub struct Job {
    /// `--replicas`: how many tasks must complete.
    pub total: u64,
    /// `--max-concurrent`: how many run at once.
    pub max_concurrent: u64,
    /// Every update of a job's service runs it again as a new iteration (swarmkit
    /// `controlapi.UpdateService` bumps `JobStatus.JobIteration`); only the current
    /// iteration's tasks count.
    pub iteration: u64,
}

/// A service's restart policy (docker/cli `defaultRestartPolicy`: any, 5 s, no limit).
#[derive(Clone, Copy, Debug)]
pub struct Restart {
    pub condition: cli::RestartCondition,
    pub delay: SimTime,
    /// 0: no limit.
    pub max_attempts: u64,
}

impl Default for Restart {
    fn default() -> Restart {
        Restart { condition: cli::RestartCondition::Any, delay: SimTime::from_secs(5), max_attempts: 0 }
    }
}

impl Service {
    /// What its tasks are made from now.
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec {
            force: self.force_update,
            image_ref: self.image_ref.clone(),
            env: self.env.clone(),
            constraints: self.constraints.clone(),
            networks: self.networks.clone(),
            aliases: self.aliases.clone(),
            ports: self.ports.clone(),
            host_ports: self.host_ports.clone(),
        }
    }

    /// Makes its tasks from `spec` from now on (the image's name follows its reference).
    fn set_task_spec(&mut self, spec: TaskSpec) {
        self.image = spec.image_ref.rsplit_once(':').map_or(spec.image_ref.as_str(), |(name, _)| name).to_string();
        self.image_ref = spec.image_ref;
        self.force_update = spec.force;
        self.env = spec.env;
        self.constraints = spec.constraints;
        self.networks = spec.networks;
        self.aliases = spec.aliases;
        self.ports = spec.ports;
        self.host_ports = spec.host_ports;
    }

    /// A task of this service that does not run yet, made at `at` in `slot`: `Ready` on the
    /// node placed to start at `due`, or `Pending` with the scheduler's reason.
    fn unstarted(&self, id: String, slot: u64, placed: Result<String, String>, at: SimTime, due: SimTime) -> Task {
        let (node, state, error) = match placed {
            Ok(node) => (node, TaskState::Ready, String::new()),
            Err(why) => (String::new(), TaskState::Pending, why),
        };
        Task {
            id,
            slot,
            node,
            state,
            ips: Vec::new(),
            endpoint_ids: Vec::new(),
            started: at,
            error,
            due,
            go: due,
            replaces: Vec::new(),
            iteration: self.iteration(),
            spec: self.task_spec(),
            ends: None,
        }
    }

    pub fn running(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.state == TaskState::Running)
    }

    /// How many tasks should run: the replicas asked for, or for a global service one on each
    /// node that takes tasks, which is where its tasks run.
    pub fn desired(&self) -> u64 {
        match self.global {
            true => self.running().count() as u64,
            false => self.replicas,
        }
    }

    /// The tasks that hold a slot: running, waiting for a node, or waiting to start again.
    pub fn live(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.live())
    }

    /// The iteration a new task of this service belongs to.
    fn iteration(&self) -> u64 {
        self.job.map_or(0, |j| j.iteration)
    }

    /// The tasks of the job's current iteration (every task of a service that is no job).
    fn current(&self) -> impl Iterator<Item = &Task> {
        let i = self.iteration();
        self.tasks.iter().filter(move |t| t.iteration == i)
    }

    /// `docker service ls`'s MODE.
    fn mode_name(&self) -> &'static str {
        match (self.global, self.job.is_some()) {
            (false, false) => "replicated",
            (true, false) => "global",
            (false, true) => "replicated job",
            (true, true) => "global job",
        }
    }
}

/// The veths with an end `ethN` in one of `sandboxes`, each sandbox's in the order of N,
/// in the places in `links` they held. One pass over the plan's links: it is compiled at
/// every step of a swarm lab.
fn order_by_ifname(links: &mut [Link], sandboxes: &crate::kernel::Set<&str>) {
    // Each sandbox's veths: (position in `links`, N), in the order of the positions.
    let mut by_sandbox: Map<&str, Vec<(usize, u32)>> = Map::default();
    for (i, l) in links.iter().enumerate() {
        let Link::Veth { name, ns, peer, peer_ns, .. } = l else { continue };
        let (sb, n) = match (sandboxes.get(ns.as_str()), sandboxes.get(peer_ns.as_str())) {
            (Some(sb), _) => (*sb, name),
            (None, Some(sb)) => (*sb, peer),
            (None, None) => continue,
        };
        if let Some(k) = n.strip_prefix("eth").and_then(|k| k.parse().ok()) {
            by_sandbox.entry(sb).or_default().push((i, k));
        }
    }
    for at in by_sandbox.into_values().filter(|v| v.len() > 1) {
        let mut mine: Vec<(u32, Link)> = at.iter().map(|&(i, k)| (k, links[i].clone())).collect();
        mine.sort_by_key(|x| x.0);
        for ((i, _), (_, l)) in at.into_iter().zip(mine) {
            links[i] = l;
        }
    }
}

/// A standalone container (`docker run --network NET`, `docker network connect NET C`) on an
/// attachable overlay: the manager's network attachment task for it.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub container: String,
    pub node: String,
    pub network: String,
    pub ip: Ipv4Addr,
    pub endpoint_id: String,
    /// The overlay's interface in the container's sandbox.
    pub ifname: String,
    /// The attachment task's ID (in `network rm`'s "in use by task").
    pub task_id: String,
    /// `--network-alias` / `--alias`: more names the overlay's DNS answers with its address.
    pub aliases: Vec<String>,
}

/// What `docker run --network NET` or `docker network connect NET C` asks of an attachable
/// overlay.
#[derive(Clone, Debug, Default)]
pub struct AttachRequest {
    /// The interface it becomes in the container's sandbox.
    pub ifname: String,
    /// `--ip`.
    pub ip: Option<Ipv4Addr>,
    pub aliases: Vec<String>,
}

#[derive(Clone)]
pub struct Swarm {
    /// The engines' release: where 20.10.24 differs (fixtures `lab7-*` in
    /// `testdata/engine-20.10/`), it decides.
    pub era: super::era::Era,
    pub nodes: Vec<Node>,
    pub networks: Vec<OverlayNet>,
    pub services: Vec<Service>,
    pub attachments: Vec<Attachment>,
    /// Attachment tasks of containers disconnected from their overlay: on 20.10 the manager
    /// keeps them, and the network in use, until the container is removed
    /// (traces/docker/swarm-attachable/: `network rm` refused 3 s after both containers
    /// were disconnected, accepted once they were removed).
    pub detached: Vec<Attachment>,
    ipam: Ipam,
    next_vni: u32,
    rng: SimRng,
    pub worker_token: String,
    pub manager_token: String,
    /// Simulated time of the command being run (for `Created`).
    pub clock: SimTime,
    /// The store's index, counted up by every change to a service.
    version: u64,
    /// When tasks a command made or marked start or go (a job's new iteration, the old one's
    /// stop grace period): the director wakes the orchestrator then.
    pub wakes: Vec<SimTime>,
    /// How long the last attached `docker service update` keeps the shell (its rolling
    /// update and the spec's monitoring period decide, not `timing::busy`): the director
    /// takes it.
    pub follow: Option<SimTime>,
    /// The cluster's ID (`docker info`'s ClusterID), and when `swarm init` made it.
    pub cluster_id: String,
    pub created: SimTime,
    /// The pools overlays' subnets come from (`docker info`'s Default Address Pool and
    /// SubnetSize).
    pub default_pools: Vec<super::ipam::PoolSpec>,
}

fn base36(rng: &mut SimRng, n: usize) -> String {
    (0..n).map(|_| char::from_digit(rng.next_u32() % 36, 36).unwrap_or('0')).collect()
}

/// dockerd's embedded-DNS ports in a sandbox the engine has no container for (an lb
/// namespace): drawn by the kernel in reality, taken here from the endpoint's ID so that
/// nothing else's random draws move. Both lie in the ephemeral range (32768–60999).
fn dns_ports_of(endpoint_id: &str) -> (u16, u16) {
    let h = endpoint_id.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    (32768 + (h % 28232) as u16, 32768 + ((h >> 16) % 28232) as u16)
}

/// A container's MAC on an overlay: always derived from its IP (*Overlay plumbing*).
pub fn overlay_mac(ip: Ipv4Addr) -> Mac {
    let o = ip.octets();
    Mac([0x02, 0x42, o[0], o[1], o[2], o[3]])
}

impl Swarm {
    /// The `--aux-address` reservations of the overlay with pool `pool`, in request order.
    pub(super) fn aux_addresses(&self, pool: PoolId) -> &[(String, Ipv4Addr)] {
        self.ipam.aux(pool)
    }

    /// `docker swarm init` on `host`: the first manager, the ingress network (10.0.0.0/24,
    /// VNI 4096) and the join tokens.
    pub fn init(host: &str, addr: Ipv4Addr, seed: u64, era: super::era::Era) -> Result<Swarm, EngineError> {
        Self::init_with_pools(host, addr, seed, era, Vec::new())
    }

    /// `swarm init` with `--default-addr-pool` (each a base with `--default-addr-pool-mask-length`
    /// as its subnets' size): the overlays' subnets, ingress's first, come from these
    /// (swarmkit's allocator; traces/docker/swarm-addr-pool/record.txt). None: 10.0.0.0/8 in /24s.
    pub fn init_with_pools(
        host: &str,
        addr: Ipv4Addr,
        seed: u64,
        era: super::era::Era,
        pools: Vec<super::ipam::PoolSpec>,
    ) -> Result<Swarm, EngineError> {
        for p in &pools {
            if p.size < p.base.len {
                return Err(err(format!(
                    "Error response from daemon: invalid CIDR: \"{}\". Subnet size is too small for pool: {}",
                    p.base, p.size
                )));
            }
        }
        let mut rng = SimRng::new(seed ^ 0x5357_4152_4d00);
        let ca = base36(&mut rng, 50);
        let worker_token = format!("SWMTKN-1-{ca}-{}", base36(&mut rng, 25));
        let manager_token = format!("SWMTKN-1-{ca}-{}", base36(&mut rng, 25));
        let default_pools = if pools.is_empty() { super::ipam::PoolSpec::global_defaults() } else { pools.clone() };
        let mut ipam = Ipam::new(Vec::new(), pools).map_err(|e| err(e.message))?;
        ipam.set_round_robin(era.round_robin_subnets());
        // Drawn apart, so that the node, network and task IDs stay as they were drawn before
        // `docker info` showed the cluster's.
        let cluster_id = base36(&mut SimRng::new(seed ^ 0x434c_5553_5445_5200), 25);
        let mut s = Swarm {
            era,
            nodes: Vec::new(),
            networks: Vec::new(),
            services: Vec::new(),
            attachments: Vec::new(),
            detached: Vec::new(),
            ipam,
            next_vni: FIRST_VNI,
            rng,
            worker_token,
            manager_token,
            clock: SimTime::ZERO,
            wakes: Vec::new(),
            follow: None,
            version: 10,
            cluster_id,
            created: SimTime::ZERO,
            default_pools,
        };
        s.add_node(host, addr, Role::Manager);
        s.create_network(
            "ingress",
            IpamConfig::default(),
            Kind { ingress: true, ..Kind::default() },
            None,
            Default::default(),
        )?;
        Ok(s)
    }

    fn add_node(&mut self, host: &str, addr: Ipv4Addr, role: Role) {
        let id = base36(&mut self.rng, 25);
        self.nodes.push(Node {
            host: host.to_string(),
            id,
            addr,
            role,
            up: true,
            availability: cli::NodeAvailability::Active,
            next_fwmark: FIRST_FWMARK,
            fwmarks: Vec::new(),
            labels: Default::default(),
        });
        // Every node gets an ingress-sbox endpoint on ingress.
        if let Some(n) = self.networks.iter().position(|n| n.ingress) {
            let _ = self.lb_endpoint(n, host);
        }
    }

    pub fn node(&self, host: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.host == host)
    }

    /// The text `docker swarm init` prints.
    pub fn init_message(&self, host: &str) -> String {
        let n = self.node(host).expect("the node that ran init");
        format!(
            "Swarm initialized: current node ({}) is now a manager.\n\nTo add a worker to this swarm, run the following command:\n\n    docker swarm join --token {} {}:2377\n\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.",
            n.id, self.worker_token, n.addr
        )
    }

    /// `docker swarm join --token T MANAGER:2377` from `host`. The scenario cannot know the
    /// random token in advance, so `WORKER_TOKEN` / `MANAGER_TOKEN` stand for it, as a
    /// student pastes what `swarm init` printed.
    pub fn join(&mut self, host: &str, addr: Ipv4Addr, j: &cli::SwarmJoin) -> Result<String, EngineError> {
        if self.node(host).is_some_and(|n| n.up) {
            return Err(err(
                "Error response from daemon: This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.",
            ));
        }
        let token = j.token.clone().unwrap_or_default();
        let role = if token == self.worker_token || token == "WORKER_TOKEN" {
            Role::Worker
        } else if token == self.manager_token || token == "MANAGER_TOKEN" {
            Role::Manager
        } else {
            return Err(err(
                "Error response from daemon: rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster",
            ));
        };
        let remote = match &j.remote.host {
            cli::AddrHost::Ip(std::net::IpAddr::V4(ip)) => Some(*ip),
            _ => None,
        };
        if !self.nodes.iter().any(|n| n.role == Role::Manager && n.up && Some(n.addr) == remote) {
            return Err(err(format!(
                "Error response from daemon: Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the \"docker info\" command to see the current swarm status of your node. (no manager at {}:{})",
                remote.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
                j.remote.port.unwrap_or(2377)
            )));
        }
        self.nodes.retain(|n| n.host != host);
        self.add_node(host, addr, role);
        Ok(match role {
            Role::Worker => "This node joined a swarm as a worker.".into(),
            Role::Manager => "This node joined a swarm as a manager.".into(),
        })
    }

    /// `docker swarm join-token worker|manager [-q]`.
    fn join_token(&self, host: &str, t: &cli::SwarmJoinToken) -> String {
        let (role, token) = match t.role {
            cli::NodeRole::Manager => ("manager", &self.manager_token),
            cli::NodeRole::Worker => ("worker", &self.worker_token),
        };
        if t.quiet {
            return token.clone();
        }
        let addr = self.node(host).map(|n| n.addr.to_string()).unwrap_or_default();
        format!(
            "To add a {role} to this swarm, run the following command:\n\n    docker swarm join --token {token} {addr}:2377"
        )
    }

    /// The raft leader: the first manager still up (no elections are modelled), while more
    /// than half of the managers are up; none without that quorum (etcd/raft, which swarmkit's
    /// `manager/state/raft` runs).
    fn leader(&self) -> Option<&str> {
        if !self.has_quorum() {
            return None;
        }
        self.nodes.iter().find(|n| n.role == Role::Manager && n.up).map(|n| n.host.as_str())
    }

    /// More than half of the managers are up: the raft group can elect a leader, and only a
    /// leader runs the orchestrators and the scheduler (swarmkit `manager/manager.go`,
    /// `becomeLeader`).
    fn has_quorum(&self) -> bool {
        let managers = self.nodes.iter().filter(|n| n.role == Role::Manager);
        let (all, up) = managers.fold((0, 0), |(a, u), n| (a + 1, u + usize::from(n.up)));
        up * 2 > all
    }

    fn is_manager(&self, host: &str) -> bool {
        self.node(host).is_some_and(|n| n.role == Role::Manager && n.up)
    }

    pub(crate) fn require_manager(&self, host: &str) -> Result<(), EngineError> {
        if self.is_manager(host) && !self.has_quorum() {
            // moby `daemon/cluster/errors.go` errNoQuorum, as the client prints it.
            Err(err(
                "Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
            ))
        } else if self.is_manager(host) {
            Ok(())
        } else {
            Err(err(
                "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
            ))
        }
    }

    /// `docker network create -d overlay`: a /24 from 10.0.0.0/8 or the `--subnet`, whose
    /// `--gateway` keeps its address while endpoints are numbered from the bottom (serial
    /// allocation; traces/docker/swarm-attachable/), the next
    /// VNI (*Default address pools*, *VNI and ports*).
    fn create_network(
        &mut self,
        name: &str,
        cfg: IpamConfig,
        kind: Kind,
        vni: Option<u32>,
        labels: std::collections::BTreeMap<String, String>,
    ) -> Result<String, EngineError> {
        if self.networks.iter().any(|n| n.name == name) {
            return Err(err(format!("Error response from daemon: network with name {name} already exists")));
        }
        let pool = self
            .ipam
            .request_pool(AddressSpace::Global, &cfg, &[], true, false)
            .map_err(|e| err(format!("Error response from daemon: {}", e.message)))?;
        let gateway = self.ipam.gateway(pool).ok_or_else(|| err("netsim: overlay network without a gateway"))?;
        let vni = match vni {
            Some(v) => v,
            None => {
                let v = self.next_vni;
                self.next_vni += 1;
                v
            }
        };
        let id = base36(&mut self.rng, 25);
        self.networks.push(OverlayNet {
            name: name.to_string(),
            id: id.clone(),
            pool,
            subnet: pool.subnet,
            gateway,
            vni,
            ingress: kind.ingress,
            attachable: kind.attachable,
            internal: kind.internal,
            lb: Vec::new(),
            lb_ids: Vec::new(),
            created: self.clock,
            labels,
        });
        if kind.ingress {
            let hosts: Vec<String> = self.nodes.iter().map(|n| n.host.clone()).collect();
            let i = self.networks.len() - 1;
            for h in hosts {
                self.lb_endpoint(i, &h)?;
            }
        }
        Ok(id)
    }

    fn hex64(&mut self) -> String {
        (0..64).map(|_| char::from_digit(self.rng.next_u32() % 16, 16).unwrap_or('0')).collect()
    }

    fn find_net(&self, name: &str) -> super::lookup::Found {
        super::lookup::find(self.networks.iter().map(|n| (n.id.as_str(), n.name.as_str())), name)
    }

    fn net_idx(&self, name: &str) -> Option<usize> {
        self.find_net(name).index()
    }

    /// The name of the overlay `name` (a name or an ID) names.
    pub fn net_name(&self, name: &str) -> Option<String> {
        self.net_idx(name).map(|i| self.networks[i].name.clone())
    }

    /// Whether the overlay `name` (a name or an ID) names was made `--internal`.
    pub fn net_internal(&self, name: &str) -> bool {
        self.net_idx(name).is_some_and(|i| self.networks[i].internal)
    }

    /// The network `name` names, or dockerd's error.
    fn net(&self, name: &str) -> Result<usize, EngineError> {
        self.find_net(name).network(name).map_err(err)
    }

    /// The node's load-balancer endpoint on network `i`, allocated on first use.
    fn lb_endpoint(&mut self, i: usize, host: &str) -> Result<Ipv4Addr, EngineError> {
        if let Some((_, ip)) = self.networks[i].lb.iter().find(|(h, _)| h == host) {
            return Ok(*ip);
        }
        let ip = self.ipam.request_address(self.networks[i].pool, None).map_err(|e| err(e.message))?;
        let id = self.hex64();
        self.networks[i].lb.push((host.to_string(), ip));
        self.networks[i].lb_ids.push((host.to_string(), id));
        Ok(ip)
    }

    /// Commands a swarm answers; `None` for the others (the local daemon's business).
    pub fn apply(
        &mut self,
        host: &str,
        cmd: &DockerCommand,
        engines: &mut [(String, Engine)],
    ) -> Option<Result<String, EngineError>> {
        Some(match cmd {
            DockerCommand::NetworkCreate(c) if c.driver == cli::NetworkDriver::Overlay => self.network_create(host, c),
            DockerCommand::ServiceCreate(c) => self.service_create(host, c, engines),
            DockerCommand::ServiceScale(s) => self.service_scale(host, s, engines),
            DockerCommand::ServiceUpdate(u) => self.service_update(host, u, engines),
            DockerCommand::ServiceInspect(i) => self.require_manager(host).and_then(|_| self.service_inspect(i)),
            DockerCommand::NodePs(p) => self.require_manager(host).and_then(|_| self.node_ps(host, p)),
            DockerCommand::NodeInspect(i) => self.require_manager(host).and_then(|_| self.node_inspect(host, i)),
            DockerCommand::NodeUpdate(u) => self.require_manager(host).and_then(|_| self.node_update(host, u, engines)),
            DockerCommand::ServiceRm(r) => self.service_rm(host, &r.services, engines),
            DockerCommand::ServiceLs(l) => self.require_manager(host).and_then(|_| self.service_ls(l)),
            DockerCommand::ServicePs(p) => self.require_manager(host).and_then(|_| self.service_ps_listed(p)),
            DockerCommand::NodeLs(l) => self.require_manager(host).and_then(|_| self.node_ls_listed(host, l)),
            DockerCommand::SwarmJoinToken(t) => self.require_manager(host).map(|_| self.join_token(host, t)),
            DockerCommand::NetworkRm(r) if r.networks.iter().any(|n| self.net_idx(n).is_some()) => {
                self.network_rm(host, &r.networks)
            }
            _ => return None,
        })
    }

    fn network_create(&mut self, host: &str, c: &cli::NetworkCreate) -> Result<String, EngineError> {
        if !self.is_manager(host) {
            return Err(err(
                "Error response from daemon: Cannot create a multi-host network from a worker node. Please create the network from a manager node.",
            ));
        }
        let cfg = super::engine::ipam_config(c.ipam.first())?;
        let vni = c
            .options
            .get("com.docker.network.driver.overlay.vxlanid_list")
            .map(|v| v.parse::<u32>().map_err(|_| err(format!("Error response from daemon: invalid VNI {v}"))))
            .transpose()?;
        let kind = Kind { ingress: c.ingress, attachable: c.attachable, internal: c.internal };
        self.create_network(&c.name, cfg, kind, vni, c.labels.clone())
    }

    fn network_rm(&mut self, host: &str, names: &[String]) -> Result<String, EngineError> {
        self.require_manager(host)?;
        let mut out = Vec::new();
        for name in names {
            let i = self
                .net_idx(name)
                .ok_or_else(|| err(format!("Error response from daemon: network {name} not found")))?;
            let n = &self.networks[i];
            if let Some(svc) = self.services.iter().find(|s| s.networks.contains(&n.name)) {
                return Err(err(format!(
                    "Error response from daemon: rpc error: code = FailedPrecondition desc = network {} is in use by service {}",
                    n.id, svc.id
                )));
            }
            // swarmkit `controlapi.removeNetwork`: a task on it that is not past running.
            if let Some(a) = self.attachments.iter().chain(&self.detached).find(|a| a.network == n.name) {
                return Err(err(format!(
                    "Error response from daemon: rpc error: code = FailedPrecondition desc = network {} is in use by task {}",
                    n.id, a.task_id
                )));
            }
            let n = self.networks.remove(i);
            let _ = self.ipam.release_pool(n.pool);
            out.push(name.clone());
        }
        Ok(out.join("\n"))
    }

    fn service_create(
        &mut self,
        host: &str,
        c: &cli::ServiceCreate,
        engines: &mut [(String, Engine)],
    ) -> Result<String, EngineError> {
        self.require_manager(host)?;
        // The daemon converts the spec (moby `daemon/cluster/convert/service.go`) before the
        // store looks for a name in use.
        let update_config = UpdateConfig::default().with(&c.update)?;
        let name = c.name.clone().unwrap_or_else(|| base36(&mut self.rng, 8));
        if self.services.iter().any(|s| s.name == name) {
            return Err(err(format!(
                "Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object: service {name} already exists"
            )));
        }
        let global = matches!(c.mode, cli::ServiceMode::Global | cli::ServiceMode::GlobalJob);
        let replicas = c.mode.replicas().unwrap_or(0);
        // swarmkit `api/specs.proto`: a job's MaxConcurrent defaults to 1, its
        // TotalCompletions to MaxConcurrent (docker/cli sends the replicas for both).
        let job = match c.mode {
            cli::ServiceMode::ReplicatedJob { replicas, max_concurrent } => {
                let max_concurrent = max_concurrent.or(replicas).unwrap_or(1).max(1);
                Some(Job { total: replicas.unwrap_or(max_concurrent), max_concurrent, iteration: 0 })
            }
            cli::ServiceMode::GlobalJob => Some(Job { total: 0, max_concurrent: 0, iteration: 0 }),
            _ => None,
        };
        let mut restart = Restart::default();
        if let Some(c) = &c.restart.condition {
            restart.condition =
                cli::RestartCondition::parse(c).map_err(|m| err(format!("Error response from daemon: {m}")))?;
        }
        restart.delay = c.restart.delay.unwrap_or(restart.delay);
        restart.max_attempts = c.restart.max_attempts.unwrap_or(0);
        let constraints = c
            .constraints
            .iter()
            .map(|r| Constraint::parse(r))
            .collect::<Result<Vec<_>, _>>()
            // The daemon's validation wraps the parser's error as it comes (`code = Unknown`).
            .map_err(|m| err(format!("Error response from daemon: rpc error: code = Unknown desc = {m}")))?;
        let mut networks = Vec::new();
        let mut aliases = Vec::new();
        for n in &c.networks {
            let i = self
                .net_idx(&n.name)
                .ok_or_else(|| err(format!("Error response from daemon: network {} not found", n.name)))?;
            networks.push(self.networks[i].name.clone());
            aliases.extend(n.aliases.iter().map(|a| (self.networks[i].name.clone(), a.clone())));
        }
        let mut ports = Vec::new();
        let mut host_ports = Vec::new();
        for p in &c.publish {
            let proto = match p.protocol {
                cli::Protocol::Tcp => "tcp",
                cli::Protocol::Udp => "udp",
                cli::Protocol::Sctp => return Err(err("netsim: SCTP is not modelled")),
            };
            let published =
                p.published.ok_or_else(|| err("netsim: a published port picked by swarm is not modelled yet"))?;
            let host = p.mode == cli::PublishMode::Host;
            self.port_free(None, published, proto, host)?;
            if host {
                host_ports.push((published, p.target, proto));
            } else {
                ports.push((published, p.target, proto));
            }
        }
        if c.endpoint_mode == cli::EndpointMode::Dnsrr && !ports.is_empty() {
            return Err(err(
                "Error response from daemon: rpc error: code = InvalidArgument desc = EndpointSpec: port published with ingress mode can't be used with dnsrr mode",
            ));
        }
        // The allocator gives VIPs first (ingress, then the service's networks), then task IPs.
        let mut vips = Vec::new();
        let mut all_nets: Vec<String> = Vec::new();
        if !ports.is_empty() {
            let ing =
                self.networks.iter().find(|n| n.ingress).map(|n| n.name.clone()).ok_or_else(|| err("no ingress"))?;
            all_nets.push(ing);
        }
        all_nets.extend(networks.iter().cloned());
        if c.endpoint_mode == cli::EndpointMode::Vip {
            for n in &all_nets {
                let i = self.net(n)?;
                let ip = self.ipam.request_address(self.networks[i].pool, None).map_err(|e| err(e.message))?;
                vips.push((n.clone(), ip));
            }
        }
        let id = base36(&mut self.rng, 25);
        self.version += 1;
        self.services.push(Service {
            image_ref: c.image.familiar_tagged(),
            args: c.command.words.clone(),
            dnsrr: c.endpoint_mode == cli::EndpointMode::Dnsrr,
            created: self.clock,
            updated: self.clock,
            version: self.version,
            previous: None,
            update_config,
            stop_grace: c.update.stop_grace.unwrap_or(super::timing::STOP_GRACE),
            force_update: 0,
            update_status: None,
            rollout: None,
            labels: c.labels.clone(),
            aliases,
            constraints,
            job,
            restart,
            tty: c.other_flags.iter().any(|f| f.name == "tty" && f.value != "false"),
            name: name.clone(),
            id: id.clone(),
            image: c.image.familiar_name(),
            env: c.env.iter().map(|e| (e.key.clone(), e.value.clone().unwrap_or_default())).collect(),
            replicas,
            global,
            networks,
            ports,
            host_ports,
            vips,
            tasks: Vec::new(),
        });
        let si = self.services.len() - 1;
        let started = match (global, job) {
            (true, _) => self.start_global_tasks(si, engines),
            // A replicated job's slots count from 0 (swarmkit
            // `manager/orchestrator/jobs/replicated/reconciler.go`).
            (false, Some(j)) => {
                (0..j.max_concurrent.min(j.total)).try_for_each(|slot| self.start_task(si, slot, engines))
            }
            (false, None) => (1..=replicas).try_for_each(|slot| self.start_task(si, slot, engines)),
        };
        if let Err(e) = started {
            // Leave no half-made service behind the error.
            let _ = self.service_rm(host, std::slice::from_ref(&name), engines);
            return Err(e);
        }
        self.lb_after_tasks(si)?;
        Ok(id)
    }

    /// swarmkit controlapi/service.go `checkPortConflicts`: an ingress port conflicts with
    /// every port of another service (`except`, the one being updated, is not another); a
    /// host-mode port only with another's ingress port (host-mode ports of several services
    /// may coexist: the scheduler keeps them apart).
    fn port_free(&self, except: Option<usize>, published: u16, proto: &str, host: bool) -> Result<(), EngineError> {
        let same = |x: &(u16, u16, &str)| x.0 == published && x.2 == proto;
        for (_, other) in self.services.iter().enumerate().filter(|(oi, _)| Some(*oi) != except) {
            let conflict = if other.ports.iter().any(same) {
                Some("an ingress port")
            } else if !host && other.host_ports.iter().any(same) {
                Some("a host-published port")
            } else {
                None
            };
            if let Some(kind) = conflict {
                return Err(err(format!(
                    "Error response from daemon: rpc error: code = InvalidArgument desc = port '{published}' is already in use by service '{}' ({}) as {kind}",
                    other.name, other.id
                )));
            }
        }
        Ok(())
    }

    /// docker/cli `updateNetworks`: `--network-rm` and `--network-add` looked up as the
    /// client looks them up (a network it cannot find ends the command before anything is
    /// sent), a network the service is on already refused, the list sorted by network ID.
    fn update_networks(
        &self,
        spec: &mut TaskSpec,
        add: &[cli::ServiceNetwork],
        rm: &[String],
    ) -> Result<(), EngineError> {
        let find = |name: &str| {
            self.net_idx(name).ok_or_else(|| err(format!("Error response from daemon: network {name} not found")))
        };
        for r in rm {
            let i = find(r)?;
            let name = &self.networks[i].name;
            spec.networks.retain(|n| n != name);
            spec.aliases.retain(|(n, _)| n != name);
        }
        for a in add {
            let i = find(&a.name)?;
            let name = self.networks[i].name.clone();
            if spec.networks.contains(&name) {
                return Err(err(format!("service is already attached to network {}", a.name)));
            }
            spec.aliases.extend(a.aliases.iter().map(|x| (name.clone(), x.clone())));
            spec.networks.push(name);
        }
        if !add.is_empty() || !rm.is_empty() {
            let id = |n: &String| self.net_idx(n).map(|i| self.networks[i].id.clone()).unwrap_or_default();
            spec.networks.sort_by_key(id);
        }
        Ok(())
    }

    /// docker/cli `updatePorts`: `--publish-rm` takes out every port with its target port,
    /// protocol and mode; `--publish-add` adds a port not there yet; the list sorted as
    /// `PUBLISHED:TARGET/PROTO/MODE` strings. The daemon then checks the ports against the
    /// other services'.
    fn update_ports(
        &self,
        si: usize,
        spec: &mut TaskSpec,
        add: &[cli::ServicePort],
        rm: &[cli::ServicePort],
    ) -> Result<(), EngineError> {
        if add.is_empty() && rm.is_empty() {
            return Ok(());
        }
        let proto = |p: &cli::ServicePort| match p.protocol {
            cli::Protocol::Tcp => Ok("tcp"),
            cli::Protocol::Udp => Ok("udp"),
            cli::Protocol::Sctp => Err(err("netsim: SCTP is not modelled")),
        };
        // (published, target, protocol, host mode)
        let mut all: Vec<(u16, u16, &'static str, bool)> = spec
            .ports
            .iter()
            .map(|&(p, t, pr)| (p, t, pr, false))
            .chain(spec.host_ports.iter().map(|&(p, t, pr)| (p, t, pr, true)))
            .collect();
        let mut removed = Vec::new();
        for r in rm {
            let (pr, host) = (proto(r)?, r.mode == cli::PublishMode::Host);
            removed.extend(all.iter().filter(|x| x.1 == r.target && x.2 == pr && x.3 == host).copied());
            all.retain(|x| !(x.1 == r.target && x.2 == pr && x.3 == host));
        }
        for a in add {
            let published =
                a.published.ok_or_else(|| err("netsim: a published port picked by swarm is not modelled yet"))?;
            let port = (published, a.target, proto(a)?, a.mode == cli::PublishMode::Host);
            // The set the client built came from the ports before `--publish-rm`.
            if all.contains(&port) || removed.contains(&port) {
                continue;
            }
            all.push(port);
        }
        let key =
            |x: &(u16, u16, &str, bool)| format!("{}:{}/{}/{}", x.0, x.1, x.2, if x.3 { "host" } else { "ingress" });
        all.sort_by_key(key);
        for &(published, _, pr, host) in &all {
            self.port_free(Some(si), published, pr, host)?;
        }
        spec.ports = all.iter().filter(|x| !x.3).map(|x| (x.0, x.1, x.2)).collect();
        spec.host_ports = all.iter().filter(|x| x.3).map(|x| (x.0, x.1, x.2)).collect();
        if self.services[si].dnsrr && !spec.ports.is_empty() {
            return Err(err(
                "Error response from daemon: rpc error: code = InvalidArgument desc = EndpointSpec: port published with ingress mode can't be used with dnsrr mode",
            ));
        }
        Ok(())
    }

    /// The allocator after a spec change (swarmkit `cnmallocator` `AllocateService`): a VIP
    /// stays where the service still is, goes where it no longer is; ingress gets one when
    /// the first port is published, then each network new to the service.
    fn sync_vips(&mut self, si: usize) -> Result<(), EngineError> {
        if self.services[si].dnsrr {
            return Ok(());
        }
        let wanted = self.task_networks(si);
        let old = std::mem::take(&mut self.services[si].vips);
        let mut vips = Vec::new();
        for (n, ip) in old {
            if wanted.contains(&n) {
                vips.push((n, ip));
            } else if let Some(i) = self.net_idx(&n) {
                let _ = self.ipam.release_address(self.networks[i].pool, ip);
            }
        }
        let mut new: Vec<&String> = wanted.iter().filter(|n| !vips.iter().any(|(x, _)| x == *n)).collect();
        // Ingress is the allocator's own (it adds the ingress VIP before it looks at the
        // spec's networks).
        new.sort_by_key(|n| !self.net_idx(n).is_some_and(|i| self.networks[i].ingress));
        for n in new {
            let i = self.net(n)?;
            let ip = self.ipam.request_address(self.networks[i].pool, None).map_err(|e| err(e.message))?;
            vips.push((n.clone(), ip));
        }
        self.services[si].vips = vips;
        Ok(())
    }

    /// 20.10: each node's load-balancer endpoint on the networks of service `si`'s running
    /// tasks, after the tasks' own addresses (other eras allocate it in `start_task`).
    fn lb_after_tasks(&mut self, si: usize) -> Result<(), EngineError> {
        if self.era != super::era::Era::V20_10 {
            return Ok(());
        }
        let nets = self.task_networks(si);
        let nodes: Vec<String> = self.services[si].running().map(|t| t.node.clone()).collect();
        for node in nodes {
            for n in &nets {
                let i = self.net(n)?;
                if !self.networks[i].ingress {
                    self.lb_endpoint(i, &node)?;
                }
            }
        }
        Ok(())
    }

    /// The networks a service's tasks attach to (ingress too when published), in the order
    /// their sandbox keeps the endpoints and names the interfaces: by network name, internal
    /// networks after the others (moby `libnetwork/sandbox.go`, `epHeap.Less`; docker_gwbridge
    /// comes last of all). The order the service named them in does not count
    /// (traces/docker/docker/swarm-task-interfaces).
    fn task_networks(&self, si: usize) -> Vec<String> {
        let s = &self.services[si];
        let mut v = Vec::new();
        if !s.ports.is_empty()
            && let Some(n) = self.networks.iter().find(|n| n.ingress)
        {
            v.push(n.name.clone());
        }
        v.extend(s.networks.iter().cloned());
        v.sort_by(|a, b| (self.net_internal(a), a).cmp(&(self.net_internal(b), b)));
        v
    }

    /// Whether a task on `networks` wants docker_gwbridge: one of them has a way out.
    fn outward(&self, networks: &[(String, Ipv4Addr)]) -> bool {
        networks.iter().any(|(n, _)| !self.net_internal(n))
    }

    /// Spread scheduling (swarmkit nodeLess): fewest tasks of this service, then fewest
    /// tasks overall, then node order; a node where a running task already holds one of the
    /// service's host-mode ports is no candidate (swarmkit scheduler/filter.go HostPortFilter).
    fn pick_node(&self, si: usize) -> Result<String, String> {
        let wanted = &self.services[si].host_ports;
        let holds_port = |host: &str| {
            self.services.iter().any(|s| {
                s.running().any(|t| t.node == host)
                    && s.host_ports.iter().any(|x| wanted.iter().any(|w| w.0 == x.0 && w.2 == x.2))
            })
        };
        let nodes = |n: usize| format!("{n} node{}", if n == 1 { "" } else { "s" });
        // swarmkit scheduler/filter.go: ReadyFilter ("not available for new tasks": down, paused
        // or drained), then HostPortFilter; the reason names how many nodes each turned away.
        let ready: Vec<&Node> = self.nodes.iter().filter(|n| self.takes_tasks(n)).collect();
        if ready.is_empty() {
            return Err(format!("no suitable node ({} not available for new tasks)", nodes(self.nodes.len())));
        }
        // ConstraintFilter, between the two.
        let fit: Vec<&Node> = ready.iter().copied().filter(|n| self.placeable(si, n)).collect();
        if fit.is_empty() {
            return Err(format!("no suitable node (scheduling constraints not satisfied on {})", nodes(ready.len())));
        }
        let free: Vec<&Node> = fit.iter().copied().filter(|n| !holds_port(&n.host)).collect();
        if free.is_empty() {
            return Err(format!("no suitable node (host-mode port already in use on {})", nodes(fit.len())));
        }
        Ok(self.spread(si, &free))
    }

    /// Whether `n` meets every placement constraint of service `si`.
    fn placeable(&self, si: usize, n: &Node) -> bool {
        self.services[si].constraints.iter().all(|c| c.meets(n))
    }

    /// Whether the scheduler may give `n` a new task: its daemon is up and it is active.
    fn takes_tasks(&self, n: &Node) -> bool {
        n.up && n.availability == cli::NodeAvailability::Active
    }

    fn spread(&self, si: usize, candidates: &[&Node]) -> String {
        let count = |host: &str, only: Option<usize>| {
            self.services
                .iter()
                .enumerate()
                .filter(|(i, _)| only.is_none_or(|o| o == *i))
                .flat_map(|(_, s)| s.running())
                .filter(|t| t.node == host)
                .count()
        };
        candidates
            .iter()
            .min_by_key(|n| (count(&n.host, Some(si)), count(&n.host, None)))
            .map(|n| n.host.clone())
            .unwrap_or_default()
    }

    /// A global service's task on every node that is up and has none (swarmkit's global
    /// orchestrator: at creation, and when a node joins); the node order is the swarm's.
    fn start_global_tasks(&mut self, si: usize, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| self.takes_tasks(n) && self.placeable(si, n))
            .map(|n| n.host.clone())
            .collect();
        let job = self.services[si].job.is_some();
        for node in nodes {
            // A global job runs once on each node: a task that completed there, or waits to
            // start again, is its task.
            let iteration = self.services[si].iteration();
            let has = |t: &Task| {
                t.node == node
                    && t.iteration == iteration
                    && (t.state == TaskState::Running
                        || job && matches!(t.state, TaskState::Complete | TaskState::Ready | TaskState::Pending))
            };
            if !self.services[si].tasks.iter().any(has) {
                self.start_task_on(si, 0, node, None, engines)?;
            }
        }
        Ok(())
    }

    /// After a node joined: every global service runs a task there too, and pending tasks
    /// may go to it.
    pub fn node_joined(&mut self, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        self.place_pending(engines)
    }

    /// A new task in `slot`, on the node the scheduler picks, or pending when none can take it.
    fn start_task(&mut self, si: usize, slot: u64, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        match self.pick_node(si) {
            Ok(node) => self.start_task_on(si, slot, node, None, engines),
            Err(why) => {
                let id = base36(&mut self.rng, 25);
                let task = self.services[si].unstarted(id, slot, Err(why), self.clock, SimTime::ZERO);
                self.services[si].tasks.push(task);
                Ok(())
            }
        }
    }

    /// The scheduler again, after a node became able to take tasks: each pending task goes
    /// to the node it picks now (keeping its ID), and every global service runs on the nodes
    /// it should.
    fn place_pending(&mut self, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        for si in 0..self.services.len() {
            while let Some(ti) = self.services[si].tasks.iter().position(|t| t.state == TaskState::Pending) {
                let Ok(node) = self.pick_node(si) else { break };
                let pending = self.services[si].tasks.remove(ti);
                self.start_task_on(si, pending.slot, node, Some(pending.id), engines)?;
            }
            if self.services[si].global {
                self.start_global_tasks(si, engines)?;
            }
            self.lb_after_tasks(si)?;
        }
        Ok(())
    }

    /// `docker node update --availability A NODE`: drained, a node's tasks stop and the
    /// replicated ones start again elsewhere (or wait, pending); paused, it keeps its tasks
    /// but takes no new one; active again, pending tasks and global services come to it
    /// (swarmkit `manager/orchestrator`, `manager/scheduler`). docker/cli prints the node as
    /// it was named (traces/docker/swarm-drain/record.txt).
    fn node_update(
        &mut self,
        me: &str,
        u: &cli::NodeUpdate,
        engines: &mut [(String, Engine)],
    ) -> Result<String, EngineError> {
        // Unlike `node ps` and `node inspect`, docker/cli sends the name as typed: `self` is
        // no node's name here (traces/docker/swarm-drain/record.txt).
        let ni = match u.node.as_str() {
            "self" => return Err(err("Error response from daemon: node self not found")),
            name => self.node_named(me, name)?,
        };
        // docker/cli changes the spec it read: a label to remove must be there.
        for k in &u.label_rm {
            if !self.nodes[ni].labels.contains_key(k) {
                return Err(err(format!("key {k} doesn't exist in node's labels")));
            }
        }
        if let Some(role) = u.role {
            let managers = self.nodes.iter().filter(|n| n.role == Role::Manager).count();
            let now = self.nodes[ni].role;
            if role == cli::NodeRole::Worker && now == Role::Manager && managers == 1 {
                return Err(err(
                    "Error response from daemon: rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm",
                ));
            }
            self.nodes[ni].role = match role {
                cli::NodeRole::Manager => Role::Manager,
                cli::NodeRole::Worker => Role::Worker,
            };
        }
        let before = self.nodes[ni].labels.clone();
        for l in &u.label_add {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            self.nodes[ni].labels.insert(k.to_string(), v.to_string());
        }
        for k in &u.label_rm {
            self.nodes[ni].labels.remove(k);
        }
        if u.role.is_some() || self.nodes[ni].labels != before {
            self.version += 1;
            let host = self.nodes[ni].host.clone();
            self.enforce_constraints(&host, engines)?;
            self.place_pending(engines)?;
        }
        let Some(a) = u.availability else { return Ok(u.node.clone()) };
        self.nodes[ni].availability = a;
        let host = self.nodes[ni].host.clone();
        match a {
            cli::NodeAvailability::Drain => {
                self.evacuate(&host, engines)?;
            }
            cli::NodeAvailability::Pause => {}
            cli::NodeAvailability::Active => self.place_pending(engines)?,
        }
        Ok(u.node.clone())
    }

    /// Service `si`'s task in `slot` on `node`; `id` keeps a pending task's ID as it is placed.
    fn start_task_on(
        &mut self,
        si: usize,
        slot: u64,
        node: String,
        id: Option<String>,
        engines: &mut [(String, Engine)],
    ) -> Result<(), EngineError> {
        let mut ips = Vec::new();
        let mut endpoint_ids = Vec::new();
        for n in self.task_networks(si) {
            endpoint_ids.push(self.hex64());
            let i = self.net(&n)?;
            let ip = self.ipam.request_address(self.networks[i].pool, None).map_err(|e| err(e.message))?;
            ips.push((n.clone(), ip));
            // The node instantiates the network: its load-balancer endpoint (lb-<net>) comes with
            // the first task there. 20.10 hands it out once the service's tasks have theirs
            // (20.10.24 fixture `lab7-network-inspect-appnet-verbose.json`: web .2 .3, lb-appnet
            // .4): see `lb_after_tasks`.
            if !self.networks[i].ingress && self.era != super::era::Era::V20_10 {
                self.lb_endpoint(i, &node)?;
            }
        }
        let id = id.unwrap_or_else(|| base36(&mut self.rng, 25));
        let task = Task {
            id,
            slot,
            node: node.clone(),
            state: TaskState::Running,
            ips,
            endpoint_ids,
            started: self.clock,
            error: String::new(),
            due: SimTime::ZERO,
            go: SimTime::ZERO,
            replaces: Vec::new(),
            iteration: self.services[si].iteration(),
            spec: self.services[si].task_spec(),
            ends: {
                let s = &self.services[si];
                super::images::runs_for(&s.image, &s.args, s.tty).map(|d| self.clock + d)
            },
        };
        let name = self.task_name(si, &task);
        let (image, env) = (self.services[si].image.clone(), self.services[si].env.clone());
        if let Some((_, e)) = engines.iter_mut().find(|(h, _)| *h == node) {
            // docker_gwbridge takes the name after the task's networks, if it is wanted.
            let gw_ifname = format!("eth{}", task.ips.len());
            let gw = self.outward(&task.ips).then_some(gw_ifname.as_str());
            e.add_sandbox(&name, &image, env, ContainerKind::Task, gw)?;
            // The service's command is its tasks' (`ContainerSpec.Args`).
            let args = &self.services[si].args;
            if !args.is_empty() {
                e.set_command(&name, args.clone());
            }
            // mode=host: the node's daemon binds the ports as for `docker run -p`, on the task's
            // docker_gwbridge endpoint (20.10.24 fixture
            // `lab7-host-iptables-save-with-services.txt`: DNAT to the gwbridge address).
            let bindings: Vec<PortBinding> = self.services[si]
                .host_ports
                .iter()
                .map(|(p, target, proto)| PortBinding {
                    proto: if *proto == "udp" { Proto::Udp } else { Proto::Tcp },
                    host_port: *p,
                    container_port: *target,
                    host_ip: None,
                })
                .collect();
            if !bindings.is_empty()
                && let Err(x) = e.publish_sandbox_ports(&name, bindings)
            {
                e.remove_sandbox(&name);
                for (n, ip) in &task.ips {
                    if let Some(i) = self.net_idx(n) {
                        let _ = self.ipam.release_address(self.networks[i].pool, *ip);
                    }
                }
                return Err(x);
            }
        }
        self.services[si].tasks.push(task);
        self.assign_fwmarks();
        Ok(())
    }

    /// The program of the task whose container is `container` ended at `at` with `status`:
    /// the task is Complete or Failed and its sandbox goes; the orchestrator makes what
    /// follows (swarmkit `manager/orchestrator/restart/restart.go` `shouldRestart`, the jobs'
    /// reconcilers): a job's next task at once, a replacement in the same slot (or on the same
    /// node, global) that waits out the restart delay. Returns when that one is due.
    pub fn task_exited(
        &mut self,
        container: &str,
        status: u8,
        at: SimTime,
        engines: &mut [(String, Engine)],
    ) -> Result<Option<SimTime>, EngineError> {
        let found = self.services.iter().enumerate().find_map(|(si, s)| {
            s.tasks
                .iter()
                .position(|t| {
                    matches!(t.state, TaskState::Running | TaskState::Removing | TaskState::Stopping)
                        && self.task_name(si, t) == container
                })
                .map(|ti| (si, ti))
        });
        let Some((si, ti)) = found else { return Ok(None) };
        let clock = self.clock;
        self.clock = at;
        match self.services[si].tasks[ti].state {
            TaskState::Removing => {
                // Its iteration was replaced: nothing follows it.
                self.stop_task(si, ti, engines);
                self.services[si].tasks.remove(ti);
                self.version += 1;
                self.clock = clock;
                return Ok(None);
            }
            TaskState::Stopping => {
                // Replaced by an update: it was being shut down anyway.
                self.stop_task(si, ti, engines);
                self.version += 1;
                self.clock = clock;
                return Ok(None);
            }
            _ => {}
        }
        self.stop_task(si, ti, engines);
        let t = &mut self.services[si].tasks[ti];
        t.state = if status == 0 { TaskState::Complete } else { TaskState::Failed };
        // swarmkit `agent/exec/errors.go` ExitCode: the task's status message.
        t.error = if status == 0 { String::new() } else { format!("task: non-zero exit ({status})") };
        let (slot, node) = (t.slot, t.node.clone());
        let s = &self.services[si];
        let restart = s.restart;
        let again = match restart.condition {
            // A job's completed task is done; the reconciler makes the next one.
            _ if s.job.is_some() && status == 0 => false,
            cli::RestartCondition::None => false,
            cli::RestartCondition::OnFailure => status != 0,
            cli::RestartCondition::Any => true,
        };
        // The slot's (a global task's: its node's) tasks that ended so far.
        let ended = |t: &&Task| {
            t.slot == slot
                && t.iteration == s.iteration()
                && (!s.global || t.node == node)
                && matches!(t.state, TaskState::Complete | TaskState::Failed)
        };
        let attempts = s.tasks.iter().filter(ended).count() as u64;
        let within = restart.max_attempts == 0 || attempts <= restart.max_attempts;
        // The restart supervisor and the reconcilers run on the leader only.
        let leader = self.has_quorum();
        let mut due = None;
        if again && within && leader {
            let id = base36(&mut self.rng, 25);
            let start = at + restart.delay + super::timing::TASK_START;
            let task = self.services[si].unstarted(id, slot, Ok(node), at, start);
            self.services[si].tasks.push(task);
            due = Some(start);
        } else if let Some(j) = self.services[si].job.filter(|_| !self.services[si].global && leader) {
            self.next_job_tasks(si, j, engines)?;
        }
        self.version += 1;
        self.clock = clock;
        Ok(due)
    }

    /// A replicated job's reconciler: new tasks in the free slots, as many as may run at once
    /// and are still to complete.
    fn next_job_tasks(&mut self, si: usize, j: Job, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let s = &self.services[si];
        let complete = s.current().filter(|t| t.state == TaskState::Complete).count() as u64;
        let running = s.current().filter(|t| t.live()).count() as u64;
        let new = j.max_concurrent.saturating_sub(running).min(j.total.saturating_sub(complete + running));
        for _ in 0..new {
            let s = &self.services[si];
            let busy =
                |slot: u64| s.current().filter(|t| t.live() || t.state == TaskState::Complete).any(|t| t.slot == slot);
            let Some(slot) = (0..j.total).find(|&n| !busy(n)) else { break };
            self.start_task(si, slot, engines)?;
        }
        self.lb_after_tasks(si)
    }

    /// Any update of a job's service runs the job again (swarmkit `controlapi.UpdateService`
    /// bumps `JobStatus.JobIteration`; the reconcilers of `manager/orchestrator/jobs` then
    /// count only the new iteration's tasks): the old iteration's tasks that never ran are
    /// deleted, its running ones desired Remove until their program stops, and the new
    /// iteration's first tasks are made, to start as long after as a task takes to start
    /// (traces/docker/swarm-job-update: two updates a moment apart leave one new iteration).
    /// Nothing for a service that is no job.
    fn rerun_job(&mut self, si: usize, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let Some(j) = self.services[si].job.as_mut() else { return Ok(()) };
        j.iteration += 1;
        let j = *j;
        let now = self.clock;
        let gone = now + self.services[si].grace();
        self.services[si]
            .tasks
            .retain(|t| t.iteration == j.iteration || !matches!(t.state, TaskState::Ready | TaskState::Pending));
        let mut ti = 0;
        while ti < self.services[si].tasks.len() {
            let t = &mut self.services[si].tasks[ti];
            if t.state != TaskState::Running {
                ti += 1;
                continue;
            }
            t.state = TaskState::Removing;
            t.started = now;
            t.due = gone;
            if gone == now {
                self.stop_task(si, ti, engines);
                self.services[si].tasks.remove(ti);
            } else {
                self.wakes.push(gone);
                ti += 1;
            }
        }
        let due = now + super::timing::TASK_START;
        let placements: Vec<(u64, Result<String, String>)> = match self.services[si].global {
            true => self
                .nodes
                .iter()
                .filter(|n| self.takes_tasks(n) && self.placeable(si, n))
                .map(|n| (0, Ok(n.host.clone())))
                .collect(),
            false => (0..j.max_concurrent.min(j.total)).map(|slot| (slot, self.pick_node(si))).collect(),
        };
        for (slot, placed) in placements {
            let id = base36(&mut self.rng, 25);
            let task = self.services[si].unstarted(id, slot, placed, now, due);
            self.services[si].tasks.push(task);
            self.wakes.push(due);
        }
        Ok(())
    }

    /// The orchestrator up to `now`, in time order: tasks whose program ended by itself by
    /// then (`Task::ends`) are Complete and replaced as their policy says, and restart delays
    /// and stop grace periods over by then run out, each at its own time. Returns the times
    /// later wake-ups are due, and whether anything changed.
    pub fn advance(
        &mut self,
        now: SimTime,
        engines: &mut [(String, Engine)],
    ) -> Result<(Vec<SimTime>, bool), EngineError> {
        let mut wakes = Vec::new();
        let mut changed = false;
        loop {
            let ended = self
                .services
                .iter()
                .enumerate()
                .flat_map(|(si, s)| s.tasks.iter().map(move |t| (si, t)))
                .filter(|(_, t)| t.state == TaskState::Running)
                .filter_map(|(si, t)| t.ends.filter(|&e| e <= now).map(|e| (e, si, t)))
                .min_by_key(|(e, _, _)| *e)
                .map(|(e, si, t)| (e, si, t.id.clone()));
            let due = self.services.iter().flat_map(|s| &s.tasks).filter(|t| t.due_at(now)).map(|t| t.due).min();
            let updater = self.next_rollout().filter(|(t, _)| *t <= now);
            // The earliest first; at one time, an exit, then a task's time, then the updater.
            let Some(first) = [ended.as_ref().map(|e| e.0), due, updater.map(|u| u.0)].into_iter().flatten().min()
            else {
                break;
            };
            match (ended, due, updater) {
                (Some((at, si, id)), _, _) if at == first => {
                    let Some(ti) = self.services[si].tasks.iter().position(|t| t.id == id) else { break };
                    // Taken first, so that the loop moves on whatever the exit does.
                    self.services[si].tasks[ti].ends = None;
                    let name = self.task_name(si, &self.services[si].tasks[ti]);
                    wakes.extend(self.task_exited(&name, 0, at, engines)?);
                }
                (_, Some(d), _) if d == first => self.start_due(d, engines)?,
                (_, _, Some((at, si))) => self.rollout_step(si, at),
                _ => break,
            }
            changed = true;
        }
        if changed {
            self.reap();
        }
        wakes.append(&mut self.wakes);
        Ok((wakes, changed))
    }

    /// Whether the orchestrator has something to do by `now` (`advance`): a task whose
    /// program ended by then, a restart delay or stop grace period over, or an update's
    /// next slot or end.
    pub fn pending_by(&self, now: SimTime) -> bool {
        self.services
            .iter()
            .flat_map(|s| &s.tasks)
            .any(|t| t.due_at(now) || t.state == TaskState::Running && t.ends.is_some_and(|e| e <= now))
            || self.next_rollout().is_some_and(|(t, _)| t <= now)
    }

    /// The restart delays over at `now`: each Ready task whose time has come starts on its
    /// node, keeping its ID.
    pub fn start_due(&mut self, now: SimTime, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let clock = self.clock;
        self.clock = now;
        for si in 0..self.services.len() {
            while let Some(ti) = self.services[si].tasks.iter().position(|t| t.due_at(now)) {
                match self.services[si].tasks[ti].state {
                    TaskState::Removing => {
                        // Its stop grace period is over: killed, and deleted.
                        self.stop_task(si, ti, engines);
                        self.services[si].tasks.remove(ti);
                        self.version += 1;
                        continue;
                    }
                    TaskState::Stopping => {
                        // Stopped, or killed after its grace period: it stays in the history.
                        self.clock = self.services[si].tasks[ti].due;
                        self.stop_task(si, ti, engines);
                        self.clock = now;
                        self.version += 1;
                        continue;
                    }
                    _ => {}
                }
                let ready = self.services[si].tasks.remove(ti);
                self.start_task_on(si, ready.slot, ready.node, Some(ready.id), engines)?;
                if let Some(t) = self.services[si].tasks.last_mut() {
                    t.spec = ready.spec.clone();
                }
                self.shut_down_replaced(si, &ready.replaces);
                self.lb_after_tasks(si)?;
            }
        }
        self.clock = clock;
        Ok(())
    }

    /// The containers of a service's tasks that ran, oldest first, or of one task named by
    /// its ID (`docker service logs SERVICE|TASK`), each with the name its lines go after:
    /// `SERVICE.SLOT.TASKID@NODE` (docker/cli `cli/command/service/logs.go`
    /// `taskFormatter.format`: the slot as a number, a global task's 0; replicas of more
    /// digits than the slot pad it to one width). `None` when neither is known.
    pub fn log_tasks(&self, target: &str, no_task_ids: bool, no_trunc: bool) -> Option<Vec<(String, String)>> {
        let named = |si: usize, t: &Task| {
            let s = &self.services[si];
            let mut name = format!("{}.{}", s.name, t.slot);
            if !no_task_ids {
                name.push('.');
                name.push_str(if no_trunc { &t.id } else { &t.id[..12] });
            }
            let width = |n: u64| n.to_string().len();
            let pad = match (s.global, s.job) {
                (false, None) => width(s.replicas).saturating_sub(width(t.slot)),
                _ => 0,
            };
            (self.task_name(si, t), format!("{name}@{}{}", t.node, " ".repeat(pad)))
        };
        if let Ok(si) = self.service_idx(target) {
            // Tasks that never ran (pending, waiting to start again) have no log.
            let ran =
                self.services[si].tasks.iter().filter(|t| !matches!(t.state, TaskState::Pending | TaskState::Ready));
            return Some(ran.map(|t| named(si, t)).collect());
        }
        self.services.iter().enumerate().find_map(|(si, s)| {
            // The daemon finds a task by its whole ID or a unique prefix of it; the table's
            // 12 characters are what a student copies.
            let t = s.tasks.iter().find(|t| t.id == target || (target.len() >= 12 && t.id.starts_with(target)))?;
            Some(vec![named(si, t)])
        })
    }

    /// The task's container: `SERVICE.SLOT.TASKID`, a global service's `SERVICE.NODEID.TASKID`
    /// (its tasks have slot 0; traces/docker/swarm-global/record.txt).
    pub fn task_name(&self, si: usize, t: &Task) -> String {
        format!("{}.{}.{}", self.services[si].name, self.task_slot_name(t), t.id)
    }

    /// What stands for the slot in a task's names: its number, or its node's ID for a global
    /// service's task (docker/cli `cli/command/task/print.go`).
    fn task_slot_name(&self, t: &Task) -> String {
        match t.slot {
            0 => self.nodes.iter().find(|n| n.host == t.node).map(|n| n.id.clone()).unwrap_or_default(),
            slot => slot.to_string(),
        }
    }

    fn stop_task(&mut self, si: usize, ti: usize, engines: &mut [(String, Engine)]) {
        let t = self.services[si].tasks[ti].clone();
        if t.state == TaskState::Pending {
            // Never placed: nothing to take down.
            self.services[si].tasks[ti].state = TaskState::Shutdown;
            return;
        }
        if !matches!(t.state, TaskState::Running | TaskState::Removing | TaskState::Stopping) {
            return;
        }
        let name = self.task_name(si, &t);
        if let Some((_, e)) = engines.iter_mut().find(|(h, _)| *h == t.node) {
            e.remove_sandbox(&name);
        }
        for (n, ip) in &t.ips {
            if let Some(i) = self.net_idx(n) {
                let _ = self.ipam.release_address(self.networks[i].pool, *ip);
            }
        }
        self.services[si].tasks[ti].state = TaskState::Shutdown;
        self.services[si].tasks[ti].started = self.clock;
    }

    /// Every node that holds a service's load balancer numbers it from 256 in creation
    /// order; marks can differ between nodes (*Routing mesh*).
    fn assign_fwmarks(&mut self) {
        let names: Vec<String> = self.services.iter().filter(|s| !s.vips.is_empty()).map(|s| s.name.clone()).collect();
        for n in &mut self.nodes {
            for s in &names {
                if !n.fwmarks.iter().any(|(x, _)| x == s) {
                    n.fwmarks.push((s.clone(), n.next_fwmark));
                    n.next_fwmark += 1;
                }
            }
        }
    }

    fn service_idx(&self, name: &str) -> Result<usize, EngineError> {
        super::lookup::find(self.services.iter().map(|s| (s.id.as_str(), s.name.as_str())), name)
            .index()
            .ok_or_else(|| err(format!("Error: No such service: {name}")))
    }

    fn service_scale(
        &mut self,
        host: &str,
        s: &cli::ServiceScale,
        engines: &mut [(String, Engine)],
    ) -> Result<String, EngineError> {
        self.require_manager(host)?;
        let mut out = Vec::new();
        let mut errs = Vec::new();
        for t in &s.targets {
            let si = self.service_idx(&t.service)?;
            // docker/cli `cli/command/service/scale.go`: each service's error is collected
            // under its name, the others are scaled.
            if self.services[si].global {
                errs.push(format!("{}: scale can only be used with replicated or replicated-job mode", t.service));
                continue;
            }
            // A replicated job's scale is its total of completions, and the update runs it
            // again (docker/cli `runServiceScale` sets `ReplicatedJob.TotalCompletions`).
            if let Some(j) = self.services[si].job.as_mut() {
                j.total = t.replicas;
                self.version += 1;
                self.services[si].updated = self.clock;
                self.services[si].version = self.version;
                self.rerun_job(si, engines)?;
                out.push(format!("{} scaled to {}", t.service, t.replicas));
                continue;
            }
            self.scale_to(si, t.replicas, engines)?;
            out.push(format!("{} scaled to {}", t.service, t.replicas));
        }
        out.extend(errs.iter().cloned());
        match errs.is_empty() {
            true => Ok(out.join("\n")),
            false => Err(err(out.join("\n"))),
        }
    }

    /// Starts or stops tasks of service `si` until `replicas` run.
    fn scale_to(&mut self, si: usize, replicas: u64, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let running: Vec<u64> = self.services[si].live().map(|t| t.slot).collect();
        if replicas > running.len() as u64 {
            let mut slot = 1;
            for _ in running.len() as u64..replicas {
                while self.services[si].live().any(|x| x.slot == slot) {
                    slot += 1;
                }
                self.start_task(si, slot, engines)?;
                self.lb_after_tasks(si)?;
            }
        } else {
            // The highest slots go first, and their tasks are deleted with their history
            // (swarmkit's orchestrator removes a slot scaled away: `docker service ps` no
            // longer lists it).
            let mut slots = running.clone();
            slots.sort_unstable();
            let gone: Vec<u64> = slots.into_iter().rev().take(running.len() - replicas as usize).collect();
            for &slot in &gone {
                if let Some(ti) = self.services[si]
                    .tasks
                    .iter()
                    .position(|x| x.slot == slot && matches!(x.state, TaskState::Running | TaskState::Pending))
                {
                    self.stop_task(si, ti, engines);
                }
            }
            self.services[si].tasks.retain(|t| !gone.contains(&t.slot));
        }
        self.services[si].replicas = replicas;
        Ok(())
    }

    /// `docker service update`: the CLI prints the service as it was named, then, without
    /// `--detach`, follows the tasks until they converge (docker/cli
    /// `cli/command/service/update.go`, `progress.ServiceProgress`; the lines in between,
    /// one per poll, are left out: traces/docker/swarm-commands/record.txt).
    fn service_update(
        &mut self,
        host: &str,
        u: &cli::ServiceUpdate,
        engines: &mut [(String, Engine)],
    ) -> Result<String, EngineError> {
        self.require_manager(host)?;
        let si = self
            .service_idx(&u.service)
            .map_err(|_| err(format!("Error response from daemon: service {} not found", u.service)))?;
        let before = self.services[si].replicas;
        // docker/cli sends the spec with the flags applied, which the daemon checks before it
        // changes anything.
        let config = self.services[si].update_config.with(&u.update)?;
        // The daemon checks the image reference (swarmkit `controlapi` `validateImage`).
        let image = match &u.image {
            Some(i) => Some(cli::ImageRef::parse(i).map_err(|_| {
                err(format!(
                    "Error response from daemon: rpc error: code = InvalidArgument desc = ContainerSpec: \"{i}\" is not a valid repository/tag"
                ))
            })?),
            None => None,
        };
        // docker/cli `updatePlacementConstraints`: added, then those written exactly as a
        // `--constraint-rm` taken out, sorted; the daemon parses them as on create.
        let s = &self.services[si];
        let mut raw: Vec<String> = s.constraints.iter().map(|c| c.raw.clone()).collect();
        raw.extend(u.constraint_add.iter().cloned());
        raw.retain(|c| !u.constraint_rm.contains(c));
        raw.sort();
        let constraints = raw
            .iter()
            .map(|r| Constraint::parse(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| err(format!("Error response from daemon: rpc error: code = Unknown desc = {m}")))?;
        // docker/cli `updateEnvironment`: `--env-rm` by name, then `--env-add` in place of a
        // variable of the same name or after the others.
        let mut spec = TaskSpec { constraints, force: s.force_update + u64::from(u.force), ..s.task_spec() };
        spec.env.retain(|(k, _)| !u.env_rm.contains(k));
        for e in &u.env_add {
            let v = e.value.clone().unwrap_or_default();
            match spec.env.iter_mut().find(|(k, _)| *k == e.key) {
                Some(x) => x.1 = v,
                None => spec.env.push((e.key.clone(), v)),
            }
        }
        if let Some(i) = &image {
            spec.image_ref = i.familiar_tagged();
        }
        self.update_networks(&mut spec, &u.network_add, &u.network_rm)?;
        self.update_ports(si, &mut spec, &u.publish_add, &u.publish_rm)?;
        // `docker service rollback` (`service update --rollback`): the spec before the last
        // update comes back and the one it replaces becomes the previous (swarmkit's
        // controlapi `UpdateService` with `Rollback`), so a second rollback undoes the
        // first; a service never updated has none (traces/docker/swarm-rollback/record.txt).
        let previous = match (u.rollback, &self.services[si].previous) {
            (true, None) => {
                return Err(err(format!(
                    "Error response from daemon: rpc error: code = FailedPrecondition desc = service {} does not have a previous spec",
                    self.services[si].id
                )));
            }
            (true, Some(p)) => Some(p.clone()),
            (false, _) => None,
        };
        let target = match (&previous, u.replicas) {
            (Some(p), _) => Some(p.replicas),
            // docker/cli `cli/command/service/update.go` (`updateReplicas`), before it sends
            // anything: a job's completions are set by `scale` only.
            (None, Some(_)) if self.services[si].global || self.services[si].job.is_some() => {
                return Err(err("replicas can only be used with replicated mode"));
            }
            (None, n) => n,
        };
        if let Some(n) = target.filter(|_| !self.services[si].global) {
            self.scale_to(si, n, engines)?;
        }
        self.version += 1;
        let now = self.clock;
        let s = &mut self.services[si];
        let replaced = Previous {
            replicas: before,
            spec: s.task_spec(),
            stop_grace: s.stop_grace,
            update_config: s.update_config.clone(),
        };
        // A rollback replaces the tasks under the rollback config (docker/cli's defaults,
        // the same as an update's), and its status says so from the start; an update's
        // status starts again with the updater (swarmkit controlapi `UpdateService`).
        let rollout = match previous {
            Some(p) => {
                s.set_task_spec(p.spec);
                s.stop_grace = p.stop_grace;
                s.update_config = p.update_config;
                s.update_status = Some(UpdateStatus {
                    state: "rollback_started",
                    started: now,
                    completed: None,
                    message: "manually requested rollback",
                });
                UpdateConfig::default()
            }
            None => {
                s.set_task_spec(spec);
                s.update_config = config;
                s.stop_grace = u.update.stop_grace.unwrap_or(s.stop_grace);
                s.update_status = None;
                s.update_config.clone()
            }
        };
        s.previous = Some(replaced);
        s.updated = now;
        s.version = self.version;
        let job = s.job.is_some();
        self.sync_vips(si)?;
        match job {
            true => self.rerun_job(si, engines)?,
            // Without `--detach` the client follows the tasks until the new ones have all run
            // for the spec's monitoring period (docker/cli `ServiceProgress`, which reads
            // `UpdateConfig.Monitor`).
            false => {
                let last = self.start_rollout(si, rollout);
                if !u.detach {
                    let monitor = self.services[si].update_config.monitor;
                    self.follow = Some(match last {
                        Some(t) => t.saturating_sub(now) + monitor + super::timing::FOLLOW_AFTER_ROLLOUT,
                        None => monitor + super::timing::FOLLOW_CONVERGED,
                    });
                }
            }
        }
        let mut out = u.service.clone();
        if job && !u.detach && !u.quiet {
            // The client follows the job to its end (docker/cli
            // `cli/command/service/progress/progress.go`: `replicatedJobProgressUpdater`).
            out += "\njob complete";
        } else if !u.detach && !u.quiet {
            let n = self.services[si].desired();
            out += &match u.rollback {
                true => format!(
                    "\nrollback: manually requested rollback\noverall progress: rolling back update: {n} out of {n} tasks"
                ),
                false => format!("\noverall progress: {n} out of {n} tasks"),
            };
            out += &format!("\nverify: Service {} converged", u.service);
        }
        Ok(out)
    }

    /// `docker service inspect`: what was found, then an error for what was not (`[]` when
    /// nothing was), as `docker network inspect` does.
    fn service_inspect(&self, i: &cli::ServiceInspect) -> Result<String, EngineError> {
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for name in &i.services {
            match self.service_idx(name) {
                Ok(si) => found.push(si),
                Err(_) => missing.push(format!("Error: no such service: {name}")),
            }
        }
        let out = if i.pretty && i.format.is_none() {
            found.iter().map(|&si| self.service_pretty(si)).collect::<Vec<_>>().join("\n\n")
        } else {
            let values: Vec<serde_json::Value> = found.iter().map(|&si| self.service_json(si)).collect();
            super::inspect::print_with_nil(
                &values,
                i.format.as_deref(),
                &[
                    "UpdateStatus",
                    "Spec.TaskTemplate.ContainerSpec.Env",
                    "PreviousSpec.TaskTemplate.ContainerSpec.Env",
                    "Spec.EndpointSpec.Ports",
                    "Endpoint.Ports",
                    "Endpoint.VirtualIPs",
                ],
            )?
        };
        match missing.is_empty() {
            true => Ok(out),
            false => Err(err(format!("{out}{}", missing.join("\n")))),
        }
    }

    /// A service's spec as the daemon returns it (api/types/swarm `ServiceSpec`, in its field
    /// order). `full` adds what the CLI fills in when it sends a spec (stop grace period,
    /// restart policy, update and rollback config); a `PreviousSpec` has none of them
    /// (traces/docker/swarm-commands/record.txt).
    fn service_spec(&self, s: &Service, replicas: u64, spec: &TaskSpec, full: bool) -> serde_json::Value {
        use serde_json::{Value, json};
        let mut cs = serde_json::Map::new();
        cs.insert("Image".into(), json!(spec.image_ref));
        if !s.args.is_empty() {
            cs.insert("Args".into(), json!(s.args));
        }
        if !spec.env.is_empty() {
            cs.insert("Env".into(), json!(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()));
        }
        cs.insert("Init".into(), json!(false));
        if full {
            cs.insert("StopGracePeriod".into(), json!(s.stop_grace.as_nanos()));
        }
        cs.insert("DNSConfig".into(), json!({}));
        cs.insert("Isolation".into(), json!("default"));
        let mut tt = serde_json::Map::new();
        tt.insert("ContainerSpec".into(), Value::Object(cs));
        tt.insert("Resources".into(), json!({"Limits": {}, "Reservations": {}}));
        if full {
            tt.insert("RestartPolicy".into(), json!({"Condition": "any", "Delay": 5_000_000_000u64, "MaxAttempts": 0}));
        }
        match spec.constraints.is_empty() {
            true => tt.insert("Placement".into(), json!({})),
            false => tt.insert(
                "Placement".into(),
                json!({"Constraints": spec.constraints.iter().map(|c| c.raw.clone()).collect::<Vec<_>>()}),
            ),
        };
        let nets: Vec<Value> = s
            .networks
            .iter()
            .filter_map(|n| self.net_idx(n))
            .map(|i| {
                let net = &self.networks[i];
                let aliases: Vec<&String> = s.aliases.iter().filter(|(n, _)| *n == net.name).map(|x| &x.1).collect();
                match aliases.is_empty() {
                    true => json!({"Target": net.id}),
                    false => json!({"Target": net.id, "Aliases": aliases}),
                }
            })
            .collect();
        if !nets.is_empty() {
            tt.insert("Networks".into(), Value::Array(nets));
        }
        tt.insert("ForceUpdate".into(), json!(spec.force));
        tt.insert("Runtime".into(), json!("container"));
        let mut spec = serde_json::Map::new();
        spec.insert("Name".into(), json!(s.name));
        spec.insert("Labels".into(), json!(s.labels));
        spec.insert("TaskTemplate".into(), Value::Object(tt));
        let mode = match s.global {
            true => json!({"Global": {}}),
            false => json!({"Replicated": {"Replicas": replicas}}),
        };
        spec.insert("Mode".into(), mode);
        if full {
            spec.insert("UpdateConfig".into(), s.update_config.json());
            spec.insert("RollbackConfig".into(), UpdateConfig::default().json());
        }
        spec.insert("EndpointSpec".into(), Self::endpoint_spec(s));
        Value::Object(spec)
    }

    fn service_ports(s: &Service) -> Vec<serde_json::Value> {
        let one = |(p, t, proto): &(u16, u16, &str), mode: &str| serde_json::json!({"Protocol": proto, "TargetPort": t, "PublishedPort": p, "PublishMode": mode});
        s.ports.iter().map(|p| one(p, "ingress")).chain(s.host_ports.iter().map(|p| one(p, "host"))).collect()
    }

    fn endpoint_spec(s: &Service) -> serde_json::Value {
        let mode = if s.dnsrr { "dnsrr" } else { "vip" };
        let ports = Self::service_ports(s);
        if ports.is_empty() {
            serde_json::json!({"Mode": mode})
        } else {
            serde_json::json!({"Mode": mode, "Ports": ports})
        }
    }

    /// `docker service inspect`'s object for service `si`.
    fn service_json(&self, si: usize) -> serde_json::Value {
        use serde_json::{Value, json};
        let s = &self.services[si];
        let mut o = serde_json::Map::new();
        o.insert("ID".into(), json!(s.id));
        o.insert("Version".into(), json!({"Index": s.version}));
        o.insert("CreatedAt".into(), json!(super::inspect::created(s.created)));
        o.insert("UpdatedAt".into(), json!(super::inspect::created(s.updated)));
        o.insert("Spec".into(), self.service_spec(s, s.replicas, &s.task_spec(), true));
        if let Some(p) = &s.previous {
            o.insert("PreviousSpec".into(), self.service_spec(s, p.replicas, &p.spec, false));
        }
        let mut ep = serde_json::Map::new();
        ep.insert("Spec".into(), Self::endpoint_spec(s));
        let ports = Self::service_ports(s);
        if !ports.is_empty() {
            ep.insert("Ports".into(), Value::Array(ports));
        }
        let vips: Vec<Value> = s
            .vips
            .iter()
            .filter_map(|(n, ip)| {
                let i = self.net_idx(n)?;
                Some(json!({"NetworkID": self.networks[i].id, "Addr": format!("{ip}/{}", self.networks[i].subnet.len)}))
            })
            .collect();
        if !vips.is_empty() {
            ep.insert("VirtualIPs".into(), Value::Array(vips));
        }
        o.insert("Endpoint".into(), Value::Object(ep));
        if let Some(st) = &s.update_status {
            o.insert("UpdateStatus".into(), st.json());
        }
        Value::Object(o)
    }

    /// `docker service inspect --pretty` (docker/cli `cli/command/service/formatter.go`,
    /// `serviceInspectPrettyTemplate`), the parts a service of this model has.
    fn service_pretty(&self, si: usize) -> String {
        let s = &self.services[si];
        let mut o = String::new();
        o += &format!("ID:\t\t{}\nName:\t\t{}\n", s.id, s.name);
        o += &match s.global {
            true => "Service Mode:\tGlobal\n".to_string(),
            false => format!("Service Mode:\tReplicated\n Replicas:\t{}\n", s.replicas),
        };
        if let Some(st) = &s.update_status {
            let ago = |t: SimTime| human_duration(self.clock.saturating_sub(t));
            o += &format!("UpdateStatus:\n State:\t\t{}\n Started:\t{} ago\n", st.state, ago(st.started));
            // docker/cli shows when only for a completed update, not a rollback.
            if let Some(c) = st.completed.filter(|_| st.state == "completed") {
                o += &format!(" Completed:\t{} ago\n", ago(c));
            }
            o += &format!(" Message:\t{}\n", st.message);
        }
        o += "Placement:\n";
        if !s.constraints.is_empty() {
            // docker/cli prints the list as Go prints a slice.
            let list: Vec<&str> = s.constraints.iter().map(|c| c.raw.as_str()).collect();
            o += &format!(" Constraints:\t[{}]\n", list.join(" "));
        }
        o += &s.update_config.pretty("Update");
        o += &UpdateConfig::default().pretty("Rollback");
        o += &format!("ContainerSpec:\n Image:\t\t{}\n", s.image_ref);
        if !s.args.is_empty() {
            o += &format!(" Args:\t\t{} \n", s.args.join(" "));
        }
        if !s.env.is_empty() {
            let env: String = s.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
            o += &format!(" Env:\t\t{env}\n");
        }
        o += " Init:\t\tfalse\nResources:\n";
        if !s.networks.is_empty() {
            o += &format!("Networks: {} \n", s.networks.join(" "));
        }
        o += &format!("Endpoint Mode:\t{}\n", if s.dnsrr { "dnsrr" } else { "vip" });
        let ports: Vec<(u16, u16, &str, &str)> = s
            .ports
            .iter()
            .map(|(p, t, pr)| (*p, *t, *pr, "ingress"))
            .chain(s.host_ports.iter().map(|(p, t, pr)| (*p, *t, *pr, "host")))
            .collect();
        if !ports.is_empty() {
            o += "Ports:";
            for (p, t, pr, mode) in ports {
                o += &format!("\n PublishedPort = {p}\n  Protocol = {pr}\n  TargetPort = {t}\n  PublishMode = {mode} ");
            }
        }
        o.trim_end_matches('\n').to_string()
    }

    /// The node `name` names as `docker node` takes it (`self`, a hostname, an ID or its prefix).
    fn node_named(&self, me: &str, name: &str) -> Result<usize, EngineError> {
        let found = if name == "self" {
            self.nodes.iter().position(|n| n.host == me)
        } else {
            self.nodes.iter().position(|n| n.id == name || n.host == name).or_else(|| {
                let hits: Vec<usize> = (0..self.nodes.len()).filter(|&i| self.nodes[i].id.starts_with(name)).collect();
                (hits.len() == 1).then(|| hits[0])
            })
        };
        found.ok_or_else(|| err(format!("Error response from daemon: node {name} not found")))
    }

    /// `docker node ps`: the tasks on each node, in docker/cli's table (Go's tabwriter: cells
    /// padded to the widest plus 3, at least 10; `formatter.NewContext`).
    fn node_ps(&self, me: &str, p: &cli::NodePs) -> Result<String, EngineError> {
        let mut nodes = Vec::new();
        for n in &p.nodes {
            nodes.push(self.node_named(me, n)?);
        }
        let mut rows = Vec::new();
        for &ni in &nodes {
            let host = &self.nodes[ni].host;
            for s in &self.services {
                let mut tasks: Vec<&Task> = s.running().filter(|t| &t.node == host).collect();
                tasks.sort_by_key(|t| t.slot);
                rows.extend(tasks.into_iter().map(|t| self.task_row(s, t, "")));
            }
        }
        if p.quiet {
            // The ID column alone, truncated as in the table.
            return Ok(rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>().join("\n"));
        }
        rows.insert(0, TASK_HEAD.map(String::from).to_vec());
        Ok(tabwrite(&rows).trim_end_matches('\n').to_string())
    }

    /// One row of docker/cli's task table (`docker service ps`, `docker node ps`).
    fn task_row(&self, s: &Service, t: &Task, prefix: &str) -> Vec<String> {
        // docker/cli lower-cases the duration (`taskContext.CurrentState`).
        let ago = human_duration(self.clock.saturating_sub(t.started)).to_lowercase();
        // A job's tasks are desired Complete (swarmkit's reconcilers), a replaced one
        // Shutdown, one waiting out its restart delay Ready.
        let live = if s.job.is_some() { "Complete" } else { "Running" };
        let (desired, current) = match t.state {
            TaskState::Running => (live, format!("Running {ago} ago")),
            TaskState::Shutdown => ("Shutdown", format!("Shutdown {ago} ago")),
            TaskState::Rejected => ("Shutdown", format!("Rejected {ago} ago")),
            TaskState::Pending => (live, format!("Pending {ago} ago")),
            // A rolling update's new task once the old one has stopped.
            TaskState::Ready if t.go <= self.clock && self.clock < t.due => (live, format!("Starting {ago} ago")),
            TaskState::Ready => ("Ready", format!("Ready {ago} ago")),
            TaskState::Complete if s.job.is_some() => ("Complete", format!("Complete {ago} ago")),
            TaskState::Complete => ("Shutdown", format!("Complete {ago} ago")),
            TaskState::Failed => ("Shutdown", format!("Failed {ago} ago")),
            TaskState::Removing => ("Remove", format!("Running {ago} ago")),
            TaskState::Stopping => ("Shutdown", format!("Running {ago} ago")),
        };
        // docker/cli quotes the error and cuts it at 30 characters (`cli/command/task/print.go`).
        let error = match t.error.chars().count() {
            0 => String::new(),
            n if n > 30 => format!("\"{}…\"", t.error.chars().take(29).collect::<String>()),
            _ => format!("\"{}\"", t.error),
        };
        vec![
            t.id[..12].to_string(),
            format!("{prefix}{}.{}", s.name, self.task_slot_name(t)),
            t.spec.image_ref.clone(),
            t.node.clone(),
            desired.into(),
            current,
            error,
            String::new(),
        ]
    }

    /// `docker node inspect`: the fields of api/types/swarm `Node` this model has, in order.
    fn node_inspect(&self, me: &str, i: &cli::NodeInspect) -> Result<String, EngineError> {
        use serde_json::json;
        let mut found = Vec::new();
        for name in &i.nodes {
            let n = &self.nodes[self.node_named(me, name)?];
            let role = match n.role {
                Role::Manager => "manager",
                Role::Worker => "worker",
            };
            let mut o = serde_json::Map::new();
            o.insert("ID".into(), json!(n.id));
            o.insert(
                "Spec".into(),
                json!({"Labels": n.labels, "Role": role, "Availability": availability_name(n.availability)}),
            );
            o.insert("Description".into(), json!({"Hostname": n.host}));
            o.insert(
                "Status".into(),
                json!({"State": if n.up { "ready" } else { "down" }, "Addr": n.addr.to_string()}),
            );
            if n.role == Role::Manager {
                o.insert(
                    "ManagerStatus".into(),
                    json!({
                        "Leader": self.leader() == Some(n.host.as_str()),
                        "Reachability": "reachable",
                        "Addr": format!("{}:2377", n.addr)
                    }),
                );
            }
            found.push(serde_json::Value::Object(o));
        }
        super::inspect::print(&found, i.format.as_deref())
    }

    fn service_rm(
        &mut self,
        host: &str,
        names: &[String],
        engines: &mut [(String, Engine)],
    ) -> Result<String, EngineError> {
        self.require_manager(host)?;
        for name in names {
            let si = self.service_idx(name)?;
            for ti in 0..self.services[si].tasks.len() {
                self.stop_task(si, ti, engines);
            }
            let s = self.services.remove(si);
            for (n, ip) in &s.vips {
                if let Some(i) = self.net_idx(n) {
                    let _ = self.ipam.release_address(self.networks[i].pool, *ip);
                }
            }
        }
        Ok(names.join("\n"))
    }

    /// The last manager leaves with `--force`: every service goes, with its tasks and
    /// addresses.
    pub fn erase(&mut self, host: &str, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let names: Vec<String> = self.services.iter().map(|s| s.name.clone()).collect();
        if !names.is_empty() {
            self.service_rm(host, &names, engines)?;
        }
        Ok(())
    }

    /// A node's daemon stops: its tasks die, and the orchestrator replaces each with a new
    /// task (new ID, same slot, new addresses: swarm IPAM is serial) on the nodes left. When
    /// that leaves too few managers for a leader, nothing replaces them: the tasks on the
    /// other nodes run on, but the swarm schedules nothing and its managers answer no
    /// command.
    pub fn node_down(&mut self, host: &str, engines: &mut [(String, Engine)]) -> Result<String, EngineError> {
        let Some(ni) = self.nodes.iter().position(|n| n.host == host) else {
            return Err(err(format!("netsim: {host} is not a swarm node")));
        };
        self.nodes[ni].up = false;
        let moved = self.evacuate(host, engines)?;
        for n in &mut self.networks {
            n.lb.retain(|(h, _)| h != host);
            n.lb_ids.retain(|(h, _)| h != host);
        }
        Ok(moved.join("\n"))
    }

    /// Every task running on `host` stops; a replicated one starts again on a node the
    /// scheduler picks, or waits pending; a global one is not replaced (it runs on every node
    /// that takes tasks), and without a leader none is. What became of each task, one line
    /// each.
    fn evacuate(&mut self, host: &str, engines: &mut [(String, Engine)]) -> Result<Vec<String>, EngineError> {
        let mut moved = Vec::new();
        for si in 0..self.services.len() {
            // The tasks started here are pushed after the ones looked at.
            for ti in 0..self.services[si].tasks.len() {
                let t = &self.services[si].tasks[ti];
                if t.node != host || t.state != TaskState::Running {
                    continue;
                }
                let slot = t.slot;
                let old = self.task_name(si, t);
                self.stop_task(si, ti, engines);
                if !self.has_quorum() {
                    moved.push(format!("{old} stopped (no leader to replace it)"));
                    continue;
                }
                if self.services[si].global {
                    moved.push(format!("{old} stopped"));
                    continue;
                }
                self.start_task(si, slot, engines)?;
                self.lb_after_tasks(si)?;
                let new = self.services[si].tasks.last().map(|t| match t.state {
                    TaskState::Pending => format!("pending ({})", t.error),
                    _ => format!("{} on {}", self.task_name(si, t), t.node),
                });
                moved.push(format!("{old} → {}", new.unwrap_or_default()));
            }
        }
        Ok(moved)
    }

    /// The node `host` changed: its running tasks whose service's constraints it no longer
    /// meets are stopped, and a replicated service's start again where the scheduler puts
    /// them (swarmkit `manager/orchestrator/constraintenforcer`).
    fn enforce_constraints(&mut self, host: &str, engines: &mut [(String, Engine)]) -> Result<(), EngineError> {
        let Some(ni) = self.nodes.iter().position(|n| n.host == host) else { return Ok(()) };
        for si in 0..self.services.len() {
            if self.services[si].constraints.iter().all(|c| c.meets(&self.nodes[ni])) {
                continue;
            }
            for ti in 0..self.services[si].tasks.len() {
                let t = &self.services[si].tasks[ti];
                if t.node != host || t.state != TaskState::Running {
                    continue;
                }
                let slot = t.slot;
                self.stop_task(si, ti, engines);
                let t = &mut self.services[si].tasks[ti];
                t.state = TaskState::Rejected;
                t.error = "assigned node no longer meets constraints".into();
                if !self.services[si].global {
                    self.start_task(si, slot, engines)?;
                    self.lb_after_tasks(si)?;
                }
            }
        }
        Ok(())
    }

    /// `docker service ls [-q] [-f KEY=VALUE…] [--format F]`: docker/cli's table (`tabwrite`;
    /// a host-mode port is not shown, `lab7-service-ls.txt`), the IDs, or the template on
    /// each service; the daemon's filters (`newListServicesFilters` in moby's
    /// daemon/cluster/filters.go): `name` and `id` by prefix, `mode`, `label`
    /// (traces/docker/swarm-list-options/).
    fn service_ls(&self, l: &cli::ServiceLs) -> Result<String, EngineError> {
        let terms = filter_terms(&l.filters, &["id", "label", "mode", "name", "runtime"])?;
        let keep = |s: &Service| {
            terms.iter().all(|(k, vs)| match k.as_str() {
                "name" => vs.iter().any(|v| s.name.starts_with(v.as_str())),
                "id" => vs.iter().any(|v| s.id.starts_with(v.as_str())),
                "mode" => vs.iter().any(|v| v == s.mode_name()),
                "label" => vs.iter().all(|v| super::label_matches(&s.labels, v)),
                _ => true,
            })
        };
        let rows = self.service_rows(None, &keep);
        let format = match (&l.format, l.quiet) {
            (Some(f), _) => f.clone(),
            (None, true) => return Ok(rows.iter().map(|r| format!("{}\n", r[0])).collect::<String>()),
            (None, false) => "table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}".into(),
        };
        let values: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"ID": r[0], "Name": r[1], "Mode": r[2], "Replicas": r[3], "Image": r[4], "Ports": r[5]})
            })
            .collect();
        const HEADS: &[(&str, &str)] = &[
            ("ID", "ID"),
            ("Name", "NAME"),
            ("Mode", "MODE"),
            ("Replicas", "REPLICAS"),
            ("Image", "IMAGE"),
            ("Ports", "PORTS"),
        ];
        list_by_template(&format, &values, HEADS, "*service.serviceContext")
    }

    /// `docker service ls`, or with `stack` `docker stack services STACK`: the services
    /// whose `com.docker.stack.namespace` label names it.
    pub(crate) fn services_table(&self, stack: Option<&str>) -> String {
        let mut rows = vec![["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"].map(String::from).to_vec()];
        rows.extend(self.service_rows(stack, &|_| true));
        tabwrite(&rows)
    }

    /// The rows of `docker service ls` (ID, NAME, MODE, REPLICAS, IMAGE, PORTS), by name, of
    /// the services in `stack` (all without one) that `keep` keeps.
    fn service_rows(&self, stack: Option<&str>, keep: &dyn Fn(&Service) -> bool) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let shown = |s: &&Service| {
            stack.is_none_or(|st| s.labels.get(super::stack::NAMESPACE).map(String::as_str) == Some(st)) && keep(s)
        };
        // By name, as docker/cli sorts them (`cli/command/service/list.go`).
        let mut services: Vec<&Service> = self.services.iter().filter(shown).collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        for s in services {
            let ports: Vec<String> = s.ports.iter().map(|(p, t, proto)| format!("*:{p}->{t}/{proto}")).collect();
            // docker/cli `serviceContext.Replicas`, from the daemon's counts (swarmkit
            // `controlapi.ListServiceStatuses`): a replicated job's desired tasks are its
            // MaxConcurrent, a global job's those still to complete; a job's tasks count in
            // their iteration only.
            // A task a rolling update is shutting down still runs, and counts
            // (traces/docker/swarm-update-image: `2/2` while one of two is replaced).
            let running = s.current().filter(|t| matches!(t.state, TaskState::Running | TaskState::Stopping)).count();
            let complete = s.current().filter(|t| t.state == TaskState::Complete).count() as u64;
            let replicas = match (s.job, s.global) {
                (Some(j), false) => format!("{running}/{} ({complete}/{} completed)", j.max_concurrent, j.total),
                (Some(_), true) => {
                    let desired =
                        s.current().filter(|t| matches!(t.state, TaskState::Running | TaskState::Pending)).count()
                            as u64;
                    format!("{running}/{desired} ({complete}/{} completed)", desired + complete)
                }
                (None, _) => format!("{running}/{}", s.desired()),
            };
            rows.push(vec![
                s.id[..12].to_string(),
                s.name.clone(),
                s.mode_name().into(),
                replicas,
                s.image_ref.clone(),
                ports.join(", "),
            ]);
        }
        rows
    }

    /// `docker service ps`: docker/cli's task table (`tabwrite`), slot by slot, the running
    /// task first and the ones it replaced under it as `\_ S.N` (docker/cli
    /// `cli/command/task/print.go`); a slot scaled away is gone, as swarmkit deletes its tasks
    /// (traces/docker/swarm-commands/record.txt).
    pub(crate) fn service_ps(&self, names: &[String]) -> Result<String, EngineError> {
        let p = cli::ServicePs { services: names.to_vec(), ..Default::default() };
        self.service_ps_listed(&p)
    }

    /// `docker service ps` with its options: `-q` (the full task IDs), `--no-trunc`, the
    /// daemon's filters (`newListTasksFilters`: `desired-state` running, shutdown or accepted,
    /// `name` and `id` by prefix, `node`), `--format` (under `table`, a replaced task's name
    /// indented as in the default table; otherwise not), as Docker Engine 20.10.24 answered
    /// them (traces/docker/swarm-list-options/).
    pub(crate) fn service_ps_listed(&self, p: &cli::ServicePs) -> Result<String, EngineError> {
        let terms =
            filter_terms(&p.filters, &["_up-to-date", "desired-state", "id", "label", "name", "node", "service"])?;
        for v in terms.get("desired-state").into_iter().flatten() {
            if !["running", "shutdown", "accepted"].contains(&v.as_str()) {
                return Err(err(format!("Error response from daemon: Invalid desired-state filter: '{v}'")));
            }
        }
        let format = match (&p.format, p.quiet) {
            (Some(f), _) => f.clone(),
            (None, true) => "{{.ID}}".into(),
            (None, false) => {
                "table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}"
                    .into()
            }
        };
        // `-q` prints the IDs whole (docker/cli sets --no-trunc with it).
        let trunc = !p.no_trunc && !p.quiet;
        let (table, _) = super::list_format(&format);
        // docker/cli `cli/command/task/print.go`: the tasks of all the services asked, by name
        // (`SERVICE.SLOT`, or `SERVICE.NODEID` for slot 0) in natural order, the newest first
        // under one name, which the others follow as `\_ NAME` in a table.
        let mut tasks: Vec<(String, usize, &Service, &Task)> = Vec::new();
        for name in &p.services {
            let si = self.service_idx(name).map_err(|_| err(format!("no such service: {name}")))?;
            let s = &self.services[si];
            tasks.extend(
                s.tasks.iter().enumerate().map(|(i, t)| (format!("{}.{}", s.name, self.task_slot_name(t)), i, s, t)),
            );
        }
        tasks.sort_by(|a, b| natural_cmp(&a.0, &b.0).then(b.1.cmp(&a.1)));
        let mut values = Vec::new();
        let mut prev: Option<&str> = None;
        for (name, _, s, t) in &tasks {
            let mut row = self.task_row(s, t, "");
            let kept = terms.iter().all(|(k, vs)| match k.as_str() {
                "desired-state" => vs.iter().any(|v| row[4].eq_ignore_ascii_case(v)),
                "name" => vs.iter().any(|v| format!("{name}.{}", t.id).starts_with(v.as_str())),
                "id" => vs.iter().any(|v| t.id.starts_with(v.as_str())),
                "node" => vs.iter().any(|v| {
                    *v == t.node || self.nodes.iter().any(|n| n.host == t.node && n.id.starts_with(v.as_str()))
                }),
                "service" => vs.iter().any(|v| *v == s.name || s.id.starts_with(v.as_str())),
                _ => true,
            });
            if !kept {
                continue;
            }
            // The daemon filters; docker/cli indents among the tasks it was given.
            if prev == Some(name.as_str()) && table {
                row[1] = format!(" \\_ {}", row[1]);
            }
            prev = Some(name);
            let id = if trunc { row[0].clone() } else { t.id.clone() };
            values.push(serde_json::json!({
                "ID": id, "Name": row[1], "Image": row[2], "Node": row[3], "DesiredState": row[4],
                "CurrentState": row[5], "Error": row[6], "Ports": row[7],
            }));
        }
        const HEADS: &[(&str, &str)] = &[
            ("ID", "ID"),
            ("Name", "NAME"),
            ("Image", "IMAGE"),
            ("Node", "NODE"),
            ("DesiredState", "DESIRED STATE"),
            ("CurrentState", "CURRENT STATE"),
            ("Error", "ERROR"),
            ("Ports", "PORTS"),
        ];
        let out = list_by_template(&format, &values, HEADS, "*task.taskContext")?;
        Ok(out.trim_end_matches('\n').to_string())
    }

    /// `docker node ls [-q] [-f KEY=VALUE…] [--format F]`: the table, the node IDs, or the
    /// template on each node (`Self`, `Hostname`, `Status`, `Availability`, `ManagerStatus`,
    /// `EngineVersion`); the daemon's filters (`newListNodesFilters`): `id` and `name` by
    /// prefix, `role`, `membership` (traces/docker/swarm-list-options/).
    fn node_ls_listed(&self, me: &str, l: &cli::NodeLs) -> Result<String, EngineError> {
        let terms = filter_terms(&l.filters, &["id", "label", "membership", "name", "node.label", "role"])?;
        let kept: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|n| {
                terms.iter().all(|(k, vs)| match k.as_str() {
                    "id" => vs.iter().any(|v| n.id.starts_with(v.as_str())),
                    "name" => vs.iter().any(|v| n.host.starts_with(v.as_str())),
                    "role" => vs.iter().any(|v| (v == "manager") == (n.role == Role::Manager)),
                    "membership" => vs.iter().any(|v| v == "accepted"),
                    _ => true,
                })
            })
            .collect();
        let (format, quiet) = (l.format.as_deref(), l.quiet);
        if quiet && format.is_none() {
            return Ok(kept.iter().map(|n| format!("{}\n", n.id)).collect());
        }
        let Some(format) = format else { return Ok(self.node_table(me, &kept)) };
        let values: Vec<serde_json::Value> = kept
            .iter()
            .map(|n| {
                let (status, availability, manager) = self.node_cells(n);
                serde_json::json!({
                    "ID": n.id, "Self": n.host == me, "Hostname": n.host, "Status": status,
                    "Availability": availability, "ManagerStatus": manager,
                    "EngineVersion": self.era.engine_version().unwrap_or_default(), "TLSStatus": "Ready",
                })
            })
            .collect();
        const HEADS: &[(&str, &str)] = &[
            ("ID", "ID"),
            ("Hostname", "HOSTNAME"),
            ("Status", "STATUS"),
            ("Availability", "AVAILABILITY"),
            ("ManagerStatus", "MANAGER STATUS"),
            ("EngineVersion", "ENGINE VERSION"),
            ("TLSStatus", "TLS STATUS"),
        ];
        list_by_template(format, &values, HEADS, "*formatter.nodeContext")
    }

    /// A node's STATUS, AVAILABILITY and MANAGER STATUS cells.
    fn node_cells(&self, n: &Node) -> (&'static str, &'static str, &'static str) {
        let mgr = match (n.role, self.leader() == Some(n.host.as_str())) {
            (Role::Manager, true) => "Leader",
            (Role::Manager, false) => "Reachable",
            _ => "",
        };
        let availability = match n.availability {
            cli::NodeAvailability::Active => "Active",
            cli::NodeAvailability::Pause => "Pause",
            cli::NodeAvailability::Drain => "Drain",
        };
        (if n.up { "Ready" } else { "Down" }, availability, mgr)
    }

    /// docker/cli's node table (`tabwrite`): the ID marked `*` on the node asked, and the
    /// daemon's version in the 20.10 era, the one recorded (no v29 engine was: its column is
    /// left out there).
    fn node_table(&self, me: &str, nodes: &[&Node]) -> String {
        let version = self.era.engine_version();
        let mut head = ["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"].map(String::from).to_vec();
        if version.is_some() {
            head.push("ENGINE VERSION".into());
        }
        let mut rows = vec![head];
        for n in nodes {
            let (status, availability, mgr) = self.node_cells(n);
            let id = if n.host == me { format!("{} *", n.id) } else { format!("{}  ", n.id) };
            let mut row = vec![id, n.host.clone(), status.into(), availability.into(), mgr.into()];
            if let Some(v) = version {
                row.push(v.into());
            }
            rows.push(row);
        }
        tabwrite(&rows)
    }

    // ----- what the drivers program on each node ------------------------------------------

    /// Whether `host` has network `i` instantiated: ingress everywhere, others where a task
    /// or load balancer of theirs lives.
    /// Whether `host`'s daemon knows overlay `i` at all: a manager asks the cluster for every
    /// network, a worker's request is refused there (`Cluster.GetNetworks` needs an active
    /// manager) and it knows only what it has instantiated, as moby 20.10's
    /// `getNetworksList` and `getNetwork` combine the two (api/server/router/network/
    /// network_routes.go). A daemon outside the swarm knows none.
    pub fn sees_overlay(&self, i: usize, host: &str) -> bool {
        match self.node(host) {
            Some(n) if n.up => n.role == Role::Manager || self.node_has(i, host),
            _ => false,
        }
    }

    fn node_has(&self, i: usize, host: &str) -> bool {
        let n = &self.networks[i];
        n.ingress || n.lb.iter().any(|(h, _)| h == host)
    }

    /// `docker run --network NET` / `docker network connect NET C` with an attachable
    /// overlay: the container gets an address on it (the one it asked for, or the next), as
    /// the interface asked for; the node instantiates the network.
    pub fn attach(&mut self, container: &str, node: &str, net: &str, req: AttachRequest) -> Result<(), EngineError> {
        let i = self.attachable(net)?;
        let n = &self.networks[i];
        let name = n.name.clone();
        let ip = self.ipam.request_address(n.pool, req.ip).map_err(|e| {
            err(format!("Error response from daemon: Could not attach to network {net}: {}", e.message))
        })?;
        let endpoint_id = self.hex64();
        let task_id = base36(&mut self.rng, 25);
        self.attachments.push(Attachment {
            container: container.into(),
            node: node.into(),
            network: name.clone(),
            ip,
            endpoint_id,
            ifname: req.ifname,
            task_id,
            aliases: req.aliases,
        });
        // The node's load-balancer endpoint went with the network's last container here; it
        // comes back after the first new one's address (20.10:
        // traces/docker/swarm-attachable-run/, a container started again is .6, the endpoint .7).
        let others = self.attachments.iter().any(|a| a.node == node && a.network == name && a.container != container)
            || self
                .services
                .iter()
                .any(|s| s.running().any(|t| t.node == node && t.ips.iter().any(|(n, _)| *n == name)));
        if !others && let Some(k) = self.networks[i].lb.iter().position(|(h, _)| h == node) {
            let (_, old) = self.networks[i].lb.remove(k);
            self.networks[i].lb_ids.retain(|(h, _)| h != node);
            let _ = self.ipam.release_address(self.networks[i].pool, old);
        }
        self.lb_endpoint(i, node)?;
        Ok(())
    }

    /// Whether network `net` takes standalone containers, in the daemon's words when not.
    /// Returns its index.
    pub fn attachable(&self, net: &str) -> Result<usize, EngineError> {
        let i = self.net_idx(net).ok_or_else(|| err(format!("Error response from daemon: network {net} not found")))?;
        let n = &self.networks[i];
        if !n.attachable || n.ingress {
            return Err(err(format!(
                "Error response from daemon: Could not attach to network {net}: rpc error: code = PermissionDenied desc = network {net} not manually attachable"
            )));
        }
        Ok(i)
    }

    /// The overlay of `container`'s attachment to network `net` (by name or ID), if it has
    /// one on `node`.
    pub fn attachment(&self, container: &str, node: &str, net: &str) -> Option<&Attachment> {
        let i = self.net_idx(net)?;
        let name = &self.networks[i].name;
        self.attachments.iter().find(|a| a.container == container && a.node == node && &a.network == name)
    }

    /// `docker network disconnect NET C`: the endpoint goes and its address is free; the
    /// attachment task stays until the container goes ([`Swarm::detached`]).
    pub fn disconnect(&mut self, container: &str, node: &str, net: &str) {
        let Some(i) = self.net_idx(net) else { return };
        let name = self.networks[i].name.clone();
        let Some(k) =
            self.attachments.iter().position(|a| a.container == container && a.node == node && a.network == name)
        else {
            return;
        };
        let a = self.attachments.remove(k);
        let _ = self.ipam.release_address(self.networks[i].pool, a.ip);
        self.detached.push(a);
    }

    /// The overlays as `docker network ls` on `host` lists them.
    pub fn listed_overlays(&self, host: &str) -> Vec<super::network_ls::ListedOverlay> {
        let mut out = Vec::new();
        for (i, n) in self.networks.iter().enumerate() {
            if !self.sees_overlay(i, host) {
                continue;
            }
            out.push(super::network_ls::ListedOverlay {
                id: n.id.clone(),
                name: n.name.clone(),
                labels: n.labels.clone(),
                local: self.node_has(i, host),
                internal: n.internal,
            });
        }
        out
    }

    /// Container `container`'s endpoints on overlays on `node`, for `docker inspect`: a
    /// task's on its service's networks, a standalone container's attachments.
    pub fn overlay_endpoints(&self, container: &str, node: &str) -> Vec<super::inspect::OverlayEndpoint> {
        let ep = |net: &str, endpoint_id: &str, ip: Option<Ipv4Addr>, aliases: &[String]| {
            let n = &self.networks[self.net_idx(net)?];
            Some(super::inspect::OverlayEndpoint {
                network: n.name.clone(),
                network_id: n.id.clone(),
                endpoint_id: endpoint_id.to_string(),
                ip,
                prefix: n.subnet.len,
                aliases: aliases.to_vec(),
            })
        };
        let mut out = Vec::new();
        for (si, s) in self.services.iter().enumerate() {
            for t in s.running().filter(|t| t.node == node && self.task_name(si, t) == container) {
                for (k, (net, ip)) in t.ips.iter().enumerate() {
                    let id = t.endpoint_ids.get(k).map(String::as_str).unwrap_or_default();
                    out.extend(ep(net, id, Some(*ip), &[]));
                }
            }
        }
        for a in self.attachments.iter().filter(|a| a.container == container && a.node == node) {
            out.extend(ep(&a.network, &a.endpoint_id, Some(a.ip), &a.aliases));
        }
        out
    }

    /// [`Swarm::overlay_endpoints`] of a stopped container, from the overlays it is to join
    /// again (`parked`): named, without an address.
    pub fn parked_endpoints(&self, parked: &[(String, Vec<String>)]) -> Vec<super::inspect::OverlayEndpoint> {
        parked
            .iter()
            .filter_map(|(net, aliases)| {
                let n = &self.networks[self.net_idx(net)?];
                Some(super::inspect::OverlayEndpoint {
                    network: n.name.clone(),
                    network_id: n.id.clone(),
                    endpoint_id: String::new(),
                    ip: None,
                    prefix: n.subnet.len,
                    aliases: aliases.clone(),
                })
            })
            .collect()
    }

    /// The container went away (`docker rm`, its node stopped).
    pub fn detach(&mut self, container: &str, node: &str) {
        let (gone, keep): (Vec<Attachment>, Vec<Attachment>) =
            std::mem::take(&mut self.attachments).into_iter().partition(|a| a.container == container && a.node == node);
        self.attachments = keep;
        self.detached.retain(|a| !(a.container == container && a.node == node));
        for a in gone {
            if let Some(i) = self.net_idx(&a.network) {
                let _ = self.ipam.release_address(self.networks[i].pool, a.ip);
            }
        }
    }

    /// The `Services` map `docker network inspect -v NET` adds for an overlay, as node
    /// `host` knows it from the gossip table: each service on the network by name with its
    /// VIP there (`<nil>` for dnsrr), its firewall mark on this node (`LocalLBIndex`, 0 without
    /// one) and every task's endpoint; standalone containers under the empty name (20.10.24 fixture
    /// `lab7-network-inspect-appnet-verbose.json`). `None` for a network it lacks.
    pub fn services_verbose(&self, host: &str, net: &str) -> Option<serde_json::Value> {
        let i = self.net_idx(net)?;
        let n = &self.networks[i];
        let addr = |h: &str| self.node(h).map(|x| x.addr.to_string()).unwrap_or_default();
        let task = |name: String, id: &str, ip: Ipv4Addr, h: &str| serde_json::json!({ "Name": name, "EndpointID": id, "EndpointIP": ip.to_string(), "Info": { "Host IP": addr(h) } });
        let mut out = serde_json::Map::new();
        let standalone: Vec<serde_json::Value> = self
            .attachments
            .iter()
            .filter(|a| a.network == n.name)
            .map(|a| task(a.container.clone(), &a.endpoint_id, a.ip, &a.node))
            .collect();
        if !standalone.is_empty() {
            out.insert(
                String::new(),
                serde_json::json!({ "VIP": "<nil>", "Ports": [], "LocalLBIndex": 0, "Tasks": standalone }),
            );
        }
        let mut names: Vec<(String, serde_json::Value)> = Vec::new();
        for (si, s) in self.services.iter().enumerate() {
            let tasks: Vec<serde_json::Value> = s
                .running()
                .filter_map(|t| {
                    let k = t.ips.iter().position(|(x, _)| *x == n.name)?;
                    let id = t.endpoint_ids.get(k).map(String::as_str).unwrap_or_default();
                    Some(task(self.task_name(si, t), id, t.ips[k].1, &t.node))
                })
                .collect();
            if tasks.is_empty() {
                continue;
            }
            let vip = s.vips.iter().find(|(x, _)| *x == n.name).map(|x| x.1.to_string());
            let lb = self.node(host).and_then(|nd| nd.fwmarks.iter().find(|(x, _)| *x == s.name)).map_or(0, |x| x.1);
            names.push((
                s.name.clone(),
                serde_json::json!({
                    "VIP": vip.unwrap_or_else(|| "<nil>".into()),
                    "Ports": [],
                    "LocalLBIndex": lb,
                    "Tasks": tasks,
                }),
            ));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(names);
        Some(serde_json::Value::Object(out))
    }

    /// A service by its name or ID.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.service_idx(name).ok().map(|i| &self.services[i])
    }

    pub fn is_overlay(&self, name: &str) -> bool {
        self.net_idx(name).is_some()
    }

    /// DNS names each overlay answers: every standalone container attached to it by name,
    /// every service there by name (→ VIP) and `tasks.<name>` (→ task IPs), and task names
    /// (*Embedded DNS*). Built once per change for all the swarm's sandboxes to share.
    pub fn dns_zones(&self) -> Map<String, DnsZone> {
        let mut zones: Map<String, DnsZone> = Map::default();
        for net in &self.networks {
            zones.insert(net.name.clone(), DnsZone::new(Self::zone_key(&net.name)));
        }
        for a in &self.attachments {
            if let Some(z) = zones.get_mut(&a.network) {
                z.insert(a.container.clone(), vec![a.ip]);
                z.insert_ptr(a.ip, &a.container);
                for alias in &a.aliases {
                    z.insert(alias.clone(), vec![a.ip]);
                }
            }
        }
        for s in &self.services {
            for net in &s.networks {
                let Some(z) = zones.get_mut(net) else { continue };
                let task_ips: Vec<Ipv4Addr> =
                    s.running().filter_map(|t| t.ips.iter().find(|(n, _)| n == net).map(|x| x.1)).collect();
                let vip = s.vips.iter().find(|(n, _)| n == net).map(|x| x.1);
                let mut push = |name: String, addrs: Vec<Ipv4Addr>, ptr: bool| {
                    if ptr && let [ip] = addrs[..] {
                        z.insert_ptr(ip, &name);
                    }
                    if !addrs.is_empty() {
                        z.insert(name, addrs);
                    }
                };
                let names = std::iter::once(&s.name).chain(s.aliases.iter().filter(|(n, _)| n == net).map(|x| &x.1));
                for name in names {
                    push(name.clone(), vip.map(|v| vec![v]).unwrap_or_else(|| task_ips.clone()), false);
                    push(format!("tasks.{name}"), task_ips.clone(), false);
                }
                for t in s.running() {
                    if let Some((_, ip)) = t.ips.iter().find(|(n, _)| n == net) {
                        let task = format!("{}.{}.{}", s.name, t.slot, t.id);
                        // A task's address names its container (`addContainerNameResolution`);
                        // the VIP names nothing.
                        push(task, vec![*ip], true);
                    }
                }
            }
        }
        zones
    }

    /// `DnsZone::key` of an overlay.
    fn zone_key(network: &str) -> String {
        format!("swarm:{network}")
    }

    /// The zones each swarm sandbox asks, in order, by sandbox name: a task's are its
    /// service's networks, a standalone container's the overlays it joined.
    pub fn dns_zone_keys(&self) -> Map<String, Vec<String>> {
        let mut out: Map<String, Vec<String>> = Map::default();
        for (si, s) in self.services.iter().enumerate() {
            for t in s.tasks.iter().filter(|t| t.state == TaskState::Running) {
                out.entry(self.task_name(si, t))
                    .or_insert_with(|| s.networks.iter().map(|n| Self::zone_key(n)).collect());
            }
        }
        let tasks: crate::kernel::Set<String> = out.keys().cloned().collect();
        for a in self.attachments.iter().filter(|a| !tasks.contains(&a.container)) {
            let (v, key) = (out.entry(a.container.clone()).or_default(), Self::zone_key(&a.network));
            if !v.contains(&key) {
                v.push(key);
            }
        }
        out
    }

    /// The namespace of overlay network `i` on node `host` (libnetwork's `1-<network id[:10]>`).
    pub fn overlay_ns(&self, i: usize, host: &str) -> String {
        format!("{host}:1-{}", &self.networks[i].id[..10])
    }

    fn lb_ns(&self, i: usize, host: &str) -> String {
        let n = &self.networks[i];
        if n.ingress { format!("{host}:ingress_sbox") } else { format!("{host}:lb-{}", n.name) }
    }

    /// Adds to `plan` everything swarm programs on node `host` (whose daemon is `engine`;
    /// docker_gwbridge and the sandboxes' gwbridge endpoints are the engine's own).
    pub fn plan(&self, host: &str, engine: &Engine, plan: &mut Plan) {
        let Some(node) = self.node(host).filter(|n| n.up) else { return };
        let ns_of = |name: &str| engine.container(name).map(|c| engine.sandbox_ns(c));
        // (sandbox ns, network index, ifname, ip) of every local endpoint.
        let mut local: Vec<(String, usize, String, Ipv4Addr)> = Vec::new();
        for a in self.attachments.iter().filter(|a| a.node == host) {
            let (Some(sb), Some(i)) = (ns_of(&a.container), self.net_idx(&a.network)) else { continue };
            local.push((sb, i, a.ifname.clone(), a.ip));
        }
        for (si, s) in self.services.iter().enumerate() {
            for t in s.running().filter(|t| t.node == host) {
                let Some(sb) = ns_of(&self.task_name(si, t)) else { continue };
                for (k, (net, ip)) in t.ips.iter().enumerate() {
                    let Some(i) = self.net_idx(net) else { continue };
                    // In `task_networks`' order; docker_gwbridge's is the next name.
                    let ifname = format!("eth{k}");
                    local.push((sb.clone(), i, ifname, *ip));
                }
            }
        }
        for (i, n) in self.networks.iter().enumerate() {
            if !self.node_has(i, host) {
                continue;
            }
            let Some(lb_ip) = n.lb.iter().find(|(h, _)| h == host).map(|x| x.1) else { continue };
            let lb_ns = self.lb_ns(i, host);
            if n.ingress {
                // ingress_sbox is a sandbox of the engine (it has a gwbridge endpoint). It
                // forwards: IPVS replies, un-SNATed, leave towards the client.
                if ns_of("ingress_sbox").is_some() {
                    local.push((lb_ns.clone(), i, "eth0".into(), lb_ip));
                    if let Some(p) = plan.namespaces.iter_mut().find(|p| p.name == lb_ns) {
                        p.ip_forward = true;
                    }
                }
            } else if self.era == super::era::Era::V20_10
                || self.services.iter().any(|s| !s.vips.is_empty() && s.networks.contains(&n.name))
            {
                // 20.10 makes the lb sandbox with the node's endpoint, VIP services or not
                // (20.10.24 fixture `lab7-network-inspect-appnet-verbose.json`: lb-appnet with
                // dnsrr services only), and runs the embedded DNS's redirect in it as in every
                // sandbox.
                if self.era == super::era::Era::V20_10 {
                    let id = n.lb_ids.iter().find(|(h, _)| h == host).map(|x| x.1.as_str()).unwrap_or_default();
                    super::engine::embedded_dns_rules(plan, &lb_ns, dns_ports_of(id));
                }
                plan.namespaces.push(NsPlan {
                    name: lb_ns.clone(),
                    lo_up: true,
                    ip_forward: true,
                    bridge_nf_call_iptables: true,
                });
                local.push((lb_ns.clone(), i, "eth0".into(), lb_ip));
            }
        }
        // The overlay namespaces: br0 with the gateway address, vxlan0, one veth per endpoint.
        for (i, n) in self.networks.iter().enumerate() {
            let mine: Vec<&(String, usize, String, Ipv4Addr)> = local.iter().filter(|l| l.1 == i).collect();
            if mine.is_empty() {
                continue;
            }
            let ons = self.overlay_ns(i, host);
            plan.namespaces.push(NsPlan {
                name: ons.clone(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            });
            plan.links.push(Link::Bridge {
                txqueuelen: Some(0),
                name: "br0".into(),
                ns: ons.clone(),
                mac: None,
                mtu: Some(OVERLAY_MTU),
                ageing: None,
            });
            plan.addresses.push(AddrPlan {
                ns: ons.clone(),
                dev: "br0".into(),
                addr: Ipv4Net::new(n.gateway, n.subnet.len),
            });
            plan.links.push(Link::Vxlan {
                txqueuelen: Some(0),
                name: "vxlan0".into(),
                ns: ons.clone(),
                vni: n.vni,
                local: Some(node.addr),
                dev: None,
                dstport: crate::wire::vxlan::PORT,
                learning: true,
                proxy: true,
                l2miss: true,
                l3miss: true,
                // libnetwork's `createVxlan` (libnetwork/drivers/overlay/ov_utils.go) leaves
                // netlink.Vxlan's UDPCSum false, which vishvananda/netlink always sends as
                // IFLA_VXLAN_UDP_CSUM = 0: the outer checksum is 0.
                udpcsum: false,
                srcport: None,
                mac: None,
                mtu: Some(OVERLAY_MTU),
                master: Some("br0".into()),
                underlay_ns: Some(host.to_string()),
            });
            for (sb, _, ifname, ip) in mine.iter() {
                // A name that stays the same while the endpoint lives (Docker's is random).
                let o = ip.octets();
                plan.links.push(Link::Veth {
                    txqueuelen: Some(0),
                    name: ifname.clone(),
                    ns: sb.clone(),
                    peer: format!("veth{:02x}{:02x}{:02x}", o[1], o[2], o[3]),
                    peer_ns: ons.clone(),
                    mac: Some(overlay_mac(*ip)),
                    peer_mac: None,
                    mtu: Some(OVERLAY_MTU),
                    master: None,
                    peer_master: Some("br0".into()),
                    delay: None,
                });
                plan.addresses.push(AddrPlan {
                    ns: sb.clone(),
                    dev: ifname.clone(),
                    addr: Ipv4Net::new(*ip, n.subnet.len),
                });
            }
            // Remote endpoints, from the gossip table: neighbour + FDB entries on vxlan0 (*Peer
            // table*).
            for (rh, rip) in self.remote_endpoints(i, host) {
                let Some(vtep) = self.node(&rh).map(|x| x.addr) else { continue };
                let mac = overlay_mac(rip);
                plan.neighbours.push(NeighPlan { ns: ons.clone(), dev: "vxlan0".into(), ip: rip, lladdr: mac });
                plan.fdb.push(FdbPlan { ns: ons.clone(), dev: "vxlan0".into(), mac, dst: Some(vtep) });
            }
        }
        // A sandbox makes its interfaces in the order of their names' numbers, and `ip link`
        // lists them in that order (by ifindex); the daemon's endpoints (docker_gwbridge) are
        // in the plan before the swarm's.
        let sandboxes: crate::kernel::Set<&str> = local.iter().map(|l| l.0.as_str()).collect();
        order_by_ifname(&mut plan.links, &sandboxes);
        self.plan_load_balancers(host, node, &local, plan);
        self.plan_routing_mesh(host, engine, plan);
    }

    /// Endpoints of network `i` on other live nodes: (node, IP).
    fn remote_endpoints(&self, i: usize, host: &str) -> Vec<(String, Ipv4Addr)> {
        let n = &self.networks[i];
        let up = |h: &str| self.node(h).is_some_and(|x| x.up);
        let mut v: Vec<(String, Ipv4Addr)> = Vec::new();
        for (h, ip) in &n.lb {
            if h != host
                && up(h)
                && (n.ingress || self.services.iter().any(|s| !s.vips.is_empty() && s.networks.contains(&n.name)))
            {
                v.push((h.clone(), *ip));
            }
        }
        for s in &self.services {
            for t in s.running().filter(|t| t.node != host && up(&t.node)) {
                if let Some((_, ip)) = t.ips.iter().find(|(x, _)| *x == n.name) {
                    v.push((t.node.clone(), *ip));
                }
            }
        }
        for a in self.attachments.iter().filter(|a| a.network == n.name && a.node != host && up(&a.node)) {
            v.push((a.node.clone(), a.ip));
        }
        v
    }

    /// ingress_sbox and lb-<net>: the VIP alias, MARK rules, IPVS and the SNAT (*Routing mesh*,
    /// *Service VIP*).
    fn plan_load_balancers(
        &self,
        host: &str,
        node: &Node,
        local: &[(String, usize, String, Ipv4Addr)],
        plan: &mut Plan,
    ) {
        let ipt = |plan: &mut Plan, ns: &str, table: &str, rule: String| {
            plan.iptables.push(IptablesPlan { ns: ns.to_string(), table: table.into(), rule })
        };
        for (i, n) in self.networks.iter().enumerate() {
            let lb_ns = self.lb_ns(i, host);
            let Some(lb_ip) = local.iter().find(|l| l.0 == lb_ns && l.1 == i).map(|l| l.3) else { continue };
            for s in &self.services {
                let Some((_, vip)) = s.vips.iter().find(|(x, _)| *x == n.name) else { continue };
                let Some((_, fwm)) = node.fwmarks.iter().find(|(x, _)| *x == s.name) else { continue };
                plan.addresses.push(AddrPlan { ns: lb_ns.clone(), dev: "eth0".into(), addr: Ipv4Net::new(*vip, 32) });
                if n.ingress {
                    for (p, _, proto) in &s.ports {
                        ipt(
                            plan,
                            &lb_ns,
                            "mangle",
                            format!("-A PREROUTING -p {proto} -m {proto} --dport {p} -j MARK --set-mark {fwm}"),
                        );
                    }
                }
                ipt(plan, &lb_ns, "mangle", format!("-A INPUT -d {vip}/32 -j MARK --set-mark {fwm}"));
                let dests: Vec<Ipv4Addr> =
                    s.running().filter_map(|t| t.ips.iter().find(|(x, _)| *x == n.name).map(|x| x.1)).collect();
                plan.ipvs.push(IpvsPlan { ns: lb_ns.clone(), fwmark: *fwm, dests });
            }
            if plan.ipvs.iter().any(|v| v.ns == lb_ns) {
                ipt(
                    plan,
                    &lb_ns,
                    "nat",
                    format!("-A POSTROUTING -d {} -m ipvs --ipvs -j SNAT --to-source {lb_ip}", n.subnet.trunc()),
                );
            }
        }
        // In each task published through the mesh: REDIRECT published → target on its ingress
        // address, and the filter rules that keep that address to the published ports.
        for (si, s) in self.services.iter().enumerate() {
            if s.ports.is_empty() {
                continue;
            }
            for t in s.running().filter(|t| t.node == host) {
                let sb = format!("{host}:{}", self.task_name(si, t));
                let ingress = |n: &String| self.net_idx(n).is_some_and(|i| self.networks[i].ingress);
                let Some((_, ip)) = t.ips.iter().find(|(n, _)| ingress(n)) else { continue };
                for (p, target, proto) in &s.ports {
                    ipt(
                        plan,
                        &sb,
                        "nat",
                        format!(
                            "-A PREROUTING -d {ip}/32 -p {proto} -m {proto} --dport {p} -j REDIRECT --to-ports {target}"
                        ),
                    );
                    ipt(
                        plan,
                        &sb,
                        "filter",
                        format!(
                            "-A INPUT -d {ip}/32 -p {proto} -m {proto} --dport {target} -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT"
                        ),
                    );
                    ipt(
                        plan,
                        &sb,
                        "filter",
                        format!(
                            "-A OUTPUT -s {ip}/32 -p {proto} -m {proto} --sport {target} -m conntrack --ctstate ESTABLISHED -j ACCEPT"
                        ),
                    );
                }
                for proto in ["sctp", "udp", "tcp"] {
                    ipt(plan, &sb, "filter", format!("-A INPUT -d {ip}/32 -p {proto} -j DROP"));
                }
                for proto in ["sctp", "udp", "tcp"] {
                    ipt(plan, &sb, "filter", format!("-A OUTPUT -s {ip}/32 -p {proto} -j DROP"));
                }
            }
        }
    }

    /// The host's side of the routing mesh: DNAT of published ports to ingress_sbox's
    /// docker_gwbridge address (*Routing mesh*).
    fn plan_routing_mesh(&self, host: &str, engine: &Engine, plan: &mut Plan) {
        let ports: Vec<(u16, &str)> =
            self.services.iter().flat_map(|s| s.ports.iter().map(|(p, _, proto)| (*p, *proto))).collect();
        let Some(sbox_ip) = engine
            .container("ingress_sbox")
            .and_then(|c| c.endpoints.iter().find(|e| e.network == GWBRIDGE))
            .map(|e| e.ip)
        else {
            return;
        };
        // 20.10 programs the host's ingress chains when the first published service's backend is
        // added (v20.10 libnetwork/service_linux.go addLBBackend → programIngress), so a fresh
        // swarm leaves the host's rules alone (20.10.24 fixture
        // `lab7-host-iptables-save-after-init.txt`).
        if engine.era() == super::era::Era::V20_10 && ports.is_empty() {
            return;
        }
        let ipt = |plan: &mut Plan, table: &str, rule: String| {
            plan.iptables.push(IptablesPlan { ns: host.to_string(), table: table.into(), rule })
        };
        ipt(plan, "nat", "-N DOCKER-INGRESS".into());
        ipt(plan, "nat", "-I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER-INGRESS".into());
        ipt(plan, "nat", "-I OUTPUT 1 -m addrtype --dst-type LOCAL -j DOCKER-INGRESS".into());
        for (p, proto) in &ports {
            ipt(
                plan,
                "nat",
                format!("-A DOCKER-INGRESS -p {proto} -m {proto} --dport {p} -j DNAT --to-destination {sbox_ip}:{p}"),
            );
        }
        ipt(plan, "nat", "-A DOCKER-INGRESS -j RETURN".into());
        ipt(plan, "nat", format!("-I POSTROUTING 1 -o {GWBRIDGE} -m addrtype --src-type LOCAL -j MASQUERADE"));
        ipt(plan, "filter", "-N DOCKER-INGRESS".into());
        ipt(plan, "filter", format!("-I {} 1 -j DOCKER-INGRESS", engine.era().ingress_jump_chain()));
        for (p, proto) in &ports {
            ipt(plan, "filter", format!("-A DOCKER-INGRESS -p {proto} -m {proto} --dport {p} -j ACCEPT"));
            ipt(
                plan,
                "filter",
                format!(
                    "-A DOCKER-INGRESS -p {proto} -m {proto} --sport {p} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
                ),
            );
        }
        ipt(plan, "filter", "-A DOCKER-INGRESS -j RETURN".into());
        // So connections to localhost:PORT, DNATed to ingress_sbox, may leave with 127/8.
        plan.sysctls.push(crate::plan::SysctlPlan {
            ns: host.to_string(),
            key: format!("net.ipv4.conf.{GWBRIDGE}.route_localnet"),
            value: "1".into(),
        });
    }
}

#[cfg(test)]
mod tests;
mod update;

pub use update::{UpdateConfig, UpdateStatus};

/// The columns of docker/cli's task table.
const TASK_HEAD: [&str; 8] = ["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"];

/// A duration as docker/cli words one (go-units `HumanDuration`): `Less than a second`, `1
/// second`, `N seconds`, `About a minute`, `N minutes`, `About an hour`, `N hours`.
/// A node's availability as the API spells it (`node inspect`'s `Spec.Availability`).
fn availability_name(a: cli::NodeAvailability) -> &'static str {
    match a {
        cli::NodeAvailability::Active => "active",
        cli::NodeAvailability::Pause => "pause",
        cli::NodeAvailability::Drain => "drain",
    }
}

/// `sortorder.NaturalLess` (github.com/fvbommel/sortorder), which docker/cli sorts task
/// names with: runs of digits compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (x, y) = (&a[si..i], &b[sj..j]);
            let (tx, ty) = (
                x.iter().position(|&c| c != b'0').map_or(&x[x.len()..], |p| &x[p..]),
                y.iter().position(|&c| c != b'0').map_or(&y[y.len()..], |p| &y[p..]),
            );
            let o = tx.len().cmp(&ty.len()).then(tx.cmp(ty)).then(x.len().cmp(&y.len()));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn human_duration(d: SimTime) -> String {
    let secs = d.as_nanos() / 1_000_000_000;
    let minutes = secs / 60;
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ => format!("{hours} hours"),
    }
}

/// A list command's filters (`-f KEY=VALUE`) by key, the daemon's words for a key it does not
/// take (`Invalid filter 'KEY'`).
fn filter_terms(
    filters: &[String],
    accepted: &[&str],
) -> Result<std::collections::BTreeMap<String, Vec<String>>, EngineError> {
    let mut terms: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for f in filters {
        let (k, v) = f.split_once('=').unwrap_or((f, ""));
        let k = k.trim().to_ascii_lowercase();
        if !accepted.contains(&k.as_str()) {
            return Err(err(format!("Error response from daemon: Invalid filter '{k}'")));
        }
        terms.entry(k).or_default().push(v.trim().to_string());
    }
    Ok(terms)
}

/// A list command's `--format` run on each object (`values`, docker/cli's context fields), a
/// header from `heads` under `table`; errors as docker/cli words them for `go_type`.
fn list_by_template(
    format: &str,
    values: &[serde_json::Value],
    heads: &[(&str, &str)],
    go_type: &str,
) -> Result<String, EngineError> {
    let (table, body) = super::list_format(format);
    let mut lines = Vec::new();
    for v in values {
        let line = super::template::render(&body, v)
            .map_err(|e| super::template_error(e, "template parsing error: ", go_type))?;
        lines.push(line);
    }
    Ok(super::format_lines(table, &body, lines, heads))
}
