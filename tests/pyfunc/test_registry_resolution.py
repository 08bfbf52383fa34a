"""``models:/`` resolution against stock on a registry with history: several versions, stage
transitions, deleted versions, moved and orphaned aliases, names with spaces and accents,
versions registered from ``runs:/`` and from a plain artifact URI, odd spellings of versions and
stages, and a registry URI that is not the tracking URI. On ``sqlite`` and ``oxide+sqlite``."""

from __future__ import annotations

import uuid
import warnings

import pytest

from tests.conftest import new_db
from tests.pyfunc.conftest import (
    REGISTERED,
    assert_same_model,
    assert_same_value,
    build_registry,
    close_registry,
    load_ours,
    load_stock,
    outcome,
)

SPECIAL = "modèle spécial 1"


@pytest.fixture(scope="module", params=["sqlite", "oxide+sqlite"])
def history(request, migrated_db_template, fitted, tmp_path_factory):
    """``multi``: v1 lr (Production), v2 rf (Staging, alias ``champion`` moved here from v1),
    v3 lr (Staging, alias ``old``, then deleted), v4 rf (Archived); ``SPECIAL``: v1 custom;
    ``from-runs``: v1 registered from ``runs:/``; ``from-uri``: v1 from the artifact URI."""
    import mlflow
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("history-" + request.param.replace("+", "-"))
    reg = build_registry(
        migrated_db_template, root, request.param, (root / "artifacts").as_uri(), fitted
    )
    client = MlflowClient()
    kinds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for version, kind in enumerate(["lr", "rf", "lr", "rf"], start=1):
            mlflow.register_model(f"models:/{reg.models[kind].model_id}", "multi")
            kinds[("multi", str(version))] = kind
        client.transition_model_version_stage("multi", "1", "Production")
        client.transition_model_version_stage("multi", "2", "Staging")
        client.transition_model_version_stage("multi", "3", "Staging")
        client.transition_model_version_stage("multi", "4", "Archived")
        client.set_registered_model_alias("multi", "champion", "1")
        client.set_registered_model_alias("multi", "champion", "2")
        client.set_registered_model_alias("multi", "old", "3")
        client.delete_model_version("multi", "3")
        mlflow.register_model(f"models:/{reg.models['custom'].model_id}", SPECIAL)
        client.set_registered_model_alias(SPECIAL, "Prod_2-x", "1")
        mlflow.register_model(f"runs:/{reg.run_id}/rf", "from-runs")
        client.create_registered_model("from-uri")
        client.create_model_version(
            "from-uri", reg.models["lr"].artifact_location, run_id=reg.run_id
        )
    reg.kinds = kinds
    yield reg
    close_registry()


@pytest.fixture
def registry(history):
    history.activate()
    return history


URIS = [
    "models:/multi/1",
    "models:/multi/2",
    "models:/multi/4",
    "models:/multi/3",
    "models:/multi/01",
    "models:/multi/latest",
    "models:/multi/Production",
    "models:/multi/production",
    "models:/multi/PRODUCTION",
    "models:/multi/Staging",
    "models:/multi/staging",
    "models:/multi/Archived",
    "models:/multi/None",
    "models:/multi@champion",
    "models:/multi@old",
    "models:/multi@CHAMPION",
    f"models:/{SPECIAL}/1",
    f"models:/{SPECIAL}@Prod_2-x",
    f"models:/{SPECIAL}/latest",
    "models:/from-runs/1",
    "models:/from-uri/1",
    "models:/from-uri/latest",
    "models:/Multi/1",
    "models:/multi/1/",
    "models:/multi/1/MLmodel",
    "models:/multi@",
    "models:/multi/",
    f"models:/{REGISTERED['lr']}/Staging",
]


@pytest.mark.parametrize("uri", URIS)
def test_models_uri_parity(registry, fitted, model_cache, uri):
    stock = outcome(load_stock, uri)
    ours = outcome(load_ours, uri)
    assert ours[0] == stock[0], f"ours: {ours}\nstock: {stock}"
    if stock[0] == "error":
        assert ours[1] == stock[1]
        return
    assert_same_model(ours[1], stock[1])
    data = fitted.X.iloc[::9]
    if SPECIAL in uri:
        import pandas as pd

        data = pd.DataFrame({"x": [1.0, 2.0]})
    assert_same_value(ours[1].predict(data), stock[1].predict(data))


def test_registry_uri_separate_from_tracking_uri(
    registry, migrated_db_template, tmp_path, monkeypatch, fitted
):
    """The models live in the registry database; the tracking database is empty."""
    import mlflow

    empty = new_db(migrated_db_template, tmp_path / "empty.db")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", registry.uri)
    mlflow.set_tracking_uri(f"{registry.backend}:///{empty}")
    try:
        for uri in ("models:/multi@champion", "models:/multi/1"):
            stock = load_stock(uri)
            ours = load_ours(uri)
            assert_same_model(ours, stock)
    finally:
        registry.activate()


def test_alias_moved_after_first_load(registry, fitted):
    """Resolution happens on every load: moving the alias changes what the next load gets."""
    from mlflow import MlflowClient

    name = f"moving-{uuid.uuid4().hex[:6]}"
    import mlflow

    for kind in ("lr", "rf"):
        mlflow.register_model(f"models:/{registry.models[kind].model_id}", name)
    client = MlflowClient()
    client.set_registered_model_alias(name, "live", "1")
    first = load_ours(f"models:/{name}@live")
    client.set_registered_model_alias(name, "live", "2")
    stock = load_stock(f"models:/{name}@live")
    ours = load_ours(f"models:/{name}@live")
    assert_same_model(ours, stock)
    assert ours.metadata.model_id == registry.models["rf"].model_id
    assert first.metadata.model_id == registry.models["lr"].model_id
