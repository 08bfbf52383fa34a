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
                // log1p(y) - log1p(p) = log1p((y - p) / (1 + p)): one logarithm instead of two,
                // and no cancellation when y is close to p. NaN outside the domain (<= -1), so
                // the caller sees it and hands the call to scikit-learn for its error.
                let d = ((y - p) / (1.0 + p)).ln_1p();
                if y > -1.0 && p > -1.0 {
                    d * d
                } else {
                    f64::NAN
                }
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

/// Three sums of `f(i)` over a block, four lanes each (see [`lanes`]).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indexed lanes are what LLVM vectorizes
fn lanes3(lo: usize, hi: usize, f: impl Fn(usize) -> [f64; 3]) -> [f64; 3] {
    let mut acc = [[0.0f64; 4]; 3];
    let mut i = lo;
    while i + 4 <= hi {
        for l in 0..4 {
            let v = f(i + l);
            for k in 0..3 {
                acc[k][l] += v[k];
            }
        }
        i += 4;
    }
    let mut out = [0.0; 3];
    for k in 0..3 {
        out[k] = (acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3]);
    }
    while i < hi {
        let v = f(i);
        for k in 0..3 {
            out[k] += v[k];
        }
        i += 1;
    }
    out
}

/// Sum of `f(i)` over a block with independent lanes, so LLVM can vectorize it.
#[inline(always)]
fn lanes(lo: usize, hi: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut i = lo;
    while i + 4 <= hi {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += f(i + l);
        }
        i += 4;
    }
    let mut tail = 0.0;
    while i < hi {
        tail += f(i);
        i += 1;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn loss_sum<T: Value>(
    y: &[T],
    p: &[T],
    weight: Option<&[f64]>,
    cancel: &Cancel,
    loss: impl Fn(f64, f64) -> f64 + Sync + Copy,
) -> CoreResult<Sum> {
    reduce::<Sum>(
        y.len().div_ceil(BLOCK),
        CHUNK / BLOCK,
        cancel,
        |b, acc| {
            let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(y.len()));
            let (ys, ps) = (&y[lo..hi], &p[lo..hi]);
            let block = match weight {
                None => lanes(0, ys.len(), |i| loss(ys[i].f64(), ps[i].f64())),
                Some(w) => {
                    let ws = &w[lo..hi];
                    lanes(0, ys.len(), |i| ws[i] * loss(ys[i].f64(), ps[i].f64()))
                }
            };
            acc.add(block);
        },
        Sum::merge,
    )
}

/// `(sum(w * loss), sum(w))`.
pub fn weighted_loss<T: Value>(
    y: &[T],
    p: &[T],
    weight: Option<&[f64]>,
    loss: Loss,
    cancel: &Cancel,
) -> CoreResult<(f64, f64)> {
    let num = match loss {
        Loss::Absolute => loss_sum(y, p, weight, cancel, |y, p| Loss::Absolute.of(y, p))?,
        Loss::Squared => loss_sum(y, p, weight, cancel, |y, p| Loss::Squared.of(y, p))?,
        Loss::AbsolutePercentage => loss_sum(y, p, weight, cancel, |y, p| {
            Loss::AbsolutePercentage.of(y, p)
        })?,
        Loss::SquaredLog => loss_sum(y, p, weight, cancel, |y, p| Loss::SquaredLog.of(y, p))?,
        Loss::Pinball { alpha } => loss_sum(y, p, weight, cancel, move |y, p| {
            Loss::Pinball { alpha }.of(y, p)
        })?,
    };
    let den = match weight {
        None => y.len() as f64,
        Some(w) => reduce::<Sum>(
            w.len().div_ceil(BLOCK),
            CHUNK / BLOCK,
            cancel,
            |b, acc| {
                let ws = &w[b * BLOCK..((b + 1) * BLOCK).min(w.len())];
                acc.add(lanes(0, ws.len(), |i| ws[i]))
            },
            Sum::merge,
        )?
        .value(),
    };
    Ok((num.value(), den))
}

