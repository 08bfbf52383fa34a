"""MLflow features end to end on ``oxide+sqlite``, cross-checked through stock ``sqlite:///``."""

from __future__ import annotations

import json
import os
import subprocess

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.utils.file_utils import local_file_uri_to_path

from .conftest import (
    MLFLOW_CLI,
    integrity_check,
    oxide_uri,
    run_python,
    sql,
    stock_uri,
    subprocess_env,
)


@pytest.fixture
def tracking(db_path, tmp_path, monkeypatch):
    """Fluent API pointed at a fresh oxide database; global MLflow state restored afterwards."""
    monkeypatch.chdir(tmp_path)
    uri = oxide_uri(db_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield uri
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.config.enable_async_logging(False)
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def stock_client(db_path) -> MlflowClient:
    return MlflowClient(tracking_uri=stock_uri(db_path), registry_uri=stock_uri(db_path))


def test_fluent_sklearn_register_alias_load(tracking, db_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflow.set_experiment("iris")
    with mlflow.start_run(run_name="fit") as run:
        mlflow.log_params({"C": 1.0, "max_iter": 500})
        mlflow.set_tags({"team": "oxide", "kind": "classic"})
        model = LogisticRegression(C=1.0, max_iter=500).fit(X, y)
        for step in range(25):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"accuracy": model.score(X, y)})
        info = mlflow.sklearn.log_model(model, name="model", input_example=X.iloc[:3])
    run_id = run.info.run_id

    version = mlflow.register_model(info.model_uri, "iris-classifier")
    MlflowClient().set_registered_model_alias("iris-classifier", "prod", version.version)
    loaded = mlflow.pyfunc.load_model("models:/iris-classifier@prod")
    np.testing.assert_array_equal(loaded.predict(X.iloc[:20]), model.predict(X.iloc[:20]))
    sk_loaded = mlflow.sklearn.load_model("models:/iris-classifier@prod")
    np.testing.assert_array_equal(sk_loaded.predict(X), model.predict(X))

    oxide_run = MlflowClient().get_run(run_id)
    assert oxide_run.info.status == "FINISHED"
    assert oxide_run.data.params == {"C": "1.0", "max_iter": "500"}
    assert len(MlflowClient().get_metric_history(run_id, "loss")) == 25
    assert oxide_run.outputs.model_outputs[0].model_id == info.model_id

    stock = stock_client(db_path)
    stock_run = stock.get_run(run_id)
    assert stock_run.to_dictionary() == oxide_run.to_dictionary()
    assert stock.get_model_version_by_alias("iris-classifier", "prod").run_id == run_id
    assert stock.get_logged_model(info.model_id).source_run_id == run_id
    assert integrity_check(db_path) == "ok"


def test_async_logging_flushes_everything(tracking, db_path):
    mlflow.set_experiment("async")
    with mlflow.start_run() as run:
        ops = [mlflow.log_metric("a", float(s), step=s, synchronous=False) for s in range(200)]
        for op in ops:
            op.wait()
        mlflow.config.enable_async_logging()
        for s in range(300):
            mlflow.log_metric("b", s * 2.0, step=s)
            if s % 30 == 0:
                mlflow.log_param(f"p{s}", s)
                mlflow.set_tag(f"t{s}", s)
        mlflow.log_metrics({"c": 1.0, "d": 2.0}, step=7)
        mlflow.flush_async_logging()
    mlflow.config.enable_async_logging(False)

    stock = stock_client(db_path)
    for key, n, factor in (("a", 200, 1.0), ("b", 300, 2.0)):
        history = stock.get_metric_history(run.info.run_id, key)
        assert sorted((m.step, m.value) for m in history) == [(s, factor * s) for s in range(n)]
    data = stock.get_run(run.info.run_id).data
    assert data.metrics["c"] == 1.0 and data.metrics["d"] == 2.0
    assert {f"p{s}" for s in range(0, 300, 30)} <= set(data.params)
    assert {f"t{s}" for s in range(0, 300, 30)} <= set(data.tags)


