"""Parity of the binned divergences of ``mlflow_oxide.drift`` (``quantile_bins``, ``psi``,
``kl_divergence``, ``jensenshannon``, ``hellinger``, ``wasserstein_normalized``) with an
independent numpy/scipy implementation of the definition documented in ``_binned.py``:

* interior edges ``np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))[1:-1]``;
* bin of a value ``np.searchsorted(edges, x, "right")`` (left-closed bins, open outer bins);
* shares ``np.bincount(...) / n``;
* PSI ``sum((c - r) * ln(c / r))`` and KL ``scipy.stats.entropy(r, c)``, both with empty bins
  counted as 0.0001; Jensen-Shannon ``scipy.spatial.distance.jensenshannon(r, c)``; Hellinger
  ``sqrt(sum((sqrt(r) - sqrt(c))**2) / 2)``;
* normalized Wasserstein ``scipy.stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)``,
  also checked against Evidently's own ``wasserstein`` stattest;
* nulls (None, NaN, pandas NA, Arrow / polars nulls) are dropped; infinities, empty or all-null
  samples and invalid ``bins`` raise ``ValueError``; non-numeric values raise ``TypeError``.

Tolerances: ``rtol=1e-12`` (``atol=1e-15`` for values that are 0) for float64 data,
``rtol=1e-6`` when a sample is float32; edges ``rtol=1e-12`` and shares exactly equal.
"""

from __future__ import annotations

import math

import mlflow_oxide.drift as ox
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import scipy.stats as sp
from scipy.spatial.distance import jensenshannon as scipy_jensenshannon

RTOL64 = 1e-12
RTOL32 = 1e-6
ATOL = 1e-15
EMPTY_BIN = 1e-4
BINS = [1, 2, 5, 10, 30, 100]
MEASURES = ["psi", "kl_divergence", "jensenshannon", "hellinger"]


# --------------------------------------------------------------------------------------------
# Reference implementation (numpy / scipy only)
# --------------------------------------------------------------------------------------------


def ref_values(x) -> np.ndarray:
    """The non-null values of a plain sequence / numpy array, as float (float32 kept)."""
    a = np.asarray(x)
    if a.dtype == object:
        a = np.array([np.nan if v is None else v for v in a], dtype=np.float64)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return a[~np.isnan(a)]


def ref_quantile_bins(reference, current, bins):
    r, c = ref_values(reference), ref_values(current)
    edges = np.unique(np.quantile(r, np.linspace(0, 1, bins + 1)))[1:-1]
    rc = np.bincount(np.searchsorted(edges, r, "right"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, c, "right"), minlength=len(edges) + 1)
    return edges, rc / rc.sum(), cc / cc.sum()


def _filled(p):
    return np.where(p == 0, EMPTY_BIN, p)


def ref_measure(name: str, r: np.ndarray, c: np.ndarray) -> float:
    if name == "psi":
        rf, cf = _filled(r), _filled(c)
        return float(np.sum((cf - rf) * np.log(cf / rf)))
    if name == "kl_divergence":
        return float(sp.entropy(_filled(r), _filled(c)))
    if name == "jensenshannon":
        return float(scipy_jensenshannon(r, c))
    if name == "hellinger":
        return float(np.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2) / 2))
    raise AssertionError(name)


def ref_wasserstein_normalized(reference, current) -> float:
    r, c = ref_values(reference), ref_values(current)
    return float(sp.wasserstein_distance(r, c)) / max(float(np.std(r)), 0.001)


