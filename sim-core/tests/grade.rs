//! Grading looks without touching: a graded run is the same run, frame for frame, and the
//! checks tied to a step see the lab as it stood after that step, not at the end.

use sim_core::grade::{Grader, Report};
use sim_core::kernel::trace::Dir;
use sim_core::scenario::Loaded;
use sim_core::wire::pretty;

fn tutorial() -> Loaded {
    let path = format!("{}/../scenarios/swarm-webapp-mysql.ron", env!("CARGO_MANIFEST_DIR"));
    Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

/// Every frame that left a device, as the hop log prints it, with its time and event.
fn frames(sim: &sim_core::Sim, recs: &[sim_core::kernel::trace::Record]) -> Vec<String> {
    recs.iter()
        .filter(|r| r.dir == Dir::Tx)
        .filter_map(|r| {
            let dev = r.dev?;
            Some(format!(
                "{} #{} {} {}",
                r.time,
                r.event.0,
                sim.world.dev_path(dev),
                pretty::summary(r.frame.as_deref()?)
            ))
        })
        .collect()
}

#[test]
fn a_graded_run_sends_the_same_frames_as_an_ungraded_one() {
    let l = tutorial();
    let mut plain = l.build(None).expect("build");
    let mut want = Vec::new();
    while let Some(o) = plain.step() {
        want.extend(frames(&plain, &plain.records()[o.records]));
    }
    let mut graded = l.build(None).expect("build");
    let mut g = Grader::new(&l.scenario.expect, false);
    let mut got = Vec::new();
    loop {
        g.before_event(&mut graded);
        let Some(o) = graded.step() else { break };
        let recs = graded.records()[o.records].to_vec();
        g.observe(&graded, &recs);
        got.extend(frames(&graded, &recs));
    }
    let report: Report = g.finish(&mut graded);
    assert!(report.all_passed(), "{report:#?}");
    assert!(want.len() > 200, "the tutorial sends frames: {}", want.len());
    assert_eq!(got, want, "the probes' packets stay in their copies");
    assert_eq!(graded.events_run, plain.events_run);
}

/// The VIP answers `mysql` only once the service exists: the same check passes after step 5
/// and fails after step 4, where the hop log shows no service yet.
#[test]
fn a_check_after_a_step_sees_the_lab_as_it_stood_then() {
    let mut l = tutorial();
    let i = l.scenario.expect.iter().position(|e| e.name.contains("resolves to the service's VIP")).expect("check");
    let mut early = l.scenario.expect[i].clone();
    early.after = Some(4);
    early.name = "resolved too early".into();
    l.scenario.expect.push(early);
    let report = sim_core::grade::run(l.build(None).expect("build"), &l.scenario.expect, false, None);
    let v = |name: &str| report.verdicts.iter().find(|v| v.name.contains(name)).expect("verdict").clone();
    let on_time = v("resolves to the service's VIP");
    let too_early = v("resolved too early");
    assert!(on_time.passed, "{on_time:?}");
    assert!(!too_early.passed, "{too_early:?}");
    assert!(too_early.events_run < on_time.events_run, "{too_early:?} {on_time:?}");
    assert_eq!(report.failed, 1);
}

/// Every quiz item of the tutorial can be asked: its frame occurs, and the simulator has an
/// answer that is one of the choices it offers.
#[test]
fn the_tutorials_quiz_can_be_asked_and_answered() {
    use sim_core::lesson::Ask;
    let l = tutorial();
    assert!(l.scenario.quiz.len() >= 3);
    let mut sim = l.build(None).expect("build");
    sim.run_until(sim_core::Until::Idle);
    let recs = sim.records();
    for q in &l.scenario.quiz {
        let at = q.frame.as_ref().map(|f| {
            recs.iter()
                .position(|r| sim_core::grade::record_matches(f, &sim.world, r))
                .unwrap_or_else(|| panic!("{}: no frame matches {f:?}", q.name))
        });
        let question = sim_core::quiz::question(q, &sim.world, recs, at).unwrap_or_else(|| panic!("{}", q.name));
        assert!(question.answer < question.choices.len() && question.choices.len() >= 2, "{question:#?}");
        let right = &question.choices[question.answer];
        match &q.ask {
            Ask::Choice { .. } => assert!(right.contains("VIP"), "{right}"),
            // After DNAT the SYN is for ingress_sbox (172.18.0.2): it leaves docker_gwbridge by
            // the port whose veth peer is in ingress_sbox, as the plan wires it.
            Ask::NextHop => {
                let w = &sim.world;
                let path = right.strip_prefix("out of ").expect("a device");
                let (ns, dev) = path.split_once('/').expect("ns/dev");
                let d = w.dev_by_name(w.ns_by_name(ns).expect("ns"), dev).expect("dev");
                let sim_core::kernel::DevKind::Veth { peer, .. } = w.dev(d).kind else { panic!("{path} is no veth") };
                assert_eq!(w.netns(w.dev(peer).ns).name, "node1:ingress_sbox", "{question:#?}");
            }
            Ask::Rule => {
                assert!(right.contains("--dport 8001 -j DNAT --to-destination 172.18.0.2:8001"), "{question:#?}")
            }
        }
        let a = question.answer(q, question.answer);
        assert!(a.right && a.chosen == *right);
        let wrong = (question.answer + 1) % question.choices.len();
        assert!(!question.answer(q, wrong).right);
    }
}

/// A Docker step changes a host's rules one by one, as dockerd does with `iptables -I`/`-D`,
/// so the rules it leaves keep their counters (iptables(8): only `-Z` zeroes a counter; a
/// rule inserted elsewhere does not). Here the laptop's request meets the DNAT rule for
/// port 8080; the next `docker run` adds rules to host1 (its container's address in raw
/// PREROUTING), and the DNAT rule still counts that request. Replacing the whole rule set at
/// each step, as `iptables-restore` would, counted it no more.
#[test]
fn a_later_step_keeps_the_counters_of_the_rules_it_leaves() {
    let lab = r#"Scenario(
        name: "counters survive a docker run",
        hosts: [
            (name: "host1", addr: "192.168.99.101/24"),
            (name: "laptop", addr: "192.168.99.10/24", docker: false),
        ],
        steps: [
            (on: "host1", run: "docker network create webnet"),
            (on: "host1", run: "docker run -d --name web --network webnet -p 8080:80 nginx"),
            (on: "laptop", run: "curl http://192.168.99.101:8080/"),
            (on: "host1", run: "docker run -dit --name other --network webnet alpine"),
        ],
        expect: [
            (name: "the DNAT rule counted the request", after: 3,
             check: Counter(on: "host1", table: "nat", chain: "DOCKER", rule: "--dport 8080", at_least: 1)),
            (name: "and still does after the next docker run",
             check: Counter(on: "host1", table: "nat", chain: "DOCKER", rule: "--dport 8080", at_least: 1)),
        ],
    )"#;
    let l = Loaded::from_str("counters.ron", lab).unwrap_or_else(|e| panic!("{e}"));
    let report = sim_core::grade::run(l.build(None).expect("build"), &l.scenario.expect, false, None);
    assert_eq!(report.failed, 0, "{:#?}", report.verdicts);
    // The second run did change host1's rules: its container's address is in raw PREROUTING.
    let mut sim = l.build(None).expect("build");
    sim.run_until(sim_core::Until::Idle);
    let host = sim.world.ns_by_name("host1").expect("host1");
    let raw = sim.world.netns(host).nf.save(false);
    assert_eq!(raw.lines().filter(|r| r.starts_with("-A PREROUTING") && r.contains("-j DROP")).count(), 2, "{raw}");
}
