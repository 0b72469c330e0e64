//! Where the topology draws everything: a pure function of the world (and the Docker
//! model's names for it), in layout coordinates (points at zoom 1), with every label's
//! rectangle measured, so that a test can say nothing overlaps and everything fits.
//!
//! - A **host** (the Docker model's `host:sandbox` namespaces, or one Linux namespace with the
//!   namespaces whose veths all end on its bridges) is a region sized to its content; hosts
//!   stand side by side, the LAN switch above them.
//! - Inside a host, **namespaces in rows by role**: the host's own namespace, then the
//!   containers and the swarm's sandboxes, then the overlay namespaces (`1-<id>`), each row
//!   at the same height on every host so that one overlay network's namespaces line up.
//!   A Linux lab's namespace rows come from their distance over veth links (petgraph BFS).
//!   In a row, a namespace sits under the devices it is linked to, which keeps veths short.
//! - Inside a namespace, **a bridge is a bar over its ports**: each port directly under its
//!   bridge, so which veth is a port of which bridge is seen, not guessed; the bar is
//!   labelled with the Docker network it carries (`br-a5ea0a9cfb30 · appnet`). Other devices
//!   stand beside the bridges.
//! - **VXLAN tunnels run in lanes** below the hosts, one per VNI, named by its overlay: a
//!   tunnel leaves its VTEP downwards, runs along its lane and rises to the other VTEP, so
//!   two overlays never share a line.
//!
//! The instructor's `layout:` pins move a namespace where the scenario says, whatever this
//! would do.

use std::collections::{BTreeMap, HashMap};

use egui::{Pos2, Rect, Vec2, pos2, vec2};
use petgraph::graph::{NodeIndex, UnGraph};
use sim_core::World;
use sim_core::director::DockerNames;
use sim_core::kernel::{DevId, DevKind, NsId};

pub const CHIP_H: f32 = 20.0;
const CHIP_MIN_W: f32 = 44.0;
const CHIP_PAD: f32 = 10.0;
const CHIP_GAP: f32 = 8.0;
/// Between a bridge's bar and its ports.
const TIER_GAP: f32 = 14.0;
const NS_PAD: f32 = 7.0;
const NS_GAP: f32 = 26.0;
const ROW_GAP: f32 = 64.0;
const GROUP_GAP: f32 = 48.0;
const GROUP_PAD: f32 = 12.0;
pub const GROUP_TITLE_H: f32 = 20.0;
const NS_TITLE_H: f32 = 17.0;
const ADDR_H: f32 = 14.0;
const LANE_GAP: f32 = 24.0;
/// Between a row's namespaces and a veth's detour under them (clear of the host's frame),
/// and between two detours.
const DETOUR_GAP: f32 = 20.0;

/// Font sizes at zoom 1.
pub const GROUP_FONT: f32 = 13.0;
pub const NS_FONT: f32 = 12.0;
pub const MONO_FONT: f32 = 10.0;
pub const LANE_FONT: f32 = 11.0;

/// What a label names, so the painter picks its colour and font.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelKind {
    Host,
    Namespace,
    Addresses,
    Device,
    Lane,
}

impl LabelKind {
    /// The label's font size at zoom 1, and whether it is monospace.
    pub fn font(self) -> (f32, bool) {
        match self {
            LabelKind::Host => (GROUP_FONT, false),
            LabelKind::Namespace => (NS_FONT, false),
            LabelKind::Addresses | LabelKind::Device => (MONO_FONT, true),
            LabelKind::Lane => (LANE_FONT, false),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub rect: Rect,
    pub text: String,
    pub kind: LabelKind,
    /// The namespace whose box holds it (none for a host's or a lane's).
    pub owner: Option<NsId>,
}

/// One VNI's lane: where its tunnels run, and the VTEPs on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub vni: u32,
    pub y: f32,
    pub x0: f32,
    pub x1: f32,
    pub vteps: Vec<DevId>,
}

/// Where everything is.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub groups: Vec<(String, Rect)>,
    pub ns: HashMap<NsId, Rect>,
    pub devs: HashMap<DevId, Rect>,
    pub labels: Vec<Label>,
    pub lanes: Vec<Lane>,
    /// What is linked to what (`links`), found once for the lanes and the painter.
    pub links: Vec<(DevId, DevId, LinkKind)>,
    /// Veths whose straight line would cross another device or namespace (a namespace
    /// linked to two others in a row): each goes down under its row, along, and up.
    pub detours: HashMap<(DevId, DevId), Vec<Pos2>>,
}

