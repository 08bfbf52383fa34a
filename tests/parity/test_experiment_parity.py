"""Experiments through the oxide store vs MLflow's own SqlAlchemyStore."""

from __future__ import annotations

import itertools
import random

import pytest
import sqlalchemy
from mlflow.entities import ExperimentTag, ViewType
from mlflow.store.tracking import sqlalchemy_store

TEAMS = ["a", "b", "A", "ab", "", None]


def pin_times(store):
    """Clock-derived columns -> values that depend only on the id (with deliberate ties)."""
    with store.engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "UPDATE experiments SET creation_time = 1000 + (experiment_id % 5) * 10, "
                "last_update_time = 5000 - experiment_id * 3"
            )
        )


def build_experiments(store, n=25, seed=5):
    rng = random.Random(seed)
    ids = []
    for i in range(n):
        tags = []
        team = rng.choice(TEAMS)
        if team is not None:
            tags.append(ExperimentTag("team", team))
        if rng.random() < 0.5:
            tags.append(ExperimentTag("prio", str(rng.randrange(3))))
        name = f"exp-{i}" if i % 4 else f"Exp_{i}%"
        ids.append(store.create_experiment(name, tags=tags))
    for exp_id in rng.sample(ids, n // 5):
        store.delete_experiment(exp_id)
    pin_times(store)
    return ids


def test_create_and_get_experiments(store_pair):
    def scenario(store):
        ids = build_experiments(store, n=8)
        return [
            ids,
            [store.get_experiment(i) for i in ["0", *ids]],
            [store.get_experiment_by_name(n) for n in ["Default", "exp-1", "Exp_0%", "nope", ""]],
            store.get_experiment(0),
        ]

    store_pair.same(scenario, fast=True)


def test_new_experiment_times_are_set_like_stock(store_pair):
    def scenario(store):
        exp = store.get_experiment(store.create_experiment("fresh"))
        return exp.creation_time == exp.last_update_time and exp.creation_time > 0

    assert store_pair.same(scenario) is True


@pytest.mark.parametrize(
    "name", ["", None, 123, "x" * 500, "x" * 501, "dup", "Default", " spaced ", "ünï/cödé"]
)
def test_create_experiment_names(store_pair, monkeypatch, name):
    # Duplicate-name errors embed stock's INSERT parameters, including the creation time.
    monkeypatch.setattr(sqlalchemy_store, "get_current_time_millis", lambda: 42)

    def scenario(store):
        store.create_experiment("dup")
        exp_id = store.create_experiment(name)
        pin_times(store)
        return store.get_experiment(exp_id)

    store_pair.same(scenario)


@pytest.mark.parametrize(
    "tags",
    [
        [ExperimentTag("k", "v"), ExperimentTag("k2", "")],
        [ExperimentTag("k" * 250, "v")],
        [ExperimentTag("k" * 251, "v")],
        [ExperimentTag("k", "v" * 20000)],
        [ExperimentTag("k", "v" * 20001)],
        [ExperimentTag("../bad", "v")],
        [ExperimentTag("k", "1"), ExperimentTag("k", "2")],
    ],
)
def test_create_experiment_tags(store_pair, tags):
    def scenario(store):
        exp_id = store.create_experiment("tagged", tags=tags)
        pin_times(store)
        return store.get_experiment(exp_id)

    store_pair.same(scenario)


@pytest.mark.parametrize("experiment_id", ["999", "abc", "", None, "-1", "1.5", 1, " 1"])
def test_get_experiment_ids(store_pair, experiment_id):
    def scenario(store):
        store.create_experiment("one")
        pin_times(store)
        return store.get_experiment(experiment_id)

    store_pair.same(scenario)


def test_get_experiment_by_name_deleted_and_renamed(store_pair):
    def scenario(store):
        a = store.create_experiment("a")
        b = store.create_experiment("b")
        store.delete_experiment(a)
        store.rename_experiment(b, "b2")
        pin_times(store)
        return [store.get_experiment_by_name(n) for n in ("a", "b", "b2")]

    store_pair.same(scenario, fast=True)


FILTERS = [
    None,
    "name LIKE 'exp-1%'",
    "name LIKE 'EXP-1%'",
    "name ILIKE 'EXP-1%'",
    "name = 'exp-3'",
    "name != 'exp-3'",
    "attributes.name LIKE '%\\_%'",
    "tags.team = 'a'",
    "tags.team != 'a'",
    "tags.team LIKE 'a%'",
    "tags.team ILIKE 'A%'",
    "tags.team = ''",
    "tags.team IS NULL",
    "tags.team IS NOT NULL",
    "tags.`prio` = '1'",
    "creation_time > 1010",
    "creation_time <= 1020",
    "creation_time = 1030",
    "creation_time != 1000",
    "last_update_time < 4980",
    "experiment_id IN ('1', '3', '5', '0')",
    "experiment_id NOT IN ('1', '3')",
    "experiment_id = '2'",
    "experiment_id != '2'",
    "name LIKE 'exp%' AND tags.team = 'b' AND creation_time >= 1000",
    "tags.team IS NOT NULL AND tags.prio = '2'",
]
ORDER_BYS = [
    None,
    ["name"],
    ["name DESC"],
    ["creation_time ASC"],
    ["creation_time"],
    ["last_update_time DESC", "name"],
    ["experiment_id DESC"],
    ["creation_time DESC", "experiment_id ASC"],
]
VIEWS = [ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL]


def _walk(store, view, page_size, filter_string, order_by):
    pages, token = [], None
    while True:
        page = store.search_experiments(view, page_size, filter_string, order_by, token)
        pages.append(page)
        token = page.token
        if not token:
            return pages


@pytest.mark.parametrize("filter_string", FILTERS)
def test_search_experiments_filters(store_pair, filter_string):
    def scenario(store):
        build_experiments(store)
        combos = [*itertools.product(VIEWS, ORDER_BYS, [7, 1000]), (ViewType.ALL, None, 1)]
        return {
            (view, str(order_by), page_size): _walk(store, view, page_size, filter_string, order_by)
            for view, order_by, page_size in combos
        }

    result = store_pair.same(scenario, fast=True)
    if filter_string is None:
        assert len(result[(ViewType.ALL, "None", 1000)][0]["items"]) == 26


@pytest.mark.parametrize(
    ("filter_string", "order_by", "max_results"),
    [
        ("name RLIKE 'x'", None, 10),
        ("foo = 'x'", None, 10),
        ("tags.team > 'a'", None, 10),
        ("creation_time LIKE '1%'", None, 10),
        ("creation_time > 1.5", None, 10),
        ("creation_time > 'abc'", None, 10),
        ("experiment_id > '1'", None, 10),
        ("experiment_id = 'abc'", None, 10),
        ("name = exp", None, 10),
        ("name = 'a' OR name = 'b'", None, 10),
        ("metrics.x > 1", None, 10),
        (None, ["tags.team"], 10),
        (None, ["bogus"], 10),
        (None, ["name SIDEWAYS"], 10),
        (None, None, 0),
        (None, None, None),
        (None, None, 50001),
    ],
)
def test_search_experiments_errors(store_pair, filter_string, order_by, max_results):
    def scenario(store):
        build_experiments(store, n=3)
        return store.search_experiments(ViewType.ALL, max_results, filter_string, order_by)

    store_pair.same_error(scenario)


def test_search_experiments_bad_page_token(store_pair):
    def scenario(store):
        return store.search_experiments(page_token="not-a-token")

    store_pair.same_error(scenario)
