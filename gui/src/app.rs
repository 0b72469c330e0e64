//! What the panels share, and where each one goes on screen.

use std::path::{Path, PathBuf};

use sim_core::sim::EventKind;

use crate::panels;
use crate::state::{LoadError, Session};

/// The scenario a bare `netsim-gui` (or `cargo run --release`) opens.
pub const DEFAULT_SCENARIO: &str = "scenarios/swarm-webapp-mysql.ron";

/// How long one event's frames take to cross their links on screen, at speed 1.
pub const HOP_SECONDS: f32 = 0.6;

/// Event-list filters; empty strings match everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    pub text: String,
    /// Wireshark's Protocol column (`ARP`, `ICMP`, `TCP`, `UDP`, `VXLAN`, `DNS`, `HTTP`, `MySQL`).
    pub protocol: String,
    pub namespace: String,
    pub device: String,
    /// Also list arrivals (Rx), not only frames leaving a device, drops and deliveries.
    pub arrivals: bool,
    /// Leave out the housekeeping, as `netsim run --brief` does (`World::housekeeping`).
    pub lesson_only: bool,
}

/// Which table the device-tables panel shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableTab {
    #[default]
    Addresses,
    Routes,
    Neighbours,
    Fdb,
    Iptables,
    Ipvs,
    Dns,
    Ipam,
    NetworkInspect,
}

/// A way forward the student asked for. A quiz question that stops it keeps it
/// (`View::resume`), so that "Continue" after the answer finishes what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Motion {
    Step,
    Play,
    NextStep,
    End,
    /// The timeline, dragged forward to this event.
    To(u64),
}

/// Everything the panels share besides the session: what is selected, filters, playback.
pub struct View {
    /// The selected hop: an index into `sim.records()`.
    pub record: Option<usize>,
    /// The selected namespace, by name (ids do not survive reloading a changed file).
    pub namespace: Option<String>,
    /// The selected device as `namespace/device`.
    pub device: Option<String>,
    pub filter: EventFilter,
    pub playing: bool,
    /// Events per second while playing.
    pub speed: f32,
    /// When the current event's animation started (egui time, seconds).
    pub anim_start: f64,
    /// Topology pan (points) and zoom.
    pub pan: egui::Vec2,
    pub zoom: f32,
    /// The topology fits itself to its panel (on load, and after F or "Fit") until the
    /// student pans or zooms.
    pub fitted: bool,
    /// What the topology drew last, on screen.
    pub drawn: crate::panels::topology::Drawn,
    pub tab: TableTab,
    /// The shipped scenarios, for the Open menu.
    pub shipped: Vec<PathBuf>,
    /// The path field of the Open menu.
    pub open_path: String,
    pub console_host: String,
    pub console_input: String,
    pub console_error: Option<String>,
    /// A one-line message at the bottom (what was exported, reloaded…).
    pub status: String,
    /// Scroll the event list to the selected record on the next frame.
    pub scroll_to_record: bool,
    /// The inspector's chosen field: its bytes are highlighted in the hex view.
    pub field: Option<std::ops::Range<usize>>,
    /// Where "Export pcapng" writes.
    pub export_path: String,
    /// The event list's lines, made once per record.
    pub rows: crate::panels::events::RowCache,
    /// Show the lesson pane (when the lab has a lesson, notes or checks).
    pub lesson_open: bool,
    /// The quiz item just answered: its verdict shows until the run moves on.
    pub quiz_feedback: Option<usize>,
    /// What a quiz question stopped, for "Continue" to finish.
    pub resume: Option<Motion>,
    /// The iptables rule a reason in the inspector was clicked for: the tables panel shows
    /// its namespace's rules with that one marked.
    pub rule_focus: Option<RuleFocus>,
}

