//! Running a scenario on the real kernel: the plan the simulator starts from is built with
//! namespaces, every process of the run is an agent inside its namespace, and each step of a
//! Docker scenario is replayed from the simulated run's step log (its plan change, the
//! processes it started, the DNS records it changed), so both backends do the same things in
//! the same order.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};

use sim_core::director::StepLog;
use sim_core::kernel::reconf::PlanDelta;
use sim_core::plan::Plan;
use sim_core::userland::apps::{DnsZones, Traffic};

use crate::capture::{Capture, Frame};
use crate::realise::{self, Error, Realised};

/// A client that runs longer than this is stopped (a broken lab must not hang a run).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a waiting run looks whether its namespaces are still there.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// What a run on the kernel produced.
pub struct KernelRun {
    /// (plan namespace, line) in the order the lines arrived.
    pub output: Vec<(String, String)>,
    pub frames: Vec<Frame>,
    pub notes: Vec<String>,
    /// Each namespace's state before the first step, then after each step.
    pub snapshots: Vec<crate::state::State>,
    /// What iproute2's `ip` printed for each step that only looks (`ip addr`, `ip -4 -o
    /// addr`, `ip route`, `ip neigh`…), run in the step's namespace when the step ran.
    pub looks: Vec<Look>,
    /// (plan namespace, the kernel's name for it).
    pub names: Vec<(String, String)>,
}

/// A step that only looks, as the kernel's tools answered it.
#[derive(Clone, Debug)]
pub struct Look {
    /// `StepLog::index` of the step.
    pub step: usize,
    /// Both streams, in order.
    pub text: String,
    pub status: u8,
}

/// Whether a step's line is `ip` asked to print something (the simulator's `tools::Tool`),
/// which the kernel can answer by running iproute2 in the step's namespace.
fn is_look(line: &str) -> Option<Vec<String>> {
    let words: Vec<String> = sim_core::docker::cli::shell_words(line).ok()?.into_iter().map(|w| w.0).collect();
    let is_ip = words.first().is_some_and(|w| w == "ip");
    (is_ip && matches!(sim_core::tools::parse(&words), Some(Ok(_)))).then_some(words)
}

/// The first line where what the kernel's `ip` printed and what the simulator printed
/// differ, both sides shown, or `None`. The kernel's namespace names are the plan's, and a
/// MAC the kernel drew at random matches whatever MAC the simulator drew in its place.
pub fn compare_look(sim: &str, sim_status: u8, kernel: &Look, names: &[(String, String)]) -> Option<String> {
    let mut k = kernel.text.clone();
    for (plan, kname) in names {
        k = k.replace(&format!("link-netns {kname}"), &format!("link-netns {plan}"));
    }
    let is_mac =
        |w: &str| w.len() == 17 && w.split(':').all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()));
    let same = |a: &str, b: &str| {
        let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
        wa.len() == wb.len() && wa.iter().zip(&wb).all(|(x, y)| x == y || (is_mac(x) && is_mac(y)))
    };
    let (sl, kl): (Vec<&str>, Vec<&str>) = (sim.lines().collect(), k.lines().collect());
    let differing = (0..sl.len().max(kl.len()))
        .filter(|&i| !matches!((sl.get(i), kl.get(i)), (Some(a), Some(b)) if same(a, b)))
        .collect::<Vec<_>>();
    if differing.is_empty() && sim_status == kernel.status {
        return None;
    }
    let Some(&i) = differing.first() else {
        return Some(format!("the kernel's `ip` exited {}, the simulator's {sim_status}", kernel.status));
    };
    let show = |l: Option<&&str>| l.map_or("(nothing)".to_string(), |l| format!("`{l}`"));
    Some(format!(
        "{} of {} lines differ; line {}: the kernel printed {}, the simulator {}",
        differing.len(),
        sl.len().max(kl.len()),
        i + 1,
        show(kl.get(i)),
        show(sl.get(i))
    ))
}

/// The simulated run a kernel run replays.
pub struct Script {
    /// The plan before any step.
    pub plan: Plan,
    /// The scenario's own `traffic` (Linux labs).
    pub traffic: Vec<Traffic>,
    /// The Docker steps, as the simulator ran them.
    pub steps: Vec<StepLog>,
    /// Run the steps at the times the simulator ran them, among the traffic (a Linux lab's
    /// fault at 2 s, during a ping); otherwise one after the other, each when the last has
    /// finished, as fast as the machine goes (a Docker lab).
    pub timed: bool,
}

