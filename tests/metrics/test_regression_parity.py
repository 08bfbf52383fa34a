"""Parity of regression metrics with sklearn (multioutput, weights, force_finite, dtypes, sizes)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ._data import WEIGHT_MODES, weights
from ._parity import FLOAT32_RTOL, compare

SEEDS = [0, 1]

# Metrics that take sample_weight and multioutput.
MULTIOUTPUT_METRICS = [
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "median_absolute_error",
    "r2_score",
    "explained_variance_score",
    "mean_squared_log_error",
    "root_mean_squared_log_error",
    "mean_pinball_loss",
]
VARIANCE_WEIGHTED = {"r2_score", "explained_variance_score"}
NEEDS_NONNEGATIVE = {"mean_squared_log_error", "root_mean_squared_log_error"}


@cache
def _data(n: int, n_outputs: int, seed: int, nonneg: bool):
    rng = np.random.default_rng(seed)
    shape = (n,) if n_outputs == 0 else (n, n_outputs)
    y_true = rng.normal(loc=2.0, scale=3.0, size=shape)
    y_pred = y_true + rng.normal(scale=1.5, size=shape)
    if n_outputs:
        y_pred[:, 0] = y_true[:, 0] * 0.5 + 1  # outputs of different quality
    if nonneg:
        y_true, y_pred = np.abs(y_true), np.abs(y_pred)
    return y_true, y_pred


def regression_data(n, n_outputs, seed, nonneg=False):
    """n_outputs=0 -> 1-D arrays; otherwise shape (n, n_outputs)."""
    y_true, y_pred = _data(n, n_outputs, seed, nonneg)
    return y_true.copy(), y_pred.copy()


def _multioutput_cases():
    for name in MULTIOUTPUT_METRICS:
        for n_outputs in (0, 1, 3):
            mos = ["uniform_average", "raw_values"]
            if name in VARIANCE_WEIGHTED:
                mos.append("variance_weighted")
            if n_outputs == 3:
                mos.append("array")
            for mo in mos:
                yield pytest.param(name, n_outputs, mo, id=f"{name}-out{n_outputs}-{mo}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("wmode", WEIGHT_MODES)
@pytest.mark.parametrize(("name", "n_outputs", "multioutput"), list(_multioutput_cases()))
def test_regression_multioutput(name, n_outputs, multioutput, wmode, seed):
    y_true, y_pred = regression_data(200, n_outputs, seed, nonneg=name in NEEDS_NONNEGATIVE)
    mo = np.array([0.2, 0.5, 0.3]) if multioutput == "array" else multioutput
    compare(name, y_true, y_pred, sample_weight=weights(wmode, 200, seed), multioutput=mo)


@pytest.mark.parametrize("name", sorted(VARIANCE_WEIGHTED))
def test_r2_multioutput_none_is_accepted(name):
    y_true, y_pred = regression_data(50, 3, 0)
    if name == "r2_score":
        compare(name, y_true, y_pred, multioutput=None)
    compare(name, y_true, y_pred, multioutput=[0.0, 1.0, 0.0])


@pytest.mark.parametrize("wmode", WEIGHT_MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_max_error(seed, wmode):
    y_true, y_pred = regression_data(200, 0, seed)
    compare("max_error", y_true, y_pred)
    compare("max_error", y_true, y_true)  # exactly 0
    compare("max_error", y_pred, y_true)


# --- force_finite with constant targets ------------------------------------------------------


def _constant_case(case):
    rng = np.random.default_rng(5)
    n = 30
    if case == "const_true_perfect":
        return np.full(n, 4.0), np.full(n, 4.0)
    if case == "const_true_imperfect":
        return np.full(n, 4.0), 4.0 + rng.normal(size=n)
    if case == "const_true_const_pred":
        return np.full(n, 4.0), np.full(n, 5.0)
    if case == "const_pred":
        return rng.normal(size=n), np.full(n, 0.1)
    if case == "2d_one_const_column":
        yt = rng.normal(size=(n, 3))
        yt[:, 1] = 2.0
        yp = yt + rng.normal(size=(n, 3)) * 0.3
        return yt, yp
    if case == "2d_one_const_perfect_column":
        yt = rng.normal(size=(n, 3))
        yt[:, 1] = 2.0
        yp = yt + rng.normal(size=(n, 3)) * 0.3
        yp[:, 1] = 2.0
        return yt, yp
    if case == "2d_all_const":
        yt = np.tile([1.0, 2.0], (n, 1))
        return yt, yt + rng.normal(size=(n, 2))
    if case == "const_residual":  # y_pred = y_true + c: explained variance 1, r2 < 1
        yt = rng.normal(size=n)
        return yt, yt + 0.7
    raise ValueError(case)


CONSTANT_CASES = [
    "const_true_perfect",
    "const_true_imperfect",
    "const_true_const_pred",
    "const_pred",
    "2d_one_const_column",
    "2d_one_const_perfect_column",
    "2d_all_const",
    "const_residual",
]


@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", "variance_weighted"])
@pytest.mark.parametrize("force_finite", [True, False])
@pytest.mark.parametrize("wmode", ["none", "zeros"])
@pytest.mark.parametrize("name", sorted(VARIANCE_WEIGHTED))
@pytest.mark.parametrize("case", CONSTANT_CASES)
def test_force_finite(case, name, wmode, force_finite, multioutput):
    y_true, y_pred = _constant_case(case)
    compare(
        name,
        y_true,
        y_pred,
        sample_weight=weights(wmode, len(y_true), 5),
        multioutput=multioutput,
        force_finite=force_finite,
    )


@pytest.mark.parametrize(
    "name",
    [
        "mean_squared_error",
        "mean_absolute_error",
        "max_error",
        "mean_absolute_percentage_error",
        "median_absolute_error",
        "mean_pinball_loss",
    ],
)
@pytest.mark.parametrize("case", CONSTANT_CASES)
def test_constant_inputs_other_metrics(case, name):
    y_true, y_pred = _constant_case(case)
    if name == "max_error" and y_true.ndim == 2:
        return  # single-output only; covered in test_errors
    compare(name, y_true, y_pred)


# --- specific metrics ------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("wmode", ["none", "zeros"])
@pytest.mark.parametrize("n_outputs", [0, 3])
def test_mean_pinball_loss_alpha(alpha, wmode, n_outputs):
    y_true, y_pred = regression_data(150, n_outputs, 3)
    w = weights(wmode, 150, 3)
    compare("mean_pinball_loss", y_true, y_pred, alpha=alpha, sample_weight=w)
    compare("mean_pinball_loss", y_true, y_pred, alpha=alpha, multioutput="raw_values")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 10, 11, 101])
@pytest.mark.parametrize("wmode", WEIGHT_MODES)
def test_median_absolute_error_sizes_and_weights(n, wmode):
    y_true, y_pred = regression_data(n, 0, n)
    compare("median_absolute_error", y_true, y_pred, sample_weight=weights(wmode, n, n))
    y2t, y2p = regression_data(n, 2, n)
    compare(
        "median_absolute_error",
        y2t,
        y2p,
        sample_weight=weights(wmode, n, n),
        multioutput="raw_values",
    )


@pytest.mark.parametrize("wmode", ["none", "float", "int"])
def test_median_absolute_error_ties(wmode):
    # many equal absolute errors: the weighted median lands on plateaus and boundaries
    y_true = np.repeat(np.arange(5.0), 4)
    y_pred = y_true + np.tile([0.0, 1.0, 1.0, 2.0], 5)
    compare("median_absolute_error", y_true, y_pred, sample_weight=weights(wmode, 20, 0))
    compare("median_absolute_error", y_true, y_pred, sample_weight=np.ones(20))
    compare("median_absolute_error", y_true, y_pred, sample_weight=np.tile([1, 0], 10))


@pytest.mark.parametrize("wmode", ["none", "float", "zeros"])
def test_mape_with_zeros_in_y_true(wmode):
    rng = np.random.default_rng(8)
    y_true = rng.normal(size=60)
    y_true[::5] = 0.0
    y_pred = y_true + rng.normal(size=60)
    w = weights(wmode, 60, 8)
    compare("mean_absolute_percentage_error", y_true, y_pred, sample_weight=w)
    compare("mean_absolute_percentage_error", y_true, y_true, sample_weight=w)  # 0 errors
    y2 = np.stack([y_true, rng.normal(size=60)], axis=1)
    compare(
        "mean_absolute_percentage_error",
        y2,
        y2 + 0.5,
        sample_weight=w,
        multioutput="raw_values",
    )


@pytest.mark.parametrize("name", ["mean_squared_log_error", "root_mean_squared_log_error"])
def test_log_errors_edge_values(name):
    # zeros and values just above -1 are accepted by sklearn 1.9
    compare(name, [0.0, 0.0, 1.0, 3.0], [0.0, 1.0, 0.0, 3.0])
    compare(name, [-0.5, 0.0, 2.0], [0.25, -0.9, 2.0])
    compare(name, [1e6, 2e6, 3.0], [1.5e6, 1e6, 4.0])


# --- dtypes ----------------------------------------------------------------------------------


def _integer_dtype_cases():
    for name in [*MULTIOUTPUT_METRICS, "max_error"]:
        for dtype in (np.int8, np.int32, np.int64, np.uint8):
            # sklearn subtracts uint8 arrays in uint8 for these two (differences wrap around),
            # so its answer is not a reference there
            if dtype is np.uint8 and name in ("max_error", "median_absolute_error"):
                continue
            yield pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype).name}")


@pytest.mark.parametrize(("name", "dtype"), list(_integer_dtype_cases()))
def test_integer_dtypes(name, dtype):
    rng = np.random.default_rng(10)
    y_true = rng.integers(0, 50, 80).astype(dtype)
    y_pred = rng.integers(0, 50, 80).astype(dtype)
    if name == "mean_absolute_percentage_error":
        y_true[y_true == 0] = 1
    compare(name, y_true, y_pred)
    compare(name, y_true.astype(np.int32), y_pred.astype(np.float64))


@pytest.mark.parametrize("name", [*MULTIOUTPUT_METRICS, "max_error"])
def test_float32_inputs(name):
    # sklearn computes in float32 when every input is float32; ours in float64 (FLOAT32_RTOL).
    y_true, y_pred = regression_data(300, 0, 4, nonneg=name in NEEDS_NONNEGATIVE)
    compare(name, y_true.astype(np.float32), y_pred.astype(np.float32), rtol=FLOAT32_RTOL)


@pytest.mark.parametrize("name", [*MULTIOUTPUT_METRICS, "max_error"])
def test_mixed_float32_float64_inputs(name):
    y_true, y_pred = regression_data(300, 0, 4, nonneg=name in NEEDS_NONNEGATIVE)
    compare(name, y_true.astype(np.float32), y_pred)
    compare(name, y_true, y_pred.astype(np.float32))


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("name", [*MULTIOUTPUT_METRICS, "max_error"])
def test_tiny(name, n):
    y_true, y_pred = regression_data(n, 0, 20 + n, nonneg=name in NEEDS_NONNEGATIVE)
    compare(name, y_true, y_pred)
    if name != "max_error":
        compare(name, y_true, y_pred, sample_weight=weights("float", n, n))
        y2t, y2p = regression_data(n, 2, 20 + n, nonneg=name in NEEDS_NONNEGATIVE)
        compare(name, y2t, y2p, multioutput="raw_values")


def test_regression_large():
    n = 200_000
    y_true, y_pred = regression_data(n, 0, 30)
    w = weights("zeros", n, 30)
    for name in MULTIOUTPUT_METRICS:
        if name in NEEDS_NONNEGATIVE:
            continue
        compare(name, y_true, y_pred, sample_weight=w)
    compare("max_error", y_true, y_pred)
    yt, yp = regression_data(n, 3, 31, nonneg=True)
    compare("mean_squared_log_error", yt, yp, multioutput="raw_values")
    compare("r2_score", yt, yp, multioutput="variance_weighted", sample_weight=w)
    compare("median_absolute_error", yt, yp, sample_weight=w, multioutput="raw_values")
