"""``OxideLocalArtifactRepository`` against MLflow's own ``LocalArtifactRepository`` on the same
scenarios: registration (plain paths, ``file://``, a run's default artifact root), what
``log_artifacts`` writes (names, bytes, permission bits, times), listings, directory downloads,
and the errors of bad destinations, missing artifacts and paths escaping the root."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
from mlflow_oxide import _native
from mlflow_oxide.artifacts import OxideLocalArtifactRepository

from tests.artifacts.conftest import Child, host_env
from tests.artifacts.local.conftest import (
    BIG,
    FUTURE_ATIME_NS,
    MTIME_BASE_NS,
    PARTIAL,
    UNICODE_NAME,
    build_tree,
    clear_oxide_settings,
    outcome,
    partials,
    settle_times,
    snapshot,
)
from tests.conftest import release_tracking

SIDES = {"stock": LocalArtifactRepository, "ours": OxideLocalArtifactRepository}


def assert_same_tree(ours: dict, stock: dict) -> None:
    """Equal snapshots, with a readable account of the differences."""
    if ours != stock:
        only_ours = sorted(set(ours) - set(stock))
        only_stock = sorted(set(stock) - set(ours))
        differ = {k: {"ours": ours[k], "stock": stock[k]} for k in ours if k in stock}
        differ = {k: v for k, v in differ.items() if v["ours"] != v["stock"]}
        pytest.fail(
            f"trees differ: only ours {only_ours}, only stock {only_stock}, differing {differ}"
        )


@pytest.fixture
def count_native_copies(monkeypatch) -> list[int]:
    """``[n]``: how many times the native copy ran (the file count of each call)."""
    calls: list[int] = []
    real = _native.copy_files

    def counted(files, *args, **kwargs):
        calls.append(len(files))
        return real(files, *args, **kwargs)

    monkeypatch.setattr(_native, "copy_files", counted)
    return calls


# --- registration --------------------------------------------------------------------------


def test_registry_plain_paths_and_file_uris(tmp_path, monkeypatch):
    """Absolute and relative plain paths and ``file://`` URIs (also with an encoded space) all
    resolve to ours, with the same artifact directory as stock resolves."""
    monkeypatch.chdir(tmp_path)
    uris = [
        str(tmp_path / "absolute root"),
        "relative/root",
        "./dot-relative",
        (tmp_path / "uri root ✓").as_uri(),
        f"file://{tmp_path}/plain-uri",
        f"file:{tmp_path}/no-slashes",
    ]
    for uri in uris:
        repo = get_artifact_repository(uri)
        assert type(repo) is OxideLocalArtifactRepository, (uri, type(repo))
        assert repo.artifact_dir == LocalArtifactRepository(uri).artifact_dir, uri


@pytest.mark.parametrize("value", ["0", "false", "off", "no", " OFF "])
def test_registry_disabled_returns_stock(tmp_path, monkeypatch, value):
    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", value)
    for uri in (str(tmp_path / "root"), "relative/root", (tmp_path / "root").as_uri()):
        assert type(get_artifact_repository(uri)) is LocalArtifactRepository, uri


REGISTRY_CHILD = r"""
import importlib, os
importlib.import_module(os.environ["OXIDE_TEST_FIRST"])
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
base = os.environ["OXIDE_TEST_DIR"]
for uri in (base + "/abs", "rel/path", "file://" + base + "/uri"):
    print("TYPE", type(get_artifact_repository(uri)).__name__, flush=True)
