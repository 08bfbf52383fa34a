//! `SqliteTracking`: the tracking hot paths for the Python store (`mlflow_oxide.tracking`).

use std::time::Duration;

use pyo3::prelude::*;

use super::extract;
use crate::core::tracking::registry::VersionSelector;
use crate::core::tracking::{
    ExperimentQuery, ExperimentRow, HistoryQuery, NewExperiment, NewRun, RunInfoRow, RunQuery,
    RunRow, RunUpdate, SampleQuery, SqliteBackend, SqliteOptions, Synchronous, TrackingBackend,
};
use crate::error::CoreError;

type InfoTuple = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);
type RunTuple = (
    InfoTuple,
    Vec<(String, f64, Option<i64>, i64)>,
    Vec<(String, String)>,
    Vec<(String, Option<String>)>,
    bool,
    Vec<String>,
    Vec<(String, i64)>,
);
type DatasetTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<(String, String)>,
);
type ExperimentTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    Vec<(String, Option<String>)>,
);

fn info_tuple(i: RunInfoRow) -> InfoTuple {
    (
        i.run_id,
        i.name,
        i.experiment_id,
        i.user_id,
        i.status,
        i.start_time,
        i.end_time,
        i.lifecycle_stage,
        i.artifact_uri,
    )
}

fn run_tuple(r: RunRow) -> RunTuple {
    (
        info_tuple(r.info),
        r.metrics,
        r.params,
        r.tags,
        r.has_datasets,
        r.model_inputs,
        r.model_outputs,
    )
}

fn experiment_tuple(e: ExperimentRow) -> ExperimentTuple {
    (
        e.experiment_id,
        e.name,
        e.artifact_location,
        e.lifecycle_stage,
        e.creation_time,
        e.last_update_time,
        e.workspace,
        e.tags,
    )
}

/// Native half of the `oxide+sqlite` store. Not fork-safe by itself: the Python store opens
/// a new one in each process (see `_native_or_none`).
#[pyclass(frozen, module = "mlflow_oxide._native")]
pub struct SqliteTracking {
    backend: SqliteBackend,
}

#[pymethods]
impl SqliteTracking {
    #[new]
    fn new(
        py: Python<'_>,
        path: String,
        synchronous: &str,
        busy_timeout_ms: u64,
    ) -> PyResult<Self> {
        let options = SqliteOptions {
            path,
            synchronous: Synchronous::parse(synchronous)?,
            busy_timeout: Duration::from_millis(busy_timeout_ms),
        };
        let backend = py.detach(|| SqliteBackend::open(options))?;
        Ok(Self { backend })
    }

    #[getter]
    fn path(&self) -> &str {
        self.backend.path()
    }

    fn schema_revision(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(py.detach(|| self.backend.schema_revision())?)
    }

    #[pyo3(signature = (run_id, metrics, params, tags, workspace=None))]
    fn log_batch(
        &self,
        py: Python<'_>,
        run_id: String,
        metrics: &Bound<'_, PyAny>,
        params: &Bound<'_, PyAny>,
        tags: &Bound<'_, PyAny>,
        workspace: Option<String>,
    ) -> PyResult<()> {
        let batch = extract::batch(metrics, params, tags)?;
        Ok(py.detach(|| {
            self.backend
                .log_batch(&run_id, &batch, workspace.as_deref())
        })?)
    }

    #[pyo3(signature = (run_id, key, workspace=None))]
    fn delete_tag(
        &self,
        py: Python<'_>,
        run_id: String,
        key: String,
        workspace: Option<String>,
    ) -> PyResult<()> {
        Ok(py.detach(|| self.backend.delete_tag(&run_id, &key, workspace.as_deref()))?)
    }

    #[allow(clippy::too_many_arguments)]
    fn create_run(
        &self,
        py: Python<'_>,
        run_id: String,
        experiment_id: i64,
        user_id: Option<String>,
        start_time: Option<i64>,
        run_name: String,
        tags: Vec<(String, Option<String>)>,
        artifact_uri: String,
    ) -> PyResult<RunTuple> {
        let new_run = NewRun {
            run_id,
            experiment_id,
            user_id,
            start_time,
            run_name,
            tags,
            artifact_uri,
        };
        Ok(run_tuple(py.detach(|| self.backend.create_run(&new_run))?))
    }

