"""The ``spikeflow train`` command: train one run's plastic network epoch by epoch.

Usage::

    spikeflow train --config RUN.yaml --out-dir results/<study>/<run> [--resume] [--stop-after K]

Writes into the output directory: ``checkpoints/epoch_NNNN.h5`` and ``epochs/spikes_epochNNNN.h5``
after every epoch, and at the end ``epochs.json``, ``epochs.csv``, ``epochs.h5``,
``patterns.h5`` (with pattern input), ``figures/*.png`` and ``spikes.h5`` (last, so that a
finished ``spikes.h5`` means a finished run). ``--resume`` continues from the latest checkpoint
in the output directory (its config must match); ``--stop-after K`` stops after epoch K
without the final files, to be resumed later.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from spikeflow.config import load_yaml, simulation_part


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``train`` command to the ``spikeflow`` parser's subcommands."""
    p = subparsers.add_parser("train", help="train a plastic network (model: training) for its epochs, with checkpoints")
    p.add_argument("--config", required=True, type=Path, help="a run config (from `spikeflow resolve`) or a training config without sweep")
    p.add_argument("--out-dir", required=True, type=Path, help="the run's directory: spikes.h5, epochs.*, checkpoints/, figures/")
    p.add_argument("--run-id", help="name of the run in the metadata (default: the output directory's name)")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out-dir (if any)")
    p.add_argument("--stop-after", type=int, metavar="K", help="stop after epoch K (checkpoint written, no final files)")
    p.add_argument("--no-figures", action="store_true", help="do not draw the figures")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    """Handler of ``spikeflow train``."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    return train_run(
        load_yaml(args.config), args.out_dir, args.run_id, resume=args.resume, stop_after=args.stop_after,
        figures=not args.no_figures, sources={"run_config_path": args.config},
    )


def train_run(
    run_config: dict,
    out_dir: Path,
    run_id: str | None = None,
    *,
    resume: bool = True,
    stop_after: int | None = None,
    figures: bool = True,
    sources: dict | None = None,
) -> int:
    """Train one run into ``out_dir`` (resuming from its latest checkpoint if ``resume``); 0 when done.

    This is what ``spikeflow run`` does for a training run (``models.training.execute``).
    """
    from spikeflow.models.training.checkpoint import latest_checkpoint, read_checkpoint
    from spikeflow.models.training.config import TrainingConfig
    from spikeflow.models.training.outputs import write_outputs
    from spikeflow.models.training.trainer import Trainer

    out_dir = Path(out_dir)
    cfg = TrainingConfig.from_run_config(run_config)
    run_id = run_id or out_dir.resolve().name
    latest = latest_checkpoint(out_dir / "checkpoints") if resume else None
    if latest is not None and simulation_part(read_checkpoint(latest).config) != simulation_part(cfg.run_config):
        print(f"[spikeflow] checkpoint {latest} belongs to another config; training from the start", flush=True)
        latest = None
    if latest is not None:
        trainer = Trainer.resume(latest, out_dir=out_dir)
        trainer._say(f"resuming {run_id} from {latest} (epoch {trainer.epoch})")
    else:
        _remove_stale(out_dir)
        trainer = Trainer(cfg, out_dir=out_dir)
        p = cfg.params
        trainer._say(
            f"training run {run_id}: {p['n_neurons']} {p['neuron_model']} neurons, {p['synapse_model']} on "
            f"{', '.join(p['plastic'])}, {p['n_epochs']} epochs x {p['epoch_ms']} ms"
        )
        trainer.build()
    n_epochs = cfg.params["n_epochs"]
    stop = n_epochs if stop_after is None else min(int(stop_after), n_epochs)
    if stop > trainer.epoch:
        trainer.train(stop - trainer.epoch)
    if trainer.epoch < n_epochs:
        trainer._say(f"stopped after epoch {trainer.epoch} of {n_epochs}; continue with --resume")
        return 0
    if trainer._rank == 0:
        trainer.sources = dict(sources or {})
        written = write_outputs(trainer, out_dir, run_id, figures=figures)
        trainer._say(f"wrote {len(written)} files to {out_dir} (spikes: {written['spikes']})")
    return 0


def _remove_stale(out_dir: Path) -> None:
    """Remove checkpoints and per-epoch spikes of an earlier run in ``out_dir`` (a fresh start)."""
    for sub, pattern in (("checkpoints", "epoch_*.h5"), ("epochs", "spikes_epoch*")):
        for path in (out_dir / sub).glob(pattern):
            path.unlink(missing_ok=True)  # every MPI rank may try
