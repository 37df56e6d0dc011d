"""Plastic training network in NEST: E/I populations, Poisson drive, optional frozen-pattern input X.

The numbers and the neuron x synapse compatibility table are in
:mod:`spikeflow.models.training.params`; this module only turns them into NEST calls. Runs of
``model: training`` are driven by ``spikeflow run`` (:func:`execute`, see :mod:`spikeflow.models.training`),
which trains epoch by epoch on the driver's sessions and checkpoints after each.

Every pathway (``E->E``, ``E->I``, ``I->E``, ``I->I``, ``X->E``, ``X->I``) gets its own copy of
its synapse model (``training_EE``, ...), which carries the synapse parameters, so that the
plastic connections of a pathway can be found with ``GetConnections(synapse_model=copy)``
and models whose parameters are common to all connections (``*_hom``) work like the others.

The family in one place: ``params`` (parameters as data, the model tables), this module (the
network), ``trainer`` (the epoch protocol on the driver's sessions), ``checkpoint`` (state
snapshot and exact restore), ``patterns``, ``metrics``, ``outputs``, ``plots`` and ``cli``.

Notebook use (familiar to users of the original NESTConfig / NESTTrainer)::

    from spikeflow.models.training import TrainingConfig, Trainer
    cfg = TrainingConfig(neuron_model="iaf_psc_alpha", synapse_model="stdp_synapse", n_epochs=5)
    tr = Trainer(cfg)
    tr.build()
    tr.train(5)
    tr.results            # one record per epoch: rates, CVs, weight statistics, timers, memory
    tr.save_checkpoint("epoch5.h5")
    tr = Trainer.resume("epoch5.h5")
"""

from __future__ import annotations

from typing import Any, Mapping

from spikeflow.models.network import Network
from spikeflow.models.training.params import (
    NEURON_MODELS,
    PATHWAYS,
    SYNAPSE_MODELS,
    TrainingDerived,
    TrainingParams,
    derive,
    model_params,
)



def execute(cfg: Mapping[str, Any], out_dir: Any, run_id: str, sources: Mapping[str, Any] | None = None) -> int:
    """``spikeflow run`` of a training run: epochs on driver sessions, checkpoints, resume, tables, figures."""
    from spikeflow.models.training.cli import train_run

    return train_run(dict(cfg), out_dir, run_id, resume=True, sources=sources)


def check_config(cfg: Mapping[str, Any]) -> None:
    """Checks across config sections (t_sim = n_epochs x epoch_ms, lengths on the time grid)."""
    from spikeflow.models.training.config import check_training_run

    check_training_run(cfg)


def params_from_config(params: Mapping[str, Any]) -> TrainingDerived:
    """Validated parameters of one run, with all derived quantities.

    Raises:
        ValueError: a bad or incompatible parameter (one sentence).
    """
    return derive(TrainingParams.from_config(params))


def pathway_copy(pathway: str) -> str:
    """Name of the synapse-model copy a pathway uses, e.g. ``"E->E"`` -> ``"training_EE"``."""
    return "training_" + pathway.replace("->", "")


def active_pathways(d: TrainingDerived) -> list[str]:
    """The pathways with connections (both populations non-empty, probability > 0)."""
    sizes = {"E": d.n_exc, "I": d.n_inh, "X": d.params.pattern_inputs if d.params.n_patterns > 0 else 0}
    out = []
    for pathway in PATHWAYS:
        src, tgt = pathway.split("->")
        density = d.params.pattern_density if src == "X" else d.params.density
        if sizes[src] > 0 and sizes[tgt] > 0 and density > 0:
            out.append(pathway)
    return out


def plastic_pathways(d: TrainingDerived) -> list[str]:
    """The active pathways that use the (plastic or not) configured synapse model."""
    return [p for p in active_pathways(d) if p in d.params.plastic]


def describe(d: TrainingDerived) -> dict[str, Any]:
    """Population sizes and expected connection counts per synapse model.

    Counts include the Poisson drive (one connection per neuron), the generator -> X parrot
    connections and the dopamine neurons, but not recording devices (the driver adds those).
    """
    p = d.params
    connections: dict[str, int] = {}
    for pathway in active_pathways(d):
        model = d.synapse_of(pathway)
        connections[model] = connections.get(model, 0) + d.expected_connections[pathway]
    extra = (p.n_neurons if p.drive_rate_hz > 0 else 0) + (p.pattern_inputs if p.n_patterns > 0 else 0)
    if p.synapse_model == "stdp_dopamine_synapse":
        extra += 2 * p.dopamine_neurons
    connections["static_synapse"] = connections.get("static_synapse", 0) + extra
    recurrent = sum(d.expected_connections[x] for x in active_pathways(d))
    return {
        "populations": [{"name": n, "size": int(s)} for n, s in d.populations.items()],
        "reference_rates_hz": {},
        "connections": connections,
        "recurrent_synapses": recurrent,
        "derived": {
            "neuron_model": p.neuron_model,
            "synapse_model": p.synapse_model,
            "weight_unit": d.unit,
            "pathway_weights": d.pathway_weights,
            "expected_connections": d.expected_connections,
            "plastic": plastic_pathways(d),
            "drive_weight": d.drive_weight,
            "pattern_weight": d.pattern_weight,
        },
    }