    #[pyo3(signature = (run_id, status, end_time, run_name, workspace=None))]
    fn update_run_info(
        &self,
        py: Python<'_>,
        run_id: String,
        status: Option<String>,
        end_time: Option<i64>,
        run_name: Option<String>,
        workspace: Option<String>,
    ) -> PyResult<InfoTuple> {
        let update = RunUpdate {
            run_id,
            status,
            end_time,
            run_name,
        };
        let info = py.detach(|| self.backend.update_run_info(&update, workspace.as_deref()))?;
        Ok(info_tuple(info))
    }

    #[pyo3(signature = (run_id, workspace=None))]
    fn get_run(
        &self,
        py: Python<'_>,
        run_id: String,
        workspace: Option<String>,
    ) -> PyResult<RunTuple> {
        Ok(run_tuple(py.detach(|| {
            self.backend.get_run(&run_id, workspace.as_deref())
        })?))
    }

    /// Rows of MLflow's run-inputs query: (run_id, dataset_uuid, name, digest, source_type,
    /// source, schema, profile, tag) with tag = (name, value) or None.
    fn dataset_inputs(&self, py: Python<'_>, run_ids: Vec<String>) -> PyResult<Vec<DatasetTuple>> {
        let rows = py.detach(|| self.backend.dataset_inputs(&run_ids))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.run_id,
                    r.dataset_uuid,
                    r.name,
                    r.digest,
                    r.source_type,
                    r.source,
                    r.schema,
                    r.profile,
                    r.tag,
                )
            })
            .collect())
    }

    /// Returns (runs, whether any run has dataset inputs).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (experiment_ids, filters, order_by, stages, limit, offset, workspace=None))]
    fn search_runs(
        &self,
        py: Python<'_>,
        experiment_ids: Vec<i64>,
        filters: &Bound<'_, PyAny>,
        order_by: &Bound<'_, PyAny>,
        stages: Vec<String>,
        limit: Option<i64>,
        offset: i64,
        workspace: Option<String>,
    ) -> PyResult<(Vec<RunTuple>, bool)> {
        let query = RunQuery {
            experiment_ids,
            filters: extract::filters(filters)?,
            order_by: extract::order_by(order_by)?,
            stages,
            limit,
            offset,
        };
        let rows = py.detach(|| self.backend.search_runs(&query, workspace.as_deref()))?;
        let has_datasets = rows.iter().any(|r| r.has_datasets);
        Ok((rows.into_iter().map(run_tuple).collect(), has_datasets))
    }

    #[pyo3(signature = (run_id, key, limit, offset, workspace=None))]
    fn get_metric_history(
        &self,
        py: Python<'_>,
        run_id: String,
        key: String,
        limit: Option<i64>,
        offset: i64,
        workspace: Option<String>,
    ) -> PyResult<Vec<(f64, i64, i64)>> {
        let query = HistoryQuery {
            run_id,
            key,
            limit,
            offset,
        };
        Ok(py.detach(|| self.backend.metric_history(&query, workspace.as_deref()))?)
    }

    #[pyo3(signature = (run_ids, key, max_results, workspace=None))]
    fn get_metric_history_bulk(
        &self,
        py: Python<'_>,
        run_ids: Vec<String>,
        key: String,
        max_results: i64,
        workspace: Option<String>,
    ) -> PyResult<Vec<(String, f64, i64, i64)>> {
        Ok(py.detach(|| {
            self.backend
                .metric_history_bulk(&run_ids, &key, max_results, workspace.as_deref())
        })?)
    }

    #[pyo3(signature = (run_id, key, steps, max_results, workspace=None))]
    fn get_metric_history_steps(
        &self,
        py: Python<'_>,
        run_id: String,
        key: String,
        steps: Vec<i64>,
        max_results: i64,
        workspace: Option<String>,
    ) -> PyResult<Vec<(String, f64, i64, i64)>> {
        Ok(py.detach(|| {
            self.backend.metric_history_steps(
                &run_id,
                &key,
                &steps,
                max_results,
                workspace.as_deref(),
            )
        })?)
    }

    #[pyo3(signature = (run_id, key, workspace=None))]
    fn get_max_step_for_metric(
        &self,
        py: Python<'_>,
        run_id: String,
        key: String,
        workspace: Option<String>,
    ) -> PyResult<i64> {
        Ok(py.detach(|| self.backend.max_step(&run_id, &key, workspace.as_deref()))?)
    }

    #[pyo3(signature = (run_ids, key, max_results, start_step, end_step, workspace=None))]
    #[allow(clippy::too_many_arguments)]
    fn sample_metric_history(
        &self,
        py: Python<'_>,
        run_ids: Vec<String>,
        key: String,
        max_results: i64,
        start_step: Option<i64>,
        end_step: Option<i64>,
        workspace: Option<String>,
    ) -> PyResult<Vec<(String, f64, i64, i64)>> {
        let steps = match (start_step, end_step) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            (None, None) => None,
            _ => return Err(CoreError::Declined("start_step/end_step".into()).into()),
        };
        let query = SampleQuery {
            run_ids,
            key,
            max_results,
            steps,
        };
        Ok(py.detach(|| {
            self.backend
                .sample_metric_history(&query, workspace.as_deref())
        })?)
    }

    #[pyo3(signature = (experiment_id, workspace=None))]
    fn get_experiment(
        &self,
        py: Python<'_>,
        experiment_id: i64,
        workspace: Option<String>,
    ) -> PyResult<ExperimentTuple> {
        let row = py.detach(|| {
            self.backend
                .get_experiment(experiment_id, workspace.as_deref())
        })?;
        Ok(experiment_tuple(row))
    }

    /// The version a `models:/` URI names and its `(version, download_uri, run_id)`; `None`
    /// when the registry tables do not hold it (MLflow's store then answers, with its errors).
    /// `selector` is `("version", "3")`, `("alias", "champion")` or `("stage", "Production")`,
    /// with stage `"latest"` for the newest version in any stage.
    #[pyo3(signature = (name, kind, value, workspace=None))]
    fn resolve_model_version(
        &self,
        py: Python<'_>,
        name: String,
        kind: &str,
        value: String,
        workspace: Option<String>,
    ) -> PyResult<Option<(i64, String, Option<String>)>> {
        let selector = match kind {
            "version" => match value.parse::<i64>() {
                Ok(v) => VersionSelector::Version(v),
                Err(_) => return Ok(None),
            },
            "alias" => VersionSelector::Alias(value),
            "stage" if value.eq_ignore_ascii_case("latest") => VersionSelector::Latest(None),
            "stage" => VersionSelector::Latest(Some(value)),
            _ => return Ok(None),
        };
        let resolved = py.detach(|| {
            self.backend
                .resolve_model_version(&name, &selector, workspace.as_deref())
        })?;
        Ok(resolved.map(|r| (r.version, r.download_uri, r.run_id)))
    }

    /// `(model_id, artifact_location)` of the model `name` logged by run `run_id`, or `None`.
    fn run_logged_model(
        &self,
        py: Python<'_>,
        run_id: String,
        name: String,
    ) -> PyResult<Option<(String, String)>> {
        Ok(py.detach(|| self.backend.run_logged_model(&run_id, &name))?)
    }

    /// `(artifact_location, source_run_id)` of the logged model `model_id`, or `None`.
    fn logged_model_location(
        &self,
        py: Python<'_>,
        model_id: String,
    ) -> PyResult<Option<(String, Option<String>)>> {
        Ok(py.detach(|| self.backend.logged_model_location(&model_id))?)
    }

    #[pyo3(signature = (name, workspace=None))]
    fn get_experiment_by_name(
        &self,
        py: Python<'_>,
        name: String,
        workspace: Option<String>,
    ) -> PyResult<Option<ExperimentTuple>> {
        let row = py.detach(|| {
            self.backend
                .get_experiment_by_name(&name, workspace.as_deref())
        })?;
        Ok(row.map(experiment_tuple))
    }

    fn create_experiment(
        &self,
        py: Python<'_>,
        name: String,
        tags: Vec<(String, String)>,
        location_template: String,
    ) -> PyResult<i64> {
        let new = NewExperiment {
            name,
            tags,
            location_template,
        };
        Ok(py.detach(|| self.backend.create_experiment(&new))?)
    }

    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (filters, order_by, stages, limit, offset, workspace=None))]
    fn search_experiments(
        &self,
        py: Python<'_>,
        filters: &Bound<'_, PyAny>,
        order_by: &Bound<'_, PyAny>,
        stages: Vec<String>,
        limit: i64,
        offset: i64,
        workspace: Option<String>,
    ) -> PyResult<Vec<ExperimentTuple>> {
        let query = ExperimentQuery {
            filters: extract::filters(filters)?,
            order_by: extract::order_by(order_by)?,
            stages,
            limit,
            offset,
        };
        let rows = py.detach(|| {
            self.backend
                .search_experiments(&query, workspace.as_deref())
        })?;
        Ok(rows.into_iter().map(experiment_tuple).collect())
    }
}
