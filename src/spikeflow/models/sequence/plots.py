"""Figures of sequence-learning runs (read from a run's spikes.h5 and sequence.npz, never NEST).

- :func:`plot_grid`: circuit sizes on the grid, as a 2-D colour mesh and a 3-D bar chart;
- :func:`plot_test_raster`: test-phase raster, neurons ordered by mean activation time within
  the pattern, pattern presentations shaded;
- :func:`plot_weights`: evolution of recorded incoming weights during training;
- :func:`plot_decoding`: readout accuracy against delay after pattern onset, before vs after training.
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


def plot_run(spikes_path, out_dir, decoding: Mapping[str, Any] | None = None) -> list[Path]:
    """All figures of one run into ``out_dir``."""
    from spikeflow.io.spikes import read_spikes
    from spikeflow.models.sequence import analysis

    spikes_path, out_dir = Path(spikes_path), Path(out_dir)
    side = dict(np.load(spikes_path.with_name("sequence.npz")))
    data = read_spikes(spikes_path)
    wta = data.populations["wta"]
    params = data.metadata["config"]["params"]
    n = int(data.metadata["populations"][0]["size"])
    sched = analysis.load_schedule(side)
    paths = [plot_grid(side["sizes"], tuple(params["grid_shape"]), out_dir / "grid.png")]
    for name, (a, b) in zip(side["phase_names"], side["phase_bounds"]):
        if not str(name).startswith("test"):
            continue
        on = sched.onsets[(sched.onsets >= a) & (sched.onsets + sched.t_pattern <= b)]
        order = analysis.order_by_activation(wta.node_ids, wta.times, n, on, sched.t_pattern)
        stop = min(float(b), float(a) + 3000.0)
        paths.append(plot_test_raster(wta.node_ids, wta.times, order, sched.onsets, sched.t_pattern, float(a), stop, out_dir / f"raster_{name}.png", title=str(name)))
    keys = sorted(k for k in side if k.startswith("weights_"))
    w = {k.split("_", 1)[1]: side[k] for k in keys}
    s = {k.split("_", 1)[1]: side[k.replace("weights_", "weight_sources_")] for k in keys}
    paths.append(plot_weights(side["weight_times"] if keys else [], w, s, out_dir / "weights.png"))
    if decoding is not None:
        paths.append(plot_decoding(decoding, sched.t_pattern, out_dir / "decoding.png"))
    return paths
