//! The state of each namespace, read from the kernel (`ip -j`, `bridge -j`, `iptables-save`)
//! or from the simulator's world, in one normalised form, so the two can be compared.
//!
//! What is compared, and why the rest is left out:
//! - IPv4 addresses (`dev addr/prefix`);
//! - IPv4 routes of the main table (`dst [via gw] dev`), without proto/scope/src, which
//!   follow from the rest;
//! - PERMANENT neighbours, and apart (`learned`) what traffic taught: every other neighbour
//!   with its NUD state, and the bridges' learned FDB entries, each MAC named by the device
//!   that owns it (`ns/dev`), since a MAC the kernel draws at random differs from the
//!   simulator's;
//! - FDB entries a plan or Docker installs (vxlan `dst` entries, static bridge entries); the
//!   kernel's own multicast and local entries are left out;
//! - iptables-save rules and chain policies per table, without counters and comments; tables
//!   nobody touched are omitted by iptables-save on the kernel, so they are here too;
//! - apart (`learned`), each rule's packet and byte counters, where the rule cannot match
//!   the bridges' IGMP ([`rule_counters`]); a chain's policy counters are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use sim_core::World;
use sim_core::kernel::netfilter::counted_rule;
use sim_core::kernel::{DevKind, Nud};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NsState {
    pub addrs: Vec<String>,
    pub routes: Vec<String>,
    pub neigh: Vec<String>,
    pub fdb: Vec<String>,
    pub iptables: Vec<String>,
    /// Learned neighbours (`IP dev DEV [lladdr MAC] STATE`), bridge FDB entries (`MAC dev
    /// PORT master BRIDGE`), MACs as they were read until `name_macs` names them, and tracked
    /// connections ([`conntrack_line`]) where the namespace's rules track them.
    pub learned: Vec<String>,
}

/// The world's bridges, as `ns/dev` (`compare_learned` leaves their MACs out).
pub fn world_bridges(w: &World) -> impl Iterator<Item = String> + '_ {
    w.ns.iter().filter(|n| !n.dead).flat_map(move |n| {
        n.devs
            .iter()
            .filter(|d| matches!(w.dev(**d).kind, DevKind::Bridge(_)))
            .map(move |d| format!("{}/{}", n.name, w.dev(*d).name))
    })
}

/// Which device owns each MAC: `aa:bb:…` → `ns/dev`.
pub type Owners = BTreeMap<String, String>;

/// Every MAC of the world, by its owner.
pub fn world_owners(w: &World) -> Owners {
    let mut o = Owners::new();
    for n in w.ns.iter().filter(|n| !n.dead) {
        for d in &n.devs {
            let dev = w.dev(*d);
            if !matches!(dev.kind, DevKind::Loopback) {
                o.entry(dev.mac.to_string()).or_insert_with(|| format!("{}/{}", n.name, dev.name));
            }
        }
    }
    o
}

/// Every MAC of the kernel's namespaces (plan name, kernel name), by its owner.
pub fn kernel_owners(names: &[(String, String)]) -> Owners {
    let mut o = Owners::new();
    for (plan, k) in names {
        for link in json(&["ip", "-n", k, "-j", "link"]) {
            let (mac, dev) = (s(&link, "address"), s(&link, "ifname"));
            if !mac.is_empty() && s(&link, "link_type") != "loopback" {
                o.entry(mac.to_string()).or_insert_with(|| format!("{plan}/{dev}"));
            }
        }
    }
    o
}

