"""Side-by-side benchmark: stock MLflow ``sqlite:///`` vs ``oxide+sqlite:///`` in one process.

Every side gets its own database file in the same temporary directory (same disk) and runs the
same workload through the same public APIs (``MlflowClient``, ``mlflow.search_runs``, and the
store object for the store-level ``log_batch`` row). Sides:

* ``stock``      -- ``sqlite:///...``: MLflow's own SqlAlchemyStore, MLflow's defaults
                    (rollback journal, SQLite's default ``synchronous=FULL``; both queried and
                    printed, not assumed).
* ``oxide``      -- ``oxide+sqlite:///...``: default durability, WAL + ``synchronous=NORMAL``
                    (a committed write survives a crash of the process, not a power loss).
* ``oxide-full`` -- ``oxide+sqlite:///...?synchronous=full``: WAL + fsync on every commit
                    (survives power loss), the like-for-like durability comparison.

Read workloads (``get_run``, ``search_runs``, ``get_metric_history``, ``mlflow.search_runs``)
run on identical data: one template database is populated once through the oxide store, then
copied page by page (SQLite backup API) into each side's file; the stock copy is switched back
to MLflow's default rollback journal so it is exactly what stock MLflow would have written.

Medians of individually timed calls (``time.perf_counter``) after warmup calls. Nothing is
asserted: the targets from the issue are printed next to the measured ratios.

    .venv/bin/python benches/bench_tracking.py            # full run (several minutes)
    .venv/bin/python benches/bench_tracking.py --quick    # smoke run, smaller sizes
    .venv/bin/python benches/bench_tracking.py --markdown results.md
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

SEARCH_FILTER = "metrics.m1 > 0.5 and params.p1 = 'x'"
SEARCH_ORDER_BY = ["metrics.m2 DESC"]
SEARCH_MAX_RESULTS = 1000


@dataclass(frozen=True)
class Sizes:
    search_runs: int  # runs in the search experiment
    history_steps: int  # steps of the metric read back by get_metric_history
    log_metric: tuple[int, int]  # repeats (stock, oxide)
    log_batch: tuple[int, int]
    create_run: tuple[int, int]
    get_run: tuple[int, int]
    search: tuple[int, int]
    history: tuple[int, int]
    dataframe: tuple[int, int]
    warmup: int


FULL = Sizes(
    search_runs=5_000,
    history_steps=100_000,
    log_metric=(50, 200),
    log_batch=(10, 50),
    create_run=(30, 200),
    get_run=(50, 200),
    search=(5, 20),
    history=(3, 10),
    dataframe=(3, 5),
    warmup=2,
)
QUICK = Sizes(
    search_runs=500,
    history_steps=10_000,
    log_metric=(10, 50),
    log_batch=(3, 10),
    create_run=(10, 30),
    get_run=(10, 30),
    search=(3, 5),
    history=(2, 3),
    dataframe=(2, 3),
    warmup=1,
)

# Targets stated in the issue: stock/oxide ratio on the default (synchronous=normal) side.
TARGETS = {
    "log_metric": 50.0,
    "log_batch": 100.0,
    "search_runs": 20.0,
}
DEFAULT_TARGET = 10.0


@dataclass
class Side:
    name: str
    path: str
    uri: str
    journal_mode: str = "?"
    synchronous: str = "?"
    client: MlflowClient | None = None
    # per-side ids of objects created by the write workloads
    write_experiment: str = ""
    log_metric_run: str = ""
    log_batch_run: str = ""
    store_batch_run: str = ""
    results: dict[str, list[float]] = field(default_factory=dict)

    @property
    def is_stock(self) -> bool:
        return self.name == "stock"


@dataclass
class Template:
    search_experiment: str
    wide_run: str
    history_run: str
    populate_seconds: float


# -- helpers ---------------------------------------------------------------------------------
def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def timed(fn: Callable[[int], object], repeats: int, warmup: int) -> list[float]:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``repeats`` times timed individually."""
    for i in range(warmup):
        fn(-1 - i)
    gc.collect()
    samples = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return samples


def sqlite_file_uri(scheme: str, path: str, query: str = "") -> str:
    # path is absolute ("/tmp/..."), which gives the 4-slash absolute form.
    return f"{scheme}:///{path}{query}"


