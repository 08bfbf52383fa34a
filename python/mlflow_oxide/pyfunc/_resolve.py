"""Model URI -> where its files are, and which registered model / run it is.

On an ``oxide+sqlite`` tracking or registry file, ``models:/`` and ``runs:/`` lookups are native
reads of MLflow's tables through a handle opened on the file; whatever those reads do not find,
and every other store, goes through MLflow's client, which answers with its own errors.
Registries that are not MLflow's own (Databricks, Unity Catalog) are left to MLflow's download
code: ``resolve`` returns ``None``.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSource:
    """``uri`` holds the model directory; ``local_path`` is set when it is on local disk."""

    uri: str
    local_path: str | None
    name: str | None = None
    version: str | None = None
    run_id: str | None = None
    model_id: str | None = None


def _join(base: str, path: str | None) -> str:
    if not path:
        return base
    from mlflow.utils.uri import append_to_uri_path

    return append_to_uri_path(base, path)


def _located(uri: str, **identity) -> ModelSource:
    from mlflow.utils.file_utils import local_file_uri_to_path

    scheme = urllib.parse.urlparse(uri).scheme
    # One-letter schemes are Windows drive letters.
    local = local_file_uri_to_path(uri) if scheme in ("", "file") or len(scheme) == 1 else None
    return ModelSource(uri=uri, local_path=local, **identity)


def _third_party_registry(model_uri: str) -> bool:
    import mlflow
    from mlflow.store.artifact.utils.models import is_using_databricks_registry
    from mlflow.utils.uri import is_databricks_unity_catalog_uri, is_oss_unity_catalog_uri

    registry_uri = mlflow.get_registry_uri()
    return (
        is_databricks_unity_catalog_uri(uri=registry_uri)
        or is_oss_unity_catalog_uri(uri=registry_uri)
        or is_using_databricks_registry(model_uri, registry_uri)
    )


_handles: dict[tuple[int, str], object] = {}


def _native_store(store_uri: str | None):
    """``(native handle, workspace)`` when ``store_uri`` is an ``oxide+sqlite`` database the
    native SQL serves, else ``None``. The handle is opened on the file directly, so a loading
    process does not build MLflow's SQLAlchemy store (0.5 s of imports and setup) to read two
    rows."""
    from mlflow.environment_variables import MLFLOW_ENABLE_WORKSPACES

    from mlflow_oxide import _uri
    from mlflow_oxide._native_db import open_native

    if not (store_uri or "").startswith("oxide+") or MLFLOW_ENABLE_WORKSPACES.get():
        return None
    try:
        parsed = _uri.parse(store_uri)
    except Exception:
        return None  # MLflow's store raises its own error for a bad URI
    key = (os.getpid(), parsed.path)
    handle = _handles.get(key)
    if handle is None:
        # A file MLflow already created, served natively only where the tracking store would
        # be; otherwise MLflow's store answers.
        if not parsed.fast_path or not os.path.isfile(parsed.path):
            return None
        handle, _ = open_native(parsed)
        if handle is None:
            return None
        _handles[key] = handle
    return handle, None


def _native_registry():
    import mlflow

    return _native_store(mlflow.get_registry_uri())


def _models_native(base: str, sub: str) -> ModelSource | None:
    """The registry lookups of ``ModelsArtifactRepository`` as two indexed reads; ``None``
    whenever the tables do not answer, so MLflow's store raises its own error."""
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository
    from mlflow.store.artifact.utils.models import _parse_model_uri

    registry = _native_registry()
    if registry is None:
        return None
    native, workspace = registry
    parsed = _parse_model_uri(base)
    if parsed.model_id is not None:
        found = native.logged_model_location(parsed.model_id)
        if found is None:
            return None
        location, run_id = found
        return _located(_join(location, sub), run_id=run_id, model_id=parsed.model_id)
    if parsed.version is not None:
        selector = ("version", str(parsed.version))
    elif parsed.alias is not None:
        selector = ("alias", parsed.alias)
    else:
        selector = ("stage", parsed.stage or "latest")
    found = native.resolve_model_version(parsed.name, *selector, workspace)
    if found is None:
        return None
    version, download_uri, run_id = found
    model_id = None
    if ModelsArtifactRepository._is_logged_model_uri(download_uri):
        model_id = _parse_model_uri(download_uri).model_id
        location = native.logged_model_location(model_id)
        if location is None:
            return None
        download_uri = location[0]
    return _located(
        _join(download_uri, sub),
        name=parsed.name,
        version=str(version),
        run_id=run_id,
        model_id=model_id,
    )