impl Layout {
    /// Everything drawn, in one rectangle.
    pub fn bounds(&self) -> Rect {
        let mut r = Rect::NOTHING;
        for (_, g) in &self.groups {
            r = r.union(*g);
        }
        for n in self.ns.values() {
            r = r.union(*n);
        }
        for l in &self.labels {
            r = r.union(l.rect);
        }
        for l in &self.lanes {
            r = r.union(Rect::from_min_max(pos2(l.x0, l.y - 1.0), pos2(l.x1, l.y + 1.0)));
        }
        for p in self.detours.values().flatten() {
            r = r.union(Rect::from_min_max(*p - Vec2::splat(1.0), *p + Vec2::splat(1.0)));
        }
        if r == Rect::NOTHING { Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)) } else { r }
    }

    /// The points a link's line goes through: straight for a veth or a stacked device, down
    /// to the lane and along it for a VXLAN tunnel, straight down from its bar for a bridge
    /// port.
    pub fn path(&self, w: &World, a: DevId, b: DevId) -> Option<Vec<Pos2>> {
        let (ra, rb) = (self.devs.get(&a)?, self.devs.get(&b)?);
        if let DevKind::Vxlan(v) = &w.dev(a).kind
            && matches!(w.dev(b).kind, DevKind::Vxlan(_))
            && let Some(lane) = self.lanes.iter().find(|l| l.vni == v.vni)
        {
            let (pa, pb) = (ra.center_bottom(), rb.center_bottom());
            return Some(vec![pa, pos2(pa.x, lane.y), pos2(pb.x, lane.y), pb]);
        }
        if w.dev(a).master == Some(b) && matches!(w.dev(b).kind, DevKind::Bridge(_)) {
            let x = ra.center().x.clamp(rb.min.x + 2.0, rb.max.x - 2.0);
            return Some(vec![pos2(x, ra.min.y), pos2(x, rb.max.y)]);
        }
        if let Some(d) = self.detours.get(&(a, b)) {
            return Some(d.clone());
        }
        if let Some(d) = self.detours.get(&(b, a)) {
            return Some(d.iter().rev().copied().collect());
        }
        Some(straight(*ra, *rb))
    }
}

/// A link's line between two chips: between their facing edges, so that it does not cross
/// their labels.
fn straight(ra: Rect, rb: Rect) -> Vec<Pos2> {
    let (pa, pb) = if ra.center().y + CHIP_H < rb.center().y {
        (ra.center_bottom(), rb.center_top())
    } else if rb.center().y + CHIP_H < ra.center().y {
        (ra.center_top(), rb.center_bottom())
    } else {
        (ra.center(), rb.center())
    };
    vec![pa, pb]
}

