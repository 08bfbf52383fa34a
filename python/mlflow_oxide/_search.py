"""MLflow's search grammar -> a small plan the Rust core turns into SQL.

Parsing stays MLflow's own (``SearchUtils`` / ``SearchExperimentsUtils``), so the accepted
grammar and every parse error are exactly stock's. The translation below mirrors the decision
tree of stock ``_get_sqlalchemy_filter_clauses`` / ``_get_orderby_clauses`` and calls the same
``is_*`` checks in the same order, so invalid comparators raise the same errors. Plans are
cached per (filter, order_by): the UI repeats the same search on every refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mlflow.store.tracking.dbmodels.models import SqlRun
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils

from mlflow_oxide._entities import decline


@dataclass(frozen=True)
class Plan:
    # (kind, key, comparator, value); kind in attr|run_name|metric|param|tag|dataset
    filters: list
    # (kind, key, ascending); kind in attr|metric|param|tag
    order_by: list


def runs_plan(filter_string: str | None, order_by) -> Plan:
    return _runs_plan(filter_string or "", tuple(order_by or ()))


@lru_cache(maxsize=512)
def _runs_plan(filter_string: str, order_by: tuple) -> Plan:
    filters = []
    for clause in SearchUtils.parse_search_filter(filter_string):
        key_type = clause.get("type")
        key = SearchUtils.translate_key_alias(clause.get("key"))
        value = clause.get("value")
        comparator = clause.get("comparator").upper()
        if comparator == "RLIKE":
            raise decline("RLIKE uses Python's re semantics")
        if SearchUtils.is_string_attribute(
            key_type, key, comparator
        ) or SearchUtils.is_numeric_attribute(key_type, key, comparator):
            if key == "run_name":
                filters.append(("run_name", "mlflow.runName", comparator, _plain(value)))
            else:
                filters.append(("attr", SqlRun.get_attribute_name(key), comparator, _plain(value)))
            continue
        if SearchUtils.is_metric(key_type, comparator):
            kind = "metric"
            if comparator not in ("IS NULL", "IS NOT NULL"):
                value = float(value)
        elif SearchUtils.is_param(key_type, comparator):
            kind = "param"
        elif SearchUtils.is_tag(key_type, comparator):
            kind = "tag"
        elif SearchUtils.is_dataset(key_type, comparator):
            kind = "dataset"
        else:
            raise decline(f"search expression type {key_type!r}")
        filters.append((kind, key, comparator, _plain(value)))

    orders = []
    seen = set()
    for clause in order_by:
        key_type, key, ascending = SearchUtils.parse_order_by_for_search_runs(clause)
        key = SearchUtils.translate_key_alias(key)
        if SearchUtils.is_string_attribute(key_type, key, "=") or SearchUtils.is_numeric_attribute(
            key_type, key, "="
        ):
            orders.append(("attr", SqlRun.get_attribute_name(key), bool(ascending)))
        elif SearchUtils.is_metric(key_type, "="):
            orders.append(("metric", key, bool(ascending)))
        elif SearchUtils.is_tag(key_type, "="):
            orders.append(("tag", key, bool(ascending)))
        elif SearchUtils.is_param(key_type, "="):
            orders.append(("param", key, bool(ascending)))
        else:
            raise decline(f"order_by identifier type {key_type!r}")
        if (key_type, key) in seen:
            raise decline("duplicate order_by fields")
        seen.add((key_type, key))
    return Plan(filters, orders)


def experiments_plan(filter_string: str | None, order_by) -> Plan:
    return _experiments_plan(filter_string or "", tuple(order_by or ()))


@lru_cache(maxsize=512)
def _experiments_plan(filter_string: str, order_by: tuple) -> Plan:
    filters = []
    for clause in SearchExperimentsUtils.parse_search_filter(filter_string):
        type_, key, comparator, value = (
            clause["type"],
            clause["key"],
            clause["comparator"],
            clause["value"],
        )
        if type_ == "attribute":
            if key == "experiment_id":
                if comparator not in ("=", "!=", "IN", "NOT IN"):
                    raise decline("experiment_id comparator")
                try:
                    value = (
                        [int(v) for v in value] if isinstance(value, (tuple, list)) else int(value)
                    )
                except (TypeError, ValueError):
                    raise decline("non-integer experiment_id") from None
            elif SearchExperimentsUtils.is_numeric_attribute(type_, key, comparator):
                if comparator not in ("=", "!=", "<", "<=", ">", ">=") or isinstance(value, float):
                    raise decline("numeric attribute comparator/value")
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise decline("numeric attribute value") from None
            elif SearchExperimentsUtils.is_string_attribute(type_, key, comparator):
                if comparator not in ("=", "!=", "LIKE", "ILIKE"):
                    raise decline("string attribute comparator")
            else:
                raise decline(f"attribute {key!r}")
            filters.append(("attr", key, comparator, _plain(value)))
        elif type_ == "tag":
            if comparator not in ("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"):
                raise decline("tag comparator")
            filters.append(("tag", key, comparator, _plain(value)))
        else:
            raise decline(f"token type {type_!r}")

    orders = []
    for clause in order_by or ("creation_time DESC", "experiment_id ASC"):
        type_, key, ascending = SearchExperimentsUtils.parse_order_by_for_search_experiments(clause)
        if type_ != "attribute":
            raise decline(f"order_by entity {type_!r}")
        orders.append(("attr", key, bool(ascending)))
    if not any(key == "experiment_id" for _, key, _ in orders):
        orders.append(("attr", "experiment_id", False))
    return Plan(filters, orders)


def _plain(value):
    """Lists/tuples -> list of str-or-int, everything else unchanged (the core's value types)."""
    if isinstance(value, (tuple, list, set, frozenset)):
        return list(value)
    return value
