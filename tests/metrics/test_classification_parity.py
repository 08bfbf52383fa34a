"""Parity of label-based classification metrics, log_loss and brier_score_loss with sklearn."""

from __future__ import annotations

import numpy as np
import pytest

from ._data import (
    LABEL_KINDS,
    WEIGHT_MODES,
    class_values,
    label_pair,
    proba_matrix,
    weights,
)
from ._parity import FLOAT32_RTOL, compare

SEEDS = [0, 1]

# (function name, kwargs) run on every label spelling / class count / weighting.
LABEL_METRICS = [
    ("accuracy_score", {}),
    ("accuracy_score", {"normalize": False}),
    ("balanced_accuracy_score", {}),
    ("balanced_accuracy_score", {"adjusted": True}),
    ("confusion_matrix", {}),
    ("confusion_matrix", {"normalize": "true"}),
    ("confusion_matrix", {"normalize": "pred"}),
    ("confusion_matrix", {"normalize": "all"}),
    ("matthews_corrcoef", {}),
    ("precision_recall_fscore_support", {}),
    ("f1_score", {"average": "macro"}),
    ("precision_score", {"average": "micro"}),
    ("recall_score", {"average": "weighted"}),
    ("fbeta_score", {"beta": 0.5, "average": "weighted"}),
    ("fbeta_score", {"beta": 2.0, "average": None}),
]
LABEL_METRIC_IDS = [
    f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in LABEL_METRICS
]


def _label_cases():
    # one seed per combination (a different one each time) keeps the count manageable
    seed = 0
    for kind in LABEL_KINDS:
        for k in (2, 4):
            if kind == "bool" and k != 2:
                continue
            for wmode in WEIGHT_MODES:
                seed += 1
                yield pytest.param(kind, k, wmode, seed, id=f"{kind}-k{k}-w{wmode}-s{seed}")


@pytest.mark.parametrize(("name", "kwargs"), LABEL_METRICS, ids=LABEL_METRIC_IDS)
@pytest.mark.parametrize(("kind", "k", "wmode", "seed"), list(_label_cases()))
def test_label_metrics(name, kwargs, kind, k, wmode, seed):
    y_true, y_pred = label_pair(kind, k, 300, seed)
    compare(name, y_true, y_pred, sample_weight=weights(wmode, 300, seed), **kwargs)


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
def test_binary_average_with_explicit_pos_label(kind, average):
    y_true, y_pred = label_pair(kind, 2, 200, 7)
    pos = class_values(kind, 2)
    for pos_label in (pos[1], pos[0]):
        kw = {"average": average}
        if average == "binary":
            kw["pos_label"] = pos_label
        compare("f1_score", y_true, y_pred, **kw)
        compare("precision_recall_fscore_support", y_true, y_pred, beta=2.0, **kw)


# --- averages x zero_division on scenarios built to hit ill-defined precision / recall -----------


def _scenario(name):
    rng = np.random.default_rng(11)
    n = 40
    if name == "binary":
        t = rng.integers(0, 2, n)
        p = np.where(rng.random(n) < 0.3, 1 - t, t)
        return t, p, {}
    if name == "binary_pred_all_negative":
        t = rng.integers(0, 2, n)
        return t, np.zeros(n, dtype=int), {}
    if name == "binary_true_all_negative":
        return np.zeros(n, dtype=int), rng.integers(0, 2, n), {}
    if name == "binary_all_negative":  # precision, recall and F all ill-defined for class 1
        return np.zeros(n, dtype=int), np.zeros(n, dtype=int), {}
    if name == "binary_str_pos_first":
        t = rng.choice(["neg", "pos"], n)
        p = np.where(rng.random(n) < 0.3, rng.choice(["neg", "pos"], n), t)
        return t, p, {"pos_label": "neg"}
    if name == "single_class_present":  # one label in y_true and y_pred, pos_label=1 present
        return np.ones(n, dtype=int), np.ones(n, dtype=int), {}
    if name == "multiclass":
        t = rng.integers(0, 4, n)
        p = np.where(rng.random(n) < 0.4, rng.integers(0, 4, n), t)
        return t, p, {}
    if name == "multiclass_pred_missing_class":
        t = rng.integers(0, 4, n)
        p = np.where(rng.random(n) < 0.4, rng.integers(0, 3, n), np.minimum(t, 2))
        return t, p, {}
    if name == "multiclass_labels_subset":
        t, p, _ = _scenario("multiclass")
        return t, p, {"labels": [0, 2]}
    if name == "multiclass_labels_unseen":
        t, p, _ = _scenario("multiclass")
        return t, p, {"labels": [0, 1, 2, 3, 9]}
    if name == "multiclass_labels_reordered":
        t, p, _ = _scenario("multiclass")
        return t, p, {"labels": [3, 1, 0, 2]}
    if name == "multiclass_str_labels_unseen":
        words = np.array(["x", "y", "z"])
        t = words[rng.integers(0, 3, n)]
        p = words[rng.integers(0, 3, n)]
        return t, p, {"labels": ["z", "w", "x"]}
    raise ValueError(name)


