//! The inspector: the selected hop's frame layer by layer (Ethernet, 802.1Q, ARP/IPv4,
//! ICMP/UDP/TCP, VXLAN and the inner frame, DNS, HTTP, MySQL), each field named, the bytes in
//! hex with the chosen field highlighted, and why the frame went where it went.

use sim_core::kernel::trace::{Dir, Why};
use sim_core::wire::dissect::{self, Layer};

use crate::app::View;
use crate::state::Session;

/// The kind of table a reason comes from, as students learn them.
pub fn why_kind(w: &Why) -> &'static str {
    match w {
        Why::FdbHit { .. } | Why::Flood { .. } | Why::BridgeLocal { .. } | Why::HairpinDrop { .. } => "bridge FDB",
        Why::Learned { .. } => "FDB learning",
        Why::Route(_) | Why::LocalRoute { .. } => "route",
        Why::Forward { .. } => "forwarding",
        Why::Neigh { .. } | Why::ArpProbe { .. } | Why::ArpReply { .. } | Why::NeighUpdate { .. } => "neighbour (ARP)",
        Why::Netfilter(_) => "iptables",
        Why::Ipvs(_) => "IPVS",
        Why::VxlanEncap { .. } | Why::VxlanDecap { .. } | Why::VxlanProxyArp { .. } | Why::VxlanMiss { .. } => "VXLAN",
        Why::Macvlan { .. } => "macvlan",
        Why::Vlan { .. } => "802.1Q",
        Why::Local { .. } => "local delivery",
        Why::Drop(_) => "drop",
        Why::Sent(_) | Why::App(_) => "application",
    }
}

pub fn show(ui: &mut egui::Ui, session: &Session, view: &mut View) {
    ui.heading("Inspector");
    let w = &session.sim.world;
    let recs = session.sim.records();
    // Until the student picks one, follow the run: the current event's first frame.
    let following = view.record.is_none();
    let current = || {
        let o = session.outcomes.last()?;
        o.records.clone().find(|&i| recs.get(i).is_some_and(|r| r.frame.is_some() && r.dir == Dir::Tx))
    };
    let Some((i, r)) = view.record.or_else(current).and_then(|i| recs.get(i).map(|r| (i, r))) else {
        ui.label("Select a frame: click a line in the event list or a frame in the topology.");
        return;
    };
    if following {
        ui.label(egui::RichText::new("following the run: the current event's frame").weak());
    }
    let place = match r.dev {
        Some(d) => w.dev_path(d),
        None => w.netns(r.ns).name.clone(),
    };
    let dir = match r.dir {
        Dir::Tx => "left",
        Dir::Rx => "arrived on",
        Dir::Drop => "dropped at",
        Dir::Deliver => "delivered in",
        Dir::App => "printed in",
    };
    ui.label(format!("record {i} · event {} · t = {} · {dir} {place}", r.event.0, r.time));
    if let Some(c) = r.cause {
        // The hop that led here: the first record of the causing event.
        if let Some(ci) = recs.iter().position(|x| x.event == c)
            && ui.link(format!("caused by event {}", c.0)).on_hover_text("Select the hop that led here").clicked()
        {
            super::events::select(view, session, ci);
            view.scroll_to_record = true;
        }
    }
    ui.separator();
    ui.strong("Why this hop");
    if r.why.is_empty() {
        ui.label("(no decision recorded for this hop)");
    }
    egui::Grid::new("why-grid").num_columns(2).striped(true).show(ui, |ui| {
        for y in &r.why {
            ui.label(egui::RichText::new(why_kind(y)).color(egui::Color32::from_rgb(240, 200, 120)));
            ui.add(egui::Label::new(egui::RichText::new(y.show(w).to_string()).monospace()).wrap());
            ui.end_row();
        }
    });
    let Some(frame) = r.frame.as_deref() else { return };
    ui.separator();
    ui.strong(format!("Frame: {} bytes", frame.len()));
    let layers = dissect::dissect(frame);
    for (k, layer) in layers.iter().enumerate() {
        layer_ui(ui, k, layer, view);
    }
    ui.separator();
    hex(ui, frame, view.field.clone());
}

fn layer_ui(ui: &mut egui::Ui, k: usize, layer: &Layer, view: &mut View) {
    ui.horizontal(|ui| {
        ui.add_space(16.0 * layer.depth as f32);
        ui.vertical(|ui| {
            let title = if layer.depth > 0 { format!("{} (inner)", layer.summary) } else { layer.summary.clone() };
            egui::CollapsingHeader::new(egui::RichText::new(title).strong())
                .id_salt(("layer", k))
                .default_open(true)
                .show(ui, |ui| {
                    egui::Grid::new(("fields", k)).num_columns(2).show(ui, |ui| {
                        for f in &layer.fields {
                            let selected = view.field.as_ref() == Some(&f.range);
                            if ui.selectable_label(selected, &f.name).on_hover_text("Highlight its bytes").clicked() {
                                view.field = Some(f.range.clone());
                            }
                            ui.label(egui::RichText::new(&f.value).monospace());
                            ui.end_row();
                        }
                    });
                });
        });
    });
}

/// Hex and ASCII, 16 bytes a line, the chosen field's bytes highlighted.
fn hex(ui: &mut egui::Ui, frame: &[u8], mark: Option<std::ops::Range<usize>>) {
    let font = egui::FontId::monospace(11.0);
    let normal = ui.visuals().text_color();
    let mut job = egui::text::LayoutJob::default();
    let fmt = |hl: bool| egui::TextFormat {
        font_id: font.clone(),
        color: if hl { egui::Color32::BLACK } else { normal },
        background: if hl { egui::Color32::from_rgb(240, 200, 80) } else { egui::Color32::TRANSPARENT },
        ..Default::default()
    };
    for (line, chunk) in frame.chunks(16).enumerate() {
        job.append(&format!("{:04x}  ", line * 16), 0.0, fmt(false));
        for (j, b) in chunk.iter().enumerate() {
            let at = line * 16 + j;
            let hl = mark.as_ref().is_some_and(|m| m.contains(&at));
            job.append(&format!("{b:02x}"), 0.0, fmt(hl));
            job.append(if j == 7 { "  " } else { " " }, 0.0, fmt(false));
        }
        job.append(&" ".repeat((16 - chunk.len()) * 3 + usize::from(chunk.len() <= 8)), 0.0, fmt(false));
        job.append(" ", 0.0, fmt(false));
        for (j, b) in chunk.iter().enumerate() {
            let at = line * 16 + j;
            let hl = mark.as_ref().is_some_and(|m| m.contains(&at));
            let c = if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '.' };
            job.append(&c.to_string(), 0.0, fmt(hl));
        }
        job.append("\n", 0.0, fmt(false));
    }
    ui.label(job);
}
