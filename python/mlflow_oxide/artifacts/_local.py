"""MLflow's local artifact repository (plain paths and ``file://``) with ``log_artifacts``
copying natively: many files at once through the kernel's copy path, each into a temporary
name renamed into place, permissions and times kept as MLflow's ``shutil.copy2`` keeps them.

Everything else — single files, listing, downloads (already a thread pool of copies in
MLflow, with its path and symlink checks), deletion, streaming — stays MLflow's. Trees the
native copy does not reproduce exactly (special files, a file landing on a directory, copying
a directory onto itself) and any native failure go to MLflow's own copy, which then completes
the call or raises MLflow's error."""

from __future__ import annotations

import os
import stat

from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
from mlflow.utils.file_utils import shutil_copytree_without_file_permissions

from mlflow_oxide import _native
from mlflow_oxide.artifacts import _transfers
from mlflow_oxide.artifacts._settings import enabled


def _plan(src_dir: str, dst_dir: str) -> list[tuple[str, str]] | None:
    """Create the directories as MLflow's copy does and return the files to copy, or None
    when the tree is one MLflow's copy must handle."""
    if os.path.realpath(src_dir) == os.path.realpath(dst_dir):
        return None  # MLflow raises shutil.SameFileError
    files = []
    for dirpath, dirnames, filenames in os.walk(src_dir):
        for dirname in dirnames:
            target = os.path.join(dst_dir, os.path.relpath(os.path.join(dirpath, dirname), src_dir))
            try:
                os.mkdir(target)
            except FileExistsError:
                # Made meanwhile by a concurrent writer, or already there: fine if a directory
                # (anything else goes to MLflow's copy, which raises MLflow's error).
                if not os.path.isdir(target):
                    raise
        for filename in filenames:
            source = os.path.join(dirpath, filename)
            target = os.path.join(dst_dir, os.path.relpath(source, src_dir))
            try:
                regular = stat.S_ISREG(os.stat(source).st_mode)
            except OSError:
                return None  # a broken symlink: MLflow's copy raises
            if not regular or os.path.isdir(target):
                return None  # special files raise; a file onto a directory goes inside it
            files.append((source, target))
    return files


class OxideLocalArtifactRepository(LocalArtifactRepository):
    """Local artifact root whose ``log_artifacts`` copies many files at once."""

    def log_artifacts(self, local_dir, artifact_path=None):
        if not enabled():
            return super().log_artifacts(local_dir, artifact_path)
        artifact_dir = self._get_or_create_artifact_dir(artifact_path)
        try:
            files = _plan(local_dir, artifact_dir)
            if files:
                _transfers.copy(files, "Logging artifacts")
        except (_native.StorageError, _native.NotFound, OSError):
            files = None
        if files is None:
            shutil_copytree_without_file_permissions(local_dir, artifact_dir)
