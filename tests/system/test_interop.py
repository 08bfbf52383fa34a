"""One database, two doors: stock ``sqlite:///`` and ``oxide+sqlite:///`` on the same file."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

from .conftest import integrity_check, oxide_uri, run_python, sql, stock_uri


def client_for(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def assert_accelerated(client: MlflowClient) -> None:
    """The oxide door really is the Rust-backed store (not a silent stock fallback)."""
    store = client._tracking_client.store
    assert type(store).__name__ == "OxideSqliteStore"
    assert store._fast_enabled, "fast path disabled (unknown schema revision?)"


def plain(obj):
    """Entities -> plain JSON-able structures (for equality across stores and processes)."""
    if hasattr(obj, "to_dictionary"):
        return plain(obj.to_dictionary())
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "__iter__") and hasattr(obj, "_properties"):
        return {k: plain(v) for k, v in dict(obj).items()}
    return obj


def sorted_run_dict(run) -> dict:
    d = plain(run)
    for key in ("metrics", "params", "tags"):
        data = d["data"].get(key)
        if isinstance(data, list):
            d["data"][key] = sorted(data, key=json.dumps)
    return d


def write_tracking_data(client: MlflowClient, tag: str, n_runs: int = 3) -> tuple[str, list]:
    exp_id = client.create_experiment(f"exp-{tag}", tags={"origin": tag})
    run_ids = []
    for i in range(n_runs):
        run = client.create_run(exp_id, run_name=f"{tag}-run-{i}", tags={"idx": str(i)})
        rid = run.info.run_id
        for step in range(20):
            client.log_metric(rid, "loss", 1.0 / (step + 1) + i, step=step, timestamp=1000 + step)
        client.log_batch(
            rid,
            metrics=[Metric("acc", 0.5 + 0.01 * s, 2000 + s, s) for s in range(10)],
            params=[Param("lr", str(0.1 * (i + 1))), Param("layers", str(i + 2))],
            tags=[RunTag("stage", tag), RunTag("note", f"run {i}")],
        )
        client.log_param(rid, "optimizer", "adam")
        client.set_tag(rid, "temp", "x")
        client.delete_tag(rid, "temp")
        if i == 0:
            client.set_terminated(rid, "FINISHED", end_time=5000)
        run_ids.append(rid)
    return exp_id, run_ids


def write_registry_data(client: MlflowClient, tag: str, run_ids: list[str]) -> str:
    name = f"model-{tag}"
    client.create_registered_model(name, tags={"team": tag}, description=f"from {tag}")
    for rid in run_ids[:2]:
        run = client.get_run(rid)
        client.create_model_version(name, source=f"{run.info.artifact_uri}/model", run_id=rid)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_model_version_tag(name, "1", "validated", "yes")
    return name


def snapshot(client: MlflowClient, exp_ids: list[str], model_names: list[str]) -> dict:
    """Everything a user can read back, as plain data."""
    runs = client.search_runs(
        exp_ids, run_view_type=ViewType.ALL, max_results=1000, order_by=["attributes.run_id"]
    )
    out = {
        "runs": {r.info.run_id: sorted_run_dict(client.get_run(r.info.run_id)) for r in runs},
        "search": [sorted_run_dict(r) for r in runs],
        "search_filtered": [
            r.info.run_id
            for r in client.search_runs(
                exp_ids,
                filter_string="metrics.loss < 2 and params.optimizer = 'adam'",
                order_by=["metrics.loss DESC", "attributes.run_id"],
            )
        ],
        "history": {
            r.info.run_id: {
                key: sorted(
                    (m.step, m.value, m.timestamp)
                    for m in client.get_metric_history(r.info.run_id, key)
                )
                for key in r.data.metrics
            }
            for r in runs
        },
        "experiments": sorted(
            (
                e.experiment_id,
                e.name,
                e.artifact_location,
                e.lifecycle_stage,
                sorted(e.tags.items()),
            )
            for e in client.search_experiments(view_type=ViewType.ALL)
        ),
        "models": {},
    }
    for name in model_names:
        rm = client.get_registered_model(name)
        versions = client.search_model_versions(f"name = '{name}'")
        out["models"][name] = {
            "description": rm.description,
            "tags": sorted(rm.tags.items()),
            "aliases": sorted(rm.aliases.items()),
            "versions": sorted(
                (v.version, v.source, v.run_id, v.status, sorted(v.tags.items())) for v in versions
            ),
            "champion": str(client.get_model_version_by_alias(name, "champion").version),
        }
    return out


def assert_same_view(a: MlflowClient, b: MlflowClient, exp_ids, model_names) -> dict:
    snap_a = snapshot(a, exp_ids, model_names)
    snap_b = snapshot(b, exp_ids, model_names)
    assert snap_a == snap_b
    return snap_a


def modify(client: MlflowClient, exp_id: str, run_ids: list[str], model_name: str, tag: str):
    """Cross-door modifications on data the other door wrote."""
    rid = run_ids[1]
    client.log_metric(rid, "loss", -1.0, step=99, timestamp=9999)
    client.log_batch(rid, metrics=[Metric(f"new_{tag}", 3.0, 7000, 0)], params=[], tags=[])
    client.log_param(rid, f"param_{tag}", "v")
    client.set_tag(rid, "stage", f"modified-by-{tag}")
    client.set_terminated(rid, "FAILED", end_time=8000)
    client.delete_run(run_ids[2])
    new_run = client.create_run(exp_id, run_name=f"added-by-{tag}")
    client.log_metric(new_run.info.run_id, "loss", 0.25, step=0)
    client.log_param(new_run.info.run_id, "optimizer", "adam")
    client.set_experiment_tag(exp_id, f"touched_{tag}", "1")
    mv = client.create_model_version(
        model_name, source=f"{new_run.info.artifact_uri}/model", run_id=new_run.info.run_id
    )
    client.set_registered_model_alias(model_name, "champion", mv.version)
    client.update_registered_model(model_name, description=f"edited by {tag}")


@pytest.mark.parametrize("first", ["stock", "oxide"])
def test_one_database_two_doors(db_path, first):
    # The first door alone creates the file and writes; the other opens it afterwards.
    writer = client_for((stock_uri if first == "stock" else oxide_uri)(db_path))
    exp_id, run_ids = write_tracking_data(writer, first)
    model = write_registry_data(writer, first, run_ids)
    other = client_for((oxide_uri if first == "stock" else stock_uri)(db_path))
    stock, oxide = (writer, other) if first == "stock" else (other, writer)
    assert_accelerated(oxide)
    assert_same_view(writer, other, [exp_id], [model])

    second = "oxide" if first == "stock" else "stock"
    modify(other, exp_id, run_ids, model, second)
    snap = assert_same_view(writer, other, [exp_id], [model])

    run = snap["runs"][run_ids[1]]
    assert run["info"]["status"] == "FAILED"
    assert {"key": "stage", "value": f"modified-by-{second}"} in [
        {"key": t["key"], "value": t["value"]} for t in _items(run["data"]["tags"])
    ]
    assert snap["history"][run_ids[1]]["loss"][-1] == (99, -1.0, 9999)
    assert len(snap["history"][run_ids[0]]["loss"]) == 20
    assert snap["runs"][run_ids[2]]["info"]["lifecycle_stage"] == "deleted"
    assert snap["models"][model]["champion"] == "3"
    assert snap["models"][model]["description"] == f"edited by {second}"

    # Both doors write to the same file again, interleaved.
    for step in range(10):
        (stock if step % 2 else oxide).log_metric(run_ids[0], "interleaved", step, step=step)
    history = stock.get_metric_history(run_ids[0], "interleaved")
    assert sorted(m.step for m in history) == list(range(10))
    assert_same_view(stock, oxide, [exp_id], [model])
    assert integrity_check(db_path) == "ok"
    assert sql(db_path, "PRAGMA journal_mode")[0][0] == "wal"


def _items(tags):
    if isinstance(tags, dict):
        return [{"key": k, "value": v} for k, v in tags.items()]
    return tags


def test_file_created_by_oxide_opens_with_stock(db_path):
    assert not db_path.exists()
    oxide = client_for(oxide_uri(db_path))
    exp_id = oxide.create_experiment("made-by-oxide")
    run = oxide.create_run(exp_id, run_name="r")
    oxide.log_metric(run.info.run_id, "m", 1.5, step=3)
    assert db_path.exists()
    assert_accelerated(oxide)

    # The schema is MLflow's own: alembic head + the tables stock code creates.
    tables = {r[0] for r in sql(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"experiments", "runs", "metrics", "latest_metrics", "params", "tags"} <= tables
    assert {"registered_models", "model_versions", "alembic_version"} <= tables

    stock = client_for(stock_uri(db_path))
    got = stock.get_run(run.info.run_id)
    assert got.data.metrics == {"m": 1.5}
    assert got.info.run_name == "r"
    assert sorted_run_dict(got) == sorted_run_dict(oxide.get_run(run.info.run_id))
    assert integrity_check(db_path) == "ok"


UNINSTALLED_READER = """
import json, sys
sys.modules["mlflow_oxide"] = None  # as if the package were uninstalled
from mlflow import MlflowClient
from mlflow.entities import ViewType
uri = sys.argv[1]
c = MlflowClient(tracking_uri=uri, registry_uri=uri)
exp_ids = [e.experiment_id for e in c.search_experiments(view_type=ViewType.ALL)]
out = {}
for r in c.search_runs(exp_ids, run_view_type=ViewType.ALL, max_results=1000):
    full = c.get_run(r.info.run_id)
    out[r.info.run_id] = {
        "info": [full.info.run_name, full.info.status, full.info.lifecycle_stage,
                 full.info.start_time, full.info.end_time, full.info.artifact_uri],
        "metrics": full.data.metrics, "params": full.data.params, "tags": full.data.tags,
        "history": {k: sorted([m.step, m.value, m.timestamp]
                    for m in c.get_metric_history(r.info.run_id, k)) for k in full.data.metrics},
    }
