//! The GUI driven headless through egui_kittest, as a student would use it: open the
//! tutorial, step, select a VXLAN frame and read its inner frame and why, step back, export.

use std::path::{Path, PathBuf};
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use netsim_gui::NetsimApp;

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The app with challenge mode off: these tests run labs through, and the quiz's stops are
/// tested in `quiz.rs`.
fn harness(mut app: NetsimApp) -> Harness<'static, NetsimApp> {
    if let Some(s) = app.session.as_mut() {
        s.challenge.on = false;
    }
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut NetsimApp| app.ui(ui), app);
    h.run_steps(2);
    h
}

/// Every text on screen (a label's or button's value or label) containing `text`.
fn texts(h: &Harness<'_, NetsimApp>, text: &str) -> Vec<String> {
    let text = text.to_string();
    h.query_all_by(move |n| {
        matches!(n.role(), Role::Label | Role::Button | Role::Link | Role::DisclosureTriangle)
            && (n.value().is_some_and(|v| v.contains(&text)) || n.label().is_some_and(|v| v.contains(&text)))
    })
    .filter_map(|n| n.accesskit_node().value().or_else(|| n.accesskit_node().label()))
    .collect()
}

fn on_screen(h: &Harness<'_, NetsimApp>, text: &str) -> bool {
    !texts(h, text).is_empty()
}

/// "N of M records" from the event list.
fn records_shown(h: &Harness<'_, NetsimApp>) -> (usize, usize) {
    let text = texts(h, " records").into_iter().find(|t| t.contains(" of ")).expect("the event list's count");
    let mut it = text.split_whitespace();
    let shown = it.next().and_then(|n| n.parse().ok()).expect("N");
    let total = it.nth(1).and_then(|n| n.parse().ok()).expect("M");
    (shown, total)
}

/// A scratch folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsim-gui-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tshark ({e}): install it (apt-get install tshark); CI does"));
    assert!(out.status.success(), "tshark {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn step_grows_the_event_list_and_back_restores_it() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    assert_eq!(h.state().session.as_ref().unwrap().position(), 0);
    // The first events are the swarm's commands: run to the first frames.
    h.get_by_label("Next step").click();
    h.run_steps(2);
    let (_, before) = records_shown(&h);
    let mut grew = false;
    for _ in 0..40 {
        h.get_by_label("Step").click();
        h.run_steps(2);
        if records_shown(&h).1 > before {
            grew = true;
            break;
        }
    }
    assert!(grew, "stepping adds records to the event list");
    let pos = h.state().session.as_ref().unwrap().position();
    let (_, after) = records_shown(&h);
    h.get_by_label("Back").click();
    h.run_steps(2);
    assert_eq!(h.state().session.as_ref().unwrap().position(), pos - 1);
    let (_, back) = records_shown(&h);
    assert!(back < after, "one event back, its records are gone again ({back} vs {after})");
    // The label of the timeline tells where we are.
    assert!(on_screen(&h, &format!("event {} / ", pos - 1)));
}

#[test]
fn a_vxlan_frame_shows_its_inner_frame_and_why() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.get_by_label("End").click();
    h.run_steps(2);
    assert!(h.state().session.as_ref().unwrap().at_end());
    // Filter the list down to VXLAN frames leaving vxlan0's underlay, then click the first.
    h.state_mut().view.filter.protocol = "VXLAN".into();
    h.run_steps(2);
    let (shown, total) = records_shown(&h);
    assert!(shown > 0 && shown < total, "VXLAN filter: {shown} of {total}");
    h.get_all_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l.contains(" out ") && l.contains("VXLAN")))
        .next()
        .expect("a VXLAN line leaving a device")
        // A long line's centre lies past the column's edge, where a pointer click would miss.
        .click_accesskit();
    h.run_steps(2);
    let rec = h.state().view.record.expect("clicking a line selects its record");
    let w = h.state().session.as_ref().unwrap().sim.records();
    assert!(w[rec].frame.is_some());
    // The inspector: the outer VXLAN layer, the inner Ethernet/IPv4 marked inner, and why.
    assert!(on_screen(&h, "VXLAN"), "the VXLAN layer");
    assert!(texts(&h, "(inner)").len() >= 2, "inner Ethernet and IPv4 layers: {:?}", texts(&h, "(inner)"));
    assert!(on_screen(&h, "Why this hop"));
    assert!(on_screen(&h, "route: "), "the route that sent it is among the reasons");
    // The hop that led here (the encapsulation in the overlay namespace) is one click away.
    h.get_all_by(|n| n.label().is_some_and(|l| l.starts_with("caused by event")))
        .next()
        .expect("cause link")
        .click_accesskit();
    h.run_steps(2);
    let cause = h.state().view.record.expect("the cause is selected");
    let w = h.state().session.as_ref().unwrap().sim.records();
    assert_eq!(Some(w[cause].event), w[rec].cause, "the selected hop is the one that led here");
    assert!(cause < rec);
}

