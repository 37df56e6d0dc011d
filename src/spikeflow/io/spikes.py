"""Spikes files: one HDF5 file per run in the SONATA spike layout, plus run metadata.

Layout (see README "The spikes file")::

    /                               attrs magic = 0x0A7A (uint32), version = [0, 1] (2 x uint32):
                                    the SONATA file attributes (spec version 0.1)
    /spikes                         group, one subgroup per population
    /spikes/<pop>                   attr sorting: enum {none 0, by_id 1, by_time 2} (uint8)
                                    attr n_nodes: population size (spikeflow extension)
    /spikes/<pop>/timestamps        float64 (n_spikes,), attr units = "ms"
    /spikes/<pop>/node_ids          uint64 (n_spikes,), 0-based index within the population;
                                    attr sorting = "by_time" (text, the same value: see below)
    /metadata                       attrs: scalars as they are, nested values as JSON text
                                    (their names listed in attr ``json_encoded``)

The SONATA specification makes ``sorting`` an HDF5 enum on the population group, and libsonata
reads it as one (a text attribute there makes libsonata fail). bmtk (1.2) reads that attribute
as text and so sees an enum as "unknown"; it looks first for a ``sorting`` attribute on the
``node_ids`` dataset, so spikeflow writes the same value there as text. Both then read the
sorting as ``by_time``.

Files spikeflow did not write (bmtk's, another simulator's) are read too: what SONATA requires
is checked as for spikeflow's own files, and what they lack is taken from the spikes and said
(:attr:`SpikeData.missing`, and one line on stderr): no ``/metadata`` (the recorded window is
then from 0 to the last spike), no ``n_nodes`` (inferred as the largest node id + 1), signed
node ids (bmtk writes int64; accepted when none is negative), a text ``sorting`` attribute,
timestamps in seconds (converted to ms).

Both spikes datasets are chunked and carry HDF5's fletcher32 checksum per chunk (the values
are stored unchanged), so a flipped bit on disk fails on read instead of moving a spike.
:func:`read_spikes` checks every file against its own metadata (:class:`FileChecks`) and
refuses one that disagrees with a :class:`SpikesFileError`, one sentence naming the file,
the population and what is wrong.

Files are written to a temporary name beside the target and renamed when complete, so a
killed job never leaves a file that looks finished.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import h5py
import numpy as np

from spikeflow.io.atomic import atomic_path

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
_SORTING_CODES = {"none": 0, "by_id": 1, "by_time": 2}
_SORTING_NAMES = {code: name for name, code in _SORTING_CODES.items()}

#: SONATA's root attributes: ``magic`` (uint32 0x0A7A) and ``version`` (two uint32: spec 0.1).
SONATA_MAGIC = np.uint32(0x0A7A)
SONATA_VERSION = np.array([0, 1], dtype=np.uint32)


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
        """Return the spikes with ``t_start < t <= t_stop`` (ms).

        NEST's convention: a spike emitted in the step ``(t - h, t]`` is stamped ``t``, so the
        spikes of the simulated interval ``[t_start, t_stop)`` carry times in
        ``(t_start, t_stop]``.
        """
        keep = (self.times > t_start) & (self.times <= t_stop)
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
    #: What the file lacks and what was inferred instead, one sentence each (empty for
    #: spikeflow's own files); see :func:`read_spikes`.
    missing: tuple[str, ...] = ()

    @property
    def t_presim(self) -> float:
        """Presimulation time in ms (spikes stamped at or before it are transients).

        From the metadata; a file without it (one spikeflow did not write) starts at 0 ms, or
        just before its first spike if that lies at or before 0 ms, so that the analysis
        window ``(t_presim, t_stop]`` keeps every spike of such a file.
        """
        if "t_presim_ms" in self.metadata:
            return float(self.metadata["t_presim_ms"])
        first = [float(pop.times.min()) for pop in self.populations.values() if pop.n_spikes]
        return min(0.0, float(np.nextafter(min(first), -np.inf))) if first else 0.0

    @property
    def t_stop(self) -> float:
        """End of the recorded time in ms.

        From the metadata (``t_presim_ms + t_sim_ms``); a file without them (one spikeflow did
        not write) ends at its last spike, which the analysis window ``(t_presim, t_stop]``
        keeps (0 if there are no spikes).
        """
        if "t_presim_ms" in self.metadata and "t_sim_ms" in self.metadata:
            return float(self.metadata["t_presim_ms"] + self.metadata["t_sim_ms"])
        last = [float(pop.times.max()) for pop in self.populations.values() if pop.n_spikes]
        return max(last) if last else 0.0


def write_spikes(
    path: str | os.PathLike,
    populations: Iterable[PopulationSpikes],
    metadata: Mapping[str, Any],
    reports: Mapping[str, Any] | None = None,
) -> Path:
    """Write a spikes file atomically (temporary name, then rename).

    Spikes are sorted by time (ties by node id) so that the file's bytes do not depend on
    how NEST split the network over ranks and threads.

    Args:
        path: target file name.
        populations: the spikes of each population, in the model's order.
        metadata: run metadata; scalars are stored as attributes, anything else as JSON.
        reports: state recordings beside the spikes (:mod:`spikeflow.io.reports`), if any.

    Returns:
        The path written.
    """
    start = time.perf_counter()
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["magic"] = SONATA_MAGIC
        f.attrs["version"] = SONATA_VERSION
        group = f.create_group("spikes")
        for pop in populations:
            pop = pop.sorted_by_time()
            g = group.create_group(pop.name)
            g.attrs.create("sorting", _SORTING_CODES["by_time"], dtype=SORTING)  # SONATA, libsonata
            g.attrs["n_nodes"] = np.uint64(pop.n_nodes)
            ts = _create_checked(g, "timestamps", pop.times.astype(np.float64, copy=False))
            ts.attrs["units"] = "ms"
            ids = _create_checked(g, "node_ids", pop.node_ids.astype(np.uint64, copy=False))
            ids.attrs["sorting"] = "by_time"  # the same as text, where bmtk looks first
        if reports:
            from spikeflow.io.reports import write_reports

            write_reports(f, reports)
        meta = f.create_group("metadata")
        _write_metadata(meta, metadata)
        meta.attrs["write_s"] = time.perf_counter() - start  # how long writing this file took
    return Path(path)


#: Elements per HDF5 chunk of a spikes dataset (1 MiB of float64 or uint64).
CHUNK = 1 << 17


def _create_checked(group: h5py.Group, name: str, data: np.ndarray) -> h5py.Dataset:
    """A chunked dataset with HDF5's fletcher32 checksum filter (values stored unchanged)."""
    if data.size == 0:  # a chunk may not exceed the shape unless the dataset may grow
        return group.create_dataset(name, data=data, chunks=(1,), maxshape=(None,), fletcher32=True)
    return group.create_dataset(name, data=data, chunks=(min(data.size, CHUNK),), fletcher32=True)


