use super::curve::binary_curve;
use super::labels::confusion_of;
use super::sort::{key, radix_sort, unkey};
use super::states::{ScoreState, StateKind};
use crate::runtime::Cancel;

fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn keys_preserve_float_order() {
    let xs = [-1e300, -2.5, -0.0, 0.0, 1e-300, 0.5, 3.0, 1e300];
    for w in xs.windows(2) {
        assert!(key(w[0]) <= key(w[1]));
        assert_eq!(unkey(key(w[1])), w[1]);
    }
    assert_eq!(key(-0.0), key(0.0));
}

#[test]
fn radix_sort_matches_std_sort() {
    let mut seed = 7;
    let mut keys: Vec<u64> = (0..10_000)
        .map(|_| key(lcg(&mut seed) * 2.0 - 1.0))
        .collect();
    let mut payload: Vec<usize> = (0..keys.len()).collect();
    let mut expected = keys.clone();
    expected.sort_unstable();
    let original = keys.clone();
    radix_sort(&mut keys, &mut payload);
    assert_eq!(keys, expected);
    for (k, i) in keys.iter().zip(&payload) {
        assert_eq!(*k, original[*i]);
    }
}

/// AUC by counting pairs: P(s+ > s-) + P(s+ == s-) / 2.
fn brute_auc(pos: &[bool], score: &[f64]) -> f64 {
    let (mut num, mut pairs) = (0.0, 0.0);
    for i in 0..pos.len() {
        for j in 0..pos.len() {
            if pos[i] && !pos[j] {
                pairs += 1.0;
                if score[i] > score[j] {
                    num += 1.0;
                } else if score[i] == score[j] {
                    num += 0.5;
                }
            }
        }
    }
    num / pairs
}

#[test]
fn roc_auc_equals_pair_counting_with_ties() {
    let mut seed = 11;
    let score: Vec<f64> = (0..600).map(|_| (lcg(&mut seed) * 20.0).floor()).collect();
    let pos: Vec<bool> = score
        .iter()
        .map(|s| lcg(&mut seed) < 0.2 + s / 40.0)
        .collect();
    let curve = binary_curve(&pos, &score, None, &Cancel::default()).unwrap();
    assert!((curve.roc_auc() - brute_auc(&pos, &score)).abs() < 1e-12);
}

#[test]
fn score_state_merges_to_single_pass_and_round_trips() {
    let mut seed = 3;
    let score: Vec<f64> = (0..5000).map(|_| lcg(&mut seed)).collect();
    let pos: Vec<bool> = score.iter().map(|s| lcg(&mut seed) < *s).collect();
    let cancel = Cancel::default();
    let whole = binary_curve(&pos, &score, None, &cancel).unwrap();
    let mut merged = ScoreState::new(None);
    for (p, s) in pos.chunks(1234).zip(score.chunks(1234)) {
        let mut part = ScoreState::new(None);
        part.add_curve(&binary_curve(p, s, None, &cancel).unwrap(), p.len() as u64);
        let part = ScoreState::from_bytes(&part.to_bytes().unwrap()).unwrap();
        merged.merge(&part);
    }
    assert_eq!(merged.curve(), whole);
    assert_eq!(merged.rows, 5000);
}

#[test]
fn confusion_counts_rows_by_sorted_label() {
    let t: Vec<i64> = vec![3, 1, 1, 2, 3, 3];
    let p: Vec<i64> = vec![3, 1, 2, 2, 1, 3];
    let table = confusion_of(&t, &p, None, &Cancel::default()).unwrap();
    assert_eq!(
        table.counts,
        vec![1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 2.0]
    );
    assert_eq!(table.in_true, vec![true, true, true]);
}
