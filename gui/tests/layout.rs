//! The topology as a student sees it, drawn headless through egui_kittest at a laptop's
//! 1280×720 and at 1600×1000, for every shipped lab at its last event: everything inside the
//! panel, no label over another, each bridge's ports under it, Docker's names on what the
//! kernel names otherwise; and the keyboard.

use std::path::{Path, PathBuf};

use egui::Rect;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use netsim_gui::NetsimApp;
use netsim_gui::layout::{self, LabelKind};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(path: &Path, size: egui::Vec2, to_end: bool) -> Harness<'static, NetsimApp> {
    let mut app = NetsimApp::open(path);
    assert!(app.error.is_none(), "{}: {:?}", path.display(), app.error);
    if let Some(s) = app.session.as_mut() {
        s.challenge.on = false;
        if to_end {
            s.run_to_end();
        }
    }
    let mut h = Harness::builder().with_size(size).build_ui_state(|ui, app: &mut NetsimApp| app.ui(ui), app);
    h.run_steps(3);
    h
}

/// Two rectangles that share more than a hairline.
fn overlap(a: Rect, b: Rect) -> bool {
    a.shrink(0.5).intersects(b.shrink(0.5))
}

#[test]
fn every_shipped_lab_fits_without_overlapping_labels_at_both_sizes() {
    let labs = netsim_gui::app::shipped_scenarios(&root().join("scenarios").join("x.ron"));
    assert!(labs.len() >= 15, "the shipped labs: {labs:?}");
    for size in [egui::vec2(1280.0, 720.0), egui::vec2(1600.0, 1000.0)] {
        for lab in &labs {
            let h = harness(lab, size, true);
            let d = &h.state().view.drawn;
            let what = format!("{} at {}×{}", lab.display(), size.x, size.y);
            assert!(d.area.is_positive() && d.area.width() > 300.0 && d.area.height() > 150.0, "{what}: {:?}", d.area);
            assert!(!d.labels.is_empty(), "{what}: nothing drawn");
            for (r, text) in &d.labels {
                assert!(d.area.expand(0.5).contains_rect(*r), "{what}: `{text}` at {r:?} outside {:?}", d.area);
            }
            for b in &d.boxes {
                assert!(d.area.expand(0.5).contains_rect(*b), "{what}: a box at {b:?} outside {:?}", d.area);
            }
            for (i, (a, ta)) in d.labels.iter().enumerate() {
                for (b, tb) in &d.labels[i + 1..] {
                    assert!(!overlap(*a, *b), "{what}: `{ta}` {a:?} overlaps `{tb}` {b:?}");
                }
            }
        }
    }
}

/// The layout of a lab at its end, measured with egui's own fonts.
fn laid_out(rel: &str) -> (netsim_gui::state::Session, layout::Layout) {
    laid_out_session(netsim_gui::state::Session::open(&root().join(rel)).expect("loads"))
}

fn laid_out_session(mut s: netsim_gui::state::Session) -> (netsim_gui::state::Session, layout::Layout) {
    s.challenge.on = false;
    s.run_to_end();
    let ctx = egui::Context::default();
    let mut lay = None;
    let mut out = ctx.run_ui(Default::default(), |ui| {
        let p = ui.painter().clone();
        let measure = |t: &str, size: f32, mono: bool| {
            let f = if mono { egui::FontId::monospace(size) } else { egui::FontId::proportional(size) };
            p.layout_no_wrap(t.to_string(), f, egui::Color32::WHITE).size()
        };
        let names = s.sim.director.as_ref().map(|d| d.docker_names()).unwrap_or_default();
        lay = Some(layout::layout(&s.sim.world, &names, &s.loaded.scenario.layout, &measure));
    });
    out.textures_delta.clear();
    (s, lay.expect("laid out"))
}