type Lines = Arc<Mutex<Vec<(String, String)>>>;

struct Runner {
    realised: Realised,
    capture: Capture,
    servers: Vec<(String, Child)>,
    lines: Lines,
    agent: PathBuf,
    /// Namespaces whose resolver is the embedded DNS, with the port dockerd's socket has
    /// and the zones it answers from.
    dns_ports: std::collections::BTreeMap<String, (u16, DnsZones)>,
    snapshots: Vec<crate::state::State>,
    looks: Vec<Look>,
    /// Each namespace's iptables lines as the plan has them now: a step's delta says how they
    /// change (`RulesSplice`), and the namespace is given the whole new list.
    rules: std::collections::BTreeMap<String, Vec<sim_core::plan::IptablesPlan>>,
    /// The leader of the agents' process group and the group's id (see `process_group`), so
    /// one `killpg` reaches them all.
    keeper: Option<(Child, i32)>,
}

/// Makes a command's process die with the run, even when the run is SIGKILLed: SIGKILL is its
/// parent-death signal (prctl(2) `PR_SET_PDEATHSIG`).
fn dies_with_the_run(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: prctl(2) and getppid(2) are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The run may have died before the line above: then no signal will come.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the run ended before its agent started"));
            }
            Ok(())
        });
    }
}

/// Runs `script` on the kernel with the agent binary `agent` (`netsim`).
///
/// SIGINT, SIGTERM and SIGHUP end the run: its agents are killed, its namespaces removed,
/// and the process exits with 128 + the signal's number, as a shell reports a process a
/// signal ended. The agents also die if this process is killed outright (SIGKILL): each one
/// has SIGKILL as its parent-death signal (prctl(2) `PR_SET_PDEATHSIG`), which the kernel sends
/// when the *thread* that started it ends, so call this from a thread that outlives the run.
pub fn run(script: &Script, agent: PathBuf) -> Result<KernelRun, Error> {
    let run_id = free_run_id();
    install_signal_handlers()?;
    {
        // From here a signal cleans up after this run: the record says what it made.
        let mut a = active();
        if let Some(other) = a.as_ref() {
            return Err(fail(format!("run {} is in progress in this process: one kernel run at a time", other.run_id)));
        }
        *a = Some(Active { run_id: run_id.clone(), pgid: None });
    }
    let res = run_as(script, agent, &run_id);
    *active() = None;
    res
}

fn run_as(script: &Script, agent: PathBuf, run_id: &str) -> Result<KernelRun, Error> {
    let realised = realise::realise(&script.plan, run_id)?;
    let paths: Vec<(String, PathBuf)> =
        realised.names.iter().filter_map(|(n, _)| realised.netns_path(n).map(|p| (n.clone(), p))).collect();
    let capture = Capture::start(&paths).map_err(|e| fail(format!("capture: {e}")))?;
    let mut r = Runner {
        realised,
        capture,
        servers: Vec::new(),
        lines: Arc::new(Mutex::new(Vec::new())),
        agent,
        dns_ports: Default::default(),
        snapshots: Vec::new(),
        looks: Vec::new(),
        rules: Default::default(),
        keeper: None,
    };
    for l in &script.plan.iptables {
        r.rules.entry(l.ns.clone()).or_default().push(l.clone());
    }
    // A run whose namespaces went away under it is not a run: it fails, naming them.
    let res = r.play(script).and_then(|()| r.realised.check_present());
    // Whatever happened, stop the processes and take the namespaces down.
    for (_, mut c) in r.servers.drain(..) {
        let _ = c.kill();
        let _ = c.wait();
    }
    if let Some((mut keeper, g)) = r.keeper.take() {
        let _making = realise::making();
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(g), Signal::SIGKILL);
        // The group's id may pass to another process once its leader is reaped: no signal's
        // clean-up may send to it after this.
        if let Some(a) = active().as_mut() {
            a.pgid = None;
        }
        let _ = keeper.wait();
    }
    let frames = r.capture.stop().map_err(|e| fail(format!("capture: {e}")));
    let notes = std::mem::take(&mut r.realised.notes);
    let lines = std::mem::take(&mut *r.lines.lock().unwrap_or_else(|p| p.into_inner()));
    let snapshots = std::mem::take(&mut r.snapshots);
    let looks = std::mem::take(&mut r.looks);
    let names = r.realised.names.clone();
    let down = r.realised.teardown();
    res?;
    down?;
    Ok(KernelRun { output: lines, frames: frames?, notes, snapshots, looks, names })
}

