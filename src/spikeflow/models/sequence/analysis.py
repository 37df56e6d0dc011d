"""Analyses of sequence-learning runs: network state, pattern decoding, activation order.

- Network state: spikes low-pass filtered with tau = 20 ms (Klampfl & Maass 2013).
- Pattern decoding: a linear ridge least-squares readout (one-hot targets, with bias) of what
  the input shows at time t (pattern k, or noise) from the network state at t, sampled every
  20 ms within a test phase, scored on held-out presentations (5 contiguous folds). Also the
  score at each delay after onset (through the pattern and beyond its offset: the memory trace).
- Activation order: each neuron's phase within the pattern, the angle of
  sum_t r(t) exp(2 pi i t / T) over the pattern window, to sort rasters.

- :func:`analyze_run`: all of it for one run (decoding and raster order of each test phase),
  from the WTA spikes and the arrays of its ``sequence.npz``; :mod:`spikeflow.tasks.sequence`
  reads the files, writes decoding.json and draws the figures.

Units: ms. Arrays: spikes as (node_ids, times) of one population of n neurons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikeflow.models.sequence.inputs import Schedule

TAU_STATE = 20.0
SAMPLE_DT = 20.0


def filtered_state(node_ids: np.ndarray, times: np.ndarray, n: int, sample_times: np.ndarray, tau: float = TAU_STATE) -> np.ndarray:
    """Exponentially filtered spike trains, sum_{t_s <= t} exp(-(t - t_s)/tau), at ``sample_times``.

    Returns:
        shape (len(sample_times), n).
    """
    sample_times = np.asarray(sample_times, dtype=float)
    out = np.zeros((sample_times.size, n))
    order = np.argsort(times, kind="stable")
    node_ids, times = np.asarray(node_ids)[order], np.asarray(times, dtype=float)[order]
    for j, t in enumerate(sample_times):
        lo = np.searchsorted(times, t - 10 * tau, side="left")
        hi = np.searchsorted(times, t, side="right")
        np.add.at(out[j], node_ids[lo:hi].astype(np.int64), np.exp(-(t - times[lo:hi]) / tau))
    return out


@dataclass(frozen=True)
class Decoding:
    """Readout scores of one test phase.

    Attributes:
        accuracy: fraction of held-out samples whose class (noise or pattern k) is decoded right.
        chance: accuracy of always guessing the most frequent class of the held-out samples.
        delays: delays after onset (ms), shape (n_delays,).
        accuracy_at_delay: held-out accuracy at each delay after onset, shape (n_delays,).
        n_train, n_test: samples each readout is fitted on, samples scored (all, out of fold).
    """

    accuracy: float
    chance: float
    delays: np.ndarray
    accuracy_at_delay: np.ndarray
    n_train: int
    n_test: int


def _design(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((x.shape[0], 1))])


def fit_readout(x: np.ndarray, labels: np.ndarray, n_classes: int, ridge_rel: float = 1.0) -> np.ndarray:
    """Ridge least-squares weights (n_features + 1, n_classes) mapping state rows to one-hot ``labels``.

    The ridge is ``ridge_rel`` times the mean diagonal of A^T A (A = states with a bias column),
    so that it does not depend on the scale of the state.
    """
    a = _design(x)
    y = np.eye(n_classes)[labels]
    gram = a.T @ a
    ridge = ridge_rel * np.trace(gram) / gram.shape[0]
    return np.linalg.solve(gram + ridge * np.eye(gram.shape[0]), a.T @ y)


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.argmax(_design(x) @ w, axis=1)


def decode_patterns(
    node_ids: np.ndarray,
    times: np.ndarray,
    n: int,
    sched: Schedule,
    n_patterns: int,
    t_start: float,
    t_stop: float,
    *,
    sample_dt: float = SAMPLE_DT,
    n_folds: int = 5,
    ridge_rel: float = 1.0,
    max_delay: float | None = None,
) -> Decoding:
    """Decode what the input shows (noise = class 0, pattern k = class k+1) from the network state.

    The phase [t_start, t_stop) is sampled every ``sample_dt`` ms and cut into ``n_folds``
    contiguous blocks; each block is decoded by a readout fitted on the other blocks (held-out
    presentations). The accuracy at delay d is that of the held-out samples d..d+sample_dt ms
    after the most recent pattern onset (beyond t_pattern: the memory trace after the offset).
    """
    in_phase = (sched.onsets >= t_start) & (sched.onsets + sched.t_pattern <= t_stop)
    if in_phase.sum() < n_folds:
        raise ValueError(f"a test phase needs at least {n_folds} pattern presentations to decode (lengthen t_test)")
    samples = np.arange(t_start + sample_dt, t_stop, sample_dt)
    x = filtered_state(node_ids, times, n, samples)
    labels = sched.label_at(samples) + 1
    fold = np.minimum(((samples - t_start) / ((t_stop - t_start) / n_folds)).astype(int), n_folds - 1)
    predicted = np.empty_like(labels)
    for k in range(n_folds):
        held = fold == k
        w = fit_readout(x[~held], labels[~held], n_patterns + 1, ridge_rel)
        predicted[held] = predict(w, x[held])
    ok = predicted == labels
    counts = np.bincount(labels, minlength=n_patterns + 1)
    max_delay = sched.t_pattern + 300.0 if max_delay is None else max_delay
    delays = np.arange(0.0, max_delay, sample_dt)
    last = np.searchsorted(sched.onsets, samples, side="right") - 1
    since = np.where(last >= 0, samples - sched.onsets[np.maximum(last, 0)], np.inf)
    acc_delay = np.array(
        [float(ok[(since >= dl) & (since < dl + sample_dt)].mean()) if np.any((since >= dl) & (since < dl + sample_dt)) else np.nan for dl in delays]
    )
    return Decoding(
        accuracy=float(ok.mean()),
        chance=float(counts.max() / counts.sum()),
        delays=delays,
        accuracy_at_delay=acc_delay,
        n_train=int(round(samples.size * (n_folds - 1) / n_folds)),
        n_test=int(samples.size),
    )


def activation_phase(node_ids: np.ndarray, times: np.ndarray, n: int, onset: float, t_pattern: float, bin_ms: float = 1.0) -> np.ndarray:
    """Phase (radians, in [0, 2 pi)) of each neuron's activity within one pattern window; NaN if silent.

    The phase is the angle of sum_t r(t) exp(2 pi i t / T), t relative to ``onset``, T = t_pattern.
    """
    sel = (times >= onset) & (times < onset + t_pattern)
    rel = np.asarray(times)[sel] - onset
    ids = np.asarray(node_ids)[sel].astype(np.int64)
    z = np.zeros(n, dtype=complex)
    np.add.at(z, ids, np.exp(2j * np.pi * rel / t_pattern))
    phase = np.mod(np.angle(z), 2 * np.pi)
    phase[np.abs(z) == 0] = np.nan
    return phase


def order_by_activation(node_ids, times, n, onsets, t_pattern) -> np.ndarray:
    """Neuron order (indices) by mean activation phase over the given pattern onsets; silent ones last."""
    z = np.zeros(n, dtype=complex)
    for onset in onsets:
        ph = activation_phase(node_ids, times, n, onset, t_pattern)
        ok = ~np.isnan(ph)
        z[ok] += np.exp(1j * ph[ok])
    phase = np.where(np.abs(z) > 0, np.mod(np.angle(z), 2 * np.pi), np.inf)
    return np.argsort(phase, kind="stable")


def load_schedule(side: dict) -> Schedule:
    """The input schedule saved in a run's ``sequence.npz``."""
    return Schedule(
        onsets=np.asarray(side["onsets"]),
        pattern_ids=np.asarray(side["pattern_ids"]),
        t_pattern=float(side["t_pattern"]),
        t_stop=float(np.asarray(side["phase_bounds"]).max()),
    )


