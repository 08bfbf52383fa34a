"""``log_drift`` on a temporary sqlite tracking store (a copy of the migrated template), read back
with ``MlflowClient``: metrics, run and model-version tags, and the HTML/JSON artifacts."""

from __future__ import annotations

import hashlib
import html.parser
import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.utils.validation import _validate_metric_name
from mlflow_oxide.drift import BaselineProfile, drift_report, log_drift

from tests.conftest import new_db, release_tracking

TAG = "mlflow_oxide.drift."


@pytest.fixture
def tracking(migrated_db_template, tmp_path, tracking_uri, monkeypatch):
    """A fresh sqlite tracking store, which is also the model registry (no registry URI set),
    with an experiment of its own; yields a client on it."""
    from mlflow.tracking._model_registry import utils as registry_utils

    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    db = new_db(migrated_db_template, tmp_path / "mlflow.db")
    uri = f"sqlite:///{db}"
    tracking_uri(uri)
    assert mlflow.get_registry_uri() == uri
    exp = mlflow.create_experiment("drift", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp)
    try:
        yield MlflowClient(tracking_uri=uri, registry_uri=uri)
    finally:
        release_tracking()


@pytest.fixture
def model_version(tracking):
    """A registered model with one version (a dummy source: nothing is loaded from it)."""
    run = tracking.create_run(mlflow.get_experiment_by_name("drift").experiment_id)
    tracking.set_terminated(run.info.run_id)
    tracking.create_registered_model("churn")
    mv = tracking.create_model_version(
        "churn", source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return mv.name, mv.version


def frames(seed: int = 0):
    rng = np.random.default_rng(seed)
    n, m = 600, 400
    reference = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 1, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "active": rng.random(n) < 0.7,
            "mismatch": rng.normal(size=n),
            "all_null": np.full(n, np.nan),
        }
    )
    current = pd.DataFrame(
        {
            "age": rng.normal(45, 10, m),
            "income": rng.lognormal(10, 1, m),
            "plan": rng.choice(["basic", "plus", "pro", "max"], m),
            "active": rng.random(m) < 0.5,
            "mismatch": rng.choice(["a", "b"], m),
            "all_null": rng.normal(size=m),
        }
    )
    current.loc[::7, "age"] = np.nan
    return reference, current


class _Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = 0
        self.cells: list[str] = []
        self.headings: list[str] = []
        self.ids: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svgs += 1
        if tag in ("td", "h3"):
            self._in = tag
            (self.cells if tag == "td" else self.headings).append("")
        if tag == "div" and dict(attrs).get("class") == "column":
            self.ids.append(dict(attrs)["id"])

    def handle_endtag(self, tag):
        if tag in ("td", "h3"):
            self._in = None

    def handle_data(self, data):
        if self._in == "td":
            self.cells[-1] += data
        elif self._in == "h3":
            self.headings[-1] += data


def parse_html(text: str) -> _Html:
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser


def read_artifact(client: MlflowClient, run_id: str, path: str, dst) -> str:
    local = client.download_artifacts(run_id, path, str(dst))
    with open(local, encoding="utf-8") as f:
        return f.read()


def metric_history(client, run_id):
    return {m.key: m for m in client.get_run(run_id).data._metric_objs}


