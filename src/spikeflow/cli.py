"""The ``spikeflow`` command line: what every Snakemake rule calls, and what a user can call by hand.

Commands::

    spikeflow validate CONFIG                   check a study config, list its runs
    spikeflow resolve  CONFIG --run ID --out F  write one run's resolved config (simulation part)
    spikeflow run --config F --out-dir D        one run of any model into D (the workflow's run rule)
    spikeflow simulate --config F --out S.h5    run one simulation, write its spikes file
    spikeflow analyze rates S.h5 --out-dir D    rates, irregularity, synchrony, correlations + figures
    spikeflow analyze scaling S.h5... --out-dir D  phase times, real-time factor, speed-up, efficiency
    spikeflow analyze memory S.h5... --out-dir D   memory per rank and phase, fitted memory model
    spikeflow analyze validate S.h5... --reference R --out-dir D  PASS/FAIL against a reference ensemble
    spikeflow analyze attractors S.h5 --out-dir D  cluster states, dwell times, transitions + figures
    spikeflow analyze attractor-summary J.json... --out-dir D --group-by KEY  across repeats and sweep values
    spikeflow analyze meanfield CONFIG --out-dir D  mean-field fixed points, stability, landscape + figures
    spikeflow analyze sequence S.h5 --out-dir D    grid, rasters, weights, pattern decoding + figures
    spikeflow train --config F --out-dir D      multi-epoch training with checkpoints (resumable)
    spikeflow build-ext                         build (or find cached) the WTA NEST extension module
    spikeflow sequence --config F --out S.h5    alias of `simulate` for a sequence run (test, train, test)
    spikeflow meanfield, sequence-analyze       aliases of `analyze meanfield` and `analyze sequence`
    spikeflow info S.h5                         summary of a spikes file (spikeflow's or any SONATA spikes file)
    spikeflow export nwb S.h5 --out F.nwb       the spikes as an NWB Units table with the run's metadata
    spikeflow profiles install [NAME...]        make `snakemake --profile slurm` (and local) work as typed

Errors print one sentence on stderr and exit with status 2 (status 1 for a file-system error such
as a full disk, naming the path); nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from spikeflow.io.atomic import atomic_path
from spikeflow.config import ConfigError, dump_yaml, load_study, load_yaml, simulation_part
from spikeflow.meanfield.cli import add_meanfield_parser
from spikeflow.models.sequence.cli import add_parsers as add_sequence_parsers
from spikeflow.driver import SimulationError
from spikeflow.models.training.cli import add_train_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikeflow`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, FileNotFoundError, KeyError, ValueError, SimulationError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"spikeflow: error: {message}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk (ENOSPC), no permission (EACCES), a read-only file system (EROFS), ...
        from spikeflow.io.atomic import os_error_sentence

        print(f"spikeflow: error: {os_error_sentence(err)}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikeflow", description=__doc__.split("\n\n")[0])
    from spikeflow import __version__

    parser.add_argument("--version", action="version", version=f"spikeflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a study config and list its runs")
    p.add_argument("config", help="study config (YAML)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("resolve", help="write one run's resolved config (what determines its spikes)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("config", nargs="?", help="study config (YAML)")
    source.add_argument("--json", help="study config as JSON text (as Snakemake passes it)")
    p.add_argument("--run", help="run id (see `spikeflow validate`); needed when the study has several runs")
    p.add_argument("--out", required=True, type=Path, help="YAML file to write")
    p.set_defaults(func=_cmd_resolve)

    p = sub.add_parser("run", help="one run of a study into its directory (what the workflow's run rule calls)")
    p.add_argument("--config", required=True, type=Path, help="a run config (from `spikeflow resolve`) or a study config without sweep")
    p.add_argument("--out-dir", required=True, type=Path, help="the run's directory: spikes.h5 (written last) and the model's other outputs")
    p.add_argument("--run-id", help="name of the run in the metadata (default: the directory's name)")
    p.add_argument("--study-config", type=Path, help="the study config the run came from (its path and hash go into the provenance)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("simulate", help="run one simulation and write its spikes file")
    p.add_argument("--config", required=True, type=Path, help="a run config (from `spikeflow resolve`) or a study config without sweep")
    p.add_argument("--out", required=True, type=Path, help="spikes file to write (.h5)")
    p.add_argument("--run-id", help="name of the run in the metadata (default: the output's directory name)")
    p.set_defaults(func=_cmd_simulate)

    add_train_parser(sub)

    p = sub.add_parser("analyze", help="analyses of spikes files")
    analyses = p.add_subparsers(dest="analysis", required=True, metavar="ANALYSIS")
    r = analyses.add_parser("rates", help="per-population rates, CV of ISIs, synchrony, correlations and figures")
    r.add_argument("spikes", type=Path, help="spikes file (.h5)")
    r.add_argument("--out-dir", required=True, type=Path, help="directory for rates.csv, rates.json and figures")
    r.add_argument("--t-start", type=float, help="start of the analysed window, ms (default: end of presimulation)")
    r.add_argument("--t-stop", type=float, help="end of the analysed window, ms (default: end of the run)")
    r.add_argument("--synchrony-bin-ms", type=float, help="bin of the population histogram for synchrony, ms (default 3)")
    r.add_argument("--corr-bin-ms", type=float, help="bin for spike-count correlations, ms (default 2)")
    r.add_argument("--corr-sample", type=int, help="neurons sampled per population for correlations (default 50)")
    r.add_argument("--silent-below-hz", type=float, help="flag populations slower than this, spikes/s (default 0.1)")
    r.add_argument("--runaway-above-hz", type=float, help="flag populations faster than this, spikes/s (default 50)")
    r.set_defaults(func=_cmd_analyze_rates)

    sc = analyses.add_parser("scaling", help="time per phase, real-time factor, speed-up and efficiency across runs")
    sc.add_argument("spikes", type=Path, nargs="+", help="spikes files of the runs to compare")
    sc.add_argument("--out-dir", required=True, type=Path, help="directory for scaling.csv, scaling.json and figures")
    sc.set_defaults(func=_cmd_analyze_scaling)

    me = analyses.add_parser("memory", help="memory per rank and phase, fitted memory model and its predictions")
    me.add_argument("spikes", type=Path, nargs="+", help="spikes files of runs of different sizes")
    me.add_argument("--out-dir", required=True, type=Path, help="directory for memory.csv, memory.json, memory_model.json and figures")
    me.add_argument(
        "--install", action="store_true",
        help="also install the fitted model as yours (~/.cache/spikeflow/memory_model.json), which every study then uses",
    )
    me.set_defaults(func=_cmd_analyze_memory)

    va = analyses.add_parser("validate", help="PASS/FAIL of runs against a reference ensemble: rates, CVs, correlations per population")
    va.add_argument("spikes", type=Path, nargs="+", help="spikes files of the candidate runs (seeds disjoint from the reference's)")
    va.add_argument("--reference", required=True, help="a shipped reference (pd14_scale0.1, pd14_scale0.2) or the path of a reference .npz")
    va.add_argument("--out-dir", required=True, type=Path, help="directory for validation.csv, validation.json, validation.txt and validation.png")
    va.add_argument("--factor", type=float, help="pass when the distance is <= FACTOR x the reference's largest seed-to-seed distance (default 2)")
    va.add_argument("--strict", action="store_true", help="exit with status 1 when the verdict is not PASS")
    va.set_defaults(func=_cmd_analyze_validate)

    a = analyses.add_parser("attractors", help="cluster rates, active clusters, states, dwell times, transitions and figures")
    a.add_argument("spikes", type=Path, help="spikes file (.h5)")
    a.add_argument("--out-dir", required=True, type=Path, help="directory for attractors.h5/.json, states.csv and figures")
    a.add_argument("--populations", help="e_clusters (default), all, or comma-separated population names")
    a.add_argument("--bin-ms", type=float, help="rate bin, ms (default 0.5)")
    a.add_argument("--smoothing-ms", type=float, help="SD of the Gaussian smoothing, ms (default 10; 0 = none)")
    a.add_argument("--min-state-ms", type=float, help="drop states shorter than this, ms (default 20)")
    a.add_argument("--threshold-method", choices=["reference", "midpoint"], help="active-cluster threshold (default midpoint)")
    a.add_argument("--min-contrast-hz", type=float, help="midpoint: nothing is active unless active and inactive rates differ by this, spikes/s (default 10)")
    a.set_defaults(func=_cmd_analyze_attractors)

    s = analyses.add_parser("attractor-summary", help="attractor statistics across runs, grouped by a config value")
    s.add_argument("jsons", type=Path, nargs="+", help="attractors.json files of the runs")
    s.add_argument("--out-dir", required=True, type=Path, help="directory for summary.csv, summary.json, metastability.png")
    s.add_argument("--group-by", default="", help="dotted config path, e.g. params.j_potentiated.0 (default: the one key the runs differ in besides the seed)")
    s.set_defaults(func=_cmd_analyze_attractor_summary)

    # every analysis as `spikeflow analyze KIND`; `spikeflow meanfield` and `sequence-analyze` stay as aliases
    add_meanfield_parser(analyses)
    q = analyses.add_parser("sequence", help="pattern decoding before/after training, grid, rasters and weights (sequence family)")
    q.add_argument("spikes", type=Path, help="the run's spikes.h5 (sequence.npz beside it)")
    q.add_argument("--out-dir", required=True, type=Path, help="directory for decoding.json and the figures")
    q.set_defaults(func=_cmd_analyze_sequence)
    add_meanfield_parser(sub)
    add_sequence_parsers(sub)  # build-ext, sequence, sequence-analyze

    p = sub.add_parser(
        "profiles",
        help="make `snakemake --profile slurm` (and `--profile local`) work: install the shipped profiles",
        description="Snakemake finds a bare profile name (--profile slurm) in the user's Snakemake config folder "
        "($XDG_CONFIG_HOME/snakemake, by default ~/.config/snakemake). `spikeflow profiles install` links the "
        "shipped cluster_profiles/slurm and cluster_profiles/local there; without it, give the path: "
        "--profile cluster_profiles/slurm.",
    )
    p.add_argument("action", nargs="?", choices=["install", "list"], default="list", help="install, or list where they are (default)")
    p.add_argument("names", nargs="*", metavar="NAME", help="profiles to install: slurm, local (default: both)")
    p.add_argument("--force", action="store_true", help="move another profile of the same name aside (to NAME.bak) instead of refusing")
    p.add_argument("--copy", action="store_true", help="copy instead of linking (a link follows updates of this checkout)")
    p.set_defaults(func=_cmd_profiles)

    p = sub.add_parser("info", help="summary of a spikes file (run, versions, spikes, phase times, provenance)")
    p.add_argument("spikes", type=Path)
    p.add_argument("--out", type=Path, help="write the summary to this file (atomically) instead of stdout")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("export", help="a spikes file in another format")
    formats = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    n = formats.add_parser("nwb", help="the spikes as an NWB Units table (one unit per neuron, silent ones included) with the run's metadata")
    n.add_argument("spikes", type=Path, help="spikes file (.h5; spikeflow's or any SONATA spikes file)")
    n.add_argument("--out", required=True, type=Path, help="NWB file to write (.nwb)")
    n.set_defaults(func=_cmd_export_nwb)
    return parser


def _cmd_analyze_validate(args: argparse.Namespace) -> int:
    from spikeflow.analysis.validation import analyze_validate, format_validation

    options = {"factor": args.factor} if args.factor is not None else {}
    doc = analyze_validate(args.spikes, args.reference, args.out_dir, **options)
    print(format_validation(doc))
    return 1 if args.strict and doc["verdict"] != "PASS" else 0


def _cmd_analyze_sequence(args: argparse.Namespace) -> int:
    from spikeflow.models.sequence.cli import _cmd_sequence_analyze

    return _cmd_sequence_analyze(argparse.Namespace(spikes=args.spikes, out_dir=args.out_dir))


def _cmd_validate(args: argparse.Namespace) -> int:
    study = load_study(args.config)
    from spikeflow.models import get_model
    from spikeflow.preflight import nest_has_mpi
    from spikeflow.resources import study_resources

    study_resources(study)  # the workflow's checks too: memory and cores of the nodes
    mpi_runs = [run for run in study.runs if run.ranks > 1]
    if mpi_runs and nest_has_mpi() is False:
        raise ConfigError(
            f"run {mpi_runs[0].run_id} asks for {mpi_runs[0].ranks} MPI ranks, but the NEST installed here has no MPI; "
            "build it with containers/build-nest.sh (or run inside the Apptainer image)"
        )

    print(f"study {study.name}: {len(study.runs)} run(s), all valid")
    from spikeflow.resources import model_in_use_line

    print(model_in_use_line(study.runs[0]))
    for run in study.runs:
        cfg = run.config
        model = get_model(cfg["model"])
        desc = model.describe(model.params_from_config(cfg["params"]))
        n = sum(p["size"] for p in desc["populations"])
        syn = sum(desc["connections"].values())
        sim = cfg["simulation"]
        print(
            f"  {run.run_id}: {cfg['model']}, {n:,} neurons, {syn:,} connections, "
            f"{sim['ranks']} rank(s) x {sim['threads']} thread(s), {sim['t_presim']} + {sim['t_sim']} ms, seed {sim['seed']}"
        )
    if len(study.runs) > 1:
        import shlex

        print("one run alone (study-level analyses left out):")
        for run in study.runs:
            print(f"  snakemake --cores all --configfile {shlex.quote(str(args.config))} --config run={run.run_id}")
    return 0


def _cmd_profiles(args: argparse.Namespace) -> int:
    from spikeflow import profiles

    names = tuple(args.names) or profiles.SHIPPED
    if args.action == "install":
        for line in profiles.install(names, force=args.force, copy=args.copy):
            print(line)
        return 0
    for st in profiles.status(names):
        where = {
            "missing": f"not installed: `spikeflow profiles install {st.name}`, or use --profile {st.source}",
            "linked": f"installed ({st.target} -> {st.source})",
            "copied": f"installed (a copy at {st.target})",
            "other": f"{st.target} is another profile of that name; --profile {st.source} uses spikeflow's",
        }[st.state]
        print(f"{st.name}: {where}")
    return 0


def _cmd_resolve(args: argparse.Namespace) -> int:
    raw = json.loads(args.json) if args.json else load_yaml(args.config)
    run = load_study(raw).select(args.run)
    text = dump_yaml(simulation_part(run.config))
    _write_text_atomically(args.out, text)
    return 0


def _one_run_config(path: Path) -> dict:
    """The resolved config of a run config, or of a study config that has no sweep."""
    raw = load_yaml(path)
    if raw.get("sweep"):
        raise ConfigError(
            f"{path} has a sweep, so it describes several runs; run it with snakemake, "
            "or write one run's config with `spikeflow resolve`"
        )
    study = load_study(path)  # a relative model file is found beside the config
    return study.runs[0].config


def _cmd_run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PYNEST_QUIET", "1")
    from spikeflow.driver.run import run

    sources = {"run_config_path": args.config, "study_config_path": args.study_config}
    return run(_one_run_config(args.config), args.out_dir, run_id=args.run_id or args.out_dir.resolve().name, sources=sources)


def _cmd_simulate(args: argparse.Namespace) -> int:
    os.environ.setdefault("PYNEST_QUIET", "1")
    from spikeflow.driver import simulate

    simulate(
        _one_run_config(args.config), args.out, run_id=args.run_id or args.out.resolve().parent.name,
        sources={"run_config_path": args.config},
    )
    return 0


def _cmd_analyze_rates(args: argparse.Namespace) -> int:
    from spikeflow.analysis.rates import analyze_rates, format_table

    options = {
        key: getattr(args, key)
        for key in (
            "t_start",
            "t_stop",
            "synchrony_bin_ms",
            "corr_bin_ms",
            "corr_sample",
            "silent_below_hz",
            "runaway_above_hz",
        )
        if getattr(args, key) is not None
    }
    rows = analyze_rates(args.spikes, args.out_dir, **options)
    thresholds = {k: options[k] for k in ("silent_below_hz", "runaway_above_hz") if k in options}
    print(format_table(rows, **thresholds))
    return 0


def _cmd_analyze_scaling(args: argparse.Namespace) -> int:
    from spikeflow.analysis.scaling import analyze_scaling

    result = analyze_scaling(args.spikes, args.out_dir)
    print(f"{len(args.spikes)} run(s): {result.get('series')} scaling ({result.get('reason')}); tables and figures in {args.out_dir}")
    return 0


def _cmd_analyze_memory(args: argparse.Namespace) -> int:
    from spikeflow.analysis.memory import analyze_memory

    result = analyze_memory(args.spikes, args.out_dir)
    if result.get("model_error"):
        print(f"no memory model: {result['model_error']}")
    elif args.install:
        from spikeflow.resources import install_memory_model

        print(f"installed {install_memory_model(args.out_dir / 'memory_model.json')}")
    if result.get("prediction_markdown"):
        print(result["prediction_markdown"])
    return 0


def _cmd_analyze_attractors(args: argparse.Namespace) -> int:
    from spikeflow.models.clustered.attractors import analyze_attractors, format_summary

    keys = ("populations", "bin_ms", "smoothing_ms", "min_state_ms", "threshold_method", "min_contrast_hz")
    options = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    options.setdefault("threshold_method", "midpoint")
    if options["threshold_method"] == "midpoint":
        options.setdefault("min_contrast_hz", 10.0)
    print(format_summary(analyze_attractors(args.spikes, args.out_dir, **options)))
    return 0


def _cmd_analyze_attractor_summary(args: argparse.Namespace) -> int:
    from spikeflow.models.clustered.attractors import analyze_attractor_summary, format_group_summary

    print(format_group_summary(analyze_attractor_summary(args.jsons, args.out_dir, group_by=args.group_by)))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    text = "\n".join(_info_lines(args.spikes)) + "\n"
    if args.out is None:
        print(text, end="")
    else:
        _write_text_atomically(args.out, text)
    return 0


def _info_lines(spikes: Path) -> list[str]:
    """What ``spikeflow info`` says about a spikes file, line by line."""
    from spikeflow.io.spikes import describe_foreign, has_run_metadata, read_metadata

    if not has_run_metadata(spikes):  # a SONATA spikes file spikeflow did not write
        return [describe_foreign(spikes)]
    meta = read_metadata(spikes)
    lines = [
        f"{spikes}: {meta.get('model')} run {meta.get('run_id')} of study {meta.get('study')}",
        f"  NEST {meta.get('nest_version')}, spikeflow {meta.get('spikeflow_version')}, "
        f"{meta.get('num_ranks')} rank(s) x {meta.get('threads_per_rank')} thread(s), seed {meta.get('seed')}",
        f"  presimulation {meta.get('t_presim_ms')} ms + simulation {meta.get('t_sim_ms')} ms at {meta.get('resolution_ms')} ms",
    ]
    sizes = {p["name"]: p["size"] for p in meta.get("populations", [])}
    for name, count in meta.get("spike_counts", {}).items():
        lines.append(f"  {name:>8}: {sizes.get(name, 0):>7,} neurons {count:>10,} spikes")
    for rank in meta.get("per_rank", []):
        phases = ", ".join(f"{k} {v['wall_s']:.2f} s" for k, v in rank["phases"].items())
        peak = max(v["peak_rss_kb"] for v in rank["phases"].values()) / 1024
        lines.append(f"  rank {rank['rank']} on {rank['host']}: {phases}; peak RSS {peak:,.0f} MiB")
    if meta.get("provenance"):
        from spikeflow.driver.provenance import summary_lines

        lines.append("  provenance:")
        lines += [f"    {line}" for line in summary_lines(meta["provenance"])]
    return lines


def _cmd_export_nwb(args: argparse.Namespace) -> int:
    from spikeflow.io.nwb import export_nwb

    done = export_nwb(args.spikes, args.out)
    print(
        f"{done['out']}: NWB file {done['identifier']}, {done['n_units']:,} units "
        f"({', '.join(done['populations'])}), {done['n_spikes']:,} spikes"
    )
    return 0


def _write_text_atomically(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
