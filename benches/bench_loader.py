"""Side-by-side benchmark: ``mlflow.pyfunc.load_model`` vs ``mlflow_oxide.pyfunc.load_model``,
their wrappers' ``predict``, and batch scoring of a Parquet file.

For a scikit-learn ``LogisticRegression`` and a 100-tree ``RandomForestClassifier``
(``max_depth=8``), both trained on 100k synthetic rows x 20 float64 features, logged with a
signature to an experiment whose artifacts live in ``s3://bench/loader`` on a local S3 server
(started and stopped by this script on 127.0.0.1, a free port), registered, given the alias
``champion``, and also saved to a local directory. One SQLite tracking/registry file serves
both sides: ``sqlite:///<tmp>/mlflow.db`` for stock MLflow, ``oxide+sqlite:///<same file>`` for
ours. Every stock measurement runs with ``MLFLOW_OXIDE_ARTIFACTS=0`` (MLflow's own artifact
repositories, not ours). Cases (``--quick`` in brackets):

* cold load: a fresh interpreter per measurement (``python -c``), for the local path and for
  ``models:/<name>@champion``; the whole process (timed around ``subprocess.run``: interpreter
  start, imports, load, exit) and the load call alone (timed inside); ours with an empty model
  cache, and for ``models:/`` again in a fresh process with the cache that load left on disk
  (ours loads a local path in place, without the cache). Sides alternate which goes first;
  median of ``--repeats`` (5 [2]).
* warm reload: one process per side (both models) loads each URI once (untimed), then
  ``max(5, --repeats)`` more times; median; ``equal`` compares the predictions of both
  sides' reloaded models on a fixed 1,000-row sample.
* ``predict`` on 100k rows x 20 float64 columns: the raw scikit-learn model vs MLflow's
  ``PyFuncModel`` vs ours, in one process, order rotating, median of repeats (as many as fit
  in a few seconds, at least 5 [3]); and the same with one int32 column that the signature
  declares ``long`` (the conversion path; a copy of the model saved with that signature).
* batch scoring of a 5M [500k] row Parquet file (20 float64 features + an int64 ``id``):
  stock is a pandas loop (``mlflow.pyfunc.load_model``, ``ParquetFile.iter_batches(100_000)``,
  ``to_pandas``, ``predict``, ``ParquetWriter`` of id + prediction); ours is
  ``mlflow_oxide.batch.predict(uri, file, dir, keep_columns=["id"], progress=False)``. Both
  from ``models:/<name>@champion``, model load included, each in a fresh process; ``equal``
  compares the predictions of both outputs, joined on ``id``.

Tables per model: case | stock | oxide | ratio (stock time / oxide time) | target | equal.
Nothing is asserted. Any failure of either side is reported in the tables and in full below.

    .venv/bin/python benches/bench_loader.py --quick                    # smoke run, ~2 min
    .venv/bin/python benches/bench_loader.py --markdown results.md      # full run, <10 min
    .venv/bin/python benches/bench_loader.py --server s3s --only cold,warm
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import json
import logging
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

# Before anything imports boto3 or MLflow: no progress bars, no instance-metadata lookups, no
# telemetry thread (on both sides alike); children inherit these.
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# The S3 server, its client and the build description are bench_artifacts.py's.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_artifacts import (  # noqa: E402 - same directory
    BUCKET,
    S3S_FS_CANDIDATES,
    Server,
    _version,
    find_s3s_fs,
    native_build,
    use_server,
)

ARTIFACT_ROOT = f"s3://{BUCKET}/loader"
N_FEATURES = 20
FEATURES = [f"f{i}" for i in range(N_FEATURES)]
TRAIN_ROWS = 100_000
PREDICT_ROWS = 100_000
CHUNK_ROWS = 100_000
ALIAS = "champion"
CHILD_TIMEOUT = 1800
PARTS = ("cold", "warm", "predict", "batch")
IDENTITY_COLUMNS = ("model_name", "model_version", "run_id")  # written by mlflow_oxide.batch
# Targets from the issue, stock time / oxide time (predict: oxide overhead over the raw model).
TARGET_LOAD = 5.0
TARGET_RELOAD = 20.0
TARGET_PREDICT_OVERHEAD = 0.10
TARGET_BATCH = 3.0


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    registered_name: str
    trusted_types: tuple[str, ...] = ()


MODELS = (
    ModelSpec("lr", "LogisticRegression (20 features)", "bench-loader-lr"),
    ModelSpec(
        "rf",
        "RandomForestClassifier (100 trees, max_depth 8, 20 features)",
        "bench-loader-rf",
        ("sklearn.tree._tree.Tree",),
    ),
)


# -- helpers ---------------------------------------------------------------------------------
def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_size(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def tree_size(root: Path) -> tuple[int, int]:
    """(files, bytes) under root."""
    files = size = 0
    if root.exists():
        for p in root.rglob("*"):
            if p.is_file():
                files += 1
                size += p.stat().st_size
    return files, size


def last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in the child's output")


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def features_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.standard_normal((rows, N_FEATURES)), columns=FEATURES)


def as_array(pred) -> np.ndarray:
    if isinstance(pred, pd.DataFrame) and pred.shape[1] == 1:
        pred = pred.iloc[:, 0]
    return np.asarray(pred).ravel()


def pred_digest(pred) -> str:
    arr = as_array(pred)
    return f"{arr.dtype}:{arr.shape}:{hashlib.sha256(arr.tobytes()).hexdigest()[:16]}"


def differ(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shape {b.shape} vs {a.shape}"
    n = int(np.count_nonzero(a != b))
    return f"{n} of {a.size} differ" if n else ""


# -- the two sides ---------------------------------------------------------------------------
@dataclass
class Context:
    workdir: Path
    db: Path
    models: dict[str, dict] = field(default_factory=dict)  # key: uris and paths
    failures: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    @property
    def stock_uri(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def oxide_uri(self) -> str:
        return f"oxide+sqlite:///{self.db}"

    def env(self, side: str, cache: Path | None = None) -> dict[str, str]:
        """A child's environment. Stock: MLflow's own artifact repositories, ``sqlite:///``.
        Oxide: our repositories, ``oxide+sqlite:///``, the given model cache. Both: the same
        S3 settings, and TMPDIR inside the work directory (stock downloads every
        ``models:/`` load into a new temporary directory and leaves it there)."""
        env = os.environ.copy()
        env.pop("MLFLOW_REGISTRY_URI", None)
        env["TMPDIR"] = str(self.workdir / "tmp")
        if side == "stock":
            env["MLFLOW_TRACKING_URI"] = self.stock_uri
            env["MLFLOW_OXIDE_ARTIFACTS"] = "0"
            env.pop("MLFLOW_OXIDE_MODEL_CACHE", None)
        else:
            env["MLFLOW_TRACKING_URI"] = self.oxide_uri
            env.pop("MLFLOW_OXIDE_ARTIFACTS", None)
            env["MLFLOW_OXIDE_MODEL_CACHE"] = str(cache or self.fresh_dir("cache-"))
        return env

    def fresh_dir(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir))

    def fail(self, where: str, error: str) -> str:
        """Records a failure once per distinct error text; returns the table cell."""
        if error.strip() not in self._seen:
            self._seen.add(error.strip())
            self.failures.append(f"**{where}**\n\n```\n{error.strip()}\n```")
        return "FAILED (see Failures)"


LOAD_MODULE = {"stock": "mlflow.pyfunc", "oxide": "mlflow_oxide.pyfunc"}


def run_child(spec: dict, env: dict[str, str]) -> dict:
    """This script in a fresh interpreter (``--child``); its last JSON line, or {"error"}."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT,
    )
    if proc.returncode != 0:
        return {"error": f"child exited with {proc.returncode}:\n{tail(proc.stderr, 40)}"}
    try:
        return last_json(proc.stdout)
    except ValueError as e:
        return {"error": f"{e}:\n{tail(proc.stdout)}\n{tail(proc.stderr)}"}