/// Names the MACs of the learned entries by their owners (one owned by no device is kept).
pub fn name_macs(state: &mut State, owners: &Owners) {
    for st in state.values_mut() {
        for l in st.learned.iter_mut() {
            *l = l.split(' ').map(|w| owners.get(w).map_or(w, String::as_str)).collect::<Vec<_>>().join(" ");
        }
        st.learned.sort();
    }
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
        for (d, ip, e, state) in sim_core::kernel::show::listed_neighbours(w, n.id) {
            match state {
                Nud::Permanent => {}
                Nud::Incomplete | Nud::Failed => s.learned.push(format!("{ip} dev {} {}", w.dev(d).name, state.name())),
                _ => s.learned.push(format!("{ip} dev {} lladdr {} {}", w.dev(d).name, e.mac, state.name())),
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
                        } else if !e.permanent && !e.local && w.now.saturating_sub(e.updated) <= b.ageing {
                            s.learned.push(format!("{mac} dev {} master {}", w.dev(e.port).name, w.dev(*d).name));
                        }
                    }
                }
                _ => {}
            }
        }
        let save = n.nf.save(true);
        s.iptables = iptables_lines(&save);
        s.learned.extend(rule_counters(&save));
        if tracks(&s.iptables) {
            s.learned.extend(n.nf.conntrack_entries().iter().filter_map(|l| conntrack_line(l)));
        }
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
    s.learned.sort();
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
            // `[p:b] -A CHAIN …` (`-c`) → `-A CHAIN …`
            None => counted_rule(l).map_or(l, |(_, rule)| rule).to_string(),
        };
        if let Some(t) = tables.last_mut() {
            t.push(line);
        }
    }
    tables.sort();
    tables.concat()
}

/// Each rule's counters, as `*TABLE -A CHAIN … (rule N of CHAIN): packets=P bytes=B`, for
/// the rules whose count the simulator can be held to. The kernel's bridges send IGMP
/// membership reports the simulator does not model (docs/linux-model.md, "What the judge
/// leaves out"); they pass the host's OUTPUT and POSTROUTING, a namespace's PREROUTING, and,
/// through br_netfilter, FORWARD. So a rule is compared only when it cannot match IGMP: it
/// names a protocol (`-p tcp`, `udp`, `icmp`), a unicast destination (`-d` outside
/// 224.0.0.0/4), or a local one (`--dst-type LOCAL`: an IGMP report goes to a group, which
/// `inet_addr_type` calls MULTICAST). Chain policies count every packet that falls through,
/// IGMP too, and are left out.
pub fn rule_counters(save: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut table = "";
    let mut nth: BTreeMap<&str, usize> = BTreeMap::new();
    for l in save.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t;
            nth.clear();
            continue;
        }
        let Some(((p, b), rule)) = counted_rule(l) else { continue };
        let Some(chain) = rule.strip_prefix("-A ").and_then(|r| r.split(' ').next()) else { continue };
        let n = nth.entry(chain).or_default();
        *n += 1;
        if cannot_match_igmp(rule) {
            out.push(format!("*{table} {rule} (rule {n} of {chain}): packets={p} bytes={b}"));
        }
    }
    out
}

/// Whether an iptables rule's own matches keep IGMP out (`rule_counters`).
fn cannot_match_igmp(rule: &str) -> bool {
    let words: Vec<&str> = rule.split(' ').collect();
    let after = |flag: &str| {
        words.iter().position(|w| *w == flag).filter(|&i| i == 0 || words[i - 1] != "!").and_then(|i| words.get(i + 1))
    };
    let proto = after("-p").is_some_and(|p| matches!(*p, "tcp" | "udp" | "icmp" | "6" | "17" | "1"));
    // A destination network holds no group when it does not overlap 224.0.0.0/4.
    let unicast = after("-d").and_then(|d| d.split_once('/')).is_some_and(|(a, len)| {
        let (Ok(a), Ok(len)) = (a.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else { return false };
        let mask = u32::MAX.checked_shl(32 - len.min(32)).unwrap_or(0) & u32::MAX.checked_shl(28).unwrap_or(0);
        len <= 32 && u32::from(a) & mask != 0xe000_0000 & mask
    });
    let local = after("--dst-type").is_some_and(|t| *t == "LOCAL");
    proto || unicast || local
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
        let state = n.get("state").and_then(|x| x.as_array()).and_then(|a| a.first()).and_then(|x| x.as_str());
        if permanent {
            st.neigh.push(format!("{} dev {} lladdr {}", s(&n, "dst"), s(&n, "dev"), s(&n, "lladdr")));
        } else if let Some(state) = state.filter(|x| *x != "NOARP") {
            match s(&n, "lladdr") {
                "" => st.learned.push(format!("{} dev {} {state}", s(&n, "dst"), s(&n, "dev"))),
                mac => st.learned.push(format!("{} dev {} lladdr {mac} {state}", s(&n, "dst"), s(&n, "dev"))),
            }
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
        } else if state.is_empty() && !master.is_empty() && dst.is_empty() {
            st.learned.push(format!("{mac} dev {dev} master {master}"));
        }
    }
    let save = Command::new("ip").args(["netns", "exec", k, "iptables-save", "-c"]).output();
    if let Ok(out) = save {
        let save = String::from_utf8_lossy(&out.stdout);
        st.iptables = iptables_lines(&save);
        st.learned.extend(rule_counters(&save));
    }
    if tracks(&st.iptables) {
        // The namespace's own table: /proc/net/nf_conntrack is per network namespace.
        let ct = Command::new("ip").args(["netns", "exec", k, "cat", "/proc/net/nf_conntrack"]).output();
        if let Ok(out) = ct {
            st.learned.extend(String::from_utf8_lossy(&out.stdout).lines().filter_map(conntrack_line));
        }
    }
    sort(&mut st);
    st
}

