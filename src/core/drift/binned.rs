//! Reference-quantile bins for the binned divergences (PSI, Jensen-Shannon, KL, Hellinger):
//! edges from the reference sample's quantiles, then both samples counted per bin. Both are
//! binary searches over sorted samples, so binning costs nothing next to the sort.

use super::sample::Sample;

/// Quantiles of a sample with numpy's default (`method="linear"`) and its exact arithmetic,
/// so edges equal `np.quantile`'s. A weighted sample (a sketch) counts as its values repeated
/// by their weights: exact for a profile that kept every distinct value with its count.
pub fn quantiles(s: &Sample, qs: &[f64]) -> Vec<f64> {
    qs.iter().map(|&q| linear(s, q)).collect()
}

fn linear(s: &Sample, q: f64) -> f64 {
    let n = s.total();
    // numpy's virtual index for "linear", `(n - 1) * q`, and `_lerp`, operation for operation.
    let virtual_index = (n - 1.0) * q;
    let last = n - 1.0;
    let (lo, hi, t) = if virtual_index >= last {
        (last, last, 0.0)
    } else if virtual_index < 0.0 {
        (0.0, 0.0, 0.0)
    } else {
        let lo = virtual_index.floor();
        (lo, lo + 1.0, virtual_index - lo)
    };
    let (a, b) = (value_at(s, lo), value_at(s, hi));
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The value at 0-based position `pos` of the sample expanded by its weights.
fn value_at(s: &Sample, pos: f64) -> f64 {
    if !s.is_weighted() {
        return s.value(pos as usize);
    }
    // Smallest count c with weight_below(c) > pos: value c - 1 covers that position.
    let (mut lo, mut hi) = (1, s.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if s.weight_below(mid) > pos {
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
