"""Batch scoring: files in, Parquet predictions out, chunk by chunk, resumable.

``predict(model_uri, source, destination)`` loads the model once with the fast loader, reads
``source`` (Parquet, CSV or Arrow IPC/Feather files, or directories of them) in chunks of
``chunk_rows`` rows, scores each chunk with ``model.predict`` (MLflow's input schema rules),
and writes one Parquet file per chunk into ``destination``: the ``keep_columns``, the
prediction column(s), and the model's name, version and run id.

Reading, scoring and writing overlap: a reader thread decodes the next chunk and a writer
thread encodes the previous one while the model scores (pyarrow releases the GIL), with at most
two chunks queued on each side, so memory stays bounded by a few chunks whatever the input size.

A job is described by ``_oxide_batch.json`` in ``destination`` (model content, source files with
sizes and times, options). Each part file is written under a temporary name and renamed, so a
part file that exists is complete: running the same job again skips the chunks already written,
and a destination holding another job's output is refused unless ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["BatchResult", "predict"]

_MANIFEST = "_oxide_batch.json"
_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
}
_IDENTITY_COLUMNS = ("model_name", "model_version", "run_id")
_DONE = object()


@dataclass(frozen=True)
class BatchResult:
    rows: int
    chunks: int
    skipped_chunks: int
    destination: str
    seconds: float


def _invalid(message: str):
    from mlflow.exceptions import MlflowException

    return MlflowException.invalid_parameter_value(message)


def _source_files(source) -> list[Path]:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

    entries = list(source) if isinstance(source, (list, tuple)) else [source]
    files: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if not path.exists():
            raise MlflowException(f"Batch source '{path}' does not exist.", RESOURCE_DOES_NOT_EXIST)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in _FORMATS
                and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts)
            )
            if not found:
                raise _invalid(
                    f"Batch source directory '{path}' holds no Parquet, CSV or Arrow files."
                )
            files.extend(found)
        elif path.suffix.lower() in _FORMATS:
            files.append(path)
        else:
            raise _invalid(
                f"Batch source '{path}' is not a Parquet, CSV or Arrow file "
                f"(expected one of {sorted(_FORMATS)})."
            )
    return files


def _batches(path: Path, chunk_rows: int):
    """Record batches of one file, in file order."""
    kind = _FORMATS[path.suffix.lower()]
    if kind == "parquet":
        import pyarrow.parquet as pq

        # Batches of exactly chunk_rows rows, so chunks need no concatenation.
        yield from pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
    elif kind == "csv":
        import pyarrow.csv as pacsv

        with pacsv.open_csv(path) as reader:
            yield from reader
    else:
        import pyarrow.ipc as ipc

        with pa.memory_map(str(path)) as mapped:
            try:
                reader = ipc.open_file(mapped)
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
            except pa.ArrowInvalid:
                mapped.seek(0)
                yield from ipc.open_stream(mapped)


def _chunks(path: Path, chunk_rows: int):
    """Tables of exactly ``chunk_rows`` rows (the last one shorter), whatever the file's own
    batch boundaries: chunk numbers must mean the same rows on every run."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in _batches(path, chunk_rows):
        while batch.num_rows:
            take = min(chunk_rows - held, batch.num_rows)
            pending.append(batch.slice(0, take))
            held += take
            batch = batch.slice(take)
            if held == chunk_rows:
                yield pa.Table.from_batches(pending)
                pending, held = [], 0
    if held:
        yield pa.Table.from_batches(pending)


def _total_rows(files: list[Path]) -> int | None:
    import pyarrow.parquet as pq

    total = 0
    for path in files:
        if _FORMATS[path.suffix.lower()] != "parquet":
            return None
        total += pq.ParquetFile(path).metadata.num_rows
    return total


def _prediction_columns(result, rows: int) -> dict[str, Any]:
    if isinstance(result, pd.DataFrame):
        return {str(name): result[name].to_numpy() for name in result.columns}
    if isinstance(result, pd.Series):
        return {"prediction": result.to_numpy()}
    array = np.asarray(result)
    if array.ndim == 2:
        return {f"prediction_{i}": array[:, i] for i in range(array.shape[1])}
    if array.ndim != 1 or len(array) != rows:
        raise _invalid(
            f"The model returned predictions of shape {array.shape} for {rows} input rows; "
            "batch scoring writes one prediction row per input row."
        )
    return {"prediction": array}


