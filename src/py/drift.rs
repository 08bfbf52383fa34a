//! Bindings of the drift kernels: sorted samples (one per column, reused by every test),
//! the statistics, and the baseline profile. `mlflow_oxide.drift` owns scipy's conventions.

use std::sync::Arc;

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use super::arrays::{contiguous, Floats};
use super::interrupt;
use super::metric_states::{label_from, label_to};
use crate::core::drift::binned;
use crate::core::drift::profile::{ColumnProfile, Profile, Summary};
use crate::core::drift::rank;
use crate::core::drift::sample::Sample;
use crate::core::drift::sketch::Sketch;
use crate::core::drift::two_sample::{ks_extremes, wasserstein};
use crate::core::metrics::states::{LabelValue, StateKind};
use crate::error::{value_error, CoreResult};
use crate::runtime::{self, Cancel};

/// A float column borrowed as a plain slice, so it can cross into `py.detach`.
#[derive(Clone, Copy)]
enum Slice<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

impl Slice<'_> {
    fn len(&self) -> usize {
        match self {
            Slice::F64(a) => a.len(),
            Slice::F32(a) => a.len(),
        }
    }

    fn sorted(self, cancel: &Cancel) -> CoreResult<Sample> {
        match self {
            Slice::F64(a) => Sample::from_sorted(a, cancel),
            Slice::F32(a) => Sample::from_sorted(a, cancel),
        }
    }

    fn sort(self, weights: Option<&[f64]>, cancel: &Cancel) -> CoreResult<Sample> {
        match self {
            Slice::F64(a) => Sample::new(a, weights, cancel),
            Slice::F32(a) => Sample::new(a, weights, cancel),
        }
    }
}

fn slice<'a>(values: &'a Floats<'_>, name: &str) -> PyResult<Slice<'a>> {
    Ok(match values {
        Floats::F64(a) => Slice::F64(contiguous(a, name)?),
        Floats::F32(a) => Slice::F32(contiguous(a, name)?),
    })
}

/// A sorted sample: raw values (unit or given weights) or a profile's sketch.
#[pyclass(name = "DriftSample", module = "mlflow_oxide._native", frozen)]
pub struct PySample(Arc<Sample>);

#[pymethods]
impl PySample {
    fn __len__(&self) -> usize {
        self.0.len()
    }

    #[getter]
    fn weighted(&self) -> bool {
        self.0.is_weighted()
    }

    /// Total weight (the row count for raw samples).
    #[getter]
    fn total(&self) -> f64 {
        self.0.total()
    }

    fn quantiles(&self, py: Python<'_>, qs: Vec<f64>) -> Vec<f64> {
        py.detach(|| binned::quantiles(&self.0, &qs))
    }

    /// Weight per bin of `edges` (bin 0 below the first edge, left-closed bins).
    fn bin_counts(&self, py: Python<'_>, edges: Vec<f64>) -> Vec<f64> {
        py.detach(|| binned::bin_counts(&self.0, &edges))
    }

    /// Distinct values and their weights, ascending, or None when there are more than `limit`.
    fn distinct(&self, py: Python<'_>, limit: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        py.detach(|| self.0.distinct_up_to(limit))
    }
}

/// Sort several columns at once (in parallel, GIL released); `weights[i]` may be None.
#[pyfunction]
#[pyo3(signature = (columns, weights=None))]
pub fn sort_samples<'py>(
    py: Python<'py>,
    columns: Vec<Floats<'py>>,
    weights: Option<Vec<Option<PyReadonlyArray1<'py, f64>>>>,
) -> PyResult<Vec<PySample>> {
    let slices: Vec<Slice<'_>> = columns
        .iter()
        .map(|c| slice(c, "sample"))
        .collect::<PyResult<_>>()?;
    let weights = weights.unwrap_or_default();
    let weight_slices: Vec<Option<&[f64]>> = (0..slices.len())
        .map(|i| match weights.get(i) {
            Some(Some(w)) => contiguous(w, "weights").map(Some),
            _ => Ok(None),
        })
        .collect::<PyResult<_>>()?;
    let rows = slices.iter().map(Slice::len).sum();
    let sorted = interrupt::run(py, rows, |cancel| {
        slices
            .par_iter()
            .zip(weight_slices.par_iter())
            .map(|(s, w)| s.sort(*w, cancel))
            .collect::<CoreResult<Vec<_>>>()
    })?;
    Ok(sorted.into_iter().map(|s| PySample(Arc::new(s))).collect())
}

