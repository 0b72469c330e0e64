//! The topology: hosts as boxes holding their namespaces, each namespace with its devices as
//! chips; veth pairs, bridge ports, macvlan/VLAN children and VXLAN tunnels as links; and the
//! current event's frames moving along them.
//!
//! Layout: namespaces are grouped by host (`host:sandbox` names, as the Docker model makes
//! them; a Linux lab's namespaces are each their own group). Inside a group, namespaces are
//! placed in rows by their distance (petgraph BFS over veth links) from the group's root, so
//! containers sit under their host and overlay namespaces under the containers. The
//! scenario's `layout` pins a namespace where the instructor wants it.

use std::collections::{BTreeMap, HashMap};

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2, pos2, vec2};
use petgraph::graph::{NodeIndex, UnGraph};
use sim_core::World;
use sim_core::kernel::trace::{Dir, Why};
use sim_core::kernel::{DevId, DevKind, NsId};

use crate::app::{HOP_SECONDS, View};
use crate::state::Session;

const CHIP: Vec2 = vec2(64.0, 20.0);
const NS_GAP: f32 = 28.0;
const ROW_GAP: f32 = 70.0;
const GROUP_GAP: f32 = 60.0;
const TITLE_H: f32 = 18.0;

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

/// Where everything is, in layout coordinates (points at zoom 1).
#[derive(Default)]
pub struct Layout {
    pub groups: Vec<(String, Rect)>,
    pub ns: HashMap<NsId, Rect>,
    pub devs: HashMap<DevId, Rect>,
}

/// The live namespaces and their devices, grouped as drawn.
fn groups(w: &World, hosts: &[String]) -> BTreeMap<String, Vec<NsId>> {
    let mut g: BTreeMap<String, Vec<NsId>> = BTreeMap::new();
    for n in w.ns.iter().filter(|n| !n.dead) {
        let group = match n.name.split_once(':') {
            Some((h, _)) => h.to_string(),
            None if hosts.contains(&n.name) => n.name.clone(),
            None => n.name.clone(),
        };
        g.entry(group).or_default().push(n.id);
    }
    g
}

/// Devices shown as chips: everything but lo.
fn chips(w: &World, ns: NsId) -> Vec<DevId> {
    w.netns(ns).devs.iter().copied().filter(|d| !matches!(w.dev(*d).kind, DevKind::Loopback)).collect()
}

fn ns_size(w: &World, ns: NsId) -> Vec2 {
    let n = chips(w, ns).len().max(1) as f32;
    // Monospace 10 pt is about 6.1 points a character.
    let text = addr_line(w, ns).chars().count().max(w.netns(ns).name.len()) as f32 * 6.2 + 14.0;
    vec2((n * (CHIP.x + 6.0) + 6.0).max(150.0).max(text), TITLE_H + 16.0 + CHIP.y + 10.0)
}

/// The namespace's addresses but loopback, as its box shows them.
fn addr_line(w: &World, ns: NsId) -> String {
    let n = w.netns(ns);
    n.addrs.iter().filter(|a| a.addr.addr.octets()[0] != 127).map(|a| a.addr.to_string()).collect::<Vec<_>>().join("  ")
}

/// Rows of a group: BFS depth over veth links from the group's root (the namespace named
/// like the group, or the one with most links).
fn rows(w: &World, members: &[NsId], group: &str) -> Vec<Vec<NsId>> {
    let mut g: UnGraph<NsId, ()> = UnGraph::new_undirected();
    let idx: HashMap<NsId, NodeIndex> = members.iter().map(|&n| (n, g.add_node(n))).collect();
    for &n in members {
        for &d in &w.netns(n).devs {
            let other = match w.dev(d).kind {
                DevKind::Veth { peer, .. } => Some(w.dev(peer).ns),
                DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } => Some(w.dev(parent).ns),
                _ => None,
            };
            if let Some(o) = other
                && o != n
                && let (Some(&a), Some(&b)) = (idx.get(&n), idx.get(&o))
                && g.find_edge(a, b).is_none()
            {
                g.add_edge(a, b, ());
            }
        }
    }
    let root = members
        .iter()
        .find(|&&n| w.netns(n).name == group)
        .or_else(|| members.iter().max_by_key(|&&n| (g.neighbors(idx[&n]).count(), std::cmp::Reverse(n.0))))
        .copied();
    let mut depth: HashMap<NsId, usize> = HashMap::new();
    if let Some(r) = root {
        let mut bfs = petgraph::visit::Bfs::new(&g, idx[&r]);
        depth.insert(r, 0);
        while let Some(nx) = bfs.next(&g) {
            let n = g[nx];
            let d = depth[&n];
            for m in g.neighbors(nx) {
                depth.entry(g[m]).or_insert(d + 1);
            }
        }
    }
    let max = depth.values().copied().max().unwrap_or(0);
    let mut rows = vec![Vec::new(); max + 2];
    for &n in members {
        // Unconnected namespaces go to a last row.
        rows[depth.get(&n).copied().unwrap_or(max + 1)].push(n);
    }
    rows.retain(|r| !r.is_empty());
    rows
}

