//! Namespace state printed the way `ip addr`, `ip route`, `ip neigh`, `bridge fdb show` and
//! `iptables-save` print it, so students can compare with a real machine.

use std::fmt::Write;

use crate::kernel::{DevId, DevKind, FdbEntry, Kernel, NsId, Nud, Userland};

/// Which table to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Addr,
    Link,
    Route,
    Neigh,
    Fdb,
    Iptables,
    Conntrack,
    Ipvs,
    /// `tc qdisc show`.
    Qdisc,
    /// `bridge link show`: the bridge ports.
    BrLink,
    /// `bridge -d link show`: the ports with their flags.
    BrLinkDetails,
}

impl std::str::FromStr for What {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "addr" | "a" | "address" => What::Addr,
            "link" | "l" => What::Link,
            "route" | "r" => What::Route,
            "neigh" | "n" | "neighbour" | "arp" => What::Neigh,
            "fdb" => What::Fdb,
            "iptables" | "iptables-save" => What::Iptables,
            "conntrack" => What::Conntrack,
            "ipvs" | "ipvsadm" => What::Ipvs,
            "qdisc" | "tc" => What::Qdisc,
            "brlink" => What::BrLinkDetails,
            _ => {
                return Err(format!(
                    "`{s}`: choose addr, link, route, neigh, fdb, brlink, iptables, conntrack, ipvs or qdisc"
                ));
            }
        })
    }
}

pub fn show<U: Userland>(w: &Kernel<U>, ns: NsId, what: What) -> String {
    match what {
        What::Addr => ip_addr(w, ns, true, true),
        What::Link => ip_addr(w, ns, false, true),
        What::Route => ip_route(w, ns),
        What::Neigh => ip_neigh(w, ns),
        What::Fdb => bridge_fdb(w, ns),
        What::Iptables => w.netns(ns).nf.save(false),
        What::Conntrack => w.netns(ns).nf.conntrack_entries().join("\n") + "\n",
        What::Ipvs => w.netns(ns).ipvs.ipvsadm_ln(),
        What::Qdisc => tc_qdisc(w, ns),
        What::BrLink => bridge_link(w, ns, false),
        What::BrLinkDetails => bridge_link(w, ns, true),
    }
}

/// `bridge [-d] link show` as iproute2 6.1 prints it (bridge/link.c, `print_linkinfo` and
/// `print_protinfo`; traces/kernel/linux/bridge-fdb.txt): one line per bridge port, with
/// `-d` a line of its flags. The port's STP state is `forwarding` once it and its bridge are
/// up with a carrier (no STP), else `disabled`; its cost is 2 for a veth (10 Gbit/s to `port_cost`, net/bridge/br_if.c) and
/// 100 for a device without a speed. The flags the simulator has no model of are printed
/// with the kernel's defaults for a new port.
fn bridge_link<U: Userland>(w: &Kernel<U>, ns: NsId, details: bool) -> String {
    let mut s = String::new();
    for &id in &w.netns(ns).devs {
        let d = w.dev(id);
        let Some(br) = d.master.map(|m| w.dev(m)).filter(|b| matches!(b.kind, DevKind::Bridge(_))) else { continue };
        // `bridge` names the linked device by its index in its own namespace, wherever the
        // device is (`ll_index_to_name`, no link-netnsid): a veth whose peer is index 2
        // elsewhere shows `@` the local device 2, or `@if2` if there is none.
        let link_suffix = match linked(w, d) {
            Some(p) => match by_index(w, d.ns, p.ifindex) {
                Some(o) => format!("@{}", o.name),
                None => format!("@if{}", p.ifindex),
            },
            None => String::new(),
        };
        let state = if br.up && d.up && carrier(w, d) { "forwarding" } else { "disabled" };
        let cost = if matches!(d.kind, DevKind::Veth { .. }) { 2 } else { 100 };
        let _ = writeln!(
            s,
            "{}: {}{}: {} mtu {} master {} state {state} priority 32 cost {cost} ",
            d.ifindex,
            d.name,
            link_suffix,
            flags(w, d),
            d.mtu,
            br.name
        );
        if details {
            let p = d.brport;
            let on = |b: bool| if b { "on" } else { "off" };
            let _ = writeln!(
                s,
                "    hairpin {} guard off root_block off fastleave off learning {} flood {} mcast_flood {} bcast_flood {} mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated {} locked off ",
                on(p.hairpin),
                on(p.learning),
                on(p.flood),
                on(p.mcast_flood),
                on(p.bcast_flood),
                on(p.isolated)
            );
        }
    }
    s
}

