//! The hop log: one tcpdump-like line per frame leaving a device, with the reasons under it.

use std::io::Write;

use sim_core::World;
use sim_core::kernel::trace::{Dir, Record};
use sim_core::wire::pretty;

/// How much of the run the hop log prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The programs' lines only (`-q`).
    Quiet,
    /// The frames that carry the lesson (`--brief`): see [`shown`].
    Brief,
    /// Every frame leaving a device, every drop and delivery (the default).
    Normal,
    /// And every arrival (`-v`).
    Verbose,
}

pub struct Printer {
    level: Level,
    /// Standard error instead of standard output (which then carries the pcapng).
    to_stderr: bool,
}

impl Printer {
    pub fn new(level: Level, to_stderr: bool) -> Self {
        Printer { level, to_stderr }
    }

    pub fn print(&mut self, w: &World, recs: &[Record]) {
        let sink: Box<dyn Write> =
            if self.to_stderr { Box::new(std::io::stderr().lock()) } else { Box::new(std::io::stdout().lock()) };
        let mut o = std::io::BufWriter::new(sink);
        for r in recs {
            if write_line(&mut o, w, r, self.level).is_err() {
                std::process::exit(0);
            }
        }
        if o.flush().is_err() {
            std::process::exit(0);
        }
    }
}

/// Where a reason's line starts: under the time column (14 wide) and three more.
const INDENT: &str = "                 ";

/// Whether this level shows the record: `Brief` leaves out what `World::housekeeping` calls
/// housekeeping.
fn shown(w: &World, r: &Record, level: Level) -> bool {
    match (level, r.dir) {
        (_, Dir::App) => true,
        (Level::Quiet, _) => false,
        (Level::Verbose, _) => true,
        (_, Dir::Rx) => false,
        // A delivery ends a frame's journey: its last decisions (a REDIRECT, INPUT) are there.
        (Level::Normal, _) => true,
        (Level::Brief, _) => !w.housekeeping(r),
    }
}

/// Writes one record's lines, if this verbosity shows it. Decide first, then write straight
/// into the buffer: a quiet run skips most records, and every line is formatted once, with
/// no string of its own (the hop log was most of what a traced run cost).
fn write_line(o: &mut impl Write, w: &World, r: &Record, level: Level) -> std::io::Result<()> {
    if !shown(w, r, level) {
        return Ok(());
    }
    write!(o, "{:>14} #{}", r.time, r.event.0)?;
    if let Some(c) = r.cause {
        write!(o, "←{}", c.0)?;
    }
    match r.dev {
        Some(d) => write!(o, " {}/{}", w.netns(w.dev(d).ns).name, w.dev(d).name)?,
        None => write!(o, " {}", w.netns(r.ns).name)?,
    }
    let (arrow, none) = match r.dir {
        Dir::Tx => ("▶", ""),
        Dir::Rx => ("◀", ""),
        Dir::Drop => ("✖", "(no frame)"),
        Dir::Deliver => ("●", ""),
        Dir::App => {
            o.write_all(b" $ ")?;
            if let Some(y) = r.why.last() {
                write!(o, "{}", y.show(w))?;
            }
            return o.write_all(b"\n");
        }
    };
    write!(o, " {arrow} ")?;
    match r.frame.as_deref() {
        Some(f) if r.dir != Dir::Deliver => o.write_all(pretty::summary(f).as_bytes())?,
        _ => o.write_all(none.as_bytes())?,
    }
    o.write_all(b"\n")?;
    let n = r.why.len();
    for (i, why) in r.why.iter().enumerate() {
        let branch = if i + 1 == n { "└" } else { "├" };
        writeln!(o, "{INDENT}{branch} {}", why.show(w))?;
    }
    Ok(())
}
