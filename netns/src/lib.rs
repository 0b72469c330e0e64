//! netsim's real-kernel backend (issue 4, in progress):
//! - `realise` builds a kernel plan with network namespaces (all named `nsim-<run>-…`) and
//!   removes it; `clean_all` removes a crashed run's leftovers;
//! - `agent` runs one scenario process (`sim_core::apps::Traffic`) on real sockets inside a
//!   namespace, with the simulator's protocols and output lines;
//! - `capture` records every interface of the run's namespaces;
//! - `kernel` plays a scenario on the kernel, replaying a simulated run's steps.

pub mod agent;
pub mod capture;
pub mod frames;
pub mod kernel;
pub mod realise;
pub mod state;
