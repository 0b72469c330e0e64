//! What the GUI writes to files: the capture of the run so far as pcapng (every frame as it
//! left or arrived on a device, or only those the event list's filter shows, named `ns/dev`
//! as the CLI's `--pcap` does, with each hop's reasons as the packet comment), the
//! commands a student typed, for `netsim check --commands`, and the student's report: the
//! checklist and the quiz's answers, as JSON.

use std::path::Path;

use sim_core::capture::{Direction, PcapngWriter};
use sim_core::kernel::trace::Dir;

use crate::app::EventFilter;
use crate::panels::events::RowCache;
use crate::state::Session;

/// Writes the frames of the run up to the current event; returns how many. `once` writes
/// each packet once, on the interface where it was first seen (`netsim run --once`), so that
/// Wireshark's TCP analysis sees no false retransmissions.
pub fn write_pcapng(path: &Path, session: &Session, filter: Option<&EventFilter>, once: bool) -> Result<usize, String> {
    if path.as_os_str().is_empty() {
        return Err("give a file name to export to".into());
    }
    let w = &session.sim.world;
    // With a filter, what the event list shows (arrivals only when it lists them); rows,
    // which dissect every frame, only then.
    let keep: Option<Vec<bool>> = filter.map(|f| {
        let mut keep = vec![false; session.sim.records().len()];
        for i in RowCache::default().shown(&session.sim, f) {
            keep[i] = true;
        }
        keep
    });
    let mut out = Vec::new();
    let mut pcap =
        PcapngWriter::new(&mut out, concat!("netsim-gui ", env!("CARGO_PKG_VERSION"))).map_err(|e| e.to_string())?;
    let mut ids: Vec<(sim_core::kernel::DevId, u32)> = Vec::new();
    let mut n = 0;
    let mut seen = once.then(sim_core::capture::Once::default);
    for (i, r) in session.sim.records().iter().enumerate() {
        let (Some(dev), Some(frame)) = (r.dev, r.frame.as_ref()) else { continue };
        let direction = match r.dir {
            Dir::Tx => Direction::Outbound,
            Dir::Rx => Direction::Inbound,
            _ => continue,
        };
        // As libpcap on lo: only the arriving copy.
        if r.dir == Dir::Tx && matches!(w.dev(dev).kind, sim_core::kernel::DevKind::Loopback) {
            continue;
        }
        if keep.as_ref().is_some_and(|k| !k[i]) {
            continue;
        }
        if let Some(seen) = &mut seen
            && seen.repeat(frame, r.time.as_nanos())
        {
            continue;
        }
        let id = match ids.iter().find(|(d, _)| *d == dev) {
            Some((_, id)) => *id,
            None => {
                let id = pcap.add_interface(&w.dev_path(dev), None).map_err(|e| e.to_string())?;
                ids.push((dev, id));
                id
            }
        };
        let why: Vec<String> = r.why.iter().map(|y| y.show(w).to_string()).collect();
        let comment = (!why.is_empty()).then(|| why.join("; "));
        pcap.write_frame_dir(id, r.time.as_nanos(), frame, comment.as_deref(), Some(direction))
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    pcap.finish().map_err(|e| e.to_string())?;
    std::fs::write(path, &out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(n)
}

/// Writes the commands typed in the console beside the scenario (`Session::commands_path`);
/// returns where, and how many.
pub fn save_commands(session: &Session) -> Result<(std::path::PathBuf, usize), String> {
    if session.typed.is_empty() {
        return Err("no commands typed yet: type them in the Docker console first".into());
    }
    let path = session
        .commands_path()
        .ok_or("this lab was not opened from a file, so there is no folder to save the commands beside")?;
    std::fs::write(&path, session.commands_text()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, session.typed.len()))
}

/// The report "Save report" writes: the checklist as the pane shows it at the current event
/// (the verdicts made so far, as `grade::Report`, its score of every check's points, and the
/// checks still pending), and the quiz's answers (`quiz::Answered`) with their score.
pub fn report_json(session: &Session) -> Result<serde_json::Value, String> {
    use serde_json::{Value, json};
    let list = session.checklist();
    let verdicts: Vec<sim_core::grade::Verdict> = list.rows.iter().filter_map(|r| r.verdict.cloned()).collect();
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let checklist = sim_core::grade::Report {
        failed: verdicts.len() - passed,
        passed,
        score: list.score,
        total: list.total,
        stalled: list.stalled.map(str::to_string),
        verdicts,
    };
    let pending: Vec<&str> =
        list.rows.iter().filter(|r| r.verdict.is_none()).map(|r| r.expectation.name.as_str()).collect();
    let mut checklist = serde_json::to_value(&checklist).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut checklist {
        m.insert("pending".into(), json!(pending));
    }
    let c = &session.challenge;
    let answers = serde_json::to_value(c.answers()).map_err(|e| e.to_string())?;
    let unanswered: Vec<&str> =
        c.items.iter().filter(|it| it.answered.is_none()).map(|it| it.quiz.name.as_str()).collect();
    let (score, total) = c.score();
    Ok(json!({
        "lab": session.name(),
        "scenario": session.path.as_ref().map(|p| p.display().to_string()),
        "events_run": session.position(),
        "at_end": session.at_end(),
        "checklist": checklist,
        "quiz": {
            "challenge": c.on,
            "answers": answers,
            "unanswered": unanswered,
            "score": score,
            "total": total,
        },
    }))
}

/// Writes the report (`report_json`) beside the scenario (`Session::report_path`); returns
/// where.
pub fn save_report(session: &Session) -> Result<std::path::PathBuf, String> {
    let path = session
        .report_path()
        .ok_or("this lab was not opened from a file, so there is no folder to save the report beside")?;
    let report = report_json(session)?;
    let mut text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
