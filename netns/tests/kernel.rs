//! Tests on the real kernel. They need root (CI runs as root); without it each one says on
//! stderr that it is skipped, and why, and passes.
//! They serialise on one lock: namespaces, `clean` and pings must not interleave.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use netsim_netns::realise::{self, Error, Options, Realised};
use serde_json::Value;
use sim_core::plan::{Link, Plan};

static LOCK: Mutex<()> = Mutex::new(());

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/linux");

/// The lock, for a test that builds real namespaces; `None` (and a SKIP line naming `test`)
/// when this process is not root.
fn root(test: &str) -> Option<MutexGuard<'static, ()>> {
    let euid = nix::unistd::geteuid();
    if !euid.is_root() {
        // Straight to stderr: the test harness would keep an `eprintln!` of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIP {test}: needs root (euid {euid}): it builds real network namespaces");
        return None;
    }
    Some(LOCK.lock().unwrap_or_else(|p| p.into_inner()))
}

fn plan(file: &str) -> Plan {
    let p = Path::new(SCENARIOS).join(file);
    sim_core::scenario::Loaded::from_file(&p).unwrap_or_else(|e| panic!("{e}")).scenario.plan
}

fn sh(prog: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(prog).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn json(prog: &str, args: &[&str]) -> Value {
    let (ok, out) = sh(prog, args);
    assert!(ok, "{prog} {args:?}: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{prog} {args:?}: {e}: {out}"))
}

fn k<'a>(r: &'a Realised, ns: &str) -> &'a str {
    r.kernel_name(ns).unwrap()
}

fn addrs(r: &Realised, ns: &str, dev: &str) -> Vec<String> {
    let v = json("ip", &["-n", k(r, ns), "-j", "addr", "show", "dev", dev]);
    v[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["family"] == "inet")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect()
}

fn ping(r: &Realised, from: &str, dst: &str) {
    let (ok, out) = sh("ip", &["netns", "exec", k(r, from), "ping", "-c", "1", "-W", "1", dst]);
    assert!(ok, "ping {from} -> {dst} failed:\n{out}");
}

fn netns_list() -> String {
    sh("ip", &["netns", "list"]).1
}

fn assert_gone(run_id: &str) {
    let pfx = format!("nsim-{run_id}-");
    let list = netns_list();
    assert!(!list.lines().any(|l| l.starts_with(&pfx)), "left behind:\n{list}");
    let dir: Vec<_> = std::fs::read_dir("/run/netns")
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.starts_with(&pfx)).collect())
        .unwrap_or_default();
    assert!(dir.is_empty(), "left in /run/netns: {dir:?}");
}

fn fresh(run_id: &str) {
    // A previous crashed run of this test must not make it fail.
    realise::clean_run(run_id, false).unwrap();
}

