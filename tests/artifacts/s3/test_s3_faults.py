"""Transfers of large files under stress, each in a child interpreter: peak memory bounded by
the parts in flight, Ctrl-C aborting a multipart upload, and the server dying in the middle of
an upload or a download (a clean ``MlflowException`` in bounded time, nothing left behind)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from botocore.exceptions import ClientError
from mlflow_oxide.artifacts import OxideS3ArtifactRepository

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
from tests.artifacts.s3.conftest import (
    child_env,
    make_s3_client,
    new_bucket_name,
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
def test_bounded_memory_upload_and_download(bucket, s3_env, tmp_path, allocator):
    """Upload a 150 MiB file in one child, download it in another (each measured from a fresh
    peak, so the download cannot reuse what the upload's allocator kept)."""
    size = 150 * MiB
    results = measure_memory(
        lambda **extra: child_env(s3_env, **extra),
        OxideS3ArtifactRepository,
        f"s3://{bucket}/memory",
        tmp_path,
        size,
        allocator,
    )
    assert results["upload"]["budget"] == 15 * MiB


# --- Ctrl-C --------------------------------------------------------------------------------


def _no_object_and_no_pending_upload(client, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as info:
        client.head_object(Bucket=bucket, Key=key)
    assert info.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    pending = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert pending == [], pending


def _pending_uploads(client, bucket: str) -> list:
    return client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_ctrl_c_aborts_multipart_upload(bucket, s3, s3_env, large_file):
    path, _ = large_file
    uri = f"s3://{bucket}/interrupted"
    child = Child(
        child_code(UPLOAD_CHILD, OxideS3ArtifactRepository),
        child_env(
            s3_env,
            MLFLOW_OXIDE_PART_SIZE=str(5 * MiB),
            MLFLOW_OXIDE_CONCURRENCY="1",
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_FILE=str(path),
        ),
    )
    child.wait_for("uploading", timeout=120)
    wait_until("a pending multipart upload", lambda: _pending_uploads(s3, bucket), child)
    time.sleep(0.3)  # a few parts in
    child.proc.send_signal(signal.SIGINT)
    rc = child.finish(timeout=60)
    assert "done" not in child.stdout, "the upload finished before Ctrl-C: make it larger"
    assert "KeyboardInterrupt" in child.stdout, child.report()
    assert rc == -signal.SIGINT, child.report()  # the uncaught KeyboardInterrupt's exit
    _no_object_and_no_pending_upload(s3, bucket, f"interrupted/{path.name}")


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


def test_server_killed_mid_upload(dedicated_moto, large_file):
    path, _ = large_file
    client = make_s3_client(dedicated_moto.url)
    bucket = new_bucket_name()
    client.create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/doomed"
    child = Child(
        child_code(UPLOAD_CHILD, OxideS3ArtifactRepository),
        child_env(dedicated_moto.url, OXIDE_TEST_URI=uri, OXIDE_TEST_FILE=str(path), **FAILING),
    )
    child.wait_for("uploading", timeout=120)
    wait_until("a pending multipart upload", lambda: _pending_uploads(client, bucket), child)
    time.sleep(0.3)  # a few parts in
    dedicated_moto.kill()
    killed = time.monotonic()
    rc = child.finish(timeout=GIVE_UP)
    elapsed = time.monotonic() - killed
    assert "done" not in child.stdout, "the upload finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    print(f"gave up {elapsed:.1f} s after the server died: {result}")


def test_server_killed_mid_download(dedicated_moto, large_file, tmp_path):
    path, _ = large_file
    client = make_s3_client(dedicated_moto.url)
    bucket = new_bucket_name()
    client.create_bucket(Bucket=bucket)
    client.upload_file(str(path), bucket, "stored/sub/large.bin")
    uri = f"s3://{bucket}/stored"
    dst = tmp_path / "dst"
    dst.mkdir()
    child = Child(
        child_code(DOWNLOAD_CHILD, OxideS3ArtifactRepository),
        child_env(
            dedicated_moto.url,
            OXIDE_TEST_URI=uri,
            OXIDE_TEST_PATH="sub/large.bin",
            OXIDE_TEST_DST=str(dst),
            **FAILING,
        ),
    )
    child.wait_for("downloading", timeout=120)
    wait_until("the temporary download file", lambda: any(dst.rglob(".*oxide-partial-*")), child)
    time.sleep(0.2)  # a few ranges in
    dedicated_moto.kill()
    rc = child.finish(timeout=GIVE_UP)
    assert "done" not in child.stdout, "the download finished before the kill: make it larger"
    assert rc == 3, child.report()
    result = _result(child)
    assert result["type"] == "MlflowException", result
    assert uri in result["message"], result
    left = sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if not p.is_dir())
    assert left == [], left  # neither large.bin nor a .large.bin.oxide-partial-<pid>
    assert not (dst / "sub" / "large.bin").exists()


def test_large_round_trip_after_faults(bucket, s3_env, large_file, tmp_path, monkeypatch):
    """Sanity check of the same file and settings without faults: the bytes come back."""
    from mlflow_oxide.artifacts import OxideS3ArtifactRepository

    path, digest = large_file
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(5 * MiB))
    monkeypatch.setenv("MLFLOW_OXIDE_CONCURRENCY", "4")
    repo = OxideS3ArtifactRepository(f"s3://{bucket}/whole")
    repo.log_artifact(str(path))
    dst = tmp_path / "dst"
    dst.mkdir()
    local = repo.download_artifacts(path.name, str(dst))
    assert file_sha256(local) == digest
    assert os.listdir(dst) == [path.name]
