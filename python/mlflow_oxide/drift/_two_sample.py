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
from mlflow_oxide.metrics._inputs import Decline, column

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
    from scipy.stats import distributions
    from scipy.stats._stats_py import KstestResult, _attempt_exact_2kssamp

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
    max_s, max_at, min_d, min_at = _native.ks_extremes_of(*_pair(a, b))
    min_s = np.clip(-min_d, 0, 1)
    if alternative == "less" or (alternative == "two-sided" and min_s > max_s):
        d, d_location, d_sign = min_s, min_at, -1
    else:
        d, d_location, d_sign = max_s, max_at, 1

    # From here on, scipy's own p-value logic on (n1, n2, d).
    n1, n2 = len(a), len(b)
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
            stacklevel=3,
        )
    if mode == "exact":
        success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, alternative)
        if not success:
            mode = "asymp"
            warnings.warn(
                f"ks_2samp: Exact calculation unsuccessful. Switching to method={mode}.",
                RuntimeWarning,
                stacklevel=3,
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
    prob = np.clip(prob, 0, 1)
    return KstestResult(
        np.float64(d),
        prob,
        statistic_location=location_type(d_location),
        statistic_sign=np.int8(d_sign),
    )


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
    return float(
        _native.wasserstein_1d(u, v, _weights(u_weights, len(u)), _weights(v_weights, len(v)))
    )
