"""Input spike trains of the sequence-learning study: frozen patterns embedded in Poisson noise.

The time line alternates noise phases (duration uniform in ``t_noise_range``) and pattern
presentations (pattern chosen uniformly among ``n_patterns`` each time; "random_iterate").
During noise every channel fires Poisson at ``r_noise``; during a pattern each channel replays
its frozen spike train of the pattern (drawn once at ``r_input``) plus Poisson noise at
``r_noise_pattern``. Everything is drawn with NumPy from a seed, so it is identical on every
MPI rank and can be saved with the run.

Units: ms, Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """Which pattern is presented when.

    Attributes:
        onsets: pattern onsets (ms), shape (n_presentations,).
        pattern_ids: pattern of each presentation, shape (n_presentations,).
        t_pattern: pattern length (ms).
        t_stop: end of the generated time line (ms).
    """

    onsets: np.ndarray
    pattern_ids: np.ndarray
    t_pattern: float
    t_stop: float

    def label_at(self, times: np.ndarray) -> np.ndarray:
        """Pattern id presented at each time (ms), -1 during noise, shape like ``times``."""
        times = np.asarray(times, dtype=float)
        out = np.full(times.shape, -1, dtype=np.int64)
        idx = np.searchsorted(self.onsets, times, side="right") - 1
        ok = idx >= 0
        inside = np.zeros(times.shape, dtype=bool)
        inside[ok] = times[ok] < self.onsets[idx[ok]] + self.t_pattern
        out[inside] = self.pattern_ids[idx[inside]]
        return out


def frozen_patterns(n_patterns: int, n_channels: int, t_pattern: float, rate: float, rng: np.random.Generator, dt: float = 1.0) -> list[list[np.ndarray]]:
    """Frozen Poisson spike trains: ``patterns[p][c]`` are times (ms, relative to onset, on the dt grid)."""
    return [[poisson_times(0.0, t_pattern, rate, rng, dt) for _ in range(n_channels)] for _ in range(n_patterns)]


def poisson_times(t_start: float, t_stop: float, rate: float, rng: np.random.Generator, dt: float = 1.0) -> np.ndarray:
    """Poisson spike times (ms) in [t_start, t_stop) at ``rate`` Hz, on the dt grid, unique, sorted."""
    n = rng.poisson(rate * (t_stop - t_start) / 1000.0)
    t = np.unique(np.floor(rng.uniform(t_start, t_stop, size=n) / dt) * dt)
    return t[(t >= t_start) & (t < t_stop)]


def schedule(t_start: float, t_stop: float, n_patterns: int, t_pattern: float, t_noise_range: tuple[float, float], rng: np.random.Generator, dt: float = 1.0) -> Schedule:
    """Alternate noise phases and patterns from ``t_start`` on; only complete patterns before ``t_stop``."""
    onsets, ids = [], []
    t = t_start
    while True:
        t += np.round(rng.uniform(*t_noise_range) / dt) * dt
        if t + t_pattern > t_stop:
            break
        onsets.append(t)
        ids.append(int(rng.integers(n_patterns)))
        t += t_pattern
    return Schedule(np.array(onsets, dtype=float), np.array(ids, dtype=np.int64), float(t_pattern), float(t_stop))


def input_spikes(
    sched: Schedule,
    patterns: list[list[np.ndarray]],
    t_start: float,
    r_noise: float,
    r_noise_pattern: float,
    rng: np.random.Generator,
    dt: float = 1.0,
) -> list[np.ndarray]:
    """Spike times (ms) of each channel over [t_start, sched.t_stop): noise, patterns, pattern noise."""
    n_channels = len(patterns[0])
    bounds = [t_start]
    for onset in sched.onsets:
        bounds += [onset, onset + sched.t_pattern]
    bounds.append(sched.t_stop)
    out = []
    for c in range(n_channels):
        parts = []
        for k in range(0, len(bounds), 2):  # noise phases: [bounds[k], bounds[k+1])
            parts.append(poisson_times(bounds[k], bounds[k + 1], r_noise, rng, dt))
        for onset, pid in zip(sched.onsets, sched.pattern_ids):
            parts.append(onset + patterns[pid][c])
            parts.append(poisson_times(onset, onset + sched.t_pattern, r_noise_pattern, rng, dt))
        out.append(np.unique(np.concatenate(parts)) if parts else np.zeros(0))
    return out
