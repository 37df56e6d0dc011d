"""Snakemake's own floor: the least a study driven by Snakemake can cost besides its jobs (issue 13, part 4).

A study's non-simulation share (``study_overhead.py``) cannot fall below what Snakemake itself
takes to start, build a DAG, hand out jobs and exit. This script measures that floor with a
workflow that does nothing: ``--jobs`` rules whose shell command is ``true`` (no Python, no
spikeflow, no NEST), one target rule, the same ``onsuccess`` handler as spikeflow's workflow
(:func:`spikeflow.workflow_hooks.cancel_scheduler_timers`, without which every call ends with
Snakemake's 1 s timer), run as ``snakemake --cores C -q`` in a fresh directory, start to exit.
With ``--nest``, one of the jobs is instead what any study of NEST runs needs at least once: a
Python process that imports NEST (``PMIX_MCA_psec=native``, as spikeflow starts its run jobs),
holding every core, as a batch of 2-thread runs on 2 cores does.

Units: seconds of wall clock; core-seconds = wall x the cores given to Snakemake (as
``study_overhead.py`` counts a study's capacity).

With ``--overhead FILE`` (what ``study_overhead.py --out`` wrote) it also gives, per study and
tree there, the median simulation S (core-s) and

* the budget of the issue's target: the non-simulation core-seconds a study may have for its
  non-simulation share to stay below ``--target`` (10 %): ``S / (1 - target) - S``;
* the floor's share: ``F / (S + F)``, F the floor in core-seconds - the least non-simulation
  share of that study with Snakemake driving it, were every spikeflow cost (process starts,
  ``import nest``, kernel set-up, writing spikes, every analysis) zero.

Usage::

    python bench/snakemake_floor.py --jobs 4 --repeats 5 --overhead /tmp/overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_overhead import cpu_lock  # noqa: E402  (the same CPU lock as the study benchmark)

SNAKEFILE = """\
from spikeflow.workflow_hooks import cancel_scheduler_timers

rule all:
    input: expand("out/{{i}}.done", i=range({jobs}))

rule nothing:
    output: "out/{{i}}.done"
    wildcard_constraints: i="{nothing}"
    shell: "true > {{output}}"

onsuccess:
    cancel_scheduler_timers()
"""

NEST_RULE = """
rule nest:
    output: "out/0.done"
    threads: workflow.cores
    shell: "PMIX_MCA_psec=native {python} -c 'import nest' > /dev/null && true > {{output}}"
"""


def snakefile(jobs: int, nest: bool) -> str:
    """The do-nothing workflow of ``jobs`` jobs; with ``nest`` its job 0 imports NEST."""
    nothing = "|".join(str(i) for i in range(1 if nest else 0, jobs)) or "(?!)"
    text = SNAKEFILE.format(jobs=jobs, nothing=nothing)
    return text + NEST_RULE.format(python=sys.executable) if nest else text


def floor_once(workdir: Path, jobs: int, cores: int, lock: str | None, nest: bool = False) -> float:
    """Wall time (s) of one ``snakemake --cores CORES`` of the do-nothing workflow, from a fresh directory."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / "Snakefile").write_text(snakefile(jobs, nest))
    exe = shutil.which("snakemake") or "snakemake"
    with cpu_lock(lock):
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "--cores", str(cores), "-q"], cwd=workdir, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0 or len(list((workdir / "out").glob("*.done"))) != jobs:
        raise SystemExit(f"the do-nothing workflow failed in {workdir}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall


def budgets(overhead: list[dict[str, Any]], floor_core_s: float, target: float) -> list[dict[str, Any]]:
    """Per (study, tree) of a ``study_overhead.py`` result: median simulation, target budget, floor share."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in overhead:
        groups.setdefault((result["study"], result["tree"]), []).append(result)
    rows = []
    for (study, tree), results in groups.items():
        sim = statistics.median(r["sim_core_s"] for r in results)
        rows.append(
            {
                "study": study,
                "tree": tree,
                "sim_core_s": sim,
                "budget_core_s": sim / (1.0 - target) - sim,
                "floor_share": floor_core_s / (sim + floor_core_s),
                "measured_share": statistics.median(r["overhead_fraction"] for r in results),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="no-op jobs besides the target rule (a batched study has 3-4)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lock", default="/tmp/spikeflow-cpu.lock", help="flock this file around each call ('' for none)")
    parser.add_argument("--nest", action="store_true", help="one of the jobs imports NEST on every core (the least a study of NEST runs has)")
    parser.add_argument("--overhead", type=Path, help="a study_overhead.py --out file: the studies' budgets against the floor")
    parser.add_argument("--target", type=float, default=0.10, help="the issue's non-simulation share (0.10)")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeats < 1 or args.cores < 1:
        parser.error("--jobs, --repeats and --cores must be at least 1")

    with tempfile.TemporaryDirectory(prefix="snakemake-floor-") as tmp:
        walls = [floor_once(Path(tmp) / f"w{i}", args.jobs, args.cores, args.lock or None, args.nest) for i in range(args.repeats)]
    wall = statistics.median(walls)
    floor_core_s = wall * args.cores
    what = ", one of them importing NEST on every core" if args.nest else ""
    print(f"do-nothing workflow, {args.jobs} jobs{what}, --cores {args.cores}: runs {', '.join(f'{w:.2f}' for w in walls)} s")
    print(f"floor: median {wall:.2f} s wall = {floor_core_s:.2f} core-s")
    if args.overhead is not None:
        rows = budgets(json.loads(args.overhead.read_text()), floor_core_s, args.target)
        print()
        print(
            f"| study | tree | simulation (core-s) | budget for {100 * args.target:.0f} % (core-s) | floor (core-s) "
            "| least share with Snakemake | measured share |"
        )
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['study']} | {r['tree']} | {r['sim_core_s']:.1f} | {r['budget_core_s']:.2f} | {floor_core_s:.2f} "
                f"| {100 * r['floor_share']:.1f} % | {100 * r['measured_share']:.1f} % |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
