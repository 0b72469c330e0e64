//! Command dispatch and per-command flag tables (docker/cli v28 semantics).

use std::collections::BTreeMap;

use super::flags::{FlagDef, SetFn, bl, bs, parse_flags, vl, vs};
use super::image::ImageRef;
use super::lex::Word;
use super::types::*;
use super::values::{
    NetOpt, convert_to_standard_notation, go_quote, parse_cidr, parse_int, parse_ip, parse_mac, parse_network_opt,
    parse_port_spec, parse_service_port, parse_uint, pflag_ip, read_csv, split_host_port, validate_env,
    validate_ip_address, validate_label,
};

/// A resolved (sub)command: canonical path for messages and the words after it.
struct Cmd<'a> {
    path: String,
    path_span: Span,
    rest: &'a [Word],
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "argument" } else { "arguments" }
}

impl Cmd<'_> {
    fn flags(&self, defs: &'static [FlagDef], interspersed: bool, set: &mut SetFn<'_>) -> Result<Vec<Word>, CliError> {
        parse_flags(self.rest, defs, interspersed, set)
    }

    fn too_many(&self, args: &[Word], from: usize) -> Span {
        args[from].span.to(args[args.len() - 1].span)
    }

    /// `cli.ExactArgs`.
    fn exact(&self, args: &[Word], n: usize) -> Result<(), CliError> {
        if args.len() == n {
            return Ok(());
        }
        let span = if args.len() > n { self.too_many(args, n) } else { self.path_span };
        Err(CliError::new(format!("'{}' requires {n} {}", self.path, plural(n)), span))
    }

    /// `cli.RequiresMinArgs`.
    fn min(&self, args: &[Word], n: usize) -> Result<(), CliError> {
        if args.len() >= n {
            return Ok(());
        }
        Err(CliError::new(format!("'{}' requires at least {n} {}", self.path, plural(n)), self.path_span))
    }

    /// `cli.RequiresMaxArgs`.
    fn max(&self, args: &[Word], n: usize) -> Result<(), CliError> {
        if args.len() <= n {
            return Ok(());
        }
        Err(CliError::new(format!("'{}' requires at most {n} {}", self.path, plural(n)), self.too_many(args, n)))
    }

    /// `cli.NoArgs`.
    fn none(&self, args: &[Word]) -> Result<(), CliError> {
        if args.is_empty() {
            return Ok(());
        }
        Err(CliError::new(format!("'{}' accepts no arguments", self.path), self.too_many(args, 0)))
    }
}

fn texts(args: &[Word]) -> Vec<String> {
    args.iter().map(|w| w.text.clone()).collect()
}

fn argv(args: &[Word]) -> Argv {
    Argv { words: texts(args), spans: args.iter().map(|w| w.span).collect() }
}

fn is_true(v: &str) -> bool {
    v == "true"
}

fn other(d: &FlagDef, v: &str) -> OtherFlag {
    OtherFlag { name: d.long.to_string(), value: v.to_string() }
}

fn unsupported(path: &str, span: Span) -> CliError {
    CliError::new(format!("netsim: {} is not supported", go_quote(path)), span)
}

const UNSUPPORTED_TOP: &[&str] = &[
    "attach", "build", "builder", "buildx", "commit", "compose", "config", "context", "cp", "diff", "events", "export",
    "history", "import", "load", "login", "logout", "manifest", "pause", "plugin", "push", "rename", "rmi", "save",
    "search", "secret", "stack", "stats", "system", "tag", "top", "trust", "unpause", "update", "volume", "wait",
];

/// Entry point used by [`super::parse`].
pub(super) fn dispatch(line: &str, words: &[Word]) -> Result<DockerCommand, CliError> {
    let Some(first) = words.first() else {
        return Err(CliError::new("netsim: empty step: expected a `docker …` command", Span::new(0, line.len())));
    };
    if first.text != "docker" {
        return Err(CliError::new(
            format!("netsim: expected a `docker …` command, found {}", go_quote(&first.text)),
            first.span,
        ));
    }
    let Some(cmd) = words.get(1) else {
        return Err(CliError::new("netsim: missing docker command (e.g. `docker run …`)", first.span));
    };
    if cmd.text.len() > 1 && cmd.text.starts_with('-') {
        // Global options (-H, --context, -D, …) are not modelled: report them as pflag would
        // for an unknown flag.
        parse_flags(&words[1..], &[], false, &mut |_, _, _| Ok(()))?;
    }
    let top =
        |name: &str| Cmd { path: format!("docker {name}"), path_span: first.span.to(cmd.span), rest: &words[2..] };
    match cmd.text.as_str() {
        "run" => run(top("run"), false),
        "create" => run(top("create"), true),
        "rm" => rm(top("rm")),
        "stop" => stop(top("stop")),
        "restart" => stop(top("restart")),
        "kill" => kill(top("kill")),
        "start" => start(top("start")),
        "exec" => exec(top("exec")),
        "ps" => ps(top("ps")),
        "inspect" => inspect(top("inspect")),
        "port" => port(top("port")),
        "logs" => logs(top("logs")),
        "version" => version(top("version")),
        "info" => info(top("info")),
        "images" => images(top("images")),
        "pull" => pull(top("pull")),
        "swarm" | "network" | "service" | "node" | "container" | "image" => group(first, cmd, &words[2..]),
        other if UNSUPPORTED_TOP.contains(&other) => Err(unsupported(&format!("docker {other}"), cmd.span)),
        other => Err(CliError::new(format!("unknown command: docker {other}"), cmd.span)),
    }
}

fn group(first: &Word, grp: &Word, rest: &[Word]) -> Result<DockerCommand, CliError> {
    let g = grp.text.as_str();
    let Some(sub) = rest.first() else {
        return Err(CliError::new(format!("netsim: \"docker {g}\" requires a subcommand"), first.span.to(grp.span)));
    };
    if sub.text.len() > 1 && sub.text.starts_with('-') {
        parse_flags(rest, &[], false, &mut |_, _, _| Ok(()))?;
    }
    let c =
        |name: &str| Cmd { path: format!("docker {g} {name}"), path_span: first.span.to(sub.span), rest: &rest[1..] };
    let s = sub.text.as_str();
    match (g, s) {
        ("swarm", "init") => swarm_init(c("init")),
        ("swarm", "join") => swarm_join(c("join")),
        ("swarm", "join-token") => swarm_join_token(c("join-token")),
        ("swarm", "leave") => swarm_leave(c("leave")),
        ("swarm", "ca" | "unlock" | "unlock-key" | "update") => Err(unsupported(&c(s).path, sub.span)),
        ("network", "create") => network_create(c("create")),
        ("network", "rm" | "remove") => network_rm(c("rm")),
        ("network", "ls" | "list") => network_ls(c("ls")),
        ("network", "inspect") => network_inspect(c("inspect")),
        ("network", "connect") => network_connect(c("connect")),
        ("network", "disconnect") => network_disconnect(c("disconnect")),
        ("network", "prune") => network_prune(c("prune")),
        ("service", "create") => service_create(c("create")),
        ("service", "scale") => service_scale(c("scale")),
        ("service", "rm" | "remove") => service_rm(c("rm")),
        ("service", "ps") => service_ps(c("ps")),
        ("service", "ls" | "list") => service_ls(c("ls")),
        ("service", "update") => service_update(c("update")),
        ("service", "inspect") => service_inspect(c("inspect")),
        ("service", "rollback") => service_rollback(c("rollback")),
        ("service", "logs") => service_logs(c("logs")),
        ("node", "ls" | "list") => node_ls(c("ls")),
        ("node", "update") => node_update(c("update")),
        ("node", "ps") => node_ps(c("ps")),
        ("node", "inspect") => node_inspect(c("inspect")),
        ("node", "demote" | "promote" | "rm" | "remove") => Err(unsupported(&c(s).path, sub.span)),
        ("container", "run") => run(c("run"), false),
        ("container", "create") => run(c("create"), true),
        ("container", "rm" | "remove") => rm(c("rm")),
        ("container", "stop") => stop(c("stop")),
        ("container", "restart") => stop(c("restart")),
        ("container", "kill") => kill(c("kill")),
        ("container", "start") => start(c("start")),
        ("container", "exec") => exec(c("exec")),
        ("container", "ls" | "ps" | "list") => ps(c("ls")),
        ("container", "inspect") => inspect(c("inspect")),
        ("container", "port") => port(c("port")),
        ("container", "logs") => logs(c("logs")),
        ("image", "ls" | "list") => images(c("ls")),
        ("image", "pull") => pull(c("pull")),
        (
            "image",
            "build" | "history" | "import" | "inspect" | "load" | "prune" | "push" | "rm" | "remove" | "save" | "tag",
        ) => Err(unsupported(&c(s).path, sub.span)),
        (
            "container",
            "attach" | "commit" | "cp" | "diff" | "export" | "pause" | "prune" | "rename" | "stats" | "top" | "unpause"
            | "update" | "wait",
        ) => Err(unsupported(&c(s).path, sub.span)),
        _ => Err(CliError::new(format!("unknown command: docker {g} {s}"), sub.span)),
    }
}

