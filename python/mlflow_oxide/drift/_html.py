"""A self-contained HTML drift report: the per-column table, then a histogram and an ECDF
(numeric) or the category shares (categorical) per column, as inline SVG drawn by matplotlib
(object API, no pyplot state). Plots use the summaries the report kept, not the raw rows."""

from __future__ import annotations

import html
import io

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}
tr.drift td{background:#fde2e1} tr.error td{background:#f2f2f2;color:#777}
.column{margin:1.5em 0;padding-top:.5em;border-top:1px solid #ddd}
.verdict{font-size:18px;margin:.5em 0 1em}
"""


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.6g}"
    return html.escape(str(x))


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(plot: dict, title: str) -> str:
    from matplotlib.figure import Figure

    if plot["kind"] == "numeric":
        figure = Figure(figsize=(10, 3))
        hist, ecdf = figure.subplots(1, 2)
        edges = plot["edges"]
        for key, color in (("reference", "#4c72b0"), ("current", "#dd8452")):
            hist.stairs(plot[key], edges, label=key, color=color, fill=False, linewidth=1.5)
            ecdf.plot(plot[f"{key}_quantiles"], plot["quantiles"], label=key, color=color)
        hist.set_title(f"{title}: share per bin")
        ecdf.set_title(f"{title}: ECDF")
        ecdf.set_ylabel("cumulative share")
        hist.legend(loc="upper right")
        ecdf.legend(loc="lower right")
    else:
        import numpy as np

        figure = Figure(figsize=(10, 3))
        ax = figure.subplots()
        labels = plot["labels"]
        x = np.arange(len(labels))
        ax.bar(x - 0.2, plot["reference"], width=0.4, label="reference", color="#4c72b0")
        ax.bar(x + 0.2, plot["current"], width=0.4, label="current", color="#dd8452")
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
        other = plot.get("other_categories", 0)
        suffix = f" (top {len(labels)}; {other} more)" if other else ""
        ax.set_title(f"{title}: category shares{suffix}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def render(report, title: str = "Data drift report", context: dict | None = None) -> str:
    summary = report.summary()
    verdict = "Dataset drift detected" if summary["dataset_drift"] else "No dataset drift"
    rows = []
    headers = [
        "column",
        "kind",
        "test",
        "score",
        "threshold",
        "drifted",
        "status",
        "reference null share",
        "current null share",
        "new categories",
        "missing categories",
    ]
    for c in report.columns:
        css = "error" if not c.ok else ("drift" if c.drifted else "")
        cells = [
            c.column,
            c.kind,
            c.test,
            c.score,
            c.threshold,
            c.drifted,
            c.status,
            c.reference_null_share,
            c.current_null_share,
            ", ".join(map(str, c.new_categories[:10])),
            ", ".join(map(str, c.missing_categories[:10])),
        ]
        rows.append(f'<tr class="{css}">' + "".join(f"<td>{_fmt(v)}</td>" for v in cells) + "</tr>")
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p class='verdict'><b>{verdict}</b>: {summary['drifted']} of {summary['tested']} "
        f"tested columns drifted (share {summary['drifted_share']:.3g}, "
        f"threshold {summary['drift_share']:.3g}).</p>",
    ]
    if context:
        parts.append(
            "<p>"
            + "<br>".join(f"<b>{html.escape(k)}</b>: {_fmt(v)}" for k, v in context.items())
            + "</p>"
        )
    parts.append(
        "<table><tr>"
        + "".join(f"<th>{h}</th>" for h in headers)
        + "</tr>"
        + "".join(rows)
        + "</table>"
    )
    for c in report.columns:
        if c.plot is None:
            continue
        parts.append(
            f"<div class='column' id='column-{html.escape(c.column)}'>"
            f"<h3>{html.escape(c.column)} — {html.escape(str(c.test))}: {_fmt(c.score)}"
            f"{' (drift)' if c.drifted else ''}</h3>{_figure(c.plot, c.column)}</div>"
        )
    parts.append("</body></html>")
    return "".join(parts)
