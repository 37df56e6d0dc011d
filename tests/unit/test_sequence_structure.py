"""Sequence family, pure parts: parameters, circuit sizes, link rule, VP layout, inputs."""

import numpy as np
import pytest

from spikeflow.models.sequence.params import (
    SequenceParams,
    derive,
    draw_links,
    grid_positions,
    neuron_slots,
    vp_layout,
)
from spikeflow.models.sequence import inputs


def test_defaults_are_the_original_experiment():
    p = SequenceParams()
    assert p.grid_shape == (10, 5) and (p.k_min, p.k_max) == (2, 10)
    assert (p.n_inputs, p.n_links, p.lam) == (100, 1000, 0.088)
    assert (p.R_max, p.tau_rise, p.tau_decay, p.eta) == (100.0, 2.0, 20.0, 0.05)
    assert (p.U, p.tau_d, p.tau_f) == (0.5, 110.0, 5.0)


def test_bad_parameters_are_one_sentence_errors():
    with pytest.raises(ValueError, match="k_min"):
        SequenceParams.from_config({"k_min": 5, "k_max": 3})
    with pytest.raises(ValueError, match="unknown sequence parameter"):
        SequenceParams.from_config({"lambda_": 1})


def test_derived_network_sizes_and_unique_links():
    d = derive(SequenceParams(), seed=1)
    assert d.n_circuits == 50
    assert d.sizes.min() >= 2 and d.sizes.max() <= 10
    assert 200 < d.n_neurons < 400  # ~ 50 * 6 = 300
    assert d.links.shape == (1000, 2)
    assert len({tuple(l) for l in d.links}) == 1000  # unique
    assert np.all(d.links[:, 0] != d.links[:, 1])  # no self links
    assert d.n_recurrent_synapses == int((d.sizes[d.links[:, 0]] * d.sizes[d.links[:, 1]]).sum())
    again = derive(SequenceParams(), seed=1)
    assert np.array_equal(again.links, d.links) and np.array_equal(again.sizes, d.sizes)


def test_link_distances_follow_the_exponential_rule():
    """Short links are preferred: the mean link distance is below the mean pair distance."""
    pos = grid_positions((10, 5))
    rng = np.random.default_rng(0)
    links = draw_links(pos, 0.5, 300, rng)  # strongly local
    d_links = np.linalg.norm(pos[links[:, 0]] - pos[links[:, 1]], axis=1)
    diff = pos[:, None] - pos[None]
    d_all = np.linalg.norm(diff, axis=-1)[~np.eye(50, dtype=bool)]
    assert d_links.mean() < 0.7 * d_all.mean()
    # capped at n (n - 1)
    assert len(draw_links(grid_positions((2, 2)), 0.088, 1000, rng)) == 12


def test_vp_layout_puts_each_circuit_on_one_vp():
    sizes = np.array([3, 5, 2, 7, 4])
    for n_vp in (1, 2, 3, 4):
        for first in (1, 6, 11):
            vp_of, vp_row = vp_layout(sizes, n_vp)
            slots, n_slots = neuron_slots(vp_row, n_vp, first)
            assert len(np.unique(slots)) == sizes.sum() and slots.max() < n_slots
            node_vp = (first + slots) % n_vp
            circuit = np.repeat(np.arange(sizes.size), sizes)
            for c in range(sizes.size):
                assert np.all(node_vp[circuit == c] == vp_of[c])
            assert n_slots - sizes.sum() < n_vp * sizes.max()  # padding stays small


def test_schedule_and_inputs():
    rng = np.random.default_rng(4)
    sched = inputs.schedule(1.0, 20_000.0, 2, 300.0, (300.0, 500.0), rng)
    gaps = sched.onsets[1:] - (sched.onsets[:-1] + 300.0)
    assert gaps.min() >= 300.0 and gaps.max() <= 500.0
    assert set(sched.pattern_ids) == {0, 1}
    pats = inputs.frozen_patterns(2, 50, 300.0, 5.0, rng)
    spikes = inputs.input_spikes(sched, pats, 1.0, 5.0, 2.0, rng)
    labels = sched.label_at(np.arange(0.0, 20_000.0))
    assert labels[int(sched.onsets[0]) + 10] == sched.pattern_ids[0]
    assert labels[int(sched.onsets[0]) - 10] == -1
    # rates: ~5 Hz in noise, ~7 Hz (5 + 2, minus coincidences) in patterns
    allspk = np.concatenate(spikes)
    lab = sched.label_at(allspk)
    t_pat = (labels >= 0).sum() / 1000.0
    t_noise = (labels < 0).sum() / 1000.0
    assert 4.5 < (lab < 0).sum() / 50 / t_noise < 5.5
    assert 6.2 < (lab >= 0).sum() / 50 / t_pat < 7.5
    # frozen: the pattern's spikes recur at every presentation of that pattern
    on = sched.onsets[sched.pattern_ids == 0][:2]
    for t0 in on:
        assert set(pats[0][0] + t0) <= set(spikes[0])
