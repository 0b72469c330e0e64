//! The lesson pane and its checklist, driven headless through the whole app: the tutorial's
//! lesson and step notes, its twelve checks turning from pending to PASS as the run reaches
//! them (and back), a lab whose check cannot hold, and an exercise graded on what the
//! student types and saved for `netsim check --commands`.

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use netsim_gui::NetsimApp;

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The app on `path`, with challenge mode off: the checklist's tests run the tutorial
/// through, and the quiz's stops are tested in `quiz.rs`.
fn open(path: &Path) -> Harness<'static, NetsimApp> {
    let mut app = NetsimApp::open(path);
    assert!(app.error.is_none(), "{:?}", app.error);
    if let Some(s) = app.session.as_mut() {
        s.challenge.on = false;
    }
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut NetsimApp| app.ui(ui), app);
    settle(&mut h);
    h
}

fn settle(h: &mut Harness<'_, NetsimApp>) {
    h.run_steps(3);
}

/// A scratch folder of this test's own: saved commands land beside the scenario.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-gui-lesson-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every label on screen containing `text`.
fn texts(h: &Harness<'_, NetsimApp>, text: &str) -> Vec<String> {
    let text = text.to_string();
    h.query_all_by(move |n| n.role() == Role::Label && n.value().is_some_and(|v| v.contains(&text)))
        .filter_map(|n| n.accesskit_node().value())
        .collect()
}

fn on_screen(h: &Harness<'_, NetsimApp>, text: &str) -> bool {
    !texts(h, text).is_empty()
}

/// The checklist's rows as `MARK name — points` (the mark is padded on screen), in the order
/// shown.
fn rows(h: &Harness<'_, NetsimApp>) -> Vec<String> {
    h.query_all_by(|n| {
        n.role() == Role::Label
            && n.value().is_some_and(|v| {
                ["PASS  ", "FAIL  ", "pending  "].iter().any(|m| v.starts_with(m)) && v.contains(" — ")
            })
    })
    .filter_map(|n| n.accesskit_node().value())
    .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    .collect()
}

fn marks(h: &Harness<'_, NetsimApp>) -> Vec<String> {
    rows(h).iter().map(|r| r.split(' ').next().unwrap_or_default().to_string()).collect()
}

fn position(h: &Harness<'_, NetsimApp>) -> u64 {
    h.state().session.as_ref().unwrap().position()
}

fn go_to(h: &mut Harness<'_, NetsimApp>, n: u64) {
    h.state_mut().session.as_mut().unwrap().go_to(n);
    settle(h);
}

fn click(h: &mut Harness<'_, NetsimApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    settle(h);
}

fn type_on_console(h: &mut Harness<'_, NetsimApp>, line: &str) {
    h.get_by_label("Command").focus();
    settle(h);
    h.get_by_label("Command").type_text(line);
    settle(h);
    assert_eq!(h.state().view.console_input, line);
    click(h, "Run");
    assert!(h.state().view.console_error.is_none(), "{:?}", h.state().view.console_error);
}

#[test]
fn the_lesson_pane_shows_the_title_and_the_note_of_the_current_step() {
    let mut h = open(&scenario("scenarios/swarm-webapp-mysql.ron"));
    assert!(on_screen(&h, "A webapp and MySQL as swarm services on an overlay"), "the lesson's title");
    assert!(on_screen(&h, "No step has run yet"));
    let first = "node1 becomes the manager; dockerd builds the ingress network, docker_gwbridge and ingress_sbox.";
    assert!(!on_screen(&h, first), "no note before its step has run");
    assert!(on_screen(&h, "the webapp asks 127.0.0.11 for `mysql`"), "a `look for` item");

    click(&mut h, "Next step");
    assert!(on_screen(&h, "Step 1 of 11"), "{:?}", texts(&h, "Step "));
    assert!(on_screen(&h, first));
    for _ in 0..3 {
        click(&mut h, "Next step");
    }
    assert!(on_screen(&h, "Step 4 of 11"), "{:?}", texts(&h, "Step "));
    assert!(on_screen(&h, "docker service create --name webapp1"), "the step's command");
    assert!(on_screen(&h, "One webapp task (on node1), on myoverlaynetwork and on ingress"));
    assert!(!on_screen(&h, first), "only the current step's note");

    // Between two steps the note stays the last step's that ran: its frames are still going.
    let after_step_4 = position(&h);
    click(&mut h, "Step");
    let s = h.state().session.as_ref().unwrap();
    assert!(!matches!(s.outcomes.last().map(|o| o.what), Some(sim_core::sim::EventKind::Step(_))));
    assert!(on_screen(&h, "Step 4 of 11"));

    // Step 6 (`docker service ls`) has no note, and says so rather than keep step 5's.
    click(&mut h, "Next step");
    click(&mut h, "Next step");
    assert!(on_screen(&h, "Step 6 of 11"), "{:?}", texts(&h, "Step "));
    assert!(on_screen(&h, "(no note for this step)"));
    assert!(!on_screen(&h, "The MySQL task lands on node2"));

    go_to(&mut h, after_step_4 - 1);
    assert!(on_screen(&h, "Step 3 of 11"), "one event back, before step 4: {:?}", texts(&h, "Step "));
    go_to(&mut h, 0);
    assert!(on_screen(&h, "No step has run yet") && !on_screen(&h, first));
}

