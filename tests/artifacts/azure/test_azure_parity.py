"""``OxideAzureBlobArtifactRepository`` (``wasbs://``) against MLflow's own
``AzureBlobArtifactRepository`` on an Azurite server: registration, blob layout and properties,
listings, downloads, deletions, errors and credentials; ``OxideAzureDataLakeArtifactRepository``
(``abfss://``) through the same container (Azurite has no DFS endpoint, so MLflow's own ADLS
repository cannot run here: what ours writes is read back through the blob API); and an
end-to-end model round trip through MLflow with a ``wasbs://`` experiment."""

from __future__ import annotations

import hashlib
import json
import math
import os
import posixpath
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository
from mlflow.store.artifact.azure_data_lake_artifact_repo import (
    AzureDataLakeArtifactRepository,
    _parse_abfss_uri,
)
from mlflow_oxide.artifacts import (
    OxideAzureBlobArtifactRepository,
    OxideAzureDataLakeArtifactRepository,
)
from mlflow_oxide.artifacts import _azure as oxide_azure

from tests.artifacts.azure.conftest import (
    ACCOUNT,
    abfss,
    apply_azure_environment,
    drop_container,
    make_service,
    new_container_name,
    wasbs,
)
from tests.artifacts.conftest import MiB, file_sha256, write_random_file
from tests.conftest import release_tracking

PART = 5 * MiB
BIG = 23 * MiB  # above the 5 MiB threshold set below: blocks of 5 MiB
UNICODE_NAME = "ünïcödé 文件.txt"
NFD_NAME = unicodedata.normalize("NFD", "café.json")  # decomposed: names are kept as given
EXTENSIONS = [".txt", ".json", ".csv", ".yaml", ".html", ".png", ".pkl", ".md", ""]


def _err(exc: BaseException) -> dict:
    return {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "code": getattr(exc, "error_code", None),
        "message": str(exc),
    }


def build_tree(root: Path, *, big: bool) -> dict[str, str]:
    """The local tree every repository logs: nested directories, a 0-byte file, unicode and
    spaces and URL-reserved characters in names, 30 small files of various types, and (with
    ``big``) one file above the multipart threshold. Returns ``{relative path: sha256}``."""
    files: dict[str, str] = {}

    def put(rel: str, data: bytes) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[rel] = hashlib.sha256(data).hexdigest()

    put("MLmodel", b"artifact_path: model\nflavors: {}\n")
    put("empty.txt", b"")
    put("sp ace.md", b"# a title\n")
    put("archive.tar.gz", os.urandom(300))
    for i in range(30):
        put(f"data/file_{i:02d}{EXTENSIONS[i % len(EXTENSIONS)]}", os.urandom(1 + 97 * i))
    put("nested/top.csv", b"a,b\n1,2\n")
    put("nested/deeper/mid.txt", b"mid\n")
    put("nested/deeper/deepest/leaf.json", b'{"leaf": true}')
    put(f"with space/{UNICODE_NAME}", "données ✓\n".encode())
    put("with space/sub dir/a b.yaml", b"k: v\n")
    put(f"with space/{NFD_NAME}", b"{}")
    put("special/x+y=1%.txt", b"plus equals percent")
    put("special/h#ash?.txt", b"hash question")
    if big:
        files["big.bin"] = write_random_file(root / "big.bin", BIG)
    return files


def log_everything(repo, tree: Path, extra: Path) -> None:
    """The same calls on either repository: directories with and without ``artifact_path``,
    single files with and without."""
    repo.log_artifacts(str(tree))
    repo.log_artifacts(str(tree / "nested"), "under/path")
    repo.log_artifact(str(tree / "MLmodel"), "single/model")
    repo.log_artifact(str(extra))


def expected_layout(files: dict[str, str], extra: Path) -> dict[str, str]:
    layout = dict(files)
    for rel, digest in files.items():
        if rel.startswith("nested/"):
            layout["under/path/" + rel.removeprefix("nested/")] = digest
    layout["single/model/MLmodel"] = files["MLmodel"]
    layout[extra.name] = file_sha256(extra)
    return layout


def stored_blobs(service, container: str, prefix: str) -> dict[str, tuple]:
    """``{name relative to prefix: (size, sha256, Content-Type, blob type)}`` as the server
    holds them."""
    client = service.get_container_client(container)
    out = {}
    for blob in client.list_blobs(name_starts_with=prefix + "/"):
        digest = hashlib.sha256()
        for chunk in client.download_blob(blob.name).chunks():
            digest.update(chunk)
        out[blob.name.removeprefix(prefix + "/")] = (
            blob.size,
            digest.hexdigest(),
            blob.content_settings.content_type,
            str(blob.blob_type),
        )
    return out


