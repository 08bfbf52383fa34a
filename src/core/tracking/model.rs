//! Plain data crossing the core boundary: what the binding extracts and what it returns.

/// A metric as MLflow stores it: NaN and infinities are sanitised by `logging`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricIn {
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub metrics: Vec<MetricIn>,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunInfoRow {
    pub run_id: String,
    pub name: Option<String>,
    pub experiment_id: String,
    pub user_id: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub lifecycle_stage: Option<String>,
    pub artifact_uri: Option<String>,
}

/// (key, value, timestamp, step); `value` is NaN for metrics stored with `is_nan`.
pub type LatestMetric = (String, f64, Option<i64>, i64);

#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub info: RunInfoRow,
    pub metrics: Vec<LatestMetric>,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, Option<String>)>,
    /// Logged models the run used (`LoggedModelInput`), by model id.
    pub model_inputs: Vec<String>,
    /// Logged models the run produced (`LoggedModelOutput`): (model id, step).
    pub model_outputs: Vec<(String, i64)>,
    /// Dataset inputs exist: MLflow assembles those (dataset entities and input tags).
    pub has_datasets: bool,
}

/// One row of MLflow's run-inputs query: a dataset input of a run joined with one of its input
/// tags (or none). Grouping into `DatasetInput`s happens in Python exactly as MLflow does.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInputRow {
    pub run_id: String,
    pub dataset_uuid: String,
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub schema: Option<String>,
    pub profile: Option<String>,
    /// (name, value) of the input tag, when the input has one.
    pub tag: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct NewRun {
    pub run_id: String,
    pub experiment_id: i64,
    pub user_id: Option<String>,
    pub start_time: Option<i64>,
    pub run_name: String,
    pub tags: Vec<(String, Option<String>)>,
    pub artifact_uri: String,
}

#[derive(Debug, Clone)]
pub struct RunUpdate {
    pub run_id: String,
    pub status: Option<String>,
    pub end_time: Option<i64>,
    pub run_name: Option<String>,
}

/// (value, timestamp, step)
pub type MetricPoint = (f64, i64, i64);
/// (run_id, value, timestamp, step)
pub type RunMetricPoint = (String, f64, i64, i64);

#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub run_id: String,
    pub key: String,
    pub limit: Option<i64>,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct SampleQuery {
    pub run_ids: Vec<String>,
    pub key: String,
    pub max_results: i64,
    pub steps: Option<(i64, i64)>,
}

/// Values a search filter compares against.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
    List(Vec<FilterValue>),
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub kind: String,
    pub key: String,
    pub comparator: String,
    pub value: FilterValue,
}

#[derive(Debug, Clone)]
pub struct OrderBy {
    pub kind: String,
    pub key: String,
    pub ascending: bool,
}

#[derive(Debug, Clone)]
pub struct RunQuery {
    pub experiment_ids: Vec<i64>,
    pub filters: Vec<Filter>,
    pub order_by: Vec<OrderBy>,
    pub stages: Vec<String>,
    pub limit: Option<i64>,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRow {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub creation_time: Option<i64>,
    pub last_update_time: Option<i64>,
    pub workspace: String,
    pub tags: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct NewExperiment {
    pub name: String,
    pub tags: Vec<(String, String)>,
    /// Default artifact location with `EXPERIMENT_ID_SENTINEL` where the new id goes.
    pub location_template: String,
}

#[derive(Debug, Clone)]
pub struct ExperimentQuery {
    pub filters: Vec<Filter>,
    pub order_by: Vec<OrderBy>,
    pub stages: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}

pub const EXPERIMENT_ID_SENTINEL: &str = "OXIDEEXPERIMENTID";
