//! netsim's real-kernel backend:
//! - `realise` builds a kernel plan with network namespaces (all named `nsim-<run>-…`) and
//!   removes it; `clean` removes what crashed runs left, as their records name it;
//! - `record` writes down what a run makes before it is made (`/run/netsim/<run>/record`);
//! - `agent` runs one scenario process (`sim_core::userland::apps::Traffic`) on real sockets inside a
//!   namespace, with the simulator's protocols and output lines;
//! - `capture` records every interface of the run's namespaces;
//! - `conversations` puts the frames of either backend in order, conversation by conversation,
//!   at `tcpdump -vv` detail, and finds where two runs part (what `netsim diff` reports);
//! - `kernel` plays a scenario on the kernel, replaying a simulated run's steps.

pub mod agent;
pub mod capture;
pub mod conversations;
pub mod frames;
pub mod kernel;
pub mod realise;
pub mod record;
pub mod state;
