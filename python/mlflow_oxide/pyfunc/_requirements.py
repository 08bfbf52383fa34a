"""MLflow's dependency-mismatch warning, checked once per environment instead of on every load.

``mlflow.pyfunc.load_model`` inspects the installed version of every requirement of the model
on each call (importing modules to read versions the first time: 0.25-0.44 s per process, then
6.5 ms per load). The outcome depends only on the requirement strings and on the environment,
so it is kept per environment fingerprint, in the process and on disk next to the model cache.
The fingerprint changes whenever a package is installed, removed or upgraded: that rewrites a
directory on ``sys.path``, which changes its modification time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

_memo: dict[str, list[str]] = {}

# MLflow's own list (``warn_dependency_requirement_mismatches``): never warned about.
_IGNORED = ("databricks-feature-lookup", "databricks-agents")


def _fingerprint(requirements: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.executable}\0{sys.version}\0".encode())
    for entry in sys.path:
        try:
            mtime = os.stat(entry or ".").st_mtime_ns
        except OSError:
            mtime = -1
        digest.update(f"{entry}\0{mtime}\0".encode())
    for requirement in requirements:
        digest.update(f"r\0{requirement}\0".encode())
    return digest.hexdigest()


def _mismatches(requirements: list[str]) -> list[str]:
    from mlflow.utils.requirements_utils import (
        _check_requirement_satisfied,
        _normalize_package_name,
    )

    ignored = {_normalize_package_name(name) for name in _IGNORED}
    found = []
    for requirement in requirements:
        info = _check_requirement_satisfied(requirement)
        if info is not None and _normalize_package_name(info.package_name) not in ignored:
            found.append(str(info))
    return found


def _cached_mismatches(requirements: list[str], cache_root: Path) -> list[str]:
    key = _fingerprint(requirements)
    if key in _memo:
        return _memo[key]
    record = cache_root / "environments" / f"{key}.json"
    try:
        found = json.loads(record.read_text())
    except (OSError, ValueError):
        found = _mismatches(requirements)
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            staged = record.with_name(f"{record.name}.{os.getpid()}.tmp")
            staged.write_text(json.dumps(found))
            os.replace(staged, record)
        except OSError:
            pass  # a read-only cache only costs the check
    _memo[key] = found
    return found


def warn_dependency_mismatches(model_path: str, cache_root: Path) -> None:
    """Log MLflow's warning, with MLflow's text and logger, when the environment does not
    satisfy the model's ``requirements.txt``."""
    from mlflow.pyfunc import _get_pip_requirements_from_model_path
    from mlflow.utils.requirements_utils import _logger

    try:
        requirements = _get_pip_requirements_from_model_path(model_path)
        found = _cached_mismatches(requirements, cache_root)
    except Exception as e:
        _logger.warning(
            f"Encountered an unexpected error ({e!r}) while detecting model dependency "
            "mismatches. Set logging level to DEBUG to see the full traceback."
        )
        _logger.debug("", exc_info=True)
        return
    if found:
        mismatch_str = " - " + "\n - ".join(found)
        _logger.warning(
            "Detected one or more mismatches between the model's dependencies and the current "
            f"Python environment:\n{mismatch_str}\n"
            "To fix the mismatches, call `mlflow.pyfunc.get_model_dependencies(model_uri)` "
            "to fetch the model's environment and install dependencies using the resulting "
            "environment file."
        )