def test_log_drift_with_model_version(tracking, model_version, tmp_path):
    name, version = model_version
    reference, current = frames()
    report = drift_report(reference, current)
    assert [c.column for c in report.tested] == ["age", "income", "plan", "active"]

    run_id = log_drift(report, model_name=name, model_version=version, step=3)
    run = tracking.get_run(run_id)

    metrics = metric_history(tracking, run_id)
    expected = {}
    for c in report.tested:
        expected[f"drift.{c.column}.{c.test}"] = c.score
        expected[f"drift.{c.column}.drifted"] = float(c.drifted)
        expected[f"drift.{c.column}.current_null_share"] = c.current_null_share
    summary = report.summary()
    expected["drift.dataset.drifted_share"] = summary["drifted_share"]
    expected["drift.dataset.drifted_columns"] = float(summary["drifted"])
    expected["drift.dataset.drift"] = float(summary["dataset_drift"])
    assert {k: m.value for k, m in metrics.items()} == expected
    assert {m.step for m in metrics.values()} == {3}
    assert expected["drift.age.current_null_share"] == pytest.approx(current["age"].isna().mean())
    assert expected["drift.age.ks"] == report["age"].p_value
    # untestable columns log nothing
    assert not [k for k in metrics if k.startswith(("drift.mismatch.", "drift.all_null."))]

    tags = run.data.tags
    assert tags[TAG + "model_name"] == name
    assert tags[TAG + "model_version"] == str(version)
    assert tags[TAG + "dataset_drift"] == str(report.dataset_drift).lower()
    assert tags[TAG + "reference"] == "table"
    mv = tracking.get_model_version(name, version)
    assert mv.tags[TAG + "run_id"] == run_id
    assert mv.tags[TAG + "dataset_drift"] == str(report.dataset_drift).lower()

    artifacts = sorted(a.path for a in tracking.list_artifacts(run_id, "drift"))
    assert artifacts == ["drift/drift_report.html", "drift/drift_report.json"]

    page = read_artifact(tracking, run_id, "drift/drift_report.html", tmp_path)
    parsed = parse_html(page)
    for c in report:
        assert c.column in parsed.cells, c.column
        assert c.status in parsed.cells
    assert parsed.svgs == len(report.tested) == 4
    assert parsed.ids == [f"column-{c.column}" for c in report.tested]
    assert f"{name} version {version}" in page and run_id in page
    assert ("Dataset drift detected" in page) is report.dataset_drift

    data = json.loads(read_artifact(tracking, run_id, "drift/drift_report.json", tmp_path))
    assert data["summary"] == summary
    assert data["columns"] == json.loads(json.dumps(report.to_records(), default=str))
    assert [c["column"] for c in data["columns"]] == [c.column for c in report]


def test_log_drift_to_active_explicit_and_new_runs(tracking):
    reference, current = frames(1)
    report = drift_report(reference, current, columns=["age", "plan"])
    # no active run: one is started (and left active, like mlflow.log_metric)
    run_id = log_drift(report)
    assert mlflow.active_run().info.run_id == run_id
    mlflow.end_run()
    with mlflow.start_run() as active:
        assert log_drift(report, artifact_path="checks/drift") == active.info.run_id
    assert [a.path for a in tracking.list_artifacts(active.info.run_id, "checks/drift")] == [
        "checks/drift/drift_report.html",
        "checks/drift/drift_report.json",
    ]
    explicit = tracking.create_run(mlflow.get_experiment_by_name("drift").experiment_id)
    assert log_drift(report, run_id=explicit.info.run_id) == explicit.info.run_id
    assert mlflow.active_run() is None
    run = tracking.get_run(explicit.info.run_id)
    assert run.data.metrics[f"drift.age.{report['age'].test}"] == report["age"].score
    assert TAG + "model_name" not in run.data.tags
    # a second report at another step keeps the history
    log_drift(report, run_id=explicit.info.run_id, step=1)
    history = tracking.get_metric_history(explicit.info.run_id, "drift.dataset.drifted_share")
    assert sorted(m.step for m in history) == [0, 1]


def test_log_drift_profile_reference(tracking):
    reference, current = frames(2)
    report = drift_report(BaselineProfile.from_table(reference), current)
    with mlflow.start_run() as run:
        log_drift(report, title="Nightly <check>")
    tags = tracking.get_run(run.info.run_id).data.tags
    assert tags[TAG + "reference"] == "profile"


def _code(exc: MlflowException) -> str:
    return exc.error_code


def test_unknown_model_version(tracking, model_version):
    name, version = model_version
    reference, current = frames()
    report = drift_report(reference, current)
    for model, v in ((name, int(version) + 1), ("no-such-model", 1)):
        with pytest.raises(MlflowException) as err:
            log_drift(report, model_name=model, model_version=v)
        assert _code(err.value) == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
    assert mlflow.active_run() is None  # nothing started


