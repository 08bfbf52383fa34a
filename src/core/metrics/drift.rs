//! Two-sample distribution distances over sorted samples: the Kolmogorov-Smirnov statistic
//! (with scipy's location and sign) and the Wasserstein-1 distance.

use super::sort::{key, radix_sort, unkey};
use super::sum::Sum;
use super::Value;
use crate::error::{value_error, CoreResult};
use crate::runtime::Cancel;

/// A sample sorted ascending as order keys, with cumulative weights when weighted.
pub struct Sorted {
    keys: Vec<u64>,
    /// `cum[i]` = total weight of the first `i` values (length `len + 1`); `None`: unit weights.
    cum: Option<Vec<f64>>,
}

impl Sorted {
    pub fn new<T: Value>(
        values: &[T],
        weights: Option<&[f64]>,
        cancel: &Cancel,
    ) -> CoreResult<Self> {
        super::curve::check_finite(values, cancel)?;
        if values.is_empty() {
            return Err(value_error("Data passed to ks_2samp must not be empty"));
        }
        let mut keys: Vec<u64> = values.iter().map(|v| key(v.f64())).collect();
        let cum = match weights {
            None => {
                let mut unit = vec![(); keys.len()];
                radix_sort(&mut keys, &mut unit);
                None
            }
            Some(w) => {
                let mut w = w.to_vec();
                radix_sort(&mut keys, &mut w);
                let mut cum = Vec::with_capacity(w.len() + 1);
                let mut total = 0.0;
                cum.push(0.0);
                for x in w {
                    total += x;
                    cum.push(total);
                }
                Some(cum)
            }
        };
        Ok(Sorted { keys, cum })
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Fraction of the sample (by weight) at or below the value whose `count` values are <= it.
    #[inline]
    fn cdf(&self, count: usize) -> f64 {
        match &self.cum {
            None => count as f64 / self.len() as f64,
            Some(cum) => cum[count] / cum[self.len()],
        }
    }
}

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

pub fn ks_extremes(a: &Sorted, b: &Sorted) -> KsExtremes {
    // Walk distinct values ascending; at each, counts of a and b at or below it.
    let (mut i, mut j) = (0, 0);
    // Best (value, location in a) and (value, location in b) for max and min.
    let mut max = (f64::NEG_INFINITY, None::<u64>, None::<u64>);
    let mut min = (f64::INFINITY, None::<u64>, None::<u64>);
    while i < a.len() || j < b.len() {
        let v = match (a.keys.get(i), b.keys.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        let in_a = i < a.len() && a.keys[i] == v;
        let in_b = j < b.len() && b.keys[j] == v;
        while i < a.len() && a.keys[i] == v {
            i += 1;
        }
        while j < b.len() && b.keys[j] == v {
            j += 1;
        }
        let d = a.cdf(i) - b.cdf(j);
        let (above, below) = (d > max.0, d < min.0);
        for (best, better) in [(&mut max, above), (&mut min, below)] {
            if better {
                *best = (d, None, None);
            }
            if d == best.0 {
                if in_a && best.1.is_none() {
                    best.1 = Some(v);
                }
                if in_b && best.2.is_none() {
                    best.2 = Some(v);
                }
            }
        }
    }
    let at = |best: (f64, Option<u64>, Option<u64>)| unkey(best.1.or(best.2).unwrap_or(0));
    KsExtremes {
        max: max.0,
        max_at: at(max),
        min: min.0,
        min_at: at(min),
    }
}

/// `scipy.stats.wasserstein_distance`: the integral of |CDF_u - CDF_v| between consecutive
/// pooled values.
pub fn wasserstein(u: &Sorted, v: &Sorted) -> f64 {
    let (mut i, mut j) = (0, 0);
    let mut total = Sum::default();
    let mut prev: Option<f64> = None;
    let mut prev_gap = 0.0;
    while i < u.len() || j < v.len() {
        let next = match (u.keys.get(i), v.keys.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        let value = unkey(next);
        if let Some(p) = prev {
            total.add(prev_gap * (value - p));
        }
        while i < u.len() && u.keys[i] == next {
            i += 1;
        }
        while j < v.len() && v.keys[j] == next {
            j += 1;
        }
        prev_gap = (u.cdf(i) - v.cdf(j)).abs();
        prev = Some(value);
    }
    total.value()
}
