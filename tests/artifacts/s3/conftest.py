"""Fixtures for the native S3 artifact repository: a moto S3 server on a free local port (one
per session, plus dedicated ones for tests that kill theirs), the S3 environment MLflow and our
repository read, and a fresh bucket per test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.artifacts.conftest import free_port, host_env

MOTO_SERVER = str(Path(__import__("sys").executable).with_name("moto_server"))
REGION = "us-east-1"


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
        port = free_port()
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
    "MLFLOW_OXIDE_FILE_CONCURRENCY",
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


def child_env(endpoint: str, **extra: str) -> dict[str, str]:
    """Environment of a child Python: the host's minus MLflow/AWS settings, plus S3's."""
    env = host_env()
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
