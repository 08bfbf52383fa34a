"""A real ``mlflow server`` (2 workers) on ``oxide+sqlite``, a concurrent local writer, REST
checks, and the web UI in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from .conftest import PYTHON, integrity_check, kill_group, oxide_uri, stock_uri, subprocess_env

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
N_STEPS = 400

LOCAL_WRITER = """
import json, sys
from mlflow import MlflowClient
from mlflow.entities import Metric
uri, exp_id, n_steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = MlflowClient(tracking_uri=uri)
rid = c.create_run(exp_id, run_name="local-writer-run").info.run_id
for step in range(n_steps):
    c.log_metric(rid, "local_loss", 1.0 / (step + 1), step=step, timestamp=step)
    if step % 50 == 0:
        c.log_batch(rid, metrics=[Metric("local_acc", step / n_steps, step, step)])
c.log_param(rid, "writer", "local")
c.set_terminated(rid)
print(json.dumps(rid))
"""


def _log_over_rest(client: MlflowClient, exp_id: str) -> list[str]:
    run_ids = []
    for i in range(2):
        rid = client.create_run(exp_id, run_name=f"rest-run-{i}").info.run_id
        for start in range(0, N_STEPS, 100):
            client.log_batch(
                rid,
                metrics=[
                    Metric("train_loss", 1.0 / (s + 1) + i, 1000 + s, s)
                    for s in range(start, start + 100)
                ],
                params=[Param(f"p{start}", str(start))],
                tags=[RunTag("chunk", str(start))],
            )
        for s in range(50):
            client.log_metric(rid, "val_loss", 2.0 / (s + 1), step=s, timestamp=5000 + s)
        client.log_param(rid, "lr", "0.01")
        client.set_terminated(rid)
        run_ids.append(rid)
    return run_ids


def test_server_rest_with_concurrent_local_writer(db_path, tmp_path, free_port, mlflow_server):
    server = mlflow_server(oxide_uri(db_path), free_port, workers=2)
    rest = MlflowClient(tracking_uri=server.url)
    exp_id = rest.create_experiment("served")

    local = subprocess.Popen(
        [PYTHON, "-c", textwrap.dedent(LOCAL_WRITER), oxide_uri(db_path), exp_id, str(N_STEPS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        start_new_session=True,
    )
    try:
        rest_runs = _log_over_rest(rest, exp_id)
        out, err = local.communicate(timeout=300)
    finally:
        kill_group(local)
    assert local.returncode == 0, err
    assert "database is locked" not in err
    local_run = json.loads(out.strip().splitlines()[-1])

    runs = rest.search_runs([exp_id], order_by=["attributes.run_name"], max_results=100)
    assert [r.info.run_name for r in runs] == ["local-writer-run", "rest-run-0", "rest-run-1"]
    for i, rid in enumerate(rest_runs):
        run = rest.get_run(rid)
        assert run.info.status == "FINISHED"
        assert run.data.params["lr"] == "0.01"
        assert run.data.tags["chunk"] == str(N_STEPS - 100)
        assert run.data.metrics["train_loss"] == pytest.approx(1.0 / N_STEPS + i)
        history = rest.get_metric_history(rid, "train_loss")
        assert sorted(m.step for m in history) == list(range(N_STEPS))
        assert len(rest.get_metric_history(rid, "val_loss")) == 50
    local_history = rest.get_metric_history(local_run, "local_loss")
    assert sorted(m.step for m in local_history) == list(range(N_STEPS))
    assert rest.get_run(local_run).data.params == {"writer": "local"}
    filtered = rest.search_runs([exp_id], filter_string="params.lr = '0.01'")
    assert sorted(r.info.run_id for r in filtered) == sorted(rest_runs)

    # Stock MLflow sees the same file contents.
    stock = MlflowClient(tracking_uri=stock_uri(db_path))
    assert len(stock.get_metric_history(rest_runs[0], "train_loss")) == N_STEPS
    assert "database is locked" not in server.log()
    assert "Traceback" not in server.log(), server.log()
    assert integrity_check(db_path) == "ok"


def _chrome(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1000",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=options)


def _wait_for_text(driver, text: str, timeout: float = 60) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.5).until(
        lambda d: text in d.find_element("tag name", "body").text
    )


def test_ui_shows_runs_and_metric_charts(db_path, tmp_path, free_port, mlflow_server):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium/chromedriver not installed (.ci/install-system-deps.sh)")
    assert shutil.which(CHROMIUM)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = mlflow_server(oxide_uri(db_path), free_port, workers=2)
    rest = MlflowClient(tracking_uri=server.url)
    exp_id = rest.create_experiment("ui-experiment")
    run = rest.create_run(exp_id, run_name="oxide-ui-run")
    rid = run.info.run_id
    rest.log_batch(
        rid,
        metrics=[Metric("oxide_metric_loss", 1.0 / (s + 1), 1000 + s, s) for s in range(300)],
        params=[Param("alpha", "0.5")],
    )
    rest.set_terminated(rid)

    driver = _chrome(tmp_path)
    try:
        driver.set_page_load_timeout(60)
        driver.get(f"{server.url}/#/experiments/{exp_id}/runs")
        try:
            _wait_for_text(driver, "oxide-ui-run")
        finally:
            driver.save_screenshot(str(tmp_path / "experiment-runs.png"))

        driver.get(f"{server.url}/#/experiments/{exp_id}/runs/{rid}/model-metrics")
        try:
            _wait_for_text(driver, "oxide_metric_loss")
            WebDriverWait(driver, 60, poll_frequency=0.5).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, ".main-svg, canvas, svg.main-svg")
            )
        finally:
            driver.save_screenshot(str(tmp_path / "run-metrics.png"))
    finally:
        driver.quit()
    assert (tmp_path / "experiment-runs.png").stat().st_size > 0
    assert (tmp_path / "run-metrics.png").stat().st_size > 0
    assert "Traceback" not in server.log(), server.log()
