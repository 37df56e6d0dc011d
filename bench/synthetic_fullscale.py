"""Write a synthetic full-scale PD14 spikes file for the analysis benchmarks.

The file has the 8 PD14 populations at full size (77,169 neurons,
``spikeflow.models.pd14.params.FULL_NUM_NEURONS``); every neuron fires a Poisson train at its
population's published full-scale rate (``FULL_MEAN_RATES``) over the whole recorded time
``[0, t_presim + t_sim)``, on NEST's 0.1 ms grid. It is written with spikeflow's own writer
(:func:`spikeflow.io.spikes.write_spikes`, checksums and all) and metadata as the driver writes
it for a PD14 run (populations with sizes, spike counts, presim/sim times, reference rates, the
model and a config with ``N_scaling = K_scaling = 1``), so :func:`read_spikes` accepts it and
``spikeflow analyze rates`` treats it as a real run.

Generation is vectorised and frugal: a population's superposed train is one Poisson process of
rate ``n * r``; its spike count is drawn first, its times are sorted uniform draws (the order
statistics of a Poisson process) and each spike's sender is a uniform random neuron (labels of
a superposition of equal-rate Poisson processes are independent and uniform). Only one
population is in memory at a time (the writer takes a generator). ``--rate-sigma`` gives the
neurons lognormally spread rates with the same population mean (default 0: homogeneous).

Usage::

    python bench/synthetic_fullscale.py /tmp/pd14_full_synth.h5 --t-sim 100000
    python bench/synthetic_fullscale.py /tmp/small.h5 --scale 0.05 --t-sim 5000   # a small one
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.models.pd14 import params as pd


def _population(name, n, total, rate_weights, t_stop, resolution, seed):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, t_stop, total))
    if resolution > 0:  # NEST's grid: spike at step k is stored as k * resolution
        np.multiply(np.floor(times / resolution), resolution, out=times)
    if rate_weights is None:
        ids = rng.integers(0, n, total, dtype=np.uint64)
    else:
        ids = np.searchsorted(np.cumsum(rate_weights), rng.uniform(0.0, 1.0, total), side="right")
        ids = np.minimum(ids, n - 1).astype(np.uint64)
    return PopulationSpikes(name, int(n), ids, times)


def generate(path, scale=1.0, t_presim=500.0, t_sim=100_000.0, resolution=0.1, rate_sigma=0.0, seed=55):
    """Write the file; returns (path, total spikes)."""
    names = list(pd.POPULATIONS)
    sizes = [max(1, int(round(n * scale))) for n in pd.FULL_NUM_NEURONS]
    rates = [float(r) for r in pd.FULL_MEAN_RATES]
    t_stop = t_presim + t_sim
    root = np.random.SeedSequence(seed)
    count_seed, *pop_seeds = root.spawn(len(names) + 1)
    totals = np.random.default_rng(count_seed).poisson([n * r * t_stop / 1000.0 for n, r in zip(sizes, rates)])
    weights = []
    for n, seq in zip(sizes, pop_seeds):
        if rate_sigma > 0:
            w = np.random.default_rng(seq.spawn(1)[0]).lognormal(0.0, rate_sigma, n)
            weights.append(w / w.sum())
        else:
            weights.append(None)
    metadata = {
        "model": "pd14",
        "study": "synthetic",
        "run_id": f"synthetic-scale{scale:g}-seed{seed}",
        "seed": seed,
        "num_ranks": 1,
        "threads_per_rank": 1,
        "resolution_ms": resolution if resolution > 0 else 0.1,
        "t_presim_ms": float(t_presim),
        "t_sim_ms": float(t_sim),
        "config": {
            "model": "pd14",
            "params": {"N_scaling": scale, "K_scaling": scale},
            "simulation": {"seed": seed, "t_presim": float(t_presim), "t_sim": float(t_sim)},
            "synthetic": {"generator": "bench/synthetic_fullscale.py", "rate_sigma": rate_sigma},
        },
        "populations": [{"name": name, "size": n} for name, n in zip(names, sizes)],
        "reference_rates_hz": dict(zip(names, rates)),
        "spike_counts": {name: int(c) for name, c in zip(names, totals)},
    }
    pops = (
        _population(name, n, c, w, t_stop, resolution, seq)
        for name, n, c, w, seq in zip(names, sizes, totals, weights, pop_seeds)
    )
    write_spikes(path, pops, metadata)
    return Path(path), int(totals.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="spikes file to write (keep it outside the repository, e.g. /tmp)")
    parser.add_argument("--scale", type=float, default=1.0, help="N_scaling of the population sizes (default 1)")
    parser.add_argument("--t-presim", type=float, default=500.0, help="presimulation, ms (default 500)")
    parser.add_argument("--t-sim", type=float, default=100_000.0, help="simulation, ms (default 100000)")
    parser.add_argument("--resolution", type=float, default=0.1, help="time grid, ms; 0 for continuous times")
    parser.add_argument("--rate-sigma", type=float, default=0.0, help="lognormal spread of per-neuron rates")
    parser.add_argument("--seed", type=int, default=55)
    args = parser.parse_args()
    start = time.perf_counter()
    path, total = generate(args.out, args.scale, args.t_presim, args.t_sim, args.resolution, args.rate_sigma, args.seed)
    size = path.stat().st_size
    print(f"{path}: {total:,} spikes, {size / 2**20:.0f} MiB, {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