os.environ["MLFLOW_OXIDE_ARTIFACTS"] = "0"
print("TYPE", type(get_artifact_repository(base + "/abs")).__name__, flush=True)
"""


@pytest.mark.parametrize("first", ["mlflow", "mlflow_oxide.artifacts"])
def test_registry_in_fresh_interpreter(tmp_path, first):
    """A fresh process claims plain paths through the ``file`` entry point alone, whichever
    package is imported first."""
    child = Child(
        REGISTRY_CHILD, host_env() | {"OXIDE_TEST_DIR": str(tmp_path), "OXIDE_TEST_FIRST": first}
    )
    assert child.finish(timeout=120) == 0, child.report()
    types = [line.split()[1] for line in child.stdout if line.startswith("TYPE ")]
    assert types == ["OxideLocalArtifactRepository"] * 3 + ["LocalArtifactRepository"], (
        child.report()
    )


@pytest.mark.parametrize("scheme", ["sqlite", "oxide+sqlite"])
def test_run_default_artifact_root_uses_ours(
    migrated_db_template, tmp_path, monkeypatch, tracking_uri, scheme
):
    """A run of a tracking store without an explicit artifact root (``./mlruns`` of the working
    directory) gets ours through every way MLflow looks its repository up."""
    import mlflow
    from mlflow.tracking import MlflowClient, artifact_utils

    from tests.conftest import new_db

    monkeypatch.chdir(tmp_path)
    db = new_db(migrated_db_template, tmp_path / "x.db")
    tracking_uri(f"{scheme}:///{db}")
    try:
        with mlflow.start_run() as run:
            mlflow.log_dict({"a": 1}, "meta/a.json")
        uri = run.info.artifact_uri
        assert Path(uri.removeprefix("file://")).is_relative_to(tmp_path / "mlruns"), uri
        for repo in (
            get_artifact_repository(uri),
            artifact_utils.get_artifact_repository(uri),
            MlflowClient()._tracking_client._get_artifact_repo(run.info.run_id),
        ):
            assert type(repo) is OxideLocalArtifactRepository, type(repo)
        monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", "0")
        assert type(artifact_utils.get_artifact_repository(uri)) is LocalArtifactRepository
    finally:
        release_tracking()


# --- log_artifacts -------------------------------------------------------------------------


def log_scenario(repo, src: Path) -> None:
    """The same calls on either repository (each writing its own root)."""
    repo.log_artifacts(str(src / "tree"))  # into the root itself
    repo.log_artifacts(str(src / "tree" / "nested"), "under/path")
    repo.log_artifacts(str(src / "tree"), "deep/er/path")  # a nested artifact path
    repo.log_artifacts(str(src / "v1"), "twice")
    repo.log_artifacts(str(src / "v2"), "twice")  # overwrites (a read-only file too), adds
    repo.log_artifacts(str(src / "v1"), "same")
    repo.log_artifacts(str(src / "v1"), "same")  # identical files again
    repo.log_artifacts(str(src / "empty source"), "from-empty")  # makes just the directory
    repo.log_artifacts(str(src / "tree" / "empty-dir"), "only/empty")
    repo.log_artifacts(str(src / "tree" / "nested"), "deep/er")  # into a logged directory


@dataclass
class Logged:
    base: Path
    src: Path
    files: dict[str, str]
    roots: dict[str, Path]
    snapshots: dict[str, dict]
    native_files: list[int]


@pytest.fixture(
    scope="module", params=["default", "1"], ids=["concurrency-default", "concurrency-1"]
)
def logged(request, tmp_path_factory, atime_is_stable) -> Logged:
    """The scenario run once by each repository, each into its own root (a ``file://`` URI of
    a directory with a space), with the native copy's file counts recorded."""
    base = tmp_path_factory.mktemp("logged")
    src = base / "src"
    files = build_tree(src / "tree", big=True)
    build_tree(src / "v1")
    build_tree(src / "v2", version=2)
    for gone in ("data/file_03.bin", "nested/deeper/mid.txt"):
        (src / "v2" / gone).unlink()
    (src / "v2" / "only-in-v2.txt").write_text("new in v2")
    os.utime(src / "v2" / "only-in-v2.txt", ns=(FUTURE_ATIME_NS, MTIME_BASE_NS))
    (src / "empty source").mkdir()
    calls: list[int] = []
    real = _native.copy_files

    def counted(pairs, *args, **kwargs):
        calls.append(len(pairs))
        return real(pairs, *args, **kwargs)

    roots = {side: base / f"{side} root" for side in SIDES}
    with pytest.MonkeyPatch.context() as mp:
        clear_oxide_settings(mp)
        if request.param != "default":
            mp.setenv("MLFLOW_OXIDE_CONCURRENCY", request.param)
        mp.setattr(_native, "copy_files", counted)
        for side, cls in SIDES.items():
            log_scenario(cls(roots[side].as_uri()), src)
    snapshots = {side: snapshot(root, atimes=atime_is_stable) for side, root in roots.items()}
    return Logged(base, src, files, roots, snapshots, calls)


