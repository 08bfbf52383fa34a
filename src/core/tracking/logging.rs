//! `log_batch` (and through it log_metric / log_param / set_tag) and `delete_tag`, each in one
//! transaction, with MLflow's semantics:
//! - params are immutable: re-logging the same value is a no-op, a different value an error;
//! - metrics are deduplicated on MLflow's primary key; `latest_metrics` keeps, per key, the
//!   metric with the greatest (step, timestamp, value) among those actually inserted;
//! - NaN is stored as 0 with `is_nan`, infinities as +-f64::MAX (SQL has no infinities);
//! - setting `mlflow.runName` also renames the run.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::model::{Batch, MetricIn};
use super::runs::{require_active, upsert_tag, RUN_NAME_TAG};
use super::validate::check_batch;
use crate::error::{declined, CoreError, CoreResult};

/// (value, is_nan) exactly as MLflow's `sanitize_metric_value` stores it.
pub fn sanitize(value: f64) -> (f64, bool) {
    if value.is_nan() {
        (0.0, true)
    } else if value.is_infinite() {
        (if value > 0.0 { f64::MAX } else { f64::MIN }, false)
    } else {
        (value, false)
    }
}

#[derive(Clone, Copy, PartialEq)]
struct Latest {
    step: i64,
    timestamp: Option<i64>,
    value: f64,
    is_nan: bool,
}

impl Latest {
    /// MLflow compares the tuple (step, timestamp, value) with Python's ordering.
    fn newer_than(&self, other: &Latest) -> bool {
        let a = (self.step, self.timestamp.unwrap_or(i64::MIN));
        let b = (other.step, other.timestamp.unwrap_or(i64::MIN));
        a > b || (a == b && self.value > other.value)
    }
}

pub fn log_batch(
    conn: &Connection,
    run_id: &str,
    batch: &Batch,
    workspace: Option<&str>,
) -> CoreResult<()> {
    check_batch(batch)?;
    if batch
        .tags
        .iter()
        .any(|(k, v)| k == RUN_NAME_TAG && v.is_empty())
    {
        // MLflow's update_run_info ignores an empty name: keep its exact behaviour.
        return Err(declined("empty run name tag"));
    }
    require_active(conn, run_id, workspace)?;
    log_params(conn, run_id, &batch.params)?;
    log_metrics(conn, run_id, &batch.metrics)?;
    for (key, value) in &batch.tags {
        if key == RUN_NAME_TAG {
            conn.prepare_cached("UPDATE runs SET name = ?2 WHERE run_uuid = ?1")?
                .execute(params![run_id, value])?;
        }
        upsert_tag(conn, run_id, key, value)?;
    }
    Ok(())
}

fn log_params(conn: &Connection, run_id: &str, params_in: &[(String, String)]) -> CoreResult<()> {
    let mut existing =
        conn.prepare_cached("SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2")?;
    let mut insert =
        conn.prepare_cached("INSERT INTO params (key, value, run_uuid) VALUES (?1, ?2, ?3)")?;
    for (key, value) in params_in {
        let old: Option<String> = existing
            .query_row(params![run_id, key], |row| row.get(0))
            .optional()?;
        match old {
            Some(old) if &old == value => {}
            Some(_) => {
                return Err(CoreError::InvalidParameter(format!(
                    "Changing param values is not allowed. Param with key='{key}' was already \
                     logged for run ID='{run_id}'."
                )))
            }
            None => {
                insert.execute(params![key, value, run_id])?;
            }
        }
    }
    Ok(())
}

fn log_metrics(conn: &Connection, run_id: &str, metrics: &[MetricIn]) -> CoreResult<()> {
    if metrics.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    // Best candidate per key among the rows this call inserted, in order of first appearance:
    // new latest_metrics rows get that storage order, as with MLflow's ORM.
    let mut order: Vec<(&str, Latest)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for metric in metrics {
        let (value, is_nan) = sanitize(metric.value);
        let inserted = insert.execute(params![
            metric.key,
            value,
            metric.timestamp,
            run_id,
            metric.step,
            is_nan
        ])?;
        if inserted == 0 {
            continue;
        }
        let new = Latest {
            step: metric.step,
            timestamp: Some(metric.timestamp),
            value,
            is_nan,
        };
        match slot.get(metric.key.as_str()) {
            Some(&i) if new.newer_than(&order[i].1) => order[i].1 = new,
            Some(_) => {}
            None => {
                slot.insert(metric.key.as_str(), order.len());
                order.push((metric.key.as_str(), new));
            }
        }
    }
    // One statement per key: insert, or overwrite only when strictly newer by MLflow's
    // (step, timestamp, value) ordering.
    let mut upsert = conn.prepare_cached(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key, run_uuid) DO UPDATE SET \
         value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, \
         is_nan = excluded.is_nan \
         WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, \
         COALESCE(latest_metrics.timestamp, -9223372036854775808), latest_metrics.value)",
    )?;
    for (key, new) in order {
        upsert.execute(params![
            key,
            new.value,
            new.timestamp,
            new.step,
            new.is_nan,
            run_id
        ])?;
    }
    Ok(())
}

pub fn delete_tag(
    conn: &Connection,
    run_id: &str,
    key: &str,
    workspace: Option<&str>,
) -> CoreResult<()> {
    require_active(conn, run_id, workspace)?;
    let deleted = conn
        .prepare_cached("DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2")?
        .execute(params![run_id, key])?;
    if deleted == 0 {
        return Err(CoreError::NotFound(format!(
            "No tag with name: {key} in run with id {run_id}"
        )));
    }
    Ok(())
}
