"""Parsing of ``oxide+sqlite://`` URIs into the SQLAlchemy URI MLflow's own code uses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

SCHEME = "oxide+sqlite"
_SYNCHRONOUS = ("off", "normal", "full", "extra")
# Options we consume; anything else in the query string is passed on to SQLAlchemy untouched.
_OXIDE_OPTIONS = ("synchronous", "busy_timeout_ms", "fast_path")


@dataclass(frozen=True)
class OxideUri:
    sqlalchemy_uri: str
    path: str
    synchronous: str
    busy_timeout_ms: int
    fast_path: bool


def parse(store_uri: str) -> OxideUri:
    """``oxide+sqlite:///rel.db`` (relative), ``oxide+sqlite:////abs.db`` (absolute).

    Options: ``synchronous=normal|full|extra|off`` (default ``normal``: WAL, a committed write
    survives a process crash; ``full`` also fsyncs every commit so it survives power loss),
    ``busy_timeout_ms`` (default 60000), ``fast_path=0`` to route every call to MLflow's own code.
    """
    parts = urlsplit(store_uri)
    if parts.scheme != SCHEME:
        raise MlflowException(
            f"Not an {SCHEME} URI: '{store_uri}'", error_code=INVALID_PARAMETER_VALUE
        )
    # SQLAlchemy rules: "sqlite:///x.db" is relative, "sqlite:////x.db" absolute.
    raw_path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
    if parts.netloc:
        raise MlflowException(
            f"{SCHEME} URIs take no host: '{store_uri}' (use {SCHEME}:///relative.db or "
            f"{SCHEME}:////absolute/path.db)",
            error_code=INVALID_PARAMETER_VALUE,
        )
    if not raw_path or raw_path == ":memory:":
        raise MlflowException(
            f"{SCHEME} needs a database file path, got '{store_uri}'",
            error_code=INVALID_PARAMETER_VALUE,
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    synchronous = query.pop("synchronous", "normal").lower()
    if synchronous not in _SYNCHRONOUS:
        raise MlflowException(
            f"Invalid synchronous={synchronous!r} in '{store_uri}': expected one of "
            f"{', '.join(_SYNCHRONOUS)}",
            error_code=INVALID_PARAMETER_VALUE,
        )
    try:
        busy_timeout_ms = int(query.pop("busy_timeout_ms", "60000"))
    except ValueError:
        raise MlflowException(
            f"Invalid busy_timeout_ms in '{store_uri}': expected an integer",
            error_code=INVALID_PARAMETER_VALUE,
        ) from None
    fast_path = query.pop("fast_path", "1").lower() not in ("0", "false", "no", "off")
    abs_path = os.path.abspath(raw_path)
    rest = f"?{urlencode(query)}" if query else ""
    return OxideUri(
        sqlalchemy_uri=f"sqlite:///{abs_path}{rest}",
        path=abs_path,
        synchronous=synchronous,
        busy_timeout_ms=busy_timeout_ms,
        fast_path=fast_path,
    )
