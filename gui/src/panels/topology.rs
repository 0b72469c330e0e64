//! The topology: hosts as regions holding their namespaces, each namespace with its devices
//! as chips (a bridge as a bar over its ports); veth pairs, macvlan/VLAN children and VXLAN
//! tunnels (in one lane per VNI) as links; and the current event's frames moving along them.
//! Where things go is `layout`'s; this file paints it, fits it to the panel and takes the
//! pointer.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2, pos2, vec2};
use sim_core::World;
use sim_core::kernel::trace::{Dir, Why};
use sim_core::kernel::{DevId, DevKind};

use crate::app::{HOP_SECONDS, View};
use crate::layout::{self, GROUP_TITLE_H, LabelKind, LinkKind, vxlan_peers};
use crate::state::Session;

/// Colour of a frame by its innermost interesting protocol, as Wireshark's colouring rules
/// roughly do.
pub fn protocol_color<'a>(layers: impl Iterator<Item = &'a str>) -> Color32 {
    let mut c = Color32::from_rgb(200, 200, 200);
    for l in layers {
        c = match l {
            "ARP" => Color32::from_rgb(240, 200, 80),
            "ICMP" => Color32::from_rgb(240, 130, 200),
            "TCP" => Color32::from_rgb(120, 170, 250),
            "UDP" => Color32::from_rgb(110, 220, 220),
            "DNS" => Color32::from_rgb(100, 230, 140),
            "HTTP" => Color32::from_rgb(150, 240, 90),
            "MySQL" => Color32::from_rgb(255, 150, 60),
            _ => continue,
        };
    }
    c
}

const VXLAN_RING: Color32 = Color32::from_rgb(190, 120, 255);

/// Where a frame sent on `dev` goes next on screen: the veth peer, the remote VTEP named in
/// the hop's reasons, or the parent of a stacked device.
pub fn next_hop(w: &World, dev: DevId, why: &[Why]) -> Option<DevId> {
    match &w.dev(dev).kind {
        DevKind::Veth { peer, .. } => Some(*peer),
        DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } => Some(*parent),
        DevKind::Vxlan(v) => {
            let remote = why.iter().find_map(|y| match y {
                Why::VxlanEncap { remote, .. } => Some(*remote),
                _ => None,
            })?;
            vxlan_peers(w, dev, v.vni).into_iter().find(|&o| match &w.dev(o).kind {
                DevKind::Vxlan(ov) => w.netns(ov.underlay_ns).addrs.iter().any(|a| a.addr.addr == remote),
                _ => false,
            })
        }
        _ => None,
    }
}

/// A frame on screen: the record, where it goes from and to.
pub struct InFlight {
    pub record: usize,
    pub from: DevId,
    pub to: DevId,
}

/// The frames the current event sent that cross a link.
pub fn in_flight(session: &Session) -> Vec<InFlight> {
    let w = &session.sim.world;
    let Some(o) = session.outcomes.last() else { return Vec::new() };
    o.records
        .clone()
        .filter_map(|i| {
            let r = session.sim.records().get(i)?;
            let (Dir::Tx, Some(dev), Some(_)) = (r.dir, r.dev, &r.frame) else { return None };
            let to = next_hop(w, dev, &r.why)?;
            Some(InFlight { record: i, from: dev, to })
        })
        .collect()
}

/// A device set down, and the links it ends.
const DOWN: Color32 = Color32::from_rgb(160, 60, 60);
/// The mark of a device with a netem qdisc.
const NETEM: Color32 = Color32::from_rgb(235, 235, 235);

/// The topology's colours in the theme in use: the dark one for a screen, the light one for
/// a projector in a lit room (frames keep their protocol colours and get an outline there).
struct Palette {
    ns_fill: Color32,
    ns_selected: Color32,
    ns_stroke: Color32,
    band: Color32,
    group_stroke: Color32,
    title: Color32,
    addrs: Color32,
    chip_text: Color32,
    bridge: Color32,
    vxlan: Color32,
    stacked: Color32,
    other: Color32,
    veth: Color32,
    port: Color32,
    lane: Color32,
    dot_outline: Option<Color32>,
}

