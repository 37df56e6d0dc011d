"""PD14: spikeflow against the reference PyNEST implementation, side by side in one run.

Both run on the same machine, the same NEST, the same threads and the same model (N_scaling =
K_scaling = SCALE, Poisson background, optimized initial potentials, seed 55), each in its own
process, alternating, ``--repeats`` times. Reported per tool: wall time per phase (median over
repeats), whole-process wall time, peak resident memory, and per-population rates. Then the
ratios spikeflow / reference (target <= 1.0) and the statistical comparison of the rates:
relative difference of population mean rates, and the Kolmogorov-Smirnov distance between the
per-neuron rate distributions of spikeflow and the reference, next to the KS distance between
two seeds of the reference itself (the yardstick of "statistically the same").

Usage::

    pip install -e . -r bench/requirements.txt
    python bench/pd14_vs_reference.py --scale 0.1 --threads 2 --repeats 3
    python bench/pd14_vs_reference.py --scale 1.0 --threads 4 --repeats 1 --t-presim 100 --t-sim 1000
    python bench/pd14_vs_reference.py --scale 1.0 --threads 2 --reference-threads 4 --spikeflow-python /tmp/venv-native/bin/python ...
    python bench/pd14_vs_reference.py --scale 1.0 --ranks 2 --threads 1 --reference-threads 4 ...

Writes ``bench/out/pd14_scale<SCALE>.json`` and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from scipy.stats import ks_2samp

from spikeflow.analysis.spiketrains import per_neuron_rates
from spikeflow.io.spikes import read_spikes
from spikeflow.models.pd14.params import FULL_MEAN_RATES, POPULATIONS
from spikeflow.driver.phases import PHASES

HERE = Path(__file__).resolve().parent


#: The interpreter spikeflow's runs use (``--spikeflow-python``: e.g. a venv whose NEST is an
#: optimised build of containers/build-nest.sh, against the reference on the default build).
SPIKEFLOW_PYTHON = [sys.executable]

#: MPI ranks of spikeflow's runs (``--ranks``): above 1 each run is ``mpirun -n RANKS --bind-to
#: none`` (NEST built with MPI), every rank with ``--threads`` threads.
SPIKEFLOW_RANKS = [1]


def run_spikeflow(scale: float, threads: int, seed: int, t_presim: float, t_sim: float, work: Path) -> dict:
    """One `spikeflow simulate` process; returns phases, wall time, peak RSS and per-neuron rates."""
    cfg = {
        "study": "bench",
        "model": "pd14",
        "params": {"N_scaling": scale, "K_scaling": scale, "bg_input": "poisson"},
        "simulation": {
            "t_presim": t_presim, "t_sim": t_sim, "threads": threads, "ranks": SPIKEFLOW_RANKS[0], "seed": seed,
            "progress_interval": 0.0,
        },
    }
    config = work / f"spikeflow_{seed}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = work / f"spikeflow_{seed}.h5"
    launcher = ["mpirun", "-n", str(SPIKEFLOW_RANKS[0]), "--bind-to", "none"] if SPIKEFLOW_RANKS[0] > 1 else []
    start = time.perf_counter()
    subprocess.run(
        [*launcher, SPIKEFLOW_PYTHON[0], "-m", "spikeflow.cli", "simulate", "--config", str(config), "--out", str(out)],
        check=True, capture_output=True,
    )
    wall = time.perf_counter() - start
    data = read_spikes(out)
    ranks = data.metadata["per_rank"]
    rates = {
        name: per_neuron_rates(p.node_ids, p.times, p.n_nodes, t_presim, t_presim + t_sim) for name, p in data.populations.items()
    }
    out.unlink()
    return {
        "wall_s": wall,
        # a phase ends for all ranks together (NEST's collective calls): the mean over ranks;
        # memory: the ranks' peaks added up (they coexist)
        "phases_s": {k: statistics.mean(r["phases"][k]["wall_s"] for r in ranks) for k in PHASES},
        "peak_rss_mb": sum(max(v["peak_rss_kb"] for v in r["phases"].values()) for r in ranks) / 1024,
        "num_connections": data.metadata["num_connections"],
        "rates": rates,
    }


def run_reference(scale: float, threads: int, seed: int, t_presim: float, t_sim: float, work: Path) -> dict:
    """One run of the reference `microcircuit` package; spikes read back from its ASCII files."""
    wall, report, pops = reference_process(scale, threads, seed, t_presim, t_sim, work / f"reference_{seed}")
    rates = {name: per_neuron_rates(ids, ts, n, t_presim, t_presim + t_sim) for name, (ids, ts, n) in pops.items()}
    return {
        "wall_s": wall,
        "phases_s": {k: report["phases_s"][k] + (report["phases_s"]["init"] if k == "create" else 0.0) for k in PHASES},
        "peak_rss_mb": report["peak_rss_kb"] / 1024,
        "num_connections": report["num_connections"],
        "rates": rates,
    }


def reference_process(
    scale: float, threads: int, seed: int, t_presim: float, t_sim: float, data_dir: Path
) -> tuple[float, dict, dict[str, tuple[np.ndarray, np.ndarray, int]]]:
    """One ``run_reference.py`` process: (wall s, its JSON report, population -> (0-based ids, times ms, size)).

    The reference's ASCII spike files in ``data_dir`` are read and removed.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_reference.py"), str(scale), str(threads), str(seed), str(t_presim), str(t_sim), str(data_dir)],
        check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    senders, times = _read_ascii_spikes(data_dir)
    pops = {}
    for name, (first, last) in zip(POPULATIONS, report["populations"]):
        mine = (senders >= first) & (senders <= last)
        pops[name] = (senders[mine] - first, times[mine], last - first + 1)
    for f in data_dir.glob("*"):
        f.unlink()
    return wall, report, pops