def _evidently_stattests():
    """Evidently's legacy stat-test modules. evidently 0.7.23 imports
    ``pandas.core.dtypes.common.infer_dtype_from_object`` (gone in pandas 3) at import time for
    a data-integrity test never run here: a stand-in is set just for the import."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")  # Evidently's telemetry
        import pandas.core.dtypes.common as common

        if not hasattr(common, "infer_dtype_from_object"):
            mp.setattr(common, "infer_dtype_from_object", lambda x: x, raising=False)
        ev = pytest.importorskip("evidently")
        assert ev.__version__ == "0.7.23", ev.__version__
        from evidently.legacy.calculations.stattests import wasserstein_distance_norm
        from evidently.legacy.core import ColumnType
    return wasserstein_distance_norm, ColumnType


def evidently_wasserstein_normalized(reference, current) -> float:
    module, column_type = _evidently_stattests()
    value, _ = module._wasserstein_distance_norm(
        pd.Series(ref_values(reference)),
        pd.Series(ref_values(current)),
        column_type.Numerical,
        0.1,
    )
    return float(value)


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def _close(got, ref, rtol) -> bool:
    if math.isnan(ref) or math.isnan(got):
        return math.isnan(ref) and math.isnan(got)
    return abs(got - ref) <= ATOL + rtol * abs(ref)


def _rtol(*samples) -> float:
    for s in samples:
        if np.asarray(s).dtype == np.float32:
            return RTOL32
    return RTOL64


def _edge_problems(got_edges, edges, plain_ref, label) -> list[str]:
    """Edges within ``rtol`` (float32: relative to the reference's magnitude, as numpy
    interpolates float32 data in float32)."""
    if np.asarray(plain_ref).dtype == np.float32:
        rtol, atol = RTOL32, RTOL32 * float(np.max(np.abs(ref_values(plain_ref))))
    else:
        rtol, atol = RTOL64, 0.0
    if np.shape(got_edges) != np.shape(edges) or not np.allclose(
        got_edges, edges, rtol=rtol, atol=atol
    ):
        return [f"{label}: edges {list(map(float, got_edges))} != np.quantile's {edges.tolist()}"]
    return []


def _counted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, "right"), minlength=len(edges) + 1)
    return counts / counts.sum()


def binned_problems(reference, current, bins, label, plain=None) -> list[str]:
    """Ours on ``reference``/``current`` (any container) against the reference implementation
    on ``plain`` (the same values as numpy arrays / lists; defaults to the inputs).

    Checked end to end (edges, shares and each measure as the documented definition gives
    them), and also step by step: the shares counted on *our* edges and the measures of *our*
    shares, so that an edge difference does not hide a counting or formula difference."""
    plain_ref, plain_cur = plain if plain is not None else (reference, current)
    rtol = _rtol(plain_ref, plain_cur)
    label = f"{label} bins={bins}"
    edges, r, c = ref_quantile_bins(plain_ref, plain_cur, bins)
    got_edges, got_r, got_c = ox.quantile_bins(reference, current, bins)
    problems = _edge_problems(got_edges, edges, plain_ref, label)
    if not problems and not (np.array_equal(got_r, r) and np.array_equal(got_c, c)):
        problems.append(
            f"{label}: shares ({got_r.tolist()}, {got_c.tolist()}) != reference "
            f"({r.tolist()}, {c.tolist()}); edges {list(map(float, got_edges))}, np.quantile's "
            f"{edges.tolist()}"
        )
    # Step by step: counting on our edges, formulas on our shares.
    own_r = _counted(ref_values(plain_ref), np.asarray(got_edges))
    own_c = _counted(ref_values(plain_cur), np.asarray(got_edges))
    if not (np.array_equal(got_r, own_r) and np.array_equal(got_c, own_c)):
        problems.append(
            f"{label}: shares ({got_r.tolist()}, {got_c.tolist()}) != counts on its own edges "
            f"({own_r.tolist()}, {own_c.tolist()})"
        )
    for name in MEASURES:
        got = getattr(ox, name)(reference, current, bins=bins)
        if not isinstance(got, float):
            problems.append(f"{label}: {name} is {type(got).__name__}, not float")
            continue
        expected = ref_measure(name, r, c)
        if not _close(got, expected, rtol):
            problems.append(f"{label}: {name} {got!r} != reference {expected!r}")
        own = ref_measure(name, np.asarray(got_r), np.asarray(got_c))
        if not _close(got, own, RTOL64):
            problems.append(f"{label}: {name} {got!r} != formula on its own shares {own!r}")
    return problems


def wasserstein_problems(reference, current, label, plain=None, evidently=True) -> list[str]:
    plain_ref, plain_cur = plain if plain is not None else (reference, current)
    rtol = _rtol(plain_ref, plain_cur)
    got = ox.wasserstein_normalized(reference, current)
    problems = []
    if not isinstance(got, float):
        problems.append(f"{label}: wasserstein_normalized is {type(got).__name__}, not float")
    expected = ref_wasserstein_normalized(plain_ref, plain_cur)
    if not _close(got, expected, rtol):
        problems.append(f"{label}: wasserstein_normalized {got!r} != reference {expected!r}")
    if evidently and rtol == RTOL64:
        ev = evidently_wasserstein_normalized(plain_ref, plain_cur)
        if not _close(got, ev, RTOL64):
            problems.append(f"{label}: wasserstein_normalized {got!r} != Evidently {ev!r}")
    return problems


def assert_no_problems(problems: list[str]) -> None:
    if problems:
        shown = "\n".join(problems[:25])
        more = f"\n... and {len(problems) - 25} more" if len(problems) > 25 else ""
        pytest.fail(f"{len(problems)} mismatch(es):\n{shown}{more}", pytrace=False)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

KINDS = [
    "continuous",
    "shifted",
    "ties",
    "discrete",
    "binary",
    "outside-range",
    "identical",
    "permuted",
    "float32",
    "mixed-float32",
    "integers",
    "constant-reference",
]
SIZES = [(1, 4), (3, 3), (7, 50), (200, 150), (5000, 8000)]


def sample_pair(kind: str, n1: int, n2: int, seed: int):
    rng = np.random.default_rng([seed, n1, n2, KINDS.index(kind)])
    if kind == "continuous":
        return rng.normal(size=n1), rng.normal(size=n2)
    if kind == "shifted":
        return rng.normal(size=n1), 0.5 + 1.5 * rng.normal(size=n2)
    if kind == "ties":
        return np.round(rng.normal(size=n1), 1), np.round(rng.normal(0.2, size=n2), 1)
    if kind == "discrete":  # few values: most quantile edges collapse
        return rng.integers(0, 4, n1).astype(float), rng.integers(0, 5, n2).astype(float)
    if kind == "binary":
        return (rng.random(n1) < 0.8).astype(float), (rng.random(n2) < 0.5).astype(float)
    if kind == "outside-range":
        c = rng.normal(size=n2) * 10
        return rng.uniform(-1, 1, size=n1), c
    if kind == "identical":
        a = rng.normal(size=n1)
        return a, np.resize(a, n2)
    if kind == "permuted":
        a = np.round(rng.normal(size=n1), 1)
        return a, rng.permutation(a)
    if kind == "float32":
        return (
            rng.normal(size=n1).astype(np.float32),
            rng.normal(0.2, size=n2).astype(np.float32),
        )
    if kind == "mixed-float32":
        return rng.normal(size=n1).astype(np.float32), rng.normal(0.2, size=n2)
    if kind == "integers":
        return rng.integers(-50, 50, n1), rng.integers(-40, 60, n2)
    if kind == "constant-reference":
        return np.full(n1, 2.5), rng.normal(2.5, size=n2)
    raise AssertionError(kind)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_binned_measures_randomized(kind):
    problems = []
    for seed in (0, 1):
        for n1, n2 in SIZES:
            reference, current = sample_pair(kind, n1, n2, seed)
            for bins in BINS:
                problems += binned_problems(
                    reference, current, bins, f"{kind} seed={seed} n={n1},{n2}"
                )
            problems += wasserstein_problems(reference, current, f"{kind} seed={seed} n={n1},{n2}")
    assert_no_problems(problems)


def test_binned_measures_large():
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=200_000), rng.normal(0.05, 1.1, size=150_000)
    problems = []
    for bins in (10, 100):
        problems += binned_problems(reference, current, bins, "large")
    problems += wasserstein_problems(reference, current, "large")
    problems += binned_problems(np.round(reference, 2), np.round(current, 2), 30, "large ties")
    assert_no_problems(problems)


def test_identical_samples_are_zero():
    rng = np.random.default_rng(4)
    for a in (rng.normal(size=500), np.round(rng.normal(size=500)), rng.integers(0, 3, 50)):
        for bins in BINS:
            for name in MEASURES:
                assert getattr(ox, name)(a, a.copy(), bins=bins) == pytest.approx(0.0, abs=1e-15)
                assert getattr(ox, name)(a, a[::-1].copy(), bins=bins) == pytest.approx(
                    0.0, abs=1e-15
                )
        assert ox.wasserstein_normalized(a, a.copy()) == pytest.approx(0.0, abs=1e-15)


def test_current_outside_reference_range():
    """Values below / above every reference value fall in the open outer bins."""
    reference = np.arange(100, dtype=float)
    problems = []
    for current in (
        np.full(10, -1e6),
        np.full(10, 1e6),
        np.concatenate([np.full(5, -3.0), np.full(5, 1000.0)]),
        np.array([0.0, 99.0]),  # the reference extremes themselves
    ):
        for bins in BINS:
            problems += binned_problems(reference, current, bins, f"current={current[:3]}...")
        problems += wasserstein_problems(reference, current, f"current={current[:3]}...")
    edges, r, c = ox.quantile_bins(reference, np.full(10, 1e6), 10)
    assert c[-1] == 1.0 and c[:-1].sum() == 0.0
    edges, r, c = ox.quantile_bins(reference, np.full(10, -1e6), 10)
    assert c[0] == 1.0 and c[1:].sum() == 0.0
    assert_no_problems(problems)


def test_bins_on_edges_are_left_closed():
    """A value equal to an interior edge goes to the bin on its right."""
    reference = np.arange(11, dtype=float)
    # np.quantile's deciles of 0..10 are 1.0, 2.0, 3.0000000000000004, 4.0, ...
    expected_edges = np.quantile(reference, np.linspace(0, 1, 11))[1:-1]
    current = [1.0, 4.0, 8.0]
    edges, r, c = ox.quantile_bins(reference, current, 10)
    assert edges.tolist() == expected_edges.tolist()
    assert c.tolist() == [0, 1 / 3, 0, 0, 1 / 3, 0, 0, 0, 1 / 3, 0]
    assert_no_problems(binned_problems(reference, current, 10, "on edges"))


def test_default_bins_is_ten():
    rng = np.random.default_rng(5)
    reference, current = rng.normal(size=300), rng.normal(0.3, size=200)
    for name in MEASURES:
        assert getattr(ox, name)(reference, current) == getattr(ox, name)(
            reference, current, bins=10
        )
    assert len(ox.quantile_bins(reference, current)[0]) == 9


def test_evidently_wasserstein_matches():
    """Evidently's ``wasserstein`` stattest on pandas Series, within 1e-12."""
    rng = np.random.default_rng(6)
    problems = []
    cases = [
        (rng.normal(size=1000), rng.normal(0.3, size=800)),
        (rng.exponential(size=3000), rng.exponential(1.2, size=2000)),
        (rng.integers(0, 10, 500), rng.integers(0, 12, 400)),
        (np.full(50, 3.0), rng.normal(3.0, size=40)),  # std 0 -> divided by 0.001
        (rng.normal(scale=1e-4, size=100), rng.normal(scale=1e-4, size=100)),  # std < 0.001
        (rng.normal(size=5), rng.normal(size=1)),
        (rng.normal(size=1), rng.normal(size=1)),
    ]
    for reference, current in cases:
        got = ox.wasserstein_normalized(reference, current)
        ev = evidently_wasserstein_normalized(reference, current)
        if not _close(got, ev, RTOL64):
            problems.append(f"n={len(reference)},{len(current)}: {got!r} != Evidently {ev!r}")
        # and on the pandas Series themselves
        got_series = ox.wasserstein_normalized(pd.Series(reference), pd.Series(current))
        if not _close(got_series, ev, RTOL64):
            problems.append(f"Series n={len(reference)}: {got_series!r} != Evidently {ev!r}")
    assert_no_problems(problems)


