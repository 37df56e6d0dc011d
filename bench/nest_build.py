"""PD14's simulate phase on differently built NESTs, side by side in one run.

Each NEST build lives in its own Python environment (given as ``--build NAME=PYTHON``, spikeflow
installed there too). For every scale the same PD14 network (N_scaling = K_scaling = SCALE,
Poisson background, the same seed, the same threads) runs once per build and repeat, each in
its own ``spikeflow simulate`` process; the order of the builds rotates from repeat to repeat
so that drift on the machine hits all alike, after one untimed warm-up run per build and
scale. Reported per build: the simulate-phase wall time (median, min and max over repeats, s,
read from the spikes file's per-rank phase times) and the ratios to the ``--baseline`` build
and the ``--pypi`` build (below 1.0: faster), plus the other phases.

Spikes are compared exactly: SHA-256 over every population's ``node_ids`` and ``timestamps``
datasets as stored. If a build's spikes differ from the baseline's, its per-neuron rates are
compared statistically instead (population mean rates and the Kolmogorov-Smirnov distance of
per-neuron rate distributions over the simulate phase), next to the KS distance between two
seeds of the baseline build as the yardstick.

Usage::

    flock /tmp/spikeflow-cpu.lock python bench/nest_build.py \\
        --build pypi=/tmp/h1-venv-pypi/bin/python \\
        --build current=/work/main/.venv/bin/python \\
        --build native=/tmp/h1-venv-native/bin/python \\
        --baseline current --pypi pypi --scales 0.1 0.2 --repeats 3

Writes ``bench/out/nest_build.json`` and prints Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import yaml
from scipy.stats import ks_2samp

from spikeflow.analysis.spiketrains import per_neuron_rates
from spikeflow.driver.phases import PHASES
from spikeflow.io.spikes import read_spikes
from spikeflow.models.pd14.params import POPULATIONS

HERE = Path(__file__).resolve().parent

# Printed by each build's interpreter: NEST's build report and the flags its nest-config gives.
_PROBE = r"""
import json, os, subprocess, sys
os.environ["PYNEST_QUIET"] = "1"
import nest
info = nest.GetKernelStatus("build_info")
cfg = os.path.join(os.path.dirname(sys.executable), "nest-config")
flags = subprocess.run([cfg, "--cflags"], capture_output=True, text=True).stdout.strip() if os.path.exists(cfg) else ""
comp = subprocess.run([cfg, "--compiler"], capture_output=True, text=True).stdout.strip() if os.path.exists(cfg) else ""
print(json.dumps({"built": info["built"], "have_mpi": bool(info["have_mpi"]), "version": info["version"],
                  "cxxflags": flags, "compiler": comp, "nest_dir": os.path.dirname(nest.__file__)}))
"""


def probe_build(python: str) -> dict[str, Any]:
    """What NEST build ``python`` imports: build date, MPI, version, compiler and C++ flags."""
    proc = subprocess.run([python, "-c", _PROBE], check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spikes_digest(path: Path) -> str:
    """SHA-256 (hex) over every population's name, ``node_ids`` and ``timestamps`` datasets, as stored."""
    h = hashlib.sha256()
    with h5py.File(path, "r") as f:
        for name in sorted(f["spikes"]):
            g = f["spikes"][name]
            h.update(name.encode())
            for ds in ("node_ids", "timestamps"):
                arr = np.ascontiguousarray(g[ds][()])
                h.update(str(arr.dtype).encode())
                h.update(arr.tobytes())
    return h.hexdigest()


def write_config(work: Path, scale: float, threads: int, seed: int, t_presim: float, t_sim: float) -> Path:
    """The run config of one PD14 network (times in ms); returns its path."""
    cfg = {
        "study": "bench-nest-build",
        "model": "pd14",
        "params": {"N_scaling": scale, "K_scaling": scale, "bg_input": "poisson"},
        "simulation": {"t_presim": t_presim, "t_sim": t_sim, "threads": threads, "seed": seed, "progress_interval": 0.0},
    }
    path = work / f"pd14_{scale:g}_{seed}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run_once(python: str, config: Path, out: Path, t_presim: float, t_sim: float, keep_rates: bool) -> dict[str, Any]:
    """One ``spikeflow simulate`` process with ``python``.

    Returns:
        ``wall_s`` (whole process, s), ``phases_s`` (per phase, rank 0's wall time, s),
        ``digest`` (see :func:`spikes_digest`), ``n_spikes``, ``num_connections``, ``built`` and
        ``executable`` (from the file's provenance), ``load_before`` (1-min load average), and
        with ``keep_rates`` the per-neuron rates over the simulate phase (spikes/s) per population.
    """
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "spikeflow.cli", "simulate", "--config", str(config), "--out", str(out)],
        check=False, capture_output=True, text=True, env={**os.environ, "PYNEST_QUIET": "1"},
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{python} -m spikeflow.cli simulate failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    data = read_spikes(out)
    meta = data.metadata
    rank = meta["per_rank"][0]
    prov = meta.get("provenance", {})
    res: dict[str, Any] = {
        "wall_s": wall,
        "phases_s": {k: rank["phases"][k]["wall_s"] for k in PHASES},
        "digest": spikes_digest(out),
        "n_spikes": int(sum(p.n_spikes for p in data.populations.values())),
        "num_connections": int(meta["num_connections"]),
        "built": prov.get("nest_build", {}).get("built"),
        "executable": prov.get("python", {}).get("executable"),
        "load_before": load,
    }
    if keep_rates:
        res["rates"] = {
            name: per_neuron_rates(p.node_ids, p.times, p.n_nodes, t_presim, t_presim + t_sim).tolist()
            for name, p in data.populations.items()
        }
    out.unlink()
    return res


