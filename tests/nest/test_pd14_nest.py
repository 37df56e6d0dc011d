"""PD14 in real NEST at small scale: construction against the model's formulas, spike
bookkeeping against NEST's counters, determinism."""

import numpy as np
import pytest

from spikeflow.config import resolve_run
from spikeflow.io.spikes import read_spikes
from spikeflow.models import pd14
from spikeflow.models.pd14.params import Pd14Params, derive

SCALE = 0.02


def _cfg(tmp_seed=55, threads=2, t_presim=100.0, t_sim=200.0, **params):
    base = {"N_scaling": SCALE, "K_scaling": SCALE, **params}
    return resolve_run(
        {"model": "pd14", "params": base, "simulation": {"t_presim": t_presim, "t_sim": t_sim, "threads": threads, "seed": tmp_seed}}
    ).config


@pytest.fixture
def built(nest_module):
    """A PD14 network at 2 % scale, created and connected (no recorders)."""
    nest = nest_module

    def build(**params):
        nest.ResetKernel()
        nest.SetKernelStatus({"local_num_threads": 2, "rng_seed": 7})
        d = derive(Pd14Params(N_scaling=SCALE, K_scaling=SCALE, **params))
        net = pd14.create(d)
        pd14.connect(net, d)
        return nest, d, net

    return build


def test_neuron_and_synapse_counts_follow_the_formulas(built):
    nest, d, net = built()
    pops = list(net.populations.values())
    assert [len(p) for p in pops] == list(d.num_neurons)
    for i, target in enumerate(pops):
        for j, source in enumerate(pops):
            n = len(nest.GetConnections(source=source, target=target))
            assert n == d.num_synapses[i, j], (d.populations[j], d.populations[i])
    # recurrent + one background connection per neuron
    assert nest.num_connections == d.total_synapses + d.total_neurons
    assert nest.num_connections == pd14.describe(d)["connections"]["static_synapse"]


def test_neuron_parameters_drive_and_synapse_distributions(built):
    nest, d, net = built()
    for i, pop in enumerate(net.populations.values()):
        np.testing.assert_allclose(pop.get("I_e"), d.dc_amp[i])
        assert set(pop.get("tau_syn_ex")) == {0.5} and set(pop.get("V_th")) == {-50.0} and set(pop.get("C_m")) == {250.0}
        v0 = np.asarray(pop.get("V_m"))
        if len(v0) > 100:  # optimized initial potentials: per-population normal distributions
            assert abs(v0.mean() - pd14.V0_OPTIMIZED_MEAN[i]) < 4 * pd14.V0_OPTIMIZED_STD[i] / np.sqrt(len(v0))
    np.testing.assert_allclose(net.devices["background"].get("rate"), d.poisson_rates)
    pops = list(net.populations.values())
    exc = nest.GetConnections(source=pops[0], target=pops[0]).get(["weight", "delay"])
    inh = nest.GetConnections(source=pops[1], target=pops[0]).get(["weight", "delay"])
    w_e, w_i = np.asarray(exc["weight"]), np.asarray(inh["weight"])
    assert np.all(w_e > 0) and np.all(w_i < 0)
    assert w_e.mean() == pytest.approx(d.weights[0, 0], rel=0.02)
    assert w_i.mean() == pytest.approx(d.weights[0, 1], rel=0.02)
    assert np.std(w_e) / w_e.mean() == pytest.approx(0.1, rel=0.15)
    delays = np.asarray(exc["delay"])
    assert delays.min() >= 0.1 and delays.mean() == pytest.approx(1.5, rel=0.05)


def test_thalamic_input(built):
    nest, d, net = built(thalamic_input=True)
    thalamus = net.devices["thalamus"]
    assert len(thalamus) == 902
    for i, pop in enumerate(net.populations.values()):
        assert len(nest.GetConnections(source=thalamus, target=pop)) == d.num_th_synapses[i]
    assert d.num_th_synapses.sum() > 0


def test_spikes_in_the_file_add_up_to_nests_counters(nest_module, tmp_path):
    from spikeflow.driver import simulate

    simulate(_cfg(), tmp_path / "s.h5", run_id="t")
    data = read_spikes(tmp_path / "s.h5")
    meta = data.metadata
    written = sum(p.n_spikes for p in data.populations.values())
    assert written > 100
    counted = sum(sum(r["nest_spike_counter"].values()) for r in meta["per_rank"])
    assert written == counted == sum(meta["spike_counts"].values())
    for name, pop in data.populations.items():
        assert pop.n_nodes == dict((p["name"], p["size"]) for p in meta["populations"])[name]
        assert pop.node_ids.max(initial=0) < pop.n_nodes
        assert pop.times.min(initial=1.0) > 0 and pop.times.max(initial=0) <= 300.0
    assert meta["num_connections"] == nest_module.num_connections
    phases = meta["per_rank"][0]["phases"]
    assert list(phases) == ["create", "connect", "presimulate", "simulate"]
    assert all(p["wall_s"] > 0 and p["peak_rss_kb"] > 0 for p in phases.values())
    assert "time_simulate" in meta["per_rank"][0]["kernel"]