BINARY_SCENARIOS = [
    "binary",
    "binary_pred_all_negative",
    "binary_true_all_negative",
    "binary_all_negative",
    "binary_str_pos_first",
    "single_class_present",
]
MULTI_SCENARIOS = [
    "multiclass",
    "multiclass_pred_missing_class",
    "multiclass_labels_subset",
    "multiclass_labels_unseen",
    "multiclass_labels_reordered",
    "multiclass_str_labels_unseen",
]
PRF = [
    ("precision_score", {}),
    ("recall_score", {}),
    ("f1_score", {}),
    ("fbeta_score", {"beta": 2.0}),
    ("precision_recall_fscore_support", {"beta": 0.5}),
]
ZERO_DIVISION = ["warn", 0, 1, np.nan]


def _prf_cases():
    for scen in BINARY_SCENARIOS + MULTI_SCENARIOS:
        averages = ["micro", "macro", "weighted", None]
        if scen in BINARY_SCENARIOS:
            averages = ["binary", *averages]
        for average in averages:
            yield pytest.param(scen, average, id=f"{scen}-{average}")


@pytest.mark.parametrize("zero_division", ZERO_DIVISION, ids=["warn", "0", "1", "nan"])
@pytest.mark.parametrize(("name", "kwargs"), PRF, ids=[n for n, _ in PRF])
@pytest.mark.parametrize(("scenario", "average"), list(_prf_cases()))
def test_prf_average_zero_division(scenario, average, name, kwargs, zero_division):
    y_true, y_pred, extra = _scenario(scenario)
    if average != "binary":
        extra = {k: v for k, v in extra.items() if k != "pos_label"}
    compare(
        name,
        y_true,
        y_pred,
        average=average,
        zero_division=zero_division,
        **kwargs,
        **extra,
    )


@pytest.mark.parametrize("wmode", ["float", "zeros", "int"])
@pytest.mark.parametrize("scenario", BINARY_SCENARIOS + MULTI_SCENARIOS)
def test_prf_weighted_scenarios(scenario, wmode):
    y_true, y_pred, extra = _scenario(scenario)
    w = weights(wmode, len(y_true), 3)
    average = "binary" if scenario in BINARY_SCENARIOS else "macro"
    if average != "binary":
        extra.pop("pos_label", None)
    compare(
        "precision_recall_fscore_support",
        y_true,
        y_pred,
        average=None,
        sample_weight=w,
        **{k: v for k, v in extra.items() if k == "labels"},
    )
    compare("f1_score", y_true, y_pred, average=average, sample_weight=w, **extra)


# --- confusion_matrix labels= ------------------------------------------------------------------


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
@pytest.mark.parametrize(
    "labels",
    [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3], [0, 1, 2, 3, 7], [2]],
    ids=["all", "reversed", "subset", "superset", "single"],
)
@pytest.mark.parametrize("wmode", ["none", "zeros", "int"])
def test_confusion_matrix_labels(labels, normalize, wmode):
    y_true, y_pred = label_pair("int", 4, 120, 5)
    compare(
        "confusion_matrix",
        y_true,
        y_pred,
        labels=labels,
        normalize=normalize,
        sample_weight=weights(wmode, 120, 5),
    )


def test_confusion_matrix_str_labels_reordered():
    y_true, y_pred = label_pair("str", 3, 50, 1)
    compare("confusion_matrix", y_true, y_pred, labels=["cat", "ant", "zzz", "bee"])


def test_confusion_matrix_int_labels_with_negative_values():
    y_true, y_pred = label_pair("int_signed", 4, 80, 2)
    compare("confusion_matrix", y_true, y_pred, labels=[5, -4, -1, 2])


# --- constant predictions, one class, tiny inputs -------------------------------------------------