/// The ports Linux draws a socket's local port from (`net.ipv4.ip_local_port_range`, 32768
/// to 60999 by default): a port in it is the kernel's random choice, normalised by the judge.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u32> = 32768..=60999;

/// Whether a namespace's rules make the kernel track its connections. Since Linux 4.10,
/// conntrack's hooks are registered in a namespace only when something there uses them
/// (`nf_ct_netns_get`, net/netfilter/nf_conntrack_proto.c): a NAT target (DNAT, SNAT,
/// MASQUERADE, REDIRECT, NETMAP), or a `conntrack` or `state` match. A nat table whose rules
/// only ACCEPT does not: on Linux 6.18 with iptables-nft, a TCP connection out of a namespace
/// holding `-t nat -A OUTPUT -d 127.0.0.11/32 -j ACCEPT` left no entry, and one holding a
/// DNAT rule did. A namespace with no such rule has an empty table on the kernel, so its
/// table is not compared.
pub fn tracks(iptables: &[String]) -> bool {
    let mut nat = false;
    iptables.iter().any(|l| {
        if l.starts_with('*') {
            nat = l == "*nat";
        }
        let nat_target =
            [" -j DNAT", " -j SNAT", " -j MASQUERADE", " -j REDIRECT", " -j NETMAP"].iter().any(|t| l.contains(t));
        l.starts_with("-A") && ((nat && nat_target) || l.contains(" -m conntrack ") || l.contains(" -m state "))
    })
}

