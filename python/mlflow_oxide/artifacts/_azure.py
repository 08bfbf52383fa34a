"""MLflow's Azure artifact repositories (``wasbs://`` Blob Storage, ``abfss://`` ADLS Gen2)
with the transfers done natively (object_store's Azure client, tokio).

Credentials are resolved as MLflow resolves them:

- ``wasbs://``: ``AZURE_STORAGE_CONNECTION_STRING`` (whose account then wins over the URI's,
  as with MLflow), else ``AZURE_STORAGE_ACCESS_KEY`` for the URI's account, else
  ``DefaultAzureCredential`` (its tokens are asked for through a callback and refreshed
  before they expire).
- ``abfss://``: ``AZURE_STORAGE_SAS_TOKEN``, else ``DefaultAzureCredential``; bytes go through
  the account's blob endpoint, which serves the same files on hierarchical-namespace accounts.
  A connection string naming the same account is used too (MLflow's ADLS repository does not
  read one; it is how a local emulator such as Azurite is reached).

A repository built with an injected ``client`` / ``credential`` (MLflow's tests, Databricks'
refreshing credentials) keeps MLflow's code throughout."""

from __future__ import annotations

import os
import posixpath

from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository
from mlflow.store.artifact.azure_data_lake_artifact_repo import (
    AzureDataLakeArtifactRepository,
    _parse_abfss_uri,
)

from mlflow_oxide import _native
from mlflow_oxide.artifacts import _transfers
from mlflow_oxide.artifacts._settings import Transfer, enabled

# Azurite's documented development account (``UseDevelopmentStorage=true``).
_DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_STORAGE_SCOPE = "https://storage.azure.com/.default"
_AZURE_ENV = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "MLFLOW_TRACKING_INSECURE_TLS",
)


def parse_connection_string(conn: str) -> dict[str, str]:
    """``Key=Value;...`` as the Azure SDKs read it (values may contain ``=``)."""
    fields = {}
    for part in conn.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise MlflowException.invalid_parameter_value(
                f"AZURE_STORAGE_CONNECTION_STRING has a malformed field {key.strip()!r}"
            )
        fields[key.strip()] = value.strip()
    if fields.get("UseDevelopmentStorage", "").lower() == "true":
        fields.setdefault("AccountName", _DEV_ACCOUNT)
        fields.setdefault("AccountKey", _DEV_KEY)
        fields.setdefault("BlobEndpoint", f"http://127.0.0.1:10000/{_DEV_ACCOUNT}")
    return fields


def _connection_target(fields: dict[str, str]) -> tuple[str, str]:
    """``(account, blob endpoint)`` a connection string names."""
    account = fields.get("AccountName")
    endpoint = fields.get("BlobEndpoint")
    if not account and endpoint:
        account = endpoint.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
    if not account:
        raise MlflowException.invalid_parameter_value(
            "AZURE_STORAGE_CONNECTION_STRING names no AccountName"
        )
    if not endpoint:
        protocol = fields.get("DefaultEndpointsProtocol", "https")
        suffix = fields.get("EndpointSuffix", "core.windows.net")
        endpoint = f"{protocol}://{account}.blob.{suffix}"
    return account, endpoint


def _token_source(credential=None):
    """A callback giving ``(token, expires_on)`` for Azure Storage from ``credential``
    (``DefaultAzureCredential()`` when none), as the SDK's bearer-token policy asks it."""
    if credential is None:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError as exc:
            raise ImportError(
                "Using DefaultAzureCredential requires the azure-identity package. "
                "Please install it via: pip install mlflow[azure]"
            ) from exc
        credential = DefaultAzureCredential()

    def token():
        answer = credential.get_token(_STORAGE_SCOPE)
        return answer.token, float(answer.expires_on)

    return token


def _ignore_tls(artifact_uri: str) -> bool:
    from mlflow.utils.credentials import get_default_host_creds

    return get_default_host_creds(artifact_uri).verify is False


def _store(key: tuple, build):
    return _transfers.cached_store(("azure", *key, *(os.environ.get(v) for v in _AZURE_ENV)), build)


