use sim_core::Until;
use sim_core::scenario::Loaded;

#[test]
fn smoke() {
    for f in ["bridge-two-namespaces", "vxlan-two-hosts", "router-nat", "macvlan-vlan"] {
        let path = format!("{}/../scenarios/linux/{f}.ron", env!("CARGO_MANIFEST_DIR"));
        let l = Loaded::from_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
        let mut sim = l.build(None).unwrap_or_else(|e| panic!("{e}"));
        sim.run_until(Until::Idle);
        println!("==== {f}");
        for r in sim.records() {
            if matches!(r.dir, sim_core::trace::Dir::App | sim_core::trace::Dir::Drop | sim_core::trace::Dir::Tx) {
                let place = r.dev.map(|d| sim.world.dev_path(d)).unwrap_or_else(|| sim.world.netns(r.ns).name.clone());
                let s = r.frame.as_deref().map(sim_core::wire::pretty::summary).unwrap_or_default();
                println!(
                    "{} {:?} {} {} | {}",
                    r.time,
                    r.dir,
                    place,
                    s,
                    r.why.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(" / ")
                );
            }
        }
    }
}
