"""MLflow's local artifact repository (plain paths and ``file://``) with directory copies
done natively: many files at once through the kernel's copy path, each into a temporary name
renamed into place. Single files, listing, deletion and streaming stay MLflow's."""

from __future__ import annotations

import os

from mlflow.store.artifact.local_artifact_repo import (
    _TEMP_ARTIFACT_PREFIX,
    LocalArtifactRepository,
)
from mlflow.utils.uri import validate_path_within_directory

from mlflow_oxide import _native
from mlflow_oxide.artifacts import _transfers
from mlflow_oxide.artifacts._settings import enabled


def _copy_tree(src_dir: str, dst_dir: str, desc: str, skip_staged: bool) -> None:
    """Directories created as MLflow's copy creates them, then every file copied natively."""
    files = []
    for dirpath, dirnames, filenames in os.walk(src_dir):
        relative = os.path.relpath(dirpath, src_dir)
        target = dst_dir if relative == os.curdir else os.path.join(dst_dir, relative)
        for dirname in dirnames:
            os.makedirs(os.path.join(target, dirname), exist_ok=True)
        for filename in filenames:
            if skip_staged and filename.startswith(_TEMP_ARTIFACT_PREFIX):
                continue
            files.append((os.path.join(dirpath, filename), os.path.join(target, filename)))
    if files:
        try:
            _transfers.copy(files, desc)
        except (_native.StorageError, _native.NotFound) as e:
            raise OSError(str(e)) from e


class OxideLocalArtifactRepository(LocalArtifactRepository):
    """Local artifact root: ``log_artifacts`` and directory downloads copy concurrently."""

    def log_artifacts(self, local_dir, artifact_path=None):
        if not enabled():
            return super().log_artifacts(local_dir, artifact_path)
        artifact_dir = self._get_or_create_artifact_dir(artifact_path)
        _copy_tree(local_dir, artifact_dir, "Logging artifacts", skip_staged=False)

    def download_artifacts(self, artifact_path, dst_path=None):
        if not dst_path or not enabled():
            return super().download_artifacts(artifact_path, dst_path)
        source = self.get_local_path(artifact_path or "")
        if not os.path.isdir(source):
            return super().download_artifacts(artifact_path, dst_path)
        dst_path = _transfers.destination(dst_path)
        local_path = _transfers.downloaded(dst_path, (artifact_path or "").strip("/"))
        validate_path_within_directory(dst_path, local_path)
        os.makedirs(local_path, exist_ok=True)
        _copy_tree(source, local_path, "Downloading artifacts", skip_staged=True)
        return local_path
