"""Parity of score-based metrics (ROC AUC, average precision, curves, top-k) with sklearn."""

from __future__ import annotations

import numpy as np
import pytest

from ._data import WEIGHT_MODES, class_values, proba_matrix, scores_binary, weights
from ._parity import compare

SEEDS = [0, 1]
TIES = ["none", "some", "heavy", "constant"]


def _binary(kind: str, n: int, seed: int, ties: str = "none", pos_share: float = 0.4):
    """y_true spelled as ``kind`` (positive = greater class value) and correlated scores."""
    rng = np.random.default_rng(seed)
    y01 = (rng.random(n) < pos_share).astype(int)
    if n >= 2:  # both classes present
        y01[0], y01[1] = 0, 1
    vals = class_values(kind, 2)
    return vals[y01], scores_binary(y01, seed, ties), vals


# --- roc_auc_score (binary) -------------------------------------------------------------------


@pytest.mark.parametrize("max_fpr", [None, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("wmode", WEIGHT_MODES)
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_binary(seed, ties, wmode, max_fpr):
    y_true, y_score, _ = _binary("int", 300, seed, ties)
    compare(
        "roc_auc_score",
        y_true,
        y_score,
        sample_weight=weights(wmode, 300, seed),
        max_fpr=max_fpr,
    )


@pytest.mark.parametrize(
    "kind",
    [
        "int_signed",
        "str",
        "object_str",
        "bool",
        "float_integral",
        "float32",
        "int8",
        "int32",
        "uint8",
    ],
)
def test_roc_auc_binary_label_kinds(kind):
    y_true, y_score, _ = _binary(kind, 200, 3, "some")
    compare("roc_auc_score", y_true, y_score)
    compare("roc_auc_score", y_true, y_score, max_fpr=0.3, sample_weight=weights("zeros", 200, 3))


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int32, np.uint8])
def test_roc_auc_score_dtypes(dtype):
    y_true, y_score, _ = _binary("int", 200, 4)
    s = y_score * 100 if np.dtype(dtype).kind in "iu" else y_score
    compare("roc_auc_score", y_true, s.astype(dtype))
    compare("average_precision_score", y_true, s.astype(dtype))
    compare("roc_curve", y_true, s.astype(dtype))
    compare("precision_recall_curve", y_true, s.astype(dtype))


def test_roc_auc_decision_function_scores():
    y_true, y_score, _ = _binary("int", 150, 5)
    compare("roc_auc_score", y_true, np.log(y_score / (1 - y_score)) * 10)
    compare("roc_auc_score", y_true, -y_score)  # worse than random


def test_roc_auc_one_class_warns_and_returns_nan():
    # sklearn 1.9: UndefinedMetricWarning + nan (not an exception) for binary y_true with one class
    compare("roc_auc_score", np.ones(5, dtype=int), np.linspace(0, 1, 5))
    compare("roc_auc_score", np.zeros(5, dtype=int), np.linspace(0, 1, 5))
    # every positive weighted out: only negatives left after dropping zero weights
    compare("roc_auc_score", [0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4], sample_weight=[1, 0, 0, 1])


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_tiny(n, seed):
    y_true, y_score, _ = _binary("int", n, seed, "some")
    compare("roc_auc_score", y_true, y_score)
    compare("roc_auc_score", y_true, y_score, max_fpr=0.5)
    compare("average_precision_score", y_true, y_score)
    compare("roc_curve", y_true, y_score)
    compare("precision_recall_curve", y_true, y_score)


# --- average_precision_score ------------------------------------------------------------------


@pytest.mark.parametrize("wmode", WEIGHT_MODES)
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("seed", SEEDS)
def test_average_precision_binary(seed, ties, wmode):
    y_true, y_score, _ = _binary("int", 300, seed, ties)
    w = weights(wmode, 300, seed)
    compare("average_precision_score", y_true, y_score, sample_weight=w)
    compare("average_precision_score", y_true, y_score, sample_weight=w, pos_label=0)


