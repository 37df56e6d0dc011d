"""What a model's builder hands to the simulation driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Network:
    """A built (or being built) network.

    Attributes:
        populations: population name -> NEST NodeCollection of its neurons, in model order.
            The driver records the spikes of every population listed here.
        devices: any other nodes the model created (generators, parrots), by name.
        events: (model time in ms, action) pairs: actions the driver runs once the simulation
            has reached that time (presimulation included), e.g. switching a perturbation on.
        recorded: population name -> the neurons of it whose spikes are recorded, when not all.
        index_of: population name -> function mapping NEST node ids (int64 array) to 0-based
            ids within the population, when its node ids are not contiguous (default: node id
            minus the population's first node id).
        state: anything the model keeps for its protocol hooks and outputs (per rank).
    """

    populations: dict[str, Any]
    devices: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    recorded: dict[str, Any] = field(default_factory=dict)
    index_of: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def recorded_nodes(self, name: str) -> Any:
        """The NodeCollection whose spikes the driver records for population ``name``."""
        return self.recorded.get(name, self.populations[name])

    def node_index(self, name: str, node_ids: np.ndarray) -> np.ndarray:
        """0-based ids within population ``name`` of NEST node ids."""
        if name in self.index_of:
            return self.index_of[name](node_ids)
        return np.asarray(node_ids, dtype=np.int64) - int(self.populations[name][0].global_id)
