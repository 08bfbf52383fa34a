"""End-to-end quickstart: a realistic small training job tracked by mlflow-oxide.

The job, run on the embedded default store (an ``oxide+sqlite`` database file plus local
artifacts under ``--output-dir``, wiped first) and then, unchanged, on stock MLflow
``sqlite:///`` (a separate file in the same directory):

1. create an experiment;
2. a small hyper-parameter sweep: for each of ``--runs`` learning rates, train a scikit-learn
   ``SGDClassifier`` with ``partial_fit`` on the built-in digits data set (no download) for
   ``--steps`` steps, logging params and tags once and train/validation loss and accuracy at
   every step;
3. pick the best run with ``mlflow.search_runs`` (filter + order_by);
4. log its model (``mlflow.sklearn.log_model`` with an input example);
5. register it and set the alias ``champion``;
6. load ``models:/<name>@champion`` and predict the held-out set.

Prints a table of seconds per phase for stock and oxide and the stock/oxide ratio.

    .venv/bin/python examples/quickstart.py                 # or: ./dev demo
    .venv/bin/python examples/quickstart.py --steps 50 --only oxide
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

# Imported up front so neither side pays the one-time import cost inside a timed phase.
import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from mlflow_oxide import pyfunc as oxide_pyfunc
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

try:  # progress bars only if tqdm happens to be installed; plain prints otherwise
    from tqdm import tqdm
except ImportError:  # pragma: no cover - depends on the environment
    tqdm = None

EXPERIMENT = "quickstart-digits"
REGISTERED_MODEL = "quickstart-digits-classifier"
BATCH_SIZE = 64
PHASES = [
    ("setup", "setup + create experiment"),
    ("train", "training + per-step logging"),
    ("logging", "  of which: MLflow logging calls"),
    ("search", "search runs (pick best)"),
    ("log_model", "log model"),
    ("register", "register + alias"),
    ("load", "load champion + predict"),
]


@dataclass
class Outcome:
    side: str
    uri: str
    seconds: dict[str, float] = field(default_factory=dict)
    metrics_logged: int = 0
    best_run: str = ""
    best_eta0: float = 0.0
    best_val_accuracy: float = 0.0
    model_version: str = ""
    champion_accuracy: float = 0.0

    @property
    def total(self) -> float:
        return sum(v for k, v in self.seconds.items() if k != "logging")


class Phase:
    """``with Phase(outcome, "train"):`` adds the block's wall time to ``outcome.seconds``."""

    def __init__(self, outcome: Outcome, key: str):
        self.outcome, self.key = outcome, key

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.t0
        self.outcome.seconds[self.key] = self.outcome.seconds.get(self.key, 0.0) + elapsed


def load_data(seed: int = 0):
    digits = load_digits()
    X = digits.data.astype(np.float64)
    return train_test_split(
        X, digits.target, test_size=0.2, random_state=seed, stratify=digits.target
    )


