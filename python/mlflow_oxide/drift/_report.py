"""The table-level drift report: one test per column, chosen as Evidently chooses unless
overridden, and a dataset-level verdict from the share of drifted columns."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.drift import _binned, _categorical, _tables
from mlflow_oxide.drift._categorical import CategoryCounts
from mlflow_oxide.drift._profile import BaselineProfile, column_kind
from mlflow_oxide.drift._sorting import sort_samples
from mlflow_oxide.drift._two_sample import ks_pvalue
from mlflow_oxide.drift._values import categories, numeric

# name: (columns it applies to, what is compared with the threshold, default threshold)
TESTS: dict[str, tuple[str, str, float]] = {
    "ks": ("numeric", "p_value", 0.05),
    "anderson": ("numeric", "p_value", 0.05),
    "cramer_von_mises": ("numeric", "p_value", 0.05),
    "wasserstein": ("numeric", "distance", 0.1),
    "psi": ("any", "distance", 0.1),
    "jensenshannon": ("any", "distance", 0.1),
    "kl_div": ("any", "distance", 0.1),
    "hellinger": ("any", "distance", 0.1),
    "tvd": ("any", "distance", 0.1),
    "linf": ("any", "distance", 0.1),
    "chisquare": ("categorical", "p_value", 0.05),
    "z": ("categorical", "p_value", 0.05),
}
# Numeric columns with at most this many distinct values get categorical tests under "auto".
AUTO_CATEGORICAL_MAX_VALUES = 5
# Categorical tests on a numeric column treat its distinct values as categories, up to this many.
MAX_VALUE_CATEGORIES = 1000
SMALL_REFERENCE_ROWS = 1000
HISTOGRAM_BINS = 30
TOP_CATEGORIES = 20


@dataclasses.dataclass
class ColumnDrift:
    column: str
    kind: str | None
    test: str | None
    score: float | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool | None
    status: str
    reference_rows: int
    current_rows: int
    reference_null_share: float | None
    current_null_share: float | None
    new_categories: list = dataclasses.field(default_factory=list)
    missing_categories: list = dataclasses.field(default_factory=list)
    plot: dict | None = dataclasses.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclasses.dataclass
class DriftReport:
    columns: list[ColumnDrift]
    drift_share: float
    reference_is_profile: bool

    @property
    def tested(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.ok]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.tested if c.drifted]

    @property
    def drifted_share(self) -> float:
        tested = self.tested
        return len(self.drifted_columns) / len(tested) if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.tested) and self.drifted_share >= self.drift_share

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_records(self) -> list[dict]:
        fields = [f.name for f in dataclasses.fields(ColumnDrift) if f.name != "plot"]
        return [{f: getattr(c, f) for f in fields} for c in self.columns]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame.from_records(
            self.to_records(), columns=[f for f in self.to_records()[0]] if self.columns else None
        )

    def to_arrow(self):
        import pyarrow as pa

        records = self.to_records()
        for r in records:
            r["new_categories"] = [str(v) for v in r["new_categories"]]
            r["missing_categories"] = [str(v) for v in r["missing_categories"]]
        return pa.Table.from_pylist(records)

    def summary(self) -> dict:
        return {
            "columns": len(self.columns),
            "tested": len(self.tested),
            "drifted": len(self.drifted_columns),
            "drifted_share": self.drifted_share,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
        }

    def _repr_html_(self) -> str:
        return self.to_pandas().drop(columns=["new_categories", "missing_categories"]).to_html()


class _Side:
    """One column of one side: its kind and either a sorted sample or category counts."""

    def __init__(self, rows: int, nulls: int, dtype: str):
        self.rows, self.nulls, self.dtype = rows, nulls, dtype
        self.sample = None
        self.counts: CategoryCounts | None = None
        self.std: float | None = None
        self.rank_error = 0.0
        # A profile's sketch with points at block means, for Wasserstein (see _profile).
        self.mean_sample = None

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def non_null(self) -> float:
        if self.sample is not None:
            return float(self.sample.total)
        return self.counts.total if self.counts is not None else 0.0


def _resolve_tests(tests, columns: list[str]) -> dict[str, str]:
    if isinstance(tests, str):
        chosen = dict.fromkeys(columns, tests)
    elif isinstance(tests, Mapping):
        unknown = [c for c in tests if c not in columns]
        if unknown:
            raise ValueError(f"tests given for columns not in the report: {unknown}")
        chosen = {c: tests.get(c, "auto") for c in columns}
    else:
        raise TypeError(f"tests must be 'auto', a test name or a dict, got {type(tests).__name__}")
    for column, test in chosen.items():
        if test != "auto" and test not in TESTS:
            raise ValueError(
                f"unknown drift test {test!r} for column {column!r}; "
                f"choose 'auto' or one of {sorted(TESTS)}"
            )
    return chosen


def _threshold(thresholds: Mapping | None, column: str, test: str) -> float:
    thresholds = thresholds or {}
    for key in (column, test):
        if key in thresholds:
            value = thresholds[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"threshold for {key!r} must be a non-negative number")
            return float(value)
    return TESTS[test][2]


def _value_counts(side: _Side, limit: int = MAX_VALUE_CATEGORIES) -> CategoryCounts | None:
    """A numeric side's distinct values as categories (None if more than ``limit``)."""
    distinct = side.sample.distinct(limit)
    if distinct is None:
        return None
    values, weights = distinct
    return CategoryCounts(list(values), np.asarray(weights), side.nulls)


