"""Figure of the memory analysis: peak memory per rank, measured, fitted and predicted.

:func:`plot_memory` draws the runs of a :class:`spikeflow.analysis.memory.MemoryAnalysis`
against connections per rank, with its fitted :class:`spikeflow.analysis.memory.MemoryModel`
and its predictions, saves the figure as PNG (150 dpi) atomically and closes it
(:func:`spikeflow.plots.common.save_figure`). Memory in MB = kB / 1024.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.ticker import FuncFormatter

from spikeflow.analysis.costs import KB_PER_MB
from spikeflow.analysis.memory import TARGET, MemoryAnalysis
from spikeflow.plots.common import pyplot, save_figure

plt = pyplot()  # matplotlib.pyplot on the Agg backend

__all__ = ["plot_memory"]

#: Colour of the measured runs, by number of ranks (in increasing order).
RANK_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
#: Colour of the predicted points.
PREDICTED_COLOR = "#d62728"


def plot_memory(result: MemoryAnalysis, path: str | os.PathLike) -> Path:
    """Peak memory per rank (MB) against connections per rank.

    Measured runs are filled circles (colour: ranks), the model evaluated along the
    measured and predicted sizes a line, predictions open diamonds (labelled by scale),
    and the reference implementation's figures grey squares where the prediction row has
    one (per rank = reference / ranks). Both axes are logarithmic when the connections
    per rank span more than a factor of 10. A box gives the fitted coefficients (MB per
    rank, kB per neuron, B per connection) or, without a model, why the fit failed.

    Args:
        result: the memory analysis: its ``records`` (``n_connections``, ``n_neurons``,
            ``ranks`` and the fitted target, MB), ``model`` (the generic terms, or None if
            the fit failed, then ``error`` says why) and ``prediction`` rows
            (:data:`spikeflow.analysis.memory.PREDICTION_COLUMNS`: memory of the whole job,
            MB; drawn per rank, i.e. divided by ``ranks``).
        path: PNG file to write.

    Returns:
        The path written.
    """
    records, model, prediction, error = result.records, result.model, result.prediction, result.error
    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    k = np.array([r["n_connections"] / r["ranks"] for r in records], dtype=float)
    y = np.array([r.get(TARGET, math.nan) for r in records], dtype=float)
    ranks = sorted({int(r["ranks"]) for r in records})
    for i, nr in enumerate(ranks):
        sel = np.array([int(r["ranks"]) == nr for r in records])
        ax.scatter(k[sel], y[sel], s=30, color=RANK_COLORS[i % len(RANK_COLORS)], zorder=3,
                   label=f"measured, {nr} rank{'s' if nr > 1 else ''}")

    points = [(r["n_neurons"] / r["ranks"], r["n_connections"] / r["ranks"]) for r in records]
    points += [(p["neurons"] / p["ranks"], p["connections"] / p["ranks"]) for p in prediction]
    if model is not None and points:
        line = sorted(set(points), key=lambda p: p[1])
        xs = np.array([p[1] for p in line])
        ys = model.predict_mb(np.array([p[0] for p in line]), xs, 1)
        ax.plot(xs, ys, "-", color="black", linewidth=1, zorder=2, label="fitted model")
    if model is not None and prediction:
        px = np.array([p["connections"] / p["ranks"] for p in prediction], dtype=float)
        py = np.array([p["predicted_mb"] / p["ranks"] for p in prediction], dtype=float)
        ax.scatter(px, py, marker="D", s=40, facecolors="none", edgecolors=PREDICTED_COLOR, linewidths=1.2,
                   zorder=4, label="predicted")
        for x, yy, p in zip(px, py, prediction):
            if p.get("scale") is not None:
                ax.annotate(f"×{p['scale']:g}", (x, yy), textcoords="offset points", xytext=(-7, 5), ha="right",
                            fontsize=7, color=PREDICTED_COLOR)
    refs = [p for p in prediction if p.get("reference_mb") is not None]
    if refs:
        ax.scatter([p["connections"] / p["ranks"] for p in refs], [p["reference_mb"] / p["ranks"] for p in refs],
                   marker="s", s=28, color="#999999", zorder=3, label="PD14 reference implementation")

    xs_all = list(k) + [p["connections"] / p["ranks"] for p in prediction]
    if xs_all and max(xs_all) / max(min(xs_all), 1.0) > 10:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("connections per rank")
    ax.set_ylabel("peak memory per rank (MB)")
    if model is not None:
        text = (
            f"fit: {model.base_mb:,.0f} MB\n+ {model.mb_per_neuron * KB_PER_MB:,.2f} kB per neuron\n"
            f"+ {model.mb_per_connection * KB_PER_MB**2:,.1f} B per connection\n"
            f"rms residual {model.rmse_mb:,.1f} MB ({model.fitted_on.get('n_runs', 0)} runs)"
        )
    else:
        text = "no model fitted:\n" + "\n".join(textwrap.wrap(error or "", 48))
    ax.text(0.98, 0.03, text, transform=ax.transAxes, ha="right", va="bottom", multialignment="left", fontsize=7.5,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"}, zorder=5)
    ax.set_title("peak memory per rank: measured, fitted and predicted", fontsize=10)
    ax.grid(alpha=0.3, which="major")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return save_figure(fig, path)
