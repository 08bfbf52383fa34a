"""The drift monitoring example runs end to end on the embedded default store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "drift_monitoring.py"


def test_drift_monitoring_example(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--rows", "5000", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "new categories in city: ['marseille']" in out
    assert "dataset drift: True" in out
    assert "'mlflow_oxide.drift.dataset_drift': 'true'" in out
    assert (tmp_path / "out" / "mlflow.db").exists()
    htmls = list((tmp_path / "out" / "artifacts").rglob("drift_report.html"))
    assert len(htmls) == 1 and htmls[0].read_text().count("<svg") == 10
