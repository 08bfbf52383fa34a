"""Side-by-side benchmark: ``mlflow.models.evaluate`` with MLflow's default evaluator vs ``oxide``.

End to end, in one process, on one temporary sqlite tracking store (same file and artifact root
for both sides), the same logged scikit-learn model and the same DataFrame:

* ``stock`` -- ``evaluators=["default"]``, ``log_model_explainability=False``, and the dataset
  fast paths off (``MLFLOW_OXIDE_FAST_DATASETS=0``): what stock MLflow does.
* ``oxide`` -- ``evaluators=["oxide"]`` with the dataset fast paths on (the default).

Workloads (features: 10 float columns; models trained on a 20k-row subset): a binary
``LogisticRegression``, a 10-class ``LogisticRegression`` and a ``LinearRegression``. Each call
is the whole ``evaluate``: dataset digest/schema, prediction, metrics, plots, logging. Medians of
``--repeats`` individually timed calls after one untimed warmup on a small frame. The metric
dictionaries of both sides are compared (names and values, relative 1e-9) and the result shown.

    .venv/bin/python benches/bench_evaluator.py                 # 1M rows, 3 repeats
    .venv/bin/python benches/bench_evaluator.py --rows 200000 --repeats 1
    .venv/bin/python benches/bench_evaluator.py --quick         # smoke run (100k rows, 1 repeat)
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

N_FEATURES = 10
TRAIN_ROWS = 20_000
TARGET = 10.0
FAST_ENV = "MLFLOW_OXIDE_FAST_DATASETS"
ARTIFACTS_ENV = "MLFLOW_OXIDE_ARTIFACTS"


def make_data(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(rows, N_FEATURES)), columns=[f"f{i}" for i in range(N_FEATURES)]
    )
    w = rng.normal(size=N_FEATURES)
    score = X.to_numpy() @ w
    noisy = score + rng.normal(size=rows)
    y_binary = (noisy > 0).astype(np.int64)
    y_multi = np.digitize(noisy, np.quantile(noisy, np.linspace(0, 1, 11)[1:-1]))
    y_reg = 3.0 * score + rng.normal(size=rows) + 5.0
    return X, {"binary": y_binary, "multiclass-10": y_multi, "regressor": y_reg}


def log_models(X, targets) -> dict[str, tuple[str, str]]:
    """workload -> (model_uri, model_type); models trained on the first TRAIN_ROWS rows."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    train = slice(0, min(TRAIN_ROWS, len(X)))
    out = {}
    for name, y in targets.items():
        if name == "regressor":
            model, model_type = LinearRegression(), "regressor"
        else:
            model, model_type = LogisticRegression(max_iter=500), "classifier"
        model.fit(X[train], y[train])
        info = mlflow.sklearn.log_model(model, name=name, pip_requirements=["scikit-learn"])
        out[name] = (info.model_uri, model_type)
    return out


def evaluate(side: str, model_uri: str, model_type: str, df: pd.DataFrame):
    os.environ[FAST_ENV] = "0" if side == "stock" else "1"
    # Artifacts (plots, tables) through MLflow's own repository on the stock side.
    os.environ[ARTIFACTS_ENV] = "0" if side == "stock" else "1"
    try:
        if side == "stock":
            evaluators = ["default"]
            config = {"default": {"log_model_explainability": False}}
        else:
            evaluators, config = ["oxide"], None
        return mlflow.models.evaluate(
            model_uri,
            df,
            targets="y",
            model_type=model_type,
            evaluators=evaluators,
            evaluator_config=config,
        )
    finally:
        os.environ.pop(FAST_ENV, None)
        os.environ.pop(ARTIFACTS_ENV, None)


def same_metrics(a: dict, b: dict) -> str:
    if sorted(a) != sorted(b):
        return f"names differ: {sorted(set(a) ^ set(b))}"
    worst = 0.0
    for k in a:
        x, y = float(a[k]), float(b[k])
        if math.isnan(x) and math.isnan(y):
            continue
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return "equal" if worst <= 1e-9 else f"max rel diff {worst:.1e}"


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k rows, 1 repeat")
    parser.add_argument("--markdown", metavar="FILE", help="also append the table to FILE")
    parser.add_argument("--dir", help="directory for the temporary tracking store")
    parser.add_argument("--keep", action="store_true", help="keep the tracking store")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = min(args.rows, 100_000), 1

    warnings.filterwarnings("ignore")
    for name in ("mlflow", "mlflow_oxide"):
        logging.getLogger(name).setLevel(logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix="bench-evaluator-", dir=args.dir))
    try:
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        exp = mlflow.create_experiment("bench", artifact_location=(root / "artifacts").as_uri())
        mlflow.set_experiment(experiment_id=exp)

        from mlflow.models.evaluation.evaluator_registry import _model_evaluation_registry

        if not _model_evaluation_registry.is_registered(
            "oxide"
        ):  # install predates the entry point
            from mlflow_oxide.evaluator import OxideEvaluator

            _model_evaluation_registry.register("oxide", OxideEvaluator)

        X, targets = make_data(args.rows)
        with mlflow.start_run(run_name="models"):
            models = log_models(X, targets)

        # Untimed warmup on a small frame: imports, model load caches, matplotlib fonts.
        for name, (uri, model_type) in models.items():
            small = X.head(2000).assign(y=targets[name][:2000])
            for side in ("stock", "oxide"):
                evaluate(side, uri, model_type, small)

        rows = []
        for name, (uri, model_type) in models.items():
            df = X.assign(y=targets[name])
            times = {"stock": [], "oxide": []}
            results = {}
            for _ in range(args.repeats):
                for side in ("stock", "oxide"):
                    gc.collect()
                    t0 = time.perf_counter()
                    results[side] = evaluate(side, uri, model_type, df)
                    times[side].append(time.perf_counter() - t0)
            stock, oxide = (statistics.median(times[s]) for s in ("stock", "oxide"))
            check = same_metrics(results["oxide"].metrics, results["stock"].metrics)
            rows.append((name, stock, oxide, check))
            print(f"  {name}: stock {fmt(stock)}, oxide {fmt(oxide)} ({check})", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    lines = [
        f"### mlflow.models.evaluate end to end ({args.rows:,} rows, {N_FEATURES} features, "
        f"median of {args.repeats})",
        "",
        f"mlflow {metadata.version('mlflow')}, scikit-learn {metadata.version('scikit-learn')}, "
        f"pandas {pd.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Stock: evaluators=['default'], explainability off, "
        f"{FAST_ENV}=0, {ARTIFACTS_ENV}=0. Oxide: evaluators=['oxide'].",
        "",
        "| workload | stock default | oxide | speedup | target | metrics |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, stock, oxide, check in rows:
        lines.append(
            f"| {name} | {fmt(stock)} | {fmt(oxide)} | {stock / oxide:.1f}x | "
            f"≥{TARGET:.0f}x | {check} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(table + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
