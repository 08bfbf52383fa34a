"""Turning one column of any supported container into what the drift kernels take.

NaN policy: in the table report and in the functions this package defines itself (PSI,
binned divergences, normalized Wasserstein, categorical tests), nulls (None, NaN, pandas NA,
Arrow/polars nulls) are left out of the test and counted, so each sample's null share can be
reported next to the statistic. Infinite values in a numeric sample are an error. The
scipy-compatible functions (``ks_2samp``, ``wasserstein_distance``, ``anderson_ksamp``,
``cramervonmises_2samp``) keep scipy's behaviour: inputs with NaN are handed to scipy."""

from __future__ import annotations

import numpy as np


def _module(x) -> str:
    return type(x).__module__.split(".")[0]


def is_numeric_dtype(x) -> bool:
    """Whether a column holds numbers (bool counts as categorical)."""
    kind = _module(x)
    if kind == "pandas":
        import pandas as pd

        return pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype)
    if kind == "pyarrow":
        import pyarrow as pa

        t = x.type
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    if kind == "polars":
        return x.dtype.is_numeric()
    a = np.asarray(x)
    return a.dtype.kind in "iuf"


def numeric(x, name: str) -> tuple[np.ndarray, int]:
    """Non-null values as a contiguous float64 (float32 kept) array, and how many nulls were
    left out."""
    kind = _module(x)
    if kind == "pandas":
        import pandas as pd

        if not (pd.api.types.is_numeric_dtype(x.dtype) or pd.api.types.is_bool_dtype(x.dtype)):
            if x.dtype != object:
                raise TypeError(f"{name} is not numeric: dtype {x.dtype}")
            return numeric(x.to_numpy(), name)
        if isinstance(x.dtype, np.dtype):
            a = x.to_numpy()
        else:
            a = x.to_numpy(dtype=np.float64, na_value=np.nan)
    elif kind == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (is_numeric_dtype(x) or pa.types.is_boolean(x.type)):
            raise TypeError(f"{name} is not numeric: {x.type}")
        a = pc.cast(x, "float64").to_numpy(zero_copy_only=False)
    elif kind == "polars":
        import polars as pl

        if not (x.dtype.is_numeric() or x.dtype == pl.Boolean):
            raise TypeError(f"{name} is not numeric: {x.dtype}")
        a = x.cast(pl.Float64).to_numpy() if x.dtype != pl.Float32 else x.to_numpy()
    else:
        a = np.asarray(x)
        if a.dtype == object:
            try:
                a = np.array([np.nan if v is None else v for v in a.ravel()], dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"{name} is not numeric") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} is not numeric: dtype {a.dtype}")
    if a.dtype not in (np.float64, np.float32):
        a = a.astype(np.float64)
    if np.isfinite(a).all():  # the common case, one pass
        return np.ascontiguousarray(a), 0
    missing = np.isnan(a)
    nulls = int(missing.sum())
    if nulls:
        a = a[~missing]
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains infinite values")
    return np.ascontiguousarray(a), nulls


def categories(x, name: str) -> tuple[list, np.ndarray, int]:
    """Distinct non-null values in first-seen order, their counts, and the null count (None,
    NaN, NA and Arrow/polars nulls). Counting runs in Arrow's or pandas' hash tables."""
    kind = _module(x)
    if kind == "polars":
        x = x.to_arrow()
        kind = "pyarrow"
    if kind == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(x, pa.ChunkedArray):
            x = x.combine_chunks()
        nulls = x.null_count
        x = x.drop_null()
        if pa.types.is_floating(x.type):
            nan = pc.is_nan(x)
            nulls += pc.sum(nan).as_py() or 0
            x = x.filter(pc.invert(nan))
        counts = x.value_counts()
        labels = counts.field("values").to_pylist()
        return labels, np.asarray(counts.field("counts"), dtype=np.float64), nulls
    import pandas as pd

    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object))
    if s.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional")
    if isinstance(s.dtype, pd.CategoricalDtype):
        # Codes give first-seen order and leave out categories the data never uses.
        codes = s.cat.codes.to_numpy()
        present = codes[codes >= 0]
        order = pd.unique(present)
        counts = np.bincount(present, minlength=len(s.cat.categories))[order]
        labels = [_plain(s.cat.categories[c]) for c in order]
        return labels, counts.astype(np.float64), int((codes < 0).sum())
    # One hash pass counts the nulls too (None, NaN and NA fall in the null slot).
    counts = s.value_counts(dropna=False, sort=False)
    null = counts.index.isna()
    nulls = int(counts[null].sum()) if null.any() else 0
    if null.any():
        counts = counts[~null]
    labels = [_plain(v) for v in counts.index.tolist()]
    return labels, counts.to_numpy(dtype=np.float64), nulls


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