# --------------------------------------------------------------------------------------------
# Containers and nulls
# --------------------------------------------------------------------------------------------


def _with_nulls(a: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """A float copy of ``a`` with some NaN, and the null mask."""
    mask = rng.random(len(a)) < 0.2
    mask[0] = True
    out = a.astype(np.float64)
    out[mask] = np.nan
    return out, mask


def container_variants(values: np.ndarray, mask: np.ndarray):
    """(label, container) pairs holding ``values`` with nulls where ``mask``."""
    as_list = [None if m else float(v) for v, m in zip(values, mask, strict=True)]
    as_list_nan = [float("nan") if m else float(v) for v, m in zip(values, mask, strict=True)]
    with_nan = np.where(mask, np.nan, values)
    ints = not mask.all() and np.all(values[~mask] == np.round(values[~mask]))
    out = [
        ("ndarray-nan", with_nan),
        ("list-none", as_list),
        ("list-nan", as_list_nan),
        ("object-ndarray", np.array(as_list, dtype=object)),
        ("series-nan", pd.Series(with_nan, index=np.arange(len(values))[::-1])),
        ("series-Float64", pd.Series(as_list, dtype="Float64")),
        ("pyarrow", pa.array(as_list, type=pa.float64())),
        (
            "pyarrow-chunked",
            pa.chunked_array([as_list[:3], as_list[3:]], type=pa.float64()),
        ),
        ("pyarrow-float32", pa.array(as_list, type=pa.float32())),
        ("polars", pl.Series(as_list, dtype=pl.Float64)),
        ("polars-nan", pl.Series(with_nan)),  # NaN, not null, in polars
        ("polars-float32", pl.Series(as_list, dtype=pl.Float32)),
    ]
    if ints:
        int_list = [None if m else int(v) for v, m in zip(values, mask, strict=True)]
        out += [
            ("series-Int64", pd.Series(int_list, dtype="Int64")),
            ("pyarrow-int64", pa.array(int_list, type=pa.int64())),
            ("polars-Int32", pl.Series(int_list, dtype=pl.Int32)),
        ]
    return out


@pytest.mark.parametrize("data", ["continuous", "integers"])
def test_nulls_are_dropped_in_every_container(data):
    rng = np.random.default_rng(7)
    if data == "continuous":
        ref_vals, cur_vals = rng.normal(size=400), rng.normal(0.3, size=300)
    else:
        ref_vals = rng.integers(0, 20, 400).astype(float)
        cur_vals = rng.integers(0, 25, 300).astype(float)
    ref_mask = rng.random(400) < 0.15
    cur_mask = rng.random(300) < 0.25
    ref_mask[0] = cur_mask[-1] = True
    problems = []
    ref_containers = dict(container_variants(ref_vals, ref_mask))
    cur_containers = dict(container_variants(cur_vals, cur_mask))
    for label in ref_containers:
        reference, current = ref_containers[label], cur_containers[label]
        plain_ref, plain_cur = ref_vals[~ref_mask], cur_vals[~cur_mask]
        if "float32" in label:
            plain_ref, plain_cur = plain_ref.astype(np.float32), plain_cur.astype(np.float32)
        for bins in (1, 5, 10, 30):
            problems += binned_problems(
                reference, current, bins, label, plain=(plain_ref, plain_cur)
            )
        problems += wasserstein_problems(reference, current, label, plain=(plain_ref, plain_cur))
    # mixed containers
    problems += binned_problems(
        ref_containers["pyarrow"],
        cur_containers["polars"],
        10,
        "pyarrow vs polars",
        plain=(ref_vals[~ref_mask], cur_vals[~cur_mask]),
    )
    problems += binned_problems(
        ref_containers["series-Float64"],
        cur_containers["list-none"],
        10,
        "Float64 vs list",
        plain=(ref_vals[~ref_mask], cur_vals[~cur_mask]),
    )
    assert_no_problems(problems)


@pytest.mark.parametrize(
    "convert",
    [
        list,
        pd.Series,
        pa.array,
        pl.Series,
        lambda a: pa.chunked_array([a[:10], a[10:]]),
        lambda a: pd.Series(a).astype("Int64") if a.dtype.kind == "i" else pd.Series(a),
    ],
    ids=["list", "series", "pyarrow", "polars", "pyarrow-chunked", "series-nullable"],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "uint8"])
