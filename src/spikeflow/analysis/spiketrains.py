"""Vectorised spike-train statistics over the spikes of one population.

Every function takes the spikes of ONE population as two flat arrays, the way a spikes
file stores them (see :mod:`spikeflow.io.spikes`):

* ``node_ids``: integer array (n_spikes,), 0-based index of the sender in the population;
* ``times``: float array (n_spikes,), spike times in ms, in any order;

plus the analysis window ``[t_start, t_stop)`` in ms. The window is half-open, like
:meth:`spikeflow.io.spikes.PopulationSpikes.window`: a spike at exactly ``t_stop`` is not
counted. The functions never loop over neurons in Python; they are built from sorting,
``np.diff`` with masks and ``np.bincount``, so a population of 80,000 neurons with 10^6
spikes takes well under a second.

The statistics are the ones of Elephant (``elephant.statistics.mean_firing_rate``,
``cv``, ``lv``, ``time_histogram``, ``elephant.spike_train_correlation.
correlation_coefficient`` over an ``elephant.conversion.BinnedSpikeTrain``), written for
many neurons at once; the unit tests check them against Elephant.

Binning convention (:func:`spike_count_histogram`, :func:`synchrony`,
:func:`spike_count_correlations`): bins of width ``bin_ms`` start at ``t_start``; there are
``floor((t_stop - t_start) / bin_ms)`` of them, so an incomplete last bin is dropped and
spikes in it are not counted; bin ``k`` is ``[t_start + k*bin_ms, t_start + (k+1)*bin_ms)``.
As in Elephant, a spike that lies within 1e-8 bin widths below a bin edge (a floating-point
rounding error) is put into the bin that starts at that edge.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sps

__all__ = [
    "per_neuron_rates",
    "isi_cv",
    "local_variation",
    "spike_count_histogram",
    "synchrony",
    "spike_count_correlations",
    "n_bins",
]

_BIN_TOLERANCE = 1e-8  # in units of the bin width, as elephant's BinnedSpikeTrain


def _check_window(t_start: float, t_stop: float) -> tuple[float, float]:
    t_start, t_stop = float(t_start), float(t_stop)
    if not np.isfinite(t_start) or not np.isfinite(t_stop) or t_stop <= t_start:
        raise ValueError(f"need t_start < t_stop (ms), got [{t_start}, {t_stop})")
    return t_start, t_stop


def _as_arrays(node_ids, times) -> tuple[np.ndarray, np.ndarray]:
    node_ids = np.asarray(node_ids)
    times = np.asarray(times, dtype=np.float64)
    if node_ids.shape != times.shape or node_ids.ndim != 1:
        raise ValueError(
            f"node_ids {node_ids.shape} and times {times.shape} must be 1-d of equal length"
        )
    if node_ids.size and not np.issubdtype(node_ids.dtype, np.integer):
        raise TypeError(f"node_ids must be integers, got {node_ids.dtype}")
    # uint64 (the file's type) cannot be cast "safely" to intp for bincount.
    return node_ids.astype(np.int64, copy=False), times


def _in_window(
    node_ids, times, t_start: float, t_stop: float
) -> tuple[np.ndarray, np.ndarray]:
    node_ids, times = _as_arrays(node_ids, times)
    keep = (times >= t_start) & (times < t_stop)
    return node_ids[keep], times[keep]


def _check_ids(node_ids: np.ndarray, n_nodes: int) -> None:
    if node_ids.size and (node_ids.min() < 0 or node_ids.max() >= n_nodes):
        raise ValueError(
            f"node ids must lie in [0, {n_nodes}), got [{node_ids.min()}, {node_ids.max()}]"
        )


def n_bins(t_start: float, t_stop: float, bin_ms: float) -> int:
    """Number of complete bins of width ``bin_ms`` in ``[t_start, t_stop)``.

    Args:
        t_start: window start in ms.
        t_stop: window end in ms.
        bin_ms: bin width in ms (> 0).

    Returns:
        ``floor((t_stop - t_start) / bin_ms)``, rounding values within 1e-8 below an
        integer up to it (so 1000 ms / 0.1 ms gives 10000 bins).
    """
    t_start, t_stop = _check_window(t_start, t_stop)
    if not bin_ms > 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    return int(np.floor((t_stop - t_start) / bin_ms + _BIN_TOLERANCE))


def _bin_index(
    times: np.ndarray, t_start: float, t_stop: float, bin_ms: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin index of each spike; returns (index, mask of binned spikes, number of bins)."""
    nb = n_bins(t_start, t_stop, bin_ms)
    index = np.floor((times - t_start) / bin_ms + _BIN_TOLERANCE)
    keep = (times >= t_start) & (index >= 0) & (index < nb)
    return index[keep].astype(np.int64), keep, nb


