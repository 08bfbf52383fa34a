//! `search_runs`: MLflow's filter/order semantics compiled to one SQL statement.
//!
//! Mirrors stock `_get_sqlalchemy_filter_clauses` / `_get_orderby_clauses`: metric filters
//! never match NaN except `!=`; sorting puts missing values (and NaN metrics) last; ties break
//! on `start_time DESC` (unless ordered by it) then `run_uuid`.

use std::collections::HashSet;

use rusqlite::{params_from_iter, Connection};

use super::dialect::Dialect;
use super::filter::{compare, Binds};
use super::model::{Filter, FilterValue, OrderBy, RunInfoRow, RunQuery, RunRow};
use super::runs::{assemble_many, info_columns, info_from_row, RUN_NAME_TAG};
use crate::error::{declined, CoreResult};

/// Columns MLflow lets users search and order runs by (`RunInfo` searchable attributes).
const RUN_COLUMNS: [&str; 7] = [
    "run_uuid",
    "name",
    "status",
    "user_id",
    "artifact_uri",
    "start_time",
    "end_time",
];

fn run_column(key: &str) -> CoreResult<String> {
    if RUN_COLUMNS.contains(&key) {
        Ok(format!("r.{key}"))
    } else {
        Err(declined(format!("run attribute {key}")))
    }
}

fn entity_table(kind: &str) -> CoreResult<&'static str> {
    Ok(match kind {
        "metric" => "latest_metrics",
        "param" => "params",
        "tag" => "tags",
        other => return Err(declined(format!("entity {other}"))),
    })
}

fn filter_sql(binds: &mut Binds<'_>, filter: &Filter) -> CoreResult<String> {
    let comparator = filter.comparator.as_str();
    match filter.kind.as_str() {
        "attr" => compare(binds, &run_column(&filter.key)?, comparator, &filter.value),
        "run_name" => {
            let key = binds.text(RUN_NAME_TAG);
            let cond = compare(binds, "t.value", comparator, &filter.value)?;
            Ok(format!(
                "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = {key} \
                 AND {cond})"
            ))
        }
        "metric" | "param" | "tag" => {
            let table = entity_table(&filter.kind)?;
            let key = binds.text(&filter.key);
            let exists = format!(
                "EXISTS (SELECT 1 FROM {table} x WHERE x.run_uuid = r.run_uuid AND x.key = {key}"
            );
            match comparator {
                "IS NULL" => return Ok(format!("NOT {exists})")),
                "IS NOT NULL" => return Ok(format!("{exists})")),
                _ => {}
            }
            let mut cond = compare(binds, "x.value", comparator, &filter.value)?;
            if filter.kind == "metric" {
                let d = binds.dialect();
                cond = if comparator == "!=" {
                    format!("({cond} OR x.is_nan = {})", d.true_literal())
                } else {
                    format!("({cond} AND x.is_nan = {})", d.false_literal())
                };
            }
            Ok(format!("{exists} AND {cond})"))
        }
        "dataset" => {
            let source = "FROM datasets d JOIN inputs i ON i.source_id = d.dataset_uuid";
            match filter.key.as_str() {
                "name" | "digest" => {
                    let cond = compare(
                        binds,
                        &format!("d.{}", filter.key),
                        comparator,
                        &filter.value,
                    )?;
                    Ok(format!(
                        "EXISTS (SELECT 1 {source} WHERE i.destination_id = r.run_uuid AND {cond})"
                    ))
                }
                "context" => {
                    let name = binds.text("mlflow.data.context");
                    let cond = compare(binds, "it.value", comparator, &filter.value)?;
                    Ok(format!(
                        "EXISTS (SELECT 1 {source} JOIN input_tags it ON it.input_uuid = \
                         i.input_uuid AND it.name = {name} AND {cond} \
                         WHERE i.destination_id = r.run_uuid)"
                    ))
                }
                other => Err(declined(format!("dataset attribute {other}"))),
            }
        }
        other => Err(declined(format!("filter kind {other}"))),
    }
}

