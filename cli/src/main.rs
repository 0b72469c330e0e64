//! `netsim`: run scenarios, print the kernel plan, show namespace state, benchmark.
//! A thin shell over sim-core: parsing arguments, printing, files.

/// `println!` that ends the program quietly when stdout is closed (`netsim run … | head`);
/// to stderr while stdout carries a capture (`--pcap -`).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let r = if crate::text_to_stderr() {
            writeln!(std::io::stderr(), $($t)*)
        } else {
            writeln!(std::io::stdout(), $($t)*)
        };
        if r.is_err() {
            std::process::exit(0);
        }
    }};
}

mod bench;
mod check;
mod export;
mod hoplog;
mod oracle;
mod pcap;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use clap::{Parser, Subcommand};
use miette::{IntoDiagnostic, Result, miette};
use sim_core::capture::Direction;
use sim_core::kernel::show::What;
use sim_core::scenario::{CaptureNames, Loaded};
use sim_core::{SimTime, Until};

#[derive(Parser)]
#[command(name = "netsim", version, about = "A frame-level simulator and teaching lab for container networking")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// How to read the hop log (`netsim run --help`, and README.md).
const HOP_LOG_LEGEND: &str = "\
Reading the hop log:
  0.000004000 #98←96 node1:web/eth0 ▶ 02:42:… > 02:42:…, IP 10.0.0.2.41234 > 10.0.0.5.80: …
                └ route: 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2
  the simulated time in seconds; #98 the event, numbered from 1 as events run (the same
  number in pcapng comments and in netsim-gui, `--at 98`), ←96 the event that caused it;
  namespace/interface; then
    ▶ a frame leaving the device     ◀ arriving (-v only)     ✖ dropped there
    ● delivered to the namespace's own stack                  $ a line a program printed
    # netsim's note on what a program's socket saw (connected, data queued, FIN, RST)
  and under it the decisions that produced the frame, in the order they were taken.";