/// The veths along a row whose straight line would cross a device or a namespace other than
/// its ends' (`Layout::detours`). Each detour runs under the row's namespaces, in the gap
/// before the next row, the shorter ones nearer, so that two never share a line.
fn detours(w: &World, out: &mut Layout) {
    // The segment clipped to the rectangle, one axis after the other (Liang–Barsky): the
    // layout is made every frame, so no sampling along the line.
    let crosses = |a: Pos2, b: Pos2, r: Rect| {
        let r = r.shrink(1.0);
        let (mut t0, mut t1) = (0.0f32, 1.0f32);
        for (p0, d, lo, hi) in [(a.x, b.x - a.x, r.min.x, r.max.x), (a.y, b.y - a.y, r.min.y, r.max.y)] {
            if d == 0.0 {
                if p0 <= lo || p0 >= hi {
                    return false;
                }
                continue;
            }
            let (u, v) = ((lo - p0) / d, (hi - p0) / d);
            t0 = t0.max(u.min(v));
            t1 = t1.min(u.max(v));
        }
        t0 < t1
    };
    let mut found: Vec<(DevId, DevId, Pos2, Pos2)> = Vec::new();
    for &(a, b, kind) in &out.links {
        let (Some(&ra), Some(&rb)) = (out.devs.get(&a), out.devs.get(&b)) else { continue };
        // Between rows a line may pass over a bridge's bar into its port (the port hangs
        // under the bar), which says what it is; only a line along a row goes round.
        if kind != LinkKind::Veth || (ra.center().y - rb.center().y).abs() > CHIP_H {
            continue;
        }
        let line = straight(ra, rb);
        let (pa, pb) = (line[0], line[1]);
        let (na, nb) = (w.dev(a).ns, w.dev(b).ns);
        let in_the_way = out.devs.iter().any(|(&d, &r)| d != a && d != b && crosses(pa, pb, r))
            || out.ns.iter().any(|(&n, &r)| n != na && n != nb && crosses(pa, pb, r));
        if in_the_way {
            found.push((a, b, ra.center_bottom(), rb.center_bottom()));
        }
    }
    found.sort_by(|x, y| (x.2.x - x.3.x).abs().total_cmp(&(y.2.x - y.3.x).abs()).then(x.0.cmp(&y.0)));
    // Under the namespaces of the row it runs along, in the gap before the next row.
    let mut taken: Vec<f32> = Vec::new();
    for (a, b, pa, pb) in found {
        let (lo, hi) = (pa.x.min(pb.x), pa.x.max(pb.x));
        let row = out
            .ns
            .values()
            .filter(|r| r.min.y <= pa.y && r.max.y >= pa.y && r.max.x >= lo && r.min.x <= hi)
            .fold(pa.y, |y, r| y.max(r.max.y));
        let mut y = row + DETOUR_GAP;
        while taken.iter().any(|t| (t - y).abs() < 1.0) {
            y += DETOUR_GAP;
        }
        taken.push(y);
        out.detours.insert((a, b), vec![pa, pos2(pa.x, y), pos2(pb.x, y), pb]);
    }
}

/// A text's size at zoom 1: (text, font size, monospace) → size. The GUI measures with
/// egui's fonts; a test may too.
pub type Measure<'a> = dyn Fn(&str, f32, bool) -> Vec2 + 'a;

/// The live namespaces, grouped as drawn: by host (`host:sandbox`), else each its own.
fn groups(w: &World) -> BTreeMap<String, Vec<NsId>> {
    let mut g: BTreeMap<String, Vec<NsId>> = BTreeMap::new();
    for n in w.ns.iter().filter(|n| !n.dead) {
        let group = match n.name.split_once(':') {
            Some((h, _)) => h.to_string(),
            None => host_of_plain(w, n.id).unwrap_or_else(|| n.name.clone()),
        };
        g.entry(group).or_default().push(n.id);
    }
    g
}

/// In a Linux lab, the namespace a plain namespace hangs off as a container hangs off its
/// host: every veth of it has its peer on a bridge of that one other namespace (`ns1` and
/// `ns2` on `host`'s `br0`). Not the LAN's switch, whose ports are the hosts themselves, and
/// not a namespace that is itself hung off another.
fn host_of_plain(w: &World, ns: NsId) -> Option<String> {
    let on_bridge_of = |n: NsId| -> Option<NsId> {
        let mut host = None;
        let mut any = false;
        for &d in &w.netns(n).devs {
            let DevKind::Veth { peer, .. } = w.dev(d).kind else { continue };
            let p = w.dev(peer);
            let on_bridge = p.master.is_some_and(|m| matches!(w.dev(m).kind, DevKind::Bridge(_)));
            if !on_bridge || host.is_some_and(|h| h != p.ns) || p.ns == n {
                return None;
            }
            host = Some(p.ns);
            any = true;
        }
        host.filter(|_| any)
    };
    let h = on_bridge_of(ns)?;
    let name = &w.netns(h).name;
    (name != sim_core::director::LAN_NS && !name.contains(':') && on_bridge_of(h).is_none()).then(|| name.clone())
}

/// Devices shown as chips: everything but lo.
pub fn chips(w: &World, ns: NsId) -> Vec<DevId> {
    w.netns(ns).devs.iter().copied().filter(|d| !matches!(w.dev(*d).kind, DevKind::Loopback)).collect()
}

