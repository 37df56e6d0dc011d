"""Attractor analysis (spikes -> cluster rates -> active clusters -> states -> transitions)
on synthetic data with planted states; no NEST.

The planted run: 6 E clusters of 400 neurons, Poisson spikes at 40 Hz in the active and
3 Hz in the inactive clusters, 8 segments of 100-400 ms after a 100 ms presimulation. The
clusters are active 54 % of the time on average, so the reference threshold rule stops
after its first pass (per-cluster time means, 18-27 Hz); see
test_reference_rule_on_sparse_activity for what it does otherwise.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from spikeflow.io.attractors import read_attractors, write_attractors
from spikeflow.models.clustered import attractors as at
from spikeflow.tasks import attractors as attractors_task
from spikeflow.io.tables import to_json_value
from spikeflow.io.spikes import PopulationSpikes, SpikeData, read_spikes, write_spikes
from tests.unit.synthetic_runs import PNG_MAGIC, strict_json

Q = 6
SIZE = 400
T_PRESIM = 100.0
HIGH_HZ, LOW_HZ = 40.0, 3.0
#: (active clusters, duration in ms) after the presimulation.
PLANTED = [
    ((0, 1, 2), 300.0),
    ((3, 4, 5), 250.0),
    ((0, 1, 3, 4), 400.0),
    ((), 100.0),
    ((1, 2, 5), 200.0),
    ((0, 2, 3, 5), 350.0),
    ((3, 4, 5), 150.0),
    ((0, 1, 2), 250.0),
]
T_SIM = sum(d for _, d in PLANTED)
#: A 5 ms burst of cluster 4 in the middle of the (1, 2, 5) segment (absolute ms).
BLIP = (4, T_PRESIM + 300 + 250 + 400 + 100 + 100, 5.0)
#: Boundaries of the planted segments (absolute ms).
EDGES = T_PRESIM + np.concatenate(([0.0], np.cumsum([d for _, d in PLANTED])))


def planted_identities():
    """Planted states in order of first appearance and the planted state sequence."""
    index = {}
    sequence = [index.setdefault(active, len(index)) for active, _ in PLANTED]
    return list(index), sequence


def make_run(path, seed=0, blip=None, j_plus=(6.0, 1.0), background=True):
    """Write a planted run as a spikes file with the clustered model's metadata."""
    rng = np.random.default_rng(seed)
    dt = 0.1
    n_steps = round((T_PRESIM + T_SIM) / dt)
    lam = np.full((Q, n_steps), LOW_HZ)
    lam[list(PLANTED[0][0]), : round(T_PRESIM / dt)] = HIGH_HZ
    for (active, _), start, stop in zip(PLANTED, EDGES[:-1], EDGES[1:]):
        lam[list(active), round(start / dt) : round(stop / dt)] = HIGH_HZ
    if blip is not None:
        cluster, start, duration = blip
        lam[cluster, round(start / dt) : round((start + duration) / dt)] = HIGH_HZ
    pops = []

    def population(name, size, rate_per_step):
        counts = rng.poisson(rate_per_step * size * dt / 1000.0)
        times = np.repeat(np.arange(n_steps) * dt, counts) + rng.uniform(0.0, dt, counts.sum())
        ids = rng.integers(0, size, times.size).astype(np.uint64)
        return PopulationSpikes(name, size, ids, times)

    for c in range(Q):
        pops.append(population(f"E{c}", SIZE, lam[c]))
    if background:
        pops.append(population("Ebg", 100, np.full(n_steps, 5.0)))
    pops += [population(f"I{c}", 100, np.full(n_steps, 10.0)) for c in range(Q)]
    if background:
        pops.append(population("Ibg", 50, np.full(n_steps, 10.0)))
    names = [p.name for p in pops]
    meta = {
        "run_id": f"seed{seed}",
        "model": "clustered",
        "study": "planted",
        "seed": seed,
        "t_presim_ms": T_PRESIM,
        "t_sim_ms": T_SIM,
        "populations": [{"name": p.name, "size": p.n_nodes} for p in pops],
        "model_description": {
            "clusters": {
                "n_clusters": Q,
                "e_clusters": [f"E{c}" for c in range(Q)],
                "i_clusters": [f"I{c}" for c in range(Q)],
                "background": [n for n in names if n.endswith("bg")],
            }
        },
        "config": {
            "study": "planted",
            "model": "clustered",
            "params": {"j_potentiated": list(j_plus)},
            "simulation": {"seed": seed, "t_presim": T_PRESIM, "t_sim": T_SIM},
        },
    }
    return write_spikes(path, pops, meta)


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("planted") / "spikes.h5")


@pytest.fixture(scope="module")
def planted_data(planted_file):
    return read_spikes(planted_file)


@pytest.fixture(scope="module")
def blip_data(tmp_path_factory):
    return read_spikes(make_run(tmp_path_factory.mktemp("blip") / "spikes.h5", seed=3, blip=BLIP))


# ------------------------------------------------------------------------------------------
# rates and thresholds


