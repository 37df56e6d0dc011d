"""meanfield.h5: every array of a mean-field study, written atomically.

Layout: root attrs ``model``, ``units``; datasets ``names``, ``types`` (str), ``cluster``;
``fixed_points/{rates, residuals, eigenvalues (complex), jacobians (gzip), k, orbit_size, state, verdict}``
(one row per fixed point up to cluster permutation; ``orbit_size``: how many it stands for); with a landscape, ``landscape/`` holds ``focus_index``, ``grid``,
``phi_eff``, ``force``, ``ambient``, ``fixed_points``, ``fixed_point_focus``, ``eigenvalues``,
``verdict``, ``potential`` and ``paths/<i>/{points, arc_length, force, potential}`` (attrs
``focus``, ``start``, ``end``, ``barrier_start``, ``barrier_end``). Units: rates Hz,
eigenvalues 1/tau, potential Hz^2. What the arrays are: :func:`spikeflow.meanfield.study.meanfield_study`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from spikeflow.io.atomic import atomic_path

__all__ = ["write_meanfield_h5"]


def write_meanfield_h5(result: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write the arrays of a mean-field study to ``path`` (the module's layout), atomically.

    Args:
        result: From :func:`spikeflow.meanfield.study.meanfield_study`.
        path: the HDF5 file to write (parent directories created).

    Returns:
        The path written.
    """
    names = result["populations"]["names"]
    rates = np.asarray(result["rates"])
    str_dt = h5py.string_dtype()
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["model"] = result["model"]
        f.attrs["units"] = "rates Hz, eigenvalues 1/tau, potential Hz^2"
        f.create_dataset("names", data=np.array(names, dtype=object), dtype=str_dt)
        f.create_dataset("types", data=np.array(result["populations"]["types"], dtype=object), dtype=str_dt)
        f.create_dataset("cluster", data=np.array(result["populations"]["cluster"], dtype=np.int64))
        fp = f.create_group("fixed_points")
        fp.create_dataset("rates", data=rates.reshape(-1, len(names)))
        fp.create_dataset("residuals", data=np.asarray(result["residuals"]))
        fp.create_dataset("eigenvalues", data=np.asarray(result["eigenvalues"]))
        fp.create_dataset("jacobians", data=np.asarray(result["jacobians"]), compression="gzip")
        rows = result["fixed_points"]
        fp.create_dataset("k", data=np.array([r["k"] for r in rows], dtype=np.int64))
        fp.create_dataset("orbit_size", data=np.array([r["orbit_size"] for r in rows], dtype=np.int64))
        fp.create_dataset("state", data=np.array([r["state"] for r in rows], dtype=np.int64))
        fp.create_dataset("verdict", data=np.array([r["verdict"] for r in rows], dtype=object), dtype=str_dt)
        land = result["landscape"]
        if land is not None:
            g = f.create_group("landscape")
            g.attrs["focus"] = [names[i] for i in land.focus]
            g.create_dataset("focus_index", data=land.focus)
            g.create_dataset("grid", data=land.grid)
            g.create_dataset("phi_eff", data=land.phi_eff)
            g.create_dataset("force", data=land.force)
            g.create_dataset("ambient", data=land.ambient, compression="gzip")
            g.create_dataset("fixed_points", data=land.fixed_points.reshape(-1, len(names)))
            g.create_dataset("fixed_point_focus", data=land.fixed_point_focus)
            g.create_dataset("eigenvalues", data=land.eigenvalues)
            g.create_dataset("verdict", data=np.array(land.verdicts, dtype=object), dtype=str_dt)
            if land.potential is not None:
                g.create_dataset("potential", data=land.potential)
            for i, p in enumerate(land.paths):
                pg = g.create_group(f"paths/{i}")
                pg.attrs["start"], pg.attrs["end"] = p.start, p.end
                pg.attrs["barrier_start"], pg.attrs["barrier_end"] = p.barrier_start, p.barrier_end
                for key in ("points", "arc_length", "force", "potential"):
                    pg.create_dataset(key, data=getattr(p, key))
    return Path(path)
