"""Figures of the attractor analysis: cluster-rate raster, state sequence, transition matrix,
and the study-level metastability figure.

Every function draws one figure, saves it as PNG (150 dpi) atomically
(:func:`spikeflow.plots.common.save_figure`) and closes it. The per-run figures have fixed
margins made from their labels' lengths (:func:`spikeflow.plots.common.fixed_layout`), not
matplotlib's constrained layout, which costs an extra drawing pass (about 40 % of a figure). Times are in ms, rates in Hz
(spikes per neuron per second). States are named by their active populations
(``"E0+E3"``; ``"none"`` when no population is active).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.ticker import MaxNLocator

from spikeflow.models.clustered.attractor_figure_data import figure_data
from spikeflow.plots.common import DPI, fixed_layout, pyplot, save_figure, text_width
from spikeflow.plots.selection import run_label

plt = pyplot()  # matplotlib.pyplot on the Agg backend

__all__ = ["cluster_rates", "state_sequence", "transition_matrix", "metastability"]

#: Colour of time in dropped (too short) segments.
DROPPED_COLOR = "#d9d9d9"
#: Colour of the states beyond the top N.
OTHER_COLOR = "#969696"


def _title(result: Any, what: str) -> str:
    run = run_label(result.metadata)
    return f"{run}: {what}" if run else what


def _state_colors(n: int) -> list[Any]:
    cmap = plt.get_cmap("tab20")
    return [cmap(i % 20) for i in range(n)]


def _ranked_states(result: Any, top_states: int) -> np.ndarray:
    """State indices ordered by occupancy (largest first), at most ``top_states``."""
    occupancy = result.sequence.occupancy()
    order = np.lexsort((np.arange(occupancy.size), -occupancy))
    return order[: max(int(top_states), 0)]


def _pixel_columns(ax: Any, n_bins: int) -> int:
    """Image columns for a time axis: one per pixel of the axes' width (at most one per bin)."""
    width_in = ax.get_position().width * ax.figure.get_size_inches()[0]
    return max(1, min(int(n_bins), math.ceil(width_in * DPI)))


def _rgba8(colors: Any) -> np.ndarray:
    """Colours as uint8 RGBA rows, shape (n, 4) (an image of them draws faster than of floats)."""
    return np.round(np.array([to_rgba(c) for c in colors], dtype=np.float64).reshape(-1, 4) * 255).astype(np.uint8)


def _segment_strip(ax: Any, result: Any, colors: Mapping[int, Any]) -> None:
    """Segments as a strip of colour (colour per state), dropped ones light grey.

    An image with one column per pixel, each coloured by the segment at its middle (not a
    rectangle per segment: a long run has ten thousand, most narrower than a pixel).
    """
    seq = result.sequence
    n_bins = int(seq.n_bins)
    columns = _pixel_columns(ax, n_bins)
    state = np.asarray(seq.seg_state)
    keys = sorted(colors)
    color_of = np.full(state.size, len(keys), dtype=np.int64)  # index into the table: len(keys) = other
    for i, s in enumerate(keys):
        color_of[state == s] = i
    color_of[state < 0] = len(keys) + 1  # dropped
    table = _rgba8([*(colors[s] for s in keys), OTHER_COLOR, DROPPED_COLOR])
    middle = ((np.arange(columns) + 0.5) * n_bins / columns).astype(np.int64)
    segment = np.searchsorted(np.asarray(seq.seg_start), middle, side="right") - 1
    image = table[color_of[np.clip(segment, 0, max(state.size - 1, 0))]][None, :, :] if state.size else np.full((1, 1, 4), 255, dtype=np.uint8)
    t0 = seq.t_start_ms
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=(t0, t0 + n_bins * seq.bin_ms, 0.0, 1.0))
    ax.set_ylim(0.0, 1.0)


