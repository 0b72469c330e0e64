//! One host's Docker daemon as a state machine: it takes parsed `docker` commands, keeps
//! networks and containers the way libnetwork's controller does, allocates through `ipam`,
//! and compiles its state into a kernel plan through the drivers (`bridge`). Sections in
//! *italics* are in docs/docker-model.md.
//!
//! Local scope only so far: the bridge, host and null drivers. Commands the model does not
//! cover yet answer with a `netsim:` error that says so, never silently.

use std::net::{IpAddr, Ipv4Addr};

use super::bridge::{self, BridgeEndpoint, BridgeNetwork, PortBinding, Proto};
use super::cli::{self, DockerCommand, NetworkDriver, NetworkMode};
use super::ipam::{self, AddressSpace, Ipam, IpamConfig, PoolId};
use super::lookup::{self, Found};
use crate::engine::SimRng;
use crate::kernel::reconf::RuleSegment;
use crate::kernel::{Map, Set};
use crate::plan::{Ipv4Net, NsPlan, Plan};
use crate::userland::dns_zone::ZoneOp;
use crate::wire::Mac;

/// An error as the daemon (or the CLI) would print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

fn err(s: impl Into<String>) -> EngineError {
    EngineError(s.into())
}

#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub driver: NetworkDriver,
    pub pool: Option<PoolId>,
    pub gateway: Option<Ipv4Addr>,
    pub internal: bool,
    pub icc: bool,
    pub masquerade: bool,
    /// The bridge device, for bridge networks.
    pub device: Option<String>,
    pub mac: Mac,
    pub mtu: u32,
    pub created: crate::engine::SimTime,
    /// macvlan: the parent interface on the host (`eth0`, or `eth0.10`, which Docker makes).
    pub parent: Option<String>,
    pub macvlan_mode: crate::plan::MacvlanMode,
    /// `-o KEY=VALUE` as given (shown by `docker network inspect` under Options).
    pub options: std::collections::BTreeMap<String, String>,
    /// For networks `docker network create` made: whether it was given `--subnet` and
    /// `--gateway` (20.10's inspect shows the IPAM config as requested); `None` for the
    /// daemon's own (bridge, host, none, docker_gwbridge).
    pub requested: Option<(bool, bool)>,
    /// `--label KEY=VALUE`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// How many endpoints it has (a bridge's ports besides its own): asked at every step,
    /// so counted as they come and go rather than found among every container's.
    pub attached: usize,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    /// 64 hex characters, as `docker network inspect` shows it.
    pub id: String,
    pub network: String,
    pub ifname: String,
    pub host_veth: String,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    /// `--network-alias` values: more names the embedded DNS answers on this network.
    pub aliases: Vec<String>,
    /// The address was asked for (`--ip`): a restarted container asks for it again.
    pub static_ip: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxMode {
    /// A namespace of its own, with endpoints.
    Own,
    /// `--network host`: the host's namespace.
    Host,
    /// `--network container:NAME`: the namespace of the container whose ID is `target`.
    /// When that one stops or goes, this one keeps running in what is left of the namespace,
    /// only lo (`stripped`: a namespace of its own in the plan), until it restarts and joins
    /// the target's new one (traces/docker/container-mode/record.txt).
    Joined { target: String, stripped: bool },
}

#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub id: String,
    pub image: String,
    pub mode: SandboxMode,
    pub endpoints: Vec<Endpoint>,
    pub ports: Vec<PortBinding>,
    pub env: Vec<(String, String)>,
    /// dockerd's embedded DNS sockets in this sandbox (udp, tcp), bound to random ports.
    pub dns_ports: (u16, u16),
    pub kind: ContainerKind,
    /// `--hostname`; by default the first 12 characters of the ID.
    pub hostname: Option<String>,
    /// Its place among the daemon's containers, in the order they were made (the order of
    /// their host rules, `bridge::compile_part`).
    pub seq: u64,
    /// `--add-host NAME:IP` entries, as typed.
    pub extra_hosts: Vec<(String, String)>,
    /// `--link NAME[:ALIAS]`: (the linked container, the alias it is known by here).
    pub links: Vec<(String, String)>,
    pub state: RunState,
    /// `--dns`: the nameservers written into resolv.conf where the embedded DNS is not used
    /// (where it is, it forwards to them).
    pub dns: Vec<Ipv4Addr>,
    /// `--mac-address`: the MAC of its first network's interface.
    pub mac_address: Option<Mac>,
    /// `--network none`: it joins no other network.
    pub network_none: bool,
    /// While it is not running: the networks it joins again at `docker start`, in the order
    /// it joined them, with the address it asked for (`--ip`) and its aliases; and its
    /// published ports. A stopped container holds no address and no port.
    pub parked: Vec<(String, Option<Ipv4Addr>, Vec<String>)>,
    pub parked_ports: Vec<PortBinding>,
    /// `--label`s (docker-compose finds its containers by theirs).
    pub labels: std::collections::BTreeMap<String, String>,
    /// What it runs: the command given to `docker run`, or the image's (`images::Image::cmd`).
    pub command: Vec<String>,
    /// When it was made, last started and last stopped (the daemon's clock), for `docker
    /// ps`'s CREATED and STATUS.
    pub created: crate::engine::SimTime,
    pub started: crate::engine::SimTime,
    pub finished: crate::engine::SimTime,
    /// `-i` or `-t`: its standard input stays open (a shell waits on it instead of exiting).
    pub open_stdin: bool,
    /// `-t`: a terminal, on which a shell prints its prompt (into the container's log).
    pub tty: bool,
    /// Interfaces of its sandbox that the swarm plans (its overlay endpoints), each with
    /// whether its overlay is `--internal` (no way out, so no need of docker_gwbridge): taken
    /// when the daemon names the next one.
    pub swarm_ifnames: Vec<(String, bool)>,
    /// How many `eth` interfaces its sandbox has had: 20.10 names the next one by this count
    /// and never reuses a freed name ([`Engine::claim_ifname`]).
    pub ifaces_made: u32,
    /// While it is not running: the overlays it joins again at `docker start` (network,
    /// aliases); the swarm released its addresses there when it stopped.
    pub parked_swarm: Vec<(String, Vec<String>)>,
    /// `HostConfig.NetworkMode` as the daemon kept it when the container was made
    /// (`default`, `bridge`, a network's name as typed, `container:ID`): later connects and
    /// disconnects leave it (traces/docker/swarm-attachable-stopped/record.txt). `None`
    /// for the sandboxes the daemon and the swarm make themselves.
    pub network_mode: Option<String>,
    /// `--rm`: the daemon removes it when its process ends.
    pub auto_remove: bool,
}

/// A container's state as `docker ps -a` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// Made, never started: a `docker run` whose start failed leaves one, holding its name.
    Created,
    /// Stopped, with the exit status of its process (0 after SIGTERM for the servers the
    /// simulator models, 137 after SIGKILL).
    Exited(u8),
}

/// Who made a sandbox: the user (`docker run`), swarm (a task), or libnetwork itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    Plain,
    /// On swarm networks (a task, or a standalone container on an attachable overlay): its
    /// overlay interfaces and DNS names come from `swarm`.
    Task,
    /// `ingress_sbox`: no processes, no resolver.
    Infra,
}

/// The bridge that carries swarm sandboxes' north-south traffic (*ingress and docker_gwbridge*).
pub const GWBRIDGE: &str = "docker_gwbridge";

#[derive(Clone)]
pub struct Engine {
    /// The host's namespace in the plan.
    pub host: String,
    ipam: Ipam,
    pub networks: Vec<Network>,
    pub containers: Vec<Container>,
    rng: SimRng,
    /// The host's on-link routes and nameservers, which dynamic subnets avoid (*Picking a subnet*).
    reserved: Vec<Ipv4Net>,
    /// Next ephemeral host port to try (*Published ports*: from the start of the range, upward).
    next_ephemeral: [u16; 2],
    /// Prefix of sandbox namespace names (`node1:` when several hosts share one world).
    pub ns_prefix: String,
    /// Simulated time of the command being run (for `Created`).
    pub clock: crate::engine::SimTime,
    /// The host's own interfaces, which `-o parent=` may name.
    pub host_ifaces: Vec<String>,
    /// The daemon's release and `--mtu`.
    pub spec: super::era::EngineSpec,
    /// The namespaces whose part of the kernel plan the commands since the last
    /// `take_touched` may have changed: a container's sandbox, and the host whenever the
    /// daemon changed at all (its bridges and rules list every network and endpoint).
    touched: Set<String>,
    /// Containers made so far (the next one's `seq`).
    made: u64,
    /// The zone changes and the containers touched since they were last taken.
    zone_ops: Vec<ZoneOp>,
    touched_seqs: Vec<u64>,
    /// 20.10: a `docker swarm join` that failed left the daemon's cluster provider behind
    /// without a node (moby `daemon/cluster/cluster.go` `newNodeRunner` hands it to the
    /// daemon as the node starts; only a leave takes it back), so a network the daemon does
    /// not know is looked for in a swarm that is not there: `invalid cluster node while
    /// attaching to network` instead of `network X not found` (docs/docker-model.md
    /// *An unknown network*).
    pub cluster_left: bool,
    /// The images the host has, one per tag (`docker images`): those the lab names, as if
    /// pulled before it began, and any other of the catalogue a command used since.
    pub images: Vec<super::system::HostImage>,
}

const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

/// `network connect`/`disconnect` on the host network, or of a `--network host` container.
const ERR_HOST_NETWORK: &str =
    "Error response from daemon: container cannot be disconnected from host network or connected to host network";

impl Engine {
    /// The `--aux-address` reservations of the network with pool `pool`, in request order.
    pub(super) fn aux_addresses(&self, pool: PoolId) -> &[(String, Ipv4Addr)] {
        self.ipam.aux(pool)
    }

    /// A freshly started v29 daemon with the default MTU.
    pub fn new(host: &str, seed: u64, reserved: Vec<Ipv4Net>) -> Result<Engine, EngineError> {
        Self::with_spec(host, seed, reserved, super::era::EngineSpec::default())
    }

    /// A freshly started daemon of `spec`'s release: `bridge` (docker0, with the daemon's
    /// `--mtu`), `host` and `none` exist.
    pub fn with_spec(
        host: &str,
        seed: u64,
        reserved: Vec<Ipv4Net>,
        spec: super::era::EngineSpec,
    ) -> Result<Engine, EngineError> {
        let mut ipam = Ipam::default();
        ipam.set_round_robin(spec.version.round_robin_subnets());
        let mut e = Engine {
            host: host.to_string(),
            ipam,
            networks: Vec::new(),
            containers: Vec::new(),
            rng: SimRng::new(seed),
            reserved,
            next_ephemeral: [crate::kernel::defaults::EPHEMERAL.0; 2],
            ns_prefix: String::new(),
            clock: crate::engine::SimTime::ZERO,
            host_ifaces: vec!["eth0".into()],
            spec,
            touched: Set::default(),
            made: 0,
            zone_ops: Vec::new(),
            touched_seqs: Vec::new(),
            cluster_left: false,
            images: Vec::new(),
        };
        let pool = e
            .ipam
            .request_pool(AddressSpace::Local, &IpamConfig::default(), &e.reserved, false, false)
            .map_err(|x| err(x.message))?;
        let (id, mac) = (e.hex(64), e.mac());
        e.networks.push(Network {
            name: "bridge".into(),
            id,
            driver: NetworkDriver::Bridge,
            gateway: e.ipam.gateway(pool),
            pool: Some(pool),
            internal: false,
            icc: true,
            masquerade: true,
            device: Some("docker0".into()),
            mac,
            mtu: spec.mtu,
            created: e.clock,
            parent: None,
            macvlan_mode: Default::default(),
            options: Default::default(),
            requested: None,
            labels: Default::default(),
            attached: 0,
        });
        for (name, driver) in [("host", NetworkDriver::Host), ("none", NetworkDriver::Null)] {
            let (id, mac) = (e.hex(64), e.mac());
            e.networks.push(Network {
                name: name.into(),
                id,
                driver,
                pool: None,
                gateway: None,
                internal: false,
                icc: true,
                masquerade: false,
                device: None,
                mac,
                mtu: 1500,
                created: e.clock,
                parent: None,
                macvlan_mode: Default::default(),
                options: Default::default(),
                requested: None,
                labels: Default::default(),
                attached: 0,
            });
        }
        Ok(e)
    }

    /// The daemon's release.
    pub fn era(&self) -> super::era::Era {
        self.spec.version
    }

    /// Notes that the host has the image `r` names, if the catalogue has it (a lab's image,
    /// or one a command used).
    pub fn have_image(&mut self, r: &cli::ImageRef) {
        if let Some(i) = super::system::HostImage::of(r)
            && !self.images.iter().any(|h| h.repo == i.repo && h.tag == i.tag)
        {
            self.images.push(i);
        }
    }