/// An iptables rule, as a reason quoted it: where, in which table, its `-A CHAIN …` text.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFocus {
    pub ns: String,
    pub table: &'static str,
    pub rule: String,
    /// Scroll the tables panel to it on the next frame.
    pub scroll: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            record: None,
            namespace: None,
            device: None,
            filter: EventFilter::default(),
            playing: false,
            speed: 4.0,
            anim_start: 0.0,
            pan: egui::Vec2::ZERO,
            zoom: 1.0,
            fitted: true,
            drawn: Default::default(),
            tab: TableTab::default(),
            shipped: Vec::new(),
            open_path: String::new(),
            console_host: String::new(),
            console_input: String::new(),
            console_error: None,
            status: String::new(),
            scroll_to_record: false,
            field: None,
            export_path: "netsim-capture.pcapng".into(),
            rows: Default::default(),
            lesson_open: true,
            quiz_feedback: None,
            resume: None,
            rule_focus: None,
        }
    }
}

/// Moves the run forward as `m` asks, and remembers `m` when a quiz question stops it before
/// it is done.
pub fn go_forward(s: &mut Session, v: &mut View, m: Motion, now: f64) {
    v.playing = false;
    v.resume = None;
    v.anim_start = now;
    let stopped = match m {
        Motion::Step => {
            s.step();
            false
        }
        Motion::Play => {
            v.playing = true;
            false
        }
        Motion::NextStep => {
            s.run_to_next_step();
            !matches!(s.outcomes.last().map(|o| o.what), Some(EventKind::Step(_)))
        }
        Motion::End => {
            s.run_to_end();
            true
        }
        Motion::To(n) => {
            s.go_to(n);
            s.position() < n
        }
    };
    if stopped && s.quiz_due().is_some() {
        v.resume = Some(m);
    }
}

/// Moves the run back, to event `to` or (None) one event back, and stops playing: going
/// back ends what a quiz question had stopped.
pub fn go_back(s: &mut Session, v: &mut View, to: Option<u64>, now: f64) {
    match to {
        Some(n) => s.go_to(n),
        None => {
            s.back();
        }
    }
    v.playing = false;
    v.resume = None;
    v.anim_start = now;
}

pub struct NetsimApp {
    pub session: Option<Session>,
    /// The last file that failed to load, shown instead of a crash; the previous session, if
    /// any, stays usable.
    pub error: Option<LoadError>,
    pub view: View,
    /// Time of the last played event (egui time, seconds).
    last_play: f64,
    /// When the file was last checked for changes.
    last_reload: f64,
    /// A file that did not load, and its modification time then: it is loaded again once it
    /// changes, also when no session is open (a GUI started on a broken file).
    failed: Option<(PathBuf, Option<std::time::SystemTime>)>,
    /// A panel that panicked while drawing, said in the window instead of closing it.
    pub panel_fault: Option<String>,
    /// Close the window after this many seconds, printing the frame rate it kept.
    pub exit_after: Option<f64>,
    /// Frames painted while animating, and the time they took: for `--exit-after`.
    frame_times: Vec<f64>,
    /// CPU time of building the UI, per frame (the rest is tessellation and GL).
    ui_times: Vec<f64>,
    last_frame: Option<f64>,
}

impl NetsimApp {
    /// Opens `path`, or shows why it could not.
    pub fn open(path: &Path) -> NetsimApp {
        let mut app = NetsimApp {
            session: None,
            error: None,
            view: View::default(),
            last_play: 0.0,
            last_reload: 0.0,
            failed: None,
            panel_fault: None,
            exit_after: None,
            frame_times: Vec::new(),
            ui_times: Vec::new(),
            last_frame: None,
        };
        app.view.shipped = shipped_scenarios(path);
        app.load(path);
        app
    }

    /// Loads a scenario file; on error keeps the current session and shows the error.
    pub fn load(&mut self, path: &Path) {
        match Session::open(path) {
            Ok(s) => {
                self.view.console_host = s.hosts().first().cloned().unwrap_or_default();
                self.view.open_path = path.display().to_string();
                self.view.record = None;
                self.view.playing = false;
                self.view.fitted = true;
                self.view.quiz_feedback = None;
                self.view.resume = None;
                // Steps that fail run and show their failure in the console; the file's
                // warnings say where, as `netsim run` prints them.
                self.view.status = match s.loaded.warnings.as_slice() {
                    [] => format!("opened {}", path.display()),
                    [w, rest @ ..] => format!(
                        "opened {} — {} warning(s): line {}: {}{}",
                        path.display(),
                        rest.len() + 1,
                        w.line,
                        w.message,
                        if rest.is_empty() { "" } else { " …" }
                    ),
                };
                self.session = Some(s);
                self.error = None;
                self.failed = None;
            }
            Err(e) => {
                self.view.status = format!("{} did not load", path.display());
                self.error = Some(e);
                self.failed = Some((path.to_path_buf(), modified(path)));
            }
        }
    }

