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
pub mod engine;
pub mod era;
pub mod images;
pub mod inspect;
pub mod ipam;
pub mod lookup;
pub mod swarm;
pub mod template;
pub mod timing;

pub use crate::userland::services::EMBEDDED_DNS;
