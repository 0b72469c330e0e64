//! Writes the seed corpus and a libFuzzer dictionary of every fuzz target for the cargo-fuzz
//! project: `cargo run -p netsim-tests --bin fuzz-seeds -- fuzz` fills `fuzz/corpus/<target>/`
//! and `fuzz/dict/<target>.dict`.

use std::path::PathBuf;
use std::process::ExitCode;

use netsim_tests::fuzz::{Target, corpus};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz-seeds DIR   (writes DIR/corpus/<target>/ and DIR/dict/<target>.dict)");
        return ExitCode::from(2);
    };
    for t in Target::ALL {
        let cdir = dir.join("corpus").join(t.name());
        let ddir = dir.join("dict");
        let written = std::fs::create_dir_all(&cdir).and_then(|()| std::fs::create_dir_all(&ddir)).and_then(|()| {
            let seeds = corpus::seeds(t);
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(cdir.join(format!("seed-{i:04}")), s)?;
            }
            std::fs::write(ddir.join(format!("{}.dict", t.name())), t.libfuzzer_dictionary())?;
            Ok(seeds.len())
        });
        match written {
            Ok(n) => println!("{}: {n} seeds in {}", t.name(), cdir.display()),
            Err(e) => {
                eprintln!("{}: cannot write under {}: {e}", t.name(), dir.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
