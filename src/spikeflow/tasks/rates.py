"""``spikeflow analyze rates SPIKES --out-dir DIR``: read one run, tabulate its populations, draw three figures.

Reads the spikes file (:func:`spikeflow.io.spikes.read_spikes`), runs
:func:`spikeflow.analysis.rates.rates_analysis` and writes :data:`OUTPUTS` into the output
directory: the figures first, then ``rates.csv``, then ``rates.json`` (last, so a finished
``rates.json`` means a finished analysis), each atomically.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from spikeflow.tasks import output_dir, outputs

__all__ = ["OUTPUTS", "FIGURES", "run"]

#: The module that draws the figures.
PLOTS = "spikeflow.plots.rates"
#: What the rates analysis writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="rates.json",
    table="rates.csv",
    raster="raster.png",
    boxplot="rate_boxplot.png",
    reference="rates_vs_reference.png",
)
#: Spikes from which a figure process pays (:mod:`spikeflow.plots.process`): its start takes
#: about 0.55 s of the core the reading leaves idle, and saves the 0.3 s import of matplotlib
#: and the raster's drawing; reading 2 M spikes takes about 0.05 s, so below that the process
#: would not have imported matplotlib when its figures are asked for.
FIGURE_PROCESS_MIN_SPIKES = 2_000_000
#: The figures among :data:`OUTPUTS`.
FIGURES = (OUTPUTS["raster"], OUTPUTS["boxplot"], OUTPUTS["reference"])


def run(
    spikes_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    figures: bool = True,
    raster_window_ms: tuple[float, float] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """The rates analysis of one spikes file, written into ``out_dir``.

    Writes (``out_dir`` created first, before the spikes are read):

    * ``raster.png``, ``rate_boxplot.png``, ``rates_vs_reference.png`` (if ``figures``);
    * ``rates.csv``: one line per population, columns
      :data:`spikeflow.analysis.rates.COLUMNS`, NaN and None as empty cells;
    * ``rates.json`` (last): :meth:`spikeflow.analysis.rates.RatesResult.document`, NaN as
      null.

    Args:
        spikes_path: the run's spikes file.
        out_dir: the output directory.
        figures: also draw the figures.
        raster_window_ms: time window of the raster in ms (default: the last 200 ms).
        **options: :func:`spikeflow.analysis.rates.population_table`'s options (t_start,
            t_stop in ms, synchrony_bin_ms, corr_bin_ms, corr_sample, seed, silent_below_hz,
            runaway_above_hz, min_spikes).

    A run of at least :data:`FIGURE_PROCESS_MIN_SPIKES` spikes analysed on more than
    one thread has its figures drawn by a second process (:mod:`spikeflow.plots.process`), which
    imports matplotlib while the spikes are read: the same PNG files, and ``rates.json`` still
    written after all of them.

    Returns:
        The table's rows (:func:`spikeflow.analysis.rates.population_table`).
    """
    from spikeflow.analysis.parallel import analysis_threads
    from spikeflow.plots.process import figures_beside

    out = output_dir(out_dir)
    threads = analysis_threads()
    size = _spike_count(spikes_path) if figures and threads > 1 else None  # no extra read for one thread
    # a process that imports matplotlib while this one reads the spikes (one core), then draws
    # while it computes and writes the tables (plots.process: matplotlib holds the GIL)
    with figures_beside(PLOTS, threads, size, FIGURE_PROCESS_MIN_SPIKES) as figure_process:
        return _analyse(spikes_path, out, figures, figure_process, raster_window_ms, options)


def _analyse(
    spikes_path: str | os.PathLike,
    out: Path,
    figures: bool,
    figure_process: Any,
    raster_window_ms: tuple[float, float] | None,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """:func:`run` in ``out`` (``figure_process``: a :class:`~spikeflow.plots.process.FigureProcess` or None)."""
    from spikeflow.analysis.rates import COLUMNS, rates_analysis
    from spikeflow.io.spikes import read_spikes
    from spikeflow.io.tables import write_csv, write_json
    from spikeflow.plots.selection import raster_window, run_label, spikes_in

    data = read_spikes(spikes_path)
    window = raster_window(data, raster_window_ms)
    if figures and figure_process is not None:  # drawn beside the statistics, which it does not need
        figure_process.draw("raster", spikes_in(data, *window), out / OUTPUTS["raster"], t_window=window)
    result = rates_analysis(data, **options)
    if figures:
        t0, t1 = result.window_ms
        title = f"Per-neuron firing rates, {t0:g}–{t1:g} ms"
        label = run_label(data.metadata)
        calls = [
            ("rate_boxplot", (result.rates_hz, out / OUTPUTS["boxplot"]), {"title": f"{label}: {title}" if label else title}),
            ("rates_vs_reference", (result.rows, out / OUTPUTS["reference"]), {}),
        ]
        if figure_process is None:
            plots = importlib.import_module(PLOTS)  # matplotlib only when drawing
            plots.raster(data, out / OUTPUTS["raster"], t_window=window)
            for function, args, kwargs in calls:
                getattr(plots, function)(*args, **kwargs)
        else:
            figure_process.draw_each(calls)
    write_csv(out / OUTPUTS["table"], result.rows, COLUMNS)
    if figure_process is not None:
        figure_process.finish()
    write_json(out / OUTPUTS["json"], result.document(str(spikes_path)))
    return result.rows


def _spike_count(spikes_path: str | os.PathLike) -> int | None:
    """The spikes of a spikeflow file by its metadata's ``spike_counts`` (None for a file that does not say)."""
    from spikeflow.io.spikes import SpikesFileError, read_metadata

    try:
        counts = read_metadata(spikes_path).get("spike_counts")
    except (OSError, SpikesFileError):
        return None  # read_spikes says what is wrong with the file
    if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
        return None
    return sum(counts.values())
