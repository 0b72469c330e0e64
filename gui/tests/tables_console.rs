//! The device tables and the Docker console, driven headless through the whole app on the
//! default-vs-user-bridge lab: what a student reads in each tab, and what typing a command does.

use std::path::Path;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use netsim_gui::NetsimApp;
use netsim_gui::app::TableTab;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/docker/default-vs-user-bridge.ron");

fn open(path: &str) -> Harness<'static, NetsimApp> {
    let app = NetsimApp::open(Path::new(path));
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut NetsimApp| app.ui(ui), app);
    settle(&mut h);
    h
}

fn settle(h: &mut Harness<'_, NetsimApp>) {
    h.run_steps(3);
}

/// The lab, run to its end.
fn lab_at_end() -> Harness<'static, NetsimApp> {
    let mut h = open(LAB);
    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    h
}

/// Every text on screen (a label's value) containing `text`.
fn texts(h: &Harness<'_, NetsimApp>, text: &str) -> Vec<String> {
    let text = text.to_string();
    h.query_all_by(move |n| n.role() == Role::Label && n.value().is_some_and(|v| v.contains(&text)))
        .filter_map(|n| n.accesskit_node().value())
        .collect()
}

/// The one text on screen containing all of `parts`.
fn text_with(h: &Harness<'_, NetsimApp>, parts: &[&str]) -> String {
    let found: Vec<String> = texts(h, parts[0]).into_iter().filter(|t| parts.iter().all(|p| t.contains(p))).collect();
    assert!(
        !found.is_empty(),
        "no text on screen contains all of {parts:?}; with {:?}: {:#?}",
        parts[0],
        texts(h, parts[0])
    );
    found[0].clone()
}

/// Clicks a widget of the given role and exact label (others may show the same word).
fn click(h: &mut Harness<'_, NetsimApp>, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click();
    settle(h);
}

fn tab(h: &mut Harness<'_, NetsimApp>, name: &str) {
    click(h, Role::Button, name);
}

/// Chooses a namespace through the tables' combo box, as a student does.
fn choose_namespace(h: &mut Harness<'_, NetsimApp>, ns: &str) {
    let before: Vec<_> = h.query_all_by_label(ns).map(|n| n.accesskit_node().id()).collect();
    click(h, Role::ComboBox, "Namespace");
    // The option is the node with that name that the open popup added.
    let option = h.query_all_by_label(ns).find(|n| !before.contains(&n.accesskit_node().id()));
    option.unwrap_or_else(|| panic!("no option {ns} in the Namespace list")).click();
    settle(h);
    assert_eq!(h.state().view.namespace.as_deref(), Some(ns));
}

fn type_on_console(h: &mut Harness<'_, NetsimApp>, line: &str) {
    h.get_by_label("Command").focus();
    settle(h);
    h.get_by_label("Command").type_text(line);
    settle(h);
    assert_eq!(h.state().view.console_input, line);
}

