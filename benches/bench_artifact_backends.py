"""Side-by-side benchmark: MLflow's local, Azure Blob and GCS artifact repositories vs ours.

For each backend (``--backend local|azure|gcs|all``, default ``all``), MLflow's own repository
and mlflow-oxide's run in one process on the same generated data (random bytes in a temporary
directory), each side under its own root (``<side>/<case>``):

* local: ``LocalArtifactRepository`` vs ``OxideLocalArtifactRepository``, two directories of one
  temporary directory (the same disk as the source data); no server.
* azure: ``AzureBlobArtifactRepository`` vs ``OxideAzureBlobArtifactRepository`` on an Azurite
  blob server (``wasbs://bench@devstoreaccount1.blob.core.windows.net/<side>/...``).
* gcs: ``GCSArtifactRepository`` vs ``OxideGCSArtifactRepository`` on gcp-storage-emulator
  (``gs://bench/<side>/...``, unauthenticated through ``STORAGE_EMULATOR_HOST``).

The servers are started by this script on 127.0.0.1 (a free port) and stopped at the end, also
on errors and Ctrl-C. They are emulators (Node.js, single-threaded Python): their MB/s are not
the cloud's; the ratio of the two sides on the same server is the point.

Cases (``--quick`` in brackets), each ``log_artifacts(dir, "data")`` then
``download_artifacts("data", dst_path=<fresh empty directory>)``: 500 [50] files x 256 KiB,
200 [20] files x 1 MiB, one 256 MiB [32 MiB] file (a directory holding it), and for local also
one 1 GiB file. Methodology as in ``bench_artifacts.py`` (whose helpers this script imports):
untimed clearing of the side's root before each upload, a fresh destination per download,
``os.sync()`` before each timed call, sides alternating which goes first, median of
``--repeats`` (3; quick: 1); MB/s = 10^6 bytes/s; ratio = stock time / oxide time; ``equal``:
every downloaded file has the source's size and SHA-256. Peak RSS growth during the largest
single-file transfer is measured in a fresh process per side and operation. Nothing is
asserted; the exit code is 1 only if a download differs from its source.

    .venv/bin/python benches/bench_artifact_backends.py --quick
    .venv/bin/python benches/bench_artifact_backends.py --backend local --markdown results.md
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Before anything imports MLflow: no progress bars.
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"

import mlflow  # noqa: E402
from mlflow.store.artifact import artifact_repository_registry  # noqa: E402, F401 - see below

# MLflow's artifact registry is imported first: it loads our entry points, which import
# mlflow_oxide.artifacts, and that must not happen while mlflow_oxide.artifacts is half-imported
# (the same order as in bench_artifacts.py).
from mlflow_oxide.artifacts import Transfer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_artifacts import (  # noqa: E402 - same directory
    MB,
    Case,
    GiB,
    KiB,
    MiB,
    PeakRss,
    Row,
    _version,
    agreement,
    compare,
    fmt_seconds,
    fmt_size,
    free_port,
    generate,
    manifest,
    native_build,
    timed_call,
)

SIDES = ("stock", "oxide")
SERVER_START_TIMEOUT = 60.0
CONTAINER = BUCKET = "bench"  # Azure container names need at least 3 characters
AZURE_ACCOUNT = "devstoreaccount1"
# Azurite's documented development account key (public, the same on every installation).
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_DEFAULT = Path.home() / ".cache/mlflow-oxide/npm/node_modules/.bin/azurite-blob"
GCS_EMULATOR = Path(sys.executable).with_name("gcp-storage-emulator")
LOCAL_HOSTS = "127.0.0.1,localhost"

FULL_CASES = (
    Case("files_256k", 500, 256 * KiB),
    Case("files_1m", 200, MiB),
    Case("file_256m", 1, 256 * MiB),
)
LOCAL_EXTRA = (Case("file_1g", 1, GiB),)
QUICK_CASES = (
    Case("files_256k", 50, 256 * KiB),
    Case("files_1m", 20, MiB),
    Case("file_32m", 1, 32 * MiB),
)


# -- servers ---------------------------------------------------------------------------------
@dataclass
class Server:
    """A server process this script started."""

    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def answers_http(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/", timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: serving
    except OSError:
        return False


def answers_ok(url: str) -> bool:
    """gcp-storage-emulator answers ``GET /`` with ``OK``."""
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as response:
            return response.read() == b"OK"
    except OSError:
        return False


def start_server(command: Callable[[int], list[str]], log: Path, ready: Callable) -> Server:
    """``command(port)`` on a free port, returned once ``ready(url)``; stopped on failure."""
    for _ in range(3):  # the port may be taken between choosing and binding it
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                command(port), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server = Server(proc, port, log)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while proc.poll() is None and time.monotonic() < deadline:
                if ready(server.url):
                    return server
                time.sleep(0.2)
        except BaseException:
            server.stop()
            raise
        server.stop()
    raise RuntimeError(f"{command(0)[0]} did not start; log:\n{server.log_tail()}")


# -- backends --------------------------------------------------------------------------------
class Backend:
    key = ""
    title = ""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.server: Server | None = None
        self._saved_env: dict[str, str | None] = {}

    def missing(self) -> str | None:
        """Why this backend cannot run here, or None."""
        return None

    def cases(self, quick: bool) -> tuple[Case, ...]:
        return QUICK_CASES if quick else FULL_CASES

    def start(self) -> None:
        pass

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    def set_env(self, **values: str | None) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def classes(self) -> dict[str, type]:
        raise NotImplementedError

    def uri(self, side: str, key: str) -> str:
        raise NotImplementedError

    def clear(self, side: str, key: str) -> None:
        raise NotImplementedError

    def listing(self, side: str, key: str) -> dict[str, int]:
        """{key relative to the side's root: size} of what the side stored."""
        raise NotImplementedError

    def version(self) -> str:
        return ""

    def note(self) -> str:
        raise NotImplementedError

    def stock_text(self) -> str:
        raise NotImplementedError

    def repo(self, side: str, key: str):
        return self.classes()[side](self.uri(side, key))


def filesystem_of(path: Path) -> str:
    """The type of the filesystem holding ``path`` (longest mount point in /proc/self/mounts)."""
    best, kind = "", "?"
    try:
        with open("/proc/self/mounts") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) > 2:
                    mount = parts[1].replace("\\040", " ")
                    inside = str(path).startswith(mount.rstrip("/") + "/") or str(path) == mount
                    if inside and len(mount) > len(best):
                        best, kind = mount, parts[2]
    except OSError:
        pass
    return kind


