//! Bindings of the metric kernels: numpy in, numbers or numpy out. Argument conventions and
//! scikit-learn's rules live in `mlflow_oxide.metrics`; these functions trust their inputs'
//! shapes and dtypes (checked there) and do the passes over the rows.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::arrays::{codes_u32, contiguous, contiguous2, weights, Floats, Labels, Matrix};
use super::interrupt;
use crate::core::metrics::curve::{binary_counts, binary_curve, check_finite, Curve};
use crate::core::metrics::labels::{
    confusion_of, encode, keys_to_f64, keys_to_i64, unique_keys, Label,
};
use crate::core::metrics::multiclass::{self, Scores};
use crate::core::metrics::regression::{self, Loss};

macro_rules! floats {
    ($arr:expr, $name:expr, |$s:ident| $body:expr) => {
        match $arr {
            Floats::F64(a) => {
                let $s = contiguous(a, $name)?;
                $body
            }
            Floats::F32(a) => {
                let $s = contiguous(a, $name)?;
                $body
            }
        }
    };
}

macro_rules! matrix {
    ($arr:expr, $name:expr, |$s:ident| $body:expr) => {
        match $arr {
            Matrix::F64(a) => {
                let (data, n_classes) = contiguous2(a, $name)?;
                let $s = Scores { data, n_classes };
                $body
            }
            Matrix::F32(a) => {
                let (data, n_classes) = contiguous2(a, $name)?;
                let $s = Scores { data, n_classes };
                $body
            }
        }
    };
}

fn label_slices<'a, L: numpy::Element + Label>(
    columns: &'a [PyReadonlyArray1<'_, L>],
) -> PyResult<Vec<&'a [L]>> {
    columns.iter().map(|c| contiguous(c, "labels")).collect()
}

/// Sorted unique labels over all columns, which must share one dtype.
#[pyfunction]
pub fn unique_labels<'py>(
    py: Python<'py>,
    columns: Vec<Labels<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    for c in columns {
        match c {
            Labels::I64(a) => ints.push(a),
            Labels::F64(a) => floats.push(a),
        }
    }
    if !ints.is_empty() && !floats.is_empty() {
        return Err(PyValueError::new_err("label columns must share one dtype"));
    }
    if floats.is_empty() {
        let cols = label_slices(&ints)?;
        let rows = cols.iter().map(|c| c.len()).sum();
        let keys = interrupt::run(py, rows, |cancel| unique_keys(&cols, cancel))?;
        Ok(keys_to_i64(&keys).into_pyarray(py).into_any())
    } else {
        let cols = label_slices(&floats)?;
        let rows = cols.iter().map(|c| c.len()).sum();
        let keys = interrupt::run(py, rows, |cancel| unique_keys(&cols, cancel))?;
        Ok(keys_to_f64(&keys).into_pyarray(py).into_any())
    }
}

fn keys_of<L: Label>(labels: &[L]) -> Vec<u64> {
    let mut keys: Vec<u64> = labels.iter().map(|l| l.ord_key()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

type ConfusionArrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
);

/// One pass: `(sorted labels, counts over them, label occurs in y_true, ... in y_pred)`.
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, sample_weight=None))]
pub fn confusion_table<'py>(
    py: Python<'py>,
    y_true: Labels<'py>,
    y_pred: Labels<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<ConfusionArrays<'py>> {
    let w = weights(&sample_weight)?;
    let (table, labels) = match (&y_true, &y_pred) {
        (Labels::I64(t), Labels::I64(p)) => {
            let (t, p) = (contiguous(t, "y_true")?, contiguous(p, "y_pred")?);
            let table = interrupt::run(py, t.len(), |c| confusion_of(t, p, w, c))?;
            let labels = keys_to_i64(&table.keys).into_pyarray(py).into_any();
            (table, labels)
        }
        (Labels::F64(t), Labels::F64(p)) => {
            let (t, p) = (contiguous(t, "y_true")?, contiguous(p, "y_pred")?);
            let table = interrupt::run(py, t.len(), |c| confusion_of(t, p, w, c))?;
            let labels = keys_to_f64(&table.keys).into_pyarray(py).into_any();
            (table, labels)
        }
        _ => {
            return Err(PyValueError::new_err(
                "y_true and y_pred must share one dtype",
            ))
        }
    };
    let k = table.keys.len();
    Ok((
        labels,
        table.counts.into_pyarray(py).reshape([k, k])?,
        table.in_true.into_pyarray(py),
        table.in_pred.into_pyarray(py),
    ))
}

