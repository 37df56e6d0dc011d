"""Make a validation reference ensemble from the reference PyNEST implementation of PD14.

Runs the PyPI package ``microcircuit`` (INM-6's reference implementation, driven by
``bench/run_reference.py`` exactly as the benchmark does: Poisson background, N_scaling =
K_scaling = SCALE) once per seed on this machine's NEST, each in its own process, one after the
other, reads its spikes back from its ASCII files, and reduces every run to the per-neuron
statistics of :func:`spikeflow.analysis.validation.run_statistics` (rates, CVs of ISIs,
spike-count correlations of sampled pairs) over NEST's window ``(t_presim, t_presim + t_sim]``.
Writes

    src/spikeflow/data/validation/pd14_scale<SCALE>_microcircuit.npz   the statistics (not spikes)
    src/spikeflow/data/validation/pd14_scale<SCALE>_microcircuit.json  how they were made and what it cost

Usage::

    pip install -e . -r bench/requirements.txt
    python bench/make_validation_reference.py --scale 0.1 --seeds 7001-7010
    python bench/make_validation_reference.py --scale 0.2 --seeds 7001-7010

The seeds must differ from every seed a candidate is validated with (equal seeds give equal
spikes in both implementations, since they make the same NEST calls).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pd14_vs_reference import reference_process

from spikeflow.analysis import validation as v
from spikeflow.io.references import save_reference
from spikeflow.models.pd14.params import POPULATIONS

OUT = HERE.parent / "src" / "spikeflow" / "data" / "validation"


def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds += list(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


def one_run(scale: float, threads: int, seed: int, t_presim: float, t_sim: float, work: Path, args) -> tuple[dict, dict]:
    data_dir = work / f"seed{seed}"
    data_dir.mkdir()
    wall, report, pops = reference_process(scale, threads, seed, t_presim, t_sim, data_dir)
    stats = v.run_statistics(
        pops, t_presim, t_presim + t_sim, corr_bin_ms=args.corr_bin_ms, corr_sample=args.corr_sample,
        min_spikes=args.min_spikes, sample_seed=args.sample_seed, run_seed=seed,
    )
    data_dir.rmdir()
    cost = {
        "seed": seed,
        "wall_s": round(wall, 2),
        "phases_s": {k: round(x, 3) for k, x in report["phases_s"].items()},
        "peak_rss_mib": round(report["peak_rss_kb"] / 1024, 1),
        "num_connections": report["num_connections"],
        "n_spikes": int(sum(ts.size for _, ts, _ in pops.values())),
        "mean_rates_hz": {p: round(float(stats["rate"][p].mean()), 4) for p in POPULATIONS},
    }
    return stats, cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seeds", default="7001-7010", help="e.g. 7001-7010 or 1,2,3")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--t-presim", type=float, default=500.0)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--corr-bin-ms", type=float, default=v.DEFAULT_CORR_BIN_MS)
    parser.add_argument("--corr-sample", type=int, default=v.DEFAULT_CORR_SAMPLE)
    parser.add_argument("--min-spikes", type=int, default=v.DEFAULT_MIN_SPIKES)
    parser.add_argument("--sample-seed", type=int, default=v.DEFAULT_SAMPLE_SEED)
    parser.add_argument("--out-dir", type=Path, default=OUT)
    args = parser.parse_args()
    seeds = _seeds(args.seeds)
    if len(seeds) < 2:
        parser.error("a reference ensemble needs at least two seeds")

    from importlib.metadata import version

    import nest

    runs, costs = [], []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            stats, cost = one_run(args.scale, args.threads, seed, args.t_presim, args.t_sim, Path(tmp), args)
            print(f"[reference] scale {args.scale:g} seed {seed}: {cost['wall_s']:.1f} s, "
                  f"peak {cost['peak_rss_mib']:.0f} MiB, {cost['n_spikes']} spikes", flush=True)
            runs.append(stats)
            costs.append(cost)
    total = time.perf_counter() - t_all
    info = {
        "name": f"pd14_scale{args.scale:g}",
        "made_by": "bench/make_validation_reference.py",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "implementation": f"microcircuit {version('microcircuit')} (PyPI, INM-6 reference PyNEST implementation of PD14)",
        "driver": "bench/run_reference.py (create, connect, presimulate, simulate as the reference's example)",
        "nest_version": nest.__version__,
        "python": platform.python_version(),
        "host": platform.node(),
        "model": {"N_scaling": args.scale, "K_scaling": args.scale, "bg_input_type": "poisson",
                  "everything else": "the reference's defaults (default_net_dict, default_stim_dict)"},
        "simulation": {"t_presim_ms": args.t_presim, "t_sim_ms": args.t_sim, "threads": args.threads,
                       "resolution_ms": 0.1},
        "statistics": {"corr_bin_ms": args.corr_bin_ms, "corr_sample": args.corr_sample,
                       "min_spikes_for_cv": args.min_spikes, "sample_seed": args.sample_seed,
                       "functions": "spikeflow.analysis.validation.run_statistics (spikeflow.analysis.spiketrains)",
                       "window": "NEST's (t_presim, t_presim + t_sim] ms: a spike stamped at t_presim is not counted, one at the end is"},
        "cost": {"total_wall_s": round(total, 1), "runs": costs,
                 "machine": "2 cores shared with other jobs"},
    }
    ens = v.Ensemble.from_runs(runs, seeds, (args.t_presim, args.t_presim + args.t_sim), info)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    npz, js = save_reference(args.out_dir / f"pd14_scale{args.scale:g}_microcircuit.npz", ens)
    print(f"[reference] wrote {npz} ({npz.stat().st_size / 1024:.0f} kB) and {js}; total {total:.0f} s")


if __name__ == "__main__":
    main()
