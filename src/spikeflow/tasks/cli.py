"""``spikeflow analyze KIND INPUT... --out-dir DIR``: one subcommand per task (registered by :mod:`spikeflow.cli`).

Each handler turns the options into a task's arguments, calls the task (``spikeflow.tasks.<kind>.run``)
and prints what it found; the ``--out-dir`` help lists the files from the task's ``OUTPUTS``. The
per-run analyses (``rates``, ``attractors``) take several spikes files and as many ``--out-dir``
(``analyze rates A.h5 B.h5 --out-dir DA DB``): the task runs once per pair, in one process, which
is what the workflow's analysis batches call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from spikeflow.tasks import (
    attractors,
    describe,
    meanfield,
    meanfield_verdict,
    memory,
    rates,
    scaling,
    sequence,
    training,
    validate,
)

__all__ = ["add_analyze_parser"]


def _out_dir(p: argparse.ArgumentParser, names: Any) -> None:
    p.add_argument("--out-dir", required=True, type=Path, help=f"directory for {describe(names)}")


def _per_run(p: argparse.ArgumentParser, names: Any) -> None:
    """Spikes files, their output directories and logs of an analysis of one run, or of several one after another."""
    p.add_argument("spikes", type=Path, nargs="+", help="spikes file (.h5); several for several runs, analysed one after another in this process")
    p.add_argument("--out-dir", required=True, type=Path, nargs="+", help=f"directory for {describe(names)}; one per spikes file")
    p.add_argument("--log", type=Path, nargs="+", help="a file per spikes file that gets what is printed about its run (besides stdout)")


def _figures_option(p: argparse.ArgumentParser) -> None:
    """``--figures {true,false}`` (default true): what ``analysis.<kind>.figures`` says, as the workflow writes it."""
    p.add_argument(
        "--figures", type=_boolean, default=True, metavar="{true,false}",
        help="draw the run's figures (default true); false writes the tables only",
    )


def _each_run(args: argparse.Namespace, analyse: Callable[[Path, Path], str]) -> int:
    """``analyse(spikes, out_dir)`` for every spikes file and its directory, in order; prints what it returns.

    With several spikes files, each run's text goes to its ``--log`` file too, and the first one
    that fails stops the others, after a line on stderr (and in its log) that names it.

    Raises:
        ValueError: when the numbers of spikes files, ``--out-dir`` and ``--log`` values differ.
    """
    from spikeflow.allocator import retain_freed_memory

    n = len(args.spikes)
    for name, given in (("--out-dir", args.out_dir), ("--log", args.log)):
        if given is not None and len(given) != n:
            raise ValueError(f"{n} spikes file(s) but {len(given)} {name} value(s); give one per spikes file")
    retain_freed_memory()  # the populations' arrays, read one after another, reuse each other's memory
    for i, (spikes, out_dir) in enumerate(zip(args.spikes, args.out_dir)):
        log = args.log[i] if args.log else None
        try:
            text = analyse(spikes, out_dir)
        except BaseException as err:
            if n > 1 or log is not None:
                line = f"spikeflow: analyze {args.analysis} of {spikes} ({i + 1} of {n} in this process) failed"
                print(line, file=sys.stderr, flush=True)
                if log is not None:
                    _write_log(log, f"{line}: {type(err).__name__}: {err}\n")
            raise
        print(text, flush=True)
        if log is not None:
            _write_log(log, text + "\n")
    return 0


def _write_log(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _given(args: argparse.Namespace, keys: tuple[str, ...]) -> dict[str, Any]:
    """The options among ``keys`` given on the command line (not None)."""
    return {key: getattr(args, key) for key in keys if getattr(args, key) is not None}


def add_analyze_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``analyze`` and its subcommands (one per task) to the ``spikeflow`` parser's subcommands."""
    p = subparsers.add_parser("analyze", help="analyses of spikes files (and of configs: meanfield)")
    kinds = p.add_subparsers(dest="analysis", required=True, metavar="ANALYSIS")

    r = kinds.add_parser("rates", help="per-population rates, CV of ISIs, synchrony, correlations and figures")
    _per_run(r, rates.OUTPUTS)
    r.add_argument("--t-start", type=float, help="start of the analysed window, ms (default: end of presimulation)")
    r.add_argument("--t-stop", type=float, help="end of the analysed window, ms (default: end of the run)")
    r.add_argument("--synchrony-bin-ms", type=float, help="bin of the population histogram for synchrony, ms (default 3)")
    r.add_argument("--corr-bin-ms", type=float, help="bin for spike-count correlations, ms (default 2)")
    r.add_argument("--corr-sample", type=int, help="neurons sampled per population for correlations (default 50)")
    r.add_argument("--silent-below-hz", type=float, help="flag populations slower than this, spikes/s (default 0.1)")
    r.add_argument("--runaway-above-hz", type=float, help="flag populations faster than this, spikes/s (default 50)")
    _figures_option(r)
    r.set_defaults(func=_cmd_rates)

    sc = kinds.add_parser("scaling", help="time per phase, real-time factor, speed-up and efficiency across runs")
    sc.add_argument("spikes", type=Path, nargs="+", help="spikes files of the runs to compare")
    _out_dir(sc, scaling.OUTPUTS)
    sc.set_defaults(func=_cmd_scaling)

    me = kinds.add_parser("memory", help="memory per rank and phase, fitted memory model and its predictions")
    me.add_argument("spikes", type=Path, nargs="+", help="spikes files of runs of different sizes")
    _out_dir(me, memory.OUTPUTS)
    me.add_argument(
        "--install", action="store_true",
        help="also install the fitted model as yours (~/.cache/spikeflow/memory_model.json), which every study then uses",
    )
    me.set_defaults(func=_cmd_memory)

    va = kinds.add_parser("validate", help="PASS/FAIL of runs against a reference ensemble: rates, CVs, correlations per population")
    va.add_argument("spikes", type=Path, nargs="+", help="spikes files of the candidate runs (seeds disjoint from the reference's)")
    va.add_argument("--reference", required=True, help="a shipped reference (pd14_scale0.1, pd14_scale0.2) or the path of a reference .npz")
    _out_dir(va, validate.OUTPUTS)
    va.add_argument("--factor", type=float, help="pass when the distance is <= FACTOR x the reference's largest seed-to-seed distance (default 2)")
    va.add_argument("--strict", action="store_true", help="exit with status 1 when the verdict is not PASS")
    va.set_defaults(func=_cmd_validate)

    a = kinds.add_parser("attractors", help="cluster rates, active clusters, states, dwell times, transitions and figures")
    _per_run(a, attractors.OUTPUTS)
    a.add_argument("--populations", help="e_clusters (default), all, or comma-separated population names")
    a.add_argument("--bin-ms", type=float, help="rate bin, ms (default 0.5)")
    a.add_argument("--smoothing-ms", type=float, help="SD of the Gaussian smoothing, ms (default 10; 0 = none)")
    a.add_argument("--min-state-ms", type=float, help="drop states shorter than this, ms (default 20)")
    a.add_argument("--threshold-method", choices=["reference", "midpoint"], help="active-cluster threshold (default midpoint)")
    a.add_argument("--min-contrast-hz", type=float, help="midpoint: nothing is active unless active and inactive rates differ by this, spikes/s (default 10)")
    _figures_option(a)
    a.set_defaults(func=_cmd_attractors)

    s = kinds.add_parser("attractor-summary", help="attractor statistics across runs, grouped by a config value")
    s.add_argument("jsons", type=Path, nargs="+", help="attractors.json files of the runs")
    _out_dir(s, attractors.SUMMARY_OUTPUTS)
    s.add_argument("--group-by", default="", help="dotted config path, e.g. params.j_potentiated.0 (default: the one key the runs differ in besides the seed)")
    s.set_defaults(func=_cmd_attractor_summary)

    mf = kinds.add_parser(
        "meanfield", help="fixed points, stability and reduced landscape of a clustered network's mean field",
        description=meanfield.__doc__.split("\n\n")[0],
    )
    mf.add_argument("config", type=Path, help="study or run config (YAML) of the clustered model")
    _out_dir(mf, meanfield.OUTPUTS)
    mf.add_argument("--run", help="run id (see `spikeflow validate`); needed when the study has several runs")
    mf.add_argument("--n-init", type=int, help="random initial rate vectors (default: analysis.meanfield.n_init, 50)")
    mf.add_argument("--seed", type=int, help="seed of the initial rates (default: analysis.meanfield.seed, 1)")
    mf.add_argument("--max-init-rate", type=float, help="initial rates from U[0, this] Hz (default: analysis.meanfield.max_init_rate, 50)")
    mf.add_argument("--no-landscape", action="store_true", help="skip the reduced two-population landscape")
    mf.add_argument(
        "--landscape", type=_boolean, metavar="{true,false}",
        help="compute the landscape or not (default: analysis.meanfield.landscape, true); as written by the workflow",
    )
    mf.add_argument("--focus", help="focus populations of the landscape, e.g. E0,E1 (default: the first two E clusters)")
    mf.add_argument("--landscape-step", type=float, help="grid step of the landscape in Hz (default 1 for two focus populations)")
    mf.add_argument("--no-figures", action="store_true", help="write the tables only")
    mf.set_defaults(func=_cmd_meanfield)

    v = kinds.add_parser(
        "meanfield-verdict",
        help="PASS/FAIL of clustered runs at J+ = 1: E and I rates against the mean field's fixed point",
        description=meanfield_verdict.__doc__.split("\n\n")[0],
    )
    v.add_argument("spikes", type=Path, nargs="+", help="spikes files of clustered runs without potentiated clusters")
    _out_dir(v, meanfield_verdict.OUTPUTS)
    v.add_argument("--tolerance", type=float, default=meanfield_verdict.DEFAULT_TOLERANCE,
                   help="relative tolerance of the E and I rates (default 0.1 = 10 %%)")
    v.add_argument("--t-start", type=float, help="start of the analysed window, ms (default: end of presimulation)")
    v.add_argument("--t-stop", type=float, help="end of the analysed window, ms (default: end of the run)")
    v.add_argument("--strict", action="store_true", help="exit with status 1 when the verdict is not PASS")
    v.set_defaults(func=_cmd_meanfield_verdict)

    q = kinds.add_parser("sequence", help="pattern decoding before/after training, grid, rasters and weights (sequence family)")
    q.add_argument("spikes", type=Path, help="the run's spikes.h5")
    _out_dir(q, sequence.OUTPUTS)
    q.add_argument("--side", type=Path, help="the run's sequence.npz (default: beside the spikes file)")
    q.set_defaults(func=_cmd_sequence)

    t = kinds.add_parser("training", help="the figures of a training run, drawn again from its epochs.h5 (training family)")
    t.add_argument("epochs", type=Path, help="the run's epochs.h5")
    _out_dir(t, training.OUTPUTS)
    t.set_defaults(func=_cmd_training)
    return p


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


