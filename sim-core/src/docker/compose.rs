//! `docker-compose` (Compose 1.29, the Python release Debian packages) on one host's engine.
//!
//! A compose file the lab carries (`files:` on a host) is read as Compose reads it, and each
//! command becomes the Docker API calls Compose makes, through the engine's own commands:
//! `up -d` creates the networks the services use and then the containers, `down` stops and
//! removes them and the networks, `ps`, `config --services`, `stop`/`start`/`restart`, and
//! `exec` runs a program in a service's container. The file is parsed with `yaml-rust2`;
//! everything after the YAML is Compose's own rules, from its source (docker/compose 1.29.2,
//! `compose/`): the project name (`cli/command.py`, `get_project_name`), the services' order
//! (`config/sort_services.py`), which networks are made and in what order
//! (`network.py`, `ProjectNetworks.from_services`), a service's primary network
//! (`network.py`, `get_networks`: by priority, then by name), container names
//! (`service.py`, `build_container_name`), labels (`const.py`), the progress lines
//! (`parallel.py`, `ParallelStreamWriter` without a terminal) and the `ps` table
//! (`cli/formatter.py`: texttable with a header rule). docs/docker-model.md *Compose* says
//! what is left out; `traces/docker/compose/` is the record the tests compare with.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

use super::cli;
use super::engine::{Engine, EngineError, RunState};
use crate::engine::SimTime;

/// The release whose behaviour this is, as its labels name it.
pub const VERSION: &str = "1.29.2";

/// Files Compose looks for when no `-f` is given (`config/config.py`, `SUPPORTED_FILENAMES`).
const DEFAULT_FILES: [&str; 4] = ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"];

/// One `docker-compose …` command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub source: Source,
    pub verb: Verb,
}

/// Which file, and which project: `-f`, `-p`, `--project-directory` (or `docker stack
/// deploy -c FILE STACK`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Source {
    pub files: Vec<String>,
    pub project: Option<String>,
    pub project_dir: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verb {
    /// Always detached (`-d`): an attached `up` is refused when it is parsed.
    Up {
        no_deps: bool,
        services: Vec<String>,
    },
    Down {
        remove_orphans: bool,
    },
    Ps {
        quiet: bool,
        services_only: bool,
        services: Vec<String>,
    },
    ConfigServices,
    Stop {
        services: Vec<String>,
    },
    Start {
        services: Vec<String>,
    },
    Restart {
        services: Vec<String>,
    },
    Exec {
        service: String,
        index: usize,
        command: Vec<String>,
    },
    /// `logs [--tail N] [SERVICE…]`, without `-f` (a lab cannot press Ctrl-C).
    Logs {
        tail: Option<usize>,
        services: Vec<String>,
    },
}

/// A refusal, with the exit status Compose gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub message: String,
    pub status: u8,
}

fn refuse(message: impl Into<String>) -> Refused {
    Refused { message: message.into(), status: 1 }
}

fn unmodelled(message: impl Into<String>) -> Refused {
    Refused { message: format!("netsim: {}", message.into()), status: 127 }
}

const COMMANDS: &str = "Commands:
  build              Build or rebuild services
  config             Validate and view the Compose file
  create             Create services
  down               Stop and remove resources
  events             Receive real time events from containers
  exec               Execute a command in a running container
  help               Get help on a command
  images             List images
  kill               Kill containers
  logs               View output from containers
  pause              Pause services
  port               Print the public port for a port binding
  ps                 List containers
  pull               Pull service images
  push               Push service images
  restart            Restart services
  rm                 Remove stopped containers
  run                Run a one-off command
  scale              Set number of containers for a service
  start              Start services
  stop               Stop services
  top                Display the running processes
  unpause            Unpause services
  up                 Create and start containers
  version            Show version information and quit";

/// The words after `docker-compose`, as its docopt usage reads them.
pub fn parse(words: &[String]) -> Result<Invocation, Refused> {
    let mut src = Source::default();
    let mut i = 0;
    let value = |i: &mut usize, name: &str| -> Result<String, Refused> {
        *i += 1;
        words.get(*i).cloned().ok_or_else(|| refuse(format!("{name} requires argument")))
    };
    while let Some(w) = words.get(i).filter(|w| w.starts_with('-')) {
        match w.split_once('=') {
            Some(("--file", v)) => src.files.push(v.into()),
            Some(("--project-name", v)) => src.project = Some(v.into()),
            Some(("--project-directory", v)) => src.project_dir = Some(v.into()),
            _ => match w.as_str() {
                "-f" | "--file" => src.files.push(value(&mut i, "-f")?),
                "-p" | "--project-name" => src.project = Some(value(&mut i, "-p")?),
                "--project-directory" => src.project_dir = Some(value(&mut i, "--project-directory")?),
                "--no-ansi" | "--verbose" | "--compatibility" => {}
                other => return Err(unmodelled(format!("docker-compose option {other} is not modelled"))),
            },
        }
        i += 1;
    }
    let Some(verb) = words.get(i) else {
        return Err(refuse(format!(
            "Define and run multi-container applications with Docker.\n\nUsage:\n  docker-compose [-f <arg>...] [--profile <name>...] [options] [--] [COMMAND] [ARGS...]\n\n{COMMANDS}"
        )));
    };
    let rest = &words[i + 1..];
    let (flags, args): (Vec<&String>, Vec<&String>) = match verb.as_str() {
        // Everything after the service is the command, flags and all.
        "exec" => {
            let first = rest.iter().position(|w| !w.starts_with('-')).unwrap_or(rest.len());
            let mut flags: Vec<&String> = rest[..first].iter().collect();
            // Flags that take a value consume the word after them.
            let mut args = Vec::new();
            let mut j = first;
            if let Some(last) = flags.last()
                && ["--index", "-u", "--user", "-w", "--workdir", "-e", "--env"].contains(&last.as_str())
                && j < rest.len()
            {
                flags.push(&rest[j]);
                j += 1;
            }
            args.extend(rest[j..].iter());
            (flags, args)
        }
        _ => rest.iter().partition(|w| w.starts_with('-')),
    };
    let names = || args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let has = |f: &[&str]| flags.iter().any(|w| f.contains(&w.as_str()));
    let no_such_option = |known: &[&str]| -> Result<(), Refused> {
        for f in &flags {
            let name = f.split('=').next().unwrap_or(f);
            if !known.contains(&name) && !f.chars().all(|c| c.is_ascii_digit()) {
                return Err(refuse(format!("No such option: {name}")));
            }
        }
        Ok(())
    };
    let verb = match verb.as_str() {
        "up" => {
            no_such_option(&[
                "-d",
                "--detach",
                "--no-deps",
                "--no-color",
                "--quiet-pull",
                "--no-build",
                "--remove-orphans",
            ])?;
            if !has(&["-d", "--detach"]) {
                return Err(unmodelled(
                    "`docker-compose up` without -d stays attached to the containers' output until Ctrl-C, which a lab cannot press: add -d",
                ));
            }
            Verb::Up { no_deps: has(&["--no-deps"]), services: names() }
        }
        "down" => {
            no_such_option(&["-t", "--timeout", "--remove-orphans", "-v", "--volumes"])?;
            Verb::Down { remove_orphans: has(&["--remove-orphans"]) }
        }
        "ps" => {
            no_such_option(&["-q", "--quiet", "--services", "-a", "--all"])?;
            let (quiet, services_only) = (has(&["-q", "--quiet"]), has(&["--services"]));
            if quiet && services_only {
                return Err(refuse("--quiet and --services cannot be combined"));
            }
            Verb::Ps { quiet, services_only, services: names() }
        }
        "config" if has(&["--services"]) => Verb::ConfigServices,
        "config" => {
            return Err(unmodelled(
                "`docker-compose config` prints the file as Compose resolves it; only `config --services` is modelled",
            ));
        }
        "stop" => {
            no_such_option(&["-t", "--timeout"])?;
            Verb::Stop { services: names() }
        }
        "start" => Verb::Start { services: names() },
        "restart" => {
            no_such_option(&["-t", "--timeout"])?;
            Verb::Restart { services: names() }
        }
        "exec" => {
            let index = match flags.iter().position(|f| f.as_str() == "--index") {
                Some(k) => {
                    flags.get(k + 1).and_then(|v| v.parse().ok()).ok_or_else(|| refuse("--index requires a number"))?
                }
                None => flags
                    .iter()
                    .find_map(|f| f.strip_prefix("--index="))
                    .map_or(Ok(1), |v| v.parse().map_err(|_| refuse("--index requires a number")))?,
            };
            let Some((service, command)) = args.split_first().filter(|(_, c)| !c.is_empty()) else {
                return Err(refuse(
                    "Execute a command in a running container\n\nUsage: exec [options] [-e KEY=VAL...] [--] SERVICE COMMAND [ARGS...]",
                ));
            };
            Verb::Exec { service: service.to_string(), index, command: command.iter().map(|s| s.to_string()).collect() }
        }
        "logs" => {
            no_such_option(&["--no-color", "-t", "--timestamps", "--tail", "-f", "--follow", "--no-log-prefix"])?;
            if has(&["-f", "--follow"]) {
                return Err(unmodelled(
                    "`docker-compose logs -f` follows the containers' output until Ctrl-C, which a lab cannot press: leave out -f",
                ));
            }
            if has(&["-t", "--timestamps", "--no-log-prefix"]) {
                return Err(unmodelled("`docker-compose logs` with -t or --no-log-prefix is not modelled yet"));
            }
            // `--tail N` takes the word after it, wherever it stands, which the split above
            // counted as a service.
            let at = rest.iter().position(|w| w == "--tail");
            let value = at.map(|k| rest.get(k + 1).ok_or_else(|| refuse("--tail requires an argument"))).transpose()?;
            let services: Vec<String> = rest
                .iter()
                .enumerate()
                .filter(|&(k, w)| !w.starts_with('-') && at.is_none_or(|t| k != t + 1))
                .map(|(_, w)| w.clone())
                .collect();
            let tail = flags.iter().find_map(|f| f.strip_prefix("--tail=")).or(value.map(String::as_str));
            let tail = match tail {
                None | Some("all") => None,
                Some(n) => Some(n.parse().map_err(|_| refuse("tail flag must be all or a number"))?),
            };
            Verb::Logs { tail, services }
        }
        "build" | "create" | "events" | "help" | "images" | "kill" | "pause" | "port" | "pull" | "push" | "rm"
        | "run" | "scale" | "top" | "unpause" | "version" => {
            return Err(unmodelled(format!("`docker-compose {verb}` is not modelled yet")));
        }
        other => return Err(refuse(format!("No such command: {other}\n\n{COMMANDS}"))),
    };
    Ok(Invocation { source: src, verb })
}

