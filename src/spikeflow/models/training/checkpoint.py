"""Training checkpoints: all plastic weights and synapse states, neuron states, and the history so far (HDF5).

Layout::

    /                          attrs: format, epoch (completed), t_ms (end of that epoch, ms),
                               seed, num_vps, config (JSON, the resolved run config),
                               results (JSON, the per-epoch records so far),
                               initial (JSON, weight statistics before training),
                               spikeflow_version, nest_version
    /plastic/<pathway>/        attrs: synapse_model, copy, source_population, target_population,
                               edges (histogram edges)
        source, target         uint64 (n,), 0-based index within the source / target population
        weight, <state var>    float64 (n,), e.g. Kplus, Kplus_triplet, u, x (sorted by source, target)
        history                float64 (epochs + 1, m): the first m weights after every epoch (row 0: initial)
    /neurons/<population>/
        node_ids               uint64 (n,), 0-based
        V_m, <state var>       float64 (n,)

Written atomically (temporary name, then rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import spikeflow
from spikeflow.io.atomic import atomic_path
from spikeflow.io.tables import to_json_value

FORMAT = "spikeflow-training-checkpoint-1"


@dataclass
class PathwayState:
    """The plastic connections of one pathway, sorted by (source, target).

    Attributes:
        source, target: uint64 arrays (n,), 0-based indices within the populations.
        values: name -> float64 array (n,): ``weight`` and the synapse state variables.
        attrs: synapse_model, copy, source_population, target_population.
        edges: histogram edges (bins + 1,) fixed for the run.
        history: float64 (epochs + 1, m), the first m weights after each epoch.
    """

    source: np.ndarray
    target: np.ndarray
    values: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)
    edges: np.ndarray | None = None
    history: np.ndarray | None = None


@dataclass
class TrainingState:
    """Everything a checkpoint holds.

    Attributes:
        epoch: epochs completed.
        t_ms: model time at the end of that epoch (warm-up included), ms.
        config: resolved run config.
        plastic: pathway -> its connections' state.
        neurons: population -> {"node_ids": (n,), "V_m": (n,), ...}.
        results: per-epoch records so far.
        initial: weight statistics before training, per pathway.
        info: further attributes (seed, num_vps, versions).
    """

    epoch: int
    t_ms: float
    config: dict[str, Any]
    plastic: dict[str, PathwayState]
    neurons: dict[str, dict[str, np.ndarray]]
    results: list[dict[str, Any]] = field(default_factory=list)
    initial: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def write_checkpoint(path: str | os.PathLike, state: TrainingState) -> Path:
    """Write ``state`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["epoch"] = int(state.epoch)
        f.attrs["t_ms"] = float(state.t_ms)
        f.attrs["config"] = json.dumps(to_json_value(state.config))
        f.attrs["results"] = json.dumps(to_json_value(state.results))
        f.attrs["initial"] = json.dumps(to_json_value(state.initial))
        f.attrs["info"] = json.dumps(to_json_value({"spikeflow_version": spikeflow.__version__, **state.info}))
        g = f.create_group("plastic")
        for name, pw in state.plastic.items():
            h = g.create_group(_key(name))
            h.attrs["pathway"] = name
            for k, v in pw.attrs.items():
                h.attrs[k] = v
            h.create_dataset("source", data=np.asarray(pw.source, np.uint64))
            h.create_dataset("target", data=np.asarray(pw.target, np.uint64))
            for k, v in pw.values.items():
                h.create_dataset(k, data=np.asarray(v, np.float64))
            if pw.edges is not None:
                h.create_dataset("edges", data=np.asarray(pw.edges, np.float64))
            if pw.history is not None:
                h.create_dataset("history", data=np.asarray(pw.history, np.float64))
        g = f.create_group("neurons")
        for pop, values in state.neurons.items():
            h = g.create_group(pop)
            for k, v in values.items():
                h.create_dataset(k, data=np.asarray(v, np.uint64 if k == "node_ids" else np.float64))
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> TrainingState:
    """Read a checkpoint written by :func:`write_checkpoint`.

    Raises:
        FileNotFoundError: no such file, or not a training checkpoint.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint {path}")
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise FileNotFoundError(f"{path} is not a spikeflow training checkpoint")
        plastic = {}
        for h in f["plastic"].values():
            values = {k: h[k][()] for k in h if k not in ("source", "target", "edges", "history")}
            attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h.attrs.items() if k != "pathway"}
            plastic[str(h.attrs["pathway"])] = PathwayState(
                source=h["source"][()],
                target=h["target"][()],
                values=values,
                attrs=attrs,
                edges=h["edges"][()] if "edges" in h else None,
                history=h["history"][()] if "history" in h else None,
            )
        neurons = {pop: {k: h[k][()] for k in h} for pop, h in f["neurons"].items()}
        return TrainingState(
            epoch=int(f.attrs["epoch"]),
            t_ms=float(f.attrs["t_ms"]),
            config=json.loads(f.attrs["config"]),
            plastic=plastic,
            neurons=neurons,
            results=json.loads(f.attrs["results"]),
            initial=json.loads(f.attrs["initial"]),
            info=json.loads(f.attrs["info"]),
        )


def checkpoint_name(epoch: int) -> str:
    """File name of the checkpoint after ``epoch``."""
    return f"epoch_{epoch:04d}.h5"


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The checkpoint of the highest epoch in ``directory`` (None if there is none)."""
    files = sorted(Path(directory).glob("epoch_[0-9][0-9][0-9][0-9].h5"))
    return files[-1] if files else None


def _key(pathway: str) -> str:
    return pathway.replace("->", "")