/// Returns (joins, order terms).
fn order_sql(binds: &mut Binds<'_>, order_by: &[OrderBy]) -> CoreResult<(String, Vec<String>)> {
    let mut joins = String::new();
    let mut terms = Vec::new();
    let mut by_start_time = false;
    for (i, order) in order_by.iter().enumerate() {
        let dir = if order.ascending { "ASC" } else { "DESC" };
        if order.kind == "attr" {
            let column = run_column(&order.key)?;
            by_start_time |= order.key == "start_time";
            terms.push(format!("({column} IS NULL) ASC"));
            terms.push(format!("{column} {dir}"));
            continue;
        }
        let table = entity_table(&order.kind)?;
        let alias = format!("o{i}");
        let key = binds.text(&order.key);
        let nan = if order.kind == "metric" {
            ", is_nan"
        } else {
            ""
        };
        joins.push_str(&format!(
            " LEFT JOIN (SELECT run_uuid, value{nan} FROM {table} WHERE key = {key}) {alias} \
             ON {alias}.run_uuid = r.run_uuid"
        ));
        if order.kind == "metric" {
            terms.push(format!(
                "CASE WHEN {alias}.is_nan = {} THEN 1 WHEN {alias}.value IS NULL THEN 2 ELSE 0 END ASC",
                binds.dialect().true_literal()
            ));
        } else {
            terms.push(format!("({alias}.value IS NULL) ASC"));
        }
        terms.push(format!("{alias}.value {dir}"));
    }
    if !by_start_time {
        terms.push("r.start_time DESC".into());
    }
    terms.push("r.run_uuid ASC".into());
    Ok((joins, terms))
}

/// SQL text and binds for the page of run infos.
pub fn build(
    dialect: &dyn Dialect,
    query: &RunQuery,
    workspace: Option<&str>,
) -> CoreResult<(String, Vec<rusqlite::types::Value>)> {
    let mut binds = Binds::new(dialect);
    let mut conds = Vec::new();
    let ids = FilterValue::List(
        query
            .experiment_ids
            .iter()
            .map(|i| FilterValue::Int(*i))
            .collect(),
    );
    let stages = FilterValue::List(
        query
            .stages
            .iter()
            .map(|s| FilterValue::Text(s.clone()))
            .collect(),
    );
    if query.experiment_ids.is_empty() || query.stages.is_empty() {
        conds.push("1 = 0".to_owned());
    } else {
        conds.push(compare(&mut binds, "r.experiment_id", "IN", &ids)?);
        conds.push(compare(&mut binds, "r.lifecycle_stage", "IN", &stages)?);
    }
    if let Some(ws) = workspace {
        let p = binds.text(ws);
        conds.push(format!(
            "r.experiment_id IN (SELECT experiment_id FROM experiments WHERE workspace = {p})"
        ));
    }
    for filter in &query.filters {
        conds.push(filter_sql(&mut binds, filter)?);
    }
    let (joins, terms) = order_sql(&mut binds, &query.order_by)?;
    let limit = binds.push(rusqlite::types::Value::Integer(query.limit.unwrap_or(-1)));
    let offset = binds.push(rusqlite::types::Value::Integer(query.offset));
    let sql = format!(
        "SELECT {} FROM runs r{joins} WHERE {} ORDER BY {}{}",
        info_columns(),
        conds.join(" AND "),
        terms.join(", "),
        dialect.limit_offset(&limit, &offset, query.limit.is_some()),
    );
    Ok((sql, binds.values))
}

pub fn search(
    conn: &Connection,
    dialect: &dyn Dialect,
    query: &RunQuery,
    workspace: Option<&str>,
) -> CoreResult<Vec<RunRow>> {
    let (sql, values) = build(dialect, query, workspace)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let infos: Vec<RunInfoRow> = stmt
        .query_map(params_from_iter(values), info_from_row)?
        .collect::<Result<_, _>>()?;
    // Joins cannot duplicate rows (one value per key and run), but stay safe like MLflow's
    // DISTINCT.
    let mut seen = HashSet::new();
    let unique = infos
        .into_iter()
        .filter(|info| seen.insert(info.run_id.clone()))
        .collect();
    assemble_many(conn, unique)
}