/// The legend, and what the clock means (`sim_core::engine::CLOCK_MEANS`), wrapped as
/// the legend is.
fn hop_log_legend() -> String {
    let mut out = format!("{HOP_LOG_LEGEND}\n\n  The clock:");
    let mut col = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
    for w in sim_core::engine::CLOCK_MEANS.split(' ') {
        if col + 1 + w.chars().count() > 92 {
            out.push_str("\n ");
            col = 1;
        }
        out.push(' ');
        out.push_str(w);
        col += 1 + w.chars().count();
    }
    out
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario and print one line per hop with the reason for it.
    #[command(after_help = hop_log_legend())]
    Run {
        file: PathBuf,
        /// Seed of the run's RNG (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Stop at this simulated time (e.g. 10s, 250ms).
        #[arg(long)]
        until: Option<SimTime>,
        /// Write every captured frame to this pcapng file; `-` writes it to standard output
        /// (the hop log then goes to standard error).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Interfaces to capture, comma-separated `namespace/interface` (`ns/*` for all of one
        /// namespace): what goes into --pcap and what the hop log shows. A container's
        /// namespace (`host1:web/eth0`, or `web/eth0` as `docker ps` names it when one host alone has
        /// it) is looked up once its step has made it.
        #[arg(long, value_delimiter = ',')]
        capture: Option<Vec<String>>,
        /// With --pcap: each packet once, on the interface where it was first seen (the same
        /// packet crossing a bridge or a router is not written again), so Wireshark's TCP
        /// analysis sees no false retransmissions. A VXLAN packet counts as the frame it
        /// carries.
        #[arg(long, requires = "pcap")]
        once: bool,
        /// Also print frames as they arrive on each device, not only as they leave.
        #[arg(long, short, conflicts_with_all = ["quiet", "brief"])]
        verbose: bool,
        /// The frames that carry the lesson, without the housekeeping: no dockerd announcements
        /// (unsolicited ARP), and loopback traffic and deliveries only where iptables or IPVS
        /// decided something (the embedded DNS's DNAT over lo stays).
        #[arg(long, short, conflicts_with = "quiet")]
        brief: bool,
        /// Print only application output and the summary.
        #[arg(long, short)]
        quiet: bool,
        /// `sim` (the simulator) or `netns` (the real kernel, in network namespaces; needs root).
        #[arg(long, default_value = "sim")]
        backend: Backend,
    },
    /// Run a lab and grade it by its `expect` checks: one line per check (PASS or FAIL, points,
    /// the evidence: the frame or line that satisfied it, or what was seen instead, and the
    /// hint), then `N passed, M failed` and the score. Exits 0 only when every check passes.
    Check {
        file: PathBuf,
        /// Seed of the run's RNG (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the report as JSON (for autograders).
        #[arg(long)]
        json: bool,
        /// The student's commands, one per line as typed at a prompt (`node1$ docker …`), run
        /// in place of the lab's hidden steps (all of them in an `exercise`); every check is
        /// then made at the end.
        #[arg(long)]
        commands: Option<PathBuf>,
    },
    /// Remove what netsim runs that ended without cleaning up (a crash, SIGKILL) left: the
    /// namespaces and agents their records under /run/netsim name. Live runs are left alone.
    Clean {
        /// Also tear down runs that are still alive (they then fail, naming what vanished).
        #[arg(long)]
        force: bool,
    },
    /// Run a scenario on the simulator and on the kernel (needs root) and report where they
    /// differ: each namespace's state before and after every step, and what the programs printed.
    Diff {
        file: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
        /// Compare the simulator's frames with this kernel capture (a reference trace from
        /// `traces/kernel/`) instead of running on the kernel: needs no root.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Print the kernel plan of a scenario (RON): for Docker scenarios, what the daemons
    /// have built once every step has run.
    Plan { file: PathBuf },
    /// Run a scenario, then print a namespace's state like ip/bridge/iptables-save.
    Show {
        file: PathBuf,
        /// The namespace.
        ns: String,
        /// addr | link | route | neigh | fdb | iptables | conntrack | ipvs | qdisc
        what: What,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        until: Option<SimTime>,
    },
    /// Run a scenario, then print what a host's daemon answers to `docker network inspect NAME`.
    Inspect {
        file: PathBuf,
        /// Only `network` for now.
        kind: InspectKind,
        name: String,
        /// The host whose daemon answers (default: the first Docker host).
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        until: Option<SimTime>,
    },
    /// Run one scenario process (a `Traffic` item, RON) on real sockets, in the current
    /// network namespace: what the netns backend starts inside each namespace.
    #[command(hide = true)]
    Agent {
        /// The namespace's resolver (127.0.0.11 in a sandbox on a user-defined network).
        #[arg(long)]
        nameserver: Option<std::net::Ipv4Addr>,
        /// The process, e.g. `Curl(ns: "c", url: "http://10.0.0.2/")`.
        traffic: String,
    },
    /// Replay a scenario's docker commands on this machine's real Docker Engine (root), record
    /// what it did, and compare it with the simulator (see traces/docker/README.md).
    Oracle {
        file: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
        /// Compare with a record kept earlier (a folder under traces/docker/) instead of
        /// running the engine: needs no engine and no root.
        #[arg(long, conflicts_with_all = ["save", "force"])]
        against: Option<PathBuf>,
        /// Keep the record under traces/docker/ (or --traces DIR).
        #[arg(long)]
        save: bool,
        /// Where records are kept.
        #[arg(long, default_value = "traces/docker")]
        traces: PathBuf,
        /// Run even if the engine has networks, containers or a swarm netsim did not make.
        #[arg(long)]
        force: bool,
    },
    /// Write a lab out for real machines: with `--to script`, one bash script per host that
    /// types the host's steps in the lab's order and makes the lab's checks there (PASS, FAIL,
    /// or SKIP for what needs a capture), with `down` to take away what it made; with `--to
    /// compose` or `--to stack`, one file of what the lab makes, where the lab fits one.
    Export {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "script")]
        to: export::To,
        /// The folder to write into (default: `<lab>-script` here).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Write over scripts already there.
        #[arg(long)]
        force: bool,
    },
    /// Sleep until killed: the process of a container whose image runs no server.
    #[command(hide = true)]
    Pause,
    /// Benchmarks (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

/// Some check of `netsim check` failed: the report has said which, so nothing more is printed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("some checks failed")]
struct CheckFailed;

/// A traced run allocates a few small blocks per frame (the record's copy of the frame, its
/// reasons, a program's line) and frees them a batch later; mimalloc serves those for about
/// half the instructions of the C library's allocator (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<CheckFailed>().is_some() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e:?}");
            ExitCode::FAILURE
        }
    }
}

