//! A kernel plan realised on the real kernel: one network namespace per plan namespace, all
//! named `nsim-<run>-…`, with the plan's links, addresses, routes, neighbours, FDB entries,
//! sysctls and iptables rules.
//!
//! Objects are made with iproute2 in batch mode, one `ip -n NS -batch` (and one `bridge -n NS
//! -batch`) per namespace rather than a process per object, and iptables-restore once per
//! namespace. Nothing is made outside the run's own namespaces: veth pairs are created inside
//! one of them and their peer moved; VXLAN and macvlan devices are created in the namespace
//! that owns their underlay or parent and moved, as Docker does with vxlan0.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use sim_core::plan::{Link, MacvlanMode, Plan};

/// Every kernel object netsim makes starts with this.
pub const PREFIX: &str = "nsim-";

#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(s: impl Into<String>) -> Error {
    Error(s.into())
}

/// The run's namespaces on the kernel; removed on `teardown` or drop.
pub struct Realised {
    pub run_id: String,
    /// Plan namespace → kernel namespace.
    pub names: BTreeMap<String, String>,
    /// What the kernel here cannot build, said plainly (IPVS, 802.1Q links).
    pub notes: Vec<String>,
    done: bool,
}

/// Refuses, with a clear message, unless this process may create namespaces.
pub fn check_privileges() -> Result<(), Error> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| err(format!("/proc/self/status: {e}")))?;
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_NET_ADMIN: u64 = 1 << 12;
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    if cap_eff & CAP_NET_ADMIN == 0 || cap_eff & CAP_SYS_ADMIN == 0 {
        return Err(err(
            "the netns backend needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, to create network namespaces); run it with sudo, or use the simulator (the default backend)",
        ));
    }
    Ok(())
}

/// A kernel namespace name for a plan namespace: the run prefix, then the name with
/// anything but letters, digits, `-`, `_` and `.` turned into `_`.
fn kernel_name(run_id: &str, ns: &str, taken: &BTreeMap<String, String>) -> String {
    let clean: String =
        ns.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).take(40).collect();
    let base = format!("{PREFIX}{run_id}-{clean}");
    let mut name = base.clone();
    let mut n = 1;
    while taken.values().any(|v| *v == name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

fn run(cmd: &mut Command, input: Option<&str>) -> Result<(), Error> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("{what}: {e} (is iproute2 installed?)")))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).map_err(|e| err(format!("{what}: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| err(format!("{what}: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(err(format!("{what}: {msg}{}", input.map(|i| format!("\ninput:\n{i}")).unwrap_or_default())));
    }
    Ok(())
}

fn mode_name(m: MacvlanMode) -> &'static str {
    match m {
        MacvlanMode::Bridge => "bridge",
        MacvlanMode::Private => "private",
        MacvlanMode::Vepa => "vepa",
    }
}

impl Realised {
    pub fn kernel_ns(&self, plan_ns: &str) -> Option<&str> {
        self.names.get(plan_ns).map(String::as_str)
    }

    pub fn netns_path(&self, plan_ns: &str) -> Option<PathBuf> {
        self.kernel_ns(plan_ns).map(|k| PathBuf::from(format!("/var/run/netns/{k}")))
    }

    /// Removes every namespace of the run (deleting a namespace takes its devices along).
    pub fn teardown(mut self) -> Result<(), Error> {
        self.done = true;
        remove(self.names.values())
    }

