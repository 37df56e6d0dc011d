"""Sequence analyses on synthetic spike trains with known answers."""

import numpy as np

from spikeflow.models.sequence import analysis
from spikeflow.models.sequence.inputs import schedule


def _synthetic(selective: bool, seed=0):
    rng = np.random.default_rng(seed)
    sched = schedule(1.0, 20_000.0, 2, 300.0, (300.0, 500.0), rng)
    t = np.arange(0.0, 20_000.0)
    labels = sched.label_at(t)
    ids, times = [], []
    n = 30  # neurons 0-9 noise, 10-19 pattern 0, 20-29 pattern 1
    for k in range(n):
        group = k // 10 - 1
        rate = np.full(t.size, 20.0)
        if selective:
            rate = np.where(labels == group, 80.0, 2.0)
        spk = t[rng.random(t.size) < rate / 1000.0]
        ids.append(np.full(spk.size, k))
        times.append(spk)
    return np.concatenate(ids), np.concatenate(times), n, sched


def test_selective_network_is_decoded_and_unselective_is_at_chance():
    ids, times, n, sched = _synthetic(True)
    dec = analysis.decode_patterns(ids, times, n, sched, 2, 0.0, 20_000.0)
    assert dec.accuracy > 0.9 and dec.chance < 0.7
    # during the pattern the readout is right; long after the offset it says "noise" (class 0) again
    assert np.nanmean(dec.accuracy_at_delay[(dec.delays >= 60) & (dec.delays < 280)]) > 0.9
    ids, times, n, sched = _synthetic(False)
    dec0 = analysis.decode_patterns(ids, times, n, sched, 2, 0.0, 20_000.0)
    assert abs(dec0.accuracy - dec0.chance) < 0.08


def test_filtered_state_is_the_exponential_filter():
    x = analysis.filtered_state(np.array([0, 0, 1]), np.array([10.0, 30.0, 30.0]), 2, np.array([30.0, 50.0]))
    np.testing.assert_allclose(x[0], [np.exp(-1.0) + 1.0, 1.0])
    np.testing.assert_allclose(x[1], [np.exp(-2.0) + np.exp(-1.0), np.exp(-1.0)])


def test_activation_order_recovers_a_sequence():
    # neuron k fires at 20 k ms after each onset, in shuffled index order
    perm = np.random.default_rng(1).permutation(10)
    onsets = np.array([1000.0, 2000.0, 3000.0])
    ids = np.concatenate([perm for _ in onsets])
    times = np.concatenate([o + 20.0 * np.arange(10) + 5 for o in onsets])
    order = analysis.order_by_activation(ids, times, 11, onsets, 300.0)
    assert list(order[:10]) == list(perm) and order[10] == 10  # silent neuron last