/// Samples from columns already sorted ascending (checked), in parallel.
#[pyfunction]
pub fn sorted_samples<'py>(py: Python<'py>, columns: Vec<Floats<'py>>) -> PyResult<Vec<PySample>> {
    let slices: Vec<Slice<'_>> = columns
        .iter()
        .map(|c| slice(c, "sample"))
        .collect::<PyResult<_>>()?;
    let rows = slices.iter().map(Slice::len).sum();
    let samples = interrupt::run(py, rows, |cancel| {
        slices
            .par_iter()
            .map(|s| s.sorted(cancel))
            .collect::<CoreResult<Vec<_>>>()
    })?;
    Ok(samples.into_iter().map(|s| PySample(Arc::new(s))).collect())
}

/// numpy-linear quantiles of an unsorted column (no sort: radix selection).
#[pyfunction]
pub fn quantiles_unsorted<'py>(
    py: Python<'py>,
    values: Floats<'py>,
    qs: Vec<f64>,
) -> PyResult<Vec<f64>> {
    let values = slice(&values, "values")?;
    interrupt::run(py, values.len(), |cancel| match values {
        Slice::F64(a) => binned::quantiles_unsorted(a, &qs, cancel),
        Slice::F32(a) => binned::quantiles_unsorted(a, &qs, cancel),
    })
}

/// Weight per bin of `edges` for an unsorted column (see `DriftSample.bin_counts`).
#[pyfunction]
pub fn bin_counts_unsorted<'py>(
    py: Python<'py>,
    values: Floats<'py>,
    edges: Vec<f64>,
) -> PyResult<Vec<f64>> {
    let values = slice(&values, "values")?;
    interrupt::run(py, values.len(), |cancel| match values {
        Slice::F64(a) => binned::bin_counts_unsorted(a, &edges, cancel),
        Slice::F32(a) => binned::bin_counts_unsorted(a, &edges, cancel),
    })
}

/// `(max(cdf1 - cdf2), where first, min(cdf1 - cdf2), where first)`.
#[pyfunction]
pub fn ks_extremes_of(py: Python<'_>, a: &PySample, b: &PySample) -> (f64, f64, f64, f64) {
    let e = py.detach(|| runtime::install(|| ks_extremes(&a.0, &b.0)));
    (e.max, e.max_at, e.min, e.min_at)
}

#[pyfunction]
pub fn wasserstein_of(py: Python<'_>, u: &PySample, v: &PySample) -> f64 {
    py.detach(|| runtime::install(|| wasserstein(&u.0, &v.0)))
}

/// scipy's `A2kN` (before its normalization and critical values).
#[pyfunction]
pub fn anderson_ksamp_of(
    py: Python<'_>,
    samples: Vec<PyRef<'_, PySample>>,
    variant: &str,
) -> PyResult<f64> {
    let variant = match variant {
        "midrank" => rank::Variant::Midrank,
        "right" => rank::Variant::Right,
        "continuous" => rank::Variant::Continuous,
        other => return Err(value_error(format!("unknown variant {other:?}")).into()),
    };
    let arcs: Vec<Arc<Sample>> = samples.iter().map(|s| Arc::clone(&s.0)).collect();
    Ok(py.detach(|| {
        let refs: Vec<&Sample> = arcs.iter().map(|a| a.as_ref()).collect();
        rank::anderson_ksamp(&refs, variant)
    })?)
}

#[pyfunction]
pub fn cramervonmises_u_of(py: Python<'_>, x: &PySample, y: &PySample) -> PyResult<f64> {
    Ok(py.detach(|| runtime::install(|| rank::cramervonmises_u(&x.0, &y.0)))?)
}

#[pyclass(name = "DriftProfileCore", module = "mlflow_oxide._native")]
#[derive(Default)]
pub struct PyProfile(Profile);

impl PyProfile {
    fn push(&mut self, column: ColumnProfile) -> PyResult<()> {
        if self.0.columns.iter().any(|c| c.name == column.name) {
            return Err(value_error(format!("column {:?} is profiled twice", column.name)).into());
        }
        self.0.columns.push(column);
        Ok(())
    }
}

