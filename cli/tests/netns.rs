//! The real-kernel backend, judged by the kernel itself: these tests build the shipped labs
//! in network namespaces and need root, as CI has. Without it each one says on stderr that it
//! is skipped, and why, and passes.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, netsim, root};
use netsim_netns::record::{self, RunRecord};

/// The tests share the machine's namespace list (`netsim clean --force` tears down every live
/// run), so they run one at a time.
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

/// Namespaces named `nsim-…` that were not in `before` (another run's may come and go).
fn new_since(before: &[String]) -> Vec<String> {
    leftovers().into_iter().filter(|n| !before.contains(n)).collect()
}

/// What went to stderr, with miette's line wrapping undone.
fn unwrapped(stderr: &[u8]) -> String {
    let t = String::from_utf8_lossy(stderr);
    t.lines().map(|l| l.trim_start().trim_start_matches(['│', '×']).trim()).collect::<Vec<_>>().join(" ")
}

/// The labs this kernel can build whole (no 802.1Q links; no IPVS, which this kernel lacks:
/// `/proc/net/ip_vs` is absent).
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
    if !is_root("the_simulator_agrees_with_the_kernel_on_every_buildable_lab") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    for name in BUILDABLE {
        let out = netsim(&["diff", lab(name).to_str().expect("utf8")]);
        common::assert_only_frames_differ(&format!("{name}.pcapng"), &out);
        assert!(new_since(&before).is_empty(), "{name} left namespaces behind: {:?}", new_since(&before));
    }
}

