"""Every neuron x synapse combination of the compatibility table either trains for a short run
in NEST (weights and state saved, checkpoint restorable) or is refused by the config check with
its reason."""

import math

import numpy as np
import pytest

from spikeflow.config import ConfigError
from spikeflow.models.training.params import NEURON_CHOICES, SYNAPSE_CHOICES, SYNAPSE_MODELS, compatibility
from spikeflow.models.training import TrainingConfig
from tests.conftest import require

COMBINATIONS = [(n, s) for n in NEURON_CHOICES for s in SYNAPSE_CHOICES]


@pytest.mark.parametrize("neuron,synapse", COMBINATIONS, ids=[f"{n}-{s}" for n, s in COMBINATIONS])
def test_combination_trains_or_is_refused(nest_module, neuron, synapse):
    nest = nest_module
    reason = compatibility(neuron, synapse)
    plastic = ["E->E", "I->E"] if synapse != "stdp_pl_synapse_hom" else ["E->E"]
    kwargs = dict(neuron_model=neuron, synapse_model=synapse, n_neurons=30, density=0.3, n_epochs=2, epoch_ms=20.0, plastic=plastic, seed=3)
    if reason:
        with pytest.raises(ConfigError, match="refused"):
            TrainingConfig(**kwargs)
        return
    require(synapse in nest.synapse_models, f"the installed NEST lacks {synapse}: rebuild it with containers/build-nest.sh --models reduced")
    from spikeflow.models.training import Trainer

    tr = Trainer(TrainingConfig(**kwargs), log=lambda m: None)
    tr.build()
    tr.train()
    assert tr.epoch == 2
    for pathway in plastic:
        w = tr.weights(pathway)
        assert w["weight"].size > 0 and np.all(np.isfinite(w["weight"]))
        assert set(SYNAPSE_MODELS[synapse]["state"]) <= set(w)
        sign = 1 if pathway.startswith("E") else -1
        assert np.all(sign * w["weight"] >= 0), f"{pathway} weights changed sign"
    rec = tr.results[-1]
    assert math.isfinite(rec["populations"]["E"]["rate_hz"])
