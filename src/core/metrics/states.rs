//! Mergeable metric states: build one per partition (a Spark task, a file, a batch), merge
//! them in any order, compute once. Serialized as MessagePack with a versioned envelope.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::curve::Curve;
use super::regression::Moments;
use crate::error::{CoreError, CoreResult};

pub const FORMAT: &str = "mlflow-oxide-metric-state";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    format: String,
    version: u32,
    kind: String,
    state: T,
}

pub trait StateKind: Serialize + DeserializeOwned {
    const KIND: &'static str;

    fn to_bytes(&self) -> CoreResult<Vec<u8>> {
        let envelope = Envelope {
            format: FORMAT.to_owned(),
            version: VERSION,
            kind: Self::KIND.to_owned(),
            state: self,
        };
        rmp_serde::to_vec_named(&envelope).map_err(|e| CoreError::Decode(e.to_string()))
    }

    fn from_bytes(bytes: &[u8]) -> CoreResult<Self> {
        let bad = |what: String| CoreError::Decode(format!("not a {} state: {what}", Self::KIND));
        let header: Header =
            rmp_serde::from_slice(bytes).map_err(|e| bad(format!("unreadable ({e})")))?;
        if header.format != FORMAT {
            return Err(bad(format!("unknown format {:?}", header.format)));
        }
        if header.version != VERSION {
            return Err(bad(format!(
                "format version {} (this build reads version {VERSION})",
                header.version
            )));
        }
        if header.kind != Self::KIND {
            return Err(bad(format!("it holds a {} state", header.kind)));
        }
        let envelope: Envelope<Self> =
            rmp_serde::from_slice(bytes).map_err(|e| bad(format!("corrupt ({e})")))?;
        Ok(envelope.state)
    }
}

/// A class label as it travels between processes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum LabelValue {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl LabelValue {
    fn is_text(&self) -> bool {
        matches!(self, LabelValue::Str(_))
    }

    /// Equal as class labels: `1` and `1.0` are one class, as numpy sees them.
    pub(crate) fn same(&self, other: &LabelValue) -> bool {
        match (self, other) {
            (LabelValue::Int(a), LabelValue::Float(b))
            | (LabelValue::Float(b), LabelValue::Int(a)) => *a as f64 == *b,
            _ => self == other,
        }
    }
}

/// Weighted confusion counts over every label seen, in first-seen order.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ConfusionState {
    pub labels: Vec<LabelValue>,
    /// Row-major `labels.len()` squared: true label by predicted label, weighted.
    pub counts: Vec<f64>,
    /// The same cells counting rows (MLflow logs unweighted true/false positives/negatives).
    pub raw: Vec<f64>,
    pub rows: u64,
    pub weighted: bool,
}

impl StateKind for ConfusionState {
    const KIND: &'static str = "confusion_matrix";
}

impl ConfusionState {
    fn index_of(&mut self, label: &LabelValue) -> usize {
        if let Some(i) = self.labels.iter().position(|l| l.same(label)) {
            return i;
        }
        let k = self.labels.len();
        let grow = |m: &Vec<f64>| {
            let mut grown = vec![0.0; (k + 1) * (k + 1)];
            for r in 0..k {
                grown[r * (k + 1)..r * (k + 1) + k].copy_from_slice(&m[r * k..r * k + k]);
            }
            grown
        };
        self.counts = grow(&self.counts);
        self.raw = grow(&self.raw);
        self.labels.push(label.clone());
        k
    }

