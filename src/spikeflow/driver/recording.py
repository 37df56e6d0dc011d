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


class StateRecorders:
    """Multimeters on a sample of each population's recorded neurons (``recording`` section of a run).

    Args:
        nest: the NEST module.
        network: the model's network.
        variables: NEST recordables, e.g. ``["V_m"]``.
        interval_ms: sampling interval, ms.
        neurons: neurons sampled per population, spread evenly over its recorded neurons.
        populations: the populations sampled (empty: all).

    Raises:
        ValueError: a variable that the population's neuron model does not record (one sentence).
    """

    def __init__(
        self, nest: Any, network: Any, variables: Sequence[str], interval_ms: float, neurons: int, populations: Sequence[str] = ()
    ) -> None:
        self.variables = list(variables)
        self.interval_ms = float(interval_ms)
        self.samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (NEST ids, 0-based ids), by NEST id
        self.meters: dict[str, Any] = {}
        for name in populations or list(network.populations):
            nodes = network.recorded_nodes(name)
            gids = np.asarray(nodes.tolist(), dtype=np.int64)
            pick = np.unique(np.linspace(0, gids.size - 1, min(int(neurons), gids.size)).round().astype(int))
            chosen = np.sort(gids[pick])
            recordables = {str(r) for r in nest.GetDefaults(nodes[0].get("model"), "recordables")}
            missing = [v for v in self.variables if v not in recordables]
            if missing:
                raise ValueError(
                    f"population {name} ({nodes[0].get('model')}) cannot record {missing[0]!r} "
                    f"(config key 'recording.variables'); it records {', '.join(sorted(recordables))}"
                )
            meter = nest.Create(
                "multimeter", params={"record_from": self.variables, "interval": self.interval_ms, "record_to": "memory"}
            )
            nest.Connect(meter, nest.NodeCollection(chosen.tolist()))
            self.meters[name] = meter
            self.samples[name] = (chosen, np.asarray(network.node_index(name, chosen), dtype=np.int64))

    def local(self) -> dict[str, dict[str, np.ndarray]]:
        """This rank's samples per population: ``senders`` (NEST ids), ``times`` (ms) and one array per variable."""
        out = {}
        for name, meter in self.meters.items():
            events = meter.get("events")
            out[name] = {key: np.asarray(events[key]) for key in ("senders", "times", *self.variables)}
        return out

    def assemble(
        self, parts: Sequence[dict[str, dict[str, np.ndarray]]], windows: Sequence[tuple[float, float]] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Every rank's samples as one report per variable: variable -> population -> arrays.

        Returns:
            ``{variable: {population: {"data": (n_times, n_neurons) float64, "node_ids": (n_neurons,)
            0-based ids, "times": (n_times,) ms}}}``; times outside ``windows`` (unrecorded phases)
            are dropped.
        """
        reports: dict[str, dict[str, Any]] = {v: {} for v in self.variables}
        for name, (gids, ids) in self.samples.items():
            merged = {k: np.concatenate([part[name][k] for part in parts]) for k in parts[0][name]}
            senders = merged["senders"].astype(np.int64)
            times = merged["times"].astype(np.float64)
            keep = np.ones(times.shape, dtype=bool)
            if windows:
                keep[:] = False
                for lo, hi in windows:
                    keep |= (times > lo) & (times <= hi)
            steps = np.rint(times[keep] / self.interval_ms).astype(np.int64)
            grid = np.unique(steps)
            row = np.searchsorted(grid, steps)
            col = np.searchsorted(gids, senders[keep])
            for var in self.variables:
                data = np.full((grid.size, gids.size), np.nan)
                data[row, col] = merged[var].astype(np.float64)[keep]
                reports[var][name] = {"data": data, "node_ids": ids.astype(np.uint64), "times": grid * self.interval_ms}
        return reports