    /// The daemon's `ID` (`docker info`): 20.10 prints its libtrust key's ID, twelve groups of
    /// four base32 characters of a digest of the key (`keyIDEncode`). The simulated daemon has
    /// no key; its ID is of a digest of the host's name, so that it stays the same from run to
    /// run without drawing from the daemon's random numbers.
    pub fn daemon_id(&self) -> String {
        use sha2::Digest as _;
        const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let d = sha2::Sha256::digest(format!("dockerd {}", self.host).as_bytes());
        let mut bits = d[..30].iter().flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1));
        let chars: Vec<u8> = (0..48)
            .map(|_| (0..5).fold(0usize, |a, _| a << 1 | bits.next().unwrap_or(0) as usize))
            .map(|v| B32[v])
            .collect();
        chars.chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(":")
    }

    /// Notes that container `ci`'s sandbox (and so the host) changed.
    fn touch(&mut self, ci: usize) {
        let ns = self.sandbox_ns(&self.containers[ci]);
        self.touched.insert(ns);
        self.touched_seqs.push(self.containers[ci].seq);
        self.touch_host();
    }

    fn touch_host(&mut self) {
        if !self.touched.contains(&self.host) {
            self.touched.insert(self.host.clone());
        }
    }

    /// The namespaces whose part of the plan may have changed since the last call (`plan`
    /// with them as its scope compiles that part).
    pub fn take_touched(&mut self) -> Set<String> {
        std::mem::take(&mut self.touched)
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.next_u32() % 16, 16).unwrap_or('0')).collect()
    }

    /// v28+: containers and bridges get random locally administered MACs (*Bridge devices*).
    fn mac(&mut self) -> Mac {
        Mac(self.rng.mac())
    }

    pub fn network(&self, name_or_id: &str) -> Option<&Network> {
        let i = lookup::find(self.networks.iter().map(|n| (n.id.as_str(), n.name.as_str())), name_or_id).index()?;
        self.networks.get(i)
    }

    fn container_idx(&self, name: &str) -> Result<usize, EngineError> {
        let name = name.trim_start_matches('/');
        match lookup::find(self.containers.iter().map(|c| (c.id.as_str(), c.name.as_str())), name) {
            Found::One(i) => return Ok(i),
            Found::AmbiguousName(_) | Found::AmbiguousPrefix(_) => {
                return Err(err(format!(
                    "Error response from daemon: multiple IDs found with provided prefix: {name}"
                )));
            }
            Found::None => {}
        }
        // A swarm task by its service (`mysql`) or service and slot (`mysql.1`): the full
        // name ends in a random task ID a scenario file cannot know. A convenience of
        // netsim's; Docker wants the whole name.
        let prefix = format!("{name}.");
        let tasks: Vec<usize> = (0..self.containers.len())
            .filter(|&i| self.containers[i].kind == ContainerKind::Task && self.containers[i].name.starts_with(&prefix))
            .collect();
        match tasks.as_slice() {
            [i] => Ok(*i),
            _ => Err(err(format!("Error response from daemon: No such container: {name}"))),
        }
    }

    /// Parses and runs one command line; returns what `docker` prints on success.
    pub fn exec_line(&mut self, line: &str) -> Result<String, EngineError> {
        let cmd = cli::parse(line).map_err(|e| err(e.message))?;
        self.apply(&cmd)
    }

    pub fn apply(&mut self, cmd: &DockerCommand) -> Result<String, EngineError> {
        match cmd {
            DockerCommand::NetworkCreate(c) => self.network_create(c),
            DockerCommand::NetworkRm(r) => {
                let mut out = Vec::new();
                for n in &r.networks {
                    out.push(self.network_rm(n)?);
                }
                Ok(out.join("\n"))
            }
            DockerCommand::Run(r) => self.run(r, true, None),
            DockerCommand::Create(r) => self.run(r, false, None),
            DockerCommand::NetworkConnect(c)
                if self.container(&c.container).is_some_and(|k| k.state != RunState::Running) =>
            {
                self.connect_stopped(&c.network, &c.container, c.ipv4_address, c.aliases.clone())
            }
            DockerCommand::NetworkConnect(c) => {
                self.connect_with(&c.network, &c.container, c.ipv4_address, c.aliases.clone(), None)
            }
            DockerCommand::NetworkDisconnect(d)
                if self.container(&d.container).is_some_and(|k| k.state != RunState::Running) =>
            {
                self.disconnect_stopped(&d.network, &d.container).map(|_| String::new())
            }
            DockerCommand::NetworkDisconnect(d) => self.disconnect(&d.network, &d.container).map(|_| String::new()),
            DockerCommand::Ps(p) => {
                let filter = PsFilter::parse(&p.filters)?;
                let all = p.all || filter.wants_all();
                let shown: Vec<&Container> = self.ps_shown(all).filter(|c| filter.keeps(self, c)).collect();
                match &p.format {
                    Some(f) if !p.quiet => self.ps_format(f, &shown, p.no_trunc),
                    _ => Ok(self.ps(p.quiet, &shown)),
                }
            }
            DockerCommand::NetworkLs(l) => super::network_ls::list(self, l, &[]),
            DockerCommand::NetworkPrune(false) => Err(err(
                "netsim: `docker network prune` asks \"Are you sure you want to continue? [y/N]\" and a lab cannot answer: add -f",
            )),
            DockerCommand::NetworkPrune(true) => {
                let mut unused: Vec<String> = self
                    .networks
                    .iter()
                    .filter(|n| !PREDEFINED.contains(&n.name.as_str()) && n.name != GWBRIDGE)
                    .filter(|n| !self.containers.iter().any(|c| c.endpoints.iter().any(|e| e.network == n.name)))
                    .map(|n| n.name.clone())
                    .collect();
                unused.sort();
                for n in &unused {
                    self.network_rm(n)?;
                }
                // docker/cli prints the list with Println: a blank line ends it.
                Ok(if unused.is_empty() {
                    String::new()
                } else {
                    format!("Deleted Networks:\n{}\n\n", unused.join("\n"))
                })
            }
            DockerCommand::Stop(x) => self.each(&x.containers, |e, c| {
                e.docker_stop(c, x.timeout)?;
                e.auto_remove(c);
                Ok(())
            }),
            DockerCommand::Kill(x) => self.each(&x.containers, |e, c| {
                if e.container(c).is_none() {
                    return Err(err(format!(
                        "Error response from daemon: Cannot kill container: {c}: No such container: {c}"
                    )));
                }
                let id = e.container(c).filter(|k| k.state != RunState::Running).map(|k| k.id.clone());
                match id {
                    Some(id) => Err(err(format!(
                        "Error response from daemon: Cannot kill container: {c}: Container {id} is not running"
                    ))),
                    None => {
                        e.stop(c, 137)?;
                        e.auto_remove(c);
                        Ok(())
                    }
                }
            }),
            DockerCommand::Start(x) => self.each(&x.containers, |e, c| match e.container_idx(c) {
                Err(EngineError(m)) => Err(err(format!("{m}\nError: failed to start containers: {c}"))),
                Ok(_) => e.start(c),
            }),
            DockerCommand::Restart(x) => self.each(&x.containers, |e, c| {
                let (clock, wait) = (e.clock, e.stop_wait(&[c.to_string()], x.timeout));
                e.docker_stop(c, x.timeout)?;
                e.clock = clock + wait;
                let started = e.start(c);
                e.clock = clock;
                started
            }),
            DockerCommand::Rm(r) => {
                let mut out = Vec::new();
                for c in &r.containers {
                    let running = self.container(c).is_some_and(|x| x.state == RunState::Running);
                    if !r.force && running {
                        let id = &self.containers[self.container_idx(c)?].id;
                        return Err(err(match self.era() {
                            super::era::Era::V20_10 => format!(
                                "Error response from daemon: You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
                            ),
                            _ => format!(
                                "Error response from daemon: cannot remove container \"/{c}\": container is running: stop the container before removing or force remove"
                            ),
                        }));
                    }
                    out.push(self.rm(c)?);
                }
                Ok(out.join("\n"))
            }
            other => Err(err(format!("netsim: `docker {}` is not modelled yet", command_name(other)))),
        }
    }

    /// A command over several containers: each in turn, its name printed; a failing one
    /// prints its error and the rest go on, and the command fails (docker/cli's
    /// `Error: failed to … containers: …`, exit status 1).
    fn each(
        &mut self,
        names: &[String],
        mut f: impl FnMut(&mut Self, &str) -> Result<(), EngineError>,
    ) -> Result<String, EngineError> {
        let (mut out, mut errs) = (Vec::new(), Vec::new());
        for n in names {
            match f(self, n) {
                Ok(()) => out.push(n.clone()),
                Err(EngineError(e)) => errs.push(e),
            }
        }
        if errs.is_empty() {
            Ok(out.join("\n"))
        } else {
            out.extend(errs);
            Err(err(out.join("\n")))
        }
    }

    /// A container whose shell finds its standard input closed: it exits as soon as it starts.
    fn exits_at_once(&self, name: &str) -> bool {
        self.container(name).is_some_and(|c| {
            !c.open_stdin
                && super::images::runs_a_shell(&c.image)
                && c.command == super::images::default_command(&c.image)
        })
    }

    /// The exit status `docker stop` leaves: 0 from a process that ends on SIGTERM, 137 from
    /// one killed when the timeout is over (`images::stops_on_sigterm`).
    fn stop_status(&self, name: &str) -> u8 {
        match self.container(name) {
            Some(c) if !super::images::stops_on_sigterm(&c.image, &c.command) => 137,
            _ => 0,
        }
    }

    /// How long `docker stop` (or `restart`) of `names` waits for them to exit: at once for
    /// those that end on SIGTERM, the timeout (`-t`, 10 s by default) for any running one that
    /// does not (docker/cli stops the containers in parallel).
    pub fn stop_wait(&self, names: &[String], timeout: Option<i64>) -> crate::engine::SimTime {
        let ignores = names
            .iter()
            .any(|n| self.container(n).is_some_and(|c| c.state == RunState::Running) && self.stop_status(n) == 137);
        let secs = if ignores { timeout.unwrap_or(10).max(0) as u64 } else { 0 };
        crate::engine::SimTime::from_secs(secs)
    }

    /// `docker stop NAME`: SIGTERM, then SIGKILL when `timeout` is over; the container has
    /// stopped when its process has.
    fn docker_stop(&mut self, name: &str, timeout: Option<i64>) -> Result<(), EngineError> {
        let wait = self.stop_wait(&[name.to_string()], timeout);
        let clock = self.clock;
        self.clock = clock + wait;
        let r = self.stop(name, self.stop_status(name));
        self.clock = clock;
        r
    }

    /// `docker stop`/`kill`: the process ends with `code`; the sandbox goes, and with it the
    /// container's addresses and published ports, which `docker start` takes anew.
    fn stop(&mut self, name: &str, code: u8) -> Result<(), EngineError> {
        let ci = self.container_idx(name)?;
        if self.containers[ci].kind != ContainerKind::Plain {
            return Err(err("netsim: stopping a swarm task's container is not modelled (scale the service)"));
        }
        if self.containers[ci].state != RunState::Running {
            return Ok(());
        }
        let eps: Vec<Endpoint> = self.containers[ci].endpoints.clone();
        let cname = self.containers[ci].name.clone();
        for e in &eps {
            self.disconnect(&e.network, &cname)?;
        }
        let c = &mut self.containers[ci];
        // A new sandbox at `docker start` counts its interfaces from 0.
        c.ifaces_made = 0;
        c.parked = eps.into_iter().map(|e| (e.network, e.static_ip.then_some(e.ip), e.aliases)).collect();
        c.parked_ports = std::mem::take(&mut c.ports);
        c.state = RunState::Exited(code);
        c.finished = self.clock;
        self.touch(ci);
        let id = self.containers[ci].id.clone();
        self.strip_joined(&id);
        Ok(())
    }

    /// `docker start`: the sandbox again, on the networks it had, with new addresses (the
    /// same where it asked for one) and its ports, unless another container took them.
    fn start(&mut self, name: &str) -> Result<(), EngineError> {
        let ci = self.container_idx(name)?;
        if self.containers[ci].state == RunState::Running {
            return Ok(());
        }
        let cname = self.containers[ci].name.clone();
        let failed =
            |e: String| err(format!("Error response from daemon: {e}\nError: failed to start containers: {name}"));
        let taken = self.containers[ci].parked_ports.iter().find(|p| self.port_taken(p)).copied();
        if let Some(p) = taken {
            let at = p.host_ip.map(|h| h.to_string()).unwrap_or_else(|| "0.0.0.0".into());
            let ep = self.hex(64);
            return Err(failed(format!(
                "driver failed programming external connectivity on endpoint {cname} ({ep}): Bind for {at}:{} failed: port is already allocated",
                p.host_port
            )));
        }
        let c = &self.containers[ci];
        if let Some(p) = super::images::missing_program(&c.image, &c.command) {
            return Err(failed(super::images::missing_start(p)));
        }
        if let SandboxMode::Joined { target, .. } = &self.containers[ci].mode {
            let target = target.clone();
            match self.containers.iter().find(|t| t.id == target) {
                None => return Err(failed(format!("No such container: {target}"))),
                Some(t) if t.state != RunState::Running => {
                    return Err(failed(format!("cannot join network of a non running container: {target}")));
                }
                Some(_) => {}
            }
            if let SandboxMode::Joined { stripped, .. } = &mut self.containers[ci].mode {
                *stripped = false;
            }
        }
        let parked = self.containers[ci].parked.clone();
        for (i, (net, ip, aliases)) in parked.iter().enumerate() {
            if let Err(EngineError(e)) = self.connect_with(net, &cname, ip.map(IpAddr::V4), aliases.clone(), None) {
                for (done, _, _) in &parked[..i] {
                    let _ = self.disconnect(done, &cname);
                }
                return Err(failed(e.trim_start_matches("Error response from daemon: ").to_string()));
            }
        }
        let c = &mut self.containers[ci];
        c.ports = std::mem::take(&mut c.parked_ports);
        c.parked.clear();
        c.state = RunState::Running;
        c.started = self.clock;
        self.touch(ci);
        if self.exits_at_once(name) {
            self.stop(name, 0)?;
        }
        Ok(())
    }

    fn network_create(&mut self, c: &cli::NetworkCreate) -> Result<String, EngineError> {
        if self.networks.iter().any(|n| n.name == c.name) {
            return Err(err(format!("Error response from daemon: network with name {} already exists", c.name)));
        }
        if matches!(c.driver, NetworkDriver::Host | NetworkDriver::Null) {
            let d = if c.driver == NetworkDriver::Host { "host" } else { "null" };
            return Err(err(format!("Error response from daemon: only one instance of \"{d}\" network is allowed")));
        }
        if !matches!(c.driver, NetworkDriver::Bridge | NetworkDriver::Macvlan) {
            return Err(err(format!("netsim: the {} driver is not modelled yet", c.driver.as_str())));
        }
        let (parent, macvlan_mode) =
            if c.driver == NetworkDriver::Macvlan { self.macvlan_options(c)? } else { (None, Default::default()) };
        let cfg = ipam_config(c.ipam.first())?;
        let pool = self.ipam.request_pool(AddressSpace::Local, &cfg, &self.reserved, false, false).map_err(|e| {
            // 20.10 says only what overlaps (traces/docker/errors/).
            let m = if self.era() == super::era::Era::V20_10 {
                e.message.trim_start_matches("invalid pool request: ").to_string()
            } else {
                e.message
            };
            err(format!("Error response from daemon: {m}"))
        })?;
        self.touch_host();
        let id = self.hex(64);
        let opt = |k: &str| c.options.get(k).map(String::as_str);
        let device =
            opt("com.docker.network.bridge.name").map(str::to_string).unwrap_or_else(|| format!("br-{}", &id[..12]));
        let mtu = opt("com.docker.network.driver.mtu").and_then(|m| m.parse().ok()).unwrap_or(1500);
        let mac = self.mac();
        let bridge = c.driver == NetworkDriver::Bridge;
        self.networks.push(Network {
            name: c.name.clone(),
            id: id.clone(),
            driver: c.driver,
            gateway: self.ipam.gateway(pool),
            pool: Some(pool),
            internal: c.internal,
            icc: opt("com.docker.network.bridge.enable_icc") != Some("false"),
            masquerade: bridge && opt("com.docker.network.bridge.enable_ip_masquerade") != Some("false"),
            device: bridge.then_some(device),
            mac,
            mtu,
            created: self.clock,
            parent,
            macvlan_mode,
            options: c.options.clone(),
            requested: Some((cfg.subnet.is_some(), cfg.gateway.is_some())),
            labels: c.labels.clone(),
            attached: 0,
        });
        Ok(id)
    }

    /// `-o parent=IF[.VLAN]` and `-o macvlan_mode=…` (LN/drivers/macvlan).
    fn macvlan_options(
        &self,
        c: &cli::NetworkCreate,
    ) -> Result<(Option<String>, crate::plan::MacvlanMode), EngineError> {
        use crate::plan::MacvlanMode as M;
        let mode = match c.options.get("macvlan_mode").map(String::as_str) {
            None | Some("bridge") => M::Bridge,
            Some("private") => M::Private,
            Some("vepa") => M::Vepa,
            Some("passthru") => return Err(err("netsim: macvlan passthru mode is not modelled")),
            Some(m) => {
                return Err(err(format!(
                    "Error response from daemon: requested macvlan mode '{m}' is not valid, 'bridge' mode is the macvlan driver default"
                )));
            }
        };
        let Some(parent) = c.options.get("parent") else {
            return Err(err(
                "netsim: a macvlan network without -o parent (Docker then uses a dummy dm-… link and makes it internal) is not modelled",
            ));
        };
        let (base, vlan) = match parent.split_once('.') {
            Some((b, v)) => (b, Some(v)),
            None => (parent.as_str(), None),
        };
        if !self.host_ifaces.iter().any(|i| i == base) {
            // libnetwork reads a parent it cannot find as an 802.1Q name to create.
            return Err(err(match vlan {
                Some(_) => format!("Error response from daemon: -o parent interface was not found on the host: {base}"),
                None => format!(
                    "Error response from daemon: invalid subinterface vlan name {base}, example formatting is eth0.10"
                ),
            }));
        }
        if let Some(v) = vlan {
            let ok = v.parse::<u16>().is_ok_and(|id| (1..=4094).contains(&id));
            if !ok {
                return Err(err("Error response from daemon: vlan id must be between 1-4094"));
            }
        }
        // One macvlan network per parent (recorded on 20.10: traces/docker/errors/).
        if let Some(n) = self.networks.iter().find(|n| n.parent.as_deref() == Some(parent.as_str())) {
            return Err(err(format!(
                "Error response from daemon: network dm-{} is already using parent interface {parent}",
                &n.id[..12]
            )));
        }
        Ok((Some(parent.clone()), mode))
    }

    fn network_rm(&mut self, name: &str) -> Result<String, EngineError> {
        let i = lookup::find(self.networks.iter().map(|n| (n.id.as_str(), n.name.as_str())), name)
            .network(name)
            .map_err(err)?;
        let n = &self.networks[i];
        if PREDEFINED.contains(&n.name.as_str()) {
            return Err(err(format!(
                "Error response from daemon: {} is a pre-defined network and cannot be removed",
                n.name
            )));
        }
        if self.containers.iter().any(|c| c.endpoints.iter().any(|e| e.network == n.name)) {
            return Err(err(format!(
                "Error response from daemon: error while removing network: network {} id {} has active endpoints",
                n.name, n.id
            )));
        }
        let n = self.networks.remove(i);
        self.touch_host();
        if let Some(p) = n.pool {
            self.ipam.release_pool(p).map_err(|e| err(e.message))?;
        }
        Ok(name.to_string())
    }

    /// `docker run` or `docker create` (`start` false) of a container whose first network is
    /// the swarm's overlay `network`: made as on any network, without a local one; the swarm
    /// attaches it as it starts (`Director::run_on_overlay`), and until then, or when its start
    /// fails, it keeps the overlay to join ([`Container::parked_swarm`]).
    pub fn run_on_swarm(&mut self, r: &cli::Run, network: &str, start: bool) -> Result<String, EngineError> {
        self.run(r, start, Some(network))
    }

    /// `docker run` (`start`) or `docker create`: the container is made; `run` starts it.
    /// What 20.10 finds only as a container starts (a port taken, a network it must look for
    /// in the swarm, a program the image lacks) fails `run` and, after `create`, `start`.
    /// `swarm`: the overlay it goes on ([`Engine::run_on_swarm`]).
    fn run(&mut self, r: &cli::Run, start: bool, swarm: Option<&str>) -> Result<String, EngineError> {
        // Without a registry an image is there or the run stops before anything is made; the
        // daemon looks for the image before it reserves the name (moby `daemon/create.go`).
        if super::images::find(&r.image.familiar_name()).is_none() {
            let tag = r.image.tag_or_latest().map(|t| format!(":{t}")).unwrap_or_default();
            return Err(err(super::images::not_found(&format!("{}{tag}", r.image.familiar_name()))));
        }
        let name = match &r.name {
            Some(n) => n.clone(),
            None => self.generated_name(),
        };
        if let Some(c) = self.containers.iter().find(|c| c.name == name) {
            return Err(err(format!(
                "Error response from daemon: Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                c.id
            )));
        }
        // 20.10 finds these when the container starts, not when it is made: the container is
        // left Created, holding its name (traces/docker/errors/).
        let v20 = self.era() == super::era::Era::V20_10;
        let mut at_start: Option<String> = None;
        let first = r.networks.first().map(|a| a.mode.clone()).unwrap_or(NetworkMode::Default);
        if let NetworkMode::Container(_) = first {
            self.joinable(r)?;
        }
        let (mode, net) = match &first {
            NetworkMode::Default | NetworkMode::Bridge => (SandboxMode::Own, Some("bridge".to_string())),
            NetworkMode::UserDefined(_) if swarm.is_some() => (SandboxMode::Own, None),
            NetworkMode::UserDefined(n) => match self.network(n) {
                Some(net) => (SandboxMode::Own, Some(net.name.clone())),
                // 20.10 makes the container and finds the network missing as it starts.
                None if v20 => {
                    at_start = Some(match self.cluster_left {
                        true => {
                            "docker: Error response from daemon: invalid cluster node while attaching to network".into()
                        }
                        false => format!("docker: Error response from daemon: network {n} not found"),
                    });
                    (SandboxMode::Own, Some(n.clone()))
                }
                None => return Err(err(format!("docker: Error response from daemon: network {n} not found."))),
            },
            NetworkMode::Host => (SandboxMode::Host, None),
            NetworkMode::None => (SandboxMode::Own, None),
            NetworkMode::Container(c) if self.container(c).is_none() => {
                let m = format!("docker: Error response from daemon: No such container: {c}");
                if !v20 {
                    return Err(err(m));
                }
                at_start = Some(m);
                (SandboxMode::Own, None)
            }
            NetworkMode::Container(c) => {
                let t = self.container(c).map(|t| (t.id.clone(), t.state == RunState::Running));
                let (id, running) = t.unwrap_or_default();
                if !running {
                    let m = format!(
                        "docker: Error response from daemon: cannot join network of a non running container: {id}"
                    );
                    if !v20 {
                        return Err(err(m));
                    }
                    at_start = Some(m);
                }
                (SandboxMode::Joined { target: id, stripped: !running }, None)
            }
        };
        let ip = r.networks.first().and_then(|a| a.ipv4_address);
        if ip.is_some() && matches!(first, NetworkMode::Default | NetworkMode::Bridge) {
            let m = format!("docker: Error response from daemon: {}", self.err_user_ip_on_default_bridge());
            if !v20 {
                return Err(err(m));
            }
            at_start = at_start.or(Some(m));
        }
        let id = self.hex(64);
        let mut ports = Vec::new();
        // A port another container holds fails the start, not the create: the container is
        // made and keeps its name, in state Created (moby `daemon/start.go`).
        let mut clash = None;
        if mode == SandboxMode::Own {
            for spec in &r.publish {
                for m in spec.mappings() {
                    let host_ip = match m.host_ip {
                        None => None,
                        Some(h) if h.is_unspecified() => None,
                        Some(IpAddr::V4(h)) => Some(h),
                        Some(IpAddr::V6(_)) => return Err(err("netsim: IPv6 is not modelled")),
                    };
                    let proto = match m.protocol {
                        cli::Protocol::Tcp => Proto::Tcp,
                        cli::Protocol::Udp => Proto::Udp,
                        cli::Protocol::Sctp => return Err(err("netsim: SCTP is not modelled")),
                    };
                    let host_port = match m.host_port {
                        Some(h) => h.start,
                        None => self.ephemeral(proto),
                    };
                    let b = PortBinding { proto, host_port, container_port: m.container_port, host_ip };
                    if clash.is_none() && (self.port_taken(&b) || ports.iter().any(|p: &PortBinding| p.clashes(&b))) {
                        // The endpoint was made for the start and removed when it failed; on
                        // an overlay the ports are the docker_gwbridge endpoint's, which
                        // libnetwork names `gateway_` and the container's short ID
                        // (`libnetwork/default_gateway.go`; traces/docker/swarm-attachable-publish).
                        let at = host_ip.map(|h| h.to_string()).unwrap_or_else(|| "0.0.0.0".into());
                        let ep = self.hex(64);
                        clash = Some(match swarm {
                            None => format!(
                                "docker: Error response from daemon: driver failed programming external connectivity on endpoint {name} ({ep}): Bind for {at}:{host_port} failed: port is already allocated."
                            ),
                            Some(_) => format!(
                                "docker: Error response from daemon: container {id}: endpoint join on GW Network failed: driver failed programming external connectivity on endpoint gateway_{} ({ep}): Bind for {at}:{host_port} failed: port is already allocated",
                                &id[..12]
                            ),
                        });
                    }
                    ports.push(b);
                }
            }
            // -P: every port the image exposes and -p did not publish, on an ephemeral host
            // port, highest container port first (as 20.10 allocates them:
            // traces/docker/inspect/README.md).
            if r.publish_all {
                let exposed = super::images::find(&r.image.familiar_name()).map(|i| i.expose).unwrap_or_default();
                let mut exposed: Vec<(u16, Proto)> = exposed.to_vec();
                exposed.sort_by_key(|(port, _)| std::cmp::Reverse(*port));
                for (container_port, proto) in exposed {
                    if ports.iter().any(|p| p.container_port == container_port && p.proto == proto) {
                        continue;
                    }
                    let host_port = self.ephemeral(proto);
                    ports.push(PortBinding { proto, host_port, container_port, host_ip: None });
                }
            }
        }
        let bind_fails = matches!(&mode, SandboxMode::Joined { target, stripped: false }
            if self.port_in_use_by_peers(target, &r.image.familiar_name()));
        let (lo, hi) = crate::kernel::defaults::EPHEMERAL;
        let dns_ports = (self.rng.range(lo as u64, hi as u64) as u16, self.rng.range(lo as u64, hi as u64) as u16);
        self.made += 1;
        self.containers.push(Container {
            seq: self.made,
            name: name.clone(),
            id: id.clone(),
            image: r.image.familiar_name(),
            mode: mode.clone(),
            endpoints: Vec::new(),
            ports,
            env: r.env.iter().map(|e| (e.key.clone(), e.value.clone().unwrap_or_default())).collect(),
            dns_ports,
            kind: ContainerKind::Plain,
            state: RunState::Running,
            created: self.clock,
            started: self.clock,
            finished: crate::engine::SimTime::ZERO,
            open_stdin: r.interactive || r.tty,
            tty: r.tty,
            dns: r
                .dns
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V4(v) => Some(*v),
                    IpAddr::V6(_) => None,
                })
                .collect(),
            mac_address: r.mac_address.map(|m| Mac(m.0)),
            network_none: matches!(first, NetworkMode::None),
            parked: Vec::new(),
            parked_ports: Vec::new(),
            labels: r.labels.clone(),
            command: match r.command.words.is_empty() {
                true => super::images::default_command(&r.image.familiar_name()),
                false => r.command.words.clone(),
            },
            swarm_ifnames: Vec::new(),
            ifaces_made: 0,
            parked_swarm: Vec::new(),
            auto_remove: r.rm,
            network_mode: Some(match (&first, &mode) {
                (_, SandboxMode::Joined { target, .. }) => format!("container:{target}"),
                (NetworkMode::Default, _) => "default".into(),
                (NetworkMode::Bridge, _) => "bridge".into(),
                (NetworkMode::Host, _) => "host".into(),
                (NetworkMode::None, _) => "none".into(),
                (NetworkMode::UserDefined(n), _) => n.clone(),
                (NetworkMode::Container(c), _) => format!("container:{c}"),
            }),
            hostname: r.hostname.clone(),
            extra_hosts: r
                .other_flags
                .iter()
                .filter(|f| f.name == "add-host")
                .filter_map(|f| f.value.split_once([':', '=']).map(|(n, ip)| (n.to_string(), ip.to_string())))
                .collect(),
            links: r
                .other_flags
                .iter()
                .filter(|f| f.name == "link")
                .map(|f| match f.value.split_once(':') {
                    Some((name, alias)) => (name.to_string(), alias.to_string()),
                    None => (f.value.clone(), f.value.clone()),
                })
                .collect(),
        });
        self.touch(self.containers.len() - 1);
        if !start {
            let ip = ip.map(ipv4_only).transpose()?;
            let aliases = r.networks.first().map(|a| a.aliases.clone()).unwrap_or_default();
            if let Some(c) = self.containers.last_mut() {
                c.state = RunState::Created;
                c.started = crate::engine::SimTime::ZERO;
                c.parked = net.into_iter().map(|n| (n, ip, aliases.clone())).collect();
                c.parked_ports = std::mem::take(&mut c.ports);
                c.parked_swarm = swarm.into_iter().map(|n| (n.to_string(), aliases.clone())).collect();
            }
            return Ok(id);
        }
        if bind_fails {
            // Its server cannot bind the port the namespace's other process holds: it exits
            // at once, as nginx does ("bind() … failed (98: Address in use)").
            let now = self.clock;
            if let Some(c) = self.containers.last_mut() {
                c.state = RunState::Exited(1);
                c.finished = now;
            }
            return Ok(id);
        }
        let ip = ip.map(ipv4_only).transpose()?;
        let aliases = r.networks.first().map(|a| a.aliases.clone()).unwrap_or_default();
        // The container's process is started last, once its network is up.
        // With `-i` the engine's words for a program runc cannot start end in a full stop,
        // which a refused `--link` under `-i` does not get (traces/docker/shells/record.txt,
        // traces/docker/link-user-network/record.txt).
        let full_stop = if r.interactive { "." } else { "" };
        let missing = super::images::missing_program(&r.image.familiar_name(), &r.command.words)
            .map(|p| format!("docker: Error response from daemon: {}{full_stop}", super::images::missing_start(p)));
        // A legacy link on the default bridge needs its container there too, which the daemon
        // finds as it starts the container (traces/docker/link-user-network/record.txt).
        let unlinkable = (net.as_deref() == Some("bridge"))
            .then(|| {
                r.other_flags.iter().filter(|f| f.name == "link").find_map(|f| {
                    let target = f.value.split_once(':').map_or(f.value.as_str(), |(n, _)| n);
                    let t = self.container(target)?;
                    (!t.endpoints.iter().any(|e| e.network == "bridge")).then(|| {
                        format!(
                            "docker: Error response from daemon: Cannot link to /{}, as it does not belong to the default network",
                            t.name
                        )
                    })
                })
            })
            .flatten();
        let failed = match at_start.or(clash).or(unlinkable).or(missing) {
            Some(m) => Some(m),
            None => match &net {
                Some(n) => self.connect_with(n, &name, ip.map(IpAddr::V4), aliases.clone(), None).err().map(|e| e.0),
                None => None,
            },
        };
        let Some(msg) = failed else {
            if self.exits_at_once(&name) {
                self.stop(&name, 0)?;
            }
            return Ok(id);
        };
        if msg.trim_start_matches("docker: ").starts_with("netsim:") {
            // Not the engine's failure but the simulator's limit: nothing is left behind.
            self.containers.pop();
            return Err(err(msg));
        }
        if r.rm {
            // `--rm`: the daemon removes a container whose start failed (moby
            // `daemon/start.go`, AutoRemove).
            self.containers.pop();
        } else if let Some(c) = self.containers.last_mut() {
            c.state = RunState::Created;
            c.parked = net.into_iter().map(|n| (n, ip, aliases.clone())).collect();
            c.parked_ports = std::mem::take(&mut c.ports);
            c.parked_swarm = swarm.into_iter().map(|n| (n.to_string(), aliases.clone())).collect();
        }
        // docker/cli prints the ID once a detached container is made, then the start's
        // failure; attached, only the failure (`cli/command/container/run.go`).
        let msg = if msg.starts_with("docker: ") { msg } else { format!("docker: {msg}") };
        Err(err(if r.detach { format!("{id}\n{msg}") } else { msg }))
    }

    /// What a container that joins another's namespace cannot ask for, in the order the
    /// daemon looks (moby `runconfig/hostconfig_unix.go` validateNetContainerMode; the words
    /// as 20.10.24 prints them: traces/docker/container-mode/record.txt).
    fn joinable(&self, r: &cli::Run) -> Result<(), EngineError> {
        let flag = |n: &str| r.other_flags.iter().any(|f| f.name == n);
        let conflict = if r.hostname.is_some() {
            "hostname and the network mode"
        } else if flag("link") {
            "container type network can't be used with links. This would result in undefined behavior"
        } else if !r.dns.is_empty() {
            "dns and the network mode"
        } else if flag("add-host") {
            "custom host-to-IP mapping and the network mode"
        } else if r.mac_address.is_some() {
            "mac-address and the network mode"
        } else if !r.publish.is_empty() || r.publish_all {
            "port publishing and the container type network mode"
        } else if flag("expose") {
            "port exposing and the container type network mode"
        } else {
            return Ok(());
        };
        Err(err(format!("docker: Error response from daemon: conflicting options: {conflict}")))
    }

    /// Whether a server of `image` would find its TCP port taken in the namespace of the
    /// container `target` (by it or by another container that joined it).
    fn port_in_use_by_peers(&self, target: &str, image: &str) -> bool {
        let port = |image: &str| image_role(image).map(ImageRole::port);
        let Some(mine) = port(image) else { return false };
        self.containers.iter().filter(|c| c.state == RunState::Running).any(|c| {
            let shares =
                c.id == target || matches!(&c.mode, SandboxMode::Joined { target: t, stripped: false } if t == target);
            shares && port(&c.image) == Some(mine)
        })
    }

    /// The containers that joined `target`'s namespace lose it when it stops or goes: they
    /// keep only lo, in a namespace of their own.
    fn strip_joined(&mut self, target: &str) {
        let joined: Vec<usize> = (0..self.containers.len())
            .filter(|&i| {
                matches!(&self.containers[i].mode, SandboxMode::Joined { target: t, stripped: false } if t == target)
                    && self.containers[i].state == RunState::Running
            })
            .collect();
        for i in joined {
            if let SandboxMode::Joined { stripped, .. } = &mut self.containers[i].mode {
                *stripped = true;
            }
            self.touch(i);
        }
    }

    fn generated_name(&mut self) -> String {
        // Docker's namesgenerator: an adjective and a notable scientist.
        const LEFT: [&str; 8] = ["admiring", "brave", "eager", "focused", "nifty", "quirky", "serene", "zealous"];
        const RIGHT: [&str; 8] = ["hopper", "lovelace", "turing", "curie", "noether", "shannon", "ritchie", "wozniak"];
        loop {
            let n = format!("{}_{}", LEFT[self.rng.next_u32() as usize % 8], RIGHT[self.rng.next_u32() as usize % 8]);
            if !self.containers.iter().any(|c| c.name == n) {
                return n;
            }
        }
    }

    fn port_taken(&self, b: &PortBinding) -> bool {
        self.containers.iter().any(|c| c.ports.iter().any(|p| p.clashes(b)))
    }

    fn ephemeral(&mut self, proto: Proto) -> u16 {
        let (lo, hi) = crate::kernel::defaults::EPHEMERAL;
        loop {
            // libnetwork's portallocator counts TCP and UDP apart.
            let next = &mut self.next_ephemeral[proto as usize];
            let p = *next;
            *next = if p >= hi { lo } else { p + 1 };
            if !self.port_taken(&PortBinding { proto, host_port: p, container_port: 0, host_ip: None }) {
                return p;
            }
        }
    }

    /// What the daemon checks before container `ci` joins `network`, running or not (moby
    /// `daemon/container_operations.go`, `updateNetworkSettings` and
    /// `validateNetworkingConfig`); `internal`: the daemon's own request (a swarm endpoint's
    /// docker_gwbridge), which never looks in the swarm.
    fn connectable(
        &self,
        ci: usize,
        network: &str,
        ip: Option<IpAddr>,
        internal: bool,
    ) -> Result<Network, EngineError> {
        if network == "host" {
            return Err(err(ERR_HOST_NETWORK));
        }
        let net = match self.network(network) {
            Some(n) => n.clone(),
            // 20.10 looks for a network it does not know in the swarm, which a failed join
            // left behind without a node (traces/docker/errors/).
            None if self.era() == super::era::Era::V20_10 && !internal && self.cluster_left => {
                return Err(err("Error response from daemon: invalid cluster node while attaching to network"));
            }
            None => return Err(err(format!("Error response from daemon: network {network} not found"))),
        };
        if self.containers[ci].network_none {
            return Err(err(
                "Error response from daemon: container cannot be connected to multiple networks with one of the networks in private (none) mode",
            ));
        }
        if let Some(ip) = ip {
            if net.name == "bridge" {
                return Err(err(format!("Error response from daemon: {}", self.err_user_ip_on_default_bridge())));
            }
            // Only on a network whose subnet the user chose (moby `daemon/container_operations.go`).
            if !net.requested.is_some_and(|(subnet_given, _)| subnet_given) {
                return Err(err(
                    "Error response from daemon: user specified IP address is supported only when connecting to networks with user configured subnets",
                ));
            }
            let inside = net.pool.is_some_and(|p| match ip {
                IpAddr::V4(v) => p.subnet.contains(v),
                IpAddr::V6(_) => false,
            });
            if !inside && self.era() == super::era::Era::V20_10 {
                return Err(err(format!(
                    "Error response from daemon: Invalid address {ip}: It does not belong to any of this network's subnets"
                )));
            }
        }
        if !matches!(net.driver, NetworkDriver::Bridge | NetworkDriver::Macvlan) {
            return Err(err(format!("netsim: connecting to the {} network is not modelled yet", net.name)));
        }
        if self.containers[ci].mode != SandboxMode::Own {
            return Err(err(
                "Error response from daemon: container sharing network namespace with another container or host cannot be connected to any other network",
            ));
        }
        Ok(net)
    }

    /// `docker network connect` of a container that is not running: the daemon checks the
    /// request and notes the network, which the container joins when it starts (moby
    /// `ConnectToNetwork`): no address yet, and the same network again is no error
    /// (traces/docker/swarm-attachable-stopped/record.txt).
    fn connect_stopped(
        &mut self,
        network: &str,
        container: &str,
        ip: Option<IpAddr>,
        aliases: Vec<String>,
    ) -> Result<String, EngineError> {
        let ci = self.container_idx(container)?;
        // A network the daemon does not find is noted as typed, unchecked; the start fails.
        let name = match self.network(network) {
            Some(_) => self.connectable(ci, network, ip, false)?.name,
            None => network.to_string(),
        };
        let ip = ip.map(ipv4_only).transpose()?;
        let c = &mut self.containers[ci];
        if !c.parked.iter().any(|p| p.0 == name) {
            c.parked.push((name, ip, aliases));
        }
        self.touch(ci);
        Ok(String::new())
    }

    /// `docker network disconnect` of a container that is not running: the daemon forgets
    /// the network, local or a swarm's overlay, or says, in this path's words, that it had
    /// none by that name (moby `DisconnectFromNetwork`).
    fn disconnect_stopped(&mut self, network: &str, container: &str) -> Result<(), EngineError> {
        let ci = self.container_idx(container)?;
        if network == "host" || self.containers[ci].mode == SandboxMode::Host {
            return Err(err(ERR_HOST_NETWORK));
        }
        let name = self.network(network).map_or(network.to_string(), |n| n.name.clone());
        let c = &mut self.containers[ci];
        if let Some(i) = c.parked.iter().position(|p| p.0 == name) {
            c.parked.remove(i);
        } else if let Some(i) = c.parked_swarm.iter().position(|(n, _)| *n == name) {
            c.parked_swarm.remove(i);
        } else {
            return Err(err(format!(
                "Error response from daemon: container {} is not connected to the network {name}",
                c.id
            )));
        }
        self.touch(ci);
        Ok(())
    }

    fn connect_with(
        &mut self,
        network: &str,
        container: &str,
        ip: Option<IpAddr>,
        aliases: Vec<String>,
        ifname: Option<String>,
    ) -> Result<String, EngineError> {
        let ci = self.container_idx(container)?;
        let net = self.connectable(ci, network, ip, ifname.is_some())?;
        let c = &self.containers[ci];
        if c.endpoints.iter().any(|e| e.network == net.name) {
            return Err(err(format!(
                "Error response from daemon: endpoint with name {} already exists in network {}",
                c.name, net.name
            )));
        }
        let ip = match ip {
            Some(IpAddr::V4(v)) => Some(v),
            Some(IpAddr::V6(_)) => return Err(err("netsim: IPv6 is not modelled")),
            None => None,
        };
        let pool = net.pool.ok_or_else(|| err("netsim: network without a pool"))?;
        if let (NetworkDriver::Bridge, Some(br)) = (&net.driver, &net.device)
            && net.attached >= crate::kernel::defaults::BR_MAX_PORTS
        {
            // The kernel refuses the veth's host end as the bridge's 1024th port
            // (libnetwork/drivers/bridge/bridge_linux.go, CreateEndpoint).
            let veth = self.hex(7);
            return Err(err(format!(
                "Error response from daemon: failed to create endpoint {} on network {}: adding interface veth{veth} to bridge {br} failed: exchange full",
                self.containers[ci].name, net.name
            )));
        }
        let addr = self
            .ipam
            .request_address(pool, ip)
            .map_err(|e| err(format!("Error response from daemon: {}", e.message)))?;
        let ifname = self.name_ifname(ci, ifname.as_deref());
        let host_veth = format!("veth{}", self.hex(7));
        // `--mac-address` names the first interface's MAC; Docker draws (or, in 20.10,
        // derives from the address) every other.
        let chosen = self.containers[ci].mac_address.filter(|_| self.containers[ci].endpoints.is_empty());
        let mac = match chosen {
            Some(m) => m,
            None => self.era().container_mac(addr, self.rng.mac()),
        };
        if !aliases.is_empty() && net.name == "bridge" {
            return Err(err(
                "Error response from daemon: network-scoped alias is supported only for containers in user defined networks",
            ));
        }
        let id = self.hex(64);
        self.containers[ci].endpoints.push(Endpoint {
            id,
            network: net.name.clone(),
            ifname,
            host_veth,
            ip: addr,
            mac,
            aliases,
            static_ip: ip.is_some(),
        });
        self.count_attached(&net.name, 1);
        if has_zone(&net.name) {
            let c = &self.containers[ci];
            let entry = c.endpoints.last().map(|e| zone_entry(c, e));
            if let Some(entry) = entry {
                self.zone_ops.push(ZoneOp::Add { key: self.zone_key(&net.name), seq: c.seq, entry });
            }
        }
        self.touch(ci);
        Ok(String::new())
    }

    fn disconnect(&mut self, network: &str, container: &str) -> Result<(), EngineError> {
        let ci = self.container_idx(container)?;
        if network == "host" || self.containers[ci].mode == SandboxMode::Host {
            return Err(err(ERR_HOST_NETWORK));
        }
        let net = self
            .network(network)
            .ok_or_else(|| err(format!("Error response from daemon: network {network} not found")))?
            .clone();
        let c = &mut self.containers[ci];
        let Some(i) = c.endpoints.iter().position(|e| e.network == net.name) else {
            return Err(err(format!(
                "Error response from daemon: container {} is not connected to network {}",
                c.id, net.name
            )));
        };
        let e = c.endpoints.remove(i);
        let seq = c.seq;
        self.count_attached(&net.name, -1);
        if has_zone(&net.name) {
            self.zone_ops.push(ZoneOp::Remove { key: self.zone_key(&net.name), seq });
        }
        self.touch(ci);
        if let Some(p) = net.pool {
            self.ipam.release_address(p, e.ip).map_err(|x| err(x.message))?;
        }
        Ok(())
    }

    /// Network `name` gained (`1`) or lost (`-1`) an endpoint.
    fn count_attached(&mut self, name: &str, by: isize) {
        if let Some(n) = self.networks.iter_mut().find(|n| n.name == name) {
            n.attached = n.attached.saturating_add_signed(by);
        }
    }

    fn rm(&mut self, name: &str) -> Result<String, EngineError> {
        let ci = self.container_idx(name)?;
        let nets: Vec<String> = self.containers[ci].endpoints.iter().map(|e| e.network.clone()).collect();
        for n in nets {
            self.disconnect(&n, name)?;
        }
        self.touch(ci);
        let id = self.containers[ci].id.clone();
        self.strip_joined(&id);
        self.containers.remove(ci);
        Ok(name.to_string())
    }

    /// Compiles the daemon's state into `plan` (the host namespace is added if missing).
    pub fn plan(&self, plan: &mut Plan) {
        self.plan_part(plan, None, None)
    }

    /// [`Engine::plan`] for the namespaces in `scope` only (all with `None`), which must
    /// include the host: the items of the whole plan that live there, in the same order.
    /// With `segments`, the host's rules of each container are a [`RuleSegment`] owned by its
    /// sandbox where the era's layout keeps them apart (`bridge::compile_part`), and only the
    /// containers in `scope` are compiled at all: a step costs the containers it touched.
    pub fn plan_part(&self, plan: &mut Plan, scope: Option<&Set<String>>, segments: Option<&mut Vec<RuleSegment>>) {
        let segments = segments.filter(|_| self.era().iptables_layout() == super::era::IptablesLayout::V29);
        // The containers whose sandbox is in scope, by name: a step touches one or a few, and
        // every container is asked, so the question must not cost a string or a hash.
        let names: Option<Vec<&str>> =
            scope.map(|s| s.iter().filter_map(|n| n.strip_prefix(self.ns_prefix.as_str())).collect());
        let host_in = scope.is_none_or(|s| s.contains(&self.host));
        let keep = |c: &Container| {
            let Some(names) = &names else { return true };
            match &c.mode {
                SandboxMode::Host => host_in,
                SandboxMode::Own | SandboxMode::Joined { stripped: true, .. } => names.contains(&c.name.as_str()),
                // Nothing of its own in the plan.
                SandboxMode::Joined { stripped: false, .. } => false,
            }
        };
        if !plan.namespaces.iter().any(|n| n.name == self.host) {
            plan.namespaces.push(NsPlan {
                name: self.host.clone(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            });
        }
        let bridges: Vec<&Network> = self.networks.iter().filter(|n| n.driver == NetworkDriver::Bridge).collect();
        let nets: Vec<BridgeNetwork> = bridges
            .iter()
            .filter_map(|n| {
                let pool = n.pool?;
                // A Linux bridge takes the smallest MTU of its ports and 1500 without any: docker0
                // shows the daemon's --mtu only once a container is on it (20.10.24 fixture
                // `lab1-network-inspect-bridge.json`).
                debug_assert_eq!(
                    n.attached,
                    self.containers.iter().flat_map(|c| &c.endpoints).filter(|e| e.network == n.name).count(),
                    "network {}'s endpoints miscounted",
                    n.name
                );
                let mtu = if n.name == "bridge" && n.attached == 0 { crate::kernel::defaults::MTU } else { n.mtu };
                Some(BridgeNetwork {
                    name: n.name.clone(),
                    device: n.device.clone()?,
                    subnet: pool.subnet,
                    gateway: n.gateway?,
                    mac: n.mac,
                    internal: n.internal,
                    icc: n.icc,
                    masquerade: n.masquerade,
                    mtu,
                })
            })
            .collect();
        // The containers to compile: with segments, only those in scope (each other's host
        // rules are a segment left as it is), found from the newest, which a step usually
        // touches; else all, whose endpoints make the host's rules.
        let candidates: Vec<&Container> = match (&names, segments.is_some()) {
            (Some(names), true) => {
                let mut left = names.len();
                let mut found = Vec::new();
                for c in self.containers.iter().rev() {
                    if left == 0 {
                        break;
                    }
                    if names.contains(&c.name.as_str()) {
                        left -= 1;
                        found.push(c);
                    }
                }
                found.reverse();
                found
            }
            _ => self.containers.iter().collect(),
        };
        let mut eps = Vec::new();
        let mut kept = Vec::new();
        for &c in &candidates {
            if matches!(c.mode, SandboxMode::Host | SandboxMode::Joined { stripped: false, .. })
                || c.state != RunState::Running
            {
                continue;
            }
            let part = keep(c);
            if part {
                kept.push(c);
            } else if segments.is_some() {
                continue;
            }
            if c.endpoints.is_empty() && part {
                // `--network none`: a namespace with only lo.
                plan.namespaces.push(NsPlan {
                    name: self.sandbox_ns(c),
                    lo_up: true,
                    ip_forward: false,
                    bridge_nf_call_iptables: true,
                });
                continue;
            }
            let gw = self.gateway_endpoint(c);
            for (i, e) in c.endpoints.iter().enumerate() {
                let Some(ni) = nets.iter().position(|n| n.name == e.network) else { continue };
                eps.push(BridgeEndpoint {
                    // Outside the part, an endpoint counts only for the host's rules.
                    sandbox: if part { self.sandbox_ns(c) } else { String::new() },
                    network: ni,
                    ifname: e.ifname.clone(),
                    host_veth: e.host_veth.clone(),
                    ip: e.ip,
                    mac: e.mac,
                    gateway: Some(i) == gw,
                    ports: if Some(i) == gw { self.published(c).to_vec() } else { Vec::new() },
                    seq: c.seq,
                });
            }
        }
        bridge::compile_part(self.era(), plan, segments, &self.host, &nets, &eps, |e| !e.sandbox.is_empty());
        self.plan_macvlan(plan, scope.map(|_| kept.as_slice()));
        for &c in &candidates {
            // 20.10 redirects the embedded DNS in ingress_sbox too (20.10.24 as recorded; not in
            // the `lab7-*` fixtures).
            let infra = c.kind == ContainerKind::Infra && self.era() == super::era::Era::V20_10;
            if (self.has_embedded_dns(c) || infra) && keep(c) {
                embedded_dns_rules(plan, &self.sandbox_ns(c), c.dns_ports);
            }
        }
    }

    /// `docker ps`: running containers, newest first; swarm tasks are containers too.
    fn ps(&self, quiet: bool, shown: &[&Container]) -> String {
        if quiet {
            return shown.iter().map(|c| format!("{}\n", &c.id[..12])).collect();
        }
        let head = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
        let mut rows = vec![head.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        for c in shown {
            rows.push(vec![
                c.id[..12].to_string(),
                c.image.clone(),
                ps_command(&c.command),
                self.running_for(c),
                self.ps_status(c).0,
                self.ps_ports(c),
                c.name.clone(),
            ]);
        }
        super::tabwrite(&rows)
    }

    /// `docker ps`'s CREATED: how long ago the container was made (`RunningFor`).
    fn running_for(&self, c: &Container) -> String {
        format!("{} ago", human_duration(self.clock.saturating_sub(c.created)))
    }

    /// A container's STATUS and state as the daemon words them (`State.String` in moby's
    /// `container/state.go`): `Up 5 seconds`, `Exited (0) 2 minutes ago`, `Created`.
    fn ps_status(&self, c: &Container) -> (String, &'static str) {
        let ago = |t| human_duration(self.clock.saturating_sub(t));
        let text = match c.state {
            RunState::Running => format!("Up {}", ago(c.started)),
            RunState::Created => "Created".to_string(),
            RunState::Exited(code) => format!("Exited ({code}) {} ago", ago(c.finished)),
        };
        (text, state_name(c.state))
    }

    /// The containers `docker ps [-a]` lists, newest first.
    fn ps_shown(&self, all: bool) -> impl Iterator<Item = &Container> {
        self.containers
            .iter()
            .rev()
            .filter(move |c| c.kind != ContainerKind::Infra && (all || c.state == RunState::Running))
    }

    /// A container's published ports as `docker ps` lists them (`0.0.0.0:8080->80/tcp, …`).
    fn ps_ports(&self, c: &Container) -> String {
        if c.state != RunState::Running {
            return String::new();
        }
        // The API's `Ports`: each binding of a published port, and each port the image
        // exposes that is not published, without an address.
        let published = self.published(c);
        let mut ports: Vec<(u16, String, u16, &'static str)> = published
            .iter()
            .flat_map(|p| p.shown_addresses().into_iter().map(|a| (p.container_port, a, p.host_port, p.proto.name())))
            .collect();
        let exposed = super::images::find(&c.image).map(|i| i.expose).unwrap_or_default();
        for &(port, proto) in exposed {
            if !published.iter().any(|p| p.container_port == port && p.proto == proto) {
                ports.push((port, String::new(), 0, proto.name()));
            }
        }
        displayable_ports(ports)
    }

    /// `docker ps --format FORMAT`: a Go template per container over docker/cli's container
    /// context (`cli/command/formatter/container.go`: `.ID`, `.Names`, `.Image`, `.Status`,
    /// …). `table …` adds a header of the fields' column names and aligns the cells on the
    /// tabs (tabwriter); `\t` and `\n` in the format are a tab and a newline, as docker/cli
    /// reads them (`formatter.Context.preFormat`).
    fn ps_format(&self, format: &str, shown: &[&Container], no_trunc: bool) -> Result<String, EngineError> {
        let (table, body) = super::list_format(format);
        let mut lines = Vec::new();
        for c in shown {
            let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let networks: Vec<&str> = c.endpoints.iter().map(|e| e.network.as_str()).collect();
            let (status, state) = self.ps_status(c);
            let v = serde_json::json!({
                "ID": if no_trunc { c.id.clone() } else { c.id[..12].to_string() },
                "Image": c.image,
                "Command": ps_command(&c.command),
                "RunningFor": self.running_for(c),
                "CreatedAt": super::inspect::created_at(c.created),
                "Ports": self.ps_ports(c),
                "Status": status,
                "State": state,
                "Names": c.name,
                "Labels": labels.join(","),
                "Networks": networks.join(","),
                "Mounts": "",
                "LocalVolumes": "0",
                "Size": "0B",
            });
            let line = super::template::render(&body, &v)
                .map_err(|e| super::template_error(e, "failed to execute template: ", "*formatter.ContainerContext"))?;
            lines.push(line);
        }
        // docker/cli's `…Header` constants.
        const HEADS: &[(&str, &str)] = &[
            ("ID", "CONTAINER ID"),
            ("Image", "IMAGE"),
            ("Command", "COMMAND"),
            ("CreatedAt", "CREATED AT"),
            ("RunningFor", "CREATED"),
            ("Ports", "PORTS"),
            ("Status", "STATUS"),
            ("State", "STATE"),
            ("Size", "SIZE"),
            ("Names", "NAMES"),
            ("Labels", "LABELS"),
            ("Mounts", "MOUNTS"),
            ("Networks", "NETWORKS"),
            ("LocalVolumes", "LOCAL VOLUMES"),
        ];
        Ok(super::format_lines(table, &body, lines, HEADS))
    }

    /// macvlan: children of the parent straight into the sandboxes, no bridge and no NAT
    /// (*macvlan and ipvlan*); `eth0.10` parents are 802.1Q links Docker makes on the host.
    /// Only the sandboxes of `part`'s containers with `Some`.
    fn plan_macvlan(&self, plan: &mut Plan, part: Option<&[&Container]>) {
        use crate::plan::{AddrPlan, Link, RoutePlan};
        let mut have: crate::kernel::Set<String> = plan.namespaces.iter().map(|ns| ns.name.clone()).collect();
        for n in self.networks.iter().filter(|n| n.driver == NetworkDriver::Macvlan) {
            let (Some(parent), Some(pool)) = (&n.parent, n.pool) else { continue };
            if let Some((base, vid)) = parent.split_once('.')
                && let Ok(id) = vid.parse::<u16>()
            {
                plan.links.push(Link::Vlan {
                    txqueuelen: Some(0),
                    name: parent.clone(),
                    ns: self.host.clone(),
                    parent: base.into(),
                    id,
                    mac: None,
                    mtu: None,
                });
            }
            let all: Vec<&Container> = match part {
                Some(p) => p.to_vec(),
                None => self.containers.iter().collect(),
            };
            for c in all.into_iter().filter(|c| c.mode == SandboxMode::Own) {
                let Some(e) = c.endpoints.iter().find(|e| e.network == n.name) else { continue };
                let ns = self.sandbox_ns(c);
                if have.insert(ns.clone()) {
                    plan.namespaces.push(NsPlan {
                        name: ns.clone(),
                        lo_up: true,
                        ip_forward: false,
                        bridge_nf_call_iptables: true,
                    });
                }
                plan.links.push(Link::Macvlan {
                    txqueuelen: Some(0),
                    name: e.ifname.clone(),
                    ns: ns.clone(),
                    parent: parent.clone(),
                    parent_ns: Some(self.host.clone()),
                    mode: n.macvlan_mode,
                    mac: Some(e.mac),
                    mtu: None,
                });
                plan.addresses.push(AddrPlan {
                    ns: ns.clone(),
                    dev: e.ifname.clone(),
                    addr: Ipv4Net::new(e.ip, pool.subnet.len),
                });
                // The gateway endpoint: not internal first, then network name (*Objects and
                // names*).
                let gw = c
                    .endpoints
                    .iter()
                    .min_by_key(|x| (self.network(&x.network).is_some_and(|m| m.internal), x.network.clone()))
                    .is_some_and(|x| x.network == n.name);
                if gw
                    && !n.internal
                    && let Some(g) = n.gateway
                {
                    plan.routes.push(RoutePlan {
                        ns,
                        dst: Ipv4Net::DEFAULT,
                        via: Some(g),
                        dev: Some(e.ifname.clone()),
                        src: None,
                        metric: 0,
                    });
                }
            }
        }
    }

    /// The namespace a container's sandbox is in the plan (the host's own for `--network host`).
    pub fn sandbox_ns(&self, c: &Container) -> String {
        match &c.mode {
            SandboxMode::Host => self.host.clone(),
            SandboxMode::Joined { target, stripped: false } => match self.containers.iter().find(|t| t.id == *target) {
                // A container can only join one made before it: this ends.
                Some(t) => self.sandbox_ns(t),
                None => format!("{}{}", self.ns_prefix, c.name),
            },
            SandboxMode::Own | SandboxMode::Joined { .. } => format!("{}{}", self.ns_prefix, c.name),
        }
    }

    pub fn container(&self, name_or_id: &str) -> Option<&Container> {
        self.container_idx(name_or_id).ok().map(|i| &self.containers[i])
    }

    /// A container's host name (`/etc/hostname`, `hostname`): `--hostname`, or the first 12
    /// characters of its ID (moby `daemon/create.go`, `container.Config.Hostname`).
    pub fn hostname(&self, c: &Container) -> String {
        if let Some(t) = self.joined_target(c) {
            return self.hostname(t);
        }
        c.hostname.clone().unwrap_or_else(|| c.id.chars().take(12).collect())
    }

    /// The container whose namespace `c` joined (`--network container:`): its host name and
    /// files are `c`'s too.
    fn joined_target(&self, c: &Container) -> Option<&Container> {
        match &c.mode {
            SandboxMode::Joined { target, .. } => self.containers.iter().find(|t| t.id == *target),
            _ => None,
        }
    }

    /// `/etc/hosts` inside a container, as libnetwork writes it (`libnetwork/etchosts`): the
    /// default lines, the `--add-host` entries, then the container's address on each network
    /// it joined, in the order it joined them, with its host name. `--network host` shares the
    /// host's file. Recorded on Docker 20.10: `traces/docker/etc-files/record.txt`.
    pub fn etc_hosts(&self, c: &Container, host_file: &str) -> String {
        if let Some(t) = self.joined_target(c) {
            return self.etc_hosts(t, host_file);
        }
        if c.mode == SandboxMode::Host {
            return host_file.to_string();
        }
        let mut out = String::from(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        );
        for (name, ip) in &c.extra_hosts {
            out += &format!("{ip}\t{name}\n");
        }
        // A legacy link on the default bridge: the linked container by its alias, its host
        // name and (where the alias differs) its name (moby `daemon/container_operations.go`,
        // `buildSandboxOptions`; traces/docker/hosts-file/record.txt).
        for (target, alias) in &c.links {
            let Some(t) = self.container(target).filter(|t| t.state == RunState::Running) else { continue };
            let Some(ip) = t.endpoints.iter().find(|e| e.network == "bridge").map(|e| e.ip) else { continue };
            let mut names = format!("{alias} {}", self.hostname(t));
            if *alias != t.name {
                names += &format!(" {}", t.name);
            }
            out += &format!("{ip}\t{names}\n");
        }
        let name = self.hostname(c);
        for e in c.endpoints.iter().filter(|e| e.network != GWBRIDGE) {
            out += &format!("{}\t{name}\n", e.ip);
        }
        out
    }

    /// `c`'s links on user-defined networks, as `(alias, name)`: there a link writes no
    /// /etc/hosts line but is an alias that only `c`'s embedded DNS answers, for whatever
    /// `name` resolves to (moby `daemon/container_operations.go`, links passed as
    /// `CreateOptionAlias`; traces/docker/link-user-network/record.txt). A link to no
    /// container is kept and resolves to nothing.
    pub fn dns_links(&self, c: &Container) -> Vec<(String, String)> {
        if !c.endpoints.iter().any(|e| has_zone(&e.network)) {
            return Vec::new();
        }
        c.links.iter().map(|(name, alias)| (alias.clone(), name.clone())).collect()
    }

    /// The IPv4 names of `c`'s `/etc/hosts` (`etc_hosts`), each with its address, in the
    /// file's order: what its resolver answers before it asks DNS.
    pub fn hosts_names(&self, c: &Container) -> Vec<(String, Ipv4Addr)> {
        let mut out = Vec::new();
        for l in self.etc_hosts(c, "").lines() {
            let mut words = l.split_whitespace();
            let Some(Ok(ip)) = words.next().map(str::parse::<Ipv4Addr>) else { continue };
            out.extend(words.map(|n| (n.to_string(), ip)));
        }
        out
    }

    /// `/etc/resolv.conf` inside a container: the embedded DNS for user-defined networks
    /// (whatever `--dns` says: dockerd forwards to those servers), else the host's file with
    /// its local nameservers taken out, and Google's public servers when none is left
    /// (moby `libnetwork/resolvconf`, `FilterResolvDNS`). `--network host` shares the host's.
    pub fn resolv_conf(&self, c: &Container, host_file: &str) -> String {
        if let Some(t) = self.joined_target(c) {
            return self.resolv_conf(t, host_file);
        }
        if c.mode == SandboxMode::Host {
            return host_file.to_string();
        }
        if self.has_embedded_dns(c) {
            return "nameserver 127.0.0.11\noptions ndots:0\n".into();
        }
        if !c.dns.is_empty() {
            return c.dns.iter().map(|ip| format!("nameserver {ip}\n")).collect();
        }
        let kept: Vec<&str> = host_file
            .lines()
            .filter(|l| {
                !l.split_whitespace().nth(1).is_some_and(|ns| l.starts_with("nameserver") && ns.starts_with("127."))
            })
            .collect();
        let mut out: String = kept.iter().map(|l| format!("{l}\n")).collect();
        if !kept.iter().any(|l| l.starts_with("nameserver")) {
            out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
        }
        out
    }

    /// `--ip` on the default bridge: 20.10's words, or the hyphenated ones of newer releases
    /// (moby `daemon/container_operations.go`).
    fn err_user_ip_on_default_bridge(&self) -> &'static str {
        match self.era() {
            super::era::Era::V20_10 => "user specified IP address is supported on user defined networks only",
            _ => super::ipam::ERR_USER_IP_ON_DEFAULT_BRIDGE,
        }
    }

    /// The ports of `c` the daemon has published: `-p` takes effect on a bridge network that
    /// reaches outside; on `--internal` networks only (or macvlan, none) nothing is published,
    /// and `docker port` shows nothing (recorded on 20.10: the DNAT is not written).
    pub fn published<'a>(&self, c: &'a Container) -> &'a [PortBinding] {
        let outside = c
            .endpoints
            .iter()
            .any(|e| self.network(&e.network).is_some_and(|n| n.driver == NetworkDriver::Bridge && !n.internal));
        if outside { &c.ports } else { &[] }
    }

    /// The endpoint that gives `c` its default route and holds its published ports: not
    /// internal first, then network name in lexical order (*Objects and names*).
    fn gateway_endpoint(&self, c: &Container) -> Option<usize> {
        c.endpoints
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| (self.network(&e.network).is_some_and(|n| n.internal), e.network.clone()))
            .map(|(i, _)| i)
    }

    /// The docker-proxy processes dockerd runs on the host for `c`: one per published TCP
    /// port, relaying to the container's address on its gateway network (`userland::proxy`).
    /// UDP ports have a proxy too, which the simulator does not run.
    pub fn proxies(&self, c: &Container) -> Vec<crate::userland::apps::Traffic> {
        let Some(gw) = self.gateway_endpoint(c).map(|i| &c.endpoints[i]) else { return Vec::new() };
        self.published(c)
            .iter()
            .filter(|p| p.proto == super::bridge::Proto::Tcp)
            .map(|p| crate::userland::apps::Traffic::DockerProxy {
                ns: self.host.clone(),
                host_ip: p.host_ip,
                host_port: p.host_port,
                container_ip: gw.ip,
                container_port: p.container_port,
            })
            .collect()
    }

    /// `docker port C [PORT[/PROTO]]`: each published port as `80/tcp -> 0.0.0.0:8080`, in
    /// docker/cli's natural order, or the host addresses of one port.
    pub fn port(&self, p: &cli::Port) -> Result<String, EngineError> {
        let c = self
            .container(&p.container)
            .ok_or_else(|| err(format!("Error response from daemon: No such container: {}", p.container)))?;
        let mut rows: Vec<(u16, &str, bool, String)> = Vec::new();
        for b in self.published(c) {
            for (i, a) in b.shown_addresses().into_iter().enumerate() {
                rows.push((b.container_port, b.proto.name(), i > 0, format!("{a}:{}", b.host_port)));
            }
        }
        rows.sort();
        let Some(want) = &p.port else {
            return Ok(rows.iter().map(|(port, proto, _, to)| format!("{port}/{proto} -> {to}\n")).collect());
        };
        let (num, proto) = want.split_once('/').unwrap_or((want.as_str(), "tcp"));
        let hits: Vec<&String> = rows
            .iter()
            .filter(|(port, pr, _, _)| num.parse::<u16>().is_ok_and(|n| n == *port) && *pr == proto)
            .map(|r| &r.3)
            .collect();
        if hits.is_empty() {
            return Err(err(format!("Error: No public port '{want}' published for {}", p.container)));
        }
        Ok(hits.iter().map(|h| format!("{h}\n")).collect())
    }

    /// Containers on a user-defined network get dockerd's resolver at 127.0.0.11; the
    /// default bridge copies the host's resolv.conf (*Embedded DNS*).
    pub fn has_embedded_dns(&self, c: &Container) -> bool {
        match c.kind {
            // An overlay is a user-defined network: connecting to one starts the resolver
            // (libnetwork `sandbox.populateNetworkResources`, `startResolver`).
            ContainerKind::Plain => c.endpoints.iter().any(|e| has_zone(&e.network)) || !c.swarm_ifnames.is_empty(),
            ContainerKind::Task => true,
            ContainerKind::Infra => false,
        }
    }

    /// `docker_gwbridge`, made when the node joins a swarm: a local bridge network with
    /// icc off and masquerading on (LN/default_gateway_linux.go createGWNetwork).
    pub fn ensure_gwbridge(&mut self) -> Result<(), EngineError> {
        if self.network(GWBRIDGE).is_some() {
            return Ok(());
        }
        let pool = self
            .ipam
            .request_pool(AddressSpace::Local, &IpamConfig::default(), &self.reserved, false, false)
            .map_err(|e| err(format!("Error response from daemon: {}", e.message)))?;
        let (id, mac) = (self.hex(64), self.mac());
        self.touch_host();
        self.networks.push(Network {
            name: GWBRIDGE.into(),
            id,
            driver: NetworkDriver::Bridge,
            gateway: self.ipam.gateway(pool),
            pool: Some(pool),
            internal: false,
            icc: false,
            masquerade: true,
            device: Some(GWBRIDGE.into()),
            mac,
            mtu: 1500,
            created: self.clock,
            parent: None,
            macvlan_mode: Default::default(),
            options: Default::default(),
            requested: None,
            labels: Default::default(),
            attached: 0,
        });
        Ok(())
    }

    /// The name the daemon gives the next interface of container `ci`'s sandbox (*Objects
    /// and names*): 20.10 counts the interfaces the sandbox has had (libnetwork
    /// `osl.nextIfIndex`, never lowered, so a disconnected network's name is not reused);
    /// later releases take the lowest unused number (`osl.generateIfaceName`).
    fn claim_ifname(&mut self, ci: usize) -> String {
        let c = &self.containers[ci];
        let name = if self.era() == super::era::Era::V20_10 {
            format!("eth{}", c.ifaces_made)
        } else {
            let used =
                |n: &String| c.endpoints.iter().any(|e| &e.ifname == n) || c.swarm_ifnames.iter().any(|s| &s.0 == n);
            (0..).map(|n| format!("eth{n}")).find(|n| !used(n)).unwrap_or_else(|| "eth0".into())
        };
        self.took_ifname(ci, &name);
        name
    }

    /// The name of a new interface of container `ci`'s sandbox: `asked` (a swarm's fixed
    /// `eth0`/`eth1`), counted as made, or the next one ([`Engine::claim_ifname`]).
    fn name_ifname(&mut self, ci: usize, asked: Option<&str>) -> String {
        let Some(name) = asked else { return self.claim_ifname(ci) };
        self.took_ifname(ci, name);
        name.to_string()
    }

    /// Interface `name` was made in container `ci`'s sandbox.
    fn took_ifname(&mut self, ci: usize, name: &str) {
        if let Some(n) = name.strip_prefix("eth").and_then(|n| n.parse::<u32>().ok()) {
            let c = &mut self.containers[ci];
            c.ifaces_made = c.ifaces_made.max(n + 1);
        }
    }

    /// The swarm gives container `name` an overlay endpoint, on an `internal` overlay or not:
    /// the interface the daemon names for it, or `ifname` (`None` for a container it does not
    /// have).
    pub fn swarm_interface(&mut self, name: &str, ifname: Option<&str>, internal: bool) -> Option<String> {
        let ci = self.container_idx(name).ok()?;
        let ifname = self.name_ifname(ci, ifname);
        self.containers[ci].swarm_ifnames.push((ifname.clone(), internal));
        self.touch(ci);
        Some(ifname)
    }

    /// The swarm took container `name`'s overlay endpoint `ifname` away.
    pub fn swarm_interface_gone(&mut self, name: &str, ifname: &str) {
        if let Ok(ci) = self.container_idx(name) {
            self.containers[ci].swarm_ifnames.retain(|n| n.0 != ifname);
            self.touch(ci);
        }
    }

    /// `docker network connect OV C` of a container that is not running: the daemon notes
    /// the overlay, which it does not find among its own networks, for the start (moby
    /// `ConnectToNetwork`); the same overlay again is no error.
    pub fn note_swarm_network(&mut self, name: &str, network: &str, aliases: Vec<String>) {
        if let Ok(ci) = self.container_idx(name) {
            let c = &mut self.containers[ci];
            if !c.parked_swarm.iter().any(|(n, _)| n == network) {
                c.parked_swarm.push((network.to_string(), aliases));
            }
            self.touch(ci);
        }
    }

    /// Container `name` stopped while on overlays (`nets`, with their aliases): it joins them
    /// again when it starts. Its docker_gwbridge endpoint, which was the overlays' way out,
    /// comes back with them, not as a network of its own.
    pub fn park_swarm(&mut self, name: &str, nets: Vec<(String, Vec<String>)>) {
        if let Ok(ci) = self.container_idx(name) {
            let c = &mut self.containers[ci];
            c.swarm_ifnames.clear();
            c.parked.retain(|p| p.0 != GWBRIDGE);
            c.parked_swarm.extend(nets);
            self.touch(ci);
        }
    }

    /// Container `name`'s start failed as it joined an overlay: `--rm` removes it, otherwise
    /// it stays `Created`, to join `nets` when it is started.
    pub fn start_failed(&mut self, name: &str, rm: bool, nets: Vec<(String, Vec<String>)>) {
        let Ok(ci) = self.container_idx(name) else { return };
        if rm {
            self.remove(name);
            return;
        }
        let c = &mut self.containers[ci];
        c.state = RunState::Created;
        c.swarm_ifnames.clear();
        c.ifaces_made = 0;
        c.parked_swarm = nets;
        self.touch(ci);
    }

    /// The overlays a container that started again is to join.
    pub fn take_parked_swarm(&mut self, name: &str) -> Vec<(String, Vec<String>)> {
        match self.container_idx(name) {
            Ok(ci) if self.containers[ci].state == RunState::Running => {
                std::mem::take(&mut self.containers[ci].parked_swarm)
            }
            _ => Vec::new(),
        }
    }

    /// Whether container `name`'s sandbox wants docker_gwbridge: it has an endpoint with no
    /// way out of its own (a non-internal overlay's) and none with a gateway (libnetwork
    /// `sandbox.needDefaultGW`: an endpoint on a non-internal bridge or macvlan network has
    /// one; an internal network's endpoint wants none).
    pub fn needs_gwbridge(&self, name: &str) -> bool {
        let Some(c) = self.container(name) else { return false };
        let gateway = c.endpoints.iter().any(|e| {
            e.network != GWBRIDGE && self.network(&e.network).is_some_and(|n| !n.internal && n.gateway.is_some())
        });
        c.swarm_ifnames.iter().any(|(_, internal)| !internal) && !gateway
    }

    /// Container `name` joins docker_gwbridge as libnetwork's default-gateway endpoint, on
    /// the next interface; or leaves it where it needs it no more.
    pub fn gwbridge_as_needed(&mut self, name: &str) -> Result<(), EngineError> {
        let Some(c) = self.container(name) else { return Ok(()) };
        let has = c.endpoints.iter().any(|e| e.network == GWBRIDGE);
        match (has, self.needs_gwbridge(name)) {
            (false, true) => {
                self.ensure_gwbridge()?;
                self.connect_with(GWBRIDGE, name, None, Vec::new(), None).map(|_| ())
            }
            (true, false) => self.disconnect(GWBRIDGE, name),
            _ => Ok(()),
        }
    }

    /// A sandbox swarm or libnetwork makes (a task, `ingress_sbox`), with its endpoint on
    /// docker_gwbridge named `gw_ifname` (none for a task only on internal networks); returns
    /// its address there.
    pub fn add_sandbox(
        &mut self,
        name: &str,
        image: &str,
        env: Vec<(String, String)>,
        kind: ContainerKind,
        gw_ifname: Option<&str>,
    ) -> Result<Ipv4Addr, EngineError> {
        if gw_ifname.is_some() {
            self.ensure_gwbridge()?;
        }
        let id = self.hex(64);
        let (lo, hi) = crate::kernel::defaults::EPHEMERAL;
        let dns_ports = (self.rng.range(lo as u64, hi as u64) as u16, self.rng.range(lo as u64, hi as u64) as u16);
        self.made += 1;
        self.containers.push(Container {
            seq: self.made,
            name: name.to_string(),
            id,
            image: image.to_string(),
            mode: SandboxMode::Own,
            endpoints: Vec::new(),
            ports: Vec::new(),
            env,
            dns_ports,
            kind,
            hostname: None,
            extra_hosts: Vec::new(),
            links: Vec::new(),
            state: RunState::Running,
            created: self.clock,
            started: self.clock,
            finished: crate::engine::SimTime::ZERO,
            open_stdin: true,
            tty: false,
            dns: Vec::new(),
            mac_address: None,
            network_none: false,
            parked: Vec::new(),
            parked_ports: Vec::new(),
            labels: Default::default(),
            command: super::images::default_command(image),
            swarm_ifnames: Vec::new(),
            ifaces_made: 0,
            parked_swarm: Vec::new(),
            network_mode: None,
            auto_remove: false,
        });
        self.touch(self.containers.len() - 1);
        if let Some(gw) = gw_ifname
            && let Err(e) = self.connect_with(GWBRIDGE, name, None, Vec::new(), Some(gw.to_string()))
        {
            self.containers.pop();
            return Err(e);
        }
        Ok(self.containers.last().and_then(|c| c.endpoints.first()).map(|e| e.ip).unwrap_or(Ipv4Addr::UNSPECIFIED))
    }

    /// A swarm task's `--publish mode=host` ports: bound by this daemon exactly as
    /// `docker run -p` binds them, on the sandbox's docker_gwbridge endpoint (its gateway
    /// endpoint here), so the bridge driver programs the DNAT, the DOCKER accept and (20.10) the
    /// hairpin MASQUERADE for docker_gwbridge (20.10.24 fixture
    /// `lab7-host-iptables-save-with-services.txt`).
    pub fn publish_sandbox_ports(&mut self, name: &str, ports: Vec<PortBinding>) -> Result<(), EngineError> {
        let ci = self.container_idx(name)?;
        for p in &ports {
            if self.port_taken(p) {
                let c = &self.containers[ci];
                return Err(err(format!(
                    "Error response from daemon: driver failed programming external connectivity on endpoint gateway_{} ({}): Bind for 0.0.0.0:{} failed: port is already allocated",
                    &c.id[..12],
                    c.endpoints.iter().find(|e| e.network == GWBRIDGE).map(|e| e.id.as_str()).unwrap_or_default(),
                    p.host_port
                )));
            }
        }
        self.containers[ci].ports.extend(ports);
        self.touch(ci);
        Ok(())
    }

    /// A foreground container's program ended with `code`: it stops as `docker stop` leaves it.
    /// Returns whether it was running.
    pub fn exited(&mut self, name: &str, code: u8) -> bool {
        let running = self.container(name).is_some_and(|c| c.state == RunState::Running);
        running && self.stop(name, code).is_ok()
    }

    /// `--rm`: a container stopped or killed goes once its process has ended (moby
    /// `daemon/monitor.go` removes an `AutoRemove` container on its exit; `docker restart`
    /// keeps it, as `restart` is not an exit the daemon acts on).
    fn auto_remove(&mut self, name: &str) {
        if self.container(name).is_some_and(|c| c.auto_remove && c.state != RunState::Running) {
            let _ = self.rm(name);
        }
    }

    /// `docker rm -f NAME`, for the simulator's own use (`--rm`). Returns whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        self.rm(name).is_ok()
    }

    /// A task's container runs its service's command instead of its image's.
    pub fn set_command(&mut self, name: &str, command: Vec<String>) {
        if let Some(c) = self.containers.iter_mut().find(|c| c.name == name) {
            c.command = command;
        }
    }

    /// A swarm sandbox goes (its task stopped, or the node left).
    pub fn remove_sandbox(&mut self, name: &str) {
        let _ = self.rm(name);
    }

    /// What the embedded DNS answers on each user-defined network: every container there
    /// by name, short ID and alias (an alias several containers share answers with all of
    /// them). One pass over the containers, so a step costs the daemon's size, not its square.
    pub fn dns_zones(&self) -> Map<String, crate::userland::apps::DnsZone> {
        let mut zones: Map<String, crate::userland::apps::DnsZone> = Map::default();
        for other in &self.containers {
            for oe in other.endpoints.iter().filter(|e| has_zone(&e.network)) {
                let z = zones
                    .entry(oe.network.clone())
                    .or_insert_with(|| crate::userland::apps::DnsZone::new(self.zone_key(&oe.network)));
                z.add(other.seq, zone_entry(other, oe));
            }
        }
        zones
    }

    /// The changes of the zones since the last call: each endpoint that came or went on a
    /// network with embedded DNS, in order. Applied to the zones as they were, they give
    /// [`Engine::dns_zones`] (a step changes a zone by what it did, not by the zone).
    pub fn take_zone_ops(&mut self) -> Vec<ZoneOp> {
        std::mem::take(&mut self.zone_ops)
    }

    /// The containers the commands since the last call made, changed or took away, by
    /// `seq` (`Container::seq`).
    pub fn take_touched_containers(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.touched_seqs)
    }

    /// The container at place `seq`, if it is still there.
    pub fn container_by_seq(&self, seq: u64) -> Option<&Container> {
        self.containers.binary_search_by_key(&seq, |c| c.seq).ok().map(|i| &self.containers[i])
    }

    /// The zones of the networks whose names `c`'s embedded DNS answers, in the order it
    /// joined them (the first that knows a name wins: *Embedded DNS*).
    pub fn dns_zone_keys(&self, c: &Container) -> Vec<String> {
        c.endpoints.iter().filter(|e| has_zone(&e.network)).map(|e| self.zone_key(&e.network)).collect()
    }

    /// `DnsZone::key` of a network of this daemon.
    fn zone_key(&self, network: &str) -> String {
        format!("{}{network}", self.ns_prefix)
    }

    /// The server a container's image runs (webapp, mysql, a static web server). Its
    /// sandbox's embedded DNS is the director's: a task's names come from the swarm.
    pub fn servers(&self, c: &Container) -> Vec<crate::userland::apps::Traffic> {
        use crate::userland::apps::{MysqlTarget, Traffic};
        let ns = self.sandbox_ns(c);
        let mut out = Vec::new();
        if c.kind == ContainerKind::Infra {
            return out;
        }
        let env = |k: &str, d: &str| {
            c.env.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_else(|| d.to_string())
        };
        match image_role(&c.image) {
            Some(r @ ImageRole::Webapp) => out.push(Traffic::Http {
                ns,
                port: r.port(),
                mysql: Some(MysqlTarget {
                    host: env("DB_HOST", "mysql"),
                    user: env("DB_USER", "root"),
                    password: env("DB_PASSWORD", "edureka"),
                    database: env("DB_NAME", "HandsOn"),
                    table: env("DB_TABLE", "course_details"),
                }),
                server: Default::default(),
            }),
            Some(r @ ImageRole::Mysql) => {
                out.push(Traffic::MysqlServer { ns, port: r.port(), password: env("MYSQL_ROOT_PASSWORD", "edureka") })
            }
            Some(ImageRole::Listener(port)) => {
                out.push(Traffic::TcpListen { ns, port, reply: None, close_after_reply: false })
            }
            Some(r @ ImageRole::Web) => {
                out.push(Traffic::Http { ns, port: r.port(), mysql: None, server: super::images::web_server(&c.image) })
            }
            None => {}
        }
        out
    }

    /// `docker exec C CMD`: the command as a client app in the container's namespace.
    pub fn exec(
        &self,
        x: &cli::Exec,
        at: crate::engine::SimTime,
    ) -> Result<crate::userland::apps::Traffic, EngineError> {
        let c = self
            .container(&x.container)
            .ok_or_else(|| err(format!("Error response from daemon: No such container: {}", x.container)))?;
        if c.state != RunState::Running {
            return Err(err(format!("Error response from daemon: Container {} is not running", c.id)));
        }
        let ns = self.sandbox_ns(c);
        app_traffic(x.app_command(), &x.command, ns, Some(&c.image), &self.hostname(c), at)
    }
}

