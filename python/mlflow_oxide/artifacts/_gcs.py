"""MLflow's GCS artifact repository with the transfers done natively (our JSON-API client,
``src/core/artifacts/gcs.rs``, on tokio).

Credentials are the stock client's (google-auth's default chain), asked for through a
callback that refreshes them; ``STORAGE_EMULATOR_HOST`` sends unauthenticated requests to an
emulator, as google-cloud-storage does. Listing and deletion stay MLflow's.

Files below the multipart threshold are uploaded many at once (multipart uploads); larger ones
as resumable uploads, whose chunks the protocol takes in order (so one large file moves as
one stream, with memory bounded by the parts read ahead); downloads are ranged and parallel."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import mimetypes
import os
import posixpath

from mlflow.store.artifact.gcs_artifact_repo import GCSArtifactRepository

from mlflow_oxide import _native
from mlflow_oxide.artifacts import _transfers
from mlflow_oxide.artifacts._settings import Transfer, enabled

# Resumable-upload chunks are multiples of 256 KiB (all but the last).
_RESUMABLE_QUANTUM = 256 << 10
# Requests in flight against an emulator: gcp-storage-emulator serves one request at a time
# from a listen backlog of 5, and connections beyond it wait out TCP's SYN retries (1 s+).
_EMULATOR_CONCURRENCY = 4


def _settings() -> Transfer:
    settings = Transfer.from_env()
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        settings = dataclasses.replace(
            settings,
            concurrency=min(settings.concurrency, _EMULATOR_CONCURRENCY),
            file_concurrency=min(settings.file_concurrency, _EMULATOR_CONCURRENCY),
        )
    return settings


def _md5_hex(md5_base64: str | None) -> str | None:
    """GCS states an object's MD5 in base64; the native check reads it as hex (an ETag)."""
    if not md5_base64:
        return None
    try:
        return base64.b64decode(md5_base64).hex()
    except ValueError:
        return None


class OxideGCSArtifactRepository(_transfers.NativeUploads, GCSArtifactRepository):
    """``gs://`` repository: many files at once, ranged parallel downloads."""

    def __init__(
        self,
        artifact_uri,
        client=None,
        credential_refresh_def=None,
        tracking_uri=None,
        registry_uri=None,
    ):
        super().__init__(
            artifact_uri,
            client=client,
            credential_refresh_def=credential_refresh_def,
            tracking_uri=tracking_uri,
            registry_uri=registry_uri,
        )
        self._stock = client is not None or credential_refresh_def is not None

    def _native(self):
        if self._stock or not enabled():
            return None, None
        bucket, root = self.parse_gcs_uri(self.artifact_uri)
        emulator = os.environ.get("STORAGE_EMULATOR_HOST") or None
        credentials = None if emulator else getattr(self.client, "_credentials", None)
        if emulator is None and not hasattr(credentials, "refresh"):
            return None, None  # an anonymous client: MLflow's code handles it
        settings = Transfer.from_env()
        store = _transfers.cached_store(
            ("gcs", bucket, emulator, id(credentials), settings),
            lambda: _native.ArtifactStore.gcs(
                bucket,
                emulator=emulator,
                credentials=None if emulator else _token_source(credentials),
                max_retries=settings.max_retries,
                retry_timeout=settings.retry_timeout,
            ),
        )
        return store, root

    def _upload_specs(self, files):
        return [(local, key, mimetypes.guess_type(local)[0]) for local, key in files]

    def _upload_native(self, store, specs, desc):
        _transfers.upload(
            store, specs, self.artifact_uri, desc, _RESUMABLE_QUANTUM, settings=_settings()
        )

    def _download_file(self, remote_file_path, local_path):
        store, root = self._native()
        if store is None:
            return super()._download_file(remote_file_path, local_path)
        bucket, _ = self.parse_gcs_uri(self.artifact_uri)
        key = posixpath.join(root, remote_file_path)
        blob = self._get_bucket(bucket).get_blob(key)
        if blob is None or not _transfers.representable([key]):
            # MLflow's code raises what MLflow raises, and takes names object_store cannot.
            return super()._download_file(remote_file_path, local_path)
        files = [(key, local_path, int(blob.size or 0), _md5_hex(blob.md5_hash))]
        _transfers.download(store, files, self.artifact_uri, settings=_settings())

    def download_artifacts(self, artifact_path, dst_path=None):
        """MLflow's contract; a directory is listed once (JSON API, as MLflow lists) and its
        files fetched natively and concurrently."""
        store, root = self._native()
        if store is None:
            return super().download_artifacts(artifact_path, dst_path)
        dst_path = _transfers.destination(dst_path)
        bucket, _ = self.parse_gcs_uri(self.artifact_uri)
        root = root.rstrip("/")
        path = (artifact_path or "").strip("/")
        prefix = posixpath.join(root, path) if path else root
        listed = [
            (blob.name, int(blob.size or 0), _md5_hex(blob.md5_hash))
            for blob in self._get_bucket(bucket).list_blobs(prefix=prefix + "/" if prefix else "")
        ]
        parents = _transfers.parents(name for name, _, _ in listed)
        files = []
        for name, size, md5 in listed:
            if name.endswith("/") or (size == 0 and name in parents):
                # A folder placeholder: MLflow creates the directory.
                relative = posixpath.relpath(name.rstrip("/"), root) if root else name
                os.makedirs(self._create_download_destination(relative, dst_path), exist_ok=True)
                continue
            relative = posixpath.relpath(name, root) if root else name
            files.append((name, self._create_download_destination(relative, dst_path), size, md5))
        if not _transfers.representable(name for name, _, _, _ in files):
            return super().download_artifacts(artifact_path, dst_path)
        if not files:
            if not path:
                return dst_path
            # A single file (or nothing): MLflow's flow, which fetches it through
            # ``_download_file`` above and reports failures as MLflow does.
            return super().download_artifacts(artifact_path, dst_path)
        _transfers.download(store, files, self.artifact_uri, settings=_settings())
        return _transfers.downloaded(dst_path, path)


def _token_source(credentials):
    """``(token, expiry)`` from google-auth credentials, refreshed when no longer valid."""
    import threading

    from google.auth.transport.requests import Request

    lock = threading.Lock()

    def token():
        with lock:
            if not credentials.valid:
                credentials.refresh(Request())
            expiry = None
            if credentials.expiry is not None:  # google-auth keeps a naive UTC datetime
                expiry = credentials.expiry.replace(tzinfo=datetime.timezone.utc).timestamp()
            return credentials.token, expiry

    return token
