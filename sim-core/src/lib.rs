//! netsim's simulation core: a deterministic, frame-level model of Linux networking.
//!
//! Layers, bottom up (see ARCHITECTURE.md): `engine` (time, queue, RNG), `wire` (bytes),
//! `world` + `l2` + `l3` + `apps` (devices, the IP stack, sockets), `netfilter`, `plan`
//! (what to build), `scenario` (files instructors write), `sim` (the event loop), `capture`
//! (pcapng), `show` (state printed as `ip`, `bridge` and `iptables-save` do).

pub mod apps;
pub mod bench;
pub mod capture;
pub mod director;
pub mod dns_zone;
pub mod docker;
pub mod engine;
pub mod grade;
pub mod ipvs;
mod l2;
pub mod l3;
pub mod lesson;
pub mod netfilter;
pub mod plan;
pub mod proto;
pub mod quiz;
pub mod reconf;
pub mod scenario;
pub mod services;
pub mod show;
pub mod sim;
pub mod spans;
pub mod tools;
pub mod trace;
pub mod wire;
pub mod world;

pub use engine::{EventId, SimTime};
pub use sim::{Sim, Stall, StepOutcome, Until};
pub use world::World;
