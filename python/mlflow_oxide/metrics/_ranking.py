"""Ranking metrics: ROC and precision-recall curves, ROC AUC (binary, one-vs-rest,
one-vs-one) and average precision, computed natively from one sort per class."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.metrics import _labels
from mlflow_oxide.metrics._fallback import native_or_sklearn
from mlflow_oxide.metrics._inputs import (
    Decline,
    as_array,
    column,
    consistent_length,
    floats,
    weights,
)


def _undefined_metric_warning():
    from sklearn.exceptions import UndefinedMetricWarning

    return UndefinedMetricWarning


def _pos_label(pos_label, classes: np.ndarray):
    """scikit-learn's `_check_pos_label_consistency`, declining where it would raise."""
    if pos_label is None:
        if classes.dtype.kind in "OUS" or not any(
            np.array_equal(classes, c) for c in ([0, 1], [-1, 1], [0], [-1], [1])
        ):
            raise Decline("pos_label needed")
        return 1
    if classes.dtype.kind in "OUS" and not isinstance(pos_label, str):
        raise Decline("pos_label type differs from labels")
    return pos_label


def targets_and_scores(y_true, y_score, sample_weight, one_dimensional=False):
    """The checks every score-based metric starts with: `(y_true, y_score, weights, labels)`,
    declining continuous targets (scikit-learn raises for those)."""
    yt = column(y_true, "y_true")
    ys = column(y_score, "y_score") if one_dimensional else as_array(y_score, "y_score")
    w = weights(sample_weight, consistent_length(yt, ys, sample_weight))
    cols = _labels.columns(yt)
    if not _labels.is_integral(cols.labels):
        raise Decline("continuous y_true")
    return yt, ys, w, cols


def given_classes(cols: _labels.Columns, labels) -> np.ndarray:
    """The classes a `labels=` argument names: sorted, unique, covering every y_true label
    (otherwise scikit-learn warns or raises, so the call is declined)."""
    if labels is None:
        return cols.labels
    given = np.asarray(labels)
    classes = np.unique(given)
    if not np.array_equal(classes, given) or len(np.setdiff1d(cols.labels, classes)):
        raise Decline("labels")
    return classes


def _binary_inputs(y_true, y_score, sample_weight, pos_label):
    yt, ys, w, cols = targets_and_scores(y_true, y_score, sample_weight, one_dimensional=True)
    if len(cols.labels) > 2 and pos_label is None:
        raise Decline("multiclass y_true")
    positive = np.ascontiguousarray(yt == _pos_label(pos_label, cols.labels), dtype=bool)
    return positive, ys, w


@native_or_sklearn("roc_curve")
def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    positive, ys, w = _binary_inputs(y_true, y_score, sample_weight, pos_label)
    drop = "roc" if drop_intermediate else "none"
    fps, tps, thresholds = _native.binary_curve_arrays(positive, floats(ys), w, drop)
    tps = np.concatenate([[0.0], tps])
    fps = np.concatenate([[0.0], fps])
    thresholds = np.concatenate([[np.inf], thresholds])
    if fps[-1] <= 0:
        warnings.warn(
            "No negative samples in y_true, false positive value should be meaningless",
            _undefined_metric_warning(),
            stacklevel=2,
        )
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn(
            "No positive samples in y_true, true positive value should be meaningless",
            _undefined_metric_warning(),
            stacklevel=2,
        )
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


@native_or_sklearn("precision_recall_curve")
def precision_recall_curve(
    y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=False
):
    positive, ys, w = _binary_inputs(y_true, y_score, sample_weight, pos_label)
    precision, recall, thresholds, positives = _native.precision_recall_arrays(
        positive, floats(ys), w, bool(drop_intermediate)
    )
    if positives == 0:
        warnings.warn(
            "No positive class found in y_true, recall is set to one for all thresholds.",
            stacklevel=2,
        )
    return precision, recall, thresholds.astype(ys.dtype, copy=False)


def _partial_auc(positive, ys, w, max_fpr):
    fpr, tpr, _ = roc_curve(positive, ys, sample_weight=w)
    if max_fpr <= 0 or max_fpr > 1:
        raise Decline("max_fpr out of range")
    from sklearn.metrics import auc

    stop = np.searchsorted(fpr, max_fpr, "right")
    x_interp = [fpr[stop - 1], fpr[stop]]
    y_interp = [tpr[stop - 1], tpr[stop]]
    tpr = np.append(tpr[:stop], np.interp(max_fpr, x_interp, y_interp))
    fpr = np.append(fpr[:stop], max_fpr)
    partial_auc = auc(fpr, tpr)
    min_area = 0.5 * max_fpr**2
    max_area = max_fpr
    return 0.5 * (1 + (partial_auc - min_area) / (max_area - min_area))


def _codes(cols: _labels.Columns, classes: np.ndarray) -> np.ndarray:
    """Position of each y_true label in `classes` (sorted; a superset of the labels)."""
    codes = _native.encode_labels(cols.columns[0], cols.keys)
    if len(classes) == len(cols.labels):
        return codes  # classes are exactly the labels seen, in the same order
    return np.ascontiguousarray(np.searchsorted(classes, cols.labels)[codes])


