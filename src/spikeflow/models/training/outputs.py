"""A training run's files: spikes.h5 (standard layout), epochs.json / epochs.csv / epochs.h5, patterns.h5, figures.

``epochs.h5`` is written by :func:`write_epochs_h5` and read back by :func:`read_epochs_h5`
(what the figures need, as an :class:`EpochHistory`); the figures are drawn by
:mod:`spikeflow.tasks.training`, whose ``FIGURES`` names them.

``epochs.json`` groups the per-epoch records the way the original NEST training module named
its four outputs: ``training_results`` (rates, CVs, weight statistics per epoch),
``performance_metrics`` (wall times, real-time factor, memory, kernel timers per epoch),
``neural_state`` (mean and SD of every saved neuron state variable per epoch) and
``model_configuration`` (the resolved config, the NEST models and their parameters).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from spikeflow.io.atomic import atomic_path
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.io.tables import to_json_value, write_csv, write_json
from spikeflow.models.training.params import compatibility
from spikeflow.tasks.training import FIGURES  # noqa: F401  (named once, in the task; plan.py reads it here)


def csv_rows(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """One flat row per epoch and the column names (``rate_hz_E``, ``w_mean_EE``, ...)."""
    rows, columns = [], ["epoch", "t_start_ms", "t_stop_ms", "rng_seed"]
    for rec in results:
        row = {k: rec[k] for k in ("epoch", "t_start_ms", "t_stop_ms", "rng_seed")}
        for pop, m in rec["populations"].items():
            for k in ("rate_hz", "cv_isi", "n_spikes", "fraction_silent"):
                row[f"{k}_{pop}"] = m[k]
        for pw, w in rec["weights"].items():
            key = pw.replace("->", "")
            for k, col in (("n", "n"), ("mean", "w_mean"), ("std", "w_std"), ("min", "w_min"), ("max", "w_max"),
                           ("change_mean", "dw_mean"), ("change_abs_mean", "dw_abs_mean"), ("change_rms", "dw_rms")):
                row[f"{col}_{key}"] = w[k]
        for pop, st in rec["state"].items():
            for var, v in st.items():
                row[f"{var}_mean_{pop}"] = v["mean"]
        perf = rec["performance"]
        for k in ("wall_s", "build_s", "simulate_s", "collect_s", "checkpoint_s", "real_time_factor"):
            row[k] = perf[k]
        row["vmsize_mb"] = perf["vmsize_kb"] / 1024.0
        row["peak_rss_mb"] = perf["peak_rss_kb"] / 1024.0
        for k in row:
            if k not in columns:
                columns.append(k)
        rows.append(row)
    return rows, columns


def epochs_document(trainer: Any, run_id: str) -> dict[str, Any]:
    """The content of epochs.json."""
    p = trainer.config.params
    return {
        "run_id": run_id,
        "n_epochs": trainer.epoch,
        "epoch_ms": p["epoch_ms"],
        "weight_unit": trainer.derived.unit,
        "training_results": [
            {k: r[k] for k in ("epoch", "t_start_ms", "t_stop_ms", "rng_seed", "populations", "weights", "presentations")}
            for r in trainer.results
        ],
        "initial_weights": trainer.initial,
        "performance_metrics": [{"epoch": r["epoch"], **r["performance"]} for r in trainer.results],
        "neural_state": [{"epoch": r["epoch"], **r["state"]} for r in trainer.results],
        "model_configuration": {
            "config": trainer.config.run_config,
            "description": trainer.description,
            "compatibility": compatibility(p["neuron_model"], p["synapse_model"]) or "trains",
            "nest_models": getattr(trainer, "model_configuration", {}),
        },
    }


def write_epochs_h5(path: Path, trainer: Any) -> Path:
    """Per-epoch arrays: rates, CVs, weight means, histograms and weight samples (row 0: before training)."""
    results = trainer.results
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["config"] = json.dumps(to_json_value(trainer.config.run_config))
        f.attrs["weight_unit"] = trainer.derived.unit
        f.create_dataset("epoch", data=np.array([r["epoch"] for r in results], np.int64))
        f.create_dataset("t_start_ms", data=np.array([r["t_start_ms"] for r in results], float))
        f.create_dataset("t_stop_ms", data=np.array([r["t_stop_ms"] for r in results], float))
        g = f.create_group("populations")
        for pop in trainer.derived.populations:
            h = g.create_group(pop)
            for k in ("rate_hz", "cv_isi", "n_spikes", "fraction_silent"):
                h.create_dataset(k, data=np.array([r["populations"][pop][k] for r in results], float))
        g = f.create_group("weights")
        state = trainer._state
        for pw, s in state.plastic.items():
            h = g.create_group(pw.replace("->", ""))
            h.attrs["pathway"] = pw
            stats = [trainer.initial[pw]] + [r["weights"][pw] for r in results]
            for k in ("mean", "std", "min", "max", "change_mean", "change_abs_mean", "change_rms"):
                h.create_dataset(k, data=np.array([x[k] for x in stats], float))
            h.create_dataset("histogram", data=np.array([x["histogram"] for x in stats], np.int64))
            h.create_dataset("edges", data=np.asarray(s.edges, float))
            if s.history is not None:
                h.create_dataset("samples", data=np.asarray(s.history, float))
        g = f.create_group("state")
        for pop in state.neurons:
            h = g.create_group(pop)
            for var in results[0]["state"].get(pop, {}) if results else []:
                h.create_dataset(f"{var}_mean", data=np.array([r["state"][pop][var]["mean"] for r in results], float))
                h.create_dataset(f"{var}_std", data=np.array([r["state"][pop][var]["std"] for r in results], float))
    return path


@dataclass(frozen=True)
class PathwayHistory:
    """One plastic pathway's weights over the epochs (row 0: before training), from epochs.h5.

    Attributes:
        name: the pathway, e.g. ``"E->E"``.
        histogram: int64 (n_epochs + 1, n_bins), weight counts per bin after every epoch.
        edges: float64 (n_bins + 1,), bin edges in the weight unit.
        mean, std: float64 (n_epochs + 1,), mean and SD of the weights.
        change_mean, change_abs_mean: float64 (n_epochs + 1,), mean and mean absolute weight
            change in each epoch (row 0: 0).
    """

    name: str
    histogram: np.ndarray
    edges: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    change_mean: np.ndarray
    change_abs_mean: np.ndarray


@dataclass(frozen=True)
class EpochHistory:
    """What the figures of a training run show, read from its epochs.h5 (:func:`read_epochs_h5`).

    Attributes:
        epochs: int64 (n_epochs,), the epoch numbers of the population records.
        weight_unit: unit of the weights (e.g. ``"pA"``).
        populations: population name -> ``{"rate_hz": (n_epochs,) spikes/s, "cv_isi":
            (n_epochs,)}``, in the file's (alphabetical) order.
        pathways: the plastic pathways, in the file's order.
    """

    epochs: np.ndarray
    weight_unit: str
    populations: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    pathways: list[PathwayHistory] = field(default_factory=list)


def read_epochs_h5(path: str | os.PathLike) -> EpochHistory:
    """Read what the figures need from a run's epochs.h5 (written by :func:`write_epochs_h5`)."""
    with h5py.File(path, "r") as f:
        pathways = [
            PathwayHistory(
                name=str(g.attrs.get("pathway", g.name)),
                histogram=g["histogram"][()],
                edges=g["edges"][()],
                mean=g["mean"][()],
                std=g["std"][()],
                change_mean=g["change_mean"][()],
                change_abs_mean=g["change_abs_mean"][()],
            )
            for g in (f["weights"][k] for k in f["weights"])
        ]
        populations = {
            pop: {key: f["populations"][pop][key][()] for key in ("rate_hz", "cv_isi")} for pop in f["populations"]
        }
        return EpochHistory(f["epoch"][()], str(f.attrs.get("weight_unit", "")), populations, pathways)


