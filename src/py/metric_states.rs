//! Native halves of the mergeable states in `mlflow_oxide.metrics` (the Python classes add
//! label handling and the metric formulas).

use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString};

use super::arrays::{contiguous, weights, Floats};
use super::interrupt;
use crate::core::metrics::curve::binary_curve;
use crate::core::metrics::regression::{self, Loss};
use crate::core::metrics::states::{
    ConfusionState, LabelValue, RegressionBatch, RegressionState, ScoreState, StateKind,
};
use crate::core::metrics::Value;
use crate::error::CoreResult;
use crate::runtime::Cancel;

pub(super) fn label_from(obj: &Bound<'_, PyAny>) -> PyResult<LabelValue> {
    if obj.is_instance_of::<PyBool>() {
        Ok(LabelValue::Bool(obj.extract()?))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(LabelValue::Int(obj.extract()?))
    } else if obj.is_instance_of::<PyFloat>() {
        Ok(LabelValue::Float(obj.extract()?))
    } else if obj.is_instance_of::<PyString>() {
        Ok(LabelValue::Str(obj.extract()?))
    } else {
        Err(PyTypeError::new_err(format!(
            "labels must be int, float, bool or str, got {}",
            obj.get_type().name()?
        )))
    }
}

pub(super) fn label_to<'py>(py: Python<'py>, label: &LabelValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match label {
        LabelValue::Int(v) => v.into_pyobject(py)?.into_any(),
        LabelValue::Float(v) => v.into_pyobject(py)?.into_any(),
        LabelValue::Str(v) => v.into_pyobject(py)?.into_any(),
        LabelValue::Bool(v) => PyBool::new(py, *v).to_owned().into_any(),
    })
}

#[pyclass(name = "ConfusionStateCore", module = "mlflow_oxide._native")]
#[derive(Default)]
pub struct PyConfusionState(ConfusionState);

#[pymethods]
impl PyConfusionState {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Add one batch: its labels and their dense confusion counts (weighted and by rows).
    fn add(
        &mut self,
        labels: Vec<Bound<'_, PyAny>>,
        counts: PyReadonlyArray2<'_, f64>,
        raw: PyReadonlyArray2<'_, f64>,
        rows: u64,
        weighted: bool,
    ) -> PyResult<()> {
        let labels: Vec<LabelValue> = labels.iter().map(label_from).collect::<PyResult<_>>()?;
        let square = |m: &PyReadonlyArray2<'_, f64>| -> PyResult<Vec<f64>> {
            let flat = m
                .as_slice()
                .map_err(|_| PyTypeError::new_err("counts must be contiguous"))?;
            if flat.len() != labels.len() * labels.len() {
                return Err(PyValueError::new_err(
                    "counts must be a square matrix over labels",
                ));
            }
            Ok(flat.to_vec())
        };
        Ok(self
            .0
            .add(&labels, &square(&counts)?, &square(&raw)?, rows, weighted)?)
    }

    #[getter]
    fn raw_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let k = self.0.labels.len();
        self.0.raw.clone().into_pyarray(py).reshape([k, k])
    }

    fn merge(&mut self, other: PyRef<'_, Self>) -> PyResult<()> {
        Ok(self.0.merge(&other.0)?)
    }

    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.0.labels.iter().map(|l| label_to(py, l)).collect()
    }

    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let k = self.0.labels.len();
        self.0.counts.clone().into_pyarray(py).reshape([k, k])
    }

    #[getter]
    fn rows(&self) -> u64 {
        self.0.rows
    }

    #[getter]
    fn weighted(&self) -> bool {
        self.0.weighted
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.0.to_bytes()?))
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self(ConfusionState::from_bytes(data)?))
    }
}

#[pyclass(name = "RegressionStateCore", module = "mlflow_oxide._native")]
#[derive(Default)]
pub struct PyRegressionState(RegressionState);