def test_population_rates_are_counts_per_bin_and_neuron_then_gaussian():
    pop = PopulationSpikes("E0", 2, np.array([0, 1, 0, 1], np.uint64), np.array([0.2, 0.7, 3.5, 5.2]))
    data = SpikeData({"E0": pop}, {"t_presim_ms": 0.0, "t_sim_ms": 5.5})
    times, rates = at.population_rates(data, ["E0"], 0.0, 5.5, bin_ms=1.0, smoothing_ms=0.0)
    np.testing.assert_array_equal(times, [0.0, 1.0, 2.0, 3.0, 4.0])  # incomplete last bin dropped
    np.testing.assert_allclose(rates, [[1000.0, 0.0, 0.0, 500.0, 0.0]])  # 2 spikes / (2 neurons * 1 ms)
    _, smooth = at.population_rates(data, ["E0"], 0.0, 5.5, bin_ms=1.0, smoothing_ms=2.0)
    np.testing.assert_allclose(smooth, gaussian_filter1d(rates, 2.0, axis=1, mode="reflect"))


def test_a_smoothing_far_longer_than_the_window_is_refused_before_any_memory_is_taken():
    pop = PopulationSpikes("E0", 2, np.array([0, 1], np.uint64), np.array([0.2, 0.7]))
    data = SpikeData({"E0": pop}, {"t_presim_ms": 0.0, "t_sim_ms": 5.5})
    with pytest.raises(ValueError, match=r"smoothing_ms 1e\+09 is too long for the analysis window of 5 ms"):
        at.population_rates(data, ["E0"], 0.0, 5.5, bin_ms=1.0, smoothing_ms=1e9)  # a kernel of 8e9 taps
    _, ok = at.population_rates(data, ["E0"], 0.0, 5.5, bin_ms=1.0, smoothing_ms=4.0)  # 16 bins to each side of 5: mirrored, allowed
    assert np.all(np.isfinite(ok)) and ok.sum() > 0


def test_planted_rates_match_the_planted_levels(planted_data):
    times, rates = at.population_rates(planted_data, ["E0", "E3"], T_PRESIM, T_PRESIM + T_SIM, 0.5, 10.0)
    assert times.shape == (4000,) and times[0] == T_PRESIM and times[-1] == T_PRESIM + T_SIM - 0.5
    inside = (times >= 150) & (times < 350)  # E0 active, E3 inactive, far from edges
    assert abs(rates[0, inside].mean() - HIGH_HZ) < 1.0
    assert abs(rates[1, inside].mean() - LOW_HZ) < 0.3


def test_reference_threshold_rule_step_by_step():
    rates = np.array([[0.0, 0.0, 10.0, 50.0], [0.0, 30.0, 30.0, 0.0]])
    # Per-population means 15, 15 -> active {50} and {30, 30}; their mean 36.67 differs
    # from 15 by >= 20 Hz -> global threshold 36.67 -> active {50} only; the next proposal
    # (50) is within 20 Hz of 36.67, so it is not applied.
    active, theta = at.active_clusters(rates, return_thresholds=True)
    np.testing.assert_allclose(theta, [110 / 3, 110 / 3])
    np.testing.assert_array_equal(active, [[False, False, False, True], [False, False, False, False]])
    # Converged at once: the per-population means stay the thresholds.
    rates = np.array([[0.0, 40.0, 40.0, 0.0], [40.0, 0.0, 40.0, 40.0]])
    active, theta = at.active_clusters(rates, return_thresholds=True)
    np.testing.assert_allclose(theta, [20.0, 30.0])
    np.testing.assert_array_equal(active, rates > 20.0)
    # With max_iter=0 only the first pass is done.
    _, theta = at.active_clusters(np.array([[0.0, 0.0, 10.0, 50.0]]), max_iter=0, return_thresholds=True)
    np.testing.assert_allclose(theta, [15.0])


def test_midpoint_threshold_lies_between_the_two_levels():
    rates = np.full((4, 100), LOW_HZ)
    rates[0, :10] = HIGH_HZ
    rates[2, 50:] = HIGH_HZ
    active, theta = at.active_clusters(rates, method="midpoint", return_thresholds=True)
    np.testing.assert_allclose(theta, (HIGH_HZ + LOW_HZ) / 2)
    np.testing.assert_array_equal(active, rates == HIGH_HZ)


def test_reference_rule_on_sparse_activity():
    """Documented behaviour of the reference rule: with clusters active 10 % of the time the
    first step moves the threshold by more than 20 Hz, so it is set to the mean rate of
    the active bins; noise-free two-level rates then leave nothing above it."""
    rates = np.full((6, 1000), LOW_HZ)
    for c in range(6):
        rates[c, 100 * c : 100 * c + 100] = HIGH_HZ
    active, theta = at.active_clusters(rates, return_thresholds=True)
    np.testing.assert_allclose(theta, HIGH_HZ)
    assert not active.any()
    np.testing.assert_array_equal(at.active_clusters(rates, method="midpoint"), rates == HIGH_HZ)


def test_k_active_distribution():
    active = np.array([[1, 1, 0, 0, 1], [1, 0, 0, 1, 1], [1, 0, 0, 0, 1]], dtype=bool)
    np.testing.assert_allclose(at.k_active_distribution(active), [0.2, 0.4, 0.0, 0.4])


# ------------------------------------------------------------------------------------------
# states and transitions on an exact activity matrix


def _activity(pieces, n_pop=3):
    """Activity matrix from (active populations, number of bins) pieces."""
    columns = []
    for active, n in pieces:
        column = np.zeros((n_pop, 1), dtype=bool)
        column[list(active)] = True
        columns.append(np.repeat(column, n, axis=1))
    return np.concatenate(columns, axis=1)


