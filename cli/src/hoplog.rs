//! The hop log: one tcpdump-like line per frame leaving a device, with the reasons under it.

use std::io::Write;

use sim_core::World;
use sim_core::kernel::trace::{Dir, Record, Texts};
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
    /// The lines being made, written out in large pieces.
    buf: String,
    /// Each reason's text, made once.
    texts: Texts,
}

impl Printer {
    pub fn new(level: Level, to_stderr: bool) -> Self {
        Printer { level, to_stderr, buf: String::new(), texts: Texts::default() }
    }

    pub fn print(&mut self, w: &World, recs: &[Record]) {
        let mut o: Box<dyn Write> =
            if self.to_stderr { Box::new(std::io::stderr().lock()) } else { Box::new(std::io::stdout().lock()) };
        for r in recs {
            write_line(&mut self.buf, &mut self.texts, w, r, self.level);
            if self.buf.len() >= 1 << 16 {
                out(&mut o, &mut self.buf);
            }
        }
        out(&mut o, &mut self.buf);
        if o.flush().is_err() {
            std::process::exit(0);
        }
    }
}

/// Writes what is made so far; a reader that has gone away (`| head`) ends the run quietly.
fn out(o: &mut impl Write, buf: &mut String) {
    if o.write_all(buf.as_bytes()).is_err() {
        std::process::exit(0);
    }
    buf.clear();
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

/// Appends one record's lines, if this verbosity shows it. Decide first, then write straight
/// into the buffer: a quiet run skips most records, every line is made once with no string
/// of its own, and a reason's text is made once per run (the hop log was most of what a
/// traced run cost).
fn write_line(o: &mut String, texts: &mut Texts, w: &World, r: &Record, level: Level) {
    if !shown(w, r, level) {
        return;
    }
    let mut num = itoa::Buffer::new();
    r.time.push_to(o, 14);
    o.push_str(" #");
    o.push_str(num.format(r.event.0));
    if let Some(c) = r.cause {
        o.push('←');
        o.push_str(num.format(c.0));
    }
    o.push(' ');
    match r.dev {
        Some(d) => {
            o.push_str(&w.netns(w.dev(d).ns).name);
            o.push('/');
            o.push_str(&w.dev(d).name);
        }
        None => o.push_str(&w.netns(r.ns).name),
    }
    let (arrow, none) = match r.dir {
        Dir::Tx => ("▶", ""),
        Dir::Rx => ("◀", ""),
        Dir::Drop => ("✖", "(no frame)"),
        Dir::Deliver => ("●", ""),
        Dir::App => {
            // netsim's own words are marked apart from what a program printed.
            let note = matches!(r.why.last(), Some(sim_core::kernel::trace::Why::Note(_)));
            o.push_str(if note { " # " } else { " $ " });
            if let Some(y) = r.why.last() {
                o.push_str(texts.get(y, w));
            }
            o.push('\n');
            return;
        }
    };
    o.push(' ');
    o.push_str(arrow);
    o.push(' ');
    match r.frame.as_deref() {
        Some(f) if r.dir != Dir::Deliver => pretty::summary_into(f, o),
        _ => o.push_str(none),
    }
    o.push('\n');
    let n = r.why.len();
    for (i, why) in r.why.iter().enumerate() {
        o.push_str(INDENT);
        o.push_str(if i + 1 == n { "└ " } else { "├ " });
        o.push_str(texts.get(why, w));
        o.push('\n');
    }
}
