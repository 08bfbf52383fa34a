"""``OxidePyFuncModel.predict`` schema enforcement against stock ``PyFuncModel.predict``.

Models are ``Recorder`` python models (they hand back exactly the frame the enforcement
delivered, and keep the params) saved with column-based, unnamed, tensor and params
signatures, plus the sklearn models of the suite. Every case predicts on stock and on ours with
equal inputs and compares: the frame the model received (dtypes, columns, order, values, index),
the params it received (value types included), the warnings logged, or the refusal (exception
type, error_code, message, JSON). pyarrow tables and polars frames given to ours are compared
with stock on their ``.to_pandas()``. The caller's input must not be modified."""

from __future__ import annotations

import copy
import datetime
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

from tests.pyfunc._models import FromExample, Mutator, Recorder, TypedEcho
from tests.pyfunc.conftest import (
    PIP_OK,
    assert_same_value,
    capture_logs,
    load_ours,
    load_stock,
    outcome,
    typed,
)

UNSET = object()

PARAMS = ParamSchema(
    [
        ParamSpec("n", "long", 10),
        ParamSpec("i", "integer", 3),
        ParamSpec("t", "double", 0.5),
        ParamSpec("f", "float", 0.25),
        ParamSpec("s", "string", "a"),
        ParamSpec("b", "boolean", True),
        ParamSpec("l", "long", [1, 2], (-1,)),
        ParamSpec("ls", "string", ["a"], (-1,)),
        ParamSpec("dt", "datetime", datetime.datetime(2024, 1, 1, 12, 30)),
    ]
)

SINGLE_TYPES = ["long", "integer", "double", "float", "string", "boolean", "datetime", "binary"]

SIGNATURES = {
    **{f"single-{t}": ModelSignature(inputs=Schema([ColSpec(t, "x")])) for t in SINGLE_TYPES},
    "multi": ModelSignature(
        inputs=Schema(
            [
                ColSpec("long", "a"),
                ColSpec("double", "b"),
                ColSpec("string", "c"),
                ColSpec("double", "d", required=False),
                ColSpec("boolean", "e", required=False),
            ]
        )
    ),
    "unnamed": ModelSignature(
        inputs=Schema([ColSpec("double"), ColSpec("double"), ColSpec("long")])
    ),
    "params": ModelSignature(inputs=Schema([ColSpec("double", "x")]), params=PARAMS),
    "tensor": ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, 3))])),
    "none": None,
}


@pytest.fixture(scope="module")
def recorders(tmp_path_factory):
    """``{signature name: (stock model, our model)}``, each loaded once."""
    import mlflow.pyfunc

    root = tmp_path_factory.mktemp("recorders")
    out = {}
    for name, signature in SIGNATURES.items():
        path = root / name
        mlflow.pyfunc.save_model(
            str(path), python_model=Recorder(), signature=signature, pip_requirements=PIP_OK
        )
        out[name] = (load_stock(path), load_ours(path))
    return out


@pytest.fixture(scope="module")
def sklearn_pairs(saved):
    return {
        kind: (load_stock(saved[kind]), load_ours(saved[kind])) for kind in ("lr", "rf", "nosig")
    }


def _snapshot(data):
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.copy(deep=True)
    return copy.deepcopy(data)


def _to_ours(data, via: str | None):
    if via == "arrow":
        return pa.Table.from_pandas(data, preserve_index=False)
    if via == "polars":
        import polars as pl

        return pl.from_pandas(data)
    return data


def _to_stock(data, via: str | None):
    return data if via is None else _to_ours(data, via).to_pandas()


def compare_predict(pair, make, params=UNSET, via: str | None = None, recorded: bool = True):
    """Predict ``make()`` on both models; assert equal outcomes. Returns stock's outcome."""
    stock_model, our_model = pair
    kwargs = {} if params is UNSET else {"params": params}
    stock_input = _to_stock(make(), via)
    our_input = _to_ours(make(), via)
    before = _snapshot(our_input) if via is None else None
    if recorded:
        stock_model.unwrap_python_model().seen = None
        our_model.unwrap_python_model().seen = None
    with capture_logs() as stock_logs:
        stock = outcome(stock_model.predict, stock_input, **kwargs)
    with capture_logs() as our_logs:
        ours = outcome(our_model.predict, our_input, **kwargs)
    assert ours[0] == stock[0], f"ours: {ours}\nstock: {stock}"
    if stock[0] == "error":
        assert ours[1] == stock[1]
    else:
        assert_same_value(ours[1], stock[1], "model input")
        if recorded:
            seen_stock = stock_model.unwrap_python_model().seen
            seen_ours = our_model.unwrap_python_model().seen
            assert typed(seen_ours[1]) == typed(seen_stock[1]), "params given to the model"
    assert our_logs.texts() == stock_logs.texts()
    if before is not None:
        assert_same_value(our_input, before, "caller's input after predict")
    return stock


