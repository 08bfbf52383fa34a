"""`mlflow_oxide.pyfunc.spark_udf` against `mlflow.pyfunc.spark_udf(env_manager="local")`.

One local Spark session (``local[2]``, the settings of ``tests/metrics_states``) for the module.
Each scoring test applies stock's UDF and ours to the same DataFrame in one ``select`` (one
Spark job) and compares the two result columns: Spark type and every value. Errors raised on the
driver are compared with stock's (type, code, message). Jobs hold one UDF pair each: every
distinct UDF in a select needs its own Python worker per task, and only the first job pays for
starting them.
"""

from __future__ import annotations

import os
import shutil
import warnings

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, LongType

from tests.spark import local_spark

from .conftest import FEATURES, error_of, make_frame

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)

ROWS = 300


@pytest.fixture(scope="module")
def spark(models):
    # ``models`` first: it sets MLFLOW_TRACKING_URI and the model cache, which the JVM and its
    # Python workers inherit.
    with local_spark(
        "mlflow-oxide-spark-udf",
        {
            "spark.sql.execution.arrow.maxRecordsPerBatch": "128",
            "spark.sql.shuffle.partitions": "2",
        },
    ) as session:
        yield session


@pytest.fixture(scope="module")
def sdf(spark):
    """Features, plus the same features under other names in reverse order (``x0`` = ``f3``,
    ...): a UDF called with ``x0..x3`` maps them to the signature's ``f0..f3`` by position."""
    frame = make_frame(ROWS, seed=101)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's pandas-version warnings
        df = spark.createDataFrame(frame).repartition(2)
    for i, f in enumerate(reversed(FEATURES)):
        df = df.withColumn(f"x{i}", F.col(f))
    df = df.cache()
    df.count()
    yield df
    df.unpersist()


def _oxide_spark_udf():
    from mlflow_oxide.pyfunc import spark_udf

    return spark_udf


@pytest.fixture
def oxide_spark_udf():
    return _oxide_spark_udf()


@pytest.fixture(scope="module")
def oxide_spark_udf_module():
    return _oxide_spark_udf()


def collect(df, pairs: list[tuple[str, str]]):
    """Run the select; assert each (stock, ours) pair has the same Spark type and values."""
    schema = {f.name: f.dataType for f in df.schema.fields}
    rows = df.orderBy("id").collect()
    assert len(rows) == ROWS
    for stock, ours in pairs:
        assert schema[ours] == schema[stock], (stock, schema[stock], schema[ours])
        got = [r[ours] for r in rows]
        expected = [r[stock] for r in rows]
        assert got == expected, (stock, ours)
        assert any(v is not None for v in expected), stock
    return rows


@pytest.fixture(scope="module")
def lr_udfs(models, spark, oxide_spark_udf_module):
    """Stock's and our UDF for the registered model, default result type (stock infers it from
    the output schema)."""
    stock = mlflow.pyfunc.spark_udf(spark, models.lr_uri, env_manager="local")
    ours = oxide_spark_udf_module(spark, models.lr_uri)
    return stock, ours


@pytest.mark.parametrize("form", ["names", "columns", "no-args", "positional"])
def test_default_result_type_and_argument_forms(lr_udfs, sdf, form):
    """Called with column names, with ``col()``s, with no arguments (the signature's column
    names) and with other columns, mapped to the signature's inputs by position."""
    stock, ours = lr_udfs
    args = {
        "names": FEATURES,
        "columns": [F.col(f) for f in FEATURES],
        "no-args": [],
        "positional": [f"x{i}" for i in range(4)],
    }[form]
    df = sdf.select("id", stock(*args).alias("stock"), ours(*args).alias("ours"))
    collect(df, [("stock", "ours")])


def test_positional_columns_are_not_matched_by_name(models):
    """Guard for the ``positional`` case above: the reversed columns give other predictions
    than the signature's own columns, so mapping by name would be caught."""
    frame = make_frame(ROWS, seed=101)
    model = mlflow.pyfunc.load_model(models.lr_uri)
    reversed_frame = frame[list(reversed(FEATURES))].set_axis(FEATURES, axis=1)
    assert list(model.predict(frame[FEATURES])) != list(model.predict(reversed_frame))


def _pair(spark, oxide_spark_udf, uri, result_type):
    kwargs = {} if result_type is None else {"result_type": result_type}
    stock = mlflow.pyfunc.spark_udf(spark, uri, env_manager="local", **kwargs)
    ours = oxide_spark_udf(spark, uri, **kwargs)
    return stock, ours


@pytest.mark.parametrize(
    "result_type",
    ["long", LongType(), "float", "string"],
    ids=["long", "LongType", "float", "string"],
)
def test_scalar_result_types(models, sdf, spark, oxide_spark_udf, result_type):
    """Scalar result types given as type names and as pyspark DataTypes."""
    stock, ours = _pair(spark, oxide_spark_udf, models.lr_runs_uri, result_type)
    df = sdf.select("id", stock(*FEATURES).alias("stock"), ours(*FEATURES).alias("ours"))
    collect(df, [("stock", "ours")])


@pytest.mark.parametrize(
    "case", ["array<double>", "ArrayType", "dataframe-inferred", "no-output-schema"]
)
def test_compound_and_inferred_results(models, sdf, spark, oxide_spark_udf, case):
    """A 2-D prediction (``predict_proba``) as ``array<double>``, by name and as ArrayType; a
    DataFrame prediction with no result type (stock infers a struct from the output schema); a
    model without output schema and no result type (double)."""
    uri, result_type = {
        "array<double>": (models.proba_path, "array<double>"),
        "ArrayType": (models.proba_path, ArrayType(DoubleType())),
        "dataframe-inferred": (models.frame_uri, None),
        "no-output-schema": (models.slow_uri, None),
    }[case]
    stock, ours = _pair(spark, oxide_spark_udf, uri, result_type)
    df = sdf.select("id", stock().alias("stock"), ours().alias("ours"))
    rows = collect(df, [("stock", "ours")])
    if case.startswith("Array") or case.startswith("array"):
        assert all(len(r["ours"]) == 3 for r in rows)


def _outcome(fn):
    try:
        fn()
    except MlflowException as exc:
        return error_of(exc)
    return "no error"


@pytest.mark.parametrize("case", ["no-args-without-signature", "bad-result-type"])
def test_errors_match_stock(models, spark, oxide_spark_udf, case):
    """Errors raised on the driver (no Spark job): the same exception as stock."""
    if case == "no-args-without-signature":

        def scenario(make):  # applied to no columns; the model has no signature to name them
            return make(spark, models.nosig_path)()
    else:

        def scenario(make):
            return make(spark, models.lr_uri, result_type="binary")

    def stock_udf(*args, **kwargs):
        return mlflow.pyfunc.spark_udf(*args, env_manager="local", **kwargs)

    stock = _outcome(lambda: scenario(stock_udf))
    ours = _outcome(lambda: scenario(oxide_spark_udf))
    assert isinstance(stock, dict), stock
    assert ours == stock
