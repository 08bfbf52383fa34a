"""Fixtures for the drift parity suite.

The drift functions touch no database, so the repository-wide autouse fixture that closes
SQLAlchemy engines and runs ``gc.collect()`` after every test (about 0.1 s each with MLflow
loaded) is replaced here by a no-op: it would dominate the run time of the parametrized cases.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _release_databases():
    yield