# --- single column, every input dtype against every column type ------------------------------

INTS = [3, -1, 7, 2]
BITS = [1, 0, 1, 1]
UINTS = [3, 0, 7, 2]
FLOATS = [1.5, -2.0, 3.25, 0.0]
INTEGRAL = [3.0, -1.0, 7.0, 2.0]
STAMPS = ["2024-01-02 03:04:05", "2024-02-03", "1999-12-31 23:59:59", "2024-01-02"]


def _col(values, dtype=None):
    return lambda: pd.Series(values, dtype=dtype, name="x")


COLUMNS = {
    "int8": _col(INTS, "int8"),
    "int16": _col(INTS, "int16"),
    "int32": _col(INTS, "int32"),
    "int64": _col(INTS, "int64"),
    "int8-01": _col(BITS, "int8"),
    "int32-01": _col(BITS, "int32"),
    "int64-01": _col(BITS, "int64"),
    "uint8": _col(UINTS, "uint8"),
    "uint16": _col(UINTS, "uint16"),
    "uint32": _col(UINTS, "uint32"),
    "uint64": _col(UINTS, "uint64"),
    "uint64-01": _col(BITS, "uint64"),
    "float16": _col(FLOATS, "float16"),
    "float32": _col(FLOATS, "float32"),
    "float64": _col(FLOATS, "float64"),
    "float64-integral": _col(INTEGRAL, "float64"),
    "float64-nan-integral": _col([3.0, np.nan, 7.0, 2.0], "float64"),
    "float64-nan": _col([1.5, np.nan, 3.25, 0.0], "float64"),
    "float32-nan-integral": _col([3.0, np.nan, 7.0, 2.0], "float32"),
    "float64-all-nan": _col([np.nan] * 4, "float64"),
    "bool": _col([True, False, True, True], "bool"),
    "object-bool-none": _col([True, False, None, True], object),
    "object-str": _col(["a", "b", "c", "d"], object),
    "str-default": lambda: pd.Series(["a", "b", "c", "d"], name="x"),
    "str-nan": lambda: pd.Series(["a", None, "c", "d"], name="x"),
    "string-python": _col(["a", "b", None, "d"], "string[python]"),
    "string-pyarrow": _col(["a", "b", None, "d"], "string[pyarrow]"),
    "object-mixed": _col([1, "a", 2.5, None], object),
    "object-int": _col(INTS, object),
    "object-float": _col(FLOATS, object),
    "object-none": _col([None] * 4, object),
    "Int64": _col(INTS, "Int64"),
    "Int64-na": _col([3, None, 7, 2], "Int64"),
    "Int32": _col(INTS, "Int32"),
    "Float64": _col(FLOATS, "Float64"),
    "boolean": _col([True, False, None, True], "boolean"),
    "datetime64-ns": lambda: pd.Series(pd.to_datetime(STAMPS, format="mixed"), name="x").astype(
        "M8[ns]"
    ),
    "datetime64-s": lambda: pd.Series(pd.to_datetime(STAMPS, format="mixed"), name="x").astype(
        "M8[s]"
    ),
    "datetime64-ms": lambda: pd.Series(pd.to_datetime(STAMPS, format="mixed"), name="x").astype(
        "M8[ms]"
    ),
    "datetime-tz": lambda: pd.Series(
        pd.to_datetime(STAMPS, format="mixed"), name="x"
    ).dt.tz_localize("UTC"),
    "object-datetime": _col([datetime.datetime(2024, 1, d, 5) for d in range(1, 5)], object),
    "object-date": _col([datetime.date(2024, 1, d) for d in range(1, 5)], object),
    "object-date-strings": _col(STAMPS, object),
    "object-bad-date-strings": _col(["2024-01-02", "not a date", "x", "y"], object),
    "bytes": _col([b"a", b"bc", b"", b"\x00\xff"], object),
    "numpy-bytes": lambda: pd.Series(np.array([b"a", b"bc", b"", b"d"], dtype="S2"), name="x"),
    "category": lambda: pd.Series(pd.Categorical(["a", "b", "a", "c"]), name="x"),
    "timedelta": lambda: pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="s"), name="x"),
    "decimal": _col([decimal.Decimal("1.5"), decimal.Decimal("2"), None, decimal.Decimal("-3")]),
    "complex": _col([1 + 2j, 0j, 3j, 1 + 0j], "complex128"),
    "arrow-int64": _col(INTS, "int64[pyarrow]"),
    "arrow-int32": _col(INTS, "int32[pyarrow]"),
    "arrow-double": _col(FLOATS, "double[pyarrow]"),
    "arrow-bool": _col([True, False, None, True], "bool[pyarrow]"),
    "arrow-timestamp": lambda: pd.Series(pd.to_datetime(STAMPS, format="mixed"), name="x").astype(
        "timestamp[us][pyarrow]"
    ),
    "sparse-float": _col(FLOATS, pd.SparseDtype("float64", 0.0)),
    "period": lambda: pd.Series(pd.period_range("2024-01", periods=4, freq="M"), name="x"),
}


