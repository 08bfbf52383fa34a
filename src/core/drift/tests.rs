use super::binned::{bin_counts, quantiles};
use super::profile::{ColumnProfile, Profile, Summary};
use super::rank::cramervonmises_u;
use super::sample::Sample;
use super::sketch::Sketch;
use super::two_sample::{ks_extremes, wasserstein};
use crate::core::metrics::states::{LabelValue, StateKind};
use crate::runtime::Cancel;

fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

fn sample(values: &[f64]) -> Sample {
    Sample::new(values, None, &Cancel::default()).unwrap()
}

fn cdf(xs: &[f64], t: f64) -> f64 {
    xs.iter().filter(|&&x| x <= t).count() as f64 / xs.len() as f64
}

#[test]
fn ks_and_wasserstein_match_their_definitions() {
    let mut seed = 5;
    let a: Vec<f64> = (0..300).map(|_| (lcg(&mut seed) * 40.0).floor()).collect();
    let b: Vec<f64> = (0..200).map(|_| (lcg(&mut seed) * 50.0).floor()).collect();
    let (sa, sb) = (sample(&a), sample(&b));
    let pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
    let diffs: Vec<f64> = pooled.iter().map(|&t| cdf(&a, t) - cdf(&b, t)).collect();
    let e = ks_extremes(&sa, &sb);
    assert_eq!(
        e.max,
        diffs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    assert_eq!(e.min, diffs.iter().copied().fold(f64::INFINITY, f64::min));
    let mut sorted = pooled.clone();
    sorted.sort_by(f64::total_cmp);
    let w: f64 = sorted
        .windows(2)
        .map(|p| (cdf(&a, p[0]) - cdf(&b, p[0])).abs() * (p[1] - p[0]))
        .sum();
    assert!((wasserstein(&sa, &sb) - w).abs() < 1e-12);
}

#[test]
fn bins_split_at_edges_left_closed() {
    let s = sample(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(bin_counts(&s, &[2.0, 4.0]), vec![1.0, 3.0, 2.0]);
    assert_eq!(quantiles(&s, &[0.0, 0.5, 1.0]), vec![1.0, 2.5, 5.0]);
}

#[test]
fn cramervonmises_u_matches_average_ranks() {
    let x = [1.0, 3.0, 3.0, 7.0];
    let y = [2.0, 3.0, 8.0];
    let mut pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let rank = |v: f64| {
        let less = pooled.iter().filter(|&&p| p < v).count() as f64;
        let eq = pooled.iter().filter(|&&p| p == v).count() as f64;
        less + (eq + 1.0) / 2.0
    };
    let part = |xs: &[f64]| -> f64 {
        xs.iter()
            .enumerate()
            .map(|(i, &v)| (rank(v) - (i + 1) as f64).powi(2))
            .sum()
    };
    let expected = 4.0 * part(&x) + 3.0 * part(&y);
    let got = cramervonmises_u(&sample(&x), &sample(&y)).unwrap();
    assert!((got - expected).abs() < 1e-12);
}

#[test]
fn sketch_rank_error_bounds_its_cdf_through_merges() {
    let mut seed = 11;
    let parts: Vec<Vec<f64>> = (0..7)
        .map(|p| {
            (0..5000 + 900 * p)
                .map(|_| (lcg(&mut seed) * 1000.0).round() / 10.0 + p as f64)
                .collect()
        })
        .collect();
    let mut merged: Option<Sketch> = None;
    for part in &parts {
        let s = Sketch::of(&sample(part), 64).unwrap();
        merged = Some(match merged {
            None => s,
            Some(m) => m.merge(&s),
        });
    }
    let merged = merged.unwrap();
    let all: Vec<f64> = parts.concat();
    let points = merged.sample(false).unwrap();
    let (values, _) = merged.points();
    assert!(values.len() <= 64);
    assert!(merged.rank_error > 0.0 && merged.rank_error < 0.1);
    for t in (0..1200).map(|i| i as f64 / 10.0) {
        let estimate = points.cdf(points.rank_of(t, false));
        assert!(
            (estimate - cdf(&all, t)).abs() <= merged.rank_error + 1e-12,
            "at {t}"
        );
    }
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    assert!((merged.moments.mean - mean).abs() < 1e-9);
    assert_eq!(
        values.first(),
        all.iter().copied().reduce(f64::min).as_ref()
    );
    assert_eq!(values.last(), all.iter().copied().reduce(f64::max).as_ref());
}

#[test]
fn profiles_merge_and_round_trip() {
    let numeric = |values: &[f64]| ColumnProfile {
        name: "x".into(),
        dtype: "float64".into(),
        rows: values.len() as u64 + 1,
        nulls: 1,
        summary: Summary::Numeric(Sketch::of(&sample(values), 16).unwrap()),
    };
    let categorical = |labels: Vec<LabelValue>, counts: Vec<f64>| ColumnProfile {
        name: "c".into(),
        dtype: "object".into(),
        rows: counts.iter().sum::<f64>() as u64,
        nulls: 0,
        summary: Summary::Categorical { labels, counts },
    };
    let a = Profile {
        columns: vec![
            numeric(&[1.0, 2.0]),
            categorical(vec![LabelValue::Str("a".into())], vec![2.0]),
        ],
    };
    let b = Profile {
        columns: vec![
            categorical(
                vec![LabelValue::Str("b".into()), LabelValue::Str("a".into())],
                vec![1.0, 3.0],
            ),
            numeric(&[3.0]),
        ],
    };
    let merged = a.merge(&b).unwrap();
    let c = merged.column("c").unwrap();
    assert_eq!(c.rows, 6);
    match &c.summary {
        Summary::Categorical { labels, counts } => {
            assert_eq!(labels.len(), 2);
            assert_eq!(counts, &vec![5.0, 1.0]);
        }
        _ => panic!("categorical expected"),
    }
    assert_eq!(merged.column("x").unwrap().nulls, 2);
    let back = Profile::from_bytes(&merged.to_bytes().unwrap()).unwrap();
    assert_eq!(back, merged);
    let other = Profile {
        columns: vec![numeric(&[1.0])],
    };
    assert!(a.merge(&other).is_err());
}

#[test]
fn weighted_quantiles_expand_counts_like_numpy() {
    // [0, 1, 1, 1, 2, 5, 5] as distinct values with counts.
    let raw = sample(&[0.0, 1.0, 1.0, 1.0, 2.0, 5.0, 5.0]);
    let weighted = Sample::from_points(&[0.0, 1.0, 2.0, 5.0], &[1.0, 3.0, 1.0, 2.0]);
    let qs: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
    assert_eq!(quantiles(&raw, &qs), quantiles(&weighted, &qs));
}

#[test]
fn parallel_spans_give_the_sequential_walk_results() {
    use super::sample::walk;
    let mut seed = 3;
    // Heavy ties and unequal sizes, above the size from which walks are split.
    let a: Vec<f64> = (0..300_000)
        .map(|_| (lcg(&mut seed) * 5000.0).floor())
        .collect();
    let b: Vec<f64> = (0..170_000)
        .map(|_| (lcg(&mut seed) * 5200.0).floor() - 100.0)
        .collect();
    let (sa, sb) = (sample(&a), sample(&b));
    let (mut max, mut min, mut w, mut prev) = (f64::MIN, f64::MAX, 0.0, None::<(f64, f64)>);
    let (mut max_at, mut min_at) = (None, None);
    walk(&[&sa, &sb], |step| {
        let d = sa.cdf(step.upto[0]) - sb.cdf(step.upto[1]);
        if d > max {
            (max, max_at) = (d, Some(step.value));
        }
        if d < min {
            (min, min_at) = (d, Some(step.value));
        }
        if let Some((p, gap)) = prev {
            w += gap * (step.value - p);
        }
        prev = Some((step.value, d.abs()));
    });
    let e = ks_extremes(&sa, &sb);
    assert_eq!((e.max, e.min), (max, min));
    // scipy's location rule prefers data1; with these seeds each extreme is first reached
    // at a value of data1, so it is also the first value overall.
    assert_eq!((Some(e.max_at), Some(e.min_at)), (max_at, min_at));
    assert!((wasserstein(&sa, &sb) - w).abs() <= 1e-9 * w);
    let u = cramervonmises_u(&sa, &sb).unwrap();
    let mut pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let rank = |v: f64| {
        let less = pooled.partition_point(|&p| p < v) as f64;
        let le = pooled.partition_point(|&p| p <= v) as f64;
        (less + 1.0 + le) / 2.0
    };
    let part = |xs: &mut Vec<f64>| -> f64 {
        xs.sort_by(f64::total_cmp);
        xs.iter()
            .enumerate()
            .map(|(i, &v)| (rank(v) - (i + 1) as f64).powi(2))
            .sum()
    };
    let expected = a.len() as f64 * part(&mut a.clone()) + b.len() as f64 * part(&mut b.clone());
    assert!((u - expected).abs() <= 1e-9 * expected);
}

#[test]
fn unsorted_quantiles_and_counts_equal_the_sorted_ones() {
    use super::binned::{bin_counts_unsorted, quantiles_unsorted};
    let mut seed = 9;
    let cancel = Cancel::default();
    for scale in [1.0, 1e-9, 1e9] {
        let values: Vec<f64> = (0..200_003)
            .map(|i| {
                let x = lcg(&mut seed) - 0.5;
                // Some exact ties and zeros of both signs.
                if i % 7 == 0 {
                    (x * 10.0).round() * scale
                } else if i % 11 == 0 {
                    -0.0
                } else {
                    x * scale
                }
            })
            .collect();
        let sorted = sample(&values);
        let qs: Vec<f64> = (0..=40).map(|i| i as f64 / 40.0).collect();
        let edges = quantiles_unsorted(&values, &qs, &cancel).unwrap();
        assert_eq!(edges, quantiles(&sorted, &qs));
        let inner = &edges[1..edges.len() - 1];
        assert_eq!(
            bin_counts_unsorted(&values, inner, &cancel).unwrap(),
            bin_counts(&sorted, inner)
        );
    }
}
