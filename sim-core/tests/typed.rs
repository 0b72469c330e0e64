//! Commands typed during a run (the GUI's Docker console): checked as the daemon would, run at
//! the current time, and leaving the scenario's own steps to go on as written.

use sim_core::Until;
use sim_core::scenario::Loaded;
use sim_core::sim::{EventKind, Sim};

fn lab(name: &str) -> Sim {
    let path = format!("{}/../scenarios/docker/{name}.ron", env!("CARGO_MANIFEST_DIR"));
    let l = Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    l.build(None).unwrap_or_else(|e| panic!("{e}"))
}

fn output(sim: &Sim) -> Vec<String> {
    sim.app_output().into_iter().map(|(ns, t)| format!("{ns}: {t}")).collect()
}

#[test]
fn a_typed_docker_run_creates_a_sandbox_that_answers_ping() {
    let mut sim = lab("default-vs-user-bridge");
    sim.run_until(Until::Idle);
    let steps = sim.director.as_ref().unwrap().transcript.len();
    sim.type_command("host1", "docker run -dit --name late --network appnet alpine").unwrap();
    sim.run_until(Until::Idle);
    assert!(sim.world.ns_by_name("host1:late").is_some(), "the container's sandbox exists");
    // Docker's IPAM: appnet has .2 web, .3 db, .4 client; the next one is .5.
    sim.type_command("host1", "docker exec client ping -c 1 late").unwrap();
    sim.run_until(Until::Idle);
    let out = output(&sim);
    assert!(out.iter().any(|l| l.contains("64 bytes from 172.18.0.5")), "{out:#?}");
    // Each typed command ran once, after the scenario's steps, which ran once each.
    let d = sim.director.as_ref().unwrap();
    assert_eq!(d.transcript.len(), steps + 2);
    let lines: Vec<&str> = d.transcript.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines.iter().filter(|l| l.contains("--name late")).count(), 1, "{lines:#?}");
}

#[test]
fn a_bad_typed_command_gets_dockers_error_and_changes_nothing() {
    let mut sim = lab("default-vs-user-bridge");
    sim.run_until(Until::Idle);
    let before = sim.director.as_ref().unwrap().plan();
    let e = sim.run_command("host1", "docker network create appnet").unwrap().unwrap_err();
    assert_eq!(e, "Error response from daemon: network with name appnet already exists");
    assert_eq!(sim.director.as_ref().unwrap().transcript.last().unwrap().status, 1);
    let e = sim.type_command("nohost", "docker ps").unwrap_err();
    assert!(e.contains("no host `nohost`") && e.contains("host1"), "{e}");
    assert_eq!(sim.pending_events(), 0);
    assert_eq!(sim.director.as_ref().unwrap().plan(), before);
}

#[test]
fn a_command_typed_midway_leaves_the_scenario_steps_in_order() {
    let mut whole = lab("default-vs-user-bridge");
    whole.run_until(Until::Idle);
    let scripted: Vec<String> = whole.director.as_ref().unwrap().transcript.iter().map(|l| l.line.clone()).collect();

    let mut sim = lab("default-vs-user-bridge");
    // Stop after the third step has run, and type a command there.
    let mut seen = 0;
    sim.run_while(|o, _| {
        if matches!(o.what, EventKind::Step(_)) {
            seen += 1;
        }
        seen < 3
    });
    sim.type_command("host1", "docker network ls").unwrap();
    sim.run_until(Until::Idle);
    let got: Vec<String> = sim.director.as_ref().unwrap().transcript.iter().map(|l| l.line.clone()).collect();
    let without: Vec<String> = got.iter().filter(|l| *l != "docker network ls").cloned().collect();
    assert_eq!(without, scripted);
    assert_eq!(got.len(), scripted.len() + 1);
    assert_eq!(got[3], "docker network ls", "{got:#?}");
}