def test_log_artifacts_same_tree_as_stock(logged):
    """Names, kinds, permission bits (files and directories), sizes, bytes, mtimes (and atimes
    where the file system keeps them still) as stock wrote."""
    assert_same_tree(logged.snapshots["ours"], logged.snapshots["stock"])


def test_log_artifacts_content(logged):
    """What the scenario must have written, checked on ours (so equal trees are not equally
    empty)."""
    tree = logged.snapshots["ours"]
    for rel, digest in logged.files.items():
        assert tree[rel][3] == digest, rel
        assert tree[f"deep/er/path/{rel}"][3] == digest, rel
    assert tree["big.bin"][2] == BIG
    assert tree["empty.txt"][2] == 0
    assert tree["modes/read-only.txt"][1] == "0o444"
    assert tree["modes/setuid"][1] == "0o4755"
    assert (
        tree["under/path/deeper/deepest/leaf.json"][3]
        == logged.files["nested/deeper/deepest/leaf.json"]
    )
    assert tree["deep/er/top.csv"][3] == logged.files["nested/top.csv"]
    assert tree["deep/er/path/nested/top.csv"][3] == logged.files["nested/top.csv"]
    # Symbolic links: a file's is copied as the file it points to, a directory's is not followed.
    assert tree["links/to-file.txt"][3] == logged.files["nested/top.csv"]
    assert tree["links/to-dir"] == tree["empty-dir"]
    assert not any(k.startswith("links/to-dir/") for k in tree)
    for empty in ("empty-dir", "nested/empty/deeper-empty", "from-empty", "only/empty"):
        assert tree[empty][0] == "dir", empty
    v2 = {k: v for k, v in snapshot(logged.src / "v2").items() if v[0] == "file"}
    for rel, entry in v2.items():  # logged twice: the second version wins, the rest stays
        assert tree[f"twice/{rel}"][:4] == entry[:4], rel
    assert tree["twice/nested/deeper/mid.txt"][3] == logged.files["nested/deeper/mid.txt"]


def test_log_artifacts_went_native(logged):
    """Every call with files went through the native copy (10 calls, 8 with files)."""
    assert len(logged.native_files) == 8, logged.native_files
    assert logged.native_files[0] == len(logged.files) + 1  # + the symlink to a file


def test_log_artifacts_no_partial_files(logged):
    assert partials(logged.base) == []


def _listing(repo, path):
    return [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts(path)]


def test_list_artifacts_parity(logged):
    """Each repository lists its own root as stock lists stock's, for every directory, some
    files, and paths that do not exist."""
    dirs = [k for k, v in logged.snapshots["stock"].items() if v[0] == "dir"]
    paths = [None, "", "MLmodel", "missing", "data/file_0", "nested/", *dirs]
    ours = OxideLocalArtifactRepository(str(logged.roots["ours"]))
    stock = LocalArtifactRepository(str(logged.roots["stock"]))
    for path in paths:
        assert _listing(ours, path) == _listing(stock, path), path
    assert ("empty.txt", False, 0) in _listing(ours, "")


