"""Spikes files: one HDF5 file per run in the SONATA spike layout, plus run metadata.

Layout (see README "The spikes file")::

    /spikes                         group, one subgroup per population
    /spikes/<pop>                   attr sorting: enum {none 0, by_id 1, by_time 2} (uint8)
                                    attr n_nodes: population size (spikeflow extension)
    /spikes/<pop>/timestamps        float64 (n_spikes,), attr units = "ms"
    /spikes/<pop>/node_ids          uint64 (n_spikes,), 0-based index within the population
    /metadata                       attrs: scalars as they are, nested values as JSON text
                                    (their names listed in attr ``json_encoded``)

Files are written to a temporary name beside the target and renamed when complete, so a
killed job never leaves a file that looks finished.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import h5py
import numpy as np

from spikeflow.io.atomic import atomic_path

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
_SORTING_CODES = {"none": 0, "by_id": 1, "by_time": 2}


@dataclass(frozen=True)
class PopulationSpikes:
    """The spikes of one population.

    Attributes:
        name: population name, e.g. ``"L23E"``.
        n_nodes: number of neurons in the population (silent ones included).
        node_ids: uint64 array (n_spikes,), 0-based index of the sender within the population.
        times: float64 array (n_spikes,), spike times in ms.
    """

    name: str
    n_nodes: int
    node_ids: np.ndarray
    times: np.ndarray

    def __post_init__(self) -> None:
        if self.node_ids.shape != self.times.shape:
            raise ValueError(
                f"population {self.name}: node_ids {self.node_ids.shape} and times "
                f"{self.times.shape} differ in shape"
            )

    @property
    def n_spikes(self) -> int:
        return int(self.times.size)

    def sorted_by_time(self) -> "PopulationSpikes":
        """Return a copy sorted by time, ties by node id (a deterministic total order)."""
        order = np.lexsort((self.node_ids, self.times))
        return PopulationSpikes(self.name, self.n_nodes, self.node_ids[order], self.times[order])

    def window(self, t_start: float, t_stop: float) -> "PopulationSpikes":
        """Return the spikes with ``t_start <= t < t_stop`` (ms)."""
        keep = (self.times >= t_start) & (self.times < t_stop)
        return PopulationSpikes(self.name, self.n_nodes, self.node_ids[keep], self.times[keep])


@dataclass(frozen=True)
class SpikeData:
    """Everything in one spikes file.

    Attributes:
        populations: population name -> spikes, in the model's population order.
        metadata: the run metadata (resolved config, versions, timers, memory, ...).
    """

    populations: dict[str, PopulationSpikes]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def t_presim(self) -> float:
        """Presimulation time in ms (spikes before it are transients)."""
        return float(self.metadata.get("t_presim_ms", 0.0))

    @property
    def t_stop(self) -> float:
        """End of the recorded time in ms."""
        return float(self.metadata["t_presim_ms"] + self.metadata["t_sim_ms"])


def write_spikes(
    path: str | os.PathLike,
    populations: Iterable[PopulationSpikes],
    metadata: Mapping[str, Any],
) -> Path:
    """Write a spikes file atomically (temporary name, then rename).

    Spikes are sorted by time (ties by node id) so that the file's bytes do not depend on
    how NEST split the network over ranks and threads.

    Args:
        path: target file name.
        populations: the spikes of each population, in the model's order.
        metadata: run metadata; scalars are stored as attributes, anything else as JSON.

    Returns:
        The path written.
    """
    start = time.perf_counter()
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        group = f.create_group("spikes")
        for pop in populations:
            pop = pop.sorted_by_time()
            g = group.create_group(pop.name)
            g.attrs.create("sorting", _SORTING_CODES["by_time"], dtype=SORTING)
            g.attrs["n_nodes"] = np.uint64(pop.n_nodes)
            ts = g.create_dataset("timestamps", data=pop.times.astype(np.float64))
            ts.attrs["units"] = "ms"
            g.create_dataset("node_ids", data=pop.node_ids.astype(np.uint64))
        meta = f.create_group("metadata")
        _write_metadata(meta, metadata)
        meta.attrs["write_s"] = time.perf_counter() - start  # how long writing this file took
    return Path(path)


def read_spikes(path: str | os.PathLike, populations: Iterable[str] | None = None) -> SpikeData:
    """Read a spikes file written by :func:`write_spikes`.

    Args:
        path: the spikes file.
        populations: names to read (default: all, in the file's population order).

    Returns:
        The spikes and the decoded metadata.
    """
    with _open(path) as f:
        metadata = _read_metadata(f["metadata"]) if "metadata" in f else {}
        order = [p["name"] for p in metadata.get("populations", [])] or list(f["spikes"])
        wanted = order if populations is None else list(populations)
        missing = [name for name in wanted if name not in f["spikes"]]
        if missing:
            raise KeyError(f"{path}: no population {missing[0]!r} (has {', '.join(order)})")
        pops = {}
        for name in wanted:
            g = f["spikes"][name]
            pops[name] = PopulationSpikes(
                name=name,
                n_nodes=int(g.attrs["n_nodes"]),
                node_ids=g["node_ids"][()],
                times=g["timestamps"][()],
            )
    return SpikeData(populations=pops, metadata=metadata)


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Read only the run metadata of a spikes file."""
    with _open(path) as f:
        return _read_metadata(f["metadata"])


def _open(path: str | os.PathLike) -> h5py.File:
    if not Path(path).is_file():
        raise FileNotFoundError(f"no spikes file {path}")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise FileNotFoundError(f"{path} is not a readable HDF5 spikes file ({err})") from None


def _write_metadata(group: h5py.Group, metadata: Mapping[str, Any]) -> None:
    encoded = []
    for key, value in metadata.items():
        if isinstance(value, (str, bool, int, float, np.integer, np.floating)):
            group.attrs[key] = value
        else:
            group.attrs[key] = json.dumps(value, default=_to_json)
            encoded.append(key)
    group.attrs["json_encoded"] = json.dumps(encoded)


def _read_metadata(group: h5py.Group) -> dict[str, Any]:
    encoded = set(json.loads(group.attrs.get("json_encoded", "[]")))
    out: dict[str, Any] = {}
    for key, value in group.attrs.items():
        if key == "json_encoded":
            continue
        if key in encoded:
            out[key] = json.loads(value)
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in spikes-file metadata")
