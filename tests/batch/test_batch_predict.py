"""`mlflow_oxide.batch.predict` against stock MLflow.

Every expected output is stock MLflow on the same rows: ``mlflow.pyfunc.load_model(uri)
.predict(frame)`` on the whole input as pandas reads it, laid out as the job's columns
(``keep_columns``, prediction columns, ``model_name``/``model_version``/``run_id``) and compared
exactly with the concatenated part files. Errors are compared with the exception stock MLflow
raises on the same rows (type, error code and message).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow as pa
import pytest
from mlflow.exceptions import MlflowException

from .conftest import (
    MANIFEST,
    PART_RE,
    REGISTERED_NAME,
    assert_frames_equal,
    error_of,
    make_frame,
    read_output,
    stock_expected,
    write_table,
)


@pytest.fixture
def predict():
    from mlflow_oxide.batch import predict

    return predict


def read_like_pandas(path: Path) -> pd.DataFrame:
    """The file as pandas reads it (the frame stock MLflow is given)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_feather(path)


def part_index(name: str) -> tuple[int, int]:
    m = PART_RE.match(name)
    assert m, name
    return int(m.group(1)), int(m.group(2))


def assert_layout(out, chunk_rows: int, file_rows: list[int]) -> None:
    """Part names: file index 0..n-1 in source order, chunk indices 0..k-1 per file, each part
    at most ``chunk_rows`` rows, every row of every file present; only the manifest besides."""
    assert out.others == [MANIFEST], out.others
    by_file: dict[int, list[int]] = {}
    for name, table in zip(out.parts, out.tables, strict=True):
        f, c = part_index(name)
        by_file.setdefault(f, []).append(c)
        assert 0 < table.num_rows <= chunk_rows, (name, table.num_rows)
    assert sorted(by_file) == list(range(len(file_rows)))
    for f, rows in enumerate(file_rows):
        chunks = by_file[f]
        assert chunks == list(range(len(chunks))), (f, chunks)
        assert len(chunks) >= math.ceil(rows / chunk_rows)
        got_rows = sum(
            t.num_rows for n, t in zip(out.parts, out.tables, strict=True) if part_index(n)[0] == f
        )
        assert got_rows == rows, (f, got_rows, rows)


def assert_meta_types(out) -> None:
    for table in out.tables:
        for name in ("model_name", "model_version", "run_id"):
            t = table.schema.field(name).type
            assert pa.types.is_string(t) or pa.types.is_large_string(t), (name, t)


# --------------------------------------------------------------------------------------------
# Output and parity
# --------------------------------------------------------------------------------------------


def test_registered_model_parquet_matches_stock(models, predict, tmp_path):
    frame = make_frame(2500, seed=10)
    source = write_table(frame, tmp_path / "in" / "data.parquet")
    dest = tmp_path / "out"

    result = predict(
        models.lr_uri, str(source), str(dest), chunk_rows=600, keep_columns=["id"], progress=False
    )

    out = read_output(dest)
    expected = stock_expected(
        models.lr_uri, frame, ["id"], (REGISTERED_NAME, "1", models.lr_run_id)
    )
    assert list(out.frame.columns) == ["id", "prediction", "model_name", "model_version", "run_id"]
    assert_frames_equal(out.frame, expected)
    assert_layout(out, 600, [2500])
    assert_meta_types(out)
    assert result.rows == 2500
    assert result.chunks == len(out.parts)
    assert result.skipped_chunks == 0
    assert Path(result.destination).resolve() == dest.resolve()
    assert isinstance(result.seconds, float) and result.seconds > 0
    json.loads((dest / MANIFEST).read_text())  # the manifest is JSON


