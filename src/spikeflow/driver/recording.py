"""Spike recording: one ``spike_recorder`` per population, its events as 0-based node ids and times.

A model names what to record in its :class:`~spikeflow.models.network.Network`: every
population by default, or a subset of its neurons (``Network.recorded``), with node ids mapped
to 0-based ids within the population by ``Network.index_of`` when its NEST ids are not
contiguous (the sequence family's circuits are padded per virtual process).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


class SpikeRecorders:
    """The spike recorders of one network, on this rank.

    Args:
        nest: the NEST module.
        network: the model's network (its ``populations`` are recorded).
        start_ms: recorders drop spikes at or before this time (a leading warm-up that is not
            recorded), ms.
    """

    def __init__(self, nest: Any, network: Any, start_ms: float = 0.0) -> None:
        self.nest = nest
        self.network = network
        params: dict[str, Any] = {"record_to": "memory"}
        if start_ms > 0:
            params["start"] = float(start_ms)
        self.recorders = {name: nest.Create("spike_recorder", params=params) for name in network.populations}

    def connect(self) -> None:
        """Connect every recorded neuron to its population's recorder."""
        for name, recorder in self.recorders.items():
            self.nest.Connect(self.network.recorded_nodes(name), recorder)

    def local(
        self, windows: Sequence[tuple[float, float]] | None = None, *, clear: bool = False
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """This rank's spikes per population as (0-based node ids int64, times in ms float64).

        Args:
            windows: keep only spikes in these (start, stop] windows of model time (None: all).
            clear: empty the recorders afterwards (epoch by epoch collection).
        """
        out = {}
        for name, recorder in self.recorders.items():
            events = recorder.get("events")
            senders = np.asarray(events["senders"], dtype=np.int64)
            times = np.asarray(events["times"], dtype=np.float64)
            if windows is not None:
                keep = np.zeros(times.shape, dtype=bool)
                for lo, hi in windows:
                    keep |= (times > lo) & (times <= hi)
                senders, times = senders[keep], times[keep]
            ids = np.asarray(self.network.node_index(name, senders), dtype=np.int64)
            out[name] = (ids, times)
            if clear:
                recorder.n_events = 0
        return out
