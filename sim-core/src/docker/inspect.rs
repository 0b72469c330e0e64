//! `docker network inspect`, as the daemon of one host answers it: the fields of
//! api/types/network (docs/docker-model.md *Inspect output*), in Docker's key order. Values Docker
//! draws at random (IDs, MACs) are the simulation's own draws; `Created` is the simulated time on a
//! fixed date, so runs stay repeatable.

use serde_json::{Map, Value, json};

use super::cli::NetworkDriver;
use super::engine::{ContainerKind, Engine, EngineError, GWBRIDGE, RunState};
use super::era::Era;
use super::swarm::{Swarm, overlay_mac};
use crate::engine::SimTime;

/// `unix` (seconds since 1970) as Go's `time.Time.String` prints a UTC time (docker/cli's
/// `.CreatedAt`).
pub(crate) fn go_time(unix: i64) -> String {
    let (date, secs) = ymd(unix);
    format!("{date} {:02}:{:02}:{:02} +0000 UTC", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `YYYY-MM-DD` of `unix`, and the seconds into that day.
fn ymd(unix: i64) -> (String, i64) {
    let (y, m, d) = crate::engine::civil_from_days(unix.div_euclid(86_400));
    (format!("{y:04}-{m:02}-{d:02}"), unix.rem_euclid(86_400))
}

/// The simulated time `at` on the run's date (`EPOCH_UNIX`), as docker/cli's `.CreatedAt`.
pub(crate) fn created_at(at: SimTime) -> String {
    go_time(at.wall().0)
}

/// The same in RFC 3339 with nanoseconds, as the API's `Created` fields.
pub(crate) fn created(at: SimTime) -> String {
    let (unix, nanos) = at.wall();
    let (date, secs) = ymd(unix);
    format!("{date}T{:02}:{:02}:{:02}.{nanos:09}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The JSON array `docker network inspect NAME…` prints on `host`.
pub fn networks(engine: &Engine, swarm: Option<&Swarm>, host: &str, names: &[String]) -> Result<Value, EngineError> {
    let mut out = Vec::new();
    for name in names {
        out.push(network(engine, swarm, host, name)?);
    }
    Ok(Value::Array(out))
}

pub fn network(engine: &Engine, swarm: Option<&Swarm>, host: &str, name: &str) -> Result<Value, EngineError> {
    if let Some(n) = engine.network(name) {
        return Ok(local(engine, n));
    }
    if let Some(s) = swarm
        && let Some(v) = overlay(engine, s, host, name)
    {
        return Ok(v);
    }
    Err(EngineError(format!("Error response from daemon: network {name} not found")))
}

fn local(engine: &Engine, n: &super::engine::Network) -> Value {
    let driver = super::engine::network_driver_name(n.driver);
    let era = engine.era();
    // 20.10 shows the IPAM config as it was requested: the gateway when the subnet was the
    // allocator's or the gateway was given, never for the default bridge (20.10.24 fixtures
    // `lab1-*`, `lab8-*`).
    let show_gateway = match (era, n.requested) {
        (Era::V29, _) => true,
        (Era::V20_10, Some((subnet, gateway))) => !subnet || gateway,
        (Era::V20_10, None) => n.name != "bridge",
    };
    let config: Vec<Value> = match (n.pool, n.gateway) {
        (Some(p), gw) => {
            let mut c = Map::new();
            c.insert("Subnet".into(), json!(p.subnet.to_string()));
            if let Some(r) = p.ip_range {
                c.insert("IPRange".into(), json!(r.to_string()));
            }
            if let Some(g) = gw.filter(|_| show_gateway) {
                c.insert("Gateway".into(), json!(g.to_string()));
            }
            if let Some(aux) = aux_addresses(engine.aux_addresses(p)) {
                c.insert("AuxiliaryAddresses".into(), aux);
            }
            vec![Value::Object(c)]
        }
        _ => Vec::new(),
    };
    let mut containers = Map::new();
    for c in &engine.containers {
        // ingress_sbox shows under its own name on docker_gwbridge (`gateway_ingress-sbox`).
        for e in c.endpoints.iter().filter(|e| e.network == n.name) {
            let (key, name) = match c.kind {
                ContainerKind::Infra => ("ingress-sbox".to_string(), "gateway_ingress-sbox".to_string()),
                _ if n.name == GWBRIDGE => (c.id.clone(), format!("gateway_{}", &c.id[..12])),
                _ => (c.id.clone(), c.name.clone()),
            };
            let prefix = n.pool.map(|p| p.subnet.len).unwrap_or(0);
            containers.insert(
                key,
                json!({
                    "Name": name,
                    "EndpointID": e.id,
                    "MacAddress": e.mac.to_string(),
                    "IPv4Address": format!("{}/{}", e.ip, prefix),
                    "IPv6Address": "",
                }),
            );
        }
    }
    // The host and none networks have an endpoint for each running container on them, without
    // addresses (as Docker 20.10.24 shows them); a stopped one has none, as on any network. Its
    // ID is derived from the container's, not drawn: drawing would shift every later random
    // choice of the run.
    let addressless = |c: &super::engine::Container| match n.driver {
        _ if c.state != super::engine::RunState::Running => false,
        NetworkDriver::Host => c.mode == super::engine::SandboxMode::Host,
        NetworkDriver::Null => {
            c.mode == super::engine::SandboxMode::Own && c.endpoints.is_empty() && c.kind == ContainerKind::Plain
        }
        _ => false,
    };
    for c in engine.containers.iter().filter(|c| addressless(c)) {
        containers.insert(
            c.id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": c.id.chars().rev().collect::<String>(),
                "MacAddress": "",
                "IPv4Address": "",
                "IPv6Address": "",
            }),
        );
    }
    let mut options = Map::new();
    if n.name == "bridge" {
        for (k, v) in [
            ("com.docker.network.bridge.default_bridge", "true"),
            ("com.docker.network.bridge.enable_icc", "true"),
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
            ("com.docker.network.bridge.name", "docker0"),
        ] {
            options.insert(k.into(), json!(v));
        }
        options.insert("com.docker.network.driver.mtu".into(), json!(engine.spec.mtu.to_string()));
    } else if n.name != GWBRIDGE {
        for (k, v) in &n.options {
            options.insert(k.clone(), json!(v));
        }
    } else {
        for (k, v) in [
            ("com.docker.network.bridge.enable_icc", "false"),
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.name", GWBRIDGE),
        ] {
            options.insert(k.into(), json!(v));
        }
    }
    // 20.10: a network made through the API keeps the request's (empty) IPAM options.
    let ipam_options = if era == Era::V20_10 && n.requested.is_some() { json!({}) } else { Value::Null };
    let mut v = json!({
        "Name": n.name,
        "Id": n.id,
        "Created": created(n.created),
        "Scope": "local",
        "Driver": driver,
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": { "Driver": "default", "Options": ipam_options, "Config": config },
        "Internal": n.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": { "Network": "" },
        "ConfigOnly": false,
        "Containers": containers,
        "Options": options,
        "Labels": n.labels,
    });
    if !era.inspect_enable_ipv4()
        && let Value::Object(m) = &mut v
    {
        m.shift_remove("EnableIPv4");
    }
    v
}

fn overlay(engine: &Engine, s: &Swarm, host: &str, name: &str) -> Option<Value> {
    let i = super::lookup::find(s.networks.iter().map(|n| (n.id.as_str(), n.name.as_str())), name).index()?;
    if !s.sees_overlay(i, host) {
        return None;
    }
    let n = s.networks.get(i)?;
    let mut containers = Map::new();
    for svc in &s.services {
        for t in svc.running().filter(|t| t.node == host) {
            let Some(k) = t.ips.iter().position(|(x, _)| *x == n.name) else { continue };
            let ip = t.ips[k].1;
            let tname = format!("{}.{}.{}", svc.name, t.slot, t.id);
            let Some(c) = engine.container(&tname) else { continue };
            containers.insert(
                c.id.clone(),
                json!({
                    "Name": tname,
                    "EndpointID": t.endpoint_ids.get(k).cloned().unwrap_or_default(),
                    "MacAddress": overlay_mac(ip).to_string(),
                    "IPv4Address": format!("{}/{}", ip, n.subnet.len),
                    "IPv6Address": "",
                }),
            );
        }
    }
    // Standalone containers on an attachable overlay are endpoints of it too.
    for a in s.attachments.iter().filter(|a| a.node == host && a.network == n.name) {
        let Some(c) = engine.container(&a.container) else { continue };
        containers.insert(
            c.id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": a.endpoint_id,
                "MacAddress": overlay_mac(a.ip).to_string(),
                "IPv4Address": format!("{}/{}", a.ip, n.subnet.len),
                "IPv6Address": "",
            }),
        );
    }
    if let Some((_, ip)) = n.lb.iter().find(|(h, _)| h == host) {
        let key = if n.ingress { "ingress-sbox".to_string() } else { format!("lb-{}", n.name) };
        let ename = if n.ingress { "ingress-endpoint".to_string() } else { format!("{}-endpoint", n.name) };
        containers.insert(
            key,
            json!({
                "Name": ename,
                "EndpointID": n.lb_ids.iter().find(|(h, _)| h == host).map(|x| x.1.clone()).unwrap_or_default(),
                "MacAddress": overlay_mac(*ip).to_string(),
                "IPv4Address": format!("{}/{}", ip, n.subnet.len),
                "IPv6Address": "",
            }),
        );
    }
    let peers: Vec<Value> = s
        .nodes
        .iter()
        .filter(|nd| nd.up && (n.ingress || n.lb.iter().any(|(h, _)| *h == nd.host)))
        .map(|nd| json!({ "Name": nd.host, "IP": nd.addr.to_string() }))
        .collect();
    let mut overlay_config = json!({ "Subnet": n.subnet.trunc().to_string(), "Gateway": n.gateway.to_string() });
    if let Some(aux) = aux_addresses(s.aux_addresses(n.pool)) {
        overlay_config["AuxiliaryAddresses"] = aux;
    }
    let mut v = json!({
        "Name": n.name,
        "Id": n.id,
        "Created": created(n.created),
        "Scope": "swarm",
        "Driver": "overlay",
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {
            "Driver": "default",
            "Options": null,
            "Config": [overlay_config],
        },
        "Internal": n.internal,
        "Attachable": n.attachable,
        "Ingress": n.ingress,
        "ConfigFrom": { "Network": "" },
        "ConfigOnly": false,
        "Containers": containers,
        "Options": { "com.docker.network.driver.overlay.vxlanid_list": n.vni.to_string() },
        "Labels": n.labels,
    });
    if let Value::Object(m) = &mut v {
        if !peers.is_empty() {
            m.insert("Peers".into(), Value::Array(peers));
        }
        if !engine.era().inspect_enable_ipv4() {
            m.shift_remove("EnableIPv4");
        }
        // 20.10 on a node where nothing is attached yet: the manager's record, with null
        // Containers and Labels (as Docker 20.10.24 prints a swarm overlay).
        if engine.era() == Era::V20_10
            && m.get("Containers").is_some_and(|c| c.as_object().is_some_and(|o| o.is_empty()))
        {
            m.insert("Containers".into(), Value::Null);
            m.insert("Labels".into(), Value::Null);
        }
    }
    Some(v)
}

