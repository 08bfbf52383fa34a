//! Class labels and confusion counts. Labels arrive as `i64` (integer and boolean labels,
//! and codes of string labels) or `f64` (float labels); one parallel pass finds the sorted
//! unique labels, encodes rows, or builds the dense confusion table.

use rayon::prelude::*;
use std::collections::HashMap;

use super::sort::key;
use super::CHUNK;
use crate::error::{value_error, CoreResult};
use crate::runtime::Cancel;

/// A label type the kernels can hash and order: `i64`, or `f64` through its order key.
pub trait Label: Copy + Send + Sync {
    fn ord_key(self) -> u64;
    fn is_nan_key(_key: u64) -> bool {
        false
    }
}

impl Label for i64 {
    #[inline]
    fn ord_key(self) -> u64 {
        (self as u64) ^ (1 << 63)
    }
}

impl Label for f64 {
    #[inline]
    fn ord_key(self) -> u64 {
        key(self)
    }
    fn is_nan_key(k: u64) -> bool {
        super::sort::unkey(k).is_nan()
    }
}

const DIRECT: usize = 256;
const NONE: u32 = u32::MAX;
/// Past this many labels a dense k x k table stops being cheap (k = 1024: 8 MiB per table).
const MAX_DENSE_LABELS: usize = 1024;

/// Label key -> small index, in first-seen order. Small non-negative integer labels (the common
/// case) go through a direct table, anything else through a hash map.
struct LabelIndex {
    keys: Vec<u64>,
    direct: [u32; DIRECT],
    map: HashMap<u64, u32>,
}

impl LabelIndex {
    fn new() -> Self {
        LabelIndex {
            keys: Vec::new(),
            direct: [NONE; DIRECT],
            map: HashMap::new(),
        }
    }

    /// An index over `keys`, each at its position.
    fn of(keys: &[u64]) -> Self {
        let mut index = LabelIndex::new();
        for &k in keys {
            index.insert(k);
        }
        index
    }

    #[inline]
    fn get(&self, k: u64) -> Option<usize> {
        let small = k.wrapping_sub(1 << 63) as usize;
        let i = if small < DIRECT {
            self.direct[small]
        } else {
            *self.map.get(&k)?
        };
        (i != NONE).then_some(i as usize)
    }

    /// The index of `k`, adding it if new; `(index, added)`.
    #[inline]
    fn insert(&mut self, k: u64) -> (usize, bool) {
        if let Some(i) = self.get(k) {
            return (i, false);
        }
        let i = self.keys.len();
        self.keys.push(k);
        let small = k.wrapping_sub(1 << 63) as usize;
        if small < DIRECT {
            self.direct[small] = i as u32;
        } else {
            self.map.insert(k, i as u32);
        }
        (i, true)
    }
}

/// Sorted unique order keys over all `columns`. NaN labels are refused as scikit-learn does.
pub fn unique_keys<L: Label>(columns: &[&[L]], cancel: &Cancel) -> CoreResult<Vec<u64>> {
    let mut all = Vec::new();
    for column in columns {
        let parts: CoreResult<Vec<Vec<u64>>> = column
            .par_chunks(CHUNK)
            .map(|chunk| {
                cancel.check()?;
                let mut seen = LabelIndex::new();
                for &v in chunk {
                    seen.insert(v.ord_key());
                }
                Ok(seen.keys)
            })
            .collect();
        for part in parts? {
            all.extend(part);
        }
    }
    all.sort_unstable();
    all.dedup();
    if all.iter().any(|&k| L::is_nan_key(k)) {
        return Err(value_error("Input contains NaN."));
    }
    Ok(all)
}

/// Position of each row's label in `keys` (every label must be present).
pub fn encode<L: Label>(values: &[L], keys: &[u64], cancel: &Cancel) -> CoreResult<Vec<u32>> {
    let lookup = LabelIndex::of(keys);
    let mut out = vec![0u32; values.len()];
    out.par_chunks_mut(CHUNK)
        .zip(values.par_chunks(CHUNK))
        .try_for_each(|(dst, src)| {
            cancel.check()?;
            for (d, v) in dst.iter_mut().zip(src) {
                *d = lookup
                    .get(v.ord_key())
                    .ok_or_else(|| value_error("y contains previously unseen labels"))?
                    as u32;
            }
            Ok::<(), crate::error::CoreError>(())
        })?;
    Ok(out)
}

/// Recover label values from order keys.
pub fn keys_to_i64(keys: &[u64]) -> Vec<i64> {
    keys.iter().map(|&k| (k ^ (1 << 63)) as i64).collect()
}

pub fn keys_to_f64(keys: &[u64]) -> Vec<f64> {
    keys.iter().map(|&k| super::sort::unkey(k)).collect()
}

/// Confusion counts of one chunk over the labels it has seen, in first-seen order.
struct LocalTable {
    labels: LabelIndex,
    counts: Vec<f64>,
    cap: usize,
    seen_true: Vec<bool>,
    seen_pred: Vec<bool>,
}

