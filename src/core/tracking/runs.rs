//! Runs: lookup with MLflow's existence/lifecycle rules, create, update, read back.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::model::{DatasetInputRow, LatestMetric, NewRun, RunInfoRow, RunRow, RunUpdate};
use crate::error::{declined, CoreError, CoreResult};

pub const RUN_NAME_TAG: &str = "mlflow.runName";

const INFO_COLUMNS: &str = "r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, \
     r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri";

pub fn info_columns() -> &'static str {
    INFO_COLUMNS
}

pub fn info_from_row(row: &Row<'_>) -> rusqlite::Result<RunInfoRow> {
    Ok(RunInfoRow {
        run_id: row.get(0)?,
        name: row.get(1)?,
        experiment_id: row
            .get::<_, Option<i64>>(2)?
            .map(|id| id.to_string())
            .unwrap_or_default(),
        user_id: row.get(3)?,
        status: row.get(4)?,
        start_time: row.get(5)?,
        end_time: row.get(6)?,
        lifecycle_stage: row.get(7)?,
        artifact_uri: row.get(8)?,
    })
}

pub fn find_info(
    conn: &Connection,
    run_id: &str,
    workspace: Option<&str>,
) -> CoreResult<RunInfoRow> {
    // `?2` is the active workspace, NULL in single-tenant mode (same shape as experiments.rs).
    conn.prepare_cached(&format!(
        "SELECT {INFO_COLUMNS} FROM runs r WHERE r.run_uuid = ?1 AND (?2 IS NULL OR \
         r.experiment_id IN (SELECT experiment_id FROM experiments WHERE workspace = ?2))"
    ))?
    .query_row(params![run_id, workspace], info_from_row)
    .optional()?
    .ok_or_else(|| CoreError::NotFound(format!("Run with id={run_id} not found")))
}

/// MLflow's `_get_run` + `_check_run_is_active`: writes need an existing, active run.
pub fn require_active(conn: &Connection, run_id: &str, workspace: Option<&str>) -> CoreResult<()> {
    let info = find_info(conn, run_id, workspace)?;
    match info.lifecycle_stage.as_deref() {
        Some("active") => Ok(()),
        stage => Err(CoreError::InvalidParameter(format!(
            "The run {run_id} must be in the 'active' state. Current state is {}.",
            stage.unwrap_or("None")
        ))),
    }
}

pub fn latest_metrics(conn: &Connection, run_id: &str) -> CoreResult<Vec<LatestMetric>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value, timestamp, step, is_nan FROM latest_metrics \
         WHERE run_uuid = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([run_id], |row| {
        let is_nan: bool = row.get(4)?;
        let value: f64 = row.get(1)?;
        Ok((
            row.get(0)?,
            if is_nan { f64::NAN } else { value },
            row.get(2)?,
            row.get(3)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn params_of(conn: &Connection, run_id: &str) -> CoreResult<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM params WHERE run_uuid = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn tags_of(conn: &Connection, run_id: &str) -> CoreResult<Vec<(String, Option<String>)>> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM tags WHERE run_uuid = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Dataset inputs attached to the run (MLflow's `_get_run_inputs`).
pub fn has_datasets(conn: &Connection, run_id: &str) -> CoreResult<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM inputs WHERE destination_type = 'RUN' \
         AND destination_id = ?1)",
    )?;
    Ok(stmt.query_row([run_id], |row| row.get(0))?)
}

/// Model ids the run used, in MLflow's order (the `inputs` primary key: destination id).
pub fn model_inputs(conn: &Connection, run_id: &str) -> CoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT destination_id FROM inputs WHERE source_type = 'RUN_INPUT' AND source_id = ?1 \
         AND destination_type = 'MODEL_INPUT' ORDER BY destination_id",
    )?;
    let rows = stmt.query_map([run_id], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// (model id, step) of the models the run produced, in MLflow's order.
pub fn model_outputs(conn: &Connection, run_id: &str) -> CoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT destination_id, step FROM inputs WHERE source_type = 'RUN_OUTPUT' \
         AND source_id = ?1 AND destination_type = 'MODEL_OUTPUT' ORDER BY destination_id",
    )?;
    let rows = stmt.query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn assemble(conn: &Connection, info: RunInfoRow) -> CoreResult<RunRow> {
    let run_id = info.run_id.clone();
    Ok(RunRow {
        metrics: latest_metrics(conn, &run_id)?,
        params: params_of(conn, &run_id)?,
        tags: tags_of(conn, &run_id)?,
        model_inputs: model_inputs(conn, &run_id)?,
        model_outputs: model_outputs(conn, &run_id)?,
        has_datasets: has_datasets(conn, &run_id)?,
        info,
    })
}

pub fn get_run(conn: &Connection, run_id: &str, workspace: Option<&str>) -> CoreResult<RunRow> {
    let info = find_info(conn, run_id, workspace)?;
    assemble(conn, info)
}

pub fn upsert_tag(conn: &Connection, run_id: &str, key: &str, value: &str) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO tags (key, value, run_uuid) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value, run_id])?;
    Ok(())
}

