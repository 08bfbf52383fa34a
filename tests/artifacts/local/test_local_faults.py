"""The native local copy under stress, each in a child interpreter: Ctrl-C in the middle of
copying 1 GiB files (one at a time, and several at once), two processes logging different
versions of one tree into the same place at the same time, and a named pipe in the source."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
from mlflow_oxide.artifacts import OxideLocalArtifactRepository

from tests.artifacts.conftest import Child, MiB, file_sha256, host_env, write_random_file
from tests.artifacts.local.conftest import error_of, partials

LARGE = 1024 * MiB
LINKS = 8  # names of the one large file in the source (hard links: no extra bytes written)
ATTEMPTS = 3  # a copy may outrun the interrupt; then the test tries again


@pytest.fixture(scope="module")
def large_source(tmp_path_factory) -> tuple[Path, str]:
    """A source directory with one 1 GiB random file under ``LINKS`` names (written once) and a
    small file. Returns the directory and the large file's sha256."""
    src = tmp_path_factory.mktemp("large") / "src"
    src.mkdir()
    digest = write_random_file(src / "large-0.bin", LARGE)
    for i in range(1, LINKS):
        os.link(src / "large-0.bin", src / f"large-{i}.bin")
    (src / "small.txt").write_text("small")
    return src, digest


INTERRUPT_CHILD = r"""
import json, os, signal
from pathlib import Path

# As an interactive interpreter has it, even if the parent ignores SIGINT.
signal.signal(signal.SIGINT, signal.default_int_handler)

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow_oxide.artifacts import OxideLocalArtifactRepository

root = os.environ["OXIDE_TEST_ROOT"]
repo = get_artifact_repository(root)
assert type(repo) is OxideLocalArtifactRepository, type(repo)
print("copying", flush=True)
try:
    repo.log_artifacts(os.environ["OXIDE_TEST_SRC"], "logged")
except KeyboardInterrupt:
    # What the caller finds the moment the call has raised.
    left = sorted(str(p) for p in Path(root).rglob("*.oxide-partial-*"))
    print("LEFT " + json.dumps(left), flush=True)
    print("KeyboardInterrupt", flush=True)
    raise
print("done", flush=True)
"""


def _interrupt_once(src: Path, root: Path, concurrency: str, under_way) -> Child:
    """Start the child, wait until ``under_way(root)`` (the copy is really in progress: a fixed
    sleep would race a fast disk), then send SIGINT; returns the finished child."""
    env = host_env() | {
        "OXIDE_TEST_ROOT": str(root),
        "OXIDE_TEST_SRC": str(src),
        "MLFLOW_OXIDE_CONCURRENCY": concurrency,
    }
    child = Child(INTERRUPT_CHILD, env)
    child.wait_for("copying", timeout=120)
    deadline = time.monotonic() + 120
    while child.proc.poll() is None and not under_way(root):
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"the copy never got under way; {child.report()}")
        time.sleep(0.002)
    if child.proc.poll() is None:
        child.proc.send_signal(signal.SIGINT)
    child.finish(timeout=120)
    return child


def _finals(root: Path) -> dict[str, int]:
    logged = root / "logged"
    return {p.name: p.stat().st_size for p in logged.glob("large-*.bin")} if logged.exists() else {}


def _ctrl_c(large_source, tmp_path, concurrency: str, under_way) -> dict[str, int]:
    """Interrupt until an attempt lands in the middle of the copy; check it; returns the large
    files that were complete."""
    src, digest = large_source
    for attempt in range(ATTEMPTS):
        root = tmp_path / f"attempt-{attempt}"
        child = _interrupt_once(src, root, concurrency, under_way)
        finals = _finals(root)
        if "done" in child.stdout or len(finals) == LINKS:
            continue  # the copy finished before the interrupt reached it
        assert "KeyboardInterrupt" in child.stdout, child.report()
        assert child.proc.returncode == -signal.SIGINT, child.report()
        left = json.loads(
            next(x for x in child.stdout if x.startswith("LEFT ")).removeprefix("LEFT ")
        )
        after = partials(root)
        assert left == after == [], (
            f"temporary files left when log_artifacts raised: {left}; after the process ended: "
            f"{after}"
        )
        for name, size in finals.items():  # either absent or complete, never truncated
            assert size == LARGE, (name, size)
            assert file_sha256(root / "logged" / name) == digest, name
        return finals
    pytest.fail(f"every one of {ATTEMPTS} copies finished before Ctrl-C reached it")