/// A run id no record holds: this process's pid in hex, with `-2`, `-3`… after it if a dead
/// process with the same pid left a record behind.
fn free_run_id() -> String {
    let base = format!("{:x}", std::process::id());
    let mut id = base.clone();
    let mut n = 1;
    while std::path::Path::new(crate::record::RECORD_DIR).join(&id).exists() {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

// ---------------------------------------------------------------------------------------
// Signals

/// The run in progress in this process, for clean-up on a signal.
struct Active {
    run_id: String,
    pgid: Option<i32>,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

fn active() -> std::sync::MutexGuard<'static, Option<Active>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The write end of the pipe the signal handler writes the signal's number to.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: nix::libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    let b = sig as u8;
    // SAFETY: write(2) is async-signal-safe (signal-safety(7)); `b` outlives the call.
    unsafe {
        nix::libc::write(fd, (&b as *const u8).cast(), 1);
    }
}

/// SIGINT, SIGTERM and SIGHUP go to a thread that cleans up and exits (`terminate`): the
/// handler itself only writes the signal's number to a pipe, which is all a handler may
/// safely do.
fn install_signal_handlers() -> Result<(), Error> {
    static ONCE: Once = Once::new();
    let mut res = Ok(());
    ONCE.call_once(|| res = install_once());
    res
}

fn install_once() -> Result<(), Error> {
    let (rx, tx) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| fail(format!("pipe: {e}")))?;
    SIGNAL_PIPE.store(std::os::fd::IntoRawFd::into_raw_fd(tx), Ordering::Relaxed);
    std::thread::Builder::new()
        .name("netsim-signals".into())
        .spawn(move || {
            let mut b = [0u8; 1];
            loop {
                match nix::unistd::read(&rx, &mut b) {
                    Ok(1) => terminate(b[0] as i32),
                    Err(nix::errno::Errno::EINTR) => {}
                    // The write end lives as long as the process: nothing else can happen.
                    _ => return,
                }
            }
        })
        .map_err(|e| fail(format!("cannot start the signal thread: {e}")))?;
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only calls write(2) on a descriptor that is never closed.
        unsafe { nix::sys::signal::sigaction(s, &action) }.map_err(|e| fail(format!("sigaction({s}): {e}")))?;
    }
    Ok(())
}

/// Ends the process after a signal: the run's agents are killed and its namespaces and
/// record removed, then it exits with 128 + `sig`. It waits for whatever the run is making
/// to be written down first, so nothing made escapes the record.
fn terminate(sig: i32) -> ! {
    let _making = realise::making();
    let name = Signal::try_from(sig).map(|s| s.as_str()).unwrap_or("signal");
    if let Some(a) = active().take() {
        if let Some(g) = a.pgid {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(g), Signal::SIGKILL);
        }
        // Only a record this process owns: the run id may have turned out to be another's.
        let dir = std::path::Path::new(crate::record::RECORD_DIR).join(&a.run_id);
        let ours = crate::record::read(&dir).is_ok_and(|r| Some(r.owner) == crate::record::Proc::current());
        if ours {
            match realise::clean_run(&a.run_id, true) {
                Ok(c) => eprintln!(
                    "netsim: {name}: run {} stopped: {} agent(s) killed, {} namespace(s) removed",
                    a.run_id,
                    c.killed.len(),
                    c.removed.len()
                ),
                Err(e) => eprintln!("netsim: {name}: run {} not removed whole: {e}; `netsim clean` retries", a.run_id),
            }
        }
    }
    std::process::exit(128 + sig)
}

impl Runner {
    fn snapshot(&mut self) {
        let s = self.realised.names.iter().map(|(p, k)| (p.clone(), crate::state::from_kernel(k))).collect();
        self.snapshots.push(s);
    }