// ---------------------------------------------------------------------------------------
// swarm

const ERR_BAD_ADVERTISE: &str =
    "advertise address must be a non-zero IP address or network interface (with optional port number)";
const ERR_BAD_DATA_PATH: &str =
    "data path address must be a non-zero IP address or network interface (without a port number)";
const ERR_BAD_LISTEN: &str = "listen address must be an IP address or network interface (with optional port number)";

fn parse_host(h: &str, allow_unspecified: bool) -> Option<AddrHost> {
    if let Some(ip) = parse_ip(h) {
        return (allow_unspecified || !ip.is_unspecified()).then_some(AddrHost::Ip(ip));
    }
    let looks_numeric = h.chars().all(|c| c.is_ascii_digit() || c == '.');
    let iface_chars = h.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    (!h.is_empty() && !looks_numeric && iface_chars).then(|| AddrHost::Interface(h.to_string()))
}

/// `HOST[:PORT]` for `--advertise-addr` / `swarm join` (validated daemon-side in Docker).
fn parse_swarm_addr(v: &str) -> Option<NodeAddr> {
    let (h, p) = split_host_port(v)?;
    let port = match p {
        None => None,
        Some(p) => Some(parse_uint(&p, false, 16).ok()? as u16),
    };
    Some(NodeAddr { host: parse_host(&h, false)?, port })
}

/// docker/cli `NodeAddrOption.Set` (`opts.ParseTCPAddr` against the default `0.0.0.0:2377`).
fn parse_listen_addr(v: &str) -> Result<NodeAddr, String> {
    let bad = |why: String| format!("invalid bind address ({v}): {why}");
    let v2 = v.strip_prefix("tcp://").unwrap_or(v);
    if let Some((scheme, _)) = v2.split_once("://") {
        return Err(bad(format!("unsupported proto '{scheme}'")));
    }
    if v2.contains('/') {
        return Err(bad("should not contain a path element".to_string()));
    }
    let (h, p) = split_host_port(v2).ok_or_else(|| ERR_BAD_LISTEN.to_string())?;
    let port = match p.as_deref() {
        None | Some("") => 2377,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            parse_uint(p, false, 16).map_err(|_| ERR_BAD_LISTEN.to_string())? as u16
        }
        Some(p) => return Err(bad(format!("parse \"tcp://{v2}\": invalid port \":{p}\" after host"))),
    };
    let host = if h.is_empty() {
        AddrHost::Ip([0, 0, 0, 0].into())
    } else {
        parse_host(&h, true).ok_or_else(|| ERR_BAD_LISTEN.to_string())?
    };
    Ok(NodeAddr { host, port: Some(port) })
}

fn default_listen() -> NodeAddr {
    NodeAddr { host: AddrHost::Ip([0, 0, 0, 0].into()), port: Some(2377) }
}

fn parse_availability(v: &str) -> Result<NodeAvailability, String> {
    match v.to_lowercase().as_str() {
        "active" => Ok(NodeAvailability::Active),
        "pause" => Ok(NodeAvailability::Pause),
        "drain" => Ok(NodeAvailability::Drain),
        _ => Err(format!("invalid availability {}, only active, pause and drain are supported", go_quote(v))),
    }
}

fn data_path_addr(v: &str, span: Span) -> Result<AddrHost, CliError> {
    parse_host(v, false).ok_or_else(|| CliError::new(ERR_BAD_DATA_PATH, span))
}

#[derive(Default)]
struct SwarmAddrs {
    advertise: Option<(String, Span)>,
    listen: Option<NodeAddr>,
    data_path: Option<(String, Span)>,
    availability: Option<(String, Span)>,
}