# -- setup -----------------------------------------------------------------------------------
def setup(ctx: Context) -> None:
    """Train, log, register and alias both models (stock MLflow and its own S3 repository),
    and save each to a local directory (plus a copy whose signature declares f0 ``long``)."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.models import Model, infer_signature
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    os.environ["MLFLOW_OXIDE_ARTIFACTS"] = "0"  # the models are written by MLflow itself
    try:
        mlflow.set_tracking_uri(ctx.stock_uri)
        exp_id = mlflow.create_experiment("bench-loader", artifact_location=ARTIFACT_ROOT)
        rng = np.random.default_rng(0)
        x = features_frame(TRAIN_ROWS, seed=0)
        w = rng.standard_normal(N_FEATURES)
        y = (x.to_numpy() @ w + 0.5 * rng.standard_normal(TRAIN_ROWS) > 0).astype(np.int64)
        reqs = mlflow.sklearn.get_default_pip_requirements(include_skops=True)  # no inference
        client = MlflowClient()
        for spec in MODELS:
            start = time.perf_counter()
            if spec.key == "lr":
                model = LogisticRegression(max_iter=1000).fit(x, y)
            else:
                model = RandomForestClassifier(
                    n_estimators=100, max_depth=8, random_state=0, n_jobs=-1
                ).fit(x, y)
                model.set_params(n_jobs=None)  # predict as a default model would: one thread
            sample = x.head(1000)
            signature = infer_signature(sample, model.predict(sample))
            long_sample = sample.assign(f0=sample["f0"].round().astype(np.int64))
            long_signature = infer_signature(long_sample, model.predict(sample))
            trusted = list(spec.trusted_types) or None
            with mlflow.start_run(experiment_id=exp_id, run_name=spec.key):
                info = mlflow.sklearn.log_model(
                    model,
                    name=spec.key,
                    signature=signature,
                    registered_model_name=spec.registered_name,
                    pip_requirements=reqs,
                    skops_trusted_types=trusted,
                )
            client.set_registered_model_alias(
                spec.registered_name, ALIAS, info.registered_model_version
            )
            local = ctx.workdir / "models" / spec.key
            local_long = ctx.workdir / "models" / f"{spec.key}-long"
            mlflow.sklearn.save_model(
                model,
                str(local),
                signature=signature,
                pip_requirements=reqs,
                skops_trusted_types=trusted,
            )
            # The same files with f0 declared long: only the MLmodel's signature differs.
            shutil.copytree(local, local_long)
            mlmodel = Model.load(str(local_long))
            mlmodel.signature = long_signature
            mlmodel.save(str(local_long / "MLmodel"))
            ctx.models[spec.key] = {
                "local": str(local),
                "local_long": str(local_long),
                "alias": f"models:/{spec.registered_name}@{ALIAS}",
                "size": tree_size(local),
            }
            print(
                f"  {spec.key}: trained, logged and saved in {time.perf_counter() - start:.1f} s "
                f"({fmt_size(ctx.models[spec.key]['size'][1])})",
                file=sys.stderr,
                flush=True,
            )
    finally:
        os.environ.pop("MLFLOW_OXIDE_ARTIFACTS", None)


def write_batch_source(path: Path, rows: int) -> None:
    """20 float64 features (same distribution as training) + an int64 ``id``, in row groups of
    at most 500k rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    writer = None
    try:
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            values = rng.standard_normal((n, N_FEATURES))
            columns = {"id": pa.array(np.arange(start, start + n, dtype=np.int64))}
            columns.update({name: pa.array(values[:, i]) for i, name in enumerate(FEATURES)})
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


