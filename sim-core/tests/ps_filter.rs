//! `docker ps --filter` lists what the engine lists (`traces/docker/ps-filter/record.txt`,
//! Docker Engine 20.10.24): a name as text or anchored, a status (which lists stopped
//! containers without `-a`), an exit code, a network, a label, an image; one key's values
//! are alternatives, keys must all hold; a bad status, an unknown key and a filter without
//! `=` are refused in the engine's words.

mod common;

#[test]
fn ps_filters_list_what_the_engine_lists() {
    let rec = common::record("ps-filter/record.txt");
    assert!(rec.len() >= 23, "the record has its cases");
    let sim = common::run_record(&rec);
    let d = sim.director.as_ref().expect("a Docker lab");
    let lines = |t: &str| -> Vec<String> {
        t.lines()
            // The CLI's usage text after an error is not compared (as in errors.rs).
            .filter(|l| !l.is_empty() && !l.starts_with("Run 'docker ") && !l.starts_with("Usage:"))
            .map(|l| {
                if l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()) { "ID".to_string() } else { l.to_string() }
            })
            .collect()
    };
    for ((cmd, (want, exit)), log) in rec.iter().zip(&d.transcript) {
        let got = match &log.output {
            Ok(t) | Err(t) => lines(t),
        };
        assert_eq!(got, lines(want), "`{cmd}` lists as the engine did");
        assert_eq!(log.status, *exit, "`{cmd}` exits as the engine did");
    }
}