#[pymethods]
impl PyProfile {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Summarize a numeric column: `sample` holds its non-null values (None when it has none).
    #[pyo3(signature = (name, dtype, rows, nulls, sample, capacity))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python call, one value per column field
    fn add_numeric(
        &mut self,
        py: Python<'_>,
        name: String,
        dtype: String,
        rows: u64,
        nulls: u64,
        sample: Option<&PySample>,
        capacity: u32,
    ) -> PyResult<()> {
        let sketch = match sample {
            None => Sketch::empty(capacity)?,
            Some(s) => py.detach(|| Sketch::of(&s.0, capacity))?,
        };
        self.push(ColumnProfile {
            name,
            dtype,
            rows,
            nulls,
            summary: Summary::Numeric(sketch),
        })
    }

    fn add_categorical(
        &mut self,
        name: String,
        dtype: String,
        rows: u64,
        nulls: u64,
        labels: Vec<Bound<'_, PyAny>>,
        counts: Vec<f64>,
    ) -> PyResult<()> {
        if labels.len() != counts.len() {
            return Err(value_error("labels and counts differ in length").into());
        }
        let labels: Vec<LabelValue> = labels.iter().map(label_from).collect::<PyResult<_>>()?;
        self.push(ColumnProfile {
            name,
            dtype,
            rows,
            nulls,
            summary: Summary::Categorical { labels, counts },
        })
    }

    fn merge(&self, other: &PyProfile) -> PyResult<PyProfile> {
        Ok(PyProfile(self.0.merge(&other.0)?))
    }

    /// `(name, kind, dtype, rows, nulls)` per column, in profiling order.
    fn columns(&self) -> Vec<(String, &'static str, String, u64, u64)> {
        self.0
            .columns
            .iter()
            .map(|c| {
                let kind = match c.summary {
                    Summary::Numeric(_) => "numeric",
                    Summary::Categorical { .. } => "categorical",
                };
                (c.name.clone(), kind, c.dtype.clone(), c.rows, c.nulls)
            })
            .collect()
    }

    /// A numeric column's sketch as a weighted sample: points at block maxima, or at block
    /// means (`means=True`, for Wasserstein distances).
    #[pyo3(signature = (name, means=false))]
    fn sample(&self, name: &str, means: bool) -> PyResult<PySample> {
        Ok(PySample(Arc::new(sketch_of(&self.0, name)?.sample(means)?)))
    }

    /// `(count, mean, std, rank_error, capacity, points)` of a numeric column.
    fn numeric_stats(&self, name: &str) -> PyResult<(f64, f64, f64, f64, u32, usize)> {
        let s = sketch_of(&self.0, name)?;
        let m = s.moments;
        Ok((
            m.count,
            m.mean,
            m.std(),
            s.rank_error,
            s.capacity,
            s.points().0.len(),
        ))
    }

    /// A categorical column's `(labels, counts)`.
    fn categories<'py>(
        &self,
        py: Python<'py>,
        name: &str,
    ) -> PyResult<(Vec<Bound<'py, PyAny>>, Vec<f64>)> {
        match &self.0.column(name)?.summary {
            Summary::Categorical { labels, counts } => Ok((
                labels
                    .iter()
                    .map(|l| label_to(py, l))
                    .collect::<PyResult<_>>()?,
                counts.clone(),
            )),
            Summary::Numeric(_) => {
                Err(value_error(format!("column {name:?} is numeric in the profile")).into())
            }
        }
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.0.to_bytes()?))
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self(Profile::from_bytes(data)?))
    }
}

fn sketch_of<'a>(profile: &'a Profile, name: &str) -> CoreResult<&'a Sketch> {
    match &profile.column(name)?.summary {
        Summary::Numeric(s) => Ok(s),
        Summary::Categorical { .. } => Err(value_error(format!(
            "column {name:?} is categorical in the profile"
        ))),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySample>()?;
    m.add_class::<PyProfile>()?;
    m.add_function(wrap_pyfunction!(sort_samples, m)?)?;
    m.add_function(wrap_pyfunction!(sorted_samples, m)?)?;
    m.add_function(wrap_pyfunction!(bin_counts_unsorted, m)?)?;
    m.add_function(wrap_pyfunction!(quantiles_unsorted, m)?)?;
    m.add_function(wrap_pyfunction!(ks_extremes_of, m)?)?;
    m.add_function(wrap_pyfunction!(wasserstein_of, m)?)?;
    m.add_function(wrap_pyfunction!(anderson_ksamp_of, m)?)?;
    m.add_function(wrap_pyfunction!(cramervonmises_u_of, m)?)?;
    Ok(())
}
