//! Seed inputs, built from what the repository ships: the scenarios (`scenarios/**/*.ron`), their
//! steps' `run:` lines, the frames of the captures in `traces/` and of a simulated run of every
//! scenario, and the DNS, HTTP and MySQL bytes those frames carry.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use sim_core::scenario::Loaded;
use sim_core::{SimTime, Until};

use super::Target;

/// The workspace root (the `tests` crate's parent).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root().join(dir), ext, &mut out);
    out.sort();
    out
}

/// Every `scenarios/**/*.ron`: (path relative to the workspace, text).
pub fn scenario_files() -> &'static [(String, String)] {
    static S: OnceLock<Vec<(String, String)>> = OnceLock::new();
    S.get_or_init(|| {
        let root = root();
        files("scenarios", "ron")
            .into_iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                Some((p.strip_prefix(&root).unwrap_or(&p).display().to_string(), text))
            })
            .collect()
    })
}

/// The steps of every scenario: (scenario index, host, command line).
pub fn run_lines() -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, (name, text)) in scenario_files().iter().enumerate() {
        if let Ok(l) = Loaded::from_str(name, text) {
            out.extend(l.scenario.steps.iter().map(|s| (i, s.on.clone(), s.run.clone())));
        }
    }
    out
}

/// Frames of the captures in `traces/` and of a short simulated run of every scenario,
/// without duplicates, in a fixed order.
pub fn frames() -> &'static [Vec<u8>] {
    static F: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    F.get_or_init(|| {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut add = |f: Vec<u8>| {
            if seen.insert(f.clone()) {
                out.push(f);
            }
        };
        for p in files("traces", "pcapng") {
            let Ok(file) = std::fs::File::open(&p) else { continue };
            if let Ok((_, frames)) = sim_core::capture::read_pcapng(std::io::BufReader::new(file)) {
                frames.into_iter().for_each(|f| add(f.data));
            }
        }
        for (name, text) in scenario_files() {
            let Ok(l) = Loaded::from_str(name, text) else { continue };
            let Ok(mut sim) = l.build(None) else { continue };
            let mut n = 0;
            while n < 20_000 && sim.now() < SimTime::from_secs(30) {
                let k = sim.run_until(Until::Events(1000));
                if k == 0 {
                    break;
                }
                n += k;
            }
            sim.records().iter().filter_map(|r| r.frame.clone()).for_each(&mut add);
        }
        out
    })
}

/// One direction of one TCP or UDP flow.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Flow {
    tcp: bool,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
}

/// The payloads of each flow in frame order.
fn flows() -> BTreeMap<Flow, Vec<Vec<u8>>> {
    let mut out: BTreeMap<Flow, Vec<Vec<u8>>> = BTreeMap::new();
    for f in frames() {
        let Ok(p) = SlicedPacket::from_ethernet(f) else { continue };
        let Some(NetSlice::Ipv4(ip)) = &p.net else { continue };
        let (src, dst) = (ip.header().source_addr(), ip.header().destination_addr());
        let (flow, payload) = match &p.transport {
            Some(TransportSlice::Tcp(t)) => {
                (Flow { tcp: true, src: (src, t.source_port()), dst: (dst, t.destination_port()) }, t.payload())
            }
            Some(TransportSlice::Udp(u)) => {
                (Flow { tcp: false, src: (src, u.source_port()), dst: (dst, u.destination_port()) }, u.payload())
            }
            _ => continue,
        };
        if payload.is_empty() {
            continue;
        }
        // The same segment on the next hop, after NAT rewrote its addresses and ports, or
        // retransmitted: kept once, in the flow it was first seen in.
        if flow.tcp && out.values().flatten().any(|s| s == payload) {
            continue;
        }
        out.entry(flow).or_default().push(payload.to_vec());
    }
    out
}

fn on_port(f: &Flow, port: u16) -> bool {
    f.src.1 == port || f.dst.1 == port
}

fn looks_http(first: &[u8]) -> bool {
    ["GET ", "POST ", "HEAD ", "PUT ", "HTTP/1."].iter().any(|m| first.starts_with(m.as_bytes()))
}

