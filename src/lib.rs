//! mlflow-oxide native module: assembles the pure core and, with the `python` feature, the
//! thin PyO3 binding layer.
pub mod core;
pub mod error;
pub mod runtime;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
use pyo3::prelude::*;

#[cfg(feature = "python")]
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