@pytest.mark.parametrize("suffix", ["parquet", "parquet-float32", "csv", "feather", "arrow"])
def test_file_formats_match_stock(models, predict, tmp_path, suffix):
    frame = make_frame(1500, seed=11)
    if suffix == "parquet-float32":  # schema enforcement widens float32 to the signature's double
        frame = frame.astype({"f0": "float32", "f2": "float32"})
        suffix = "parquet"
    source = write_table(frame, tmp_path / "in" / f"data.{suffix}")
    dest = tmp_path / "out"

    result = predict(
        models.lr_runs_uri,
        str(source),
        str(dest),
        chunk_rows=400,
        keep_columns=["id", "group"],
        progress=False,
    )

    out = read_output(dest)
    expected = stock_expected(
        models.lr_runs_uri,
        read_like_pandas(source),
        ["id", "group"],
        (None, None, models.lr_run_id),
    )
    assert_frames_equal(out.frame, expected)
    assert_layout(out, 400, [1500])
    assert_meta_types(out)
    assert (result.rows, result.chunks, result.skipped_chunks) == (1500, len(out.parts), 0)


def test_directory_read_in_sorted_order_dataframe_model(models, predict, tmp_path):
    """A directory of Parquet files, created out of order; one file smaller than a chunk. The
    model returns a DataFrame: its columns (``score``, ``label``) become the output's."""
    src = tmp_path / "in"
    frames = {
        "b.parquet": make_frame(900, seed=21, id_start=10_000),
        "a.parquet": make_frame(250, seed=22, id_start=20_000),
        "c.parquet": make_frame(1300, seed=23, id_start=30_000),
    }
    for name, frame in frames.items():
        write_table(frame, src / name)
    order = sorted(frames)
    dest = tmp_path / "out"

    result = predict(models.frame_uri, str(src), str(dest), chunk_rows=400, keep_columns=["id"])

    out = read_output(dest)
    whole = pd.concat([pd.read_parquet(src / n) for n in order], ignore_index=True)
    expected = stock_expected(models.frame_uri, whole, ["id"], (None, None, models.frame_run_id))
    assert list(out.frame.columns) == ["id", "score", "label", *expected.columns[3:]]
    assert_frames_equal(out.frame, expected)
    assert_layout(out, 400, [len(frames[n]) for n in order])
    # part-<i>-* holds the rows of the i-th file in sorted order
    for name, table in zip(out.parts, out.tables, strict=True):
        ids = set(table.column("id").to_pylist())
        assert ids <= set(frames[order[part_index(name)[0]]]["id"]), name
    assert (result.rows, result.chunks, result.skipped_chunks) == (2450, len(out.parts), 0)


def test_list_of_mixed_files_two_dimensional_prediction(models, predict, tmp_path):
    """A list of files (CSV, Feather, Parquet); the model returns a 2-D ndarray
    (``predict_proba``) -> ``prediction_0..k``; a local model path names no model or run."""
    src = tmp_path / "in"
    files = [
        write_table(make_frame(700, seed=31, id_start=0), src / "x.csv"),
        write_table(make_frame(300, seed=32, id_start=5_000), src / "y.feather"),
        write_table(make_frame(520, seed=33, id_start=9_000), src / "z.parquet"),
    ]
    dest = tmp_path / "out"

    result = predict(
        models.proba_path,
        [str(f) for f in files],
        str(dest),
        chunk_rows=256,
        keep_columns=["id"],
        progress=False,
    )

    out = read_output(dest)
    whole = pd.concat([read_like_pandas(f) for f in files], ignore_index=True)
    expected = stock_expected(models.proba_path, whole, ["id"], (None, None, None))
    assert list(expected.columns[1:4]) == ["prediction_0", "prediction_1", "prediction_2"]
    assert_frames_equal(out.frame, expected)
    assert_layout(out, 256, [700, 300, 520])
    assert_meta_types(out)
    assert (result.rows, result.chunks, result.skipped_chunks) == (1520, len(out.parts), 0)


