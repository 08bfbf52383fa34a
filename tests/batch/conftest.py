"""Models, data and helpers for the batch-scoring (`mlflow_oxide.batch.predict`) and Spark UDF
(`mlflow_oxide.pyfunc.spark_udf`) suites.

One real tracking database (sqlite, artifacts under the test's temporary directory) holds every
model, logged once per package:

- ``lr``: a scikit-learn ``LogisticRegression`` (3 classes) with a signature, registered as
  ``batch_lr`` version 1 (alias ``champion``);
- ``frame``: a ``PythonModel`` whose ``predict`` returns a DataFrame (``score``, ``label``);
- ``proba``: a ``PythonModel`` wrapping the classifier's ``predict_proba`` (a 2-D ndarray),
  saved to a local directory (a URI naming neither a registered model nor a run);
- ``slow``: a ``PythonModel`` that sleeps in ``predict`` (so a job can be killed part way);
- ``nosig``: the DataFrame model saved without a signature;
- ``rowsum``: a ``PythonModel`` without signature summing every numeric column it is given.

The ``PythonModel``s are "models from code": their source is stored with the model, so Spark's
Python workers and child interpreters load them without importing this package.

Expected results always come from stock MLflow (``mlflow.pyfunc.load_model(uri).predict``) on
the same rows; nothing here is computed by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema

from tests.conftest import new_db, release_tracking

FEATURES = ["f0", "f1", "f2", "f3"]
MANIFEST = "_oxide_batch.json"
PART_RE = re.compile(r"^part-(\d{5})-(\d{6})\.parquet$")
META_COLUMNS = ["model_name", "model_version", "run_id"]
REGISTERED_NAME = "batch_lr"
# Given, so that logging does not infer them (a child interpreter per model, seconds each).
REQUIREMENTS = ["mlflow", "scikit-learn", "pandas", "numpy"]
SLOW_SECONDS = 0.05  # per predict call of the ``slow`` model

_FRAME_MODEL = """
import numpy as np
import pandas as pd
import mlflow


class FrameModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        x = model_input
        return pd.DataFrame(
            {
                "score": (x["f0"] * 2.0 + x["f1"] - x["f3"]).to_numpy(),
                "label": np.where(x["f2"].to_numpy() > 0, "pos", "neg"),
            }
        )


mlflow.models.set_model(FrameModel())
"""

_PROBA_MODEL = """
import mlflow


class ProbaModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import mlflow.sklearn

        self.classifier = mlflow.sklearn.load_model(context.artifacts["classifier"])

    def predict(self, context, model_input, params=None):
        return self.classifier.predict_proba(model_input[["f0", "f1", "f2", "f3"]])


mlflow.models.set_model(ProbaModel())
"""

_SLOW_MODEL = f"""
import time

import mlflow


class SlowModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        time.sleep({SLOW_SECONDS})
        x = model_input
        return (x["f0"] * x["f1"] + x["f2"]).to_numpy()


mlflow.models.set_model(SlowModel())
"""


_ROWSUM_MODEL = """
import mlflow


