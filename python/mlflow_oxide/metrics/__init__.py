"""scikit-learn's metrics, computed natively: same names, arguments and results as
`sklearn.metrics`, over numpy, pandas, pyarrow, polars or lists, on all cores with the GIL
released. Mergeable states (`ConfusionMatrixState`, `RegressionState`, `BinaryScoreState`)
compute the same metrics over data split across processes."""

from mlflow_oxide.metrics._classification import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    matthews_corrcoef,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from mlflow_oxide.metrics._fallback import fallbacks, reset_fallbacks
from mlflow_oxide.metrics._probabilistic import brier_score_loss, log_loss, top_k_accuracy_score
from mlflow_oxide.metrics._ranking import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from mlflow_oxide.metrics._regression import (
    explained_variance_score,
    max_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    mean_squared_error,
    mean_squared_log_error,
    median_absolute_error,
    r2_score,
    root_mean_squared_error,
    root_mean_squared_log_error,
)
from mlflow_oxide.metrics._states import BinaryScoreState, ConfusionMatrixState, RegressionState

__all__ = [
    "BinaryScoreState",
    "ConfusionMatrixState",
    "RegressionState",
    "accuracy_score",
    "average_precision_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "confusion_matrix",
    "explained_variance_score",
    "f1_score",
    "fallbacks",
    "fbeta_score",
    "log_loss",
    "matthews_corrcoef",
    "max_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_pinball_loss",
    "mean_squared_error",
    "mean_squared_log_error",
    "median_absolute_error",
    "multilabel_confusion_matrix",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "reset_fallbacks",
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
    "root_mean_squared_log_error",
    "top_k_accuracy_score",
]
