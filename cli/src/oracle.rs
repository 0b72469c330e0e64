//! `netsim oracle FILE`: the scenario on this machine's Docker Engine beside the simulator.

use std::path::Path;

use miette::{Result, miette};
use netsim_oracle::compare::{self, Comparison};
use netsim_oracle::record::{self, EngineInfo};
use netsim_oracle::replay::{self, Options};
use netsim_oracle::{Error, Record};
use sim_core::docker::era::{EngineSpec, Era};
use sim_core::scenario::Loaded;

/// The simulator set to the daemon the record came from: its release and its `--mtu`.
pub fn sim_for(loaded: &Loaded, engine: &EngineInfo, seed: Option<u64>) -> Result<sim_core::Sim> {
    let mut l = loaded.clone();
    let version = Era::parse(&engine.server_version).ok_or_else(|| {
        miette!(
            help = format!("netsim models Docker Engine {}", Era::SUPPORTED.join(" and ")),
            "the engine is {}, an era the simulator does not model",
            engine.server_version
        )
    })?;
    l.scenario.engine = EngineSpec { version, mtu: if engine.daemon_mtu > 0 { engine.daemon_mtu } else { 1500 } };
    let mut sim = l.build(seed).map_err(|e| miette::Report::new(*e))?;
    if let Some(d) = sim.director.as_mut() {
        // The replay reads from each step's log which sandboxes have an embedded DNS.
        d.keep_script = true;
    }
    Ok(sim)
}

/// The user bridges' subnets and gateways as the simulated (freshly started) daemon gave them.
fn fresh_subnets(sim: &sim_core::Sim, host: &str) -> std::collections::BTreeMap<String, (String, String)> {
    let mut out = std::collections::BTreeMap::new();
    let Some(d) = sim.director.as_ref() else { return out };
    let Ok(e) = d.engine(host) else { return out };
    for n in e.networks.iter().filter(|n| !["bridge", "host", "none"].contains(&n.name.as_str())) {
        let Ok(text) = d.inspect_network(host, &n.name) else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let c = &v[0]["IPAM"]["Config"][0];
        if let (Some(s), Some(g)) = (c["Subnet"].as_str(), c["Gateway"].as_str())
            && v[0]["Driver"] == "bridge"
        {
            out.insert(n.name.clone(), (s.to_string(), g.to_string()));
        }
    }
    out
}

/// Whether a step of the lab asks for a static address (`--ip`) on network `net`.
fn static_ip_on(loaded: &Loaded, net: &str) -> bool {
    use sim_core::docker::cli::{self, DockerCommand, NetworkMode};
    loaded.scenario.steps.iter().any(|s| match cli::parse(&s.run) {
        Ok(DockerCommand::Run(r)) | Ok(DockerCommand::Create(r)) => r
            .networks
            .iter()
            .any(|a| a.ipv4_address.is_some() && matches!(&a.mode, NetworkMode::UserDefined(n) if n == net)),
        Ok(DockerCommand::NetworkConnect(c)) => c.ipv4_address.is_some() && c.network == net,
        _ => false,
    })
}

/// The lab's steps from the `ran`th on, which the simulator's run never reached.
fn unreached(loaded: &sim_core::scenario::Loaded, ran: usize) -> Vec<sim_core::director::StepLog> {
    let steps = &loaded.scenario.steps;
    steps
        .iter()
        .enumerate()
        .skip(ran)
        .map(|(index, s)| sim_core::director::StepLog {
            index,
            at: sim_core::SimTime::ZERO,
            chained: true,
            host: s.on.clone(),
            line: s.run.clone(),
            output: Ok(String::new()),
            took: sim_core::SimTime::ZERO,
            status: 0,
            delta: None,
            started: Vec::new(),
            background: Vec::new(),
            dns: Vec::new(),
            zones: Vec::new(),
        })
        .collect()
}

fn err(e: Error) -> miette::Report {
    match e {
        Error::NotHostable(m) => miette!(help = "see traces/docker/README.md for what one engine can host", "{m}"),
        Error::NoEngine(m) => miette!(help = "is dockerd running? `docker info` must succeed", "{m}"),
        e => miette!("{e}"),
    }
}

