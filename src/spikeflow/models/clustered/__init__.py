"""Clustered E/I LIF network in NEST (Papadopoulos et al. 2024; Rostami et al. 2024).

``iaf_psc_exp`` neurons (C_m 1 pF, E_L = V_reset), one NEST population per cluster and
background population, connected block by block (fixed in-degree without autapses, or
pairwise Bernoulli), one Poisson generator per population for the external drive (each
neuron gets its own train of ``c_ext * nu_ext`` spikes/s), a DC current for ``mu_ext``, an
optional stimulus (``step_current_generator``) and vectorial perturbations; timed ones are
switched by the driver at their onset and offset. All numbers come from
:mod:`spikeflow.models.clustered.params`; this module only turns them into NEST calls.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from spikeflow.models.clustered.params import (
    C_M,
    ClusteredNetwork,
    derive,
    resolve_params,
)
from spikeflow.models.network import Network

NEURON_MODEL = "iaf_psc_exp"
SYNAPSE_MODEL = "static_synapse"
STIMULUS_STEP_MS = 1.0  # sampling of shaped stimuli


def complete_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The preset filled in under the config's overrides (so that sweeps can address any key)."""
    return resolve_params(params)


def params_from_config(params: Mapping[str, Any]) -> ClusteredNetwork:
    """Validated parameters of one run, with everything derived."""
    return derive(resolve_params(params))


def resolved_params(net: ClusteredNetwork) -> dict[str, Any]:
    """The full parameter set stored in a run's config snapshot."""
    return dict(net.params)


def describe(net: ClusteredNetwork) -> dict[str, Any]:
    """Sizes, connection counts, cluster layout and the drawn perturbations of the network."""
    recurrent = int(np.round((net.K * net.sizes[:, None]).sum()))
    generators = int(net.sizes[net.c_ext * net.nu_ext > 0].sum())
    e_clusters = [n for n, t, c in zip(net.names, net.types, net.cluster) if t == "E" and c >= 0]
    i_clusters = [n for n, t, c in zip(net.names, net.types, net.cluster) if t == "I" and c >= 0]
    return {
        "populations": [{"name": n, "size": int(s)} for n, s in zip(net.names, net.sizes)],
        "connections": {SYNAPSE_MODEL: recurrent + generators},
        "recurrent_synapses": recurrent,
        "clusters": {
            "n_clusters": net.n_clusters,
            "e_clusters": e_clusters,
            "i_clusters": i_clusters,
            "background": [n for n, c in zip(net.names, net.cluster) if c < 0],
        },
        "perturbations": [p.to_dict() for p in net.perturbations],
        "stimulus": stimulus_targets(net),
        "derived": {
            "K": net.K,
            "J_mV": net.J,
            "weights_pA": net.weights_pA(),
            "nu_ext_hz": net.nu_ext,
            "dc_pA": net.dc_pA(),
        },
    }


def stimulus_targets(net: ClusteredNetwork) -> dict[str, Any] | None:
    """Which E clusters and which of their neurons (0-based in the population) get the stimulus."""
    stim = net.params.get("stimulus")
    if not stim:
        return None
    rng = np.random.default_rng(stim.get("seed", 0))
    q = net.n_clusters
    clusters = stim.get("clusters")
    if clusters is None:
        n = int(round(stim.get("cluster_fraction", 0.0) * q))
        clusters = sorted(rng.choice(q, size=n, replace=False).tolist())
    bad = [c for c in clusters if c >= q]
    if bad:
        raise ValueError(f"params.stimulus.clusters: cluster {bad[0]} does not exist (there are {q})")
    neurons = {}
    for c in clusters:
        size = int(net.sizes[net.names.index(f"E{c}")])
        n = int(round(stim.get("neuron_fraction", 1.0) * size))
        neurons[f"E{c}"] = sorted(rng.choice(size, size=n, replace=False).tolist())
    return {"clusters": list(map(int, clusters)), "neurons": neurons}