def query_journal_mode(path: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def copy_database(src: str, dst: str, journal_mode: str) -> None:
    """Consistent page copy (reads through the source's WAL), then set the copy's journal."""
    source = sqlite3.connect(src)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        target.close()
        source.close()


# -- population ------------------------------------------------------------------------------
def populate_template(path: str, sizes: Sizes) -> Template:
    """Fill the read-workload data once, through the oxide store (store-level log_batch)."""
    t0 = time.perf_counter()
    client = MlflowClient(sqlite_file_uri("oxide+sqlite", path))
    store = client._tracking_client.store
    rng = random.Random(42)

    search_exp = client.create_experiment("search")
    for i in range(sizes.search_runs):
        run = store.create_run(search_exp, "bench", int(time.time() * 1000), [], f"run-{i}")
        ts = int(time.time() * 1000)
        metrics = [Metric(f"m{k}", rng.random(), ts, 0) for k in range(1, 6)]
        params = [Param("p1", rng.choice(["x", "y"]))] + [
            Param(f"p{k}", str(rng.randint(0, 100))) for k in range(2, 6)
        ]
        tags = [RunTag(f"t{k}", f"tag-{rng.randint(0, 9)}") for k in range(1, 4)]
        store.log_batch(run.info.run_id, metrics, params, tags)

    other_exp = client.create_experiment("reads")
    wide = client.create_run(other_exp, run_name="wide")
    ts = int(time.time() * 1000)
    store.log_batch(
        wide.info.run_id,
        [Metric(f"metric_{k}", rng.random(), ts, 0) for k in range(100)],
        [Param(f"param_{k}", f"value-{k}") for k in range(100)],
        [RunTag(f"tag_{k}", f"value-{k}") for k in range(20)],
    )

    history = client.create_run(other_exp, run_name="history")
    for start in range(0, sizes.history_steps, 1000):
        ts = int(time.time() * 1000)
        batch = [
            Metric("loss", 1.0 / (step + 1), ts + step, step)
            for step in range(start, min(start + 1000, sizes.history_steps))
        ]
        store.log_batch(history.info.run_id, batch, [], [])

    return Template(
        search_experiment=search_exp,
        wide_run=wide.info.run_id,
        history_run=history.info.run_id,
        populate_seconds=time.perf_counter() - t0,
    )


def setup_side(side: Side) -> None:
    side.client = MlflowClient(side.uri)
    store = side.client._tracking_client.store
    if side.is_stock:
        # Query the store's own pooled connection: synchronous is a per-connection setting.
        with store.engine.connect() as conn:
            side.journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        side.synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))
    else:
        side.journal_mode = query_journal_mode(side.path)  # a property of the file
        side.synchronous = "FULL" if "synchronous=full" in side.uri else "NORMAL"  # as set
    side.write_experiment = side.client.create_experiment("writes")
    side.log_metric_run = side.client.create_run(side.write_experiment).info.run_id
    side.log_batch_run = side.client.create_run(side.write_experiment).info.run_id
    side.store_batch_run = side.client.create_run(side.write_experiment).info.run_id