# -- cold load -------------------------------------------------------------------------------
COLD_SNIPPET = """\
import json, sys, time
import {module} as loader
start = time.perf_counter()
loader.load_model(sys.argv[1])
print(json.dumps({{"load_s": time.perf_counter() - start}}), flush=True)
"""


def cold_once(side: str, uri: str, env: dict[str, str]) -> dict:
    code = COLD_SNIPPET.format(module=LOAD_MODULE[side])
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, uri],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT,
    )
    process_s = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": f"`python -c` exited with {proc.returncode}:\n{tail(proc.stderr, 40)}"}
    try:
        result = last_json(proc.stdout)
    except ValueError as e:
        return {"error": f"{e}:\n{tail(proc.stdout)}\n{tail(proc.stderr)}"}
    result["process_s"] = process_s
    return result


def model_sources(info: dict) -> dict[str, str]:
    return {"local path": info["local"], f"`models:/…@{ALIAS}` (S3)": info["alias"]}


def run_cold(ctx: Context, repeats: int) -> dict[str, tuple[list[Row], list[str]]]:
    """{model key: (rows, notes)}. Per repeat and model: stock from the local path and from
    the alias; ours from both with an empty cache, then from the alias again in a fresh process
    with the cache that load left on disk (ours loads local paths in place, without the
    cache). Stock and ours alternate which goes first."""
    # (model, variant, source) -> {"load_s": [...], "process_s": [...], "error": str}
    results: dict[tuple[str, str, str], dict] = {}
    cache_notes: dict[str, list[str]] = {spec.key: [] for spec in MODELS}

    def record(key: str, variant: str, source: str, result: dict) -> None:
        slot = results.setdefault((key, variant, source), {"load_s": [], "process_s": []})
        if "error" in result:
            slot.setdefault("error", result["error"])
            shown = result["error"].strip().splitlines()[-1]
        else:
            slot["load_s"].append(result["load_s"])
            slot["process_s"].append(result["process_s"])
            shown = (
                f"process {fmt_seconds(result['process_s'])}, load {fmt_seconds(result['load_s'])}"
            )
        print(f"  {key} cold {variant:<10} {source:<26} {shown}", file=sys.stderr, flush=True)

    for rep in range(repeats):
        for i, spec in enumerate(MODELS):
            sources = model_sources(ctx.models[spec.key])
            blocks = ["stock", "oxide"] if (rep + i) % 2 == 0 else ["oxide", "stock"]
            for block in blocks:
                for n, (source, uri) in enumerate(sources.items()):
                    if block == "stock":
                        result = cold_once("stock", uri, ctx.env("stock"))
                        record(spec.key, "stock", source, result)
                        continue
                    cache = ctx.fresh_dir(f"cache-{spec.key}-")
                    env = ctx.env("oxide", cache)
                    record(spec.key, "oxide cold", source, cold_once("oxide", uri, env))
                    if rep == 0:
                        files, size = tree_size(cache)
                        cache_notes[spec.key].append(
                            f"{source}: {files} files, {fmt_size(size)} after one load"
                        )
                    if n > 0:  # the models:/ URI
                        record(spec.key, "oxide disk", source, cold_once("oxide", uri, env))
                    shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(ctx.workdir / "tmp", ignore_errors=True)
            (ctx.workdir / "tmp").mkdir()

    out = {}
    for spec in MODELS:
        rows = []
        sources = model_sources(ctx.models[spec.key])
        cases = [("oxide cold", "cold load (empty cache)", s) for s in sources]
        cases.append(("oxide disk", "fresh process, cache on disk", list(sources)[1]))
        for variant, label, source in cases:
            stock = results[(spec.key, "stock", source)]
            oxide = results[(spec.key, variant, source)]
            for measure, what, target in (
                ("process_s", "whole process", None),
                ("load_s", "load call", TARGET_LOAD if variant == "oxide cold" else None),
            ):
                rows.append(
                    timed_row(
                        ctx,
                        f"{label}, {source}: {what}",
                        stock,
                        oxide,
                        measure,
                        target,
                        f"{spec.key} {label} {source}",
                    )
                )
        notes = [
            "cache on disk: stock has no model cache, its cells there are its cold loads",
            "oxide model cache (`MLFLOW_OXIDE_MODEL_CACHE`, fresh per repeat): "
            + "; ".join(cache_notes[spec.key]),
        ]
        out[spec.key] = (rows, notes)
    return out