class RowSum(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input.select_dtypes("number").sum(axis=1).to_numpy()


mlflow.models.set_model(RowSum())
"""


def make_frame(n: int, seed: int, id_start: int = 0) -> pd.DataFrame:
    """Feature rows as a user would have them: an id, a string column, four float features
    (rounded to 4 decimals so CSV text round-trips in every reader)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES))).round(4)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame.insert(0, "id", np.arange(id_start, id_start + n, dtype=np.int64))
    frame.insert(1, "group", np.array([f"g{i % 7}" for i in range(id_start, id_start + n)]))
    return frame


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` in the format named by the path's extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    suffix = path.suffix
    if suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".feather", ".arrow"):
        import pyarrow.feather as feather

        feather.write_feather(table, path, compression="uncompressed")
    else:
        raise ValueError(suffix)
    return path


def to_arrow_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame as it comes back after being written to Parquet."""
    return pa.Table.from_pandas(frame, preserve_index=False).to_pandas()


def stock_prediction_columns(model_uri: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Stock MLflow's predictions on ``frame``, laid out as the batch job's prediction columns:
    1-D -> ``prediction``; DataFrame -> its columns; 2-D ndarray -> ``prediction_0..k``."""
    pred = mlflow.pyfunc.load_model(model_uri).predict(frame.copy())
    if isinstance(pred, pd.DataFrame):
        return pred.reset_index(drop=True)
    if isinstance(pred, pd.Series):
        return pd.DataFrame({"prediction": pred.to_numpy()})
    arr = np.asarray(pred)
    if arr.ndim == 2:
        return pd.DataFrame({f"prediction_{i}": arr[:, i] for i in range(arr.shape[1])})
    assert arr.ndim == 1, arr.shape
    return pd.DataFrame({"prediction": arr})


def stock_expected(
    model_uri: str,
    frame: pd.DataFrame,
    keep_columns: list[str] | None,
    meta: tuple[str | None, str | None, str | None],
) -> pd.DataFrame:
    """The batch job's output for ``frame`` computed with stock MLflow, as read back from
    Parquet: ``keep_columns``, prediction columns, then model_name / model_version / run_id."""
    out = pd.DataFrame(index=range(len(frame)))
    for column in keep_columns or []:
        out[column] = frame[column].to_numpy()
    preds = stock_prediction_columns(model_uri, frame)
    for column in preds.columns:
        out[column] = preds[column].to_numpy()
    table = pa.Table.from_pandas(out, preserve_index=False)
    for name, value in zip(META_COLUMNS, meta, strict=True):
        table = table.append_column(name, pa.array([value] * len(frame), type=pa.string()))
    return table.to_pandas()


@dataclass
class Output:
    parts: list[str]  # part file names, sorted
    frame: pd.DataFrame  # all parts concatenated in name order
    tables: list[pa.Table]  # one per part
    others: list[str]  # every other entry in the destination


def read_output(destination: Path) -> Output:
    names = sorted(os.listdir(destination))
    parts = [n for n in names if PART_RE.match(n)]
    tables = [pq.read_table(destination / n) for n in parts]
    frame = pa.concat_tables(tables).to_pandas() if tables else pd.DataFrame()
    return Output(parts, frame, tables, [n for n in names if n not in parts])


def assert_frames_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns in the same order, same dtypes, same values (exactly)."""
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True
    )


def error_of(exc: BaseException) -> dict:
    return {
        "type": type(exc).__name__,
        "code": getattr(exc, "error_code", None),
        "message": str(exc),
    }


@dataclass
class Models:
    tracking_uri: str
    root: Path
    lr_uri: str  # models:/batch_lr/1
    lr_alias_uri: str  # models:/batch_lr@champion
    lr_runs_uri: str  # runs:/<run>/model
    lr_run_id: str
    frame_uri: str  # runs:/<run>/frame_model
    frame_run_id: str
    proba_path: str  # local directory
    slow_uri: str  # runs:/<run>/slow_model
    slow_run_id: str
    nosig_path: str  # local directory, no signature
    rowsum_path: str  # local directory, no signature, sums every numeric input column


def _input_signature(outputs: Schema | None = None) -> ModelSignature:
    return ModelSignature(inputs=Schema([ColSpec("double", f) for f in FEATURES]), outputs=outputs)


@pytest.fixture(scope="package")
def models(tmp_path_factory, migrated_db_template) -> Models:
    from mlflow import MlflowClient
    from mlflow.tracking._tracking_service import utils as tracking_utils
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("batch-models")
    db = new_db(migrated_db_template, root / "mlflow.db")
    uri = f"sqlite:///{db}"
    previous_uri = tracking_utils._tracking_uri
    code = root / "code"
    code.mkdir()
    sources = {"frame": _FRAME_MODEL, "proba": _PROBA_MODEL, "slow": _SLOW_MODEL}
    for name, source in {**sources, "rowsum": _ROWSUM_MODEL}.items():
        (code / f"{name}_model.py").write_text(textwrap.dedent(source))

    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", uri)
        # our loader's model cache, kept out of the user's home directory
        env.setenv("MLFLOW_OXIDE_MODEL_CACHE", str(root / "model-cache"))
        mlflow.set_tracking_uri(uri)
        experiment_id = mlflow.create_experiment(
            "batch-scoring", artifact_location=(root / "artifacts").as_uri()
        )

        train = make_frame(600, seed=1)
        x = train[FEATURES]
        y = (x["f0"] + x["f1"] > 0).astype(np.int64) + (x["f2"] > 0.8).astype(np.int64)
        classifier = LogisticRegression(max_iter=500).fit(x, y)

        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.sklearn.log_model(
                classifier,
                name="model",
                signature=infer_signature(x, classifier.predict(x)),
                registered_model_name=REGISTERED_NAME,
                pip_requirements=REQUIREMENTS,
            )
        lr_run_id = run.info.run_id
        MlflowClient().set_registered_model_alias(REGISTERED_NAME, "champion", "1")

        frame_signature = _input_signature(
            Schema([ColSpec("double", "score"), ColSpec("string", "label")])
        )
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.pyfunc.log_model(
                name="frame_model",
                python_model=str(code / "frame_model.py"),
                signature=frame_signature,
                pip_requirements=REQUIREMENTS,
            )
        frame_run_id = run.info.run_id

        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.pyfunc.log_model(
                name="slow_model",
                python_model=str(code / "slow_model.py"),
                signature=_input_signature(),
                pip_requirements=REQUIREMENTS,
            )
        slow_run_id = run.info.run_id

        sk_path = root / "sklearn_classifier"
        mlflow.sklearn.save_model(classifier, str(sk_path), pip_requirements=REQUIREMENTS)
        proba_path = root / "proba_model"
        mlflow.pyfunc.save_model(
            str(proba_path),
            python_model=str(code / "proba_model.py"),
            artifacts={"classifier": str(sk_path)},
            signature=_input_signature(),
            pip_requirements=REQUIREMENTS,
        )
        nosig_path = root / "nosig_model"
        mlflow.pyfunc.save_model(
            str(nosig_path),
            python_model=str(code / "frame_model.py"),
            pip_requirements=REQUIREMENTS,
        )

        rowsum_path = root / "rowsum_model"
        mlflow.pyfunc.save_model(
            str(rowsum_path),
            python_model=str(code / "rowsum_model.py"),
            pip_requirements=REQUIREMENTS,
        )

        release_tracking()
        try:
            yield Models(
                tracking_uri=uri,
                root=root,
                lr_uri=f"models:/{REGISTERED_NAME}/1",
                lr_alias_uri=f"models:/{REGISTERED_NAME}@champion",
                lr_runs_uri=f"runs:/{lr_run_id}/model",
                lr_run_id=lr_run_id,
                frame_uri=f"runs:/{frame_run_id}/frame_model",
                frame_run_id=frame_run_id,
                proba_path=str(proba_path),
                slow_uri=f"runs:/{slow_run_id}/slow_model",
                slow_run_id=slow_run_id,
                nosig_path=str(nosig_path),
                rowsum_path=str(rowsum_path),
            )
        finally:
            release_tracking()
            mlflow.set_tracking_uri(previous_uri)
    shutil.rmtree(root, ignore_errors=True)
