"""Frozen spike patterns for the input population X, and their presentation schedule.

A pattern is one Poisson spike train per X neuron over ``pattern_ms``, drawn once from the run's
seed (NumPy, independent of NEST) and replayed unchanged every time it is presented. Each epoch
is filled with back-to-back presentations; their order is cyclic or drawn per epoch from the
seed and the epoch number, so that a resumed run presents exactly what the uninterrupted run did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Patterns:
    """Frozen patterns.

    Attributes:
        node_ids: per pattern, int64 array (n_spikes,) of 0-based X neuron indices.
        times: per pattern, float64 array (n_spikes,) of spike times in ms within the pattern,
            on the simulation grid, in (0, pattern_ms].
        pattern_ms: length of one pattern, ms.
    """

    node_ids: tuple[np.ndarray, ...]
    times: tuple[np.ndarray, ...]
    pattern_ms: float

    @property
    def n_patterns(self) -> int:
        return len(self.times)


def make_patterns(n_patterns: int, n_inputs: int, pattern_ms: float, rate_hz: float, resolution: float, seed: int) -> Patterns:
    """Draw ``n_patterns`` frozen Poisson patterns of ``n_inputs`` trains each.

    Spike times are rounded up to the grid (multiples of ``resolution``, ms) and at most one
    spike per neuron and step is kept (a spike generator to a parrot passes one spike per step).

    Returns:
        The patterns (same arguments give the same patterns).
    """
    rng = np.random.default_rng([int(seed), 7])  # a stream of its own, independent of NEST's
    steps = int(round(pattern_ms / resolution))
    p_step = min(1.0, rate_hz * resolution / 1000.0)
    ids_all, times_all = [], []
    for _ in range(n_patterns):
        spikes = rng.random((n_inputs, steps)) < p_step
        ids, step = np.nonzero(spikes)
        t = (step + 1) * resolution
        order = np.lexsort((ids, t))
        ids_all.append(ids[order].astype(np.int64))
        times_all.append(np.round(t[order], 10))
    return Patterns(tuple(ids_all), tuple(times_all), float(pattern_ms))


def schedule(patterns: Patterns, epoch: int, epoch_ms: float, order: str, seed: int) -> list[tuple[float, int]]:
    """Presentations of one epoch: (onset within the epoch in ms, pattern index), back to back.

    Args:
        patterns: the frozen patterns.
        epoch: epoch number (1-based; 0 is the warm-up).
        epoch_ms: epoch length, ms; only whole presentations that fit are made.
        order: ``cyclic`` (continuing over epochs) or ``random``.
        seed: the run's seed.
    """
    n_fit = int(np.floor(epoch_ms / patterns.pattern_ms + 1e-9))
    if order == "cyclic":
        start = max(epoch - 1, 0) * n_fit
        idx = [(start + i) % patterns.n_patterns for i in range(n_fit)]
    else:
        rng = np.random.default_rng([int(seed), 11, int(epoch)])
        idx = rng.integers(0, patterns.n_patterns, size=n_fit).tolist()
    return [(i * patterns.pattern_ms, int(k)) for i, k in enumerate(idx)]


def generator_times(patterns: Patterns, presentations: list[tuple[float, int]], offset_ms: float, n_inputs: int) -> list[np.ndarray]:
    """Spike times (ms) of each X neuron's spike_generator for the given presentations.

    Args:
        patterns: the frozen patterns.
        presentations: from :func:`schedule`.
        offset_ms: kernel time at which the epoch starts.
        n_inputs: neurons in X.

    Returns:
        One sorted float64 array per X neuron.
    """
    per_neuron: list[list[np.ndarray]] = [[] for _ in range(n_inputs)]
    for onset, k in presentations:
        ids, t = patterns.node_ids[k], patterns.times[k]
        for i in np.unique(ids):
            per_neuron[i].append(t[ids == i] + onset + offset_ms)
    return [np.round(np.sort(np.concatenate(x)), 10) if x else np.zeros(0) for x in per_neuron]