@pytest.mark.parametrize("column", list(COLUMNS))
@pytest.mark.parametrize("col_type", SINGLE_TYPES)
def test_single_column(recorders, col_type, column):
    compare_predict(recorders[f"single-{col_type}"], lambda: COLUMNS[column]().to_frame())


# A few columns through pyarrow and polars: ours is given the table, stock its pandas form.
ARROW_COLUMNS = [
    "int32",
    "int64",
    "int64-01",
    "float32",
    "float64-nan-integral",
    "bool",
    "object-str",
    "datetime64-ms",
    "Int64-na",
    "bytes",
]


@pytest.mark.parametrize("via", ["arrow", "polars"])
@pytest.mark.parametrize("column", ARROW_COLUMNS)
@pytest.mark.parametrize("col_type", ["long", "double", "float", "string", "datetime"])
def test_single_column_arrow_inputs(recorders, col_type, column, via):
    compare_predict(recorders[f"single-{col_type}"], lambda: COLUMNS[column]().to_frame(), via=via)


# Large columns: a vectorized fast path must decide on every value (one odd value at the end).
N = 20_000


def _large(kind: str):
    def make():
        rng = np.random.default_rng(7)
        if kind == "int64-01":
            values = rng.integers(0, 2, N)
        elif kind == "int64-01-last-2":
            values = rng.integers(0, 2, N)
            values[-1] = 2
        elif kind == "int64-01-last-neg":
            values = rng.integers(0, 2, N)
            values[-1] = -1
        elif kind == "int32":
            values = np.arange(N, dtype="int32")
        elif kind == "float64-nan-last":
            values = np.arange(N, dtype="float64")
            values[-1] = np.nan
        elif kind == "float64-fraction-last":
            values = np.arange(N, dtype="float64")
            values[-1] = 0.5
        elif kind == "float32":
            values = rng.random(N, dtype="float32")
        elif kind == "object-str":
            values = pd.Series([f"s{i}" for i in range(N)], dtype=object)
        elif kind == "object-str-last-int":
            values = pd.Series([f"s{i}" for i in range(N - 1)] + [5], dtype=object)
        elif kind == "object-int-last-str":
            values = pd.Series(list(range(N - 1)) + ["x"], dtype=object)
        elif kind == "str-dtype-none":
            values = pd.Series([f"s{i}" for i in range(N - 1)] + [None], dtype="str")
        elif kind == "bool":
            values = rng.integers(0, 2, N).astype(bool)
        elif kind == "datetime-nat":
            values = pd.Series(pd.date_range("2020-01-01", periods=N, freq="min"))
            values.iloc[-1] = pd.NaT
            values = values.astype("M8[ms]")
        else:
            raise ValueError(kind)
        index = pd.RangeIndex(100, 100 + 2 * N, 2)
        return pd.DataFrame({"x": pd.Series(values).to_numpy()}, index=index).astype(
            {"x": pd.Series(values).dtype}
        )

    return make


LARGE = [
    "int64-01",
    "int64-01-last-2",
    "int64-01-last-neg",
    "int32",
    "float64-nan-last",
    "float64-fraction-last",
    "float32",
    "object-str",
    "object-str-last-int",
    "object-int-last-str",
    "str-dtype-none",
    "bool",
    "datetime-nat",
]


@pytest.mark.parametrize("column", LARGE)
@pytest.mark.parametrize("col_type", ["long", "double", "float", "string", "boolean", "datetime"])
def test_single_column_large(recorders, col_type, column):
    compare_predict(recorders[f"single-{col_type}"], _large(column))


@pytest.mark.parametrize("via", ["arrow", "polars"])
@pytest.mark.parametrize("column", ["int64-01", "int32", "float64-nan-last", "object-str"])
@pytest.mark.parametrize("col_type", ["long", "double", "float", "string"])
def test_single_column_large_arrow_inputs(recorders, col_type, column, via):
    compare_predict(recorders[f"single-{col_type}"], _large(column), via=via)


