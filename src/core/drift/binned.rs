//! Reference-quantile bins for the binned divergences (PSI, Jensen-Shannon, KL, Hellinger):
//! edges from the reference sample's quantiles, then both samples counted per bin. Both are
//! binary searches over sorted samples, so binning costs nothing next to the sort.

use rayon::prelude::*;

use super::sample::Sample;
use crate::core::metrics::curve::check_finite;
use crate::core::metrics::sort::{key, unkey};
use crate::core::metrics::{Value, CHUNK};
use crate::error::CoreResult;
use crate::runtime::Cancel;

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

/// [`bin_counts`] of an unsorted column: each value finds its bin by binary search over the
/// edges, in parallel chunks (no sort needed when only bin shares are wanted).
pub fn bin_counts_unsorted<T: Value>(
    values: &[T],
    edges: &[f64],
    cancel: &Cancel,
) -> CoreResult<Vec<f64>> {
    check_finite(values, cancel)?;
    let edge_keys: Vec<u64> = edges.iter().map(|&e| key(e)).collect();
    let counts = values
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut counts = vec![0u64; edges.len() + 1];
            if !cancel.is_cancelled() {
                for v in chunk {
                    let k = key(v.f64());
                    counts[edge_keys.partition_point(|&e| e <= k)] += 1;
                }
            }
            counts
        })
        .reduce(
            || vec![0u64; edges.len() + 1],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    cancel.check()?;
    Ok(counts.into_iter().map(|c| c as f64).collect())
}

/// [`quantiles`] of an unsorted column, without sorting it: the order statistics numpy's
/// linear interpolation needs are found by radix selection (one parallel histogram of the top
/// 16 key bits, then the few candidate buckets are gathered and selected in).
pub fn quantiles_unsorted<T: Value>(
    values: &[T],
    qs: &[f64],
    cancel: &Cancel,
) -> CoreResult<Vec<f64>> {
    check_finite(values, cancel)?;
    let n = values.len();
    if n == 0 {
        return Err(crate::error::value_error(
            "a drift sample must not be empty",
        ));
    }
    const SHIFT: u32 = 48;
    const BUCKETS: usize = 1 << 16;
    let histogram = values
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut h = vec![0usize; BUCKETS];
            for v in chunk {
                h[(key(v.f64()) >> SHIFT) as usize] += 1;
            }
            h
        })
        .reduce(
            || vec![0usize; BUCKETS],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    cancel.check()?;
    // Each interpolation reads ranks floor(v) and floor(v) + 1, v = (n - 1) * q.
    let positions: Vec<(usize, usize, f64)> = qs
        .iter()
        .map(|&q| {
            let v = (n as f64 - 1.0) * q;
            if v >= (n - 1) as f64 {
                (n - 1, n - 1, 0.0)
            } else if v < 0.0 {
                (0, 0, 0.0)
            } else {
                let lo = v.floor();
                (lo as usize, lo as usize + 1, v - lo)
            }
        })
        .collect();
    let mut starts = Vec::with_capacity(BUCKETS + 1);
    let mut total = 0;
    for &c in &histogram {
        starts.push(total);
        total += c;
    }
    starts.push(total);
    let bucket_of = |rank: usize| starts.partition_point(|&s| s <= rank) - 1;
    let mut wanted = vec![false; BUCKETS];
    for &(lo, hi, _) in &positions {
        wanted[bucket_of(lo)] = true;
        wanted[bucket_of(hi)] = true;
    }
    let mut gathered: Vec<Vec<u64>> = values
        .par_chunks(CHUNK)
        .map(|chunk| {
            chunk
                .iter()
                .map(|v| key(v.f64()))
                .filter(|k| wanted[(k >> SHIFT) as usize])
                .collect::<Vec<u64>>()
        })
        .collect();
    cancel.check()?;
    // Place the candidates bucket by bucket (counting sort), then select inside a bucket.
    let mut bucket_start = vec![usize::MAX; BUCKETS];
    let mut offset = 0;
    for (b, &want) in wanted.iter().enumerate() {
        if want {
            bucket_start[b] = offset;
            offset += histogram[b];
        }
    }
    let mut candidates = vec![0u64; offset];
    let mut cursor = bucket_start.clone();
    for k in gathered.iter_mut().flat_map(|g| g.drain(..)) {
        let b = (k >> SHIFT) as usize;
        candidates[cursor[b]] = k;
        cursor[b] += 1;
    }
    let mut order_stat = |rank: usize| -> f64 {
        let b = bucket_of(rank);
        let start = bucket_start[b];
        let slice = &mut candidates[start..start + histogram[b]];
        let (_, k, _) = slice.select_nth_unstable(rank - starts[b]);
        unkey(*k)
    };
    Ok(positions
        .iter()
        .map(|&(lo, hi, t)| {
            let (a, b) = (order_stat(lo), order_stat(hi));
            let diff = b - a;
            if t >= 0.5 {
                b - diff * (1.0 - t)
            } else {
                a + diff * t
            }
        })
        .collect())
}
