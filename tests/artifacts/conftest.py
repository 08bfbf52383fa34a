"""Fixtures for the native S3 artifact repository: a moto S3 server on a free local port (one
per session, plus dedicated ones for tests that kill theirs), the S3 environment MLflow and our
repository read, a fresh bucket per test, and helpers to run a transfer in a child process.

These tests open no tracking database except the end-to-end one, which releases what it opened
itself, so the repository-wide autouse ``_release_databases`` (``gc.collect()`` and engine
disposal after every test, ~0.1 s each) is replaced by a no-op, as in ``tests/drift``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

MiB = 1 << 20
MOTO_SERVER = str(Path(sys.executable).with_name("moto_server"))
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _release_databases():
    yield


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MotoServer:
    proc: subprocess.Popen
    url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-request, as a crashed or unreachable endpoint."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_moto(log: Path, timeout: float = 30.0) -> MotoServer:
    """``moto_server`` on 127.0.0.1 and a free port, returned once it answers HTTP."""
    for _ in range(3):  # the port may be taken between choosing and binding it
        port = _free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    pass
                return MotoServer(proc, url, log)
            except urllib.error.HTTPError:  # any HTTP answer means it is serving
                return MotoServer(proc, url, log)
            except OSError:
                time.sleep(0.1)
        MotoServer(proc, url, log).stop()
    raise RuntimeError(f"moto_server did not start; log:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def moto(tmp_path_factory) -> MotoServer:
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def dedicated_moto(tmp_path) -> MotoServer:
    """A server of this test's own, free to be killed."""
    server = start_moto(tmp_path / "moto-dedicated.log")
    yield server
    server.stop()


def s3_environment(endpoint: str) -> dict[str, str]:
    return {
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        # Requests to the local server must not go through a proxy of the host.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


# Settings that would change which code path a test exercises if inherited from the host.
_CLEARED = (
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "MLFLOW_S3_UPLOAD_EXTRA_ARGS",
    "MLFLOW_S3_EXPECTED_BUCKET_OWNER",
    "MLFLOW_S3_IGNORE_TLS",
    "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE",
    "MLFLOW_OXIDE_ARTIFACTS",
    "MLFLOW_OXIDE_PART_SIZE",
    "MLFLOW_OXIDE_CONCURRENCY",
    "MLFLOW_OXIDE_MULTIPART_THRESHOLD",
    "MLFLOW_OXIDE_MAX_RETRIES",
    "MLFLOW_OXIDE_RETRY_TIMEOUT",
)


def apply_s3_environment(mp: pytest.MonkeyPatch, endpoint: str) -> None:
    for name in _CLEARED:
        mp.delenv(name, raising=False)
    # No credential or config file of the host may be picked up by boto3's chain.
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name, value in s3_environment(endpoint).items():
        mp.setenv(name, value)


@pytest.fixture(autouse=True)
def s3_env(moto, monkeypatch) -> str:
    """The S3 environment for this test (endpoint of the session server); returns the URL."""
    apply_s3_environment(monkeypatch, moto.url)
    return moto.url


def make_s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name=REGION,
    )


@pytest.fixture(scope="session")
def s3(moto):
    """A boto3 client on the session server (the test's view of what is really stored)."""
    return make_s3_client(moto.url)


def new_bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def empty_bucket(client, bucket: str) -> None:
    """Best effort: drop objects and pending uploads so the in-memory server stays small."""
    with contextlib.suppress(Exception):
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        client.delete_bucket(Bucket=bucket)


@pytest.fixture
def bucket(s3) -> str:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)


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


def child_env(endpoint: str, **extra: str) -> dict[str, str]:
    """Environment of a child Python: the host's minus MLflow/AWS settings, plus S3's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "AWS_")) and k != "PYTEST_CURRENT_TEST"
    }
    env.update(s3_environment(endpoint))
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


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
