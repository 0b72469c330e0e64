//! `bridge fdb show` typed in a Linux lab, against what iproute2 6.1's `bridge` printed for
//! the same commands on the kernel (`traces/kernel/linux/bridge-fdb.ron`, run there by
//! `bridge-fdb.sh` into `bridge-fdb.txt`): device by device, a port's entries newest first,
//! each device's multicast addresses, a bridge's own MAC.

mod common;

use sim_core::Until;
use sim_core::scenario::Loaded;

#[test]
fn bridge_fdb_prints_as_iproute2_printed_on_the_kernel() {
    let rec = common::transcript("kernel/linux/bridge-fdb.txt");
    assert!(rec.len() >= 5, "{} blocks", rec.len());
    let path = format!("{}/../traces/kernel/linux/bridge-fdb.ron", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the lab is kept beside its record");
    let mut sim = Loaded::from_str("bridge-fdb.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    let d = sim.director.as_ref().expect("a lab with steps");
    // The record's script sends the pings' lines away: they are there for the learned entries.
    let logs: Vec<_> = d.transcript.iter().filter(|l| !l.line.starts_with("ping ")).collect();
    assert_eq!(logs.len(), rec.len(), "a step per recorded command");
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in logs.iter().zip(&rec) {
        let (ns, line) = cmd.trim_start_matches('[').split_once("] ").expect("[NS] COMMAND");
        assert_eq!((log.host.as_str(), log.line.as_str()), (ns, line), "the same command in the same namespace");
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        if got != *want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- kernel [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}