/// Set when stdout carries the pcapng: every text line goes to stderr.
static TEXT_TO_STDERR: AtomicBool = AtomicBool::new(false);

fn text_to_stderr() -> bool {
    TEXT_TO_STDERR.load(Ordering::Relaxed)
}

/// The SIGINT or SIGTERM that asked a run to stop (0: none yet).
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(sig: std::ffi::c_int) {
    // Only an atomic store: async-signal-safe. The run loop looks at it between events.
    STOP_SIGNAL.store(sig, Ordering::Relaxed);
}

/// SIGINT (Ctrl-C) and SIGTERM end a simulated run between two events, so the pcapng is
/// closed on a whole block. A second signal of the same kind ends the process at once
/// (`SA_RESETHAND`), for a run that does not come back to its loop.
fn catch_stop_signals() -> Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(SigHandler::Handler(on_stop_signal), SaFlags::SA_RESETHAND, SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
        unsafe { sigaction(sig, &action) }.map_err(|e| miette!("cannot catch {sig}: {e}"))?;
    }
    Ok(())
}

fn real_main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { file, seed, pcap, capture, once, brief, backend: Backend::Netns, .. } => {
            if once || brief {
                return Err(miette!(
                    help = "leave them out: the kernel run has no hop log and captures with tcpdump's rules",
                    "--once and --brief are the simulator's; they are not supported with --backend netns"
                ));
            }
            if capture.is_some() {
                return Err(miette!(
                    help = "leave --capture out: the kernel run captures every interface of its namespaces",
                    "--capture is not supported with --backend netns"
                ));
            }
            if let Some(p) = &pcap {
                pcap::check_not_input(p, &file)?;
                TEXT_TO_STDERR.store(pcap::is_stdout(p), Ordering::Relaxed);
            }
            let loaded = crate::load(&file)?;
            netns_run(&loaded, seed, pcap.as_deref())?;
        }
        Cmd::Diff { file, seed, against } => {
            let loaded = crate::load(&file)?;
            let n = match against {
                Some(trace) => diff_trace(&loaded, seed, &trace)?,
                None => diff(&loaded, seed)?,
            };
            if n > 0 {
                return Err(miette!("{n} difference(s) between the simulator and the kernel"));
            }
            outln!("# no divergence");
        }
        Cmd::Check { file, seed, json, commands } => {
            if !check::run(&file, seed, json, commands.as_deref())? {
                // The report says which checks failed; the status says that one did.
                return Err(CheckFailed.into());
            }
        }
        Cmd::Clean { force } => {
            let c = netsim_netns::realise::clean(force).map_err(|e| miette!("{e}"))?;
            for n in &c.removed {
                outln!("removed {n}");
            }
            for pid in &c.killed {
                outln!("killed agent {pid}");
            }
            for (run, pid) in &c.live {
                outln!("# run {run} is still running (pid {pid}): left alone (`netsim clean --force` tears it down)");
            }
            for n in &c.unrecorded {
                outln!("# left {n}: no netsim run recorded it");
            }
            for r in &c.unreadable {
                outln!("# left a record that cannot be read: {r}");
            }
            outln!("# {} namespace(s) removed, {} agent(s) killed", c.removed.len(), c.killed.len());
            // What an interrupted `netsim oracle` left on the engine, if there is one; a live
            // oracle run keeps its containers as it keeps its namespaces.
            let oracle_live = c.live.iter().any(|(run, _)| run == netsim_oracle::replay::RUN_ID);
            if !oracle_live && netsim_oracle::engine::info().is_ok() {
                let errs = netsim_oracle::replay::leftovers(false);
                for e in &errs {
                    outln!("# could not remove: {e}");
                }
                outln!(
                    "# oracle leftovers on the Docker Engine removed (containers, networks, images labelled netsim.oracle=1)"
                );
            }
        }
        Cmd::Run { file, seed, until, pcap, once, capture, verbose, brief, quiet, backend: Backend::Sim } => {
            let level = match (quiet, brief, verbose) {
                (true, _, _) => hoplog::Level::Quiet,
                (_, true, _) => hoplog::Level::Brief,
                (_, _, true) => hoplog::Level::Verbose,
                _ => hoplog::Level::Normal,
            };
            return run_sim(&file, seed, until, pcap.as_deref(), once, capture.as_deref(), level);
        }
        Cmd::Plan { file } => {
            let loaded = crate::load(&file)?;
            // Realise it (and run the steps) so a plan that cannot be built is reported, not printed.
            let mut sim = loaded.build(None).map_err(|e| miette::Report::new(*e))?;
            let plan = match &sim.director {
                Some(d) if !d.steps.is_empty() => {
                    sim.world.trace = false;
                    sim.run_until(Until::Idle);
                    not_stalled(&sim)?;
                    sim.director.as_ref().map(|d| d.plan()).unwrap_or_default()
                }
                Some(d) => d.plan(),
                None => loaded.scenario.plan.clone(),
            };
            let cfg = ron::ser::PrettyConfig::new().struct_names(true);
            outln!("{}", ron::ser::to_string_pretty(&plan, cfg).into_diagnostic()?);
        }
        Cmd::Inspect { file, kind: InspectKind::Network, name, on, seed, until } => {
            let sim = run_to_end(&file, seed, until)?;
            let d = sim.director.as_ref().filter(|d| !d.engines.is_empty()).ok_or_else(|| {
                miette!(help = "inspect needs a scenario with `hosts`", "{} has no Docker host", file.display())
            })?;
            let host = match on {
                Some(h) => h,
                None => d.engines.first().map(|(h, _)| h.clone()).unwrap_or_default(),
            };
            if d.engine(&host).is_err() {
                let hosts: Vec<&str> = d.engines.iter().map(|(h, _)| h.as_str()).collect();
                return Err(miette!(
                    help = format!("Docker hosts: {}", hosts.join(", ")),
                    "--on {host}: no such Docker host"
                ));
            }
            let json = d.inspect_network(&host, &name).map_err(|e| miette!("{e}"))?;
            outln!("{json}");
        }
        Cmd::Show { file, ns, what, seed, until } => {
            let sim = run_to_end(&file, seed, until)?;
            let id = sim.world.ns_by_name(&ns).ok_or_else(|| {
                let names: Vec<_> = sim.world.ns.iter().filter(|n| !n.dead).map(|n| n.name.as_str()).collect();
                miette!(help = format!("namespaces: {}", names.join(", ")), "no namespace `{ns}` in {}", file.display())
            })?;
            // As the tool prints it, blanks at the ends of lines too (iproute2 ends a route
            // and a neighbour with one).
            let text = sim_core::kernel::show::show(&sim.world, id, what);
            outln!("{}", text.strip_suffix('\n').unwrap_or(&text));
        }
        Cmd::Bench { which } => bench::run(which)?,
        Cmd::Export { file, to, out, force } => export::run(&file, to, out, force)?,
        Cmd::Oracle { file, seed, against, save, traces, force } => {
            let n = oracle::run(&file, seed, against.as_deref(), save.then_some(traces.as_path()), force)?;
            if n > 0 {
                return Err(miette!("{n} differences between the engine and the simulator"));
            }
        }
        Cmd::Pause => loop {
            std::thread::park();
        },
        Cmd::Agent { nameserver, traffic } => {
            let t: sim_core::userland::apps::Traffic = ron::from_str(&traffic)
                .map_err(|e| miette!(help = "a Traffic item in RON, as in a scenario's `traffic`", "agent: {e}"))?;
            let mut out = std::io::stdout().lock();
            netsim_netns::agent::run(&t, nameserver, &mut out).map_err(|e| miette!("agent: {e}"))?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    Sim,
    Netns,
}

