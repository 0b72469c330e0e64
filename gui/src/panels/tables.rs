//! The device tables of one namespace, as the tools print them on a real machine: `ip addr`,
//! `ip route`, `ip neigh`, `bridge fdb show`, `iptables-save -c`, `ipvsadm -Ln`; and for
//! Docker namespaces what the daemon knows: the embedded DNS records a sandbox's resolver
//! answers, the daemon's IPAM (networks, subnets, gateways, who got which address) and
//! `docker network inspect`. Everything is read from the simulator at the current event, so
//! the tables change as the run advances.

use std::fmt::Write as _;

use sim_core::World;
use sim_core::director::Director;
use sim_core::docker::engine::{ContainerKind, GWBRIDGE, SandboxMode, network_driver_name};
use sim_core::kernel::show::{What, show as show_table};
use sim_core::kernel::{DevKind, NsId};

use crate::app::{TableTab, View};
use crate::state::Session;

/// Every tab, with the name on its button.
pub const TABS: [(TableTab, &str); 9] = [
    (TableTab::Addresses, "Addresses"),
    (TableTab::Routes, "Routes"),
    (TableTab::Neighbours, "Neighbours"),
    (TableTab::Fdb, "FDB"),
    (TableTab::Iptables, "iptables"),
    (TableTab::Ipvs, "IPVS"),
    (TableTab::Dns, "DNS"),
    (TableTab::Ipam, "IPAM"),
    (TableTab::NetworkInspect, "network inspect"),
];

const NO_HOSTS: &str = "This scenario has no Docker hosts (no `hosts:` in the file), so there is no daemon to ask.";

/// What a tab shows: a table as text, or a sentence saying why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Text(String),
    Empty(String),
}

impl Content {
    fn text_or(text: String, why: impl Into<String>) -> Content {
        if text.trim().is_empty() { Content::Empty(why.into()) } else { Content::Text(text) }
    }
}

pub fn show(ui: &mut egui::Ui, session: &Session, view: &mut View) {
    ui.heading("Device tables");
    let world = &session.sim.world;
    // A Linux lab has a director without hosts: no daemon to ask either.
    let director = session.sim.director.as_deref().filter(|d| !d.hosts.is_empty());
    let live: Vec<&str> = world.ns.iter().filter(|n| !n.dead).map(|n| n.name.as_str()).collect();
    let Some(current) = selected_namespace(world, director, view) else {
        ui.label("This scenario has no namespaces yet.");
        return;
    };
    let mut clicked: Option<String> = None;
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("Namespace").selected_text(current.as_str()).show_ui(ui, |ui| {
            for n in &live {
                if ui.selectable_label(current == *n, *n).clicked() {
                    clicked = Some(n.to_string());
                }
            }
        });
    });
    let changed = clicked.is_some();
    let chosen = clicked.unwrap_or(current);
    if changed {
        // A device of another namespace is no longer the selection.
        if view.device.as_deref().is_some_and(|d| d.split_once('/').is_none_or(|(n, _)| n != chosen)) {
            view.device = None;
        }
        view.namespace = Some(chosen.clone());
    }
    ui.horizontal_wrapped(|ui| {
        for (tab, name) in TABS {
            if ui.selectable_label(view.tab == tab, name).clicked() {
                view.tab = tab;
            }
        }
    });
    let Some(ns) = world.ns_by_name(&chosen) else { return };
    let tab = view.tab;
    ui.add(egui::Label::new(egui::RichText::new(command_of(tab, &chosen)).weak().monospace()).truncate());
    let content = if tab == TableTab::NetworkInspect {
        inspect_choice(ui, director, &chosen)
    } else {
        content(world, director, ns, tab, view.device.as_deref())
    };
    let focus = view.rule_focus.as_mut().filter(|f| tab == TableTab::Iptables && f.ns == chosen);
    match content {
        Content::Text(t) => match focus {
            Some(f) => {
                let scroll = std::mem::take(&mut f.scroll);
                rules_area(ui, &t, f.table, &f.rule, scroll)
            }
            None => text_area(ui, tab, &t),
        },
        Content::Empty(why) => {
            ui.label(egui::RichText::new(why).italics());
        }
    }
}