#[test]
fn each_port_hangs_under_its_bridge_and_chips_do_not_overlap() {
    for rel in [
        "scenarios/docker/default-vs-user-bridge.ron",
        "scenarios/swarm-webapp-mysql.ron",
        "scenarios/linux/bridge-two-namespaces.ron",
    ] {
        let (s, lay) = laid_out(rel);
        let w = &s.sim.world;
        let mut ports = 0;
        for (&d, r) in &lay.devs {
            let dev = w.dev(d);
            let Some(m) = dev.master else { continue };
            let bar = lay.devs[&m];
            assert!(r.min.y > bar.max.y, "{rel}: {} is not under {}", dev.name, w.dev(m).name);
            assert!(
                r.center().x >= bar.min.x && r.center().x <= bar.max.x,
                "{rel}: {} ({r:?}) is not under its bridge {} ({bar:?})",
                dev.name,
                w.dev(m).name
            );
            ports += 1;
        }
        assert!(ports >= 2, "{rel}: {ports} bridge ports");
        let chips: Vec<_> = lay.devs.values().collect();
        for (i, a) in chips.iter().enumerate() {
            for b in &chips[i + 1..] {
                assert!(!overlap(**a, **b), "{rel}: chips {a:?} and {b:?} overlap");
            }
        }
    }
}