/// The simulated run: the script that replays it on the kernel, each namespace's state before
/// and after every step, and what the programs printed.
type Simulated = (netsim_netns::kernel::Script, States, Vec<(String, String)>, netsim_netns::conversations::Capture);

/// The simulator's namespaces as `netsim diff` compares them with the kernel's.
struct States {
    /// Before the first step, then after each step's change.
    after: Vec<netsim_netns::state::State>,
    /// When step 2, 3, … begins: what the traffic of the step before taught.
    learned: Vec<netsim_netns::state::State>,
    /// Every bridge the run had, as `ns/dev`.
    bridges: std::collections::BTreeSet<String>,
}

fn simulate(loaded: &Loaded, seed: Option<u64>) -> Result<Simulated> {
    let mut sim = loaded.build(seed).map_err(|e| miette::Report::new(*e))?;
    if let Some(d) = sim.director.as_mut() {
        // The kernel replays the steps from their log: it needs their DNS zones too.
        d.keep_script = true;
    }
    let plan = sim.director.as_ref().map(|d| d.plan()).unwrap_or_default();
    let mut snaps = vec![netsim_netns::state::from_world(&sim.world)];
    // What the run taught when step 2, 3, … begins (as the kernel's run takes it), its MACs
    // named by their owners; and every bridge the run had by then.
    let mut learned = Vec::new();
    let mut bridges: std::collections::BTreeSet<String> = netsim_netns::state::world_bridges(&sim.world).collect();
    loop {
        if sim.next_step().is_some_and(|i| i > 0) {
            learned.push(taught(&sim.world));
            bridges.extend(netsim_netns::state::world_bridges(&sim.world));
        }
        let Some(o) = sim.step() else { break };
        if matches!(o.what, sim_core::sim::EventKind::Step(_)) {
            snaps.push(netsim_netns::state::from_world(&sim.world));
        }
    }
    not_stalled(&sim)?;
    // And what it taught by its end, as the kernel's run takes it once its last frame is due.
    learned.push(taught(&sim.world));
    bridges.extend(netsim_netns::state::world_bridges(&sim.world));
    let output = sim.program_output();
    let mut frames = netsim_netns::conversations::Capture::default();
    for r in sim.records() {
        // On lo what leaves is what arrives, so the sent copy stands for the captured one.
        if let (sim_core::kernel::trace::Dir::Tx, Some(dev), Some(f)) = (r.dir, r.dev, &r.frame) {
            frames.add(&sim.world.dev_path(dev), true, r.time.as_nanos(), f);
        }
    }
    let steps = sim.director.as_ref().map(|d| d.transcript.clone()).unwrap_or_default();
    let timed = loaded.scenario.hosts.is_empty();
    Ok((
        netsim_netns::kernel::Script {
            plan,
            traffic: loaded.scenario.traffic.clone(),
            steps,
            timed,
            last_frame: sim_core::SimTime::from_nanos(frames.last_ns()),
        },
        States { after: snaps, learned, bridges },
        output,
        frames,
    ))
}

