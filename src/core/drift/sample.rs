//! A sample sorted once and shared by every test run on it: raw data (unit weights) or the
//! weighted points of a baseline sketch. All two-sample statistics walk the distinct values
//! of two or more such samples together.

use crate::core::metrics::curve::check_finite;
use crate::core::metrics::sort::{key, radix_sort, unkey};
use crate::core::metrics::Value;
use crate::error::{value_error, CoreResult};
use crate::runtime::Cancel;

/// Ascending order keys (`sort::key`), with cumulative weights when weighted.
#[derive(Debug, Clone)]
pub struct Sample {
    keys: Vec<u64>,
    /// `cum[i]` = total weight of the first `i` values (length `len + 1`); `None`: unit weights.
    cum: Option<Vec<f64>>,
}

impl Sample {
    /// Sort raw values (NaN and infinities refused: the Python layer drops nulls first).
    pub fn new<T: Value>(
        values: &[T],
        weights: Option<&[f64]>,
        cancel: &Cancel,
    ) -> CoreResult<Self> {
        check_finite(values, cancel)?;
        if values.is_empty() {
            return Err(value_error("a drift sample must not be empty"));
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
                Some(cumulative(&w))
            }
        };
        cancel.check()?;
        Ok(Sample { keys, cum })
    }

    /// Values the caller already sorted ascending (numpy's SIMD sort is several times faster
    /// than a radix sort here); checked, not trusted.
    pub fn from_sorted<T: Value>(values: &[T], cancel: &Cancel) -> CoreResult<Self> {
        check_finite(values, cancel)?;
        if values.is_empty() {
            return Err(value_error("a drift sample must not be empty"));
        }
        let keys: Vec<u64> = values.iter().map(|v| key(v.f64())).collect();
        if keys.windows(2).any(|p| p[0] > p[1]) {
            return Err(value_error("sorted sample is not in ascending order"));
        }
        Ok(Sample { keys, cum: None })
    }

    /// Points already sorted ascending and distinct, with their weights (a sketch).
    pub fn from_points(values: &[f64], weights: &[f64]) -> Self {
        debug_assert!(values.windows(2).all(|p| p[0] < p[1]));
        Sample {
            keys: values.iter().map(|&v| key(v)).collect(),
            cum: Some(cumulative(weights)),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn is_weighted(&self) -> bool {
        self.cum.is_some()
    }

    pub fn value(&self, i: usize) -> f64 {
        unkey(self.keys[i])
    }

    /// Weight of the first `count` values.
    #[inline]
    pub fn weight_below(&self, count: usize) -> f64 {
        match &self.cum {
            None => count as f64,
            Some(cum) => cum[count],
        }
    }

    pub fn total(&self) -> f64 {
        self.weight_below(self.len())
    }

    /// Fraction of the sample (by weight) among the first `count` values.
    #[inline]
    pub fn cdf(&self, count: usize) -> f64 {
        match &self.cum {
            None => count as f64 / self.len() as f64,
            Some(cum) => cum[count] / cum[self.len()],
        }
    }

    /// How many values are `< x` (`strict`) or `<= x`.
    pub fn rank_of(&self, x: f64, strict: bool) -> usize {
        let k = key(x);
        if strict {
            self.keys.partition_point(|&v| v < k)
        } else {
            self.keys.partition_point(|&v| v <= k)
        }
    }

    /// Distinct values ascending with their weights.
    pub fn distinct(&self) -> (Vec<f64>, Vec<f64>) {
        self.distinct_up_to(usize::MAX).expect("no limit")
    }

    /// [`Sample::distinct`], or `None` as soon as there are more than `limit` values.
    pub fn distinct_up_to(&self, limit: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        let (mut values, mut weights) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < self.len() {
            if values.len() == limit {
                return None;
            }
            let mut j = i + 1;
            while j < self.len() && self.keys[j] == self.keys[i] {
                j += 1;
            }
            values.push(unkey(self.keys[i]));
            weights.push(self.weight_below(j) - self.weight_below(i));
            i = j;
        }
        Some((values, weights))
    }
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let mut cum = Vec::with_capacity(weights.len() + 1);
    let mut total = 0.0;
    cum.push(total);
    for &w in weights {
        total += w;
        cum.push(total);
    }
    cum
}

/// A stretch of two samples that shares no value with any other stretch: `a[a.0..a.1]` and
/// `b[b.0..b.1]`.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub a: (usize, usize),
    pub b: (usize, usize),
}

/// Rows from which a two-sample walk is split into spans walked in parallel.
const PARALLEL_FROM: usize = 1 << 18;

/// Split two samples into about `parts` value ranges, in ascending order; equal values never
/// straddle two spans (both cut at the first index whose key reaches the pivot).
pub fn spans(a: &Sample, b: &Sample, parts: usize) -> Vec<Span> {
    let larger = if a.len() >= b.len() { a } else { b };
    let parts = if a.len() + b.len() < PARALLEL_FROM {
        1
    } else {
        parts.max(1)
    };
    let mut cuts = vec![(0, 0)];
    for k in 1..parts {
        let pivot = larger.keys[k * larger.len() / parts];
        let cut = (
            a.keys.partition_point(|&x| x < pivot),
            b.keys.partition_point(|&x| x < pivot),
        );
        if cut != *cuts.last().unwrap() {
            cuts.push(cut);
        }
    }
    cuts.push((a.len(), b.len()));
    cuts.windows(2)
        .map(|w| Span {
            a: (w[0].0, w[1].0),
            b: (w[0].1, w[1].1),
        })
        .collect()
}

/// Visit the distinct values of a span of two samples ascending: `(key, a_upto, b_upto,
/// a_here, b_here)` with counts `<=` the value (global indices) and counts equal to it.
#[inline]
pub fn walk2(
    a: &Sample,
    b: &Sample,
    span: Span,
    mut visit: impl FnMut(u64, usize, usize, usize, usize),
) {
    let (mut i, ie) = span.a;
    let (mut j, je) = span.b;
    let (ak, bk) = (&a.keys[..ie], &b.keys[..je]);
    while i < ie || j < je {
        let k = match (ak.get(i), bk.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        let (i0, j0) = (i, j);
        while i < ie && ak[i] == k {
            i += 1;
        }
        while j < je && bk[j] == k {
            j += 1;
        }
        visit(k, i, j, i - i0, j - j0);
    }
}

/// One distinct value of the pooled samples, as the walk sees it.
pub struct Step<'a> {
    pub value: f64,
    /// Per sample: how many of its values are `<= value`.
    pub upto: &'a [usize],
    /// Per sample: how many of its values equal `value`.
    pub here: &'a [usize],
}

/// Visit every distinct value of the pooled samples in ascending order.
pub fn walk(samples: &[&Sample], mut visit: impl FnMut(&Step<'_>)) {
    let k = samples.len();
    let mut upto = vec![0usize; k];
    let mut here = vec![0usize; k];
    loop {
        let next = samples
            .iter()
            .zip(&upto)
            .filter_map(|(s, &i)| s.keys.get(i).copied())
            .min();
        let Some(next) = next else { break };
        for (s, (u, h)) in samples.iter().zip(upto.iter_mut().zip(here.iter_mut())) {
            let start = *u;
            while *u < s.len() && s.keys[*u] == next {
                *u += 1;
            }
            *h = *u - start;
        }
        visit(&Step {
            value: unkey(next),
            upto: &upto,
            here: &here,
        });
    }
}