impl SwarmAddrs {
    fn set(&mut self, d: &FlagDef, v: &str, sp: Span) -> Result<bool, String> {
        match d.long {
            "advertise-addr" => self.advertise = Some((v.to_string(), sp)),
            "listen-addr" => self.listen = Some(parse_listen_addr(v)?),
            "data-path-addr" => self.data_path = Some((v.to_string(), sp)),
            "availability" => self.availability = Some((v.to_string(), sp)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    #[allow(clippy::type_complexity)]
    fn finish(self) -> Result<(Option<NodeAddr>, NodeAddr, Option<AddrHost>, NodeAvailability), CliError> {
        let availability = match self.availability {
            None => NodeAvailability::Active,
            Some((v, sp)) => parse_availability(&v).map_err(|m| CliError::new(m, sp))?,
        };
        let advertise = match self.advertise {
            None => None,
            Some((v, _)) if v.is_empty() => None,
            Some((v, sp)) => Some(parse_swarm_addr(&v).ok_or_else(|| CliError::new(ERR_BAD_ADVERTISE, sp))?),
        };
        let data_path = match self.data_path {
            None => None,
            Some((v, _)) if v.is_empty() => None,
            Some((v, sp)) => Some(data_path_addr(&v, sp)?),
        };
        Ok((advertise, self.listen.unwrap_or_else(default_listen), data_path, availability))
    }
}

const SWARM_INIT_FLAGS: &[FlagDef] = &[
    vl("advertise-addr"),
    vl("listen-addr"),
    vl("data-path-addr"),
    vl("data-path-port"),
    vl("default-addr-pool"),
    vl("default-addr-pool-mask-length"),
    bl("force-new-cluster"),
    vl("availability"),
    bl("autolock"),
    vl("task-history-limit"),
    vl("dispatcher-heartbeat"),
    vl("cert-expiry"),
    vl("external-ca"),
    vl("max-snapshots"),
    vl("snapshot-interval"),
];

fn swarm_init(c: Cmd) -> Result<DockerCommand, CliError> {
    let mut a = SwarmAddrs::default();
    let mut data_path_port = None;
    let mut pools = Vec::new();
    let mut mask_len = 24;
    let (mut force_new, mut autolock) = (false, false);
    let mut others = Vec::new();
    let args = c.flags(SWARM_INIT_FLAGS, true, &mut |d, v, sp| {
        if a.set(d, v, sp)? {
            return Ok(());
        }
        match d.long {
            "data-path-port" => data_path_port = Some(parse_uint(v, true, 32)? as u32),
            "default-addr-pool" => {
                for s in read_csv(&v.replace(['"', '\'', '`'], ""))? {
                    let c = parse_cidr(s.trim()).map_err(|_| format!("invalid string being converted to CIDR: {s}"))?;
                    pools.push(Cidr { addr: c.network(), prefix_len: c.prefix_len });
                }
            }
            "default-addr-pool-mask-length" => mask_len = parse_uint(v, true, 32)? as u32,
            "force-new-cluster" => force_new = is_true(v),
            "autolock" => autolock = is_true(v),
            _ => others.push(other(d, v)),
        }
        Ok(())
    })?;
    c.none(&args)?;
    let (advertise_addr, listen_addr, data_path_addr, availability) = a.finish()?;
    Ok(DockerCommand::SwarmInit(SwarmInit {
        advertise_addr,
        listen_addr,
        data_path_addr,
        data_path_port,
        default_addr_pools: pools,
        default_addr_pool_mask_length: mask_len,
        force_new_cluster: force_new,
        autolock,
        availability,
        other_flags: others,
    }))
}

const SWARM_JOIN_FLAGS: &[FlagDef] =
    &[vl("token"), vl("advertise-addr"), vl("listen-addr"), vl("data-path-addr"), vl("availability")];

fn swarm_join(c: Cmd) -> Result<DockerCommand, CliError> {
    let mut a = SwarmAddrs::default();
    let mut token = None;
    let args = c.flags(SWARM_JOIN_FLAGS, true, &mut |d, v, sp| {
        if !a.set(d, v, sp)? && d.long == "token" {
            token = Some(v.to_string());
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    let (advertise_addr, listen_addr, data_path_addr, availability) = a.finish()?;
    let mut remote = parse_swarm_addr(&args[0].text).ok_or_else(|| {
        CliError::new(
            format!("netsim: invalid manager address {} (expected HOST:PORT)", go_quote(&args[0].text)),
            args[0].span,
        )
    })?;
    remote.port.get_or_insert(2377);
    Ok(DockerCommand::SwarmJoin(SwarmJoin { token, remote, advertise_addr, listen_addr, data_path_addr, availability }))
}

fn swarm_join_token(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bl("rotate"), bs("quiet", 'q')];
    let (mut rotate, mut quiet) = (false, false);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "rotate" => rotate = is_true(v),
            _ => quiet = is_true(v),
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    let role = match args[0].text.as_str() {
        "worker" => NodeRole::Worker,
        "manager" => NodeRole::Manager,
        r => return Err(CliError::new(format!("unknown role {r}"), args[0].span)),
    };
    Ok(DockerCommand::SwarmJoinToken(SwarmJoinToken { role, rotate, quiet }))
}

fn swarm_leave(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("force", 'f')];
    let mut force = false;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        force = is_true(v);
        Ok(())
    })?;
    c.none(&args)?;
    Ok(DockerCommand::SwarmLeave(SwarmLeave { force }))
}

// ---------------------------------------------------------------------------------------
// networks

const NETWORK_CREATE_FLAGS: &[FlagDef] = &[
    vs("driver", 'd'),
    vs("opt", 'o'),
    vl("label"),
    bl("internal"),
    bl("attachable"),
    bl("ingress"),
    bl("ipv4"),
    bl("ipv6"),
    vl("scope"),
    vl("subnet"),
    vl("ip-range"),
    vl("gateway"),
    vl("aux-address"),
    vl("ipam-driver"),
    vl("ipam-opt"),
    vl("config-from"),
    bl("config-only"),
];

/// docker/cli `subnetMatches`.
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let s = parse_cidr(subnet).map_err(|e| format!("invalid subnet: {e}"))?;
    let ip = if data.contains('/') { Some(parse_cidr(data)?.addr) } else { parse_ip(data) };
    Ok(ip.is_some_and(|ip| s.contains(ip)))
}

type Spanned = (String, Span);

/// docker/cli `createIPAMConfig` (the client-side consolidation and its errors).
fn create_ipam(
    subnets: &[Spanned],
    ranges: &[Spanned],
    gateways: &[Spanned],
    aux: &BTreeMap<String, Spanned>,
    all: Span,
) -> Result<Vec<IpamPool>, CliError> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err(CliError::new("every ip-range or gateway must have a corresponding subnet", all));
    }
    let e = |m: String, sp: Span| CliError::new(m, sp);
    let mut pools: Vec<(String, IpamPool)> = Vec::new();
    for (s, sp) in subnets {
        for (k, _) in &pools {
            let ok1 = subnet_matches(s, k).map_err(|m| e(m, *sp))?;
            let ok2 = subnet_matches(k, s).map_err(|m| e(m, *sp))?;
            if ok1 || ok2 {
                return Err(e("multiple overlapping subnet configuration is not supported".into(), *sp));
            }
        }
        // Docker only checks a subnet when comparing it with another; a lone bad subnet is
        // rejected by the daemon instead, in these words (20.10, traces/docker/errors/).
        let subnet =
            parse_cidr(s).map_err(|m| e(format!("Error response from daemon: Invalid subnet {s} : {m}"), *sp))?;
        pools.push((s.clone(), IpamPool { subnet, ip_range: None, gateway: None, aux_addresses: BTreeMap::new() }));
    }
    for (r, sp) in ranges {
        let mut matched = false;
        for (s, pool) in pools.iter_mut() {
            if !subnet_matches(s, r).map_err(|m| e(m, *sp))? {
                continue;
            }
            if let Some(prev) = &pool.ip_range {
                return Err(e(format!("cannot configure multiple ranges ({r}, {prev}) on the same subnet ({s})"), *sp));
            }
            pool.ip_range = Some(parse_cidr(r).map_err(|m| e(m, *sp))?);
            matched = true;
        }
        if !matched {
            return Err(e(format!("no matching subnet for range {r}"), *sp));
        }
    }
    for (g, sp) in gateways {
        let mut matched = false;
        for (s, pool) in pools.iter_mut() {
            if !subnet_matches(s, g).map_err(|m| e(m, *sp))? {
                continue;
            }
            if let Some(prev) = &pool.gateway {
                return Err(e(
                    format!("cannot configure multiple gateways ({g}, {prev}) for the same subnet ({s})"),
                    *sp,
                ));
            }
            let ip = if g.contains('/') { parse_cidr(g).ok().map(|c| c.addr) } else { parse_ip(g) };
            pool.gateway = ip;
            matched = true;
        }
        if !matched {
            return Err(e(format!("no matching subnet for gateway {g}"), *sp));
        }
    }
    for (key, (a, sp)) in aux {
        let mut matched = false;
        for (s, pool) in pools.iter_mut() {
            if !subnet_matches(s, a).map_err(|m| e(m, *sp))? {
                continue;
            }
            let ip = if a.contains('/') { parse_cidr(a).ok().map(|c| c.addr) } else { parse_ip(a) };
            if let Some(ip) = ip {
                pool.aux_addresses.insert(key.clone(), ip);
            }
            matched = true;
        }
        if !matched {
            return Err(e(format!("no matching subnet for aux-address {a}"), *sp));
        }
    }
    Ok(pools.into_iter().map(|(_, p)| p).collect())
}