fn palette(dark: bool) -> Palette {
    if dark {
        Palette {
            ns_fill: Color32::from_rgb(38, 42, 52),
            ns_selected: Color32::from_rgb(50, 70, 110),
            ns_stroke: Color32::from_rgb(120, 130, 150),
            band: Color32::from_rgb(44, 50, 64),
            group_stroke: Color32::from_rgb(90, 100, 130),
            title: Color32::WHITE,
            addrs: Color32::from_rgb(180, 200, 220),
            chip_text: Color32::WHITE,
            bridge: Color32::from_rgb(70, 110, 70),
            vxlan: Color32::from_rgb(100, 70, 140),
            stacked: Color32::from_rgb(120, 100, 50),
            other: Color32::from_rgb(70, 80, 100),
            veth: Color32::from_rgb(150, 150, 160),
            port: Color32::from_rgb(110, 160, 110),
            lane: VXLAN_RING,
            dot_outline: None,
        }
    } else {
        Palette {
            ns_fill: Color32::from_rgb(246, 247, 250),
            ns_selected: Color32::from_rgb(205, 220, 250),
            ns_stroke: Color32::from_rgb(120, 130, 150),
            band: Color32::from_rgb(218, 224, 236),
            group_stroke: Color32::from_rgb(120, 130, 160),
            title: Color32::from_rgb(20, 24, 32),
            addrs: Color32::from_rgb(30, 70, 120),
            chip_text: Color32::from_rgb(15, 15, 20),
            bridge: Color32::from_rgb(170, 215, 170),
            vxlan: Color32::from_rgb(215, 190, 245),
            stacked: Color32::from_rgb(235, 215, 150),
            other: Color32::from_rgb(200, 210, 230),
            veth: Color32::from_rgb(90, 90, 105),
            port: Color32::from_rgb(60, 120, 60),
            lane: Color32::from_rgb(110, 50, 170),
            dot_outline: Some(Color32::from_rgb(40, 40, 40)),
        }
    }
}

fn link_stroke(kind: LinkKind, p: &Palette, zoom: f32) -> Stroke {
    match kind {
        LinkKind::Veth => Stroke::new(2.0 * zoom, p.veth),
        LinkKind::BridgePort => Stroke::new(2.0 * zoom, p.port),
        LinkKind::Stacked => Stroke::new(1.5 * zoom, Color32::from_rgb(200, 170, 90)),
        LinkKind::Vxlan => Stroke::new(2.5 * zoom, VXLAN_RING),
    }
}

/// The zoom and pan that show all of `bounds` in an area of `size`, centred, with a margin.
/// Never larger than 1.5: a small lab is not blown up past legibility's need.
pub fn fit(bounds: Rect, size: Vec2) -> (f32, Vec2) {
    let margin = 10.0;
    // A lab of one empty namespace still has a size; a panel squeezed to nothing a zoom.
    let (w, h) = (bounds.width().max(1.0), bounds.height().max(1.0));
    let z = ((size.x - 2.0 * margin) / w).min((size.y - 2.0 * margin) / h).clamp(0.05, 1.5);
    (z, (size - bounds.size() * z) / 2.0 - bounds.min.to_vec2() * z)
}

/// What the topology drew last, on screen: for tests that check it fits and nothing
/// overlaps.
#[derive(Clone, Debug)]
pub struct Drawn {
    /// Where the lab may be drawn: the panel less its hint and legend lines.
    pub area: Rect,
    /// Every label (hosts, namespaces, addresses, devices, lanes) and where it was drawn.
    pub labels: Vec<(Rect, String)>,
    /// The hosts' and namespaces' regions.
    pub boxes: Vec<Rect>,
}

impl Default for Drawn {
    fn default() -> Self {
        Drawn { area: Rect::NOTHING, labels: Vec::new(), boxes: Vec::new() }
    }
}

