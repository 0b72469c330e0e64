//! Talking to the engine through the `docker` CLI, as a student would, and leaving it as it
//! was found.

use std::process::{Command, Output, Stdio};

use crate::{Error, LABEL};

/// The output of one command: exit status, stdout, stderr.
#[derive(Clone, Debug)]
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.status == 0
    }
}

fn ran(o: Output) -> Ran {
    Ran {
        status: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The `PATH` the oracle runs programs with (`docker`, and the lab's lines through `sh`):
/// the directory of the daemon's own client first, where one is installed. A lab is judged by
/// the client of its engine's release: Debian's docker.io ships its `/usr/bin/docker` beside
/// dockerd while a newer client may come first on the `PATH`, and docker/cli 28 refuses
/// `--mac-address` on a 20.10 daemon (`"specify mac-address per network" requires API version
/// 1.44`) and words failures its own way. The daemon's own is the client whose default API
/// version is the daemon's; without one the first client is used, which negotiates it.
fn path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var("PATH").unwrap_or_default();
        let own = std::env::split_paths(&path).find(|dir| {
            let client = dir.join("docker");
            client.is_file()
                && Command::new(&client)
                    .args(["version", "--format", "{{.Client.DefaultAPIVersion}} {{.Server.APIVersion}}"])
                    .stdin(Stdio::null())
                    .output()
                    .is_ok_and(|o| {
                        let t = String::from_utf8_lossy(&o.stdout);
                        let v: Vec<&str> = t.split_whitespace().collect();
                        o.status.success() && v.len() == 2 && v[0] == v[1]
                    })
        });
        match own {
            Some(dir) => {
                let rest = std::env::split_paths(&path).filter(|d| *d != dir);
                std::env::join_paths(std::iter::once(dir.clone()).chain(rest))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or(path)
            }
            None => path,
        }
    })
}

/// Runs a program with arguments; an error only when it cannot be started.
pub fn run(prog: &str, args: &[&str]) -> Result<Ran, Error> {
    Command::new(prog)
        .env("PATH", path())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map(ran)
        .map_err(|e| Error::Command { what: prog.into(), msg: e.to_string() })
}

/// A shell line, as typed: scenario steps are shell words (quotes and all).
pub fn sh(line: &str) -> Result<Ran, Error> {
    run("sh", &["-c", line])
}

/// `docker ARGS…`, failing with the engine's own words when it fails.
pub fn docker(args: &[&str]) -> Result<String, Error> {
    let r = run("docker", args)?;
    if r.ok() {
        Ok(r.stdout)
    } else {
        Err(Error::Command { what: format!("docker {}", args.join(" ")), msg: r.stderr.trim().to_string() })
    }
}

/// `docker inspect`-style JSON: the first element of the array.
pub fn inspect(kind: &str, name: &str) -> Result<serde_json::Value, Error> {
    let out = docker(&[kind, "inspect", name])?;
    let v: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| Error::Command { what: format!("docker {kind} inspect {name}"), msg: e.to_string() })?;
    Ok(v.get(0).cloned().unwrap_or(serde_json::Value::Null))
}

/// The engine: its version, and what it holds before the oracle starts.
#[derive(Clone, Debug)]
pub struct Info {
    pub server_version: String,
    pub api_version: String,
    /// The client the oracle types with ([`path`]).
    pub client_version: String,
    pub kernel: String,
    pub swarm: String,
}

/// `docker info`, or why there is no engine (its exact error).
pub fn info() -> Result<Info, Error> {
    let r = run("docker", &["info", "--format", "{{json .}}"])
        .map_err(|e| Error::NoEngine(format!("cannot run `docker`: {e}")))?;
    if !r.ok() {
        return Err(Error::NoEngine(format!("`docker info` failed: {}", r.stderr.trim())));
    }
    let v: serde_json::Value =
        serde_json::from_str(r.stdout.trim()).map_err(|e| Error::NoEngine(format!("`docker info`: {e}")))?;
    if let Some(errs) = v.get("ServerErrors").and_then(|e| e.as_array())
        && !errs.is_empty()
    {
        return Err(Error::NoEngine(format!(
            "`docker info`: {}",
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
        )));
    }
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    let version = |f: &str| run("docker", &["version", "--format", f]).map(|r| r.stdout.trim().to_string());
    Ok(Info {
        server_version: s("ServerVersion"),
        api_version: version("{{.Server.APIVersion}}").unwrap_or_default(),
        client_version: version("{{.Client.Version}}").unwrap_or_default(),
        kernel: s("KernelVersion"),
        swarm: v.pointer("/Swarm/LocalNodeState").and_then(|x| x.as_str()).unwrap_or("inactive").to_string(),
    })
}

