"""``evaluators=["oxide"]`` against MLflow's default evaluator on the same model and data.

Each scenario runs ``mlflow.models.evaluate`` twice on one temporary sqlite tracking store:
stock (``evaluators=["default"]``, dataset fast paths off) and ours, into separate runs, then
compares logged metrics (names and values), the returned ``EvaluationResult``, artifact names,
the per-class table and the logged dataset (digest, schema).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression, LogisticRegression

from tests.conftest import new_db

RTOL = 1e-9
N_ROWS = 4000


@pytest.fixture(scope="module", autouse=True)
def _oxide_registered():
    """The ``oxide`` entry point (pyproject) is loaded by MLflow; register it directly when
    running from a tree whose install predates it."""
    from mlflow.models.evaluation.evaluator_registry import _model_evaluation_registry as reg

    if not reg.is_registered("oxide"):
        from mlflow_oxide.evaluator import OxideEvaluator

        reg.register("oxide", OxideEvaluator)


@pytest.fixture
def tracking(migrated_db_template, tmp_path, tracking_uri):
    db = new_db(migrated_db_template, tmp_path / "mlflow.db")
    tracking_uri(f"sqlite:///{db}")
    exp = mlflow.create_experiment("eval", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp)
    return tmp_path


def _features(rng, n, k=6):
    return pd.DataFrame(rng.normal(size=(n, k)), columns=[f"f{i}" for i in range(k)])


@dataclass
class Case:
    model_uri: str | None
    data: pd.DataFrame


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Models saved once per module (local paths: no run, no registry)."""
    root = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(42)
    out = {}

    def save(name, model, data):
        path = root / name
        mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
        out[name] = Case(str(path), data)

    X = _features(rng, N_ROWS)
    logits = X.to_numpy() @ rng.normal(size=X.shape[1])
    y_bin = (logits + rng.normal(size=N_ROWS) > 0).astype(np.int64)
    save("binary", LogisticRegression().fit(X[:1000], y_bin[:1000]), X.assign(y=y_bin))

    y3 = np.digitize(logits + rng.normal(size=N_ROWS), [-0.7, 0.7])
    save("multi3", LogisticRegression().fit(X[:1000], y3[:1000]), X.assign(y=y3))

    names = np.array(["ant", "bee", "cat", "dog"], dtype=object)
    y4 = names[np.digitize(logits + rng.normal(size=N_ROWS), [-1, 0, 1])]
    save("multi4_str", LogisticRegression().fit(X[:1000], y4[:1000]), X.assign(y=y4))

    y_str = np.where(y_bin == 1, "yes", "no").astype(object)
    save("binary_str", LogisticRegression().fit(X[:1000], y_str[:1000]), X.assign(y=y_str))

    y_reg = logits * 3 + rng.normal(size=N_ROWS) + 10
    save("regressor", LinearRegression().fit(X[:1000], y_reg[:1000]), X.assign(y=y_reg))

    static = X.assign(y=y3, pred=np.where(rng.random(N_ROWS) < 0.8, y3, (y3 + 1) % 3))
    out["static_multi"] = Case(None, static)
    static_bin = X.assign(y=y_bin, pred=np.where(rng.random(N_ROWS) < 0.7, y_bin, 1 - y_bin))
    out["static_binary"] = Case(None, static_bin)
    out["static_regressor"] = Case(None, X.assign(y=y_reg, pred=y_reg + rng.normal(size=N_ROWS)))
    out["weights"] = rng.uniform(0.1, 3.0, size=N_ROWS)
    return out


def _run(evaluator, case, model_type, config, monkeypatch, **kwargs):
    config = dict(config)
    if evaluator == "default":
        config["log_model_explainability"] = False
    with monkeypatch.context() as m:
        m.setenv("MLFLOW_OXIDE_FAST_DATASETS", "0" if evaluator == "default" else "1")
        with mlflow.start_run() as run:
            result = mlflow.models.evaluate(
                case.model_uri,
                case.data.copy(),
                targets="y",
                model_type=model_type,
                evaluators=[evaluator],
                evaluator_config={evaluator: config},
                **kwargs,
            )
    return run.info.run_id, result


