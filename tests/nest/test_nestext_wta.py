"""The spikeflow_wta NEST extension module against the independent NumPy reference.

Deterministic parts (membrane potentials, spike probabilities, weight trajectories, STP
amplitudes) are compared on fixed input spike trains, with the NEST run's own output spikes
fed into the reference. Stochastic parts: circuit rate R_max within binomial error, choice
frequencies equal to the soft-max probabilities, at most one spike per circuit and step.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.models.sequence import reference as ref

DT = 1.0




def _reset(nest, threads=1, seed=12):
    from spikeflow import nestext

    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=threads, rng_seed=seed)
    nest.verbosity = nest.VerbosityLevel.ERROR if hasattr(nest, "VerbosityLevel") else None
    nestext.load(nest)


def _afferents(nest, neuron, sources):
    """(source node id, afferent index) of the connections from ``sources`` into ``neuron``, by afferent index."""
    info = nest.GetConnections(source=sources, target=neuron).get(["source", "receptor"])
    return sorted(((int(s), int(r)) for s, r in zip(info["source"], info["receptor"])), key=lambda x: x[1])


def test_binary_wheel_is_recognised_from_its_tags():
    from spikeflow.nestext.build import is_binary_wheel

    assert is_binary_wheel(["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"])
    assert not is_binary_wheel(["cp311-cp311-linux_x86_64"])


def test_stp_amplitudes_follow_the_rule():
    # first two spikes: U; then the state after the 2nd spike's update with Delta = 10 ms
    amps = ref.stp_amplitudes([10.0, 20.0, 30.0], U=0.5, tau_d=110.0, tau_f=5.0)
    R = 1 + (1 - 0.5 - 1) * np.exp(-10 / 110)
    u = 0.5 + 0.5 * 0.5 * np.exp(-10 / 5)
    np.testing.assert_allclose(amps, [0.5, 0.5, u * R])


def test_deterministic_dynamics_match_the_reference(wta_nest):
    """Inputs -> circuit A (K=2) -> (STP) circuit B (K=3), 600 ms of learning."""
    nest = wta_nest
    _reset(nest)
    rng = np.random.default_rng(5)
    n_in, t_sim = 4, 600.0
    times = [np.unique(np.sort(rng.integers(1, int(t_sim) - 5, size=40))).astype(float) for _ in range(n_in)]
    gens = nest.Create("spike_generator", n_in, [{"spike_times": t.tolist()} for t in times])
    parrots = nest.Create("parrot_neuron", n_in)
    a = nest.Create("wta_neuron", 2, {"circuit": 0, "circuit_size": 2})
    b = nest.Create("wta_neuron", 3, {"circuit": 1, "circuit_size": 3})
    nest.Connect(gens, parrots, "one_to_one")
    nest.Connect(parrots, a + b, "all_to_all", {"synapse_model": "static_synapse", "weight": 1.0, "delay": DT})
    stp = {"U": 0.5, "tau_d": 110.0, "tau_f": 5.0}
    nest.Connect(a, b, "all_to_all", {"synapse_model": "wta_stp_synapse", "delay": DT, **stp})
    sr_in = nest.Create("spike_recorder")
    sr = nest.Create("spike_recorder")
    nest.Connect(parrots, sr_in)
    nest.Connect(a + b, sr)
    mm = nest.Create("multimeter", {"record_from": ["V_m", "p_spike"], "interval": DT})
    nest.Connect(mm, a + b)

    # weights every 50 ms
    w_nest = []
    for _ in range(int(t_sim // 50)):
        nest.Simulate(50.0)
        w_nest.append([np.array(n.get("weights")) for n in a + b])
    n_steps = int(t_sim / DT)

    ev_in, ev = sr_in.events, sr.events
    in_times = {int(g): ev_in["times"][ev_in["senders"] == g] for g in parrots.tolist()}
    out_times = {int(g): ev["times"][ev["senders"] == g] for g in (a + b).tolist()}
    assert sum(len(t) for t in out_times.values()) > 20
    mev = mm.events

    for circuit in (a, b):
        neurons = circuit.tolist()
        aff = _afferents(nest, circuit[0], parrots + a)
        # all members of a circuit see the same afferents (same sources in the same order)
        for n in neurons[1:]:
            assert [s for s, _ in _afferents(nest, nest.NodeCollection([n]), parrots + a)] == [s for s, _ in aff]
        sources = [s for s, _ in aff]
        afferent_times, amps = [], []
        for s in sources:
            if s in in_times:
                afferent_times.append(in_times[s])
                amps.append(np.ones(len(in_times[s])))
            else:
                afferent_times.append(out_times[s])
                amps.append(ref.stp_amplitudes(out_times[s], **stp))
        arrivals = ref.arrival_matrix(n_steps, afferent_times, amps, delay_steps=1, dt=DT)
        spikes = np.zeros((n_steps, len(neurons)), dtype=bool)
        for k, n in enumerate(neurons):
            spikes[np.rint(out_times[n] / DT).astype(int) - 1, k] = True  # stamp (m+1) dt <- step m
        run = ref.run_circuit(arrivals, np.zeros((len(neurons), len(sources))), ref.WtaParams(dt=DT), spikes=spikes)

        for k, n in enumerate(neurons):
            sel = mev["senders"] == n
            steps = np.rint(mev["times"][sel] / DT).astype(int) - 1  # multimeter time (m+1) dt <- step m
            np.testing.assert_allclose(mev["V_m"][sel], run.u[steps, k], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(mev["p_spike"][sel], run.p[steps, k], rtol=1e-9, atol=1e-15)
        for c, w_chunk in enumerate(w_nest):
            m = (c + 1) * 50 - 1
            for k, n in enumerate(neurons):
                idx = (a + b).tolist().index(n)
                # NEST's weight vector is indexed by afferent (= receptor) index
                order = [r for _, r in aff]
                np.testing.assert_allclose(w_chunk[idx][order], run.weights[m, k], rtol=1e-9, atol=1e-12)
        # learning actually moved the weights
        assert np.abs(run.weights[-1]).max() > 0.1


def test_learning_off_keeps_weights(wta_nest):
    nest = wta_nest
    _reset(nest)
    g = nest.Create("poisson_generator", params={"rate": 50.0})
    p = nest.Create("parrot_neuron")
    n = nest.Create("wta_neuron", 2, {"circuit": 0, "circuit_size": 2, "learning": False})
    nest.Connect(g, p)
    nest.Connect(p, n)
    n.set({"weights": [-0.5]})
    nest.Simulate(300.0)
    assert np.allclose([w[0] for w in n.get("weights")], -0.5)


def test_choice_frequencies_follow_the_softmax(wta_nest):
    """No input, excitabilities w0 = (0, 0.5, 1, 1.5): p_k = 0.1 softmax(w0)_k, one spike per step at most."""
    from scipy import stats

    nest = wta_nest
    _reset(nest, seed=3)
    w0 = np.array([0.0, 0.5, 1.0, 1.5])
    n = nest.Create("wta_neuron", 4, [{"circuit": 0, "circuit_size": 4, "w0": float(x)} for x in w0])
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    t_sim = 20_000.0
    nest.Simulate(t_sim)
    ev = sr.events
    n_steps = int(t_sim / DT)
    total = len(ev["times"])
    p_total = 100.0 * DT / 1000.0
    sd = np.sqrt(n_steps * p_total * (1 - p_total))
    assert abs(total - n_steps * p_total) < 4 * sd  # 100 Hz within binomial error
    assert len(np.unique(ev["times"])) == total  # at most one winner per step
    counts = np.array([(ev["senders"] == g).sum() for g in n.tolist()])
    expected = total * np.exp(w0) / np.exp(w0).sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_circuit_split_over_virtual_processes_is_an_error(wta_nest):
    nest = wta_nest
    _reset(nest, threads=2)
    nest.Create("wta_neuron", 2, {"circuit": 0, "circuit_size": 2})  # ids 1, 2 -> different VPs
    with pytest.raises(Exception, match="same virtual process"):
        nest.Simulate(10.0)


def test_two_threads_match_one_thread_when_circuits_are_placed_per_vp(wta_nest):
    """Two circuits whose members share a VP: threaded spikes follow the same dynamics as the reference."""
    nest = wta_nest
    _reset(nest, threads=2)
    # node ids 1..4: VP = id % 2 -> circuit 0 = {2, 4} (VP 0), circuit 1 = {1, 3} (VP 1)
    n = nest.Create("wta_neuron", 4)
    for gid, c in zip(n.tolist(), (1, 0, 1, 0)):
        nest.NodeCollection([gid]).set({"circuit": c, "circuit_size": 2})
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    nest.Simulate(5000.0)
    ev = sr.events
    for members in ((2, 4), (1, 3)):
        t = ev["times"][np.isin(ev["senders"], members)]
        assert len(np.unique(t)) == len(t)
        assert abs(len(t) - 500) < 4 * np.sqrt(5000 * 0.1 * 0.9)
