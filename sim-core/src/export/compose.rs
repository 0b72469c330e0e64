//! A lab as one compose file (`--to compose`: the networks and `docker run -d` containers of
//! one Docker host) or one stack file (`--to stack`: the overlays and services of a swarm),
//! where the lab fits one: everything its steps make comes before anything that changes what
//! was made. The steps that only look or that come afterwards are listed in the file's
//! header, in the lab's order, to type once it is up.
//!
//! The YAML is written here rather than through a serializer: the files are small and fixed
//! in shape, every string is written as a JSON string (which YAML reads as the same string),
//! and the comments that make a file readable are no serializer's business. Formats: compose
//! file format 2.4 for one engine (it keeps `ipam` gateways, `mac_address` and `name:` for
//! networks), 3.8 for `docker stack deploy` (`deploy:`); see the Compose file reference
//! (<https://docs.docker.com/compose/compose-file/>).

use std::fmt::Write as _;

use crate::docker::cli::{
    self, DockerCommand, EndpointMode, NetworkCreate, NetworkDriver, NetworkMode, Protocol, PublishMode, Run,
    ServiceCreate, ServiceMode,
};
use crate::scenario::Scenario;

use super::{ExportError, HostScript, one_line};

/// Which file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `docker-compose up -d` on the lab's one Docker host.
    Compose,
    /// `docker stack deploy -c` on the swarm's manager.
    Stack,
}

/// What a step is to the file.
enum Role {
    /// It makes what the file describes.
    Makes(Made),
    /// It starts (`init: true`) or joins the swarm: typed before the stack is deployed.
    Swarm { init: bool },
    /// It changes what exists: the file can only describe it if it comes after.
    Changes,
    /// It only looks (or is a program run): typed after `up`.
    Looks,
}

enum Made {
    Network(Box<NetworkCreate>),
    Container(Box<Run>, String),
    Service(Box<ServiceCreate>, String),
}