#[test]
fn bridges_and_overlay_namespaces_carry_dockers_names() {
    let (s, lay) = laid_out("scenarios/docker/default-vs-user-bridge.ron");
    let d = s.sim.director.as_ref().expect("a Docker lab");
    // The user bridge's device is what `docker network inspect` says its ID begins with.
    let json: serde_json::Value =
        serde_json::from_str(&d.inspect_network("host1", "appnet").expect("appnet")).expect("json");
    let id = json[0]["Id"].as_str().expect("Id");
    let dev = format!("br-{} · appnet", &id[..12]);
    assert!(lay.labels.iter().any(|l| l.kind == LabelKind::Device && l.text == dev), "no chip `{dev}`");
    assert!(lay.labels.iter().any(|l| l.kind == LabelKind::Device && l.text == "docker0 · bridge"));

    let (s, lay) = laid_out("scenarios/swarm-webapp-mysql.ron");
    let d = s.sim.director.as_ref().expect("a Docker lab");
    let json: serde_json::Value =
        serde_json::from_str(&d.inspect_network("node1", "myoverlaynetwork").expect("overlay")).expect("json");
    let vni: u32 = json[0]["Options"]["com.docker.network.driver.overlay.vxlanid_list"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("the overlay's VXLAN ID");
    let lanes: Vec<&str> = lay.labels.iter().filter(|l| l.kind == LabelKind::Lane).map(|l| l.text.as_str()).collect();
    assert_eq!(lanes, ["VXLAN 4096 · overlay ingress".to_string(), format!("VXLAN {vni} · overlay myoverlaynetwork")]);
    // One lane per VNI, each joining that network's VTEPs on both nodes.
    for lane in &lay.lanes {
        assert_eq!(lane.vteps.len(), 2, "VNI {}: {:?}", lane.vni, lane.vteps);
        let hosts: Vec<&str> = lane
            .vteps
            .iter()
            .map(|&v| s.sim.world.netns(s.sim.world.dev(v).ns).name.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(hosts, ["node1", "node2"]);
    }
    // Each node's overlay namespace is titled by its network, and they line up.
    let titles: Vec<(&str, f32)> = lay
        .labels
        .iter()
        .filter(|l| l.kind == LabelKind::Namespace && l.text.ends_with("overlay myoverlaynetwork"))
        .map(|l| (l.text.as_str(), l.rect.min.y))
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert_eq!(titles[0].1, titles[1].1, "{titles:?}");
}

#[test]
fn the_keyboard_steps_plays_and_jumps_but_not_while_typing() {
    let mut h = harness(&root().join("scenarios/docker/default-vs-user-bridge.ron"), egui::vec2(1280.0, 720.0), false);
    let pos = |h: &Harness<'_, NetsimApp>| h.state().session.as_ref().map(|s| s.position()).unwrap_or(0);
    assert_eq!(pos(&h), 0);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(pos(&h), 1);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    h.key_press(egui::Key::ArrowLeft);
    h.run_steps(2);
    assert_eq!(pos(&h), 1);
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert!(h.state().session.as_ref().is_some_and(|s| s.at_end()));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(pos(&h), 0);
    h.key_press(egui::Key::Space);
    h.run_steps(2);
    assert!(h.state().view.playing, "space plays");
    h.key_press(egui::Key::Space);
    h.run_steps(2);
    assert!(!h.state().view.playing, "space pauses");
    // In the console's command field the arrows and space are text, not the timeline's.
    let at = pos(&h);
    h.get_by_label("Command").focus();
    h.run_steps(2);
    h.key_press(egui::Key::ArrowRight);
    h.key_press(egui::Key::Space);
    h.run_steps(2);
    assert_eq!(pos(&h), at);
    assert!(!h.state().view.playing);
}

#[test]
fn the_light_theme_is_one_click_away() {
    let mut h = harness(&root().join("scenarios/docker/default-vs-user-bridge.ron"), egui::vec2(1280.0, 720.0), false);
    assert_eq!(h.ctx.theme(), egui::Theme::Dark);
    h.get_by_label("Light").click();
    h.run_steps(2);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
    h.get_by_label("Dark").click();
    h.run_steps(2);
    assert_eq!(h.ctx.theme(), egui::Theme::Dark);
}

#[test]
fn the_topology_fits_again_after_a_pan_when_asked() {
    let mut h = harness(&root().join("scenarios/docker/default-vs-user-bridge.ron"), egui::vec2(1280.0, 720.0), true);
    let fitted = (h.state().view.zoom, h.state().view.pan);
    h.state_mut().view.pan += egui::vec2(300.0, 120.0);
    h.state_mut().view.fitted = false;
    h.run_steps(2);
    assert_ne!(h.state().view.pan, fitted.1);
    h.get_by_label("Fit").click();
    h.run_steps(3);
    assert_eq!((h.state().view.zoom, h.state().view.pan), fitted);
}

/// The instructor's `layout:` pin wins: the namespace's box is where the file says, and its
/// devices and labels went with it.
#[test]
fn a_pinned_namespace_is_where_the_scenario_says() {
    let text = std::fs::read_to_string(root().join("scenarios/linux/bridge-two-namespaces.ron")).expect("the lab");
    let text = text.replacen("seed: 1,", "seed: 1,\n    layout: {\"ns2\": (900, 500)},", 1);
    let (s, lay) = laid_out_session(netsim_gui::state::Session::from_text("pinned.ron", &text).expect("loads"));
    let w = &s.sim.world;
    let ns2 = w.ns_by_name("ns2").expect("ns2");
    let r = lay.ns[&ns2];
    assert_eq!(r.min, egui::pos2(900.0, 500.0));
    let eth0 = w.dev_by_name(ns2, "eth0").expect("eth0");
    assert!(r.contains_rect(lay.devs[&eth0]), "{:?} outside {r:?}", lay.devs[&eth0]);
    for l in lay.labels.iter().filter(|l| l.owner == Some(ns2)) {
        assert!(r.contains_rect(l.rect), "`{}` {:?} outside {r:?}", l.text, l.rect);
    }
}

/// In a Linux lab, namespaces whose veths end on one namespace's bridge are drawn inside that
/// namespace's host, under it; a chain of routers stays a row of hosts.
#[test]
fn linux_namespaces_on_a_hosts_bridge_are_drawn_in_that_host() {
    let (s, lay) = laid_out("scenarios/linux/vxlan-two-hosts.ron");
    let names: Vec<&str> = lay.groups.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["host1", "host2"]);
    let w = &s.sim.world;
    for (c, host) in [("c1", "host1"), ("c2", "host2")] {
        let group = lay.groups.iter().find(|(n, _)| n == host).map(|(_, r)| *r).expect("the host");
        let r = lay.ns[&w.ns_by_name(c).expect(c)];
        assert!(group.contains_rect(r), "{c} {r:?} outside {host} {group:?}");
        assert!(r.min.y > lay.ns[&w.ns_by_name(host).expect(host)].max.y, "{c} is under {host}");
    }
    let (_, lay) = laid_out("scenarios/linux/router-nat.ron");
    let names: Vec<&str> = lay.groups.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["lan1", "router", "server"]);
}

