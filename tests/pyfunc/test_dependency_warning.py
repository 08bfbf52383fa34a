"""MLflow's dependency-mismatch warning (``warn_dependency_requirement_mismatches``, logger
``mlflow.utils.requirements_utils``): ours logs the same text as stock, keeps doing so when
the result comes from its cache (in process and on disk), never confuses two models'
requirements or two environments, and ``suppress_warnings=True`` silences it as in stock."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.artifacts.conftest import Child
from tests.artifacts.s3.conftest import child_env
from tests.pyfunc.conftest import capture_logs, load_ours, load_stock, upload_dir

LOGGER = "mlflow.utils.requirements_utils"
HEADER = "Detected one or more mismatches between the model's dependencies"


def mismatch_logs(load, uri, **kwargs) -> list[tuple[str, str, str]]:
    with capture_logs() as logs:
        load(uri, **kwargs)
    return logs.messages(LOGGER)


def with_requirements(saved, tmp_path: Path, name: str, lines: list[str]) -> Path:
    target = tmp_path / name
    shutil.copytree(saved["lr"], target)
    (target / "requirements.txt").write_text("".join(f"{line}\n" for line in lines))
    return target


def fake_distribution(root: Path, name: str, version: str) -> Path:
    """A directory that, first on ``sys.path``, makes ``importlib.metadata`` report
    ``name==version`` (an environment where that version is installed)."""
    dist = root / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return root


def test_mismatch_warning_same_as_stock(saved):
    stock = mismatch_logs(load_stock, saved["deps"])
    assert stock and HEADER in stock[0][2] and "scikit-learn==0.0.1" in stock[0][2], stock
    assert mismatch_logs(load_ours, saved["deps"]) == stock
    assert mismatch_logs(load_ours, saved["deps"]) == stock, "the cached result lost the warning"


def test_suppress_warnings(saved):
    assert mismatch_logs(load_stock, saved["deps"], suppress_warnings=True) == []
    assert mismatch_logs(load_ours, saved["deps"], suppress_warnings=True) == []
    # and suppressing once does not suppress the next load
    assert mismatch_logs(load_ours, saved["deps"]) == mismatch_logs(load_stock, saved["deps"])


def test_satisfied_requirements_do_not_warn(saved):
    assert mismatch_logs(load_stock, saved["lr"]) == []
    assert mismatch_logs(load_ours, saved["lr"]) == []


def test_each_model_gets_its_own_result(saved, tmp_path):
    two = with_requirements(
        saved, tmp_path, "two", ["numpy==0.0.2", "scikit-learn<1", "pandas", "mlflow"]
    )
    marker = with_requirements(
        saved, tmp_path, "marker", ['scikit-learn==0.0.1; python_version < "3"', "mlflow"]
    )
    sequence = [saved["lr"], saved["deps"], saved["lr"], two, saved["deps"], marker, two]
    for path in sequence:
        assert mismatch_logs(load_ours, path) == mismatch_logs(load_stock, path), path


def test_environment_change_in_process(saved, tmp_path, monkeypatch):
    """The cached result belongs to an environment: once scikit-learn 0.0.1 is what the
    environment has, the model's pin is satisfied and neither stock nor ours may warn."""
    before = mismatch_logs(load_stock, saved["deps"])
    assert before
    assert mismatch_logs(load_ours, saved["deps"]) == before
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path / "env", "scikit-learn", "0.0.1")))
    after = mismatch_logs(load_stock, saved["deps"])
    assert after == [], "scenario: stock should see scikit-learn 0.0.1 installed"
    assert mismatch_logs(load_ours, saved["deps"]) == after


def test_second_load_does_not_inspect_packages(saved, monkeypatch):
    """Later loads take the result from the cache: MLflow's per-requirement check (counted,
    still called through) is not run again for the same model in the same environment."""
    from mlflow.utils import requirements_utils

    load_ours(saved["deps"])
    calls = []
    real = requirements_utils._check_requirement_satisfied

    def counted(requirement):
        calls.append(requirement)
        return real(requirement)

    monkeypatch.setattr(requirements_utils, "_check_requirement_satisfied", counted)
    assert mismatch_logs(load_ours, saved["deps"])
    assert calls == []


