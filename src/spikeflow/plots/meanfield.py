"""Figures of the mean-field study (:func:`spikeflow.meanfield.study.meanfield_study`).

* :func:`plot_states`: the E-cluster rates of every distinct state (clusters ordered by
  rate), coloured by stability (green stable, red unstable), and the largest real part of the
  Jacobian's eigenvalues per state (< 0: stable);
* :func:`plot_spectra`: the eigenvalues of each state in the complex plane;
* :func:`plot_landscape`: the reduced landscape - for two focus populations the speed
  ``|F|`` (colour, log scale), the flow of ``F`` (stream lines), the nullclines ``F_1 = 0`` and
  ``F_2 = 0``, the reduced fixed points (filled: stable, open: unstable) and the minimal-|F|
  paths, beside the potential along each path; for one focus population ``F(x)`` and ``U(x)``.

:func:`plot_meanfield` draws all three (file names: :data:`spikeflow.tasks.meanfield.OUTPUTS`).

Units: rates in Hz, eigenvalues in 1/tau, potential in Hz^2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spikeflow.plots.common import fixed_layout, pyplot, save_figure, text_width

__all__ = ["plot_landscape", "plot_meanfield", "plot_spectra", "plot_states"]

STABLE_COLOR = "tab:green"
UNSTABLE_COLOR = "tab:red"
MAX_SPECTRA = 36


def _is_stable(verdicts) -> bool:
    return all(v.startswith("stable") for v in verdicts)


def _state_label(s: Mapping[str, Any]) -> str:
    return f"k={s['k']}" + ("" if s["pure"] else "*")


def plot_states(result: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """E-cluster rates and max Re(lambda) of every state (``*``: mixed state with an intermediate cluster)."""
    plt = pyplot()
    states = result["states"]
    rates = np.asarray(result["rates"])
    types = np.asarray(result["populations"]["types"])
    cluster = np.asarray(result["populations"]["cluster"])
    e_idx = np.flatnonzero((types == "E") & (cluster >= 0))
    n = max(len(states), 1)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(max(6.0, 0.35 * n + 2), 6.5), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1.4]})
    for x, s in enumerate(states):
        color = STABLE_COLOR if _is_stable(s["verdicts"]) else UNSTABLE_COLOR
        r = np.sort(rates[s["representative"], e_idx])[::-1]
        ax.scatter(np.full(r.size, x), r, s=14, color=color, alpha=0.8, edgecolors="none")
        ax2.bar(x, s["max_re_eig"], color=color)
    ax.set_ylabel("E cluster rate (Hz)")
    n_fp = sum(r["orbit_size"] for r in result["fixed_points"])  # every cluster permutation counted
    ax.set_title(f"{len(states)} states ({n_fp} fixed points); green stable, red unstable")
    ax2.axhline(0.0, color="k", lw=0.8)
    ax2.set_ylabel("max Re($\\lambda$) (1/$\\tau$)")
    ax2.set_xticks(range(len(states)))
    labels = [_state_label(s) for s in states]
    ax2.set_xticklabels(labels, rotation=90, fontsize=8)
    ax2.set_xlabel("state (k co-active E clusters; * mixed)")
    # fixed margins from the labels (tight_layout measures every text in an extra pass)
    fixed_layout(fig, left=0.85, right=0.2, bottom=0.55 + text_width(labels, 8), top=0.4, hspace=0.15)
    return save_figure(fig, path)


def plot_spectra(result: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Eigenvalues of the Jacobian of each state in the complex plane (at most 36 states)."""
    plt = pyplot()
    states = result["states"][:MAX_SPECTRA]
    eig = np.asarray(result["eigenvalues"])
    n = max(len(states), 1)
    ncol = min(6, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.3 * ncol, 2.0 * nrow + 0.4), squeeze=False)
    for ax in axes.ravel()[len(states):]:
        ax.axis("off")
    for ax, s in zip(axes.ravel(), states):
        ev = eig[s["representative"]]
        stable = _is_stable(s["verdicts"])
        color = STABLE_COLOR if stable else UNSTABLE_COLOR
        imag = np.where(np.abs(ev.imag) < 1e-9, 0.0, ev.imag)  # round-off of a real spectrum
        ax.axvline(0.0, color="k", lw=0.6)
        ax.scatter(ev.real, imag, s=10, color=color)
        ax.set_xscale("symlog", linthresh=0.1)  # resolves the eigenvalues near 0 beside the fast ones
        top = max(0.05, 1.2 * float(np.abs(imag).max()))
        ax.set_ylim(-top, top)
        ax.set_title(
            f"state {s['state']}: {_state_label(s)}, {'stable' if stable else s['verdicts'][0]}\n"
            f"max Re = {s['max_re_eig']:+.3f}",
            fontsize=7,
        )
        ax.tick_params(labelsize=6)
    fig.supxlabel("Re($\\lambda$) (1/$\\tau$, linear within $\\pm$0.1)", fontsize=8)
    fig.supylabel("Im($\\lambda$)", fontsize=8)
    # what tight_layout would find, without its text layout of every axis (0.8 s for 30 axes):
    # room for the tick labels, the two-line titles and the super labels
    fixed_layout(fig, left=0.75, right=0.1, bottom=0.55, top=0.45, hspace=0.6, wspace=0.45)
    return save_figure(fig, path)