/// The engine's built-in networks, which are there on every daemon.
pub const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

/// Refuses to run on an engine that holds a swarm, user networks or containers the oracle did
/// not make (a run would change them, and their rules would blur the comparison).
pub fn preflight(info: &Info, force: bool) -> Result<(), Error> {
    let mut found = Vec::new();
    if info.swarm != "inactive" {
        found.push(format!("a swarm (this node is `{}`)", info.swarm));
    }
    let nets = docker(&["network", "ls", "--format", "{{.Name}}\t{{.Labels}}"])?;
    let theirs: Vec<&str> = nets
        .lines()
        .filter_map(|l| l.split_once('\t').or(Some((l, ""))))
        .filter(|(n, labels)| !PREDEFINED.contains(n) && !labels.contains(LABEL) && !n.is_empty())
        .map(|(n, _)| n)
        .collect();
    if !theirs.is_empty() {
        found.push(format!("user networks {}", theirs.join(", ")));
    }
    let ctrs = docker(&["ps", "-a", "--format", "{{.Names}}\t{{.Labels}}"])?;
    let theirs: Vec<&str> = ctrs
        .lines()
        .filter_map(|l| l.split_once('\t').or(Some((l, ""))))
        .filter(|(n, labels)| !labels.contains(LABEL) && !n.is_empty())
        .map(|(n, _)| n)
        .collect();
    if !theirs.is_empty() {
        found.push(format!("containers {}", theirs.join(", ")));
    }
    if found.is_empty() || force {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the engine already has {} that netsim did not create; the oracle would change them and \
         their rules would show up in the comparison. Remove them, or pass --force to run anyway",
        found.join(" and ")
    )))
}

/// Removes everything labelled as the oracle's, and the swarm if the oracle started it.
/// Errors are collected, not returned early: clean-up does as much as it can.
pub fn clean(left_swarm: bool) -> Vec<String> {
    let mut errs = Vec::new();
    let labelled = |what: &[&str]| -> Vec<String> {
        let mut args = what.to_vec();
        let filter = format!("label={LABEL}");
        args.extend(["--filter", filter.as_str()]);
        let mut ids: Vec<String> = docker(&args).unwrap_or_default().split_whitespace().map(String::from).collect();
        ids.dedup();
        ids
    };
    // The services first: while one runs, its orchestrator replaces every task container
    // that is removed, and the replacement would hold the image and the networks.
    if left_swarm
        && let Ok(ids) = docker(&["service", "ls", "-q"])
        && !ids.trim().is_empty()
    {
        let mut args = vec!["service", "rm"];
        args.extend(ids.split_whitespace());
        let _ = docker(&args);
    }
    // Then the containers: a removed service's tasks go on their own, shortly after.
    for _ in 0..40 {
        let ids = labelled(&["ps", "-aq"]);
        if ids.is_empty() {
            break;
        }
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let _ = docker(&args);
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    if !labelled(&["ps", "-aq"]).is_empty() {
        errs.push("containers labelled netsim.oracle=1 are still there after 10 s".into());
    }
    if left_swarm {
        // A swarm's networks go while it is there to take them: one the node still lists
        // when it leaves can no longer be removed ("This node is not a swarm manager") and
        // stays until the daemon restarts. A task gone a moment ago may still hold one.
        for _ in 0..40 {
            let ids = labelled(&["network", "ls", "-q", "--filter", "driver=overlay"]);
            if ids.is_empty() {
                break;
            }
            for n in &ids {
                let _ = docker(&["network", "rm", n]);
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        // A lab that ends with `docker swarm leave` has left it already.
        if let Err(e) = docker(&["swarm", "leave", "--force"])
            && !e.to_string().contains("This node is not part of a swarm")
        {
            errs.push(e.to_string());
        }
        // swarm leave keeps docker_gwbridge (as the engine does); the oracle made it.
        let _ = docker(&["network", "rm", "docker_gwbridge"]);
    }
    for n in labelled(&["network", "ls", "-q"]) {
        if let Err(e) = docker(&["network", "rm", &n]) {
            errs.push(e.to_string());
        }
    }
    // A container the engine was still creating can hold the image a moment longer.
    let mut last = None;
    for _ in 0..20 {
        let imgs = labelled(&["images", "-q"]);
        if imgs.is_empty() {
            last = None;
            break;
        }
        let mut args = vec!["rmi", "-f"];
        args.extend(imgs.iter().map(String::as_str));
        last = docker(&args).err().map(|e| e.to_string()).or(Some(format!("image {} is still there", imgs.join(" "))));
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    errs.extend(last);
    errs
}
