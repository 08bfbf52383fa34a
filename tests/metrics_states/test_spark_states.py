"""Mergeable states in a real (local) Spark job: one state per partition, merged on the driver.

The job is what a user writes: ``df.mapInArrow(fn, schema="state binary")`` where ``fn`` feeds
every Arrow ``RecordBatch`` of its partition to one state and yields a single row holding
``state.to_bytes()``; the driver collects the rows, ``from_bytes`` each and merges them. The
result must equal one state fed all rows in this process and scikit-learn on the same rows.

The DataFrame has 200k rows in 4 partitions plus 2 empty ones (partitions whose function sees
no batch at all and ships a fresh state).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from mlflow_oxide.metrics import BinaryScoreState, ConfusionMatrixState, RegressionState
from sklearn import metrics as skm

from tests.spark import local_spark

from .test_states import (
    assert_close,
    expected_classification,
    expected_regression,
    expected_scores,
)

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import functions as F  # noqa: E402

N_ROWS = 200_000
N_PARTITIONS = 6  # 4 with rows, 2 empty
ROWS_PER_BATCH = 10_000  # several Arrow batches, i.e. several update() calls, per partition
CLASSES = np.array(["bird", "cat", "dog", "fish"])


@pytest.fixture(scope="module")
def spark():
    with local_spark(
        "mlflow-oxide-metric-states",
        {"spark.sql.execution.arrow.maxRecordsPerBatch": str(ROWS_PER_BATCH)},
    ) as session:
        yield session


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = N_ROWS
    y_true = (rng.random(n) < 0.3).astype(np.int64)
    noise = rng.normal(0.0, 1.0, size=n)
    score = 1.0 / (1.0 + np.exp(-(1.5 * y_true - 0.75 + noise)))
    score[: n // 4] = np.round(score[: n // 4], 3)  # ties, spread over every partition
    y_pred = (score > 0.5).astype(np.int64)
    cls_true = CLASSES[rng.choice(len(CLASSES), size=n, p=[0.1, 0.2, 0.3, 0.4])]
    cls_pred = np.where(rng.random(n) < 0.7, cls_true, CLASSES[rng.integers(0, 4, size=n)])
    target = rng.lognormal(2.0, 0.7, size=n)
    prediction = np.abs(target + rng.normal(0.0, 2.0, size=n))
    return pd.DataFrame(
        {
            "y_true": y_true,
            "y_pred": y_pred,
            "score": score,
            "weight": rng.uniform(0.1, 3.0, size=n),
            "cls_true": cls_true,
            "cls_pred": cls_pred,
            "target": target,
            "prediction": prediction,
        }
    )


@pytest.fixture(scope="module")
def spark_df(spark, data):
    """``data`` hash-partitioned into 6 partitions of which exactly 4 hold rows: the rows get
    one of 4 keys chosen (with Spark's own hash) to land in 4 different partitions."""
    keys = spark.range(64).selectExpr("id", f"pmod(hash(id), {N_PARTITIONS}) AS p").toPandas()
    keys = keys.drop_duplicates("p")["id"].to_numpy()[:4]
    with_key = data.assign(part=keys[np.arange(len(data)) % 4])
    df = spark.createDataFrame(with_key).repartition(N_PARTITIONS, "part").cache()
    sizes = df.groupBy(F.spark_partition_id().alias("pid")).count().collect()
    assert len(sizes) == 4 and sum(r["count"] for r in sizes) == N_ROWS
    return df


# What each job computes: state factory, input columns, weighted?
JOBS = {
    "confusion-binary": (ConfusionMatrixState, {}, ("y_true", "y_pred"), True),
    "confusion-binary-unweighted": (ConfusionMatrixState, {}, ("y_true", "y_pred"), False),
    "confusion-multiclass-str": (ConfusionMatrixState, {}, ("cls_true", "cls_pred"), True),
    "regression": (RegressionState, {}, ("target", "prediction"), True),
    "regression-unweighted": (RegressionState, {}, ("target", "prediction"), False),
    "score-exact": (BinaryScoreState, {}, ("y_true", "score"), True),
    "score-histogram": (BinaryScoreState, {"bins": 1000}, ("y_true", "score"), False),
}


def partition_function(state_name: str, state_kwargs: dict, columns: tuple, weighted: bool):
    """A closure, so cloudpickle ships it by value: the Python workers cannot import tests."""

    def build_state(batches):
        import pyarrow as pa
        from mlflow_oxide import metrics

        state = getattr(metrics, state_name)(**state_kwargs)
        for batch in batches:
            weight = batch.column("weight") if weighted else None
            state.update(batch.column(columns[0]), batch.column(columns[1]), sample_weight=weight)
        yield pa.RecordBatch.from_arrays([pa.array([state.to_bytes()], pa.binary())], ["state"])

    return build_state


def run_job(df, job: str):
    kind, kwargs, columns, weighted = JOBS[job]
    fn = partition_function(kind.__name__, kwargs, columns, weighted)
    rows = df.mapInArrow(fn, schema="state binary").collect()
    assert len(rows) == N_PARTITIONS  # one state per partition, empty ones included
    partials = [kind.from_bytes(bytes(row.state)) for row in rows]
    merged = partials[0]
    for other in partials[1:]:
        assert merged.merge(other) is merged
    return merged


def local_state(data: pd.DataFrame, job: str):
    kind, kwargs, columns, weighted = JOBS[job]
    weight = data["weight"].to_numpy() if weighted else None
    return kind(**kwargs).update(
        data[columns[0]].to_numpy(), data[columns[1]].to_numpy(), sample_weight=weight
    )


def sklearn_reference(data: pd.DataFrame, job: str) -> dict:
    kind, _, (a, b), weighted = JOBS[job]
    y_true, y_pred = data[a].to_numpy(), data[b].to_numpy()
    w = data["weight"].to_numpy() if weighted else None
    if kind is BinaryScoreState:
        return expected_scores(y_true == 1, y_pred, w)
    if kind is RegressionState:
        return expected_regression(y_true, y_pred, w)
    binary = len(np.unique(np.concatenate([y_true, y_pred]))) == 2
    return expected_classification(y_true, y_pred, w, "binary" if binary else "weighted", 1)


@pytest.mark.parametrize("job", list(JOBS))
def test_spark_map_in_arrow_states_match_local_and_sklearn(spark_df, data, job):
    kind, kwargs, _, weighted = JOBS[job]
    rtol = 1e-9 if kind is RegressionState else 1e-12
    merged = run_job(spark_df, job)
    local = local_state(data, job)
    got = merged.compute()
    assert_close(got, local.compute(), rtol)

    want = sklearn_reference(data, job)
    if kwargs.get("bins"):
        assert math.isclose(merged.max_auc_error(), local.max_auc_error(), rel_tol=1e-12)
        error = abs(got["roc_auc"] - want["roc_auc"])
        assert error <= merged.max_auc_error() + 1e-15, (error, merged.max_auc_error())
        assert merged.max_auc_error() < 0.01
        return
    assert_close(got, want, rtol)
    if kind is ConfusionMatrixState:
        w = data["weight"].to_numpy() if weighted else None
        a, b = JOBS[job][2]
        np.testing.assert_allclose(
            merged.confusion_matrix(),
            skm.confusion_matrix(data[a], data[b], sample_weight=w),
            rtol=1e-12,
        )
        assert list(merged.labels) == sorted(set(data[a]) | set(data[b]))
