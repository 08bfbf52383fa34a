"""Side-by-side benchmark: MLflow's ``S3ArtifactRepository`` vs ``OxideS3ArtifactRepository``.

Both repositories run in one process against the same local S3 server, started and stopped by
this script on 127.0.0.1 (a free port), on the same generated data (random bytes in a temporary
directory), each side into its own prefix of one bucket (``s3://bench/stock/...`` and
``s3://bench/oxide/...``). Cases (``--quick`` in brackets):

* 500 [50] files x 256 KiB: ``log_artifacts(dir, "data")`` / ``download_artifacts("data", dst)``
* 200 [20] files x 1 MiB: the same
* one 1 GiB [64 MiB] file: ``log_artifact(file, "data")`` / ``download_artifacts("data/<file>",
  dst)``

Every timed call is preceded (untimed) by deleting the side's prefix (uploads) or by a fresh
empty destination (downloads), and by ``os.sync()``; repeats alternate the side that goes
first. Tables show MB/s (10^6 bytes/s) of the median call per side and the ratio stock time /
oxide time. ``equal``: every downloaded file has the source's size and SHA-256, on both sides,
on every repeat. Peak RSS growth during the large-file transfer is measured in a fresh
subprocess per side and operation (``VmHWM`` of ``/proc/self/status`` after resetting it
through ``/proc/self/clear_refs``, or a sampling thread where that is not allowed), next to
the configured memory budget of the native transfer. Nothing is asserted.

Servers (``--server``): ``moto`` (default; ``moto_server`` from the venv, in-memory, slow but
the reference for compatibility), ``s3s`` (``s3s-fs``, a Rust S3 server over a local directory,
much faster, so the clients' own costs show), or ``both`` (one table per server).

    .venv/bin/python benches/bench_artifacts.py --quick                 # smoke run on moto
    .venv/bin/python benches/bench_artifacts.py --server both --markdown results.md
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

# Before anything imports boto3 or MLflow: no progress bars, no instance-metadata lookups.
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import mlflow  # noqa: E402
from mlflow.store.artifact import artifact_repository_registry  # noqa: E402, F401 - see below
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository  # noqa: E402

# MLflow's artifact registry is imported first: it loads the ``s3`` entry point, which imports
# mlflow_oxide.artifacts, and that must not happen while mlflow_oxide.artifacts is half-imported.
from mlflow_oxide.artifacts import OxideS3ArtifactRepository, Transfer  # noqa: E402

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
MB = 1_000_000  # MB/s in the tables: 10^6 bytes per second
BUCKET = "bench"
ACCESS_KEY, SECRET_KEY, REGION = "benchaccesskey", "benchsecretkey", "us-east-1"
CHUNK = 8 * MiB  # generation and hashing
SERVER_START_TIMEOUT = 60.0
S3S_FS_CANDIDATES = (
    str(Path.home() / ".cargo" / "bin" / "s3s-fs"),
    str(Path.home() / ".cache" / "s3s-fs" / "bin" / "s3s-fs"),
)
# Targets for stock time / oxide time, from the issue as the project README states them: 5x for
# many files, 2x for the large file, uploads and downloads alike. Keys: "<case key> <op>".
TARGETS: dict[str, float] = {
    f"{key} {op}": target
    for key, target in (("files_256k", 5.0), ("files_1m", 5.0), ("file_1g", 2.0), ("file_64m", 2.0))
    for op in ("upload", "download")
}


@dataclass(frozen=True)
class Case:
    key: str
    files: int
    size: int

    @property
    def single(self) -> bool:
        return self.files == 1

    @property
    def total(self) -> int:
        return self.files * self.size

    @property
    def label(self) -> str:
        return (
            f"1 file x {fmt_size(self.size)}"
            if self.single
            else f"{self.files} files x {fmt_size(self.size)}"
        )


FULL_CASES = (
    Case("files_256k", 500, 256 * KiB),
    Case("files_1m", 200, MiB),
    Case("file_1g", 1, GiB),
)
QUICK_CASES = (
    Case("files_256k", 50, 256 * KiB),
    Case("files_1m", 20, MiB),
    Case("file_64m", 1, 64 * MiB),
)


# -- helpers ---------------------------------------------------------------------------------
def fmt_size(n: float) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.0f} ms"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def native_build() -> str:
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_tracking import native_build as describe  # same directory

        return describe()
    except Exception:  # noqa: BLE001 - informational only
        return "build profile unknown"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def manifest(root: str | os.PathLike) -> dict[str, tuple[int, str]]:
    """{path relative to root (posix): (size, sha256)} of every file under root."""
    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = (path.stat().st_size, sha256_file(path))
    return out


def compare(expected: dict[str, tuple[int, str]], got: dict[str, tuple[int, str]]) -> str:
    if expected == got:
        return "yes"
    missing = len(expected.keys() - got.keys())
    extra = len(got.keys() - expected.keys())
    differ = sum(1 for k in expected.keys() & got.keys() if expected[k] != got[k])
    return f"NO ({missing} missing, {extra} extra, {differ} differ)"


def generate(case: Case, root: Path) -> tuple[Path, dict[str, tuple[int, str]]]:
    """Random bytes; returns (the directory or the single file, its manifest relative to the
    directory that log_artifacts / download_artifacts see)."""
    directory = root / case.key
    directory.mkdir(parents=True)
    files = (
        [directory / f"model-{case.key}.bin"]
        if case.single
        else [directory / f"part-{i:04d}.bin" for i in range(case.files)]
    )
    expected = {}
    for path in files:
        digest = hashlib.sha256()
        with open(path, "wb") as fh:
            left = case.size
            while left:
                block = os.urandom(min(CHUNK, left))
                digest.update(block)
                fh.write(block)
                left -= len(block)
        expected[path.name] = (case.size, digest.hexdigest())
    return (files[0] if case.single else directory), expected


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers ---------------------------------------------------------------------------------
@dataclass
class Server:
    kind: str  # "moto" or "s3s"
    binary: str
    workdir: Path
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    version: str = "?"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def description(self) -> str:
        if self.kind == "moto":
            return f"moto {self.version} (`moto_server`, objects kept in memory)"
        return f"s3s-fs {self.version} (objects as files under the temporary directory)"

    def start(self) -> None:
        self.port = free_port()
        self.log_path = self.workdir / f"{self.kind}-server.log"
        if self.kind == "moto":
            self.version = _version("moto")
            cmd = [self.binary, "-H", "127.0.0.1", "-p", str(self.port)]
        else:
            root = self.workdir / "s3s-root"
            (root / BUCKET).mkdir(parents=True, exist_ok=True)  # a bucket is a directory
            try:
                out = subprocess.run(
                    [self.binary, "--version"], capture_output=True, text=True, timeout=10
                )
                self.version = (out.stdout.strip().split() or ["?"])[-1]
            except (OSError, subprocess.SubprocessError):
                pass
            cmd = [
                self.binary,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--access-key",
                ACCESS_KEY,
                "--secret-key",
                SECRET_KEY,
                str(root),
            ]
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited at start:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # answered (403 without credentials): up
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"{self.kind} server not up after {SERVER_START_TIMEOUT} s"
                    ) from None
                time.sleep(0.2)
        client = s3_client(self.endpoint)
        if self.kind == "moto":
            client.create_bucket(Bucket=BUCKET)
        client.head_bucket(Bucket=BUCKET)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def clear_prefix(client, prefix: str) -> None:
    """Delete every object under prefix (untimed, between calls): the boto3 client's own
    multi-object delete, one DeleteObject per key where a server lacks it."""
    from botocore.exceptions import ClientError

    keys = list(listing(client, prefix))
    for start in range(0, len(keys), 1000):
        batch = [{"Key": prefix + k} for k in keys[start : start + 1000]]
        try:
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": batch, "Quiet": True})
        except ClientError:
            for obj in batch:
                client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    left = listing(client, prefix)
    if left:
        raise RuntimeError(f"{len(left)} objects left under {prefix} after deleting them")


def listing(client, prefix: str) -> dict[str, int]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix) :]] = o["Size"]
    return out


def use_server(server: Server) -> None:
    """The environment both repositories read."""
    os.environ.update(
        MLFLOW_S3_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(name, None)


# -- the two sides ---------------------------------------------------------------------------
SIDES: dict[str, type] = {"stock": S3ArtifactRepository, "oxide": OxideS3ArtifactRepository}


def repo_for(side: str, case_key: str):
    return SIDES[side](f"s3://{BUCKET}/{side}/{case_key}")


def upload(repo, case: Case, source: Path) -> None:
    if case.single:
        repo.log_artifact(str(source), "data")
    else:
        repo.log_artifacts(str(source), "data")


def download(repo, case: Case, source: Path, dst: Path) -> Path:
    """Returns the directory holding what was downloaded (compared with the source manifest)."""
    path = f"data/{source.name}" if case.single else "data"
    local = Path(repo.download_artifacts(path, str(dst)))
    return local.parent if case.single else local


def warm_up(side: str, workdir: Path) -> None:
    """Untimed: first boto3 client, first native store and runtime, imports."""
    src = workdir / f"warmup-src-{side}"
    src.mkdir(exist_ok=True)
    for i in range(2):
        (src / f"w{i}.txt").write_bytes(os.urandom(1024))
    repo = repo_for(side, "warmup")
    repo.log_artifacts(str(src), "data")
    dst = Path(tempfile.mkdtemp(prefix=f"warmup-dst-{side}-", dir=workdir))
    repo.download_artifacts("data", str(dst))
    shutil.rmtree(dst, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)


# -- peak RSS (child process) ----------------------------------------------------------------
def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise KeyError(field_name)


class PeakRss:
    """Peak resident set size during a block, in bytes, minus the RSS at its start.

    Resets the kernel's high-water mark (``5`` to ``/proc/self/clear_refs``) and reads
    ``VmHWM``; where the reset is refused, a thread samples ``VmRSS`` every millisecond."""

    def __init__(self):
        self.method = "VmHWM"
        self.growth = 0
        self._peak = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self) -> PeakRss:
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            self.method = "sampled VmRSS (1 ms)"
        self._start = _status_kib("VmRSS")
        if self.method != "VmHWM":
            self._peak = self._start
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self._peak = max(self._peak, _status_kib("VmRSS"))

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, _status_kib("VmRSS"))
        else:
            peak = _status_kib("VmHWM")
        self.growth = max(0, peak - self._start) * KiB


def rss_child(spec: dict) -> dict:
    """In a fresh process: a small warm-up transfer, then one upload or one download of the
    large file inside PeakRss. One process per operation, so the download does not start
    with the upload's freed but still resident buffers."""
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    side, case, op = spec["side"], Case(**spec["case"]), spec["op"]
    source, dst, workdir = Path(spec["source"]), Path(spec["dst"]), Path(spec["workdir"])
    warm_up(side, workdir)
    repo = repo_for(side, case.key)
    with PeakRss() as peak:
        start = time.perf_counter()
        if op == "upload":
            upload(repo, case, source)
        else:
            download(repo, case, source, dst)
        seconds = time.perf_counter() - start
    return {"growth": peak.growth, "seconds": seconds, "method": peak.method}


