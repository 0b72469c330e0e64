//! Challenge mode driven headless through the whole app: the tutorial's quiz stops the run
//! before step 10 and before the POST's first frame leaves docker_gwbridge, nothing goes on
//! until the question is answered, each answer is scored once, and the report saved beside
//! the scenario holds the answers; a quiz item whose frame never occurs is never asked.

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use netsim_gui::NetsimApp;
use sim_core::grade::record_matches;
use sim_core::lesson::Ask;
use sim_core::sim::EventKind;

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A scratch folder of this test's own: the report lands beside the scenario.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-gui-quiz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open(path: &Path) -> Harness<'static, NetsimApp> {
    let app = NetsimApp::open(path);
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut NetsimApp| app.ui(ui), app);
    settle(&mut h);
    h
}

/// A few frames: the verdict's list of reasons scrolls, and a scroll area knows its
/// content's height only from its second frame, so the buttons under it settle a frame later.
fn settle(h: &mut Harness<'_, NetsimApp>) {
    h.run_steps(5);
}

/// Every text on screen (a label's or a button's) containing `text`.
fn texts(h: &Harness<'_, NetsimApp>, text: &str) -> Vec<String> {
    let text = text.to_string();
    h.query_all_by(move |n| {
        matches!(n.role(), Role::Label | Role::Button)
            && (n.value().is_some_and(|v| v.contains(&text)) || n.label().is_some_and(|v| v.contains(&text)))
    })
    .filter_map(|n| n.accesskit_node().value().or_else(|| n.accesskit_node().label()))
    .collect()
}

fn on_screen(h: &Harness<'_, NetsimApp>, text: &str) -> bool {
    !texts(h, text).is_empty()
}

fn position(h: &Harness<'_, NetsimApp>) -> u64 {
    h.state().session.as_ref().unwrap().position()
}

fn click(h: &mut Harness<'_, NetsimApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    settle(h);
}

/// Plays at full speed until playback stops (a question, or the end); at most `frames`.
fn play(h: &mut Harness<'_, NetsimApp>, frames: usize) {
    h.state_mut().view.speed = 200.0;
    if !h.state().view.playing {
        click(h, "Play");
    }
    for _ in 0..frames {
        if !h.state().view.playing {
            return;
        }
        h.run_steps(1);
    }
    panic!("still playing after {frames} frames, at event {}", position(h));
}

/// The question of quiz item `i`, as the session prepared it.
fn question(h: &Harness<'_, NetsimApp>, i: usize) -> sim_core::quiz::Question {
    h.state().session.as_ref().unwrap().challenge.items[i].question.clone().expect("a question")
}

