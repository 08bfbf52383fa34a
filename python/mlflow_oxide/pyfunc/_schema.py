"""Input schema enforcement without MLflow's copies and Python loops, for the common case.

MLflow's ``_enforce_schema`` rebuilds the whole frame column by column (a full copy) and checks
long -> double conversions with a Python loop over every value. This module applies the same
rules to pandas frames with named, scalar column specs: columns already of the declared type
are passed on without copying (a lazy copy under pandas' copy-on-write, so the model cannot
alter the caller's frame), allowed widenings are converted, and the 0/1 check of long columns
runs natively. Everything else — refusals, missing columns, object columns that need type
inference, datetimes, nested types, tensors, unnamed schemas — returns ``None`` and is served
by MLflow's own enforcement, which therefore raises MLflow's own errors.

pyarrow tables and record batches and polars frames are enforced as their pandas conversion.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mlflow_oxide import _native

# MLflow's logger for the extra-columns warning (``mlflow.models.utils``).
_models_logger = logging.getLogger("mlflow.models.utils")


def as_pandas(data):
    """pyarrow and polars tables as pandas frames; anything else unchanged."""
    module = type(data).__module__.split(".", 1)[0]
    if module == "pyarrow" and type(data).__name__ in ("Table", "RecordBatch"):
        return data.to_pandas()
    if module == "polars" and type(data).__name__ == "DataFrame":
        return data.to_pandas()
    return data


def _convert(values: pd.Series, declared) -> pd.Series | None:
    """The column as MLflow's ``_enforce_mlflow_datatype`` returns it, or ``None`` when this
    module leaves the column to MLflow."""
    from mlflow.types import DataType

    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return values if declared in (DataType.string, DataType.binary) else None
    if declared == DataType.string and isinstance(dtype, pd.StringDtype):
        return values
    if declared == DataType.binary and isinstance(dtype, pd.StringDtype):
        return values
    if declared.to_pandas() == dtype or declared.to_numpy() == dtype:
        return values
    if not isinstance(dtype, np.dtype) or declared in (
        DataType.binary,
        DataType.datetime,
        DataType.boolean,
    ):
        return None
    target = declared.to_numpy()
    if dtype.kind == target.kind:
        widening = dtype.itemsize <= target.itemsize
    elif dtype.kind == "u" and target.kind == "i":
        widening = dtype.itemsize < target.itemsize
    elif dtype.kind in ("i", "u") and target == np.float64:
        widening = dtype.itemsize <= 6
    else:
        widening = False
    if widening:
        return values.astype(target, errors="raise")
    if (
        dtype == np.int64
        and target in (np.float32, np.float64)
        and _native.all_zero_or_one(np.ascontiguousarray(values.to_numpy()))
    ):
        return values.astype(target, errors="raise")
    return None


def enforce(data, schema) -> pd.DataFrame | None:
    """``data`` enforced against ``schema`` exactly as MLflow would, or ``None`` when MLflow's
    own enforcement must run (including every refusal)."""
    from mlflow.types import DataType

    if not isinstance(data, pd.DataFrame) or schema.is_tensor_spec():
        return None
    if not schema.has_input_names():
        return None
    specs = schema.inputs
    if not all(isinstance(spec.type, DataType) for spec in specs):
        return None
    columns = data.columns
    if not columns.is_unique:
        return None
    required = set(schema.required_input_names())
    optional = set(schema.optional_input_names())
    actual_cols = set(columns)
    if required - actual_cols:
        return None
    present = {spec.name: spec.type for spec in specs if spec.name in actual_cols}
    converted = {}
    for name, declared in present.items():
        column = data[name]
        values = _convert(column, declared)
        if values is None:
            return None
        if values is not column:
            converted[name] = values
    extra = actual_cols - required - optional
    if extra:
        # MLflow's wording and order (iteration over the set of input columns).
        extra_cols = [c for c in actual_cols if c in extra]
        _models_logger.warning(
            "Found extra inputs in the model input that are not defined in the model "
            f"signature: `{extra_cols}`. These inputs will be ignored."
        )
    names = list(present)
    # A shallow copy keeps the frame's single block (the model converts it to one array
    # without interleaving columns); copy-on-write keeps the model from altering the caller's
    # frame. The column index is rebuilt from the names, as MLflow's new frame has it.
    out = data.copy(deep=False) if list(columns) == names else data[names]
    for name, values in converted.items():
        out[name] = values
    out.columns = pd.Index(names)
    return out