class LocalBackend(Backend):
    key = "local"
    title = "Local paths: MLflow `LocalArtifactRepository` vs `OxideLocalArtifactRepository`"

    def cases(self, quick: bool) -> tuple[Case, ...]:
        return QUICK_CASES if quick else FULL_CASES + LOCAL_EXTRA

    def start(self) -> None:
        self.root = self.workdir / "local-store"
        self.root.mkdir(parents=True, exist_ok=True)

    def classes(self) -> dict[str, type]:
        from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
        from mlflow_oxide.artifacts import OxideLocalArtifactRepository

        return {"stock": LocalArtifactRepository, "oxide": OxideLocalArtifactRepository}

    def uri(self, side: str, key: str) -> str:
        return str(self.root / side / key)

    def clear(self, side: str, key: str) -> None:
        shutil.rmtree(self.root / side / key, ignore_errors=True)

    def listing(self, side: str, key: str) -> dict[str, int]:
        base = self.root / side / key
        return {
            p.relative_to(base).as_posix(): p.stat().st_size for p in base.rglob("*") if p.is_file()
        }

    def note(self) -> str:
        return (
            f"No server: both sides copy between directories of `{self.workdir}` "
            f"({filesystem_of(self.workdir)}), the same disk as the source data. Durability: "
            "neither side calls fsync (MLflow's `shutil` copies write in place; ours writes each "
            "file under a temporary name renamed into place), so a call ends when the bytes are "
            "in the page cache; `os.sync()` before each timed call flushes what earlier calls "
            "left dirty, and the sources are read from the page cache on both sides. Ours copies "
            "through `copy_file_range`, which on filesystems with reflinks (btrfs, XFS) may "
            "share extents instead of copying bytes."
        )

    def stock_text(self) -> str:
        return "`log_artifacts` = `shutil.copytree` (one file after another)"


