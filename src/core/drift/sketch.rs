//! A mergeable quantile sketch: at most `capacity` weighted points, each standing for the
//! values up to and including it since the previous point (a block), and remembering the
//! block's mean. The smallest and largest values are always kept exactly. Compaction moves
//! less than `1 / (capacity - 3)` of the weight past any value, so the sketch's CDF (points at
//! block maxima) never differs from the data's by more than `rank_error`, which every build
//! and merge updates. Distances that integrate over values (Wasserstein) use the block means
//! instead, which keeps wide tail blocks from moving their mass to the block's end.

use serde::{Deserialize, Serialize};

use super::sample::Sample;
use crate::core::metrics::sum::Sum;
use crate::error::{value_error, CoreResult};

pub const MIN_CAPACITY: u32 = 8;

/// Count, mean and sum of squared deviations, merged with Chan's formula.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub count: f64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    fn of(values: &[f64], weights: &[f64]) -> Moments {
        let (mut total, mut count) = (Sum::default(), Sum::default());
        for (&v, &w) in values.iter().zip(weights) {
            total.add(v * w);
            count.add(w);
        }
        let (count, total) = (count.value(), total.value());
        if count == 0.0 {
            return Moments::default();
        }
        let mean = total / count;
        let mut m2 = Sum::default();
        for (&v, &w) in values.iter().zip(weights) {
            m2.add(w * (v - mean) * (v - mean));
        }
        Moments {
            count,
            mean,
            m2: m2.value(),
        }
    }

    fn merge(a: Moments, b: Moments) -> Moments {
        if a.count == 0.0 {
            return b;
        }
        if b.count == 0.0 {
            return a;
        }
        let count = a.count + b.count;
        let delta = b.mean - a.mean;
        Moments {
            count,
            mean: a.mean + delta * b.count / count,
            m2: a.m2 + b.m2 + delta * delta * a.count * b.count / count,
        }
    }

    /// Population standard deviation (`np.std`, `ddof=0`).
    pub fn std(&self) -> f64 {
        if self.count == 0.0 {
            0.0
        } else {
            (self.m2 / self.count).sqrt()
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sketch {
    pub capacity: u32,
    values: Vec<f64>,
    weights: Vec<f64>,
    /// Mean of the values each point stands for (equal to the value while not compacted).
    means: Vec<f64>,
    /// Bound on `|sketch CDF - data CDF|` at any value, as a fraction of the total weight.
    pub rank_error: f64,
    pub moments: Moments,
}

impl Sketch {
    pub fn empty(capacity: u32) -> CoreResult<Sketch> {
        if capacity < MIN_CAPACITY {
            return Err(value_error(format!(
                "sketch capacity must be at least {MIN_CAPACITY}, got {capacity}"
            )));
        }
        Ok(Sketch {
            capacity,
            values: Vec::new(),
            weights: Vec::new(),
            means: Vec::new(),
            rank_error: 0.0,
            moments: Moments::default(),
        })
    }

    pub fn of(sample: &Sample, capacity: u32) -> CoreResult<Sketch> {
        let mut sketch = Sketch::empty(capacity)?;
        let (values, weights) = sample.distinct();
        sketch.moments = Moments::of(&values, &weights);
        let means = values.clone();
        sketch.set_points(values, weights, means, 0.0);
        Ok(sketch)
    }

    pub fn merge(&self, other: &Sketch) -> Sketch {
        let (a, b) = (self, other);
        let (mut values, mut weights, mut means) = (Vec::new(), Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < a.values.len() || j < b.values.len() {
            let take_a = j == b.values.len() || (i < a.values.len() && a.values[i] <= b.values[j]);
            let (v, w, m) = if take_a {
                i += 1;
                (a.values[i - 1], a.weights[i - 1], a.means[i - 1])
            } else {
                j += 1;
                (b.values[j - 1], b.weights[j - 1], b.means[j - 1])
            };
            if values.last() == Some(&v) {
                let (last_w, last_m) = (weights.last_mut().unwrap(), means.last_mut().unwrap());
                *last_m = (*last_m * *last_w + m * w) / (*last_w + w);
                *last_w += w;
            } else {
                values.push(v);
                weights.push(w);
                means.push(m);
            }
        }
        let (wa, wb) = (a.moments.count, b.moments.count);
        let error = if wa + wb > 0.0 {
            (a.rank_error * wa + b.rank_error * wb) / (wa + wb)
        } else {
            0.0
        };
        let mut merged = Sketch {
            capacity: a.capacity.min(b.capacity),
            values: Vec::new(),
            weights: Vec::new(),
            means: Vec::new(),
            rank_error: 0.0,
            moments: Moments::merge(a.moments, b.moments),
        };
        merged.set_points(values, weights, means, error);
        merged
    }

    /// Keep the points, compacting them when there are more than `capacity`.
    fn set_points(&mut self, values: Vec<f64>, weights: Vec<f64>, means: Vec<f64>, error: f64) {
        let cap = self.capacity as usize;
        let n = values.len();
        if n <= cap {
            (self.values, self.weights, self.means) = (values, weights, means);
            self.rank_error = error;
            return;
        }
        let total: f64 = weights.iter().sum();
        let block = total / (cap - 3) as f64;
        let mut out_v = vec![values[0]];
        let mut out_w = vec![weights[0]];
        let mut out_m = vec![means[0]];
        let (mut acc, mut acc_sum, mut lo) = (0.0, 0.0, f64::INFINITY);
        let mut close = |v: f64, acc: f64, acc_sum: f64, lo: f64| {
            out_v.push(v);
            out_w.push(acc);
            // The block mean, kept inside the block despite rounding.
            out_m.push((acc_sum / acc).clamp(lo, v));
        };
        for i in 1..n - 1 {
            acc += weights[i];
            acc_sum += weights[i] * means[i];
            lo = lo.min(means[i]);
            if acc >= block {
                close(values[i], acc, acc_sum, lo);
                (acc, acc_sum, lo) = (0.0, 0.0, f64::INFINITY);
            }
        }
        if acc > 0.0 {
            close(values[n - 2], acc, acc_sum, lo);
        }
        out_v.push(values[n - 1]);
        out_w.push(weights[n - 1]);
        out_m.push(means[n - 1]);
        (self.values, self.weights, self.means) = (out_v, out_w, out_m);
        self.rank_error = error + block / total;
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn points(&self) -> (&[f64], &[f64]) {
        (&self.values, &self.weights)
    }

    /// The sketch as a weighted sample every drift statistic accepts: points at block maxima
    /// (the CDF bound holds there), or at block means (`means`, for Wasserstein distances).
    pub fn sample(&self, means: bool) -> CoreResult<Sample> {
        if self.is_empty() {
            return Err(value_error(
                "the baseline profile has no values for this column",
            ));
        }
        if !means {
            return Ok(Sample::from_points(&self.values, &self.weights));
        }
        // Blocks of merged sketches overlap, so their means need not be in order.
        let mut pairs: Vec<(f64, f64)> = self
            .means
            .iter()
            .copied()
            .zip(self.weights.iter().copied())
            .collect();
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
        let (mut values, mut weights): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        for (v, w) in pairs {
            if values.last() == Some(&v) {
                *weights.last_mut().unwrap() += w;
            } else {
                values.push(v);
                weights.push(w);
            }
        }
        Ok(Sample::from_points(&values, &weights))
    }
}