    /// Add a batch: its labels and their dense confusion counts, weighted and by rows.
    pub fn add(
        &mut self,
        labels: &[LabelValue],
        counts: &[f64],
        raw: &[f64],
        rows: u64,
        weighted: bool,
    ) -> CoreResult<()> {
        if let (Some(mine), Some(theirs)) = (self.labels.first(), labels.first()) {
            if mine.is_text() != theirs.is_text()
                || labels.iter().any(|l| l.is_text() != mine.is_text())
            {
                return Err(CoreError::Value(
                    "cannot mix string and numeric class labels in one confusion matrix state"
                        .to_owned(),
                ));
            }
        }
        let idx: Vec<usize> = labels.iter().map(|l| self.index_of(l)).collect();
        let k = self.labels.len();
        let kb = labels.len();
        for (r, &gr) in idx.iter().enumerate() {
            for (c, &gc) in idx.iter().enumerate() {
                self.counts[gr * k + gc] += counts[r * kb + c];
                self.raw[gr * k + gc] += raw[r * kb + c];
            }
        }
        self.rows += rows;
        self.weighted |= weighted;
        Ok(())
    }

    pub fn merge(&mut self, other: &ConfusionState) -> CoreResult<()> {
        self.add(
            &other.labels,
            &other.counts,
            &other.raw,
            other.rows,
            other.weighted,
        )
    }
}

/// Exact sums and Chan-merged moments for the regression metrics MLflow logs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RegressionState {
    pub rows: u64,
    pub sum_w: f64,
    pub sum_wy: f64,
    pub abs: f64,
    pub sq: f64,
    pub ape: f64,
    pub sq_log: f64,
    /// Some value was <= -1, where the squared log error is undefined.
    pub log_undefined: bool,
    pub max_error: f64,
    pub mean_y: f64,
    pub m2_y: f64,
    pub mean_d: f64,
    pub m2_d: f64,
}

impl StateKind for RegressionState {
    const KIND: &'static str = "regression";
}

/// Per-batch numbers the binding computes with the kernels before calling `add`.
pub struct RegressionBatch {
    pub rows: u64,
    pub sum_wy: f64,
    pub abs: f64,
    pub sq: f64,
    pub ape: f64,
    pub sq_log: Option<f64>,
    pub max_error: f64,
    pub moments: Moments,
}

fn chan(w_a: f64, mean_a: f64, m2_a: f64, w_b: f64, mean_b: f64, m2_b: f64) -> (f64, f64) {
    let w = w_a + w_b;
    if w == 0.0 {
        return (0.0, 0.0);
    }
    let delta = mean_b - mean_a;
    (
        mean_a + delta * w_b / w,
        m2_a + m2_b + delta * delta * w_a * w_b / w,
    )
}

impl RegressionState {
    pub fn add(&mut self, b: &RegressionBatch) {
        if b.rows == 0 {
            return;
        }
        let m = &b.moments;
        let other = RegressionState {
            rows: b.rows,
            sum_w: m.sum_w,
            sum_wy: b.sum_wy,
            abs: b.abs,
            sq: b.sq,
            ape: b.ape,
            sq_log: b.sq_log.unwrap_or(0.0),
            log_undefined: b.sq_log.is_none(),
            max_error: b.max_error,
            mean_y: m.mean_y,
            m2_y: m.ss_tot,
            mean_d: m.mean_d,
            m2_d: m.ss_diff,
        };
        self.merge(&other);
    }

    pub fn merge(&mut self, o: &RegressionState) {
        if o.rows == 0 {
            return;
        }
        if self.rows == 0 {
            *self = o.clone();
            return;
        }
        let (mean_y, m2_y) = chan(
            self.sum_w,
            self.mean_y,
            self.m2_y,
            o.sum_w,
            o.mean_y,
            o.m2_y,
        );
        let (mean_d, m2_d) = chan(
            self.sum_w,
            self.mean_d,
            self.m2_d,
            o.sum_w,
            o.mean_d,
            o.m2_d,
        );
        self.rows += o.rows;
        self.sum_w += o.sum_w;
        self.sum_wy += o.sum_wy;
        self.abs += o.abs;
        self.sq += o.sq;
        self.ape += o.ape;
        self.sq_log += o.sq_log;
        self.log_undefined |= o.log_undefined;
        self.max_error = self.max_error.max(o.max_error);
        (self.mean_y, self.m2_y, self.mean_d, self.m2_d) = (mean_y, m2_y, mean_d, m2_d);
    }
}