class AzureBackend(Backend):
    key = "azure"
    title = "Azure Blob: MLflow `AzureBlobArtifactRepository` vs `OxideAzureBlobArtifactRepository`"

    def binary(self) -> str:
        return os.environ.get("AZURITE_BLOB") or str(AZURITE_DEFAULT)

    def missing(self) -> str | None:
        if not os.access(self.binary(), os.X_OK):
            return f"Azurite not found ({self.binary()}; set AZURITE_BLOB)"
        try:
            importlib.import_module("azure.storage.blob")
        except ImportError:
            return "azure-storage-blob not installed"
        return None

    def version(self) -> str:
        """Azurite's version, from the package.json of the package its binary belongs to."""
        for parent in Path(os.path.realpath(self.binary())).parents:
            try:
                package = json.loads((parent / "package.json").read_text())
            except (OSError, ValueError):
                continue
            if package.get("name") == "azurite":
                return package.get("version", "?")
        return "?"

    def start(self) -> None:
        from azure.storage.blob import BlobServiceClient

        location = self.workdir / "azurite"
        location.mkdir(parents=True, exist_ok=True)
        self.server = start_server(
            lambda port: [
                self.binary(),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--location",
                str(location),
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ],
            self.workdir / "azurite.log",
            answers_http,
        )
        conn = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={AZURE_KEY};"
            f"BlobEndpoint={self.server.url}/{AZURE_ACCOUNT};"
        )
        self.set_env(
            AZURE_STORAGE_CONNECTION_STRING=conn,
            AZURE_STORAGE_ACCESS_KEY=None,
            AZURE_STORAGE_SAS_TOKEN=None,
            NO_PROXY=LOCAL_HOSTS,
            no_proxy=LOCAL_HOSTS,
        )
        self.container = BlobServiceClient.from_connection_string(conn).create_container(CONTAINER)

    def classes(self) -> dict[str, type]:
        from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository
        from mlflow_oxide.artifacts import OxideAzureBlobArtifactRepository

        return {"stock": AzureBlobArtifactRepository, "oxide": OxideAzureBlobArtifactRepository}

    def uri(self, side: str, key: str) -> str:
        return f"wasbs://{CONTAINER}@{AZURE_ACCOUNT}.blob.core.windows.net/{side}/{key}"

    def clear(self, side: str, key: str) -> None:
        names = [b.name for b in self.container.list_blobs(name_starts_with=f"{side}/{key}/")]
        for start in range(0, len(names), 256):
            batch = names[start : start + 256]
            try:
                self.container.delete_blobs(*batch)
            except Exception:  # noqa: BLE001 - a server without batch deletes
                for name in batch:
                    self.container.delete_blob(name)

    def listing(self, side: str, key: str) -> dict[str, int]:
        prefix = f"{side}/{key}/"
        return {
            b.name[len(prefix) :]: b.size
            for b in self.container.list_blobs(name_starts_with=prefix)
        }

    def note(self) -> str:
        return (
            f"Server: Azurite {self.version()} blob service (`azurite-blob`, Node.js) on "
            f"{self.server.url if self.server else '127.0.0.1'}, blob data under "
            f"`{self.workdir / 'azurite'}`. An emulator, not Azure Storage: its MB/s say little "
            "about the cloud; both sides ran against the same server, so the ratio is the point."
        )

    def stock_text(self) -> str:
        return "`log_artifacts` = `upload_blob` per file, one after another"


class GcsBackend(Backend):
    key = "gcs"
    title = "GCS: MLflow `GCSArtifactRepository` vs `OxideGCSArtifactRepository`"

    def missing(self) -> str | None:
        if not os.access(GCS_EMULATOR, os.X_OK):
            return f"gcp-storage-emulator not found ({GCS_EMULATOR})"
        try:
            importlib.import_module("google.cloud.storage")
        except ImportError:
            return "google-cloud-storage not installed"
        return None

    def version(self) -> str:
        return _version("gcp-storage-emulator")

    def start(self) -> None:
        from google.cloud import storage

        self.server = start_server(
            lambda port: [
                str(GCS_EMULATOR),
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--in-memory",
            ],
            self.workdir / "gcs-emulator.log",
            answers_ok,
        )
        self.set_env(
            STORAGE_EMULATOR_HOST=self.server.url, NO_PROXY=LOCAL_HOSTS, no_proxy=LOCAL_HOSTS
        )
        self.client = storage.Client(project="bench")
        self.bucket = self.client.create_bucket(BUCKET)

    def classes(self) -> dict[str, type]:
        from mlflow.store.artifact.gcs_artifact_repo import GCSArtifactRepository
        from mlflow_oxide.artifacts import OxideGCSArtifactRepository

        return {"stock": GCSArtifactRepository, "oxide": OxideGCSArtifactRepository}

    def uri(self, side: str, key: str) -> str:
        return f"gs://{BUCKET}/{side}/{key}"

    def clear(self, side: str, key: str) -> None:
        for blob in list(self.client.list_blobs(BUCKET, prefix=f"{side}/{key}/")):
            blob.delete()

    def listing(self, side: str, key: str) -> dict[str, int]:
        prefix = f"{side}/{key}/"
        return {
            b.name[len(prefix) :]: b.size for b in self.client.list_blobs(BUCKET, prefix=prefix)
        }

    def note(self) -> str:
        return (
            f"Server: gcp-storage-emulator {self.version()} (Python, one request at a time, "
            f"objects in memory) on {self.server.url if self.server else '127.0.0.1'}. An "
            "emulator, not Google Cloud Storage: its MB/s say little about the cloud; both "
            "sides ran against the same server, so the ratio is the point. It is Python's "
            "`http.server.HTTPServer` (HTTP/1.0, a connection per request, listen backlog 5): "
            "with many requests in flight (oxide's file concurrency), connections beyond the "
            "backlog wait for TCP to retry them, which costs the small-file cases on that side "
            "(compare `MLFLOW_OXIDE_FILE_CONCURRENCY=4`)."
        )

    def stock_text(self) -> str:
        return "`log_artifacts` = `upload_from_filename` per file, one after another"


