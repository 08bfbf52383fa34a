"""The parity suite would pass trivially if every call fell back to MLflow's implementation.
Here MLflow's methods are made to fail, and valid calls on the oxide store must still work --
served by the Rust core -- and give what stock gives."""

from __future__ import annotations

import inspect
import shutil

import pytest
from mlflow.entities import ExperimentTag, Metric, Param, RunStatus, RunTag, ViewType
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

FAST_METHODS = [
    "create_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "_search_experiments",
    "create_run",
    "get_run",
    "update_run_info",
    "log_metric",
    "log_param",
    "set_tag",
    "delete_tag",
    "log_batch",
    "get_metric_history",
    "get_metric_history_bulk",
    "get_max_step_for_metric",
    "get_metric_history_bulk_interval",
    "get_metric_history_bulk_interval_from_steps",
    "_search_runs",
]


def exercise(store):
    """Valid input only, touching every accelerated method."""
    exp_id = store.create_experiment("fast", tags=[ExperimentTag("k", "v")])
    out = {"experiment_id": exp_id}
    run_ids = []
    for i in range(3):
        run = store.create_run(exp_id, "user", 1_000 + i, [RunTag("a", str(i))], f"r{i}")
        run_ids.append(run.info.run_id)
        out[f"created{i}"] = run
    rid = run_ids[0]
    store.log_metric(rid, Metric("m", 1.5, 10, 0))
    store.log_metric(rid, Metric("m", float("nan"), 11, 1))
    store.log_param(rid, Param("p", "v"))
    store.set_tag(rid, RunTag("t", "1"))
    store.log_batch(
        rid,
        [Metric("m", float(s) - 2.5, 20 + s, s) for s in range(2, 30)],
        [Param("q", "w")],
        [RunTag("t", "2"), RunTag("u", "3")],
    )
    for other in run_ids[1:]:
        store.log_batch(other, [Metric("m", 0.25, 5, 3)], [Param("p", other[:4])], [])
    store.delete_tag(rid, "u")
    out["updated"] = store.update_run_info(rid, RunStatus.FINISHED, 99, "renamed")
    out["run"] = store.get_run(rid)
    out["history"] = store.get_metric_history(rid, "m")
    out["page"] = store.get_metric_history(rid, "m", max_results=4, page_token=None)
    out["bulk"] = store.get_metric_history_bulk(run_ids, "m", 100)
    out["max_step"] = store.get_max_step_for_metric(rid, "m")
    out["steps"] = store.get_metric_history_bulk_interval_from_steps(rid, "m", [0, 3, 5], 10)
    out["interval"] = store.get_metric_history_bulk_interval(run_ids, "m", 5, None, None)
    out["window"] = store.get_metric_history_bulk_interval(run_ids, "m", 3, 2, 10)
    out["search"] = store.search_runs(
        [exp_id], "metrics.m > 0 AND params.p != 'x'", ViewType.ALL, 2, ["params.p DESC"]
    )
    out["search_all"] = store.search_runs([exp_id, "0"], "", ViewType.ACTIVE_ONLY)
    out["experiment"] = store.get_experiment(exp_id)
    out["by_name"] = store.get_experiment_by_name("fast")
    out["experiments"] = store.search_experiments(ViewType.ALL, 10, "name LIKE 'f%'", ["name"])
    for key in ("experiment", "by_name"):
        exp = out[key]
        out[key] = (exp.name, exp.experiment_id, exp.tags, exp.lifecycle_stage)
    out["experiments"] = [(e.name, e.tags) for e in out["experiments"]]
    return out


def _forbid_stock(monkeypatch):
    def forbidden(name):
        def method(*_args, **_kwargs):
            raise AssertionError(f"stock SqlAlchemyStore.{name} was called")

        return method

    for name in FAST_METHODS:
        monkeypatch.setattr(SqlAlchemyStore, name, forbidden(name))


def test_fast_path_serves_valid_calls_without_stock(store_pair, monkeypatch):
    with monkeypatch.context() as patched:
        _forbid_stock(patched)
        store_pair._seed_uuids(1)
        fast = store_pair.plain(exercise(store_pair.oxide.store), store_pair.oxide.artifact_root)
    store_pair._seed_uuids(1)
    stock = store_pair.plain(exercise(store_pair.stock.store), store_pair.stock.artifact_root)
    assert fast == stock


def test_forbidding_stock_breaks_a_fallback_only_store(migrated_db_template, tmp_path, monkeypatch):
    """Control: with ``fast_path=0`` every call is a replay on stock, so the same scenario fails
    under the same patch -- the test above is not vacuous."""
    from mlflow_oxide.tracking import OxideSqliteStore

    db = tmp_path / "fallback.db"
    shutil.copyfile(migrated_db_template, db)
    store = OxideSqliteStore(f"oxide+sqlite:///{db}?fast_path=0", str(tmp_path / "artifacts"))
    arity = {
        name: len(inspect.signature(getattr(SqlAlchemyStore, name)).parameters) - 1
        for name in FAST_METHODS
    }
    _forbid_stock(monkeypatch)
    with pytest.raises(AssertionError, match="stock SqlAlchemyStore.create_experiment"):
        exercise(store)
    for name in FAST_METHODS:
        with pytest.raises(AssertionError, match=f"stock SqlAlchemyStore.{name} was called"):
            getattr(store, name)(*([None] * arity[name]))