impl LocalTable {
    fn new() -> Self {
        LocalTable {
            labels: LabelIndex::new(),
            counts: vec![0.0; 16],
            cap: 4,
            seen_true: Vec::new(),
            seen_pred: Vec::new(),
        }
    }

    /// The row/column of label `k`, growing the table for a new label; `None` once the table
    /// would pass `MAX_DENSE_LABELS`.
    #[inline]
    fn index(&mut self, k: u64) -> Option<usize> {
        let small = k.wrapping_sub(1 << 63) as usize;
        if small < DIRECT && self.labels.direct[small] != NONE {
            return Some(self.labels.direct[small] as usize);
        }
        let (i, added) = self.labels.insert(k);
        if added {
            self.seen_true.push(false);
            self.seen_pred.push(false);
            if i >= self.cap {
                let cap = self.cap * 2;
                if cap > MAX_DENSE_LABELS {
                    return None;
                }
                let mut grown = vec![0.0; cap * cap];
                for r in 0..self.cap {
                    grown[r * cap..r * cap + self.cap]
                        .copy_from_slice(&self.counts[r * self.cap..(r + 1) * self.cap]);
                }
                self.counts = grown;
                self.cap = cap;
            }
        }
        Some(i)
    }

    /// Count the rows `range` into this table.
    fn count<L: Label>(
        &mut self,
        y_true: &[L],
        y_pred: &[L],
        weight: Option<&[f64]>,
        range: std::ops::Range<usize>,
    ) -> CoreResult<()> {
        for i in range {
            let (Some(a), Some(b)) = (
                self.index(y_true[i].ord_key()),
                self.index(y_pred[i].ord_key()),
            ) else {
                // scikit-learn's sparse bookkeeping serves label sets this large.
                return Err(value_error("too many distinct labels for a dense table"));
            };
            self.seen_true[a] = true;
            self.seen_pred[b] = true;
            self.counts[a * self.cap + b] += match weight {
                None => 1.0,
                Some(w) => w[i],
            };
        }
        Ok(())
    }
}

impl LocalTable {
    /// Add another chunk's table into this one (their label orders differ).
    fn absorb(mut self, other: LocalTable) -> CoreResult<LocalTable> {
        let positions: Option<Vec<usize>> =
            other.labels.keys.iter().map(|&k| self.index(k)).collect();
        let positions =
            positions.ok_or_else(|| value_error("too many distinct labels for a dense table"))?;
        for (a, &ga) in positions.iter().enumerate() {
            self.seen_true[ga] |= other.seen_true[a];
            self.seen_pred[ga] |= other.seen_pred[a];
            for (b, &gb) in positions.iter().enumerate() {
                self.counts[ga * self.cap + gb] += other.counts[a * other.cap + b];
            }
        }
        Ok(self)
    }
}

/// Everything the confusion-matrix metrics need, in one pass: sorted label keys, dense counts
/// over them, and which labels occur in `y_true` / `y_pred` (rows weighing zero included).
pub struct Confusion {
    pub keys: Vec<u64>,
    pub counts: Vec<f64>,
    pub in_true: Vec<bool>,
    pub in_pred: Vec<bool>,
}

pub fn confusion_of<L: Label>(
    y_true: &[L],
    y_pred: &[L],
    weight: Option<&[f64]>,
    cancel: &Cancel,
) -> CoreResult<Confusion> {
    // One table per rayon job, folded chunk by chunk, then merged pairwise: few tables alive.
    let tables: CoreResult<LocalTable> = (0..y_true.len().div_ceil(CHUNK))
        .into_par_iter()
        .try_fold(LocalTable::new, |mut t, c| {
            cancel.check()?;
            t.count(
                y_true,
                y_pred,
                weight,
                c * CHUNK..((c + 1) * CHUNK).min(y_true.len()),
            )?;
            Ok::<LocalTable, crate::error::CoreError>(t)
        })
        .try_reduce(LocalTable::new, LocalTable::absorb);
    let table = tables?;
    let mut keys = table.labels.keys.clone();
    keys.sort_unstable();
    if keys.iter().any(|&k| L::is_nan_key(k)) {
        return Err(value_error("Input contains NaN."));
    }
    let k = keys.len();
    let mut out = Confusion {
        counts: vec![0.0; k * k],
        in_true: vec![false; k],
        in_pred: vec![false; k],
        keys,
    };
    let global: Vec<usize> = table
        .labels
        .keys
        .iter()
        .map(|key| out.keys.binary_search(key).expect("key collected above"))
        .collect();
    for (a, &ga) in global.iter().enumerate() {
        out.in_true[ga] = table.seen_true[a];
        out.in_pred[ga] = table.seen_pred[a];
        for (b, &gb) in global.iter().enumerate() {
            out.counts[ga * k + gb] = table.counts[a * table.cap + b];
        }
    }
    Ok(out)
}
