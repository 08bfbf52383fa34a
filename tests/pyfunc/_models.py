"""Python models the suite logs and loads. They live in an importable module
(``tests.pyfunc._models``) so cloudpickle stores them by reference and child interpreters started
from the repository root can load them too."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
from mlflow.types.type_hints import TypeFromExample


class Recorder(mlflow.pyfunc.PythonModel):
    """Hands back exactly the input it was given and keeps it, with the params, in ``seen``:
    what the schema enforcement delivered to the model."""

    def load_context(self, context):
        self.seen = None

    def predict(self, context, model_input, params=None):
        self.seen = (model_input, params)
        return model_input


class Configured(mlflow.pyfunc.PythonModel):
    """Uses its ``model_config`` and a file artifact (``notes``): the prediction shows both, and
    ``notes_path`` tells where the model directory it was loaded from is."""

    def load_context(self, context):
        self.config = dict(context.model_config or {})
        self.notes_path = context.artifacts["notes"]
        with open(self.notes_path, encoding="utf-8") as f:
            self.notes = f.read()

    def predict(self, context, model_input, params=None):
        scale = self.config.get("scale", 1.0)
        return pd.DataFrame(
            {
                "y": model_input["x"] * scale,
                "notes": [self.notes] * len(model_input),
                "tag": [str(self.config.get("tag"))] * len(model_input),
            },
            index=model_input.index,
        )


class UsesCode(mlflow.pyfunc.PythonModel):
    """Imports, when loaded, a module shipped with the model (``code_paths``) and named by its
    ``model_config``: loading works only if the loader put the model's code on ``sys.path``."""

    def load_context(self, context):
        import importlib

        self.module = importlib.import_module(context.model_config["module"])

    def predict(self, context, model_input, params=None):
        return self.module.transform(model_input)


class TypedEcho(mlflow.pyfunc.PythonModel):
    """Signature from type hints: MLflow validates the data in the wrapper, not in
    ``PyFuncModel.predict``."""

    def predict(self, model_input: list[str], params=None) -> list[str]:
        return model_input


class FromExample(mlflow.pyfunc.PythonModel):
    """``TypeFromExample`` hint: the enforced frame is converted back to the input example's
    format before the model sees it. Keeps what it was given, like ``Recorder``."""

    def load_context(self, context):
        self.seen = None

    def predict(self, model_input: TypeFromExample, params=None):
        self.seen = (model_input, params)
        return model_input


class Mutator(mlflow.pyfunc.PythonModel):
    """Changes the frame it is given in place (as careless models do) and returns a copy."""

    def predict(self, context, model_input, params=None):
        for column in list(model_input.columns):
            model_input[column] = 0
        model_input["added"] = 1
        return model_input.copy()