#[test]
fn tables_show_addresses_dns_ipam_and_inspect_json_of_the_lab() {
    let mut h = lab_at_end();
    assert!(h.state().session.as_ref().unwrap().at_end());

    choose_namespace(&mut h, "host1:web");
    tab(&mut h, "Addresses");
    assert_eq!(h.state().view.tab, TableTab::Addresses);
    text_with(&h, &["inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0", "lo:"]);

    tab(&mut h, "Routes");
    text_with(&h, &["default via 172.18.0.1 dev eth0"]);

    // The client's sandbox: Docker's embedded DNS answers container names and aliases.
    choose_namespace(&mut h, "host1:client");
    tab(&mut h, "DNS");
    let dns = text_with(&h, &["nameserver 127.0.0.11", "TTL"]);
    let row = |name: &str| dns.lines().find(|l| l.split_whitespace().next() == Some(name)).map(str::to_string);
    let web = row("web").unwrap_or_else(|| panic!("no `web` record:\n{dns}"));
    assert!(web.contains("600") && web.contains("172.18.0.2"), "{web}");
    let database = row("database").unwrap_or_else(|| panic!("no `database` alias:\n{dns}"));
    assert!(database.contains("172.18.0.3"), "{database}");

    // On the default bridge there is no embedded DNS, and the tab says why.
    choose_namespace(&mut h, "host1:c1");
    text_with(&h, &["No embedded DNS", "default bridge", "resolv.conf"]);

    // The daemon's IPAM on host1: the first user-defined bridge gets 172.18.0.0/16.
    choose_namespace(&mut h, "host1");
    tab(&mut h, "IPAM");
    let ipam = text_with(&h, &["Docker host host1", "appnet  driver bridge"]);
    let appnet: String = ipam.split("\nappnet").nth(1).expect("an appnet section").to_string();
    assert!(appnet.contains("subnet 172.18.0.0/16  gateway 172.18.0.1"), "{appnet}");
    for (c, ip) in [("web", "172.18.0.2"), ("db", "172.18.0.3"), ("client", "172.18.0.4")] {
        assert!(appnet.lines().any(|l| l.split_whitespace().take(2).eq([c, ip])), "{c} → {ip} in\n{appnet}");
    }
    assert!(ipam.contains("subnet 172.17.0.0/16  gateway 172.17.0.1"), "the default bridge:\n{ipam}");

    // `docker network inspect`: appnet first (the first user-defined network), then any other.
    tab(&mut h, "network inspect");
    text_with(&h, &["\"Name\": \"appnet\"", "\"Subnet\": \"172.18.0.0/16\"", "\"Gateway\": \"172.18.0.1\""]);
    let before: Vec<_> = h.query_all_by_label("bridge").map(|n| n.accesskit_node().id()).collect();
    click(&mut h, Role::ComboBox, "Network");
    h.query_all_by_label("bridge")
        .find(|n| !before.contains(&n.accesskit_node().id()))
        .expect("a bridge option")
        .click();
    settle(&mut h);
    text_with(&h, &["\"Name\": \"bridge\"", "\"Subnet\": \"172.17.0.0/16\""]);
}

#[test]
fn tables_follow_the_run_as_it_advances() {
    let mut h = open(LAB);
    // Before any step: no container yet, so the host itself, and no appnet.
    assert_eq!(
        netsim_gui::panels::tables::selected_namespace(
            &h.state().session.as_ref().unwrap().sim.world,
            h.state().session.as_ref().unwrap().sim.director.as_deref(),
            &h.state().view,
        )
        .as_deref(),
        Some("host1")
    );
    tab(&mut h, "IPAM");
    assert!(texts(&h, "appnet  driver").is_empty());
    text_with(&h, &["bridge  driver bridge  bridge docker0", "(no containers)"]);
    // Step by step until appnet exists: the open tab shows it without any click.
    let mut steps = 0;
    while texts(&h, "appnet  driver bridge").is_empty() {
        assert!(h.state_mut().session.as_mut().unwrap().run_to_next_step() > 0, "the run ended without appnet");
        settle(&mut h);
        steps += 1;
    }
    assert_eq!(steps, 5, "`docker network create appnet` is the lab's fifth step");
}

