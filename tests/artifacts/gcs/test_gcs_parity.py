"""``OxideGCSArtifactRepository`` against MLflow's own ``GCSArtifactRepository`` on a
gcp-storage-emulator server: registration, object names and metadata, listings, downloads,
deletions, errors, and an end-to-end model round trip through MLflow with a ``gs://``
experiment."""

from __future__ import annotations

import hashlib
import json
import math
import os
import posixpath
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.store.artifact.gcs_artifact_repo import GCSArtifactRepository
from mlflow_oxide.artifacts import OxideGCSArtifactRepository

from tests.artifacts.conftest import (
    MiB,
    file_sha256,
    write_random_file,
)
from tests.artifacts.gcs.conftest import (
    apply_gcs_environment,
    create_bucket,
    empty_bucket,
    make_gcs_client,
    new_bucket_name,
    quoted,
)
from tests.conftest import release_tracking

PART = 5 * MiB  # part size and multipart threshold of the logged tree (the minimum)
BIG = 23 * MiB  # above the threshold: a resumable upload in 5 chunks of at most 5 MiB
QUANTUM = 256 << 10  # resumable chunks are multiples of this (all but the last)
UNICODE_NAME = "ünïcödé 文件.txt"
NFD_NAME = unicodedata.normalize("NFD", "café.json")  # decomposed: names are bytes, kept as is
EXTENSIONS = [".txt", ".json", ".csv", ".yaml", ".html", ".png", ".pkl", ".md", ""]