def _read_ascii_spikes(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    senders, times = [], []
    for path in sorted(data_dir.glob("spike_recorder-*.dat")):
        rows = [line.split() for line in path.read_text().splitlines() if line and line[0].isdigit()]
        if rows:
            arr = np.array(rows, dtype=float)
            senders.append(arr[:, 0].astype(np.int64))
            times.append(arr[:, 1])
    if not senders:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(senders), np.concatenate(times)


def summarize(runs: dict[str, list[dict]], baseline: dict[str, dict]) -> dict:
    """Medians over repeats, ratios, and the rate comparison."""
    out: dict = {"tools": {}}
    for tool, reps in runs.items():
        out["tools"][tool] = {
            "wall_s": statistics.median(r["wall_s"] for r in reps),
            "phases_s": {k: statistics.median(r["phases_s"][k] for r in reps) for k in PHASES},
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in reps),
            "num_connections": reps[0]["num_connections"],
            "mean_rates_hz": {p: float(np.mean(v)) for p, v in reps[0]["rates"].items()},
        }
    sf, ref = out["tools"]["spikeflow"], out["tools"]["reference"]
    out["ratios"] = {
        "wall": sf["wall_s"] / ref["wall_s"],
        "construction": (sf["phases_s"]["create"] + sf["phases_s"]["connect"]) / (ref["phases_s"]["create"] + ref["phases_s"]["connect"]),
        "simulation": (sf["phases_s"]["presimulate"] + sf["phases_s"]["simulate"]) / (ref["phases_s"]["presimulate"] + ref["phases_s"]["simulate"]),
        "peak_memory": sf["peak_rss_mb"] / ref["peak_rss_mb"],
    }
    sf_rates, ref_rates = runs["spikeflow"][0]["rates"], runs["reference"][0]["rates"]
    out["rates"] = {}
    for p in POPULATIONS:
        row = {
            "spikeflow_hz": float(np.mean(sf_rates[p])),
            "reference_hz": float(np.mean(ref_rates[p])),
            "rel_diff": float(np.mean(sf_rates[p]) / np.mean(ref_rates[p]) - 1.0),
            "ks_spikeflow_vs_reference": float(ks_2samp(sf_rates[p], ref_rates[p]).statistic),
        }
        if baseline:
            row["ks_reference_seed_vs_seed"] = float(ks_2samp(ref_rates[p], baseline["reference"]["rates"][p]).statistic)
            row["ks_spikeflow_seed_vs_seed"] = float(ks_2samp(sf_rates[p], baseline["spikeflow"]["rates"][p]).statistic)
        out["rates"][p] = row
    return out