pub use super::images::ImageRole;

/// What a container of `image` runs, as the catalogue has it (`docker::images`).
pub fn image_role(image: &str) -> Option<ImageRole> {
    super::images::find(image).and_then(|i| i.role)
}

/// What `nc -e PROG [ARGS]` writes to each connection, for the programs the simulator runs
/// there: busybox's `echo` (`-n` leaves out the newline) and `hostname` (the container's,
/// `hostname`). They read nothing, so what they write does not depend on the peer.
fn nc_exec_output(prog: &[String], hostname: &str) -> Result<String, EngineError> {
    let name = prog[0].rsplit('/').next().unwrap_or_default();
    match (name, &prog[1..]) {
        ("echo", [n, rest @ ..]) if n == "-n" => Ok(rest.join(" ")),
        ("echo", args) => Ok(format!("{}\n", args.join(" "))),
        ("hostname", []) => Ok(format!("{hostname}\n")),
        _ => Err(err(format!(
            "netsim: nc -e {}: what it does with the connection is not modelled; -e runs echo or hostname",
            prog.join(" ")
        ))),
    }
}

/// A recognised command (`ping`, `curl`, `nslookup`, `mysql`) as a client app in `ns`: a
/// container of `image`, or a host (`None`), whose name is `hostname`.
pub fn app_traffic(
    cmd: Option<Result<cli::AppCommand, cli::CliError>>,
    argv: &cli::Argv,
    ns: String,
    image: Option<&str>,
    hostname: &str,
    at: crate::engine::SimTime,
) -> Result<crate::userland::apps::Traffic, EngineError> {
    use crate::userland::apps::Traffic;
    let busybox_ping = image.map(super::images::ping_flavour) == Some(crate::userland::proto::ping::Flavour::Busybox);
    let cmd = match cmd {
        Some(Ok(c)) => c,
        // busybox's applet reads a count or a time with getopt32's `xatou`, whose words
        // for what is not a number differ from iputils' (libbb/xatonum_template.c).
        Some(Err(e))
            if busybox_ping && e.message.starts_with("ping: invalid argument: '") && e.message.ends_with('\'') =>
        {
            let v = e.message["ping: invalid argument: '".len()..].split('\'').next().unwrap_or_default();
            return Err(err(format!("ping: invalid number '{v}'")));
        }
        Some(Err(e)) => return Err(err(e.message)),
        None => {
            let prog = argv.words.first().cloned().unwrap_or_default();
            return Err(err(format!(
                "netsim: `{prog}` is not one of the programs the simulator runs (ping, curl, wget, nslookup, dig, mysql, nc, traceroute)"
            )));
        }
    };
    Ok(match cmd {
        cli::AppCommand::Ping(p) => {
            let flavour = image.map(super::images::ping_flavour).unwrap_or_default();
            if flavour == crate::userland::proto::ping::Flavour::Busybox && p.pmtudisc.is_some() {
                // busybox's applet has no `-M` (`networking/ping.c`'s OPT_STRING).
                return Err(err("ping: unrecognized option: M".to_string()));
            }
            // iputils takes counts up to i64::MAX; a simulated run of billions of echoes would
            // only grow, so a command gets the same cap as a scenario's traffic item.
            let interval = p.interval.unwrap_or(crate::engine::SimTime::from_secs(1));
            let deadline = p.deadline.map(crate::engine::SimTime::from_secs);
            let max = crate::userland::apps::MAX_COUNT;
            // Without `-c`, `-w` sends until its deadline (count 0); without either, iputils
            // sends until interrupted, which a step cannot be: 4.
            let count = match (p.count, deadline) {
                (Some(c), _) => c,
                (None, Some(d)) => {
                    if crate::userland::apps::ping_requests(interval, d) > u64::from(max) {
                        return Err(err(format!(
                            "netsim: ping -w {}: the simulator sends at most {max} echo requests for one command",
                            d.as_nanos() / 1_000_000_000
                        )));
                    }
                    0
                }
                (None, None) => 4,
            };
            let Some(count) = u32::try_from(count).ok().filter(|c| *c <= max) else {
                return Err(err(format!(
                    "netsim: ping -c {count}: the simulator sends at most {max} echo requests for one command"
                )));
            };
            let size = p.size.unwrap_or(56);
            let max = crate::userland::apps::PING_MAX_SIZE as u64;
            if size > max {
                return Err(err(format!("ping: packet size {size} is too large. Maximum is {max}")));
            }
            Traffic::Ping {
                at,
                ns,
                dst: p.host,
                count,
                interval,
                size: size as usize,
                pmtudisc: p.pmtudisc.unwrap_or_default(),
                wait: p.wait,
                deadline,
                quiet: p.quiet,
                flavour,
                ttl: p.ttl,
                numeric: p.numeric,
                interface: p.interface,
            }
        }
        cli::AppCommand::Curl(c) => {
            let url = c.urls.first().ok_or_else(|| err("curl: no URL specified!"))?;
            Traffic::Curl {
                at,
                ns,
                url: format!("http://{}:{}{}", url.host, url.effective_port(), url.path),
                data: c.body(),
                method: (c.request.is_some() || c.head).then(|| c.method().to_string()),
                wget: None,
                quiet_errors: c.silent && !c.show_error,
                out: crate::userland::apps::CurlOut {
                    head: c.head,
                    include: c.include,
                    fail: c.fail,
                    output: c.output.clone(),
                    write_out: c.write_out.clone(),
                },
                max_time: match &c.max_time {
                    None => None,
                    Some(v) => Some(
                        v.parse::<f64>()
                            .ok()
                            .filter(|s| s.is_finite() && *s >= 0.0)
                            .map(|s| crate::engine::SimTime::from_nanos((s * 1e9) as u64))
                            .ok_or_else(|| {
                                err(format!("curl: option --max-time: expected a proper numerical parameter ({v})"))
                            })?,
                    ),
                },
            }
        }
        cli::AppCommand::Wget(w) => Traffic::Curl {
            at,
            ns,
            url: format!("http://{}:{}{}", w.url.host, w.url.effective_port(), w.url.path),
            data: w.post_data,
            method: None,
            wget: Some(w.opts),
            max_time: None,
            quiet_errors: false,
            out: Default::default(),
        },
        cli::AppCommand::Nslookup(n) => Traffic::Nslookup {
            at,
            ns,
            name: n.name,
            flavour: image.map(super::images::nslookup_flavour).unwrap_or_default(),
            server: n.server,
            opts: crate::userland::proto::nslookup::Opts {
                types: n.types,
                port: n.port,
                timeout: n.timeout,
                retry: n.retry,
            },
        },
        // A host's traceroute is Debian's (traceroute 2.1: probes in parallel, 60-byte
        // packets), not busybox's applet.
        cli::AppCommand::Traceroute(_) if image.is_none() => {
            return Err(err(
                "netsim: traceroute on a host (Debian's traceroute package) is not modelled; busybox's runs in a container: docker exec NAME traceroute HOST"
                    .to_string(),
            ));
        }
        cli::AppCommand::Traceroute(t) => Traffic::Traceroute { at, ns, host: t.host, opts: t.opts },
        cli::AppCommand::Dig(dig) => Traffic::Dig { at, ns, dig },
        cli::AppCommand::Nc(n) => match n.mode {
            cli::NcMode::Zero | cli::NcMode::Connect => Traffic::Nc {
                at,
                ns,
                host: n.host,
                port: n.port,
                verbose: n.opts.verbose,
                wait: n.opts.wait,
                numeric: n.opts.numeric,
                zero: n.mode == cli::NcMode::Zero,
            },
            cli::NcMode::Listen { port, keep } => Traffic::NcListen {
                at,
                ns,
                port,
                verbose: n.opts.verbose,
                numeric: n.opts.numeric,
                keep,
                reply: n.exec.as_deref().map(|p| nc_exec_output(p, hostname)).transpose()?,
            },
        },
        cli::AppCommand::Mysql(m) => Traffic::Mysql {
            at,
            ns,
            host: m.host.unwrap_or_else(|| "localhost".into()),
            port: m.port.unwrap_or(3306),
            user: m.user.unwrap_or_else(|| "root".into()),
            password: m.password.unwrap_or_default(),
            database: m.database,
            queries: m
                .execute
                .map(|q| q.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
        },
    })
}

/// The sandbox's redirect of 127.0.0.11:53 to dockerd's sockets, as `iptables-save` shows it
/// in a container (LN/resolver_unix.go setupIptablesNAT).
pub(crate) fn embedded_dns_rules(plan: &mut Plan, ns: &str, (uport, tport): (u16, u16)) {
    // Joined from pieces rather than formatted: every `docker run` compiles these again for
    // each container of the daemon (the text is the same as `format!` would make).
    let dns = super::EMBEDDED_DNS.to_string();
    let (u, t) = (uport.to_string(), tport.to_string());
    let d32 = [dns.as_str(), "/32"].concat();
    for rule in [
        "-N DOCKER_OUTPUT".to_string(),
        "-N DOCKER_POSTROUTING".to_string(),
        ["-A OUTPUT -d ", &d32, " -j DOCKER_OUTPUT"].concat(),
        ["-A POSTROUTING -d ", &d32, " -j DOCKER_POSTROUTING"].concat(),
        ["-A DOCKER_OUTPUT -d ", &d32, " -p tcp -m tcp --dport 53 -j DNAT --to-destination ", &dns, ":", &t].concat(),
        ["-A DOCKER_OUTPUT -d ", &d32, " -p udp -m udp --dport 53 -j DNAT --to-destination ", &dns, ":", &u].concat(),
        ["-A DOCKER_POSTROUTING -s ", &d32, " -p tcp -m tcp --sport ", &t, " -j SNAT --to-source :53"].concat(),
        ["-A DOCKER_POSTROUTING -s ", &d32, " -p udp -m udp --sport ", &u, " -j SNAT --to-source :53"].concat(),
    ] {
        plan.iptables.push(crate::plan::IptablesPlan { ns: ns.to_string(), table: "nat".into(), rule });
    }
}

#[cfg(test)]
mod tests;

/// The driver's name as `docker network ls` prints it.
pub fn network_driver_name(d: NetworkDriver) -> &'static str {
    match d {
        NetworkDriver::Bridge => "bridge",
        NetworkDriver::Host => "host",
        NetworkDriver::Null => "null",
        NetworkDriver::Overlay => "overlay",
        NetworkDriver::Macvlan => "macvlan",
        NetworkDriver::Ipvlan => "ipvlan",
    }
}

