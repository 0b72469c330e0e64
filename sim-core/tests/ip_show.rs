//! iproute2's `ip addr`, `ip link`, `ip -4 addr`, `ip -o`, `ip addr show DEV` and `ip neigh`
//! typed in a Linux lab, against what iproute2 6.1 printed for the same commands on the
//! kernel (`traces/kernel/linux/ip-show.ron`, run there by `ip-show.sh` into `ip-show.txt`).

mod common;

#[test]
fn ip_prints_as_iproute2_printed_on_the_kernel() {
    // The record's namespaces are `ipshow-NAME`.
    let diffs = common::kernel_lab_differences("ip-show", 13, |w| w.replace("link-netns ipshow-", "link-netns "));
    assert!(diffs.is_empty(), "{} differ:\n{}", diffs.len(), diffs.join("\n"));
}
