"""Fixtures for the native GCS artifact repository: a gcp-storage-emulator server on a free local
port (one in memory per session, plus dedicated ones on disk for tests that kill theirs and look
at what survived), the GCS environment MLflow and our repository read (``STORAGE_EMULATOR_HOST``:
unauthenticated requests to the emulator), and a fresh bucket per test.

The emulator is a single-threaded Python HTTP/1.0 server: it answers one request at a time and
keeps every object in memory (or on disk), so the files here stay modest."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.artifacts.conftest import free_port, host_env

EMULATOR = str(Path(sys.executable).with_name("gcp-storage-emulator"))
# The emulator's console script, run with a listen backlog of 1024 instead of socketserver's 5:
# it serves one connection at a time, and a client opening more than five at once (MLflow's
# thread pool, our concurrent transfers) would otherwise see its surplus SYNs dropped and
# retried by the kernel after 1 s, 3 s, ... (stalls, not failures, that only slow the suite).
_LAUNCH = (
    "import runpy, socketserver, sys; socketserver.TCPServer.request_queue_size = 1024; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)
PROJECT = "test"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy of the host
LOCAL_HOSTS = "127.0.0.1,localhost"


@dataclass
class GcsEmulator:
    proc: subprocess.Popen
    url: str
    log: Path
    data_dir: Path | None  # None: in memory

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

    def requests(self) -> list[tuple[str, str, int]]:
        """``(method, path and query, status)`` of every request the server has answered, from
        its log (one line per request, written as it is answered)."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            m = re.fullmatch(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) .*', line.strip())
            if m:
                out.append((m.group(1), m.group(2), int(m.group(3))))
        return out


def start_emulator(log: Path, data_dir: Path | None = None, timeout: float = 30.0) -> GcsEmulator:
    """``gcp-storage-emulator`` on 127.0.0.1 and a free port (in memory, or keeping its data in
    ``data_dir``), returned once it says it started and ``GET /`` answers. (A server that could
    not bind its port keeps running without saying so, and another server may answer there.)"""
    for _ in range(3):  # the port may be taken between choosing and binding it
        port = free_port()
        offset = log.stat().st_size if log.exists() else 0
        storage = ["-d", str(data_dir.resolve())] if data_dir is not None else []
        mode = [] if data_dir is not None else ["--in-memory"]
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCH, EMULATOR, *storage, "start"]
                + ["--host", "127.0.0.1", "--port", str(port), *mode],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{port}"
        server = GcsEmulator(proc, url, log, data_dir)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            with open(log, "rb") as f:
                f.seek(offset)
                started = b"All services started" in f.read()
            try:
                with _DIRECT.open(url + "/", timeout=2) as response:
                    if started and response.read() == b"OK":
                        return server
            except OSError:  # not serving yet (HTTPError: someone else's server)
                pass
            time.sleep(0.1)
        # A server that failed to bind keeps running (its HTTP thread died): stop it.
        server.stop()
    raise RuntimeError(
        f"gcp-storage-emulator did not start; log:\n{log.read_text(errors='replace')}"
    )


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory) -> GcsEmulator:
    server = start_emulator(tmp_path_factory.mktemp("gcs") / "emulator.log")
    yield server
    server.stop()


@pytest.fixture
def dedicated_gcs(tmp_path) -> GcsEmulator:
    """A server of this test's own, free to be killed, keeping its data on disk so that a
    restarted server shows what survived."""
    data = tmp_path / "gcs-data"
    data.mkdir()
    server = start_emulator(tmp_path / "emulator-dedicated.log", data)
    yield server
    server.stop()


def gcs_environment(url: str) -> dict[str, str]:
    return {
        # As google-cloud-storage reads it: unauthenticated requests to the emulator.
        "STORAGE_EMULATOR_HOST": url,
        # Requests to the local server must not go through a proxy of the host.
        "NO_PROXY": LOCAL_HOSTS,
        "no_proxy": LOCAL_HOSTS,
    }


# Settings that would change which code path a test exercises if inherited from the host
# (besides every GOOGLE_*, CLOUDSDK_* and MLFLOW_OXIDE_* variable).
_CLEARED = (
    "GCLOUD_PROJECT",
    "STORAGE_EMULATOR_HOST",
    "MLFLOW_GCS_UPLOAD_CHUNK_SIZE",
    "MLFLOW_GCS_DOWNLOAD_CHUNK_SIZE",
    "MLFLOW_ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
)
_CLEARED_PREFIXES = ("GOOGLE_", "CLOUDSDK_", "MLFLOW_OXIDE_")


def apply_gcs_environment(mp: pytest.MonkeyPatch, url: str) -> None:
    for name in list(os.environ):
        if name in _CLEARED or name.startswith(_CLEARED_PREFIXES):
            mp.delenv(name, raising=False)
    for name, value in gcs_environment(url).items():
        mp.setenv(name, value)
    # Two retries instead of ten: the server is local, so a request that fails three times is
    # not failing transiently, and the default backoff (up to 15 s) would spend ~25 s on every
    # failing transfer before reporting it.
    mp.setenv("MLFLOW_OXIDE_MAX_RETRIES", "2")


@pytest.fixture(autouse=True)
def gcs_env(gcs_server, monkeypatch) -> str:
    """The GCS environment for this test (the session server); returns its URL."""
    apply_gcs_environment(monkeypatch, gcs_server.url)
    return gcs_server.url


def make_gcs_client(url: str):
    """A google-cloud-storage client on the emulator at ``url`` (the test's view of what is
    really stored), made as MLflow makes its own: from the environment."""
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as mp:
        apply_gcs_environment(mp, url)
        return storage.Client(project=PROJECT)


@pytest.fixture(scope="session")
def gcs(gcs_server):
    return make_gcs_client(gcs_server.url)


def new_bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def create_bucket(client, name: str | None = None) -> str:
    name = name or new_bucket_name()
    client.create_bucket(name)
    return name


def empty_bucket(client, bucket: str) -> None:
    """Best effort: drop objects and the bucket so the in-memory server stays small."""
    with contextlib.suppress(Exception):
        for blob in client.list_blobs(bucket):
            with contextlib.suppress(Exception):
                blob.delete()
        client.bucket(bucket).delete(force=False)


@pytest.fixture
def bucket(gcs) -> str:
    name = create_bucket(gcs)
    yield name
    empty_bucket(gcs, name)


def quoted(name: str) -> str:
    """An object name as our client puts it in an upload URL (RFC 3986 unreserved kept)."""
    return urllib.parse.quote(name, safe="-._~")


def child_env(url: str, **extra: str) -> dict[str, str]:
    """Environment of a child Python: the host's minus MLflow/cloud settings, plus GCS's."""
    env = host_env()
    env.update(gcs_environment(url))
    env.update(extra)
    return env
