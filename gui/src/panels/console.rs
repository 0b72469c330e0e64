//! The Docker console: the scenario's steps as the terminal transcript they are
//! (`host1$ docker network create appnet`, then what Docker printed), the steps still to come
//! greyed below, and a prompt to type more. A typed command is queued at the current event:
//! it runs with the next step of the simulation and stays part of the history when stepping
//! back and forth. A command that fails shows Docker's (or the shell's) words and its exit
//! status in the transcript, as a terminal would; only a command the console cannot take at
//! all (no such host, nothing typed) is refused under the prompt.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};
use sim_core::director::Director;

use crate::app::View;
use crate::state::Session;

const ERROR: Color32 = Color32::from_rgb(220, 60, 60);
const PROMPT: Color32 = Color32::from_rgb(110, 200, 120);
const TAG: Color32 = Color32::from_rgb(100, 170, 250);

pub fn show(ui: &mut egui::Ui, session: &mut Session, view: &mut View) {
    ui.heading("Docker console");
    let hosts = session.hosts();
    if hosts.is_empty() {
        ui.label(
            "This scenario has no Docker hosts: commands need `hosts:` in the scenario file \
             (e.g. hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")]), and `steps:` to script them.",
        );
        return;
    }
    if !hosts.contains(&view.console_host) {
        view.console_host = hosts[0].clone();
    }
    // Bottom up: the error under the prompt, the prompt under the transcript.
    ui.with_layout(egui::Layout::bottom_up(egui::Align::Min), |ui| {
        if let Some(e) = &view.console_error {
            ui.add(egui::Label::new(egui::RichText::new(e).color(crate::app::ink(ui, ERROR)).monospace()).wrap());
        }
        input_row(ui, session, view, &hosts);
        ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| transcript(ui, session));
    });
}

/// Host, command and Run; Enter in the field runs too.
fn input_row(ui: &mut egui::Ui, session: &mut Session, view: &mut View, hosts: &[String]) {
    // Two rows: on a laptop's narrow column the field and its Run button keep the width.
    egui::ComboBox::from_label("Host")
        .selected_text(view.console_host.as_str())
        .show_ui(ui, |ui| {
            for h in hosts {
                ui.selectable_value(&mut view.console_host, h.clone(), h.as_str());
            }
        })
        .response
        .on_hover_text("The host the command is typed on");
    ui.horizontal(|ui| {
        let label = ui.label("Command");
        let width = (ui.available_width() - 48.0).max(80.0);
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut view.console_input)
                    .hint_text("docker run -d --name web nginx")
                    .font(egui::TextStyle::Monospace)
                    .desired_width(width),
            )
            .labelled_by(label.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let clicked = ui.button("Run").on_hover_text("Type it on the host at the current event").clicked();
        if enter || clicked {
            run_command(session, view);
            if enter {
                field.request_focus();
            }
        }
    });
}

/// Types `view.console_input` on `view.console_host` at the current event.
pub fn run_command(session: &mut Session, view: &mut View) {
    let at = session.position();
    let line = view.console_input.trim().to_string();
    match session.type_command(&view.console_host, &line) {
        Ok(()) => {
            view.status = format!("{}$ {line}: queued at event {at}, it runs with the next event", view.console_host);
            view.console_input.clear();
            view.console_error = None;
        }
        Err(msg) => view.console_error = Some(msg),
    }
}

/// A step's prompt line, `host$ command`, with tags (`typed`, `next`); dim when not run yet.
fn prompt_line(ui: &egui::Ui, host: &str, line: &str, dim: bool, tags: &[(&str, Color32)]) -> LayoutJob {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let weak = ui.visuals().weak_text_color();
    let strong = ui.visuals().strong_text_color();
    let fmt = |color: Color32| TextFormat { font_id: font.clone(), color, ..Default::default() };
    let mut job = LayoutJob::default();
    job.append(&format!("{host}$ "), 0.0, fmt(if dim { weak } else { crate::app::ink(ui, PROMPT) }));
    job.append(line, 0.0, fmt(if dim { weak } else { strong }));
    for (tag, color) in tags {
        let f = TextFormat {
            font_id: FontId::proportional(font.size * 0.9),
            color: crate::app::ink(ui, *color),
            ..Default::default()
        };
        job.append(&format!("  [{tag}]"), 0.0, f);
    }
    job
}

