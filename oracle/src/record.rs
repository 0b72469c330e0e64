//! What the engine did, kept as plain JSON (`traces/docker/<lab>/record.json`) beside a
//! capture of the host's bridges (`frames.pcapng`). Raw where it can be: the comparison
//! normalises, so a record stays useful when the normalisation changes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::engine::{self, Ran};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// The scenario file, as given.
    pub scenario: String,
    pub engine: EngineInfo,
    pub steps: Vec<StepRecord>,
    /// What the programs printed: (plan namespace, line), in the order they came.
    pub output: Vec<(String, String)>,
    /// `docker network inspect`, by network name.
    pub networks: BTreeMap<String, serde_json::Value>,
    /// `docker inspect`, by container name.
    pub containers: BTreeMap<String, serde_json::Value>,
    /// Each sandbox's state and the host's Docker devices, by plan namespace name.
    pub namespaces: BTreeMap<String, NsRecord>,
    /// The host's `iptables-save` lines that the run added (the machine's own rules left out).
    pub host_iptables: Vec<String>,
    /// The machine's own lines, before the run: a record shows what was taken away.
    pub host_iptables_baseline: Vec<String>,
    /// Interface names on the host → what they stand for (`nsim-eth0` → `eth0`).
    pub renamed: BTreeMap<String, String>,
    pub notes: Vec<String>,
    /// Sandboxes (plan namespace names) of containers run in the foreground: the engine made
    /// and removed each within the `docker run`, before a capture could open its namespace.
    /// Their frames are compared where they crossed the host's bridge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncaptured: Vec<String>,
    /// (the engine's name, the simulator's) for each container the lab did not name: each
    /// drew one at random (`namesgenerator`), and the comparison reads the engine's as the
    /// simulator's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drawn: Vec<(String, String)>,
    /// The machine's own name servers (its resolv.conf), to which the embedded DNS forwards
    /// the names it does not know: from inside the container's namespace, so those queries
    /// cross the container's interface and bridge on the engine. They reach outside the lab.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    /// Every network as inspected after the step that made it: one the lab removes again is
    /// not among `networks`, but where the engine's allocator put it still tells how the
    /// addresses of the run compare (`compare::subnet_map`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub made: BTreeMap<String, serde_json::Value>,
    /// The machine's kernel had no IPVS: the engine could not carry the swarm's routing mesh
    /// (`compare::without_ipvs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_ipvs: bool,
}

/// The `nameserver` lines of a resolv.conf.
pub fn nameservers(resolv_conf: &str) -> Vec<String> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
        .map(String::from)
        .collect()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EngineInfo {
    pub server_version: String,
    pub api_version: String,
    pub kernel: String,
    /// The daemon's `--mtu` (docker0's `com.docker.network.driver.mtu`).
    pub daemon_mtu: u32,
    /// The `docker` client that typed the lab's commands (`engine::path`); empty in a
    /// record made before the oracle chose the daemon's own.
    #[serde(default)]
    pub client_version: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    pub host: String,
    /// As the scenario has it.
    pub line: String,
    /// What was run instead (`docker run … netsim-oracle-agent … /netsim agent …`), if not the
    /// line; the agent binary is written `netsim`, whatever path it was run from, so a record
    /// does not depend on the checkout it was made in.
    pub ran: Option<String>,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl StepRecord {
    pub fn new(host: &str, line: &str, ran: Option<String>, r: &Ran) -> StepRecord {
        StepRecord {
            host: host.into(),
            line: line.into(),
            ran,
            status: r.status,
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
        }
    }
}

/// One network namespace as `ip -j` and `iptables-save` show it, reduced to strings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NsRecord {
    /// `name mtu N mac M kind K [master B]`, lo left out.
    pub links: Vec<String>,
    /// `dev addr/prefix` (IPv4).
    pub addrs: Vec<String>,
    /// `dst [via gw] dev D`.
    pub routes: Vec<String>,
    /// `ip lladdr mac dev D STATE`.
    pub neigh: Vec<String>,
    pub iptables: Vec<String>,
}

