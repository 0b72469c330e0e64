//! `bridge fdb show` and `bridge link` typed in a Linux lab, against what iproute2 6.1's `bridge` printed for
//! the same commands on the kernel (`traces/kernel/linux/bridge-fdb.ron`, run there by
//! `bridge-fdb.sh` into `bridge-fdb.txt`): device by device, a port's entries newest first,
//! each device's multicast addresses, a bridge's own MAC; then a port's flags set and shown,
//! and `bridge link set`'s complaints.

mod common;

#[test]
fn bridge_fdb_prints_as_iproute2_printed_on_the_kernel() {
    let diffs = common::kernel_lab_differences("bridge-fdb", 18, str::to_string);
    assert!(diffs.is_empty(), "{} differ:\n{}", diffs.len(), diffs.join("\n"));
}