CONSTANT_CASES = {
    "pred_constant": (np.array([0, 1, 1, 0, 2, 1, 0, 2]), np.full(8, 1)),
    "true_constant": (np.full(8, 2), np.array([0, 1, 1, 0, 2, 1, 0, 2])),
    "both_same_constant": (np.full(8, 1), np.full(8, 1)),
    "both_different_constant": (np.full(8, 0), np.full(8, 1)),
    "perfect": (np.array([0, 1, 2, 0, 1, 2]), np.array([0, 1, 2, 0, 1, 2])),
    "inverted_binary": (np.array([0, 1, 1, 0, 1]), np.array([1, 0, 0, 1, 0])),
}

CONSTANT_METRICS = [
    ("accuracy_score", {}),
    ("balanced_accuracy_score", {}),
    ("balanced_accuracy_score", {"adjusted": True}),
    ("confusion_matrix", {}),
    ("matthews_corrcoef", {}),
    ("precision_recall_fscore_support", {}),
    ("f1_score", {"average": "macro"}),
    ("f1_score", {"average": "weighted", "zero_division": 1}),
    ("precision_score", {"average": "micro"}),
    ("recall_score", {"average": "macro", "zero_division": np.nan}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONSTANT_METRICS, ids=[n for n, _ in CONSTANT_METRICS])
@pytest.mark.parametrize("case", list(CONSTANT_CASES))
def test_constant_and_degenerate(case, name, kwargs):
    y_true, y_pred = CONSTANT_CASES[case]
    compare(name, y_true, y_pred, **kwargs)


@pytest.mark.parametrize(("name", "kwargs"), CONSTANT_METRICS, ids=[n for n, _ in CONSTANT_METRICS])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny(n, seed, name, kwargs):
    y_true, y_pred = label_pair("int", 3, n, seed, noise=0.6)
    compare(name, y_true, y_pred, **kwargs)
    compare(name, y_true, y_pred, sample_weight=weights("float", n, seed), **kwargs)


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 3.0, np.inf])
@pytest.mark.parametrize("average", ["binary", "macro", None])
def test_fbeta_extreme_betas(beta, average):
    k = 2 if average == "binary" else 4
    y_true, y_pred = label_pair("int", k, 100, 3)
    compare("fbeta_score", y_true, y_pred, beta=beta, average=average)
    compare("precision_recall_fscore_support", y_true, y_pred, beta=beta, average=average)


def test_binary_f1_default_pos_label_tiny():
    for y_true, y_pred in [([1], [1]), ([0], [1]), ([1, 0], [1, 1]), ([0, 0], [0, 0])]:
        compare("f1_score", y_true, y_pred)
        compare("precision_score", y_true, y_pred, zero_division=1)
        compare("recall_score", y_true, y_pred, zero_division=np.nan)


def test_classification_large():
    y_true, y_pred = label_pair("int", 5, 200_000, 42)
    w = weights("zeros", 200_000, 42)
    compare("accuracy_score", y_true, y_pred, sample_weight=w)
    compare("confusion_matrix", y_true, y_pred, sample_weight=w)
    compare("precision_recall_fscore_support", y_true, y_pred, sample_weight=w)
    compare("matthews_corrcoef", y_true, y_pred)
    compare("balanced_accuracy_score", y_true, y_pred, sample_weight=w)
    ys_true, ys_pred = label_pair("str", 2, 200_000, 43)
    compare("f1_score", ys_true, ys_pred, pos_label="bee")


# --- log_loss ------------------------------------------------------------------------------------


def _proba_case(k, n, seed, kind="int"):
    vals = class_values(kind, k)
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    return vals[t], proba_matrix(t, k, seed)


@pytest.mark.parametrize("wmode", ["none", "float", "zeros"])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("kind", ["int", "str", "int_signed", "bool", "float32"])
@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_binary(kind, seed, normalize, wmode):
    n = 150
    y_true, proba = _proba_case(2, n, seed, kind)
    w = weights(wmode, n, seed)
    compare("log_loss", y_true, proba, normalize=normalize, sample_weight=w)  # 2-D
    compare("log_loss", y_true, proba[:, 1], normalize=normalize, sample_weight=w)  # 1-D
    compare("log_loss", y_true, proba[:, 1:], normalize=normalize, sample_weight=w)  # (n, 1)


