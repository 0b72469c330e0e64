//! Public value types produced by the parser.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::image::ImageRef;

/// A byte range `(start, len)` within the parsed command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(start: usize, len: usize) -> Self {
        Span { start, len }
    }

    pub const fn end(self) -> usize {
        self.start + self.len
    }

    /// Smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        let start = self.start.min(other.start);
        let end = self.end().max(other.end());
        Span::new(start, end - start)
    }
}

/// A parse error: Docker's (or the tool's) own message, plus the location of the offending
/// token in the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub span: Span,
}

impl CliError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        CliError { message: message.into(), span }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// A container command line (`docker run IMAGE CMD…`, `docker exec C CMD…`).
///
/// `spans` locate each word in the source line. They are location metadata only:
/// equality compares `words` alone, so tests can build expected values with
/// [`Argv::from_words`].
#[derive(Debug, Clone, Default)]
pub struct Argv {
    pub words: Vec<String>,
    pub spans: Vec<Span>,
}

impl PartialEq for Argv {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl Eq for Argv {}

impl Argv {
    pub fn from_words<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Argv { words: words.into_iter().map(Into::into).collect(), spans: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Span of word `i` (a zero-length span at 0 when unknown).
    pub fn span(&self, i: usize) -> Span {
        self.spans.get(i).copied().unwrap_or_default()
    }

    /// Span covering the whole argv.
    pub fn full_span(&self) -> Span {
        match (self.spans.first(), self.spans.last()) {
            (Some(a), Some(b)) => a.to(*b),
            _ => Span::default(),
        }
    }
}

/// One parsed `docker …` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerCommand {
    SwarmInit(SwarmInit),
    SwarmJoin(SwarmJoin),
    SwarmJoinToken(SwarmJoinToken),
    SwarmLeave(SwarmLeave),
    NetworkCreate(NetworkCreate),
    NetworkRm(NetworkRm),
    NetworkLs(NetworkLs),
    NetworkInspect(NetworkInspect),
    NetworkConnect(NetworkConnect),
    NetworkDisconnect(NetworkDisconnect),
    /// `docker network prune [-f]`: `true` when forced (no prompt).
    NetworkPrune(bool),
    Run(Box<Run>),
    /// `docker create`: a [`Run`] whose container is made and left `Created`
    /// (`detach` is always false).
    Create(Box<Run>),
    Rm(Rm),
    Stop(Stop),
    Start(Start),
    /// `docker restart`: a stop, then a start.
    Restart(Stop),
    /// `docker kill`: SIGKILL, no grace period.
    Kill(Kill),
    Exec(Exec),
    Ps(Ps),
    Inspect(Inspect),
    Port(Port),
    Logs(Logs),
    ServiceCreate(Box<ServiceCreate>),
    ServiceScale(ServiceScale),
    ServiceUpdate(Box<ServiceUpdate>),
    ServiceInspect(ServiceInspect),
    ServiceRm(ServiceRm),
    ServicePs(ServicePs),
    ServiceLs(ServiceLs),
    ServiceLogs(ServiceLogs),
    NodeLs(NodeLs),
    NodePs(NodePs),
    NodeInspect(NodeInspect),
    NodeUpdate(NodeUpdate),
    /// `docker version [-f FORMAT]`.
    Version(Option<String>),
    /// `docker info [-f FORMAT]`.
    Info(Option<String>),
    Images(Images),
    Pull(Pull),
}

/// `docker images` / `docker image ls [-a] [-q] [--no-trunc] [--format F] [REPOSITORY[:TAG]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// A `path.Match` pattern for `REPOSITORY[:TAG]` (the `reference` filter).
    pub reference: Option<String>,
    pub quiet: bool,
    pub no_trunc: bool,
    pub format: Option<String>,
}

/// `docker pull [-q] [-a] NAME[:TAG|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub image: ImageRef,
    pub quiet: bool,
}

/// A flag Docker accepts that this module does not model; kept verbatim (canonical long
/// name, value; bool flags carry `"true"`/`"false"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherFlag {
    pub name: String,
    pub value: String,
}

// ---------------------------------------------------------------------------------------
// swarm

/// Host part of a swarm address: an IP or a network interface name (resolved later by
/// the simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrHost {
    Ip(IpAddr),
    Interface(String),
}

/// `HOST[:PORT]` as used by `--advertise-addr`, `--listen-addr`, `swarm join HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    pub host: AddrHost,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeAvailability {
    #[default]
    Active,
    Pause,
    Drain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    Worker,
    Manager,
}