/// Position of each value in the sorted unique `labels`; a value not in `labels` is an error.
#[pyfunction]
pub fn encode_labels<'py>(
    py: Python<'py>,
    values: Labels<'py>,
    labels: Labels<'py>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let codes = match (&values, &labels) {
        (Labels::I64(v), Labels::I64(l)) => {
            let (v, keys) = (contiguous(v, "y")?, keys_of(contiguous(l, "labels")?));
            interrupt::run(py, v.len(), |c| encode(v, &keys, c))?
        }
        (Labels::F64(v), Labels::F64(l)) => {
            let (v, keys) = (contiguous(v, "y")?, keys_of(contiguous(l, "labels")?));
            interrupt::run(py, v.len(), |c| encode(v, &keys, c))?
        }
        _ => {
            return Err(PyValueError::new_err(
                "values and labels must share one dtype",
            ))
        }
    };
    Ok(codes
        .into_iter()
        .map(i64::from)
        .collect::<Vec<_>>()
        .into_pyarray(py))
}

/// `ValueError` if any value is NaN or infinite.
#[pyfunction]
pub fn assert_finite(py: Python<'_>, values: Floats<'_>) -> PyResult<()> {
    floats!(&values, "values", |s| interrupt::run(py, s.len(), |c| {
        check_finite(s, c)
    }))
}

fn curve_of<'py>(
    py: Python<'py>,
    positive: &PyReadonlyArray1<'py, bool>,
    score: &Floats<'py>,
    weight: Option<&[f64]>,
) -> PyResult<Curve> {
    let pos = contiguous(positive, "y_true")?;
    floats!(score, "y_score", |s| interrupt::run(py, s.len(), |c| {
        binary_curve(pos, s, weight, c)
    }))
}

type CurveArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// `(fps, tps, thresholds)` at each distinct score, thresholds descending; `drop` selects
/// scikit-learn's `drop_intermediate` rule: "roc", "pr" or "none".
#[pyfunction]
#[pyo3(signature = (positive, score, sample_weight=None, drop="none"))]
pub fn binary_curve_arrays<'py>(
    py: Python<'py>,
    positive: PyReadonlyArray1<'py, bool>,
    score: Floats<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    drop: &str,
) -> PyResult<CurveArrays<'py>> {
    let curve = curve_of(py, &positive, &score, weights(&sample_weight)?)?;
    let curve = match drop {
        "roc" => curve.drop_collinear(),
        "pr" => curve.drop_flat_recall(),
        _ => curve,
    };
    Ok((
        curve.fps.into_pyarray(py),
        curve.tps.into_pyarray(py),
        curve.thresholds.into_pyarray(py),
    ))
}

type PrecisionRecall<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    f64,
);

/// scikit-learn's `precision_recall_curve` arrays `(precision, recall, thresholds)`, recall
/// decreasing, and the total positive weight (zero: the caller warns as scikit-learn does).
#[pyfunction]
#[pyo3(signature = (positive, score, sample_weight=None, drop_intermediate=false))]
pub fn precision_recall_arrays<'py>(
    py: Python<'py>,
    positive: PyReadonlyArray1<'py, bool>,
    score: Floats<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    drop_intermediate: bool,
) -> PyResult<PrecisionRecall<'py>> {
    let curve = curve_of(py, &positive, &score, weights(&sample_weight)?)?;
    let curve = if drop_intermediate {
        curve.drop_flat_recall()
    } else {
        curve
    };
    let total = curve.tps.last().copied().unwrap_or(0.0);
    let (precision, recall) = curve.precision_recall();
    let mut thresholds = curve.thresholds;
    thresholds.reverse();
    Ok((
        precision.into_pyarray(py),
        recall.into_pyarray(py),
        thresholds.into_pyarray(py),
        total,
    ))
}