/// A command's name as typed (`swarm leave`, `node update`), for messages.
pub fn command_name(c: &DockerCommand) -> &'static str {
    use DockerCommand as D;
    match c {
        D::SwarmInit(_) => "swarm init",
        D::SwarmJoin(_) => "swarm join",
        D::SwarmJoinToken(_) => "swarm join-token",
        D::SwarmLeave(_) => "swarm leave",
        D::NetworkCreate(_) => "network create",
        D::NetworkRm(_) => "network rm",
        D::NetworkLs(_) => "network ls",
        D::NetworkInspect(_) => "network inspect",
        D::NetworkConnect(_) => "network connect",
        D::NetworkDisconnect(_) => "network disconnect",
        D::NetworkPrune(_) => "network prune",
        D::Run(_) => "run",
        D::Create(_) => "create",
        D::Rm(_) => "rm",
        D::Stop(_) => "stop",
        D::Start(_) => "start",
        D::Restart(_) => "restart",
        D::Kill(_) => "kill",
        D::Exec(_) => "exec",
        D::Ps(_) => "ps",
        D::Inspect(_) => "inspect",
        D::Port(_) => "port",
        D::Logs(_) => "logs",
        D::ServiceCreate(_) => "service create",
        D::ServiceScale(_) => "service scale",
        D::ServiceUpdate(_) => "service update",
        D::ServiceInspect(_) => "service inspect",
        D::ServiceRm(_) => "service rm",
        D::ServicePs(_) => "service ps",
        D::ServiceLs(_) => "service ls",
        D::ServiceLogs(_) => "service logs",
        D::NodeLs(_) => "node ls",
        D::NodePs(_) => "node ps",
        D::NodeInspect(_) => "node inspect",
        D::NodeUpdate(_) => "node update",
        D::Version(_) => "version",
        D::Info(_) => "info",
        D::Images(_) => "images",
        D::Pull(_) => "pull",
    }
}