/// A service as the file gives it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Service {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub container_name: Option<String>,
    pub hostname: Option<String>,
    pub environment: Vec<(String, String)>,
    /// `-p` values, long syntax turned into short.
    pub ports: Vec<String>,
    /// By key, in the file's order; empty with `network_mode`.
    pub networks: Vec<(String, ServiceNet)>,
    pub network_mode: Option<String>,
    pub depends_on: Vec<String>,
    pub dns: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub mac_address: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `deploy:`, which `docker stack deploy` reads and Compose 1.29 leaves aside.
    pub deploy: Deploy,
}

/// A service's `deploy:` keys that change the network: how many tasks, and how its name
/// resolves.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Deploy {
    pub replicas: Option<u64>,
    /// `mode: global`: one task on every node.
    pub global: bool,
    /// `endpoint_mode: dnsrr`: the name resolves to the tasks, without a VIP.
    pub dnsrr: bool,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct ServiceNet {
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    pub priority: i64,
}

/// A top-level network.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NetDef {
    pub key: String,
    /// `name:` or an external network's name; by default `PROJECT_KEY`.
    pub name: Option<String>,
    pub external: bool,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub subnets: Vec<(String, Option<String>, Option<String>)>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
}

/// A compose file resolved into a project.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub name: String,
    pub working_dir: String,
    /// As typed (`-f` values joined by commas), for the label.
    pub config_files: String,
    /// In the order Compose starts them.
    pub services: Vec<Service>,
    /// The networks the services use, in the order Compose makes them.
    pub networks: Vec<NetDef>,
}

impl Project {
    pub fn net_name(&self, n: &NetDef) -> String {
        n.name.clone().unwrap_or_else(|| format!("{}_{}", self.name, n.key))
    }

    fn net(&self, key: &str) -> Option<&NetDef> {
        self.networks.iter().find(|n| n.key == key)
    }

    pub fn container_name(&self, s: &Service) -> String {
        s.container_name.clone().unwrap_or_else(|| format!("{}_{}_1", self.name.trim_start_matches(['-', '_']), s.name))
    }

    fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// `path` made absolute against `cwd`, `.` and `..` resolved.
pub fn absolute(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{cwd}/{path}") };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn dirname(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((d, _)) => d.into(),
    }
}

/// Reads the project's file (`read` answers an absolute path with its text) from the
/// working directory `cwd`.
pub fn load(src: &Source, cwd: &str, read: &dyn Fn(&str) -> Option<String>) -> Result<Project, Refused> {
    let (path, shown, typed) = match src.files.as_slice() {
        [] => {
            // This directory, then each parent (`config/config.py`, `find`).
            let mut dir = cwd.to_string();
            let found = loop {
                if let Some(f) = DEFAULT_FILES.iter().find(|f| read(&absolute(&dir, f)).is_some()) {
                    break Some((absolute(&dir, f), format!("./{f}"), f.to_string()));
                }
                if dir == "/" {
                    break None;
                }
                dir = dirname(&dir);
            };
            found.ok_or_else(|| {
                refuse(format!(
                    "\n        Can't find a suitable configuration file in this directory or any\n        parent. Are you in the right directory?\n\n        Supported filenames: {}\n        ",
                    DEFAULT_FILES.join(", ")
                ))
            })?
        }
        [one] => {
            let shown = if one.starts_with('/') { one.clone() } else { format!("./{one}") };
            (absolute(cwd, one), shown, one.clone())
        }
        _ => return Err(unmodelled("more than one -f (Compose merges them) is not modelled yet")),
    };
    let text = read(&path)
        .ok_or_else(|| refuse(format!(".FileNotFoundError: [Errno 2] No such file or directory: '{shown}'")))?;
    let docs = YamlLoader::load_from_str(&text).map_err(|e| {
        refuse(format!(
            "yaml.scanner.ScannerError: {}\n  in \"{shown}\", line {}, column {}",
            e.info(),
            e.marker().line(),
            e.marker().col() + 1
        ))
    })?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
    let working_dir = match &src.project_dir {
        Some(d) => absolute(cwd, d),
        None => dirname(&path),
    };
    let base = working_dir.rsplit('/').next().unwrap_or_default();
    let raw_name = src.project.clone().unwrap_or_else(|| base.to_string());
    let mut name: String = raw_name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(*c))
        .collect();
    if name.is_empty() {
        name = "default".into();
    }
    let file = read_file(&doc, &shown)?;
    let services = sort_services(file.0)?;
    // The networks the services use, in the order they first use them; `default` unless
    // the file defines it otherwise.
    let mut networks: Vec<NetDef> = Vec::new();
    for s in &services {
        for (key, _) in &s.networks {
            if networks.iter().any(|n| &n.key == key) {
                continue;
            }
            match file.1.iter().find(|n| &n.key == key) {
                Some(n) => networks.push(n.clone()),
                None if key == "default" => networks.push(NetDef { key: "default".into(), ..Default::default() }),
                None => return Err(refuse(format!("Service \"{}\" uses an undefined network \"{key}\"", s.name))),
            }
        }
    }
    Ok(Project { name, working_dir, config_files: typed, services, networks })
}

