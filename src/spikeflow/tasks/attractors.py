"""``spikeflow analyze attractors`` and ``analyze attractor-summary``: cluster states of one run, and across runs.

:func:`run` reads one spikes file, computes
:func:`spikeflow.models.clustered.attractors.compute_attractors` and writes :data:`OUTPUTS`;
:func:`summary` reads the attractors.json files of several runs, computes
:func:`spikeflow.models.clustered.attractors.summarize_attractors` and writes
:data:`SUMMARY_OUTPUTS`. The JSON is written last in both, every file atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from spikeflow.tasks import output_dir, outputs, with_provenance

__all__ = ["OUTPUTS", "FIGURES", "SUMMARY_OUTPUTS", "run", "summary"]

#: What the attractor analysis of one run writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="attractors.json",
    h5="attractors.h5",
    states="states.csv",
    rates="cluster_rates.png",
    sequence="state_sequence.png",
    transitions="transition_matrix.png",
)
#: The figures among :data:`OUTPUTS`.
FIGURES = (OUTPUTS["rates"], OUTPUTS["sequence"], OUTPUTS["transitions"])
#: What the summary across runs writes into its directory (role -> file name).
SUMMARY_OUTPUTS = outputs(json="summary.json", table="summary.csv", figure="metastability.png")


def run(
    spikes_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    figures: bool = True,
    top_states: int = 20,
    **options: Any,
) -> dict[str, Any]:
    """The attractor analysis of one spikes file, written into ``out_dir``.

    Writes (``out_dir`` created first):

    * ``cluster_rates.png``, ``state_sequence.png``, ``transition_matrix.png`` (if
      ``figures``; :mod:`spikeflow.models.clustered.attractor_plots`);
    * ``states.csv``: one line per state, columns
      :data:`spikeflow.models.clustered.attractors.STATE_COLUMNS`;
    * ``attractors.h5``: the whole analysis (:func:`spikeflow.io.attractors.write_attractors`;
      read it back with :func:`spikeflow.io.attractors.read_attractors`);
    * ``attractors.json`` (last): the summary
      (:meth:`spikeflow.models.clustered.attractors.AttractorAnalysis.summary`), NaN as null.

    Args:
        spikes_path: the run's spikes file.
        out_dir: the output directory.
        figures: also draw the figures.
        top_states: number of states (by occupancy) shown in the transition matrix and named
            in the state sequence.
        **options: :func:`spikeflow.models.clustered.attractors.compute_attractors`'s options
            (populations, bin_ms, smoothing_ms, min_state_ms, t_start, t_stop,
            threshold_method, tol_hz, max_iter, min_contrast_hz).

    Returns:
        The attractors.json document (undefined numbers as None, as in the file).
    """
    from spikeflow.io.attractors import write_attractors
    from spikeflow.io.spikes import read_spikes
    from spikeflow.io.tables import to_json_value, write_csv, write_json
    from spikeflow.models.clustered.attractors import STATE_COLUMNS, compute_attractors, state_rows

    out = output_dir(out_dir)
    data = read_spikes(spikes_path)
    result = compute_attractors(data, spikes_file=str(spikes_path), **options)
    document = to_json_value(result.summary())  # as written: NaN -> None
    if figures:
        from spikeflow.models.clustered import attractor_plots as plots  # matplotlib only when drawing

        plots.cluster_rates(result, out / OUTPUTS["rates"])
        plots.state_sequence(result, out / OUTPUTS["sequence"], top_states=top_states)
        plots.transition_matrix(result, out / OUTPUTS["transitions"], top_states=top_states)
    write_csv(out / OUTPUTS["states"], state_rows(document), STATE_COLUMNS)
    write_attractors(result, out / OUTPUTS["h5"])
    write_json(out / OUTPUTS["json"], document)
    return document


def summary(
    json_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    group_by: str | None = "",
    figures: bool = True,
) -> dict[str, Any]:
    """The study summary of several runs' attractors.json files, written into ``out_dir``.

    Writes (``out_dir`` created after the inputs are read): ``metastability.png`` (mean dwell
    time, number of states, transitions per second and mean number of active populations
    against the group value, error bars: SD over repeats; if ``figures``), ``summary.csv``
    (:func:`spikeflow.models.clustered.attractors.summary_table`) and ``summary.json`` (the
    summary itself, last).

    Args:
        json_paths: attractors.json files of the runs.
        out_dir: the output directory.
        group_by: dotted config path to group the runs by ("" or None: the one key they
            differ in besides the seed).
        figures: also draw the figure.

    Returns:
        The summary (NaN as None, as in the file).

    Raises:
        FileNotFoundError: a missing attractors.json.
    """
    import json

    from spikeflow.io.tables import to_json_value, write_csv, write_json
    from spikeflow.models.clustered.attractors import summarize_attractors, summary_table

    paths = [Path(p) for p in json_paths]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"no attractors summary {path}")
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    result = summarize_attractors(documents, group_by=group_by, sources=[str(p) for p in paths])
    with_provenance(result, [_run_metadata(doc) for doc in documents], paths)
    out = output_dir(out_dir)
    if figures:
        from spikeflow.models.clustered import attractor_plots as plots  # matplotlib only when drawing

        plots.metastability(result, out / SUMMARY_OUTPUTS["figure"])
    columns, rows = summary_table(result)
    write_csv(out / SUMMARY_OUTPUTS["table"], rows, columns)
    write_json(out / SUMMARY_OUTPUTS["json"], result)
    return to_json_value(result)


def _run_metadata(document: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of the run an attractors.json describes: its spikes file's, if that is still there."""
    from spikeflow.io.spikes import SpikesFileError, read_metadata

    path = document.get("spikes_file")
    if path and Path(path).is_file():
        try:
            return read_metadata(path)
        except (OSError, SpikesFileError):
            pass
    return {"run_id": document.get("run_id"), "seed": document.get("seed")}
