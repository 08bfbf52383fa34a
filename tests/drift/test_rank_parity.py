"""Parity of ``mlflow_oxide.drift`` with ``scipy.stats`` (1.17): ``anderson_ksamp`` and
``cramervonmises_2samp``.

Every case runs the same input through scipy and through ours and compares:

* the result class (``Anderson_ksampResult`` for the legacy call without ``variant``,
  ``SignificanceResult`` otherwise; ``CramerVonMisesResult``);
* ``statistic``, ``pvalue`` and (legacy) ``critical_values`` / ``significance_level`` within
  ``rtol=1e-12`` when scipy's result is float64 and ``rtol=1e-6`` when it is float32, NaN in
  the same places (for a float32 Cramer-von Mises statistic the 1e-6 is relative to the two
  large terms scipy subtracts in float32, see ``cvm_float32_problems``);
* the warnings emitted (category and message, in order);
* when scipy raises: the same exception class and message.

The types of the fields (``np.float64`` vs ``float`` vs ``np.float32``) are compared in their
own tests, so that a type difference does not hide value differences (and vice versa).

Inputs that the native path does not cover (NaN, a single sample, empty samples, a single
distinct value, ``method=PermutationMethod(...)``, ``nan_policy``, ``axis=1``, ...) are handed to
scipy; the tests check the outcome is scipy's.

``OXIDE_DRIFT_UNDER_TEST=scipy.stats`` runs the suite against scipy itself (the native-path
test is skipped).
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
import polars as pl
import pyarrow as pa
import pytest
import scipy.stats as sp
from scipy._lib._array_api import array_namespace
from scipy.stats._hypotests import _pval_cvm_2samp_asymptotic

UNDER_TEST = os.environ.get("OXIDE_DRIFT_UNDER_TEST", "mlflow_oxide.drift")
ox = importlib.import_module(UNDER_TEST)

RTOL64 = 1e-12
RTOL32 = 1e-6
SEEDS = [0, 1, 2]

ANDERSON_CALLS = [
    {"variant": "midrank"},
    {"variant": "right"},
    {"variant": "continuous"},
    {},  # legacy: midrank by default, critical values returned, deprecation warning
    {"midrank": True},
    {"midrank": False},
    {"midrank": False, "variant": "midrank"},  # variant wins, still warns
    {"midrank": True, "variant": "continuous"},
]
CVM_METHODS = ["auto", "exact", "asymptotic"]


# --------------------------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    value: Any = None
    exc: BaseException | None = None
    warnings: list = field(default_factory=list)


def run(fn, *args, **kwargs) -> Outcome:
    """Call ``fn``, recording warnings (category, message) and any exception."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = Outcome(value=fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the class and message are compared
            out = Outcome(exc=exc)
    out.warnings = [(w.category, str(w.message)) for w in caught]
    return out


def _close(got, ref, rtol, atol=0.0) -> bool:
    got, ref = float(got), float(ref)
    if math.isnan(ref) or math.isnan(got):
        return math.isnan(ref) and math.isnan(got)
    if math.isinf(ref) or math.isinf(got):
        return got == ref
    return abs(got - ref) <= atol + rtol * abs(ref)


def _rtol_for(value) -> float:
    return RTOL32 if np.asarray(value).dtype == np.float32 else RTOL64


def common_problems(ref: Outcome, got: Outcome, label: str) -> list[str] | None:
    """Exception and warning problems; ``None`` when both returned (values still to compare)."""
    problems = []
    ref_w = [(c.__name__, m) for c, m in ref.warnings]
    got_w = [(c.__name__, m) for c, m in got.warnings]
    if ref_w != got_w:
        problems.append(f"{label}: warnings {got_w} != scipy {ref_w}")
    if ref.exc is None and got.exc is None:
        return problems if problems else None
    if ref.exc is not None and got.exc is None:
        problems.append(
            f"{label}: scipy raised {type(ref.exc).__name__}({ref.exc}), ours returned "
            f"{got.value!r}"
        )
    elif ref.exc is None:
        problems.append(
            f"{label}: scipy returned {ref.value!r}, ours raised "
            f"{type(got.exc).__name__}({got.exc})"
        )
    elif type(got.exc) is not type(ref.exc) or str(got.exc) != str(ref.exc):
        problems.append(
            f"{label}: scipy raised {type(ref.exc).__name__}({ref.exc}), ours raised "
            f"{type(got.exc).__name__}({got.exc})"
        )
    return problems