def blob_names(service, container: str, prefix: str) -> list[str]:
    client = service.get_container_client(container)
    return sorted(
        b.name.removeprefix(prefix + "/") for b in client.list_blobs(name_starts_with=prefix + "/")
    )


def local_tree(base: str | Path) -> dict[str, str]:
    """``{relative posix path: sha256 | '<dir>'}`` of everything under ``base``."""
    base = str(base)
    out = {}
    for root, dirs, names in os.walk(base):
        rel_root = os.path.relpath(root, base)
        for d in dirs:
            out[posixpath.normpath(posixpath.join(rel_root, d))] = "<dir>"
        for n in names:
            out[posixpath.normpath(posixpath.join(rel_root, n))] = file_sha256(
                os.path.join(root, n)
            )
    return out


def _files_only(tree: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tree.items() if v != "<dir>"}


@dataclass
class Logged:
    container: str
    files: dict[str, str]
    layout: dict[str, str]
    uris: dict[str, str]  # "ours" / "stock" -> the artifact root each repository wrote
    tree: Path
    extra: Path

    def repos(self, prefix: str):
        uri = self.uris[prefix]
        return OxideAzureBlobArtifactRepository(uri), AzureBlobArtifactRepository(uri)


@pytest.fixture(scope="module")
def logged(azurite, tmp_path_factory) -> Logged:
    """One tree logged once by each repository into its own prefix of one container (block
    size and multipart threshold 5 MiB, so the big file goes in blocks)."""
    root = tmp_path_factory.mktemp("logged")
    files = build_tree(root / "tree", big=True)
    extra = root / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    service = make_service(azurite.connection_string)
    container = new_container_name()
    service.create_container(container)
    uris = {"ours": wasbs(container, "ours/run"), "stock": wasbs(container, "stock/run")}
    with pytest.MonkeyPatch.context() as mp:
        apply_azure_environment(mp, azurite.connection_string)
        mp.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
        mp.setenv("MLFLOW_OXIDE_MULTIPART_THRESHOLD", str(PART))
        log_everything(OxideAzureBlobArtifactRepository(uris["ours"]), root / "tree", extra)
        log_everything(AzureBlobArtifactRepository(uris["stock"]), root / "tree", extra)
    yield Logged(container, files, expected_layout(files, extra), uris, root / "tree", extra)
    drop_container(service, container)


# --- registration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_uri", "ours"),
    [(wasbs, OxideAzureBlobArtifactRepository), (abfss, OxideAzureDataLakeArtifactRepository)],
)
def test_registry_returns_oxide_repository(container, make_uri, ours):
    uri = make_uri(container, "some/root")
    repo = get_artifact_repository(uri)
    assert type(repo) is ours
    assert repo.artifact_uri == uri


@pytest.mark.parametrize("value", ["0", "false", "off"])
@pytest.mark.parametrize(
    ("make_uri", "stock"),
    [(wasbs, AzureBlobArtifactRepository), (abfss, AzureDataLakeArtifactRepository)],
)
def test_registry_disabled_returns_stock(container, monkeypatch, value, make_uri, stock):
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", value)
    repo = get_artifact_repository(make_uri(container, "some/root"))
    assert type(repo) is stock


