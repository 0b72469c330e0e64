//! `netsim export`: a lab written out for real machines (`sim_core::export`).

use std::path::{Path, PathBuf};

use miette::{Result, miette};

/// What `--to` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    /// One bash script per host: its steps in the lab's order, and the lab's checks.
    Script,
    /// One compose file: the networks and containers the lab makes on its Docker host.
    Compose,
    /// One stack file for `docker stack deploy`: the overlays and services of a swarm lab.
    Stack,
}

/// Writes the scripts of `file` into `out` (by default `<lab>-script/` here). Every file is
/// written, or none: a failure part way takes back what was written.
pub fn run(file: &Path, to: To, out: Option<PathBuf>, force: bool) -> Result<()> {
    let loaded = crate::load(file)?;
    let name = file.display().to_string();
    use sim_core::export::{Form, compose, scripts};
    let (scripts, suffix) = match to {
        To::Script => (scripts(&loaded.scenario, &name), "script"),
        To::Compose => (compose(&loaded.scenario, &name, Form::Compose).map(|f| vec![f]), "compose"),
        To::Stack => (compose(&loaded.scenario, &name, Form::Stack).map(|f| vec![f]), "stack"),
    };
    let scripts = scripts.map_err(|e| miette!("{e}"))?;
    let out = out.unwrap_or_else(|| {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "lab".into());
        PathBuf::from(format!("{stem}-{suffix}"))
    });
    if out.exists() && !out.is_dir() {
        return Err(miette!("{}: exists and is not a folder", out.display()));
    }
    if !force && let Some(s) = scripts.iter().find(|s| out.join(&s.file_name).exists()) {
        return Err(miette!(
            help = "--force writes over it",
            "{} exists; nothing was written",
            out.join(&s.file_name).display()
        ));
    }
    let made_dir = !out.exists();
    std::fs::create_dir_all(&out).map_err(|e| miette!("{}: cannot make the folder: {e}", out.display()))?;
    let mut written = Vec::new();
    for s in &scripts {
        let path = out.join(&s.file_name);
        if let Err(e) = write_script(&path, &s.text) {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            if made_dir {
                let _ = std::fs::remove_dir(&out);
            }
            return Err(miette!("{}: {e}; nothing was written", path.display()));
        }
        written.push(path);
    }
    for (s, p) in scripts.iter().zip(&written) {
        match to {
            To::Script => {
                outln!(
                    "{}: run it on {} as root (bash {} down takes away what it made)",
                    p.display(),
                    s.host,
                    s.file_name
                )
            }
            // The file's header says how to bring it up and what to type afterwards.
            To::Compose | To::Stack => outln!("{}: for {} (its first lines say how to use it)", p.display(), s.host),
        }
    }
    if scripts.len() > 1 {
        outln!(
            "# {} hosts: set NETSIM_SYNC_DIR to a folder they share, or press Enter where a script waits for another host",
            scripts.len()
        );
    }
    Ok(())
}

fn write_script(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text)?;
    let mode = if path.extension().is_some_and(|e| e == "sh") { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