/// The steps that ran with their output, then the ones still to come.
fn transcript(ui: &mut egui::Ui, session: &Session) {
    let sim = &session.sim;
    let Some(d) = sim.director.as_deref() else { return };
    let programs = session.program_output();
    let weak = ui.visuals().weak_text_color();
    egui::ScrollArea::vertical().id_salt("console-transcript").stick_to_bottom(true).auto_shrink([false, false]).show(
        ui,
        |ui| {
            ui.spacing_mut().item_spacing.y = 2.0;
            for (k, log) in d.transcript.iter().enumerate() {
                let typed = log.index >= d.scripted;
                let tags: &[(&str, Color32)] = if typed { &[("typed", TAG)] } else { &[] };
                let job = prompt_line(ui, &log.host, &log.line, false, tags);
                ui.add(egui::Label::new(job).selectable(true).wrap()).on_hover_text(format!(
                    "step {} · ran at t = {} s",
                    log.index + 1,
                    log.at
                ));
                let (text, color) = match &log.output {
                    Ok(t) => (t.trim_end().to_string(), None),
                    Err(e) => (format!("{}\n(exit status {})", e.trim_end(), log.status), Some(ERROR)),
                };
                if !text.is_empty() {
                    let mut rt = egui::RichText::new(text).monospace();
                    if let Some(c) = color {
                        rt = rt.color(c);
                    }
                    ui.add(egui::Label::new(rt).selectable(true).wrap());
                }
                if let Some(lines) = programs.get(&k).filter(|l| !l.is_empty()) {
                    ui.add(egui::Label::new(egui::RichText::new(lines.join("\n")).monospace()).selectable(true).wrap());
                }
            }
            let pending = pending_steps(session, d);
            if pending.is_empty() {
                if d.transcript.is_empty() {
                    ui.label(egui::RichText::new("No steps: type a command below.").italics());
                }
                return;
            }
            ui.add_space(4.0);
            ui.label(egui::RichText::new("not run yet").color(weak).small());
            for (n, p) in pending.into_iter().enumerate() {
                let mut tags: Vec<(&str, Color32)> = Vec::new();
                if p.typed {
                    tags.push(("typed", TAG));
                }
                if n == 0 {
                    tags.push(("next", PROMPT));
                }
                let job = prompt_line(ui, &p.host, &p.line, true, &tags);
                ui.add(egui::Label::new(job).selectable(true).wrap()).on_hover_text(p.when);
            }
        },
    );
}

/// A step still to come, as the console lists it.
struct Pending {
    host: String,
    line: String,
    typed: bool,
    /// When it will run, for the tooltip.
    when: String,
}

/// The steps not run yet, in the order they will run: typed commands the simulator has
/// (they run at once), those typed at the current event (they go in with the next event),
/// the scenario's own, then commands typed later in a history that was stepped back from.
fn pending_steps(session: &Session, d: &Director) -> Vec<Pending> {
    let here = session.position();
    let ran: Vec<usize> = d.transcript.iter().map(|l| l.index).collect();
    let mut out: Vec<Pending> = (d.scripted..d.steps.len())
        .filter(|i| !ran.contains(i))
        .map(|i| Pending {
            host: d.steps[i].on.clone(),
            line: d.steps[i].run.clone(),
            typed: true,
            when: "typed: runs now".into(),
        })
        .collect();
    let typed = |t: &crate::state::Typed| Pending {
        host: t.host.clone(),
        line: t.line.clone(),
        typed: true,
        when: format!("typed at event {}: runs with the next event after it", t.at_events),
    };
    out.extend(session.typed.iter().filter(|t| t.at_events == here).map(typed));
    out.extend((d.next..d.scripted).filter(|i| !ran.contains(i)).map(|i| {
        let step = &d.steps[i];
        Pending {
            host: step.on.clone(),
            line: step.run.clone(),
            typed: false,
            when: match step.at {
                Some(t) => format!("step {}: starts at t = {t} s", i + 1),
                None => format!("step {}: starts when the previous one is done", i + 1),
            },
        }
    }));
    out.extend(session.typed.iter().filter(|t| t.at_events > here).map(typed));
    out
}
