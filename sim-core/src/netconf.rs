//! The commands that change a machine's network while a lab runs, the faults a lab injects:
//! `ip link set DEV down|up`, `tc qdisc add|replace|change|del dev DEV root netem …`,
//! `iptables -A|-I|-D …` and `bridge link set dev DEV hairpin|learning|flood|… on|off`.
//!
//! A command is parsed when the file loads (`parse`) and changes the plan of the namespace
//! it is typed in (`apply`); the run applies the plan's change to the world as it applies a
//! Docker step's, and the kernel backend does the same with `ip` and `tc` (netem's parts the
//! kernel here lacks are realised as `netns` says). The errors are iproute2's, in its words
//! and exit statuses.

use crate::kernel::qdisc::Netem;
use crate::plan::{BrPortPlan, DevPlan, IptablesPlan, Plan, QdiscPlan};
use crate::tools::ToolError;

/// A command that changes the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetCmd {
    /// `ip link set [dev] DEV up|down`.
    LinkSet { dev: String, up: bool },
    /// `tc qdisc add|replace|change|del dev DEV root [netem ARGS]`.
    Qdisc { op: QdiscOp, dev: String, netem: Option<String> },
    /// `iptables [-t TABLE] -A|-I|-D|-R|-N|-X|-F|-Z|-P …`: `rule` is the command after the
    /// table, as a plan's iptables line holds it.
    Iptables { table: String, rule: String },
    /// `bridge link set dev DEV FLAG on|off …`: the flags in the order typed.
    BridgeLinkSet { dev: String, flags: Vec<(String, bool)> },
}

/// iptables' commands that change a table; `-S`, `-L` only look (`tools`).
const IPTABLES_CHANGES: [&str; 18] = [
    "-A",
    "--append",
    "-I",
    "--insert",
    "-D",
    "--delete",
    "-R",
    "--replace",
    "-N",
    "--new-chain",
    "-X",
    "--delete-chain",
    "-F",
    "--flush",
    "-Z",
    "--zero",
    "-P",
    "--policy",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QdiscOp {
    Add,
    Replace,
    Change,
    Del,
}

fn fail(message: impl Into<String>, status: u8) -> ToolError {
    ToolError { message: message.into(), status }
}

/// Recognises a command that changes the network; `None` for any other command line
/// (`ip addr`, which only looks, is `tools`').
pub fn parse(words: &[String]) -> Option<Result<NetCmd, ToolError>> {
    let prog = words.first()?;
    let base = prog.rsplit('/').next().unwrap_or(prog);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    match base {
        "ip" => {
            let link = matches!(args.first(), Some(&("l" | "li" | "lin" | "link")));
            let set = matches!(args.get(1), Some(&("set" | "s" | "se")));
            // `ip link s` is `show` for iproute2 (the first match in its table), not set.
            if !(link && set && args.get(1) != Some(&"s")) {
                return None;
            }
            Some(ip_link_set(&args[2..]))
        }
        "iptables" if args.iter().any(|a| IPTABLES_CHANGES.contains(a)) => Some(iptables(&args)),
        // `tc qdisc [show]` only looks: `tools`'.
        "tc" if !matches!(args.get(1), None | Some(&("show" | "list" | "ls" | "s"))) => Some(tc(&args)),
        "tc" if args.first().is_some_and(|o| !matches!(*o, "qdisc" | "qd" | "q")) => Some(tc(&args)),
        // `bridge link s` is `set` for bridge (`matches` tries "set" first), unlike `ip link s`.
        "bridge"
            if matches!(args.first(), Some(&("l" | "li" | "lin" | "link")))
                && matches!(args.get(1), Some(&("s" | "se" | "set" | "change"))) =>
        {
            Some(bridge_link_set(&args[2..]))
        }
        _ => None,
    }
}

/// The word after option `i` (`dev NAME`), or iproute2's complaint.
fn value_after<'a>(args: &[&'a str], i: usize) -> Result<&'a str, ToolError> {
    args.get(i + 1).copied().ok_or_else(|| fail("Command line is not complete. Try option \"help\"", 255))
}

