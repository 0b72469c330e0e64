//! The lesson pane: what the lab teaches (its title, introduction and what to look for), the
//! note of the step the run is at, and the checklist of the lab's checks (`expect`). A check
//! stays pending until the run reaches the point where `netsim check` makes it, so a student
//! stepping through sees each one turn PASS or FAIL as its moment passes, and pending again
//! when stepping back before it. In an exercise the run is the student's: the checks say what
//! the lab looks like after each command they typed has run. Under the checks, the quiz's
//! items (`panels::quiz::rows`) and its score beside the checklist's; "Save report" writes
//! both as JSON beside the scenario.
//!
//! The steps the student must type (`hidden`, or all of them in an `exercise`) are never
//! shown: the session does not even run them (`Session::exercise`).

use egui::text::{LayoutJob, TextFormat, TextWrapping};
use egui::{Color32, FontId, RichText};
use sim_core::director::Director;

use crate::app::View;
use crate::state::{Row, Session};

pub(crate) const PASS: Color32 = Color32::from_rgb(90, 190, 100);
pub(crate) const FAIL: Color32 = Color32::from_rgb(230, 80, 80);
pub(crate) const HINT: Color32 = Color32::from_rgb(230, 180, 80);
const NOTE: Color32 = Color32::from_rgb(100, 170, 250);

/// Share of the pane's height the lesson takes when there is a checklist under it.
const LESSON_SHARE: f32 = 0.4;

/// Whether the lab has anything for this pane.
pub fn has_lesson(session: &Session) -> bool {
    let sc = &session.loaded.scenario;
    sc.lesson.is_some()
        || !sc.expect.is_empty()
        || !sc.quiz.is_empty()
        || sc.steps.iter().any(|s| s.note.is_some() && !s.hidden)
}

pub fn show(ui: &mut egui::Ui, session: &mut Session, view: &mut View) {
    // Solid bars: both parts of the pane are often longer than their share, and a floating
    // bar only shows on hover.
    ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
    let has_checks = !session.loaded.scenario.expect.is_empty() || !session.loaded.scenario.quiz.is_empty();
    let lesson_height = if has_checks { ui.available_height() * LESSON_SHARE } else { f32::INFINITY };
    egui::ScrollArea::vertical()
        .id_salt("lesson-scroll")
        .max_height(lesson_height)
        .auto_shrink([false, true])
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
        .show(ui, |ui| lesson(ui, session));
    if has_checks {
        ui.separator();
        checklist(ui, session, view);
    }
}

/// Title, the current step's note, the introduction and what to look for.
fn lesson(ui: &mut egui::Ui, session: &Session) {
    let sc = &session.loaded.scenario;
    let title = sc.lesson.as_ref().map_or(sc.name.as_str(), |l| l.title.as_str());
    ui.add(egui::Label::new(RichText::new(title).heading()).wrap());
    if session.exercise {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Exercise: type the commands in the Docker console. Each is graded once it has run; \
                     save them for `netsim check --commands`.",
                )
                .color(crate::app::ink(ui, NOTE)),
            )
            .wrap(),
        );
    }
    ui.add_space(4.0);
    step_note(ui, session);
    let Some(l) = &sc.lesson else { return };
    // Instructors write `a → b` in their prose too.
    let body = egui::TextStyle::Body.resolve(ui.style());
    if !l.intro.trim().is_empty() {
        egui::CollapsingHeader::new("Introduction").id_salt("lesson-intro").default_open(true).show(ui, |ui| {
            ui.add(egui::Label::new(displayable(ui, &body, l.intro.trim())).wrap());
        });
    }
    if !l.look_for.is_empty() {
        egui::CollapsingHeader::new("Look for").id_salt("lesson-look-for").default_open(true).show(ui, |ui| {
            for item in &l.look_for {
                ui.add(egui::Label::new(displayable(ui, &body, &format!("• {item}"))).wrap());
            }
        });
    }
}

/// The last of the file's steps that has run, by index: the step the current event belongs
/// to. Commands the student typed carry no note, so they leave it where it was.
pub fn current_step(director: &Director) -> Option<usize> {
    director.transcript.iter().rev().map(|l| l.index).find(|&i| i < director.scripted)
}

