//! netsim's teaching GUI: step through a scenario and see every frame, where it went and why.
//!
//! `state` is the app's model (the scenario, the simulator at the chosen event, checkpoints);
//! `app` holds what the panels share (selection, filters, playback) and lays them out;
//! `challenge` places the lab's quiz on the run and keeps the answers; `layout` places the
//! topology's hosts, namespaces, devices and labels;
//! each panel is one file under `panels/`.

pub mod app;
pub mod challenge;
pub mod export;
pub mod layout;
pub mod panels;
pub mod state;

pub use app::NetsimApp;
