"""Side-by-side benchmark: the stock way (scipy, numpy, pandas, Evidently) vs mlflow_oxide.drift.

Same process, same data for both sides; every call is timed individually after an untimed
warmup on a small slice (lazy imports, registries), and tables show the median of ``--repeats``
calls (a stock call above ``SLOW_SECONDS`` is timed once, marked ``(1x)``). ``ratio`` is
stock / oxide (above 1: oxide is faster). Three parts:

1. numeric, two float64 samples (reference N(0, 1), current N(0.01, 1)), ``--rows`` each:
   ``ks_2samp``, ``wasserstein_distance``, ``anderson_ksamp(variant='midrank')`` and
   ``cramervonmises_2samp`` against ``scipy.stats``; ``psi``, ``jensenshannon``,
   ``kl_divergence`` and ``hellinger`` against the same definition in numpy/scipy
   (``np.quantile`` edges, ``np.searchsorted`` bin counts, ``scipy.spatial.distance.
   jensenshannon`` / ``scipy.stats.entropy``); ``wasserstein_normalized`` against Evidently's
   own normed-Wasserstein function (scipy ``wasserstein_distance`` / ``np.std``). ``equal``:
   results agree within 1e-12 (KS: statistic, location exactly, p-value).
2. categorical, 100 string categories, ``--rows`` values per side (pandas ``str`` Series):
   ``categorical_drift`` (every measure at once) against pandas ``value_counts`` +
   ``scipy.stats.chi2_contingency`` + scipy ``jensenshannon``, and ``chi2_categorical`` alone.
3. the table report, ``--report-rows`` rows x (20 numeric + 5 categorical string columns with
   100 categories), current shifted in some columns: ``drift_report(reference, current)`` and
   ``drift_report(BaselineProfile.from_table(reference), current)`` against Evidently's
   ``Report([DataDriftPreset()]).run(current, reference)`` (including ``Dataset.from_pandas``),
   with the per-column agreement (same test chosen, same drifted flag).

    .venv/bin/python benches/bench_drift.py                # 10M samples, 1M-row tables
    .venv/bin/python benches/bench_drift.py --quick        # smoke run: 200k / 20k rows, 1 repeat
    .venv/bin/python benches/bench_drift.py --only report  # numeric, categorical or report
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata

import mlflow_oxide.drift as ox
import numpy as np
import pandas as pd
import scipy
import scipy.stats as sp
from scipy.spatial.distance import jensenshannon as sp_jensenshannon

SLOW_SECONDS = 60.0  # a stock call above this is timed once
RTOL = 1e-12
SCORE_RTOL = 1e-9  # report vs Evidently: scores computed in a different order
WARMUP_ROWS = 1000
SEED = 0
BINS = 10
EMPTY_BIN = 1e-4
N_CATEGORIES = 100
PARTS = ("numeric", "categorical", "report")


# -- timing and comparison -------------------------------------------------------------------
def _timed(fn: Callable[[], object], repeats: int, once_above: float | None = None):
    """(median seconds, calls made, first result). Stops after one call above once_above."""
    times, result = [], None
    for i in range(repeats):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if i == 0:
            result = out
        del out
        if once_above is not None and times[0] > once_above:
            break
    return statistics.median(times), len(times), result


def _values(result) -> list[float]:
    """The numbers of a result compared between the sides."""
    if isinstance(result, (tuple, list)):
        return [float(v) for v in result]
    if hasattr(result, "pvalue"):
        return [float(result.statistic), float(result.pvalue)]
    return [float(result)]


def _agree(ours, theirs) -> str:
    # KS: the location must be the same sample value
    if hasattr(theirs, "statistic_location") and (
        ours.statistic_location != theirs.statistic_location
    ):
        return "NO (location)"
    a, b = np.array(_values(ours)), np.array(_values(theirs))
    if a.shape != b.shape:
        return f"NO ({a.size} vs {b.size} values)"
    if np.allclose(a, b, rtol=RTOL, atol=1e-300, equal_nan=True):
        return "yes"
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = float(np.nanmax(np.abs(a - b) / np.abs(b)))
    return f"NO (rel {rel:.1e})"


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / abs(b) if b else math.inf


def _fmt(seconds: float, calls: int = 0, repeats: int = 0) -> str:
    if seconds >= 1:
        text = f"{seconds:.2f} s"
    elif seconds >= 1e-3:
        text = f"{seconds * 1e3:.1f} ms"
    else:
        text = f"{seconds * 1e6:.0f} µs"
    return text + (f" ({calls}×)" if calls and calls < repeats else "")


# -- the stock side --------------------------------------------------------------------------
def _np_shares(reference: np.ndarray, current: np.ndarray, bins: int = BINS):
    """Reference-quantile bins, the definition ``mlflow_oxide.drift`` documents, in numpy."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))[1:-1]
    r = np.bincount(np.searchsorted(edges, reference, "right"), minlength=edges.size + 1)
    c = np.bincount(np.searchsorted(edges, current, "right"), minlength=edges.size + 1)
    return r / r.sum(), c / c.sum()


