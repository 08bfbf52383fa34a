"""Regression metrics: one native pass (two for R² and explained variance) per output."""

from __future__ import annotations

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.metrics._fallback import native_or_sklearn
from mlflow_oxide.metrics._inputs import Decline, as_array, consistent_length, weights

_ALL = ("raw_values", "uniform_average", "variance_weighted")
_PLAIN = ("raw_values", "uniform_average")


class Targets:
    """`_check_reg_targets`, declining where scikit-learn would raise or convert."""

    def __init__(self, y_true, y_pred, sample_weight, multioutput, allowed=_PLAIN):
        yt, yp = as_array(y_true, "y_true"), as_array(y_pred, "y_pred")
        if yt.ndim not in (1, 2) or yp.ndim not in (1, 2):
            raise Decline("dimensions")
        if yt.dtype.kind not in "biuf" or yp.dtype.kind not in "biuf":
            raise Decline("non-numeric targets")
        n = consistent_length(yt, yp, sample_weight)
        self.weight = weights(sample_weight, n)
        yt, yp = yt.reshape(n, -1), yp.reshape(n, -1)
        if yt.shape[1] != yp.shape[1]:
            raise Decline("outputs")
        self.n_outputs = yt.shape[1]
        if isinstance(multioutput, str):
            if multioutput not in allowed:
                raise Decline("multioutput")
        elif multioutput is not None:
            multioutput = np.asarray(multioutput, dtype=np.float64)
            if self.n_outputs == 1 or multioutput.shape != (self.n_outputs,):
                raise Decline("multioutput weights")
        self.multioutput = multioutput
        both32 = yt.dtype == np.float32 and yp.dtype == np.float32
        dtype = np.float32 if both32 else np.float64
        self.columns = [
            (
                np.ascontiguousarray(yt[:, j], dtype=dtype),
                np.ascontiguousarray(yp[:, j], dtype=dtype),
            )
            for j in range(self.n_outputs)
        ]
        self.rows = n

    def check_finite(self, values) -> None:
        """Sums over non-finite input are non-finite: only then look for the bad value."""
        if not np.all(np.isfinite(values)):
            for y, p in self.columns:
                _native.assert_finite(y)
                _native.assert_finite(p)

    def mean_loss(self, kind: str, alpha: float = 0.5) -> np.ndarray:
        errors = []
        for y, p in self.columns:
            total, total_w = _native.regression_loss(y, p, kind, self.weight, alpha)
            errors.append(total / total_w)
        errors = np.array(errors)
        self.check_finite(errors)
        return errors

    def average(self, output_errors: np.ndarray):
        multioutput = self.multioutput
        if isinstance(multioutput, str):
            if multioutput == "raw_values":
                return output_errors
            multioutput = None
        return float(np.average(output_errors, weights=multioutput))


@native_or_sklearn("mean_squared_error")
def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(t.mean_loss("squared"))


@native_or_sklearn("root_mean_squared_error")
def root_mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(np.sqrt(t.mean_loss("squared")))


@native_or_sklearn("mean_absolute_error")
def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(t.mean_loss("absolute"))


@native_or_sklearn("mean_absolute_percentage_error")
def mean_absolute_percentage_error(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"
):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(t.mean_loss("absolute_percentage"))


@native_or_sklearn("mean_pinball_loss")
def mean_pinball_loss(
    y_true, y_pred, *, sample_weight=None, alpha=0.5, multioutput="uniform_average"
):
    if not 0 <= alpha <= 1:
        raise Decline("alpha")
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(t.mean_loss("pinball", float(alpha)))


def _squared_log_errors(t: Targets) -> np.ndarray:
    """The native log is NaN at or below -1, so a non-finite mean sends the call (and its
    error message) to scikit-learn."""
    errors = []
    for y, p in t.columns:
        total, total_w = _native.regression_loss(y, p, "squared_log", t.weight)
        errors.append(total / total_w)
    errors = np.array(errors)
    if not np.all(np.isfinite(errors)):
        raise Decline("values <= -1 or not finite")
    return errors


@native_or_sklearn("mean_squared_log_error")
def mean_squared_log_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(_squared_log_errors(t))


@native_or_sklearn("root_mean_squared_log_error")
def root_mean_squared_log_error(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"
):
    t = Targets(y_true, y_pred, sample_weight, multioutput)
    return t.average(np.sqrt(_squared_log_errors(t)))


@native_or_sklearn("median_absolute_error")
def median_absolute_error(y_true, y_pred, *, multioutput="uniform_average", sample_weight=None):
    if sample_weight is not None:
        raise Decline("weighted median")
    t = Targets(y_true, y_pred, None, multioutput)
    errors = []
    for y, p in t.columns:
        errors.append(_native.regression_median_absolute_error(y, p))
    errors = np.array(errors)
    t.check_finite(errors)
    return t.average(errors)


@native_or_sklearn("max_error")
def max_error(y_true, y_pred):
    t = Targets(y_true, y_pred, None, None)
    if t.n_outputs != 1:
        raise Decline("multioutput")
    ((y, p),) = t.columns
    result = _native.regression_max_error(y, p)
    t.check_finite(np.array([result]))
    return float(result)


def _moments(t: Targets):
    moments = [_native.regression_moments(y, p, t.weight) for y, p in t.columns]
    t.check_finite(np.array(moments))
    return np.array(moments).T  # sum_w, mean_y, mean_d, ss_res, ss_tot, ss_diff


def _assemble(numerator, denominator, n_outputs, multioutput, force_finite):
    """scikit-learn's `_assemble_fraction_of_explained_deviance`."""
    nonzero_denominator = denominator != 0
    if not force_finite:
        output_scores = 1 - (numerator / denominator)
    else:
        nonzero_numerator = numerator != 0
        output_scores = np.ones([n_outputs])
        valid_score = nonzero_denominator & nonzero_numerator
        output_scores[valid_score] = 1 - (numerator[valid_score] / denominator[valid_score])
        output_scores[nonzero_numerator & ~nonzero_denominator] = 0.0
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return output_scores
        if multioutput == "uniform_average":
            avg_weights = None
        else:
            avg_weights = denominator
            if not np.any(nonzero_denominator):
                avg_weights = None
    else:
        avg_weights = multioutput
    return float(np.average(output_scores, weights=avg_weights))


@native_or_sklearn("r2_score")
def r2_score(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average", force_finite=True
):
    t = Targets(y_true, y_pred, sample_weight, multioutput, allowed=_ALL)
    if t.rows < 2:
        raise Decline("fewer than two samples")
    _, _, _, ss_res, ss_tot, _ = _moments(t)
    return _assemble(ss_res, ss_tot, t.n_outputs, t.multioutput, force_finite)


@native_or_sklearn("explained_variance_score")
def explained_variance_score(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average", force_finite=True
):
    t = Targets(y_true, y_pred, sample_weight, multioutput, allowed=_ALL)
    sum_w, _, _, _, ss_tot, ss_diff = _moments(t)
    return _assemble(ss_diff / sum_w, ss_tot / sum_w, t.n_outputs, t.multioutput, force_finite)