/// `(roc_auc, average_precision, positive weight, negative weight)` from one sort.
#[pyfunction]
#[pyo3(signature = (positive, score, sample_weight=None))]
pub fn binary_ranking<'py>(
    py: Python<'py>,
    positive: PyReadonlyArray1<'py, bool>,
    score: Floats<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<(f64, f64, f64, f64)> {
    let pos = contiguous(&positive, "y_true")?;
    let w = weights(&sample_weight)?;
    let curve = floats!(&score, "y_score", |s| interrupt::run(py, s.len(), |c| {
        binary_counts(pos, s, w, c)
    }))?;
    Ok(ranking_of(&curve))
}

fn ranking_of(curve: &Curve) -> (f64, f64, f64, f64) {
    let p = curve.tps.last().copied().unwrap_or(0.0);
    let n = curve.fps.last().copied().unwrap_or(0.0);
    (curve.roc_auc(), curve.average_precision(), p, n)
}

/// One-vs-rest `(roc_auc, average_precision, positive weight, negative weight)` per class.
#[pyfunction]
#[pyo3(signature = (codes, scores, classes, sample_weight=None))]
pub fn one_vs_rest<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, i64>,
    scores: Matrix<'py>,
    classes: Vec<usize>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<Vec<(f64, f64, f64, f64)>> {
    let codes = codes_u32(&codes)?;
    let w = weights(&sample_weight)?;
    let curves = matrix!(&scores, "y_score", |s| interrupt::run(
        py,
        codes.len() * classes.len(),
        |c| { multiclass::one_vs_rest(&codes, s, &classes, w, c) }
    ))?;
    Ok(curves.iter().map(ranking_of).collect())
}

/// Hand & Till pairs: `(mean of the two AUCs, share of rows in either class)` per pair.
#[pyfunction]
pub fn one_vs_one<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, i64>,
    scores: Matrix<'py>,
    pairs: Vec<(u32, u32)>,
) -> PyResult<Vec<(f64, f64)>> {
    let codes = codes_u32(&codes)?;
    matrix!(&scores, "y_score", |s| interrupt::run(
        py,
        codes.len() * pairs.len(),
        |c| { multiclass::one_vs_one(&codes, s, &pairs, c) }
    ))
}

#[pyfunction]
pub fn top_k_hits<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, i64>,
    scores: Matrix<'py>,
    k: usize,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let codes = codes_u32(&codes)?;
    let hits = matrix!(&scores, "y_score", |s| interrupt::run(
        py,
        codes.len(),
        |c| { multiclass::top_k_hits(&codes, s, k, c) }
    ))?;
    Ok(hits.into_pyarray(py))
}

/// `(sum of weighted losses, sum of weights, rows not summing to one)`.
#[pyfunction]
#[pyo3(signature = (codes, probs, eps, rtol, sample_weight=None))]
pub fn log_loss_sums<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, i64>,
    probs: Matrix<'py>,
    eps: f64,
    rtol: f64,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<(f64, f64, u64)> {
    let codes = codes_u32(&codes)?;
    let w = weights(&sample_weight)?;
    matrix!(&probs, "y_proba", |s| interrupt::run(
        py,
        codes.len(),
        |c| { multiclass::log_loss(&codes, s, w, eps, rtol, c) }
    ))
}

fn loss_named(kind: &str, alpha: f64) -> PyResult<Loss> {
    Ok(match kind {
        "absolute" => Loss::Absolute,
        "squared" => Loss::Squared,
        "absolute_percentage" => Loss::AbsolutePercentage,
        "squared_log" => Loss::SquaredLog,
        "pinball" => Loss::Pinball { alpha },
        other => return Err(PyValueError::new_err(format!("unknown loss {other:?}"))),
    })
}