#[test]
fn export_writes_a_pcapng_that_tshark_reads_whole() {
    let dir = scratch("export");
    let all = dir.join("all.pcapng");
    let mysql = dir.join("mysql.pcapng");
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.get_by_label("End").click();
    h.run_steps(2);
    h.state_mut().view.export_path = all.display().to_string();
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export pcapng (all)").click();
    h.run_steps(2);
    assert!(h.state().view.status.starts_with("exported "), "{}", h.state().view.status);
    let frames = tshark(&["-r", all.to_str().unwrap(), "-T", "fields", "-e", "frame.number"]).lines().count();
    assert!(frames > 500, "the whole run: {frames} frames");
    let malformed = tshark(&["-r", all.to_str().unwrap(), "-Y", "_ws.malformed"]);
    assert!(malformed.trim().is_empty(), "{malformed}");
    let vxlan = tshark(&[
        "-r",
        all.to_str().unwrap(),
        "-Y",
        "vxlan.vni == 4097 && mysql",
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
    ]);
    assert!(!vxlan.trim().is_empty(), "MySQL inside VXLAN VNI 4097");

    // Filtered: only what the list shows.
    h.state_mut().view.filter.protocol = "MySQL".into();
    h.state_mut().view.export_path = mysql.display().to_string();
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export pcapng (filtered)").click();
    h.run_steps(2);
    let rows = tshark(&[
        "-r",
        mysql.to_str().unwrap(),
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
        "-T",
        "fields",
        "-e",
        "_ws.col.Protocol",
    ]);
    assert!(rows.lines().count() > 10);
    assert!(rows.lines().all(|p| p == "MySQL"), "every exported frame is MySQL:\n{rows}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_file_shows_its_error_in_the_app_and_keeps_the_run() {
    let dir = scratch("bad");
    let file = dir.join("lab.ron");
    std::fs::copy(scenario("scenarios/linux/bridge-two-namespaces.ron"), &file).unwrap();
    let mut h = harness(NetsimApp::open(&file));
    assert!(h.state().error.is_none());
    // The instructor saves a typo: the app says where, and the last good run stays.
    let text = std::fs::read_to_string(&file).unwrap().replacen("name:", "nmae:", 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, text).unwrap();
    h.state_mut().reload_if_changed();
    h.run_steps(2);
    let e = h.state().error.clone().expect("the error is shown");
    assert!(e.to_string().contains("lab.ron:") && e.line > 0 && e.col > 0, "{e}");
    assert!(on_screen(&h, "error: "), "the error is on screen");
    assert!(h.state().session.is_some());
    // Fixed again: reloaded.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::copy(scenario("scenarios/linux/bridge-two-namespaces.ron"), &file).unwrap();
    h.state_mut().reload_if_changed();
    h.run_steps(2);
    assert!(h.state().error.is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_shipped_scenario_opens_and_runs_to_the_end() {
    let app = NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron"));
    let shipped = app.view.shipped.clone();
    assert!(shipped.len() >= 14, "{shipped:?}");
    for p in shipped {
        let mut h = harness(NetsimApp::open(&p));
        assert!(h.state().error.is_none(), "{}: {:?}", p.display(), h.state().error);
        h.get_by_label("End").click();
        h.run_steps(2);
        let s = h.state_mut().session.as_mut().unwrap();
        assert_eq!(s.position(), s.total_events, "{}", p.display());
        // The precomputed end is the real one: nothing is left to run (`until` included).
        assert!(s.step().is_none(), "{}", p.display());
    }
}

/// A GUI started on a broken file shows the error, and loads the file once it is fixed.
#[test]
fn a_file_broken_at_start_loads_once_it_is_fixed() {
    let dir = scratch("broken-start");
    let file = dir.join("lab.ron");
    let good = std::fs::read_to_string(scenario("scenarios/linux/bridge-two-namespaces.ron")).unwrap();
    std::fs::write(&file, good.replacen("name:", "nmae:", 1)).unwrap();
    let mut h = harness(NetsimApp::open(&file));
    assert!(h.state().session.is_none());
    assert!(on_screen(&h, "error: "), "the error is on screen");
    // Unchanged: nothing is read again.
    h.state_mut().reload_if_changed();
    assert!(h.state().session.is_none() && h.state().error.is_some());
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, &good).unwrap();
    h.state_mut().reload_if_changed();
    h.run_steps(2);
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    assert!(h.state().session.is_some());
    assert!(!on_screen(&h, "error: "));
    std::fs::remove_dir_all(&dir).ok();
}

/// A panic inside the simulator shows in the window; the window and the run stay.
#[test]
fn a_simulator_panic_is_shown_in_the_window_not_a_crash() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/linux/bridge-two-namespaces.ron")));
    let s = h.state_mut().session.as_mut().unwrap();
    s.go_to(10);
    s.sim.world.user.apps.clear();
    h.get_by_label("End").click();
    h.run_steps(2);
    assert!(on_screen(&h, "error: the simulator failed on event"), "the fault is on screen");
    // Stepping back still works.
    h.get_by_label("Back").click();
    h.run_steps(2);
    let s = h.state().session.as_ref().unwrap();
    let f = s.fault.clone().expect("the fault stays");
    assert_eq!(s.position() + 1, f.at_events, "{f}");
}

/// "lesson only" hides the housekeeping `netsim run --brief` leaves out: dockerd's unsolicited
/// ARPs, and loopback traffic and deliveries that no iptables or IPVS decision touched.
#[test]
fn lesson_only_hides_the_housekeeping() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/docker/default-vs-user-bridge.ron")));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    h.run_steps(2);
    let (all, total) = records_shown(&h);
    // Counted from the records' own words: what the list keeps with "lesson only" on.
    let kept = {
        let s = h.state().session.as_ref().unwrap();
        let w = &s.sim.world;
        s.sim
            .records()
            .iter()
            .filter(|r| {
                let text: Vec<String> = r.why.iter().map(|y| y.show(w).to_string()).collect();
                let decided =
                    text.iter().any(|t| t.starts_with("filter/") || t.starts_with("nat/") || t.starts_with("IPVS"))
                        || r.why.iter().any(|y| matches!(y, sim_core::kernel::trace::Why::Netfilter { .. }));
                let lo = r.dev.is_some_and(|d| w.dev(d).name == "lo");
                let announced = text.iter().any(|t| t.contains("unsolicited ARP"));
                let deliver = r.dir == sim_core::kernel::trace::Dir::Deliver;
                r.dir != sim_core::kernel::trace::Dir::Rx && !announced && (decided || !(lo || deliver))
            })
            .count()
    };
    h.get_by_label("lesson only").click();
    h.run_steps(2);
    let (lesson, total2) = records_shown(&h);
    assert_eq!(total, total2);
    assert!(lesson < all, "{lesson} of {all}");
    assert_eq!(lesson, kept);
}