def create(d: TrainingDerived) -> Network:
    """Create neurons (E, I, X parrots) and devices (drive, pattern generators, dopamine)."""
    import nest

    p = d.params
    nest.CopyModel(p.neuron_model, "training_neuron", dict(p.neuron_params))
    defaults = nest.GetDefaults("training_neuron")
    populations = {}
    for name, size in (("E", d.n_exc), ("I", d.n_inh)):
        if size > 0:
            populations[name] = nest.Create("training_neuron", size, params={"V_m": _initial_v(nest, defaults)})
    devices: dict[str, Any] = {}
    if p.n_patterns > 0:
        populations["X"] = nest.Create("parrot_neuron", p.pattern_inputs)
        devices["pattern_generators"] = nest.Create("spike_generator", p.pattern_inputs)
    if p.drive_rate_hz > 0:
        devices["drive"] = nest.Create("poisson_generator", params={"rate": float(p.drive_rate_hz)})
    if p.synapse_model == "stdp_dopamine_synapse":
        devices["dopamine_drive"] = nest.Create("poisson_generator", params={"rate": float(p.dopamine_rate_hz)})
        devices["dopamine"] = nest.Create("parrot_neuron", p.dopamine_neurons)
        devices["volume_transmitter"] = nest.Create("volume_transmitter")
    return Network(populations=populations, devices=devices)


def connect(net: Network, d: TrainingDerived) -> None:
    """Connect the recurrent and input pathways, the drive and the dopamine neurons."""
    import nest

    p = d.params
    pops = net.populations
    for pathway in active_pathways(d):
        src, tgt = pathway.split("->")
        model = d.synapse_of(pathway)
        params = model_params(d, pathway)
        if model == "stdp_dopamine_synapse":
            params["volume_transmitter"] = net.devices["volume_transmitter"]
        copy = pathway_copy(pathway)
        nest.CopyModel(model, copy, params)
        syn_spec: dict[str, Any] = {"synapse_model": copy, "delay": float(p.delay)}
        if not SYNAPSE_MODELS[model].get("weight_common"):
            syn_spec["weight"] = d.pathway_weights[pathway]
        density = p.pattern_density if src == "X" else p.density
        nest.Connect(
            pops[src],
            pops[tgt],
            {"rule": "pairwise_bernoulli", "p": float(density), "allow_autapses": False},
            syn_spec,
        )
    if "drive" in net.devices:
        for name in ("E", "I"):
            if name in pops:
                nest.Connect(net.devices["drive"], pops[name], "all_to_all", {"weight": d.drive_weight, "delay": float(p.delay)})
    if "pattern_generators" in net.devices:
        nest.Connect(net.devices["pattern_generators"], pops["X"], "one_to_one", {"delay": float(p.delay)})
    if "volume_transmitter" in net.devices:
        nest.Connect(net.devices["dopamine_drive"], net.devices["dopamine"], "all_to_all")
        nest.Connect(net.devices["dopamine"], net.devices["volume_transmitter"], "all_to_all")


def neuron_state_keys(d: TrainingDerived, population: str) -> list[str]:
    """State variables a checkpoint saves and restores for a population (parrots: none)."""
    if population == "X":
        return []
    return ["V_m", *NEURON_MODELS[d.params.neuron_model]["state"]]


def _initial_v(nest: Any, defaults: Mapping[str, Any]) -> Any:
    """Initial membrane potentials: uniform between E_L and V_th (or +-5 mV around the default V_m)."""
    if "V_th" in defaults and "E_L" in defaults and defaults["V_th"] > defaults["E_L"]:
        return nest.random.uniform(float(defaults["E_L"]), float(defaults["V_th"]))
    v0 = float(defaults["V_m"])
    return nest.random.uniform(v0 - 5.0, v0 + 5.0)


def __getattr__(name: str) -> Any:  # the training API, imported on first use (it pulls in the driver)
    if name in ("TrainingConfig", "check_training_run"):
        from spikeflow.models.training import config

        return getattr(config, name)
    if name == "Trainer":
        from spikeflow.models.training.trainer import Trainer

        return Trainer
    if name == "write_outputs":
        from spikeflow.models.training.outputs import write_outputs

        return write_outputs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