def test_containers_without_nulls(convert, dtype):
    rng = np.random.default_rng(8)
    if dtype == "bool":
        reference, current = rng.random(300) < 0.3, rng.random(200) < 0.6
    else:
        reference = np.abs(np.round(rng.normal(size=300) * 20)).astype(dtype)
        current = np.abs(np.round(rng.normal(0.5, size=200) * 20)).astype(dtype)
    problems = []
    for bins in (2, 10, 30):
        problems += binned_problems(
            convert(reference), convert(current), bins, dtype, plain=(reference, current)
        )
    problems += wasserstein_problems(
        convert(reference), convert(current), dtype, plain=(reference, current)
    )
    assert_no_problems(problems)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

FUNCTIONS = ["quantile_bins", *MEASURES, "wasserstein_normalized"]
GOOD = np.array([0.1, 0.5, 0.9, 1.3, 2.0])


def _call(name, reference, current, **kwargs):
    return getattr(ox, name)(reference, current, **kwargs)


INFINITE = [
    ("inf-ndarray", np.array([0.0, np.inf, 1.0])),
    ("minus-inf-ndarray", np.array([-np.inf, 1.0])),
    ("inf-list", [1.0, float("inf")]),
    ("inf-series", pd.Series([1.0, np.inf, np.nan])),
    ("inf-Float64", pd.Series([1.0, np.inf, None], dtype="Float64")),
    ("inf-pyarrow", pa.array([1.0, float("inf"), None])),
    ("inf-polars", pl.Series([1.0, float("-inf"), None])),
    ("inf-float32", np.array([1.0, np.inf], dtype=np.float32)),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("label", "bad"), INFINITE, ids=[c[0] for c in INFINITE])