/// The namespace's addresses but loopback, as its box shows them.
fn addrs(w: &World, ns: NsId) -> Vec<String> {
    w.netns(ns).addrs.iter().filter(|a| a.addr.addr.octets()[0] != 127).map(|a| a.addr.to_string()).collect()
}

/// What a namespace's box is titled: its name within its host, and for an overlay
/// namespace the network it serves.
pub fn ns_title(w: &World, names: &DockerNames, ns: NsId) -> String {
    let name = &w.netns(ns).name;
    let short = name.split_once(':').map(|(_, s)| s).unwrap_or(name);
    match names.overlays.get(name) {
        Some((net, _)) => format!("{short} · overlay {net}"),
        None => short.to_string(),
    }
}

/// A device's chip text: its name, and for a bridge the Docker network it carries when that
/// is not its own name (`docker_gwbridge` is both).
pub fn dev_label(w: &World, names: &DockerNames, d: DevId) -> String {
    let dev = w.dev(d);
    let ns = &w.netns(dev.ns).name;
    match names.bridges.get(&(ns.clone(), dev.name.clone())) {
        Some(net) if *net != dev.name => format!("{} · {net}", dev.name),
        _ => dev.name.clone(),
    }
}

/// A namespace's devices in two tiers: the bars (bridges with their ports under them) and
/// the devices beside them on the first tier; ports on the second.
struct Inner {
    /// (device, x offset, width) on the first tier.
    top: Vec<(DevId, f32, f32)>,
    /// (device, x offset, width) on the second tier: bridge ports.
    ports: Vec<(DevId, f32, f32)>,
    width: f32,
}

fn inner(w: &World, names: &DockerNames, ns: NsId, measure: &Measure) -> Inner {
    let devs = chips(w, ns);
    let width_of = |d: DevId| (measure(&dev_label(w, names, d), MONO_FONT, true).x + CHIP_PAD).max(CHIP_MIN_W);
    let is_bridge = |d: DevId| matches!(w.dev(d).kind, DevKind::Bridge(_));
    let port_of = |d: DevId| w.dev(d).master.filter(|m| devs.contains(m) && is_bridge(*m));
    let mut out = Inner { top: Vec::new(), ports: Vec::new(), width: 0.0 };
    let mut x = 0.0;
    // Bridges first, each over its ports (in the order their peers were made, which is the
    // order their containers are placed in below).
    for &b in devs.iter().filter(|&&d| is_bridge(d)) {
        let mut ports: Vec<DevId> = devs.iter().copied().filter(|&d| port_of(d) == Some(b)).collect();
        ports.sort_by_key(|&p| (peer_ns(w, p).map(|n| n.0).unwrap_or(u32::MAX), p.0));
        let mut px = x;
        for &p in &ports {
            let pw = width_of(p);
            out.ports.push((p, px, pw));
            px += pw + CHIP_GAP;
        }
        let span = if ports.is_empty() { 0.0 } else { px - CHIP_GAP - x };
        let bw = width_of(b).max(span);
        out.top.push((b, x, bw));
        x += bw + CHIP_GAP * 2.0;
    }
    for &d in devs.iter().filter(|&&d| !is_bridge(d) && port_of(d).is_none()) {
        let dw = width_of(d);
        out.top.push((d, x, dw));
        x += dw + CHIP_GAP;
    }
    out.width = (x - CHIP_GAP).max(0.0);
    out
}

/// The namespace at a veth's other end.
fn peer_ns(w: &World, d: DevId) -> Option<NsId> {
    match w.dev(d).kind {
        DevKind::Veth { peer, .. } => Some(w.dev(peer).ns),
        _ => None,
    }
}

/// A namespace's box: its size, its devices' arrangement, and its addresses in lines no
/// wider than the rest of the box (a task with three networks would otherwise widen it).
fn ns_box(w: &World, names: &DockerNames, ns: NsId, measure: &Measure) -> (Vec2, Inner, Vec<String>) {
    let inn = inner(w, names, ns, measure);
    let title = measure(&ns_title(w, names, ns), NS_FONT, false).x;
    let room = title.max(inn.width).max(150.0);
    let mut lines: Vec<String> = Vec::new();
    for a in addrs(w, ns) {
        match lines.last_mut() {
            Some(l) if measure(&format!("{l}  {a}"), MONO_FONT, true).x <= room => *l = format!("{l}  {a}"),
            _ => lines.push(a),
        }
    }
    let addr_w = lines.iter().map(|l| measure(l, MONO_FONT, true).x).fold(0.0, f32::max);
    let width = room.max(addr_w) + 2.0 * NS_PAD;
    let tiers =
        if inn.top.is_empty() { 0.0 } else { CHIP_H } + if inn.ports.is_empty() { 0.0 } else { TIER_GAP + CHIP_H };
    let height = NS_TITLE_H + ADDR_H * lines.len() as f32 + 6.0 + tiers + NS_PAD;
    (vec2(width, height), inn, lines)
}

