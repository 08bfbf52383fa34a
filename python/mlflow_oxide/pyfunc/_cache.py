"""The local content-addressed model cache (layout and guarantees: ``src/core/models/cache.rs``).

``refs/<sha256 of the source URI>`` names the tree last fetched from that URI. A load lists the
source (one cheap request per directory) and serves the tree only when every file's path and
size still match its manifest and the tree's files are intact; otherwise it downloads again,
through the artifact repository registered for the URI (ours: concurrent native transfers).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from mlflow_oxide import _native

# Staging directories of loaders killed mid-download are removed after this long.
_STALE_STAGING_SECONDS = 3600


def cache_dir() -> Path:
    """``MLFLOW_OXIDE_MODEL_CACHE``, or ``~/.cache/mlflow-oxide/models``."""
    configured = os.environ.get("MLFLOW_OXIDE_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "mlflow-oxide" / "models"


def _listing(repo, path: str = "") -> dict[str, int] | None:
    """Every file under the model directory with its size, or ``None`` when the store does not
    report sizes (then nothing can be checked, and the model is fetched every time)."""
    files: dict[str, int] = {}
    pending = [path]
    while pending:
        here = pending.pop()
        for info in repo.list_artifacts(here or None):
            if info.is_dir:
                pending.append(info.path)
                continue
            if info.file_size is None:
                return None
            files[info.path] = info.file_size
    return files


def _sweep_staging(staging_root: Path) -> None:
    cutoff = time.time() - _STALE_STAGING_SECONDS
    try:
        entries = list(os.scandir(staging_root))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass


def _publish_ref(ref: Path, tree_id: str) -> None:
    ref.parent.mkdir(parents=True, exist_ok=True)
    staged = ref.with_name(f"{ref.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    staged.write_text(tree_id)
    os.replace(staged, ref)


def fetch(uri: str) -> tuple[str, str]:
    """The local directory of the model at ``uri`` and its tree id (its content's identity)."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    root = cache_dir()
    repo = get_artifact_repository(uri)
    listing = _listing(repo)
    if listing is not None and not listing:
        raise MlflowException(
            f'Could not find an "MLmodel" configuration file at "{uri}"',
            RESOURCE_DOES_NOT_EXIST,
        )
    ref = root / "refs" / hashlib.sha256(uri.encode()).hexdigest()
    if listing is not None:
        try:
            tree_id = ref.read_text().strip()
        except OSError:
            tree_id = ""
        if tree_id:
            manifest = _native.model_cache_manifest(str(root), tree_id)
            if manifest is not None and {p: s for p, s, _ in manifest} == listing:
                return str(root / "trees" / tree_id), tree_id
    staging_root = root / "tmp"
    staging_root.mkdir(parents=True, exist_ok=True)
    _sweep_staging(staging_root)
    staging = tempfile.mkdtemp(dir=staging_root, prefix="download-")
    try:
        downloaded = repo.download_artifacts("", dst_path=staging)
        tree_id, _ = _native.model_cache_ingest(str(root), downloaded)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _publish_ref(ref, tree_id)
    return str(root / "trees" / tree_id), tree_id
