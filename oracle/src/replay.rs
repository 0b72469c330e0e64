//! A scenario's steps on the real engine.
//!
//! The machine itself is the scenario's one Docker host: its LAN interface is a veth
//! `nsim-eth0` with the host's address, plugged into a bridge `lan0` in a namespace
//! `nsim-o-lan`, where every other host of the scenario (a laptop without Docker) is a
//! namespace `nsim-o-<host>` with its own `eth0`. Steps come from the simulator's own run of
//! the file (its step log): a `docker run` keeps every flag as typed and swaps the image for
//! the agent image running the process the simulator started in that container; `docker
//! exec C prog…` runs the agent with the program the simulator ran; a program on a host runs
//! the agent there. Everything made is removed afterwards, also when a step fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sim_core::director::StepLog;
use sim_core::docker::cli::{self, DockerCommand};
use sim_core::scenario::Loaded;
use sim_core::userland::apps::Traffic;

use netsim_netns::capture::{Capture, Frame};

use crate::engine::{self, Ran, docker};
use crate::image::{AGENT, IMAGE};
use crate::record::{EngineInfo, NsRecord, Record, StepRecord, read_ns};
use crate::{Error, LABEL};

/// The host's LAN interface as the oracle makes it (what the scenario calls `eth0`).
pub const LAN_IF: &str = "nsim-eth0";
const LAN_NS: &str = "nsim-o-lan";
/// The oracle's run id under `/run/netsim` (`netsim_netns::record`): its namespaces are
/// written down as they are made, so `netsim clean` removes them after a crash and nothing
/// else that happens to be called `nsim-o-…`. One oracle run at a time: its names are fixed.
pub const RUN_ID: &str = "o";

/// What a run on the engine gives: the record and the frames captured on the host's bridges
/// and in the LAN namespaces.
pub struct Replayed {
    pub record: Record,
    pub frames: Vec<Frame>,
}

pub struct Options {
    /// Run even if the engine holds networks or containers the oracle did not make.
    pub force: bool,
    /// The `netsim` binary: the agent, in the image and on the hosts.
    pub agent: PathBuf,
    /// Network name → (subnet, gateway) as the simulator's fresh daemon allocated them: a
    /// `network create` without `--subnet` gets them explicitly, because the engine's
    /// round-robin allocator goes on from wherever its earlier networks left it, and a lab's
    /// literal addresses (`ping 172.19.0.2`) assume a fresh daemon.
    pub subnets: BTreeMap<String, (String, String)>,
    /// How many of the steps the simulator ran; the rest it never reached, and they are
    /// typed as the lab has them.
    pub reached: usize,
}

