//! Regression errors for one output column: weighted means of per-row losses and the moments
//! that R² and explained variance are assembled from (the assembly, with scikit-learn's
//! `force_finite` rules, stays in Python).

use rayon::prelude::*;

use super::sum::Sum;
use super::{Value, CHUNK};
use crate::error::CoreResult;
use crate::runtime::Cancel;

#[derive(Clone, Copy, Debug)]
pub enum Loss {
    Absolute,
    Squared,
    /// `|e| / max(|y|, eps)`
    AbsolutePercentage,
    /// `(log1p(y) - log1p(p))^2`
    SquaredLog,
    Pinball {
        alpha: f64,
    },
}

impl Loss {
    #[inline]
    fn of(self, y: f64, p: f64) -> f64 {
        match self {
            Loss::Absolute => (p - y).abs(),
            Loss::Squared => (y - p) * (y - p),
            Loss::AbsolutePercentage => (p - y).abs() / y.abs().max(f64::EPSILON),
            Loss::SquaredLog => {
                let d = y.ln_1p() - p.ln_1p();
                d * d
            }
            Loss::Pinball { alpha } => {
                let diff = y - p;
                let sign = if diff >= 0.0 { 1.0 } else { 0.0 };
                alpha * sign * diff - (1.0 - alpha) * (1.0 - sign) * diff
            }
        }
    }
}

/// Fold units `0..n` in parallel tasks of `per_task` units, then merge the task results.
fn reduce<A: Send + Default + Copy>(
    n: usize,
    per_task: usize,
    cancel: &Cancel,
    row: impl Fn(usize, &mut A) + Sync,
    merge: impl Fn(A, A) -> A + Sync + Send,
) -> CoreResult<A> {
    let parts: CoreResult<Vec<A>> = (0..n.div_ceil(per_task))
        .into_par_iter()
        .map(|c| {
            cancel.check()?;
            let mut acc = A::default();
            for i in c * per_task..((c + 1) * per_task).min(n) {
                row(i, &mut acc);
            }
            Ok(acc)
        })
        .collect();
    Ok(parts?.into_iter().fold(A::default(), merge))
}

/// Rows summed plainly before a compensated add: keeps the inner loop free of dependencies
/// (fast) while the error stays at the level of numpy's pairwise sums.
const BLOCK: usize = 256;

/// `(sum(w * loss), sum(w))`.
pub fn weighted_loss<T: Value>(
    y: &[T],
    p: &[T],
    weight: Option<&[f64]>,
    loss: Loss,
    cancel: &Cancel,
) -> CoreResult<(f64, f64)> {
    let num = reduce::<Sum>(
        y.len().div_ceil(BLOCK),
        CHUNK / BLOCK,
        cancel,
        |b, acc| {
            let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(y.len()));
            let block: f64 = match weight {
                None => (lo..hi).map(|i| loss.of(y[i].f64(), p[i].f64())).sum(),
                Some(w) => (lo..hi)
                    .map(|i| w[i] * loss.of(y[i].f64(), p[i].f64()))
                    .sum(),
            };
            acc.add(block);
        },
        Sum::merge,
    )?;
    let den = match weight {
        None => y.len() as f64,
        Some(w) => reduce::<Sum>(
            w.len().div_ceil(BLOCK),
            CHUNK / BLOCK,
            cancel,
            |b, acc| acc.add(w[b * BLOCK..((b + 1) * BLOCK).min(w.len())].iter().sum()),
            Sum::merge,
        )?
        .value(),
    };
    Ok((num.value(), den))
}

/// `max(|y - p|)`.
pub fn max_error<T: Value>(y: &[T], p: &[T], cancel: &Cancel) -> CoreResult<f64> {
    reduce::<f64>(
        y.len(),
        CHUNK,
        cancel,
        |i, m| *m = m.max((y[i].f64() - p[i].f64()).abs()),
        f64::max,
    )
}

/// Moments for R² and explained variance, with `d = y - p` and weighted means `ȳ`, `d̄`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub sum_w: f64,
    pub mean_y: f64,
    pub mean_d: f64,
    /// `sum(w * (y - p)^2)`
    pub ss_res: f64,
    /// `sum(w * (y - ȳ)^2)`
    pub ss_tot: f64,
    /// `sum(w * (d - d̄)^2)`
    pub ss_diff: f64,
}

pub fn moments<T: Value>(
    y: &[T],
    p: &[T],
    weight: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<Moments> {
    let w = |i: usize| weight.map_or(1.0, |w| w[i]);
    let span = |b: usize| b * BLOCK..((b + 1) * BLOCK).min(y.len());
    let blocks = y.len().div_ceil(BLOCK);
    let merge3 =
        |a: (Sum, Sum, Sum), b: (Sum, Sum, Sum)| (a.0.merge(b.0), a.1.merge(b.1), a.2.merge(b.2));
    let (sw, swy, swd) = reduce::<(Sum, Sum, Sum)>(
        blocks,
        CHUNK / BLOCK,
        cancel,
        |b, (sw, swy, swd)| {
            let (mut a, mut c, mut d) = (0.0, 0.0, 0.0);
            for i in span(b) {
                let (yi, pi) = (y[i].f64(), p[i].f64());
                a += w(i);
                c += w(i) * yi;
                d += w(i) * (yi - pi);
            }
            sw.add(a);
            swy.add(c);
            swd.add(d);
        },
        merge3,
    )?;
    let sum_w = sw.value();
    let (mean_y, mean_d) = (swy.value() / sum_w, swd.value() / sum_w);
    let (res, tot, diff) = reduce::<(Sum, Sum, Sum)>(
        blocks,
        CHUNK / BLOCK,
        cancel,
        |b, (res, tot, diff)| {
            let (mut a, mut c, mut e) = (0.0, 0.0, 0.0);
            for i in span(b) {
                let (yi, pi) = (y[i].f64(), p[i].f64());
                let d = yi - pi;
                a += w(i) * d * d;
                c += w(i) * (yi - mean_y) * (yi - mean_y);
                e += w(i) * (d - mean_d) * (d - mean_d);
            }
            res.add(a);
            tot.add(c);
            diff.add(e);
        },
        merge3,
    )?;
    Ok(Moments {
        sum_w,
        mean_y,
        mean_d,
        ss_res: res.value(),
        ss_tot: tot.value(),
        ss_diff: diff.value(),
    })
}

/// Unweighted median of `|y - p|` (numpy's median: mean of the two middle values).
pub fn median_absolute_error<T: Value>(y: &[T], p: &[T], cancel: &Cancel) -> CoreResult<f64> {
    let mut errors: Vec<f64> = Vec::with_capacity(y.len());
    for (yc, pc) in y.chunks(CHUNK).zip(p.chunks(CHUNK)) {
        cancel.check()?;
        errors.extend(yc.iter().zip(pc).map(|(a, b)| (a.f64() - b.f64()).abs()));
    }
    let n = errors.len();
    if n == 0 {
        return Ok(f64::NAN);
    }
    let mid = n / 2;
    let (below, upper, _) = errors.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Ok(upper);
    }
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok((lower + upper) / 2.0)
}
