//! Restricting a published port in DOCKER-USER, as Docker's "Packet filtering and firewalls"
//! page teaches it: by the time a packet reaches FORWARD (and DOCKER-USER) its destination has
//! been DNATed to the container's address and port, so a rule about the published port asks
//! conntrack for the original tuple (`-m conntrack --ctorigdstport 8080 --ctdir ORIGINAL`),
//! and a range of allowed clients is `-m iprange`. The same rules as iptables-save and
//! `iptables -L` print them are held to the kernel's record in `iptables_list.rs`.

fn lab(rules: &[&str]) -> sim_core::Sim {
    let mut steps = vec![r#"(on: "host1", run: "docker run -d --name web -p 8080:80 nginx")"#.to_string()];
    for r in rules {
        steps.push(format!(r#"(on: "host1", run: "iptables -I DOCKER-USER {r}")"#));
    }
    for client in ["intruder", "laptop"] {
        steps.push(format!(
            r#"(on: "{client}", run: "curl -s -o /dev/null --max-time 2 -w '%{{http_code}}' http://192.168.99.101:8080/")"#
        ));
    }
    let text = format!(
        r#"Scenario(
    name: "docker-user",
    engine: (version: "20.10"),
    hosts: [
        (name: "host1", addr: "192.168.99.101/24"),
        (name: "laptop", addr: "192.168.99.10/24", docker: false),
        (name: "intruder", addr: "192.168.99.66/24", docker: false),
    ],
    steps: [{}],
)"#,
        steps.join(",\n")
    );
    let mut sim =
        sim_core::scenario::Loaded::from_str("docker-user.ron", &text).expect("loads").build(None).expect("builds");
    sim.run_until(sim_core::Until::Idle);
    sim
}

/// The exit statuses of the intruder's and the laptop's curl.
fn statuses(sim: &sim_core::Sim) -> (u8, u8) {
    let t = &sim.director.as_ref().expect("a lab with hosts").transcript;
    let n = t.len();
    (t[n - 2].status, t[n - 1].status)
}

#[test]
fn the_published_port_is_kept_for_the_allowed_range_by_its_original_tuple() {
    let rule = "-p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -m iprange ! --src-range 192.168.99.1-192.168.99.20 -j DROP";
    let sim = lab(&[rule]);
    // curl exits 28 when --max-time runs out: the intruder's SYNs are dropped.
    assert_eq!(statuses(&sim), (28, 0), "the intruder is dropped, the laptop served");
    let save = sim_core::kernel::show::show(
        &sim.world,
        sim.world.ns_by_name("host1").expect("host1"),
        sim_core::kernel::show::What::Iptables,
    );
    assert!(
        save.contains("-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -m iprange ! --src-range 192.168.99.1-192.168.99.20 -j DROP"),
        "{save}"
    );
}

#[test]
fn the_container_port_is_what_forward_sees_and_the_original_port_is_not() {
    // After DNAT the packet's own destination port is the container's, 80: `--dport 8080`
    // no longer matches in FORWARD, and conntrack's original tuple does not say 80.
    assert_eq!(statuses(&lab(&["-p tcp --dport 8080 -j DROP"])), (0, 0), "--dport 8080 is past by FORWARD");
    assert_eq!(statuses(&lab(&["-p tcp -m conntrack --ctorigdstport 80 -j DROP"])), (0, 0));
    assert_eq!(statuses(&lab(&["-p tcp --dport 80 -j DROP"])), (28, 28), "the DNATed port is");
    // The reply direction's source port is the container's too.
    assert_eq!(statuses(&lab(&["-p tcp -m conntrack --ctreplsrcport 80 --ctdir ORIGINAL -j DROP"])), (28, 28));
    assert_eq!(statuses(&lab(&["-m conntrack --ctorigdst 192.168.99.101 --ctstate NEW -j DROP"])), (28, 28));
}