def per_neuron_rates(
    node_ids, times, n_nodes: int, t_start: float, t_stop: float
) -> np.ndarray:
    """Firing rate of every neuron of the population in ``[t_start, t_stop)``.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        n_nodes: population size; neurons that never spike get rate 0.
        t_start: window start in ms (inclusive).
        t_stop: window end in ms (exclusive).

    Returns:
        float64 array (n_nodes,): spike count in the window divided by the window
        length, in spikes/s.
    """
    t_start, t_stop = _check_window(t_start, t_stop)
    ids, _ = _in_window(node_ids, times, t_start, t_stop)
    _check_ids(ids, n_nodes)
    counts = np.bincount(ids, minlength=int(n_nodes))
    return counts / ((t_stop - t_start) / 1000.0)


def _grouped_isis(node_ids, times, t_start: float, t_stop: float):
    """Sort the window's spikes by (neuron, time) and cut them into per-neuron ISIs.

    Returns:
        (neuron ids (G,) sorted, spike count per neuron (G,), ISIs (m,) in ms ordered by
        neuron then time, group index (m,) of each ISI into the first two arrays).
    """
    t_start, t_stop = _check_window(t_start, t_stop)
    ids, t = _in_window(node_ids, times, t_start, t_stop)
    # Sort by (neuron, time): a stable integer sort by neuron of the time-sorted spikes.
    # Spikes files are sorted by time already, which makes this a single radix sort.
    if t.size > 1 and not np.all(t[1:] >= t[:-1]):
        by_time = np.argsort(t, kind="stable")
        ids, t = ids[by_time], t[by_time]
    order = np.argsort(ids, kind="stable")
    ids, t = ids[order], t[order]
    same = ids[1:] == ids[:-1]  # consecutive spikes of the same neuron
    starts = np.concatenate(([0], np.flatnonzero(~same) + 1)) if ids.size else np.zeros(0, int)
    neurons = ids[starts]
    n_spikes = np.diff(np.append(starts, ids.size))
    group = np.cumsum(np.concatenate(([0], ~same))) if ids.size else np.zeros(0, int)
    isis = np.diff(t)[same]
    isi_group = group[1:][same]
    return neurons, n_spikes, isis, isi_group


def isi_cv(
    node_ids,
    times,
    t_start: float,
    t_stop: float,
    min_spikes: int = 3,
    return_ids: bool = False,
):
    """Coefficient of variation of the inter-spike intervals (ISIs) of each neuron.

    Only spikes in ``[t_start, t_stop)`` are used, and only neurons with at least
    ``min_spikes`` spikes there get a value. CV = std(ISI) / mean(ISI), with the
    population standard deviation (ddof=0) as ``elephant.statistics.cv`` (which is
    ``scipy.stats.variation``). It is 1 for a Poisson process and 0 for a regular train.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        t_start: window start in ms (inclusive).
        t_stop: window end in ms (exclusive).
        min_spikes: minimum number of spikes in the window (>= 2).
        return_ids: also return the neuron ids the values belong to.

    Returns:
        float64 array (n_selected,) of CVs (dimensionless) in ascending neuron-id order;
        with ``return_ids`` the tuple (cvs, neuron ids). A neuron whose spikes all fall
        at the same time has CV NaN.
    """
    if min_spikes < 2:
        raise ValueError(f"min_spikes must be >= 2 for an ISI CV, got {min_spikes}")
    neurons, n_spikes, isis, isi_group = _grouped_isis(node_ids, times, t_start, t_stop)
    n_isi = n_spikes - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(isi_group, isis, minlength=neurons.size) / n_isi
        deviation = isis - mean[isi_group]  # two-pass variance: no cancellation error
        var = np.bincount(isi_group, deviation * deviation, minlength=neurons.size) / n_isi
        cv = np.sqrt(var) / mean
    selected = n_spikes >= min_spikes
    return (cv[selected], neurons[selected]) if return_ids else cv[selected]


