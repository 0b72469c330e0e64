//! `netsim export --to script`: every shipped lab becomes scripts bash accepts; on this
//! machine's Docker Engine (root, `docker info`, a static busybox for the image) an exported
//! lab runs, grades each check as `netsim check` does in the simulator, and `down` takes
//! away all it made; two hosts' scripts keep the lab's order through their shared folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{is_root, netsim, root, scenarios_in, scratch};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// What netsim printed, with miette's line wrapping undone.
fn said(o: &Output) -> String {
    text(o).lines().map(|l| l.trim_start().trim_start_matches('│').trim()).collect::<Vec<_>>().join(" ")
}

/// Exports `lab` into a fresh folder and returns it.
fn export(lab: &Path, name: &str) -> PathBuf {
    let out = scratch(name);
    let _ = std::fs::remove_dir_all(&out);
    let o = netsim(&["export", s(lab), "--to", "script", "--out", s(&out)]);
    assert!(o.status.success(), "netsim export {}: {}", lab.display(), text(&o));
    out
}

fn bash_accepts(script: &Path) {
    let o = Command::new("bash").arg("-n").arg(script).output().expect("bash runs");
    assert!(o.status.success(), "bash -n {}: {}", script.display(), text(&o));
}

#[test]
fn every_shipped_docker_lab_exports_to_scripts_bash_accepts() {
    let mut labs = scenarios_in("docker", 10);
    labs.push(root().join("scenarios/swarm-webapp-mysql.ron"));
    let mut exported = 0;
    for lab in &labs {
        let stem = lab.file_stem().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("export-{stem}"));
        let _ = std::fs::remove_dir_all(&out);
        let o = netsim(&["export", s(lab), "--out", s(&out)]);
        if stem == "macvlan-8021q" {
            // Its laptop's VLAN device is written in `plan`: no command types it.
            assert!(!o.status.success());
            assert!(said(&o).contains("by hand (`plan`: device eth0.10)"), "{}", text(&o));
            assert!(!out.exists(), "a refused export leaves nothing behind");
            continue;
        }
        assert!(o.status.success(), "{}: {}", lab.display(), text(&o));
        let loaded = sim_core::scenario::Loaded::from_file(lab).expect("loads");
        for h in &loaded.scenario.hosts {
            let script = out.join(format!("{}.sh", h.name));
            bash_accepts(&script);
            let body = std::fs::read_to_string(&script).unwrap();
            // Every step typed on this host is there, in the lab's order.
            let mut at = 0;
            for (i, st) in loaded.scenario.steps.iter().enumerate().filter(|(_, st)| st.on == h.name) {
                let marker = format!("netsim_step {} ", i + 1);
                let p =
                    body[at..].find(&marker).unwrap_or_else(|| panic!("{}: step {} missing", script.display(), i + 1));
                at += p + marker.len();
                assert!(
                    body[at..].starts_with(&sim_core::export::quote(&st.run)),
                    "{}: step {}",
                    script.display(),
                    i + 1
                );
            }
            exported += 1;
        }
    }
    assert!(exported >= 20, "{exported} scripts");

    // The tutorial: node2 joins with the token node1 publishes, and the MySQL task is looked
    // up by its service wherever the swarm put it.
    let out = export(&root().join("scenarios/swarm-webapp-mysql.ron"), "export-tutorial");
    let node1 = std::fs::read_to_string(out.join("node1.sh")).unwrap();
    let node2 = std::fs::read_to_string(out.join("node2.sh")).unwrap();
    assert!(node1.contains("netsim_publish WORKER_TOKEN \"$(docker swarm join-token -q worker)\""));
    assert!(node2.contains("docker swarm join --token \"$(netsim_get WORKER_TOKEN)\" 192.168.99.101:2377"));
    assert!(node2.contains("docker exec \"$(netsim_container mysql)\" mysql -u root"));
    assert!(node2.contains("netsim_wait step-1 "), "node2 waits for node1's swarm init");
    assert!(node1.contains("netsim_undo docker swarm leave --force"));

    // Not written twice by mistake, and a lab built by hand is refused with its reason.
    let again = netsim(&["export", "scenarios/swarm-webapp-mysql.ron", "--out", s(&out)]);
    assert!(!again.status.success());
    assert!(said(&again).contains("node1.sh exists; nothing was written"), "{}", text(&again));
    let linux = netsim(&["export", "scenarios/linux/router-nat.ron", "--out", s(&scratch("export-linux"))]);
    assert!(!linux.status.success());
    assert!(said(&linux).contains("builds part of its network by hand"), "{}", text(&linux));
}

/// Whether the engine here can run the exported lab: root, a daemon, and a static busybox
/// to make the `busybox` image from (no registry here). Says why not on stderr.
fn engine_here(test: &str) -> bool {
    if !is_root(test) {
        return false;
    }
    if !Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP {test}: no Docker Engine here (`docker info` failed)");
        return false;
    }
    if !Path::new("/bin/busybox").exists() {
        eprintln!("SKIP {test}: no /bin/busybox to make the busybox image from (apt-get install busybox-static)");
        return false;
    }
    true
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("docker runs")
}