def test_infinities_raise_value_error(name, label, bad):
    with pytest.raises(ValueError, match="infinite"):
        _call(name, bad, GOOD)
    with pytest.raises(ValueError, match="infinite"):
        _call(name, GOOD, bad)


EMPTY = [
    ("empty-ndarray", np.array([])),
    ("empty-list", []),
    ("all-nan", np.array([np.nan, np.nan])),
    ("all-none", [None, None, None]),
    ("empty-series", pd.Series([], dtype=float)),
    ("all-NA-Int64", pd.Series([None, None], dtype="Int64")),
    ("all-null-pyarrow", pa.array([None, None], type=pa.float64())),
    ("empty-chunked", pa.chunked_array([], type=pa.float64())),
    ("all-null-polars", pl.Series([None, None], dtype=pl.Float64)),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("label", "bad"), EMPTY, ids=[c[0] for c in EMPTY])
def test_empty_or_all_null_raise_value_error(name, label, bad):
    with pytest.raises(ValueError, match="reference has no non-null values"):
        _call(name, bad, GOOD)
    with pytest.raises(ValueError, match="current has no non-null values"):
        _call(name, GOOD, bad)


BAD_BINS = [0, -1, 2.5, True, False, 10.0, "10", None, np.float64(3.0), np.bool_(True)]


