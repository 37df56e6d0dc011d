"""Attractor analysis of clustered networks: cluster rates -> active clusters -> states -> transitions.

The algorithm is the one of the clustered-network toolkit (reference doc
``clustered-meanfield.md`` section 4; Papadopoulos et al. 2024 as ported in
VectorialNeuroModulators), step by step:

1. **Rates** (:func:`population_rates`): per population, the spike count in bins of
   ``bin_ms`` (bins start at the window start; an incomplete last bin is dropped, the
   convention of :mod:`spikeflow.analysis.spiketrains`) divided by ``bin_ms * size``, in
   Hz, smoothed with a Gaussian of SD ``smoothing_ms`` (the kernel and edges of
   ``scipy.ndimage.gaussian_filter1d``: sigma ``smoothing_ms / bin_ms`` bins, edges mirrored
   (``mode="reflect"``), truncated at 4 SD; computed by FFT,
   :class:`spikeflow.analysis.smoothing.GaussianSmoother`, equal to scipy's direct sum within
   1e-12 of the largest rate; ``smoothing_ms = 0``: no smoothing).
2. **Activity** (:func:`active_clusters`), method ``"reference"`` (the default), exactly:

   * ``theta_i`` = time mean of the rate of population ``i``; ``active = rate > theta``
     (strictly greater, per population);
   * repeat at most ``max_iter`` (50) times: stop if no bin is active; ``T`` = mean of the
     rates over all active (population, bin) entries; if ``|T - mean_i(theta_i)| < tol_hz``
     (20 Hz) stop **without applying T**; otherwise ``theta_i = T`` for every population
     (one global threshold) and ``active = rate > T``.

   The active matrix returned is always ``rate > theta`` with the ``theta`` returned. A
   consequence of this rule: when the first step changes the threshold by 20 Hz or more
   (clusters that are active a small fraction of the time), the global threshold climbs
   to the mean rate of the active bins, so about half of the bins of a cluster that is
   active at a typical rate fall below it. Method ``"midpoint"`` is the classical
   iterative (isodata, Ridler & Calvard 1978) threshold instead: one global threshold,
   started at the mean of all rates and replaced by the midpoint between the mean rate of
   the active and of the inactive entries until it moves by less than ``tol_hz``
   (default 0.01 Hz for this method); the new threshold is applied at every step.
3. **States** (:func:`states`): time is cut at every bin where the binary activity vector
   changes; a segment is kept if its duration ``n_bins * bin_ms >= min_state_ms``; the
   identity of a state is the sorted tuple of the indices of its active populations (the
   empty tuple is the state with no active population, which is a state like any other).
   States are numbered in the order of their first kept segment. Per state: count of
   kept segments, their starts/ends/durations (ms), mean rates over their bins. The first
   and the last segment are cut by the analysis window (their durations are lower bounds);
   they are kept and counted like the others, as in the reference.
4. **Transitions** (:func:`transition_matrix`): the kept segments in time order, dropped
   segments skipped; every consecutive pair counts one transition ``a -> b``, including
   ``a -> a`` when only dropped segments lie between two segments of the same state (as in
   the reference; such pairs stay two occurrences). ``P[a, b] = count(a -> b) /
   occurrences(a)``; rows may sum to less than 1 (the last segment has no successor).
   Dwell time = mean duration of a state's segments; occupancy = its total duration /
   analysed time (``n_bins * bin_ms``); occupancies plus the dropped fraction add up to 1.
   ``n_transitions`` in the summaries counts only the pairs with ``a != b``; the
   self-pairs are ``n_self_transitions``. attractors.json lists only the nonzero counts,
   as ``transition_table`` rows ``[from, to, count]`` (:func:`transition_table`;
   :func:`transitions_from_summary` makes the matrices from them); attractors.h5 keeps
   the dense matrices.

Also the distribution of the number of co-active populations: ``k_active_fraction[k]`` =
fraction of all bins of the window with exactly ``k`` active populations, ``k = 0..n_pop``
(from the activity matrix, dropped segments included), and its mean ``mean_active_count``.

:func:`compute_attractors` runs all of it on one run's spikes and returns an
:class:`AttractorAnalysis` (its :meth:`~AttractorAnalysis.summary` is the attractors.json
document): :func:`cluster_rates` (step 1, the only one that needs the spikes), then
:func:`attractors_from_rates` (steps 2-4). :func:`summarize_attractors` makes the study-level summary over repeats and sweep
values from those documents. Everything here is computation: :mod:`spikeflow.tasks.attractors`
reads the spikes file, writes attractors.h5 (:mod:`spikeflow.io.attractors`), attractors.json,
states.csv and the summary's files, and hands the results to the figures
(:mod:`spikeflow.models.clustered.attractor_plots`).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spikeflow.analysis import spiketrains as st
from spikeflow.analysis.parallel import analysis_threads, load_then_work
from spikeflow.analysis.rates import analysis_window
from spikeflow.analysis.smoothing import GaussianSmoother
from spikeflow.io.spikes import SpikeData
from spikeflow.io.tables import format_cell, to_json_value

__all__ = [
    "POPULATION_CHOICES",
    "THRESHOLD_METHODS",
    "STATE_COLUMNS",
    "select_populations",
    "population_rates",
    "active_clusters",
    "k_active_distribution",
    "StateSequence",
    "states",
    "transition_matrix",
    "transition_table",
    "transitions_from_summary",
    "AttractorAnalysis",
    "RATE_OPTIONS",
    "check_options",
    "ClusterRates",
    "cluster_rates",
    "attractors_from_rates",
    "compute_attractors",
    "state_rows",
    "format_summary",
    "summarize_attractors",
    "summary_table",
    "format_group_summary",
]

#: Keywords of the ``populations`` option (anything else: population names).
POPULATION_CHOICES = ("e_clusters", "all")
#: Methods of :func:`active_clusters`.
THRESHOLD_METHODS = ("reference", "midpoint")
#: Default convergence tolerance of each threshold method, Hz.
DEFAULT_TOL_HZ = {"reference": 20.0, "midpoint": 0.01}
#: Columns of states.csv.
STATE_COLUMNS = [
    "state",
    "label",
    "n_active",
    "count",
    "total_ms",
    "occupancy",
    "mean_dwell_ms",
    "sd_dwell_ms",
    "median_dwell_ms",
    "max_dwell_ms",
    "mean_rate_active_hz",
    "mean_rate_inactive_hz",
]


# --------------------------------------------------------------------------------------
# options


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = number >= 0 if allow_zero else number > 0
    if not (math.isfinite(number) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def select_populations(data: SpikeData, populations: str | Sequence[str] = "e_clusters") -> list[str]:
    """The names of the populations to analyse, in order.

    Args:
        data: the run's spikes and metadata.
        populations: ``"e_clusters"`` (the excitatory clusters named in the metadata
            ``model_description["clusters"]["e_clusters"]``), ``"all"`` (every population of
            the file, in file order), a list of population names, or those names as one
            comma-separated string.

    Returns:
        The population names.

    Raises:
        ValueError: unknown name, empty selection, or ``"e_clusters"`` without cluster
            metadata.
    """
    available = list(data.populations)
    if isinstance(populations, str) and populations == "all":
        names = available
    elif isinstance(populations, str) and populations == "e_clusters":
        clusters = (data.metadata.get("model_description") or {}).get("clusters") or {}
        names = list(clusters.get("e_clusters") or [])
        if not names:
            raise ValueError(
                "populations='e_clusters' needs model_description['clusters']['e_clusters'] in the "
                "spikes file's metadata (a clustered model); use 'all' or name the populations"
            )
    else:
        if isinstance(populations, str):
            names = [p.strip() for p in populations.split(",") if p.strip()]
        else:
            names = [str(p) for p in populations]
        if not names:
            raise ValueError(f"populations must be one of {POPULATION_CHOICES} or population names, got {populations!r}")
    unknown = [n for n in names if n not in data.populations]
    if unknown:
        raise ValueError(
            f"unknown population {unknown[0]!r} (the spikes file has {', '.join(available)}; "
            f"or use one of {', '.join(POPULATION_CHOICES)})"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"populations lists a name twice: {names}")
    return names


# --------------------------------------------------------------------------------------
# 1. rates


def population_rates(
    data: SpikeData,
    names: Sequence[str],
    t_start: float,
    t_stop: float,
    bin_ms: float = 0.5,
    smoothing_ms: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed population rates of the named populations.

    Args:
        data: the run's spikes.
        names: populations, in the order of the output rows.
        t_start: window start in ms (start of the first bin).
        t_stop: window end in ms; an incomplete last bin is dropped.
        bin_ms: bin width in ms (> 0).
        smoothing_ms: SD of the Gaussian kernel in ms (>= 0; 0 = no smoothing).

    Returns:
        ``(times, rates)``: bin start times in ms, shape (n_bins,), and rates in Hz (spikes
        per neuron per second), shape (n_pop, n_bins).
    """
    times, rates, _ = _binned_rates(data, names, t_start, t_stop, bin_ms, smoothing_ms)
    return times, rates


