"""Potjans & Diesmann (2014) cortical microcircuit in NEST.

Eight populations of ``iaf_psc_exp`` neurons (L2/3, L4, L5, L6; excitatory and inhibitory),
connected pathway by pathway with ``fixed_total_number`` (multapses and autapses allowed),
normally distributed weights and delays, background input as Poisson spike trains or as an
equivalent DC current, and an optional thalamic burst. The numbers come from
:mod:`spikeflow.models.pd14.params`; this module only turns them into NEST calls.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from spikeflow.models.network import Network
from spikeflow.models.pd14.params import (
    NUM_TH_NEURONS,
    V0_OPTIMIZED_MEAN,
    V0_OPTIMIZED_STD,
    V0_ORIGINAL_MEAN,
    V0_ORIGINAL_STD,
    Pd14Derived,
    Pd14Params,
    derive,
)

NEURON_MODEL = "iaf_psc_exp"
SYNAPSE_MODEL = "static_synapse"
# Copies of SYNAPSE_MODEL for connections from excitatory (recurrent E, background, thalamus) and
# inhibitory sources: NEST's connection limit per virtual process counts per synapse model.
SYNAPSE_EX, SYNAPSE_IN = "pd14_static_ex", "pd14_static_in"


def synapse_models(d: Pd14Derived) -> tuple[str, str]:
    """The synapse models of (excitatory, inhibitory) connections: copies or both ``static_synapse``."""
    from spikeflow.preflight import MAX_CONNECTIONS_PER_VP

    mode = d.params.synapse_copies
    total = d.total_synapses + int(d.num_th_synapses.sum()) + d.total_neurons
    copies = mode == "always" or (mode == "auto" and total > MAX_CONNECTIONS_PER_VP)
    return (SYNAPSE_EX, SYNAPSE_IN) if copies else (SYNAPSE_MODEL, SYNAPSE_MODEL)


def _excitatory(name: str) -> bool:
    return name.endswith("E")


def params_from_config(params: Mapping[str, Any]) -> Pd14Derived:
    """Validated parameters of one run, with all derived quantities."""
    return derive(Pd14Params.from_config(params))


def describe(d: Pd14Derived) -> dict[str, Any]:
    """Sizes, reference rates and connection counts of the network ``d`` describes.

    Connection counts per synapse model include the background generators' one connection
    per neuron and the thalamic synapses, but not recording devices (the driver adds those).
    """
    exc_sources = np.array([_excitatory(n) for n in d.populations])
    n_ex = int(d.num_synapses[:, exc_sources].sum()) + int(d.num_th_synapses.sum())
    n_in = int(d.num_synapses[:, ~exc_sources].sum())
    if d.params.bg_input == "poisson":
        n_ex += d.total_neurons
    n_static = NUM_TH_NEURONS if d.params.thalamic_input else 0  # generator -> parrots
    ex_model, in_model = synapse_models(d)
    connections: dict[str, int] = {}
    for model, n in ((SYNAPSE_MODEL, n_static), (ex_model, n_ex), (in_model, n_in)):
        connections[model] = connections.get(model, 0) + n
    return {
        "populations": [{"name": n, "size": int(s)} for n, s in zip(d.populations, d.num_neurons)],
        "reference_rates_hz": dict(zip(d.populations, map(float, d.reference_rates))),
        "connections": {k: v for k, v in connections.items() if v > 0},
        "recurrent_synapses": d.total_synapses,
        "derived": {
            "num_synapses": d.num_synapses,
            "ext_indegrees": d.ext_indegrees,
            "weights_pA": d.weights,
            "weight_ext_pA": d.weight_ext,
            "dc_amp_pA": d.dc_amp,
            "poisson_rates_hz": d.poisson_rates,
            "num_th_synapses": d.num_th_synapses,
        },
    }


def create(d: Pd14Derived) -> Network:
    """Create the neurons and input devices (no connections yet)."""
    import nest

    p = d.params
    neuron_defaults = {
        "E_L": p.E_L,
        "V_th": p.V_th,
        "V_reset": p.V_reset,
        "C_m": p.C_m,
        "tau_m": p.tau_m,
        "tau_syn_ex": p.tau_syn,
        "tau_syn_in": p.tau_syn,
        "t_ref": p.t_ref,
    }
    populations = {}
    for i, name in enumerate(d.populations):
        # One model copy per population carries its parameters as defaults: setting defaults
        # once is ~20x cheaper than setting the same values on every node.
        model = f"pd14_{name}"
        nest.CopyModel(NEURON_MODEL, model, {**neuron_defaults, "I_e": float(d.dc_amp[i])})
        if p.V0_type == "optimized":
            v0 = nest.random.normal(V0_OPTIMIZED_MEAN[i], V0_OPTIMIZED_STD[i])
        else:
            v0 = nest.random.normal(V0_ORIGINAL_MEAN, V0_ORIGINAL_STD)
        populations[name] = nest.Create(model, int(d.num_neurons[i]), params={"V_m": v0})

    devices = {}
    if p.bg_input == "poisson":
        devices["background"] = nest.Create("poisson_generator", len(d.populations), params={"rate": d.poisson_rates.tolist()})
    if p.thalamic_input:
        devices["thalamus"] = nest.Create("parrot_neuron", NUM_TH_NEURONS)
        devices["thalamic_drive"] = nest.Create(
            "poisson_generator",
            params={"rate": p.th_rate, "start": p.th_start, "stop": p.th_start + p.th_duration},
        )
    return Network(populations=populations, devices=devices)


def connect(net: Network, d: Pd14Derived) -> None:
    """Connect recurrent pathways, background and thalamic input."""
    import nest

    p = d.params
    pops = list(net.populations.values())
    shortest_delay = 0.5 * float(nest.resolution)  # read once: each read of a kernel attribute asks NEST's whole status
    ex_model, in_model = synapse_models(d)
    for copy in {ex_model, in_model} - {SYNAPSE_MODEL}:
        nest.CopyModel(SYNAPSE_MODEL, copy)
    for i, target in enumerate(pops):
        for j, source in enumerate(pops):
            n_syn = int(d.num_synapses[i, j])
            if n_syn == 0:
                continue
            nest.Connect(
                source,
                target,
                {"rule": "fixed_total_number", "N": n_syn},
                {
                    "synapse_model": ex_model if _excitatory(d.populations[j]) else in_model,
                    "weight": _signed_normal(nest, d.weights[i, j], p.weight_rel_std),
                    "delay": _positive_delay(nest, d.delays[i, j], p.delay_rel_std, shortest_delay),
                },
            )
    if p.bg_input == "poisson":
        for i, target in enumerate(pops):
            nest.Connect(
                net.devices["background"][i],
                target,
                "all_to_all",
                {"synapse_model": ex_model, "weight": d.weight_ext, "delay": p.delay_poisson},
            )
    if p.thalamic_input:
        thalamus = net.devices["thalamus"]
        nest.Connect(net.devices["thalamic_drive"], thalamus)
        for i, target in enumerate(pops):
            if d.num_th_synapses[i] == 0:
                continue
            nest.Connect(
                thalamus,
                target,
                {"rule": "fixed_total_number", "N": int(d.num_th_synapses[i])},
                {
                    "synapse_model": ex_model,
                    "weight": _signed_normal(nest, d.weight_th, p.weight_rel_std),
                    "delay": _positive_delay(nest, p.delay_th_mean, p.delay_th_rel_std, shortest_delay),
                },
            )


def _signed_normal(nest: Any, mean: float, rel_std: float) -> Any:
    """Normal weights around ``mean`` (pA), redrawn until they keep the sign of the mean."""
    if rel_std == 0:
        return float(mean)
    low, high = (0.0, np.inf) if mean >= 0 else (-np.inf, 0.0)
    return nest.math.redraw(nest.random.normal(mean=float(mean), std=abs(mean * rel_std)), min=low, max=high)


def _positive_delay(nest: Any, mean: float, rel_std: float, shortest: float) -> Any:
    """Normal delays around ``mean`` (ms), redrawn below ``shortest`` (half a step, ms) so they round to >= 1 step."""
    if rel_std == 0:
        return float(mean)
    return nest.math.redraw(nest.random.normal(mean=float(mean), std=float(mean * rel_std)), min=shortest, max=np.inf)