/// The text filter finds frames by what they carry, not only by their summary line, as
/// Wireshark's `frame matches` does: the frames the list keeps for "insert into" (exported as
/// the list shows them) are exactly those tshark finds the text in, in an export of them all.
#[test]
fn the_text_filter_searches_payloads() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    let dir = scratch("search");
    let (all, found) = (dir.join("all.pcapng"), dir.join("found.pcapng"));
    let s = h.state().session.as_ref().unwrap();
    netsim_gui::export::write_pcapng(&all, s, None, false).expect("export all");
    let filter = netsim_gui::app::EventFilter { text: "INSERT into".into(), arrivals: true, ..Default::default() };
    let n = netsim_gui::export::write_pcapng(&found, s, Some(&filter), false).expect("export the found");
    let query = "frame matches \"(?i)insert into\"";
    let count = |p: &std::path::Path, f: &str| tshark(&["-r", p.to_str().expect("utf-8"), "-Y", f]).lines().count();
    assert!(n > 0, "no frame found");
    assert_eq!(n, count(&all, query), "the list and tshark find the query in as many frames");
    assert_eq!(count(&found, query), n, "every frame found carries it");
    assert!(count(&found, "vxlan") > 0, "inside VXLAN too");
    std::fs::remove_dir_all(&dir).ok();
}

/// One moment, one number: the top bar, the inspector, the event list and `--at` count events
/// as the hop log numbers them (`netsim run` prints the tutorial's first VXLAN packet on the
/// underlay as `#120←119 node1/eth0 ▶ … vni 4097 | …`).
#[test]
fn the_top_bar_the_inspector_and_the_event_list_number_an_event_alike() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.state_mut().session.as_mut().unwrap().go_to(120);
    h.run_steps(2);
    assert!(on_screen(&h, "event 120 / 377"), "{:?}", texts(&h, "event "));
    let inspector = texts(&h, "event #120 · ");
    assert!(inspector.iter().any(|t| t.ends_with("left node1/eth0")), "{inspector:?}");
    // The list shows the rows around the selected one.
    let recs = h.state().session.as_ref().unwrap().sim.records();
    let first = recs
        .iter()
        .position(|r| r.event.0 == 120 && r.dir == sim_core::kernel::trace::Dir::Tx)
        .expect("event 120's frame");
    h.state_mut().view.record = Some(first);
    h.state_mut().view.scroll_to_record = true;
    h.run_steps(3);
    let rows = texts(&h, " #120 node1/eth0 out ");
    assert!(rows.iter().any(|t| t.contains("vni 4097")), "{rows:?}");
    assert!(on_screen(&h, "caused by event #119"));
}

