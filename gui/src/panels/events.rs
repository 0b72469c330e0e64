//! The event list: one tcpdump-like line per hop, filtered by protocol, namespace, device and
//! text. Selecting a line selects the frame everywhere (topology, inspector, tables).

use sim_core::kernel::trace::{Dir, Record, Why};
use sim_core::wire::{dissect, pretty};
use sim_core::{Sim, World};

use crate::app::{EventFilter, View};
use crate::state::Session;

/// The protocols the filter offers, as the inspector names their layers.
pub const PROTOCOLS: [&str; 9] = ["ARP", "ICMP", "IPv4", "UDP", "TCP", "VXLAN", "DNS", "HTTP", "MySQL"];

/// How much of a frame the text filter searches: headers and the start of any payload a lab
/// sends, at a kilobyte a row.
const SEARCHED: usize = 1024;

/// One record as the list shows it, made once: dissecting every frame every frame would not
/// keep 60 fps.
#[derive(Clone, Debug)]
pub struct Row {
    /// Which record this row was made from (a replay after a typed command may differ).
    pub event: u64,
    pub dir: Dir,
    pub ns: String,
    /// `ns/dev`, or just the namespace for records without a device.
    pub place: String,
    pub line: String,
    /// Every layer's name (outer and inner frames): what the protocol filter matches.
    pub protocols: Vec<String>,
    /// What "lesson only" leaves out (`World::housekeeping`).
    pub housekeeping: bool,
    /// The frame's printable bytes, lower-cased, its first `SEARCHED` bytes: the text filter
    /// searches payloads too (an HTTP form, a DNS name, a MySQL query, inside VXLAN as well),
    /// as Wireshark's `frame contains` does.
    pub bytes: String,
}

#[derive(Clone, Debug, Default)]
pub struct RowCache {
    rows: Vec<Row>,
    /// The last field query (`FIELD=VALUE`) and, row by row, whether the frame has such a
    /// field: each frame is dissected once per query, not once per painted frame.
    fields: Option<(FieldQuery, Vec<bool>)>,
}

/// A text filter of the form `FIELD=VALUE` (or `FIELD == VALUE`): a frame with a field, in
/// any layer, whose name contains FIELD and whose value is VALUE (a number: the same number,
/// so `port=80` is not 8080) or contains it (text), as the inspector shows them and without
/// regard to case (`port=3306`, `vni=4097`, `query=insert`; "Time to Live" is found by its
/// name, `time to live=63`). A frame the text itself is found in matches too, so a form's
/// `course_name=Docker` still finds the POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldQuery {
    pub field: String,
    pub value: String,
}

impl FieldQuery {
    pub fn parse(text: &str) -> Option<FieldQuery> {
        let (f, v) = text.split_once("==").or_else(|| text.split_once('='))?;
        let (field, value) = (f.trim().to_lowercase(), v.trim().to_lowercase());
        let name_like = field.chars().all(|c| c.is_alphanumeric() || " ._()-".contains(c));
        (name_like && !field.is_empty() && !value.is_empty()).then_some(FieldQuery { field, value })
    }

    fn hit(&self, frame: &[u8]) -> bool {
        let number = self.value.bytes().all(|b| b.is_ascii_digit());
        dissect::dissect(frame).iter().flat_map(|l| &l.fields).any(|f| {
            let value = f.value.to_lowercase();
            let same = if number {
                value.split_whitespace().next() == Some(self.value.as_str())
            } else {
                value.contains(&self.value)
            };
            same && f.name.to_lowercase().contains(&self.field)
        })
    }
}

impl RowCache {
    /// The rows of the records so far; rows of records that changed are made again.
    pub fn update(&mut self, sim: &Sim) -> &[Row] {
        let (world, recs) = (&sim.world, sim.records());
        self.rows.truncate(recs.len());
        if let Some(bad) = self.rows.iter().zip(recs).position(|(row, r)| row.event != r.event.0 || row.dir != r.dir) {
            self.rows.truncate(bad);
        }
        for r in &recs[self.rows.len()..] {
            self.rows.push(row(world, r));
        }
        if let Some((_, hits)) = &mut self.fields {
            hits.truncate(self.rows.len());
        }
        &self.rows
    }

