"""What every native repository shares: running a native upload or download with the transfer
settings and a progress bar, turning native errors into ``MlflowException`` naming the
artifact URI, walking a local tree the way MLflow's repositories walk it, and MLflow's checks
of a download destination."""

from __future__ import annotations

import os
import posixpath

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.artifact.artifact_repo import _sanitize_path_for_windows
from mlflow.utils.file_utils import relative_path_to_artifact_path
from mlflow.utils.uri import validate_path_within_directory

from mlflow_oxide import _native
from mlflow_oxide.artifacts._progress import TransferProgress
from mlflow_oxide.artifacts._settings import Transfer

NATIVE_ERRORS = (_native.StorageError, _native.NotFound, OSError)

# Native stores by (scheme, pid, configuration): repository objects share them (MLflow makes a
# new repository per call, and caches its SDK clients the same way). The pid keeps a forked
# worker from using its parent's connections.
_STORES: dict[tuple, object] = {}


def cached_store(key: tuple, build):
    """The store for ``key`` in this process, built by ``build()`` on a miss."""
    key = (os.getpid(), *key)
    store = _STORES.get(key)
    if store is None:
        if len(_STORES) > 32:  # configurations change rarely; never grow without bound
            _STORES.clear()
        store = _STORES[key] = build()
    return store


def representable(keys) -> bool:
    """Whether every key is one the native stores write under exactly that name: object_store
    normalizes away empty, ``.`` and ``..`` segments (``a//b``, ``/a``, ``a/./b``), which the
    SDKs would store verbatim, so such calls go to MLflow's code. ``""`` is the root."""
    return all(
        not key or all(part not in ("", ".", "..") for part in key.split("/")) for key in keys
    )


def unrepresentable_listing(e: Exception) -> bool:
    """A listing failed on a stored name object_store cannot represent (``a//b``): MLflow's
    own listing handles it."""
    return "invalid path" in str(e).lower()


def failure(what: str, uri: str, e: Exception) -> MlflowException:
    """``what`` failed for the artifact root ``uri``: RESOURCE_DOES_NOT_EXIST when the object,
    bucket or container is missing, INTERNAL_ERROR otherwise."""
    missing = isinstance(e, _native.NotFound) or "NoSuchBucket" in str(e)
    return MlflowException(
        f"{what} {uri} failed: {e}",
        error_code=RESOURCE_DOES_NOT_EXIST if missing else INTERNAL_ERROR,
    )