/// The compose or stack file of `sc`.
pub fn compose(sc: &Scenario, file: &str, form: Form) -> Result<HostScript, ExportError> {
    let no_fit = |why: String| ExportError::NoFit { file: file.to_string(), why };
    if sc.plan != crate::plan::Plan::default() {
        return Err(ExportError::HandBuilt { file: file.to_string(), what: super::hand_built(&sc.plan) });
    }
    let docker_hosts: Vec<&str> = sc.hosts.iter().filter(|h| h.docker).map(|h| h.name.as_str()).collect();
    if form == Form::Compose && docker_hosts.len() != 1 {
        return Err(no_fit(format!(
            "a compose file is for one Docker host, and the lab has {} ({}): --to script writes one script per host",
            docker_hosts.len(),
            docker_hosts.join(", ")
        )));
    }
    let mut roles = Vec::new();
    for (i, st) in sc.steps.iter().enumerate() {
        let role = if st.fails { Role::Looks } else { role(st.run.as_str(), form) };
        if let Role::Makes(_) = &role {
            let on_docker = docker_hosts.contains(&st.on.as_str());
            if !on_docker {
                return Err(no_fit(format!("step {} runs docker on {}, which has no engine", i + 1, st.on)));
            }
        }
        roles.push(role);
    }
    if form == Form::Compose
        && let Some(i) = roles.iter().position(|r| matches!(r, Role::Swarm { .. }))
    {
        return Err(no_fit(format!(
            "step {} (`{}`) makes a swarm, which a compose file does not: --to stack, or --to script",
            i + 1,
            sc.steps[i].run
        )));
    }
    let last_made = roles.iter().rposition(|r| matches!(r, Role::Makes(_)));
    let Some(last_made) = last_made else {
        let what = match form {
            Form::Compose => "no `docker network create` or `docker run -d`",
            Form::Stack => "no `docker service create` or overlay `docker network create`",
        };
        // A lab that brings its compose file up itself: that file is the one to take.
        let carried: Vec<String> = sc
            .hosts
            .iter()
            .flat_map(|h| h.files.keys().map(move |p| format!("{}'s {p}", h.name)))
            .filter(|_| {
                sc.steps.iter().any(|st| st.run.starts_with("docker-compose") || st.run.starts_with("docker stack"))
            })
            .collect();
        if !carried.is_empty() {
            return Err(no_fit(format!(
                "it brings its own compose file up (`files:` on the host: {}); take that file, or --to script",
                carried.join(", ")
            )));
        }
        return Err(no_fit(format!("its steps make nothing a {} file describes ({what})", form_name(form))));
    };
    for (i, r) in roles.iter().enumerate().take(last_made) {
        if let Role::Changes = r {
            return Err(no_fit(format!(
                "step {} (`{}`) changes what the lab has made before step {} makes more; a {} file describes what \
                 exists at once: --to script keeps the lab's order",
                i + 1,
                sc.steps[i].run,
                last_made + 1,
                form_name(form)
            )));
        }
    }
    if form == Form::Stack && !roles.iter().any(|r| matches!(r, Role::Swarm { .. })) {
        return Err(no_fit("a stack needs a swarm, and no step starts one (`docker swarm init`)".into()));
    }

    let project = project_name(file);
    let mut body = String::new();
    let (mut nets, mut svcs) = (String::new(), String::new());
    let mut prev: Option<String> = None;
    for (i, r) in roles.iter().enumerate() {
        let Role::Makes(m) = r else { continue };
        let err = |why: String| ExportError::Step {
            file: file.to_string(),
            step: i + 1,
            host: sc.steps[i].on.clone(),
            run: sc.steps[i].run.clone(),
            why,
        };
        match m {
            Made::Network(n) => network(&mut nets, n, form).map_err(err)?,
            Made::Container(run, key_hint) => {
                let key = run.name.clone().unwrap_or_else(|| format!("{key_hint}-{}", i + 1));
                container(&mut svcs, &key, run, prev.as_deref()).map_err(err)?;
                prev = Some(key);
            }
            Made::Service(c, key_hint) => {
                let key = c.name.clone().unwrap_or_else(|| format!("{key_hint}-{}", i + 1));
                service(&mut svcs, &key, c).map_err(err)?;
            }
        }
    }
    let host = match form {
        Form::Compose => docker_hosts[0].to_string(),
        // The manager: where `swarm init` is typed.
        Form::Stack => sc
            .steps
            .iter()
            .zip(&roles)
            .find(|(_, r)| matches!(r, Role::Swarm { init: true }))
            .map(|(st, _)| st.on.clone())
            .unwrap_or_else(|| docker_hosts[0].to_string()),
    };

    // The header: how to bring it up, and the rest of the lab.
    let _ = writeln!(body, "# {}: what its steps make, as a {} file.", one_line(&sc.name), form_name(form));
    let _ = writeln!(body, "# Written by `netsim export {file} --to {}`.", form_name(form));
    let before: Vec<(usize, &crate::director::Step)> = sc
        .steps
        .iter()
        .enumerate()
        .take(last_made + 1)
        .filter(|(i, _)| matches!(roles[*i], Role::Swarm { .. }))
        .collect();
    if !before.is_empty() {
        let _ = writeln!(body, "# First, as the lab does:");
        for (i, st) in &before {
            let _ = writeln!(body, "#   step {:<3} {}$ {}", i + 1, st.on, one_line(&st.run));
        }
    }
    match form {
        Form::Compose => {
            let _ = writeln!(body, "# Bring it up on {host}:  docker-compose -p {project} up -d");
        }
        Form::Stack => {
            let _ = writeln!(body, "# Deploy it on {host}:  docker stack deploy -c {project}.yml {project}");
            let _ = writeln!(
                body,
                "# The stack names its services {project}_NAME; on the stack's networks each still answers to NAME."
            );
        }
    }
    let after: Vec<(usize, &crate::director::Step)> = sc
        .steps
        .iter()
        .enumerate()
        // Everything that is not made by the file, but the swarm's init and join before it.
        .filter(|(i, _)| match roles[*i] {
            Role::Makes(_) => false,
            Role::Swarm { .. } => *i > last_made,
            Role::Looks | Role::Changes => true,
        })
        .collect();
    if !after.is_empty() {
        let _ = writeln!(body, "# Then, as the lab goes on:");
        for (i, st) in after {
            let fails = if st.fails { "   (the lab expects it to fail)" } else { "" };
            let moved = if i < last_made { "   (typed earlier in the lab)" } else { "" };
            let _ = writeln!(body, "#   step {:<3} {}$ {}{fails}{moved}", i + 1, st.on, one_line(&st.run));
        }
    }
    match form {
        Form::Compose => {
            let _ = writeln!(body, "# Take it away:  docker-compose -p {project} down");
        }
        Form::Stack => {
            let _ = writeln!(body, "# Take it away:  docker stack rm {project}");
        }
    }
    let _ = writeln!(body, "version: {}", y(if form == Form::Compose { "2.4" } else { "3.8" }));
    if !svcs.is_empty() {
        let _ = writeln!(body, "services:");
        body.push_str(&svcs);
    }
    if !nets.is_empty() {
        let _ = writeln!(body, "networks:");
        body.push_str(&nets);
    }
    let file_name = match form {
        Form::Compose => "docker-compose.yml".to_string(),
        Form::Stack => format!("{project}.yml"),
    };
    Ok(HostScript { host, file_name, text: body })
}