fn ip_link_set(args: &[&str]) -> Result<NetCmd, ToolError> {
    let mut dev = None;
    let mut up = None;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "dev" => {
                dev = Some(value_after(args, i)?);
                i += 2;
            }
            "up" => {
                up = Some(true);
                i += 1;
            }
            "down" => {
                up = Some(false);
                i += 1;
            }
            w if dev.is_none() && !w.starts_with('-') => {
                dev = Some(args[i]);
                i += 1;
            }
            w => {
                return Err(fail(
                    format!("netsim: `ip link set … {w}`: the simulator sets a device up or down, nothing else"),
                    1,
                ));
            }
        }
    }
    let dev = dev.ok_or_else(|| fail("Not enough information: \"dev\" argument is required.", 255))?;
    let up = up.ok_or_else(|| fail("netsim: `ip link set DEV` needs `up` or `down` here", 1))?;
    Ok(NetCmd::LinkSet { dev: dev.to_string(), up })
}

/// The options of `bridge link set` in iproute2 6.1 (bridge/link.c, `brlink_modify`) that
/// the simulator does not model: they parse, and say so.
const BRLINK_UNMODELLED: [&str; 16] = [
    "cost",
    "priority",
    "state",
    "guard",
    "root_block",
    "fastleave",
    "learning_sync",
    "mcast_router",
    "mcast_to_unicast",
    "neigh_suppress",
    "vlan_tunnel",
    "locked",
    "hwmode",
    "backup_port",
    "nobackup_port",
    "self",
];

/// What iproute2 6.1's `bridge` prints for a word `bridge link set` does not know.
const BRLINK_USAGE: &str = "Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
                               [ guard {on | off} ]
                               [ hairpin {on | off} ]
                               [ fastleave {on | off} ]
                               [ root_block {on | off} ]
                               [ learning {on | off} ]
                               [ learning_sync {on | off} ]
                               [ flood {on | off} ]
                               [ mcast_router MULTICAST_ROUTER ]
                               [ mcast_flood {on | off} ]
                               [ bcast_flood {on | off} ]
                               [ mcast_to_unicast {on | off} ]
                               [ neigh_suppress {on | off} ]
                               [ vlan_tunnel {on | off} ]
                               [ isolated {on | off} ]
                               [ locked {on | off} ]
                               [ hwmode {vepa | veb} ]
                               [ backup_port DEVICE ] [ nobackup_port ]
                               [ self ] [ master ]
       bridge link show [dev DEV]";

/// `bridge link set dev DEV [FLAG on|off]…`, with iproute2's complaints and exit statuses
/// (a bad on/off is `-EINVAL` returned from main: 234).
fn bridge_link_set(args: &[&str]) -> Result<NetCmd, ToolError> {
    let usage = || fail(BRLINK_USAGE, 255);
    let mut dev = None;
    let mut flags = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let w = args[i];
        match w {
            "dev" => dev = Some(value_after(args, i)?),
            "hairpin" | "learning" | "flood" | "mcast_flood" | "bcast_flood" | "isolated" => {
                let v = value_after(args, i)?;
                let on = match v {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(fail(
                            format!("Error: argument of \"{w}\" must be one of \"off\", \"on\", not \"{v}\""),
                            234,
                        ));
                    }
                };
                flags.push((w.to_string(), on));
            }
            "master" => {
                i += 1;
                continue;
            }
            _ if BRLINK_UNMODELLED.contains(&w) => {
                return Err(fail(
                    format!(
                        "netsim: `bridge link set … {w}`: the simulator models hairpin, learning, flood, mcast_flood, bcast_flood and isolated"
                    ),
                    1,
                ));
            }
            _ => return Err(usage()),
        }
        i += 2;
    }
    let dev = dev.ok_or_else(|| fail("Device is a required argument.", 255))?;
    Ok(NetCmd::BridgeLinkSet { dev: dev.to_string(), flags })
}