    fn play(&mut self, script: &Script) -> Result<(), Error> {
        self.snapshot();
        for t in script.traffic.iter().filter(|t| t.is_server()) {
            self.start_server(t)?;
        }
        // Linux labs: clients (and, timed, the steps) at their times, from the start of the
        // run; a step at the same time as a client goes first, as the simulator ran it.
        let t0 = Instant::now();
        let mut due: Vec<(sim_core::SimTime, u8, usize)> =
            script.traffic.iter().enumerate().filter(|(_, t)| !t.is_server()).map(|(i, t)| (t.start(), 1, i)).collect();
        if script.timed {
            due.extend(script.steps.iter().enumerate().map(|(i, s)| (s.at, 0, i)));
        }
        due.sort();
        let mut running = Vec::new();
        // The program the last step started: a step without a time of its own waits for it,
        // as a shell does, whatever the clock says (a kernel's ping ends a little later or
        // sooner than the simulator's).
        let mut last: Option<Child> = None;
        for (at, kind, i) in due {
            if kind == 0
                && script.steps[i].chained
                && let Some(c) = last.take()
            {
                self.wait_client(c)?;
            }
            let at = Duration::from_nanos(at.as_nanos());
            while let Some(wait) = at.checked_sub(t0.elapsed()) {
                self.realised.check_present()?;
                std::thread::sleep(wait.min(CHECK_EVERY));
            }
            match kind {
                0 => {
                    if let Some(c) = self.step(&script.steps[i])? {
                        running.extend(last.replace(c));
                    }
                }
                _ => running.push(self.spawn(&script.traffic[i])?),
            }
        }
        running.extend(last);
        for c in running {
            self.wait_client(c)?;
        }
        if !script.timed {
            for s in &script.steps {
                if let Some(c) = self.step(s)? {
                    self.wait_client(c)?;
                }
            }
        }
        Ok(())
    }

    /// Runs a step; returns the client it started, for the caller to wait for.
    fn step(&mut self, s: &StepLog) -> Result<Option<Child>, Error> {
        self.realised.check_present()?;
        if let Some(d) = &s.delta {
            self.apply(d)?;
        }
        let mut client = None;
        for t in &s.started {
            match t {
                Traffic::Announce { .. } => {}
                t if t.is_server() => self.start_server(t)?,
                t => client = Some(t.clone()),
            }
        }
        // `docker exec -d`: started, not waited for.
        for t in &s.background {
            self.start_server(t)?;
        }
        // A DNS server answers from the zones it started with: start it again when they
        // change, once per step however many of its networks changed.
        let mut again: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for (ns, zones) in &s.dns {
            if let Some(entry) = self.dns_ports.get_mut(ns) {
                entry.1 = zones.clone();
                again.insert(ns.clone());
            }
        }
        for z in &s.zones {
            for (ns, (_, zones)) in self.dns_ports.iter_mut() {
                for slot in zones.0.iter_mut().filter(|x| x.key == z.key) {
                    *slot = z.clone();
                    again.insert(ns.clone());
                }
            }
        }
        for ns in again {
            let Some(i) = self.servers.iter().position(|(n, _)| n == &format!("dns:{ns}")) else { continue };
            let (_, mut old) = self.servers.remove(i);
            let _ = old.kill();
            let _ = old.wait();
            if let Some((port, records)) = self.dns_ports.get(&ns).cloned() {
                self.start_server(&Traffic::Dns { ns, port, records })?;
            }
        }
        self.realised.check_present()?;
        if let (Some(words), Some(k)) = (is_look(&s.line), self.realised.kernel_name(&s.host)) {
            let out = Command::new("ip")
                .args(["netns", "exec", k])
                .args(&words)
                .output()
                .map_err(|e| fail(format!("ip netns exec {k} {}: {e}", s.line)))?;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let status = out.status.code().unwrap_or(255) as u8;
            self.looks.push(Look { step: s.index, text, status });
        }
        self.snapshot();
        client.map(|t| self.spawn(&t)).transpose()
    }