def _filled(p: np.ndarray) -> np.ndarray:
    return np.where(p == 0, EMPTY_BIN, p)


def np_psi(reference, current) -> float:
    r, c = (_filled(p) for p in _np_shares(reference, current))
    return float(np.sum((c - r) * np.log(c / r)))


def np_kl_divergence(reference, current) -> float:
    r, c = (_filled(p) for p in _np_shares(reference, current))
    return float(sp.entropy(r, c))


def np_jensenshannon(reference, current) -> float:
    return float(sp_jensenshannon(*_np_shares(reference, current)))


def np_hellinger(reference, current) -> float:
    r, c = _np_shares(reference, current)
    return float(math.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2) / 2))


def _aligned_counts(reference: pd.Series, current: pd.Series) -> np.ndarray:
    r, c = reference.value_counts().align(current.value_counts(), fill_value=0)
    return np.vstack([r.to_numpy(np.float64), c.to_numpy(np.float64)])


def stock_chi2(reference: pd.Series, current: pd.Series):
    result = sp.chi2_contingency(_aligned_counts(reference, current))
    return (result.statistic, result.pvalue, result.dof)


def stock_categorical(reference: pd.Series, current: pd.Series):
    table = _aligned_counts(reference, current)
    chi2 = sp.chi2_contingency(table)
    js = sp_jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum())
    return (chi2.statistic, chi2.pvalue, js)


def import_evidently():
    """Evidently 0.7.23 imports ``pandas.core.dtypes.common.infer_dtype_from_object``, which
    pandas 3 removed; only its column-type test (not part of the drift preset) calls it, so a
    stand-in is installed when it is missing. Returns (module, note) or (None, reason)."""
    note = ""
    try:
        import pandas.core.dtypes.common as common

        if not hasattr(common, "infer_dtype_from_object"):
            common.infer_dtype_from_object = lambda dtype: dtype
            note = "pandas 3 shim: `infer_dtype_from_object` stand-in (unused by drift)"
        import evidently

        return evidently, note
    except Exception as exc:  # noqa: BLE001 - reported, the Evidently rows are skipped
        return None, f"Evidently not importable: {type(exc).__name__}: {exc}"


# -- part 1: numeric -------------------------------------------------------------------------
def numeric_cases(evidently) -> list[tuple[str, str, Callable, Callable]]:
    """(oxide function, stock label, stock call, oxide call); calls take (reference, current)."""
    cases = [
        ("ks_2samp", "scipy", sp.ks_2samp, ox.ks_2samp),
        ("wasserstein_distance", "scipy", sp.wasserstein_distance, ox.wasserstein_distance),
        (
            "anderson_ksamp (midrank)",
            "scipy",
            lambda r, c: sp.anderson_ksamp([r, c], variant="midrank"),
            lambda r, c: ox.anderson_ksamp([r, c], variant="midrank"),
        ),
        ("cramervonmises_2samp", "scipy", sp.cramervonmises_2samp, ox.cramervonmises_2samp),
        ("psi", "numpy/scipy", np_psi, ox.psi),
        ("jensenshannon", "numpy/scipy", np_jensenshannon, ox.jensenshannon),
        ("kl_divergence", "numpy/scipy", np_kl_divergence, ox.kl_divergence),
        ("hellinger", "numpy/scipy", np_hellinger, ox.hellinger),
    ]
    if evidently is not None:
        from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (
            _wasserstein_distance_norm,
        )
        from evidently.legacy.core import ColumnType

        cases.append(
            (
                "wasserstein_normalized",
                "Evidently",
                lambda r, c: _wasserstein_distance_norm(r, c, ColumnType.Numerical, 0.1)[0],
                ox.wasserstein_normalized,
            )
        )
    return cases