# -- workloads -------------------------------------------------------------------------------
def batch_of_1000(i: int) -> list[Metric]:
    """1000 metrics (10 keys x 100 steps); every call gets its own steps (no duplicates)."""
    ts = int(time.time() * 1000)
    base = (i + 10) * 100
    return [Metric(f"m{k % 10}", random.random(), ts, base + k // 10) for k in range(1000)]


def workloads(template: Template) -> list[tuple[str, str, Callable[[Side, Sizes], list[float]]]]:
    """(row label, target key, runner). Runners return per-call seconds."""

    def log_metric(side: Side, sizes: Sizes) -> list[float]:
        c, run_id = side.client, side.log_metric_run
        return timed(
            lambda i: c.log_metric(run_id, "loss", random.random(), step=i + 10),
            sizes.log_metric[not side.is_stock],
            sizes.warmup,
        )

    def prebuilt_batches(side: Side, sizes: Sizes) -> dict[int, list[Metric]]:
        # Built before timing: constructing 1000 Metric objects is the caller's cost, not the
        # store's.
        repeats = sizes.log_batch[not side.is_stock]
        return {i: batch_of_1000(i) for i in range(-sizes.warmup, repeats)}

    def log_batch_client(side: Side, sizes: Sizes) -> list[float]:
        c, run_id = side.client, side.log_batch_run
        batches = prebuilt_batches(side, sizes)
        return timed(
            lambda i: c.log_batch(run_id, metrics=batches[i]),
            sizes.log_batch[not side.is_stock],
            sizes.warmup,
        )

    def log_batch_store(side: Side, sizes: Sizes) -> list[float]:
        store, run_id = side.client._tracking_client.store, side.store_batch_run
        batches = prebuilt_batches(side, sizes)
        return timed(
            lambda i: store.log_batch(run_id, batches[i], [], []),
            sizes.log_batch[not side.is_stock],
            sizes.warmup,
        )

    def create_run(side: Side, sizes: Sizes) -> list[float]:
        c, exp = side.client, side.write_experiment
        return timed(lambda i: c.create_run(exp), sizes.create_run[not side.is_stock], sizes.warmup)

    def get_run(side: Side, sizes: Sizes) -> list[float]:
        c = side.client
        return timed(
            lambda i: c.get_run(template.wide_run), sizes.get_run[not side.is_stock], sizes.warmup
        )

    def search_runs(side: Side, sizes: Sizes) -> list[float]:
        c = side.client

        def call(i: int) -> None:
            runs = c.search_runs(
                [template.search_experiment],
                SEARCH_FILTER,
                order_by=SEARCH_ORDER_BY,
                max_results=SEARCH_MAX_RESULTS,
            )
            if not runs:
                raise RuntimeError("search_runs returned nothing: population failed?")

        return timed(call, sizes.search[not side.is_stock], sizes.warmup)

    def metric_history(side: Side, sizes: Sizes) -> list[float]:
        c = side.client

        def call(i: int) -> None:
            history = c.get_metric_history(template.history_run, "loss")
            if len(history) != sizes.history_steps:
                raise RuntimeError(f"expected {sizes.history_steps} points, got {len(history)}")

        return timed(call, sizes.history[not side.is_stock], sizes.warmup)

    def search_dataframe(side: Side, sizes: Sizes) -> list[float]:
        mlflow.set_tracking_uri(side.uri)

        def call(i: int) -> None:
            df = mlflow.search_runs(experiment_ids=[template.search_experiment])
            if len(df) != sizes.search_runs:
                raise RuntimeError(f"expected {sizes.search_runs} rows, got {len(df)}")

        return timed(call, sizes.dataframe[not side.is_stock], sizes.warmup)

    return [
        ("`log_metric` (client)", "log_metric", log_metric),
        ("`log_batch` 1000 metrics (client)", "log_batch", log_batch_client),
        ("`log_batch` 1000 metrics (store)", "log_batch", log_batch_store),
        ("`create_run` (client)", "create_run", create_run),
        ("`get_run` 100 params/100 metrics/20 tags", "get_run", get_run),
        ("`search_runs` {runs} runs, filter + order_by, max 1000", "search_runs", search_runs),
        ("`get_metric_history` {steps} steps", "get_metric_history", metric_history),
        ("`mlflow.search_runs` -> DataFrame, {runs} runs", "dataframe", search_dataframe),
    ]


# -- report ----------------------------------------------------------------------------------
def _elf_section_names(path: str) -> set[str]:
    """Section names of a 64-bit little-endian ELF file (empty set for anything else)."""
    import struct

    with open(path, "rb") as fh:
        data = fh.read()
    if data[:6] != b"\x7fELF\x02\x01":
        return set()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i: int) -> tuple[int, int, int]:
        base = shoff + i * shentsize
        name = struct.unpack_from("<I", data, base)[0]
        offset, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, offset, size

    _, str_offset, str_size = header(shstrndx)
    strtab = data[str_offset : str_offset + str_size]
    return {
        strtab[name : strtab.index(b"\0", name)].decode("ascii", "replace")
        for name, _, _ in (header(i) for i in range(shnum))
    }


def native_build() -> str:
    """How the native module was built: an explicit constant if the module exports one, else
    the presence of DWARF debug info (dev profile) in the shared object."""
    try:
        from mlflow_oxide import _native

        for attr in ("BUILD_PROFILE", "build_profile", "PROFILE"):
            value = getattr(_native, attr, None)
            if value is not None:
                return f"{value() if callable(value) else value} build"
        if ".debug_info" in _elf_section_names(_native.__file__):
            return "DEBUG build: numbers not representative, use ./dev bench"
        return "optimised build, no debug info"
    except Exception:  # noqa: BLE001 - informational only
        return "build profile unknown"


def native_sqlite() -> str:
    try:
        from mlflow_oxide import _native

        return str(_native.SQLITE_VERSION)
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def render(
    rows: list[tuple[str, str, dict[str, list[float]]]],
    sides: list[Side],
    template: Template,
    sizes: Sizes,
    quick: bool,
    directory: str,
) -> str:
    stock, oxide, full = sides
    try:
        oxide_version = metadata.version("mlflow-oxide")
    except metadata.PackageNotFoundError:
        oxide_version = "not installed"
    lines = [
        f"## mlflow-oxide tracking benchmark{' (--quick)' if quick else ''}",
        "",
        f"- MLflow {mlflow.__version__}, mlflow-oxide {oxide_version} ({native_build()}), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version} (Python) / "
        f"{native_sqlite()} (oxide native), "
        f"{platform.system()} {platform.machine()}",
        f"- all database files in `{directory}` (same disk)",
        f"- **stock** `sqlite:///`: journal_mode={stock.journal_mode} (queried), "
        f"synchronous={stock.synchronous} (queried on the store's connection) -- MLflow default, "
        "fsync on every commit",
        f"- **oxide** `oxide+sqlite:///`: journal_mode={oxide.journal_mode} (queried), "
        f"synchronous={oxide.synchronous} (default) -- survives a process crash, not a power loss",
        "- **oxide full** `oxide+sqlite:///...?synchronous=full`: "
        f"journal_mode={full.journal_mode} (queried), synchronous={full.synchronous} "
        "-- fsync on every commit, like stock",
        f"- read data ({sizes.search_runs} runs x 5 metrics/5 params/3 tags, one run with "
        f"100 params/100 metrics/20 tags, one metric with {sizes.history_steps} steps) populated "
        f"once through the oxide store in {template.populate_seconds:.1f} s, then copied into "
        "each side's file (stock copy switched to journal_mode=delete)",
        "- median of individually timed calls after warmup; n = timed calls stock/oxide; "
        "ratio = stock median / oxide median; targets from the issue apply to the oxide column",
        "",
        "| operation | n | stock (median) | oxide (median) | ratio stock/oxide | target "
        "| oxide full (median) | ratio stock/oxide full |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for label, target_key, results in rows:
        s = statistics.median(results[stock.name])
        o = statistics.median(results[oxide.name])
        f = statistics.median(results[full.name])
        target = TARGETS.get(target_key, DEFAULT_TARGET)
        ratio = s / o
        verdict = "met" if ratio >= target else "below"
        n = f"{len(results[stock.name])}/{len(results[oxide.name])}"
        lines.append(
            f"| {label} | {n} | {fmt_seconds(s)} | {fmt_seconds(o)} | {ratio:.1f}x "
            f"| ≥{target:.0f}x ({verdict}) | {fmt_seconds(f)} | {s / f:.1f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer repeats, less data")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    parser.add_argument(
        "--dir", metavar="DIR", help="parent directory for the temporary databases (same disk)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    random.seed(0)

    directory = tempfile.mkdtemp(prefix="oxide-bench-", dir=args.dir)
    try:
        print(f"populating template database in {directory} ...", flush=True)
        template_path = os.path.join(directory, "template.db")
        template = populate_template(template_path, sizes)
        print(f"  done in {template.populate_seconds:.1f} s", flush=True)

        sides = [
            Side("stock", os.path.join(directory, "stock.db"), ""),
            Side("oxide", os.path.join(directory, "oxide.db"), ""),
            Side("oxide full", os.path.join(directory, "oxide_full.db"), ""),
        ]
        sides[0].uri = sqlite_file_uri("sqlite", sides[0].path)
        sides[1].uri = sqlite_file_uri("oxide+sqlite", sides[1].path)
        sides[2].uri = sqlite_file_uri("oxide+sqlite", sides[2].path, "?synchronous=full")
        for side in sides:
            copy_database(template_path, side.path, "delete" if side.is_stock else "wal")
            setup_side(side)

        rows = []
        for label, target_key, runner in workloads(template):
            label = label.format(runs=sizes.search_runs, steps=sizes.history_steps)
            results = {}
            for side in sides:
                print(f"  {label:<58} {side.name:<11}", end="", flush=True)
                results[side.name] = runner(side, sizes)
                print(f"{fmt_seconds(statistics.median(results[side.name])):>12}", flush=True)
            rows.append((label, target_key, results))

        table = render(rows, sides, template, sizes, args.quick, directory)
        print()
        print(table)
        if args.markdown:
            with open(args.markdown, "w", encoding="utf-8") as fh:
                fh.write(table)
            print(f"table written to {args.markdown}")
    finally:
        if args.keep:
            print(f"database files kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