def _models(model_uri: str) -> ModelSource | None:
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository
    from mlflow.store.artifact.utils.models import _parse_model_uri

    base, sub = ModelsArtifactRepository.split_models_uri(model_uri)
    logged_model = ModelsArtifactRepository._is_logged_model_uri(base)
    if not logged_model and _third_party_registry(model_uri):
        return None
    if (fast := _models_native(base, sub)) is not None:
        return fast
    name, version, download_uri = ModelsArtifactRepository._get_model_uri_infos(base)
    model_id = _parse_model_uri(base).model_id if logged_model else None
    return _located(_join(download_uri, sub), name=name, version=version, model_id=model_id)


def _logged_model_of_run(run_id: str, name: str):
    """MLflow 3 stores a model logged in a run under the logged model, not the run's
    artifacts; ``runs:/<run>/<name>`` finds it by name, as ``RunsArtifactRepository`` does."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment_id = client.get_run(run_id).info.experiment_id
    page_token = None
    while True:
        page = client.search_logged_models(
            experiment_ids=[experiment_id],
            filter_string=f"name = '{name}'",
            page_token=page_token,
        )
        for model in page:
            if model.source_run_id == run_id:
                return model
        if not page.token:
            return None
        page_token = page.token


def _runs(model_uri: str) -> ModelSource | None:
    import mlflow
    from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository
    from mlflow.tracking.artifact_utils import get_artifact_uri
    from mlflow.utils.uri import get_databricks_profile_uri_from_artifact_uri

    if get_databricks_profile_uri_from_artifact_uri(model_uri):
        return None
    run_id, artifact_path = RunsArtifactRepository.parse_runs_uri(model_uri)
    if not artifact_path:
        # A run's root is never a model; MLflow's download code gives its own error for it.
        return None
    name, _, rest = artifact_path.partition("/")
    tracking = _native_store(mlflow.get_tracking_uri())
    found = tracking[0].run_logged_model(run_id, name) if tracking is not None else None
    if found is not None:
        model_id, location = found
        return _located(_join(location, rest), run_id=run_id, model_id=model_id)
    model = _logged_model_of_run(run_id, name)
    if model is not None:
        return _located(
            _join(model.artifact_location, rest), run_id=run_id, model_id=model.model_id
        )
    return _located(get_artifact_uri(run_id=run_id, artifact_path=artifact_path), run_id=run_id)


def resolve(model_uri: str) -> ModelSource | None:
    scheme = urllib.parse.urlparse(model_uri).scheme
    if scheme == "models":
        return _models(model_uri)
    if scheme == "runs":
        return _runs(model_uri)
    return _located(model_uri)


def registered_run_id(source: ModelSource) -> str | None:
    """The run that produced the model: the run of a ``runs:/`` URI, of a registered version,
    or of a logged model."""
    if source.run_id is not None:
        return source.run_id
    from mlflow.tracking import MlflowClient

    if source.name is not None and source.version is not None:
        return MlflowClient().get_model_version(source.name, source.version).run_id
    if source.model_id is not None:
        return MlflowClient().get_logged_model(source.model_id).source_run_id
    return None


__all__ = ["ModelSource", "registered_run_id", "resolve"]
