//! Rank-based two-sample tests, statistics only (their p-values stay scipy's code in Python):
//! the Anderson-Darling k-sample statistic and the Cramér-von Mises U statistic.

use rayon::prelude::*;

use super::sample::{spans, walk, walk2, Sample};
use crate::core::metrics::sum::Sum;
use crate::error::{value_error, CoreResult};

fn unit_weights(samples: &[&Sample], test: &str) -> CoreResult<()> {
    if samples.iter().any(|s| s.is_weighted()) {
        return Err(value_error(format!(
            "{test} needs raw samples: a baseline profile's sketch has no ranks"
        )));
    }
    Ok(())
}

/// scipy's `anderson_ksamp(variant=...)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variant {
    Midrank,
    Right,
    Continuous,
}

/// `A2kN` of `scipy.stats.anderson_ksamp` (`_anderson_ksamp_<variant>`), before scipy
/// standardizes it.
pub fn anderson_ksamp(samples: &[&Sample], variant: Variant) -> CoreResult<f64> {
    unit_weights(samples, "anderson_ksamp")?;
    let sizes: Vec<f64> = samples.iter().map(|s| s.len() as f64).collect();
    let n_total: f64 = sizes.iter().sum();
    let mut sums: Vec<Sum> = (0..samples.len()).map(|_| Sum::default()).collect();
    let mut below = 0.0; // pooled values strictly below the current one
    let distinct_total = {
        let mut count = 0usize;
        walk(samples, |_| count += 1);
        count
    };
    let mut seen = 0usize;
    walk(samples, |step| {
        seen += 1;
        let lj = step.here.iter().sum::<usize>() as f64;
        if variant == Variant::Continuous {
            // Every pooled position j < N before this value's group ends, one term each.
            let first = below as usize + 1;
            let last = (below + lj) as usize;
            for j in first..=last.min(n_total as usize - 1) {
                let j = j as f64;
                for (i, sum) in sums.iter_mut().enumerate() {
                    let d = n_total * step.upto[i] as f64 - j * sizes[i];
                    sum.add(d * d / (j * (n_total - j)));
                }
            }
        } else if variant == Variant::Midrank {
            let bj = below + lj / 2.0;
            let denominator = bj * (n_total - bj) - n_total * lj / 4.0;
            for (i, sum) in sums.iter_mut().enumerate() {
                let mij = step.upto[i] as f64 - step.here[i] as f64 / 2.0;
                let d = n_total * mij - bj * sizes[i];
                sum.add(lj / n_total * (d * d) / denominator);
            }
        } else if seen < distinct_total {
            let bj = below + lj;
            for (i, sum) in sums.iter_mut().enumerate() {
                let d = n_total * step.upto[i] as f64 - bj * sizes[i];
                sum.add(lj / n_total * (d * d) / (bj * (n_total - bj)));
            }
        }
        below += lj;
    });
    let a2 = sums
        .iter()
        .zip(&sizes)
        .map(|(s, n)| s.value() / n)
        .sum::<f64>();
    Ok(match variant {
        Variant::Midrank => a2 * ((n_total - 1.0) / n_total),
        Variant::Right => a2,
        Variant::Continuous => a2 / n_total,
    })
}

/// `U` of `scipy.stats.cramervonmises_2samp`: with `r` the average ranks in the pooled sample,
/// `nx * sum((rx - i)^2) + ny * sum((ry - j)^2)`.
pub fn cramervonmises_u(x: &Sample, y: &Sample) -> CoreResult<f64> {
    unit_weights(&[x, y], "cramervonmises_2samp")?;
    let parts = 4 * rayon::current_num_threads();
    let terms = spans(x, y, parts)
        .into_par_iter()
        .map(|span| {
            let (mut tx, mut ty) = (Sum::default(), Sum::default());
            walk2(x, y, span, |_, i, j, here_x, here_y| {
                let group = here_x + here_y;
                let below = i - here_x + j - here_y;
                let rank = (2 * below + group + 1) as f64 / 2.0;
                for (sum, upto, here) in [(&mut tx, i, here_x), (&mut ty, j, here_y)] {
                    for index in upto - here + 1..=upto {
                        let d = rank - index as f64;
                        sum.add(d * d);
                    }
                }
            });
            [tx, ty]
        })
        .reduce(
            || [Sum::default(), Sum::default()],
            |[a0, a1], [b0, b1]| [a0.merge(b0), a1.merge(b1)],
        );
    Ok(x.len() as f64 * terms[0].value() + y.len() as f64 * terms[1].value())
}
