"""Many writers, one file: processes, threads, mixed stock/oxide writers, and SIGKILL."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import textwrap
import threading
import time

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from .conftest import (
    PYTHON,
    integrity_check,
    kill_group,
    oxide_uri,
    sql,
    stock_uri,
    subprocess_env,
)

N_STEPS = 60
N_RUNS = 3
BATCH_KEYS = ("b0", "b1", "b2")

WRITER = """
import json, sys
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
uri, exp_id, worker = sys.argv[1:4]
n_runs, n_steps = int(sys.argv[4]), int(sys.argv[5])
c = MlflowClient(tracking_uri=uri)
run_ids = []
for r in range(n_runs):
    rid = c.create_run(exp_id, run_name=f"w{worker}-r{r}").info.run_id
    for step in range(n_steps):
        c.log_metric(rid, "m", float(step), step=step, timestamp=step)
        c.log_batch(rid, metrics=[Metric(k, step * 0.5, step, step) for k in ("b0", "b1", "b2")],
                    params=[Param(f"p{step}", str(step))], tags=[RunTag(f"t{step % 5}", str(step))])
        c.set_tag(rid, "last", str(step))
        c.log_param(rid, f"q{step}", worker)
    c.set_terminated(rid)
    run_ids.append(rid)
print(json.dumps(run_ids))
"""

READER = """
import os, sys, time
from mlflow import MlflowClient
uri, exp_id, stop_file = sys.argv[1:4]
c = MlflowClient(tracking_uri=uri)
deadline = time.monotonic() + 300
n = 0
while not os.path.exists(stop_file) and time.monotonic() < deadline and n < 100000:
    runs = c.search_runs([exp_id], filter_string="metrics.m >= 0", order_by=["metrics.m DESC"])
    for r in runs[:3]:
        c.get_metric_history(r.info.run_id, "m")
        c.get_run(r.info.run_id)
    c.search_experiments()
    n += 1
