"""Invalid inputs: ours raises the same exception class as sklearn, naming the same problem.

For each case sklearn is run first; the test asserts sklearn raises, that sklearn's message
matches the case's "notion" pattern(s) (so the pattern really is sklearn's notion), and that ours
raises the same class (sklearn's ``InvalidParameterError`` counts as ``ValueError``) with a
non-empty message matching the same pattern(s), case-insensitively.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from ._parity import compare, expected_exception_class, ox, run, sk

nan, inf = np.nan, np.inf
P3 = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
P2 = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9], [0.7, 0.3]])
Y4 = np.array([0, 1, 2, 2])
B4 = np.array([0, 1, 1, 0])
S4 = np.array([0.1, 0.8, 0.6, 0.3])
R4 = np.array([1.0, 2.5, -0.5, 4.0])

NAN = r"nan"
INF = r"inf"
LENGTH = r"inconsistent numbers? of samples"
EMPTY = r"empty|0 sample"

CASES = [
    # --- NaN / inf where sklearn refuses -----------------------------------------------------
    ("acc-nan-true", "accuracy_score", ([0, 1, nan, 1], B4), {}, NAN),
    ("acc-nan-pred", "accuracy_score", (B4, [0, 1, nan, 1]), {}, NAN),
    ("acc-inf-true", "accuracy_score", ([0, 1, inf, 1], B4), {}, INF),
    ("f1-nan", "f1_score", (B4, np.array([0, 1, nan, 0])), {}, NAN),
    ("cm-nan", "confusion_matrix", (np.array([0, 1, nan, 0]), B4), {}, NAN),
    ("mcc-inf", "matthews_corrcoef", (B4, np.array([0, -inf, 1, 0])), {}, INF),
    ("prfs-nan", "precision_recall_fscore_support", (Y4, [0, 1, nan, 2]), {}, NAN),
    ("balacc-nan", "balanced_accuracy_score", (Y4, [0, 1, nan, 2]), {}, NAN),
    ("roc-auc-nan-score", "roc_auc_score", (B4, [0.1, nan, 0.6, 0.3]), {}, NAN),
    ("roc-auc-inf-score", "roc_auc_score", (B4, [0.1, inf, 0.6, 0.3]), {}, INF),
    (
        "roc-auc-mc-nan",
        "roc_auc_score",
        (Y4, np.where(P3 == 0.8, nan, P3)),
        {"multi_class": "ovr"},
        NAN,
    ),
    ("ap-nan", "average_precision_score", (B4, [0.1, nan, 0.6, 0.3]), {}, NAN),
    ("roc-curve-nan", "roc_curve", (B4, [0.1, nan, 0.6, 0.3]), {}, NAN),
    ("pr-curve-inf", "precision_recall_curve", (B4, [0.1, -inf, 0.6, 0.3]), {}, INF),
    ("log-loss-nan", "log_loss", (B4, [0.1, nan, 0.6, 0.3]), {}, NAN),
    ("log-loss-nan-2d", "log_loss", (Y4, np.where(P3 == 0.8, nan, P3)), {}, NAN),
    ("brier-nan", "brier_score_loss", (B4, [0.1, nan, 0.6, 0.3]), {}, NAN),
    ("top-k-nan", "top_k_accuracy_score", (Y4, np.where(P3 == 0.8, nan, P3)), {}, NAN),
    ("mse-nan-true", "mean_squared_error", ([1.0, nan, 2.0], [1.0, 2.0, 3.0]), {}, NAN),
    ("mse-inf-pred", "mean_squared_error", ([1.0, 2.0, 2.0], [1.0, inf, 3.0]), {}, INF),
    ("mae-nan", "mean_absolute_error", ([1.0, 2.0, 2.0], [1.0, nan, 3.0]), {}, NAN),
    ("r2-nan", "r2_score", ([1.0, nan, 2.0], [1.0, 2.0, 3.0]), {}, NAN),
    ("ev-inf", "explained_variance_score", ([1.0, inf, 2.0], [1.0, 2.0, 3.0]), {}, INF),
    ("medae-nan", "median_absolute_error", ([1.0, nan, 2.0], [1.0, 2.0, 3.0]), {}, NAN),
    ("max-error-nan", "max_error", ([1.0, 2.0, 2.0], [1.0, nan, 3.0]), {}, NAN),
    ("mape-nan", "mean_absolute_percentage_error", ([1.0, nan, 2.0], [1.0, 2.0, 3.0]), {}, NAN),
    ("pinball-inf", "mean_pinball_loss", ([1.0, 2.0, 2.0], [1.0, inf, 3.0]), {}, INF),
    ("msle-nan", "mean_squared_log_error", ([1.0, nan, 2.0], [1.0, 2.0, 3.0]), {}, NAN),
    ("mse-weight-nan", "mean_squared_error", (R4, R4), {"sample_weight": [1, nan, 1, 1]}, NAN),
    ("acc-weight-nan", "accuracy_score", (B4, B4), {"sample_weight": [1, nan, 1, 1]}, NAN),
    # --- length mismatch -----------------------------------------------------------------
    ("acc-len", "accuracy_score", (B4, B4[:3]), {}, LENGTH),
    ("f1-len", "f1_score", (B4[:3], B4), {}, LENGTH),
    ("cm-len", "confusion_matrix", (B4, B4[:2]), {}, LENGTH),
    ("mcc-len", "matthews_corrcoef", (B4, B4[:3]), {}, LENGTH),
    ("balacc-len", "balanced_accuracy_score", (B4, B4[:3]), {}, LENGTH),
    ("roc-auc-len", "roc_auc_score", (B4, S4[:3]), {}, LENGTH),
    ("ap-len", "average_precision_score", (B4, S4[:3]), {}, LENGTH),
    ("roc-curve-len", "roc_curve", (B4[:3], S4), {}, LENGTH),
    ("pr-curve-len", "precision_recall_curve", (B4, S4[:3]), {}, LENGTH),
    ("log-loss-len", "log_loss", (Y4, P3[:3]), {}, LENGTH),
    ("brier-len", "brier_score_loss", (B4, S4[:3]), {}, LENGTH),
    ("top-k-len", "top_k_accuracy_score", (Y4, P3[:3]), {}, LENGTH),
    ("mse-len", "mean_squared_error", (R4, R4[:3]), {}, LENGTH),
    ("r2-len", "r2_score", (R4[:3], R4), {}, LENGTH),
    ("max-error-len", "max_error", (R4, R4[:3]), {}, LENGTH),
    ("acc-weight-len", "accuracy_score", (B4, B4), {"sample_weight": [1, 1, 1]}, LENGTH),
    ("mse-weight-len", "mean_squared_error", (R4, R4), {"sample_weight": [1, 1, 1]}, LENGTH),
    ("roc-auc-weight-len", "roc_auc_score", (B4, S4), {"sample_weight": [1, 1]}, LENGTH),
    # --- empty input ---------------------------------------------------------------------
    ("acc-empty", "accuracy_score", ([], []), {}, EMPTY),
    ("f1-empty", "f1_score", ([], []), {}, EMPTY),
    ("cm-empty", "confusion_matrix", ([], []), {}, EMPTY),
    ("roc-auc-empty", "roc_auc_score", ([], []), {}, EMPTY),
    ("mse-empty", "mean_squared_error", ([], []), {}, EMPTY),
    ("r2-empty", "r2_score", (np.array([]), np.array([])), {}, EMPTY),
    ("medae-empty", "median_absolute_error", ([], []), {}, EMPTY),
    # --- one class / binary vs multiclass ------------------------------------------------
    ("log-loss-one-class", "log_loss", ([1, 1, 1], [0.5, 0.6, 0.7]), {}, r"only one (label|class)"),
    ("f1-multiclass-binary", "f1_score", (Y4, Y4), {}, (r"multiclass", r"binary")),
    (
        "precision-multiclass-binary",
        "precision_score",
        (Y4, [0, 1, 1, 2]),
        {"average": "binary"},
        (r"multiclass", r"binary"),
    ),
    ("brier-multiclass-1d", "brier_score_loss", (Y4, S4), {}, (r"multiclass", r"binary")),
    # --- pos_label -------------------------------------------------------------------------
    ("precision-pos-label", "precision_score", (B4, B4), {"pos_label": 2}, r"pos_label"),
    ("f1-pos-label-str", "f1_score", (np.array(["a", "b", "b", "a"]),) * 2, {}, r"pos_label"),
    ("ap-pos-label", "average_precision_score", (B4, S4), {"pos_label": 2}, r"pos_label"),
    (
        "ap-pos-label-not-given",
        "average_precision_score",
        (np.array([2, 5, 5, 2]), S4),
        {},
        r"pos_label",
    ),
    ("roc-curve-str-no-pos", "roc_curve", (np.array(["a", "b", "b", "a"]), S4), {}, r"pos_label"),
    ("roc-curve-2-5-no-pos", "roc_curve", (np.array([2, 5, 5, 2]), S4), {}, r"pos_label"),
    (
        "pr-curve-str-no-pos",
        "precision_recall_curve",
        (np.array(["a", "b", "b", "a"]), S4),
        {},
        r"pos_label",
    ),
    (
        "brier-str-no-pos",
        "brier_score_loss",
        (np.array(["a", "b", "b", "a"]), S4),
        {},
        r"pos_label",
    ),
    # --- labels= ---------------------------------------------------------------------------
    ("log-loss-unknown-label", "log_loss", (Y4, P2), {"labels": [0, 1]}, r"label"),
    ("log-loss-labels-vs-columns", "log_loss", (B4, P3), {"labels": [0, 1]}, r"label"),
    (
        "top-k-unknown-label",
        "top_k_accuracy_score",
        ([0, 1, 5, 2], P3),
        {"labels": [0, 1, 2]},
        r"label",
    ),
    ("top-k-labels-unordered", "top_k_accuracy_score", (Y4, P3), {"labels": [2, 1, 0]}, r"ordered"),
    ("top-k-labels-not-unique", "top_k_accuracy_score", (Y4, P3), {"labels": [0, 1, 1]}, r"unique"),
    (
        "roc-auc-unknown-label",
        "roc_auc_score",
        ([0, 1, 5, 2], P3),
        {"multi_class": "ovr", "labels": [0, 1, 2]},
        r"label",
    ),
    (
        "roc-auc-labels-unordered",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovo", "labels": [2, 1, 0]},
        r"ordered",
    ),
    ("cm-labels-none-in-y", "confusion_matrix", (B4, B4), {"labels": [5, 6]}, r"label"),
    ("cm-labels-empty", "confusion_matrix", (B4, B4), {"labels": []}, r"label"),
    # --- label types -----------------------------------------------------------------------
    (
        "acc-mix-str-num",
        "accuracy_score",
        (["a", 1, 2, "b"], [1, 1, 2, 2]),
        {},
        (r"string", r"number"),
    ),
    # str and int inside one object array: sklearn fails sorting them (TypeError naming str)
    (
        "acc-mix-in-object-array",
        "accuracy_score",
        (np.array(["a", 1, 2, "b"], dtype=object), [1, 1, 2, 2]),
        {},
        r"str",
    ),
    (
        "f1-mix-str-num",
        "f1_score",
        (["a", "b", "a", "b"], [1, 0, 1, 0]),
        {"average": "macro"},
        (r"string", r"number"),
    ),
    (
        "cm-mix-str-num",
        "confusion_matrix",
        (np.array(["a", "b", "a", "b"]), B4),
        {},
        (r"string", r"number"),
    ),
    (
        "acc-continuous",
        "accuracy_score",
        ([0.5, 1.2, 2.3, 0.1], [0.5, 1.2, 2.3, 0.1]),
        {},
        r"continuous",
    ),
    ("f1-continuous", "f1_score", ([0.5, 1.2, 2.3, 0.1], B4), {}, r"continuous"),
    ("cm-continuous", "confusion_matrix", (B4, [0.5, 1.2, 2.3, 0.1]), {}, r"continuous"),
    ("mcc-continuous", "matthews_corrcoef", ([0.5, 1.2, 2.3, 0.1], B4), {}, r"continuous"),
    ("top-k-continuous", "top_k_accuracy_score", ([0.5, 1.2, 2.3, 0.1], P3), {}, r"continuous"),
    (
        "mse-strings",
        "mean_squared_error",
        (["a", "b"], ["a", "b"]),
        {},
        r"convert|numeric|float|string",
    ),
    # --- score matrix shape ----------------------------------------------------------------
    (
        "roc-auc-ovr-columns",
        "roc_auc_score",
        (Y4, P2),
        {"multi_class": "ovr"},
        r"number of (classes|columns)",
    ),
    (
        "roc-auc-labels-columns",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovr", "labels": [0, 1, 2, 3]},
        r"number of|columns",
    ),
    ("top-k-columns", "top_k_accuracy_score", (Y4, P2), {}, r"number of classes"),
    ("top-k-binary-2d", "top_k_accuracy_score", (B4, P2), {}, r"labels"),
    ("log-loss-columns", "log_loss", (Y4, P2), {}, r"number of classes"),
    ("brier-columns", "brier_score_loss", (Y4, P2), {}, r"number of classes"),
    ("top-k-1d-multiclass", "top_k_accuracy_score", (Y4, S4), {}, r"shape"),
    # --- probability checks ----------------------------------------------------------------
    ("log-loss-above-1", "log_loss", (B4, [0.1, 1.5, 0.6, 0.3]), {}, r"greater than 1"),
    ("log-loss-negative", "log_loss", (B4, [0.1, -0.5, 0.6, 0.3]), {}, r"lower than 0|less than 0"),
    ("brier-above-1", "brier_score_loss", (B4, [0.1, 1.2, 0.6, 0.3]), {}, r"greater than 1"),
    ("brier-negative", "brier_score_loss", (B4, [0.1, -0.2, 0.6, 0.3]), {}, r"less than 0"),
    ("roc-auc-ovr-not-probas", "roc_auc_score", (Y4, P3 + 0.1), {"multi_class": "ovr"}, r"sum"),
    # --- multiclass roc_auc options --------------------------------------------------------
    ("roc-auc-multi-class-raise", "roc_auc_score", (Y4, P3), {}, r"multi_class"),
    (
        "roc-auc-ovo-weights",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovo", "sample_weight": [1, 1, 1, 1]},
        r"sample_weight",
    ),
    (
        "roc-auc-ovo-micro",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovo", "average": "micro"},
        r"average",
    ),
    (
        "roc-auc-ovo-none",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovo", "average": None},
        r"average",
    ),
    (
        "roc-auc-max-fpr-multiclass",
        "roc_auc_score",
        (Y4, P3),
        {"multi_class": "ovr", "max_fpr": 0.5},
        r"max_fpr",
    ),
    ("roc-auc-max-fpr-zero", "roc_auc_score", (B4, S4), {"max_fpr": 0.0}, r"max_fpr"),
    ("roc-auc-max-fpr-above-1", "roc_auc_score", (B4, S4), {"max_fpr": 1.5}, r"max_fpr"),
    # --- regression-specific -----------------------------------------------------------------
    (
        "msle-negative-true",
        "mean_squared_log_error",
        ([1.0, 2.0, -3.0], [1.0, 2.0, 3.0]),
        {},
        r"-1",
    ),
    (
        "msle-negative-pred",
        "mean_squared_log_error",
        ([1.0, 2.0, 3.0], [1.0, -2.0, 3.0]),
        {},
        r"-1",
    ),
    (
        "rmsle-negative",
        "root_mean_squared_log_error",
        ([1.0, -1.0, 3.0], [1.0, 2.0, 3.0]),
        {},
        r"-1",
    ),
    (
        "mse-multioutput-bogus",
        "mean_squared_error",
        (R4, R4),
        {"multioutput": "bogus"},
        r"multioutput",
    ),
    (
        "mse-multioutput-variance-weighted",
        "mean_squared_error",
        (R4, R4),
        {"multioutput": "variance_weighted"},
        r"multioutput",
    ),
    ("r2-multioutput-bogus", "r2_score", (R4, R4), {"multioutput": "bogus"}, r"multioutput"),
    (
        "mae-multioutput-bogus",
        "mean_absolute_error",
        (R4, R4),
        {"multioutput": "Raw_values"},
        r"multioutput",
    ),
    (
        "mse-multioutput-weights-len",
        "mean_squared_error",
        (np.ones((4, 2)), np.ones((4, 2))),
        {"multioutput": [1.0, 2.0, 3.0]},
        r"weights",
    ),
    (
        "mse-multioutput-weights-1d",
        "mean_squared_error",
        (R4, R4),
        {"multioutput": [1.0]},
        r"multi-?output",
    ),
    (
        "mse-outputs-mismatch",
        "mean_squared_error",
        (np.ones((4, 2)), np.ones((4, 3))),
        {},
        r"output",
    ),
    ("max-error-2d", "max_error", (np.ones((4, 2)), np.ones((4, 2))), {}, r"multioutput"),
    ("pinball-alpha", "mean_pinball_loss", (R4, R4), {"alpha": 1.5}, r"alpha"),
    # --- parameter validation --------------------------------------------------------------
    ("f1-average-bogus", "f1_score", (B4, B4), {"average": "bogus"}, r"average"),
    (
        "prfs-zero-division-bogus",
        "precision_recall_fscore_support",
        (B4, B4),
        {"zero_division": 5},
        r"zero_division",
    ),
    ("cm-normalize-bogus", "confusion_matrix", (B4, B4), {"normalize": "rows"}, r"normalize"),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "notion"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_error_parity(name, args, kwargs, notion):
    patterns = (notion,) if isinstance(notion, str) else notion
    ref = run(getattr(sk, name), args, kwargs)
    assert ref.exc is not None, f"sklearn accepted this input and returned {ref.value!r}"
    for p in patterns:
        assert re.search(p, str(ref.exc), re.IGNORECASE), f"pattern {p!r} vs sklearn: {ref.exc}"
    cls = expected_exception_class(ref.exc)
    ours = run(getattr(ox, name), args, kwargs)
    assert ours.exc is not None, (
        f"sklearn raised {type(ref.exc).__name__}({ref.exc}); ours returned {ours.value!r}"
    )
    assert isinstance(ours.exc, cls), (
        f"sklearn raised {cls.__name__}({ref.exc}); ours {type(ours.exc).__name__}({ours.exc})"
    )
    msg = str(ours.exc)
    assert msg.strip(), "empty error message"
    for p in patterns:
        assert re.search(p, msg, re.IGNORECASE), f"our message {msg!r} lacks {p!r}"


# --- inputs sklearn accepts with a warning instead of an error ------------------------------


def _assert_same_warning(name, args, kwargs, category, pattern):
    ref = run(getattr(sk, name), args, kwargs)
    ours = run(getattr(ox, name), args, kwargs)
    assert ref.exc is None and ref.warned(category), ref.warnings
    assert ours.exc is None, f"ours raised {ours.exc!r}; sklearn warned and returned {ref.value}"
    matching = [w for w in ours.warnings if issubclass(w.category, category)]
    assert matching, f"no {category.__name__} from ours: {[str(w.message) for w in ours.warnings]}"
    assert any(re.search(pattern, str(w.message), re.IGNORECASE) for w in matching)
    compare(name, *args, **kwargs)


def test_log_loss_probabilities_not_summing_to_one_warns():
    # sklearn 1.9 warns (UserWarning) and computes on the unnormalized values
    proba = np.array([[0.5, 0.6], [0.5, 0.5], [0.2, 0.2], [0.7, 0.3]])
    _assert_same_warning("log_loss", (B4, proba), {}, UserWarning, r"sum to one")
    _assert_same_warning("log_loss", (Y4, P3 * 0.9), {}, UserWarning, r"sum to one")


def test_roc_auc_one_class_is_nan_with_undefined_metric_warning():
    # Not an exception in sklearn 1.9: UndefinedMetricWarning ("Only one class") and NaN.
    for y in ([1, 1, 1, 1], ["a", "a", "a", "a"], [0, 0, 0, 0]):
        ref = run(sk.roc_auc_score, (y, S4), {})
        ours = run(ox.roc_auc_score, (y, S4), {})
        assert ref.exc is None and np.isnan(ref.value) and ref.undefined_metric_warned
        assert ours.exc is None, f"ours raised {ours.exc!r}"
        assert np.isnan(ours.value), ours.value
        assert ours.undefined_metric_warned, [str(w.message) for w in ours.warnings]
        msgs = " ".join(str(w.message) for w in ours.warnings)
        assert re.search(r"only one class", msgs, re.IGNORECASE), msgs


def test_pos_label_ignored_for_non_binary_average_warns():
    _assert_same_warning(
        "f1_score",
        (Y4, [0, 1, 1, 2]),
        {"average": "macro", "pos_label": 2},
        UserWarning,
        r"pos_label",
    )


def test_ours_does_not_mutate_inputs():
    y_true = np.array([3, 1, 2, 2, 1, 3])
    y_pred = np.array([3, 2, 2, 1, 1, 3])
    y_score = np.array([0.9, 0.1, 0.4, 0.4, 0.2, 0.8])
    w = np.array([1.0, 0.0, 2.0, 1.0, 1.0, 0.5])
    copies = [a.copy() for a in (y_true, y_pred, y_score, w)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ox.f1_score(y_true, y_pred, average="macro", sample_weight=w)
        ox.confusion_matrix(y_true, y_pred, labels=[3, 2, 1], sample_weight=w)
        ox.roc_auc_score(y_true == 3, y_score, sample_weight=w)
        ox.roc_curve(y_true, y_score, pos_label=3, sample_weight=w)
        ox.median_absolute_error(y_score, w, sample_weight=w)
    for a, c in zip((y_true, y_pred, y_score, w), copies, strict=True):
        np.testing.assert_array_equal(a, c)
