//! Thin PyO3 layer: extract owned Rust data, run the core inside `py.detach`, return plain
//! tuples. One file per core area.

mod arrays;
mod artifacts;
mod credentials;
mod drift;
mod errors;
mod extract;
mod interrupt;
mod metric_states;
mod metrics;
mod models;
mod tracking;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<tracking::SqliteTracking>()?;
    metrics::register(m)?;
    drift::register(m)?;
    artifacts::register(m)?;
    metric_states::register(m)?;
    models::register(m)?;
    m.add(
        "EXPERIMENT_ID_SENTINEL",
        crate::core::tracking::EXPERIMENT_ID_SENTINEL,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SQLITE_VERSION", rusqlite::version())?;
    Ok(())
}
