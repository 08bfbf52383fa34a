"""Parity of ``mlflow_oxide.drift`` with ``scipy.stats`` (1.17): ``ks_2samp`` and
``wasserstein_distance`` on 1-D samples.

Every case runs the same input through scipy and through ours and compares:

* ``ks_2samp``: ``statistic`` within ``rtol=1e-15``, ``pvalue`` within ``rtol=1e-12``
  (``atol=1e-300`` for p-values that underflow), ``statistic_location`` and ``statistic_sign``
  exactly, NaN in the same places, and the result unpacks as ``(statistic, pvalue)``.
* ``wasserstein_distance``: within ``rtol=1e-12`` (``atol=1e-15`` where scipy's value is 0; with
  weights, also ``atol=1e-12 x`` the value range, because weighted CDFs are sums taken in a
  different tie order than scipy's unstable argsort, which shows only on near-zero distances).
* When scipy raises, ours raises the same exception class.

Sizes 1, 2, 5, 100, 1000 and 20000 (every ordered pair) hit both of scipy's ``method='auto'``
branches (exact when both sizes are <= 10000, asymptotic otherwise) and its exact -> asymp
fallback for large unequal samples.

``OXIDE_DRIFT_UNDER_TEST=scipy.stats`` runs the suite against scipy itself, which checks the
tests (every test must pass, the native-path test is skipped) without the native implementation.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sp

UNDER_TEST = os.environ.get("OXIDE_DRIFT_UNDER_TEST", "mlflow_oxide.drift")
ox = importlib.import_module(UNDER_TEST)

STAT_RTOL = 1e-15
PVALUE_RTOL = 1e-12
PVALUE_ATOL = 1e-300
WASSERSTEIN_RTOL = 1e-12
ATOL_AT_ZERO = 1e-15

SEEDS = [0, 1, 2]
SIZES = [1, 2, 5, 100, 1000, 20000]
SIZE_PAIRS = [(n1, n2) for n1 in SIZES for n2 in SIZES]
KINDS = ["continuous", "shifted", "ties", "integers", "identical", "disjoint"]
ALTERNATIVES = ["two-sided", "less", "greater"]
METHODS = ["auto", "exact", "asymp"]


# --------------------------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    value: Any = None
    exc: BaseException | None = None
    warnings: list = field(default_factory=list)

    def warned(self, category: type[Warning]) -> bool:
        return any(issubclass(w.category, category) for w in self.warnings)


def _copy(a):
    if isinstance(a, np.ndarray | pd.Series):
        return a.copy()
    if isinstance(a, list):
        return list(a)
    return a


def _same_input(a, b) -> bool:
    if isinstance(a, pd.Series):
        return a.equals(b) and a.index.equals(b.index)
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def run(fn, *args, **kwargs) -> Outcome:
    """Call ``fn`` on copies of the arguments, recording warnings and any exception, and check
    that the call left its inputs untouched."""
    args = tuple(_copy(a) for a in args)
    kwargs = {k: _copy(v) for k, v in kwargs.items()}
    snapshot = [_copy(a) for a in (*args, *kwargs.values())]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = Outcome(value=fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the class is what is compared
            out = Outcome(exc=exc)
    out.warnings = list(caught)
    for before, after in zip(snapshot, (*args, *kwargs.values()), strict=True):
        if isinstance(before, np.ndarray | pd.Series | list):
            assert _same_input(before, after), f"{fn.__module__}.{fn.__name__} mutated its input"
    return out


def _both_nan(a, b) -> bool:
    try:
        return bool(np.isnan(a)) and bool(np.isnan(b))
    except TypeError:
        return False


def _close(got, ref, rtol, atol) -> bool:
    if _both_nan(got, ref):
        return True
    got, ref = float(got), float(ref)
    if math.isnan(got) or math.isnan(ref):
        return False
    if math.isinf(ref) or math.isinf(got):
        return got == ref
    return abs(got - ref) <= atol + rtol * abs(ref)


def exception_problems(ref: Outcome, got: Outcome, label: str) -> list[str] | None:
    """Problems when either side raised (``[]`` if both raised alike); ``None`` if neither."""
    if ref.exc is None and got.exc is None:
        return None
    if ref.exc is not None and got.exc is None:
        return [
            f"{label}: scipy raised {type(ref.exc).__name__}({ref.exc}), ours returned "
            f"{got.value!r}"
        ]
    if ref.exc is None:
        return [
            f"{label}: scipy returned {ref.value!r}, ours raised "
            f"{type(got.exc).__name__}({got.exc})"
        ]
    if not isinstance(got.exc, type(ref.exc)):
        return [
            f"{label}: scipy raised {type(ref.exc).__name__}({ref.exc}), ours raised "
            f"{type(got.exc).__name__}({got.exc})"
        ]
    if not str(got.exc):
        return [f"{label}: ours raised {type(got.exc).__name__} with an empty message"]
    return []


def ks_problems(ref: Outcome, got: Outcome, label: str) -> list[str]:
    raised = exception_problems(ref, got, label)
    if raised is not None:
        return raised
    r, o = ref.value, got.value
    problems = []
    for name in ("statistic", "pvalue", "statistic_location", "statistic_sign"):
        if not hasattr(o, name):
            return [f"{label}: result {o!r} has no attribute {name!r}"]
    if not _close(o.statistic, r.statistic, STAT_RTOL, 0.0):
        problems.append(f"statistic {o.statistic!r} != scipy {r.statistic!r}")
    if not _close(o.pvalue, r.pvalue, PVALUE_RTOL, PVALUE_ATOL):
        problems.append(f"pvalue {o.pvalue!r} != scipy {r.pvalue!r}")
    if not (
        _both_nan(o.statistic_location, r.statistic_location)
        or (o.statistic_location == r.statistic_location)
    ):
        problems.append(
            f"statistic_location {o.statistic_location!r} != scipy {r.statistic_location!r}"
        )
    if not (
        _both_nan(o.statistic_sign, r.statistic_sign) or (o.statistic_sign == r.statistic_sign)
    ):
        problems.append(f"statistic_sign {o.statistic_sign!r} != scipy {r.statistic_sign!r}")
    try:
        stat, pvalue = o
    except Exception as exc:  # noqa: BLE001
        problems.append(f"result does not unpack as (statistic, pvalue): {exc!r}")
    else:
        if not (_both_nan(stat, o.statistic) or stat == o.statistic) or not (
            _both_nan(pvalue, o.pvalue) or pvalue == o.pvalue
        ):
            problems.append(f"unpacked ({stat!r}, {pvalue!r}) differs from the attributes")
    return [f"{label}: {p}" for p in problems]


def wasserstein_problems(ref: Outcome, got: Outcome, label: str, scale: float = 0.0) -> list[str]:
    raised = exception_problems(ref, got, label)
    if raised is not None:
        return raised
    r, o = ref.value, got.value
    if not isinstance(o, float | np.floating):
        return [f"{label}: ours returned {type(o).__name__} {o!r}, not a float"]
    # With weights, each CDF is a cumulative sum whose order among tied values follows scipy's
    # unstable argsort on one side and a stable sort on ours; a near-zero distance then differs
    # by rounding of the CDFs times the value range, hence an absolute allowance of 1e-12 x range.
    atol = max(ATOL_AT_ZERO if r == 0 else 0.0, 1e-12 * scale)
    if not _close(o, r, WASSERSTEIN_RTOL, atol):
        rel = abs(float(o) - float(r)) / abs(float(r)) if r else float("inf")
        return [f"{label}: {o!r} != scipy {r!r} (rel err {rel:.3g})"]
    return []


def check_ks(data1, data2, label="", **kwargs) -> list[str]:
    ref = run(sp.ks_2samp, data1, data2, **kwargs)
    got = run(ox.ks_2samp, data1, data2, **kwargs)
    return ks_problems(ref, got, f"{label} {kwargs}".strip())


def check_wasserstein(u, v, u_weights=None, v_weights=None, label="") -> list[str]:
    ref = run(sp.wasserstein_distance, u, v, u_weights, v_weights)
    got = run(ox.wasserstein_distance, u, v, u_weights, v_weights)
    scale = 0.0
    if u_weights is not None or v_weights is not None:
        pooled = np.concatenate([np.ravel(u), np.ravel(v)]).astype(np.float64)
        if pooled.size and np.isfinite(pooled).all():
            scale = float(pooled.max() - pooled.min())
    return wasserstein_problems(ref, got, label, scale)


def assert_no_problems(problems: list[str]) -> None:
    if problems:
        shown = "\n".join(problems[:25])
        more = f"\n... and {len(problems) - 25} more" if len(problems) > 25 else ""
        pytest.fail(f"{len(problems)} mismatch(es) with scipy:\n{shown}{more}", pytrace=False)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def sample_pair(kind: str, n1: int, n2: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n1, n2, KINDS.index(kind)])
    if kind == "continuous":
        return rng.normal(size=n1), rng.normal(size=n2)
    if kind == "shifted":
        return rng.normal(size=n1), 0.4 + 1.7 * rng.normal(size=n2)
    if kind == "ties":
        return np.round(rng.normal(size=n1), 1), np.round(rng.normal(0.1, 1.0, size=n2), 1)
    if kind == "integers":
        return rng.integers(-3, 4, n1), rng.integers(-2, 4, n2)
    if kind == "identical":
        a = rng.normal(size=n1)
        b = np.resize(rng.permutation(a), n2) if n1 != n2 else a.copy()
        return a, b
    if kind == "disjoint":
        return rng.normal(size=n1), 50.0 + rng.exponential(size=n2)
    raise AssertionError(kind)


def weights_for(mode: str, n: int, rng: np.random.Generator):
    if mode == "none":
        return None
    if mode == "uniform":
        return rng.random(n)
    if mode == "zeros":  # some (not all) weights zero
        w = rng.random(n)
        w[rng.random(n) < 0.4] = 0.0
        if not w.any():
            w[rng.integers(n)] = 1.0
        return w
    if mode == "integer":
        w = rng.integers(0, 5, n)
        if not w.any():
            w[0] = 3
        return w
    if mode == "tiny":
        return rng.random(n) * 1e-9 + 1e-12
    if mode == "huge":
        return rng.random(n) * 1e12 + 1.0
    raise AssertionError(mode)


WEIGHT_MODES = [
    ("none", "none"),
    ("uniform", "uniform"),
    ("uniform", "none"),
    ("none", "uniform"),
    ("zeros", "zeros"),
    ("integer", "uniform"),
    ("tiny", "huge"),
]


# --------------------------------------------------------------------------------------------
# ks_2samp
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("n1", "n2"), SIZE_PAIRS, ids=[f"{a}x{b}" for a, b in SIZE_PAIRS])
def test_ks_2samp_randomized(n1, n2, kind):
    problems = []
    seeds = SEEDS if max(n1, n2) < 20000 else SEEDS[:1]
    for seed in seeds:
        data1, data2 = sample_pair(kind, n1, n2, seed)
        for alternative in ALTERNATIVES:
            for method in METHODS:
                problems += check_ks(
                    data1, data2, f"seed={seed}", alternative=alternative, method=method
                )
    assert_no_problems(problems)


@pytest.mark.parametrize(
    ("n1", "n2"),
    [(10000, 10000), (10000, 10001), (10001, 10000), (10000, 9000), (9999, 10000), (3, 10001)],
)
def test_ks_2samp_auto_boundary(n1, n2):
    """``method='auto'`` is exact iff both sizes are <= 10000 (and falls back to asymp, with a
    warning, when the exact one-sided computation overflows)."""
    problems = []
    for kind in ("continuous", "ties"):
        data1, data2 = sample_pair(kind, n1, n2, 7)
        for alternative in ALTERNATIVES:
            problems += check_ks(data1, data2, kind, alternative=alternative, method="auto")
    assert_no_problems(problems)


def test_ks_2samp_exact_impossible_switches_to_asymp():
    """lcm(n1, n2) >= 2**31 - 1: scipy switches 'exact' to 'asymp'."""
    rng = np.random.default_rng(3)
    data1, data2 = rng.normal(size=50000), rng.normal(0.01, size=49999)
    problems = []
    for alternative in ALTERNATIVES:
        problems += check_ks(data1, data2, alternative=alternative, method="exact")
    assert_no_problems(problems)


@pytest.mark.parametrize("seed", SEEDS)
def test_ks_2samp_small_exhaustive_ties(seed):
    """Tiny samples over a 3-value support: many equal ECDF gaps, so the location/sign
    tie-breaking of scipy's argmin/argmax over the concatenated sorted samples is exercised."""
    rng = np.random.default_rng(seed)
    problems = []
    for n1 in range(1, 7):
        for n2 in range(1, 7):
            for _ in range(3):
                data1 = rng.integers(0, 3, n1).astype(float)
                data2 = rng.integers(0, 3, n2).astype(float)
                for alternative in ALTERNATIVES:
                    for method in METHODS:
                        problems += check_ks(
                            data1,
                            data2,
                            f"{data1.tolist()} vs {data2.tolist()}",
                            alternative=alternative,
                            method=method,
                        )
    assert_no_problems(problems)


