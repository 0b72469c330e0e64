//! `netsim check`: runs a lab and grades it by its `expect` checks (`sim_core::grade`), one
//! line per check with its evidence, then `N passed, M failed` and the score.

use std::path::Path;

use miette::{IntoDiagnostic, Result, miette};
use sim_core::grade::{Report, Verdict};
use sim_core::scenario::Loaded;

/// Grades `file` (with the student's `commands` in place of the exercise, if given); returns
/// whether every check passed.
pub fn run(file: &Path, seed: Option<u64>, json: bool, commands: Option<&Path>) -> Result<bool> {
    let mut loaded = crate::load(file)?;
    if loaded.scenario.expect.is_empty() {
        return Err(miette!(
            help = "add `expect: [ (name: …, check: …) ]` to the file (scenarios/README.md shows how)",
            "{} has no checks to grade",
            file.display()
        ));
    }
    if let Some(c) = commands {
        let text = std::fs::read_to_string(c).map_err(|e| miette!("--commands {}: {e}", c.display()))?;
        loaded = loaded.with_commands(&c.display().to_string(), &text).map_err(|e| miette::Report::new(*e))?;
        for w in &loaded.warnings {
            eprintln!("{:?}", miette::Report::new(w.clone()));
        }
    }
    let sim = loaded.build(seed).map_err(|e| miette::Report::new(*e))?;
    let until = loaded.scenario.until;
    let report = sim_core::grade::run(sim, &loaded.scenario.expect, commands.is_some(), until);
    if json {
        let v = serde_json::json!({
            "file": file.display().to_string(),
            "lab": loaded.scenario.name,
            "commands": commands.map(|c| c.display().to_string()),
            "report": report,
        });
        outln!("{}", serde_json::to_string_pretty(&v).into_diagnostic()?);
    } else {
        print(&loaded, &report);
    }
    if let Some(s) = &report.stalled {
        return Err(miette!(
            help = "give one side of the loop a count, an interval or a delay, or stop it with `until`",
            "{s}; the checks above were made where it stopped"
        ));
    }
    Ok(report.all_passed())
}

fn print(loaded: &Loaded, r: &Report) {
    let title = loaded.scenario.lesson.as_ref().map_or(loaded.scenario.name.as_str(), |l| l.title.as_str());
    outln!("# {title} — {} checks, {} points", r.verdicts.len(), r.total);
    for v in &r.verdicts {
        line(v);
    }
    outln!("{} passed, {} failed; score {}/{}", r.passed, r.failed, r.score, r.total);
}

fn line(v: &Verdict) {
    let mark = if v.passed { "PASS" } else { "FAIL" };
    let got = if v.passed { v.points } else { 0 };
    let when = match v.after {
        Some(k) => format!(" (after step {k})"),
        None => String::new(),
    };
    outln!("{mark} {got}/{} {}{when}", v.points, v.name);
    outln!("       {}", v.evidence);
    if let Some(h) = &v.hint {
        outln!("       hint: {h}");
    }
}