def _close(a, b) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


def _assert_metrics_equal(got: dict, want: dict):
    assert sorted(got) == sorted(want)
    bad = {k: (got[k], want[k]) for k in want if not _close(got[k], want[k])}
    assert not bad, bad


def _artifact_names(run_id):
    return sorted(a.path for a in MlflowClient().list_artifacts(run_id))


def _dataset(run_id):
    inputs = MlflowClient().get_run(run_id).inputs.dataset_inputs
    return [(d.dataset.digest, d.dataset.schema, d.dataset.profile) for d in inputs]


def _compare(case, model_type, monkeypatch, config=None, **kwargs):
    config = config or {}
    stock_id, stock = _run("default", case, model_type, config, monkeypatch, **kwargs)
    from mlflow_oxide.metrics._fallback import fallbacks, reset_fallbacks

    reset_fallbacks()
    ours_id, ours = _run("oxide", case, model_type, config, monkeypatch, **kwargs)
    assert fallbacks() == {}, "metrics served by scikit-learn instead of the native path"

    _assert_metrics_equal(ours.metrics, stock.metrics)
    client = MlflowClient()
    _assert_metrics_equal(
        client.get_run(ours_id).data.metrics, client.get_run(stock_id).data.metrics
    )
    assert sorted(ours.artifacts) == sorted(stock.artifacts)
    assert _artifact_names(ours_id) == _artifact_names(stock_id)
    assert _dataset(ours_id) == _dataset(stock_id)
    if "per_class_metrics" in stock.artifacts:
        a = ours.artifacts["per_class_metrics"].content
        b = stock.artifacts["per_class_metrics"].content
        assert list(a.columns) == list(b.columns)
        assert a["positive_class"].tolist() == b["positive_class"].tolist()
        num = [c for c in b.columns if c != "positive_class"]
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=RTOL)
        # and the files as logged
        paths = [
            mlflow.artifacts.download_artifacts(run_id=r, artifact_path="per_class_metrics.csv")
            for r in (ours_id, stock_id)
        ]
        fa, fb = (pd.read_csv(p) for p in paths)
        pd.testing.assert_frame_equal(fa, fb, check_exact=False, rtol=RTOL)
    return stock, ours


CLASSIFIER_CASES = {
    "binary": ("binary", {}),
    "binary_weights": ("binary", {"sample_weights": "weights"}),
    "binary_pos_label_0": ("binary", {"pos_label": 0}),
    "binary_label_list": ("binary", {"label_list": [0, 1], "pos_label": 1}),
    "binary_str": ("binary_str", {}),
    "binary_str_pos_label": ("binary_str", {"pos_label": "no", "sample_weights": "weights"}),
    "multi3": ("multi3", {}),
    "multi3_weights_macro": ("multi3", {"sample_weights": "weights", "average": "macro"}),
    "multi3_micro": ("multi3", {"average": "micro"}),
    "multi3_no_curves": ("multi3", {"max_classes_for_multiclass_roc_pr": 2}),
    "multi4_str": ("multi4_str", {}),
    "multi4_str_weights": ("multi4_str", {"sample_weights": "weights"}),
    "multi3_prefix": ("multi3", {"metric_prefix": "val_"}),
    "binary_prefix_calibration": (
        "binary",
        {"metric_prefix": "test_", "calibration_n_bins": 7, "calibration_classifier_name": "LR"},
    ),
}


def _resolve(config, cases):
    return {k: cases[v] if k == "sample_weights" else v for k, v in config.items()}


