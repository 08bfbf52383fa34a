"""Two-sample tests over numeric samples. Both samples are radix-sorted natively (in parallel,
GIL released) and walked once; scipy's conventions (statistic location and sign, p-value
methods) are kept by computing exactly what scipy computes from the sorted data. Input the
native path does not cover (NaN, masked arrays, invalid arguments) is served by scipy itself,
which also raises its own errors; `fallbacks()` counts those hand-offs."""

from __future__ import annotations

import functools
import math
import warnings
from collections import Counter

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.drift._sorting import sort_samples
from mlflow_oxide.metrics._inputs import Decline, column

try:
    from scipy.stats._morestats import _NoValue
except ImportError:  # pragma: no cover - scipy without the sentinel
    _NoValue = object()

_COUNTS: Counter[str] = Counter()


def fallbacks() -> dict[str, int]:
    """How many calls of each function scipy served in this process."""
    return dict(_COUNTS)


def reset_fallbacks() -> None:
    _COUNTS.clear()


def _native_or_scipy(name: str):
    def decorate(impl):
        @functools.wraps(impl)
        def function(*args, **kwargs):
            try:
                return impl(*args, **kwargs)
            except (Decline, ValueError, TypeError):
                _COUNTS[name] += 1
                from scipy import stats

                return getattr(stats, name)(*args, **kwargs)

        function.__doc__ = f"Same arguments and result as ``scipy.stats.{name}``."
        return function

    return decorate


def _sample(x, name: str) -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):
        raise Decline(f"{name} is masked")
    a = column(x, name)
    if a.dtype.kind not in "biuf" or len(a) == 0:
        raise Decline(f"{name} is empty or not numeric")
    return a


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both float32 stays float32 (no copy); anything else becomes float64, except integers
    float64 cannot hold exactly (scipy compares those as integers)."""
    for x in (a, b):
        if x.dtype.kind in "iu" and x.size and np.abs(x).max() > 2**53:
            raise Decline("integers beyond float64 precision")
    dtype = np.float32 if a.dtype == np.float32 and b.dtype == np.float32 else np.float64
    return np.ascontiguousarray(a, dtype=dtype), np.ascontiguousarray(b, dtype=dtype)


@_native_or_scipy("ks_2samp")
def ks_2samp(data1, data2, alternative="two-sided", method="auto"):
    from scipy.stats._stats_py import KstestResult

    mode = method
    if mode not in ("auto", "exact", "asymp") or not isinstance(alternative, str):
        raise Decline("arguments")
    alternative = {"t": "two-sided", "g": "greater", "l": "less"}.get(
        alternative.lower()[:1], alternative
    )
    if alternative not in ("two-sided", "less", "greater"):
        raise Decline("alternative")
    a, b = _sample(data1, "data1"), _sample(data2, "data2")
    location_type = np.result_type(a.dtype, b.dtype).type
    max_s, max_at, min_d, min_at = _native.ks_extremes_of(*sort_samples(list(_pair(a, b))))
    min_s = np.clip(-min_d, 0, 1)
    if alternative == "less" or (alternative == "two-sided" and min_s > max_s):
        d, d_location, d_sign = min_s, min_at, -1
    else:
        d, d_location, d_sign = max_s, max_at, 1

    d, prob = ks_pvalue(len(a), len(b), d, alternative, mode)
    return KstestResult(
        np.float64(d),
        prob,
        statistic_location=location_type(d_location),
        statistic_sign=np.int8(d_sign),
    )


def ks_pvalue(n1: int, n2: int, d: float, alternative: str, mode: str) -> tuple[float, float]:
    """scipy's ``ks_2samp`` p-value logic on ``(n1, n2, d)``, unchanged."""
    from scipy.stats import distributions
    from scipy.stats._stats_py import _attempt_exact_2kssamp

    g = math.gcd(n1, n2)
    n1g, n2g = n1 // g, n2 // g
    prob = -np.inf
    if mode == "auto":
        mode = "exact" if max(n1, n2) <= 10000 else "asymp"
    elif mode == "exact" and n1g >= np.iinfo(np.int32).max / n2g:
        mode = "asymp"
        warnings.warn(
            f"Exact ks_2samp calculation not possible with samples sizes {n1} and {n2}. "
            "Switching to 'asymp'.",
            RuntimeWarning,
            stacklevel=4,
        )
    if mode == "exact":
        success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, alternative)
        if not success:
            mode = "asymp"
            warnings.warn(
                f"ks_2samp: Exact calculation unsuccessful. Switching to method={mode}.",
                RuntimeWarning,
                stacklevel=4,
            )
    if mode == "asymp":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        if alternative == "two-sided":
            prob = distributions.kstwo.sf(d, np.round(en))
        else:
            z = np.sqrt(en) * d
            expt = -2 * z**2 - 2 * z * (m + 2 * n) / np.sqrt(m * n * (m + n)) / 3.0
            prob = np.exp(expt)
    return d, np.clip(prob, 0, 1)


def _weights(w, n: int) -> np.ndarray | None:
    if w is None:
        return None
    w = np.ascontiguousarray(column(w, "weights"), dtype=np.float64)
    if len(w) != n or np.any(w < 0) or not 0 < np.sum(w) < np.inf:
        raise Decline("weights")
    return w


