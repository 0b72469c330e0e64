//! The inspector: the selected hop's frame layer by layer (Ethernet, 802.1Q, ARP/IPv4,
//! ICMP/UDP/TCP, VXLAN and the inner frame, DNS, HTTP, MySQL), each field named, the bytes in
//! hex with the chosen field highlighted, and why the frame went where it went.

use sim_core::World;
use sim_core::kernel::NsId;
use sim_core::kernel::netfilter::Table;
use sim_core::kernel::trace::{Dir, Why};
use sim_core::wire::dissect::{self, Layer};

use crate::app::View;
use crate::state::Session;

/// Where a reason sits in the stack, top down, as a packet goes down it: the program that
/// sent it, the socket layer, routing, netfilter, IPVS, neighbours, then the devices of
/// layer 2. The inspector lists a hop's reasons in this order; the number beside each is
/// its place in the order the kernel decided them.
pub fn why_layer(w: &Why) -> (u8, &'static str) {
    match w {
        Why::Sent(_) | Why::App(_) | Why::Shell(_) | Why::Note(_) => (0, "L7"),
        Why::Local(_) => (1, "L4"),
        Why::Route(_) | Why::LocalRoute { .. } | Why::OnLinkRoute { .. } | Why::Forward { .. } => (2, "L3"),
        Why::Netfilter { .. } => (3, "L3"),
        Why::Ipvs(_) => (4, "L4"),
        Why::Neigh { .. }
        | Why::ArpProbe { .. }
        | Why::ArpReply { .. }
        | Why::ArpProxyReply { .. }
        | Why::NeighUpdate { .. } => (5, "L2.5"),
        Why::FdbHit { .. }
        | Why::Flood { .. }
        | Why::BridgeLocal { .. }
        | Why::HairpinDrop { .. }
        | Why::Learned { .. } => (6, "L2"),
        Why::Macvlan { .. } | Why::Vlan { .. } | Why::Netem { .. } => (7, "L2"),
        Why::VxlanEncap { .. } | Why::VxlanDecap { .. } | Why::VxlanProxyArp { .. } | Why::VxlanMiss { .. } => {
            (8, "L2/UDP")
        }
        Why::Drop(_) => (9, ""),
    }
}

/// The colour of a reason's Docker gloss: Docker's blue.
const DOCKER: egui::Color32 = egui::Color32::from_rgb(90, 170, 250);

/// The kind of table a reason comes from, as students learn them.
pub fn why_kind(w: &Why) -> &'static str {
    match w {
        Why::FdbHit { .. } | Why::Flood { .. } | Why::BridgeLocal { .. } | Why::HairpinDrop { .. } => "bridge FDB",
        Why::Learned { .. } => "FDB learning",
        Why::Route(_) | Why::LocalRoute { .. } | Why::OnLinkRoute { .. } => "route",
        Why::Forward { .. } => "forwarding",
        Why::Neigh { .. }
        | Why::ArpProbe { .. }
        | Why::ArpReply { .. }
        | Why::ArpProxyReply { .. }
        | Why::NeighUpdate { .. } => "neighbour (ARP)",
        Why::Netfilter { .. } => "iptables",
        Why::Ipvs(_) => "IPVS",
        Why::VxlanEncap { .. } | Why::VxlanDecap { .. } | Why::VxlanProxyArp { .. } | Why::VxlanMiss { .. } => "VXLAN",
        Why::Macvlan { .. } => "macvlan",
        Why::Vlan { .. } => "802.1Q",
        Why::Netem { .. } => "qdisc (tc netem)",
        Why::Local { .. } => "local delivery",
        Why::Drop(_) => "drop",
        Why::Sent(_) | Why::App(_) | Why::Shell(_) => "application",
        Why::Note(_) => "netsim's note",
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
    let Some(r) = view.record.or_else(current).and_then(|i| recs.get(i)) else {
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
    // The event number is the hop log's `#N`, `--at N` and the top bar's: one number for one moment.
    ui.label(format!("event #{} · t = {} s · {dir} {place}", r.event.0, r.time));
    if let Some(c) = r.cause {
        // The hop that led here: the first record of the causing event.
        if let Some(ci) = recs.iter().position(|x| x.event == c)
            && ui.link(format!("caused by event #{}", c.0)).on_hover_text("Select the hop that led here").clicked()
        {
            super::events::select(view, session, ci);
            view.scroll_to_record = true;
        }
    }
    ui.separator();
    ui.strong("Why this hop");
    let director = session.sim.director.as_deref();
    if r.why.is_empty() {
        ui.label("(no decision recorded for this hop)");
    }
    let mut order: Vec<(usize, &Why)> = r.why.iter().enumerate().collect();
    order.sort_by_key(|(_, y)| why_layer(y).0);
    egui::Grid::new("why-grid").num_columns(4).striped(true).show(ui, |ui| {
        for (step, y) in order {
            ui.label(egui::RichText::new(why_layer(y).1).weak().monospace())
                .on_hover_text("where in the stack the decision was taken");
            ui.label(egui::RichText::new(format!("{}", step + 1)).weak())
                .on_hover_text("the order in which the kernel took this frame's decisions");
            ui.label(
                egui::RichText::new(why_kind(y)).color(crate::app::ink(ui, egui::Color32::from_rgb(240, 200, 120))),
            );
            ui.vertical(|ui| {
                ui.add(egui::Label::new(egui::RichText::new(y.show(w).to_string()).monospace()).wrap());
                // What Docker object made the rule or the IPVS service that decided, in the
                // words of the commands the student typed.
                let ns = if let Why::Netfilter { ns, .. } = y { *ns } else { r.ns };
                if let Some(g) = director.and_then(|d| d.docker_gloss(w, ns, y)) {
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(format!("Docker: {g}")).color(crate::app::ink(ui, DOCKER)),
                        )
                        .wrap(),
                    );
                }
                if let Why::Netfilter { ns, note } = y
                    && let Some(rule) = &note.rule
                {
                    let counters = rule_counters(w, *ns, note.table, &rule.text);
                    let text = match counters {
                        Some((p, b)) => {
                            format!("rule {} of its chain, now [{p}:{b}] packets:bytes: show it", rule.index)
                        }
                        None => format!("rule {} of its chain, no longer there: show the rules", rule.index),
                    };
                    if ui.link(text).on_hover_text("Show it among the namespace's iptables rules").clicked() {
                        view.namespace = Some(w.netns(*ns).name.clone());
                        view.device = None;
                        view.tab = crate::app::TableTab::Iptables;
                        view.rule_focus = Some(crate::app::RuleFocus {
                            ns: w.netns(*ns).name.clone(),
                            table: note.table.name(),
                            rule: rule.text.to_string(),
                            scroll: true,
                        });
                    }
                }
            });
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

/// A rule's packet and byte counters now, found by its text in its table and chain (the
/// index a reason keeps is its place when it matched; rules inserted since move it).
fn rule_counters(w: &World, ns: NsId, table: Table, text: &str) -> Option<(u64, u64)> {
    let chain = text.strip_prefix("-A ")?.split(' ').next()?;
    w.netns(ns).nf.rules(table, chain)?.iter().find(|r| r.text() == text).map(|r| r.counters())
}