fn role(line: &str, form: Form) -> Role {
    let Ok(cmd) = cli::parse(line) else {
        // A program run on a host or a fault: it is typed after `up`, in its place.
        let words: Vec<String> =
            cli::shell_words(line).map(|w| w.into_iter().map(|(w, _)| w).collect()).unwrap_or_default();
        return if crate::netconf::parse(&words).is_some() { Role::Changes } else { Role::Looks };
    };
    use DockerCommand as D;
    match (cmd, form) {
        (D::NetworkCreate(n), Form::Compose) if n.driver != NetworkDriver::Overlay => {
            Role::Makes(Made::Network(Box::new(n)))
        }
        (D::NetworkCreate(n), Form::Stack) if n.driver == NetworkDriver::Overlay => {
            Role::Makes(Made::Network(Box::new(n)))
        }
        (D::Run(r), Form::Compose) if r.detach => {
            let hint = image_key(&r.image.familiar_name());
            Role::Makes(Made::Container(r, hint))
        }
        (D::ServiceCreate(c), Form::Stack) => {
            let hint = image_key(&c.image.familiar_name());
            Role::Makes(Made::Service(c, hint))
        }
        (D::SwarmInit(_), _) => Role::Swarm { init: true },
        (D::SwarmJoin(_), _) => Role::Swarm { init: false },
        (
            D::Exec(_)
            | D::Ps(_)
            | D::Inspect(_)
            | D::Port(_)
            | D::Logs(_)
            | D::NetworkLs(_)
            | D::NetworkInspect(_)
            | D::ServicePs(_)
            | D::ServiceLs(_)
            | D::ServiceLogs(_)
            | D::ServiceInspect(_)
            | D::NodeLs(_)
            | D::NodePs(_)
            | D::NodeInspect(_)
            | D::SwarmJoinToken(_)
            | D::Version(_)
            | D::Info(_)
            | D::Images(_)
            | D::Pull(_),
            _,
        ) => Role::Looks,
        // A foreground `docker run` is a program run once: it makes nothing that stays up.
        (D::Run(r), _) if !r.detach => Role::Looks,
        _ => Role::Changes,
    }
}

