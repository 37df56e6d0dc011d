"""``spikeflow analyze training EPOCHS.h5 --out-dir DIR``: the figures of a training run, from its epochs.h5.

A training run draws these itself (``spikeflow train`` / ``spikeflow run`` into
``<run>/figures/``, through :func:`run`); the command draws them again from a finished run's
epochs.h5, e.g. after a change to the figures. Reads the file
(:func:`spikeflow.models.training.outputs.read_epochs_h5`) and hands the epoch history to
:mod:`spikeflow.models.training.plots`.
"""

from __future__ import annotations

import os
from pathlib import Path

from spikeflow.tasks import output_dir, outputs

__all__ = ["FIGURES", "OUTPUTS", "run"]

#: The figures of a training run, by name (file NAME.png): the one definition that the task,
#: the workflow's run outputs (:class:`spikeflow.plan.Plan`) and the report use.
FIGURES = ("weights_over_epochs", "rates_over_epochs", "weight_change")
#: What the figures task writes into its directory (role -> file name).
OUTPUTS = outputs(**{name: f"{name}.png" for name in FIGURES})


def run(epochs_h5: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Draw the three figures of a training run from its epochs.h5 into ``out_dir``.

    Writes ``weights_over_epochs.png`` (weight histogram of every plastic pathway after every
    epoch, mean +- SD), ``rates_over_epochs.png`` (mean rate and ISI CV of every population)
    and ``weight_change.png`` (mean and mean absolute weight change per epoch), each
    atomically.

    Args:
        epochs_h5: the run's epochs.h5.
        out_dir: the output directory (created after the file is read).

    Returns:
        Figure name -> path written.
    """
    from spikeflow.models.training import plots
    from spikeflow.models.training.outputs import read_epochs_h5

    draw = {
        "weights_over_epochs": plots.weights_over_epochs,
        "rates_over_epochs": plots.rates_over_epochs,
        "weight_change": plots.weight_change,
    }
    history = read_epochs_h5(epochs_h5)
    out = output_dir(out_dir)
    return {name: draw[name](history, out / OUTPUTS[name]) for name in FIGURES}
