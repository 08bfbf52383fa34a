//! A baseline profile: per column of a training table, a quantile sketch (numeric) or the
//! category counts (categorical), with row and null counts. Profiles of partitions merge, so
//! a Spark job builds one per partition and merges them; MessagePack in the versioned
//! envelope the metric states use.

use serde::{Deserialize, Serialize};

use super::sketch::Sketch;
use crate::core::metrics::states::{LabelValue, StateKind};
use crate::error::{value_error, CoreResult};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Summary {
    Numeric(Sketch),
    Categorical {
        labels: Vec<LabelValue>,
        counts: Vec<f64>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    /// The column's type as the table declared it (informational, e.g. `float64`).
    pub dtype: String,
    pub rows: u64,
    pub nulls: u64,
    pub summary: Summary,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub columns: Vec<ColumnProfile>,
}

impl StateKind for Profile {
    const KIND: &'static str = "drift_profile";
}

fn merge_counts(
    (la, ca): (&[LabelValue], &[f64]),
    (lb, cb): (&[LabelValue], &[f64]),
) -> (Vec<LabelValue>, Vec<f64>) {
    let (mut labels, mut counts) = (la.to_vec(), ca.to_vec());
    for (label, &count) in lb.iter().zip(cb) {
        match labels.iter().position(|l| l.same(label)) {
            Some(i) => counts[i] += count,
            None => {
                labels.push(label.clone());
                counts.push(count);
            }
        }
    }
    (labels, counts)
}

impl Profile {
    pub fn column(&self, name: &str) -> CoreResult<&ColumnProfile> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| value_error(format!("the baseline profile has no column {name:?}")))
    }

    pub fn merge(&self, other: &Profile) -> CoreResult<Profile> {
        fn names(p: &Profile) -> Vec<&str> {
            let mut n: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
            n.sort_unstable();
            n
        }
        if names(self) != names(other) {
            return Err(value_error(format!(
                "cannot merge profiles of different columns: {:?} and {:?}",
                names(self),
                names(other)
            )));
        }
        let columns = self
            .columns
            .iter()
            .map(|a| {
                let b = other.column(&a.name)?;
                let summary = match (&a.summary, &b.summary) {
                    (Summary::Numeric(x), Summary::Numeric(y)) => Summary::Numeric(x.merge(y)),
                    (
                        Summary::Categorical {
                            labels: la,
                            counts: ca,
                        },
                        Summary::Categorical {
                            labels: lb,
                            counts: cb,
                        },
                    ) => {
                        let (labels, counts) = merge_counts((la, ca), (lb, cb));
                        Summary::Categorical { labels, counts }
                    }
                    _ => {
                        return Err(value_error(format!(
                            "column {:?} is numeric in one profile and categorical in the other",
                            a.name
                        )))
                    }
                };
                Ok(ColumnProfile {
                    name: a.name.clone(),
                    dtype: a.dtype.clone(),
                    rows: a.rows + b.rows,
                    nulls: a.nulls + b.nulls,
                    summary,
                })
            })
            .collect::<CoreResult<_>>()?;
        Ok(Profile { columns })
    }
}
