//! `netsim bench`: the simulator's speed, measured beside ns-3 on the same workload.

use std::process::Command;
use std::time::Instant;

use clap::Subcommand;
use miette::{Result, miette};
use sim_core::bench::Lan;
use sim_core::kernel::defaults::BR_MAX_PORTS;
use sim_core::{SimTime, Until};

#[derive(Subcommand)]
pub enum Which {
    /// N hosts on one learning bridge, each sending P UDP datagrams to a random peer.
    Lan {
        #[arg(long, default_value_t = 16)]
        hosts: usize,
        #[arg(long, default_value_t = 32000)]
        packets: u32,
        /// UDP payload bytes.
        #[arg(long, default_value_t = 64)]
        size: usize,
        #[arg(long, default_value = "100us")]
        interval: SimTime,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also run the ns-3 baseline `bench_lan` (BENCHMARKS.md) with the same N and P,
        /// alternating with netsim, and print both.
        #[arg(long)]
        ns3: Option<std::path::PathBuf>,
        /// Rounds of (netsim, ns-3) when --ns3 is given.
        #[arg(long, default_value_t = 1)]
        rounds: u32,
        /// Write the workload as a scenario file here instead of running it (to time or
        /// profile `netsim run` on it, with the hop log and captures a student gets).
        #[arg(long)]
        save: Option<std::path::PathBuf>,
    },
    /// K hosts on an underlay switch, each a bridge with M containers and a VXLAN port;
    /// every container sends P UDP datagrams to a random container on another host.
    Overlay {
        #[arg(long, default_value_t = 2)]
        hosts: usize,
        #[arg(long, default_value_t = 32)]
        containers: usize,
        #[arg(long, default_value_t = 4000)]
        packets: u32,
        /// UDP payload bytes.
        #[arg(long, default_value_t = 64)]
        size: usize,
        #[arg(long, default_value = "100us")]
        interval: SimTime,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also run the ns-3 baseline `bench_overlay` (BENCHMARKS.md) with the same K, M and
        /// P, alternating with netsim, and print both.
        #[arg(long)]
        ns3: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 1)]
        rounds: u32,
    },
    /// A Docker lab of N containers on one user-defined bridge, then pings by name: loads the
    /// file (every step checked) and runs it, timing both.
    Docker {
        #[arg(long, default_value_t = 100)]
        containers: usize,
        #[arg(long, default_value_t = 10)]
        pings: usize,
        /// Keep trace records, as `netsim run` does (off: as the LAN benchmark).
        #[arg(long)]
        trace: bool,
        /// Write the lab's scenario file here instead of running it.
        #[arg(long)]
        save: Option<std::path::PathBuf>,
    },
    /// Build a scenario's kernel plan (as it stands after every step) in network namespaces
    /// and take it down again, timing both (needs root).
    Netns {
        file: std::path::PathBuf,
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
}

