"""Drift monitoring end to end on the embedded default store (``oxide+sqlite`` + local files):

1. train a model on a training table and log it together with a baseline profile of that table;
2. register the model version;
3. later, in "production", load the profile (not the training data) and compare a batch of
   production data with it (some columns shifted, some nulls, a new category);
4. log the drift report to a monitoring run tagged with the model version.

    .venv/bin/python examples/drift_monitoring.py --rows 200000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow_oxide.drift import BaselineProfile, drift_report, log_drift
from sklearn.linear_model import LogisticRegression

MODEL = "drift-demo-model"


def table(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {f"num_{i}": rng.normal(shift * (i % 3), 1.0, rows) for i in range(8)}
    cities = np.array(["paris", "lyon", "nice", "lille", "nantes"])
    weights = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
    if shift:
        weights = np.array([0.2, 0.3, 0.15, 0.1, 0.25])
    frame["city"] = rng.choice(cities, rows, p=weights)
    frame["plan"] = rng.choice(["free", "pro"], rows, p=[0.7, 0.3])
    return pd.DataFrame(frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--output-dir", default="drift-demo-output")
    args = parser.parse_args(argv)
    out = Path(args.output_dir).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    mlflow.set_tracking_uri(f"oxide+sqlite:///{out / 'mlflow.db'}")
    mlflow.create_experiment("drift-demo", artifact_location=(out / "artifacts").as_uri())
    mlflow.set_experiment("drift-demo")

    train = table(args.rows, seed=0)
    features = [c for c in train.columns if c.startswith("num_")]
    target = (train["num_0"] + train["num_1"] > 0).astype(int)

    with mlflow.start_run(run_name="train") as run:
        model = LogisticRegression().fit(train[features], target)
        info = mlflow.sklearn.log_model(model, name="model", input_example=train[features][:5])
        started = time.perf_counter()
        profile_uri = BaselineProfile.from_table(train).log()
        print(
            f"baseline profile of {args.rows:,} rows logged in "
            f"{time.perf_counter() - started:.2f} s: {profile_uri}"
        )
    version = mlflow.register_model(info.model_uri, MODEL).version
    print(f"registered {MODEL} version {version} (run {run.info.run_id})")

    production = table(args.rows, seed=1, shift=0.3)
    production.loc[production.sample(frac=0.02, random_state=0).index, "num_4"] = np.nan
    production.loc[: args.rows // 100, "city"] = "marseille"

    with mlflow.start_run(run_name="monitoring"):
        started = time.perf_counter()
        report = drift_report(BaselineProfile.load_logged(profile_uri), production)
        elapsed = time.perf_counter() - started
        run_id = log_drift(report, model_name=MODEL, model_version=version)
    shown = report.to_pandas()[["column", "test", "score", "drifted", "current_null_share"]]
    print(shown.to_string(index=False))
    print(f"new categories in city: {report['city'].new_categories}")
    summary = report.summary()
    print(
        f"dataset drift: {summary['dataset_drift']} ({summary['drifted']} of "
        f"{summary['tested']} columns) in {elapsed:.2f} s; logged to run {run_id}"
    )
    tags = MlflowClient().get_model_version(MODEL, version).tags
    print(f"model version tags: {tags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