@pytest.mark.parametrize("name", ["quantile_bins", *MEASURES])
@pytest.mark.parametrize("bins", BAD_BINS, ids=[repr(b) for b in BAD_BINS])
def test_invalid_bins_raise_value_error(name, bins):
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        _call(name, GOOD, GOOD, bins=bins)


@pytest.mark.parametrize("name", ["quantile_bins", *MEASURES])
def test_numpy_integer_bins_accepted(name):
    assert_no_problems(binned_problems(GOOD, GOOD[::-1] + 0.3, int(np.int64(3)), "int"))
    assert _call(name, GOOD, GOOD + 0.3, bins=np.int64(3)) is not None
    assert _call(name, GOOD, GOOD + 0.3, bins=np.uint8(3)) is not None


NON_NUMERIC = [
    ("str-list", ["a", "b", "c"]),
    ("str-ndarray", np.array(["a", "b"])),
    ("object-ndarray", np.array(["a", 1.0], dtype=object)),
    ("mixed-list", [1.0, None, "x"]),
    ("object-series", pd.Series(["a", "b"], dtype=object)),
    ("str-series", pd.Series(["a", "b"])),
    ("string-series", pd.Series(["a", None], dtype="string")),
    ("pyarrow-string", pa.array(["a", None])),
    ("polars-string", pl.Series(["a", None])),
    ("datetime-ndarray", np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("label", "bad"), NON_NUMERIC, ids=[c[0] for c in NON_NUMERIC])
def test_non_numeric_raise_type_error(name, label, bad):
    with pytest.raises(TypeError):
        _call(name, bad, GOOD)
    with pytest.raises(TypeError):
        _call(name, GOOD, bad)


def test_two_dimensional_raises_value_error():
    for name in FUNCTIONS:
        with pytest.raises(ValueError, match="1-dimensional"):
            _call(name, np.ones((3, 2)), GOOD)


def test_inputs_not_mutated():
    rng = np.random.default_rng(9)
    reference, current = rng.normal(size=100), rng.normal(size=80)
    reference[3] = np.nan
    series = pd.Series(current)
    before_r, before_s = reference.copy(), series.copy()
    for name in FUNCTIONS:
        _call(name, reference, series)
    assert np.array_equal(reference, before_r, equal_nan=True)
    assert series.equals(before_s)