/// The world's state with its MACs named by their owners: what is compared of it is what
/// traffic taught.
fn taught(w: &sim_core::World) -> netsim_netns::state::State {
    let mut s = netsim_netns::state::from_world(w);
    netsim_netns::state::name_macs(&mut s, &netsim_netns::state::world_owners(w));
    s
}

/// `netsim diff`: the first divergences, step by step; returns how many there are.
fn diff(loaded: &Loaded, seed: Option<u64>) -> Result<usize> {
    netsim_netns::realise::check_privileges().map_err(|e| miette!("{e}"))?;
    let (script, sim_states, sim_out, sim_frames) = simulate(loaded, seed)?;
    let exe = std::env::current_exe().into_diagnostic()?;
    let run = netsim_netns::kernel::run(&script, exe).map_err(|e| miette!("{e}"))?;
    let mut n = 0;
    for (i, (s, k)) in sim_states.after.iter().zip(&run.snapshots).enumerate() {
        let label = match i {
            0 => "before the first step".to_string(),
            i => script.steps.get(i - 1).map(|l| format!("step {i} (`{}` on {})", l.line, l.host)).unwrap_or_default(),
        };
        for d in netsim_netns::state::compare(s, k) {
            outln!("{label}: {d}");
            n += 1;
        }
    }
    for (i, (s, k)) in sim_states.learned.iter().zip(&run.learned).enumerate() {
        let label = match script.steps.get(i) {
            Some(l) if i + 1 < sim_states.learned.len() => format!("after step {} (`{}` on {})", i + 1, l.line, l.host),
            _ => "at the end of the run".to_string(),
        };
        for d in netsim_netns::state::compare_learned(s, k, &sim_states.bridges) {
            outln!("{label}: {d}");
            n += 1;
        }
    }
    let kernel_out: Vec<(String, String)> =
        run.output.iter().filter(|p| !p.note).map(|p| (p.ns.clone(), p.line.clone())).collect();
    for d in netsim_netns::kernel::compare_output(&sim_out, &kernel_out) {
        outln!("{d}");
        n += 1;
    }
    // What `ip` printed for the steps that only look, line by line.
    for look in &run.looks {
        let Some((i, s)) = script.steps.iter().enumerate().find(|(_, s)| s.index == look.step) else { continue };
        let sim = match &s.output {
            Ok(t) | Err(t) => t.as_str(),
        };
        if let Some(d) = netsim_netns::kernel::compare_look(sim, s.status, look, &run.names) {
            outln!("step {} (`{}` on {}): {d}", i + 1, s.line, s.host);
            n += 1;
        }
    }
    // Frames: what left each interface (on lo, what arrived: the capture keeps one copy).
    let mut kernel_frames = netsim_netns::conversations::Capture::ended_at(run.capture_ended.as_nanos() as u64);
    for f in &run.frames {
        kernel_frames.add(&format!("{}/{}", f.ns, f.ifname), f.outgoing, f.at.as_nanos() as u64, &f.bytes);
    }
    n += report_frames(&sim_frames, &kernel_frames, "the kernel run", script.timed);
    for note in &run.notes {
        outln!("# note: {note}");
    }
    Ok(n)
}

