"""Figures of the rates analysis: spike raster, rate box plot, rates versus reference.

Every function draws one figure, saves it as PNG (150 dpi) atomically (temporary name
beside the target, then ``os.replace``; :func:`spikeflow.plots.common.save_figure`) and
closes it. Populations appear in model order from top to bottom, as in the figures of
Potjans & Diesmann (2014). The margins are fixed, made from the labels' lengths
(:func:`spikeflow.plots.common.fixed_layout`): matplotlib's constrained layout would cost an
extra drawing pass, about a third of a figure's time, in every run of a study.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import ScalarFormatter

from spikeflow.analysis.spiketrains import in_window, per_neuron_rates
from spikeflow.io.spikes import SpikeData
from spikeflow.plots.common import fixed_layout, pyplot, save_figure, text_width, wrapped
from spikeflow.plots.selection import raster_window, run_label

plt = pyplot()  # matplotlib.pyplot on the Agg backend

__all__ = ["raster", "rate_boxplot", "rates_vs_reference"]

EXCITATORY_COLOR = "#2166ac"
INHIBITORY_COLOR = "#b2182b"
REFERENCE_COLOR = "#bdbdbd"
FLAG_COLOR = "#d6604d"
#: Default number of neurons drawn in a raster, over all populations.
RASTER_NEURON_BUDGET = 2000
#: Rate box plots switch to a symlog axis beyond this spread (see rate_boxplot).
SYMLOG_FACTOR = 5.0


def _colors(names: Sequence[str]) -> list[str]:
    """Blue for excitatory, red for inhibitory populations (by a trailing E/I in the
    name; alternating E, I, E, ... otherwise)."""
    if all(name[-1:].upper() in ("E", "I") for name in names):
        return [INHIBITORY_COLOR if n[-1:].upper() == "I" else EXCITATORY_COLOR for n in names]
    return [EXCITATORY_COLOR if i % 2 == 0 else INHIBITORY_COLOR for i in range(len(names))]


def raster(
    data: SpikeData,
    path: str | os.PathLike,
    t_window: tuple[float, float] | None = None,
    max_neurons_per_pop: int | None = None,
) -> Path:
    """Spike raster of all populations, stacked top to bottom in model order.

    Args:
        data: the run's spikes.
        path: PNG file to write.
        t_window: (start, stop) in ms; default the last 200 ms of the run, or the whole
            run if it is shorter.
        max_neurons_per_pop: at most this many neurons of the largest population are
            drawn; all populations are subsampled by the same fraction, so their heights
            stay proportional to their sizes. Default: a fraction that draws about 2000
            neurons in total (all of them if the network is smaller). The neurons drawn
            are evenly spaced in node id.

    Returns:
        The path written.
    """
    t0, t1 = raster_window(data, t_window)
    pops = list(data.populations.values())
    sizes = np.array([p.n_nodes for p in pops], dtype=np.int64)
    if max_neurons_per_pop is None:
        fraction = min(1.0, RASTER_NEURON_BUDGET / max(int(sizes.sum()), 1))
    else:
        fraction = min(1.0, max_neurons_per_pop / max(int(sizes.max(initial=0)), 1))
    shown = [min(n, max(1, int(round(n * fraction)))) if n else 0 for n in sizes]

    fig, ax = plt.subplots(figsize=(9, 6.5))
    fixed_layout(fig, left=0.55 + text_width([p.name for p in pops]), right=0.25, bottom=0.55, top=0.4)
    colors = _colors([p.name for p in pops])
    offset = 0
    ticks = []
    n_drawn_spikes = 0
    for pop, k, color in zip(pops, shown, colors):
        node_ids, times = in_window(pop.node_ids, pop.times, t0, t1)  # a view when time-sorted
        if k:
            chosen = (np.arange(k) * pop.n_nodes // k).astype(np.int64)
            rank = np.full(pop.n_nodes, -1, dtype=np.int64)
            rank[chosen] = np.arange(k)
            row = rank[node_ids]
            keep = row >= 0
            ax.plot(
                times[keep],
                offset + row[keep],
                linestyle="none",
                marker=".",
                markersize=2.0,
                markeredgewidth=0,
                color=color,
                rasterized=True,
            )
            n_drawn_spikes += int(keep.sum())
        ticks.append(offset + (k - 1) / 2 if k else offset)
        offset += k
        ax.axhline(offset - 0.5, color="0.75", linewidth=0.6)
    ax.set_xlim(t0, t1)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.invert_yaxis()
    ax.set_yticks(ticks, [p.name for p in pops])
    for label, color in zip(ax.get_yticklabels(), colors):
        label.set_color(color)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("population (neurons stacked)")
    total = int(sizes.sum())
    subset = f"{sum(shown)} of {total} neurons" if sum(shown) < total else f"all {total} neurons"
    title = f"Spike raster, {t0:g}–{t1:g} ms ({subset})"
    run = run_label(data.metadata)
    ax.set_title(f"{run}: {title}" if run else title)
    ax.spines[["top", "right"]].set_visible(False)
    return save_figure(fig, path)


def _boxplot_orientation() -> dict[str, Any]:
    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def rate_boxplot(
    data_or_rates: SpikeData | Mapping[str, np.ndarray],
    path: str | os.PathLike,
    t_window: tuple[float, float] | None = None,
    title: str | None = None,
) -> Path:
    """Horizontal box plot of the per-neuron firing rates of each population.

    Boxes span the quartiles with the median as a line, whiskers reach the furthest rate
    within 1.5 interquartile ranges, rates beyond are drawn as small dots, and the
    population mean is a white diamond. Populations in model order, top to bottom. The
    rate axis is linear, unless one population's furthest whisker reaches more than 5
    times the median of all populations' furthest whiskers (e.g. a runaway population):
    then it is symmetric-logarithmic (linear below 1 spike/s) so the others stay readable.

    Args:
        data_or_rates: the run's spikes (rates computed over ``t_window``), or a mapping
            population name -> per-neuron rates in spikes/s (in model order).
        path: PNG file to write.
        t_window: (start, stop) in ms for a :class:`SpikeData`; default after the
            presimulation, ``(data.t_presim, data.t_stop]``.
        title: the figure's title (default: "Per-neuron firing rates", with the run and the
            window for a :class:`SpikeData`).

    Returns:
        The path written.
    """
    given_title, title = title, "Per-neuron firing rates"
    if isinstance(data_or_rates, SpikeData):
        data = data_or_rates
        t0, t1 = (data.t_presim, data.t_stop) if t_window is None else t_window
        rates = {
            name: per_neuron_rates(p.node_ids, p.times, p.n_nodes, t0, t1)
            for name, p in data.populations.items()
        }
        run = run_label(data.metadata)
        title = f"{run}: {title}, {t0:g}–{t1:g} ms" if run else f"{title}, {t0:g}–{t1:g} ms"
    else:
        rates = {name: np.asarray(r, dtype=np.float64) for name, r in data_or_rates.items()}
    if given_title is not None:
        title = given_title
    names = list(rates)
    values = [r[np.isfinite(r)] if r.size else np.array([np.nan]) for r in rates.values()]
    positions = np.arange(len(names), 0, -1)  # first population on top
    colors = _colors(names)

    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * max(len(names), 2)))
    fixed_layout(fig, left=0.35 + text_width(names), right=0.45, bottom=0.55, top=0.4)
    parts = ax.boxplot(
        values,
        positions=positions,
        widths=0.6,
        patch_artist=True,
        showmeans=True,
        meanprops={
            "marker": "D",
            "markerfacecolor": "white",
            "markeredgecolor": "black",
            "markersize": 5,
        },
        medianprops={"color": "black", "linewidth": 1.2},
        flierprops={
            "marker": ".",
            "markersize": 2,
            "markerfacecolor": "0.4",
            "markeredgecolor": "none",
            "alpha": 0.5,
        },
        **_boxplot_orientation(),
    )
    for box, color in zip(parts["boxes"], colors):
        box.set_facecolor(color)
        box.set_alpha(0.55)
        box.set_edgecolor("black")
    ax.set_yticks(positions, names)
    for label, color in zip(ax.get_yticklabels(), colors):
        label.set_color(color)
    # One runaway population would squeeze all others into a corner of a linear axis:
    # switch to a symmetric log axis (linear below 1 spike/s) when the furthest whisker
    # is more than SYMLOG_FACTOR times the median of the populations' furthest whiskers.
    whisker_ends = np.array([np.max(w.get_xdata()) for w in parts["whiskers"][1::2]])
    whisker_ends = whisker_ends[np.isfinite(whisker_ends)]
    if whisker_ends.size >= 2 and whisker_ends.max() > SYMLOG_FACTOR * max(
        np.median(whisker_ends), 1.0
    ):
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("firing rate (spikes/s, linear below 1, logarithmic above)")
    else:
        ax.set_xlabel("firing rate (spikes/s)")
    ax.set_xlim(left=0)
    ax.set_title(title)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    ax.legend(
        handles=[
            Line2D([], [], color="black", linewidth=1.2, label="median"),
            Line2D([], [], linestyle="none", marker="D", markerfacecolor="white",
                   markeredgecolor="black", markersize=5, label="mean"),
        ],
        loc="lower right",
        fontsize="small",
        framealpha=0.9,
    )
    ax.spines[["top", "right"]].set_visible(False)
    return save_figure(fig, path)


def _finite(value: Any) -> float:
    return float(value) if value is not None and math.isfinite(float(value)) else float("nan")


def rates_vs_reference(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Grouped bars of the measured and the reference mean rate of each population.

    Flagged populations (flag other than "ok") get a hatched, orange-red measured bar and
    a red, bold name, and the title lists them. Above each measured bar is its ratio to
    the reference (or, for a flagged population without one, its rate). Populations
    without a reference have no grey bar.

    Args:
        rows: rows of :func:`spikeflow.analysis.rates.population_table` (keys
            population, mean_rate_hz, reference_rate_hz, rate_ratio_to_reference, flag).
        path: PNG file to write.

    Returns:
        The path written.
    """
    rows = list(rows)
    names = [row["population"] for row in rows]
    measured = np.array([_finite(row.get("mean_rate_hz")) for row in rows])
    reference = np.array([_finite(row.get("reference_rate_hz")) for row in rows])
    flags = [row.get("flag") or "ok" for row in rows]
    flagged = [flag != "ok" for flag in flags]
    x = np.arange(len(rows))
    width = 0.4

    has_reference = bool(np.isfinite(reference).any())
    if any(flagged):
        listed = ", ".join(f"{n} {f}" for n, f in zip(names, flags) if f != "ok")
        title = f"Mean rates: FLAGGED {listed}"
    else:
        title = "Mean rates: all populations ok"
    if not has_reference:
        title += " (no reference rates)"
    else:
        title = title.replace("Mean rates", "Mean rates vs reference", 1)
    fig_width = max(6.0, 1.0 + 0.85 * len(rows))
    title = wrapped(title, fig_width - 0.5)  # a long list of flagged populations: on several lines
    label_width = text_width(names)
    turned = label_width > 0.9 * (fig_width - 1.05) / max(len(rows), 1)  # names wider than a bar group: at 45 degrees
    extra = 0.71 * label_width if turned else 0.0
    title_lines = title.count("\n") + 1
    fig, ax = plt.subplots(figsize=(fig_width, 4.8 + extra + 0.25 * (title_lines - 1)))
    fixed_layout(fig, left=max(0.8, extra + 0.1), right=0.25, bottom=0.6 + extra, top=0.15 + 0.25 * title_lines)
    bars = ax.bar(
        x - width / 2 if has_reference else x,
        np.nan_to_num(measured),
        width,
        color=[FLAG_COLOR if f else EXCITATORY_COLOR for f in flagged],
        edgecolor=["darkred" if f else "black" for f in flagged],
        linewidth=0.6,
        label="measured",
    )
    for bar, f in zip(bars, flagged):
        if f:
            bar.set_hatch("///")
    if has_reference:
        ax.bar(
            x + width / 2,
            np.nan_to_num(reference),
            width,
            color=REFERENCE_COLOR,
            edgecolor="black",
            linewidth=0.6,
            label="reference",
        )
    top = np.nanmax(np.concatenate([measured, reference, [1e-9]]))
    ax.set_ylim(0, top * 1.18 if top > 0 else 1.0)
    for bar, row, rate, f in zip(bars, rows, measured, flagged):
        ratio = row.get("rate_ratio_to_reference")
        if ratio is not None and math.isfinite(float(ratio)):
            label = f"×{float(ratio):.2f}"
        elif f:  # a flagged bar may be too small to see: say its value
            label = f"{rate:.2f}" if math.isfinite(rate) else "n/a"
        else:
            continue
        ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.set_xticks(x, names, **({"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if turned else {}))
    for label, f in zip(ax.get_xticklabels(), flagged):
        if f:
            label.set_color("darkred")
            label.set_fontweight("bold")
    ax.set_xlabel("population")
    ax.set_ylabel("mean firing rate (spikes/s)")
    handles = [Patch(facecolor=EXCITATORY_COLOR, edgecolor="black", label="measured")]
    if has_reference:
        handles.append(Patch(facecolor=REFERENCE_COLOR, edgecolor="black", label="reference"))
    if any(flagged):
        handles.append(Patch(facecolor=FLAG_COLOR, edgecolor="darkred", hatch="///",
                             label="flagged"))
    ax.legend(handles=handles, loc="upper left", fontsize="small", framealpha=0.9)
    ax.set_title(title, color="darkred" if any(flagged) else "black")
    ax.grid(axis="y", color="0.9")
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    return save_figure(fig, path)
