//! Docker's networking model (CNM, IPAM, drivers, Swarm), compiled into kernel plans.
//!
//! Engine era: v28/v29 (the "linear" IPAM allocator, the v29 iptables layout); every
//! era-dependent constant lives with the component that uses it and names its moby source.
//! So far: `ipam` (the default IPAM driver).

pub mod ipam;
