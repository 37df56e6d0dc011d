"""Input spike trains of the sequence-learning study: frozen patterns embedded in Poisson noise.

The time line alternates noise phases (duration uniform in ``t_noise_range``) and pattern
presentations (pattern chosen uniformly among ``n_patterns`` each time: :func:`schedule`, the
config path's rule; or patterns taken in order from a list of pattern sequences:
:func:`sequence_schedule`, the rule of the NEST replication's ``random_iterate`` mode).
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
        t_pattern: pattern length (ms); the longest one when ``durations`` is given.
        t_stop: end of the generated time line (ms).
        durations: length of each presentation (ms), shape (n_presentations,), when the patterns
            differ in length; None: every presentation lasts ``t_pattern``.
    """

    onsets: np.ndarray
    pattern_ids: np.ndarray
    t_pattern: float
    t_stop: float
    durations: np.ndarray | None = None

    def lengths(self) -> np.ndarray:
        """Length of each presentation (ms), shape (n_presentations,)."""
        if self.durations is not None:
            return np.asarray(self.durations, dtype=float)
        return np.full(self.onsets.shape, float(self.t_pattern))

    def label_at(self, times: np.ndarray) -> np.ndarray:
        """Pattern id presented at each time (ms), -1 during noise, shape like ``times``."""
        times = np.asarray(times, dtype=float)
        out = np.full(times.shape, -1, dtype=np.int64)
        idx = np.searchsorted(self.onsets, times, side="right") - 1
        ok = idx >= 0
        inside = np.zeros(times.shape, dtype=bool)
        if self.durations is None:
            inside[ok] = times[ok] < self.onsets[idx[ok]] + self.t_pattern
        else:
            inside[ok] = times[ok] < self.onsets[idx[ok]] + np.asarray(self.durations, dtype=float)[idx[ok]]
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


def sequence_schedule(
    t_start: float,
    t_stop: float,
    sequences: list[list[int]],
    lengths: list[float],
    t_noise_range: tuple[float, float],
    rng: np.random.Generator,
    dt: float = 1.0,
    *,
    p_switch: float = 1.0,
    position: tuple[int, int] = (0, 0),
) -> tuple[Schedule, tuple[int, int]]:
    """Patterns taken in order from pattern sequences, each after a noise phase, from ``t_start`` on.

    The current sequence is presented pattern by pattern (every pattern preceded by a noise phase
    of a duration drawn uniformly from ``t_noise_range``); at its end the next sequence of the
    list follows (cyclically) with probability ``p_switch``, otherwise the same one again
    (``p_switch = 1``: the sequences in turn, no draw). Only complete patterns before ``t_stop``;
    the first one that does not fit is the first of the next stretch (``position`` carries over).

    Args:
        t_start, t_stop: the stretch of model time (ms).
        sequences: lists of pattern ids, e.g. ``[[0, 1], [2]]``.
        lengths: length of each pattern (ms), indexed by pattern id.
        t_noise_range: [low, high] of the noise-phase durations (ms), rounded to the dt grid.
        rng: the generator.
        dt: time grid (ms).
        p_switch: probability of moving on to the next sequence at the end of one.
        position: (sequence index, index within it) of the next pattern.

    Returns:
        (the schedule, the position of the next pattern after it).
    """
    seq, k = int(position[0]), int(position[1])
    onsets, ids, durations = [], [], []
    t = t_start
    while True:
        t += np.round(rng.uniform(*t_noise_range) / dt) * dt
        pid = int(sequences[seq][k])
        if t + lengths[pid] > t_stop:
            break
        onsets.append(t)
        ids.append(pid)
        durations.append(float(lengths[pid]))
        t += lengths[pid]
        k += 1
        if k == len(sequences[seq]):
            k = 0
            if p_switch >= 1.0 or rng.random() < p_switch:
                seq = (seq + 1) % len(sequences)
    longest = float(max(lengths))
    equal = all(float(x) == longest for x in lengths)
    sched = Schedule(
        np.array(onsets, dtype=float),
        np.array(ids, dtype=np.int64),
        longest,
        float(t_stop),
        None if equal else np.array(durations, dtype=float),
    )
    return sched, (seq, k)


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
    # per presentation lengths only when they differ (the same arithmetic as before otherwise)
    ends = [onset + sched.t_pattern for onset in sched.onsets] if sched.durations is None else list(sched.onsets + sched.lengths())
    bounds = [t_start]
    for onset, end in zip(sched.onsets, ends):
        bounds += [onset, end]
    bounds.append(sched.t_stop)
    out = []
    for c in range(n_channels):
        parts = []
        for k in range(0, len(bounds), 2):  # noise phases: [bounds[k], bounds[k+1])
            parts.append(poisson_times(bounds[k], bounds[k + 1], r_noise, rng, dt))
        for onset, end, pid in zip(sched.onsets, ends, sched.pattern_ids):
            parts.append(onset + patterns[pid][c])
            parts.append(poisson_times(onset, end, r_noise_pattern, rng, dt))
        out.append(np.unique(np.concatenate(parts)) if parts else np.zeros(0))
    return out