#[test]
fn iptables_tab_shows_dockers_chains_with_counters() {
    let mut h = lab_at_end();
    choose_namespace(&mut h, "host1");
    tab(&mut h, "iptables");
    let rules = text_with(&h, &["*filter", ":DOCKER-USER - [0:0]", ":DOCKER-FORWARD - [0:0]", "COMMIT"]);
    // `iptables-save -c`: each rule starts with [packets:bytes]; the lab's pings crossed FORWARD.
    let counted: Vec<&str> = rules
        .lines()
        .filter(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split_once(':'))
                .and_then(|(p, _)| p.parse::<u64>().ok())
                .is_some_and(|p| p > 0)
        })
        .collect();
    assert!(!counted.is_empty(), "no rule matched a packet:\n{rules}");
    assert!(counted.iter().any(|l| l.contains("-A FORWARD")), "{counted:#?}");
    assert!(rules.contains("# conntrack -L"), "{rules}");
    // The FDB of the bridge selected (in the topology) comes first.
    let br = {
        let d = h.state().session.as_ref().unwrap().sim.director.as_ref().unwrap().clone();
        d.engine("host1").unwrap().network("appnet").unwrap().device.clone().unwrap()
    };
    h.state_mut().view.device = Some(format!("host1/{br}"));
    tab(&mut h, "FDB");
    let fdb = text_with(&h, &["master docker0", &format!("master {br}")]);
    // Its own lines (the multicast addresses it holds, then its MAC) and its ports' entries.
    let mine = |l: &str, b: &str| l.contains(&format!(" master {b}")) || l.contains(&format!(" dev {b} "));
    assert!(fdb.lines().next().is_some_and(|l| mine(l, &br)), "{fdb}");
    h.state_mut().view.device = Some("host1/docker0".into());
    settle(&mut h);
    let fdb = text_with(&h, &["master docker0", &format!("master {br}")]);
    assert!(fdb.lines().next().is_some_and(|l| mine(l, "docker0")), "{fdb}");
    // A container namespace has no rules, and the tab says so.
    choose_namespace(&mut h, "host1:c1");
    assert_eq!(h.state().view.device, None, "a device of another namespace is no longer selected");
    tab(&mut h, "iptables");
    text_with(&h, &["No iptables rules in this namespace"]);
    tab(&mut h, "IPVS");
    text_with(&h, &["No IPVS services in this namespace"]);
}

#[test]
fn the_console_shows_the_steps_as_a_transcript() {
    let mut h = open(LAB);
    // Nothing ran: every step greyed, the first one marked next.
    text_with(&h, &["host1$ docker run -dit --name c1 alpine", "[next]"]);
    text_with(&h, &["host1$ docker exec client wget -qO- http://web/"]);
    assert!(texts(&h, "host1$ docker network create appnet").iter().all(|t| !t.contains("[next]")));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    assert!(texts(&h, "[next]").is_empty(), "no step is left");
    // docker printed the network's ID; the programs their output.
    let d = h.state().session.as_ref().unwrap().sim.director.as_ref().unwrap().clone();
    let create = d.transcript.iter().find(|l| l.line == "docker network create appnet").unwrap();
    let id = create.output.clone().unwrap();
    text_with(&h, &[id.trim()]);
    text_with(&h, &["host1$ docker network create appnet"]);
    text_with(&h, &["Name:\tdatabase", "Address: 172.18.0.3"]);
    text_with(&h, &["ping: bad address 'c2'"]);
}

#[test]
fn a_typed_network_appears_in_ipam_and_the_transcript_marks_it_typed() {
    let mut h = lab_at_end();
    let at = h.state().session.as_ref().unwrap().position();
    assert_eq!(h.state().view.console_host, "host1");
    type_on_console(&mut h, "docker network create late");
    click(&mut h, Role::Button, "Run");
    let s = h.state();
    assert_eq!(s.view.console_input, "", "the field is cleared");
    assert!(s.view.console_error.is_none());
    assert!(s.view.status.contains(&format!("queued at event {at}")), "{}", s.view.status);
    let typed = &s.session.as_ref().unwrap().typed;
    assert_eq!((typed.len(), typed[0].line.as_str(), typed[0].at_events), (1, "docker network create late", at));
    // Queued, not run yet: it is the next step.
    text_with(&h, &["host1$ docker network create late", "[typed]", "[next]"]);

    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    let line = text_with(&h, &["host1$ docker network create late", "[typed]"]);
    assert!(!line.contains("[next]"), "{line}");
    // The scripted steps are not marked typed.
    assert!(texts(&h, "host1$ docker network create appnet").iter().all(|t| !t.contains("[typed]")));
    choose_namespace(&mut h, "host1");
    tab(&mut h, "IPAM");
    text_with(&h, &["late  driver bridge", "subnet 172.19.0.0/16  gateway 172.19.0.1"]);
}

