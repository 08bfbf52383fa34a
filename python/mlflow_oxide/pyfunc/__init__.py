"""A drop-in for ``mlflow.pyfunc.load_model`` that loads fast, and a Spark UDF built on it.

``load_model`` takes the same arguments and returns a ``PyFuncModel`` (``OxidePyFuncModel``);
the flavor's own ``_load_pyfunc`` does the final step, exactly as in MLflow. What differs:

* models on remote stores come from a local content-addressed cache (``cache_dir()``), checked
  against the store's listing on every load, so a model already seen is not downloaded again
  and a changed one is never served stale; local models are loaded in place, never copied;
* ``MLmodel`` is parsed natively, once;
* MLflow's dependency-mismatch warning is computed once per environment;
* a model loaded before from the same content is unpickled from memory (``_memo``);
* ``predict`` enforces the input schema without copying the input when the types already
  match (MLflow's enforcement serves every other case and every refusal).
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from mlflow_oxide import _native
from mlflow_oxide.pyfunc import _cache, _memo, _mlmodel, _requirements, _resolve
from mlflow_oxide.pyfunc._cache import cache_dir
from mlflow_oxide.pyfunc._model import OxidePyFuncModel

_logger = logging.getLogger(__name__)

__all__ = ["OxidePyFuncModel", "cache_dir", "clear_memory_cache", "load_model", "spark_udf"]


def clear_memory_cache() -> None:
    """Forget the models kept in memory (the disk cache is untouched)."""
    _memo.clear()


def _materialize(model_uri: str, dst_path: str | None) -> tuple[str, str | None, Any]:
    """The local model directory, the identity of its content (``None``: unknown) and its
    ``ModelSource`` (``None`` when MLflow's download code served the URI).

    Whatever the fast path cannot serve — a malformed URI, an unknown run or version, a missing
    path, a store error — is handed to MLflow's download code with the original URI, so the
    caller gets MLflow's own result or MLflow's own exception."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking.artifact_utils import _download_artifact_from_uri

    model_uri = str(model_uri)
    if dst_path is not None:
        return _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path), None, None
    try:
        source = _resolve.resolve(model_uri)
        if source is not None and source.local_path is None:
            path, tree_id = _cache.fetch(source.uri)
            return path, "tree:" + tree_id, source
        if source is not None and os.path.exists(source.local_path):
            path = os.path.abspath(source.local_path)
            return path, "dir:" + _memo.directory_identity(path), source
    except (MlflowException, OSError, _native.StoreError) as e:
        _logger.debug("mlflow-oxide: %s is left to MLflow's download code: %s", model_uri, e)
    return _download_artifact_from_uri(artifact_uri=model_uri), None, None


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: str | Path | dict[str, Any] | None = None,
) -> OxidePyFuncModel:
    """Load a model stored in Python function format; the arguments and the result are those
    of ``mlflow.pyfunc.load_model``."""
    return load_with_source(model_uri, suppress_warnings, dst_path, model_config)[0]


def load_with_source(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: str | Path | dict[str, Any] | None = None,
) -> tuple[OxidePyFuncModel, _resolve.ModelSource | None, str | None]:
    """``load_model``, plus where the model came from and the identity of its content."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import BAD_REQUEST, RESOURCE_DOES_NOT_EXIST
    from mlflow.pyfunc import (
        CODE,
        DATA,
        FLAVOR_NAME,
        MAIN,
        MODEL_CONFIG,
        PY_VERSION,
        _add_code_from_conf_to_system_path,
        _get_overridden_pyfunc_model_config,
        _logger,
        _validate_and_get_model_config_from_file,
        _warn_potentially_incompatible_py_version_if_necessary,
    )

    local_path, content_id, source = _materialize(model_uri, dst_path)
    if not suppress_warnings:
        _requirements.warn_dependency_mismatches(local_path, cache_dir())

    mlmodel = _mlmodel.read(local_path)
    model_meta = _mlmodel.to_model(mlmodel)
    if mlmodel.is_external:
        raise MlflowException(
            "This model's artifacts are external and are not stored in the model directory."
            " This model cannot be loaded with MLflow.",
            BAD_REQUEST,
        )
    if not mlmodel.has_pyfunc:
        raise MlflowException(
            f'Model does not have the "{FLAVOR_NAME}" flavor',
            RESOURCE_DOES_NOT_EXIST,
        )
    conf = model_meta.flavors[FLAVOR_NAME]
    if not suppress_warnings:
        _warn_potentially_incompatible_py_version_if_necessary(
            model_py_version=conf.get(PY_VERSION)
        )
    _add_code_from_conf_to_system_path(local_path, conf, code_key=CODE)
    data_path = os.path.join(local_path, conf[DATA]) if (DATA in conf) else local_path

    if isinstance(model_config, str):
        model_config = _validate_and_get_model_config_from_file(model_config)
    model_config = _get_overridden_pyfunc_model_config(
        conf.get(MODEL_CONFIG, None), model_config, _logger
    )

    memo_key = _memo.key(conf[MAIN], content_id, data_path, model_config) if content_id else None
    model_impl = _memo.get(memo_key)
    if model_impl is None:
        model_impl = _load_impl(conf, data_path, model_config)
        _memo.put(memo_key, model_impl)

    predict_fn = conf.get("predict_fn", "predict")
    streamable = conf.get("streamable", False)
    predict_stream_fn = conf.get("predict_stream_fn", "predict_stream") if streamable else None
    model = OxidePyFuncModel(
        model_meta=model_meta,
        model_impl=model_impl,
        predict_fn=predict_fn,
        predict_stream_fn=predict_stream_fn,
        model_id=model_meta.model_id,
        model_path=local_path,
    )
    return model, source, content_id


def _load_impl(conf: dict, data_path: str, model_config):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import BAD_REQUEST
    from mlflow.pyfunc import (
        _DATABRICKS_FS_LOADER_MODULE,
        MAIN,
        _clear_dependencies_schemas,
    )

    try:
        loader = importlib.import_module(conf[MAIN])
        if model_config:
            return loader._load_pyfunc(data_path, model_config)
        return loader._load_pyfunc(data_path)
    except ModuleNotFoundError as e:
        if conf[MAIN] == _DATABRICKS_FS_LOADER_MODULE and e.name.startswith("databricks"):
            raise MlflowException(
                f"{e.msg}; "
                "Note: mlflow.pyfunc.load_model is not supported for Feature Store models. "
                "spark_udf() and predict() will not work as expected. Use "
                "score_batch for offline predictions.",
                BAD_REQUEST,
            ) from None
        raise e
    finally:
        # As MLflow: the dependencies schema a loader sets is global state of this load only.
        _clear_dependencies_schemas()


def spark_udf(spark, model_uri, result_type=None, env_manager=None, params=None, **kwargs):
    """``mlflow.pyfunc.spark_udf`` on the fast loader (see ``mlflow_oxide.pyfunc._spark``)."""
    from mlflow_oxide.pyfunc._spark import spark_udf as _spark_udf

    return _spark_udf(spark, model_uri, result_type, env_manager, params, **kwargs)