    /// A plan change on the kernel: deleted namespaces and links go, new items come, and the
    /// iptables rules of a changed namespace are loaded again.
    fn apply(&mut self, d: &PlanDelta) -> Result<(), Error> {
        for n in &d.removed.namespaces {
            self.servers.retain_mut(|(name, c)| {
                let gone = name.ends_with(&format!(":{}", n.name)) || name == &n.name;
                if gone {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                !gone
            });
            self.realised.remove_ns(&n.name)?;
        }
        // What goes inside namespaces that stay: entries first, then links (which take their
        // own addresses and routes along). Deleting what is already gone is not an error.
        let mut ip_lines: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut fdb_lines: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let r = &d.removed;
        for f in &r.fdb {
            let dst = f.dst.map(|d| format!(" dst {d} self")).unwrap_or_else(|| " master".into());
            fdb_lines.entry(f.ns.clone()).or_default().push(format!("fdb del {} dev {}{dst}", f.mac, f.dev));
        }
        for n in &r.neighbours {
            ip_lines.entry(n.ns.clone()).or_default().push(format!("neigh del {} dev {}", n.ip, n.dev));
        }
        for rt in &r.routes {
            let dst = if rt.dst.len == 0 { "default".to_string() } else { rt.dst.to_string() };
            ip_lines.entry(rt.ns.clone()).or_default().push(format!("route del {dst}"));
        }
        for a in &r.addresses {
            ip_lines.entry(a.ns.clone()).or_default().push(format!("addr del {} dev {}", a.addr, a.dev));
        }
        for l in &r.links {
            ip_lines.entry(l.ns().to_string()).or_default().push(format!("link del {}", l.name()));
        }
        for s in &r.sysctls {
            if let (Some(k), Some(path)) = (self.realised.kernel_name(&s.ns), realise::sysctl_path(&s.key)) {
                let _ = Command::new("ip").args(["netns", "exec", k, "sh", "-c", &format!("echo 0 > {path}")]).status();
            }
        }
        for (tool, lines) in [("bridge", &fdb_lines), ("ip", &ip_lines)] {
            for (ns, ls) in lines {
                let Some(k) = self.realised.kernel_name(ns) else { continue };
                // -force: go on past entries that went with an earlier deletion.
                let mut c = Command::new(tool);
                c.args(["-n", k, "-force", "-batch", "-"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                if let Ok(mut child) = c.spawn() {
                    if let Some(mut i) = child.stdin.take() {
                        use std::io::Write;
                        let _ = i.write_all((ls.join("\n") + "\n").as_bytes());
                    }
                    let _ = child.wait();
                }
            }
        }
        // Faults taken back: a device up again, a netem gone (unless the step gives the
        // device another). A device the step deleted took its state with it.
        let deleted = |ns: &str, dev: &str| {
            r.namespaces.iter().any(|n| n.name == ns)
                || r.links.iter().any(|l| {
                    (l.ns() == ns && l.name() == dev)
                        || matches!(l, sim_core::plan::Link::Veth { peer, peer_ns, .. } if peer_ns == ns && peer == dev)
                })
        };
        let mut reload: std::collections::BTreeSet<String> = Default::default();
        for q in &r.qdiscs {
            let again = d.added.qdiscs.iter().any(|a| a.ns == q.ns && a.dev == q.dev);
            if !again && !deleted(&q.ns, &q.dev) && self.realised.netem(&q.ns, &q.dev, None)? {
                reload.insert(q.ns.clone());
            }
        }
        for x in &r.down {
            if !d.added.down.contains(x) && !deleted(&x.ns, &x.dev) {
                self.realised.link_set(&x.ns, &x.dev, true)?;
            }
        }
        self.realised.extend(&d.added)?;
        // netem's loss on a namespace made before this step is an iptables line: load its
        // list again with it.
        let new_ns = |ns: &str| d.added.namespaces.iter().any(|n| n.name == ns);
        reload.extend(d.added.qdiscs.iter().filter(|q| !new_ns(&q.ns)).map(|q| q.ns.clone()));
        for n in &d.added.namespaces {
            if let Some(p) = self.realised.netns_path(&n.name) {
                self.capture.add(&n.name, p).map_err(|e| fail(format!("capture: {e}")))?;
            }
        }
        for n in &d.removed.namespaces {
            self.rules.remove(&n.name);
        }
        for l in &d.added.iptables {
            self.rules.entry(l.ns.clone()).or_default().push(l.clone());
        }
        for (ns, splice) in &d.iptables {
            let old = self.rules.get(ns).map_or(&[][..], Vec::as_slice);
            let new = splice.apply(old, splice.insert.iter().cloned()).ok_or_else(|| {
                fail(format!("namespace `{ns}`: the rules are not those the step's change was made for"))
            })?;
            self.realised.replace_iptables(ns, &new)?;
            self.rules.insert(ns.clone(), new);
            reload.remove(ns);
        }
        for ns in reload {
            let rules = self.rules.get(&ns).cloned().unwrap_or_default();
            self.realised.replace_iptables(&ns, &rules)?;
        }
        for (ns, _) in &d.ipvs {
            self.realised.notes.push(format!(
                "namespace `{ns}`: changed IPVS services not programmed (IPVS is not driven on the kernel)"
            ));
        }
        Ok(())
    }

    fn start_server(&mut self, t: &Traffic) -> Result<(), Error> {
        if let Traffic::Dns { ns, port, records } = t {
            self.dns_ports.insert(ns.clone(), (*port, records.clone()));
        }
        let key = match t {
            Traffic::Dns { ns, .. } => format!("dns:{ns}"),
            t => t.ns().to_string(),
        };
        let c = self.spawn(t)?;
        self.servers.push((key, c));
        // Let it bind before anyone talks to it.
        std::thread::sleep(Duration::from_millis(30));
        Ok(())
    }

    /// The agents' process group. Its leader is a `netsim pause` that lives as long as the
    /// run and is reaped only at its end, so the group exists for every agent to join, and its
    /// id cannot pass to another process while a `killpg` may still be sent to it.
    fn process_group(&mut self) -> Result<i32, Error> {
        if let Some((_, g)) = &self.keeper {
            return Ok(*g);
        }
        let mut cmd = Command::new(&self.agent);
        cmd.arg("pause").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        dies_with_the_run(&mut cmd);
        let child = cmd.process_group(0).spawn().map_err(|e| fail(format!("cannot start `netsim pause`: {e}")))?;
        let g = child.id() as i32;
        self.realised.record().add_agent(child.id()).map_err(|e| fail(format!("cannot record an agent: {e}")))?;
        self.keeper = Some((child, g));
        if let Some(a) = active().as_mut() {
            a.pgid = Some(g);
        }
        Ok(g)
    }

    /// Starts the agent for `t` inside its namespace; its lines are collected as they come.
    /// Agents share one process group and die with the run (see `run`).
    fn spawn(&mut self, t: &Traffic) -> Result<Child, Error> {
        self.realised.check_present()?;
        let ns = t.ns().to_string();
        let k = self.realised.kernel_name(&ns).ok_or_else(|| fail(format!("no namespace `{ns}` on the kernel")))?;
        let ron = ron::to_string(t).map_err(|e| fail(format!("traffic: {e}")))?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", k]).arg(&self.agent).arg("agent");
        if self.dns_ports.contains_key(&ns) {
            cmd.args(["--nameserver", &Ipv4Addr::new(127, 0, 0, 11).to_string()]);
        }
        // Its own process group is not the terminal's: reading the terminal would stop it (SIGTTIN).
        cmd.arg(ron).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        dies_with_the_run(&mut cmd);
        // Started and written down under the lock, so a signal's clean-up sees every agent.
        let _making = realise::making();
        let pgid = self.process_group()?;
        let mut child = cmd.process_group(pgid).spawn().map_err(|e| fail(format!("agent in {ns}: {e}")))?;
        if let Err(e) = self.realised.record().add_agent(child.id()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("cannot record the agent in {ns}: {e}")));
        }
        drop(_making);
        let lines = self.lines.clone();
        if let Some(out) = child.stdout.take() {
            let ns = ns.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push((ns.clone(), l));
                }
            });
        }
        Ok(child)
    }

    fn wait_client(&mut self, mut c: Child) -> Result<(), Error> {
        let t0 = Instant::now();
        let mut checked = Instant::now();
        loop {
            if checked.elapsed() >= CHECK_EVERY {
                if let Err(e) = self.realised.check_present() {
                    let _ = c.kill();
                    let _ = c.wait();
                    return Err(e);
                }
                checked = Instant::now();
            }
            if let Some(st) = c.try_wait().map_err(|e| fail(format!("agent: {e}")))? {
                // Killed by someone else (`netsim clean --force`, `kill`): its output is cut short.
                if let Some(sig) = st.signal() {
                    self.realised.check_present()?;
                    let name = Signal::try_from(sig).map(|s| s.as_str()).unwrap_or("a signal");
                    return Err(fail(format!("an agent (pid {}) was killed by {name}: the run is incomplete", c.id())));
                }
                if !st.success() {
                    let mut err = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        use std::io::Read;
                        let _ = e.read_to_string(&mut err);
                    }
                    self.realised.notes.push(format!("an agent failed: {}", err.trim()));
                }
                // Give its output thread a moment to drain the pipe.
                std::thread::sleep(Duration::from_millis(20));
                return Ok(());
            }
            if t0.elapsed() > CLIENT_TIMEOUT {
                let _ = c.kill();
                let _ = c.wait();
                self.realised.notes.push(format!("a client ran over {}s and was stopped", CLIENT_TIMEOUT.as_secs()));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What the programs printed: every line the kernel run printed must be one the simulator
/// printed in the same namespace, once times and ephemeral ports are normalised (the
/// simulator prints more: its kernel's reasons and socket events).
pub fn compare_output(sim: &[(String, String)], kernel: &[(String, String)]) -> Vec<String> {
    let norm = |s: &str| normalise(s);
    let mut out = Vec::new();
    for (ns, line) in kernel {
        let n = norm(line);
        if !sim.iter().any(|(sns, sl)| sns == ns && norm(sl) == n) {
            out.push(format!("{ns}: the kernel run printed `{line}`, the simulator never did"));
        }
    }
    out
}

/// A ping's times (`time=0.224 ms` → `time=*`, the summary's `time 1001ms` → `*ms`, the
/// round trips' `0.191/1.214/2.237` → `*`), ephemeral ports (32768–60999) → `*`.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    let figures = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '/');
    for w in s.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        if w.starts_with("time=") {
            out.push_str("time=*");
            continue;
        }
        if let Some(ms) = w.strip_suffix("ms")
            && figures(ms)
        {
            out.push_str("*ms");
            continue;
        }
        if w.contains('/') && figures(w) {
            out.push('*');
            continue;
        }
        // addr:port or :port with an ephemeral port (a trailing `:` is punctuation)
        let (w, tail) = match w.strip_suffix(':') {
            Some(x) => (x, ":"),
            None => (w, ""),
        };
        if let Some((a, p)) = w.rsplit_once(':') {
            let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(port) = digits.parse::<u32>()
                && (32768..=60999).contains(&port)
            {
                out.push_str(a);
                out.push_str(":*");
                out.push_str(&p[digits.len()..]);
                out.push_str(tail);
                continue;
            }
        }
        out.push_str(w);
        out.push_str(tail);
    }
    out
}

