"""Transfers of large files under stress, each in a child interpreter: peak memory bounded by
the parts in flight, Ctrl-C aborting a block upload (and a download), and the server dying in
the middle of an upload or a download (a clean ``MlflowException`` in bounded time, nothing
committed or left behind)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from mlflow_oxide.artifacts import OxideAzureBlobArtifactRepository

from tests.artifacts.azure.conftest import (
    child_env,
    make_service,
    new_container_name,
    wasbs,
)
from tests.artifacts.children import (
    DOWNLOAD_CHILD,
    UPLOAD_CHILD,
    child_code,
    measure_memory,
    wait_until,
)
from tests.artifacts.conftest import (
    Child,
    MiB,
    file_sha256,
    write_random_file,
)

LARGE = 200 * MiB
# How long a child may take to give up once its server is gone. With one retry and a 5 s retry
# timeout the native client fails within seconds; anything near this is a hang.
GIVE_UP = 120


@pytest.fixture(scope="module")
def large_file(tmp_path_factory):
    """200 MiB of random bytes, written in 1 MiB chunks (never held in memory)."""
    path = tmp_path_factory.mktemp("large") / "large.bin"
    digest = write_random_file(path, LARGE)
    return path, digest


# --- bounded memory -----------------------------------------------------------------------


@pytest.mark.parametrize("allocator", ["exact", "default"])
def test_bounded_memory_upload_and_download(container, azure_env, tmp_path, allocator):
    """Upload a 150 MiB file in one child, download it in another (each measured from a fresh
    peak, so the download cannot reuse what the upload's allocator kept)."""
    size = 150 * MiB
    measure_memory(
        lambda **extra: child_env(azure_env, **extra),
        OxideAzureBlobArtifactRepository,
        wasbs(container, "memory"),
        tmp_path,
        size,
        allocator,
    )


# --- Ctrl-C --------------------------------------------------------------------------------


def _uncommitted_blocks(blob) -> int:
    """How many blocks are staged for ``blob`` (0 before the first, or when the server is
    gone)."""
    try:
        return len(blob.get_block_list("uncommitted")[1])
    except Exception:
        return 0


def test_ctrl_c_aborts_block_upload(container, service, azure_env, large_file):
    """No blob is committed: the staged blocks stay invisible (Azure drops them within a week;
    there is no call to discard them, as MLflow's repository notes too)."""
    path, _ = large_file
    uri = wasbs(container, "interrupted")
    blob = service.get_blob_client(container, f"interrupted/{path.name}")
    child = Child(
        child_code(UPLOAD_CHILD, OxideAzureBlobArtifactRepository),
        child_env(
            azure_env,
            MLFLOW_OXIDE_PART_SIZE=str(5 * MiB),
            MLFLOW_OXIDE_CONCURRENCY="1",
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_FILE=str(path),
        ),
    )
    child.wait_for("uploading", timeout=120)
    wait_until("a staged block", lambda: _uncommitted_blocks(blob) > 0, child)
    time.sleep(0.3)  # a few blocks in
    child.proc.send_signal(signal.SIGINT)
    rc = child.finish(timeout=60)
    assert "done" not in child.stdout, "the upload finished before Ctrl-C: make it larger"
    assert "KeyboardInterrupt" in child.stdout, child.report()
    assert rc == -signal.SIGINT, child.report()  # the uncaught KeyboardInterrupt's exit
    assert not blob.exists()
    assert list(service.get_container_client(container).list_blobs()) == []


def _upload_natively(conn: str, uri: str, path, monkeypatch) -> None:
    """Put ``path`` under ``uri`` quickly (ours, many blocks at once)."""
    from mlflow_oxide.artifacts import OxideAzureBlobArtifactRepository

    with monkeypatch.context() as mp:
        mp.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
        mp.setenv("MLFLOW_OXIDE_CONCURRENCY", "8")
        OxideAzureBlobArtifactRepository(uri).log_artifact(str(path), "sub")


def _leftovers(dst) -> list[str]:
    # Neither the destination file nor a hidden .<name>.oxide-partial-<pid>-<n>.
    return sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if not p.is_dir())


def test_ctrl_c_mid_download(container, azure_env, large_file, tmp_path, monkeypatch):
    path, _ = large_file
    uri = wasbs(container, "stored")
    _upload_natively(azure_env, uri, path, monkeypatch)
    dst = tmp_path / "dst"
    dst.mkdir()
    child = Child(
        child_code(DOWNLOAD_CHILD, OxideAzureBlobArtifactRepository),
        child_env(
            azure_env,
            MLFLOW_OXIDE_PART_SIZE=str(5 * MiB),
            MLFLOW_OXIDE_CONCURRENCY="1",
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_PATH=f"sub/{path.name}",
            OXIDE_TEST_DST=str(dst),
        ),
    )
    child.wait_for("downloading", timeout=120)
    wait_until("the temporary download file", lambda: any(dst.rglob(".*oxide-partial-*")), child)
    time.sleep(0.2)  # a few ranges in
    child.proc.send_signal(signal.SIGINT)
    rc = child.finish(timeout=60)
    assert "done" not in child.stdout, "the download finished before Ctrl-C: make it larger"
    assert "KeyboardInterrupt" in child.stdout, child.report()
    assert rc == -signal.SIGINT, child.report()
    assert _leftovers(dst) == []