def _as(kind: str, a: np.ndarray):
    if kind == "float64":
        return np.asarray(a, dtype=np.float64)
    if kind == "float32":
        return np.asarray(a, dtype=np.float32)
    if kind == "int64":
        return np.round(a * 10).astype(np.int64)
    if kind == "int32":
        return np.round(a * 10).astype(np.int32)
    if kind == "uint8":
        return np.clip(np.round(a * 10) + 100, 0, 255).astype(np.uint8)
    if kind == "list-float":
        return [float(x) for x in a]
    if kind == "list-int":
        return [int(x) for x in np.round(a * 10)]
    if kind == "series-float":
        return pd.Series(a, index=np.arange(len(a))[::-1] * 3 + 7, name="x")
    if kind == "series-int":
        return pd.Series(np.round(a * 10).astype(np.int64))
    if kind == "series-float32":
        return pd.Series(a.astype(np.float32))
    if kind == "strided":
        return np.repeat(a, 2)[::2]
    if kind == "readonly":
        r = np.array(a)
        r.flags.writeable = False
        return r
    raise AssertionError(kind)


INPUT_KINDS = [
    "float64",
    "float32",
    "int64",
    "int32",
    "uint8",
    "list-float",
    "list-int",
    "series-float",
    "series-int",
    "series-float32",
    "strided",
    "readonly",
]
# The last pair is auto -> asymp (12000 > 10000); 'exact' on it stays affordable.
INPUT_SIZES = [(7, 11), (300, 250), (700, 12000)]
INPUT_PAIRS = [(k, k) for k in INPUT_KINDS] + [
    ("float32", "float64"),
    ("float64", "float32"),
    ("int64", "float64"),
    ("float32", "int64"),
    ("uint8", "float32"),
    ("int32", "int64"),
    ("list-int", "series-float"),
    ("series-int", "float32"),
]


