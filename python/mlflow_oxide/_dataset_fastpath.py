"""Vectorized stand-ins for the two per-cell Python loops ``mlflow.models.evaluate`` runs on a
pandas dataset before any evaluator starts.

* ``mlflow.data.digest_utils.compute_pandas_digest`` evaluates ``df.map(type) == str`` over the
  whole frame (every cell boxed and typed in Python) only to learn which columns hold nothing but
  ``str``. A column whose dtype is numpy bool/int/uint/float/complex/datetime/timedelta boxes to
  ``bool``/``int``/``float``/``complex``/``Timestamp``/``Timedelta``/``NaT`` and so can never be
  all-``str`` in a non-empty frame; only the remaining columns go through MLflow's own
  expression. Everything after that mask is MLflow's code verbatim, so the digest is the same
  string.
* ``mlflow.types.utils._infer_required`` walks a column cell by cell looking for
  ``None``/``NaN``/``pd.NA``/``NaT``. For numpy bool/int/uint columns (no missing value is
  representable) the answer is ``True``; for numpy float it is "no NaN"; for datetime/timedelta
  (cells are ``Timestamp``/``Timedelta`` or ``NaT``) and pandas' nullable Int/UInt/boolean
  (cells are numpy scalars or ``pd.NA``) it is ``not isna().any()``.

Any other input (object, string, categorical, Float64, arrow or other extension dtypes, lists,
empty frames, duplicate or MultiIndex column labels) goes to MLflow's original function.
``MLFLOW_OXIDE_FAST_DATASETS=0`` (read at call time) sends every call to the originals.
``tests/evaluator/test_dataset_fastpath.py`` checks equality on many frames.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd

_ENV = "MLFLOW_OXIDE_FAST_DATASETS"
_MARK = "_mlflow_oxide_fastpath"

# numpy dtype kinds whose cells box to non-str Python/pandas scalars.
_NEVER_STR_KINDS = frozenset("biufcmM")


def enabled() -> bool:
    """Whether the fast paths are active (``MLFLOW_OXIDE_FAST_DATASETS``, default on)."""
    return os.environ.get(_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _original_digest():
    import mlflow.data.digest_utils as du

    fn = du.compute_pandas_digest
    return getattr(fn, "__wrapped__", fn)


def _original_infer_required():
    import mlflow.types.utils as tu

    fn = tu._infer_required
    return getattr(fn, "__wrapped__", fn)


def _never_str(dtype) -> bool:
    return (isinstance(dtype, np.dtype) and dtype.kind in _NEVER_STR_KINDS) or isinstance(
        dtype, pd.DatetimeTZDtype
    )


def _plain_frame(df) -> bool:
    """A non-empty DataFrame with unique, flat column labels: the shape the fast path covers."""
    return (
        isinstance(df, pd.DataFrame)
        and not df.empty
        and not isinstance(df.columns, pd.MultiIndex)
        and df.columns.is_unique
    )


def _string_column_mask(df: pd.DataFrame) -> np.ndarray:
    """``(df.map(type) == str).all(0)`` as a positional bool array, evaluating MLflow's
    expression only on the columns whose dtype does not already rule the answer out."""
    mask = np.zeros(df.shape[1], dtype=bool)
    others = [i for i, dtype in enumerate(df.dtypes) if not _never_str(dtype)]
    if others:
        sub = df.iloc[:, others]
        # MLflow's exact expression (elementwise DataFrame comparison, not a type check).
        mask[others] = np.asarray((sub.map(type) == str).all(axis=0), dtype=bool)  # noqa: E721
    return mask


def compute_pandas_digest(df) -> str:
    original = _original_digest()
    if not enabled() or not _plain_frame(df):
        return original(df)

    from packaging.version import Version

    if Version(pd.__version__) < Version("2.1.0"):
        return original(df)

    from mlflow.data.digest_utils import MAX_ROWS, get_normalized_md5_digest

    # From here on: MLflow's compute_pandas_digest with only the string-column mask replaced.
    trimmed_df = df.head(MAX_ROWS)
    string_columns = trimmed_df.columns[_string_column_mask(df)]
    numeric_columns = trimmed_df.select_dtypes(include=[np.number]).columns

    desired_columns = string_columns.union(numeric_columns)
    trimmed_df = trimmed_df[desired_columns]

    return get_normalized_md5_digest(
        [
            pd.util.hash_pandas_object(trimmed_df).values,
            np.int64(len(df)),
        ]
        + [str(x).encode() for x in df.columns]
    )


def _fast_required(col: pd.Series) -> bool | None:
    """``_infer_required(col)`` for dtypes where it is provable, else ``None``."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biu":
            return True
        if dtype.kind == "f":
            return not bool(np.isnan(col.to_numpy()).any())
        if dtype.kind in "mM":
            return not bool(col.isna().any())
        return None
    if isinstance(dtype, _NA_OR_NON_NAN_DTYPES):
        return not bool(col.isna().any())
    return None


# Cells are numpy scalars / Timestamps or exactly pd.NA / pd.NaT. (Float64 is left out: its
# data can hold an unmasked NaN that iteration yields but isna() does not report.)
_NA_OR_NON_NAN_DTYPES = (
    pd.DatetimeTZDtype,
    pd.BooleanDtype,
    pd.Int8Dtype,
    pd.Int16Dtype,
    pd.Int32Dtype,
    pd.Int64Dtype,
    pd.UInt8Dtype,
    pd.UInt16Dtype,
    pd.UInt32Dtype,
    pd.UInt64Dtype,
)


def _infer_required(col) -> bool:
    if enabled() and isinstance(col, pd.Series):
        fast = _fast_required(col)
        if fast is not None:
            return fast
    return _original_infer_required()(col)


def install() -> None:
    """Swap the vectorized versions into MLflow's modules (idempotent)."""
    import mlflow.data.digest_utils as du
    import mlflow.data.pandas_dataset  # noqa: F401  (imports compute_pandas_digest by name)
    import mlflow.types.utils as tu

    orig_digest = _original_digest()
    orig_required = _original_infer_required()
    compute_pandas_digest.__wrapped__ = orig_digest
    _infer_required.__wrapped__ = orig_required
    setattr(compute_pandas_digest, _MARK, True)
    setattr(_infer_required, _MARK, True)

    tu._infer_required = _infer_required
    # Every already-imported module that bound the original by name, e.g. pandas_dataset and
    # huggingface_dataset; modules imported later read it from digest_utils (patched here).
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("mlflow")
            and getattr(module, "__dict__", {}).get("compute_pandas_digest") is orig_digest
        ):
            module.compute_pandas_digest = compute_pandas_digest
    du.compute_pandas_digest = compute_pandas_digest