def test_search_runs_dataframe_matches_stock(tracking, db_path):
    exp_id = mlflow.create_experiment("frames")
    for i in range(6):
        with mlflow.start_run(experiment_id=exp_id, run_name=f"r{i}"):
            mlflow.log_param("i", i)
            mlflow.log_param("parity", "even" if i % 2 == 0 else "odd")
            mlflow.log_metric("score", i * 1.5)
            mlflow.set_tag("group", "a" if i < 3 else "b")

    kwargs = {
        "experiment_ids": [exp_id],
        "filter_string": "params.parity = 'even' and metrics.score >= 0",
        "order_by": ["metrics.score DESC"],
    }
    oxide_df = mlflow.search_runs(**kwargs)
    assert list(oxide_df["tags.mlflow.runName"]) == ["r4", "r2", "r0"]
    assert list(oxide_df["metrics.score"]) == [6.0, 3.0, 0.0]
    assert set(oxide_df["params.parity"]) == {"even"}
    all_runs = mlflow.search_runs([exp_id], run_view_type=ViewType.ALL)
    assert len(all_runs) == 6

    mlflow.set_tracking_uri(stock_uri(db_path))
    stock_df = mlflow.search_runs(**kwargs)
    pd.testing.assert_frame_equal(
        oxide_df[sorted(oxide_df.columns)], stock_df[sorted(stock_df.columns)]
    )
    stock_all = mlflow.search_runs([exp_id], run_view_type=ViewType.ALL)
    pd.testing.assert_frame_equal(
        all_runs.sort_values("run_id").reset_index(drop=True)[sorted(all_runs.columns)],
        stock_all.sort_values("run_id").reset_index(drop=True)[sorted(stock_all.columns)],
    )