/// `docker ps`'s STATUS of a container, and its `.State`.
/// docker/cli's `DisplayablePorts` (`cli/command/formatter/container.go`): ports sorted by
/// container port, address, host port and protocol; a port published on the same number
/// (or not published) joins a range of consecutive ones with its address and protocol,
/// shown first, in the order the ranges began; the rest are `ADDR:HOST->PORT/PROTO`, after.
fn displayable_ports(mut ports: Vec<(u16, String, u16, &'static str)>) -> String {
    ports.sort();
    let form = |key: &(String, &str), first: u16, last: u16| {
        let group = if first == last { first.to_string() } else { format!("{first}-{last}") };
        match key.0.is_empty() {
            true => format!("{group}/{}", key.1),
            false => format!("{}:{group}->{group}/{}", key.0, key.1),
        }
    };
    let mut groups: Vec<((String, &str), u16, u16)> = Vec::new();
    let (mut result, mut mappings) = (Vec::new(), Vec::new());
    for (private, ip, public, proto) in ports {
        if !ip.is_empty() && public != private {
            mappings.push(format!("{ip}:{public}->{private}/{proto}"));
            continue;
        }
        let key = (ip, proto);
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, private, private)),
            Some(g) if private == g.2.wrapping_add(1) => g.2 = private,
            Some(g) => {
                result.push(form(&g.0, g.1, g.2));
                (g.1, g.2) = (private, private);
            }
        }
    }
    result.extend(groups.iter().map(|g| form(&g.0, g.1, g.2)));
    result.extend(mappings);
    result.join(", ")
}

