//! One file per panel. Each draws from `&Session` (or changes it through its methods) and the
//! shared `app::View`; none keeps simulator state of its own.

pub mod console;
pub mod controls;
pub mod events;
pub mod inspector;
pub mod lesson;
pub mod quiz;
pub mod tables;
pub mod topology;
