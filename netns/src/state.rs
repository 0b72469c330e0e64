//! The state of each namespace, read from the kernel (`ip -j`, `bridge -j`, `iptables-save`)
//! or from the simulator's world, in one normalised form, so the two can be compared.
//!
//! What is compared, and why the rest is left out:
//! - IPv4 addresses (`dev addr/prefix`);
//! - IPv4 routes of the main table (`dst [via gw] dev`), without proto/scope/src, which
//!   follow from the rest;
//! - PERMANENT neighbours only: dynamic entries depend on traffic timing;
//! - FDB entries a plan or Docker installs (vxlan `dst` entries, static bridge entries); the
//!   kernel's own multicast and local entries are left out;
//! - iptables-save rules and chain policies per table, without counters and comments; tables
//!   nobody touched are omitted by iptables-save on the kernel, so they are here too.

use std::collections::BTreeMap;
use std::process::Command;

use sim_core::World;
use sim_core::kernel::{DevKind, Nud};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NsState {
    pub addrs: Vec<String>,
    pub routes: Vec<String>,
    pub neigh: Vec<String>,
    pub fdb: Vec<String>,
    pub iptables: Vec<String>,
}

/// Plan namespace name → its state.
pub type State = BTreeMap<String, NsState>;

/// The simulator's view.
pub fn from_world(w: &World) -> State {
    let mut out = State::new();
    for n in w.ns.iter().filter(|n| !n.dead) {
        let mut s = NsState::default();
        for a in &n.addrs {
            s.addrs.push(format!("{} {}", w.dev(a.dev).name, a.addr));
        }
        for r in &n.routes {
            let dst = if r.dst.len == 0 { "default".to_string() } else { r.dst.to_string() };
            let via = r.via.map(|v| format!(" via {v}")).unwrap_or_default();
            s.routes.push(format!("{dst}{via} dev {}", w.dev(r.dev).name));
        }
        for ((d, ip), e) in &n.neigh {
            if e.state == Nud::Permanent {
                s.neigh.push(format!("{ip} dev {} lladdr {}", w.dev(*d).name, e.mac));
            }
        }
        for d in &n.devs {
            match &w.dev(*d).kind {
                DevKind::Vxlan(vx) => {
                    for (mac, f) in &vx.fdb {
                        if f.permanent {
                            s.fdb.push(format!("{mac} dev {} dst {}", w.dev(*d).name, f.dst));
                        }
                    }
                    for dst in &vx.default_dst {
                        s.fdb.push(format!("00:00:00:00:00:00 dev {} dst {dst}", w.dev(*d).name));
                    }
                }
                DevKind::Bridge(b) => {
                    for (mac, e) in &b.fdb {
                        if e.permanent && !e.local {
                            s.fdb.push(format!("{mac} dev {} master {}", w.dev(e.port).name, w.dev(*d).name));
                        }
                    }
                }
                _ => {}
            }
        }
        s.iptables = iptables_lines(&n.nf.save(false));
        sort(&mut s);
        out.insert(n.name.clone(), s);
    }
    out
}

fn sort(s: &mut NsState) {
    s.addrs.sort();
    s.routes.sort();
    s.neigh.sort();
    s.fdb.sort();
}

/// Rule and policy lines of iptables-save output, counters and comments dropped, tables in
/// name order (iptables-nft prints them in the order nftables made them, which carries no
/// meaning).
fn iptables_lines(save: &str) -> Vec<String> {
    let mut tables: Vec<Vec<String>> = Vec::new();
    for l in save.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        if l.starts_with('*') {
            tables.push(Vec::new());
        }
        let line = match l.strip_prefix(':') {
            // `:CHAIN POLICY [p:b]` → `:CHAIN POLICY`
            Some(rest) => format!(":{}", rest.rsplit_once(' ').map_or(rest, |(a, _)| a)),
            None => l.to_string(),
        };
        if let Some(t) = tables.last_mut() {
            t.push(line);
        }
    }
    tables.sort();
    tables.concat()
}

