//! Cross-crate and property tests live in tests/ (see ARCHITECTURE.md). The library holds
//! what both the tests and the cargo-fuzz project in fuzz/ call: the fuzz targets, their seed
//! corpus and the in-tree mutation driver.

pub mod fuzz;
