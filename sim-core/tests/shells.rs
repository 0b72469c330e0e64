//! Shells as students type them, and `--rm` containers stopped by hand, as the engine runs
//! them (`traces/docker/shells/record.txt`, Docker Engine 20.10.24): `docker run -dit alpine
//! ash` waits on its terminal, without `-i` or `-t` the shell reads end-of-file and exits 0,
//! a shell the image lacks (`bash` in alpine) fails as any missing program; a `--rm`
//! container stopped or killed goes, and a stopped container leaves the host network.

mod common;

/// A step's output as the record writes it: 64-hex IDs as `ID`, without the usage hint the
/// CLI adds after a failed run.
fn normalise(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| !l.is_empty() && *l != "Run 'docker run --help' for more information")
        .map(
            |l| {
                if l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()) { "ID".to_string() } else { l.to_string() }
            },
        )
        .collect()
}

#[test]
fn shells_and_rm_containers_run_as_on_the_engine() {
    let rec = common::record("shells/record.txt");
    assert!(rec.len() >= 20, "the record has its cases");
    common::assert_record_runs_as_on_the_engine(&rec, normalise);
}