fn network_create(c: Cmd) -> Result<DockerCommand, CliError> {
    let mut driver = ("bridge".to_string(), c.path_span);
    let mut options = BTreeMap::new();
    let mut labels = BTreeMap::new();
    let (mut internal, mut attachable, mut ingress, mut ipv4, mut ipv6) = (false, false, false, true, false);
    let mut scope = None;
    let mut ipam_driver = "default".to_string();
    let (mut subnets, mut ranges, mut gateways) = (Vec::new(), Vec::new(), Vec::new());
    let mut aux = BTreeMap::new();
    let mut others = Vec::new();
    let args = c.flags(NETWORK_CREATE_FLAGS, true, &mut |d, v, sp| {
        let kv = |v: &str| {
            let (k, val) = v.split_once('=').unwrap_or((v, ""));
            (k.to_string(), val.to_string())
        };
        match d.long {
            "driver" => driver = (v.to_string(), sp),
            "opt" => {
                let (k, val) = kv(v);
                options.insert(k, val);
            }
            "label" => {
                let (k, val) = validate_label(v)?;
                labels.insert(k, val);
            }
            "internal" => internal = is_true(v),
            "attachable" => attachable = is_true(v),
            "ingress" => ingress = is_true(v),
            "ipv4" => ipv4 = is_true(v),
            "ipv6" => ipv6 = is_true(v),
            "scope" => scope = Some(v.to_string()),
            "subnet" => subnets.extend(read_csv(v)?.into_iter().map(|s| (s, sp))),
            "ip-range" => ranges.extend(read_csv(v)?.into_iter().map(|s| (s, sp))),
            "gateway" => gateways.extend(read_csv(v)?.into_iter().map(|s| (s, sp))),
            "aux-address" => {
                let (k, val) = kv(v);
                aux.insert(k, (val, sp));
            }
            "ipam-driver" => ipam_driver = v.to_string(),
            _ => others.push(other(d, v)),
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    let ipam = create_ipam(&subnets, &ranges, &gateways, &aux, c.path_span)?;
    let driver = match driver.0.as_str() {
        "bridge" => NetworkDriver::Bridge,
        "overlay" => NetworkDriver::Overlay,
        "macvlan" => NetworkDriver::Macvlan,
        "ipvlan" => NetworkDriver::Ipvlan,
        "host" => NetworkDriver::Host,
        "null" | "none" => NetworkDriver::Null,
        d => {
            return Err(CliError::new(
                format!("Error response from daemon: plugin {} not found", go_quote(d)),
                driver.1,
            ));
        }
    };
    Ok(DockerCommand::NetworkCreate(NetworkCreate {
        name: args[0].text.clone(),
        driver,
        ipam,
        ipam_driver,
        internal,
        attachable,
        ingress,
        ipv4,
        ipv6,
        options,
        labels,
        scope,
        other_flags: others,
    }))
}

fn network_rm(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("force", 'f')];
    let mut force = false;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        force = is_true(v);
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::NetworkRm(NetworkRm { networks: texts(&args), force }))
}

/// Shared `-q/-f/--format` listing flags.
#[derive(Default)]
struct ListOpts {
    quiet: bool,
    no_trunc: bool,
    filters: Vec<String>,
    format: Option<String>,
}

const LIST_FLAGS: &[FlagDef] = &[bs("quiet", 'q'), vs("filter", 'f'), vl("format"), bl("no-trunc")];
const LIST_FLAGS_NO_TRUNC_LESS: &[FlagDef] = &[bs("quiet", 'q'), vs("filter", 'f'), vl("format")];

fn list_opts(c: &Cmd, defs: &'static [FlagDef]) -> Result<ListOpts, CliError> {
    let mut o = ListOpts::default();
    let args = c.flags(defs, true, &mut |d, v, _| {
        match d.long {
            "quiet" => o.quiet = is_true(v),
            "no-trunc" => o.no_trunc = is_true(v),
            // docker/cli `opts.FilterOpt.Set`.
            "filter" if !v.contains('=') => return Err("bad format of filter (expected name=value)".into()),
            "filter" => o.filters.push(v.to_string()),
            _ => o.format = Some(v.to_string()),
        }
        Ok(())
    })?;
    c.none(&args)?;
    Ok(o)
}

fn network_ls(c: Cmd) -> Result<DockerCommand, CliError> {
    let o = list_opts(&c, LIST_FLAGS)?;
    Ok(DockerCommand::NetworkLs(NetworkLs {
        quiet: o.quiet,
        no_trunc: o.no_trunc,
        filters: o.filters,
        format: o.format,
    }))
}

fn network_inspect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("format", 'f'), bs("verbose", 'v')];
    let (mut format, mut verbose) = (None, false);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "format" => format = Some(v.to_string()),
            _ => verbose = is_true(v),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::NetworkInspect(NetworkInspect { networks: texts(&args), format, verbose }))
}

fn network_connect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] =
        &[vl("ip"), vl("ip6"), vl("link"), vl("alias"), vl("link-local-ip"), vl("driver-opt"), vl("gw-priority")];
    let (mut ip, mut ip6) = (None, None);
    let (mut aliases, mut links, mut driver_opts) = (Vec::new(), Vec::new(), Vec::new());
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "ip" => ip = pflag_ip(v)?,
            "ip6" => ip6 = pflag_ip(v)?,
            "link" => links.push(v.to_string()),
            "alias" => aliases.extend(read_csv(v)?),
            "driver-opt" => driver_opts.extend(read_csv(v)?),
            "link-local-ip" => {
                read_csv(v)?;
            }
            _ => {
                parse_int(v)?;
            }
        }
        Ok(())
    })?;
    c.exact(&args, 2)?;
    Ok(DockerCommand::NetworkConnect(NetworkConnect {
        network: args[0].text.clone(),
        container: args[1].text.clone(),
        ipv4_address: ip,
        ipv6_address: ip6,
        aliases,
        links,
        driver_opts,
    }))
}

fn network_disconnect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("force", 'f')];
    let mut force = false;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        force = is_true(v);
        Ok(())
    })?;
    c.exact(&args, 2)?;
    Ok(DockerCommand::NetworkDisconnect(NetworkDisconnect {
        network: args[0].text.clone(),
        container: args[1].text.clone(),
        force,
    }))
}

// ---------------------------------------------------------------------------------------
// containers

/// The flags `docker run` and `docker create` share (docker/cli
/// `cli/command/container/opts.go` `addFlags`); `run` adds its own first.
macro_rules! container_flags {
    ($($own:expr),*) => {
        &[
            $($own,)*
            bs("interactive", 'i'),
            bs("tty", 't'),
            bl("rm"),
            vl("name"),
            vl("network"),
            vl("net"),
            vl("ip"),
            vl("ip6"),
            vl("network-alias"),
            vl("net-alias"),
            vs("publish", 'p'),
            bs("publish-all", 'P'),
            vs("env", 'e'),
            vs("hostname", 'h'),
            vl("mac-address"),
            vl("dns"),
            // Accepted and kept in `other_flags`.
            vl("add-host"),
            vs("attach", 'a'),
            vl("cap-add"),
            vl("cap-drop"),
            vl("cidfile"),
            vl("cpus"),
            vl("device"),
            vl("dns-option"),
            vl("dns-search"),
            vl("domainname"),
            vl("entrypoint"),
            vl("env-file"),
            vl("expose"),
            vl("group-add"),
            vl("health-cmd"),
            bl("init"),
            vl("ipc"),
            vs("label", 'l'),
            vl("label-file"),
            vl("link"),
            vl("link-local-ip"),
            vl("log-driver"),
            vl("log-opt"),
            vs("memory", 'm'),
            vl("mount"),
            vl("pid"),
            vl("platform"),
            bl("privileged"),
            vl("pull"),
            bs("quiet", 'q'),
            bl("read-only"),
            vl("restart"),
            vl("runtime"),
            vl("security-opt"),
            vl("shm-size"),
            vl("stop-signal"),
            vl("stop-timeout"),
            vl("sysctl"),
            vl("tmpfs"),
            vl("ulimit"),
            vs("user", 'u'),
            vl("userns"),
            vs("volume", 'v'),
            vl("volumes-from"),
            vs("workdir", 'w'),
        ]
    };
}

const RUN_FLAGS: &[FlagDef] = container_flags!(bs("detach", 'd'), vl("detach-keys"), bl("sig-proxy"));
/// `docker create` has no `--detach`: nothing is started to attach to.
const CREATE_FLAGS: &[FlagDef] = container_flags!();

const ERR_INVALID_NAME: &str = "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";

/// Daemon-side `validContainerNamePattern` `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
fn valid_container_name(n: &str) -> bool {
    let b = n.strip_prefix('/').unwrap_or(n).as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..].iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// docker/cli `parseNetworkOpts` + `applyContainerOptions` + `parseNetworkAttachmentOpt`,