/// What `ip addr|link|route|neigh` typed in a step prints: as [`show`], without the detail
/// lines (`vxlan id …`, `macvlan mode …`) that iproute2 prints only with `-d` and that a
/// lab's checks look for.
pub fn typed<U: Userland>(w: &Kernel<U>, ns: NsId, what: What) -> String {
    match what {
        What::Addr => ip_addr(w, ns, true, false),
        What::Link => ip_addr(w, ns, false, false),
        other => show(w, ns, other),
    }
}

/// `tc qdisc show`: virtual devices have `noqueue` unless given another; the line ends in a
/// space, as tc prints it. (`refcnt` is one more than the device's transmit queues, which on
/// a real machine depends on its CPUs; this prints 2.)
fn tc_qdisc<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    for &id in &w.netns(ns).devs {
        let d = w.dev(id);
        match &d.qdisc {
            Some(q) => {
                let _ = writeln!(s, "qdisc netem {:x}: dev {} root refcnt 2 {} ", q.handle, d.name, q.netem.show());
            }
            None => {
                let _ = writeln!(s, "qdisc noqueue 0: dev {} root refcnt 2 ", d.name);
            }
        }
    }
    s
}

/// Whether the device has a carrier: a veth's peer is up, a bridge has a port up.
fn carrier<U: Userland>(w: &Kernel<U>, d: &crate::kernel::Device) -> bool {
    match &d.kind {
        DevKind::Veth { peer, .. } => w.dev(*peer).up,
        DevKind::Bridge(b) => b.ports.iter().any(|p| w.dev(*p).up),
        _ => true,
    }
}

fn flags<U: Userland>(w: &Kernel<U>, d: &crate::kernel::Device) -> String {
    let mut f: Vec<&str> = Vec::new();
    if matches!(d.kind, DevKind::Loopback) {
        f.push("LOOPBACK");
    } else {
        f.extend(["BROADCAST", "MULTICAST"]);
    }
    let carrier = carrier(w, d);
    if d.up {
        f.push("UP");
        if carrier {
            f.push("LOWER_UP");
        } else {
            f.insert(0, "NO-CARRIER");
        }
        // iproute2 prints M-DOWN when the device it is linked to (a veth's peer) is down and
        // in the same namespace, where it can see it.
        if let DevKind::Veth { peer, .. } = d.kind
            && w.dev(peer).ns == d.ns
            && !w.dev(peer).up
        {
            f.push("M-DOWN");
        }
    }
    format!("<{}>", f.join(","))
}

/// The device `d` is linked to (its `iflink`): a veth's peer, a macvlan's or VLAN's parent.
fn linked<'a, U: Userland>(w: &'a Kernel<U>, d: &crate::kernel::Device) -> Option<&'a crate::kernel::Device> {
    match &d.kind {
        DevKind::Veth { peer, .. } => Some(w.dev(*peer)),
        DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } => Some(w.dev(*parent)),
        _ => None,
    }
}

/// The device with index `index` in namespace `ns`, as the kernel and busybox look an
/// `iflink` up: in the namespace of the device that names it.
fn by_index<U: Userland>(w: &Kernel<U>, ns: NsId, index: u32) -> Option<&crate::kernel::Device> {
    w.netns(ns).devs.iter().map(|&o| w.dev(o)).find(|o| o.ifindex == index)
}

