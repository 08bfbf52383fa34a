"""Parity of the categorical drift measures of ``mlflow_oxide.drift`` (``categorical_drift``,
``chi2_categorical``, ``categorical_psi``, ``categorical_jensenshannon``, ``total_variation``,
``linf_distance``) with an independent implementation of the definition in
``_categorical.py``:

* categories: the union of both samples' non-null values, reference first-seen order then the
  new ones; nulls (None, NaN, pandas NA, Arrow / polars nulls) are not counted;
* ``chi2``: ``scipy.stats.chi2_contingency`` on the 2 x k table of counts (statistic 0 and
  p-value 1 when there is a single category);
* PSI ``sum((c - r) * ln(c / r))`` on shares with zero shares counted as 0.0001;
* Jensen-Shannon ``scipy.spatial.distance.jensenshannon`` of the shares;
* total variation ``sum(|r - c|) / 2``, L-infinity ``max(|r - c|)``;
* ``z``: two-sided pooled two-proportion z-test ``2 * (1 - norm.cdf(|z|))`` on the first
  category in sorted order (1.0 when the pooled share is 0 or 1);
* new categories (in current only) and missing ones (in reference only).

Evidently's ``jensenshannon`` stat test on categorical data uses the same shares (counts over
the union of categories, no zero filling; it divides by the length including nulls, which
``jensenshannon`` normalizes away), so ours must equal it. Evidently's ``chisquare`` is
``scipy.stats.chisquare`` against reference-scaled frequencies, a different test: not compared.

Tolerances: ``rtol=1e-12``; ``atol=1e-12`` on the Jensen-Shannon distance (a square root of a
sum of order-dependent rounding near 0).
"""

from __future__ import annotations

import math
from collections import Counter

import mlflow_oxide.drift as ox
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import scipy.stats as sp
from scipy.spatial.distance import jensenshannon as scipy_jensenshannon

RTOL = 1e-12
JS_ATOL = 1e-12
EMPTY_SHARE = 1e-4
SINGLE_MEASURES = {
    "categorical_psi": "psi",
    "categorical_jensenshannon": "jensenshannon",
    "total_variation": "total_variation",
    "linf_distance": "linf",
}


# --------------------------------------------------------------------------------------------
# Reference implementation
# --------------------------------------------------------------------------------------------


def _is_null(v) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def ref_counts(values) -> Counter:
    """Counts of the non-null values, in first-seen order."""
    return Counter(v for v in values if not _is_null(v))