/// plus the daemon's "user specified IP" rule.
fn container_networks(
    nets: Vec<(NetOpt, Span)>,
    aliases: Vec<String>,
    ip: Option<std::net::IpAddr>,
    ip6: Option<std::net::IpAddr>,
    default_span: Span,
) -> Result<Vec<NetworkAttachment>, CliError> {
    let explicit = !nets.is_empty();
    let list =
        if explicit { nets } else { vec![(NetOpt { target: "default".into(), ..NetOpt::default() }, default_span)] };
    let (mut has_user, mut has_non_user) = (false, false);
    let mut out: Vec<NetworkAttachment> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, (mut n, sp)) in list.into_iter().enumerate() {
        let e = |m: &str| CliError::new(m, sp);
        let mode = NetworkMode::from_target(&n.target);
        if explicit {
            if mode.is_user_defined() {
                has_user = true;
            } else {
                has_non_user = true;
            }
        }
        if i == 0 {
            if !n.aliases.is_empty() && !aliases.is_empty() {
                return Err(e("conflicting options: cannot specify both --network-alias and per-network alias"));
            }
            if n.ipv4.is_some() && ip.is_some() {
                return Err(e("conflicting options: cannot specify both --ip and per-network IPv4 address"));
            }
            if n.ipv6.is_some() && ip6.is_some() {
                return Err(e("conflicting options: cannot specify both --ip6 and per-network IPv6 address"));
            }
            if !aliases.is_empty() {
                n.aliases = aliases.clone();
            }
            n.ipv4 = n.ipv4.or(ip);
            n.ipv6 = n.ipv6.or(ip6);
        }
        if n.target.trim().is_empty() {
            return Err(e("no name set for network"));
        }
        if !mode.is_user_defined() && !n.aliases.is_empty() {
            return Err(e("network-scoped aliases are only supported for user-defined networks"));
        }
        if seen.contains(&n.target) {
            return Err(CliError::new(format!("network {} is specified multiple times", go_quote(&n.target)), sp));
        }
        seen.push(n.target.clone());
        let att = n.into_attachment().map_err(|m| CliError::new(m, sp))?;
        if (att.ipv4_address.is_some() || att.ipv6_address.is_some()) && !att.mode.is_user_defined() {
            // Daemon-side check.
            return Err(e(
                "Error response from daemon: user specified IP address is supported on user defined networks only",
            ));
        }
        out.push(att);
    }
    if has_user && has_non_user {
        return Err(CliError::new(
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes",
            default_span,
        ));
    }
    Ok(out)
}

/// `docker run`, or with `create` `docker create`: the same options, the container made
/// and not started.
fn run(c: Cmd, create: bool) -> Result<DockerCommand, CliError> {
    let (mut detach, mut interactive, mut tty, mut rm, mut publish_all) = (false, false, false, false, false);
    let mut name: Option<Spanned> = None;
    let mut nets = Vec::new();
    let (mut ip, mut ip6) = (None, None);
    let mut aliases = Vec::new();
    let mut publish: Vec<Spanned> = Vec::new();
    let mut env = Vec::new();
    let mut hostname = None;
    let mut mac: Option<Spanned> = None;
    let mut dns = Vec::new();
    let mut labels = BTreeMap::new();
    let mut others = Vec::new();
    let mut net_spans = Vec::new();
    let flags = if create { CREATE_FLAGS } else { RUN_FLAGS };
    let args = c.flags(flags, false, &mut |d, v, sp| {
        match d.long {
            "detach" => detach = is_true(v),
            "interactive" => interactive = is_true(v),
            "tty" => tty = is_true(v),
            "rm" => rm = is_true(v),
            "publish-all" => publish_all = is_true(v),
            "name" => name = Some((v.to_string(), sp)),
            "network" | "net" => {
                nets.push((parse_network_opt(v)?, sp));
                net_spans.push(sp);
            }
            "ip" => ip = pflag_ip(v)?,
            "ip6" => ip6 = pflag_ip(v)?,
            "network-alias" | "net-alias" => aliases.push(v.to_string()),
            "publish" => publish.push((v.to_string(), sp)),
            "env" => env.push(validate_env(v)?),
            "hostname" => hostname = Some(v.to_string()),
            "mac-address" => mac = Some((v.to_string(), sp)),
            "dns" => dns.push(validate_ip_address(v)?),
            "label" => {
                let (k, val) = validate_label(v)?;
                labels.insert(k, val);
            }
            _ => others.push(other(d, v)),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    let mac_address = match mac {
        Some((m, _)) if m.is_empty() => None,
        Some((m, sp)) => {
            Some(parse_mac(&m).ok_or_else(|| CliError::new(format!("{m} is not a valid mac address"), sp))?)
        }
        None => None,
    };
    let mut specs = Vec::new();
    for (raw, sp) in &publish {
        let std = convert_to_standard_notation(raw).map_err(|m| CliError::new(m, *sp))?;
        specs.push(parse_port_spec(&std).map_err(|m| CliError::new(m, *sp))?);
    }
    let all_nets = net_spans.iter().copied().reduce(Span::to).unwrap_or(c.path_span);
    let networks = container_networks(nets, aliases, ip, ip6, all_nets)?;
    let image = ImageRef::parse(&args[0].text).map_err(|m| CliError::new(m, args[0].span))?;
    let name = match name {
        Some((n, _)) if n.is_empty() => None,
        Some((n, sp)) if !valid_container_name(&n) => {
            // The daemon's check (the CLI passes the name on): worded as the daemon answers.
            return Err(CliError::new(
                format!("Error response from daemon: Invalid container name ({n}), {ERR_INVALID_NAME}"),
                sp,
            ));
        }
        Some((n, _)) => Some(n.strip_prefix('/').unwrap_or(&n).to_string()),
        None => None,
    };
    let run = Box::new(Run {
        detach,
        interactive,
        tty,
        rm,
        name,
        networks,
        publish: specs,
        publish_all,
        env,
        hostname,
        mac_address,
        dns,
        labels,
        other_flags: others,
        image,
        command: argv(&args[1..]),
    });
    Ok(if create { DockerCommand::Create(run) } else { DockerCommand::Run(run) })
}

fn exec(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[
        bs("detach", 'd'),
        bs("interactive", 'i'),
        bs("tty", 't'),
        vs("env", 'e'),
        vl("env-file"),
        vs("user", 'u'),
        vs("workdir", 'w'),
        bl("privileged"),
        vl("detach-keys"),
    ];
    let (mut detach, mut interactive, mut tty, mut privileged) = (false, false, false, false);
    let (mut env, mut user, mut workdir) = (Vec::new(), None, None);
    let args = c.flags(FLAGS, false, &mut |d, v, _| {
        match d.long {
            "detach" => detach = is_true(v),
            "interactive" => interactive = is_true(v),
            "tty" => tty = is_true(v),
            "privileged" => privileged = is_true(v),
            "env" => env.push(validate_env(v)?),
            "user" => user = Some(v.to_string()),
            "workdir" => workdir = Some(v.to_string()),
            _ => {}
        }
        Ok(())
    })?;
    c.min(&args, 2)?;
    Ok(DockerCommand::Exec(Exec {
        detach,
        interactive,
        tty,
        env,
        user,
        workdir,
        privileged,
        container: args[0].text.clone(),
        command: argv(&args[1..]),
    }))
}

fn rm(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("force", 'f'), bs("volumes", 'v'), bs("link", 'l')];
    let (mut force, mut volumes) = (false, false);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "force" => force = is_true(v),
            "volumes" => volumes = is_true(v),
            _ => {}
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::Rm(Rm { containers: texts(&args), force, volumes }))
}

fn stop(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("timeout", 't'), vl("time"), vs("signal", 's')];
    let (mut timeout, mut signal) = (None, None);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "signal" => signal = Some(v.to_string()),
            _ => timeout = Some(parse_int(v)?),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    let s = Stop { containers: texts(&args), timeout, signal };
    Ok(if c.path.ends_with("restart") { DockerCommand::Restart(s) } else { DockerCommand::Stop(s) })
}

fn kill(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("signal", 's')];
    let mut signal = None;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        signal = Some(v.to_string());
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::Kill(Kill { containers: texts(&args), signal }))
}