def value_problems(ref_value, got_value, label: str, names: tuple[str, ...]) -> list[str]:
    problems = []
    if type(got_value).__name__ != type(ref_value).__name__:
        return [
            f"{label}: result is {type(got_value).__name__}, scipy's {type(ref_value).__name__}"
        ]
    for name in names:
        if not hasattr(got_value, name):
            problems.append(f"{label}: result has no {name!r}")
            continue
        r, g = getattr(ref_value, name), getattr(got_value, name)
        if np.ndim(r):
            if np.shape(g) != np.shape(r) or not np.allclose(
                g, r, rtol=_rtol_for(r), atol=0.0, equal_nan=True
            ):
                problems.append(f"{label}: {name} {g!r} != scipy {r!r}")
        elif not _close(g, r, _rtol_for(r)):
            problems.append(f"{label}: {name} {g!r} != scipy {r!r}")
    return problems


def anderson_problems(ref: Outcome, got: Outcome, label: str) -> list[str]:
    problems = common_problems(ref, got, label)
    if problems is not None and (ref.exc is not None or got.exc is not None):
        return problems
    problems = problems or []
    names = ("statistic", "pvalue")
    if hasattr(ref.value, "critical_values"):
        names += ("critical_values", "significance_level")
    problems += value_problems(ref.value, got.value, label, names)
    if hasattr(ref.value, "critical_values") and not problems:
        try:
            stat, crit, p = got.value
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{label}: legacy result does not unpack as a 3-tuple: {exc!r}")
        else:
            if stat != got.value.statistic or p != got.value.pvalue:
                problems.append(f"{label}: unpacked values differ from the attributes")
    return problems


def _cvm_pvalue64(t: float, nx: int, ny: int) -> float:
    k, N = nx * ny, nx + ny
    t = np.asarray(t, dtype=np.float64)
    return float(_pval_cvm_2samp_asymptotic(t, N, nx, ny, k, xp=array_namespace(t)))


def cvm_float32_problems(ref_value, got_value, label: str, nx: int, ny: int) -> list[str]:
    """float32 results: scipy computes ``T = U / (k N) - (4 k - 1) / (6 N)`` in float32, two
    terms of size about ``(4 k - 1) / (6 N)`` (80 for n = 300, 200) whose difference T is O(1):
    its float32 rounding error is ``eps32 x (4 k - 1) / (6 N)``, far above ``1e-6 x T``. So the
    1e-6 tolerance is taken relative to the operands, and the asymptotic p-value may move as
    scipy's p(T) does over that statistic tolerance."""
    problems = []
    if type(got_value).__name__ != type(ref_value).__name__:
        return [
            f"{label}: result is {type(got_value).__name__}, scipy's {type(ref_value).__name__}"
        ]
    k, N = nx * ny, nx + ny
    t_ref, t_got = float(ref_value.statistic), float(got_value.statistic)
    t_tol = RTOL32 * (abs(t_ref) + (4 * k - 1) / (6 * N))
    if not _close(t_got, t_ref, 0.0, t_tol):
        problems.append(f"{label}: statistic {t_got!r} != scipy {t_ref!r} (tol {t_tol:.3g})")
    p_ref, p_got = float(ref_value.pvalue), float(got_value.pvalue)
    if math.isfinite(t_ref):
        swing = abs(_cvm_pvalue64(t_ref + t_tol, nx, ny) - _cvm_pvalue64(t_ref - t_tol, nx, ny))
    else:
        swing = 0.0
    # float32 ``1 - cdf(tn)``, the cdf a short float32 series near 1: a few eps32 absolute.
    p_tol = RTOL32 * abs(p_ref) + swing + 4 * float(np.finfo(np.float32).eps)
    if not _close(p_got, p_ref, 0.0, p_tol):
        problems.append(f"{label}: pvalue {p_got!r} != scipy {p_ref!r} (tol {p_tol:.3g})")
    return problems


