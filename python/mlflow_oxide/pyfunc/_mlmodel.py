"""The ``MLmodel`` file read through the native parser.

The parser reproduces PyYAML's ``safe_load`` for what MLflow writes; for anything else (tags,
aliases, timestamps, ...) it declines and PyYAML reads the text, so the ``Model`` (or the
error) is always the one ``mlflow.models.Model.load`` gives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from mlflow.utils.mlflow_tags import MLFLOW_MODEL_IS_EXTERNAL

from mlflow_oxide import _native


@dataclass(frozen=True)
class MLmodel:
    doc: Any
    has_pyfunc: bool
    loader_module: str | None
    data: str | None
    is_external: bool


def _facts_in_python(doc: Any) -> MLmodel:
    flavors = doc.get("flavors") if isinstance(doc, dict) else None
    pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    loader = pyfunc.get("loader_module") if isinstance(pyfunc, dict) else None
    data = pyfunc.get("data") if isinstance(pyfunc, dict) else None
    return MLmodel(
        doc=doc,
        has_pyfunc=pyfunc is not None,
        loader_module=loader if isinstance(loader, str) else None,
        data=data if isinstance(data, str) else None,
        is_external=isinstance(metadata, dict)
        and metadata.get(MLFLOW_MODEL_IS_EXTERNAL, False) is True,
    )


def read(model_dir: str) -> MLmodel:
    from mlflow.models import Model
    from mlflow.models.model import MLMODEL_FILE_NAME

    path = os.path.join(model_dir, MLMODEL_FILE_NAME)
    try:
        with open(path) as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        Model.load(path)  # raises MLflow's RESOURCE_DOES_NOT_EXIST error for this path
        raise
    try:
        return MLmodel(*_native.parse_mlmodel(text))
    except _native.Declined:
        import yaml

        # From the file, as Model.load reads it: PyYAML's errors then name the file.
        with open(path) as f:
            return _facts_in_python(yaml.safe_load(f))


def to_model(mlmodel: MLmodel):
    from mlflow.models import Model

    return Model.from_dict(mlmodel.doc)