BACKENDS: dict[str, type[Backend]] = {b.key: b for b in (LocalBackend, AzureBackend, GcsBackend)}


# -- the operations --------------------------------------------------------------------------
def source_dir(case: Case, path: Path) -> Path:
    """What ``log_artifacts`` uploads: the generated directory (for one file: its parent, which
    holds only it)."""
    return path.parent if case.single else path


def upload(repo, directory: Path) -> None:
    repo.log_artifacts(str(directory), "data")


def download(repo, dst: Path) -> Path:
    return Path(repo.download_artifacts("data", dst_path=str(dst)))


def warm_up(repo, workdir: Path) -> None:
    """Untimed: first clients, native store and runtime, imports."""
    src = Path(tempfile.mkdtemp(prefix="warmup-src-", dir=workdir))
    for i in range(2):
        (src / f"w{i}.txt").write_bytes(os.urandom(1024))
    upload(repo, src)
    dst = Path(tempfile.mkdtemp(prefix="warmup-dst-", dir=workdir))
    download(repo, dst)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)


# -- peak RSS (child process) ----------------------------------------------------------------
def rss_child(spec: dict) -> dict:
    """In a fresh process: a small warm-up transfer, then one upload or one download inside
    ``PeakRss`` (the environment naming the server is inherited)."""
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    cls = getattr(importlib.import_module(spec["module"]), spec["cls"])
    warm_up(cls(spec["warmup_uri"]), Path(spec["workdir"]))
    repo = cls(spec["uri"])
    with PeakRss() as peak:
        start = time.perf_counter()
        if spec["op"] == "upload":
            upload(repo, Path(spec["source"]))
        else:
            download(repo, Path(spec["dst"]))
        seconds = time.perf_counter() - start
    return {"growth": peak.growth, "seconds": seconds, "method": peak.method}


def measure_rss(backend: Backend, side: str, case: Case, directory: Path, expected) -> dict:
    """{op: child result, "equal": ...}: an upload into the cleared side's root, then a
    download checked against the source."""
    workdir = backend.workdir
    dst = Path(tempfile.mkdtemp(prefix=f"rss-{side}-", dir=workdir))
    cls = backend.classes()[side]
    result: dict = {}
    for op in ("upload", "download"):
        if op == "upload":
            backend.clear(side, case.key)
        spec = {
            "module": cls.__module__,
            "cls": cls.__name__,
            "uri": backend.uri(side, case.key),
            "warmup_uri": backend.uri(side, "warmup"),
            "op": op,
            "source": str(directory),
            "dst": str(dst),
            "workdir": str(workdir),
        }
        os.sync()
        proc = subprocess.run(
            [sys.executable, __file__, "--rss-child", json.dumps(spec)],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"RSS child ({side} {op}) failed:\n{proc.stderr[-3000:]}")
        result[op] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["equal"] = compare(expected, manifest(dst / "data"))
    shutil.rmtree(dst, ignore_errors=True)
    return result