/// Rows of a group, top to bottom. In a Docker host: its own namespace, the sandboxes, the
/// overlay namespaces. Otherwise: BFS depth over veth links from the namespace named like
/// the group (or the one with most links); unlinked namespaces last.
fn rows(w: &World, names: &DockerNames, members: &[NsId], group: &str) -> Vec<Vec<NsId>> {
    let docker_host = members.iter().any(|&n| w.netns(n).name.contains(':'));
    if docker_host {
        let mut r = vec![Vec::new(), Vec::new(), Vec::new()];
        for &n in members {
            let name = &w.netns(n).name;
            let i = if name == group {
                0
            } else if names.overlays.contains_key(name) {
                2
            } else {
                1
            };
            r[i].push(n);
        }
        return r;
    }
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
        rows[depth.get(&n).copied().unwrap_or(max + 1)].push(n);
    }
    rows
}

/// Lays the world out. `pins` are the scenario's `layout:` (namespace → top-left corner).
pub fn layout(w: &World, names: &DockerNames, pins: &BTreeMap<String, (f32, f32)>, measure: &Measure) -> Layout {
    let mut out = Layout::default();
    let all = groups(w);
    let lan = sim_core::director::LAN_NS;
    let boxes: HashMap<NsId, (Vec2, Inner, Vec<String>)> =
        all.values().flatten().map(|&n| (n, ns_box(w, names, n, measure))).collect();
    let cx = Cx { w, names, measure, boxes: &boxes };
    let group_rows: Vec<(&String, Vec<Vec<NsId>>)> =
        all.iter().filter(|(g, _)| g.as_str() != lan).map(|(g, m)| (g, rows(w, names, m, g))).collect();
    // Row i has one height on every host, so that the same kind of namespace lines up.
    let depth = group_rows.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let row_h: Vec<f32> = (0..depth)
        .map(|i| group_rows.iter().filter_map(|(_, r)| r.get(i)).flatten().map(|n| boxes[n].0.y).fold(0.0, f32::max))
        .collect();
    let lan_members = all.get(lan);
    let y0 = lan_members.map(|m| m.iter().map(|n| boxes[n].0.y).fold(0.0, f32::max) + ROW_GAP * 0.8).unwrap_or(0.0);
    let mut x = 0.0;
    for (name, rows) in &group_rows {
        let size = place_group(&cx, rows, &row_h, pos2(x, y0), &mut out);
        let rect = Rect::from_min_size(pos2(x, y0), size);
        let title = format!("host {name}");
        let tsize = measure(&title, GROUP_FONT, false);
        out.labels.push(Label {
            rect: Rect::from_min_size(rect.min + vec2(8.0, (GROUP_TITLE_H - tsize.y) / 2.0), tsize),
            text: title,
            kind: LabelKind::Host,
            owner: None,
        });
        out.groups.push(((*name).clone(), rect));
        x += size.x + GROUP_GAP;
    }
    if let Some(members) = lan_members {
        // The LAN's switch: centred over the hosts.
        let total: f32 = members.iter().map(|n| boxes[n].0.x).sum::<f32>() + NS_GAP * (members.len() - 1) as f32;
        let mut lx = ((x - GROUP_GAP) / 2.0 - total / 2.0).max(0.0);
        for &n in members {
            let s = boxes[&n].0;
            place_ns(&cx, n, Rect::from_min_size(pos2(lx, 0.0), s), false, &mut out);
            lx += s.x + NS_GAP;
        }
    }
    // Pins first: a pinned VTEP's tunnel leaves from where it is drawn.
    pin(w, pins, &mut out);
    out.links = links(w);
    detours(w, &mut out);
    lanes(w, names, measure, &mut out);
    out
}