# --- several named columns, required and optional --------------------------------------------


def _base(**changes):
    def make():
        df = pd.DataFrame(
            {
                "a": np.array([1, 2, 3], dtype="int64"),
                "b": np.array([0.5, 1.5, 2.5]),
                "c": pd.Series(["x", "y", "z"], dtype=object),
                "d": np.array([0.1, 0.2, 0.3]),
                "e": np.array([True, False, True]),
            }
        )
        for key, value in changes.items():
            if value is None:
                df = df.drop(columns=[key])
            else:
                df[key] = value
        return df

    return make


def _reorder(columns, **changes):
    return lambda: _base(**changes)()[columns]


def _with_index(index):
    def make():
        df = _base()()
        df.index = index
        return df

    return make


MULTI_FRAMES = {
    "full": _base(),
    "reversed-columns": _reorder(["e", "d", "c", "b", "a"]),
    "shuffled-columns": _reorder(["c", "a", "e", "b", "d"]),
    "no-optionals": _base(d=None, e=None),
    "only-optional-d": _base(e=None),
    "extra-one": _base(z=[9, 9, 9]),
    "extra-many": _base(z1=1, z2=2.0, z3="s", z4=True, z5=[1, 2, 3], zz=0),
    "missing-a": _base(a=None),
    "missing-a-b-with-extras": _base(a=None, b=None, q=1, r=2, s=3),
    "missing-c-optional-present": _base(c=None),
    "wrong-case-name": lambda: _base()().rename(columns={"a": "A"}),
    "a-int32": _base(a=np.array([1, 2, 3], dtype="int32")),
    "a-uint8": _base(a=np.array([1, 2, 3], dtype="uint8")),
    "a-float": _base(a=[1.0, 2.0, 3.0]),
    "a-float-nan": _base(a=[1.0, np.nan, 3.0]),
    "b-int64-01": _base(b=np.array([0, 1, 1], dtype="int64")),
    "b-int64": _base(b=np.array([5, 1, 1], dtype="int64")),
    "b-int32": _base(b=np.array([5, 1, 1], dtype="int32")),
    "b-float32": _base(b=np.array([0.5, 1.5, 2.5], dtype="float32")),
    "c-int": _base(c=[1, 2, 3]),
    "c-str-dtype": _base(c=pd.Series(["x", None, "z"], dtype="str")),
    "c-none": _base(c=pd.Series([None, None, None], dtype=object)),
    "d-nan": _base(d=[np.nan, 0.2, np.nan]),
    "d-none-object": _base(d=pd.Series([None, 0.2, None], dtype=object)),
    "d-int64": _base(d=np.array([4, 5, 6], dtype="int64")),
    "e-object-none": _base(e=pd.Series([True, None, False], dtype=object)),
    "e-int": _base(e=[1, 0, 1]),
    "two-bad-columns": _base(a=[1.5, 2.5, 3.5], b=np.array([7, 8, 9], dtype="int64")),
    "index-custom": _with_index([10, 20, 30]),
    "index-strings": _with_index(["r1", "r2", "r3"]),
    "index-unsorted-dupes": _with_index([5, 5, 1]),
    "index-multi": _with_index(pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])),
    "index-datetime": _with_index(pd.date_range("2024-01-01", periods=3)),
    "empty-rows": lambda: _base()().iloc[0:0],
    "empty-rows-object": lambda: pd.DataFrame(
        {k: pd.Series([], dtype=object) for k in ("a", "b", "c")}
    ),
    "duplicate-column": lambda: pd.concat([_base()(), _base()()[["a"]]], axis=1),
    "int-column-name-extra": lambda: pd.concat([_base()(), pd.DataFrame({0: [7, 8, 9]})], axis=1),
    "column-index-named": lambda: _base()().rename_axis("features", axis=1),
    "single-row": lambda: _base()().iloc[[1]],
    "sliced-view": lambda: _base()().iloc[::2],
}


@pytest.mark.parametrize("frame", list(MULTI_FRAMES))
def test_named_columns(recorders, frame):
    compare_predict(recorders["multi"], MULTI_FRAMES[frame])


ARROW_FRAMES = [
    "full",
    "reversed-columns",
    "no-optionals",
    "extra-one",
    "missing-a",
    "a-int32",
    "a-float-nan",
    "b-int64-01",
    "b-int64",
    "d-nan",
    "index-custom",
    "empty-rows",
]


@pytest.mark.parametrize("via", ["arrow", "polars"])
@pytest.mark.parametrize("frame", ARROW_FRAMES)
def test_named_columns_arrow_inputs(recorders, frame, via):
    compare_predict(recorders["multi"], MULTI_FRAMES[frame], via=via)