/// `docker inspect CONTAINER` as the daemon answers it (api/types `ContainerJSON`), with the
/// fields the simulation knows, in Docker's key order; Docker's storage and runtime fields
/// (GraphDriver, Mounts, LogPath, Pid, …) are left out rather than made up. The shape is
/// 20.10's: a user-defined network lists the container's short ID among its `Aliases`, and
/// the top-level `NetworkSettings` address fields describe the default bridge only
/// (recorded: `traces/docker/inspect/`).
/// A container's endpoint on a swarm overlay (a task's, or a standalone container's on an
/// attachable overlay), as `docker inspect` lists it among the container's networks.
pub struct OverlayEndpoint {
    pub network: String,
    pub network_id: String,
    pub endpoint_id: String,
    /// `None` while the container is stopped (the daemon keeps the network, without an
    /// address).
    pub ip: Option<std::net::Ipv4Addr>,
    pub prefix: u8,
    pub aliases: Vec<String>,
}

/// `docker inspect CONTAINER`, with its endpoints on swarm overlays (`overlays`). The
/// sandbox's docker_gwbridge endpoint, libnetwork's way out for an overlay, is the
/// sandbox's and not a network the container joined: the daemon lists it nowhere
/// (traces/docker/swarm-attachable/).
pub fn container(engine: &Engine, c: &super::engine::Container, overlays: &[OverlayEndpoint]) -> Value {
    let short: String = c.id.chars().take(12).collect();
    let port_key = |p: &super::bridge::PortBinding| format!("{}/{}", p.container_port, p.proto.name());
    // Go's encoding/json writes map keys sorted, as serde_json's default map does.
    let mut bindings: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    let mut ports: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for p in c.ports.iter().chain(&c.parked_ports) {
        let host_ip = p.host_ip.map(|h| h.to_string()).unwrap_or_default();
        bindings.entry(port_key(p)).or_default().push(json!({"HostIp": host_ip, "HostPort": p.host_port.to_string()}));
    }
    for p in engine.published(c) {
        let shown = match p.host_ip {
            Some(h) => vec![h.to_string()],
            None => vec!["0.0.0.0".to_string(), "::".to_string()],
        };
        for a in shown {
            ports.entry(port_key(p)).or_default().push(json!({"HostIp": a, "HostPort": p.host_port.to_string()}));
        }
    }
    let gateway_service = |e: &&super::engine::Endpoint| {
        e.network == GWBRIDGE && (c.kind != ContainerKind::Plain || !c.swarm_ifnames.is_empty())
    };
    let joined: Vec<&super::engine::Endpoint> = c.endpoints.iter().filter(|e| !gateway_service(e)).collect();
    let first = joined
        .first()
        .map(|e| e.network.as_str())
        .or(c.parked.first().map(|p| p.0.as_str()))
        .or(overlays.first().map(|o| o.network.as_str()));
    // What the daemon kept when it made the container; for its own sandboxes, their networks.
    let mode = match (&c.mode, first) {
        _ if let Some(m) = &c.network_mode => m.clone(),
        (super::engine::SandboxMode::Host, _) => "host".to_string(),
        (super::engine::SandboxMode::Joined { target, .. }, _) => format!("container:{target}"),
        (_, None) => "none".to_string(),
        (_, Some("bridge")) => "default".to_string(),
        (_, Some(n)) => n.to_string(),
    };
    // Go writes a map's keys sorted.
    let mut networks: std::collections::BTreeMap<String, Value> = Default::default();
    let mut top = json!({"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""});
    for e in joined {
        let n = engine.network(&e.network);
        let prefix = n.and_then(|n| n.pool).map(|p| p.subnet.len).unwrap_or(0);
        let gateway = n.and_then(|n| n.gateway).map(|g| g.to_string()).unwrap_or_default();
        let aliases = if e.network == "bridge" {
            Value::Null
        } else {
            let mut a: Vec<Value> = e.aliases.iter().map(|x| json!(x)).collect();
            a.push(json!(short));
            Value::Array(a)
        };
        if e.network == "bridge" {
            top = json!({"EndpointID": e.id, "Gateway": gateway, "IPAddress": e.ip.to_string(), "IPPrefixLen": prefix, "MacAddress": e.mac.to_string()});
        }
        networks.insert(
            e.network.clone(),
            json!({
                "IPAMConfig": null,
                "Links": null,
                "Aliases": aliases,
                "NetworkID": n.map(|n| n.id.clone()).unwrap_or_default(),
                "EndpointID": e.id,
                "Gateway": gateway,
                "IPAddress": e.ip.to_string(),
                "IPPrefixLen": prefix,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": e.mac.to_string(),
                "DriverOpts": null,
            }),
        );
    }
    // The swarm's endpoints: the address the manager allocated, asked for again on the
    // node (moby `daemon/cluster/executor/container/container.go`, `getEndpointConfig`), and
    // no gateway of their own.
    for o in overlays {
        let mut a: Vec<Value> = o.aliases.iter().map(|x| json!(x)).collect();
        a.push(json!(short));
        let ip = o.ip.map(|ip| ip.to_string()).unwrap_or_default();
        networks.insert(
            o.network.clone(),
            json!({
                "IPAMConfig": if o.ip.is_some() { json!({ "IPv4Address": ip }) } else { Value::Null },
                "Links": null,
                "Aliases": a,
                "NetworkID": o.network_id,
                "EndpointID": o.endpoint_id,
                "Gateway": "",
                "IPAddress": ip,
                "IPPrefixLen": if o.ip.is_some() { o.prefix } else { 0 },
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": o.ip.map(|ip| overlay_mac(ip).to_string()).unwrap_or_default(),
                "DriverOpts": null,
            }),
        );
    }
    // A container that is not running keeps its networks, without an address.
    for (net, _, aliases) in &c.parked {
        let mut a: Vec<Value> = aliases.iter().map(|x| json!(x)).collect();
        a.push(json!(short));
        networks.insert(
            net.clone(),
            json!({
                "IPAMConfig": null,
                "Links": null,
                "Aliases": if net == "bridge" { Value::Null } else { Value::Array(a) },
                "NetworkID": engine.network(net).map(|n| n.id.clone()).unwrap_or_default(),
                "EndpointID": "",
                "Gateway": "",
                "IPAddress": "",
                "IPPrefixLen": 0,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": "",
                "DriverOpts": null,
            }),
        );
    }
    let mut config = Map::new();
    config.insert("Hostname".into(), json!(engine.hostname(c)));
    config.insert("Domainname".into(), json!(""));
    config.insert("User".into(), json!(""));
    // The image's EXPOSE ports and every -p container port, sorted as Go writes a map.
    let mut exposed: std::collections::BTreeMap<String, Value> =
        c.ports.iter().chain(&c.parked_ports).map(|p| (port_key(p), json!({}))).collect();
    for (port, proto) in super::images::find(&c.image).map(|i| i.expose).unwrap_or_default() {
        exposed.insert(format!("{port}/{}", proto.name()), json!({}));
    }
    if !exposed.is_empty() {
        config.insert("ExposedPorts".into(), json!(exposed));
    }
    let env: Vec<String> = c.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    config.insert("Env".into(), if env.is_empty() { Value::Null } else { json!(env) });
    config.insert("Image".into(), json!(c.image));
    config.insert("Labels".into(), json!(c.labels));
    let extra: Vec<String> = c.extra_hosts.iter().map(|(n, ip)| format!("{n}:{ip}")).collect();
    let (status, exit_code) = match c.state {
        RunState::Running => ("running", 0),
        RunState::Created => ("created", 0),
        RunState::Exited(code) => ("exited", code),
    };
    json!({
        "Id": c.id,
        "Created": created(SimTime::ZERO),
        "State": {
            "Status": status,
            "Running": c.state == RunState::Running,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "ExitCode": exit_code,
            "Error": "",
        },
        "Name": format!("/{}", c.name),
        "RestartCount": 0,
        "HostConfig": {
            "NetworkMode": mode,
            "PortBindings": bindings,
            "ExtraHosts": if extra.is_empty() { Value::Null } else { json!(extra) },
        },
        "Config": config,
        "NetworkSettings": {
            "Bridge": "",
            "Ports": ports,
            "EndpointID": top["EndpointID"],
            "Gateway": top["Gateway"],
            "IPAddress": top["IPAddress"],
            "IPPrefixLen": top["IPPrefixLen"],
            "MacAddress": top["MacAddress"],
            "Networks": networks,
        },
    })
}

/// `print` for objects whose Go type has fields that the JSON leaves out when nil
/// (`omitempty` pointers and slices), named by their paths in `nil_fields`: docker/cli runs a
/// template on the typed struct first, where such a field is nil (`{{json .UpdateStatus}}`
/// prints `null`), and only when that fails on the JSON, where the field is missing (so
/// `{{.UpdateStatus.State}}` fails with the JSON's words).
pub fn print_with_nil(found: &[Value], format: Option<&str>, nil_fields: &[&str]) -> Result<String, EngineError> {
    let missing = match (print(found, format), format) {
        (Err(e), Some(_)) => e,
        (out, _) => return out,
    };
    let typed: Vec<Value> = found
        .iter()
        .map(|v| {
            let mut v = v.clone();
            for path in nil_fields {
                let mut at = &mut v;
                let mut keys = path.split('.').peekable();
                while let (Some(k), Value::Object(o)) = (keys.next(), at) {
                    if keys.peek().is_none() {
                        o.entry(k).or_insert(Value::Null);
                        break;
                    }
                    match o.get_mut(k) {
                        Some(next) => at = next,
                        None => break,
                    }
                }
            }
            v
        })
        .collect();
    print(&typed, format).map_err(|_| missing)
}

/// What `docker inspect` and `docker network inspect` print for the objects they found:
/// the JSON array indented as docker/cli indents it (four spaces), or with `--format` the
/// template's output for each object, one line each.
pub fn print(found: &[Value], format: Option<&str>) -> Result<String, EngineError> {
    let Some(f) = format else {
        let mut buf = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b"    "));
        serde::Serialize::serialize(&Value::Array(found.to_vec()), &mut ser).map_err(|e| EngineError(e.to_string()))?;
        return Ok(String::from_utf8_lossy(&buf).into_owned() + "\n");
    };
    let mut out = String::new();
    for v in found {
        out += &super::template::render(f, v).map_err(|e| EngineError(e.0))?;
        out.push('\n');
    }
    Ok(out)
}

/// `IPAMConfig.AuxiliaryAddresses` (moby `api/types/network`, `omitempty`): the
/// `--aux-address` names and addresses, none when there are none.
fn aux_addresses(aux: &[(String, std::net::Ipv4Addr)]) -> Option<Value> {
    let map: Map<String, Value> = aux.iter().map(|(k, a)| (k.clone(), json!(a.to_string()))).collect();
    (!map.is_empty()).then_some(Value::Object(map))
}