def test_states_and_transitions_exact():
    pieces = [
        ((0,), 200),  # 100 ms
        ((0, 2), 10),  # 5 ms blip inside the state: dropped, the state is split
        ((0,), 200),  # 100 ms
        ((), 2),  # 1 ms glitch at a transition: dropped
        ((1, 2), 400),  # 200 ms
        ((), 40),  # exactly 20 ms: kept
        ((0,), 40),  # 20 ms: kept
        ((1,), 38),  # 19 ms, last: dropped
    ]
    active = _activity(pieces)
    times = 1000.0 + 0.5 * np.arange(active.shape[1])
    seq = at.states(active, times, min_state_ms=20.0)
    assert seq.bin_ms == 0.5 and seq.n_bins == 930 and seq.analysed_ms == 465.0
    np.testing.assert_array_equal(seq.seg_start, [0, 200, 210, 410, 412, 812, 852, 892])
    np.testing.assert_array_equal(seq.seg_state, [0, -1, 0, -1, 1, 2, 0, -1])
    assert seq.identities == ((0,), (1, 2), ())
    np.testing.assert_array_equal(seq.sequence, [0, 0, 1, 2, 0])
    np.testing.assert_allclose(seq.starts_ms, [1000.0, 1105.0, 1206.0, 1406.0, 1426.0])
    np.testing.assert_allclose(seq.durations_ms, [100.0, 100.0, 200.0, 20.0, 20.0])
    np.testing.assert_allclose(seq.dwell_times_ms(), [220.0 / 3, 200.0, 20.0])
    np.testing.assert_allclose(seq.occupancy(), np.array([220.0, 200.0, 20.0]) / 465.0)
    assert seq.dropped_fraction == pytest.approx(25.0 / 465.0)
    assert seq.occupancy().sum() + seq.dropped_fraction == pytest.approx(1.0, abs=1e-12)

    counts, occurrences, p = at.transition_matrix(seq)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(occurrences, [3, 1, 1])
    np.testing.assert_allclose(p, [[1 / 3, 1 / 3, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(p.sum(axis=1), [2 / 3, 1.0, 1.0])  # the last (0,) has no successor

    np.testing.assert_allclose(at.k_active_distribution(active), np.array([42, 478, 410, 0]) / 930)
    # min_state_ms = 0 keeps every segment
    assert at.states(active, times, min_state_ms=0.0).kept.all()


def test_state_mean_rates():
    active = _activity([((0,), 50), ((1,), 50)], n_pop=2)
    rates = np.where(active, 40.0, 2.0)
    rates[0, :10] = 50.0
    seq = at.states(active, 0.5 * np.arange(100), 20.0, rates=rates)
    np.testing.assert_allclose(seq.mean_rates_hz, [[42.0, 2.0], [2.0, 40.0]])
    rows = seq.table(["E0", "E1"])
    assert rows[0]["label"] == "E0" and rows[0]["mean_rate_active_hz"] == pytest.approx(42.0)
    assert rows[1]["mean_rate_inactive_hz"] == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------
# the planted run end to end


@pytest.mark.parametrize("method, tol_ms", [("midpoint", 4.0), ("reference", 10.0)])
def test_planted_states_are_recovered(planted_data, method, tol_ms):
    """Default rates (0.5 ms bins, 10 ms smoothing, states >= 20 ms). Edges are within
    4 ms with the common midpoint threshold; the reference rule's per-cluster thresholds
    (18-27 Hz) cross a 10 ms-smoothed edge up to ~5 ms early or late."""
    result = at.compute_attractors(planted_data, threshold_method=method)
    assert result.populations == [f"E{c}" for c in range(Q)]
    identities, sequence = planted_identities()
    seq = result.sequence
    assert list(seq.identities) == identities
    np.testing.assert_array_equal(seq.sequence, sequence)
    np.testing.assert_allclose(seq.starts_ms, EDGES[:-1], atol=tol_ms)
    np.testing.assert_allclose(seq.ends_ms, EDGES[1:], atol=tol_ms)
    planted_ms = np.array([d for _, d in PLANTED])
    np.testing.assert_allclose(seq.durations_ms, planted_ms, atol=2 * tol_ms)

    counts, occurrences, p = result.transitions()
    expected = np.zeros((6, 6), dtype=int)
    for a, b in itertools.pairwise(sequence):
        expected[a, b] += 1
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(occurrences, [2, 2, 1, 1, 1, 1])
    np.testing.assert_allclose(p[0], [0, 0.5, 0, 0, 0, 0])  # (0,1,2) twice, once last
    np.testing.assert_allclose(p[1], [0.5, 0, 0.5, 0, 0, 0])
    np.testing.assert_allclose(p.sum(axis=1), [0.5, 1, 1, 1, 1, 1])

    summary = result.summary()
    assert summary["n_states"] == 6 and summary["n_transitions"] == 7 and summary["n_self_transitions"] == 0
    assert summary["transitions_per_s"] == pytest.approx(7 / 2.0)
    assert summary["mean_dwell_ms"] == pytest.approx(250.0, abs=tol_ms)
    occupancy = np.array(summary["occupancy"])
    planted_occupancy = np.array([550, 400, 400, 100, 200, 350]) / T_SIM
    np.testing.assert_allclose(occupancy, planted_occupancy, atol=2 * tol_ms / 1000)
    assert occupancy.sum() + summary["dropped_fraction"] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(summary["dwell_times_ms"], [275, 200, 400, 100, 200, 350], atol=2 * tol_ms)
    # time with k active clusters: 5 % none, 57.5 % three, 37.5 % four (transitions aside)
    k = np.array(summary["k_active_fraction"])
    assert k.shape == (Q + 1,) and k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k[[0, 3, 4]], [0.05, 0.575, 0.375], atol=0.012)
    assert summary["fraction_no_active"] == pytest.approx(0.05, abs=0.005)
    assert summary["mean_active_count"] == pytest.approx(3.225, abs=0.03)
    assert summary["config"]["params"]["j_potentiated"] == [6.0, 1.0]


@pytest.mark.parametrize("method", ["midpoint", "reference"])
def test_short_blip_is_dropped_and_splits_the_state(blip_data, method):
    """With 2 ms smoothing the 5 ms burst of E4 inside (1, 2, 5) crosses the threshold: the
    segment it makes is shorter than 20 ms and dropped; the two halves of (1, 2, 5) stay
    two occurrences with a transition to itself (the reference's rule)."""
    result = at.compute_attractors(blip_data, smoothing_ms=2.0, threshold_method=method)
    seq = result.sequence
    identities, sequence = planted_identities()
    assert list(seq.identities) == identities
    split = identities.index((1, 2, 5))
    expected = sequence[:5] + [split] + sequence[5:]
    np.testing.assert_array_equal(seq.sequence, expected)
    cluster, start, duration = BLIP
    dropped = [
        (a, b) for a, b, s in zip(seq.seg_start, seq.seg_stop, seq.seg_state)
        if s < 0 and result.active[cluster, a] and result.times_ms[a] >= start - 5 and result.times_ms[b - 1] < start + duration + 5
    ]
    assert len(dropped) == 1
    assert 0 < (dropped[0][1] - dropped[0][0]) * 0.5 < 20.0
    counts, _, _ = result.transitions()
    assert counts[split, split] == 1
    summary = result.summary()
    assert summary["n_self_transitions"] == 1 and summary["n_transitions"] == 7
    durations = seq.durations_ms[seq.sequence == split]
    assert durations.sum() == pytest.approx(200.0 - duration, abs=6.0)


def test_all_populations_and_names(planted_data):
    result = at.compute_attractors(planted_data, populations="all", threshold_method="midpoint")
    assert result.populations == list(planted_data.populations)
    assert result.rates_hz.shape == (len(planted_data.populations), 4000)
    result = at.compute_attractors(planted_data, populations="E1, E4", threshold_method="midpoint")
    assert result.populations == ["E1", "E4"]
    assert result.population_sizes.tolist() == [SIZE, SIZE]


def test_save_load_roundtrip(planted_data, tmp_path):
    result = at.compute_attractors(planted_data, spikes_file="spikes.h5")
    path = write_attractors(result, tmp_path / "attractors.h5")
    loaded = read_attractors(path)
    assert loaded.populations == result.populations
    for name in ("population_sizes", "times_ms", "rates_hz", "thresholds_hz", "active"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
        assert getattr(loaded, name).dtype == getattr(result, name).dtype
    for name in ("seg_start", "seg_stop", "seg_state", "mean_rates_hz"):
        np.testing.assert_array_equal(getattr(loaded.sequence, name), getattr(result.sequence, name))
    assert loaded.sequence.identities == result.sequence.identities
    assert loaded.window_ms == result.window_ms and loaded.bin_ms == result.bin_ms
    assert loaded.options == json.loads(json.dumps(result.options))
    assert loaded.config == result.config and loaded.metadata["run_id"] == "seed0"
    for a, b in zip(loaded.transitions(), result.transitions()):
        np.testing.assert_array_equal(a, b)
    assert json.dumps(loaded.summary()) == json.dumps(result.summary())


def test_attractors_task_writes_its_files(planted_file, tmp_path):
    summary = attractors_task.run(planted_file, tmp_path, threshold_method="midpoint")
    names = {"attractors.h5", "attractors.json", "states.csv", *attractors_task.FIGURES}
    assert names == set(attractors_task.OUTPUTS.values())
    assert names <= {p.name for p in tmp_path.iterdir()}
    for figure in attractors_task.FIGURES:
        data = (tmp_path / figure).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
    document = strict_json(tmp_path / "attractors.json")
    assert document["n_states"] == 6 and document["run_id"] == "seed0"
    assert document["options"]["bin_ms"] == 0.5 and document["options"]["populations"] == "e_clusters"
    assert document["config"]["params"]["j_potentiated"] == [6.0, 1.0]
    assert document == json.loads(json.dumps(summary))
    # transitions as the nonzero [from, to, count] entries, the dense matrices only in attractors.h5
    _, sequence = planted_identities()
    assert "transition_counts" not in document and "transition_probability" not in document
    assert document["transition_table"] == [[a, b, 1] for a, b in sorted(itertools.pairwise(sequence))]
    loaded_counts, loaded_occurrences, loaded_p = read_attractors(tmp_path / "attractors.h5").transitions()
    for made, kept in zip(at.transitions_from_summary(document), (loaded_counts, loaded_occurrences, loaded_p)):
        np.testing.assert_array_equal(made, kept)
    lines = (tmp_path / "states.csv").read_text().splitlines()
    assert lines[0].split(",") == at.STATE_COLUMNS and len(lines) == 7
    assert lines[1].startswith("0,E0+E1+E2,3,2,")
    loaded = read_attractors(tmp_path / "attractors.h5")
    assert loaded.summary()["n_transitions"] == 7
    text = at.format_summary(document)
    assert "states 6" in text and "transitions 7 (3.50/s" in text and "E0+E1+E2" in text


def test_attractors_task_files_do_not_depend_on_its_threads(planted_file, tmp_path, monkeypatch):
    # figures and attractors.h5/states.csv are made on two threads when the job has two
    written = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        out = tmp_path / threads
        attractors_task.run(planted_file, out, threshold_method="midpoint")
        written[threads] = {name: (out / name).read_bytes() for name in attractors_task.OUTPUTS.values() if name != "attractors.h5"}
        with read_attractors_file(out / "attractors.h5") as f:
            written[threads]["h5"] = {key: f[key][()].tobytes() for key in ("rates_hz", "active", "times_ms", "thresholds_hz")}
    assert written["1"] == written["2"]


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("part", ["rates", "analysis"])
def test_attractors_task_failing_file_step_leaves_no_summary(planted_file, tmp_path, monkeypatch, part, threads):
    # a failure writing either part of attractors.h5 (the rates on the writer's thread, the
    # rest beside the figures) is the task's failure: no attractors.h5, no temporary file,
    # and attractors.json (last) is not written
    import spikeflow.io.attractors as io_attractors

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io_attractors.AttractorsWriter, part, full_disk)
    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    with pytest.raises(OSError, match="No space left"):
        attractors_task.run(planted_file, tmp_path, threshold_method="midpoint")
    assert not (tmp_path / "attractors.json").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".h5" or "tmp" in p.name]


def read_attractors_file(path):
    import h5py

    return h5py.File(path, "r")


# ------------------------------------------------------------------------------------------
# study summary


def _summarize(paths, **options):
    """summarize_attractors over the documents in ``paths`` (named by their files)."""
    docs = [json.loads(p.read_text()) for p in paths]
    return at.summarize_attractors(docs, sources=[str(p) for p in paths], **options)


def _fake_run(tmp_path, template, name, j_plus, seed, **metrics):
    doc = json.loads(json.dumps(template))
    doc["run_id"] = name
    doc["seed"] = seed
    doc["config"]["params"]["j_potentiated"] = list(j_plus)
    doc["config"]["simulation"]["seed"] = seed
    doc.update(metrics)
    path = tmp_path / name / "attractors.json"
    path.parent.mkdir()
    path.write_text(json.dumps(doc))
    return path


def test_summary_groups_sweep_values_over_repeats(planted_data, tmp_path):
    template = at.compute_attractors(planted_data, threshold_method="midpoint").summary()
    runs = [
        # J+ 8 first, so sorting by x is tested
        ("j8_s1", [8.0, 1.0], 1, {"n_states": 2, "mean_dwell_ms": 900.0, "transitions_per_s": 0.5,
                                      "mean_active_count": 1.0, "fraction_no_active": 0.0,
                                      "k_active_fraction": [0.0, 1.0, 0.0]}),
        ("j8_s2", [8.0, 1.0], 2, {"n_states": 4, "mean_dwell_ms": 700.0, "transitions_per_s": 1.5,
                                      "mean_active_count": 1.5, "fraction_no_active": 0.1,
                                      "k_active_fraction": [0.1, 0.3, 0.6]}),
        ("j4_s1", [4.0, 1.0], 1, {"n_states": 10, "mean_dwell_ms": 30.0, "transitions_per_s": 20.0,
                                      "mean_active_count": 0.5, "fraction_no_active": 0.5,
                                      "k_active_fraction": [0.5, 0.5]}),
        ("j4_s2", [4.0, 1.0], 2, {"n_states": 14, "mean_dwell_ms": 50.0, "transitions_per_s": 30.0,
                                      "mean_active_count": 0.7, "fraction_no_active": 0.3,
                                      "k_active_fraction": [0.3, 0.7]}),
    ]
    paths = [_fake_run(tmp_path, template, name, j, seed, **m) for name, j, seed, m in runs]
    summary = _summarize(paths, group_by="params.j_potentiated")
    assert summary["group_by"] == "params.j_potentiated" and summary["x_element"] == 0
    assert [g["label"] for g in summary["groups"]] == ["[4.0,1.0]", "[8.0,1.0]"]
    low, high = summary["groups"]
    assert low["x"] == 4.0 and high["x"] == 8.0 and low["n_runs"] == 2
    assert low["run_ids"] == ["j4_s1", "j4_s2"]
    assert low["n_states"] == 12.0 and low["n_states_sd"] == pytest.approx(math.sqrt(8.0))
    assert high["mean_dwell_ms"] == 800.0 and high["mean_dwell_ms_sd"] == pytest.approx(math.sqrt(20000.0))
    assert low["transitions_per_s"] == 25.0 and high["fraction_no_active"] == pytest.approx(0.05)
    np.testing.assert_allclose(low["k_active_fraction"], [0.4, 0.6])
    np.testing.assert_allclose(high["k_active_fraction"], [0.05, 0.65, 0.3])
    np.testing.assert_allclose(high["k_active_fraction_sd"], np.std([[0, 1, 0], [0.1, 0.3, 0.6]], axis=0, ddof=1))

    # inferred key: the runs differ only in the seed and J+
    assert _summarize(paths, group_by="")["group_by"] == "params.j_potentiated"
    # a list element as the key
    by_element = _summarize(paths, group_by="config.params.j_potentiated.0")
    assert [g["label"] for g in by_element["groups"]] == ["4.0", "8.0"] and by_element["x_element"] is None
    # a scalar key gives numeric x directly; one run per group gives NaN SDs
    single = _summarize(paths[:1], group_by="simulation.seed")
    assert single["groups"][0]["x"] == 1.0 and math.isnan(single["groups"][0]["n_states_sd"])

    out = tmp_path / "summary"
    written = attractors_task.summary(paths, out, group_by="params.j_potentiated")
    provenance = written.pop("provenance")  # the study summary records what made it and its runs
    assert [r["run_id"] for r in provenance["runs"]] == [json.loads(p.read_text())["run_id"] for p in paths]
    assert provenance["analysis"]["spikeflow"]["version"]
    assert written == json.loads(json.dumps(to_json_value(summary)))
    assert {p.name for p in out.iterdir()} == {"summary.csv", "summary.json", "metastability.png"}
    assert set(attractors_task.SUMMARY_OUTPUTS.values()) == {p.name for p in out.iterdir()}
    assert (out / "metastability.png").read_bytes().startswith(PNG_MAGIC)
    lines = (out / "summary.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["group", "x", "n_runs", "n_states", "n_states_sd"]
    assert "k2_fraction" in header and len(lines) == 3
    assert lines[1].startswith('"[4.0,1.0]",4.0,2,12.0,')
    assert strict_json(out / "summary.json")["groups"][1]["label"] == "[8.0,1.0]"


def test_summary_errors(planted_data, tmp_path):
    template = at.compute_attractors(planted_data, threshold_method="midpoint").summary()
    a = _fake_run(tmp_path, template, "a", [4.0, 1.0], 1)
    b = _fake_run(tmp_path, template, "b", [8.0, 2.0], 2)
    with pytest.raises(ValueError, match="no 'params.j_plus'"):
        _summarize([a, b], group_by="params.j_plus")
    doc = json.loads(b.read_text())
    doc["config"]["params"]["other"] = 1
    b.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="several config keys"):
        _summarize([a, b], group_by="")
    with pytest.raises(FileNotFoundError):
        attractors_task.summary([tmp_path / "missing.json"], tmp_path / "out", group_by="x")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------
# bad options


@pytest.mark.parametrize(
    "options, message",
    [
        ({"bin_ms": -0.5}, "bin_ms must be a finite number > 0"),
        ({"bin_ms": 0.0}, "bin_ms must be a finite number > 0"),
        ({"smoothing_ms": -1.0}, "smoothing_ms must be a finite number >= 0"),
        ({"min_state_ms": float("nan")}, "min_state_ms must be a finite number >= 0"),
        ({"populations": "E9"}, "unknown population 'E9'"),
        ({"populations": ["E1", "X"]}, "unknown population 'X'"),
        ({"populations": ""}, "populations must be one of"),
        ({"threshold_method": "otsu"}, "threshold_method must be one of reference, midpoint"),
        ({"bin_ms": 5000.0}, "longer than the analysis window"),
        ({"tol_hz": 0.0}, "tol_hz must be a finite number > 0"),
    ],
)
def test_bad_options_give_one_sentence(planted_file, tmp_path, options, message):
    with pytest.raises(ValueError, match=message) as err:
        attractors_task.run(planted_file, tmp_path, figures=False, **options)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "attractors.json").exists()


