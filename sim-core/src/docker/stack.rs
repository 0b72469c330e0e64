//! `docker stack deploy|ls|services|ps|rm`: docker/cli's stack commands on a swarm
//! (`cli/command/stack/swarm/` and `cli/compose/convert/` in github.com/docker/cli).
//!
//! The compose file is read as `compose` reads it; a stack then names everything
//! `STACK_NAME` and labels it `com.docker.stack.namespace=STACK` (`convert.Namespace`), makes
//! the networks its services use as overlays (`convert.Networks`; the `default` network
//! too), and makes each service on its networks with its own name as an alias there
//! (`convert.Service`, `convertServiceNetworks`), with the replicas, mode and endpoint mode
//! of `deploy:`. What deploy does is a list of the `docker network create` and `docker
//! service create` lines it amounts to, which the director runs through the swarm's own
//! commands. Judged against the engine by `traces/docker/stack/` (`sim-core/tests/compose.rs`).

use super::compose::{self, Project, Refused};
use super::swarm::Swarm;

/// The label that makes a network or a service part of a stack.
pub const NAMESPACE: &str = "com.docker.stack.namespace";

#[derive(Clone, Debug, PartialEq)]
pub enum StackCmd {
    /// `detach`: `-d`/`--detach` was given (docker/cli 28 says what it does without).
    Deploy {
        file: String,
        stack: String,
        detach: bool,
    },
    Ls,
    Services {
        stack: String,
    },
    Ps {
        stack: String,
    },
    Rm {
        stacks: Vec<String>,
    },
}

fn refuse(message: impl Into<String>) -> Refused {
    Refused { message: message.into(), status: 1 }
}

/// The words after `docker stack`.
pub fn parse(words: &[String]) -> Result<StackCmd, Refused> {
    let Some((verb, rest)) = words.split_first() else {
        return Err(refuse("Usage:  docker stack [OPTIONS] COMMAND\n\nManage Swarm stacks"));
    };
    let mut files = Vec::new();
    let mut args = Vec::new();
    let mut detach = false;
    let mut i = 0;
    while i < rest.len() {
        let w = &rest[i];
        match w.as_str() {
            "-c" | "--compose-file" => {
                i += 1;
                files.push(rest.get(i).cloned().ok_or_else(|| refuse(format!("flag needs an argument: {w}")))?);
            }
            "-d" | "--detach" | "--detach=true" | "--detach=false" => detach = true,
            "-q" | "--quiet" | "--prune" => {}
            f if f.starts_with("--compose-file=") => files.push(f["--compose-file=".len()..].to_string()),
            f if f.starts_with('-') => return Err(refuse(format!("unknown flag: {f}"))),
            _ => args.push(w.clone()),
        }
        i += 1;
    }
    let one = |name: &str| -> Result<String, Refused> {
        match args.as_slice() {
            [s] => Ok(s.clone()),
            _ => Err(refuse(format!("\"docker stack {name}\" requires exactly 1 argument."))),
        }
    };
    Ok(match verb.as_str() {
        "deploy" | "up" => {
            let stack = one("deploy")?;
            match files.as_slice() {
                [f] => StackCmd::Deploy { file: f.clone(), stack, detach },
                [] => return Err(refuse("Please specify a Compose file (with --compose-file).")),
                _ => return Err(refuse("netsim: more than one compose file (merged) is not modelled yet")),
            }
        }
        "ls" | "list" => StackCmd::Ls,
        "services" => StackCmd::Services { stack: one("services")? },
        "ps" => StackCmd::Ps { stack: one("ps")? },
        "rm" | "remove" | "down" => {
            if args.is_empty() {
                return Err(refuse("\"docker stack rm\" requires at least 1 argument."));
            }
            StackCmd::Rm { stacks: args }
        }
        other => return Err(refuse(format!("docker: unknown command: docker stack {other}"))),
    })
}

/// What one stack command does: lines it prints as it goes, each with the docker command
/// (if any) that does that part.
pub type Plan = Vec<(Option<String>, Vec<String>)>;

fn words(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| w.to_string()).collect()
}

