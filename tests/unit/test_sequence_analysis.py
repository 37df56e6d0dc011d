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


def _synthetic_run(tmp_path):
    """A run's spikes.h5 and sequence.npz: unselective in test_before, selective in test_after."""
    from spikeflow.io.spikes import PopulationSpikes, write_spikes

    ids_u, times_u, n, sched = _synthetic(False)
    ids_s, times_s, _, _ = _synthetic(True)
    before, after = times_u < 10_000.0, times_s >= 10_000.0
    ids = np.concatenate([ids_u[before], ids_s[after]]).astype(np.uint64)
    times = np.concatenate([times_u[before], times_s[after]])
    meta = {"run_id": "syn", "model": "sequence", "t_presim_ms": 0.0, "t_sim_ms": 20_000.0,
            "populations": [{"name": "wta", "size": n}], "config": {"params": {"n_patterns": 2, "grid_shape": [1, 3]}}}
    spikes = write_spikes(tmp_path / "spikes.h5", [PopulationSpikes("wta", n, ids, times)], meta)
    side = {"onsets": sched.onsets, "pattern_ids": sched.pattern_ids, "t_pattern": np.float64(sched.t_pattern),
            "phase_names": np.array(["test_before", "test_after"]), "phase_bounds": np.array([[0.0, 10_000.0], [10_000.0, 20_000.0]]),
            "sizes": np.array([10, 10, 10]), "weight_times": np.array([])}
    np.savez(tmp_path / "sequence.npz", **side)
    return spikes, ids, times, n, side


def test_run_analysis_decodes_each_test_phase(tmp_path):
    _, ids, times, n, side = _synthetic_run(tmp_path)
    result = analysis.analyze_run(ids, times, n, 2, side)
    assert [p[0] for p in result.phases] == ["test_before", "test_after"] and set(result.orders) == set(result.decoding)
    assert result.decoding["test_after"]["accuracy"] > 0.9
    before = result.decoding["test_before"]
    assert abs(before["accuracy"] - before["chance"]) < 0.1
    assert sorted(result.orders["test_after"]) == list(range(n))


def test_sequence_task_writes_decoding_and_figures(tmp_path):
    import json

    from spikeflow.tasks import sequence as sequence_task

    spikes, *_ = _synthetic_run(tmp_path)
    decoding = sequence_task.run(spikes, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == set(sequence_task.OUTPUTS.values())
    assert json.loads((tmp_path / "out" / "decoding.json").read_text()) == json.loads(json.dumps(decoding))
    for name in ("grid.png", "raster_test_after.png", "weights.png", "decoding.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