/// The operational state (`default_operstate`, net/core/link_watch.c): the loopback's is
/// UNKNOWN; a device without carrier is LOWERLAYERDOWN only where the device it is linked to
/// (a veth's peer, a macvlan's parent: its `iflink`) has another index and is found by that
/// index in the device's own namespace, not up there; else DOWN (a bridge without a port up;
/// a veth whose peer, in another namespace, went down: traces/kernel/linux/ip-show.txt).
fn operstate<U: Userland>(w: &Kernel<U>, d: &crate::kernel::Device) -> &'static str {
    if !d.up {
        return "DOWN";
    }
    if matches!(d.kind, DevKind::Loopback) {
        return "UNKNOWN";
    }
    if carrier(w, d) {
        return "UP";
    }
    let iflink = linked(w, d).map_or(d.ifindex, |l| l.ifindex);
    if iflink == d.ifindex {
        return "DOWN";
    }
    match by_index(w, d.ns, iflink) {
        Some(o) if o.up && (matches!(o.kind, DevKind::Loopback) || carrier(w, o)) => "DOWN",
        Some(_) => "LOWERLAYERDOWN",
        None => "DOWN",
    }
}

/// `ip addr` (`with_addrs`) or `ip link` as iproute2 6.1 prints them
/// (traces/kernel/linux/ip-show.txt), with `details` the lines `ip -d` adds for a vxlan, a
/// macvlan and a VLAN (in the simulator's words). No IPv6: the simulator has none (the
/// record turns it off, as Docker does in a container).
fn ip_addr<U: Userland>(w: &Kernel<U>, ns: NsId, with_addrs: bool, details: bool) -> String {
    let n = w.netns(ns);
    let mut s = String::new();
    for &id in &n.devs {
        let d = w.dev(id);
        // A device linked to another in the same namespace is named; else its index.
        let link_suffix = match linked(w, d) {
            Some(p) if p.ns == d.ns => format!("@{}", p.name),
            Some(p) => format!("@if{}", p.ifindex),
            None => String::new(),
        };
        let state = operstate(w, d);
        // A device gets its qdisc when it first comes up: a loopback never up has `noop`.
        let qdisc = match (&d.qdisc, d.up || !matches!(d.kind, DevKind::Loopback)) {
            (Some(_), _) => "netem",
            (None, true) => "noqueue",
            (None, false) => "noop",
        };
        let _ = write!(s, "{}: {}{}: {} mtu {} qdisc {qdisc}", d.ifindex, d.name, link_suffix, flags(w, d), d.mtu);
        if let Some(m) = d.master {
            let _ = write!(s, " master {}", w.dev(m).name);
        }
        let _ = write!(s, " state {state}");
        if !with_addrs {
            s.push_str(" mode DEFAULT");
        }
        s.push_str(" group default");
        if d.txqueuelen > 0 {
            let _ = write!(s, " qlen {}", d.txqueuelen);
        }
        s.push('\n');
        if matches!(d.kind, DevKind::Loopback) {
            let _ = writeln!(s, "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");
        } else {
            let _ = write!(s, "    link/ether {} brd ff:ff:ff:ff:ff:ff", d.mac);
            if let DevKind::Veth { peer, .. } = &d.kind
                && w.dev(*peer).ns != d.ns
            {
                let _ = write!(s, " link-netns {}", w.netns(w.dev(*peer).ns).name);
            }
            let _ = writeln!(s);
            match &d.kind {
                _ if !details => {}
                DevKind::Vxlan(vx) => {
                    let _ = write!(s, "    vxlan id {}", vx.vni);
                    if let Some(l) = vx.local {
                        let _ = write!(s, " local {l}");
                    }
                    if let Some(u) = vx.underlay_dev {
                        let _ = write!(s, " dev {}", w.dev(u).name);
                    }
                    let _ = write!(s, " dstport {}", vx.dstport);
                    if !vx.learning {
                        let _ = write!(s, " nolearning");
                    }
                    for (on, name) in [(vx.proxy, "proxy"), (vx.l2miss, "l2miss"), (vx.l3miss, "l3miss")] {
                        if on {
                            let _ = write!(s, " {name}");
                        }
                    }
                    let _ = writeln!(s);
                }
                DevKind::Macvlan { mode, .. } => {
                    let _ = writeln!(s, "    macvlan mode {}", format!("{mode:?}").to_lowercase());
                }
                DevKind::Vlan { vid, .. } => {
                    let _ = writeln!(s, "    vlan protocol 802.1Q id {vid}");
                }
                _ => {}
            }
        }
        if with_addrs {
            for a in n.addrs.iter().filter(|a| a.dev == id) {
                if matches!(d.kind, DevKind::Loopback) {
                    let _ = writeln!(s, "    inet {} scope host lo", a.addr);
                } else if a.addr.len < 31 {
                    let _ = writeln!(s, "    inet {} brd {} scope global {}", a.addr, a.addr.broadcast(), d.name);
                } else {
                    let _ = writeln!(s, "    inet {} scope global {}", a.addr, d.name);
                }
                // Every address here is permanent (`ip addr add` without lifetimes).
                s.push_str("       valid_lft forever preferred_lft forever\n");
            }
        }
    }
    s
}

