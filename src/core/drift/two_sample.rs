//! Two-sample distribution distances: the Kolmogorov-Smirnov extremes (with scipy's location
//! rule) and the Wasserstein-1 distance.

use super::sample::{walk, Sample};
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
struct Extreme {
    d: f64,
    in_a: Option<f64>,
    in_b: Option<f64>,
}

impl Extreme {
    fn location(&self) -> f64 {
        self.in_a.or(self.in_b).unwrap_or(0.0)
    }
}

pub fn ks_extremes(a: &Sample, b: &Sample) -> KsExtremes {
    let mut max = Extreme {
        d: f64::NEG_INFINITY,
        in_a: None,
        in_b: None,
    };
    let mut min = Extreme {
        d: f64::INFINITY,
        in_a: None,
        in_b: None,
    };
    walk(&[a, b], |step| {
        let d = a.cdf(step.upto[0]) - b.cdf(step.upto[1]);
        let (above, below) = (d > max.d, d < min.d);
        for (best, better) in [(&mut max, above), (&mut min, below)] {
            if better {
                *best = Extreme {
                    d,
                    in_a: None,
                    in_b: None,
                };
            }
            if d == best.d {
                if step.here[0] > 0 && best.in_a.is_none() {
                    best.in_a = Some(step.value);
                }
                if step.here[1] > 0 && best.in_b.is_none() {
                    best.in_b = Some(step.value);
                }
            }
        }
    });
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
    let mut total = Sum::default();
    let mut prev: Option<(f64, f64)> = None;
    walk(&[u, v], |step| {
        if let Some((value, gap)) = prev {
            total.add(gap * (step.value - value));
        }
        let gap = (u.cdf(step.upto[0]) - v.cdf(step.upto[1])).abs();
        prev = Some((step.value, gap));
    });
    total.value()
}