def plot_landscape(result: Mapping[str, Any], path: str | os.PathLike) -> Path | None:
    """The reduced landscape (None when the study has none)."""
    land = result.get("landscape")
    if land is None:
        return None
    plt = pyplot()
    names = result["populations"]["names"]
    focus = [names[i] for i in land.focus]
    grid = land.grid
    stable = [v.startswith("stable") for v in land.verdicts]
    if land.focus.size == 1:
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
        ax.plot(grid, land.force[:, 0], color="k")
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_ylabel("F = $\\Phi_{eff}$ - $\\nu$ (Hz)")
        ax2.plot(grid, land.potential, color="tab:blue")
        ax2.set_ylabel("U (Hz$^2$)")
        ax2.set_xlabel(f"rate of {focus[0]} (Hz)")
        for x, st in zip(land.fixed_point_focus[:, 0], stable):
            kw = {"color": STABLE_COLOR if st else UNSTABLE_COLOR, "zorder": 3}
            ax.scatter([x], [0.0], **kw)
            ax2.scatter([x], [np.interp(x, grid, land.potential)], **kw)
        ax.set_title(f"reduced mean field of {focus[0]} (filled green: stable)")
        fixed_layout(fig, left=0.95, right=0.2, bottom=0.6, top=0.4, hspace=0.15)
        return save_figure(fig, path)

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1.15, 1]})
    speed = np.linalg.norm(land.force, axis=-1)
    floor = max(np.nanmin(speed[speed > 0]) if np.any(speed > 0) else 1e-3, 1e-3)
    from matplotlib.colors import LogNorm

    mesh = ax.pcolormesh(grid, grid, np.maximum(speed, floor).T, norm=LogNorm(), cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="|F| (Hz)")
    fx, fy = land.force[..., 0].T, land.force[..., 1].T
    if np.all(np.isfinite(fx)) and np.all(np.isfinite(fy)):
        ax.streamplot(grid, grid, fx, fy, color="w", linewidth=0.5, density=1.0, arrowsize=0.6)
    ax.contour(grid, grid, fx, levels=[0.0], colors="tab:orange", linewidths=1.0)
    ax.contour(grid, grid, fy, levels=[0.0], colors="tab:cyan", linewidths=1.0)
    for i, p in enumerate(land.paths):
        ax.plot(p.points[:, 0], p.points[:, 1], color="w", lw=1.5, ls="--")
        ax2.plot(p.arc_length, p.potential, label=f"{p.start} -> {p.end}")
    for j, (x, st) in enumerate(zip(land.fixed_point_focus, stable)):
        ax.scatter([x[0]], [x[1]], s=60, zorder=4, edgecolors=STABLE_COLOR if st else UNSTABLE_COLOR,
                   facecolors=STABLE_COLOR if st else "none", linewidths=2)
        ax.annotate(str(j), (x[0], x[1]), textcoords="offset points", xytext=(5, 5), color="w", fontsize=8)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(grid[0], grid[-1])
    ax.set_xlabel(f"rate of {focus[0]} (Hz)")
    ax.set_ylabel(f"rate of {focus[1]} (Hz)")
    ax.set_title("force field; nullclines orange/cyan; filled green: stable")
    ax2.set_xlabel("distance along the minimal-|F| path (Hz)")
    ax2.set_ylabel("U = -$\\int$ F $\\cdot$ dx (Hz$^2$)")
    ax2.set_title("potential along the paths between stable states")
    if land.paths:
        ax2.legend(fontsize=7)
    else:
        ax2.text(0.5, 0.5, "fewer than two stable states", ha="center", va="center", transform=ax2.transAxes)
    # fixed margins (tight_layout measures every text in an extra pass); between the panels
    # room for the colour bar's labels and the potential's axis
    fixed_layout(fig, left=0.75, right=0.2, bottom=0.6, top=0.4, wspace=0.95)
    return save_figure(fig, path)


def plot_meanfield(result: Mapping[str, Any], paths: Mapping[str, str | os.PathLike]) -> dict[str, Path]:
    """All three figures of a study.

    The landscape figure is always written (a note when the study has no landscape), so that
    the set of files is the same for every run.

    Args:
        result: From :func:`spikeflow.meanfield.study.meanfield_study`.
        paths: the PNG file of each figure: ``states``, ``spectra`` and ``landscape``.

    Returns:
        The paths written, by the same keys.
    """
    written = {
        "states": plot_states(result, paths["states"]),
        "spectra": plot_spectra(result, paths["spectra"]),
    }
    land = plot_landscape(result, paths["landscape"])
    if land is None:  # a fixed set of outputs for the workflow: say why there is no landscape
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no landscape computed (analysis.meanfield.landscape: false)", ha="center", va="center")
        land = save_figure(fig, paths["landscape"])
    written["landscape"] = land
    return written