def decoded_phases(side: Mapping[str, np.ndarray]) -> list[tuple[str, float, float]]:
    """The test phases of a run, ``(name, start, stop)`` in ms, from its ``sequence.npz`` arrays."""
    return [(str(name), float(a), float(b)) for name, (a, b) in zip(side["phase_names"], side["phase_bounds"])
            if str(name).startswith("test")]


@dataclass(frozen=True)
class RunAnalysis:
    """The analysis of one sequence-learning run: decoding per test phase and the neuron order of its raster.

    Attributes:
        node_ids, times: the WTA population's spikes (0-based ids, times in ms).
        n: neurons of the WTA population.
        schedule: the input schedule (:func:`load_schedule`).
        phases: the test phases, ``(name, start, stop)`` in ms (:func:`decoded_phases`).
        orders: test phase name -> neuron order by activation within the pattern, shape (n,)
            (:func:`order_by_activation` over the presentations inside the phase).
        decoding: test phase name -> ``{"accuracy", "chance", "n_train", "n_test",
            "delays_ms", "accuracy_at_delay"}`` (the decoding.json document).
    """

    node_ids: np.ndarray
    times: np.ndarray
    n: int
    schedule: Schedule
    phases: list[tuple[str, float, float]]
    orders: dict[str, np.ndarray]
    decoding: dict[str, dict]


def analyze_run(node_ids: np.ndarray, times: np.ndarray, n: int, n_patterns: int, side: Mapping[str, np.ndarray]) -> RunAnalysis:
    """Decoding accuracy before and after training of one run, and each test phase's neuron order.

    Args:
        node_ids, times: the WTA population's spikes (0-based ids, times in ms).
        n: neurons of the WTA population.
        n_patterns: patterns of the run (``params.n_patterns``).
        side: the arrays of the run's ``sequence.npz`` (onsets, pattern_ids, t_pattern,
            phase_names, phase_bounds, ...).

    Returns:
        The :class:`RunAnalysis`.
    """
    sched = load_schedule(side)
    phases = decoded_phases(side)
    decoding, orders = {}, {}
    for name, a, b in phases:
        dec = decode_patterns(node_ids, times, n, sched, n_patterns, a, b)
        decoding[name] = {
            "accuracy": dec.accuracy,
            "chance": dec.chance,
            "n_train": dec.n_train,
            "n_test": dec.n_test,
            "delays_ms": dec.delays.tolist(),
            "accuracy_at_delay": dec.accuracy_at_delay.tolist(),
        }
        on = sched.onsets[(sched.onsets >= a) & (sched.onsets + sched.t_pattern <= b)]
        orders[name] = order_by_activation(node_ids, times, n, on, sched.t_pattern)
    return RunAnalysis(node_ids, times, n, sched, phases, orders, decoding)
