"""The same metric through every accepted container equals sklearn on the numpy equivalent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ._data import label_pair, proba_matrix, scores_binary, weights
from ._parity import assert_values_equal, expected_exception_class, ox, run, sk

pl = pytest.importorskip("polars")


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """Same values as ``a`` in a strided view (every other element of a larger buffer)."""
    buf = np.empty((len(a) * 2, *a.shape[1:]), dtype=a.dtype)
    buf[::2] = a
    buf[1::2] = a[::-1]
    view = buf[::2]
    assert not view.flags.c_contiguous or len(a) <= 1
    return view


def _chunked(a: np.ndarray):
    n = len(a)
    cuts = [0, n // 3, n // 3, 2 * n // 3, n]  # includes an empty chunk
    return pa.chunked_array([pa.array(a[i:j]) for i, j in zip(cuts, cuts[1:], strict=False)])


CONVERTERS_1D = {
    "numpy": lambda a: a,
    "list": lambda a: a.tolist(),
    "pandas": pd.Series,
    "pandas_arrow_backed": lambda a: pd.Series(pa.array(a), dtype=pd.ArrowDtype(pa.array(a).type)),
    "pyarrow_array": pa.array,
    "pyarrow_chunked": _chunked,
    "polars": pl.Series,
    "numpy_noncontiguous": _noncontiguous,
}


def _label_converters(kind):
    """name -> (converter for labels, converter for float sample weights)."""
    convs = {name: (f, f) for name, f in CONVERTERS_1D.items()}
    convs["numpy_column_vector"] = (lambda a: a.reshape(-1, 1), lambda w: w)
    convs["pandas_categorical"] = (lambda a: pd.Series(a, dtype="category"), pd.Series)
    nullable = {"int": "Int64", "str": "string", "bool": "boolean", "float_integral": "Float64"}
    convs["pandas_nullable"] = (
        lambda a: pd.Series(a).astype(nullable[kind]),
        lambda w: pd.Series(w).astype("Float64"),
    )
    return convs


CLASSIFICATION = [
    ("accuracy_score", {}),
    ("balanced_accuracy_score", {}),
    ("f1_score", {"average": "macro"}),
    ("precision_recall_fscore_support", {"average": None}),
    ("confusion_matrix", {}),
    ("matthews_corrcoef", {}),
]


def _classification_cases():
    for kind, k in [("int", 3), ("str", 3), ("bool", 2), ("float_integral", 4)]:
        for conv in _label_converters(kind):
            yield pytest.param(kind, k, conv, id=f"{kind}-{conv}")


@pytest.mark.parametrize(("kind", "k", "conv"), list(_classification_cases()))
@pytest.mark.parametrize(("name", "kwargs"), CLASSIFICATION, ids=[n for n, _ in CLASSIFICATION])
def test_classification_inputs(name, kwargs, kind, k, conv):
    y_true, y_pred = label_pair(kind, k, 90, 4)
    w = weights("zeros", 90, 4)
    f, fw = _label_converters(kind)[conv]
    expected = getattr(sk, name)(y_true, y_pred, sample_weight=w, **kwargs)
    ours = getattr(ox, name)(f(y_true), f(y_pred), sample_weight=fw(w), **kwargs)
    assert_values_equal(expected, ours, name)
    expected = getattr(sk, name)(y_true, y_pred, **kwargs)
    ours = getattr(ox, name)(f(y_true), f(y_pred), **kwargs)
    assert_values_equal(expected, ours, name)


SCORES = [
    ("roc_auc_score", {}),
    ("roc_auc_score", {"max_fpr": 0.4}),
    ("average_precision_score", {}),
    ("roc_curve", {}),
    ("precision_recall_curve", {}),
    ("log_loss", {}),
    ("brier_score_loss", {}),
    ("top_k_accuracy_score", {"k": 1}),
]


@pytest.mark.parametrize("label_kind", ["int", "bool"])
@pytest.mark.parametrize("conv", list(CONVERTERS_1D))
@pytest.mark.parametrize(("name", "kwargs"), SCORES, ids=[f"{n}{kw}" for n, kw in SCORES])
def test_score_inputs(name, kwargs, conv, label_kind):
    rng = np.random.default_rng(5)
    y01 = rng.integers(0, 2, 120)
    y_true = y01.astype(bool) if label_kind == "bool" else y01
    y_score = np.round(scores_binary(y01, 5), 2)  # ties
    w = weights("zeros", 120, 5)
    f = CONVERTERS_1D[conv]
    expected = getattr(sk, name)(y_true, y_score, sample_weight=w, **kwargs)
    ours = getattr(ox, name)(f(y_true), f(y_score), sample_weight=f(w), **kwargs)
    assert_values_equal(expected, ours, name)


@pytest.mark.parametrize("dtype", ["float32", "Float64"])
def test_score_inputs_pandas_float_dtypes(dtype):
    rng = np.random.default_rng(6)
    y01 = rng.integers(0, 2, 80)
    y_score = scores_binary(y01, 6)
    for name in ("roc_auc_score", "average_precision_score", "roc_curve"):
        expected = getattr(sk, name)(
            y01, y_score.astype(np.float32 if dtype == "float32" else float)
        )
        ours = getattr(ox, name)(pd.Series(y01), pd.Series(y_score).astype(dtype))
        assert_values_equal(expected, ours, name)


REGRESSION = [
    ("mean_squared_error", {}),
    ("root_mean_squared_error", {}),
    ("mean_absolute_error", {}),
    ("mean_absolute_percentage_error", {}),
    ("median_absolute_error", {}),
    ("r2_score", {}),
    ("explained_variance_score", {}),
    ("mean_pinball_loss", {"alpha": 0.3}),
    ("mean_squared_log_error", {}),
    ("max_error", {}),
]


def _regression_converters():
    convs = dict(CONVERTERS_1D)
    convs["pandas_nullable"] = lambda a: pd.Series(a).astype("Float64")
    return convs


@pytest.mark.parametrize("conv", list(_regression_converters()))
@pytest.mark.parametrize(("name", "kwargs"), REGRESSION, ids=[n for n, _ in REGRESSION])
def test_regression_inputs(name, kwargs, conv):
    rng = np.random.default_rng(7)
    y_true = np.abs(rng.normal(2, 1, 100))
    y_pred = np.abs(y_true + rng.normal(0, 0.5, 100))
    f = _regression_converters()[conv]
    expected = getattr(sk, name)(y_true, y_pred, **kwargs)
    ours = getattr(ox, name)(f(y_true), f(y_pred), **kwargs)
    assert_values_equal(expected, ours, name)
    if name != "max_error":
        w = weights("zeros", 100, 7)
        expected = getattr(sk, name)(y_true, y_pred, sample_weight=w, **kwargs)
        ours = getattr(ox, name)(f(y_true), f(y_pred), sample_weight=f(w), **kwargs)
        assert_values_equal(expected, ours, name)


@pytest.mark.parametrize("dtype", ["Int64", "Int8", "UInt8", "int32", "Int32"])
def test_regression_integer_pandas_dtypes(dtype):
    rng = np.random.default_rng(8)
    y_true = rng.integers(1, 60, 70)
    y_pred = rng.integers(1, 60, 70)
    for name in ("mean_squared_error", "r2_score", "mean_absolute_percentage_error", "max_error"):
        expected = getattr(sk, name)(y_true, y_pred)
        ours = getattr(ox, name)(pd.Series(y_true).astype(dtype), pd.Series(y_pred).astype(dtype))
        assert_values_equal(expected, ours, name)


# --- 2-D score matrices / multioutput targets -------------------------------------------------


def _matrix_converters():
    def strided(m):
        wide = np.empty((m.shape[0], m.shape[1] * 2))
        wide[:, ::2] = m
        wide[:, 1::2] = -1.0
        view = wide[:, ::2]
        assert not view.flags.c_contiguous
        return view

    return {
        "numpy": lambda m: m,
        "numpy_fortran": np.asfortranarray,
        "numpy_column_strided": strided,
        "numpy_row_strided": _noncontiguous,
        "list_of_lists": lambda m: m.tolist(),
        "pandas_dataframe": lambda m: pd.DataFrame(m, columns=[f"c{i}" for i in range(m.shape[1])]),
        "polars_dataframe": lambda m: pl.DataFrame(m, schema=[f"c{i}" for i in range(m.shape[1])]),
    }


MATRIX_METRICS = [
    ("roc_auc_score", {"multi_class": "ovr"}),
    ("roc_auc_score", {"multi_class": "ovo", "average": "weighted"}),
    ("log_loss", {}),
    ("top_k_accuracy_score", {"k": 2}),
    ("brier_score_loss", {}),
]


@pytest.mark.parametrize("conv", list(_matrix_converters()))
@pytest.mark.parametrize(
    ("name", "kwargs"), MATRIX_METRICS, ids=[f"{n}{kw}" for n, kw in MATRIX_METRICS]
)
def test_score_matrix_inputs(name, kwargs, conv):
    rng = np.random.default_rng(9)
    t = rng.integers(0, 4, 100)
    t[:4] = np.arange(4)
    proba = proba_matrix(t, 4, 9)
    y_true = np.array(["w", "x", "y", "z"])[t]
    f = _matrix_converters()[conv]
    expected = getattr(sk, name)(y_true, proba, **kwargs)
    ours = getattr(ox, name)(y_true, f(proba), **kwargs)
    assert_values_equal(expected, ours, name)
    ours = getattr(ox, name)(pd.Series(y_true), f(proba), **kwargs)
    assert_values_equal(expected, ours, name)


@pytest.mark.parametrize("conv", list(_matrix_converters()))
@pytest.mark.parametrize(
    ("name", "multioutput"),
    [
        ("mean_squared_error", "raw_values"),
        ("mean_absolute_error", "uniform_average"),
        ("r2_score", "variance_weighted"),
        ("explained_variance_score", "raw_values"),
        ("median_absolute_error", "raw_values"),
    ],
)
def test_multioutput_target_inputs(name, multioutput, conv):
    rng = np.random.default_rng(10)
    y_true = rng.normal(size=(80, 3))
    y_pred = y_true + rng.normal(size=(80, 3))
    f = _matrix_converters()[conv]
    expected = getattr(sk, name)(y_true, y_pred, multioutput=multioutput)
    ours = getattr(ox, name)(f(y_true), f(y_pred), multioutput=multioutput)
    assert_values_equal(expected, ours, name)


# --- missing values in containers: same exception class as sklearn on the same object ----------


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("accuracy_score", lambda: (pd.Series([0, 1, None, 1], dtype="Int64"), [0, 1, 1, 1])),
        ("mean_squared_error", lambda: (pd.Series([0.5, None, 2.0], dtype="Float64"), [1, 2, 3])),
        ("mean_squared_error", lambda: (pa.array([0.5, None, 2.0]), np.array([1.0, 2.0, 3.0]))),
        (
            "roc_auc_score",
            lambda: ([0, 1, 1, 0], pd.Series([0.1, None, 0.3, 0.2], dtype="Float64")),
        ),
        ("r2_score", lambda: (pl.Series([0.5, None, 2.0]), np.array([1.0, 2.0, 3.0]))),
    ],
    ids=["pandas-Int64-NA", "pandas-Float64-NA", "pyarrow-null", "pandas-score-NA", "polars-null"],
)
def test_missing_values_raise_like_sklearn(name, make):
    ref = run(getattr(sk, name), make(), {})
    ours = run(getattr(ox, name), make(), {})
    if ref.exc is None:
        assert ours.exc is None, f"sklearn returned {ref.value!r}; ours raised {ours.exc!r}"
        assert_values_equal(ref.value, ours.value, name)
        return
    cls = expected_exception_class(ref.exc)
    assert isinstance(ours.exc, cls), f"sklearn: {ref.exc!r}; ours: {ours.exc!r}"
    assert str(ours.exc).strip()
