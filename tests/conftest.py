"""Shared fixtures: a migrated MLflow database template and a stock/oxide store pair.

``store_pair`` runs one scenario on MLflow's own ``SqlAlchemyStore`` and on ours and hands back
both results as plain, comparable data (entities flattened, exceptions as type/code/message).
Run ids are made identical in both stores by seeding ``uuid.uuid4`` the same way before each
side runs, so results and error messages can be compared verbatim.
"""

from __future__ import annotations

import collections
import math
import os
import random
import shutil
import sqlite3
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.entities import Experiment, Metric, Run, RunInfo
from mlflow.exceptions import MlflowException
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore


def release_tracking() -> None:
    """End runs, reset fluent state (the active experiment) and dispose the SQLAlchemy engines
    MLflow caches per database URI. Suites that turn the autouse fixture below off call it
    from the few tests that open a tracking store."""
    import gc

    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    while mlflow.active_run() is not None:
        mlflow.end_run()
    # set_experiment() records the active experiment globally and in the environment.
    mlflow.tracking.fluent._active_experiment_id = None
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    tracking_utils._tracking_store_registry._get_store_with_resolved_uri.cache_clear()
    registry_cache = registry_utils._get_store_registry()._get_store_with_resolved_uri
    if hasattr(registry_cache, "cache_clear"):
        registry_cache.cache_clear()
    with SqlAlchemyStore._engine_map_lock:
        engines = list(SqlAlchemyStore._engine_map.values())
        SqlAlchemyStore._engine_map.clear()
    for engine in engines:
        engine.dispose()
    gc.collect()


@pytest.fixture(autouse=True)
def _release_databases():
    """Close what each test opened. MLflow caches an SQLAlchemy engine per database URI and
    up to 100 stores per process forever; across hundreds of temporary databases their pooled
    connections (three descriptors each under WAL) would exhaust the process's file
    descriptors. Also resets fluent state (the active experiment) that leaks between tests."""
    yield
    release_tracking()


@pytest.fixture(scope="session")
def migrated_db_template(tmp_path_factory) -> Path:
    """An MLflow database at the current schema head with no rows (migrations take ~1s each,
    copying this file takes microseconds). The default experiment is removed so every store
    recreates it with its own artifact root."""
    root = tmp_path_factory.mktemp("template")
    path = root / "template.db"
    store = SqlAlchemyStore(f"sqlite:///{path}", str(root / "artifacts"))
    store.engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM experiments")
    return path


