//! The real-kernel backend, judged by the kernel itself: these tests build the shipped labs
//! in network namespaces and need root, as CI has. They fail (not skip) without it.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{netsim, root};

/// The tests share the machine's namespace list (`netsim clean` removes every `nsim-…`), so
/// they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn leftovers() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().expect("ip (iproute2) runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("nsim-"))
        .map(str::to_string)
        .collect()
}

/// The labs this kernel can build whole (no 802.1Q links, no IPVS: facts sheet §10).
const BUILDABLE: [&str; 10] = [
    "linux/bridge-two-namespaces",
    "linux/router-nat",
    "linux/vxlan-two-hosts",
    "linux/vxlan-static-proxy",
    "docker/default-vs-user-bridge",
    "docker/published-ports",
    "docker/isolated-bridges",
    "docker/host-and-none",
    "docker/macvlan",
    "docker/webapp-mysql-bridge",
];

fn lab(name: &str) -> PathBuf {
    root().join("scenarios").join(format!("{name}.ron"))
}

#[test]
fn the_simulator_agrees_with_the_kernel_on_every_buildable_lab() {
    let _one_at_a_time = serial();
    for name in BUILDABLE {
        let out = netsim(&["diff", lab(name).to_str().expect("utf8")]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("# no divergence"), "{name}:\n{text}");
        assert!(leftovers().is_empty(), "{name} left namespaces behind: {:?}", leftovers());
    }
}

#[test]
fn the_kernel_runs_the_webapp_and_mysql_as_the_simulator_does() {
    let _one_at_a_time = serial();
    let f = lab("docker/webapp-mysql-bridge");
    let pcap = std::env::temp_dir().join(format!("netsim-kernel-{}.pcapng", std::process::id()));
    let out = netsim(&["run", f.to_str().expect("utf8"), "--backend", "netns", "--pcap", pcap.to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    // The row the laptop posted through the published port, as MySQL shows it.
    assert!(text.contains("host1:mysql $ | Docker      | DK101     |"), "{text}");
    assert!(text.contains("host1:webapp1 $ embedded DNS: A? mysql. → answered from the sandbox's records"), "{text}");
    // The kernel's own capture: the POST crossed docker's DNAT to the container.
    let posts =
        common::fields(&pcap, "http.request.method == \"POST\"", &["frame.interface_name", "ip.dst", "tcp.dstport"]);
    assert!(posts.iter().any(|l| l.starts_with("laptop/eth0\t192.168.99.101\t8001")), "{posts:?}");
    assert!(posts.iter().any(|l| l.ends_with("\t172.18.0.3\t80")), "DNATed to the container: {posts:?}");
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[test]
fn a_killed_run_leaves_namespaces_that_clean_removes() {
    let _one_at_a_time = serial();
    // router-nat's last traffic starts at 10 s: kill the run while it waits.
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .args(["run", lab("linux/router-nat").to_str().expect("utf8"), "--backend", "netns"])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("netsim starts");
    let t0 = Instant::now();
    while leftovers().len() < 3 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let made = leftovers();
    assert!(made.len() >= 3, "the run made its namespaces: {made:?}");
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert_eq!(leftovers(), made, "SIGKILL gives the run no chance to clean up");
    let out = netsim(&["clean"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for n in &made {
        assert!(text.contains(&format!("removed {n}")), "{text}");
    }
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[test]
fn without_root_the_backend_refuses_and_makes_nothing() {
    let _one_at_a_time = serial();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .arg(env!("CARGO_BIN_EXE_netsim"))
        .args(["run", lab("linux/bridge-two-namespaces").to_str().expect("utf8"), "--backend", "netns"])
        .current_dir(root())
        .output()
        .expect("setpriv (util-linux) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it must refuse");
    assert!(err.contains("the netns backend needs root"), "{err}");
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[test]
fn the_diff_reports_a_planted_divergence() {
    let _one_at_a_time = serial();
    // Guard: a kernel that differs from the simulation must be reported. The simulator is
    // told one address, the kernel gets another.
    let sim_plan = r#"Scenario(name: "g", plan: (namespaces: [(name: "a")], links: [Bridge(name: "br0", ns: "a")],
        addresses: [(ns: "a", dev: "br0", addr: "10.5.0.1/24")]))"#;
    let loaded = sim_core::scenario::Loaded::from_str("g.ron", sim_plan).expect("loads");
    let sim = loaded.build(None).expect("builds");
    let mut kernel_plan = loaded.scenario.plan.clone();
    kernel_plan.addresses[0].addr = "10.5.0.2/24".parse().expect("net");
    let realised = netsim_netns::realise::realise(&kernel_plan, "guard").expect("realised (root)");
    let kernel: netsim_netns::state::State =
        realised.names.iter().map(|(p, k)| (p.clone(), netsim_netns::state::from_kernel(k))).collect();
    realised.teardown().expect("teardown");
    let d = netsim_netns::state::compare(&netsim_netns::state::from_world(&sim.world), &kernel);
    assert!(d.iter().any(|l| l.contains("the kernel has address `br0 10.5.0.2/24`")), "{d:?}");
    assert!(d.iter().any(|l| l.contains("the simulator has address `br0 10.5.0.1/24`")), "{d:?}");
}