/// What the hint line says about moving the picture.
pub const HINT: &str = "drag: pan · scroll or pinch: zoom · F: fit to the window";

/// Below this size on screen a label is not drawn: it could not be read anyway.
const SMALLEST_TEXT: f32 = 3.5;

pub fn show(ui: &mut egui::Ui, session: &Session, view: &mut View, now: f64) {
    let w = &session.sim.world;
    let names = session.sim.director.as_ref().map(|d| d.docker_names()).unwrap_or_default();
    let painter0 = ui.painter().clone();
    let measure = |t: &str, size: f32, mono: bool| {
        let font = if mono { egui::FontId::monospace(size) } else { egui::FontId::proportional(size) };
        painter0.layout_no_wrap(t.to_string(), font, Color32::WHITE).size()
    };
    let lay = layout::layout(w, &names, &session.loaded.scenario.layout, &measure);
    let (resp, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let panel = resp.rect;
    let hint_h = 16.0;
    let legend_h = 22.0;
    let area = Rect::from_min_max(panel.min + vec2(0.0, hint_h), panel.max - vec2(0.0, legend_h));
    let fit_button = Rect::from_min_size(pos2(panel.max.x - 44.0, panel.min.y), vec2(40.0, hint_h));
    let keys = !ui.ctx().text_edit_focused();
    if resp.dragged() {
        view.pan += resp.drag_delta();
        view.fitted = false;
    }
    if resp.hovered() {
        let (zoom_delta, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta));
        let factor = if zoom_delta != 1.0 { zoom_delta } else { (scroll.y / 400.0).exp() };
        if factor != 1.0
            && let Some(p) = resp.hover_pos()
        {
            // Zoom about the pointer.
            let before = (p - area.min - view.pan) / view.zoom;
            view.zoom = (view.zoom * factor).clamp(0.05, 4.0);
            view.pan = p - area.min - before * view.zoom;
            view.fitted = false;
        }
    }
    if keys && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F)) {
        view.fitted = true;
    }
    // Until the student moves the picture, it keeps fitting: the lab grows as containers
    // start, and the window may be resized.
    if view.fitted {
        (view.zoom, view.pan) = fit(lay.bounds(), area.size());
    }
    let z = view.zoom;
    let tf = |p: Pos2| area.min + view.pan + p.to_vec2() * z;
    let tr = |r: Rect| Rect::from_min_max(tf(r.min), tf(r.max));
    let painter = painter.with_clip_rect(area);
    let pal = palette(ui.visuals().dark_mode);
    let text_col = ui.visuals().text_color();
    let mut drawn = Drawn { area, labels: Vec::new(), boxes: Vec::new() };

    for (_, r) in &lay.groups {
        let r = tr(*r);
        // An outline and a title band, not a filled box: on software GL a host-sized fill
        // cost a quarter of each frame.
        let band = Rect::from_min_max(r.min, pos2(r.max.x, r.min.y + GROUP_TITLE_H * z));
        let round = (6.0 * z).min(255.0) as u8;
        painter.rect_filled(band, egui::CornerRadius { nw: round, ne: round, sw: 0, se: 0 }, pal.band);
        painter.rect_stroke(r, 6.0 * z, Stroke::new(1.0, pal.group_stroke), egui::StrokeKind::Inside);
        drawn.boxes.push(r);
    }
    let mut clicked_ns = None;
    let mut clicked_dev = None;
    let pointer = resp.interact_pointer_pos().filter(|_| resp.clicked());
    for (&ns, &r) in &lay.ns {
        let n = w.netns(ns);
        let sr = tr(r);
        let selected = view.namespace.as_deref() == Some(n.name.as_str());
        painter.rect_filled(sr, 4.0 * z, if selected { pal.ns_selected } else { pal.ns_fill });
        painter.rect_stroke(sr, 4.0 * z, Stroke::new(1.0, pal.ns_stroke), egui::StrokeKind::Inside);
        drawn.boxes.push(sr);
        if pointer.is_some_and(|p| sr.contains(p)) {
            clicked_ns = Some(n.name.clone());
        }
    }
    for &(a, b, kind) in &lay.links {
        let Some(path) = lay.path(w, a, b) else { continue };
        let pts: Vec<Pos2> = path.into_iter().map(tf).collect();
        let stroke = link_stroke(kind, &pal, z);
        // A link with an end set down (`ip link set DEV down`) carries nothing: drawn dim
        // and broken, in the colour of a down device.
        if !w.dev(a).up || !w.dev(b).up {
            painter.extend(egui::Shape::dashed_line(&pts, Stroke::new(stroke.width, DOWN), 3.0 * z, 5.0 * z));
        } else if kind == LinkKind::Vxlan {
            painter.extend(egui::Shape::dashed_line(&pts, stroke, 8.0 * z, 5.0 * z));
        } else {
            painter.add(egui::Shape::line(pts, stroke));
        }
    }
    for lane in &lay.lanes {
        let stroke = link_stroke(LinkKind::Vxlan, &pal, z);
        let (a, b) = (tf(pos2(lane.x0, lane.y)), tf(pos2(lane.x1, lane.y)));
        painter.extend(egui::Shape::dashed_line(&[a, b], stroke, 8.0 * z, 5.0 * z));
    }
    for (&d, &r) in &lay.devs {
        let dev = w.dev(d);
        let sr = tr(r);
        let path = w.dev_path(d);
        let selected = view.device.as_deref() == Some(path.as_str());
        let fill = match dev.kind {
            _ if !dev.up => DOWN,
            DevKind::Bridge(_) => pal.bridge,
            DevKind::Vxlan(_) => pal.vxlan,
            DevKind::Macvlan { .. } | DevKind::Vlan { .. } => pal.stacked,
            _ => pal.other,
        };
        painter.rect_filled(sr, 3.0 * z, fill);
        if selected {
            painter.rect_stroke(sr, 3.0 * z, Stroke::new(2.0, Color32::YELLOW), egui::StrokeKind::Outside);
        }
        // netem on its egress: a mark on the device's corner, named on hover in the tables.
        if dev.qdisc.is_some() {
            painter.circle_filled(sr.right_top(), 4.0 * z.max(0.5), NETEM);
            painter.circle_stroke(sr.right_top(), 4.0 * z.max(0.5), Stroke::new(1.0, DOWN));
        }
        if pointer.is_some_and(|p| sr.contains(p)) {
            clicked_dev = Some(path);
        }
    }
    for l in &lay.labels {
        let (size, mono) = l.kind.font();
        let at = tr(l.rect);
        drawn.labels.push((at, l.text.clone()));
        if size * z < SMALLEST_TEXT {
            continue;
        }
        let font = if mono { egui::FontId::monospace(size * z) } else { egui::FontId::proportional(size * z) };
        let colour = match l.kind {
            LabelKind::Host => text_col,
            LabelKind::Namespace => pal.title,
            LabelKind::Addresses => pal.addrs,
            LabelKind::Device => pal.chip_text,
            LabelKind::Lane => pal.lane,
        };
        painter.text(at.min, egui::Align2::LEFT_TOP, &l.text, font, colour);
    }

    // The current event's frames, moving along their links.
    let dur = if view.playing { (HOP_SECONDS as f64).min(1.0 / view.speed as f64) } else { HOP_SECONDS as f64 };
    let t = (((now - view.anim_start) / dur) as f32).clamp(0.0, 1.0);
    if t < 1.0 {
        ui.ctx().request_repaint();
    }
    let mut clicked_frame = None;
    let mut dots: Vec<(usize, Pos2)> = Vec::new();
    let flying = in_flight(session);
    let selected_extra = view.record.filter(|r| !flying.iter().any(|f| f.record == *r)).and_then(|i| {
        let r = session.sim.records().get(i)?;
        let (Dir::Tx, Some(dev)) = (r.dir, r.dev) else { return None };
        Some(InFlight { record: i, from: dev, to: next_hop(w, dev, &r.why)? })
    });
    for (f, progress) in flying.iter().map(|f| (f, t)).chain(selected_extra.iter().map(|f| (f, 0.5))) {
        let Some(path) = lay.path(w, f.from, f.to) else { continue };
        let p = tf(along(&path, progress));
        let Some(frame) = session.sim.records()[f.record].frame.as_deref() else { continue };
        let layers = sim_core::wire::dissect::dissect(frame);
        let col = protocol_color(layers.iter().map(|l| l.name.as_str()));
        let radius = 8.0 * z.max(0.5);
        if layers.iter().any(|l| l.name == "VXLAN") {
            // Encapsulated: the inner frame's colour inside a VXLAN ring.
            painter.circle_filled(p, radius + 4.0 * z.max(0.5), VXLAN_RING);
        }
        painter.circle_filled(p, radius, col);
        if let Some(o) = pal.dot_outline {
            painter.circle_stroke(p, radius, Stroke::new(1.0, o));
        }
        if view.record == Some(f.record) {
            painter.circle_stroke(p, radius + 7.0, Stroke::new(2.0, Color32::YELLOW));
        }
        dots.push((f.record, p));
    }
    if let Some(p) = pointer
        && let Some((rec, _)) = dots.iter().find(|(_, d)| d.distance(p) < 12.0)
    {
        clicked_frame = Some(*rec);
    }
    // The hint line and the legend, outside the lab's area.
    let weak = ui.visuals().weak_text_color();
    ui.painter().text(panel.min + vec2(6.0, 2.0), egui::Align2::LEFT_TOP, HINT, egui::FontId::proportional(11.0), weak);
    let fit_clicked = ui
        .put(fit_button, egui::Button::new("Fit").small())
        .on_hover_text("Fit the whole lab to the panel (key F); it keeps fitting until you pan or zoom")
        .clicked();
    if fit_clicked {
        view.fitted = true;
    }
    legend(ui.painter(), panel, &pal, text_col);
    if let Some(rec) = clicked_frame {
        super::events::select(view, session, rec);
        view.scroll_to_record = true;
    } else if let Some(d) = clicked_dev {
        view.namespace = d.split_once('/').map(|(n, _)| n.to_string());
        view.device = Some(d);
    } else if let Some(n) = clicked_ns {
        view.namespace = Some(n);
    }
    view.drawn = drawn;
}

