"""Plots of the ``oxide`` evaluator. Figures are built with matplotlib's object API (no pyplot
state), fixed legend positions and a modest dpi; curves arrive thinned to about a thousand
points. Titles, labels and legends follow MLflow's default plots."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

_DPI = 100
_MAX_CURVE_POINTS = 1000


class _Curve(NamedTuple):
    x: np.ndarray
    y: np.ndarray
    auc: float


def _thin(x, y, max_points=_MAX_CURVE_POINTS):
    """At most ~``max_points`` points of a curve on [0, 1]²: the first point of every run of
    points falling in the same cell of a ``max_points/2`` grid, plus both ends. A monotone
    curve (ROC) crosses fewer cells than that, so its drawing keeps pixel resolution; anything
    longer (noisy PR heads) is strided down. Only for drawing: AUC/AP come from all points."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) <= max_points:
        return x, y
    grid = max_points // 2
    qx, qy = np.floor(x * grid), np.floor(y * grid)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1])
    keep[-1] = True
    idx = np.flatnonzero(keep)
    if len(idx) > max_points:
        idx = idx[np.unique(np.linspace(0, len(idx) - 1, max_points).round().astype(np.int64))]
    return x[idx], y[idx]


def _figure(figsize=(6.0, 4.0)):
    from matplotlib.figure import Figure

    # Fixed margins instead of MLflow's rc autolayout: a tight-layout pass measures every text
    # artist and costs about as much as drawing the figure.
    fig = Figure(figsize=figsize, dpi=_DPI, layout="none")
    fig.subplots_adjust(left=0.12, right=0.95, bottom=0.13, top=0.92)
    return fig


def _save_figure(fig, path):
    # Fast zlib level: these PNGs are mostly flat color and compress well anyway.
    fig.savefig(path, dpi=_DPI, pil_kwargs={"compress_level": 1})


def _curve_figure(curves, pos_label, *, kind):
    """ROC (``kind="roc"``) or precision-recall curves; ``curves``: [(label prefix, _Curve)]."""
    fig = _figure()
    ax = fig.add_subplot()
    name = "AUC" if kind == "roc" else "AP"
    for prefix, curve in curves:
        ax.plot(
            curve.x,
            curve.y,
            label=f"{prefix}{name}={curve.auc:.3f}",
            drawstyle="steps-post",
            linewidth=1,
        )
    dash = {"color": "gray", "alpha": 0.3, "drawstyle": "default", "linestyle": "dashed"}
    if kind == "roc":
        ax.plot([0, 1], [0, 1], **dash)
        xlabel, ylabel, title = "False Positive Rate", "True Positive Rate", "ROC curve"
    else:
        ax.plot([0, 1], [1, 0], **dash)
        xlabel, ylabel, title = "Recall", "Precision", "Precision recall curve"
    if pos_label:
        xlabel = f"{xlabel} (Positive label: {pos_label})"
        ylabel = f"{ylabel} (Positive label: {pos_label})"
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if len(curves) == 1:
        ax.legend(loc="lower right" if kind == "roc" else "lower left")
    else:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def _roc_figure(curves, pos_label):
    return _curve_figure(curves, pos_label, kind="roc")


def _pr_figure(curves, pos_label):
    return _curve_figure(curves, pos_label, kind="pr")


def _lift_points(hits, score, n_points=_MAX_CURVE_POINTS):
    """MLflow's cumulative-gain lift (rows sorted by descending score, ``gains / percentages``)
    at ~``n_points`` evenly spaced cut points instead of at every row."""
    order = np.argsort(np.asarray(score))[::-1]
    gains = np.cumsum(np.asarray(hits)[order], dtype=np.float64)
    n = len(gains)
    idx = np.unique(np.linspace(0, n - 1, min(n, n_points)).round().astype(np.int64))
    pct = (idx + 1) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (gains[idx] / gains[-1]) / pct
    return pct, lift


