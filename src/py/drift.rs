//! Bindings of the two-sample drift kernels (`mlflow_oxide.drift` owns scipy's conventions).

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use super::arrays::{contiguous, weights, Floats};
use super::interrupt;
use crate::core::metrics::drift::{ks_extremes, wasserstein, Sorted};
use crate::error::CoreResult;
use crate::runtime::Cancel;

/// A float column borrowed as a plain slice, so it can cross into `py.detach`.
#[derive(Clone, Copy)]
enum Slice<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

fn slice<'a>(values: &'a Floats<'_>, name: &str) -> PyResult<Slice<'a>> {
    Ok(match values {
        Floats::F64(a) => Slice::F64(contiguous(a, name)?),
        Floats::F32(a) => Slice::F32(contiguous(a, name)?),
    })
}

fn sorted(values: Slice<'_>, w: Option<&[f64]>, cancel: &Cancel) -> CoreResult<Sorted> {
    match values {
        Slice::F64(a) => Sorted::new(a, w, cancel),
        Slice::F32(a) => Sorted::new(a, w, cancel),
    }
}

fn both(
    py: Python<'_>,
    a: &Floats<'_>,
    b: &Floats<'_>,
    wa: Option<&[f64]>,
    wb: Option<&[f64]>,
) -> PyResult<(Sorted, Sorted)> {
    let (a, b) = (slice(a, "data1")?, slice(b, "data2")?);
    let rows = match a {
        Slice::F64(x) => x.len(),
        Slice::F32(x) => x.len(),
    };
    // Sort both samples in parallel with the GIL released.
    interrupt::run(py, rows, |cancel| {
        let (x, y) = rayon::join(|| sorted(a, wa, cancel), || sorted(b, wb, cancel));
        Ok((x?, y?))
    })
}

/// `(max(cdf1 - cdf2), where first, min(cdf1 - cdf2), where first)`.
#[pyfunction]
pub fn ks_extremes_of<'py>(
    py: Python<'py>,
    data1: Floats<'py>,
    data2: Floats<'py>,
) -> PyResult<(f64, f64, f64, f64)> {
    let (a, b) = both(py, &data1, &data2, None, None)?;
    let e = py.detach(|| ks_extremes(&a, &b));
    Ok((e.max, e.max_at, e.min, e.min_at))
}

#[pyfunction]
#[pyo3(signature = (u_values, v_values, u_weights=None, v_weights=None))]
pub fn wasserstein_1d<'py>(
    py: Python<'py>,
    u_values: Floats<'py>,
    v_values: Floats<'py>,
    u_weights: Option<PyReadonlyArray1<'py, f64>>,
    v_weights: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<f64> {
    let (wu, wv) = (weights(&u_weights)?, weights(&v_weights)?);
    let (u, v) = both(py, &u_values, &v_values, wu, wv)?;
    Ok(py.detach(|| wasserstein(&u, &v)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ks_extremes_of, m)?)?;
    m.add_function(wrap_pyfunction!(wasserstein_1d, m)?)?;
    Ok(())
}
