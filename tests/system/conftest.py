"""Fixtures for system tests: real SQLite files, real subprocesses, real ``mlflow server``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PYTHON = sys.executable
MLFLOW_CLI = str(Path(sys.executable).with_name("mlflow"))


def oxide_uri(path: Path | str, **options: str) -> str:
    """``oxide+sqlite:////abs/path.db`` (tmp paths are absolute, hence four slashes)."""
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"oxide+sqlite:///{path}" + (f"?{query}" if query else "")


def stock_uri(path: Path | str) -> str:
    return f"sqlite:///{path}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: no inherited tracking config, no telemetry."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MLFLOW_") and k not in ("PYTEST_CURRENT_TEST",)
    }
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_python(
    code: str,
    *args: str,
    timeout: float = 240,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (its own process group) and return the result."""
    proc = subprocess.Popen(
        [PYTHON, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or subprocess_env(),
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError(f"subprocess timed out after {timeout}s\n{out}\n{err}") from None
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{out}\n{err}")
    return result


def kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left."""
    if proc.poll() is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def integrity_check(path: Path | str) -> str:
    conn = sqlite3.connect(str(path), timeout=60)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def sql(path: Path | str, query: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(str(path), timeout=60)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mlflow.db"


@pytest.fixture
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path):
        self.proc = proc
        self.url = url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _wait_healthy(proc: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout * 4) + 1):
        if proc.poll() is not None:
            raise AssertionError(
                f"mlflow server exited with {proc.returncode}:\n{log_path.read_text()}"
            )
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, OSError),
            urllib.request.urlopen(f"{url}/health", timeout=5) as resp,
        ):
            if resp.status == 200:
                return
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    raise AssertionError(f"mlflow server not healthy after {timeout}s:\n{log_path.read_text()}")


@pytest.fixture
def mlflow_server(tmp_path: Path):
    """Factory: ``start(backend_uri, port, workers=2)`` -> MlflowServer; always torn down."""
    started: list[tuple[subprocess.Popen, object]] = []

    def start(backend_uri: str, port: int, workers: int = 2, timeout: float = 120):
        artifacts = tmp_path / "art"
        artifacts.mkdir(exist_ok=True)
        log_path = tmp_path / f"server-{port}.log"
        log_file = open(log_path, "w")  # noqa: SIM115 - closed on teardown
        cmd = [
            MLFLOW_CLI,
            "server",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
            cwd=tmp_path,
            start_new_session=True,
        )
        started.append((proc, log_file))
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(proc, url, log_path, timeout)
        return MlflowServer(proc, url, log_path)

    yield start
    for proc, log_file in started:
        kill_group(proc)
        log_file.close()
