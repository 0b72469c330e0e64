//! A program the container's image does not have fails as the engine fails it
//! (`traces/docker/missing-program/record.txt`, Docker Engine 20.10.24): `docker exec`
//! prints runc's words and exits 126; `docker run` exits 127, leaves a detached container
//! Created (and `docker start` fails the same way), and removes a `--rm` one.

mod common;

/// A step's output as the record writes it: 64-hex IDs as `ID`, without the usage hint the
/// CLI adds after a failed run, a running container's status without its age.
fn normalise(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| !l.is_empty() && *l != "Run 'docker run --help' for more information")
        .map(|l| {
            if l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()) {
                "ID".to_string()
            } else if let Some((name, _age)) = l.split_once(":Up") {
                format!("{name}:Up")
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn a_program_the_image_lacks_fails_as_on_the_engine() {
    let rec = common::record("missing-program/record.txt");
    assert!(rec.len() >= 10, "the record has its cases");
    common::assert_record_runs_as_on_the_engine(&rec, normalise);
}
