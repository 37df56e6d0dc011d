"""STDP in NEST against independent NumPy computations: the pair window of stdp_synapse and the
triplet rule of stdp_triplet_synapse (Pfister & Gerstner 2006, all-to-all interactions).

Protocol: spike_generators drive parrot neurons, so every spike time is known exactly; the
plastic connection goes from a "pre" parrot to port 1 of a "post" parrot (port 1 does not make
the parrot spike). NEST treats the synaptic delay d as dendritic: a postsynaptic spike at t_post
meets the synapse at t_post + d, a presynaptic spike at t_pre. Weights change only when a
presynaptic spike arrives, so every protocol ends with a "readout" presynaptic spike 1 s later.
"""

import numpy as np
import pytest

RES = 0.1
DELAY = 1.0


def _run_pairs(nest, synapse, syn_params, post_params, pre_trains, post_trains, w0):
    """One pre->post parrot pair per train pair; returns (final weights, recorded pre times, recorded post times)."""
    nest.ResetKernel()
    nest.resolution = RES
    n = len(pre_trains)
    gen_pre = nest.Create("spike_generator", n, params=[{"spike_times": list(t)} for t in pre_trains])
    gen_post = nest.Create("spike_generator", n, params=[{"spike_times": list(t)} for t in post_trains])
    pre = nest.Create("parrot_neuron", n)
    post = nest.Create("parrot_neuron", n, params=post_params)
    nest.Connect(gen_pre, pre, "one_to_one")
    nest.Connect(gen_post, post, "one_to_one")
    rec_pre = nest.Create("spike_recorder")
    rec_post = nest.Create("spike_recorder")
    nest.Connect(pre, rec_pre)
    nest.Connect(post, rec_post)
    nest.CopyModel(synapse, "test_plastic", syn_params)
    nest.Connect(pre, post, "one_to_one", {"synapse_model": "test_plastic", "weight": w0, "delay": DELAY, "receptor_type": 1})
    t_end = max(max(t) for t in pre_trains) + 10.0
    nest.Simulate(t_end)
    weights = []
    for i in range(n):
        conn = nest.GetConnections(pre[i], post[i])
        weights.append(conn.get("weight"))
    ev_pre, ev_post = rec_pre.get("events"), rec_post.get("events")
    times_pre = [np.sort(ev_pre["times"][ev_pre["senders"] == pre[i].global_id]) for i in range(n)]
    times_post = [np.sort(ev_post["times"][ev_post["senders"] == post[i].global_id]) for i in range(n)]
    return np.array(weights), times_pre, times_post


def stdp_reference(pre, post, w0, Wmax, lam, alpha, mu_plus, mu_minus, tau_plus, tau_minus, d):
    """NEST's documented stdp_synapse rule, evaluated event by event in synapse time (NumPy)."""
    events = sorted([(t, 0) for t in pre] + [(t + d, 1) for t in post])
    w = w0 / Wmax
    for s, kind in events:
        if kind == 1:  # postsynaptic spike reaches the synapse: facilitation by earlier pre spikes
            kplus = np.sum(np.exp(-(s - pre[pre < s]) / tau_plus))
            w = min(w + lam * (1.0 - w) ** mu_plus * kplus, 1.0)
        else:  # presynaptic spike: depression by earlier post spikes
            arrived = post[post + d < s] + d
            kminus = np.sum(np.exp(-(s - arrived) / tau_minus))
            w = max(w - alpha * lam * w**mu_minus * kminus, 0.0)
    return w * Wmax


def triplet_reference(pre, post, w0, Wmax, A2p, A3p, A2m, A3m, tau_plus, tau_x, tau_minus, tau_y, d):
    """Pfister & Gerstner (2006) triplet rule, all-to-all traces, additive, weights in [0, Wmax] (NumPy).

    At a post spike: w += r1 * (A2+ + A3+ * o2(t - eps)); at a pre spike: w -= o1 * (A2- + A3- * r2(t - eps)).
    r1, r2 are presynaptic traces (tau_plus, tau_x), o1, o2 postsynaptic ones (tau_minus, tau_y).
    """
    events = sorted([(t, 0) for t in pre] + [(t + d, 1) for t in post])
    w = w0
    for s, kind in events:
        p_before = pre[pre < s]
        o_before = post[post + d < s] + d
        if kind == 1:
            r1 = np.sum(np.exp(-(s - p_before) / tau_plus))
            o2 = np.sum(np.exp(-(s - o_before) / tau_y))
            w = min(w + r1 * (A2p + A3p * o2), Wmax)
        else:
            o1 = np.sum(np.exp(-(s - o_before) / tau_minus))
            r2 = np.sum(np.exp(-(s - p_before) / tau_x))
            w = max(w - o1 * (A2m + A3m * r2), 0.0)
    return w


