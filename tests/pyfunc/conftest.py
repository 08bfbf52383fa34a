"""Shared fixtures of the model loader suite (``mlflow_oxide.pyfunc``).

Every parity check runs the same scenario on stock MLflow (``mlflow.pyfunc.load_model``, with
``MLFLOW_OXIDE_ARTIFACTS=0`` so MLflow's own artifact repositories serve it) and on ours, and
compares the results: predictions with numpy/pandas testing functions, failures as exception
type, ``error_code``, message and MLflow's JSON form.

Fitted models, saved model directories, tracking databases with logged and registered models,
and a ``moto_server`` for S3 are built once and shared. The repository-wide autouse fixture that
disposes SQLAlchemy engines after every test is a no-op here (hundreds of schema cases would pay
~0.1 s each); the fixtures that open tracking stores release them on teardown."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.artifacts.s3.conftest import (
    MotoServer,
    apply_s3_environment,
    make_s3_client,
    start_moto,
)
from tests.conftest import new_db, release_tracking

PIP_OK = ["mlflow", "scikit-learn", "pandas"]  # unpinned: satisfied, no mismatch warning
RF_TRUSTED = ["sklearn.tree._tree.Tree"]
LOG_ROOTS = ("mlflow", "mlflow_oxide")


@pytest.fixture(autouse=True)
def _release_databases():
    yield


@pytest.fixture(scope="session")
def default_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("default-model-cache")


@pytest.fixture(autouse=True)
def _environment(monkeypatch, default_cache):
    """No host setting changes the path under test; the model cache never lands in $HOME."""
    for name in list(os.environ):
        if name.startswith("MLFLOW_OXIDE_"):
            monkeypatch.delenv(name)
    for name in ("MLFLOW_PYFUNC_INFERENCE_CONFIG", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_OXIDE_MODEL_CACHE", str(default_cache))


@pytest.fixture
def model_cache(tmp_path, monkeypatch) -> Path:
    """A cache root of this test's own (not created: the loader makes it)."""
    root = tmp_path / "model-cache"
    monkeypatch.setenv("MLFLOW_OXIDE_MODEL_CACHE", str(root))
    return root


# --- the two sides ---------------------------------------------------------------------------


@contextlib.contextmanager
def stock_side():
    """MLflow's own artifact repositories for everything inside (not ours)."""
    old = os.environ.get("MLFLOW_OXIDE_ARTIFACTS")
    os.environ["MLFLOW_OXIDE_ARTIFACTS"] = "0"
    try:
        yield
    finally:
        if old is None:
            del os.environ["MLFLOW_OXIDE_ARTIFACTS"]
        else:
            os.environ["MLFLOW_OXIDE_ARTIFACTS"] = old


def load_stock(uri, **kwargs):
    import mlflow.pyfunc

    with stock_side():
        return mlflow.pyfunc.load_model(str(uri), **kwargs)


def load_stock_loader(uri, **kwargs):
    """MLflow's loader on mlflow-oxide's artifact repositories (what a user with the package
    installed gets from ``mlflow.pyfunc.load_model``): isolates the loader from the artifact
    layer when comparing errors the artifact layer raises."""
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(str(uri), **kwargs)


def load_ours(uri, **kwargs):
    from mlflow_oxide.pyfunc import load_model

    return load_model(str(uri), **kwargs)


def describe_error(exc: BaseException) -> dict:
    out = {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "error_code": getattr(exc, "error_code", None),
        "message": str(exc),
    }
    if hasattr(exc, "serialize_as_json"):
        out["json"] = exc.serialize_as_json()
    return out


def outcome(fn, *args, **kwargs):
    """``("ok", result)`` or ``("error", describe_error(exc))``."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:
        return ("error", describe_error(exc))


class LogCapture(logging.Handler):
    """Records of MLflow's and our loggers (MLflow's logger does not propagate to the root, so
    pytest's caplog would not see them)."""

    def __init__(self, level=logging.WARNING):
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def messages(self, logger: str | None = None) -> list[tuple[str, str, str]]:
        return [
            (r.levelname, r.name, r.getMessage())
            for r in self.records
            if logger is None or r.name == logger
        ]

    def texts(self) -> list[tuple[str, str]]:
        return [(r.levelname, r.getMessage()) for r in self.records]


@contextlib.contextmanager
def capture_logs(level=logging.WARNING):
    handler = LogCapture(level)
    loggers = [logging.getLogger(name) for name in LOG_ROOTS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    handler.warnings = [(w.category.__name__, str(w.message)) for w in caught]


def typed(obj):
    """``obj`` as nested tuples tagged with each value's type, so ``True`` differs from ``1``,
    ``1.0`` from ``1``, a date from a string, and NaN equals NaN."""
    if isinstance(obj, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in obj.items()])
    if isinstance(obj, (set, frozenset)):
        return (type(obj).__name__, sorted((typed(x) for x in obj), key=repr))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [typed(x) for x in obj])
    if isinstance(obj, float) and obj != obj:
        return ("float", "nan")
    return (f"{type(obj).__module__}.{type(obj).__qualname__}", obj)


