//! BIND's `dig` in a netshoot container in the simulator prints what it printed against
//! Docker's embedded DNS on Docker Engine 20.10.24 (`traces/docker/dig/record.txt`, made by
//! `record.sh` beside it): the whole answer with its header, flags, sections in BIND's
//! columns and statistics; `+short`, an alias, `+noall +answer`, `-x` (the PTR the
//! embedded DNS answers as `NAME.NETWORK.`), an AAAA of a known name (NOERROR, no answer),
//! and `@127.0.0.11`.
//!
//! What the kernel chooses at random or the clock says is compared as `X`: the query's id,
//! the query time and the date.

mod common;

use common::record;

fn normalised(l: &str) -> String {
    if let Some((head, _)) = l.split_once(", id: ") {
        return format!("{head}, id: X");
    }
    for p in [";; Query time: ", ";; WHEN: "] {
        if l.starts_with(p) {
            return format!("{p}X");
        }
    }
    l.to_string()
}

#[test]
fn dig_answers_as_it_did_on_the_engine() {
    let rec = record("dig/record.txt");
    assert!(rec.len() >= 10, "the record has its cases");
    let outputs = common::step_outputs(&rec, false);
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(&outputs) {
        let want: Vec<String> = want.lines().filter(|l| !l.is_empty()).map(normalised).collect();
        let got: Vec<String> = lines.iter().filter(|l| !l.is_empty()).map(|l| normalised(l)).collect();
        assert_eq!(got, want, "`{cmd}` prints as on the engine");
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
    }
}

/// On the default bridge there is no embedded DNS: dig asks the lab's outside resolver
/// (8.8.8.8, whose frames are not simulated), which knows no lab name, at once.
#[test]
fn dig_on_the_default_bridge_asks_the_outside_and_hears_nxdomain_at_once() {
    let steps = ["docker run -d --name nsd nicolaka/netshoot sleep 1000".to_string(), "docker exec nsd dig web".into()];
    let sim = common::run_on_host1(&steps);
    let lines: Vec<String> = sim.app_output().into_iter().filter(|(ns, _)| ns == "host1:nsd").map(|(_, l)| l).collect();
    for want in [";; SERVER: 8.8.8.8#53(8.8.8.8) (UDP)", ";; Query time: 0 msec"] {
        assert!(lines.iter().any(|l| l == want), "{want}: {lines:#?}");
    }
    assert!(lines.iter().any(|l| l.contains("status: NXDOMAIN")), "{lines:#?}");
}
