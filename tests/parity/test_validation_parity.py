"""Bad input and invalid run state: same exception type, error code and message as stock."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag

VALID_ID = "0123456789abcdef0123456789abcdef"


def new_run(store, name="run"):
    return store.create_run("0", "user", 1_000, [], name).info.run_id


BAD_NAMES = ["../x", "/abs", "a//b", "", "x/", "./x", "bad!char", "tab\tkey", "k" * 251, None]
OK_NAMES = ["k" * 250, "a/b", "with space", "colon:ok", "dash-dot.under_score", "ünïcode"]


@pytest.mark.parametrize("key", BAD_NAMES + OK_NAMES)
@pytest.mark.parametrize("via", ["log_metric", "log_batch"])
def test_metric_key_validation(store_pair, key, via):
    def scenario(store):
        run_id = new_run(store)
        metric = Metric(key, 1.0, 1, 1)
        if via == "log_metric":
            store.log_metric(run_id, metric)
        else:
            store.log_batch(run_id, [Metric("ok", 1.0, 1, 1), metric], [], [])
        return store.get_run(run_id)

    store_pair.same(scenario)


@pytest.mark.parametrize("key", BAD_NAMES + OK_NAMES)
@pytest.mark.parametrize("via", ["log_param", "log_batch", "set_tag", "log_batch_tag"])
def test_param_and_tag_key_validation(store_pair, key, via):
    def scenario(store):
        run_id = new_run(store)
        if via == "log_param":
            store.log_param(run_id, Param(key, "v"))
        elif via == "log_batch":
            store.log_batch(run_id, [], [Param("ok", "v"), Param(key, "v")], [])
        elif via == "set_tag":
            store.set_tag(run_id, RunTag(key, "v"))
        else:
            store.log_batch(run_id, [], [], [RunTag("ok", "v"), RunTag(key, "v")])
        return store.get_run(run_id)

    store_pair.same(scenario)


METRIC_FIELDS = [
    # (value, timestamp, step)
    ("1.0", 1, 1),
    (True, 1, 1),
    (None, 1, 1),
    (1.0, -1, 1),
    (1.0, "5", 1),
    (1.0, None, 1),
    (1.0, 1, "1"),
    (1.0, 1, None),
    (1.0, 1, 1.5),
    (1.0, 1.5, 1),
    (np.float32(0.25), 1, 1),
    (np.float64(0.75), np.int64(5), np.int32(3)),
    (np.int64(4), 1, 1),
    (np.nan, 1, 1),
    (1.0, 2**63 - 1, -(2**63)),
]


@pytest.mark.parametrize("fields", METRIC_FIELDS, ids=repr)
@pytest.mark.parametrize("via", ["log_metric", "log_batch"])
def test_metric_value_timestamp_step_validation(store_pair, fields, via):
    value, timestamp, step = fields

    def scenario(store):
        run_id = new_run(store)
        metric = Metric("m", value, timestamp, step)
        if via == "log_metric":
            store.log_metric(run_id, metric)
        else:
            store.log_batch(run_id, [metric], [], [])
        return store.get_run(run_id), store.get_metric_history(run_id, "m")

    store_pair.same(scenario)


@pytest.mark.parametrize("truncate", ["true", "false"])
@pytest.mark.parametrize(
    ("kind", "length"),
    [("param", 6000), ("param", 6001), ("tag", 8000), ("tag", 8001), ("param", 10_000)],
)
@pytest.mark.parametrize("batch", [False, True])
def test_value_length_limits(store_pair, monkeypatch, truncate, kind, length, batch):
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", truncate)
    value = "x" * (length - 1) + "y"

    def scenario(store):
        run_id = new_run(store)
        if kind == "param":
            entity = Param("p", value)
            store.log_batch(run_id, [], [entity], []) if batch else store.log_param(run_id, entity)
        else:
            entity = RunTag("t", value)
            store.log_batch(run_id, [], [], [entity]) if batch else store.set_tag(run_id, entity)
        return store.get_run(run_id)

    store_pair.same(scenario)


@pytest.mark.parametrize(
    ("n_metrics", "n_params", "n_tags"),
    [
        (1000, 0, 0),
        (1001, 0, 0),
        (0, 100, 0),
        (0, 101, 0),
        (0, 0, 100),
        (0, 0, 101),
        (900, 100, 0),
        (901, 100, 0),
        (800, 100, 100),
        (800, 100, 101),
    ],
)
def test_batch_limits(store_pair, n_metrics, n_params, n_tags):
    metrics = [Metric(f"m{i % 50}", float(i), i, i) for i in range(n_metrics)]
    params = [Param(f"p{i}", str(i)) for i in range(n_params)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(n_tags)]

    def scenario(store):
        run_id = new_run(store)
        store.log_batch(run_id, metrics, params, tags)
        return store.get_run(run_id)

    store_pair.same(scenario)


@pytest.mark.parametrize(
    "params",
    [
        [Param("a", "1"), Param("a", "1")],
        [Param("a", "1"), Param("b", "2"), Param("a", "3")],
    ],
    ids=["same-value", "different-value"],
)
def test_duplicate_param_keys_in_batch(store_pair, params):
    def scenario(store):
        run_id = new_run(store)
        store.log_batch(run_id, [], params, [])
        return store.get_run(run_id)

    store_pair.same_error(scenario)


@pytest.mark.parametrize(
    "second",
    ["log_param_same", "log_param_changed", "batch_same", "batch_changed", "batch_mixed"],
)
def test_changing_a_logged_param(store_pair, second):
    def scenario(store):
        run_id = new_run(store)
        store.log_param(run_id, Param("p", "old"))
        store.log_batch(run_id, [], [Param("q", "old-q")], [])
        if second == "log_param_same":
            store.log_param(run_id, Param("p", "old"))
        elif second == "log_param_changed":
            store.log_param(run_id, Param("p", "new"))
        elif second == "batch_same":
            store.log_batch(run_id, [], [Param("p", "old"), Param("q", "old-q")], [])
        elif second == "batch_changed":
            store.log_batch(run_id, [], [Param("q", "new-q"), Param("p", "new")], [])
        else:
            store.log_batch(
                run_id, [Metric("m", 1.0, 1, 1)], [Param("r", "1"), Param("p", "new")], []
            )
        return store.get_run(run_id)

    store_pair.same(scenario)


OPERATIONS = {
    "log_metric": lambda s, r: s.log_metric(r, Metric("m", 1.0, 1, 1)),
    "log_param": lambda s, r: s.log_param(r, Param("p", "v")),
    "set_tag": lambda s, r: s.set_tag(r, RunTag("t", "v")),
    "set_run_name_tag": lambda s, r: s.set_tag(r, RunTag("mlflow.runName", "renamed")),
    "delete_tag": lambda s, r: s.delete_tag(r, "keep"),
    "log_batch": lambda s, r: s.log_batch(r, [Metric("m", 2.0, 2, 2)], [Param("p2", "v")], []),
    "log_batch_empty": lambda s, r: s.log_batch(r, [], [], []),
    "update_run_info": lambda s, r: s.update_run_info(r, RunStatus.FINISHED, 5_000, "new"),
    "get_run": lambda s, r: s.get_run(r),
    "get_metric_history": lambda s, r: s.get_metric_history(r, "m"),
    "get_max_step": lambda s, r: s.get_max_step_for_metric(r, "m"),
    "from_steps": lambda s, r: s.get_metric_history_bulk_interval_from_steps(r, "m", [0, 1], 5),
    "interval": lambda s, r: s.get_metric_history_bulk_interval([r], "m", 5, None, None),
}


def _prepared_run(store, state):
    run_id = new_run(store)
    store.log_batch(run_id, [Metric("m", 0.5, 1, 1)], [], [RunTag("keep", "1")])
    if state == "deleted":
        store.delete_run(run_id)
    elif state == "finished":
        store.update_run_info(run_id, RunStatus.FINISHED, 2_000, None)
    elif state == "missing":
        return VALID_ID
    elif state == "bad-format":
        return "not a run id!"
    elif state == "restored":
        store.delete_run(run_id)
        store.restore_run(run_id)
    return run_id


@pytest.mark.parametrize("op", sorted(OPERATIONS))
@pytest.mark.parametrize("state", ["deleted", "finished", "missing", "bad-format", "restored"])
def test_operations_on_run_states(store_pair, op, state):
    def scenario(store):
        run_id = _prepared_run(store, state)
        result = OPERATIONS[op](store, run_id)
        after = store.get_run(run_id) if state not in ("missing", "bad-format") else None
        return result, after

    store_pair.same(scenario)
