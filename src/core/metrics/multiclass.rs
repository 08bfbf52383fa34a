//! Metrics over an `n_rows x n_classes` score matrix (row-major) and integer class codes:
//! one-vs-rest and one-vs-one ROC AUC, per-class curves, top-k hits, log loss.

use rayon::prelude::*;

use super::curve::{binary_counts, Curve};
use super::sum::Sum;
use super::{Value, CHUNK};
use crate::error::CoreResult;
use crate::runtime::Cancel;

/// A row-major score matrix borrowed from the caller.
#[derive(Clone, Copy)]
pub struct Scores<'a, T> {
    pub data: &'a [T],
    pub n_classes: usize,
}

impl<'a, T: Value> Scores<'a, T> {
    pub fn rows(&self) -> usize {
        self.data.len() / self.n_classes.max(1)
    }

    fn column(&self, c: usize) -> Vec<f64> {
        self.data
            .iter()
            .skip(c)
            .step_by(self.n_classes)
            .map(|v| v.f64())
            .collect()
    }
}

/// Curve of class `c` against the rest, for each requested class, in parallel over classes.
pub fn one_vs_rest<T: Value>(
    codes: &[u32],
    scores: Scores<'_, T>,
    classes: &[usize],
    weight: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<Vec<Curve>> {
    classes
        .par_iter()
        .map(|&c| {
            let positive: Vec<bool> = codes.iter().map(|&y| y as usize == c).collect();
            binary_counts(&positive, &scores.column(c), weight, cancel)
        })
        .collect()
}

/// Hand & Till one-vs-one: for each pair `(a, b)`, the mean of AUC(a vs b on scores of a)
/// and AUC(b vs a on scores of b) over the rows of either class, and the share of those rows.
pub fn one_vs_one<T: Value>(
    codes: &[u32],
    scores: Scores<'_, T>,
    pairs: &[(u32, u32)],
    cancel: &Cancel,
) -> CoreResult<Vec<(f64, f64)>> {
    let n = codes.len() as f64;
    pairs
        .par_iter()
        .map(|&(a, b)| {
            let rows: Vec<usize> = (0..codes.len())
                .filter(|&i| codes[i] == a || codes[i] == b)
                .collect();
            let k = scores.n_classes;
            let side = |class: u32| -> CoreResult<f64> {
                let positive: Vec<bool> = rows.iter().map(|&i| codes[i] == class).collect();
                let s: Vec<f64> = rows
                    .iter()
                    .map(|&i| scores.data[i * k + class as usize].f64())
                    .collect();
                Ok(binary_counts(&positive, &s, None, cancel)?.roc_auc())
            };
            let score = (side(a)? + side(b)?) / 2.0;
            Ok((score, rows.len() as f64 / n))
        })
        .collect()
}

/// Whether the true class is among the `k` best scores of its row, breaking ties as
/// scikit-learn's reversed stable argsort does (among equal scores, the higher class first).
pub fn top_k_hits<T: Value>(
    codes: &[u32],
    scores: Scores<'_, T>,
    k: usize,
    cancel: &Cancel,
) -> CoreResult<Vec<bool>> {
    let n_classes = scores.n_classes;
    let mut hits = vec![false; codes.len()];
    hits.par_chunks_mut(CHUNK)
        .zip(scores.data.par_chunks(CHUNK * n_classes))
        .zip(codes.par_chunks(CHUNK))
        .try_for_each(|((out, rows), truth)| {
            cancel.check()?;
            for ((hit, row), &t) in out.iter_mut().zip(rows.chunks_exact(n_classes)).zip(truth) {
                let t = t as usize;
                let st = row[t].f64();
                let mut ahead = 0usize;
                for (c, s) in row.iter().enumerate() {
                    let s = s.f64();
                    ahead += ((s > st) | ((s == st) & (c > t))) as usize;
                }
                *hit = ahead < k;
            }
            Ok::<(), crate::error::CoreError>(())
        })?;
    Ok(hits)
}

/// `(sum of weighted log losses, sum of weights, rows not summing to one within rtol)`.
/// `probs` has one column per class, or one column holding the probability of class 1 of two.
/// Probabilities are clipped to `[eps, 1 - eps]` as scikit-learn clips them.
pub fn log_loss<T: Value>(
    codes: &[u32],
    probs: Scores<'_, T>,
    weight: Option<&[f64]>,
    eps: f64,
    rtol: f64,
    cancel: &Cancel,
) -> CoreResult<(f64, f64, u64)> {
    let k = probs.n_classes;
    let parts: CoreResult<Vec<(Sum, Sum, u64)>> = (0..codes.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            cancel.check()?;
            let (mut loss, mut total_w, mut bad) = (Sum::default(), Sum::default(), 0u64);
            for i in c * CHUNK..((c + 1) * CHUNK).min(codes.len()) {
                let row = &probs.data[i * k..(i + 1) * k];
                let t = codes[i] as usize;
                let p = if k == 1 {
                    let p1 = row[0].f64();
                    if t == 1 {
                        p1
                    } else {
                        1.0 - p1
                    }
                } else {
                    let s: f64 = row.iter().map(|v| v.f64()).sum();
                    if (s - 1.0).abs() > 1e-8 + rtol || s.is_nan() {
                        bad += 1;
                    }
                    row[t].f64()
                };
                let w = weight.map_or(1.0, |w| w[i]);
                loss.add(-w * p.clamp(eps, 1.0 - eps).ln());
                total_w.add(w);
            }
            Ok((loss, total_w, bad))
        })
        .collect();
    let (loss, total_w, bad) = parts?.into_iter().fold(
        (Sum::default(), Sum::default(), 0),
        |(a, b, x), (c, d, y)| (a.merge(c), b.merge(d), x + y),
    );
    Ok((loss.value(), total_w.value(), bad))
}