def test_log_artifacts_disabled_is_stock(tmp_path, monkeypatch, atime_is_stable):
    """Our class with ``MLFLOW_OXIDE_ARTIFACTS=0`` never calls the native copy and writes what
    stock writes."""
    build_tree(tmp_path / "src")

    def refuse(*args, **kwargs):
        raise AssertionError("native copy called while disabled")

    monkeypatch.setenv("MLFLOW_OXIDE_ARTIFACTS", "0")
    monkeypatch.setattr(_native, "copy_files", refuse)
    OxideLocalArtifactRepository(str(tmp_path / "ours")).log_artifacts(str(tmp_path / "src"), "a")
    LocalArtifactRepository(str(tmp_path / "stock")).log_artifacts(str(tmp_path / "src"), "a")
    dst = {side: tmp_path / f"{side}-dst" for side in SIDES}
    for d in dst.values():
        d.mkdir()
    OxideLocalArtifactRepository(str(tmp_path / "ours")).download_artifacts("a", str(dst["ours"]))
    LocalArtifactRepository(str(tmp_path / "stock")).download_artifacts("a", str(dst["stock"]))
    assert_same_tree(
        snapshot(tmp_path / "ours", atimes=atime_is_stable),
        snapshot(tmp_path / "stock", atimes=atime_is_stable),
    )
    assert_same_tree(snapshot(dst["ours"]), snapshot(dst["stock"]))


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_concurrency_setting(tmp_path, monkeypatch, value):
    """A setting the native copy cannot use is a ``ValueError`` naming it; no file is written."""
    build_tree(tmp_path / "src")
    monkeypatch.setenv("MLFLOW_OXIDE_CONCURRENCY", value)
    with pytest.raises(ValueError, match="MLFLOW_OXIDE_CONCURRENCY"):
        OxideLocalArtifactRepository(str(tmp_path / "root")).log_artifacts(str(tmp_path / "src"))
    assert [k for k, v in snapshot(tmp_path / "root").items() if v[0] != "dir"] == []


def _on_each_side(tmp_path: Path, setup, act):
    """For stock and ours, each in a fresh ``base``: ``setup(base)``, fixed times on every file,
    then ``act(cls, base)``. Returns ``{side: (outcome with base replaced, snapshot of base)}``."""
    results = {}
    for side, cls in SIDES.items():
        base = tmp_path / side
        base.mkdir()
        setup(base)
        settle_times(base)
        result = outcome(lambda cls=cls, base=base: act(cls, base), base)
        if result[0] == "ok" and isinstance(result[1], str):
            result = ("ok", result[1].replace(str(base), "<base>"))
        results[side] = (result, snapshot(base, atimes=True))
    return results


def _assert_same_sides(results, atimes: bool) -> None:
    """Same outcome (result, or exception type, code and message); when both succeeded, the same
    tree. (What a failed call left behind is not compared: stock's depends on the order it walks
    in; no temporary file of ours may be left in any case.)"""
    (ours_outcome, ours_tree), (stock_outcome, stock_tree) = results["ours"], results["stock"]
    assert not [k for k in ours_tree if PARTIAL in k]
    if not atimes:
        ours_tree, stock_tree = ({k: v[:5] for k, v in t.items()} for t in (ours_tree, stock_tree))
    assert ours_outcome == stock_outcome
    if ours_outcome[0] == "ok":
        assert_same_tree(ours_tree, stock_tree)


def _small_source(base: Path) -> Path:
    src = base / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "a.txt").write_text("a")
    (src / "top.txt").write_text("top")
    return src


# Each leaves something in the way in the root before a tree is logged into it.
CONFLICTS = {
    "directory-over-existing-file": ("d", None),  # the source has a directory d/
    "file-over-existing-directory": ("top.txt/", None),  # the source has a file top.txt
    "artifact-path-is-a-file": ("p", "p"),
}


@pytest.mark.parametrize("conflict", sorted(CONFLICTS))
def test_log_artifacts_conflicts_parity(tmp_path, conflict, atime_is_stable):
    in_the_way, artifact_path = CONFLICTS[conflict]

    def setup(base):
        _small_source(base)
        (base / "root").mkdir()
        if in_the_way.endswith("/"):
            (base / "root" / in_the_way).mkdir()
        else:
            (base / "root" / in_the_way).write_text("in the way")

    def act(cls, base):
        cls(str(base / "root")).log_artifacts(str(base / "src"), artifact_path)

    _assert_same_sides(_on_each_side(tmp_path, setup, act), atime_is_stable)


