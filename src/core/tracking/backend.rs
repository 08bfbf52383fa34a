//! `TrackingBackend` on SQLite: each call is one read snapshot or one write transaction.

use super::db::SqliteBackend;
use super::dialect::Sqlite;
use super::model::*;
use super::TrackingBackend;
use super::{experiments, history, logging, runs, search_experiments, search_runs};
use crate::error::CoreResult;
use rusqlite::OptionalExtension;

impl TrackingBackend for SqliteBackend {
    fn schema_revision(&self) -> CoreResult<Option<String>> {
        self.read(|conn| {
            let exists: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' \
                 AND name = 'alembic_version')",
                [],
                |row| row.get(0),
            )?;
            if !exists {
                return Ok(None);
            }
            Ok(conn
                .query_row("SELECT version_num FROM alembic_version", [], |row| {
                    row.get(0)
                })
                .optional()?)
        })
    }

    fn log_batch(&self, run_id: &str, batch: &Batch, workspace: Option<&str>) -> CoreResult<()> {
        self.write(|tx| logging::log_batch(tx, run_id, batch, workspace))
    }

    fn delete_tag(&self, run_id: &str, key: &str, workspace: Option<&str>) -> CoreResult<()> {
        self.write(|tx| logging::delete_tag(tx, run_id, key, workspace))
    }

    fn create_run(&self, new_run: &NewRun) -> CoreResult<RunRow> {
        self.write(|tx| runs::create_run(tx, new_run))
    }

    fn update_run_info(
        &self,
        update: &RunUpdate,
        workspace: Option<&str>,
    ) -> CoreResult<RunInfoRow> {
        self.write(|tx| runs::update_run_info(tx, update, workspace))
    }

    fn get_run(&self, run_id: &str, workspace: Option<&str>) -> CoreResult<RunRow> {
        self.read(|conn| runs::get_run(conn, run_id, workspace))
    }

    fn dataset_inputs(&self, run_ids: &[String]) -> CoreResult<Vec<DatasetInputRow>> {
        self.read(|conn| runs::dataset_inputs(conn, run_ids))
    }

    fn search_runs(&self, query: &RunQuery, workspace: Option<&str>) -> CoreResult<Vec<RunRow>> {
        self.read(|conn| search_runs::search(conn, &Sqlite, query, workspace))
    }

    fn metric_history(
        &self,
        query: &HistoryQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<MetricPoint>> {
        self.read(|conn| history::history(conn, query, workspace))
    }

    fn metric_history_bulk(
        &self,
        run_ids: &[String],
        key: &str,
        limit: i64,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>> {
        self.read(|conn| history::bulk(conn, run_ids, key, limit, workspace))
    }

    fn metric_history_steps(
        &self,
        run_id: &str,
        key: &str,
        steps: &[i64],
        limit: i64,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>> {
        self.read(|conn| history::at_steps(conn, run_id, key, steps, limit, workspace))
    }

    fn max_step(&self, run_id: &str, key: &str, workspace: Option<&str>) -> CoreResult<i64> {
        self.read(|conn| history::max_step(conn, run_id, key, workspace))
    }

    fn sample_metric_history(
        &self,
        query: &SampleQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>> {
        self.read(|conn| history::sample(conn, query, workspace))
    }

    fn get_experiment(&self, id: i64, workspace: Option<&str>) -> CoreResult<ExperimentRow> {
        self.read(|conn| experiments::get(conn, id, workspace))
    }

    fn get_experiment_by_name(
        &self,
        name: &str,
        workspace: Option<&str>,
    ) -> CoreResult<Option<ExperimentRow>> {
        self.read(|conn| experiments::get_by_name(conn, name, workspace))
    }

    fn create_experiment(&self, new_experiment: &NewExperiment) -> CoreResult<i64> {
        self.write(|tx| experiments::create(tx, new_experiment))
    }

    fn search_experiments(
        &self,
        query: &ExperimentQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<ExperimentRow>> {
        self.read(|conn| search_experiments::search(conn, &Sqlite, query, workspace))
    }
}