fn invalid(shown: &str, why: String) -> Refused {
    refuse(format!("The Compose file '{shown}' is invalid because:\n{why}"))
}

fn type_name(y: &Yaml) -> &'static str {
    match y {
        Yaml::Array(_) => "an array",
        Yaml::Hash(_) => "an object",
        Yaml::Integer(_) | Yaml::Real(_) => "a number",
        Yaml::Boolean(_) => "a boolean",
        Yaml::Null => "null",
        _ => "a string",
    }
}

/// A scalar as Compose turns it into a string.
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

fn hash_entries(y: &Yaml) -> Vec<(String, &Yaml)> {
    match y {
        Yaml::Hash(h) => h.iter().filter_map(|(k, v)| scalar(k).map(|k| (k, v))).collect(),
        _ => Vec::new(),
    }
}

/// A list of strings, or (`dict_ok`) a mapping of `KEY: VALUE` written as `KEY=VALUE`.
fn strings(y: &Yaml, at: &str, shown: &str, dict_ok: bool) -> Result<Vec<String>, Refused> {
    match y {
        Yaml::Array(a) => a
            .iter()
            .map(|v| {
                scalar(v).ok_or_else(|| invalid(shown, format!("{at} contains an invalid type, it should be a string")))
            })
            .collect(),
        Yaml::Hash(_) if dict_ok => Ok(hash_entries(y)
            .into_iter()
            .filter_map(|(k, v)| match v {
                Yaml::Null => Some(k),
                v => scalar(v).map(|v| format!("{k}={v}")),
            })
            .collect()),
        Yaml::String(s) => Ok(vec![s.clone()]),
        other => Err(invalid(
            shown,
            format!("{at} contains an invalid type, it should be an array, got {}", type_name(other)),
        )),
    }
}

type FileParts = (Vec<Service>, Vec<NetDef>);

/// The file's services and networks, checked as Compose's schema checks them (the first
/// problem, in its words).
fn read_file(doc: &Yaml, shown: &str) -> Result<FileParts, Refused> {
    let Yaml::Hash(_) = doc else {
        return Err(refuse(format!("Top level object in '{shown}' needs to be an object not '<class 'NoneType'>'.")));
    };
    for (k, _) in hash_entries(doc) {
        if !["version", "services", "networks", "volumes", "secrets", "configs"].contains(&k.as_str())
            && !k.starts_with("x-")
        {
            return Err(invalid(
                shown,
                format!(
                    "Invalid top-level property \"{k}\". Valid top-level sections for this Compose file are: version, services, networks, volumes, secrets, configs, and extensions starting with \"x-\"."
                ),
            ));
        }
    }
    if let Some(v) = scalar(&doc["version"])
        && !(v.starts_with('2') || v.starts_with('3'))
    {
        return Err(refuse(format!(
            "Version in \"{shown}\" is unsupported. You might be seeing this error because you're using the wrong Compose file version. Either specify a supported version (e.g \"2.2\" or \"3.3\") and place your service definitions under the `services` key, or omit the `version` key and place your service definitions at the root of the file to use version 1.\nFor more on the Compose file format versions, see https://docs.docker.com/compose/compose-file/"
        )));
    }
    let mut services = Vec::new();
    for (name, body) in hash_entries(&doc["services"]) {
        services.push(read_service(&name, body, shown)?);
    }
    let mut networks = Vec::new();
    for (key, body) in hash_entries(&doc["networks"]) {
        networks.push(read_network(&key, body, shown)?);
    }
    Ok((services, networks))
}

/// Keys that change nothing the simulator models (storage, limits, restarts, health): read
/// and left aside.
const INERT_KEYS: &[&str] = &[
    "restart",
    "volumes",
    "healthcheck",
    "working_dir",
    "user",
    "tty",
    "stdin_open",
    "init",
    "logging",
    "cap_add",
    "cap_drop",
    "privileged",
    "ulimits",
    "stop_signal",
    "stop_grace_period",
    "tmpfs",
    "shm_size",
    "read_only",
    "expose",
    "domainname",
    "security_opt",
    "mem_limit",
    "cpus",
    "platform",
    "pull_policy",
    "container_name_prefix",
];