def test_extra_columns_really_warn(recorders):
    """Guard of the scenario: stock warns about dropped columns, so the log comparison above
    is not comparing two empty lists."""
    stock_model, _ = recorders["multi"]
    with capture_logs() as logs:
        stock_model.predict(_base(z=1)())
    assert any("extra inputs" in text for _, text in logs.texts()), logs.texts()


# --- other Python inputs for a named schema --------------------------------------------------

OTHER_INPUTS = {
    "dict-of-lists": lambda: {"a": [1, 2], "b": [0.5, 1.5], "c": ["x", "y"]},
    "dict-of-arrays": lambda: {
        "a": np.array([1, 2], dtype="int32"),
        "b": np.array([0.5, 1.5]),
        "c": np.array(["x", "y"]),
    },
    "dict-of-scalars": lambda: {"a": 1, "b": 0.5, "c": "x"},
    "dict-scalars-and-list": lambda: {"a": 1, "b": 0.5, "c": ["x", "y"]},
    "dict-2d-array": lambda: {"a": np.array([[1, 2]]), "b": np.array([0.5]), "c": ["x"]},
    "dict-ragged": lambda: {"a": [1, 2, 3], "b": [0.5], "c": ["x", "y"]},
    "dict-missing": lambda: {"a": [1, 2], "c": ["x", "y"]},
    "list-of-dicts": lambda: [{"a": 1, "b": 0.5, "c": "x"}, {"a": 2, "b": 1.5, "c": "y"}],
    "list-of-lists": lambda: [[1, 0.5, "x"], [2, 1.5, "y"]],
    "numpy-2d": lambda: np.array([[1.0, 0.5, 2.0], [2.0, 1.5, 3.0]]),
    "series": lambda: pd.Series([1, 2, 3], name="a"),
    "scalar": lambda: 5,
    "string": lambda: "text",
    "none": lambda: None,
}


@pytest.mark.parametrize("data", list(OTHER_INPUTS))
def test_other_inputs_named(recorders, data):
    compare_predict(recorders["multi"], OTHER_INPUTS[data])


SINGLE_INPUTS = {
    "numpy-1d-float": lambda: np.array([1.0, 2.5]),
    "numpy-1d-int32": lambda: np.array([1, 2], dtype="int32"),
    "numpy-1d-int64": lambda: np.array([1, 2], dtype="int64"),
    "list-floats": lambda: [1.0, 2.5],
    "list-ints": lambda: [1, 2],
    "series-named": lambda: pd.Series([1.0, 2.5], name="x"),
    "series-unnamed": lambda: pd.Series([1.0, 2.5]),
    "dict-scalar": lambda: {"x": 1.5},
    "scalar": lambda: 1.5,
}


@pytest.mark.parametrize("data", list(SINGLE_INPUTS))
@pytest.mark.parametrize("col_type", ["double", "long", "string"])
def test_other_inputs_single_column(recorders, col_type, data):
    compare_predict(recorders[f"single-{col_type}"], SINGLE_INPUTS[data])


# --- unnamed and tensor schemas --------------------------------------------------------------

UNNAMED_INPUTS = {
    "frame": lambda: pd.DataFrame({"p": [0.5, 1.5], "q": [2.5, 3.5], "r": [1, 2]}),
    "frame-int32": lambda: pd.DataFrame({"p": [1, 2], "q": [3, 4], "r": [5, 6]}, dtype="int32"),
    "frame-int64": lambda: pd.DataFrame({"p": [5, 2], "q": [3, 4], "r": [5, 6]}),
    "frame-int64-01": lambda: pd.DataFrame({"p": [0, 1], "q": [1, 1], "r": [5, 6]}),
    "frame-extra-column": lambda: pd.DataFrame({"p": [0.5], "q": [2.5], "r": [1], "s": ["extra"]}),
    "frame-two-columns": lambda: pd.DataFrame({"p": [0.5], "q": [2.5]}),
    "frame-r-float": lambda: pd.DataFrame({"p": [0.5], "q": [2.5], "r": [1.5]}),
    "numpy-float": lambda: np.array([[0.5, 1.5, 2.0], [2.5, 3.5, 4.0]]),
    "numpy-int": lambda: np.array([[5, 1, 2], [2, 3, 4]]),
    "list-of-lists": lambda: [[0.5, 1.5, 2], [2.5, 3.5, 4]],
    "index-custom": lambda: pd.DataFrame(
        {"p": [0.5, 1.5], "q": [2.5, 3.5], "r": [1, 2]}, index=["u", "v"]
    ),
}


