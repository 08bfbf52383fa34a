"""Mergeable metric states: `update` per batch or partition, `merge` in any order,
`compute` once; `to_bytes`/`from_bytes` carry them between processes (versioned MessagePack).
"""

from __future__ import annotations

import math

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.metrics._classification import confusion_table
from mlflow_oxide.metrics._inputs import Decline, as_array, weights


def _convert(x, name):
    try:
        return as_array(x, name)
    except Decline as e:
        raise TypeError(f"unsupported {name}: {e}") from None


def _same_length(*arrays) -> int:
    lengths = [len(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    return lengths[0]


def _weights(sample_weight, n):
    try:
        return weights(sample_weight, n)
    except Decline as e:
        raise ValueError(f"invalid sample_weight: {e}") from None


class _State:
    _core_type: type

    def __init__(self, core=None):
        self._core = core if core is not None else self._core_type()

    def merge(self, other):
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        if other is self:
            other = type(self).from_bytes(self.to_bytes())
        self._core.merge(other._core)
        return self

    def to_bytes(self) -> bytes:
        return self._core.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes takes bytes, got {type(data).__name__}")
        return cls(cls._core_type.from_bytes(bytes(data)))

    def __reduce__(self):
        return (type(self).from_bytes, (self.to_bytes(),))


class ConfusionMatrixState(_State):
    """Weighted confusion counts over every label seen; yields the confusion-matrix family."""

    _core_type = _native.ConfusionStateCore

    def update(self, y_true, y_pred, sample_weight=None):
        yt, yp = _convert(y_true, "y_true"), _convert(y_pred, "y_pred")
        n = _same_length(yt, yp, sample_weight)
        if n == 0:
            return self
        w = _weights(sample_weight, n)
        try:
            labels, counts, _, _ = confusion_table(yt, yp, w)
            raw = counts if w is None else confusion_table(yt, yp, None)[1]
        except Decline as e:
            raise ValueError(f"ConfusionMatrixState cannot count these labels: {e}") from None
        self._core.add(labels.tolist(), counts, raw, n, w is not None)
        return self

    @property
    def labels(self) -> np.ndarray:
        return np.array(sorted(self._core.labels))

    def _cells(self):
        order = np.argsort(np.array(self._core.labels, dtype=object), kind="stable")
        labels = np.array(self._core.labels)[order]
        counts = self._core.counts[np.ix_(order, order)]
        rows = counts.sum(axis=1) > 0
        cols = counts.sum(axis=0) > 0
        ti, pj = np.nonzero(np.outer(rows | ~cols.any(), cols | ~rows.any()))
        return labels, labels[ti], labels[pj], counts[ti, pj]

    def confusion_matrix(self, labels=None, normalize=None) -> np.ndarray:
        from sklearn import metrics

        _, yt, yp, w = self._cells()
        m = metrics.confusion_matrix(yt, yp, labels=labels, sample_weight=w, normalize=normalize)
        if normalize is None and not self._core.weighted:
            return np.rint(m).astype(np.int64)
        return m

    def compute(self, average=None, pos_label=1) -> dict:
        """The metrics MLflow's default classifier evaluator logs, over all data seen."""
        from sklearn import metrics

        if self._core.rows == 0:
            raise ValueError("ConfusionMatrixState has seen no rows")
        labels, yt, yp, w = self._cells()
        if average is None:
            average = "binary" if len(labels) == 2 else "weighted"
        args = {"sample_weight": w}
        prf = {"average": average, "pos_label": pos_label if average == "binary" else 1}
        out = {"example_count": int(self._core.rows)}
        if len(labels) == 2:
            # As MLflow's default evaluator: row counts, whatever the sample weights.
            order = np.argsort(np.array(self._core.labels, dtype=object), kind="stable")
            raw = np.rint(self._core.raw_counts[np.ix_(order, order)]).astype(np.int64)
            if pos_label == labels[0]:
                raw = raw[::-1, ::-1]
            tn, fp, fn, tp = raw.ravel()
            out.update(true_negatives=tn, false_positives=fp, false_negatives=fn, true_positives=tp)
        out["accuracy_score"] = metrics.accuracy_score(yt, yp, **args)
        out["balanced_accuracy_score"] = metrics.balanced_accuracy_score(yt, yp, **args)
        out["recall_score"] = metrics.recall_score(yt, yp, **prf, **args)
        out["precision_score"] = metrics.precision_score(yt, yp, **prf, **args)
        out["f1_score"] = metrics.f1_score(yt, yp, **prf, **args)
        out["matthews_corrcoef"] = metrics.matthews_corrcoef(yt, yp, **args)
        return out


class RegressionState(_State):
    """Exact sums and merged moments for the regression metrics MLflow logs."""

    _core_type = _native.RegressionStateCore

    def update(self, y_true, y_pred, sample_weight=None):
        yt = np.ascontiguousarray(_convert(y_true, "y_true"), dtype=np.float64).reshape(-1)
        yp = np.ascontiguousarray(_convert(y_pred, "y_pred"), dtype=np.float64).reshape(-1)
        n = _same_length(yt, yp, sample_weight)
        if n == 0:
            return self
        _native.assert_finite(yt)
        _native.assert_finite(yp)
        self._core.update(yt, yp, _weights(sample_weight, n))
        return self

    def compute(self) -> dict:
        s = self._core.as_dict()
        if s["rows"] == 0:
            raise ValueError("RegressionState has seen no rows")
        sum_w = s["sum_w"]
        mse = s["sq"] / sum_w
        out = {
            "example_count": s["rows"],
            "mean_absolute_error": s["abs"] / sum_w,
            "mean_squared_error": mse,
            "root_mean_squared_error": math.sqrt(mse),
            "sum_on_target": s["sum_wy"],
            "mean_on_target": s["sum_wy"] / s["rows"],
            "r2_score": _fraction(s["sq"], s["ss_tot"]),
            "explained_variance_score": _fraction(s["ss_diff"] / sum_w, s["ss_tot"] / sum_w),
            "max_error": s["max_error"],
            "mean_absolute_percentage_error": s["ape"] / sum_w,
        }
        if s["sq_log"] is not None:
            out["mean_squared_log_error"] = s["sq_log"] / sum_w
        return out


def _plain(value):
    """numpy scalars -> the Python scalars the native state stores."""
    return value.item() if isinstance(value, np.generic) else value


def _fraction(numerator: float, denominator: float) -> float:
    """R² / explained variance with scikit-learn's `force_finite=True` rules."""
    if numerator == 0:
        return 1.0
    if denominator == 0:
        return 0.0
    return 1 - numerator / denominator


class BinaryScoreState(_State):
    """ROC AUC and average precision of binary scores. Exact by default (one entry per distinct
    score); with `bins=N`, a histogram of N equal bins over [0, 1] whose AUC error is at most
    `max_auc_error()`, a bound computed from the histogram itself."""

    _core_type = _native.ScoreStateCore

    def __init__(self, bins: int | None = None, pos_label=1, *, _core=None):
        if bins is not None and (not isinstance(bins, int) or bins <= 0):
            raise ValueError(f"bins must be a positive integer or None, got {bins!r}")
        if _core is None:
            _core = _native.ScoreStateCore(bins, _plain(pos_label))
        super().__init__(_core)

    @classmethod
    def from_bytes(cls, data: bytes):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes takes bytes, got {type(data).__name__}")
        return cls(_core=_native.ScoreStateCore.from_bytes(bytes(data)))

    @property
    def pos_label(self):
        return self._core.pos_label

    @property
    def bins(self):
        return self._core.bins

    def update(self, y_true, y_score, sample_weight=None):
        yt = _convert(y_true, "y_true").reshape(-1)
        ys = np.ascontiguousarray(_convert(y_score, "y_score"), dtype=np.float64).reshape(-1)
        n = _same_length(yt, ys, sample_weight)
        if n == 0:
            return self
        _native.assert_finite(ys)
        positive = np.ascontiguousarray(yt == self.pos_label, dtype=bool)
        self._core.update(positive, ys, _weights(sample_weight, n))
        return self

    def compute(self) -> dict:
        if self._core.rows == 0:
            raise ValueError("BinaryScoreState has seen no rows")
        roc_auc, ap, _, _ = self._core.ranking()
        return {"roc_auc": roc_auc, "average_precision": ap}

    def max_auc_error(self) -> float:
        return self._core.max_auc_error()