# -- one backend -----------------------------------------------------------------------------
def run_backend(backend: Backend, data: dict, args, failures: list[str]) -> str:
    start_all = time.perf_counter()
    log = sys.stderr
    cases = backend.cases(args.quick)
    rows: list[Row] = []
    layout_differs: list[str] = []
    memory: dict[str, dict] = {}
    rss_case = max((c for c in cases if c.single), key=lambda c: c.size)
    try:
        backend.start()
        print(f"{backend.key}: {backend.server.url if backend.server else 'no server'}", file=log)
        for side in SIDES:
            warm_up(backend.repo(side, "warmup"), backend.workdir)
            backend.clear(side, "warmup")
        for case in cases:
            directory = source_dir(case, data[case.key][0])
            expected = data[case.key][1]
            up, down = Row(case, "upload"), Row(case, "download")
            for rep in range(args.repeats):
                for side in SIDES if rep % 2 == 0 else SIDES[::-1]:
                    backend.clear(side, case.key)
                    repo = backend.repo(side, case.key)
                    t = timed_call(lambda r=repo, d=directory: upload(r, d))
                    up.seconds.setdefault(side, []).append(t)
                    print(f"  {case.label:<22} upload   {side:<6} {fmt_seconds(t):>9}", file=log)
            if backend.listing("stock", case.key) != backend.listing("oxide", case.key):
                layout_differs.append(case.label)
            for rep in range(args.repeats):
                for side in SIDES if rep % 2 == 0 else SIDES[::-1]:
                    dst = Path(tempfile.mkdtemp(prefix=f"dst-{side}-", dir=backend.workdir))
                    repo = backend.repo(side, case.key)
                    holder: list[Path] = []
                    t = timed_call(lambda r=repo, d=dst, h=holder: h.append(download(r, d)))
                    down.seconds.setdefault(side, []).append(t)
                    equal = compare(expected, manifest(holder[0]))
                    down.equal.setdefault(side, []).append(equal)
                    if equal != "yes":
                        failures.append(f"{backend.key} {case.label} {side} repeat {rep}: {equal}")
                    shutil.rmtree(dst, ignore_errors=True)
                    print(
                        f"  {case.label:<22} download {side:<6} {fmt_seconds(t):>9}  {equal}",
                        file=log,
                    )
            rows += [up, down]
            if case is rss_case:
                for side in SIDES:
                    memory[side] = measure_rss(backend, side, case, directory, expected)
                    if memory[side]["equal"] != "yes":
                        failures.append(
                            f"{backend.key} {case.label} {side} (RSS run): {memory[side]['equal']}"
                        )
                    print(
                        f"  peak RSS growth {side}: upload "
                        f"{fmt_size(memory[side]['upload']['growth'])}, download "
                        f"{fmt_size(memory[side]['download']['growth'])} "
                        f"({memory[side]['equal']})",
                        file=log,
                    )
            for side in SIDES:
                backend.clear(side, case.key)  # the emulators keep objects in memory
        note = backend.note()
    finally:
        backend.stop()
    return render(backend, rows, layout_differs, memory, rss_case, note, start_all)


