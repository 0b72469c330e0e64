//! A kernel plan realised on the real Linux kernel with network namespaces, and torn down.
//!
//! Every kernel object netsim makes lives inside a namespace of the run, named
//! `nsim-<run_id>-<plan name>`: nothing is created, changed or read in the root namespace.
//! Devices are made with netlink (rtnetlink), through one netlink socket per namespace that
//! is opened *inside* that namespace (setns in, open, setns back). A device whose other end,
//! underlay or parent lives in another namespace is created through the socket of the
//! namespace that owns the underlay/parent/first end, with `IFLA_NET_NS_FD` naming the
//! namespace it lands in: the kernel creates it there in one step, with its UDP socket (vxlan)
//! or lower device (macvlan) or peer (veth) in the creating namespace. This is what
//! `ip link add … netns X` does, and what Docker's "create vxlan0 in the host, then move it"
//! amounts to, without a temporary name that could clash in the underlay namespace.
//!
//! Via netlink: namespaces' devices (veth, bridge, vxlan, macvlan, the attempt at vlan),
//! MAC/MTU/ageing, masters, link up, addresses, routes, permanent neighbours and FDB entries.
//! Via plain syscalls: namespaces themselves (unshare + bind mount on `/run/netns/NAME`, as
//! `ip netns add` does, so `ip netns` sees them) and sysctls (`/proc/sys` opened while the
//! worker thread is inside the namespace).
//! Shelled out: iptables, as one `iptables-restore` per namespace (no netlink API for
//! xtables rules), run in a child that `setns`es into the namespace before exec.
//!
//! All the work happens on one dedicated worker thread, so the caller's thread never changes
//! namespace, and the tokio runtime is a current-thread one private to that worker.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::record::{self, Record};
use futures::TryStreamExt;
use futures::stream::StreamExt;
use netlink_packet_core::{NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::{InfoData, InfoVeth, MacVlanMode as NlMacVlanMode};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use rtnetlink::{Handle, LinkBridge, LinkMacVlan, LinkUnspec, LinkVeth, LinkVlan, LinkVxlan, RouteMessageBuilder};
use sim_core::plan::{Link, MacvlanMode, Plan};

/// Every namespace netsim makes starts with this. The prefix alone proves nothing: `netsim
/// clean` removes only what a run's record (`record`) names.
pub const PREFIX: &str = "nsim-";
/// Where `ip netns` keeps its bind mounts.
pub const NETNS_DIR: &str = "/run/netns";
/// Longest kernel namespace name we make.
pub const MAX_NAME: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not root / no CAP_NET_ADMIN: nothing was created.
    #[error("{0}")]
    Privileges(String),
    /// The plan asks for something this kernel cannot build.
    #[error("unsupported on this kernel: {0}")]
    Unsupported(String),
    /// The plan is inconsistent (a missing namespace or device) or the run id is unusable.
    #[error("bad plan: {0}")]
    Plan(String),
    /// The kernel (or iptables) refused an operation.
    #[error("{what}: {msg}")]
    Kernel { what: String, msg: String },
    /// An error injected by a test.
    #[error("injected failure: {0}")]
    Injected(String),
    /// Namespaces of a live run were removed under it (`ip netns del`, `netsim clean --force`).
    #[error("{0}")]
    Vanished(String),
}

fn kerr(what: impl Into<String>, e: impl std::fmt::Display) -> Error {
    Error::Kernel { what: what.into(), msg: e.to_string() }
}

/// Knobs for tests: a replaceable privilege check and fault injection.
#[derive(Clone, Debug)]
pub struct Options {
    /// Returns `Err(reason)` when the process lacks the privileges; by default it reads
    /// `CapEff` from `/proc/self/status`.
    pub check_privileges: fn() -> Result<(), String>,
    /// Fail with `Error::Injected` just before creating link number N (0-based, plan order).
    pub fail_at_link: Option<usize>,
    /// Panic just before creating link number N.
    pub panic_at_link: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options { check_privileges: cap_net_admin, fail_at_link: None, panic_at_link: None }
    }
}

/// CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21, for unshare/setns/mount) in the effective set.
pub fn cap_net_admin() -> Result<(), String> {
    let status =
        std::fs::read_to_string("/proc/self/status").map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .ok_or("no CapEff line in /proc/self/status")?;
    let missing: Vec<&str> = [(12, "CAP_NET_ADMIN"), (21, "CAP_SYS_ADMIN")]
        .into_iter()
        .filter(|(bit, _)| eff & (1u64 << bit) == 0)
        .map(|(_, n)| n)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("this process lacks {} (CapEff {eff:016x})", missing.join(" and ")))
    }
}

/// A realised plan: the run's namespaces on the kernel. Removed by `teardown` or on drop.
#[derive(Debug)]
pub struct Realised {
    pub run_id: String,
    /// Plan namespace name -> kernel namespace name, in plan order.
    pub names: Vec<(String, String)>,
    /// What this kernel could not build and was skipped (IPVS), said plainly.
    pub notes: Vec<String>,
    /// Wall-clock time of each phase of `realise`.
    pub timings: Vec<(&'static str, Duration)>,
    /// Kernel namespace names this run created (and only those), in creation order.
    created: Vec<String>,
    /// (device, inode) of each created namespace, to tell it from one made later under the
    /// same name.
    ids: Vec<(String, (u64, u64))>,
    /// What the run has made, written down before it is made.
    record: Record,
    torn_down: bool,
    /// netem's loss where this kernel has no netem: iptables lines by plan namespace and
    /// device, loaded after the namespace's own rules (`replace_iptables`).
    netem_rules: std::collections::BTreeMap<(String, String), sim_core::plan::IptablesPlan>,
}

impl Realised {
    fn empty(run_id: &str, record: Record) -> Self {
        Realised {
            run_id: run_id.to_string(),
            names: vec![],
            notes: vec![],
            timings: vec![],
            created: vec![],
            ids: vec![],
            record,
            torn_down: false,
            netem_rules: Default::default(),
        }
    }

    /// `ip netns del` of a namespace the run made, unless what the name holds now is another
    /// namespace (the run's own was removed and someone made one under the same name).
    fn delete_own(&self, name: &str) -> Result<(), Error> {
        let made = self.ids.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
        let now = ns_id(&Path::new(NETNS_DIR).join(name));
        match (made, now) {
            (Some(a), Some(b)) if a != b => Ok(()),
            _ => delete_netns(name),
        }
    }

    /// The run's record (agents started in its namespaces go there too).
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Fails, naming them, if namespaces of the run are gone or were replaced by others of the
    /// same name: the run cannot go on and must not pass for a whole one.
    pub fn check_present(&self) -> Result<(), Error> {
        let gone: Vec<String> = self
            .names
            .iter()
            .filter(|(_, k)| {
                let want = self.ids.iter().find(|(n, _)| n == k).map(|(_, id)| *id);
                let now = ns_id(&Path::new(NETNS_DIR).join(k));
                want.is_none() || now != want
            })
            .map(|(p, k)| format!("{k} (`{p}`)"))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        Err(Error::Vanished(format!(
            "{} namespace(s) of this run vanished while it ran: {}; something removed them under {NETNS_DIR} (`ip netns del`, `netsim clean --force`): the run is incomplete",
            gone.len(),
            gone.join(", ")
        )))
    }

    /// The kernel name of a plan namespace.
    pub fn kernel_name(&self, plan_ns: &str) -> Option<&str> {
        self.names.iter().find(|(p, _)| p == plan_ns).map(|(_, k)| k.as_str())
    }