/// `iptables [-w] [-t TABLE] COMMAND …`: the table apart, the rest as written.
fn iptables(args: &[&str]) -> Result<NetCmd, ToolError> {
    let mut table = "filter".to_string();
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-w" | "--wait" => {}
            "-t" | "--table" => {
                let name = args
                    .get(i + 1)
                    .ok_or_else(|| fail("iptables v1.8.9 (nf_tables): option \"-t\" requires an argument", 2))?;
                if crate::kernel::netfilter::Table::from_name(name).is_none() {
                    return Err(fail(
                        format!(
                            "iptables v1.8.9 (nf_tables): table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded."
                        ),
                        3,
                    ));
                }
                table = name.to_string();
                i += 1;
            }
            w => rest.push(w),
        }
        i += 1;
    }
    // Words with spaces (a comment) go back in quotes, as a plan's line writes them.
    let rule: Vec<String> =
        rest.iter().map(|w| if w.contains(char::is_whitespace) { format!("\"{w}\"") } else { w.to_string() }).collect();
    Ok(NetCmd::Iptables { table, rule: rule.join(" ") })
}

fn tc(args: &[&str]) -> Result<NetCmd, ToolError> {
    let unmodelled = |what: &str| {
        fail(
            format!("netsim: `tc {what}`: the simulator models `tc qdisc add|replace|change|del dev DEV root netem …`"),
            1,
        )
    };
    let Some((obj, rest)) = args.split_first() else {
        return Err(fail("Usage: tc [ OPTIONS ] OBJECT { COMMAND | help }", 255));
    };
    if !matches!(*obj, "qdisc" | "qd" | "q") {
        return Err(unmodelled(&args.join(" ")));
    }
    let Some((verb, rest)) = rest.split_first() else { return Err(unmodelled(&args.join(" "))) };
    let op = match *verb {
        "add" | "a" => QdiscOp::Add,
        "replace" | "r" => QdiscOp::Replace,
        "change" | "c" => QdiscOp::Change,
        "delete" | "del" | "d" => QdiscOp::Del,
        _ => return Err(unmodelled(&args.join(" "))),
    };
    let mut dev = None;
    let mut root = false;
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            "dev" => {
                dev = Some(value_after(rest, i)?);
                i += 2;
            }
            "root" => {
                root = true;
                i += 1;
            }
            "netem" => break,
            w => {
                return Err(fail(
                    format!(
                        "netsim: `tc qdisc … {w}`: only a root netem qdisc is modelled (`tc qdisc add dev DEV root netem …`)"
                    ),
                    1,
                ));
            }
        }
    }
    let dev = dev.ok_or_else(|| fail("Cannot find device \"\"", 1))?;
    if !root {
        return Err(fail("netsim: `tc qdisc` without `root`: only a device's root qdisc is modelled", 1));
    }
    let netem = match rest.get(i) {
        Some(_) => {
            let words = &rest[i + 1..];
            Netem::parse(words).map_err(|m| fail(m, 1))?;
            Some(words.join(" "))
        }
        None if op == QdiscOp::Del => None,
        None => return Err(fail("netsim: `tc qdisc` needs a kind here: `netem …`", 1)),
    };
    Ok(NetCmd::Qdisc { op, dev: dev.to_string(), netem })
}

/// Whether namespace `ns` of `plan` has a device `dev` (its loopback included).
fn has_dev(plan: &Plan, ns: &str, dev: &str) -> bool {
    dev == "lo"
        || plan.links.iter().any(|l| {
            (l.ns() == ns && l.name() == dev)
                || matches!(l, crate::plan::Link::Veth { peer, peer_ns, .. } if peer_ns == ns && peer == dev)
        })
}

