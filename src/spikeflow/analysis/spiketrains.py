"""Vectorised spike-train statistics over the spikes of one population.

Every function takes the spikes of ONE population as two flat arrays, the way a spikes
file stores them (see :mod:`spikeflow.io.spikes`):

* ``node_ids``: integer array (n_spikes,), 0-based index of the sender in the population;
* ``times``: float array (n_spikes,), spike times in ms, in any order;

plus the analysis window ``(t_start, t_stop]`` in ms. The window is half-open the way NEST
stamps spikes (like :meth:`spikeflow.io.spikes.PopulationSpikes.window`): NEST gives a spike
emitted during the step ``(t - h, t]`` the time ``t``, the end of its step, so the spikes of a
simulation of ``[t0, t1)`` carry times in ``(t0, t1]``. A spike at exactly ``t_start`` belongs
to the step before the window and is not counted; one at exactly ``t_stop`` is. The functions never loop over neurons in Python; they are built from sorting,
``np.diff`` with masks and ``np.bincount``, so a population of 80,000 neurons with 10^6
spikes takes well under a second.

Spikes files store each population sorted by time, and the functions use that when it holds
(checked in one pass): the window is then a slice (no copy), the per-neuron grouping a stable
radix sort of 16-bit node ids processed in cache-sized blocks of whole neurons, and a
histogram's bin edges are found by binary search instead of binning every spike. Results are
bitwise the same as for the same spikes in any other order.

The statistics are the ones of Elephant (``elephant.statistics.mean_firing_rate``,
``cv``, ``lv``, ``time_histogram``, ``elephant.spike_train_correlation.
correlation_coefficient`` over an ``elephant.conversion.BinnedSpikeTrain``), written for
many neurons at once; the unit tests check them against Elephant.

Binning convention (:func:`spike_count_histogram`, :func:`synchrony`,
:func:`spike_count_correlations`): bins of width ``bin_ms`` start at ``t_start``; there are
``floor((t_stop - t_start) / bin_ms)`` of them, so an incomplete last bin is dropped and
spikes in it are not counted; bin ``k`` is ``(t_start + k*bin_ms, t_start + (k+1)*bin_ms]``,
NEST's convention again, so a spike on the 0.1 ms grid that lies exactly on an edge goes to the
bin that ends there. A spike that lies within 1e-8 bin widths above a bin edge (a
floating-point rounding error) also goes to the bin that ends at that edge (Elephant's
tolerance, mirrored). Elephant's own functions count ``[t_start, t_stop)``; the unit tests
compare with them on windows shifted by a fraction of the time grid.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "in_window",
    "in_window_mask",
    "per_neuron_rates",
    "isi_cv",
    "local_variation",
    "spike_count_histogram",
    "synchrony",
    "spike_count_correlations",
    "n_bins",
]

_BIN_TOLERANCE = 1e-8  # in units of the bin width, as elephant's BinnedSpikeTrain
#: A histogram of time-sorted spikes finds its bin edges by binary search when it has fewer than
#: one bin per this many spikes (two searches per edge cost about as much as binning 8 spikes).
_SEARCH_PER_SPIKE = 8


def _check_window(t_start: float, t_stop: float) -> tuple[float, float]:
    t_start, t_stop = float(t_start), float(t_stop)
    if not np.isfinite(t_start) or not np.isfinite(t_stop) or t_stop <= t_start:
        raise ValueError(f"need t_start < t_stop (ms), got ({t_start}, {t_stop}]")
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
    # uint64 (the file's type) cannot be cast "safely" to intp for bincount; a view as
    # int64 needs no copy (ids >= 2**63 become negative and fail _check_ids).
    if node_ids.dtype == np.uint64:
        return node_ids.view(np.int64), times
    return node_ids.astype(np.int64, copy=False), times


def _is_time_sorted(times: np.ndarray) -> bool:
    """True if the times are non-decreasing (as in a spikes file); NaN makes it False."""
    if times.size < 2:
        return True
    block = 1 << 20  # in blocks: a bool temporary of 1 MiB, not one of the array's length
    for a in range(0, times.size - 1, block):
        b = min(a + block, times.size - 1)
        if not np.all(times[a + 1 : b + 1] >= times[a:b]):
            return False
    return True


def _windowed(
    node_ids, times, t_start: float, t_stop: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The spikes in (t_start, t_stop] as (int64 ids, float64 times, time-sorted?).

    Time-sorted input gives views (a slice); other input a masked copy.
    """
    node_ids, times = _as_arrays(node_ids, times)
    if _is_time_sorted(times):
        lo, hi = np.searchsorted(times, (t_start, t_stop), side="right")
        return node_ids[lo:hi], times[lo:hi], True
    keep = in_window_mask(times, t_start, t_stop)
    return node_ids[keep], times[keep], False


