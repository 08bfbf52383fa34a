"""``OxideS3ArtifactRepository`` against MLflow's own ``S3ArtifactRepository`` on a moto server:
registration, object layout and metadata, listings, downloads, deletions, errors, and an
end-to-end model round trip through MLflow with an ``s3://`` experiment."""

from __future__ import annotations

import hashlib
import json
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
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository
from mlflow_oxide.artifacts import OxideS3ArtifactRepository

from tests.artifacts.conftest import (
    MiB,
    file_sha256,
    write_random_file,
)
from tests.artifacts.s3.conftest import (
    apply_s3_environment,
    empty_bucket,
    new_bucket_name,
)
from tests.conftest import release_tracking

BIG = 23 * MiB  # above the 5 MiB threshold set below: 5 parts of 5 MiB
UNICODE_NAME = "ünïcödé 文件.txt"
NFD_NAME = unicodedata.normalize("NFD", "café.json")  # decomposed: keys are bytes, kept as is
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


def stored_objects(s3, bucket: str, prefix: str) -> dict[str, tuple]:
    """``{key relative to prefix: (size, sha256, Content-Type, Content-Encoding)}`` as the
    server holds them."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            body = s3.get_object(Bucket=bucket, Key=key)
            digest = hashlib.sha256()
            for chunk in body["Body"].iter_chunks(MiB):
                digest.update(chunk)
            head = s3.head_object(Bucket=bucket, Key=key)
            out[key.removeprefix(prefix + "/")] = (
                obj["Size"],
                digest.hexdigest(),
                head.get("ContentType"),
                head.get("ContentEncoding"),
            )
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

    def repos(self, prefix: str):
        uri = self.uris[prefix]
        return OxideS3ArtifactRepository(uri), S3ArtifactRepository(uri)


@pytest.fixture(scope="module")
def logged(moto, tmp_path_factory) -> Logged:
    """One tree logged once by each repository into its own prefix of one bucket (part size
    and multipart threshold 5 MiB, so the big file goes multipart)."""
    from tests.artifacts.s3.conftest import make_s3_client

    root = tmp_path_factory.mktemp("logged")
    files = build_tree(root / "tree", big=True)
    extra = root / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    s3 = make_s3_client(moto.url)
    bucket = new_bucket_name()
    s3.create_bucket(Bucket=bucket)
    uris = {"ours": f"s3://{bucket}/ours/run", "stock": f"s3://{bucket}/stock/run"}
    with pytest.MonkeyPatch.context() as mp:
        apply_s3_environment(mp, moto.url)
        mp.setenv("MLFLOW_OXIDE_PART_SIZE", str(5 * MiB))
        mp.setenv("MLFLOW_OXIDE_MULTIPART_THRESHOLD", str(5 * MiB))
        log_everything(OxideS3ArtifactRepository(uris["ours"]), root / "tree", extra)
        log_everything(S3ArtifactRepository(uris["stock"]), root / "tree", extra)
    yield Logged(bucket, files, expected_layout(files, extra), uris)
    empty_bucket(s3, bucket)


# --- registration --------------------------------------------------------------------------


def test_registry_returns_oxide_repository(bucket):
    repo = get_artifact_repository(f"s3://{bucket}/some/root")
    assert type(repo) is OxideS3ArtifactRepository
    assert repo.artifact_uri == f"s3://{bucket}/some/root"


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_registry_disabled_returns_stock(bucket, monkeypatch, value):
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", value)
    repo = get_artifact_repository(f"s3://{bucket}/some/root")
    assert type(repo) is S3ArtifactRepository


# --- what is stored ------------------------------------------------------------------------


def test_upload_layout_parity(logged, s3):
    """Same keys (relative to each root), sizes, bytes and Content-Type as stock wrote."""
    ours = stored_objects(s3, logged.bucket, "ours/run")
    stock = stored_objects(s3, logged.bucket, "stock/run")
    assert sorted(ours) == sorted(logged.layout)
    assert {k: v[1] for k, v in ours.items()} == logged.layout
    assert ours == stock


def test_big_file_went_multipart_with_configured_parts(logged, s3):
    """23 MiB in 5 MiB parts: a multipart ETag of 5 parts (boto3 would have made 3 of 8 MiB)."""
    head = s3.head_object(Bucket=logged.bucket, Key="ours/run/big.bin")
    assert head["ContentLength"] == BIG
    assert head["ETag"].strip('"').endswith("-5"), head["ETag"]


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
    "data/file_0",  # a prefix of sibling keys, not a directory
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
    cls = OxideS3ArtifactRepository if reader == "ours" else S3ArtifactRepository
    repo = cls(logged.uris[writer])
    dst = tmp_path / "dst"
    dst.mkdir()
    assert repo.download_artifacts("", str(dst)) == str(dst)
    files = {k: v for k, v in local_tree(dst).items() if v != "<dir>"}
    assert files == logged.layout


# --- deleting ------------------------------------------------------------------------------


@pytest.fixture
def small_logged(bucket, tmp_path) -> tuple[str, dict[str, str]]:
    """The tree without the big file, logged by each side into its own prefix."""
    files = build_tree(tmp_path / "tree", big=False)
    extra = tmp_path / "extra file ✓.json"
    extra.write_text('{"extra": 1}')
    log_everything(OxideS3ArtifactRepository(f"s3://{bucket}/ours"), tmp_path / "tree", extra)
    log_everything(S3ArtifactRepository(f"s3://{bucket}/stock"), tmp_path / "tree", extra)
    return bucket, expected_layout(files, extra)


def _keys(s3, bucket, prefix) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys.extend(o["Key"].removeprefix(prefix + "/") for o in page.get("Contents", []))
    return sorted(keys)


@pytest.mark.parametrize(
    "path",
    [
        None,
        "nested",
        "nested/deeper",
        "with space",
        "under/path/",
        "data/file_0",  # a prefix of sibling keys: deletes nothing
        "missing",
        "MLmodel",  # a single file
        "with space/" + UNICODE_NAME,  # a single file
    ],
)
def test_delete_artifacts_parity(small_logged, s3, path):
    bucket, layout = small_logged
    ours = OxideS3ArtifactRepository(f"s3://{bucket}/ours")
    stock = S3ArtifactRepository(f"s3://{bucket}/stock")
    assert _keys(s3, bucket, "ours") == _keys(s3, bucket, "stock") == sorted(layout)
    ours.delete_artifacts(path)
    stock.delete_artifacts(path)
    left = {side: set(_keys(s3, bucket, side)) for side in ("ours", "stock")}
    assert left["ours"] == left["stock"], {
        "left only by ours": sorted(left["ours"] - left["stock"]),
        "left only by stock": sorted(left["stock"] - left["ours"]),
    }
    assert ours.list_artifacts() == stock.list_artifacts()


# --- directory markers (zero-byte "dir/" objects, as the S3 console's "Create folder" and other
# tools write them; MLflow's repository skips them) -------------------------------------------


@pytest.fixture
def with_markers(bucket, s3) -> str:
    for key, body in [
        ("root/a.txt", b"a"),
        ("root/empty-folder/", b""),
        ("root/folder/", b""),
        ("root/folder/inner.txt", b"inner"),
    ]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/root"


@pytest.mark.parametrize("path", [None, "folder", "empty-folder"])
def test_directory_markers_list_parity(with_markers, path):
    ours = OxideS3ArtifactRepository(with_markers)
    stock = S3ArtifactRepository(with_markers)
    assert ours.list_artifacts(path) == stock.list_artifacts(path)


def test_directory_markers_download_parity(with_markers, tmp_path):
    ours = OxideS3ArtifactRepository(with_markers)
    stock = S3ArtifactRepository(with_markers)
    (tmp_path / "ours").mkdir()
    (tmp_path / "stock").mkdir()
    ours.download_artifacts("", str(tmp_path / "ours"))
    stock.download_artifacts("", str(tmp_path / "stock"))
    assert local_tree(tmp_path / "ours") == local_tree(tmp_path / "stock")


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
def test_missing_bucket_raises_mlflow_exception(tmp_path, op):
    """Never a raw native error; where stock raises an ``MlflowException`` (listing and
    downloading: RESOURCE_DOES_NOT_EXIST), the same error code."""
    uri = f"s3://{new_bucket_name()}-missing/root"
    try:
        _call(op, S3ArtifactRepository(uri), tmp_path)
    except Exception as e:
        stock = e
    else:
        pytest.fail("stock did not raise")
    with pytest.raises(Exception) as info:
        _call(op, OxideS3ArtifactRepository(uri), tmp_path)
    ours = info.value
    assert isinstance(ours, MlflowException), _err(ours)
    if isinstance(stock, MlflowException):
        assert ours.error_code == stock.error_code, (_err(ours), _err(stock))


@pytest.mark.parametrize("path", ["missing.txt", "dir/missing.txt"])
def test_download_missing_file(bucket, tmp_path, path):
    """Ours: RESOURCE_DOES_NOT_EXIST, nothing left in the destination. (Stock also raises an
    ``MlflowException``, but with INTERNAL_ERROR: the boto3 404 inside its thread pool is not
    an ``MlflowException`` so its code is not carried.)"""
    uri = f"s3://{bucket}/root"
    (tmp_path / "stock").mkdir()
    (tmp_path / "ours").mkdir()
    with pytest.raises(MlflowException) as stock:
        S3ArtifactRepository(uri).download_artifacts(path, str(tmp_path / "stock"))
    with pytest.raises(MlflowException) as ours:
        OxideS3ArtifactRepository(uri).download_artifacts(path, str(tmp_path / "ours"))
    assert ours.value.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), _err(ours.value)
    assert uri in str(ours.value)
    assert stock.value.error_code in (
        ErrorCode.Name(RESOURCE_DOES_NOT_EXIST),
        "INTERNAL_ERROR",
    )
    leftovers = {k for k, v in local_tree(tmp_path / "ours").items() if v != "<dir>"}
    assert not leftovers


@pytest.mark.parametrize(
    ("kind", "code"),
    [("missing", RESOURCE_DOES_NOT_EXIST), ("file", INVALID_PARAMETER_VALUE)],
)
def test_download_bad_destination_same_as_stock(bucket, s3, tmp_path, kind, code):
    s3.put_object(Bucket=bucket, Key="root/a.txt", Body=b"a")
    dst = tmp_path / "dst"
    if kind == "file":
        dst.write_text("not a directory")
    uri = f"s3://{bucket}/root"
    results = []
    for repo in (S3ArtifactRepository(uri), OxideS3ArtifactRepository(uri)):
        with pytest.raises(MlflowException) as info:
            repo.download_artifacts("a.txt", str(dst))
        results.append((info.value.error_code, str(info.value)))
    assert results[1] == results[0]
    assert results[1][0] == ErrorCode.Name(code)


# --- end to end through MLflow --------------------------------------------------------------


@pytest.fixture
def tracking_on_s3(migrated_db_template, tmp_path, tracking_uri, bucket, request):
    """A temporary sqlite tracking store (MLflow's or ours, by the parameter) whose experiment
    keeps its artifacts in ``s3://<bucket>/experiments``."""
    import mlflow

    from tests.conftest import new_db

    db = new_db(migrated_db_template, tmp_path / "mlflow.db")
    tracking_uri(f"{request.param}:///{db}")
    location = f"s3://{bucket}/experiments"
    exp = mlflow.create_experiment("s3-e2e", artifact_location=location)
    mlflow.set_experiment(experiment_id=exp)
    try:
        yield location
    finally:
        release_tracking()


@pytest.mark.parametrize("tracking_on_s3", ["sqlite", "oxide+sqlite"], indirect=True)
def test_sklearn_model_round_trip(tracking_on_s3, bucket, s3, tmp_path, monkeypatch):
    import mlflow
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    calls = {"upload": 0, "download": 0}
    upload, download = OxideS3ArtifactRepository._upload, OxideS3ArtifactRepository._download

    def counted_upload(self, *args, **kwargs):
        calls["upload"] += 1
        return upload(self, *args, **kwargs)

    def counted_download(self, *args, **kwargs):
        calls["download"] += 1
        return download(self, *args, **kwargs)

    monkeypatch.setattr(OxideS3ArtifactRepository, "_upload", counted_upload)
    monkeypatch.setattr(OxideS3ArtifactRepository, "_download", counted_download)

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 300)
        info = mlflow.sklearn.log_model(model, name="model")
        mlflow.log_dict({"classes": 3}, "meta/info.json")
    assert run.info.artifact_uri.startswith(tracking_on_s3 + "/")
    assert calls["upload"] > 0

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.endswith("/MLmodel") for k in keys), keys
    assert all(k.startswith("experiments/") for k in keys), keys

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert calls["download"] > 0

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
