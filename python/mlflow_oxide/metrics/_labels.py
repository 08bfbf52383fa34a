"""Class labels: numeric labels go to the native kernels as int64 or float64; string and
other object labels are factorized (hash-based, not sorted per row) into int64 codes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlflow_oxide import _native
from mlflow_oxide.metrics._inputs import Decline


@dataclass
class Columns:
    """Label columns in the native representation, and the label values they stand for."""

    columns: list[np.ndarray]
    # Sorted unique labels over all columns, in the columns' common dtype.
    labels: np.ndarray
    # The native key of each label (int64 or float64), aligned with `labels`.
    keys: np.ndarray


def _numeric(arrays: list[np.ndarray]) -> Columns:
    dtype = np.result_type(*arrays)
    if dtype.kind == "f":
        cols = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
        for c in cols:
            _native.assert_finite(c)
    elif dtype.kind in "biu":
        if dtype == np.uint64:
            raise Decline("uint64 labels")
        cols = [np.ascontiguousarray(a, dtype=np.int64) for a in arrays]
    else:
        raise Decline(f"labels of dtype {dtype}")
    keys = _native.unique_labels(cols)
    return Columns(cols, keys.astype(dtype), keys)


def _objects(arrays: list[np.ndarray]) -> Columns:
    joined = np.concatenate([np.asarray(a, dtype=object) for a in arrays])
    kinds = {type(v) for v in pd.unique(joined)}
    if not kinds <= {str} and not kinds <= {str, np.str_}:
        raise Decline("labels that are not all strings")
    codes, uniques = pd.factorize(joined, sort=True)
    cols, start = [], 0
    for a in arrays:
        cols.append(np.ascontiguousarray(codes[start : start + len(a)], dtype=np.int64))
        start += len(a)
    labels = np.asarray(uniques, dtype=np.result_type(*[a.dtype for a in arrays]))
    return Columns(cols, labels, np.arange(len(uniques), dtype=np.int64))


def native_dtype(*arrays: np.ndarray):
    """The common dtype of numeric label columns, and the native type they travel as."""
    dtype = np.result_type(*arrays)
    if dtype.kind == "f":
        return dtype, np.float64
    if dtype.kind in "biu" and dtype != np.uint64:
        return dtype, np.int64
    raise Decline(f"labels of dtype {dtype}")


def columns(*arrays: np.ndarray) -> Columns:
    kinds = {a.dtype.kind for a in arrays}
    if kinds <= set("biuf"):
        return _numeric(list(arrays))
    if kinds <= set("UO"):
        return _objects(list(arrays))
    raise Decline("mixed label kinds")


def is_integral(labels: np.ndarray) -> bool:
    return labels.dtype.kind != "f" or bool(np.all(labels == np.round(labels)))
