"""``spikeflow analyze meanfield-verdict SPIKES... --out-dir DIR``: clustered runs at J+ = 1 against their mean field.

For every spikes file (a clustered run without potentiated clusters),
:func:`spikeflow.analysis.validation.meanfield_verdict` compares the mean rate of the E and of
the I neurons with the self-consistent rate of the run's own mean field; a run passes when both
lie within the tolerance, and the verdict is PASS when every run passes
(:func:`spikeflow.analysis.validation.combine_meanfield_verdicts`). Writes :data:`OUTPUTS`:
``verdict.txt`` (the one-line summary and the rule), then ``verdict.json`` (last), each
atomically.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from spikeflow.tasks import output_dir, outputs, provenance_text, with_provenance

__all__ = ["OUTPUTS", "DEFAULT_TOLERANCE", "run"]

#: What the mean-field verdict writes into its directory (role -> file name).
OUTPUTS = outputs(json="verdict.json", summary="verdict.txt")
#: Relative tolerance of the rates (10 %, the bound the NEST tests hold).
DEFAULT_TOLERANCE = 0.10


def run(
    spikes_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    tolerance: float = DEFAULT_TOLERANCE,
    t_start: float | None = None,
    t_stop: float | None = None,
) -> dict[str, Any]:
    """The mean-field verdict of clustered runs at J+ = 1, written into ``out_dir``.

    Args:
        spikes_paths: spikes files of clustered runs without potentiation.
        out_dir: the output directory (created after every run is judged).
        tolerance: relative tolerance of the E and I rates (> 0; 0.1 = 10 %).
        t_start, t_stop: analysis window in ms (default: the simulation phase).

    Returns:
        The verdict.json document: ``{"verdict", "summary", "rule", "tolerance", "n_runs",
        "n_pass", "runs": [{"run_id", "spikes_file", "verdict", "types": {"E": {...}, "I":
        {...}}, "window_ms", "summary", ...}]}``.

    Raises:
        ValueError: without spikes files, a tolerance <= 0, a run of another model or one
            with potentiated clusters.
    """
    if not spikes_paths:
        raise ValueError("analyze meanfield-verdict needs at least one spikes file")
    if not tolerance > 0:
        raise ValueError(f"--tolerance must be > 0, got {tolerance}")
    from spikeflow.analysis.validation import combine_meanfield_verdicts, meanfield_verdict
    from spikeflow.io.atomic import atomic_path
    from spikeflow.io.spikes import read_spikes
    from spikeflow.io.tables import write_json

    runs, metadatas = [], []
    for path in spikes_paths:
        data = read_spikes(path)
        metadatas.append(data.metadata)
        verdict = meanfield_verdict(data, tolerance=tolerance, t_start=t_start, t_stop=t_stop)
        runs.append({"run_id": data.metadata.get("run_id"), "spikes_file": str(path), **verdict})
    document = with_provenance(combine_meanfield_verdicts(runs, tolerance), metadatas, spikes_paths)
    out = output_dir(out_dir)
    with atomic_path(out / OUTPUTS["summary"]) as tmp:
        tmp.write_text(f"{document['summary']}\nrule: {document['rule']}\n" + provenance_text(document), encoding="utf-8")
    write_json(out / OUTPUTS["json"], document)
    return document
