//! docker-proxy in the simulator as on Docker Engine 20.10.24
//! (`traces/docker/docker-proxy/record.txt`, made by `record.sh` beside it): the host's
//! `curl` to 127.0.0.1 or localhost and a container's request to its bridge's gateway
//! address reach a published port through the proxy (a port published on 127.0.0.1 only is
//! refused from the bridge); the server sees the gateway address as its client; a container
//! that does not listen leaves the client an empty reply; a stopped container's port refuses.
//!
//! A client's ephemeral port is compared as `EPH`, as the record writes it.

mod common;

use common::record;

#[test]
fn published_ports_answer_through_docker_proxy_as_on_the_engine() {
    let rec = record("docker-proxy/record.txt");
    assert!(rec.len() >= 15, "the record has its cases");
    let sim = common::run_record(&rec);
    let got = common::program_lines(&sim, &rec, common::client_note);
    let d = sim.director.as_ref().expect("a lab with hosts");
    for (((cmd, (want, exit)), lines), log) in rec.iter().zip(&got).zip(&d.transcript) {
        let want = common::stand_in_page(want);
        let want: Vec<&str> = want.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, &want, "`{cmd}` prints as on the engine");
        assert_eq!(log.status, *exit, "`{cmd}` exits as on the engine");
    }
}