RATES_OPTIONS = ("t_start", "t_stop", "synchrony_bin_ms", "corr_bin_ms", "corr_sample", "silent_below_hz", "runaway_above_hz")


def _cmd_rates(args: argparse.Namespace) -> int:
    from spikeflow.analysis.rates import format_table

    options = _given(args, RATES_OPTIONS)
    limits = _given(args, ("silent_below_hz", "runaway_above_hz"))
    return _each_run(
        args, lambda spikes, out_dir: format_table(rates.run(spikes, out_dir, figures=args.figures, **options), **limits)
    )


def _cmd_scaling(args: argparse.Namespace) -> int:
    result = scaling.run(args.spikes, args.out_dir)
    print(f"{len(args.spikes)} run(s): {result.get('series')} scaling ({result.get('reason')}); tables and figures in {args.out_dir}")
    return 0


def _cmd_memory(args: argparse.Namespace) -> int:
    result = memory.run(args.spikes, args.out_dir)
    if result.get("model_error"):
        print(f"no memory model: {result['model_error']}")
    elif args.install:
        from spikeflow.resources import install_memory_model

        print(f"installed {install_memory_model(args.out_dir / memory.OUTPUTS['model'])}")
    if result.get("prediction_markdown"):
        print(result["prediction_markdown"])
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from spikeflow.analysis.validation import format_validation

    doc = validate.run(args.spikes, args.reference, args.out_dir, factor=args.factor)
    print(format_validation(doc))
    return 1 if args.strict and doc["verdict"] != "PASS" else 0


