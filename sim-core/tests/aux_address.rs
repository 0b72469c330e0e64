//! `docker network create --aux-address` as Docker Engine 20.10.24 ran it
//! (`traces/docker/aux-address/record.txt`, made by `record.sh` beside it): the reserved
//! addresses in the network's IPAM config by name (`AuxiliaryAddresses`), never given to a
//! container; one outside the subnet refused in libnetwork's words.

mod common;

use common::record;

#[test]
fn aux_addresses_are_reserved_and_shown_as_on_the_engine() {
    let rec = record("aux-address/record.txt");
    assert!(rec.len() >= 10, "the record has its cases");
    // The record's containers ran busybox's `sleep`; the lab's run alpine with a command.
    let rec: Vec<(String, (String, u8))> =
        rec.into_iter().map(|(c, out)| (c.replace(" alpine", " alpine sleep 1000"), out)).collect();
    assert!(rec.iter().any(|(_, (out, _))| out.contains("AuxiliaryAddresses")), "the record shows them");
    let ids = |s: &str| s.lines().map(common::ids).collect::<Vec<_>>();
    common::assert_record_runs_as_on_the_engine(&rec, ids);
}