def local_variation(
    node_ids,
    times,
    t_start: float,
    t_stop: float,
    min_spikes: int = 3,
    return_ids: bool = False,
):
    """Local variation LV of the inter-spike intervals of each neuron (Shinomoto 2003).

    ``LV = 3/(n-1) * sum_{i=1}^{n-1} ((I_i - I_{i+1}) / (I_i + I_{i+1}))**2`` over the
    n ISIs ``I_i`` of a neuron in the window, as ``elephant.statistics.lv``. It is 1 for a
    Poisson process, 0 for a regular train, and insensitive to slow rate changes.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        t_start: window start in ms (inclusive).
        t_stop: window end in ms (exclusive).
        min_spikes: minimum number of spikes in the window (>= 3: two ISIs are needed).
        return_ids: also return the neuron ids the values belong to.

    Returns:
        float64 array (n_selected,) of LVs (dimensionless) in ascending neuron-id order;
        with ``return_ids`` the tuple (lvs, neuron ids).
    """
    if min_spikes < 3:
        raise ValueError(f"min_spikes must be >= 3 for the LV, got {min_spikes}")
    neurons, n_spikes, isis, isi_group = _grouped_isis(node_ids, times, t_start, t_stop)
    pair = isi_group[1:] == isi_group[:-1]  # consecutive ISIs of the same neuron
    first, second = isis[:-1][pair], isis[1:][pair]
    with np.errstate(invalid="ignore", divide="ignore"):
        term = ((second - first) / (first + second)) ** 2
        lv = 3.0 * np.bincount(isi_group[1:][pair], term, minlength=neurons.size) / (
            n_spikes - 2
        )
    selected = n_spikes >= min_spikes
    return (lv[selected], neurons[selected]) if return_ids else lv[selected]


def spike_count_histogram(
    times, t_start: float, t_stop: float, bin_ms: float = 3.0
) -> np.ndarray:
    """Population spike-count histogram (all neurons together).

    Args:
        times: float array (n_spikes,), spike times in ms.
        t_start: start of the first bin in ms.
        t_stop: window end in ms; the incomplete last bin, if any, is dropped.
        bin_ms: bin width in ms.

    Returns:
        int64 array (n_bins,) of spike counts per bin (see the module's binning
        convention); equal to ``elephant.statistics.time_histogram(..., output="counts")``.
    """
    times = np.asarray(times, dtype=np.float64)
    index, _, nb = _bin_index(times, *_check_window(t_start, t_stop), bin_ms)
    return np.bincount(index, minlength=nb)


def synchrony(times, t_start: float, t_stop: float, bin_ms: float = 3.0) -> float:
    """Synchrony of a population: variance over mean of its spike-count histogram.

    This is the synchrony measure of Potjans & Diesmann (2014, Cereb. Cortex), there with
    3 ms bins. It is 1 for independent Poisson neurons (the population count is Poisson)
    and grows when neurons fire together. The variance is the population variance
    (ddof=0) over the bins.

    Args:
        times: float array (n_spikes,), spike times in ms (all neurons of the population).
        t_start: start of the first bin in ms.
        t_stop: window end in ms (incomplete last bin dropped).
        bin_ms: bin width in ms.

    Returns:
        The synchrony (dimensionless); NaN if there is no spike in the binned window.
    """
    counts = spike_count_histogram(times, t_start, t_stop, bin_ms)
    mean = counts.mean()
    if not mean > 0:
        return float("nan")
    return float(counts.var() / mean)