@pytest.mark.parametrize("kind", ["version", "alias", "runs", "local"])
def test_model_metadata_columns(models, predict, tmp_path, kind):
    """model_name / model_version / run_id from the URI: a registered model (by version or by
    alias) names all three, ``runs:/`` only the run, a local path none."""
    uri, meta = {
        "version": (models.lr_uri, (REGISTERED_NAME, "1", models.lr_run_id)),
        "alias": (models.lr_alias_uri, (REGISTERED_NAME, "1", models.lr_run_id)),
        "runs": (models.lr_runs_uri, (None, None, models.lr_run_id)),
        "local": (models.proba_path, (None, None, None)),
    }[kind]
    frame = make_frame(300, seed=41)
    source = write_table(frame, tmp_path / "data.parquet")
    dest = tmp_path / "out"

    predict(uri, str(source), str(dest), progress=False)

    out = read_output(dest)
    expected = stock_expected(uri, frame, None, meta)
    assert_frames_equal(out.frame, expected)
    assert_meta_types(out)
    assert out.parts == ["part-00000-000000.parquet"]  # default chunk_rows covers 300 rows


@pytest.mark.parametrize("keep_columns", [None, ["id"]], ids=["no-keep", "keep-id"])
def test_model_without_signature_sees_the_whole_chunk(models, predict, tmp_path, keep_columns):
    """A model without a signature is given the chunk as stock MLflow would be given it: every
    column of the input (kept columns included). Its prediction sums the numeric columns it
    receives, so a column held back changes the result."""
    frame = make_frame(900, seed=43)
    source = write_table(frame, tmp_path / "data.parquet")
    dest = tmp_path / "out"

    predict(
        models.rowsum_path,
        str(source),
        str(dest),
        chunk_rows=400,
        keep_columns=keep_columns,
        progress=False,
    )

    out = read_output(dest)
    expected = stock_expected(models.rowsum_path, frame, keep_columns, (None, None, None))
    assert_frames_equal(out.frame, expected)


# --------------------------------------------------------------------------------------------
# Resuming, and destinations holding another job
# --------------------------------------------------------------------------------------------


def test_rerun_skips_every_existing_chunk(models, predict, tmp_path):
    frame = make_frame(1200, seed=51)
    source = write_table(frame, tmp_path / "in" / "data.parquet")
    dest = tmp_path / "out"
    first = predict(models.lr_uri, str(source), str(dest), chunk_rows=250, keep_columns=["id"])
    before = read_output(dest)
    stamps = {n: os.stat(dest / n).st_mtime_ns for n in before.parts}

    again = predict(models.lr_uri, str(source), str(dest), chunk_rows=250, keep_columns=["id"])

    after = read_output(dest)
    assert first.skipped_chunks == 0
    assert again.chunks == first.chunks == len(before.parts)
    assert again.skipped_chunks == len(before.parts)
    assert {n: os.stat(dest / n).st_mtime_ns for n in after.parts} == stamps  # not rewritten
    assert_frames_equal(after.frame, before.frame)
    assert after.others == [MANIFEST]


_JOB = """
import sys

from mlflow_oxide.batch import predict

model_uri, source, destination, chunk_rows = sys.argv[1:5]
predict(model_uri, source, destination, chunk_rows=int(chunk_rows), keep_columns=["id", "group"],
        progress=False)
"""


def _listing(dest: Path) -> tuple[int, list[str]]:
    """(number of part files, other entries but the manifest)."""
    try:
        names = os.listdir(dest)
    except FileNotFoundError:
        return 0, []
    parts = sum(1 for n in names if PART_RE.match(n))
    return parts, [n for n in names if not PART_RE.match(n) and n != MANIFEST]