#[test]
fn a_failing_command_shows_dockers_own_words_and_its_exit_status_in_the_transcript() {
    let mut h = lab_at_end();
    type_on_console(&mut h, "docker network create appnet");
    // Enter in the field runs it too.
    h.key_press(egui::Key::Enter);
    settle(&mut h);
    assert!(h.state().view.console_error.is_none(), "a failing command runs, as in a shell");
    assert_eq!(h.state().session.as_ref().unwrap().typed.len(), 1);
    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    let msg = "Error response from daemon: network with name appnet already exists";
    text_with(&h, &[msg, "(exit status 1)"]);
    // The console refuses only what it cannot take at all, such as nothing.
    h.state_mut().view.console_input = "   ".into();
    click(&mut h, Role::Button, "Run");
    assert!(h.state().view.console_error.as_deref().is_some_and(|e| e.starts_with("type a command")));
    assert_eq!(h.state().session.as_ref().unwrap().typed.len(), 1);
}

#[test]
fn a_linux_lab_says_why_there_is_no_docker() {
    let mut h = open(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/linux/bridge-two-namespaces.ron"));
    text_with(&h, &["commands need `hosts:`"]);
    assert!(h.query_by_label("Command").is_none() && h.query_by_label("Run").is_none(), "no prompt without hosts");
    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    choose_namespace(&mut h, "host");
    tab(&mut h, "FDB");
    text_with(&h, &["master br0"]);
    for name in ["IPAM", "network inspect"] {
        tab(&mut h, name);
        text_with(&h, &["This scenario has no Docker hosts (no `hosts:` in the file)"]);
    }
    tab(&mut h, "DNS");
    text_with(&h, &["No embedded DNS in host: This scenario has no Docker hosts"]);
}

#[test]
fn every_tab_of_every_namespace_of_the_swarm_tutorial_renders() {
    let mut h = open(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/swarm-webapp-mysql.ron"));
    h.state_mut().session.as_mut().unwrap().run_to_end();
    settle(&mut h);
    let names: Vec<String> =
        h.state().session.as_ref().unwrap().sim.world.ns.iter().filter(|n| !n.dead).map(|n| n.name.clone()).collect();
    for ns in &names {
        h.state_mut().view.namespace = Some(ns.clone());
        for (tab, _) in netsim_gui::panels::tables::TABS {
            h.state_mut().view.tab = tab;
            h.run_steps(1);
        }
    }
    // The load balancer of the overlay: IPVS services by firewall mark, as swarm makes them.
    choose_namespace(&mut h, "node1:lb-myoverlaynetwork");
    tab(&mut h, "IPVS");
    text_with(&h, &["IP Virtual Server version 1.2.1", "FWM  256 rr", "Masq"]);
    tab(&mut h, "DNS");
    text_with(&h, &["No embedded DNS", "load balancer of network myoverlaynetwork"]);
    // A task's sandbox resolves services (VIP) and tasks.
    let task = names.iter().find(|n| n.starts_with("node1:webapp1.")).expect("the webapp task").clone();
    choose_namespace(&mut h, &task);
    let dns = text_with(&h, &["nameserver 127.0.0.11"]);
    assert!(dns.lines().any(|l| l.starts_with("mysql ") && l.contains("10.0.1.")), "{dns}");
    assert!(dns.lines().any(|l| l.starts_with("tasks.mysql ")), "{dns}");
    // node1's IPAM lists the swarm's overlays; inspect shows the one the user made.
    choose_namespace(&mut h, "node1");
    tab(&mut h, "IPAM");
    text_with(&h, &["docker_gwbridge  driver bridge", "myoverlaynetwork  driver overlay", "ingress-sbox"]);
    tab(&mut h, "network inspect");
    text_with(&h, &["\"Name\": \"myoverlaynetwork\"", "\"Driver\": \"overlay\""]);
}

/// A hop's iptables reason names its rule with the rule's counters, and clicking it opens
/// the namespace's rules with that rule among them, as `iptables-save -c` prints it.
#[test]
fn an_iptables_reason_links_to_its_rule_and_counters() {
    use sim_core::kernel::trace::Why;
    let mut h = lab_at_end();
    let (i, ns, text) = {
        let s = h.state().session.as_ref().unwrap();
        s.sim
            .records()
            .iter()
            .enumerate()
            .find_map(|(i, r)| {
                r.why.iter().find_map(|y| match y {
                    Why::Netfilter { ns, note } => note.rule.as_ref().map(|rule| (i, *ns, rule.text.to_string())),
                    _ => None,
                })
            })
            .expect("a hop decided by an iptables rule")
    };
    let (ns_name, saved) = {
        let w = &h.state().session.as_ref().unwrap().sim.world;
        (w.netns(ns).name.clone(), w.netns(ns).nf.save(true))
    };
    // The counters as iptables-save -c prints them, read from its text.
    let line = saved.lines().find(|l| l.split_once("] ").is_some_and(|(_, r)| r == text)).expect("the rule is saved");
    let counters = line.split_once(']').unwrap().0.trim_start_matches('[').to_string();
    h.state_mut().view.record = Some(i);
    settle(&mut h);
    let want = format!("of its chain, now [{counters}] packets:bytes");
    let link = h
        .query_all_by(|n| n.role() == Role::Link && n.label().is_some_and(|l| l.contains(&want)))
        .next()
        .unwrap_or_else(|| panic!("no link naming the rule's counters {counters}"));
    link.click();
    settle(&mut h);
    assert_eq!(h.state().view.tab, TableTab::Iptables);
    assert_eq!(h.state().view.namespace.as_deref(), Some(ns_name.as_str()));
    assert_eq!(text_with(&h, &[line]), line, "the rule's own line is on screen");
}

/// A command's output is what it caused in its program's namespace, not every line printed
/// there while it ran: a ping in `web` shows its echoes, not the web server's notes about a
/// wget another step sent meanwhile (which are the wget's, in the client's namespace).
#[test]
fn the_console_shows_what_each_command_caused() {
    let text = r#"Scenario(
    name: "overlapping programs",
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create appnet"),
        (on: "host1", run: "docker run -d --name web --network appnet nginx"),
        (on: "host1", run: "docker run -dit --name client --network appnet alpine"),
        (on: "host1", run: "docker exec web ping -c 3 client", at: "1s"),
        (on: "host1", run: "docker exec client wget -qO- http://web/", at: "1.5s"),
    ],
)"#;
    let mut s = netsim_gui::state::Session::from_text("overlap.ron", text).expect("loads");
    s.run_to_end();
    let out = s.program_output();
    let d = s.sim.director.as_ref().expect("a Docker lab");
    let pos = |line: &str| d.transcript.iter().position(|l| l.line.ends_with(line)).expect("ran");
    let ping = &out[&pos("ping -c 3 client")];
    let wget = &out[&pos("wget -qO- http://web/")];
    // The web server's notes about the wget's request are printed in web's namespace while
    // the ping runs there; they are neither the ping's nor (another namespace) the wget's.
    assert!(ping.iter().any(|l| l.starts_with("64 bytes from")), "{ping:#?}");
    assert!(!ping.iter().any(|l| l.contains("httpd") || l.contains("80")), "{ping:#?}");
    assert!(wget.contains(&"<h1>Welcome to nginx!</h1>".to_string()), "{wget:#?}");
    assert!(!wget.iter().any(|l| l.contains("icmp") || l.starts_with("64 bytes")), "{wget:#?}");
    let httpd = s.sim.app_output().into_iter().filter(|(ns, l)| ns == "host1:web" && l.starts_with("httpd:")).count();
    assert_eq!(httpd, 1, "the server did answer the wget in web's namespace, during the ping");
}
