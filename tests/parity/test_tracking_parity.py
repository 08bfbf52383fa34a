"""Run lifecycle through the oxide store vs MLflow's own SqlAlchemyStore, compared as entities."""

from __future__ import annotations

import pytest
from mlflow.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME


def new_run(store, name="run", experiment_id="0", tags=None, start=1_000, user="user"):
    return store.create_run(experiment_id, user, start, tags or [], name).info.run_id


@pytest.mark.parametrize(
    ("run_name", "tags"),
    [
        ("named", []),
        (None, [RunTag(MLFLOW_RUN_NAME, "from-tag")]),
        ("same", [RunTag(MLFLOW_RUN_NAME, "same")]),
        ("arg", [RunTag(MLFLOW_RUN_NAME, "tag")]),
        ("", [RunTag(MLFLOW_RUN_NAME, "from-tag")]),
        ("with-tags", [RunTag("a", "1"), RunTag("b", ""), RunTag("mlflow.user", "x")]),
    ],
)
# experiment_id=None is left out: stock then inserts a run whose experiment_id is NULL.
@pytest.mark.parametrize("experiment", ["0", "new", "deleted", "missing", "bad", "1.5", 0])
def test_create_run(store_pair, run_name, tags, experiment):
    def scenario(store):
        experiment_id = experiment
        if experiment in ("new", "deleted"):
            experiment_id = store.create_experiment(f"exp-{experiment}")
            if experiment == "deleted":
                store.delete_experiment(experiment_id)
        elif experiment == "missing":
            experiment_id = "12345"
        created = store.create_run(experiment_id, "someone", 1_234, tags, run_name)
        return created, store.get_run(created.info.run_id)

    result = store_pair.same(scenario)
    if "error" not in result:
        assert not store_pair.fallbacks, dict(store_pair.fallbacks)


def test_create_run_random_name(store_pair):
    stock, oxide = store_pair.run(lambda s: s.create_run("0", "user", 5, [], None))
    for result in (stock, oxide):
        name = result["info"]["run_name"]
        assert name and result["tags"] == {MLFLOW_RUN_NAME: name}
    for result in (stock, oxide):
        result["info"]["run_name"] = result["tags"][MLFLOW_RUN_NAME] = "<random>"
    assert oxide == stock


@pytest.mark.parametrize(
    "update",
    [
        (RunStatus.FINISHED, 9_000, None),
        (RunStatus.FAILED, None, "renamed"),
        (RunStatus.KILLED, 1, ""),
        (None, None, "only-name"),
        (None, 0, None),
        (RunStatus.SCHEDULED, 7, "x"),
        (RunStatus.RUNNING, None, None),
    ],
)
@pytest.mark.parametrize("name_tag", [True, False])
def test_update_run_info(store_pair, update, name_tag):
    def scenario(store):
        run_id = new_run(store, tags=[RunTag("k", "v")])
        if not name_tag:
            store.delete_tag(run_id, MLFLOW_RUN_NAME)
        info = store.update_run_info(run_id, *update)
        return info, store.get_run(run_id)

    store_pair.same(scenario, fast=True)


@pytest.mark.parametrize("via", ["set_tag", "log_batch", "log_batch_with_others"])
def test_run_name_tag_renames_run(store_pair, via):
    def scenario(store):
        run_id = new_run(store, name="before")
        tag = RunTag(MLFLOW_RUN_NAME, "after")
        if via == "set_tag":
            store.set_tag(run_id, tag)
        elif via == "log_batch":
            store.log_batch(run_id, [], [], [tag])
        else:
            store.log_batch(run_id, [], [], [RunTag("a", "1"), tag, RunTag("a", "2")])
        return store.get_run(run_id)

    run = store_pair.same(scenario, fast=True)
    assert run["info"]["run_name"] == run["tags"][MLFLOW_RUN_NAME]


def test_tags_overwrite_and_delete(store_pair):
    def scenario(store):
        run_id = new_run(store)
        store.set_tag(run_id, RunTag("t", "1"))
        store.set_tag(run_id, RunTag("t", "2"))
        store.log_batch(run_id, [], [], [RunTag("u", "a"), RunTag("u", "b"), RunTag("t", "3")])
        store.set_tag(run_id, RunTag("empty", ""))
        before = store.get_run(run_id)
        store.delete_tag(run_id, "t")
        return before, store.get_run(run_id)

    store_pair.same(scenario, fast=True)


@pytest.mark.parametrize("key", ["missing", "t", MLFLOW_RUN_NAME])
def test_delete_tag_twice(store_pair, key):
    def scenario(store):
        run_id = new_run(store, tags=[RunTag("t", "v")])
        results = []
        for _ in range(2):
            try:
                store.delete_tag(run_id, key)
                results.append("ok")
            except Exception as exc:  # noqa: BLE001 - compared as data below
                results.append(exc)
        return results, store.get_run(run_id)

    stock, oxide = store_pair.run(scenario)
    assert oxide == stock
    assert "error" in stock[0][1]


def test_delete_restore_run(store_pair):
    def scenario(store):
        run_id = new_run(store)
        store.log_batch(run_id, [Metric("m", 1.0, 1, 1)], [Param("p", "v")], [RunTag("t", "v")])
        store.delete_run(run_id)
        deleted = store.get_run(run_id)
        store.restore_run(run_id)
        return deleted, store.get_run(run_id)

    store_pair.same(scenario, fast=True)


