"""Klampfl & Maass (2013) sequence learning: a grid of soft-max WTA circuits with STDP.

The neurons and recurrent synapses come from spikeflow's C++ NEST extension module
(:mod:`spikeflow.nestext`; needs NEST built from the sdist). Parameters and structure are in
:mod:`spikeflow.models.sequence_params`, the NEST builder in :mod:`spikeflow.sequence.network`.
Runs have phases (test before training, training, test after training; plasticity on only in
training), so this family has its own driver, ``spikeflow sequence``
(:func:`spikeflow.sequence.driver.main`), named by :data:`DRIVER`.
"""

from __future__ import annotations

from typing import Any, Mapping

from spikeflow.models.network import Network
from spikeflow.models.sequence_params import SequenceDerived, SequenceParams, derive

# The command that produces a run's spikes.h5 (see workflow/rules/common.smk).
DRIVER = "sequence"
NEURON_MODEL = "wta_neuron"
SYNAPSE_MODEL = "wta_stp_synapse"

# The structure seed is the run seed; params_from_config has no access to it, so the derived
# structure used for describe() is that of seed 0 (sizes vary by seed only through the
# circuit-size draws; the counts below are those of that draw).
_DESCRIBE_SEED = 0


def params_from_config(params: Mapping[str, Any]) -> SequenceDerived:
    """Validated parameters, with the structure drawn for the describe seed."""
    return derive(SequenceParams.from_config(params), _DESCRIBE_SEED)


def resolved_params(d: SequenceDerived) -> dict[str, Any]:
    return d.params.to_dict()


def describe(d: SequenceDerived) -> dict[str, Any]:
    """Sizes and connection counts (for the describe seed's circuit sizes)."""
    p = d.params
    return {
        "populations": [{"name": "wta", "size": d.n_neurons}, {"name": "inputs", "size": p.n_inputs}],
        "connections": {
            "static_synapse": p.n_inputs * d.n_neurons + 2 * p.n_inputs,
            SYNAPSE_MODEL: d.n_recurrent_synapses,
        },
        "reference_rates_hz": {"wta": p.R_max * d.n_circuits / d.n_neurons},
        "derived": {"n_circuits": d.n_circuits, "n_links": int(len(d.links))},
    }


def create(d: SequenceDerived) -> Network:
    """Create the network (neurons placed per virtual process, generators, parrots)."""
    import nest

    from spikeflow import nestext
    from spikeflow.sequence import network

    nestext.load(nest)
    net = network.create(nest, d)
    return Network(populations={"wta": net.neurons, "inputs": net.parrots}, devices={"sequence": net, "generators": net.generators})


def connect(net: Network, d: SequenceDerived) -> None:
    import nest

    from spikeflow.sequence import network

    network.connect(nest, net.devices["sequence"])
