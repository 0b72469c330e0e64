//! The daemon's own commands, as Docker Engine 20.10.24 answers them with its own client
//! (traces/docker/system/record.txt): `docker version`, `docker info`, `docker images`
//! (`docker image ls`) and `docker pull`.
//!
//! `version` and `info` describe the machine the 20.10 records were made on (a Debian 12 host
//! with Debian's docker.io 20.10.24, 2 CPUs, 23.54 GiB; every figure below is that engine's
//! `-f '{{json .}}'`, kept in the record), with what the simulation knows put in its place:
//! the host's name, its containers and images, its swarm, and the kernel the model follows
//! (Linux 6.18.44, without the local build's suffix). No v29 engine was recorded, so these
//! two answer only in the 20.10 era (docs/docker-model.md *The daemon's own commands*).
//!
//! A host has the images the lab names, as if pulled before it began (`HostImage`);
//! `docker pull` cannot reach a registry, as on a machine without one.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::cli;
use super::engine::{ContainerKind, Engine, EngineError, RunState};
use super::images;
use super::swarm::{Role, Swarm};
use crate::engine::SimTime;

fn err(m: impl Into<String>) -> EngineError {
    EngineError(m.into())
}

/// The kernel release `docker info` and `docker version` report: the one the kernel model
/// follows.
pub const KERNEL_VERSION: &str = "6.18.44";

/// The processors `docker info` reports, and the workers nginx starts (`worker_processes
/// auto`): the recording machine's.
pub const NCPU: u32 = 2;

/// One tag of an image a host has (`RepoTags`), with the build it stands for: the
/// catalogue's for an official image's `latest` (or the version that build is), else one
/// made on the host as the lab began, of no layers the simulator has (0B), with an ID derived
/// from the reference (the simulator knows no other build of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostImage {
    /// As `docker images` shows it (`reference.FamiliarName`): `nginx`, `hshar/webapp`.
    pub repo: String,
    pub tag: String,
    /// `sha256:…`.
    pub id: String,
    /// Seconds since 1970.
    pub created: i64,
    pub size: u64,
}