def _constant(value: str | None, rows: int) -> pa.Array:
    if value is None:
        return pa.nulls(rows, pa.string())
    return pa.repeat(pa.scalar(value, pa.string()), rows)


def _output_table(chunk: pa.Table, result, keep: list[str], identity: dict) -> pa.Table:
    columns: dict[str, Any] = {name: chunk.column(name) for name in keep}
    for name, values in _prediction_columns(result, chunk.num_rows).items():
        if name in columns or name in _IDENTITY_COLUMNS:
            raise _invalid(f"Prediction column '{name}' collides with an output column.")
        columns[name] = pa.array(values)
    for name in _IDENTITY_COLUMNS:
        columns[name] = _constant(identity[name], chunk.num_rows)
    return pa.table(columns)


def _job(model_uri: str, content_id, files: list[Path], chunk_rows, keep, params) -> dict:
    stats = [(str(p.resolve()), p.stat()) for p in files]
    return {
        "model_uri": str(model_uri),
        "model_content": content_id,
        "source": [{"path": p, "size": s.st_size, "mtime_ns": s.st_mtime_ns} for p, s in stats],
        "chunk_rows": chunk_rows,
        "keep_columns": keep,
        "params": params,
    }


def _prepare_destination(destination: Path, job: dict, overwrite: bool) -> None:
    manifest = destination / _MANIFEST
    destination.mkdir(parents=True, exist_ok=True)
    existing = None
    if manifest.exists():
        try:
            existing = json.loads(manifest.read_text())
        except ValueError:
            existing = {}
    _sweep_temporaries(destination)
    leftovers = [p for p in destination.iterdir() if p.name.startswith("part-")]
    if existing == job:
        return
    if (existing is not None or leftovers) and not overwrite:
        raise _invalid(
            f"Destination '{destination}' holds the output of a different batch job (another "
            "model, source or options); pass overwrite=True to replace it."
        )
    for path in leftovers:
        path.unlink()
    staged = destination / f".{_MANIFEST}.{os.getpid()}.tmp"
    staged.write_text(json.dumps(job, sort_keys=True))
    os.replace(staged, manifest)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_temporaries(destination: Path) -> None:
    """Remove the temporary part files of jobs that died mid-write (``.<part>.<pid>.tmp``);
    a live process's are left alone."""
    for path in destination.glob(".part-*.tmp"):
        pid = path.name.rsplit(".", 2)[-2]
        if not pid.isdigit() or not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _part_name(file_index: int, chunk_index: int) -> str:
    return f"part-{file_index:05d}-{chunk_index:06d}.parquet"


