"""``spark_udf``: ``mlflow.pyfunc.spark_udf`` (``env_manager="local"``) on the fast loader.

The driver fetches the model once through the model cache (no download when it is cached).
Executors load it with ``mlflow_oxide.pyfunc.load_model`` once per Python worker (Spark reuses
workers across tasks) and score each Arrow batch with the fast schema enforcement. In local
mode executors read the driver's cache directory; on a cluster the directory is shipped as
MLflow ships it (``SparkModelCache``).

Arguments, column mapping and result conversion follow MLflow's ``spark_udf`` for primitive
and array-of-primitive result types. Everything else — struct, map and nested-array results,
other environment managers, prebuilt environments, Spark Connect — is MLflow's own
``spark_udf``, given the cached local model directory.
"""

from __future__ import annotations

import functools

# pandas_udf infers the UDF kind from these hints, as in MLflow.
from typing import Iterator, Tuple, Union  # noqa: UP035

import numpy as np
import pandas as pd

_loaded: dict[tuple, object] = {}


def _executor_model(path: str, model_config):
    key = (path, repr(model_config))
    model = _loaded.get(key)
    if model is None:
        from mlflow_oxide.pyfunc import load_model

        model = load_model(path, suppress_warnings=True, model_config=model_config)
        _loaded[key] = model
    return model


def _frame(args, input_schema) -> pd.DataFrame:
    """MLflow's mapping of UDF arguments to the model's input frame."""
    from mlflow.exceptions import MlflowException

    args = list(args)
    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        return args[0]
    if input_schema is None:
        names = [str(i) for i in range(len(args))]
    else:
        names = input_schema.input_names()
        required_names = input_schema.required_input_names()
        if len(args) > len(names):
            args = args[: len(names)]
        if len(args) < len(required_names):
            raise MlflowException(
                f"Model input is missing required columns. Expected {len(names)} required"
                f" input columns {names}, but the model received only {len(args)} "
                "unnamed input columns (Since the columns were passed unnamed they are"
                " expected to be in the order specified by the schema)."
            )
    return pd.DataFrame(
        data={
            names[i]: arg
            if isinstance(arg, pd.Series)
            else arg.apply(lambda row: row.to_dict(), axis=1)
            for i, arg in enumerate(args)
        },
        columns=names,
    )


@functools.cache
def _element_rules() -> dict:
    """Per primitive Spark type, MLflow's selection of prediction columns and their cast
    (``None`` for strings: every column, cast with ``str``)."""
    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
    )

    return {
        IntegerType: ([np.byte, np.ubyte, np.short, np.ushort, np.int32], np.int32),
        LongType: ([np.byte, np.ubyte, np.short, np.ushort, int], np.int64),
        FloatType: ((np.number,), np.float32),
        DoubleType: ((np.number,), np.float64),
        BooleanType: ([bool, np.bool_], bool),
        StringType: None,
    }


def _element_type(result_type):
    from pyspark.sql.types import ArrayType

    return result_type.elementType if isinstance(result_type, ArrayType) else result_type