    /// Adds what `plan` lists to the run: its namespaces are new, its other items may refer to
    /// namespaces made before (a Docker step adding a container).
    pub fn extend(&mut self, plan: &Plan) -> Result<(), Error> {
        for n in &plan.namespaces {
            let k = kernel_name(&self.run_id, &n.name, &self.names);
            run(Command::new("ip").args(["netns", "add", &k]), None)?;
            self.names.insert(n.name.clone(), k);
        }
        let k = |ns: &str| self.names.get(ns).cloned().ok_or_else(|| err(format!("no namespace `{ns}` in this run")));
        // Per kernel namespace: `ip` lines in three phases (create, attach and up, configure).
        let mut create: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut attach: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut config: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut fdb: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let push = |m: &mut BTreeMap<String, Vec<String>>, ns: &str, line: String| {
            m.entry(ns.to_string()).or_default().push(line)
        };
        for n in &plan.namespaces {
            let kn = k(&n.name)?;
            if n.lo_up {
                push(&mut attach, &kn, "link set lo up".into());
            }
        }
        let opt = |name: &str, v: Option<String>| v.map(|v| format!(" {name} {v}")).unwrap_or_default();
        for l in &plan.links {
            match l {
                Link::Veth { name, ns, peer, peer_ns, mac, peer_mac, mtu, master, peer_master, .. } => {
                    let (a, b) = (k(ns)?, k(peer_ns)?);
                    push(
                        &mut create,
                        &a,
                        format!(
                            "link add {name}{}{} type veth peer name {peer}{} netns {b}",
                            opt("address", mac.map(|m| m.to_string())),
                            opt("mtu", mtu.map(|m| m.to_string())),
                            opt("address", peer_mac.map(|m| m.to_string())),
                        ),
                    );
                    if let Some(m) = mtu {
                        push(&mut attach, &b, format!("link set {peer} mtu {m}"));
                    }
                    if let Some(m) = master {
                        push(&mut attach, &a, format!("link set {name} master {m}"));
                    }
                    if let Some(m) = peer_master {
                        push(&mut attach, &b, format!("link set {peer} master {m}"));
                    }
                    push(&mut attach, &a, format!("link set {name} up"));
                    push(&mut attach, &b, format!("link set {peer} up"));
                }
                Link::Bridge { name, ns, mac, mtu, ageing } => {
                    let a = k(ns)?;
                    let ageing =
                        ageing.map(|t| format!(" ageing_time {}", t.as_nanos() / 10_000_000)).unwrap_or_default();
                    push(
                        &mut create,
                        &a,
                        format!(
                            "link add {name}{}{} type bridge{ageing}",
                            opt("address", mac.map(|m| m.to_string())),
                            opt("mtu", mtu.map(|m| m.to_string()))
                        ),
                    );
                    push(&mut attach, &a, format!("link set {name} up"));
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
                    mac,
                    mtu,
                    master,
                    underlay_ns,
                } => {
                    let (a, u) = (k(ns)?, k(underlay_ns.as_deref().unwrap_or(ns))?);
                    let mut line = format!(
                        "link add {name}{}{} type vxlan id {vni}{}{} dstport {dstport}",
                        opt("address", mac.map(|m| m.to_string())),
                        opt("mtu", mtu.map(|m| m.to_string())),
                        opt("local", local.map(|l| l.to_string())),
                        opt("dev", dev.clone()),
                    );
                    for (on, word) in
                        [(!learning, "nolearning"), (*proxy, "proxy"), (*l2miss, "l2miss"), (*l3miss, "l3miss")]
                    {
                        if on {
                            line += &format!(" {word}");
                        }
                    }
                    push(&mut create, &u, line);
                    if u != a {
                        push(&mut create, &u, format!("link set {name} netns {a}"));
                    }
                    if let Some(m) = master {
                        push(&mut attach, &a, format!("link set {name} master {m}"));
                    }
                    push(&mut attach, &a, format!("link set {name} up"));
                }
                Link::Macvlan { name, ns, parent, parent_ns, mode, mac, mtu } => {
                    let (a, p) = (k(ns)?, k(parent_ns.as_deref().unwrap_or(ns))?);
                    push(
                        &mut create,
                        &p,
                        format!(
                            "link add {name} link {parent}{}{} type macvlan mode {}",
                            opt("address", mac.map(|m| m.to_string())),
                            opt("mtu", mtu.map(|m| m.to_string())),
                            mode_name(*mode)
                        ),
                    );
                    if p != a {
                        push(&mut create, &p, format!("link set {name} netns {a}"));
                    }
                    push(&mut attach, &a, format!("link set {name} up"));
                }
                Link::Vlan { name, .. } => {
                    return Err(err(format!(
                        "802.1Q link `{name}`: this kernel has no vlan device type (\"Unknown device type\"; facts sheet §10)"
                    )));
                }
            }
        }
        for a in &plan.addresses {
            push(&mut config, &k(&a.ns)?, format!("addr add {} dev {}", a.addr, a.dev));
        }
        for r in &plan.routes {
            let mut line = format!("route add {}", if r.dst.len == 0 { "default".into() } else { r.dst.to_string() });
            line += &opt("via", r.via.map(|v| v.to_string()));
            line += &opt("dev", r.dev.clone());
            line += &opt("src", r.src.map(|v| v.to_string()));
            if r.metric != 0 {
                line += &format!(" metric {}", r.metric);
            }
            push(&mut config, &k(&r.ns)?, line);
        }
        for n in &plan.neighbours {
            push(
                &mut config,
                &k(&n.ns)?,
                format!("neigh add {} lladdr {} dev {} nud permanent", n.ip, n.lladdr, n.dev),
            );
        }
        for f in &plan.fdb {
            let line = match f.dst {
                Some(dst) => format!("fdb append {} dev {} dst {dst} self permanent", f.mac, f.dev),
                None => format!("fdb add {} dev {} master static", f.mac, f.dev),
            };
            push(&mut fdb, &k(&f.ns)?, line);
        }
        // Links are made in a namespace order where peers already exist (all namespaces do).
        for phase in [&create, &attach, &config] {
            for (ns, lines) in phase.iter() {
                run(Command::new("ip").args(["-n", ns, "-batch", "-"]), Some(&(lines.join("\n") + "\n")))?;
            }
        }
        for (ns, lines) in &fdb {
            run(Command::new("bridge").args(["-n", ns, "-batch", "-"]), Some(&(lines.join("\n") + "\n")))?;
        }
        for n in &plan.namespaces {
            let kn = k(&n.name)?;
            set_sysctl(&kn, "net/ipv4/ip_forward", if n.ip_forward { "1" } else { "0" })?;
            let brnf = if n.bridge_nf_call_iptables { "1" } else { "0" };
            // br_netfilter's knob exists once the module is in; leave it when it is not.
            let _ = set_sysctl(&kn, "net/bridge/bridge-nf-call-iptables", brnf);
        }
        let mut rules: BTreeMap<&str, Vec<&sim_core::plan::IptablesPlan>> = BTreeMap::new();
        for r in &plan.iptables {
            rules.entry(r.ns.as_str()).or_default().push(r);
        }
        if plan.iptables.iter().any(|r| r.rule.contains("-m ipvs")) && !self.notes.iter().any(|n| n.contains("-m ipvs"))
        {
            self.notes.push("iptables `-m ipvs` rules: not loaded; this kernel has no IPVS (facts sheet §10)".into());
        }
        for (ns, rs) in rules {
            let kn = k(ns)?;
            let text = restore_text(&rs);
            run(Command::new("ip").args(["netns", "exec", &kn, "iptables-restore", "--noflush"]), Some(&text))?;
        }
        if !plan.ipvs.is_empty() {
            self.notes.push(
                "IPVS: not built; this kernel has no IPVS (ipvsadm: \"Can't initialize ipvs: Protocol not available\", facts sheet §10)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// `iptables -t T …` lines as one iptables-restore input (tables in kernel order). Rules
/// with the `ipvs` match are left out: it needs IPVS, which this kernel lacks.
pub fn restore_text(rules: &[&sim_core::plan::IptablesPlan]) -> String {
    let mut out = String::new();
    for table in ["raw", "mangle", "nat", "filter"] {
        let lines: Vec<&str> =
            rules.iter().filter(|r| r.table == table && !r.rule.contains("-m ipvs")).map(|r| r.rule.as_str()).collect();
        if lines.is_empty() {
            continue;
        }
        out += &format!("*{table}\n");
        for l in lines {
            if let Some(chain) = l.strip_prefix("-N ") {
                out += &format!(":{} - [0:0]\n", chain.trim());
            } else if let Some(rest) = l.strip_prefix("-P ") {
                let mut w = rest.split_whitespace();
                let (chain, policy) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
                out += &format!(":{chain} {policy} [0:0]\n");
            } else {
                out += l;
                out.push('\n');
            }
        }
        out += "COMMIT\n";
    }
    out
}

/// Writes a sysctl inside a namespace: a thread enters it, so /proc/sys/net is that
/// namespace's.
fn set_sysctl(kernel_ns: &str, key: &str, value: &str) -> Result<(), Error> {
    let path = format!("/var/run/netns/{kernel_ns}");
    let (key, value) = (key.to_string(), value.to_string());
    std::thread::spawn(move || -> Result<(), Error> {
        use std::os::fd::AsFd;
        let f = std::fs::File::open(&path).map_err(|e| err(format!("{path}: {e}")))?;
        nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| err(format!("setns {path}: {e}")))?;
        std::fs::write(format!("/proc/sys/{key}"), &value).map_err(|e| err(format!("sysctl {key}={value}: {e}")))
    })
    .join()
    .map_err(|_| err("sysctl thread panicked"))?
}

fn remove<'a>(names: impl Iterator<Item = &'a String>) -> Result<(), Error> {
    let mut first_err = None;
    for k in names {
        // Already gone (another `netsim clean`) is what we wanted.
        if std::path::Path::new(&format!("/var/run/netns/{k}")).exists()
            && let Err(e) = run(Command::new("ip").args(["netns", "del", k]), None)
        {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

impl Drop for Realised {
    fn drop(&mut self) {
        if !self.done {
            let _ = remove(self.names.values());
        }
    }
}

/// Builds `plan` on the kernel under a run-specific prefix. On any error, what was made is
/// removed before the error is returned.
pub fn realise(plan: &Plan, run_id: &str) -> Result<Realised, Error> {
    check_privileges()?;
    let mut r = Realised { run_id: run_id.to_string(), names: BTreeMap::new(), notes: Vec::new(), done: false };
    r.extend(plan)?;
    Ok(r)
}

/// `netsim clean`: removes every namespace a netsim run made (a crashed run's leftovers).
pub fn clean_all() -> Result<Vec<String>, Error> {
    check_privileges()?;
    remove_prefixed(PREFIX)
}

/// Removes every namespace whose name starts with `prefix`; returns their names.
pub fn remove_prefixed(prefix: &str) -> Result<Vec<String>, Error> {
    let out = Command::new("ip").args(["netns", "list"]).output().map_err(|e| err(format!("ip netns list: {e}")))?;
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect();
    remove(names.iter())?;
    Ok(names)
}