def _forbid_native(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the native store was used")

    monkeypatch.setattr(oxide_azure, "_native_store", refuse)


def test_injected_client_keeps_mlflow_code(container, service, tmp_path, monkeypatch):
    """A repository built with a ``client`` (MLflow's tests, Databricks) never goes native,
    and behaves as stock with the same client."""
    _forbid_native(monkeypatch)
    (tmp_path / "f.txt").write_text("injected")
    ours = OxideAzureBlobArtifactRepository(wasbs(container, "ours"), client=service)
    stock = AzureBlobArtifactRepository(wasbs(container, "stock"), client=service)
    for repo in (ours, stock):
        repo.log_artifact(str(tmp_path / "f.txt"), "d")
    assert [(f.path, f.file_size) for f in ours.list_artifacts("d")] == [
        (f.path, f.file_size) for f in stock.list_artifacts("d")
    ]
    assert stored_blobs(service, container, "ours") == stored_blobs(service, container, "stock")


def test_disabling_at_run_time_hands_calls_to_mlflow(container, service, tmp_path, monkeypatch):
    """``MLFLOW_OXIDE_ARTIFACTS=0`` is read on every call, also by a repository built before."""
    ours = OxideAzureBlobArtifactRepository(wasbs(container, "root"))
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", "0")
    _forbid_native(monkeypatch)
    (tmp_path / "f.txt").write_text("stock code")
    ours.log_artifact(str(tmp_path / "f.txt"))
    assert [f.path for f in ours.list_artifacts()] == ["f.txt"]
    assert blob_names(service, container, "root") == ["f.txt"]


# --- what is stored ------------------------------------------------------------------------


def test_upload_layout_parity(logged, service):
    """Same blob names (relative to each root), sizes, bytes, Content-Type and blob type as
    stock wrote."""
    ours = stored_blobs(service, logged.container, "ours/run")
    stock = stored_blobs(service, logged.container, "stock/run")
    assert sorted(ours) == sorted(logged.layout)
    assert {k: v[1] for k, v in ours.items()} == logged.layout
    assert ours == stock


def test_big_file_went_in_configured_blocks(logged, service):
    """23 MiB with a 5 MiB part size: committed as ceil(23 / 5) blocks of at most 5 MiB (the
    SDK would have sent it in one Put Blob)."""
    blob = service.get_blob_client(logged.container, "ours/run/big.bin")
    committed, uncommitted = blob.get_block_list("all")
    assert len(committed) == math.ceil(BIG / PART)
    assert sum(b.size for b in committed) == BIG
    assert max(b.size for b in committed) <= PART
    assert uncommitted == []


def test_overwrite_parity(container, service, tmp_path, monkeypatch):
    """Logging over existing blobs replaces them, small over large and large over small, as
    stock's ``overwrite=True``."""
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
    versions = {}
    for name, sizes in (("grows.bin", (10, 6 * MiB)), ("shrinks.bin", (6 * MiB, 10))):
        versions[name] = []
        for n, size in enumerate(sizes):
            write_random_file(tmp_path / f"{name}.{n}", size)
            versions[name].append((tmp_path / f"{name}.{n}").read_bytes())
    for side, cls in (
        ("ours", OxideAzureBlobArtifactRepository),
        ("stock", AzureBlobArtifactRepository),
    ):
        repo = cls(wasbs(container, side))
        (tmp_path / side).mkdir()
        for name, datas in versions.items():
            for data in datas:
                (tmp_path / side / name).write_bytes(data)
                repo.log_artifact(str(tmp_path / side / name))
    ours = stored_blobs(service, container, "ours")
    assert ours == stored_blobs(service, container, "stock")
    assert {k: v[1] for k, v in ours.items()} == {
        name: hashlib.sha256(datas[-1]).hexdigest() for name, datas in versions.items()
    }


# --- listing -------------------------------------------------------------------------------

LIST_PATHS = [
    None,
    "",
    "data",
    "nested",
    "nested/deeper",
    "nested/deeper/",
    "with space",
    "with space/sub dir",
    "special",
    "under/path",
    "single",
    "MLmodel",  # a file: empty listing
    "with space/" + UNICODE_NAME,
    "missing",
    "data/file_0",  # a prefix of sibling names, not a directory
]


@pytest.mark.parametrize("prefix", ["ours", "stock"])
@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_artifacts_parity(logged, prefix, path):
    """Over the same data (written by either side), both list the same ``FileInfo``s."""
    ours, stock = logged.repos(prefix)
    expected = stock.list_artifacts(path)
    got = ours.list_artifacts(path)
    assert [(f.path, f.is_dir, f.file_size) for f in got] == [
        (f.path, f.is_dir, f.file_size) for f in expected
    ]


def test_list_artifacts_root_content(logged):
    ours, _ = logged.repos("ours")
    top = {f.path: (f.is_dir, f.file_size) for f in ours.list_artifacts()}
    assert top["big.bin"] == (False, BIG)
    assert top["empty.txt"] == (False, 0)
    assert top["with space"] == (True, None)
    assert top["extra file ✓.json"][0] is False


# --- downloading ---------------------------------------------------------------------------

DOWNLOADS = [
    (None, True),
    (None, False),
    ("", True),
    ("nested", True),
    ("nested", False),
    ("with space/", True),
    ("under/path/deeper", True),
    ("MLmodel", True),
    ("MLmodel", False),
    ("empty.txt", True),
    ("with space/" + UNICODE_NAME, True),
    ("special/h#ash?.txt", True),
    ("special/x+y=1%.txt", True),
    ("big.bin", True),
]


def _download(repo, path, dst: Path | None):
    """Return (path returned relative to the destination, local tree of the destination)."""
    if dst is not None:
        dst.mkdir()
        returned = repo.download_artifacts(path, str(dst))
        base = str(dst)
    else:
        returned = repo.download_artifacts(path)
        # MLflow makes a temporary directory and returns <it>/<path>.
        suffix = os.path.normpath(path) if path else ""
        base = returned[: -len(suffix)].rstrip(os.sep) if suffix else returned
        assert (os.path.join(base, suffix) if suffix else base) == returned
    assert os.path.isabs(returned)
    return os.path.relpath(returned, base), local_tree(base)


@pytest.mark.parametrize("prefix", ["ours", "stock"])
@pytest.mark.parametrize(("path", "with_dst"), DOWNLOADS)
def test_download_artifacts_parity(logged, tmp_path, prefix, path, with_dst):
    ours, stock = logged.repos(prefix)
    expected = _download(stock, path, tmp_path / "stock" if with_dst else None)
    got = _download(ours, path, tmp_path / "ours" if with_dst else None)
    assert got == expected


@pytest.mark.parametrize("reader", ["ours", "stock"])
def test_each_reads_what_the_other_wrote(logged, tmp_path, reader):
    """The whole root written by one side, downloaded by the other, is the logged tree."""
    writer = "stock" if reader == "ours" else "ours"
    cls = OxideAzureBlobArtifactRepository if reader == "ours" else AzureBlobArtifactRepository
    repo = cls(logged.uris[writer])
    dst = tmp_path / "dst"
    dst.mkdir()
    assert repo.download_artifacts("", str(dst)) == str(dst)
    assert _files_only(local_tree(dst)) == logged.layout


def test_big_file_ranged_download(logged, tmp_path, monkeypatch):
    """With a 5 MiB part size the big blob comes down in parallel ranges: same bytes as stock
    downloads, and nothing temporary left beside it."""
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
    monkeypatch.setenv("MLFLOW_OXIDE_CONCURRENCY", "3")
    ours, stock = logged.repos("stock")
    (tmp_path / "ours").mkdir()
    (tmp_path / "stock").mkdir()
    got = ours.download_artifacts("big.bin", str(tmp_path / "ours"))
    expected = stock.download_artifacts("big.bin", str(tmp_path / "stock"))
    assert file_sha256(got) == file_sha256(expected)
    assert local_tree(tmp_path / "ours") == local_tree(tmp_path / "stock")


# --- deleting ------------------------------------------------------------------------------


@pytest.fixture
def small_logged(container, tmp_path) -> tuple[str, dict[str, str]]:
    """The tree without the big file, logged by each side into its own prefix."""
    files = build_tree(tmp_path / "tree", big=False)
    extra = tmp_path / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    log_everything(
        OxideAzureBlobArtifactRepository(wasbs(container, "ours")), tmp_path / "tree", extra
    )
    log_everything(AzureBlobArtifactRepository(wasbs(container, "stock")), tmp_path / "tree", extra)
    return container, expected_layout(files, extra)


def _delete(repo, path):
    try:
        repo.delete_artifacts(path)
    except Exception as e:
        return _err(e) | {"message": str(e).replace("ours", "<root>").replace("stock", "<root>")}
    return None


@pytest.mark.parametrize(
    "path",
    [
        None,
        "nested",
        "nested/deeper",
        "with space",
        "under/path/",
        "special",
        "data/file_0",  # a prefix of sibling names: deletes nothing
        "missing",
        "MLmodel",  # a single file
        "with space/" + UNICODE_NAME,  # a single file
    ],
)
def test_delete_artifacts_parity(small_logged, service, path):
    """Same blobs left, same listing after, and the same error (type, code, message with the
    root swapped) where stock raises one."""
    container, layout = small_logged
    ours = OxideAzureBlobArtifactRepository(wasbs(container, "ours"))
    stock = AzureBlobArtifactRepository(wasbs(container, "stock"))
    assert blob_names(service, container, "ours") == blob_names(service, container, "stock")
    assert blob_names(service, container, "ours") == sorted(layout)
    assert _delete(ours, path) == _delete(stock, path)
    left = {side: set(blob_names(service, container, side)) for side in ("ours", "stock")}
    assert left["ours"] == left["stock"], {
        "left only by ours": sorted(left["ours"] - left["stock"]),
        "left only by stock": sorted(left["stock"] - left["ours"]),
    }
    assert ours.list_artifacts() == stock.list_artifacts()


def test_delete_missing_path_error(container):
    """Nothing under the path: stock's ``MlflowException`` "No such file or directory"."""
    uri = wasbs(container, "root")
    errors = [
        _delete(cls(uri), "nothing/here")
        for cls in (AzureBlobArtifactRepository, OxideAzureBlobArtifactRepository)
    ]
    assert errors[0] is not None and "No such file or directory" in errors[0]["message"]
    assert errors[1] == errors[0]


# --- Hadoop directory placeholders (empty blobs with ``hdi_isfolder=true`` that the WASB
# driver and Azure tools write for directories) ----------------------------------------------


@pytest.fixture
def with_placeholders(container, service) -> str:
    client = service.get_container_client(container)
    for name, body, metadata in [
        ("root/a.txt", b"a", None),
        ("root/empty-folder", b"", {"hdi_isfolder": "true"}),
        ("root/folder", b"", {"hdi_isfolder": "true"}),
        ("root/folder/inner.txt", b"inner", None),
    ]:
        client.upload_blob(name, body, metadata=metadata)
    return wasbs(container, "root")


@pytest.mark.parametrize("path", [None, "folder", "empty-folder"])
def test_placeholders_list_parity(with_placeholders, path):
    ours = OxideAzureBlobArtifactRepository(with_placeholders)
    stock = AzureBlobArtifactRepository(with_placeholders)
    assert [(f.path, f.is_dir, f.file_size) for f in ours.list_artifacts(path)] == [
        (f.path, f.is_dir, f.file_size) for f in stock.list_artifacts(path)
    ]


@pytest.mark.parametrize("path", ["folder", "empty-folder", "folder/inner.txt"])
def test_placeholders_download_parity(with_placeholders, tmp_path, path):
    ours = OxideAzureBlobArtifactRepository(with_placeholders)
    stock = AzureBlobArtifactRepository(with_placeholders)
    assert _download(ours, path, tmp_path / "ours") == _download(stock, path, tmp_path / "stock")


# --- zero-byte blobs named like a directory ("folder/"), as S3-minded tools and some Azure
# tools write them -----------------------------------------------------------------------------

SLASH_MARKERS = [
    ("a.txt", b"a"),
    ("empty-folder/", b""),
    ("folder/", b""),
    ("folder/inner.txt", b"inner"),
]


def _put_blobs(service, container: str, prefix: str, blobs) -> str:
    client = service.get_container_client(container)
    for name, body in blobs:
        client.upload_blob(f"{prefix}/{name}", body)
    return wasbs(container, prefix)


@pytest.mark.parametrize("path", [None, "empty-folder"])
def test_slash_markers_list_parity(container, service, path):
    """(Listing "folder" itself is left out: stock lists its own "folder/" blob inside it, as a
    file named "folder", an MLflow quirk not worth copying.)"""
    uri = _put_blobs(service, container, "root", SLASH_MARKERS)
    ours = OxideAzureBlobArtifactRepository(uri)
    stock = AzureBlobArtifactRepository(uri)
    assert [(f.path, f.is_dir, f.file_size) for f in ours.list_artifacts(path)] == [
        (f.path, f.is_dir, f.file_size) for f in stock.list_artifacts(path)
    ]


@pytest.mark.parametrize("path", ["", "folder", "folder/inner.txt"])
def test_slash_markers_download_parity(container, service, tmp_path, path):
    """Stock makes "empty-folder/" an empty local directory."""
    uri = _put_blobs(service, container, "root", SLASH_MARKERS)
    ours = OxideAzureBlobArtifactRepository(uri)
    stock = AzureBlobArtifactRepository(uri)
    assert _download(ours, path, tmp_path / "ours") == _download(stock, path, tmp_path / "stock")


@pytest.mark.parametrize("path", [None, "folder", "empty-folder"])
def test_slash_markers_delete_parity(container, service, path):
    """Stock deletes the "folder/" blobs with their directory (and a root holding them)."""
    ours = OxideAzureBlobArtifactRepository(_put_blobs(service, container, "ours", SLASH_MARKERS))
    stock = AzureBlobArtifactRepository(_put_blobs(service, container, "stock", SLASH_MARKERS))
    assert _delete(ours, path) == _delete(stock, path)
    assert blob_names(service, container, "ours") == blob_names(service, container, "stock")
    assert ours.list_artifacts() == stock.list_artifacts()


# --- blob names with an empty segment ("a//b") ----------------------------------------------


def test_root_with_empty_segment_upload_parity(container, service, tmp_path):
    """An artifact location typed with a doubled slash: stock writes blobs named with it (and
    never raises anything but an ``MlflowException`` through ours)."""
    files = build_tree(tmp_path / "tree", big=False)
    for side, cls in (
        ("ours", OxideAzureBlobArtifactRepository),
        ("stock", AzureBlobArtifactRepository),
    ):
        repo = cls(wasbs(container, f"{side}/team//exp"))
        repo.log_artifacts(str(tmp_path / "tree"))
        repo.log_artifact(str(tmp_path / "tree" / "MLmodel"), "model//v1")
    ours = stored_blobs(service, container, "ours")
    assert ours == stored_blobs(service, container, "stock")
    assert len(ours) == len(files) + 1


FOREIGN = [("x.txt", b"x"), ("dd//z.txt", b"z"), ("sub/y.txt", b"y")]


@pytest.mark.parametrize("op", ["list", "download", "delete"])
def test_foreign_blob_with_empty_segment(container, service, tmp_path, op):
    """A blob named with "//" under the root (written by stock, see above, or another tool):
    the root is listed, downloaded and deleted as stock does it."""
    ours = OxideAzureBlobArtifactRepository(_put_blobs(service, container, "ours", FOREIGN))
    stock = AzureBlobArtifactRepository(_put_blobs(service, container, "stock", FOREIGN))
    if op == "list":
        assert ours.list_artifacts() == stock.list_artifacts()
        assert ours.list_artifacts("dd") == stock.list_artifacts("dd")
    elif op == "download":
        assert _download(ours, "", tmp_path / "ours") == _download(stock, "", tmp_path / "stock")
    else:
        assert _delete(ours, None) == _delete(stock, None)
        assert blob_names(service, container, "ours") == blob_names(service, container, "stock")


# --- credentials ---------------------------------------------------------------------------


def test_connection_string_account_wins(container, service, tmp_path):
    """The URI names another account: as with MLflow, the connection string's account (and
    endpoint) is used."""
    (tmp_path / "f.txt").write_text("which account")
    for side, cls in (
        ("ours", OxideAzureBlobArtifactRepository),
        ("stock", AzureBlobArtifactRepository),
    ):
        repo = cls(wasbs(container, side, account="someotheraccount"))
        repo.log_artifact(str(tmp_path / "f.txt"), "d")
        assert [f.path for f in repo.list_artifacts()] == ["d"]
    assert stored_blobs(service, container, "ours") == stored_blobs(service, container, "stock")
    assert blob_names(service, container, "ours") == ["d/f.txt"]


def test_shared_access_signature_connection_string(
    azurite, container, service, tmp_path, monkeypatch
):
    """A connection string with a container SAS instead of the account key (and no
    AccountName: it is read from the endpoint): uploads (whole and in blocks), listing,
    downloading and deleting as stock does them."""
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    # A container SAS: Azurite refuses blob batches (ours deletes in batches) under an account
    # SAS, which Azure accepts.
    sas = generate_container_sas(
        ACCOUNT,
        container,
        service.credential.account_key,
        permission=ContainerSasPermissions(
            read=True, write=True, delete=True, list=True, create=True, add=True
        ),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"BlobEndpoint={azurite.url}/{ACCOUNT};SharedAccessSignature={sas}",
    )
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
    files = build_tree(tmp_path / "tree", big=False)
    files["blocks.bin"] = write_random_file(tmp_path / "tree" / "blocks.bin", PART + MiB)
    for side, cls in (
        ("ours", OxideAzureBlobArtifactRepository),
        ("stock", AzureBlobArtifactRepository),
    ):
        cls(wasbs(container, side)).log_artifacts(str(tmp_path / "tree"))
    assert stored_blobs(service, container, "ours") == stored_blobs(service, container, "stock")
    ours = OxideAzureBlobArtifactRepository(wasbs(container, "ours"))
    stock = AzureBlobArtifactRepository(wasbs(container, "stock"))
    assert ours.list_artifacts("data") == stock.list_artifacts("data")
    (tmp_path / "dst").mkdir()
    ours.download_artifacts("", str(tmp_path / "dst"))
    assert _files_only(local_tree(tmp_path / "dst")) == files
    assert _delete(ours, "data") == _delete(stock, "data")
    assert blob_names(service, container, "ours") == blob_names(service, container, "stock")


def test_wrong_key_is_an_mlflow_exception(azurite, container, tmp_path, monkeypatch):
    """A key the server rejects: stock's SDK raises its authentication error; ours an
    ``MlflowException`` naming the URI (never a raw native error)."""
    from azure.core.exceptions import HttpResponseError

    bad = azurite.connection_string.replace("AccountKey=Eby8", "AccountKey=AAAA")
    assert bad != azurite.connection_string
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", bad)
    (tmp_path / "f.txt").write_text("x")
    uri = wasbs(container, "root")
    with pytest.raises(HttpResponseError):  # ClientAuthenticationError
        AzureBlobArtifactRepository(uri).log_artifact(str(tmp_path / "f.txt"))
    with pytest.raises(MlflowException) as info:
        OxideAzureBlobArtifactRepository(uri).log_artifact(str(tmp_path / "f.txt"))
    assert uri in str(info.value)


# --- errors --------------------------------------------------------------------------------


def _call(op: str, repo, tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "f.txt").write_text("x")
    dst = tmp_path / f"dst-{type(repo).__name__}-{op}"
    dst.mkdir()
    return {
        "log_artifact": lambda: repo.log_artifact(str(src / "f.txt")),
        "log_artifacts": lambda: repo.log_artifacts(str(src)),
        "list_artifacts": lambda: repo.list_artifacts(),
        "list_artifacts_subdir": lambda: repo.list_artifacts("sub"),
        "download_root": lambda: repo.download_artifacts("", str(dst)),
        "download_file": lambda: repo.download_artifacts("f.txt", str(dst)),
        "delete_artifacts": lambda: repo.delete_artifacts(),
    }[op]()


@pytest.mark.parametrize(
    "op",
    [
        "log_artifact",
        "log_artifacts",
        "list_artifacts",
        "list_artifacts_subdir",
        "download_root",
        "download_file",
        "delete_artifacts",
    ],
)
def test_missing_container_raises_mlflow_exception(tmp_path, op):
    """Never a raw native error; where stock raises an ``MlflowException`` (deleting), the
    same one. (Stock lets the SDK's ``ResourceNotFoundError`` through elsewhere.)"""
    uri = wasbs(new_container_name() + "-missing", "root")
    try:
        _call(op, AzureBlobArtifactRepository(uri), tmp_path)
    except Exception as e:
        stock = e
    else:
        pytest.fail("stock did not raise")
    with pytest.raises(Exception) as info:
        _call(op, OxideAzureBlobArtifactRepository(uri), tmp_path)
    ours = info.value
    assert isinstance(ours, MlflowException), _err(ours)
    if isinstance(stock, MlflowException):
        assert _err(ours) == _err(stock)
    else:
        assert uri in str(ours), _err(ours)


@pytest.mark.parametrize("op", ["log_artifact", "log_artifacts"])
def test_missing_container_upload_names_uri(tmp_path, op):
    uri = wasbs(new_container_name() + "-missing", "root")
    with pytest.raises(MlflowException) as info:
        _call(op, OxideAzureBlobArtifactRepository(uri), tmp_path)
    assert uri in str(info.value)


@pytest.mark.parametrize("path", ["missing.txt", "dir/missing.txt"])
def test_download_missing_file(container, service, tmp_path, path):
    """Same error code as stock (RESOURCE_DOES_NOT_EXIST), the URI named, and the destination
    left as stock leaves it (directories made, no file)."""
    service.get_container_client(container).upload_blob("root/other.txt", b"other")
    uri = wasbs(container, "root")
    (tmp_path / "stock").mkdir()
    (tmp_path / "ours").mkdir()
    with pytest.raises(MlflowException) as stock:
        AzureBlobArtifactRepository(uri).download_artifacts(path, str(tmp_path / "stock"))
    with pytest.raises(MlflowException) as ours:
        OxideAzureBlobArtifactRepository(uri).download_artifacts(path, str(tmp_path / "ours"))
    assert stock.value.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
    assert ours.value.error_code == stock.value.error_code, _err(ours.value)
    assert uri in str(ours.value)
    assert local_tree(tmp_path / "ours") == local_tree(tmp_path / "stock")


@pytest.mark.parametrize(
    ("kind", "code"),
    [("missing", RESOURCE_DOES_NOT_EXIST), ("file", INVALID_PARAMETER_VALUE)],
)
def test_download_bad_destination_same_as_stock(container, service, tmp_path, kind, code):
    service.get_container_client(container).upload_blob("root/a.txt", b"a")
    dst = tmp_path / "dst"
    if kind == "file":
        dst.write_text("not a directory")
    uri = wasbs(container, "root")
    results = []
    for repo in (AzureBlobArtifactRepository(uri), OxideAzureBlobArtifactRepository(uri)):
        with pytest.raises(MlflowException) as info:
            repo.download_artifacts("a.txt", str(dst))
        results.append((info.value.error_code, str(info.value)))
    assert results[1] == results[0]
    assert results[1][0] == ErrorCode.Name(code)


# --- abfss:// (ADLS Gen2 through the account's blob endpoint) ------------------------------


def test_abfss_upload_read_back_by_stock_wasbs(logged, service, tmp_path):
    """The tree logged through ``abfss://`` by ours is, read through the blob API, what stock's
    ``wasbs://`` repository wrote (names, sizes, bytes), and stock downloads it intact."""
    uri = abfss(logged.container, "abfss/run")
    repo = get_artifact_repository(uri)
    assert type(repo) is OxideAzureDataLakeArtifactRepository
    log_everything(repo, logged.tree, logged.extra)
    ours = stored_blobs(service, logged.container, "abfss/run")
    stock = stored_blobs(service, logged.container, "stock/run")
    assert {k: v[:2] for k, v in ours.items()} == {k: v[:2] for k, v in stock.items()}
    reader = AzureBlobArtifactRepository(wasbs(logged.container, "abfss/run"))
    dst = tmp_path / "dst"
    dst.mkdir()
    reader.download_artifacts("", str(dst))
    assert _files_only(local_tree(dst)) == logged.layout


def test_abfss_percent_encoded_root(container, service, tmp_path):
    """MLflow's ADLS repository decodes the URI's path (``%20`` is a space): ours writes where
    stock's parser says the root is."""
    uri = abfss(container, "enc%20oded/r%C3%BBn")
    root = _parse_abfss_uri(uri)[3]
    assert root != "enc%20oded/r%C3%BBn"
    (tmp_path / "f.txt").write_text("decoded")
    OxideAzureDataLakeArtifactRepository(uri).log_artifact(str(tmp_path / "f.txt"), "sub")
    assert blob_names(service, container, root) == ["sub/f.txt"]


@pytest.mark.parametrize(
    "path", ["MLmodel", "empty.txt", f"with space/{UNICODE_NAME}", "special/h#ash?.txt", "big.bin"]
)
def test_abfss_download_from_cloud(logged, tmp_path, monkeypatch, path):
    """``_download_from_cloud`` (what MLflow's cloud download calls per file) fetches natively,
    in ranges for the big file, what stock's wasbs repository wrote."""
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
    _forbid_sdk_download(monkeypatch)
    repo = OxideAzureDataLakeArtifactRepository(abfss(logged.container, "stock/run"))
    local = tmp_path / "local.bin"
    repo._download_from_cloud(path, str(local))
    assert file_sha256(local) == logged.layout[path]
    assert os.listdir(tmp_path) == ["local.bin"]


def _forbid_sdk_download(monkeypatch) -> None:
    from azure.storage.filedatalake import DataLakeFileClient

    def refuse(*args, **kwargs):
        raise AssertionError("MLflow's ADLS client was used")

    monkeypatch.setattr(DataLakeFileClient, "download_file", refuse)


def test_abfss_download_from_cloud_missing(container, tmp_path):
    """A missing file: an ``MlflowException`` with the code stock's wasbs repository gives
    (RESOURCE_DOES_NOT_EXIST) naming the URI, and no file left."""
    uri = abfss(container, "root")
    with pytest.raises(MlflowException) as info:
        OxideAzureDataLakeArtifactRepository(uri)._download_from_cloud(
            "missing.txt", str(tmp_path / "missing.txt")
        )
    assert info.value.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), _err(info.value)
    assert uri in str(info.value)
    assert os.listdir(tmp_path) == []