def test_remote_model_warning(saved, s3, bucket, s3_env, model_cache):
    uri = upload_dir(s3, bucket, saved["deps"], f"deps/{uuid.uuid4().hex[:10]}/model")
    stock = mismatch_logs(load_stock, uri)
    assert stock
    assert mismatch_logs(load_ours, uri) == stock
    assert mismatch_logs(load_ours, uri) == stock


CHILD = """
import json, logging
import mlflow.pyfunc
from mlflow_oxide.pyfunc import load_model
records = []
class Keep(logging.Handler):
    def emit(self, record):
        if record.name == {logger!r}:
            records.append([record.levelname, record.getMessage()])
logging.getLogger("mlflow").addHandler(Keep())
load_model({path!r})
ours = list(records)
records.clear()
mlflow.pyfunc.load_model({path!r})
print(json.dumps({{"ours": ours, "stock": list(records)}}), flush=True)
"""


def _child(path: Path, cache: Path, pythonpath: str | None = None) -> dict:
    extra = {"MLFLOW_OXIDE_MODEL_CACHE": str(cache)}
    if pythonpath:
        extra["PYTHONPATH"] = pythonpath
    env = child_env("http://127.0.0.1:9", **extra)
    child = Child(CHILD.format(logger=LOGGER, path=str(path)), env)
    assert child.finish(timeout=180) == 0, child.report()
    return json.loads(child.stdout[-1])


def test_disk_cache_across_processes(saved, model_cache, tmp_path):
    first = _child(saved["deps"], model_cache)
    assert first["stock"] and first["ours"] == first["stock"]
    assert any(model_cache.rglob("*")), "nothing was kept on disk under the cache root"
    fake = fake_distribution(tmp_path / "env", "scikit-learn", "0.0.1")
    other_env = _child(saved["deps"], model_cache, pythonpath=str(fake))
    assert other_env["stock"] == [], "scenario: the child should see scikit-learn 0.0.1"
    assert other_env["ours"] == other_env["stock"]
    # back in the first environment: its result, kept on disk, still warns
    assert _child(saved["deps"], model_cache)["ours"] == first["stock"]


@pytest.mark.parametrize("suppress", [False, True])
def test_remote_suppress_and_cache(saved, s3, bucket, s3_env, model_cache, suppress):
    uri = upload_dir(s3, bucket, saved["deps"], f"deps/{uuid.uuid4().hex[:10]}/model")
    assert mismatch_logs(load_ours, uri, suppress_warnings=suppress) == mismatch_logs(
        load_stock, uri, suppress_warnings=suppress
    )


def _python_version(saved, tmp_path: Path, version: str | None) -> Path:
    import yaml

    target = tmp_path / "py"
    shutil.copytree(saved["lr"], target)
    meta = yaml.safe_load((target / "MLmodel").read_text())
    if version is None:
        del meta["flavors"]["python_function"]["python_version"]
    else:
        meta["flavors"]["python_function"]["python_version"] = version
    (target / "MLmodel").write_text(yaml.safe_dump(meta))
    return target


@pytest.mark.parametrize("suppress", [False, True])
@pytest.mark.parametrize("version", ["3.6.15", None], ids=["other-python", "no-python"])
def test_python_version_warning(saved, tmp_path, version, suppress):
    """The other load-time warning of stock: the model's Python differs or is unknown."""
    path = _python_version(saved, tmp_path, version)
    with capture_logs() as stock_logs:
        load_stock(path, suppress_warnings=suppress)
    with capture_logs() as our_logs:
        load_ours(path, suppress_warnings=suppress)
    assert our_logs.messages() == stock_logs.messages()
    assert bool(stock_logs.messages("mlflow.pyfunc")) is not suppress