# -- warm reload and predict (children) ------------------------------------------------------
def child_warm(spec: dict) -> dict:
    """One side, every model: each URI loaded once (untimed), then ``repeats`` timed loads; a
    digest of the last model's predictions on a fixed 1,000-row sample."""
    loader = importlib.import_module(LOAD_MODULE[spec["side"]])
    sample = features_frame(1000, seed=2)
    out = {}
    for key, uris in spec["uris"].items():
        out[key] = {}
        for label, uri in uris.items():
            try:
                start = time.perf_counter()
                model = loader.load_model(uri)
                first = time.perf_counter() - start
                times = []
                for _ in range(spec["repeats"]):
                    gc.collect()
                    start = time.perf_counter()
                    model = loader.load_model(uri)
                    times.append(time.perf_counter() - start)
                out[key][label] = {
                    "first": first,
                    "times": times,
                    "digest": pred_digest(model.predict(sample)),
                }
            except Exception:  # noqa: BLE001 - reported
                out[key][label] = {"error": traceback.format_exc()}
    # Which artifact repositories this side's environment selects (stock must be MLflow's).
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    out["_repositories"] = {}
    for label, uri in (("s3", ARTIFACT_ROOT), ("local", spec["workdir"])):
        try:
            out["_repositories"][label] = type(get_artifact_repository(uri)).__name__
        except Exception as e:  # noqa: BLE001 - informational only
            out["_repositories"][label] = f"? ({type(e).__name__})"
    return out


def run_warm(ctx: Context, repeats: int) -> tuple[dict[str, list[Row]], str]:
    """One process per side for both models; ({model key: rows}, a note on the artifact
    repositories each side's environment selects)."""
    uris = {spec.key: model_sources(ctx.models[spec.key]) for spec in MODELS}
    results, repositories = {}, {}
    for side in ("stock", "oxide"):
        child = {
            "mode": "warm",
            "side": side,
            "uris": uris,
            "repeats": repeats,
            "workdir": str(ctx.workdir),
        }
        result = run_child(child, ctx.env(side))
        repositories[side] = result.pop("_repositories", None)
        if "error" in result:
            error = {"error": result["error"]}
            result = {key: dict.fromkeys(per_uri, error) for key, per_uri in uris.items()}
        results[side] = result
        for key, per_uri in result.items():
            for label, r in per_uri.items():
                shown = (
                    r["error"].strip().splitlines()[-1]
                    if "error" in r
                    else f"first {fmt_seconds(r['first'])}, "
                    f"median {fmt_seconds(statistics.median(r['times']))}"
                )
                print(f"  {key} warm {side:<6} {label:<26} {shown}", file=sys.stderr)
    out = {}
    for key, per_uri in uris.items():
        rows = []
        for label in per_uri:
            stock, oxide = results["stock"][key][label], results["oxide"][key][label]
            if "error" in stock or "error" in oxide:
                equal = "—"
            elif stock["digest"] == oxide["digest"]:
                equal = "yes (1k-row sample)"
            else:
                equal = f"NO: stock {stock['digest']}, oxide {oxide['digest']}"
            rows.append(
                timed_row(
                    ctx,
                    f"warm reload in-process, {label}",
                    {"t": stock.get("times", []), **stock},
                    {"t": oxide.get("times", []), **oxide},
                    "t",
                    TARGET_RELOAD,
                    f"{key} warm reload {label}",
                    equal=equal,
                )
            )
        out[key] = rows
    shutil.rmtree(ctx.workdir / "tmp", ignore_errors=True)
    (ctx.workdir / "tmp").mkdir()
    note = "artifact repositories selected in each side's processes: " + "; ".join(
        f"{side}: "
        + (", ".join(f"{k} `{v}`" for k, v in repos.items()) if repos else "? (child failed)")
        for side, repos in repositories.items()
    )
    return out, note


def child_predict(spec: dict) -> dict:
    """Every model: raw model, MLflow's PyFuncModel and ours in one process on the same
    frames (the stock wrappers loaded with ``MLFLOW_OXIDE_ARTIFACTS=0``)."""
    out = {}
    for key, paths in spec["models"].items():
        try:
            out[key] = predict_one(paths, spec["min_repeats"], spec["budget"])
        except Exception:  # noqa: BLE001 - reported
            out[key] = {"error": traceback.format_exc()}
    return out


