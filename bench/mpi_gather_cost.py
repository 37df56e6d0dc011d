"""What collecting every spike into one HDF5 file costs, relative to simulating.

Runs PD14 (Poisson background, seed 55) as 1 rank x 2 threads and as 2 MPI ranks x 1 thread,
``--repeats`` times each, alternating, and reads from each spikes file: the simulate phase's
wall time, ``collect_s`` (reading the recorders and, under MPI, gathering all ranks' spikes on
rank 0 with mpi4py) and ``write_s`` (sorting and writing the HDF5 file). Reports medians and the
ratio (collect + write) / simulate. Needs NEST built with MPI (containers/build-nest.sh).

Usage::

    python bench/mpi_gather_cost.py --scale 0.1 --t-sim 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import yaml

from spikeflow.io.spikes import read_metadata

ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PYNEST_QUIET": "1"}


def one_run(scale: float, t_sim: float, ranks: int, threads: int, work: Path) -> dict:
    cfg = {
        "model": "pd14",
        "params": {"N_scaling": scale, "K_scaling": scale},
        "simulation": {"t_presim": 100.0, "t_sim": t_sim, "ranks": ranks, "threads": threads, "progress_interval": 0.0},
    }
    config, out = work / f"r{ranks}t{threads}.yaml", work / f"r{ranks}t{threads}.h5"
    config.write_text(yaml.safe_dump(cfg))
    cmd = ["spikeflow", "simulate", "--config", str(config), "--out", str(out)]
    if ranks > 1:
        cmd = ["mpirun", "--bind-to", "none", "-n", str(ranks), *cmd]
    subprocess.run(cmd, env=ENV, check=True, capture_output=True)
    meta = read_metadata(out)
    out.unlink()
    simulate = max(r["phases"]["simulate"]["wall_s"] for r in meta["per_rank"])
    return {
        "simulate_s": simulate,
        "collect_s": meta["collect_s"],
        "write_s": meta["write_s"],
        "spikes": sum(meta["spike_counts"].values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setups = [(1, 2), (2, 1)]
    results: dict[tuple[int, int], list[dict]] = {s: [] for s in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            for ranks, threads in setups if i % 2 == 0 else reversed(setups):
                results[(ranks, threads)].append(one_run(args.scale, args.t_sim, ranks, threads, Path(tmp)))
    print(f"### Collecting spikes: PD14 at scale {args.scale}, 100 + {args.t_sim:g} ms, median of {args.repeats}")
    print()
    print("| ranks x threads | spikes | simulate (s) | collect + gather (s) | write HDF5 (s) | (collect + write) / simulate |")
    print("|---|---:|---:|---:|---:|---:|")
    for (ranks, threads), reps in results.items():
        med = {k: statistics.median(r[k] for r in reps) for k in ("simulate_s", "collect_s", "write_s")}
        ratio = (med["collect_s"] + med["write_s"]) / med["simulate_s"]
        print(
            f"| {ranks} x {threads} | {reps[0]['spikes']:,} | {med['simulate_s']:.2f} | {med['collect_s']:.3f} | "
            f"{med['write_s']:.3f} | {100 * ratio:.2f} % |"
        )


if __name__ == "__main__":
    main()
