"""Native core of mlflow-oxide (Rust). Plain tuples in and out; ``mlflow_oxide.tracking``
turns them into MLflow entities and owns MLflow's contract."""

from collections.abc import Iterable, Sequence
from typing import Any

__version__: str
#: Version of the SQLite library the module is linked against; the store only uses the fast
#: path when it equals ``sqlite3.sqlite_version`` (one SQLite copy per process).
SQLITE_VERSION: str
#: Placeholder for the experiment id in default artifact-location templates.
EXPERIMENT_ID_SENTINEL: str

class StoreError(Exception): ...

class Declined(StoreError):
    """The fast path does not cover this call; MLflow's own implementation must serve it."""

class NotFound(StoreError): ...
class InvalidParameter(StoreError): ...
class InvalidState(StoreError): ...
class AlreadyExists(StoreError): ...

class DatabaseBusy(StoreError):
    """SQLite stayed locked past ``busy_timeout_ms``."""

class DatabaseError(StoreError): ...

# (run_id, name, experiment_id, user_id, status, start_time, end_time, lifecycle_stage,
#  artifact_uri)
RunInfoTuple = tuple[
    str, str | None, str, str | None, str | None, int | None, int | None, str | None, str | None
]
# (info, latest metrics (key, value, timestamp, step), params, tags, has_dataset_inputs,
#  model inputs (model ids; get_run only), model outputs (model id, step))
RunTuple = tuple[
    RunInfoTuple,
    list[tuple[str, float, int | None, int]],
    list[tuple[str, str]],
    list[tuple[str, str | None]],
    bool,
    list[str],
    list[tuple[str, int]],
]
# (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time,
#  workspace, tags)
ExperimentTuple = tuple[
    str, str, str | None, str | None, int | None, int | None, str, list[tuple[str, str | None]]
]
# (kind, key, comparator, value) / (kind, key, ascending); see mlflow_oxide._search.
FilterTuple = tuple[str, str, str, Any]
OrderTuple = tuple[str, str, bool]

class SqliteTracking:
    """Tracking hot paths on one SQLite file holding MLflow's schema. Each call is one read
    snapshot or one ``BEGIN IMMEDIATE`` write transaction; the GIL is released meanwhile.
    ``workspace`` restricts a call to that workspace's experiments (None: single tenant).
    Not to be used across ``fork()``: open a new one in the child."""

    def __init__(self, path: str, synchronous: str, busy_timeout_ms: int) -> None: ...
    @property
    def path(self) -> str: ...
    def schema_revision(self) -> str | None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Any],
        params: Iterable[Any],
        tags: Iterable[Any],
        workspace: str | None = None,
    ) -> None:
        """Metric/Param/RunTag-like objects (``key``, ``value``, ``timestamp``, ``step``)."""
    def delete_tag(self, run_id: str, key: str, workspace: str | None = None) -> None: ...
    def create_run(
        self,
        run_id: str,
        experiment_id: int,
        user_id: str | None,
        start_time: int | None,
        run_name: str,
        tags: Sequence[tuple[str, str | None]],
        artifact_uri: str,
    ) -> RunTuple: ...
    def update_run_info(
        self,
        run_id: str,
        status: str | None,
        end_time: int | None,
        run_name: str | None,
        workspace: str | None = None,
    ) -> RunInfoTuple: ...
    def get_run(self, run_id: str, workspace: str | None = None) -> RunTuple: ...
    def dataset_inputs(
        self, run_ids: Sequence[str]
    ) -> list[tuple[str, str, str, str, str, str, str | None, str | None, tuple[str, str] | None]]:
        """Rows of MLflow's run-inputs query, in its order: (run_id, dataset_uuid, name,
        digest, source_type, source, schema, profile, input tag (name, value) or None)."""
    def search_runs(
        self,
        experiment_ids: Sequence[int],
        filters: Sequence[FilterTuple],
        order_by: Sequence[OrderTuple],
        stages: Sequence[str],
        limit: int | None,
        offset: int,
        workspace: str | None = None,
    ) -> tuple[list[RunTuple], bool]:
        """Returns (runs, whether any run has dataset inputs)."""
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        limit: int | None,
        offset: int,
        workspace: str | None = None,
    ) -> list[tuple[float, int, int]]: ...
    def get_metric_history_bulk(
        self, run_ids: Sequence[str], key: str, max_results: int, workspace: str | None = None
    ) -> list[tuple[str, float, int, int]]: ...
    def get_metric_history_steps(
        self,
        run_id: str,
        key: str,
        steps: Sequence[int],
        max_results: int,
        workspace: str | None = None,
    ) -> list[tuple[str, float, int, int]]: ...
    def get_max_step_for_metric(
        self, run_id: str, key: str, workspace: str | None = None
    ) -> int: ...
    def sample_metric_history(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
        workspace: str | None = None,
    ) -> list[tuple[str, float, int, int]]: ...
    def get_experiment(
        self, experiment_id: int, workspace: str | None = None
    ) -> ExperimentTuple: ...
    def get_experiment_by_name(
        self, name: str, workspace: str | None = None
    ) -> ExperimentTuple | None: ...
    def create_experiment(
        self, name: str, tags: Sequence[tuple[str, str]], location_template: str
    ) -> int: ...
    def search_experiments(
        self,
        filters: Sequence[FilterTuple],
        order_by: Sequence[OrderTuple],
        stages: Sequence[str],
        limit: int,
        offset: int,
        workspace: str | None = None,
    ) -> list[ExperimentTuple]: ...