fn json(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(args[0]).args(&args[1..]).output();
    let Ok(out) = out else { return Vec::new() };
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap_or_default()
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

/// The kernel's view of namespace `k` (a kernel namespace name).
pub fn from_kernel(k: &str) -> NsState {
    let mut st = NsState::default();
    for link in json(&["ip", "-n", k, "-j", "addr"]) {
        let dev = s(&link, "ifname").to_string();
        for a in link.get("addr_info").and_then(|x| x.as_array()).into_iter().flatten() {
            if s(a, "family") == "inet" {
                st.addrs.push(format!(
                    "{dev} {}/{}",
                    s(a, "local"),
                    a.get("prefixlen").and_then(|p| p.as_u64()).unwrap_or(0)
                ));
            }
        }
    }
    for r in json(&["ip", "-n", k, "-j", "route"]) {
        let via = match s(&r, "gateway") {
            "" => String::new(),
            g => format!(" via {g}"),
        };
        st.routes.push(format!("{}{via} dev {}", s(&r, "dst"), s(&r, "dev")));
    }
    for n in json(&["ip", "-n", k, "-j", "neigh"]) {
        let permanent = n.get("state").and_then(|x| x.as_array()).is_some_and(|a| a.iter().any(|x| x == "PERMANENT"));
        if permanent {
            st.neigh.push(format!("{} dev {} lladdr {}", s(&n, "dst"), s(&n, "dev"), s(&n, "lladdr")));
        }
    }
    for f in json(&["bridge", "-n", k, "-j", "fdb"]) {
        let (mac, dev, dst, master, state) =
            (s(&f, "mac"), s(&f, "ifname"), s(&f, "dst"), s(&f, "master"), s(&f, "state"));
        // Learned entries (no state) come and go with traffic; installed ones are permanent.
        if !dst.is_empty() && state == "permanent" {
            st.fdb.push(format!("{mac} dev {dev} dst {dst}"));
        } else if state == "static" && !master.is_empty() {
            st.fdb.push(format!("{mac} dev {dev} master {master}"));
        }
    }
    let save = Command::new("ip").args(["netns", "exec", k, "iptables-save"]).output();
    if let Ok(out) = save {
        st.iptables = iptables_lines(&String::from_utf8_lossy(&out.stdout));
    }
    sort(&mut st);
    st
}

/// Drops tables that hold nothing but built-in chains with ACCEPT policies: whether such a
/// table is listed at all depends on who touched it first, not on what it does.
fn without_empty_tables(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let flush = |block: &mut Vec<String>, out: &mut Vec<String>| {
        let meaningful = block.iter().any(|l| l.starts_with("-A") || (l.starts_with(':') && !l.ends_with(" ACCEPT")));
        if meaningful {
            out.append(block);
        }
        block.clear();
    };
    for l in lines {
        if l.starts_with('*') {
            flush(&mut block, &mut out);
        }
        block.push(l.clone());
    }
    flush(&mut block, &mut out);
    out
}

/// Whether this kernel has IPVS (`CONFIG_IP_VS`; many do not: docs/linux-model.md).
pub fn kernel_has_ipvs() -> bool {
    std::path::Path::new("/proc/net/ip_vs").exists()
}

/// Differences between the simulator's and the kernel's state, one plain line each. Without
/// IPVS in the kernel, the simulator's `-m ipvs` rules cannot exist there: they are left out
/// of the comparison (and `netsim diff` says so in a note).
pub fn compare(sim: &State, kernel: &State) -> Vec<String> {
    let ipvs = kernel_has_ipvs();
    let sim: State = sim
        .iter()
        .map(|(n, s)| {
            let mut s = s.clone();
            if !ipvs {
                s.iptables.retain(|l| !l.contains("-m ipvs"));
            }
            s.iptables = without_empty_tables(&s.iptables);
            (n.clone(), s)
        })
        .collect();
    let kernel: State = kernel
        .iter()
        .map(|(n, k)| {
            let mut k = k.clone();
            k.iptables = without_empty_tables(&k.iptables);
            (n.clone(), k)
        })
        .collect();
    let (sim, kernel) = (&sim, &kernel);
    let mut out = Vec::new();
    for (ns, k) in kernel {
        let Some(s) = sim.get(ns) else {
            out.push(format!("{ns}: only on the kernel"));
            continue;
        };
        for (what, a, b) in [
            ("address", &s.addrs, &k.addrs),
            ("route", &s.routes, &k.routes),
            ("neighbour", &s.neigh, &k.neigh),
            ("fdb entry", &s.fdb, &k.fdb),
        ] {
            for x in b.iter().filter(|x| !a.contains(x)) {
                out.push(format!("{ns}: the kernel has {what} `{x}`, the simulator does not"));
            }
            for x in a.iter().filter(|x| !b.contains(x)) {
                out.push(format!("{ns}: the simulator has {what} `{x}`, the kernel does not"));
            }
        }
        if s.iptables != k.iptables {
            let first = s
                .iptables
                .iter()
                .zip(&k.iptables)
                .position(|(a, b)| a != b)
                .unwrap_or(s.iptables.len().min(k.iptables.len()));
            out.push(format!(
                "{ns}: iptables-save differs at line {}: the kernel has `{}`, the simulator `{}`",
                first + 1,
                k.iptables.get(first).map(String::as_str).unwrap_or("(end)"),
                s.iptables.get(first).map(String::as_str).unwrap_or("(end)")
            ));
        }
    }
    for ns in sim.keys().filter(|n| !kernel.contains_key(*n)) {
        out.push(format!("{ns}: only in the simulator"));
    }
    out
}