def _native_store(container: str, account: str, blob_suffix: str, ignore_tls: bool, *, adls):
    """The native store for ``container`` of ``account``, credentials resolved as the MLflow
    repository for that scheme resolves them (see the module docstring)."""
    settings = Transfer.from_env()
    kwargs = {
        "ignore_tls": ignore_tls,
        "max_retries": settings.max_retries,
        "retry_timeout": settings.retry_timeout,
    }
    conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if conn:
        fields = parse_connection_string(conn)
        conn_account, endpoint = _connection_target(fields)
        if not adls or conn_account == account:
            return _store(
                (container, conn_account, endpoint, settings),
                lambda: _native.ArtifactStore.azure(
                    conn_account,
                    container,
                    endpoint=endpoint,
                    access_key=fields.get("AccountKey"),
                    sas=fields.get("SharedAccessSignature"),
                    **kwargs,
                ),
            )
    endpoint = f"https://{account}.{blob_suffix}"
    access_key = None if adls else os.environ.get("AZURE_STORAGE_ACCESS_KEY")
    sas = os.environ.get("AZURE_STORAGE_SAS_TOKEN") if adls else None
    return _store(
        (container, account, endpoint, settings, adls),
        lambda: _native.ArtifactStore.azure(
            account,
            container,
            endpoint=endpoint,
            access_key=access_key,
            sas=sas,
            credentials=None if (access_key or sas) else _token_source(),
            **kwargs,
        ),
    )


class OxideAzureBlobArtifactRepository(_transfers.NativeUploads, AzureBlobArtifactRepository):
    """``wasbs://`` repository: many blobs at once, block uploads in parallel for large files,
    ranged parallel downloads; memory bounded by the parts in flight."""

    _convert_relative = False  # MLflow's Azure repository joins the OS-relative path as is

    def __init__(self, artifact_uri, client=None, tracking_uri=None, registry_uri=None):
        super().__init__(
            artifact_uri, client=client, tracking_uri=tracking_uri, registry_uri=registry_uri
        )
        self._stock = client is not None

    def _native(self):
        if self._stock or not enabled():
            return None, None
        container, account, root, suffix = self.parse_wasbs_uri(self.artifact_uri)
        store = _native_store(
            container, account, suffix, _ignore_tls(self.artifact_uri), adls=False
        )
        return store, root

    def list_artifacts(self, path=None):
        store, artifact_path = self._native()
        if store is None:
            return super().list_artifacts(path)
        dest_path = posixpath.join(artifact_path, path) if path else artifact_path
        if not _transfers.representable([dest_path.rstrip("/")]):
            return super().list_artifacts(path)
        try:
            files, dirs = store.list(dest_path.rstrip("/"))
        except _transfers.NATIVE_ERRORS as e:
            if _transfers.unrepresentable_listing(e):
                return super().list_artifacts(path)
            raise _transfers.failure("Listing artifacts in", self.artifact_uri, e) from e
        infos = []
        for name in dirs:
            if not name.startswith(artifact_path):
                raise MlflowException(
                    "The name of the listed Azure blob does not begin with the specified"
                    f" artifact path. Artifact path: {artifact_path}. Blob name: {name}"
                )
            infos.append(FileInfo(posixpath.relpath(name, artifact_path), True, None))
        for name, size in files:
            if not name.startswith(artifact_path):
                raise MlflowException(
                    "The name of the listed Azure blob does not begin with the specified"
                    f" artifact path. Artifact path: {artifact_path}. Blob name: {name}"
                )
            infos.append(FileInfo(posixpath.relpath(name, artifact_path), False, int(size)))
        return sorted(infos, key=lambda f: f.path)

    def _download_file(self, remote_file_path, local_path):
        store, root = self._native()
        if store is None:
            return super()._download_file(remote_file_path, local_path)
        remote_full_path = posixpath.join(root, remote_file_path)
        if not _transfers.representable([remote_full_path]):
            return super()._download_file(remote_file_path, local_path)
        settings = Transfer.from_env()
        try:
            store.download(
                [(remote_full_path, local_path, None, None)],
                settings.concurrency,
                settings.part_size,
                settings.multipart_threshold,
            )
        except _native.NotFound as e:
            raise MlflowException(
                f"No such file or directory: '{remote_full_path}'",
                error_code=RESOURCE_DOES_NOT_EXIST,
            ) from e
        except _transfers.NATIVE_ERRORS as e:
            raise _transfers.failure("Downloading artifacts from", self.artifact_uri, e) from e

    def download_artifacts(self, artifact_path, dst_path=None):
        """MLflow's contract; a directory is listed once and its files fetched concurrently
        (large ones in parallel ranges)."""
        store, root = self._native()
        if store is None:
            return super().download_artifacts(artifact_path, dst_path)
        dst_path = _transfers.destination(dst_path)
        root = root.rstrip("/")
        path = (artifact_path or "").strip("/")
        prefix = posixpath.join(root, path) if path else root
        if not _transfers.representable([prefix]):
            return super().download_artifacts(artifact_path, dst_path)
        try:
            listed = store.list_all(prefix)
        except _transfers.NATIVE_ERRORS as e:
            if _transfers.unrepresentable_listing(e):
                return super().download_artifacts(artifact_path, dst_path)
            raise _transfers.failure("Listing artifacts in", self.artifact_uri, e) from e
        # Hadoop/ABFS directory placeholders: empty blobs named like a directory of others.
        parents = _transfers.parents(key for key, _, _ in listed)
        container = self.parse_wasbs_uri(self.artifact_uri)[0]
        files = []
        for key, size, etag in listed:
            if size == 0 and key in parents:
                continue
            relative = posixpath.relpath(key, root) if root else key
            if size == 0 and self._is_folder_marker(container, key):
                # ``key/`` (object_store drops the slash): MLflow creates the directory.
                os.makedirs(self._create_download_destination(relative, dst_path), exist_ok=True)
                continue
            files.append((key, self._create_download_destination(relative, dst_path), size, etag))
        if not files:
            if not path:
                return dst_path
            files = [(prefix, self._create_download_destination(path, dst_path), None, None)]
        _transfers.download(store, files, self.artifact_uri)
        return _transfers.downloaded(dst_path, path)

    def _is_folder_marker(self, container: str, key: str) -> bool:
        """Whether the empty blob listed as ``key`` is really ``key/`` (asked with MLflow's
        client, for empty blobs only)."""
        client = self.client.get_container_client(container)
        names = {b.name for b in client.list_blobs(name_starts_with=key, results_per_page=2)}
        return key + "/" in names and key not in names

    # Deletion stays MLflow's (one blob at a time): it handles folder markers and names
    # object_store cannot represent exactly as MLflow does, and it is not a transfer.


