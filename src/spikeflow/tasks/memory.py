"""``spikeflow analyze memory SPIKES... --out-dir DIR``: memory per rank and phase, the fitted resource model.

Reads the metadata of every spikes file, runs
:func:`spikeflow.analysis.memory.memory_analysis` and writes :data:`OUTPUTS` (``memory.json``
last), each atomically; ``memory_prediction.csv`` only when there is a prediction.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from spikeflow.tasks import outputs, read_runs, with_provenance

__all__ = ["OUTPUTS", "run"]

#: What the memory analysis writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="memory.json",
    model="memory_model.json",
    per_rank="memory.csv",
    table="memory_prediction.csv",
    figure="memory.png",
)


def run(
    spikes_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    predict: Sequence[float | Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Memory analysis of several runs: per-rank table, fitted model, prediction, figure.

    Writes (``out_dir`` created first):

    * ``memory.csv``: one line per run, rank and probe point, columns
      :data:`spikeflow.analysis.memory.PER_RANK_COLUMNS` (MB; NaN as empty cells);
    * ``memory_model.json``: the fitted :class:`spikeflow.analysis.memory.ResourceModel`
      (generic memory terms at the top level with what they were fitted on, NEST build and
      machine included; ``families``; ``runtime``), or ``{"fitted": false, "error"}`` if the
      runs cannot determine a model. This is the file ``resources.memory_model`` or
      ``spikeflow analyze memory --install`` hands to the workflow;
    * ``memory_prediction.csv`` (:data:`spikeflow.analysis.memory.PREDICTION_COLUMNS`) if
      there is a prediction;
    * ``memory.png``: measured peak memory per rank against connections per rank, the fitted
      model and the predicted points (:func:`spikeflow.plots.memory.plot_memory`);
    * ``memory.json`` (last, strict JSON):
      :meth:`spikeflow.analysis.memory.MemoryAnalysis.document`.

    Args:
        spikes_paths: spikes files of the runs.
        out_dir: the output directory.
        predict: sizes to predict (see :func:`spikeflow.analysis.memory.memory_analysis`).

    Returns:
        The document written to ``memory.json`` (before the NaN -> null conversion).

    Raises:
        ValueError: without spikes files.
    """
    from spikeflow.analysis.memory import PER_RANK_COLUMNS, PREDICTION_COLUMNS, memory_analysis
    from spikeflow.io.tables import write_csv, write_json

    out, metadatas, _ = read_runs(spikes_paths, out_dir, "analyze_memory")
    result = memory_analysis(metadatas, predict)
    write_csv(out / OUTPUTS["per_rank"], result.per_rank, PER_RANK_COLUMNS)
    write_json(out / OUTPUTS["model"], result.model_document())
    if result.prediction:
        write_csv(out / OUTPUTS["table"], result.prediction, PREDICTION_COLUMNS)

    from spikeflow.plots.memory import plot_memory  # matplotlib only when drawing

    plot_memory(result, out / OUTPUTS["figure"])
    document = with_provenance(result.document(spikes_paths), metadatas, spikes_paths)
    write_json(out / OUTPUTS["json"], document)
    return document
