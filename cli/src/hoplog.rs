//! The hop log: one tcpdump-like line per frame leaving a device, with the reasons under it.

use sim_core::World;
use sim_core::kernel::trace::{Dir, Record};
use sim_core::wire::pretty;

pub struct Printer {
    verbose: bool,
    quiet: bool,
    /// Standard error instead of standard output (which then carries the pcapng).
    to_stderr: bool,
}

impl Printer {
    pub fn new(verbose: bool, quiet: bool, to_stderr: bool) -> Self {
        Printer { verbose, quiet, to_stderr }
    }

    pub fn print(&mut self, w: &World, recs: &[Record]) {
        use std::io::Write;
        let sink: Box<dyn Write> =
            if self.to_stderr { Box::new(std::io::stderr().lock()) } else { Box::new(std::io::stdout().lock()) };
        let mut o = std::io::BufWriter::new(sink);
        for r in recs {
            if let Some(l) = line(w, r, self.verbose, self.quiet)
                && o.write_all(l.as_bytes()).is_err()
            {
                std::process::exit(0);
            }
        }
        if o.flush().is_err() {
            std::process::exit(0);
        }
    }
}

/// Formats one record; `None` for records this verbosity does not show.
pub fn line(w: &World, r: &Record, verbose: bool, quiet: bool) -> Option<String> {
    // Decide first: most records of a quiet run are not printed, and formatting them was
    // half of what `-q` cost.
    let shown = match r.dir {
        Dir::App => true,
        // A delivery ends a frame's journey: its last decisions (a REDIRECT, INPUT) are there.
        Dir::Tx | Dir::Drop | Dir::Deliver => !quiet,
        Dir::Rx => verbose && !quiet,
    };
    if !shown {
        return None;
    }
    let place = match r.dev {
        Some(d) => w.dev_path(d),
        None => w.netns(r.ns).name.clone(),
    };
    let cause = r.cause.map(|c| format!("←{}", c.0)).unwrap_or_default();
    let head = format!("{:>14} #{}{cause} {place}", r.time.to_string(), r.event.0);
    let (arrow, body) = match r.dir {
        Dir::Tx => ("▶", r.frame.as_deref().map(pretty::summary).unwrap_or_default()),
        Dir::Rx => ("◀", r.frame.as_deref().map(pretty::summary).unwrap_or_default()),
        Dir::Drop => ("✖", r.frame.as_deref().map(pretty::summary).unwrap_or_else(|| "(no frame)".into())),
        Dir::Deliver => ("●", String::new()),
        Dir::App => {
            let text = r.why.last().map(|w| w.to_string()).unwrap_or_default();
            return Some(format!("{head} $ {text}\n"));
        }
    };
    let mut s = format!("{head} {arrow} {body}\n");
    let n = r.why.len();
    for (i, why) in r.why.iter().enumerate() {
        let branch = if i + 1 == n { "└" } else { "├" };
        s += &format!("{:>14}   {branch} {why}\n", "");
    }
    Some(s)
}