def test_e_clusters_need_the_cluster_metadata(tmp_path):
    path = make_run(tmp_path / "s.h5")
    data = read_spikes(path)
    data.metadata.pop("model_description")
    with pytest.raises(ValueError, match="needs model_description") as err:
        at.compute_attractors(data)
    assert "\n" not in str(err.value)


def test_attractor_summary_task_and_text(planted_data, tmp_path):
    template = at.compute_attractors(planted_data, threshold_method="midpoint").summary()
    paths = [_fake_run(tmp_path, template, f"r{i}", [j, 1.0], i, n_states=n)
             for i, (j, n) in enumerate([(4.0, 10), (4.0, 12), (6.0, 3)])]
    summary = attractors_task.summary(paths, tmp_path / "out", group_by="params.j_potentiated")
    assert (tmp_path / "out" / "summary.json").is_file()
    assert summary["groups"][0]["n_states_sd"] == pytest.approx(math.sqrt(2.0))
    assert summary["groups"][1]["n_states_sd"] is None  # one run: undefined, null in JSON
    text = at.format_group_summary(summary)
    assert "3 run(s) grouped by params.j_potentiated" in text
    assert "[4.0,1.0]" in text and "11.0±1.4" in text


def test_uniform_activity_has_no_active_population_with_a_contrast_floor():
    """Unimodal rates (the uniform asynchronous state): the midpoint would split their
    fluctuations in half; with the contrast floor nothing is active, and one state remains."""
    rng = np.random.default_rng(3)
    rates = 7.0 + 2.0 * rng.standard_normal((18, 4000))
    split = at.active_clusters(rates, method="midpoint")
    assert 0.3 < split.mean() < 0.7  # the artefact the floor removes
    active, theta = at.active_clusters(rates, method="midpoint", min_contrast_hz=10.0, return_thresholds=True)
    assert not active.any() and np.all(np.isinf(theta))
    bimodal = np.where(rng.random((18, 4000)) < 0.2, 45.0, 3.0) + rng.standard_normal((18, 4000))
    assert at.active_clusters(bimodal, method="midpoint", min_contrast_hz=10.0).mean() == pytest.approx(0.2, abs=0.02)


