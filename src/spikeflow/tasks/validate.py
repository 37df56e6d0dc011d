"""``spikeflow analyze validate SPIKES... --reference R --out-dir DIR``: PASS or FAIL against a reference ensemble.

Reads the reference (:func:`spikeflow.io.references.load_reference`) and the candidate runs,
computes the verdict (:func:`spikeflow.analysis.validation.validate_runs`) and writes
:data:`OUTPUTS`: the figure, ``validation.csv``, ``validation.txt``, then ``validation.json``
(last), each atomically.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from spikeflow.tasks import output_dir, outputs, provenance_text, with_provenance

__all__ = ["OUTPUTS", "run"]

#: What the validation writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="validation.json",
    summary="validation.txt",
    table="validation.csv",
    figure="validation.png",
)


def run(
    spikes_paths: Sequence[str | os.PathLike],
    reference: str | os.PathLike,
    out_dir: str | os.PathLike,
    quantile: float | None = None,
    factor: float | None = None,
    min_samples: int | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Validate candidate runs against a reference ensemble and write the verdict into ``out_dir``.

    Writes:

    * ``validation.png``: the figure (:func:`spikeflow.plots.validation.validation_figure`;
      if ``figures``);
    * ``validation.csv``: one line per population and statistic, columns
      :data:`spikeflow.analysis.validation.COLUMNS`;
    * ``validation.txt``: the summary line (the report's line), the rule and any notes;
    * ``validation.json`` (last): :func:`spikeflow.analysis.validation.validate_runs`'s
      document (verdict, rule, summary line, reference, candidates, rows, every cell's
      distances).

    Args:
        spikes_paths: spikes files of the candidate runs.
        reference: a shipped reference name (``pd14_scale0.1``) or the path of a reference
            ``.npz``.
        out_dir: the output directory (created after the inputs are read).
        quantile, factor, min_samples: the rule's parameters (None: the defaults,
            :data:`~spikeflow.analysis.validation.DEFAULT_QUANTILE` etc.).
        figures: also draw the figure.

    Returns:
        The validation.json document (``"verdict"``, ``"summary"``, ``"rows"``, ...).
    """
    from spikeflow.analysis import validation as v
    from spikeflow.io.atomic import atomic_path
    from spikeflow.io.references import load_reference
    from spikeflow.io.spikes import read_spikes
    from spikeflow.io.tables import write_csv, write_json

    rule = {"quantile": quantile, "factor": factor, "min_samples": min_samples}
    ref = load_reference(reference)
    datas = [read_spikes(p) for p in spikes_paths]
    document = v.validate_runs(datas, ref, spikes_files=spikes_paths, **{k: x for k, x in rule.items() if x is not None})
    with_provenance(document, [d.metadata for d in datas], spikes_paths)
    out = output_dir(out_dir)
    if figures:
        from spikeflow.plots.validation import validation_figure  # matplotlib only when drawing

        validation_figure(document, out / OUTPUTS["figure"], title=v.figure_title(document))
    write_csv(out / OUTPUTS["table"], document["rows"], v.COLUMNS)
    with atomic_path(out / OUTPUTS["summary"]) as tmp:
        tmp.write_text(v.validation_text(document) + provenance_text(document))
    write_json(out / OUTPUTS["json"], document)
    return document
