"""Turning what users pass (numpy, lists, pandas, pyarrow, polars) into numpy arrays the native
kernels borrow without copying when they are already contiguous float64/int64/bool."""

from __future__ import annotations

import numpy as np


class Decline(Exception):
    """The native path does not cover this input; scikit-learn's own function serves it
    (and raises its own error for invalid input)."""


def as_array(x, name: str) -> np.ndarray:
    """Any supported container -> numpy, zero-copy where the container allows it."""
    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__.split(".", 1)[0]
    if module == "pyarrow":
        if hasattr(x, "combine_chunks"):
            x = x.combine_chunks()
        if x.null_count:
            raise Decline(f"{name} has nulls")
        return x.to_numpy(zero_copy_only=False)
    if module == "polars":
        if x.null_count():
            raise Decline(f"{name} has nulls")
        return x.to_numpy()
    if module == "pandas":
        if hasattr(x, "dtype") and not isinstance(x.dtype, np.dtype):
            # Extension dtypes: plain strings (pandas 3's default) convert losslessly; the rest
            # (categorical, nullable, arrow-backed) follow scikit-learn's own conversion rules.
            if str(x.dtype) in ("str", "string") and not x.isna().any():
                return x.to_numpy(dtype=object)
            raise Decline(f"{name} has pandas dtype {x.dtype}")
        return x.to_numpy()
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise Decline(f"{name} is a {type(x).__name__}")


def column(x, name: str) -> np.ndarray:
    array = as_array(x, name)
    if array.ndim != 1:
        raise Decline(f"{name} is not 1-D")
    return array


def consistent_length(*arrays) -> int:
    lengths = {len(a) for a in arrays if a is not None}
    if len(lengths) > 1:
        raise Decline("inconsistent numbers of samples")
    (n,) = lengths
    if n == 0:
        raise Decline("empty input")
    return n


def weights(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = as_array(sample_weight, "sample_weight")
    if w.ndim != 1 or len(w) != n or w.dtype.kind not in "biuf":
        raise Decline("unusual sample_weight")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.isfinite(w).all():
        raise Decline("non-finite sample_weight")
    return w


def floats(x: np.ndarray) -> np.ndarray:
    """float64/float32 stay as they are (no copy when contiguous); other numbers become
    float64."""
    if x.dtype.kind not in "biuf":
        raise Decline("non-numeric values")
    if x.dtype in (np.float64, np.float32):
        return np.ascontiguousarray(x)
    return np.ascontiguousarray(x, dtype=np.float64)