def model_facts(model) -> dict:
    """What a caller sees of a loaded PyFuncModel, as comparable data."""
    meta = model.metadata
    example = model.input_example
    return {
        "metadata": typed(meta.to_dict()),
        "metadata_attributes": sorted(vars(meta)),
        "signature": typed(meta.signature.to_dict()) if meta.signature is not None else None,
        "input_schema": repr(meta.get_input_schema()),
        "params_schema": repr(meta.get_params_schema()),
        "model_config": typed(model.model_config),
        "model_id": model.model_id,
        "metadata_model_id": meta.model_id,
        "loader_module": model.loader_module,
        "impl_type": type(model._model_impl).__qualname__,
        "repr": repr(model),
        "input_example_type": type(example).__name__,
        "input_example": example,
    }


def assert_same_value(actual, expected, what: str = "value") -> None:
    """Equal and of the same type; frames/series/arrays with pandas/numpy testing functions."""
    assert type(actual) is type(expected), f"{what}: {type(actual)} != {type(expected)}"
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, expected, check_exact=True, check_flags=True)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(actual, expected, check_exact=True)
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{what}: {actual.dtype} != {expected.dtype}"
        np.testing.assert_array_equal(actual, expected)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), what
        for key in expected:
            assert_same_value(actual[key], expected[key], f"{what}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_value(a, e, f"{what}[{i}]")
    else:
        assert actual == expected, what


def assert_same_model(ours, stock) -> None:
    import mlflow.pyfunc
    from mlflow_oxide.pyfunc import OxidePyFuncModel

    assert isinstance(ours, mlflow.pyfunc.PyFuncModel)
    assert isinstance(ours, OxidePyFuncModel)
    a, b = model_facts(ours), model_facts(stock)
    ex_a, ex_b = a.pop("input_example"), b.pop("input_example")
    assert a == b
    if ex_b is None:
        assert ex_a is None
    else:
        assert_same_value(ex_a, ex_b, "input_example")


def same_outcome(ours, stock) -> None:
    """Compare two ``outcome`` results."""
    assert ours[0] == stock[0], f"ours: {ours}\nstock: {stock}"
    if stock[0] == "error":
        assert ours[1] == stock[1]
    else:
        assert_same_value(ours[1], stock[1], "result")


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(1 << 20):
            digest.update(data)
    return digest.hexdigest()


def tree_files(root: Path | str) -> dict[str, str]:
    """``{relative posix path: sha256}`` of the regular files below ``root``."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# --- data and fitted models ------------------------------------------------------------------


@dataclass
class Fitted:
    X: pd.DataFrame
    y: pd.Series
    lr: object
    rf: object


@pytest.fixture(scope="session")
def fitted() -> Fitted:
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    lr = LogisticRegression(max_iter=500).fit(X, y)
    rf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    return Fitted(X, y, lr, rf)


def custom_signature():
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(inputs=Schema([ColSpec("double", "x")]))


CUSTOM_CONFIG = {"scale": 2.0, "tag": "saved"}
NOTES = "notes of the custom model\n"


def notes_file(root: Path, text: str = NOTES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "notes.txt"
    path.write_text(text, encoding="utf-8")
    return path


def model_kwargs(kind: str, fitted: Fitted, scratch: Path) -> tuple[str, dict]:
    """(flavor, keyword arguments of ``save_model``/``log_model``) of the suite's models:
    ``lr`` (signature + input example), ``rf`` (skops, trusted tree type), ``custom``
    (PythonModel with model_config and a file artifact), ``nosig`` (no signature, no example),
    ``deps`` (requirements pin a scikit-learn version that is not installed)."""
    from mlflow.models import infer_signature

    from tests.pyfunc._models import Configured

    X = fitted.X
    if kind == "lr":
        sig = infer_signature(X, fitted.lr.predict(X))
        return "sklearn", dict(
            sk_model=fitted.lr, signature=sig, input_example=X.iloc[:5], pip_requirements=PIP_OK
        )
    if kind == "rf":
        sig = infer_signature(X, fitted.rf.predict(X))
        return "sklearn", dict(
            sk_model=fitted.rf,
            signature=sig,
            skops_trusted_types=RF_TRUSTED,
            pip_requirements=PIP_OK,
        )
    if kind == "custom":
        return "pyfunc", dict(
            python_model=Configured(),
            artifacts={"notes": str(notes_file(scratch / "custom-notes"))},
            model_config=dict(CUSTOM_CONFIG),
            signature=custom_signature(),
            input_example=pd.DataFrame({"x": [1.0, 2.5]}),
            pip_requirements=PIP_OK,
        )
    if kind == "nosig":
        return "sklearn", dict(sk_model=fitted.lr, pip_requirements=PIP_OK)
    if kind == "deps":
        return "sklearn", dict(
            sk_model=fitted.lr,
            pip_requirements=["scikit-learn==0.0.1", "mlflow"],
        )
    raise ValueError(kind)


def save_model(kind: str, fitted: Fitted, path: Path, scratch: Path) -> Path:
    import mlflow.pyfunc
    import mlflow.sklearn

    flavor, kwargs = model_kwargs(kind, fitted, scratch)
    if flavor == "sklearn":
        mlflow.sklearn.save_model(path=str(path), **kwargs)
    else:
        mlflow.pyfunc.save_model(path=str(path), **kwargs)
    return path


@pytest.fixture(scope="session")
def saved(fitted, tmp_path_factory) -> dict[str, Path]:
    """Model directories saved once (no tracking): never modified by tests; tests that change
    a model work on a copy (``copy_saved``)."""
    root = tmp_path_factory.mktemp("saved")
    return {
        kind: save_model(kind, fitted, root / kind, root / "scratch")
        for kind in ("lr", "rf", "custom", "nosig", "deps")
    }


def copy_saved(saved: dict[str, Path], kind: str, dst: Path) -> Path:
    shutil.copytree(saved[kind], dst)
    return dst


# --- S3 (moto_server) ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto(tmp_path_factory) -> MotoServer:
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3(moto):
    return make_s3_client(moto.url)


@pytest.fixture(scope="session")
def bucket(s3) -> str:
    """One bucket for the session; tests work under prefixes of their own."""
    name = f"pyfunc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_env(moto, monkeypatch) -> str:
    apply_s3_environment(monkeypatch, moto.url)
    return moto.url


def upload_dir(s3, bucket: str, local: Path, prefix: str) -> str:
    """Every file below ``local`` to ``s3://bucket/prefix/...``; returns the URI."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local).as_posix()}")
    return f"s3://{bucket}/{prefix}"


def list_prefix(s3, bucket: str, prefix: str) -> dict[str, int]:
    """``{key relative to prefix: size}``."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            out[obj["Key"][len(prefix) + 1 :]] = obj["Size"]
    return out


def copy_prefix(s3, bucket: str, src: str, dst: str) -> str:
    for key in list_prefix(s3, bucket, src):
        s3.copy_object(
            Bucket=bucket, Key=f"{dst}/{key}", CopySource={"Bucket": bucket, "Key": f"{src}/{key}"}
        )
    return f"s3://{bucket}/{dst}"


def delete_prefix(s3, bucket: str, prefix: str) -> None:
    keys = [{"Key": f"{prefix}/{k}"} for k in list_prefix(s3, bucket, prefix)]
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})


# --- tracking stores with logged and registered models ---------------------------------------


@dataclass
class Logged:
    run_id: str
    model_id: str
    name: str  # name under the run
    artifact_location: str  # the logged model's artifact URI
    registered: str | None = None


@dataclass
class Registry:
    """A tracking database (``backend``: ``sqlite`` or ``oxide+sqlite``) whose experiment stores
    artifacts at ``artifact_root``, with the suite's models logged in one run and registered."""

    backend: str
    uri: str
    artifact_root: str
    run_id: str = ""
    models: dict[str, Logged] = field(default_factory=dict)

    def activate(self) -> None:
        import mlflow

        mlflow.set_tracking_uri(self.uri)


REGISTERED = {"lr": "iris-lr", "rf": "iris-rf", "custom": "custom", "nosig": "nosig"}


def build_registry(
    template: Path,
    root: Path,
    backend: str,
    artifact_root: str,
    fitted: Fitted,
    kinds=("lr", "rf", "custom", "nosig"),
) -> Registry:
    """Log ``kinds`` in one run, register each (version 1), set alias ``champion`` on the first
    and stage ``Staging`` on the second; also log a directory that is not a model
    (``extra/``)."""
    import mlflow
    from mlflow import MlflowClient

    db = new_db(template, root / "mlflow.db")
    reg = Registry(backend, f"{backend}:///{db}", artifact_root)
    reg.activate()
    exp = mlflow.create_experiment(
        f"pyfunc-{uuid.uuid4().hex[:8]}", artifact_location=artifact_root
    )
    with (
        warnings.catch_warnings(),
        mlflow.start_run(experiment_id=exp) as run,
    ):
        warnings.simplefilter("ignore")
        for kind in kinds:
            flavor, kwargs = model_kwargs(kind, fitted, root / "scratch")
            module = mlflow.sklearn if flavor == "sklearn" else mlflow.pyfunc
            info = module.log_model(name=kind, registered_model_name=REGISTERED[kind], **kwargs)
            location = mlflow.get_logged_model(info.model_id).artifact_location
            reg.models[kind] = Logged(
                run.info.run_id, info.model_id, kind, location, REGISTERED[kind]
            )
        extra = root / "scratch" / "extra"
        extra.mkdir(parents=True, exist_ok=True)
        (extra / "readme.txt").write_text("not a model\n")
        mlflow.log_artifacts(str(extra), "extra")
    reg.run_id = run.info.run_id
    client = MlflowClient()
    client.set_registered_model_alias(REGISTERED[kinds[0]], "champion", "1")
    if len(kinds) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.transition_model_version_stage(REGISTERED[kinds[1]], "1", "Staging")
    return reg


def close_registry() -> None:
    import mlflow

    release_tracking()
    mlflow.set_tracking_uri(None)