#[test]
fn bridge_two_namespaces() {
    let Some(_g) = root("bridge_two_namespaces") else { return };
    fresh("tbr");
    let r = realise::realise(&plan("bridge-two-namespaces.ron"), "tbr").unwrap();
    assert_eq!(
        r.names,
        [("host", "nsim-tbr-host"), ("ns1", "nsim-tbr-ns1"), ("ns2", "nsim-tbr-ns2")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(r.netns_path("ns1").unwrap(), Path::new("/run/netns/nsim-tbr-ns1"));
    assert_eq!(addrs(&r, "host", "br0"), ["10.0.0.254/24"]);
    assert_eq!(addrs(&r, "ns1", "eth0"), ["10.0.0.1/24"]);
    assert_eq!(addrs(&r, "ns2", "eth0"), ["10.0.0.2/24"]);
    let routes = json("ip", &["-n", k(&r, "ns1"), "-j", "route"]);
    let def = routes.as_array().unwrap().iter().find(|x| x["dst"] == "default").expect("default route");
    assert_eq!(def["gateway"], "10.0.0.254");
    assert_eq!(def["dev"], "eth0");
    let links = json("ip", &["-n", k(&r, "host"), "-j", "link"]);
    for port in ["veth1", "veth2"] {
        let l = links.as_array().unwrap().iter().find(|l| l["ifname"] == port).unwrap();
        assert_eq!(l["master"], "br0");
        assert_eq!(l["operstate"], "UP", "{l}");
    }
    for ns in ["host", "ns1"] {
        let (_, v) = sh("ip", &["netns", "exec", k(&r, ns), "cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"]);
        assert_eq!(v.trim(), "1", "bridge-nf-call-iptables in {ns}");
        let (_, v) = sh("ip", &["netns", "exec", k(&r, ns), "cat", "/proc/sys/net/ipv4/conf/all/rp_filter"]);
        assert_eq!(v.trim(), "0", "rp_filter in {ns}");
    }
    let lo = json("ip", &["-n", k(&r, "ns1"), "-j", "link", "show", "lo"]);
    assert!(lo[0]["flags"].as_array().unwrap().iter().any(|f| f == "UP"), "{lo}");
    ping(&r, "ns1", "10.0.0.2");
    ping(&r, "ns2", "10.0.0.254");
    ping(&r, "host", "10.0.0.1");
    // The bridge learned ns1's and ns2's MACs on their ports.
    let fdb = json("bridge", &["-n", k(&r, "host"), "-j", "fdb", "show", "br", "br0"]);
    let mac1 = json("ip", &["-n", k(&r, "ns1"), "-j", "link", "show", "eth0"])[0]["address"].clone();
    assert!(
        fdb.as_array().unwrap().iter().any(|e| e["mac"] == mac1 && e["ifname"] == "veth1"),
        "ns1's MAC not learned on veth1: {fdb}"
    );
    r.teardown().unwrap();
    assert_gone("tbr");
}

#[test]
fn vxlan_two_hosts() {
    let Some(_g) = root("vxlan_two_hosts") else { return };
    fresh("tvx");
    let r = realise::realise(&plan("vxlan-two-hosts.ron"), "tvx").unwrap();
    let h1 = k(&r, "host1").to_string();
    let v = json("ip", &["-n", &h1, "-d", "-j", "link", "show", "vxlan0"]);
    let info = &v[0]["linkinfo"]["info_data"];
    assert_eq!(info["id"], 42);
    assert_eq!(info["port"], 4789);
    assert_eq!(info["local"], "192.168.0.1");
    assert_eq!(info["link"], "eth0");
    assert_eq!(info["learning"], true);
    assert_eq!(v[0]["master"], "br0");
    let c1 = json("ip", &["-n", k(&r, "c1"), "-j", "link", "show", "eth0"]);
    assert_eq!(c1[0]["mtu"], 1450);
    let peer = json("ip", &["-n", &h1, "-j", "link", "show", "veth-c1"]);
    assert_eq!(peer[0]["mtu"], 1450);
    assert_eq!(addrs(&r, "c2", "eth0"), ["10.0.0.2/24"]);
    assert_eq!(addrs(&r, "host2", "eth0"), ["192.168.0.2/24"]);
    let fdb = json("bridge", &["-n", &h1, "-j", "fdb", "show", "dev", "vxlan0"]);
    let flood = fdb
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["mac"] == "00:00:00:00:00:00")
        .unwrap_or_else(|| panic!("no flood entry: {fdb}"));
    assert_eq!(flood["dst"], "192.168.0.2");
    assert_eq!(flood["state"], "permanent");
    assert!(flood["flags"].as_array().unwrap().iter().any(|f| f == "self"), "{flood}");
    ping(&r, "c1", "10.0.0.2");
    ping(&r, "c2", "10.0.0.1");
    // vxlan0 learned c2's MAC behind VTEP 192.168.0.2.
    let mac2 = json("ip", &["-n", k(&r, "c2"), "-j", "link", "show", "eth0"])[0]["address"].clone();
    let fdb = json("bridge", &["-n", &h1, "-j", "fdb", "show", "dev", "vxlan0"]);
    assert!(
        fdb.as_array().unwrap().iter().any(|e| e["mac"] == mac2 && e["dst"] == "192.168.0.2"),
        "c2's MAC not learned: {fdb}"
    );
    r.teardown().unwrap();
    assert_gone("tvx");
}

#[test]
fn vxlan_static_proxy_and_router_nat() {
    let Some(_g) = root("vxlan_static_proxy_and_router_nat") else { return };
    fresh("tsp");
    let r = realise::realise(&plan("vxlan-static-proxy.ron"), "tsp").unwrap();
    let neigh = json("ip", &["-n", k(&r, "host1"), "-j", "neigh", "show", "dev", "vxlan0"]);
    assert_eq!(neigh[0]["dst"], "10.0.1.3");
    assert_eq!(neigh[0]["state"][0], "PERMANENT");
    ping(&r, "c1", "10.0.1.3");
    r.teardown().unwrap();
    assert_gone("tsp");

    fresh("tnat");
    let r = realise::realise(&plan("router-nat.ron"), "tnat").unwrap();
    let (ok, rules) = sh("ip", &["netns", "exec", k(&r, "router"), "iptables-save"]);
    assert!(ok, "{rules}");
    for want in
        [":FORWARD DROP", "-A POSTROUTING -s 192.168.1.0/24 -o eth1 -j MASQUERADE", "--to-destination 192.168.1.2:80"]
    {
        assert!(rules.contains(want), "missing `{want}` in\n{rules}");
    }
    let (_, fwd) = sh("ip", &["netns", "exec", k(&r, "router"), "cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(fwd.trim(), "1");
    let (_, fwd) = sh("ip", &["netns", "exec", k(&r, "lan1"), "cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(fwd.trim(), "0");
    ping(&r, "lan1", "203.0.113.10");
    r.teardown().unwrap();
    assert_gone("tnat");
}

#[test]
fn macvlan_on_a_parent_in_another_namespace_and_vlan_is_refused() {
    let Some(_g) = root("macvlan_on_a_parent_in_another_namespace_and_vlan_is_refused") else { return };
    let full = plan("macvlan-vlan.ron");
    // The whole plan: the 802.1Q links are refused with a clear error, and nothing is left.
    fresh("tvl");
    let e = realise::realise(&full, "tvl").unwrap_err();
    eprintln!("vlan refusal: {e}");
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    assert!(e.to_string().contains("eth0.10"), "{e}");
    assert_gone("tvl");
    // Without the VLAN parts: macvlan eth0 in c1/c2 on host1's eth0 (same name, other ns).
    let mut p = full.clone();
    p.links.retain(|l| !matches!(l, Link::Vlan { .. }) && l.ns() != "c3");
    p.addresses.retain(|a| a.dev != "eth0.10" && a.ns != "c3");
    p.namespaces.retain(|n| n.name != "c3");
    fresh("tmv");
    let r = realise::realise(&p, "tmv").unwrap();
    let v = json("ip", &["-n", k(&r, "c1"), "-d", "-j", "link", "show", "eth0"]);
    assert_eq!(v[0]["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(v[0]["linkinfo"]["info_data"]["mode"], "bridge");
    ping(&r, "c1", "192.168.10.2"); // out through host1's eth0 and the lan switch
    ping(&r, "c1", "192.168.10.12"); // c2, macvlan bridge mode on the same parent
    r.teardown().unwrap();
    assert_gone("tmv");
}

/// Docker's overlay shape: vxlan0 lives in an overlay namespace, but its UDP socket is the
/// host's (`underlay_ns`).
#[test]
fn vxlan_with_underlay_in_another_namespace() {
    let Some(_g) = root("vxlan_with_underlay_in_another_namespace") else { return };
    let mut p = plan("vxlan-two-hosts.ron");
    for n in ["ov1", "ov2"] {
        p.namespaces.push(sim_core::plan::NsPlan {
            name: n.into(),
            lo_up: true,
            ip_forward: false,
            bridge_nf_call_iptables: true,
        });
    }
    for l in &mut p.links {
        match l {
            Link::Bridge { ns, .. } => *ns = if ns == "host1" { "ov1".into() } else { "ov2".into() },
            Link::Vxlan { ns, underlay_ns, .. } => {
                *underlay_ns = Some(ns.clone());
                *ns = if ns == "host1" { "ov1".into() } else { "ov2".into() };
            }
            Link::Veth { peer_ns, peer_master: Some(_), .. } => {
                *peer_ns = if peer_ns == "host1" { "ov1".into() } else { "ov2".into() }
            }
            _ => {}
        }
    }
    for f in &mut p.fdb {
        f.ns = if f.ns == "host1" { "ov1".into() } else { "ov2".into() };
    }
    fresh("tov");
    let r = realise::realise(&p, "tov").unwrap();
    let (_, l) = sh("ip", &["-n", k(&r, "host1"), "-br", "link"]);
    assert!(!l.contains("vxlan0"), "vxlan0 must not stay in the underlay:\n{l}");
    ping(&r, "c1", "10.0.0.2");
    r.teardown().unwrap();
    assert_gone("tov");
}

#[test]
fn ipvs_is_a_note_not_a_failure() {
    let Some(_g) = root("ipvs_is_a_note_not_a_failure") else { return };
    let mut p = plan("bridge-two-namespaces.ron");
    p.ipvs.push(sim_core::plan::IpvsPlan { ns: "ns1".into(), fwmark: 256, dests: vec!["10.0.0.2".parse().unwrap()] });
    fresh("tipvs");
    let r = realise::realise(&p, "tipvs").unwrap();
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    eprintln!("note: {}", r.notes[0]);
    assert!(r.notes[0].contains("IPVS"), "{:?}", r.notes);
    r.teardown().unwrap();
    assert_gone("tipvs");
}

#[test]
fn an_error_mid_realise_leaves_nothing() {
    let Some(_g) = root("an_error_mid_realise_leaves_nothing") else { return };
    let p = plan("vxlan-two-hosts.ron");
    for n in 0..p.links.len() {
        fresh("tfail");
        let opts = Options { fail_at_link: Some(n), ..Default::default() };
        let e = realise::realise_with(&p, "tfail", &opts).unwrap_err();
        assert!(matches!(e, Error::Injected(_)), "{e}");
        assert_gone("tfail");
    }
}

#[test]
fn a_panic_mid_realise_leaves_nothing() {
    let Some(_g) = root("a_panic_mid_realise_leaves_nothing") else { return };
    let p = plan("vxlan-two-hosts.ron");
    fresh("tpanic");
    let opts = Options { panic_at_link: Some(4), ..Default::default() };
    let r = std::panic::catch_unwind(|| realise::realise_with(&p, "tpanic", &opts));
    assert!(r.is_err(), "the injected panic must propagate");
    assert_gone("tpanic");
}

#[test]
fn dropping_tears_down() {
    let Some(_g) = root("dropping_tears_down") else { return };
    fresh("tdrop");
    let r = realise::realise(&plan("bridge-two-namespaces.ron"), "tdrop").unwrap();
    assert!(netns_list().contains("nsim-tdrop-host"));
    drop(r);
    assert_gone("tdrop");
}

#[test]
fn an_existing_namespace_is_not_taken_over() {
    let Some(_g) = root("an_existing_namespace_is_not_taken_over") else { return };
    fresh("texist");
    let (ok, out) = sh("ip", &["netns", "add", "nsim-texist-ns2"]);
    assert!(ok, "{out}");
    let e = realise::realise(&plan("bridge-two-namespaces.ron"), "texist").unwrap_err();
    assert!(e.to_string().contains("nsim-texist-ns2"), "{e}");
    // Ours are gone, the one we did not make is still there.
    let list = netns_list();
    assert!(!list.contains("nsim-texist-host") && !list.contains("nsim-texist-ns1"), "{list}");
    assert!(list.contains("nsim-texist-ns2"), "{list}");
    sh("ip", &["netns", "del", "nsim-texist-ns2"]);
}

/// `clean` goes by the runs' records: a live run (here: this test process, which "lost" its
/// `Realised`) is left alone unless forced, and a namespace that only shares the prefix is
/// never touched.
#[test]
fn clean_removes_what_records_name_and_nothing_else() {
    let Some(_g) = root("clean_removes_what_records_name_and_nothing_else") else { return };
    fresh("tcrash");
    let foreign = "nsim-foreign";
    let had_foreign = netns_list().lines().any(|l| l.split_whitespace().next() == Some(foreign));
    if !had_foreign {
        let (ok, out) = sh("ip", &["netns", "add", foreign]);
        assert!(ok, "{out}");
    }
    let r = realise::realise(&plan("vxlan-two-hosts.ron"), "tcrash").unwrap();
    let mut ours: Vec<String> = r.names.iter().map(|(_, k)| k.clone()).collect();
    ours.sort();
    let record = Path::new(netsim_netns::record::RECORD_DIR).join("tcrash");
    let rec = netsim_netns::record::read(&record).unwrap();
    assert_eq!(rec.owner, netsim_netns::record::Proc::current().unwrap());
    let mut recorded = rec.namespaces.clone();
    recorded.sort();
    assert_eq!(recorded, ours, "every namespace is in the record");
    std::mem::forget(r); // as if the run had lost track of them; its process is alive

    let c = realise::clean(false).unwrap();
    assert!(c.live.contains(&("tcrash".to_string(), std::process::id() as i32)), "{c:?}");
    assert!(c.unrecorded.iter().any(|n| n == foreign), "{c:?}");
    assert!(!c.removed.iter().any(|n| n == foreign || ours.contains(n)), "{c:?}");
    let list = netns_list();
    for n in ours.iter().map(String::as_str).chain([foreign]) {
        assert!(list.contains(n), "{n} must survive a clean without --force:\n{list}");
    }

    let c = realise::clean_run("tcrash", true).unwrap();
    let mut removed = c.removed.clone();
    removed.sort();
    assert_eq!(removed, ours);
    assert_eq!(c.runs, ["tcrash"]);
    assert_gone("tcrash");
    assert!(!record.exists(), "the record goes with the run");
    assert!(netns_list().contains(foreign), "nsim-foreign was never netsim's");
    if !had_foreign {
        sh("ip", &["netns", "del", foreign]);
    }
}

/// A namespace removed under a realised run is named by `check_present`; one put back under
/// the same name by someone else is not taken for the run's own.
#[test]
fn a_vanished_namespace_is_named() {
    let Some(_g) = root("a_vanished_namespace_is_named") else { return };
    fresh("tvan");
    let r = realise::realise(&plan("bridge-two-namespaces.ron"), "tvan").unwrap();
    r.check_present().unwrap();
    let (ok, out) = sh("ip", &["netns", "del", "nsim-tvan-ns1"]);
    assert!(ok, "{out}");
    let e = r.check_present().unwrap_err();
    assert!(matches!(e, Error::Vanished(_)), "{e}");
    assert!(e.to_string().contains("nsim-tvan-ns1 (`ns1`)") && !e.to_string().contains("ns2"), "{e}");
    let (ok, out) = sh("ip", &["netns", "add", "nsim-tvan-ns1"]);
    assert!(ok, "{out}");
    let e = r.check_present().unwrap_err();
    assert!(e.to_string().contains("nsim-tvan-ns1"), "a namespace of the same name is another one: {e}");
    r.teardown().unwrap();
    // The teardown removes the run's own namespaces, not the one made under ns1's name.
    assert!(netns_list().contains("nsim-tvan-ns1"), "{}", netns_list());
    assert!(!netns_list().contains("nsim-tvan-ns2"), "{}", netns_list());
    sh("ip", &["netns", "del", "nsim-tvan-ns1"]);
    assert_gone("tvan");
}

/// A run id whose record is held by a live run is refused, and that run is left whole.
#[test]
fn a_taken_run_id_is_refused() {
    let Some(_g) = root("a_taken_run_id_is_refused") else { return };
    fresh("ttaken");
    let r = realise::realise(&plan("bridge-two-namespaces.ron"), "ttaken").unwrap();
    let e = realise::realise(&plan("bridge-two-namespaces.ron"), "ttaken").unwrap_err();
    assert!(e.to_string().contains("run id `ttaken` is taken"), "{e}");
    assert!(netns_list().contains("nsim-ttaken-ns1"), "the first run is untouched");
    r.teardown().unwrap();
    assert_gone("ttaken");
}

#[test]
fn a_bad_plan_is_refused_and_leaves_nothing() {
    let Some(_g) = root("a_bad_plan_is_refused_and_leaves_nothing") else { return };
    let mut p = plan("bridge-two-namespaces.ron");
    p.addresses.push(sim_core::plan::AddrPlan {
        ns: "ns1".into(),
        dev: "eth9".into(),
        addr: "10.9.0.1/24".parse().unwrap(),
    });
    fresh("tbad");
    let e = realise::realise(&p, "tbad").unwrap_err();
    assert!(matches!(e, Error::Plan(_)) && e.to_string().contains("eth9"), "{e}");
    assert_gone("tbad");
    let e = realise::realise(&p, "bad/run").unwrap_err();
    assert!(matches!(e, Error::Plan(_)), "{e}");
}

#[test]
fn iptables_line_by_line_fallback_and_a_refused_rule() {
    let Some(_g) = root("iptables_line_by_line_fallback_and_a_refused_rule") else { return };
    let mut p = plan("bridge-two-namespaces.ron");
    let line =
        |rule: &str| sim_core::plan::IptablesPlan { ns: "ns1".into(), table: "filter".into(), rule: rule.into() };
    // `-F` is not iptables-restore material: every line runs as `iptables -t T …` instead.
    p.iptables = vec![
        line("-N NSIM"),
        line("-A INPUT -m comment --comment \"two words\" -j NSIM"),
        line("-F OUTPUT"),
        line("-A NSIM -p icmp -j ACCEPT"),
    ];
    fresh("tipt");
    let r = realise::realise(&p, "tipt").unwrap();
    let (ok, rules) = sh("ip", &["netns", "exec", k(&r, "ns1"), "iptables", "-S"]);
    assert!(ok, "{rules}");
    assert!(rules.contains("-A INPUT -m comment --comment \"two words\" -j NSIM"), "{rules}");
    assert!(rules.contains("-A NSIM -p icmp -j ACCEPT"), "{rules}");
    let (_, host) = sh("ip", &["netns", "exec", k(&r, "host"), "iptables", "-S"]);
    assert!(!host.contains("NSIM"), "rules leaked into another namespace:\n{host}");
    r.teardown().unwrap();
    assert_gone("tipt");

    p.iptables = vec![line("-A INPUT -j NOSUCHCHAIN")];
    let e = realise::realise(&p, "tipt").unwrap_err();
    eprintln!("iptables refusal: {e}");
    assert!(matches!(e, Error::Kernel { .. }), "{e}");
    assert_gone("tipt");
}

/// The kernel is the judge of how many ports a bridge takes: the plan the simulator refuses
/// (one port too many) is the first the kernel refuses, and with the same errno.
#[test]
fn a_bridge_is_full_where_the_kernel_says_so() {
    let Some(_g) = root("a_bridge_is_full_where_the_kernel_says_so") else { return };
    fresh("tfull");
    let ports = |n: usize| {
        let mut p = Plan::default();
        p.namespaces.push(sim_core::plan::NsPlan {
            name: "sw".into(),
            lo_up: true,
            ip_forward: false,
            bridge_nf_call_iptables: true,
        });
        p.links.push(Link::Bridge {
            name: "br0".into(),
            ns: "sw".into(),
            mac: None,
            mtu: None,
            ageing: None,
            txqueuelen: None,
        });
        for i in 0..n {
            p.links.push(Link::Veth {
                name: format!("v{i}"),
                ns: "sw".into(),
                peer: format!("p{i}"),
                peer_ns: "sw".into(),
                mac: None,
                peer_mac: None,
                mtu: None,
                master: Some("br0".into()),
                peer_master: None,
                delay: None,
                txqueuelen: None,
            });
        }
        p
    };
    let max = sim_core::kernel::defaults::BR_MAX_PORTS;
    let fits = ports(max);
    sim_core::World::from_plan(&fits, 1).expect("the simulator takes the ports the kernel takes");
    let r = realise::realise(&fits, "tfull").unwrap_or_else(|e| panic!("the kernel takes {max} ports: {e}"));
    r.teardown().unwrap();
    assert_gone("tfull");
    let over = ports(max + 1);
    let Err(sim) = sim_core::World::from_plan(&over, 1) else { panic!("the simulator took one port more") };
    let Err(kernel) = realise::realise(&over, "tfull") else { panic!("the kernel took one port more") };
    assert_gone("tfull");
    assert_eq!(sim.token, format!("v{max}"));
    assert!(sim.message.contains("Exchange full"), "{}", sim.message);
    let Error::Kernel { what, msg } = kernel else { panic!("not the kernel's refusal: {kernel}") };
    assert!(what.ends_with(&format!("link set v{max} master br0 up")), "{what}");
    // EXFULL, errno 54 on Linux ("Exchange full", as `ip link` prints it).
    assert!(msg.contains("Exchange full (os error 54)"), "{msg}");
}
