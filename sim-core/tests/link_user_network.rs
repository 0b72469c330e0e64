//! `--link` on a user-defined network, in the simulator as on Docker Engine 20.10.24
//! (`traces/docker/link-user-network/record.txt`, made by `record.sh` beside it): the alias
//! resolves, through the embedded DNS, for the linking container only; /etc/hosts is not
//! written; a link without an alias is the name itself; a link to no container is accepted;
//! and on the default bridge a link to a container that is not on it fails the start.
//!
//! Round trips are compared as `T` (the simulator's clock is not the kernel's), and the
//! container's own line in /etc/hosts by its address (record.sh writes the short ID as
//! `SHORTID`).

mod common;

use common::record;

#[test]
fn a_link_on_a_user_network_is_an_alias_only_its_container_resolves() {
    let rec = record("link-user-network/record.txt");
    assert!(rec.len() >= 12, "the record has its cases");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_host1(&steps);
    let got = common::shell_lines(&sim, &rec, |i| rec[i].0.starts_with("docker exec"));
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(&got) {
        // docker/cli's hint after a failed `docker run` is not printed by the simulator (the
        // error line is; sim-core/tests/errors.rs compares the same way).
        let hint = "Run 'docker run --help' for more information";
        let want: Vec<String> =
            want.lines().filter(|l| !l.is_empty() && *l != hint).map(common::without_times).collect();
        let lines: Vec<String> = lines
            .iter()
            .map(|l| match l.split_once('\t') {
                Some((ip, id)) if ip.starts_with("10.87.0.") && id.len() == 12 => format!("{ip}\tSHORTID"),
                _ => common::without_times(l),
            })
            .collect();
        assert_eq!(lines, want, "`{cmd}` prints as on the engine");
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
    }
}