/// Weight of positives and negatives per distinct score (exact) or per bin of `[0, 1]`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ScoreState {
    pub bins: Option<u32>,
    /// The class counted as positive, kept so a shipped state goes on counting the same class.
    #[serde(default)]
    pub pos_label: Option<LabelValue>,
    /// Ascending order keys (exact mode) or bin indices (histogram mode).
    pub keys: Vec<u64>,
    pub pos: Vec<f64>,
    pub neg: Vec<f64>,
    pub rows: u64,
}

impl StateKind for ScoreState {
    const KIND: &'static str = "binary_score";
}

impl ScoreState {
    pub fn new(bins: Option<u32>) -> Self {
        ScoreState {
            bins,
            ..Default::default()
        }
    }

    /// Merge sorted `(key, pos, neg)` runs into this state.
    pub fn merge_runs(&mut self, keys: &[u64], pos: &[f64], neg: &[f64], rows: u64) {
        let mut out = ScoreState {
            bins: self.bins,
            pos_label: self.pos_label.clone(),
            rows: self.rows + rows,
            ..Default::default()
        };
        let (mut i, mut j) = (0, 0);
        while i < self.keys.len() || j < keys.len() {
            let take_self = j == keys.len() || (i < self.keys.len() && self.keys[i] <= keys[j]);
            let take_other = i == self.keys.len() || (j < keys.len() && keys[j] <= self.keys[i]);
            let k = if take_self { self.keys[i] } else { keys[j] };
            let (mut p, mut n) = (0.0, 0.0);
            if take_self {
                p += self.pos[i];
                n += self.neg[i];
                i += 1;
            }
            if take_other {
                p += pos[j];
                n += neg[j];
                j += 1;
            }
            out.keys.push(k);
            out.pos.push(p);
            out.neg.push(n);
        }
        *self = out;
    }

    /// Add a batch already turned into a curve (cumulative counts, thresholds descending).
    pub fn add_curve(&mut self, curve: &Curve, rows: u64) {
        let m = curve.fps.len();
        let (mut keys, mut pos, mut neg) = (vec![0; m], vec![0.0; m], vec![0.0; m]);
        for i in 0..m {
            let (pf, pt) = if i == 0 {
                (0.0, 0.0)
            } else {
                (curve.fps[i - 1], curve.tps[i - 1])
            };
            let at = m - 1 - i;
            keys[at] = self.key_of(curve.thresholds[i]);
            pos[at] = curve.tps[i] - pt;
            neg[at] = curve.fps[i] - pf;
        }
        self.merge_runs(&keys, &pos, &neg, rows);
    }

    fn key_of(&self, threshold: f64) -> u64 {
        match self.bins {
            // Histogram mode: `threshold` is already a bin index.
            Some(_) => threshold as u64,
            None => super::sort::key(threshold),
        }
    }

    pub fn merge(&mut self, other: &ScoreState) {
        self.merge_runs(&other.keys, &other.pos, &other.neg, other.rows);
    }

    /// The cumulative curve, thresholds descending, as `binary_curve` returns it.
    pub fn curve(&self) -> Curve {
        let mut curve = Curve::default();
        let (mut tp, mut fp) = (0.0, 0.0);
        for i in (0..self.keys.len()).rev() {
            tp += self.pos[i];
            fp += self.neg[i];
            curve.tps.push(tp);
            curve.fps.push(fp);
            curve.thresholds.push(match self.bins {
                Some(b) => self.keys[i] as f64 / b as f64,
                None => super::sort::unkey(self.keys[i]),
            });
        }
        curve
    }

    /// Bound on |histogram AUC - exact AUC|: only pairs sharing a bin can be misordered, and
    /// each such pair is counted as half.
    pub fn max_auc_error(&self) -> f64 {
        if self.bins.is_none() {
            return 0.0;
        }
        let p: f64 = self.pos.iter().sum();
        let n: f64 = self.neg.iter().sum();
        let same_bin: f64 = self.pos.iter().zip(&self.neg).map(|(a, b)| a * b).sum();
        0.5 * same_bin / (p * n)
    }
}