# ------------------------------------------------------------------------------------------
# the fast paths give the numbers of the plain numpy formulas, bit for bit


def _old_active_clusters(rates, method, tol, max_iter=50, min_contrast_hz=0.0):
    """The threshold rules written plainly (one new mask and copy per step), as before."""
    n_pop = rates.shape[0]
    if method == "reference":
        theta = rates.mean(axis=1)
        active = rates > theta[:, None]
        for _ in range(max_iter):
            if not active.any():
                break
            proposal = float(rates[active].mean())
            if abs(proposal - float(theta.mean())) < tol:
                break
            theta = np.full(n_pop, proposal)
            active = rates > theta[:, None]
        return active, theta
    threshold = float(rates.mean())
    for _ in range(max_iter):
        above = rates > threshold
        if above.all() or not above.any():
            break
        proposal = 0.5 * (float(rates[above].mean()) + float(rates[~above].mean()))
        moved = abs(proposal - threshold)
        threshold = proposal
        if moved < tol:
            break
    above = rates > threshold
    contrast = float(rates[above].mean()) - float(rates[~above].mean()) if above.any() and not above.all() else 0.0
    if contrast < min_contrast_hz:
        threshold = float("inf")
    theta = np.full(n_pop, threshold)
    return rates > theta[:, None], theta