@pytest.mark.parametrize("source", ["missing", "a-file", "the-root-itself", "broken-symlink"])
def test_log_artifacts_odd_sources_parity(tmp_path, source, atime_is_stable):
    def setup(base):
        _small_source(base)
        (base / "root").mkdir()
        (base / "root" / "kept.txt").write_text("kept")
        if source == "broken-symlink":
            (base / "src" / "d" / "dangling").symlink_to("../../nowhere")

    def act(cls, base):
        path = {
            "missing": base / "no such dir",
            "a-file": base / "src" / "top.txt",
            "the-root-itself": base / "root",
            "broken-symlink": base / "src",
        }[source]
        cls(str(base / "root")).log_artifacts(str(path))

    _assert_same_sides(_on_each_side(tmp_path, setup, act), atime_is_stable)


# --- bad artifact paths --------------------------------------------------------------------

LOG_PATHS = [
    "../x",
    "../../x",
    "a/../../x",
    "a/../b",
    "..",
    ".",
    "/abs/x",
    "a/./b",
    "a//b",
    "./a",
    "a/",
]


@pytest.mark.parametrize("path", LOG_PATHS)
def test_log_artifacts_artifact_path_parity(tmp_path, path, atime_is_stable):
    """Escaping, absolute and non-normal paths: the same error (or the same place) as stock, and
    nothing written outside the root."""

    def setup(base):
        _small_source(base)
        (base / "outside").mkdir()

    def act(cls, base):
        before = snapshot(base, atimes=True)
        try:
            root = base / "runs" / "root"
            cls(str(root)).log_artifacts(str(base / "src"), path.replace("/abs", str(base / "abs")))
        finally:
            after = snapshot(base, atimes=True)
            outside = {k: v for k, v in after.items() if k.split("/")[0] != "runs"}
            assert outside == before, "written outside the artifact root"

    _assert_same_sides(_on_each_side(tmp_path, setup, act), atime_is_stable)


# --- download_artifacts --------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """An artifact root written by stock: the tree (with the big file), a subtree under
    ``under/path`` and files of MLflow's staging prefix, which downloads skip."""
    base = tmp_path_factory.mktemp("stored")
    build_tree(base / "tree", big=True)
    root = base / "artifact root"
    repo = LocalArtifactRepository(str(root))
    repo.log_artifacts(str(base / "tree"))
    repo.log_artifacts(str(base / "tree" / "nested"), "under/path")
    return root


DOWNLOADS = [
    None,
    "",
    "nested",
    "nested/deeper/",
    "./nested",
    "nested//deeper",
    "with space",
    "with space/sub dir",
    "under/path",
    "modes",
    "links",
    "empty-dir",
    "nested/empty",
    "MLmodel",
    "big.bin",
    "empty.txt",
    "modes/read-only.txt",
    f"with space/{UNICODE_NAME}",
]


def _download(cls, root: Path, path, dst: Path):
    dst.mkdir(parents=True)
    returned = cls(str(root)).download_artifacts(path, str(dst))
    assert os.path.isabs(returned)
    return os.path.relpath(returned, dst), snapshot(dst, atimes=True)


@pytest.mark.parametrize("path", DOWNLOADS)
def test_download_artifacts_with_dst_parity(stored, tmp_path, path, atime_is_stable):
    """The returned path and everything copied (names, bytes, permission bits, times)."""
    got = {side: _download(cls, stored, path, tmp_path / side) for side, cls in SIDES.items()}
    assert got["ours"][0] == got["stock"][0]
    if not atime_is_stable:
        got = {s: (r, {k: v[:5] for k, v in t.items()}) for s, (r, t) in got.items()}
    assert_same_tree(got["ours"][1], got["stock"][1])
    assert partials(tmp_path) == []