def progress(iterable, total: int, desc: str):
    if tqdm is not None:
        return tqdm(iterable, total=total, desc=desc, leave=False)

    def plain():
        # One line per run: "eta0=0.01: 20% 40% 60% 80% 100%".
        every = max(1, total // 5)
        print(f"      {desc}:", end="", flush=True)
        for i, item in enumerate(iterable, 1):
            yield item
            if i % every == 0 or i == total:
                print(f" {100 * i // total}%", end="", flush=True)
        print(flush=True)

    return plain()


def train_one(eta0: float, steps: int, data, outcome: Outcome):
    """One candidate run: params/tags once, four metrics per step. Returns the fitted model."""
    X_train, X_test, y_train, y_test = data
    scaler = StandardScaler().fit(X_train)
    Xs_train, Xs_test = scaler.transform(X_train), scaler.transform(X_test)
    classes = np.unique(y_train)
    clf = SGDClassifier(
        loss="log_loss", learning_rate="constant", eta0=eta0, alpha=1e-4, random_state=0
    )
    rng = np.random.default_rng(0)
    with mlflow.start_run(run_name=f"sgd-eta0-{eta0:g}"):
        t0 = time.perf_counter()
        mlflow.log_params(
            {
                "model": "SGDClassifier",
                "loss": "log_loss",
                "learning_rate": "constant",
                "eta0": eta0,
                "alpha": 1e-4,
                "batch_size": BATCH_SIZE,
                "steps": steps,
                "dataset": "sklearn.load_digits",
                "n_train": len(X_train),
            }
        )
        mlflow.set_tags({"stage": "sweep", "framework": "scikit-learn", "job": "quickstart"})
        logging_seconds = time.perf_counter() - t0
        for step in progress(range(steps), steps, f"eta0={eta0:g}"):
            idx = rng.choice(len(Xs_train), size=BATCH_SIZE, replace=False)
            clf.partial_fit(Xs_train[idx], y_train[idx], classes=classes)
            metrics = {
                "train_loss": log_loss(
                    y_train[idx], clf.predict_proba(Xs_train[idx]), labels=classes
                ),
                "val_loss": log_loss(y_test, clf.predict_proba(Xs_test), labels=classes),
                "val_accuracy": accuracy_score(y_test, clf.predict(Xs_test)),
                "train_accuracy": accuracy_score(y_train[idx], clf.predict(Xs_train[idx])),
            }
            t0 = time.perf_counter()
            mlflow.log_metrics(metrics, step=step)
            logging_seconds += time.perf_counter() - t0
            outcome.metrics_logged += len(metrics)
    outcome.seconds["logging"] = outcome.seconds.get("logging", 0.0) + logging_seconds
    return make_pipeline(scaler, clf)


def warm_up(directory: Path, data) -> float:
    """Untimed: pay the per-process one-time costs (SQLAlchemy/Alembic imports, MLflow's
    requirement-inference caches, pyfunc loader imports) before either side is timed, so the
    side that happens to run first is not charged for them. Touches no store being compared."""
    t0 = time.perf_counter()
    X_train, X_test, y_train, _ = data
    MlflowClient(f"sqlite:///{directory / 'warmup.db'}").search_experiments()
    model = make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", max_iter=5, tol=None))
    model.fit(X_train, y_train)
    mlflow.sklearn.save_model(model, directory / "model", input_example=X_test[:5])
    mlflow.pyfunc.load_model(str(directory / "model")).predict(X_test[:5])
    oxide_pyfunc.load_model(str(directory / "model")).predict(X_test[:5])
    shutil.rmtree(directory, ignore_errors=True)
    return time.perf_counter() - t0


def run_job(side: str, uri: str, artifacts: Path, steps: int, runs: int, data) -> Outcome:
    outcome = Outcome(side, uri)
    X_test, y_test = data[1], data[3]
    print(f"\n== {side}: {uri}", flush=True)

    with Phase(outcome, "setup"):
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        experiment_id = mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
        mlflow.set_experiment(experiment_id=experiment_id)
    print(f"   created experiment {EXPERIMENT!r} (id {experiment_id}), artifacts in {artifacts}")

    models = {}
    etas = [0.001, 0.01, 0.1, 0.03, 0.003, 0.3][:runs]
    with Phase(outcome, "train"):
        for eta0 in etas:
            models[eta0] = train_one(eta0, steps, data, outcome)
    print(
        f"   trained {runs} runs x {steps} steps, logged {outcome.metrics_logged} metric values "
        f"({outcome.seconds['logging']:.2f} s of it in MLflow logging calls)"
    )

    with Phase(outcome, "search"):
        best = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string="params.model = 'SGDClassifier' and metrics.val_accuracy > 0.5",
            order_by=["metrics.val_accuracy DESC", "metrics.val_loss ASC"],
            max_results=10,
        )
    if best.empty:
        raise SystemExit(f"{side}: no run reached val_accuracy > 0.5")
    outcome.best_run = best.iloc[0]["run_id"]
    outcome.best_eta0 = float(best.iloc[0]["params.eta0"])
    outcome.best_val_accuracy = float(best.iloc[0]["metrics.val_accuracy"])
    print(
        f"   search_runs: {len(best)} runs match, best {outcome.best_run} "
        f"(eta0={outcome.best_eta0:g}, val_accuracy={outcome.best_val_accuracy:.3f})"
    )

    with Phase(outcome, "log_model"), mlflow.start_run(run_id=outcome.best_run):
        mlflow.set_tag("stage", "champion-candidate")
        info = mlflow.sklearn.log_model(
            models[outcome.best_eta0], name="model", input_example=X_test[:5]
        )
    print(f"   logged model {info.model_uri}")

    with Phase(outcome, "register"):
        version = mlflow.register_model(info.model_uri, REGISTERED_MODEL)
        MlflowClient().set_registered_model_alias(REGISTERED_MODEL, "champion", version.version)
    outcome.model_version = version.version
    print(f"   registered {REGISTERED_MODEL} v{version.version}, alias 'champion'")

    # Each side loads with its own loader: MLflow's, or mlflow-oxide's drop-in.
    load_model = mlflow.pyfunc.load_model if side == "stock" else oxide_pyfunc.load_model
    with Phase(outcome, "load"):
        champion = load_model(f"models:/{REGISTERED_MODEL}@champion")
        predictions = champion.predict(X_test)
    outcome.champion_accuracy = accuracy_score(y_test, predictions)
    print(
        f"   loaded models:/{REGISTERED_MODEL}@champion, predicted {len(predictions)} held-out "
        f"digits, accuracy {outcome.champion_accuracy:.3f}"
    )
    print(f"   total {outcome.total:.2f} s", flush=True)
    return outcome