def predict_one(paths: dict, min_repeats: int, budget: float) -> dict:
    import mlflow.pyfunc

    os.environ["MLFLOW_OXIDE_ARTIFACTS"] = "0"
    try:
        stock = mlflow.pyfunc.load_model(paths["local"])
        stock_long = mlflow.pyfunc.load_model(paths["local_long"])
    finally:
        os.environ.pop("MLFLOW_OXIDE_ARTIFACTS", None)
    raw = stock.get_raw_model()
    oxide = oxide_long = None
    oxide_error = None
    try:
        ours = importlib.import_module(LOAD_MODULE["oxide"])
        oxide = ours.load_model(paths["local"])
        oxide_long = ours.load_model(paths["local_long"])
    except Exception:  # noqa: BLE001 - reported
        oxide_error = traceback.format_exc()

    frame = features_frame(PREDICT_ROWS, seed=1)
    frame_int = frame.assign(f0=(frame["f0"] * 10).round().astype(np.int32))
    cases = {
        "exact": (frame, {"raw": raw, "stock": stock, "oxide": oxide}),
        "int32": (frame_int, {"raw": raw, "stock": stock_long, "oxide": oxide_long}),
    }
    out = {}
    for case, (data, models) in cases.items():
        errors = {"oxide": oxide_error} if oxide_error else {}
        preds, first = {}, {}
        for side, model in models.items():
            if side in errors:
                continue
            try:
                start = time.perf_counter()
                preds[side] = as_array(model.predict(data))
                first[side] = time.perf_counter() - start
            except Exception:  # noqa: BLE001 - reported
                errors[side] = traceback.format_exc()
        sides = [s for s in models if s not in errors]
        per_round = sum(first.values()) or 1e-3
        repeats = int(min(100, max(min_repeats, budget / per_round)))
        times = {side: [] for side in sides}
        gc.collect()
        gc.disable()  # as timeit does: no collection pauses inside the timed calls
        try:
            for rep in range(repeats):
                shift = rep % len(sides) if sides else 0
                for side in sides[shift:] + sides[:shift]:
                    start = time.perf_counter()
                    models[side].predict(data)
                    times[side].append(time.perf_counter() - start)
        finally:
            gc.enable()
        equal = {
            side: differ(preds["raw"], preds[side])
            for side in ("stock", "oxide")
            if side in preds and "raw" in preds
        }
        out[case] = {"times": times, "errors": errors, "equal": equal, "repeats": repeats}
    out["types"] = {
        "stock": type(stock).__module__ + "." + type(stock).__qualname__,
        "oxide": type(oxide).__module__ + "." + type(oxide).__qualname__ if oxide else None,
    }
    return out


def run_predict(ctx: Context, args) -> dict[str, tuple[list[Row], str]]:
    """One process for both models; {model key: (rows, note)}."""
    child = {
        "mode": "predict",
        "models": {
            spec.key: {k: ctx.models[spec.key][k] for k in ("local", "local_long")}
            for spec in MODELS
        },
        "min_repeats": 3 if args.quick else 5,
        "budget": 1.5 if args.quick else 5.0,
    }
    result = run_child(child, ctx.env("oxide"))
    if "error" in result:
        result = {spec.key: {"error": result["error"]} for spec in MODELS}
    return {spec.key: predict_rows(ctx, spec, result[spec.key]) for spec in MODELS}


def predict_rows(ctx: Context, spec: ModelSpec, result: dict) -> tuple[list[Row], str]:
    labels = {
        "exact": f"predict {PREDICT_ROWS // 1000}k x {N_FEATURES} float64 (exact dtypes)",
        "int32": f"predict {PREDICT_ROWS // 1000}k rows, f0 int32 declared long (conversion)",
    }
    if "error" in result:
        msg = ctx.fail(f"{spec.key} predict", result["error"])
        return [Row(label, msg, msg, "—", "—", "—") for label in labels.values()], ""
    rows = []
    for case, label in labels.items():
        r = result[case]
        for side, error in r["errors"].items():
            ctx.fail(f"{spec.key} {label}: {side}", error)
        med = {side: statistics.median(t) for side, t in r["times"].items() if t}
        for side, t in med.items():
            print(f"  {spec.key} predict {case:<5} {side:<6} {fmt_seconds(t)}", file=sys.stderr)
        raw = med.get("raw")
        cells = {}
        for side in ("stock", "oxide"):
            if side in r["errors"]:
                cells[side] = "FAILED (see Failures)"
            elif raw is None:
                cells[side] = fmt_seconds(med[side])
            else:
                cells[side] = f"{fmt_seconds(med[side])} ({(med[side] / raw - 1) * 100:+.0f}%)"
        both = "stock" in med and "oxide" in med
        ratio = f"{med['stock'] / med['oxide']:.2f}x" if both else "—"
        if raw is not None and "oxide" in med:
            over = med["oxide"] / raw - 1
            met = "met" if over <= TARGET_PREDICT_OVERHEAD else "below"
            target = f"oxide ≤{TARGET_PREDICT_OVERHEAD:.0%} over raw ({met})"
        else:
            target = f"oxide ≤{TARGET_PREDICT_OVERHEAD:.0%} over raw"
        eq = r["equal"]
        if "stock" in eq and "oxide" in eq and not eq["stock"] and not eq["oxide"]:
            equal = "yes (raw = stock = oxide)"
        else:
            parts = [f"{s}: {'same as raw' if not d else 'NO, ' + d}" for s, d in eq.items()]
            equal = "; ".join(parts) or "—"
        raw_text = fmt_seconds(raw) if raw is not None else "FAILED"
        rows.append(
            Row(
                f"{label}; raw model {raw_text}; median of {r['repeats']}",
                cells["stock"],
                cells["oxide"],
                ratio,
                target,
                equal,
            )
        )
    types = result["types"]
    return rows, f"wrappers: stock `{types['stock']}`, oxide `{types['oxide']}`"