/// Applies `cmd`, typed in namespace `ns`, to `own` (the part of the plan the lab owns, not
/// a daemon) or, for iptables, to `typed` (rules typed in steps, which run after the daemons'
/// own, as commands typed after dockerd set up its chains); `now` is the whole plan as the
/// machine has it, to find devices and rules in. Returns what the command prints; an error
/// changes nothing.
pub fn apply(
    cmd: &NetCmd,
    ns: &str,
    now: &Plan,
    own: &mut Plan,
    typed: &mut Vec<IptablesPlan>,
) -> Result<String, ToolError> {
    let dev = match cmd {
        NetCmd::LinkSet { dev, .. } | NetCmd::Qdisc { dev, .. } => dev,
        NetCmd::BridgeLinkSet { dev, flags } => return bridge_port(ns, dev, flags, now, own),
        NetCmd::Iptables { table, rule } => {
            iptables_check(now, ns, table, rule)?;
            typed.push(IptablesPlan { ns: ns.to_string(), table: table.clone(), rule: rule.clone() });
            return Ok(String::new());
        }
    };
    if !has_dev(now, ns, dev) {
        return Err(fail(format!("Cannot find device \"{dev}\""), 1));
    }
    let here = |x: &DevPlan| x.ns == ns && x.dev == *dev;
    match cmd {
        NetCmd::LinkSet { up: true, .. } => own.down.retain(|x| !here(x)),
        NetCmd::LinkSet { up: false, .. } => {
            if !own.down.iter().any(here) {
                own.down.push(DevPlan { ns: ns.to_string(), dev: dev.clone() });
                // What the kernel takes away with the device and does not give back when it
                // comes up again: routes through it added by hand, and its neighbours.
                let subnets: Vec<crate::plan::Ipv4Net> =
                    now.addresses.iter().filter(|a| a.ns == ns && a.dev == *dev).map(|a| a.addr).collect();
                own.routes.retain(|r| {
                    let through = match (&r.dev, r.via) {
                        (Some(d), _) => d == dev,
                        (None, Some(gw)) => subnets.iter().any(|s| s.contains(gw)),
                        (None, None) => false,
                    };
                    !(r.ns == ns && through)
                });
                own.neighbours.retain(|n| !(n.ns == ns && n.dev == *dev));
            }
        }
        NetCmd::Iptables { .. } | NetCmd::BridgeLinkSet { .. } => {}
        NetCmd::Qdisc { op, netem, .. } => {
            let at = own.qdiscs.iter().position(|q| q.ns == ns && q.dev == *dev);
            let new = || QdiscPlan { ns: ns.to_string(), dev: dev.clone(), netem: netem.clone().unwrap_or_default() };
            match (op, at) {
                (QdiscOp::Add, Some(_)) => return Err(fail("Error: Exclusivity flag on, cannot modify.", 2)),
                (QdiscOp::Add | QdiscOp::Replace, None) => own.qdiscs.push(new()),
                (QdiscOp::Replace | QdiscOp::Change, Some(i)) => own.qdiscs[i] = new(),
                (QdiscOp::Change, None) => {
                    return Err(fail("Error: Qdisc not found. To create specify NLM_F_CREATE flag.", 2));
                }
                (QdiscOp::Del, Some(i)) => {
                    own.qdiscs.remove(i);
                }
                (QdiscOp::Del, None) => return Err(fail("Error: Cannot delete qdisc with handle of zero.", 2)),
            }
        }
    }
    Ok(String::new())
}

/// `bridge link set`: the port's entry in `own` becomes what the flags make of the port's
/// flags as `now` has them; an entry back at the kernel's defaults goes.
fn bridge_port(ns: &str, dev: &str, flags: &[(String, bool)], now: &Plan, own: &mut Plan) -> Result<String, ToolError> {
    if dev == "lo" || !has_dev(now, ns, dev) {
        return Err(fail(format!("Cannot find bridge device \"{dev}\""), 255));
    }
    // Not a port (a bridge itself included): the kernel has no flags for it to set.
    if now.master_of(ns, dev).is_none() {
        return Err(fail("RTNETLINK answers: Operation not supported", 255));
    }
    let here = |x: &BrPortPlan| x.ns == ns && x.dev == dev;
    let mut port = now.bridge_ports.iter().find(|x| here(x)).cloned().unwrap_or_else(|| BrPortPlan::new(ns, dev));
    for (name, on) in flags {
        port.set(name, *on);
    }
    own.bridge_ports.retain(|x| !here(x));
    if !port.is_default() {
        own.bridge_ports.push(port);
    }
    Ok(String::new())
}

