"""Figures of a training run, drawn from its epoch history: weights over epochs, rates over epochs, weight change.

Each function draws one figure from an :class:`spikeflow.models.training.outputs.EpochHistory`
(what :func:`spikeflow.models.training.outputs.read_epochs_h5` reads from epochs.h5; the figures
open no file) and saves it as PNG atomically (:func:`spikeflow.plots.common.save_figure`).
Epoch 0 is the state before training.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spikeflow.plots.common import pyplot, save_figure

if TYPE_CHECKING:
    from spikeflow.models.training.outputs import EpochHistory

__all__ = ["weights_over_epochs", "rates_over_epochs", "weight_change"]

POP_COLORS = {"E": "#2166ac", "I": "#b2182b", "X": "#4d9221"}


def weights_over_epochs(history: EpochHistory, path: str | os.PathLike) -> Path:
    """Weight histogram of every plastic pathway after every epoch (heat map), with mean +- SD."""
    plt = pyplot()
    groups = history.pathways
    unit = history.weight_unit
    fig, axes = plt.subplots(1, max(1, len(groups)), figsize=(4.5 * max(1, len(groups)), 3.6), squeeze=False)
    for ax, g in zip(axes[0], groups):
        hist = g.histogram.astype(float)
        edges = g.edges
        n_ep = hist.shape[0]
        frac = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
        ax.pcolormesh(np.arange(n_ep + 1) - 0.5, edges, frac.T, cmap="Greys", shading="flat")
        ax.errorbar(np.arange(n_ep), g.mean, yerr=g.std, color="#d6604d", marker="o", ms=3, lw=1, label="mean +- SD")
        ax.set_title(g.name)
        ax.set_xlabel("epoch (0 = before training)")
        ax.set_ylabel(f"weight ({unit})")
        ax.legend(fontsize=7, loc="best")
    if not groups:
        axes[0][0].text(0.5, 0.5, "no plastic pathway", ha="center", va="center", transform=axes[0][0].transAxes)
    fig.tight_layout()
    return save_figure(fig, path)


def rates_over_epochs(history: EpochHistory, path: str | os.PathLike) -> Path:
    """Mean rate (spikes/s) and mean ISI CV of every population per epoch."""
    plt = pyplot()
    epochs = history.epochs
    fig, (ax_r, ax_c) = plt.subplots(1, 2, figsize=(9, 3.4))
    for pop, series in history.populations.items():
        color = POP_COLORS.get(pop)
        ax_r.plot(epochs, series["rate_hz"], marker="o", color=color, label=pop)
        ax_c.plot(epochs, series["cv_isi"], marker="o", color=color, label=pop)
    ax_r.set_xlabel("epoch")
    ax_r.set_ylabel("mean rate (spikes/s)")
    ax_c.set_xlabel("epoch")
    ax_c.set_ylabel("mean ISI CV")
    ax_r.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def weight_change(history: EpochHistory, path: str | os.PathLike) -> Path:
    """Mean and mean absolute weight change of every plastic pathway per epoch."""
    plt = pyplot()
    unit = history.weight_unit
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for g in history.pathways:
        n = g.change_mean.shape[0]
        x = np.arange(1, n)
        ax.plot(x, g.change_mean[1:], marker="o", label=f"{g.name} mean")
        ax.plot(x, g.change_abs_mean[1:], marker="s", ls="--", label=f"{g.name} mean |dw|")
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"weight change in the epoch ({unit})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