#[test]
fn challenge_mode_stops_before_each_question_and_scores_the_answers() {
    let dir = scratch("tutorial");
    let file = dir.join("swarm-webapp-mysql.ron");
    std::fs::copy(scenario("scenarios/swarm-webapp-mysql.ron"), &file).unwrap();
    let mut h = open(&file);
    {
        let s = h.state().session.as_ref().unwrap();
        assert!(s.challenge.on, "on by default for a lab with a quiz");
        assert_eq!(s.challenge.items.len(), 3);
        assert!(matches!(s.challenge.items[0].quiz.ask, Ask::Choice { .. }));
        assert!(matches!(s.challenge.items[1].quiz.ask, Ask::NextHop));
    }
    assert!(on_screen(&h, "Challenge"), "the toggle in the top bar");
    assert!(on_screen(&h, "Quiz 0 / 3 points"));
    assert!(!on_screen(&h, "Which address will the embedded DNS answer?"), "nothing asked at event 0");

    // Played from the start: stopped before step 10 runs, with the Choice on screen.
    play(&mut h, 200);
    let at_choice = position(&h);
    {
        let s = h.state().session.as_ref().unwrap();
        assert_eq!(s.sim.next_step(), Some(9), "the next event is step 10 (counted from 1)");
        let d = s.sim.director.as_ref().unwrap();
        assert!(d.transcript.iter().all(|l| l.index < 9), "step 10 has not run");
        assert!(!s.at_end());
    }
    assert!(on_screen(&h, "The webapp is about to look up `mysql`. Which address will the embedded DNS answer?"));
    assert!(on_screen(&h, "question 1 of 3 · 1 point"));
    let q = question(&h, 0);
    for c in &q.choices {
        assert!(!texts(&h, c).is_empty(), "the choice `{c}` is a button");
    }
    // Nothing advances until it is answered: not the buttons, not the timeline.
    click(&mut h, "Step");
    click(&mut h, "End");
    assert_eq!(position(&h), at_choice);
    let total = h.state().session.as_ref().unwrap().total_events;
    h.state_mut().session.as_mut().unwrap().go_to(total);
    settle(&mut h);
    assert_eq!(position(&h), at_choice, "the timeline forward stops at the question too");
    // Back still works, and coming forward again asks again.
    click(&mut h, "Back");
    assert_eq!(position(&h), at_choice - 1);
    assert!(!on_screen(&h, "Which address will the embedded DNS answer?"));
    click(&mut h, "Step");
    assert_eq!(position(&h), at_choice);
    assert!(on_screen(&h, "Which address will the embedded DNS answer?"));

    // Answered right: its point is scored, the explanation shows, the run goes on.
    let right = q.choices[q.answer].clone();
    assert_eq!(right, "10.0.1.5, the mysql service's VIP");
    click(&mut h, &right);
    assert!(on_screen(&h, "Right: 1 of 1 point"), "{:?}", texts(&h, "Right"));
    assert!(on_screen(&h, "The right answer: 10.0.1.5, the mysql service's VIP"));
    assert!(on_screen(&h, "Why: A service name resolves to the service's virtual IP"));
    assert!(on_screen(&h, "Quiz 1 / 3 points"));
    assert_eq!(position(&h), at_choice, "answering does not move the run");
    // Reached by Step, so Continue runs that one event: step 10.
    click(&mut h, "Continue");
    assert_eq!(position(&h), at_choice + 1);
    let d = h.state().session.as_ref().unwrap().sim.director.as_ref().unwrap().clone();
    assert!(d.transcript.iter().any(|l| l.index == 9), "step 10 ran");

    // The POST's first frame on docker_gwbridge: the NextHop question comes before it shows.
    play(&mut h, 200);
    let at_frame = position(&h);
    assert!(at_frame > at_choice);
    let filter = h.state().session.as_ref().unwrap().challenge.items[1].quiz.frame.clone().unwrap();
    {
        let s = h.state().session.as_ref().unwrap();
        assert!(
            !s.sim.records().iter().any(|r| record_matches(&filter, &s.sim.world, r)),
            "the frame is not shown yet"
        );
    }
    let q = question(&h, 1);
    assert!(q.text.ends_with("leaves node1/docker_gwbridge. Where does it go next?"), "{}", q.text);
    assert!(on_screen(&h, "Where does it go next?"));
    assert!(on_screen(&h, "question 2 of 3 · 1 point"));

    // Answered wrong: no point, and the right answer is said.
    let wrong = (q.answer + 1) % q.choices.len();
    click(&mut h, &q.choices[wrong].clone());
    assert!(on_screen(&h, "Wrong: 0 of 1 point"), "{:?}", texts(&h, "Wrong"));
    assert!(on_screen(&h, &format!("Your answer: {}", q.choices[wrong])));
    assert!(on_screen(&h, &format!("The right answer: {}", q.choices[q.answer])));
    // The simulator's reasons, one a line: the bridge's FDB sends it out of that port.
    let port = q.choices[q.answer].trim_start_matches("out of node1/").to_string();
    let fdb = texts(&h, "• docker_gwbridge: fdb ");
    assert!(fdb.len() == 1 && fdb[0].ends_with(&format!("port {port}")), "{:?}", texts(&h, "• "));
    assert!(on_screen(&h, "Quiz 1 / 3 points"), "a wrong answer scores nothing");

    // The Rule question is asked at the same moment.
    click(&mut h, "Next question");
    assert_eq!(position(&h), at_frame);
    let q = question(&h, 2);
    assert!(on_screen(&h, "which rule of nat/OUTPUT matches it?"), "{}", q.text);
    click(&mut h, &q.choices[q.answer].clone());
    assert!(on_screen(&h, "Quiz 2 / 3 points"));
    click(&mut h, "Continue");
    assert!(h.state().view.playing, "Continue resumes the play the question stopped");
    play(&mut h, 200);
    {
        let s = h.state().session.as_ref().unwrap();
        assert!(s.at_end(), "no question left: played to the end");
        // The event the run stopped before sent the frame the questions were about.
        let o = &s.outcomes[at_frame as usize];
        let recs = &s.sim.records()[o.records.clone()];
        assert!(recs.iter().any(|r| record_matches(&filter, &s.sim.world, r)));
        assert!(matches!(s.outcomes[at_choice as usize].what, EventKind::Step(9)));
    }
    assert!(on_screen(&h, "Quiz 2 / 3 points") && on_screen(&h, "Score 17 / 17 points"));

    // Each item is asked once: from the start again, nothing stops the run.
    click(&mut h, "Start");
    click(&mut h, "End");
    assert!(h.state().session.as_ref().unwrap().at_end());
    assert!(on_screen(&h, "Quiz 2 / 3 points"));
    // An answer is final: answering the wrong one again changes nothing.
    let q = question(&h, 1);
    let again = h.state_mut().session.as_mut().unwrap().challenge.answer(1, q.answer).cloned();
    assert!(again.is_some_and(|a| !a.right));
    assert_eq!(h.state().session.as_ref().unwrap().challenge.score(), (2, 3));

    click(&mut h, "Save report");
    let saved = dir.join("swarm-webapp-mysql.report.json");
    let status = h.state().view.status.clone();
    assert!(status.contains(&saved.display().to_string()), "{status}");
    let text = std::fs::read_to_string(&saved).expect("saved beside the scenario");
    let r: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(r["lab"], h.state().session.as_ref().unwrap().name());
    let answers = r["quiz"]["answers"].as_array().expect("answers");
    let right: Vec<bool> = answers.iter().map(|a| a["right"].as_bool().unwrap()).collect();
    assert_eq!(right, [true, false, true]);
    assert_eq!(answers[0]["chosen"], "10.0.1.5, the mysql service's VIP");
    assert_eq!(answers[1]["points"], 1);
    assert_ne!(answers[1]["chosen"], answers[1]["right_answer"]);
    assert_eq!((r["quiz"]["score"].as_u64(), r["quiz"]["total"].as_u64()), (Some(2), Some(3)));
    assert_eq!((r["checklist"]["score"].as_u64(), r["checklist"]["total"].as_u64()), (Some(17), Some(17)));
    assert_eq!(r["checklist"]["verdicts"].as_array().map(Vec::len), Some(12));
    std::fs::remove_dir_all(&dir).ok();
}