pub fn create_run(conn: &Connection, new_run: &NewRun) -> CoreResult<RunRow> {
    let stage: Option<Option<String>> = conn
        .prepare_cached("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?1")?
        .query_row([new_run.experiment_id], |row| row.get(0))
        .optional()?;
    match stage {
        None => {
            return Err(CoreError::NotFound(format!(
                "No Experiment with id={} exists",
                new_run.experiment_id
            )))
        }
        Some(Some(stage)) if stage == "active" => {}
        Some(_) => {
            return Err(CoreError::InvalidParameter(
                "experiment is not active".into(),
            ))
        }
    }
    for (i, (key, _)) in new_run.tags.iter().enumerate() {
        if new_run.tags[..i].iter().any(|(k, _)| k == key) {
            return Err(declined("duplicate tag keys in create_run"));
        }
    }
    conn.prepare_cached(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, \
         status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, \
         experiment_id, deleted_time) \
         VALUES (?1, ?2, 'UNKNOWN', '', '', ?3, 'RUNNING', ?4, NULL, '', 'active', ?5, ?6, NULL)",
    )?
    .execute(params![
        new_run.run_id,
        new_run.run_name,
        new_run.user_id,
        new_run.start_time,
        new_run.artifact_uri,
        new_run.experiment_id
    ])?;
    let mut insert_tag =
        conn.prepare_cached("INSERT INTO tags (key, value, run_uuid) VALUES (?1, ?2, ?3)")?;
    for (key, value) in &new_run.tags {
        insert_tag.execute(params![key, value, new_run.run_id])?;
    }
    Ok(RunRow {
        info: RunInfoRow {
            run_id: new_run.run_id.clone(),
            name: Some(new_run.run_name.clone()),
            experiment_id: new_run.experiment_id.to_string(),
            user_id: new_run.user_id.clone(),
            status: Some("RUNNING".into()),
            start_time: new_run.start_time,
            end_time: None,
            lifecycle_stage: Some("active".into()),
            artifact_uri: Some(new_run.artifact_uri.clone()),
        },
        metrics: Vec::new(),
        params: Vec::new(),
        tags: new_run.tags.clone(),
        model_inputs: Vec::new(),
        model_outputs: Vec::new(),
        has_datasets: false,
    })
}

pub fn update_run_info(
    conn: &Connection,
    update: &RunUpdate,
    workspace: Option<&str>,
) -> CoreResult<RunInfoRow> {
    require_active(conn, &update.run_id, workspace)?;
    conn.prepare_cached(
        "UPDATE runs SET status = COALESCE(?2, status), end_time = COALESCE(?3, end_time), \
         name = COALESCE(?4, name) WHERE run_uuid = ?1",
    )?
    .execute(params![
        update.run_id,
        update.status,
        update.end_time,
        update.run_name
    ])?;
    if let Some(name) = &update.run_name {
        upsert_tag(conn, &update.run_id, RUN_NAME_TAG, name)?;
    }
    find_info(conn, &update.run_id, workspace)
}

