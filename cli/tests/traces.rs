//! The simulator against the kernel's recorded captures in `traces/kernel/` (made by `netsim
//! run --backend netns --pcap`): no root and no namespaces needed, so this holds on any
//! machine. `traces/kernel/<dir>/<lab>.pcapng` is the capture of `scenarios/<dir>/<lab>.ron`.

mod common;

use std::path::{Path, PathBuf};

use common::{netsim, root, tshark};

/// Every reference trace, with its scenario.
fn traces() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in ["linux", "docker"] {
        let d = root().join("traces/kernel").join(dir);
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "pcapng") {
                let stem = p.file_stem().expect("stem").to_str().expect("utf8").to_string();
                out.push((p, root().join("scenarios").join(dir).join(format!("{stem}.ron"))));
            }
        }
    }
    out.sort();
    out
}

/// What the run printed, with miette's line wrapping undone.
fn text(o: &std::process::Output) -> String {
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    all.lines().map(|l| l.trim_start().trim_start_matches('│').trim()).collect::<Vec<_>>().join(" ")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

#[test]
fn the_simulator_sends_what_the_kernel_sent_in_every_reference_trace() {
    let traces = traces();
    // The ten labs this kernel builds whole (cli/tests/netns.rs); see traces/README.md.
    assert!(traces.len() >= 10, "expected the reference traces, found {traces:?}");
    for (trace, scenario) in &traces {
        assert!(scenario.exists(), "{} has no scenario at {}", trace.display(), scenario.display());
        let out = netsim(&["diff", s(scenario), "--against", s(trace)]);
        let t = text(&out);
        assert!(out.status.success() && t.contains("# no divergence"), "{}:\n{t}", trace.display());
        // A trace that compared nothing would prove nothing.
        let sigs: usize = t
            .split(" interfaces, ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no summary line in:\n{t}"));
        assert!(sigs >= 5, "{}: only {sigs} flow signatures", trace.display());
    }
}

/// The traces are what the kernel sent: Wireshark reads them whole, every frame says which way
/// it crossed its interface, and the interfaces carry the simulator's `ns/if` names.
#[test]
fn reference_traces_are_whole_kernel_captures() {
    for (trace, _) in traces() {
        let malformed = tshark(&trace, &["-Y", "_ws.malformed"]);
        assert!(malformed.trim().is_empty(), "{}: malformed frames:\n{malformed}", trace.display());
        let rows =
            tshark(&trace, &["-T", "fields", "-e", "frame.interface_name", "-e", "frame.packet_flags_direction"]);
        assert!(rows.lines().count() > 10, "{}: too few frames", trace.display());
        for row in rows.lines() {
            let (iface, dir) = row.split_once('\t').expect("two fields");
            assert!(iface.contains('/'), "{}: interface {iface:?} is not ns/if", trace.display());
            assert!(matches!(dir, "0x00000001" | "0x00000002"), "{}: direction {dir:?}", trace.display());
        }
        let descr = tshark(&trace, &["-T", "fields", "-e", "frame.interface_description", "-c", "1"]);
        assert_eq!(descr.trim(), "captured on the kernel", "{}", trace.display());
    }
}

/// The comparison can fail: one lab's simulation against another lab's trace names the
/// interface and the packet that differ.
#[test]
fn a_trace_of_another_lab_is_reported_as_divergence() {
    let r = root();
    let out = netsim(&[
        "diff",
        s(&r.join("scenarios/linux/router-nat.ron")),
        "--against",
        s(&r.join("traces/kernel/linux/bridge-two-namespaces.pcapng")),
    ]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("frames: ") && t.contains(": the kernel sent `"), "{t}");
    assert!(t.contains(": the simulator sent `icmp "), "{t}");
    assert!(t.contains("difference(s) between the simulator and the kernel"), "{t}");
}

#[test]
fn a_file_that_is_not_a_trace_is_a_clear_error() {
    let r = root();
    let scenario = r.join("scenarios/linux/router-nat.ron");
    // A scenario file is not pcapng.
    let out = netsim(&["diff", s(&scenario), "--against", s(&scenario)]);
    let t = text(&out);
    assert!(!out.status.success());
    assert!(t.contains("router-nat.ron") && t.contains("not a readable pcapng"), "{t}");

    let missing = r.join("traces/kernel/no-such.pcapng");
    let out = netsim(&["diff", s(&scenario), "--against", s(&missing)]);
    let t = text(&out);
    assert!(!out.status.success() && t.contains("no-such.pcapng"), "{t}");
}