def markdown(summary: dict, args: argparse.Namespace) -> str:
    sf, ref, r = summary["tools"]["spikeflow"], summary["tools"]["reference"], summary["ratios"]
    lines = [
        f"### PD14 at scale {args.scale}: spikeflow {args.ranks} rank(s) x {args.threads} threads, reference {args.reference_threads or args.threads} threads, "
        f"{args.t_presim:g} + {args.t_sim:g} ms, "
        f"median of {args.repeats} repeat(s)",
        "",
        "| | spikeflow | reference | ratio |",
        "|---|---:|---:|---:|",
    ]
    for k in PHASES:
        lines.append(f"| {k} (s) | {sf['phases_s'][k]:.2f} | {ref['phases_s'][k]:.2f} | {sf['phases_s'][k] / ref['phases_s'][k]:.2f} |")
    lines += [
        f"| whole process (s) | {sf['wall_s']:.2f} | {ref['wall_s']:.2f} | {r['wall']:.2f} |",
        f"| peak RSS (MiB) | {sf['peak_rss_mb']:.0f} | {ref['peak_rss_mb']:.0f} | {r['peak_memory']:.2f} |",
        f"| connections | {sf['num_connections']:,} | {ref['num_connections']:,} | |",
        "",
        "| population | spikeflow (spikes/s) | reference (spikes/s) | difference | KS sf vs ref | KS ref seed vs seed | full-scale reference |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p, ref_rate in zip(POPULATIONS, FULL_MEAN_RATES):
        row = summary["rates"][p]
        base = row.get("ks_reference_seed_vs_seed")
        lines.append(
            f"| {p} | {row['spikeflow_hz']:.3f} | {row['reference_hz']:.3f} | {100 * row['rel_diff']:+.1f} % | "
            f"{row['ks_spikeflow_vs_reference']:.3f} | {'' if base is None else f'{base:.3f}'} | {ref_rate} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-threads", type=int, help="threads of the reference's runs (default: --threads); "
                        "at full scale the reference needs 3 or more, spikeflow 2 (synapse copies)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--t-presim", type=float, default=500.0)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--no-baseline", action="store_true", help="skip the second-seed runs (KS yardstick)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--spikeflow-python", help="the Python of spikeflow's runs (default: this one), e.g. a venv with a -march=native NEST")
    parser.add_argument("--ranks", type=int, default=1, help="MPI ranks of spikeflow's runs (mpirun, NEST built with MPI), "
                        "each with --threads threads; the peak RSS reported is the ranks' sum")
    args = parser.parse_args()
    SPIKEFLOW_RANKS[0] = args.ranks
    if args.spikeflow_python:
        SPIKEFLOW_PYTHON[0] = args.spikeflow_python
    args.out.mkdir(parents=True, exist_ok=True)
    threads = {"spikeflow": args.threads, "reference": args.reference_threads or args.threads}
    times = (args.t_presim, args.t_sim)
    runs: dict[str, list[dict]] = {"spikeflow": [], "reference": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for i in range(args.repeats):
            # alternate the order so that drift on the machine hits both alike
            order = ("spikeflow", "reference") if i % 2 == 0 else ("reference", "spikeflow")
            for tool in order:
                fn = run_spikeflow if tool == "spikeflow" else run_reference
                res = fn(args.scale, threads[tool], args.seed, *times, work)
                print(f"[bench] {tool} repeat {i + 1}: {res['wall_s']:.1f} s, peak {res['peak_rss_mb']:.0f} MiB", flush=True)
                runs[tool].append(res)
        baseline = {}
        if not args.no_baseline:
            for tool, fn in (("spikeflow", run_spikeflow), ("reference", run_reference)):
                baseline[tool] = fn(args.scale, threads[tool], args.seed + 1, *times, work)
                print(f"[bench] {tool} seed {args.seed + 1}: {baseline[tool]['wall_s']:.1f} s", flush=True)
    summary = summarize(runs, baseline)
    summary["settings"] = vars(args) | {"out": str(args.out)}
    (args.out / f"pd14_scale{args.scale}.json").write_text(json.dumps(summary, indent=2))
    print(markdown(summary, args))


if __name__ == "__main__":
    main()