/// `max(|y - p|)`, NaN if any difference is NaN (so the caller looks for the bad input).
pub fn max_error<T: Value>(y: &[T], p: &[T], cancel: &Cancel) -> CoreResult<f64> {
    reduce::<(f64, bool)>(
        y.len().div_ceil(BLOCK),
        CHUNK / BLOCK,
        cancel,
        |b, (m, nan)| {
            let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(y.len()));
            let (ys, ps) = (&y[lo..hi], &p[lo..hi]);
            let mut lane = [0.0f64; 4];
            let mut bad = false;
            for (i, (a, c)) in ys.iter().zip(ps).enumerate() {
                let d = (a.f64() - c.f64()).abs();
                bad |= d.is_nan();
                let l = &mut lane[i & 3];
                *l = if d > *l { d } else { *l };
            }
            *m = lane.iter().fold(*m, |x, &v| if v > x { v } else { x });
            *nan |= bad;
        },
        |a, b| (if b.0 > a.0 { b.0 } else { a.0 }, a.1 | b.1),
    )
    .map(|(m, nan)| if nan { f64::NAN } else { m })
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
            let r = span(b);
            let [a, c, d] = lanes3(r.start, r.end, |i| {
                let (yi, pi) = (y[i].f64(), p[i].f64());
                [w(i), w(i) * yi, w(i) * (yi - pi)]
            });
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
            let r = span(b);
            let [a, c, e] = lanes3(r.start, r.end, |i| {
                let (yi, pi) = (y[i].f64(), p[i].f64());
                let d = yi - pi;
                [
                    w(i) * d * d,
                    w(i) * (yi - mean_y) * (yi - mean_y),
                    w(i) * (d - mean_d) * (d - mean_d),
                ]
            });
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

/// Unweighted median of `|y - p|` (numpy's median: mean of the two middle values), NaN if any
/// difference is not finite (the caller then looks for the bad input).
///
/// A radix select: absolute values order like their bit patterns, so one parallel pass
/// histograms the top 16 bits, and only the rows in the bucket holding the middle rank are
/// gathered and sorted.
pub fn median_absolute_error<T: Value>(y: &[T], p: &[T], cancel: &Cancel) -> CoreResult<f64> {
    const TOP: u32 = 16;
    let n = y.len();
    if n == 0 {
        return Ok(f64::NAN);
    }
    let bits = |i: usize| (y[i].f64() - p[i].f64()).abs().to_bits();
    let (hist, bad) = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut h = vec![0usize; 1 << TOP];
            let mut bad = cancel.is_cancelled();
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                let b = bits(i);
                bad |= b >= f64::INFINITY.to_bits();
                h[(b >> (64 - TOP)) as usize] += 1;
            }
            (h, bad)
        })
        .reduce(
            || (vec![0usize; 1 << TOP], false),
            |(mut a, x), (b, y)| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                (a, x | y)
            },
        );
    cancel.check()?;
    if bad {
        return Ok(f64::NAN);
    }
    // The value at 0-based rank `r`.
    let at_rank = |r: usize| -> f64 {
        let (mut below, mut bucket) = (0, 0);
        while below + hist[bucket] <= r {
            below += hist[bucket];
            bucket += 1;
        }
        let mut members: Vec<u64> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .flat_map_iter(|c| {
                (c * CHUNK..((c + 1) * CHUNK).min(n))
                    .map(bits)
                    .filter(move |b| (b >> (64 - TOP)) as usize == bucket)
            })
            .collect();
        let (_, v, _) = members.select_nth_unstable(r - below);
        f64::from_bits(*v)
    };
    let mid = n / 2;
    if n % 2 == 1 {
        Ok(at_rank(mid))
    } else {
        Ok((at_rank(mid - 1) + at_rank(mid)) / 2.0)
    }
}
