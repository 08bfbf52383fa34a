"""Drift between two categorical samples, from their category counts (nulls left out).

Proportions are taken over the union of categories (reference first-seen order, then new
ones). ``chi2`` is ``scipy.stats.chi2_contingency`` on the 2 x k table of counts; PSI fills
empty categories with 0.0001 as the numeric PSI does; Jensen-Shannon is
``scipy.spatial.distance.jensenshannon``; total variation is ``sum(|r - c|) / 2`` and
L-infinity ``max(|r - c|)``. ``z`` is the two-proportion z-test on the first category in
sorted order (Evidently's test for columns with at most two values)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mlflow_oxide.drift._binned import js_of, psi_of
from mlflow_oxide.drift._values import categories


class CategoryCounts(NamedTuple):
    labels: list
    counts: np.ndarray
    nulls: int

    @property
    def total(self) -> float:
        return float(self.counts.sum())


class CategoricalDrift(NamedTuple):
    labels: list
    reference_share: np.ndarray
    current_share: np.ndarray
    chi2_statistic: float
    chi2_pvalue: float
    psi: float
    jensenshannon: float
    total_variation: float
    linf: float
    z_pvalue: float
    new_categories: list
    missing_categories: list


def counts_of(x, name: str) -> CategoryCounts:
    labels, counts, nulls = categories(x, name)
    return CategoryCounts(labels, counts, nulls)


def aligned(ref: CategoryCounts, cur: CategoryCounts) -> tuple[list, np.ndarray, np.ndarray]:
    """Both count vectors over the union of categories."""
    index = {label: i for i, label in enumerate(ref.labels)}
    labels = list(ref.labels)
    for label in cur.labels:
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
    r = np.zeros(len(labels))
    c = np.zeros(len(labels))
    r[: len(ref.labels)] = ref.counts
    c[[index[label] for label in cur.labels]] = cur.counts
    return labels, r, c


def _first_sorted(labels: list) -> int:
    try:
        order = sorted(range(len(labels)), key=lambda i: labels[i])
    except TypeError:  # mixed label types
        order = sorted(range(len(labels)), key=lambda i: (type(labels[i]).__name__, str(labels[i])))
    return order[0]


def z_pvalue(labels: list, r: np.ndarray, c: np.ndarray) -> float:
    """Two-sided two-proportion z-test on the share of the first category in sorted order
    (as Evidently picks it), so the result does not depend on row order."""
    from scipy.stats import norm

    k = _first_sorted(labels)
    n1, n2 = r.sum(), c.sum()
    p1, p2 = r[k] / n1, c[k] / n2
    pooled = (r[k] + c[k]) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * (1 - norm.cdf(abs(z))))


def compare(ref: CategoryCounts, cur: CategoryCounts) -> CategoricalDrift:
    from scipy.stats import chi2_contingency

    if ref.total == 0 or cur.total == 0:
        raise ValueError("a categorical sample has no non-null values")
    labels, r, c = aligned(ref, cur)
    if len(labels) > 1:
        chi2 = chi2_contingency(np.vstack([r, c]))
        chi2_statistic, chi2_pvalue = float(chi2.statistic), float(chi2.pvalue)
    else:
        chi2_statistic, chi2_pvalue = 0.0, 1.0
    rp, cp = r / r.sum(), c / c.sum()
    diff = np.abs(rp - cp)
    return CategoricalDrift(
        labels=labels,
        reference_share=rp,
        current_share=cp,
        chi2_statistic=chi2_statistic,
        chi2_pvalue=chi2_pvalue,
        psi=psi_of(rp, cp),
        jensenshannon=js_of(rp, cp),
        total_variation=float(diff.sum() / 2),
        linf=float(diff.max()),
        z_pvalue=z_pvalue(labels, r, c),
        new_categories=[label for label, n in zip(labels, r, strict=True) if n == 0],
        missing_categories=[label for label, n in zip(labels, c, strict=True) if n == 0],
    )


def categorical_drift(reference, current) -> CategoricalDrift:
    """Every categorical drift measure at once (categories are counted once)."""
    return compare(counts_of(reference, "reference"), counts_of(current, "current"))


def chi2_categorical(reference, current):
    """``scipy.stats.chi2_contingency`` on the reference and current frequency rows."""
    from scipy.stats import chi2_contingency

    labels, r, c = aligned(counts_of(reference, "reference"), counts_of(current, "current"))
    if len(labels) < 2:
        raise ValueError("chi-square needs at least two categories across both samples")
    return chi2_contingency(np.vstack([r, c]))


def categorical_psi(reference, current) -> float:
    return categorical_drift(reference, current).psi


def categorical_jensenshannon(reference, current) -> float:
    return categorical_drift(reference, current).jensenshannon


def total_variation(reference, current) -> float:
    return categorical_drift(reference, current).total_variation


def linf_distance(reference, current) -> float:
    return categorical_drift(reference, current).linf