def in_window_mask(times, t_start: float, t_stop: float) -> np.ndarray:
    """Boolean mask of the times in NEST's window ``(t_start, t_stop]`` (ms).

    Args:
        times: float array (n_spikes,), ms.
        t_start: window start in ms (exclusive: a spike stamped here belongs to the step before).
        t_stop: window end in ms (inclusive: the spike stamped at the end of the last step).

    Returns:
        bool array (n_spikes,).
    """
    times = np.asarray(times)
    return (times > t_start) & (times <= t_stop)


def in_window(node_ids, times, t_start: float, t_stop: float) -> tuple[np.ndarray, np.ndarray]:
    """The spikes with ``t_start < t <= t_stop`` (ms, NEST's convention), in their order.

    Args:
        node_ids: integer array (n_spikes,).
        times: float array (n_spikes,), ms.
        t_start: window start in ms (exclusive).
        t_stop: window end in ms (inclusive).

    Returns:
        (node ids as int64, times as float64); views into the inputs (no copy) when the
        times are sorted, as in a spikes file.
    """
    ids, t, _ = _windowed(node_ids, times, float(t_start), float(t_stop))
    return ids, t


_in_window = in_window


def _check_ids(node_ids: np.ndarray, n_nodes: int) -> None:
    if node_ids.size and (node_ids.min() < 0 or node_ids.max() >= n_nodes):
        raise ValueError(
            f"node ids must lie in [0, {n_nodes}), got [{node_ids.min()}, {node_ids.max()}]"
        )


