"""Mergeable metric states: partition, update, serialize, merge, compare with scikit-learn.

Every parity test follows the life of a state in a distributed job: the rows are split into ``k``
random partitions (one of them empty when ``k > 1``), each partition feeds its own state (inputs
given as numpy, lists, pandas, pyarrow or polars, picked at random per partition), every partial
state travels through ``to_bytes``/``from_bytes``, and the partials are merged pairwise in a
random tree order. ``compute()`` must then equal scikit-learn on the concatenated rows.

Reference semantics for the names that are not scikit-learn functions follow MLflow's default
evaluator (``mlflow/models/evaluation/evaluators/{classifier,regressor}.py``): ``example_count`` is
the number of rows, ``sum_on_target`` is ``sum(y * w)``, ``mean_on_target`` is that divided by the
number of rows, and ``true_negatives``..``true_positives`` are the unweighted counts of
``confusion_matrix(y_true, y_pred, labels=[negative, positive])``.
"""

from __future__ import annotations

import math
import re
import struct
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from mlflow_oxide.metrics import BinaryScoreState, ConfusionMatrixState, RegressionState
from sklearn import metrics as skm

try:
    import polars as pl
except ImportError:  # optional input type
    pl = None

SEEDS = [0, 1, 2]
KS = [1, 2, 7]
RTOL_CONFUSION = 1e-12
RTOL_SCORE = 1e-12
RTOL_REGRESSION = 1e-9
STATE_KINDS = [ConfusionMatrixState, RegressionState, BinaryScoreState]


# -- partitioning, conversion, merging -------------------------------------------------------
def split_rows(rng: np.random.Generator, n: int, k: int) -> list[np.ndarray]:
    """Row indices of ``k`` random partitions; for ``k > 1`` exactly one of them is empty."""
    if k == 1:
        return [np.arange(n)]
    perm = rng.permutation(n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 2, replace=False))
    parts = np.split(perm, cuts)
    parts.insert(int(rng.integers(0, k)), perm[:0])
    assert len(parts) == k and sum(map(len, parts)) == n
    return parts