def _binned_rates(
    data: SpikeData,
    names: Sequence[str],
    t_start: float,
    t_stop: float,
    bin_ms: float,
    smoothing_ms: float,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`population_rates` and the populations' sizes (int64 (n_pop,)).

    ``threads``: populations binned and smoothed at once (default
    :func:`spikeflow.analysis.parallel.analysis_threads`); the numbers do not depend on it.

    Each population of ``data.populations`` is looked up once, on this thread, and let go
    after binning, so a mapping that reads a population when it is looked up (the attractors
    task's) holds the spikes of ``threads + 1`` populations at most.
    """
    bin_ms = _positive("bin_ms", bin_ms)
    smoothing_ms = _positive("smoothing_ms", smoothing_ms, allow_zero=True)
    nb = st.n_bins(t_start, t_stop, bin_ms)
    if nb < 1:
        raise ValueError(f"bin_ms {bin_ms} is longer than the analysis window ({t_start}, {t_stop}] ms")
    reach = int(4.0 * smoothing_ms / bin_ms + 0.5)  # bins to each side (scipy's radius at 4 SD)
    if reach > 4 * nb:  # the smoothing would average mirrored copies of the window; bounds the kernel's memory
        raise ValueError(
            f"smoothing_ms {smoothing_ms:g} is too long for the analysis window of {nb * bin_ms:g} ms "
            f"(the kernel reaches {reach * bin_ms:g} ms to each side, more than 4 windows)"
        )
    # One population at a time: its raw rates in a one-row buffer, smoothed straight into
    # its row of the result (the same numbers as filtering the whole matrix along axis 1,
    # without a second matrix of raw rates). The populations are looked up (read, for the
    # attractors task's file) on this thread, one after another, and binned and smoothed on
    # the process's threads (numpy's FFT and binning release the GIL), each with its own
    # buffer and smoother; a row's numbers do not depend on which thread made it.
    rates = np.empty((len(names), nb), dtype=np.float64)
    sizes = np.zeros(len(names), dtype=np.int64)
    buffers = threading.local()

    def load(row: int) -> Any:
        pop = data.populations[names[row]]
        if pop.n_nodes < 1:
            raise ValueError(f"population {names[row]!r} has no neurons")
        return pop

    def work(row: int, pop: Any) -> None:
        sizes[row] = n_nodes = pop.n_nodes
        counts = st.spike_count_histogram(pop.times, t_start, t_stop, bin_ms)
        del pop
        if smoothing_ms == 0:
            np.divide(counts, n_nodes * bin_ms / 1000.0, out=rates[row])
            return
        if not hasattr(buffers, "smooth"):
            buffers.raw = np.empty(nb, dtype=np.float64)
            buffers.smooth = GaussianSmoother(nb, sigma=smoothing_ms / bin_ms, truncate=4.0)
        np.divide(counts, n_nodes * bin_ms / 1000.0, out=buffers.raw)
        buffers.smooth(buffers.raw, out=rates[row])

    parts = max(1, min(analysis_threads() if threads is None else int(threads), len(names)))
    load_then_work(load, work, range(len(names)), parts)
    times = float(t_start) + bin_ms * np.arange(nb, dtype=np.float64)
    return times, rates, sizes


# --------------------------------------------------------------------------------------
# 2. activity


#: Values per block of :func:`_split_sums` (256 KB of float64: in a core's cache).
_SPLIT_BLOCK = 1 << 15


def _split_sums(rates: np.ndarray, thresholds: np.ndarray) -> tuple[float, int, float, int]:
    """Sum and number of the rates above their row's threshold, and of the others.

    One pass over ``rates`` in blocks of :data:`_SPLIT_BLOCK` values: per block, the mask
    ``block > threshold``, the pairwise sum of ``block * mask`` and of ``block - block *
    mask`` (the values above, the others: zeros in place of the rest, exactly); the block
    sums are added pairwise at the end. No copy of the selected values (``rates[mask]`` of
    20 clusters at 0.5 ms bins over 850 s is 240 MB), and the sums are as accurate as
    numpy's mean of the selection (to about 1e-16; not bit-identical to it). Threads do not
    make it faster (2 threads: 5 %): a pass is bound by the memory's speed.

    Args:
        rates: float64 (n_pop, n_bins), C-contiguous.
        thresholds: float64 (n_pop,), Hz.

    Returns:
        (sum above, number above, sum of the others, number of the others).
    """
    n_pop, nb = rates.shape
    per_row = -(-nb // _SPLIT_BLOCK)
    above_sums = np.zeros(n_pop * per_row)
    other_sums = np.zeros(n_pop * per_row)
    part = np.empty(min(nb, _SPLIT_BLOCK))
    mask = np.empty(part.size, dtype=bool)
    n_above = 0
    k = 0
    for row in range(n_pop):
        values, threshold = rates[row], thresholds[row]
        for start in range(0, nb, _SPLIT_BLOCK):
            block = values[start : start + _SPLIT_BLOCK]
            m, t = mask[: block.size], part[: block.size]
            np.greater(block, threshold, out=m)
            n_above += int(np.count_nonzero(m))
            np.multiply(block, m, out=t)
            above_sums[k] = np.add.reduce(t)
            np.subtract(block, t, out=t)
            other_sums[k] = np.add.reduce(t)
            k += 1
    return float(np.add.reduce(above_sums)), n_above, float(np.add.reduce(other_sums)), rates.size - n_above


def active_clusters(
    rates: np.ndarray,
    method: str = "reference",
    tol_hz: float | None = None,
    max_iter: int = 50,
    return_thresholds: bool = False,
    min_contrast_hz: float = 0.0,
):
    """Which populations are active in which bins (the iterative threshold of the module doc).

    Args:
        rates: rates in Hz, shape (n_pop, n_bins).
        method: ``"reference"`` (per-population time means, then the global mean over
            active entries while that moves the threshold by ``tol_hz`` or more) or
            ``"midpoint"`` (global isodata threshold); see the module docstring.
        tol_hz: convergence tolerance in Hz (default 20 for "reference", 0.01 for
            "midpoint").
        max_iter: maximum number of threshold updates (>= 0).
        return_thresholds: also return the thresholds.
        min_contrast_hz: "midpoint" only - when the mean rate above the threshold exceeds the
            mean rate below it by less than this, the rates are not bimodal (e.g. the uniform
            asynchronous state, whose fluctuations the midpoint would split in half) and no
            population is active (threshold +inf).

    Returns:
        Boolean array (n_pop, n_bins), ``rates > thresholds[:, None]``; with
        ``return_thresholds`` the tuple (active, thresholds in Hz (n_pop,)).
    """
    rates = np.asarray(rates, dtype=np.float64)
    if rates.ndim != 2 or rates.shape[1] < 1:
        raise ValueError(f"rates must have shape (n_pop, n_bins) with n_bins >= 1, got {rates.shape}")
    if not np.all(np.isfinite(rates)):
        raise ValueError("rates must be finite")
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"threshold method must be one of {', '.join(THRESHOLD_METHODS)}, got {method!r}")
    tol = _positive("tol_hz", DEFAULT_TOL_HZ[method] if tol_hz is None else tol_hz)
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")
    n_pop = rates.shape[0]
    rates = np.ascontiguousarray(rates)
    # The means over the entries above (or not above) a threshold come from _split_sums, one
    # pass over the rates per step without the masks or the selections in memory; the
    # activity matrix is made once, for the final thresholds.
    if method == "reference":
        theta = rates.mean(axis=1)
        for _ in range(int(max_iter)):
            sum_above, n_above, _, _ = _split_sums(rates, theta)
            if not n_above:
                break
            proposal = float(np.float64(sum_above) / n_above)
            if abs(proposal - float(theta.mean())) < tol:
                break
            theta = np.full(n_pop, proposal)
    else:

        def split(threshold: float) -> tuple[float, float] | None:
            """(mean above, mean at or below) the threshold; None if either side is empty."""
            sum_above, n_above, sum_other, n_other = _split_sums(rates, np.full(n_pop, threshold))
            if n_above == 0 or n_other == 0:
                return None
            return float(np.float64(sum_above) / n_above), float(np.float64(sum_other) / n_other)

        threshold = float(rates.mean())
        for _ in range(int(max_iter)):
            means = split(threshold)
            if means is None:
                break
            proposal = 0.5 * (means[0] + means[1])
            moved = abs(proposal - threshold)
            threshold = proposal
            if moved < tol:
                break
        means = split(threshold)
        contrast = means[0] - means[1] if means is not None else 0.0
        if contrast < float(min_contrast_hz):
            threshold = float("inf")  # rates > inf: none (the rates are finite)
        theta = np.full(n_pop, threshold)
    active = rates > theta[:, None]
    return (active, theta) if return_thresholds else active


def k_active_distribution(active: np.ndarray) -> np.ndarray:
    """Fraction of bins with exactly k active populations.

    Args:
        active: boolean activity, shape (n_pop, n_bins).

    Returns:
        float64 array (n_pop + 1,): entry k is the fraction of bins with k active
        populations; it sums to 1.
    """
    active = np.asarray(active, dtype=bool)
    counts = np.bincount(active.sum(axis=0), minlength=active.shape[0] + 1)
    return counts / max(active.shape[1], 1)


# --------------------------------------------------------------------------------------
# 3. states and 4. transitions


def _label(identity: Sequence[int], names: Sequence[str] | None) -> str:
    if not identity:
        return "none"
    return "+".join(names[i] if names is not None else str(i) for i in identity)


def _sd(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def _mean(values: Iterable[float]) -> float:
    values = np.asarray(list(values), dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


@dataclass(frozen=True)
class StateSequence:
    """The segments of constant activity and the states they form.

    Attributes:
        t_start_ms: start of the first bin, ms.
        bin_ms: bin width, ms.
        n_bins: number of bins analysed.
        min_state_ms: segments shorter than this (ms) were dropped.
        seg_start: int64 (n_seg,), first bin of every segment (kept and dropped), in time order.
        seg_stop: int64 (n_seg,), bin after the last bin of every segment.
        seg_state: int64 (n_seg,), state index of every kept segment, -1 for dropped ones.
        identities: per state (in order of first kept appearance), the sorted tuple of the
            indices of its active populations.
        mean_rates_hz: float64 (n_states, n_pop), mean rate of every population over the bins
            of the state's kept segments (None if no rates were given).
    """

    t_start_ms: float
    bin_ms: float
    n_bins: int
    min_state_ms: float
    seg_start: np.ndarray
    seg_stop: np.ndarray
    seg_state: np.ndarray
    identities: tuple[tuple[int, ...], ...]
    mean_rates_hz: np.ndarray | None = None

    @property
    def n_states(self) -> int:
        return len(self.identities)

    @property
    def kept(self) -> np.ndarray:
        """Boolean (n_seg,): the segments that are states."""
        return self.seg_state >= 0

    @property
    def sequence(self) -> np.ndarray:
        """int64 (n_kept,): state index of the kept segments, in time order."""
        return self.seg_state[self.kept]

    @property
    def starts_ms(self) -> np.ndarray:
        """float64 (n_kept,): start of every kept segment, ms."""
        return self.t_start_ms + self.bin_ms * self.seg_start[self.kept]

    @property
    def ends_ms(self) -> np.ndarray:
        """float64 (n_kept,): end of every kept segment, ms."""
        return self.t_start_ms + self.bin_ms * self.seg_stop[self.kept]

    @property
    def durations_ms(self) -> np.ndarray:
        """float64 (n_kept,): duration of every kept segment, ms."""
        return self.bin_ms * (self.seg_stop - self.seg_start)[self.kept]

    @property
    def analysed_ms(self) -> float:
        """Analysed time, ``n_bins * bin_ms`` (ms)."""
        return self.n_bins * self.bin_ms

    @property
    def dropped_fraction(self) -> float:
        """Fraction of the analysed time in dropped (too short) segments."""
        dropped = (self.seg_stop - self.seg_start)[~self.kept].sum()
        return float(dropped) / self.n_bins

    def state_durations(self, state: int) -> np.ndarray:
        """Durations (ms) of the kept segments of one state, in time order."""
        return self.durations_ms[self.sequence == state]

    def occupancy(self) -> np.ndarray:
        """float64 (n_states,): total duration of each state / analysed time."""
        total = np.bincount(self.sequence, weights=self.durations_ms, minlength=self.n_states)
        return total / self.analysed_ms

    def dwell_times_ms(self) -> np.ndarray:
        """float64 (n_states,): mean duration of each state's segments (ms)."""
        counts = np.bincount(self.sequence, minlength=self.n_states)
        total = np.bincount(self.sequence, weights=self.durations_ms, minlength=self.n_states)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / counts

    def table(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """One row per state (keys :data:`STATE_COLUMNS` plus ``populations``, ``starts_ms``,
        ``ends_ms``, ``durations_ms`` and ``mean_rates_hz``), in state order."""
        rows = []
        occupancy = self.occupancy()
        sequence = self.sequence
        starts, ends, all_durations = self.starts_ms, self.ends_ms, self.durations_ms
        by_state = np.argsort(sequence, kind="stable")  # each state's segments, in time order
        bounds = np.searchsorted(sequence[by_state], np.arange(self.n_states + 1))
        for index, identity in enumerate(self.identities):
            mine = by_state[bounds[index] : bounds[index + 1]]
            durations = all_durations[mine]
            rates = None if self.mean_rates_hz is None else self.mean_rates_hz[index]
            mask = np.zeros(0 if rates is None else rates.size, dtype=bool)
            if rates is not None:
                mask[list(identity)] = True
            rows.append(
                {
                    "state": index,
                    "label": _label(identity, names),
                    "populations": [names[i] if names is not None else i for i in identity],
                    "indices": list(identity),
                    "n_active": len(identity),
                    "count": int(durations.size),
                    "total_ms": float(durations.sum()),
                    "occupancy": float(occupancy[index]),
                    "mean_dwell_ms": float(durations.mean()),
                    "sd_dwell_ms": _sd(durations),
                    "median_dwell_ms": float(np.median(durations)),
                    "max_dwell_ms": float(durations.max()),
                    "mean_rate_active_hz": _mean(rates[mask]) if rates is not None else None,
                    "mean_rate_inactive_hz": _mean(rates[~mask]) if rates is not None else None,
                    "starts_ms": starts[mine].tolist(),
                    "ends_ms": ends[mine].tolist(),
                    "durations_ms": durations.tolist(),
                    "mean_rates_hz": None if rates is None else rates.tolist(),
                }
            )
        return rows


def _bin_width(times: np.ndarray, bin_ms: float | None) -> float:
    if bin_ms is not None:
        return _positive("bin_ms", bin_ms)
    if times.size < 2:
        raise ValueError("give bin_ms when there are fewer than two bins")
    steps = np.diff(times)
    width = float(steps[0])
    if not width > 0 or not np.allclose(steps, width, rtol=1e-9, atol=1e-9 * abs(width)):
        raise ValueError("times must be equally spaced bin starts (ms)")
    return width


def _state_mean_rates(
    rates: np.ndarray, starts: np.ndarray, stops: np.ndarray, state: np.ndarray, n_states: int
) -> np.ndarray:
    """Mean rate of every population over the bins of each state's segments.

    Each segment's sum is numpy's ``np.add.reduceat`` over its own bins (a sum of the
    segment alone, so its rounding is that of its own length, not of the run's: a
    difference of a running sum over the whole run, as before, lost up to about 1e-11 of a
    short segment's mean); the segments' sums are added per state in time order. One
    population at a time, without a second (n_pop, n_bins) matrix.

    Args:
        rates: float64 (n_pop, n_bins), Hz.
        starts: int64 (n_kept,), first bin of every kept segment, in time order.
        stops: int64 (n_kept,), bin after its last bin.
        state: int64 (n_kept,), its state index.
        n_states: number of states.

    Returns:
        float64 (n_states, n_pop), Hz.
    """
    n_pop, nb = rates.shape
    if not n_states:
        return np.zeros((0, n_pop))
    # reduceat sums rates[edges[i]:edges[i + 1]]: the even pieces are the segments (the odd
    # ones, the gaps between them, are dropped); a last segment that ends with the run needs
    # no end index (the last piece reaches the end)
    edges = np.empty(2 * starts.size, dtype=np.int64)
    edges[0::2], edges[1::2] = starts, stops
    if edges.size and edges[-1] >= nb:
        edges = edges[:-1]
    diffs = np.empty((starts.size, n_pop))
    for row in range(n_pop):
        diffs[:, row] = np.add.reduceat(rates[row], edges)[0::2] if edges.size else 0.0
    sums = np.zeros((n_states, n_pop))
    np.add.at(sums, state, diffs)  # in time order, as segment by segment
    n = np.zeros(n_states)
    np.add.at(n, state, stops - starts)
    return sums / n[:, None]


def states(
    active: np.ndarray,
    times: np.ndarray,
    min_state_ms: float = 20.0,
    rates: np.ndarray | None = None,
    bin_ms: float | None = None,
) -> StateSequence:
    """Cut the activity into segments of constant activity and keep the long ones as states.

    Args:
        active: boolean activity, shape (n_pop, n_bins).
        times: bin start times in ms, shape (n_bins,), equally spaced.
        min_state_ms: segments with ``n_bins * bin_ms < min_state_ms`` are dropped (ms, >= 0).
        rates: optional rates in Hz, shape (n_pop, n_bins), for the states' mean rates.
        bin_ms: bin width in ms (default: the spacing of ``times``).

    Returns:
        The :class:`StateSequence`.
    """
    active = np.asarray(active, dtype=bool)
    times = np.asarray(times, dtype=np.float64)
    if active.ndim != 2 or active.shape[1] < 1 or times.shape != (active.shape[1],):
        raise ValueError(f"active {active.shape} must be (n_pop, n_bins) and times {times.shape} (n_bins,)")
    min_state_ms = _positive("min_state_ms", min_state_ms, allow_zero=True)
    width = _bin_width(times, bin_ms)
    nb = active.shape[1]
    changed = np.zeros(max(nb - 1, 0), dtype=bool)
    for row in active:  # row by row: no (n_pop, n_bins) temporary
        changed |= row[1:] != row[:-1]
    change = np.flatnonzero(changed) + 1
    bounds = np.concatenate(([0], change, [nb])).astype(np.int64)
    seg_start, seg_stop = bounds[:-1], bounds[1:]
    min_bins = math.ceil(min_state_ms / width - 1e-9)
    keep = (seg_stop - seg_start) >= min_bins
    kept = np.flatnonzero(keep)
    seg_state = np.full(seg_start.size, -1, dtype=np.int64)
    index: dict[tuple[int, ...], int] = {}
    for k, column in zip(kept, active[:, seg_start[kept]].T):
        seg_state[k] = index.setdefault(tuple(int(i) for i in np.flatnonzero(column)), len(index))
    identities = tuple(index)
    mean_rates = None
    if rates is not None:
        rates = np.asarray(rates, dtype=np.float64)
        if rates.shape != active.shape:
            raise ValueError(f"rates {rates.shape} and active {active.shape} differ in shape")
        mean_rates = _state_mean_rates(rates, seg_start[kept], seg_stop[kept], seg_state[kept], len(identities))
    return StateSequence(
        t_start_ms=float(times[0]),
        bin_ms=width,
        n_bins=nb,
        min_state_ms=min_state_ms,
        seg_start=seg_start,
        seg_stop=seg_stop,
        seg_state=seg_state,
        identities=identities,
        mean_rates_hz=mean_rates,
    )


def transition_matrix(
    sequence: StateSequence, among: Sequence[int] | np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transitions between consecutive kept segments (dropped segments skipped).

    Args:
        sequence: the states of :func:`states`.
        among: only these states' rows and columns, in this order (state indices, each
            once; default all states in state order): the submatrix of the full matrices,
            without computing them (a long run has thousands of states).

    Returns:
        ``(counts, occurrences, probability)``: int64 (n, n) with ``counts[a, b]`` the
        number of kept segments of state ``a`` followed by one of ``b`` (``a == b``
        possible, see the module docstring); int64 (n,) kept segments per state; float64
        (n, n) ``counts / occurrences[:, None]`` (``n`` = n_states or ``len(among)``).
    """
    n_states = sequence.n_states
    order = sequence.sequence
    occurrences = np.bincount(order, minlength=n_states).astype(np.int64)
    if among is None:
        position, n = order, n_states
    else:
        among = np.asarray(among, dtype=np.int64).reshape(-1)
        n = among.size
        where = np.full(n_states, -1, dtype=np.int64)
        where[among] = np.arange(n)
        position, occurrences = where[order], occurrences[among]
    counts = np.zeros((n, n), dtype=np.int64)
    if order.size > 1:
        a, b = position[:-1], position[1:]
        pick = (a >= 0) & (b >= 0)
        np.add.at(counts, (a[pick], b[pick]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        probability = counts / np.maximum(occurrences, 1)[:, None]
    return counts, occurrences, probability


def transition_table(sequence: StateSequence) -> list[list[int]]:
    """The nonzero entries of :func:`transition_matrix`'s counts, as attractors.json lists them.

    Args:
        sequence: the states of :func:`states`.

    Returns:
        ``[[from, to, count], ...]`` for every pair of states with ``count(from -> to) > 0``
        (``from == to`` possible), sorted by ``from``, then ``to``.
    """
    order = sequence.sequence
    if order.size < 2:
        return []
    n = max(sequence.n_states, 1)
    pairs, counts = np.unique(order[:-1] * n + order[1:], return_counts=True)
    return np.column_stack((pairs // n, pairs % n, counts)).tolist()


def transitions_from_summary(summary: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`transition_matrix`'s ``(counts, occurrences, probability)`` from an attractors.json document.

    Args:
        summary: an attractors.json document (:meth:`AttractorAnalysis.summary`): its
            ``transition_table`` and the ``count`` (occurrences) of its ``states``.

    Returns:
        int64 (n_states, n_states) counts, int64 (n_states,) occurrences and float64
        (n_states, n_states) probabilities ``counts / occurrences[:, None]``.
    """
    n = int(summary["n_states"])
    occurrences = np.array([row["count"] for row in summary["states"]], dtype=np.int64).reshape(n)
    counts = np.zeros((n, n), dtype=np.int64)
    table = np.asarray(summary["transition_table"], dtype=np.int64).reshape(-1, 3)
    counts[table[:, 0], table[:, 1]] = table[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        probability = counts / np.maximum(occurrences, 1)[:, None]
    return counts, occurrences, probability


# --------------------------------------------------------------------------------------
# result


@dataclass
class AttractorAnalysis:
    """Everything the attractor analysis of one run computed; saved to and loaded from HDF5.

    Attributes:
        populations: analysed population names (rows of ``rates_hz``).
        population_sizes: int64 (n_pop,), neurons per population.
        times_ms: float64 (n_bins,), bin starts in ms.
        window_ms: (t_start, t_stop) of the analysis window in ms (the bins cover
            ``(t_start, t_start + n_bins * bin_ms]``, NEST's window convention).
        rates_hz: float64 (n_pop, n_bins), smoothed population rates.
        thresholds_hz: float64 (n_pop,), the thresholds of ``active``.
        active: bool (n_pop, n_bins), ``rates_hz > thresholds_hz[:, None]``.
        sequence: segments and states.
        options: the analysis options in effect.
        config: the run's resolved config (from the spikes file metadata "config").
        metadata: the spikes file's metadata.
        spikes_file: path of the analysed spikes file.
    """

    populations: list[str]
    population_sizes: np.ndarray
    times_ms: np.ndarray
    window_ms: tuple[float, float]
    rates_hz: np.ndarray
    thresholds_hz: np.ndarray
    active: np.ndarray
    sequence: StateSequence
    options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    spikes_file: str = ""

    @property
    def bin_ms(self) -> float:
        return self.sequence.bin_ms

    def transitions(self, among: Sequence[int] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`transition_matrix` of the run (of the states ``among``, default all)."""
        return transition_matrix(self.sequence, among)

    def state_labels(self) -> list[str]:
        """Label of every state, e.g. ``"E0+E3"`` (``"none"``: no active population)."""
        return [_label(identity, self.populations) for identity in self.sequence.identities]

    def state_table(self) -> list[dict[str, Any]]:
        """Per-state rows (see :meth:`StateSequence.table`)."""
        return self.sequence.table(self.populations)

    def summary(self) -> dict[str, Any]:
        """The attractors.json document.

        Returns:
            ``run_id``, ``model``, ``study``, ``seed``, ``spikes_file``, ``window_ms``,
            ``analysed_ms``, ``n_bins``, ``options``, ``populations``, ``population_sizes``,
            ``thresholds_hz``, ``n_states``, ``n_segments``, ``n_kept_segments``,
            ``dropped_fraction``, ``n_transitions`` (state changes), ``n_self_transitions``,
            ``transitions_per_s``, ``mean_dwell_ms`` / ``median_dwell_ms`` /
            ``max_dwell_ms`` (over kept segments), ``dwell_times_ms`` and ``occupancy`` (per
            state), ``k_active_fraction``, ``mean_active_count``, ``fraction_no_active``,
            ``state_labels``, ``transition_table`` (the nonzero transition counts as
            ``[from, to, count]`` lists, :func:`transition_table`; the matrices of
            :func:`transition_matrix` from it: :func:`transitions_from_summary`), ``states``
            (per-state rows) and ``config`` (the run's resolved config).
        """
        seq = self.sequence
        order = seq.sequence
        n_pairs = max(order.size - 1, 0)
        n_self = int(np.count_nonzero(order[1:] == order[:-1]))
        n_transitions = n_pairs - n_self
        k_fraction = k_active_distribution(self.active)
        analysed_s = seq.analysed_ms / 1000.0
        durations = seq.durations_ms
        meta = self.metadata
        return {
            "run_id": meta.get("run_id"),
            "model": meta.get("model"),
            "study": meta.get("study"),
            "seed": meta.get("seed"),
            "spikes_file": self.spikes_file,
            "window_ms": [float(self.window_ms[0]), float(self.window_ms[1])],
            "analysed_ms": seq.analysed_ms,
            "n_bins": seq.n_bins,
            "options": self.options,
            "populations": list(self.populations),
            "population_sizes": self.population_sizes.tolist(),
            "thresholds_hz": self.thresholds_hz.tolist(),
            "n_states": seq.n_states,
            "n_segments": int(seq.seg_start.size),
            "n_kept_segments": int(seq.kept.sum()),
            "dropped_fraction": seq.dropped_fraction,
            "n_transitions": n_transitions,
            "n_self_transitions": n_self,
            "transitions_per_s": n_transitions / analysed_s,
            "mean_dwell_ms": float(durations.mean()) if durations.size else None,
            "median_dwell_ms": float(np.median(durations)) if durations.size else None,
            "max_dwell_ms": float(durations.max()) if durations.size else None,
            "dwell_times_ms": seq.dwell_times_ms().tolist(),
            "occupancy": seq.occupancy().tolist(),
            "k_active_fraction": k_fraction.tolist(),
            "mean_active_count": float(np.dot(np.arange(k_fraction.size), k_fraction)),
            "fraction_no_active": float(k_fraction[0]),
            "state_labels": self.state_labels(),
            "transition_table": transition_table(seq),
            "states": self.state_table(),
            "config": self.config,
        }


# --------------------------------------------------------------------------------------
# one run


@dataclass(frozen=True)
class ClusterRates:
    """Step 1 of one run's analysis: the smoothed rates of the analysed populations.

    What :func:`attractors_from_rates` needs of the run, without its spikes: a caller that
    holds the spikes only for :func:`cluster_rates` can let them go before the rest.

    Attributes:
        populations: analysed population names (rows of ``rates_hz``).
        population_sizes: int64 (n_pop,), neurons per population.
        times_ms: float64 (n_bins,), bin starts in ms.
        window_ms: (t_start, t_stop) of the analysis window in ms.
        rates_hz: float64 (n_pop, n_bins), smoothed rates in Hz (:func:`population_rates`).
        options: the rate options in effect (``populations``, ``bin_ms``, ``smoothing_ms``).
        metadata: the spikes file's metadata.
    """

    populations: list[str]
    population_sizes: np.ndarray
    times_ms: np.ndarray
    window_ms: tuple[float, float]
    rates_hz: np.ndarray
    options: dict[str, Any]
    metadata: dict[str, Any]


#: The options of :func:`compute_attractors` that :func:`cluster_rates` takes (the others
#: go to :func:`attractors_from_rates`).
RATE_OPTIONS = ("populations", "bin_ms", "smoothing_ms", "t_start", "t_stop")


def _check_state_options(min_state_ms: Any, threshold_method: Any) -> float:
    min_state_ms = _positive("min_state_ms", min_state_ms, allow_zero=True)
    if threshold_method not in THRESHOLD_METHODS:
        raise ValueError(f"threshold_method must be one of {', '.join(THRESHOLD_METHODS)}, got {threshold_method!r}")
    return min_state_ms


def check_options(**options: Any) -> None:
    """Refuse, before any work, the options :func:`compute_attractors` would refuse up front.

    Args:
        **options: keyword options of :func:`compute_attractors` (its defaults for the others).

    Raises:
        ValueError: a bad ``bin_ms``, ``smoothing_ms``, ``min_state_ms`` or
            ``threshold_method``, in one sentence.
        TypeError: an unknown option.
    """
    given = inspect.signature(compute_attractors).bind_partial(**options)
    given.apply_defaults()
    every = given.arguments
    _positive("bin_ms", every["bin_ms"])
    _positive("smoothing_ms", every["smoothing_ms"], allow_zero=True)
    _check_state_options(every["min_state_ms"], every["threshold_method"])


def cluster_rates(
    data: SpikeData,
    populations: str | Sequence[str] = "e_clusters",
    bin_ms: float = 0.5,
    smoothing_ms: float = 10.0,
    t_start: float | None = None,
    t_stop: float | None = None,
) -> ClusterRates:
    """Step 1 of :func:`compute_attractors`: the smoothed rates of the selected populations.

    Args:
        data: the run's spikes and metadata.
        populations: see :func:`select_populations` (default the E clusters).
        bin_ms: rate bin in ms (> 0).
        smoothing_ms: SD of the Gaussian smoothing in ms (>= 0).
        t_start: window start in ms (default the end of the presimulation).
        t_stop: window end in ms (default the end of the run).

    Returns:
        The :class:`ClusterRates` (no reference to the spikes).
    """
    bin_ms = _positive("bin_ms", bin_ms)
    smoothing_ms = _positive("smoothing_ms", smoothing_ms, allow_zero=True)
    names = select_populations(data, populations)
    t0, t1 = analysis_window(data, t_start, t_stop)
    times, rates, sizes = _binned_rates(data, names, t0, t1, bin_ms, smoothing_ms)
    return ClusterRates(
        populations=names,
        population_sizes=sizes,
        times_ms=times,
        window_ms=(t0, t1),
        rates_hz=rates,
        options={
            "populations": populations if isinstance(populations, str) else list(populations),
            "bin_ms": bin_ms,
            "smoothing_ms": smoothing_ms,
        },
        metadata=dict(data.metadata),
    )


def attractors_from_rates(
    rates: ClusterRates,
    min_state_ms: float = 20.0,
    threshold_method: str = "reference",
    tol_hz: float | None = None,
    max_iter: int = 50,
    min_contrast_hz: float = 0.0,
    spikes_file: str = "",
) -> AttractorAnalysis:
    """Steps 2-4 of :func:`compute_attractors`: activity, states and transitions from the rates.

    Args:
        rates: step 1's :class:`ClusterRates`.
        min_state_ms: shortest kept segment in ms (>= 0).
        threshold_method: ``"reference"`` or ``"midpoint"`` (:func:`active_clusters`).
        tol_hz: threshold convergence tolerance in Hz (default per method).
        max_iter: maximum threshold updates.
        min_contrast_hz: "midpoint": least difference between mean active and inactive rates
            for anything to count as active (:func:`active_clusters`).
        spikes_file: recorded in the result.

    Returns:
        The :class:`AttractorAnalysis`.
    """
    min_state_ms = _check_state_options(min_state_ms, threshold_method)
    bin_ms = rates.options["bin_ms"]
    active, thresholds = active_clusters(
        rates.rates_hz, method=threshold_method, tol_hz=tol_hz, max_iter=max_iter, return_thresholds=True,
        min_contrast_hz=min_contrast_hz,
    )
    sequence = states(active, rates.times_ms, min_state_ms, rates=rates.rates_hz, bin_ms=bin_ms)
    t0, t1 = rates.window_ms
    options = {
        "populations": rates.options["populations"],
        "bin_ms": bin_ms,
        "smoothing_ms": rates.options["smoothing_ms"],
        "min_state_ms": min_state_ms,
        "t_start": t0,
        "t_stop": t1,
        "threshold_method": threshold_method,
        "tol_hz": DEFAULT_TOL_HZ[threshold_method] if tol_hz is None else float(tol_hz),
        "max_iter": int(max_iter),
        "min_contrast_hz": float(min_contrast_hz),
    }
    return AttractorAnalysis(
        populations=list(rates.populations),
        population_sizes=rates.population_sizes,
        times_ms=rates.times_ms,
        window_ms=(t0, t1),
        rates_hz=rates.rates_hz,
        thresholds_hz=thresholds,
        active=active,
        sequence=sequence,
        options=options,
        config=dict(rates.metadata.get("config") or {}),
        metadata=dict(rates.metadata),
        spikes_file=spikes_file,
    )


def compute_attractors(
    data: SpikeData,
    populations: str | Sequence[str] = "e_clusters",
    bin_ms: float = 0.5,
    smoothing_ms: float = 10.0,
    min_state_ms: float = 20.0,
    t_start: float | None = None,
    t_stop: float | None = None,
    threshold_method: str = "reference",
    tol_hz: float | None = None,
    max_iter: int = 50,
    min_contrast_hz: float = 0.0,
    spikes_file: str = "",
) -> AttractorAnalysis:
    """The attractor analysis of one run's spikes (no files written).

    :func:`cluster_rates`, then :func:`attractors_from_rates`; the options are checked
    before anything is computed.

    Args:
        data: the run's spikes and metadata.
        populations: see :func:`select_populations` (default the E clusters).
        bin_ms: rate bin in ms (> 0).
        smoothing_ms: SD of the Gaussian smoothing in ms (>= 0).
        min_state_ms: shortest kept segment in ms (>= 0).
        t_start: window start in ms (default the end of the presimulation).
        t_stop: window end in ms (default the end of the run).
        threshold_method: ``"reference"`` or ``"midpoint"`` (:func:`active_clusters`).
        tol_hz: threshold convergence tolerance in Hz (default per method).
        max_iter: maximum threshold updates.
        min_contrast_hz: "midpoint": least difference between mean active and inactive rates
            for anything to count as active (:func:`active_clusters`).
        spikes_file: recorded in the result.

    Returns:
        The :class:`AttractorAnalysis`.
    """
    check_options(bin_ms=bin_ms, smoothing_ms=smoothing_ms, min_state_ms=min_state_ms, threshold_method=threshold_method)
    rates = cluster_rates(data, populations, bin_ms, smoothing_ms, t_start, t_stop)
    return attractors_from_rates(
        rates, min_state_ms, threshold_method, tol_hz, max_iter, min_contrast_hz, spikes_file
    )


def state_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of states.csv: one per state of an attractors.json document, keys :data:`STATE_COLUMNS`."""
    return [{key: row.get(key) for key in STATE_COLUMNS} for row in summary["states"]]


def format_summary(summary: Mapping[str, Any], max_states: int = 10) -> str:
    """The attractors.json document as text for the terminal.

    Args:
        summary: an attractors.json document (:meth:`AttractorAnalysis.summary`).
        max_states: at most this many states are listed (by occupancy).

    Returns:
        The text, without a trailing newline.
    """
    opts = summary.get("options") or {}
    t0, t1 = summary.get("window_ms") or (math.nan, math.nan)
    pops = summary.get("populations") or []
    lines = [
        (
            f"{summary.get('model') or '?'} run {summary.get('run_id') or '?'}: attractors of {len(pops)} populations "
            f"over {format_cell(t0, 'g')}-{format_cell(t1, 'g')} ms (bin {format_cell(opts.get('bin_ms'), 'g')} ms, smoothing "
            f"{format_cell(opts.get('smoothing_ms'), 'g')} ms, states >= {format_cell(opts.get('min_state_ms'), 'g')} ms, "
            f"threshold {opts.get('threshold_method', 'reference')})"
        ),
        (
            f"  states {summary.get('n_states')}, kept segments {summary.get('n_kept_segments')} of "
            f"{summary.get('n_segments')} ({format_cell(summary.get('dropped_fraction'), '.1%')} of the time dropped)"
        ),
        (
            f"  transitions {summary.get('n_transitions')} ({format_cell(summary.get('transitions_per_s'), '.2f')}/s; "
            f"{summary.get('n_self_transitions')} returns to the same state), mean dwell "
            f"{format_cell(summary.get('mean_dwell_ms'), '.1f')} ms, longest {format_cell(summary.get('max_dwell_ms'), '.1f')} ms"
        ),
        (
            f"  active populations: mean {format_cell(summary.get('mean_active_count'), '.2f')}, none active "
            f"{format_cell(summary.get('fraction_no_active'), '.1%')} of the time"
        ),
    ]
    k_fraction = summary.get("k_active_fraction") or []
    shown = [f"{k}: {f:.1%}" for k, f in enumerate(k_fraction) if f and f >= 0.0005]
    if shown:
        lines.append("  time with k active: " + ", ".join(shown))
    rows = sorted(summary.get("states") or [], key=lambda r: -(r.get("occupancy") or 0.0))
    if rows:
        lines.append(f"  {'state':<40} {'count':>6} {'dwell/ms':>9} {'occupancy':>9}")
        for row in rows[:max_states]:
            label = str(row.get("label"))
            label = label if len(label) <= 40 else label[:37] + "..."
            lines.append(
                f"  {label:<40} {row.get('count'):>6} {format_cell(row.get('mean_dwell_ms'), '9.1f')} "
                f"{format_cell(row.get('occupancy'), '9.1%')}"
            )
        if len(rows) > max_states:
            lines.append(f"  ... {len(rows) - max_states} more states in states.csv")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# study summary


#: Per-run numbers averaged over repeats in the summary (name in attractors.json).
SUMMARY_METRICS = (
    "n_states",
    "mean_dwell_ms",
    "transitions_per_s",
    "mean_active_count",
    "fraction_no_active",
    "dropped_fraction",
)

#: Config paths that never group runs when the grouping key is inferred.
_NOT_GROUPING = ("simulation.seed",)


def _get_path(config: Mapping[str, Any], dotted: str, source: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]  # an element of a list, e.g. params.j_potentiated.0
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise ValueError(f"{source}: the run config has no {dotted!r} (no {part!r}) to group by")
    return node


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _infer_group_by(configs: Sequence[Mapping[str, Any]]) -> str:
    flat = [_flatten(c) for c in configs]
    keys = dict.fromkeys(k for f in flat for k in f)
    varying = [
        k
        for k in keys
        if k not in _NOT_GROUPING
        and len({json.dumps(to_json_value(f.get(k)), sort_keys=True) for f in flat}) > 1
    ]
    if len(varying) > 1:
        raise ValueError(f"the runs differ in several config keys ({', '.join(varying)}); choose one with group_by")
    return varying[0] if varying else ""


def _group_label(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(to_json_value(value), sort_keys=True, separators=(",", ":"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _group_x(values: Sequence[Any]) -> tuple[list[float | None], int | None]:
    """Numeric x of every group value: the number itself, or for equal-length lists of
    numbers the first element that differs between groups (the first one if none does).

    Returns:
        (x per value, the list index used or None).
    """
    if all(_is_number(v) for v in values):
        return [float(v) for v in values], None
    if values and all(isinstance(v, (list, tuple)) and v and all(_is_number(e) for e in v) for v in values):
        lengths = {len(v) for v in values}
        if len(lengths) == 1:
            n = lengths.pop()
            differing = [i for i in range(n) if len({float(v[i]) for v in values}) > 1]
            index = differing[0] if differing else 0
            return [float(v[index]) for v in values], index
    return [None] * len(values), None


def summarize_attractors(
    documents: Sequence[Mapping[str, Any]],
    group_by: str | None = "",
    sources: Sequence[str | os.PathLike] | None = None,
) -> dict[str, Any]:
    """Summary over runs (repeats and sweep values) of their attractors.json documents.

    Runs are grouped by the value at the dotted path ``group_by`` in their config (e.g.
    ``"params.j_potentiated"``, or ``"params.j_potentiated.0"`` for one list element); with ``group_by`` empty, the one config key that differs
    between the runs apart from ``simulation.seed`` (all runs one group if there is none;
    an error if there are several). A group's ``label`` is the value as text (lists as
    compact JSON, e.g. ``"[15.75,5.45,6.25,5.0]"``); its ``x`` is the value if it is a
    number, for lists of numbers the first element that differs between the groups, and
    None otherwise. Groups are sorted by ``x`` when every group has one, else kept in the
    order of first appearance.

    Per group: ``n_runs``, ``run_ids``, ``value``, and for every metric of
    :data:`SUMMARY_METRICS` the mean over its runs under the metric's name and the sample
    SD (ddof=1; NaN for one run) as ``<name>_sd`` (runs where a metric is undefined, e.g.
    no state at all for the dwell time, are left out of it); ``k_active_fraction`` and
    ``k_active_fraction_sd`` likewise element-wise (lists padded with zeros to the
    longest).

    Args:
        documents: the runs' attractors.json documents (:meth:`AttractorAnalysis.summary`).
        group_by: dotted config path ("" or None: inferred).
        sources: where each document came from (its file), for the runs' ``file`` and for
            error messages (default: the run ids).

    Returns:
        ``{"group_by", "x_element", "n_runs", "groups": [...], "runs": [per-run rows]}``.
    """
    if not documents:
        raise ValueError("summarize_attractors needs at least one attractors.json")
    if sources is None:
        sources = [str(doc.get("run_id") or f"run {i}") for i, doc in enumerate(documents)]
    if len(sources) != len(documents):
        raise ValueError(f"{len(documents)} attractors documents but {len(sources)} sources")
    docs = list(zip(sources, documents))
    key = (group_by or "").strip()
    key = key.removeprefix("config.")
    if not key:
        key = _infer_group_by([d.get("config") or {} for _, d in docs])
    runs = []
    for path, doc in docs:
        value = _get_path(doc.get("config") or {}, key, str(path)) if key else "all"
        row = {"file": str(path), "run_id": doc.get("run_id"), "seed": doc.get("seed"), "value": value,
               "label": _group_label(value)}
        for metric in SUMMARY_METRICS:
            row[metric] = doc.get(metric)
        row["k_active_fraction"] = list(doc.get("k_active_fraction") or [])
        runs.append(row)
    labels = list(dict.fromkeys(r["label"] for r in runs))
    values = [next(r["value"] for r in runs if r["label"] == label) for label in labels]
    xs, x_element = _group_x(values)
    groups = []
    for label, value, x in zip(labels, values, xs):
        members = [r for r in runs if r["label"] == label]
        group: dict[str, Any] = {"label": label, "value": value, "x": x, "n_runs": len(members),
                                 "run_ids": [m["run_id"] for m in members]}
        for metric in SUMMARY_METRICS:
            numbers = np.array([m[metric] if _is_number(m[metric]) else np.nan for m in members], dtype=float)
            group[metric] = _mean(numbers)
            group[f"{metric}_sd"] = _sd(numbers)
        width = max(len(m["k_active_fraction"]) for m in members)
        k = np.zeros((len(members), width))
        for i, m in enumerate(members):
            k[i, : len(m["k_active_fraction"])] = m["k_active_fraction"]
        group["k_active_fraction"] = k.mean(axis=0).tolist()
        group["k_active_fraction_sd"] = (
            k.std(axis=0, ddof=1) if len(members) > 1 else np.full(width, np.nan)
        ).tolist()
        groups.append(group)
    if all(g["x"] is not None for g in groups):
        groups.sort(key=lambda g: g["x"])
    return {"group_by": key, "x_element": x_element, "n_runs": len(runs), "groups": groups, "runs": runs}


def summary_table(summary: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of summary.csv: one line per group of :func:`summarize_attractors`.

    Returns:
        ``(columns, rows)``: ``group``, ``x``, ``n_runs``, each metric of
        :data:`SUMMARY_METRICS` and its ``_sd``, ``k<k>_fraction`` and ``k<k>_fraction_sd``
        (lists padded with zeros to the longest; a missing SD None).
    """
    width = max((len(g["k_active_fraction"]) for g in summary["groups"]), default=0)
    columns = ["group", "x", "n_runs"]
    for metric in SUMMARY_METRICS:
        columns += [metric, f"{metric}_sd"]
    for k in range(width):
        columns += [f"k{k}_fraction", f"k{k}_fraction_sd"]
    rows = []
    for g in summary["groups"]:
        row = {"group": g["label"], "x": g["x"], "n_runs": g["n_runs"]}
        for metric in SUMMARY_METRICS:
            row[metric] = g[metric]
            row[f"{metric}_sd"] = g[f"{metric}_sd"]
        for k in range(width):
            fractions, sds = g["k_active_fraction"], g["k_active_fraction_sd"]
            row[f"k{k}_fraction"] = fractions[k] if k < len(fractions) else 0.0
            row[f"k{k}_fraction_sd"] = sds[k] if k < len(sds) else None
        rows.append(row)
    return columns, rows


def format_group_summary(summary: Mapping[str, Any]) -> str:
    """The study summary as text: one line per group, mean ± SD over its runs.

    Returns:
        The text, without a trailing newline.
    """

    def cell(group: Mapping[str, Any], metric: str, spec: str) -> str:
        mean, sd = group.get(metric), group.get(f"{metric}_sd")
        text = format_cell(mean, spec)
        return text if sd is None or not math.isfinite(sd) else f"{text}±{format_cell(sd, spec)}"

    key = summary.get("group_by") or "(all runs)"
    lines = [
        f"{summary.get('n_runs')} run(s) grouped by {key}",
        f"  {'value':<28} {'runs':>4} {'states':>11} {'dwell/ms':>15} {'switches/s':>11} {'active':>11} {'none':>11}",
    ]
    for g in summary.get("groups") or []:
        label = str(g.get("label"))
        label = label if len(label) <= 28 else label[:25] + "..."
        lines.append(
            f"  {label:<28} {g.get('n_runs'):>4} {cell(g, 'n_states', '.1f'):>11} "
            f"{cell(g, 'mean_dwell_ms', '.1f'):>15} {cell(g, 'transitions_per_s', '.2f'):>11} "
            f"{cell(g, 'mean_active_count', '.2f'):>11} {cell(g, 'fraction_no_active', '.2f'):>11}"
        )
    return "\n".join(lines)