    /// `/run/netns/<kernel name>`: open it and `setns`, or pass to `nsenter --net=`.
    pub fn netns_path(&self, plan_ns: &str) -> Option<PathBuf> {
        self.kernel_name(plan_ns).map(|k| Path::new(NETNS_DIR).join(k))
    }

    /// Adds `plan` to the run: its namespaces are new; its other items may refer to namespaces
    /// made before (a Docker step adding a container). On error the whole run is removed.
    pub fn extend(&mut self, plan: &Plan) -> Result<(), Error> {
        let opts = Options::default();
        let res = std::thread::scope(|s| {
            s.spawn(|| -> Result<(), Error> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .map_err(|e| kerr("cannot start the tokio runtime", e))?;
                rt.block_on(build(plan, &opts, self))
            })
            .join()
        });
        match res {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// `ip netns del` of one namespace of the run (a Docker step removed a sandbox).
    pub fn remove_ns(&mut self, plan_ns: &str) -> Result<(), Error> {
        let Some(i) = self.names.iter().position(|(p, _)| p == plan_ns) else { return Ok(()) };
        let (_, k) = self.names.remove(i);
        self.created.retain(|c| *c != k);
        self.ids.retain(|(c, _)| *c != k);
        delete_netns(&k)
    }

    /// Deletes the run's namespaces (which takes every device, address, route and rule in
    /// them with it). Reports the first failure but tries them all.
    pub fn teardown(mut self) -> Result<(), Error> {
        self.torn_down = true;
        let mut first = None;
        for name in std::mem::take(&mut self.created).into_iter().rev() {
            if let Err(e) = self.delete_own(&name) {
                first.get_or_insert(e);
            }
        }
        // A record is kept while something it names could not be removed.
        if first.is_none() {
            self.record.remove();
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Realised {
    fn drop(&mut self) {
        if !self.torn_down {
            let mut all = true;
            for name in std::mem::take(&mut self.created).into_iter().rev() {
                all &= self.delete_own(&name).is_ok();
            }
            if all {
                self.record.remove();
            }
        }
    }
}

/// Realises `plan` with namespaces named `nsim-<run_id>-…`. On any error, everything made
/// so far is removed before returning.
pub fn realise(plan: &Plan, run_id: &str) -> Result<Realised, Error> {
    realise_with(plan, run_id, &Options::default())
}

/// `realise` with an injectable privilege check and fault injection (for tests).
pub fn realise_with(plan: &Plan, run_id: &str, opts: &Options) -> Result<Realised, Error> {
    (opts.check_privileges)()
        .map_err(|why| Error::Privileges(format!("the netns backend needs root or CAP_NET_ADMIN: {why}; run it with sudo, or use the simulator (the default backend)")))?;
    check_run_id(run_id)?;
    let plan = plan.clone();
    let run_id = run_id.to_string();
    let opts = opts.clone();
    // A dedicated thread: it setns()es back and forth, and owns a current-thread runtime.
    let worker = std::thread::Builder::new()
        .name("netsim-netns".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .map_err(|e| kerr("cannot start the tokio runtime", e))?;
            let record = Record::create(&run_id).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Plan(format!(
                        "run id `{run_id}` is taken: {}/{run_id} records a run that is live or left namespaces behind (`netsim clean` removes a finished run's)",
                        record::RECORD_DIR
                    ))
                } else {
                    kerr(format!("cannot write the run's record under {}", record::RECORD_DIR), e)
                }
            })?;
            let mut r = Realised::empty(&run_id, record);
            // On error or panic `r` is dropped here, which deletes what was made.
            rt.block_on(build(&plan, &opts, &mut r))?;
            Ok(r)
        })
        .map_err(|e| kerr("cannot spawn the netns worker thread", e))?;
    match worker.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn check_run_id(run_id: &str) -> Result<(), Error> {
    if run_id.is_empty()
        || run_id.len() > 24
        || !run_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        return Err(Error::Plan(format!(
            "run id `{run_id}` must be 1..=24 characters of letters, digits, `_`, `.` or `-`"
        )));
    }
    Ok(())
}

/// The kernel name of a plan namespace: `nsim-<run>-<name>` with anything but letters,
/// digits, `-`, `_` and `.` mapped to `_`; too long a name is cut and given a hash of the
/// original; a clash with an earlier name gets `-2`, `-3`, ….
pub fn kernel_ns_name(run_id: &str, plan_ns: &str, taken: &[(String, String)]) -> String {
    let clean: String =
        plan_ns.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let head = format!("{PREFIX}{run_id}-");
    let mut base = format!("{head}{clean}");
    if base.len() > MAX_NAME - 4 {
        // FNV-1a of the original name keeps cut names distinct.
        let h = plan_ns.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
        let keep = MAX_NAME - 4 - head.len() - 9;
        base = format!("{head}{}-{:08x}", &clean[..keep], h as u32);
    }
    let mut name = base.clone();
    let mut n = 1;
    while taken.iter().any(|(_, k)| *k == name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

// ---------------------------------------------------------------------------------------
// Namespaces: the same steps as `ip netns add/del`, without forking.

/// Makes `/run/netns` a shared mount point, as iproute2 does, so namespace bind mounts
/// propagate to mount namespaces made later (`ip netns exec`).
fn prepare_netns_dir() -> Result<(), Error> {
    std::fs::create_dir_all(NETNS_DIR).map_err(|e| kerr(format!("mkdir {NETNS_DIR}"), e))?;
    let shared =
        || nix::mount::mount(None::<&str>, NETNS_DIR, Some("none"), MsFlags::MS_SHARED | MsFlags::MS_REC, None::<&str>);
    match shared() {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EINVAL) => {
            nix::mount::mount(
                Some(NETNS_DIR),
                NETNS_DIR,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(|e| kerr(format!("mount --bind {NETNS_DIR} {NETNS_DIR}"), e))?;
            shared().map_err(|e| kerr(format!("mount --make-rshared {NETNS_DIR}"), e))
        }
        Err(e) => Err(kerr(format!("mount --make-rshared {NETNS_DIR}"), e)),
    }
}

/// Held while a run makes something it must record (a namespace, an agent) and by clean-up
/// on a signal, so clean-up never runs between the making and the writing down.
pub(crate) static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn making() -> std::sync::MutexGuard<'static, ()> {
    MAKING.lock().unwrap_or_else(|p| p.into_inner())
}

/// (device, inode) of the namespace mounted at `path`: nsfs gives each namespace its own inode.
fn ns_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Creates namespace `name` (fails if it exists): the name is claimed with `O_EXCL` and
/// written in the run's record, then a thread unshares its network namespace and bind-mounts
/// it on `/run/netns/NAME`, and exits; the mount keeps the namespace alive. Returns the
/// namespace's (device, inode).
fn create_netns(name: &str, record: &Record) -> Result<(u64, u64), Error> {
    let _making = making();
    let path = Path::new(NETNS_DIR).join(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| kerr(format!("cannot create namespace {name} ({})", path.display()), e))?;
    if let Err(e) = record.add_namespace(name) {
        let _ = std::fs::remove_file(&path);
        return Err(kerr(format!("cannot record namespace {name} in {}", record.dir().display()), e));
    }
    let p = path.clone();
    let r = std::thread::spawn(move || -> nix::Result<()> {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
        nix::mount::mount(Some("/proc/thread-self/ns/net"), &p, Some("none"), MsFlags::MS_BIND, None::<&str>)
    })
    .join()
    .unwrap_or(Err(nix::errno::Errno::EINTR));
    if let Err(e) = r {
        let _ = std::fs::remove_file(&path);
        return Err(kerr(format!("cannot create namespace {name}"), e));
    }
    ns_id(&path).ok_or_else(|| kerr(format!("cannot create namespace {name}"), "its mount vanished at once"))
}

/// `ip netns del NAME`: lazy unmount and unlink; the kernel frees the namespace (and its
/// devices) once nothing else holds it.
fn delete_netns(name: &str) -> Result<(), Error> {
    let path = Path::new(NETNS_DIR).join(name);
    match nix::mount::umount2(&path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(kerr(format!("cannot unmount {}", path.display()), e)),
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(kerr(format!("cannot remove {}", path.display()), e)),
    }
}

/// What `clean` did and what it left alone, and why.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Namespaces removed, in the order of their runs.
    pub removed: Vec<String>,
    /// Agents stopped (pids).
    pub killed: Vec<i32>,
    /// Runs whose records are gone with what they named.
    pub runs: Vec<String>,
    /// Runs still alive, left alone: (run id, pid of the run).
    pub live: Vec<(String, i32)>,
    /// Namespaces named `nsim-…` that no run recorded: not netsim's to remove.
    pub unrecorded: Vec<String>,
    /// Records that could not be read, left alone with what they name.
    pub unreadable: Vec<String>,
}

/// `netsim clean`: removes what finished runs (crashed, killed) left, as their records name
/// it: their agents and their namespaces. A live run is left alone unless `force`, and a
/// namespace no record names is never touched.
pub fn clean(force: bool) -> Result<Cleaned, Error> {
    check_privileges()?;
    let mut out = Cleaned::default();
    let records =
        record::all().map_err(|e| kerr(format!("cannot list the run records in {}", record::RECORD_DIR), e))?;
    let mut named: Vec<String> = Vec::new();
    for (_, rec) in records {
        match rec {
            Ok(rec) => {
                named.extend(rec.namespaces.iter().cloned());
                clean_record(&rec, force, &mut out)?;
            }
            Err(why) => out.unreadable.push(why),
        }
    }
    let dir = match std::fs::read_dir(NETNS_DIR) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(kerr(format!("cannot list {NETNS_DIR}"), e)),
    };
    out.unrecorded = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX) && !named.contains(n))
        .collect();
    out.unrecorded.sort();
    Ok(out)
}

