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
    spikeflow analyze meanfield-verdict S.h5... --out-dir D  clustered runs at J+ = 1 against their mean field
    spikeflow analyze training E.h5 --out-dir D    the figures of a training run from its epochs.h5
    spikeflow train --config F --out-dir D      multi-epoch training with checkpoints (resumable)
    spikeflow build-ext                         build (or find cached) the WTA NEST extension module
    spikeflow sequence --config F --out S.h5    alias of `simulate` for a sequence run (test, train, test)
    spikeflow info S.h5                         summary of a spikes file (spikeflow's or any SONATA spikes file)
    spikeflow export nwb S.h5 --out F.nwb       the spikes as an NWB Units table with the run's metadata
    spikeflow profiles install [NAME...]        make `snakemake --profile slurm` (and local) work as typed

Errors print one sentence on stderr and exit with status 2 (status 1 for a file-system error such
as a full disk, naming the path); nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from spikeflow.io.atomic import atomic_path
from spikeflow.config import ConfigError, load_study, load_yaml
from spikeflow.models.sequence.cli import add_parsers as add_sequence_parsers
from spikeflow.driver import SimulationError
from spikeflow.models.training.cli import add_train_parser
from spikeflow.tasks.cli import add_analyze_parser


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

    p = sub.add_parser(
        "run",
        help="one run of a study into its directory (what the workflow's run rule calls), or several one after another",
        description="One run into its directory; with several configs (and as many --out-dir, and --run-id and --log "
        "if given) the runs go one after another in this one process (NEST loaded once, a fresh kernel per run: "
        "the same spikes as each run in a process of its own).",
    )
    p.add_argument("--config", required=True, type=Path, nargs="+", help="a run config (from `spikeflow resolve`) or a study config without sweep; several for several runs")
    p.add_argument("--json", nargs="+", help="the run's config as JSON text (as Snakemake passes it), one per --config: resolved and written to that --config file first, as `spikeflow resolve --json` writes it")
    p.add_argument("--out-dir", required=True, type=Path, nargs="+", help="the run's directory: spikes.h5 (written last) and the model's other outputs; one per config")
    p.add_argument("--run-id", nargs="+", help="name of the run in the metadata (default: the directory's name); one per config")
    p.add_argument("--log", type=Path, nargs="+", help="a file per config that gets its run's progress lines (besides stdout)")
    p.add_argument("--study-config", type=Path, help="the study config the runs came from (its path and hash go into the provenance)")
    p.add_argument(
        "--provenance", type=Path, nargs="+",
        help="a file per config that gets what `spikeflow info` says of its run's spikes file, written right after it (rank 0)",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("simulate", help="run one simulation and write its spikes file")
    p.add_argument("--config", required=True, type=Path, help="a run config (from `spikeflow resolve`) or a study config without sweep")
    p.add_argument("--out", required=True, type=Path, help="spikes file to write (.h5)")
    p.add_argument("--run-id", help="name of the run in the metadata (default: the output's directory name)")
    p.set_defaults(func=_cmd_simulate)

    add_train_parser(sub)

    add_analyze_parser(sub)  # every analysis as `spikeflow analyze KIND ... --out-dir DIR`
    add_sequence_parsers(sub)  # build-ext, sequence

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
    from spikeflow.plan import resolved_run_yaml

    raw = json.loads(args.json) if args.json else load_yaml(args.config)
    _write_text_atomically(args.out, resolved_run_yaml(raw, args.run))
    return 0


def _one_run_config(path: Path) -> dict:
    """The resolved config of a run config, or of a study config that has no sweep."""
    raw = load_yaml(path)
    if raw.get("sweep"):
        raise ConfigError(
            f"{path} has a sweep, so it describes several runs; run it with snakemake, "
            "or write one run's config with `spikeflow resolve`"
        )
    study = load_study(raw, base_dir=Path(path).parent)  # the file read once; a relative model file is found beside it
    return study.runs[0].config


def _cmd_run(args: argparse.Namespace) -> int:
    from spikeflow.driver.run import RunSpec, prepare_nest_process, process_rank, run, run_many

    n = len(args.config)
    given_lists = (("--out-dir", args.out_dir), ("--run-id", args.run_id), ("--log", args.log), ("--json", args.json), ("--provenance", args.provenance))
    for name, given in given_lists:
        if given is not None and len(given) != n:
            raise ValueError(f"{n} config(s) but {len(given)} {name} value(s); give one per config")
    if args.json:  # what `spikeflow resolve --json` would write, without a process of its own
        from spikeflow.plan import resolved_run_yaml

        texts = [resolved_run_yaml(json.loads(text)) for text in args.json]  # all checked before any is written
        for path, text in zip(args.config, texts):
            _write_text_atomically(path, text)
    specs = [
        RunSpec(
            _one_run_config(config),  # every config is checked before the first run starts
            out_dir,
            args.run_id[i] if args.run_id else out_dir.resolve().name,
            {"run_config_path": config, "study_config_path": args.study_config},
            args.log[i] if args.log else None,
        )
        for i, (config, out_dir) in enumerate(zip(args.config, args.out_dir))
    ]
    prepare_nest_process()  # before NEST is imported: no banner, no 2 s MPI security probe
    provenance = dict(enumerate(args.provenance or []))

    def write_provenance(index: int, spec: RunSpec) -> None:
        """What `spikeflow info SPIKES --out FILE` writes, from the run's process (rank 0 only)."""
        if index in provenance and process_rank() == 0:
            _write_text_atomically(provenance[index], info_text(spec.out_dir / "spikes.h5"))

    if n == 1 and args.log is None:  # one run as it always was: progress to stdout
        spec = specs[0]
        code = run(spec.cfg, spec.out_dir, run_id=spec.run_id, sources=spec.sources)
        write_provenance(0, spec)
        return code
    return run_many(specs, after=write_provenance)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from spikeflow.driver.run import prepare_nest_process, simulate

    prepare_nest_process()  # before NEST is imported: no banner, no 2 s MPI security probe
    simulate(
        _one_run_config(args.config), args.out, run_id=args.run_id or args.out.resolve().parent.name,
        sources={"run_config_path": args.config},
    )
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    text = info_text(args.spikes)
    if args.out is None:
        print(text, end="")
    else:
        _write_text_atomically(args.out, text)
    return 0


def info_text(spikes: Path) -> str:
    """What ``spikeflow info SPIKES`` prints (and ``--out`` writes, e.g. a run's ``provenance.txt``).

    The first line names the file as ``spikes`` is spelled (a relative path stays relative), so the
    run job (``spikeflow run --provenance``) and ``spikeflow info`` give the same bytes for the same path.
    """
    return "\n".join(_info_lines(spikes)) + "\n"


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
