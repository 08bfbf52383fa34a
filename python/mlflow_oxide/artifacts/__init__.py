"""Native artifact transfer for MLflow (issue 5, in progress: S3 and S3-compatible stores).

Registered through the ``mlflow.artifact_repository`` entry point for ``s3://``; with
``MLFLOW_OXIDE_ARTIFACTS=0`` every call goes to MLflow's own repository. MLflow loads the
entry point while importing its artifact modules, so this module imports nothing from MLflow
at import time (the repository class is loaded on first use)."""

from __future__ import annotations

from mlflow_oxide.artifacts._settings import Transfer, enabled


def s3_repository(artifact_uri, tracking_uri=None, registry_uri=None):
    """Entry point for ``s3://``: ours unless ``MLFLOW_OXIDE_ARTIFACTS=0``."""
    if not enabled():
        from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

        return S3ArtifactRepository(
            artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri
        )
    from mlflow_oxide.artifacts._s3 import OxideS3ArtifactRepository

    return OxideS3ArtifactRepository(
        artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri
    )


def __getattr__(name: str):
    if name == "OxideS3ArtifactRepository":
        from mlflow_oxide.artifacts._s3 import OxideS3ArtifactRepository

        return OxideS3ArtifactRepository
    raise AttributeError(name)


__all__ = ["OxideS3ArtifactRepository", "Transfer", "enabled", "s3_repository"]
