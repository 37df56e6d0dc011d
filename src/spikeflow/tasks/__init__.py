"""The task layer: what ``spikeflow analyze KIND`` does, one thin module per analysis.

Three layers, each with one job:

* :mod:`spikeflow.analysis` (and a family's own analysis modules, :mod:`spikeflow.meanfield`):
  pure functions over arrays, :class:`~spikeflow.io.spikes.SpikeData` and result objects.
  They read no file, write no file and draw nothing, so that they are tested on synthetic data
  and called from a notebook on data already in memory.
* :mod:`spikeflow.plots` (and ``models/<family>/plots.py``, ``attractor_plots.py``): figures
  drawn from results and arrays handed to them; a figure module never opens an input file.
* ``spikeflow.tasks.<kind>``: one entry function per analysis (``run``) that reads the
  inputs (:mod:`spikeflow.io`), calls the analysis, writes its tables
  (:mod:`spikeflow.io.tables`, each file atomically) and hands the results to the plots.
  Each task module names its output files once, in ``OUTPUTS`` (role -> file name in the
  output directory); the task writes those names, the command line's help quotes them and the
  workflow's rules (``workflow/rules/*.smk``) build their outputs from them.

The command line (:mod:`spikeflow.tasks.cli`) only parses options, calls a task and prints
its result. Task modules import their analysis, ``io`` and plot modules when they run, so that
reading ``OUTPUTS`` (as ``spikeflow --help`` and Snakemake do) loads no numpy, scipy or
matplotlib.

Tasks: :mod:`~spikeflow.tasks.rates`, :mod:`~spikeflow.tasks.scaling`,
:mod:`~spikeflow.tasks.memory`, :mod:`~spikeflow.tasks.validate`,
:mod:`~spikeflow.tasks.attractors` (one run, and the summary across runs),
:mod:`~spikeflow.tasks.meanfield`, :mod:`~spikeflow.tasks.meanfield_verdict`,
:mod:`~spikeflow.tasks.sequence` and :mod:`~spikeflow.tasks.training`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

__all__ = ["outputs", "describe", "output_dir", "read_runs", "with_provenance", "provenance_text"]


def outputs(**names: str) -> Mapping[str, str]:
    """A task's output table: role -> file name in its output directory (read-only).

    Args:
        **names: one file name per role; the roles are the workflow rules' output names
            (``json``, ``table``, ``figure``, ...).

    Returns:
        The names as a read-only mapping, in the order given.
    """
    return MappingProxyType(dict(names))


def describe(names: Mapping[str, str]) -> str:
    """The file names of an output table as an English list, for a command's ``--out-dir`` help.

    Args:
        names: an output table (:func:`outputs`).

    Returns:
        E.g. ``"rates.json, rates.csv and raster.png"``.
    """
    files = list(names.values())
    return files[0] if len(files) == 1 else f"{', '.join(files[:-1])} and {files[-1]}"


def output_dir(path: str | os.PathLike) -> Path:
    """The output directory of a task, created (with its parents) if it does not exist.

    Args:
        path: the directory.

    Returns:
        It as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_runs(
    spikes_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, analysis: str
) -> tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]:
    """Start an analysis of several runs: check the inputs, create the output directory, read the runs.

    Args:
        spikes_paths: spikes files of the runs.
        out_dir: output directory of the analysis (created before any file is read).
        analysis: name of the analysis, for the error message (e.g. "analyze_scaling").

    Returns:
        ``(out_dir, metadatas, records)``: the output directory, the metadata of every run
        (:func:`spikeflow.io.spikes.read_metadata`) and its
        :func:`spikeflow.analysis.costs.run_costs` record, both in the order of ``spikes_paths``.

    Raises:
        ValueError: without spikes files.
    """
    if not spikes_paths:
        raise ValueError(f"{analysis} needs at least one spikes file")
    from spikeflow.analysis.costs import run_costs
    from spikeflow.io.spikes import read_metadata

    out = output_dir(out_dir)
    metadatas = [read_metadata(path) for path in spikes_paths]
    return out, metadatas, [run_costs(m) for m in metadatas]


def with_provenance(
    document: dict[str, Any], metadatas: Sequence[Mapping[str, Any]], inputs: Sequence[str | os.PathLike]
) -> dict[str, Any]:
    """A study-level document with its ``provenance`` (what made it and what made its runs).

    Args:
        document: the summary about to be written (changed in place and returned).
        metadatas: the metadata of every run it summarises (spikes-file metadata).
        inputs: the files it read, in the same order.

    Returns:
        ``document`` with ``"provenance"``: :func:`spikeflow.driver.provenance.study_provenance`.
    """
    from spikeflow.driver.provenance import study_provenance

    document["provenance"] = study_provenance(list(metadatas), [str(p) for p in inputs])
    return document


def provenance_text(document: Mapping[str, Any]) -> str:
    """The provenance lines of a study-level document, for its text summary (and the report)."""
    from spikeflow.driver.provenance import study_summary_lines

    prov = document.get("provenance")
    return "".join(f"provenance: {line}\n" for line in study_summary_lines(prov)) if prov else ""