/// Removes what run `run_id` left (nothing if it has no record). A live run is left alone
/// unless `force`.
pub fn clean_run(run_id: &str, force: bool) -> Result<Cleaned, Error> {
    check_run_id(run_id)?;
    check_privileges()?;
    let mut out = Cleaned::default();
    let dir = Path::new(record::RECORD_DIR).join(run_id);
    if !dir.exists() {
        return Ok(out);
    }
    match record::read(&dir) {
        Ok(rec) => clean_record(&rec, force, &mut out)?,
        Err(why) => out.unreadable.push(why),
    }
    Ok(out)
}

fn clean_record(rec: &record::RunRecord, force: bool, out: &mut Cleaned) -> Result<(), Error> {
    if rec.owner.alive() && !force {
        out.live.push((rec.run_id.clone(), rec.owner.pid));
        return Ok(());
    }
    for a in rec.agents.iter().filter(|a| a.alive()) {
        if nix::sys::signal::kill(nix::unistd::Pid::from_raw(a.pid), nix::sys::signal::Signal::SIGKILL).is_ok() {
            out.killed.push(a.pid);
        }
    }
    for n in &rec.namespaces {
        if Path::new(NETNS_DIR).join(n).exists() {
            delete_netns(n)?;
            out.removed.push(n.clone());
        }
    }
    std::fs::remove_dir_all(&rec.dir).map_err(|e| kerr(format!("cannot remove {}", rec.dir.display()), e))?;
    out.runs.push(rec.run_id.clone());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The worker.

/// One namespace of the run: its fd (for setns and IFLA_NET_NS_FD) and a netlink handle
/// whose socket was opened inside it.
struct Ns {
    kname: String,
    file: File,
    nl: Handle,
}

/// Runs `f` with this thread inside the namespace `target`, then returns to where it was.
fn in_netns<T>(target: &File, f: impl FnOnce() -> T) -> Result<T, Error> {
    let home = File::open("/proc/thread-self/ns/net").map_err(|e| kerr("cannot open this thread's namespace", e))?;
    nix::sched::setns(target, CloneFlags::CLONE_NEWNET).map_err(|e| kerr("setns into the run's namespace", e))?;
    let r = f();
    // Staying in the wrong namespace would make later steps touch it: never continue.
    nix::sched::setns(&home, CloneFlags::CLONE_NEWNET).expect("cannot return to the original network namespace");
    Ok(r)
}

/// `ethtool -K DEV tso off gso off gro off` inside the namespace `file`, with the legacy
/// ethtool ioctls (include/uapi/linux/ethtool.h: `ETHTOOL_STSO`, `ETHTOOL_SGSO`,
/// `ETHTOOL_SGRO`, each a `struct ethtool_value`), so no ethtool binary is needed.
fn offloads_off(file: &File, dev: &str) -> Result<(), Error> {
    use nix::libc;
    #[repr(C)]
    struct EthtoolValue {
        cmd: u32,
        data: u32,
    }
    const SIOCETHTOOL: libc::c_ulong = 0x8946;
    const ETHTOOL_STSO: u32 = 0x1f;
    const ETHTOOL_SGSO: u32 = 0x24;
    const ETHTOOL_SGRO: u32 = 0x2c;
    let sock = in_netns(file, || std::net::UdpSocket::bind("127.0.0.1:0"))?
        .map_err(|e| kerr(format!("a socket to set {dev}'s offloads"), e))?;
    for (cmd, what) in [(ETHTOOL_STSO, "tso"), (ETHTOOL_SGSO, "gso"), (ETHTOOL_SGRO, "gro")] {
        let mut v = EthtoolValue { cmd, data: 0 };
        // SAFETY: ifreq is plain data; the name is at most IFNAMSIZ - 1 bytes (plans are
        // checked for it) and NUL-terminated by the zeroed struct; ifru_data points at `v`,
        // which outlives the call.
        let rc = unsafe {
            let mut ifr: libc::ifreq = std::mem::zeroed();
            for (d, b) in ifr.ifr_name.iter_mut().zip(dev.bytes().take(libc::IFNAMSIZ - 1)) {
                *d = b as libc::c_char;
            }
            ifr.ifr_ifru.ifru_data = (&mut v as *mut EthtoolValue).cast();
            libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&sock), SIOCETHTOOL, &mut ifr)
        };
        if rc != 0 {
            return Err(kerr(format!("ethtool -K {dev} {what} off"), std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// `/proc/sys` path of the sysctl keys plans use (`net.ipv4.conf.<dev>.<knob>`; a device
/// name may itself hold dots, so the key is split around it).
pub fn sysctl_path(key: &str) -> Option<String> {
    let rest = key.strip_prefix("net.ipv4.conf.")?;
    let (dev, knob) = rest.rsplit_once('.')?;
    Some(format!("/proc/sys/net/ipv4/conf/{dev}/{knob}"))
}

fn write_sysctl(path: &str, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Veth,
    Bridge,
    Vxlan,
    Macvlan,
    Vlan,
}

struct Ctx {
    ns: HashMap<String, Ns>,
    /// (plan ns, device) -> kind.
    devs: HashMap<(String, String), Kind>,
}

impl Ctx {
    fn ns(&self, name: &str, user: &str) -> Result<&Ns, Error> {
        self.ns.get(name).ok_or_else(|| Error::Plan(format!("{user} names namespace `{name}`, which the plan lacks")))
    }
}

async fn ifindex(ns: &Ns, plan_ns: &str, dev: &str) -> Result<u32, Error> {
    let mut s = ns.nl.link().get().match_name(dev.to_string()).execute();
    match s.try_next().await {
        Ok(Some(m)) => Ok(m.header.index),
        Ok(None) | Err(_) => Err(Error::Plan(format!("no device `{dev}` in namespace `{plan_ns}` ({})", ns.kname))),
    }
}

async fn build(plan: &Plan, opts: &Options, r: &mut Realised) -> Result<(), Error> {
    let t = Instant::now();
    let mut cx = Ctx { ns: HashMap::new(), devs: HashMap::new() };

    // 0. Namespaces made by an earlier call (a Docker step's plan refers to them).
    for (p, k) in r.names.clone() {
        let file = File::open(Path::new(NETNS_DIR).join(&k)).map_err(|e| kerr(format!("open {k}"), e))?;
        let nl = in_netns(&file, || -> Result<Handle, Error> {
            let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| kerr("netlink socket", e))?;
            tokio::spawn(conn);
            Ok(handle)
        })??;
        cx.ns.insert(p, Ns { kname: k, file, nl });
    }

    // 1. Namespaces, their netlink sockets and sysctls.
    prepare_netns_dir()?;
    for n in &plan.namespaces {
        if cx.ns.contains_key(n.name.as_str()) {
            return Err(Error::Plan(format!("namespace `{}` is declared twice", n.name)));
        }
        let kname = kernel_ns_name(&r.run_id, &n.name, &r.names);
        let id = create_netns(&kname, &r.record)?;
        r.created.push(kname.clone());
        r.ids.push((kname.clone(), id));
        r.names.push((n.name.clone(), kname.clone()));
        let file = File::open(Path::new(NETNS_DIR).join(&kname)).map_err(|e| kerr(format!("open {kname}"), e))?;
        let (nl, missing_brnf) = in_netns(&file, || -> Result<(Handle, bool), Error> {
            let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| kerr("netlink socket", e))?;
            tokio::spawn(conn);
            let sysctl =
                |p: &str, v: &str| write_sysctl(p, v).map_err(|e| kerr(format!("sysctl {p}={v} in {kname}"), e));
            sysctl("/proc/sys/net/ipv4/ip_forward", if n.ip_forward { "1" } else { "0" })?;
            sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0")?;
            // The simulator has no IPv6: without it here too, no link-local address, no router
            // solicitation or MLD report, no `inet6` line in `ip addr` (Docker turns it off in
            // a container's namespace the same way). A kernel built without IPv6 has no such
            // file, and nothing to turn off.
            for key in ["all", "default"] {
                let p = format!("/proc/sys/net/ipv6/conf/{key}/disable_ipv6");
                if Path::new(&p).exists() {
                    sysctl(&p, "1")?;
                }
            }
            let brnf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
            let have = Path::new(brnf).exists();
            if have {
                sysctl(brnf, if n.bridge_nf_call_iptables { "1" } else { "0" })?;
            }
            Ok((handle, !have && n.bridge_nf_call_iptables))
        })??;
        if missing_brnf {
            r.notes.push(format!(
                "namespace `{}`: net.bridge.bridge-nf-call-iptables is absent (no br_netfilter): bridged traffic skips iptables",
                n.name
            ));
        }
        if n.lo_up {
            let ns = Ns { kname: kname.clone(), file, nl };
            let lo = ifindex(&ns, &n.name, "lo").await?;
            ns.nl
                .link()
                .set(LinkUnspec::new_with_index(lo).up().build())
                .execute()
                .await
                .map_err(|e| kerr(format!("ip -n {kname} link set lo up"), e))?;
            cx.ns.insert(n.name.clone(), ns);
        } else {
            cx.ns.insert(n.name.clone(), Ns { kname, file, nl });
        }
    }
    r.timings.push(("namespaces", t.elapsed()));

    // 2. Devices, in plan order (a vxlan's underlay or a macvlan's parent comes first).
    let t = Instant::now();
    for (i, link) in plan.links.iter().enumerate() {
        if opts.fail_at_link == Some(i) {
            return Err(Error::Injected(format!("before link {i} (`{}` in `{}`)", link.name(), link.ns())));
        }
        if opts.panic_at_link == Some(i) {
            panic!("injected panic before link {i} (`{}` in `{}`)", link.name(), link.ns());
        }
        create_link(&mut cx, link).await?;
    }
    // The veths hand whole segments up to the wire, as a NIC would: no segmentation offload
    // (a capture would show one 7 240-byte segment where the wire carries five, and a router
    // would refuse it whole, with one "fragmentation needed"), no receive aggregation.
    for link in &plan.links {
        if let Link::Veth { name, ns, peer, peer_ns, .. } = link {
            offloads_off(&cx.ns(ns, "a veth")?.file, name)?;
            offloads_off(&cx.ns(peer_ns, "a veth")?.file, peer)?;
        }
    }
    r.timings.push(("links", t.elapsed()));

    // 3. Masters, then everything up.
    let t = Instant::now();
    for link in &plan.links {
        let ends: Vec<(&str, &str, Option<&String>)> = match link {
            Link::Veth { name, ns, peer, peer_ns, master, peer_master, .. } => {
                vec![(ns, name, master.as_ref()), (peer_ns, peer, peer_master.as_ref())]
            }
            Link::Vxlan { name, ns, master, .. } => vec![(ns, name, master.as_ref())],
            other => vec![(other.ns(), other.name(), None)],
        };
        for (ns_name, dev, master) in ends {
            let ns = cx.ns(ns_name, &format!("link `{dev}`"))?;
            let idx = ifindex(ns, ns_name, dev).await?;
            let mut b = LinkUnspec::new_with_index(idx).up();
            let mut what = format!("ip -n {} link set {dev}", ns.kname);
            if let Some(m) = master {
                b = b.controller(ifindex(ns, ns_name, m).await?);
                what.push_str(&format!(" master {m}"));
            }
            what.push_str(" up");
            ns.nl.link().set(b.build()).execute().await.map_err(|e| kerr(what, e))?;
        }
    }
    r.timings.push(("masters+up", t.elapsed()));

    // 3b. Per-device sysctls, now that the devices exist.
    for s in &plan.sysctls {
        let ns = cx.ns(&s.ns, &format!("sysctl {}", s.key))?;
        let path = sysctl_path(&s.key).ok_or_else(|| Error::Unsupported(format!("sysctl {}", s.key)))?;
        in_netns(&ns.file, || write_sysctl(&path, &s.value))?
            .map_err(|e| kerr(format!("sysctl -w {}={} in {}", s.key, s.value, ns.kname), e))?;
    }

    // 3c. Bridge port flags, now that the ports have their masters.
    for x in &plan.bridge_ports {
        let ns = cx.ns(&x.ns, &format!("bridge port {}", x.dev))?;
        bridge_link_set(&ns.file, &ns.kname, x)?;
    }

    // 4. Addresses, routes, neighbours, FDB.
    let t = Instant::now();
    for a in &plan.addresses {
        let ns = cx.ns(&a.ns, &format!("address {}", a.addr))?;
        let idx = ifindex(ns, &a.ns, &a.dev).await?;
        ns.nl
            .address()
            .add(idx, IpAddr::V4(a.addr.addr), a.addr.len)
            .execute()
            .await
            .map_err(|e| kerr(format!("ip -n {} addr add {} dev {}", ns.kname, a.addr, a.dev), e))?;
    }
    for rt in &plan.routes {
        let ns = cx.ns(&rt.ns, &format!("route {}", rt.dst))?;
        let dst = rt.dst.trunc();
        let mut b = RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(dst.addr, dst.len)
            .protocol(RouteProtocol::Boot)
            .kind(RouteType::Unicast);
        let mut what = format!("ip -n {} route add {dst}", ns.kname);
        if let Some(via) = rt.via {
            b = b.gateway(via);
            what.push_str(&format!(" via {via}"));
        } else {
            b = b.scope(RouteScope::Link);
        }
        if let Some(dev) = &rt.dev {
            b = b.output_interface(ifindex(ns, &rt.ns, dev).await?);
            what.push_str(&format!(" dev {dev}"));
        }
        if let Some(src) = rt.src {
            b = b.pref_source(src);
            what.push_str(&format!(" src {src}"));
        }
        if rt.metric != 0 {
            b = b.priority(rt.metric);
            what.push_str(&format!(" metric {}", rt.metric));
        }
        ns.nl.route().add(b.build()).execute().await.map_err(|e| kerr(what, e))?;
    }
    for n in &plan.neighbours {
        let ns = cx.ns(&n.ns, &format!("neighbour {}", n.ip))?;
        let idx = ifindex(ns, &n.ns, &n.dev).await?;
        ns.nl
            .neighbours()
            .add(idx, IpAddr::V4(n.ip))
            .link_layer_address(&n.lladdr.0)
            .state(NeighbourState::Permanent)
            .execute()
            .await
            .map_err(|e| {
                kerr(
                    format!("ip -n {} neigh add {} lladdr {} dev {} nud permanent", ns.kname, n.ip, n.lladdr, n.dev),
                    e,
                )
            })?;
    }
    for f in &plan.fdb {
        let ns = cx.ns(&f.ns, &format!("fdb entry {}", f.mac))?;
        let idx = ifindex(ns, &f.ns, &f.dev).await?;
        // On a vxlan device the entry is the device's own (`self`: a remote VTEP); on a
        // bridge port it goes to the bridge's FDB (`master`).
        // A `dst` only means something on a vxlan device (which may come from an earlier call).
        let own = f.dst.is_some() || cx.devs.get(&(f.ns.clone(), f.dev.clone())) == Some(&Kind::Vxlan);
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = idx;
        // A bridge port's entry is `static` (NUD_NOARP): forwarded to the port, as the plan
        // means it; `permanent` would make it a local address (`fdb_add_entry` in
        // net/bridge/br_fdb.c), whose frames go up the bridge's stack.
        m.header.state = if own { NeighbourState::Permanent } else { NeighbourState::Noarp };
        m.header.flags = if own { NeighbourFlags::Own } else { NeighbourFlags::Controller };
        m.attributes.push(NeighbourAttribute::LinkLayerAddress(f.mac.0.to_vec()));
        if let Some(dst) = f.dst {
            m.attributes.push(NeighbourAttribute::Destination(NeighbourAddress::Inet(dst)));
        }
        let what = format!(
            "bridge -n {} fdb append {} dev {}{} {}",
            ns.kname,
            f.mac,
            f.dev,
            f.dst.map(|d| format!(" dst {d}")).unwrap_or_default(),
            if own { "self permanent" } else { "master static" }
        );
        // `append` (NLM_F_APPEND), not `add`: several all-zeros entries make the flood list.
        let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewNeighbour(m));
        req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
        let mut nl = ns.nl.clone();
        let mut resp = nl.request(req).map_err(|e| kerr(&what, e))?;
        while let Some(msg) = resp.next().await {
            if let NetlinkPayload::Error(e) = msg.payload {
                return Err(kerr(what, rtnetlink::Error::NetlinkError(e)));
            }
        }
    }
    r.timings.push(("addr+route+neigh+fdb", t.elapsed()));

    // 4b. Root qdiscs (netem, or what of it this kernel can do).
    for q in &plan.qdiscs {
        let ns = cx.ns(&q.ns, &format!("the qdisc of {}", q.dev))?;
        let (file, kname) = (ns.file.try_clone().map_err(|e| kerr("dup", e))?, ns.kname.clone());
        r.set_netem(&file, &kname, &q.ns, &q.dev, Some(&q.netem))?;
    }

    // 5. iptables: one iptables-restore per namespace (new ones: a namespace made earlier
    // has its whole list loaded again by whoever changed it, `replace_iptables`).
    let t = Instant::now();
    for n in &plan.namespaces {
        let mut lines: Vec<_> = plan.iptables.iter().filter(|l| l.ns == n.name).collect();
        lines.extend(r.netem_rules.iter().filter(|((ns, _), _)| *ns == n.name).map(|(_, l)| l));
        if lines.is_empty() {
            continue;
        }
        let ns = cx.ns(&n.name, "iptables")?;
        let tables = loadable(lines.iter().copied(), &mut r.notes);
        apply_iptables(&ns.file, &ns.kname, &tables)?;
    }
    for l in &plan.iptables {
        cx.ns(&l.ns, "an iptables rule")?;
    }
    r.timings.push(("iptables", t.elapsed()));

    // 5b. Devices set down, last: the kernel takes their routes away then, as it did in
    // the simulator.
    for x in &plan.down {
        let ns = cx.ns(&x.ns, &format!("device {} set down", x.dev))?;
        link_set(&ns.file, &ns.kname, &x.dev, false)?;
    }

    // 6. IPVS: not on this kernel.
    for v in &plan.ipvs {
        let ns = cx.ns(&v.ns, "an IPVS service")?;
        let have = in_netns(&ns.file, || Path::new("/proc/net/ip_vs").exists())?;
        r.notes.push(if have {
            format!(
                "namespace `{}`: IPVS service fwmark {} ({} destinations) not programmed: this backend does not drive IPVS yet",
                v.ns,
                v.fwmark,
                v.dests.len()
            )
        } else {
            format!(
                "unsupported on this kernel: IPVS (ipvsadm: Protocol not available): namespace `{}`, service fwmark {} with {} destinations was not programmed",
                v.ns,
                v.fwmark,
                v.dests.len()
            )
        });
    }
    Ok(())
}

fn mac_vec(m: &Option<sim_core::wire::Mac>) -> Option<Vec<u8>> {
    m.as_ref().map(|m| m.0.to_vec())
}

async fn create_link(cx: &mut Ctx, link: &Link) -> Result<(), Error> {
    let user = format!("link `{}`", link.name());
    match link {
        Link::Veth { name, ns, peer, peer_ns, mac, peer_mac, mtu, txqueuelen, .. } => {
            let a = cx.ns(ns, &user)?;
            let b = cx.ns(peer_ns, &user)?;
            // The peer is created straight into its namespace (IFLA_NET_NS_FD in the peer's
            // message), so a peer named like a device of `ns` (eth0 <-> eth0) is fine.
            let mut pm = LinkUnspec::new_with_name(peer);
            if ns != peer_ns {
                pm = pm.setns_by_fd(b.file.as_raw_fd());
            }
            if let Some(m) = mac_vec(peer_mac) {
                pm = pm.address(m);
            }
            if let Some(mtu) = mtu {
                pm = pm.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                pm = pm.txqueuelen(*q);
            }
            let mut m = LinkVeth::new(name, peer).set_info_data(InfoData::Veth(InfoVeth::Peer(pm.build())));
            if let Some(mac) = mac_vec(mac) {
                m = m.address(mac);
            }
            if let Some(mtu) = mtu {
                m = m.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                m = m.txqueuelen(*q);
            }
            a.nl.link().add(m.build()).execute().await.map_err(|e| {
                kerr(format!("ip -n {} link add {name} type veth peer {peer} netns {}", a.kname, b.kname), e)
            })?;
            cx.devs.insert((ns.clone(), name.clone()), Kind::Veth);
            cx.devs.insert((peer_ns.clone(), peer.clone()), Kind::Veth);
        }
        Link::Bridge { name, ns, mac, mtu, ageing, txqueuelen } => {
            // Bridges cannot change namespace: made inside.
            let a = cx.ns(ns, &user)?;
            let mut m = LinkBridge::new(name);
            if let Some(ag) = ageing {
                m = m.ageing_time((ag.0 / 10_000_000) as u32); // centiseconds (USER_HZ)
            }
            if let Some(mac) = mac_vec(mac) {
                m = m.address(mac);
            }
            if let Some(mtu) = mtu {
                m = m.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                m = m.txqueuelen(*q);
            }
            a.nl.link()
                .add(m.build())
                .execute()
                .await
                .map_err(|e| kerr(format!("ip -n {} link add {name} type bridge", a.kname), e))?;
            cx.devs.insert((ns.clone(), name.clone()), Kind::Bridge);
        }
        Link::Vxlan {
            name,
            ns,
            vni,
            local,
            dev,
            dstport,
            learning,
            proxy,
            l2miss,
            l3miss,
            udpcsum,
            srcport,
            mac,
            mtu,
            underlay_ns,
            txqueuelen,
            ..
        } => {
            let under_name = underlay_ns.as_deref().unwrap_or(ns);
            let a = cx.ns(ns, &user)?;
            let u = cx.ns(under_name, &user)?;
            // Created through the underlay's socket: its UDP socket and `dev` are the
            // underlay's; IFLA_NET_NS_FD puts the device itself in `ns`.
            let mut m = LinkVxlan::new(name, *vni)
                .port(*dstport)
                .learning(*learning)
                .proxy(*proxy)
                .l2miss(*l2miss)
                .l3miss(*l3miss)
                .udp_csum(*udpcsum);
            if let Some((lo, hi)) = srcport {
                m = m.port_range(*lo, *hi);
            }
            if let Some(l) = local {
                m = m.local(*l);
            }
            if let Some(d) = dev {
                m = m.dev(ifindex(u, under_name, d).await?);
            }
            if let Some(mac) = mac_vec(mac) {
                m = m.address(mac);
            }
            if let Some(mtu) = mtu {
                m = m.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                m = m.txqueuelen(*q);
            }
            if under_name != ns {
                m = m.setns_by_fd(a.file.as_raw_fd());
            }
            u.nl.link().add(m.build()).execute().await.map_err(|e| {
                kerr(
                    format!(
                        "ip -n {} link add {name} type vxlan id {vni} dstport {dstport} (into {})",
                        u.kname, a.kname
                    ),
                    e,
                )
            })?;
            cx.devs.insert((ns.clone(), name.clone()), Kind::Vxlan);
        }
        Link::Macvlan { name, ns, parent, parent_ns, mode, mac, mtu, txqueuelen } => {
            let pn = parent_ns.as_deref().unwrap_or(ns);
            let a = cx.ns(ns, &user)?;
            let p = cx.ns(pn, &user)?;
            let pidx = ifindex(p, pn, parent).await?;
            let mode = match mode {
                MacvlanMode::Bridge => NlMacVlanMode::Bridge,
                MacvlanMode::Private => NlMacVlanMode::Private,
                MacvlanMode::Vepa => NlMacVlanMode::Vepa,
            };
            let mut m = LinkMacVlan::new(name, pidx, mode);
            if let Some(mac) = mac_vec(mac) {
                m = m.address(mac);
            }
            if let Some(mtu) = mtu {
                m = m.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                m = m.txqueuelen(*q);
            }
            if pn != ns {
                m = m.setns_by_fd(a.file.as_raw_fd());
            }
            p.nl.link().add(m.build()).execute().await.map_err(|e| {
                kerr(format!("ip -n {} link add link {parent} {name} type macvlan (into {})", p.kname, a.kname), e)
            })?;
            cx.devs.insert((ns.clone(), name.clone()), Kind::Macvlan);
        }
        Link::Vlan { name, ns, parent, id, mac, mtu, txqueuelen } => {
            let a = cx.ns(ns, &user)?;
            let pidx = ifindex(a, ns, parent).await?;
            let mut m = LinkVlan::new(name, pidx, *id);
            if let Some(mac) = mac_vec(mac) {
                m = m.address(mac);
            }
            if let Some(mtu) = mtu {
                m = m.mtu(*mtu);
            }
            if let Some(q) = txqueuelen {
                m = m.txqueuelen(*q);
            }
            // Tried for real; this kernel has no 8021q, and says so.
            a.nl.link().add(m.build()).execute().await.map_err(|e| {
                Error::Unsupported(format!(
                    "802.1Q VLAN link `{name}` (parent `{parent}`, id {id}) in namespace `{ns}`: `ip link add link {parent} name {name} type vlan id {id}` failed: {e} (the kernel has no `vlan` link type; iproute2 says \"Error: Unknown device type.\")"
                ))
            })?;
            cx.devs.insert((ns.clone(), name.clone()), Kind::Vlan);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// iptables

/// Splits a rule like a shell would (quotes `'…'` and `"…"`, backslash escapes).
pub fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed ' in `{s}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => cur.push(chars.next().ok_or_else(|| format!("dangling \\ in `{s}`"))?),
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed \" in `{s}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().ok_or_else(|| format!("dangling \\ in `{s}`"))?);
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Turns `iptables -t TABLE RULE` lines into one `iptables-restore` input, or `None` when
/// a line is not expressible there (anything but -A, -I, -N, -P).
pub fn restore_input(lines: &[(&str, &str)]) -> Result<Option<String>, String> {
    // table -> (declarations, rules), in order of first appearance.
    let mut tables: Vec<(String, Vec<String>, Vec<String>)> = vec![];
    for (table, rule) in lines {
        let words = shell_words(rule)?;
        let slot = match tables.iter().position(|(t, _, _)| t == table) {
            Some(i) => i,
            None => {
                tables.push((table.to_string(), vec![], vec![]));
                tables.len() - 1
            }
        };
        let (_, decls, rules) = &mut tables[slot];
        match words.first().map(String::as_str) {
            Some("-N" | "--new-chain") if words.len() == 2 => decls.push(format!(":{} - [0:0]", words[1])),
            Some("-P" | "--policy") if words.len() == 3 => decls.push(format!(":{} {} [0:0]", words[1], words[2])),
            Some("-A" | "--append" | "-I" | "--insert") => rules.push(rule.trim().to_string()),
            _ => return Ok(None),
        }
    }
    let mut s = String::new();
    for (t, decls, rules) in tables {
        s.push_str(&format!("*{t}\n"));
        for d in decls {
            s.push_str(&d);
            s.push('\n');
        }
        for r in rules {
            s.push_str(&r);
            s.push('\n');
        }
        s.push_str("COMMIT\n");
    }
    Ok(Some(s))
}

/// The rules this kernel can load, as (table, rule): without IPVS, `-m ipvs` rules cannot be
/// (docs/linux-model.md, *IPVS*), which a note says once.
fn loadable<'a>(
    rules: impl Iterator<Item = &'a sim_core::plan::IptablesPlan>,
    notes: &mut Vec<String>,
) -> Vec<(&'a str, &'a str)> {
    let ipvs = Path::new("/proc/net/ip_vs").exists();
    let mut dropped = false;
    let out = rules
        .filter(|l| {
            let ok = ipvs || !l.rule.contains("-m ipvs");
            dropped |= !ok;
            ok
        })
        .map(|l| (l.table.as_str(), l.rule.as_str()))
        .collect();
    if dropped && !notes.iter().any(|n| n.contains("-m ipvs")) {
        notes.push("iptables `-m ipvs` rules: not loaded; this kernel has no IPVS (docs/linux-model.md)".into());
    }
    out
}

impl Realised {
    /// Replaces a namespace's iptables rules with `rules` (a Docker step changed them): every
    /// table is rewritten, so a table the step emptied is flushed too. Conntrack stays.
    pub fn replace_iptables(&mut self, plan_ns: &str, rules: &[sim_core::plan::IptablesPlan]) -> Result<(), Error> {
        let (k, file) = self.open_ns(plan_ns)?;
        let netem = self.netem_rules.iter().filter(|((ns, _), _)| ns == plan_ns).map(|(_, l)| l);
        let all: Vec<&sim_core::plan::IptablesPlan> = rules.iter().chain(netem).collect();
        let tables = loadable(all.into_iter(), &mut self.notes);
        apply_iptables(&file, &k, &tables)
    }

    fn open_ns(&self, plan_ns: &str) -> Result<(String, File), Error> {
        let k =
            self.kernel_name(plan_ns).ok_or_else(|| Error::Plan(format!("no namespace `{plan_ns}` in this run")))?;
        let file = File::open(Path::new(NETNS_DIR).join(k)).map_err(|e| kerr(format!("open {k}"), e))?;
        Ok((k.to_string(), file))
    }

    /// A bridge port's flags as `x` has them (the kernel's defaults: `BrPortPlan::new`).
    pub fn bridge_port(&mut self, x: &sim_core::plan::BrPortPlan) -> Result<(), Error> {
        let (k, file) = self.open_ns(&x.ns)?;
        bridge_link_set(&file, &k, x)
    }

    /// `ip link set DEV up|down` in a namespace of the run (a step's fault).
    pub fn link_set(&mut self, plan_ns: &str, dev: &str, up: bool) -> Result<(), Error> {
        let (k, file) = self.open_ns(plan_ns)?;
        link_set(&file, &k, dev, up)
    }

    /// Gives `dev` the netem `spec` (`None`: the default qdisc again). Where this kernel has
    /// no netem (`tc` answers "Specified qdisc kind is unknown"), its `rate` becomes a tbf
    /// of one packet's burst, its `loss` an iptables rule that drops at random
    /// (`-m statistic --mode random`, in mangle POSTROUTING, which `replace_iptables` loads
    /// with the namespace's rules: the caller loads them again), and a delay it cannot make
    /// is said in a note. Returns whether the namespace's iptables lines changed.
    pub fn netem(&mut self, plan_ns: &str, dev: &str, spec: Option<&str>) -> Result<bool, Error> {
        let (k, file) = self.open_ns(plan_ns)?;
        self.set_netem(&file, &k, plan_ns, dev, spec)
    }

    fn set_netem(
        &mut self,
        file: &File,
        kname: &str,
        plan_ns: &str,
        dev: &str,
        spec: Option<&str>,
    ) -> Result<bool, Error> {
        let key = (plan_ns.to_string(), dev.to_string());
        let had_rule = self.netem_rules.remove(&key).is_some();
        let tc = |args: &[&str]| -> Result<std::process::Output, Error> {
            command_in(file, "tc").args(args).output().map_err(|e| kerr(format!("cannot run tc in {kname}"), e))
        };
        let Some(spec) = spec else {
            // Deleting what is already gone (the device went) is not an error.
            let _ = tc(&["qdisc", "del", "dev", dev, "root"])?;
            return Ok(had_rule);
        };
        let words: Vec<&str> = spec.split_whitespace().collect();
        let mut args = vec!["qdisc", "replace", "dev", dev, "root", "netem"];
        args.extend(&words);
        let out = tc(&args)?;
        if out.status.success() {
            return Ok(had_rule);
        }
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !err.contains("qdisc kind is unknown") {
            return Err(kerr(format!("ip netns exec {kname} tc {}", args.join(" ")), err));
        }
        let n = sim_core::kernel::qdisc::Netem::parse(&words).map_err(Error::Plan)?;
        let mut made = Vec::new();
        if n.rate > 0 {
            // One full frame of burst: packets leave one by one at the rate, as netem's do;
            // the queue holds netem's `limit` frames.
            let rate = format!("{}bit", n.rate * 8);
            let limit = format!("{}", u64::from(n.limit) * 1514);
            let tbf = ["qdisc", "replace", "dev", dev, "root", "tbf", "rate", &rate, "burst", "1514", "limit", &limit];
            run_in(file, kname, "tc", &tbf)?;
            made.push(format!("tbf rate {rate}"));
        } else {
            let _ = tc(&["qdisc", "del", "dev", dev, "root"])?;
        }
        if n.loss > 0 {
            let p = f64::from(n.loss) / f64::from(u32::MAX);
            let rule = format!("-A POSTROUTING -o {dev} -m statistic --mode random --probability {p:.6} -j DROP");
            self.netem_rules
                .insert(key, sim_core::plan::IptablesPlan { ns: plan_ns.to_string(), table: "mangle".into(), rule });
            made.push(format!("iptables -t mangle -m statistic --mode random --probability {p:.6}"));
        }
        let mut note = format!(
            "namespace `{plan_ns}`, {dev}: this kernel has no netem (tc: Specified qdisc kind is unknown); `netem {spec}` is realised as {}",
            if made.is_empty() { "nothing".to_string() } else { made.join(" and ") }
        );
        if n.delay.as_nanos() > 0 || n.jitter.as_nanos() > 0 {
            note += "; its delay is not realised";
        }
        self.notes.push(note);
        Ok(n.loss > 0 || had_rule)
    }
}

/// `ip link set DEV up|down` in the namespace `file`.
fn link_set(file: &File, kname: &str, dev: &str, up: bool) -> Result<(), Error> {
    let state = if up { "up" } else { "down" };
    run_in(file, kname, "ip", &["link", "set", "dev", dev, state])
}

/// `bridge link set dev DEV hairpin on|off learning on|off …`, every flag as `x` has it.
fn bridge_link_set(file: &File, kname: &str, x: &sim_core::plan::BrPortPlan) -> Result<(), Error> {
    let mut args = vec!["link", "set", "dev", x.dev.as_str()];
    for (name, on) in x.flags() {
        args.extend([name, if on { "on" } else { "off" }]);
    }
    run_in(file, kname, "bridge", &args)
}

/// `program args…` in the namespace `file`; its complaint, if it fails, names the command.
fn run_in(file: &File, kname: &str, program: &str, args: &[&str]) -> Result<(), Error> {
    let out = command_in(file, program)
        .args(args)
        .output()
        .map_err(|e| kerr(format!("cannot run {program} in {kname}"), e))?;
    if !out.status.success() {
        return Err(kerr(
            format!("ip netns exec {kname} {program} {}", args.join(" ")),
            String::from_utf8_lossy(&out.stderr).trim(),
        ));
    }
    Ok(())
}

/// A command run inside the namespace `file` (the child `setns`es before exec).
fn command_in(file: &File, program: &str) -> Command {
    let mut c = Command::new(program);
    let fd = file.as_raw_fd();
    // SAFETY: setns is async-signal-safe; the fd stays open in the child until exec.
    unsafe {
        c.pre_exec(move || {
            let f = std::os::fd::BorrowedFd::borrow_raw(fd);
            nix::sched::setns(f, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
        });
    }
    c
}

/// Loads `lines` with one iptables-restore that names all four tables (each is replaced), or
/// line by line when a command has no restore form.
fn apply_iptables(file: &File, kname: &str, lines: &[(&str, &str)]) -> Result<(), Error> {
    let before = save_counted(file, kname)?;
    load_iptables(file, kname, lines)?;
    // Reloading zeroes every counter; dockerd and a typed `iptables -A` change rules one by
    // one and leave the others' counts alone, which is what the judge compares
    // (`state::rule_counters`): the rules that were there before get their counts back.
    let after = save_counted(file, kname)?;
    let carried = sim_core::kernel::netfilter::carry_counters(&before, &after);
    if carried != after {
        restore(file, kname, &carried, true)?;
    }
    Ok(())
}

/// `iptables-save -c` in the namespace `file`.
fn save_counted(file: &File, kname: &str) -> Result<String, Error> {
    let out = command_in(file, "iptables-save")
        .arg("-c")
        .output()
        .map_err(|e| kerr(format!("cannot run iptables-save in {kname}"), e))?;
    if !out.status.success() {
        return Err(kerr(format!("iptables-save -c in {kname}"), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Loads `lines` as the namespace's whole rule set.
fn load_iptables(file: &File, kname: &str, lines: &[(&str, &str)]) -> Result<(), Error> {
    let input = restore_input(lines).map_err(Error::Plan)?;
    match input {
        Some(mut input) => {
            for t in ["raw", "mangle", "nat", "filter"] {
                if !input.contains(&format!("*{t}\n")) {
                    input.push_str(&format!("*{t}\nCOMMIT\n"));
                }
            }
            restore(file, kname, &input, false)?;
        }
        None => {
            // Lines with no restore form (`-D`, `-F`, a typed command): from empty tables
            // with every policy ACCEPT, one iptables call each, so what was there before
            // does not stay.
            let mut empty = String::new();
            for (t, chains) in [
                ("raw", &["PREROUTING", "OUTPUT"][..]),
                ("mangle", &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"][..]),
                ("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"][..]),
                ("filter", &["INPUT", "FORWARD", "OUTPUT"][..]),
            ] {
                empty.push_str(&format!("*{t}\n"));
                for c in chains {
                    empty.push_str(&format!(":{c} ACCEPT [0:0]\n"));
                }
                empty.push_str("COMMIT\n");
            }
            restore(file, kname, &empty, false)?;
            for (table, rule) in lines {
                let words = shell_words(rule).map_err(Error::Plan)?;
                let mut args = vec!["-w", "-t", table];
                args.extend(words.iter().map(String::as_str));
                run_in(file, kname, "iptables", &args)?;
            }
        }
    }
    Ok(())
}

/// One `iptables-restore` of `input` in the namespace `file`; with `counters`, the
/// `[packets:bytes]` it gives each rule and policy are set (`-c`).
fn restore(file: &File, kname: &str, input: &str, counters: bool) -> Result<(), Error> {
    let mut child = command_in(file, "iptables-restore")
        .args(if counters { &["-w", "-c"][..] } else { &["-w"][..] })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| kerr(format!("cannot run iptables-restore in {kname}"), e))?;
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).map_err(|e| kerr("iptables-restore stdin", e))?;
    let out = child.wait_with_output().map_err(|e| kerr("iptables-restore", e))?;
    if !out.status.success() {
        return Err(kerr(
            format!("iptables-restore in {kname}"),
            format!("{}; its input was:\n{input}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
    }
    Ok(())
}

/// Refuses, with a clear message, unless this process may create namespaces.
pub fn check_privileges() -> Result<(), Error> {
    (Options::default().check_privileges)().map_err(|why| {
        Error::Privileges(format!(
            "the netns backend needs root or CAP_NET_ADMIN: {why}; run it with sudo, or use the simulator (the default backend)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised_unique_and_short() {
        let mut taken = vec![];
        let a = kernel_ns_name("r1", "1-abc:host/x", &taken);
        assert_eq!(a, "nsim-r1-1-abc_host_x");
        taken.push(("1-abc:host/x".into(), a));
        let b = kernel_ns_name("r1", "1-abc:host_x", &taken);
        assert_eq!(b, "nsim-r1-1-abc_host_x-2");
        let long = "n".repeat(200);
        let c = kernel_ns_name("r1", &long, &taken);
        assert!(c.len() <= MAX_NAME, "{c}");
        let d = kernel_ns_name("r1", &format!("{long}x"), &taken);
        assert_ne!(c, d);
    }

    #[test]
    fn restore_input_declares_chains() {
        let lines = [
            ("filter", "-N DOCKER"),
            ("filter", "-P FORWARD DROP"),
            ("filter", "-A FORWARD -j DOCKER"),
            ("nat", "-A POSTROUTING -s 10.0.0.0/24 -m comment --comment \"x y\" -j MASQUERADE"),
        ];
        let s = restore_input(&lines).unwrap().unwrap();
        assert_eq!(
            s,
            "*filter\n:DOCKER - [0:0]\n:FORWARD DROP [0:0]\n-A FORWARD -j DOCKER\nCOMMIT\n*nat\n-A POSTROUTING -s 10.0.0.0/24 -m comment --comment \"x y\" -j MASQUERADE\nCOMMIT\n"
        );
        assert_eq!(restore_input(&[("filter", "-F")]).unwrap(), None);
        assert_eq!(
            shell_words("-m comment --comment 'a b' -j X").unwrap(),
            ["-m", "comment", "--comment", "a b", "-j", "X"]
        );
    }

    #[test]
    fn refuses_without_privileges_and_creates_nothing() {
        fn no_caps() -> Result<(), String> {
            Err("this process lacks CAP_NET_ADMIN and CAP_SYS_ADMIN (CapEff 0000000000000000)".into())
        }
        let plan = Plan {
            namespaces: vec![sim_core::plan::NsPlan {
                name: "a".into(),
                lo_up: true,
                ip_forward: false,
                bridge_nf_call_iptables: true,
            }],
            ..Default::default()
        };
        let opts = Options { check_privileges: no_caps, ..Default::default() };
        let e = realise_with(&plan, "nocaps", &opts).unwrap_err();
        assert!(matches!(e, Error::Privileges(_)));
        assert!(e.to_string().starts_with("the netns backend needs root or CAP_NET_ADMIN: "), "{e}");
        assert!(!Path::new(NETNS_DIR).join("nsim-nocaps-a").exists());
    }
}