@_native_or_scipy("wasserstein_distance")
def wasserstein_distance(u_values, v_values, u_weights=None, v_weights=None):
    u = np.ascontiguousarray(_sample(u_values, "u_values"), dtype=np.float64)
    v = np.ascontiguousarray(_sample(v_values, "v_values"), dtype=np.float64)
    weights = [_weights(u_weights, len(u)), _weights(v_weights, len(v))]
    su, sv = sort_samples([u, v], weights)
    return float(_native.wasserstein_of(su, sv))


def _sorted_all(arrays: list[np.ndarray]):
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    for x in arrays:
        if x.dtype.kind in "iu" and x.size and np.abs(x).max() > 2**53:
            raise Decline("integers beyond float64 precision")
    return sort_samples([np.ascontiguousarray(a, dtype=dtype) for a in arrays]), dtype


@_native_or_scipy("anderson_ksamp")
def anderson_ksamp(samples, midrank=_NoValue, *, variant=_NoValue, method=None):
    from scipy.stats._morestats import Anderson_ksampResult
    from scipy.stats._stats_py import SignificanceResult

    if method is not None or not isinstance(samples, (list, tuple)) or len(samples) < 2:
        raise Decline("permutation method or unusual samples")
    if variant not in (_NoValue, "midrank", "right", "continuous"):
        raise Decline("variant")
    arrays = [_sample(s, f"samples[{i}]") for i, s in enumerate(samples)]
    sorted_samples, _ = _sorted_all(arrays)
    lo = min(s.quantiles([0.0])[0] for s in sorted_samples)
    hi = max(s.quantiles([1.0])[0] for s in sorted_samples)
    if lo == hi:
        raise Decline("a single distinct observation")
    if variant is _NoValue or midrank is not _NoValue:
        warnings.warn(
            "Parameter `variant` has been introduced to replace `midrank`; "
            "`midrank` will be removed in SciPy 1.19.0. Specify `variant` to "
            "silence this warning. Note that the returned object will no longer "
            "be unpackable as a tuple, and `critical_values` will be omitted.",
            category=UserWarning,
            stacklevel=3,
        )
    return_critical_values = variant is _NoValue
    if variant is _NoValue:
        variant = "midrank" if (midrank is _NoValue or midrank) else "right"
    A2kN = np.float64(_native.anderson_ksamp_of(sorted_samples, variant))

    # From here on, scipy's own standardization and p-value interpolation.
    k = len(arrays)
    n = np.array([a.size for a in arrays])
    N = int(n.sum())
    H = (1.0 / n).sum()
    hs_cs = (1.0 / np.arange(N - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, N)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * N**3 + b * N**2 + c * N + d) / ((N - 1.0) * (N - 2.0) * (N - 3.0))
    m = k - 1
    a2_standardized = (A2kN - m) / math.sqrt(sigmasq)
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(m) + b2 / m
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    if a2_standardized < critical.min():
        p = sig.max()
        warnings.warn(
            f"p-value capped: true value larger than {p}. Consider specifying `method` "
            "(e.g. `method=stats.PermutationMethod()`.)",
            stacklevel=3,
        )
    elif a2_standardized > critical.max():
        p = sig.min()
        warnings.warn(
            f"p-value floored: true value smaller than {p}. Consider specifying `method` "
            "(e.g. `method=stats.PermutationMethod()`.)",
            stacklevel=3,
        )
    else:
        pf = np.polyfit(critical, np.log(sig), 2)
        p = math.exp(np.polyval(pf, a2_standardized))
    if return_critical_values:
        res = Anderson_ksampResult(a2_standardized, critical, p)
        res.significance_level = p
        return res
    return SignificanceResult(statistic=a2_standardized, pvalue=p)


@_native_or_scipy("cramervonmises_2samp")
def cramervonmises_2samp(x, y, method="auto", *, axis=0, nan_policy="propagate", keepdims=False):
    from scipy.stats._hypotests import (
        CramerVonMisesResult,
        _pval_cvm_2samp_asymptotic,
        _pval_cvm_2samp_exact,
    )

    if (
        axis != 0
        or nan_policy != "propagate"
        or keepdims
        or method
        not in (
            "auto",
            "exact",
            "asymptotic",
        )
    ):
        raise Decline("arguments")
    xa, ya = _sample(x, "x"), _sample(y, "y")
    nx, ny = len(xa), len(ya)
    if nx <= 1 or ny <= 1:
        raise Decline("fewer than two observations")
    (sx, sy), _ = _sorted_all([xa, ya])
    # scipy's result type: the inputs' common type, at least floating.
    dtype = np.result_type(xa.dtype, ya.dtype)
    dtype = dtype.type if dtype.kind == "f" else np.float64
    if method == "auto":
        method = "asymptotic" if max(nx, ny) > 20 else "exact"
    u = dtype(_native.cramervonmises_u_of(sx, sy))
    k, N = nx * ny, nx + ny
    t = u / dtype(k * N) - dtype((4 * k - 1) / (6 * N))
    if method == "exact":
        p = dtype(_pval_cvm_2samp_exact(np.asarray(u), nx, ny))
    else:
        from scipy._lib._array_api import array_namespace

        t_array = np.asarray(t)
        p = _pval_cvm_2samp_asymptotic(t_array, N, nx, ny, k, xp=array_namespace(t_array))
        p = p[()] if p.ndim == 0 else p
    return CramerVonMisesResult(statistic=dtype(t), pvalue=dtype(p))