def bench_numeric(args, evidently) -> str:
    rng = np.random.default_rng(SEED)
    reference = rng.normal(size=args.rows)
    current = rng.normal(0.01, 1.0, size=args.rows)
    lines = [
        f"### Numeric: {args.rows:,} vs {args.rows:,} float64",
        "",
        "| function | stock | n per side | stock time | oxide time | ratio | equal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, label, theirs, ours in numeric_cases(evidently):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # p-value capped/floored notes: not what is measured
            theirs(reference[:WARMUP_ROWS], current[:WARMUP_ROWS])
            ours(reference[:WARMUP_ROWS], current[:WARMUP_ROWS])
            t_sp, n_sp, r_sp = _timed(
                lambda f=theirs: f(reference, current), args.repeats, SLOW_SECONDS
            )
            t_ox, _, r_ox = _timed(lambda f=ours: f(reference, current), args.repeats)
        equal = _agree(r_ox, r_sp)
        lines.append(
            f"| `{name}` | {label} | {args.rows:,} | {_fmt(t_sp, n_sp, args.repeats)} | "
            f"{_fmt(t_ox)} | {t_sp / t_ox:.1f}× | {equal} |"
        )
        print(f"  {name}: {t_sp / t_ox:.1f}× {equal}", file=sys.stderr, flush=True)
    return "\n".join(lines)


# -- part 2: categorical ---------------------------------------------------------------------
def category_labels(n: int = N_CATEGORIES) -> np.ndarray:
    return np.array([f"category_{i:03d}" for i in range(n)], dtype=object)


def zipf(n: int, exponent: float = 0.8) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** exponent
    return p / p.sum()


def bench_categorical(args) -> str:
    rng = np.random.default_rng(SEED + 1)
    labels = category_labels()
    p_ref = zipf(N_CATEGORIES)
    p_cur = p_ref * (1 + 0.2 * np.sin(np.arange(N_CATEGORIES)))
    p_cur /= p_cur.sum()
    start = time.perf_counter()
    reference = pd.Series(labels[rng.choice(N_CATEGORIES, size=args.rows, p=p_ref)])
    current = pd.Series(labels[rng.choice(N_CATEGORIES, size=args.rows, p=p_cur)])
    print(f"  categorical data in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    cases = [
        (
            "categorical_drift",
            "value_counts + chi2_contingency + jensenshannon",
            stock_categorical,
            lambda r, c: (
                (d := ox.categorical_drift(r, c)).chi2_statistic,
                d.chi2_pvalue,
                d.jensenshannon,
            ),
        ),
        (
            "chi2_categorical",
            "value_counts + chi2_contingency",
            stock_chi2,
            lambda r, c: (
                (d := ox.chi2_categorical(r, c)).statistic,
                d.pvalue,
                d.dof,
            ),
        ),
    ]
    lines = [
        f"### Categorical: {N_CATEGORIES} categories, {args.rows:,} vs {args.rows:,} strings "
        f"(pandas `{reference.dtype}` Series)",
        "",
        "| function | stock (pandas + scipy) | stock time | oxide time | ratio | equal |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, label, theirs, ours in cases:
        theirs(reference[:WARMUP_ROWS], current[:WARMUP_ROWS])
        ours(reference[:WARMUP_ROWS], current[:WARMUP_ROWS])
        t_sp, n_sp, r_sp = _timed(
            lambda f=theirs: f(reference, current), args.repeats, SLOW_SECONDS
        )
        t_ox, _, r_ox = _timed(lambda f=ours: f(reference, current), args.repeats)
        equal = _agree(r_ox, r_sp)
        lines.append(
            f"| `{name}` | {label} | {_fmt(t_sp, n_sp, args.repeats)} | {_fmt(t_ox)} | "
            f"{t_sp / t_ox:.1f}× | {equal} |"
        )
        print(f"  {name}: {t_sp / t_ox:.1f}× {equal}", file=sys.stderr, flush=True)
    lines += [
        "",
        "`categorical_drift` also computes PSI, total variation, L-inf and the z-test; the",
        "stock side computes only chi-square and Jensen-Shannon.",
    ]
    return "\n".join(lines)


# -- part 3: the table report ----------------------------------------------------------------
def _with_nulls(rng, x: np.ndarray, share: float) -> np.ndarray:
    x = x.astype(np.float64)
    x[rng.random(x.size) < share] = np.nan
    return x


def numeric_specs():
    """(column, description, reference generator, current generator); generators take
    (rng, rows). Shifts are in units of the reference std, so the expected normed
    Wasserstein distance is readable next to Evidently's 0.1 threshold."""

    def normal(mu=0.0, sigma=1.0):
        return lambda rng, n: rng.normal(mu, sigma, n)

    def categorical_ints(p):
        return lambda rng, n: rng.choice(len(p), size=n, p=p).astype(np.int64)

    return [
        ("num_00", "normal, unchanged", normal(), normal()),
        ("num_01", "normal, +0.05 std", normal(), normal(0.05)),
        ("num_02", "normal, +0.2 std", normal(), normal(0.2)),
        ("num_03", "normal, std x1.3", normal(), normal(0, 1.3)),
        ("num_04", "lognormal, unchanged", *[lambda rng, n: rng.lognormal(0, 0.5, n)] * 2),
        (
            "num_05",
            "lognormal, x1.1",
            lambda rng, n: rng.lognormal(0, 0.5, n),
            lambda rng, n: 1.1 * rng.lognormal(0, 0.5, n),
        ),
        ("num_06", "uniform, unchanged", *[lambda rng, n: rng.random(n)] * 2),
        (
            "num_07",
            "uniform, +0.02",
            lambda rng, n: rng.random(n),
            lambda rng, n: rng.random(n) + 0.02,
        ),
        ("num_08", "exponential, unchanged", *[lambda rng, n: rng.exponential(1.0, n)] * 2),
        (
            "num_09",
            "exponential, scale 1.5",
            lambda rng, n: rng.exponential(1.0, n),
            lambda rng, n: rng.exponential(1.5, n),
        ),
        ("num_10", "poisson(20) ints, unchanged", *[lambda rng, n: rng.poisson(20, n)] * 2),
        (
            "num_11",
            "poisson ints, 20 -> 22",
            lambda rng, n: rng.poisson(20, n),
            lambda rng, n: rng.poisson(22, n),
        ),
        (
            "num_12",
            "normal, 1% NaN, unchanged",
            *[lambda rng, n: _with_nulls(rng, rng.normal(0, 1, n), 0.01)] * 2,
        ),
        (
            "num_13",
            "normal, 1% NaN, +0.5 std",
            lambda rng, n: _with_nulls(rng, rng.normal(0, 1, n), 0.01),
            lambda rng, n: _with_nulls(rng, rng.normal(0.5, 1, n), 0.01),
        ),
        ("num_14", "student t(3), unchanged", *[lambda rng, n: rng.standard_t(3, n)] * 2),
        (
            "num_15",
            "bimodal, weights 50/50 -> 60/40",
            lambda rng, n: rng.normal(np.where(rng.random(n) < 0.5, -2.0, 2.0), 1.0),
            lambda rng, n: rng.normal(np.where(rng.random(n) < 0.6, -2.0, 2.0), 1.0),
        ),
        (
            "num_16",
            "rounded normal(100, 15) ints, unchanged",
            *[lambda rng, n: np.round(rng.normal(100, 15, n)).astype(np.int64)] * 2,
        ),
        ("num_17", "normal x1e6, +0.15 std", normal(0, 1e6), normal(0.15e6, 1e6)),
        (
            "num_18",
            "4 int values, shares shifted",
            categorical_ints([0.4, 0.3, 0.2, 0.1]),
            categorical_ints([0.25, 0.25, 0.25, 0.25]),
        ),
        (
            "num_19",
            "binary 0/1, 30% -> 45% ones",
            categorical_ints([0.7, 0.3]),
            categorical_ints([0.55, 0.45]),
        ),
    ]


def categorical_specs():
    """(column, description, reference shares, current shares, current label offset, nulls)."""
    p = zipf(N_CATEGORIES)
    mild = p * (1 + 0.2 * np.sin(np.arange(N_CATEGORIES)))
    return [
        ("cat_0", "zipf, unchanged", p, p, 0, 0.0),
        ("cat_1", "zipf, order reversed", p, p[::-1].copy(), 0, 0.0),
        ("cat_2", "zipf, shares x(1 + 0.2 sin i)", p, mild / mild.sum(), 0, 0.0),
        ("cat_3", "uniform, 10 categories replaced by new ones", None, None, 10, 0.0),
        ("cat_4", "zipf, 2% null, unchanged", p, p, 0, 0.02),
    ]


def make_tables(rows: int):
    rng = np.random.default_rng(SEED + 2)
    labels = category_labels(N_CATEGORIES + 10)
    ref, cur, described = {}, {}, {}
    for name, text, make_ref, make_cur in numeric_specs():
        ref[name], cur[name] = make_ref(rng, rows), make_cur(rng, rows)
        described[name] = text
    for name, text, p_ref, p_cur, offset, nulls in categorical_specs():
        for side, p, shift in ((ref, p_ref, 0), (cur, p_cur, offset)):
            if p is None:
                codes = rng.integers(0, N_CATEGORIES, size=rows) + shift
            else:
                codes = rng.choice(N_CATEGORIES, size=rows, p=p)
            values = labels[codes]
            if nulls:
                values[rng.random(rows) < nulls] = None
            side[name] = values
        described[name] = text
    return pd.DataFrame(ref), pd.DataFrame(cur), described


def evidently_names() -> dict[str, str]:
    """Evidently's stat-test display names to their registry names (ours use the same)."""
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests

    return {
        test.display_name: name.lower()
        for name, by_type in _registered_stat_tests.items()
        for test in by_type.values()
    }


def evidently_columns(snapshot) -> dict[str, tuple[str, float, bool]]:
    """{column: (test, score, drifted)} from a snapshot of the drift preset (with tests)."""
    names = evidently_names()
    data = snapshot.dict()
    out: dict[str, list] = {}
    for m in data["metrics"]:
        config = m["config"]
        if config.get("type", "").endswith("ValueDrift"):
            method = config["method"]
            out[config["column"]] = [names.get(method, method), float(m["value"]), None]
    for t in data["tests"]:
        params = t["metric_config"]["params"]
        if params.get("type", "").endswith("ValueDrift") and params["column"] in out:
            out[params["column"]][2] = t["status"] == "FAIL"
    return {k: tuple(v) for k, v in out.items()}


def oxide_columns(report) -> dict[str, tuple[str, float, bool]]:
    return {
        c.column: (c.test, c.score, c.drifted) if c.ok else (c.status, math.nan, None)
        for c in report.columns
    }


def bench_report(args, evidently, evidently_note: str) -> str:
    start = time.perf_counter()
    reference, current, described = make_tables(args.report_rows)
    numeric = [c for c in reference if c.startswith("num_")]
    categorical = [c for c in reference if c.startswith("cat_")]
    print(f"  report data in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    repeats = args.repeats

    def ours():
        return ox.drift_report(reference, current)

    def profile():
        return ox.BaselineProfile.from_table(reference)

    ox.drift_report(reference.head(2 * WARMUP_ROWS), current.head(2 * WARMUP_ROWS))
    t_ours, _, r_ours = _timed(ours, repeats)
    print(f"  drift_report: {_fmt(t_ours)}", file=sys.stderr, flush=True)
    t_prof, _, prof = _timed(profile, repeats)
    t_from_prof, _, r_prof = _timed(lambda: ox.drift_report(prof, current), repeats)
    ours_cols, prof_cols = oxide_columns(r_ours), oxide_columns(r_prof)

    rows = [  # (what, seconds, its per-column results if it is a report)
        ("`drift_report(reference, current)`", t_ours, ours_cols),
        ("`BaselineProfile.from_table(reference)`", t_prof, None),
        ("`drift_report(profile, current)`", t_from_prof, prof_cols),
        ("profile build + `drift_report(profile, current)`", t_prof + t_from_prof, None),
    ]
    ev_cols, t_ev, n_ev = None, None, 0
    if evidently is not None:
        from evidently.presets import DataDriftPreset

        definition = evidently.DataDefinition(
            numerical_columns=numeric, categorical_columns=categorical
        )

        def stock(ref=reference, cur=current):
            return evidently.Report([DataDriftPreset()], include_tests=True).run(
                evidently.Dataset.from_pandas(cur, data_definition=definition),
                evidently.Dataset.from_pandas(ref, data_definition=definition),
            )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stock(reference.head(2 * WARMUP_ROWS), current.head(2 * WARMUP_ROWS))
            t_ev, n_ev, snapshot = _timed(stock, repeats, SLOW_SECONDS)
        print(f"  Evidently: {_fmt(t_ev, n_ev, repeats)}", file=sys.stderr, flush=True)
        ev_cols = evidently_columns(snapshot)

    lines = [
        f"### Table report: {args.report_rows:,} rows x ({len(numeric)} numeric + "
        f"{len(categorical)} categorical string columns, {N_CATEGORIES} categories)",
        "",
    ]
    if ev_cols is None:
        lines += [f"Evidently skipped: {evidently_note}", ""]
    else:
        if evidently_note:
            lines += [f"Evidently {evidently.__version__}; {evidently_note}.", ""]
        if n_ev < repeats:
            lines += [
                f"Evidently timed once: its first run took over {SLOW_SECONDS:.0f} s.",
                "",
            ]
    lines += [
        "| what | time | ratio vs Evidently | same test as Evidently | same drifted flag |",
        "|---|---:|---:|---:|---:|",
    ]
    if ev_cols is not None:
        lines.append(
            "| Evidently `Report([DataDriftPreset()]).run(current, reference)` "
            f"(incl. `Dataset.from_pandas`) | {_fmt(t_ev, n_ev, repeats)} | 1.0× | — | — |"
        )
    disagreements: dict[str, list[str]] = {}
    for label, seconds, cols in rows:
        ratio = f"{t_ev / seconds:.1f}×" if ev_cols is not None else "—"
        same_test = same_flag = "—"
        if cols is not None and ev_cols is not None:
            tests = [c for c in ev_cols if cols[c][0] == ev_cols[c][0]]
            flags = [c for c in ev_cols if cols[c][2] == ev_cols[c][2]]
            same_test, same_flag = f"{len(tests)}/{len(ev_cols)}", f"{len(flags)}/{len(ev_cols)}"
            disagreements[label] = [c for c in ev_cols if c not in tests or c not in flags]
        lines.append(f"| {label} | {_fmt(seconds)} | {ratio} | {same_test} | {same_flag} |")
    if ev_cols is not None:
        for (label, _, cols), columns in zip(
            [r for r in rows if r[2] is not None], disagreements.values(), strict=True
        ):
            text = ", ".join(columns) if columns else "none"
            diffs = sorted(
                (
                    (_rel(cols[c][1], ev_cols[c][1]), c)
                    for c in ev_cols
                    if cols[c][0] == ev_cols[c][0]
                ),
                reverse=True,
            )
            diffs = [(abs(cols[c][1] - ev_cols[c][1]), c) for r, c in diffs if r > SCORE_RTOL]
            diffs.sort(reverse=True)
            lines.append("")
            lines.append(f"Disagreements with Evidently, {label}: {len(columns)} ({text}).")
            shown = ", ".join(f"{c} by {d:.2g}" for d, c in diffs[:6])
            more = f", … ({len(diffs) - 6} more)" if len(diffs) > 6 else ""
            lines.append(
                f"Same test, score off by more than {SCORE_RTOL:.0e} relative: {len(diffs)} "
                f"column(s){': ' + shown + more if diffs else ''}."
            )

    lines += [
        "",
        "Evidently's preset runs each column's test three times (`DataDriftTable`, "
        "`DatasetDriftMetric`, one `ValueDrift` per column) and builds plotly widgets; "
        "`drift_report` runs each test once and computes histogram and quantile plot data. "
        "`profile score`: the report from the baseline profile (a quantile sketch per numeric "
        f"column, capacity {ox.BaselineProfile.from_table.__defaults__[-1]}).",
        "",
        "| column | data | Evidently test | Evidently score | drift | oxide test | oxide score "
        "| drift | profile score | drift |",
        "|---|---|---|---:|---|---|---:|---|---:|---|",
    ]

    def flag(value) -> str:
        return "—" if value is None else ("yes" if value else "no")

    for name in reference.columns:
        ev = (ev_cols or {}).get(name, ("—", math.nan, None))
        o, p = ours_cols[name], prof_cols[name]
        mark = "" if ev_cols is None or (o[0] == ev[0] and o[2] == ev[2]) else " **≠**"
        lines.append(
            f"| {name}{mark} | {described[name]} | {ev[0]} | {ev[1]:.4g} | {flag(ev[2])} | "
            f"{o[0]} | {o[1]:.4g} | {flag(o[2])} | {p[1]:.4g} | {flag(p[2])} |"
        )
    if ev_cols is not None:
        ev_share = sum(bool(v[2]) for v in ev_cols.values()) / len(ev_cols)
        lines += [
            "",
            f"Drifted share: Evidently {ev_share:.2f}, oxide {r_ours.drifted_share:.2f}, "
            f"oxide from profile {r_prof.drifted_share:.2f} (dataset drift at >= "
            f"{r_ours.drift_share:.2f}).",
        ]
    return "\n".join(lines)


# -- header and main -------------------------------------------------------------------------
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def native_build() -> str:
    try:
        from bench_tracking import native_build as describe  # same directory

        return describe()
    except Exception:  # noqa: BLE001 - informational only
        return "build profile unknown"


def rayon_threads() -> str:
    env = os.environ.get("RAYON_NUM_THREADS")
    if env:
        return f"{env} (RAYON_NUM_THREADS)"
    try:
        return str(len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return str(os.cpu_count())


def header(args) -> str:
    return "\n".join(
        [
            f"## Drift: stock vs mlflow_oxide.drift ({'quick' if args.quick else 'full'} run)",
            "",
            f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
            f"{scipy.__version__}, pandas {pd.__version__}, pyarrow {_version('pyarrow')}, "
            f"evidently {_version('evidently')}, mlflow-oxide {_version('mlflow-oxide')} "
            f"({native_build()})",
            f"- {platform.machine()}, {os.cpu_count()} CPUs; threads: mlflow_oxide's rayon pool "
            f"{rayon_threads()}, scipy/numpy/pandas/Evidently single-threaded; nothing is "
            "written to disk (no durability setting involved)",
            f"- median of {args.repeats} call(s) per side after a warmup on a small slice; a "
            f"stock call above {SLOW_SECONDS:.0f} s is timed once, marked (1×)",
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="values per sample")
    parser.add_argument(
        "--report-rows", type=int, default=1_000_000, help="rows per table in the report part"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 200k values, 20k-row tables, 1 repeat"
    )
    parser.add_argument("--markdown", help="also append the tables to this file")
    # Accepted because `./dev bench` passes its flags to every script; unused here.
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.report_rows, args.repeats = 200_000, 20_000, 1
    if args.repeats < 1 or args.rows < 2 * WARMUP_ROWS or args.report_rows < 2 * WARMUP_ROWS:
        parser.error(f"--repeats must be >= 1 and row counts >= {2 * WARMUP_ROWS}")
    parts = args.only or PARTS

    start = time.perf_counter()
    evidently, note = import_evidently()
    sections = [header(args)]
    if "numeric" in parts:
        sections.append(bench_numeric(args, evidently))
    if "categorical" in parts:
        sections.append(bench_categorical(args))
    if "report" in parts:
        sections.append(bench_report(args, evidently, note))
    sections.append(f"Total wall time of the benchmark: {time.perf_counter() - start:.0f} s.")
    report = "\n\n".join(sections)
    print(report)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
