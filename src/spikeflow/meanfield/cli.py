"""``spikeflow meanfield CONFIG --out-dir D``: the mean-field study of one run of a clustered-network config.

CONFIG is a study config or a run config (YAML). Its run (``--run`` when the study has several)
is resolved with :func:`spikeflow.config.load_study`; the run's full ``params`` go to
:func:`spikeflow.meanfield.study.meanfield_study`. Options default from the config's
``analysis.meanfield`` section (``n_init``, ``seed``, ``max_init_rate``, ``landscape``;
``enabled`` only decides whether the workflow runs it). Writes ``meanfield.json``,
``fixed_points.csv``, ``meanfield.h5`` and the figures of :mod:`spikeflow.plots.meanfield`
into the output directory and prints the states.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["add_meanfield_parser", "meanfield_options", "run_meanfield"]


def add_meanfield_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``meanfield`` command to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    p = subparsers.add_parser(
        "meanfield",
        help="fixed points, stability and reduced landscape of a clustered network's mean field",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("config", type=Path, help="study or run config (YAML) of the clustered model")
    p.add_argument("--out-dir", required=True, type=Path, help="directory for meanfield.json, fixed_points.csv, meanfield.h5 and figures")
    p.add_argument("--run", help="run id (see `spikeflow validate`); needed when the study has several runs")
    p.add_argument("--n-init", type=int, help="random initial rate vectors (default: analysis.meanfield.n_init, 50)")
    p.add_argument("--seed", type=int, help="seed of the initial rates (default: analysis.meanfield.seed, 1)")
    p.add_argument("--max-init-rate", type=float, help="initial rates from U[0, this] Hz (default: analysis.meanfield.max_init_rate, 50)")
    p.add_argument("--no-landscape", action="store_true", help="skip the reduced two-population landscape")
    p.add_argument(
        "--landscape",
        type=_boolean,
        metavar="{true,false}",
        help="compute the landscape or not (default: analysis.meanfield.landscape, true); as written by the workflow",
    )
    p.add_argument("--focus", help="focus populations of the landscape, e.g. E0,E1 (default: the first two E clusters)")
    p.add_argument("--landscape-step", type=float, help="grid step of the landscape in Hz (default 1 for two focus populations)")
    p.add_argument("--no-figures", action="store_true", help="write the tables only")
    p.set_defaults(func=run_meanfield)
    return p


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def meanfield_options(config_section: Mapping[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`meanfield_study`: command-line values over the config's ``analysis.meanfield``.

    Args:
        config_section: The run's ``analysis.meanfield`` section (defaults filled in).
        args: Parsed command line.

    Returns:
        ``n_init``, ``seed``, ``max_init_rate``, ``landscape`` and, when given, ``focus``
        and ``landscape_step``.
    """
    section = dict(config_section or {})
    options: dict[str, Any] = {
        "n_init": int(args.n_init if args.n_init is not None else section.get("n_init", 50)),
        "seed": int(args.seed if args.seed is not None else section.get("seed", 1)),
        "max_init_rate": float(args.max_init_rate if args.max_init_rate is not None else section.get("max_init_rate", 50.0)),
        "landscape": bool(args.landscape if args.landscape is not None else section.get("landscape", True))
        and not args.no_landscape,
    }
    if args.focus:
        options["focus"] = args.focus
    if args.landscape_step is not None:
        options["landscape_step"] = args.landscape_step
    if options["n_init"] < 0:
        raise ValueError(f"--n-init must be >= 0, got {options['n_init']}")
    if not options["max_init_rate"] > 0:
        raise ValueError(f"--max-init-rate must be > 0, got {options['max_init_rate']}")
    if "landscape_step" in options and not options["landscape_step"] > 0:
        raise ValueError(f"--landscape-step must be > 0, got {options['landscape_step']}")
    return options


def run_meanfield(args: argparse.Namespace) -> int:
    """Handler of ``spikeflow meanfield``; bad input raises :class:`spikeflow.config.ConfigError`."""
    from spikeflow.config import ConfigError, load_study, load_yaml

    raw = load_yaml(args.config)
    if raw.get("model") != "clustered":
        raise ConfigError(f"{args.config}: the mean field is available for model clustered, not {raw.get('model')!r}")
    cfg = load_study(raw).select(args.run).config
    from spikeflow.meanfield.study import (
        format_meanfield,
        meanfield_study,
        write_meanfield,
    )

    try:
        options = meanfield_options(cfg.get("analysis", {}).get("meanfield", {}), args)
        result = meanfield_study(cfg["params"], **options)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    write_meanfield(result, args.out_dir)
    if not args.no_figures:
        from spikeflow.plots.meanfield import plot_meanfield

        plot_meanfield(result, args.out_dir)
    print(format_meanfield(result))
    print(f"tables and figures in {args.out_dir}")
    return 0