fn regression_batch<T: Value>(
    y: &[T],
    p: &[T],
    w: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<RegressionBatch> {
    let loss = |kind| regression::weighted_loss(y, p, w, kind, cancel).map(|(num, _)| num);
    let moments = regression::moments(y, p, w, cancel)?;
    let sq_log = loss(Loss::SquaredLog)?;
    // MLflow-style logging reports the squared log error only for non-negative targets.
    let log_defined = y.iter().chain(p).all(|v| v.f64() >= 0.0);
    Ok(RegressionBatch {
        rows: y.len() as u64,
        sum_wy: moments.mean_y * moments.sum_w,
        abs: loss(Loss::Absolute)?,
        sq: moments.ss_res,
        ape: loss(Loss::AbsolutePercentage)?,
        sq_log: log_defined.then_some(sq_log),
        max_error: regression::max_error(y, p, cancel)?,
        moments,
    })
}

#[pymethods]
impl PyRegressionState {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    #[pyo3(signature = (y_true, y_pred, sample_weight=None))]
    fn update(
        &mut self,
        py: Python<'_>,
        y_true: Floats<'_>,
        y_pred: Floats<'_>,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let w = weights(&sample_weight)?;
        let batch = match (&y_true, &y_pred) {
            (Floats::F64(y), Floats::F64(p)) => {
                let (y, p) = (contiguous(y, "y_true")?, contiguous(p, "y_pred")?);
                interrupt::run(py, y.len(), |c| regression_batch(y, p, w, c))?
            }
            _ => return Err(PyTypeError::new_err("y_true and y_pred must be float64")),
        };
        self.0.add(&batch);
        Ok(())
    }

    fn merge(&mut self, other: PyRef<'_, Self>) {
        self.0.merge(&other.0);
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.0;
        let d = PyDict::new(py);
        d.set_item("rows", s.rows)?;
        d.set_item("sum_w", s.sum_w)?;
        d.set_item("sum_wy", s.sum_wy)?;
        d.set_item("abs", s.abs)?;
        d.set_item("sq", s.sq)?;
        d.set_item("ape", s.ape)?;
        d.set_item("sq_log", (!s.log_undefined).then_some(s.sq_log))?;
        d.set_item("max_error", s.max_error)?;
        d.set_item("ss_tot", s.m2_y)?;
        d.set_item("ss_diff", s.m2_d)?;
        Ok(d)
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.0.to_bytes()?))
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self(RegressionState::from_bytes(data)?))
    }
}

#[pyclass(name = "ScoreStateCore", module = "mlflow_oxide._native")]
pub struct PyScoreState(ScoreState);

#[pymethods]
impl PyScoreState {
    #[new]
    #[pyo3(signature = (bins=None, pos_label=None))]
    fn new(bins: Option<u32>, pos_label: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        if bins == Some(0) {
            return Err(PyValueError::new_err(
                "bins must be a positive integer or None",
            ));
        }
        let mut state = ScoreState::new(bins);
        state.pos_label = pos_label.as_ref().map(label_from).transpose()?;
        Ok(Self(state))
    }

    #[getter]
    fn pos_label<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .pos_label
            .as_ref()
            .map(|l| label_to(py, l))
            .transpose()
    }

    #[pyo3(signature = (positive, score, sample_weight=None))]
    fn update(
        &mut self,
        py: Python<'_>,
        positive: PyReadonlyArray1<'_, bool>,
        score: PyReadonlyArray1<'_, f64>,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let pos = contiguous(&positive, "y_true")?;
        let s = contiguous(&score, "y_score")?;
        let w = weights(&sample_weight)?;
        let bins = self.0.bins;
        let curve = interrupt::run(py, s.len(), |c| match bins {
            None => binary_curve(pos, s, w, c),
            Some(b) => {
                let mut idx = Vec::with_capacity(s.len());
                for &x in s {
                    if !(0.0..=1.0).contains(&x) {
                        return Err(crate::error::value_error(format!(
                            "histogram mode needs scores in [0, 1], got {x}"
                        )));
                    }
                    idx.push(((x * b as f64).floor()).min(b as f64 - 1.0));
                }
                binary_curve(pos, &idx, w, c)
            }
        })?;
        self.0.add_curve(&curve, s.len() as u64);
        Ok(())
    }

    fn merge(&mut self, other: PyRef<'_, Self>) -> PyResult<()> {
        if self.0.pos_label != other.0.pos_label {
            return Err(PyValueError::new_err(format!(
                "cannot merge score states with different pos_label ({:?} and {:?})",
                self.0.pos_label, other.0.pos_label
            )));
        }
        if self.0.bins != other.0.bins {
            return Err(PyValueError::new_err(format!(
                "cannot merge score states with different bins ({:?} and {:?})",
                self.0.bins, other.0.bins
            )));
        }
        self.0.merge(&other.0);
        Ok(())
    }

    /// `(roc_auc, average_precision, positive weight, negative weight)`.
    fn ranking(&self) -> (f64, f64, f64, f64) {
        let curve = self.0.curve();
        let p = curve.tps.last().copied().unwrap_or(0.0);
        let n = curve.fps.last().copied().unwrap_or(0.0);
        (curve.roc_auc(), curve.average_precision(), p, n)
    }

    fn max_auc_error(&self) -> f64 {
        self.0.max_auc_error()
    }

    #[getter]
    fn bins(&self) -> Option<u32> {
        self.0.bins
    }

    #[getter]
    fn rows(&self) -> u64 {
        self.0.rows
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.0.to_bytes()?))
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self(ScoreState::from_bytes(data)?))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyConfusionState>()?;
    m.add_class::<PyRegressionState>()?;
    m.add_class::<PyScoreState>()?;
    Ok(())
}
