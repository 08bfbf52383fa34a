"""MLflow's S3 artifact repository with the transfers done natively (object_store, tokio).

Everything else (URI parsing, trace data, multipart-upload and presigned-URL APIs of the
proxied artifact server) is MLflow's own code: this class only replaces how bytes move. Object
keys are built exactly as the stock repository builds them, so either side reads what the
other wrote. Settings MLflow applies per request that the native client does not carry
(``MLFLOW_S3_UPLOAD_EXTRA_ARGS``, ``MLFLOW_S3_EXPECTED_BUCKET_OWNER``) send the call to the
stock implementation."""

from __future__ import annotations

import mimetypes
import os
import posixpath

from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

from mlflow_oxide import _native
from mlflow_oxide.artifacts import _transfers
from mlflow_oxide.artifacts._settings import Transfer, enabled


def _needs_stock() -> bool:
    from mlflow.environment_variables import (
        MLFLOW_S3_EXPECTED_BUCKET_OWNER,
        MLFLOW_S3_UPLOAD_EXTRA_ARGS,
    )

    return not enabled() or bool(
        MLFLOW_S3_UPLOAD_EXTRA_ARGS.get() or MLFLOW_S3_EXPECTED_BUCKET_OWNER.get()
    )


def _content_headers(path: str) -> tuple[str | None, str | None]:
    """``(Content-Type, Content-Encoding)`` as MLflow's S3 repository guesses them."""
    return mimetypes.guess_type(path)


# What boto3's credential and region resolution reads from the environment.
_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


def _listing_error(uri: str, e: Exception) -> MlflowException:
    return _transfers.failure("Listing artifacts in", uri, e)