/// What placing a namespace needs besides where: the world, Docker's names, the text
/// measure and every namespace's box.
struct Cx<'a> {
    w: &'a World,
    names: &'a DockerNames,
    measure: &'a Measure<'a>,
    boxes: &'a HashMap<NsId, (Vec2, Inner, Vec<String>)>,
}

/// Places a group's rows from `at`; returns the group's size.
fn place_group(cx: &Cx, rows: &[Vec<NsId>], row_h: &[f32], at: Pos2, out: &mut Layout) -> Vec2 {
    let (w, boxes) = (cx.w, cx.boxes);
    // Left-aligned first, each namespace ordered under the devices it links to above; then
    // each row centred in the widest.
    let mut placed: Vec<Vec<(NsId, f32)>> = Vec::new();
    let mut y = at.y + GROUP_TITLE_H + 10.0;
    let mut ys = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        ys.push(y);
        if !row.is_empty() {
            y += row_h.get(i).copied().unwrap_or(0.0) + ROW_GAP;
        }
        let mut row = row.clone();
        let key = |n: NsId| -> (f32, u32) {
            let xs: Vec<f32> = w
                .netns(n)
                .devs
                .iter()
                .filter_map(|&d| match w.dev(d).kind {
                    DevKind::Veth { peer, .. } => out.devs.get(&peer).map(|r| r.center().x),
                    _ => None,
                })
                .collect();
            let x = if xs.is_empty() { f32::MAX } else { xs.iter().sum::<f32>() / xs.len() as f32 };
            (x, n.0)
        };
        row.sort_by(|&a, &b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal));
        let mut x = at.x + GROUP_PAD;
        let mut this = Vec::new();
        for n in row {
            let s = boxes[&n].0;
            place_ns(cx, n, Rect::from_min_size(pos2(x, ys[i]), s), i > 0, out);
            this.push((n, x));
            x += s.x + NS_GAP;
        }
        placed.push(this);
    }
    let width_of = |r: &Vec<(NsId, f32)>| {
        r.iter().map(|(n, _)| boxes[n].0.x).sum::<f32>() + NS_GAP * r.len().saturating_sub(1) as f32
    };
    let widest = placed.iter().map(width_of).fold(0.0, f32::max);
    for r in &placed {
        let shift = (widest - width_of(r)) / 2.0;
        for &(n, _) in r {
            shift_ns(w, n, vec2(shift, 0.0), out);
        }
    }
    vec2(widest + 2.0 * GROUP_PAD, y - ROW_GAP - at.y + GROUP_PAD)
}

fn place_ns(cx: &Cx, ns: NsId, r: Rect, below: bool, out: &mut Layout) {
    let (w, names, measure) = (cx.w, cx.names, cx.measure);
    let (_, inn, lines) = &cx.boxes[&ns];
    out.ns.insert(ns, r);
    // A namespace below its host's (a container, a sandbox) without a bridge of its own has
    // its devices on top, facing the links that come down to them; the others keep theirs at
    // the bottom, where their bridges' ports link down.
    let chips_first = below && inn.ports.is_empty();
    let tiers =
        if inn.top.is_empty() { 0.0 } else { CHIP_H } + if inn.ports.is_empty() { 0.0 } else { TIER_GAP + CHIP_H };
    let mut y = if chips_first { r.min.y + NS_PAD + tiers + 3.0 } else { r.min.y + 3.0 };
    let title = ns_title(w, names, ns);
    let size = measure(&title, NS_FONT, false);
    out.labels.push(Label {
        rect: Rect::from_min_size(pos2(r.min.x + NS_PAD, y), size),
        text: title,
        kind: LabelKind::Namespace,
        owner: Some(ns),
    });
    y += NS_TITLE_H;
    for line in lines {
        let size = measure(line, MONO_FONT, true);
        out.labels.push(Label {
            rect: Rect::from_min_size(pos2(r.min.x + NS_PAD, y), size),
            text: line.clone(),
            kind: LabelKind::Addresses,
            owner: Some(ns),
        });
        y += ADDR_H;
    }
    let top_y = if chips_first { r.min.y + NS_PAD } else { y + 6.0 };
    for &(d, x, wd) in &inn.top {
        out.devs.insert(d, Rect::from_min_size(pos2(r.min.x + NS_PAD + x, top_y), vec2(wd, CHIP_H)));
    }
    for &(d, x, wd) in &inn.ports {
        out.devs
            .insert(d, Rect::from_min_size(pos2(r.min.x + NS_PAD + x, top_y + CHIP_H + TIER_GAP), vec2(wd, CHIP_H)));
    }
    for &(d, _, _) in inn.top.iter().chain(&inn.ports) {
        // The text, centred in its chip.
        let text = dev_label(w, names, d);
        let size = measure(&text, MONO_FONT, true);
        out.labels.push(Label {
            rect: Rect::from_center_size(out.devs[&d].center(), size),
            text,
            kind: LabelKind::Device,
            owner: Some(ns),
        });
    }
}