#[test]
fn the_tutorials_twelve_checks_are_pending_at_event_0_and_pass_at_the_end() {
    let mut h = open(&scenario("scenarios/swarm-webapp-mysql.ron"));
    assert_eq!(position(&h), 0);
    let names: Vec<String> =
        h.state().session.as_ref().unwrap().loaded.scenario.expect.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names.len(), 12);
    let shown = rows(&h);
    assert_eq!(shown.len(), 12, "{shown:#?}");
    for (row, name) in shown.iter().zip(&names) {
        assert!(row.starts_with("pending ") && row.contains(name.as_str()), "{row}");
    }
    assert!(on_screen(&h, "Score 0 / 17 points"));
    assert!(on_screen(&h, "checked after step 2"), "when a pending check is made");

    // Each check shows from the event it was made at, and is pending again one event before.
    let made_at = {
        let s = h.state().session.as_ref().unwrap();
        let r = s.grading.scripted.as_ref().expect("the lab is graded when it loads");
        r.verdicts[0].events_run
    };
    assert!(made_at > 0);
    go_to(&mut h, made_at);
    assert_eq!(marks(&h)[0], "PASS", "{:#?}", rows(&h));
    assert!(marks(&h)[1..].iter().all(|m| m == "pending"), "only the first check is made yet: {:#?}", rows(&h));
    assert!(on_screen(&h, "Score 1 / 17 points"));
    assert!(on_screen(&h, "node2      Ready"), "its evidence: `docker node ls` on node1 lists node2");
    go_to(&mut h, made_at - 1);
    assert!(marks(&h).iter().all(|m| m == "pending"), "{:#?}", rows(&h));

    click(&mut h, "End");
    assert!(h.state().session.as_ref().unwrap().at_end());
    let shown = rows(&h);
    assert_eq!(shown.len(), 12);
    assert!(shown.iter().all(|r| r.starts_with("PASS ")), "{shown:#?}");
    assert!(on_screen(&h, "Score 17 / 17 points"));
    assert!(on_screen(&h, "12 passed · 0 failed · 0 pending"));
    assert!(!on_screen(&h, "hint: "), "no hint for a check that passed");

    click(&mut h, "Start");
    assert!(marks(&h).iter().all(|m| m == "pending"), "back at the start: {:#?}", rows(&h));
}

const WRONG_ADDRESS: &str = r#"Scenario(
    name: "wrong address",
    seed: 1,
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    lesson: (title: "A check that cannot hold", intro: "web gets 172.18.0.2 on appnet, never 10.9.9.9."),
    steps: [
        (on: "host1", run: "docker network create appnet", note: "A user-defined bridge."),
        (on: "host1", run: "docker run -d --name web --network appnet nginx"),
        (on: "host1", run: "docker run -dit --name client --network appnet alpine"),
    ],
    expect: [
        (name: "web resolves to 10.9.9.9", hint: "web started first on appnet: look at its address",
         check: Resolve(on: "host1", container: "client", name: "web", answer: "10.9.9.9")),
    ],
)
"#;

