"""Transfers of large files under stress, each in a child interpreter: peak memory bounded by
the parts in flight, Ctrl-C stopping a resumable upload before it is finalized, and the server
dying in the middle of an upload or a download (a clean ``MlflowException`` in bounded time,
nothing finalized or left behind)."""

from __future__ import annotations

import json
import signal
import time

import pytest
from mlflow_oxide.artifacts import OxideGCSArtifactRepository

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
    write_random_file,
)
from tests.artifacts.gcs.conftest import (
    GcsEmulator,
    child_env,
    create_bucket,
    make_gcs_client,
    quoted,
    start_emulator,
)

LARGE = 100 * MiB
# How long a child may take to give up once its server is gone. With one retry and a 5 s retry
# timeout the native client fails within seconds; anything near this is a hang.
GIVE_UP = 120


@pytest.fixture(scope="module")
def large_file(tmp_path_factory):
    """100 MiB of random bytes, written in 1 MiB chunks (never held in memory)."""
    path = tmp_path_factory.mktemp("large") / "large.bin"
    digest = write_random_file(path, LARGE)
    return path, digest


def _chunks_accepted(server: GcsEmulator, bucket: str, name: str) -> int:
    """Chunks of our resumable upload of ``name`` the server has taken (answered 308)."""
    start = f"/upload/storage/v1/b/{bucket}/o?uploadType=resumable&name={quoted(name)}"
    return sum(
        1
        for method, path, status in server.requests()
        if method == "PUT" and status == 308 and path.startswith(start)
    )


def _names(client, bucket: str) -> list[str]:
    return sorted(b.name for b in client.list_blobs(bucket))


# --- bounded memory -----------------------------------------------------------------------


@pytest.mark.parametrize("allocator", ["exact", "default"])
def test_bounded_memory_upload_and_download(bucket, gcs_env, tmp_path, allocator):
    """Upload a 100 MiB file (resumable, 5 MiB chunks) in one child, download it (ranged,
    2 at a time) in another, each measured from a fresh peak."""
    size = LARGE
    results = measure_memory(
        lambda **extra: child_env(gcs_env, **extra),
        OxideGCSArtifactRepository,
        f"gs://{bucket}/memory",
        tmp_path,
        size,
        allocator,
    )
    up, down = results["upload"], results["download"]
    assert up["budget"] == down["budget"]


# --- Ctrl-C --------------------------------------------------------------------------------

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


def test_ctrl_c_stops_resumable_upload(bucket, gcs, gcs_env, gcs_server, large_file):
    path, _ = large_file
    uri = f"gs://{bucket}/interrupted"
    name = f"interrupted/{path.name}"
    child = Child(
        child_code(UPLOAD_CHILD, OxideGCSArtifactRepository),
        child_env(
            gcs_env,
            MLFLOW_OXIDE_PART_SIZE=str(5 * MiB),
            MLFLOW_OXIDE_CONCURRENCY="1",
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_FILE=str(path),
        ),
    )
    child.wait_for("uploading", timeout=120)
    wait_until(
        "a chunk of the resumable upload accepted",
        lambda: _chunks_accepted(gcs_server, bucket, name) >= 1,
        child,
    )
    child.proc.send_signal(signal.SIGINT)
    rc = child.finish(timeout=60)
    assert "done" not in child.stdout, "the upload finished before Ctrl-C: make it larger"
    assert "KeyboardInterrupt" in child.stdout, child.report()
    assert rc == -signal.SIGINT, child.report()  # the uncaught KeyboardInterrupt's exit
    chunks = _chunks_accepted(gcs_server, bucket, name)
    assert chunks < LARGE // (5 * MiB), "every chunk went before Ctrl-C: make it larger"
    # Nothing finalized: the object is neither listed nor readable.
    assert _names(gcs, bucket) == []
    assert gcs.bucket(bucket).get_blob(name) is None


# --- the server dies -----------------------------------------------------------------------


def test_server_killed_mid_upload(dedicated_gcs, large_file, tmp_path):
    path, _ = large_file
    client = make_gcs_client(dedicated_gcs.url)
    bucket = create_bucket(client)
    uri = f"gs://{bucket}/doomed"
    name = f"doomed/{path.name}"
    child = Child(
        child_code(UPLOAD_CHILD, OxideGCSArtifactRepository),
        child_env(dedicated_gcs.url, OXIDE_TEST_URI=uri, OXIDE_TEST_FILE=str(path), **FAILING),
    )
    child.wait_for("uploading", timeout=120)
    wait_until(
        "a chunk of the resumable upload accepted",
        lambda: _chunks_accepted(dedicated_gcs, bucket, name) >= 1,
        child,
    )
    dedicated_gcs.kill()
    killed = time.monotonic()
    rc = child.finish(timeout=GIVE_UP)
    elapsed = time.monotonic() - killed
    assert "done" not in child.stdout, "the upload finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    print(f"gave up {elapsed:.1f} s after the server died: {result}")
    # The server's data survives it (on disk): a new server on it has no such object.
    restarted = start_emulator(tmp_path / "emulator-restarted.log", dedicated_gcs.data_dir)
    try:
        after = make_gcs_client(restarted.url)
        assert after.bucket(bucket).exists()
        assert _names(after, bucket) == []
        assert after.bucket(bucket).get_blob(name) is None
    finally:
        restarted.stop()


@pytest.mark.parametrize("path", ["sub/large.bin", "sub"])
def test_server_killed_mid_download(dedicated_gcs, large_file, tmp_path, path):
    """A file asked for by name (looked up, then fetched) or as part of a directory (listed,
    then fetched)."""
    local, _ = large_file
    client = make_gcs_client(dedicated_gcs.url)
    bucket = create_bucket(client)
    client.bucket(bucket).blob("stored/sub/large.bin").upload_from_filename(str(local))
    uri = f"gs://{bucket}/stored"
    dst = tmp_path / "dst"
    dst.mkdir()
    child = Child(
        child_code(DOWNLOAD_CHILD, OxideGCSArtifactRepository),
        child_env(
            dedicated_gcs.url,
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_PATH=path,
            OXIDE_TEST_DST=str(dst),
            **FAILING,
        ),
    )
    child.wait_for("downloading", timeout=120)
    wait_until("the temporary download file", lambda: any(dst.rglob(".*oxide-partial-*")), child)
    time.sleep(0.2)  # a few ranges in
    dedicated_gcs.kill()
    rc = child.finish(timeout=GIVE_UP)
    assert "done" not in child.stdout, "the download finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    left = sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if not p.is_dir())
    assert left == [], left  # neither large.bin nor a .large.bin.oxide-partial-<pid>-<n>
    assert not (dst / "sub" / "large.bin").exists()
