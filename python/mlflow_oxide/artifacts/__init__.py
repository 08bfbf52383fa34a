"""Native artifact transfer for MLflow: ``s3://``, ``gs://``, ``wasbs://``, ``abfss://``, local
paths and ``file://``.

Registered through the ``mlflow.artifact_repository`` entry point; with
``MLFLOW_OXIDE_ARTIFACTS=0`` every call goes to MLflow's own repository. MLflow loads the
entry points while importing its artifact modules, so this module imports nothing from MLflow
at import time (each repository class is loaded on first use)."""

from __future__ import annotations

import importlib
import sys

from mlflow_oxide.artifacts._settings import Transfer, enabled

# scheme -> (our module, our class, MLflow's module, MLflow's class)
_REPOSITORIES = {
    "s3": ("_s3", "OxideS3ArtifactRepository", "s3_artifact_repo", "S3ArtifactRepository"),
    "gs": ("_gcs", "OxideGCSArtifactRepository", "gcs_artifact_repo", "GCSArtifactRepository"),
    "wasbs": (
        "_azure",
        "OxideAzureBlobArtifactRepository",
        "azure_blob_artifact_repo",
        "AzureBlobArtifactRepository",
    ),
    "abfss": (
        "_azure",
        "OxideAzureDataLakeArtifactRepository",
        "azure_data_lake_artifact_repo",
        "AzureDataLakeArtifactRepository",
    ),
    "file": (
        "_local",
        "OxideLocalArtifactRepository",
        "local_artifact_repo",
        "LocalArtifactRepository",
    ),
}


def _repository_class(scheme: str):
    ours, our_class, stock, stock_class = _REPOSITORIES[scheme]
    if enabled():
        module = importlib.import_module(f"mlflow_oxide.artifacts.{ours}")
        return getattr(module, our_class)
    module = importlib.import_module(f"mlflow.store.artifact.{stock}")
    return getattr(module, stock_class)


def _factory(scheme: str):
    def repository(artifact_uri, *args, **kwargs):
        return _repository_class(scheme)(artifact_uri, *args, **kwargs)

    repository.__name__ = f"{scheme}_repository"
    repository.__doc__ = f"Entry point for ``{scheme}``: ours unless ``MLFLOW_OXIDE_ARTIFACTS=0``."
    return repository


s3_repository = _factory("s3")
gs_repository = _factory("gs")
wasbs_repository = _factory("wasbs")
abfss_repository = _factory("abfss")
_file_repository = _factory("file")


def _claim_plain_paths() -> None:
    """Plain local paths have the empty scheme, which no entry point can name. MLflow
    registers entry points right after its built-in schemes, so when it loads ours for
    ``file`` its registry exists and the empty scheme is claimed alongside."""
    registry_module = sys.modules.get("mlflow.store.artifact.artifact_repository_registry")
    registry = getattr(registry_module, "_artifact_repository_registry", None)
    if registry is not None:
        registry.register("", _file_repository)


def __getattr__(name: str):
    if name == "file_repository":
        # Looked up by MLflow's entry-point loader on every registry construction.
        _claim_plain_paths()
        return _file_repository
    for ours, our_class, _, _ in _REPOSITORIES.values():
        if name == our_class:
            return getattr(importlib.import_module(f"mlflow_oxide.artifacts.{ours}"), our_class)
    raise AttributeError(name)


__all__ = [
    "OxideAzureBlobArtifactRepository",
    "OxideAzureDataLakeArtifactRepository",
    "OxideGCSArtifactRepository",
    "OxideLocalArtifactRepository",
    "OxideS3ArtifactRepository",
    "Transfer",
    "abfss_repository",
    "enabled",
    "gs_repository",
    "s3_repository",
    "wasbs_repository",
]