@pytest.mark.parametrize(
    ("kind", "pos_label"),
    [
        ("int_signed", 1),
        ("int_signed", -1),
        ("str", "bee"),
        ("str", "ant"),
        ("bool", True),
        ("bool", False),
        ("float_integral", 2.0),
        ("int32", 10),
    ],
)
def test_average_precision_pos_label(kind, pos_label):
    y_true, y_score, _ = _binary(kind, 120, 6, "some")
    compare("average_precision_score", y_true, y_score, pos_label=pos_label)


def test_average_precision_no_positives():
    # sklearn: UserWarning from precision_recall_curve and 0.0
    compare("average_precision_score", np.zeros(6, dtype=int), np.linspace(0, 1, 6))


# --- curves -----------------------------------------------------------------------------------


def _curve_kwargs(kind, vals, which):
    if kind in ("int", "int_signed", "bool"):
        return {} if which == "default" else {"pos_label": vals[0 if which == "first" else 1]}
    return {"pos_label": vals[0 if which == "first" else 1]}


@pytest.mark.parametrize("curve", ["roc_curve", "precision_recall_curve"])
@pytest.mark.parametrize("drop_intermediate", [True, False])
@pytest.mark.parametrize("wmode", WEIGHT_MODES)
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("seed", SEEDS)
def test_curves(curve, seed, ties, wmode, drop_intermediate):
    y_true, y_score, _ = _binary("int", 250, seed, ties)
    compare(
        curve,
        y_true,
        y_score,
        sample_weight=weights(wmode, 250, seed),
        drop_intermediate=drop_intermediate,
    )


def _pos_label_cases():
    for kind in ["int", "int_signed", "bool", "str", "float_integral", "uint8"]:
        # without pos_label sklearn only accepts {0, 1}, {-1, 1} (see test_errors)
        whiches = ["first", "second"]
        if kind in ("int", "int_signed", "bool"):
            whiches = ["default", *whiches]
        for which in whiches:
            yield pytest.param(kind, which, id=f"{kind}-{which}")


@pytest.mark.parametrize("curve", ["roc_curve", "precision_recall_curve"])
@pytest.mark.parametrize(("kind", "which"), list(_pos_label_cases()))
def test_curves_pos_label(curve, kind, which):
    y_true, y_score, vals = _binary(kind, 150, 8, "some")
    kw = _curve_kwargs(kind, vals, which)
    compare(curve, y_true, y_score, drop_intermediate=True, **kw)
    compare(curve, y_true, y_score, drop_intermediate=False, **kw)


@pytest.mark.parametrize("curve", ["roc_curve", "precision_recall_curve"])
def test_curves_one_class(curve):
    # roc_curve: UndefinedMetricWarning and NaN rates; precision_recall_curve: UserWarning
    for y in (np.zeros(6, dtype=int), np.ones(6, dtype=int)):
        compare(curve, y, np.linspace(0, 1, 6))
        compare(curve, y, np.linspace(0, 1, 6), drop_intermediate=False)


def test_curves_constant_scores_and_single_sample():
    compare("roc_curve", [0, 1, 0, 1], np.full(4, 0.3))
    compare("precision_recall_curve", [0, 1, 0, 1], np.full(4, 0.3))
    compare("roc_curve", [1], [0.5])
    compare("precision_recall_curve", [1], [0.5])
    compare("precision_recall_curve", [0, 1], [0.5, 0.5], drop_intermediate=True)


# --- multiclass roc_auc_score -----------------------------------------------------------------


def _multiclass(kind: str, k: int, n: int, seed: int, ties: bool = False):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    t[:k] = np.arange(k)  # all classes present
    return class_values(kind, k)[t], proba_matrix(t, k, seed, ties)


MC_AVERAGES = [
    ("ovr", "macro"),
    ("ovr", "weighted"),
    ("ovr", "micro"),
    ("ovr", None),
    ("ovo", "macro"),
    ("ovo", "weighted"),
]