def test_resume_after_sigkill(models, predict, tmp_path):
    """A job killed twice (SIGKILL, in a child interpreter) part way: each part file present is
    complete; a re-run skips them, writes the rest, leaves no temporary file (also none a killed
    writer left behind), and the output equals an uninterrupted run's and stock MLflow's row for
    row. A fast model and large chunks keep the job busy writing, and the kill is sent as soon as
    something besides part files and the manifest shows up in the destination (a part being
    written), so it lands mid-write whenever temporary files live in the destination."""
    chunk_rows = 8_000
    keep = ["id", "group"]
    frame = make_frame(400_000, seed=61)  # 50 chunks
    source = write_table(frame, tmp_path / "in" / "data.parquet")
    reference_dest = tmp_path / "reference"
    reference = predict(
        models.lr_uri, str(source), str(reference_dest), chunk_rows=chunk_rows, keep_columns=keep
    )
    ref = read_output(reference_dest)
    ref_tables = dict(zip(ref.parts, ref.tables, strict=True))
    total = len(ref.parts)
    assert reference.chunks == total >= 50

    dest = tmp_path / "out"
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(_JOB))
    env = {**os.environ, "MLFLOW_TRACKING_URI": models.tracking_uri}
    cmd = [sys.executable, str(script), models.lr_uri, str(source), str(dest), str(chunk_rows)]
    present = 0
    left_by_kills = []
    for attempt in range(2):
        target = present + 3
        log = tmp_path / f"job{attempt}.log"
        with open(log, "wb") as sink:
            proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            parts, others = _listing(dest)
            if parts >= target and (others or parts >= target + 5):
                break
            time.sleep(0.001)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, log.read_text()[-3000:]
        killed = read_output(dest)
        assert target <= len(killed.parts) < total, (attempt, len(killed.parts))
        for name, table in zip(killed.parts, killed.tables, strict=True):
            assert table.equals(ref_tables[name]), name  # complete, never a partial file
        present = len(killed.parts)
        left_by_kills = sorted({*left_by_kills, *(n for n in killed.others if n != MANIFEST)})

    resumed = predict(
        models.lr_uri, str(source), str(dest), chunk_rows=chunk_rows, keep_columns=keep
    )

    out = read_output(dest)
    assert resumed.skipped_chunks == present > 0
    assert resumed.chunks == total
    assert out.parts == ref.parts
    # no temporary files left, including those of the killed runs
    assert out.others == [MANIFEST], (out.others, "left by the kills:", left_by_kills)
    assert_frames_equal(out.frame, ref.frame)
    expected = stock_expected(models.lr_uri, frame, keep, (REGISTERED_NAME, "1", models.lr_run_id))
    assert_frames_equal(out.frame, expected)


def test_ctrl_c_stops_cleanly_and_resumes(models, predict, tmp_path):
    """Ctrl-C (SIGINT) in a running job: the child exits with KeyboardInterrupt, not a hang;
    every part file it left is complete and no temporary file remains (the scored chunks still
    queued are written, the one being written is finished or removed); a re-run skips what was
    written and the output equals an uninterrupted run's."""
    chunk_rows = 8_000
    keep = ["id", "group"]
    frame = make_frame(400_000, seed=67)  # 50 chunks
    source = write_table(frame, tmp_path / "in" / "data.parquet")
    reference_dest = tmp_path / "reference"
    predict(
        models.lr_uri, str(source), str(reference_dest), chunk_rows=chunk_rows, keep_columns=keep
    )
    ref = read_output(reference_dest)
    ref_tables = dict(zip(ref.parts, ref.tables, strict=True))

    dest = tmp_path / "out"
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(_JOB))
    env = {**os.environ, "MLFLOW_TRACKING_URI": models.tracking_uri}
    cmd = [sys.executable, str(script), models.lr_uri, str(source), str(dest), str(chunk_rows)]
    log = tmp_path / "job.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and _listing(dest)[0] < 3:
        time.sleep(0.005)
    assert proc.poll() is None, "the job ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the job did not stop on Ctrl-C")
    output = log.read_text()
    assert proc.returncode != 0 and "KeyboardInterrupt" in output, output[-3000:]
    stopped = read_output(dest)
    assert 3 <= len(stopped.parts) < len(ref.parts)
    assert stopped.others == [MANIFEST], stopped.others
    for name, table in zip(stopped.parts, stopped.tables, strict=True):
        assert table.equals(ref_tables[name]), name

    resumed = predict(
        models.lr_uri, str(source), str(dest), chunk_rows=chunk_rows, keep_columns=keep
    )
    assert resumed.skipped_chunks == len(stopped.parts)
    out = read_output(dest)
    assert out.parts == ref.parts
    assert out.others == [MANIFEST]
    assert_frames_equal(out.frame, ref.frame)


