"""Ordinary valid calls are served natively (scikit-learn only sees the k x k cells of the
confusion-matrix family), and a long computation stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import mlflow_oxide.metrics as ox
import numpy as np
import pytest


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 5000
    proba = rng.random((n, 4))
    proba /= proba.sum(axis=1, keepdims=True)
    y = rng.normal(size=n)
    return {
        "yb": rng.integers(0, 2, n),
        "pb": rng.integers(0, 2, n),
        "score": rng.random(n),
        "ym": rng.integers(0, 4, n),
        "pm": rng.integers(0, 4, n),
        "proba": proba,
        "labels_str": np.array(["a", "b", "c"])[rng.integers(0, 3, n)],
        "y": y,
        "p": y + rng.normal(size=n),
        "w": rng.random(n),
    }


def test_valid_calls_never_fall_back(data):
    d = data
    ox.reset_fallbacks()
    ox.accuracy_score(d["yb"], d["pb"], sample_weight=d["w"])
    ox.f1_score(d["ym"], d["pm"], average="macro")
    ox.precision_recall_fscore_support(d["labels_str"], d["labels_str"][::-1].copy())
    ox.confusion_matrix(d["ym"], d["pm"])
    ox.matthews_corrcoef(d["yb"], d["pb"])
    ox.roc_auc_score(d["yb"], d["score"], sample_weight=d["w"])
    ox.roc_auc_score(d["ym"], d["proba"], multi_class="ovr", average="weighted")
    ox.roc_auc_score(d["ym"], d["proba"], multi_class="ovo")
    ox.average_precision_score(d["yb"], d["score"])
    ox.roc_curve(d["yb"], d["score"])
    ox.precision_recall_curve(d["yb"], d["score"])
    ox.log_loss(d["ym"], d["proba"])
    ox.brier_score_loss(d["yb"], d["score"])
    ox.top_k_accuracy_score(d["ym"], d["proba"], k=2)
    for name in ("mean_squared_error", "mean_absolute_error", "r2_score", "max_error"):
        getattr(ox, name)(d["y"], d["p"])
    ox.median_absolute_error(d["y"], d["p"])
    assert ox.fallbacks() == {}


def test_invalid_input_is_served_by_sklearn_and_counted(data):
    ox.reset_fallbacks()
    with pytest.raises(ValueError, match="NaN"):
        ox.roc_auc_score([0, 1, 1], [0.1, np.nan, 0.3])
    assert ox.fallbacks() == {"roc_auc_score": 1}


_LONG_JOB = """
import numpy as np, sys
import mlflow_oxide.metrics as ox
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 30_000_000)
s = rng.random(30_000_000)
print("ready", flush=True)
while True:
    ox.roc_auc_score(y, s)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_computation(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", _LONG_JOB],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err, err
    assert proc.returncode != 0
    # Not a timing assertion on speed: only that it did not run to the end of a 30M-row loop
    # iteration after iteration (the loop never ends on its own).
    assert elapsed < 30


def test_thousands_of_labels_are_served_by_sklearn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5000, 20000)
    y_pred = rng.integers(0, 5000, 20000)
    from sklearn import metrics as sk

    ox.reset_fallbacks()
    assert ox.f1_score(y_true, y_pred, average="macro") == sk.f1_score(
        y_true, y_pred, average="macro"
    )
    assert ox.fallbacks() == {"f1_score": 1}
