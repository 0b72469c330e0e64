//! netsim's real-kernel backend (issue 4, in progress). `agent` runs one scenario process
//! (`sim_core::apps::Traffic`) on real sockets inside a network namespace, speaking the same
//! protocols and printing the same lines as the simulator.

pub mod agent;
pub mod capture;