#[test]
fn the_kernel_runs_the_webapp_and_mysql_as_the_simulator_does() {
    if !is_root("the_kernel_runs_the_webapp_and_mysql_as_the_simulator_does") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    let f = lab("docker/webapp-mysql-bridge");
    let pcap = std::env::temp_dir().join(format!("netsim-kernel-{}.pcapng", std::process::id()));
    let out = netsim(&["run", f.to_str().expect("utf8"), "--backend", "netns", "--pcap", pcap.to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    // The row the laptop posted through the published port, as MySQL shows it.
    assert!(text.contains("host1:mysql $ | Docker      | DK101     |"), "{text}");
    assert!(text.contains("host1:webapp1 # embedded DNS: A? mysql. → answered from the sandbox's records"), "{text}");
    // The kernel's own capture: the POST crossed docker's DNAT to the container.
    let posts =
        common::fields(&pcap, "http.request.method == \"POST\"", &["frame.interface_name", "ip.dst", "tcp.dstport"]);
    assert!(posts.iter().any(|l| l.starts_with("laptop/eth0\t192.168.99.101\t8001")), "{posts:?}");
    assert!(posts.iter().any(|l| l.ends_with("\t172.18.0.3\t80")), "DNATed to the container: {posts:?}");
    assert!(new_since(&before).is_empty(), "{:?}", new_since(&before));
}

/// What `ip`, `bridge` and `iptables` typed in a step print, on the kernel (iproute2 and
/// iptables-nft, in the step's namespace) and in the simulator, line by line: `ip addr`, `ip
/// link`, `-4`, `-o`, `show DEV`, `ip neigh` (traces/kernel/linux/ip-show.ron), `ip route`
/// with a device down (link-down.ron), `iptables -L`/`-S`/`iptables-save -c` with the counters
/// of a NAT router's traffic (iptables-list.ron), and `bridge fdb` (bridge-fdb.ron).
#[test]
fn the_kernels_tools_print_as_the_simulators() {
    if !is_root("the_kernels_tools_print_as_the_simulators") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    for name in ["ip-show", "link-down", "iptables-list", "bridge-fdb"] {
        let f = root().join(format!("traces/kernel/linux/{name}.ron"));
        let out = netsim(&["diff", f.to_str().expect("utf8")]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("# no divergence"), "{name}:\n{text}");
    }
    assert!(new_since(&before).is_empty(), "left namespaces behind: {:?}", new_since(&before));
}

/// iptables REJECT on the kernel and in the simulator (traces/kernel/linux/reject.ron): the
/// same state, every line the kernel's clients printed ("Connection refused", "No route to
/// host", ping's "Destination Host Prohibited") and the same RSTs and ICMP errors on each link.
#[test]
fn the_kernel_rejects_as_the_simulator_does() {
    if !is_root("the_kernel_rejects_as_the_simulator_does") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    let f = root().join("traces/kernel/linux/reject.ron");
    let out = netsim(&["diff", f.to_str().expect("utf8")]);
    common::assert_only_frames_differ("linux/reject.pcapng", &out);
    assert!(new_since(&before).is_empty(), "left namespaces behind: {:?}", new_since(&before));
}

/// `netsim run --backend netns` on router-nat, whose last client starts at 10 s: long enough
/// to be interrupted. Returns the process and its run's record once `agents` agents run (3:
/// the leader of the agents' process group and router-nat's two servers).
// The caller waits for the run it is handed.
#[allow(clippy::zombie_processes)]
fn start_run(agents: usize) -> (Child, RunRecord) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .args(["run", lab("linux/router-nat").to_str().expect("utf8"), "--backend", "netns"])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsim starts");
    // The run id is the run's pid in hex (kernel::run).
    let dir = PathBuf::from(record::RECORD_DIR).join(format!("{:x}", child.id()));
    let t0 = Instant::now();
    loop {
        if let Ok(r) = record::read(&dir)
            && r.agents.len() >= agents
            && r.namespaces.len() == 3
        {
            return (child, r);
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no record with {agents} agents in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn listed(names: &[String]) -> Vec<String> {
    let l = leftovers();
    names.iter().filter(|n| l.contains(n)).cloned().collect()
}

/// Whether every one of `agents` has ended, waiting up to 5 s for the kernel to deliver.
fn all_dead(agents: &[record::Proc]) -> bool {
    let t0 = Instant::now();
    while agents.iter().any(|a| a.alive()) {
        if t0.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Ctrl-C (SIGINT), `kill`/`timeout` (SIGTERM) and a closed terminal (SIGHUP) end a run with
/// everything it made removed, and with 128 + the signal as its exit status, as a shell
/// reports it.
#[test]
fn a_signal_ends_the_run_and_removes_what_it_made() {
    if !is_root("a_signal_ends_the_run_and_removes_what_it_made") {
        return;
    }
    let _one_at_a_time = serial();
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let (child, rec) = start_run(3);
        assert_eq!(listed(&rec.namespaces), rec.namespaces, "{sig}: the run's namespaces exist");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).expect("kill");
        let out = child.wait_with_output().expect("reaped");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(128 + sig as i32), "{sig}: {err}");
        assert!(err.contains(&format!("{sig}: run {} stopped", rec.run_id)), "{sig}: {err}");
        assert!(listed(&rec.namespaces).is_empty(), "{sig} left {:?}", listed(&rec.namespaces));
        assert!(all_dead(&rec.agents), "{sig} left agents: {:?}", rec.agents);
        assert!(!rec.dir.exists(), "{sig} left the record {}", rec.dir.display());
    }
}

/// SIGKILL gives the run no chance to clean up: its agents still die with it (their
/// parent-death signal), and `netsim clean` removes the namespaces its record names, and
/// nothing that merely shares the prefix.
#[test]
fn a_killed_run_takes_its_agents_and_clean_removes_exactly_its_namespaces() {
    if !is_root("a_killed_run_takes_its_agents_and_clean_removes_exactly_its_namespaces") {
        return;
    }
    let _one_at_a_time = serial();
    let foreign = "nsim-foreign";
    let had_foreign = leftovers().iter().any(|n| n == foreign);
    if !had_foreign {
        assert!(Command::new("ip").args(["netns", "add", foreign]).status().expect("ip").success());
    }
    let (mut child, rec) = start_run(3);
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert!(all_dead(&rec.agents), "agents outlived a SIGKILLed run: {:?}", rec.agents);
    assert_eq!(listed(&rec.namespaces), rec.namespaces, "SIGKILL leaves the namespaces");
    let out = netsim(&["clean"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for n in &rec.namespaces {
        assert!(text.contains(&format!("removed {n}\n")), "{text}");
    }
    assert!(text.contains("# left nsim-foreign: no netsim run recorded it"), "{text}");
    assert!(listed(&rec.namespaces).is_empty(), "{:?}", listed(&rec.namespaces));
    assert!(!rec.dir.exists(), "the record goes with what it named");
    assert!(leftovers().iter().any(|n| n == foreign), "netsim clean removed a namespace netsim never made");
    if !had_foreign {
        let _ = Command::new("ip").args(["netns", "del", foreign]).status();
    }
}

/// `netsim clean` during a run leaves it alone and says so; `--force` tears it down, and the
/// run then fails, naming what vanished, instead of passing with half its frames.
#[test]
fn clean_leaves_a_live_run_alone_and_a_forced_one_fails_loudly() {
    if !is_root("clean_leaves_a_live_run_alone_and_a_forced_one_fails_loudly") {
        return;
    }
    let _one_at_a_time = serial();
    let (child, rec) = start_run(3);
    let out = netsim(&["clean"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let pid = child.id();
    assert!(text.contains(&format!("# run {} is still running (pid {pid}): left alone", rec.run_id)), "{text}");
    assert_eq!(listed(&rec.namespaces), rec.namespaces, "a live run is not touched:\n{text}");
    let out = netsim(&["clean", "--force"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for n in &rec.namespaces {
        assert!(text.contains(&format!("removed {n}\n")), "{text}");
    }
    let out = child.wait_with_output().expect("reaped");
    let err = unwrapped(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("vanished while it ran"), "{err}");
    // The run names what had gone when it looked: the clean may still have been under way.
    assert!(rec.namespaces.iter().any(|n| err.contains(&format!("{n} (`"))), "none named:\n{err}");
    assert!(listed(&rec.namespaces).is_empty() && all_dead(&rec.agents));
}

/// One namespace deleted by hand (`ip netns del`) under a run: it fails naming that one, and
/// removes the rest.
#[test]
fn a_run_whose_namespace_is_deleted_fails_naming_it() {
    if !is_root("a_run_whose_namespace_is_deleted_fails_naming_it") {
        return;
    }
    let _one_at_a_time = serial();
    let (child, rec) = start_run(3);
    let victim = rec.namespaces.iter().find(|n| n.ends_with("-server")).expect("router-nat has a server").clone();
    assert!(Command::new("ip").args(["netns", "del", &victim]).status().expect("ip").success());
    let out = child.wait_with_output().expect("reaped");
    let err = unwrapped(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{victim} (`server`)")) && err.contains("vanished"), "{err}");
    assert!(listed(&rec.namespaces).is_empty(), "{:?}", listed(&rec.namespaces));
    assert!(all_dead(&rec.agents) && !rec.dir.exists());
}

#[test]
fn without_root_the_backend_refuses_and_makes_nothing() {
    let _one_at_a_time = serial();
    let before = leftovers();
    // As root, drop to nobody with no capabilities; without root, as we are.
    let mut cmd = if nix::unistd::geteuid().is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
            .arg(env!("CARGO_BIN_EXE_netsim"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_netsim"))
    };
    let out = cmd
        .args(["run", lab("linux/bridge-two-namespaces").to_str().expect("utf8"), "--backend", "netns"])
        .current_dir(root())
        .output()
        .expect("setpriv (util-linux) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it must refuse");
    assert!(err.contains("the netns backend needs root"), "{err}");
    assert_eq!(leftovers(), before);
}

#[test]
fn the_diff_reports_a_planted_divergence() {
    if !is_root("the_diff_reports_a_planted_divergence") {
        return;
    }
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

/// The lab `text` (one ping, at 1 s, from `from` to `dst`) built on the kernel, the ping run
/// there by iputils, and what each namespace then held, its MACs named by owner; and what
/// the simulator's namespaces hold 100 ms after its own ping of the same lab.
fn learned_after_a_ping(
    text: &str,
    run_id: &str,
    from: &str,
    dst: &str,
) -> (netsim_netns::state::State, netsim_netns::state::State, std::collections::BTreeSet<String>) {
    let loaded = sim_core::scenario::Loaded::from_str("l.ron", text).expect("loads");
    let realised = netsim_netns::realise::realise(&loaded.scenario.plan, run_id).expect("realised (root)");
    let k = realised.names.iter().find(|(n, _)| n == from).map(|(_, k)| k.clone()).expect("ns");
    let ping =
        Command::new("ip").args(["netns", "exec", &k, "ping", "-c", "1", "-W", "1", dst]).output().expect("ping runs");
    let mut kernel: netsim_netns::state::State =
        realised.names.iter().map(|(p, k)| (p.clone(), netsim_netns::state::from_kernel(k))).collect();
    netsim_netns::state::name_macs(&mut kernel, &netsim_netns::state::kernel_owners(&realised.names));
    realised.teardown().expect("teardown");
    assert!(ping.status.success(), "{}", String::from_utf8_lossy(&ping.stdout));
    let mut sim = loaded.build(None).expect("builds");
    sim.run_until(sim_core::Until::Time(sim_core::SimTime::from_millis(1100)));
    let mut mine = netsim_netns::state::from_world(&sim.world);
    netsim_netns::state::name_macs(&mut mine, &netsim_netns::state::world_owners(&sim.world));
    (kernel, mine, netsim_netns::state::world_bridges(&sim.world).collect())
}

/// What the kernel learned is read as the simulator's is written: after a ping from x1 to x2
/// across a bridge whose x1 port does not learn, x1 has x2 REACHABLE, x2 has x1 DELAY (its
/// STALE entry used for the reply), and the bridge knows x2's MAC on p2 and nothing on p1,
/// each MAC named by its device. The simulator, given the same plan and ping, agrees.
#[test]
fn the_kernels_learned_entries_read_as_the_simulators() {
    if !is_root("the_kernels_learned_entries_read_as_the_simulators") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    let text = r#"Scenario(name: "l", plan: (
        namespaces: [(name: "br"), (name: "x1"), (name: "x2")],
        links: [Bridge(name: "br0", ns: "br"),
            Veth(name: "eth0", ns: "x1", peer: "p1", peer_ns: "br", peer_master: "br0"),
            Veth(name: "eth0", ns: "x2", peer: "p2", peer_ns: "br", peer_master: "br0")],
        addresses: [(ns: "x1", dev: "eth0", addr: "10.9.0.1/24"), (ns: "x2", dev: "eth0", addr: "10.9.0.2/24")],
        bridge_ports: [(ns: "br", dev: "p1", learning: false)],
    ), traffic: [Ping(at: "1s", ns: "x1", dst: "10.9.0.2", count: 1)])"#;
    let (kernel, mine, bridges) = learned_after_a_ping(text, "learned", "x1", "10.9.0.2");
    assert_eq!(kernel["x1"].learned, ["10.9.0.2 dev eth0 lladdr x2/eth0 REACHABLE"]);
    assert_eq!(kernel["x2"].learned, ["10.9.0.1 dev eth0 lladdr x1/eth0 DELAY"]);
    assert_eq!(kernel["br"].learned, ["x2/eth0 dev p2 master br0"]);
    assert_eq!(netsim_netns::state::compare_learned(&mine, &kernel, &bridges), Vec::<String>::new());
    assert!(new_since(&before).is_empty(), "left namespaces behind: {:?}", new_since(&before));
}

/// The connections a NAT router tracks, read from the kernel's /proc/net/nf_conntrack in its
/// namespace after a ping through it: the same entry the simulator's table holds at that
/// moment, once the ICMP id is left out. A namespace whose nat rules only ACCEPT tracks
/// nothing on the kernel, and its table is not compared. The router's FORWARD rule counted
/// the request and the reply on both sides.
#[test]
fn the_kernels_tracked_connections_read_as_the_simulators() {
    if !is_root("the_kernels_tracked_connections_read_as_the_simulators") {
        return;
    }
    let _one_at_a_time = serial();
    let before = leftovers();
    let text = r#"Scenario(name: "ct", plan: (
        namespaces: [(name: "lan"), (name: "router", ip_forward: true), (name: "server")],
        links: [Veth(name: "eth0", ns: "lan", peer: "eth0", peer_ns: "router"),
            Veth(name: "eth1", ns: "router", peer: "eth0", peer_ns: "server")],
        addresses: [(ns: "lan", dev: "eth0", addr: "192.168.7.2/24"), (ns: "router", dev: "eth0", addr: "192.168.7.1/24"),
            (ns: "router", dev: "eth1", addr: "203.0.113.1/24"), (ns: "server", dev: "eth0", addr: "203.0.113.10/24")],
        routes: [(ns: "lan", dst: "default", via: "192.168.7.1")],
        iptables: [(ns: "router", table: "nat", rule: "-A POSTROUTING -o eth1 -j MASQUERADE"),
            (ns: "router", table: "filter", rule: "-A FORWARD -p icmp -j ACCEPT"),
            (ns: "server", table: "nat", rule: "-A OUTPUT -d 127.0.0.11/32 -j ACCEPT")],
    ), traffic: [Ping(at: "1s", ns: "lan", dst: "203.0.113.10", count: 1)])"#;
    let (kernel, mine, bridges) = learned_after_a_ping(text, "tracked", "lan", "203.0.113.10");
    // The echo request and its reply, 84 bytes each, passed the router's FORWARD rule.
    let counted = |s: &netsim_netns::state::NsState| -> Vec<String> {
        s.learned.iter().filter(|l| l.contains("(rule ")).cloned().collect()
    };
    assert_eq!(
        counted(&kernel["router"]),
        ["*filter -A FORWARD -p icmp -j ACCEPT (rule 1 of FORWARD): packets=2 bytes=168"]
    );
    assert_eq!(counted(&mine["router"]), counted(&kernel["router"]));
    let tracked = |s: &netsim_netns::state::NsState| -> Vec<String> {
        s.learned.iter().filter(|l| l.starts_with("conntrack ")).cloned().collect()
    };
    assert_eq!(
        tracked(&kernel["router"]),
        [
            "conntrack icmp src=192.168.7.2 dst=203.0.113.10 type=8 code=0 id=* src=203.0.113.10 dst=203.0.113.1 type=0 code=0 id=*"
        ]
    );
    assert!(tracked(&kernel["server"]).is_empty(), "{:?}", kernel["server"]);
    assert_eq!(tracked(&mine["router"]), tracked(&kernel["router"]));
    assert_eq!(netsim_netns::state::compare_learned(&mine, &kernel, &bridges), Vec::<String>::new());
    assert!(new_since(&before).is_empty(), "left namespaces behind: {:?}", new_since(&before));
}
