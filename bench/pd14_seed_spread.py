"""PD14 population rates over several seeds of one spikeflow configuration (the spread that a
comparison of one seed against the reference has to be read against).

Each seed is one ``spikeflow simulate`` process of :func:`pd14_vs_reference.run_spikeflow`
(the same model and protocol); prints and writes the mean rate of every population per seed,
and their mean and SD over seeds.

Usage::

    python bench/pd14_seed_spread.py --scale 1.0 --ranks 2 --threads 1 --seeds 55 56 57 58 --t-presim 100 --t-sim 1000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pd14_vs_reference as bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=1, help="MPI ranks (mpirun, NEST built with MPI)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[55, 56, 57, 58])
    parser.add_argument("--t-presim", type=float, default=500.0)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--out", type=Path, default=bench.HERE / "out")
    args = parser.parse_args()
    bench.SPIKEFLOW_RANKS[0] = args.ranks
    rates: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            run = bench.run_spikeflow(args.scale, args.threads, seed, args.t_presim, args.t_sim, Path(tmp))
            rates[seed] = {p: float(np.mean(v)) for p, v in run["rates"].items()}
            print(f"seed {seed}: {run['wall_s']:.1f} s, " + ", ".join(f"{p} {r:.3f}" for p, r in rates[seed].items()), flush=True)
    summary = {
        p: {"mean_hz": statistics.mean(r[p] for r in rates.values()),
            "sd_hz": statistics.stdev(r[p] for r in rates.values()) if len(rates) > 1 else 0.0}
        for p in bench.POPULATIONS
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"pd14_seeds_scale{args.scale}_{args.ranks}x{args.threads}.json"
    path.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rates_hz": rates, "summary": summary}, indent=2))
    print("| population | " + " | ".join(f"seed {s}" for s in rates) + " | mean | SD |")
    print("|---|" + "---:|" * (len(rates) + 2))
    for p in bench.POPULATIONS:
        cells = " | ".join(f"{rates[s][p]:.3f}" for s in rates)
        print(f"| {p} | {cells} | {summary[p]['mean_hz']:.3f} | {summary[p]['sd_hz']:.3f} |")


if __name__ == "__main__":
    main()
