"""Logging a drift report to MLflow: metrics per column and for the dataset, tags naming the
model version it concerns, and the HTML/JSON report as artifacts."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile

_UNSAFE = re.compile(r"[^0-9A-Za-z_\-. ]|\.\.")
_MAX_COLUMN_KEY = 160
TAG_PREFIX = "mlflow_oxide.drift."


def column_key(column: str) -> str:
    """The column's part of metric keys: the name itself when MLflow accepts it in a key;
    otherwise the name with refused characters (``/``, ``..``, non-ASCII, ...) replaced by
    ``_``, shortened if needed, plus a hash of the real name so two columns never share a key."""
    safe = _UNSAFE.sub("_", column)
    if safe == column and len(column) <= _MAX_COLUMN_KEY and column.strip() == column:
        return column
    digest = hashlib.sha1(column.encode("utf-8")).hexdigest()[:8]
    return f"{safe.strip()[:_MAX_COLUMN_KEY]}_{digest}"


def metric_key(column: str, name: str) -> str:
    """``drift.<column>.<name>`` (see ``column_key``)."""
    return f"drift.{column_key(column)}.{name}"


def log_drift(
    report,
    *,
    run_id: str | None = None,
    model_name: str | None = None,
    model_version: str | int | None = None,
    artifact_path: str = "drift",
    step: int = 0,
    title: str | None = None,
) -> str:
    """Log ``report`` to ``run_id`` (default: the active run, started if there is none).

    Metrics: ``drift.<column>.<test>`` (the score compared with the threshold: p-value or
    distance), ``drift.<column>.drifted`` (0/1), ``drift.<column>.current_null_share``, and
    ``drift.dataset.drifted_share`` / ``.drifted_columns`` / ``.drift``. When the report
    concerns a registered model version, the run is tagged with its name and version (the
    version must exist) and the version is tagged with this run's id and verdict. Artifacts:
    ``<artifact_path>/drift_report.html`` and ``drift_report.json``. Returns the run id."""
    import mlflow
    from mlflow.entities import Metric, RunTag
    from mlflow.utils.time import get_current_time_millis

    client = mlflow.MlflowClient()
    if (model_name is None) != (model_version is None):
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        raise MlflowException(
            "log_drift needs both model_name and model_version, or neither",
            error_code=INVALID_PARAMETER_VALUE,
        )
    if model_name is not None:
        # Raises RESOURCE_DOES_NOT_EXIST for an unknown model or version.
        client.get_model_version(model_name, str(model_version))
    if run_id is None:
        from mlflow.tracking.fluent import _get_or_start_run

        run_id = _get_or_start_run().info.run_id

    now = get_current_time_millis()
    metrics = []
    for c in report.columns:
        if not c.ok:
            continue
        metrics.append(Metric(metric_key(c.column, c.test), c.score, now, step))
        metrics.append(Metric(metric_key(c.column, "drifted"), float(c.drifted), now, step))
        metrics.append(
            Metric(metric_key(c.column, "current_null_share"), c.current_null_share, now, step)
        )
    summary = report.summary()
    metrics += [
        Metric("drift.dataset.drifted_share", summary["drifted_share"], now, step),
        Metric("drift.dataset.drifted_columns", float(summary["drifted"]), now, step),
        Metric("drift.dataset.drift", float(summary["dataset_drift"]), now, step),
    ]
    tags = [
        RunTag(TAG_PREFIX + "dataset_drift", str(summary["dataset_drift"]).lower()),
        RunTag(TAG_PREFIX + "reference", "profile" if report.reference_is_profile else "table"),
    ]
    if model_name is not None:
        tags += [
            RunTag(TAG_PREFIX + "model_name", model_name),
            RunTag(TAG_PREFIX + "model_version", str(model_version)),
        ]
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
    client.log_batch(run_id, tags=tags)

    from mlflow_oxide.drift._html import render

    context = {"run": run_id}
    if model_name is not None:
        context["model"] = f"{model_name} version {model_version}"
    records = report.to_records()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "drift_report.html"), "w", encoding="utf-8") as f:
            f.write(render(report, title or "Data drift report", context))
        with open(os.path.join(tmp, "drift_report.json"), "w", encoding="utf-8") as f:
            json.dump({"summary": summary, "columns": records}, f, default=str, indent=1)
        client.log_artifacts(run_id, tmp, artifact_path)
    if model_name is not None:
        client.set_model_version_tag(model_name, str(model_version), TAG_PREFIX + "run_id", run_id)
        client.set_model_version_tag(
            model_name,
            str(model_version),
            TAG_PREFIX + "dataset_drift",
            str(summary["dataset_drift"]).lower(),
        )
    return run_id