/// A tracked connection, as `conntrack -L` or /proc/net/nf_conntrack prints it (`ipv4 2 tcp 6
/// 117 TIME_WAIT src=… [ASSURED] mark=0 zone=0 use=2`), without what passing time changes
/// (the seconds left) or what the kernel draws (an ephemeral port, an ICMP id) and without
/// bookkeeping (mark, zone, use): `conntrack tcp TIME_WAIT src=10.1.0.2 dst=10.2.0.2 sport=*
/// dport=80 src=10.2.0.2 dst=10.1.0.2 sport=80 dport=* [ASSURED]`.
pub fn conntrack_line(line: &str) -> Option<String> {
    let mut words = line
        .split_whitespace()
        .skip_while(|w| !matches!(*w, "tcp" | "udp" | "icmp" | "udplite" | "sctp" | "dccp" | "gre" | "unknown"));
    let proto = words.next()?;
    // The protocol's number and the seconds left.
    words.next()?;
    words.next()?;
    let mut out = format!("conntrack {proto}");
    for w in words {
        let (k, v) = w.split_once('=').unwrap_or((w, ""));
        match k {
            "mark" | "zone" | "use" | "secctx" => {}
            "sport" | "dport" if v.parse::<u32>().is_ok_and(|p| EPHEMERAL_PORTS.contains(&p)) => {
                out.push_str(&format!(" {k}=*"))
            }
            "id" => out.push_str(" id=*"),
            _ => {
                out.push(' ');
                out.push_str(w);
            }
        }
    }
    Some(out)
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

/// Differences between what the simulator's and the kernel's traffic taught them: learned
/// neighbours and the bridges' learned FDB entries, one plain line each. Entries about a
/// bridge's own MAC are left out: the kernel's bridges send IGMP reports the simulator does
/// not model (docs/linux-model.md), which teach other bridges their MACs and, across a VXLAN,
/// the underlay's neighbours. A neighbour's state is compared as resolved (REACHABLE, STALE,
/// DELAY, PROBE) or not (INCOMPLETE, FAILED): which of the first four an entry is in when a
/// step begins is a matter of timers (5 s in DELAY, a reachable time drawn between 15 and
/// 45 s), and the kernel backend runs a lab's steps on the machine's clock, not the
/// simulator's.
pub fn compare_learned(sim: &State, kernel: &State, bridges: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    // A tracked connection to a multicast group is the bridges' IGMP, which the simulator
    // does not send (docs/linux-model.md, "What the judge leaves out").
    let multicast = |l: &str| {
        l.starts_with("conntrack ")
            && l.split(' ')
                .find_map(|w| w.strip_prefix("dst="))
                .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok())
                .is_some_and(|a| a.is_multicast())
    };
    let keep = |l: &&String| !l.split(' ').any(|w| bridges.contains(w)) && !multicast(l);
    let resolved = |l: &String| match l.rsplit_once(' ') {
        Some((head, "REACHABLE" | "STALE" | "DELAY" | "PROBE")) => format!("{head} resolved"),
        _ => l.clone(),
    };
    for (ns, k) in kernel {
        let Some(s) = sim.get(ns) else { continue };
        let (a, b): (Vec<String>, Vec<String>) = (
            s.learned.iter().filter(keep).map(resolved).collect(),
            k.learned.iter().filter(keep).map(resolved).collect(),
        );
        // A rule's counters are compared where both sides hold the rule; one only one side
        // holds is the configured state's difference (`compare`).
        let (a_rules, b_rules): (BTreeMap<&str, &str>, BTreeMap<&str, &str>) =
            (a.iter().filter_map(|l| counter_line(l)).collect(), b.iter().filter_map(|l| counter_line(l)).collect());
        for (rule, k) in &b_rules {
            if let Some(s) = a_rules.get(rule).filter(|s| *s != k) {
                out.push(format!("{ns}: `{rule}` counted {k} on the kernel, {s} in the simulator"));
            }
        }
        let counter = |x: &&String| counter_line(x).is_some();
        for x in b.iter().filter(|x| !counter(x) && !a.contains(x)) {
            out.push(format!("{ns}: the kernel has learned `{x}`, the simulator has not"));
        }
        for x in a.iter().filter(|x| !counter(x) && !b.contains(x)) {
            out.push(format!("{ns}: the simulator has learned `{x}`, the kernel has not"));
        }
    }
    out
}