# -- batch -----------------------------------------------------------------------------------
def child_batch(spec: dict) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if spec["side"] == "stock":
        import mlflow.pyfunc

        start = time.perf_counter()
        model = mlflow.pyfunc.load_model(spec["uri"])
        source = pq.ParquetFile(spec["source"])
        writer = None
        rows = 0
        try:
            for batch in source.iter_batches(batch_size=spec["chunk_rows"]):
                frame = batch.to_pandas()
                ids = frame.pop("id").to_numpy()
                pred = as_array(model.predict(frame))
                table = pa.table({"id": ids, "prediction": pred})
                if writer is None:
                    writer = pq.ParquetWriter(spec["dest"], table.schema)
                writer.write_table(table)
                rows += len(ids)
        finally:
            if writer is not None:
                writer.close()
        return {"seconds": time.perf_counter() - start, "rows": rows}

    batch = importlib.import_module("mlflow_oxide.batch")
    start = time.perf_counter()
    result = batch.predict(
        spec["uri"],
        spec["source"],
        spec["dest"],
        chunk_rows=spec["chunk_rows"],
        keep_columns=["id"],
        progress=False,
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": getattr(result, "rows", None),
        "reported_seconds": getattr(result, "seconds", None),
    }


def compare_batch(stock_path: Path, oxide_dir: Path, rows: int) -> str:
    """Predictions of both outputs joined on ``id``: "yes" or what differs."""
    import pyarrow.parquet as pq

    try:
        stock = pq.read_table(str(stock_path)).to_pandas()
        files = sorted(p for p in oxide_dir.rglob("*") if p.is_file() and p.suffix == ".parquet")
        if not files:
            found = tree_size(oxide_dir)[0]
            return f"NO: no .parquet file under the oxide destination ({found} files)"
        oxide = pd.concat([pq.read_table(str(p)).to_pandas() for p in files], ignore_index=True)
    except Exception as e:  # noqa: BLE001 - reported
        return f"NO: cannot read the outputs ({type(e).__name__}: {e})"
    if "id" not in oxide.columns:
        return f"NO: no `id` column in the oxide output (columns {list(oxide.columns)})"
    identity = [c for c in IDENTITY_COLUMNS if c in oxide.columns]
    pred_cols = [c for c in oxide.columns if c != "id" and c not in identity]
    if len(pred_cols) != 1:
        return f"NO: expected one prediction column besides `id`, got {pred_cols}"
    if len(oxide) != rows or len(stock) != rows:
        return f"NO: rows stock {len(stock)}, oxide {len(oxide)}, source {rows}"
    stock = stock.sort_values("id", ignore_index=True)
    oxide = oxide.sort_values("id", ignore_index=True)
    if not np.array_equal(stock["id"].to_numpy(), oxide["id"].to_numpy()):
        return "NO: the ids differ"
    a, b = stock["prediction"].to_numpy(), oxide[pred_cols[0]].to_numpy()
    dtype_note = f"; dtype {b.dtype}, stock {a.dtype}" if a.dtype != b.dtype else ""
    if d := differ(a, b):
        return f"NO: {d}{dtype_note}"
    extra = f"; oxide also writes {', '.join(f'`{c}`' for c in identity)}" if identity else ""
    return f"yes ({rows:,} rows, joined on `id`{dtype_note}{extra})"