# --- end to end through MLflow --------------------------------------------------------------


@pytest.fixture
def tracking_on_wasbs(migrated_db_template, tmp_path, tracking_uri, container, request):
    """A temporary sqlite tracking store (MLflow's or ours, by the parameter) whose experiment
    keeps its artifacts in ``wasbs://<container>@.../experiments``."""
    import mlflow

    from tests.conftest import new_db

    db = new_db(migrated_db_template, tmp_path / "mlflow.db")
    tracking_uri(f"{request.param}:///{db}")
    location = wasbs(container, "experiments")
    exp = mlflow.create_experiment("azure-e2e", artifact_location=location)
    mlflow.set_experiment(experiment_id=exp)
    try:
        yield location
    finally:
        release_tracking()


@pytest.mark.parametrize("tracking_on_wasbs", ["sqlite", "oxide+sqlite"], indirect=True)
def test_sklearn_model_round_trip(tracking_on_wasbs, container, service, tmp_path, monkeypatch):
    import mlflow
    import numpy as np
    from mlflow_oxide.artifacts import _transfers
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    calls = {"upload": 0, "download": 0}
    upload, download = _transfers.upload, _transfers.download

    def counted_upload(*args, **kwargs):
        calls["upload"] += 1
        return upload(*args, **kwargs)

    def counted_download(*args, **kwargs):
        calls["download"] += 1
        return download(*args, **kwargs)

    monkeypatch.setattr(_transfers, "upload", counted_upload)
    monkeypatch.setattr(_transfers, "download", counted_download)

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 300)
        info = mlflow.sklearn.log_model(model, name="model")
        mlflow.log_dict({"classes": 3}, "meta/info.json")
    assert run.info.artifact_uri.startswith(tracking_on_wasbs + "/")
    assert calls["upload"] > 0

    names = [b.name for b in service.get_container_client(container).list_blobs()]
    assert any(n.endswith("/MLmodel") for n in names), names
    assert all(n.startswith("experiments/") for n in names), names

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert calls["download"] > 0

    # What ours stored, stock MLflow loads too.
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", "0")
    stock_loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(stock_loaded.predict(X), model.predict(X))
    monkeypatch.delenv("MLFLOW_OXIDE_ARTIFACTS")

    dst = tmp_path / "run-artifacts"
    dst.mkdir()
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(dst))
    assert Path(local) == dst
    assert json.loads((dst / "meta" / "info.json").read_text()) == {"classes": 3}
    one = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="meta/info.json", dst_path=str(tmp_path)
    )
    # MLflow resolves runs:/<id>/meta/info.json to the parent URI and downloads the file alone.
    assert Path(one) == tmp_path / "info.json"
    assert json.loads(Path(one).read_text()) == {"classes": 3}