/// The namespace's routes in the order `ip route` lists them.
fn listed_routes<U: Userland>(w: &Kernel<U>, ns: NsId) -> Vec<&crate::kernel::Route> {
    let mut routes: Vec<_> = w.netns(ns).routes.iter().collect();
    routes.sort_by_key(|r| (u32::from(r.dst.addr), r.dst.len, r.metric));
    routes
}

fn ip_route<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    for r in listed_routes(w, ns) {
        let mut line = w.route_text(r);
        // A route through a device without carrier is kept, marked (`RTNH_F_LINKDOWN`).
        if !w.dev(r.dev).up || !carrier(w, w.dev(r.dev)) {
            line += " linkdown";
        }
        // iproute2 ends every route with a blank (`print_route`).
        let _ = writeln!(s, "{line} ");
    }
    s
}

/// `ip route` as busybox's applet prints it (alpine's and busybox's `ip`): every word
/// followed by a blank, `src` and `metric` after one more, no `proto`, no `linkdown`
/// (busybox `networking/libiproute/iproute.c`, `print_route`).
pub fn busybox_ip_route<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    for r in listed_routes(w, ns) {
        match r.dst.len {
            0 => s.push_str("default "),
            _ => {
                let _ = write!(s, "{} ", r.dst);
            }
        }
        if let Some(gw) = r.via {
            let _ = write!(s, "via {gw} ");
        }
        let _ = write!(s, "dev {} ", w.dev(r.dev).name);
        if r.via.is_none() {
            s.push_str("scope link ");
        }
        if let Some(src) = r.src {
            let _ = write!(s, " src {src} ");
        }
        if r.metric != 0 {
            let _ = write!(s, " metric {} ", r.metric);
        }
        s.push('\n');
    }
    s
}

