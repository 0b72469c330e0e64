//! busybox `nc` as a server and as a client with nothing to send, in the simulator as on
//! Docker Engine 20.10.24 (`traces/docker/nc-listen/record.txt`, made by `record.sh`
//! beside it): `nc -l` takes one connection, shuts its side at once (its standard input is
//! empty) and exits when the peer closes, which stops its container; with `-v` it says where
//! it listens and names each peer through a reverse lookup (`-n`: the digits), in its IPv6
//! socket's words; `-e PROG` answers each connection with what PROG writes, and `-k` keeps
//! it accepting; the client prints what arrives; `docker exec -d` starts a listener the
//! steps do not wait for; a second listener on a port is refused.
//!
//! A client's ephemeral port is compared as `EPH`, as the record writes it.

mod common;

use common::record;

#[test]
fn nc_listens_and_copies_as_busybox_does_on_the_engine() {
    let rec = record("nc-listen/record.txt");
    assert!(rec.len() >= 25, "the record has its cases");
    let sim = common::run_record(&rec);
    let got = common::program_lines(&sim, &rec, |l| l.starts_with("tcp "));
    let d = sim.director.as_ref().expect("a lab with hosts");
    for (((cmd, (want, exit)), lines), log) in rec.iter().zip(&got).zip(&d.transcript) {
        let mut want: Vec<&str> = want.lines().filter(|l| !l.is_empty()).collect();
        let mut lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        if cmd.starts_with("docker exec ") && cmd.contains(" -v") {
            // nc's -v lines go to stderr and what arrives to stdout, which `docker exec`
            // carries as two streams: the record has them in either order from run to run.
            want.sort_unstable();
            lines.sort_unstable();
        }
        assert_eq!(lines, want, "`{cmd}` prints as on the engine");
        assert_eq!(log.status, *exit, "`{cmd}` exits as on the engine");
    }
}

#[test]
fn ephemeral_ports_are_written_as_the_record_writes_them() {
    assert_eq!(
        common::eph("from cli.lnet:47115 ([::ffff:10.81.0.2]:47115)"),
        "from cli.lnet:EPH ([::ffff:10.81.0.2]:EPH)"
    );
    assert_eq!(common::eph("listening on [::]:8080 ..."), "listening on [::]:8080 ...");
    assert_eq!(common::eph("a:32767 b:61000"), "a:32767 b:61000");
}
