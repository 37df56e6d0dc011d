"""``spikeflow analyze scaling SPIKES... --out-dir DIR``: what the runs cost, as a strong or weak scaling series.

Reads the metadata of every spikes file, computes
:func:`spikeflow.analysis.scaling.scaling_table` and writes :data:`OUTPUTS`: ``scaling.csv``,
the three figures (:mod:`spikeflow.plots.scaling`), then ``scaling.json`` (last), each
atomically.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from spikeflow.tasks import outputs, read_runs, with_provenance

__all__ = ["OUTPUTS", "run"]

#: What the scaling analysis writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="scaling.json",
    table="scaling.csv",
    phases="scaling_phases.png",
    rtf="scaling_rtf.png",
    efficiency="scaling_efficiency.png",
)


def run(spikes_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike) -> dict[str, Any]:
    """Scaling analysis of several runs: table, figures and JSON in ``out_dir``.

    Writes (``out_dir`` created first):

    * ``scaling.csv``: one line per configuration
      (:func:`spikeflow.analysis.scaling.scaling_csv`), NaN/None as empty cells;
    * ``scaling_phases.png``: stacked mean create/connect/presimulate/simulate wall time (s)
      per configuration, the SD of the total as error bar;
    * ``scaling_rtf.png``: real-time factor against VPs with SD error bars and the ideal;
    * ``scaling_efficiency.png``: parallel efficiency against VPs with the ideal line 1;
    * ``scaling.json`` (last, strict JSON, NaN as null):
      :func:`spikeflow.analysis.scaling.scaling_document`.

    Args:
        spikes_paths: spikes files of the runs (any order; repeats are grouped).
        out_dir: the output directory.

    Returns:
        The document written to ``scaling.json`` (before the NaN -> null conversion).

    Raises:
        ValueError: without spikes files.
    """
    from spikeflow.analysis.scaling import scaling_csv, scaling_document, scaling_table
    from spikeflow.io.tables import write_csv, write_json

    out, metadatas, records = read_runs(spikes_paths, out_dir, "analyze_scaling")
    table = scaling_table(records)
    rows = table["rows"]
    write_csv(out / OUTPUTS["table"], *scaling_csv(rows))

    from spikeflow.plots import scaling as plots  # matplotlib only when drawing

    title = plots.figure_title(records, table["series"])
    plots.plot_phases(rows, out / OUTPUTS["phases"], title=title)
    plots.plot_rtf(rows, out / OUTPUTS["rtf"], title=title)
    plots.plot_efficiency(rows, out / OUTPUTS["efficiency"], title=title, reason=table["reason"])

    document = with_provenance(scaling_document(table, records, spikes_paths), metadatas, spikes_paths)
    write_json(out / OUTPUTS["json"], document)
    return document
