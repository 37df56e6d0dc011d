"""What the per-run attractor figures draw of an analysis, computed without matplotlib.

An :class:`~spikeflow.models.clustered.attractors.AttractorAnalysis` holds per-bin arrays
(rates and active flags: 20 populations x 1.7 M bins are 306 MB); its figures draw an image
of at most :data:`MAX_IMAGE_COLUMNS` columns of them, a colour scale and the number of active
populations where it changes. :func:`figure_data` reduces the analysis to that, so that the
figures can be drawn by another process (:mod:`spikeflow.plots.process`) from a few MB, and
the same numbers reach the figures either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["MAX_IMAGE_COLUMNS", "FigureData", "figure_data", "percentile"]

#: Images wider than this many columns are averaged down in time before drawing.
MAX_IMAGE_COLUMNS = 4000


@dataclass(frozen=True)
class FigureData:
    """An attractor analysis as its per-run figures draw it.

    Attributes:
        analysis: the analysis, its per-bin arrays (``rates_hz``, ``active``, ``times_ms``)
            emptied to zero bins.
        n_bins: bins of the analysis's rates.
        image_hz: float64 (n_pop, n_columns), the rates averaged over ``ceil(n_bins /
            MAX_IMAGE_COLUMNS)`` bins a column (the last column: the bins left), Hz.
        vmax_hz: the 99.5th percentile of all rates (1.0 without bins), Hz: the colour scale's top.
        active_edges_ms: float64 (n_changes + 1,), the bin starts where the number of active
            populations changes (the first bin's included), then the analysis window's end, ms.
        active_counts: int64 (n_changes + 1,), the number of active populations from each edge
            on (the last repeated at the window's end).
    """

    analysis: object
    n_bins: int
    image_hz: np.ndarray
    vmax_hz: float
    active_edges_ms: np.ndarray
    active_counts: np.ndarray


def figure_data(result: object) -> FigureData:
    """:class:`FigureData` of an analysis (one that is already :class:`FigureData` as it is).

    Args:
        result: an :class:`~spikeflow.models.clustered.attractors.AttractorAnalysis`.
    """
    if isinstance(result, FigureData):
        return result
    rates = result.rates_hz
    n_pop, n_bins = rates.shape
    factor = max(1, math.ceil(n_bins / MAX_IMAGE_COLUMNS))
    seq = result.sequence
    k = result.active.sum(axis=0)
    # the step function at its changes only (a line, not a patch of one vertex per bin)
    change = np.concatenate(([0], np.flatnonzero(np.diff(k)) + 1)) if k.size else np.zeros(0, dtype=np.int64)
    edges = np.append(np.asarray(result.times_ms)[change], seq.t_start_ms + seq.analysed_ms)
    counts = np.append(k[change], k[-1] if k.size else 0)
    slim = replace(
        result,
        rates_hz=np.zeros((n_pop, 0)),
        active=np.zeros((n_pop, 0), dtype=bool),
        times_ms=np.zeros(0),
    )
    return FigureData(
        analysis=slim,
        n_bins=int(n_bins),
        image_hz=_downsample(rates, factor),
        vmax_hz=percentile(rates, 99.5) if rates.size else 1.0,
        active_edges_ms=edges,
        active_counts=counts,
    )


def _downsample(values: np.ndarray, factor: int) -> np.ndarray:
    if factor <= 1:
        return values
    n = values.shape[1] // factor * factor
    head = values[:, :n].reshape(values.shape[0], -1, factor).mean(axis=2)
    if n < values.shape[1]:
        head = np.concatenate((head, values[:, n:].mean(axis=1, keepdims=True)), axis=1)
    return head


def _order_statistics(flat: np.ndarray, k: int) -> tuple[float, float]:
    """The values at positions ``k`` and ``k + 1`` of ``sorted(flat)``, for ``k`` near the top.

    Without sorting or copying all of ``flat``: a bound below both is taken from a strided
    sample, the values at or above it (a small fraction) are collected and partitioned. When
    the bound fails (too few values above it) or keeps too many (ties), ``flat`` is copied
    and partitioned whole.
    """
    n = flat.size
    top = n - k  # values at positions >= k
    step = max(1, n // 65536)
    sample = flat[::step]
    rank = int(sample.size * (1.0 - 2.0 * top / n)) - 1
    if 0 <= rank < sample.size and 2 * top < n // 8:
        bound = np.partition(sample, rank)[rank]
        chunk = 1 << 20
        above = [part[part >= bound] for part in (flat[i : i + chunk] for i in range(0, n, chunk))]
        count = sum(a.size for a in above)
        if top <= count <= n // 8:
            candidates = np.concatenate(above)
            first = k - (n - count)
            picked = np.partition(candidates, [first, first + 1])
            return float(picked[first]), float(picked[first + 1])
    picked = np.partition(flat.copy(), [k, k + 1])
    return float(picked[k]), float(picked[k + 1])


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation, the same number) for ``q`` near 100.

    ``np.percentile`` partitions a copy of all the values (272 MB for 20 clusters at 0.5 ms
    bins over 850 s); here only the top of them is (:func:`_order_statistics`). The
    interpolation is numpy's own: virtual index ``(n - 1) * q / 100``, then
    ``a + (b - a) * g`` below ``g = 0.5``, ``b - (b - a) * (1 - g)`` from it.

    Args:
        values: finite numbers, any shape (not empty).
        q: percentile in [0, 100].

    Returns:
        The percentile.
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    n = flat.size
    virtual = (n - 1) * np.true_divide(q, 100)
    if virtual >= n - 1:
        return float(flat.max())
    below = np.floor(virtual)
    gamma = virtual - below
    a, b = _order_statistics(flat, int(below))
    a, b = np.float64(a), np.float64(b)
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)