def render(backend, rows, layout_differs, memory, rss_case, note, start_all) -> str:
    lines = [
        f"### {backend.title}",
        "",
        "| case | operation | stock MB/s | oxide MB/s | ratio stock/oxide | stock (median) "
        "| oxide (median) | equal |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    down_equal = {row.case.key: row.equal for row in rows if row.op == "download"}
    for row in rows:
        s = statistics.median(row.seconds["stock"])
        o = statistics.median(row.seconds["oxide"])
        total = row.case.total
        equal = agreement(row.equal if row.op == "download" else down_equal[row.case.key])
        if row.op == "upload":
            equal += " (read back by the download)"
        lines.append(
            f"| {row.case.label} | {row.op} | {total / s / MB:,.0f} | {total / o / MB:,.0f} "
            f"| {s / o:.2f}x | {fmt_seconds(s)} | {fmt_seconds(o)} | {equal} |"
        )
    lines += ["", note, ""]
    if layout_differs:
        lines.append(f"Keys or sizes differ between the sides' roots: {', '.join(layout_differs)}.")
    else:
        lines.append("Both sides stored the same keys and sizes under their roots in every case.")
    if memory:
        budget = Transfer.from_env().memory_budget
        lines += [
            "",
            f"Peak RSS growth during the {fmt_size(rss_case.size)} transfer (a fresh process per "
            "side and operation, after a small warm-up transfer; "
            f"{memory['oxide']['upload']['method']} minus RSS before the call; one call each; "
            "oxide's configured memory budget "
            f"`Transfer.from_env().memory_budget` = {fmt_size(budget)}):",
            "",
            "| operation | stock peak RSS growth | oxide peak RSS growth | stock time | oxide time "
            "| equal |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for op in ("upload", "download"):
            st, ox = memory["stock"][op], memory["oxide"][op]
            equal = "—"
            if op == "download":
                equal = agreement({side: [memory[side]["equal"]] for side in SIDES})
            lines.append(
                f"| {op} | {fmt_size(st['growth'])} | {fmt_size(ox['growth'])} "
                f"| {fmt_seconds(st['seconds'])} | {fmt_seconds(ox['seconds'])} | {equal} |"
            )
    lines += [
        "",
        f"Wall time of this backend (including checks): {time.perf_counter() - start_all:.0f} s.",
    ]
    return "\n".join(lines)


# -- header and main -------------------------------------------------------------------------
def header(args, backends: list[Backend], notes: list[str]) -> str:
    t = Transfer.from_env()
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    stock_workers = LocalArtifactRepository(str(args.workdir)).max_workers
    azurite = AzureBackend(args.workdir)
    lines = [
        "## Artifacts on local paths, Azure Blob and GCS: MLflow's repositories vs mlflow-oxide "
        f"({'quick' if args.quick else 'full'} run)",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; python "
        f"{platform.python_version()}",
        f"- versions: MLflow {mlflow.__version__}, azure-storage-blob "
        f"{_version('azure-storage-blob')}, google-cloud-storage "
        f"{_version('google-cloud-storage')}, Azurite {azurite.version()}, gcp-storage-emulator "
        f"{_version('gcp-storage-emulator')}, mlflow-oxide {_version('mlflow-oxide')} "
        f"({native_build()})",
        "- backends: " + ", ".join(b.key for b in backends),
        "- **stock**: "
        + "; ".join(f"{b.key}: {b.stock_text()}" for b in backends)
        + f"; `download_artifacts` lists recursively, then fetches each file on a pool of "
        f"{stock_workers} threads",
        f"- **oxide** (`Transfer.from_env()`, `MLFLOW_OXIDE_*` settings): concurrency "
        f"{t.concurrency}, file concurrency {t.file_concurrency}, part size "
        f"{fmt_size(t.part_size)}, multipart threshold {fmt_size(t.multipart_threshold)}, "
        f"max retries {t.max_retries}, memory budget {fmt_size(t.memory_budget)}",
        f'- data: random bytes in `{args.workdir}`; `log_artifacts(dir, "data")` and '
        '`download_artifacts("data", dst_path=<fresh empty dir>)`; median of '
        f"{args.repeats} call(s) per side and operation, sides alternating, `os.sync()` before "
        "each call; MB/s = 10^6 bytes/s; ratio = stock median / oxide median (above 1: oxide "
        "is faster)",
    ]
    if any(b.key == "local" for b in backends):
        lines.append(
            "- durability (local): both sides on the same disk, through the page cache; no "
            "fsync on either side (details under the local table)"
        )
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # run the finally blocks: servers are stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: smaller cases, 1 repeat")
    parser.add_argument("--markdown", metavar="FILE", help="also append the tables to FILE")
    parser.add_argument("--dir", metavar="DIR", help="parent of the temporary data directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--repeats", type=int, help="timed calls per side (default 3; quick 1)")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.rss_child:
        print(json.dumps(rss_child(json.loads(args.rss_child))), flush=True)
        return 0

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    signal.signal(signal.SIGTERM, _terminate)

    start = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="oxide-bench-backends-", dir=args.dir))
    args.workdir = workdir
    failures: list[str] = []
    try:
        notes = []
        backends: list[Backend] = []
        for key in BACKENDS if args.backend == "all" else (args.backend,):
            backend = BACKENDS[key](workdir)
            reason = backend.missing()
            if reason is None:
                backends.append(backend)
            elif args.backend == "all":
                notes.append(f"{key} skipped: {reason}")
            else:
                parser.error(reason)
        print(f"generating data in {workdir} ...", file=sys.stderr, flush=True)
        data = {}
        for backend in backends:
            for case in backend.cases(args.quick):
                if case.key not in data:
                    data[case.key] = generate(case, workdir / "src")
        sections = [header(args, backends, notes)]
        for backend in backends:
            sections.append(run_backend(backend, data, args, failures))
        sections.append(f"Total wall time of the benchmark: {time.perf_counter() - start:.0f} s.")
        if failures:
            sections.append(
                "**Downloads not equal to their source:**\n\n"
                + "\n".join(f"- {f}" for f in failures)
            )
        report = "\n\n".join(sections) + "\n"
        print(report)
        if args.markdown:
            with open(args.markdown, "a", encoding="utf-8") as fh:
                fh.write(report)
            print(f"tables appended to {args.markdown}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("downloads not equal:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