def _per_class(codes, scores, w, which: int, average):
    """scikit-learn's `_average_binary_score` over one-vs-rest columns."""
    k = scores.shape[1]
    if average == "micro":
        positive = np.ascontiguousarray((codes[:, None] == np.arange(k)).ravel())
        flat = np.ascontiguousarray(scores.ravel())
        wr = None if w is None else np.repeat(w, k)
        return float(_native.binary_ranking(positive, flat, wr)[which])
    results = _native.one_vs_rest(codes, scores, list(range(k)), w)
    score = np.array([r[which] for r in results])
    for r in results:
        if which == 0 and (r[2] <= 0 or r[3] <= 0):
            warnings.warn(
                "Only one class is present in y_true. ROC AUC score is not defined in that case.",
                _undefined_metric_warning(),
                stacklevel=2,
            )
    average_weight = None
    if average == "weighted":
        average_weight = np.bincount(codes, weights=w, minlength=k).astype(np.float64)
        if np.isclose(average_weight.sum(), 0.0):
            return 0
    if average is None:
        return score
    if average_weight is not None:
        score[average_weight == 0] = 0
    return float(np.average(score, weights=average_weight))


def _scores_2d(ys: np.ndarray) -> np.ndarray:
    scores = floats(ys.reshape(-1)).reshape(ys.shape) if ys.dtype.kind != "f" else ys
    scores = np.ascontiguousarray(scores)
    _native.assert_finite(scores.reshape(-1))
    return scores


def _multiclass_roc_auc(yt, cols, ys, w, labels, multi_class, average, max_fpr):
    if max_fpr is not None and max_fpr != 1.0:
        raise Decline("max_fpr with multiclass")
    if multi_class not in ("ovo", "ovr"):
        raise Decline("multi_class")
    scores = _scores_2d(ys)
    if not np.allclose(1, scores.sum(axis=1)):
        raise Decline("scores are not probabilities")
    options = (
        ("micro", "macro", "weighted", None)
        if multi_class == "ovr"
        else (
            "macro",
            "weighted",
        )
    )
    if average not in options:
        raise Decline("average")
    classes = given_classes(cols, labels)
    if len(classes) != scores.shape[1]:
        raise Decline("columns")
    codes = _codes(cols, classes)
    if multi_class == "ovo":
        if w is not None:
            raise Decline("weights with ovo")
        present = np.unique(codes)
        pairs = [(int(a), int(b)) for a, b in combinations(present, 2)]
        results = _native.one_vs_one(codes, scores, pairs)
        pair_scores = np.array([r[0] for r in results])
        prevalence = np.array([r[1] for r in results]) if average == "weighted" else None
        return float(np.average(pair_scores, weights=prevalence))
    return _per_class(codes, scores, w, 0, average)


@native_or_sklearn("roc_auc_score")
def roc_auc_score(
    y_true,
    y_score,
    *,
    average="macro",
    sample_weight=None,
    max_fpr=None,
    multi_class="raise",
    labels=None,
):
    yt, ys, w, cols = targets_and_scores(y_true, y_score, sample_weight)
    if ys.ndim == 2 and (len(cols.labels) > 2 or ys.shape[1] > 2):
        return _multiclass_roc_auc(yt, cols, ys, w, labels, multi_class, average, max_fpr)
    if ys.ndim != 1 or len(cols.labels) != 2:
        raise Decline("shape or one class")
    positive = np.ascontiguousarray(yt == cols.labels[-1], dtype=bool)
    if max_fpr is None or max_fpr == 1:
        auc, _, p, n = _native.binary_ranking(positive, floats(ys), w)
        if n <= 0:
            warnings.warn(
                "No negative samples in y_true, false positive value should be meaningless",
                _undefined_metric_warning(),
                stacklevel=2,
            )
        if p <= 0:
            warnings.warn(
                "No positive samples in y_true, true positive value should be meaningless",
                _undefined_metric_warning(),
                stacklevel=2,
            )
        return float(auc)
    return _partial_auc(positive, ys, w, max_fpr)


@native_or_sklearn("average_precision_score")
def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    if average not in ("micro", "macro", "weighted", "samples", None):
        raise Decline("average")
    yt, ys, w, cols = targets_and_scores(y_true, y_score, sample_weight)
    if len(cols.labels) <= 2:
        if ys.ndim != 1:
            raise Decline("2-D scores for binary y_true")
        if len(cols.labels) == 2 and pos_label not in cols.labels.tolist():
            raise Decline("pos_label")
        positive = np.ascontiguousarray(yt == _pos_label(pos_label, cols.labels), dtype=bool)
        _, ap, p, _ = _native.binary_ranking(positive, floats(ys), w)
        if p == 0:
            warnings.warn(
                "No positive class found in y_true, recall is set to one for all thresholds.",
                stacklevel=2,
            )
        return float(ap)
    if pos_label != 1 or ys.ndim != 2 or ys.shape != (len(yt), len(cols.labels)):
        raise Decline("multiclass arguments")
    if average == "samples":
        raise Decline("samples average")
    scores = _scores_2d(ys)
    return _per_class(_codes(cols, cols.labels), scores, w, 1, average)