def _cmd_attractors(args: argparse.Namespace) -> int:
    from spikeflow.models.clustered.attractors import format_summary

    keys = ("populations", "bin_ms", "smoothing_ms", "min_state_ms", "threshold_method", "min_contrast_hz")
    options = _given(args, keys)
    options.setdefault("threshold_method", "midpoint")
    if options["threshold_method"] == "midpoint":
        options.setdefault("min_contrast_hz", 10.0)
    return _each_run(
        args, lambda spikes, out_dir: format_summary(attractors.run(spikes, out_dir, figures=args.figures, **options))
    )


def _cmd_attractor_summary(args: argparse.Namespace) -> int:
    from spikeflow.models.clustered.attractors import format_group_summary

    print(format_group_summary(attractors.summary(args.jsons, args.out_dir, group_by=args.group_by)))
    return 0


def meanfield_given(args: argparse.Namespace) -> dict[str, Any]:
    """The mean-field options given on an ``analyze meanfield`` command line (for :func:`spikeflow.tasks.meanfield.study_options`)."""
    given = _given(args, ("n_init", "seed", "max_init_rate", "landscape", "focus", "landscape_step"))
    if args.no_landscape:
        given["landscape"] = False
    return given


def _cmd_meanfield(args: argparse.Namespace) -> int:
    """Handler of ``analyze meanfield``; bad input raises :class:`spikeflow.config.ConfigError`."""
    from spikeflow.meanfield.study import format_meanfield

    result = meanfield.run(args.config, args.out_dir, run_id=args.run, figures=not args.no_figures, **meanfield_given(args))
    print(format_meanfield(result))
    print(f"tables and figures in {args.out_dir}")
    return 0


def _cmd_meanfield_verdict(args: argparse.Namespace) -> int:
    doc = meanfield_verdict.run(args.spikes, args.out_dir, tolerance=args.tolerance, t_start=args.t_start, t_stop=args.t_stop)
    print(doc["summary"])
    return 1 if args.strict and doc["verdict"] != "PASS" else 0


def _cmd_sequence(args: argparse.Namespace) -> int:
    result = sequence.run(args.spikes, args.out_dir, side_path=args.side)
    for name, r in result.items():
        print(f"{name}: accuracy {r['accuracy']:.3f} (chance {r['chance']:.3f}, {r['n_test']} held-out samples)")
    return 0


def _cmd_training(args: argparse.Namespace) -> int:
    written = training.run(args.epochs, args.out_dir)
    print(f"{len(written)} figures in {args.out_dir}: {', '.join(p.name for p in written.values())}")
    return 0