def _auto(kind: str, ref: _Side, cur: _Side) -> str:
    """Evidently's default choice by column type, distinct values and reference size."""
    if kind == "numeric":
        few = ref.sample.distinct(AUTO_CATEGORICAL_MAX_VALUES + 1)
        cur_few = cur.sample.distinct(AUTO_CATEGORICAL_MAX_VALUES + 1)
        n_values = len(set(few[0]) | set(cur_few[0])) if few and cur_few else math.inf
    else:
        n_values = len(set(ref.counts.labels) | set(cur.counts.labels))
    many = kind == "numeric" and n_values > AUTO_CATEGORICAL_MAX_VALUES
    if ref.non_null <= SMALL_REFERENCE_ROWS:
        if many:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    return "wasserstein" if many else "jensenshannon"


def _plot_numeric(ref: _Side, cur: _Side) -> dict:
    qs = list(np.linspace(0, 1, 101))
    rq, cq = ref.sample.quantiles(qs), cur.sample.quantiles(qs)
    lo, hi = min(rq[0], cq[0]), max(rq[-1], cq[-1])
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1) if hi > lo else np.array([lo, lo + 1])
    inner = list(edges[1:-1])
    r = np.asarray(ref.sample.bin_counts(inner))
    c = np.asarray(cur.sample.bin_counts(inner))
    return {
        "kind": "numeric",
        "edges": edges.tolist(),
        "reference": (r / r.sum()).tolist(),
        "current": (c / c.sum()).tolist(),
        "quantiles": qs,
        "reference_quantiles": rq,
        "current_quantiles": cq,
    }


def _plot_categorical(ref: CategoryCounts, cur: CategoryCounts) -> dict:
    labels, r, c = _categorical.aligned(ref, cur)
    order = np.argsort(-(r / r.sum() + c / c.sum()), kind="stable")[:TOP_CATEGORIES]
    return {
        "kind": "categorical",
        "labels": [str(labels[i]) for i in order],
        "reference": (r[order] / r.sum()).tolist(),
        "current": (c[order] / c.sum()).tolist(),
        "other_categories": max(0, len(labels) - TOP_CATEGORIES),
    }


def _run(test: str, kind: str, ref: _Side, cur: _Side, bins: int) -> dict:
    """Statistic, p-value and category changes of one test on one column."""
    out = {"statistic": None, "p_value": None, "new": [], "missing": []}
    applies = TESTS[test][0]
    if applies == "numeric" and kind != "numeric":
        raise _ColumnError(f"test {test!r} needs a numeric column")
    if ref.sample is not None and ref.sample.weighted and test in ("anderson", "cramer_von_mises"):
        raise _ColumnError(f"test {test!r} needs the raw reference data, not a baseline profile")
    if test == "ks":
        mx, _, mn, _ = _native.ks_extremes_of(ref.sample, cur.sample)
        d = max(mx, -mn)
        n1, n2 = int(round(ref.non_null)), int(round(cur.non_null))
        # A sketch that kept every value (rank_error 0) is the data: scipy's choice applies.
        mode = "asymp" if ref.sample.weighted and ref.rank_error else "auto"
        d, p = ks_pvalue(n1, n2, d, "two-sided", mode)
        out.update(statistic=float(d), p_value=float(p))
    elif test == "anderson":
        from mlflow_oxide.drift._two_sample import anderson_ksamp

        raise _Delegate(lambda r, c: anderson_ksamp([r, c], variant="midrank"))
    elif test == "cramer_von_mises":
        from mlflow_oxide.drift._two_sample import cramervonmises_2samp

        raise _Delegate(cramervonmises_2samp)
    elif test == "wasserstein":
        reference = ref.mean_sample if ref.mean_sample is not None else ref.sample
        out["statistic"] = _binned.normalized_wasserstein_of(reference, cur.sample, ref.std)
    elif kind == "numeric" and test in _SHARE_TESTS and not _few_values(ref, cur, bins):
        _, r, c = _binned.proportions(ref.sample, cur.sample, bins)
        out["statistic"] = _shares_measure(test, r, c)
    else:
        if kind == "numeric":
            rc, cc = _value_counts(ref), _value_counts(cur)
            if rc is None or cc is None:
                raise _ColumnError(
                    f"test {test!r} treats values as categories; the column has more than "
                    f"{MAX_VALUE_CATEGORIES} distinct values"
                )
        else:
            rc, cc = ref.counts, cur.counts
        result = _categorical.compare(rc, cc)
        out["new"], out["missing"] = result.new_categories, result.missing_categories
        if test == "chisquare":
            out.update(statistic=result.chi2_statistic, p_value=result.chi2_pvalue)
        elif test == "z":
            out.update(p_value=result.z_pvalue)
        else:
            out["statistic"] = _shares_measure(test, result.reference_share, result.current_share)
    return out


