//! netsim's simulation core: a deterministic, frame-level model of Linux networking.
//!
//! Layers, bottom up (see ARCHITECTURE.md, *Layers*): `engine` (time, queue, RNG), `wire`
//! (bytes) and `plan` (what to build) under everything; `kernel` (namespaces, devices, the IP
//! stack, netfilter, IPVS, sockets), which knows nothing above it; `userland` (the programs,
//! which use the kernel only through its socket calls); `docker` (the daemons' model, which
//! compiles to a plan and starts programs); and on top the scenario, its `director`, the event
//! loop `sim` that owns the trace, grading, `capture` (pcapng), `tools` (commands that look) and `netconf` (commands that
//! change a machine's network: the faults a lab injects). A module uses
//! only modules of its own layer or below: `tests/layers.rs` checks every `crate::` path.

pub mod bench;
pub mod capture;
pub mod director;
pub mod docker;
pub mod engine;
pub mod export;
pub mod gloss;
pub mod grade;
pub mod kernel;
pub mod lesson;
pub mod netconf;
pub mod plan;
pub mod quiz;
pub mod scenario;
pub mod sim;
pub mod spans;
pub mod tools;
pub mod userland;
pub mod wire;

pub use engine::{EventId, SimTime};
pub use sim::{Sim, Stall, StepOutcome, Until};
pub use userland::World;