def test_model_name_without_version_and_vice_versa(tracking, model_version):
    name, version = model_version
    reference, current = frames()
    report = drift_report(reference, current)
    for kwargs in ({"model_name": name}, {"model_version": version}):
        with pytest.raises(MlflowException) as err:
            log_drift(report, **kwargs)
        assert _code(err.value) == ErrorCode.Name(INVALID_PARAMETER_VALUE)
    assert mlflow.active_run() is None
    assert tracking.get_model_version(name, version).tags == {}


def _pair(names, seed=3):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({n: rng.normal(size=200) for n in names})
    current = pd.DataFrame({n: rng.normal(0.5 * (i % 2), 1, size=150) for i, n in enumerate(names)})
    return reference, current


def _column_keys(report, metrics) -> dict[str, set[str]]:
    """Metric keys per column, found through the score each column logged."""
    out = {}
    for c in report.tested:
        keys = {k for k in metrics if k.endswith(f".{c.test}") and metrics[k] == c.score}
        out[c.column] = keys
    return out


def test_unsafe_characters_in_column_names_are_sanitized(tracking, tmp_path):
    names = ["price ($)", "ratio%", "naïve", "a:b", "<b>&amp;", "(x)*y", "tab\tname", "ok_1-2.3 /4"]
    reference, current = _pair(names)
    report = drift_report(reference, current)
    assert len(report.tested) == len(names)
    run_id = log_drift(report)
    metrics = tracking.get_run(run_id).data.metrics
    for key in metrics:
        _validate_metric_name(key)  # every logged key is one MLflow accepts
    keys = _column_keys(report, metrics)
    for name in names:
        assert len(keys[name]) == 1, (name, keys[name])

    # Refused characters (and "/", which makes keys paths) become "_", plus a hash of the name.
    def digest(name):
        return hashlib.sha1(name.encode()).hexdigest()[:8]

    assert keys["ok_1-2.3 /4"] == {f"drift.ok_1-2.3 _4_{digest('ok_1-2.3 /4')}.ks"}
    assert keys["price ($)"] == {f"drift.price ____{digest('price ($)')}.ks"}
    assert len(metrics) == 3 * len(names) + 3
    # the HTML report shows the names as they are (escaped, not interpreted)
    page = read_artifact(tracking, run_id, "drift/drift_report.html", tmp_path)
    parsed = parse_html(page)
    for name in names:
        assert name in parsed.cells
    assert parsed.svgs == len(names)


@pytest.mark.parametrize(
    "name", ["a//b", "x/../y", "z" * 260], ids=["double-slash", "dotdot", "long"]
)
def test_path_like_and_long_column_names(tracking, name):
    """Names MLflow refuses as metric keys for other reasons than their characters: keys that
    normalize to another path (``//``, ``/../``) and keys over 250 characters."""
    reference, current = _pair([name, "other"])
    report = drift_report(reference, current)
    run_id = log_drift(report)
    metrics = tracking.get_run(run_id).data.metrics
    for key in metrics:
        _validate_metric_name(key)
    keys = _column_keys(report, metrics)
    assert len(keys[name]) == 1, keys[name]
    assert keys["other"] == {"drift.other.ks"}


def test_sanitized_names_stay_distinct(tracking):
    """Two columns whose names differ only in replaced characters must not share metric keys
    (the second would silently overwrite the first)."""
    names = ["price ($)", "price (€)"]
    reference, current = _pair(names)
    report = drift_report(reference, current)
    assert report[names[0]].score != report[names[1]].score
    run_id = log_drift(report)
    metrics = tracking.get_run(run_id).data.metrics
    keys = _column_keys(report, metrics)
    assert keys[names[0]] and keys[names[1]]
    assert keys[names[0]].isdisjoint(keys[names[1]]), keys
    assert len(metrics) == 3 * len(names) + 3
