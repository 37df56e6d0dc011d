"""What a model's builder hands to the simulation driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Network:
    """A built (or being built) network.

    Attributes:
        populations: population name -> NEST NodeCollection of its neurons, in model order.
            The driver records the spikes of every population listed here.
        devices: any other nodes the model created (generators, parrots), by name.
        events: (model time in ms, action) pairs: actions the driver runs once the simulation
            has reached that time (presimulation included), e.g. switching a perturbation on.
    """

    populations: dict[str, Any]
    devices: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