def upload(store, files: list[tuple], uri: str, desc: str, quantum: int = 1, settings=None) -> None:
    """Upload ``(local_file, key, content_type | None[, content_encoding | None])`` through
    ``store`` (``quantum``: what the part size must be a multiple of)."""
    settings = settings or Transfer.from_env()
    part_size = max(quantum, settings.part_size // quantum * quantum)
    total = sum(os.path.getsize(f[0]) for f in files)
    with TransferProgress(desc, total, len(files)) as progress:
        try:
            store.upload(
                files,
                settings.concurrency,
                part_size,
                settings.multipart_threshold,
                progress,
                settings.file_concurrency,
            )
        except NATIVE_ERRORS as e:
            # A missing bucket or container is a failed upload, as MLflow reports it.
            raise MlflowException(
                f"Uploading artifacts to {uri} failed: {e}", error_code=INTERNAL_ERROR
            ) from e


def download(store, files: list[tuple], uri: str, settings=None) -> None:
    """Download ``(key, local_path, size | None, etag | None)`` through ``store``."""
    settings = settings or Transfer.from_env()
    total = sum(f[2] or 0 for f in files)
    with TransferProgress("Downloading artifacts", total, len(files)) as progress:
        try:
            store.download(
                files,
                settings.concurrency,
                settings.part_size,
                settings.multipart_threshold,
                progress,
                settings.file_concurrency,
            )
        except NATIVE_ERRORS as e:
            raise failure("Downloading artifacts from", uri, e) from e


def copy(files: list[tuple[str, str]], desc: str) -> None:
    """Copy local ``(source, destination)`` files natively, many at once."""
    settings = Transfer.from_env()
    total = sum(os.path.getsize(source) for source, _ in files)
    with TransferProgress(desc, total, len(files)) as progress:
        _native.copy_files(files, settings.concurrency, progress)


def walk(local_dir: str, dest_path: str, convert_relative=True) -> list[tuple[str, str]]:
    """``(local_file, key)`` for every file under ``local_dir``, keyed under ``dest_path`` as
    MLflow's cloud repositories key them (``convert_relative``: through
    ``relative_path_to_artifact_path``, as the S3 repository does; the Azure one joins the
    OS-relative path as is)."""
    local_dir = os.path.abspath(local_dir)
    files = []
    for root, _, filenames in os.walk(local_dir):
        upload_path = dest_path
        if root != local_dir:
            rel_path = os.path.relpath(root, local_dir)
            if convert_relative:
                rel_path = relative_path_to_artifact_path(rel_path)
            upload_path = posixpath.join(dest_path, rel_path)
        files.extend((os.path.join(root, f), posixpath.join(upload_path, f)) for f in filenames)
    return files


def destination(dst_path: str | None) -> str:
    """MLflow's checks and default for ``download_artifacts(dst_path=...)``."""
    from mlflow.utils.file_utils import create_tmp_dir

    if not dst_path:
        return create_tmp_dir()
    dst_path = os.path.abspath(dst_path)
    if not os.path.exists(dst_path):
        raise MlflowException(
            message=(
                "The destination path for downloaded artifacts does not"
                f" exist! Destination path: {dst_path}"
            ),
            error_code=RESOURCE_DOES_NOT_EXIST,
        )
    if not os.path.isdir(dst_path):
        raise MlflowException(
            message=(
                "The destination path for downloaded artifacts must be a directory!"
                f" Destination path: {dst_path}"
            ),
            error_code=INVALID_PARAMETER_VALUE,
        )
    return dst_path


def downloaded(dst_path: str, path: str) -> str:
    """Where ``download_artifacts`` says ``path`` landed under ``dst_path`` (MLflow's rule)."""
    if not path:
        return dst_path
    local_path = os.path.join(dst_path, os.path.normpath(_sanitize_path_for_windows(path)))
    validate_path_within_directory(dst_path, local_path)
    return local_path


def parents(keys) -> set[str]:
    """Every proper prefix directory of the keys."""
    out = set()
    for key in keys:
        parts = key.split("/")
        for i in range(1, len(parts)):
            out.add("/".join(parts[:i]))
    return out


class NativeUploads:
    """``log_artifact`` / ``log_artifacts`` for a repository class mixed in before MLflow's:
    ``_native()`` gives ``(store, root key)`` or ``(None, None)`` for MLflow's code, keys are
    built as MLflow's repository builds them (``_convert_relative``: see ``walk``), and calls
    whose keys object_store cannot represent go to MLflow's code."""

    _convert_relative = True

    def _upload_specs(self, files: list[tuple[str, str]]) -> list[tuple]:
        """``(local_file, key, content_type | None[, content_encoding])`` per file."""
        return [(local, key, None) for local, key in files]

    def _upload_native(self, store, specs: list[tuple], desc: str) -> None:
        upload(store, specs, self.artifact_uri, desc)

    def log_artifact(self, local_file, artifact_path=None):
        store, dest_path = self._native()
        if store is not None:
            if artifact_path:
                dest_path = posixpath.join(dest_path, artifact_path)
            dest_path = posixpath.join(dest_path, os.path.basename(local_file))
            if representable([dest_path]):
                specs = self._upload_specs([(local_file, dest_path)])
                return self._upload_native(store, specs, "Uploading artifact")
        return super().log_artifact(local_file, artifact_path)

    def log_artifacts(self, local_dir, artifact_path=None):
        store, dest_path = self._native()
        if store is not None:
            if artifact_path:
                dest_path = posixpath.join(dest_path, artifact_path)
            files = walk(local_dir, dest_path, convert_relative=self._convert_relative)
            if representable(key for _, key in files):
                if files:
                    self._upload_native(store, self._upload_specs(files), "Uploading artifacts")
                return None
        return super().log_artifacts(local_dir, artifact_path)
