//! Docker's networking model (CNM, IPAM, drivers, Swarm), compiled into kernel plans.
//!
//! Engine era: v28/v29 (the "linear" IPAM allocator, the v29 iptables layout); every
//! era-dependent constant lives with the component that uses it and names its moby source.
//! So far: `ipam` (the default IPAM driver), `cli` (Docker CLI command lines as typed values)
//! and `bridge` (the bridge driver's devices and iptables, compiled into a plan).

pub mod bridge;
pub mod cli;
pub mod ipam;