pub fn run(w: Which) -> Result<()> {
    match w {
        Which::Overlay { hosts, containers, packets, size, interval, seed, ns3, rounds } => {
            if hosts < 2 || containers == 0 {
                return Err(miette!("--hosts must be at least 2 and --containers at least 1"));
            }
            // Each host's bridge has its containers and the VXLAN port; the underlay switch
            // has the hosts.
            if hosts > BR_MAX_PORTS || containers + 1 > BR_MAX_PORTS {
                return Err(miette!(
                    "--hosts {hosts} --containers {containers}: a Linux bridge takes at most {BR_MAX_PORTS} ports, \
                     so at most {BR_MAX_PORTS} hosts on the underlay switch and {} containers beside each host's VXLAN port",
                    BR_MAX_PORTS - 1
                ));
            }
            for round in 0..rounds.max(1) {
                let cfg =
                    sim_core::bench::Overlay { hosts, containers, packets, size, interval, seed: seed + round as u64 };
                let t0 = Instant::now();
                let mut sim = sim_core::bench::overlay(cfg).map_err(|e| miette!("cannot build the workload: {e}"))?;
                let setup = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                sim.run_until(Until::Idle);
                let run = t1.elapsed().as_secs_f64();
                let st = &sim.world.stats;
                let c = hosts * containers;
                let received = sim_core::bench::received(&sim);
                outln!(
                    "netsim scenario=overlay K={hosts} M={containers} C={c} P={packets} sent={} delivered={received} events={} hops={} setup_s={setup:.3} run_s={run:.3} events_per_s={:.0} hops_per_s={:.0} maxrss_kb={}",
                    c as u64 * packets as u64,
                    sim.events_run,
                    st.hops,
                    sim.events_run as f64 / run,
                    st.hops as f64 / run,
                    max_rss_kb().unwrap_or(0)
                );
                if let Some(bin) = &ns3 {
                    let args = [format!("--K={hosts}"), format!("--M={containers}"), format!("--P={packets}")];
                    ns3_round(bin, &args, st.hops as f64 / run)?;
                }
            }
        }
        Which::Docker { containers, pings, trace, save } => {
            if containers == 0 {
                return Err(miette!("--containers must be at least 1"));
            }
            let src = sim_core::bench::docker_lab(containers, pings);
            if let Some(path) = save {
                std::fs::write(&path, &src).map_err(|e| miette!("cannot write {}: {e}", path.display()))?;
                return Ok(());
            }
            let t0 = Instant::now();
            let loaded =
                sim_core::scenario::Loaded::from_str("bench-docker.ron", &src).map_err(|e| miette::Report::new(*e))?;
            let mut sim = loaded.build(None).map_err(|e| miette::Report::new(*e))?;
            let load = t0.elapsed().as_secs_f64();
            sim.world.trace = trace;
            let t1 = Instant::now();
            sim.run_until(Until::Idle);
            let run = t1.elapsed().as_secs_f64();
            if let Some(s) = sim.stalled() {
                return Err(miette!("{s}"));
            }
            let failed = sim.director.as_ref().map_or(0, |d| d.transcript.iter().filter(|s| s.output.is_err()).count());
            let st = &sim.world.stats;
            outln!(
                "netsim scenario=docker N={containers} pings={pings} trace={trace} steps={} failed={failed} events={} hops={} records={} load_s={load:.3} run_s={run:.3} total_s={:.3} maxrss_kb={}",
                containers + pings + 1,
                sim.events_run,
                st.hops,
                sim.records().len(),
                load + run,
                max_rss_kb().unwrap_or(0)
            );
        }
        Which::Netns { file, rounds } => {
            let loaded = sim_core::scenario::Loaded::from_file(&file).map_err(|e| miette::Report::new(*e))?;
            let mut sim = loaded.build(None).map_err(|e| miette::Report::new(*e))?;
            sim.world.trace = false;
            sim.run_until(Until::Idle);
            let plan = sim.director.as_ref().map(|d| d.plan()).unwrap_or_else(|| loaded.scenario.plan.clone());
            let n = plan.namespaces.len();
            println!(
                "# {}: {n} namespaces, {} links, {} addresses, {} routes, {} neighbours, {} fdb, {} iptables lines",
                file.display(),
                plan.links.len(),
                plan.addresses.len(),
                plan.routes.len(),
                plan.neighbours.len(),
                plan.fdb.len(),
                plan.iptables.len()
            );
            for r in 0..rounds {
                let id = format!("b{r}");
                // What a killed bench left under this id (a live bench's is left alone).
                netsim_netns::realise::clean_run(&id, false).map_err(|e| miette!("{e}"))?;
                let t0 = Instant::now();
                let k = netsim_netns::realise::realise(&plan, &id).map_err(|e| miette!("{e}"))?;
                let built = t0.elapsed();
                let t1 = Instant::now();
                k.teardown().map_err(|e| miette!("{e}"))?;
                let down = t1.elapsed();
                println!(
                    "round {r}: build {:.3} s ({:.2} ms per namespace), teardown {:.3} s",
                    built.as_secs_f64(),
                    built.as_secs_f64() * 1e3 / n as f64,
                    down.as_secs_f64()
                );
            }
        }
        Which::Lan { hosts, packets, size, interval, seed, ns3, rounds, save } => {
            if hosts < 2 {
                return Err(miette!("--hosts must be at least 2"));
            }
            if hosts > BR_MAX_PORTS {
                return Err(miette!(
                    "--hosts {hosts}: at most {BR_MAX_PORTS}, the ports one Linux bridge takes (its port numbers \
                     have 10 bits and 0 is reserved; `ip link set … master` fails with `Exchange full`)"
                ));
            }
            if let Some(path) = save {
                let src = sim_core::bench::lan_scenario(Lan { hosts, packets, size, interval, seed })
                    .map_err(|e| miette!("cannot write the workload: {e}"))?;
                std::fs::write(&path, &src).map_err(|e| miette!("cannot write {}: {e}", path.display()))?;
                return Ok(());
            }
            for round in 0..rounds.max(1) {
                let cfg = Lan { hosts, packets, size, interval, seed: seed + round as u64 };
                let t0 = Instant::now();
                let mut sim = sim_core::bench::lan(cfg).map_err(|e| miette!("cannot build the workload: {e}"))?;
                let setup = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                sim.run_until(Until::Idle);
                let run = t1.elapsed().as_secs_f64();
                let st = &sim.world.stats;
                let sent = hosts as u64 * packets as u64;
                outln!(
                    "netsim scenario=lan N={hosts} P={packets} sent={sent} delivered={} events={} hops={} setup_s={setup:.3} run_s={run:.3} events_per_s={:.0} hops_per_s={:.0} maxrss_kb={}",
                    st.delivered,
                    sim.events_run,
                    st.hops,
                    sim.events_run as f64 / run,
                    st.hops as f64 / run,
                    max_rss_kb().unwrap_or(0)
                );
                if let Some(bin) = &ns3 {
                    ns3_round(bin, &[format!("--N={hosts}"), format!("--P={packets}")], st.hops as f64 / run)?;
                }
            }
        }
    }
    Ok(())
}

/// One run of an ns-3 baseline program with `args` (and `--countHops=1`): prints its RESULT
/// line and the ratio of netsim's frame-hops/s to its.
fn ns3_round(bin: &std::path::Path, args: &[String], netsim_hops_per_s: f64) -> Result<()> {
    let out = Command::new(bin).args(args).arg("--countHops=1").output().map_err(|e| {
        miette!(
            help = "BIN is the ns-3 baseline program described in BENCHMARKS.md",
            "cannot run ns-3 benchmark {}: {e}",
            bin.display()
        )
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .ok_or_else(|| miette!("{} printed no RESULT line", bin.display()))?;
    outln!("ns-3   {}", line.trim_start_matches("RESULT "));
    let ns3_hops: f64 = field(line, "hops_per_s").unwrap_or(0.0);
    if ns3_hops > 0.0 {
        outln!("ratio  netsim/ns-3 frame-hops/s = {:.1}x", netsim_hops_per_s / ns3_hops);
    }
    Ok(())
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Peak resident set (VmHWM) of this process.
fn max_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}