def _convert(result, result_type):
    """MLflow's conversion of predictions to a primitive or array-of-primitive UDF result."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    from pyspark.sql.types import ArrayType

    if isinstance(result, dict):
        result = {k: list(v) for k, v in result.items()}
    if not isinstance(result, pd.DataFrame):
        result = pd.DataFrame([result]) if np.isscalar(result) else pd.DataFrame(result)
    elem_type = _element_type(result_type)
    rule = _element_rules()[type(elem_type)]
    if rule is not None:
        include, cast = rule
        result = result.select_dtypes(include).astype(cast)
    if len(result.columns) == 0:
        raise MlflowException(
            message="The model did not produce any values compatible with the requested "
            f"type '{elem_type}'. Consider requesting udf with StringType or "
            "Arraytype(StringType).",
            error_code=INVALID_PARAMETER_VALUE,
        )
    if rule is None:
        result = result.map(str)
    if type(result_type) is ArrayType:
        return pd.Series(result.to_numpy().tolist())
    return result[result.columns[0]]


def _served_natively(result_type) -> bool:
    return type(_element_type(result_type)) in _element_rules()


def spark_udf(
    spark,
    model_uri,
    result_type=None,
    env_manager=None,
    params=None,
    extra_env=None,
    prebuilt_env_uri=None,
    model_config=None,
):
    """A Spark UDF scoring with the model at ``model_uri``; the arguments and the UDF's
    behaviour are those of ``mlflow.pyfunc.spark_udf``."""
    import mlflow
    import mlflow.pyfunc as stock
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    from mlflow.utils.databricks_utils import is_in_databricks_runtime
    from mlflow.utils.spark_utils import is_spark_connect_mode
    from pyspark.sql.functions import pandas_udf
    from pyspark.sql.types import DoubleType

    from mlflow_oxide.pyfunc import _materialize, _mlmodel, _requirements, cache_dir

    local_path, _, _ = _materialize(model_uri, None)

    def stock_udf(resolved_type):
        return stock.spark_udf(
            spark,
            local_path,
            result_type=resolved_type,
            env_manager=env_manager,
            params=params,
            extra_env=extra_env,
            prebuilt_env_uri=prebuilt_env_uri,
            model_config=model_config,
        )

    if (
        env_manager not in (None, "local")
        or prebuilt_env_uri is not None
        or extra_env
        or is_spark_connect_mode()
        or is_in_databricks_runtime()
    ):
        return stock_udf(result_type)

    model_metadata = _mlmodel.to_model(_mlmodel.read(local_path))
    if result_type is None:
        if model_output_schema := model_metadata.get_output_schema():
            result_type = stock._infer_spark_udf_return_type(model_output_schema)
        else:
            stock._logger.warning(
                "No 'result_type' provided for spark_udf and the model does not "
                "have an output schema. 'result_type' is set to 'double' type."
            )
            result_type = DoubleType()
    elif isinstance(result_type, str):
        result_type = stock._parse_spark_datatype(result_type)
    if not _served_natively(result_type):
        return stock_udf(result_type)

    _requirements.warn_dependency_mismatches(local_path, cache_dir())
    stock._logger.warning(
        'Calling `spark_udf()` with `env_manager="local"` does not recreate the same '
        "environment that was used during training, which may lead to errors or inaccurate "
        'predictions. We recommend specifying `env_manager="conda"`, which automatically '
        "recreates the environment that was used to train the model and performs inference "
        "in the recreated environment."
    )
    params = stock._validate_params(params, model_metadata)
    input_schema = model_metadata.get_input_schema()

    if spark.conf.get("spark.master").startswith("local"):
        executor_path, archive_path = local_path, None
    else:
        from mlflow.pyfunc.spark_model_cache import SparkModelCache

        executor_path, archive_path = None, SparkModelCache.add_local_model(spark, local_path)
    tracking_uri = mlflow.get_tracking_uri()

    @pandas_udf(result_type)
    def udf(
        iterator: Iterator[Tuple[Union[pd.Series, pd.DataFrame], ...]],  # noqa: UP006,UP007
    ) -> Iterator[pd.Series]:
        import mlflow

        mlflow.set_tracking_uri(tracking_uri)
        path = executor_path
        if path is None:
            from mlflow.utils._spark_utils import _SparkDirectoryDistributor

            path = _SparkDirectoryDistributor.get_or_extract(archive_path)
        model = _executor_model(path, model_config)
        for batch in iterator:
            args = (batch,) if isinstance(batch, (pd.Series, pd.DataFrame)) else batch
            if len(args[0]) > 0:
                frame = _frame(args, input_schema)
                result = model.predict(frame, params=params) if params else model.predict(frame)
                yield _convert(result, result_type)

    udf.metadata = model_metadata

    @functools.wraps(udf)
    def udf_with_default_cols(*args):
        if args:
            return udf(*args)
        if input_schema and len(input_schema.optional_input_names()) > 0:
            raise MlflowException(
                message="Cannot apply UDF without column names specified when"
                " model signature contains optional columns.",
                error_code=INVALID_PARAMETER_VALUE,
            )
        if input_schema and len(input_schema.inputs) > 0:
            if input_schema.has_input_names():
                return udf(*input_schema.input_names())
            raise MlflowException(
                message="Cannot apply udf because no column names specified. The udf "
                f"expects {len(input_schema.inputs)} columns with types: "
                "{input_schema.inputs}. Input column names could not be inferred from the"
                " model signature (column names not found).",
                error_code=INVALID_PARAMETER_VALUE,
            )
        raise MlflowException(
            "Attempting to apply udf on zero columns because no column names were "
            "specified as arguments or inferred from the model signature.",
            error_code=INVALID_PARAMETER_VALUE,
        )

    return udf_with_default_cols