const NEVER: &str = r#"Scenario(
    name: "a quiz with a frame that never occurs",
    seed: 1,
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create appnet"),
        (on: "host1", run: "docker run -d --name web --network appnet nginx"),
    ],
    quiz: [
        (name: "nothing listens on 9999", frame: (on: "host1/eth0", dport: 9999), ask: NextHop),
        (name: "what a user-defined bridge gives", at_step: 2, points: 2, ask: Choice(
            question: "Which name will other containers on appnet reach web by?",
            choices: ["web", "appnet-web"], answer: 1)),
    ],
)
"#;

#[test]
fn a_quiz_item_whose_frame_never_occurs_is_never_asked_and_says_so() {
    let dir = scratch("never");
    let file = dir.join("never.ron");
    std::fs::write(&file, NEVER).unwrap();
    let mut h = open(&file);
    let never = "never asked: no frame matching a frame (dport 9999) leaves host1/eth0 in this run";
    assert!(on_screen(&h, never), "{:?}", texts(&h, "never"));
    assert!(on_screen(&h, "Quiz 0 / 2 points"), "the item never asked does not count");

    click(&mut h, "End");
    assert!(on_screen(&h, "Which name will other containers on appnet reach web by?"), "stopped before step 2");
    assert_eq!(h.state().session.as_ref().unwrap().sim.next_step(), Some(1));
    // With the challenge off the run goes on without an answer.
    h.state_mut().session.as_mut().unwrap().challenge.on = false;
    settle(&mut h);
    assert!(!on_screen(&h, "Which name will other containers on appnet reach web by?"));
    assert!(on_screen(&h, "Challenge is off"));
    click(&mut h, "End");
    assert!(h.state().session.as_ref().unwrap().at_end());
    // Back on, past the moment: the pane says how to be asked.
    h.state_mut().session.as_mut().unwrap().challenge.on = true;
    settle(&mut h);
    let at = h.state().session.as_ref().unwrap().challenge.items[1].at.unwrap();
    assert!(on_screen(&h, &format!("asked before step 2 runs: go back to event {at} to be asked")));

    click(&mut h, "Save report");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("never.report.json")).unwrap()).unwrap();
    assert_eq!(r["quiz"]["answers"].as_array().map(Vec::len), Some(0));
    assert_eq!(r["quiz"]["unanswered"].as_array().map(Vec::len), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
