"""The WTA grid network in NEST (needs the ``spikeflow_wta`` extension module).

Each circuit's neurons are placed on one virtual process (the soft-max is computed per circuit
inside the VP; see :func:`spikeflow.models.sequence.params.vp_layout`): the neurons are
created as one block whose unused slots are silent padding neurons (``R_max = 0``, a circuit
of their own). Inputs: one ``spike_generator`` per channel feeding a ``parrot_neuron`` that
projects to every network neuron (static synapse, amplitude ``input_weight``). Each circuit
link I -> J connects every neuron of I to every neuron of J with a ``wta_stp_synapse`` whose
U, tau_d, tau_f are drawn per connection (NumPy, from the structure seed: the same on every
rank and for every split of the VPs into ranks x threads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikeflow.models.sequence.params import SequenceDerived, neuron_slots, structure_rng, vp_layout

NEURON_MODEL = "wta_neuron"
STP_SYNAPSE = "wta_stp_synapse"


@dataclass
class SequenceNetwork:
    """Handles of a built network.

    Attributes:
        derived: the structure it was built from.
        block: all created WTA nodes (neurons and padding).
        neuron_ids: NEST node id of each neuron in model order, shape (n_neurons,).
        neurons: NodeCollection of the real neurons (sorted by node id).
        generators, parrots: one per input channel.
        vp_of_circuit: the VP each circuit lives on, shape (n_circuits,).
    """

    derived: SequenceDerived
    block: Any
    neuron_ids: np.ndarray
    neurons: Any
    generators: Any
    parrots: Any
    vp_of_circuit: np.ndarray

    def model_index(self, node_ids: np.ndarray) -> np.ndarray:
        """Model-order index of each NEST node id (-1 if not a network neuron)."""
        lookup = np.full(int(self.neuron_ids.max()) + 1, -1)
        lookup[self.neuron_ids] = np.arange(self.neuron_ids.size)
        node_ids = np.asarray(node_ids, dtype=np.int64)
        out = np.full(node_ids.shape, -1)
        ok = node_ids < lookup.size
        out[ok] = lookup[node_ids[ok]]
        return out


def create(nest: Any, d: SequenceDerived) -> SequenceNetwork:
    """Create neurons (placed per VP), input generators and parrots; no connections yet."""
    p = d.params
    n_vp = int(nest.total_num_virtual_procs)
    vp_of, vp_row = vp_layout(d.sizes, n_vp)
    first = int(nest.network_size) + 1
    slots, n_slots = neuron_slots(vp_row, n_vp, first)
    nest.SetDefaults(
        NEURON_MODEL,
        {
            "R_max": p.R_max,
            "tau_rise": p.tau_rise,
            "tau_decay": p.tau_decay,
            "eta": p.eta,
            "variance_tracking": p.variance_tracking,
            "learning": True,
        },
    )
    block = nest.Create(NEURON_MODEL, n_slots)
    circuit = np.full(n_slots, -1, dtype=np.int64)
    circuit[slots] = d.circuit_of_neuron
    size = np.ones(n_slots, dtype=np.int64)
    size[slots] = d.sizes[d.circuit_of_neuron]
    pad = circuit < 0
    circuit[pad] = d.n_circuits + np.arange(int(pad.sum()))  # each padding node its own circuit
    rmax = np.where(pad, 0.0, p.R_max)
    block.set([{"circuit": int(c), "circuit_size": int(k), "R_max": float(r)} for c, k, r in zip(circuit, size, rmax)])
    neuron_ids = first + slots
    neurons = nest.NodeCollection(sorted(neuron_ids.tolist()))
    generators = nest.Create("spike_generator", p.n_inputs)
    parrots = nest.Create("parrot_neuron", p.n_inputs)
    return SequenceNetwork(d, block, neuron_ids, neurons, generators, parrots, vp_of)


def circuit_nodes(nest: Any, net: SequenceNetwork, c: int) -> Any:
    """NodeCollection of circuit ``c``'s neurons."""
    d = net.derived
    ids = net.neuron_ids[d.first_neuron[c] : d.first_neuron[c] + d.sizes[c]]
    return nest.NodeCollection(sorted(ids.tolist()))


def stp_draws(d: SequenceDerived, n: int, rng: np.random.Generator, resolution: float) -> dict[str, np.ndarray]:
    """U, tau_d, tau_f for ``n`` connections: N(mu, (rel_sd mu)^2), U clipped to [0, 1], taus >= resolution."""
    p = d.params
    U = np.clip(rng.normal(p.U, p.stp_rel_sd * p.U, n), 0.0, 1.0)
    tau_d = np.maximum(rng.normal(p.tau_d, p.stp_rel_sd * p.tau_d, n), resolution)
    tau_f = np.maximum(rng.normal(p.tau_f, p.stp_rel_sd * p.tau_f, n), resolution)
    return {"U": U, "tau_d": tau_d, "tau_f": tau_f}


def connect(nest: Any, net: SequenceNetwork) -> None:
    """Inputs -> parrots -> every neuron; circuit links with STP (or static amplitude 1)."""
    d = net.derived
    p = d.params
    nest.Connect(net.generators, net.parrots, "one_to_one")
    nest.Connect(net.parrots, net.neurons, "all_to_all", {"synapse_model": "static_synapse", "weight": p.input_weight, "delay": p.delay})
    rng = structure_rng(d.seed + 1)
    resolution = float(nest.resolution)
    for src, tgt in d.links:
        pre, post = circuit_nodes(nest, net, int(src)), circuit_nodes(nest, net, int(tgt))
        shape = (len(post), len(pre))
        syn = {"synapse_model": STP_SYNAPSE, "delay": p.delay}
        if p.stp:
            draws = stp_draws(d, shape[0] * shape[1], rng, resolution)
            syn.update({k: v.reshape(shape) for k, v in draws.items()})
            syn["u"] = syn["U"]
        else:
            syn.update({"U": 1.0, "u": 1.0, "tau_d": resolution, "tau_f": resolution})
        nest.Connect(pre, post, "all_to_all", syn)


def set_input_spikes(nest: Any, net: SequenceNetwork, spike_times: list[np.ndarray]) -> None:
    """Give each channel's generator its spike times (ms; must lie in the future and on the grid)."""
    net.generators.set([{"spike_times": np.asarray(t, dtype=float).tolist()} for t in spike_times])


def set_learning(net: SequenceNetwork, on: bool) -> None:
    """Switch STDP of all network neurons on or off."""
    net.neurons.set({"learning": bool(on)})
