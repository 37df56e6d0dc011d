"""State recordings (multimeter reports) in a spikes file, in the SONATA report layout.

Each recorded variable is one report group laid out like a SONATA report file's root::

    /reports/<variable>/<population>/data                  float64, (n_times, n_neurons), attr units
    /reports/<variable>/<population>/mapping/node_ids      uint64, (n_neurons,): 0-based ids in the population
    /reports/<variable>/<population>/mapping/element_ids   uint64 zeros (point neurons: one element each)
    /reports/<variable>/<population>/mapping/index_pointers  uint64, (n_neurons + 1,): 0, 1, ..., n
    /reports/<variable>/<population>/mapping/time          float64 [start, stop, step] in ms
    /reports/<variable>/<population>/mapping/times         float64, (n_times,): the sample times, ms

``mapping/time`` follows SONATA (samples at start, start + step, ... < stop); ``mapping/times``
lists them explicitly, since unrecorded phases can leave gaps.
"""

from __future__ import annotations

from typing import Any, Mapping

import h5py
import numpy as np

# Units of NEST's usual recordables (others are written without a unit).
UNITS = {"V_m": "mV", "V_th": "mV", "I_syn_ex": "pA", "I_syn_in": "pA", "I_syn": "pA", "g_ex": "nS", "g_in": "nS", "w": "pA"}


def write_reports(f: h5py.File, reports: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
    """Write ``{variable: {population: {"data", "node_ids", "times"}}}`` under ``/reports`` of an open file."""
    if not reports:
        return
    root = f.create_group("reports")
    for var, pops in reports.items():
        group = root.create_group(var)
        for name, rep in pops.items():
            g = group.create_group(name)
            data = np.asarray(rep["data"], dtype=np.float64)
            ds = g.create_dataset("data", data=data, fletcher32=True, chunks=data.shape if data.size else None)
            if var in UNITS:
                ds.attrs["units"] = UNITS[var]
            m = g.create_group("mapping")
            ids = np.asarray(rep["node_ids"], dtype=np.uint64)
            m.create_dataset("node_ids", data=ids)
            m.create_dataset("element_ids", data=np.zeros(ids.size, dtype=np.uint64))
            m.create_dataset("index_pointers", data=np.arange(ids.size + 1, dtype=np.uint64))
            times = np.asarray(rep["times"], dtype=np.float64)
            step = float(times[1] - times[0]) if times.size > 1 else 0.0
            stop = float(times[-1] + step) if times.size else 0.0
            m.create_dataset("time", data=np.array([times[0] if times.size else 0.0, stop, step]))
            ts = m.create_dataset("times", data=times)
            ts.attrs["units"] = "ms"


def read_reports(f: h5py.File) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """``{variable: {population: {"data", "node_ids", "times"}}}`` of an open spikes file ({} if none)."""
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    root = f.get("reports")
    if root is None:
        return out
    for var, group in root.items():
        out[var] = {
            name: {"data": g["data"][()], "node_ids": g["mapping/node_ids"][()], "times": g["mapping/times"][()]}
            for name, g in group.items()
        }
    return out


def load_reports(path: Any) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """The state recordings of a spikes file (see :func:`read_reports`)."""
    with h5py.File(path, "r") as f:
        return read_reports(f)