def measure_rss(side: str, case: Case, source: Path, workdir: Path) -> tuple[dict, str]:
    """{op: child result} for an upload (overwriting the side's object with the same bytes),
    then a download checked against the source."""
    dst = Path(tempfile.mkdtemp(prefix=f"rss-{side}-", dir=workdir))
    result = {}
    for op in ("upload", "download"):
        spec = {
            "side": side,
            "op": op,
            "case": {"key": case.key, "files": case.files, "size": case.size},
            "source": str(source),
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
    equal = compare(_SOURCE_MANIFESTS[case.key], manifest(dst / "data"))
    shutil.rmtree(dst, ignore_errors=True)
    return result, equal


_SOURCE_MANIFESTS: dict[str, dict[str, tuple[int, str]]] = {}  # case key: manifest


# -- one server ------------------------------------------------------------------------------
@dataclass
class Row:
    case: Case
    op: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    equal: dict[str, list[str]] = field(default_factory=dict)


def timed_call(fn: Callable[[], object]) -> float:
    os.sync()
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_server(server: Server, cases, data: dict[str, tuple[Path, dict]], args) -> str:
    start_all = time.perf_counter()
    server.start()
    log = sys.stderr
    print(f"{server.kind}: {server.endpoint}", file=log, flush=True)
    use_server(server)
    client = s3_client(server.endpoint)
    sides = list(SIDES)
    rows: list[Row] = []
    memory: dict[str, dict] = {}
    same_layout: list[str] = []
    try:
        for side in sides:
            warm_up(side, args.workdir)
        for case in cases:
            source, expected = data[case.key]
            up, down = Row(case, "upload"), Row(case, "download")
            for rep in range(args.repeats):
                for side in sides if rep % 2 == 0 else sides[::-1]:
                    clear_prefix(client, f"{side}/{case.key}/")
                    repo = repo_for(side, case.key)
                    t = timed_call(lambda r=repo, c=case, s=source: upload(r, c, s))
                    up.seconds.setdefault(side, []).append(t)
                    print(f"  {case.label:<22} upload   {side:<6} {fmt_seconds(t):>9}", file=log)
            layouts = {s: listing(client, f"{s}/{case.key}/") for s in sides}
            if layouts["stock"] != layouts["oxide"]:
                same_layout.append(case.label)
            for rep in range(args.repeats):
                for side in sides if rep % 2 == 0 else sides[::-1]:
                    dst = Path(tempfile.mkdtemp(prefix=f"dst-{side}-", dir=args.workdir))
                    repo = repo_for(side, case.key)
                    holder: list[Path] = []
                    t = timed_call(
                        lambda r=repo, c=case, s=source, d=dst, h=holder: h.append(
                            download(r, c, s, d)
                        )
                    )
                    down.seconds.setdefault(side, []).append(t)
                    equal = compare(expected, manifest(holder[0]))
                    down.equal.setdefault(side, []).append(equal)
                    shutil.rmtree(dst, ignore_errors=True)
                    print(
                        f"  {case.label:<22} download {side:<6} {fmt_seconds(t):>9}  {equal}",
                        file=log,
                    )
            rows += [up, down]
            if case.single:
                for side in sides:
                    result, equal = measure_rss(side, case, source, args.workdir)
                    result["equal"] = equal
                    memory[side] = result
                    print(
                        f"  peak RSS growth {side}: upload "
                        f"{fmt_size(result['upload']['growth'])}, download "
                        f"{fmt_size(result['download']['growth'])} ({equal})",
                        file=log,
                    )
            for side in sides:
                clear_prefix(client, f"{side}/{case.key}/")  # moto keeps objects in memory
    finally:
        server.stop()
    return render(server, rows, memory, same_layout, cases, args, time.perf_counter() - start_all)


def agreement(results: dict[str, list[str]]) -> str:
    """ "yes" when every repeat of both sides matched the source, else each side's first
    mismatch."""
    firsts = {side: next((r for r in rs if r != "yes"), "yes") for side, rs in results.items()}
    if all(r == "yes" for r in firsts.values()):
        return "yes"
    return "; ".join(f"{side}: {r}" for side, r in firsts.items())


def render(server, rows, memory, same_layout, cases, args, seconds) -> str:
    budget = Transfer.from_env().memory_budget
    lines = [
        f"### Server: {server.description}",
        "",
        "| case | operation | stock MB/s | oxide MB/s | ratio stock/oxide | target "
        "| stock (median) | oxide (median) | equal |",
        "|---|---|---:|---:|---:|---|---:|---:|---|",
    ]
    down_equal = {row.case.key: row.equal for row in rows if row.op == "download"}
    for row in rows:
        s = statistics.median(row.seconds["stock"])
        o = statistics.median(row.seconds["oxide"])
        total = row.case.total
        ratio = s / o
        target = TARGETS.get(f"{row.case.key} {row.op}")
        target_text = f"≥{target:g}x ({'met' if ratio >= target else 'below'})" if target else "—"
        equal = agreement(row.equal if row.op == "download" else down_equal[row.case.key])
        if row.op == "upload":
            equal += " (read back by the download)"
        lines.append(
            f"| {row.case.label} | {row.op} | {total / s / MB:,.0f} | {total / o / MB:,.0f} "
            f"| {ratio:.2f}x | {target_text} | {fmt_seconds(s)} | {fmt_seconds(o)} | {equal} |"
        )
    lines.append("")
    if same_layout:
        lines.append(
            f"Object keys or sizes differ between the sides' prefixes: {', '.join(same_layout)}."
        )
    else:
        lines.append(
            "Both sides wrote the same object keys and sizes under their prefixes in every case."
        )
    if memory:
        big = next(c for c in cases if c.single)
        method = memory["oxide"]["upload"]["method"]
        lines += [
            "",
            f"Peak RSS growth during the {fmt_size(big.size)} transfer (a fresh process per side "
            "and operation, "
            f"after a small warm-up transfer; {method} minus RSS before the call; one call "
            f"each; oxide's configured memory budget `Transfer.from_env().memory_budget` = "
            f"{fmt_size(budget)}):",
            "",
            "| operation | stock peak RSS growth | oxide peak RSS growth | oxide budget "
            "| stock time | oxide time | equal |",
            "|---|---:|---:|---|---:|---:|---|",
        ]
        for op in ("upload", "download"):
            st, ox = memory["stock"][op], memory["oxide"][op]
            within = "within" if ox["growth"] <= budget else "**over**"
            equal = memory["stock"]["equal"] if op == "download" else "—"
            if op == "download" and memory["oxide"]["equal"] != "yes":
                equal = f"stock: {memory['stock']['equal']}; oxide: {memory['oxide']['equal']}"
            lines.append(
                f"| {op} | {fmt_size(st['growth'])} | {fmt_size(ox['growth'])} "
                f"| {fmt_size(budget)} ({within}) | {fmt_seconds(st['seconds'])} "
                f"| {fmt_seconds(ox['seconds'])} | {equal} |"
            )
    lines += ["", f"Wall time on this server (start to stop, including checks): {seconds:.0f} s."]
    return "\n".join(lines)


# -- header and main -------------------------------------------------------------------------
def header(args, cases, servers: list[Server], notes: list[str]) -> str:
    t = Transfer.from_env()
    stock_workers = S3ArtifactRepository(f"s3://{BUCKET}/x").max_workers
    try:
        from boto3.s3.transfer import TransferConfig

        tc = TransferConfig()
        s3transfer = (
            f"threshold {fmt_size(tc.multipart_threshold)}, chunks "
            f"{fmt_size(tc.multipart_chunksize)}, {tc.max_request_concurrency} threads per file"
        )
    except Exception:  # noqa: BLE001 - informational only
        s3transfer = "?"
    lines = [
        f"## Artifacts: MLflow `S3ArtifactRepository` vs `OxideS3ArtifactRepository` "
        f"({'quick' if args.quick else 'full'} run)",
        "",
        f"- python {platform.python_version()}, MLflow {mlflow.__version__}, boto3 "
        f"{_version('boto3')}, s3transfer {_version('s3transfer')}, mlflow-oxide "
        f"{_version('mlflow-oxide')} ({native_build()}); {platform.machine()}, "
        f"{os.cpu_count()} CPUs",
        "- servers on 127.0.0.1 (plain HTTP, same machine): "
        + "; ".join(s.description for s in servers),
        f"- **stock**: `log_artifacts` uploads one file after another (`upload_file`, "
        f"{s3transfer}); `download_artifacts` lists recursively, then `download_file` per file "
        f"on a pool of {stock_workers} threads (min(2 x CPUs, 20))",
        f"- **oxide**: concurrency {t.concurrency}, part size {fmt_size(t.part_size)}, "
        f"multipart threshold {fmt_size(t.multipart_threshold)}, memory budget "
        f"{fmt_size(t.memory_budget)} (`MLFLOW_OXIDE_*` settings, `Transfer.from_env()`)",
        f"- data: random bytes in `{args.workdir}`; cases "
        + ", ".join(c.label for c in cases)
        + f"; median of {args.repeats} call(s) per side and operation, sides alternating, "
        "`os.sync()` before each call; MB/s = 10^6 bytes/s; ratio = stock median / oxide "
        "median (above 1: oxide is faster)",
    ]
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def find_s3s_fs(explicit: str | None) -> str | None:
    for candidate in (explicit, shutil.which("s3s-fs"), *S3S_FS_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: smaller cases, 1 repeat")
    parser.add_argument("--markdown", metavar="FILE", help="also append the tables to FILE")
    parser.add_argument("--dir", metavar="DIR", help="parent of the temporary data directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--server", choices=("moto", "s3s", "both"), default="moto")
    parser.add_argument("--repeats", type=int, help="timed calls per side (default 3; quick 1)")
    parser.add_argument("--s3s-fs", metavar="PATH", help="the s3s-fs binary")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.rss_child:
        print(json.dumps(rss_child(json.loads(args.rss_child))), flush=True)
        return 0

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    cases = QUICK_CASES if args.quick else FULL_CASES
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    notes = []
    servers: list[Server] = []
    moto_bin = Path(sys.executable).parent / "moto_server"
    moto = str(moto_bin) if moto_bin.exists() else shutil.which("moto_server")
    s3s = find_s3s_fs(args.s3s_fs)
    if args.server in ("moto", "both") and moto is None:
        parser.error("moto_server not found (pip install 'moto[server]')")
    if args.server in ("s3s", "both") and s3s is None:
        if args.server == "s3s":
            parser.error(f"s3s-fs not found (--s3s-fs, PATH, {', '.join(S3S_FS_CANDIDATES)})")
        notes.append("s3s-fs not found: moto only")

    start = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="oxide-bench-artifacts-", dir=args.dir))
    args.workdir = workdir
    try:
        if args.server in ("moto", "both"):
            servers.append(Server("moto", moto, workdir))
        if args.server in ("s3s", "both") and s3s is not None:
            servers.append(Server("s3s", s3s, workdir))
        print(f"generating data in {workdir} ...", file=sys.stderr, flush=True)
        data = {}
        for case in cases:
            data[case.key] = generate(case, workdir / "src")
            _SOURCE_MANIFESTS[case.key] = data[case.key][1]
        sections = []
        for server in servers:
            sections.append(run_server(server, cases, data, args))
        sections.insert(0, header(args, cases, servers, notes))
        sections.append(f"Total wall time of the benchmark: {time.perf_counter() - start:.0f} s.")
        report = "\n\n".join(sections) + "\n"
        print(report)
        if args.markdown:
            with open(args.markdown, "a", encoding="utf-8") as fh:
                fh.write(report)
            print(f"tables appended to {args.markdown}", file=sys.stderr)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
