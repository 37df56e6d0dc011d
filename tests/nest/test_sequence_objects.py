"""The sequence family's object API (Network, InputGenerator, Recorder) on the one driver, with real NEST.

The example of docs/sequence-objects.md at a small size; successive runs continue the same kernel;
plasticity only with train=True; id_list reuse; the config path's spikes bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.config import ConfigError, resolve_run

# the docs' example, small: 6 circuits, 10 input channels, short noise phases and patterns
SMALL = {"grid_shape": (3, 2), "k_min": 2, "k_max": 10, "n_inputs": 10, "n_links": 10}
INPUTS = {
    "r_noise": 5, "r_input": 5, "r_noise_pattern": 2, "use_noise": True, "t_noise_range": [100.0, 200.0],
    "n_patterns": 2, "t_pattern": [100.0] * 2, "pattern_sequences": [[0], [1]],
}


def _binomial_ok(n_spikes: int, n_circuits: int, t_ms: float) -> bool:
    """Every circuit fires R_max = 100 Hz in total (at most one spike per 1 ms step, p = 0.1): within 5 SD."""
    steps = n_circuits * t_ms
    return abs(n_spikes - 0.1 * steps) < 5 * np.sqrt(steps * 0.1 * 0.9)


def test_parameters_refused_with_the_config_sentence():
    """Network checks its parameters exactly as a config's params are checked (no NEST needed)."""
    from spikeflow.models.sequence import Network

    for bad in ({"k_min": 0}, {"k_min": 5, "k_max": 3}, {"lam": -1.0}, {"grid_shape": [3]}, {"n_link": 3}, {"t_noise_range": [5.0, 1.0]}):
        with pytest.raises(ConfigError) as obj:
            Network(**{**SMALL, **bad})
        params = {**SMALL, "grid_shape": list(SMALL["grid_shape"]), **bad}
        with pytest.raises(ConfigError) as cfg:
            resolve_run({"model": "sequence", "params": params, "simulation": {"t_sim": 10000.0}})
        assert str(obj.value) == str(cfg.value), bad
    with pytest.raises(ConfigError, match="simulation.threads"):
        Network(**SMALL, threads=0)


def test_docs_example_small(wta_nest, tmp_path):
    from spikeflow.models.sequence import InputGenerator, Network, Recorder, analysis

    grid = Network(**SMALL, seed=1, threads=2)
    assert grid.n_circuits == 6 and grid.n_neurons == int(grid.sizes.sum())
    assert grid.visualize_circuits(tmp_path / "grid.png").stat().st_size > 0

    inpgen = InputGenerator(grid, **INPUTS)
    recorder = Recorder(grid)

    id_list = recorder.run_network(inpgen=inpgen, t_sim=3000, dt_rec=1000, train=False, title="before")
    before = recorder.result
    some = id_list[:5]
    assert recorder.run_network(inpgen=inpgen, t_sim=4000, dt_rec=1000, train=True, id_list=some) == some
    train = recorder.result
    assert recorder.run_network(inpgen=inpgen, t_sim=3000, train=False, order_neurons=True, id_list=id_list, title="after") == id_list
    after = recorder.result

    # every neuron by default; the returned ids record the same neurons again
    assert id_list == list(range(grid.n_neurons)) and after.ids.tolist() == id_list
    assert set(np.unique(train.spikes.node_ids).tolist()) == set(some)  # only those, and each of them fired
    assert recorder.results == [before, train, after]

    # successive calls continue the same kernel: 0-3000, 3000-7000, 7000-10000 ms
    assert [(r.t_start, r.t_stop) for r in recorder.results] == [(0.0, 3000.0), (3000.0, 7000.0), (7000.0, 10000.0)]
    assert grid.t_ms == 10000.0
    for r in recorder.results:
        assert r.spikes.n_spikes > 0 and r.spikes.times.min() > r.t_start and r.spikes.times.max() <= r.t_stop
        assert r.inputs.times.min() > r.t_start and r.inputs.times.max() <= r.t_stop
    assert before.spikes.times.max() <= 3000.0 < train.spikes.times.min()
    assert _binomial_ok(before.spikes.n_spikes, 6, 3000.0) and _binomial_ok(after.spikes.n_spikes, 6, 3000.0)
    # 10 channels at >= 5 Hz (7 Hz during patterns) over 10 s; the input draws join without gaps
    n_in = sum(r.inputs.n_spikes for r in recorder.results)
    assert 10 * 10 * 5 * 0.8 < n_in < 10 * 10 * 7 * 1.2
    assert inpgen.t_end == 10001.0  # drawn one step past the last run: the next run continues seamlessly

    # plasticity on iff train: the weights of every recorded neuron are unchanged by run 1, changed by run 2
    assert before.weight_times.tolist() == [0.0, 1000.0, 2000.0, 3000.0]
    assert train.weight_times.tolist() == [3000.0, 4000.0, 5000.0, 6000.0, 7000.0]
    assert sorted(before.weights) == id_list and sorted(train.weights) == some
    for i in id_list:
        w = before.weights[i]
        assert w.shape[0] == 4 and np.array_equal(w[0], w[-1]) and np.all(w == 0.0)  # weights start at 0
        assert np.any(before.epsps[i] > 0.0)
        assert (before.weight_sources[i] < 0).sum() == 10  # every input channel projects to every neuron
    for i in some:
        assert np.array_equal(train.weights[i][0], before.weights[i][-1])
        assert np.any(train.weights[i][-1] != train.weights[i][0])
    assert after.weight_times.size == 0 and after.weights == {}

    # [[0], [1]] alternates the two patterns, across runs too; each presentation lasts 100 ms
    ids = np.concatenate([r.pattern_ids for r in recorder.results])
    assert ids.size > 20 and np.array_equal(ids, np.arange(ids.size) % 2)
    assert np.all(np.concatenate([r.durations for r in recorder.results]) == 100.0)
    assert np.array_equal(np.concatenate([r.onsets for r in recorder.results]), inpgen.schedule.onsets)

    # order_neurons: the recorded ids by mean activation time within the first pattern presented
    assert sorted(after.order.tolist()) == id_list and before.order is None
    assert np.array_equal(after.order, after.order_by(int(after.pattern_ids[0])))
    assert not np.array_equal(after.order_by(0), after.order_by(1))  # each pattern its own order
    assert after.plot_raster(tmp_path / "after.png").stat().st_size > 0

    # the family's decoding reads the results as they are
    for r in (before, after):
        dec = analysis.decode_patterns(r.spikes.node_ids, r.spikes.times, grid.n_neurons, inpgen.schedule, inpgen.n_patterns, r.t_start, r.t_stop)
        assert 0.0 <= dec.accuracy <= 1.0 and dec.n_test == 149


