"""Entry-point targets. MLflow loads these while ``mlflow.tracking`` is still importing, so
this module imports nothing from MLflow at import time; the stores load on first use."""

from __future__ import annotations


def tracking_store(store_uri: str, artifact_uri: str | None = None, **kwargs):
    """``mlflow.tracking_store`` entry point for ``oxide+sqlite``."""
    from mlflow_oxide.tracking import tracking_store_from_uri

    return tracking_store_from_uri(store_uri, artifact_uri, **kwargs)


def registry_store(store_uri: str, tracking_uri: str | None = None, **kwargs):
    """``mlflow.model_registry_store`` entry point for ``oxide+sqlite``."""
    from mlflow_oxide.registry import registry_store_from_uri

    return registry_store_from_uri(store_uri, **kwargs)