def _bars(ax: Any, x0: np.ndarray, widths: np.ndarray, y0: float, height: float, color: Any) -> None:
    """Rectangles ``[x0, x0 + width] x [y0, y0 + height]`` as one collection.

    What ``ax.broken_barh`` draws (the same vertices, in the same order), built with numpy
    instead of one Python step per rectangle: a long run has thousands of segments. (An
    image of the rows, one column per pixel, draws no faster: the cost is the axes' area.)
    """
    x0 = np.asarray(x0, dtype=np.float64)
    x1 = x0 + np.asarray(widths, dtype=np.float64)
    verts = np.empty((x0.size, 4, 2))
    verts[:, 0, 0] = verts[:, 1, 0] = x0
    verts[:, 2, 0] = verts[:, 3, 0] = x1
    verts[:, 0, 1] = verts[:, 3, 1] = y0
    verts[:, 1, 1] = verts[:, 2, 1] = y0 + height
    ax.add_collection(PolyCollection(verts, facecolors=color, linewidth=0))


def cluster_rates(result: Any, path: str | os.PathLike, top_states: int = 20) -> Path:
    """Population rates as an image (populations x time) with the state sequence below.

    Args:
        result: an :class:`spikeflow.models.clustered.attractors.AttractorAnalysis`, or its
            :class:`~spikeflow.models.clustered.attractor_figure_data.FigureData`.
        path: PNG file to write.
        top_states: this many states (by occupancy) get their own colour in the strip,
            the rest are grey; dropped segments are light grey.

    Returns:
        The path written.
    """
    data = figure_data(result)
    result = data.analysis
    seq = result.sequence
    image = data.image_hz
    n_pop = image.shape[0]
    t0, t1 = seq.t_start_ms, seq.t_start_ms + seq.analysed_ms
    fig, (ax, strip) = plt.subplots(
        2, 1, figsize=(10, 2.2 + 0.22 * max(n_pop, 6)), sharex=True,
        gridspec_kw={"height_ratios": [max(n_pop, 4), 1.2]},
    )
    step = max(1, n_pop // 24)
    ticks = np.arange(0, n_pop, step)
    names = [result.populations[i] for i in ticks]
    left = max(0.5 + text_width(names), 0.3 + text_width(["state"]))
    fixed_layout(fig, left=left, right=1.15, bottom=0.6, top=0.4, hspace=0.15)
    vmax = data.vmax_hz
    im = ax.imshow(
        image, aspect="auto", origin="upper", interpolation="nearest", cmap="viridis",
        extent=(t0, t1, n_pop - 0.5, -0.5), vmin=0.0, vmax=max(vmax, 1e-9),
    )
    ax.set_yticks(ticks, names)
    ax.set_ylabel("population")
    # the colour bar beside the image, outside it: the strip below keeps the image's width
    cbar = fig.colorbar(im, cax=ax.inset_axes([1.01, 0.0, 0.018, 1.0]))
    cbar.set_label("rate (Hz)")
    thresholds = np.unique(np.round(result.thresholds_hz, 6))
    threshold_text = f"{thresholds[0]:.1f} Hz" if thresholds.size == 1 else (
        f"{thresholds.min():.1f}-{thresholds.max():.1f} Hz")
    ax.set_title(_title(result, f"population rates (threshold {threshold_text}) and states"))
    ranked = _ranked_states(result, top_states)
    palette = _state_colors(len(ranked))
    _segment_strip(strip, result, {int(s): palette[i] for i, s in enumerate(ranked)})
    strip.set_yticks([])
    strip.set_ylabel("state", rotation=0, ha="right", va="center")
    strip.set_xlim(t0, t1)
    strip.set_xlabel("time (ms)")
    return save_figure(fig, path)


def state_sequence(result: Any, path: str | os.PathLike, top_states: int = 20) -> Path:
    """States over time (one row per state, most occupied on top) and the number of
    active populations over time.

    Args:
        result: an :class:`spikeflow.models.clustered.attractors.AttractorAnalysis`, or its
            :class:`~spikeflow.models.clustered.attractor_figure_data.FigureData`.
        path: PNG file to write.
        top_states: rows for this many states (by occupancy); the others share a row
            "other".

    Returns:
        The path written.
    """
    data = figure_data(result)
    result = data.analysis
    seq = result.sequence
    labels = result.state_labels()
    ranked = _ranked_states(result, top_states)
    row_of = {int(s): i for i, s in enumerate(ranked)}
    n_rows = len(ranked) + (1 if seq.n_states > len(ranked) else 0)
    palette = _state_colors(len(ranked))
    fig, (ax, kax) = plt.subplots(
        2, 1, figsize=(10, 2.5 + 0.25 * max(n_rows, 4)), sharex=True,
        gridspec_kw={"height_ratios": [max(n_rows, 3), 2]},
    )
    t0, t1 = seq.t_start_ms, seq.t_start_ms + seq.analysed_ms
    rows = np.array([row_of.get(int(state), len(ranked)) for state in seq.sequence], dtype=np.int64)
    names = [labels[s] for s in ranked] + (["other"] if n_rows > len(ranked) else [])
    names = [n if len(n) <= 30 else n[:27] + "..." for n in names]
    fontsize = "small" if n_rows > 12 else "medium"
    fixed_layout(fig, left=max(0.6 + text_width(names, fontsize), 0.85), right=0.3, bottom=0.6, top=0.4, hspace=0.15)
    starts, ends = np.asarray(seq.starts_ms), np.asarray(seq.ends_ms)
    for row in np.unique(rows):  # one collection per row, not one per segment
        pick = rows == row
        color = palette[row] if row < len(ranked) else OTHER_COLOR
        _bars(ax, starts[pick], ends[pick] - starts[pick], row - 0.4, 0.8, color)
    ax.set_yticks(np.arange(n_rows), names, fontsize=fontsize)
    ax.set_ylim(max(n_rows, 1) - 0.5, -0.5)
    ax.set_ylabel("state (active populations)")
    occupancy = seq.occupancy()
    ax.set_title(_title(
        result,
        f"{seq.n_states} states, {int(seq.kept.sum())} segments >= {seq.min_state_ms:g} ms "
        f"({occupancy.sum():.0%} of the time)",
    ))
    ax.grid(axis="x", color="0.92")
    ax.set_axisbelow(True)
    counts = data.active_counts
    kax.plot(data.active_edges_ms, counts, drawstyle="steps-post", color="black", linewidth=0.8)
    kax.set_ylabel("active\npopulations")
    kax.yaxis.set_major_locator(MaxNLocator(integer=True))
    kax.set_ylim(-0.2, max(int(counts.max()) if data.n_bins else 1, 1) + 0.5)
    kax.set_xlim(t0, t1)
    kax.set_xlabel("time (ms)")
    return save_figure(fig, path)


def transition_matrix(result: Any, path: str | os.PathLike, top_states: int = 20) -> Path:
    """Heatmap of the transition probabilities between the most occupied states.

    ``P[a, b] = count(a -> b) / occurrences(a)`` (rows: from, columns: to); the counts are
    written in the cells when at most 15 states are shown.

    Args:
        result: an :class:`spikeflow.models.clustered.attractors.AttractorAnalysis`, or its
            :class:`~spikeflow.models.clustered.attractor_figure_data.FigureData`.
        path: PNG file to write.
        top_states: states shown (by occupancy).

    Returns:
        The path written.
    """
    result = figure_data(result).analysis
    ranked = _ranked_states(result, top_states)
    c, shown_occurrences, p = result.transitions(among=ranked)  # the shown states only
    all_labels = result.state_labels()
    labels = [all_labels[s] for s in ranked]
    labels = [n if len(n) <= 25 else n[:22] + "..." for n in labels]
    n = len(ranked)
    size = 3.5 + 0.35 * max(n, 2)
    row_labels = [f"{lab} ({count})" for lab, count in zip(labels, shown_occurrences)]
    column_width = text_width(labels, "small")  # the column labels are turned by 60 degrees
    fig, ax = plt.subplots(figsize=(size + 1.5 + 0.5 * column_width, size + 0.87 * column_width))
    fixed_layout(
        fig, left=max(0.5 + text_width(row_labels, "small"), 0.2 + 0.5 * column_width), right=1.2,
        bottom=0.55 + 0.87 * column_width, top=0.4,
    )
    cmap = ListedColormap(plt.get_cmap("magma_r")(np.linspace(0.0, 0.9, 256)))
    im = ax.imshow(p if n else np.zeros((1, 1)), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    if n:
        ax.set_xticks(np.arange(n), labels, rotation=60, ha="right", fontsize="small")
        ax.set_yticks(np.arange(n), row_labels, fontsize="small")
        if n <= 15:
            for i in range(n):
                for j in range(n):
                    if c[i, j]:
                        ax.text(j, i, str(c[i, j]), ha="center", va="center", fontsize="x-small",
                                color="white" if p[i, j] > 0.5 else "black")
    else:
        ax.text(0, 0, "no states", ha="center", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("to state")
    ax.set_ylabel("from state (occurrences)")
    total = result.sequence.n_states
    shown = f"top {n} of {total} states" if n < total else f"{total} states"
    ax.set_title(_title(result, f"transition probabilities, {shown}"), fontsize="medium")
    fig.colorbar(im, cax=ax.inset_axes([1.03, 0.0, 0.04, 1.0]), label="P(to | from)")
    return save_figure(fig, path)


_PANELS = (
    ("mean_dwell_ms", "mean dwell time (ms)"),
    ("n_states", "number of states"),
    ("transitions_per_s", "transitions per second"),
    ("mean_active_count", "mean number of active populations"),
)


def metastability(summary: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Dwell time, number of states, switching rate and co-active populations against the
    group value (e.g. J+), mean and SD over repeats.

    Args:
        summary: the document of :func:`spikeflow.models.clustered.attractors.summarize_attractors`.
        path: PNG file to write.

    Returns:
        The path written.
    """
    groups = list(summary.get("groups") or [])
    numeric = bool(groups) and all(g.get("x") is not None for g in groups)
    xs = np.array([g["x"] for g in groups], dtype=float) if numeric else np.arange(len(groups), dtype=float)
    key = summary.get("group_by") or "group"
    element = summary.get("x_element")
    xlabel = f"{key}[{element}]" if element is not None else key
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True, layout="constrained")
    for ax, (metric, label) in zip(axes.ravel(), _PANELS):
        mean = np.array([g.get(metric) if g.get(metric) is not None else np.nan for g in groups], dtype=float)
        sd = np.array([g.get(f"{metric}_sd") if g.get(f"{metric}_sd") is not None else np.nan
                       for g in groups], dtype=float)
        ax.errorbar(xs, mean, yerr=np.nan_to_num(sd), marker="o", color="#2166ac", capsize=3, linewidth=1.2)
        ax.set_ylabel(label)
        ax.grid(color="0.92")
        ax.spines[["top", "right"]].set_visible(False)
        finite = mean[np.isfinite(mean) & (mean > 0)]
        if metric == "mean_dwell_ms" and finite.size >= 2 and finite.max() / finite.min() > 20:
            ax.set_yscale("log")  # frozen and switching regimes differ by orders of magnitude
        else:
            ax.set_ylim(bottom=0)
    for ax in axes[1]:
        ax.set_xlabel(xlabel)
        if not numeric:
            ax.set_xticks(xs, [g["label"] for g in groups], rotation=30, ha="right", fontsize="small")
    n_runs = [g.get("n_runs", 0) for g in groups]
    repeats = f"{min(n_runs)}-{max(n_runs)}" if n_runs and min(n_runs) != max(n_runs) else (
        str(n_runs[0]) if n_runs else "0")
    fig.suptitle(f"Attractor switching against {xlabel} (mean ± SD over {repeats} run(s) per value)")
    return save_figure(fig, path)
