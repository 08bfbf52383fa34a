//! Tracking-store hot paths on MLflow's own schema.
//!
//! `TrackingBackend` is the seam between the binding layer and a database: `sqlite` implements
//! it today; a PostgreSQL executor implements the same trait later and reuses the dialect-aware
//! SQL builders (`search_runs`, `search_experiments`) through `dialect::Dialect`.

pub mod backend;
pub mod db;
pub mod dialect;
pub mod experiments;
pub mod filter;
pub mod history;
pub mod logging;
pub mod model;
pub mod registry;
pub mod runs;
pub mod search_experiments;
pub mod search_runs;
pub mod validate;

pub use db::{SqliteBackend, SqliteOptions, Synchronous};
pub use model::*;

use crate::error::CoreResult;

/// Everything the Python store delegates to the native layer. `workspace` restricts the call to
/// experiments of that workspace (MLflow's `MLFLOW_ENABLE_WORKSPACES`); `None` means single
/// tenant.
pub trait TrackingBackend: Send + Sync {
    fn schema_revision(&self) -> CoreResult<Option<String>>;
    fn log_batch(&self, run_id: &str, batch: &Batch, workspace: Option<&str>) -> CoreResult<()>;
    fn delete_tag(&self, run_id: &str, key: &str, workspace: Option<&str>) -> CoreResult<()>;
    fn create_run(&self, new_run: &NewRun) -> CoreResult<RunRow>;
    fn update_run_info(
        &self,
        update: &RunUpdate,
        workspace: Option<&str>,
    ) -> CoreResult<RunInfoRow>;
    fn get_run(&self, run_id: &str, workspace: Option<&str>) -> CoreResult<RunRow>;
    fn dataset_inputs(&self, run_ids: &[String]) -> CoreResult<Vec<DatasetInputRow>>;
    fn search_runs(&self, query: &RunQuery, workspace: Option<&str>) -> CoreResult<Vec<RunRow>>;
    fn metric_history(
        &self,
        query: &HistoryQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<MetricPoint>>;
    fn metric_history_bulk(
        &self,
        run_ids: &[String],
        key: &str,
        limit: i64,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>>;
    fn metric_history_steps(
        &self,
        run_id: &str,
        key: &str,
        steps: &[i64],
        limit: i64,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>>;
    fn max_step(&self, run_id: &str, key: &str, workspace: Option<&str>) -> CoreResult<i64>;
    fn sample_metric_history(
        &self,
        query: &SampleQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<RunMetricPoint>>;
    fn get_experiment(&self, id: i64, workspace: Option<&str>) -> CoreResult<ExperimentRow>;
    fn get_experiment_by_name(
        &self,
        name: &str,
        workspace: Option<&str>,
    ) -> CoreResult<Option<ExperimentRow>>;
    fn create_experiment(&self, new_experiment: &NewExperiment) -> CoreResult<i64>;
    fn search_experiments(
        &self,
        query: &ExperimentQuery,
        workspace: Option<&str>,
    ) -> CoreResult<Vec<ExperimentRow>>;
}

#[cfg(test)]
mod tests;
