"""Settings of the native artifact transfer, from the environment (read on every call, so a
notebook can change them between transfers)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MiB = 1 << 20


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def enabled() -> bool:
    """``MLFLOW_OXIDE_ARTIFACTS=0`` (or false/off/no) hands every transfer to MLflow's own
    repositories."""
    return os.environ.get("MLFLOW_OXIDE_ARTIFACTS", "1").strip().lower() not in (
        "0",
        "false",
        "off",
        "no",
    )


@dataclass(frozen=True)
class Transfer:
    concurrency: int  # parts of one large file in flight
    file_concurrency: int  # small files in flight (their bytes still within memory_budget)
    part_size: int
    multipart_threshold: int
    max_retries: int
    retry_timeout: float

    @classmethod
    def from_env(cls) -> Transfer:
        # S3 parts must be at least 5 MiB (except the last one).
        part_size = _int("MLFLOW_OXIDE_PART_SIZE", 8 * MiB, 5 * MiB)
        return cls(
            concurrency=_int("MLFLOW_OXIDE_CONCURRENCY", 16, 1),
            file_concurrency=_int("MLFLOW_OXIDE_FILE_CONCURRENCY", 64, 1),
            part_size=part_size,
            multipart_threshold=_int("MLFLOW_OXIDE_MULTIPART_THRESHOLD", part_size, part_size),
            max_retries=_int("MLFLOW_OXIDE_MAX_RETRIES", 10, 0),
            retry_timeout=float(_int("MLFLOW_OXIDE_RETRY_TIMEOUT", 180, 1)),
        )

    @property
    def memory_budget(self) -> int:
        """Bytes in flight at most: ``concurrency`` parts plus the one being filled."""
        return (self.concurrency + 1) * self.part_size
