"""Shared helpers of the unit tests that analyse synthetic runs (no NEST).

The tests build run metadata as the simulation driver writes it (each test module has its
own ``make_metadata`` for what it checks); :func:`write_runs` turns that metadata into
spikes files without spikes, which is all the scaling and memory analyses read.
"""

from __future__ import annotations

import json

import numpy as np

from spikeflow.io.spikes import PopulationSpikes, write_spikes

#: The first bytes of every PNG file.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_runs(directory, metas):
    """Write one spikes file without spikes per metadata dict, ``<run_id>.h5`` in ``directory``.

    Returns:
        The paths written, in the order of ``metas``.
    """
    paths = []
    for meta in metas:
        pops = [
            PopulationSpikes(p["name"], p["size"], np.empty(0, np.uint64), np.empty(0)) for p in meta["populations"]
        ]
        paths.append(write_spikes(directory / f"{meta['run_id']}.h5", pops, meta))
    return paths


def strict_json(path):
    """Read a JSON file, failing on the non-strict constants NaN, Infinity and -Infinity."""

    def forbid(constant):
        raise ValueError(f"non-strict JSON constant {constant}")

    return json.loads(path.read_text(), parse_constant=forbid)