/// The namespace the tables show: the one selected if it is alive, else the first
/// container's sandbox, else the first host, else the first namespace.
pub fn selected_namespace(world: &World, director: Option<&Director>, view: &View) -> Option<String> {
    let alive = |name: &str| world.ns.iter().any(|n| !n.dead && n.name == name);
    if let Some(n) = view.namespace.as_deref().filter(|n| alive(n)) {
        return Some(n.to_string());
    }
    if let Some(d) = director {
        let sandboxes: Vec<String> = d
            .engines
            .iter()
            .flat_map(|(_, e)| {
                e.containers
                    .iter()
                    .filter(|c| c.mode == SandboxMode::Own && c.kind != ContainerKind::Infra)
                    .map(|c| e.sandbox_ns(c))
            })
            .collect();
        if let Some(n) = world.ns.iter().find(|n| !n.dead && sandboxes.contains(&n.name)) {
            return Some(n.name.clone());
        }
        if let Some(h) = d.hosts.iter().find(|h| alive(&h.name)) {
            return Some(h.name.clone());
        }
    }
    world.ns.iter().find(|n| !n.dead).map(|n| n.name.clone())
}

/// The command a student would type on a real machine to see the same table.
fn command_of(tab: TableTab, ns: &str) -> String {
    let host = host_of(ns);
    match tab {
        TableTab::Addresses => format!("ip netns exec {ns} ip addr"),
        TableTab::Routes => format!("ip netns exec {ns} ip route"),
        TableTab::Neighbours => format!("ip netns exec {ns} ip neigh"),
        TableTab::Fdb => format!("ip netns exec {ns} bridge fdb show"),
        TableTab::Iptables => format!("ip netns exec {ns} iptables-save -c; conntrack -L"),
        TableTab::Ipvs => format!("ip netns exec {ns} ipvsadm -Ln"),
        TableTab::Dns => format!("{ns}: the resolver in /etc/resolv.conf"),
        TableTab::Ipam => format!("{host}$ docker network ls + inspect (IPAM)"),
        TableTab::NetworkInspect => format!("{host}$ docker network inspect NETWORK"),
    }
}

/// The Docker host a namespace belongs to: `host:sandbox` names are the Docker model's.
pub fn host_of(ns: &str) -> &str {
    ns.split_once(':').map_or(ns, |(h, _)| h)
}

/// What a tab shows for namespace `ns` (every tab but `network inspect`, which needs a choice).
pub fn content(world: &World, director: Option<&Director>, ns: NsId, tab: TableTab, device: Option<&str>) -> Content {
    let director = director.filter(|d| !d.hosts.is_empty());
    let name = world.netns(ns).name.as_str();
    match tab {
        TableTab::Addresses => {
            Content::text_or(show_table(world, ns, What::Addr), "No interfaces in this namespace (not even lo).")
        }
        TableTab::Routes => Content::text_or(
            show_table(world, ns, What::Route),
            "No routes: this namespace has no address on an interface that is up.",
        ),
        TableTab::Neighbours => Content::text_or(
            show_table(world, ns, What::Neigh),
            "The neighbour table is empty: nothing here has needed an ARP resolution yet.",
        ),
        TableTab::Fdb => fdb(world, ns, device),
        TableTab::Iptables => iptables(world, ns),
        TableTab::Ipvs => ipvs(world, ns),
        TableTab::Dns => dns(world, director, ns),
        TableTab::Ipam => match director {
            None => Content::Empty(NO_HOSTS.into()),
            Some(d) => ipam(d, host_of(name)),
        },
        TableTab::NetworkInspect => match director {
            None => Content::Empty(NO_HOSTS.into()),
            Some(d) => {
                let host = host_of(name);
                match d.engine(host) {
                    Ok(_) => inspect(d, host, &default_network(d, host)),
                    Err(_) => Content::Empty(no_daemon(d, host)),
                }
            }
        },
    }
}

/// `bridge fdb show`; the selected bridge's entries first.
fn fdb(world: &World, ns: NsId, device: Option<&str>) -> Content {
    let n = world.netns(ns);
    let has_fdb = n.devs.iter().any(|&d| matches!(world.dev(d).kind, DevKind::Bridge(_) | DevKind::Vxlan(_)));
    if !has_fdb {
        return Content::Empty("No bridge or VXLAN device in this namespace, so no forwarding database.".into());
    }
    let text = show_table(world, ns, What::Fdb);
    // `ns/dev` naming a bridge (or VXLAN device) of this namespace goes first.
    let first = device.and_then(|d| d.split_once('/')).filter(|(dn, _)| *dn == n.name).and_then(|(_, dev)| {
        n.devs
            .iter()
            .map(|&d| world.dev(d))
            .find(|d| d.name == dev && matches!(d.kind, DevKind::Bridge(_) | DevKind::Vxlan(_)))
            .map(|d| d.name.clone())
    });
    let text = match first {
        Some(dev) => {
            let (mine, rest): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| {
                l.contains(&format!(" master {dev}")) || (l.contains(&format!(" dev {dev} ")) && l.contains(" self"))
            });
            let mut s = String::new();
            for l in mine.iter().chain(&rest) {
                let _ = writeln!(s, "{l}");
            }
            s
        }
        None => text,
    };
    Content::text_or(text, "The forwarding database is empty.")
}