/// Whether `rule` runs in `ns`'s tables as `now` has them: iptables' own error if not.
fn iptables_check(now: &Plan, ns: &str, table: &str, rule: &str) -> Result<(), ToolError> {
    use crate::kernel::netfilter::{Netfilter, Table};
    let mut nf = Netfilter::new();
    for l in now.iptables.iter().filter(|l| l.ns == ns) {
        if let Some(t) = Table::from_name(&l.table) {
            let _ = nf.exec(t, &l.rule);
        }
    }
    let t = Table::from_name(table).unwrap_or(Table::Filter);
    nf.exec(t, rule).map_err(|e| iptables_error(&e.message))
}

/// What iptables 1.8.9 (nf_tables) prints for a command the tables refuse, and its exit
/// status: 1 for what the kernel refused, 2 for a bad command line (seen on this machine).
fn iptables_error(m: &str) -> ToolError {
    let kernel = |t: &str| fail(format!("iptables: {t}"), 1);
    if m.starts_with("bad rule") {
        kernel("Bad rule (does a matching rule exist in that chain?).")
    } else if m.starts_with("chain `") && m.contains("does not exist") {
        kernel("No chain/target/match by that name.")
    } else if m.contains("already exists") {
        kernel("Chain already exists.")
    } else if m.contains("is not empty") {
        kernel("Directory not empty.")
    } else if m.contains("index of") {
        kernel("Index of deletion too big.")
    } else if let Some(target) = m.strip_prefix("unknown target or chain `").and_then(|r| r.split('`').next()) {
        fail(
            format!(
                "iptables v1.8.9 (nf_tables): Chain '{target}' does not exist\nTry `iptables -h' or 'iptables --help' for more information."
            ),
            2,
        )
    } else {
        fail(
            format!("iptables v1.8.9 (nf_tables): {m}\nTry `iptables -h' or 'iptables --help' for more information."),
            2,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn lab() -> Plan {
        let text = r#"(
            namespaces: [(name: "a"), (name: "b")],
            links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
            addresses: [(ns: "a", dev: "eth0", addr: "10.0.0.1/24")],
            routes: [(ns: "a", dst: "10.9.0.0/16", via: Some("10.0.0.2")), (ns: "a", dst: "default", dev: Some("eth0"))],
            neighbours: [(ns: "a", dev: "eth0", ip: "10.0.0.2", lladdr: "02:00:00:00:00:02")],
        )"#;
        ron::from_str(text).unwrap()
    }

    #[test]
    fn reads_what_students_type() {
        let p = |s: &str| parse(&words(s));
        assert_eq!(p("ip link set eth0 down"), Some(Ok(NetCmd::LinkSet { dev: "eth0".into(), up: false })));
        assert_eq!(p("ip l set dev eth0 up"), Some(Ok(NetCmd::LinkSet { dev: "eth0".into(), up: true })));
        assert_eq!(p("ip link show"), None, "looking is tools'");
        assert_eq!(p("ip link s eth0"), None, "`s` is show");
        assert_eq!(
            p("tc qdisc add dev eth1 root netem delay 50ms loss 20%"),
            Some(Ok(NetCmd::Qdisc { op: QdiscOp::Add, dev: "eth1".into(), netem: Some("delay 50ms loss 20%".into()) }))
        );
        assert_eq!(
            p("tc qdisc del dev eth1 root"),
            Some(Ok(NetCmd::Qdisc { op: QdiscOp::Del, dev: "eth1".into(), netem: None }))
        );
        let e = p("tc qdisc add dev eth1 root tbf rate 1mbit").unwrap().unwrap_err();
        assert!(e.message.starts_with("netsim:"), "{e:?}");
        let e = p("tc qdisc add dev eth1 root netem dleay 5ms").unwrap().unwrap_err();
        assert!(e.message.starts_with("What is \"dleay\"?"), "{e:?}");
        assert_eq!(p("ip link set eth0").unwrap().unwrap_err().status, 1);
    }

    #[test]
    fn down_takes_routes_and_neighbours_through_the_device_for_good() {
        let now = lab();
        let mut own = lab();
        let down = NetCmd::LinkSet { dev: "eth0".into(), up: false };
        apply(&down, "a", &now, &mut own, &mut Vec::new()).unwrap();
        assert_eq!(own.down, vec![DevPlan { ns: "a".into(), dev: "eth0".into() }]);
        assert!(own.routes.is_empty(), "both routes went through eth0: {:?}", own.routes);
        assert!(own.neighbours.is_empty());
        apply(&NetCmd::LinkSet { dev: "eth0".into(), up: true }, "a", &now, &mut own, &mut Vec::new()).unwrap();
        assert!(own.down.is_empty());
        assert!(own.routes.is_empty(), "routes added by hand do not come back");
        let e = apply(&NetCmd::LinkSet { dev: "eth9".into(), up: false }, "a", &now, &mut own, &mut Vec::new())
            .unwrap_err();
        assert_eq!((e.message.as_str(), e.status), ("Cannot find device \"eth9\"", 1));
        // The peer end lives in b under its own name.
        apply(&down, "b", &now, &mut own, &mut Vec::new()).unwrap();
    }

    #[test]
    fn iptables_commands_change_the_typed_rules_and_fail_in_iptables_words() {
        let now = lab();
        let mut own = lab();
        let mut typed = Vec::new();
        let cmd = |s: &str| parse(&words(s)).expect("a change").expect("parses");
        assert_eq!(parse(&words("iptables -S FORWARD")), None, "looking is tools'");
        let drop = cmd("iptables -w -t filter -A FORWARD -s 10.0.0.9 -j DROP");
        assert_eq!(drop, NetCmd::Iptables { table: "filter".into(), rule: "-A FORWARD -s 10.0.0.9 -j DROP".into() });
        apply(&drop, "a", &now, &mut own, &mut typed).unwrap();
        assert_eq!(typed.len(), 1);
        // Seen with iptables 1.8.9 (nf_tables) in a fresh namespace: text and exit status.
        let mut e = |s: &str| apply(&cmd(s), "a", &now, &mut own, &mut Vec::new()).unwrap_err();
        let bad = e("iptables -D FORWARD -s 1.2.3.4 -j DROP");
        assert_eq!(
            (bad.message.as_str(), bad.status),
            ("iptables: Bad rule (does a matching rule exist in that chain?).", 1)
        );
        let nochain = e("iptables -A NOPE -j DROP");
        assert_eq!((nochain.message.as_str(), nochain.status), ("iptables: No chain/target/match by that name.", 1));
        let target = e("iptables -A FORWARD -j NOPE");
        assert_eq!(target.status, 2);
        assert!(target.message.starts_with("iptables v1.8.9 (nf_tables): Chain 'NOPE' does not exist\n"), "{target:?}");
        let t = parse(&words("iptables -t bogus -A X")).unwrap().unwrap_err();
        assert_eq!(t.status, 3);
    }

    #[test]
    fn qdisc_verbs_fail_as_tc_does() {
        let now = lab();
        let mut own = lab();
        let q = |op, netem: Option<&str>| NetCmd::Qdisc { op, dev: "eth0".into(), netem: netem.map(String::from) };
        let err = |r: Result<String, ToolError>| r.unwrap_err().message;
        assert_eq!(
            err(apply(&q(QdiscOp::Change, Some("loss 1%")), "a", &now, &mut own, &mut Vec::new())),
            "Error: Qdisc not found. To create specify NLM_F_CREATE flag."
        );
        assert_eq!(
            err(apply(&q(QdiscOp::Del, None), "a", &now, &mut own, &mut Vec::new())),
            "Error: Cannot delete qdisc with handle of zero."
        );
        apply(&q(QdiscOp::Add, Some("loss 1%")), "a", &now, &mut own, &mut Vec::new()).unwrap();
        assert_eq!(
            err(apply(&q(QdiscOp::Add, Some("loss 2%")), "a", &now, &mut own, &mut Vec::new())),
            "Error: Exclusivity flag on, cannot modify."
        );
        apply(&q(QdiscOp::Change, Some("delay 10ms")), "a", &now, &mut own, &mut Vec::new()).unwrap();
        assert_eq!(own.qdiscs[0].netem, "delay 10ms");
        apply(&q(QdiscOp::Del, None), "a", &now, &mut own, &mut Vec::new()).unwrap();
        assert!(own.qdiscs.is_empty());
    }

    /// `bridge link set` as iproute2 6.1 and this kernel answered it (typed on this machine
    /// against a bridge with one port `va` and a lone veth `vb`).
    #[test]
    fn bridge_link_set_changes_a_port_and_fails_in_bridge_words() {
        let text = r#"(
            namespaces: [(name: "n")],
            links: [Bridge(name: "br0", ns: "n"), Veth(name: "va", ns: "n", peer: "vb", peer_ns: "n", master: Some("br0"))],
        )"#;
        let now: Plan = ron::from_str(text).unwrap();
        let mut own = now.clone();
        let run = |line: &str, own: &mut Plan| -> Result<String, ToolError> {
            let cmd = parse(&words(line)).expect("a bridge command")?;
            apply(&cmd, "n", &now, own, &mut Vec::new())
        };
        let err = |r: Result<String, ToolError>| {
            let e = r.unwrap_err();
            (e.message, e.status)
        };
        run("bridge link set dev va hairpin on learning off isolated on", &mut own).unwrap();
        let want = BrPortPlan { hairpin: true, learning: false, isolated: true, ..BrPortPlan::new("n", "va") };
        assert_eq!(own.bridge_ports, vec![want]);
        // Back to every default: the entry goes.
        run("bridge link s dev va hairpin off learning on isolated off", &mut own).unwrap();
        assert!(own.bridge_ports.is_empty());
        assert_eq!(
            err(run("bridge link set dev va hairpin maybe", &mut own)),
            ("Error: argument of \"hairpin\" must be one of \"off\", \"on\", not \"maybe\"".into(), 234)
        );
        assert_eq!(
            err(run("bridge link set dev vb hairpin on", &mut own)),
            ("RTNETLINK answers: Operation not supported".into(), 255)
        );
        assert_eq!(
            err(run("bridge link set dev br0 hairpin on", &mut own)),
            ("RTNETLINK answers: Operation not supported".into(), 255)
        );
        assert_eq!(
            err(run("bridge link set dev zz hairpin on", &mut own)),
            ("Cannot find bridge device \"zz\"".into(), 255)
        );
        assert_eq!(err(run("bridge link set hairpin on", &mut own)), ("Device is a required argument.".into(), 255));
        assert_eq!(err(run("bridge link set dev va hairpin", &mut own)).1, 255);
        assert_eq!(err(run("bridge link set dev va frob on", &mut own)), (BRLINK_USAGE.to_string(), 255));
        assert!(err(run("bridge link set dev va cost 5", &mut own)).0.starts_with("netsim:"));
        // Nothing to set is no error.
        assert_eq!(run("bridge link set dev va", &mut own), Ok(String::new()));
        // `bridge link show` only looks.
        assert!(parse(&words("bridge link show")).is_none());
    }
}