def stimulus_trace(stim: Mapping[str, Any], resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Times (ms) and amplitudes (mV of mean input) of the stimulus as steps.

    ``box``: the amplitude over each interval; ``linear``: a ramp from 0 to the amplitude over
    each interval; ``diff2exp``: ``a (exp(-t/tau_decay) - exp(-t/tau_rise))`` from each
    interval's start, normalized to peak ``a``, until its stop. Shaped stimuli are sampled every
    ``STIMULUS_STEP_MS`` ms.
    """
    shape = stim.get("shape", "box")
    amp = float(stim["amplitude"])
    times, values = [], []
    for start, stop in stim.get("intervals", [[0.0, 1.0e9]]):
        start = max(float(start), resolution)  # a step_current_generator cannot switch at 0
        if stop <= start:
            raise ValueError(f"params.stimulus.intervals: [{start}, {stop}] is empty")
        if shape == "box":
            t = np.array([start])
            v = np.array([amp])
        else:
            t = np.arange(start, stop, STIMULUS_STEP_MS)
            s = t - start
            if shape == "linear":
                v = amp * s / (stop - start)
            else:
                tr, td = float(stim.get("tau_rise", 75.0)), float(stim.get("tau_decay", 100.0))
                kernel = np.exp(-s / td) - np.exp(-s / tr)
                t_peak = tr * td / (td - tr) * np.log(td / tr) if td != tr else tr
                v = amp * kernel / (np.exp(-t_peak / td) - np.exp(-t_peak / tr))
        times.append(t)
        values.append(v)
        times.append(np.array([stop]))
        values.append(np.array([0.0]))
    t = np.round(np.concatenate(times) / resolution) * resolution
    return t, np.concatenate(values)


def create(net: ClusteredNetwork) -> Network:
    """Create neurons (initial V_m drawn by NEST's RNG), drive and stimulus devices."""
    import nest

    v_init = net.params.get("v_init", "uniform")
    populations = {}
    for a, name in enumerate(net.names):
        params = {
            "E_L": float(net.V_r[a]),
            "V_reset": float(net.V_r[a]),
            "V_th": float(net.V_r[a] + net.theta[a]),
            "C_m": C_M,
            "tau_m": float(net.tau_m[a]),
            "tau_syn_ex": float(net.tau_s[a]),
            "tau_syn_in": float(net.tau_s[a]),
            "t_ref": float(net.tau_ref[a]),
            "I_e": float(net.dc_pA()[a]),
        }
        pop = nest.Create(NEURON_MODEL, int(net.sizes[a]), params=params)
        v_r, v_th = params["V_reset"], params["V_th"]
        if v_init == "lognormal":
            pop.V_m = v_th - 20.0 * nest.random.lognormal(mean=0.0, std=1.0)
        else:
            pop.V_m = nest.random.uniform(min=v_r, max=v_th)
        populations[name] = pop

    devices = {}
    for a, name in enumerate(net.names):
        rate = float(net.c_ext[a] * net.nu_ext[a])
        if net.c_ext[a] > 0 and net.j_ext[a] != 0:
            devices[f"drive_{name}"] = nest.Create("poisson_generator", params={"rate": rate})
    return Network(populations=populations, devices=devices)


def connect(network: Network, net: ClusteredNetwork) -> None:
    """Connect the blocks, the drive and the stimulus; register timed perturbations."""
    import nest

    delay = float(net.params["delay"])
    pops = [network.populations[n] for n in net.names]
    rng = np.random.default_rng([int(nest.rng_seed), 20240403])
    sources, targets, weights = recurrent_connections(net, [int(p[0].global_id) for p in pops], rng)
    nest.Connect(sources, targets, "one_to_one",
                 {"synapse_model": SYNAPSE_MODEL, "weight": weights, "delay": np.full(len(weights), delay)})
    ext_w = net.ext_weight_pA()
    for a, name in enumerate(net.names):
        gen = network.devices.get(f"drive_{name}")
        if gen is not None:
            nest.Connect(gen, pops[a], "all_to_all", {"weight": float(ext_w[a]), "delay": delay})

    stim = net.params.get("stimulus")
    targets = stimulus_targets(net)
    if stim and targets and targets["neurons"]:
        resolution = float(nest.resolution)
        times, values = stimulus_trace(stim, resolution)
        for name, ids in targets["neurons"].items():
            a = net.names.index(name)
            gen = nest.Create("step_current_generator", params={
                "amplitude_times": times.tolist(),
                "amplitude_values": (values * C_M / net.tau_m[a]).tolist(),
            })
            network.devices[f"stimulus_{name}"] = gen
            nest.Connect(gen, pops[a][ids] if len(ids) < len(pops[a]) else pops[a])
    network.events.extend(_timed_perturbation_events(network, net))


def recurrent_connections(
    net: ClusteredNetwork, first_ids: list[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw all recurrent connections, block by block.

    ``fixed_indegree``: every neuron of population a gets ``K[a, b]`` distinct inputs from
    population b (no autapses); ``pairwise_bernoulli``: each pair independently with
    probability ``K[a, b] / (N_b - [a == b])``. Drawn with numpy from a generator seeded by
    the kernel seed, so every MPI rank draws the same network (NEST keeps the local targets)
    and one ``Connect`` call makes them all.

    Args:
        net: the derived network.
        first_ids: NEST node id of the first neuron of every population, (n_pop,).
        rng: the generator.

    Returns:
        Source ids, target ids (uint64) and weights in pA, each (n_connections,).
    """
    fixed = net.params["connectivity"] == "fixed_indegree"
    weights_pA = net.weights_pA()
    src, tgt, w = [], [], []
    for a in range(net.n_pop):
        n_post = int(net.sizes[a])
        for b in range(net.n_pop):
            n_pre, k = int(net.sizes[b]), net.K[a, b]
            if k <= 0 or weights_pA[a, b] == 0:
                continue
            draw = rng.random((n_post, n_pre))
            if a == b:
                np.fill_diagonal(draw, np.inf if fixed else 2.0)  # no autapses
            if fixed:
                pre = np.argpartition(draw, int(k) - 1, axis=1)[:, : int(k)] if k < n_pre else np.argsort(draw, axis=1)[:, : int(k)]
                post = np.repeat(np.arange(n_post), int(k))
                pre = pre.ravel()
            else:
                post, pre = np.nonzero(draw < k / (n_pre - (a == b)))
            src.append(pre + first_ids[b])
            tgt.append(post + first_ids[a])
            w.append(np.full(len(pre), weights_pA[a, b]))
    return (np.concatenate(src).astype(np.uint64), np.concatenate(tgt).astype(np.uint64), np.concatenate(w))


def _timed_perturbation_events(network: Network, net: ClusteredNetwork) -> list[tuple[float, Callable[[], None]]]:
    """Actions that switch each timed perturbation on at its onset and off at its offset."""
    import nest

    resolution = float(nest.resolution)
    events = []
    for pert in net.perturbations:
        if not pert.timed:
            continue
        on = derive(net.params, timed_on=(pert.target,))
        for t, state in ((pert.onset_ms or 0.0, on), (pert.offset_ms, net)):
            if t is None:
                continue
            if abs(t / resolution - round(t / resolution)) > 1e-9:
                raise ValueError(f"params.perturbation.{pert.target}: time {t} ms is not a multiple of the resolution {resolution} ms")
            setter = _setter(network, state, pert.target)
            if t <= 0:
                setter()
            else:
                events.append((float(t), setter))
    return events


def _setter(network: Network, state: ClusteredNetwork, target: str) -> Callable[[], None]:
    """An action that sets the NEST quantity ``target`` acts on to its values in ``state``."""
    import nest

    def apply() -> None:
        for a, name in enumerate(state.names):
            pop = network.populations[name]
            if target == "rate":
                gen = network.devices.get(f"drive_{name}")
                if gen is not None:
                    gen.rate = float(state.c_ext[a] * state.nu_ext[a])
            elif target == "j_ext":
                gen = network.devices.get(f"drive_{name}")
                if gen is not None:
                    nest.GetConnections(source=gen).set(weight=float(state.ext_weight_pA()[a]))
            elif target == "threshold":
                pop.V_th = float(state.V_r[a] + state.theta[a])
            elif target == "tau_membrane":
                pop.set(tau_m=float(state.tau_m[a]), I_e=float(state.dc_pA()[a]))
            elif target == "tau_refractory":
                pop.t_ref = float(state.tau_ref[a])

    return apply