def cvm_problems(ref: Outcome, got: Outcome, label: str, sizes=None) -> list[str]:
    problems = common_problems(ref, got, label)
    if problems is not None and (ref.exc is not None or got.exc is not None):
        return problems
    problems = problems or []
    stat = ref.value.statistic
    if sizes is not None and np.ndim(stat) == 0 and np.asarray(stat).dtype == np.float32:
        return problems + cvm_float32_problems(ref.value, got.value, label, *sizes)
    return problems + value_problems(ref.value, got.value, label, ("statistic", "pvalue"))


def check_anderson(samples, label="", **kwargs) -> list[str]:
    ref = run(sp.anderson_ksamp, samples, **kwargs)
    got = run(ox.anderson_ksamp, samples, **kwargs)
    return anderson_problems(ref, got, f"{label} {kwargs}".strip())


def _sizes(x, y):
    try:
        return len(x), len(y)
    except TypeError:
        return None


def check_cvm(x, y, label="", **kwargs) -> list[str]:
    ref = run(sp.cramervonmises_2samp, x, y, **kwargs)
    got = run(ox.cramervonmises_2samp, x, y, **kwargs)
    return cvm_problems(ref, got, f"{label} {kwargs}".strip(), _sizes(x, y))


def assert_no_problems(problems: list[str]) -> None:
    if problems:
        shown = "\n".join(problems[:25])
        more = f"\n... and {len(problems) - 25} more" if len(problems) > 25 else ""
        pytest.fail(f"{len(problems)} mismatch(es) with scipy:\n{shown}{more}", pytrace=False)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

KINDS = [
    "continuous",
    "shifted",
    "ties",
    "heavy-ties",
    "integers",
    "float32",
    "mixed-float32",
    "identical",
]


def draw(kind: str, sizes: list[int], seed: int) -> list[np.ndarray]:
    """One sample per size, of the given kind."""
    rng = np.random.default_rng([seed, KINDS.index(kind), *sizes])
    out = []
    for i, n in enumerate(sizes):
        shift = 0.15 * i
        if kind == "continuous":
            out.append(rng.normal(size=n))
        elif kind == "shifted":
            out.append(shift * 3 + (1 + shift) * rng.normal(size=n))
        elif kind == "ties":
            out.append(np.round(rng.normal(shift, 1.0, size=n), 1))
        elif kind == "heavy-ties":
            out.append(np.round(rng.normal(shift, 1.0, size=n)))
        elif kind == "integers":
            out.append(rng.integers(-3, 4 + i, n))
        elif kind == "float32":
            out.append(rng.normal(shift, 1.0, size=n).astype(np.float32))
        elif kind == "mixed-float32":
            a = rng.normal(shift, 1.0, size=n)
            out.append(a.astype(np.float32) if i % 2 == 0 else a)
        elif kind == "identical":
            base = out[0] if out else rng.normal(size=n)
            out.append(np.resize(rng.permutation(base), n))
        else:
            raise AssertionError(kind)
    return out


# --------------------------------------------------------------------------------------------
# anderson_ksamp
# --------------------------------------------------------------------------------------------

