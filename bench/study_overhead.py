"""Study-level cost: how much of a study's wall time is not simulation (issue 13, part 4).

A study of many short runs pays, per run, for things that are not NEST simulating: Snakemake's
job handling, a process per job (Python start, imports, ``import nest`` with its MPI start-up),
config resolution, writing the spikes file, the per-run analyses; and once per study for
Snakemake's start (DAG, the study's checks) and its study-level analyses. This script runs a
study from scratch with Snakemake and splits its wall time.

Definitions (units: seconds of wall clock; "core-seconds" = wall seconds x cores held):

* study wall time ``W``: the ``snakemake --cores C ...`` process from start to exit (plus
  ``snakemake --report`` with ``--report``), measured from outside;
* capacity: ``W x C`` core-seconds, C the cores given to Snakemake (the machine's 2);
* simulation: per run, NEST's four phases as the driver records them in the spikes file
  (``per_rank[*].phases``: create, connect, presimulate, simulate; mean over ranks), times the
  cores the run holds (ranks x threads); summed over runs;
* overhead fraction = 1 - simulation / capacity: the share of the machine's time during the
  study that is not NEST building or advancing a network. It counts everything else: Snakemake
  start and DAG, per-job process start and imports, config resolution jobs, kernel set-up,
  spike collection and the HDF5 write, per-run and study analyses, cores left idle when the DAG
  has nothing to run beside a job, and the report;
* of which analyses: the core-seconds of the analysis jobs (every rule but the run rules, the
  run-config rule and ``all``) over the capacity; of which the rest: everything else that is
  not simulation, split into Snakemake before its first job and after its last (start, DAG,
  the study's checks, exit: once per study, "fixed") and what comes with the runs (their
  processes beyond NEST's phases, config files, cores idle between jobs: "per run").

The breakdown comes from Snakemake's own records: ``.snakemake/metadata`` (start and end of
every job, to the microsecond) and the log (the threads of every job). "idle" is capacity
minus the core-seconds of all jobs (Snakemake's start before the first job, its end after the
last, cores unused while jobs ran).

Each study runs in a fresh directory (a copy of the tree's ``Snakefile`` and ``workflow/``,
``PYTHONPATH`` set to the tree's ``src``), so that two source trees (e.g. ``git worktree add
/tmp/h2-old HEAD`` and the working copy) can be compared on the same machine, alternating.
Every Snakemake invocation holds an exclusive lock (``--lock``, default
``/tmp/spikeflow-cpu.lock``; the same lock as ``flock(1)``) so that benchmarks on a shared
machine do not overlap.

Usage::

    git worktree add --detach /tmp/h2-old HEAD          # the version to compare with
    python bench/study_overhead.py --tree old=/tmp/h2-old --tree new=. --tree new-batch=. \\
        --tree-config new-batch=batch=20 \\
        --study workflow/config/pd14-ensemble.yaml --study workflow/config/clustered-jplus.yaml \\
        --repeats 2 --out /tmp/h2-bench/overhead.json

The table gives, per study and tree, medians over the repeats: wall time, simulation, and the
overhead fraction split into the analysis jobs' share (every rule but the run rules) and the
rest (Snakemake, run processes, config files, idle cores).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

#: NEST's phases as the driver records them (spikeflow.driver.phases.PHASES).
SIM_PHASES = ("create", "connect", "presimulate", "simulate")
#: Rules that make runs (``run_batch<N>`` too); every other rule but ``all`` is an analysis.
RUN_RULES = ("run", "run_mpi", "run_config", "all")


def is_analysis(rule: str) -> bool:
    """Whether a rule is an analysis (not a run, a run's config or the target rule)."""
    return rule not in RUN_RULES and not rule.startswith("run_batch")


@contextlib.contextmanager
def cpu_lock(path: str | None) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (None: no lock) for the duration of the block."""
    if not path:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_workdir(tree: Path, study: Path, workdir: Path) -> Path:
    """A fresh copy of the tree's workflow in ``workdir``; returns the study file's path in it.

    A study file inside the tree (``workflow/config/X.yaml``) is used from the copy; one outside
    it is copied beside the copy's configs, so both trees run the same file.
    """
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    shutil.copy(tree / "Snakefile", workdir / "Snakefile")
    shutil.copytree(tree / "workflow", workdir / "workflow")
    target = workdir / "workflow" / "config" / study.name
    if not target.exists():
        shutil.copy(study, target)
    return target.relative_to(workdir)


#: The munge daemon's socket: with it, Open MPI's PMIx security probe succeeds at once; without
#: it, every NEST process that does not skip the probe (PMIX_MCA_psec=native) waits 2.3 s.
MUNGE_SOCKET = "/run/munge/munge.socket.2"


def munge_running(path: str = MUNGE_SOCKET) -> bool:
    """Whether a munge daemon answers on ``path`` (changes what a NEST process start costs)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def run_snakemake(tree: Path, workdir: Path, args: Sequence[str], lock: str | None) -> dict[str, Any]:
    """``snakemake ARGS`` in ``workdir`` with the tree's sources; wall time and load around it."""
    env = dict(os.environ, PYTHONPATH=str((tree / "src").resolve()))
    exe = shutil.which("snakemake") or "snakemake"
    with cpu_lock(lock):
        load_before = os.getloadavg()[0]
        munge = munge_running()
        start = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run([exe, *args], cwd=workdir, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed in {workdir}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {"start": start, "wall_s": wall, "load_before": load_before, "munged": munge}


def job_threads(log_text: str) -> dict[str, int]:
    """Output path -> threads of the job that made it, from a Snakemake log."""
    threads: dict[str, int] = {}
    outputs: list[str] = []
    n = 1
    for line in log_text.splitlines() + ["rule end:"]:
        if re.match(r"^(local)?(rule|checkpoint) \S+:$", line):
            for out in outputs:
                threads[out] = n
            outputs, n = [], 1
        elif line.startswith("    output: "):
            outputs = [o.strip() for o in line[len("    output: ") :].split(",")]
        elif line.startswith("    threads: "):
            n = int(line.split(":")[1])
    return threads


def jobs(workdir: Path) -> list[dict[str, Any]]:
    """Every job of the last run in ``workdir``: rule, start, end (epoch s), threads, outputs."""
    logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
    threads: dict[str, int] = {}
    for log in logs:
        threads.update(job_threads(log.read_text()))
    by_job: dict[tuple[str, int], dict[str, Any]] = {}
    root = workdir / ".snakemake" / "metadata"
    for meta in (p for p in root.rglob("*") if p.is_file()):
        record = json.loads(meta.read_text())
        # Snakemake names a record by the urlsafe base64 of the output path, split into
        # directories of "@"-prefixed parts when longer than a file name may be
        encoded = "".join(part.lstrip("@") for part in meta.relative_to(root).parts)
        output = base64.urlsafe_b64decode(encoded).decode()
        key = (record["rule"], record["job_hash"])
        job = by_job.setdefault(
            key, {"rule": record["rule"], "start": record["starttime"], "end": record["endtime"], "outputs": [], "threads": 1}
        )
        job["outputs"].append(output)
        job["threads"] = max(job["threads"], threads.get(output, 1))
    return sorted(by_job.values(), key=lambda j: j["start"])


def simulations(results: Path) -> list[dict[str, Any]]:
    """Per spikes file under ``results``: run id, cores held (ranks x threads), NEST phase times (s)."""
    from spikeflow.io.spikes import read_metadata

    runs = []
    for path in sorted(results.rglob("spikes.h5")):
        meta = read_metadata(path)
        ranks = meta["per_rank"]
        phases = {p: statistics.fmean(r["phases"].get(p, {}).get("wall_s", 0.0) for r in ranks) for p in SIM_PHASES}
        runs.append(
            {
                "run": meta["run_id"],
                "cores": int(meta["num_ranks"]) * int(meta["threads_per_rank"]),
                "phases_s": phases,
                "sim_s": sum(phases.values()),
                "spikes": path,
            }
        )
    return runs


def breakdown(workdir: Path, snakemake: dict[str, Any], cores: int, report: dict[str, Any] | None) -> dict[str, Any]:
    """Split the study's capacity (wall x cores) into simulation, jobs by rule and idle time."""
    js = jobs(workdir)
    runs = simulations(workdir / "results")
    wall = snakemake["wall_s"] + (report["wall_s"] if report else 0.0)
    capacity = wall * cores
    sim_core_s = sum(r["sim_s"] * r["cores"] for r in runs)
    rules: dict[str, dict[str, float]] = {}
    for j in js:
        r = rules.setdefault(j["rule"], {"jobs": 0, "job_s": 0.0, "core_s": 0.0})
        r["jobs"] += 1
        r["job_s"] += j["end"] - j["start"]
        r["core_s"] += (j["end"] - j["start"]) * j["threads"]
    job_core_s = sum(r["core_s"] for r in rules.values())
    analysis_core_s = sum(r["core_s"] for rule, r in rules.items() if is_analysis(rule))
    first = min(j["start"] for j in js) if js else snakemake["start"]
    last = max(j["end"] for j in js) if js else snakemake["start"]
    fixed = ((first - snakemake["start"]) + (snakemake["start"] + snakemake["wall_s"] - last)) * cores / capacity
    pipeline = 1.0 - (sim_core_s + analysis_core_s) / capacity
    return {
        "runs": len(runs),
        "cores": cores,
        "wall_s": wall,
        "snakemake_s": snakemake["wall_s"],
        "report_s": report["wall_s"] if report else None,
        "load_before": snakemake["load_before"],
        "munged": snakemake["munged"],
        "capacity_core_s": capacity,
        "sim_s": sum(r["sim_s"] for r in runs),
        "sim_core_s": sim_core_s,
        "phases_s": {p: sum(r["phases_s"][p] for r in runs) for p in SIM_PHASES},
        "overhead_fraction": 1.0 - sim_core_s / capacity,
        "analysis_core_s": analysis_core_s,
        "analysis_fraction": analysis_core_s / capacity,
        "pipeline_fraction": pipeline,
        # Snakemake before its first job and after its last (start, DAG, the study's checks, exit): once per study
        "fixed_fraction": fixed,
        "per_run_fraction": pipeline - fixed,
        "rules": rules,
        "jobs_core_s": job_core_s,
        "idle_core_s": capacity - job_core_s,
        "start_to_first_job_s": first - snakemake["start"],
        "last_job_to_exit_s": snakemake["start"] + snakemake["wall_s"] - last,
    }


def measure(tree: Path, study: Path, workdir: Path, cores: int, extra: Sequence[str], report: bool, lock: str | None) -> dict[str, Any]:
    """Run ``study`` with ``tree``'s workflow and sources from scratch in ``workdir``; its breakdown."""
    configfile = prepare_workdir(tree, study, workdir)
    args = ["--cores", str(cores), "--configfile", str(configfile), *extra]
    done = run_snakemake(tree, workdir, args, lock)
    rep = run_snakemake(tree, workdir, [*args, "--report", "report.html"], lock) if report else None
    return breakdown(workdir, done, cores, rep)


def markdown_rows(results: list[dict[str, Any]]) -> str:
    """One table row per study and tree: medians over repeats."""
    lines = [
        "| study | tree | munge daemon | runs | wall (s) | simulation (s) | simulation (core-s) | capacity (core-s) "
        "| overhead | of which analyses | Snakemake start and end | per run (processes, configs, idle) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["study"], r["tree"]), []).append(r)
    for (study, tree), rs in groups.items():
        med = lambda key: statistics.median(r[key] for r in rs)  # noqa: E731
        lines.append(
            f"| {study} | {tree} | {munged(rs)} | {rs[0]['runs']} | {med('wall_s'):.1f} | {med('sim_s'):.1f} | {med('sim_core_s'):.1f} "
            f"| {med('capacity_core_s'):.1f} | {100 * med('overhead_fraction'):.1f} % | {100 * med('analysis_fraction'):.1f} % "
            f"| {100 * med('fixed_fraction'):.1f} % | {100 * med('per_run_fraction'):.1f} % |"
        )
    return "\n".join(lines)


def munged(results: list[dict[str, Any]]) -> str:
    """"running", "not running" or "mixed": the munge daemon during a group of measurements."""
    states = {r.get("munged") for r in results}
    return "mixed" if len(states) > 1 else {True: "running", False: "not running"}.get(states.pop(), "?")


def rule_table(result: dict[str, Any]) -> str:
    """Where one study's core-seconds went, by rule (plus simulation inside the run jobs and idle)."""
    lines = [
        f"{result['study']} ({result['tree']}): wall {result['wall_s']:.1f} s x {result['cores']} cores = "
        f"{result['capacity_core_s']:.1f} core-s (load {result['load_before']:.2f} before; munge daemon "
        f"{'running' if result['munged'] else 'not running'})"
    ]
    lines.append(f"  {'simulation (NEST phases)':<28} {result['sim_core_s']:8.1f} core-s  {100 * result['sim_core_s'] / result['capacity_core_s']:5.1f} %")
    for rule, r in sorted(result["rules"].items(), key=lambda kv: -kv[1]["core_s"]):
        if rule == "all":
            continue
        lines.append(f"  {rule + ' jobs':<28} {r['core_s']:8.1f} core-s  {100 * r['core_s'] / result['capacity_core_s']:5.1f} %  ({r['jobs']} jobs, {r['job_s']:.1f} s)")
    lines.append(f"  {'idle / snakemake':<28} {result['idle_core_s']:8.1f} core-s  {100 * result['idle_core_s'] / result['capacity_core_s']:5.1f} %"
                 f"  (start to first job {result['start_to_first_job_s']:.1f} s, last job to exit {result['last_job_to_exit_s']:.1f} s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True, metavar="LABEL=PATH", help="a source tree (Snakefile, workflow/, src/)")
    parser.add_argument("--study", action="append", required=True, type=Path, help="study config (YAML)")
    parser.add_argument("--config", nargs="*", default=[], help="--config overrides given to snakemake for every tree (KEY=VALUE ...)")
    parser.add_argument(
        "--tree-config", action="append", default=[], metavar="LABEL=KEY=VALUE",
        help="a --config override for one tree only, e.g. new-batch=batch=20 (the same path may be given twice with two labels)",
    )
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores given to snakemake (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of every study with every tree, alternating")
    parser.add_argument("--report", action="store_true", help="include `snakemake --report` in the study's wall time")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/h2-bench"), help="scratch directory (one subdirectory per study and tree)")
    parser.add_argument("--lock", default="/tmp/spikeflow-cpu.lock", help="flock held around every snakemake call ('' for none)")
    parser.add_argument("--out", type=Path, help="write every measurement to this JSON file")
    args = parser.parse_args(argv)

    trees = [(label, Path(path).resolve()) for label, _, path in (t.partition("=") for t in args.tree)]
    per_tree: dict[str, list[str]] = {}
    for item in args.tree_config:
        label, _, setting = item.partition("=")
        per_tree.setdefault(label, []).append(setting)
    results = []
    for repeat in range(args.repeats):
        for study in args.study:
            order = trees if repeat % 2 == 0 else trees[::-1]  # alternate which tree goes first
            for label, tree in order:
                workdir = args.workdir / f"{study.stem}-{label}"
                overrides = [*args.config, *per_tree.get(label, [])]
                extra = ["--config", *overrides] if overrides else []
                result = measure(tree, study.resolve(), workdir, args.cores, extra, args.report, args.lock)
                result.update(study=study.stem, tree=label, repeat=repeat, config=overrides)
                results.append(result)
                print(rule_table(result), flush=True)
                if args.out:
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps(results, indent=1, default=str))
    print()
    print(markdown_rows(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
