//! A record of the engine beside the simulator's run of the same file.
//!
//! Normalised first, on both sides alike:
//! - network and endpoint IDs, creation times, the oracle's own label: left out;
//! - `br-<12 hex of the ID>` → `br-<network name>`; host-side `veth<7 hex>` → `veth*`, with
//!   their random MACs, and the bridges' random MACs → `*`;
//! - the oracle's LAN veth `nsim-eth0` → `eth0`, as the scenario names it;
//! - embedded-DNS ports (random per sandbox) → `*`;
//! - the name the engine drew for a container the lab did not name → the simulator's
//!   (`Record::drawn`);
//! - frames inside a container run in the foreground, which the engine removes before a
//!   capture can open it (`Record::uncaptured`): left out, compared on the bridge;
//! - subnets the engine's round-robin allocator picked after networks made before this run
//!   (it continues where the daemon last stopped): mapped onto the ones a freshly started
//!   daemon picks, with the MACs derived from them, once the mapping is checked to be that
//!   allocator's (consecutive pools, in creation order), networks the lab removed again
//!   included (`Record::made`). The mapping is reported as explained;
//! - frames to and from the machine's own name servers (`Record::upstream`), to which the
//!   embedded DNS forwards names it does not know from inside the container's namespace:
//!   outside the lab, left out with the gateway ARP only they made (`outside_the_lab`).
//!
//! Then compared: each network's inspect (driver, scope, flags, IPAM config, options, keys,
//! each endpoint's address and MAC), each namespace's links (name, MTU, MAC, kind, master),
//! addresses and routes, container and host iptables rules in order, each step's success,
//! the programs' output, and which IPv4 and ARP frames crossed each bridge and the LAN.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sim_core::Sim;
use sim_core::director::StepLog;
use sim_core::kernel::DevKind;
use sim_core::kernel::trace::Dir;

use crate::record::{NsRecord, Record};
use crate::replay::{docker_if, qualified};

/// What the simulator did, in the record's shape.
pub struct SimSide {
    pub host: String,
    pub steps: Vec<StepLog>,
    pub networks: BTreeMap<String, Value>,
    pub namespaces: BTreeMap<String, NsRecord>,
    pub host_iptables: Vec<String>,
    pub output: Vec<(String, String)>,
    /// `ns/if` → signatures.
    pub flows: BTreeMap<String, BTreeSet<String>>,
    /// Every network as inspected once it was made (`Record::made`).
    pub made: BTreeMap<String, Value>,
}

