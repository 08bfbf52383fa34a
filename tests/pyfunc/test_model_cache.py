"""The local content-addressed cache of remote models (``MLFLOW_OXIDE_MODEL_CACHE``), on a real
``moto_server``: layout, reuse without download, a changed remote fetched again (never served
stale), a vanished remote, hand-corrupted trees, ``dst_path``, concurrent loaders in several
processes and a loader killed mid-download.

Downloads are observed in the server's request log: an object ``GET`` under the model's prefix
is a download, a ``list-type=2`` request a listing. Stock MLflow (``MLFLOW_OXIDE_ARTIFACTS=0``)
loading the same URI is the reference for what the model must be."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.artifacts.conftest import Child
from tests.artifacts.s3.conftest import child_env
from tests.pyfunc.conftest import (
    NOTES,
    assert_same_model,
    assert_same_value,
    copy_prefix,
    delete_prefix,
    list_prefix,
    load_ours,
    load_stock,
    load_stock_loader,
    outcome,
    sha256_file,
    tree_files,
    upload_dir,
)

HEX64 = re.compile(r"^[0-9a-f]{64}$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours some status lines (206, 404)
DATA = pd.DataFrame({"x": [1.0, -2.5, 4.0]})


@pytest.fixture(autouse=True)
def _s3(s3_env):
    """Every test here talks to the session's moto server."""


@pytest.fixture(scope="module")
def templates(saved, s3, bucket) -> dict[str, str]:
    """The saved models uploaded once; tests load copies (``remote``) they may change."""
    return {kind: upload_dir(s3, bucket, saved[kind], f"templates/{kind}") for kind in ("custom",)}


