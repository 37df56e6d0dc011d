"""Export a spikes file as NWB (Neurodata Without Borders): the spikes as a Units table.

``spikeflow export nwb RUN/spikes.h5 --out run.nwb`` writes, with pynwb:

- one unit per neuron of every population, silent neurons included (their ``spike_times`` are
  empty), in the spikes file's population order and by node id within a population, so the
  table holds the whole network and rates, the fraction of silent neurons and every other
  per-neuron statistic can be computed from the NWB file alone. Columns: ``spike_times``
  (seconds, as NWB asks: each value is spikeflow's ms value divided by 1000, one correctly
  rounded float64 division), ``population`` (text), ``node_id`` (0-based within the
  population, as in the spikes file) and ``obs_intervals`` (the recorded window, in seconds);
  the table's ``resolution`` is NEST's time step in seconds;
- the run's metadata: ``identifier`` = the run id, ``session_description`` (model, study,
  run), ``notes`` (spikeflow, NEST and Python versions, seed, ranks x threads, resolution,
  presimulation and simulation times, as JSON text), ``session_start_time`` = the time the
  run finished (spikeflow records no start time), and the complete metadata (resolved config,
  per-rank timers and memory, ...) as JSON text in ``scratch/spikeflow_metadata``.

A SONATA file spikeflow did not write is exported with what it has; what it lacks (see
:func:`spikeflow.io.spikes.read_spikes`) is said in the notes.

Memory: the table's columns are built as whole arrays (the spike times sorted once by
population, node id and time, plus one index entry per neuron), never one Python object per
unit, so a full-scale run costs about twice its spike arrays plus 24 bytes per neuron.

The file is written to a temporary name and renamed when complete (:func:`atomic_path`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from spikeflow.io.atomic import atomic_path
from spikeflow.io.spikes import SpikeData, read_spikes

#: Metadata keys shown in the NWB file's ``notes`` (the full metadata is in scratch).
NOTE_KEYS = (
    "spikeflow_version",
    "nest_version",
    "python_version",
    "model",
    "study",
    "run_id",
    "seed",
    "num_ranks",
    "threads_per_rank",
    "virtual_processes",
    "resolution_ms",
    "t_presim_ms",
    "t_sim_ms",
    "record_start_ms",
    "finished_at",
)


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise ValueError("exporting to NWB needs pynwb: pip install pynwb") from None
    return pynwb


def units_columns(data: SpikeData) -> dict[str, np.ndarray]:
    """The Units table's columns as arrays: one row per neuron (population order, then node id).

    Returns:
        ``spike_times_ms`` (float64, every spike, grouped by unit and in time order within a
        unit), ``index`` (uint64 (n_units,), the end of each unit's spikes in
        ``spike_times_ms``, as NWB's ``spike_times_index``), ``population`` (object array
        of names), ``node_id`` (uint64).
    """
    times, ends, names, node_ids = [], [], [], []
    offset = 0
    for pop in data.populations.values():
        order = np.lexsort((pop.times, pop.node_ids))  # by node id, then time
        times.append(pop.times[order])
        counts = np.bincount(pop.node_ids.astype(np.int64), minlength=pop.n_nodes)[: pop.n_nodes]
        ends.append(offset + np.cumsum(counts, dtype=np.uint64))
        offset += pop.n_spikes
        names.append(np.full(pop.n_nodes, pop.name, dtype=object))
        node_ids.append(np.arange(pop.n_nodes, dtype=np.uint64))

    def join(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

    return {
        "spike_times_ms": join(times, np.float64),
        "index": join(ends, np.uint64),
        "population": join(names, object),
        "node_id": join(node_ids, np.uint64),
    }


def _start_time(data: SpikeData, path: Path) -> tuple[dt.datetime, str]:
    finished = data.metadata.get("finished_at")
    if isinstance(finished, str):
        try:
            when = dt.datetime.fromisoformat(finished)
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            return when, "the time the run finished (spikeflow records no start time)"
        except ValueError:
            pass
    when = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).replace(microsecond=0)
    return when, "the spikes file's modification time (the file records no run time)"


def export_nwb(spikes_path: str | os.PathLike, out: str | os.PathLike) -> dict[str, Any]:
    """Write the spikes file ``spikes_path`` as the NWB file ``out`` (atomically).

    Returns:
        A summary: ``out``, ``identifier``, ``n_units``, ``n_spikes``, ``populations``,
        ``missing`` (what a foreign file lacks, see :func:`spikeflow.io.spikes.read_spikes`).
    """
    pynwb = _pynwb()
    from hdmf.common import VectorData, VectorIndex

    spikes_path, out = Path(spikes_path), Path(out)
    data = read_spikes(spikes_path)
    meta = data.metadata
    identifier = str(meta.get("run_id") or spikes_path.stem)
    start, start_means = _start_time(data, spikes_path)
    notes = {key: meta[key] for key in NOTE_KEYS if key in meta}
    notes["session_start_time"] = start_means
    notes["spike_times"] = "seconds from the start of the simulation: spikeflow's ms values divided by 1000"
    notes["units"] = "one per neuron of every population, silent neurons included (empty spike_times)"
    if data.missing:
        notes["missing"] = list(data.missing)
    description = (
        f"spikeflow run {identifier} of study {meta.get('study') or '?'}: NEST simulation of the "
        f"{meta.get('model') or '?'} model"
        if meta
        else f"spikes of {spikes_path.name} (a SONATA spikes file not written by spikeflow)"
    )
    nwbfile = pynwb.NWBFile(
        session_description=description,
        identifier=identifier,
        session_start_time=start,
        notes=json.dumps(notes, indent=1, default=str),
        source_script=f"spikeflow export nwb (spikeflow {meta.get('spikeflow_version') or _version()})",
        source_script_file_name=str(spikes_path.name),
        experiment_description=f"NEST {meta['nest_version']} simulation" if "nest_version" in meta else None,
        keywords=["spikeflow", "NEST", "simulation", "spiking network"],
    )

    cols = units_columns(data)
    n_units = int(cols["index"].size)
    spike_times = VectorData(
        name="spike_times", description="spike times (s) of each unit", data=cols["spike_times_ms"] / 1000.0
    )
    columns: list[Any] = [
        spike_times,
        VectorIndex(name="spike_times_index", data=cols["index"], target=spike_times),
        VectorData(name="population", description="population (SONATA population) of the neuron", data=cols["population"].tolist()),
        VectorData(name="node_id", description="0-based index of the neuron within its population", data=cols["node_id"]),
    ]
    t0, t1 = _window(data)
    if t1 > t0:
        obs = VectorData(
            name="obs_intervals",
            description="the recorded window (s)",
            data=np.tile(np.array([[t0, t1]]) / 1000.0, (n_units, 1)),
        )
        columns += [obs, VectorIndex(name="obs_intervals_index", data=np.arange(1, n_units + 1, dtype=np.uint64), target=obs)]
    resolution = meta.get("resolution_ms")
    units = pynwb.misc.Units(
        name="units",
        description="spikes of every neuron of the simulated network (spikeflow)",
        id=np.arange(n_units, dtype=np.int64),
        columns=columns,
        resolution=float(resolution) / 1000.0 if resolution else None,
    )
    nwbfile.units = units
    if meta:
        nwbfile.add_scratch(
            json.dumps(meta, default=str),
            name="spikeflow_metadata",
            description="the spikes file's complete run metadata (resolved config, timers, memory per rank) as JSON",
        )
    with atomic_path(out) as tmp, warnings.catch_warnings():
        # the temporary name does not end in .nwb; the final one (the user's) is not checked here
        warnings.filterwarnings("ignore", message="The file path provided", category=UserWarning)
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwbfile)
    return {
        "out": str(out),
        "identifier": identifier,
        "n_units": n_units,
        "n_spikes": int(cols["spike_times_ms"].size),
        "populations": list(data.populations),
        "missing": list(data.missing),
    }


def _window(data: SpikeData) -> tuple[float, float]:
    """The recorded window in ms (record_start_ms, else 0, to t_stop)."""
    start = float(data.metadata.get("record_start_ms", 0.0))
    return start, data.t_stop


def _version() -> str:
    from spikeflow import __version__

    return __version__