@pytest.mark.parametrize(("kind1", "kind2"), INPUT_PAIRS, ids=[f"{a}-{b}" for a, b in INPUT_PAIRS])
def test_ks_2samp_input_types(kind1, kind2):
    problems = []
    for seed, (n1, n2) in zip(SEEDS, INPUT_SIZES, strict=True):
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=n1), 0.2 + 1.3 * rng.normal(size=n2)
        data1, data2 = _as(kind1, a), _as(kind2, b)
        for alternative in ALTERNATIVES:
            for method in METHODS:
                problems += check_ks(
                    data1, data2, f"n={n1},{n2}", alternative=alternative, method=method
                )
    assert_no_problems(problems)


def test_ks_2samp_result_types():
    """Statistic and p-value are floats, the sign an integer, and the location keeps the kind
    (integer / floating) of the data, as in scipy."""
    rng = np.random.default_rng(0)
    cases = [
        (rng.normal(size=40), rng.normal(size=30)),
        (rng.normal(size=40).astype(np.float32), rng.normal(size=30).astype(np.float32)),
        (rng.integers(0, 9, 40), rng.integers(0, 9, 30)),
    ]
    problems = []
    for data1, data2 in cases:
        for alternative in ALTERNATIVES:
            ref = sp.ks_2samp(data1, data2, alternative=alternative)
            got = ox.ks_2samp(data1, data2, alternative=alternative)
            label = f"{np.asarray(data1).dtype} {alternative}"
            if not isinstance(got.statistic, float | np.floating):
                problems.append(f"{label}: statistic is {type(got.statistic).__name__}")
            if not isinstance(got.pvalue, float | np.floating):
                problems.append(f"{label}: pvalue is {type(got.pvalue).__name__}")
            if not isinstance(got.statistic_sign, int | np.integer):
                problems.append(f"{label}: statistic_sign is {type(got.statistic_sign).__name__}")
            if (
                np.asarray(got.statistic_location).dtype.kind
                != np.asarray(ref.statistic_location).dtype.kind
            ):
                problems.append(
                    f"{label}: statistic_location is {type(got.statistic_location).__name__}, "
                    f"scipy's is {type(ref.statistic_location).__name__}"
                )
    assert_no_problems(problems)