/// A line of [`rule_counters`] as (the rule and its place, its counts).
fn counter_line(line: &str) -> Option<(&str, &str)> {
    line.rsplit_once(": ").filter(|(_, n)| line.starts_with('*') && n.starts_with("packets="))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `iptables-save -c` as iptables-nft prints it: the rules that cannot match the
    /// bridges' IGMP keep their counters, numbered within their chain; the rest, and the
    /// policies, are left out; the configured rules read without counters.
    #[test]
    fn rule_counters_are_kept_where_igmp_cannot_reach_them() {
        let save = "*filter\n:INPUT ACCEPT [12:800]\n:FORWARD DROP [0:0]\n\
                    [3:252] -A FORWARD -p icmp -j ACCEPT\n[5:300] -A FORWARD -j ACCEPT\n\
                    [0:0] -A FORWARD ! -p tcp -j DROP\nCOMMIT\n\
                    *nat\n:PREROUTING ACCEPT [9:540]\n\
                    [1:60] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
                    [1:60] -A DOCKER -d 192.168.99.101/32 -p tcp -m tcp --dport 8001 -j DNAT --to-destination 172.18.0.3:80\n\
                    [2:120] -A POSTROUTING -s 172.18.0.0/16 ! -o br0 -j MASQUERADE\n\
                    [4:240] -A POSTROUTING -d 224.0.0.0/4 -j RETURN\n[7:420] -A POSTROUTING -d 0.0.0.0/0 -j RETURN\n\
                    [6:360] -A POSTROUTING -d 10.0.0.0/8 -j RETURN\n[2:96] -A POSTROUTING ! -d 10.0.0.0/8 -j RETURN\n\
                    COMMIT\n";
        assert_eq!(
            rule_counters(save),
            [
                "*filter -A FORWARD -p icmp -j ACCEPT (rule 1 of FORWARD): packets=3 bytes=252",
                "*nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER (rule 1 of PREROUTING): packets=1 bytes=60",
                "*nat -A DOCKER -d 192.168.99.101/32 -p tcp -m tcp --dport 8001 -j DNAT --to-destination \
                 172.18.0.3:80 (rule 1 of DOCKER): packets=1 bytes=60",
                "*nat -A POSTROUTING -d 10.0.0.0/8 -j RETURN (rule 4 of POSTROUTING): packets=6 bytes=360",
            ]
        );
        assert_eq!(
            iptables_lines(save)[..6],
            [
                "*filter",
                ":INPUT ACCEPT",
                ":FORWARD DROP",
                "-A FORWARD -p icmp -j ACCEPT",
                "-A FORWARD -j ACCEPT",
                "-A FORWARD ! -p tcp -j DROP"
            ]
        );
    }

    /// A NAT router's connection, as the kernel lists it in /proc/net/nf_conntrack and as
    /// the simulator's `conntrack -L` does, reads the same once the seconds left, the
    /// client's ephemeral port and the bookkeeping are left out.
    #[test]
    fn a_tracked_connection_reads_the_same_on_both_sides() {
        let kernel = "ipv4     2 tcp      6 117 TIME_WAIT src=192.168.1.2 dst=203.0.113.10 sport=41234 dport=80 \
                      src=203.0.113.10 dst=203.0.113.1 sport=80 dport=41234 [ASSURED] mark=0 zone=0 use=2";
        let sim = "tcp      6 111 TIME_WAIT src=192.168.1.2 dst=203.0.113.10 sport=58912 dport=80 \
                   src=203.0.113.10 dst=203.0.113.1 sport=80 dport=58912 [ASSURED] mark=0 use=1";
        let want = "conntrack tcp TIME_WAIT src=192.168.1.2 dst=203.0.113.10 sport=* dport=80 \
                    src=203.0.113.10 dst=203.0.113.1 sport=80 dport=* [ASSURED]";
        assert_eq!(conntrack_line(kernel).as_deref(), Some(want));
        assert_eq!(conntrack_line(sim).as_deref(), Some(want));
        // A ping's id is the kernel's to draw; whether it was answered is not.
        let ping = "icmp     1 27 src=192.168.1.2 dst=203.0.113.99 type=8 code=0 id=38142 [UNREPLIED] \
                    src=203.0.113.99 dst=203.0.113.1 type=0 code=0 id=38142 mark=0 use=1";
        assert_eq!(
            conntrack_line(ping).as_deref(),
            Some(
                "conntrack icmp src=192.168.1.2 dst=203.0.113.99 type=8 code=0 id=* [UNREPLIED] \
                 src=203.0.113.99 dst=203.0.113.1 type=0 code=0 id=*"
            )
        );
        assert_eq!(conntrack_line("not a connection"), None);
    }

    /// Only a namespace whose rules use conntrack has a table on the kernel.
    #[test]
    fn a_namespace_tracks_with_nat_or_a_state_match() {
        let lines = |v: &[&str]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert!(tracks(&lines(&["*nat", ":POSTROUTING ACCEPT", "-A POSTROUTING -o eth1 -j MASQUERADE", "COMMIT"])));
        assert!(tracks(&lines(&["*filter", "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"])));
        assert!(!tracks(&lines(&["*filter", ":INPUT ACCEPT", "-A INPUT -p tcp -m tcp --dport 81 -j REJECT"])));
        assert!(!tracks(&lines(&["*nat", ":OUTPUT ACCEPT", "-A OUTPUT -d 127.0.0.11/32 -j ACCEPT", "COMMIT"])));
        assert!(!tracks(&lines(&["*nat", ":PREROUTING ACCEPT", "COMMIT", "*filter", "-A INPUT -j DROP"])));
    }

    /// After a ping across a bridge, what the hosts and the bridge learned, named by owner:
    /// the pinging host's entry is REACHABLE, the answering host's (made STALE by the request,
    /// then used for the reply) DELAY, as on Linux 6.18 a second later (`ip -j neigh` on this
    /// machine); the bridge knows both hosts' ports.
    #[test]
    fn traffic_teaches_entries_named_by_their_owners() {
        let lab = r#"Scenario(name: "t", plan: (
            namespaces: [(name: "br"), (name: "x1"), (name: "x2")],
            links: [Bridge(name: "br0", ns: "br"),
                Veth(name: "eth0", ns: "x1", peer: "p1", peer_ns: "br", peer_master: "br0"),
                Veth(name: "eth0", ns: "x2", peer: "p2", peer_ns: "br", peer_master: "br0")],
            addresses: [(ns: "x1", dev: "eth0", addr: "10.9.0.1/24"), (ns: "x2", dev: "eth0", addr: "10.9.0.2/24")],
        ), traffic: [Ping(at: "1s", ns: "x1", dst: "10.9.0.2", count: 1)])"#;
        let mut sim = sim_core::scenario::Loaded::from_str("t.ron", lab).expect("loads").build(None).expect("builds");
        sim.run_until(sim_core::Until::Time(sim_core::SimTime::from_secs(2)));
        let mut st = from_world(&sim.world);
        name_macs(&mut st, &world_owners(&sim.world));
        assert_eq!(st["x1"].learned, ["10.9.0.2 dev eth0 lladdr x2/eth0 REACHABLE"]);
        assert_eq!(st["x2"].learned, ["10.9.0.1 dev eth0 lladdr x1/eth0 DELAY"]);
        assert_eq!(st["br"].learned, ["x1/eth0 dev p1 master br0", "x2/eth0 dev p2 master br0"]);
    }

    #[test]
    fn learned_entries_that_differ_are_reported_both_ways() {
        let one = |l: &[&str]| {
            let mut s = State::new();
            s.insert("x".into(), NsState { learned: l.iter().map(|x| x.to_string()).collect(), ..Default::default() });
            s
        };
        let sim = one(&["10.0.0.2 dev eth0 lladdr y/eth0 REACHABLE", "y/br0 dev p1 master br0"]);
        let d = compare_learned(&sim, &one(&["10.0.0.2 dev eth0 FAILED"]), &BTreeSet::from(["y/br0".to_string()]));
        assert_eq!(
            d,
            [
                "x: the kernel has learned `10.0.0.2 dev eth0 FAILED`, the simulator has not",
                "x: the simulator has learned `10.0.0.2 dev eth0 lladdr y/eth0 resolved`, the kernel has not",
            ]
        );
        // DELAY on one side and REACHABLE on the other is a matter of the clock; another MAC
        // is not.
        let kernel = one(&["10.0.0.2 dev eth0 lladdr y/eth0 DELAY"]);
        let none = BTreeSet::new();
        assert!(compare_learned(&one(&["10.0.0.2 dev eth0 lladdr y/eth0 REACHABLE"]), &kernel, &none).is_empty());
        assert_eq!(compare_learned(&one(&["10.0.0.2 dev eth0 lladdr z/eth0 REACHABLE"]), &kernel, &none).len(), 2);
        // The configured state's comparison leaves what was learned to this one.
        assert!(compare(&sim, &one(&[])).is_empty());
    }

    /// A REJECT rule the simulator treated as DROP still counts the packets it stopped, but
    /// a client that retries its SYNs makes it count more: the counts are reported side by
    /// side. A rule only one side holds (the simulator's `-m ipvs` rules on a kernel without
    /// IPVS) is the configured state's to report, not counted here.
    #[test]
    fn rule_counters_that_differ_are_reported_side_by_side() {
        let one = |save: &str| {
            let mut s = State::new();
            s.insert("router".into(), NsState { learned: rule_counters(save), ..Default::default() });
            s
        };
        let kernel =
            one("*filter\n[1:60] -A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset\nCOMMIT\n");
        let sim =
            one("*filter\n[3:180] -A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset\nCOMMIT\n\
             *nat\n[0:0] -A POSTROUTING -d 10.0.1.0/24 -m ipvs --ipvs -j SNAT --to-source 10.0.1.4\nCOMMIT\n");
        assert_eq!(
            compare_learned(&sim, &kernel, &BTreeSet::new()),
            ["router: `*filter -A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset (rule 1 of \
              FORWARD)` counted packets=1 bytes=60 on the kernel, packets=3 bytes=180 in the simulator"]
        );
        assert!(compare_learned(&kernel, &kernel, &BTreeSet::new()).is_empty());
    }
}