/// At a laptop's 1280×720 the controls a student needs are on screen whole: the console's
/// field and its Run button, the topology's Fit, the playback buttons.
#[test]
fn the_controls_fit_a_laptop_window() {
    let h = harness(&root().join("scenarios/swarm-webapp-mysql.ron"), egui::vec2(1280.0, 720.0), false);
    let window = Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 720.0));
    for label in ["Run", "Command", "Fit", "Step", "Play", "End", "Light"] {
        let r = h.get_by_label(label).rect();
        assert!(window.contains_rect(r) && r.is_positive(), "`{label}` at {r:?}, outside the window");
    }
    // The console's row ends before the inspector begins, whose panel would take the click.
    let inspector = h.get_by_label("Inspector").rect().min.x;
    for label in ["Run", "Command", "Fit"] {
        let r = h.get_by_label(label).rect();
        assert!(r.max.x <= inspector, "`{label}` at {r:?} runs under the inspector (x = {inspector})");
    }
}

/// A veth's line along a row crosses no device and no namespace but its own ends': where
/// the straight line would (a namespace linked to two others in a row, as in the `ping -I`
/// lab), it goes round under its row, and two such detours never share a line.
#[test]
fn a_veth_line_crosses_no_other_device_or_namespace() {
    let mut labs = netsim_gui::app::shipped_scenarios(&root().join("scenarios").join("x.ron"));
    labs.push(root().join("traces/kernel/linux/ping-bind.ron"));
    let mut detoured = 0;
    for lab in &labs {
        let rel = lab.strip_prefix(root()).unwrap_or(lab).to_string_lossy().to_string();
        let (s, lay) = laid_out(&rel);
        let w = &s.sim.world;
        for &(a, b, kind) in &lay.links {
            let (Some(ra), Some(rb)) = (lay.devs.get(&a), lay.devs.get(&b)) else { continue };
            if kind != layout::LinkKind::Veth || (ra.center().y - rb.center().y).abs() > layout::CHIP_H {
                continue;
            }
            let Some(path) = lay.path(w, a, b) else { continue };
            let (na, nb) = (w.dev(a).ns, w.dev(b).ns);
            for seg in path.windows(2) {
                for i in 1..64 {
                    let p = seg[0].lerp(seg[1], i as f32 / 64.0);
                    for (&d, r) in &lay.devs {
                        assert!(
                            d == a || d == b || !r.shrink(1.0).contains(p),
                            "{rel}: {} – {} crosses {}",
                            w.dev_path(a),
                            w.dev_path(b),
                            w.dev_path(d)
                        );
                    }
                    for (&n, r) in &lay.ns {
                        assert!(
                            n == na || n == nb || !r.shrink(1.0).contains(p),
                            "{rel}: {} – {} crosses namespace {}",
                            w.dev_path(a),
                            w.dev_path(b),
                            w.netns(n).name
                        );
                    }
                }
            }
            detoured += usize::from(path.len() > 2);
        }
        let lows: Vec<f32> = lay.detours.values().map(|p| p[1].y).collect();
        for (i, y) in lows.iter().enumerate() {
            assert!(!lows[i + 1..].contains(y), "{rel}: two detours on one line at y = {y}");
        }
    }
    assert!(detoured >= 2, "the ping -I lab's two links of a go round");
}