def spike_count_correlations(
    node_ids,
    times,
    n_nodes: int,
    t_start: float,
    t_stop: float,
    bin_ms: float = 2.0,
    n_sample: int = 50,
    rng: np.random.Generator | int | None = None,
    return_ids: bool = False,
):
    """Pairwise Pearson correlation coefficients of binned spike counts of sampled neurons.

    Sampling: the candidates are the neurons with at least one spike in the binned span
    ``[t_start, t_start + n_bins * bin_ms)``; ``n_sample`` of them are drawn uniformly
    without replacement with ``rng`` (all of them, in id order, if there are no more than
    ``n_sample``). Silent neurons are excluded because their correlation is undefined (zero
    variance), so the result describes the active neurons only; this is the usual choice
    (e.g. Potjans & Diesmann 2014 and Elephant's example analyses) but it differs from
    sampling the whole population when many neurons are silent.

    Each sampled neuron's spikes are counted in the bins of the module's convention and
    the correlation coefficient of every pair of count vectors is computed exactly as
    ``elephant.spike_train_correlation.correlation_coefficient`` of an
    ``elephant.conversion.BinnedSpikeTrain`` (non-binary counts). It is evaluated from
    sparse integer sums, so long runs with small bins need little memory.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        n_nodes: population size (used to check node ids).
        t_start: start of the first bin in ms.
        t_stop: window end in ms (incomplete last bin dropped).
        bin_ms: bin width in ms.
        n_sample: maximal number of neurons to sample.
        rng: numpy Generator or seed for the sampling (None: fresh entropy).
        return_ids: also return the sampled neuron ids (ascending).

    Returns:
        float64 array (k*(k-1)/2,) of correlation coefficients, the upper triangle (k=1,
        row-major, as ``np.triu_indices``) of the k x k matrix of the k sampled neurons in
        ascending id order; empty if k < 2. A pair is NaN if one of its count vectors is
        constant (e.g. exactly one spike in every bin). With ``return_ids`` the tuple
        (coefficients, sampled ids).
    """
    t_start, t_stop = _check_window(t_start, t_stop)
    ids, times = _as_arrays(node_ids, times)
    _check_ids(ids[(times >= t_start) & (times < t_stop)], n_nodes)
    index, keep, nb = _bin_index(times, t_start, t_stop, bin_ms)
    ids = ids[keep]
    active = np.flatnonzero(np.bincount(ids, minlength=int(n_nodes)))
    if active.size > n_sample:
        rng = np.random.default_rng(rng)
        sample = np.sort(rng.choice(active, size=int(n_sample), replace=False))
    else:
        sample = active
    k = sample.size
    if k < 2:
        out = np.zeros(0, dtype=np.float64)
        return (out, sample) if return_ids else out
    row = np.searchsorted(sample, ids)
    row[row == k] = 0
    member = sample[row] == ids
    counts = sps.csr_matrix(
        (np.ones(int(member.sum()), dtype=np.int64), (row[member], index[member])),
        shape=(k, nb),
    )  # duplicate (row, bin) entries are summed: spike counts
    gram = np.asarray((counts @ counts.T).toarray(), dtype=np.int64)  # sum_t x_i x_j
    total = np.asarray(counts.sum(axis=1), dtype=np.int64).ravel()  # sum_t x_i
    # Pearson r = (n Sxy - Sx Sy) / sqrt((n Sxx - Sx^2)(n Syy - Sy^2)); numerators in
    # exact integer arithmetic.
    cov = nb * gram - np.outer(total, total)
    norm = np.sqrt(np.diag(cov).astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov.astype(np.float64) / np.outer(norm, norm)
    out = corr[np.triu_indices(k, 1)]
    return (out, sample) if return_ids else out
