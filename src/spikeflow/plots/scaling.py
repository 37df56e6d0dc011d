"""Figures of the scaling analysis: time per phase, real-time factor and parallel efficiency.

Every function draws one figure from the rows of
:func:`spikeflow.analysis.scaling.scaling_table` (configurations grouped over seeds, with
``series``, ``series_label``, ``reference``, ``vps`` and the wall-time and efficiency
columns), saves it as PNG (150 dpi) atomically and closes it
(:func:`spikeflow.plots.common.save_figure`). Times are in s of wall clock, the real-time
factor is wall time per second of model time, efficiencies are dimensionless.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from spikeflow.analysis.costs import PHASES
from spikeflow.plots.common import pyplot, save_figure

plt = pyplot()  # matplotlib.pyplot on the Agg backend

__all__ = ["figure_title", "plot_phases", "plot_rtf", "plot_efficiency"]

#: Colour of each phase in the stacked bars of :func:`plot_phases`.
PHASE_COLORS = {"create": "#a6cee3", "connect": "#1f78b4", "presimulate": "#b2df8a", "simulate": "#33a02c"}
#: Colour and marker of the i-th series in :func:`plot_rtf` and :func:`plot_efficiency`.
SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
#: Figure titles of the series kinds of :func:`spikeflow.analysis.scaling.classify_series`.
_SERIES_NAMES = {
    "strong": "strong scaling",
    "weak": "weak scaling",
    "mixed": "strong scaling per network",
    "none": "no scaling series",
}


def figure_title(records: Sequence[Mapping[str, Any]], series: str) -> str:
    """The title of the scaling figures, e.g. ``"pd14: strong scaling"``.

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records (their models are
            listed).
        series: the kind of :func:`spikeflow.analysis.scaling.classify_series`
            ("strong", "weak", "mixed" or "none").

    Returns:
        The models, comma-separated and sorted, then the kind of series.
    """
    models = ", ".join(sorted({r["model"] for r in records}))
    return f"{models}: {_SERIES_NAMES[series]}"


def _nan0(value: Any) -> float:
    """The value as float, 0 for None and NaN/inf (bar heights, error bars)."""
    return float(value) if value is not None and math.isfinite(value) else 0.0


def _compact(n: float) -> str:
    """1234 -> '1.2k', 77169 -> '77.2k', 1.5e6 -> '1.5M'."""
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return f"{n:g}"


def _by_series(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Rows grouped by (series, label), each sorted by VPs then ranks; series 'none' last."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["series"], row.get("series_label") or ""), []).append(row)
    out = []
    for (kind, label), members in sorted(groups.items(), key=lambda kv: (kv[0][0] == "none", kv[0][1])):
        members.sort(key=lambda r: (r["vps"], r["ranks"]))
        out.append((label if label else ("single configuration" if len(members) == 1 else "no series"), members))
    return out


def _vps_axis(ax: Any, vps: Sequence[int]) -> None:
    """Log2 VP axis with the measured VP counts as plain tick labels."""
    vps = sorted(set(int(v) for v in vps))
    if len(vps) > 1 and vps[-1] / vps[0] >= 4:
        ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(vps))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(v) for v in vps])
    pad = 0.25 if ax.get_xscale() == "log" else 0.5
    if ax.get_xscale() == "log":
        ax.set_xlim(vps[0] * 2 ** -pad, vps[-1] * 2 ** pad)
    else:
        ax.set_xlim(vps[0] - pad, vps[-1] + pad)
    ax.set_xlabel("virtual processes (ranks × threads)")


def plot_phases(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, title: str = "") -> Path:
    """Stacked bars of the wall time (s) of each phase, one bar per configuration.

    Bars are ordered by series, then VPs, then ranks and labelled "VPs" over
    "ranks×threads" (and the network size when it varies); the error bar on top is the SD
    over seeds (s) of the total.

    Args:
        rows: the "rows" of :func:`spikeflow.analysis.scaling.scaling_table`; uses
            ``wall_<phase>_s`` and ``wall_total_s_sd`` (s), ``vps``, ``ranks``,
            ``threads``, ``n_neurons`` and the series fields.
        path: PNG file to write.
        title: figure title (default: "time per phase").

    Returns:
        The path written.
    """
    ordered = [r for _, members in _by_series(rows) for r in members]
    x = np.arange(len(ordered))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * len(ordered)), 4.2), layout="constrained")
    bottom = np.zeros(len(ordered))
    for phase in PHASES:
        heights = np.array([_nan0(r.get(f"wall_{phase}_s")) for r in ordered])
        ax.bar(x, heights, 0.65, bottom=bottom, color=PHASE_COLORS[phase], label=phase, edgecolor="white",
               linewidth=0.5)
        bottom += heights
    sd = np.array([_nan0(r.get("wall_total_s_sd")) for r in ordered])
    if np.any(sd > 0):
        ax.errorbar(x, bottom, yerr=sd, fmt="none", ecolor="black", capsize=3, linewidth=1)
    labels = [f"{r['vps']}\n{r['ranks']}×{r['threads']}" for r in ordered]
    if len({r["n_neurons"] for r in ordered}) > 1:
        labels = [f"{lab}\n{_compact(r['n_neurons'])} neurons" for lab, r in zip(labels, ordered)]
    ax.set_xticks(x, labels, fontsize=8 if len(labels[0].splitlines()) > 2 else None)
    ax.set_xlim(-0.6, len(ordered) - 0.4)
    ax.set_xlabel("virtual processes (ranks × threads)")
    ax.set_ylabel("wall-clock time (s)")
    ax.set_ylim(0, max(float((bottom + sd).max()), 1e-9) * 1.15)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, reverse=True, title="phase")
    ax.set_title(title or "time per phase", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return save_figure(fig, path)


def plot_rtf(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, title: str = "") -> Path:
    """Real-time factor (simulate wall time / model time) against VPs, SD over seeds as error bars.

    Strong series get the ideal ``RTF_ref * vps_ref / vps`` dashed, weak ones ``RTF_ref``.
    The VP axis is log2 when the VP counts span a factor of 4 or more; the RTF axis then
    becomes logarithmic too if the RTFs span more than a factor of 3.

    Args:
        rows: the "rows" of :func:`spikeflow.analysis.scaling.scaling_table`; uses
            ``real_time_factor`` and ``real_time_factor_sd``, ``vps``, ``reference`` and
            the series fields.
        path: PNG file to write.
        title: figure title (default: "real-time factor").

    Returns:
        The path written.
    """
    fig, ax = plt.subplots(figsize=(5.6, 4.2), layout="constrained")
    ideal_drawn = False
    for i, (label, members) in enumerate(_by_series(rows)):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        vps = np.array([r["vps"] for r in members], dtype=float)
        rtf = np.array([r.get("real_time_factor", math.nan) for r in members], dtype=float)
        sd = np.array([_nan0(r.get("real_time_factor_sd")) for r in members])
        marker = SERIES_MARKERS[i % len(SERIES_MARKERS)]
        ax.errorbar(vps, rtf, yerr=sd if np.any(sd > 0) else None, marker=marker, color=color, capsize=3,
                    label=label)
        kind = members[0]["series"]
        refs = [r for r in members if r.get("reference")]
        if kind in ("strong", "weak") and refs and math.isfinite(refs[0].get("real_time_factor", math.nan)):
            ref = refs[0]
            grid = np.array(sorted(set(vps)))
            ideal = ref["real_time_factor"] * (ref["vps"] / grid if kind == "strong" else np.ones_like(grid))
            name = "ideal (linear speed-up)" if kind == "strong" else "ideal (constant)"
            ax.plot(grid, ideal, "--", color=color, alpha=0.6, linewidth=1, label=None if ideal_drawn else name)
            ideal_drawn = True
    all_vps = [r["vps"] for r in rows]
    _vps_axis(ax, all_vps)
    finite = np.array([r.get("real_time_factor", math.nan) for r in rows], dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if ax.get_xscale() == "log" and finite.size and finite.max() / finite.min() > 3:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
        ax.tick_params(axis="y", which="minor", labelsize=7)
    else:
        ax.set_ylim(bottom=0, top=max(float(finite.max()) if finite.size else 1.0, 1e-9) * 1.2)
    ax.set_ylabel("real-time factor (wall time / model time)")
    ax.set_title(title or "real-time factor", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return save_figure(fig, path)


def plot_efficiency(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, title: str = "", reason: str = ""
) -> Path:
    """Parallel efficiency against VPs with SD error bars and the ideal line at 1.

    Series without a finite efficiency are left out; when nothing forms a series, the
    figure says why (``reason``).

    Args:
        rows: the "rows" of :func:`spikeflow.analysis.scaling.scaling_table`; uses
            ``efficiency`` and ``efficiency_sd``, ``vps`` and the series fields.
        path: PNG file to write.
        title: figure title (default: "parallel efficiency").
        reason: why the runs form the series they do
            (:func:`spikeflow.analysis.scaling.classify_series`), shown when there is no
            series to draw (default "no scaling series").

    Returns:
        The path written.
    """
    fig, ax = plt.subplots(figsize=(5.6, 4.2), layout="constrained")
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="ideal")
    top = 1.0
    drawn = False
    for i, (label, members) in enumerate(_by_series(rows)):
        eff = np.array([r.get("efficiency", math.nan) for r in members], dtype=float)
        if not np.isfinite(eff).any():
            continue
        vps = np.array([r["vps"] for r in members], dtype=float)
        sd = np.array([_nan0(r.get("efficiency_sd")) for r in members])
        ax.errorbar(vps, eff, yerr=sd if np.any(sd > 0) else None, marker=SERIES_MARKERS[i % len(SERIES_MARKERS)],
                    capsize=3, markerfacecolor="none" if i % 2 else None,
                    color=SERIES_COLORS[i % len(SERIES_COLORS)],
                    label=label if members[0]["series"] == "none" else f"{members[0]['series']}: {label}")
        top = max(top, float(np.nanmax(eff + sd)))
        drawn = True
    _vps_axis(ax, [r["vps"] for r in rows])
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("parallel efficiency (simulate phase)")
    ax.set_title(title or "parallel efficiency", fontsize=10)
    ax.grid(alpha=0.3)
    if not drawn or all(r["series"] == "none" for r in rows):
        ax.text(0.5, 0.4, "\n".join(textwrap.wrap(reason or "no scaling series", 55)), transform=ax.transAxes,
                ha="center", va="center", fontsize=8, color="dimgray")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    return save_figure(fig, path)