@dataclass
class Remote:
    s3: object
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, rel: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{rel}", Body=data)

    def delete(self, rel: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{rel}")

    def listing(self) -> dict[str, int]:
        return list_prefix(self.s3, self.bucket, self.prefix)

    def sha256(self, rel: str) -> str:
        body = self.s3.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{rel}")["Body"].read()
        return hashlib.sha256(body).hexdigest()


@pytest.fixture
def remote(templates, s3, bucket):
    def make(kind: str = "custom") -> Remote:
        prefix = f"models/{uuid.uuid4().hex[:12]}/model"
        copy_prefix(s3, bucket, f"templates/{kind}", prefix)
        return Remote(s3, bucket, prefix)

    return make


# --- reading the cache -----------------------------------------------------------------------


@dataclass
class CacheState:
    trees: dict[str, list[dict]]  # tree id -> manifest
    refs: dict[str, str]  # ref name -> tree id


def read_manifest(root: Path, tree_id: str) -> list[dict]:
    manifest = json.loads((root / "trees" / f"{tree_id}.json").read_text())
    assert isinstance(manifest, list)
    for entry in manifest:
        assert set(entry) >= {"path", "size", "sha256"}, entry
    return manifest


def check_cache(root: Path, model_files: set[str], strict: bool = True) -> CacheState:
    """The invariants of a cache: every published tree complete (its files are the
    manifest's, hard links of read-only blobs), refs point at published trees. ``strict`` (no
    loader was killed): also no leftovers - blobs all named by a sha256, no staged ref, no file
    ending in ``.tmp``, no copy of a model file (``model_files``) outside ``trees/<id>/``, no
    directory below a top-level directory other than ``objects/`` and ``trees/``."""
    objects, trees_dir, refs_dir = root / "objects", root / "trees", root / "refs"
    if objects.exists() and strict:
        for sub in objects.iterdir():
            assert sub.is_dir() and re.fullmatch(r"[0-9a-f]{2}", sub.name), sub
            for blob in sub.iterdir():
                assert HEX64.match(blob.name) and blob.name[:2] == sub.name, blob
                assert blob.is_file()
    trees: dict[str, list[dict]] = {}
    if trees_dir.exists():
        names = {p.name for p in trees_dir.iterdir()}
        for name in names:
            path = trees_dir / name
            if path.is_dir():
                assert f"{name}.json" in names, f"tree {name} without manifest"
            else:
                assert name.endswith(".json") and name[: -len(".json")] in names, path
        for name in names:
            if not (trees_dir / name).is_dir():
                continue
            manifest = read_manifest(root, name)
            tree = trees_dir / name
            on_disk = tree_files(tree)
            assert on_disk == {e["path"]: e["sha256"] for e in manifest}, f"tree {name} broken"
            for entry in manifest:
                f = tree / entry["path"]
                assert f.stat().st_size == entry["size"]
                blob = objects / entry["sha256"][:2] / entry["sha256"]
                assert f.stat().st_ino == blob.stat().st_ino, f"{f} is not a link of its blob"
                assert stat.S_IMODE(blob.stat().st_mode) & 0o222 == 0, f"{blob} is writable"
            trees[name] = manifest
    refs: dict[str, str] = {}
    if refs_dir.exists():
        for ref in refs_dir.iterdir():
            if not HEX64.match(ref.name):
                assert not strict, f"stray entry in refs: {ref}"
                continue
            tree_id = ref.read_text().strip()
            assert tree_id in trees, f"ref {ref.name} names unpublished tree {tree_id}"
            refs[ref.name] = tree_id
    if strict:
        for path in root.rglob("*"):
            rel = path.relative_to(root).parts
            assert not path.name.endswith(".tmp"), f"leftover: {path}"
            if rel[0] in ("trees", "objects"):
                continue
            assert path.name not in model_files, f"leftover model file outside trees: {path}"
            # a staging directory (of a download or a tree) left behind
            assert not (len(rel) >= 2 and path.is_dir()), f"leftover directory: {path}"
    return CacheState(trees, refs)


def served_tree(model, root: Path) -> Path:
    """The tree a loaded custom model was read from."""
    notes = Path(model.unwrap_python_model().notes_path).resolve()
    trees = (root / "trees").resolve()
    assert notes.is_relative_to(trees), f"{notes} is not in the cache"
    return trees / notes.relative_to(trees).parts[0]


def model_file_names(remote: Remote) -> set[str]:
    return {posix.rsplit("/", 1)[-1] for posix in remote.listing()}


def ref_name(uri: str) -> str:
    return hashlib.sha256(uri.encode()).hexdigest()


# --- the server's request log ----------------------------------------------------------------


def log_mark(moto) -> int:
    return moto.log.stat().st_size


def requests_since(moto, s3, bucket: str, mark: int) -> list[str]:
    """Request lines logged since ``mark``; a sentinel request made now is waited for, so
    every request completed before the call is in."""
    sentinel = f"sentinel/{uuid.uuid4().hex}"
    s3.put_object(Bucket=bucket, Key=sentinel, Body=b"")
    deadline = time.monotonic() + 20
    while True:
        text = moto.log.read_bytes()[mark:].decode(errors="replace")
        if f"/{bucket}/{sentinel}" in text:
            break
        assert time.monotonic() < deadline, "sentinel request never logged"
        time.sleep(0.05)
    time.sleep(0.3)
    text = ANSI.sub("", moto.log.read_bytes()[mark:].decode(errors="replace"))
    return [line for line in text.splitlines() if '"' in line and "HTTP/" in line]


def object_gets(lines: list[str], bucket: str, prefix: str) -> list[str]:
    return [line for line in lines if f'"GET /{bucket}/{prefix}/' in line]


def listings(lines: list[str], bucket: str) -> list[str]:
    return [line for line in lines if f'"GET /{bucket}?' in line and "list-type=2" in line]


# --- tests -----------------------------------------------------------------------------------


def test_cache_dir_follows_environment(model_cache):
    from mlflow_oxide.pyfunc import cache_dir

    assert Path(cache_dir()) == model_cache


def test_cache_dir_default(monkeypatch, tmp_path):
    from mlflow_oxide.pyfunc import cache_dir

    monkeypatch.delenv("MLFLOW_OXIDE_MODEL_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Path(cache_dir()) == tmp_path / ".cache" / "mlflow-oxide" / "models"


def test_first_load_populates_cache(remote, model_cache):
    r = remote()
    stock = load_stock(r.uri)
    ours = load_ours(r.uri)
    assert_same_model(ours, stock)
    assert_same_value(ours.predict(DATA), stock.predict(DATA))

    state = check_cache(model_cache, model_file_names(r))
    assert len(state.trees) == 1
    ((tree_id, manifest),) = state.trees.items()
    assert state.refs == {ref_name(r.uri): tree_id}
    assert {e["path"]: e["size"] for e in manifest} == r.listing()
    assert {e["path"]: e["sha256"] for e in manifest} == {p: r.sha256(p) for p in r.listing()}
    assert served_tree(ours, model_cache) == (model_cache / "trees" / tree_id).resolve()


def test_reload_downloads_nothing(remote, model_cache, moto, s3, bucket):
    r = remote()
    first = load_ours(r.uri)
    tree = served_tree(first, model_cache)
    inodes = {p: p.stat().st_ino for p in [tree, *tree.rglob("*")]}

    mark = log_mark(moto)
    second = load_ours(r.uri)
    lines = requests_since(moto, s3, bucket, mark)
    assert object_gets(lines, bucket, r.prefix) == []
    assert listings(lines, bucket), "the reload did not check the remote listing"
    assert served_tree(second, model_cache) == tree
    assert {p: p.stat().st_ino for p in [tree, *tree.rglob("*")]} == inodes
    assert_same_value(second.predict(DATA), first.predict(DATA))
    assert len(check_cache(model_cache, model_file_names(r)).trees) == 1


def test_first_load_downloads(remote, model_cache, moto, s3, bucket):
    """Guard of the log-based check above: a cold load shows its object GETs."""
    r = remote()
    mark = log_mark(moto)
    load_ours(r.uri)
    lines = requests_since(moto, s3, bucket, mark)
    fetched = {
        line.split(f"/{r.prefix}/", 1)[1].split(" ", 1)[0]
        for line in object_gets(lines, bucket, r.prefix)
    }
    assert {"MLmodel", "artifacts/notes.txt"} <= {f.split("?")[0] for f in fetched}, lines


CHANGES = ["replaced-bigger", "replaced-smaller", "added", "added-empty-and-odd-names", "removed"]


@pytest.mark.parametrize("change", CHANGES)
def test_changed_remote_is_fetched_again(remote, model_cache, change):
    r = remote()
    first = load_ours(r.uri)
    old_tree = served_tree(first, model_cache)
    if change == "replaced-bigger":
        r.put("artifacts/notes.txt", (NOTES + "and a longer second version\n").encode())
    elif change == "replaced-smaller":
        r.put("artifacts/notes.txt", b"short\n")
    elif change == "added":
        r.put("extra/added.txt", b"a new file\n")
    elif change == "added-empty-and-odd-names":
        r.put("extra/empty.txt", b"")
        r.put("extra/sp ace/ünï côde.txt", "données\n".encode())
        r.put("extra/x+y=1%.txt", b"plus equals percent\n")
    elif change == "removed":
        r.delete("serving_input_example.json")
        r.delete("input_example.json")

    stock = load_stock(r.uri)
    ours = load_ours(r.uri)
    assert_same_model(ours, stock)
    assert ours.unwrap_python_model().notes == stock.unwrap_python_model().notes
    assert_same_value(ours.predict(DATA), stock.predict(DATA))

    new_tree = served_tree(ours, model_cache)
    assert new_tree != old_tree
    state = check_cache(model_cache, model_file_names(r) | {"notes.txt", "input_example.json"})
    assert state.refs[ref_name(r.uri)] == new_tree.name
    assert {e["path"]: e["size"] for e in state.trees[new_tree.name]} == r.listing()


def test_vanished_remote_is_an_error_not_the_cache(remote, model_cache):
    r = remote()
    load_ours(r.uri)
    delete_prefix(r.s3, r.bucket, r.prefix)
    stock = outcome(load_stock, r.uri)
    ours = outcome(load_ours, r.uri)
    assert stock[0] == "error"
    assert ours[0] == "error", "ours served a model whose remote is gone"
    assert ours[1]["type"] == stock[1]["type"]
    # The code is the artifact layer's (see test_loader_parity.S3_TRANSFER_ERRORS): the same as
    # MLflow's loader on the same repositories.
    same_repositories = outcome(load_stock_loader, r.uri)
    assert same_repositories[0] == "error"
    assert ours[1]["error_code"] == same_repositories[1]["error_code"]


CORRUPTIONS = [
    "deleted-notes",
    "truncated-notes",
    "appended-notes",
    "deleted-mlmodel",
    "truncated-mlmodel",
    "deleted-tree-dir",
    "deleted-manifest",
]


def _writable(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupted_tree_is_never_served(remote, model_cache, corruption):
    r = remote()
    first = load_ours(r.uri)
    tree = served_tree(first, model_cache)
    for d in [tree, *[p for p in tree.rglob("*") if p.is_dir()], model_cache / "trees"]:
        _writable(d)
    what, _, name = corruption.partition("-")
    target = tree / ("artifacts/notes.txt" if name == "notes" else "MLmodel")
    if what == "deleted" and name in ("notes", "mlmodel"):
        target.unlink()
    elif what == "truncated":
        _writable(target)
        with open(target, "r+b") as f:  # a hard link: the blob is truncated with it
            f.truncate(3)
    elif what == "appended":
        _writable(target)
        with open(target, "ab") as f:
            f.write(b"garbage")
    elif corruption == "deleted-tree-dir":
        shutil.rmtree(tree)
    elif corruption == "deleted-manifest":
        (model_cache / "trees" / f"{tree.name}.json").unlink()

    stock = load_stock(r.uri)
    ours = load_ours(r.uri)
    assert_same_model(ours, stock)
    assert ours.unwrap_python_model().notes == NOTES
    assert_same_value(ours.predict(DATA), stock.predict(DATA))
    served = served_tree(ours, model_cache)
    expected = {p: r.sha256(p) for p in r.listing()}
    assert tree_files(served) == expected, "a broken tree was served"
    state = check_cache(model_cache, model_file_names(r))
    assert state.refs[ref_name(r.uri)] == served.name


FRESH_CHILD = """
import json
from mlflow_oxide.pyfunc import load_model
python_model = load_model({uri!r}).unwrap_python_model()
print(json.dumps({{"notes": python_model.notes, "notes_path": python_model.notes_path}}))
"""


def test_corrupted_tree_is_never_served_to_a_new_process(remote, model_cache, moto):
    """The check is on disk, not in the memory of the process that fetched the tree."""
    r = remote()
    tree = served_tree(load_ours(r.uri), model_cache)
    target = tree / "artifacts" / "notes.txt"
    _writable(target)
    with open(target, "r+b") as f:
        f.truncate(3)
    env = child_env(moto.url, MLFLOW_OXIDE_MODEL_CACHE=str(model_cache))
    child = Child(FRESH_CHILD.format(uri=r.uri), env)
    assert child.finish(timeout=180) == 0, child.report()
    assert json.loads(child.stdout[-1])["notes"] == NOTES


def test_dst_path_bypasses_cache(remote, model_cache, tmp_path):
    r = remote()
    dst_stock, dst_ours = tmp_path / "stock", tmp_path / "ours"
    dst_stock.mkdir()
    dst_ours.mkdir()
    stock = load_stock(r.uri, dst_path=str(dst_stock))
    ours = load_ours(r.uri, dst_path=str(dst_ours))
    assert_same_model(ours, stock)
    assert tree_files(dst_ours) == tree_files(dst_stock)
    notes = Path(ours.unwrap_python_model().notes_path).resolve()
    assert notes.is_relative_to(dst_ours.resolve())
    trees = model_cache / "trees"
    assert not trees.exists() or not any(trees.iterdir())


def test_identical_files_share_one_blob(remote, model_cache):
    """Content addressing: two remote models differing in one file share the other blobs."""
    a, b = remote(), remote()
    b.put("artifacts/notes.txt", b"another model\n")
    tree_a = served_tree(load_ours(a.uri), model_cache)
    tree_b = served_tree(load_ours(b.uri), model_cache)
    assert tree_a != tree_b
    shared = 0
    for rel, digest in tree_files(tree_a).items():
        other = tree_b / rel
        if other.exists() and sha256_file(other) == digest:
            assert (tree_a / rel).stat().st_ino == other.stat().st_ino, rel
            shared += 1
    assert shared >= 3
    assert (tree_a / "artifacts/notes.txt").stat().st_ino != (
        tree_b / "artifacts/notes.txt"
    ).stat().st_ino
    check_cache(model_cache, model_file_names(a))


def test_repeated_loads_give_independent_models(remote, model_cache):
    """Stock builds a new model object on every load; so must ours (a cache of files or
    bytes must not hand out one shared, mutable model)."""
    r = remote()
    first = load_ours(r.uri)
    second = load_ours(r.uri)
    assert first is not second
    assert first.unwrap_python_model() is not second.unwrap_python_model()
    first.unwrap_python_model().config["scale"] = 100.0
    assert second.unwrap_python_model().config["scale"] == 2.0


def test_threads_loading_at_once(remote, model_cache):
    from concurrent.futures import ThreadPoolExecutor

    r = remote()
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: load_ours(r.uri), range(4)))
    assert {m.unwrap_python_model().notes for m in models} == {NOTES}
    assert len({served_tree(m, model_cache) for m in models}) == 1
    assert len(check_cache(model_cache, model_file_names(r)).trees) == 1


# --- several processes -----------------------------------------------------------------------

CHILD = """
import json, sys, time
from pathlib import Path
import pandas as pd
from mlflow_oxide.pyfunc import load_model
go = Path({go!r})
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
model = load_model({uri!r})
python_model = model.unwrap_python_model()
prediction = model.predict(pd.DataFrame({{"x": [1.0, 2.0]}}))
print(json.dumps({{"notes_path": python_model.notes_path, "notes": python_model.notes,
                   "y": prediction["y"].tolist()}}), flush=True)
"""


def test_concurrent_loaders_share_one_tree(remote, model_cache, moto, s3, bucket, tmp_path):
    r = remote()
    go = tmp_path / "go"
    env = child_env(moto.url, MLFLOW_OXIDE_MODEL_CACHE=str(model_cache))
    children = [Child(CHILD.format(go=str(go), uri=r.uri), env) for _ in range(4)]
    try:
        for child in children:
            child.wait_for("ready", timeout=180)
        go.touch()
        for child in children:
            assert child.finish(timeout=180) == 0, child.report()
    finally:
        for child in children:
            child.kill()
    results = [json.loads(child.stdout[-1]) for child in children]
    assert all(res["notes"] == NOTES for res in results), results
    assert len({res["notes_path"] for res in results}) == 1, results
    assert len({tuple(res["y"]) for res in results}) == 1

    state = check_cache(model_cache, model_file_names(r))
    assert len(state.trees) == 1, state.trees

    # This process never loaded the model: it is served from disk, without downloading.
    mark = log_mark(moto)
    ours = load_ours(r.uri)
    assert object_gets(requests_since(moto, s3, bucket, mark), bucket, r.prefix) == []
    assert str(Path(ours.unwrap_python_model().notes_path)) == results[0]["notes_path"]


class StallingProxy:
    """A TCP proxy in front of the S3 server that stops forwarding a connection's responses
    once it has passed ``limit`` bytes (the connection stays open): a loader behind it hangs in
    the middle of a download."""

    def __init__(self, upstream: str, limit: int):
        host, port = upstream.rsplit("//", 1)[1].split(":")
        self.upstream = (host, int(port))
        self.limit = limit
        self.stalled = threading.Event()
        self.closing = threading.Event()
        self.sockets: list[socket.socket] = []
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, response: bool) -> None:
        passed = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if response and passed + len(data) > self.limit:
                    self.stalled.set()
                    self.closing.wait()
                    break
                dst.sendall(data)
                passed += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closing.set()
        self.server.close()
        for s in self.sockets:
            s.close()


