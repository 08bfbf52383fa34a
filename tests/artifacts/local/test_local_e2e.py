"""End to end through MLflow with a sqlite tracking store and its default local artifact root
(``./mlruns`` of the working directory): an sklearn model logged, loaded back and downloaded,
with ours and with MLflow's own repository (``MLFLOW_OXIDE_ARTIFACTS=0``) compared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mlflow_oxide import _native

from tests.artifacts.local.conftest import outcome, partials, snapshot
from tests.conftest import new_db, release_tracking


@pytest.fixture
def tracking(migrated_db_template, tmp_path, monkeypatch, tracking_uri) -> Path:
    """A temporary sqlite tracking store, run from ``tmp_path`` (where ``./mlruns`` lands)."""
    monkeypatch.chdir(tmp_path)
    db = new_db(migrated_db_template, tmp_path / "x.db")
    tracking_uri(f"sqlite:///{db}")
    try:
        yield tmp_path
    finally:
        release_tracking()


@pytest.fixture
def native_copies(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = _native.copy_files

    def counted(files, *args, **kwargs):
        calls.append(len(files))
        return real(files, *args, **kwargs)

    monkeypatch.setattr(_native, "copy_files", counted)
    return calls


def _files(base: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the regular files under ``base``."""
    return {k: v[3] for k, v in snapshot(base).items() if v[0] == "file"}


def _round_trip(side: str, base: Path, X, y, model) -> dict:
    import mlflow

    extra = base / "extra"
    (extra / "sub dir").mkdir(parents=True)
    (extra / "notes.txt").write_text("notes")
    (extra / "sub dir" / "ünï.json").write_text('{"k": 1}')
    with mlflow.start_run(run_name=side) as run:
        info = mlflow.sklearn.log_model(
            model, name="model", pip_requirements=["scikit-learn", "numpy"]
        )
        mlflow.log_dict({"classes": 3}, "meta/info.json")
        mlflow.log_artifacts(str(extra), "extra")
    assert Path(run.info.artifact_uri).is_relative_to(base.parent / "mlruns"), run.info
    predictions = mlflow.pyfunc.load_model(info.model_uri).predict(X)

    run_dst = base / "run download"
    run_dst.mkdir()
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(run_dst))
    assert Path(local) == run_dst
    model_dst = base / "model download"
    model_dst.mkdir()
    model_local = mlflow.artifacts.download_artifacts(
        artifact_uri=info.model_uri, dst_path=str(model_dst)
    )
    reloaded = mlflow.pyfunc.load_model(model_local).predict(X)
    return {
        "predictions": predictions.tolist(),
        "reloaded": reloaded.tolist(),
        "run": _files(run_dst),
        "model": sorted(_files(model_dst)),
        "model_local": os.path.relpath(model_local, model_dst),
        "info": json.loads((run_dst / "meta" / "info.json").read_text()),
    }


def test_sklearn_model_round_trip(tracking, monkeypatch, native_copies):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    expected = model.predict(X).tolist()

    ours = _round_trip("ours", tracking / "ours", X, y, model)
    ours_native = list(native_copies)
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", "0")
    stock = _round_trip("stock", tracking / "stock", X, y, model)

    assert ours["predictions"] == ours["reloaded"] == expected
    assert ours == stock
    assert {"meta/info.json", "extra/notes.txt", "extra/sub dir/ünï.json"} <= set(ours["run"])
    assert {"MLmodel", "model.skops", "requirements.txt"} <= set(ours["model"])
    # Logging (the model's directory, the extra tree) went through the native copy (downloads
    # are MLflow's own); none after it was turned off.
    assert len(ours_native) >= 2 and native_copies == ours_native, native_copies
    assert partials(tracking) == []


def test_download_run_without_artifacts(tracking, monkeypatch):
    """A run that logged no artifact (or only a model: MLflow 3 keeps models outside the run's
    directory) has no artifact directory: stock downloads it as nothing into ``dst_path`` and
    returns ``dst_path``."""
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    results = {}
    for side, setting in (("stock", "0"), ("ours", "1")):
        monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", setting)
        dst = tracking / "dst"
        dst.mkdir(exist_ok=True)
        results[side] = outcome(
            lambda dst=dst: mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, dst_path=str(dst)
            )
        )
    assert results["stock"] == ("ok", str(tracking / "dst"))
    assert results["ours"] == results["stock"]