pub fn layout(session: &Session) -> Layout {
    let w = &session.sim.world;
    let hosts = session.hosts();
    let pinned = &session.loaded.scenario.layout;
    let mut out = Layout::default();
    let groups = groups(w, &hosts);
    // The LAN switch goes above the hosts; hosts side by side.
    let (top, rest): (Vec<_>, Vec<_>) = groups.iter().partition(|(g, _)| g.as_str() == sim_core::director::LAN_NS);
    let mut x = 0.0;
    let y0 = if top.is_empty() { 0.0 } else { 110.0 };
    for (name, members) in rest {
        let size = place_group(w, name, members, pos2(x, y0), &mut out);
        out.groups.push((name.clone(), Rect::from_min_size(pos2(x, y0), size)));
        x += size.x + GROUP_GAP;
    }
    for (name, members) in top {
        let s = ns_size(w, members[0]);
        let at = pos2(((x - GROUP_GAP) / 2.0 - s.x / 2.0).max(0.0), 0.0);
        place_group(w, name, members, at, &mut out);
    }
    // Pins move a namespace box and its chips.
    for (name, (px, py)) in pinned {
        let Some(ns) = w.ns_by_name(name) else { continue };
        let Some(r) = out.ns.get(&ns).copied() else { continue };
        let delta = pos2(*px, *py) - r.min;
        out.ns.insert(ns, r.translate(delta));
        for d in chips(w, ns) {
            if let Some(c) = out.devs.get_mut(&d) {
                *c = c.translate(delta);
            }
        }
    }
    out
}

/// Places a group's namespaces row by row from `at`; returns the group's size.
fn place_group(w: &World, name: &str, members: &[NsId], at: Pos2, out: &mut Layout) -> Vec2 {
    let rows = rows(w, members, name);
    let widths: Vec<f32> = rows
        .iter()
        .map(|r| r.iter().map(|&n| ns_size(w, n).x).sum::<f32>() + NS_GAP * (r.len().saturating_sub(1)) as f32)
        .collect();
    let width = widths.iter().copied().fold(0.0, f32::max) + 2.0 * 12.0;
    let mut y = at.y + TITLE_H + 8.0;
    for (row, rw) in rows.iter().zip(&widths) {
        let mut x = at.x + (width - rw) / 2.0;
        let mut h: f32 = 0.0;
        for &n in row {
            let s = ns_size(w, n);
            let r = Rect::from_min_size(pos2(x, y), s);
            out.ns.insert(n, r);
            for (i, d) in chips(w, n).into_iter().enumerate() {
                let c = pos2(r.min.x + 6.0 + i as f32 * (CHIP.x + 6.0), r.max.y - CHIP.y - 8.0);
                out.devs.insert(d, Rect::from_min_size(c, CHIP));
            }
            x += s.x + NS_GAP;
            h = h.max(s.y);
        }
        y += h + ROW_GAP;
    }
    vec2(width, y - ROW_GAP - at.y + 12.0)
}

/// The links to draw: (a, b, kind).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkKind {
    Veth,
    BridgePort,
    Stacked,
    Vxlan,
}

pub fn links(w: &World) -> Vec<(DevId, DevId, LinkKind)> {
    let mut out = Vec::new();
    let live = |d: DevId| w.netns(w.dev(d).ns).devs.contains(&d) && !w.netns(w.dev(d).ns).dead;
    for d in w.devs.iter().filter(|d| live(d.id)) {
        match &d.kind {
            DevKind::Veth { peer, .. } if d.id < *peer && live(*peer) => out.push((d.id, *peer, LinkKind::Veth)),
            DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } if live(*parent) => {
                out.push((d.id, *parent, LinkKind::Stacked))
            }
            DevKind::Vxlan(v) => {
                for remote in vxlan_peers(w, d.id, v.vni) {
                    if d.id < remote {
                        out.push((d.id, remote, LinkKind::Vxlan));
                    }
                }
            }
            _ => {}
        }
        if let Some(m) = d.master
            && live(m)
        {
            out.push((d.id, m, LinkKind::BridgePort));
        }
    }
    out
}