impl HostImage {
    /// The image a reference names, if the catalogue has it and the reference has a tag.
    pub fn of(r: &cli::ImageRef) -> Option<HostImage> {
        let image = images::find(&r.path)?;
        let (repo, tag) = (r.familiar_name(), r.tag_or_latest()?.to_string());
        let official = r.domain == "docker.io" && r.path.strip_prefix("library/") == Some(image.name);
        let (id, created, size) = match image.build {
            Some(b) if official && (tag == "latest" || tag == b.version) => {
                (b.id.to_string(), unix_seconds(b.created).unwrap_or(0), b.size)
            }
            _ => {
                let digest = Sha256::digest(format!("{repo}:{tag}").as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                (format!("sha256:{hex}"), crate::engine::EPOCH_UNIX as i64, 0)
            }
        };
        Some(HostImage { repo, tag, id, created, size })
    }
}

/// Seconds since 1970 of an RFC 3339 UTC time (`2026-09-17T20:37:20.889Z`), whole seconds.
pub(crate) fn unix_seconds(t: &str) -> Option<i64> {
    let num = |s: &str| s.parse::<i64>().ok();
    let (date, time) = t.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let time = time.trim_end_matches('Z');
    let mut h = time.splitn(3, ':');
    let (hh, mm) = (num(h.next()?)?, num(h.next()?)?);
    let ss = num(h.next()?.split('.').next()?)?;
    Some(crate::engine::days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Go's `%.{prec}g` of a non-negative number, as go-units formats sizes.
fn go_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.log10().floor() as i32;
    let rounded: f64 = format!("{:.*e}", prec - 1, x).parse().unwrap_or(x);
    let exp = if rounded >= 10f64.powi(exp + 1) { exp + 1 } else { exp };
    if exp < -4 || exp >= prec as i32 {
        let m = format!("{:.*e}", prec - 1, x);
        let (mant, e) = m.split_once('e').unwrap_or((&m, "0"));
        let mant = if mant.contains('.') { mant.trim_end_matches('0').trim_end_matches('.') } else { mant };
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    let s = format!("{rounded:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// go-units `CustomSize`: `format` is `%.{prec}g%s`.
fn custom_size(size: f64, prec: usize, base: f64, units: &[&str]) -> String {
    let (mut s, mut i) = (size, 0);
    while s >= base && i < units.len() - 1 {
        s /= base;
        i += 1;
    }
    format!("{}{}", go_g(s, prec), units[i])
}

/// go-units `HumanSizeWithPrecision(size, 3)`: `docker images`' SIZE.
fn human_size(size: u64) -> String {
    custom_size(size as f64, 3, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"])
}

/// go-units `BytesSize`: `docker info`'s Total Memory.
fn bytes_size(size: u64) -> String {
    custom_size(size as f64, 4, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"])
}

/// Commands a lab can only run in the 20.10 era, whose engine answered them.
fn recorded_era(engine: &Engine, what: &str) -> Result<(), EngineError> {
    match engine.era() {
        super::era::Era::V20_10 => Ok(()),
        _ => Err(err(format!(
            "netsim: `docker {what}` prints what a recorded engine printed, and only Docker Engine 20.10.24 was recorded: give the lab `engine: (version: \"20.10\")`"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// docker version

/// What `docker version` prints on `engine`'s host, or its `-f` template's output.
pub fn version(engine: &Engine, format: Option<&str>) -> Result<String, EngineError> {
    recorded_era(engine, "version")?;
    // Keyed as the Go structs' fields, which a template names (`{{.Server.APIVersion}}`):
    // `{{json .}}` on the engine spells two of them as their JSON tags do (`ApiVersion`).
    let v = json!({
        "Client": {
            "Platform": {"Name": ""},
            "Version": "20.10.24+dfsg1",
            "APIVersion": "1.41",
            "DefaultAPIVersion": "1.41",
            "GitCommit": "297e128",
            "GoVersion": "go1.19.8",
            "Os": "linux",
            "Arch": "amd64",
            "BuildTime": "Thu May  7 21:09:36 2026",
            "Context": "default",
            "Experimental": true
        },
        "Server": {
            "Platform": {"Name": ""},
            "Components": [
                {"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {
                    "ApiVersion": "1.41", "Arch": "amd64", "BuildTime": "Thu May  7 21:09:36 2026",
                    "Experimental": "false", "GitCommit": "5d6db84", "GoVersion": "go1.19.8",
                    "KernelVersion": KERNEL_VERSION, "MinAPIVersion": "1.12", "Os": "linux"}},
                {"Name": "containerd", "Version": "1.6.20~ds1", "Details": {"GitCommit": "1.6.20~ds1-1+deb12u3"}},
                {"Name": "runc", "Version": "1.1.5+ds1", "Details": {"GitCommit": "1.1.5+ds1-1+deb12u1"}},
                {"Name": "docker-init", "Version": "0.19.0", "Details": {"GitCommit": ""}}
            ],
            "Version": "20.10.24+dfsg1",
            "APIVersion": "1.41",
            "MinAPIVersion": "1.12",
            "GitCommit": "5d6db84",
            "GoVersion": "go1.19.8",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": KERNEL_VERSION,
            "BuildTime": "2026-05-07T21:09:36.000000000+00:00"
        }
    });
    if let Some(f) = format {
        // docker/cli names the template `version` (`newVersionTemplate`) and runs it on its
        // `versionInfo`.
        let out = super::template::render(f, &v).map_err(|e| {
            let EngineError(m) = super::template_error(e, "", "system.versionInfo");
            EngineError(m.replacen("template: :", "template: version:", 1).replacen(
                "executing \"\"",
                "executing \"version\"",
                1,
            ))
        })?;
        return Ok(format!("{out}\n"));
    }
    // docker/cli's `versionTemplate`, through its tabwriter (minimum width 20, padding 1):
    // no key is as long, so every value starts at column 20; a line without a tab (a
    // heading) is printed as it is.
    let c = &v["Client"];
    let s = &v["Server"];
    let txt = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut lines: Vec<String> = Vec::new();
    let kv = |lines: &mut Vec<String>, k: &str, val: String| lines.push(format!("{:<20}{val}", format!("{k}:")));
    lines.push("Client:".into());
    kv(&mut lines, " Version", txt(&c["Version"]));
    kv(&mut lines, " API version", txt(&c["APIVersion"]));
    kv(&mut lines, " Go version", txt(&c["GoVersion"]));
    kv(&mut lines, " Git commit", txt(&c["GitCommit"]));
    kv(&mut lines, " Built", txt(&c["BuildTime"]));
    kv(&mut lines, " OS/Arch", format!("{}/{}", txt(&c["Os"]), txt(&c["Arch"])));
    kv(&mut lines, " Context", txt(&c["Context"]));
    kv(&mut lines, " Experimental", txt(&c["Experimental"]));
    lines.push(String::new());
    lines.push("Server:".into());
    for comp in s["Components"].as_array().into_iter().flatten() {
        let d = &comp["Details"];
        lines.push(format!(" {}:", txt(&comp["Name"])));
        kv(&mut lines, "  Version", txt(&comp["Version"]));
        if comp["Name"] == "Engine" {
            let api = format!("{} (minimum version {})", txt(&d["ApiVersion"]), txt(&d["MinAPIVersion"]));
            kv(&mut lines, "  API version", api);
            kv(&mut lines, "  Go version", txt(&d["GoVersion"]));
            kv(&mut lines, "  Git commit", txt(&d["GitCommit"]));
            kv(&mut lines, "  Built", txt(&d["BuildTime"]));
            kv(&mut lines, "  OS/Arch", format!("{}/{}", txt(&d["Os"]), txt(&d["Arch"])));
            kv(&mut lines, "  Experimental", txt(&d["Experimental"]));
        } else {
            kv(&mut lines, "  GitCommit", txt(&d["GitCommit"]));
        }
    }
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

// ---------------------------------------------------------------------------------------------
// docker info

/// The swarm as one node sees it, for `docker info`.
pub struct SwarmView<'a> {
    pub swarm: &'a Swarm,
    pub host: &'a str,
}

/// What `docker info` prints on `engine`'s host, or its `-f` template's output.
pub fn info(engine: &Engine, swarm: Option<SwarmView<'_>>, format: Option<&str>) -> Result<String, EngineError> {
    recorded_era(engine, "info")?;
    let v = info_json(engine, swarm.as_ref());
    if let Some(f) = format {
        let out = super::template::render(f, &v).map_err(|e| super::template_error(e, "", "system.info"))?;
        return Ok(format!("{out}\n"));
    }
    Ok(pretty_info(&v))
}

fn info_json(engine: &Engine, swarm: Option<&SwarmView<'_>>) -> Value {
    let listed = engine.containers.iter().filter(|c| c.kind != ContainerKind::Infra);
    let (mut total, mut running, mut stopped) = (0, 0, 0);
    for c in listed {
        total += 1;
        match c.state {
            RunState::Running => running += 1,
            _ => stopped += 1,
        }
    }
    let mut ids: Vec<&str> = engine.images.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    let node = swarm.and_then(|s| s.swarm.node(s.host).filter(|n| n.up).map(|n| (s, n)));
    let swarm_json = match node {
        None => json!({"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false,
                       "Error": "", "RemoteManagers": null}),
        Some((s, n)) => {
            let managers: Vec<Value> = s
                .swarm
                .nodes
                .iter()
                .filter(|m| m.role == Role::Manager)
                .map(|m| json!({"NodeID": m.id, "Addr": format!("{}:2377", m.addr)}))
                .collect();
            let manager = n.role == Role::Manager;
            let mut j = json!({
                "NodeID": n.id,
                "NodeAddr": n.addr.to_string(),
                "LocalNodeState": "active",
                "ControlAvailable": manager,
                "Error": "",
                "RemoteManagers": managers.clone(),
            });
            if manager {
                let obj = j.as_object_mut().expect("an object");
                obj.insert("Nodes".into(), json!(s.swarm.nodes.len()));
                obj.insert("Managers".into(), json!(managers.len()));
                // The simulated swarm has no certificates: an empty TLSInfo.
                obj.insert(
                    "Cluster".into(),
                    json!({
                        "ID": s.swarm.cluster_id,
                        "Version": {"Index": 10},
                        "CreatedAt": super::inspect::created(s.swarm.created),
                        "UpdatedAt": super::inspect::created(s.swarm.created),
                        "Spec": {
                            "Name": "default",
                            "Labels": {},
                            "Orchestration": {"TaskHistoryRetentionLimit": 5},
                            "Raft": {"SnapshotInterval": 10000, "KeepOldSnapshots": 0,
                                     "LogEntriesForSlowFollowers": 500, "ElectionTick": 10, "HeartbeatTick": 1},
                            "Dispatcher": {"HeartbeatPeriod": 5_000_000_000u64},
                            "CAConfig": {"NodeCertExpiry": 7_776_000_000_000_000u64},
                            "TaskDefaults": {},
                            "EncryptionConfig": {"AutoLockManagers": false}
                        },
                        "TLSInfo": {},
                        "RootRotationInProgress": false,
                        "DefaultAddrPool": s.swarm.default_pools.iter().map(|p| p.base.to_string()).collect::<Vec<_>>(),
                        // swarmkit keeps one size for all its pools.
                        "SubnetSize": s.swarm.default_pools.first().map_or(24, |p| p.size),
                        "DataPathPort": 4789
                    }),
                );
            }
            j
        }
    };
    let mut v = json!({
        "ID": engine.daemon_id(),
        "Containers": total,
        "ContainersRunning": running,
        "ContainersPaused": 0,
        "ContainersStopped": stopped,
        "Images": ids.len(),
        "Driver": "fuse-overlayfs",
        "DriverStatus": null,
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
            "Authorization": null,
            "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "logentries",
                    "splunk", "syslog"]
        },
        "MemoryLimit": true,
        "SwapLimit": true,
        "KernelMemory": true,
        "KernelMemoryTCP": true,
        "CpuCfsPeriod": true,
        "CpuCfsQuota": true,
        "CPUShares": true,
        "CPUSet": true,
        "PidsLimit": true,
        "IPv4Forwarding": true,
        "BridgeNfIptables": true,
        "BridgeNfIp6tables": true,
        "Debug": false,
        "NFd": 24,
        "OomKillDisable": true,
        "NGoroutines": 41,
        "SystemTime": super::inspect::created(engine.clock),
    });
    // In two parts: one `json!` of every field is deeper than the macro may recurse.
    let rest = json!({
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "1",
        "NEventsListener": 0,
        "KernelVersion": KERNEL_VERSION,
        "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
        "OSVersion": "12",
        "OSType": "linux",
        "Architecture": "x86_64",
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": true, "Official": true}},
            "Mirrors": []
        },
        "NCPU": NCPU,
        "MemTotal": 25_276_182_528u64,
        "GenericResources": null,
        "DockerRootDir": "/var/lib/docker",
        "HttpProxy": "",
        "HttpsProxy": "",
        "NoProxy": "",
        "Name": engine.host,
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": "20.10.24+dfsg1",
        "Runtimes": {"io.containerd.runc.v2": {"path": "runc"}, "io.containerd.runtime.v1.linux": {"path": "runc"},
                     "runc": {"path": "runc"}},
        "DefaultRuntime": "runc",
        "Swarm": swarm_json,
        "LiveRestoreEnabled": false,
        "Isolation": "",
        "InitBinary": "docker-init",
        "ContainerdCommit": {"ID": "1.6.20~ds1-1+deb12u3", "Expected": "1.6.20~ds1-1+deb12u3"},
        "RuncCommit": {"ID": "1.1.5+ds1-1+deb12u1", "Expected": "1.1.5+ds1-1+deb12u1"},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": ["name=seccomp,profile=default"],
        "Warnings": null,
        "ClientInfo": {"Debug": false, "Context": "default", "Plugins": [], "Warnings": null}
    });
    if let (Some(head), Value::Object(tail)) = (v.as_object_mut(), rest) {
        head.extend(tail);
    }
    v
}

/// docker/cli's `prettyPrintInfo` (`cli/command/system/info.go`, v20.10.24) of `v`.
fn pretty_info(v: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let words = |v: &Value| v.as_array().map(|a| a.iter().map(s).collect::<Vec<_>>().join(" ")).unwrap_or_default();
    let mut o = String::new();
    let mut line = |l: String| {
        o += &l;
        o.push('\n');
    };
    line("Client:".into());
    line(format!(" Context:    {}", s(&v["ClientInfo"]["Context"])));
    line(format!(" Debug Mode: {}", s(&v["ClientInfo"]["Debug"])));
    line(String::new());
    line("Server:".into());
    line(format!(" Containers: {}", v["Containers"]));
    line(format!("  Running: {}", v["ContainersRunning"]));
    line(format!("  Paused: {}", v["ContainersPaused"]));
    line(format!("  Stopped: {}", v["ContainersStopped"]));
    line(format!(" Images: {}", v["Images"]));
    line(format!(" Server Version: {}", s(&v["ServerVersion"])));
    line(format!(" Storage Driver: {}", s(&v["Driver"])));
    line(format!(" Logging Driver: {}", s(&v["LoggingDriver"])));
    line(format!(" Cgroup Driver: {}", s(&v["CgroupDriver"])));
    line(format!(" Cgroup Version: {}", s(&v["CgroupVersion"])));
    line(" Plugins:".into());
    line(format!("  Volume: {}", words(&v["Plugins"]["Volume"])));
    line(format!("  Network: {}", words(&v["Plugins"]["Network"])));
    line(format!("  Log: {}", words(&v["Plugins"]["Log"])));
    let sw = &v["Swarm"];
    line(format!(" Swarm: {}", s(&sw["LocalNodeState"])));
    if sw["LocalNodeState"] == "active" {
        line(format!("  NodeID: {}", s(&sw["NodeID"])));
        line(format!("  Is Manager: {}", sw["ControlAvailable"]));
        let c = &sw["Cluster"];
        if sw["ControlAvailable"] == true && c.is_object() {
            line(format!("  ClusterID: {}", s(&c["ID"])));
            line(format!("  Managers: {}", sw["Managers"]));
            line(format!("  Nodes: {}", sw["Nodes"]));
            let pools: String = c["DefaultAddrPool"].as_array().into_iter().flatten().map(|p| s(p) + "  ").collect();
            line(format!("  Default Address Pool: {pools}"));
            line(format!("  SubnetSize: {}", c["SubnetSize"]));
            line(format!("  Data Path Port: {}", c["DataPathPort"]));
            let spec = &c["Spec"];
            line("  Orchestration:".into());
            line(format!("   Task History Retention Limit: {}", spec["Orchestration"]["TaskHistoryRetentionLimit"]));
            line("  Raft:".into());
            line(format!("   Snapshot Interval: {}", spec["Raft"]["SnapshotInterval"]));
            line(format!("   Number of Old Snapshots to Retain: {}", spec["Raft"]["KeepOldSnapshots"]));
            line(format!("   Heartbeat Tick: {}", spec["Raft"]["HeartbeatTick"]));
            line(format!("   Election Tick: {}", spec["Raft"]["ElectionTick"]));
            let nanos = |v: &Value| SimTime::from_nanos(v.as_u64().unwrap_or(0));
            line("  Dispatcher:".into());
            line(format!(
                "   Heartbeat Period: {}",
                super::engine::human_duration(nanos(&spec["Dispatcher"]["HeartbeatPeriod"]))
            ));
            line("  CA Configuration:".into());
            line(format!(
                "   Expiry Duration: {}",
                super::engine::human_duration(nanos(&spec["CAConfig"]["NodeCertExpiry"]))
            ));
            line("   Force Rotate: 0".into());
            line(format!("  Autolock Managers: {}", spec["EncryptionConfig"]["AutoLockManagers"]));
            line(format!("  Root Rotation In Progress: {}", c["RootRotationInProgress"]));
        }
        line(format!("  Node Address: {}", s(&sw["NodeAddr"])));
        let mut managers: Vec<String> =
            sw["RemoteManagers"].as_array().into_iter().flatten().map(|m| s(&m["Addr"])).collect();
        managers.sort();
        if !managers.is_empty() {
            line("  Manager Addresses:".into());
            for m in managers {
                line(format!("   {m}"));
            }
        }
    }
    // A Go map: dockerd's three runtimes print in whichever order the map gives them.
    let runtimes: Vec<&String> = v["Runtimes"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    line(format!(" Runtimes: {}", runtimes.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ")));
    line(format!(" Default Runtime: {}", s(&v["DefaultRuntime"])));
    line(format!(" Init Binary: {}", s(&v["InitBinary"])));
    line(format!(" containerd version: {}", s(&v["ContainerdCommit"]["ID"])));
    line(format!(" runc version: {}", s(&v["RuncCommit"]["ID"])));
    line(format!(" init version: {}", s(&v["InitCommit"]["ID"])));
    line(" Security Options:".into());
    line("  seccomp".into());
    line("   Profile: default".into());
    line(format!(" Kernel Version: {}", s(&v["KernelVersion"])));
    line(format!(" Operating System: {}", s(&v["OperatingSystem"])));
    line(format!(" OSType: {}", s(&v["OSType"])));
    line(format!(" Architecture: {}", s(&v["Architecture"])));
    line(format!(" CPUs: {}", v["NCPU"]));
    line(format!(" Total Memory: {}", bytes_size(v["MemTotal"].as_u64().unwrap_or(0))));
    line(format!(" Name: {}", s(&v["Name"])));
    line(format!(" ID: {}", s(&v["ID"])));
    line(format!(" Docker Root Dir: {}", s(&v["DockerRootDir"])));
    line(format!(" Debug Mode: {}", v["Debug"]));
    line(format!(" Registry: {}", s(&v["IndexServerAddress"])));
    line(" Labels:".into());
    line(format!(" Experimental: {}", v["ExperimentalBuild"]));
    line(" Insecure Registries:".into());
    for r in v["RegistryConfig"]["InsecureRegistryCIDRs"].as_array().into_iter().flatten() {
        line(format!("  {}", s(r)));
    }
    line(format!(" Live Restore Enabled: {}", v["LiveRestoreEnabled"]));
    line(String::new());
    o
}

// ---------------------------------------------------------------------------------------------
// docker images

/// Go's `path.Match` for `*` and `?` (neither crosses a `/`); other characters match
/// themselves.
fn path_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            path_match(&pattern[1..], name)
                || (name.first().is_some_and(|&c| c != b'/') && path_match(pattern, &name[1..]))
        }
        (Some(b'?'), Some(&c)) if c != b'/' => path_match(&pattern[1..], &name[1..]),
        (Some(p), Some(c)) if p == c => path_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// `reference.FamiliarMatch`: the pattern against `repo:tag`, then against `repo`.
fn familiar_match(pattern: &str, i: &HostImage) -> bool {
    path_match(pattern.as_bytes(), format!("{}:{}", i.repo, i.tag).as_bytes())
        || path_match(pattern.as_bytes(), i.repo.as_bytes())
}

/// What `docker images` prints: the daemon's images newest first, each tag a row.
pub fn images(engine: &Engine, l: &cli::Images) -> Result<String, EngineError> {
    // One row per tag, grouped by image as the daemon lists them.
    let mut rows: Vec<&HostImage> =
        engine.images.iter().filter(|i| l.reference.as_deref().is_none_or(|p| familiar_match(p, i))).collect();
    rows.sort_by(|a, b| {
        b.created.cmp(&a.created).then(a.id.cmp(&b.id)).then(a.repo.cmp(&b.repo)).then(a.tag.cmp(&b.tag))
    });
    let now = crate::engine::EPOCH_UNIX as f64 + engine.clock.as_secs_f64();
    let id = |full: &str| if l.no_trunc { full.to_string() } else { short_id(full) };
    let values: Vec<Value> = rows
        .iter()
        .map(|i| {
            let since = SimTime::from_nanos(((now - i.created as f64).max(0.0) * 1e9) as u64);
            json!({
                "Containers": "N/A",
                "CreatedAt": super::inspect::go_time(i.created),
                "CreatedSince": format!("{} ago", super::engine::human_duration(since)),
                "Digest": "<none>",
                "ID": id(&i.id),
                "Repository": i.repo,
                "SharedSize": "N/A",
                "Size": human_size(i.size),
                "Tag": i.tag,
                "UniqueSize": "N/A",
                "VirtualSize": human_size(i.size),
            })
        })
        .collect();
    // docker/cli's `NewImageFormat`: `-q` is the ID alone, unless a `--format` was given.
    let format = match (&l.format, l.quiet) {
        (Some(f), _) => f.as_str(),
        (None, true) => "{{.ID}}",
        (None, false) => "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
    };
    let (table, body) = super::list_format(format);
    let mut lines = Vec::new();
    for v in &values {
        let line = super::template::render(&body, v)
            .map_err(|e| super::template_error(e, "template parsing error: ", "*formatter.imageContext"))?;
        lines.push(line);
    }
    const HEADS: &[(&str, &str)] = &[
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("ID", "IMAGE ID"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("Size", "SIZE"),
        ("Digest", "DIGEST"),
        ("Containers", "CONTAINERS"),
        ("VirtualSize", "VIRTUAL SIZE"),
        ("SharedSize", "SHARED SIZE"),
        ("UniqueSize", "UNIQUE SIZE"),
    ];
    Ok(super::format_lines(table, &body, lines, HEADS))
}

/// `stringid.TruncateID`: the hex digest's first 12 characters.
fn short_id(id: &str) -> String {
    let hex = id.split_once(':').map_or(id, |(_, h)| h);
    hex.chars().take(12).collect()
}

// ---------------------------------------------------------------------------------------------
// docker pull

/// `docker pull REF`: the daemon looks the registry up and cannot (a lab's host has no way
/// to one). docker/cli first says which tag it pulls when the reference names none; the
/// error carries both.
pub fn pull(p: &cli::Pull) -> EngineError {
    let said =
        if !p.quiet && p.image.tag.is_none() && p.image.digest.is_none() { "Using default tag: latest\n" } else { "" };
    let registry = if p.image.domain == "docker.io" { "registry-1.docker.io" } else { p.image.domain.as_str() };
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    err(format!(
        "{said}Error response from daemon: Get \"https://{registry}/v2/\": dial tcp: lookup {host}: no such host"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_worded_as_go_units_words_them() {
        assert_eq!(human_size(8_420_000), "8.42MB");
        assert_eq!(human_size(161_330_000), "161MB");
        assert_eq!(human_size(1_980_000), "1.98MB");
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999_600), "1e+03kB");
        assert_eq!(bytes_size(25_276_182_528), "23.54GiB");
    }

    #[test]
    fn times_convert_both_ways() {
        let t = unix_seconds("2026-09-17T20:37:20.889221879Z").expect("a time");
        assert_eq!(super::super::inspect::go_time(t), "2026-09-17 20:37:20 +0000 UTC");
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
    }

    #[test]
    fn patterns_match_as_go_path_match() {
        assert!(path_match(b"alp*", b"alpine"));
        assert!(path_match(b"alpine:*", b"alpine:latest"));
        assert!(!path_match(b"*", b"hshar/webapp"));
        assert!(path_match(b"*/*", b"hshar/webapp"));
        assert!(path_match(b"alpin?", b"alpine"));
    }
}
