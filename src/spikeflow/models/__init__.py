"""Model families. A model module provides, without importing NEST at module level:

- ``params_from_config(params: dict) -> Derived``: validated parameters with everything derived
  from them (counts, weights, drive) as plain numbers;
- ``describe(derived) -> dict``: population sizes, reference rates and connection counts per
  synapse model (used for pre-flight checks, memory estimates and the run metadata);
- ``create(derived) -> Network`` and ``connect(network, derived)``: the NEST calls, split so that
  the driver can time the two construction phases separately.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MODELS = {
    "pd14": "spikeflow.models.pd14",
    "clustered": "spikeflow.models.clustered",
    "training": "spikeflow.models.training",
    "sequence": "spikeflow.models.sequence",
}


def get_model(name: str) -> ModuleType:
    """Return the module implementing model family ``name``."""
    try:
        return importlib.import_module(MODELS[name])
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}") from None
