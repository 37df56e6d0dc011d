"""Reference ensembles of the validation verdict on disk: find, write and read them.

A reference is a compressed ``.npz`` of per-neuron statistics (not spikes) with a JSON beside
it saying how it was made (``bench/make_validation_reference.py`` writes both). Shipped ones
live in ``spikeflow/data/validation/`` and are named by their stem without ``_microcircuit``,
e.g. ``pd14_scale0.1``. Arrays in the npz are keyed ``{stat}/{population}/{seed}``; rates are
stored as spike counts (``uint16``, exact: rate = count / window length), CVs and correlations
as ``float16``. What an ensemble is and how it is compared:
:mod:`spikeflow.analysis.validation`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from spikeflow.analysis.validation import STATISTICS, Ensemble
from spikeflow.io.atomic import atomic_path
from spikeflow.io.tables import write_json

__all__ = ["SHIPPED_DIR", "reference_path", "save_reference", "load_reference"]

#: Where the shipped references live.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "validation"


def reference_path(name_or_path: str | os.PathLike) -> Path:
    """The npz of a reference: a path to an ``.npz`` file, or a shipped name like ``pd14_scale0.1``.

    Raises:
        FileNotFoundError: an ``.npz`` path that does not exist.
        ValueError: neither an existing path nor a shipped name (the error lists the names).
    """
    p = Path(name_or_path)
    if p.suffix == ".npz" or p.exists():
        if not p.exists():
            raise FileNotFoundError(f"reference file {p} does not exist")
        return p
    shipped = sorted(SHIPPED_DIR.glob("*.npz"))
    for f in shipped:
        if f.stem == str(name_or_path) or f.stem.replace("_microcircuit", "") == str(name_or_path):
            return f
    names = ", ".join(f.stem.replace("_microcircuit", "") for f in shipped) or "none"
    raise ValueError(f"unknown reference {str(name_or_path)!r}: give an .npz path or one of {names}")


def save_reference(path: str | os.PathLike, ensemble: Ensemble) -> tuple[Path, Path]:
    """Write an ensemble as a compressed ``.npz`` plus ``.json`` (its ``info``, seeds, window), atomically.

    Rates are stored as spike counts (uint16), CVs and correlations as float16.

    Returns:
        The paths of the npz and the JSON.

    Raises:
        ValueError: a spike count beyond the uint16 range.
    """
    path = Path(path)
    length_s = (ensemble.window_ms[1] - ensemble.window_ms[0]) / 1000.0
    arrays: dict[str, np.ndarray] = {
        "seeds": np.asarray(ensemble.seeds, np.int64),
        "window_ms": np.asarray(ensemble.window_ms, np.float64),
        "populations": np.asarray(ensemble.populations),
    }
    for stat in STATISTICS:
        for pop in ensemble.populations:
            for seed, values in zip(ensemble.seeds, ensemble.stats[stat][pop]):
                if stat == "rate":
                    counts = np.rint(values * length_s)
                    if counts.max(initial=0) > np.iinfo(np.uint16).max:
                        raise ValueError(f"{pop}: spike counts beyond uint16")
                    arrays[f"rate/{pop}/{seed}"] = counts.astype(np.uint16)
                else:
                    arrays[f"{stat}/{pop}/{seed}"] = values.astype(np.float16)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    meta = dict(ensemble.info)
    meta.update(seeds=list(ensemble.seeds), window_ms=list(ensemble.window_ms),
                populations=ensemble.populations,
                encoding="rate/POP/SEED: spike counts (uint16) in the window; cv/POP/SEED, corr/POP/SEED: float16")
    json_path = path.with_suffix(".json")
    write_json(json_path, meta)
    return path, json_path


def load_reference(name_or_path: str | os.PathLike) -> Ensemble:
    """Read a reference ensemble written by :func:`save_reference` (its JSON into ``info``).

    Args:
        name_or_path: an ``.npz`` path or a shipped name (:func:`reference_path`).

    Returns:
        The ensemble; ``info`` holds the JSON beside the npz, ``name`` (default: the stem
        without ``_microcircuit``) and ``path``.
    """
    path = reference_path(name_or_path)
    with np.load(path, allow_pickle=False) as z:
        seeds = [int(s) for s in z["seeds"]]
        window = tuple(float(x) for x in z["window_ms"])
        pops = [str(p) for p in z["populations"]]
        length_s = (window[1] - window[0]) / 1000.0
        stats: dict[str, dict[str, list[np.ndarray]]] = {s: {} for s in STATISTICS}
        for stat in STATISTICS:
            for pop in pops:
                arrs = [z[f"{stat}/{pop}/{seed}"].astype(np.float64) for seed in seeds]
                stats[stat][pop] = [a / length_s for a in arrs] if stat == "rate" else arrs
    json_path = path.with_suffix(".json")
    info = json.loads(json_path.read_text()) if json_path.exists() else {}
    info.setdefault("name", path.stem.replace("_microcircuit", ""))
    info["path"] = str(path)
    return Ensemble(seeds, stats, window, info)  # type: ignore[arg-type]
