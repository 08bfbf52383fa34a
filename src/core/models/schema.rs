//! Data checks of MLflow's input schema enforcement that touch every value. MLflow runs them as
//! Python loops over the column (`all(x in [0, 1] for x in xs)`): 0.3 s per 100k rows.

use rayon::prelude::*;

const CHUNK: usize = 1 << 16;

/// MLflow converts a long column to float/double only when every value is 0 or 1.
pub fn all_zero_or_one(values: &[i64]) -> bool {
    crate::runtime::install(|| {
        values
            .par_chunks(CHUNK)
            .all(|chunk| chunk.iter().all(|&v| v == 0 || v == 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_or_one() {
        assert!(all_zero_or_one(&[]));
        assert!(all_zero_or_one(&[0, 1, 1, 0]));
        let mut values = vec![1i64; 3 * CHUNK];
        assert!(all_zero_or_one(&values));
        values[2 * CHUNK + 7] = 2;
        assert!(!all_zero_or_one(&values));
        assert!(!all_zero_or_one(&[-1]));
    }
}