class OxideAzureDataLakeArtifactRepository(
    _transfers.NativeUploads, AzureDataLakeArtifactRepository
):
    """``abfss://`` repository: uploads and file downloads native through the account's blob
    endpoint; listing (and the DFS-only parts of the contract) stay MLflow's."""

    def __init__(
        self,
        artifact_uri,
        credential=None,
        credential_refresh_def=None,
        tracking_uri=None,
        registry_uri=None,
    ):
        super().__init__(
            artifact_uri,
            credential=credential,
            credential_refresh_def=credential_refresh_def,
            tracking_uri=tracking_uri,
            registry_uri=registry_uri,
        )
        self._stock = credential is not None or credential_refresh_def is not None

    def _native(self):
        if self._stock or not enabled():
            return None, None
        filesystem, account, suffix, root = _parse_abfss_uri(self.artifact_uri)
        blob_suffix = suffix.replace("dfs.", "blob.", 1)
        store = _native_store(
            filesystem, account, blob_suffix, _ignore_tls(self.artifact_uri), adls=True
        )
        return store, root

    def _download_from_cloud(self, remote_file_path, local_path):
        store, root = self._native()
        if store is None:
            return super()._download_from_cloud(remote_file_path, local_path)
        key = posixpath.join(root, remote_file_path)
        if not _transfers.representable([key]):
            return super()._download_from_cloud(remote_file_path, local_path)
        _transfers.download(store, [(key, local_path, None, None)], self.artifact_uri)