/// A reason Docker made is said in Docker's nouns under the kernel's words.
#[test]
fn the_inspector_names_the_service_vip_that_balanced_a_hop() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    let s = h.state().session.as_ref().unwrap();
    let w = &s.sim.world;
    let rec = s
        .sim
        .records()
        .iter()
        .position(|r| {
            w.netns(r.ns).name.ends_with("lb-myoverlaynetwork")
                && r.why.iter().any(|y| matches!(y, sim_core::kernel::trace::Why::Ipvs(_)))
        })
        .expect("a hop IPVS decided in lb-myoverlaynetwork");
    h.state_mut().view.record = Some(rec);
    h.run_steps(2);
    assert!(on_screen(&h, "Docker: service mysql's VIP"), "{:?}", texts(&h, "Docker:"));
}

/// "Export pcapng (each packet once)": Wireshark's TCP analysis flags no retransmission in it,
/// where the full capture's later copies of each segment look like ones; the MySQL queries
/// are all there.
#[test]
fn export_once_has_no_false_retransmissions_for_wireshark() {
    let dir = scratch("once");
    let (all, once) = (dir.join("all.pcapng"), dir.join("once.pcapng"));
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.get_by_label("End").click();
    h.run_steps(2);
    for (path, button) in [(&all, "Export pcapng (all)"), (&once, "Export pcapng (each packet once)")] {
        h.state_mut().view.export_path = path.display().to_string();
        h.get_by_label("File").click();
        h.run_steps(2);
        h.get_by_label(button).click();
        h.run_steps(2);
        assert!(h.state().view.status.starts_with("exported "), "{}", h.state().view.status);
    }
    let retrans = "tcp.analysis.retransmission || tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order";
    let count = |p: &Path, f: &str| tshark(&["-r", p.to_str().unwrap(), "-Y", f]).lines().count();
    assert!(count(&all, retrans) > 0, "the full capture's copies look like retransmissions");
    assert_eq!(count(&once, retrans), 0, "{}", tshark(&["-r", once.to_str().unwrap(), "-Y", retrans]));
    let queries = |p: &Path| {
        let out = tshark(&["-r", p.to_str().unwrap(), "-Y", "mysql.query", "-T", "fields", "-e", "mysql.query"]);
        out.lines().map(str::to_string).collect::<std::collections::BTreeSet<_>>()
    };
    assert!(!queries(&all).is_empty());
    assert_eq!(queries(&once), queries(&all));
    std::fs::remove_dir_all(&dir).ok();
}

/// `FIELD=VALUE` in the text filter finds frames by a field as the inspector names it: as many
/// as tshark finds with the same field in the whole capture, and only those.
#[test]
fn the_text_filter_searches_by_protocol_field() {
    let mut h = harness(NetsimApp::open(&scenario("scenarios/swarm-webapp-mysql.ron")));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    let dir = scratch("field");
    let all = dir.join("all.pcapng");
    let s = h.state().session.as_ref().unwrap();
    netsim_gui::export::write_pcapng(&all, s, None, false).expect("export all");
    let count = |p: &std::path::Path, f: &str| tshark(&["-r", p.to_str().expect("utf-8"), "-Y", f]).lines().count();
    for (text, display_filter) in [
        ("vni=4097", "vxlan.vni == 4097"),
        ("Destination Port == 3306", "tcp.dstport == 3306 || udp.dstport == 3306"),
        // A number is the number: 8001, the published port, is not 80.
        ("Destination Port=80", "tcp.dstport == 80 || udp.dstport == 80"),
        // No field is called course_name: the form's text is found where it is carried.
        ("course_name=Docker", "frame contains \"course_name=Docker\""),
    ] {
        let found = dir.join("found.pcapng");
        let filter = netsim_gui::app::EventFilter { text: text.into(), arrivals: true, ..Default::default() };
        let n = netsim_gui::export::write_pcapng(&found, s, Some(&filter), false).expect("export the found");
        assert!(n > 0 || text.ends_with("=80"), "{text}: no frame found");
        assert_eq!(n, count(&all, display_filter), "{text}: the list and tshark ({display_filter}) find as many");
        assert_eq!(count(&found, display_filter), n, "{text}: every frame found has the field");
    }
    // In the list itself.
    h.state_mut().view.filter.text = "vni=4097".into();
    h.run_steps(2);
    let (shown, total) = records_shown(&h);
    assert!(shown > 0 && shown < total, "{shown} of {total}");
    std::fs::remove_dir_all(&dir).ok();
}