def _bimodal_rates(seed, n_pop=7, n_bins=60_001):
    """Rates of clusters switching between ~3 and ~40 Hz, with noise (Hz, (n_pop, n_bins))."""
    rng = np.random.default_rng(seed)
    high = rng.random((n_pop, n_bins // 500 + 1)) < 0.2
    levels = np.where(np.repeat(high, 500, axis=1)[:, :n_bins], 40.0, 3.0)
    return np.abs(levels + 2.0 * rng.standard_normal((n_pop, n_bins)))


@pytest.mark.parametrize("block", [999, 1 << 15])
@pytest.mark.parametrize("method, min_contrast", [("reference", 0.0), ("midpoint", 0.0), ("midpoint", 10.0), ("midpoint", 1e6)])
def test_thresholds_equal_the_plain_rules(monkeypatch, method, min_contrast, block):
    # blocks that do not divide the rows: the streamed sums cross the rows' ends
    monkeypatch.setattr(at, "_SPLIT_BLOCK", block)
    for seed in range(3):
        rates = _bimodal_rates(seed)
        tol = at.DEFAULT_TOL_HZ[method]
        active, theta = at.active_clusters(rates, method=method, min_contrast_hz=min_contrast, return_thresholds=True)
        expected_active, expected_theta = _old_active_clusters(rates, method, tol, min_contrast_hz=min_contrast)
        np.testing.assert_allclose(theta, expected_theta, rtol=1e-14, atol=0)  # numpy's means, summed in another order
        np.testing.assert_array_equal(active, expected_active)
    assert not active.any() if min_contrast == 1e6 else active.any()


@pytest.mark.parametrize("block", [7, 1_000, 1 << 15])
def test_split_sums_are_the_exact_sums_above_and_below_each_rows_threshold(monkeypatch, block):
    monkeypatch.setattr(at, "_SPLIT_BLOCK", block)
    rng = np.random.default_rng(block)
    for n in (1, 9, 130, 5_000, 70_001):
        values = rng.random((3, n)) ** 4 * 1e3  # widely spread magnitudes: the summation order shows
        thresholds = np.quantile(values, rng.uniform(0.05, 0.95, size=3), axis=1).diagonal().copy()
        above = values > thresholds[:, None]
        sum_above, n_above, sum_other, n_other = at._split_sums(values, thresholds)
        assert (n_above, n_other) == (int(above.sum()), int((~above).sum()))
        assert sum_above == pytest.approx(math.fsum(values[above]), rel=1e-15, abs=0)
        assert sum_other == pytest.approx(math.fsum(values[~above]), rel=1e-15, abs=0)
    none_above = at._split_sums(np.ones((2, 3)), np.full(2, 5.0))
    assert none_above == (0.0, 0, 6.0, 6)


def test_rates_equal_scipys_gaussian_filter_and_the_state_means_the_matrix_formulas(planted_data):
    names = [f"E{c}" for c in range(Q)]
    times, rates = at.population_rates(planted_data, names, T_PRESIM, T_PRESIM + T_SIM, 0.5, 10.0)
    raw = np.array([
        at.st.spike_count_histogram(planted_data.populations[n].times, T_PRESIM, T_PRESIM + T_SIM, 0.5) / (SIZE * 0.5 / 1000.0)
        for n in names
    ])
    # the smoothing is an FFT (spikeflow.analysis.smoothing): scipy's direct sum to 1e-12 of the largest rate
    direct = gaussian_filter1d(raw, 20.0, axis=1, mode="reflect", truncate=4.0)
    np.testing.assert_allclose(rates, direct, rtol=0, atol=1e-12 * raw.max())
    assert not np.array_equal(rates, direct)  # the check above compares two computations, not one
    for threads in (1, 2, 3, Q + 2):  # the rows split among threads: the same bits, the same order
        _, on_threads, sizes = at._binned_rates(planted_data, names, T_PRESIM, T_PRESIM + T_SIM, 0.5, 10.0, threads=threads)
        np.testing.assert_array_equal(on_threads, rates)
        assert sizes.tolist() == [SIZE] * Q
    active = at.active_clusters(rates, method="midpoint")
    seq = at.states(active, times, 20.0, rates=rates)
    sums = np.zeros((seq.n_states, Q))
    for start, stop, state in zip(seq.seg_start, seq.seg_stop, seq.seg_state):
        if state >= 0:
            sums[state] += rates[:, start:stop].sum(axis=1)
    counts = np.bincount(seq.sequence, weights=(seq.seg_stop - seq.seg_start)[seq.kept], minlength=seq.n_states)
    np.testing.assert_allclose(seq.mean_rates_hz, sums / counts[:, None], rtol=1e-14, atol=0)


def test_state_means_are_accurate_to_the_rounding_of_their_own_bins():
    """A state's mean rate does not inherit the rounding of a sum over the whole run.

    Rates with a large offset make a running sum over the run large, so the difference of
    two of its values would lose digits of a short segment's sum.
    """
    rng = np.random.default_rng(12)
    nb, n_pop = 400_000, 3
    rates = 1_000.0 + rng.random((n_pop, nb)) * 50.0
    active = np.zeros((n_pop, nb), dtype=bool)
    edges = np.sort(rng.choice(np.arange(1, nb), size=3_000, replace=False))
    for k, (a, b) in enumerate(zip(np.r_[0, edges], np.r_[edges, nb])):
        active[k % n_pop, a:b] = True
    seq = at.states(active, 0.5 * np.arange(nb), 0.0, rates=rates)
    exact = np.zeros((seq.n_states, n_pop))
    for state in range(seq.n_states):
        bins = np.concatenate([np.arange(a, b) for a, b, s in zip(seq.seg_start, seq.seg_stop, seq.seg_state) if s == state])
        exact[state] = [math.fsum(rates[row, bins]) / bins.size for row in range(n_pop)]
    np.testing.assert_allclose(seq.mean_rates_hz, exact, rtol=1e-14, atol=0)


def test_transition_submatrix_and_table(blip_data):
    result = at.compute_attractors(blip_data, smoothing_ms=2.0, threshold_method="midpoint")
    counts, occurrences, p = result.transitions()
    among = [4, 0, 2]
    sub_counts, sub_occurrences, sub_p = result.transitions(among=among)
    np.testing.assert_array_equal(sub_counts, counts[np.ix_(among, among)])
    np.testing.assert_array_equal(sub_occurrences, occurrences[among])
    np.testing.assert_array_equal(sub_p, p[np.ix_(among, among)])
    table = at.transition_table(result.sequence)
    assert table == [[a, b, int(counts[a, b])] for a, b in zip(*np.nonzero(counts))]
    split = result.sequence.identities.index((1, 2, 5))
    assert [split, split, 1] in table  # the state the blip splits returns to itself
    for made, full in zip(at.transitions_from_summary(result.summary()), (counts, occurrences, p)):
        np.testing.assert_array_equal(made, full)


def test_task_reads_only_the_analysed_populations(planted_file, tmp_path):
    """The task reads the E clusters one at a time (the I clusters not at all) and gets the
    numbers of the analysis of the whole file; "all" reads every population."""
    data = attractors_task._spikes(planted_file, "e_clusters")
    assert list(data.populations) == [f"E{c}" for c in range(Q)] and data.metadata["run_id"] == "seed0"
    assert data.populations["E2"].n_spikes == read_spikes(planted_file).populations["E2"].n_spikes
    assert len(attractors_task._spikes(planted_file, "all").populations) == 2 * Q + 2
    assert list(attractors_task._spikes(planted_file, "E4, E1").populations) == ["E1", "E4"]
    assert len(attractors_task._spikes(planted_file, ["E1", "nope"]).populations) == 2 * Q + 2  # select_populations says what is wrong
    document = attractors_task.run(planted_file, tmp_path, figures=False, threshold_method="midpoint")
    whole = at.compute_attractors(read_spikes(planted_file), threshold_method="midpoint", spikes_file=str(planted_file))
    assert json.dumps(document) == json.dumps(to_json_value(whole.summary()))
    loaded = read_attractors(tmp_path / "attractors.h5")
    np.testing.assert_array_equal(loaded.rates_hz, whole.rates_hz)
    np.testing.assert_array_equal(loaded.thresholds_hz, whole.thresholds_hz)


def test_task_checks_population_names_without_reading_them(planted_file, tmp_path):
    # membership by name: a lookup reads (and checks) the population, `in` must not
    moved = tmp_path / "moved.h5"
    moved.write_bytes(planted_file.read_bytes())
    data = attractors_task._spikes(moved, "e_clusters")
    moved.unlink()
    assert "E2" in data.populations and "I0" not in data.populations and "nope" not in data.populations


def test_rate_image_percentile_is_numpys():
    from spikeflow.models.clustered.attractor_figure_data import percentile as _percentile

    rng = np.random.default_rng(4)
    for values in (rng.random((3, 100_003)) ** 6, rng.poisson(2.0, (20, 40_000)) / 0.1, np.zeros((2, 5)), rng.random(1)):
        for q in (99.5, 99.9, 50.0, 0.0, 100.0):
            assert _percentile(values, q) == float(np.percentile(values, q))
