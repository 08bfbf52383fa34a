"""Fixtures for the native Azure artifact repositories: an Azurite blob server on a free local
port (one per session, plus dedicated ones for tests that kill theirs), the Azure environment
MLflow and our repositories read (a connection string to Azurite's development account), and a
fresh container per test.

Azurite is an npm package (``./dev test`` installs it): ``$AZURITE_BLOB``, else the copy
``./dev`` caches, else ``azurite-blob`` on the PATH. Without it the suite is skipped, or fails
under CI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.artifacts.conftest import free_port, host_env

ACCOUNT = "devstoreaccount1"
# Azurite's documented development account key (public, the same on every installation).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CACHED_AZURITE = Path.home() / ".cache/mlflow-oxide/npm/node_modules/.bin/azurite-blob"
LOCAL_HOSTS = "127.0.0.1,localhost"


def azurite_binary() -> str | None:
    explicit = os.environ.get("AZURITE_BLOB")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access(CACHED_AZURITE, os.X_OK):
        return str(CACHED_AZURITE)
    return shutil.which("azurite-blob")


def _require_azurite() -> str:
    binary = azurite_binary()
    if binary is None:
        reason = (
            "Azurite (azurite-blob) not found: set AZURITE_BLOB or run `./dev test`, which "
            "installs it (npm)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


def connection_string(url: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={url}/{ACCOUNT};"
    )


@dataclass
class Azurite:
    proc: subprocess.Popen
    url: str
    location: Path
    log: Path

    @property
    def connection_string(self) -> str:
        return connection_string(self.url)

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

    def restart(self) -> None:
        """A new server on the same data (and a new port): what the old one persisted."""
        self.stop()
        fresh = start_azurite(self.location, self.log)
        self.proc, self.url = fresh.proc, fresh.url

    def persisted(self, text: str) -> bool:
        """Whether ``text`` (a container or blob name) is in the metadata Azurite saved to disk
        (it saves every 5 s: what came after is lost on SIGKILL)."""
        db = self.location / "__azurite_db_blob__.json"
        try:
            return text in db.read_text(errors="replace")
        except OSError:
            return False


def start_azurite(location: Path, log: Path, timeout: float = 60.0) -> Azurite:
    """``azurite-blob`` on 127.0.0.1 and a free port, keeping its data in ``location``;
    returned once it answers HTTP."""
    binary = _require_azurite()
    location.mkdir(parents=True, exist_ok=True)
    for _ in range(3):  # the port may be taken between choosing and binding it
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [
                    binary,
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    str(port),
                    "--location",
                    str(location),
                    "--silent",
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{port}"
        server = Azurite(proc, url, location, log)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    pass
                return server
            except urllib.error.HTTPError:  # any HTTP answer means it is serving
                return server
            except OSError:
                time.sleep(0.1)
        server.stop()
    raise RuntimeError(f"Azurite did not start; log:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Azurite:
    root = tmp_path_factory.mktemp("azurite")
    server = start_azurite(root / "data", root / "azurite.log")
    yield server
    server.stop()


@pytest.fixture
def dedicated_azurite(tmp_path) -> Azurite:
    """A server of this test's own, free to be killed (its data stays in ``location``)."""
    server = start_azurite(tmp_path / "azurite-data", tmp_path / "azurite.log")
    yield server
    server.stop()


def azure_environment(conn: str) -> dict[str, str]:
    return {
        "AZURE_STORAGE_CONNECTION_STRING": conn,
        # Requests to the local server must not go through a proxy of the host.
        "NO_PROXY": LOCAL_HOSTS,
        "no_proxy": LOCAL_HOSTS,
    }


def apply_azure_environment(mp: pytest.MonkeyPatch, conn: str) -> None:
    """Drop every Azure and mlflow-oxide setting inherited from the host (they would change
    the credentials or the code path under test), then point both repositories at ``conn``."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "MLFLOW_OXIDE_")) or name in (
            "MLFLOW_TRACKING_INSECURE_TLS",
            "MLFLOW_ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT",
        ):
            mp.delenv(name, raising=False)
    for name, value in azure_environment(conn).items():
        mp.setenv(name, value)


@pytest.fixture(autouse=True)
def azure_env(azurite, monkeypatch) -> str:
    """The Azure environment for this test (the session server); returns its connection
    string."""
    apply_azure_environment(monkeypatch, azurite.connection_string)
    return azurite.connection_string


def make_service(conn: str):
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(conn)


@pytest.fixture(scope="session")
def service(azurite):
    """An azure-storage-blob client on the session server (the test's view of what is really
    stored)."""
    return make_service(azurite.connection_string)


def new_container_name() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


def drop_container(service, name: str) -> None:
    """Best effort: Azurite keeps blobs on disk until their container goes."""
    with contextlib.suppress(Exception):
        service.delete_container(name)


@pytest.fixture
def container(service) -> str:
    name = new_container_name()
    service.create_container(name)
    yield name
    drop_container(service, name)


def wasbs(container: str, path: str = "", account: str = ACCOUNT) -> str:
    return f"wasbs://{container}@{account}.blob.core.windows.net/{path}".rstrip("/")


def abfss(container: str, path: str = "", account: str = ACCOUNT) -> str:
    return f"abfss://{container}@{account}.dfs.core.windows.net/{path}".rstrip("/")


def child_env(conn: str, **extra: str) -> dict[str, str]:
    """Environment of a child Python: the host's minus MLflow/Azure settings, plus Azure's."""
    env = host_env()
    env.update(azure_environment(conn))
    env.update(extra)
    return env
