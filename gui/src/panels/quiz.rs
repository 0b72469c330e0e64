//! Challenge mode's question, above the topology: the quiz item the run waits for, its
//! choices as buttons, and once answered, right or wrong, the right answer and why. The run
//! stays where it is (`Session::quiz_due`) until the student answers; "Continue" then
//! finishes what the question interrupted (`app::Motion`). Also the quiz's rows for the
//! lesson pane, beside the checklist.

use egui::{Color32, RichText, Stroke};
use sim_core::lesson::Ask;

use crate::app::{Motion, View, go_forward};
use crate::challenge::Item;
use crate::panels::lesson::{FAIL, HINT, PASS, RowText, displayable, row};
use crate::state::Session;

/// Size of the question's text: read first, so larger than the rest of the window.
const QUESTION_SIZE: f32 = 17.0;
const CHOICE_SIZE: f32 = 15.0;

/// Whether the panel has anything to show: a question waiting, or an answer just given.
pub fn wanted(session: &Session, view: &View) -> bool {
    session.quiz_due().is_some() || feedback(session, view).is_some()
}

/// The item whose verdict shows: the one just answered, while the run is at its moment.
fn feedback(session: &Session, view: &View) -> Option<usize> {
    let i = view.quiz_feedback?;
    let it = session.challenge.items.get(i)?;
    (it.at == Some(session.position()) && it.answered.is_some()).then_some(i)
}

pub fn show(ui: &mut egui::Ui, session: &mut Session, view: &mut View) {
    let frame = egui::Frame::group(ui.style())
        .stroke(Stroke::new(2.0, HINT))
        .inner_margin(egui::Margin::same(10))
        .fill(ui.visuals().extreme_bg_color);
    ui.add_space(4.0);
    frame.show(ui, |ui| {
        ui.set_width(ui.available_width());
        if let Some(i) = feedback(session, view) {
            verdict(ui, session, view, i);
        } else if let Some(i) = session.quiz_due() {
            question(ui, session, view, i);
        }
    });
    ui.add_space(4.0);
}

/// "Question 2 of 3 · 1 point", the item's name, and the run's state.
fn header(ui: &mut egui::Ui, session: &Session, i: usize, waiting: bool) {
    let items = &session.challenge.items;
    let asked = items.iter().filter(|it| it.question.is_some()).count();
    let n = items.iter().take(i + 1).filter(|it| it.question.is_some()).count();
    let it = &items[i];
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Challenge").strong().color(crate::app::ink(ui, HINT)));
        ui.label(RichText::new(format!("question {n} of {asked} · {}", points(it.quiz.points))).strong());
        if waiting {
            ui.label(
                RichText::new("· the run waits for your answer (Back and the timeline still go back)")
                    .color(ui.visuals().weak_text_color()),
            );
        }
    });
    ui.label(RichText::new(&it.quiz.name).italics());
}

fn question(ui: &mut egui::Ui, session: &mut Session, view: &mut View, i: usize) {
    header(ui, session, i, true);
    let it = &session.challenge.items[i];
    let Some(q) = &it.question else { return };
    ui.add_space(4.0);
    let text = displayable(ui, &egui::FontId::proportional(QUESTION_SIZE), &q.text);
    ui.add(egui::Label::new(RichText::new(text).size(QUESTION_SIZE).strong()).wrap());
    ui.add_space(6.0);
    // iptables rules read as the student types them; devices and addresses as prose.
    let mono = matches!(it.quiz.ask, Ask::Rule);
    let width = ui.available_width();
    let mut chosen = None;
    for (k, c) in q.choices.iter().enumerate() {
        let c = displayable(ui, &egui::FontId::proportional(CHOICE_SIZE), c);
        let text = if mono { RichText::new(c).monospace() } else { RichText::new(c).size(CHOICE_SIZE) };
        let b = egui::Button::new(text).wrap().min_size(egui::vec2(width, 30.0));
        if ui.add(b).clicked() {
            chosen = Some(k);
        }
    }
    if let Some(k) = chosen
        && session.challenge.answer(i, k).is_some()
    {
        view.quiz_feedback = Some(i);
    }
}

