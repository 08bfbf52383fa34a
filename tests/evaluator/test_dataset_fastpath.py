"""The vectorized dataset digest / schema requiredness give exactly MLflow's results.

Every frame is run through MLflow's original ``compute_pandas_digest`` / ``_infer_required`` /
``_infer_schema`` and through ours; results (or the raised exception) must be identical.
"""

from __future__ import annotations

import mlflow_oxide.evaluator  # noqa: F401  (installs the fast paths, as MLflow's import does)
import numpy as np
import pandas as pd
import pytest
from mlflow_oxide import _dataset_fastpath as fp

N = 300


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    floats = rng.normal(size=N)
    with_nan = floats.copy()
    with_nan[5] = np.nan
    ints = rng.integers(-5, 5, size=N)
    strs = np.array([f"s{i % 7}" for i in range(N)], dtype=object)
    strs_none = strs.copy()
    strs_none[3] = None
    mixed = np.array([i if i % 2 else f"x{i}" for i in range(N)], dtype=object)
    times = pd.Series(pd.date_range("2024-01-01", periods=N, freq="h"))
    times_nat = times.copy()
    times_nat[4] = pd.NaT
    frames = {
        "floats": pd.DataFrame({"a": floats, "b": floats * 2}),
        "floats_nan": pd.DataFrame({"a": with_nan, "b": floats}),
        "float32_nan": pd.DataFrame({"a": with_nan.astype(np.float32)}),
        "float16": pd.DataFrame({"a": floats.astype(np.float16)}),
        "all_nan": pd.DataFrame({"a": np.full(N, np.nan)}),
        "ints": pd.DataFrame({"a": ints, "u8": ints.astype(np.uint8), "i32": ints.astype("i4")}),
        "bools": pd.DataFrame({"a": ints > 0}),
        "complex": pd.DataFrame({"a": floats + 1j * with_nan}),
        "datetimes": pd.DataFrame({"t": times, "t_nat": times_nat}),
        "datetimes_tz": pd.DataFrame({"t": times.dt.tz_localize("UTC"), "n": times_nat}),
        "timedeltas": pd.DataFrame({"d": times_nat - times.iloc[0]}),
        "object_str": pd.DataFrame({"s": strs, "f": floats}),
        "object_str_none": pd.DataFrame({"s": strs_none, "f": floats}),
        "object_str_nan": pd.DataFrame({"s": np.where(ints > 3, np.nan, strs).astype(object)}),
        "object_str_pdna": pd.DataFrame({"s": np.where(ints > 3, pd.NA, strs).astype(object)}),
        "object_mixed": pd.DataFrame({"m": mixed, "i": ints}),
        "object_all_none": pd.DataFrame({"n": np.full(N, None, dtype=object), "i": ints}),
        "object_floats": pd.DataFrame({"o": with_nan.astype(object)}),
        "object_nat": pd.DataFrame({"o": np.where(ints > 3, pd.NaT, 1).astype(object)}),
        "string_dtype": pd.DataFrame({"s": pd.array(strs_none, dtype="string"), "f": floats}),
        "str_dtype_nan": pd.DataFrame({"s": pd.Series(strs_none).astype("str"), "i": ints}),
        "str_dtype_full": pd.DataFrame({"s": pd.Series(strs).astype("str"), "i": ints}),
        "categorical": pd.DataFrame({"c": pd.Categorical(strs), "f": floats}),
        "categorical_nan": pd.DataFrame({"c": pd.Categorical(strs_none), "f": floats}),
        "categorical_int": pd.DataFrame({"c": pd.Categorical(ints)}),
        "nullable_int": pd.DataFrame({"a": pd.array(np.where(ints > 3, None, ints), "Int64")}),
        "nullable_int_full": pd.DataFrame({"a": pd.array(ints, dtype="Int64")}),
        "nullable_uint8": pd.DataFrame({"a": pd.array(np.abs(ints), dtype="UInt8")}),
        "nullable_bool": pd.DataFrame(
            {"a": pd.array(np.where(ints > 3, None, ints > 0), "boolean")}
        ),
        "nullable_float": pd.DataFrame({"a": pd.array(with_nan, dtype="Float64")}),
        "nullable_float_nan": pd.DataFrame(
            {"a": pd.Series(pd.array([1.0, None], "Float64")) / pd.Series([0.0, 1.0])}
        ),
        "everything": pd.DataFrame(
            {
                "f": with_nan,
                "i": ints,
                "b": ints > 1,
                "s": strs,
                "t": times_nat,
                "c": pd.Categorical(strs),
                "n": pd.array(ints, dtype="Int64"),
            }
        ),
        "int_column_labels": pd.DataFrame({0: floats, 1: strs, 2: ints}),
        "rows_0": pd.DataFrame({"a": np.array([], dtype=float), "s": np.array([], dtype=object)}),
        "empty": pd.DataFrame(),
        "one_row_str": pd.DataFrame({"s": ["only"], "f": [1.5]}),
        "duplicate_columns": pd.DataFrame(np.c_[floats, floats, ints], columns=["a", "a", "b"]),
        "duplicate_str_columns": pd.DataFrame({"a": strs, "b": floats}).rename(columns={"b": "a"}),
        "multiindex_columns": pd.DataFrame(
            np.c_[floats, floats], columns=pd.MultiIndex.from_tuples([("x", 1), ("x", 2)])
        ),
        "non_default_index": pd.DataFrame({"a": floats, "s": strs}, index=np.arange(N)[::-1] * 3),
        "lists": pd.DataFrame({"l": [[i, i + 1] for i in range(N)], "f": floats}),
    }
    big = rng.normal(size=(20_000, 6))
    big[rng.integers(0, 20_000, 5), 2] = np.nan
    frames["wide_numeric"] = pd.DataFrame(big, columns=list("abcdef")).assign(
        y=rng.integers(0, 3, 20_000)
    )
    return frames