/// The VXLAN devices with the same VNI whose underlay namespace owns an address this one
/// sends to (its FDB destinations and all-zeros entries).
fn vxlan_peers(w: &World, dev: DevId, vni: u32) -> Vec<DevId> {
    let DevKind::Vxlan(v) = &w.dev(dev).kind else { return Vec::new() };
    let dsts: Vec<std::net::Ipv4Addr> = v.fdb.values().map(|e| e.dst).chain(v.default_dst.iter().copied()).collect();
    w.devs
        .iter()
        .filter(|o| o.id != dev && w.netns(o.ns).devs.contains(&o.id))
        .filter_map(|o| match &o.kind {
            DevKind::Vxlan(ov) if ov.vni == vni => {
                let owns = w.netns(ov.underlay_ns).addrs.iter().any(|a| dsts.contains(&a.addr.addr));
                owns.then_some(o.id)
            }
            _ => None,
        })
        .collect()
}

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
const DOWN: Color32 = Color32::from_rgb(140, 60, 60);
/// The mark of a device with a netem qdisc.
const NETEM: Color32 = Color32::from_rgb(235, 235, 235);

fn link_stroke(kind: LinkKind, zoom: f32) -> Stroke {
    match kind {
        LinkKind::Veth => Stroke::new(2.0 * zoom, Color32::from_rgb(150, 150, 160)),
        LinkKind::BridgePort => Stroke::new(1.0 * zoom, Color32::from_rgb(110, 140, 110)),
        LinkKind::Stacked => Stroke::new(1.5 * zoom, Color32::from_rgb(200, 170, 90)),
        LinkKind::Vxlan => Stroke::new(2.5 * zoom, VXLAN_RING),
    }
}

