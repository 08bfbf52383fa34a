//! Sorting scores for ranking metrics. ROC/PR curves only need scores in descending order, so
//! scores become order-preserving `u64` keys and go through an LSD radix sort, several times
//! faster than a comparison sort at 10M rows.

/// Order-preserving key: `a < b` as floats iff `key(a) < key(b)`. `-0.0` is folded into `0.0`
/// because numpy treats them as one threshold. NaN is rejected before this point.
#[inline]
pub fn key(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[inline]
pub fn unkey(k: u64) -> f64 {
    let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(bits)
}

const RADIX_BITS: u32 = 11;
const BUCKETS: usize = 1 << RADIX_BITS;

/// Sort `(key, payload)` pairs by key, stable. Digits that are equal in every key are skipped,
/// which makes probabilities in [0, 1] (few distinct exponents) cheaper still.
pub fn radix_sort<P: Copy + Default>(keys: &mut Vec<u64>, payload: &mut Vec<P>) {
    let n = keys.len();
    if n < 256 {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by_key(|&i| keys[i]);
        *keys = idx.iter().map(|&i| keys[i]).collect();
        *payload = idx.iter().map(|&i| payload[i]).collect();
        return;
    }
    let (and_all, or_all) = keys
        .iter()
        .fold((u64::MAX, 0u64), |(a, o), &k| (a & k, o | k));
    let varying = and_all ^ or_all;
    let mut tmp_keys = vec![0u64; n];
    let mut tmp_payload = vec![P::default(); n];
    let mut shift = 0;
    while shift < 64 {
        let mask = (BUCKETS as u64 - 1) << shift;
        if varying & mask != 0 {
            let mut counts = vec![0usize; BUCKETS];
            for &k in keys.iter() {
                counts[((k >> shift) as usize) & (BUCKETS - 1)] += 1;
            }
            let mut total = 0;
            for c in counts.iter_mut() {
                let here = *c;
                *c = total;
                total += here;
            }
            for i in 0..n {
                let k = keys[i];
                let b = ((k >> shift) as usize) & (BUCKETS - 1);
                let dst = counts[b];
                counts[b] += 1;
                tmp_keys[dst] = k;
                tmp_payload[dst] = payload[i];
            }
            std::mem::swap(keys, &mut tmp_keys);
            std::mem::swap(payload, &mut tmp_payload);
        }
        shift += RADIX_BITS;
    }
}
