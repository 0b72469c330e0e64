//! Application protocols as sans-IO state machines: bytes in, bytes out, no sockets or
//! clocks. `services` carries their bytes over the simulated TCP and UDP.

pub mod dns;
pub mod http;
pub mod mysql;
pub mod webapp;
