//! Reasons in Docker's nouns (`Director::docker_gloss`), on the tutorial's own run: the
//! decisions that carry its lesson are each named by the Docker object that made them.

use sim_core::kernel::trace::Why;
use sim_core::scenario::Loaded;
use sim_core::sim::{Sim, Until};

/// A shipped lab (`scenarios/REL`), run to its end.
fn run(rel: &str) -> Sim {
    let path = format!("{}/../scenarios/{rel}", env!("CARGO_MANIFEST_DIR"));
    let l = Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = l.build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

#[test]
fn the_tutorials_decisions_are_named_by_the_docker_objects_that_made_them() {
    let sim = run("swarm-webapp-mysql.ron");
    let d = sim.director.as_ref().expect("a Docker lab");
    let w = &sim.world;
    // (namespace, kernel reason, Docker's words) for every reason Docker made.
    let mut glossed: Vec<(String, String, String)> = Vec::new();
    let mut kernel_only = 0;
    for r in sim.records() {
        for y in &r.why {
            let ns = if let Why::Netfilter { ns, .. } = y { *ns } else { r.ns };
            match d.docker_gloss(w, ns, y) {
                Some(g) => glossed.push((w.netns(ns).name.clone(), y.show(w).to_string(), g)),
                None => kernel_only += 1,
            }
        }
    }
    let find = |ns: &str, kernel: &str, docker: &str| {
        glossed.iter().any(|(n, k, g)| n.ends_with(ns) && k.contains(kernel) && g.starts_with(docker))
    };
    // The POST to localhost:8001 on node1: DOCKER-INGRESS sends it to ingress_sbox, whose IPVS
    // (fwmark of the webapp service) picks a task.
    assert!(find("node1", "DOCKER-INGRESS", "the routing mesh: port 8001"), "{glossed:#?}");
    assert!(
        find("ingress_sbox", "IPVS FWM", "the routing mesh: a connection to a port service webapp1"),
        "{glossed:#?}"
    );
    assert!(
        find("ingress_sbox", "--dport 8001 -j MARK", "the routing mesh: a packet to a port service webapp1"),
        "{glossed:#?}"
    );
    // curl on node1 itself: the host's source address on docker_gwbridge.
    assert!(find("node1", "--src-type LOCAL -j MASQUERADE", "the routing mesh: a connection from the host itself"));
    // The webapp's `mysql` lookup goes to the embedded DNS.
    assert!(find("webapp1.1.9wku2jq48jojkaay47kk0yudd", "127.0.0.11", "the embedded DNS"), "{glossed:#?}");
    // Its connection to the mysql VIP: marked, then balanced by IPVS in the task's sandbox.
    assert!(
        find("lb-myoverlaynetwork", "-d 10.0.1.5/32 -j MARK", "service mysql's VIP: the packet is marked"),
        "{glossed:#?}"
    );
    assert!(find("lb-myoverlaynetwork", "IPVS FWM 257", "service mysql's VIP: IPVS spreads"), "{glossed:#?}");
    assert!(find("lb-myoverlaynetwork", "IPVS reply", "service mysql's VIP: the task's reply"), "{glossed:#?}");
    // No container of the lab goes out to the Internet, so no container masquerade is named.
    assert!(!glossed.iter().any(|(_, _, g)| g.starts_with("Docker's masquerade")), "{glossed:#?}");
    // Routes, FDB entries and neighbours stay the kernel's own.
    assert!(kernel_only > glossed.len(), "{kernel_only} kernel reasons, {} glossed", glossed.len());
    assert!(!glossed.iter().any(|(_, k, _)| k.starts_with("route:") || k.contains(": fdb ")));
}

/// Every Docker reason of a shipped Docker lab, as (namespace, kernel reason, Docker's words).
fn glosses(rel: &str) -> Vec<(String, String, String)> {
    let sim = run(&format!("docker/{rel}"));
    let d = sim.director.as_ref().expect("a Docker lab");
    let mut out = Vec::new();
    for r in sim.records() {
        for y in &r.why {
            let ns = if let Why::Netfilter { ns, .. } = y { *ns } else { r.ns };
            if let Some(g) = d.docker_gloss(&sim.world, ns, y) {
                out.push((sim.world.netns(ns).name.clone(), y.show(&sim.world).to_string(), g));
            }
        }
    }
    out
}

#[test]
fn published_ports_and_isolation_are_named_as_docker_names_them() {
    // The engine's rules for `docker run -p 8080:80 … web` (published-ports.ron).
    let g = glosses("published-ports.ron");
    assert!(
        g.iter().any(|(n, k, d)| n == "host1"
            && k.contains("-A DOCKER ! -i br-")
            && k.contains("--dport 8080 -j DNAT")
            && d == "a published port (`-p 8080:80`): sent to container web"),
        "{g:#?}"
    );
    // ca on netA pings cb's address on netB (isolated-bridges.ron, step 5).
    let g = glosses("isolated-bridges.ron");
    assert!(
        g.iter().any(|(_, k, d)| k.starts_with("raw/PREROUTING: -A PREROUTING -d 172.19.0.2/32")
            && d.starts_with("Docker's isolation: container cb is reached only through its own network netB (br-")),
        "{g:#?}"
    );
}

/// A Linux lab's own rules are not Docker's: a router's MASQUERADE is not glossed.
#[test]
fn a_linux_labs_rules_are_not_dockers() {
    let sim = run("linux/router-nat.ron");
    let d = sim.director.as_ref().expect("every lab has a director");
    let mut masq = 0;
    for r in sim.records() {
        for y in &r.why {
            let ns = if let Why::Netfilter { ns, .. } = y { *ns } else { r.ns };
            masq += usize::from(y.show(&sim.world).to_string().contains("MASQUERADE"));
            assert_eq!(d.docker_gloss(&sim.world, ns, y), None, "{}", y.show(&sim.world));
        }
    }
    assert!(masq > 0, "the router masquerades");
}
