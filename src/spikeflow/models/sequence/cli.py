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


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the commands of the sequence family (build-ext, sequence); its analysis is ``analyze sequence``."""
    from spikeflow.nestext.cli import add_build_ext_parser

    add_build_ext_parser(subparsers)
    add_sequence_parser(subparsers)
