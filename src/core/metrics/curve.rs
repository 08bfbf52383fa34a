//! Binary ranking curves: the confusion counts at every distinct score threshold, as
//! scikit-learn's `confusion_matrix_at_thresholds`, and ROC AUC / average precision from them.
//!
//! Positives and negatives are sorted separately and merged from the top: no argsort of the
//! whole input, no gather of labels and weights by index.

use super::sort::{key, radix_sort, unkey};
use super::sum::Sum;
use super::{Value, CHUNK};
use crate::error::{value_error, CoreResult};
use crate::runtime::Cancel;

/// Counts at each distinct threshold, thresholds descending (scikit-learn's order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    pub fps: Vec<f64>,
    pub tps: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// One side (positives or negatives) sorted ascending by score key.
struct Side {
    keys: Vec<u64>,
    weights: Option<Vec<f64>>,
}

pub fn check_finite<T: Value>(values: &[T], cancel: &Cancel) -> CoreResult<()> {
    use rayon::prelude::*;
    let (nan, inf) = values
        .par_chunks(CHUNK)
        .map(|chunk| {
            if cancel.is_cancelled() {
                return (false, false);
            }
            chunk.iter().fold((false, false), |(n, i), v| {
                let x = v.f64();
                (n | x.is_nan(), i | x.is_infinite())
            })
        })
        .reduce(|| (false, false), |a, b| (a.0 | b.0, a.1 | b.1));
    cancel.check()?;
    if nan {
        return Err(value_error("Input contains NaN."));
    }
    if inf {
        return Err(value_error(
            "Input contains infinity or a value too large for dtype('float64').",
        ));
    }
    Ok(())
}

fn split_sides<T: Value>(positive: &[bool], score: &[T], weight: Option<&[f64]>) -> (Side, Side) {
    let mut pos = Side {
        keys: Vec::new(),
        weights: weight.map(|_| Vec::new()),
    };
    let mut neg = Side {
        keys: Vec::with_capacity(score.len() / 2),
        weights: weight.map(|_| Vec::new()),
    };
    for i in 0..score.len() {
        if let Some(w) = weight {
            // scikit-learn drops zero-weight rows before finding thresholds.
            if w[i] == 0.0 {
                continue;
            }
        }
        let side = if positive[i] { &mut pos } else { &mut neg };
        side.keys.push(key(score[i].f64()));
        if let (Some(ws), Some(w)) = (side.weights.as_mut(), weight) {
            ws.push(w[i]);
        }
    }
    (pos, neg)
}

fn sort_side(side: &mut Side) {
    match side.weights.as_mut() {
        Some(ws) => radix_sort(&mut side.keys, ws),
        None => {
            let mut unit = vec![(); side.keys.len()];
            radix_sort(&mut side.keys, &mut unit);
        }
    }
}