print(n)
"""


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError(f"process timed out:\n{err}") from None
    assert "database is locked" not in err, err
    assert proc.returncode == 0, err
    return out, err


def _assert_complete(db_path, run_ids: list[str], n_steps: int) -> None:
    """Every write of every writer is in the file (exact row counts, read with sqlite3)."""
    placeholders = ",".join("?" * len(run_ids))
    counts = dict(
        ((run, key), n)
        for run, key, n in sql(
            db_path,
            f"SELECT run_uuid, key, COUNT(*) FROM metrics WHERE run_uuid IN ({placeholders}) "
            "GROUP BY run_uuid, key",
            tuple(run_ids),
        )
    )
    expected = {(rid, key): n_steps for rid in run_ids for key in ("m", *BATCH_KEYS)}
    assert counts == expected
    steps = sql(
        db_path,
        f"SELECT run_uuid, GROUP_CONCAT(step) FROM (SELECT run_uuid, step FROM metrics "
        f"WHERE key = 'm' AND run_uuid IN ({placeholders}) ORDER BY step) GROUP BY run_uuid",
        tuple(run_ids),
    )
    for _, joined in steps:
        assert [int(s) for s in joined.split(",")] == list(range(n_steps))
    for rid in run_ids:
        params = sql(db_path, "SELECT COUNT(*) FROM params WHERE run_uuid = ?", (rid,))[0][0]
        assert params == 2 * n_steps
        tags = dict(sql(db_path, "SELECT key, value FROM tags WHERE run_uuid = ?", (rid,)))
        assert tags["last"] == str(n_steps - 1)
        assert {f"t{i}" for i in range(5)} <= set(tags)
        latest = dict(
            sql(db_path, "SELECT key, step FROM latest_metrics WHERE run_uuid = ?", (rid,))
        )
        assert latest == {k: n_steps - 1 for k in ("m", *BATCH_KEYS)}
        status = sql(db_path, "SELECT status FROM runs WHERE run_uuid = ?", (rid,))[0][0]
        assert status == "FINISHED"


def _run_writers(db_path, tmp_path, writer_uris: list[str], reader_uri: str) -> None:
    setup = MlflowClient(tracking_uri=oxide_uri(db_path))
    exp_id = setup.create_experiment("concurrent")
    stop_file = tmp_path / "stop"
    reader = _spawn(READER, reader_uri, exp_id, str(stop_file))
    writers = [
        _spawn(WRITER, uri, exp_id, str(i), str(N_RUNS), str(N_STEPS))
        for i, uri in enumerate(writer_uris)
    ]
    try:
        run_ids = []
        for w in writers:
            out, _ = _finish(w)
            run_ids += json.loads(out.strip().splitlines()[-1])
        stop_file.touch()
        out, _ = _finish(reader)
        assert int(out.strip().splitlines()[-1]) > 0
    finally:
        for p in [reader, *writers]:
            kill_group(p)
    assert len(run_ids) == len(writer_uris) * N_RUNS
    _assert_complete(db_path, run_ids, N_STEPS)
    stock = MlflowClient(tracking_uri=stock_uri(db_path))
    assert len(stock.search_runs([exp_id], max_results=1000)) == len(run_ids)
    assert integrity_check(db_path) == "ok"


def test_four_oxide_writer_processes_and_a_searcher(db_path, tmp_path):
    uri = oxide_uri(db_path)
    _run_writers(db_path, tmp_path, [uri] * 4, uri)


def test_stock_and_oxide_writers_mixed(db_path, tmp_path):
    _run_writers(
        db_path,
        tmp_path,
        [oxide_uri(db_path), stock_uri(db_path), oxide_uri(db_path), stock_uri(db_path)],
        stock_uri(db_path),
    )


def test_threads_share_one_store(db_path):
    client = MlflowClient(tracking_uri=oxide_uri(db_path))
    exp_id = client.create_experiment("threads")
    n_threads, n_steps = 8, 40
    run_ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            rid = client.create_run(exp_id, run_name=f"t{worker}").info.run_id
            with lock:
                run_ids.append(rid)
            for step in range(n_steps):
                client.log_metric(rid, "m", float(step), step=step, timestamp=step)
                client.log_batch(
                    rid,
                    metrics=[Metric(k, step * 0.5, step, step) for k in BATCH_KEYS],
                    params=[Param(f"p{step}", str(step))],
                    tags=[RunTag(f"t{step % 5}", str(step))],
                )
                client.set_tag(rid, "last", str(step))
                client.log_param(rid, f"q{step}", str(worker))
                if step % 10 == 0:
                    client.search_runs([exp_id], order_by=["metrics.m DESC"])
                    client.get_metric_history(rid, "m")
            client.set_terminated(rid)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(run_ids) == n_threads
    _assert_complete(db_path, run_ids, n_steps)
    assert integrity_check(db_path) == "ok"


CRASHER = """
import sys
from mlflow import MlflowClient
from mlflow.entities import Metric
c = MlflowClient(tracking_uri=sys.argv[1])
exp_id = c.create_experiment("crash")
rid = c.create_run(exp_id).info.run_id
print("RUN", rid, flush=True)
for step in range(1_000_000):
    c.log_metric(rid, "step", float(step), step=step, timestamp=step)
    c.log_batch(rid, metrics=[Metric("twice", 2.0 * step, step, step)])
    print(step, flush=True)
"""


def _read_lines(proc: subprocess.Popen, want: int, timeout: float) -> list[str]:
    lines: list[str] = []
    buf = b""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    # selectors (epoll), not select.select: the latter fails on descriptors >= 1024.
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while len(lines) < want and time.monotonic() < deadline:
            if not selector.select(1.0):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            *complete, buf = buf.split(b"\n")
            lines += [c.decode() for c in complete]
    return lines


@pytest.mark.parametrize("options", [{}, {"synchronous": "full"}], ids=["normal", "full"])
def test_sigkill_loses_no_committed_step(db_path, options):
    proc = subprocess.Popen(
        [PYTHON, "-c", textwrap.dedent(CRASHER), oxide_uri(db_path, **options)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        start_new_session=True,
    )
    try:
        lines = _read_lines(proc, want=300, timeout=180)
        assert len(lines) >= 300, proc.stderr.read().decode() if proc.poll() is not None else ""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        rest, err = proc.communicate(timeout=30)
    finally:
        kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    lines += rest.decode().splitlines()
    assert "database is locked" not in err.decode()
    run_id = next(line.split()[1] for line in lines if line.startswith("RUN "))
    reported = [int(x) for x in lines[1:] if x.strip().isdigit()]
    assert len(reported) >= 299
    assert reported == list(range(len(reported)))

    assert integrity_check(db_path) == "ok"
    stock = MlflowClient(tracking_uri=stock_uri(db_path))
    for key, factor in (("step", 1.0), ("twice", 2.0)):
        history = {m.step: m.value for m in stock.get_metric_history(run_id, key)}
        missing = [s for s in reported if s not in history]
        assert missing == []
        assert all(history[s] == factor * s for s in reported)