@pytest.mark.parametrize("data", list(UNNAMED_INPUTS))
def test_unnamed_columns(recorders, data):
    compare_predict(recorders["unnamed"], UNNAMED_INPUTS[data])


TENSOR_INPUTS = {
    "float64": lambda: np.arange(6, dtype="float64").reshape(2, 3),
    "float32": lambda: np.arange(6, dtype="float32").reshape(2, 3),
    "int64": lambda: np.arange(6, dtype="int64").reshape(2, 3),
    "wrong-shape": lambda: np.arange(8, dtype="float64").reshape(2, 4),
    "frame": lambda: pd.DataFrame(np.arange(6, dtype="float64").reshape(2, 3)),
    "list": lambda: [[0.0, 1.0, 2.0]],
}


@pytest.mark.parametrize("data", list(TENSOR_INPUTS))
def test_tensor_schema(recorders, data):
    compare_predict(recorders["tensor"], TENSOR_INPUTS[data])


NO_SCHEMA_INPUTS = {
    "frame": _base(),
    "numpy": lambda: np.array([[1, 2], [3, 4]]),
    "dict": lambda: {"a": [1, 2]},
    "list": lambda: [1, 2, 3],
}


@pytest.mark.parametrize("data", list(NO_SCHEMA_INPUTS))
@pytest.mark.parametrize("params", [UNSET, None, {}, {"k": 1}], ids=["unset", "none", "{}", "k"])
def test_no_signature(recorders, data, params):
    compare_predict(recorders["none"], NO_SCHEMA_INPUTS[data], params=params)


# --- params ----------------------------------------------------------------------------------

PARAM_CASES = {
    "unset": UNSET,
    "none": None,
    "empty": {},
    "long": {"n": 5},
    "long-np-int64": {"n": np.int64(5)},
    "long-np-int32": {"n": np.int32(5)},
    "long-float": {"n": 5.5},
    "long-integral-float": {"n": 5.0},
    "long-str": {"n": "5"},
    "long-bool": {"n": True},
    "long-none": {"n": None},
    "long-list": {"n": [1]},
    "integer-big": {"i": 2**40},
    "integer-np-int8": {"i": np.int8(4)},
    "double-int": {"t": 1},
    "double-np-float32": {"t": np.float32(1.5)},
    "float-double": {"f": 1.5},
    "float-int": {"f": 2},
    "string-int": {"s": 1},
    "string": {"s": "x"},
    "string-np-str": {"s": np.str_("x")},
    "bool-str": {"b": "yes"},
    "bool-int": {"b": 1},
    "bool-np": {"b": np.bool_(False)},
    "list": {"l": [1, 2, 3]},
    "list-scalar": {"l": 5},
    "list-floats": {"l": [1.5]},
    "list-numpy": {"l": np.array([1, 2])},
    "list-empty": {"l": []},
    "list-nested": {"l": [[1]]},
    "strings": {"ls": ["x", "y"]},
    "strings-scalar": {"ls": "x"},
    "datetime-str": {"dt": "2024-02-03"},
    "datetime-str-time": {"dt": "2024-02-03T04:05:06"},
    "datetime-int": {"dt": 5},
    "datetime-bad": {"dt": "not a date"},
    "datetime-date": {"dt": datetime.date(2024, 1, 1)},
    "datetime-np": {"dt": np.datetime64("2024-01-01T00:00:01")},
    "unknown": {"unknown": 1},
    "known-and-unknown": {"n": 5, "unknown": 1},
    "non-string-key": {1: 2},
    "two-invalid": {"n": 5.5, "s": 1},
    "not-a-dict": ["n"],
    "string-params": "n=5",
    "all": {
        "n": 1,
        "i": 2,
        "t": 3.0,
        "f": 4,
        "s": "5",
        "b": False,
        "l": [6],
        "ls": ["7"],
        "dt": "2024-08-09",
    },
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
def test_params_schema(recorders, case):
    compare_predict(
        recorders["params"], lambda: pd.DataFrame({"x": [1.0, 2.0]}), params=PARAM_CASES[case]
    )


def test_data_refusal_precedes_params_refusal(recorders):
    result = compare_predict(
        recorders["params"],
        lambda: pd.DataFrame({"x": np.array([5, 6], dtype="int64")}),
        params={"n": 5.5},
    )
    assert result[0] == "error"


@pytest.mark.parametrize("case", ["unset", "none", "long", "unknown", "not-a-dict"])
def test_params_without_params_schema(recorders, case):
    compare_predict(recorders["multi"], _base(), params=PARAM_CASES[case])


# --- refusals are MLflow's -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "make"),
    [
        ("single-long", COLUMNS["float64-nan-integral"]),
        ("single-float", COLUMNS["int32"]),
        ("single-double", COLUMNS["int64"]),
        ("single-float", COLUMNS["float64"]),
    ],
    ids=["float-nan-to-long", "int-to-float32", "int64-to-double", "double-to-float"],
)
def test_refusals_are_invalid_parameter_value(recorders, sig, make):
    """The refusals the feature lists: stock refuses them with INVALID_PARAMETER_VALUE, and so
    must ours (also covered by the parity cases above; this names them)."""
    from mlflow.exceptions import MlflowException

    _, ours = recorders[sig]
    with pytest.raises(MlflowException) as info:
        ours.predict(make().to_frame())
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    if sig == "single-long":
        assert "Hint: the type mismatch is likely caused by missing values" in str(info.value)


