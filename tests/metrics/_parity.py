"""Run one call through ``sklearn.metrics`` and ``mlflow_oxide.metrics`` and compare.

Rules (project-wide): floats equal within ``rtol=1e-12`` (``atol=1e-15`` where sklearn's value is
0, i.e. within 1e-15 of 0), NaN/inf in the same places, integers exact, same shapes. When sklearn
emits an ``UndefinedMetricWarning`` ours must emit one too (and not otherwise). When sklearn
raises, ours must raise the same exception class (sklearn's ``InvalidParameterError``, a subclass
of both ``ValueError`` and ``TypeError``, is expected as ``ValueError`` per the API contract).

``OXIDE_METRICS_UNDER_TEST=sklearn.metrics`` runs the suite against sklearn itself, which checks
the tests (every test must pass) before the native implementation exists.
"""

from __future__ import annotations

import copy
import importlib
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn.metrics as sk
from sklearn.utils._param_validation import InvalidParameterError

ox = importlib.import_module(os.environ.get("OXIDE_METRICS_UNDER_TEST", "mlflow_oxide.metrics"))

RTOL = 1e-12
ATOL_AT_ZERO = 1e-15


@dataclass
class Outcome:
    value: Any = None
    exc: BaseException | None = None
    warnings: list = field(default_factory=list)

    @property
    def undefined_metric_warned(self) -> bool:
        return any(is_undefined_metric_warning(w.category) for w in self.warnings)

    def warned(self, category: type[Warning]) -> bool:
        return any(issubclass(w.category, category) for w in self.warnings)


def is_undefined_metric_warning(category: type) -> bool:
    # Same class as sklearn's, or a class of the same name if the implementation defines its own
    # (it must still be a UserWarning so that filters written for sklearn keep working).
    return issubclass(category, UserWarning) and any(
        c.__name__ == "UndefinedMetricWarning" for c in category.__mro__
    )


def _copy_arg(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, list | dict):
        return copy.deepcopy(a)
    return a  # pandas/pyarrow/polars objects are not mutated by either side


def run(fn, args, kwargs) -> Outcome:
    args = [_copy_arg(a) for a in args]
    kwargs = {k: _copy_arg(v) for k, v in kwargs.items()}
    out = Outcome()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out.value = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - compared by class below
            out.exc = e
    out.warnings = list(caught)
    return out


def expected_exception_class(exc: BaseException) -> type[BaseException]:
    if isinstance(exc, InvalidParameterError):
        return ValueError
    return type(exc)


def assert_values_equal(expected, actual, path="result"):
    """Compare a sklearn result with ours using the project's tolerance rules."""
    if expected is None:
        assert actual is None, f"{path}: sklearn returned None, ours {actual!r}"
        return
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple | list), f"{path}: expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected), f"{path}: tuple length {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_values_equal(e, a, f"{path}[{i}]")
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{path}: expected ndarray, got {type(actual)}"
        assert actual.shape == expected.shape, f"{path}: shape {actual.shape} != {expected.shape}"
        _assert_array(expected, actual, path)
        return
    # scalar
    assert np.ndim(actual) == 0, f"{path}: expected a scalar, got {actual!r}"
    assert not isinstance(actual, str | bytes), f"{path}: got a string {actual!r}"
    if isinstance(expected, bool | np.bool_):
        assert bool(actual) == bool(expected), f"{path}: {actual!r} != {expected!r}"
        return
    if isinstance(expected, int | np.integer):
        assert float(actual) == float(expected), f"{path}: {actual!r} != {expected!r}"
        return
    _assert_array(np.asarray(float(expected)), np.asarray(float(actual)), path)


def _assert_array(expected: np.ndarray, actual: np.ndarray, path: str):
    if expected.dtype.kind in "iub":
        assert actual.dtype.kind in "iub", (
            f"{path}: sklearn returned integers ({expected.dtype}), ours {actual.dtype}"
        )
        np.testing.assert_array_equal(actual, expected, err_msg=path)
        return
    assert expected.dtype.kind == "f", f"{path}: unexpected sklearn dtype {expected.dtype}"
    if actual.dtype.kind in "iu":
        # sklearn sometimes hands back whole numbers as floats by accident of an internal branch
        # (e.g. precision_recall_fscore_support's support is float64 when no sample is a true
        # positive). Integers are accepted there only when they are exactly sklearn's values.
        np.testing.assert_array_equal(
            actual, expected, err_msg=f"{path}: sklearn returned floats, ours {actual.dtype}"
        )
        return
    assert actual.dtype.kind == "f", f"{path}: sklearn returned floats, ours {actual.dtype}"
    e = expected.astype(np.float64)
    a = actual.astype(np.float64)
    e_nan, a_nan = np.isnan(e), np.isnan(a)
    np.testing.assert_array_equal(a_nan, e_nan, err_msg=f"{path}: NaN positions differ")
    ok = ~e_nan
    e, a = e[ok], a[ok]
    e_inf = np.isinf(e)
    np.testing.assert_array_equal(a[e_inf], e[e_inf], err_msg=f"{path}: inf entries differ")
    # "sklearn's value is 0": exactly 0, or rounding noise around 0 from a cancellation such as
    # 1 - var(y - c) / var(y) (|value| at most ATOL_AT_ZERO), where a relative bound is meaningless.
    zero = np.abs(e) <= ATOL_AT_ZERO
    np.testing.assert_allclose(
        a[zero], e[zero], rtol=0, atol=ATOL_AT_ZERO, err_msg=f"{path}: at sklearn zeros"
    )
    rest = ~zero & ~e_inf
    np.testing.assert_allclose(a[rest], e[rest], rtol=_rtol[-1], atol=0, err_msg=path)


# When every input is float32, scikit-learn does its arithmetic in float32, so its own result
# carries float32 rounding (~6e-8 relative); ours is computed in float64 from the same values.
# Those comparisons use FLOAT32_RTOL (documented in the README).
FLOAT32_RTOL = 1e-6
_rtol = [RTOL]


def compare(
    name: str,
    *args,
    allow_error: bool = False,
    check_warnings: bool = True,
    rtol: float = RTOL,
    **kwargs,
):
    """Run ``name`` from both libraries and assert parity. Returns sklearn's value."""
    _rtol.append(rtol)
    try:
        return _compare(name, args, allow_error, check_warnings, kwargs)
    finally:
        _rtol.pop()


def _compare(name, args, allow_error, check_warnings, kwargs):
    ref = run(getattr(sk, name), args, kwargs)
    ours = run(getattr(ox, name), args, kwargs)
    if ref.exc is not None:
        assert allow_error, f"sklearn.metrics.{name} raised {ref.exc!r} on a parity input"
        cls = expected_exception_class(ref.exc)
        assert ours.exc is not None, (
            f"sklearn raised {type(ref.exc).__name__}({ref.exc}); ours returned {ours.value!r}"
        )
        assert isinstance(ours.exc, cls), (
            f"sklearn raised {type(ref.exc).__name__}({ref.exc}); "
            f"ours raised {type(ours.exc).__name__}({ours.exc})"
        )
        return None
    if ours.exc is not None:
        raise AssertionError(
            f"sklearn.metrics.{name} returned {ref.value!r}; ours raised "
            f"{type(ours.exc).__name__}: {ours.exc}"
        ) from ours.exc
    assert_values_equal(ref.value, ours.value, name)
    if check_warnings:
        assert ours.undefined_metric_warned == ref.undefined_metric_warned, (
            f"UndefinedMetricWarning: sklearn {[str(w.message) for w in ref.warnings]}, "
            f"ours {[str(w.message) for w in ours.warnings]}"
        )
    return ref.value