fn read_service(name: &str, body: &Yaml, shown: &str) -> Result<Service, Refused> {
    let mut s = Service { name: name.to_string(), ..Default::default() };
    let at = |k: &str| format!("services.{name}.{k}");
    let string = |k: &str, v: &Yaml| -> Result<String, Refused> {
        scalar(v).ok_or_else(|| invalid(shown, format!("{} contains an invalid type, it should be a string", at(k))))
    };
    if !matches!(body, Yaml::Hash(_)) {
        return Err(invalid(shown, format!("services.{name} contains an invalid type, it should be an object")));
    }
    for (k, v) in hash_entries(body) {
        match k.as_str() {
            "image" => s.image = string(&k, v)?,
            "command" => {
                s.command = Some(match v {
                    Yaml::String(line) => cli::shell_words(line)
                        .map_err(|e| invalid(shown, format!("{} cannot be split into words: {}", at(&k), e.message)))?
                        .into_iter()
                        .map(|w| w.0)
                        .collect(),
                    other => strings(other, &at(&k), shown, false)?,
                })
            }
            "container_name" => s.container_name = Some(string(&k, v)?),
            "hostname" => s.hostname = Some(string(&k, v)?),
            "mac_address" => s.mac_address = Some(string(&k, v)?),
            "environment" => {
                for e in strings(v, &at(&k), shown, true)? {
                    // `KEY` alone takes the value from Compose's own environment, which a
                    // lab's host does not set: it is left out, as Compose leaves out an unset one.
                    if let Some((k, v)) = e.split_once('=') {
                        s.environment.push((k.to_string(), v.to_string()));
                    }
                }
            }
            "ports" => {
                let Yaml::Array(items) = v else {
                    return Err(invalid(shown, format!("{} contains an invalid type, it should be an array", at(&k))));
                };
                for p in items {
                    s.ports.push(match p {
                        Yaml::Hash(_) => {
                            let target = scalar(&p["target"]).ok_or_else(|| {
                                invalid(shown, format!("{} contains an invalid type: missing target", at(&k)))
                            })?;
                            let proto = scalar(&p["protocol"]).map(|x| format!("/{x}")).unwrap_or_default();
                            match scalar(&p["published"]) {
                                Some(host) => format!("{host}:{target}{proto}"),
                                None => format!("{target}{proto}"),
                            }
                        }
                        other => scalar(other).ok_or_else(|| {
                            invalid(
                                shown,
                                format!("{} contains an invalid type, it should be a number, or an object", at(&k)),
                            )
                        })?,
                    });
                }
            }
            "networks" => match v {
                Yaml::Array(_) => {
                    for n in strings(v, &at(&k), shown, false)? {
                        s.networks.push((n, ServiceNet::default()));
                    }
                }
                Yaml::Hash(_) => {
                    for (n, conf) in hash_entries(v) {
                        let mut sn = ServiceNet::default();
                        for (ck, cv) in hash_entries(conf) {
                            match ck.as_str() {
                                "aliases" => {
                                    sn.aliases = strings(cv, &format!("{}.{n}.aliases", at(&k)), shown, false)?
                                }
                                "ipv4_address" => sn.ipv4_address = scalar(cv),
                                "priority" => sn.priority = scalar(cv).and_then(|p| p.parse().ok()).unwrap_or(0),
                                "ipv6_address" | "link_local_ips" => {}
                                other => {
                                    return Err(invalid(
                                        shown,
                                        format!("Unsupported config option for {}.{n}: '{other}'", at(&k)),
                                    ));
                                }
                            }
                        }
                        s.networks.push((n, sn));
                    }
                }
                other => {
                    return Err(invalid(
                        shown,
                        format!(
                            "{} contains an invalid type, it should be an array, or an object, got {}",
                            at(&k),
                            type_name(other)
                        ),
                    ));
                }
            },
            "network_mode" => s.network_mode = Some(string(&k, v)?),
            "depends_on" => match v {
                Yaml::Hash(_) => s.depends_on = hash_entries(v).into_iter().map(|(d, _)| d).collect(),
                other => s.depends_on = strings(other, &at(&k), shown, false)?,
            },
            "links" => {
                for l in strings(v, &at(&k), shown, false)? {
                    let target = l.split(':').next().unwrap_or(&l).to_string();
                    if !s.depends_on.contains(&target) {
                        s.depends_on.push(target);
                    }
                }
            }
            "dns" => s.dns = strings(v, &at(&k), shown, false)?,
            "extra_hosts" => {
                s.extra_hosts = match v {
                    Yaml::Hash(_) => hash_entries(v)
                        .into_iter()
                        .filter_map(|(h, ip)| scalar(ip).map(|ip| format!("{h}:{ip}")))
                        .collect(),
                    other => strings(other, &at(&k), shown, false)?,
                }
            }
            "labels" => {
                for l in strings(v, &at(&k), shown, true)? {
                    let (k, v) = l.split_once('=').unwrap_or((&l, ""));
                    s.labels.insert(k.to_string(), v.to_string());
                }
            }
            "deploy" => {
                for (dk, dv) in hash_entries(v) {
                    match dk.as_str() {
                        "replicas" => {
                            s.deploy.replicas = Some(scalar(dv).and_then(|r| r.parse().ok()).ok_or_else(|| {
                                invalid(shown, format!("services.{name}.deploy.replicas contains an invalid type, it should be an integer"))
                            })?)
                        }
                        "mode" => s.deploy.global = scalar(dv).as_deref() == Some("global"),
                        "endpoint_mode" => s.deploy.dnsrr = scalar(dv).as_deref() == Some("dnsrr"),
                        "labels" => {
                            for l in strings(dv, &format!("services.{name}.deploy.labels"), shown, true)? {
                                let (k, v) = l.split_once('=').unwrap_or((&l, ""));
                                s.deploy.labels.insert(k.to_string(), v.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
            "build" => {
                return Err(unmodelled(format!(
                    "services.{name}.build: building an image is not modelled; give an `image:` of the catalogue (docs/docker-model.md *Images*)"
                )));
            }
            "env_file" | "extends" | "external_links" | "secrets" | "configs" | "profiles" | "entrypoint" | "scale" => {
                return Err(unmodelled(format!("services.{name}.{k} is not modelled yet")));
            }
            k if INERT_KEYS.contains(&k) || k.starts_with("x-") => {}
            other => return Err(invalid(shown, format!("Unsupported config option for services.{name}: '{other}'"))),
        }
    }
    if s.image.is_empty() {
        return Err(refuse(format!(
            "Service {name} has neither an image nor a build context specified. At least one must be provided."
        )));
    }
    if s.network_mode.is_some() && !s.networks.is_empty() {
        return Err(refuse(format!("'network_mode' and 'networks' cannot be combined (service {name})")));
    }
    if s.network_mode.is_none() && s.networks.is_empty() {
        s.networks.push(("default".into(), ServiceNet::default()));
    }
    if let Some(m) = &s.network_mode
        && let Some(dep) = m.strip_prefix("service:")
        && !s.depends_on.iter().any(|d| d == dep)
    {
        s.depends_on.push(dep.to_string());
    }
    Ok(s)
}

fn read_network(key: &str, body: &Yaml, shown: &str) -> Result<NetDef, Refused> {
    let mut n = NetDef { key: key.to_string(), ..Default::default() };
    let at = format!("networks.{key}");
    for (k, v) in hash_entries(body) {
        match k.as_str() {
            "name" => n.name = scalar(v),
            "driver" => n.driver = scalar(v),
            "driver_opts" => {
                n.driver_opts = hash_entries(v).into_iter().filter_map(|(k, v)| Some((k, scalar(v)?))).collect()
            }
            "internal" => n.internal = matches!(v, Yaml::Boolean(true)),
            "attachable" | "enable_ipv6" => {}
            "labels" => {
                for l in strings(v, &format!("{at}.labels"), shown, true)? {
                    let (k, v) = l.split_once('=').unwrap_or((&l, ""));
                    n.labels.insert(k.to_string(), v.to_string());
                }
            }
            "external" => match v {
                Yaml::Boolean(b) => n.external = *b,
                Yaml::Hash(_) => {
                    n.external = true;
                    n.name = scalar(&v["name"]).or(n.name.take());
                }
                _ => {
                    return Err(invalid(
                        shown,
                        format!("{at}.external contains an invalid type, it should be a boolean, or an object"),
                    ));
                }
            },
            "ipam" => {
                for (ik, iv) in hash_entries(v) {
                    match ik.as_str() {
                        "driver" if scalar(iv).as_deref() == Some("default") => {}
                        "driver" => {
                            return Err(unmodelled(format!("{at}.ipam.driver other than default is not modelled")));
                        }
                        "config" => {
                            let Yaml::Array(pools) = iv else {
                                return Err(invalid(
                                    shown,
                                    format!("{at}.ipam.config contains an invalid type, it should be an array"),
                                ));
                            };
                            for p in pools {
                                for (pk, _) in hash_entries(p) {
                                    if !["subnet", "gateway", "ip_range", "aux_addresses"].contains(&pk.as_str()) {
                                        return Err(invalid(
                                            shown,
                                            format!("Unsupported config option for {at}.ipam.config: '{pk}'"),
                                        ));
                                    }
                                }
                                let subnet = scalar(&p["subnet"]).ok_or_else(|| {
                                    unmodelled(format!("{at}.ipam.config without a subnet is not modelled"))
                                })?;
                                n.subnets.push((subnet, scalar(&p["gateway"]), scalar(&p["ip_range"])));
                            }
                        }
                        "options" => {}
                        other => {
                            return Err(invalid(shown, format!("Unsupported config option for {at}.ipam: '{other}'")));
                        }
                    }
                }
            }
            other => return Err(invalid(shown, format!("Unsupported config option for {at}: '{other}'"))),
        }
    }
    if n.external && n.name.is_none() {
        n.name = Some(key.to_string());
    }
    Ok(n)
}

/// Compose's topological sort (`config/sort_services.py`, `sort_service_dicts`): from the
/// last service back, each after the services it depends on; the file's order otherwise.
fn sort_services(services: Vec<Service>) -> Result<Vec<Service>, Refused> {
    for s in &services {
        for d in &s.depends_on {
            if d == &s.name {
                return Err(refuse(format!("A service can not depend on itself: {d}")));
            }
            if !services.iter().any(|o| &o.name == d) {
                return Err(refuse(format!("Service '{}' depends on service '{d}' which is undefined.", s.name)));
            }
        }
    }
    let mut unmarked: Vec<usize> = (0..services.len()).collect();
    let mut temporary: Vec<usize> = Vec::new();
    let mut sorted: Vec<usize> = Vec::new();
    fn visit(
        n: usize,
        services: &[Service],
        unmarked: &mut Vec<usize>,
        temporary: &mut Vec<usize>,
        sorted: &mut Vec<usize>,
    ) -> Result<(), Refused> {
        if temporary.contains(&n) {
            let names: Vec<&str> = temporary.iter().map(|&t| services[t].name.as_str()).collect();
            return Err(refuse(format!("Circular dependency between {}", names.join(" and "))));
        }
        if unmarked.contains(&n) {
            temporary.push(n);
            let dependents: Vec<usize> =
                (0..services.len()).filter(|&m| services[m].depends_on.contains(&services[n].name)).collect();
            for m in dependents {
                visit(m, services, unmarked, temporary, sorted)?;
            }
            temporary.retain(|&t| t != n);
            unmarked.retain(|&u| u != n);
            sorted.insert(0, n);
        }
        Ok(())
    }
    while let Some(&last) = unmarked.last() {
        visit(last, &services, &mut unmarked, &mut temporary, &mut sorted)?;
    }
    let mut slots: Vec<Option<Service>> = services.into_iter().map(Some).collect();
    Ok(sorted.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// `docker-compose logs`: the containers whose logs to print, each as (its prefix, its
/// name), and how many of each one's last lines.
#[derive(Clone, Debug, Default)]
pub struct Logs {
    pub containers: Vec<(String, String)>,
    pub tail: Option<usize>,
}

/// What a command did: what it printed, how long it kept the shell, and for `exec` the
/// container and program to run.
#[derive(Clone, Debug, Default)]
pub struct Done {
    pub out: String,
    pub busy: SimTime,
    pub exec: Option<(String, Vec<String>)>,
    /// `logs`: whose logs to print.
    pub logs: Option<Logs>,
    /// The command changed containers or networks.
    pub changed: bool,
}

/// Compose's progress lines without a terminal (`parallel.py`): `VERB NAME ... ` when an
/// operation starts, `VERB NAME ... done` when it ends, each padded to the longest `VERB
/// NAME` the process has shown so far.
#[derive(Default)]
struct Progress {
    out: String,
    width: usize,
}

impl Progress {
    fn add(&mut self, verb: &str, names: &[String]) {
        for n in names {
            self.width = self.width.max(verb.len() + 1 + n.len());
        }
        for n in names {
            self.line(verb, n, "");
        }
    }

    fn line(&mut self, verb: &str, name: &str, status: &str) {
        let w = self.width;
        self.out += &format!("{:<w$} ... {status}\n", format!("{verb} {name}"));
    }

    fn info(&mut self, s: &str) {
        self.out += s;
        self.out.push('\n');
    }
}

const LABEL_PROJECT: &str = "com.docker.compose.project";
const LABEL_SERVICE: &str = "com.docker.compose.service";

/// Runs one docker command line on the engine; how long it keeps the shell
/// (`timing::busy`), whether it succeeded or not.
fn docker(engine: &mut Engine, argv: &[String]) -> (SimTime, Result<String, EngineError>) {
    match cli::parse_argv(argv) {
        Ok(cmd) => (super::timing::busy(&cmd).unwrap_or_default(), engine.apply(&cmd)),
        Err(e) => (SimTime::ZERO, Err(EngineError(e.message))),
    }
}

/// The daemon's words of a failed command, as Compose quotes them.
fn daemon_words(e: &EngineError) -> &str {
    e.0.trim_start_matches("docker: ").trim_start_matches("Error response from daemon: ")
}

/// The project's containers on the engine, newest first as the API lists them.
fn labelled<'a>(engine: &'a Engine, p: &Project) -> Vec<&'a super::engine::Container> {
    engine.containers.iter().rev().filter(|c| c.labels.get(LABEL_PROJECT) == Some(&p.name)).collect()
}

/// The project's containers of `services` (all of the file's when empty), newest first.
fn of_services<'a>(engine: &'a Engine, p: &Project, services: &[String]) -> Vec<&'a super::engine::Container> {
    let mut cs = labelled(engine, p);
    cs.retain(|c| {
        c.labels
            .get(LABEL_SERVICE)
            .is_some_and(|s| p.service(s).is_some() && (services.is_empty() || services.contains(s)))
    });
    cs
}

/// A stable digest of what the service asks for, so `up` can tell a changed service from
/// an unchanged one (Compose hashes its resolved settings the same way; the value differs).
fn config_hash(p: &Project, s: &Service) -> String {
    use sha1::Digest;
    let nets: Vec<String> = s.networks.iter().filter_map(|(k, _)| p.net(k)).map(|n| format!("{n:?}")).collect();
    let digest = sha1::Sha1::digest(format!("{s:?}{nets:?}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The order Compose gives a service's networks: by priority, highest first, then by name;
/// the first is the one the container is created on (`network.py`, `get_networks`).
fn ordered_networks(p: &Project, s: &Service) -> Vec<(String, ServiceNet)> {
    let mut nets: Vec<(String, ServiceNet)> =
        s.networks.iter().filter_map(|(k, sn)| p.net(k).map(|n| (p.net_name(n), sn.clone()))).collect();
    if nets.iter().any(|(_, sn)| sn.priority != 0) {
        nets.sort_by_key(|n| std::cmp::Reverse(n.1.priority));
    } else {
        nets.sort_by(|a, b| a.0.cmp(&b.0));
    }
    nets
}

/// The `docker run` and `docker network connect` lines that make a service's container.
fn create_commands(p: &Project, s: &Service) -> Vec<Vec<String>> {
    let name = p.container_name(s);
    let mut run: Vec<String> = ["docker", "run", "-d", "--name", &name].iter().map(|w| w.to_string()).collect();
    let mut push = |flag: &str, v: &str| {
        run.push(flag.to_string());
        run.push(v.to_string());
    };
    let nets = ordered_networks(p, s);
    let user_defined = |n: &str| !["bridge", "host", "none"].contains(&n);
    match &s.network_mode {
        Some(m) => match m.strip_prefix("service:") {
            Some(dep) => push(
                "--network",
                &format!("container:{}", p.service(dep).map(|d| p.container_name(d)).unwrap_or_default()),
            ),
            None => push("--network", m),
        },
        None => {
            if let Some((net, sn)) = nets.first() {
                push("--network", net);
                if user_defined(net) {
                    for a in std::iter::once(&s.name).chain(&sn.aliases) {
                        push("--network-alias", a);
                    }
                }
                if let Some(ip) = &sn.ipv4_address {
                    push("--ip", ip);
                }
            }
        }
    }
    if let Some(h) = &s.hostname {
        push("--hostname", h);
    }
    if let Some(m) = &s.mac_address {
        push("--mac-address", m);
    }
    for port in &s.ports {
        push("-p", port);
    }
    for (k, v) in &s.environment {
        push("-e", &format!("{k}={v}"));
    }
    for d in &s.dns {
        push("--dns", d);
    }
    for h in &s.extra_hosts {
        push("--add-host", h);
    }
    let mut labels = s.labels.clone();
    labels.insert("com.docker.compose.config-hash".into(), config_hash(p, s));
    labels.insert("com.docker.compose.container-number".into(), "1".into());
    labels.insert("com.docker.compose.oneoff".into(), "False".into());
    labels.insert(LABEL_PROJECT.into(), p.name.clone());
    labels.insert("com.docker.compose.project.config_files".into(), p.config_files.clone());
    labels.insert("com.docker.compose.project.working_dir".into(), p.working_dir.clone());
    labels.insert(LABEL_SERVICE.into(), s.name.clone());
    labels.insert("com.docker.compose.version".into(), VERSION.into());
    for (k, v) in &labels {
        push("--label", &format!("{k}={v}"));
    }
    run.push(s.image.clone());
    run.extend(s.command.clone().unwrap_or_default());
    let mut out = vec![run];
    if s.network_mode.is_none() {
        for (net, sn) in nets.iter().skip(1) {
            let mut c: Vec<String> = ["docker", "network", "connect"].iter().map(|w| w.to_string()).collect();
            if user_defined(net) {
                for a in std::iter::once(&s.name).chain(&sn.aliases) {
                    c.extend(["--alias".to_string(), a.clone()]);
                }
            }
            if let Some(ip) = &sn.ipv4_address {
                c.extend(["--ip".to_string(), ip.clone()]);
            }
            c.extend([net.clone(), name.clone()]);
            out.push(c);
        }
    }
    out
}

fn network_create(p: &Project, n: &NetDef) -> Vec<String> {
    let labels = [
        ("com.docker.compose.network", n.key.as_str()),
        (LABEL_PROJECT, &p.name),
        ("com.docker.compose.version", VERSION),
    ];
    n.create_command(&p.net_name(n), None, &labels)
}

impl NetDef {
    /// `docker network create NAME` with the file's driver (or `default_driver`), options,
    /// pools and labels, and `labels` added to them.
    pub fn create_command(&self, name: &str, default_driver: Option<&str>, labels: &[(&str, &str)]) -> Vec<String> {
        let mut c: Vec<String> = ["docker", "network", "create"].iter().map(|w| w.to_string()).collect();
        if let Some(d) = self.driver.as_deref().or(default_driver) {
            c.extend(["--driver".into(), d.to_string()]);
        }
        for (k, v) in &self.driver_opts {
            c.extend(["--opt".into(), format!("{k}={v}")]);
        }
        for (subnet, gateway, range) in &self.subnets {
            c.extend(["--subnet".into(), subnet.clone()]);
            if let Some(g) = gateway {
                c.extend(["--gateway".into(), g.clone()]);
            }
            if let Some(r) = range {
                c.extend(["--ip-range".into(), r.clone()]);
            }
        }
        if self.internal {
            c.push("--internal".into());
        }
        let mut all = self.labels.clone();
        all.extend(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        for (k, v) in &all {
            c.extend(["--label".into(), format!("{k}={v}")]);
        }
        c.push(name.to_string());
        c
    }
}

/// Waves of a parallel operation: each item once every item it waits for is done.
fn waves(items: &[String], waits_for: impl Fn(&str) -> Vec<String>) -> Vec<Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while done.len() < items.len() {
        let wave: Vec<String> = items
            .iter()
            .filter(|i| !done.contains(i))
            .filter(|i| waits_for(i).iter().all(|d| done.contains(d) || !items.contains(d)))
            .cloned()
            .collect();
        if wave.is_empty() {
            break;
        }
        done.extend(wave.iter().cloned());
        out.push(wave);
    }
    out
}

/// What `up`/`down` printed, then why it stopped.
fn failed(progress: Progress, e: EngineError) -> EngineError {
    EngineError(format!("{}{}", progress.out, daemon_words(&e)))
}

/// `(busy, result)` of [`docker`] into the running total and `?`-able result.
fn timed(busy: &mut SimTime, (took, r): (SimTime, Result<String, EngineError>)) -> Result<String, EngineError> {
    *busy += took;
    r
}

/// Runs `verb` against the host's engine.
pub fn run(engine: &mut Engine, p: &Project, verb: &Verb) -> Result<Done, EngineError> {
    let mut pr = Progress::default();
    // Compose's own start: the Python interpreter and the first API call (docs/docker-model.md
    // *How long a command takes*).
    let mut busy = SimTime::from_millis(START_MS);
    let known = |names: &[String]| -> Result<(), EngineError> {
        match names.iter().find(|n| p.service(n).is_none()) {
            Some(n) => Err(EngineError(format!("No such service: {n}"))),
            None => Ok(()),
        }
    };
    match verb {
        Verb::ConfigServices | Verb::Ps { services_only: true, .. } => {
            let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
            Ok(Done { out: format!("{}\n", names.join("\n")), busy, ..Default::default() })
        }
        Verb::Ps { quiet, services, .. } => {
            known(services)?;
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut ids = Vec::new();
            let mut cs = of_services(engine, p, services);
            cs.sort_by(|a, b| a.name.cmp(&b.name));
            for c in cs {
                ids.push(c.id.clone());
                let mut command = c.command.join(" ");
                if command.chars().count() > 30 {
                    command = format!("{} ...", command.chars().take(26).collect::<String>());
                }
                let state = match c.state {
                    RunState::Running => "Up".to_string(),
                    RunState::Created => "Exit 0".to_string(),
                    RunState::Exited(code) => format!("Exit {code}"),
                };
                rows.push(vec![c.name.clone(), command, state, ports(engine, c)]);
            }
            let out = if *quiet {
                ids.iter().map(|i| format!("{i}\n")).collect()
            } else {
                table(&["Name", "Command", "State", "Ports"], &rows)
            };
            Ok(Done { out, busy, ..Default::default() })
        }
        Verb::Logs { tail, services } => {
            known(services)?;
            // Newest first, as the API lists them and Compose names them
            // (`print("Attaching to", list_containers(containers))`, compose/cli/main.py).
            let names: Vec<String> = of_services(engine, p, services).iter().map(|c| c.name.clone()).collect();
            // `name_without_project`, padded to the longest (compose/cli/log_printer.py,
            // `build_log_prefix`).
            let short = |n: &str| n.strip_prefix(&format!("{}_", p.name)).unwrap_or(n).to_string();
            let width = names.iter().map(|n| short(n).chars().count()).max().unwrap_or(0);
            let prefixed = names.iter().map(|n| (format!("{:<width$} | ", short(n)), n.clone())).collect();
            let out = format!("Attaching to {}\n", names.join(", "));
            Ok(Done { out, busy, logs: Some(Logs { containers: prefixed, tail: *tail }), ..Default::default() })
        }
        Verb::Exec { service, index, command } => {
            // Compose 1.29 prints nothing here without a terminal (traces/docker/compose/).
            let s = p.service(service).ok_or_else(|| EngineError(String::new()))?;
            let name = match index {
                1 => p.container_name(s),
                n => format!("{}_{}_{n}", p.name, s.name),
            };
            if !engine.container(&name).is_some_and(|c| c.state == RunState::Running) {
                return Err(EngineError(String::new()));
            }
            Ok(Done { out: String::new(), busy, exec: Some((name, command.clone())), ..Default::default() })
        }
        Verb::Up { no_deps, services, .. } => {
            known(services)?;
            // The services asked for and, unless --no-deps, what they depend on.
            let mut wanted: Vec<String> = if services.is_empty() {
                p.services.iter().map(|s| s.name.clone()).collect()
            } else {
                services.clone()
            };
            if !no_deps {
                let mut k = 0;
                while k < wanted.len() {
                    let deps = p.service(&wanted[k]).map(|s| s.depends_on.clone()).unwrap_or_default();
                    for d in deps {
                        if !wanted.contains(&d) {
                            wanted.push(d);
                        }
                    }
                    k += 1;
                }
            }
            let order: Vec<String> = p.services.iter().map(|s| s.name.clone()).filter(|s| wanted.contains(s)).collect();
            let mut nets: Vec<&NetDef> = Vec::new();
            for s in order.iter().filter_map(|s| p.service(s)) {
                for (k, _) in &s.networks {
                    if let Some(n) = p.net(k).filter(|n| !nets.iter().any(|m| m.key == n.key)) {
                        nets.push(n);
                    }
                }
            }
            for n in nets {
                let name = p.net_name(n);
                if engine.network(&name).is_some() {
                    continue;
                }
                if n.external {
                    return Err(EngineError(format!(
                        "Network {name} declared as external, but could not be found. Please create the network manually using `docker network create {name}` and try again."
                    )));
                }
                match &n.driver {
                    Some(d) => pr.info(&format!("Creating network \"{name}\" with driver \"{d}\"")),
                    None => pr.info(&format!("Creating network \"{name}\" with the default driver")),
                }
                let c = network_create(p, n);
                timed(&mut busy, docker(engine, &c)).map_err(|e| failed(std::mem::take(&mut pr), e))?;
            }
            let mut changed = false;
            for wave in waves(&order, |s| p.service(s).map(|s| s.depends_on.clone()).unwrap_or_default()) {
                // What each service of the wave does, and the commands that do it.
                let mut ops: Vec<(&'static str, String, Vec<Vec<String>>)> = Vec::new();
                for s in wave.iter().filter_map(|s| p.service(s)) {
                    let name = p.container_name(s);
                    let hash = config_hash(p, s);
                    match engine.container(&name) {
                        Some(c) if c.labels.get("com.docker.compose.config-hash") == Some(&hash) => match c.state {
                            RunState::Running => pr.info(&format!("{name} is up-to-date")),
                            _ => ops.push((
                                "Starting",
                                name.clone(),
                                vec![vec!["docker".into(), "start".into(), name.clone()]],
                            )),
                        },
                        Some(c) if c.labels.get(LABEL_PROJECT) == Some(&p.name) => {
                            let mut cmds = vec![vec!["docker".into(), "rm".into(), "-f".into(), name.clone()]];
                            cmds.extend(create_commands(p, s));
                            ops.push(("Recreating", name.clone(), cmds));
                        }
                        _ => ops.push(("Creating", name.clone(), create_commands(p, s))),
                    }
                }
                // Each service's operation starts in turn; the ones with fewer API calls end
                // (and take their addresses) first.
                for (verb, name, _) in &ops {
                    pr.add(verb, std::slice::from_ref(name));
                }
                let mut by_end: Vec<usize> = (0..ops.len()).collect();
                by_end.sort_by_key(|&i| ops[i].2.len());
                let mut longest = SimTime::ZERO;
                for i in by_end {
                    let (verb, name, cmds) = &ops[i];
                    let mut took = SimTime::ZERO;
                    for c in cmds {
                        if let Err(e) = timed(&mut took, docker(engine, c)) {
                            pr.line(verb, name, "error");
                            let svc = p
                                .services
                                .iter()
                                .find(|s| &p.container_name(s) == name)
                                .map_or("", |s| s.name.as_str());
                            let why = daemon_words(&e);
                            pr.out += &format!("\nERROR: for {name}  Cannot start service {svc}: {why}\n");
                            pr.out += &format!("\nERROR: for {svc}  Cannot start service {svc}: {why}\n");
                            pr.out += "ERROR: Encountered errors while bringing up the project.\n";
                            return Err(EngineError(pr.out));
                        }
                    }
                    changed = true;
                    longest = longest.max(took);
                    pr.line(verb, name, "done");
                }
                busy += longest;
            }
            Ok(Done { out: pr.out, busy, changed, ..Default::default() })
        }
        Verb::Stop { services } | Verb::Start { services } | Verb::Restart { services } => {
            known(services)?;
            let (word, op): (&str, &[&str]) = match verb {
                Verb::Stop { .. } => ("Stopping", &["stop"]),
                Verb::Start { .. } => ("Starting", &["start"]),
                _ => ("Restarting", &["restart"]),
            };
            let running = !matches!(verb, Verb::Start { .. });
            let names: Vec<String> = labelled(engine, p)
                .into_iter()
                .filter(|c| (c.state == RunState::Running) == running)
                .filter(|c| c.labels.get(LABEL_SERVICE).is_some_and(|s| services.is_empty() || services.contains(s)))
                .map(|c| c.name.clone())
                .collect();
            let changed = !names.is_empty();
            busy += step_all(engine, p, &mut pr, word, op, &names, matches!(verb, Verb::Stop { .. }))?;
            Ok(Done { out: pr.out, busy, changed, ..Default::default() })
        }
        Verb::Down { remove_orphans } => {
            let in_file =
                |c: &&super::engine::Container| c.labels.get(LABEL_SERVICE).is_some_and(|s| p.service(s).is_some());
            let running: Vec<String> = labelled(engine, p)
                .into_iter()
                .filter(in_file)
                .filter(|c| c.state == RunState::Running)
                .map(|c| c.name.clone())
                .collect();
            busy += step_all(engine, p, &mut pr, "Stopping", &["stop"], &running, true)?;
            let orphans: Vec<String> =
                labelled(engine, p).into_iter().filter(|c| !in_file(c)).map(|c| c.name.clone()).collect();
            if !orphans.is_empty() {
                if *remove_orphans {
                    for o in &orphans {
                        pr.info(&format!("Removing orphan container \"{o}\""));
                        let c = vec!["docker".into(), "rm".into(), "-f".into(), o.clone()];
                        timed(&mut busy, docker(engine, &c)).map_err(|e| failed(std::mem::take(&mut pr), e))?;
                    }
                } else {
                    pr.info(&format!("Found orphan containers ({}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", orphans.join(", ")));
                }
            }
            let stopped: Vec<String> = labelled(engine, p)
                .into_iter()
                .filter(in_file)
                .filter(|c| c.state != RunState::Running)
                .map(|c| c.name.clone())
                .collect();
            busy += step_all(engine, p, &mut pr, "Removing", &["rm"], &stopped, false)?;
            for n in &p.networks {
                let name = p.net_name(n);
                if n.external {
                    pr.info(&format!("Network {name} is external, skipping"));
                    continue;
                }
                pr.info(&format!("Removing network {name}"));
                if engine.network(&name).is_none() {
                    pr.info(&format!("Network {name} not found."));
                    continue;
                }
                let c = vec!["docker".into(), "network".into(), "rm".into(), name.clone()];
                timed(&mut busy, docker(engine, &c)).map_err(|e| failed(std::mem::take(&mut pr), e))?;
            }
            Ok(Done { out: pr.out, busy, changed: true, ..Default::default() })
        }
    }
}

/// How long Compose 1.29 takes before its first API call: `docker-compose ps` of an empty
/// project, median of five runs on Docker Engine 20.10.24 (docs/docker-model.md).
const START_MS: u64 = 480;

/// One operation over containers in parallel (`parallel_execute`): every line first, then
/// the containers in waves, a stop waiting for the containers of the services that depend
/// on it (`project.py`, `stop`: "inversed dependencies").
fn step_all(
    engine: &mut Engine,
    p: &Project,
    pr: &mut Progress,
    word: &str,
    op: &[&str],
    names: &[String],
    reverse_deps: bool,
) -> Result<SimTime, EngineError> {
    if names.is_empty() {
        return Ok(SimTime::ZERO);
    }
    pr.add(word, names);
    let service_of =
        |c: &str| engine.container(c).and_then(|c| c.labels.get(LABEL_SERVICE).cloned()).unwrap_or_default();
    let services: BTreeMap<String, String> = names.iter().map(|n| (n.clone(), service_of(n))).collect();
    let waits_for = |c: &str| -> Vec<String> {
        if !reverse_deps {
            return Vec::new();
        }
        let svc = &services[c];
        names.iter().filter(|o| p.service(&services[*o]).is_some_and(|s| s.depends_on.contains(svc))).cloned().collect()
    };
    let mut busy = SimTime::ZERO;
    for wave in waves(names, waits_for) {
        let mut longest = SimTime::ZERO;
        for n in wave {
            let mut c: Vec<String> = vec!["docker".into()];
            c.extend(op.iter().map(|w| w.to_string()));
            c.push(n.clone());
            let (took, r) = docker(engine, &c);
            longest = longest.max(took);
            if let Err(e) = r {
                pr.line(word, &n, "error");
                return Err(EngineError(format!("{}\nERROR: for {n}  {}\n", pr.out, daemon_words(&e))));
            }
            pr.line(word, &n, "done");
        }
        busy += longest;
    }
    Ok(busy)
}

/// A container's ports as `docker-compose ps` shows them (`container.py`,
/// `human_readable_ports`): by `PORT/PROTO`, each binding `HOSTIP:HOSTPORT->PORT/PROTO`, an
/// exposed port without one as itself.
fn ports(engine: &Engine, c: &super::engine::Container) -> String {
    let v = super::inspect::container(engine, c, &[]);
    let mut keys: Vec<String> = Vec::new();
    for src in [&v["Config"]["ExposedPorts"], &v["NetworkSettings"]["Ports"]] {
        if let Some(m) = src.as_object() {
            keys.extend(m.keys().filter(|k| !keys.contains(k)).cloned().collect::<Vec<_>>());
        }
    }
    keys.sort();
    keys.iter()
        .map(|k| match v["NetworkSettings"]["Ports"][k].as_array() {
            Some(bs) if !bs.is_empty() => bs
                .iter()
                .map(|b| {
                    format!("{}:{}->{k}", b["HostIp"].as_str().unwrap_or(""), b["HostPort"].as_str().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join(","),
            _ => k.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// texttable with only the header rule (`Texttable.HEADER`), as Compose's `Formatter.table`
/// draws it: columns as wide as their widest cell, three spaces apart, headers centred (the
/// odd space on the right, `_draw_line`), cells left-aligned, every line padded to the full
/// width.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([headers[i].len()]).max().unwrap_or(0))
        .collect();
    let center = |s: &str, w: usize| {
        let marg = w - s.chars().count();
        let left = marg / 2;
        format!("{}{s}{}", " ".repeat(left), " ".repeat(marg - left))
    };
    let mut out = String::new();
    let head: Vec<String> = headers.iter().zip(&widths).map(|(h, &w)| center(h, w)).collect();
    out += &head.join("   ");
    out.push('\n');
    out += &"-".repeat(widths.iter().sum::<usize>() + 3 * (widths.len() - 1));
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, &w)| format!("{c:<w$}")).collect();
        out += &cells.join("   ");
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    /// `--tail N` before or after the services, as docopt takes options anywhere; its words
    /// for a bad value are compose/cli/main.py's.
    #[test]
    fn logs_takes_its_tail_wherever_it_stands() {
        let logs = |line: &str| match parse(&words(line)).map(|i| i.verb) {
            Ok(Verb::Logs { tail, services }) => Ok((tail, services)),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r.message),
        };
        assert_eq!(logs("logs --tail 2 web db"), Ok((Some(2), words("web db"))));
        assert_eq!(logs("logs web --tail 2"), Ok((Some(2), words("web"))));
        assert_eq!(logs("logs --tail=all"), Ok((None, Vec::new())));
        assert_eq!(logs("logs --tail x web"), Err("tail flag must be all or a number".into()));
        assert_eq!(logs("logs web --tail"), Err("--tail requires an argument".into()));
    }

    #[test]
    fn services_start_after_what_they_depend_on_and_otherwise_in_file_order() {
        let file = "services:\n  web:\n    image: alpine\n    depends_on: [db]\n  cache:\n    image: alpine\n  db:\n    image: alpine\n";
        let inv = parse(&words("up -d")).unwrap();
        let p = load(&inv.source, "/root/shop", &|f| (f == "/root/shop/docker-compose.yml").then(|| file.to_string()))
            .unwrap();
        let order: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        // As `docker-compose config --services` (1.29.2) printed for this file: sort_service_dicts
        // visits from the last service, db, whose dependent web is placed after it.
        assert_eq!(order, ["cache", "db", "web"]);
        assert_eq!(p.name, "shop");
        assert_eq!(p.container_name(&p.services[0]), "shop_cache_1");
    }

    #[test]
    fn a_cycle_and_an_unknown_dependency_are_refused_in_composes_words() {
        // What `docker-compose config --services` (1.29.2) printed for these files: "Circular
        // dependency between b and a" (the names in the order of a Python set) and the line below.
        let read = |text: &'static str| move |_: &str| Some(text.to_string());
        let inv = parse(&words("ps")).unwrap();
        let cyc =
            "services:\n  a:\n    image: alpine\n    depends_on: [b]\n  b:\n    image: alpine\n    depends_on: [a]\n";
        assert!(load(&inv.source, "/root", &read(cyc)).unwrap_err().message.starts_with("Circular dependency between"));
        let unknown = "services:\n  a:\n    image: alpine\n    depends_on: [nope]\n";
        assert_eq!(
            load(&inv.source, "/root", &read(unknown)).unwrap_err().message,
            "Service 'a' depends on service 'nope' which is undefined."
        );
    }

    #[test]
    fn the_ps_table_is_drawn_as_texttable_draws_it() {
        // From traces/docker/compose/record.txt.
        let t = table(
            &["Name", "Command", "State", "Ports"],
            &[vec!["lab1_aa_1".into(), "sleep 100000".into(), "Up".into(), "".into()]],
        );
        assert_eq!(
            t,
            "  Name        Command      State   Ports\n----------------------------------------\nlab1_aa_1   sleep 100000   Up           \n"
        );
        assert_eq!(
            table(&["Name", "Command", "State", "Ports"], &[]),
            "Name   Command   State   Ports\n------------------------------\n"
        );
    }
}