/// Moves a namespace, its devices and its labels.
fn shift_ns(w: &World, ns: NsId, by: Vec2, out: &mut Layout) {
    let Some(r) = out.ns.get_mut(&ns) else { return };
    *r = r.translate(by);
    for d in chips(w, ns) {
        if let Some(c) = out.devs.get_mut(&d) {
            *c = c.translate(by);
        }
    }
    for l in out.labels.iter_mut().filter(|l| l.owner == Some(ns)) {
        l.rect = l.rect.translate(by);
    }
}

/// One lane per VNI under everything, for the tunnels between VTEPs of that VNI.
fn lanes(w: &World, names: &DockerNames, measure: &Measure, out: &mut Layout) {
    // A lone VTEP has no tunnel to draw.
    let mut by_vni: BTreeMap<u32, Vec<DevId>> = BTreeMap::new();
    for &(a, b, kind) in &out.links {
        if let (LinkKind::Vxlan, DevKind::Vxlan(v)) = (kind, &w.dev(a).kind) {
            let v = by_vni.entry(v.vni).or_default();
            for d in [a, b] {
                if !v.contains(&d) && out.devs.contains_key(&d) {
                    v.push(d);
                }
            }
        }
    }
    let bottom = out.groups.iter().map(|(_, r)| r.max.y).fold(0.0, f32::max);
    // Below the veths' detours, if any.
    let bottom = out.detours.values().flatten().map(|p| p.y).fold(bottom, f32::max);
    let mut y = bottom + LANE_GAP;
    for (vni, mut vteps) in by_vni {
        if vteps.is_empty() {
            continue;
        }
        vteps.sort_by(|a, b| out.devs[a].center().x.total_cmp(&out.devs[b].center().x));
        let x0 = out.devs[&vteps[0]].center().x;
        let x1 = out.devs[vteps.last().unwrap_or(&vteps[0])].center().x;
        let overlay =
            vteps.iter().find_map(|&d| names.overlays.get(&w.netns(w.dev(d).ns).name)).map(|(n, _)| n.clone());
        let text = match overlay {
            Some(n) => format!("VXLAN {vni} · overlay {n}"),
            None => format!("VXLAN {vni}"),
        };
        let size = measure(&text, LANE_FONT, false);
        out.labels.push(Label {
            rect: Rect::from_min_size(pos2(x0 + 6.0, y + 2.0), size),
            text,
            kind: LabelKind::Lane,
            owner: None,
        });
        out.lanes.push(Lane { vni, y, x0, x1: x1.max(x0 + size.x + 12.0), vteps });
        y += LANE_GAP;
    }
}

/// The scenario's pins: a namespace box, its chips and its labels move to the given corner.
fn pin(w: &World, pins: &BTreeMap<String, (f32, f32)>, out: &mut Layout) {
    for (name, (px, py)) in pins {
        let Some(ns) = w.ns_by_name(name) else { continue };
        let Some(r) = out.ns.get(&ns).copied() else { continue };
        shift_ns(w, ns, pos2(*px, *py) - r.min, out);
    }
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
                    // Once per pair: from the lower id, or from this one when only it knows
                    // the other (a tunnel configured one way).
                    let other_knows = vxlan_peers(w, remote, v.vni).contains(&d.id);
                    if d.id < remote || !other_knows {
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
pub fn vxlan_peers(w: &World, dev: DevId, vni: u32) -> Vec<DevId> {
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