fn current_step_ui(ui: &mut egui::Ui, d: &Director) {
    let weak = ui.visuals().weak_text_color();
    // Hidden steps are not run in the session; a hidden one found here all the same is
    // still the answer, and is not shown.
    let shown = |i: usize| d.steps.get(i).filter(|s| !s.hidden);
    let Some((i, step)) = current_step(d).and_then(|i| shown(i).map(|s| (i, s))) else {
        let text = if (0..d.scripted).any(|i| shown(i).is_some()) {
            "No step has run yet: press Next step to run the first."
        } else {
            "No steps to run: the lab is yours to type."
        };
        ui.label(RichText::new(text).color(weak));
        return;
    };
    ui.label(RichText::new(format!("Step {} of {}", i + 1, d.scripted)).strong());
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let mut job = LayoutJob::default();
    job.append(&format!("{}$ ", step.on), 0.0, TextFormat { font_id: mono.clone(), color: weak, ..Default::default() });
    job.append(&step.run, 0.0, TextFormat { font_id: mono, color: ui.visuals().text_color(), ..Default::default() });
    ui.add(egui::Label::new(job).wrap());
    match &step.note {
        Some(n) => {
            let n = displayable(ui, &egui::TextStyle::Body.resolve(ui.style()), n);
            ui.add(egui::Label::new(RichText::new(n).color(crate::app::ink(ui, NOTE))).wrap());
        }
        None => {
            ui.label(RichText::new("(no note for this step)").color(weak).small());
        }
    }
}

fn step_note(ui: &mut egui::Ui, session: &Session) {
    if let Some(d) = session.sim.director.as_deref().filter(|d| !d.hosts.is_empty()) {
        current_step_ui(ui, d);
    }
}

/// The scores, the actions (grade, save), one row per check, and one per quiz item.
fn checklist(ui: &mut egui::Ui, session: &mut Session, view: &mut View) {
    let here = session.position();
    let list = session.checklist();
    let made = list.rows.iter().filter(|r| r.verdict.is_some()).count();
    let passed = list.rows.iter().filter(|r| r.verdict.is_some_and(|v| v.passed)).count();
    let has_checks = !list.rows.is_empty();
    let has_quiz = !session.challenge.items.is_empty();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(if has_checks { "Checklist" } else { "Quiz" }).heading());
        if has_checks {
            ui.label(RichText::new(format!("Score {} / {} points", list.score, list.total)).strong());
        }
        if has_quiz {
            let (score, total) = session.challenge.score();
            ui.label(RichText::new(format!("Quiz {score} / {total} points")).strong());
        }
    });
    let weak = ui.visuals().weak_text_color();
    if has_checks {
        ui.label(
            RichText::new(format!("{passed} passed · {} failed · {} pending", made - passed, list.rows.len() - made))
                .color(weak),
        );
    }
    if let Some(at) = list.graded_at {
        let when = if at == here { "now".to_string() } else { format!("at event {at}") };
        ui.label(RichText::new(format!("your run, graded {when}")).color(weak).small());
    }
    let mut grade = false;
    let mut save = false;
    let mut report = false;
    ui.horizontal_wrapped(|ui| {
        if session.exercise || !session.typed.is_empty() {
            grade = ui
                .add_enabled(!session.typed.is_empty(), egui::Button::new("Check now"))
                .on_hover_text("Grade the run as it stands at this event")
                .clicked();
        }
        if session.exercise {
            save = ui
                .add_enabled(!session.typed.is_empty(), egui::Button::new("Save my commands"))
                .on_hover_text("Write the commands you typed beside the scenario, for `netsim check --commands`")
                .clicked();
        }
        report = ui
            .button("Save report")
            .on_hover_text("Write the checklist's verdicts and the quiz's answers beside the scenario, as JSON")
            .clicked();
    });
    if let Some(e) = &session.grading.error {
        ui.add(egui::Label::new(RichText::new(e).color(crate::app::ink(ui, FAIL))).wrap());
    }
    if let Some(why) = list.stalled {
        let text = format!("the run stopped before its end and was graded where it stopped: {why}");
        ui.add(egui::Label::new(RichText::new(text).color(crate::app::ink(ui, HINT))).wrap());
    }
    ui.add_space(2.0);
    let rows: Vec<RowText> = list.rows.iter().map(|r| RowText::of(r, session.exercise)).collect();
    egui::ScrollArea::vertical()
        .id_salt("checklist-scroll")
        .auto_shrink([false, false])
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
        .show(ui, |ui| {
            for r in &rows {
                row(ui, r);
            }
            if has_quiz {
                if has_checks {
                    ui.add_space(4.0);
                    ui.label(RichText::new("Quiz").strong());
                }
                crate::panels::quiz::rows(ui, session);
            }
        });
    if grade {
        session.grade_now();
    }
    if report {
        view.status = match crate::export::save_report(session) {
            Ok(path) => {
                let list = session.checklist();
                let (score, total) = session.challenge.score();
                format!(
                    "saved the report to {}: checklist {} / {} points, quiz {score} / {total} points",
                    path.display(),
                    list.score,
                    list.total
                )
            }
            Err(e) => format!("saving the report failed: {e}"),
        };
    }
    if save {
        view.status = match crate::export::save_commands(session) {
            Ok((path, n)) => {
                let file = session.path.as_ref().map_or_else(String::new, |p| p.display().to_string());
                let path = path.display();
                format!("saved {n} command(s) to {path}; grade them with `netsim check {file} --commands {path}`")
            }
            Err(e) => format!("save failed: {e}"),
        };
    }
}

