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

/// The containers and networks of the test labs (`nsx-…`) still on the engine.
fn left_behind() -> Vec<String> {
    [docker(&["ps", "-aq", "--filter", "name=nsx-"]), docker(&["network", "ls", "-q", "--filter", "name=nsx-"])]
        .iter()
        .flat_map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The engine tests use the same names and image: one at a time.
static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    let Some(out_text) = run_on_engine(TEST, "export-user-bridge.ron", 9) else { return };
    // The engine said what the lab means to teach, and the script went on past it.
    assert!(out_text.contains("Error response from daemon: network with name nsx-appnet already exists"), "{out_text}");
    assert!(out_text.contains("== host1: 8 passed, 0 failed, 1 not graded here; score 8/8"), "{out_text}");
}

#[test]
fn an_exported_compose_lab_writes_its_file_and_grades_as_the_simulator_does() {
    const TEST: &str = "an_exported_compose_lab_writes_its_file_and_grades_as_the_simulator_does";
    if !compose_here(TEST) {
        return;
    }
    let Some(out_text) = run_on_engine(TEST, "export-compose.ron", 7) else { return };
    assert!(out_text.contains("Creating network \"nsx-shop_back\" with the default driver"), "{out_text}");
    assert!(out_text.contains("== host1: 7 passed, 0 failed, 0 not graded here; score 7/7"), "{out_text}");
}

