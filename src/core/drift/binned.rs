//! Reference-quantile bins for the binned divergences (PSI, Jensen-Shannon, KL, Hellinger):
//! edges from the reference sample's quantiles, then both samples counted per bin. Both are
//! binary searches over sorted samples, so binning costs nothing next to the sort.

use super::sample::Sample;

/// Quantiles of a sample. Unit-weight samples use numpy's default (`method="linear"`) with
/// its exact arithmetic, so edges equal `np.quantile`'s; weighted samples (sketches) take the
/// first point whose cumulative weight reaches the quantile (inverted CDF).
pub fn quantiles(s: &Sample, qs: &[f64]) -> Vec<f64> {
    qs.iter()
        .map(|&q| {
            if s.is_weighted() {
                inverted_cdf(s, q)
            } else {
                linear(s, q)
            }
        })
        .collect()
}

fn linear(s: &Sample, q: f64) -> f64 {
    let n = s.len();
    // numpy's `_compute_virtual_index(n, q, 1, 1)` and `_lerp`, operation for operation.
    let virtual_index = n as f64 * q + (1.0 - q) - 1.0;
    let last = (n - 1) as f64;
    let (lo, hi, t) = if virtual_index >= last {
        (n - 1, n - 1, 0.0)
    } else if virtual_index < 0.0 {
        (0, 0, 0.0)
    } else {
        let lo = virtual_index.floor();
        (lo as usize, lo as usize + 1, virtual_index - lo)
    };
    let (a, b) = (s.value(lo), s.value(hi));
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

fn inverted_cdf(s: &Sample, q: f64) -> f64 {
    let target = q * s.total();
    let (mut lo, mut hi) = (1, s.len());
    // First i (1-based count) with weight_below(i) >= target.
    while lo < hi {
        let mid = (lo + hi) / 2;
        if s.weight_below(mid) >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    s.value(lo - 1)
}

/// Weight per bin for ascending `edges`: bin 0 holds values `< edges[0]`, bin `i` values in
/// `[edges[i-1], edges[i])`, the last bin values `>= edges[last]` (numpy's
/// `searchsorted(edges, x, side="right")`).
pub fn bin_counts(s: &Sample, edges: &[f64]) -> Vec<f64> {
    let mut bounds = Vec::with_capacity(edges.len() + 2);
    bounds.push(0);
    bounds.extend(edges.iter().map(|&e| s.rank_of(e, true)));
    bounds.push(s.len());
    bounds
        .windows(2)
        .map(|w| s.weight_below(w[1]) - s.weight_below(w[0]))
        .collect()
}