/// A service key from an image name when the lab gave no `--name`.
fn image_key(image: &str) -> String {
    image.rsplit('/').next().unwrap_or(image).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn network(out: &mut String, n: &NetworkCreate, form: Form) -> Result<(), String> {
    let _ = writeln!(out, "  {}:", key(&n.name));
    let _ = writeln!(out, "    name: {}", y(&n.name));
    let driver = match n.driver {
        NetworkDriver::Bridge => "bridge",
        NetworkDriver::Overlay => "overlay",
        NetworkDriver::Macvlan => "macvlan",
        NetworkDriver::Ipvlan => "ipvlan",
        NetworkDriver::Host | NetworkDriver::Null => {
            return Err("a network of the host or null driver is Docker's own".into());
        }
    };
    let _ = writeln!(out, "    driver: {}", y(driver));
    if !n.options.is_empty() {
        let _ = writeln!(out, "    driver_opts:");
        for (k, v) in &n.options {
            let _ = writeln!(out, "      {}: {}", y(k), y(v));
        }
    }
    if !n.ipam.is_empty() {
        let _ = writeln!(out, "    ipam:");
        let _ = writeln!(out, "      config:");
        for p in &n.ipam {
            let _ = writeln!(out, "        - subnet: {}", y(&p.subnet.to_string()));
            if form == Form::Stack && (p.gateway.is_some() || p.ip_range.is_some() || !p.aux_addresses.is_empty()) {
                return Err("a stack file's IPAM takes a subnet only (compose file format 3)".into());
            }
            if let Some(r) = &p.ip_range {
                let _ = writeln!(out, "          ip_range: {}", y(&r.to_string()));
            }
            if let Some(g) = &p.gateway {
                let _ = writeln!(out, "          gateway: {}", y(&g.to_string()));
            }
            if !p.aux_addresses.is_empty() {
                let _ = writeln!(out, "          aux_addresses:");
                for (k, v) in &p.aux_addresses {
                    let _ = writeln!(out, "            {}: {}", y(k), y(&v.to_string()));
                }
            }
        }
    }
    if n.internal {
        let _ = writeln!(out, "    internal: true");
    }
    if n.attachable {
        let _ = writeln!(out, "    attachable: true");
    }
    if n.ipv6 {
        let _ = writeln!(out, "    enable_ipv6: true");
    }
    if !n.labels.is_empty() {
        let _ = writeln!(out, "    labels:");
        for (k, v) in &n.labels {
            let _ = writeln!(out, "      {}: {}", y(k), y(v));
        }
    }
    if let Some(f) = n.other_flags.first() {
        return Err(format!("--{} has no compose form here", f.name));
    }
    Ok(())
}

fn container(out: &mut String, key_: &str, r: &Run, after: Option<&str>) -> Result<(), String> {
    let _ = writeln!(out, "  {}:", key(key_));
    if let Some(n) = &r.name {
        let _ = writeln!(out, "    container_name: {}", y(n));
    }
    let _ = writeln!(out, "    image: {}", y(&r.image.to_string()));
    if !r.command.is_empty() {
        let _ = writeln!(out, "    command: [{}]", r.command.words.iter().map(|w| y(w)).collect::<Vec<_>>().join(", "));
    }
    if r.interactive {
        let _ = writeln!(out, "    stdin_open: true");
    }
    if r.tty {
        let _ = writeln!(out, "    tty: true");
    }
    if let Some(h) = &r.hostname {
        let _ = writeln!(out, "    hostname: {}", y(h));
    }
    if let Some(m) = &r.mac_address {
        let _ = writeln!(out, "    mac_address: {}", y(&m.to_string()));
    }
    if !r.dns.is_empty() {
        let _ = writeln!(out, "    dns: [{}]", r.dns.iter().map(|d| y(&d.to_string())).collect::<Vec<_>>().join(", "));
    }
    env(out, &r.env);
    if r.publish_all {
        return Err("-P (publish every exposed port) has no compose form".into());
    }
    if !r.publish.is_empty() {
        let _ = writeln!(out, "    ports:");
        for p in &r.publish {
            let mut s = String::new();
            if let Some(ip) = &p.host_ip {
                let _ = write!(s, "{ip}:");
            }
            if let Some(h) = &p.host_ports {
                let _ = write!(s, "{}:", range(h.start, h.end));
            }
            s.push_str(&range(p.container_ports.start, p.container_ports.end));
            if p.protocol != Protocol::Tcp {
                let _ = write!(s, "/{}", proto(p.protocol));
            }
            let _ = writeln!(out, "      - {}", y(&s));
        }
    }
    match r.networks.first().map(|a| &a.mode) {
        None | Some(NetworkMode::Default | NetworkMode::Bridge) => {
            let _ = writeln!(out, "    network_mode: bridge");
        }
        Some(NetworkMode::Host) => {
            let _ = writeln!(out, "    network_mode: host");
        }
        Some(NetworkMode::None) => {
            let _ = writeln!(out, "    network_mode: none");
        }
        Some(NetworkMode::Container(c)) => {
            let _ = writeln!(out, "    network_mode: {}", y(&format!("container:{c}")));
        }
        Some(NetworkMode::UserDefined(_)) => {
            let _ = writeln!(out, "    networks:");
            for a in &r.networks {
                let NetworkMode::UserDefined(n) = &a.mode else {
                    return Err("a container on a user network and another kind at once".into());
                };
                if a.aliases.is_empty() && a.ipv4_address.is_none() {
                    let _ = writeln!(out, "      {}: {{}}", key(n));
                    continue;
                }
                let _ = writeln!(out, "      {}:", key(n));
                if !a.aliases.is_empty() {
                    let _ = writeln!(
                        out,
                        "        aliases: [{}]",
                        a.aliases.iter().map(|w| y(w)).collect::<Vec<_>>().join(", ")
                    );
                }
                if let Some(ip) = &a.ipv4_address {
                    let _ = writeln!(out, "        ipv4_address: {}", y(&ip.to_string()));
                }
            }
        }
    }
    if let Some(a) = after {
        // The lab started them in this order, and addresses are given out in that order.
        let _ = writeln!(out, "    depends_on: [{}]", y(a));
    }
    for f in &r.other_flags {
        match f.name.as_str() {
            "restart" => {
                let _ = writeln!(out, "    restart: {}", y(&f.value));
            }
            "privileged" if f.value == "true" => {
                let _ = writeln!(out, "    privileged: true");
            }
            "add-host" => {
                let _ = writeln!(out, "    extra_hosts: [{}]", y(&f.value));
            }
            "cap-add" => {
                let _ = writeln!(out, "    cap_add: [{}]", y(&f.value));
            }
            other => return Err(format!("--{other} has no compose form here")),
        }
    }
    if r.rm {
        return Err("--rm with -d has no compose form (compose keeps its containers)".into());
    }
    Ok(())
}

fn service(out: &mut String, key_: &str, c: &ServiceCreate) -> Result<(), String> {
    let _ = writeln!(out, "  {}:", key(key_));
    let _ = writeln!(out, "    image: {}", y(&c.image.to_string()));
    if !c.command.is_empty() {
        let _ = writeln!(out, "    command: [{}]", c.command.words.iter().map(|w| y(w)).collect::<Vec<_>>().join(", "));
    }
    if let Some(h) = &c.hostname {
        let _ = writeln!(out, "    hostname: {}", y(h));
    }
    env(out, &c.env);
    if !c.publish.is_empty() {
        let _ = writeln!(out, "    ports:");
        for p in &c.publish {
            let _ = writeln!(out, "      - target: {}", p.target);
            if let Some(pp) = p.published {
                let _ = writeln!(out, "        published: {pp}");
            }
            let _ = writeln!(out, "        protocol: {}", proto(p.protocol));
            let mode = if p.mode == PublishMode::Host { "host" } else { "ingress" };
            let _ = writeln!(out, "        mode: {mode}");
        }
    }
    if !c.networks.is_empty() {
        let _ = writeln!(out, "    networks:");
        for n in &c.networks {
            if n.aliases.is_empty() {
                let _ = writeln!(out, "      {}: {{}}", key(&n.name));
            } else {
                let _ = writeln!(out, "      {}:", key(&n.name));
                let _ = writeln!(
                    out,
                    "        aliases: [{}]",
                    n.aliases.iter().map(|w| y(w)).collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    let _ = writeln!(out, "    deploy:");
    match &c.mode {
        ServiceMode::Replicated { replicas } => {
            let _ = writeln!(out, "      mode: replicated");
            let _ = writeln!(out, "      replicas: {}", replicas.unwrap_or(1));
        }
        ServiceMode::Global => {
            let _ = writeln!(out, "      mode: global");
        }
        ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob => {
            return Err("a job service has no form in compose file format 3.8".into());
        }
    }
    if c.endpoint_mode == EndpointMode::Dnsrr {
        let _ = writeln!(out, "      endpoint_mode: dnsrr");
    }
    if !c.constraints.is_empty() {
        let _ = writeln!(out, "      placement:");
        let _ = writeln!(
            out,
            "        constraints: [{}]",
            c.constraints.iter().map(|w| y(w)).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(f) = c.other_flags.first() {
        return Err(format!("--{} has no stack form here", f.name));
    }
    Ok(())
}

fn env(out: &mut String, env: &[cli::EnvVar]) {
    if env.is_empty() {
        return;
    }
    let _ = writeln!(out, "    environment:");
    for e in env {
        match &e.value {
            Some(v) => {
                let _ = writeln!(out, "      - {}", y(&format!("{}={v}", e.key)));
            }
            None => {
                let _ = writeln!(out, "      - {}", y(&e.key));
            }
        }
    }
}

fn range(a: u16, b: u16) -> String {
    if a == b { a.to_string() } else { format!("{a}-{b}") }
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// A string as YAML reads it back: a JSON string.
fn y(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A mapping key: plain when it is a plain name, else quoted.
fn key(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        s.to_string()
    } else {
        y(s)
    }
}

fn form_name(f: Form) -> &'static str {
    match f {
        Form::Compose => "compose",
        Form::Stack => "stack",
    }
}

/// The compose project (or stack) name: the lab file's stem, as compose normalises one.
fn project_name(file: &str) -> String {
    let stem = std::path::Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let p: String =
        stem.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    if p.is_empty() { "lab".into() } else { p }
}