/// Exports `lab` (under cli/tests/labs), runs its script on the engine here with a home of
/// its own, takes it down, and checks that each of its `checks` was graded as the
/// simulator grades it and that nothing is left. The script's output; `None` when the
/// engine cannot run it.
fn run_on_engine(test: &str, lab: &str, checks: usize) -> Option<String> {
    if !engine_here(test) {
        return None;
    }
    let _one = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let lab = root().join("cli/tests/labs").join(lab);
    // The simulator's verdicts, each check by name.
    let o = netsim(&["check", s(&lab), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("check --json");
    let sim: Vec<(String, bool)> = report["report"]["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(sim.len(), checks);
    assert!(sim.iter().all(|(_, p)| *p), "the lab passes in the simulator: {sim:?}");

    let out = export(&lab, &format!("engine-{}", lab.file_stem().and_then(|f| f.to_str()).unwrap_or("lab")));
    let home = out.join("home");
    std::fs::create_dir_all(&home).expect("a home for the script");
    let made_image = busybox_image();
    let sync = out.join("sync");
    let bash = |args: &[&str]| {
        Command::new("bash")
            .arg(out.join("host1.sh"))
            .args(args)
            .env("HOME", &home)
            .env("NETSIM_SYNC_DIR", &sync)
            .current_dir(&out)
            .output()
    };
    let run = bash(&[]);
    let down = bash(&["down"]);
    let left = left_behind();
    if made_image {
        let _ = docker(&["rmi", "busybox:latest"]);
    }
    let run = run.expect("bash runs");
    let out_text = text(&run);
    let down = down.expect("bash runs");
    assert!(down.status.success(), "down: {}", text(&down));
    assert!(left.is_empty(), "down left {left:?} behind: {}", text(&down));
    assert!(run.status.success(), "the script: {out_text}");

    // Each check as the simulator graded it; a frame check needs a capture and is not graded.
    // The script makes them in the lab's order of steps, `netsim check` lists them as written.
    let mut real = script_verdicts(&out_text);
    let mut sim = sim;
    real.sort();
    sim.sort();
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
    Some(out_text)
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

fn compose_here(test: &str) -> bool {
    if Command::new("docker-compose").arg("version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    eprintln!("SKIP {test}: no docker-compose here to read the files (apt-get install docker-compose)");
    false
}

#[test]
fn every_lab_that_fits_one_exports_to_a_compose_or_stack_file_docker_compose_reads() {
    const TEST: &str = "every_lab_that_fits_one_exports_to_a_compose_or_stack_file_docker_compose_reads";
    let mut labs = scenarios_in("docker", 10);
    labs.push(root().join("scenarios/swarm-webapp-mysql.ron"));
    let check = compose_here(TEST);
    let mut fits = Vec::new();
    for lab in &labs {
        let stem = lab.file_stem().unwrap().to_string_lossy().into_owned();
        for to in ["compose", "stack"] {
            let out = scratch(&format!("{to}-{stem}"));
            let _ = std::fs::remove_dir_all(&out);
            let o = netsim(&["export", s(lab), "--to", to, "--out", s(&out)]);
            if !o.status.success() {
                // Said why, in a sentence that names the lab, and left nothing behind.
                assert!(said(&o).contains(&format!("{stem}.ron")), "{}", text(&o));
                assert!(!out.exists(), "{}", out.display());
                if stem.starts_with("compose-") {
                    // It carries its compose file: the refusal points at it.
                    assert!(said(&o).contains("brings its own compose file up"), "{}", text(&o));
                }
                continue;
            }
            fits.push(format!("{to} {stem}"));
            let file = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
            if check {
                let o = Command::new("docker-compose").arg("-f").arg(&file).args(["config", "-q"]).output().unwrap();
                assert!(o.status.success(), "docker-compose config {}: {}", file.display(), text(&o));
            }
        }
    }
    for want in [
        "compose default-vs-user-bridge",
        "compose published-ports",
        "compose webapp-mysql-bridge",
        "compose isolated-bridges",
        "compose macvlan",
        "stack swarm-webapp-mysql",
        "stack swarm-overlay-vip",
    ] {
        assert!(fits.iter().any(|f| f == want), "{want} should fit: {fits:?}");
    }
    // A swarm lab is no compose file, and one whose steps remove what they made is neither.
    let o = netsim(&["export", "scenarios/swarm-webapp-mysql.ron", "--to", "compose", "--out", s(&scratch("c-tut"))]);
    assert!(
        said(&o).contains("a compose file is for one Docker host, and the lab has 2 (node1, node2)"),
        "{}",
        text(&o)
    );
    let o =
        netsim(&["export", "scenarios/docker/look-stop-start.ron", "--to", "compose", "--out", s(&scratch("c-ls"))]);
    assert!(said(&o).contains("step 6 (`docker rm web2`) changes what the lab has made before step 9"), "{}", text(&o));
}

#[test]
fn an_exported_compose_file_comes_up_on_the_engine_as_the_lab_made_it() {
    const TEST: &str = "an_exported_compose_file_comes_up_on_the_engine_as_the_lab_made_it";
    if !engine_here(TEST) || !compose_here(TEST) {
        return;
    }
    let _one = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let lab = root().join("cli/tests/labs/export-user-bridge.ron");
    let out = scratch("export-compose-engine");
    let _ = std::fs::remove_dir_all(&out);
    let o = netsim(&["export", s(&lab), "--to", "compose", "--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let file = out.join("docker-compose.yml");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(body.contains("#   step 4   host1$ docker exec nsx-a ping -c 1 nsx-b"), "{body}");
    assert!(body.contains("(the lab expects it to fail)"), "{body}");

    let made_image = busybox_image();
    let compose = |args: &[&str]| {
        Command::new("docker-compose").arg("-f").arg(&file).args(["-p", "nsxexport"]).args(args).output().unwrap()
    };
    let up = compose(&["up", "-d"]);
    let addr = |c: &str| {
        let o = docker(&["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c]);
        String::from_utf8_lossy(&o.stdout).trim().parse::<std::net::Ipv4Addr>().ok()
    };
    let (a, b) = (addr("nsx-a"), addr("nsx-b"));
    let driver = docker(&["network", "inspect", "-f", "{{.Driver}}", "nsx-appnet"]);
    let ping = docker(&["exec", "nsx-a", "ping", "-c", "1", "nsx-b"]);
    let down = compose(&["down"]);
    let left = left_behind();
    if made_image {
        let _ = docker(&["rmi", "busybox:latest"]);
    }
    assert!(up.status.success(), "up: {}", text(&up));
    assert!(down.status.success(), "down: {}", text(&down));
    assert!(left.is_empty(), "down left {left:?}");
    // The network under the lab's own name, and the containers given addresses in the lab's
    // order, as the simulator's daemon gave them (.2, then .3 of the network's subnet).
    assert_eq!(String::from_utf8_lossy(&driver.stdout).trim(), "bridge", "{}", text(&driver));
    let (a, b) = (a.expect("nsx-a has an address"), b.expect("nsx-b has an address"));
    assert_eq!(a.octets()[3], 2, "nsx-a {a}");
    assert_eq!(u32::from(b), u32::from(a) + 1, "nsx-a {a}, nsx-b {b}");
    let sim = netsim(&["inspect", s(&lab), "network", "nsx-appnet"]);
    let sim = text(&sim);
    assert!(sim.contains("\"IPv4Address\": \"172.18.0.2/16\""), "{sim}");
    assert!(sim.contains("\"IPv4Address\": \"172.18.0.3/16\""), "{sim}");
    assert!(ping.status.success(), "the lab's step 4 after up: {}", text(&ping));
}