KILLED_CHILD = """
from mlflow_oxide.pyfunc import load_model
print("loading", flush=True)
load_model({uri!r})
print("loaded", flush=True)
"""


def test_loader_killed_mid_download(saved, s3, bucket, moto, model_cache, tmp_path):
    local = tmp_path / "big-model"
    shutil.copytree(saved["custom"], local)
    (local / "artifacts" / "big.bin").write_bytes(os.urandom(3 << 20))
    r = Remote(s3, bucket, f"models/{uuid.uuid4().hex[:12]}/model")
    upload_dir(s3, bucket, local, r.prefix)

    proxy = StallingProxy(moto.url, limit=256 << 10)
    try:
        env = child_env(proxy.url, MLFLOW_OXIDE_MODEL_CACHE=str(model_cache))
        child = Child(KILLED_CHILD.format(uri=r.uri), env)
        try:
            child.wait_for("loading", timeout=180)
            assert proxy.stalled.wait(timeout=120), (
                f"no download reached the limit; {child.report()}"
            )
            time.sleep(0.5)  # let the other files of the model land
            assert child.proc.poll() is None, child.report()
            os.kill(child.proc.pid, signal.SIGKILL)
        finally:
            child.kill()
        assert "loaded" not in child.stdout
    finally:
        proxy.close()

    # Whatever the killed loader left, nothing it published may be incomplete.
    check_cache(model_cache, set(), strict=False)
    stock = load_stock(r.uri)
    ours = load_ours(r.uri)
    assert_same_model(ours, stock)
    assert_same_value(ours.predict(DATA), stock.predict(DATA))
    served = served_tree(ours, model_cache)
    assert tree_files(served) == {p: r.sha256(p) for p in r.listing()}
    state = check_cache(model_cache, set(), strict=False)
    assert state.refs[ref_name(r.uri)] == served.name