/// `iptables-save -c` (rule counters `[packets:bytes]`), then the conntrack table.
fn iptables(world: &World, ns: NsId) -> Content {
    let n = world.netns(ns);
    let rules = n.nf.save(true);
    let conns = n.nf.conntrack_entries();
    if rules.trim().is_empty() && conns.is_empty() {
        return Content::Empty(
            "No iptables rules in this namespace: every table is empty and every policy ACCEPT (and nothing is tracked)."
                .into(),
        );
    }
    let mut s = if rules.trim().is_empty() { "# no rules: every policy ACCEPT\n".to_string() } else { rules };
    if !conns.is_empty() {
        let _ = writeln!(s, "\n# conntrack -L ({} entries)", conns.len());
        for c in conns {
            let _ = writeln!(s, "{c}");
        }
    }
    Content::Text(s)
}

/// `ipvsadm -Ln`, and `ipvsadm -Lnc` when connections are tracked.
fn ipvs(world: &World, ns: NsId) -> Content {
    let v = &world.netns(ns).ipvs;
    if v.services().next().is_none() && v.conns().next().is_none() {
        return Content::Empty(
            "No IPVS services in this namespace (swarm's load balancing lives in ingress_sbox and the lb-<network> namespaces)."
                .into(),
        );
    }
    let mut s = v.ipvsadm_ln();
    let conns = v.ipvsadm_lnc(world.now.as_nanos());
    if conns.lines().count() > 2 {
        let _ = writeln!(s, "\n{conns}");
    }
    Content::Text(s)
}

/// The embedded DNS records this namespace's resolver answers, or why there are none.
fn dns(world: &World, director: Option<&Director>, ns: NsId) -> Content {
    let name = world.netns(ns).name.as_str();
    if let Some(records) = world.dns_records(ns) {
        let server = world.nameserver(ns).map(|a| a.to_string()).unwrap_or_else(|| "127.0.0.11".into());
        let mut s = format!("nameserver {server}  (dockerd's embedded DNS in this sandbox)\n\n");
        let width = records.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let _ = writeln!(s, "{:<width$}  {:>4}  ADDRESSES", "NAME", "TTL");
        for r in &records {
            let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(
                s,
                "{:<width$}  {:>4}  {}",
                r.name,
                sim_core::userland::proto::dns::EMBEDDED_TTL,
                addrs.join(", ")
            );
        }
        if records.is_empty() {
            s += "(no names yet)\n";
        }
        let _ = writeln!(s, "\nOther names are forwarded to the host's resolvers.");
        return Content::Text(s);
    }
    if let Some(server) = world.nameserver(ns) {
        return Content::Empty(format!(
            "resolv.conf names {server}, but no embedded DNS server runs here yet (it starts with the container)."
        ));
    }
    let Some(d) = director else {
        return Content::Empty(format!("No embedded DNS in {name}: {NO_HOSTS}"));
    };
    if name == sim_core::director::LAN_NS {
        return Content::Empty("The LAN switch's namespace has no resolver.".into());
    }
    if d.hosts.iter().any(|h| h.name == name) {
        return Content::Empty(format!(
            "No embedded DNS in {name}: this is the host's own namespace, which uses the host's resolv.conf. \
             Docker's embedded DNS (127.0.0.11) runs inside containers on user-defined networks."
        ));
    }
    let host = host_of(name);
    if let Ok(e) = d.engine(host)
        && let Some(c) = e.containers.iter().find(|c| e.sandbox_ns(c) == name)
    {
        return Content::Empty(match c.kind {
            ContainerKind::Infra => {
                format!("No embedded DNS: {} is libnetwork's own sandbox and runs no resolver.", c.name)
            }
            _ if c.endpoints.is_empty() => {
                format!("No embedded DNS: {} has no network (`--network none`), so it has no resolver to ask.", c.name)
            }
            _ => format!(
                "No embedded DNS: {} is only on the default bridge, and containers on the default bridge use \
                 the host's resolv.conf. Other containers' names do not resolve there; only their IP addresses work.",
                c.name
            ),
        });
    }
    let sandbox = name.split_once(':').map_or("", |(_, s)| s);
    Content::Empty(if sandbox.starts_with("1-") {
        format!(
            "No embedded DNS in {name}: this is an overlay network's namespace (its bridge and VXLAN device), no container's."
        )
    } else if let Some(net) = sandbox.strip_prefix("lb-") {
        format!("No embedded DNS in {name}: this is the load balancer of network {net} (IPVS), which runs no resolver.")
    } else {
        format!("No embedded DNS in {name}: no Docker container runs in this namespace.")
    })
}