    /// Reloads the file if it changed on disk, keeping the position on the timeline; a file
    /// that did not load is tried again once it changes.
    pub fn reload_if_changed(&mut self) {
        if let Some((path, mtime)) = self.failed.clone()
            && modified(&path) != mtime
        {
            return self.load(&path);
        }
        let Some(s) = &self.session else { return };
        if !s.file_changed() {
            return;
        }
        let Some(path) = s.path.clone() else { return };
        let at = s.position();
        match Session::open(&path) {
            Ok(mut new) => {
                // An instructor editing the file must not make the student answer again.
                new.challenge.keep_answers(&s.challenge);
                new.go_to(at.min(new.total_events));
                self.view.quiz_feedback = None;
                self.view.resume = None;
                self.session = Some(new);
                self.error = None;
                self.view.record = None;
                self.view.status = format!("reloaded {} (changed on disk)", path.display());
            }
            Err(e) => {
                // Keep showing the last good run; remember this mtime so the error is not
                // re-read every frame.
                if let Some(s) = &mut self.session {
                    s.mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                }
                self.view.status = format!("{} changed but does not load", path.display());
                self.error = Some(e);
            }
        }
    }

    /// Advances playback by as many events as the elapsed time and speed call for.
    fn play(&mut self, now: f64) {
        let Some(s) = &mut self.session else { return };
        if !self.view.playing {
            self.last_play = now;
            return;
        }
        let due = ((now - self.last_play) * self.view.speed as f64).floor() as u64;
        for _ in 0..due.min(50) {
            if s.step().is_none() {
                self.view.playing = false;
                if s.quiz_due().is_some() {
                    self.view.resume = Some(Motion::Play);
                }
                break;
            }
            self.view.anim_start = now;
        }
        if due > 0 {
            self.last_play = now;
        }
    }

    /// The keyboard: space plays or pauses, ← and → step back and forward, Home and End go
    /// to the start and the end (F fits the topology: `topology::show`). Not while a text
    /// field has the keyboard; the keys are consumed first, so that a button focused by Tab
    /// does not take the same press.
    fn keys(&mut self, ui: &egui::Ui, now: f64) {
        if ui.ctx().text_edit_focused() {
            return;
        }
        let Some(s) = &mut self.session else { return };
        let v = &mut self.view;
        let none = egui::Modifiers::NONE;
        let [space, left, right, home, end] =
            [egui::Key::Space, egui::Key::ArrowLeft, egui::Key::ArrowRight, egui::Key::Home, egui::Key::End]
                .map(|k| ui.input_mut(|i| i.consume_key(none, k)));
        // A question waiting for its answer holds the run, as the buttons do.
        let ahead = !s.at_end() && s.quiz_due().is_none();
        if space {
            if v.playing {
                v.playing = false;
            } else if ahead {
                go_forward(s, v, Motion::Play, now);
            }
        }
        if right && ahead {
            go_forward(s, v, Motion::Step, now);
        }
        if end && ahead {
            go_forward(s, v, Motion::End, now);
        }
        if (left || home) && s.position() > 0 {
            go_back(s, v, home.then_some(0), now);
        }
    }

