"""Per-epoch measurements: spike statistics per population and weight statistics per plastic pathway.

Pure NumPy on arrays gathered from all ranks; nothing here imports NEST.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from spikeflow.analysis.spiketrains import in_window_mask, isi_cv, per_neuron_rates


def population_metrics(node_ids: np.ndarray, times: np.ndarray, n_nodes: int, t_start: float, t_stop: float) -> dict[str, Any]:
    """Rate and irregularity of one population in ``(t_start, t_stop]`` (ms, NEST's window).

    Returns:
        ``n_spikes``; ``rate_hz`` (mean over all neurons, spikes/s); ``fraction_silent``;
        ``cv_isi`` (mean ISI CV over neurons with at least 3 spikes, NaN if none).
    """
    rates = per_neuron_rates(node_ids, times, n_nodes, t_start, t_stop)
    cvs = isi_cv(node_ids, times, t_start, t_stop, min_spikes=3)
    return {
        "n_spikes": int(np.count_nonzero(in_window_mask(times, t_start, t_stop))),
        "rate_hz": float(rates.mean()) if rates.size else float("nan"),
        "fraction_silent": float(np.mean(rates == 0)) if rates.size else float("nan"),
        "cv_isi": float(np.mean(cvs)) if cvs.size else float("nan"),
    }


def histogram_edges(weights0: np.ndarray, bound: float | None, bins: int) -> np.ndarray:
    """Fixed histogram edges of a pathway for the whole run: from 0 (or the most negative value) to Wmax or 2 x max |w0|.

    Args:
        weights0: initial weights (n,).
        bound: the weight bound Wmax (with sign) or None.
        bins: number of bins.

    Returns:
        float64 array (bins + 1,).
    """
    w = np.asarray(weights0, float)
    ext = [0.0]
    if w.size:
        ext += [float(w.min()), float(w.max())]
    if bound is not None:
        ext.append(float(bound))
    else:
        ext += [2.0 * x for x in ext]
    lo, hi = min(ext), max(ext)
    if hi == lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def weight_stats(weights: np.ndarray, previous: np.ndarray | None, edges: np.ndarray) -> dict[str, Any]:
    """Statistics of one pathway's weights, and their change since ``previous`` (same connections, same order).

    Returns:
        ``n``, ``mean``, ``std``, ``min``, ``max``; ``histogram`` (counts per bin of ``edges``,
        values outside clipped into the end bins); ``change_mean``, ``change_abs_mean``,
        ``change_rms`` (NaN without ``previous``).
    """
    w = np.asarray(weights, float)
    nan = float("nan")
    out: dict[str, Any] = {
        "n": int(w.size),
        "mean": float(w.mean()) if w.size else nan,
        "std": float(w.std()) if w.size else nan,
        "min": float(w.min()) if w.size else nan,
        "max": float(w.max()) if w.size else nan,
        "histogram": np.histogram(np.clip(w, edges[0], edges[-1]), bins=edges)[0].astype(int).tolist(),
    }
    if previous is not None and np.asarray(previous).shape == w.shape and w.size:
        dw = w - np.asarray(previous, float)
        out.update(change_mean=float(dw.mean()), change_abs_mean=float(np.abs(dw).mean()), change_rms=float(np.sqrt(np.mean(dw**2))))
    else:
        out.update(change_mean=nan, change_abs_mean=nan, change_rms=nan)
    return out


def state_summary(state: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean and SD of every neuron state variable of a population (e.g. V_m in mV)."""
    out = {}
    for key, values in state.items():
        if key == "node_ids":
            continue
        v = np.asarray(values, float)
        out[key] = {"mean": float(v.mean()) if v.size else float("nan"), "std": float(v.std()) if v.size else float("nan")}
    return out