def _snapshot(dest: Path) -> dict[str, bytes]:
    return {n: (dest / n).read_bytes() for n in sorted(os.listdir(dest))}


@pytest.mark.parametrize("change", ["model", "source", "chunk_rows", "keep_columns"])
def test_destination_of_another_job(models, predict, tmp_path, change):
    """A destination holding another job's output is refused (INVALID_PARAMETER_VALUE, nothing
    touched) unless ``overwrite=True``, which leaves exactly the new job's output."""
    frame_a = make_frame(1000, seed=71)
    frame_b = make_frame(1000, seed=72, id_start=50_000)
    source_a = write_table(frame_a, tmp_path / "in" / "a.parquet")
    source_b = write_table(frame_b, tmp_path / "in" / "b.parquet")
    dest = tmp_path / "out"
    job = {"model": models.lr_uri, "source": source_a, "chunk_rows": 300, "keep_columns": ["id"]}
    predict(
        job["model"],
        str(job["source"]),
        str(dest),
        chunk_rows=job["chunk_rows"],
        keep_columns=job["keep_columns"],
    )
    first = _snapshot(dest)

    job[change] = {
        "model": models.frame_uri,
        "source": source_b,
        "chunk_rows": 700,
        "keep_columns": ["id", "group"],
    }[change]

    def run(**kw):
        return predict(
            job["model"],
            str(job["source"]),
            str(dest),
            chunk_rows=job["chunk_rows"],
            keep_columns=job["keep_columns"],
            progress=False,
            **kw,
        )

    with pytest.raises(MlflowException) as info:
        run()
    assert info.value.error_code == "INVALID_PARAMETER_VALUE", error_of(info.value)
    assert _snapshot(dest) == first

    result = run(overwrite=True)

    out = read_output(dest)
    run_id = models.frame_run_id if change == "model" else models.lr_run_id
    meta = (None, None, run_id) if change == "model" else (REGISTERED_NAME, "1", run_id)
    source_frame = pd.read_parquet(job["source"])
    expected = stock_expected(job["model"], source_frame, job["keep_columns"], meta)
    assert_frames_equal(out.frame, expected)
    assert_layout(out, job["chunk_rows"], [1000])
    assert result.skipped_chunks == 0
    assert result.chunks == len(out.parts)
    # and the overwritten destination now resumes as the new job
    assert run().skipped_chunks == len(out.parts)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["path", "directory", "in-list"])
def test_missing_source(models, predict, tmp_path, where):
    good = write_table(make_frame(50, seed=81), tmp_path / "good.parquet")
    missing = tmp_path / "nowhere" / ("data.parquet" if where != "directory" else "folder")
    source = [str(good), str(missing)] if where == "in-list" else str(missing)

    with pytest.raises(MlflowException) as info:
        predict(models.lr_uri, source, str(tmp_path / "out"), progress=False)

    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST", error_of(info.value)
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("name", ["data.json", "data.txt", "data.xlsx"])
def test_unsupported_extension(models, predict, tmp_path, name):
    source = tmp_path / name
    source.write_text('{"f0": 1.5}\n')

    with pytest.raises(MlflowException) as info:
        predict(models.lr_uri, str(source), str(tmp_path / "out"), progress=False)

    assert info.value.error_code == "INVALID_PARAMETER_VALUE", error_of(info.value)


@pytest.mark.parametrize("chunk_rows", [0, -5, True, 2.5, "100"])
def test_bad_chunk_rows(models, predict, tmp_path, chunk_rows):
    source = write_table(make_frame(50, seed=83), tmp_path / "in.parquet")
    dest = tmp_path / "out"

    with pytest.raises(MlflowException) as info:
        predict(models.lr_uri, str(source), str(dest), chunk_rows=chunk_rows, progress=False)

    assert info.value.error_code == "INVALID_PARAMETER_VALUE", error_of(info.value)
    assert "chunk_rows" in str(info.value)
    assert not dest.exists()


