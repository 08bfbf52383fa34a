"""``oxide+sqlite://`` URI parsing and store resolution through MLflow's entry points."""

from __future__ import annotations

import os

import pytest
from mlflow.exceptions import MlflowException
from mlflow_oxide import _uri


def test_relative_path_has_three_slashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parsed = _uri.parse("oxide+sqlite:///sub/x.db")
    assert parsed.path == str(tmp_path / "sub" / "x.db")
    assert parsed.sqlalchemy_uri == f"sqlite:///{tmp_path / 'sub' / 'x.db'}"


def test_absolute_path_has_four_slashes(tmp_path):
    parsed = _uri.parse(f"oxide+sqlite:///{tmp_path}/x.db")
    assert parsed.path == str(tmp_path / "x.db")
    assert parsed.sqlalchemy_uri == f"sqlite:///{tmp_path}/x.db"
    assert parsed.sqlalchemy_uri.startswith("sqlite:////")


def test_sqlalchemy_uri_opens_the_same_file_as_stock(tmp_path, monkeypatch):
    """The translated URI points where stock ``sqlite:///`` with the same path would."""
    from sqlalchemy.engine import make_url

    monkeypatch.chdir(tmp_path)
    for uri in ("oxide+sqlite:///rel.db", f"oxide+sqlite:///{tmp_path}/abs.db"):
        stock_uri = uri.replace("oxide+sqlite", "sqlite")
        ours = make_url(_uri.parse(uri).sqlalchemy_uri).database
        assert os.path.abspath(ours) == os.path.abspath(make_url(stock_uri).database)


def test_defaults(tmp_path):
    parsed = _uri.parse(f"oxide+sqlite:///{tmp_path}/x.db")
    assert (parsed.synchronous, parsed.busy_timeout_ms, parsed.fast_path) == ("normal", 60000, True)


@pytest.mark.parametrize("value", ["off", "normal", "full", "extra", "FULL"])
def test_synchronous_option(tmp_path, value):
    parsed = _uri.parse(f"oxide+sqlite:///{tmp_path}/x.db?synchronous={value}")
    assert parsed.synchronous == value.lower()
    assert parsed.sqlalchemy_uri == f"sqlite:///{tmp_path}/x.db"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", False), ("false", False), ("off", False), ("no", False), ("1", True), ("true", True)],
)
def test_fast_path_option(tmp_path, value, expected):
    assert _uri.parse(f"oxide+sqlite:///{tmp_path}/x.db?fast_path={value}").fast_path is expected


def test_busy_timeout_and_passthrough_options(tmp_path):
    parsed = _uri.parse(f"oxide+sqlite:///{tmp_path}/x.db?busy_timeout_ms=250&timeout=3")
    assert parsed.busy_timeout_ms == 250
    assert parsed.sqlalchemy_uri == f"sqlite:///{tmp_path}/x.db?timeout=3"


@pytest.mark.parametrize(
    "uri",
    [
        "oxide+sqlite:///x.db?synchronous=sometimes",
        "oxide+sqlite:///x.db?busy_timeout_ms=soon",
        "oxide+sqlite:///x.db?busy_timeout_ms=",
        "oxide+sqlite://host/x.db",
        "oxide+sqlite://host:5/x.db",
        "oxide+sqlite://",
        "oxide+sqlite:///",
        "oxide+sqlite:///:memory:",
        "sqlite:///x.db",
        "oxide+postgres:///x.db",
    ],
)
def test_bad_uris(uri):
    with pytest.raises(MlflowException) as info:
        _uri.parse(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_bad_option_raises_from_store_constructor(tmp_path):
    from mlflow_oxide.tracking import OxideSqliteStore

    with pytest.raises(MlflowException) as info:
        OxideSqliteStore(f"oxide+sqlite:///{tmp_path}/x.db?synchronous=bad", str(tmp_path))
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_tracking_uri_resolves_to_oxide_store(tmp_path, monkeypatch, tracking_uri):
    from mlflow.tracking._tracking_service.utils import _get_store
    from mlflow_oxide.tracking import OxideSqliteStore

    monkeypatch.chdir(tmp_path)
    tracking_uri("oxide+sqlite:///x.db")
    store = _get_store()
    assert type(store) is OxideSqliteStore
    assert store._db_path == str(tmp_path / "x.db")
    assert store._fast_enabled
    assert store.get_experiment("0").name == "Default"
    assert (tmp_path / "x.db").exists()


def test_registry_uri_follows_tracking_uri(tmp_path, monkeypatch, tracking_uri):
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.tracking._model_registry.utils import _get_store

    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracking_uri("oxide+sqlite:///reg.db")
    store = _get_store()
    assert isinstance(store, RegistryStore)
    assert store.db_uri == f"sqlite:///{tmp_path / 'reg.db'}"
    store.create_registered_model("model")
    assert [m.name for m in store.search_registered_models()] == ["model"]


def test_end_to_end_through_fluent_api(tmp_path, monkeypatch, tracking_uri):
    import mlflow

    monkeypatch.chdir(tmp_path)
    tracking_uri(f"oxide+sqlite:///{tmp_path}/fluent.db")
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_metric("m", 1.5, step=2)
        mlflow.log_param("p", "v")
        mlflow.set_tag("t", "x")
    fetched = mlflow.get_run(run.info.run_id)
    assert (fetched.data.metrics, fetched.data.params, fetched.info.run_name) == (
        {"m": 1.5},
        {"p": "v"},
        "fluent",
    )
    assert fetched.data.tags["t"] == "x"
    assert fetched.info.status == "FINISHED"
