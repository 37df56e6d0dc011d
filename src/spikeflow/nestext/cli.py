"""The ``spikeflow build-ext`` command (registered by :mod:`spikeflow.cli`)."""

from __future__ import annotations

import argparse


def add_build_ext_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``build-ext``: build the NEST extension module into the cache and print its path."""
    p = subparsers.add_parser(
        "build-ext",
        help="build spikeflow's C++ NEST extension module (sequence family) against the active NEST",
    )
    p.add_argument("--force", action="store_true", help="rebuild even if a cached build exists")
    p.add_argument("--verbose", action="store_true", help="show CMake and Ninja output")
    p.add_argument("--out", help="also write the module's path to this file (atomically; what the workflow's rule uses)")
    p.set_defaults(func=_cmd_build_ext)
    return p


def _cmd_build_ext(args: argparse.Namespace) -> int:
    from spikeflow.nestext.build import main_build

    return main_build(force=args.force, verbose=args.verbose, out=args.out)
