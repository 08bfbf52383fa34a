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

/// Sort `(key, payload)` pairs by key, stable. All digit histograms come from one read of the
/// keys; digits on which every key agrees are skipped (probabilities share their sign and
/// most exponent bits, so they skip a pass or more).
pub fn radix_sort<P: Copy + Default>(keys: &mut Vec<u64>, payload: &mut Vec<P>) {
    let n = keys.len();
    if n < 256 {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by_key(|&i| keys[i]);
        *keys = idx.iter().map(|&i| keys[i]).collect();
        *payload = idx.iter().map(|&i| payload[i]).collect();
        return;
    }
    const DIGITS: usize = 64usize.div_ceil(RADIX_BITS as usize);
    let mut counts = vec![[0usize; BUCKETS]; DIGITS];
    for &k in keys.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (d as u32 * RADIX_BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    let mut tmp_keys = vec![0u64; n];
    let mut tmp_payload = vec![P::default(); n];
    for (d, c) in counts.iter_mut().enumerate() {
        if c.contains(&n) {
            continue;
        }
        let shift = d as u32 * RADIX_BITS;
        let mut total = 0;
        for slot in c.iter_mut() {
            let here = *slot;
            *slot = total;
            total += here;
        }
        for i in 0..n {
            let k = keys[i];
            let b = ((k >> shift) as usize) & (BUCKETS - 1);
            let dst = c[b];
            c[b] += 1;
            tmp_keys[dst] = k;
            tmp_payload[dst] = payload[i];
        }
        std::mem::swap(keys, &mut tmp_keys);
        std::mem::swap(payload, &mut tmp_payload);
    }
}
