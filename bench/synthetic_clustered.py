"""Write a synthetic metastable clustered-network spikes file for the attractor benchmark.

The file looks like a run of the clustered family (``model: clustered``): ``n_clusters`` E
clusters ``E0..`` and as many I clusters ``I0..`` (4:1 neurons), with the metadata the driver
writes (populations and sizes, presim/sim times, ``model_description["clusters"]``, a config), so
``spikeflow analyze attractors`` treats it as a real run. Its activity is metastable, as in a
clustered network with potentiated clusters: time is cut into segments of exponentially
distributed duration (mean ``dwell_ms``); in each segment 1 to 3 random clusters are active
(their E and I neurons fire at ``active_hz``, the others at ``inactive_hz``). Every neuron fires
a Poisson train at its segment's rate, on NEST's 0.1 ms grid.

Generation is vectorised per population: the population's superposed train in a segment is one
Poisson process of rate ``n * r``; its count is drawn, the times are uniform in the segment
(sorted per population) and each spike's sender is a uniform random neuron. One population is in
memory at a time (the writer takes a generator).

Usage::

    python bench/synthetic_clustered.py /tmp/clustered_synth.h5 --t-sim 850000   # ~25 M spikes
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spikeflow.io.spikes import PopulationSpikes, write_spikes


def segments(t_stop: float, dwell_ms: float, n_clusters: int, rng: np.random.Generator):
    """Segment bounds (ms, shape (n_seg + 1,)) and the active clusters (bool (n_seg, n_clusters))."""
    n_guess = int(2 * t_stop / dwell_ms) + 10
    bounds = np.concatenate(([0.0], np.cumsum(rng.exponential(dwell_ms, n_guess))))
    bounds = bounds[bounds < t_stop]
    bounds = np.append(bounds, t_stop)
    n_seg = bounds.size - 1
    active = np.zeros((n_seg, n_clusters), dtype=bool)
    k = rng.integers(1, 4, n_seg)
    for j in range(n_seg):
        active[j, rng.choice(n_clusters, size=k[j], replace=False)] = True
    return bounds, active


def _population(name, n, rates_hz, bounds, resolution, rng) -> PopulationSpikes:
    durations = np.diff(bounds)
    counts = rng.poisson(n * rates_hz * durations / 1000.0)
    times = np.repeat(bounds[:-1], counts) + rng.uniform(0.0, 1.0, counts.sum()) * np.repeat(durations, counts)
    times.sort()
    if resolution > 0:  # NEST's grid: a spike of step k is stamped at the step's end, k * resolution
        np.multiply(np.ceil(times / resolution), resolution, out=times)
    ids = rng.integers(0, n, times.size, dtype=np.uint64)
    return PopulationSpikes(name, int(n), ids, times)


def generate(path, n_clusters=20, n_e=4000, t_presim=500.0, t_sim=100_000.0, dwell_ms=200.0,
             active_hz=(30.0, 40.0), inactive_hz=(2.0, 8.0), resolution=0.1, seed=7) -> Path:
    """Write the file; returns its path. Rates are (E, I) in spikes/s; times in ms."""
    rng = np.random.default_rng(seed)
    t_stop = t_presim + t_sim
    bounds, active = segments(t_stop, dwell_ms, n_clusters, rng)
    size = {"E": n_e // n_clusters, "I": n_e // 4 // n_clusters}
    names = [f"{kind}{q}" for kind in "EI" for q in range(n_clusters)]
    counts: dict[str, int] = {}

    def pops():
        for kind_index, kind in enumerate("EI"):
            for q in range(n_clusters):
                rates = np.where(active[:, q], active_hz[kind_index], inactive_hz[kind_index])
                pop = _population(f"{kind}{q}", size[kind], rates, bounds, resolution, rng)
                counts[pop.name] = pop.n_spikes
                yield pop

    metadata = {
        "spikeflow_version": "synthetic",
        "model": "clustered",
        "study": "synthetic",
        "run_id": "synthetic",
        "seed": seed,
        "num_ranks": 1,
        "threads_per_rank": 1,
        "resolution_ms": resolution,
        "t_presim_ms": t_presim,
        "t_sim_ms": t_sim,
        "record_start_ms": 0.0,
        "populations": [{"name": n, "size": size[n[0]]} for n in names],
        "model_description": {"clusters": {"n_clusters": n_clusters, "e_clusters": names[:n_clusters],
                                           "i_clusters": names[n_clusters:], "background": []}},
        "config": {"model": "clustered", "params": {"n_clusters": n_clusters, "n_neurons": n_e + n_e // 4},
                   "simulation": {"seed": seed, "t_presim": t_presim, "t_sim": t_sim}},
        "synthetic": {"generator": "bench/synthetic_clustered.py", "segments": int(active.shape[0]),
                      "dwell_ms": dwell_ms, "active_hz": list(active_hz), "inactive_hz": list(inactive_hz)},
    }
    out = write_spikes(path, pops(), metadata)
    print(f"{sum(counts.values()):,} spikes of {sum(size[n[0]] for n in names):,} neurons, {active.shape[0]:,} states")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="spikes file to write (outside the repository, e.g. /tmp)")
    parser.add_argument("--clusters", type=int, default=20, help="E (and I) clusters (default 20)")
    parser.add_argument("--n-e", type=int, default=4000, help="E neurons in all (default 4000; I = n_e / 4)")
    parser.add_argument("--t-presim", type=float, default=500.0, help="presimulation, ms")
    parser.add_argument("--t-sim", type=float, default=100_000.0, help="simulation, ms")
    parser.add_argument("--dwell-ms", type=float, default=200.0, help="mean duration of a state, ms")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    path = generate(args.out, args.clusters, args.n_e, args.t_presim, args.t_sim, args.dwell_ms, seed=args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