/// Makes `busybox:latest` from this machine's static busybox unless the engine has one;
/// returns whether it made it (and should take it away).
fn busybox_image() -> bool {
    if docker(&["image", "inspect", "busybox:latest"]).status.success() {
        return false;
    }
    let dir = scratch("busybox-image");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs/bin")).unwrap();
    std::fs::create_dir_all(dir.join("rootfs/etc")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("rootfs/bin/busybox")).unwrap();
    for a in ["sh", "ping", "nslookup", "sleep", "cat"] {
        std::os::unix::fs::symlink("busybox", dir.join("rootfs/bin").join(a)).unwrap();
    }
    let tar = dir.join("rootfs.tar");
    let o = Command::new("tar").args(["-C", s(&dir.join("rootfs")), "-cf", s(&tar), "."]).output().unwrap();
    assert!(o.status.success(), "tar: {}", text(&o));
    let o = docker(&["import", "--change", "CMD [\"sh\"]", s(&tar), "busybox:latest"]);
    assert!(o.status.success(), "docker import: {}", text(&o));
    true
}

/// The verdict lines a script printed: (check name, PASS|FAIL|SKIP).
fn script_verdicts(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let (v, rest) = l.split_once("  ")?;
            if !["PASS", "FAIL", "SKIP"].contains(&v) {
                return None;
            }
            let name = rest.rsplit_once(" (").map_or(rest, |(n, _)| n);
            Some((name.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
fn an_exported_lab_runs_on_the_engine_and_grades_as_the_simulator_does() {
    const TEST: &str = "an_exported_lab_runs_on_the_engine_and_grades_as_the_simulator_does";
    if !engine_here(TEST) {
        return;
    }
    let lab = root().join("cli/tests/labs/export-user-bridge.ron");
    // The simulator's verdicts, each check by name.
    let o = netsim(&["check", s(&lab), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("check --json");
    let sim: Vec<(String, bool)> = report["report"]["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(sim.len(), 9);
    assert!(sim.iter().all(|(_, p)| *p), "the lab passes in the simulator: {sim:?}");

    let out = export(&lab, "export-engine");
    let made_image = busybox_image();
    let sync = out.join("sync");
    let run = Command::new("bash").arg(out.join("host1.sh")).env("NETSIM_SYNC_DIR", &sync).current_dir(&out).output();
    let down = Command::new("bash").arg(out.join("host1.sh")).arg("down").current_dir(&out).output();
    let left: Vec<String> =
        [docker(&["ps", "-aq", "--filter", "name=nsx-"]), docker(&["network", "ls", "-q", "--filter", "name=nsx-"])]
            .iter()
            .flat_map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
    if made_image {
        let _ = docker(&["rmi", "busybox:latest"]);
    }
    let run = run.expect("bash runs");
    let out_text = text(&run);
    let down = down.expect("bash runs");
    assert!(down.status.success(), "down: {}", text(&down));
    assert!(left.is_empty(), "down left {left:?} behind: {}", text(&down));
    assert!(run.status.success(), "the script: {out_text}");

    // The engine said what the lab means to teach, and the script went on past it.
    assert!(out_text.contains("Error response from daemon: network with name nsx-appnet already exists"), "{out_text}");
    // Each check as the simulator graded it; a frame check needs a capture and is not graded.
    let real = script_verdicts(&out_text);
    assert_eq!(real.len(), sim.len(), "{out_text}");
    for ((name, passed), (rname, verdict)) in sim.iter().zip(&real) {
        assert_eq!(name, rname, "{out_text}");
        let want = if name.contains("crossed") {
            "SKIP"
        } else if *passed {
            "PASS"
        } else {
            "FAIL"
        };
        assert_eq!(verdict, want, "{name}: {out_text}");
    }
    assert!(out_text.contains("== host1: 8 passed, 0 failed, 1 not graded here; score 8/8"), "{out_text}");
}

#[test]
fn two_hosts_scripts_keep_the_labs_order_through_their_shared_folder() {
    const TEST: &str = "two_hosts_scripts_keep_the_labs_order_through_their_shared_folder";
    if !is_root(TEST) {
        return;
    }
    let lab = root().join("cli/tests/labs/export-two-hosts.ron");
    let out = export(&lab, "export-two-hosts");
    let sync = out.join("sync");
    // b's script starts first: it must wait for a's first step, and a's last step for b's.
    let b = Command::new("bash")
        .arg(out.join("b.sh"))
        .env("NETSIM_SYNC_DIR", &sync)
        .env("NETSIM_STATE", out.join("b.made"))
        .current_dir(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bash runs");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let a = Command::new("bash")
        .arg(out.join("a.sh"))
        .env("NETSIM_SYNC_DIR", &sync)
        .env("NETSIM_STATE", out.join("a.made"))
        .current_dir(&out)
        .output()
        .expect("bash runs");
    let b = b.wait_with_output().expect("b ends");
    assert!(a.status.success(), "a: {}", text(&a));
    assert!(b.status.success(), "b: {}", text(&b));
    let mtime = |k: &str| std::fs::metadata(sync.join(k)).and_then(|m| m.modified()).expect(k);
    assert!(mtime("step-1") <= mtime("step-2"), "b ran step 2 before a's step 1");
    assert!(mtime("step-2") <= mtime("step-3"), "a ran step 3 before b's step 2");
    // a's check without `on` waited for b's step and read b's log in the shared folder.
    assert!(text(&b).contains("PASS  b's pings were answered on b"), "{}", text(&b));
    assert!(text(&a).contains("PASS  both of b's pings were answered"), "{}", text(&a));
    // A second run into the same folder is refused rather than reading stale markers.
    let again = Command::new("bash").arg(out.join("a.sh")).env("NETSIM_SYNC_DIR", &sync).current_dir(&out).output();
    let again = again.expect("bash runs");
    assert!(!again.status.success());
    assert!(text(&again).contains("holds an earlier run"), "{}", text(&again));
}