def n_bins(t_start: float, t_stop: float, bin_ms: float) -> int:
    """Number of complete bins of width ``bin_ms`` in ``(t_start, t_stop]``.

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
    index = _bin_of(times, t_start, bin_ms)
    keep = (times > t_start) & (index >= 0) & (index < nb)
    return index[keep].astype(np.int64), keep, nb


def _bin_of(times: np.ndarray, t_start: float, bin_ms: float) -> np.ndarray:
    """Bin of each time (float array): ``ceil((t - t_start) / bin_ms - 1e-8) - 1``.

    Bin ``k`` is ``(t_start + k*bin_ms, t_start + (k+1)*bin_ms]``; a time within 1e-8 bin
    widths above an edge counts as on it. A time at or before ``t_start`` gets a negative bin.
    """
    return np.ceil((times - t_start) / bin_ms - _BIN_TOLERANCE) - 1.0


def _bin_starts(
    times: np.ndarray, t_start: float, bin_ms: float, bins: np.ndarray
) -> np.ndarray:
    """For time-sorted ``times`` (all >= t_start): index of the first spike of each bin in ``bins``.

    The bin of a spike is ``ceil((t - t_start) / bin_ms - 1e-8) - 1`` (:func:`_bin_of`), a
    non-decreasing function of t, so the spikes of bin k are a contiguous run and
    ``start[k]`` is the first position whose bin is >= k. It is found by binary search for
    the nominal edge ``t_start + k * bin_ms`` widened by a margin (1e-6 bin widths, far
    beyond the 1e-8 tolerance and the rounding of the edge) and the exact bin formula on the
    few spikes inside that margin: the result equals counting :func:`_bin_index`'s bins.
    """
    bins = np.asarray(bins, dtype=np.int64)
    edges = t_start + bins * bin_ms
    margin = 1e-6 * bin_ms + 1e-12 * np.abs(edges)
    lo = np.searchsorted(times, edges - margin, side="left")
    hi = np.searchsorted(times, edges + margin, side="left")
    width = hi - lo
    if not width.any():
        return lo
    # the spikes inside each edge's margin, exactly binned; count those below bin k
    owner = np.repeat(np.arange(bins.size), width)
    position = np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width) + np.repeat(lo, width)
    exact = _bin_of(times[position], t_start, bin_ms)
    below = np.bincount(owner, exact < bins[owner], minlength=bins.size).astype(np.int64)
    return lo + below


def per_neuron_rates(
    node_ids, times, n_nodes: int, t_start: float, t_stop: float
) -> np.ndarray:
    """Firing rate of every neuron of the population in ``(t_start, t_stop]``.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        n_nodes: population size; neurons that never spike get rate 0.
        t_start: window start in ms (exclusive, NEST's convention).
        t_stop: window end in ms (inclusive).

    Returns:
        float64 array (n_nodes,): spike count in the window divided by the window
        length, in spikes/s.
    """
    t_start, t_stop = _check_window(t_start, t_stop)
    ids, _, _ = _windowed(node_ids, times, t_start, t_stop)
    _check_ids(ids, n_nodes)
    counts = np.bincount(ids, minlength=int(n_nodes))
    return counts / ((t_stop - t_start) / 1000.0)


#: Spikes per block of whole neurons in the ISI statistics (a few MiB per temporary).
_ISI_BLOCK = 1 << 18


def _isi_sums(
    ids: np.ndarray,
    t: np.ndarray,
    time_sorted: bool,
    n_nodes: int,
    cv: bool = True,
    lv: bool = True,
) -> dict[str, np.ndarray]:
    """Per-neuron sums of the ISI statistics of the window's spikes (ids int64 in [0, n_nodes)).

    The spikes are put in (neuron, time) order - a stable sort by neuron of the time-sorted
    spikes; a radix sort when ids fit 16 bits - and processed in blocks of whole neurons, so
    each neuron's ISIs are summed in time order by ``np.bincount`` exactly as over the whole
    array at once.

    Returns:
        ``counts`` (spikes per neuron, (n_nodes,)) and, each (n_nodes,) float64:
        ``mean`` (mean ISI, NaN below 2 spikes) and ``sq`` (sum of squared deviations of
        the ISIs from it) if ``cv``; ``lv`` (sum of the LV terms) if ``lv``.
    """
    n_nodes = int(n_nodes)
    if not time_sorted and t.size > 1:
        by_time = np.argsort(t, kind="stable")
        ids, t = ids[by_time], t[by_time]
    counts = np.bincount(ids, minlength=n_nodes)
    key = ids.astype(np.uint16) if n_nodes <= 1 << 16 else ids  # uint16: numpy's radix sort
    order = np.argsort(key, kind="stable")
    del key
    out = {"counts": counts}
    with np.errstate(invalid="ignore", divide="ignore"):
        if cv:
            total = np.zeros(n_nodes)
            sq = np.zeros(n_nodes)
            mean = np.full(n_nodes, np.nan)
        if lv:
            lv_sum = np.zeros(n_nodes)
        bounds = np.concatenate(([0], np.cumsum(counts)))  # neuron j: order[bounds[j]:bounds[j+1]]
        cuts = np.unique(np.searchsorted(bounds, np.arange(0, ids.size, _ISI_BLOCK), side="right") - 1)
        cuts = np.append(cuts[cuts < n_nodes], n_nodes)
        for j0, j1 in zip(cuts[:-1], cuts[1:]):
            a, b = bounds[j0], bounds[j1]
            if b - a < 2:
                continue
            d = np.diff(t[order[a:b]])  # d[i] = t[i+1] - t[i] belongs to neuron gg[i+1]
            gg = np.repeat(np.arange(j0, j1), counts[j0:j1])[1:]
            # d[i] spans two neurons where i+1 starts a neuron: excluded by weight +0.0,
            # which leaves every sum bitwise as without it (all summands are >= 0).
            cross = bounds[j0 + 1 : j1] - a - 1
            cross = cross[(cross >= 0) & (cross < d.size)]
            d[cross] = 0.0
            if cv:
                total[j0:j1] = np.bincount(gg, d, minlength=j1)[j0:j1]
                mean[j0:j1] = total[j0:j1] / (counts[j0:j1] - 1)
                deviation = d - mean[gg]  # two-pass variance: no cancellation error
                deviation[cross] = 0.0
                np.multiply(deviation, deviation, out=deviation)
                sq[j0:j1] = np.bincount(gg, deviation, minlength=j1)[j0:j1]
                del deviation
            if lv and d.size > 1:
                # term i pairs d[i] and d[i+1] (neuron gg[i+1]); excluded if either crosses
                term = d[1:] - d[:-1]
                np.divide(term, d[:-1] + d[1:], out=term)
                np.multiply(term, term, out=term)
                term[cross[cross < term.size]] = 0.0
                term[cross[cross >= 1] - 1] = 0.0
                lv_sum[j0:j1] = np.bincount(gg[1:], term, minlength=j1)[j0:j1]
                del term
            del d, gg
    if cv:
        out["mean"], out["sq"] = mean, sq
    if lv:
        out["lv"] = lv_sum
    return out


def _cv_values(sums: Mapping[str, np.ndarray], min_spikes: int) -> tuple[np.ndarray, np.ndarray]:
    counts = sums["counts"]
    selected = np.flatnonzero(counts >= min_spikes)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = sums["sq"][selected] / (counts[selected] - 1)
        return np.sqrt(var) / sums["mean"][selected], selected


def _lv_values(sums: Mapping[str, np.ndarray], min_spikes: int) -> tuple[np.ndarray, np.ndarray]:
    counts = sums["counts"]
    selected = np.flatnonzero(counts >= min_spikes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 3.0 * sums["lv"][selected] / (counts[selected] - 2), selected


def _isi_window(node_ids, times, t_start: float, t_stop: float):
    t_start, t_stop = _check_window(t_start, t_stop)
    ids, t, time_sorted = _windowed(node_ids, times, t_start, t_stop)
    if ids.size and ids.min() < 0:
        raise ValueError(f"node ids must be >= 0, got {ids.min()}")
    n_nodes = int(ids.max()) + 1 if ids.size else 0
    return ids, t, time_sorted, n_nodes


def isi_cv(
    node_ids,
    times,
    t_start: float,
    t_stop: float,
    min_spikes: int = 3,
    return_ids: bool = False,
):
    """Coefficient of variation of the inter-spike intervals (ISIs) of each neuron.

    Only spikes in ``(t_start, t_stop]`` are used, and only neurons with at least
    ``min_spikes`` spikes there get a value. CV = std(ISI) / mean(ISI), with the
    population standard deviation (ddof=0) as ``elephant.statistics.cv`` (which is
    ``scipy.stats.variation``). It is 1 for a Poisson process and 0 for a regular train.

    Args:
        node_ids: integer array (n_spikes,), 0-based neuron index within the population.
        times: float array (n_spikes,), spike times in ms.
        t_start: window start in ms (exclusive, NEST's convention).
        t_stop: window end in ms (inclusive).
        min_spikes: minimum number of spikes in the window (>= 2).
        return_ids: also return the neuron ids the values belong to.

    Returns:
        float64 array (n_selected,) of CVs (dimensionless) in ascending neuron-id order;
        with ``return_ids`` the tuple (cvs, neuron ids). A neuron whose spikes all fall
        at the same time has CV NaN.
    """
    if min_spikes < 2:
        raise ValueError(f"min_spikes must be >= 2 for an ISI CV, got {min_spikes}")
    ids, t, time_sorted, n_nodes = _isi_window(node_ids, times, t_start, t_stop)
    cv, neurons = _cv_values(_isi_sums(ids, t, time_sorted, n_nodes, lv=False), min_spikes)
    return (cv, neurons) if return_ids else cv


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
        t_start: window start in ms (exclusive, NEST's convention).
        t_stop: window end in ms (inclusive).
        min_spikes: minimum number of spikes in the window (>= 3: two ISIs are needed).
        return_ids: also return the neuron ids the values belong to.

    Returns:
        float64 array (n_selected,) of LVs (dimensionless) in ascending neuron-id order;
        with ``return_ids`` the tuple (lvs, neuron ids).
    """
    if min_spikes < 3:
        raise ValueError(f"min_spikes must be >= 3 for the LV, got {min_spikes}")
    ids, t, time_sorted, n_nodes = _isi_window(node_ids, times, t_start, t_stop)
    lv, neurons = _lv_values(_isi_sums(ids, t, time_sorted, n_nodes, cv=False), min_spikes)
    return (lv, neurons) if return_ids else lv


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
    t_start, t_stop = _check_window(t_start, t_stop)
    if _is_time_sorted(times):
        nb = n_bins(t_start, t_stop, bin_ms)
        lo, hi = np.searchsorted(times, (t_start, t_start + (nb + 1) * bin_ms), side="left")
        if nb < (hi - lo) // _SEARCH_PER_SPIKE:  # few bins: edges by binary search, no pass over the spikes
            return np.diff(_bin_starts(times[lo:], t_start, bin_ms, np.arange(nb + 1))).astype(np.int64)
        times = times[lo:hi]  # many bins (e.g. 0.5 ms ones): bin the window's spikes directly
    index, _, nb = _bin_index(times, t_start, t_stop, bin_ms)
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
    ``(t_start, t_start + n_bins * bin_ms]``; ``n_sample`` of them are drawn uniformly
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
    nb = n_bins(t_start, t_stop, bin_ms)
    if _is_time_sorted(times):  # the binned spikes are one slice
        lo, hi = np.searchsorted(times, (t_start, t_stop), side="right")
        _check_ids(ids[lo:hi], n_nodes)
        first = int(np.searchsorted(times, t_start, side="left"))
        lo, hi = first + _bin_starts(times[first:], t_start, bin_ms, [0, nb])
        ids, times = ids[lo:hi], times[lo:hi]
    else:
        _check_ids(ids[in_window_mask(times, t_start, t_stop)], n_nodes)
        _, keep, nb = _bin_index(times, t_start, t_stop, bin_ms)
        ids, times = ids[keep], times[keep]
    spike_counts = np.bincount(ids, minlength=int(n_nodes))
    active = np.flatnonzero(spike_counts)
    if active.size > n_sample:
        rng = np.random.default_rng(rng)
        sample = np.sort(rng.choice(active, size=int(n_sample), replace=False))
    else:
        sample = active
    k = sample.size
    if k < 2:
        out = np.zeros(0, dtype=np.float64)
        return (out, sample) if return_ids else out
    import scipy.sparse as sps  # here: scipy's import is not paid by the other statistics

    is_sampled = np.zeros(spike_counts.size, dtype=bool)
    is_sampled[sample] = True
    chosen = np.flatnonzero(is_sampled[ids])  # only the sampled neurons' spikes are binned
    index = _bin_of(times[chosen], t_start, bin_ms).astype(np.int64)
    row = np.searchsorted(sample, ids[chosen])
    counts = sps.csr_matrix(
        (np.ones(chosen.size, dtype=np.int64), (row, index)),
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
