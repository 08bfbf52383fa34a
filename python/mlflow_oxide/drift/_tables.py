"""Column access for the tables the report takes: pandas and polars DataFrames, pyarrow
Tables (and RecordBatches)."""

from __future__ import annotations


def _module(x) -> str:
    return type(x).__module__.split(".")[0]


def is_table(x) -> bool:
    return _module(x) in ("pandas", "polars", "pyarrow") and hasattr(x, "columns")


def column_names(table) -> list[str]:
    kind = _module(table)
    if kind == "pyarrow" and hasattr(table, "schema"):
        return list(table.schema.names)
    if kind in ("pandas", "polars") and hasattr(table, "columns"):
        return [str(c) for c in table.columns]
    raise TypeError(
        "expected a pandas or polars DataFrame, a pyarrow Table or a BaselineProfile, "
        f"got {type(table).__name__}"
    )


def get_column(table, name: str):
    kind = _module(table)
    if kind == "pyarrow":
        return table.column(name)
    if kind == "polars":
        return table.get_column(name)
    if name in table.columns:
        return table[name]
    # pandas frames may have non-string labels; names are matched by their str().
    for label in table.columns:
        if str(label) == name:
            return table[label]
    raise KeyError(name)


def row_count(table) -> int:
    kind = _module(table)
    if kind == "pyarrow":
        return table.num_rows
    if kind == "polars":
        return table.height
    return len(table)


def dtype_name(column) -> str:
    kind = _module(column)
    if kind == "pyarrow":
        return str(column.type)
    return str(column.dtype)