/// `netsim diff --against TRACE`: the simulator's frames beside a kernel capture recorded
/// earlier (state and program output are not in a capture, so only frames are compared).
fn diff_trace(loaded: &Loaded, seed: Option<u64>, trace: &std::path::Path) -> Result<usize> {
    let kernel = netsim_netns::conversations::Capture::from_pcapng(trace).map_err(|e| {
        miette!(help = "record one with `netsim run FILE --backend netns --pcap TRACE`", "--against {e}")
    })?;
    let (script, _, _, sim) = simulate(loaded, seed)?;
    Ok(report_frames(&sim, &kernel, &trace.display().to_string(), script.timed))
}

/// Prints where the simulator's conversations part from the kernel's, then what was compared
/// and what was left out; returns how many conversations differ.
fn report_frames(
    sim: &netsim_netns::conversations::Capture,
    kernel: &netsim_netns::conversations::Capture,
    source: &str,
    timed: bool,
) -> usize {
    let r = netsim_netns::conversations::compare(sim, kernel, timed);
    for d in &r.differences {
        outln!("frames: {d}");
    }
    outln!(
        "# frames: {} conversations on {} interfaces compared in order, {} frames from {source}, {} from the simulator",
        r.compared,
        kernel.interfaces(),
        r.frames.0,
        r.frames.1
    );
    outln!("# normalised: {}", netsim_netns::conversations::NORMALISED);
    if r.after_the_capture.0 > 0 {
        outln!(
            "# not judged: {} frames the simulator sent after the kernel's capture ended ({:.3} s on the simulator's clock)",
            r.after_the_capture.0,
            r.after_the_capture.1 as f64 / 1e9
        );
    }
    for l in &r.left_out {
        outln!("# left out: {l}");
    }
    r.differences.len()
}