CONVERTERS = {
    "numpy": lambda a: a,
    "list": lambda a: a.tolist(),
    "pandas": lambda a: pd.Series(a),
    "pyarrow": lambda a: pa.array(a),
    "chunked": lambda a: pa.chunked_array([a[: len(a) // 2], a[len(a) // 2 :]]),
}
if pl is not None:
    CONVERTERS["polars"] = lambda a: pl.Series(a)


def convert(rng: np.random.Generator, *arrays):
    """The same randomly chosen container type for every array of one partition call."""
    name = sorted(CONVERTERS)[int(rng.integers(0, len(CONVERTERS)))]
    return [None if a is None else CONVERTERS[name](a) for a in arrays]


def roundtrip(state):
    data = state.to_bytes()
    assert isinstance(data, bytes)
    return type(state).from_bytes(data)


def merge_in_random_tree(states: list, rng: np.random.Generator):
    """Merge pairs picked at random until one state is left (``merge`` is in place)."""
    states = list(states)
    while len(states) > 1:
        i, j = (int(x) for x in rng.choice(len(states), size=2, replace=False))
        assert states[i].merge(states[j]) is states[i]
        del states[j]
    return states[0]


def distributed(make_state, rng, columns: list, weights, k: int):
    """One state per partition, each round-tripped through bytes, merged in a random tree."""
    partials = []
    for rows in split_rows(rng, len(columns[0]), k):
        state = make_state()
        args = convert(rng, *[c[rows] for c in columns], None if weights is None else weights[rows])
        assert state.update(*args[:-1], sample_weight=args[-1]) is state
        partials.append(roundtrip(state))
    return merge_in_random_tree(partials, rng)


def assert_close(got: dict, want: dict, rtol: float) -> None:
    """Same keys; ints equal (and ints); floats within ``rtol``. Lists every mismatch."""
    extra, missing = set(got) - set(want), set(want) - set(got)
    assert not extra and not missing, f"keys: extra {extra}, missing {missing}"
    wrong = []
    for key, expected in want.items():
        value = got[key]
        if isinstance(expected, (int, np.integer)):
            ok = value == expected and isinstance(value, (int, np.integer))
        else:
            ok = math.isclose(value, expected, rel_tol=rtol, abs_tol=1e-15)
        if not ok:
            wrong.append(f"{key}: got {value!r}, want {expected!r}")
    assert not wrong, "\n".join(wrong)


# -- ConfusionMatrixState --------------------------------------------------------------------
CLASS_CASES = {
    # name: (labels of y_true, extra label only ever predicted, pos_label)
    "int-binary": ([0, 1], None, 1),
    "int-binary-pos0": ([0, 1], None, 0),
    "int-multiclass": ([-3, 0, 2, 7, 11], 99, None),
    "str-binary": (["neg", "pos"], None, "pos"),
    "str-multiclass": (["bird", "cat", "dog", "fish"], "zebra", None),
}


def class_data(rng: np.random.Generator, case: str, weighted: bool):
    labels, pred_only, _ = CLASS_CASES[case]
    vocab = np.asarray(labels if pred_only is None else [*labels, pred_only])  # one wide dtype
    n = int(rng.integers(500, 3000))
    probs = rng.dirichlet(np.ones(len(labels)) * 2)  # skewed: some labels rare in a partition
    y_true = vocab[rng.choice(len(labels), size=n, p=probs)]
    y_pred = y_true.copy()
    wrong = rng.random(n) < 0.25
    y_pred[wrong] = vocab[rng.integers(0, len(labels), size=int(wrong.sum()))]
    if pred_only is not None:  # a label that appears in y_pred only (and only a few times)
        y_pred[rng.choice(n, size=3, replace=False)] = pred_only
    weights = rng.uniform(0.1, 3.0, size=n) if weighted else None
    return y_true, y_pred, weights


def expected_classification(y_true, y_pred, weights, average, pos_label) -> dict:
    kw = {"sample_weight": weights}
    avg = {"average": average, "pos_label": pos_label}
    with warnings.catch_warnings():
        # ill-defined per-class scores (a label never in y_true) warn; the values are defined
        warnings.simplefilter("ignore")
        out = {
            "example_count": len(y_true),
            "accuracy_score": skm.accuracy_score(y_true, y_pred, **kw),
            "balanced_accuracy_score": skm.balanced_accuracy_score(y_true, y_pred, **kw),
            "precision_score": skm.precision_score(y_true, y_pred, **avg, **kw),
            "recall_score": skm.recall_score(y_true, y_pred, **avg, **kw),
            "f1_score": skm.f1_score(y_true, y_pred, **avg, **kw),
            "matthews_corrcoef": skm.matthews_corrcoef(y_true, y_pred, **kw),
        }
    labels = np.unique(np.concatenate([y_true, y_pred]))
    if len(labels) == 2:
        negative = labels[labels != pos_label][0]
        # MLflow's default evaluator: confusion_matrix(...).ravel(), without sample weights.
        tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[negative, pos_label]).ravel()
        out.update(true_negatives=tn, false_positives=fp, false_negatives=fn, true_positives=tp)
    return {k: (v if isinstance(v, (int, np.integer)) else float(v)) for k, v in out.items()}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("case", list(CLASS_CASES))
@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_matrix_state_matches_sklearn(seed, case, k, weighted):
    rng = np.random.default_rng([seed, k, weighted, list(CLASS_CASES).index(case)])
    y_true, y_pred, weights = class_data(rng, case, weighted)
    pos_label = CLASS_CASES[case][2]
    state = distributed(ConfusionMatrixState, rng, [y_true, y_pred], weights, k)

    all_labels = np.unique(np.concatenate([y_true, y_pred]))
    assert list(state.labels) == list(all_labels)

    want_cm = skm.confusion_matrix(y_true, y_pred, sample_weight=weights)
    got_cm = np.asarray(state.confusion_matrix())
    assert got_cm.shape == want_cm.shape
    if weighted:
        np.testing.assert_allclose(got_cm, want_cm, rtol=RTOL_CONFUSION, atol=1e-12)
    else:
        assert np.issubdtype(got_cm.dtype, np.integer), got_cm.dtype
        np.testing.assert_array_equal(got_cm, want_cm)

    # explicit labels: reversed order, plus one never seen (an all-zero row and column)
    unseen = "unseen" if all_labels.dtype.kind in "US" else 12345
    chosen = [*all_labels[::-1].tolist(), unseen]
    want_sub = skm.confusion_matrix(y_true, y_pred, labels=chosen, sample_weight=weights)
    np.testing.assert_allclose(
        np.asarray(state.confusion_matrix(labels=chosen)), want_sub, rtol=RTOL_CONFUSION
    )

    binary = len(all_labels) == 2
    default_average = "binary" if binary else "weighted"
    kwargs = {"pos_label": pos_label} if pos_label is not None else {}
    want = expected_classification(
        y_true, y_pred, weights, default_average, pos_label if pos_label is not None else 1
    )
    assert_close(state.compute(**kwargs), want, RTOL_CONFUSION)
    for average in ["macro", "micro", "weighted"]:
        want = expected_classification(
            y_true, y_pred, weights, average, pos_label if pos_label is not None else 1
        )
        assert_close(state.compute(average=average, **kwargs), want, RTOL_CONFUSION)


def test_confusion_matrix_state_merge_grows_label_set():
    a = ConfusionMatrixState().update([0, 0, 1], [0, 1, 1])
    b = ConfusionMatrixState().update([5, 2], [2, 5])
    fresh = ConfusionMatrixState()
    merged = roundtrip(fresh).merge(a).merge(b)
    assert list(merged.labels) == [0, 1, 2, 5]
    np.testing.assert_array_equal(
        merged.confusion_matrix(), skm.confusion_matrix([0, 0, 1, 5, 2], [0, 1, 1, 2, 5])
    )
    # the merged-in states are not modified
    assert list(b.labels) == [2, 5]
    np.testing.assert_array_equal(b.confusion_matrix(), [[0, 1], [1, 0]])


def test_confusion_matrix_state_int_and_float_labels_are_one_label_set():
    """One partition read as int64, another as float64 (e.g. a column with NaNs elsewhere):
    scikit-learn on the concatenation sees the labels 0 and 1 once each."""
    a = ConfusionMatrixState().update(np.array([0, 1, 1]), np.array([0, 1, 0]))
    b = ConfusionMatrixState().update(np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    merged = roundtrip(a).merge(roundtrip(b))
    y_true, y_pred = np.array([0, 1, 1, 0.0, 1.0]), np.array([0, 1, 0, 1.0, 1.0])
    assert merged.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(merged.confusion_matrix(), skm.confusion_matrix(y_true, y_pred))


def test_confusion_matrix_state_rejects_mixed_label_types():
    ints = ConfusionMatrixState().update([0, 1], [1, 1])
    strs = ConfusionMatrixState().update(["a", "b"], ["b", "b"])
    with pytest.raises((TypeError, ValueError)):
        ints.merge(strs)
    np.testing.assert_array_equal(ints.confusion_matrix(), [[0, 1], [0, 1]])
    with pytest.raises((TypeError, ValueError)):
        ConfusionMatrixState().update([0, 1], ["a", "b"])


# -- RegressionState -------------------------------------------------------------------------
def regression_data(rng: np.random.Generator, nonnegative: bool, weighted: bool):
    n = int(rng.integers(500, 3000))
    if nonnegative:
        y_true = rng.lognormal(2.0, 0.7, size=n)
        y_pred = np.abs(y_true + rng.normal(0.0, 2.0, size=n))
    else:
        y_true = rng.normal(3.0, 5.0, size=n)
        y_pred = y_true + rng.normal(0.0, 2.0, size=n)
        y_true[np.abs(y_true) < 1e-3] = 1.0  # keep MAPE away from its epsilon branch
    weights = rng.uniform(0.1, 3.0, size=n) if weighted else None
    return y_true, y_pred, weights


def expected_regression(y_true, y_pred, weights) -> dict:
    kw = {"sample_weight": weights}
    sum_on_target = float(np.sum(y_true * weights) if weights is not None else np.sum(y_true))
    out = {
        "example_count": len(y_true),
        "mean_absolute_error": skm.mean_absolute_error(y_true, y_pred, **kw),
        "mean_squared_error": skm.mean_squared_error(y_true, y_pred, **kw),
        "root_mean_squared_error": skm.root_mean_squared_error(y_true, y_pred, **kw),
        "sum_on_target": sum_on_target,
        "mean_on_target": sum_on_target / len(y_true),
        "r2_score": skm.r2_score(y_true, y_pred, **kw),
        "explained_variance_score": skm.explained_variance_score(y_true, y_pred, **kw),
        "max_error": skm.max_error(y_true, y_pred),
        "mean_absolute_percentage_error": skm.mean_absolute_percentage_error(y_true, y_pred, **kw),
    }
    if (y_true >= 0).all() and (y_pred >= 0).all():
        out["mean_squared_log_error"] = skm.mean_squared_log_error(y_true, y_pred, **kw)
    return {k: (v if k == "example_count" else float(v)) for k, v in out.items()}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("nonnegative", [True, False], ids=["nonnegative", "signed"])
@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("seed", SEEDS)
def test_regression_state_matches_sklearn(seed, k, nonnegative, weighted):
    rng = np.random.default_rng([seed, k, nonnegative, weighted, 17])
    y_true, y_pred, weights = regression_data(rng, nonnegative, weighted)
    state = distributed(RegressionState, rng, [y_true, y_pred], weights, k)
    got = state.compute()
    assert ("mean_squared_log_error" in got) == nonnegative
    assert_close(got, expected_regression(y_true, y_pred, weights), RTOL_REGRESSION)


def test_regression_state_one_negative_partition_drops_msle():
    rng = np.random.default_rng(5)
    y = rng.uniform(1, 10, size=100)
    a = RegressionState().update(y, y + 1)
    b = RegressionState().update([-1.0, 2.0], [3.0, 4.0])
    assert "mean_squared_log_error" in a.compute()
    assert "mean_squared_log_error" not in roundtrip(a).merge(roundtrip(b)).compute()


def test_regression_state_msle_needs_nonnegative_values():
    """The contract: mean_squared_log_error only when every value is >= 0 (scikit-learn itself
    accepts values above -1)."""
    state = RegressionState().update([0.5, 2.0, 3.0], [1.0, -0.5, 3.0])
    assert "mean_squared_log_error" not in state.compute()


# -- BinaryScoreState: exact -----------------------------------------------------------------
SCORE_CASES = {
    # name: (labels, pos_label, score kind)
    "int-ties": ([0, 1], 1, "ties"),
    "int-continuous": ([0, 1], 1, "continuous"),
    "int-unbounded": ([-1, 1], 1, "unbounded"),  # decision_function-like scores
    "str-ties": (["neg", "pos"], "pos", "ties"),
    "int-pos0": ([0, 1], 0, "continuous"),
}


def score_data(rng: np.random.Generator, n: int, kind: str, weighted: bool):
    positive = rng.random(n) < rng.uniform(0.1, 0.6)
    noise = rng.normal(0.0, 1.0, size=n)
    if kind == "unbounded":
        score = positive * 1.0 + noise
    else:
        score = 1.0 / (1.0 + np.exp(-(positive * 1.5 - 0.75 + noise)))
        if kind == "ties":
            score = np.round(score, 2)  # heavy ties, including ties across partitions
    weights = rng.uniform(0.1, 3.0, size=n) if weighted else None
    return positive, score, weights


def expected_scores(positive, score, weights) -> dict:
    y = positive.astype(np.int64)
    return {
        "roc_auc": float(skm.roc_auc_score(y, score, sample_weight=weights)),
        "average_precision": float(skm.average_precision_score(y, score, sample_weight=weights)),
    }


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("case", list(SCORE_CASES))
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_score_state_exact_matches_sklearn(seed, case, k, weighted):
    labels, pos_label, kind = SCORE_CASES[case]
    rng = np.random.default_rng([seed, k, weighted, list(SCORE_CASES).index(case), 23])
    positive, score, weights = score_data(rng, int(rng.integers(500, 3000)), kind, weighted)
    negative = [lab for lab in labels if lab != pos_label][0]
    y_true = np.where(positive, pos_label, negative)
    if isinstance(pos_label, str):
        y_true = y_true.astype(str)

    def make():
        return BinaryScoreState(pos_label=pos_label)

    state = distributed(make, rng, [y_true, score], weights, k)
    assert_close(state.compute(), expected_scores(positive, score, weights), RTOL_SCORE)


@pytest.mark.parametrize("bins", [None, 100])
def test_binary_score_state_pos_label_survives_bytes(bins):
    """A state shipped to another process and updated there keeps its positive class."""
    y, score = ["neg", "pos", "pos", "neg", "pos"], [0.1, 0.8, 0.4, 0.3, 0.9]
    want = BinaryScoreState(bins=bins, pos_label="pos").update(y, score).compute()
    shipped = roundtrip(BinaryScoreState(bins=bins, pos_label="pos")).update(y, score)
    assert shipped.compute() == want
    assert roundtrip(BinaryScoreState(bins=bins, pos_label="pos").update(y, score)).merge(
        roundtrip(BinaryScoreState(bins=bins, pos_label="pos"))
    ).compute() == pytest.approx(want, rel=1e-12)


# -- BinaryScoreState: histogram -------------------------------------------------------------
def separable_uniform_scores(n: int, seed: int):
    """Many distinct scores in [0, 1] (uniform) with labels that depend on the score."""
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    positive = rng.random(n) < score
    return positive, score, rng


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_score_state_histogram_error_bound(seed, weighted):
    positive, score, rng = separable_uniform_scores(100_000, seed)
    score[:10] = [0.0, 1.0, 0.5, 0.25, 0.75, 0.01, 0.99, 0.001, 0.999, 1.0]  # bin edges
    weights = rng.uniform(0.1, 3.0, size=len(score)) if weighted else None
    exact = skm.roc_auc_score(positive.astype(int), score, sample_weight=weights)
    bounds = []
    for bins in (100, 1000, 10000):
        single = BinaryScoreState(bins=bins).update(positive.astype(int), score, weights)
        state = distributed(
            lambda bins=bins: BinaryScoreState(bins=bins),
            rng,
            [positive.astype(np.int64), score],
            weights,
            7,
        )
        bound = state.max_auc_error()
        assert math.isclose(bound, single.max_auc_error(), rel_tol=1e-12)
        got = state.compute()
        assert set(got) == {"roc_auc", "average_precision"}
        assert math.isclose(got["roc_auc"], single.compute()["roc_auc"], rel_tol=1e-12)
        assert abs(got["roc_auc"] - exact) <= bound + 1e-15, (bins, got["roc_auc"], exact, bound)
        assert 0.0 <= got["average_precision"] <= 1.0
        bounds.append(bound)
    assert bounds[0] > bounds[1] > bounds[2] >= 0.0, bounds
    assert bounds[2] < 0.01, bounds  # not vacuous: 10000 bins on 100k uniform scores


def test_binary_score_state_histogram_error_bound_holds_for_coarse_bins():
    """With coarse bins and scores concentrated in few bins the bound must still hold."""
    rng = np.random.default_rng(11)
    score = np.round(rng.beta(2, 5, size=20_000), 3)
    positive = rng.random(len(score)) < score
    exact = skm.roc_auc_score(positive.astype(int), score)
    for bins in (2, 10, 100):
        state = BinaryScoreState(bins=bins).update(positive.astype(int), score)
        assert abs(state.compute()["roc_auc"] - exact) <= state.max_auc_error() + 1e-15


def test_binary_score_state_histogram_rejects_out_of_range_scores():
    for bad in ([0.5, 1.5], [-0.1, 0.5], [0.5, float("nan")]):
        state = BinaryScoreState(bins=100).update([0, 1], [0.2, 0.8])
        before = state.compute()
        with pytest.raises(ValueError):
            state.update([0, 1], bad)
        assert state.compute() == before  # a rejected update leaves the state unchanged


# -- errors ----------------------------------------------------------------------------------
def filled(kind):
    if kind is ConfusionMatrixState:
        return ConfusionMatrixState().update([0, 1, 1, 2], [0, 1, 2, 2])
    if kind is RegressionState:
        return RegressionState().update([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    return BinaryScoreState().update([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.3])


def state_params():
    return [
        pytest.param(ConfusionMatrixState, id="confusion"),
        pytest.param(RegressionState, id="regression"),
        pytest.param(BinaryScoreState, id="score"),
    ]


# The message must say what is wrong with the bytes (any of these words will do).
GARBAGE_MESSAGE = (
    r"(?i)(invalid|corrupt|malformed|unreadable|decode|deserializ|truncat|unexpected|not a "
    r"|messagepack|msgpack)"
)


def kind_pattern(cls) -> str:
    """``BinaryScoreState`` -> matches "BinaryScoreState", "binary_score", "binary score"."""
    words = re.findall(r"[A-Z][a-z]*", cls.__name__.removesuffix("State"))
    return rf"{cls.__name__}|{'[ _]?'.join(words)}"


@pytest.mark.parametrize("kind", state_params())
def test_from_bytes_rejects_garbage(kind):
    rng = np.random.default_rng(3)
    for data in [
        b"",
        b"\x00",
        b"not a metric state",
        b"\xc1" * 16,  # 0xc1 is never used in MessagePack
        bytes(rng.integers(0, 256, size=64, dtype=np.uint8)),
    ]:
        with pytest.raises(ValueError, match=GARBAGE_MESSAGE):
            kind.from_bytes(data)


@pytest.mark.parametrize("kind", state_params())
def test_from_bytes_rejects_truncated(kind):
    data = filled(kind).to_bytes()
    assert len(data) > 2
    for cut in sorted({1, len(data) // 2, len(data) - 1}):
        with pytest.raises(ValueError, match=GARBAGE_MESSAGE):
            kind.from_bytes(data[:cut])


@pytest.mark.parametrize("kind", state_params())
def test_from_bytes_rejects_other_version(kind):
    data = filled(kind).to_bytes()
    for version in (0, 2, 127, 65535):
        patched = with_version(data, version)
        if patched is None:  # the state's own version
            continue
        with pytest.raises(ValueError, match=r"(?i)version"):
            kind.from_bytes(patched)


@pytest.mark.parametrize("kind", state_params())
@pytest.mark.parametrize("other", state_params())
def test_from_bytes_rejects_other_state_kind(kind, other):
    if kind is other:
        assert kind.from_bytes(filled(other).to_bytes()).compute() == filled(kind).compute()
        return
    for data in (filled(other).to_bytes(), other().to_bytes()):
        with pytest.raises(ValueError, match=rf"(?i)({kind_pattern(kind)}|{kind_pattern(other)})"):
            kind.from_bytes(data)


@pytest.mark.parametrize("kind", state_params())
@pytest.mark.parametrize("other", state_params())
def test_merge_other_kind_raises_type_error(kind, other):
    if kind is other:
        return
    state = filled(kind)
    before = state.compute()
    with pytest.raises(TypeError):
        state.merge(filled(other))
    with pytest.raises(TypeError):
        state.merge(object())
    assert state.compute() == before


def test_merge_binary_score_states_with_different_bins_raises():
    exact = filled(BinaryScoreState)
    with pytest.raises(ValueError, match=r"(?i)bin"):
        BinaryScoreState(bins=100).merge(BinaryScoreState(bins=1000))
    with pytest.raises(ValueError, match=r"(?i)bin"):
        BinaryScoreState(bins=100).merge(exact)
    with pytest.raises(ValueError, match=r"(?i)bin"):
        exact.merge(BinaryScoreState(bins=100).update([0, 1], [0.2, 0.8]))
    with pytest.raises(ValueError):
        BinaryScoreState(bins=0)


def test_merge_binary_score_states_with_different_pos_label_raises():
    with pytest.raises(ValueError):
        BinaryScoreState(pos_label=1).merge(BinaryScoreState(pos_label=0))


@pytest.mark.parametrize("kind", state_params())
def test_update_rejects_inconsistent_lengths(kind):
    state = filled(kind)
    before = state.compute()
    with pytest.raises(ValueError):
        state.update([0, 1, 1], [1, 0])
    with pytest.raises(ValueError):
        state.update([0, 1], [1, 0], sample_weight=[1.0, 2.0, 3.0])
    assert state.compute() == before


def test_regression_state_rejects_nan():
    with pytest.raises(ValueError):
        RegressionState().update([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError):
        RegressionState().update([1.0, 2.0], [float("inf"), 2.0])


@pytest.mark.parametrize("kind", state_params())
def test_fresh_state_roundtrips_and_merges(kind):
    full = filled(kind)
    merged = roundtrip(kind()).merge(full)
    assert merged.compute() == full.compute()
    assert roundtrip(full).merge(kind()).compute() == full.compute()


@pytest.mark.parametrize("kind", state_params())
def test_from_bytes_accepts_bytes_like(kind):
    """Spark collects BinaryType columns as ``bytearray``; buffers are the natural input."""
    data = filled(kind).to_bytes()
    want = filled(kind).compute()
    assert kind.from_bytes(bytearray(data)).compute() == want
    assert kind.from_bytes(memoryview(data)).compute() == want


# -- a minimal MessagePack reader to locate the format version -------------------------------
def _read(data: bytes, pos: int):
    """Decode one MessagePack object at ``pos`` -> (value, end, (int_start, int_len) or None)."""
    b = data[pos]
    if b <= 0x7F:
        return b, pos + 1, (pos, 1)
    if b >= 0xE0:
        return b - 0x100, pos + 1, (pos, 1)
    if 0x80 <= b <= 0x8F:
        return _read_map(data, pos + 1, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _read_array(data, pos + 1, b & 0x0F)
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return data[pos + 1 : pos + 1 + n].decode(), pos + 1 + n, None
    fixed = {0xC0: None, 0xC2: False, 0xC3: True}
    if b in fixed:
        return fixed[b], pos + 1, None
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h"}
    ints |= {0xD2: ">i", 0xD3: ">q"}
    if b in ints:
        size = struct.calcsize(ints[b])
        (value,) = struct.unpack_from(ints[b], data, pos + 1)
        return value, pos + 1 + size, (pos, 1 + size)
    if b in (0xCA, 0xCB):
        fmt = ">f" if b == 0xCA else ">d"
        return struct.unpack_from(fmt, data, pos + 1)[0], pos + 1 + struct.calcsize(fmt), None
    lengths = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
    if b in lengths:
        size = struct.calcsize(lengths[b])
        (n,) = struct.unpack_from(lengths[b], data, pos + 1)
        start = pos + 1 + size
        raw = data[start : start + n]
        return (raw if b <= 0xC6 else raw.decode()), start + n, None
    if b in (0xDC, 0xDD):
        fmt = ">H" if b == 0xDC else ">I"
        (n,) = struct.unpack_from(fmt, data, pos + 1)
        return _read_array(data, pos + 1 + struct.calcsize(fmt), n)
    if b in (0xDE, 0xDF):
        fmt = ">H" if b == 0xDE else ">I"
        (n,) = struct.unpack_from(fmt, data, pos + 1)
        return _read_map(data, pos + 1 + struct.calcsize(fmt), n)
    ext = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
    if b in ext:
        return ("ext", data[pos + 2 : pos + 2 + ext[b]]), pos + 2 + ext[b], None
    if b in (0xC7, 0xC8, 0xC9):
        fmt = {0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[b]
        (n,) = struct.unpack_from(fmt, data, pos + 1)
        start = pos + 1 + struct.calcsize(fmt) + 1
        return ("ext", data[start : start + n]), start + n, None
    raise ValueError(f"not MessagePack at {pos}: {b:#x}")


def _read_array(data, pos, n):
    items = []
    for _ in range(n):
        value, pos, where = _read(data, pos)
        items.append((value, where))
    return items, pos, None


def _read_map(data, pos, n):
    entries = {}
    for _ in range(n):
        key, pos, _ = _read(data, pos)
        value, pos, where = _read(data, pos)
        entries[key if not isinstance(key, list) else repr(key)] = (value, where)
    return entries, pos, None


VERSION_KEYS = ("version", "format_version", "schema_version", "v")


def version_location(data: bytes) -> tuple[int, int, int]:
    """(offset, length, value) of the format version integer in a serialized state: a
    ``version``-like key of the top-level map, else the first integer of the top-level array."""
    top, end, _ = _read(data, 0)
    assert end == len(data), "to_bytes() is one MessagePack object"
    if isinstance(top, dict):
        for key in VERSION_KEYS:
            if key in top and top[key][1] is not None:
                value, (start, length) = top[key]
                return start, length, value
    if isinstance(top, list):
        for value, where in top:
            if where is not None:
                return where[0], where[1], value
    raise AssertionError(f"no version field found in {top!r}")


def encode_uint(value: int) -> bytes:
    if value <= 0x7F:
        return bytes([value])
    if value <= 0xFF:
        return b"\xcc" + struct.pack(">B", value)
    return b"\xcd" + struct.pack(">H", value)


def with_version(data: bytes, version: int) -> bytes | None:
    start, length, current = version_location(data)
    if version == current:
        return None
    return data[:start] + encode_uint(version) + data[start + length :]


def test_version_patch_helper_keeps_the_payload_valid():
    """Guard for the helper above: re-writing the current version must round-trip."""
    data = filled(RegressionState).to_bytes()
    start, length, current = version_location(data)
    assert isinstance(current, int) and current >= 0
    same = data[:start] + encode_uint(current) + data[start + length :]
    assert RegressionState.from_bytes(same).compute() == filled(RegressionState).compute()


def test_merging_a_state_into_itself_doubles_it():
    y, p = [0, 1, 1, 0], [0, 1, 0, 0]
    doubled = ConfusionMatrixState().update(y, p)
    doubled.merge(doubled)
    np.testing.assert_array_equal(doubled.confusion_matrix(), skm.confusion_matrix(y + y, p + p))
    score = BinaryScoreState().update(y, [0.1, 0.8, 0.3, 0.4])
    assert score.merge(score).compute()["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y + y, [0.1, 0.8, 0.3, 0.4] * 2), rel=1e-12
    )


def test_every_empty_state_refuses_to_compute():
    for state in (ConfusionMatrixState(), RegressionState(), BinaryScoreState()):
        with pytest.raises(ValueError, match="no rows"):
            state.compute()