def _write_part(destination: Path, name: str, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    staged = destination / f".{name}.{os.getpid()}.tmp"
    try:
        pq.write_table(table, staged)
        os.replace(staged, destination / name)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


class _Worker(threading.Thread):
    """A daemon thread whose failure is re-raised in the caller."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as e:  # handed to the main thread
            self.error = e


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def predict(
    model_uri: str,
    source,
    destination,
    *,
    chunk_rows: int = 100_000,
    keep_columns: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    params: dict[str, Any] | None = None,
) -> BatchResult:
    """Score ``source`` with the model at ``model_uri`` into Parquet files in ``destination``.

    Args:
        model_uri: any URI ``mlflow_oxide.pyfunc.load_model`` accepts.
        source: a Parquet/CSV/Arrow file, a directory of them (sorted, recursively; names
            starting with ``_`` or ``.`` skipped), or a list of files and directories.
        destination: output directory (created): ``part-<file>-<chunk>.parquet`` files and the
            job manifest ``_oxide_batch.json``.
        chunk_rows: rows per chunk (and per part file).
        keep_columns: input columns copied next to the predictions (e.g. an id).
        overwrite: replace the output of a different job instead of refusing.
        progress: show a progress bar (rows) on stderr.
        params: inference parameters passed to ``predict``.
    """
    from mlflow.exceptions import MlflowException

    from mlflow_oxide.pyfunc import _resolve, load_with_source

    started = time.perf_counter()
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows <= 0:
        raise _invalid(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    keep = list(keep_columns or [])
    files = _source_files(source)
    destination = Path(destination)
    model, model_source, content_id = load_with_source(model_uri)
    identity = {
        "model_name": model_source.name if model_source else None,
        "model_version": str(model_source.version)
        if model_source and model_source.version is not None
        else None,
        "run_id": _resolve.registered_run_id(model_source) if model_source else None,
    }
    job = _job(model_uri, content_id, files, chunk_rows, keep, params)
    _prepare_destination(destination, job, overwrite)
    done = {p.name for p in destination.iterdir() if p.name.startswith("part-")}
    # Only the model's named inputs are converted to pandas (MLflow would drop the others);
    # a model without named inputs gets the whole chunk, as with predict(chunk.to_pandas()).
    schema = model.metadata.get_input_schema()
    inputs = set(schema.input_names()) if schema is not None and schema.has_input_names() else None

    stop = threading.Event()
    inbound: queue.Queue = queue.Queue(maxsize=2)
    outbound: queue.Queue = queue.Queue(maxsize=2)
    counts = {"rows": 0, "chunks": 0, "skipped": 0}

    def read() -> None:
        for file_index, path in enumerate(files):
            for chunk_index, chunk in enumerate(_chunks(path, chunk_rows)):
                name = _part_name(file_index, chunk_index)
                if name in done:
                    item = (name, chunk.num_rows, None, None)
                else:
                    missing = [c for c in keep if c not in chunk.column_names]
                    if missing:
                        raise _invalid(f"keep_columns {missing} are not columns of '{path}'.")
                    features = (
                        chunk.select([c for c in chunk.column_names if c in inputs])
                        if inputs is not None
                        else chunk
                    )
                    item = (name, chunk.num_rows, chunk, features.to_pandas())
                if not _put(inbound, item, stop):
                    return
        _put(inbound, _DONE, stop)

    def write() -> None:
        while True:
            item = outbound.get()
            if item is _DONE:
                return
            name, chunk, result = item
            _write_part(destination, name, _output_table(chunk, result, keep, identity))

    reader, writer = _Worker(read), _Worker(write)
    bar = _progress_bar(progress, _total_rows(files))
    reader.start()
    writer.start()
    try:
        while True:
            try:
                item = inbound.get(timeout=0.1)
            except queue.Empty:
                _raise_failed(reader, writer)
                continue
            if item is _DONE:
                break
            name, rows, chunk, frame = item
            if chunk is None:
                counts["skipped"] += 1
            else:
                try:
                    result = _score(model, frame, params)
                except MlflowException:
                    # MLflow's message shows the data it was given: give it the whole chunk,
                    # as a pandas loop would, so the error is the one that loop raises.
                    _score(model, chunk.to_pandas(), params)
                    raise
                _hand_to(writer, outbound, (name, chunk, result))
            counts["rows"] += rows
            counts["chunks"] += 1
            if bar is not None:
                bar.update(rows)
        _hand_to(writer, outbound, _DONE)
        writer.join()
        _raise_failed(reader, writer)
    except BaseException:
        stop.set()
        # Chunks already scored are still written (at most two), so a re-run skips them.
        if writer.is_alive():
            # A failed writer's own error is secondary to the one being raised.
            with contextlib.suppress(Exception):
                _hand_to(writer, outbound, _DONE)
            writer.join()
        raise
    finally:
        if bar is not None:
            bar.close()
    return BatchResult(
        rows=counts["rows"],
        chunks=counts["chunks"],
        skipped_chunks=counts["skipped"],
        destination=str(destination),
        seconds=time.perf_counter() - started,
    )


def _hand_to(worker: _Worker, q: queue.Queue, item) -> None:
    """Queue ``item`` for ``worker``, re-raising its failure instead of waiting forever."""
    while True:
        _raise_failed(worker)
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            if not worker.is_alive():
                _raise_failed(worker)
                return


def _score(model, frame: pd.DataFrame, params):
    return model.predict(frame, params=params) if params else model.predict(frame)


def _raise_failed(*workers: _Worker) -> None:
    for worker in workers:
        if worker.error is not None:
            raise worker.error


def _progress_bar(wanted: bool, total: int | None):
    if not wanted:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="Scoring", unit="rows", unit_scale=True)