@pytest.mark.parametrize("name", sorted(CLASSIFIER_CASES))
def test_classifier_parity(name, cases, tracking, monkeypatch):
    case_name, config = CLASSIFIER_CASES[name]
    stock, ours = _compare(cases[case_name], "classifier", monkeypatch, _resolve(config, cases))
    prefix = config.get("metric_prefix", "")
    assert f"{prefix}accuracy_score" in ours.metrics
    assert f"{prefix}score" in ours.metrics  # sklearn model score
    if "confusion_matrix" not in ours.artifacts:
        pytest.fail(f"no confusion matrix: {sorted(ours.artifacts)}")


@pytest.mark.parametrize("config", [{}, {"sample_weights": "weights"}, {"metric_prefix": "r_"}])
def test_regressor_parity(config, cases, tracking, monkeypatch):
    stock, ours = _compare(cases["regressor"], "regressor", monkeypatch, _resolve(config, cases))
    assert f"{config.get('metric_prefix', '')}r2_score" in ours.metrics


@pytest.mark.parametrize(
    ("name", "model_type"),
    [
        ("static_binary", "classifier"),
        ("static_multi", "classifier"),
        ("static_regressor", "regressor"),
    ],
)
def test_static_dataset_parity(name, model_type, cases, tracking, monkeypatch):
    stock, ours = _compare(cases[name], model_type, monkeypatch, predictions="pred")
    assert "score" not in ours.metrics


def test_extra_metrics_and_custom_artifacts(cases, tracking, monkeypatch):
    """MLflow's own plugin machinery: aggregate and per-row extra metrics (the latter makes
    both evaluators log the eval table) and custom artifacts."""
    from mlflow.metrics import MetricValue, make_metric

    def mean_abs(predictions, targets):
        err = np.abs(np.asarray(predictions, float) - np.asarray(targets, float))
        return MetricValue(scores=err.tolist(), aggregate_results={"mean": float(err.mean())})

    def wrong_share(eval_df, _builtin_metrics):
        return float((eval_df["prediction"] != eval_df["target"]).mean())

    def table(eval_df, builtin_metrics, artifacts_dir):
        return {"head": eval_df.head(3), "counts": {"n": len(eval_df)}}

    extra = [
        make_metric(eval_fn=mean_abs, greater_is_better=False, name="abs_err"),
        make_metric(eval_fn=wrong_share, greater_is_better=False),
    ]
    stock, ours = _compare(
        cases["multi3"],
        "classifier",
        monkeypatch,
        extra_metrics=extra,
        custom_artifacts=[table],
    )
    assert "abs_err/mean" in ours.metrics and "wrong_share" in ours.metrics
    assert {"head", "counts", "eval_results_table"} <= set(ours.artifacts)


def test_result_artifact_contents(cases, tracking, monkeypatch):
    """Plots are real PNGs; the confusion matrix is drawn for every label."""
    _, ours = _run("oxide", cases["multi4_str"], "classifier", {}, monkeypatch)
    for name in ("roc_curve_plot", "precision_recall_curve_plot", "confusion_matrix"):
        image = ours.artifacts[name].content
        assert image.size[0] > 100 and image.size[1] > 100
    assert ours.artifacts["per_class_metrics"].content["positive_class"].tolist() == [
        "ant",
        "bee",
        "cat",
        "dog",
    ]


def test_entry_point_declared():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="mlflow.model_evaluator")}
    assert eps.get("oxide") == "mlflow_oxide.evaluator:OxideEvaluator"
    assert "oxide" in mlflow.models.list_evaluators()


def test_thinned_curves_keep_full_data_auc():
    """Drawing uses ≤ ~1000 points; the AUC is the full-data one."""
    from mlflow_oxide.evaluator import _thin

    rng = np.random.default_rng(0)
    x = np.sort(rng.random(200_000))
    y = np.sqrt(x)
    tx, ty = _thin(x, y)
    assert len(tx) <= 1000
    assert tx[0] == x[0] and tx[-1] == x[-1] and ty[-1] == y[-1]
    assert abs(np.trapezoid(ty, tx) - np.trapezoid(y, x)) < 2e-3