/// Runs `sim` to its end and reads it as the oracle reads the engine.
pub fn sim_side(mut sim: Sim, host: &str) -> SimSide {
    sim.world.trace = true;
    let mut flows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut made = BTreeMap::new();
    while sim.step().is_some() {
        if let Some(d) = sim.director.as_ref()
            && let Ok(e) = d.engine(host)
        {
            let new: Vec<&String> = e.networks.iter().map(|n| &n.name).filter(|n| !made.contains_key(*n)).collect();
            for name in new {
                if let Ok(text) = d.inspect_network(host, name)
                    && let Ok(v) = serde_json::from_str::<Value>(&text)
                {
                    made.insert(name.clone(), v.get(0).cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    let w = &sim.world;
    for r in sim.records() {
        if let (Dir::Tx, Some(dev), Some(f)) = (r.dir, r.dev, &r.frame) {
            let d = w.dev(dev);
            let ns = &w.netns(d.ns).name;
            if captured(ns, &d.name, host)
                && let Some(sig) = signature(f)
            {
                flows.entry(format!("{ns}/{}", d.name)).or_default().insert(sig);
            }
        }
    }
    let director = sim.director.as_ref();
    let mut networks = BTreeMap::new();
    if let Some(d) = director
        && let Ok(e) = d.engine(host)
    {
        let swarm = d.swarm.iter().flat_map(|s| s.networks.iter().map(|n| n.name.clone()));
        for name in e.networks.iter().map(|n| n.name.clone()).chain(swarm) {
            if let Ok(text) = d.inspect_network(host, &name)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
            {
                networks.insert(name, v.get(0).cloned().unwrap_or(Value::Null));
            }
        }
    }
    let mut namespaces = BTreeMap::new();
    let mut host_iptables = Vec::new();
    for n in w.ns.iter().filter(|n| !n.dead) {
        let is_host = n.name == host;
        let keep = |dev: &str| !is_host || docker_if(dev) || dev == "eth0";
        let mut st = NsRecord::default();
        for &d in &n.devs {
            let dev = w.dev(d);
            if matches!(dev.kind, DevKind::Loopback) || !keep(&dev.name) {
                continue;
            }
            let vni;
            let kind = match &dev.kind {
                DevKind::Veth { .. } => "veth",
                DevKind::Bridge(_) => "bridge",
                DevKind::Vxlan(v) => {
                    vni = format!("vxlan id {}", v.vni);
                    vni.as_str()
                }
                DevKind::Macvlan { .. } => "macvlan",
                DevKind::Vlan { .. } => "vlan",
                DevKind::Loopback => "",
            };
            let master = dev.master.map(|m| format!(" master {}", w.dev(m).name)).unwrap_or_default();
            st.links.push(format!("{} mtu {} mac {} kind {kind}{master}", dev.name, dev.mtu, dev.mac));
        }
        for a in &n.addrs {
            let dev = &w.dev(a.dev).name;
            if dev != "lo" && keep(dev) {
                st.addrs.push(format!("{dev} {}", a.addr));
            }
        }
        for r in &n.routes {
            let dev = &w.dev(r.dev).name;
            if !keep(dev) {
                continue;
            }
            let dst = if r.dst.len == 0 { "default".to_string() } else { r.dst.to_string() };
            let via = r.via.map(|v| format!(" via {v}")).unwrap_or_default();
            st.routes.push(format!("{dst}{via} dev {dev}"));
        }
        let save = sim_core::kernel::show::show(w, n.id, sim_core::kernel::show::What::Iptables);
        if is_host {
            host_iptables = qualified(&save);
        } else {
            st.iptables = crate::record::iptables_lines(&save);
        }
        st.links.sort();
        st.addrs.sort();
        st.routes.sort();
        namespaces.insert(n.name.clone(), st);
    }
    SimSide {
        host: host.to_string(),
        steps: director.map(|d| d.transcript.clone()).unwrap_or_default(),
        networks,
        namespaces,
        host_iptables,
        output: sim.program_output(),
        flows,
        made,
    }
}

/// Interfaces both sides capture: every sandbox's and LAN machine's, and the host's LAN one.
fn captured(ns: &str, dev: &str, host: &str) -> bool {
    ns != host || dev == "eth0"
}

/// What both sides must agree a frame was: IPv4 TCP/UDP/ICMP as `netsim diff` reduces it,
/// and the ARP that traffic and dockerd cause: broadcast who-has and announcements (which
/// differ between engine eras). Unicast who-has are the neighbour state machine's probes of
/// an entry gone stale, and replies answer either kind: both follow wall-clock timers
/// (delay_first_probe_time, reachable time) and are left out, as `netsim diff` leaves ARP out.
pub fn signature(frame: &[u8]) -> Option<String> {
    if frame.len() >= 42 && frame[12..14] == [0x08, 0x06] {
        let ip = |o: usize| std::net::Ipv4Addr::new(frame[o], frame[o + 1], frame[o + 2], frame[o + 3]);
        let (op, sender, target) = (u16::from_be_bytes([frame[20], frame[21]]), ip(28), ip(38));
        let broadcast = frame[..6] == [0xff; 6];
        return match op {
            1 if sender == target => Some(format!("arp announce {sender}")),
            1 if broadcast => Some(format!("arp who-has {target} tell {sender}")),
            _ => None,
        };
    }
    netsim_netns::frames::signature(frame)
}

/// The result: differences nobody explained, and what was normalised or cannot be compared.
#[derive(Debug, Default)]
pub struct Comparison {
    pub diffs: Vec<String>,
    pub explained: Vec<String>,
}

/// Compares a record (with its captured frames as `ns/if` → signatures) with the simulator.
pub fn compare(rec: &Record, rec_flows: &BTreeMap<String, BTreeSet<String>>, sim: &SimSide) -> Comparison {
    let mut out = Comparison::default();
    let (rec, rec_flows) = &drawn_names(rec, rec_flows);
    // Subnets first: everything else is read through the mapping.
    let map = subnet_map(rec, sim, &mut out);
    let rec = remap_record(rec, &map);
    let races = task_races(&rec, sim, &mut out);
    let map: Vec<Moved> = map.into_iter().chain(races.iter().copied()).collect();
    let rec = remap_record(&rec, &races);
    let rec_flows: BTreeMap<String, BTreeSet<String>> =
        rec_flows.iter().map(|(k, v)| (k.clone(), v.iter().map(|s| remap(s, &map)).collect())).collect();
    let rnames = bridge_names(&ever(&rec.networks, &rec.made), &rec.renamed);
    let snames = bridge_names(&ever(&sim.networks, &sim.made), &BTreeMap::new());
    // Namespaces named after random IDs: overlays' `1-<id>` and swarm tasks' `svc.slot.<id>`.
    let (rec, rec_flows) = renamed_ns(rec, rec_flows);
    let sim = &renamed_sim(sim);

    networks(&rec, sim, &mut out);
    steps(&rec, sim, &mut out);
    // Namespaces: the host's Docker devices, every sandbox, the LAN machines.
    for (ns, r) in &rec.namespaces {
        let Some(s) = sim.namespaces.get(ns) else {
            out.diffs.push(format!("namespace {ns}: the engine has it, the simulator does not"));
            continue;
        };
        let (r, s) = (norm_ns(ns, r, &rnames), norm_ns(ns, s, &snames));
        for (what, a, b) in
            [("link", &r.links, &s.links), ("address", &r.addrs, &s.addrs), ("route", &r.routes, &s.routes)]
        {
            list_diff(&mut out.diffs, &format!("{ns} {what}"), a, b);
        }
        seq_diff(&mut out.diffs, &format!("{ns} iptables"), &r.iptables, &s.iptables);
    }
    for ns in sim.namespaces.keys() {
        let container = ns.split_once(':').is_some_and(|(h, _)| h == sim.host);
        if container && !rec.namespaces.contains_key(ns) {
            out.diffs.push(format!("namespace {ns}: the simulator has it, the engine does not"));
        }
    }
    // Tables are independent: iptables-save's order of them says nothing; rules within one do.
    let by_table = |v: &[String], n: &BTreeMap<String, String>| {
        let mut v: Vec<String> = v.iter().map(|l| names(l, n)).collect();
        v.sort_by(|a, b| a.split(' ').next().cmp(&b.split(' ').next()));
        v
    };
    let host_rules = without_history(&rec, &mut out);
    let (ri, si) = (by_table(&host_rules, &rnames), by_table(&sim.host_iptables, &snames));
    seq_diff(&mut out.diffs, &format!("{} iptables", sim.host), &ri, &si);
    let mut rec_output = rec.output.clone();
    let mesh = if rec.no_ipvs { routing_mesh(&rec, sim) } else { None };
    if let Some(m) = &mesh {
        rec_output.retain(|(_, l)| !m.refused(l));
    }
    for d in netsim_netns::kernel::compare_output(&sim.output, &rec_output) {
        out.diffs.push(d.replace("the kernel run", "the engine's run"));
    }
    // Frames.
    let norm_flows =
        |f: &BTreeMap<String, BTreeSet<String>>, n: &BTreeMap<String, String>| -> BTreeMap<String, BTreeSet<String>> {
            f.iter().map(|(k, v)| (names(k, n), v.clone())).collect()
        };
    let mut sim_flows = sim.flows.clone();
    for ns in &rec.uncaptured {
        let before = sim_flows.len();
        sim_flows.retain(|k, _| k.split_once('/').is_none_or(|(n, _)| n != ns));
        if sim_flows.len() < before {
            out.explained.push(format!(
                "frames inside {ns}: a container run in the foreground, made and removed within its \
                 `docker run` on the engine, before a capture could open its namespace (compared on the bridge)"
            ));
        }
    }
    let (mut rf, mut sf) = (norm_flows(&rec_flows, &rnames), norm_flows(&sim_flows, &snames));
    outside_the_lab(&rec, &mut rf, &sf, &mut out);
    if let Some(m) = &mesh {
        m.leave_out(&mut rf, &mut sf, &mut out);
    }
    for d in netsim_netns::frames::compare(&sf, &rf) {
        out.diffs.push(format!("frames on {}", d.replace("the kernel", "the engine's run")));
    }
    out
}

/// The embedded DNS forwards a name it does not know to the machine's own servers from
/// inside the container's namespace (`libnetwork/resolver.go` forwards through a socket made
/// in the sandbox), so on the engine the query leaves through the container's interface, its
/// gateway answering ARP first, and crosses the bridge. Those servers are outside the lab: the
/// simulator answers such a query without the wire (docs/docker-model.md, *Embedded DNS*).
/// The engine's frames to and from them are left out, with the ARP for a gateway that only
/// such a query made, and reported as explained.
fn outside_the_lab(
    rec: &Record,
    rf: &mut BTreeMap<String, BTreeSet<String>>,
    sf: &BTreeMap<String, BTreeSet<String>>,
    out: &mut Comparison,
) {
    let gateways: BTreeSet<String> = ever(&rec.networks, &rec.made)
        .values()
        .filter_map(|v| v.pointer("/IPAM/Config").and_then(|c| c.as_array()))
        .flatten()
        .filter_map(|c| c.get("Gateway").and_then(|g| g.as_str()))
        .map(|g| g.split('/').next().unwrap_or(g).to_string())
        .collect();
    for up in &rec.upstream {
        let (to, from) = (format!("> {up}:53"), format!(" {up}:53 >"));
        for (key, sigs) in rf.iter_mut() {
            let before = sigs.len();
            sigs.retain(|s| !(s.starts_with("udp ") && (s.ends_with(&to) || s.contains(&from))));
            if sigs.len() == before {
                continue;
            }
            let sim = sf.get(key);
            sigs.retain(|s| {
                let gw = s.strip_prefix("arp who-has ").and_then(|r| r.split(' ').next());
                !gw.is_some_and(|g| gateways.contains(g)) || sim.is_some_and(|f| f.contains(s))
            });
            out.explained.push(format!(
                "frames on {key} to and from {up}:53, this machine's name server: the embedded DNS \
                 forwarded a name it did not know from the container's namespace, out of the lab \
                 (the simulator answers such names without the wire)"
            ));
        }
    }
}

/// The swarm's routing mesh on a machine whose kernel has no IPVS: the engine publishes a
/// service's port (the DNAT to ingress_sbox is there) but cannot forward what arrives, so a
/// client is refused where the simulator, which models a kernel with IPVS as the course
/// machines have, reaches a task. What crossed the ingress network for those ports, and a
/// client's refusal, cannot be judged here; they are left out and reported as explained
/// (traces/docker/README.md, *Not comparable with one engine on this machine*).
struct Mesh {
    /// The ingress network's subnet, as (base, prefix length).
    subnet: (u32, u8),
    /// The ports services published through the mesh, from the lab's steps…
    ports: BTreeSet<u16>,
    /// …and the tasks' ports behind them.
    targets: BTreeSet<u16>,
}

fn routing_mesh(rec: &Record, sim: &SimSide) -> Option<Mesh> {
    use sim_core::docker::cli::{DockerCommand, PublishMode};
    let subnet = ever(&rec.networks, &rec.made)
        .values()
        .find(|v| v["Ingress"] == true)
        .and_then(|v| v.pointer("/IPAM/Config/0/Subnet").and_then(|s| s.as_str()).and_then(net))?;
    let (mut ports, mut targets) = (BTreeSet::new(), BTreeSet::new());
    for s in &sim.steps {
        let publish = match sim_core::docker::cli::parse(&s.line) {
            Ok(DockerCommand::ServiceCreate(c)) => c.publish,
            _ => continue,
        };
        for p in publish.iter().filter(|p| p.mode == PublishMode::Ingress) {
            ports.extend(p.published);
            targets.insert(p.target);
        }
    }
    (!ports.is_empty()).then_some(Mesh { subnet, ports, targets })
}

impl Mesh {
    fn in_subnet(&self, addr: &str) -> bool {
        addr.parse::<std::net::Ipv4Addr>().is_ok_and(|a| u32::from(a) & mask(self.subnet.1) == self.subnet.0)
    }

    /// A signature the mesh carried on interface `key` (`ns/if`): TCP or UDP to or from a
    /// task's port at an ingress address, or a published port inside ingress_sbox (its
    /// docker_gwbridge end is the DNAT's target), or an ARP between two ingress addresses.
    fn carried(&self, key: &str, sig: &str) -> bool {
        let sbox = key.split_once(':').is_some_and(|(_, rest)| rest.starts_with("ingress_sbox/"));
        let port_of = |end: &str| end.rsplit_once(':').and_then(|(a, p)| Some((a.to_string(), p.parse::<u16>().ok()?)));
        let words: Vec<&str> = sig.split(' ').collect();
        match words.as_slice() {
            ["arp", "who-has", t, "tell", s] => self.in_subnet(t) && self.in_subnet(s),
            [proto, a, ">", b, ..] if ["tcp", "udp"].contains(proto) => [a, b].iter().any(|end| {
                port_of(end).is_some_and(|(addr, p)| {
                    (self.in_subnet(&addr) && self.targets.contains(&p)) || (sbox && self.ports.contains(&p))
                })
            }),
            _ => false,
        }
    }

    /// A client's words for a connection the engine refused on a published port.
    fn refused(&self, line: &str) -> bool {
        self.ports.iter().any(|p| line.contains("Failed to connect to") && line.contains(&format!(" port {p}: ")))
    }

    fn leave_out(
        &self,
        rf: &mut BTreeMap<String, BTreeSet<String>>,
        sf: &mut BTreeMap<String, BTreeSet<String>>,
        out: &mut Comparison,
    ) {
        let mut left = 0;
        for flows in [rf, sf] {
            for (key, sigs) in flows.iter_mut() {
                let before = sigs.len();
                sigs.retain(|s| !self.carried(key, s));
                left += before - sigs.len();
            }
        }
        let ports = self.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        out.explained.push(format!(
            "the routing mesh on published port {ports}: this kernel has no IPVS, so the engine publishes \
             the port but cannot forward to a task (a client is refused); {left} kinds of frame on it and \
             the clients' refusals are left out, not judged"
        ));
    }
}

/// A namespace name without the random IDs in it: `host:1-<network id>` → `host:1-<network>`,
/// `host:svc.slot.<task id>` → `host:svc.slot`.
fn ns_name(ns: &str, nets: &BTreeMap<String, Value>) -> String {
    let Some((host, rest)) = ns.split_once(':') else { return ns.to_string() };
    if let Some(id) = rest.strip_prefix("1-")
        && let Some((name, _)) = nets
            .iter()
            .find(|(_, v)| v.get("Id").and_then(|i| i.as_str()).is_some_and(|i| !id.is_empty() && i.starts_with(id)))
    {
        return format!("{host}:1-{name}");
    }
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() == 3 && parts[1].parse::<u32>().is_ok() && parts[2].len() == 25 {
        return format!("{host}:{}.{}", parts[0], parts[1]);
    }
    ns.to_string()
}

fn flows_renamed(
    f: &BTreeMap<String, BTreeSet<String>>,
    nets: &BTreeMap<String, Value>,
) -> BTreeMap<String, BTreeSet<String>> {
    f.iter()
        .map(|(k, v)| {
            let k = match k.rsplit_once('/') {
                Some((ns, dev)) => format!("{}/{dev}", ns_name(ns, nets)),
                None => k.clone(),
            };
            (k, v.clone())
        })
        .collect()
}

/// The record with each name the engine drew for a container the lab did not name read as
/// the one the simulator drew (`Record::drawn`): its namespace, its lines, its frames, its
/// endpoints.
fn drawn_names(
    rec: &Record,
    flows: &BTreeMap<String, BTreeSet<String>>,
) -> (Record, BTreeMap<String, BTreeSet<String>>) {
    let mut rec = rec.clone();
    if rec.drawn.is_empty() {
        return (rec, flows.clone());
    }
    let drawn = rec.drawn.clone();
    let sim_name = |n: &str| drawn.iter().find(|(e, _)| e == n).map_or(n.to_string(), |(_, s)| s.clone());
    let ns = |k: &str| -> String {
        let Some((host, rest)) = k.split_once(':') else { return k.to_string() };
        let (name, tail) = rest.split_once('/').map_or((rest, None), |(n, t)| (n, Some(t)));
        let name = sim_name(name);
        match tail {
            Some(t) => format!("{host}:{name}/{t}"),
            None => format!("{host}:{name}"),
        }
    };
    let namespaces = rec.namespaces.iter().map(|(k, v)| (ns(k), v.clone())).collect();
    let output = rec.output.iter().map(|(k, l)| (ns(k), l.clone())).collect();
    let flows = flows.iter().map(|(k, v)| (ns(k), v.clone())).collect();
    let containers = rec.containers.iter().map(|(k, v)| (sim_name(k), v.clone())).collect();
    let mut networks = rec.networks.clone();
    for net in networks.values_mut() {
        if let Some(Value::Object(eps)) = net.get_mut("Containers") {
            for ep in eps.values_mut() {
                if let Some(Value::String(n)) = ep.get_mut("Name") {
                    *n = sim_name(n);
                }
            }
        }
    }
    rec.namespaces = namespaces;
    rec.output = output;
    rec.containers = containers;
    rec.networks = networks;
    (rec, flows)
}

fn renamed_ns(rec: Record, flows: BTreeMap<String, BTreeSet<String>>) -> (Record, BTreeMap<String, BTreeSet<String>>) {
    let n = &rec.networks;
    let flows = flows_renamed(&flows, n);
    let namespaces = rec.namespaces.iter().map(|(k, v)| (ns_name(k, n), v.clone())).collect();
    let output = rec.output.iter().map(|(ns, l)| (ns_name(ns, n), l.clone())).collect();
    (Record { namespaces, output, ..rec }, flows)
}

fn renamed_sim(sim: &SimSide) -> SimSide {
    let n = &sim.networks;
    SimSide {
        host: sim.host.clone(),
        steps: sim.steps.clone(),
        networks: sim.networks.clone(),
        namespaces: sim.namespaces.iter().map(|(k, v)| (ns_name(k, n), v.clone())).collect(),
        host_iptables: sim.host_iptables.clone(),
        output: sim.output.iter().map(|(ns, l)| (ns_name(ns, n), l.clone())).collect(),
        flows: flows_renamed(&sim.flows, n),
        made: sim.made.clone(),
    }
}

/// The engine's host rules without the copies of a rule it already held several times before
/// the run: 20.10 inserts `-A FORWARD -j DOCKER-USER` again at each `swarm init` and leaves
/// it after `swarm leave`, so a daemon that has been in swarms holds duplicates.
fn without_history(rec: &Record, out: &mut Comparison) -> Vec<String> {
    let mut extra: BTreeMap<&String, usize> = BTreeMap::new();
    for l in &rec.host_iptables_baseline {
        *extra.entry(l).or_default() += 1;
    }
    extra.retain(|_, n| *n > 1);
    for n in extra.values_mut() {
        *n -= 1;
    }
    for (l, n) in &extra {
        out.explained.push(format!(
            "host iptables: the engine held `{l}` {} times before the run (left by earlier swarms); counted once",
            n + 1
        ));
    }
    // The daemon keeps its own jump at the top; the stale copies are the later ones.
    let mut rules = Vec::new();
    for l in rec.host_iptables.iter().rev() {
        match extra.get_mut(l) {
            Some(n) if *n > 0 => *n -= 1,
            _ => rules.push(l.clone()),
        }
    }
    rules.reverse();
    rules
}

/// Network name → the subnet(s) of its IPAM config.
/// The networks at the end, and those the lab removed before, as they were when made.
fn ever(now: &BTreeMap<String, Value>, made: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    made.iter().chain(now).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn subnets(nets: &BTreeMap<String, Value>) -> BTreeMap<String, Vec<String>> {
    nets.iter()
        .map(|(n, v)| {
            let s = v
                .pointer("/IPAM/Config")
                .and_then(|c| c.as_array())
                .map(|a| a.iter().filter_map(|c| c.get("Subnet").and_then(|s| s.as_str()).map(String::from)).collect())
                .unwrap_or_default();
            (n.clone(), s)
        })
        .collect()
}

fn created(v: &Value) -> String {
    v.get("Created").and_then(|c| c.as_str()).unwrap_or_default().to_string()
}

/// A subnet the engine picked → the one the simulator (a freshly started daemon) picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moved {
    from: (u32, u8),
    to: (u32, u8),
}

fn net(s: &str) -> Option<(u32, u8)> {
    let (a, l) = s.split_once('/')?;
    let ip: std::net::Ipv4Addr = a.parse().ok()?;
    Some((u32::from(ip), l.parse().ok()?))
}

fn mask(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len as u32) }
}

impl Moved {
    fn ip(&self, ip: u32) -> Option<u32> {
        let (base, len) = self.from;
        (ip & mask(len) == base).then(|| self.to.0 + (ip - base))
    }
}

/// Where Docker's predefined pools put a subnet in their order (172.17–31/16, then
/// 192.168.x.0/20), for checking the engine's picks are its round-robin allocator's.
fn pool_index((base, len): (u32, u8)) -> Option<u32> {
    let o = base.to_be_bytes();
    match (o[0], o[1], len) {
        (172, b @ 17..=31, 16) => Some(b as u32 - 17),
        (192, 168, 20) => Some(15 + o[2] as u32 / 16),
        _ => None,
    }
}

/// The subnets the engine's allocator placed elsewhere than a fresh daemon would: it walks
/// its pools round-robin from wherever the daemon last stopped.
fn subnet_map(rec: &Record, sim: &SimSide, out: &mut Comparison) -> Vec<Moved> {
    // Those the lab removed again too, as they were when made.
    let (rnets, snets) = (ever(&rec.networks, &rec.made), ever(&sim.networks, &sim.made));
    let (r, s) = (subnets(&rnets), subnets(&snets));
    let mut moved: Vec<(String, Moved)> = Vec::new();
    for (name, rs) in &r {
        let (Some(ss), Some(rv)) = (s.get(name), rnets.get(name)) else { continue };
        if let (Some(a), Some(b)) = (rs.first().and_then(|x| net(x)), ss.first().and_then(|x| net(x)))
            && a != b
        {
            moved.push((created(rv), Moved { from: a, to: b }));
        }
    }
    if moved.is_empty() {
        return Vec::new();
    }
    moved.sort_by(|a, b| a.0.cmp(&b.0));
    let idx: Vec<Option<u32>> = moved.iter().map(|(_, m)| pool_index(m.from)).collect();
    let consecutive = idx.iter().all(Option::is_some)
        && idx.windows(2).all(|w| matches!(w, [Some(a), Some(b)] if *b == a + 1 || *b == 0));
    let show = |(b, l): (u32, u8)| format!("{}/{l}", std::net::Ipv4Addr::from(b));
    let list = moved.iter().map(|(_, m)| format!("{} → {}", show(m.from), show(m.to))).collect::<Vec<_>>().join(", ");
    if consecutive {
        out.explained.push(format!(
            "subnets: the engine's round-robin allocator went on from networks made before this run \
             ({list}); addresses and the MACs made from them are read as a fresh daemon's"
        ));
    } else {
        out.diffs.push(format!("subnets: the engine picked them in an order its allocator would not ({list})"));
    }
    moved.into_iter().map(|(_, m)| m).collect()
}

/// The tasks of one service are created together: the manager hands out their overlay
/// addresses and each task's daemon its docker_gwbridge address in no fixed order, so which
/// task gets the lower one is a race on the engine. Where a service's tasks hold the same set
/// of addresses on a network on both sides, the engine's are read in the simulator's order.
fn task_races(rec: &Record, sim: &SimSide, out: &mut Comparison) -> Vec<Moved> {
    let mut moved = Vec::new();
    for net in rec.networks.keys() {
        moved.extend(races_on(net, rec, sim, out));
    }
    moved
}

fn races_on(network: &str, rec: &Record, sim: &SimSide, out: &mut Comparison) -> Vec<Moved> {
    let gw = |nets: &BTreeMap<String, Value>| -> BTreeMap<String, String> {
        nets.get(network)
            .map(|v| endpoints(v, nets))
            .unwrap_or_default()
            .into_iter()
            .map(|(name, (ip, _))| (name.strip_prefix("gateway_").unwrap_or(&name).to_string(), ip))
            .collect()
    };
    let (r, s) = (gw(&rec.networks), gw(&sim.networks));
    let service = |task: &str| task.rsplit_once('.').map(|(svc, slot)| (svc.to_string(), slot.parse::<u32>().is_ok()));
    let mut by_service: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (task, rip) in &r {
        if let (Some((svc, true)), Some(sip)) = (service(task), s.get(task)) {
            by_service.entry(svc).or_default().push((rip.clone(), sip.clone()));
        }
    }
    let mut moved = Vec::new();
    for (svc, pairs) in by_service {
        let mut a: Vec<&String> = pairs.iter().map(|p| &p.0).collect();
        let mut b: Vec<&String> = pairs.iter().map(|p| &p.1).collect();
        a.sort();
        b.sort();
        if pairs.len() < 2 || a != b || pairs.iter().all(|(x, y)| x == y) {
            continue;
        }
        for (from, to) in &pairs {
            if let (Some(f), Some(t)) = (net(from), net(to)) {
                moved.push(Moved { from: (f.0, 32), to: (t.0, 32) });
            }
        }
        out.explained.push(format!(
            "{network}: the tasks of {svc} started together and the engine handed out their addresses \
             in another order ({}); read in the simulator's",
            pairs.iter().map(|(x, y)| format!("{x} → {y}")).collect::<Vec<_>>().join(", ")
        ));
    }
    moved
}

/// Rewrites addresses (`a.b.c.d`, `a.b.c.d/len`) and IP-derived MACs (`02:42:` + the four
/// octets) that lie in a moved subnet.
fn remap(s: &str, map: &[Moved]) -> String {
    if map.is_empty() {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let tok = |c: u8| c.is_ascii_hexdigit() || c == b'.' || c == b':' || c == b'/';
    while i < b.len() {
        if !tok(b[i]) || (i > 0 && tok(b[i - 1])) {
            out.push(s[i..].chars().next().unwrap_or_default());
            i += s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            continue;
        }
        let mut j = i;
        while j < b.len() && tok(b[j]) {
            j += 1;
        }
        out.push_str(&remap_token(&s[i..j], map));
        i = j;
    }
    out
}

fn remap_token(t: &str, map: &[Moved]) -> String {
    // `ip:port` too (a DNAT target), and a trailing `:` of punctuation.
    let (addr, rest) = match t.find(['/', ':']) {
        Some(k) if !t.starts_with("02:42:") => (&t[..k], &t[k..]),
        _ => (t, ""),
    };
    if let Ok(ip) = addr.parse::<std::net::Ipv4Addr>() {
        let ip = u32::from(ip);
        for m in map {
            if let Some(new) = m.ip(ip) {
                let new = std::net::Ipv4Addr::from(new);
                // The subnet's own prefix length moves with it.
                let rest = match rest.strip_prefix('/') {
                    Some(l) if l.parse::<u8>().ok() == Some(m.from.1) => format!("/{}", m.to.1),
                    _ => rest.to_string(),
                };
                return format!("{new}{rest}");
            }
        }
        return t.to_string();
    }
    if let Some(octets) = t.strip_prefix("02:42:") {
        let o: Vec<u8> = octets.split(':').filter_map(|x| u8::from_str_radix(x, 16).ok()).collect();
        if o.len() == 4 && octets.len() == 11 {
            let ip = u32::from_be_bytes([o[0], o[1], o[2], o[3]]);
            for m in map {
                if let Some(new) = m.ip(ip) {
                    let n = new.to_be_bytes();
                    return format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", n[0], n[1], n[2], n[3]);
                }
            }
        }
    }
    t.to_string()
}

fn remap_record(rec: &Record, map: &[Moved]) -> Record {
    if map.is_empty() {
        return rec.clone();
    }
    let text = serde_json::to_string(rec).unwrap_or_default();
    serde_json::from_str(&remap(&text, map)).unwrap_or_else(|_| rec.clone())
}

/// Bridge device → `br-<network>`, and the oracle's renamed interfaces back.
fn bridge_names(nets: &BTreeMap<String, Value>, renamed: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = renamed.clone();
    for (name, v) in nets {
        let id = v.get("Id").and_then(|i| i.as_str()).unwrap_or_default();
        let dev = v.pointer("/Options/com.docker.network.bridge.name").and_then(|b| b.as_str());
        if v.get("Driver").and_then(|d| d.as_str()) == Some("bridge") && dev.is_none() && id.len() >= 12 {
            m.insert(format!("br-{}", &id[..12]), format!("br-{name}"));
        }
    }
    m
}

/// A line with device names normalised: bridges by network, host veths as `veth*`.
fn names(line: &str, n: &BTreeMap<String, String>) -> String {
    line.split(' ')
        .map(|w| {
            // `ns/dev` and `dev@ifN` forms too.
            let (pre, dev) = match w.rsplit_once('/') {
                Some((p, d)) if !d.is_empty() && !d.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                    (format!("{p}/"), d)
                }
                _ => (String::new(), w),
            };
            if let Some(to) = n.get(dev) {
                return format!("{pre}{to}");
            }
            // Host veths (`veth` + 7 hex) and an overlay namespace's bridge ports (`veth0`…
            // on the engine, `veth000002`… in the simulator) have names drawn or counted.
            if dev.len() > 4 && dev.starts_with("veth") && dev[4..].chars().all(|c| c.is_ascii_hexdigit()) {
                return format!("{pre}veth*");
            }
            w.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn norm_ns(ns: &str, s: &NsRecord, n: &BTreeMap<String, String>) -> NsRecord {
    // Outside sandboxes, veths are the oracle's or the simulator's own, with random MACs.
    let sandbox = ns.contains(':');
    let links = s
        .links
        .iter()
        .map(|l| {
            let l = names(l, n);
            // Host veths and bridges carry random MACs on both sides.
            let random = l.starts_with("veth*")
                || l.contains(" kind bridge")
                || l.contains(" kind vxlan")
                || (!sandbox && l.contains(" kind veth"));
            if random {
                let mut w: Vec<&str> = l.split(' ').collect();
                if let Some(i) = w.iter().position(|x| *x == "mac")
                    && i + 1 < w.len()
                {
                    w[i + 1] = "*";
                }
                w.join(" ")
            } else {
                l
            }
        })
        .collect();
    let sorted = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|l| names(l, n)).collect();
        v.sort();
        v
    };
    NsRecord {
        links,
        addrs: sorted(&s.addrs),
        routes: sorted(&s.routes),
        neigh: Vec::new(),
        iptables: s.iptables.iter().map(|l| dns_ports(&names(l, n))).collect(),
    }
}

/// The embedded DNS's random ports → `*`.
fn dns_ports(line: &str) -> String {
    if !line.contains("127.0.0.11") {
        return line.to_string();
    }
    let w: Vec<&str> = line.split(' ').collect();
    let mut out = Vec::new();
    for (i, x) in w.iter().enumerate() {
        let prev = if i > 0 { w[i - 1] } else { "" };
        if (prev == "--sport" || prev == "--dport") && *x != "53" {
            out.push("*".to_string());
        } else if let Some(p) = x.strip_prefix("127.0.0.11:")
            && p != "53"
        {
            out.push("127.0.0.11:*".to_string());
        } else {
            out.push(x.to_string());
        }
    }
    out.join(" ")
}

fn list_diff(out: &mut Vec<String>, what: &str, rec: &[String], sim: &[String]) {
    let mut s: Vec<&String> = sim.iter().collect();
    for r in rec {
        if let Some(i) = s.iter().position(|x| *x == r) {
            s.remove(i);
        } else {
            out.push(format!("{what}: the engine has `{r}`, the simulator does not"));
        }
    }
    for x in s {
        out.push(format!("{what}: the simulator has `{x}`, the engine does not"));
    }
}

/// Rules in order: what is missing on either side, or else the first place they part.
fn seq_diff(out: &mut Vec<String>, what: &str, rec: &[String], sim: &[String]) {
    let before = out.len();
    list_diff(out, what, rec, sim);
    if out.len() == before
        && rec != sim
        && let Some(i) = (0..rec.len()).find(|&i| rec[i] != sim[i])
    {
        out.push(format!(
            "{what}: same rules in another order; first at #{}: engine `{}`, simulator `{}`",
            i + 1,
            rec[i],
            sim[i]
        ));
    }
}

fn networks(rec: &Record, sim: &SimSide, out: &mut Comparison) {
    for (name, r) in &rec.networks {
        let Some(s) = sim.networks.get(name) else {
            out.diffs.push(format!("network {name}: the engine has it, the simulator does not"));
            continue;
        };
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        if keys(r) != keys(s) {
            out.diffs.push(format!("network {name}: inspect keys: engine {:?}, simulator {:?}", keys(r), keys(s)));
        }
        for k in ["Driver", "Scope", "EnableIPv4", "EnableIPv6", "Internal", "Attachable", "Ingress", "IPAM"] {
            if r.get(k) != s.get(k) {
                out.diffs.push(format!("network {name}: {k}: engine {}, simulator {}", show(r.get(k)), show(s.get(k))));
            }
        }
        let opts = |v: &Value, renamed: &BTreeMap<String, String>| -> Value {
            let mut o = v.get("Options").cloned().unwrap_or(Value::Null);
            if let Some(p) = o.get_mut("parent")
                && let Some(to) = p.as_str().and_then(|x| renamed.get(x))
            {
                *p = Value::String(to.clone());
            }
            o
        };
        let (ro, so) = (opts(r, &rec.renamed), opts(s, &BTreeMap::new()));
        if ro != so {
            out.diffs.push(format!("network {name}: Options: engine {ro}, simulator {so}"));
        }
        let (re, se) = (endpoints(r, &rec.networks), endpoints(s, &sim.networks));
        for (c, (ip, mac)) in &re {
            match se.get(c) {
                None => {
                    out.diffs.push(format!("network {name}: endpoint {c}: the engine has it, the simulator does not"))
                }
                Some((sip, smac)) => {
                    if ip != sip {
                        out.diffs.push(format!("network {name}: endpoint {c}: address: engine {ip}, simulator {sip}"));
                    }
                    if mac != smac {
                        out.diffs.push(format!("network {name}: endpoint {c}: MAC: engine {mac}, simulator {smac}"));
                    }
                }
            }
        }
        for c in se.keys().filter(|c| !re.contains_key(*c)) {
            out.diffs.push(format!("network {name}: endpoint {c}: the simulator has it, the engine does not"));
        }
    }
    for name in sim.networks.keys().filter(|n| !rec.networks.contains_key(*n)) {
        out.diffs.push(format!("network {name}: the simulator has it, the engine does not"));
    }
}

/// A network's endpoints: name → (address, MAC). Task names lose their random task ID, and
/// docker_gwbridge's `gateway_<random>` entries take the name of the container they serve
/// (the same key in the container's other networks).
fn endpoints(v: &Value, all: &BTreeMap<String, Value>) -> BTreeMap<String, (String, String)> {
    let name_of = |key: &str| -> Option<String> {
        all.values().find_map(|n| {
            let name = n.pointer(&format!("/Containers/{key}/Name"))?.as_str()?;
            (!name.starts_with("gateway_")).then(|| name.to_string())
        })
    };
    let task = |name: &str| ns_name(&format!(":{name}"), &BTreeMap::new())[1..].to_string();
    v.get("Containers")
        .and_then(|c| c.as_object())
        .map(|o| {
            o.iter()
                .map(|(key, e)| {
                    let s = |k: &str| e.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
                    let mut name = s("Name");
                    if name.starts_with("gateway_")
                        && let Some(served) = name_of(key)
                    {
                        name = format!("gateway_{}", task(&served));
                    }
                    (task(&name), (s("IPv4Address"), s("MacAddress")))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn show(v: Option<&Value>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into())
}

/// Each step: did it succeed on both, and do failures say the same.
fn steps(rec: &Record, sim: &SimSide, out: &mut Comparison) {
    for (r, s) in rec.steps.iter().zip(&sim.steps) {
        let label = format!("step `{}` on {}", r.line, r.host);
        // A program that ran and failed (a ping without replies, nc's closed port) has
        // printed its lines and gives the step its status; on the engine a program the
        // agent ran in its place (`ran`) exits as the agent does, which says nothing of it.
        let agent = r.ran.as_deref().is_some_and(|x| x.contains(" agent "));
        match (&s.output, r.status == 0) {
            (Ok(_), _) if s.status != 0 && !agent => {
                if r.status != i32::from(s.status) {
                    out.diffs.push(format!(
                        "{label}: exit status {} on the engine and {} in the simulator",
                        r.status, s.status
                    ));
                }
            }
            (Ok(_), true) => {}
            (Err(e), false) => {
                let (a, b) = (first_line(&r.stderr), first_line(e));
                if !a.contains(b.trim_start_matches("docker: ").trim_start_matches("Error response from daemon: ")) {
                    out.diffs.push(format!("{label}: both fail, the engine says `{a}`, the simulator `{b}`"));
                } else if r.status != i32::from(s.status) {
                    out.diffs.push(format!(
                        "{label}: both fail, with exit status {} on the engine and {} in the simulator",
                        r.status, s.status
                    ));
                }
            }
            (Ok(_), false) => out
                .diffs
                .push(format!("{label}: the engine failed (`{}`), the simulator did not", first_line(&r.stderr))),
            (Err(e), true) => {
                out.diffs.push(format!("{label}: the simulator failed (`{}`), the engine did not", first_line(e)))
            }
        }
    }
    // A step one side never ran is a difference of its own, named, not a count.
    for r in rec.steps.iter().skip(sim.steps.len()) {
        out.diffs.push(format!("step `{}` on {}: the engine ran it, the simulator never reached it", r.line, r.host));
    }
    for s in sim.steps.iter().skip(rec.steps.len()) {
        out.diffs.push(format!(
            "step `{}` on {}: the simulator ran it, the engine's record does not have it",
            s.line, s.host
        ));
    }
}

/// The first line that says something: past the container ID the simulator's failed
/// `docker run` prints first (the engine prints it on standard output, apart from the error).
fn first_line(s: &str) -> &str {
    let id = |l: &&str| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit());
    s.trim().lines().find(|l| !id(l)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without IPVS the mesh's frames and a client's refusal on a published port are left
    /// out; a published port of a plain container (`-p 8080:80`) is still compared.
    #[test]
    fn the_routing_mesh_without_ipvs_is_explained_not_judged() {
        let m = Mesh { subnet: net("10.0.0.0/24").expect("net"), ports: [8080].into(), targets: [80].into() };
        assert!(m.carried("host1:web.1/eth0", "tcp 10.0.0.8:80 > 10.0.0.2:* [S]"));
        assert!(m.carried("host1:ingress_sbox/eth1", "tcp 172.18.0.2:8080 > 172.18.0.1:* [R]"));
        assert!(m.carried("host1:ingress_sbox/eth0", "arp who-has 10.0.0.8 tell 10.0.0.2"));
        assert!(!m.carried("host1:web2/eth0", "tcp 172.17.0.2:80 > 192.168.99.10:* [S]"));
        assert!(!m.carried("host1/eth0", "tcp 192.168.99.101:8080 > 192.168.99.10:* [S]"));
        assert!(m.refused("curl: (7) Failed to connect to 127.0.0.1 port 8080: Connection refused"));
        assert!(!m.refused("curl: (7) Failed to connect to 127.0.0.1 port 80: Connection refused"));
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
        let mut rf = BTreeMap::from([("host1:web.1/eth0".to_string(), set(&["tcp 10.0.0.8:80 > 10.0.0.2:* [S]"]))]);
        let mut sf = rf.clone();
        let mut out = Comparison::default();
        m.leave_out(&mut rf, &mut sf, &mut out);
        assert!(rf["host1:web.1/eth0"].is_empty() && sf["host1:web.1/eth0"].is_empty());
        assert!(
            out.explained[0].contains("published port 8080") && out.explained[0].contains("no IPVS"),
            "{:?}",
            out.explained
        );
    }

    /// The embedded DNS's forwarded queries to the machine's name server, and the ARP for the
    /// gateway only they made, are left out; every other frame, and a gateway ARP the
    /// simulator sent too, is still compared.
    #[test]
    fn queries_forwarded_out_of_the_lab_are_explained() {
        let net = serde_json::json!({"IPAM": {"Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]}});
        let rec = Record {
            upstream: crate::record::nameservers("# generated\nnameserver 10.255.255.53\noptions edns0\n"),
            made: BTreeMap::from([("alpine-net".to_string(), net)]),
            ..Record::default()
        };
        assert_eq!(rec.upstream, ["10.255.255.53"]);
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
        let mut rf = BTreeMap::from([
            (
                "host1:a4/eth0".to_string(),
                set(&[
                    "udp 172.18.0.4:* > 10.255.255.53:53",
                    "udp 10.255.255.53:53 > 172.18.0.4:*",
                    "arp who-has 172.18.0.1 tell 172.18.0.4",
                    "icmp 172.18.0.4 > 172.18.0.2 type 8",
                ]),
            ),
            ("host1:a1/eth0".to_string(), set(&["arp who-has 172.18.0.1 tell 172.18.0.2"])),
        ]);
        let sf = BTreeMap::from([("host1:a4/eth0".to_string(), set(&["icmp 172.18.0.4 > 172.18.0.2 type 8"]))]);
        let mut out = Comparison::default();
        outside_the_lab(&rec, &mut rf, &sf, &mut out);
        assert_eq!(rf["host1:a4/eth0"], set(&["icmp 172.18.0.4 > 172.18.0.2 type 8"]));
        // No forwarded query there: its gateway ARP is the lab's own, still compared.
        assert_eq!(rf["host1:a1/eth0"], set(&["arp who-has 172.18.0.1 tell 172.18.0.2"]));
        assert_eq!(out.explained.len(), 1, "{:?}", out.explained);
        assert!(out.explained[0].contains("host1:a4/eth0") && out.explained[0].contains("10.255.255.53:53"));
        assert!(out.diffs.is_empty());
    }

    #[test]
    fn moved_subnets_are_read_as_a_fresh_daemons() {
        let m = vec![Moved { from: net("192.168.32.0/20").unwrap(), to: net("172.18.0.0/16").unwrap() }];
        assert_eq!(remap("-s 192.168.32.0/20 ! -o br-x", &m), "-s 172.18.0.0/16 ! -o br-x");
        assert_eq!(
            remap("\"192.168.32.2/20\" 10.192.168.32.1 192.168.48.1", &m),
            "\"172.18.0.2/16\" 10.192.168.32.1 192.168.48.1"
        );
        assert_eq!(remap("--to-destination 192.168.32.2:80", &m), "--to-destination 172.18.0.2:80");
        assert_eq!(remap("mac 02:42:c0:a8:20:02 kind veth", &m), "mac 02:42:ac:12:00:02 kind veth");
        // Other MACs and addresses stay.
        assert_eq!(remap("02:42:0a:00:00:02 192.168.99.10/24", &m), "02:42:0a:00:00:02 192.168.99.10/24");
        assert_eq!(pool_index(net("172.31.0.0/16").unwrap()), Some(14));
        assert_eq!(pool_index(net("192.168.32.0/20").unwrap()), Some(17));
    }

    #[test]
    fn failing_steps_are_compared_by_words_and_exit_status() {
        let step = |status: i32, stderr: &str| crate::record::StepRecord {
            host: "host1".into(),
            line: "docker network create --foo x".into(),
            ran: None,
            status,
            stdout: String::new(),
            stderr: stderr.into(),
        };
        let log = |status: u8, msg: &str| StepLog {
            index: 0,
            at: sim_core::SimTime::ZERO,
            chained: true,
            host: "host1".into(),
            line: "docker network create --foo x".into(),
            output: Err(msg.into()),
            status,
            took: sim_core::SimTime::ZERO,
            delta: None,
            started: Vec::new(),
            background: Vec::new(),
            dns: Vec::new(),
            zones: Vec::new(),
        };
        let sim = |l: StepLog| SimSide {
            host: "host1".into(),
            steps: vec![l],
            networks: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            host_iptables: Vec::new(),
            output: Vec::new(),
            flows: BTreeMap::new(),
            made: BTreeMap::new(),
        };
        let rec = Record { steps: vec![step(125, "unknown flag: --foo\n\nUsage: …")], ..Record::default() };
        let mut out = Comparison::default();
        steps(&rec, &sim(log(125, "docker: unknown flag: --foo")), &mut out);
        assert!(out.diffs.is_empty(), "{:?}", out.diffs);
        steps(&rec, &sim(log(1, "docker: unknown flag: --foo")), &mut out);
        assert_eq!(out.diffs.len(), 1, "{:?}", out.diffs);
        assert!(out.diffs[0].contains("exit status 125 on the engine and 1 in the simulator"), "{:?}", out.diffs);
        // A step the simulator never reached is named as one.
        let more = Record {
            steps: vec![
                step(125, "unknown flag: --foo\n"),
                step(0, ""),
                crate::record::StepRecord { line: "docker ps".into(), ..step(0, "") },
            ],
            ..Record::default()
        };
        let mut out = Comparison::default();
        steps(&more, &sim(log(125, "docker: unknown flag: --foo")), &mut out);
        assert_eq!(
            out.diffs,
            [
                "step `docker network create --foo x` on host1: the engine ran it, the simulator never reached it",
                "step `docker ps` on host1: the engine ran it, the simulator never reached it",
            ],
        );
    }

    #[test]
    fn device_names_normalise_alike() {
        let n: BTreeMap<String, String> = [("br-074a8037607a".to_string(), "br-appnet".to_string())].into();
        assert_eq!(
            names("filter -A FORWARD -o br-074a8037607a -j DOCKER", &n),
            "filter -A FORWARD -o br-appnet -j DOCKER"
        );
        assert_eq!(names("host1/br-074a8037607a", &n), "host1/br-appnet");
        assert_eq!(names("veth2a8e9b1 mtu 1400", &n), "veth* mtu 1400");
    }

    #[test]
    fn dns_ports_are_random_on_both_sides() {
        let l = "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:60214";
        assert_eq!(
            dns_ports(l),
            "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:*"
        );
        let l = "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport 42825 -j SNAT --to-source :53";
        assert_eq!(
            dns_ports(l),
            "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport * -j SNAT --to-source :53"
        );
    }

    #[test]
    fn rules_in_another_order_are_a_difference() {
        let (a, b) = (vec!["x".to_string(), "y".to_string()], vec!["y".to_string(), "x".to_string()]);
        let mut out = Vec::new();
        seq_diff(&mut out, "t", &a, &b);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].contains("another order"));
    }
}
