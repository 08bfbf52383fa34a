//! Metric history reads, with the orderings of MLflow's SQLAlchemy store.

use rusqlite::{params, params_from_iter, types::Value, Connection, Row};

use super::model::{HistoryQuery, MetricPoint, RunMetricPoint, SampleQuery};
use super::runs::find_info;
use crate::error::CoreResult;

/// SQLite's default bound-parameter ceiling is far above this; MLflow chunks IN lists the same.
const IN_CHUNK: usize = 500;

fn value_of(row: &Row<'_>, value_idx: usize, nan_idx: usize) -> rusqlite::Result<f64> {
    let is_nan: bool = row.get(nan_idx)?;
    Ok(if is_nan {
        f64::NAN
    } else {
        row.get(value_idx)?
    })
}

/// Workspace mode validates run access first (MLflow's `_validate_run_accessible`).
fn check_access(conn: &Connection, run_id: &str, workspace: Option<&str>) -> CoreResult<()> {
    if workspace.is_some() {
        find_info(conn, run_id, workspace)?;
    }
    Ok(())
}

pub fn history(
    conn: &Connection,
    query: &HistoryQuery,
    workspace: Option<&str>,
) -> CoreResult<Vec<MetricPoint>> {
    check_access(conn, &query.run_id, workspace)?;
    let mut stmt = conn.prepare_cached(
        "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 \
         ORDER BY timestamp, step, value LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(
        params![
            query.run_id,
            query.key,
            query.limit.unwrap_or(-1),
            query.offset
        ],
        |row| Ok((value_of(row, 0, 3)?, row.get(1)?, row.get(2)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn bulk(
    conn: &Connection,
    run_ids: &[String],
    key: &str,
    limit: i64,
    workspace: Option<&str>,
) -> CoreResult<Vec<RunMetricPoint>> {
    let mut visible = Vec::with_capacity(run_ids.len());
    for run_id in run_ids {
        // Workspace mode drops runs outside the workspace (MLflow's `_filter_entity_ids`).
        if workspace.is_none() || find_info(conn, run_id, workspace).is_ok() {
            visible.push(run_id.clone());
        }
    }
    visible.sort();
    visible.dedup();
    let mut out = Vec::new();
    for chunk in visible.chunks(IN_CHUNK) {
        let marks = (0..chunk.len())
            .map(|i| format!("?{}", i + 2))
            .collect::<Vec<_>>();
        let sql = format!(
            "SELECT run_uuid, value, timestamp, step, is_nan FROM metrics \
             WHERE key = ?1 AND run_uuid IN ({}) ORDER BY run_uuid, timestamp, step, value",
            marks.join(", ")
        );
        let mut args: Vec<Value> = vec![Value::Text(key.to_owned())];
        args.extend(chunk.iter().map(|id| Value::Text(id.clone())));
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |row| {
            Ok((row.get(0)?, value_of(row, 1, 4)?, row.get(2)?, row.get(3)?))
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    // Chunks are in run-id order, so the concatenation keeps MLflow's global ordering.
    out.truncate(usize::try_from(limit.max(0)).unwrap_or(usize::MAX));
    Ok(out)
}

pub fn at_steps(
    conn: &Connection,
    run_id: &str,
    key: &str,
    steps: &[i64],
    limit: i64,
    workspace: Option<&str>,
) -> CoreResult<Vec<RunMetricPoint>> {
    check_access(conn, run_id, workspace)?;
    let mut out = Vec::new();
    let mut sorted: Vec<i64> = steps.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for chunk in sorted.chunks(IN_CHUNK) {
        let marks = (0..chunk.len())
            .map(|i| format!("?{}", i + 3))
            .collect::<Vec<_>>();
        let sql = format!(
            "SELECT value, timestamp, step, is_nan FROM metrics WHERE key = ?1 AND run_uuid = ?2 \
             AND step IN ({}) ORDER BY step, timestamp, value",
            marks.join(", ")
        );
        let mut args: Vec<Value> =
            vec![Value::Text(key.to_owned()), Value::Text(run_id.to_owned())];
        args.extend(chunk.iter().map(|s| Value::Integer(*s)));
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |row| {
            Ok((
                run_id.to_owned(),
                value_of(row, 0, 3)?,
                row.get(1)?,
                row.get(2)?,
            ))
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    out.truncate(usize::try_from(limit.max(0)).unwrap_or(usize::MAX));
    Ok(out)
}

pub fn max_step(
    conn: &Connection,
    run_id: &str,
    key: &str,
    workspace: Option<&str>,
) -> CoreResult<i64> {
    check_access(conn, run_id, workspace)?;
    let max: Option<i64> = conn
        .prepare_cached("SELECT MAX(step) FROM metrics WHERE run_uuid = ?1 AND key = ?2")?
        .query_row(params![run_id, key], |row| row.get(0))?;
    Ok(max.unwrap_or(0))
}

/// MLflow's window-function sampling: NTILE(max_results) buckets over (step, timestamp, value,
/// is_nan), first row of each bucket, then the global last row replaces or extends the tail.
pub fn sample(
    conn: &Connection,
    query: &SampleQuery,
    workspace: Option<&str>,
) -> CoreResult<Vec<RunMetricPoint>> {
    for run_id in &query.run_ids {
        check_access(conn, run_id, workspace)?;
    }
    // Binds: ?1 run, ?2 key, then ?3/?4 the step range if any, then the bucket count.
    let (range, ntile) = if query.steps.is_some() {
        (" AND step >= ?3 AND step <= ?4", "?5")
    } else {
        ("", "?3")
    };
    let sampled_sql = format!(
        "SELECT value, timestamp, step, is_nan FROM ( \
           SELECT value, timestamp, step, is_nan, ROW_NUMBER() OVER ( \
             PARTITION BY bucket ORDER BY step, timestamp, value, is_nan) AS rn FROM ( \
               SELECT value, timestamp, step, is_nan, NTILE({ntile}) OVER ( \
                 ORDER BY step, timestamp, value, is_nan) AS bucket \
               FROM metrics WHERE run_uuid = ?1 AND key = ?2{range})) \
         WHERE rn = 1 ORDER BY step, timestamp, value, is_nan"
    );
    let last_sql = format!(
        "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2{range} \
         ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT 1"
    );
    let (lo, hi) = query.steps.unwrap_or((0, 0));
    let read = |row: &Row<'_>| -> rusqlite::Result<(f64, i64, i64, bool)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    };
    let mut out = Vec::new();
    for run_id in &query.run_ids {
        let mut args = vec![Value::Text(run_id.clone()), Value::Text(query.key.clone())];
        if query.steps.is_some() {
            args.extend([Value::Integer(lo), Value::Integer(hi)]);
        }
        let buckets = Value::Integer(query.max_results);
        let sampled_args = args.iter().chain([&buckets]);
        let mut rows: Vec<(f64, i64, i64, bool)> = conn
            .prepare_cached(&sampled_sql)?
            .query_map(params_from_iter(sampled_args), read)?
            .collect::<Result<_, _>>()?;
        let last = conn
            .prepare_cached(&last_sql)?
            .query_map(params_from_iter(args.iter()), read)?
            .next()
            .transpose()?;
        if let Some(last) = last {
            // Same row identity as MLflow's `_row_key`: NaN rows compare by is_nan, not value.
            let key =
                |r: &(f64, i64, i64, bool)| (r.2, r.1, if r.3 { None } else { Some(r.0) }, r.3);
            if rows.last().is_none_or(|tail| key(tail) != key(&last)) {
                if rows.len() as i64 >= query.max_results {
                    if let Some(tail) = rows.last_mut() {
                        *tail = last;
                    }
                } else {
                    rows.push(last);
                }
            }
        }
        out.extend(rows.into_iter().map(|(value, ts, step, is_nan)| {
            (
                run_id.clone(),
                if is_nan { f64::NAN } else { value },
                ts,
                step,
            )
        }));
    }
    Ok(out)
}