def test_same_seed_gives_bitwise_identical_spikes(nest_module, tmp_path):
    from spikeflow.driver import simulate

    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate(_cfg(tmp_seed=seed), tmp_path / f"{name}.h5", run_id=name)
    a, b, c = (read_spikes(tmp_path / f"{n}.h5").populations for n in "abc")
    for pop in a:
        np.testing.assert_array_equal(a[pop].times, b[pop].times)
        np.testing.assert_array_equal(a[pop].node_ids, b[pop].node_ids)
    assert any(a[p].n_spikes != c[p].n_spikes or not np.array_equal(a[p].times, c[p].times) for p in a)


def test_progress_chunks_do_not_change_the_spikes(nest_module, tmp_path, monkeypatch):
    from spikeflow.driver import session, simulate

    cfg = _cfg()
    simulate(cfg, tmp_path / "by_wall_time.h5")  # stops at the first progress point, then by wall time
    monkeypatch.setattr(session, "MIN_LINE_S", 0.0)
    simulate(cfg, tmp_path / "chunked.h5")  # a stop at every progress point
    cfg["simulation"]["progress_interval"] = 0.0
    simulate(cfg, tmp_path / "whole.h5")  # one Run a phase
    b = read_spikes(tmp_path / "whole.h5").populations
    for name in ("by_wall_time.h5", "chunked.h5"):
        a = read_spikes(tmp_path / name).populations
        for pop in a:
            np.testing.assert_array_equal(a[pop].times, b[pop].times)
            np.testing.assert_array_equal(a[pop].node_ids, b[pop].node_ids)


def test_network_over_nests_vp_limit_is_refused_before_building(nest_module, tmp_path):
    from spikeflow.driver import SimulationError, simulate

    cfg = _cfg()
    cfg["params"].update(N_scaling=1.0, K_scaling=1.0)
    cfg["simulation"].update(threads=1, ranks=1)  # full scale on 1 VP: over the limit even with synapse copies
    with pytest.raises(SimulationError, match="at least 2 virtual processes"):
        simulate(cfg, tmp_path / "full.h5")
    assert not (tmp_path / "full.h5").exists()


def test_synapse_copies_give_the_same_spikes_and_their_own_counts(nest_module, tmp_path):
    """Excitatory and inhibitory connections on their own static_synapse copies (which lets full
    scale run on 2 VPs: NEST's per-VP limit counts per synapse model): same network, same spikes."""
    from spikeflow.config import resolve_run
    from spikeflow.driver import simulate
    from spikeflow.io.spikes import read_spikes
    from spikeflow.models import get_model

    out = {}
    for mode in ("never", "always"):
        cfg = resolve_run(
            {
                "model": "pd14",
                "params": {"N_scaling": 0.05, "K_scaling": 0.05, "synapse_copies": mode},
                "simulation": {"t_presim": 100.0, "t_sim": 500.0, "threads": 2, "seed": 11, "progress_interval": 0},
            }
        ).config
        out[mode] = read_spikes(simulate(cfg, tmp_path / mode / "spikes.h5", log=lambda m: None))
        if mode == "always":
            model = get_model("pd14")
            expected = model.describe(model.params_from_config(cfg["params"]))["connections"]
            for copy in ("pd14_static_ex", "pd14_static_in"):
                assert nest_module.GetKernelStatus("num_connections") > 0
                assert len(nest_module.GetConnections(synapse_model=copy)) == expected[copy]
    total = 0
    for name, pop in out["never"].populations.items():
        np.testing.assert_array_equal(out["always"].populations[name].times, pop.times)
        np.testing.assert_array_equal(out["always"].populations[name].node_ids, pop.node_ids)
        total += pop.n_spikes
    assert total > 1000


def test_full_scale_fits_two_virtual_processes_with_copies():
    from spikeflow.config import ConfigError, load_study

    assert load_study({"model": "pd14", "simulation": {"threads": 2}}).runs[0].config["params"]["synapse_copies"] == "auto"
    with pytest.raises(ConfigError, match="need at least 3 virtual processes"):
        load_study({"model": "pd14", "params": {"synapse_copies": "never"}, "simulation": {"threads": 2}})
    with pytest.raises(ConfigError, match="pd14_static_ex connections need at least 2 virtual processes"):
        load_study({"model": "pd14", "simulation": {"threads": 1}})
