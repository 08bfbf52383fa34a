//! Two-sample distribution distances: the Kolmogorov-Smirnov extremes (with scipy's location
//! rule) and the Wasserstein-1 distance.

use rayon::prelude::*;

use super::sample::{spans, walk2, Sample};
use crate::core::metrics::sort::{key, unkey};
use crate::core::metrics::sum::Sum;

/// The statistic scipy's `ks_2samp` reports, computed as it does (`searchsorted(..., 'right')
/// / n` differences at every data point) and with its tie rule for the location: the first
/// point, in the order sorted `data1` then sorted `data2`, where the extreme is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsExtremes {
    /// `max(cdf1 - cdf2)` and where it is first reached.
    pub max: f64,
    pub max_at: f64,
    /// `min(cdf1 - cdf2)` and where it is first reached.
    pub min: f64,
    pub min_at: f64,
}

/// The best difference so far and where it was first reached in each sample.
#[derive(Clone, Copy)]
struct Extreme {
    d: f64,
    in_a: Option<u64>,
    in_b: Option<u64>,
}

impl Extreme {
    fn new(d: f64) -> Self {
        Extreme {
            d,
            in_a: None,
            in_b: None,
        }
    }

    fn location(&self) -> f64 {
        unkey(self.in_a.or(self.in_b).unwrap_or(key(0.0)))
    }

    /// Offer a difference reached at `value` (present in a and/or b); `better` orders them.
    #[inline]
    fn offer(&mut self, d: f64, value: u64, in_a: bool, in_b: bool, better: bool) {
        if better {
            *self = Extreme::new(d);
        }
        if d == self.d {
            if in_a && self.in_a.is_none() {
                self.in_a = Some(value);
            }
            if in_b && self.in_b.is_none() {
                self.in_b = Some(value);
            }
        }
    }

    /// Combine with the extreme of a later span (larger values).
    fn then(self, later: Extreme, better: bool) -> Extreme {
        if better {
            return later;
        }
        if later.d != self.d {
            return self;
        }
        Extreme {
            d: self.d,
            in_a: self.in_a.or(later.in_a),
            in_b: self.in_b.or(later.in_b),
        }
    }
}

fn parts() -> usize {
    4 * rayon::current_num_threads()
}

pub fn ks_extremes(a: &Sample, b: &Sample) -> KsExtremes {
    let per_span = spans(a, b, parts())
        .into_par_iter()
        .map(|span| {
            let mut max = Extreme::new(f64::NEG_INFINITY);
            let mut min = Extreme::new(f64::INFINITY);
            walk2(a, b, span, |k, i, j, here_a, here_b| {
                let d = a.cdf(i) - b.cdf(j);
                let (in_a, in_b) = (here_a > 0, here_b > 0);
                max.offer(d, k, in_a, in_b, d > max.d);
                min.offer(d, k, in_a, in_b, d < min.d);
            });
            (max, min)
        })
        .collect::<Vec<_>>();
    let (mut max, mut min) = per_span[0];
    for &(later_max, later_min) in &per_span[1..] {
        max = max.then(later_max, later_max.d > max.d);
        min = min.then(later_min, later_min.d < min.d);
    }
    KsExtremes {
        max: max.d,
        max_at: max.location(),
        min: min.d,
        min_at: min.location(),
    }
}

/// `scipy.stats.wasserstein_distance`: the integral of |CDF_u - CDF_v| between consecutive
/// pooled values.
pub fn wasserstein(u: &Sample, v: &Sample) -> f64 {
    // Per span: its integral, first and last value, and the gap after its last value.
    let per_span = spans(u, v, parts())
        .into_par_iter()
        .map(|span| {
            let mut total = Sum::default();
            let mut first = None;
            let mut prev: Option<(f64, f64)> = None;
            walk2(u, v, span, |k, i, j, _, _| {
                let value = unkey(k);
                match prev {
                    Some((p, gap)) => total.add(gap * (value - p)),
                    None => first = Some(value),
                }
                prev = Some((value, (u.cdf(i) - v.cdf(j)).abs()));
            });
            (total, first, prev)
        })
        .collect::<Vec<_>>();
    let mut total = Sum::default();
    let mut before: Option<(f64, f64)> = None;
    for (sum, first, last) in per_span {
        let Some(first) = first else { continue };
        if let Some((p, gap)) = before {
            total.add(gap * (first - p));
        }
        total = total.merge(sum);
        before = last;
    }
    total.value()
}