def write_patterns(path: Path, trainer: Any) -> Path | None:
    """The frozen patterns and every presentation (epoch, onset within the epoch in ms, pattern)."""
    pats = trainer.patterns
    if pats is None:
        return None
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["pattern_ms"] = pats.pattern_ms
        for k in range(pats.n_patterns):
            g = f.create_group(f"patterns/{k}")
            g.create_dataset("node_ids", data=pats.node_ids[k].astype(np.uint64))
            ts = g.create_dataset("times", data=pats.times[k])
            ts.attrs["units"] = "ms"
        rows = [(r["epoch"], onset, k) for r in trainer.results for onset, k in r["presentations"]]
        arr = np.array(rows, float).reshape(-1, 3)
        f.create_dataset("presentations/epoch", data=arr[:, 0].astype(np.int64))
        f.create_dataset("presentations/onset_ms", data=arr[:, 1])
        f.create_dataset("presentations/pattern", data=arr[:, 2].astype(np.int64))
    return path


def write_outputs(trainer: Any, out_dir: str | Path, run_id: str = "run", figures: bool = True) -> dict[str, Path]:
    """Write every file of a finished training run into ``out_dir`` (rank 0 only).

    Returns:
        Name -> path of what was written (spikes, epochs_json, epochs_csv, epochs_h5, patterns, figures).
    """
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    sizes = trainer.derived.populations
    pops = [PopulationSpikes(n, sizes[n], ids.astype(np.uint64), ts) for n, (ids, ts) in trainer.spikes.items()]
    rows, columns = csv_rows(trainer.results)
    written["epochs_csv"] = write_csv(out_dir / "epochs.csv", rows, columns)
    written["epochs_json"] = write_json(out_dir / "epochs.json", epochs_document(trainer, run_id))
    written["epochs_h5"] = write_epochs_h5(out_dir / "epochs.h5", trainer)
    pat = write_patterns(out_dir / "patterns.h5", trainer)
    if pat is not None:
        written["patterns"] = pat
    if figures:
        from spikeflow.tasks import training as figures_task

        written.update(figures_task.run(out_dir / "epochs.h5", out_dir / "figures"))
    written["spikes"] = write_spikes(  # last: the rule's target
        out_dir / "spikes.h5", pops, trainer.spikes_metadata(run_id), reports=trainer.state_reports()
    )
    return written