/// `ip addr` (`with_addrs`) or `ip link` as busybox's applet prints them (alpine's and
/// busybox's `ip`; busybox `networking/libiproute/ipaddress.c`, `print_linkinfo` and
/// `print_addrinfo`), as alpine builds it, against musl, whose <net/if.h> defines
/// IFF_DORMANT, so that it prints the operational state (`traces/docker/busybox-ip/`):
/// - a device's link (a veth's peer, a macvlan's parent) is named by looking its index up
///   in this namespace, so one in another namespace is `@ifN` and, its flags unknown there,
///   always `M-DOWN`;
/// - `qdisc`, then `state`, then the transmit queue's length where it has one (the
///   loopback's 1000; Docker makes its devices with none), each word followed by a blank;
/// - no `link-netnsid`, no `group`;
/// - each address with its lifetimes (Docker's and the loopback's are permanent: `forever`).
pub fn busybox_ip_addr<U: Userland>(w: &Kernel<U>, ns: NsId, with_addrs: bool) -> String {
    let n = w.netns(ns);
    let mut s = String::new();
    for &id in &n.devs {
        let d = w.dev(id);
        let _ = write!(s, "{}: {}", d.ifindex, d.name);
        let mdown = match linked(w, d).map(|l| (l.ifindex, by_index(w, ns, l.ifindex))) {
            Some((_, Some(o))) => {
                let _ = write!(s, "@{}: ", o.name);
                !o.up
            }
            Some((index, None)) => {
                let _ = write!(s, "@if{index}: ");
                true
            }
            None => {
                s.push_str(": ");
                false
            }
        };
        let mut flags: Vec<&str> = Vec::new();
        if d.up && !carrier(w, d) {
            flags.push("NO-CARRIER");
        }
        if matches!(d.kind, DevKind::Loopback) {
            flags.push("LOOPBACK");
        } else {
            flags.extend(["BROADCAST", "MULTICAST"]);
        }
        if d.up {
            flags.push("UP");
            if carrier(w, d) {
                flags.push("LOWER_UP");
            }
        }
        if mdown {
            flags.push("M-DOWN");
        }
        let qdisc = if d.qdisc.is_some() { "netem" } else { "noqueue" };
        let _ = write!(s, "<{}> mtu {} qdisc {qdisc} ", flags.join(","), d.mtu);
        if let Some(m) = d.master {
            let _ = write!(s, "master {} ", w.dev(m).name);
        }
        let _ = write!(s, "state {} ", operstate(w, d));
        if d.txqueuelen > 0 {
            let _ = write!(s, "qlen {}", d.txqueuelen);
        }
        if matches!(d.kind, DevKind::Loopback) {
            let _ = writeln!(s, "\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");
        } else {
            let _ = writeln!(s, "\n    link/ether {} brd ff:ff:ff:ff:ff:ff", d.mac);
        }
        if with_addrs {
            for a in n.addrs.iter().filter(|a| a.dev == id) {
                let _ = write!(s, "    inet {} ", a.addr);
                if matches!(d.kind, DevKind::Loopback) {
                    s.push_str("scope host ");
                } else {
                    if a.addr.len < 31 {
                        let _ = write!(s, "brd {} ", a.addr.broadcast());
                    }
                    s.push_str("scope global ");
                }
                let _ = writeln!(s, "{}\n       valid_lft forever preferred_lft forever", d.name);
            }
        }
    }
    s
}

/// The entries `ip neigh` lists, each with the state the kernel shows now.
pub fn listed_neighbours<U: Userland>(
    w: &Kernel<U>,
    ns: NsId,
) -> Vec<(DevId, std::net::Ipv4Addr, &crate::kernel::Neigh, Nud)> {
    let n = w.netns(ns);
    let mut entries: Vec<_> = n.neigh.iter().collect();
    entries.sort_by_key(|((d, ip), _)| (w.dev(*d).ifindex, u32::from(*ip)));
    entries
        .into_iter()
        .map(|((d, ip), e)| {
            // REACHABLE decays to STALE lazily; show what the kernel would show now.
            let state = if e.state == Nud::Reachable && w.now.saturating_sub(e.confirmed) > n.reachable_time {
                Nud::Stale
            } else {
                e.state
            };
            (*d, *ip, e, state)
        })
        .collect()
}

/// `ip neigh` as busybox's applet prints it (busybox `networking/libiproute/ipneigh.c`,
/// `print_neigh`), which always shows the statistics iproute2 shows with `-s`: the
/// reference the kernel's timer holds on an entry in a timed state (`ref 1`), the times
/// since it was used, confirmed and updated, which it divides by the `hz` it reads from
/// /proc/net/psched (10⁹ on a high-resolution kernel), so always `0/0/0`, and the kernel's
/// count of probes (`traces/docker/busybox-ip/`).
pub fn busybox_ip_neigh<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    for (d, ip, e, state) in listed_neighbours(w, ns) {
        let _ = write!(s, "{ip} dev {} ", w.dev(d).name);
        if !matches!(state, Nud::Incomplete | Nud::Failed) {
            let _ = write!(s, "lladdr {}", e.mac);
        }
        if state.in_timer() {
            s.push_str(" ref 1");
        }
        let _ = writeln!(s, " used 0/0/0 probes {} {}", e.kernel_probes(), state.name());
    }
    s
}

