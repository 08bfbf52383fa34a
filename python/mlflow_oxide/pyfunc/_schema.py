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


_KEEP = "keep"
_ZERO_ONE = "zero_one"
_ASTYPE = "astype"
_MAX_PLANS = 64


def _action(dtype, declared):
    """What MLflow's ``_enforce_mlflow_datatype`` does to a column of ``dtype`` declared
    ``declared``, decided from the dtype alone: ``(_KEEP,)``, ``(_ASTYPE, target)``,
    ``(_ZERO_ONE, target)`` (convert if every value is 0 or 1), or ``None`` when this module
    leaves the column to MLflow."""
    from mlflow.types import DataType

    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return (_KEEP,) if declared in (DataType.string, DataType.binary) else None
    if declared in (DataType.string, DataType.binary) and isinstance(dtype, pd.StringDtype):
        return (_KEEP,)
    if declared.to_pandas() == dtype or declared.to_numpy() == dtype:
        return (_KEEP,)
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
        return (_ASTYPE, target)
    if dtype == np.int64 and target in (np.float32, np.float64):
        return (_ZERO_ONE, target)
    return None


class _Plan:
    """How to enforce frames with one given list of columns and dtypes."""

    def __init__(self, names, conversions, extra_cols, same_columns):
        self.names = names
        self.conversions = conversions  # [(name, action, target)]
        self.extra_cols = extra_cols
        self.same_columns = same_columns
        # MLflow's new frame gets a column index built from the names: built once here.
        self.index = pd.Index(names)


class Enforcer:
    """MLflow's enforcement of one input schema for pandas frames, with the decisions that
    depend only on the columns and their dtypes made once per distinct layout."""

    def __init__(self, schema):
        from mlflow.types import DataType

        self.schema = schema
        self._usable = (
            not schema.is_tensor_spec()
            and schema.has_input_names()
            and all(isinstance(spec.type, DataType) for spec in schema.inputs)
        )
        if self._usable:
            self._specs = [(spec.name, spec.type) for spec in schema.inputs]
            self._required = set(schema.required_input_names())
            self._optional = set(schema.optional_input_names())
        self._plans: dict[tuple, _Plan | None] = {}

    def _plan(self, data: pd.DataFrame) -> _Plan | None:
        columns = data.columns
        if not columns.is_unique:
            return None
        actual_cols = set(columns)
        if self._required - actual_cols:
            return None
        dtypes = dict(zip(columns, data.dtypes, strict=True))
        names, conversions = [], []
        for name, declared in self._specs:
            if name not in actual_cols:
                continue
            action = _action(dtypes[name], declared)
            if action is None:
                return None
            names.append(name)
            if action[0] != _KEEP:
                conversions.append((name, action[0], action[1]))
        extra = actual_cols - self._required - self._optional
        # MLflow's wording and order (iteration over the set of input columns).
        extra_cols = [c for c in actual_cols if c in extra]
        return _Plan(names, conversions, extra_cols, list(columns) == names)

    def __call__(self, data) -> pd.DataFrame | None:
        """``data`` enforced exactly as MLflow would, or ``None`` when MLflow's own enforcement
        must run (including every refusal)."""
        if not self._usable or not isinstance(data, pd.DataFrame):
            return None
        try:
            key = (tuple(data.columns), tuple(data.dtypes))
            plan = self._plans[key] if key in self._plans else self._remember(key, data)
        except TypeError:  # unhashable labels or dtypes
            plan = self._plan(data)
        if plan is None:
            return None
        converted = {}
        for name, action, target in plan.conversions:
            column = data[name]
            if action == _ZERO_ONE and not _native.all_zero_or_one(
                np.ascontiguousarray(column.to_numpy())
            ):
                return None  # MLflow refuses it, with its message
            converted[name] = column.astype(target, errors="raise")
        if plan.extra_cols:
            _models_logger.warning(
                "Found extra inputs in the model input that are not defined in the model "
                f"signature: `{plan.extra_cols}`. These inputs will be ignored."
            )
        # A shallow copy keeps the frame's single block (the model converts it to one array
        # without interleaving columns); copy-on-write keeps the model from altering the
        # caller's frame.
        out = data.copy(deep=False) if plan.same_columns else data[plan.names]
        for name, values in converted.items():
            out[name] = values
        out.columns = plan.index
        return out

    def _remember(self, key, data) -> _Plan | None:
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        plan = self._plans[key] = self._plan(data)
        return plan
