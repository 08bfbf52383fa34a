//! `search_experiments` with stock `_get_search_experiments_filter_clauses` semantics.

use rusqlite::{params_from_iter, types::Value, Connection};

use super::dialect::Dialect;
use super::experiments::{from_row, with_tags, COLUMNS};
use super::filter::{compare, Binds};
use super::model::{ExperimentQuery, ExperimentRow, FilterValue};
use crate::error::{declined, CoreResult};

const EXPERIMENT_COLUMNS: [&str; 4] =
    ["experiment_id", "name", "creation_time", "last_update_time"];

fn column(key: &str) -> CoreResult<String> {
    if EXPERIMENT_COLUMNS.contains(&key) {
        Ok(format!("e.{key}"))
    } else {
        Err(declined(format!("experiment attribute {key}")))
    }
}

pub fn build(
    dialect: &dyn Dialect,
    query: &ExperimentQuery,
    workspace: Option<&str>,
) -> CoreResult<(String, Vec<Value>)> {
    let mut binds = Binds::new(dialect);
    let mut conds = Vec::new();
    for filter in &query.filters {
        let comparator = filter.comparator.as_str();
        match filter.kind.as_str() {
            "attr" => conds.push(compare(
                &mut binds,
                &column(&filter.key)?,
                comparator,
                &filter.value,
            )?),
            "tag" => {
                let key = binds.text(&filter.key);
                let exists = format!(
                    "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = \
                     e.experiment_id AND t.key = {key}"
                );
                conds.push(match comparator {
                    "IS NULL" => format!("NOT {exists})"),
                    "IS NOT NULL" => format!("{exists})"),
                    _ => {
                        let cond = compare(&mut binds, "t.value", comparator, &filter.value)?;
                        format!("{exists} AND {cond})")
                    }
                });
            }
            other => return Err(declined(format!("experiment filter kind {other}"))),
        }
    }
    if query.stages.is_empty() {
        conds.push("1 = 0".into());
    } else {
        let stages = FilterValue::List(
            query
                .stages
                .iter()
                .map(|s| FilterValue::Text(s.clone()))
                .collect(),
        );
        conds.push(compare(&mut binds, "e.lifecycle_stage", "IN", &stages)?);
    }
    if let Some(ws) = workspace {
        let p = binds.text(ws);
        conds.push(format!("e.workspace = {p}"));
    }
    let mut terms = Vec::new();
    for order in &query.order_by {
        if order.kind != "attr" {
            return Err(declined("experiment order_by entity"));
        }
        let dir = if order.ascending { "ASC" } else { "DESC" };
        terms.push(format!("{} {dir}", column(&order.key)?));
    }
    let limit = binds.push(Value::Integer(query.limit));
    let offset = binds.push(Value::Integer(query.offset));
    let sql = format!(
        "SELECT {COLUMNS} FROM experiments e WHERE {} ORDER BY {}{}",
        conds.join(" AND "),
        terms.join(", "),
        dialect.limit_offset(&limit, &offset, true)
    );
    Ok((sql, binds.values))
}

pub fn search(
    conn: &Connection,
    dialect: &dyn Dialect,
    query: &ExperimentQuery,
    workspace: Option<&str>,
) -> CoreResult<Vec<ExperimentRow>> {
    if query.order_by.is_empty() {
        return Err(declined("experiment search without order"));
    }
    let (sql, values) = build(dialect, query, workspace)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows: Vec<ExperimentRow> = stmt
        .query_map(params_from_iter(values), from_row)?
        .collect::<Result<_, _>>()?;
    rows.into_iter().map(|exp| with_tags(conn, exp)).collect()
}