def test_download_skips_staging_files_and_is_mlflows(stored, tmp_path, count_native_copies):
    # Downloads are MLflow's own thread pool of copies (with its path and symlink checks).
    rel, tree = _download(OxideLocalArtifactRepository, stored, "", tmp_path / "dst")
    assert rel == "."
    assert count_native_copies == []
    assert not any(".artifact.uploading." in k for k in tree)
    assert tree["big.bin"][2] == BIG


@pytest.mark.parametrize("path", [None, "", "nested", "MLmodel", "nested/deeper/"])
def test_download_artifacts_without_dst_parity(stored, path):
    """No destination: stock returns the artifact's own local path (nothing is copied)."""
    ours = outcome(lambda: OxideLocalArtifactRepository(str(stored)).download_artifacts(path))
    stock = outcome(lambda: LocalArtifactRepository(str(stored)).download_artifacts(path))
    assert ours == stock


def test_download_into_non_empty_destination(stored, tmp_path, atime_is_stable):
    """Files already there are replaced (a read-only one too), others kept."""
    results = {}
    for side, cls in SIDES.items():
        dst = tmp_path / side
        (dst / "nested" / "deeper").mkdir(parents=True)
        (dst / "nested" / "top.csv").write_text("old")
        (dst / "nested" / "top.csv").chmod(0o444)
        (dst / "nested" / "deeper" / "mid.txt").write_text("old mid, longer than the new one")
        (dst / "keep.txt").write_text("kept")
        settle_times(dst)
        returned = cls(str(stored)).download_artifacts("nested", str(dst))
        results[side] = (os.path.relpath(returned, dst), snapshot(dst, atimes=atime_is_stable))
    assert results["ours"][0] == results["stock"][0]
    assert_same_tree(results["ours"][1], results["stock"][1])


def test_download_relative_dst_path(stored, tmp_path, monkeypatch):
    results = {}
    for side, cls in SIDES.items():
        (tmp_path / side / "dst").mkdir(parents=True)
        monkeypatch.chdir(tmp_path / side)
        returned = cls(str(stored)).download_artifacts("with space", "dst")
        results[side] = (os.path.relpath(returned, tmp_path / side), snapshot("dst"))
    assert results["ours"] == results["stock"]
    assert results["ours"][0] == os.path.join("dst", "with space")


def _root_with_dir(base: Path) -> Path:
    root = base / "root"
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "sub" / "f.txt").write_text("f")
    (root / "file.txt").write_text("file")
    (base / "x").mkdir()
    (base / "x" / "secret.txt").write_text("outside the root")
    return root


# (artifact path, destination: "dir" | "missing" | "file", root: "full" | "empty" | "missing")
DOWNLOAD_ERRORS = {
    "missing-file": ("missing.txt", "dir", "full"),
    "missing-nested": ("no/such/dir", "dir", "full"),
    "missing-under-existing-dir": ("d/missing", "dir", "full"),
    "missing-artifact-and-dst": ("missing.txt", "missing", "full"),
    "dir-to-missing-dst": ("d", "missing", "full"),
    "dir-to-file-dst": ("d", "file", "full"),
    "file-to-missing-dst": ("file.txt", "missing", "full"),
    "file-to-file-dst": ("file.txt", "file", "full"),
    "root-of-empty-root": ("", "dir", "empty"),
    "root-of-missing-root": ("", "dir", "missing"),
    "none-of-missing-root": (None, "dir", "missing"),
    "subdir-of-missing-root": ("d", "dir", "missing"),
}


