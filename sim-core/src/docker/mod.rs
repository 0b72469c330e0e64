//! Docker's networking model (CNM, IPAM, drivers, Swarm), compiled into kernel plans.
//!
//! Engine era: v29 by default, or 20.10 (`era::Era`, a scenario's `engine` setting); every
//! era-dependent behaviour is a method of `Era`, and each component asks the era it was
//! built with.
//! So far: `ipam` (the default IPAM driver), `cli` (Docker CLI command lines as typed values)
//! `bridge` (the bridge driver's devices and iptables, compiled into a plan) and `engine`
//! (one host's daemon: commands in, state kept, plan out).

pub mod bridge;
pub mod cli;
pub mod compose;
pub mod engine;
pub mod era;
pub mod images;
pub mod inspect;
pub mod ipam;
pub mod lookup;
pub mod network_ls;
pub mod stack;
pub mod swarm;
pub mod system;
pub mod template;
pub mod timing;

pub use crate::userland::services::EMBEDDED_DNS;

/// A list command's `--format` as docker/cli reads it (`formatter.Context.preFormat`):
/// whether it is a `table`, and the template without that word and the blanks around it,
/// `\t` and `\n` a tab and a newline.
pub(crate) fn list_format(format: &str) -> (bool, String) {
    let (table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, format),
    };
    (table, body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n"))
}

/// What a list command prints for `lines`, its template's output for each object: the lines;
/// under `table`, a header first (the template `body` with each field in `heads` replaced by
/// its column name, docker/cli's `…Header` constants) and the cells aligned on the tabs.
pub(crate) fn format_lines(table: bool, body: &str, lines: Vec<String>, heads: &[(&str, &str)]) -> String {
    if !table {
        return lines.iter().map(|l| format!("{l}\n")).collect();
    }
    let mut head = body.to_string();
    for (field, name) in heads {
        head = head.replace(&format!("{{{{.{field}}}}}"), name);
    }
    let rows: Vec<Vec<String>> =
        std::iter::once(head).chain(lines).map(|l| l.split('\t').map(str::to_string).collect()).collect();
    tabwrite(&rows)
}

/// Whether `labels` hold a `label=KEY` or `label=KEY=VALUE` filter's term (moby's
/// `filters.Args.MatchKVList`: the key alone matches any value).
pub(crate) fn label_matches(labels: &std::collections::BTreeMap<String, String>, term: &str) -> bool {
    match term.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(term),
    }
}

/// A list command's `--format` error as docker/cli words it: `prefix`, then Go's message,
/// where an execution error names the Go type the template ran on (`go_type`) and the
/// renderer, which runs on a map, says the map has no such key.
pub(crate) fn template_error(e: template::TemplateError, prefix: &str, go_type: &str) -> engine::EngineError {
    if e.exit_status() != 1 {
        return engine::EngineError(e.0);
    }
    let m = e.0.strip_prefix("template parsing error: ").unwrap_or(&e.0);
    let m = match m.split_once("map has no entry for key \"") {
        Some((head, key)) => format!("{head}can't evaluate field {} in type {go_type}", key.trim_end_matches('"')),
        None => m.to_string(),
    };
    engine::EngineError(format!("{prefix}{m}"))
}

/// Rows as Go's `text/tabwriter` writes them for docker/cli's tables (minimum width 10,
/// padding 3, blanks): every cell but a row's last is padded to its column's widest cell
/// plus 3, and to at least 10.
pub(crate) fn tabwrite(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            width[i] = width[i].max((c.chars().count() + 3).max(10));
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                out.push_str(&" ".repeat(width[i] - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}