def run_batch(ctx: Context, spec: ModelSpec, source: Path, rows: int) -> tuple[Row, str]:
    uri = ctx.models[spec.key]["alias"]
    out = ctx.workdir / "batch-out"
    out.mkdir(exist_ok=True)
    stock_dest = out / f"{spec.key}-stock.parquet"
    oxide_dest = out / f"{spec.key}-oxide"
    results = {}
    order = ["stock", "oxide"] if spec.key == MODELS[0].key else ["oxide", "stock"]
    for side in order:
        dest = stock_dest if side == "stock" else oxide_dest
        child = {
            "mode": "batch",
            "side": side,
            "uri": uri,
            "source": str(source),
            "dest": str(dest),
            "chunk_rows": CHUNK_ROWS,
        }
        os.sync()
        results[side] = r = run_child(child, ctx.env(side))
        shown = r["error"].strip().splitlines()[-1] if "error" in r else fmt_seconds(r["seconds"])
        print(f"  {spec.key} batch {side:<6} {shown}", file=sys.stderr)
    equal = "—"
    if "error" not in results["stock"] and "error" not in results["oxide"]:
        equal = compare_batch(stock_dest, oxide_dest, rows)
    row = timed_row(
        ctx,
        f"batch scoring, {rows:,}-row Parquet, `models:/…@{ALIAS}` (load included)",
        {
            "t": [results["stock"].get("seconds")] if "seconds" in results["stock"] else [],
            **results["stock"],
        },
        {
            "t": [results["oxide"].get("seconds")] if "seconds" in results["oxide"] else [],
            **results["oxide"],
        },
        "t",
        TARGET_BATCH,
        f"{spec.key} batch",
        equal=equal,
    )
    r = results["oxide"]
    note = ""
    if "error" not in r:
        reported, rows_out = r.get("reported_seconds"), r.get("rows")
        reported = fmt_seconds(reported) if isinstance(reported, (int, float)) else reported
        rows_out = f"{rows_out:,}" if isinstance(rows_out, int) else rows_out
        note = (
            f"batch: oxide's `BatchResult.rows` = {rows_out}, `.seconds` = {reported} "
            "(the table times both sides' calls from outside, model load included)"
        )
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(ctx.workdir / "tmp", ignore_errors=True)
    (ctx.workdir / "tmp").mkdir()
    return row, note


# -- rows and report -------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    stock: str
    oxide: str
    ratio: str
    target: str
    equal: str


def timed_row(
    ctx: Context,
    case: str,
    stock: dict,
    oxide: dict,
    measure: str,
    target: float | None,
    where: str,
    equal: str = "—",
) -> Row:
    cells, med = {}, {}
    for side, r in (("stock", stock), ("oxide", oxide)):
        if r.get("error"):
            cells[side] = ctx.fail(f"{where}: {side}", r["error"])
        elif not r.get(measure):
            cells[side] = "—"
        else:
            values = r[measure]
            med[side] = statistics.median(values)
            cells[side] = fmt_seconds(med[side])
            if len(values) > 1:
                cells[side] += f" (×{len(values)})"
    ratio_value = med["stock"] / med["oxide"] if len(med) == 2 and med["oxide"] > 0 else None
    ratio = f"{ratio_value:.2f}x" if ratio_value is not None else "—"
    if target is None:
        target_text = "—"
    elif ratio_value is None:
        target_text = f"≥{target:g}x"
    else:
        target_text = f"≥{target:g}x ({'met' if ratio_value >= target else 'below'})"
    return Row(case, cells["stock"], cells["oxide"], ratio, target_text, equal)


def render_table(spec: ModelSpec, ctx: Context, rows: list[Row], notes: list[str]) -> str:
    info = ctx.models[spec.key]
    files, size = info["size"]
    lines = [
        f"### {spec.title}: `{spec.registered_name}@{ALIAS}`, {files} files, {fmt_size(size)}",
        "",
        "| case | stock | oxide | ratio (stock/oxide) | target | equal |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.case} | {r.stock} | {r.oxide} | {r.ratio} | {r.target} | {r.equal} |")
    if notes:
        lines += [""] + [f"- {n}" for n in notes if n]
    return "\n".join(lines)


def header(args, ctx: Context, server: Server, batch_rows: int, presence: list[str]) -> str:
    import mlflow

    command = shlex.join([sys.executable, *sys.argv])
    lines = [
        "## Model loading and scoring: `mlflow.pyfunc` vs `mlflow_oxide.pyfunc` / "
        f"`mlflow_oxide.batch` ({'quick' if args.quick else 'full'} run)",
        "",
        f"- command: `{command}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
        f"python {platform.python_version()}",
        f"- MLflow {mlflow.__version__}, scikit-learn {_version('scikit-learn')}, numpy "
        f"{np.__version__}, pandas {pd.__version__}, pyarrow {_version('pyarrow')}, "
        f"mlflow-oxide {_version('mlflow-oxide')} ({native_build()})",
        f"- S3: {server.description} at {server.endpoint}, artifact location `{ARTIFACT_ROOT}`; "
        f"tracking and registry: stock `sqlite:///…/mlflow.db`, oxide `oxide+sqlite:///` on the "
        "same file; stock runs with `MLFLOW_OXIDE_ARTIFACTS=0` (MLflow's own repositories); "
        "telemetry off on both sides",
        f"- cold and cache-on-disk loads: a fresh `python -c` per measurement, median of "
        f"{args.repeats} (sides alternate which goes first; the OS page cache stays warm); warm "
        f"reload: median of {max(5, args.repeats)} loads after one untimed load; predict: one "
        "untimed call each, then the median of the stated number of calls per wrapper, order "
        "rotating, garbage collector off while timing; batch: one run per "
        f"side, {batch_rows:,} rows, chunks of {CHUNK_ROWS:,}, a fresh process and an empty "
        "model cache each",
        "- ratio = stock median / oxide median (above 1: oxide is faster); `(×n)`: median of n; "
        "predict cells give the wrapper's overhead over the raw model's `predict(df)`; targets "
        f"from the issue: load call ≥{TARGET_LOAD:g}x, in-process (cached) reload "
        f"≥{TARGET_RELOAD:g}x, oxide predict ≤{TARGET_PREDICT_OVERHEAD:.0%} over raw, batch "
        f"≥{TARGET_BATCH:g}x; nothing is asserted",
    ]
    lines += [f"- {p}" for p in presence]
    return "\n".join(lines)