/// What one row says, taken out of the session so the buttons can change it afterwards.
pub(crate) struct RowText {
    /// `PASS`, `FAIL` or `pending` (a quiz item's: `right`, `wrong`, `to ask`, `never`).
    pub mark: &'static str,
    pub colour: Option<Color32>,
    pub name: String,
    pub points: String,
    pub evidence: Option<String>,
    pub hint: Option<String>,
    /// For a pending check: when it is made.
    pub when: Option<String>,
}

impl RowText {
    fn of(r: &Row, exercise: bool) -> RowText {
        let e = r.expectation;
        let unit = |n: u32| if n == 1 { "point" } else { "points" };
        match r.verdict {
            Some(v) => RowText {
                mark: if v.passed { "PASS" } else { "FAIL" },
                colour: Some(if v.passed { PASS } else { FAIL }),
                name: e.name.clone(),
                points: format!("{}/{} {}", if v.passed { v.points } else { 0 }, v.points, unit(v.points)),
                evidence: Some(v.evidence.clone()),
                hint: v.hint.clone().filter(|_| !v.passed),
                when: None,
            },
            None => RowText {
                mark: "pending",
                colour: None,
                name: e.name.clone(),
                points: format!("{} {}", e.points, unit(e.points)),
                evidence: None,
                hint: None,
                when: Some(match e.after {
                    _ if exercise => "checked once a command you typed has run".into(),
                    Some(k) => format!("checked after step {k}"),
                    None => "checked at the end of the run".into(),
                }),
            },
        }
    }
}

/// The mark in a column of its own, then `name — points` with, under it, the evidence (two
/// lines at most; all of it on hover), the hint of a failed check, or when a pending one is
/// made. The mark is painted rather than a label of its own, so a screen reader (and a test)
/// reads the row as one item: `PASS  name — points`.
pub(crate) fn row(ui: &mut egui::Ui, r: &RowText) {
    let body = egui::TextStyle::Body.resolve(ui.style());
    let mono = FontId::monospace(body.size);
    let weak = ui.visuals().weak_text_color();
    let strong = ui.visuals().strong_text_color();
    let mark_colour = r.colour.map(|c| crate::app::ink(ui, c)).unwrap_or(weak);
    let widest = ui.fonts_mut(|f| f.layout_no_wrap("pending".into(), mono.clone(), weak).size());
    ui.horizontal_top(|ui| {
        let (rect, _) = ui.allocate_exact_size(widest, egui::Sense::hover());
        ui.painter().text(rect.left_top(), egui::Align2::LEFT_TOP, r.mark, mono, mark_colour);
        ui.vertical(|ui| {
            let mut job = LayoutJob::default();
            let name = displayable(ui, &body, &r.name);
            job.append(&name, 0.0, TextFormat { font_id: body.clone(), color: strong, ..Default::default() });
            job.append(
                &format!(" — {}", r.points),
                0.0,
                TextFormat { font_id: body.clone(), color: weak, ..Default::default() },
            );
            let said = format!("{}  {name} — {}", r.mark, r.points);
            ui.add(egui::Label::new(job).wrap())
                .widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Label, true, &said));
            if let Some(ev) = &r.evidence {
                let font = FontId::proportional(body.size * 0.9);
                let ev = displayable(ui, &font, ev);
                let mut job = LayoutJob::single_section(ev, TextFormat::simple(font, weak));
                // Evidence can run to a few hundred characters: two lines keep a dozen
                // checks in view; the rest shows on hover.
                job.wrap = TextWrapping { max_rows: 2, ..Default::default() };
                ui.add(egui::Label::new(job).wrap());
            }
            if let Some(h) = &r.hint {
                let h = displayable(ui, &body, h);
                ui.add(egui::Label::new(RichText::new(format!("hint: {h}")).color(crate::app::ink(ui, HINT))).wrap());
            }
            if let Some(w) = &r.when {
                ui.label(RichText::new(displayable(ui, &body, w)).color(weak).small());
            }
        });
    });
    ui.add_space(3.0);
}

/// The grader writes `→` between a command and what it printed and `⏎` for its line breaks;
/// the GUI's fonts may lack those glyphs, and a box in their place reads as a broken
/// character, so each one missing gets an ASCII stand-in.
pub(crate) fn displayable(ui: &egui::Ui, font: &FontId, text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    ui.fonts_mut(|f| {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_ascii() || f.has_glyph(font, c) {
                out.push(c);
            } else {
                out.push_str(match c {
                    '→' => "->",
                    '⏎' => "|",
                    '…' => "...",
                    _ => "?",
                });
            }
        }
        out
    })
}
