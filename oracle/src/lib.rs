//! The real Docker Engine as the judge of the Docker model.
//!
//! `replay` plays a scenario's steps on the engine of this machine: the docker commands as
//! typed, with every image replaced by the project's agent image (`image`) running the
//! same process the simulator runs in that container; program steps run the agent on the
//! host or in a namespace standing for a LAN machine. `record` is what the engine did:
//! inspect JSON, each sandbox's state, iptables, the programs' output, and a capture of the
//! bridges. `compare` sets a record beside the simulator's run of the same file, after
//! normalising what is random or daemon history (IDs, veth names, ports, the subnets a
//! round-robin allocator had handed out before), and lists every difference.
//!
//! Every step of the lab is played, also those the simulator's run never reached (a run
//! that stopped early): such a step is typed as the lab has it, and `compare` names it as a
//! difference.
//!
//! A record is kept under `traces/docker/`, so the comparison also runs where no engine is.

pub mod compare;
pub mod engine;
pub mod image;
pub mod record;
pub mod replay;

pub use record::Record;

/// What went wrong, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No engine answers: the exact error of `docker info`.
    #[error("no usable Docker Engine: {0}")]
    NoEngine(String),
    /// The engine holds things the oracle did not make.
    #[error("{0}")]
    Refused(String),
    /// The scenario needs what one engine on this machine cannot give.
    #[error("{0}")]
    NotHostable(String),
    #[error("{what}: {msg}")]
    Command { what: String, msg: String },
    #[error("{0}")]
    Other(String),
}

/// Label on everything the oracle creates, so clean-up and the pre-flight check know it.
pub const LABEL: &str = "netsim.oracle=1";