STDP = {"lambda": 0.05, "alpha": 1.1, "mu_plus": 0.5, "mu_minus": 0.8, "tau_plus": 16.8, "Wmax": 100.0}
TAU_MINUS = 33.7
W0 = 50.0
LAGS = [-40.0, -20.0, -10.0, -5.0, -2.0, 2.0, 5.0, 10.0, 20.0, 40.0]  # (t_post + d) - t_pre, ms


def test_stdp_synapse_matches_the_pair_window(nest_module):
    nest = nest_module
    t_pre = 100.0
    pre_trains = [[t_pre, t_pre + 1000.0] for _ in LAGS]
    post_trains = [[round(t_pre + lag - DELAY, 1)] for lag in LAGS]  # both parrots lag their generators by one delay
    weights, times_pre, times_post = _run_pairs(nest, "stdp_synapse", STDP, {"tau_minus": TAU_MINUS}, pre_trains, post_trains, W0)
    lam, alpha, mp, mm, tp, wmax = (STDP[k] for k in ("lambda", "alpha", "mu_plus", "mu_minus", "tau_plus", "Wmax"))
    wt = W0 / wmax
    for lag, w, tpre, tpost in zip(LAGS, weights, times_pre, times_post):
        assert tpost[0] + DELAY - tpre[0] == pytest.approx(lag, abs=1e-9)  # the protocol made the intended lag
        if lag > 0:  # analytic window: potentiation lambda (1 - w)^mu+ exp(-lag / tau+)
            expected = wmax * (wt + lam * (1 - wt) ** mp * np.exp(-lag / tp))
        else:  # depression alpha lambda w^mu- exp(lag / tau-)
            expected = wmax * (wt - alpha * lam * wt**mm * np.exp(lag / TAU_MINUS))
        assert w == pytest.approx(expected, rel=1e-9, abs=1e-9), f"lag {lag} ms"
        ref = stdp_reference(tpre, tpost, W0, wmax, lam, alpha, mp, mm, tp, TAU_MINUS, DELAY)
        assert w == pytest.approx(ref, rel=1e-12, abs=1e-12)
    # the window's shape: potentiation decays with the lag, depression is stronger at short lags
    changes = weights - W0
    assert np.all(changes[np.array(LAGS) > 0] > 0) and np.all(changes[np.array(LAGS) < 0] < 0)
    assert changes[LAGS.index(2.0)] > changes[LAGS.index(40.0)] > 0


def test_stdp_synapse_matches_reference_on_random_trains(nest_module):
    nest = nest_module
    rng = np.random.default_rng(3)
    pre_trains, post_trains = [], []
    for _ in range(5):
        pre = np.unique(np.round(np.sort(rng.uniform(5, 800, 25)), 1))
        post = np.unique(np.round(np.sort(rng.uniform(5, 800, 25)), 1))
        pre_trains.append(list(pre) + [1900.0])
        post_trains.append(list(post))
    weights, times_pre, times_post = _run_pairs(nest, "stdp_synapse", STDP, {"tau_minus": TAU_MINUS}, pre_trains, post_trains, W0)
    for w, tpre, tpost in zip(weights, times_pre, times_post):
        # coincident pre and post arrivals are an edge case of the discretised rule; the trains avoid them
        assert not np.intersect1d(np.round(tpre, 6), np.round(tpost + DELAY, 6)).size
        ref = stdp_reference(tpre, tpost, W0, STDP["Wmax"], STDP["lambda"], STDP["alpha"], STDP["mu_plus"], STDP["mu_minus"], STDP["tau_plus"], TAU_MINUS, DELAY)
        assert w == pytest.approx(ref, rel=1e-10)
        assert abs(w - W0) > 1e-3  # the trains did change the weight