/// `docker swarm init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmInit {
    pub advertise_addr: Option<NodeAddr>,
    /// Default `0.0.0.0:2377`.
    pub listen_addr: NodeAddr,
    pub data_path_addr: Option<AddrHost>,
    /// `None` = daemon default (4789).
    pub data_path_port: Option<u32>,
    /// Networks (masked), as pflag's ipNetSlice stores them.
    pub default_addr_pools: Vec<Cidr>,
    /// Default 24.
    pub default_addr_pool_mask_length: u32,
    pub force_new_cluster: bool,
    pub autolock: bool,
    pub availability: NodeAvailability,
    pub other_flags: Vec<OtherFlag>,
}

/// `docker swarm join`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmJoin {
    pub token: Option<String>,
    /// The manager to join; `port` defaults to 2377 when omitted.
    pub remote: NodeAddr,
    pub advertise_addr: Option<NodeAddr>,
    pub listen_addr: NodeAddr,
    pub data_path_addr: Option<AddrHost>,
    pub availability: NodeAvailability,
}

/// `docker swarm join-token worker|manager`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmJoinToken {
    pub role: NodeRole,
    pub rotate: bool,
    pub quiet: bool,
}

/// `docker swarm leave`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmLeave {
    pub force: bool,
}

// ---------------------------------------------------------------------------------------
// networks

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkDriver {
    #[default]
    Bridge,
    Overlay,
    Macvlan,
    Ipvlan,
    Host,
    /// `null` (Docker's name) or `none`.
    Null,
}

impl NetworkDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkDriver::Bridge => "bridge",
            NetworkDriver::Overlay => "overlay",
            NetworkDriver::Macvlan => "macvlan",
            NetworkDriver::Ipvlan => "ipvlan",
            NetworkDriver::Host => "host",
            NetworkDriver::Null => "null",
        }
    }
}

/// `ADDR/LEN` as written (the address is not masked; see [`Cidr::network`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Cidr {
    /// The address with host bits cleared.
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let len = u32::from(self.prefix_len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let len = u32::from(self.prefix_len.min(128));
                let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
                IpAddr::V6((bits & mask).into())
            }
        }
    }

    /// Whether `ip` lies within this prefix (Go's `IPNet.Contains`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let other = Cidr { addr: ip, prefix_len: self.prefix_len };
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => other.network() == self.network(),
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// One IPAM pool after Docker's client-side consolidation of `--subnet`, `--ip-range`,
/// `--gateway` and `--aux-address` (`createIPAMConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamPool {
    pub subnet: Cidr,
    pub ip_range: Option<Cidr>,
    pub gateway: Option<IpAddr>,
    pub aux_addresses: BTreeMap<String, IpAddr>,
}

/// `docker network create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkCreate {
    pub name: String,
    pub driver: NetworkDriver,
    /// In `--subnet` order.
    pub ipam: Vec<IpamPool>,
    pub ipam_driver: String,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub ipv4: bool,
    pub ipv6: bool,
    /// `-o/--opt`, raw (e.g. `parent=eth0.10`).
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub scope: Option<String>,
    pub other_flags: Vec<OtherFlag>,
}

/// `docker network rm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRm {
    pub networks: Vec<String>,
    pub force: bool,
}

/// `docker network ls`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkLs {
    pub quiet: bool,
    pub no_trunc: bool,
    pub filters: Vec<String>,
    pub format: Option<String>,
}

/// `docker network inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInspect {
    pub networks: Vec<String>,
    pub format: Option<String>,
    pub verbose: bool,
}

/// `docker network connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConnect {
    pub network: String,
    pub container: String,
    pub ipv4_address: Option<IpAddr>,
    pub ipv6_address: Option<IpAddr>,
    pub aliases: Vec<String>,
    pub links: Vec<String>,
    pub driver_opts: Vec<String>,
}

/// `docker network disconnect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDisconnect {
    pub network: String,
    pub container: String,
    pub force: bool,
}

// ---------------------------------------------------------------------------------------
// containers

/// What a `--network` value means for a container (`container.NetworkMode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// No `--network` given (daemon default, the `bridge` network).
    Default,
    Bridge,
    Host,
    None,
    Container(String),
    UserDefined(String),
}