def test_gc_removes_deleted_run(tracking, db_path, tmp_path):
    client = MlflowClient()
    exp_id = client.create_experiment("gc")
    keep = client.create_run(exp_id, run_name="keep").info.run_id
    drop = client.create_run(exp_id, run_name="drop").info.run_id
    for rid in (keep, drop):
        for s in range(10):
            client.log_metric(rid, "m", s, step=s)
        client.log_param(rid, "p", "v")
        client.set_tag(rid, "t", "v")
    artifact = tmp_path / "note.txt"
    artifact.write_text("hello")
    client.log_artifact(drop, str(artifact))
    drop_artifacts = client.get_run(drop).info.artifact_uri
    client.delete_run(drop)

    result = subprocess.run(
        [MLFLOW_CLI, "gc", "--backend-store-uri", tracking, "--tracking-uri", tracking]
        + ["--run-ids", drop],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr

    for table in ("runs", "metrics", "latest_metrics", "params", "tags"):
        assert sql(db_path, f"SELECT COUNT(*) FROM {table} WHERE run_uuid = ?", (drop,)) == [(0,)]
    assert not os.path.exists(local_file_uri_to_path(drop_artifacts))
    stock = stock_client(db_path)
    with pytest.raises(MlflowException, match="not found"):
        stock.get_run(drop)
    with pytest.raises(MlflowException, match="not found"):
        MlflowClient().get_run(drop)
    assert len(stock.get_metric_history(keep, "m")) == 10
    assert [r.info.run_id for r in stock.search_runs([exp_id], run_view_type=ViewType.ALL)] == [
        keep
    ]
    assert integrity_check(db_path) == "ok"


WORKSPACES = """
import json, sys
import mlflow
from mlflow import MlflowClient
oxide, stock = sys.argv[1], sys.argv[2]
out = {}
for ws in ("team-a", "team-b"):
    mlflow.set_workspace(ws)
    c = MlflowClient(tracking_uri=oxide)
    exp = c.create_experiment(f"exp-{ws}")
    for i in range(3):
        rid = c.create_run(exp, run_name=f"{ws}-{i}").info.run_id
        for s in range(5):
            c.log_metric(rid, "m", s + i, step=s)
        c.log_param(rid, "ws", ws)
        c.set_tag(rid, "i", str(i))
for ws in ("team-a", "team-b"):
    mlflow.set_workspace(ws)
    view = {}
    for name, uri in (("oxide", oxide), ("stock", stock)):
        c = MlflowClient(tracking_uri=uri)
        exps = c.search_experiments()
        ids = [e.experiment_id for e in exps]
        runs = c.search_runs(ids, filter_string="metrics.m > 0", order_by=["attributes.run_name"])
        view[name] = {
            "experiments": sorted(e.name for e in exps),
            "runs": [[r.info.run_name, r.data.params, r.data.metrics, r.data.tags.get("i")]
                     for r in runs],
            "history": [len(c.get_metric_history(r.info.run_id, "m")) for r in runs],
            "by_name": c.get_experiment_by_name(f"exp-{ws}").experiment_id,
        }
    out[ws] = view
print(json.dumps(out))
"""


def test_workspaces(db_path):
    env = subprocess_env(MLFLOW_ENABLE_WORKSPACES="true")
    result = run_python(WORKSPACES, oxide_uri(db_path), stock_uri(db_path), env=env)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for ws in ("team-a", "team-b"):
        assert out[ws]["oxide"] == out[ws]["stock"]
        view = out[ws]["oxide"]
        assert view["experiments"] == [f"exp-{ws}"]
        assert [r[0] for r in view["runs"]] == [f"{ws}-{i}" for i in range(3)]
        assert all(r[1] == {"ws": ws} for r in view["runs"])
        assert view["history"] == [5, 5, 5]
    rows = sql(db_path, "SELECT workspace, name FROM experiments ORDER BY name")
    assert ("team-a", "exp-team-a") in rows and ("team-b", "exp-team-b") in rows
    assert integrity_check(db_path) == "ok"


def test_traces(tracking, db_path):
    exp_id = mlflow.set_experiment("traced").experiment_id

    @mlflow.trace(name="outer")
    def outer(x):
        return inner(x) + 1

    @mlflow.trace(name="inner")
    def inner(x):
        return x * 2

    with mlflow.start_run() as run:
        assert outer(20) == 41
        assert outer(1) == 3
    mlflow.flush_trace_async_logging()

    traces = mlflow.search_traces(locations=[exp_id], return_type="list", flush=True)
    assert len(traces) == 2
    for trace in traces:
        assert sorted(s.name for s in trace.data.spans) == ["inner", "outer"]
        assert trace.info.state.value == "OK"
    df = mlflow.search_traces(locations=[exp_id])
    assert len(df) == 2
    stock = stock_client(db_path)
    stock_traces = stock.search_traces(locations=[exp_id])
    assert sorted(t.info.trace_id for t in stock_traces) == sorted(t.info.trace_id for t in traces)
    assert MlflowClient().get_run(run.info.run_id).info.status == "FINISHED"


def test_logged_models(tracking, db_path):
    exp_id = mlflow.set_experiment("models").experiment_id
    with mlflow.start_run() as run:
        external = mlflow.create_external_model(name="agent", params={"temperature": "0.1"})
        mlflow.log_metric("quality", 0.9, model_id=external.model_id)
    pending = mlflow.initialize_logged_model(name="pending-model", tags={"k": "v"})

    found = mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list")
    assert sorted(m.name for m in found) == ["agent", "pending-model"]
    df = mlflow.search_logged_models(experiment_ids=[exp_id])
    assert sorted(df["name"]) == ["agent", "pending-model"]
    by_metric = mlflow.search_logged_models(
        experiment_ids=[exp_id], filter_string="metrics.quality > 0.5", output_format="list"
    )
    assert [m.model_id for m in by_metric] == [external.model_id]
    got = mlflow.get_logged_model(external.model_id)
    assert got.source_run_id == run.info.run_id
    assert got.params == {"temperature": "0.1"}
    assert [m.value for m in got.metrics] == [0.9]

    stock = stock_client(db_path)
    stock_found = stock.search_logged_models(experiment_ids=[exp_id])
    assert sorted(m.model_id for m in stock_found) == sorted([external.model_id, pending.model_id])
    assert stock.get_run(run.info.run_id).data.metrics == {"quality": 0.9}