fn no_daemon(d: &Director, host: &str) -> String {
    if d.hosts.iter().any(|h| h.name == host) {
        format!("Host {host} runs no Docker daemon (`docker: false` in the scenario).")
    } else {
        format!("`{host}` is not a Docker host (the hosts are: {}).", host_names(d))
    }
}

fn host_names(d: &Director) -> String {
    d.hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The daemon's IPAM on `host`: each network with its driver, subnet, gateway and the
/// addresses it gave out; then the swarm's overlays this node takes part in.
pub fn ipam(d: &Director, host: &str) -> Content {
    let e = match d.engine(host) {
        Ok(e) => e,
        Err(_) => return Content::Empty(no_daemon(d, host)),
    };
    let mut s = format!("Docker host {host}: local networks (docker network ls)\n");
    let mut nets: Vec<_> = e.networks.iter().collect();
    nets.sort_by(|a, b| a.name.cmp(&b.name));
    for n in nets {
        let _ = write!(s, "\n{}  driver {}", n.name, network_driver_name(n.driver));
        if let Some(dev) = &n.device {
            let _ = write!(s, "  bridge {dev}");
        }
        if let Some(p) = &n.parent {
            let _ = write!(s, "  parent {p}");
        }
        if n.internal {
            s += "  internal";
        }
        s += "\n";
        match n.pool {
            Some(pool) => {
                let _ = write!(s, "  subnet {}", pool.subnet);
                if let Some(r) = pool.ip_range {
                    let _ = write!(s, "  ip-range {r}");
                }
                match n.gateway {
                    Some(g) => {
                        let _ = writeln!(s, "  gateway {g}");
                    }
                    None => s += "  no gateway\n",
                }
            }
            None => s += "  no IPAM: containers here get no address of their own\n",
        }
        let mut any = false;
        for c in &e.containers {
            for ep in c.endpoints.iter().filter(|ep| ep.network == n.name) {
                let who = match c.kind {
                    ContainerKind::Infra => "gateway_ingress-sbox".to_string(),
                    _ if n.name == GWBRIDGE => format!("gateway_{} ({})", &c.id[..12], c.name),
                    _ => c.name.clone(),
                };
                let _ = writeln!(s, "    {who:<20} {:<15} {} {}", ep.ip, ep.ifname, ep.mac);
                any = true;
            }
        }
        if n.pool.is_some() && !any {
            s += "    (no containers)\n";
        }
    }
    if let Some(sw) = &d.swarm
        && sw.node(host).is_some_and(|n| n.up)
    {
        let _ = writeln!(s, "\nswarm networks (scope swarm, allocated by the managers)");
        for n in &sw.networks {
            let _ =
                writeln!(s, "\n{}  driver overlay  vni {}{}", n.name, n.vni, if n.ingress { "  ingress" } else { "" });
            let _ = writeln!(s, "  subnet {}  gateway {}", n.pool.subnet, n.gateway);
            let lb = if n.ingress { "ingress-sbox".to_string() } else { format!("lb-{}", n.name) };
            for (node, ip) in &n.lb {
                let _ = writeln!(s, "    {lb:<20} {ip:<15} load balancer on {node}");
            }
            for (si, svc) in sw.services.iter().enumerate() {
                for (_, vip) in svc.vips.iter().filter(|(net, _)| *net == n.name) {
                    let _ = writeln!(s, "    {:<20} {vip:<15} virtual IP of the service", svc.name);
                }
                for t in svc.running() {
                    for (_, ip) in t.ips.iter().filter(|(net, _)| *net == n.name) {
                        let _ = writeln!(s, "    {:<20} {ip:<15} task on {}", sw.task_name(si, t), t.node);
                    }
                }
            }
            for a in sw.attachments.iter().filter(|a| a.network == n.name) {
                let _ = writeln!(s, "    {:<20} {:<15} container on {}", a.container, a.ip, a.node);
            }
        }
    }
    Content::Text(s)
}

/// The networks `docker network inspect` knows on `host`: the daemon's, then the swarm's.
pub fn network_names(d: &Director, host: &str) -> Vec<String> {
    let Ok(e) = d.engine(host) else { return Vec::new() };
    let mut names: Vec<String> = e.networks.iter().map(|n| n.name.clone()).collect();
    if let Some(sw) = &d.swarm
        && sw.node(host).is_some_and(|n| n.up)
    {
        let overlays: Vec<String> = sw.networks.iter().map(|n| n.name.clone()).filter(|n| !names.contains(n)).collect();
        names.extend(overlays);
    }
    names
}

/// The network inspected when none was chosen: the first one the user made (a local network,
/// else a swarm overlay), else `bridge`.
pub fn default_network(d: &Director, host: &str) -> String {
    let made_by_docker = ["bridge", "host", "none", GWBRIDGE, "ingress"];
    let names = network_names(d, host);
    names.iter().find(|n| !made_by_docker.contains(&n.as_str())).cloned().unwrap_or_else(|| "bridge".to_string())
}

/// `docker network inspect NAME` as `host`'s daemon answers it now.
pub fn inspect(d: &Director, host: &str, network: &str) -> Content {
    match d.inspect_network(host, network) {
        Ok(json) => Content::Text(json),
        Err(e) => Content::Empty(e),
    }
}

/// The network chooser of the `network inspect` tab, and the JSON of the chosen network. The
/// choice is kept per host in egui's memory.
fn inspect_choice(ui: &mut egui::Ui, director: Option<&Director>, ns: &str) -> Content {
    let Some(d) = director else { return Content::Empty(NO_HOSTS.into()) };
    let host = host_of(ns);
    if d.engine(host).is_err() {
        return Content::Empty(no_daemon(d, host));
    }
    let names = network_names(d, host);
    let id = egui::Id::unique(("netsim-inspect-network", host));
    let stored: Option<String> = ui.data(|m| m.get_temp(id));
    let mut chosen = stored.filter(|n| names.contains(n)).unwrap_or_else(|| default_network(d, host));
    let before = chosen.clone();
    egui::ComboBox::from_label("Network").selected_text(chosen.as_str()).show_ui(ui, |ui| {
        for n in &names {
            ui.selectable_value(&mut chosen, n.clone(), n.as_str());
        }
    });
    if chosen != before {
        ui.data_mut(|m| m.insert_temp(id, chosen.clone()));
    }
    inspect(d, host, &chosen)
}

/// Text in a monospace, selectable area that scrolls both ways; one scroll position per tab.
/// `iptables-save -c` with one rule marked: the rule a reason in the inspector quoted, with
/// its counters, scrolled to when it was clicked.
fn rules_area(ui: &mut egui::Ui, text: &str, table: &str, rule: &str, scroll: bool) {
    let header = format!("*{table}");
    let mut in_table = false;
    let mut found = false;
    egui::ScrollArea::both().id_salt("tables-rules").auto_shrink([false, false]).show(ui, |ui| {
        for line in text.lines() {
            if line.starts_with('*') {
                in_table = line == header;
            }
            // `[packets:bytes] -A CHAIN …`
            let marked = in_table && !found && line.split_once("] ").is_some_and(|(_, r)| r == rule);
            if marked {
                found = true;
                let label = egui::RichText::new(line)
                    .monospace()
                    .strong()
                    .background_color(egui::Color32::from_rgb(90, 70, 20));
                let resp = ui.add(egui::Label::new(label).extend());
                if scroll {
                    // Centred vertically, with the line's start (its counters) in view: a rule
                    // is often wider than the panel.
                    let start = egui::Rect::from_min_size(resp.rect.left_top(), egui::vec2(1.0, resp.rect.height()));
                    ui.scroll_to_rect(start, Some(egui::Align::Center));
                }
            } else {
                ui.add(egui::Label::new(egui::RichText::new(line).monospace()).extend());
            }
        }
    });
    if !found {
        ui.label(egui::RichText::new("The rule the reason quoted is no longer in this table.").italics());
    }
}

fn text_area(ui: &mut egui::Ui, tab: TableTab, text: &str) {
    egui::ScrollArea::both().id_salt(("tables-text", tab as u8)).auto_shrink([false, false]).show(ui, |ui| {
        ui.add(egui::Label::new(egui::RichText::new(text).monospace()).selectable(true).extend());
    });
}