#[test]
fn a_check_that_cannot_hold_shows_fail_with_its_evidence_and_hint() {
    let dir = scratch("fail");
    let file = dir.join("wrong-address.ron");
    std::fs::write(&file, WRONG_ADDRESS).unwrap();
    let mut h = open(&file);
    assert!(on_screen(&h, "A check that cannot hold"));
    assert_eq!(rows(&h), ["pending web resolves to 10.9.9.9 — 1 point"]);
    assert!(!on_screen(&h, "hint: "), "no hint while pending");

    click(&mut h, "End");
    assert_eq!(rows(&h), ["FAIL web resolves to 10.9.9.9 — 0/1 point"]);
    assert!(on_screen(&h, "hint: web started first on appnet: look at its address"));
    let evidence = texts(&h, "nslookup web in host1:client");
    assert!(evidence.iter().any(|e| e.contains("172.18.0.2")), "what was seen instead: {evidence:?}");
    assert!(on_screen(&h, "Score 0 / 1 points"));
    assert!(on_screen(&h, "0 passed · 1 failed · 0 pending"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The shipped exercise: its hidden steps (the answer) neither run nor show; what the
/// student types is graded after it has run; the saved commands are what `netsim check
/// --commands` grades, and they pass there too.
#[test]
fn an_exercise_hides_its_answer_grades_the_typed_commands_and_saves_them() {
    let dir = scratch("exercise");
    let file = dir.join("exercise-names.ron");
    std::fs::copy(scenario("scenarios/docker/exercise-names.ron"), &file).unwrap();
    let mut h = open(&file);
    assert!(h.state().session.as_ref().unwrap().exercise);
    assert!(on_screen(&h, "Exercise: type the commands in the Docker console"));
    click(&mut h, "End");
    // The answer is nowhere: not run, not listed in the console, not in the lesson pane.
    for hidden in ["docker network create appnet", "docker network connect appnet web"] {
        assert!(!on_screen(&h, hidden), "the hidden step `{hidden}` shows");
    }
    let d = h.state().session.as_ref().unwrap().sim.director.as_ref().unwrap().clone();
    assert_eq!(d.transcript.len(), 3, "only the three steps the file shows ran");
    assert!(on_screen(&h, "Step 3 of 3"));
    assert_eq!(marks(&h), ["pending"; 4]);
    assert!(on_screen(&h, "checked once a command you typed has run"));

    // One command: graded as soon as it has run, with the rest still to do.
    type_on_console(&mut h, "docker network create appnet");
    assert_eq!(marks(&h), ["pending"; 4], "queued, not run yet");
    click(&mut h, "Step");
    let graded = h.state().session.as_ref().unwrap().grading.now.as_ref().map(|(at, _)| *at);
    assert_eq!(graded, Some(position(&h)), "graded once the command ran");
    assert_eq!(marks(&h), ["FAIL", "FAIL", "PASS", "FAIL"], "{:#?}", rows(&h));
    assert!(on_screen(&h, "hint: `docker network connect NETWORK CONTAINER` adds a running container to a network"));
    assert!(on_screen(&h, "Score 1 / 6 points"));

    type_on_console(&mut h, "docker network connect appnet web");
    click(&mut h, "Step");
    type_on_console(&mut h, "docker network connect appnet client");
    click(&mut h, "End");
    assert_eq!(marks(&h), ["PASS"; 4], "{:#?}", rows(&h));
    assert!(on_screen(&h, "Score 6 / 6 points"));

    // Stepping back before the graded moment: pending again.
    let first_typed = h.state().session.as_ref().unwrap().typed[0].at_events;
    go_to(&mut h, first_typed);
    assert_eq!(marks(&h), ["pending"; 4], "{:#?}", rows(&h));
    click(&mut h, "End");
    assert_eq!(marks(&h), ["PASS"; 4]);

    click(&mut h, "Save my commands");
    let saved = dir.join("exercise-names.commands.txt");
    let text = std::fs::read_to_string(&saved).expect("saved beside the scenario");
    assert_eq!(
        text,
        "host1$ docker network create appnet\nhost1$ docker network connect appnet web\n\
         host1$ docker network connect appnet client\n"
    );
    let status = h.state().view.status.clone();
    assert!(status.contains(&saved.display().to_string()) && status.contains("--commands"), "{status}");

    // The file is what `netsim check FILE --commands` grades: the same verdicts there.
    let loaded = sim_core::scenario::Loaded::from_file(&file).unwrap();
    let mine = loaded.with_commands(&saved.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
    let sim = mine.build(None).unwrap();
    let report = sim_core::grade::run(sim, &mine.scenario.expect, true, mine.scenario.until);
    assert!(report.all_passed(), "{report:#?}");
    std::fs::remove_dir_all(&dir).ok();
}