@pytest.mark.parametrize("wmode", ["none", "zeros"])
@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("kind", ["int", "str", "int8"])
@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_multiclass(kind, k, seed, wmode):
    y_true, proba = _proba_case(k, 200, seed, kind)
    compare("log_loss", y_true, proba, sample_weight=weights(wmode, 200, seed))
    compare("log_loss", y_true, proba, normalize=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_labels_for_missing_classes(seed):
    rng = np.random.default_rng(seed)
    proba = proba_matrix(rng.integers(0, 4, 60), 4, seed)
    y_true = rng.choice([0, 2, 3], 60)  # class 1 never occurs
    compare("log_loss", y_true, proba, labels=[0, 1, 2, 3])
    words = np.array(["a", "b", "c", "d"])
    compare("log_loss", words[y_true], proba, labels=list(words))
    # labels not in sorted order: sklearn warns (UserWarning) and uses the sorted order
    compare("log_loss", y_true, proba, labels=[3, 0, 2, 1])
    # one class present, two declared
    compare("log_loss", np.ones(10, dtype=int), np.linspace(0.05, 0.95, 10), labels=[0, 1])
    compare("log_loss", ["b"] * 5, np.full((5, 2), 0.5), labels=["a", "b"])


def test_log_loss_clips_extreme_probabilities():
    y_true = np.array([0, 1, 1, 0, 1, 0])
    compare("log_loss", y_true, np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.0]))
    proba = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    compare("log_loss", [1, 1, 2, 2], proba, labels=[0, 1, 2])
    compare("log_loss", [0, 1, 2, 0], proba)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_log_loss_tiny(n):
    rng = np.random.default_rng(n)
    y_true = np.arange(n) % 2
    compare("log_loss", y_true, rng.random(n))


def test_log_loss_large():
    y_true, proba = _proba_case(4, 200_000, 9)
    compare("log_loss", y_true, proba, sample_weight=weights("zeros", 200_000, 9))


# --- brier_score_loss ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale_by_half", ["auto", True, False])
@pytest.mark.parametrize("wmode", ["none", "float", "zeros"])
@pytest.mark.parametrize(
    ("kind", "pos_label"),
    [
        ("int", None),
        ("int", 0),
        ("int", 1),
        ("int_signed", None),
        ("int_signed", -1),
        ("int32", None),  # {10, 11}: positive inferred as the greater label
        ("bool", None),
        ("bool", True),
        ("float_integral", None),
        ("str", "bee"),
        ("str", "ant"),
    ],
)
@pytest.mark.parametrize("seed", SEEDS)
def test_brier_binary(kind, pos_label, wmode, scale_by_half, seed):
    y_true, proba = _proba_case(2, 120, seed, kind)
    compare(
        "brier_score_loss",
        y_true,
        proba[:, 1],
        pos_label=pos_label,
        sample_weight=weights(wmode, 120, seed),
        scale_by_half=scale_by_half,
    )


@pytest.mark.parametrize("scale_by_half", ["auto", True, False])
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("kind", ["int", "str"])
@pytest.mark.parametrize("seed", SEEDS)
def test_brier_multiclass_2d(kind, k, scale_by_half, seed):
    y_true, proba = _proba_case(k, 150, seed, kind)
    compare("brier_score_loss", y_true, proba, scale_by_half=scale_by_half)
    compare(
        "brier_score_loss",
        y_true,
        proba,
        labels=list(class_values(kind, k)),
        sample_weight=weights("zeros", 150, seed),
    )


def test_brier_multiclass_labels_for_missing_class():
    rng = np.random.default_rng(3)
    proba = proba_matrix(rng.integers(0, 3, 50), 3, 3)
    compare("brier_score_loss", rng.choice([0, 2], 50), proba, labels=[0, 1, 2])


def test_brier_one_class_and_extremes():
    compare("brier_score_loss", np.ones(6, dtype=int), np.linspace(0, 1, 6))
    compare("brier_score_loss", np.zeros(6, dtype=int), np.linspace(0, 1, 6))
    compare("brier_score_loss", [0, 1, 1, 0], np.array([0.0, 1.0, 1.0, 0.0]))
    compare("brier_score_loss", [0, 1, 1, 0], np.array([True, True, False, False]))


def test_brier_large():
    y_true, proba = _proba_case(2, 200_000, 12)
    compare("brier_score_loss", y_true, proba[:, 1], sample_weight=weights("float", 200_000, 1))


# --- float32 probabilities: sklearn computes log_loss / brier in float32 for float32 input --------


@pytest.mark.parametrize("seed", SEEDS)
def test_float32_probabilities(seed):
    y_true, proba = _proba_case(3, 500, seed)
    proba32 = proba.astype(np.float32)
    compare("log_loss", y_true, proba32, rtol=FLOAT32_RTOL)
    y2, p2 = _proba_case(2, 500, seed)
    compare("log_loss", y2, p2[:, 1].astype(np.float32), rtol=FLOAT32_RTOL)
    compare("brier_score_loss", y2, p2[:, 1].astype(np.float32), rtol=FLOAT32_RTOL)