models = {m.name: {"aliases": {k: str(v) for k, v in m.aliases.items()}, "versions": sorted(
    [str(v.version), v.run_id, v.source] for v in c.search_model_versions(f"name = '{m.name}'"))}
    for m in c.search_registered_models()}
print(json.dumps({"runs": out, "models": models}))
"""


def test_uninstalling_loses_nothing(db_path):
    oxide = client_for(oxide_uri(db_path))
    exp_id, run_ids = write_tracking_data(oxide, "oxide", n_runs=4)
    model = write_registry_data(oxide, "oxide", run_ids)
    modify(oxide, exp_id, run_ids, model, "oxide")

    expected = {}
    for r in oxide.search_runs([exp_id], run_view_type=ViewType.ALL, max_results=1000):
        full = oxide.get_run(r.info.run_id)
        expected[r.info.run_id] = {
            "info": [
                full.info.run_name,
                full.info.status,
                full.info.lifecycle_stage,
                full.info.start_time,
                full.info.end_time,
                full.info.artifact_uri,
            ],
            "metrics": full.data.metrics,
            "params": full.data.params,
            "tags": full.data.tags,
            "history": {
                k: sorted(
                    [m.step, m.value, m.timestamp]
                    for m in oxide.get_metric_history(r.info.run_id, k)
                )
                for k in full.data.metrics
            },
        }
    assert len(expected) == 5

    result = run_python(UNINSTALLED_READER, stock_uri(db_path))
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["runs"] == expected
    assert seen["models"][model]["aliases"] == {"champion": "3"}
    assert [v[0] for v in seen["models"][model]["versions"]] == ["1", "2", "3"]
    assert integrity_check(db_path) == "ok"