def _lift_figure(y_true, probs, decode, pos_label):
    """MLflow's ``plot_lift_curve`` (one line per class column, a baseline at 1)."""
    classes = np.sort(pd.unique(y_true))
    if len(classes) != 2:
        raise ValueError(f"Cannot calculate Lift Curve for data with {len(classes)} category/ies")
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title("Lift Curve", fontsize="large")
    for col, cls in enumerate(classes):
        pct, lift = _lift_points(y_true == cls, probs[:, col])
        name = decode[cls] if decode is not None else cls
        suffix = " (positive)" if pos_label is not None and cls == pos_label else ""
        ax.plot(pct, lift, lw=3, label=f"Class {name}{suffix}")
    ax.plot([0, 1], [1, 1], "k--", lw=2, label="Baseline")
    ax.set_xlabel("Percentage of sample", fontsize="medium")
    ax.set_ylabel("Lift", fontsize="medium")
    ax.tick_params(labelsize="medium")
    ax.grid(True)
    ax.legend(loc="upper right", fontsize="medium")
    return fig


def _calibration_points(hits, prob, n_bins):
    """``sklearn.calibration.calibration_curve(strategy="uniform")`` with bincounts."""
    prob = np.asarray(prob, dtype=np.float64)
    if prob.min() < 0 or prob.max() > 1:
        raise ValueError("y_prob has values outside [0, 1].")
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    binids = np.searchsorted(bins[1:-1], prob)
    bin_sums = np.bincount(binids, weights=prob, minlength=len(bins))
    bin_true = np.bincount(binids, weights=hits, minlength=len(bins))
    bin_total = np.bincount(binids, minlength=len(bins))
    nonzero = bin_total != 0
    return bin_sums[nonzero] / bin_total[nonzero], bin_true[nonzero] / bin_total[nonzero]


def _calibration_figure(series, pos_label, config):
    """Binary: sklearn ``CalibrationDisplay`` look; multiclass: MLflow's per-class plot.
    ``series``: [(legend label or None, hits bool array, probabilities)]."""
    name = config.get("calibration_classifier_name", None)
    n_bins = config.get("calibration_n_bins", 10)
    if config and not isinstance(config.get("calibration_classifier_name", ""), str):
        raise TypeError("calibration_classifier_name should be of type string")
    if config and not isinstance(n_bins, int):
        raise TypeError("calibration_n_bins should be of type int")
    fig = _figure()
    ax = fig.add_subplot()
    if len(series) == 1:
        _, hits, prob = series[0]
        mean_pred, frac_pos = _calibration_points(hits, prob, n_bins)
        ax.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")
        ax.plot(mean_pred, frac_pos, "s-", label=name or "Classifier")
        ax.set_xlabel(f"Mean predicted probability (Positive class: {pos_label})")
        ax.set_ylabel(f"Fraction of positives (Positive class: {pos_label})")
        ax.legend(loc="lower right")
        return fig
    for label, hits, prob in series:
        mean_pred, frac_pos = _calibration_points(hits, prob, n_bins)
        ax.plot(mean_pred, frac_pos, marker="o", markersize=3, label=label)
    ax.plot([0, 1], [0, 1], linestyle="dotted", label="Perfect Calibration", color="black")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=max(1, len(series) // 3))
    ax.set_title(f"{name or 'Classifier'} Calibration", fontsize=12)
    ax.set_xlabel("Mean Predicted Probability", fontsize=10)
    ax.set_ylabel("Fraction of True Positives", fontsize=10)
    return fig


def _confusion_matrix_figure(matrix, labels):
    """The normalized confusion matrix as sklearn's ``ConfusionMatrixDisplay`` draws it."""
    import matplotlib

    n = len(labels)
    with matplotlib.rc_context({"font.size": min(8, math.ceil(50.0 / n)), "axes.labelsize": 8}):
        fig = _figure()
        ax = fig.add_subplot()
        image = ax.imshow(matrix, interpolation="nearest", cmap="Blues")
        fig.colorbar(image, ax=ax)
        if n <= 50:  # one text artist per cell; unreadable (and slow) beyond that
            cmap_min, cmap_max = image.cmap(0), image.cmap(1.0)
            threshold = (np.nanmax(matrix) + np.nanmin(matrix)) / 2.0 if matrix.size else 0
            for i in range(n):
                for j in range(n):
                    color = cmap_max if matrix[i, j] < threshold else cmap_min
                    text = format(matrix[i, j], ".2g")
                    ax.text(j, i, text, ha="center", va="center", color=color)
        names = [str(x) for x in labels]
        ax.set(
            xticks=np.arange(n),
            yticks=np.arange(n),
            xticklabels=names,
            yticklabels=names,
            ylabel="True label",
            xlabel="Predicted label",
            title="Normalized confusion matrix",
        )
        ax.set_ylim((n - 0.5, -0.5))
    return fig