fn start(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] =
        &[bs("attach", 'a'), bs("interactive", 'i'), vl("detach-keys"), vl("checkpoint"), vl("checkpoint-dir")];
    let (mut attach, mut interactive) = (false, false);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "attach" => attach = is_true(v),
            "interactive" => interactive = is_true(v),
            _ => {}
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::Start(Start { containers: texts(&args), attach, interactive }))
}

fn ps(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[
        bs("all", 'a'),
        bs("quiet", 'q'),
        bl("no-trunc"),
        bs("latest", 'l'),
        bs("size", 's'),
        vs("last", 'n'),
        vs("filter", 'f'),
        vl("format"),
    ];
    let mut p = Ps {
        all: false,
        quiet: false,
        no_trunc: false,
        latest: false,
        size: false,
        last: -1,
        filters: vec![],
        format: None,
    };
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "all" => p.all = is_true(v),
            "quiet" => p.quiet = is_true(v),
            "no-trunc" => p.no_trunc = is_true(v),
            "latest" => p.latest = is_true(v),
            "size" => p.size = is_true(v),
            "last" => p.last = parse_int(v)?,
            // docker/cli `opts.FilterOpt.Set`.
            "filter" if !v.contains('=') => return Err("bad format of filter (expected name=value)".into()),
            "filter" => p.filters.push(v.to_string()),
            _ => p.format = Some(v.to_string()),
        }
        Ok(())
    })?;
    c.none(&args)?;
    Ok(DockerCommand::Ps(p))
}

fn inspect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("format", 'f'), bs("size", 's'), vl("type")];
    let (mut format, mut size, mut kind) = (None, false, None);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "format" => format = Some(v.to_string()),
            "size" => size = is_true(v),
            _ => kind = Some(v.to_string()),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::Inspect(Inspect { names: texts(&args), format, size, kind }))
}

fn network_prune(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("force", 'f'), vl("filter")];
    let mut force = false;
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        if d.long == "force" {
            force = is_true(v);
        }
        Ok(())
    })?;
    c.exact(&args, 0)?;
    Ok(DockerCommand::NetworkPrune(force))
}

/// `docker logs`: `--tail`/`-n` (a number or `all`); following, times and details are not
/// modelled.
fn logs(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] =
        &[vs("tail", 'n'), bs("follow", 'f'), bs("timestamps", 't'), vl("since"), vl("until"), bl("details")];
    let (mut tail, mut refused) = (None, None);
    let args = c.flags(FLAGS, true, &mut |d, v, at| {
        match d.long {
            // docker/cli passes the text on; the daemon reads a number, anything else as all.
            "tail" => tail = v.parse::<usize>().ok(),
            other => refused = refused.take().or(Some((other, at))),
        }
        Ok(())
    })?;
    if let Some((flag, at)) = refused {
        return Err(CliError::new(format!("netsim: docker logs --{flag} is not modelled"), at));
    }
    c.exact(&args, 1)?;
    Ok(DockerCommand::Logs(Logs { container: args[0].text.clone(), tail }))
}

/// `docker version` and `docker info`: a template, and no argument.
fn version(c: Cmd) -> Result<DockerCommand, CliError> {
    let format = format_only(&c)?;
    Ok(DockerCommand::Version(format))
}

fn info(c: Cmd) -> Result<DockerCommand, CliError> {
    let format = format_only(&c)?;
    Ok(DockerCommand::Info(format))
}

fn format_only(c: &Cmd) -> Result<Option<String>, CliError> {
    const FLAGS: &[FlagDef] = &[vs("format", 'f')];
    let mut format = None;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        format = Some(v.to_string());
        Ok(())
    })?;
    c.none(&args)?;
    Ok(format)
}

/// `docker images`: `--filter` and `--digests` are not modelled (the hosts' images have no
/// digests: nothing was pulled); `-a` changes nothing where no image has been built.
fn images(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] =
        &[bs("all", 'a'), bs("quiet", 'q'), bl("no-trunc"), vl("format"), bl("digests"), vs("filter", 'f')];
    let mut l = Images { reference: None, quiet: false, no_trunc: false, format: None };
    let mut refused = None;
    let args = c.flags(FLAGS, true, &mut |d, v, at| {
        match d.long {
            "quiet" => l.quiet = is_true(v),
            "no-trunc" => l.no_trunc = is_true(v),
            "format" => l.format = Some(v.to_string()),
            "all" => {}
            other => refused = refused.take().or(Some((other, at))),
        }
        Ok(())
    })?;
    if let Some((flag, at)) = refused {
        return Err(CliError::new(format!("netsim: {} --{flag} is not modelled", c.path), at));
    }
    c.max(&args, 1)?;
    l.reference = args.first().map(|w| w.text.clone());
    Ok(DockerCommand::Images(l))
}

/// `docker pull`: the reference is checked as docker/cli checks it; `--platform` and
/// `--disable-content-trust` change nothing without a registry.
fn pull(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("all-tags", 'a'), bs("quiet", 'q'), vl("platform"), bl("disable-content-trust")];
    let mut quiet = false;
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        if d.long == "quiet" {
            quiet = is_true(v);
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    let image = ImageRef::parse(&args[0].text).map_err(|m| CliError::new(m, args[0].span))?;
    Ok(DockerCommand::Pull(Pull { image, quiet }))
}

fn port(c: Cmd) -> Result<DockerCommand, CliError> {
    let args = c.flags(&[], true, &mut |_, _, _| Ok(()))?;
    if args.is_empty() || args.len() > 2 {
        return Err(CliError::new(format!("'{}' requires at least 1 and at most 2 arguments", c.path), c.path_span));
    }
    let t = texts(&args);
    Ok(DockerCommand::Port(Port { container: t[0].clone(), port: t.get(1).cloned() }))
}

// ---------------------------------------------------------------------------------------
// services and nodes

const SERVICE_CREATE_FLAGS: &[FlagDef] = &[
    vl("name"),
    vl("replicas"),
    vl("mode"),
    vl("network"),
    vs("publish", 'p'),
    vs("env", 'e'),
    vl("endpoint-mode"),
    vl("hostname"),
    vl("constraint"),
    bs("detach", 'd'),
    bs("quiet", 'q'),
    vl("max-concurrent"),
    vl("restart-condition"),
    vl("restart-delay"),
    vl("restart-max-attempts"),
    vl("stop-grace-period"),
    vl("update-delay"),
    vl("update-failure-action"),
    vl("update-max-failure-ratio"),
    vl("update-monitor"),
    vl("update-order"),
    vl("update-parallelism"),
    // Accepted and kept in `other_flags`.
    vl("cap-add"),
    vl("config"),
    vl("container-label"),
    vl("dns"),
    vl("entrypoint"),
    vl("env-file"),
    vl("group"),
    vl("health-cmd"),
    vl("host"),
    bl("init"),
    vs("label", 'l'),
    vl("limit-cpu"),
    vl("limit-memory"),
    vl("mount"),
    vl("placement-pref"),
    vl("replicas-max-per-node"),
    vl("reserve-cpu"),
    vl("reserve-memory"),
    vl("secret"),
    vl("sysctl"),
    bs("tty", 't'),
    vs("user", 'u'),
    bl("with-registry-auth"),
    vs("workdir", 'w'),
];