# --- real sklearn models ---------------------------------------------------------------------


def _X(fitted, change=None):
    def make():
        X = fitted.X.iloc[::5].copy()
        return change(X) if change else X

    return make


SKLEARN_CASES = {
    "float64": None,
    "int32": lambda X: X.round().astype("int32"),
    "int64": lambda X: X.round().astype("int64"),
    "float32": lambda X: X.astype("float32"),
    "reversed-columns": lambda X: X[X.columns[::-1]],
    "extra-column": lambda X: X.assign(extra="e"),
    "missing-column": lambda X: X.drop(columns=X.columns[0]),
    "with-nan": lambda X: X.mask(X > 6.5),
    "object-columns": lambda X: X.astype(object),
    "numpy": lambda X: X.to_numpy(),
    "records": lambda X: X.to_dict(orient="records"),
    "dict-of-lists": lambda X: X.to_dict(orient="list"),
}


@pytest.mark.parametrize("case", list(SKLEARN_CASES))
@pytest.mark.parametrize("kind", ["lr", "rf", "nosig"])
def test_sklearn_predictions(sklearn_pairs, fitted, kind, case):
    compare_predict(sklearn_pairs[kind], _X(fitted, SKLEARN_CASES[case]), recorded=False)


@pytest.mark.parametrize("via", ["arrow", "polars"])
@pytest.mark.parametrize("case", ["float64", "int32", "reversed-columns", "with-nan"])
def test_sklearn_predictions_arrow_inputs(sklearn_pairs, fitted, case, via):
    make = _X(fitted, SKLEARN_CASES[case])
    compare_predict(sklearn_pairs["lr"], make, via=via, recorded=False)


# --- signatures from type hints and from input examples --------------------------------------