class SpikesFileError(ValueError):
    """A spikes file disagrees with itself (its metadata), has a bad layout, or fails its checksums."""


class FileChecks:
    """Read the populations of one spikes file, checking each against the file's own metadata.

    What is checked (vectorised, one pass over each array; a file that fails is refused with
    a :class:`SpikesFileError` naming the file, the population and what is wrong):

    - the datasets exist, are 1-D and equally long; ``timestamps`` is floating point and
      ``node_ids`` an unsigned integer type; both pass their fletcher32 checksums (files
      written before checksums were added have none and are read without);
    - the spike count equals the metadata's ``spike_counts`` (when present), and every
      population there is in the file and vice versa;
    - ``n_nodes`` (attribute) equals the population's size in the metadata's ``populations``
      (when listed), and every node id is below it;
    - every time is finite and inside the recorded window, from the recording start
      (``record_start_ms``; else the start of the first of the metadata's ``phases``, as the
      sequence family records from the end of its presimulation; else 0) to
      ``t_presim_ms + t_sim_ms`` (when both are present), both ends included;
    - times are non-decreasing when the population's ``sorting`` says ``by_time``, node ids
      when it says ``by_id``;
    - ``timestamps`` are in ms (attribute ``units``).

    A file spikeflow did not write (``foreign``: no ``/metadata``) gets the same checks of what
    it has; for what it lacks (``n_nodes``, ``units``) or has in another form that SONATA
    tools write (signed node ids none of which is negative, timestamps in seconds, a text
    ``sorting``), a sentence is added to :attr:`notes` and the value is inferred or converted.
    """

    def __init__(
        self, path: str | os.PathLike, metadata: Mapping[str, Any], in_file: list[str], foreign: bool = False
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.foreign = foreign
        self.notes: list[str] = []
        counts = metadata.get("spike_counts")
        self.counts = counts if isinstance(counts, Mapping) else None
        if self.counts is not None:
            absent = [name for name in self.counts if name not in in_file]
            if absent:
                self.fail(absent[0], f"the metadata counts {self.counts[absent[0]]} spikes but the file has no such population")
            extra = [name for name in in_file if name not in self.counts]
            if extra:
                self.fail(extra[0], "the file has spikes of it but the metadata's spike_counts does not list it")
        listed = metadata.get("populations")
        self.sizes = {
            p["name"]: p["size"]
            for p in (listed if isinstance(listed, list) else [])
            if isinstance(p, Mapping) and "name" in p and "size" in p
        }
        self.window = self._window(metadata)

    def fail(self, name: str, problem: str) -> None:
        why = (
            "the file does not follow the SONATA spike layout (https://github.com/AllenInstitute/sonata)"
            if self.foreign
            else "the file is damaged or was not written by spikeflow (re-run the job that wrote it)"
        )
        raise SpikesFileError(f"spikes file {self.path}, population {name}: {problem}; {why}")

    def _window(self, metadata: Mapping[str, Any]) -> tuple[float, float] | None:
        try:
            t_stop = float(metadata["t_presim_ms"]) + float(metadata["t_sim_ms"])
        except (KeyError, TypeError, ValueError):
            return None
        t_start = 0.0
        phases = metadata.get("phases")
        if "record_start_ms" in metadata:
            t_start = float(metadata["record_start_ms"])
        elif isinstance(phases, list) and phases and all(isinstance(ph, Mapping) and "start_ms" in ph for ph in phases):
            t_start = min(float(ph["start_ms"]) for ph in phases)
        return t_start, t_stop

    def population(self, name: str, g: Any) -> PopulationSpikes:
        """The checked spikes of population ``name`` (HDF5 group ``g``)."""
        if not isinstance(g, h5py.Group):
            self.fail(name, "it is not an HDF5 group")
        for key in ("timestamps", "node_ids"):
            if not isinstance(g.get(key), h5py.Dataset):
                self.fail(name, f"it has no {key} dataset")
        ts, ids = g["timestamps"], g["node_ids"]
        if ts.ndim != 1 or ids.ndim != 1:
            self.fail(name, f"timestamps {ts.shape} and node_ids {ids.shape} must be one-dimensional")
        if ts.shape != ids.shape:
            self.fail(name, f"it has {ts.shape[0]} timestamps but {ids.shape[0]} node ids")
        if ts.dtype.kind != "f":
            self.fail(name, f"its timestamps are {ts.dtype}, not floating point")
        signed = self.foreign and ids.dtype.kind == "i"  # bmtk writes int64 node ids
        if ids.dtype.kind != "u" and not signed:
            self.fail(name, f"its node_ids are {ids.dtype}, not an unsigned integer type")
        n = ts.shape[0]
        if self.counts is not None and int(self.counts[name]) != n:
            self.fail(name, f"it has {n} spikes but the metadata's spike_counts says {self.counts[name]}")
        if "n_nodes" in g.attrs:
            n_nodes: int | None = int(g.attrs["n_nodes"])
        elif self.foreign:
            n_nodes = None
        else:
            self.fail(name, "it has no n_nodes attribute (the population size)")
        if n_nodes is not None and name in self.sizes and int(self.sizes[name]) != n_nodes:
            self.fail(name, f"its n_nodes attribute is {n_nodes} but the metadata's populations give it {self.sizes[name]} neurons")
        times = self._read(name, ts)
        node_ids = self._read(name, ids)
        times = self._to_ms(name, ts, times)
        if signed:
            if n and int(node_ids.min()) < 0:
                self.fail(name, f"{int(np.count_nonzero(node_ids < 0))} of its {n} node ids are negative")
            self.notes.append(f"population {name}: node_ids are {ids.dtype} (SONATA: uint64), read as uint64")
            node_ids = node_ids.astype(np.uint64)
        if n_nodes is None:
            n_nodes = int(node_ids.max()) + 1 if n else 0
            self.notes.append(f"population {name}: no n_nodes attribute, inferred as the largest node id + 1 = {n_nodes}")
        sorting = self._sorting(name, g, ids)
        if n:
            self._check_times(name, times, sorting)
            top = int(node_ids.max())
            if top >= n_nodes:
                bad = int(np.count_nonzero(node_ids >= n_nodes))
                self.fail(name, f"{bad} of its {n} node ids are >= its size n_nodes = {n_nodes} (largest {top})")
            if sorting == "by_id" and n > 1 and np.any(node_ids[1:] < node_ids[:-1]):
                self.fail(name, "its node ids are not in order, though its sorting attribute says by_id")
        return PopulationSpikes(name=name, n_nodes=n_nodes, node_ids=node_ids, times=times)

    def _read(self, name: str, dataset: h5py.Dataset) -> np.ndarray:
        try:
            return dataset[()]
        except OSError as err:
            reason = "fails its fletcher32 checksum" if dataset.fletcher32 else f"cannot be read ({str(err).splitlines()[0]})"
            self.fail(name, f"its {dataset.name.rsplit('/', 1)[-1]} dataset {reason}")
            raise  # not reached

    def _to_ms(self, name: str, ts: h5py.Dataset, times: np.ndarray) -> np.ndarray:
        """The times in ms: as stored when ``units`` is ms (spikeflow's files, bit for bit)."""
        units = _text(ts.attrs.get("units"))
        if units == "ms":
            return times
        if units is None and self.foreign:
            self.notes.append(f"population {name}: timestamps have no units attribute, taken as ms")
            return times
        if units in ("s", "sec") and self.foreign:
            self.notes.append(f"population {name}: timestamps are in seconds, converted to ms")
            return times.astype(np.float64) * 1000.0
        self.fail(name, f"its timestamps are in {units!r}, not ms" if units is not None else "its timestamps have no units attribute")
        raise AssertionError  # not reached

    def _sorting(self, name: str, g: h5py.Group, ids: h5py.Dataset) -> str | None:
        """The population's sorting (none, by_id, by_time) or None if the file does not say.

        The group's enum (SONATA), else a text value there or on ``node_ids`` (bmtk).
        """
        for holder in (g, ids):
            if "sorting" not in holder.attrs:
                continue
            value = holder.attrs["sorting"]
            text = _text(value)
            if text is None:
                try:
                    text = _SORTING_NAMES.get(int(value))
                except (TypeError, ValueError):
                    text = None
            text = {"time": "by_time", "id": "by_id"}.get(text, text)
            if text not in _SORTING_CODES:
                self.fail(name, f"its sorting attribute is {value!r}, not one of none, by_id, by_time")
            return text
        return None

    def _check_times(self, name: str, times: np.ndarray, sorting: str | None) -> None:
        lo, hi = times.min(), times.max()  # NaN propagates into both
        if not (np.isfinite(lo) and np.isfinite(hi)):
            n_nan = int(np.count_nonzero(np.isnan(times)))
            n_inf = int(np.count_nonzero(np.isinf(times)))
            what = " and ".join(part for part in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if part)
            self.fail(name, f"its {times.size} spike times include {what} values")
        if self.window is not None:
            t_start, t_stop = self.window
            tol = 1e-9 * max(1.0, abs(t_start), abs(t_stop))
            if lo < t_start - tol or hi > t_stop + tol:
                outside = (times < t_start - tol) | (times > t_stop + tol)
                first = float(times[np.argmax(outside)])
                self.fail(
                    name,
                    f"{int(np.count_nonzero(outside))} of its {times.size} spike times lie outside the recorded window "
                    f"{t_start:g}-{t_stop:g} ms (e.g. {first:g} ms)",
                )
        if sorting == "by_time" and times.size > 1:
            if np.any(times[1:] < times[:-1]):
                self.fail(name, "its spike times are not in time order, though its sorting attribute says by_time")


def _text(value: Any) -> str | None:
    """An attribute's value as text, or None if it is not text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


def read_spikes(
    path: str | os.PathLike, populations: Iterable[str] | None = None, notes_to_stderr: bool = True
) -> SpikeData:
    """Read a spikes file: one spikeflow wrote, or any SONATA spike file.

    A file spikeflow did not write (no ``/metadata``, e.g. bmtk's) is read with what it has:
    the populations in the file's order, ``n_nodes`` inferred from the node ids where the file
    does not give it, the recorded window from 0 to the last spike (:attr:`SpikeData.t_stop`).
    What it lacks is listed in :attr:`SpikeData.missing` and, unless ``notes_to_stderr`` is
    false, said in one line on stderr.

    Args:
        path: the spikes file.
        populations: names to read (default: all, in the file's population order).
        notes_to_stderr: print the notes on a foreign file as one line on stderr.

    Returns:
        The spikes and the decoded metadata.

    Raises:
        SpikesFileError: the file fails a checksum or disagrees with its metadata (see
            :class:`FileChecks`), in one sentence naming the file and population.
    """
    with _open(path) as f:
        foreign = "metadata" not in f
        metadata = {} if foreign else _read_metadata(f["metadata"], path)
        spikes = f.get("spikes")
        if not isinstance(spikes, h5py.Group):
            raise SpikesFileError(f"{path} has no /spikes group: it is not a spikes file")
        if isinstance(spikes.get("timestamps"), h5py.Dataset):
            raise SpikesFileError(
                f"{path} has the spikes of one unnamed population directly in /spikes (an old SONATA layout "
                "without population groups); spikeflow reads /spikes/<population>/timestamps and node_ids"
            )
        order = [p["name"] for p in metadata.get("populations", [])] or list(spikes)
        wanted = order if populations is None else list(populations)
        missing = [name for name in wanted if name not in spikes]
        if missing:
            raise KeyError(f"{path}: no population {missing[0]!r} (has {', '.join(order)})")
        check = FileChecks(path, metadata, list(spikes), foreign=foreign)
        pops = {}
        for name in wanted:
            pops[name] = check.population(name, spikes[name])
        file_notes = _file_notes(f) if foreign else []
    data = SpikeData(populations=pops, metadata=metadata)
    if not foreign:
        return data
    window = f"recorded window taken as 0 to the last spike, {data.t_stop:g} ms"
    notes = (file_notes[0], window, *file_notes[1:], *check.notes)
    if notes_to_stderr:
        print(f"spikeflow: note: {path} was not written by spikeflow: {'; '.join(notes)}", file=sys.stderr)
    return SpikeData(populations=pops, metadata=metadata, missing=notes)


def _file_notes(f: h5py.File) -> list[str]:
    """What a foreign file lacks at its root: run metadata, SONATA's magic and version."""
    notes = ["no /metadata (no run metadata: config, population sizes, versions, timers)"]
    magic = f.attrs.get("magic")
    if magic is None:
        notes.append("no SONATA magic attribute")
    elif np.asarray(magic).size != 1 or int(np.asarray(magic).reshape(-1)[0]) != int(SONATA_MAGIC):
        notes.append(f"SONATA magic attribute is {magic!r}, not 0x0A7A")
    if "version" not in f.attrs:
        notes.append("no SONATA version attribute")
    return notes


def sonata_version(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The SONATA version a file's root ``version`` attribute gives, or None (with the right magic only)."""
    with _open(path) as f:
        magic, version = f.attrs.get("magic"), f.attrs.get("version")
        if magic is None or version is None or int(np.asarray(magic).reshape(-1)[0]) != int(SONATA_MAGIC):
            return None
        return tuple(int(v) for v in np.asarray(version).reshape(-1))


def has_run_metadata(path: str | os.PathLike) -> bool:
    """Whether a spikes file carries spikeflow's run metadata (``/metadata``)."""
    with _open(path) as f:
        return "metadata" in f


def describe_foreign(path: str | os.PathLike) -> str:
    """What ``spikeflow info`` prints for a SONATA spikes file spikeflow did not write."""
    data = read_spikes(path, notes_to_stderr=False)
    version = sonata_version(path)
    lines = [
        f"{path}: SONATA spikes file "
        + (f"version {'.'.join(map(str, version))}" if version else "without SONATA magic/version")
        + ", not written by spikeflow"
    ]
    for pop in data.populations.values():
        span = f", {pop.times.min():g}-{pop.times.max():g} ms" if pop.n_spikes else ""
        lines.append(f"  {pop.name:>8}: {pop.n_nodes:>7,} neurons {pop.n_spikes:>10,} spikes{span}")
    lines += [f"  missing: {note}" for note in data.missing]
    return "\n".join(lines)


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Read only the run metadata of a spikes file (the spikes are not read, so not checked)."""
    with _open(path) as f:
        if "metadata" not in f:
            raise SpikesFileError(f"{path} has no /metadata group: it is not a spikes file written by spikeflow")
        return _read_metadata(f["metadata"], path)


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


def _read_metadata(group: h5py.Group, path: str | os.PathLike = "spikes file") -> dict[str, Any]:
    try:
        encoded = set(json.loads(group.attrs.get("json_encoded", "[]")))
    except (ValueError, TypeError) as err:
        raise SpikesFileError(f"{path}: the metadata's json_encoded attribute is not valid JSON ({err})") from None
    out: dict[str, Any] = {}
    for key, value in group.attrs.items():
        if key == "json_encoded":
            continue
        if key in encoded:
            try:
                out[key] = json.loads(value)
            except (ValueError, TypeError) as err:
                raise SpikesFileError(f"{path}: metadata entry {key!r} is not valid JSON ({err})") from None
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