/// The scenario on the kernel: the simulated run gives the plan and the steps to replay.
fn netns_run(loaded: &Loaded, seed: Option<u64>, pcap: Option<&std::path::Path>) -> Result<()> {
    netsim_netns::realise::check_privileges().map_err(|e| miette!("{e}"))?;
    let (script, _, _, _) = simulate(loaded, seed)?;
    let exe = std::env::current_exe().into_diagnostic()?;
    outln!("# {} — on the kernel (network namespaces)", loaded.scenario.name);
    let run = netsim_netns::kernel::run(&script, exe).map_err(|e| miette!("{e}"))?;
    for p in &run.output {
        outln!("{} {} {}", p.ns, if p.note { "#" } else { "$" }, p.line);
    }
    for n in &run.notes {
        outln!("# note: {n}");
    }
    outln!("# {} frames captured", run.frames.len());
    if let Some(p) = pcap {
        let f = pcap::open(p)?;
        let mut w = sim_core::capture::PcapngWriter::new(std::io::BufWriter::new(f), "netsim (netns backend)")
            .map_err(|e| miette!("{e}"))?;
        let mut ids: Vec<(String, u32)> = Vec::new();
        for fr in &run.frames {
            let name = format!("{}/{}", fr.ns, fr.ifname);
            let id = match ids.iter().find(|(n, _)| *n == name) {
                Some((_, id)) => *id,
                None => {
                    let id = w.add_interface(&name, Some("captured on the kernel")).map_err(|e| miette!("{e}"))?;
                    ids.push((name, id));
                    id
                }
            };
            let dir = if fr.outgoing { Direction::Outbound } else { Direction::Inbound };
            w.write_frame_dir(id, fr.at.as_nanos() as u64, &fr.bytes, None, Some(dir)).map_err(|e| miette!("{e}"))?;
        }
        // When the capture stopped, so that a judge knows the kernel sent nothing more by then.
        for (_, id) in &ids {
            w.write_end(*id, run.capture_ended.as_nanos() as u64).map_err(|e| miette!("{e}"))?;
        }
        w.finish().map_err(|e| miette!("{e}"))?;
        outln!("# wrote {} frames to {}", run.frames.len(), p.display());
    }
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum InspectKind {
    Network,
}

/// Reads and checks a scenario file; its warnings (steps that fail, commands the simulator
/// does not model) go to stderr, and the run goes on past them.
fn load(file: &std::path::Path) -> Result<Loaded> {
    let loaded = Loaded::from_file(file).map_err(|e| miette::Report::new(*e))?;
    for w in &loaded.warnings {
        eprintln!("{:?}", miette::Report::new(w.clone()));
    }
    Ok(loaded)
}

/// Loads, builds and runs a scenario without tracing, to its `until` or to the end.
fn run_to_end(file: &std::path::Path, seed: Option<u64>, until: Option<SimTime>) -> Result<sim_core::Sim> {
    let loaded = crate::load(file)?;
    let mut sim = loaded.build(seed).map_err(|e| miette::Report::new(*e))?;
    sim.world.trace = false;
    match until.or(loaded.scenario.until) {
        Some(t) => sim.run_until(Until::Time(t)),
        None => sim.run_until(Until::Idle),
    };
    not_stalled(&sim)?;
    Ok(sim)
}

/// `netsim run` on the simulator: the hop log as the run goes, the pcapng, the summary.
fn run_sim(
    file: &std::path::Path,
    seed: Option<u64>,
    until: Option<SimTime>,
    pcap: Option<&std::path::Path>,
    once: bool,
    capture: Option<&[String]>,
    level: hoplog::Level,
) -> Result<()> {
    let quiet = level == hoplog::Level::Quiet;
    if capture.is_some() && pcap.is_none() && quiet {
        return Err(miette!(
            help = "add --pcap FILE to write the captured frames, or drop --quiet to see them in the hop log",
            "--capture has no effect: there is no --pcap, and --quiet prints no frames"
        ));
    }
    if let Some(p) = pcap {
        pcap::check_not_input(p, file)?;
        TEXT_TO_STDERR.store(pcap::is_stdout(p), Ordering::Relaxed);
    }
    let loaded = crate::load(file)?;
    let mut sim = loaded.build(seed).map_err(|e| miette::Report::new(*e))?;
    // --capture replaces the scenario's `capture`.
    let names = capture.map(<[String]>::to_vec).or_else(|| loaded.scenario.capture.clone());
    let names = match names {
        Some(n) => Some(CaptureNames::parse(&n).map_err(|m| miette!(help = CAPTURE_HELP, "--capture: {m}"))?),
        None => None,
    };
    if let Some(n) = &names {
        sim.world.capture = None;
        n.resolve(&mut sim.world);
        // Without steps nothing appears later: a name that matches nothing now never will.
        if sim.director.as_ref().is_none_or(|d| d.steps.is_empty()) {
            missing_captures(n, &sim.world)?;
        }
    }
    catch_stop_signals()?;
    let mut writer = match pcap {
        Some(p) => Some(pcap::Writer::create(p, once)?),
        None => None,
    };
    // A quiet run without a capture prints only what the programs print: no hop is kept.
    sim.world.hops = !quiet || writer.is_some();
    let until = until.or(loaded.scenario.until);
    let mut out = hoplog::Printer::new(level, text_to_stderr());
    match loaded.scenario.description.lines().next() {
        Some(d) if !d.trim().is_empty() => outln!("# {} — {d}", loaded.scenario.name),
        _ => outln!("# {}", loaded.scenario.name),
    }
    lesson(&loaded.scenario);
    let bar = progress(until);
    let stopped = loop {
        let sig = STOP_SIGNAL.load(Ordering::Relaxed);
        if sig != 0 {
            break sig;
        }
        if let Some(t) = until
            && sim.next_event_time().is_none_or(|n| n > t)
        {
            break 0;
        }
        if let Some(i) = sim.next_step()
            && let Some(note) = step_note(&sim, &loaded.scenario, i).map(str::to_string)
        {
            // The note belongs above the step's own lines: what came before is printed first.
            flush(&mut sim, &mut out, writer.as_mut())?;
            outln!("# step {}: {note}", i + 1);
        }
        let Some(o) = sim.step() else { break 0 };
        if let (sim_core::sim::EventKind::Step(_), Some(n)) = (o.what, &names) {
            // A step may have made the namespace or interface a name is waiting for.
            n.resolve(&mut sim.world);
        }
        if sim.records().len() >= 4096 || sim.next_event_time().is_none() {
            flush(&mut sim, &mut out, writer.as_mut())?;
        }
        if sim.events_run % 1024 == 0 {
            bar.set_position(sim.now().as_nanos() / 1_000_000);
        }
    };
    flush(&mut sim, &mut out, writer.as_mut())?;
    bar.finish_and_clear();
    if stopped == 0
        && let Some(t) = until
    {
        sim.run_until(Until::Time(t));
    }
    let st = &sim.world.stats;
    outln!(
        "# {} events, {} frame-hops, {} delivered, {} dropped; simulated time {}s",
        sim.events_run,
        st.hops,
        st.delivered,
        st.dropped,
        sim.now()
    );
    if let (Some(w), Some(p)) = (writer, pcap) {
        let n = w.finish()?;
        if pcap::is_stdout(p) {
            outln!("# wrote {n} frames to standard output");
        } else {
            outln!("# wrote {n} frames to {}", p.display());
        }
    }
    if stopped != 0 {
        let name = if stopped == nix::libc::SIGINT { "SIGINT" } else { "SIGTERM" };
        outln!("# stopped by {name} at {}s; every frame up to then is written", sim.now());
        std::process::exit(128 + stopped);
    }
    not_stalled(&sim)?;
    if let Some(n) = &names {
        missing_captures(n, &sim.world)?;
    }
    Ok(())
}

/// The lesson above the hop log (`-q` keeps it: it is what the run is for).
fn lesson(s: &sim_core::scenario::Scenario) {
    let Some(l) = &s.lesson else { return };
    outln!("# Lesson: {}", l.title);
    for line in sim_core::lesson::wrap(&l.intro, 92) {
        outln!("#   {line}");
    }
    if !l.look_for.is_empty() {
        outln!("# Look for:");
        for item in &l.look_for {
            outln!("#   - {item}");
        }
    }
    if !s.expect.is_empty() {
        outln!("# {} checks grade this lab: netsim check FILE", s.expect.len());
    }
}

/// The note of the scenario's step `i`, unless the step is part of the exercise.
fn step_note<'a>(sim: &'a sim_core::Sim, scenario: &sim_core::scenario::Scenario, i: u32) -> Option<&'a str> {
    let d = sim.director.as_ref()?;
    let step = d.steps.get(i as usize).filter(|_| (i as usize) < d.scripted)?;
    step.note.as_deref().filter(|_| !scenario.is_students(i as usize))
}

