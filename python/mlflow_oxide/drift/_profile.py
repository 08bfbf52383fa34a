"""Baseline profiles: a compact, mergeable summary of a training table that later stands in
for it as the reference of a drift report.

Per column: numeric columns keep a quantile sketch (at most ``capacity`` weighted points, the
exact minimum and maximum, exact count/mean/std), categorical columns their exact category
counts; both keep row and null counts. Error bounds against the raw reference (tested in
tests/drift/test_profile.py): the sketch's CDF is within ``rank_error(column)`` of the data's
everywhere (about ``1 / (capacity - 3)`` per build, averaged over merged partitions plus one
such step per merge that compacts), so the KS statistic is within ``rank_error`` and the
Wasserstein distance within ``rank_error * (max - min)``; normalized Wasserstein uses the exact
std; binned divergences use edges from the sketch's quantiles. Columns with at most
``capacity`` distinct values are kept exactly, so every statistic on them equals the raw
one.

Serialized as MessagePack in the versioned envelope of the metric states."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.drift import _tables
from mlflow_oxide.drift._sorting import sort_samples
from mlflow_oxide.drift._values import categories, is_numeric_dtype, numeric

DEFAULT_CAPACITY = 2048
ARTIFACT_FILE = "baseline_profile.msgpack"


def column_kind(column, name: str, categorical: Iterable[str]) -> str:
    if name in set(categorical):
        return "categorical"
    return "numeric" if is_numeric_dtype(column) else "categorical"


class BaselineProfile:
    """Per-column summary of a reference table; pass it as ``reference`` to ``drift_report``."""

    def __init__(self, core):
        self._core = core
        self._info = {c[0]: c for c in core.columns()}

    @classmethod
    def from_table(
        cls,
        table,
        columns: Iterable[str] | None = None,
        categorical: Iterable[str] = (),
        capacity: int = DEFAULT_CAPACITY,
    ) -> BaselineProfile:
        """Profile a pandas/polars DataFrame or pyarrow Table/RecordBatch."""
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
            raise TypeError(f"capacity must be an integer, got {capacity!r}")
        names = _tables.column_names(table)
        columns = names if columns is None else list(columns)
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"columns not in the table: {missing}")
        categorical = set(categorical)
        core = _native.DriftProfileCore()
        rows = _tables.row_count(table)
        plan, values = [], []
        for name in columns:
            col = _tables.get_column(table, name)
            if column_kind(col, name, categorical) == "numeric":
                v, nulls = numeric(col, name)
                plan.append((name, _tables.dtype_name(col), nulls, v))
                if v.size:
                    values.append(v)
            else:
                plan.append((name, _tables.dtype_name(col), *categories(col, name)))
        sorted_ = iter(sort_samples(values))
        for name, dtype, *summary in plan:
            if len(summary) == 2:
                nulls, v = summary
                sample = next(sorted_) if v.size else None
                core.add_numeric(name, dtype, rows, nulls, sample, int(capacity))
            else:
                labels, counts, nulls = summary
                core.add_categorical(name, dtype, rows, nulls, labels, list(counts))
        return cls(core)

    @classmethod
    def from_batches(cls, batches: Iterable, **options) -> BaselineProfile:
        """Profile each table or record batch and merge the profiles."""
        return cls.merge_all(cls.from_table(b, **options) for b in batches)

    @staticmethod
    def merge_all(profiles: Iterable[BaselineProfile]) -> BaselineProfile:
        merged = None
        for p in profiles:
            merged = p if merged is None else merged.merge(p)
        if merged is None:
            raise ValueError("no profiles to merge")
        return merged

    @classmethod
    def from_spark(
        cls,
        df,
        columns: Iterable[str] | None = None,
        categorical: Iterable[str] = (),
        capacity: int = DEFAULT_CAPACITY,
    ) -> BaselineProfile:
        """Profile a Spark DataFrame: one profile per partition (``mapInArrow``), merged on
        the driver. Column kinds come from the Spark schema so every partition agrees."""
        from pyspark.sql.types import BooleanType, NumericType

        names = list(columns) if columns is not None else df.columns
        categorical = set(categorical) | {
            f.name
            for f in df.schema.fields
            if f.name in names
            and (not isinstance(f.dataType, NumericType) or isinstance(f.dataType, BooleanType))
        }
        options = {"columns": names, "categorical": sorted(categorical), "capacity": capacity}

        def profile_partition(batches):
            import pyarrow as pa

            for batch in batches:
                if batch.num_rows:
                    data = cls.from_table(batch, **options).to_bytes()
                    yield pa.RecordBatch.from_pydict({"profile": [data]})

        rows = df.select(*names).mapInArrow(profile_partition, "profile binary").collect()
        return cls.merge_all(cls.from_bytes(bytes(r["profile"])) for r in rows)

    def merge(self, other: BaselineProfile) -> BaselineProfile:
        if not isinstance(other, BaselineProfile):
            raise TypeError(f"can only merge a BaselineProfile, got {type(other).__name__}")
        return BaselineProfile(self._core.merge(other._core))

    @property
    def columns(self) -> list[str]:
        return list(self._info)

    def _column(self, name: str):
        try:
            return self._info[name]
        except KeyError:
            raise KeyError(f"the baseline profile has no column {name!r}") from None

    def kind(self, name: str) -> str:
        return self._column(name)[1]

    def dtype(self, name: str) -> str:
        return self._column(name)[2]

    def rows(self, name: str) -> int:
        return self._column(name)[3]

    def nulls(self, name: str) -> int:
        return self._column(name)[4]

    def rank_error(self, name: str) -> float:
        """Bound on |sketch CDF - data CDF| of a numeric column (0 when kept exactly)."""
        return self._core.numeric_stats(name)[3]

    def numeric_stats(self, name: str) -> dict:
        count, mean, std, rank_error, capacity, points = self._core.numeric_stats(name)
        return {
            "count": count,
            "mean": mean,
            "std": std,
            "rank_error": rank_error,
            "capacity": capacity,
            "points": points,
        }

    def sample(self, name: str, means: bool = False):
        """The numeric column's sketch as a weighted sample for the native tests: points at
        block maxima (the CDF bound holds there) or, with ``means``, at block means (used for
        Wasserstein distances, so wide tail blocks do not move their mass to the block's end)."""
        return self._core.sample(name, means)

    def category_counts(self, name: str) -> tuple[list, np.ndarray]:
        labels, counts = self._core.categories(name)
        return labels, np.asarray(counts, dtype=np.float64)

    def to_bytes(self) -> bytes:
        return bytes(self._core.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> BaselineProfile:
        return cls(_native.DriftProfileCore.from_bytes(bytes(data)))

    def save(self, path: str | os.PathLike) -> None:
        tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(self.to_bytes())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BaselineProfile:
        with open(path, "rb") as f:
            return cls.from_bytes(f.read())

    def log(self, artifact_path: str = "drift_baseline", run_id: str | None = None) -> str:
        """Log the profile as an artifact of the run (next to the model logged at training
        time); returns the artifact URI to load it back with ``load_logged``."""
        import tempfile

        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, ARTIFACT_FILE)
            self.save(path)
            if run_id is None:
                mlflow.log_artifact(path, artifact_path)
                run_id = mlflow.active_run().info.run_id
            else:
                mlflow.MlflowClient().log_artifact(run_id, path, artifact_path)
        return f"runs:/{run_id}/{artifact_path}/{ARTIFACT_FILE}"

    @classmethod
    def load_logged(cls, artifact_uri: str) -> BaselineProfile:
        """Load a profile logged with ``log`` (any artifact URI MLflow resolves)."""
        import mlflow

        return cls.load(mlflow.artifacts.download_artifacts(artifact_uri))

    def __repr__(self) -> str:
        return f"BaselineProfile(columns={self.columns})"