    /// The whole window. Kept in one `ui` function so tests drive exactly what users see.
    ///
    /// The simulator's own panics are caught inside the session (`state::Fault`); this catches
    /// a panel's, so that one bad frame shows an error instead of closing the window and
    /// losing the student's run.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.panels(ui))) {
            self.view.playing = false;
            self.panel_fault = Some(crate::state::panic_message(p.as_ref()));
        }
    }

    fn panels(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        self.keys(ui, now);
        self.play(now);
        if self.view.playing {
            ui.ctx().request_repaint();
        }
        egui::Panel::top("controls").show(ui, |ui| panels::controls::show(ui, self));
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(&self.view.status);
            });
        });
        if let Some(e) = &self.error {
            let e = e.clone();
            egui::Panel::top("load-error").show(ui, |ui| {
                ui.colored_label(egui::Color32::from_rgb(220, 60, 60), format!("error: {e}"));
                if ui.button("Dismiss").clicked() {
                    self.error = None;
                }
            });
        }
        if let Some(f) = self.session.as_ref().and_then(|s| s.fault.clone()) {
            egui::Panel::top("sim-fault").show(ui, |ui| {
                ui.colored_label(egui::Color32::from_rgb(220, 60, 60), format!("error: {f}"));
            });
        }
        if let Some(m) = self.panel_fault.clone() {
            egui::Panel::top("panel-fault").show(ui, |ui| {
                ui.colored_label(
                    egui::Color32::from_rgb(220, 60, 60),
                    format!("error: a panel failed while drawing: {m} (a bug of netsim: please report it)"),
                );
                if ui.button("Dismiss").clicked() {
                    self.panel_fault = None;
                }
            });
        }
        let Some(session) = &mut self.session else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label("No scenario loaded: open one from the File menu.");
            });
            return;
        };
        // What the checklist shows after a typed command is graded before anything is drawn,
        // so every panel of this frame shows the same moment.
        session.grade_if_due();
        let view = &mut self.view;
        // An answer's verdict belongs to its moment: gone once the run is elsewhere.
        if view
            .quiz_feedback
            .is_some_and(|i| session.challenge.items.get(i).is_none_or(|it| it.at != Some(session.position())))
        {
            view.quiz_feedback = None;
        }
        // Panels take a share of the window, so that a laptop's 1280×720 keeps room for the
        // topology; each can be dragged wider.
        let window = ui.ctx().content_rect().size();
        egui::Panel::right("inspector")
            .default_size((window.x * 0.27).clamp(300.0, 460.0))
            .max_size(620.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::both().id_salt("inspector-scroll").auto_shrink([false, false]).show(ui, |ui| {
                    panels::inspector::show(ui, session, view);
                });
            });
        egui::Panel::bottom("lower").default_size((window.y * 0.3).clamp(190.0, 280.0)).resizable(true).show(
            ui,
            |ui| {
                // The event list's lines are the longest (a task's namespace name, then the
                // frame): it takes the largest share, the tables and the console the rest.
                let all = ui.available_rect_before_wrap();
                let gap = ui.spacing().item_spacing.x;
                let widths = [0.42, 0.30, 0.28].map(|f| all.width() * f - gap);
                let mut x = all.min.x;
                for (i, w) in widths.into_iter().enumerate() {
                    let rect =
                        egui::Rect::from_min_size(egui::pos2(x, all.min.y), egui::vec2(w.max(0.0), all.height()));
                    x += w + gap;
                    let mut col = ui.new_child(
                        egui::UiBuilder::new().max_rect(rect).layout(egui::Layout::top_down(egui::Align::Min)),
                    );
                    // Long lines scroll inside their column rather than spill into the next one.
                    col.set_clip_rect(rect.intersect(ui.clip_rect()));
                    match i {
                        0 => panels::events::show(&mut col, session, view),
                        1 => panels::tables::show(&mut col, session, view),
                        _ => panels::console::show(&mut col, session, view),
                    }
                }
                ui.advance_cursor_after_rect(all);
            },
        );
        // Beside the topology, above the lower panels: those keep the window's width.
        if view.lesson_open && panels::lesson::has_lesson(session) {
            // A quarter of the window at most, so a laptop screen keeps room for the topology.
            let width = (window.x * 0.22).clamp(260.0, 380.0);
            egui::Panel::left("lesson")
                .default_size(width)
                .min_size(220.0)
                .max_size(640.0)
                .resizable(true)
                .show(ui, |ui| panels::lesson::show(ui, session, view));
        }
        // Above the topology, so the student can look at the lab while answering.
        if panels::quiz::wanted(session, view) {
            egui::Panel::top("quiz").show(ui, |ui| panels::quiz::show(ui, session, view));
        }
        egui::CentralPanel::default().show(ui, |ui| panels::topology::show(ui, session, view, now));
    }
}