/// Whether container `c` runs a web image's server as the image starts it (nginx, httpd),
/// whose log the simulator writes (`userland::proto::weblog`) once its sandbox is up.
pub fn writes_web_log(c: &Container) -> bool {
    image_role(&c.image) == Some(ImageRole::Web) && c.command == super::images::default_command(&c.image)
}

/// Whether a container's process is known to print nothing: a shell without a terminal
/// (it waits, or exits at once, without a prompt) or `sleep`.
pub fn prints_nothing(c: &Container) -> bool {
    (super::images::bare_shell(&c.command) && !c.tty)
        || c.command.first().is_some_and(|p| p.rsplit('/').next() == Some("sleep"))
}

/// `docker ps`'s word for a state (`--filter status=`, `{{.State}}`).
fn state_name(state: RunState) -> &'static str {
    match state {
        RunState::Running => "running",
        RunState::Created => "created",
        RunState::Exited(_) => "exited",
    }
}

/// go-units' `HumanDuration` (docker/go-units `duration.go`), which `docker ps` uses for
/// CREATED and STATUS.
pub fn human_duration(d: crate::engine::SimTime) -> String {
    let secs = d.as_nanos() / 1_000_000_000;
    let minutes = secs / 60;
    // `math.Round(d.Hours())`.
    let hours = (d.as_nanos() + 1_800_000_000_000) / 3_600_000_000_000;
    match () {
        _ if secs < 1 => "Less than a second".to_string(),
        _ if secs == 1 => "1 second".to_string(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if minutes == 1 => "About a minute".to_string(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

/// An address a command gave, where only IPv4 is modelled.
pub(crate) fn ipv4_only(a: IpAddr) -> Result<Ipv4Addr, EngineError> {
    match a {
        IpAddr::V4(v) => Ok(v),
        IpAddr::V6(_) => Err(err("netsim: IPv6 is not modelled")),
    }
}

/// The IPAM request of `docker network create`'s `--subnet`, `--ip-range`, `--gateway` and
/// `--aux-address`, checked as libnetwork's `ipamapi` checks it; the default config without a
/// `--subnet`.
pub(super) fn ipam_config(pool: Option<&cli::IpamPool>) -> Result<IpamConfig, EngineError> {
    let mut cfg = IpamConfig::default();
    let Some(p) = pool else { return Ok(cfg) };
    cfg.subnet = Some(ipam::checked(ipv4_only(p.subnet.addr)?, p.subnet.prefix_len).map_err(|e| err(e.to_string()))?);
    cfg.ip_range = match &p.ip_range {
        Some(r) => Some(ipam::checked(ipv4_only(r.addr)?, r.prefix_len).map_err(|e| err(e.to_string()))?),
        None => None,
    };
    cfg.gateway = p.gateway.map(ipv4_only).transpose()?;
    for (k, a) in &p.aux_addresses {
        cfg.aux.push((k.clone(), ipv4_only(*a)?));
    }
    Ipam::validate(&cfg).map_err(|e| err(format!("Error response from daemon: {}", e.message)))?;
    Ok(cfg)
}

/// Whether a network's containers are known to the embedded DNS (user-defined networks: not
/// the default bridge, nor docker_gwbridge).
fn has_zone(network: &str) -> bool {
    network != "bridge" && network != GWBRIDGE
}

/// What container `c`'s endpoint `e` gives its network's zone: its name, its short ID, its
/// aliases (`--network-alias`, shared by the containers that give it).
fn zone_entry(c: &Container, e: &Endpoint) -> crate::userland::dns_zone::ZoneEntry {
    let names = [c.name.as_str(), &c.id[..12]]
        .into_iter()
        .chain(e.aliases.iter().map(String::as_str))
        .map(|n| (n.to_string(), e.aliases.iter().any(|a| a == n)))
        .collect();
    crate::userland::dns_zone::ZoneEntry { names, ip: e.ip }
}

/// `docker ps`'s COMMAND: the command cut to 20 characters, quoted (docker/cli
/// `cli/command/formatter/container.go`, `Command`: `Ellipsis(command, 20)` and
/// `strconv.Quote`).
fn ps_command(words: &[String]) -> String {
    let cmd = words.join(" ");
    let cut: String = match cmd.chars().count() > 20 {
        true => cmd.chars().take(19).chain(std::iter::once('…')).collect(),
        false => cmd,
    };
    format!("{cut:?}")
}

/// `docker ps --filter KEY=VALUE`…, as the daemon applies them (moby `daemon/list.go`,
/// `foldFilter` and `includeContainerInList`): values of one key are alternatives, keys
/// must all hold; `status=` lists stopped containers too.
struct PsFilter {
    /// Each key with its values, as `filters.Args` holds them.
    terms: std::collections::BTreeMap<String, Vec<String>>,
}

impl PsFilter {
    /// The keys the daemon takes (`acceptedPsFilterTags`); the ones the simulator applies
    /// are `MODELLED`.
    const ACCEPTED: &'static [&'static str] = &[
        "ancestor",
        "before",
        "exited",
        "health",
        "id",
        "isolation",
        "is-task",
        "label",
        "name",
        "network",
        "publish",
        "expose",
        "since",
        "status",
        "volume",
    ];
    const MODELLED: &'static [&'static str] = &["ancestor", "exited", "id", "label", "name", "network", "status"];

    fn parse(filters: &[String]) -> Result<PsFilter, EngineError> {
        let mut terms: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for f in filters {
            // The CLI refused a filter without `=` (`opts.FilterOpt.Set`).
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            let k = k.trim().to_ascii_lowercase();
            if !Self::ACCEPTED.contains(&k.as_str()) {
                return Err(err(format!("Error response from daemon: Invalid filter '{k}'")));
            }
            if !Self::MODELLED.contains(&k.as_str()) {
                return Err(err(format!("netsim: `docker ps --filter {k}=…` is not modelled")));
            }
            let v = v.trim().to_string();
            let valid_state = ["paused", "restarting", "removing", "running", "dead", "created", "exited"];
            if k == "status" && !valid_state.contains(&v.as_str()) {
                return Err(err(format!("Error response from daemon: Invalid filter 'status={v}'")));
            }
            if k == "exited" && v.parse::<i64>().is_err() {
                return Err(err(format!("Error response from daemon: strconv.Atoi: parsing \"{v}\": invalid syntax")));
            }
            if matches!(k.as_str(), "name" | "id") {
                pattern_match(&v, "")?;
            }
            terms.entry(k).or_default().push(v);
        }
        Ok(PsFilter { terms })
    }

    /// A status filter lists stopped containers without `-a` (`config.All = true`).
    fn wants_all(&self) -> bool {
        self.terms.contains_key("status")
    }

    fn keeps(&self, e: &Engine, c: &Container) -> bool {
        let image = super::images::find(&c.image);
        self.terms.iter().all(|(key, values)| {
            values.iter().any(|v| match key.as_str() {
                "name" => matches(v, &c.name) || matches(v, &format!("/{}", c.name)),
                "id" => matches(v, &c.id),
                "status" => state_name(c.state) == v.as_str(),
                // Only a container that ran and stopped has an exit code to match.
                "exited" => matches!(c.state, RunState::Exited(code) if v.parse::<i64>() == Ok(i64::from(code))),
                "label" => super::label_matches(&c.labels, v),
                // The container's configured networks: a stopped or never started one keeps
                // them (`NetworkSettings.Networks`).
                "network" => {
                    let nets = c.endpoints.iter().map(|ep| &ep.network).chain(c.parked.iter().map(|p| &p.0));
                    nets.into_iter().any(|n| n == v || e.network(n).is_some_and(|x| x.id.starts_with(v.as_str())))
                }
                "ancestor" => image.is_some() && super::images::find(v) == image,
                _ => true,
            })
        })
    }
}

/// `filters.Args.Match`: the exact value, or the value as a regular expression found anywhere
/// in `source`. The simulator reads the expressions students write for names: literal text,
/// `.` for any character, anchored with `^` or `$`.
fn matches(pattern: &str, source: &str) -> bool {
    pattern == source || pattern_match(pattern, source).unwrap_or(false)
}

pub(super) fn pattern_match(pattern: &str, source: &str) -> Result<bool, EngineError> {
    let start = pattern.starts_with('^');
    let end = pattern.ends_with('$') && pattern.len() > usize::from(start);
    let body: Vec<char> = pattern[usize::from(start)..pattern.len() - usize::from(end)].chars().collect();
    if body.iter().any(|ch| "\\[]()*+?{}|^$".contains(*ch)) {
        return Err(err(format!(
            "netsim: the filter {pattern:?} is a regular expression; only literal text, `.`, `^` and `$` are modelled"
        )));
    }
    let src: Vec<char> = source.chars().collect();
    let at = |i: usize| src.len() >= i + body.len() && body.iter().zip(&src[i..]).all(|(p, c)| *p == '.' || p == c);
    let last = src.len().saturating_sub(body.len());
    Ok(match (start, end) {
        (true, true) => src.len() == body.len() && at(0),
        (true, false) => at(0),
        (false, true) => src.len() >= body.len() && at(last),
        (false, false) => (0..=last).any(at),
    })
}