LOOPING_CHILD = """
from mlflow_oxide.pyfunc import load_model
uris = {uris!r}
for i, uri in enumerate(uris):
    load_model(uri)
    print(f"done {{i}}", flush=True)
print("loaded", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.07, 0.2])
def test_loader_killed_at_any_point(saved, s3, bucket, moto, model_cache, tmp_path, delay):
    """A loader fetching one model after another (each a 2 MiB download, ingested and published)
    is killed at an arbitrary moment after its first model: whatever phase it was in, the cache
    stays consistent and every model loads afterwards."""
    local = tmp_path / "big-model"
    shutil.copytree(saved["custom"], local)
    (local / "artifacts" / "big.bin").write_bytes(os.urandom(2 << 20))
    template = f"models/{uuid.uuid4().hex[:12]}/template"
    upload_dir(s3, bucket, local, template)
    remotes = [Remote(s3, bucket, f"models/{uuid.uuid4().hex[:12]}/model") for _ in range(12)]
    for r in remotes:
        copy_prefix(s3, bucket, template, r.prefix)

    env = child_env(moto.url, MLFLOW_OXIDE_MODEL_CACHE=str(model_cache))
    child = Child(LOOPING_CHILD.format(uris=[r.uri for r in remotes]), env)
    try:
        child.wait_for("done 0", timeout=180)  # imports done, one model in the cache
        time.sleep(delay)
        os.kill(child.proc.pid, signal.SIGKILL)
    finally:
        child.kill()
    assert "loaded" not in child.stdout, "the loader finished before it was killed"

    check_cache(model_cache, set(), strict=False)
    expected = {p: remotes[0].sha256(p) for p in remotes[0].listing()}
    for r in remotes:
        ours = load_ours(r.uri)
        assert ours.unwrap_python_model().notes == NOTES
        assert tree_files(served_tree(ours, model_cache)) == expected
    state = check_cache(model_cache, set(), strict=False)
    assert {ref_name(r.uri) for r in remotes} <= set(state.refs)
