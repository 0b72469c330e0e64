//! The fuzz targets of `netsim_tests::fuzz`, each for a small fixed budget: every seed of the
//! corpus, then deterministic mutants (see `fuzz/README.md` for the knobs and the long runs).
//!
//! `NETSIM_FUZZ_INPUT=<hex>` runs one input on the named target instead, as a crash report
//! prints it.

use netsim_tests::fuzz::{self, Config, Target, corpus};

fn fuzz_target(target: Target) {
    if let Ok(hex) = std::env::var("NETSIM_FUZZ_INPUT") {
        let input = fuzz::from_hex(&hex).expect("NETSIM_FUZZ_INPUT must be hex");
        if let Err(m) = fuzz::run_one(target, &input) {
            panic!("fuzz target `{}` panicked: {m}", target.name());
        }
        return;
    }
    let seeds = corpus::seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {}", target.name());
    let mut cfg = Config::from_env(target);
    cfg.crash_dir = Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes"));
    match fuzz::fuzz(target, &seeds, &cfg) {
        Ok(s) => eprintln!(
            "fuzz {}: {} seeds, {} executions in {:.1?} (seed {:#x}), no crash",
            target.name(),
            s.seeds,
            s.execs,
            s.elapsed,
            cfg.seed
        ),
        Err(crash) => panic!("{crash}"),
    }
}

#[test]
fn scenario() {
    fuzz_target(Target::Scenario);
}

#[test]
fn docker_cli() {
    fuzz_target(Target::DockerCli);
}

#[test]
fn console() {
    fuzz_target(Target::Console);
}

#[test]
fn http() {
    fuzz_target(Target::Http);
}

#[test]
fn dns() {
    fuzz_target(Target::Dns);
}

#[test]
fn mysql() {
    fuzz_target(Target::Mysql);
}

#[test]
fn frame() {
    fuzz_target(Target::Frame);
}

#[test]
fn pcapng() {
    fuzz_target(Target::Pcapng);
}

/// The names the cargo-fuzz project and the README use are the targets' names.
#[test]
fn names_round_trip() {
    for t in Target::ALL {
        assert_eq!(Target::from_name(t.name()), Some(t));
    }
    assert_eq!(fuzz::from_hex(&fuzz::to_hex(b"\x00\xffab")), Some(b"\x00\xffab".to_vec()));
    assert_eq!(fuzz::from_hex("0"), None);
}

/// The console target reaches the simulator: its seeds are the tutorials' own steps typed
/// before and after the scripted ones ran, so about half are refused (an `exec` into a
/// container not there yet, a `run --name` taken), and the rest are accepted.
#[test]
fn console_seeds_are_typed() {
    let seeds = corpus::seeds(Target::Console);
    let typed = seeds.iter().filter(|s| fuzz::targets::console_typed(s) > 0).count();
    assert!(typed * 3 > seeds.len(), "only {typed} of {} console seeds were accepted", seeds.len());
}

/// The cargo-fuzz project (built only with nightly, so not by CI) has one target per
/// `Target`, under the same name, calling that target.
#[test]
fn cargo_fuzz_project_has_every_target() {
    let dir = corpus::root().join("fuzz");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for t in Target::ALL {
        assert!(
            manifest.contains(&format!("name = \"{}\"\npath = \"fuzz_targets/{}.rs\"", t.name(), t.name())),
            "fuzz/Cargo.toml has no [[bin]] {}",
            t.name()
        );
        let src = std::fs::read_to_string(dir.join("fuzz_targets").join(format!("{}.rs", t.name())))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{}.rs: {e}", t.name()));
        assert!(
            src.contains(&format!("Target::{t:?}.run(data)")),
            "fuzz_targets/{}.rs does not run Target::{t:?}",
            t.name()
        );
    }
}
