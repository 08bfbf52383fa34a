"""The ``oxide`` model evaluator: MLflow's built-in classifier/regressor evaluation, with the
metric math in Rust (``mlflow_oxide.metrics``) and cheap plots.

    mlflow.models.evaluate(model_uri, df, targets="y", model_type="classifier",
                           evaluators=["oxide"])

It logs the metric names and values MLflow's default evaluator logs for the model type (same
``metric_prefix``, ``score`` for scikit-learn models, per-class table for multiclass), the same
artifact names (``roc_curve_plot``, ``precision_recall_curve_plot``, ``lift_curve_plot``,
``calibration_curve_plot``, ``confusion_matrix``, ``per_class_metrics``, the eval table when
extra metrics produce per-row scores) and returns an ``EvaluationResult`` with the same keys.
``extra_metrics`` and ``custom_artifacts`` go through MLflow's own ``BuiltInEvaluator`` code.

Where the time goes instead:

* Metric math runs in Rust over all rows; string labels are encoded to integer codes once
  (order-preserving, so every metric, label order and ``pos_label`` stays the same).
* Curves are computed over all rows; AUC/AP come from that full data, and only the drawing
  uses the curve thinned to about a thousand points. Calibration and lift curves come from
  binned counts (numpy), not per-row Python.
* Figures are plain ``matplotlib.figure.Figure`` objects at a modest dpi with fixed legend
  positions (no ``loc="best"`` search, no tight bounding-box pass), saved into one directory
  and uploaded with one ``log_artifacts`` call.
* ``sklearn``'s stock ``ClassifierMixin.score``/``RegressorMixin.score`` are accuracy/R² of
  the predictions already made, so ``score`` is computed from them instead of predicting twice.

Importing this module (MLflow does when it loads evaluator entry points) also installs the
vectorized dataset digest/schema inference of ``mlflow_oxide._dataset_fastpath``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowException
from mlflow.models.evaluation.artifacts import CsvEvaluationArtifact, ImageEvaluationArtifact
from mlflow.models.evaluation.base import EvaluationResult, _ModelType
from mlflow.models.evaluation.default_evaluator import (
    BuiltInEvaluator,
    _extract_raw_model,
    _get_aggregate_metrics_values,
)
from mlflow.models.evaluation.evaluators.classifier import (
    ClassifierEvaluator,
    _infer_model_type_by_labels,
    _suppress_class_imbalance_errors,
)
from mlflow.models.evaluation.evaluators.regressor import RegressorEvaluator

from mlflow_oxide import _dataset_fastpath
from mlflow_oxide._evaluator_plots import (
    _calibration_figure,
    _confusion_matrix_figure,
    _Curve,
    _lift_figure,
    _pr_figure,
    _roc_figure,
    _save_figure,
    _thin,
)

_dataset_fastpath.install()

_logger = logging.getLogger(__name__)

_PANDAS_COW = int(pd.__version__.split(".")[0]) >= 3

__all__ = ["OxideEvaluator"]


def _metrics():
    # Imported on first use so that registering the entry point (and the dataset fast path)
    # never depends on the native metrics module being importable.
    from mlflow_oxide import metrics

    return metrics


class OxideEvaluator(BuiltInEvaluator):
    """Classifier and regressor evaluation with MLflow's default evaluator's outputs."""

    name = "oxide"

    @classmethod
    def can_evaluate(cls, *, model_type, evaluator_config, **kwargs):
        return model_type in (_ModelType.CLASSIFIER, _ModelType.REGRESSOR)

    def _evaluate(self, model, extra_metrics, custom_artifacts=None, **kwargs):
        self._images: list[tuple[str, str]] = []  # (artifact name, file name)
        self._image_dir = self.temp_dir.path("oxide_images")
        os.makedirs(self._image_dir, exist_ok=True)
        if self.model_type == _ModelType.CLASSIFIER:
            return self._evaluate_classifier(model, extra_metrics, custom_artifacts)
        return self._evaluate_regressor(model, extra_metrics, custom_artifacts)

    # ----------------------------------------------------------------------------- shared

    def _score(self, model, y_true, y_pred, stock_score):
        """``score`` as ``BuiltInEvaluator._evaluate_sklearn_model_score_if_scorable`` logs it.
        ``stock_score(mixin_cls) -> float | None`` gives the value for a stock mixin score."""
        model_loader_module, raw_model = _extract_raw_model(model)
        if model_loader_module != "mlflow.sklearn" or raw_model is None:
            return
        try:
            value = stock_score(getattr(type(raw_model), "score", None))
            if value is None:
                value = raw_model.score(
                    self.X.copy_to_avoid_mutation(), y_true, sample_weight=self.sample_weights
                )
            self.metrics_values.update(_get_aggregate_metrics_values({"score": value}))
        except Exception as e:
            _logger.warning(
                f"Computing sklearn model score failed: {e!r}. Set logging level to "
                "DEBUG to see the full traceback."
            )
            _logger.debug("", exc_info=True)

    def _model_input(self):
        """The features as the model sees them. MLflow deep-copies them so a model cannot
        mutate the caller's frame; under pandas' Copy-on-Write (always on from pandas 3) the
        fresh DataFrame ``self.X`` builds already gives that isolation (writes copy, exported
        arrays are read-only), so the copy of every feature column is skipped."""
        if _PANDAS_COW:
            return self.X.get_original()
        return self.X.copy_to_avoid_mutation()

    def _finish(self, extra_metrics, custom_artifacts):
        # MLflow's metric/artifact plugin machinery; skipped when unused because it deep-copies
        # the feature frame several times even for an empty metric list.
        if extra_metrics:
            self.evaluate_metrics(extra_metrics, prediction=self.y_pred, target=self.y_true)
        self.evaluate_and_log_custom_artifacts(
            custom_artifacts, prediction=self.y_pred, target=self.y_true
        )
        self.log_metrics()
        self.log_eval_table(self.y_pred)

    def _image(self, artifact_name, draw):
        """Render ``draw()`` (returns a Figure) to ``<prefix><name>.png``; failures only warn,
        like ``BuiltInEvaluator._log_image_artifact``."""
        prefix = self.evaluator_config.get("metric_prefix", "")
        file_name = f"{prefix}{artifact_name}.png"
        try:
            fig = draw()
            _save_figure(fig, os.path.join(self._image_dir, file_name))
        except Exception as e:
            _logger.warning(f"Failed to log image artifact {artifact_name!r}: {e!r}")
        else:
            self._images.append((artifact_name, file_name))

    def _upload_images(self):
        if not self._images:
            return
        mlflow.log_artifacts(self._image_dir)
        from mlflow.utils.uri import append_to_uri_path

        root = mlflow.get_artifact_uri()
        for artifact_name, file_name in self._images:
            artifact = ImageEvaluationArtifact(uri=append_to_uri_path(root, file_name))
            artifact._load(os.path.join(self._image_dir, file_name))
            self.artifacts[artifact_name] = artifact

    # ------------------------------------------------------------------------- regressor

    def _evaluate_regressor(self, model, extra_metrics, custom_artifacts):
        M = _metrics()
        self.y_true = self.dataset.labels_data
        self.sample_weights = self.evaluator_config.get("sample_weights", None)
        input_df = self._model_input()
        self.y_pred = RegressorEvaluator._generate_model_predictions(self, model, input_df)
        y, p, w = self.y_true, self.y_pred, self.sample_weights

        def stock_score(score_fn):
            from sklearn.base import RegressorMixin

            return M.r2_score(y, p, sample_weight=w) if score_fn is RegressorMixin.score else None

        self._score(model, y, p, stock_score)
        # MLflow: (np.array(y) * np.array(w)).sum() with weights, builtin sum(y) without.
        sum_on_target = (np.array(y) * np.array(w)).sum() if w is not None else _python_sum(y)
        values = {
            "example_count": len(y),
            "mean_absolute_error": M.mean_absolute_error(y, p, sample_weight=w),
            "mean_squared_error": M.mean_squared_error(y, p, sample_weight=w),
            "root_mean_squared_error": M.root_mean_squared_error(y, p, sample_weight=w),
            "sum_on_target": sum_on_target,
            "mean_on_target": sum_on_target / len(y),
            "r2_score": M.r2_score(y, p, sample_weight=w),
            "max_error": M.max_error(y, p),
            "mean_absolute_percentage_error": M.mean_absolute_percentage_error(
                y, p, sample_weight=w
            ),
        }
        self.metrics_values.update(_get_aggregate_metrics_values(values))
        self._finish(extra_metrics, custom_artifacts)
        return EvaluationResult(
            metrics=self.aggregate_metrics, artifacts=self.artifacts, run_id=self.run_id
        )

    # ------------------------------------------------------------------------ classifier

    def _evaluate_classifier(self, model, extra_metrics, custom_artifacts):
        cfg = self.evaluator_config
        self.y_true = self.dataset.labels_data
        self.label_list = cfg.get("label_list")
        self.pos_label = cfg.get("pos_label")
        self.sample_weights = cfg.get("sample_weights")
        if self.pos_label and self.label_list and self.pos_label not in self.label_list:
            raise MlflowException.invalid_parameter_value(
                f"'pos_label' {self.pos_label} must exist in 'label_list' {self.label_list}."
            )
        inferred_model_type = _infer_model_type_by_labels(self.y_true)
        if inferred_model_type != _ModelType.CLASSIFIER:
            _logger.warning(
                f"According to the evaluation dataset label values, the model type looks like "
                f"{inferred_model_type}, but you specified model type 'classifier'. Please "
                f"verify that you set the `model_type` and `dataset` arguments correctly."
            )

        input_df = self._model_input()
        self.y_pred, self.y_probs = ClassifierEvaluator._generate_model_predictions(
            self, model, input_df
        )
        if self.label_list is None:
            self.label_list = _unique_sorted(self.y_true, self.y_pred)
        # MLflow's own ordering / pos_label / pos_index rules.
        ClassifierEvaluator._validate_label_list(self)
        self._enc = _Encoded(self.y_true, self.y_pred, self.label_list, self.pos_label)

        self._score(model, self.y_true, self.y_pred, self._stock_classifier_score)
        self.roc_curve = self.pr_curve = None
        self._ovr = None
        binary = len(self.label_list) == 2
        if binary:
            metrics = self._binary_metrics()
            if metrics:
                self.metrics_values.update(_get_aggregate_metrics_values(metrics))
                self._binary_curves()
        else:
            metrics = self._multiclass_metrics(cfg.get("average", "weighted"))
            if metrics:
                self.metrics_values.update(_get_aggregate_metrics_values(metrics))

        self._finish(extra_metrics, custom_artifacts)
        if binary:
            self._binary_artifacts()
        else:
            self._multiclass_artifacts()
        self._confusion_matrix_artifact()
        self._upload_images()
        return EvaluationResult(
            metrics=self.aggregate_metrics, artifacts=self.artifacts, run_id=self.run_id
        )

    def _stock_classifier_score(self, score_fn):
        from sklearn.base import ClassifierMixin

        if score_fn is not ClassifierMixin.score:
            return None
        e = self._enc
        return _metrics().accuracy_score(e.y_true, e.y_pred, sample_weight=self.sample_weights)

    def _common_metrics(self, average, pos_label):
        M, e, w = _metrics(), self._enc, self.sample_weights
        p, r, f, _ = M.precision_recall_fscore_support(
            e.y_true, e.y_pred, average=average, pos_label=pos_label, sample_weight=w
        )
        metrics = {
            "example_count": len(self.y_true),
            "accuracy_score": M.accuracy_score(e.y_true, e.y_pred, sample_weight=w),
            "recall_score": r,
            "precision_score": p,
            "f1_score": f,
        }
        if self.y_probs is not None:
            with _suppress_class_imbalance_errors(ValueError):
                # log_loss orders ``labels`` itself (LabelBinarizer); MLflow passes them with
                # pos_label moved last, which only adds scikit-learn's "not ordered" warning.
                metrics["log_loss"] = M.log_loss(
                    e.y_true, self.y_probs, labels=_sorted_or_same(e.labels), sample_weight=w
                )
        return metrics

    def _binary_metrics(self):
        e = self._enc
        with _suppress_class_imbalance_errors(ValueError):
            matrix = _metrics().confusion_matrix(e.y_true, e.y_pred, labels=e.labels)
            tn, fp, fn, tp = matrix.ravel()
            return {
                "true_negatives": tn,
                "false_positives": fp,
                "false_negatives": fn,
                "true_positives": tp,
                **self._common_metrics("binary", e.pos_label),
            }

    def _multiclass_metrics(self, average):
        metrics = self._common_metrics(average, None)
        if average in ("macro", "weighted") and self.y_probs is not None:
            metrics["roc_auc"] = self._ovr_roc_auc(average)
        return metrics

    def _log_roc_pr(self):
        max_classes = self.evaluator_config.get("max_classes_for_multiclass_roc_pr", 10)
        return self.y_probs is not None and len(self.label_list) <= max_classes

    def _ovr_curves(self):
        """Per-class one-vs-rest ROC/PR curves [(label, roc, pr)], computed once."""
        if self._ovr is None:
            e, probs = self._enc, np.asarray(self.y_probs)
            self._ovr = [
                (label, *self._one_vs_rest((e.y_true == code).astype(np.int8), probs[:, i]))
                for i, (label, code) in enumerate(zip(self.label_list, e.labels, strict=True))
            ]
        return self._ovr

    def _ovr_roc_auc(self, average):
        """``roc_auc_score(multi_class="ovr")``. When the per-class curves are drawn anyway and
        scikit-learn's preconditions hold (every label present in y_true, one probability
        column per label, rows summing to 1), it is their AUCs averaged the way scikit-learn
        averages them; otherwise the native ``roc_auc_score`` (and its errors)."""
        e, w, probs = self._enc, self.sample_weights, np.asarray(self.y_probs)
        k = len(self.label_list)
        present = np.sort(pd.unique(e.y_true))
        derivable = (
            self._log_roc_pr()
            and probs.ndim == 2
            and probs.shape[1] == k
            and len(present) == k
            and np.array_equal(present, np.sort(np.asarray(e.labels)))
            and np.allclose(1, probs.sum(axis=1))
        )
        if not derivable:
            return _metrics().roc_auc_score(
                y_true=e.y_true, y_score=probs, sample_weight=w, average=average, multi_class="ovr"
            )
        aucs = np.array([roc.auc for _, roc, _ in self._ovr_curves()])
        if average == "macro":
            return float(np.average(aucs))
        weights = np.array(
            [
                np.count_nonzero(e.y_true == code)
                if w is None
                else np.asarray(w, dtype=np.float64)[e.y_true == code].sum()
                for code in e.labels
            ],
            dtype=np.float64,
        )
        if np.isclose(weights.sum(), 0.0):
            return 0
        return float(np.average(aucs, weights=weights))

    def _one_vs_rest(self, y_bin, score):
        """ROC and PR curve of one class over all rows -> (_Curve roc, _Curve pr).

        One native pass (``roc_curve`` with every threshold kept) instead of the four sorts
        MLflow's calls make (``roc_curve``, ``roc_auc_score``, ``precision_recall_curve``,
        ``average_precision_score``). The rest is scikit-learn's own closed forms on that
        curve: ROC AUC is the trapezoid under (fpr, tpr) (``roc_auc_score`` = ``auc`` of
        ``roc_curve``; dropping collinear points does not change it), and the PR curve is
        ``precision = tps / (tps + fps)``, ``recall = tpr`` at the same thresholds, reversed
        with the final (1, 0) point, whose step sum is ``average_precision_score``."""
        M, w = _metrics(), self.sample_weights
        y_bin = np.asarray(y_bin)
        if w is None:
            pos = float(np.count_nonzero(y_bin))
            neg = float(len(y_bin)) - pos
        else:
            wt = np.asarray(w, dtype=np.float64)
            pos = float(wt[y_bin == 1].sum())
            neg = float(wt.sum()) - pos
        if pos <= 0 or neg <= 0:
            # one class only: scikit-learn's canonical ValueError
            M.roc_auc_score(y_bin, score, sample_weight=w)
        fpr, tpr, _ = M.roc_curve(y_bin, score, sample_weight=w, drop_intermediate=False)
        fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
        auc = float(np.trapezoid(tpr, fpr))
        tps, fps = tpr[1:] * pos, fpr[1:] * neg
        ps = tps + fps
        precision = np.zeros_like(tps)
        np.divide(tps, ps, out=precision, where=ps != 0)
        precision = np.hstack((precision[::-1], 1.0))
        recall = np.hstack((tpr[1:][::-1], 0.0))
        ap = float(-np.sum(np.diff(recall) * precision[:-1]))
        return _Curve(*_thin(fpr, tpr), auc), _Curve(*_thin(recall, precision), ap)

    def _binary_curves(self):
        if self.y_probs is None:
            return
        e = self._enc
        score = np.asarray(self.y_probs)[:, self.pos_index]
        y_bin = (e.y_true == e.pos_label).astype(np.int8)
        with _suppress_class_imbalance_errors(ValueError, log_warning=False):
            self.roc_curve, self.pr_curve = self._one_vs_rest(y_bin, score)
            self.metrics_values.update(
                _get_aggregate_metrics_values({"roc_auc": self.roc_curve.auc})
            )
            self.metrics_values.update(
                _get_aggregate_metrics_values({"precision_recall_auc": self.pr_curve.auc})
            )

    def _calibration_config(self):
        return {k: v for k, v in self.evaluator_config.items() if k.startswith("calibration_")}

    def _binary_artifacts(self):
        if self.y_probs is None:
            return
        if self.roc_curve is not None:
            self._image(
                "roc_curve_plot", lambda: _roc_figure([("", self.roc_curve)], self.pos_label)
            )
        if self.pr_curve is not None:
            self._image(
                "precision_recall_curve_plot",
                lambda: _pr_figure([("", self.pr_curve)], self.pos_label),
            )
        e = self._enc
        self._image(
            "lift_curve_plot",
            lambda: _lift_figure(e.y_true, np.asarray(self.y_probs), e.decode, e.pos_label),
        )
        self._image("calibration_curve_plot", self._calibration_figure)

    def _calibration_figure(self):
        e, probs = self._enc, np.asarray(self.y_probs)
        config = self._calibration_config()
        if probs.shape[-1] == 2:
            series = [(None, e.y_true == e.pos_label, probs[:, self.pos_index])]
        else:
            series = [
                (f"Class {label}", e.y_true == code, probs[:, i])
                for i, (label, code) in enumerate(zip(self.label_list, e.labels, strict=True))
            ]
        return _calibration_figure(series, self.pos_label, config)

    def _multiclass_artifacts(self):
        per_class = self._per_class_metrics()
        if self.y_probs is not None:
            self._image("calibration_curve_plot", self._calibration_figure)
            if not self._log_roc_pr():
                max_classes = self.evaluator_config.get("max_classes_for_multiclass_roc_pr", 10)
                _logger.warning(
                    f"The classifier num_classes > {max_classes}, skip "
                    f"logging ROC curve and Precision-Recall curve. You can add evaluator config "
                    f"'max_classes_for_multiclass_roc_pr' to increase the threshold."
                )
        if self._log_roc_pr():
            curves = self._ovr_curves()
            rocs = [(f"label={label},", roc) for label, roc, _ in curves]
            prs = [(f"label={label},", pr) for label, _, pr in curves]
            self._image("roc_curve_plot", lambda: _roc_figure(rocs, self.pos_label))
            per_class["roc_auc"] = [c.auc for _, c in rocs]
            self._image("precision_recall_curve_plot", lambda: _pr_figure(prs, self.pos_label))
            per_class["precision_recall_auc"] = [c.auc for _, c in prs]
        self._log_csv(per_class, "per_class_metrics")

    def _per_class_metrics(self) -> pd.DataFrame:
        """MLflow's per-class one-vs-rest table (``positive_class``, tn/fp/fn/tp,
        example_count, accuracy/recall/precision/f1) from two passes over the data instead of
        five per class."""
        M, e, w = _metrics(), self._enc, self.sample_weights
        n = len(self.y_true)
        cm = np.asarray(M.confusion_matrix(e.y_true, e.y_pred, labels=e.labels), dtype=np.int64)
        if cm.sum() != n:  # some labels fall outside label_list: one-vs-rest per class
            return self._per_class_metrics_slow()
        tp = np.diag(cm)
        fn = cm.sum(axis=1) - tp
        fp = cm.sum(axis=0) - tp
        tn = n - tp - fn - fp
        precision, recall, f1, _ = M.precision_recall_fscore_support(
            e.y_true, e.y_pred, labels=e.labels, average=None, sample_weight=w
        )
        if w is None:
            accuracy = (tp + tn) / n
        else:
            cmw = np.asarray(
                M.confusion_matrix(e.y_true, e.y_pred, labels=e.labels, sample_weight=w),
                dtype=np.float64,
            )
            wt = np.asarray(w, dtype=np.float64)
            total = wt.sum()
            wrong = cmw.sum(axis=1) + cmw.sum(axis=0) - 2 * np.diag(cmw)
            accuracy = (total - wrong) / total
        rows = []
        for i, label in enumerate(self.label_list):
            rows.append(
                {
                    "positive_class": label,
                    "true_negatives": tn[i],
                    "false_positives": fp[i],
                    "false_negatives": fn[i],
                    "true_positives": tp[i],
                    "example_count": n,
                    "accuracy_score": float(accuracy[i]),
                    "recall_score": float(recall[i]),
                    "precision_score": float(precision[i]),
                    "f1_score": float(f1[i]),
                }
            )
        return pd.DataFrame(rows)

    def _per_class_metrics_slow(self) -> pd.DataFrame:
        M, e, w = _metrics(), self._enc, self.sample_weights
        rows = []
        for label, code in zip(self.label_list, e.labels, strict=True):
            y_bin = (e.y_true == code).astype(np.int64)
            p_bin = (e.y_pred == code).astype(np.int64)
            row: dict[str, Any] = {"positive_class": label}
            with _suppress_class_imbalance_errors(ValueError):
                tn, fp, fn, tp = M.confusion_matrix(y_bin, p_bin, labels=[0, 1]).ravel()
                p, r, f, _ = M.precision_recall_fscore_support(
                    y_bin, p_bin, average="binary", pos_label=1, sample_weight=w
                )
                row.update(
                    {
                        "true_negatives": tn,
                        "false_positives": fp,
                        "false_negatives": fn,
                        "true_positives": tp,
                        "example_count": len(y_bin),
                        "accuracy_score": M.accuracy_score(y_bin, p_bin, sample_weight=w),
                        "recall_score": r,
                        "precision_score": p,
                        "f1_score": f,
                    }
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def _log_csv(self, df, artifact_name):
        # Same as ClassifierEvaluator._log_pandas_df_artifact (no metric_prefix in the name).
        file_name = f"{artifact_name}.csv"
        local_path = self.temp_dir.path(file_name)
        df.to_csv(local_path, index=False)
        mlflow.log_artifact(local_path)
        artifact = CsvEvaluationArtifact(uri=mlflow.get_artifact_uri(file_name), content=df)
        artifact._load(local_path)
        self.artifacts[artifact_name] = artifact

    def _confusion_matrix_artifact(self):
        e = self._enc
        matrix = _metrics().confusion_matrix(
            e.y_true,
            e.y_pred,
            labels=e.labels,
            normalize="true",
            sample_weight=self.sample_weights,
        )
        self._image(
            "confusion_matrix",
            lambda: _confusion_matrix_figure(np.asarray(matrix), self.label_list),
        )


class _Encoded:
    """Labels as the metric kernels see them. Object/str labels become their index in the
    sorted label list (order-preserving, so sorted-label semantics such as ``log_loss`` column
    order and ``roc_auc_score`` classes are unchanged); anything else passes through."""

    def __init__(self, y_true, y_pred, label_list, pos_label):
        self.y_true = np.asarray(y_true)
        self.y_pred = _as_1d(y_pred)
        self.labels = list(label_list)
        self.pos_label = pos_label
        self.decode = None  # code -> label when encoded
        codes = self._codes(label_list)
        if codes is not None:
            index, self.y_true, self.y_pred = codes
            self.decode = sorted(index, key=index.get)
            self.labels = [index[x] for x in label_list]
            self.pos_label = index.get(pos_label, pos_label) if pos_label is not None else None

    def _codes(self, label_list):
        yt, yp = self.y_true, self.y_pred
        if yt.dtype != object or yp.dtype != object:
            return None
        labels = list(label_list)
        if not all(isinstance(x, str) for x in labels) or len(set(labels)) != len(labels):
            return None
        ordered = sorted(labels)
        index = {x: i for i, x in enumerate(ordered)}
        lookup = pd.Index(ordered)
        ct, cp = lookup.get_indexer(yt), lookup.get_indexer(yp)
        if (ct < 0).any() or (cp < 0).any():
            return None
        return index, ct.astype(np.int64), cp.astype(np.int64)


def _sorted_or_same(labels):
    try:
        return sorted(labels)
    except TypeError:
        return labels


def _as_1d(values):
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    return arr


def _unique_sorted(y_true, y_pred):
    """``np.unique(np.concatenate([y_true, y_pred]))`` via hashing, then sorting only the
    distinct values."""
    both = np.concatenate([y_true, y_pred])
    if both.dtype.kind not in "biuO":
        return np.unique(both)
    return np.sort(pd.unique(both))


def _python_sum(y):
    """``sum(y)`` exactly as MLflow computes ``sum_on_target`` (builtin ``sum``: sequential
    left-to-right additions). ``np.cumsum`` adds in the same order and rounding."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and len(y) and y.dtype.kind in "f":
        return np.cumsum(y)[-1]
    if isinstance(y, np.ndarray) and y.ndim == 1 and len(y) and y.dtype in (np.int64, np.uint64):
        return y.sum()
    return sum(y)
