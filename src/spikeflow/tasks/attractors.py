"""``spikeflow analyze attractors`` and ``analyze attractor-summary``: cluster states of one run, and across runs.

:func:`run` reads the analysed populations of one spikes file, computes
:func:`spikeflow.models.clustered.attractors.compute_attractors` (as its two steps, the spikes
let go after the first) and writes :data:`OUTPUTS`;
:func:`summary` reads the attractors.json files of several runs, computes
:func:`spikeflow.models.clustered.attractors.summarize_attractors` and writes
:data:`SUMMARY_OUTPUTS`. The JSON is written last in both, every file atomically.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
#: The module that draws a run's figures.
PLOTS = "spikeflow.models.clustered.attractor_plots"
#: Rate values (populations x bins) from which a figure process pays (:mod:`spikeflow.plots.process`):
#: its start takes about 0.55 s of a core, hidden behind the thresholds (about 0.5 s for 34 M
#: values) and saving two of the three figures (0.6 s) on the critical path; at 8 M values the
#: thresholds take about 0.12 s.
FIGURE_PROCESS_MIN_VALUES = 8_000_000
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
    from concurrent.futures import ThreadPoolExecutor

    from spikeflow.analysis.parallel import analysis_threads, map_in_threads
    from spikeflow.io.attractors import attractors_writer
    from spikeflow.io.tables import to_json_value, write_csv, write_json
    from spikeflow.models.clustered import attractors as at
    from spikeflow.models.clustered.attractor_figure_data import figure_data
    from spikeflow.plots.process import figures_beside

    at.check_options(**options)  # before anything is read or written
    rate_options = {key: options.pop(key) for key in at.RATE_OPTIONS if key in options}
    out = output_dir(out_dir)
    threads = analysis_threads()
    data = _spikes(spikes_path, rate_options.get("populations", "e_clusters"))
    rates = at.cluster_rates(data, **rate_options)
    del data  # binned: the spikes' memory is free for the rest (the thresholds' temporaries)
    size = rates.rates_hz.size if figures else None
    # a figure process imports matplotlib beside the thresholds, then draws two figures beside
    # the third; attractors.h5 appears when the block ends without an error (the pool's thread
    # joined first)
    with (
        figures_beside(PLOTS, threads, size, FIGURE_PROCESS_MIN_VALUES) as figure_process,
        attractors_writer(out / OUTPUTS["h5"]) as h5,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        # the rates (most of attractors.h5) are written beside the thresholds and states,
        # the rest of the file beside the figures: HDF5's write releases the GIL
        rates_written = writer.submit(h5.rates, rates) if threads > 1 else None
        result = at.attractors_from_rates(rates, spikes_file=str(spikes_path), **options)
        del rates
        if figures:
            shown = figure_data(result)  # what the figures draw: a few MB to send, not the bins
            calls = [
                ("cluster_rates", (shown, out / OUTPUTS["rates"]), {}),
                ("state_sequence", (shown, out / OUTPUTS["sequence"]), {"top_states": top_states}),
            ]
            if figure_process is not None:  # drawn from here on, beside the rest
                figure_process.draw_each(calls)
                calls = []
        document = to_json_value(result.summary())  # as written: NaN -> None

        def draw() -> None:
            # matplotlib imported only when drawing (importing it beside the rates, on a
            # thread of its own, measured no faster: the import holds the GIL the rates need)
            plots = importlib.import_module(PLOTS)
            for function, args, kwargs in calls:
                getattr(plots, function)(*args, **kwargs)
            plots.transition_matrix(shown, out / OUTPUTS["transitions"], top_states=top_states)
            if figure_process is not None:
                figure_process.finish()

        def store() -> None:
            write_csv(out / OUTPUTS["states"], at.state_rows(document), at.STATE_COLUMNS)
            if rates_written is None:
                h5.rates(result)
            else:
                rates_written.result()
            h5.analysis(result)

        map_in_threads(lambda step: step(), [draw, store] if figures else [store], threads)
    write_json(out / OUTPUTS["json"], document)
    return document


class _PopulationsOnDemand(Mapping):
    """The named populations of a spikes file, each read (and checked) when it is looked up.

    Nothing is kept: :func:`spikeflow.models.clustered.attractors.cluster_rates` looks each
    population up once and bins it, so one population's spikes per thread are in memory at a time
    (instead of all of them, node ids included, until the rates are done); one per thread when the rates are made on several.
    """

    def __init__(self, path: str | os.PathLike, names: Sequence[str]) -> None:
        self.path = path
        self.names = list(names)

    def __getitem__(self, name: str) -> Any:
        from spikeflow.io.spikes import read_spikes

        if name not in self.names:
            raise KeyError(name)
        return read_spikes(self.path, populations=[name]).populations[name]

    def __contains__(self, name: object) -> bool:
        # by name (Mapping's default looks the item up: the population would be read and checked)
        return name in self.names

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _spikes(spikes_path: str | os.PathLike, populations: Any) -> Any:
    """The run's spikes as the analysis needs them (a :class:`spikeflow.io.spikes.SpikeData`).

    A spikeflow file whose metadata names every analysed population and fixes the recorded
    window (``t_presim_ms``, ``t_sim_ms``) gives its metadata and only those populations,
    each read when the rates need it (:class:`_PopulationsOnDemand`); the others are not
    read. Otherwise (a foreign file, whose window is taken from all its spikes; ``"all"``;
    a name the metadata does not list) every population is read first, and
    :func:`spikeflow.models.clustered.attractors.select_populations` says what is wrong.
    """
    from spikeflow.io.spikes import SpikeData, SpikesFileError, read_metadata, read_spikes

    try:
        metadata = read_metadata(spikes_path)
    except (OSError, SpikesFileError):
        metadata = None  # a foreign file, or one read_spikes says what is wrong with
    names = _analysed(metadata, populations) if metadata is not None else None
    if names is None:
        return read_spikes(spikes_path)
    return SpikeData(populations=_PopulationsOnDemand(spikes_path, names), metadata=metadata)


def _analysed(metadata: Mapping[str, Any], populations: Any) -> list[str] | None:
    """The populations ``populations`` selects by the file's metadata (in file order), or None
    when they cannot be read on their own (see :func:`_spikes`)."""
    if "t_presim_ms" not in metadata or "t_sim_ms" not in metadata:
        return None
    listed = [p.get("name") for p in metadata.get("populations") or [] if isinstance(p, Mapping)]
    if isinstance(populations, str) and populations == "all":
        return None
    if isinstance(populations, str) and populations == "e_clusters":
        clusters = (metadata.get("model_description") or {}).get("clusters") or {}
        names = list(clusters.get("e_clusters") or [])
    elif isinstance(populations, str):
        names = [p.strip() for p in populations.split(",") if p.strip()]
    else:
        names = [str(p) for p in populations]
    if not names or any(name not in listed for name in names):
        return None
    return [name for name in listed if name in names]


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