fn verdict(ui: &mut egui::Ui, session: &mut Session, view: &mut View, i: usize) {
    header(ui, session, i, false);
    let it = &session.challenge.items[i];
    let (Some(q), Some((chosen, a))) = (&it.question, &it.answered) else { return };
    ui.add_space(4.0);
    let body = egui::FontId::proportional(CHOICE_SIZE);
    let said = displayable(ui, &body, &q.text);
    ui.add(egui::Label::new(RichText::new(said).color(ui.visuals().weak_text_color())).wrap());
    let (mark, colour) = if a.right {
        (format!("Right: {} of {}", a.points, points(a.points)), PASS)
    } else {
        (format!("Wrong: 0 of {}", points(a.points)), FAIL)
    };
    ui.label(RichText::new(mark).size(QUESTION_SIZE).strong().color(colour));
    if !a.right {
        let yours = displayable(ui, &body, q.choices.get(*chosen).map_or("", String::as_str));
        ui.add(egui::Label::new(RichText::new(format!("Your answer: {yours}")).size(CHOICE_SIZE)).wrap());
    }
    let right = displayable(ui, &body, &a.right_answer);
    ui.add(
        egui::Label::new(
            RichText::new(format!("The right answer: {right}")).size(CHOICE_SIZE).color(crate::app::ink(ui, PASS)),
        )
        .wrap(),
    );
    let explain = q.explain.trim();
    if matches!(it.quiz.ask, Ask::Choice { .. }) {
        if !explain.is_empty() {
            let why = displayable(ui, &body, explain);
            ui.add(egui::Label::new(RichText::new(format!("Why: {why}")).size(CHOICE_SIZE)).wrap());
        }
    } else if !explain.is_empty() {
        // The simulator's reasons, as the hop log gives them: one a line reads as the path
        // the packet took, where one paragraph of them did not. A long path scrolls rather
        // than push the topology off the screen.
        ui.label(RichText::new("Why, as the simulator traced it:").size(CHOICE_SIZE));
        let mono = egui::TextStyle::Monospace.resolve(ui.style());
        let most = (ui.ctx().content_rect().height() * 0.22).max(90.0);
        egui::ScrollArea::vertical().id_salt("quiz-why").max_height(most).auto_shrink([false, true]).show(ui, |ui| {
            for reason in explain.split("; ") {
                let reason = displayable(ui, &mono, &format!("• {reason}"));
                ui.add(egui::Label::new(RichText::new(reason).monospace()).wrap());
            }
        });
    }
    ui.add_space(6.0);
    // Two items may be asked at one moment (where a frame goes, and which rule sent it).
    let more = session.challenge.due(session.position()).is_some();
    let label = if more { "Next question" } else { "Continue" };
    let hover = if more { "The next question asked here" } else { "Go on with the run" };
    if ui.button(RichText::new(label).size(CHOICE_SIZE)).on_hover_text(hover).clicked() {
        view.quiz_feedback = None;
        if !more {
            let now = ui.input(|i| i.time);
            let m = view.resume.unwrap_or(Motion::Step);
            go_forward(session, view, m, now);
        }
    }
}

fn points(n: u32) -> String {
    format!("{n} {}", if n == 1 { "point" } else { "points" })
}

/// The quiz's items for the lesson pane: answered right or wrong, still to ask, or never
/// asked and why.
pub fn rows(ui: &mut egui::Ui, session: &Session) {
    let c = &session.challenge;
    if let Some(e) = &c.error {
        ui.add(egui::Label::new(RichText::new(e).color(crate::app::ink(ui, FAIL))).wrap());
    }
    if !c.on && c.items.iter().any(|it| it.answered.is_none() && it.question.is_some()) {
        ui.label(
            RichText::new("Challenge is off: turn it on in the top bar to be asked.")
                .color(ui.visuals().weak_text_color())
                .small(),
        );
    }
    let here = session.position();
    for it in &c.items {
        row(ui, &item_row(it, here));
    }
}

fn item_row(it: &Item, here: u64) -> RowText {
    match (&it.answered, &it.question) {
        (Some((_, a)), _) => RowText {
            mark: if a.right { "right" } else { "wrong" },
            colour: Some(if a.right { PASS } else { FAIL }),
            name: it.quiz.name.clone(),
            points: format!("{}/{}", if a.right { a.points } else { 0 }, points(a.points)),
            evidence: Some(if a.right {
                format!("you answered: {}", a.chosen)
            } else {
                format!("you answered: {} · right answer: {}", a.chosen, a.right_answer)
            }),
            hint: None,
            when: None,
        },
        (None, Some(_)) => RowText {
            mark: "to ask",
            colour: None,
            name: it.quiz.name.clone(),
            points: points(it.quiz.points),
            evidence: None,
            hint: None,
            when: Some(match it.at {
                // Passed with the challenge off, or before a typed command moved it.
                Some(at) if at < here => format!("{}: go back to event {at} to be asked", it.when()),
                _ => it.when(),
            }),
        },
        (None, None) => RowText {
            mark: "never",
            colour: Some(Color32::GRAY),
            name: it.quiz.name.clone(),
            points: format!("{}, not counted", points(it.quiz.points)),
            evidence: None,
            hint: None,
            when: Some(it.never.clone().unwrap_or_else(|| "never asked".into())),
        },
    }
}