_SHARE_TESTS = ("psi", "jensenshannon", "kl_div", "hellinger", "tvd", "linf")


def _few_values(ref: _Side, cur: _Side, bins: int) -> bool:
    """At most ``bins`` distinct values in both samples together: quantile bins would merge
    values (a 0/1 column would fall into one bin), so shares are taken per value."""
    rc, cc = _value_counts(ref, bins), _value_counts(cur, bins)
    return rc is not None and cc is not None and len(set(rc.labels) | set(cc.labels)) <= bins


def _shares_measure(test: str, r: np.ndarray, c: np.ndarray) -> float:
    return {
        "psi": _binned.psi_of,
        "jensenshannon": _binned.js_of,
        "kl_div": _binned.kl_of,
        "hellinger": _binned.hellinger_of,
        "tvd": lambda a, b: float(np.abs(a - b).sum() / 2),
        "linf": lambda a, b: float(np.abs(a - b).max()),
    }[test](r, c)


class _ColumnError(Exception):
    """A column the chosen test cannot run on: reported in its row, not raised."""


class _Delegate(Exception):
    """A rank test that needs the raw values (run by the scipy-compatible function)."""

    def __init__(self, function):
        self.function = function


def _read_raw(column, name: str, kind: str, side: _Side) -> np.ndarray | None:
    """Fill ``side`` from a table column; numeric values are returned, to be sorted."""
    if kind == "numeric":
        values, side.nulls = numeric(column, name)
        return values
    labels, counts, side.nulls = categories(column, name)
    side.counts = CategoryCounts(labels, counts, side.nulls)
    return None


def _read_profile(profile: BaselineProfile, name: str, kind: str, side: _Side) -> None:
    """Fill ``side`` from a baseline profile's column (its sketch is already sorted)."""
    if kind == "numeric":
        stats = profile.numeric_stats(name)
        side.std, side.rank_error = stats["std"], stats["rank_error"]
        if stats["count"]:
            side.sample = profile.sample(name)
            side.mean_sample = profile.sample(name, means=True)
    else:
        labels, counts = profile.category_counts(name)
        side.counts = CategoryCounts(labels, counts, side.nulls)
    return None