fn fail(msg: String) -> Error {
    Error::Kernel { what: "netsim".into(), msg }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(text: &str) -> Look {
        Look { step: 0, text: text.into(), status: 0 }
    }

    #[test]
    fn a_look_differs_where_a_line_does_but_not_in_a_random_mac_or_a_namespace_name() {
        let names = [("host".to_string(), "nsim-1a2b-host".to_string())];
        // The simulator's `ip route` before it ended a route with iproute2's blank.
        let d = compare_look(
            "10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1\n",
            0,
            &look("10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1 \n"),
            &names,
        );
        assert_eq!(
            d.as_deref(),
            Some(
                "1 of 1 lines differ; line 1: the kernel printed `10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1 `, the simulator `10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1`"
            )
        );
        let sim = "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netns host\n";
        let kernel = "    link/ether 6e:0b:1c:33:9a:01 brd ff:ff:ff:ff:ff:ff link-netns nsim-1a2b-host\n";
        assert_eq!(compare_look(sim, 0, &look(kernel), &names), None);
        // A line only one side printed, and an exit status.
        assert!(
            compare_look("", 0, &look("    inet6 ::1/128 scope host \n"), &names)
                .is_some_and(|d| d.contains("the simulator (nothing)"))
        );
        let failed = Look { step: 0, text: String::new(), status: 1 };
        assert_eq!(
            compare_look("", 0, &failed, &names).as_deref(),
            Some("the kernel's `ip` exited 1, the simulator's 0")
        );
    }
}