/// The point `t` (0..1) of the way along a polyline.
fn along(path: &[Pos2], t: f32) -> Pos2 {
    let lengths: Vec<f32> = path.windows(2).map(|s| s[0].distance(s[1])).collect();
    let total: f32 = lengths.iter().sum();
    let mut left = total * t;
    for (s, len) in path.windows(2).zip(&lengths) {
        if left <= *len && *len > 0.0 {
            return s[0].lerp(s[1], left / len);
        }
        left -= len;
    }
    path.last().copied().unwrap_or(Pos2::ZERO)
}

fn legend(painter: &egui::Painter, panel: Rect, pal: &Palette, text: Color32) {
    let items = [
        ("ARP", protocol_color(["ARP"].into_iter())),
        ("ICMP", protocol_color(["ICMP"].into_iter())),
        ("TCP", protocol_color(["TCP"].into_iter())),
        ("DNS", protocol_color(["DNS"].into_iter())),
        ("HTTP", protocol_color(["HTTP"].into_iter())),
        ("MySQL", protocol_color(["MySQL"].into_iter())),
        ("VXLAN ring", VXLAN_RING),
        ("link down", DOWN),
        ("netem", NETEM),
    ];
    let mut p = pos2(panel.min.x + 8.0, panel.max.y - 11.0);
    for (name, c) in items {
        painter.circle_filled(p, 5.0, c);
        if let Some(o) = pal.dot_outline {
            painter.circle_stroke(p, 5.0, Stroke::new(1.0, o));
        }
        let r =
            painter.text(p + vec2(8.0, 0.0), egui::Align2::LEFT_CENTER, name, egui::FontId::proportional(11.0), text);
        p.x = r.max.x + 14.0;
    }
}