impl NetworkMode {
    pub fn from_target(target: &str) -> Self {
        match target {
            "default" => NetworkMode::Default,
            "bridge" => NetworkMode::Bridge,
            "host" => NetworkMode::Host,
            "none" => NetworkMode::None,
            _ => match target.strip_prefix("container:") {
                Some(c) => NetworkMode::Container(c.to_string()),
                None => NetworkMode::UserDefined(target.to_string()),
            },
        }
    }

    pub fn is_user_defined(&self) -> bool {
        matches!(self, NetworkMode::UserDefined(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// One network a container is attached to. `--ip`, `--ip6` and `--network-alias` are
/// folded into the first attachment, as Docker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAttachment {
    pub mode: NetworkMode,
    pub aliases: Vec<String>,
    pub ipv4_address: Option<IpAddr>,
    pub ipv6_address: Option<IpAddr>,
    pub mac_address: Option<MacAddr>,
    pub driver_opts: BTreeMap<String, String>,
}

impl NetworkAttachment {
    pub fn new(mode: NetworkMode) -> Self {
        NetworkAttachment {
            mode,
            aliases: Vec::new(),
            ipv4_address: None,
            ipv6_address: None,
            mac_address: None,
            driver_opts: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// Inclusive port range; a single port has `start == end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub const fn single(p: u16) -> Self {
        PortRange { start: p, end: p }
    }

    /// Number of ports (at least 1).
    pub const fn count(&self) -> u32 {
        self.end as u32 - self.start as u32 + 1
    }

    pub const fn is_single(&self) -> bool {
        self.start == self.end
    }
}

/// One `-p/--publish` value of `docker run` (`nat.ParsePortSpec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: Option<IpAddr>,
    /// `None`: ephemeral host port (`-p 80`, `-p 127.0.0.1::80`).
    pub host_ports: Option<PortRange>,
    pub container_ports: PortRange,
    pub protocol: Protocol,
}

/// One container port binding expanded from a [`PortSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: Option<IpAddr>,
    /// `None`: ephemeral. A range (only when the spec has a single container port and a
    /// host range): allocate any free port in it.
    pub host_port: Option<PortRange>,
    pub container_port: u16,
    pub protocol: Protocol,
}

impl PortSpec {
    /// Expand like `ParsePortSpec` does.
    pub fn mappings(&self) -> Vec<PortMapping> {
        let count = self.container_ports.count();
        (0..count)
            .map(|i| {
                let host_port = self.host_ports.map(|h| {
                    let p = (u32::from(h.start) + i) as u16;
                    if count == 1 && !h.is_single() { h } else { PortRange::single(p) }
                });
                PortMapping {
                    host_ip: self.host_ip,
                    host_port,
                    container_port: (u32::from(self.container_ports.start) + i) as u16,
                    protocol: self.protocol,
                }
            })
            .collect()
    }
}

/// `-e KEY=VALUE`; `value` is `None` for `-e KEY` (Docker copies it from the client's
/// environment; the simulator decides what that means).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    pub value: Option<String>,
}

/// `docker run` / `docker container run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub detach: bool,
    pub interactive: bool,
    pub tty: bool,
    pub rm: bool,
    pub name: Option<String>,
    /// Never empty: without `--network` there is one [`NetworkMode::Default`] entry.
    pub networks: Vec<NetworkAttachment>,
    pub publish: Vec<PortSpec>,
    pub publish_all: bool,
    pub env: Vec<EnvVar>,
    pub hostname: Option<String>,
    pub mac_address: Option<MacAddr>,
    pub dns: Vec<IpAddr>,
    /// `-l/--label KEY=VALUE`.
    pub labels: BTreeMap<String, String>,
    pub other_flags: Vec<OtherFlag>,
    pub image: ImageRef,
    pub command: Argv,
}

/// `docker rm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rm {
    pub containers: Vec<String>,
    pub force: bool,
    pub volumes: bool,
}

/// `docker stop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub containers: Vec<String>,
    pub timeout: Option<i64>,
    pub signal: Option<String>,
}

/// `docker kill`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub containers: Vec<String>,
    pub signal: Option<String>,
}

/// `docker start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub containers: Vec<String>,
    pub attach: bool,
    pub interactive: bool,
}

/// `docker exec`. Use [`Exec::app_command`] to recognise `ping`, `curl`, … .
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub detach: bool,
    pub interactive: bool,
    pub tty: bool,
    pub env: Vec<EnvVar>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub privileged: bool,
    pub container: String,
    pub command: Argv,
}

/// `docker ps` / `docker container ls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ps {
    pub all: bool,
    pub quiet: bool,
    pub no_trunc: bool,
    pub latest: bool,
    pub size: bool,
    /// Default -1.
    pub last: i64,
    pub filters: Vec<String>,
    pub format: Option<String>,
}