@pytest.mark.parametrize("case", list(DOWNLOAD_ERRORS))
def test_download_errors_parity(tmp_path, case, atime_is_stable):
    """Same exception type, error code and message as stock (or the same result), and the same
    left in the destination. A run that logged nothing has no artifact directory yet: its root
    downloads as an empty directory."""
    path, dst_kind, root_kind = DOWNLOAD_ERRORS[case]

    def setup(base):
        root = _root_with_dir(base)
        if root_kind == "empty":
            shutil.rmtree(root)
            root.mkdir()
        elif root_kind == "missing":
            shutil.rmtree(root)
        if dst_kind == "dir":
            (base / "dst").mkdir()
        elif dst_kind == "file":
            (base / "dst").write_text("not a directory")

    def act(cls, base):
        return cls(str(base / "root")).download_artifacts(path, str(base / "dst"))

    _assert_same_sides(_on_each_side(tmp_path, setup, act), atime_is_stable)


DOWNLOAD_PATHS = {
    "parent-existing": "../x",
    "parent-missing": "../nothing",
    "nested-escape": "d/../../x",
    "absolute-existing-dir": "<base>/x",
    "dotdot": "..",
    "inside-after-dotdot": "d/../d",
    "encoded-dotdot": "%2e%2e/x",
}


def _root_and_dst(base: Path) -> None:
    _root_with_dir(base)
    (base / "dst").mkdir()


@pytest.mark.parametrize("case", list(DOWNLOAD_PATHS))
def test_download_artifact_path_parity(tmp_path, case, atime_is_stable):
    """Paths escaping the root: the same error as stock, nothing copied from outside."""

    def act(cls, base):
        path = DOWNLOAD_PATHS[case].replace("<base>", str(base))
        return cls(str(base / "root")).download_artifacts(path, str(base / "dst"))

    results = _on_each_side(tmp_path, _root_and_dst, act)
    for side, (_, tree) in results.items():
        assert not any(k.startswith("dst/") and k.endswith("secret.txt") for k in tree), side
    _assert_same_sides(results, atime_is_stable)


# Artifact roots holding what ``log_artifacts`` never writes (put there by hand or by other
# tools): symbolic links (relative, so both sides' snapshots compare), and a directory named
# with MLflow's staging prefix.
ROOT_EXTRAS = {
    "link-to-file-inside": ("d/link.txt", "../file.txt"),
    "link-to-dir-inside": ("d/link-dir", "sub"),
    "link-to-file-outside": ("d/link.txt", "../../x/secret.txt"),
    "link-to-dir-outside": ("d/link-dir", "../../x"),
    "staging-named-dir": ("d/.artifact.uploading.dir/in.txt", None),
}


@pytest.mark.parametrize("path", ["", "d"])
@pytest.mark.parametrize("extra", list(ROOT_EXTRAS))
def test_download_root_extras_parity(tmp_path, extra, path, atime_is_stable):
    name, target = ROOT_EXTRAS[extra]

    def setup(base):
        _root_and_dst(base)
        where = base / "root" / name
        if target is None:
            where.parent.mkdir(parents=True)
            where.write_text("in")
        else:
            where.symlink_to(target)

    def act(cls, base):
        return cls(str(base / "root")).download_artifacts(path, str(base / "dst"))

    results = _on_each_side(tmp_path, setup, act)
    secret = hashlib.sha256(b"outside the root").hexdigest()
    for side, (_, tree) in results.items():
        copied = [k for k, v in tree.items() if k.startswith("dst/") and secret in v]
        assert copied == [], f"{side} copied a file from outside the artifact root: {copied}"
    _assert_same_sides(results, atime_is_stable)


@pytest.mark.parametrize("name", ["h#ash.txt", "a%20b.txt", "tab\there.txt"])
def test_download_names_stock_refuses_parity(tmp_path, name, atime_is_stable):
    """Names MLflow's own per-file path check rejects (``#``) or decodes into another name
    (``%20``, control characters) when downloading a directory."""

    def setup(base):
        _root_and_dst(base)
        (base / "root" / "d" / name).write_text("odd name")

    def act(cls, base):
        return cls(str(base / "root")).download_artifacts("d", str(base / "dst"))

    _assert_same_sides(_on_each_side(tmp_path, setup, act), atime_is_stable)