def api_presence() -> list[str]:
    notes = []
    for module in ("mlflow_oxide.pyfunc", "mlflow_oxide.batch"):
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001 - reported
            notes.append(f"**`{module}` does not import**: {type(e).__name__}: {e}")
    return notes


# -- main ------------------------------------------------------------------------------------
CHILDREN = {"warm": child_warm, "predict": child_predict, "batch": child_batch}


def _interrupt(signum, frame):  # SIGTERM: unwind through the finally blocks like Ctrl-C
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 repeats, 500k rows")
    parser.add_argument("--markdown", metavar="FILE", help="also append the tables to FILE")
    parser.add_argument("--dir", metavar="DIR", help="parent of the temporary directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--server", choices=("moto", "s3s"), default="moto")
    parser.add_argument("--s3s-fs", metavar="PATH", help="the s3s-fs binary")
    parser.add_argument("--repeats", type=int, help="cold-load repeats (default 5; quick 2)")
    parser.add_argument("--batch-rows", type=int, help="rows of the Parquet file (5M; quick 500k)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts: {','.join(PARTS)}"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(CHILDREN[spec["mode"]](spec)), flush=True)
        return 0

    args.repeats = args.repeats or (2 if args.quick else 5)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    batch_rows = args.batch_rows or (500_000 if args.quick else 5_000_000)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown parts {sorted(parts - set(PARTS))}; choose from {PARTS}")
    if args.server == "moto":
        moto_bin = Path(sys.executable).parent / "moto_server"
        binary = str(moto_bin) if moto_bin.exists() else shutil.which("moto_server")
        if binary is None:
            parser.error("moto_server not found (pip install 'moto[server]')")
    else:
        binary = find_s3s_fs(args.s3s_fs)
        if binary is None:
            parser.error(f"s3s-fs not found (--s3s-fs, PATH, {', '.join(S3S_FS_CANDIDATES)})")

    signal.signal(signal.SIGTERM, _interrupt)
    start = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="oxide-bench-loader-", dir=args.dir)).resolve()
    (workdir / "tmp").mkdir()
    server = Server(args.server, binary, workdir)
    ctx = Context(workdir=workdir, db=workdir / "mlflow.db")
    log = sys.stderr
    try:
        server.start()
        use_server(server)
        print(f"{server.kind}: {server.endpoint}; work directory {workdir}", file=log, flush=True)
        print("training and logging the models ...", file=log, flush=True)
        setup(ctx)
        presence = api_presence()
        for p in presence:
            print(p, file=log)
        source = workdir / "batch-source.parquet"
        if "batch" in parts:
            t = time.perf_counter()
            write_batch_source(source, batch_rows)
            print(
                f"wrote {batch_rows:,} rows to {source.name} ({fmt_size(source.stat().st_size)}) "
                f"in {time.perf_counter() - t:.1f} s",
                file=log,
                flush=True,
            )
        rows: dict[str, list[Row]] = {spec.key: [] for spec in MODELS}
        repository_note = ""
        notes: dict[str, list[str]] = {spec.key: [] for spec in MODELS}
        if "cold" in parts:
            print(f"cold loads ({args.repeats} repeats) ...", file=log, flush=True)
            for key, (r, n) in run_cold(ctx, args.repeats).items():
                rows[key] += r
                notes[key] += n
        if "warm" in parts:
            print("warm reloads ...", file=log, flush=True)
            warm_rows, repo_note = run_warm(ctx, max(5, args.repeats))
            for key, r in warm_rows.items():
                rows[key] += r
            repository_note = repo_note
        if "predict" in parts:
            print("predict ...", file=log, flush=True)
            for key, (r, n) in run_predict(ctx, args).items():
                rows[key] += r
                notes[key].append(n)
        if "batch" in parts:
            print("batch scoring ...", file=log, flush=True)
            for spec in MODELS:
                row, note = run_batch(ctx, spec, source, batch_rows)
                rows[spec.key].append(row)
                notes[spec.key].append(note)
        sections = [render_table(spec, ctx, rows[spec.key], notes[spec.key]) for spec in MODELS]
        if repository_note:
            presence.append(repository_note)
        sections.insert(0, header(args, ctx, server, batch_rows, presence))
        if ctx.failures:
            sections.append("### Failures\n\n" + "\n\n".join(ctx.failures))
        sections.append(f"Total wall time of the benchmark: {time.perf_counter() - start:.0f} s.")
        report = "\n\n".join(sections) + "\n"
        print(report)
        if args.markdown:
            with open(args.markdown, "a", encoding="utf-8") as fh:
                fh.write(report)
            print(f"tables appended to {args.markdown}", file=log)
    except KeyboardInterrupt:
        print("interrupted: stopping the server and removing the temporary directory", file=log)
        return 130
    finally:
        server.stop()
        if args.keep:
            print(f"data kept in {workdir}", file=log)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
