"""Metric logging, latest-metric bookkeeping and metric-history reads: oxide vs stock."""

from __future__ import annotations

import random

import pytest
from mlflow.entities import Metric

KINDS = ("float", "float", "float", "int", "neg", "nan", "inf", "-inf")


def _value(rng: random.Random, kind: str):
    if kind == "float":
        return rng.uniform(-1e3, 1e3) or 0.5
    if kind == "int":
        return rng.choice([i for i in range(-5, 6) if i])
    if kind == "neg":
        return -rng.expovariate(0.01) or -1.0
    return float(kind)


def metric_stream(seed: int, n: int, keys=("m",), steps: int = 50, ts_span: int = 40):
    """Random metrics with many shared steps/timestamps, NaN, +/-inf, ints, negatives and some
    exact repeats. Never exactly 0.0, which would tie with NaN (stored as 0) in stock's
    ``ORDER BY timestamp, step, value``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if out and rng.random() < 0.05:
            out.append(rng.choice(out))
            continue
        out.append(
            Metric(
                rng.choice(keys),
                _value(rng, rng.choice(KINDS)),
                1_000 + rng.randrange(ts_span),
                rng.randrange(steps),
            )
        )
    return out


def new_run(store, name="run", start=1_000, experiment_id="0"):
    return store.create_run(experiment_id, "user", start, [], name).info.run_id


def _log_mixed(store, run_id, metrics, seed):
    """Log through both entry points: single log_metric calls and batches of random size."""
    rng = random.Random(seed)
    i = 0
    while i < len(metrics):
        if rng.random() < 0.3:
            store.log_metric(run_id, metrics[i])
            i += 1
        else:
            size = rng.randint(1, 60)
            store.log_batch(run_id, metrics[i : i + size], [], [])
            i += size


def _walk_history(store, run_id, key, page_size):
    pages, token = [], None
    while True:
        page = store.get_metric_history(run_id, key, max_results=page_size, page_token=token)
        pages.append(page)
        token = page.token
        if not token:
            return pages


def test_many_steps_latest_metrics_and_history(store_pair):
    metrics = metric_stream(1, 600, keys=("loss", "acc", "lr"))

    def scenario(store):
        run_id = new_run(store)
        _log_mixed(store, run_id, metrics, seed=2)
        return {
            "run": store.get_run(run_id),
            "history": {k: store.get_metric_history(run_id, k) for k in ("loss", "acc", "lr")},
            "max_step": [store.get_max_step_for_metric(run_id, k) for k in ("loss", "x")],
        }

    result = store_pair.same(scenario, fast=True)
    assert len(result["history"]["loss"]["items"]) > 100


@pytest.mark.parametrize("page_size", [1, 7, 50, 1000])
def test_metric_history_pagination(store_pair, page_size):
    metrics = metric_stream(3, 120)

    def scenario(store):
        run_id = new_run(store)
        store.log_batch(run_id, metrics, [], [])
        return _walk_history(store, run_id, "m", page_size)

    pages = store_pair.same(scenario, fast=True)
    assert sum(len(p["items"]) for p in pages) > 100


def test_latest_metric_rule_with_ties(store_pair):
    """Highest step wins, then timestamp, then value; NaN compares as its stored 0."""
    rng = random.Random(4)
    rounds = []
    for _ in range(30):
        batch = [
            Metric(
                f"k{rng.randrange(6)}",
                rng.choice([-2.0, -1, 1, 2.5, float("nan"), float("inf"), float("-inf"), 3]),
                rng.randrange(3),
                rng.randrange(3),
            )
            for _ in range(rng.randint(1, 8))
        ]
        rounds.append(batch)

    def scenario(store):
        run_id = new_run(store)
        snapshots = []
        for i, batch in enumerate(rounds):
            if i % 3 == 0:
                for m in batch:
                    store.log_metric(run_id, m)
            else:
                store.log_batch(run_id, batch, [], [])
            snapshots.append(store.get_run(run_id))
        return snapshots

    store_pair.same(scenario, fast=True)


def test_duplicate_and_repeated_metrics(store_pair):
    nan = float("nan")
    m = Metric("dup", 1.5, 10, 1)
    batch = [m, m, Metric("dup", 1.5, 10, 1), Metric("dup", nan, 10, 1), Metric("dup", nan, 10, 1)]

    def scenario(store):
        run_id = new_run(store)
        store.log_batch(run_id, batch, [], [])
        store.log_batch(run_id, batch, [], [])
        store.log_metric(run_id, m)
        store.log_metric(run_id, Metric("dup", nan, 10, 1))
        store.log_metric(run_id, Metric("dup", 2.5, 10, 1))
        return store.get_run(run_id), store.get_metric_history(run_id, "dup")

    store_pair.same(scenario, fast=True)


def test_special_values_round_trip(store_pair):
    values = [float("nan"), float("inf"), float("-inf"), -0.5, 7, -3, 1e-300, -1e300, 2**53 + 1]

    def scenario(store):
        run_id = new_run(store)
        for i, v in enumerate(values):
            store.log_metric(run_id, Metric(f"v{i}", v, 100 + i, i))
            store.log_batch(run_id, [Metric("all", v, 100 + i, i)], [], [])
        return store.get_run(run_id), store.get_metric_history(run_id, "all")

    store_pair.same(scenario, fast=True)


def test_get_metric_history_missing(store_pair):
    def scenario(store):
        run_id = new_run(store)
        store.log_metric(run_id, Metric("m", 1.0, 1, 1))
        return [
            store.get_metric_history(run_id, "nope"),
            store.get_metric_history(run_id, "m", max_results=5),
            store.get_metric_history("0" * 32, "m"),
            store.get_max_step_for_metric("0" * 32, "m"),
            store.get_max_step_for_metric(run_id, "nope"),
        ]

    store_pair.same(scenario, fast=True)


def _three_runs(store, seed):
    run_ids = []
    for r in range(3):
        run_id = new_run(store, name=f"r{r}")
        store.log_batch(run_id, metric_stream(seed + r, 200, steps=40), [], [])
        run_ids.append(run_id)
    return run_ids


@pytest.mark.parametrize("max_results", [1, 5, 150, 10_000])
def test_get_metric_history_bulk(store_pair, max_results):
    def scenario(store):
        run_ids = _three_runs(store, seed=10)
        return [
            store.get_metric_history_bulk(run_ids, "m", max_results),
            store.get_metric_history_bulk(list(reversed(run_ids)), "m", max_results),
            store.get_metric_history_bulk(run_ids[:1] + ["f" * 32], "m", max_results),
            store.get_metric_history_bulk(run_ids, "nope", max_results),
        ]

    result = store_pair.same(scenario, fast=True)
    assert result[0]


@pytest.mark.parametrize("max_results", [0, 1, 2, 10, 37, 1000])
@pytest.mark.parametrize("window", [None, (0, 0), (3, 17), (5, 5), (30, 100), (100, 200)])
def test_get_metric_history_bulk_interval(store_pair, max_results, window):
    start, end = window or (None, None)

    def scenario(store):
        run_ids = _three_runs(store, seed=20)
        # Many rows on one step (the default step=0 case) in a fourth run.
        flat = new_run(store, name="flat")
        store.log_batch(
            flat, [Metric("m", float(i % 17) + 0.5, 5_000 + i, 0) for i in range(900)], [], []
        )
        store.log_metric(flat, Metric("m", float("nan"), 5_000, 0))
        return store.get_metric_history_bulk_interval(
            [*run_ids, flat], "m", max_results, start, end
        )

    result = store_pair.same(scenario, fast=True)
    if window is None or window[0] < 40:
        assert result


def test_get_metric_history_bulk_interval_half_window_errors(store_pair):
    def scenario(store):
        run_id = new_run(store)
        store.log_metric(run_id, Metric("m", 1.0, 1, 1))
        return store.get_metric_history_bulk_interval([run_id], "m", 10, 0, None)

    store_pair.same_error(scenario)


@pytest.mark.parametrize("max_results", [1, 3, 100])
@pytest.mark.parametrize("steps", [[0, 5, 7, 1000], [], list(range(0, 40, 3)), [5, 5, 5]])
def test_get_metric_history_bulk_interval_from_steps(store_pair, max_results, steps):
    def scenario(store):
        run_id = _three_runs(store, seed=30)[1]
        return store.get_metric_history_bulk_interval_from_steps(run_id, "m", steps, max_results)

    store_pair.same(scenario, fast=True)


def test_max_step_with_negative_and_large_steps(store_pair):
    metrics = [Metric("m", 1.0, 1, s) for s in (-5, -1, 2**40, 3)]

    def scenario(store):
        run_id = new_run(store)
        neg = new_run(store, name="neg")
        store.log_batch(run_id, metrics, [], [])
        store.log_metric(neg, Metric("m", 1.0, 1, -7))
        return [store.get_max_step_for_metric(r, "m") for r in (run_id, neg)]

    store_pair.same(scenario, fast=True)