/// Runs the oracle (or compares with a kept record) and prints the differences; returns how
/// many there are.
pub fn run(file: &Path, seed: Option<u64>, against: Option<&Path>, save: Option<&Path>, force: bool) -> Result<usize> {
    let loaded = crate::load(file)?;
    let host = replay::hostable(&loaded).map_err(err)?;
    let (rec, flows) = match against {
        Some(dir) => {
            let kept = |e: Error| {
                miette!(
                    help = "keep one with `netsim oracle FILE --save` (records are under traces/docker/)",
                    "--against {e}"
                )
            };
            let rec = Record::load(dir).map_err(kept)?;
            let flows = record::load_flows(dir).map_err(kept)?;
            (rec, flows)
        }
        None => {
            netsim_netns::realise::check_privileges().map_err(|e| miette!("{e}"))?;
            // The steps as the simulator runs them: each one's processes are what the agent runs.
            let info = netsim_oracle::engine::info().map_err(err)?;
            let probe =
                EngineInfo { server_version: info.server_version.clone(), daemon_mtu: 1500, ..Default::default() };
            let mut sim = sim_for(&loaded, &probe, seed)?;
            sim.world.trace = false;
            sim.run_until(sim_core::Until::Idle);
            let mut steps = sim.director.as_ref().map(|d| d.transcript.clone()).unwrap_or_default();
            let reached = steps.len();
            // The engine types every step of the lab, also those the simulator never reached
            // (a run that stopped early): as the lab has them, with no process of the
            // simulator's to stand in for their programs.
            steps.extend(unreached(&loaded, steps.len()));
            let mut subnets = fresh_subnets(&sim, &host);
            // `--ip` needs a subnet the user gave (the engine refuses it otherwise): a network
            // a step gives one on is typed as the lab has it, so the engine can refuse.
            subnets.retain(|net, _| !static_ip_on(&loaded, net));
            let agent = std::env::current_exe().map_err(|e| miette!("the netsim binary: {e}"))?;
            let done = replay::run(&loaded, &steps, &Options { force, agent, subnets, reached }).map_err(err)?;
            let flows = record::flows_of(&done.frames);
            if let Some(root) = save {
                let dir = replay::trace_dir(root, file);
                done.record.save(&dir).map_err(err)?;
                record::save_frames(&dir, &done.frames).map_err(err)?;
                outln!("# kept the record in {}", dir.display());
            }
            (done.record, flows)
        }
    };
    let side = compare::sim_side(sim_for(&loaded, &rec.engine, seed)?, &host);
    let Comparison { diffs, explained } = compare::compare(&rec, &flows, &side);
    let client = match rec.engine.client_version.as_str() {
        "" => String::new(),
        v => format!(", typed with docker {v}"),
    };
    outln!(
        "# {} — Docker Engine {} (API {}, daemon mtu {}{client}) on Linux {}",
        loaded.scenario.name,
        rec.engine.server_version,
        rec.engine.api_version,
        rec.engine.daemon_mtu,
        rec.engine.kernel
    );
    for n in rec.notes.iter().chain(&explained) {
        outln!("# explained: {n}");
    }
    for d in &diffs {
        outln!("{d}");
    }
    outln!(
        "# {} steps, {} networks, {} namespaces, {} interfaces of frames compared: {}",
        rec.steps.len(),
        rec.networks.len(),
        rec.namespaces.len(),
        flows.len(),
        if diffs.is_empty() { "no difference".to_string() } else { format!("{} differences", diffs.len()) }
    );
    Ok(diffs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(steps: &str) -> Loaded {
        let text =
            format!(r#"Scenario(name: "pins", hosts: [(name: "host1", addr: "192.168.99.101/24")], steps: [{steps}])"#);
        Loaded::from_str("pins.ron", &text).expect("loads")
    }

    /// A network a step gives a static address on is not pinned to the simulator's subnet:
    /// the engine must see it made as typed, and refuse `--ip` there as it does.
    #[test]
    fn a_static_address_keeps_the_network_as_typed() {
        let l = lab(r#"(on: "host1", run: "docker network create appnet"),
            (on: "host1", run: "docker network create other"),
            (on: "host1", run: "docker run -dit --name ca --network appnet --ip 172.18.0.9 alpine", fails: true),
            (on: "host1", run: "docker run -dit --name cb --network other alpine"),
            (on: "host1", run: "docker network connect --ip 172.19.0.9 other ca", fails: true)"#);
        assert!(static_ip_on(&l, "appnet"));
        assert!(static_ip_on(&l, "other"));
        let l = lab(r#"(on: "host1", run: "docker network create appnet"),
            (on: "host1", run: "docker run -dit --name ca --network appnet alpine")"#);
        assert!(!static_ip_on(&l, "appnet"));
    }

    /// Steps past where the simulator stopped are still typed on the engine, as written.
    #[test]
    fn steps_the_simulator_never_reached_are_played_as_typed() {
        let l = lab(r#"(on: "host1", run: "docker network create appnet"),
            (on: "host1", run: "docker ps")"#);
        let rest = unreached(&l, 1);
        assert_eq!(rest.len(), 1);
        assert_eq!((rest[0].index, rest[0].host.as_str(), rest[0].line.as_str()), (1, "host1", "docker ps"));
        assert!(rest[0].started.is_empty());
    }
}
