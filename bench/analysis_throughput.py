"""Whole-process throughput of ``spikeflow analyze rates`` against the floor and Elephant.

Three kinds of process, each started fresh and measured from the outside with
``/usr/bin/time -v`` (wall time = the process's elapsed time, peak RSS = its "Maximum resident
set size"):

* floor: a process that imports numpy and h5py, reads every dataset of the spikes file and does
  one ``np.bincount`` per population (``--floor FILE`` runs it; what the disk and the
  libraries allow);
* spikeflow: ``spikeflow analyze rates FILE --out-dir D`` (``--analysis attractors``: ``spikeflow
  analyze attractors`` of a clustered file, ``bench/synthetic_clustered.py``, its outputs compared
  by ``check_attractors_identical.py``) (read and check the file, every
  statistic of rates.csv, the tables and the three figures);
* before (``--before-src DIR``, optional): the same command with ``PYTHONPATH=DIR``, a source
  tree of an earlier spikeflow (e.g. ``git archive <commit> src | tar -x -C /tmp/old``), and a
  check that both wrote the same rates.csv and rates.json (``check_rates_identical.py``);
* Elephant (``--elephant N``, optional): the same statistics of rates.csv (rates, ISI CV, LV,
  3 ms population histogram, 50-neuron 2 ms correlation matrix) computed with Elephant on the
  first N neurons of every population (``--elephant-run FILE N`` runs it), as a rate in
  spikes/s on that subsample.

The floor, before and spikeflow alternate, ``--repeats`` times each; the table gives medians.

Usage::

    python bench/synthetic_fullscale.py /tmp/pd14_full_synth.h5
    git archive HEAD src | tar -x -C /tmp/before      # optional: the version to compare with
    python bench/analysis_throughput.py /tmp/pd14_full_synth.h5 --repeats 3 --elephant 300 --before-src /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def floor(path: str) -> None:
    import h5py
    import numpy as np

    n = 0
    with h5py.File(path, "r") as f:
        for g in f["spikes"].values():
            times = g["timestamps"][()]
            ids = g["node_ids"][()]
            np.bincount(ids.view(np.int64), minlength=int(g.attrs["n_nodes"]))
            n += times.size
    print(n)


def elephant_run(path: str, n_neurons: int) -> None:
    """Elephant's statistics of rates.csv on the first n_neurons of every population."""
    import warnings

    import numpy as np
    import quantities as pq
    from elephant import statistics as es
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    from neo import SpikeTrain

    from spikeflow.io.spikes import read_spikes

    warnings.simplefilter("ignore")
    data = read_spikes(path)
    t0, t1 = data.t_presim, data.t_stop
    total = 0
    start = time.perf_counter()
    for pop in data.populations.values():
        keep = (pop.times >= t0) & (pop.times < t1) & (pop.node_ids < n_neurons)
        ids, times = pop.node_ids[keep].astype(np.int64), pop.times[keep]
        total += times.size
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(n_neurons + 1))
        trains = [
            SpikeTrain(times[order[a:b]] * pq.ms, t_start=t0 * pq.ms, t_stop=t1 * pq.ms)
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
        [es.mean_firing_rate(st) for st in trains]
        [es.cv(es.isi(st)) for st in trains if len(st) >= 3]
        [es.lv(es.isi(st)) for st in trains if len(st) >= 3]
        es.time_histogram(trains, 3 * pq.ms, output="counts")
        active = [st for st in trains if len(st)][:50]
        if len(active) >= 2:
            correlation_coefficient(BinnedSpikeTrain(active, bin_size=2 * pq.ms))
    elapsed = time.perf_counter() - start
    print(f"{total} {elapsed}")


def _timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall s, peak RSS MiB, stdout) of one process under /usr/bin/time -v."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - start
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, rss_kb / 1024.0, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spikes", nargs="?", help="spikes file (bench/synthetic_fullscale.py writes one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--elephant", type=int, default=0, help="also time Elephant on this many neurons per population")
    parser.add_argument("--before-src", type=Path, help="also time this earlier spikeflow source tree (its src/ directory)")
    parser.add_argument("--analysis", choices=("rates", "attractors"), default="rates",
                        help="the spikeflow analysis to time (attractors: a clustered file, bench/synthetic_clustered.py)")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="attractors: floating-point numbers of before and after may differ by this fraction "
                        "(check_attractors_identical.py --tolerance; default 0: equal)")
    parser.add_argument("--floor", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--elephant-run", nargs=2, metavar=("FILE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        return floor(args.floor)
    if args.elephant_run:
        return elephant_run(args.elephant_run[0], int(args.elephant_run[1]))
    if not args.spikes:
        parser.error("give a spikes file")

    import h5py

    with h5py.File(args.spikes, "r") as f:
        n_spikes = sum(g["timestamps"].shape[0] for g in f["spikes"].values())
        n_nodes = sum(int(g.attrs["n_nodes"]) for g in f["spikes"].values())
    size_mib = os.path.getsize(args.spikes) / 2**20
    data_mib = n_spikes * 16 / 2**20
    spikeflow = [str(Path(sys.executable).with_name("spikeflow")), "analyze", args.analysis, args.spikes]
    floors, flows, befores = [], [], []
    before_env = None
    if args.before_src:
        before_env = dict(os.environ, PYTHONPATH=str(args.before_src.resolve()))
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.repeats):
            floors.append(_timed([sys.executable, __file__, "--floor", args.spikes])[:2])
            if before_env:
                befores.append(_timed([*spikeflow, "--out-dir", str(Path(out) / f"b{i}")], before_env)[:2])
            flows.append(_timed([*spikeflow, "--out-dir", str(Path(out) / f"r{i}")])[:2])
            line = f"repeat {i + 1}: floor {floors[-1][0]:.2f} s, spikeflow {flows[-1][0]:.2f} s"
            print(line + (f", before {befores[-1][0]:.2f} s" if befores else ""), flush=True)
        if befores:
            if args.analysis == "rates":
                from check_rates_identical import compare

                problems = compare(Path(out) / "b0", Path(out) / "r0")
            else:
                from check_attractors_identical import compare

                problems = compare(Path(out) / "b0", Path(out) / "r0", args.tolerance)
            print("before and after: " + ("the same numbers" if not problems else "DIFFER: " + "; ".join(problems[:5])))
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(f"file {args.spikes}: {size_mib:.0f} MiB, {n_spikes:,} spikes, {n_nodes:,} neurons, spike data {data_mib:.0f} MiB")
    print(f"load during the runs (1-min average): {os.getloadavg()[0]:.2f}")
    print("| process | wall (s) | spikes/s | ratio to floor | peak RSS (MiB) | RSS / spike data |")
    print("|---|---:|---:|---:|---:|---:|")
    f_wall = med(floors, 0)
    command = f"spikeflow analyze {args.analysis}"
    results = [("floor", floors), (f"{command}, before", befores), (command, flows)]
    for name, runs in results:
        if runs:
            wall, rss = med(runs, 0), med(runs, 1)
            print(f"| {name} | {wall:.2f} | {n_spikes / wall / 1e6:.1f} M | {wall / f_wall:.1f} | {rss:.0f} | {rss / data_mib:.2f} |")
    if args.elephant:
        wall, rss, out = _timed([sys.executable, __file__, "--elephant-run", args.spikes, str(args.elephant)])
        total, compute = out.split()
        print(
            f"| Elephant, first {args.elephant} neurons per population | {float(compute):.2f} (statistics only; process {wall:.2f}) "
            f"| {int(total) / float(compute) / 1e3:.0f} k ({int(total):,} spikes) | | {rss:.0f} | |"
        )


if __name__ == "__main__":
    main()