/// A colour picked for the dark theme, made readable on the light one: the same hue, darker.
/// The lesson's PASS/FAIL, the console's prompt and the event list's protocol colours are
/// bright pastels that vanish on a projector's white.
pub fn ink(ui: &egui::Ui, c: egui::Color32) -> egui::Color32 {
    if ui.visuals().dark_mode {
        return c;
    }
    let d = |v: u8| (v as f32 * 0.55) as u8;
    egui::Color32::from_rgb(d(c.r()), d(c.g()), d(c.b()))
}

/// Paints panels without a background of their own: the window's clear colour is the panel
/// colour instead. On software GL (llvmpipe) every shaded pixel costs, and the panels' fills
/// covered the whole window once more each frame; without them only what is drawn on the
/// panels is shaded.
pub fn unfill_panels(ctx: &egui::Context) {
    ctx.all_styles_mut(|s| s.visuals.panel_fill = egui::Color32::TRANSPARENT);
}

/// The panel colour of the theme in use, which `unfill_panels` moved into the clear colour.
fn panel_colour(visuals: &egui::Visuals) -> egui::Color32 {
    if visuals.dark_mode { egui::Visuals::dark().panel_fill } else { egui::Visuals::light().panel_fill }
}

impl eframe::App for NetsimApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        panel_colour(visuals).to_normalized_gamma_f32()
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Twice a second is quick enough for an instructor saving a file, and cheap.
        let now = ui.input(|i| i.time);
        if now - self.last_reload >= 0.5 {
            self.last_reload = now;
            self.reload_if_changed();
        }
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
        let t0 = std::time::Instant::now();
        NetsimApp::ui(self, ui);
        if self.exit_after.is_some() {
            self.ui_times.push(t0.elapsed().as_secs_f64());
        }
        if let Some(limit) = self.exit_after {
            self.measure(ui.ctx(), now, limit);
        }
    }
}

impl NetsimApp {
    /// Wall time between painted frames while the run animates; at `limit` seconds, prints
    /// the rate and the slowest frames, and closes the window.
    fn measure(&mut self, ctx: &egui::Context, now: f64, limit: f64) {
        ctx.request_repaint();
        if let Some(prev) = self.last_frame {
            self.frame_times.push(now - prev);
        }
        self.last_frame = Some(now);
        if now < limit {
            return;
        }
        let mut t = self.frame_times.clone();
        t.sort_by(f64::total_cmp);
        let n = t.len().max(1);
        let total: f64 = t.iter().sum();
        let pct = |p: f64| t.get(((n as f64 * p) as usize).min(n - 1)).copied().unwrap_or(0.0) * 1000.0;
        let at = self.session.as_ref().map(|s| (s.position(), s.total_events)).unwrap_or_default();
        let mut u = self.ui_times.clone();
        u.sort_by(f64::total_cmp);
        let ui_p50 = u.get(u.len() / 2).copied().unwrap_or(0.0) * 1000.0;
        println!(
            "frames: {} in {:.2} s = {:.1} fps; frame time p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
             building the UI p50 {ui_p50:.1} ms; events {} / {}",
            t.len(),
            total,
            t.len() as f64 / total.max(1e-9),
            pct(0.5),
            pct(0.95),
            pct(1.0),
            at.0,
            at.1
        );
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        self.exit_after = None;
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The `.ron` files under the `scenarios/` folder nearest to `start` (the file's folder or
/// the current directory), sorted.
pub fn shipped_scenarios(start: &Path) -> Vec<PathBuf> {
    let mut dir = start.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n == "scenarios") {
            return ron_files(&d);
        }
        if d.join("scenarios").is_dir() {
            return ron_files(&d.join("scenarios"));
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    ron_files(Path::new("scenarios"))
}

fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ron") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