def test_unknown_keep_column_keeps_earlier_output(models, predict, tmp_path):
    """A keep column missing from the source: INVALID_PARAMETER_VALUE naming it and the file;
    a finished job already in the destination is left as it was."""
    source = write_table(make_frame(50, seed=84), tmp_path / "in.parquet")
    dest = tmp_path / "out"
    predict(models.lr_uri, str(source), str(dest), keep_columns=["id"], progress=False)
    before = _snapshot(dest)

    with pytest.raises(MlflowException) as info:
        predict(
            models.lr_uri,
            str(source),
            str(tmp_path / "other"),
            keep_columns=["id", "nope"],
            progress=False,
        )

    assert info.value.error_code == "INVALID_PARAMETER_VALUE", error_of(info.value)
    assert "nope" in str(info.value) and str(source) in str(info.value)
    assert _snapshot(dest) == before


@pytest.mark.parametrize("defect", ["int-column", "string-column", "missing-column"])
def test_schema_enforcement_failure_matches_stock(models, predict, tmp_path, defect):
    """The second file's (single) chunk fails the signature: the job raises the exception stock
    MLflow raises on those rows; the first file's chunks stay, nothing is written for the bad
    chunk."""
    src = tmp_path / "in"
    good = make_frame(700, seed=91)
    bad = make_frame(200, seed=92, id_start=1_000)
    if defect == "int-column":
        bad["f1"] = bad["id"]  # int64 where the signature has double
    elif defect == "string-column":
        bad["f0"] = bad["group"]
    else:
        bad = bad.drop(columns=["f3"])
    write_table(good, src / "a.parquet")
    write_table(bad, src / "b.parquet")
    dest = tmp_path / "out"
    with pytest.raises(MlflowException) as stock:
        mlflow.pyfunc.load_model(models.lr_uri).predict(pd.read_parquet(src / "b.parquet"))

    with pytest.raises(MlflowException) as ours:
        predict(models.lr_uri, str(src), str(dest), chunk_rows=300, keep_columns=["id"])

    got, expected_error = error_of(ours.value), error_of(stock.value)
    assert (got["type"], got["code"]) == (expected_error["type"], expected_error["code"])
    assert got["message"] == expected_error["message"]
    out = read_output(dest)
    assert out.others == [MANIFEST], out.others
    assert [part_index(n)[0] for n in out.parts] == [0, 0, 0]
    expected = stock_expected(models.lr_uri, good, ["id"], (REGISTERED_NAME, "1", models.lr_run_id))
    assert_frames_equal(out.frame, expected)


# --------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_on_stderr(models, predict, tmp_path, capfd, progress):
    # a local model path: loading it draws no download bar of MLflow's own
    source = write_table(make_frame(900, seed=95), tmp_path / "data.parquet")
    capfd.readouterr()

    predict(
        models.proba_path, str(source), str(tmp_path / "out"), chunk_rows=300, progress=progress
    )

    err = capfd.readouterr().err
    if progress:
        assert "100%" in err, err
    else:
        assert "100%" not in err and "%|" not in err, err


def test_default_arguments(models, predict, tmp_path):
    """Defaults: a small file is one chunk, no kept columns, progress on."""
    frame = make_frame(120, seed=97)
    source = write_table(frame, tmp_path / "data.parquet")
    dest = tmp_path / "out"

    result = predict(models.lr_uri, str(source), str(dest))

    out = read_output(dest)
    expected = stock_expected(models.lr_uri, frame, None, (REGISTERED_NAME, "1", models.lr_run_id))
    assert_frames_equal(out.frame, expected)
    assert out.parts == ["part-00000-000000.parquet"]
    assert (result.rows, result.chunks, result.skipped_chunks) == (120, 1, 0)