def compare_rates(rates: dict[str, list[float]], base: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per population: mean rates (spikes/s), relative difference and KS distance of per-neuron rates."""
    out = {}
    for p in POPULATIONS:
        a, b = np.asarray(rates[p]), np.asarray(base[p])
        out[p] = {
            "rate_hz": float(a.mean()),
            "base_rate_hz": float(b.mean()),
            "rel_diff": float(a.mean() / b.mean() - 1.0) if b.mean() > 0 else float("nan"),
            "ks": float(ks_2samp(a, b).statistic),
        }
    return out


def bench_scale(args: argparse.Namespace, builds: dict[str, str], scale: float, work: Path) -> dict[str, Any]:
    """All repeats of all builds at one scale (N_scaling = K_scaling = ``scale``).

    Returns:
        Per build: simulate-phase median, min and max (s), the other phases' medians (s), the
        whole-process median (s), the distinct spike digests, ratios to the baseline and the
        PyPI build, and, for builds whose spikes differ, the rate comparison with the baseline.
    """
    names = list(builds)
    config = write_config(work, scale, args.threads, args.seed, args.t_presim, args.t_sim)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    if args.warmup:
        # one untimed run per build first: the first process of a build loads its libraries from
        # disk (a smoke run at scale 0.02 took 1.6 s in the simulate phase instead of 0.03 s)
        for name in names:
            run_once(builds[name], config, work / f"{name}.h5", args.t_presim, args.t_sim, keep_rates=False)
    for i in range(args.repeats):
        k = i % len(names)
        for name in names[k:] + names[:k]:  # rotate the order from repeat to repeat
            res = run_once(builds[name], config, work / f"{name}.h5", args.t_presim, args.t_sim, keep_rates=not runs[name])
            runs[name].append(res)
            print(
                f"[bench] scale {scale:g} {name} repeat {i + 1}: simulate {res['phases_s']['simulate']:.2f} s, "
                f"whole {res['wall_s']:.1f} s, load {res['load_before']:.2f}, spikes {res['digest'][:12]}",
                flush=True,
            )
    base = args.baseline
    summary: dict[str, Any] = {"scale": scale, "builds": {}}
    for name in names:
        reps = runs[name]
        sim = [r["phases_s"]["simulate"] for r in reps]
        summary["builds"][name] = {
            "simulate_s": statistics.median(sim),
            "simulate_min_s": min(sim),
            "simulate_max_s": max(sim),
            "phases_s": {k: statistics.median(r["phases_s"][k] for r in reps) for k in PHASES},
            "wall_s": statistics.median(r["wall_s"] for r in reps),
            "digests": sorted({r["digest"] for r in reps}),
            "n_spikes": reps[0]["n_spikes"],
            "num_connections": reps[0]["num_connections"],
            "built": sorted({str(r["built"]) for r in reps}),
            "load_before": [r["load_before"] for r in reps],
        }
    b = summary["builds"]
    for name in names:
        b[name]["ratio_vs_baseline"] = b[name]["simulate_s"] / b[base]["simulate_s"]
        if args.pypi:
            b[name]["ratio_vs_pypi"] = b[name]["simulate_s"] / b[args.pypi]["simulate_s"]
        b[name]["spikes_identical_to_baseline"] = b[name]["digests"] == b[base]["digests"] and len(b[name]["digests"]) == 1
    differing = [n for n in names if not b[n]["spikes_identical_to_baseline"]]
    if differing:
        base_rates = runs[base][0]["rates"]
        other_seed = write_config(work, scale, args.threads, args.seed + 1, args.t_presim, args.t_sim)
        yard = run_once(builds[base], other_seed, work / "yardstick.h5", args.t_presim, args.t_sim, keep_rates=True)
        summary["yardstick_seed_vs_seed"] = compare_rates(yard["rates"], base_rates)
        for n in differing:
            b[n]["rates_vs_baseline"] = compare_rates(runs[n][0]["rates"], base_rates)
    return summary


def markdown(summary: dict[str, Any], args: argparse.Namespace) -> str:
    """One scale's results as Markdown (a table of simulate-phase medians and ratios, then spikes)."""
    b = summary["builds"]
    base_name = args.baseline
    lines = [
        (
            f"#### PD14 at scale {summary['scale']:g}: {args.threads} threads, {args.t_presim:g} + {args.t_sim:g} ms, "
            f"seed {args.seed}, median of {args.repeats} repeat(s)"
        ),
        "",
        f"| build | simulate (s) | min-max (s) | vs {base_name} |" + (f" vs {args.pypi} |" if args.pypi else "")
        + " presimulate (s) | connect (s) | spikes (sha256) |",
        "|---|---:|---:|---:|" + ("---:|" if args.pypi else "") + "---:|---:|---|",
    ]
    for name, r in b.items():
        row = (
            f"| {name} | {r['simulate_s']:.2f} | {r['simulate_min_s']:.2f}-{r['simulate_max_s']:.2f} | "
            f"{r['ratio_vs_baseline']:.3f} |"
        )
        if args.pypi:
            row += f" {r['ratio_vs_pypi']:.3f} |"
        same = "same as " + base_name if r["spikes_identical_to_baseline"] and name != base_name else ""
        row += (
            f" {r['phases_s']['presimulate']:.2f} | {r['phases_s']['connect']:.2f} | "
            f"`{', '.join(d[:12] for d in r['digests'])}` {same} |"
        )
        lines.append(row)
    first = next(iter(b.values()))
    lines += ["", f"{first['num_connections']:,} connections, {first['n_spikes']:,} spikes."]
    if "yardstick_seed_vs_seed" in summary:
        yard = summary["yardstick_seed_vs_seed"]
        lines += ["", f"Builds whose spikes differ from {base_name}'s: per-neuron rates over the simulate phase", "",
                  "| build | population | rate (spikes/s) | difference | KS vs " + base_name + " | KS seed vs seed |",
                  "|---|---|---:|---:|---:|---:|"]
        for name, r in b.items():
            for p, row in r.get("rates_vs_baseline", {}).items():
                lines.append(f"| {name} | {p} | {row['rate_hz']:.3f} | {100 * row['rel_diff']:+.2f} % | {row['ks']:.3f} | {yard[p]['ks']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    """Parse the command line, run every scale, write the JSON report and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True, metavar="NAME=PYTHON",
                        help="a NEST build: a name and the Python interpreter of the environment it is installed in")
    parser.add_argument("--baseline", help="build the ratios are relative to (default: the second --build, else the first)")
    parser.add_argument("--pypi", help="build that is NEST's PyPI wheel, for a second ratio column")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--t-presim", type=float, default=500.0, help="ms")
    parser.add_argument("--t-sim", type=float, default=1000.0, help="ms")
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="skip the untimed first run of every build at every scale")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    builds: dict[str, str] = {}
    for spec in args.build:
        name, sep, python = spec.partition("=")
        if not sep or not name or not python:
            parser.error(f"--build takes NAME=PYTHON, not {spec!r}")
        builds[name] = python
    args.baseline = args.baseline or list(builds)[min(1, len(builds) - 1)]
    for ref in (args.baseline, args.pypi):
        if ref is not None and ref not in builds:
            parser.error(f"{ref!r} is not one of the builds ({', '.join(builds)})")
    info = {name: probe_build(py) for name, py in builds.items()}
    for name, i in info.items():
        print(f"[bench] {name}: NEST {i['version']} built {i['built']}, MPI {i['have_mpi']}, {i['compiler']} {i['cxxflags']}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            results.append(bench_scale(args, builds, scale, Path(tmp)))
    report = {"settings": vars(args) | {"out": str(args.out)}, "builds": info, "scales": results,
              "host": {"cpu": os.uname().machine, "cores": os.cpu_count()}}
    (args.out / "nest_build.json").write_text(json.dumps(report, indent=2))
    print()
    print("| build | compiler | C++ flags (nest-config --cflags) |\n|---|---|---|")
    for name, i in info.items():
        print(f"| {name} | {i['compiler']} | `{i['cxxflags']}` |")
    for summary in results:
        print()
        print(markdown(summary, args))


if __name__ == "__main__":
    main()
