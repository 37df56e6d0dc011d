"""Spike-train statistics on synthetic trains with known answers, and against Elephant."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from spikeflow.analysis import spiketrains as st

ELEPHANT_REASON = "Elephant is the reference implementation; pip install -e '.[test]'"

# elephant 1.2 passes copy= to quantities, which deprecates it: not our concern here
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity:DeprecationWarning")


# --------------------------------------------------------------------------- helpers


def poisson_population(rng, n_nodes, rate_hz, t_start, t_stop):
    """Independent homogeneous Poisson trains; returns (node_ids uint64, times ms)."""
    rate_hz = np.broadcast_to(np.asarray(rate_hz, dtype=float), (n_nodes,))
    counts = rng.poisson(rate_hz * (t_stop - t_start) / 1000.0)
    ids = np.repeat(np.arange(n_nodes, dtype=np.uint64), counts)
    times = rng.uniform(t_start, t_stop, counts.sum())
    order = np.argsort(times)  # as in a spikes file: sorted by time
    return ids[order], times[order]


def regular_population(n_nodes, period_ms, t_start, t_stop, rng):
    """Perfectly regular trains with random phases."""
    phases = rng.uniform(0, period_ms, n_nodes)
    n = int((t_stop - t_start) // period_ms)
    times = t_start + phases[:, None] + period_ms * np.arange(n)[None, :]
    ids = np.repeat(np.arange(n_nodes, dtype=np.uint64), n)
    times = times.ravel()
    keep = times < t_stop
    return ids[keep], times[keep]


def shared_source_population(rng, n_nodes, rate_hz, c, t_stop):
    """Each neuron = a common Poisson train of rate c*rate plus its own of (1-c)*rate.

    The spike counts of any two neurons in any bin then have correlation coefficient
    Var(shared)/Var(total) = c (Poisson counts: variance = mean).
    """
    common = rng.uniform(0, t_stop, rng.poisson(c * rate_hz * t_stop / 1000.0))
    ids = [np.repeat(np.arange(n_nodes), common.size)]
    times = [np.tile(common, n_nodes)]
    own_ids, own_times = poisson_population(rng, n_nodes, (1 - c) * rate_hz, 0.0, t_stop)
    ids.append(own_ids.astype(np.int64))
    times.append(own_times)
    return np.concatenate(ids).astype(np.uint64), np.concatenate(times)


# --------------------------------------------------------------------------- rates


def test_poisson_rates_within_standard_errors():
    rng = np.random.default_rng(1)
    n, rate, t0, t1 = 400, 8.0, 0.0, 20000.0
    ids, times = poisson_population(rng, n, rate, t0, t1)
    rates = st.per_neuron_rates(ids, times, n, t0, t1)
    assert rates.shape == (n,)
    t_s = (t1 - t0) / 1000.0
    standard_error = np.sqrt(rate / t_s / n)  # of the population mean
    assert abs(rates.mean() - rate) < 5 * standard_error
    # per-neuron rates scatter with the Poisson standard deviation
    assert rates.std() == pytest.approx(np.sqrt(rate / t_s), rel=0.15)


def test_silent_neurons_count_as_zero_and_window_is_half_open():
    ids = np.array([0, 0, 1, 1, 1, 2, 3, 4], dtype=np.uint64)
    times = np.array([100.0, 600.0, 99.9, 100.0, 1100.0, 1099.99, 1100.0, 1100.1])
    rates = st.per_neuron_rates(ids, times, 6, 100.0, 1100.0)
    # NEST's window (100, 1100]: 1 s long; a spike stamped 100 belongs to the step before,
    # one stamped 1100 to the window's last step
    np.testing.assert_array_equal(rates, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    assert rates.mean() == pytest.approx(4 / 6)


def test_spikes_on_the_window_boundaries_follow_nests_stamping():
    """NEST stamps a spike at the end of its step: simulating [0, 1000) then [1000, 2000) in
    0.1 ms steps gives times in (0, 1000] and (1000, 2000]. Spikes exactly on the boundaries
    go to the phase (and bin) that ends there, in every statistic and on both code paths."""
    ids = np.array([0, 0, 0, 1, 1, 1, 2, 2], dtype=np.uint64)
    times = np.array([0.0, 500.0, 1000.0, 1000.0, 1000.1, 2000.0, 999.9, 1000.0])
    order = np.argsort(times, kind="stable")
    for i, t in ((ids, times), (ids[order], times[order])):
        np.testing.assert_array_equal(st.per_neuron_rates(i, t, 3, 0.0, 1000.0), [2.0, 1.0, 2.0])
        np.testing.assert_array_equal(st.per_neuron_rates(i, t, 3, 1000.0, 2000.0), [0.0, 2.0, 0.0])
        # the two phases together count every spike after t = 0 once
        both = st.per_neuron_rates(i, t, 3, 0.0, 1000.0) + st.per_neuron_rates(i, t, 3, 1000.0, 2000.0)
        assert both.sum() == ids.size - 1
        got_ids, got_t = st.in_window(i, t, 1000.0, 2000.0)
        assert sorted(got_t.tolist()) == [1000.1, 2000.0]
        # bins (0, 500], (500, 1000]: the spikes at 500 and 1000 close their bins
        np.testing.assert_array_equal(st.spike_count_histogram(t, 0.0, 1000.0, 500.0), [1, 4])
        np.testing.assert_array_equal(st.spike_count_histogram(t, 1000.0, 2000.0, 500.0), [1, 1])
        # bins of 0.1 ms on the grid: the spike at 1000.1 is in the first bin of (1000, 2000]
        h = st.spike_count_histogram(t, 1000.0, 2000.0, 0.1)
        assert h.size == 10000 and h[0] == 1 and h[-1] == 1 and h.sum() == 2
    from spikeflow.io.spikes import PopulationSpikes

    pop = PopulationSpikes("P", 3, ids, times).window(0.0, 1000.0)
    assert sorted(pop.times.tolist()) == [500.0, 999.9, 1000.0, 1000.0, 1000.0]


def test_rates_reject_out_of_range_ids_and_bad_window():
    with pytest.raises(ValueError):
        st.per_neuron_rates(np.array([5]), np.array([1.0]), 5, 0.0, 10.0)
    with pytest.raises(ValueError):
        st.per_neuron_rates(np.array([0]), np.array([1.0]), 5, 10.0, 10.0)


def test_empty_population():
    ids, times = np.zeros(0, np.uint64), np.zeros(0)
    np.testing.assert_array_equal(st.per_neuron_rates(ids, times, 3, 0, 10), [0, 0, 0])
    assert st.isi_cv(ids, times, 0, 10).size == 0
    assert st.local_variation(ids, times, 0, 10).size == 0
    assert np.isnan(st.synchrony(times, 0, 10))
    assert st.spike_count_correlations(ids, times, 3, 0, 10).size == 0


# --------------------------------------------------------------------------- CV and LV


def test_poisson_cv_and_lv_are_one():
    rng = np.random.default_rng(2)
    ids, times = poisson_population(rng, 60, 20.0, 0.0, 50000.0)  # ~1000 spikes each
    cv = st.isi_cv(ids, times, 0.0, 50000.0)
    lv = st.local_variation(ids, times, 0.0, 50000.0)
    assert cv.shape == lv.shape == (60,)
    assert cv.mean() == pytest.approx(1.0, abs=0.02)
    assert lv.mean() == pytest.approx(1.0, abs=0.02)


def test_regular_trains_have_zero_cv_and_lv():
    rng = np.random.default_rng(3)
    ids, times = regular_population(20, 25.0, 0.0, 5000.0, rng)
    cv = st.isi_cv(ids, times, 0.0, 5000.0)
    lv = st.local_variation(ids, times, 0.0, 5000.0)
    assert cv.size == lv.size == 20
    np.testing.assert_allclose(cv, 0.0, atol=1e-9)
    np.testing.assert_allclose(lv, 0.0, atol=1e-9)


def test_cv_lv_selection_and_known_values():
    # neuron 0: ISIs 1, 3 -> CV = std([1,3])/2 = 0.5; LV = 3*((3-1)/(3+1))**2 = 0.75
    # neuron 1: two spikes only (excluded with min_spikes=3); neuron 2: outside the window
    ids = np.array([1, 0, 0, 1, 0, 2, 2, 2], dtype=np.uint64)
    times = np.array([5.0, 10.0, 11.0, 6.0, 14.0, 50.0, 51.0, 52.0])
    cv, cv_ids = st.isi_cv(ids, times, 0.0, 20.0, return_ids=True)
    lv, lv_ids = st.local_variation(ids, times, 0.0, 20.0, return_ids=True)
    np.testing.assert_array_equal(cv_ids, [0])
    np.testing.assert_array_equal(lv_ids, [0])
    assert cv[0] == pytest.approx(0.5, abs=1e-15)
    assert lv[0] == pytest.approx(0.75, abs=1e-15)
    cv2, cv2_ids = st.isi_cv(ids, times, 0.0, 20.0, min_spikes=2, return_ids=True)
    np.testing.assert_array_equal(cv2_ids, [0, 1])
    assert cv2[1] == 0.0  # a single ISI
    with pytest.raises(ValueError):
        st.local_variation(ids, times, 0.0, 20.0, min_spikes=2)


# --------------------------------------------------------------------------- synchrony


def test_poisson_synchrony_is_one():
    rng = np.random.default_rng(4)
    _, times = poisson_population(rng, 1000, 5.0, 0.0, 10000.0)
    assert st.synchrony(times, 0.0, 10000.0, bin_ms=3.0) == pytest.approx(1.0, abs=0.1)


def test_synchronous_population_has_large_synchrony():
    rng = np.random.default_rng(5)
    n = 100
    events = rng.uniform(0.0, 10000.0, 100)  # 10 spikes/s, every neuron fires at each event
    times = np.tile(events, n)
    sync = st.synchrony(times, 0.0, 10000.0, bin_ms=3.0)
    assert sync > 50  # ~n for sparse events
    assert sync == pytest.approx(n, rel=0.05)


def test_histogram_binning_convention():
    # bins (0,3], (3,6], (6,9]; the last incomplete bin (9,10] is dropped
    times = np.array([0.0, 2.999, 3.0, 8.9, 9.0, 9.5, 10.0, -0.1, 3.0000000000001])
    np.testing.assert_array_equal(st.spike_count_histogram(times, 0.0, 10.0, 3.0), [3, 0, 2])
    # a time within 1e-8 bins above an edge (rounding) counts as on it: 3.0000000000001 -> (0, 3]
    np.testing.assert_array_equal(st.spike_count_histogram(times[[1, 8]], 0.0, 10.0, 3.0), [2, 0, 0])
    # float-exact bin counts: 1 s in 0.1 ms bins is 10000 bins, not 9999
    assert st.n_bins(0.0, 1000.0, 0.1) == 10000
    assert st.n_bins(100.0, 1100.5, 3.0) == 333


# --------------------------------------------------------------------------- correlations


def test_identical_trains_correlate_perfectly():
    rng = np.random.default_rng(6)
    events = rng.uniform(0.0, 5000.0, 200)
    n = 5
    ids = np.repeat(np.arange(n, dtype=np.uint64), events.size)
    times = np.tile(events, n)
    corr = st.spike_count_correlations(ids, times, n, 0.0, 5000.0, bin_ms=2.0)
    assert corr.shape == (n * (n - 1) // 2,)
    np.testing.assert_allclose(corr, 1.0, rtol=0, atol=1e-12)


def test_independent_trains_are_uncorrelated():
    rng = np.random.default_rng(7)
    ids, times = poisson_population(rng, 40, 20.0, 0.0, 20000.0)
    corr = st.spike_count_correlations(ids, times, 40, 0.0, 20000.0, bin_ms=5.0, n_sample=40)
    assert corr.size == 40 * 39 // 2
    n_bins = 4000
    assert abs(corr.mean()) < 3 / np.sqrt(n_bins)
    assert corr.std() == pytest.approx(1 / np.sqrt(n_bins), rel=0.2)


@pytest.mark.parametrize("c", [0.1, 0.4])
def test_shared_source_gives_correlation_c(c):
    rng = np.random.default_rng(8)
    n, rate, t_stop = 20, 20.0, 50000.0
    ids, times = shared_source_population(rng, n, rate, c, t_stop)
    rates = st.per_neuron_rates(ids, times, n, 0.0, t_stop)
    assert rates.mean() == pytest.approx(rate, rel=0.05)
    corr = st.spike_count_correlations(ids, times, n, 0.0, t_stop, bin_ms=10.0, n_sample=n)
    # 5000 bins: each coefficient has a standard error of about (1 - c**2)/sqrt(5000),
    # but all pairs share the common source's fluctuations, so allow a few times more
    assert corr.mean() == pytest.approx(c, abs=0.05)


def test_correlation_sampling_draws_only_active_neurons():
    rng = np.random.default_rng(9)
    n = 300
    active = np.sort(rng.choice(n, 80, replace=False))
    ids, times = poisson_population(rng, 80, 10.0, 0.0, 5000.0)
    ids = active[ids.astype(np.int64)].astype(np.uint64)  # spread over 300 neurons
    corr, sample = st.spike_count_correlations(
        ids, times, n, 0.0, 5000.0, n_sample=30, rng=11, return_ids=True
    )
    assert sample.size == 30 and corr.size == 30 * 29 // 2
    assert np.isin(sample, active).all() and np.all(np.diff(sample) > 0)
    again, sample_again = st.spike_count_correlations(
        ids, times, n, 0.0, 5000.0, n_sample=30, rng=11, return_ids=True
    )
    np.testing.assert_array_equal(sample, sample_again)
    np.testing.assert_array_equal(corr, again)
    # fewer active neurons than asked for: all of them
    _, everyone = st.spike_count_correlations(
        ids, times, n, 0.0, 5000.0, n_sample=500, return_ids=True
    )
    np.testing.assert_array_equal(everyone, np.unique(ids))


def test_constant_count_vector_gives_nan_pair():
    # neuron 0 spikes once in each 2 ms bin: constant counts, correlation undefined
    t = np.arange(0.0, 100.0, 2.0) + 0.5
    ids = np.concatenate([np.zeros(t.size), np.ones(3)]).astype(np.uint64)
    times = np.concatenate([t, [10.5, 30.5, 70.5]])
    corr = st.spike_count_correlations(ids, times, 2, 0.0, 100.0, bin_ms=2.0)
    assert corr.shape == (1,) and np.isnan(corr[0])


# --------------------------------------------------------------------------- vs Elephant


@pytest.fixture(scope="module")
def elephant():
    return pytest.importorskip("elephant", reason=ELEPHANT_REASON)


#: NEST's time grid in the Elephant cross-checks (ms); spikes lie on it, as NEST's do.
GRID_MS = 0.1


@pytest.fixture(scope="module")
def trains():
    """A population with a presimulation, silent neurons, bursty and regular neurons, on the
    0.1 ms grid as NEST stamps spikes, with spikes exactly on the window's ends and on the edges
    of the 2 ms and 3 ms bins."""
    rng = np.random.default_rng(12)
    n, t0, t1 = 40, 200.0, 3100.5  # window not a multiple of the bins
    rates = rng.uniform(0.0, 30.0, n)
    rates[:4] = 0.0  # silent
    ids, times = poisson_population(rng, n, rates, 0.0, t1 + 50.0)  # spikes outside too
    reg_ids, reg_times = regular_population(3, 37.3, 0.0, t1, rng)
    ids = np.concatenate([ids, reg_ids + np.uint64(4)])  # neurons 4-6 get regular spikes too
    times = np.concatenate([times, reg_times])
    bursts = np.repeat(rng.uniform(t0, t1, 30), 4) + np.tile([0.0, 1.1, 2.3, 3.6], 30)
    ids = np.concatenate([ids, np.full(bursts.size, 7, dtype=np.uint64)])
    times = np.concatenate([times, bursts])
    times = np.round(times / GRID_MS) * GRID_MS
    # on the boundaries: the window's start and end, and edges of 2 ms and 3 ms bins
    edges = np.array([t0, t0, t1, t1, t0 + 6.0, t0 + 6.0, t0 + 300.0, t0 + 2.0 * 700, t0 + 3.0 * 900])
    ids = np.concatenate([ids, np.array([8, 9, 8, 10, 8, 11, 9, 12, 12], dtype=np.uint64)])
    times = np.concatenate([times, edges])
    return ids, times, n, t0, t1


def neo_trains(ids, times, n, t0, t1):
    """The trains of NEST's window (t0, t1] as neo trains of Elephant's [t0', t1').

    Elephant counts spikes in ``[t_start, t_stop)`` and bins ``[t_start + k b, ...)``; on the
    0.1 ms grid NEST's ``(t0, t1]`` with bins ``(t0 + k b, ...]`` is the same set of spikes in
    the same bins when both ends move by half a grid step: ``[t0 + h/2, t1 + h/2)``.
    """
    import neo
    import quantities as pq

    a, b = t0 + GRID_MS / 2, t1 + GRID_MS / 2
    keep = (times >= a) & (times < b)
    return [
        neo.SpikeTrain(np.sort(times[keep & (ids == i)]) * pq.ms, t_start=a * pq.ms, t_stop=b * pq.ms)
        for i in range(n)
    ]


def test_rates_match_elephant(elephant, trains):
    import quantities as pq
    from elephant.statistics import mean_firing_rate

    ids, times, n, t0, t1 = trains
    ours = st.per_neuron_rates(ids, times, n, t0, t1)
    theirs = [
        # elephant refuses empty trains when given t_start/t_stop; their rate is 0
        mean_firing_rate(train, t_start=train.t_start, t_stop=train.t_stop).rescale(pq.Hz).item()
        if len(train) else 0.0
        for train in neo_trains(ids, times, n, t0, t1)
    ]
    assert theirs[:4] == [0.0] * 4
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_cv_and_lv_match_elephant(elephant, trains):
    from elephant.statistics import cv, isi, lv

    ids, times, n, t0, t1 = trains
    ours_cv, cv_ids = st.isi_cv(ids, times, t0, t1, return_ids=True)
    ours_lv, lv_ids = st.local_variation(ids, times, t0, t1, return_ids=True)
    spiketrains = neo_trains(ids, times, n, t0, t1)
    expected_ids = [i for i, train in enumerate(spiketrains) if len(train) >= 3]
    np.testing.assert_array_equal(cv_ids, expected_ids)
    np.testing.assert_array_equal(lv_ids, expected_ids)
    theirs_cv = [cv(isi(spiketrains[i]).magnitude) for i in expected_ids]
    theirs_lv = [lv(isi(spiketrains[i]).magnitude) for i in expected_ids]
    np.testing.assert_allclose(ours_cv, theirs_cv, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours_lv, theirs_lv, rtol=1e-10, atol=1e-13)


def test_histogram_and_synchrony_match_elephant(elephant, trains):
    import quantities as pq
    from elephant.statistics import time_histogram

    ids, times, n, t0, t1 = trains
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Binning discarded ... last spike(s)"
        hist = time_histogram(
            neo_trains(ids, times, n, t0, t1), bin_size=3.0 * pq.ms,
            t_start=(t0 + GRID_MS / 2) * pq.ms, t_stop=(t1 + GRID_MS / 2) * pq.ms, output="counts",
        )
    theirs = hist.magnitude.ravel()
    ours = st.spike_count_histogram(times, t0, t1, bin_ms=3.0)
    np.testing.assert_array_equal(ours, theirs)
    assert st.synchrony(times, t0, t1, bin_ms=3.0) == pytest.approx(
        theirs.var() / theirs.mean(), rel=1e-12
    )


@pytest.mark.parametrize("n_sample", [100, 12])
def test_correlations_match_elephant(elephant, trains, n_sample):
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient

    ids, times, n, t0, t1 = trains
    ours, sample = st.spike_count_correlations(
        ids, times, n, t0, t1, bin_ms=2.0, n_sample=n_sample, rng=3, return_ids=True
    )
    spiketrains = neo_trains(ids, times, n, t0, t1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binned = BinnedSpikeTrain([spiketrains[i] for i in sample], bin_size=2.0 * pq.ms,
                                  t_start=(t0 + GRID_MS / 2) * pq.ms, t_stop=(t1 + GRID_MS / 2) * pq.ms)
        theirs = correlation_coefficient(binned)
    binned_stop = t0 + 2.0 * st.n_bins(t0, t1, 2.0)  # the incomplete last bin is dropped
    active = np.unique(ids[(times > t0) & (times <= binned_stop)])
    assert not np.isin(np.arange(4), sample).any()  # the silent neurons are never drawn
    assert sample.size == min(n_sample, active.size)
    assert np.isin(sample, active).all()
    np.testing.assert_allclose(ours, theirs[np.triu_indices(sample.size, 1)],
                               rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- fast paths


def grid_population(rng, n_nodes, rate_hz, t_stop, resolution=0.1):
    """Poisson spikes on NEST's time grid, sorted by time as in a spikes file: many spikes
    share a time, and bin edges fall exactly on spike times."""
    total = rng.poisson(n_nodes * rate_hz * t_stop / 1000.0)
    times = np.floor(np.sort(rng.uniform(0.0, t_stop, total)) / resolution) * resolution
    return rng.integers(0, n_nodes, total).astype(np.uint64), times


@pytest.mark.parametrize("n_nodes", [300, 70_000])  # 16-bit radix sort, and the general sort
def test_time_sorted_fast_paths_equal_the_general_paths_bitwise(n_nodes):
    """Spikes files are sorted by time and the statistics take shortcuts then (views, a radix
    sort in blocks of neurons, bin edges by binary search); the same spikes in another order
    take the general path. Both must give the same bits."""
    rng = np.random.default_rng(11)
    ids, times = grid_population(rng, n_nodes, 20.0 * 300 / n_nodes, 3000.0)
    # a neuron with 2 spikes, one with 1, one with exactly simultaneous spikes (ISI 0)
    ids = np.concatenate([ids, np.array([5, 5, 7, 9, 9, 9], dtype=np.uint64)])
    times = np.concatenate([times, [1000.0, 1000.3, 1500.0, 2000.0, 2000.0, 2000.0]])
    order = np.argsort(times, kind="stable")
    ids, times = ids[order], times[order]
    shuffled = rng.permutation(ids.size)
    sids, stimes = ids[shuffled], times[shuffled]
    assert st._is_time_sorted(times) and not st._is_time_sorted(stimes)
    for t0, t1 in [(0.0, 3000.0), (500.0, 2999.9), (100.05, 1300.0)]:
        for f in (st.isi_cv, st.local_variation):
            fast, fast_ids = f(ids, times, t0, t1, min_spikes=3, return_ids=True)
            slow, slow_ids = f(sids, stimes, t0, t1, min_spikes=3, return_ids=True)
            np.testing.assert_array_equal(fast_ids, slow_ids)
            np.testing.assert_array_equal(fast, slow)  # NaN == NaN here
        np.testing.assert_array_equal(
            st.per_neuron_rates(ids, times, n_nodes, t0, t1),
            st.per_neuron_rates(sids, stimes, n_nodes, t0, t1),
        )
        for bin_ms in (0.1, 0.3, 2.0, 3.0):
            fast = st.spike_count_histogram(times, t0, t1, bin_ms)
            _, keep, nb = st._bin_index(times, t0, t1, bin_ms)  # the general binning
            index = (np.ceil((times[keep] - t0) / bin_ms - st._BIN_TOLERANCE) - 1).astype(np.int64)
            np.testing.assert_array_equal(fast, np.bincount(index, minlength=nb))
            np.testing.assert_array_equal(fast, st.spike_count_histogram(stimes, t0, t1, bin_ms))
        fast = st.spike_count_correlations(ids, times, n_nodes, t0, t1, n_sample=20, rng=4, return_ids=True)
        slow = st.spike_count_correlations(sids, stimes, n_nodes, t0, t1, n_sample=20, rng=4, return_ids=True)
        np.testing.assert_array_equal(fast[1], slow[1])
        np.testing.assert_array_equal(fast[0], slow[0])


def test_isi_statistics_in_blocks_equal_one_block(monkeypatch):
    """The per-neuron ISI sums are accumulated in blocks of whole neurons: the block size
    must not change a bit."""
    rng = np.random.default_rng(5)
    ids, times = grid_population(rng, 500, 10.0, 5000.0)
    ref_cv, ref_lv = st.isi_cv(ids, times, 0.0, 5000.0), st.local_variation(ids, times, 0.0, 5000.0)
    for block in (1, 7, 1000):
        monkeypatch.setattr(st, "_ISI_BLOCK", block)
        np.testing.assert_array_equal(st.isi_cv(ids, times, 0.0, 5000.0), ref_cv)
        np.testing.assert_array_equal(st.local_variation(ids, times, 0.0, 5000.0), ref_lv)
