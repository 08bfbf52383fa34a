//! Input rules of MLflow's `mlflow.utils.validation`, applied conservatively: everything the
//! fast path accepts, MLflow accepts too. Anything else is declined so that MLflow's own
//! validation raises its canonical error (or accepts an input we are unsure of).

use super::model::Batch;
use crate::error::{declined, CoreResult};

pub const MAX_ENTITY_KEY_LENGTH: usize = 250;
pub const MAX_PARAM_VAL_LENGTH: usize = 6000;
pub const MAX_TAG_VAL_LENGTH: usize = 8000;
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
pub const MAX_EXPERIMENT_TAG_VAL_LENGTH: usize = 20000;

/// Metric/param/tag names: ASCII subset of `^[/\w.\- :]*$` that `posixpath.normpath` leaves
/// unchanged (no empty, `.` or `..` segment, no leading `/` or `..`).
pub fn is_valid_key(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_ENTITY_KEY_LENGTH || name.starts_with("..") {
        return false;
    }
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'.' | b'-' | b' ' | b':'));
    chars_ok
        && name
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn char_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

pub fn check_batch(batch: &Batch) -> CoreResult<()> {
    let (m, p, t) = (batch.metrics.len(), batch.params.len(), batch.tags.len());
    if m > MAX_METRICS_PER_BATCH
        || p > MAX_PARAMS_TAGS_PER_BATCH
        || t > MAX_PARAMS_TAGS_PER_BATCH
        || m + p + t > MAX_ENTITIES_PER_BATCH
    {
        return Err(declined("batch over MLflow's limits"));
    }
    for metric in &batch.metrics {
        if !is_valid_key(&metric.key) || metric.timestamp < 0 {
            return Err(declined("metric key or timestamp"));
        }
    }
    for (i, (key, value)) in batch.params.iter().enumerate() {
        if !is_valid_key(key) || char_len(value) > MAX_PARAM_VAL_LENGTH {
            return Err(declined("param key or value length"));
        }
        if batch.params[..i].iter().any(|(k, _)| k == key) {
            return Err(declined("duplicate param keys"));
        }
    }
    for (key, value) in &batch.tags {
        if !is_valid_key(key) || char_len(value) > MAX_TAG_VAL_LENGTH {
            return Err(declined("tag key or value length"));
        }
    }
    Ok(())
}

pub fn check_experiment(name: &str, tags: &[(String, String)]) -> CoreResult<()> {
    if name.is_empty() || char_len(name) > MAX_EXPERIMENT_NAME_LENGTH {
        return Err(declined("experiment name"));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(declined("duplicate experiment tag keys"));
        }
        // mlflow.* experiment tags carry extra rules (trace archival): MLflow checks those.
        if !is_valid_key(key)
            || key.starts_with("mlflow.")
            || char_len(value) > MAX_EXPERIMENT_TAG_VAL_LENGTH
        {
            return Err(declined("experiment tag"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_normpath_would_change_are_declined() {
        for bad in [
            "", ".", "..", "../x", "/abs", "a//b", "a/", "a/./b", "a/../b", "..x",
        ] {
            assert!(!is_valid_key(bad), "{bad:?} must be declined");
        }
        for good in ["loss", "val/loss", "a.b-c d:e", "x_1/y.z"] {
            assert!(is_valid_key(good), "{good:?} must be accepted");
        }
        assert!(!is_valid_key("naïve"), "non-ASCII goes to MLflow");
        assert!(is_valid_key(&"k".repeat(250)));
        assert!(!is_valid_key(&"k".repeat(251)));
    }
}
