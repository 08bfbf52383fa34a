"""Opening the native SQLite handle on an ``oxide+sqlite`` file, with the two conditions under
which the native SQL may serve it; the tracking store and the model loader both open it here."""

from __future__ import annotations

import sqlite3

from mlflow_oxide import _native, _uri

# The MLflow schema revisions (alembic) the native SQL was written and tested against; any other
# revision is served by MLflow's own code.
KNOWN_SCHEMA_REVISIONS = frozenset({"dc11669786a5"})  # MLflow 3.17


def open_native(parsed: _uri.OxideUri):
    """``(handle, None)``, or ``(None, why)`` when MLflow's own code must serve the file:

    * the native module must share this process's SQLite library with Python's ``sqlite3``
      (two copies in one process corrupt WAL databases);
    * the file must be at a schema revision the native SQL knows.
    """
    if sqlite3.sqlite_version != _native.SQLITE_VERSION:
        return None, (
            f"native SQLite {_native.SQLITE_VERSION} differs from Python's sqlite3 "
            f"{sqlite3.sqlite_version}"
        )
    handle = _native.SqliteTracking(parsed.path, parsed.synchronous, parsed.busy_timeout_ms)
    revision = handle.schema_revision()
    if revision not in KNOWN_SCHEMA_REVISIONS:
        return None, (
            f"database {parsed.path} is at schema revision {revision}, which this build was "
            "not tested against"
        )
    return handle, None