def test_get_run_errors(store_pair):
    def scenario(store):
        out = []
        for run_id in ["0" * 32, "nope", "", "a" * 33]:
            try:
                out.append(store.get_run(run_id))
            except Exception as exc:  # noqa: BLE001 - compared as data below
                out.append(exc)
        return out

    store_pair.same(scenario)


def _dataset(i):
    return Dataset(
        name=f"ds{i}",
        digest=f"d{i}",
        source_type="local",
        source=f'{{"uri": "/data/{i}"}}',
        schema='{"mlflow_colspec": []}' if i % 2 else None,
        profile='{"num_rows": 3}' if i % 2 else None,
    )


def test_get_run_with_dataset_inputs(store_pair):
    def scenario(store):
        run_id = new_run(store)
        other = new_run(store, name="other")
        store.log_batch(run_id, [Metric("m", 1.0, 1, 1)], [Param("p", "v")], [])
        store.log_inputs(
            run_id,
            [
                DatasetInput(_dataset(1), [InputTag("mlflow.data.context", "train")]),
                DatasetInput(_dataset(2), []),
            ],
        )
        store.log_inputs(other, [DatasetInput(_dataset(1), [InputTag("k", "v")])])
        return store.get_run(run_id), store.get_run(other)

    result = store_pair.same(scenario, fast=True)
    assert len(result[0]["inputs"]["dataset_inputs"]) == 2


def test_get_run_with_logged_model_inputs_outputs_and_model_metrics(store_pair):
    def scenario(store):
        run_id = new_run(store)
        model = store.create_logged_model("0", name="model", source_run_id=run_id)
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
        consumer = new_run(store, name="consumer")
        store.log_inputs(consumer, models=[LoggedModelInput(model.model_id)])
        store.log_metric(run_id, Metric("acc", 0.5, 10, 1, model_id=model.model_id))
        store.log_batch(run_id, [Metric("loss", 0.25, 11, 2, model_id=model.model_id)], [], [])
        logged = store.get_logged_model(model.model_id)
        return store.get_run(run_id), store.get_run(consumer), logged.metrics

    store_pair.same(scenario)


def test_runs_with_logged_models_are_served_by_the_fast_path(store_pair):
    """Every run that logs a model has a RUN_OUTPUT row (MLflow 3): get_run and search_runs must
    attach model outputs (and, for get_run, model inputs) exactly as stock does, without
    replaying on MLflow's code."""

    def scenario(store):
        producer = new_run(store, name="producer", start=10)
        consumer = new_run(store, name="consumer", start=20)
        models = [
            store.create_logged_model("0", name=f"model{i}", source_run_id=producer)
            for i in range(3)
        ]
        store.log_outputs(
            producer, [LoggedModelOutput(m.model_id, step) for step, m in enumerate(models)]
        )
        store.log_inputs(consumer, models=[LoggedModelInput(m.model_id) for m in models[:2]])
        store.log_batch(producer, [Metric("m", 1.0, 1, 1)], [Param("p", "v")], [])
        return (
            store.get_run(producer),
            store.get_run(consumer),
            store.search_runs(["0"], "params.p = 'v'", ViewType.ALL),
            store.search_runs(["0"], None, ViewType.ALL, order_by=["start_time ASC"]),
        )

    result = store_pair.same(scenario, fast=True)
    assert len(result[0]["outputs"]["model_outputs"]) == 3
    assert len(result[1]["inputs"]["model_inputs"]) == 2


def test_run_listing_via_search_after_lifecycle_changes(store_pair):
    def scenario(store):
        ids = [new_run(store, name=f"r{i}", start=100 + i) for i in range(6)]
        store.delete_run(ids[1])
        store.delete_run(ids[2])
        store.restore_run(ids[2])
        store.update_run_info(ids[3], RunStatus.FINISHED, 500, "renamed")
        return [
            store.search_runs(["0"], None, view, order_by=["start_time ASC"])
            for view in (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL)
        ]

    store_pair.same(scenario, fast=True)


def test_oxide_file_reads_identically_with_stock_store(store_pair):
    """What the fast path writes is a plain MLflow database: stock reads back the same run."""

    def scenario(store):
        run_id = new_run(store, name="x", tags=[RunTag("a", "b")])
        store.log_batch(
            run_id,
            [Metric("m", v, t, s) for v, t, s in [(1.0, 5, 1), (float("nan"), 6, 2), (3, 1, 2)]],
            [Param("p", "v")],
            [RunTag(MLFLOW_RUN_NAME, "y")],
        )
        store.update_run_info(run_id, RunStatus.FINISHED, 77, None)
        return run_id, store.get_run(run_id)

    oxide_store = store_pair.oxide.store
    run_id = scenario(oxide_store)[0]
    reader = SqlAlchemyStore(oxide_store.db_uri, store_pair.oxide.artifact_root)
    for read in (
        lambda s: s.get_run(run_id),
        lambda s: s.get_metric_history(run_id, "m"),
        lambda s: s.search_runs(["0"], None, ViewType.ALL),
    ):
        assert store_pair.plain(read(oxide_store)) == store_pair.plain(read(reader))
