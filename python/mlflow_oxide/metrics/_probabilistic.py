"""Metrics over predicted probabilities or scores per class: log loss, Brier score, top-k."""

from __future__ import annotations

import math
import warnings

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.metrics._fallback import native_or_sklearn
from mlflow_oxide.metrics._inputs import Decline, as_array
from mlflow_oxide.metrics._ranking import (
    _codes,
    _pos_label,
    _undefined_metric_warning,
    given_classes,
    targets_and_scores,
)


def _probabilities(y_proba) -> np.ndarray:
    p = as_array(y_proba, "y_proba")
    if p.dtype.kind not in "biuf" or p.ndim not in (1, 2):
        raise Decline("y_proba")
    if p.dtype not in (np.float64, np.float32):
        p = p.astype(np.float64)
    p = np.ascontiguousarray(p)
    _native.assert_finite(p.reshape(-1))
    if p.size and (p.max() > 1 or p.min() < 0):
        raise Decline("probabilities outside [0, 1]")
    return p


@native_or_sklearn("log_loss")
def log_loss(
    y_true, y_proba=None, *, normalize=True, sample_weight=None, labels=None, y_pred="deprecated"
):
    if not (isinstance(y_pred, str) and y_pred == "deprecated") or y_proba is None:
        raise Decline("deprecated y_pred")
    yt, p, w, cols = targets_and_scores(y_true, _probabilities(y_proba), sample_weight)
    n = len(yt)
    classes = given_classes(cols, labels)
    if len(classes) < 2:
        raise Decline("one class")
    p2 = p.reshape(n, -1)
    if p2.shape[1] == 1 and len(classes) != 2 or p2.shape[1] not in (1, len(classes)):
        raise Decline("columns")
    eps = float(np.finfo(p.dtype).eps)
    loss, total_w, not_normalized = _native.log_loss_sums(
        _codes(cols, classes), p2, eps, math.sqrt(eps), w
    )
    if not_normalized:
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=2,
        )
    return float(loss / total_w) if normalize else float(loss)


@native_or_sklearn("brier_score_loss")
def brier_score_loss(
    y_true, y_proba, *, sample_weight=None, pos_label=None, labels=None, scale_by_half="auto"
):
    p = _probabilities(y_proba)
    if p.ndim == 2:
        if p.shape[1] != 1:
            raise Decline("multiclass brier")
        p = np.ascontiguousarray(p[:, 0])
    yt, p, w, cols = targets_and_scores(y_true, p, sample_weight)
    if len(cols.labels) > 2:
        raise Decline("not binary")
    try:
        pos = _pos_label(pos_label, cols.labels)
    except Decline:
        if cols.labels.dtype.kind in "OUS":
            raise
        pos = cols.labels[-1]
    truth = np.ascontiguousarray(yt == pos, dtype=p.dtype)
    total, total_w = _native.regression_loss(truth, p, "squared", w)
    scale = True if scale_by_half == "auto" else bool(scale_by_half)
    # scikit-learn sums both one-hot columns, (1-t-(1-p))^2 + (t-p)^2, then halves binary scores.
    return float(total / total_w) if scale else float(2 * total / total_w)


@native_or_sklearn("top_k_accuracy_score")
def top_k_accuracy_score(y_true, y_score, *, k=2, normalize=True, sample_weight=None, labels=None):
    yt, ys, w, cols = targets_and_scores(y_true, y_score, sample_weight)
    multiclass = len(cols.labels) > 2 or (labels is not None and len(labels) > 2)
    if not multiclass or ys.ndim != 2 or ys.dtype.kind not in "biuf":
        raise Decline("binary or 1-D scores")
    classes = given_classes(cols, labels)
    n_classes = len(classes)
    if n_classes != ys.shape[1]:
        raise Decline("columns")
    if k >= n_classes:
        warnings.warn(
            f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) "
            "will result in a perfect score and is therefore meaningless.",
            _undefined_metric_warning(),
            stacklevel=2,
        )
    scores = ys if ys.dtype in (np.float64, np.float32) else ys.astype(np.float64)
    scores = np.ascontiguousarray(scores)
    _native.assert_finite(scores.reshape(-1))
    hits = _native.top_k_hits(_codes(cols, classes), scores, int(k))
    if normalize:
        return float(np.average(hits, weights=w))
    if w is None:
        return float(np.sum(hits))
    return float(np.dot(hits, w))