def new_db(template: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return path


def make_stock_store(template: Path, root: Path) -> SqlAlchemyStore:
    db = new_db(template, root / "stock.db")
    return SqlAlchemyStore(f"sqlite:///{db}", str(root / "stock-artifacts"))


def make_oxide_store(template: Path, root: Path, options: str = ""):
    from mlflow_oxide.tracking import OxideSqliteStore

    db = new_db(template, root / "oxide.db")
    return OxideSqliteStore(f"oxide+sqlite:///{db}{options}", str(root / "oxide-artifacts"))


def plain(obj, root: str = ""):
    """Entities -> nested builtins; NaN -> 'NaN'; numbers tagged with their type; the store's
    artifact root -> '<root>'."""
    if isinstance(obj, BaseException):
        code = getattr(obj, "error_code", None)
        return {"error": type(obj).__name__, "code": code, "message": plain(str(obj), root)}
    if isinstance(obj, PagedList):
        return {"items": [plain(x, root) for x in obj], "token": obj.token}
    if isinstance(obj, Run):
        return {
            "info": plain(obj.info, root),
            "metrics": sorted(plain(m, root) for m in obj.data._metric_objs),
            "params": dict(sorted(obj.data.params.items())),
            "tags": dict(sorted(obj.data.tags.items())),
            "inputs": plain(obj.inputs.to_dictionary() if obj.inputs else None, root),
            "outputs": plain(obj.outputs.to_dictionary() if obj.outputs else None, root),
        }
    if isinstance(obj, RunInfo):
        return plain(dict(obj), root)
    if isinstance(obj, Metric):  # also MetricWithRunId
        fields = {k: plain(v, root) for k, v in vars(obj).items() if k != "_value"}
        v = obj.value
        return (
            type(obj).__name__,
            obj.key,
            plain(v),
            type(v).__name__,
            str(sorted(fields.items())),
        )
    if isinstance(obj, Experiment):
        return plain({**vars(obj), "_tags": dict(sorted(obj.tags.items()))}, root)
    if isinstance(obj, float) and math.isnan(obj):
        return "NaN"
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return (type(obj).__name__, obj)  # an int where stock has a float is a difference
    if isinstance(obj, str):
        return obj.replace(root, "<root>") if root else obj
    if isinstance(obj, dict):
        return {k: plain(v, root) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(x, root) for x in obj)
    return obj


@contextmanager
def count_fallbacks(counter: collections.Counter):
    """Count calls that reach ``SqlAlchemyStore``'s own version of an accelerated method on an
    oxide store, i.e. replays of a call the Rust path declined or failed."""
    from mlflow_oxide.tracking import _OxideMixin

    names = [n for n, f in vars(_OxideMixin).items() if hasattr(f, "__wrapped_stock__")]
    with pytest.MonkeyPatch.context() as mp:
        for name in names:

            def counted(self, *args, _name=name, _stock=getattr(SqlAlchemyStore, name), **kw):
                if isinstance(self, _OxideMixin):
                    counter[_name] += 1
                return _stock(self, *args, **kw)

            mp.setattr(SqlAlchemyStore, name, counted)
        yield counter


@dataclass
class Side:
    name: str
    store: SqlAlchemyStore
    root: Path

    @property
    def artifact_root(self) -> str:
        return str(self.root / f"{self.name}-artifacts")


class StorePair:
    """The same scenario on stock and oxide stores, compared as plain data."""

    def __init__(self, stock: SqlAlchemyStore, oxide, root: Path, monkeypatch):
        self.stock = Side("stock", stock, root)
        self.oxide = Side("oxide", oxide, root)
        self._monkeypatch = monkeypatch
        self._seed = 0

    plain = staticmethod(plain)

    def _seed_uuids(self, seed: int) -> None:
        rng = random.Random(seed)
        self._monkeypatch.setattr(
            uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
        )

    def run(self, scenario, *, catch: bool = True):
        """``scenario(store)`` on both sides with identical uuid streams -> (stock, oxide).
        ``self.fallbacks`` then counts the oxide calls that were replayed on MLflow's code."""
        self._seed += 1
        self.fallbacks = collections.Counter()
        out = []
        for side in (self.stock, self.oxide):
            self._seed_uuids(self._seed)
            counting = count_fallbacks(self.fallbacks) if side is self.oxide else nullcontext()
            try:
                with counting:
                    result = scenario(side.store)
            except MlflowException as exc:
                if not catch:
                    raise
                result = exc
            out.append(plain(result, side.artifact_root))
        return tuple(out)

    def same(self, scenario, *, fast: bool = False):
        """Assert ``scenario`` gives equal plain results on both sides; return that result.
        ``fast=True``: also assert the oxide side replayed nothing on MLflow's code."""
        stock, oxide = self.run(scenario)
        assert oxide == stock
        if fast:
            assert not self.fallbacks, f"replayed on MLflow's code: {dict(self.fallbacks)}"
        return stock

    def same_error(self, scenario):
        """Like ``same`` but the scenario must raise an ``MlflowException`` on stock."""
        result = self.same(scenario)
        assert isinstance(result, dict) and "error" in result, result
        return result


@pytest.fixture(scope="session")
def make_store_pair(migrated_db_template):
    """Factory for fixtures of wider scope: ``make_store_pair(root, monkeypatch)``."""

    def make(root: Path, monkeypatch) -> StorePair:
        stock = make_stock_store(migrated_db_template, root)
        oxide = make_oxide_store(migrated_db_template, root)
        return StorePair(stock, oxide, root, monkeypatch)

    return make


@pytest.fixture
def store_pair(make_store_pair, tmp_path, monkeypatch) -> StorePair:
    return make_store_pair(tmp_path, monkeypatch)


@pytest.fixture
def tracking_uri(monkeypatch):
    """``tracking_uri(uri)`` sets MLflow's global tracking URI for this test only."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    previous = utils._tracking_uri
    yield mlflow.set_tracking_uri
    mlflow.set_tracking_uri(previous)
