"""Drift metrics computed natively with scipy's results: two-sample Kolmogorov-Smirnov and
Wasserstein-1 so far (issue 4 is in progress: binned divergences, categorical tests, the table
report and baseline profiles are not built yet)."""

from mlflow_oxide.drift._two_sample import (
    fallbacks,
    ks_2samp,
    reset_fallbacks,
    wasserstein_distance,
)

__all__ = ["fallbacks", "ks_2samp", "reset_fallbacks", "wasserstein_distance"]