/// The full curve over all rows (no thresholds dropped). `positive[i]` says whether row `i`
/// belongs to the positive class. Scores must be finite (see [`check_finite`]).
pub fn binary_curve<T: Value>(
    positive: &[bool],
    score: &[T],
    weight: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<Curve> {
    curve_with(positive, score, weight, true, cancel)
}

/// The curve without its thresholds, for callers that only need the areas under it.
pub fn binary_counts<T: Value>(
    positive: &[bool],
    score: &[T],
    weight: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<Curve> {
    curve_with(positive, score, weight, false, cancel)
}

fn curve_with<T: Value>(
    positive: &[bool],
    score: &[T],
    weight: Option<&[f64]>,
    thresholds: bool,
    cancel: &Cancel,
) -> CoreResult<Curve> {
    check_finite(score, cancel)?;
    let (mut pos, mut neg) = split_sides(positive, score, weight);
    cancel.check()?;
    rayon::join(|| sort_side(&mut pos), || sort_side(&mut neg));
    cancel.check()?;

    let mut curve = Curve::default();
    let (mut i, mut j) = (pos.keys.len(), neg.keys.len());
    let (mut tps, mut fps) = (0.0f64, 0.0f64);
    while i > 0 || j > 0 {
        let top = match (i, j) {
            (0, _) => neg.keys[j - 1],
            (_, 0) => pos.keys[i - 1],
            _ => pos.keys[i - 1].max(neg.keys[j - 1]),
        };
        while i > 0 && pos.keys[i - 1] == top {
            i -= 1;
            tps += pos.weights.as_ref().map_or(1.0, |w| w[i]);
        }
        while j > 0 && neg.keys[j - 1] == top {
            j -= 1;
            fps += neg.weights.as_ref().map_or(1.0, |w| w[j]);
        }
        curve.fps.push(fps);
        curve.tps.push(tps);
        if thresholds {
            curve.thresholds.push(unkey(top));
        }
    }
    Ok(curve)
}

impl Curve {
    /// scikit-learn's `roc_curve(drop_intermediate=True)` selection: keep corners only.
    pub fn drop_collinear(&self) -> Curve {
        let m = self.fps.len();
        if m <= 2 {
            return self.clone();
        }
        let d2 = |x: &[f64], j: usize| (x[j + 2] - x[j + 1]) - (x[j + 1] - x[j]);
        let keep = |i: usize| {
            i == 0 || i == m - 1 || d2(&self.fps, i - 1) != 0.0 || d2(&self.tps, i - 1) != 0.0
        };
        self.select(keep)
    }

    /// scikit-learn's `precision_recall_curve(drop_intermediate=True)` selection.
    pub fn drop_flat_recall(&self) -> Curve {
        let m = self.fps.len();
        if m <= 2 {
            return self.clone();
        }
        let t = &self.tps;
        let keep =
            |i: usize| i == 0 || i == m - 1 || t[i] - t[i - 1] != 0.0 || t[i + 1] - t[i] != 0.0;
        self.select(keep)
    }

    fn select(&self, keep: impl Fn(usize) -> bool) -> Curve {
        let mut out = Curve::default();
        for i in 0..self.fps.len() {
            if keep(i) {
                out.fps.push(self.fps[i]);
                out.tps.push(self.tps[i]);
                if let Some(&t) = self.thresholds.get(i) {
                    out.thresholds.push(t);
                }
            }
        }
        out
    }

    fn total_positive(&self) -> f64 {
        self.tps.last().copied().unwrap_or(0.0)
    }

    fn total_negative(&self) -> f64 {
        self.fps.last().copied().unwrap_or(0.0)
    }

    /// Area under the ROC curve as `auc(*roc_curve(...)[:2])`: trapezoids over the points
    /// `drop_intermediate` keeps, starting at (0, 0). NaN when a class has no weight
    /// (scikit-learn warns there).
    pub fn roc_auc(&self) -> f64 {
        let (p, n) = (self.total_positive(), self.total_negative());
        if p <= 0.0 || n <= 0.0 {
            return f64::NAN;
        }
        let (f, t) = (&self.fps, &self.tps);
        let m = f.len();
        let d2 = |x: &[f64], j: usize| (x[j + 2] - x[j + 1]) - (x[j + 1] - x[j]);
        let keep =
            |i: usize| m <= 2 || i == 0 || i == m - 1 || d2(f, i - 1) != 0.0 || d2(t, i - 1) != 0.0;
        let mut area = Sum::default();
        let mut block = 0.0;
        let (mut x0, mut y0) = (0.0, 0.0);
        for i in (0..m).filter(|&i| keep(i)) {
            let (x1, y1) = (f[i] / n, t[i] / p);
            block += (x1 - x0) * (y1 + y0) / 2.0;
            if i % 256 == 255 {
                area.add(block);
                block = 0.0;
            }
            (x0, y0) = (x1, y1);
        }
        area.add(block);
        area.value()
    }

    /// Precision and recall at each threshold in scikit-learn's returned order (recall
    /// decreasing), with the final (precision 1, recall 0) point appended.
    pub fn precision_recall(&self) -> (Vec<f64>, Vec<f64>) {
        let m = self.tps.len();
        let p = self.total_positive();
        let mut precision = Vec::with_capacity(m + 1);
        let mut recall = Vec::with_capacity(m + 1);
        for i in (0..m).rev() {
            let ps = self.tps[i] + self.fps[i];
            precision.push(if ps != 0.0 { self.tps[i] / ps } else { 0.0 });
            recall.push(if p == 0.0 { 1.0 } else { self.tps[i] / p });
        }
        precision.push(1.0);
        recall.push(0.0);
        (precision, recall)
    }

    /// Average precision: the step integral `-sum(diff(recall) * precision[:-1])` over
    /// scikit-learn's reversed precision/recall arrays, clipped at 0.
    pub fn average_precision(&self) -> f64 {
        let m = self.tps.len();
        let p = self.total_positive();
        let precision = |i: usize| {
            let ps = self.tps[i] + self.fps[i];
            if ps != 0.0 {
                self.tps[i] / ps
            } else {
                0.0
            }
        };
        let recall = |i: usize| if p == 0.0 { 1.0 } else { self.tps[i] / p };
        // Reversed arrays: position j holds threshold m-1-j; position m holds (1, 0).
        let mut total = Sum::default();
        let mut block = 0.0;
        for j in 0..m {
            let i = m - 1 - j;
            let next_recall = if j + 1 < m { recall(i - 1) } else { 0.0 };
            block += (next_recall - recall(i)) * precision(i);
            if j % 256 == 255 {
                total.add(block);
                block = 0.0;
            }
        }
        total.add(block);
        f64::max(0.0, -total.value())
    }
}
