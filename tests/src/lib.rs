//! Cross-crate and property tests live in tests/ (see ARCHITECTURE.md).