@pytest.mark.parametrize(("multi_class", "average"), MC_AVERAGES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("kind", ["int", "str", "int_signed"])
@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_multiclass(kind, k, ties, multi_class, average, seed):
    y_true, proba = _multiclass(kind, k, 200, seed, ties)
    compare("roc_auc_score", y_true, proba, multi_class=multi_class, average=average)
    compare(
        "roc_auc_score",
        y_true,
        proba,
        multi_class=multi_class,
        average=average,
        labels=list(class_values(kind, k)),
    )
    if multi_class == "ovr":
        for wmode in ("float", "zeros"):
            compare(
                "roc_auc_score",
                y_true,
                proba,
                multi_class="ovr",
                average=average,
                sample_weight=weights(wmode, 200, seed),
            )


@pytest.mark.parametrize(("multi_class", "average"), MC_AVERAGES)
def test_roc_auc_multiclass_labels_with_absent_class(multi_class, average):
    rng = np.random.default_rng(2)
    proba = proba_matrix(rng.integers(0, 4, 80), 4, 2)
    y_true = rng.choice([0, 2, 3], 80)  # class 1 declared in labels but absent
    compare(
        "roc_auc_score",
        y_true,
        proba,
        multi_class=multi_class,
        average=average,
        labels=[0, 1, 2, 3],
    )
    words = np.array(["a", "b", "c", "d"])
    compare(
        "roc_auc_score",
        words[y_true],
        proba,
        multi_class=multi_class,
        average=average,
        labels=list(words),
    )


def test_roc_auc_binary_y_with_three_labels():
    rng = np.random.default_rng(4)
    proba = proba_matrix(rng.integers(0, 3, 60), 3, 4)
    y_true = rng.choice([0, 2], 60)
    compare("roc_auc_score", y_true, proba, multi_class="ovr", labels=[0, 1, 2])
    compare("roc_auc_score", y_true, proba, multi_class="ovo", labels=[0, 1, 2])


# --- top_k_accuracy_score ---------------------------------------------------------------------


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("wmode", ["none", "zeros", "int"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("n_classes", [3, 4, 5])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_top_k_multiclass(seed, ties, n_classes, k, wmode, normalize):
    y_true, proba = _multiclass("int", n_classes, 150, seed, ties)
    compare(
        "top_k_accuracy_score",
        y_true,
        proba,
        k=k,
        normalize=normalize,
        sample_weight=weights(wmode, 150, seed),
    )


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("kind", ["str", "int_signed", "uint8"])
def test_top_k_labels(kind, k):
    rng = np.random.default_rng(k)
    vals = class_values(kind, 4)
    proba = proba_matrix(rng.integers(0, 4, 90), 4, k)
    y_true = vals[rng.choice([0, 1, 3], 90)]  # one declared class absent
    compare("top_k_accuracy_score", y_true, proba, k=k, labels=list(vals))
    # binary y_true with a three-column score matrix and labels=
    y_bin = vals[rng.choice([0, 2], 90)]
    p3 = proba_matrix(rng.integers(0, 3, 90), 3, k)
    compare("top_k_accuracy_score", y_bin, p3, k=k, labels=list(vals[:3]))


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("scores", ["proba", "decision", "constant"])
def test_top_k_binary_1d(scores, k):
    y_true, y_score, _ = _binary("int", 100, 9)
    if scores == "decision":
        y_score = np.log(y_score / (1 - y_score))
    elif scores == "constant":
        y_score = np.full(100, 0.5)
    compare("top_k_accuracy_score", y_true, y_score, k=k)
    compare("top_k_accuracy_score", y_true, y_score, k=k, sample_weight=weights("float", 100, 9))


# --- large ------------------------------------------------------------------------------------


def test_ranking_large():
    n = 200_000
    y_true, y_score, _ = _binary("int", n, 21, "some")
    w = weights("zeros", n, 21)
    compare("roc_auc_score", y_true, y_score, sample_weight=w)
    compare("roc_auc_score", y_true, y_score, max_fpr=0.2)
    compare("average_precision_score", y_true, y_score, sample_weight=w)
    compare("roc_curve", y_true, y_score, sample_weight=w)
    compare("precision_recall_curve", y_true, y_score, drop_intermediate=True)
    y_mc, proba = _multiclass("int", 4, n, 22)
    compare("roc_auc_score", y_mc, proba, multi_class="ovr", average="weighted")
    compare("roc_auc_score", y_mc, proba, multi_class="ovo")
    compare("top_k_accuracy_score", y_mc, proba, k=2, sample_weight=w)
