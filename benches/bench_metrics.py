"""Side-by-side benchmark: ``sklearn.metrics`` vs ``mlflow_oxide.metrics`` on the same arrays.

Every metric is called with identical arguments through both modules (the contract is that
``mlflow_oxide.metrics`` has scikit-learn's names, signatures and results). Data, generated once
with a fixed seed (numpy arrays, the common case):

* binary      -- ``y_true``/``y_pred`` int64 in {0, 1}, ``score`` float64 in (0, 1)
* 10-class    -- ``labels`` int64 in 0..9, ``pred`` = argmax of ``proba``, a rows x 10
                 float64 probability matrix (rows sum to 1; 800 MB at 10M rows)
* regression  -- ``y_true``/``y_pred`` positive float64 (so MAPE and MSLE are defined)

After one untimed warmup call on the first 1000 rows (lazy imports, dispatch caches), each
call is timed individually (``time.perf_counter``); the table shows medians of
``--repeats`` calls. A scikit-learn call that takes longer than 30 s is timed once. ``ratio`` is
sklearn / oxide (above 1: oxide is faster). ``equal`` checks the two results agree elementwise
within ``rtol=1e-12`` (shapes must match; NaN equals NaN).

    .venv/bin/python benches/bench_metrics.py                       # 10M rows (~1.5 GB of arrays)
    .venv/bin/python benches/bench_metrics.py --rows 200000 --repeats 1   # smoke run
    .venv/bin/python benches/bench_metrics.py --only roc                  # a subset by name
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import mlflow_oxide.metrics as oxm
import numpy as np
import sklearn.metrics as skm

SLOW_SKLEARN_SECONDS = 30.0  # above this a sklearn call is timed once
RTOL = 1e-12
N_CLASSES = 10
SEED = 42
WARMUP_ROWS = 1000


@dataclass
class Data:
    rows: int
    binary: dict[str, np.ndarray] = field(default_factory=dict)
    multiclass: dict[str, np.ndarray] = field(default_factory=dict)
    regression: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    group: str  # which arrays of Data it reads
    call: Callable[[object, dict[str, np.ndarray]], object]  # (metrics module, arrays) -> result


def cases() -> list[Case]:
    b, m, r = "binary", "multiclass", "regression"
    out = [
        Case("accuracy_score", b, lambda M, d: M.accuracy_score(d["y_true"], d["y_pred"])),
        Case(
            "balanced_accuracy_score",
            b,
            lambda M, d: M.balanced_accuracy_score(d["y_true"], d["y_pred"]),
        ),
    ]
    for fn in ("precision_score", "recall_score", "f1_score"):
        out.append(
            Case(
                f"{fn} (binary)",
                b,
                lambda M, d, fn=fn: getattr(M, fn)(d["y_true"], d["y_pred"]),
            )
        )
    out += [
        Case(
            "confusion_matrix (binary)",
            b,
            lambda M, d: M.confusion_matrix(d["y_true"], d["y_pred"]),
        ),
        Case(
            "matthews_corrcoef (binary)",
            b,
            lambda M, d: M.matthews_corrcoef(d["y_true"], d["y_pred"]),
        ),
        Case("log_loss (binary)", b, lambda M, d: M.log_loss(d["y_true"], d["score"])),
        Case("roc_auc_score (binary)", b, lambda M, d: M.roc_auc_score(d["y_true"], d["score"])),
        Case(
            "average_precision_score",
            b,
            lambda M, d: M.average_precision_score(d["y_true"], d["score"]),
        ),
        Case("roc_curve", b, lambda M, d: M.roc_curve(d["y_true"], d["score"])),
        Case(
            "precision_recall_curve",
            b,
            lambda M, d: M.precision_recall_curve(d["y_true"], d["score"]),
        ),
        Case("brier_score_loss", b, lambda M, d: M.brier_score_loss(d["y_true"], d["score"])),
        Case(
            "accuracy_score (10-class)",
            m,
            lambda M, d: M.accuracy_score(d["labels"], d["pred"]),
        ),
        Case(
            "balanced_accuracy_score (10-class)",
            m,
            lambda M, d: M.balanced_accuracy_score(d["labels"], d["pred"]),
        ),
    ]
    for fn in ("precision_score", "recall_score", "f1_score"):
        for average in ("macro", "weighted"):
            out.append(
                Case(
                    f"{fn} ({average}, 10-class)",
                    m,
                    lambda M, d, fn=fn, average=average: getattr(M, fn)(
                        d["labels"], d["pred"], average=average
                    ),
                )
            )
    out += [
        Case(
            "confusion_matrix (10-class)",
            m,
            lambda M, d: M.confusion_matrix(d["labels"], d["pred"]),
        ),
        Case(
            "matthews_corrcoef (10-class)",
            m,
            lambda M, d: M.matthews_corrcoef(d["labels"], d["pred"]),
        ),
        Case("log_loss (10-class)", m, lambda M, d: M.log_loss(d["labels"], d["proba"])),
    ]
    for multi_class, average in (("ovr", "macro"), ("ovr", "weighted"), ("ovo", "macro")):
        out.append(
            Case(
                f"roc_auc_score ({multi_class} {average}, 10-class)",
                m,
                lambda M, d, mc=multi_class, avg=average: M.roc_auc_score(
                    d["labels"], d["proba"], multi_class=mc, average=avg
                ),
            )
        )
    out.append(
        Case(
            "top_k_accuracy_score (k=3, 10-class)",
            m,
            lambda M, d: M.top_k_accuracy_score(d["labels"], d["proba"], k=3),
        )
    )
    for fn in (
        "mean_squared_error",
        "root_mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "median_absolute_error",
        "max_error",
        "r2_score",
        "explained_variance_score",
        "mean_squared_log_error",
        "root_mean_squared_log_error",
    ):
        out.append(Case(fn, r, lambda M, d, fn=fn: getattr(M, fn)(d["y_true"], d["y_pred"])))
    out.append(
        Case(
            "mean_pinball_loss (alpha=0.9)",
            r,
            lambda M, d: M.mean_pinball_loss(d["y_true"], d["y_pred"], alpha=0.9),
        )
    )
    return out


# -- data ------------------------------------------------------------------------------------
def make_data(rows: int, groups: set[str]) -> Data:
    rng = np.random.default_rng(SEED)
    data = Data(rows)
    if "binary" in groups:
        y_true = (rng.random(rows) < 0.3).astype(np.int64)
        logit = 1.5 * y_true - 0.75 + rng.standard_normal(rows)
        score = 1.0 / (1.0 + np.exp(-logit))
        data.binary = {
            "y_true": y_true,
            "y_pred": (score > 0.5).astype(np.int64),
            "score": score,
        }
    if "multiclass" in groups:
        labels = rng.integers(0, N_CLASSES, size=rows, dtype=np.int64)
        proba = rng.standard_normal((rows, N_CLASSES))  # logits, then softmax in place
        proba[np.arange(rows), labels] += 1.5
        np.exp(proba, out=proba)
        proba /= proba.sum(axis=1, keepdims=True)
        data.multiclass = {
            "labels": labels,
            "pred": proba.argmax(axis=1).astype(np.int64),
            "proba": proba,
        }
    if "regression" in groups:
        y_true = rng.lognormal(2.0, 0.7, size=rows)
        data.regression = {
            "y_true": y_true,
            "y_pred": np.abs(y_true + rng.normal(0.0, 2.0, size=rows)),
        }
    return data


# -- timing and comparison -------------------------------------------------------------------
def timed(fn: Callable[[], object], repeats: int, once_above: float | None) -> tuple:
    """(first result, per-call seconds). Stops after the first call if it took > once_above."""
    samples: list[float] = []
    result = None
    for i in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t0)
        if i == 0:
            result = out
        del out
        if once_above is not None and samples[0] > once_above:
            break
    return result, samples


def flatten(result) -> list[np.ndarray]:
    if isinstance(result, tuple):
        return [np.asarray(x) for x in result]
    return [np.asarray(result)]


def agreement(ours, theirs) -> str:
    """'yes' when every array agrees within RTOL, else why not (largest relative difference)."""
    a, b = flatten(ours), flatten(theirs)
    if len(a) != len(b):
        return f"NO ({len(a)} vs {len(b)} outputs)"
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if x.shape != y.shape:
            return f"NO (shape {x.shape} vs {y.shape})"
        x, y = x.astype(np.float64), y.astype(np.float64)
        if np.allclose(x, y, rtol=RTOL, atol=0.0, equal_nan=True):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(x - y) / np.abs(y)
        rel = rel[~(np.isnan(x) & np.isnan(y))]
        worst = max(worst, float(np.nanmax(rel)) if rel.size else float("inf"))
    return "yes" if worst == 0.0 else f"NO (rel {worst:.1e})"


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


@dataclass
class Row:
    name: str
    rows: int
    sklearn: list[float]
    oxide: list[float]
    equal: str

    @property
    def ratio(self) -> float | None:
        if not self.sklearn or not self.oxide:
            return None
        return statistics.median(self.sklearn) / statistics.median(self.oxide)


def run_case(case: Case, arrays: dict[str, np.ndarray], rows: int, repeats: int) -> Row:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. ill-defined scores: not what is measured
        # Untimed warmup on a small slice: first calls pay for lazy imports and dispatch caches.
        head = {k: v[:WARMUP_ROWS] for k, v in arrays.items()}
        case.call(skm, head)
        with contextlib.suppress(Exception):  # a failing oxide call is reported below
            case.call(oxm, head)
        theirs, sk_samples = timed(lambda: case.call(skm, arrays), repeats, SLOW_SKLEARN_SECONDS)
        try:
            ours, ox_samples = timed(lambda: case.call(oxm, arrays), repeats, None)
        except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
            return Row(case.name, rows, sk_samples, [], f"error: {type(exc).__name__}: {exc}")
    return Row(case.name, rows, sk_samples, ox_samples, agreement(ours, theirs))


# -- report ----------------------------------------------------------------------------------
def native_build() -> str:
    try:
        from bench_tracking import native_build as describe  # same directory

        return describe()
    except Exception:  # noqa: BLE001 - informational only
        return "build profile unknown"


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def render(rows: list[Row], args: argparse.Namespace) -> str:
    lines = [
        f"# sklearn.metrics vs mlflow_oxide.metrics, {args.rows:,} rows",
        "",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {version('scikit-learn')}, mlflow-oxide {version('mlflow-oxide')} "
        f"({native_build()})",
        f"- {platform.machine()}, {os.cpu_count()} CPUs; median of {args.repeats} call(s), "
        f"sklearn once when a call exceeds {SLOW_SKLEARN_SECONDS:.0f} s",
        "",
        "| metric | n | sklearn median | oxide median | ratio | equal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        sk = fmt_seconds(statistics.median(row.sklearn))
        if len(row.sklearn) < args.repeats:
            sk += f" ({len(row.sklearn)}×)"
        ox = fmt_seconds(statistics.median(row.oxide)) if row.oxide else "—"
        ratio = f"{row.ratio:.1f}×" if row.ratio is not None else "—"
        lines.append(f"| `{row.name}` | {row.rows:,} | {sk} | {ox} | {ratio} | {row.equal} |")
    ratios = [(row.ratio, row.name) for row in rows if row.ratio is not None]
    lines.append("")
    if ratios:
        lowest = min(ratios)
        lines.append(f"median ratio: {statistics.median(r for r, _ in ratios):.1f}×")
        lines.append(f"minimum ratio: {lowest[0]:.1f}× (`{lowest[1]}`)")
    disagreements = [row.name for row in rows if row.equal != "yes"]
    if disagreements:
        lines.append(f"not equal / failed: {', '.join(disagreements)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per data set")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per side")
    parser.add_argument("--only", default="", help="run metrics whose name contains this")
    parser.add_argument("--markdown", help="also append the table to this file")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200k rows, 1 repeat")
    # Accepted because `./dev bench` passes its flags to every script; unused here.
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 200_000, 1
    if args.repeats < 1 or args.rows < 2:
        parser.error("--repeats must be >= 1 and --rows >= 2")

    selected = [c for c in cases() if args.only.lower() in c.name.lower()]
    if not selected:
        parser.error(f"no metric name contains {args.only!r}")
    t0 = time.perf_counter()
    data = make_data(args.rows, {c.group for c in selected})
    print(f"data: {args.rows:,} rows generated in {time.perf_counter() - t0:.1f} s", flush=True)

    rows = []
    for case in selected:
        row = run_case(case, getattr(data, case.group), args.rows, args.repeats)
        ratio = f"{row.ratio:.1f}×" if row.ratio is not None else "—"
        print(f"  {case.name}: {ratio} {row.equal}", file=sys.stderr, flush=True)
        rows.append(row)

    report = render(rows, args)
    print(report)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