def test_ks_2samp_int64_beyond_float_precision():
    """Distinct int64 values that float64 cannot tell apart: scipy sorts and compares them as
    integers."""
    big = 2**60
    cases = [
        (np.array([big, big + 1, big + 3], dtype=np.int64), np.array([big + 1], dtype=np.int64)),
        (np.array([big + 2, big + 5], dtype=np.int64), np.array([big + 1, big + 4, big + 6])),
    ]
    problems = []
    for data1, data2 in cases:
        for alternative in ALTERNATIVES:
            problems += check_ks(data1, data2, f"{data1} vs {data2}", alternative=alternative)
    assert_no_problems(problems)


def test_ks_2samp_nan_and_inf():
    """NaN propagates (scipy's default ``nan_policy='propagate'``); infinities are ordinary
    values."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=20), rng.normal(size=15)
    a_nan = a.copy()
    a_nan[3] = np.nan
    a_inf = a.copy()
    a_inf[[2, 4]] = [np.inf, -np.inf]
    b_inf = b.copy()
    b_inf[0] = np.inf
    problems = []
    for data1, data2, label in [
        (a_nan, b, "nan in data1"),
        (b, a_nan, "nan in data2"),
        (a_inf, b, "inf in data1"),
        (a_inf, b_inf, "inf in both"),
        (np.array([np.inf]), np.array([np.inf, np.inf]), "all inf"),
    ]:
        for alternative in ALTERNATIVES:
            problems += check_ks(data1, data2, label, alternative=alternative)
    assert_no_problems(problems)


ALTERNATIVE_SPELLINGS = ["g", "l", "t", "Greater", "LESS", "Two-Sided", "TWO-SIDED"]


def test_ks_2samp_alternative_spellings():
    """scipy accepts any spelling whose first letter (case-insensitive) is t, g or l."""
    rng = np.random.default_rng(2)
    data1, data2 = rng.normal(size=30), rng.normal(0.3, size=25)
    problems = []
    for alternative in ALTERNATIVE_SPELLINGS:
        problems += check_ks(data1, data2, alternative=alternative)
    assert_no_problems(problems)


BAD_KS_ARGS = [
    {"alternative": "foo"},
    {"alternative": "x"},
    {"alternative": "both"},
    {"alternative": "sided"},
    {"alternative": "unequal"},
    {"method": "foo"},
    {"method": "AUTO"},
    {"method": "Exact"},
    {"method": "asymptotic"},
    {"method": ""},
    {"method": None},
    {"alternative": "foo", "method": "exact"},
    {"alternative": "less", "method": "bogus"},
]


@pytest.mark.parametrize("kwargs", BAD_KS_ARGS, ids=[str(k) for k in BAD_KS_ARGS])
def test_ks_2samp_invalid_arguments_raise_like_scipy(kwargs):
    data1, data2 = np.array([0.1, 0.5, 0.9, 1.3]), np.array([0.2, 0.4, 1.0])
    ref = run(sp.ks_2samp, data1, data2, **kwargs)
    assert isinstance(ref.exc, ValueError), ref  # the case really is invalid for scipy
    got = run(ox.ks_2samp, data1, data2, **kwargs)
    assert_no_problems(ks_problems(ref, got, str(kwargs)))


EMPTY_KS = [
    ("data1", np.array([]), np.array([1.0, 2.0])),
    ("data2", np.array([1.0, 2.0]), np.array([])),
    ("both", np.array([]), np.array([])),
    ("list", [], [1.0, 2.0, 3.0]),
    ("int", np.array([], dtype=np.int64), np.array([1, 2])),
]


@pytest.mark.parametrize(("label", "data1", "data2"), EMPTY_KS, ids=[c[0] for c in EMPTY_KS])
def test_ks_2samp_empty_sample_like_scipy(label, data1, data2):
    """scipy 1.17 does not raise for an empty sample: its axis/NaN-policy wrapper returns NaN in
    all four fields with a ``SmallSampleWarning`` (a ``RuntimeWarning``). Ours must do the same
    (or raise the same class should scipy raise)."""
    problems = []
    for alternative in ALTERNATIVES:
        for method in METHODS:
            kw = {"alternative": alternative, "method": method}
            ref = run(sp.ks_2samp, data1, data2, **kw)
            got = run(ox.ks_2samp, data1, data2, **kw)
            problems += ks_problems(ref, got, f"empty {label} {kw}")
            if ref.warned(RuntimeWarning) and not got.warned(RuntimeWarning):
                problems.append(f"empty {label} {kw}: scipy warned, ours did not")
    assert_no_problems(problems)


def test_ks_2samp_warnings_match():
    """scipy warns (RuntimeWarning) when it switches 'exact' to 'asymp'; ours too, and neither
    warns on an ordinary call."""
    rng = np.random.default_rng(11)
    cases = [
        # exact one-sided computation overflows -> "Exact calculation unsuccessful"
        (rng.normal(size=20000), rng.normal(size=1000), "less", "exact"),
        (rng.normal(size=10000), rng.normal(size=9000), "greater", "auto"),
        # lcm too large -> "Exact ks_2samp calculation not possible"
        (rng.normal(size=50000), rng.normal(size=49999), "two-sided", "exact"),
        # ordinary calls: no warning
        (rng.normal(size=300), rng.normal(size=200), "two-sided", "auto"),
        (rng.normal(size=300), rng.normal(size=200), "less", "exact"),
        (rng.normal(size=30000), rng.normal(size=200), "greater", "asymp"),
    ]
    problems = []
    for data1, data2, alternative, method in cases:
        ref = run(sp.ks_2samp, data1, data2, alternative=alternative, method=method)
        got = run(ox.ks_2samp, data1, data2, alternative=alternative, method=method)
        label = f"n={len(data1)},{len(data2)} {alternative} {method}"
        if ref.warned(RuntimeWarning) != got.warned(RuntimeWarning):
            problems.append(
                f"{label}: scipy warnings {[str(w.message) for w in ref.warnings]}, ours "
                f"{[str(w.message) for w in got.warnings]}"
            )
    assert_no_problems(problems)


# --------------------------------------------------------------------------------------------
# wasserstein_distance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("n1", "n2"), SIZE_PAIRS, ids=[f"{a}x{b}" for a, b in SIZE_PAIRS])
def test_wasserstein_randomized(n1, n2, kind):
    problems = []
    for seed in SEEDS if max(n1, n2) < 20000 else SEEDS[:1]:
        u, v = sample_pair(kind, n1, n2, seed)
        rng = np.random.default_rng([seed, n1, n2, 99])
        for u_mode, v_mode in WEIGHT_MODES:
            uw, vw = weights_for(u_mode, n1, rng), weights_for(v_mode, n2, rng)
            problems += check_wasserstein(
                u, v, uw, vw, label=f"seed={seed} weights={u_mode},{v_mode}"
            )
    assert_no_problems(problems)


def test_wasserstein_identical_weighted_is_zero():
    rng = np.random.default_rng(4)
    problems = []
    for n in (1, 3, 50, 5000):
        u = rng.normal(size=n)
        w = rng.random(n) + 0.1
        problems += check_wasserstein(u, u.copy(), label=f"n={n} unweighted")
        problems += check_wasserstein(u, u.copy(), w, w.copy(), label=f"n={n} weighted")
        problems += check_wasserstein(u, u.copy(), w, 3.0 * w, label=f"n={n} scaled weights")
        perm = rng.permutation(n)
        problems += check_wasserstein(u, u[perm], w, w[perm], label=f"n={n} permuted")
    assert_no_problems(problems)


@pytest.mark.parametrize("seed", SEEDS)
def test_wasserstein_near_cancellation(seed):
    """A few support points shared by both samples, one side with 20000 random weights: the
    CDF gaps are tiny differences of cumulative sums, so the summation order shows."""
    problems = []
    for n1 in (2, 5):
        for n2 in (20000, 20001):
            rng = np.random.default_rng([seed, n1, n2])
            u = rng.normal(size=n1)
            v = np.resize(rng.permutation(u), n2)
            vw = rng.random(n2)
            problems += check_wasserstein(u, v, None, vw, label=f"n={n1},{n2} v weighted")
            problems += check_wasserstein(v, u, vw, None, label=f"n={n2},{n1} u weighted")
    assert_no_problems(problems)


def test_wasserstein_zero_weights_drop_points():
    """A zero weight removes its point: same distance as without it (per scipy)."""
    problems = []
    u = np.array([0.0, 1.0, 5.0, 100.0])
    v = np.array([0.5, 2.0, -40.0])
    problems += check_wasserstein(u, v, [1.0, 2.0, 1.0, 0.0], [1.0, 1.0, 0.0], label="a")
    problems += check_wasserstein(u, v, [0.0, 0.0, 0.0, 1.0], None, label="b")
    problems += check_wasserstein(u, v, None, [0.0, 0.0, 4.0], label="c")
    problems += check_wasserstein(u, u, [0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], label="d")
    assert_no_problems(problems)


@pytest.mark.parametrize(("kind1", "kind2"), INPUT_PAIRS, ids=[f"{a}-{b}" for a, b in INPUT_PAIRS])
def test_wasserstein_input_types(kind1, kind2):
    problems = []
    for seed, (n1, n2) in zip(SEEDS, INPUT_SIZES, strict=True):
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=n1), 0.2 + 1.3 * rng.normal(size=n2)
        u, v = _as(kind1, a), _as(kind2, b)
        wu, wv = rng.random(n1), rng.integers(0, 4, n2)
        wv[0] = 1
        problems += check_wasserstein(u, v, label=f"n={n1},{n2} unweighted")
        problems += check_wasserstein(u, v, wu, wv, label=f"n={n1},{n2} ndarray weights")
        problems += check_wasserstein(
            u, v, list(wu), pd.Series(wv), label=f"n={n1},{n2} list/Series weights"
        )
        problems += check_wasserstein(
            u, v, wu.astype(np.float32), wv.astype(np.int32), label=f"n={n1},{n2} f32/i32 w"
        )
    assert_no_problems(problems)


def test_wasserstein_nan_and_inf_values():
    problems = []
    base = np.array([0.0, 1.0, 2.5])
    for u, v, label in [
        (np.array([0.0, np.nan, 2.0]), base, "nan in u"),
        (base, np.array([np.nan]), "nan in v"),
        (np.array([0.0, np.inf]), base, "inf in u"),
        (base, np.array([-np.inf, 1.0]), "-inf in v"),
        (np.array([np.inf]), np.array([np.inf]), "inf both"),
    ]:
        problems += check_wasserstein(u, v, label=label)
    assert_no_problems(problems)


U4 = np.array([0.0, 1.0, 3.0, 4.0])
V3 = np.array([1.5, 2.0, 10.0])
BAD_WASSERSTEIN = [
    ("empty-u", np.array([]), V3, None, None),
    ("empty-v", U4, np.array([]), None, None),
    ("empty-both", [], [], None, None),
    ("empty-u-with-weights", np.array([]), V3, np.array([]), None),
    ("negative-u-weight", U4, V3, [1.0, -0.5, 1.0, 1.0], None),
    ("negative-v-weight", U4, V3, None, np.array([1.0, 2.0, -1e-12])),
    ("negative-int-weight", U4, V3, np.array([1, 2, -1, 3]), None),
    ("u-weights-too-long", U4, V3, np.ones(5), None),
    ("u-weights-too-short", U4, V3, np.ones(3), None),
    ("v-weights-wrong-length", U4, V3, None, [1.0, 1.0]),
    ("empty-weights", U4, V3, [], None),
    ("all-zero-u-weights", U4, V3, np.zeros(4), None),
    ("all-zero-v-weights", U4, V3, None, [0, 0, 0]),
    ("nan-weight", U4, V3, [1.0, np.nan, 1.0, 1.0], None),
    ("inf-weight", U4, V3, None, [1.0, np.inf, 1.0]),
    ("overflowing-weight-sum", U4, V3, [1e308, 1e308, 1.0, 1.0], None),
]


@pytest.mark.parametrize(
    ("label", "u", "v", "uw", "vw"), BAD_WASSERSTEIN, ids=[c[0] for c in BAD_WASSERSTEIN]
)
def test_wasserstein_invalid_input_raises_like_scipy(label, u, v, uw, vw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = run(sp.wasserstein_distance, u, v, uw, vw)
    assert isinstance(ref.exc, ValueError), ref  # the case really is invalid for scipy
    got = run(ox.wasserstein_distance, u, v, uw, vw)
    assert_no_problems(wasserstein_problems(ref, got, label))


# --------------------------------------------------------------------------------------------
# Native path
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(UNDER_TEST == "scipy.stats", reason="scipy has no fallback counter")
def test_valid_calls_never_fall_back():
    for name in ("fallbacks", "reset_fallbacks"):
        assert hasattr(ox, name), f"{UNDER_TEST} has no {name}()"
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=5000), rng.normal(0.1, size=3000)
    big_a, big_b = rng.normal(size=20000), rng.normal(size=15000)
    ints_a, ints_b = rng.integers(0, 10, 800), rng.integers(0, 10, 900)
    ox.reset_fallbacks()
    warnings.simplefilter("ignore", RuntimeWarning)  # exact -> asymp switches (restored by pytest)
    for alternative in ALTERNATIVES:
        for method in METHODS:
            ox.ks_2samp(a, b, alternative=alternative, method=method)
            ox.ks_2samp(big_a, big_b, alternative=alternative, method=method)
            ox.ks_2samp(ints_a, ints_b, alternative=alternative, method=method)
    ox.ks_2samp(a.astype(np.float32), b.astype(np.float32))
    ox.ks_2samp(a.astype(np.float32), b)
    ox.ks_2samp(list(a[:50]), pd.Series(b[:70]))
    ox.ks_2samp(a[:1], b[:1])
    ox.ks_2samp(a, a.copy())
    ox.ks_2samp(a, b + 100.0)
    ox.ks_2samp(a, b, alternative="g")
    ox.wasserstein_distance(a, b)
    ox.wasserstein_distance(big_a, big_b, rng.random(20000), rng.random(15000))
    ox.wasserstein_distance(a, b, np.where(rng.random(5000) < 0.3, 0.0, 1.0))
    ox.wasserstein_distance(ints_a, ints_b, None, rng.integers(1, 4, 900))
    ox.wasserstein_distance(list(a[:10]), pd.Series(b[:20]), list(rng.random(10)))
    ox.wasserstein_distance(a.astype(np.float32), b.astype(np.float32))
    ox.wasserstein_distance(a[:1], b[:1])
    assert ox.fallbacks() == {}
