//! Model registry reads the model loader needs on every load: which version a `models:/` URI
//! names and where its files are. Read straight from MLflow's registry tables; anything not
//! found returns `None` and MLflow's registry store answers instead (with its own errors).

use rusqlite::{params, Connection, OptionalExtension};

use super::db::SqliteBackend;
use crate::error::CoreResult;

/// Which version of a registered model a `models:/` URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    Version(i64),
    Alias(String),
    /// The newest version in a stage (MLflow's canonical stage names, any case), or in any
    /// stage when `None` (`models:/name/latest`).
    Latest(Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedVersion {
    pub version: i64,
    /// `storage_location or source`, as `get_model_version_download_uri` returns it.
    pub download_uri: String,
    pub run_id: Option<String>,
}

const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];
const DELETED: &str = "Deleted_Internal";

fn canonical_stage(stage: &str) -> Option<&'static str> {
    STAGES
        .iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(stage))
}

fn version_number(
    conn: &Connection,
    name: &str,
    selector: &VersionSelector,
    workspace: Option<&str>,
) -> CoreResult<Option<i64>> {
    Ok(match selector {
        VersionSelector::Version(v) => Some(*v),
        VersionSelector::Alias(alias) => conn
            .prepare_cached(
                "SELECT version FROM registered_model_aliases WHERE name = ?1 AND alias = ?2 \
                 AND (?3 IS NULL OR workspace = ?3)",
            )?
            .query_row(params![name, alias, workspace], |row| row.get(0))
            .optional()?,
        VersionSelector::Latest(stage) => {
            let stage = match stage {
                Some(s) => match canonical_stage(s) {
                    Some(known) => Some(known),
                    None => return Ok(None),
                },
                None => None,
            };
            conn.prepare_cached(
                "SELECT max(version) FROM model_versions WHERE name = ?1 \
                 AND current_stage != ?2 AND (?3 IS NULL OR current_stage = ?3) \
                 AND (?4 IS NULL OR workspace = ?4)",
            )?
            .query_row(params![name, DELETED, stage, workspace], |row| row.get(0))?
        }
    })
}

impl SqliteBackend {
    pub fn resolve_model_version(
        &self,
        name: &str,
        selector: &VersionSelector,
        workspace: Option<&str>,
    ) -> CoreResult<Option<ResolvedVersion>> {
        self.read(|conn| {
            let Some(version) = version_number(conn, name, selector, workspace)? else {
                return Ok(None);
            };
            let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
                .prepare_cached(
                    "SELECT storage_location, source, run_id FROM model_versions \
                     WHERE name = ?1 AND version = ?2 AND current_stage != ?3 \
                     AND (?4 IS NULL OR workspace = ?4)",
                )?
                .query_row(params![name, version, DELETED, workspace], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?;
            Ok(row.and_then(|(storage, source, run_id)| {
                let download_uri = storage.filter(|s| !s.is_empty()).or(source)?;
                Some(ResolvedVersion {
                    version,
                    download_uri,
                    run_id: run_id.filter(|r| !r.is_empty()),
                })
            }))
        })
    }

    /// `(model_id, artifact_location)` of the model named `name` that run `run_id` logged:
    /// the one `RunsArtifactRepository` finds for `runs:/<run_id>/<name>` (its search order:
    /// newest first, then by id; deleted models skipped).
    pub fn run_logged_model(
        &self,
        run_id: &str,
        name: &str,
    ) -> CoreResult<Option<(String, String)>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT model_id, artifact_location FROM logged_models \
                     WHERE experiment_id = (SELECT experiment_id FROM runs WHERE run_uuid = ?1) \
                     AND source_run_id = ?1 AND name = ?2 AND lifecycle_stage != 'deleted' \
                     ORDER BY creation_timestamp_ms DESC, model_id ASC LIMIT 1",
                )?
                .query_row(params![run_id, name], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })
    }

    /// `(artifact_location, source_run_id)` of a logged model (`models:/<model_id>`).
    pub fn logged_model_location(
        &self,
        model_id: &str,
    ) -> CoreResult<Option<(String, Option<String>)>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT artifact_location, source_run_id FROM logged_models \
                     WHERE model_id = ?1",
                )?
                .query_row(params![model_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })
    }
}
