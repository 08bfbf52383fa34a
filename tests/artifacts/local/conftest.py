"""Helpers of the local artifact repository suite (plain paths and ``file://``): the source tree
both repositories log, a snapshot of a directory (names, kinds, permission bits, sizes, bytes,
times) for comparing what each wrote, and the host's ``MLFLOW_OXIDE_*`` settings cleared."""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import time
import unicodedata
from pathlib import Path

import pytest

from tests.artifacts.conftest import MiB, file_sha256, write_random_file

PARTIAL = ".oxide-partial-"
BIG = 20 * MiB
UNICODE_NAME = "ünïcödé 文件.txt"
NFD_NAME = unicodedata.normalize("NFD", "café.json")
STAGED_NAME = ".artifact.uploading.abc123"  # MLflow's prefix for its own staging files
# Source times, set explicitly: a distinct mtime (ns precision) per file and an atime in the
# future. With relatime (or noatime) reading a file whose atime is after its mtime and ctime and
# less than a day old does not touch it, so both repositories copy the same atime whatever
# order they read in. ``atime_is_stable`` checks that on this file system.
MTIME_BASE_NS = 1_600_000_000_123_456_789
FUTURE_ATIME_NS = (int(time.time()) + 3600) * 10**9 + 987_654_321


def clear_oxide_settings(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MLFLOW_OXIDE_"):
            mp.delenv(name)


@pytest.fixture(autouse=True)
def _no_host_oxide_settings(monkeypatch):
    """Every test starts with the defaults (ours enabled, default concurrency)."""
    clear_oxide_settings(monkeypatch)


def error_of(exc: BaseException, *bases: str | Path) -> dict:
    """An exception as comparable data; each side's base directory is replaced by <base>."""
    message = str(exc)
    for base in bases:
        message = message.replace(str(base), "<base>")
    return {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "code": getattr(exc, "error_code", None),
        "message": message,
    }


def outcome(fn, *bases: str | Path):
    """``("ok", result)`` or ``("error", error_of(exc))``."""
    try:
        return ("ok", fn())
    except Exception as e:
        return ("error", error_of(e, *bases))


def snapshot(base: str | Path, *, atimes: bool = False) -> dict[str, tuple]:
    """Everything under ``base``: ``{relative posix path: description}``. Files: permission
    bits, size, sha256, mtime in ns (and atime with ``atimes``); directories: their permission
    bits; symbolic links: their target."""
    base = str(base)
    out = {}
    for root, dirs, files in os.walk(base):
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(root, name)
            rel = posixpath.normpath(os.path.relpath(path, base).replace(os.sep, "/"))
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", oct(mode))
            elif stat.S_ISREG(st.st_mode):
                entry = ("file", oct(mode), st.st_size, file_sha256(path), st.st_mtime_ns)
                out[rel] = (*entry, st.st_atime_ns) if atimes else entry
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode))
    return out


def partials(base: str | Path) -> list[str]:
    """Temporary files of the native copy left anywhere under ``base``."""
    return sorted(str(p) for p in Path(base).rglob(f"*{PARTIAL}*"))


@pytest.fixture(scope="session")
def atime_is_stable(tmp_path_factory) -> bool:
    """Whether reading a file with a future atime leaves it alone here (relatime, noatime)."""
    path = tmp_path_factory.mktemp("atime") / "probe.bin"
    path.write_bytes(b"x" * 10)
    os.utime(path, ns=(FUTURE_ATIME_NS, MTIME_BASE_NS))
    path.read_bytes()
    return os.stat(path).st_atime_ns == FUTURE_ATIME_NS


def build_tree(root: Path, *, version: int = 1, big: bool = False) -> dict[str, str]:
    """The source tree logged by both repositories. Nested directories, empty directories (one
    nested in another), a 0-byte file, unicode (NFC and NFD), spaces and reserved characters in
    names, a hidden file and one named like MLflow's staging files, permission bits from
    read-only to setuid, a symbolic link to a file and one to a directory (followed and not
    followed, as ``os.walk`` and ``shutil.copy2`` do), and with ``big`` a 20 MiB file. Every
    file gets an explicit mtime (distinct, ns precision) and a future atime. ``version`` changes
    every file's bytes (same sizes). Returns ``{relative path: sha256}`` of the regular files."""
    files: dict[str, str] = {}
    counter = [0]

    def put(rel: str, data: bytes, mode: int = 0o644) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(data)
        path.chmod(mode)
        counter[0] += 1
        os.utime(path, ns=(FUTURE_ATIME_NS, MTIME_BASE_NS + counter[0] * 1_000_003 + version))
        files[rel] = hashlib.sha256(data).hexdigest()

    def data(seed: str, size: int) -> bytes:
        chunk = hashlib.sha256(f"{version}:{seed}".encode()).digest()
        return (chunk * (size // len(chunk) + 1))[:size]

    put("MLmodel", b"artifact_path: model\nflavors: {}\n" + data("mlmodel", 7))
    put("empty.txt", b"")
    put("sp ace.md", data("space", 10))
    put(".hidden", data("hidden", 5))
    put(STAGED_NAME, data("staged", 9))
    put("archive.tar.gz", data("archive", 300))
    for i in range(24):
        put(f"data/file_{i:02d}.{['txt', 'json', 'csv', 'bin'][i % 4]}", data(f"f{i}", 1 + 97 * i))
    put("nested/top.csv", data("top", 8))
    put("nested/deeper/mid.txt", data("mid", 4))
    put("nested/deeper/deepest/leaf.json", data("leaf", 14))
    put(f"with space/{UNICODE_NAME}", data("unicode", 12))
    put("with space/sub dir/a b.yaml", data("yaml", 5))
    put(f"with space/{NFD_NAME}", data("nfd", 2))
    put("special/x+y=1%.txt", data("plus", 19))
    put("special/q?uery&=;.txt", data("query", 13))
    put("special/quote'\".txt", data("quote", 13))
    put("modes/read-only.txt", data("ro", 33), 0o444)
    put("modes/private.key", data("private", 34), 0o600)
    put("modes/run.sh", b"#!/bin/sh\necho hi\n", 0o755)
    put("modes/group.txt", data("group", 35), 0o640)
    put("modes/setuid", data("setuid", 36), 0o4755)
    (root / "empty-dir").mkdir(parents=True, exist_ok=True)
    (root / "nested" / "empty" / "deeper-empty").mkdir(parents=True, exist_ok=True)
    links = root / "links"
    links.mkdir(exist_ok=True)
    for name, target in (("to-file.txt", "../nested/top.csv"), ("to-dir", "../nested/deeper")):
        if not (links / name).is_symlink():
            (links / name).symlink_to(target)
    if big:
        path = root / "big.bin"
        files["big.bin"] = write_random_file(path, BIG)
        os.utime(path, ns=(FUTURE_ATIME_NS, MTIME_BASE_NS + 7))
    return files


def settle_times(base: str | Path) -> None:
    """Fixed times on every regular file under ``base`` (links not followed): files made by a
    test at different moments for each side then compare equal, and their atime stays still."""
    for root, _, files in os.walk(base):
        for name in files:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                os.utime(path, ns=(FUTURE_ATIME_NS, MTIME_BASE_NS))
