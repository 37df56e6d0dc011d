"""attractors.h5: one run's attractor analysis on disk (written atomically, read back whole).

Layout: root attrs ``format`` ("spikeflow-attractors"), ``version`` (1), ``bin_ms``,
``window_ms``, ``min_state_ms``, ``spikes_file``; datasets ``populations`` (str),
``population_sizes``, ``times_ms``, ``rates_hz`` (uncompressed), ``thresholds_hz``, ``active`` (bool, gzip),
``segments/{start_bin,stop_bin,state}`` (state -1: dropped), ``states/active`` (bool,
n_states x n_pop), ``states/labels``, ``states/mean_rates_hz``,
``transitions/{counts,occurrences,probability}``; the documents
``json/{options,config,metadata}`` as JSON text. What the arrays mean:
:class:`spikeflow.models.clustered.attractors.AttractorAnalysis`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from spikeflow.io.atomic import atomic_path
from spikeflow.io.tables import to_json_value
from spikeflow.models.clustered.attractors import AttractorAnalysis, StateSequence

__all__ = ["H5_FORMAT", "H5_VERSION", "AttractorsWriter", "attractors_writer", "write_attractors", "read_attractors"]

#: Format tag and version of attractors.h5.
H5_FORMAT = "spikeflow-attractors"
H5_VERSION = 1


class AttractorsWriter:
    """An open attractors.h5 being written, in two parts: the rates, then the analysis.

    The rates (the largest part: 272 MB for 20 clusters at 0.5 ms bins over 850 s) can be
    written as soon as they are made, beside the analysis of them (HDF5's write releases
    the GIL); :func:`attractors_writer` makes the file appear only when both parts are in.

    Args:
        f: the open HDF5 file.
    """

    def __init__(self, f: h5py.File) -> None:
        self.f = f

    def rates(self, rates: Any) -> None:
        """The populations, their sizes, the bin times and the smoothed rates.

        Args:
            rates: a :class:`spikeflow.models.clustered.attractors.ClusterRates` or an
                :class:`~spikeflow.models.clustered.attractors.AttractorAnalysis` (their
                ``populations``, ``population_sizes``, ``times_ms``, ``rates_hz``).
        """
        f = self.f
        f.create_dataset("populations", data=np.array(rates.populations, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("population_sizes", data=np.asarray(rates.population_sizes, dtype=np.int64))
        f.create_dataset("times_ms", data=rates.times_ms)
        # smoothed float64 rates hardly compress (gzip: -5 % size at 5 s per 270 MB): stored plain
        f.create_dataset("rates_hz", data=rates.rates_hz)

    def analysis(self, result: AttractorAnalysis) -> None:
        """Everything else: attributes, thresholds, activity, segments, states, transitions, documents."""
        f = self.f
        seq = result.sequence
        counts, occurrences, probability = result.transitions()
        membership = np.zeros((seq.n_states, len(result.populations)), dtype=bool)
        for index, identity in enumerate(seq.identities):
            membership[index, list(identity)] = True
        strings = h5py.string_dtype()
        f.attrs["format"] = H5_FORMAT
        f.attrs["version"] = H5_VERSION
        f.attrs["bin_ms"] = seq.bin_ms
        f.attrs["window_ms"] = np.asarray(result.window_ms, dtype=np.float64)
        f.attrs["min_state_ms"] = seq.min_state_ms
        f.attrs["spikes_file"] = result.spikes_file
        f.create_dataset("thresholds_hz", data=result.thresholds_hz)
        f.create_dataset("active", data=result.active, dtype=bool, compression="gzip", compression_opts=1)
        g = f.create_group("segments")
        g.create_dataset("start_bin", data=seq.seg_start)
        g.create_dataset("stop_bin", data=seq.seg_stop)
        g.create_dataset("state", data=seq.seg_state)
        g = f.create_group("states")
        g.create_dataset("active", data=membership, dtype=bool)
        g.create_dataset("labels", data=np.array(result.state_labels(), dtype=object), dtype=strings)
        if seq.mean_rates_hz is not None:
            g.create_dataset("mean_rates_hz", data=seq.mean_rates_hz)
        g = f.create_group("transitions")
        g.create_dataset("counts", data=counts)
        g.create_dataset("occurrences", data=occurrences)
        g.create_dataset("probability", data=probability)
        g = f.create_group("json")
        for name, doc in (("options", result.options), ("config", result.config), ("metadata", result.metadata)):
            g.create_dataset(name, data=json.dumps(to_json_value(doc), allow_nan=False), dtype=strings)


@contextmanager
def attractors_writer(path: str | os.PathLike) -> Iterator[AttractorsWriter]:
    """attractors.h5 at ``path``, written through an :class:`AttractorsWriter`, atomically.

    The file is written under a temporary name beside ``path`` and takes its name when the
    block ends without an exception (parent directories created); on an exception nothing
    is left. Call :meth:`AttractorsWriter.rates` and :meth:`AttractorsWriter.analysis` once
    each, in either order, and let no thread write after the block.
    """
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        yield AttractorsWriter(f)


def write_attractors(result: AttractorAnalysis, path: str | os.PathLike) -> Path:
    """Write an attractor analysis to one HDF5 file (the module's layout), atomically.

    Args:
        result: the analysis of one run.
        path: the file to write (parent directories created).

    Returns:
        The path written.
    """
    with attractors_writer(path) as h5:
        h5.rates(result)
        h5.analysis(result)
    return Path(path)


def read_attractors(path: str | os.PathLike) -> AttractorAnalysis:
    """Read an analysis written by :func:`write_attractors`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an attractors file.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no attractors file {path}")
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != H5_FORMAT:
            raise ValueError(f"{path} is not a spikeflow attractors file")
        membership = f["states/active"][()]
        identities = tuple(tuple(int(i) for i in np.flatnonzero(row)) for row in membership)
        times = f["times_ms"][()]
        mean_rates = f["states/mean_rates_hz"][()] if "mean_rates_hz" in f["states"] else None
        sequence = StateSequence(
            t_start_ms=float(times[0]),
            bin_ms=float(f.attrs["bin_ms"]),
            n_bins=int(times.size),
            min_state_ms=float(f.attrs["min_state_ms"]),
            seg_start=f["segments/start_bin"][()],
            seg_stop=f["segments/stop_bin"][()],
            seg_state=f["segments/state"][()],
            identities=identities,
            mean_rates_hz=mean_rates,
        )
        window = f.attrs["window_ms"]
        docs = {name: json.loads(f["json"][name][()]) for name in ("options", "config", "metadata")}
        return AttractorAnalysis(
            populations=[p.decode() if isinstance(p, bytes) else str(p) for p in f["populations"][()]],
            population_sizes=f["population_sizes"][()],
            times_ms=times,
            window_ms=(float(window[0]), float(window[1])),
            rates_hz=f["rates_hz"][()],
            thresholds_hz=f["thresholds_hz"][()],
            active=f["active"][()].astype(bool),
            sequence=sequence,
            options=docs["options"],
            config=docs["config"],
            metadata=docs["metadata"],
            spikes_file=str(f.attrs["spikes_file"]),
        )
