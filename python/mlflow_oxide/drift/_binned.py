"""Binned divergences between a reference and a current numeric sample, on reference-quantile
bins: the interior edges are ``np.unique(np.quantile(reference, linspace(0, 1, bins + 1)))``
without the outermost two, bins are left-closed (``np.searchsorted(edges, x, "right")``) and
the outer bins are open, so current values outside the reference range are counted too.

- PSI: ``sum((c - r) * ln(c / r))`` over bin proportions, empty bins counted as 0.0001
  (Evidently's convention), as is KL divergence ``scipy.stats.entropy(r, c)`` = KL(r || c).
- Jensen-Shannon distance: ``scipy.spatial.distance.jensenshannon(r, c)`` (natural log).
- Hellinger distance: ``sqrt(sum((sqrt(r) - sqrt(c))**2) / 2)``.
- Normalized Wasserstein: ``wasserstein_distance(r, c) / max(np.std(r), 0.001)`` (Evidently's).

Sorting and counting are native; the formulas run on the few bin proportions. Nulls are left
out (see ``_values``)."""

from __future__ import annotations

import math

import numpy as np

from mlflow_oxide import _native
from mlflow_oxide.drift._sorting import sort_samples
from mlflow_oxide.drift._values import numeric

EMPTY_BIN = 1e-4
DEFAULT_BINS = 10


def _non_null(x, name: str) -> np.ndarray:
    values, _ = numeric(x, name)
    if values.size == 0:
        raise ValueError(f"{name} has no non-null values")
    return values


def check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    return int(bins)


def edges_of(ref, bins: int) -> np.ndarray:
    """Interior reference-quantile edges of a sorted reference sample."""
    bins = check_bins(bins)
    return np.unique(np.asarray(ref.quantiles(list(np.linspace(0, 1, bins + 1)))))[1:-1]


def proportions(ref, cur, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interior edges and each sample's share per bin, from sorted samples."""
    edges = edges_of(ref, bins)
    r = np.asarray(ref.bin_counts(list(edges)))
    c = np.asarray(cur.bin_counts(list(edges)))
    return edges, r / r.sum(), c / c.sum()


def _filled(p: np.ndarray) -> np.ndarray:
    return np.where(p == 0, EMPTY_BIN, p)


def psi_of(r: np.ndarray, c: np.ndarray) -> float:
    r, c = _filled(r), _filled(c)
    return float(np.sum((c - r) * np.log(c / r)))


def kl_of(r: np.ndarray, c: np.ndarray) -> float:
    from scipy.stats import entropy

    return float(entropy(_filled(r), _filled(c)))


def js_of(r: np.ndarray, c: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(r, c))


def hellinger_of(r: np.ndarray, c: np.ndarray) -> float:
    return float(math.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2) / 2))


def normalized_wasserstein_of(ref, cur, reference_std: float) -> float:
    return float(_native.wasserstein_of(ref, cur)) / max(reference_std, 0.001)


def quantile_bins(reference, current, bins: int = DEFAULT_BINS):
    """``(interior_edges, reference_shares, current_shares)`` on reference-quantile bins.
    Nothing is sorted: the reference's quantiles come from a native radix selection and every
    value finds its bin by binary search over the edges."""
    bins = check_bins(bins)
    r = _non_null(reference, "reference")
    c = _non_null(current, "current")
    qs = list(np.linspace(0, 1, bins + 1))
    edges = list(np.unique(np.asarray(_native.quantiles_unsorted(r, qs)))[1:-1])
    rc = np.asarray(_native.bin_counts_unsorted(r, edges))
    cc = np.asarray(_native.bin_counts_unsorted(c, edges))
    return np.asarray(edges), rc / rc.sum(), cc / cc.sum()


def psi(reference, current, bins: int = DEFAULT_BINS) -> float:
    """Population stability index on reference-quantile bins."""
    _, r, c = quantile_bins(reference, current, bins)
    return psi_of(r, c)


def kl_divergence(reference, current, bins: int = DEFAULT_BINS) -> float:
    """KL(reference || current) on reference-quantile bins (natural log)."""
    _, r, c = quantile_bins(reference, current, bins)
    return kl_of(r, c)


def jensenshannon(reference, current, bins: int = DEFAULT_BINS) -> float:
    """Jensen-Shannon distance on reference-quantile bins (natural log, in [0, sqrt(ln 2)])."""
    _, r, c = quantile_bins(reference, current, bins)
    return js_of(r, c)


def hellinger(reference, current, bins: int = DEFAULT_BINS) -> float:
    """Hellinger distance on reference-quantile bins (in [0, 1])."""
    _, r, c = quantile_bins(reference, current, bins)
    return hellinger_of(r, c)


def wasserstein_normalized(reference, current) -> float:
    """Wasserstein-1 distance divided by the reference's standard deviation (at least
    0.001), Evidently's ``wasserstein`` drift score."""
    r = _non_null(reference, "reference")
    ref, cur = sort_samples([r, _non_null(current, "current")])
    return normalized_wasserstein_of(ref, cur, float(np.std(r)))