fn ip_neigh<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    for (d, ip, e, state) in listed_neighbours(w, ns) {
        match state {
            // iproute2 ends the line with a blank after the state (`print_neigh`).
            Nud::Incomplete | Nud::Failed => {
                let _ = writeln!(s, "{ip} dev {} {} ", w.dev(d).name, state.name());
            }
            _ => {
                let _ = writeln!(s, "{ip} dev {} lladdr {} {} ", w.dev(d).name, e.mac, state.name());
            }
        }
    }
    s
}

/// `bridge fdb show` as `rtnl_fdb_dump` (net/core/rtnetlink.c) walks the namespace: device by
/// device in index order, a bridge port's entries from its bridge first (newest first, as the
/// bridge keeps them: `br_fdb_dump` in net/bridge/br_fdb.c), then what the device itself
/// holds: a VXLAN device its own table, a bridge its multicast addresses and its own MAC, any
/// other Ethernet device its multicast addresses (`ndo_dflt_fdb_dump`). Every Ethernet device
/// holds IPv6's all-nodes address (33:33:00:00:00:01, even with IPv6 disabled); an up one has
/// joined the all-hosts group 224.0.0.1 (01:00:5e:00:00:01) too, an up bridge the all-snoopers
/// groups (…:6a) as well. A learned entry ends in a blank: iproute2 prints its empty state
/// name and a space (traces/kernel/linux/bridge-fdb.ron, judged by `netsim diff`).
fn bridge_fdb<U: Userland>(w: &Kernel<U>, ns: NsId) -> String {
    let mut s = String::new();
    let mut devs: Vec<&crate::kernel::Device> = w.netns(ns).devs.iter().map(|&id| w.dev(id)).collect();
    devs.sort_by_key(|d| d.ifindex);
    fn newest_first(
        b: &crate::kernel::Bridge,
        port: DevId,
        now: crate::SimTime,
    ) -> Vec<(&crate::wire::Mac, &FdbEntry)> {
        let mut v: Vec<_> = b
            .fdb
            .iter()
            .filter(|(_, e)| e.port == port && (e.permanent || now.saturating_sub(e.updated) <= b.ageing))
            .collect();
        v.sort_by_key(|(_, e)| std::cmp::Reverse(e.seq));
        v
    }
    for d in devs {
        if let Some(br) = d.master.map(|m| w.dev(m))
            && let DevKind::Bridge(b) = &br.kind
        {
            for (mac, e) in newest_first(b, d.id, w.now) {
                let state = match (e.local, e.permanent) {
                    (true, _) => "permanent",
                    (false, true) => "static",
                    (false, false) => "",
                };
                let _ = writeln!(s, "{mac} dev {} master {} {state}", d.name, br.name);
            }
        }
        let groups: &[&str] = match (&d.kind, d.up) {
            (DevKind::Loopback | DevKind::Vxlan(_), _) => &[],
            (DevKind::Bridge(_), true) => {
                &["33:33:00:00:00:01", "01:00:5e:00:00:6a", "33:33:00:00:00:6a", "01:00:5e:00:00:01"]
            }
            (_, true) => &["33:33:00:00:00:01", "01:00:5e:00:00:01"],
            (_, false) => &["33:33:00:00:00:01"],
        };
        for g in groups {
            let _ = writeln!(s, "{g} dev {} self permanent", d.name);
        }
        match &d.kind {
            DevKind::Bridge(b) => {
                for (mac, _) in newest_first(b, d.id, w.now) {
                    let _ = writeln!(s, "{mac} dev {} master {} permanent", d.name, d.name);
                }
            }
            DevKind::Vxlan(vx) => {
                for dst in &vx.default_dst {
                    let _ = writeln!(s, "00:00:00:00:00:00 dev {} dst {dst} self permanent", d.name);
                }
                let mut entries: Vec<_> = vx.fdb.iter().collect();
                entries.sort_by_key(|(m, _)| **m);
                for (mac, e) in entries {
                    let perm = if e.permanent { " permanent" } else { "" };
                    let _ = writeln!(s, "{mac} dev {} dst {} self{perm}", d.name, e.dst);
                }
            }
            _ => {}
        }
    }
    s
}
