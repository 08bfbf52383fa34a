"""Drift between a reference sample (training data, or a baseline profile of it) and a current
one (production data).

- scipy-compatible numeric tests, native with scipy's results: ``ks_2samp``,
  ``wasserstein_distance``, ``anderson_ksamp``, ``cramervonmises_2samp``;
- numeric divergences on reference-quantile bins: ``psi``, ``jensenshannon``,
  ``kl_divergence``, ``hellinger``, and ``wasserstein_normalized``;
- categorical: ``categorical_drift`` (all measures at once), ``chi2_categorical``,
  ``categorical_psi``, ``categorical_jensenshannon``, ``total_variation``, ``linf_distance``;
- tables: ``drift_report`` and ``log_drift``; baselines: ``BaselineProfile``.

NaN policy: see ``mlflow_oxide.drift._values``."""

from mlflow_oxide.drift._binned import (
    hellinger,
    jensenshannon,
    kl_divergence,
    psi,
    quantile_bins,
    wasserstein_normalized,
)
from mlflow_oxide.drift._categorical import (
    CategoricalDrift,
    categorical_drift,
    categorical_jensenshannon,
    categorical_psi,
    chi2_categorical,
    linf_distance,
    total_variation,
)
from mlflow_oxide.drift._log import log_drift
from mlflow_oxide.drift._profile import BaselineProfile
from mlflow_oxide.drift._report import TESTS, ColumnDrift, DriftReport, drift_report
from mlflow_oxide.drift._two_sample import (
    anderson_ksamp,
    cramervonmises_2samp,
    fallbacks,
    ks_2samp,
    reset_fallbacks,
    wasserstein_distance,
)

__all__ = [
    "TESTS",
    "BaselineProfile",
    "ColumnDrift",
    "DriftReport",
    "drift_report",
    "log_drift",
    "CategoricalDrift",
    "anderson_ksamp",
    "categorical_drift",
    "categorical_jensenshannon",
    "categorical_psi",
    "chi2_categorical",
    "cramervonmises_2samp",
    "fallbacks",
    "hellinger",
    "jensenshannon",
    "kl_divergence",
    "ks_2samp",
    "linf_distance",
    "psi",
    "quantile_bins",
    "reset_fallbacks",
    "total_variation",
    "wasserstein_distance",
    "wasserstein_normalized",
]