    /// The rows as last updated.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The records the filter lets through, by index, the rows brought up to date first:
    /// what the list shows and what "Export pcapng (filtered)" writes.
    pub fn shown(&mut self, sim: &Sim, f: &EventFilter) -> Vec<usize> {
        self.update(sim);
        let query = FieldQuery::parse(&f.text);
        if let Some(q) = &query {
            self.field_hits(sim, q);
        }
        let hits = query.and(self.fields.as_ref()).map(|(_, h)| h.as_slice());
        (0..self.rows.len()).filter(|&i| matches(&self.rows[i], f, hits.map(|h| h[i]))).collect()
    }

    /// Row by row (after `update`), whether the record's frame has a field `q` asks for.
    fn field_hits(&mut self, sim: &Sim, q: &FieldQuery) {
        if self.fields.as_ref().is_none_or(|(had, _)| had != q) {
            self.fields = Some((q.clone(), Vec::new()));
        }
        let Some((_, hits)) = &mut self.fields else { unreachable!("just set") };
        let recs = sim.records();
        for r in &recs[hits.len()..self.rows.len().min(recs.len())] {
            hits.push(r.frame.as_deref().is_some_and(|f| q.hit(f)));
        }
    }
}

fn row(world: &World, r: &Record) -> Row {
    let ns = world.netns(r.ns).name.clone();
    let place = match r.dev {
        Some(d) => world.dev_path(d),
        None => ns.clone(),
    };
    let dir = match r.dir {
        Dir::Tx => "out",
        Dir::Rx => "in ",
        Dir::Drop => "DROP",
        Dir::Deliver => "deliver",
        // netsim's own words apart from what a program printed, as the hop log's `#`.
        Dir::App if matches!(r.why.last(), Some(Why::Note(_))) => "note",
        Dir::App => "app",
    };
    let what = match (&r.frame, r.dir) {
        (Some(f), _) => pretty::summary(f),
        (None, _) => r.why.last().map(|y| y.show(world).to_string()).unwrap_or_default(),
    };
    let line = format!("{:>12} #{} {place} {dir} {what}", r.time.to_string(), r.event.0);
    let protocols =
        r.frame.as_deref().map(|f| dissect::dissect(f).into_iter().map(|l| l.name).collect()).unwrap_or_default();
    let bytes = r
        .frame
        .as_deref()
        .map(|f| {
            f.iter()
                .take(SEARCHED)
                .map(|&b| if b.is_ascii_graphic() || b == b' ' { b.to_ascii_lowercase() as char } else { '.' })
                .collect()
        })
        .unwrap_or_default();
    Row { event: r.event.0, dir: r.dir, ns, place, line, protocols, housekeeping: world.housekeeping(r), bytes }
}

/// Whether a row passes the filter. Arrivals are listed only on request: every hop is
/// already one line as it leaves its device. `field_hit` answers a `FIELD=VALUE` text
/// filter (`RowCache::field_hits`); the text is also looked for in the line and the bytes.
fn matches(row: &Row, f: &EventFilter, field_hit: Option<bool>) -> bool {
    if (row.dir == Dir::Rx && !f.arrivals) || (f.lesson_only && row.housekeeping) {
        return false;
    }
    if !f.protocol.is_empty() && !row.protocols.iter().any(|p| p == &f.protocol) {
        return false;
    }
    if !f.namespace.is_empty() && !row.ns.contains(f.namespace.trim()) {
        return false;
    }
    if !f.device.is_empty() && !row.place.split_once('/').is_some_and(|(_, d)| d.contains(f.device.trim())) {
        return false;
    }
    if field_hit == Some(true) {
        return true;
    }
    let text = f.text.to_lowercase();
    text.is_empty() || row.line.to_lowercase().contains(&text) || row.bytes.contains(&text)
}

