"""The ``spikeflow sequence`` command (registered by :mod:`spikeflow.cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_sequence_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sequence``: run one sequence-learning simulation (test, train, test) and write its spikes file."""
    p = subparsers.add_parser(
        "sequence", help="run one sequence-learning (WTA + STDP) simulation (the same as `spikeflow simulate`)"
    )
    p.add_argument("--config", required=True, type=Path, help="a run config (from `spikeflow resolve`)")
    p.add_argument("--out", required=True, type=Path, help="spikes file to write (.h5); sequence.npz goes beside it")
    p.add_argument("--run-id", help="name of the run in the metadata (default: the output's directory name)")
    p.set_defaults(func=_cmd_sequence)
    return p


def _cmd_sequence(args: argparse.Namespace) -> int:
    import os
    import sys

    from spikeflow.config import load_yaml, resolve_run
    from spikeflow.driver import simulate
    from spikeflow.nestext import NestExtensionError

    os.environ.setdefault("PYNEST_QUIET", "1")
    run_cfg = resolve_run(load_yaml(args.config)).config
    if run_cfg["model"] != "sequence":
        raise ValueError(f"{args.config} is a {run_cfg['model']} config; `spikeflow sequence` runs model: sequence")
    try:
        simulate(run_cfg, args.out, run_id=args.run_id or Path(args.out).resolve().parent.name)
    except NestExtensionError as err:
        print(f"spikeflow: error: {err}", file=sys.stderr)
        return 2
    return 0


def add_sequence_analyze_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sequence-analyze``: decoding before/after training and the figures of one run."""
    p = subparsers.add_parser("sequence-analyze", help="pattern decoding and figures of a sequence-learning run")
    p.add_argument("--spikes", required=True, type=Path, help="the run's spikes.h5 (sequence.npz beside it)")
    p.add_argument("--out-dir", required=True, type=Path, help="directory for decoding.json and the figures")
    p.set_defaults(func=_cmd_sequence_analyze)
    return p


def _cmd_sequence_analyze(args: argparse.Namespace) -> int:
    import json

    from spikeflow.io.atomic import atomic_path
    from spikeflow.models.sequence.plots import plot_run
    from spikeflow.models.sequence.analysis import decode_run

    result = decode_run(args.spikes)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out_dir / "decoding.json") as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    plot_run(args.spikes, args.out_dir, result)
    for name, r in result.items():
        print(f"{name}: accuracy {r['accuracy']:.3f} (chance {r['chance']:.3f}, {r['n_test']} held-out samples)")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register every command of the sequence family (build-ext, sequence, sequence-analyze)."""
    from spikeflow.nestext.cli import add_build_ext_parser

    add_build_ext_parser(subparsers)
    add_sequence_parser(subparsers)
    add_sequence_analyze_parser(subparsers)
