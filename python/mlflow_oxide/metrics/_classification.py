"""Confusion-matrix metrics. The pass over the rows (labels, weighted confusion counts) is
native; scikit-learn's own function then evaluates its formula over the k x k cells, each cell
one row weighted by its count, so averaging, `zero_division`, `labels`, `pos_label` and their
warnings and errors follow scikit-learn exactly."""

from __future__ import annotations

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.metrics import _labels
from mlflow_oxide.metrics._fallback import native_or_sklearn
from mlflow_oxide.metrics._inputs import Decline, column, consistent_length, weights


def confusion_table(yt: np.ndarray, yp: np.ndarray, w: np.ndarray | None):
    """One native pass: `(sorted labels, counts over them, label occurs in y_true, label
    occurs in y_pred)`, labels in the columns' common dtype."""
    if {yt.dtype.kind, yp.dtype.kind} <= set("biuf"):
        dtype, native = _labels.native_dtype(yt, yp)
        ct, cp = (np.ascontiguousarray(a, dtype=native) for a in (yt, yp))
        labels, counts, in_true, in_pred = _native.confusion_table(ct, cp, w)
        if dtype.kind == "f" and not (np.isfinite(labels).all() and _labels.is_integral(labels)):
            raise Decline("continuous or non-finite targets")
        return labels.astype(dtype), counts, in_true, in_pred
    cols = _labels.columns(yt, yp)
    codes, counts, in_true, in_pred = _native.confusion_table(*cols.columns, w)
    return cols.labels[codes], counts, in_true, in_pred


class Cells:
    """The data reduced to one row per (true label, predicted label) cell."""

    def __init__(self, y_true, y_pred, sample_weight):
        yt, yp = column(y_true, "y_true"), column(y_pred, "y_pred")
        n = consistent_length(yt, yp, sample_weight)
        w = weights(sample_weight, n)
        labels, counts, in_true, in_pred = confusion_table(yt, yp, w)
        ti, pj = np.nonzero(np.outer(in_true, in_pred))
        self.y_true = labels[ti]
        self.y_pred = labels[pj]
        self.weight = counts[ti, pj]
        self.weighted = w is not None
        # scikit-learn counts in int64 unless the weights are floats.
        self.integer_counts = sample_weight is None or np.asarray(sample_weight).dtype.kind in "biu"
        self.rows = n


def _run(name, y_true, y_pred, sample_weight, integer_counts=False, **kwargs):
    from sklearn import metrics

    cells = Cells(y_true, y_pred, sample_weight)
    result = getattr(metrics, name)(
        cells.y_true, cells.y_pred, sample_weight=cells.weight, **kwargs
    )
    if integer_counts and cells.integer_counts and kwargs.get("normalize") is None:
        result = np.rint(result).astype(np.int64)
    return result


@native_or_sklearn("accuracy_score")
def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    return _run("accuracy_score", y_true, y_pred, sample_weight, normalize=normalize)


@native_or_sklearn("balanced_accuracy_score")
def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False):
    return _run("balanced_accuracy_score", y_true, y_pred, sample_weight, adjusted=adjusted)


@native_or_sklearn("confusion_matrix")
def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    return _run(
        "confusion_matrix",
        y_true,
        y_pred,
        sample_weight,
        integer_counts=True,
        labels=labels,
        normalize=normalize,
    )


@native_or_sklearn("multilabel_confusion_matrix")
def multilabel_confusion_matrix(y_true, y_pred, *, sample_weight=None, labels=None):
    cells = Cells(y_true, y_pred, sample_weight)
    from sklearn import metrics

    result = metrics.multilabel_confusion_matrix(
        cells.y_true, cells.y_pred, sample_weight=cells.weight, labels=labels
    )
    return np.rint(result).astype(np.int64) if cells.integer_counts else result


@native_or_sklearn("matthews_corrcoef")
def matthews_corrcoef(y_true, y_pred, *, sample_weight=None):
    return _run("matthews_corrcoef", y_true, y_pred, sample_weight)


@native_or_sklearn("precision_recall_fscore_support")
def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta=1.0,
    labels=None,
    pos_label=1,
    average=None,
    warn_for=("precision", "recall", "f-score"),
    sample_weight=None,
    zero_division="warn",
):
    precision, recall, fscore, support = _run(
        "precision_recall_fscore_support",
        y_true,
        y_pred,
        sample_weight,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=warn_for,
        zero_division=zero_division,
    )
    if support is not None and sample_weight is None:
        support = np.rint(support).astype(np.int64)
    return precision, recall, fscore, support


@native_or_sklearn("precision_score")
def precision_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _run(
        "precision_score",
        y_true,
        y_pred,
        sample_weight,
        labels=labels,
        pos_label=pos_label,
        average=average,
        zero_division=zero_division,
    )


@native_or_sklearn("recall_score")
def recall_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _run(
        "recall_score",
        y_true,
        y_pred,
        sample_weight,
        labels=labels,
        pos_label=pos_label,
        average=average,
        zero_division=zero_division,
    )


@native_or_sklearn("f1_score")
def f1_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _run(
        "f1_score",
        y_true,
        y_pred,
        sample_weight,
        labels=labels,
        pos_label=pos_label,
        average=average,
        zero_division=zero_division,
    )


@native_or_sklearn("fbeta_score")
def fbeta_score(
    y_true,
    y_pred,
    *,
    beta,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _run(
        "fbeta_score",
        y_true,
        y_pred,
        sample_weight,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        zero_division=zero_division,
    )