fn service_create(c: Cmd) -> Result<DockerCommand, CliError> {
    let mut name = None;
    let mut replicas: Option<(u64, Span)> = None;
    let mut mode = ("replicated".to_string(), c.path_span);
    let mut networks = Vec::new();
    let mut publish = Vec::new();
    let mut env = Vec::new();
    let mut endpoint = ("vip".to_string(), c.path_span);
    let mut hostname = None;
    let mut constraints = Vec::new();
    let (mut detach, mut quiet) = (false, false);
    let mut others = Vec::new();
    let mut labels = BTreeMap::new();
    let mut publish_span = None;
    let mut max_concurrent: Option<(u64, Span)> = None;
    let mut restart = RestartFlags::default();
    let mut update = UpdateFlags::default();
    let args = c.flags(SERVICE_CREATE_FLAGS, false, &mut |d, v, sp| {
        if update.read(d.long, v)? {
            return Ok(());
        }
        match d.long {
            "name" => name = Some(v.to_string()),
            "max-concurrent" => max_concurrent = Some((parse_uint(v, true, 64)?, sp)),
            // The daemon reads the condition (`Swarm::service_create`).
            "restart-condition" => restart.condition = Some(v.to_string()),
            "restart-delay" => restart.delay = Some(go_duration(v)?),
            "restart-max-attempts" => restart.max_attempts = Some(parse_uint(v, true, 64)?),
            "replicas" => replicas = Some((parse_uint(v, true, 64)?, sp)),
            "mode" => mode = (v.to_string(), sp),
            "network" => {
                let n = parse_network_opt(v)?;
                networks.push(ServiceNetwork { name: n.target, aliases: n.aliases, driver_opts: n.driver_opts });
            }
            "publish" => {
                publish.extend(parse_service_port(v)?);
                publish_span = Some(sp);
            }
            "env" => env.push(validate_env(v)?),
            "endpoint-mode" => endpoint = (v.to_string(), sp),
            "hostname" => hostname = Some(v.to_string()),
            "constraint" => constraints.push(v.to_string()),
            "detach" => detach = is_true(v),
            "quiet" => quiet = is_true(v),
            "label" => {
                let (k, val) = validate_label(v)?;
                labels.insert(k, val);
            }
            _ => others.push(other(d, v)),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    // opts.ToServiceMode
    let r = replicas.map(|(n, _)| n);
    let global_with_replicas = |sp: Span| {
        CliError::new(
            "replicas can only be used with replicated or replicated-job mode",
            replicas.map_or(sp, |(_, s)| s),
        )
    };
    if let Some((_, sp)) = max_concurrent.filter(|_| mode.0 != "replicated-job") {
        return Err(CliError::new("max-concurrent can only be used with replicated-job mode", sp));
    }
    let mode = match mode.0.as_str() {
        "replicated" => ServiceMode::Replicated { replicas: r },
        "replicated-job" => ServiceMode::ReplicatedJob { replicas: r, max_concurrent: max_concurrent.map(|(n, _)| n) },
        "global" | "global-job" if replicas.is_some() => return Err(global_with_replicas(mode.1)),
        "global" => ServiceMode::Global,
        "global-job" => ServiceMode::GlobalJob,
        m => {
            return Err(CliError::new(format!("Unknown mode: {m}, only replicated and global supported"), mode.1));
        }
    };
    let endpoint_mode = match endpoint.0.to_lowercase().as_str() {
        "vip" => EndpointMode::Vip,
        "dnsrr" => EndpointMode::Dnsrr,
        _ => return Err(CliError::new(format!("invalid ResolutionMode: {}", go_quote(&endpoint.0)), endpoint.1)),
    };
    if endpoint_mode == EndpointMode::Dnsrr && publish.iter().any(|p: &ServicePort| p.mode == PublishMode::Ingress) {
        return Err(CliError::new(
            "port published with ingress mode can't be used with dnsrr mode",
            publish_span.unwrap_or(endpoint.1),
        ));
    }
    let image = ImageRef::parse(&args[0].text).map_err(|m| CliError::new(m, args[0].span))?;
    Ok(DockerCommand::ServiceCreate(Box::new(ServiceCreate {
        name,
        mode,
        networks,
        publish,
        env,
        endpoint_mode,
        hostname,
        constraints,
        detach,
        quiet,
        labels,
        restart,
        update,
        other_flags: others,
        image,
        command: argv(&args[1..]),
    })))
}

/// Go's `time.ParseDuration`, as pflag's duration flags read their value: decimal numbers,
/// each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), as in `5s` or `1m30s`.
pub(super) fn go_duration(v: &str) -> Result<crate::engine::SimTime, String> {
    // Go's own words (src/time/format.go `ParseDuration`).
    let bad = || format!("time: invalid duration {}", go_quote(v));
    let mut rest = v.strip_prefix('+').unwrap_or(v);
    if rest == "0" {
        return Ok(crate::engine::SimTime::ZERO);
    }
    if rest.is_empty() || rest.starts_with('-') {
        return Err(bad());
    }
    let mut nanos = 0f64;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "" => return Err(format!("time: missing unit in duration {}", go_quote(v))),
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            unit => return Err(format!("time: unknown unit {} in duration {}", go_quote(unit), go_quote(v))),
        };
        rest = &rest[u..];
        nanos += number * scale;
    }
    Ok(crate::engine::SimTime::from_nanos(nanos as u64))
}

fn service_logs(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[
        vs("tail", 'n'),
        bl("no-task-ids"),
        bl("no-trunc"),
        bl("raw"),
        bl("no-resolve"),
        bs("follow", 'f'),
        bs("timestamps", 't'),
        bl("details"),
        vl("since"),
    ];
    let mut l = ServiceLogs { target: String::new(), tail: None, no_task_ids: false, no_trunc: false, raw: false };
    let mut refused = None;
    let args = c.flags(FLAGS, true, &mut |d, v, at| {
        match d.long {
            // As for `docker logs`: the daemon reads a number, anything else as all.
            "tail" => l.tail = v.parse::<usize>().ok(),
            "no-task-ids" => l.no_task_ids = is_true(v),
            "no-trunc" => l.no_trunc = is_true(v),
            "raw" => l.raw = is_true(v),
            other => refused = refused.take().or(Some((other, at))),
        }
        Ok(())
    })?;
    if let Some((flag, at)) = refused {
        return Err(CliError::new(format!("netsim: docker service logs --{flag} is not modelled"), at));
    }
    c.exact(&args, 1)?;
    l.target = args[0].text.clone();
    Ok(DockerCommand::ServiceLogs(l))
}

fn service_scale(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("detach", 'd')];
    let mut detach = false;
    let args = c.flags(FLAGS, true, &mut |_, v, _| {
        detach = is_true(v);
        Ok(())
    })?;
    c.min(&args, 1)?;
    for a in &args {
        match a.text.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {}
            _ => return Err(CliError::new(format!("Invalid scale specifier '{}'.", a.text), a.span)),
        }
    }
    let mut targets = Vec::new();
    for a in &args {
        let (svc, num) = a.text.split_once('=').unwrap_or_default();
        let replicas = parse_uint(num, false, 64)
            .map_err(|e| CliError::new(format!("{svc}: invalid replicas value {num}: {e}"), a.span))?;
        targets.push(ServiceScaleTarget { service: svc.to_string(), replicas });
    }
    Ok(DockerCommand::ServiceScale(ServiceScale { targets, detach }))
}

/// `docker service update`'s flags: the ones modelled, then the rest of docker/cli's
/// (`cli/command/service/update.go`), accepted by the parser and refused as not supported.
/// `--max-concurrent` is one of the flags create and update share (`addServiceFlags`), which
/// update never reads: accepted, it changes nothing but is an update all the same.
const SERVICE_UPDATE_FLAGS: &[FlagDef] = &[
    vl("replicas"),
    bs("detach", 'd'),
    bs("quiet", 'q'),
    bl("force"),
    vl("max-concurrent"),
    vl("args"),
    vl("cap-add"),
    vl("cap-drop"),
    vl("constraint-add"),
    vl("constraint-rm"),
    vl("container-label-add"),
    vl("container-label-rm"),
    vl("dns-add"),
    vl("dns-rm"),
    vl("endpoint-mode"),
    vl("entrypoint"),
    vl("env-add"),
    vl("env-rm"),
    vl("health-cmd"),
    vl("hostname"),
    vl("image"),
    bl("init"),
    vl("label-add"),
    vl("label-rm"),
    vl("limit-cpu"),
    vl("limit-memory"),
    vl("mount-add"),
    vl("mount-rm"),
    vl("network-add"),
    vl("network-rm"),
    vl("publish-add"),
    vl("publish-rm"),
    vl("replicas-max-per-node"),
    vl("reserve-cpu"),
    vl("reserve-memory"),
    vl("restart-condition"),
    vl("restart-delay"),
    vl("restart-max-attempts"),
    bl("rollback"),
    vl("secret-add"),
    vl("secret-rm"),
    vl("stop-grace-period"),
    vl("update-delay"),
    vl("update-failure-action"),
    vl("update-max-failure-ratio"),
    vl("update-monitor"),
    vl("update-order"),
    vl("update-parallelism"),
    vs("user", 'u'),
    bl("with-registry-auth"),
    vs("workdir", 'w'),
];

