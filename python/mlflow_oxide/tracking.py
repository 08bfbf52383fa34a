"""The ``oxide+sqlite`` tracking store: MLflow's ``SqlAlchemyStore`` with Rust hot paths.

MLflow's own code creates and migrates the schema and serves every call we do not accelerate,
so the file stays a plain MLflow database that stock ``sqlite:///`` opens at any time.

Parity by construction: the Rust fast path only accepts input it can prove valid and state it
can prove unchanged by the call's rules (run exists and is active, param not changed, ...).
Whenever it declines (``_native.Declined``) or meets an MLflow error condition, the call is
replayed on MLflow's own implementation, which raises the canonical ``MlflowException`` with
its exact message and code -- or performs the rare case (model metrics, truncation, ...).
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import uuid

from mlflow.entities import LifecycleStage
from mlflow.entities.run_status import RunStatus
from mlflow.environment_variables import MLFLOW_ENABLE_WORKSPACES
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.tracking.sqlalchemy_workspace_store import WorkspaceAwareSqlAlchemyStore
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME, _get_run_name_from_tags
from mlflow.utils.name_utils import _generate_random_name
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils
from mlflow.utils.uri import append_to_uri_path
from mlflow.utils.validation import _validate_run_id

from mlflow_oxide import _entities, _search, _uri
from mlflow_oxide._native_db import open_native
from mlflow_oxide.exceptions import translate_native_error

_logger = logging.getLogger(__name__)

# Alembic revisions whose schema the Rust SQL was written and tested against. Any other
# revision (an older or newer MLflow) is served entirely by MLflow's own code.

_prepared: set[str] = set()
_prepared_lock = threading.Lock()


def prepare_database(parsed: _uri.OxideUri) -> None:
    """Switch the file to WAL once per process: readers never block the writer and a
    committed transaction survives a crash of the writing process. WAL is a property of the
    file, so stock MLflow opening it afterwards simply works in WAL mode too."""
    with _prepared_lock:
        if parsed.path in _prepared:
            return
        directory = os.path.dirname(parsed.path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
        conn = sqlite3.connect(parsed.path, timeout=parsed.busy_timeout_ms / 1000)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        _prepared.add(parsed.path)


def tracking_store_from_uri(store_uri: str, artifact_uri: str | None = None, **_ignored):
    """Entry point ``mlflow.tracking_store`` for ``oxide+sqlite``."""
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.tracking._tracking_service.utils import _SERVER_ARTIFACT_ROOT_ENV_VAR

    # Same artifact-root resolution as MLflow's own sqlite builder: inside a server process the
    # server's configured root, else the local default.
    if artifact_uri is None:
        artifact_uri = os.environ.get(
            _SERVER_ARTIFACT_ROOT_ENV_VAR, DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
        )
    cls = OxideWorkspaceSqliteStore if MLFLOW_ENABLE_WORKSPACES.get() else OxideSqliteStore
    return cls(store_uri, artifact_uri)


def _fast(method):
    """Run ``method`` (the Rust fast path); on decline or any MLflow error condition replay the
    call on MLflow's implementation of the same name, which owns the canonical behaviour."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        native = self._native_or_none()
        if native is not None:
            try:
                return method(self, native, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - only native errors are translated
                if not translate_native_error(exc, self._db_path):
                    raise
        return getattr(super(_OxideMixin, self), name)(*args, **kwargs)

    return wrapper


class _OxideMixin:
    """Hot paths in Rust; everything else inherited from MLflow's SQLAlchemy store."""

    def __init__(self, store_uri: str, artifact_uri: str):
        parsed = _uri.parse(store_uri)
        prepare_database(parsed)
        self._oxide = parsed
        self._db_path = parsed.path
        self._native_pid: int | None = None
        self._native = None
        self._native_lock = threading.Lock()
        self._exp_location_template = None
        # MLflow's constructor creates/migrates the schema and calls get_experiment: serve
        # that with MLflow's code, then decide on the fast path from the schema it left.
        self._fast_enabled = False
        super().__init__(parsed.sqlalchemy_uri, artifact_uri)
        self._fast_enabled = parsed.fast_path and self._native_usable()

    # -- plumbing --------------------------------------------------------------------------
    def _native_usable(self) -> bool:
        native, why = open_native(self._oxide)
        if native is None:
            _logger.warning(
                "mlflow-oxide: %s; serving %s with MLflow's own store (correct, not accelerated).",
                why,
                self._db_path,
            )
            return False
        self._native, self._native_pid = native, os.getpid()
        return True

    def _open_native(self):
        from mlflow_oxide import _native

        return _native.SqliteTracking(
            self._db_path, self._oxide.synchronous, self._oxide.busy_timeout_ms
        )

    def _native_or_none(self):
        if not self._fast_enabled:
            return None
        pid = os.getpid()
        # Connections are never carried across fork(): a forked server worker opens its own.
        if self._native_pid != pid:
            with self._native_lock:
                if self._native_pid != pid:
                    self._native = self._open_native()
                    self._native_pid = pid
        return self._native

    def _workspace(self) -> str | None:
        return self._get_active_workspace() if self.supports_workspaces else None

    def _experiment_location_template(self) -> str:
        if self._exp_location_template is None:
            self._exp_location_template = append_to_uri_path(
                self.artifact_root_uri, _entities.EXPERIMENT_ID_SENTINEL
            )
        return self._exp_location_template

    def _experiment_artifact_location(self, native, experiment_id) -> tuple[int, str]:
        # Not cached: SQLite may reuse the id of a hard-deleted experiment (``mlflow gc``).
        try:
            exp_id = int(experiment_id)
        except (TypeError, ValueError):
            raise _entities.decline("non-integer experiment id") from None
        return exp_id, native.get_experiment(exp_id, self._workspace())[2]

    # -- runs ------------------------------------------------------------------------------
    @_fast
    def create_run(self, native, experiment_id, user_id, start_time, tags, run_name):
        if self.supports_workspaces:
            raise _entities.decline("create_run in workspace mode")
        if experiment_id is None:
            raise _entities.decline("no experiment id")
        exp_id, location = self._experiment_artifact_location(native, experiment_id)
        tags = list(tags) if tags else []
        run_name_tag = _get_run_name_from_tags(tags)
        if run_name and run_name_tag and run_name != run_name_tag:
            raise _entities.decline("conflicting run names")
        run_name = run_name or run_name_tag or _generate_random_name()
        tag_pairs = [(t.key, t.value) for t in tags]
        if not run_name_tag:
            tag_pairs.append((MLFLOW_RUN_NAME, run_name))
        run_id = uuid.uuid4().hex
        artifact_uri = append_to_uri_path(location, run_id, SqlAlchemyStore.ARTIFACTS_FOLDER_NAME)
        row = native.create_run(
            run_id, exp_id, user_id, start_time, run_name, tag_pairs, artifact_uri
        )
        return _entities.new_run(row)

    @_fast
    def get_run(self, native, run_id):
        row = native.get_run(run_id, self._workspace())
        datasets = []
        if row[4]:
            datasets = _entities.dataset_inputs(native.dataset_inputs([run_id]), [run_id])[0]
        return _entities.run(row, datasets)

    @_fast
    def update_run_info(self, native, run_id, run_status, end_time, run_name):
        status = RunStatus.to_string(run_status) if run_status is not None else None
        row = native.update_run_info(run_id, status, end_time, run_name or None, self._workspace())
        return _entities.run_info(row)

    @_fast
    def log_metric(self, native, run_id, metric):
        native.log_batch(run_id, [metric], [], [], self._workspace())

    @_fast
    def log_param(self, native, run_id, param):
        native.log_batch(run_id, [], [param], [], self._workspace())

    @_fast
    def set_tag(self, native, run_id, tag):
        native.log_batch(run_id, [], [], [tag], self._workspace())

    @_fast
    def delete_tag(self, native, run_id, key):
        native.delete_tag(run_id, key, self._workspace())

    @_fast
    def log_batch(self, native, run_id, metrics, params, tags):
        _validate_run_id(run_id)
        native.log_batch(run_id, metrics, params, tags, self._workspace())

    # -- metric history --------------------------------------------------------------------
    @_fast
    def get_metric_history(self, native, run_id, metric_key, max_results=None, page_token=None):
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        limit = None if max_results is None else max_results + 1
        with _entities.gc_paused():
            rows = native.get_metric_history(run_id, metric_key, limit, offset, self._workspace())
            next_token = None
            if max_results is not None and len(rows) == max_results + 1:
                next_token = SearchUtils.create_page_token(offset + max_results)
                rows = rows[:max_results]
            return PagedList(_entities.metrics(metric_key, rows), next_token)

    @_fast
    def get_metric_history_bulk(self, native, run_ids, metric_key, max_results):
        with _entities.gc_paused():
            rows = native.get_metric_history_bulk(
                list(run_ids), metric_key, max_results, self._workspace()
            )
            return _entities.metrics_with_run_ids(metric_key, rows)

    @_fast
    def get_max_step_for_metric(self, native, run_id, metric_key):
        return native.get_max_step_for_metric(run_id, metric_key, self._workspace())

    @_fast
    def get_metric_history_bulk_interval_from_steps(
        self, native, run_id, metric_key, steps, max_results
    ):
        rows = native.get_metric_history_steps(
            run_id, metric_key, list(steps), max_results, self._workspace()
        )
        return _entities.metrics_with_run_ids(metric_key, rows)

    @_fast
    def get_metric_history_bulk_interval(
        self, native, run_ids, metric_key, max_results, start_step, end_step
    ):
        if (start_step is None) != (end_step is None):
            raise _entities.decline("start_step/end_step must come together")
        rows = native.sample_metric_history(
            list(run_ids), metric_key, max(1, max_results), start_step, end_step, self._workspace()
        )
        return _entities.metrics_with_run_ids(metric_key, rows)

    # -- search ----------------------------------------------------------------------------
    @_fast
    def _search_runs(
        self,
        native,
        experiment_ids,
        filter_string,
        run_view_type,
        max_results,
        order_by,
        page_token,
    ):
        self._validate_max_results_param(max_results, allow_null=True)
        plan = _search.runs_plan(filter_string, order_by)
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        stages = LifecycleStage.view_type_to_stages(run_view_type)
        try:
            exp_ids = [int(e) for e in experiment_ids]
        except (TypeError, ValueError):
            raise _entities.decline("non-integer experiment id") from None
        limit = None if max_results is None else max_results + 1
        with _entities.gc_paused():
            rows, has_datasets = native.search_runs(
                exp_ids, plan.filters, plan.order_by, list(stages), limit, offset, self._workspace()
            )
            if has_datasets:
                run_ids = [row[0][0] for row in rows]
                datasets = _entities.dataset_inputs(native.dataset_inputs(run_ids), run_ids)
            else:
                datasets = [[] for _ in rows]
            runs = [_entities.searched_run(row, ds) for row, ds in zip(rows, datasets, strict=True)]
        next_token = None
        if max_results is not None and len(runs) == max_results + 1:
            next_token = SearchUtils.create_page_token(offset + max_results)
            runs = runs[:max_results]
        return runs, next_token

    # -- experiments -----------------------------------------------------------------------
    def _retention_context_allows_fast_path(self) -> bool:
        return self._get_effective_experiment_trace_archival_retention_context() is None

    @_fast
    def get_experiment(self, native, experiment_id):
        if not self._retention_context_allows_fast_path():
            raise _entities.decline("trace archival retention configured")
        if experiment_id in (None, ""):
            experiment_id = SqlAlchemyStore.DEFAULT_EXPERIMENT_ID
        try:
            exp_int = int(experiment_id)
        except (TypeError, ValueError):
            raise _entities.decline("non-integer experiment id") from None
        return _entities.experiment(native.get_experiment(exp_int, self._workspace()))

    @_fast
    def get_experiment_by_name(self, native, experiment_name):
        if not self._retention_context_allows_fast_path():
            raise _entities.decline("trace archival retention configured")
        row = native.get_experiment_by_name(experiment_name, self._workspace())
        return None if row is None else _entities.experiment(row)

    @_fast
    def create_experiment(self, native, name, artifact_location=None, tags=None):
        if self.supports_workspaces or artifact_location or not isinstance(name, str):
            raise _entities.decline("explicit artifact location or workspace mode")
        tag_pairs = [(t.key, t.value) for t in tags] if tags else []
        return str(native.create_experiment(name, tag_pairs, self._experiment_location_template()))

    @_fast
    def _search_experiments(
        self, native, view_type, max_results, filter_string, order_by, page_token
    ):
        if not self._retention_context_allows_fast_path():
            raise _entities.decline("trace archival retention configured")
        self._validate_max_results_param(max_results)
        plan = _search.experiments_plan(filter_string, order_by)
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        stages = list(LifecycleStage.view_type_to_stages(view_type))
        rows = native.search_experiments(
            plan.filters, plan.order_by, stages, max_results + 1, offset, self._workspace()
        )
        experiments = [_entities.experiment(row) for row in rows]
        next_token = None
        if len(experiments) == max_results + 1:
            next_token = SearchExperimentsUtils.create_page_token(offset + max_results)
        return experiments[:max_results], next_token


class OxideSqliteStore(_OxideMixin, SqlAlchemyStore):
    """``oxide+sqlite`` tracking store (single tenant)."""


class OxideWorkspaceSqliteStore(_OxideMixin, WorkspaceAwareSqlAlchemyStore):
    """``oxide+sqlite`` tracking store with ``MLFLOW_ENABLE_WORKSPACES``."""


__all__ = [
    "OxideSqliteStore",
    "OxideWorkspaceSqliteStore",
    "prepare_database",
    "tracking_store_from_uri",
]