/// Whether one engine on this machine can host the scenario; if not, why.
pub fn hostable(loaded: &Loaded) -> Result<String, Error> {
    let sc = &loaded.scenario;
    let docker_hosts: Vec<&str> = sc.hosts.iter().filter(|h| h.docker).map(|h| h.name.as_str()).collect();
    if docker_hosts.len() != 1 {
        return Err(Error::NotHostable(format!(
            "{} has {} Docker hosts ({}); one engine on this machine can only be one of them",
            loaded.file,
            docker_hosts.len(),
            docker_hosts.join(", ")
        )));
    }
    if let Some(s) = sc.steps.iter().find(|s| s.run.split_whitespace().any(vlan_parent)) {
        return Err(Error::NotHostable(format!(
            "{}: `{}` makes an 802.1Q device, which this kernel does not have (docs/linux-model.md)",
            loaded.file, s.run
        )));
    }
    // A fault on the Docker host would be typed into this machine's own network: its eth0,
    // not a lab's.
    let fault = |run: &str| {
        let words: Vec<String> = run.split_whitespace().map(str::to_string).collect();
        sim_core::netconf::parse(&words).is_some()
    };
    if let Some(s) = sc.steps.iter().find(|s| fault(&s.run)) {
        return Err(Error::NotHostable(format!(
            "{}: `{}` on {} would change this machine's own network; the oracle does not replay faults",
            loaded.file, s.run, s.on
        )));
    }
    // Compose and stack make their containers from a file the lab carries, each with its
    // image's server: the agent image cannot stand in for them one `docker run` at a time.
    let project = |run: &str| {
        let w: Vec<&str> = run.split_whitespace().collect();
        matches!(w.as_slice(), ["docker-compose", ..] | ["docker", "compose" | "stack", ..] | ["cd", ..])
    };
    if let Some(s) = sc.steps.iter().find(|s| project(&s.run)) {
        return Err(Error::NotHostable(format!(
            "{}: `{}` works on the lab's files; the oracle replays docker commands one by one \
             (a compose or stack lab is judged on the engine by `netsim export --to compose|stack`: \
             cli/tests/export.rs)",
            loaded.file, s.run
        )));
    }
    if !sc.plan.links.is_empty() {
        return Err(Error::NotHostable(format!(
            "{} adds devices by hand ({}); the oracle only builds what Docker builds",
            loaded.file,
            sc.plan.links.iter().map(|l| l.name().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(docker_hosts[0].to_string())
}

fn vlan_parent(w: &str) -> bool {
    w.strip_prefix("parent=").is_some_and(|p| p.contains('.'))
}

/// Plays the simulated run's steps on the engine and records what it did.
pub fn run(loaded: &Loaded, steps: &[StepLog], opts: &Options) -> Result<Replayed, Error> {
    let host = hostable(loaded)?;
    let info = engine::info()?;
    engine::preflight(&info, opts.force)?;
    let mut r = Runner {
        host: host.clone(),
        others: loaded.scenario.hosts.iter().filter(|h| !h.docker).map(|h| h.name.clone()).collect(),
        agent: opts.agent.clone(),
        record: Record { scenario: loaded.file.clone(), ..Default::default() },
        subnets: opts.subnets.clone(),
        reached: opts.reached,
        unreached: false,
        log_start: daemon_log().map(|l| l.len()).unwrap_or(0),
        swarm: false,
        capture: None,
        captured: Default::default(),
        made: None,
    };
    r.record.engine = EngineInfo {
        server_version: info.server_version.clone(),
        api_version: info.api_version.clone(),
        client_version: info.client_version.clone(),
        kernel: info.kernel.clone(),
        daemon_mtu: 0,
    };
    // Ctrl-C: take down what the run made before leaving, as the end of a run would.
    let _ = ctrlc::set_handler(|| {
        let _ = leftovers(SWARM_STARTED.load(std::sync::atomic::Ordering::SeqCst));
        let _ = netsim_netns::realise::clean_run(RUN_ID, true);
        std::process::exit(130);
    });
    let res = r.play(loaded, steps);
    let frames = r.capture.take().map(|c| c.stop()).transpose().map_err(|e| Error::Other(format!("capture: {e}")));
    let mut errs = engine::clean(r.swarm);
    errs.extend(r.lan_down());
    res?;
    if !errs.is_empty() {
        return Err(Error::Other(format!("clean-up: {}", errs.join("; "))));
    }
    let frames = frames?.unwrap_or_default().into_iter().filter(|f| keep_frame(&f.ns, &f.ifname, &host)).collect();
    Ok(Replayed { record: r.record, frames })
}

/// The run has initialised a swarm (for the Ctrl-C handler, which has no `Runner`).
static SWARM_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Removes what an oracle run left behind on the engine and the host (an interrupted one, or
/// `netsim clean`): labelled containers, networks and images, and the LAN veth; the swarm
/// only when `swarm` says this run started it. Its namespaces are in its run record
/// (`RUN_ID`), which `netsim_netns::realise::clean_run` removes. Returns what it could not
/// remove.
pub fn leftovers(swarm: bool) -> Vec<String> {
    let mut errs = engine::clean(swarm);
    for l in [format!("ip link del {LAN_IF}")] {
        if let Ok(r) = engine::sh(&l)
            && !r.ok()
            && !r.stderr.contains("Cannot find")
        {
            errs.push(format!("{l}: {}", r.stderr.trim()));
        }
    }
    errs
}

/// The host's Docker interfaces and the LAN: the machine's own interfaces stay out.
pub fn docker_if(name: &str) -> bool {
    name == "docker0"
        || name == "docker_gwbridge"
        || name.starts_with("br-")
        || name.starts_with("veth")
        || name == LAN_IF
}

/// Inside sandboxes and LAN machines, every interface; on the host only the LAN one (the
/// machine's own interfaces carry its own traffic, and a host veth repeats its sandbox's).
fn keep_frame(ns: &str, ifname: &str, host: &str) -> bool {
    ns != host || ifname == LAN_IF
}

struct Runner {
    host: String,
    others: Vec<String>,
    agent: PathBuf,
    record: Record,
    /// What `netsim clean` needs to find this run's namespaces if it dies.
    made: Option<netsim_netns::record::Record>,
    /// The oracle initialised a swarm (clean-up leaves it).
    swarm: bool,
    capture: Option<Capture>,
    /// The sandboxes captured, as (container name, pid of its process): each start of a
    /// container has a namespace of its own (`docker start` after `stop`, a name `docker run`
    /// again after `rm`), captured under the container's name as the simulator's are.
    captured: std::collections::BTreeSet<(String, u64)>,
    subnets: BTreeMap<String, (String, String)>,
    /// Steps from this one on are past where the simulator stopped.
    reached: usize,
    /// The step being played is one of those.
    unreached: bool,
    /// How much of the daemon's log was there when the run began.
    log_start: usize,
}

fn ns_path(name: &str) -> PathBuf {
    PathBuf::from("/var/run/netns").join(name)
}

fn other_ns(host: &str) -> String {
    format!("nsim-o-{host}")
}

impl Runner {
    fn play(&mut self, loaded: &Loaded, steps: &[StepLog]) -> Result<(), Error> {
        let base = engine::run("iptables-save", &[])?;
        self.record.host_iptables_baseline = qualified(&base.stdout);
        // dockerd takes the host's resolv.conf, or systemd-resolved's list of the servers
        // behind its stub when the file names only 127.0.0.53 (libnetwork `resolvconf`).
        for f in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
            let servers = std::fs::read_to_string(f).map(|t| crate::record::nameservers(&t)).unwrap_or_default();
            self.record.upstream.extend(servers.into_iter().filter(|a| !a.starts_with("127.")));
        }
        self.lan_up(loaded)?;
        crate::image::build(&self.agent)?;
        let mut namespaces =
            vec![(self.host.clone(), PathBuf::from("/proc/self/ns/net")), ("lan".into(), ns_path(LAN_NS))];
        namespaces.extend(self.others.iter().map(|h| (h.clone(), ns_path(&other_ns(h)))));
        self.capture = Some(Capture::start(&namespaces).map_err(|e| Error::Other(format!("capture: {e}")))?);
        for (i, s) in steps.iter().enumerate() {
            self.unreached = i >= self.reached;
            self.step(s)?;
        }
        // The simulator runs until nothing is left to do, neighbour timers included: a
        // neighbour used after the last step is probed 5 s later (delay_first_probe_time).
        // Wait that out, and a second more for the capture (packet(7): TPACKET_V3 hands frames
        // over a block at a time; docs/linux-model.md, *Packet capture*).
        std::thread::sleep(Duration::from_millis(6500));
        self.snapshot()?;
        self.record.no_ipvs = !netsim_netns::state::kernel_has_ipvs();
        if self.swarm && self.record.no_ipvs {
            self.vip_probe()?;
        }
        Ok(())
    }

    /// On a kernel without IPVS the engine cannot give a service its virtual IP; what it says
    /// then goes into the record. Run after the snapshot: the probe takes addresses from the
    /// overlay, which would shift everything allocated after it.
    fn vip_probe(&mut self) -> Result<(), Error> {
        let Some(net) = self
            .record
            .networks
            .iter()
            .find(|(_, v)| v["Driver"] == "overlay" && v["Ingress"] != true)
            .map(|(n, _)| n.clone())
        else {
            return Ok(());
        };
        let log_before = self.log_start;
        let probe = "nsim-vip-probe";
        let r = engine::run(
            "docker",
            &[
                "service",
                "create",
                "--detach",
                "--name",
                probe,
                "--container-label",
                LABEL,
                "--network",
                &net,
                IMAGE,
                AGENT,
                "pause",
            ],
        )?;
        if !r.ok() {
            self.record.notes.push(format!(
                "VIP case (no IPVS in this kernel): `docker service create --network {net}` fails: {}",
                r.stderr.trim()
            ));
            return Ok(());
        }
        let tasks = self.wait_for_tasks(probe);
        let vip = docker(&["service", "inspect", probe, "--format", "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}"])
            .unwrap_or_default();
        let vip = vip.split_whitespace().next().and_then(|a| a.split('/').next()).unwrap_or("").to_string();
        let ping = match (&tasks, vip.is_empty()) {
            (Ok(t), false) if !t.is_empty() => {
                let traffic = format!("Ping(ns: \"{probe}\", dst: \"{vip}\", count: 1)");
                let r = engine::run("docker", &["exec", &t[0], AGENT, "agent", &traffic])?;
                r.stdout.lines().rfind(|l| l.contains("packets transmitted")).unwrap_or_default().to_string()
            }
            _ => String::new(),
        };
        let log = daemon_log();
        let said = match &log {
            None => "nothing we could read (no log at /var/log/dockerd.log or /var/log/docker.log)".to_string(),
            Some(l) => {
                let msg = |line: &str| line.split_once("msg=").map(|(_, m)| m.trim().to_string());
                let ipvs = |line: &str| {
                    let low = line.to_lowercase();
                    low.contains("ipvs") || low.contains("ipv4.vs") || low.contains("ip_vs")
                };
                // Said once in the daemon's life, when it first needed IPVS.
                let mut said: Vec<String> =
                    l.lines().filter(|x| x.contains("Could not get ipvs family")).filter_map(msg).take(1).collect();
                for m in
                    l.get(log_before.min(l.len())..).unwrap_or_default().lines().filter(|x| ipvs(x)).filter_map(msg)
                {
                    if !said.contains(&m) {
                        said.push(m);
                    }
                }
                if said.is_empty() { "nothing about IPVS".to_string() } else { said.join("; ") }
            }
        };
        self.record.notes.push(format!(
            "VIP case (no IPVS in this kernel): `docker service create --network {net}` succeeds and its task \
             runs with the VIP {vip}, but the engine cannot program it; dockerd logged {said}; a ping of the VIP \
             from the task: {ping}. Service VIPs and the routing mesh are not comparable on this machine."
        ));
        let _ = docker(&["service", "rm", probe]);
        Ok(())
    }

    fn lan_up(&mut self, loaded: &Loaded) -> Result<(), Error> {
        let mut lines = vec![
            format!("ip netns add {LAN_NS}"),
            format!("ip -n {LAN_NS} link add lan0 type bridge"),
            format!("ip -n {LAN_NS} link set lan0 up"),
            format!("ip link add {LAN_IF} type veth peer name p-{} netns {LAN_NS}", self.host),
            format!("ip -n {LAN_NS} link set p-{} master lan0 up", self.host),
        ];
        for h in &loaded.scenario.hosts {
            if h.docker {
                lines.push(format!("ip addr add {} dev {LAN_IF}", h.addr));
                lines.push(format!("ip link set {LAN_IF} up"));
            } else {
                let ns = other_ns(&h.name);
                lines.push(format!("ip netns add {ns}"));
                lines.push(format!("ip -n {LAN_NS} link add p-{} type veth peer name eth0 netns {ns}", h.name));
                lines.push(format!("ip -n {LAN_NS} link set p-{} master lan0 up", h.name));
                lines.push(format!("ip -n {ns} addr add {} dev eth0", h.addr));
                lines.push(format!("ip -n {ns} link set eth0 up"));
                lines.push(format!("ip -n {ns} link set lo up"));
            }
        }
        let made = netsim_netns::record::Record::create(RUN_ID).map_err(|e| Error::Command {
            what: format!("the oracle's run record in {}/{RUN_ID}", netsim_netns::record::RECORD_DIR),
            msg: format!("{e} (an earlier oracle run is still running, or died: `netsim clean` removes what it left)"),
        })?;
        let made = self.made.insert(made);
        for l in lines {
            let r = engine::sh(&l)?;
            // Written once the name is ours: a namespace that was there before is not recorded.
            if r.ok()
                && let Some(ns) = l.strip_prefix("ip netns add ")
            {
                made.add_namespace(ns).map_err(|e| Error::Command { what: l.clone(), msg: format!("record: {e}") })?;
            }
            if !r.ok() {
                let mut msg = r.stderr.trim().to_string();
                if msg.contains("File exists") {
                    msg.push_str(" (left by an interrupted oracle run? `netsim clean` removes it)");
                }
                return Err(Error::Command { what: l, msg });
            }
        }
        self.record.renamed.insert(LAN_IF.into(), "eth0".into());
        // The LAN bridge's ports, named after the hosts as the simulator names them.
        for h in &loaded.scenario.hosts {
            self.record.renamed.insert(format!("p-{}", h.name), h.name.clone());
        }
        Ok(())
    }

    fn lan_down(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        for l in std::iter::once(format!("ip link del {LAN_IF}"))
            .chain(self.others.iter().map(|h| format!("ip netns del {}", other_ns(h))))
            .chain(std::iter::once(format!("ip netns del {LAN_NS}")))
        {
            match engine::sh(&l) {
                // Already gone (a failed start): nothing to undo.
                Ok(r) if !r.ok() && !r.stderr.contains("Cannot find") && !r.stderr.contains("No such") => {
                    errs.push(format!("{l}: {}", r.stderr.trim()))
                }
                Err(e) => errs.push(e.to_string()),
                _ => {}
            }
        }
        if errs.is_empty()
            && let Some(made) = self.made.take()
        {
            made.remove();
        }
        errs
    }

    /// The agent command for a process: `/netsim agent [--nameserver 127.0.0.11] 'RON'`.
    fn agent_cmd(&self, exe: &str, t: &Traffic, dns: bool) -> Result<String, Error> {
        let ron = ron::to_string(t).map_err(|e| Error::Other(format!("traffic: {e}")))?;
        let ns = if dns { " --nameserver 127.0.0.11" } else { "" };
        Ok(format!("{exe} agent{ns} {}", sim_core::export::quote(&ron)))
    }

    /// `verb FLAGS… IMAGE [CMD…]` as typed, labelled, with the agent image running the first
    /// server the simulator started for this step, else what `otherwise` says.
    fn with_agent(
        &self,
        s: &StepLog,
        verb: &str,
        label_flag: &str,
        command_start: Option<usize>,
        dns: bool,
        otherwise: Otherwise,
    ) -> Result<String, Error> {
        // dockerd runs its own docker-proxy on the engine.
        let server = s.started.iter().find(|t| {
            t.is_server() && !matches!(t, Traffic::Dns { .. } | Traffic::Announce { .. } | Traffic::DockerProxy { .. })
        });
        let program = match (server, otherwise, command_start) {
            (Some(t), ..) | (None, Otherwise::Client(t), _) => self.agent_cmd(AGENT, t, dns)?,
            // A program the agent does not run (`cat`, `hostname`) runs as typed, from the
            // image's busybox where it has one (`image`).
            (None, Otherwise::Typed, Some(at)) => s.line[at.min(s.line.len())..].to_string(),
            (None, ..) => format!("{AGENT} pause"),
        };
        let head = s.line[..image_offset(&s.line, command_start)].trim_end();
        let rest = head.trim_start().strip_prefix(verb).unwrap_or(head);
        Ok(format!("{verb} {label_flag} {LABEL}{rest} {IMAGE} {program}"))
    }

    fn step(&mut self, s: &StepLog) -> Result<(), Error> {
        let exe = self.agent.to_string_lossy().to_string();
        let client = s.started.iter().rev().find(|t| !t.is_server() && !matches!(t, Traffic::Announce { .. }));
        if s.host != self.host {
            // A LAN machine without Docker: only programs.
            let Some(t) = client else {
                if self.unreached {
                    // A step the simulator never reached: nothing says what its program is.
                    let r = engine::Ran { status: -1, stdout: String::new(), stderr: "not typed: the simulator never reached this step, so the agent has no program to run for it".into() };
                    self.record.steps.push(StepRecord::new(&s.host, &s.line, None, &r));
                    return Ok(());
                }
                return Err(Error::NotHostable(format!("`{}` on {}: not a program the agent runs", s.line, s.host)));
            };
            let line = format!("ip netns exec {} {}", other_ns(&s.host), self.agent_cmd(&exe, t, false)?);
            let r = engine::sh(&line)?;
            self.lines(&s.host, &r);
            self.record.steps.push(StepRecord::new(&s.host, &s.line, Some(line.replace(&exe, "netsim")), &r));
            return Ok(());
        }
        let parsed = if s.line.trim_start().starts_with("docker ") { cli::parse(&s.line).ok() } else { None };
        let Some(cmd) = parsed else {
            // A program on the Docker host itself.
            let Some(t) = client else {
                let r = engine::sh(&s.line)?;
                self.record.steps.push(StepRecord::new(&s.host, &s.line, None, &r));
                return Ok(());
            };
            let line = self.agent_cmd(&exe, t, false)?;
            let r = engine::sh(&line)?;
            self.lines(&s.host, &r);
            self.record.steps.push(StepRecord::new(&s.host, &s.line, Some(line.replace(&exe, "netsim")), &r));
            return Ok(());
        };
        // A `docker run` in the foreground: the namespace its program prints in.
        let mut foreground = None;
        let ran = match &cmd {
            DockerCommand::Run(run) => {
                // A container the lab did not name has the name the simulator drew for it,
                // which its programs' namespace carries; the engine draws its own.
                let ns = match &run.name {
                    Some(name) => format!("{}:{name}", s.host),
                    None => drawn_sandbox(s).map(|n| format!("{}:{n}", s.host)).unwrap_or_default(),
                };
                let dns = s.started.iter().any(|t| matches!(t, Traffic::Dns { ns: n, .. } if *n == ns));
                // The servers a `docker run` starts are its container's (in the host's own
                // namespace for --network host); in the foreground it runs its client.
                let otherwise = match client {
                    _ if run.detach => Otherwise::Pause,
                    Some(t) => Otherwise::Client(t),
                    None => Otherwise::Typed,
                };
                if !run.detach && !ns.is_empty() {
                    self.record.uncaptured.push(ns.clone());
                    foreground = Some(ns.clone());
                }
                Some(self.with_agent(
                    s,
                    "docker run",
                    "--label",
                    run.command.spans.first().map(|sp| sp.start),
                    dns,
                    otherwise,
                )?)
            }
            // Its program starts with `docker start`, which the simulator ran later: on the
            // engine it gets the agent's `pause`, and a server it would run is a difference.
            DockerCommand::Create(run) => Some(self.with_agent(
                s,
                "docker create",
                "--label",
                run.command.spans.first().map(|sp| sp.start),
                false,
                Otherwise::Pause,
            )?),
            DockerCommand::Exec(x) => match client {
                Some(t) => {
                    let dns = self.has_embedded_dns(&x.container);
                    Some(format!("docker exec {} {}", x.container, self.agent_cmd(AGENT, t, dns)?))
                }
                None => None,
            },
            DockerCommand::NetworkCreate(nc) => {
                let rest = s.line.trim_start().strip_prefix("docker network create").unwrap_or(&s.line);
                let rest = rest.replace("parent=eth0", &format!("parent={LAN_IF}"));
                let pin = match self.subnets.get(&nc.name) {
                    Some((subnet, gw)) if !s.line.contains("--subnet") => {
                        self.record.notes.push(format!(
                            "network {}: created with --subnet {subnet} --gateway {gw}, what a freshly started \
                             daemon picks (the engine's round-robin allocator goes on from its earlier networks)",
                            nc.name
                        ));
                        format!(" --subnet {subnet} --gateway {gw}")
                    }
                    _ => String::new(),
                };
                Some(format!("docker network create --label {LABEL}{pin}{rest}"))
            }
            DockerCommand::SwarmInit(_) => {
                self.swarm = true;
                SWARM_STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
                None
            }
            DockerCommand::ServiceCreate(sc) => {
                // Every task runs the process the simulator started in its tasks.
                let dns = s.started.iter().any(|t| matches!(t, Traffic::Dns { .. }));
                let start = sc.command.spans.first().map(|sp| sp.start);
                Some(self.with_agent(s, "docker service create", "--container-label", start, dns, Otherwise::Pause)?)
            }
            _ => None,
        };
        let line = ran.clone().unwrap_or_else(|| s.line.clone());
        let r = engine::sh(&line)?;
        match &cmd {
            DockerCommand::Exec(x) if ran.is_some() => {
                let ns = self.sandbox_ns(&s.host, &x.container);
                self.lines(&ns, &r)
            }
            // What the program printed, as the simulator has it in the container's namespace.
            DockerCommand::Run(_) if ran.is_some() && foreground.is_some() => {
                let ns = foreground.take().unwrap_or_default();
                self.lines(&ns, &r)
            }
            DockerCommand::ServiceCreate(sc) if r.ok() => {
                if let Some(name) = &sc.name {
                    for task in self.wait_for_tasks(name)? {
                        self.capture_sandbox(&s.host, &task)?;
                    }
                }
            }
            DockerCommand::Start(st) => {
                for name in &st.containers {
                    self.capture_sandbox(&s.host, name)?;
                }
            }
            DockerCommand::Run(run) => {
                // A container the lab did not name: the engine drew another name than the
                // simulator; the comparison reads the engine's as the simulator's.
                let drawn = match &run.name {
                    Some(_) => None,
                    None if run.detach && r.ok() => {
                        let id = r.stdout.trim();
                        let name = engine::inspect("container", id).ok().and_then(|v| {
                            v.pointer("/Name").and_then(|n| n.as_str()).map(|n| n.trim_start_matches('/').to_string())
                        });
                        name.zip(drawn_sandbox(s))
                    }
                    None => None,
                };
                if let Some((engine_name, sim_name)) = drawn {
                    self.capture_sandbox(&s.host, &engine_name)?;
                    self.record.drawn.push((engine_name, sim_name));
                }
                if let Some(name) = &run.name {
                    self.capture_sandbox(&s.host, name)?;
                }
                // Let the container's server bind before anyone talks to it.
                std::thread::sleep(Duration::from_millis(300));
            }
            _ => {}
        }
        self.record.steps.push(StepRecord::new(&s.host, &s.line, ran.map(|l| l.replace(&exe, "netsim")), &r));
        self.note_networks();
        Ok(())
    }

    /// Inspects the networks the step made (`Record::made`).
    fn note_networks(&mut self) {
        let names = docker(&["network", "ls", "--format", "{{.Name}}"]).unwrap_or_default();
        for name in names.lines().filter(|n| !n.is_empty()) {
            if !self.record.made.contains_key(name)
                && let Ok(v) = engine::inspect("network", name)
            {
                self.record.made.insert(name.to_string(), v);
            }
        }
    }

    /// Captures inside a new container's namespace too (its lo carries the embedded DNS).
    fn capture_sandbox(&mut self, host: &str, name: &str) -> Result<(), Error> {
        let Ok(v) = engine::inspect("container", name) else { return Ok(()) };
        let pid = v.pointer("/State/Pid").and_then(|p| p.as_u64()).unwrap_or(0);
        let mode = v.pointer("/HostConfig/NetworkMode").and_then(|m| m.as_str()).unwrap_or("");
        if pid == 0 || mode == "host" {
            return Ok(());
        }
        if !self.captured.insert((name.to_string(), pid)) {
            return Ok(());
        }
        if let Some(c) = &mut self.capture {
            c.add(&format!("{host}:{name}"), PathBuf::from(format!("/proc/{pid}/ns/net")))
                .map_err(|e| Error::Other(format!("capture in {name}: {e}")))?;
        }
        Ok(())
    }

    /// Waits until every task of a service runs (the engine starts them after the command
    /// returns); returns their containers' names.
    fn wait_for_tasks(&mut self, service: &str) -> Result<Vec<String>, Error> {
        let t0 = std::time::Instant::now();
        loop {
            let states = docker(&[
                "service",
                "ps",
                service,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
            ])?;
            let names = docker(&[
                "ps",
                "--filter",
                &format!("label=com.docker.swarm.service.name={service}"),
                "--format",
                "{{.Names}}",
            ])?;
            let running = states.lines().filter(|l| l.starts_with("Running")).count();
            let names: Vec<String> = names.lines().filter(|l| !l.is_empty()).map(String::from).collect();
            if running > 0 && running == states.lines().count() && names.len() == running {
                // Let the tasks' servers bind.
                std::thread::sleep(Duration::from_millis(300));
                return Ok(names);
            }
            if t0.elapsed() > Duration::from_secs(60) {
                return Err(Error::Other(format!("service {service}: its tasks did not start within 60 s:\n{states}")));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The plan namespace a container's processes run in: its own, or the host's with
    /// `--network host`.
    fn sandbox_ns(&self, host: &str, container: &str) -> String {
        let mode = engine::inspect("container", container)
            .ok()
            .and_then(|v| v.pointer("/HostConfig/NetworkMode").and_then(|m| m.as_str()).map(String::from));
        if mode.as_deref() == Some("host") { host.to_string() } else { format!("{host}:{container}") }
    }

    fn has_embedded_dns(&self, container: &str) -> bool {
        // Docker points resolv.conf at 127.0.0.11 exactly when the embedded DNS serves it.
        let path = engine::inspect("container", container)
            .ok()
            .and_then(|v| v.get("ResolvConfPath").and_then(|p| p.as_str()).map(String::from));
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|t| t.lines().any(|l| l.split_whitespace().eq(["nameserver", "127.0.0.11"])))
    }

    fn lines(&mut self, ns: &str, r: &Ran) {
        for l in r.stdout.lines() {
            self.record.output.push((ns.to_string(), l.to_string()));
        }
    }

    /// The engine's state after the last step.
    fn snapshot(&mut self) -> Result<(), Error> {
        let nets = docker(&["network", "ls", "--format", "{{.Name}}"])?;
        for n in nets.lines().filter(|n| !n.is_empty()) {
            let v = engine::inspect("network", n)?;
            if n == "bridge" {
                self.record.engine.daemon_mtu = v
                    .pointer("/Options/com.docker.network.driver.mtu")
                    .and_then(|m| m.as_str())
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(1500);
            }
            self.record.networks.insert(n.to_string(), v);
        }
        let names = docker(&["ps", "-a", "--filter", &format!("label={LABEL}"), "--format", "{{.Names}}"])?;
        for c in names.lines().filter(|c| !c.is_empty()) {
            let v = engine::inspect("container", c)?;
            let pid = v.pointer("/State/Pid").and_then(|p| p.as_u64()).unwrap_or(0);
            let network_mode = v.pointer("/HostConfig/NetworkMode").and_then(|m| m.as_str()).unwrap_or("");
            if pid > 0 && network_mode != "host" {
                match read_ns(&format!("--net=/proc/{pid}/ns/net"), &|_| true) {
                    Ok(st) => {
                        self.record.namespaces.insert(format!("{}:{c}", self.host), st);
                    }
                    // The process went away between inspect and nsenter: say so.
                    Err(e) => {
                        let state = engine::inspect("container", c)
                            .ok()
                            .and_then(|v| v.pointer("/State/Status").and_then(|s| s.as_str()).map(String::from))
                            .unwrap_or_default();
                        self.record
                            .notes
                            .push(format!("container {c} ({state}): its namespace could not be read: {e}"));
                    }
                }
            }
            // What the container's own server printed.
            if let Ok(r) = engine::run("docker", &["logs", c]) {
                let ns = if network_mode == "host" { self.host.clone() } else { format!("{}:{c}", self.host) };
                self.lines(&ns, &r);
            }
            self.record.containers.insert(c.to_string(), v);
        }
        // The namespaces libnetwork makes for itself: an overlay's `1-<id>`, `lb_<id>`,
        // ingress_sbox.
        // Only the current swarm's: the engine removes a sandbox's file a while after the
        // sandbox (a minute or so), so an earlier run's may still be there, no longer a
        // namespace.
        let current = |id: &str| {
            self.record
                .networks
                .iter()
                .find(|(_, v)| v.get("Id").and_then(|i| i.as_str()).is_some_and(|i| i.starts_with(id)))
        };
        let has_ingress = self.record.networks.values().any(|v| v["Ingress"] == true);
        if self.swarm
            && let Ok(rd) = std::fs::read_dir("/var/run/docker/netns")
        {
            let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            for n in names {
                let plan = if n == "ingress_sbox" {
                    has_ingress.then(|| n.clone())
                } else if let Some(id) = n.strip_prefix("1-") {
                    current(id).map(|_| n.clone())
                } else if let Some(id) = n.strip_prefix("lb_") {
                    current(id).map(|(name, _)| format!("lb-{name}"))
                } else {
                    None
                };
                if let Some(p) = plan {
                    match read_ns(&format!("--net=/var/run/docker/netns/{n}"), &|_| true) {
                        Ok(st) => {
                            self.record.namespaces.insert(format!("{}:{p}", self.host), st);
                        }
                        Err(e) => self.record.notes.push(format!("libnetwork's namespace {n} could not be read: {e}")),
                    }
                }
            }
        }
        let host = read_ns("--net=/proc/self/ns/net", &|d| docker_if(d))?;
        let save = engine::run("iptables-save", &[])?;
        let base: std::collections::BTreeSet<String> = self.record.host_iptables_baseline.iter().cloned().collect();
        // Docker's lines (docker0's were there before the run: the daemon made them at its
        // start), and anything else the run added.
        self.record.host_iptables =
            qualified(&save.stdout).into_iter().filter(|l| dockers(l) || !base.contains(l)).collect();
        self.record.namespaces.insert(self.host.clone(), NsRecord { iptables: Vec::new(), ..host });
        self.record
            .namespaces
            .insert("lan".into(), read_ns(&format!("--net={}", ns_path(LAN_NS).display()), &|_| true)?);
        for h in self.others.clone() {
            let st = read_ns(&format!("--net={}", ns_path(&other_ns(&h)).display()), &|_| true)?;
            self.record.namespaces.insert(h, st);
        }
        Ok(())
    }
}

/// The daemon's log, where one is kept in a file (the engine started without systemd).
fn daemon_log() -> Option<String> {
    ["/var/log/dockerd.log", "/var/log/docker.log"]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// An iptables line of Docker's: its chains, or a rule naming a Docker bridge.
pub fn dockers(l: &str) -> bool {
    l.contains("DOCKER") || l.split(' ').any(|w| w == "docker0" || w == "docker_gwbridge" || w.starts_with("br-"))
}

/// Where the image word of a `docker run` line starts: the word before the container's
/// command (or the line's last word).
/// The name of the container a step's `docker run` made in the simulator, read from the
/// sandbox namespace the step added (`HOST:NAME`): the one the simulator drew when the lab
/// gave none. `None` for a container without a namespace of its own (`--network host`).
fn drawn_sandbox(s: &StepLog) -> Option<String> {
    let prefix = format!("{}:", s.host);
    s.delta.as_ref()?.added.namespaces.iter().find_map(|n| n.name.strip_prefix(&prefix).map(str::to_string))
}

/// What a container of the agent image runs when the simulator started no server in it.
#[derive(Clone, Copy)]
enum Otherwise<'a> {
    /// Nothing: it waits (`docker run -d`, `create`, a service's task).
    Pause,
    /// The client the simulator ran in it (`docker run --rm alpine ping -c 1 web`).
    Client(&'a Traffic),
    /// The command as the lab typed it (`docker run --rm alpine cat /etc/hosts`).
    Typed,
}

fn image_offset(line: &str, command_start: Option<usize>) -> usize {
    let end = command_start.unwrap_or(line.len()).min(line.len());
    let head = line[..end].trim_end();
    head.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0)
}

/// `iptables-save` rules and user chains, each qualified by its table (`filter -A FORWARD …`),
/// without built-in chains' policies (a policy is the machine's before Docker touches it).
pub fn qualified(save: &str) -> Vec<String> {
    let mut table = String::new();
    let mut out = Vec::new();
    for l in crate::record::iptables_lines(save) {
        if let Some(t) = l.strip_prefix('*') {
            table = t.to_string();
        } else if l.starts_with("-A") || (l.starts_with(':') && l.ends_with(" -")) {
            out.push(format!("{table} {l}"));
        }
    }
    out
}

/// Where the record of `scenario` is kept: `<traces>/<path under scenarios/ without .ron>`
/// (`traces/docker/docker/macvlan` for `scenarios/docker/macvlan.ron`).
pub fn trace_dir(traces: &Path, scenario: &Path) -> PathBuf {
    let rel: PathBuf = scenario.components().skip_while(|c| c.as_os_str() != "scenarios").skip(1).collect();
    let rel = if rel.as_os_str().is_empty() { PathBuf::from(scenario.file_name().unwrap_or_default()) } else { rel };
    traces.join(rel.with_extension(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_word_is_found_before_the_command() {
        let l = "docker run -d --name web --network appnet -p 8001:80 hshar/webapp";
        assert_eq!(&l[image_offset(l, None)..], "hshar/webapp");
        let l = "docker run -d --name c1 alpine sleep 100";
        assert_eq!(&l[image_offset(l, Some(l.find("sleep").unwrap()))..l.find(" sleep").unwrap()], "alpine");
    }

    #[test]
    fn iptables_lines_keep_their_table() {
        let save = "# Generated\n*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n";
        assert_eq!(qualified(save), vec!["nat :DOCKER -", "nat -A PREROUTING -j DOCKER"]);
    }

    #[test]
    fn records_live_beside_the_kernel_traces() {
        let d = trace_dir(Path::new("traces/docker"), Path::new("scenarios/docker/macvlan.ron"));
        assert_eq!(d, PathBuf::from("traces/docker/docker/macvlan"));
        let d = trace_dir(Path::new("/r"), Path::new("/x/scenarios/swarm-webapp-mysql.ron"));
        assert_eq!(d, PathBuf::from("/r/swarm-webapp-mysql"));
    }
}
