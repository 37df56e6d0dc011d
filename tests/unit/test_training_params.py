"""Training parameters, config checks, patterns and metrics (no NEST)."""

import numpy as np
import pytest

from spikeflow.config import ConfigError, resolve_run
from spikeflow.models import training
from spikeflow.models.training.params import PATHWAYS, compatibility_table, model_params
from spikeflow.models.training import TrainingConfig, check_training_run
from spikeflow.models.training.metrics import histogram_edges, population_metrics, weight_stats
from spikeflow.models.training.patterns import generator_times, make_patterns, schedule


def _run(params=None, **sim):
    simulation = {"t_presim": 0.0, "t_sim": 600.0, **sim}
    return resolve_run({"model": "training", "params": params or {}, "simulation": simulation}).config


def test_defaults_resolve_and_describe():
    cfg = _run()
    d = training.params_from_config(cfg["params"])
    desc = training.describe(d)
    assert [p["size"] for p in desc["populations"]] == [160, 40]
    assert desc["connections"]["stdp_synapse"] == round(0.1 * 160 * 159)
    assert desc["connections"]["static_synapse"] == round(0.1 * 160 * 40) + round(0.1 * 40 * 160) + round(0.1 * 40 * 39) + 200
    assert d.pathway_weights["I->E"] == -4.0 * d.weight


def test_t_sim_must_be_the_trained_time():
    check_training_run(_run())
    with pytest.raises(ConfigError, match="simulation.t_sim"):
        check_training_run(_run(t_sim=1000.0))


def test_bad_values_are_refused_with_the_key():
    with pytest.raises(ConfigError, match="params.synapse_model"):
        _run({"synapse_model": "bcpnn_synapse"})
    with pytest.raises(ConfigError, match="X pathway"):
        _run({"plastic": ["X->E"]})
    with pytest.raises(ConfigError, match="unknown TrainingConfig key"):
        TrainingConfig(simulation_time=5)


def test_wmax_takes_the_weight_sign():
    d = training.params_from_config(_run({"plastic": ["E->E", "I->E"], "synapse_params": {"Wmax": 50.0}})["params"])
    assert model_params(d, "E->E")["Wmax"] == 50.0 and model_params(d, "I->E")["Wmax"] == -50.0
    d = training.params_from_config(_run()["params"])
    assert model_params(d, "E->E")["Wmax"] == pytest.approx(3.0 * d.weight)


def test_config_api_aliases_and_epochs():
    cfg = TrainingConfig(num_neurons=40, connectivity_density=0.2, n_epochs=4, epoch_ms=50.0)
    assert cfg.n_neurons == 40 and cfg.density == 0.2 and cfg.simulation["t_sim"] == 200.0
    assert cfg.with_epochs(6).simulation["t_sim"] == 300.0


def test_compatibility_table_covers_every_combination():
    rows = compatibility_table()
    assert len(rows) == 6 * 18
    assert all(r["trains"] == (r["reason"] == "") for r in rows)
    assert len(PATHWAYS) == 6


def test_patterns_are_frozen_and_scheduled():
    a = make_patterns(3, 10, 50.0, 40.0, 0.1, seed=4)
    b = make_patterns(3, 10, 50.0, 40.0, 0.1, seed=4)
    for x, y in zip(a.times, b.times):
        np.testing.assert_array_equal(x, y)
    assert all(t.min() >= 0.1 and t.max() <= 50.0 for t in a.times)
    rate = np.mean([t.size for t in a.times]) / 10 / 0.05
    assert 20 < rate < 60  # about 40 spikes/s
    assert schedule(a, 1, 200.0, "cyclic", 4) == [(0.0, 0), (50.0, 1), (100.0, 2), (150.0, 0)]
    assert schedule(a, 2, 200.0, "cyclic", 4)[0] == (0.0, 1)
    times = generator_times(a, [(0.0, 0), (50.0, 0)], 1000.0, 10)
    n0 = np.bincount(a.node_ids[0], minlength=10)
    assert [t.size for t in times] == list(2 * n0)


def test_metrics_numbers():
    ids = np.array([0, 0, 0, 1])
    times = np.array([10.0, 20.0, 40.0, 50.0])
    m = population_metrics(ids, times, 4, 0.0, 100.0)
    assert m["rate_hz"] == pytest.approx(4 / 4 / 0.1)
    assert m["fraction_silent"] == 0.5
    assert m["cv_isi"] == pytest.approx(np.std([10.0, 20.0]) / 15.0)
    edges = histogram_edges(np.array([1.0, 2.0]), 3.0, 3)
    np.testing.assert_allclose(edges, [0, 1, 2, 3])
    s = weight_stats(np.array([1.5, 2.5, 2.5]), np.array([1.0, 2.0, 3.0]), edges)
    assert s["histogram"] == [0, 1, 2] and s["change_mean"] == pytest.approx(1 / 6) and s["change_abs_mean"] == pytest.approx(0.5)
