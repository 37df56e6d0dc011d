"""``spikeflow analyze sequence SPIKES --out-dir DIR``: pattern decoding before and after training, and the figures.

Reads the run's spikes file and its ``sequence.npz`` (inputs, structure, weight snapshots;
beside the spikes file unless given), runs
:func:`spikeflow.models.sequence.analysis.analyze_run` and writes :data:`OUTPUTS`:
``decoding.json`` first (atomically), then the figures
(:func:`spikeflow.models.sequence.plots.plot_run`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spikeflow.tasks import output_dir, outputs

__all__ = ["OUTPUTS", "RASTER", "run"]

#: The raster figure of a test phase (one per phase of the protocol).
RASTER = "raster_{phase}.png"
#: What the sequence analysis writes into its directory (role -> file name), with the rasters
#: of the protocol's two test phases.
OUTPUTS = outputs(
    json="decoding.json",
    grid="grid.png",
    raster=RASTER.format(phase="test_after"),
    raster_before=RASTER.format(phase="test_before"),
    decoding="decoding.png",
    weights="weights.png",
)


def read_side(path: str | os.PathLike) -> dict[str, Any]:
    """The arrays of a run's ``sequence.npz``, name -> array (read at once, the file closed)."""
    import numpy as np

    with np.load(path) as z:
        return {key: z[key] for key in z.files}


def run(
    spikes_path: str | os.PathLike, out_dir: str | os.PathLike, side_path: str | os.PathLike | None = None
) -> dict[str, dict]:
    """Decode the patterns of one sequence-learning run and draw its figures into ``out_dir``.

    Writes ``decoding.json`` (per test phase: ``accuracy``, ``chance``, ``n_train``,
    ``n_test``, ``delays_ms``, ``accuracy_at_delay``; JSON with an indent of 1, undefined
    accuracies as NaN), then ``grid.png``, ``raster_<phase>.png`` per test phase,
    ``weights.png`` and ``decoding.png``.

    Args:
        spikes_path: the run's spikes file.
        out_dir: the output directory (created after the inputs are read).
        side_path: the run's ``sequence.npz`` (default: beside the spikes file).

    Returns:
        The decoding document, test phase name -> scores.
    """
    import json

    from spikeflow.io.atomic import atomic_path
    from spikeflow.io.spikes import read_spikes
    from spikeflow.models.sequence.analysis import analyze_run
    from spikeflow.models.sequence.protocol import SIDE_FILE

    spikes_path = Path(spikes_path)
    side = read_side(side_path or spikes_path.with_name(SIDE_FILE))
    data = read_spikes(spikes_path)
    wta = data.populations["wta"]
    params = data.metadata["config"]["params"]
    n = int(data.metadata["populations"][0]["size"])
    result = analyze_run(wta.node_ids, wta.times, n, int(params["n_patterns"]), side)
    out = output_dir(out_dir)
    with atomic_path(out / OUTPUTS["json"]) as tmp:
        tmp.write_text(json.dumps(result.decoding, indent=1))

    from spikeflow.models.sequence.plots import plot_run  # matplotlib only when drawing

    paths = {key: out / OUTPUTS[key] for key in ("grid", "weights", "decoding")}
    paths.update({f"raster_{name}": out / RASTER.format(phase=name) for name, _, _ in result.phases})
    plot_run(result, side, tuple(params["grid_shape"]), paths)
    return result.decoding
