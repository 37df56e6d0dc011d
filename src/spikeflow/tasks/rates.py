"""``spikeflow analyze rates SPIKES --out-dir DIR``: read one run, tabulate its populations, draw three figures.

Reads the spikes file (:func:`spikeflow.io.spikes.read_spikes`), runs
:func:`spikeflow.analysis.rates.rates_analysis` and writes :data:`OUTPUTS` into the output
directory: the figures first, then ``rates.csv``, then ``rates.json`` (last, so a finished
``rates.json`` means a finished analysis), each atomically.
"""

from __future__ import annotations

import os
from typing import Any

from spikeflow.tasks import output_dir, outputs

__all__ = ["OUTPUTS", "FIGURES", "run"]

#: What the rates analysis writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="rates.json",
    table="rates.csv",
    raster="raster.png",
    boxplot="rate_boxplot.png",
    reference="rates_vs_reference.png",
)
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

    Returns:
        The table's rows (:func:`spikeflow.analysis.rates.population_table`).
    """
    from spikeflow.analysis.rates import COLUMNS, rates_analysis
    from spikeflow.io.spikes import read_spikes
    from spikeflow.io.tables import write_csv, write_json

    out = output_dir(out_dir)
    data = read_spikes(spikes_path)
    result = rates_analysis(data, **options)
    if figures:
        from spikeflow.plots import rates as plots  # matplotlib only when drawing

        plots.raster(data, out / OUTPUTS["raster"], t_window=raster_window_ms)
        label = plots._run_label(data)
        t0, t1 = result.window_ms
        title = f"Per-neuron firing rates, {t0:g}–{t1:g} ms"
        plots.rate_boxplot(result.rates_hz, out / OUTPUTS["boxplot"], title=f"{label}: {title}" if label else title)
        plots.rates_vs_reference(result.rows, out / OUTPUTS["reference"])
    write_csv(out / OUTPUTS["table"], result.rows, COLUMNS)
    write_json(out / OUTPUTS["json"], result.document(str(spikes_path)))
    return result.rows