/// The state of the namespace `nsenter_args` enters (`--net=/proc/PID/ns/net`), keeping only
/// links `keep` accepts.
pub fn read_ns(net: &str, keep: &dyn Fn(&str) -> bool) -> Result<NsRecord, Error> {
    let j = |args: &[&str]| -> Result<Vec<serde_json::Value>, Error> {
        let mut all = vec![net, "ip", "-j"];
        all.extend_from_slice(args);
        let r = engine::run("nsenter", &all)?;
        if !r.ok() {
            return Err(Error::Command { what: format!("nsenter {}", all.join(" ")), msg: r.stderr.trim().into() });
        }
        Ok(serde_json::from_str(&r.stdout).unwrap_or_default())
    };
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    let mut st = NsRecord::default();
    for l in j(&["-d", "link"])? {
        let name = s(&l, "ifname");
        if name == "lo" || !keep(&name) {
            continue;
        }
        let kind = l.pointer("/linkinfo/info_kind").and_then(|x| x.as_str()).unwrap_or("").to_string();
        let mtu = l.get("mtu").and_then(|x| x.as_u64()).unwrap_or(0);
        let master = match s(&l, "master") {
            m if m.is_empty() => String::new(),
            m => format!(" master {m}"),
        };
        let vni = match l.pointer("/linkinfo/info_data/id").and_then(|x| x.as_u64()) {
            Some(id) if kind == "vxlan" => format!(" id {id}"),
            _ => String::new(),
        };
        st.links.push(format!("{name} mtu {mtu} mac {} kind {kind}{vni}{master}", s(&l, "address")));
    }
    for l in j(&["addr"])? {
        let dev = s(&l, "ifname");
        if !keep(&dev) {
            continue;
        }
        for a in l.get("addr_info").and_then(|x| x.as_array()).into_iter().flatten() {
            if s(a, "family") == "inet" && dev != "lo" {
                st.addrs.push(format!(
                    "{dev} {}/{}",
                    s(a, "local"),
                    a.get("prefixlen").and_then(|p| p.as_u64()).unwrap_or(0)
                ));
            }
        }
    }
    for r in j(&["route"])? {
        let dev = s(&r, "dev");
        if !keep(&dev) {
            continue;
        }
        let via = match s(&r, "gateway") {
            g if g.is_empty() => String::new(),
            g => format!(" via {g}"),
        };
        st.routes.push(format!("{}{via} dev {dev}", s(&r, "dst")));
    }
    for n in j(&["neigh"])? {
        let dev = s(&n, "dev");
        if !keep(&dev) {
            continue;
        }
        let state = n
            .get("state")
            .and_then(|x| x.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(","))
            .unwrap_or_default();
        st.neigh.push(format!("{} lladdr {} dev {dev} {state}", s(&n, "dst"), s(&n, "lladdr")));
    }
    let r = engine::run("nsenter", &[net, "iptables-save"])?;
    st.iptables = iptables_lines(&r.stdout);
    st.links.sort();
    st.addrs.sort();
    st.routes.sort();
    st.neigh.sort();
    Ok(st)
}

/// `iptables-save` without comments, counters or the nf_tables warning: tables, chains and rules.
pub fn iptables_lines(save: &str) -> Vec<String> {
    save.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            // ":CHAIN POLICY [p:b]" → ":CHAIN POLICY"
            if l.starts_with(':')
                && let Some(i) = l.rfind(" [")
            {
                return l[..i].to_string();
            }
            l.to_string()
        })
        .collect()
}

impl Record {
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Other(format!("{}: {e}", dir.display())))?;
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Other(e.to_string()))?;
        let p = dir.join("record.json");
        std::fs::write(&p, text + "\n").map_err(|e| Error::Other(format!("{}: {e}", p.display())))
    }

    pub fn load(dir: &Path) -> Result<Record, Error> {
        let p = dir.join("record.json");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::Other(format!("{}: {e}", p.display())))?;
        serde_json::from_str(&text).map_err(|e| Error::Other(format!("{}: {e}", p.display())))
    }
}

/// The capture beside a record: `frames.pcapng`, interfaces named `ns/if` as the host names
/// them, each frame with its direction.
pub fn save_frames(dir: &Path, frames: &[netsim_netns::capture::Frame]) -> Result<(), Error> {
    use sim_core::capture::{Direction, PcapngWriter};
    let p = dir.join("frames.pcapng");
    let e = |e: &dyn std::fmt::Display| Error::Other(format!("{}: {e}", p.display()));
    let f = std::fs::File::create(&p).map_err(|x| e(&x))?;
    let mut w = PcapngWriter::new(std::io::BufWriter::new(f), "netsim oracle (Docker Engine)").map_err(|x| e(&x))?;
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    for fr in frames {
        let name = format!("{}/{}", fr.ns, fr.ifname);
        let id = match ids.get(&name) {
            Some(id) => *id,
            None => {
                let id = w.add_interface(&name, Some("captured on the Docker Engine's host")).map_err(|x| e(&x))?;
                ids.insert(name, id);
                id
            }
        };
        let dir = if fr.outgoing { Direction::Outbound } else { Direction::Inbound };
        w.write_frame_dir(id, fr.at.as_nanos() as u64, &fr.bytes, None, Some(dir)).map_err(|x| e(&x))?;
    }
    w.finish().map_err(|x| e(&x))?;
    Ok(())
}

/// `ns/if` → the signatures of what left it (on lo: what arrived, the copy a capture keeps).
pub type Flows = BTreeMap<String, std::collections::BTreeSet<String>>;

fn add_flow(flows: &mut Flows, iface: String, outgoing: bool, frame: &[u8]) {
    if (outgoing || iface.ends_with("/lo"))
        && let Some(sig) = crate::compare::signature(frame)
    {
        flows.entry(iface).or_default().insert(sig);
    }
}

/// The flows of a kept capture (`frames.pcapng`).
pub fn load_flows(dir: &Path) -> Result<Flows, Error> {
    let p = dir.join("frames.pcapng");
    let f = std::fs::File::open(&p).map_err(|e| Error::Other(format!("{}: {e}", p.display())))?;
    let (names, frames) = sim_core::capture::read_pcapng(std::io::BufReader::new(f))
        .map_err(|e| Error::Other(format!("{}: {e}", p.display())))?;
    let mut flows = Flows::new();
    for fr in &frames {
        let iface = names.get(fr.interface_id as usize).cloned().unwrap_or_default();
        add_flow(&mut flows, iface, fr.direction == Some(sim_core::capture::Direction::Outbound), &fr.data);
    }
    Ok(flows)
}

/// The flows of frames still in memory.
pub fn flows_of(frames: &[netsim_netns::capture::Frame]) -> Flows {
    let mut flows = Flows::new();
    for fr in frames {
        add_flow(&mut flows, format!("{}/{}", fr.ns, fr.ifname), fr.outgoing, &fr.bytes);
    }
    flows
}