/// Children come in storage (rowid) order, the order MLflow's ORM loads them in, which is what
/// orders `RunData`'s lists and `mlflow.search_runs`' columns.
///
/// `assemble` for many runs with one query per child table per chunk of ids, instead of several
/// per run: a 1000-run search page costs a handful of statements. Rows are routed to their run
/// by position, without copying the run id of every child row.
pub fn assemble_many(conn: &Connection, infos: Vec<RunInfoRow>) -> CoreResult<Vec<RunRow>> {
    use std::collections::HashMap;

    let mut runs: Vec<RunRow> = infos
        .into_iter()
        .map(|info| RunRow {
            info,
            metrics: Vec::new(),
            params: Vec::new(),
            tags: Vec::new(),
            model_inputs: Vec::new(),
            model_outputs: Vec::new(),
            has_datasets: false,
        })
        .collect();
    let slot: HashMap<String, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.info.run_id.clone(), i))
        .collect();
    let ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
    for chunk in ids.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        for_each_child(
            conn,
            chunk,
            &slot,
            &format!(
                "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics \
                 WHERE run_uuid IN ({marks}) ORDER BY run_uuid, rowid"
            ),
            |run, row| {
                let is_nan: bool = row.get(5)?;
                let value: f64 = row.get(2)?;
                let value = if is_nan { f64::NAN } else { value };
                runs[run]
                    .metrics
                    .push((row.get(1)?, value, row.get(3)?, row.get(4)?));
                Ok(())
            },
        )?;
        for_each_child(
            conn,
            chunk,
            &slot,
            &format!(
                "SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks}) \
                 ORDER BY run_uuid, rowid"
            ),
            |run, row| {
                runs[run].params.push((row.get(1)?, row.get(2)?));
                Ok(())
            },
        )?;
        for_each_child(
            conn,
            chunk,
            &slot,
            &format!(
                "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks}) \
                 ORDER BY run_uuid, rowid"
            ),
            |run, row| {
                runs[run].tags.push((row.get(1)?, row.get(2)?));
                Ok(())
            },
        )?;
        for_each_child(
            conn,
            chunk,
            &slot,
            &format!(
                "SELECT DISTINCT destination_id FROM inputs WHERE destination_type = 'RUN' \
                 AND destination_id IN ({marks})"
            ),
            |run, _| {
                runs[run].has_datasets = true;
                Ok(())
            },
        )?;
        // Search results carry model outputs but not model inputs, as in MLflow's search.
        for_each_child(
            conn,
            chunk,
            &slot,
            &format!(
                "SELECT source_id, destination_id, step FROM inputs \
                 WHERE source_type = 'RUN_OUTPUT' AND source_id IN ({marks}) \
                 AND destination_type = 'MODEL_OUTPUT' ORDER BY source_id, destination_id"
            ),
            |run, row| {
                runs[run].model_outputs.push((row.get(1)?, row.get(2)?));
                Ok(())
            },
        )?;
    }
    Ok(runs)
}

/// Run `sql` (first column: the run id) binding `ids`, and hand each row to `f` with the
/// position of its run.
fn for_each_child(
    conn: &Connection,
    ids: &[String],
    slot: &std::collections::HashMap<String, usize>,
    sql: &str,
    mut f: impl FnMut(usize, &rusqlite::Row<'_>) -> rusqlite::Result<()>,
) -> CoreResult<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(ids.iter()))?;
    while let Some(row) = rows.next()? {
        let run_id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        if let Some(&run) = slot.get(run_id) {
            f(run, row)?;
        }
    }
    Ok(())
}

/// The dataset inputs of `run_ids` with the very statement MLflow's `_get_run_inputs` issues
/// (same joins, one placeholder per id, `ORDER BY run_uuid`): SQLite plans it the same way, so
/// rows — and hence the order of datasets and their tags — come back as stock returns them.
pub fn dataset_inputs(conn: &Connection, run_ids: &[String]) -> CoreResult<Vec<DatasetInputRow>> {
    use rusqlite::params_from_iter;

    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; run_ids.len()].join(", ");
    let sql = format!(
        "SELECT inputs.input_uuid AS inputs_input_uuid, inputs.destination_id AS run_uuid, \
         datasets.dataset_uuid, datasets.experiment_id, datasets.name, datasets.digest, \
         datasets.dataset_source_type, datasets.dataset_source, datasets.dataset_schema, \
         datasets.dataset_profile, input_tags.input_uuid, input_tags.name, input_tags.value \
         FROM inputs JOIN datasets ON inputs.source_id = datasets.dataset_uuid \
         LEFT OUTER JOIN input_tags ON input_tags.input_uuid = inputs.input_uuid \
         WHERE inputs.destination_type = ? AND inputs.destination_id IN ({marks}) \
         ORDER BY run_uuid"
    );
    let mut args: Vec<&str> = vec!["RUN"];
    args.extend(run_ids.iter().map(String::as_str));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |row| {
        let tag_input: Option<String> = row.get(10)?;
        Ok(DatasetInputRow {
            run_id: row.get(1)?,
            dataset_uuid: row.get(2)?,
            name: row.get(4)?,
            digest: row.get(5)?,
            source_type: row.get(6)?,
            source: row.get(7)?,
            schema: row.get(8)?,
            profile: row.get(9)?,
            tag: match tag_input {
                Some(_) => Some((row.get(11)?, row.get(12)?)),
                None => None,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
