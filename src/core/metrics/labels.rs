//! Class labels and confusion counts. Labels arrive as `i64` (integer and boolean labels,
//! and codes of string labels) or `f64` (float labels); both become sorted unique labels and a
//! dense confusion matrix in one parallel pass each.

use rayon::prelude::*;
use std::collections::HashSet;

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

/// Few distinct labels is the norm: a linear scan over the ones seen beats hashing every row.
struct Seen {
    direct: [bool; DIRECT],
    small: Vec<u64>,
    large: HashSet<u64>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            direct: [false; DIRECT],
            small: Vec::new(),
            large: HashSet::new(),
        }
    }
}

impl Seen {
    #[inline]
    fn insert(&mut self, k: u64) {
        let small = k.wrapping_sub(1 << 63) as usize;
        if small < DIRECT {
            self.direct[small] = true;
            return;
        }
        if self.large.is_empty() {
            if self.small.contains(&k) {
                return;
            }
            if self.small.len() < 32 {
                self.small.push(k);
                return;
            }
            self.large.extend(self.small.drain(..));
        }
        self.large.insert(k);
    }

    fn into_keys(self) -> Vec<u64> {
        let direct = (0..DIRECT as u64)
            .filter(|&v| self.direct[v as usize])
            .map(|v| v.wrapping_add(1 << 63));
        let mut keys: Vec<u64> = self
            .small
            .into_iter()
            .chain(self.large)
            .chain(direct)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
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
                let mut seen = Seen::default();
                for &v in chunk {
                    seen.insert(v.ord_key());
                }
                Ok(seen.into_keys())
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

/// Label key -> position among sorted keys: a direct table for small non-negative integer
/// labels (the common case), a hash map otherwise.
struct Lookup {
    direct: Vec<u32>,
    map: std::collections::HashMap<u64, u32>,
}

impl Lookup {
    fn new(keys: &[u64]) -> Self {
        let mut lookup = Lookup {
            direct: vec![NONE; DIRECT],
            map: Default::default(),
        };
        for (i, &k) in keys.iter().enumerate() {
            let small = k.wrapping_sub(1 << 63) as usize;
            if small < DIRECT {
                lookup.direct[small] = i as u32;
            } else {
                lookup.map.insert(k, i as u32);
            }
        }
        lookup
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
}

/// Position of each row's label in `keys` (every label must be present).
pub fn encode<L: Label>(values: &[L], keys: &[u64], cancel: &Cancel) -> CoreResult<Vec<u32>> {
    let lookup = Lookup::new(keys);
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
    keys: Vec<u64>,
    /// Direct index of small non-negative integer labels (the common case), else a scan/hash.
    direct: [u32; DIRECT],
    lookup: std::collections::HashMap<u64, u32>,
    counts: Vec<f64>,
    cap: usize,
    seen_true: Vec<bool>,
    seen_pred: Vec<bool>,
}

const DIRECT: usize = 256;
const NONE: u32 = u32::MAX;

impl LocalTable {
    fn new() -> Self {
        LocalTable {
            keys: Vec::new(),
            direct: [NONE; DIRECT],
            lookup: Default::default(),
            counts: vec![0.0; 16],
            cap: 4,
            seen_true: Vec::new(),
            seen_pred: Vec::new(),
        }
    }

    #[inline]
    fn index(&mut self, k: u64) -> usize {
        let small = k.wrapping_sub(1 << 63) as usize;
        if small < DIRECT {
            let i = self.direct[small];
            if i != NONE {
                return i as usize;
            }
        } else if let Some(&i) = self.lookup.get(&k) {
            return i as usize;
        }
        let i = self.keys.len();
        self.keys.push(k);
        self.seen_true.push(false);
        self.seen_pred.push(false);
        if small < DIRECT {
            self.direct[small] = i as u32;
        } else {
            self.lookup.insert(k, i as u32);
        }
        if i >= self.cap {
            let cap = self.cap * 2;
            let mut grown = vec![0.0; cap * cap];
            for r in 0..self.cap {
                grown[r * cap..r * cap + self.cap]
                    .copy_from_slice(&self.counts[r * self.cap..(r + 1) * self.cap]);
            }
            self.counts = grown;
            self.cap = cap;
        }
        i
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
    let tables: CoreResult<Vec<LocalTable>> = (0..y_true.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            cancel.check()?;
            let mut t = LocalTable::new();
            for i in c * CHUNK..((c + 1) * CHUNK).min(y_true.len()) {
                let a = t.index(y_true[i].ord_key());
                let b = t.index(y_pred[i].ord_key());
                t.seen_true[a] = true;
                t.seen_pred[b] = true;
                t.counts[a * t.cap + b] += weight.map_or(1.0, |w| w[i]);
            }
            Ok(t)
        })
        .collect();
    let tables = tables?;
    let mut keys: Vec<u64> = tables.iter().flat_map(|t| t.keys.iter().copied()).collect();
    keys.sort_unstable();
    keys.dedup();
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
    for t in &tables {
        let global: Vec<usize> = t
            .keys
            .iter()
            .map(|key| out.keys.binary_search(key).expect("key collected above"))
            .collect();
        for (a, &ga) in global.iter().enumerate() {
            out.in_true[ga] |= t.seen_true[a];
            out.in_pred[ga] |= t.seen_pred[a];
            for (b, &gb) in global.iter().enumerate() {
                out.counts[ga * k + gb] += t.counts[a * t.cap + b];
            }
        }
    }
    Ok(out)
}