# --- the server dies -----------------------------------------------------------------------

FAILING = {
    "MLFLOW_OXIDE_PART_SIZE": str(5 * MiB),
    "MLFLOW_OXIDE_CONCURRENCY": "1",
    "MLFLOW_OXIDE_MAX_RETRIES": "1",
    "MLFLOW_OXIDE_RETRY_TIMEOUT": "5",
}


def _result(child: Child) -> dict:
    lines = [x for x in child.stdout if x.startswith("RESULT ")]
    assert lines, child.report()
    return json.loads(lines[-1].removeprefix("RESULT "))


def _wait_persisted(server, *names: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not all(server.persisted(n) for n in names):
        assert time.monotonic() < deadline, f"Azurite never saved {names}"
        time.sleep(0.1)


def test_server_killed_mid_upload(dedicated_azurite, large_file):
    path, _ = large_file
    service = make_service(dedicated_azurite.connection_string)
    container = new_container_name()
    service.create_container(container)
    # A blob committed before, so the restarted server is seen to keep what was committed.
    service.get_blob_client(container, "doomed/before.txt").upload_blob(b"before")
    _wait_persisted(dedicated_azurite, container, "doomed/before.txt")
    uri = wasbs(container, "doomed")
    blob = service.get_blob_client(container, f"doomed/{path.name}")
    child = Child(
        child_code(UPLOAD_CHILD, OxideAzureBlobArtifactRepository),
        child_env(
            dedicated_azurite.connection_string,
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_FILE=str(path),
            **FAILING,
        ),
    )
    child.wait_for("uploading", timeout=120)
    wait_until("a staged block", lambda: _uncommitted_blocks(blob) > 0, child)
    time.sleep(0.3)  # a few blocks in
    dedicated_azurite.kill()
    killed = time.monotonic()
    rc = child.finish(timeout=GIVE_UP)
    elapsed = time.monotonic() - killed
    assert "done" not in child.stdout, "the upload finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    print(f"gave up {elapsed:.1f} s after the server died: {result}")

    dedicated_azurite.restart()
    client = make_service(dedicated_azurite.connection_string).get_container_client(container)
    assert [b.name for b in client.list_blobs()] == ["doomed/before.txt"]
    assert not client.get_blob_client(f"doomed/{path.name}").exists()


def test_server_killed_mid_download(dedicated_azurite, large_file, tmp_path, monkeypatch):
    path, _ = large_file
    service = make_service(dedicated_azurite.connection_string)
    container = new_container_name()
    service.create_container(container)
    uri = wasbs(container, "stored")
    _upload_natively(dedicated_azurite.connection_string, uri, path, monkeypatch)
    dst = tmp_path / "dst"
    dst.mkdir()
    child = Child(
        child_code(DOWNLOAD_CHILD, OxideAzureBlobArtifactRepository),
        child_env(
            dedicated_azurite.connection_string,
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_PATH=f"sub/{path.name}",
            OXIDE_TEST_DST=str(dst),
            **FAILING,
        ),
    )
    child.wait_for("downloading", timeout=120)
    wait_until("the temporary download file", lambda: any(dst.rglob(".*oxide-partial-*")), child)
    time.sleep(0.2)  # a few ranges in
    dedicated_azurite.kill()
    rc = child.finish(timeout=GIVE_UP)
    assert "done" not in child.stdout, "the download finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    assert _leftovers(dst) == []


def test_large_round_trip(container, large_file, tmp_path, monkeypatch):
    """Sanity check of the same file and settings without faults: the bytes come back, and
    stock MLflow reads what ours wrote."""
    from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository
    from mlflow_oxide.artifacts import OxideAzureBlobArtifactRepository

    path, digest = large_file
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(5 * MiB))
    monkeypatch.setenv("MLFLOW_OXIDE_CONCURRENCY", "4")
    uri = wasbs(container, "whole")
    repo = OxideAzureBlobArtifactRepository(uri)
    repo.log_artifact(str(path))
    dst = tmp_path / "dst"
    dst.mkdir()
    local = repo.download_artifacts(path.name, str(dst))
    assert file_sha256(local) == digest
    assert os.listdir(dst) == [path.name]
    (tmp_path / "stock").mkdir()
    stock = AzureBlobArtifactRepository(uri).download_artifacts(path.name, str(tmp_path / "stock"))
    assert file_sha256(stock) == digest