@pytest.fixture(scope="module")
def hinted(tmp_path_factory):
    """``typed``: signature from the predict type hints; ``example-*``: a Recorder whose
    signature comes from a dict / list-of-dicts input example; ``from-example-*``: a
    ``TypeFromExample`` model (the frame goes back to the example's format)."""
    import warnings

    import mlflow.pyfunc

    root = tmp_path_factory.mktemp("hinted")
    specs = {
        "typed": dict(python_model=TypedEcho()),
        "example-dict": dict(python_model=Recorder(), input_example={"a": 1, "b": "x"}),
        "example-records": dict(
            python_model=Recorder(), input_example=[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
        ),
        "from-example-list": dict(python_model=FromExample(), input_example=["x", "y"]),
        "from-example-frame": dict(
            python_model=FromExample(), input_example=pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
        ),
    }
    out = {}
    for name, kwargs in specs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.pyfunc.save_model(str(root / name), pip_requirements=PIP_OK, **kwargs)
        out[name] = (load_stock(root / name), load_ours(root / name))
    return out


TYPED_INPUTS = {
    "strings": lambda: ["a", "b"],
    "ints": lambda: [1, 2],
    "frame": lambda: pd.DataFrame({"x": ["a", "b"]}),
    "numpy-str": lambda: np.array(["a", "b"]),
    "string": lambda: "a",
}


@pytest.mark.parametrize("data", list(TYPED_INPUTS))
def test_signature_from_type_hints(hinted, data):
    compare_predict(hinted["typed"], TYPED_INPUTS[data], recorded=False)


EXAMPLE_INPUTS = {
    "dict": lambda: {"a": 3, "b": "z"},
    "records": lambda: [{"a": 3, "b": "z"}, {"a": 4, "b": "w"}],
    "frame": lambda: pd.DataFrame({"a": [3, 4], "b": ["z", "w"]}),
    "frame-int32": lambda: pd.DataFrame({"a": np.array([3, 4], dtype="int32"), "b": ["z", "w"]}),
    "frame-float": lambda: pd.DataFrame({"a": [3.5, 4.0], "b": ["z", "w"]}),
    "frame-missing": lambda: pd.DataFrame({"a": [3, 4]}),
    "list-of-strings": lambda: ["p", "q"],
    "single-column-frame": lambda: pd.DataFrame({0: ["p", "q"]}),
}


@pytest.mark.parametrize("data", list(EXAMPLE_INPUTS))
@pytest.mark.parametrize(
    "model", ["example-dict", "example-records", "from-example-list", "from-example-frame"]
)
def test_signature_from_input_example(hinted, model, data):
    compare_predict(hinted[model], EXAMPLE_INPUTS[data])


# --- the caller's frame belongs to the caller ------------------------------------------------


@pytest.fixture(scope="module")
def mutators(tmp_path_factory):
    import mlflow.pyfunc

    root = tmp_path_factory.mktemp("mutators")
    out = {}
    for name in ("multi", "single-double", "none"):
        mlflow.pyfunc.save_model(
            str(root / name),
            python_model=Mutator(),
            signature=SIGNATURES[name],
            pip_requirements=PIP_OK,
        )
        out[name] = (load_stock(root / name), load_ours(root / name))
    return out


MUTATED_INPUTS = {
    "multi-exact": ("multi", _base()),
    "multi-extra-column": ("multi", _base(z=[1, 2, 3])),
    "multi-reordered": ("multi", _reorder(["e", "d", "c", "b", "a"])),
    "multi-a-int32": ("multi", _base(a=np.array([1, 2, 3], dtype="int32"))),
    "double-exact": ("single-double", COLUMNS["float64"]),
    "double-from-int32": ("single-double", COLUMNS["int32"]),
    "no-signature": ("none", _base()),
}


@pytest.mark.parametrize("case", list(MUTATED_INPUTS))
def test_model_mutating_its_input(mutators, case):
    """A model that writes into the frame it receives: what the caller passed to ``predict``
    must end as it does on stock (where the enforcement hands the model its own frame)."""
    name, make = MUTATED_INPUTS[case]

    def frame():
        data = make()
        return data.to_frame() if isinstance(data, pd.Series) else data

    stock_model, our_model = mutators[name]
    stock_input, our_input = frame(), frame()
    stock = outcome(stock_model.predict, stock_input)
    ours = outcome(our_model.predict, our_input)
    assert ours[0] == stock[0] == "ok", (ours, stock)
    assert_same_value(ours[1], stock[1], "prediction")
    assert_same_value(our_input, stock_input, "caller's frame after predict")


# --- same columns and dtypes, different values, one after the other ---------------------------

SEQUENCES = {
    # int64 -> double/float is allowed only when every value is 0 or 1
    "double": ["int64-01", "int64", "int64-01", "int64", "int64-01"],
    "float": ["int64", "int64-01", "int64", "int64-01"],
    # the missing-values hint depends on the values (NaN present, all integral)
    "long": ["float64-nan-integral", "float64-nan", "float64-integral", "float64-nan-integral"],
    "integer": ["float64-nan", "float64-nan-integral", "float64-all-nan", "float64-nan"],
    # object columns are typed by their values (infer_objects)
    "string": ["object-int", "object-str", "object-mixed", "object-int", "object-none"],
    "boolean": ["object-bool-none", "object-int", "object-str", "object-bool-none"],
    "datetime": [
        "object-date-strings",
        "object-bad-date-strings",
        "object-datetime",
        "object-bad-date-strings",
        "object-str",
    ],
    "binary": ["bytes", "object-str", "object-int", "bytes"],
}


@pytest.mark.parametrize("col_type", list(SEQUENCES))
def test_same_layout_different_values(recorders, col_type):
    """Decisions that depend on values must be taken again for every input, whatever was
    decided for an earlier input with the same columns and dtypes."""
    for _ in range(2):
        for column in SEQUENCES[col_type]:
            compare_predict(
                recorders[f"single-{col_type}"], lambda c=column: COLUMNS[c]().to_frame()
            )


@pytest.mark.parametrize("rows", [3, 20_000])
def test_same_layout_different_values_named(recorders, rows):
    def frame(b_values):
        def make():
            df = _base()()
            df = df.iloc[np.arange(rows) % 3].reset_index(drop=True)
            df["b"] = np.resize(np.array(b_values, dtype="int64"), rows)
            return df

        return make

    for b in ([0, 1, 1], [0, 1, 2], [1, 1, 0], [5, 5, 5], [0, 0, 0]):
        compare_predict(recorders["multi"], frame(b))
        compare_predict(recorders["multi"], frame(b), via="arrow")