def test_ctrl_c_one_file_at_a_time(large_source, tmp_path):
    """Concurrency 1: interrupted once a file is complete and the next one is being written."""

    def under_way(root: Path) -> bool:
        return bool(_finals(root)) and bool(partials(root))

    finals = _ctrl_c(large_source, tmp_path, "1", under_way)
    assert 1 <= len(finals) < LINKS


def test_ctrl_c_several_files_in_flight(large_source, tmp_path):
    """Concurrency 8: interrupted while several 1 GiB files are being written at once; every
    one of their temporary files is gone by the time ``log_artifacts`` raises."""

    def under_way(root: Path) -> bool:
        return len(partials(root)) >= 4

    _ctrl_c(large_source, tmp_path, "8", under_way)


# --- concurrent writers -------------------------------------------------------------------

WRITER_CHILD = r"""
import os, time

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow_oxide.artifacts import OxideLocalArtifactRepository

repo = get_artifact_repository(os.environ["OXIDE_TEST_ROOT"])
assert type(repo) is OxideLocalArtifactRepository, type(repo)
go = os.environ["OXIDE_TEST_GO"]
print("ready", flush=True)
while not os.path.exists(go):  # both writers start together
    time.sleep(0.001)
for _ in range(int(os.environ["OXIDE_TEST_ROUNDS"])):
    repo.log_artifacts(os.environ["OXIDE_TEST_SRC"], "model")
print("done", flush=True)
"""

WRITER_LAYOUT = [
    (f"part-{d}/sub/file-{i:02d}.bin", 1 + 4099 * i) for d in range(4) for i in range(25)
]
WRITER_LAYOUT += [(f"weights/shard-{i}.bin", 4 * MiB) for i in range(3)] + [("empty.txt", 0)]


def _write_version(src: Path) -> dict[str, str]:
    digests = {}
    for rel, size in WRITER_LAYOUT:
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digests[rel] = write_random_file(path, size)
    return digests


def test_concurrent_writers_never_tear_files(tmp_path):
    """Two processes log different versions (same names and sizes) of one tree into the same
    artifact path, three times each, at once: every final file is one version's bytes whole."""
    versions = {v: _write_version(tmp_path / f"v{v}") for v in (1, 2)}
    root, go = tmp_path / "root", tmp_path / "go"
    children = [
        Child(
            WRITER_CHILD,
            host_env()
            | {
                "OXIDE_TEST_ROOT": str(root),
                "OXIDE_TEST_SRC": str(tmp_path / f"v{v}"),
                "OXIDE_TEST_GO": str(go),
                "OXIDE_TEST_ROUNDS": "3",
            },
        )
        for v in versions
    ]
    for child in children:
        child.wait_for("ready", timeout=120)
    go.touch()
    for child in children:
        assert child.finish(timeout=300) == 0, child.report()
        assert "done" in child.stdout, child.report()
    final = {}
    for rel, _ in WRITER_LAYOUT:
        digest = file_sha256(root / "model" / rel)
        which = [v for v, digests in versions.items() if digests[rel] == digest]
        assert which, f"{rel} is neither version: torn"
        final[rel] = which
    written = sorted(
        str(p.relative_to(root / "model")) for p in (root / "model").rglob("*") if p.is_file()
    )
    assert written == sorted(rel for rel, _ in WRITER_LAYOUT)
    assert partials(tmp_path) == []


# --- a named pipe in the source -----------------------------------------------------------

HANG = 5  # seconds: stock fails at once; a call still blocked after this is stuck


def _log_with_pipe(cls, base: Path):
    """``log_artifacts`` of a directory holding a named pipe that nobody writes; if the call
    blocks, a writer is attached so the thread ends, and the outcome is marked "hung"."""
    src = base / "src"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("a")
    os.mkfifo(src / "pipe")
    result: list = []

    def call():
        try:
            cls(str(base / "root")).log_artifacts(str(src))
            result.append(("ok", None))
        except Exception as e:
            result.append(("error", error_of(e, base)))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(HANG)
    if not thread.is_alive():
        return result[0]
    for _ in range(600):  # the reader's open() returns once a writer opens the pipe
        with contextlib.suppress(OSError):  # no reader yet
            os.close(os.open(src / "pipe", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(0.1)
        if not thread.is_alive():
            break
    return ("hung", result[0] if result else None)


def test_named_pipe_in_source_parity(tmp_path):
    """Stock refuses a named pipe at once (``shutil.SpecialFileError``); ours must not block on
    it waiting for a writer (where Ctrl-C cannot reach it either)."""
    stock = _log_with_pipe(LocalArtifactRepository, tmp_path / "stock")
    ours = _log_with_pipe(OxideLocalArtifactRepository, tmp_path / "ours")
    assert stock[0] == "error"
    assert ours == stock
    assert partials(tmp_path) == []
