"""Model registry on the same ``oxide+sqlite`` database: MLflow's own registry store."""

from __future__ import annotations

from mlflow.environment_variables import MLFLOW_ENABLE_WORKSPACES

from mlflow_oxide import _uri
from mlflow_oxide.tracking import prepare_database


def registry_store_from_uri(store_uri: str, **_ignored):
    """Entry point ``mlflow.model_registry_store`` for ``oxide+sqlite``."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
    from mlflow.store.model_registry.sqlalchemy_workspace_store import (
        WorkspaceAwareSqlAlchemyStore,
    )

    parsed = _uri.parse(store_uri)
    prepare_database(parsed)
    store_cls = WorkspaceAwareSqlAlchemyStore if MLFLOW_ENABLE_WORKSPACES.get() else SqlAlchemyStore
    return store_cls(parsed.sqlalchemy_uri)