def test_same_spikes_as_the_config_path(wta_nest):
    """Input drawn up front, warm-up and three calls test/train/test == spikeflow.api.run of the config, bit for bit."""
    from spikeflow import api
    from spikeflow.models.sequence import InputGenerator, Network, Recorder

    params = {**SMALL, "grid_shape": [3, 2], "t_test": 500.0, "dt_rec": 250.0, "n_record_weights": 3}
    grid = Network(**params, seed=4, threads=2)
    inpgen = InputGenerator(grid)  # the network's (the config's) input parameters and seed
    inpgen.generate(2200.0)  # the config path draws the run's whole input at once (t_presim + t_sim)
    recorder = Recorder(grid)
    recorder.run_network(inpgen=inpgen, t_sim=200.0, train=False)  # the warm-up (not recorded by the config)
    recorder.run_network(inpgen=inpgen, t_sim=500.0, train=False)
    recorder.run_network(inpgen=inpgen, t_sim=1000.0, train=True, dt_rec=250.0)
    recorder.run_network(inpgen=inpgen, t_sim=500.0, train=False)
    runs = recorder.results[1:]

    result = api.run({
        "model": "sequence",
        "params": params,
        "simulation": {"t_presim": 200.0, "t_sim": 2000.0, "resolution": 1.0, "threads": 2, "seed": 4},
    })
    assert result.metadata["record_start_ms"] == 200.0 and runs[0].t_start == 200.0
    for name, attr in (("wta", "spikes"), ("inputs", "inputs")):
        ref = result.spikes[name].sorted_by_time()
        ids = np.concatenate([getattr(r, attr).node_ids for r in runs])
        times = np.concatenate([getattr(r, attr).times for r in runs])
        assert ref.n_spikes > 100 and np.array_equal(ref.node_ids, ids) and np.array_equal(ref.times, times), name
    seq = result.extra["sequence"]
    assert np.array_equal(seq["onsets"], inpgen.schedule.onsets) and np.array_equal(seq["pattern_ids"], inpgen.schedule.pattern_ids)
    assert np.array_equal(seq["weight_times"], runs[1].weight_times)
    for i in range(3):
        assert np.array_equal(seq[f"weights_{i}"], runs[1].weights[i])
        assert np.array_equal(seq[f"epsps_{i}"], runs[1].epsps[i])
        assert np.array_equal(seq[f"weight_sources_{i}"], runs[1].weight_sources[i])


