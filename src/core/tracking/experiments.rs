//! Experiments: get by id / name, create (with MLflow's default artifact location).

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::model::{ExperimentRow, NewExperiment, EXPERIMENT_ID_SENTINEL};
use super::validate::check_experiment;
use crate::error::{CoreError, CoreResult};

pub const COLUMNS: &str = "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, \
     e.creation_time, e.last_update_time, e.workspace";

pub fn from_row(row: &Row<'_>) -> rusqlite::Result<ExperimentRow> {
    Ok(ExperimentRow {
        experiment_id: row.get::<_, i64>(0)?.to_string(),
        name: row.get(1)?,
        artifact_location: row.get(2)?,
        lifecycle_stage: row.get(3)?,
        creation_time: row.get(4)?,
        last_update_time: row.get(5)?,
        workspace: row.get(6)?,
        tags: Vec::new(),
    })
}

pub fn with_tags(conn: &Connection, mut exp: ExperimentRow) -> CoreResult<ExperimentRow> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY rowid",
    )?;
    let id: i64 = exp.experiment_id.parse().unwrap_or(-1);
    exp.tags = stmt
        .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(exp)
}

pub fn get(conn: &Connection, id: i64, workspace: Option<&str>) -> CoreResult<ExperimentRow> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM experiments e WHERE e.experiment_id = ?1 \
             AND (?2 IS NULL OR e.workspace = ?2)"
        ))?
        .query_row(params![id, workspace], from_row)
        .optional()?;
    match found {
        Some(exp) => with_tags(conn, exp),
        None => Err(CoreError::NotFound(format!(
            "No Experiment with id={id} exists"
        ))),
    }
}

pub fn get_by_name(
    conn: &Connection,
    name: &str,
    workspace: Option<&str>,
) -> CoreResult<Option<ExperimentRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM experiments e WHERE e.name = ?1 \
         AND (?2 IS NULL OR e.workspace = ?2) LIMIT 2"
    ))?;
    let mut found: Vec<ExperimentRow> = stmt
        .query_map(params![name, workspace], from_row)?
        .collect::<Result<_, _>>()?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(with_tags(conn, found.remove(0))?)),
        _ => Err(CoreError::InvalidState(format!(
            "more than one experiment named '{name}'"
        ))),
    }
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn create(conn: &Connection, new: &NewExperiment) -> CoreResult<i64> {
    check_experiment(&new.name, &new.tags)?;
    let now = now_millis();
    let inserted = conn
        .prepare_cached(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, \
             last_update_time, workspace) VALUES (?1, NULL, 'active', ?2, ?2, 'default') \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![new.name, now])?;
    if inserted == 0 {
        return Err(CoreError::AlreadyExists(format!(
            "Experiment(name={}) already exists.",
            new.name
        )));
    }
    let id = conn.last_insert_rowid();
    // The template came from MLflow's append_to_uri_path(root, SENTINEL): substitute the id.
    let location = match new.location_template.rfind(EXPERIMENT_ID_SENTINEL) {
        Some(at) => format!(
            "{}{}{}",
            &new.location_template[..at],
            id,
            &new.location_template[at + EXPERIMENT_ID_SENTINEL.len()..]
        ),
        None => return Err(crate::error::declined("artifact location template")),
    };
    conn.prepare_cached("UPDATE experiments SET artifact_location = ?2 WHERE experiment_id = ?1")?
        .execute(params![id, location])?;
    let mut tag = conn.prepare_cached(
        "INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key, experiment_id) DO UPDATE SET value = excluded.value",
    )?;
    for (key, value) in &new.tags {
        tag.execute(params![key, value, id])?;
    }
    Ok(id)
}
