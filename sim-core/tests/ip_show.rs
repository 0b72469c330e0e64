//! iproute2's `ip addr`, `ip link`, `ip -4 addr`, `ip -o`, `ip addr show DEV` and `ip neigh`
//! typed in a Linux lab, against what iproute2 6.1 printed for the same commands on the
//! kernel (`traces/kernel/linux/ip-show.ron`, run there by `ip-show.sh` into `ip-show.txt`).

mod common;

use sim_core::Until;
use sim_core::scenario::Loaded;

#[test]
fn ip_prints_as_iproute2_printed_on_the_kernel() {
    let rec = common::transcript("kernel/linux/ip-show.txt");
    assert!(rec.len() >= 13, "{} blocks", rec.len());
    let path = format!("{}/../traces/kernel/linux/ip-show.ron", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the lab is kept beside its record");
    let mut sim = Loaded::from_str("ip-show.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    let d = sim.director.as_ref().expect("a lab with steps");
    // The record's script sends the ping's lines away: it is there for the neighbour.
    let logs: Vec<_> = d.transcript.iter().filter(|l| !l.line.starts_with("ping ")).collect();
    assert_eq!(logs.len(), rec.len(), "a step per recorded command");
    let mut diffs = Vec::new();
    for (log, (cmd, (want, status))) in logs.iter().zip(&rec) {
        let (ns, line) = cmd.trim_start_matches('[').split_once("] ").expect("[NS] COMMAND");
        assert_eq!((log.host.as_str(), log.line.as_str()), (ns, line), "the same command in the same namespace");
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        // The record's namespaces are `ipshow-NAME`.
        let want = want.replace("link-netns ipshow-", "link-netns ");
        if got != want || log.status != *status {
            diffs.push(format!("$ {cmd}\n--- kernel [exit {status}]\n{want}--- netsim [exit {}]\n{got}", log.status));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}
