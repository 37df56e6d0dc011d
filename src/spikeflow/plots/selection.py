"""What a figure of a run shows, decided without matplotlib: the raster's window, the run's label.

Kept apart from the drawing modules (which import matplotlib) so that an analysis can choose
what to draw, and hand it to a figure process (:mod:`spikeflow.plots.process`), before or
without importing matplotlib.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from spikeflow.analysis.spiketrains import in_window
from spikeflow.io.spikes import PopulationSpikes, SpikeData

__all__ = ["RASTER_DEFAULT_MS", "raster_window", "spikes_in", "run_label"]

#: Default raster window: the last this many ms of the run.
RASTER_DEFAULT_MS = 200.0


def raster_window(data: SpikeData, t_window: tuple[float, float] | None = None) -> tuple[float, float]:
    """The raster's (start, stop) in ms: ``t_window``, or the last :data:`RASTER_DEFAULT_MS` of the run (all of a shorter run)."""
    if t_window is None:
        t1 = data.t_stop
        return max(0.0, t1 - RASTER_DEFAULT_MS), t1
    return float(t_window[0]), float(t_window[1])


def spikes_in(data: SpikeData, t_start: float, t_stop: float) -> SpikeData:
    """The run's spikes with ``t_start < t <= t_stop`` (ms): every population, its size and the metadata kept.

    What a raster of that window draws, without the rest of the run (e.g. 0.2 % of a 100 s
    run's spikes for the default window), to hand to another process.
    """
    populations = {}
    for name, pop in data.populations.items():
        node_ids, times = in_window(pop.node_ids, pop.times, t_start, t_stop)
        populations[name] = PopulationSpikes(name=pop.name, n_nodes=pop.n_nodes, node_ids=node_ids.copy(), times=times.copy())
    return replace(data, populations=populations)


def run_label(metadata: Mapping[str, Any]) -> str:
    """``"<model> <run id>"`` from a run's metadata (what it has of them; empty if neither)."""
    parts = [str(metadata.get(key)) for key in ("model", "run_id") if metadata.get(key)]
    return " ".join(parts)