ANDERSON_SIZES = {
    "tiny": [[1, 3], [2, 2], [2, 3], [3, 1, 2], [2, 2, 2, 2], [1, 1, 2], [4, 1]],
    "small": [[5, 7], [10, 4, 8], [20, 20], [6, 9, 11, 3], [15, 2]],
    "medium": [[100, 80], [300, 250, 400], [1000, 50, 700, 200]],
    "large": [[50000, 40000], [20000, 30000, 25000, 10000]],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size_class", list(ANDERSON_SIZES))
def test_anderson_ksamp_randomized(size_class, kind):
    problems = []
    seeds = SEEDS[:1] if size_class == "large" else SEEDS
    for seed in seeds:
        for sizes in ANDERSON_SIZES[size_class]:
            samples = draw(kind, sizes, seed)
            for kwargs in ANDERSON_CALLS:
                problems += check_anderson(samples, f"seed={seed} sizes={sizes}", **kwargs)
    assert_no_problems(problems)


@pytest.mark.parametrize("seed", SEEDS)
def test_anderson_ksamp_small_exhaustive_ties(seed):
    """Tiny samples over a 3-value support: every tie pattern of the midrank/right formulas."""
    rng = np.random.default_rng(seed)
    problems = []
    for k in (2, 3):
        for n in range(2, 7):
            for _ in range(4):
                samples = [rng.integers(0, 3, n + i).astype(float) for i in range(k)]
                label = str([s.tolist() for s in samples])
                for kwargs in ANDERSON_CALLS[:3]:
                    problems += check_anderson(samples, label, **kwargs)
    assert_no_problems(problems)


def test_anderson_ksamp_pvalue_regions():
    """Capped (A2 below every critical value), interpolated, and floored p-values, each with
    scipy's warning (or none) for k = 2, 3, 4."""
    rng = np.random.default_rng(8)
    problems = []
    for k in (2, 3, 4):
        for shift in (0.0, 0.05, 0.2, 0.35, 0.5, 3.0):
            samples = [rng.normal(shift * i, 1.0, size=60) for i in range(k)]
            for kwargs in ANDERSON_CALLS:
                problems += check_anderson(samples, f"k={k} shift={shift}", **kwargs)
    assert_no_problems(problems)


def test_anderson_ksamp_legacy_midrank_argument():
    """``midrank`` passed positionally, as keyword, and alongside ``variant``; the legacy result
    unpacks as (statistic, critical_values, pvalue); the deprecation warning is scipy's."""
    rng = np.random.default_rng(4)
    samples = [np.round(rng.normal(size=40), 1), np.round(rng.normal(0.3, size=30), 1)]
    problems = []
    for midrank in (True, False, 1, 0):
        ref = run(sp.anderson_ksamp, samples, midrank)
        got = run(ox.anderson_ksamp, samples, midrank)
        problems += anderson_problems(ref, got, f"positional midrank={midrank!r}")
        assert ref.warnings and ref.warnings[0][0] is UserWarning
    with pytest.warns(UserWarning, match="Parameter `variant` has been introduced") as record:
        res = ox.anderson_ksamp(samples, midrank=False)
    with pytest.warns(UserWarning, match="Parameter `variant` has been introduced") as ref_record:
        ref = sp.anderson_ksamp(samples, midrank=False)
    assert [(w.category, str(w.message)) for w in record] == [
        (w.category, str(w.message)) for w in ref_record
    ]
    stat, crit, p = res
    assert _close(stat, ref.statistic, RTOL64)
    assert np.allclose(crit, ref.critical_values, rtol=RTOL64, atol=0)
    assert _close(p, ref.pvalue, RTOL64)
    assert _close(res.significance_level, ref.significance_level, RTOL64)
    # With variant given and an interpolated p-value, neither warns at all.
    quiet = [rng.normal(size=50), rng.normal(0.45, size=50)]
    ref, got = (
        run(sp.anderson_ksamp, quiet, variant="midrank"),
        run(ox.anderson_ksamp, quiet, variant="midrank"),
    )
    assert ref.warnings == [], ref.warnings
    problems += anderson_problems(ref, got, "variant given, interpolated")
    assert_no_problems(problems)


def _containers(a: np.ndarray) -> dict[str, Any]:
    return {
        "ndarray": a,
        "list": a.tolist(),
        "tuple-list": tuple(a.tolist()),
        "series": pd.Series(a, index=np.arange(len(a))[::-1] * 2 + 5),
        "pyarrow": pa.array(a),
        "pyarrow-chunked": pa.chunked_array([a[: len(a) // 2], a[len(a) // 2 :]]),
        "polars": pl.Series(a),
    }


CONTAINERS = list(_containers(np.zeros(2)))


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_anderson_ksamp_containers(container, dtype):
    """Lists, pandas Series, pyarrow arrays and polars Series (scipy takes them all too)."""
    rng = np.random.default_rng(5)
    problems = []
    for sizes in ([12, 9], [300, 200, 250]):
        base = [np.round(rng.normal(0.1 * i, 1.0, size=n) * 10) for i, n in enumerate(sizes)]
        samples = [_containers(b.astype(dtype))[container] for b in base]
        for kwargs in ANDERSON_CALLS[:4]:
            problems += check_anderson(samples, f"sizes={sizes}", **kwargs)
            problems += check_anderson(tuple(samples), f"tuple sizes={sizes}", **kwargs)
    assert_no_problems(problems)


def test_anderson_ksamp_result_types():
    """statistic / pvalue / critical_values types are scipy's: np.float64 statistic, the
    p-value a float (interpolated) or np.float64 (capped / floored)."""
    rng = np.random.default_rng(6)
    cases = {
        "interpolated": [rng.normal(size=50), rng.normal(0.45, size=50)],
        "capped": [rng.normal(size=50), rng.normal(size=50)],
        "floored": [rng.normal(size=50), rng.normal(3.0, size=50)],
        "float32": [
            rng.normal(size=50).astype(np.float32),
            rng.normal(0.45, size=50).astype(np.float32),
        ],
        "ints": [rng.integers(0, 9, 40), rng.integers(1, 10, 40)],
    }
    problems = []
    for label, samples in cases.items():
        for kwargs in ANDERSON_CALLS[:4]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = sp.anderson_ksamp(samples, **kwargs)
                got = ox.anderson_ksamp(samples, **kwargs)
            names = ["statistic", "pvalue"]
            if hasattr(ref, "critical_values"):
                names += ["critical_values", "significance_level"]
            for name in names:
                r, g = getattr(ref, name), getattr(got, name)
                if type(g) is not type(r):
                    problems.append(
                        f"{label} {kwargs}: {name} is {type(g).__name__}, scipy's "
                        f"{type(r).__name__}"
                    )
                elif isinstance(r, np.ndarray) and g.dtype != r.dtype:
                    problems.append(f"{label} {kwargs}: {name} dtype {g.dtype} != {r.dtype}")
    assert_no_problems(problems)


def _permutation(seed=0):
    return sp.PermutationMethod(n_resamples=99, rng=np.random.default_rng(seed))


def _anderson_invalid_cases():
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=12), rng.normal(0.4, size=10)
    nan_a = a.copy()
    nan_a[2] = np.nan
    return {
        "one-sample": ([a], {"variant": "midrank"}),
        "one-sample-legacy": ([a], {}),
        "no-samples": ([], {"variant": "right"}),
        "empty-sample": ([a, np.array([])], {"variant": "midrank"}),
        "empty-sample-legacy": ([a, []], {}),
        "all-empty": ([[], []], {"variant": "continuous"}),
        "single-distinct": ([np.ones(4), np.ones(3)], {"variant": "midrank"}),
        "single-distinct-legacy": ([[2, 2], [2, 2, 2]], {"midrank": False}),
        "nan": ([nan_a, b], {"variant": "midrank"}),
        "nan-right": ([nan_a, b], {"variant": "right"}),
        "nan-continuous": ([b, nan_a], {"variant": "continuous"}),
        "nan-legacy": ([nan_a, b], {}),
        "all-nan": ([np.full(3, np.nan), b], {"variant": "midrank"}),
        "bad-variant": ([a, b], {"variant": "left"}),
        "bad-variant-none": ([a, b], {"variant": None}),
        "2d-array": (np.vstack([a[:10], b]), {"variant": "midrank"}),
        "2d-sample": ([a.reshape(3, 4), b], {"variant": "midrank"}),
        "inf": ([np.append(a, np.inf), b], {"variant": "midrank"}),
        "strings": ([["a", "b", "c"], ["b", "c", "d"]], {"variant": "midrank"}),
        "three-points": ([[1.0, 2.0], [3.0]], {"variant": "midrank"}),
        "two-points": ([[1.0], [3.0]], {"variant": "right"}),
    }


ANDERSON_INVALID = _anderson_invalid_cases()


@pytest.mark.parametrize("case", list(ANDERSON_INVALID))
def test_anderson_ksamp_unusual_input_like_scipy(case):
    samples, kwargs = ANDERSON_INVALID[case]
    assert_no_problems(check_anderson(samples, case, **kwargs))


@pytest.mark.parametrize("variant", ["midrank", "right", "continuous"])
def test_anderson_ksamp_permutation_method_like_scipy(variant):
    rng = np.random.default_rng(10)
    samples = [rng.normal(size=15), rng.normal(0.5, size=12), rng.normal(size=9)]
    ref = run(sp.anderson_ksamp, samples, variant=variant, method=_permutation())
    got = run(ox.anderson_ksamp, samples, variant=variant, method=_permutation())
    assert ref.exc is None, ref.exc
    assert_no_problems(anderson_problems(ref, got, f"permutation {variant}"))


# --------------------------------------------------------------------------------------------
# cramervonmises_2samp
# --------------------------------------------------------------------------------------------

CVM_EXACT_PAIRS = [
    (2, 2),
    (2, 3),
    (3, 2),
    (2, 20),
    (20, 2),
    (3, 7),
    (5, 5),
    (7, 13),
    (10, 10),
    (13, 20),
    (20, 20),
    (21, 7),  # auto -> asymptotic
    (2, 21),
    (24, 16),  # 'exact' still affordable (coprime sizes above ~17 cost 0.2 s each in scipy)
]
CVM_LARGE_PAIRS = [(100, 80), (1000, 1500), (5000, 3000), (50000, 40000)]


@pytest.mark.parametrize("kind", KINDS)
def test_cramervonmises_small_all_methods(kind):
    """Sizes 2..30: scipy's exact p-value (``auto`` is exact when both sizes are <= 20)."""
    problems = []
    for seed in SEEDS:
        for nx, ny in CVM_EXACT_PAIRS:
            x, y = draw(kind, [nx, ny], seed)
            for method in CVM_METHODS:
                problems += check_cvm(x, y, f"seed={seed} n={nx},{ny}", method=method)
    assert_no_problems(problems)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("nx", "ny"), CVM_LARGE_PAIRS, ids=[f"{a}x{b}" for a, b in CVM_LARGE_PAIRS]
)
def test_cramervonmises_large(nx, ny, kind):
    problems = []
    for seed in SEEDS if max(nx, ny) < 50000 else SEEDS[:1]:
        x, y = draw(kind, [nx, ny], seed)
        for method in ("auto", "asymptotic"):
            problems += check_cvm(x, y, f"seed={seed}", method=method)
    assert_no_problems(problems)


@pytest.mark.parametrize("seed", SEEDS)
def test_cramervonmises_small_exhaustive_ties(seed):
    rng = np.random.default_rng(seed)
    problems = []
    for nx in range(2, 9):
        for ny in range(2, 9):
            x = rng.integers(0, 3, nx).astype(float)
            y = rng.integers(0, 3, ny).astype(float)
            for method in CVM_METHODS:
                problems += check_cvm(x, y, f"{x.tolist()} vs {y.tolist()}", method=method)
    assert_no_problems(problems)


DTYPE_PAIRS = [
    ("float32", "float32"),
    ("float32", "float64"),
    ("float64", "float32"),
    ("int64", "int64"),
    ("int32", "float32"),
    ("int16", "float32"),
    ("uint8", "float32"),
    ("int64", "float64"),
    ("bool", "float64"),
]


@pytest.mark.parametrize(("d1", "d2"), DTYPE_PAIRS, ids=[f"{a}-{b}" for a, b in DTYPE_PAIRS])
def test_cramervonmises_dtypes(d1, d2):
    """Values, and the float32 / float64 result dtype scipy picks (numpy promotion of the two
    input dtypes, forced to floating)."""
    rng = np.random.default_rng(12)
    problems = []
    for nx, ny in ((9, 12), (300, 200)):
        if "bool" in (d1, d2):
            x = (rng.random(nx) < 0.4).astype(d1)
        else:
            x = np.round(rng.normal(size=nx) * 20).astype(d1)
        y = np.round(rng.normal(0.3, size=ny) * 20).astype(d2)
        for method in ("auto", "asymptotic"):
            ref = run(sp.cramervonmises_2samp, x, y, method=method)
            got = run(ox.cramervonmises_2samp, x, y, method=method)
            label = f"{d1}/{d2} n={nx},{ny} {method}"
            problems += cvm_problems(ref, got, label, (nx, ny))
            if ref.exc is None and got.exc is None:
                for name in ("statistic", "pvalue"):
                    r, g = getattr(ref.value, name), getattr(got.value, name)
                    if type(g) is not type(r):
                        problems.append(
                            f"{label}: {name} is {type(g).__name__}, scipy's {type(r).__name__}"
                        )
    assert_no_problems(problems)


def test_cramervonmises_result_types():
    rng = np.random.default_rng(13)
    problems = []
    for x, y in [
        (rng.normal(size=8), rng.normal(size=11)),
        (rng.normal(size=80), rng.normal(size=110)),
        (rng.normal(size=8), rng.normal(size=110)),
        (rng.normal(size=8).astype(np.float32), rng.normal(size=11).astype(np.float32)),
        (rng.normal(size=80).astype(np.float32), rng.normal(size=110).astype(np.float32)),
        (rng.integers(0, 5, 30), rng.integers(0, 5, 15)),
        (list(rng.normal(size=6)), list(rng.normal(size=5))),
    ]:
        for method in CVM_METHODS if max(len(x), len(y)) <= 20 else ("auto", "asymptotic"):
            ref = sp.cramervonmises_2samp(x, y, method=method)
            got = ox.cramervonmises_2samp(x, y, method=method)
            for name in ("statistic", "pvalue"):
                r, g = getattr(ref, name), getattr(got, name)
                if type(g) is not type(r):
                    problems.append(
                        f"{np.asarray(x).dtype} n={len(x)},{len(y)} {method}: {name} is "
                        f"{type(g).__name__}, scipy's {type(r).__name__}"
                    )
    assert_no_problems(problems)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_cramervonmises_containers(container, dtype):
    rng = np.random.default_rng(14)
    problems = []
    for nx, ny in ((7, 9), (300, 200)):
        x = np.round(rng.normal(size=nx) * 10).astype(dtype)
        y = np.round(rng.normal(0.2, size=ny) * 10).astype(dtype)
        cx, cy = _containers(x)[container], _containers(y)[container]
        for method in ("auto", "asymptotic"):
            problems += check_cvm(cx, cy, f"n={nx},{ny}", method=method)
        # mixed containers
        problems += check_cvm(cx, pd.Series(y), f"n={nx},{ny} vs Series")
    assert_no_problems(problems)


def _cvm_invalid_cases():
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=12), rng.normal(0.4, size=10)
    nan_x = x.copy()
    nan_x[2] = np.nan
    x2d, y2d = rng.normal(size=(3, 8)), rng.normal(size=(3, 9))
    return {
        "one-observation-x": (x[:1], y, {}),
        "one-observation-y": (x, y[:1], {"method": "exact"}),
        "empty-x": (np.array([]), y, {}),
        "empty-y": (x, [], {"method": "asymptotic"}),
        "both-empty": ([], [], {}),
        "single-distinct": (np.ones(4), np.ones(3), {}),
        "single-distinct-exact": ([2, 2], [2, 2, 2], {"method": "exact"}),
        "nan": (nan_x, y, {}),
        "nan-exact": (y, nan_x, {"method": "exact"}),
        "nan-omit": (nan_x, y, {"nan_policy": "omit"}),
        "nan-raise": (nan_x, y, {"nan_policy": "raise"}),
        "omit-without-nan": (x, y, {"nan_policy": "omit"}),
        "bad-nan-policy": (x, y, {"nan_policy": "drop"}),
        "bad-method": (x, y, {"method": "permutation"}),
        "method-permutation": (x, y, {"method": _permutation()}),
        "axis-1-2d": (x2d, y2d, {"axis": 1}),
        "axis-0-2d": (x2d.T[:6], y2d.T, {"axis": 0}),
        "axis-none": (x2d, y2d, {"axis": None}),
        "axis-0-1d-ok": (x, y, {"axis": 0}),
        "axis-minus-1": (x, y, {"axis": -1}),
        "keepdims": (x, y, {"keepdims": True}),
        "inf": (np.append(x, np.inf), y, {}),
        "masked": (np.ma.masked_array(x, mask=x > 1.0), y, {}),
        "strings": (["a", "b", "c"], ["b", "c"], {}),
    }


CVM_INVALID = _cvm_invalid_cases()


@pytest.mark.parametrize("case", list(CVM_INVALID))
def test_cramervonmises_unusual_input_like_scipy(case):
    x, y, kwargs = CVM_INVALID[case]
    if "method" in kwargs and isinstance(kwargs["method"], sp.PermutationMethod):
        ref = run(sp.cramervonmises_2samp, x, y, method=_permutation())
        got = run(ox.cramervonmises_2samp, x, y, method=_permutation())
        assert_no_problems(cvm_problems(ref, got, case, _sizes(x, y)))
        return
    ref = run(sp.cramervonmises_2samp, x, y, **kwargs)
    got = run(ox.cramervonmises_2samp, x, y, **kwargs)
    problems = cvm_problems(ref, got, case, _sizes(x, y) if np.ndim(x) == 1 else None)
    if not problems and ref.exc is None and np.ndim(ref.value.statistic):
        # axis / keepdims: array results
        for name in ("statistic", "pvalue"):
            r, g = getattr(ref.value, name), getattr(got.value, name)
            if np.shape(g) != np.shape(r):
                problems.append(f"{case}: {name} shape {np.shape(g)} != {np.shape(r)}")
    assert_no_problems(problems)


# --------------------------------------------------------------------------------------------
# Native path
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(UNDER_TEST == "scipy.stats", reason="scipy has no fallback counter")
def test_valid_calls_never_fall_back():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=500), rng.normal(0.1, size=300), rng.normal(size=200)
    big_a, big_b = rng.normal(size=50000), rng.normal(size=40000)
    ints_a, ints_b = rng.integers(0, 10, 80), rng.integers(0, 10, 90)
    ox.reset_fallbacks()
    assert ox.fallbacks() == {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in ANDERSON_CALLS:
            ox.anderson_ksamp([a, b], **kwargs)
            ox.anderson_ksamp([a, b, c], **kwargs)
            ox.anderson_ksamp((big_a, big_b, a, c), **kwargs)
            ox.anderson_ksamp([ints_a, ints_b], **kwargs)
            ox.anderson_ksamp([a[:2], b[:2]], **kwargs)
            ox.anderson_ksamp([a.astype(np.float32), b.astype(np.float32)], **kwargs)
            ox.anderson_ksamp([a.astype(np.float32), b], **kwargs)
            ox.anderson_ksamp([list(a[:30]), pd.Series(b[:20]), pa.array(c), pl.Series(c)])
        for method in CVM_METHODS:
            ox.cramervonmises_2samp(a[:15], b[:12], method=method)
            ox.cramervonmises_2samp(ints_a[:20], ints_b[:18], method=method)
            ox.cramervonmises_2samp(a[:2], b[:2], method=method)
            ox.cramervonmises_2samp(np.ones(3), np.ones(4), method=method)
        for x, y in [
            (a, b),
            (big_a, big_b),
            (ints_a, ints_b),
            (a.astype(np.float32), b.astype(np.float32)),
            (a.astype(np.float32), b),
            (list(a), pd.Series(b)),
            (pa.array(a), pl.Series(b)),
            (pa.chunked_array([a[:100], a[100:]]), b),
        ]:
            ox.cramervonmises_2samp(x, y)
            ox.cramervonmises_2samp(x, y, method="asymptotic")
            ox.cramervonmises_2samp(x, y, axis=0, nan_policy="propagate", keepdims=False)
    assert ox.fallbacks() == {}


@pytest.mark.skipif(UNDER_TEST == "scipy.stats", reason="scipy has no fallback counter")
def test_unusual_calls_are_counted_as_fallbacks():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=20), rng.normal(size=15)
    a[3] = np.nan
    ox.reset_fallbacks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ox.anderson_ksamp([a, b], variant="midrank")
        ox.cramervonmises_2samp(a, b)
        ox.cramervonmises_2samp(a, b, nan_policy="omit")
    assert ox.fallbacks() == {"anderson_ksamp": 1, "cramervonmises_2samp": 2}