/// The seed inputs of `target`, in a fixed order.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = match target {
        Target::Scenario => scenario_files().iter().map(|(_, t)| t.as_bytes().to_vec()).collect(),
        Target::DockerCli => run_lines().into_iter().map(|(_, _, r)| r.into_bytes()).collect(),
        Target::Console => console_seeds(),
        Target::Http => {
            let mut v = Vec::new();
            for (f, segs) in flows() {
                if f.tcp && segs.first().is_some_and(|s| looks_http(s)) {
                    v.push([&[0u8][..], &segs.concat()].concat());
                    v.push([&[7u8][..], &segs.concat()].concat());
                }
            }
            v
        }
        Target::Dns => flows().into_iter().filter(|(f, _)| !f.tcp && on_port(f, 53)).flat_map(|(_, s)| s).collect(),
        Target::Mysql => mysql_seeds(),
        Target::Frame => frames().to_vec(),
        Target::Pcapng => pcapng_seeds(),
    };
    out.extend(regressions(target));
    let mut seen = BTreeSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

/// Inputs that once failed, kept in `fuzz/regressions/<target>/` (one file each, any name):
/// every run of the target starts with them.
pub fn regressions(target: Target) -> Vec<Vec<u8>> {
    let dir = root().join("fuzz").join("regressions").join(target.name());
    let Ok(rd) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn console_seeds() -> Vec<Vec<u8>> {
    let tuts = super::targets::console_tutorials();
    let lines = run_lines();
    // The tutorials are the scenarios with hosts, in file order; the step lines index the files.
    let with_hosts: Vec<usize> = scenario_files()
        .iter()
        .enumerate()
        .filter(|(_, (n, t))| Loaded::from_str(n, t).is_ok_and(|l| !l.scenario.hosts.is_empty()))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for (k, (file, host, run)) in lines.iter().enumerate() {
        let Some(t) = with_hosts.iter().position(|i| i == file) else { continue };
        let Some((ckpts, hosts)) = tuts.get(t) else { continue };
        let h = hosts.iter().position(|x| x == host).unwrap_or(0);
        // Typed before the scenario's own steps ran, and again once they all have.
        for c in [0, ckpts.saturating_sub(1)] {
            let head = [t, c, k % 7, h].map(|x| u8::try_from(x).unwrap_or(0));
            out.push([&head[..], run.as_bytes()].concat());
        }
    }
    // A tutorial's first steps typed one after the other at its start.
    for (t, _) in tuts.iter().enumerate() {
        let Some(&file) = with_hosts.get(t) else { continue };
        let first: Vec<&str> = lines.iter().filter(|l| l.0 == file).map(|l| l.2.as_str()).take(4).collect();
        let head = [u8::try_from(t).unwrap_or(0), 0, 0, 0];
        out.push([&head[..], first.join("\n").as_bytes()].concat());
    }
    out
}

/// MySQL packet length prefix: 3 bytes little-endian, then the sequence number.
fn first_packet_len(stream: &[u8]) -> Option<usize> {
    let [a, b, c, ..] = stream else { return None };
    Some(4 + (usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16))
}

fn mysql_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (f, segs) in flows() {
        if !f.tcp || !on_port(&f, 3306) {
            continue;
        }
        let stream = segs.concat();
        if f.dst.1 == 3306 {
            out.push([&[0u8][..], &stream].concat());
            if let Some(n) = first_packet_len(&stream)
                && let Some(after_login) = stream.get(n..)
            {
                out.push([&[1u8][..], after_login].concat());
                // COM_QUERY packets (command byte 3) as SQL text for the engine.
                let mut rest = after_login;
                while let Some(n) = first_packet_len(rest) {
                    let Some(p) = rest.get(4..n) else { break };
                    if let [3, sql @ ..] = p {
                        out.push([&[3u8][..], sql].concat());
                    }
                    rest = &rest[n..];
                }
            }
        } else {
            out.push([&[2u8][..], &stream].concat());
            out.push([&[2u8 | 4 << 2][..], &stream].concat());
        }
    }
    out
}

/// Small pcapng files: the first frames of each capture, written by the project's writer.
fn pcapng_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for chunk in frames().chunks(8).take(16) {
        let Ok(mut w) = sim_core::capture::PcapngWriter::new(Vec::new(), "netsim fuzz seed") else { continue };
        let Ok(eth0) = w.add_interface("eth0", Some("seed")) else { continue };
        let ok = chunk.iter().enumerate().all(|(i, f)| {
            let comment = (i == 0).then_some("first");
            w.write_frame(eth0, 1_000 * i as u64, f, comment).is_ok()
        });
        if ok && let Ok(bytes) = w.finish() {
            out.push(bytes);
        }
    }
    out
}