fn service_update(c: Cmd) -> Result<DockerCommand, CliError> {
    let mut u = ServiceUpdate::default();
    let mut other: Option<(String, Span)> = None;
    let args = c.flags(SERVICE_UPDATE_FLAGS, true, &mut |d, v, sp| {
        if u.update.read(d.long, v)? {
            return Ok(());
        }
        match d.long {
            "replicas" => u.replicas = Some(parse_uint(v, true, 64)?),
            "detach" => u.detach = is_true(v),
            "quiet" => u.quiet = is_true(v),
            "rollback" => u.rollback = is_true(v),
            "force" => u.force = is_true(v),
            "image" => u.image = Some(v.to_string()),
            "constraint-add" => u.constraint_add.push(v.to_string()),
            "constraint-rm" => u.constraint_rm.push(v.to_string()),
            "env-add" => u.env_add.push(validate_env(v)?),
            "env-rm" => u.env_rm.push(v.split('=').next().unwrap_or(v).to_string()),
            "network-add" => {
                let n = parse_network_opt(v)?;
                u.network_add.push(ServiceNetwork { name: n.target, aliases: n.aliases, driver_opts: n.driver_opts });
            }
            "network-rm" => u.network_rm.push(v.to_string()),
            "publish-add" => u.publish_add.extend(parse_service_port(v)?),
            "publish-rm" => u.publish_rm.extend(parse_service_port(v)?),
            "max-concurrent" => {
                parse_uint(v, true, 64)?;
            }
            long => {
                other.get_or_insert((long.to_string(), sp));
            }
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    if let Some((long, sp)) = other {
        return Err(unsupported(&format!("{} --{long}", c.path), sp));
    }
    u.service = args[0].text.clone();
    Ok(DockerCommand::ServiceUpdate(Box::new(u)))
}

/// `docker service rollback [-d] [-q] SERVICE`: `service update --rollback` (docker/cli
/// `cli/command/service/rollback.go` sends the same update).
fn service_rollback(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("detach", 'd'), bs("quiet", 'q')];
    let mut u = ServiceUpdate { rollback: true, ..Default::default() };
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "detach" => u.detach = is_true(v),
            _ => u.quiet = is_true(v),
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    u.service = args[0].text.clone();
    Ok(DockerCommand::ServiceUpdate(Box::new(u)))
}

fn service_inspect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("format", 'f'), bl("pretty")];
    let (mut format, mut pretty) = (None, false);
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "format" => format = Some(v.to_string()),
            _ => pretty = is_true(v),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    Ok(DockerCommand::ServiceInspect(ServiceInspect { services: texts(&args), format, pretty }))
}

fn node_ps(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("quiet", 'q'), bl("no-trunc"), bl("no-resolve"), vs("filter", 'f'), vl("format")];
    let mut quiet = false;
    let mut other: Option<(String, Span)> = None;
    let args = c.flags(FLAGS, true, &mut |d, v, sp| {
        match d.long {
            "quiet" => quiet = is_true(v),
            long => {
                other.get_or_insert((long.to_string(), sp));
            }
        }
        Ok(())
    })?;
    if let Some((long, sp)) = other {
        return Err(unsupported(&format!("{} --{long}", c.path), sp));
    }
    let nodes = if args.is_empty() { vec!["self".to_string()] } else { texts(&args) };
    Ok(DockerCommand::NodePs(NodePs { nodes, quiet }))
}

fn node_inspect(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vs("format", 'f'), bl("pretty")];
    let mut format = None;
    let mut pretty: Option<Span> = None;
    let args = c.flags(FLAGS, true, &mut |d, v, sp| {
        match d.long {
            "format" => format = Some(v.to_string()),
            _ if is_true(v) => pretty = Some(sp),
            _ => {}
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    if let Some(sp) = pretty {
        return Err(unsupported(&format!("{} --pretty", c.path), sp));
    }
    Ok(DockerCommand::NodeInspect(NodeInspect { nodes: texts(&args), format }))
}

fn service_rm(c: Cmd) -> Result<DockerCommand, CliError> {
    let args = c.flags(&[], true, &mut |_, _, _| Ok(()))?;
    c.min(&args, 1)?;
    Ok(DockerCommand::ServiceRm(ServiceRm { services: texts(&args) }))
}

fn service_ps(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[bs("quiet", 'q'), bl("no-trunc"), bl("no-resolve"), vs("filter", 'f'), vl("format")];
    let mut p =
        ServicePs { services: vec![], quiet: false, no_trunc: false, no_resolve: false, filters: vec![], format: None };
    let args = c.flags(FLAGS, true, &mut |d, v, _| {
        match d.long {
            "quiet" => p.quiet = is_true(v),
            "no-trunc" => p.no_trunc = is_true(v),
            "no-resolve" => p.no_resolve = is_true(v),
            "filter" => p.filters.push(v.to_string()),
            _ => p.format = Some(v.to_string()),
        }
        Ok(())
    })?;
    c.min(&args, 1)?;
    p.services = texts(&args);
    Ok(DockerCommand::ServicePs(p))
}

fn service_ls(c: Cmd) -> Result<DockerCommand, CliError> {
    let o = list_opts(&c, LIST_FLAGS_NO_TRUNC_LESS)?;
    Ok(DockerCommand::ServiceLs(ServiceLs { quiet: o.quiet, filters: o.filters, format: o.format }))
}

fn node_ls(c: Cmd) -> Result<DockerCommand, CliError> {
    let o = list_opts(&c, LIST_FLAGS_NO_TRUNC_LESS)?;
    Ok(DockerCommand::NodeLs(NodeLs { quiet: o.quiet, filters: o.filters, format: o.format }))
}

fn node_update(c: Cmd) -> Result<DockerCommand, CliError> {
    const FLAGS: &[FlagDef] = &[vl("availability"), vl("role"), vl("label-add"), vl("label-rm")];
    let (mut availability, mut role): (Option<Spanned>, Option<Spanned>) = (None, None);
    let (mut label_add, mut label_rm) = (Vec::new(), Vec::new());
    let args = c.flags(FLAGS, true, &mut |d, v, sp| {
        match d.long {
            "availability" => availability = Some((v.to_string(), sp)),
            "role" => role = Some((v.to_string(), sp)),
            "label-add" => label_add.push(v.to_string()),
            _ => label_rm.push(v.to_string()),
        }
        Ok(())
    })?;
    c.exact(&args, 1)?;
    // Validated daemon-side (convert.NodeSpecToGRPC), role first.
    let role = match role {
        None => None,
        Some((r, sp)) => Some(match r.to_uppercase().as_str() {
            "WORKER" => NodeRole::Worker,
            "MANAGER" => NodeRole::Manager,
            _ => return Err(CliError::new(format!("Error response from daemon: invalid Role: {}", go_quote(&r)), sp)),
        }),
    };
    let availability = match availability {
        None => None,
        Some((a, sp)) => Some(match a.to_uppercase().as_str() {
            "ACTIVE" => NodeAvailability::Active,
            "PAUSE" => NodeAvailability::Pause,
            "DRAIN" => NodeAvailability::Drain,
            _ => {
                return Err(CliError::new(
                    format!("Error response from daemon: invalid Availability: {}", go_quote(&a)),
                    sp,
                ));
            }
        }),
    };
    Ok(DockerCommand::NodeUpdate(NodeUpdate { node: args[0].text.clone(), availability, role, label_add, label_rm }))
}