def print_table(outcomes: dict[str, Outcome]) -> None:
    sides = [s for s in ("stock", "oxide") if s in outcomes]
    header = ["phase"] + [f"{s} (s)" for s in sides]
    if len(sides) == 2:
        header.append("ratio stock/oxide")
    rows = []
    for key, label in [*PHASES, ("total", "total")]:
        values = [
            outcomes[s].total if key == "total" else outcomes[s].seconds.get(key, 0.0)
            for s in sides
        ]
        row = [label] + [f"{v:.2f}" for v in values]
        if len(sides) == 2:
            row.append(f"{values[0] / values[1]:.1f}x" if values[1] > 0 else "-")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps per run (300)")
    parser.add_argument("--runs", type=int, default=3, help="sweep size, 1-6 runs (3)")
    parser.add_argument("--only", choices=["oxide", "stock", "both"], default="both")
    parser.add_argument(
        "--output-dir", default="quickstart-output", help="wiped first (./quickstart-output)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 6 or args.steps < 1:
        parser.error("--runs must be 1-6 and --steps at least 1")

    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)

    out = Path(args.output_dir).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"output directory {out} (wiped)")
    print(
        f"job: {args.runs} SGDClassifier runs x {args.steps} steps on sklearn digits, "
        "4 metrics per step, then search, log model, register + alias, load + predict"
    )
    data = load_data()
    print("warming up (untimed): imports and MLflow's one-time caches ...", flush=True)
    print(f"   done in {warm_up(out / 'warmup', data):.2f} s")

    # oxide first: if anything is still lazily imported, our side pays for it.
    sides = {
        "oxide": (f"oxide+sqlite:///{out / 'oxide.db'}", out / "oxide-artifacts"),
        "stock": (f"sqlite:///{out / 'stock.db'}", out / "stock-artifacts"),
    }
    outcomes = {}
    for side, (uri, artifacts) in sides.items():
        if args.only in (side, "both"):
            # The stock side is stock throughout: MLflow's own artifact repositories too.
            os.environ["MLFLOW_OXIDE_ARTIFACTS"] = "0" if side == "stock" else "1"
            try:
                outcomes[side] = run_job(side, uri, artifacts, args.steps, args.runs, data)
            finally:
                os.environ.pop("MLFLOW_OXIDE_ARTIFACTS", None)

    order = " (oxide ran first)" if len(outcomes) == 2 else ""
    print(f"\nseconds per phase, the same job on each store{order}\n")
    print_table(outcomes)
    print(
        "\noxide: WAL + synchronous=NORMAL (default); "
        "stock: MLflow default rollback journal, synchronous=FULL. "
        "Artifacts: oxide copies natively, stock uses MLflow's local repository. "
        "Load: mlflow_oxide.pyfunc.load_model vs mlflow.pyfunc.load_model."
    )
    print(f"Everything is in {out}; browse it with:")
    for outcome in outcomes.values():
        print(f"  mlflow ui --backend-store-uri '{outcome.uri}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