pub fn show(ui: &mut egui::Ui, session: &Session, view: &mut View) {
    ui.heading("Events");
    filters(ui, &mut view.filter);
    let shown = view.rows.shown(&session.sim, &view.filter);
    let rows = view.rows.rows();
    ui.label(format!("{} of {} records", shown.len(), rows.len()));
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace) + 2.0;
    let scroll_to =
        view.scroll_to_record.then_some(view.record).flatten().and_then(|r| shown.iter().position(|&i| i == r));
    let mut area = egui::ScrollArea::both().id_salt("events-scroll").auto_shrink([false, false]);
    if let Some(k) = scroll_to {
        // The selected row a few rows down (mid-list when the list is short): a fixed margin
        // put it past the bottom of a short list (a 720-pixel window shows four rows).
        let margin = ((ui.available_height() - row_h) / 2.0).clamp(0.0, 80.0);
        // show_rows spaces rows by their height and the item spacing.
        let pitch = row_h + ui.spacing().item_spacing.y;
        area = area.vertical_scroll_offset((k as f32 * pitch - margin).max(0.0));
        view.scroll_to_record = false;
    } else if view.playing {
        area = area.stick_to_bottom(true);
    }
    let mut clicked = None;
    area.show_rows(ui, row_h, shown.len(), |ui, range| {
        // One line per record, as tcpdump prints: show_rows needs rows of one height.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        for &i in &shown[range] {
            let r = &rows[i];
            let selected = view.record == Some(i);
            let text = egui::RichText::new(&r.line).monospace().color(crate::app::ink(ui, color(r)));
            if ui.add(egui::Button::selectable(selected, text)).clicked() {
                clicked = Some(i);
            }
        }
    });
    if let Some(i) = clicked {
        select(view, session, i);
    }
}

/// Selects record `i`: the frame, its namespace and its device.
pub fn select(view: &mut View, session: &Session, i: usize) {
    view.record = Some(i);
    view.field = None;
    let w = &session.sim.world;
    if let Some(r) = session.sim.records().get(i) {
        view.namespace = Some(w.netns(r.ns).name.clone());
        view.device = r.dev.map(|d| w.dev_path(d));
    }
}

fn color(r: &Row) -> egui::Color32 {
    match r.dir {
        Dir::Drop => egui::Color32::from_rgb(230, 90, 90),
        Dir::App => egui::Color32::from_rgb(120, 200, 120),
        Dir::Deliver => egui::Color32::from_rgb(150, 170, 230),
        Dir::Rx => egui::Color32::GRAY,
        Dir::Tx => super::topology::protocol_color(r.protocols.iter().map(String::as_str)),
    }
}

fn filters(ui: &mut egui::Ui, f: &mut EventFilter) {
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Filter");
        ui.add(egui::TextEdit::singleline(&mut f.text).desired_width(110.0).hint_text("text"))
            .labelled_by(l.id)
            .on_hover_text(
                "Lines and what the frames carry (an HTTP form, a DNS name, a MySQL query), as Wireshark's \
                 `frame contains`; or FIELD=VALUE for a field as the inspector names it (port=3306, vni=4097)",
            );
        egui::ComboBox::from_label("Protocol")
            .selected_text(if f.protocol.is_empty() { "all" } else { f.protocol.as_str() })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut f.protocol, String::new(), "all");
                for p in PROTOCOLS {
                    ui.selectable_value(&mut f.protocol, p.to_string(), p);
                }
            })
            .response
            .on_hover_text("Frames with this layer, outer or inside VXLAN");
    });
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Namespace");
        ui.add(egui::TextEdit::singleline(&mut f.namespace).desired_width(90.0))
            .labelled_by(l.id)
            .on_hover_text("Part of a namespace's name: a host, a container as `docker ps` names it, a sandbox");
        let l = ui.label("Device");
        ui.add(egui::TextEdit::singleline(&mut f.device).desired_width(70.0))
            .labelled_by(l.id)
            .on_hover_text("Part of an interface's name (eth0, veth…, docker0)");
        ui.checkbox(&mut f.arrivals, "arrivals")
            .on_hover_text("Also list frames arriving on a device (netsim run -v), not only leaving it");
        ui.checkbox(&mut f.lesson_only, "lesson only").on_hover_text(
            "Leave out the housekeeping (netsim run --brief): dockerd's unsolicited ARPs, and loopback traffic \
             and deliveries no iptables or IPVS decision touched",
        );
    });
}
