"""The validation figure: per population and statistic, the candidate's distance from the
reference against the reference's seed-to-seed spread, coloured by pass or fail.

One row per measure (KS distance; effect size), one column per statistic (rate, CV of ISIs,
spike-count correlation); populations along the x axis. For each population the reference's
seed-to-seed distances are grey dots (a box over them), the threshold of the rule is a black
bar, and the candidate's median distance is a large marker: green when it passes, red when it
fails (hollow grey for an undetermined cell). The axes are logarithmic; distances below
:data:`FLOOR` are drawn at it. The title carries the verdict and the rule.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spikeflow.plots.common import pyplot, save_figure

__all__ = ["validation_figure"]

PASS_COLOUR = "#1a9850"
FAIL_COLOUR = "#d73027"
SPREAD_COLOUR = "#9e9e9e"
#: Distances below this are drawn at it (log axis); an undetermined cell's marker sits there.
FLOOR = 1e-3


def validation_figure(result: Mapping[str, Any], path: str | os.PathLike, title: str | None = None) -> Path:
    """Draw the result of :func:`spikeflow.analysis.validation.validate` to ``path`` (PNG).

    Args:
        result: the dict :func:`validate` returns, or the validation.json document of
            :func:`~spikeflow.analysis.validation.validate_runs` (needs ``cells``, ``verdict``, ``rule``).
        path: the PNG file to write (atomically).
        title: first title line (default: "validation: VERDICT").

    Returns:
        The path written.
    """
    from spikeflow.analysis.validation import (
        MEASURE_LABELS,
        MEASURES,
        STATISTIC_LABELS,
        STATISTICS,
    )

    plt = pyplot()
    cells = result["cells"]
    pops = list(cells)
    x = np.arange(len(pops))
    fig, axes = plt.subplots(len(MEASURES), len(STATISTICS), figsize=(4.2 * len(STATISTICS), 3.2 * len(MEASURES) + 1.2), squeeze=False)
    rng = np.random.default_rng(0)  # jitter of the grey dots only
    for r, m in enumerate(MEASURES):
        for c, s in enumerate(STATISTICS):
            ax = axes[r][c]
            top = FLOOR
            for i, pop in enumerate(pops):
                cell = cells[pop][s]
                spread = np.maximum(np.asarray(cell[f"{m}_seed_to_seed"], float), FLOOR)
                if spread.size:
                    top = max(top, float(spread.max()))
                    ax.boxplot([spread], positions=[i], widths=0.5, showfliers=False, whis=(0, 100),
                               medianprops={"color": SPREAD_COLOUR}, boxprops={"color": SPREAD_COLOUR},
                               whiskerprops={"color": SPREAD_COLOUR}, capprops={"color": SPREAD_COLOUR})
                    ax.scatter(i + rng.uniform(-0.15, 0.15, spread.size), spread, s=6, color=SPREAD_COLOUR, zorder=2)
                threshold = cell[f"{m}_threshold"]
                if np.isfinite(threshold):
                    top = max(top, threshold)
                    ax.hlines(threshold, i - 0.35, i + 0.35, color="black", lw=1.5, zorder=3)
                value = cell[f"{m}_candidate"]
                if cell["status"] == "undetermined" or not np.isfinite(value):
                    ax.scatter([i], [FLOOR], marker="o", s=60, facecolors="none", edgecolors=SPREAD_COLOUR, zorder=4)
                    continue
                ok = cell[f"{m}_pass"]
                value = max(value, FLOOR)
                top = max(top, value) if np.isfinite(value) else top
                ax.scatter([i], [min(value, 1e3)], marker="D" if ok else "X", s=70 if ok else 110,
                           color=PASS_COLOUR if ok else FAIL_COLOUR, edgecolors="black", linewidths=0.5, zorder=5)
            ax.set_xticks(x, pops, rotation=45 if len(pops) > 8 else 0, fontsize=8)
            ax.set_xlim(-0.6, len(pops) - 0.4)
            ax.set_yscale("log")
            ax.set_ylim(FLOOR * 0.8, min(top, 1e3) * 1.8)
            ax.grid(axis="y", alpha=0.3)
            if r == 0:
                ax.set_title(STATISTIC_LABELS[s], fontsize=10)
            if c == 0:
                ax.set_ylabel(MEASURE_LABELS[m], fontsize=9)
    handles = [
        plt.Line2D([], [], marker="D", ls="", color=PASS_COLOUR, markeredgecolor="black", label="candidate: pass"),
        plt.Line2D([], [], marker="X", ls="", color=FAIL_COLOUR, markeredgecolor="black", markersize=9, label="candidate: fail"),
        plt.Line2D([], [], marker="o", ls="", color=SPREAD_COLOUR, label="reference seed vs seed"),
        plt.Line2D([], [], color="black", label="threshold"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    verdict = result["verdict"]
    head = title or f"validation: {verdict}"
    colour = PASS_COLOUR if verdict == "PASS" else FAIL_COLOUR if verdict == "FAIL" else "black"
    fig.suptitle(head, fontsize=13, color=colour, fontweight="bold", y=0.995)
    fig.text(0.5, 0.955, "\n".join(textwrap.wrap(result["rule"], 170)), ha="center", va="top", fontsize=6.5)
    fig.tight_layout(rect=(0, 0.04, 1, 0.91))
    return save_figure(fig, path)
