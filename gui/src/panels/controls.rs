//! The top bar: files (open, reload, export), playback and the timeline.

use std::path::PathBuf;

use crate::app::{Motion, NetsimApp, go_back, go_forward};
use crate::export;

pub fn show(ui: &mut egui::Ui, app: &mut NetsimApp) {
    ui.horizontal_wrapped(|ui| {
        file_menu(ui, app);
        ui.separator();
        let Some(s) = &mut app.session else { return };
        let v = &mut app.view;
        ui.strong(s.name().to_string());
        if crate::panels::lesson::has_lesson(s) {
            ui.toggle_value(&mut v.lesson_open, "Lesson").on_hover_text("Show the lesson and the checklist");
        }
        if !s.challenge.items.is_empty() {
            ui.toggle_value(&mut s.challenge.on, "Challenge")
                .on_hover_text("Stop before each quiz question's moment and wait for an answer");
        }
        ui.separator();
        let now = ui.input(|i| i.time);
        let at_start = s.position() == 0;
        if ui
            .add_enabled(!at_start, egui::Button::new("Start"))
            .on_hover_text("Back to before the first event (Home)")
            .clicked()
        {
            go_back(s, v, Some(0), now);
        }
        if ui.add_enabled(!at_start, egui::Button::new("Back")).on_hover_text("One event back (←)").clicked() {
            go_back(s, v, None, now);
        }
        // A question waiting for its answer holds the run; going back still works.
        let waiting = s.quiz_due().is_some();
        let ahead = !s.at_end() && !waiting;
        let hold =
            |r: egui::Response| if waiting { r.on_disabled_hover_text("Answer the quiz question first") } else { r };
        let mut go = None;
        if hold(ui.add_enabled(ahead, egui::Button::new("Step")).on_hover_text("Run one event (→)")).clicked() {
            go = Some(Motion::Step);
        }
        let label = if v.playing { "Pause" } else { "Play" };
        let play = ui.add_enabled(ahead || v.playing, egui::Button::new(label)).on_hover_text("Play or pause (space)");
        if hold(play).clicked() {
            if v.playing {
                v.playing = false;
            } else {
                go = Some(Motion::Play);
            }
        }
        let next = ui
            .add_enabled(ahead, egui::Button::new("Next step"))
            .on_hover_text("Run until the scenario's next command has run");
        if hold(next).clicked() {
            go = Some(Motion::NextStep);
        }
        if hold(ui.add_enabled(ahead, egui::Button::new("End")).on_hover_text("Run to the end (End)")).clicked() {
            go = Some(Motion::End);
        }
        if let Some(m) = go {
            go_forward(s, v, m, now);
        }
        ui.separator();
        let dark = ui.visuals().dark_mode;
        if ui
            .button(if dark { "Light" } else { "Dark" })
            .on_hover_text(if dark { "A light theme, for a projector" } else { "The dark theme" })
            .clicked()
        {
            ui.ctx().set_theme(if dark { egui::Theme::Light } else { egui::Theme::Dark });
        }
        ui.separator();
        ui.add(egui::Slider::new(&mut v.speed, 0.5..=200.0).logarithmic(true).text("events/s"))
            .on_hover_text("Playback speed");
        ui.separator();
        let mut pos = s.position();
        let total = s.total_events.max(pos);
        let timeline = ui
            .add(egui::Slider::new(&mut pos, 0..=total).text("Timeline"))
            .on_hover_text("Scrub: any event, forward or back");
        if timeline.changed() {
            if pos > s.position() {
                go_forward(s, v, Motion::To(pos), now);
            } else {
                go_back(s, v, Some(pos), now);
            }
        }
        // A run longer than was counted at load shows its length so far as a lower bound.
        let more = if s.total_known { "" } else { "+" };
        // The clock is the simulator's: say, where it is read, which durations are Linux's.
        ui.label(format!("event {} / {total}{more} · t = {} s", s.position(), s.sim.now()))
            .on_hover_text(format!("The clock: {}", sim_core::engine::CLOCK_MEANS));
    });
}

fn file_menu(ui: &mut egui::Ui, app: &mut NetsimApp) {
    let mut open: Option<PathBuf> = None;
    let menu = ui.menu_button("File", |ui| {
        ui.label("Shipped scenarios");
        for p in app.view.shipped.clone() {
            let name = p.display().to_string();
            if ui.button(&name).clicked() {
                open = Some(p);
                ui.close();
            }
        }
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui.label("Path");
            ui.add(egui::TextEdit::singleline(&mut app.view.open_path).desired_width(320.0)).labelled_by(l.id);
            if ui.button("Open").clicked() {
                open = Some(PathBuf::from(app.view.open_path.trim()));
                ui.close();
            }
        });
        if let Some(p) = app.session.as_ref().and_then(|s| s.path.clone())
            && ui.button("Reload").clicked()
        {
            open = Some(p);
            ui.close();
        }
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui.label("Export to");
            ui.add(egui::TextEdit::singleline(&mut app.view.export_path).desired_width(320.0)).labelled_by(l.id);
        });
        if let Some(s) = &app.session {
            let path = PathBuf::from(app.view.export_path.trim());
            if ui.button("Export pcapng (all)").clicked() {
                app.view.status = report(export::write_pcapng(&path, s, None, false), &path);
                ui.close();
            }
            let once = ui.button("Export pcapng (each packet once)").on_hover_text(
                "Each packet on the interface where it was first seen, as netsim run --once: Wireshark's TCP analysis \
                 then sees no false retransmissions",
            );
            if once.clicked() {
                app.view.status = report(export::write_pcapng(&path, s, None, true), &path);
                ui.close();
            }
            if ui.button("Export pcapng (filtered)").on_hover_text("Only the frames the event list shows").clicked() {
                app.view.status = report(export::write_pcapng(&path, s, Some(&app.view.filter), false), &path);
                ui.close();
            }
        }
    });
    menu.response.on_hover_text("Open a shipped scenario or a file, reload it, export the capture as pcapng");
    if let Some(p) = open {
        app.load(&p);
    }
}

fn report(r: Result<usize, String>, path: &std::path::Path) -> String {
    match r {
        Ok(n) => format!("exported {n} frames to {}", path.display()),
        Err(e) => format!("export failed: {e}"),
    }
}
