"""spikeflow from Python (a notebook, a script): configure a run from a dict or YAML, run it, get its result.

Every family and every user's model runs the same way, through the one driver::

    from spikeflow import api

    result = api.run({"model": "pd14", "params": {"N_scaling": 0.05, "K_scaling": 0.05},
                      "simulation": {"t_sim": 500.0, "threads": 2}})
    result.spikes["L4E"].times          # ms
    result.rates_hz()                   # {"L23E": ..., ...}, spikes/s over the recorded window
    result.state["V_m"]["L4E"]["data"]  # with a `recording` section: (n_times, n_neurons), mV

A study with a sweep runs one of its runs (``run="g4.0_seed1"``); the workflow runs them all.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from spikeflow.config import load_study
from spikeflow.io.reports import load_reports
from spikeflow.io.spikes import PopulationSpikes, SpikeData, read_spikes


@dataclass
class RunResult:
    """What one run left in its directory, loaded.

    Attributes:
        directory: the run's directory.
        data: the spikes file (populations and metadata).
        state: state recordings, ``{variable: {population: {"data", "node_ids", "times"}}}``.
        extra: the family's other outputs: ``sequence`` (the arrays of ``sequence.npz``: inputs,
            structure, weight snapshots), ``epochs`` (training: one record per epoch).
    """

    directory: Path
    data: SpikeData
    state: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spikes(self) -> dict[str, PopulationSpikes]:
        """Population name -> its spikes (0-based node ids, times in ms)."""
        return dict(self.data.populations)

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.data.metadata)

    def rates_hz(self) -> dict[str, float]:
        """Mean rate of every population over the recorded window (spikes/s per neuron)."""
        meta = self.data.metadata
        t0 = float(meta.get("record_start_ms", 0.0))
        t1 = float(meta["t_presim_ms"]) + float(meta["t_sim_ms"])
        return {name: pop.n_spikes / pop.n_nodes / ((t1 - t0) / 1000.0) for name, pop in self.data.populations.items()}


def run(
    config: Mapping[str, Any] | str | Path,
    out_dir: str | Path | None = None,
    *,
    run: str | None = None,
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Validate a config (dict or YAML file), run one of its runs and load what it wrote.

    Args:
        config: a study config: a mapping, or a YAML file (a relative model file is found beside it).
        out_dir: the run's directory (default: a new temporary directory).
        run: which run of a swept study (see :meth:`spikeflow.config.Study.select`).
        log: where progress lines go (default: silent; ``print`` to see them).

    Raises:
        ConfigError: a bad config (one sentence, before anything runs).
    """
    from spikeflow.driver.run import run as run_one

    chosen = load_study(config).select(run)
    directory = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix=f"spikeflow-{chosen.run_id}-"))
    run_one(chosen.config, directory, run_id=chosen.run_id, log=log or (lambda message: None))
    return load(directory)


def load(directory: str | Path) -> RunResult:
    """The result of a finished run from its directory (as the workflow or :func:`run` left it)."""
    directory = Path(directory)
    data = read_spikes(directory / "spikes.h5")
    extra: dict[str, Any] = {}
    side = directory / "sequence.npz"
    if side.is_file():
        with np.load(side) as z:
            extra["sequence"] = {key: z[key] for key in z.files}
    epochs = directory / "epochs.json"
    if epochs.is_file():
        extra["epochs"] = json.loads(epochs.read_text())
    return RunResult(directory, data, load_reports(directory / "spikes.h5"), extra)
