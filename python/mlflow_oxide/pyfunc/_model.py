"""``OxidePyFuncModel``: MLflow's ``PyFuncModel`` with the fast schema enforcement and a lazily
read input example. Everything else — prediction context, streaming, ``unwrap_python_model``,
``model_config``, metadata — is MLflow's own code."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from mlflow.pyfunc import PyFuncModel

from mlflow_oxide.pyfunc import _schema

_logger = logging.getLogger("mlflow.pyfunc")

_UNREAD = object()


class OxidePyFuncModel(PyFuncModel):
    def __init__(self, *args, model_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._model_path = model_path
        self._input_example = _UNREAD if model_path is not None else None
        self._enforcer: _schema.Enforcer | None = None
        self._takes_params: bool | None = None

    @property
    def input_example(self) -> Any | None:
        if self._input_example is _UNREAD:
            # As mlflow.pyfunc.load_model does, but on first use: most loads never need it.
            self._input_example = None
            try:
                self._input_example = self.metadata.load_input_example(path=self._model_path)
            except Exception as e:
                _logger.debug(f"Failed to load input example from model metadata: {e}.")
        return self._input_example

    @input_example.setter
    def input_example(self, value: Any) -> None:
        self._input_example = value

    def _predict(self, data, params: dict[str, Any] | None = None):
        from mlflow.models.utils import _enforce_params_schema

        metadata = self.metadata
        self.input_schema = metadata.get_input_schema()
        self.params_schema = metadata.get_params_schema()
        if self.input_schema is None or metadata._is_signature_from_type_hint():
            return super()._predict(data, params)
        if self._enforcer is None or self._enforcer.schema is not self.input_schema:
            self._enforcer = _schema.Enforcer(self.input_schema)
        data = _schema.as_pandas(data)
        enforced = self._enforcer(data)
        if enforced is None:
            return super()._predict(data, params)
        params = _enforce_params_schema(params, self.params_schema)
        if metadata._is_type_hint_from_example() and self.input_example is not None:
            from mlflow.types.type_hints import _convert_dataframe_to_example_format

            enforced = _convert_dataframe_to_example_format(enforced, self.input_example)
        if self._takes_params is None:
            params_arg = inspect.signature(self._predict_fn).parameters.get("params")
            self._takes_params = bool(
                params_arg and params_arg.kind != inspect.Parameter.VAR_KEYWORD
            )
        if self._takes_params:
            return self._predict_fn(enforced, params=params)
        from mlflow.pyfunc import _log_warning_if_params_not_in_predict_signature

        _log_warning_if_params_not_in_predict_signature(_logger, params)
        return self._predict_fn(enforced)