/// `docker stack deploy`: the networks it makes and the services it makes or updates.
pub fn deploy(p: &Project, stack: &str, swarm: &Swarm) -> Result<Plan, Refused> {
    let mut plan: Plan = Vec::new();
    // The networks the services use, each an overlay unless the file says otherwise; an
    // external one must be there already (`validateExternalNetworks`).
    let mut nets: Vec<&compose::NetDef> = p.networks.iter().collect();
    nets.sort_by_key(|n| p.net_name(n));
    for n in nets {
        let name = p.net_name(n);
        if n.external {
            if !swarm.is_overlay(&name) {
                return Err(refuse(format!(
                    "network \"{name}\" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed"
                )));
            }
            continue;
        }
        if swarm.is_overlay(&name) {
            continue;
        }
        let c = n.create_command(&name, Some("overlay"), &[(NAMESPACE, stack)]);
        plan.push((Some(format!("Creating network {name}")), c));
    }
    // docker/cli walks a map of them, in no set order: the file's order here.
    for s in &p.services {
        let name = format!("{stack}_{}", s.name);
        if let Some(m) = &s.network_mode {
            return Err(refuse(format!("netsim: network_mode ({m}) in a stack is not modelled")));
        }
        if let Some(existing) = swarm.service(&name) {
            let replicas = if s.deploy.global { None } else { Some(s.deploy.replicas.unwrap_or(1)) };
            let c = match replicas {
                Some(r) if r != existing.replicas => {
                    let mut c = words(&["docker", "service", "update", "-d", "--replicas"]);
                    c.extend([r.to_string(), name.clone()]);
                    c
                }
                _ => Vec::new(),
            };
            plan.push((Some(format!("Updating service {name} (id: {})", existing.id)), c));
            continue;
        }
        let mut c = words(&["docker", "service", "create", "-d", "--name"]);
        c.push(name.clone());
        let mut labels = s.deploy.labels.clone();
        labels.insert(NAMESPACE.into(), stack.into());
        labels.insert("com.docker.stack.image".into(), s.image.clone());
        for (k, v) in &labels {
            c.extend(["--label".into(), format!("{k}={v}")]);
        }
        // Its networks by their stack names, sorted, each with the service's name as an alias.
        let mut nets: Vec<(String, &compose::ServiceNet)> = s
            .networks
            .iter()
            .filter_map(|(k, sn)| p.networks.iter().find(|n| &n.key == k).map(|n| (p.net_name(n), sn)))
            .collect();
        nets.sort_by(|a, b| a.0.cmp(&b.0));
        for (net, sn) in nets {
            // The file's aliases, then the service's own name (`convertServiceNetworks`).
            let mut spec = format!("name={net}");
            for a in sn.aliases.iter().chain(std::iter::once(&s.name)) {
                spec += &format!(",alias={a}");
            }
            c.extend(["--network".into(), spec]);
        }
        for port in &s.ports {
            c.extend(["--publish".into(), port.clone()]);
        }
        match (s.deploy.global, s.deploy.replicas) {
            (true, _) => c.extend(["--mode".into(), "global".into()]),
            (false, Some(r)) => c.extend(["--replicas".into(), r.to_string()]),
            (false, None) => {}
        }
        if s.deploy.dnsrr {
            c.extend(["--endpoint-mode".into(), "dnsrr".into()]);
        }
        for (k, v) in &s.environment {
            c.extend(["--env".into(), format!("{k}={v}")]);
        }
        if let Some(h) = &s.hostname {
            c.extend(["--hostname".into(), h.clone()]);
        }
        c.push(s.image.clone());
        c.extend(s.command.clone().unwrap_or_default());
        plan.push((Some(format!("Creating service {name}")), c));
    }
    Ok(plan)
}

/// The stacks on the swarm, by their services' labels.
fn stacks(swarm: &Swarm) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for s in &swarm.services {
        if let Some(st) = s.labels.get(NAMESPACE) {
            *out.entry(st.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// `docker stack ls`: each stack and how many services it has.
pub fn ls(swarm: &Swarm) -> String {
    let mut rows = vec![words(&["NAME", "SERVICES"])];
    for (name, n) in stacks(swarm) {
        rows.push(vec![name, n.to_string()]);
    }
    super::tabwrite(&rows)
}

/// The stack's services, by name.
fn services_of(swarm: &Swarm, stack: &str) -> Vec<String> {
    let mut v: Vec<String> = swarm
        .services
        .iter()
        .filter(|s| s.labels.get(NAMESPACE).map(String::as_str) == Some(stack))
        .map(|s| s.name.clone())
        .collect();
    v.sort();
    v
}

/// `docker stack services STACK`: a stack with no services is said, not an error.
pub fn services(swarm: &Swarm, stack: &str) -> String {
    if services_of(swarm, stack).is_empty() {
        return format!("Nothing found in stack: {stack}\n");
    }
    swarm.services_table(Some(stack))
}

/// What docker/cli 28 says before a deploy without `--detach`.
pub const DETACH_NOTICE: &str = "Since --detach=false was not specified, tasks will be created in the background.\nIn a future release, --detach=false will become the default.\n";

/// `docker stack ps STACK`.
pub fn ps(swarm: &Swarm, stack: &str) -> Result<String, Refused> {
    let names = services_of(swarm, stack);
    if names.is_empty() {
        return Err(refuse(format!("nothing found in stack: {stack}")));
    }
    swarm.service_ps(&names).map_err(|e| refuse(e.0))
}

/// `docker stack rm STACK…`: its services, then its networks, each said as it goes.
pub fn rm(swarm: &Swarm, stacks: &[String]) -> Plan {
    let mut plan: Plan = Vec::new();
    for stack in stacks {
        let services = services_of(swarm, stack);
        let mut nets: Vec<String> = swarm
            .networks
            .iter()
            .filter(|n| n.labels.get(NAMESPACE).map(String::as_str) == Some(stack.as_str()))
            .map(|n| n.name.clone())
            .collect();
        nets.sort();
        if services.is_empty() && nets.is_empty() {
            plan.push((Some(format!("Nothing found in stack: {stack}")), Vec::new()));
            continue;
        }
        for s in services {
            plan.push((Some(format!("Removing service {s}")), words(&["docker", "service", "rm", &s])));
        }
        for n in nets {
            plan.push((Some(format!("Removing network {n}")), words(&["docker", "network", "rm", &n])));
        }
    }
    plan
}
