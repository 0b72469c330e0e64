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
            let steps = sim.director.as_ref().map(|d| d.transcript.clone()).unwrap_or_default();
            let subnets = fresh_subnets(&sim, &host);
            let agent = std::env::current_exe().map_err(|e| miette!("the netsim binary: {e}"))?;
            let done = replay::run(&loaded, &steps, &Options { force, agent, subnets }).map_err(err)?;
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