def test_inputs_and_refusals(wta_nest):
    from spikeflow.driver import SimulationError
    from spikeflow.models.sequence import InputGenerator, Network, Recorder

    grid = Network(**SMALL, seed=2)
    with pytest.raises(ConfigError, match="different lengths"):
        InputGenerator(grid, n_patterns=2, t_pattern=[100.0, 200.0])
    with pytest.raises(ConfigError, match="names pattern 2"):
        InputGenerator(grid, n_patterns=2, pattern_sequences=[[0], [2]])
    with pytest.raises(ConfigError, match="params.r_noise"):
        InputGenerator(grid, r_noise=-1.0)
    with pytest.raises(ConfigError, match="2 lengths but n_patterns is 3"):
        InputGenerator(grid, n_patterns=3, t_pattern=[100.0, 100.0])

    # patterns of their own lengths, presented as one sequence (each after a noise phase)
    inpgen = InputGenerator(grid, n_patterns=2, t_pattern=[100.0, 200.0], pattern_sequences=[[0, 1]], t_noise_range=[100.0, 100.0], use_noise=False)
    recorder = Recorder(grid)
    with pytest.raises(ConfigError, match="not a neuron id"):
        recorder.run_network(inpgen=inpgen, t_sim=100.0, id_list=[grid.n_neurons])
    with pytest.raises(ConfigError, match="multiple of the resolution"):
        recorder.run_network(inpgen=inpgen, t_sim=100.5)
    recorder.run_network(inpgen=inpgen, t_sim=2000.0, train=False)
    r = recorder.result
    # noise 100 ms, pattern 0 (100 ms), noise 100 ms, pattern 1 (200 ms), ... from the first step (1 ms) on;
    # the last one (1801-2001, spikes up to 2000) fits: the input is drawn one step past the run's end
    assert r.onsets.tolist() == [101.0, 301.0, 601.0, 801.0, 1101.0, 1301.0, 1601.0, 1801.0]
    assert r.pattern_ids.tolist() == [0, 1] * 4 and r.durations.tolist() == [100.0, 200.0] * 4
    # no noise: every input spike (parrot, 1 ms delay) comes from a pattern
    label = inpgen.schedule.label_at(r.inputs.times - 1.0)
    assert r.inputs.n_spikes > 0 and np.all(label >= 0)

    # no input at all: the network keeps firing at R_max, the inputs are silent
    recorder.run_network(inpgen=None, t_sim=1000.0, train=False)
    assert recorder.result.inputs.n_spikes == 0 and _binomial_ok(recorder.result.spikes.n_spikes, 6, 1000.0)

    # a newer network resets the kernel: the old one is refused in one sentence
    newer = Network(**SMALL, seed=2)
    with pytest.raises(SimulationError, match="reset since it was built"):
        recorder.run_network(inpgen=inpgen, t_sim=100.0)
    with pytest.raises(ConfigError, match="another Network"):
        Recorder(newer).run_network(inpgen=inpgen, t_sim=100.0)


MPI_SCRIPT = """
import sys
import numpy as np
from spikeflow.models.sequence import InputGenerator, Network, Recorder
ranks, threads, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
grid = Network(grid_shape=(3, 2), n_inputs=10, n_links=10, seed=3, threads=threads, ranks=ranks)
inpgen = InputGenerator(grid, n_patterns=2, t_pattern=[100.0] * 2, pattern_sequences=[[0], [1]], t_noise_range=[100.0, 200.0])
recorder = Recorder(grid)
ids = recorder.run_network(inpgen=inpgen, t_sim=1000.0, train=True, dt_rec=500.0)
recorder.run_network(inpgen=inpgen, t_sim=1000.0, train=False, id_list=ids[::2])
if grid.rank == 0:
    a, b = recorder.results
    np.savez(out, t=np.concatenate([a.spikes.times, b.spikes.times]), i=np.concatenate([a.spikes.node_ids, b.spikes.node_ids]),
             w=np.concatenate([a.weights[k] for k in sorted(a.weights)], axis=1))
"""


def test_two_ranks_equal_two_threads(wta_nest, tmp_path):
    """The object API under 2 MPI ranks x 1 thread == 1 rank x 2 threads: spikes and weights, gathered on rank 0."""
    from tests.nest.mpi_vs_threads import run_both_ways

    run_both_ways(wta_nest, tmp_path, MPI_SCRIPT, tmp_path / "mpi.npz", tmp_path / "thr.npz")
    a, b = np.load(tmp_path / "mpi.npz"), np.load(tmp_path / "thr.npz")
    assert a["t"].size > 500 and a["w"].shape[0] == 3
    for key in ("t", "i", "w"):
        assert np.array_equal(a[key], b[key]), key
