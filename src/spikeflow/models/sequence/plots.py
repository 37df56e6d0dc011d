"""Figures of sequence-learning runs, from arrays and the run's analysis (they open no file).

- :func:`plot_grid`: circuit sizes on the grid, as a 2-D colour mesh and a 3-D bar chart;
- :func:`plot_test_raster`: test-phase raster, neurons ordered by mean activation time within
  the pattern, pattern presentations shaded;
- :func:`plot_weights`: evolution of recorded incoming weights during training;
- :func:`plot_decoding`: readout accuracy against delay after pattern onset, before vs after training.
- :func:`plot_run`: all of them for one run (:class:`spikeflow.models.sequence.analysis.RunAnalysis`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from spikeflow.plots.common import pyplot, save_figure


def plot_grid(sizes: np.ndarray, grid_shape: tuple[int, int], path: str | os.PathLike) -> Path:
    """Circuit sizes (grid order, row-major) as colour mesh and 3-D bars."""
    plt = pyplot()
    k = np.asarray(sizes).reshape(grid_shape)
    fig = plt.figure(figsize=(10, 4))
    ax = fig.add_subplot(1, 2, 1)
    mesh = ax.pcolormesh(k, cmap="viridis", edgecolors="w", linewidth=0.5)
    fig.colorbar(mesh, ax=ax, label="neurons per circuit")
    ax.set_xlabel("grid column")
    ax.set_ylabel("grid row")
    ax.set_aspect("equal")
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    rows, cols = np.meshgrid(np.arange(grid_shape[0]), np.arange(grid_shape[1]), indexing="ij")
    colours = plt.get_cmap("viridis")((k.ravel() - k.min()) / max(1, k.max() - k.min()))
    ax3.bar3d(cols.ravel(), rows.ravel(), 0, 0.8, 0.8, k.ravel(), color=colours, shade=True)
    ax3.set_xlabel("column")
    ax3.set_ylabel("row")
    ax3.set_zlabel("K")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_test_raster(node_ids, times, order, onsets, t_pattern, t_start, t_stop, path, title="") -> Path:
    """Raster of (t_start, t_stop] (ms, NEST's window) with neurons in ``order`` (row 0 = order[0]); patterns shaded."""
    plt = pyplot()
    rank = np.empty(len(order), dtype=np.int64)
    rank[np.asarray(order)] = np.arange(len(order))
    sel = (times > t_start) & (times <= t_stop)
    fig, ax = plt.subplots(figsize=(10, 5))
    for onset in onsets[(onsets >= t_start) & (onsets < t_stop)]:
        ax.axvspan(onset, onset + t_pattern, color="tab:orange", alpha=0.2, lw=0)
    ax.plot(times[sel], rank[np.asarray(node_ids)[sel].astype(np.int64)], "|", ms=2, color="k")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron (ordered by activation time in pattern)")
    ax.set_xlim(t_start, t_stop)
    ax.set_title(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_weights(weight_times, weights: Mapping[str, np.ndarray], sources: Mapping[str, np.ndarray], path) -> Path:
    """Incoming weights of recorded neurons over training (inputs solid, recurrent dotted)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, max(1, len(weights)), figsize=(4 * max(1, len(weights)), 3.5), squeeze=False)
    for ax, (name, w) in zip(axes[0], weights.items()):
        src = sources[name]
        for i in range(w.shape[1]):
            ax.plot(np.asarray(weight_times) / 1000.0, w[:, i], "-" if src[i] < 0 else ":", lw=0.6)
        ax.set_title(f"neuron {name}")
        ax.set_xlabel("training time (s)")
    axes[0][0].set_ylabel("weight w_ki (log)")
    if not weights:
        axes[0][0].text(0.5, 0.5, "no weights recorded\n(set params.dt_rec and n_record_weights)",
                        ha="center", va="center", transform=axes[0][0].transAxes)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_decoding(results: Mapping[str, Any], t_pattern: float, path) -> Path:
    """Readout accuracy against delay after onset, per test phase (before/after training)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, r in results.items():
        ax.plot(r["delays_ms"], r["accuracy_at_delay"], "o-", ms=3, label=f"{name} (overall {r['accuracy']:.2f}, chance {r['chance']:.2f})")
    ax.axvspan(0, t_pattern, color="tab:orange", alpha=0.15, lw=0, label="pattern")
    ax.set_xlabel("delay after pattern onset (ms)")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_run(
    result: Any, side: Mapping[str, np.ndarray], grid_shape: tuple[int, int], paths: Mapping[str, str | os.PathLike]
) -> list[Path]:
    """All figures of one run.

    Args:
        result: the run's :class:`spikeflow.models.sequence.analysis.RunAnalysis` (spikes,
            schedule, test phases, neuron orders, decoding).
        side: the arrays of the run's ``sequence.npz`` (``sizes``, ``weight_times``,
            ``weights_<k>``, ``weight_sources_<k>``).
        grid_shape: rows and columns of the circuit grid (``params.grid_shape``).
        paths: the PNG file of each figure: ``grid``, ``weights``, ``decoding`` and
            ``raster_<phase>`` for every test phase.

    Returns:
        The paths written: grid, one raster per test phase, weights, decoding.
    """
    sched = result.schedule
    written = [plot_grid(side["sizes"], tuple(grid_shape), paths["grid"])]
    for name, a, b in result.phases:
        stop = min(b, a + 3000.0)
        written.append(plot_test_raster(result.node_ids, result.times, result.orders[name], sched.onsets, sched.t_pattern,
                                        a, stop, paths[f"raster_{name}"], title=name))
    keys = sorted(k for k in side if k.startswith("weights_"))
    w = {k.split("_", 1)[1]: side[k] for k in keys}
    s = {k.split("_", 1)[1]: side[k.replace("weights_", "weight_sources_")] for k in keys}
    written.append(plot_weights(side["weight_times"] if keys else [], w, s, paths["weights"]))
    written.append(plot_decoding(result.decoding, sched.t_pattern, paths["decoding"]))
    return written
