"""Klampfl & Maass (2013) sequence learning: a grid of soft-max WTA circuits with STDP.

The neurons and recurrent synapses come from spikeflow's C++ NEST extension module
(:mod:`spikeflow.nestext`; needs NEST built from the sdist). Parameters and structure are in
:mod:`spikeflow.models.sequence.params`, the NEST builder in :mod:`spikeflow.models.sequence.network`.
Runs have phases (warm-up, test before training, training, test after training; plasticity on
only in training), given to the one driver by :func:`protocol` (:mod:`spikeflow.models.sequence.protocol`,
which also draws the inputs and writes ``sequence.npz`` beside the spikes file).

The family in one place: ``params`` (parameters and structure), ``network`` (the NEST builder,
neurons placed per virtual process), ``inputs`` (frozen patterns in noise), ``protocol``,
``reference`` (the NumPy reference of the equations), ``analysis`` (decoding), ``plots``, ``cli``;
the C++ module is :mod:`spikeflow.nestext`.

From Python, besides :func:`spikeflow.api.run` of a config: the objects of the NEST replication's
interface, ``Network``, ``InputGenerator``, ``Recorder`` (and the result of a run, ``NetworkRun``),
which build the grid once and simulate it further call by call on the same driver
(:mod:`spikeflow.models.sequence.objects`, imported on first use; ``docs/sequence-objects.md``).
"""

from __future__ import annotations

from typing import Any, Mapping

from spikeflow.models.network import Network as _DriverNetwork
from spikeflow.models.sequence.params import SequenceDerived, SequenceParams, derive
from spikeflow.models.sequence.protocol import local_results, protocol, set_plasticity, write_outputs

__all__ = ["local_results", "protocol", "set_plasticity", "write_outputs"]  # the driver's hooks, from protocol.py
__all__ += ["InputGenerator", "Network", "NetworkRun", "Recorder"]  # the object API (objects.py), lazily

_OBJECTS = ("InputGenerator", "Network", "NetworkRun", "Recorder")


def __getattr__(name: str) -> Any:
    """The object API (:mod:`spikeflow.models.sequence.objects`), imported on first use."""
    if name in _OBJECTS:
        from spikeflow.models.sequence import objects

        return getattr(objects, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

NEURON_MODEL = "wta_neuron"
SYNAPSE_MODEL = "wta_stp_synapse"

# The structure seed is the run seed; params_from_config has no access to it, so the derived
# structure used for describe() is that of seed 0 (sizes vary by seed only through the
# circuit-size draws; the counts below are those of that draw).
_DESCRIBE_SEED = 0


def params_from_config(params: Mapping[str, Any]) -> SequenceDerived:
    """Validated parameters, with the structure drawn for the describe seed."""
    return derive(SequenceParams.from_config(params), _DESCRIBE_SEED)


def for_run(d: SequenceDerived, cfg: Mapping[str, Any]) -> SequenceDerived:
    """The structure of the run: circuit sizes, links and STP draws from the run's seed."""
    return derive(d.params, int(cfg["simulation"]["seed"]))


def check_config(cfg: Mapping[str, Any]) -> None:
    """The phase lengths fit: ``t_sim`` holds a test phase before and after training."""
    from spikeflow.models.sequence.protocol import phases

    sim = cfg["simulation"]
    phases(float(sim["t_presim"]), float(sim["t_sim"]), float(cfg["params"]["t_test"]))


def check_environment() -> None:
    """NEST can load extension modules (not the PyPI wheel): one sentence that says what to do otherwise."""
    from spikeflow import nestext
    from spikeflow.driver import SimulationError

    try:
        nestext.check_nest_supports_extensions()
    except nestext.NestExtensionError as err:
        raise SimulationError(str(err)) from None


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


def create(d: SequenceDerived) -> _DriverNetwork:
    """Create the network (neurons placed per virtual process, generators, parrots)."""
    import nest

    from spikeflow import nestext
    from spikeflow.models.sequence import network

    from spikeflow.models.sequence.protocol import recorded_neurons

    nestext.load(nest)
    net = network.create(nest, d)
    recorded = recorded_neurons(d.n_neurons, d.params.n_record_spikes)
    return _DriverNetwork(
        populations={"wta": net.neurons, "inputs": net.parrots},
        devices={"sequence": net, "generators": net.generators},
        recorded={"wta": nest.NodeCollection(sorted(int(g) for g in net.neuron_ids[recorded]))},
        index_of={"wta": net.model_index},
    )


def connect(net: _DriverNetwork, d: SequenceDerived) -> None:
    import nest

    from spikeflow.models.sequence import network

    network.connect(nest, net.devices["sequence"])