/// A run that stopped because simulated time could not advance is an error, not an ending.
fn not_stalled(sim: &sim_core::Sim) -> Result<()> {
    match sim.stalled() {
        Some(s) => Err(miette!(
            help = "give one side of the loop a count, an interval or a delay, or stop it with `until`",
            "{s}"
        )),
        None => Ok(()),
    }
}

const CAPTURE_HELP: &str = "write --capture ns/iface[,ns/iface…]; ns/* for every interface of a namespace";

/// Capture names that matched nothing, all in one error.
fn missing_captures(names: &CaptureNames, w: &sim_core::World) -> Result<()> {
    let missing: Vec<String> = names.missing(w).into_iter().map(|(_, m)| m).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(miette!(help = CAPTURE_HELP, "--capture: {}", missing.join("; ")))
}

fn flush(sim: &mut sim_core::Sim, out: &mut hoplog::Printer, writer: Option<&mut pcap::Writer>) -> Result<()> {
    let recs = sim.take_records();
    out.print(&sim.world, &recs);
    if let Some(w) = writer {
        w.write(&sim.world, &recs)?;
    }
    Ok(())
}

fn progress(until: Option<SimTime>) -> indicatif::ProgressBar {
    match until {
        Some(t) if t > SimTime::from_secs(30) => {
            let bar = indicatif::ProgressBar::new(t.as_nanos() / 1_000_000);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} ms simulated")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }
        _ => indicatif::ProgressBar::hidden(),
    }
}
