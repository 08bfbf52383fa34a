"""The one place where errors raised by the Rust core become MLflow's exceptions."""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, TEMPORARILY_UNAVAILABLE

from mlflow_oxide import _native

# Error conditions MLflow's own implementation owns the message for: the store replays the
# call on MLflow's code, which raises the canonical MlflowException (same text, same code).
_REPLAY = (
    _native.Declined,
    _native.NotFound,
    _native.InvalidParameter,
    _native.InvalidState,
    _native.AlreadyExists,
)


def translate_native_error(exc: BaseException, db_path: str) -> bool:
    """Return True when ``exc`` asks for a replay on MLflow's implementation; raise an
    ``MlflowException`` for database failures; return False for anything not ours."""
    if isinstance(exc, _REPLAY):
        return True
    if isinstance(exc, _native.DatabaseBusy):
        raise MlflowException(
            f"SQLite database {db_path} stayed locked past busy_timeout_ms: {exc}",
            error_code=TEMPORARILY_UNAVAILABLE,
        ) from exc
    if isinstance(exc, _native.DatabaseError):
        raise MlflowException(
            f"SQLite error on {db_path}: {exc}", error_code=INTERNAL_ERROR
        ) from exc
    return False


__all__ = ["translate_native_error"]