FRAMES = _frames()


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as e:  # the fast path must fail the same way
        return ("error", type(e).__name__, str(e))


@pytest.fixture
def stock(monkeypatch):
    """Run a callable with the fast paths off (MLFLOW_OXIDE_FAST_DATASETS=0)."""

    def run(fn, *args):
        with monkeypatch.context() as m:
            m.setenv("MLFLOW_OXIDE_FAST_DATASETS", "0")
            return _outcome(fn, *args)

    return run


def test_installed_in_mlflow_modules():
    import mlflow.data.digest_utils as du
    import mlflow.data.pandas_dataset as pdm
    import mlflow.types.utils as tu

    assert du.compute_pandas_digest is fp.compute_pandas_digest
    assert pdm.compute_pandas_digest is fp.compute_pandas_digest
    assert tu._infer_required is fp._infer_required
    fp.install()  # idempotent: still wraps the true originals
    assert fp.compute_pandas_digest.__wrapped__.__module__ == "mlflow.data.digest_utils"
    assert fp._infer_required.__wrapped__.__module__ == "mlflow.types.utils"


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_digest_and_schema_identical(name, stock, monkeypatch):
    from mlflow.types.utils import _infer_schema

    df = FRAMES[name]
    monkeypatch.delenv("MLFLOW_OXIDE_FAST_DATASETS", raising=False)
    digest = _outcome(fp.compute_pandas_digest, df)
    assert digest == _outcome(fp.compute_pandas_digest.__wrapped__, df)
    assert digest == stock(fp.compute_pandas_digest, df)

    assert _outcome(_infer_schema, df) == stock(_infer_schema, df)
    original = fp._infer_required.__wrapped__
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        assert _outcome(fp._infer_required, col) == _outcome(original, col), (name, i)


@pytest.mark.parametrize("name", ["floats_nan", "everything", "object_str_none", "rows_0"])
def test_from_pandas_dataset_identical(name, stock, monkeypatch):
    """What ``mlflow.models.evaluate`` logs: PandasDataset digest and schema."""
    import mlflow

    df = FRAMES[name]

    def describe(frame):
        ds = mlflow.data.from_pandas(frame, source="memory")
        return ds.digest, ds.schema, ds.profile

    monkeypatch.delenv("MLFLOW_OXIDE_FAST_DATASETS", raising=False)
    assert _outcome(describe, df) == stock(describe, df)


@pytest.mark.parametrize("value", ["0", "false", "off", "no"])
def test_env_var_delegates_at_call_time(value, monkeypatch):
    calls = []
    df = FRAMES["floats_nan"]
    real_digest = fp.compute_pandas_digest.__wrapped__
    real_required = fp._infer_required.__wrapped__
    monkeypatch.setattr(
        fp.compute_pandas_digest, "__wrapped__", lambda d: calls.append("d") or real_digest(d)
    )
    monkeypatch.setattr(
        fp._infer_required, "__wrapped__", lambda c: calls.append("r") or real_required(c)
    )
    monkeypatch.delenv("MLFLOW_OXIDE_FAST_DATASETS", raising=False)
    fp.compute_pandas_digest(df)
    fp._infer_required(df["a"])
    assert calls == []  # fast path taken
    monkeypatch.setenv("MLFLOW_OXIDE_FAST_DATASETS", value)
    fp.compute_pandas_digest(df)
    fp._infer_required(df["a"])
    assert calls == ["d", "r"]


def test_non_series_inputs_delegate():
    original = fp._infer_required.__wrapped__
    for value in [[1, None], [1.0, 2.0], [float("nan")], None, 3, float("nan"), pd.NA, "x"]:
        assert fp._infer_required(value) == original(value)


def test_fast_path_is_fast_on_numeric_frames():
    """The point of it: no per-cell Python on numeric columns (generous bound)."""
    import time

    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200_000, 10)))
    start = time.perf_counter()
    fp.compute_pandas_digest(df)
    for c in df.columns:
        fp._infer_required(df[c])
    assert time.perf_counter() - start < 0.5