pub fn show(ui: &mut egui::Ui, session: &Session, view: &mut View, now: f64) {
    let lay = layout(session);
    let w = &session.sim.world;
    let (resp, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let area = resp.rect;
    if resp.dragged() {
        view.pan += resp.drag_delta();
    }
    if resp.hovered() {
        let (zoom_delta, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta));
        let factor = if zoom_delta != 1.0 { zoom_delta } else { (scroll.y / 400.0).exp() };
        if factor != 1.0 {
            // Zoom about the pointer.
            if let Some(p) = resp.hover_pos() {
                let before = (p - area.min - view.pan) / view.zoom;
                view.zoom = (view.zoom * factor).clamp(0.2, 4.0);
                view.pan = p - area.min - before * view.zoom;
            }
        }
    }
    let z = view.zoom;
    let tf = |p: Pos2| area.min + view.pan + p.to_vec2() * z;
    let tr = |r: Rect| Rect::from_min_max(tf(r.min), tf(r.max));
    let painter = painter.with_clip_rect(area);
    let font = |s: f32| egui::FontId::proportional((s * z).max(6.0));
    let mono = |s: f32| egui::FontId::monospace((s * z).max(6.0));
    let text_col = ui.visuals().text_color();

    for (name, r) in &lay.groups {
        let r = tr(*r);
        // An outline and a title band, not a filled box: on software GL a host-sized fill
        // cost a quarter of each frame.
        let band = Rect::from_min_max(r.min, pos2(r.max.x, r.min.y + TITLE_H * z));
        painter.rect_filled(
            band,
            egui::CornerRadius { nw: (6.0 * z) as u8, ne: (6.0 * z) as u8, sw: 0, se: 0 },
            Color32::from_rgb(44, 50, 64),
        );
        painter.rect_stroke(r, 6.0 * z, Stroke::new(1.0, Color32::from_rgb(90, 100, 130)), egui::StrokeKind::Inside);
        painter.text(r.min + vec2(8.0, 4.0) * z, egui::Align2::LEFT_TOP, format!("host {name}"), font(13.0), text_col);
    }
    let mut clicked_ns = None;
    let mut clicked_dev = None;
    let pointer = resp.interact_pointer_pos().filter(|_| resp.clicked());
    for (&ns, &r) in &lay.ns {
        let n = w.netns(ns);
        let sr = tr(r);
        let selected = view.namespace.as_deref() == Some(n.name.as_str());
        let fill = if selected { Color32::from_rgb(50, 70, 110) } else { Color32::from_rgb(38, 42, 52) };
        painter.rect_filled(sr, 4.0 * z, fill);
        painter.rect_stroke(sr, 4.0 * z, Stroke::new(1.0, Color32::from_rgb(120, 130, 150)), egui::StrokeKind::Inside);
        let short = n.name.split_once(':').map(|(_, s)| s).unwrap_or(&n.name);
        painter.text(sr.min + vec2(6.0, 3.0) * z, egui::Align2::LEFT_TOP, short, font(12.0), Color32::WHITE);
        let addrs: Vec<String> =
            n.addrs.iter().filter(|a| a.addr.addr.octets()[0] != 127).map(|a| a.addr.to_string()).collect();
        painter.text(
            sr.min + vec2(6.0, TITLE_H + 1.0) * z,
            egui::Align2::LEFT_TOP,
            addrs.join("  "),
            mono(10.0),
            Color32::from_rgb(180, 200, 220),
        );
        if pointer.is_some_and(|p| sr.contains(p)) {
            clicked_ns = Some(n.name.clone());
        }
    }
    for (a, b, kind) in links(w) {
        let (Some(ra), Some(rb)) = (lay.devs.get(&a), lay.devs.get(&b)) else { continue };
        let (pa, pb) = (tf(ra.center()), tf(rb.center()));
        let stroke = link_stroke(kind, z);
        // A link with an end set down (`ip link set DEV down`) carries nothing: drawn dim
        // and broken, in the colour of a down device.
        if !w.dev(a).up || !w.dev(b).up {
            let down = Stroke::new(stroke.width, DOWN);
            painter.extend(egui::Shape::dashed_line(&[pa, pb], down, 3.0 * z, 5.0 * z));
        } else if kind == LinkKind::Vxlan {
            painter.extend(egui::Shape::dashed_line(&[pa, pb], stroke, 8.0 * z, 5.0 * z));
        } else {
            painter.line_segment([pa, pb], stroke);
        }
    }
    for (&d, &r) in &lay.devs {
        let dev = w.dev(d);
        let sr = tr(r);
        let path = w.dev_path(d);
        let selected = view.device.as_deref() == Some(path.as_str());
        let fill = match dev.kind {
            _ if !dev.up => DOWN,
            DevKind::Bridge(_) => Color32::from_rgb(70, 110, 70),
            DevKind::Vxlan(_) => Color32::from_rgb(100, 70, 140),
            DevKind::Macvlan { .. } | DevKind::Vlan { .. } => Color32::from_rgb(120, 100, 50),
            _ => Color32::from_rgb(70, 80, 100),
        };
        painter.rect_filled(sr, 3.0 * z, fill);
        if selected {
            painter.rect_stroke(sr, 3.0 * z, Stroke::new(2.0, Color32::YELLOW), egui::StrokeKind::Outside);
        }
        painter.text(sr.center(), egui::Align2::CENTER_CENTER, &dev.name, mono(10.0), Color32::WHITE);
        // netem on its egress: a mark on the device's corner, named on hover in the tables.
        if dev.qdisc.is_some() {
            painter.circle_filled(sr.right_top(), 4.0 * z.max(0.5), NETEM);
        }
        if pointer.is_some_and(|p| sr.contains(p)) {
            clicked_dev = Some(path);
        }
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
        let (Some(a), Some(b)) = (lay.devs.get(&f.from), lay.devs.get(&f.to)) else { continue };
        let p = tf(a.center().lerp(b.center(), progress));
        let Some(frame) = session.sim.records()[f.record].frame.as_deref() else { continue };
        let layers = sim_core::wire::dissect::dissect(frame);
        let col = protocol_color(layers.iter().map(|l| l.name.as_str()));
        let radius = 8.0 * z.max(0.5);
        if layers.iter().any(|l| l.name == "VXLAN") {
            // Encapsulated: the inner frame's colour inside a VXLAN ring.
            painter.circle_filled(p, radius + 4.0 * z.max(0.5), VXLAN_RING);
        }
        painter.circle_filled(p, radius, col);
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
    legend(&painter, area, text_col);
    if let Some(rec) = clicked_frame {
        super::events::select(view, session, rec);
        view.scroll_to_record = true;
    } else if let Some(d) = clicked_dev {
        view.namespace = d.split_once('/').map(|(n, _)| n.to_string());
        view.device = Some(d);
    } else if let Some(n) = clicked_ns {
        view.namespace = Some(n);
    }
}

fn legend(painter: &egui::Painter, area: Rect, text: Color32) {
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
    let mut p = pos2(area.min.x + 8.0, area.max.y - 16.0);
    for (name, c) in items {
        painter.circle_filled(p, 5.0, c);
        let r =
            painter.text(p + vec2(8.0, 0.0), egui::Align2::LEFT_CENTER, name, egui::FontId::proportional(11.0), text);
        p.x = r.max.x + 14.0;
    }
}