def drift_report(
    reference,
    current,
    columns: Iterable[str] | None = None,
    tests="auto",
    thresholds: Mapping[str, float] | None = None,
    drift_share: float = 0.5,
    categorical: Iterable[str] = (),
    bins: int = _binned.DEFAULT_BINS,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    ``reference``: a pandas/polars DataFrame, pyarrow Table or a ``BaselineProfile``;
    ``current``: a table. ``columns``: default, every column both have. ``tests``: "auto",
    one test name for every column, or ``{column: test}`` (others "auto"); see ``TESTS``.
    ``thresholds``: per column name or per test name (p-value tests drift below it, distance
    tests at or above it). ``categorical``: numeric columns to treat as categories. A
    column that cannot be tested (type mismatch, no values on a side, a test that does not
    apply) gets a status explaining why instead of a result."""
    is_profile = isinstance(reference, BaselineProfile)
    ref_names = reference.columns if is_profile else _tables.column_names(reference)
    cur_names = _tables.column_names(current)
    if columns is None:
        columns = [c for c in ref_names if c in set(cur_names)]
        if not columns:
            raise ValueError("reference and current have no columns in common")
    else:
        columns = list(columns)
        absent = [c for c in columns if c not in ref_names or c not in cur_names]
        if absent:
            raise ValueError(f"columns missing from reference or current: {absent}")
        if not columns:
            raise ValueError("no columns to compare")
    if not 0 <= drift_share <= 1:
        raise ValueError(f"drift_share must be within [0, 1], got {drift_share}")
    bins = _binned.check_bins(bins)
    chosen = _resolve_tests(tests, columns)
    categorical = set(categorical)
    cur_rows = _tables.row_count(current)

    sides: dict[str, tuple[_Side, _Side]] = {}
    kinds: dict[str, str] = {}
    errors: dict[str, str] = {}
    to_sort: list[tuple[_Side, np.ndarray]] = []
    raw: dict[str, tuple] = {}
    for name in columns:
        cur_col = _tables.get_column(current, name)
        cur_kind = column_kind(cur_col, name, categorical)
        if is_profile:
            ref_kind = reference.kind(name)
            ref = _Side(reference.rows(name), reference.nulls(name), reference.dtype(name))
        else:
            ref_col = _tables.get_column(reference, name)
            ref_kind = column_kind(ref_col, name, categorical)
            ref = _Side(_tables.row_count(reference), 0, _tables.dtype_name(ref_col))
        cur = _Side(cur_rows, 0, _tables.dtype_name(cur_col))
        sides[name] = (ref, cur)
        if ref_kind != cur_kind:
            errors[name] = (
                f"type mismatch: {ref_kind} in reference ({ref.dtype}), "
                f"{cur_kind} in current ({cur.dtype})"
            )
            continue
        kinds[name] = ref_kind
        try:
            if is_profile:
                ref_values = _read_profile(reference, name, ref_kind, ref)
            else:
                ref_values = _read_raw(ref_col, name, ref_kind, ref)
                if ref_values is not None:
                    ref.std = float(np.std(ref_values)) if ref_values.size else 0.0
            cur_values = _read_raw(cur_col, name, ref_kind, cur)
        except (TypeError, ValueError) as e:
            errors[name] = f"unreadable column: {e}"
            continue
        if ref_kind == "numeric":
            raw[name] = (ref_values, cur_values)
            for side, values in ((ref, ref_values), (cur, cur_values)):
                if values is not None and values.size:
                    to_sort.append((side, values))

    for (side, _), sample in zip(to_sort, sort_samples([v for _, v in to_sort]), strict=True):
        side.sample = sample

    def column_result(name: str) -> ColumnDrift:
        ref, cur = sides[name]
        kind = kinds.get(name)
        base = dict(
            column=name,
            kind=kind,
            reference_rows=ref.rows,
            current_rows=cur.rows,
            reference_null_share=ref.null_share,
            current_null_share=cur.null_share,
        )
        error = errors.get(name)
        if error is None and (ref.non_null == 0 or cur.non_null == 0):
            empty = "reference" if ref.non_null == 0 else "current"
            error = f"empty: {empty} has no non-null values"
        if error is not None:
            return ColumnDrift(
                test=None if chosen[name] == "auto" else chosen[name],
                score=None,
                statistic=None,
                p_value=None,
                threshold=None,
                drifted=None,
                status=error,
                **base,
            )
        test = chosen[name] if chosen[name] != "auto" else _auto(kind, ref, cur)
        threshold = _threshold(thresholds, name, test)
        try:
            try:
                out = _run(test, kind, ref, cur, bins)
            except _Delegate as d:
                result = d.function(*raw[name])
                out = {
                    "statistic": float(result.statistic),
                    "p_value": float(result.pvalue),
                    "new": [],
                    "missing": [],
                }
        except _ColumnError as e:
            return ColumnDrift(
                test=test,
                score=None,
                statistic=None,
                p_value=None,
                threshold=threshold,
                drifted=None,
                status=str(e),
                **base,
            )
        by_p_value = TESTS[test][1] == "p_value"
        score = out["p_value"] if by_p_value else out["statistic"]
        drifted = score < threshold if by_p_value else score >= threshold
        plot = (
            _plot_numeric(ref, cur)
            if kind == "numeric"
            else _plot_categorical(ref.counts, cur.counts)
        )
        return ColumnDrift(
            test=test,
            score=float(score),
            statistic=out["statistic"],
            p_value=out["p_value"],
            threshold=threshold,
            drifted=bool(drifted),
            status="ok",
            new_categories=out["new"],
            missing_categories=out["missing"],
            plot=plot,
            **base,
        )

    # Per-column statistics release the GIL in Rust: run columns on a few threads (a pool per
    # call, since threads do not survive fork()).
    workers = min(len(columns), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(column_result, columns))
    return DriftReport(results, float(drift_share), is_profile)
