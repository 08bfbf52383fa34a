//! Pure Rust: no pyo3 anywhere below this module, so everything is testable with `cargo test`.
pub mod artifacts;
pub mod drift;
pub mod metrics;
pub mod models;
pub mod tracking;
