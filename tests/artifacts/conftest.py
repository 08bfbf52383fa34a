"""What every artifact-store suite shares (S3, Azure, GCS, local): free ports, random files
and their digests, a child-interpreter harness, and the host environment without cloud
settings.

These tests open no tracking database except the end-to-end ones, which release what they
opened themselves, so the repository-wide autouse ``_release_databases`` (``gc.collect()`` and
engine disposal after every test, ~0.1 s each) is replaced by a no-op, as in ``tests/drift``."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

MiB = 1 << 20


@pytest.fixture(autouse=True)
def _release_databases():
    yield


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_random_file(path: Path, size: int, chunk: int = MiB) -> str:
    """``size`` random bytes written chunk by chunk; returns their sha256."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            data = os.urandom(min(chunk, left))
            digest.update(data)
            f.write(data)
            left -= len(data)
    return digest.hexdigest()


def file_sha256(path: Path | str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(MiB):
            digest.update(data)
    return digest.hexdigest()


def host_env() -> dict[str, str]:
    """The host's environment minus every MLflow and cloud setting: a child's starting point."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "AWS_", "AZURE_", "GOOGLE_", "STORAGE_EMULATOR"))
        and k != "PYTEST_CURRENT_TEST"
    } | {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


class Child:
    """A child Python whose output is read by threads as it comes: ``wait_for`` a line it
    prints, then ``finish`` it within a time limit (still running then is a hang)."""

    def __init__(self, code: str, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, is_stdout: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            if is_stdout:
                self.stdout.append(line)
                self._lines.put(line)
            else:
                self.stderr.append(line)
        if is_stdout:
            self._lines.put(None)

    def _report(self) -> str:
        err = "\n".join(self.stderr)[-6000:]
        return f"rc={self.proc.returncode}\nstdout: {self.stdout}\nstderr:\n{err}"

    def wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line == marker:
                return
            if line is None:  # the child ended, or the time is up
                self.kill()
                raise AssertionError(f"child never printed {marker!r}; {self._report()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)

    def finish(self, timeout: float) -> int:
        """Wait for the child to end by itself; returns its exit status."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"child still running after {timeout} s (hang); {self._report()}"
            ) from None
        for reader in self._readers:
            reader.join(timeout=10)
        return self.proc.returncode

    def report(self) -> str:
        return self._report()
