"""The sequence-learning driver on a tiny grid: phases, outputs, rates, determinism."""

from __future__ import annotations

import numpy as np

from spikeflow.config import resolve_run
from spikeflow.io.spikes import read_spikes




def _cfg(threads=2, seed=4):
    params = {"grid_shape": [3, 3], "n_links": 20, "n_inputs": 10, "t_test": 500.0, "dt_rec": 250.0, "n_record_weights": 3}
    sim = {"t_presim": 0.0, "t_sim": 2000.0, "resolution": 1.0, "threads": threads, "seed": seed}
    return resolve_run({"model": "sequence", "params": params, "simulation": sim}).config


def test_tiny_run_writes_spikes_inputs_and_weights(wta_nest, tmp_path):
    from spikeflow.driver import simulate as run

    out = run(_cfg(), tmp_path / "spikes.h5", run_id="t", log=lambda m: None)
    data = read_spikes(out)
    wta, ins = data.populations["wta"], data.populations["inputs"]
    meta = data.metadata
    n_circuits = 9
    # each circuit fires R_max = 100 Hz in total: 9 circuits x 2 s x 100 Hz = 1800 spikes (binomial sd ~ 40)
    assert abs(wta.n_spikes - 1800) < 4 * np.sqrt(18000 * 0.1 * 0.9)
    assert wta.node_ids.max() < meta["populations"][0]["size"]
    assert ins.n_spikes > 10 * 2 * 4  # >= 4 Hz per channel
    assert [p["name"] for p in meta["protocol"]] == ["warm-up", "test_before", "train", "test_after"]
    assert meta["record_start_ms"] == 0.0 and [p["plasticity"] for p in meta["protocol"]] == [False, False, True, False]
    side = np.load(tmp_path / "sequence.npz")
    assert side["sizes"].size == n_circuits and side["links"].shape == (20, 2)
    assert np.all(np.diff(side["weight_times"]) == 250.0) and side["weight_times"][0] == 500.0
    w_keys = sorted(k for k in side.files if k.startswith("weights_"))
    assert len(w_keys) == 3
    w = side[w_keys[0]]
    assert w.shape[0] == 5 and np.any(w[-1] != w[0])  # weights change during training
    y = side[w_keys[0].replace("weights_", "epsps_")]  # the afferents' EPSPs at the same times
    assert y.shape == w.shape and np.all(y >= 0.0) and np.any(y > 0.0)
    n_in = (side[w_keys[0].replace("weights_", "weight_sources_")] < 0).sum()
    assert n_in == 10  # every input projects to every neuron
    # every presentation is known: onsets within the run
    assert side["onsets"].size > 0 and side["onsets"].max() < 2000.0


def test_same_seed_same_spikes(wta_nest, tmp_path):
    from spikeflow.driver import simulate as run

    a = read_spikes(run(_cfg(), tmp_path / "a" / "spikes.h5", log=lambda m: None)).populations["wta"]
    b = read_spikes(run(_cfg(), tmp_path / "b" / "spikes.h5", log=lambda m: None)).populations["wta"]
    assert np.array_equal(a.times, b.times) and np.array_equal(a.node_ids, b.node_ids)


MPI_SCRIPT = """
import sys
from spikeflow.config import resolve_run
from spikeflow.driver import simulate as run
ranks, threads, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
params = {"grid_shape": [3, 3], "n_links": 20, "n_inputs": 10, "t_test": 500.0, "dt_rec": 250.0, "n_record_weights": 3}
sim = {"t_presim": 0.0, "t_sim": 2000.0, "resolution": 1.0, "threads": threads, "seed": 4, "ranks": ranks}
run(resolve_run({"model": "sequence", "params": params, "simulation": sim}).config, out, log=lambda m: None)
"""


def test_two_ranks_equal_two_threads(wta_nest, tmp_path):
    """The same 2 virtual processes as 2 MPI ranks x 1 thread and 1 rank x 2 threads: same spikes and weights."""
    from tests.nest.mpi_vs_threads import run_both_ways

    run_both_ways(wta_nest, tmp_path, MPI_SCRIPT, tmp_path / "mpi" / "spikes.h5", tmp_path / "thr" / "spikes.h5")
    a = read_spikes(tmp_path / "mpi" / "spikes.h5").populations["wta"]
    b = read_spikes(tmp_path / "thr" / "spikes.h5").populations["wta"]
    assert a.n_spikes > 1000
    assert np.array_equal(a.times, b.times) and np.array_equal(a.node_ids, b.node_ids)
    sa, sb = np.load(tmp_path / "mpi" / "sequence.npz"), np.load(tmp_path / "thr" / "sequence.npz")
    assert sorted(sa.files) == sorted(sb.files)
    for key in sa.files:
        assert np.array_equal(sa[key], sb[key]), key


def test_sampled_spike_recording(wta_nest, tmp_path):
    from spikeflow.driver import simulate as run

    cfg = _cfg()
    cfg["params"]["n_record_spikes"] = 10
    data = read_spikes(run(cfg, tmp_path / "spikes.h5", run_id="s", log=lambda m: None))
    recorded = data.metadata["recorded_neurons"]
    assert len(recorded) == 10
    assert set(np.unique(data.populations["wta"].node_ids).tolist()) <= set(recorded)
    assert data.populations["wta"].n_spikes > 0
