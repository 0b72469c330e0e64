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
pub mod template;
pub mod timing;

pub use crate::userland::services::EMBEDDED_DNS;

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