def ref_drift(reference, current) -> dict:
    rc, cc = ref_counts(reference), ref_counts(current)
    if not rc or not cc:
        raise ValueError("empty")
    labels = list(rc) + [v for v in cc if v not in rc]
    r = np.array([rc.get(v, 0) for v in labels], dtype=float)
    c = np.array([cc.get(v, 0) for v in labels], dtype=float)
    if len(labels) > 1:
        chi2 = sp.chi2_contingency(np.vstack([r, c]))
        chi2_statistic, chi2_pvalue = float(chi2.statistic), float(chi2.pvalue)
    else:
        chi2_statistic, chi2_pvalue = 0.0, 1.0
    rp, cp = r / r.sum(), c / c.sum()
    rf, cf = np.where(rp == 0, EMPTY_SHARE, rp), np.where(cp == 0, EMPTY_SHARE, cp)
    k = labels.index(sorted(labels)[0])
    n1, n2 = r.sum(), c.sum()
    pooled = (r[k] + c[k]) / (n1 + n2)
    if pooled in (0.0, 1.0):
        z_pvalue = 1.0
    else:
        z = (r[k] / n1 - c[k] / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z_pvalue = float(2 * (1 - sp.norm.cdf(abs(z))))
    return {
        "labels": labels,
        "reference_share": rp,
        "current_share": cp,
        "chi2_statistic": chi2_statistic,
        "chi2_pvalue": chi2_pvalue,
        "psi": float(np.sum((cf - rf) * np.log(cf / rf))),
        "jensenshannon": float(scipy_jensenshannon(rp, cp)),
        "total_variation": float(np.abs(rp - cp).sum() / 2),
        "linf": float(np.abs(rp - cp).max()),
        "z_pvalue": z_pvalue,
        "new_categories": [v for v in labels if rc.get(v, 0) == 0],
        "missing_categories": [v for v in labels if cc.get(v, 0) == 0],
        "table": np.vstack([r, c]),
    }


def _evidently_jensenshannon():
    """Evidently's ``_jensenshannon``. evidently 0.7.23 imports
    ``pandas.core.dtypes.common.infer_dtype_from_object`` (gone in pandas 3) at import time for
    a data-integrity test never run here: a stand-in is set just for the import."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")  # Evidently's telemetry
        import pandas.core.dtypes.common as common

        if not hasattr(common, "infer_dtype_from_object"):
            mp.setattr(common, "infer_dtype_from_object", lambda x: x, raising=False)
        ev = pytest.importorskip("evidently")
        assert ev.__version__ == "0.7.23", ev.__version__
        from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
        from evidently.legacy.core import ColumnType
    return _jensenshannon, ColumnType


def evidently_jensenshannon(reference, current) -> float:
    fn, column_type = _evidently_jensenshannon()
    value, _ = fn(
        pd.Series(list(reference), dtype=object),
        pd.Series(list(current), dtype=object),
        column_type.Categorical,
        0.1,
    )
    return float(value)


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------

SCALARS = [
    "chi2_statistic",
    "chi2_pvalue",
    "psi",
    "jensenshannon",
    "total_variation",
    "linf",
    "z_pvalue",
]


def _close(got, ref, rtol=RTOL, atol=0.0) -> bool:
    got, ref = float(got), float(ref)
    if math.isnan(ref) or math.isnan(got):
        return math.isnan(ref) and math.isnan(got)
    return abs(got - ref) <= atol + rtol * abs(ref)


def drift_problems(got, expected: dict, label: str, ordered: bool = True) -> list[str]:
    """``got`` (a ``CategoricalDrift``) against the reference; shares are matched by label
    (and the label order checked when ``ordered``)."""
    problems = []
    if not isinstance(got, ox.CategoricalDrift):
        return [f"{label}: result is {type(got).__name__}, not CategoricalDrift"]
    if ordered and list(got.labels) != expected["labels"]:
        problems.append(f"{label}: labels {got.labels} != reference {expected['labels']}")
    index = {v: i for i, v in enumerate(expected["labels"])}
    if len(got.labels) != len(index) or any(v not in index for v in got.labels):
        problems.append(f"{label}: label set {got.labels} != reference {expected['labels']}")
        return problems
    order = [index[v] for v in got.labels]
    for name in ("reference_share", "current_share"):
        got_share = np.asarray(getattr(got, name))
        ref_share = np.asarray(expected[name])[order]
        if got_share.shape != ref_share.shape or not np.allclose(
            got_share, ref_share, rtol=RTOL, atol=0
        ):
            problems.append(f"{label}: {name} {got_share} != reference {ref_share}")
    for name in SCALARS:
        value = getattr(got, name)
        if not isinstance(value, float):
            problems.append(f"{label}: {name} is {type(value).__name__}, not float")
        atol = JS_ATOL if name == "jensenshannon" else 0.0
        if not _close(value, expected[name], atol=atol):
            problems.append(f"{label}: {name} {value!r} != reference {expected[name]!r}")
    for name in ("new_categories", "missing_categories"):
        got_list, ref_list = list(getattr(got, name)), expected[name]
        same = got_list == ref_list if ordered else Counter(got_list) == Counter(ref_list)
        if not same:
            problems.append(f"{label}: {name} {got_list} != reference {ref_list}")
    return problems


def check(reference, current, label, plain=None, ordered=True) -> list[str]:
    """Every public function on ``reference`` / ``current`` (any container) against the
    reference implementation on ``plain`` (the same values as Python lists)."""
    plain_ref, plain_cur = plain if plain is not None else (reference, current)
    expected = ref_drift(list(plain_ref), list(plain_cur))
    got = ox.categorical_drift(reference, current)
    problems = drift_problems(got, expected, label, ordered)
    for fn_name, field in SINGLE_MEASURES.items():
        value = getattr(ox, fn_name)(reference, current)
        atol = JS_ATOL if field == "jensenshannon" else 0.0
        if not isinstance(value, float) or not _close(value, expected[field], atol=atol):
            problems.append(f"{label}: {fn_name} {value!r} != reference {expected[field]!r}")
    if len(expected["labels"]) > 1:
        chi2 = ox.chi2_categorical(reference, current)
        ref_chi2 = sp.chi2_contingency(expected["table"])
        if not (
            _close(chi2.statistic, ref_chi2.statistic) and _close(chi2.pvalue, ref_chi2.pvalue)
        ):
            problems.append(
                f"{label}: chi2_categorical ({chi2.statistic!r}, {chi2.pvalue!r}) != scipy "
                f"({ref_chi2.statistic!r}, {ref_chi2.pvalue!r})"
            )
        if chi2.dof != ref_chi2.dof:
            problems.append(f"{label}: chi2_categorical dof {chi2.dof} != {ref_chi2.dof}")
        if ordered and not np.allclose(
            chi2.expected_freq, ref_chi2.expected_freq, rtol=RTOL, atol=0
        ):
            problems.append(f"{label}: chi2_categorical expected_freq differs")
    else:
        with pytest.raises(ValueError):
            ox.chi2_categorical(reference, current)
    return problems


def assert_no_problems(problems: list[str]) -> None:
    if problems:
        shown = "\n".join(problems[:25])
        more = f"\n... and {len(problems) - 25} more" if len(problems) > 25 else ""
        pytest.fail(f"{len(problems)} mismatch(es):\n{shown}{more}", pytrace=False)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def draw(rng, labels: list, probs, n: int, null_share: float = 0.0) -> list:
    p = np.asarray(probs, dtype=float)
    idx = rng.choice(len(labels), size=n, p=p / p.sum())
    out = [labels[i] for i in idx]
    if null_share:
        for i in np.flatnonzero(rng.random(n) < null_share):
            out[i] = None
    return out


STRINGS = ["red", "green", "blue", "yellow", "black"]


def cases(seed: int) -> dict[str, tuple[list, list]]:
    rng = np.random.default_rng(seed)
    many = [f"c{i:03d}" for i in range(100)]
    zipf = 1.0 / np.arange(1, 101)
    shifted_zipf = np.roll(zipf, 7)
    return {
        "strings": (
            draw(rng, STRINGS, [5, 3, 2, 1, 1], 400),
            draw(rng, STRINGS, [3, 3, 3, 1, 2], 300),
        ),
        "strings-same": (
            draw(rng, STRINGS, [5, 3, 2, 1, 1], 400),
            draw(rng, STRINGS, [5, 3, 2, 1, 1], 500),
        ),
        "ints": (
            draw(rng, [3, 1, 2, 10], [4, 3, 2, 1], 200),
            draw(rng, [3, 1, 2, 10], [1, 2, 3, 4], 250),
        ),
        "bools": (
            draw(rng, [True, False], [0.7, 0.3], 300),
            draw(rng, [True, False], [0.5, 0.5], 200),
        ),
        "binary-strings": (
            draw(rng, ["no", "yes"], [9, 1], 1000),
            draw(rng, ["no", "yes"], [8, 2], 800),
        ),
        "100-categories": (draw(rng, many, zipf, 5000), draw(rng, many, shifted_zipf, 3000)),
        "new-category": (
            draw(rng, STRINGS[:3], [1, 1, 1], 100),
            draw(rng, STRINGS, [1, 1, 1, 1, 1], 120),
        ),
        "missing-category": (
            draw(rng, STRINGS, [1, 1, 1, 1, 1], 100),
            draw(rng, STRINGS[:2], [1, 2], 90),
        ),
        "disjoint": (draw(rng, ["a", "b"], [1, 1], 50), draw(rng, ["c", "d", "e"], [1, 1, 1], 60)),
        "single-both": (["x"] * 10, ["x"] * 7),
        "single-each-different": (["x"] * 10, ["y"] * 7),
        "single-reference": (["x"] * 10, draw(rng, ["x", "y"], [1, 1], 30)),
        "tiny": (["b", "a"], ["a"]),
        "nulls": (
            draw(rng, STRINGS, [5, 3, 2, 1, 1], 400, null_share=0.1),
            draw(rng, STRINGS, [1, 1, 1, 1, 1], 300, null_share=0.3),
        ),
        "int-nulls": (
            draw(rng, [1, 2, 3], [1, 2, 3], 100, null_share=0.2),
            draw(rng, [1, 2, 3, 4], [3, 2, 1, 1], 100, null_share=0.05),
        ),
        "float-nan": (
            [1.5, 2.5, float("nan"), 1.5, 3.5, float("nan")],
            [2.5, 2.5, 1.5, float("nan")],
        ),
    }


CASE_NAMES = list(cases(0))


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASE_NAMES)
def test_categorical_drift_lists(name):
    problems = []
    for seed in (0, 1, 2):
        reference, current = cases(seed)[name]
        problems += check(reference, current, f"{name} seed={seed}")
    assert_no_problems(problems)


def test_single_category_on_both_sides():
    got = ox.categorical_drift(["x"] * 5, ["x"] * 3)
    assert got.labels == ["x"]
    assert (got.chi2_statistic, got.chi2_pvalue) == (0.0, 1.0)
    assert got.psi == 0.0 and got.jensenshannon == 0.0
    assert got.total_variation == 0.0 and got.linf == 0.0
    assert got.z_pvalue == 1.0
    assert got.new_categories == [] and got.missing_categories == []
    with pytest.raises(ValueError):
        ox.chi2_categorical(["x"] * 5, ["x"] * 3)


def test_categories_only_on_one_side():
    got = ox.categorical_drift(["a", "b", "a", "c"], ["b", "d", "d", "e", None])
    assert got.labels == ["a", "b", "c", "d", "e"]
    assert got.new_categories == ["d", "e"]
    assert got.missing_categories == ["a", "c"]
    assert_no_problems(check(["a", "b", "a", "c"], ["b", "d", "d", "e", None], "one side"))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_evidently_jensenshannon_matches(name):
    problems = []
    for seed in (0, 1):
        reference, current = cases(seed)[name]
        got = ox.categorical_jensenshannon(reference, current)
        ev = evidently_jensenshannon(reference, current)
        if not _close(got, ev, atol=JS_ATOL):
            problems.append(f"{name} seed={seed}: {got!r} != Evidently {ev!r}")
    assert_no_problems(problems)


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------


def _containers(values: list) -> dict:
    """The same values (nulls as None) in every supported container that can hold them."""
    non_null = [v for v in values if not _is_null(v)]
    kinds = {type(v) for v in non_null}
    with_none = [None if _is_null(v) else v for v in values]
    out = {
        "list": with_none,
        "tuple": tuple(with_none),
        "object-ndarray": np.array(with_none, dtype=object),
        "object-series": pd.Series(with_none, dtype=object, index=np.arange(len(values)) * 3),
        "pyarrow": pa.array(with_none),
        "pyarrow-chunked": pa.chunked_array(
            [pa.array(with_none).slice(0, 5), pa.array(with_none).slice(5)]
        ),
        "polars": pl.Series(with_none),
    }
    has_null = len(non_null) < len(values)
    if kinds == {str}:
        out["str-series"] = pd.Series(with_none, dtype="str")
        out["string-series"] = pd.Series(with_none, dtype="string")
        out["category-series"] = pd.Series(with_none, dtype="category")
        out["pyarrow-dictionary"] = pa.array(with_none).dictionary_encode()
        out["polars-categorical"] = pl.Series(with_none, dtype=pl.Categorical)
        if not has_null:
            out["str-ndarray"] = np.array(with_none)
    elif kinds == {int}:
        out["Int64-series"] = pd.Series(with_none, dtype="Int64")
        out["category-series"] = pd.Series(with_none, dtype="category")
        out["polars-Int32"] = pl.Series(with_none, dtype=pl.Int32)
        out["pyarrow-int8"] = pa.array(with_none, type=pa.int8())
        if not has_null:
            out["int-ndarray"] = np.array(with_none, dtype=np.int64)
            out["int-series"] = pd.Series(with_none, dtype=np.int32)
    elif kinds == {bool}:
        out["boolean-series"] = pd.Series(with_none, dtype="boolean")
        if not has_null:
            out["bool-ndarray"] = np.array(with_none)
            out["bool-series"] = pd.Series(with_none)
    elif kinds == {float}:
        nan = [float("nan") if v is None else v for v in with_none]
        out["float-ndarray"] = np.array(nan)
        out["float-series"] = pd.Series(nan)
        out["Float64-series"] = pd.Series(with_none, dtype="Float64")
        out["polars-nan"] = pl.Series(nan)
    return out


CONTAINER_CASES = ["strings", "nulls", "ints", "int-nulls", "bools", "float-nan", "new-category"]
# pandas/polars categorical dtypes list categories in dtype order, not first-seen order: the
# label order is then not compared (every value is, by label).
UNORDERED = {"category-series", "polars-categorical"}


@pytest.mark.parametrize("name", CONTAINER_CASES)
def test_containers(name):
    reference, current = cases(3)[name]
    ref_containers, cur_containers = _containers(reference), _containers(current)
    problems = []
    for kind in ref_containers:
        problems += check(
            ref_containers[kind],
            cur_containers[kind],
            f"{name} {kind}",
            plain=(reference, current),
            ordered=kind not in UNORDERED,
        )
    # Mixed containers
    kinds = list(ref_containers)
    for a, b in zip(kinds, kinds[1:] + kinds[:1], strict=True):
        problems += check(
            ref_containers[a],
            cur_containers[b],
            f"{name} {a} vs {b}",
            plain=(reference, current),
            ordered=a not in UNORDERED,
        )
    assert_no_problems(problems)


def test_pandas_category_with_unused_categories():
    """Categories declared in the dtype but absent from both samples are not categories of
    the samples: same result as without them."""
    reference = ["a", "b", "a", None, "c"]
    current = ["b", "b", "a", "c"]
    categories = ["z", "a", "b", "c", "unused"]
    problems = []
    for label, ref, cur in [
        (
            "pandas category",
            pd.Series(pd.Categorical(reference, categories=categories)),
            pd.Series(pd.Categorical(current, categories=categories)),
        ),
        (
            "polars Enum",
            pl.Series(reference, dtype=pl.Enum(categories)),
            pl.Series(current, dtype=pl.Enum(categories)),
        ),
        (
            "pyarrow dictionary",
            pa.DictionaryArray.from_arrays(pa.array([1, 2, 1, None, 3]), pa.array(categories)),
            pa.DictionaryArray.from_arrays(pa.array([2, 2, 1, 3]), pa.array(categories)),
        ),
    ]:
        try:
            problems += check(ref, cur, label, plain=(reference, current), ordered=False)
        except Exception as exc:  # noqa: BLE001 - reported as a mismatch
            problems.append(f"{label}: raised {type(exc).__name__}: {exc}")
    assert_no_problems(problems)


INTEGER_CONTAINERS = {
    "list": lambda v: v,
    "object-ndarray": lambda v: np.array(v, dtype=object),
    "Int64-series": lambda v: pd.Series(v, dtype="Int64"),
    "pyarrow-int64": lambda v: pa.array(v, type=pa.int64()),
    "polars-Int64": lambda v: pl.Series(v, dtype=pl.Int64),
    "polars-Int32": lambda v: pl.Series(v, dtype=pl.Int32),
}


@pytest.mark.parametrize("with_nulls", [False, True], ids=["no-nulls", "nulls"])
@pytest.mark.parametrize("kind", list(INTEGER_CONTAINERS))
def test_integer_labels_stay_integers(kind, with_nulls):
    """Integer categories are reported as ints (as the reference's values are), whatever the
    container and whether or not it holds nulls."""
    reference = [3, 1, 2, 3, None] if with_nulls else [3, 1, 2, 3]
    current = [1, 1, 4, None] if with_nulls else [1, 1, 4]
    convert = INTEGER_CONTAINERS[kind]
    got = ox.categorical_drift(convert(reference), convert(current))
    assert got.labels == [3, 1, 2, 4]
    types = [type(v).__name__ for v in got.labels + got.new_categories + got.missing_categories]
    assert set(types) == {"int"}, f"{kind}: labels {got.labels} of types {types}"


ORDER_CONTAINERS = {
    "list": lambda v: v,
    "object-ndarray": lambda v: np.array(v, dtype=object),
    "str-series": lambda v: pd.Series(v, dtype="str"),
    "category-series": lambda v: pd.Series(v, dtype="category"),
    "pyarrow": pa.array,
    "pyarrow-dictionary": lambda v: pa.array(v).dictionary_encode(),
    "polars": pl.Series,
    "polars-categorical": lambda v: pl.Series(v, dtype=pl.Categorical),
}


@pytest.mark.parametrize("kind", list(ORDER_CONTAINERS))
def test_label_order_is_reference_first_seen(kind):
    """The documented order of ``labels`` (and so of the share vectors): the reference's
    categories in first-seen order, then the new ones in the current's first-seen order."""
    reference = ["b", "c", "b", "a"]
    current = ["d", "a", "e", "b"]
    convert = ORDER_CONTAINERS[kind]
    got = ox.categorical_drift(convert(reference), convert(current))
    assert got.labels == ["b", "c", "a", "d", "e"]
    assert got.reference_share.tolist() == [0.5, 0.25, 0.25, 0.0, 0.0]


def test_z_test_uses_first_sorted_category():
    """Three categories, the first-seen one different from the first sorted one: the z-test is
    on the first sorted ("a")."""
    reference = ["b"] * 30 + ["a"] * 20 + ["c"] * 10
    current = ["b"] * 10 + ["a"] * 30 + ["c"] * 20
    a_ref, a_cur, n1, n2 = 20, 30, 60, 60
    pooled = (a_ref + a_cur) / (n1 + n2)
    z = (a_ref / n1 - a_cur / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    expected = 2 * (1 - sp.norm.cdf(abs(z)))
    got = ox.categorical_drift(reference, current).z_pvalue
    assert _close(got, expected), (got, expected)
    # invariant to row order
    assert ox.categorical_drift(reference[::-1], current[::-1]).z_pvalue == got


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

ALL_FUNCTIONS = ["categorical_drift", "chi2_categorical", *SINGLE_MEASURES]
EMPTY_SIDES = [
    ("empty-list", []),
    ("all-none", [None, None]),
    ("all-nan", [float("nan")] * 3),
    ("all-NA-series", pd.Series([None, None], dtype="string")),
    ("all-null-pyarrow", pa.array([None, None], type=pa.string())),
    ("all-null-polars", pl.Series([None, None], dtype=pl.String)),
    ("empty-series", pd.Series([], dtype=object)),
]


@pytest.mark.parametrize("fn", ALL_FUNCTIONS)
@pytest.mark.parametrize(("label", "empty"), EMPTY_SIDES, ids=[c[0] for c in EMPTY_SIDES])
def test_all_null_side_raises_value_error(fn, label, empty):
    good = ["a", "b", "a"]
    with pytest.raises(ValueError):
        getattr(ox, fn)(empty, good)
    with pytest.raises(ValueError):
        getattr(ox, fn)(good, empty)


def test_two_dimensional_raises_value_error():
    with pytest.raises(ValueError):
        ox.categorical_drift(pd.DataFrame({"a": ["x", "y"], "b": ["y", "x"]}), ["x"])