/// `docker inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspect {
    pub names: Vec<String>,
    pub format: Option<String>,
    pub size: bool,
    pub kind: Option<String>,
}

/// `docker logs [-n|--tail N] CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logs {
    pub container: String,
    /// `--tail N`: the last N lines (`None`: all).
    pub tail: Option<usize>,
}

/// `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub container: String,
    pub port: Option<String>,
}

// ---------------------------------------------------------------------------------------
// services and nodes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMode {
    /// `replicas: None` = not given (the daemon uses 1).
    Replicated {
        replicas: Option<u64>,
    },
    Global,
    /// `--replicas` is the job's total completions, `--max-concurrent` how many run at
    /// once (docker/cli `ToServiceMode`: by default as many as the replicas).
    ReplicatedJob {
        replicas: Option<u64>,
        max_concurrent: Option<u64>,
    },
    GlobalJob,
}

impl ServiceMode {
    /// Replicas to run for replicated modes (`None` for global modes).
    pub fn replicas(&self) -> Option<u64> {
        match self {
            ServiceMode::Replicated { replicas } | ServiceMode::ReplicatedJob { replicas, .. } => {
                Some(replicas.unwrap_or(1))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointMode {
    #[default]
    Vip,
    Dnsrr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishMode {
    #[default]
    Ingress,
    Host,
}

/// One swarm port config (`swarm.PortConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// `None` (published port 0): swarm assigns one from 30000-32767.
    pub published: Option<u16>,
    pub target: u16,
    pub protocol: Protocol,
    pub mode: PublishMode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNetwork {
    pub name: String,
    pub aliases: Vec<String>,
    pub driver_opts: BTreeMap<String, String>,
}

/// `docker service create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCreate {
    pub name: Option<String>,
    pub mode: ServiceMode,
    pub networks: Vec<ServiceNetwork>,
    pub publish: Vec<ServicePort>,
    pub env: Vec<EnvVar>,
    pub endpoint_mode: EndpointMode,
    pub hostname: Option<String>,
    pub constraints: Vec<String>,
    pub detach: bool,
    pub quiet: bool,
    /// `-l/--label KEY=VALUE`: the service's own labels.
    pub labels: BTreeMap<String, String>,
    /// `--restart-condition`, `--restart-delay`, `--restart-max-attempts` as given.
    pub restart: RestartFlags,
    /// `--update-*` and `--stop-grace-period` as given.
    pub update: UpdateFlags,
    pub other_flags: Vec<OtherFlag>,
    pub image: ImageRef,
    pub command: Argv,
}

/// When swarm starts a task again after its container ended (`--restart-condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartCondition {
    None,
    OnFailure,
    Any,
}

impl RestartCondition {
    /// As the daemon reads `--restart-condition` (moby `daemon/cluster/convert/service.go`
    /// `restartPolicyToGRPC`: empty is `any`).
    pub fn parse(v: &str) -> Result<RestartCondition, String> {
        match v {
            "none" => Ok(RestartCondition::None),
            "on-failure" => Ok(RestartCondition::OnFailure),
            "any" | "" => Ok(RestartCondition::Any),
            _ => Err(format!("invalid RestartCondition: \"{v}\"")),
        }
    }
}

/// A service's restart policy flags, as typed; what is not given is the daemon's default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestartFlags {
    /// `none`, `on-failure` or `any`: the daemon reads it (`RestartCondition::parse`).
    pub condition: Option<String>,
    pub delay: Option<crate::engine::SimTime>,
    pub max_attempts: Option<u64>,
}

/// How a service's tasks are replaced when its spec changes (`--update-*`), and how long a
/// task has to stop (`--stop-grace-period`), as typed; what is not given keeps its value (the
/// daemon's default on create). The daemon reads the order, the failure action and the
/// ratio (`swarm::UpdateConfig::with`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateFlags {
    pub parallelism: Option<u64>,
    pub delay: Option<crate::engine::SimTime>,
    pub monitor: Option<crate::engine::SimTime>,
    pub order: Option<String>,
    pub failure_action: Option<String>,
    /// As typed: pflag has checked that it is a float32.
    pub max_failure_ratio: Option<String>,
    pub stop_grace: Option<crate::engine::SimTime>,
}

impl UpdateFlags {
    /// Reads one of the flags; `false` for any other.
    pub fn read(&mut self, long: &str, v: &str) -> Result<bool, String> {
        match long {
            "update-parallelism" => self.parallelism = Some(super::values::parse_uint(v, true, 64)?),
            "update-delay" => self.delay = Some(super::commands::go_duration(v)?),
            "update-monitor" => self.monitor = Some(super::commands::go_duration(v)?),
            "update-order" => self.order = Some(v.to_string()),
            "update-failure-action" => self.failure_action = Some(v.to_string()),
            "update-max-failure-ratio" => {
                // pflag's float32 flag (strconv.ParseFloat's words).
                v.parse::<f32>().map_err(|_| {
                    format!("strconv.ParseFloat: parsing {}: invalid syntax", super::values::go_quote(v))
                })?;
                self.max_failure_ratio = Some(v.to_string());
            }
            "stop-grace-period" => self.stop_grace = Some(super::commands::go_duration(v)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether any was given.
    pub fn any(&self) -> bool {
        *self != UpdateFlags::default()
    }
}

/// `docker service logs [OPTIONS] SERVICE|TASK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLogs {
    pub target: String,
    /// `--tail N`: each task's last N lines.
    pub tail: Option<usize>,
    pub no_task_ids: bool,
    pub no_trunc: bool,
    /// `--raw`: the lines alone, without the task's name.
    pub raw: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceScaleTarget {
    pub service: String,
    pub replicas: u64,
}

/// `docker service scale S=N…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceScale {
    pub targets: Vec<ServiceScaleTarget>,
    pub detach: bool,
}

/// `docker service rm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRm {
    pub services: Vec<String>,
}

/// `docker service ps`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicePs {
    pub services: Vec<String>,
    pub quiet: bool,
    pub no_trunc: bool,
    pub no_resolve: bool,
    pub filters: Vec<String>,
    pub format: Option<String>,
}

/// `docker service update [--replicas N] [--image IMG] [--force] [--env-add|--env-rm …]
/// [--constraint-add|--constraint-rm …] [--update-* …] [--stop-grace-period D] [-d] [-q]
/// SERVICE`: the flags the simulator models (any other flag of docker's is refused as not
/// supported).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceUpdate {
    pub service: String,
    pub replicas: Option<u64>,
    pub detach: bool,
    pub quiet: bool,
    /// `--rollback`, or `docker service rollback`: back to the spec before the last update.
    pub rollback: bool,
    /// `--force`: an update even when nothing changed.
    pub force: bool,
    /// `--update-*`, `--stop-grace-period`.
    pub update: UpdateFlags,
    /// `--image`: as typed; the daemon checks it.
    pub image: Option<String>,
    /// `--constraint-add`, `--constraint-rm`: as typed (docker/cli removes a constraint
    /// written exactly so).
    pub constraint_add: Vec<String>,
    pub constraint_rm: Vec<String>,
    /// `--env-add KEY=VALUE`, `--env-rm KEY` (what follows a `=` is ignored, as docker/cli
    /// `envKey` does).
    pub env_add: Vec<EnvVar>,
    pub env_rm: Vec<String>,
    /// `--network-add NET`, `--network-rm NET`.
    pub network_add: Vec<ServiceNetwork>,
    pub network_rm: Vec<String>,
    /// `--publish-add [PUBLISHED:]TARGET[/PROTO]`; `--publish-rm TARGET[/PROTO]`, in the same
    /// syntax, matching a published port by its target (docker/cli `updatePorts`).
    pub publish_add: Vec<ServicePort>,
    pub publish_rm: Vec<ServicePort>,
}

/// `docker service inspect [-f FORMAT | --pretty] SERVICE…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInspect {
    pub services: Vec<String>,
    pub format: Option<String>,
    pub pretty: bool,
}

/// `docker node ps [-q] [NODE…]` (`self` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePs {
    pub nodes: Vec<String>,
    pub quiet: bool,
}

/// `docker node inspect [-f FORMAT] NODE…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInspect {
    pub nodes: Vec<String>,
    pub format: Option<String>,
}

/// `docker service ls`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceLs {
    pub quiet: bool,
    pub filters: Vec<String>,
    pub format: Option<String>,
}

/// `docker node ls`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeLs {
    pub quiet: bool,
    pub filters: Vec<String>,
    pub format: Option<String>,
}

/// `docker node update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeUpdate {
    pub node: String,
    pub availability: Option<NodeAvailability>,
    pub role: Option<NodeRole>,
    pub label_add: Vec<String>,
    pub label_rm: Vec<String>,
}
