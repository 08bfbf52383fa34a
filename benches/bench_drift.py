"""Side-by-side benchmark: ``scipy.stats`` vs ``mlflow_oxide.drift`` on the same samples.

Two float64 samples (reference N(0, 1), current N(0.01, 1)), median of ``--repeats`` timed calls
per side after an untimed warmup, ratio and whether the results agree (statistic, location and
p-value for KS; the distance for Wasserstein, within 1e-12).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import mlflow_oxide.drift as ox
import numpy as np
import scipy
import scipy.stats as sp


def _timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _equal(a, b) -> bool:
    if hasattr(a, "pvalue"):
        return (
            a.statistic == b.statistic
            and a.statistic_location == b.statistic_location
            and bool(np.isclose(a.pvalue, b.pvalue, rtol=1e-12, atol=1e-300))
        )
    return bool(np.isclose(a, b, rtol=1e-12))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per sample")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200k rows, 1 repeat")
    parser.add_argument("--markdown", help="also append the table to this file")
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 200_000, 1
    rng = np.random.default_rng(0)
    reference = rng.normal(size=args.rows)
    current = rng.normal(0.01, 1.0, size=args.rows)
    lines = [
        f"### scipy.stats vs mlflow_oxide.drift, {args.rows:,} vs {args.rows:,} float64",
        "",
        f"scipy {scipy.__version__}, numpy {np.__version__}; median of {args.repeats}",
        "",
        "| function | scipy | oxide | ratio | equal |",
        "|---|---:|---:|---:|---|",
    ]
    for name in ("ks_2samp", "wasserstein_distance"):
        ours, theirs = getattr(ox, name), getattr(sp, name)
        ours(reference[:1000], current[:1000])
        theirs(reference[:1000], current[:1000])
        t_sp, r_sp = _timed(lambda f=theirs: f(reference, current), args.repeats)
        t_ox, r_ox = _timed(lambda f=ours: f(reference, current), args.repeats)
        equal = "yes" if _equal(r_sp, r_ox) else "NO"
        ratio = t_sp / t_ox
        lines.append(f"| `{name}` | {t_sp:.2f} s | {t_ox * 1e3:.0f} ms | {ratio:.1f}x | {equal} |")
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