class OxideS3ArtifactRepository(S3ArtifactRepository):
    """``s3://`` artifact repository: many files at once, multipart uploads and ranged
    parallel downloads, memory bounded by the parts in flight (see ``_settings``)."""

    def _native_store(self, bucket: str):
        from mlflow.environment_variables import (
            MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE,
            MLFLOW_S3_ENDPOINT_URL,
            MLFLOW_S3_IGNORE_TLS,
        )

        settings = Transfer.from_env()
        endpoint = MLFLOW_S3_ENDPOINT_URL.get() or None
        addressing = (MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE.get() or "auto").lower()
        key = (
            "s3",
            bucket,
            endpoint,
            addressing,
            bool(MLFLOW_S3_IGNORE_TLS.get()),
            settings.max_retries,
            settings.retry_timeout,
            self._access_key_id,
            self._secret_access_key,
            self._session_token,
            *(os.environ.get(v) for v in _AWS_ENV),
        )
        return _transfers.cached_store(
            key, lambda: self._build_store(bucket, endpoint, addressing, settings)
        )

    def _build_store(self, bucket: str, endpoint, addressing: str, settings: Transfer):
        import boto3
        from mlflow.environment_variables import MLFLOW_S3_IGNORE_TLS

        session = boto3.Session()
        region = session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
        if self._access_key_id:
            static = (self._access_key_id, self._secret_access_key, self._session_token)

            def credentials():
                return static
        else:
            # boto3's chain (environment, profiles, SSO, container and instance roles);
            # refreshable credentials renew themselves in get_frozen_credentials().
            resolved = session.get_credentials()
            credentials = None
            if resolved is not None:

                def credentials():
                    frozen = resolved.get_frozen_credentials()
                    return (frozen.access_key, frozen.secret_key, frozen.token)

        return _native.ArtifactStore.s3(
            bucket,
            region,
            endpoint=endpoint,
            ignore_tls=bool(MLFLOW_S3_IGNORE_TLS.get()),
            virtual_hosted=addressing == "virtual" or (addressing == "auto" and endpoint is None),
            credentials=credentials,
            max_retries=settings.max_retries,
            retry_timeout=settings.retry_timeout,
        )

    # --- uploads -------------------------------------------------------------------------

    def _upload(self, bucket: str, files: list[tuple[str, str]], desc: str) -> None:
        specs = [(local, key, *_content_headers(local)) for local, key in files]
        _transfers.upload(self._native_store(bucket), specs, self.artifact_uri, desc)

    def log_artifact(self, local_file, artifact_path=None):
        if _needs_stock():
            return super().log_artifact(local_file, artifact_path)
        bucket, dest_path = self.parse_s3_compliant_uri(self.artifact_uri)
        if artifact_path:
            dest_path = posixpath.join(dest_path, artifact_path)
        dest_path = posixpath.join(dest_path, os.path.basename(local_file))
        if not _transfers.representable([dest_path]):
            return super().log_artifact(local_file, artifact_path)
        self._upload(bucket, [(local_file, dest_path)], "Uploading artifact")

    def log_artifacts(self, local_dir, artifact_path=None):
        if _needs_stock():
            return super().log_artifacts(local_dir, artifact_path)
        bucket, dest_path = self.parse_s3_compliant_uri(self.artifact_uri)
        if artifact_path:
            dest_path = posixpath.join(dest_path, artifact_path)
        files = _transfers.walk(local_dir, dest_path)
        if not _transfers.representable(key for _, key in files):
            return super().log_artifacts(local_dir, artifact_path)
        if files:
            self._upload(bucket, files, "Uploading artifacts")

    # --- listing and deletion ------------------------------------------------------------

    def delete_artifacts(self, artifact_path=None):
        if _needs_stock():
            return super().delete_artifacts(artifact_path)
        bucket, dest_path = self.parse_s3_compliant_uri(self.artifact_uri)
        if artifact_path:
            dest_path = posixpath.join(dest_path, artifact_path)
        dest_path = dest_path.rstrip("/") if dest_path else ""
        if not _transfers.representable([dest_path]):
            return super().delete_artifacts(artifact_path)
        try:
            self._native_store(bucket).delete(dest_path)
        except _transfers.NATIVE_ERRORS as e:
            if _transfers.unrepresentable_listing(e):
                return super().delete_artifacts(artifact_path)
            raise MlflowException(
                f"Deleting {dest_path!r} in {self.artifact_uri} failed: {e}",
                error_code=INTERNAL_ERROR,
            ) from e

    # --- downloads -----------------------------------------------------------------------

    def _download_file(self, remote_file_path, local_path):
        if _needs_stock():
            return super()._download_file(remote_file_path, local_path)
        bucket, root = self.parse_s3_compliant_uri(self.artifact_uri)
        self._download(bucket, [(posixpath.join(root, remote_file_path), local_path, None, None)])

    def _download(self, bucket: str, files: list[tuple]) -> None:
        """``files``: ``(key, local_path, size | None, etag | None)``."""
        _transfers.download(self._native_store(bucket), files, self.artifact_uri)

    def download_artifacts(self, artifact_path, dst_path=None):
        """Same contract as MLflow's: every file of a directory is listed in one paginated
        listing and fetched concurrently (large files in parallel ranges)."""
        if _needs_stock():
            return super().download_artifacts(artifact_path, dst_path)
        dst_path = _transfers.destination(dst_path)
        bucket, root = self.parse_s3_compliant_uri(self.artifact_uri)
        root = root.rstrip("/")
        path = (artifact_path or "").strip("/")
        prefix = posixpath.join(root, path) if path else root
        if not _transfers.representable([prefix]):
            return super().download_artifacts(artifact_path, dst_path)
        store = self._native_store(bucket)
        try:
            listed = store.list_all(prefix + "/" if prefix else "")
        except (_native.StorageError, _native.NotFound) as e:
            if _transfers.unrepresentable_listing(e):
                return super().download_artifacts(artifact_path, dst_path)
            raise _listing_error(self.artifact_uri, e) from e
        parents = _transfers.parents(key for key, _, _ in listed)
        files = []
        for key, size, etag in listed:
            if size == 0 and key in parents:  # a directory marker ("dir/", listed as "dir")
                continue
            if size == 0 and self._is_directory_marker(bucket, key):
                # An empty directory's marker: MLflow creates the directory.
                relative = posixpath.relpath(key, root) if root else key
                os.makedirs(self._create_download_destination(relative, dst_path), exist_ok=True)
                continue
            self._verify_listed_object_contains_artifact_path_prefix(key, root)
            relative = posixpath.relpath(key, root) if root else key
            local = self._create_download_destination(relative, dst_path)
            files.append((key, local, size, etag))
        if not files:
            if not path:
                return dst_path
            # Not a directory: a single file (missing files fail as MLflow's do).
            local = self._create_download_destination(path, dst_path)
            files = [(prefix, local, None, None)]
        self._download(bucket, files)
        return _transfers.downloaded(dst_path, path)

    def _is_directory_marker(self, bucket: str, key: str) -> bool:
        """Whether the empty object listed as ``key`` is really ``key/`` (object_store drops
        the trailing slash); asked with MLflow's own client, for empty objects only."""
        listed = self._get_s3_client().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=2)
        keys = {o["Key"] for o in listed.get("Contents", [])}
        return key + "/" in keys and key not in keys

    def list_artifacts(self, path=None):
        if _needs_stock():
            return super().list_artifacts(path)
        bucket, artifact_path = self.parse_s3_compliant_uri(self.artifact_uri)
        dest_path = posixpath.join(artifact_path, path) if path else artifact_path
        dest_path = dest_path.rstrip("/") if dest_path else ""
        if not _transfers.representable([dest_path]):
            return super().list_artifacts(path)
        try:
            files, dirs = self._native_store(bucket).list(dest_path)
        except (_native.StorageError, _native.NotFound) as e:
            if _transfers.unrepresentable_listing(e):
                return super().list_artifacts(path)
            raise _listing_error(self.artifact_uri, e) from e
        dir_keys = {d.rstrip("/") for d in dirs}
        # Directory markers ("dir/", 0 bytes) come back without their slash: skip them as
        # MLflow does (the listed directory's own marker, or one standing beside its dir).
        files = [
            (key, size)
            for key, size in files
            if not (size == 0 and (key == dest_path or key in dir_keys))
        ]
        infos = []
        for prefix in dirs:
            self._verify_listed_object_contains_artifact_path_prefix(prefix, artifact_path)
            infos.append(FileInfo(posixpath.relpath(prefix, artifact_path), True, None))
        for key, size in files:
            self._verify_listed_object_contains_artifact_path_prefix(key, artifact_path)
            infos.append(FileInfo(posixpath.relpath(key, artifact_path), False, int(size)))
        return sorted(infos, key=lambda f: f.path)