TRIPLET = {"tau_plus": 16.8, "tau_plus_triplet": 101.0, "Aplus": 0.5, "Aminus": 0.7, "Aplus_triplet": 0.3, "Aminus_triplet": 0.1, "Wmax": 1000.0}
POST_TRIPLET = {"tau_minus": 33.7, "tau_minus_triplet": 125.0}


def _triplet_ref(tpre, tpost):
    return triplet_reference(
        tpre, tpost, W0, TRIPLET["Wmax"], TRIPLET["Aplus"], TRIPLET["Aplus_triplet"], TRIPLET["Aminus"],
        TRIPLET["Aminus_triplet"], TRIPLET["tau_plus"], TRIPLET["tau_plus_triplet"],
        POST_TRIPLET["tau_minus"], POST_TRIPLET["tau_minus_triplet"], DELAY,
    )


def test_stdp_triplet_synapse_matches_the_triplet_formula(nest_module):
    nest = nest_module
    # pair, pre-post-post and post-pre-post triplets, and a burst; readout pre spike 1 s later
    protocols = [
        ([100.0], [110.0]),
        ([100.0], [110.0, 120.0]),
        ([100.0], [90.0, 110.0]),
        ([100.0, 105.0], [95.0, 120.0]),
        ([100.0, 110.0, 120.0, 130.0], [103.0, 113.0, 123.0, 133.0]),
    ]
    pre_trains = [pre + [1500.0] for pre, _ in protocols]
    post_trains = [[t - 2 * DELAY for t in post] for _, post in protocols]
    weights, times_pre, times_post = _run_pairs(nest, "stdp_triplet_synapse", TRIPLET, POST_TRIPLET, pre_trains, post_trains, W0)
    for w, tpre, tpost in zip(weights, times_pre, times_post):
        assert w == pytest.approx(_triplet_ref(tpre, tpost), rel=1e-10)
    # closed form of the first protocol (one pair, lag 10 ms at the synapse - 2 ms generator delays + 1 ms d):
    lag = times_post[0][0] + DELAY - times_pre[0][0]
    assert weights[0] == pytest.approx(W0 + TRIPLET["Aplus"] * np.exp(-lag / TRIPLET["tau_plus"]), rel=1e-9)
    # pre-post-post in closed form: the second post spike adds r1 x (A2+ + A3+ x o2), o2 = exp(-(t2 - t1) / tau_y)
    t_pre, (t1, t2) = times_pre[1][0], times_post[1] + DELAY
    expected = W0 + TRIPLET["Aplus"] * np.exp(-(t1 - t_pre) / TRIPLET["tau_plus"]) + np.exp(-(t2 - t_pre) / TRIPLET["tau_plus"]) * (
        TRIPLET["Aplus"] + TRIPLET["Aplus_triplet"] * np.exp(-(t2 - t1) / POST_TRIPLET["tau_minus_triplet"])
    )
    assert weights[1] == pytest.approx(expected, rel=1e-9)
    pair_only = expected - np.exp(-(t2 - t_pre) / TRIPLET["tau_plus"]) * TRIPLET["Aplus_triplet"] * np.exp(-(t2 - t1) / POST_TRIPLET["tau_minus_triplet"])
    assert weights[1] - pair_only > 0.05  # and it matters: the pair rule alone misses it by more than 0.05


def test_stdp_triplet_synapse_matches_reference_on_random_trains(nest_module):
    nest = nest_module
    rng = np.random.default_rng(11)
    pre_trains, post_trains = [], []
    for _ in range(5):
        pre = np.unique(np.round(rng.uniform(5, 600, 30), 1))
        post = np.unique(np.round(rng.uniform(5, 600, 30), 1))
        pre_trains.append(list(pre) + [1700.0])
        post_trains.append(list(post))
    weights, times_pre, times_post = _run_pairs(nest, "stdp_triplet_synapse", TRIPLET, POST_TRIPLET, pre_trains, post_trains, W0)
    for w, tpre, tpost in zip(weights, times_pre, times_post):
        assert not np.intersect1d(np.round(tpre, 6), np.round(tpost + DELAY, 6)).size
        assert w == pytest.approx(_triplet_ref(tpre, tpost), rel=1e-10)
