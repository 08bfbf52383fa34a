"""Plain tuples from the Rust core -> MLflow entities (the shapes stock MLflow returns)."""

from __future__ import annotations

import collections
import contextlib
import gc

from mlflow.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from mlflow.entities.metric import MetricWithRunId
from mlflow.utils.mlflow_tags import _get_run_name_from_tags

from mlflow_oxide import _native

# Stands for the experiment id inside the default-artifact-location template that MLflow's
# ``append_to_uri_path`` builds once per store; the core substitutes the real id.
EXPERIMENT_ID_SENTINEL = _native.EXPERIMENT_ID_SENTINEL


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic GC while materialising many entities. Every tuple and entity created
    counts towards a collection, and in a process holding MLflow's import graph each one scans
    a large heap: for a 100k-point metric history that is 4x the cost of the objects
    themselves. Nothing created here is cyclic garbage, so pausing loses nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decline(reason: str) -> Exception:
    return _native.Declined(reason)


def run_info(row) -> RunInfo:
    run_id, name, experiment_id, user_id, status, start, end, stage, artifact_uri = row
    return RunInfo(
        run_id=run_id,
        run_name=name,
        experiment_id=experiment_id,
        user_id=user_id,
        status=status,
        start_time=start,
        end_time=end,
        lifecycle_stage=stage,
        artifact_uri=artifact_uri,
    )


def _run_parts(row):
    info_row, metric_rows, param_rows, tag_rows = row[:4]
    info = run_info(info_row)
    tags = [RunTag(k, v) for k, v in tag_rows]
    data = RunData(
        metrics=[Metric(k, v, t, s) for k, v, t, s in metric_rows],
        params=[Param(k, v) for k, v in param_rows],
        tags=tags,
    )
    if not info.run_name and (name := _get_run_name_from_tags(tags)):
        info._set_run_name(name)
    return info, data


def _model_outputs(row) -> RunOutputs:
    return RunOutputs([LoggedModelOutput(model_id=m, step=step) for m, step in row[6]])


def dataset_inputs(rows, run_ids) -> list[list[DatasetInput]]:
    """Group the core's run-inputs rows per run exactly as MLflow's ``_get_run_inputs``: one
    ``DatasetInput`` per dataset in first-seen order, its tags in row order."""
    per_run: dict[str, dict[str, DatasetInput]] = collections.defaultdict(dict)
    for run_id, dataset_uuid, name, digest, source_type, source, schema, profile, tag in rows:
        inputs = per_run[run_id]
        dataset_input = inputs.get(dataset_uuid)
        if dataset_input is None:
            dataset = Dataset(
                name=name,
                digest=digest,
                source_type=source_type,
                source=source,
                schema=schema,
                profile=profile,
            )
            dataset_input = inputs[dataset_uuid] = DatasetInput(dataset=dataset, tags=[])
        if tag is not None:
            dataset_input.tags.append(InputTag(key=tag[0], value=tag[1]))
    return [list(per_run[run_id].values()) for run_id in run_ids]


def run(row, datasets: list[DatasetInput]) -> Run:
    """``get_run``'s shape: dataset inputs, model inputs and model outputs."""
    info, data = _run_parts(row)
    model_inputs = [LoggedModelInput(m) for m in row[5]]
    inputs = RunInputs(dataset_inputs=datasets, model_inputs=model_inputs)
    return Run(info, data, inputs, _model_outputs(row))


def searched_run(row, datasets: list[DatasetInput]) -> Run:
    """``search_runs``' shape: MLflow's search attaches model outputs but not model inputs."""
    info, data = _run_parts(row)
    return Run(info, data, RunInputs(dataset_inputs=datasets), _model_outputs(row))


def new_run(row) -> Run:
    info, data = _run_parts(row)
    return Run(info, data, RunInputs(dataset_inputs=[]))


def metrics(key: str, rows) -> list[Metric]:
    return [Metric(key, v, t, s) for v, t, s in rows]


def metrics_with_run_ids(key: str, rows) -> list[MetricWithRunId]:
    return [MetricWithRunId(Metric(key, v, t, s), run_id) for run_id, v, t, s in rows]


def experiment(row) -> Experiment:
    exp_id, name, location, stage, created, updated, workspace, tag_rows = row
    return Experiment(
        experiment_id=exp_id,
        name=name,
        artifact_location=location,
        lifecycle_stage=stage,
        tags=[ExperimentTag(k, v) for k, v in tag_rows],
        creation_time=created,
        last_update_time=updated,
        workspace=workspace,
    )