def _err(exc: BaseException) -> dict:
    return {
        "type": f"{type(exc).__module__}.{type(exc).__name__}",
        "code": getattr(exc, "error_code", None),
        "message": str(exc)[:2000],
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


def log_everything(repo, tree: Path, extra: Path) -> dict[str, dict]:
    """The same calls on either repository: directories with and without ``artifact_path``,
    single files with and without (and the big file alone, when the tree has it). Every call
    is made even if an earlier one failed; returns ``{call: error}`` of those that raised."""
    calls = {
        "log_artifacts(tree)": lambda: repo.log_artifacts(str(tree)),
        "log_artifacts(nested, 'under/path')": lambda: repo.log_artifacts(
            str(tree / "nested"), "under/path"
        ),
        "log_artifact(MLmodel, 'single/model')": lambda: repo.log_artifact(
            str(tree / "MLmodel"), "single/model"
        ),
        "log_artifact(extra)": lambda: repo.log_artifact(str(extra)),
    }
    if (tree / "big.bin").exists():
        calls["log_artifact(big.bin, 'alone')"] = lambda: repo.log_artifact(
            str(tree / "big.bin"), "alone"
        )
    errors = {}
    for name, call in calls.items():
        try:
            call()
        except Exception as e:
            errors[name] = _err(e)
    return errors


def expected_layout(files: dict[str, str], extra: Path) -> dict[str, str]:
    layout = dict(files)
    for rel, digest in files.items():
        if rel.startswith("nested/"):
            layout["under/path/" + rel.removeprefix("nested/")] = digest
    layout["single/model/MLmodel"] = files["MLmodel"]
    layout[extra.name] = file_sha256(extra)
    if "big.bin" in files:
        layout["alone/big.bin"] = files["big.bin"]
    return layout


def stored_objects(gcs, bucket: str, prefix: str) -> dict[str, dict]:
    """``{name relative to prefix: what google-cloud-storage reports of the object}``."""
    out = {}
    for blob in gcs.list_blobs(bucket, prefix=prefix + "/"):
        # A fresh blob: the emulator's listed mediaLink leaves "#" and "?" in names unescaped.
        data = gcs.bucket(bucket).blob(blob.name).download_as_bytes()
        out[blob.name.removeprefix(prefix + "/")] = {
            "size": blob.size,
            "sha256": hashlib.sha256(data).hexdigest(),
            "md5_hash": blob.md5_hash,
            "crc32c": blob.crc32c,
            "content_type": blob.content_type,
            "content_encoding": blob.content_encoding,
            "content_disposition": blob.content_disposition,
            "cache_control": blob.cache_control,
            "metadata": blob.metadata,
        }
    return out


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


@dataclass
class Logged:
    bucket: str
    files: dict[str, str]
    layout: dict[str, str]
    uris: dict[str, str]  # "ours" / "stock" -> the artifact root each repository wrote
    errors: dict[str, dict] = field(default_factory=dict)  # what our uploads raised

    def repos(self, prefix: str):
        uri = self.uris[prefix]
        return OxideGCSArtifactRepository(uri), GCSArtifactRepository(uri)


@pytest.fixture(scope="module")
def logged(gcs_server, tmp_path_factory) -> Logged:
    """One tree logged once by each repository into its own prefix of one bucket (part size
    and multipart threshold 5 MiB, so the big file goes resumable)."""
    root = tmp_path_factory.mktemp("logged")
    files = build_tree(root / "tree", big=True)
    extra = root / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    gcs = make_gcs_client(gcs_server.url)
    bucket = create_bucket(gcs)
    uris = {"ours": f"gs://{bucket}/ours/run", "stock": f"gs://{bucket}/stock/run"}
    with pytest.MonkeyPatch.context() as mp:
        apply_gcs_environment(mp, gcs_server.url)
        mp.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
        mp.setenv("MLFLOW_OXIDE_MULTIPART_THRESHOLD", str(PART))
        errors = log_everything(OxideGCSArtifactRepository(uris["ours"]), root / "tree", extra)
        stock_errors = log_everything(GCSArtifactRepository(uris["stock"]), root / "tree", extra)
    assert stock_errors == {}, stock_errors  # the reference itself must work
    yield Logged(bucket, files, expected_layout(files, extra), uris, errors)
    empty_bucket(gcs, bucket)


# --- registration --------------------------------------------------------------------------


def test_registry_returns_oxide_repository(bucket):
    repo = get_artifact_repository(f"gs://{bucket}/some/root")
    assert type(repo) is OxideGCSArtifactRepository
    assert repo.artifact_uri == f"gs://{bucket}/some/root"


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_registry_disabled_returns_stock(bucket, monkeypatch, value):
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", value)
    repo = get_artifact_repository(f"gs://{bucket}/some/root")
    assert type(repo) is GCSArtifactRepository


def test_registered_repository_transfers_natively(bucket, gcs, gcs_server, tmp_path):
    """What the registry hands out uploads through our client (a multipart upload naming the
    object in the query as well, which google-cloud-storage never sends) and the result reads
    back through stock's."""
    src = tmp_path / "hello.csv"
    src.write_text("a,b\n1,2\n")
    get_artifact_repository(f"gs://{bucket}/reg").log_artifact(str(src))
    media = [
        r
        for r in gcs_server.requests()
        if r[0] == "POST"
        and f"/b/{bucket}/o?uploadType=multipart&name={quoted('reg/hello.csv')}" in r[1]
    ]
    assert media and media[-1][2] == 200, media
    dst = tmp_path / "dst"
    dst.mkdir()
    local = GCSArtifactRepository(f"gs://{bucket}/reg").download_artifacts("hello.csv", str(dst))
    assert Path(local).read_bytes() == src.read_bytes()


# --- what is stored ------------------------------------------------------------------------


def test_uploads_raise_nothing(logged):
    """Every call that stock's repository completes, ours completes."""
    assert logged.errors == {}


def test_upload_layout_parity(logged, gcs):
    """Same names (relative to each root), sizes, bytes, MD5, CRC32C and metadata
    (content type...) as stock wrote, with google-cloud-storage's eyes."""
    ours = stored_objects(gcs, logged.bucket, "ours/run")
    stock = stored_objects(gcs, logged.bucket, "stock/run")
    assert sorted(stock) == sorted(logged.layout)
    assert {k: v["sha256"] for k, v in stock.items()} == logged.layout
    missing = sorted(set(stock) - set(ours))
    assert not missing, f"not uploaded by ours: {missing}"
    assert sorted(ours) == sorted(stock)
    differing = {k: {"ours": ours[k], "stock": stock[k]} for k in stock if ours[k] != stock[k]}
    assert not differing


SINGLE_FILES = [
    ("plain.txt", b"text\n"),
    ("table.csv", b"a,b\n1,2\n"),
    ("no-extension", b"\x00\x01\x02"),
    ("empty.txt", b""),  # 0 bytes
    ("data.json", b'{"a": 1}'),  # application/json
    ("list.json", b"[1, 2, 3]"),
    ("page.html", b"<p>hi</p>"),
    ("archive.tar.gz", b"\x1f\x8b not really"),  # a type with an encoding
]


@pytest.mark.parametrize(("name", "data"), SINGLE_FILES, ids=[n for n, _ in SINGLE_FILES])
def test_single_file_upload_parity(bucket, gcs, tmp_path, name, data):
    """One small file by ``log_artifact``: stored as stock stores it (the tree test's files,
    one at a time, so that one file's failure is seen alone)."""
    src = tmp_path / name
    src.write_bytes(data)
    GCSArtifactRepository(f"gs://{bucket}/stock").log_artifact(str(src), "dir")
    try:
        OxideGCSArtifactRepository(f"gs://{bucket}/ours").log_artifact(str(src), "dir")
    except Exception as e:
        pytest.fail(f"stock uploads {name!r} ({len(data)} bytes); ours raised {_err(e)}")
    stock = stored_objects(gcs, bucket, "stock")
    assert list(stock) == [f"dir/{name}"]
    assert stored_objects(gcs, bucket, "ours") == stock


def test_no_folder_placeholders(logged, gcs):
    """Neither side writes ``dir/`` placeholder objects: every stored name is a file's."""
    names = [b.name for b in gcs.list_blobs(logged.bucket)]
    assert [n for n in names if n.endswith("/")] == []


def _resumable_session(gcs_server, bucket: str, name: str) -> list[tuple[str, str, int]]:
    """The requests of our resumable upload of ``name``: its start, then its chunks."""
    start = f"/upload/storage/v1/b/{bucket}/o?uploadType=resumable&name={quoted(name)}"
    return [r for r in gcs_server.requests() if r[1].startswith(start)]


def test_big_file_went_resumable_in_configured_chunks(logged, gcs, gcs_server):
    """23 MiB with 5 MiB parts: one resumable session, ceil(23 / 5) chunks each accepted with
    308, and a completion; stored as stock stored it."""
    name = "ours/run/alone/big.bin"
    session = _resumable_session(gcs_server, logged.bucket, name)
    assert session, "no resumable upload started"
    starts = [r for r in session if r[0] == "POST"]
    chunks = [r for r in session if r[0] == "PUT" and r[2] == 308]
    completions = [r for r in session if r[0] == "PUT" and r[2] == 200]
    assert len(starts) == 1, session
    assert len(chunks) == math.ceil(BIG / PART), session
    assert len(completions) == 1, session
    ours = gcs.bucket(logged.bucket).get_blob(name)
    stock = gcs.bucket(logged.bucket).get_blob("stock/run/alone/big.bin")
    assert ours is not None
    assert (ours.size, ours.md5_hash, ours.crc32c, ours.content_type) == (
        stock.size,
        stock.md5_hash,
        stock.crc32c,
        stock.content_type,
    )


def test_part_size_rounded_to_resumable_quantum(bucket, gcs, gcs_server, tmp_path, monkeypatch):
    """A part size that is no multiple of 256 KiB is rounded down to one (GCS rejects other
    chunks): 20 MiB + 1 byte in parts of 5 MiB + 200 KiB goes as 5 chunks of 5 MiB (4 chunks
    if the part size were used as is)."""
    part = 5 * MiB + 200 * 1024
    size = 4 * (part // QUANTUM * QUANTUM) + 1
    assert math.ceil(size / part) != math.ceil(size / (part // QUANTUM * QUANTUM))
    src = tmp_path / "odd.bin"
    digest = write_random_file(src, size)
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(part))
    OxideGCSArtifactRepository(f"gs://{bucket}/odd").log_artifact(str(src))
    session = _resumable_session(gcs_server, bucket, "odd/odd.bin")
    chunks = [r for r in session if r[0] == "PUT" and r[2] == 308]
    assert len(chunks) == math.ceil(size / (part // QUANTUM * QUANTUM)), session
    blob = gcs.bucket(bucket).get_blob("odd/odd.bin")
    assert blob.size == size
    assert hashlib.sha256(blob.download_as_bytes()).hexdigest() == digest


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
    "alone",
    "MLmodel",  # a file: empty listing
    "with space/" + UNICODE_NAME,
    "missing",
    "data/file_0",  # a prefix of sibling names, not a directory
]


def _listing(repo, path):
    return [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts(path)]


@pytest.mark.parametrize("prefix", ["ours", "stock"])
@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_artifacts_parity(logged, prefix, path):
    """Over the same data (written by either side), both list the same ``FileInfo``s."""
    ours, stock = logged.repos(prefix)
    assert _listing(ours, path) == _listing(stock, path)


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_what_ours_wrote_as_stock_lists_what_stock_wrote(logged, path):
    """The listing of our upload is the listing of stock's upload of the same tree."""
    ours, _ = logged.repos("ours")
    _, stock = logged.repos("stock")
    assert _listing(ours, path) == _listing(stock, path)


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
    ("alone/big.bin", True),
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
    cls = OxideGCSArtifactRepository if reader == "ours" else GCSArtifactRepository
    repo = cls(logged.uris[writer])
    dst = tmp_path / "dst"
    dst.mkdir()
    assert repo.download_artifacts("", str(dst)) == str(dst)
    files = {k: v for k, v in local_tree(dst).items() if v != "<dir>"}
    assert files == logged.layout


def test_download_uses_ranged_native_reads(logged, tmp_path, gcs_server, monkeypatch):
    """Ours downloads the big file in ranges of the part size through the JSON API's
    ``alt=media`` (not google-cloud-storage's ``/download`` endpoint), bytes as stock's."""
    monkeypatch.setenv("MLFLOW_OXIDE_PART_SIZE", str(PART))
    monkeypatch.setenv("MLFLOW_OXIDE_MULTIPART_THRESHOLD", str(PART))
    ours, _ = logged.repos("stock")
    before = len(gcs_server.requests())
    dst = tmp_path / "dst"
    dst.mkdir()
    local = ours.download_artifacts("alone/big.bin", str(dst))
    assert file_sha256(local) == logged.files["big.bin"]
    name = quoted("stock/run/alone/big.bin")
    reads = [
        r
        for r in gcs_server.requests()[before:]
        if r[0] == "GET" and r[1] == f"/storage/v1/b/{logged.bucket}/o/{name}?alt=media"
    ]
    assert len(reads) == math.ceil(BIG / PART), reads
    assert {r[2] for r in reads} == {206}, reads


# --- deleting ------------------------------------------------------------------------------


@pytest.fixture
def small_logged(bucket, tmp_path) -> tuple[str, dict[str, str], dict]:
    """The tree without the big file, logged by each side into its own prefix."""
    files = build_tree(tmp_path / "tree", big=False)
    extra = tmp_path / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    errors = log_everything(
        OxideGCSArtifactRepository(f"gs://{bucket}/ours"), tmp_path / "tree", extra
    )
    stock_errors = log_everything(
        GCSArtifactRepository(f"gs://{bucket}/stock"), tmp_path / "tree", extra
    )
    assert stock_errors == {}, stock_errors
    return bucket, expected_layout(files, extra), errors


def _names(gcs, bucket, prefix) -> list[str]:
    return sorted(
        b.name.removeprefix(prefix + "/") for b in gcs.list_blobs(bucket, prefix=prefix + "/")
    )


@pytest.mark.parametrize(
    "path",
    [
        None,
        "nested",
        "nested/deeper",
        "with space",
        "under/path/",
        "data/file_0",  # a prefix of sibling names: deletes nothing
        "missing",
        "MLmodel",  # a single file
        "with space/" + UNICODE_NAME,  # a single file
    ],
)
def test_delete_artifacts_parity(small_logged, gcs, path):
    """After our uploads, deleting (MLflow's code) leaves what it leaves of stock's uploads.
    Should our uploads differ from stock's, the deletion is still compared over the names ours
    stored, and both problems are reported."""
    bucket, layout, upload_errors = small_logged
    ours = OxideGCSArtifactRepository(f"gs://{bucket}/ours")
    stock = GCSArtifactRepository(f"gs://{bucket}/stock")
    assert _names(gcs, bucket, "stock") == sorted(layout)
    before = set(_names(gcs, bucket, "ours"))
    problems = {}
    if upload_errors:
        problems["our uploads raised"] = upload_errors
    if before != set(layout):
        problems["not uploaded by ours"] = sorted(set(layout) - before)
    ours.delete_artifacts(path)
    stock.delete_artifacts(path)
    left = {side: set(_names(gcs, bucket, side)) for side in ("ours", "stock")}
    if left["ours"] != left["stock"] & before:
        problems["deletion"] = {
            "left only by ours": sorted(left["ours"] - left["stock"]),
            "left only by stock": sorted((left["stock"] & before) - left["ours"]),
        }
    if not problems and _listing(ours, None) != _listing(stock, None):
        problems["listing after deletion"] = (_listing(ours, None), _listing(stock, None))
    assert not problems


@pytest.mark.parametrize("with_path", [False, True])
def test_log_empty_directory_parity(bucket, gcs, tmp_path, with_path):
    """A directory without files stores nothing, on either side, and raises nothing."""
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    artifact_path = "under" if with_path else None
    GCSArtifactRepository(f"gs://{bucket}/stock").log_artifacts(
        str(tmp_path / "empty"), artifact_path
    )
    OxideGCSArtifactRepository(f"gs://{bucket}/ours").log_artifacts(
        str(tmp_path / "empty"), artifact_path
    )
    assert [b.name for b in gcs.list_blobs(bucket)] == []


def test_overwrite_parity(bucket, gcs, tmp_path):
    """Logging a file again replaces the object, as stock's second upload replaces its own."""
    src = tmp_path / "notes.txt"
    for content in (b"first version, longer\n", b"second\n"):
        src.write_bytes(content)
        GCSArtifactRepository(f"gs://{bucket}/stock").log_artifact(str(src))
        OxideGCSArtifactRepository(f"gs://{bucket}/ours").log_artifact(str(src))
    stock = stored_objects(gcs, bucket, "stock")
    assert stock["notes.txt"]["size"] == len(b"second\n")
    assert stored_objects(gcs, bucket, "ours") == stock


def test_download_replaces_existing_files_as_stock(logged, tmp_path):
    """Files already at the destination are replaced, as stock replaces them."""
    ours, stock = logged.repos("stock")
    trees = {}
    for side, repo in (("stock", stock), ("ours", ours)):
        dst = tmp_path / side
        (dst / "nested" / "deeper").mkdir(parents=True)
        (dst / "nested" / "top.csv").write_text("stale content, longer than the object")
        (dst / "nested" / "deeper" / "mid.txt").write_text("")
        (dst / "nested" / "unrelated.txt").write_text("kept")
        repo.download_artifacts("nested", str(dst))
        trees[side] = local_tree(dst)
    assert trees["ours"] == trees["stock"]


def test_explicit_client_is_used_as_stock_uses_it(bucket, gcs, gcs_server, tmp_path):
    """A repository given a client (as MLflow's callers may) transfers through that client,
    as stock does: google-cloud-storage's uploads, never ours (which also names the object in
    the query)."""
    src = tmp_path / "given.txt"
    src.write_text("given client")
    repo = OxideGCSArtifactRepository(f"gs://{bucket}/given", client=gcs)
    repo.log_artifact(str(src))
    uploads = [r for r in gcs_server.requests() if f"/upload/storage/v1/b/{bucket}/o?" in r[1]]
    assert uploads and all("&name=" not in r[1] for r in uploads), uploads
    dst = tmp_path / "dst"
    dst.mkdir()
    assert Path(repo.download_artifacts("given.txt", str(dst))).read_text() == "given client"


# --- folder placeholders ("dir/" objects, as the Cloud Console's "Create folder" and other tools
# write them; MLflow's repository lists them as directories and skips the object itself) -----


@pytest.fixture
def with_placeholders(bucket, gcs) -> str:
    for name, body in [
        ("root/a.txt", b"a"),
        ("root/empty-folder/", b""),
        ("root/folder/", b""),
        ("root/folder/inner.txt", b"inner"),
        ("root/folder/deeper/", b""),
    ]:
        gcs.bucket(bucket).blob(name).upload_from_string(body)
    return f"gs://{bucket}/root"


@pytest.mark.parametrize("path", [None, "folder", "folder/deeper", "empty-folder"])
def test_folder_placeholders_list_parity(with_placeholders, path):
    ours = OxideGCSArtifactRepository(with_placeholders)
    stock = GCSArtifactRepository(with_placeholders)
    assert _listing(ours, path) == _listing(stock, path)


@pytest.mark.parametrize("path", ["", "folder"])
def test_folder_placeholders_download_parity(with_placeholders, tmp_path, path):
    ours = OxideGCSArtifactRepository(with_placeholders)
    stock = GCSArtifactRepository(with_placeholders)
    assert _download(ours, path, tmp_path / "ours") == _download(stock, path, tmp_path / "stock")


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


@pytest.mark.parametrize("op", ["log_artifact", "log_artifacts"])
def test_missing_bucket_upload_raises_mlflow_exception(tmp_path, op):
    """Stock lets google-cloud-storage's ``NotFound`` through; ours raises an
    ``MlflowException`` naming the artifact URI, never a raw native error."""
    uri = f"gs://{new_bucket_name()}-missing/root"
    with pytest.raises(Exception) as stock:
        _call(op, GCSArtifactRepository(uri), tmp_path)
    with pytest.raises(Exception) as info:
        _call(op, OxideGCSArtifactRepository(uri), tmp_path)
    ours = info.value
    assert isinstance(ours, MlflowException), (_err(ours), _err(stock.value))
    assert uri in str(ours), _err(ours)
    if isinstance(stock.value, MlflowException):
        assert ours.error_code == stock.value.error_code, (_err(ours), _err(stock.value))


@pytest.mark.parametrize(
    "op",
    [
        "list_artifacts",
        "list_artifacts_subdir",
        "download_root",
        "download_file",
        "delete_artifacts",
    ],
)
def test_missing_bucket_other_ops_as_stock(tmp_path, op):
    """Listing and deletion are MLflow's code, and ours lists before it downloads: the same
    exception as stock (or an ``MlflowException`` with stock's code)."""
    uri = f"gs://{new_bucket_name()}-missing/root"
    with pytest.raises(Exception) as stock:
        _call(op, GCSArtifactRepository(uri), tmp_path)
    with pytest.raises(Exception) as ours:
        _call(op, OxideGCSArtifactRepository(uri), tmp_path)
    assert type(ours.value) is type(stock.value), (_err(ours.value), _err(stock.value))
    assert getattr(ours.value, "error_code", None) == getattr(stock.value, "error_code", None)


@pytest.mark.parametrize("path", ["missing.txt", "dir/missing.txt"])
def test_download_missing_file_as_stock(bucket, gcs, tmp_path, path):
    """A path that names nothing: the exception type and error code stock raises, and the same
    (empty) destination left behind."""
    gcs.bucket(bucket).blob("root/present.txt").upload_from_string(b"p")
    uri = f"gs://{bucket}/root"
    (tmp_path / "stock").mkdir()
    (tmp_path / "ours").mkdir()
    with pytest.raises(Exception) as stock:
        GCSArtifactRepository(uri).download_artifacts(path, str(tmp_path / "stock"))
    with pytest.raises(Exception) as ours:
        OxideGCSArtifactRepository(uri).download_artifacts(path, str(tmp_path / "ours"))
    assert local_tree(tmp_path / "ours") == local_tree(tmp_path / "stock")
    leftovers = {k for k, v in local_tree(tmp_path / "ours").items() if v != "<dir>"}
    assert not leftovers
    assert type(ours.value) is type(stock.value), (_err(ours.value), _err(stock.value))
    assert ours.value.error_code == stock.value.error_code, (_err(ours.value), _err(stock.value))


@pytest.mark.parametrize(
    ("kind", "code"),
    [("missing", RESOURCE_DOES_NOT_EXIST), ("file", INVALID_PARAMETER_VALUE)],
)
@pytest.mark.parametrize("path", ["a.txt", "", "sub"])
def test_download_bad_destination_same_as_stock(bucket, gcs, tmp_path, kind, code, path):
    for name in ("root/a.txt", "root/sub/b.txt"):
        gcs.bucket(bucket).blob(name).upload_from_string(b"a")
    dst = tmp_path / "dst"
    if kind == "file":
        dst.write_text("not a directory")
    uri = f"gs://{bucket}/root"
    results = []
    for repo in (GCSArtifactRepository(uri), OxideGCSArtifactRepository(uri)):
        with pytest.raises(MlflowException) as info:
            repo.download_artifacts(path, str(dst))
        results.append((info.value.error_code, str(info.value)))
    assert results[1] == results[0]
    assert results[1][0] == ErrorCode.Name(code)
    if kind == "file":
        assert dst.read_text() == "not a directory"
    else:
        assert not dst.exists()


# --- end to end through MLflow --------------------------------------------------------------


@pytest.fixture
def tracking_on_gs(migrated_db_template, tmp_path, tracking_uri, bucket, request):
    """A temporary sqlite tracking store (MLflow's or ours, by the parameter) whose experiment
    keeps its artifacts in ``gs://<bucket>/experiments``."""
    import mlflow

    from tests.conftest import new_db

    db = new_db(migrated_db_template, tmp_path / "mlflow.db")
    tracking_uri(f"{request.param}:///{db}")
    location = f"gs://{bucket}/experiments"
    exp = mlflow.create_experiment("gs-e2e", artifact_location=location)
    mlflow.set_experiment(experiment_id=exp)
    try:
        yield location
    finally:
        release_tracking()


@pytest.fixture
def counted_transfers(monkeypatch) -> dict[str, int]:
    """How many native uploads and downloads ran (``_transfers`` is what every native
    repository calls)."""
    from mlflow_oxide.artifacts import _transfers

    calls = {"upload": 0, "download": 0}
    for name in calls:
        original = getattr(_transfers, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(_transfers, name, counted)
    return calls


@pytest.mark.parametrize("tracking_on_gs", ["sqlite", "oxide+sqlite"], indirect=True)
def test_sklearn_model_round_trip(tracking_on_gs, bucket, gcs, tmp_path, counted_transfers):
    import mlflow
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 300)
        info = mlflow.sklearn.log_model(model, name="model")
        mlflow.log_text("a,b\n1,2\n", "meta/table.csv")
    assert run.info.artifact_uri.startswith(tracking_on_gs + "/")
    assert counted_transfers["upload"] > 0

    names = [b.name for b in gcs.list_blobs(bucket)]
    assert any(n.endswith("/MLmodel") for n in names), names
    assert all(n.startswith("experiments/") for n in names), names

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert counted_transfers["download"] > 0

    # The run's artifacts through MLflow's API, as stock's repository downloads them.
    dst = tmp_path / "run-artifacts"
    dst.mkdir()
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(dst))
    assert Path(local) == dst
    reference = tmp_path / "reference"
    reference.mkdir()
    GCSArtifactRepository(run.info.artifact_uri).download_artifacts("", str(reference))
    assert local_tree(dst) == local_tree(reference)
    assert (dst / "meta" / "table.csv").read_text() == "a,b\n1,2\n"
    one = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="meta/table.csv", dst_path=str(tmp_path)
    )
    # MLflow resolves runs:/<id>/meta/table.csv to the parent URI and downloads the file alone.
    assert Path(one) == tmp_path / "table.csv"
    assert Path(one).read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize("tracking_on_gs", ["sqlite"], indirect=True)
def test_log_dict_round_trip(tracking_on_gs, tmp_path, counted_transfers):
    """``mlflow.log_dict`` (a ``.json`` artifact, as MLflow logs many) and reading it back."""
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_dict({"classes": 3}, "meta/info.json")
    assert counted_transfers["upload"] == 1
    one = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="meta/info.json", dst_path=str(tmp_path)
    )
    assert Path(one) == tmp_path / "info.json"
    assert json.loads(Path(one).read_text()) == {"classes": 3}
    assert mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/meta/info.json") == {"classes": 3}