macro_rules! pair {
    ($y:expr, $p:expr, |$a:ident, $b:ident| $body:expr) => {
        match ($y, $p) {
            (Floats::F64(y), Floats::F64(p)) => {
                let ($a, $b) = (contiguous(y, "y_true")?, contiguous(p, "y_pred")?);
                $body
            }
            (Floats::F32(y), Floats::F32(p)) => {
                let ($a, $b) = (contiguous(y, "y_true")?, contiguous(p, "y_pred")?);
                $body
            }
            _ => Err(PyValueError::new_err(
                "y_true and y_pred must share one dtype",
            )),
        }
    };
}

/// `(sum(w * loss), sum(w))` for one output column.
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, kind, sample_weight=None, alpha=0.5))]
pub fn regression_loss<'py>(
    py: Python<'py>,
    y_true: Floats<'py>,
    y_pred: Floats<'py>,
    kind: &str,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    alpha: f64,
) -> PyResult<(f64, f64)> {
    let loss = loss_named(kind, alpha)?;
    let w = weights(&sample_weight)?;
    pair!(&y_true, &y_pred, |y, p| interrupt::run(py, y.len(), |c| {
        regression::weighted_loss(y, p, w, loss, c)
    }))
}

#[pyfunction]
pub fn regression_max_error<'py>(
    py: Python<'py>,
    y_true: Floats<'py>,
    y_pred: Floats<'py>,
) -> PyResult<f64> {
    pair!(&y_true, &y_pred, |y, p| interrupt::run(py, y.len(), |c| {
        regression::max_error(y, p, c)
    }))
}

#[pyfunction]
pub fn regression_median_absolute_error<'py>(
    py: Python<'py>,
    y_true: Floats<'py>,
    y_pred: Floats<'py>,
) -> PyResult<f64> {
    pair!(&y_true, &y_pred, |y, p| interrupt::run(py, y.len(), |c| {
        regression::median_absolute_error(y, p, c)
    }))
}

/// `(sum_w, mean_y, mean_d, ss_res, ss_tot, ss_diff)`, see `core::metrics::regression::Moments`.
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, sample_weight=None))]
pub fn regression_moments<'py>(
    py: Python<'py>,
    y_true: Floats<'py>,
    y_pred: Floats<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<(f64, f64, f64, f64, f64, f64)> {
    let w = weights(&sample_weight)?;
    let m = pair!(&y_true, &y_pred, |y, p| interrupt::run(py, y.len(), |c| {
        regression::moments(y, p, w, c)
    }))?;
    Ok((m.sum_w, m.mean_y, m.mean_d, m.ss_res, m.ss_tot, m.ss_diff))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(unique_labels, m)?)?;
    m.add_function(wrap_pyfunction!(confusion_table, m)?)?;
    m.add_function(wrap_pyfunction!(encode_labels, m)?)?;
    m.add_function(wrap_pyfunction!(assert_finite, m)?)?;
    m.add_function(wrap_pyfunction!(binary_curve_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(binary_ranking, m)?)?;
    m.add_function(wrap_pyfunction!(precision_recall_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(one_vs_rest, m)?)?;
    m.add_function(wrap_pyfunction!(one_vs_one, m)?)?;
    m.add_function(wrap_pyfunction!(top_k_hits, m)?)?;
    m.add_function(wrap_pyfunction!(log_loss_sums, m)?)?;
    m.add_function(wrap_pyfunction!(regression_loss, m)?)?;
    m.add_function(wrap_pyfunction!(regression_max_error, m)?)?;
    m.add_function(wrap_pyfunction!(regression_median_absolute_error, m)?)?;
    m.add_function(wrap_pyfunction!(regression_moments, m)?)?;
    Ok(())
}
