"""Whole-process time of ``spikeflow analyze meanfield`` before and after a change, and its outputs compared.

For every given run config (e.g. one run of each J+ value of workflow/config/clustered-jplus.yaml,
made with ``spikeflow resolve``), runs the command with the workflow's flags, alternating
``before`` (``PYTHONPATH=BEFORE_SRC``, e.g. from ``git archive HEAD src | tar -x -C /tmp/mf-before``)
and ``after`` (the installed tree), ``--repeats`` times each, and reports the median wall,
user and system time (s; ``/usr/bin/time``-like, from ``os.wait4``). Then compares the last
outputs of both:

* ``fixed_points.csv``, the PNG figures: byte-identical or not;
* ``meanfield.json``: equal apart from the timings ``search_s``/``elapsed_s``; numbers that
  differ are listed with their largest relative difference;
* ``meanfield.h5``: every dataset and attribute; exact, or the largest difference relative
  to the dataset's largest magnitude (``max|a - b| / max|a|``) and elementwise.

Usage::

    python bench/meanfield_speed.py --before-src /tmp/mf-before/src --out /tmp/mf/bench \\
        /tmp/mf/J1.0.yaml /tmp/mf/J5.0.yaml ...

Prints a Markdown table. Run it under the CPU lock (``flock /tmp/spikeflow-cpu.lock``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

FLAGS = ["--n-init", "50", "--seed", "1", "--max-init-rate", "50.0", "--landscape", "True"]
TIMINGS = ("search_s", "elapsed_s")


def run_once(config: Path, out_dir: Path, before_src: str | None) -> tuple[float, float, float]:
    """One ``spikeflow analyze meanfield`` process; (wall, user, sys) in s."""
    env = dict(os.environ)
    if before_src:
        env["PYTHONPATH"] = before_src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    else:
        env.pop("PYTHONPATH", None)
    cmd = ["spikeflow", "analyze", "meanfield", str(config), "--out-dir", str(out_dir), *FLAGS]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime, usage.ru_stime


def _walk(a, b, path, diffs):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in TIMINGS:
                continue
            if k not in a or k not in b:
                diffs.append((f"{path}/{k}", "missing on one side"))
            else:
                _walk(a[k], b[k], f"{path}/{k}", diffs)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append((path, f"length {len(a)} vs {len(b)}"))
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}/{i}", diffs)
    elif isinstance(a, float) and isinstance(b, float):
        if a != b and not (np.isnan(a) and np.isnan(b)):
            diffs.append((path, abs(a - b) / max(abs(a), abs(b))))
    elif a != b:
        diffs.append((path, f"{a!r} vs {b!r}"))


def compare_json(a: Path, b: Path) -> list:
    diffs: list = []
    _walk(json.loads(a.read_text()), json.loads(b.read_text()), "", diffs)
    return diffs


def compare_h5(a: Path, b: Path) -> dict[str, str]:
    """Dataset name -> 'identical' or the differences (only the ones that are not identical)."""
    out: dict[str, str] = {}
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names_a, names_b = [], []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            out["<layout>"] = f"{sorted(set(names_a) ^ set(names_b))}"
        for name in names_a:
            if name not in fb:
                continue
            oa, ob = fa[name], fb[name]
            if dict(oa.attrs) .keys() != dict(ob.attrs).keys() or any(
                not np.array_equal(np.asarray(oa.attrs[k]), np.asarray(ob.attrs[k])) for k in oa.attrs
            ):
                out[f"{name} (attrs)"] = "differ"
            if not isinstance(oa, h5py.Dataset):
                continue
            x, y = oa[()], ob[()]
            if np.shape(x) != np.shape(y):
                out[name] = f"shape {np.shape(x)} vs {np.shape(y)}"
            elif np.asarray(x).dtype.kind in "fc":
                x, y = np.asarray(x), np.asarray(y)
                if np.array_equal(x, y, equal_nan=True):
                    continue
                if not np.array_equal(np.isnan(x), np.isnan(y)):
                    out[name] = "NaN pattern differs"
                    continue
                d = np.abs(x - y)
                scale = np.nanmax(np.abs(x))
                elem = np.nanmax(d / np.maximum(np.abs(x), 1e-300))
                out[name] = f"max|d|/max|a| {np.nanmax(d) / scale:.1e}, elementwise {elem:.1e}"
            elif not np.array_equal(np.asarray(x), np.asarray(y)):
                out[name] = "differ"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--before-src", required=True, help="src directory of the tree before the change")
    ap.add_argument("--out", type=Path, default=Path("/tmp/mf/bench"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    rows = []
    reports = []
    for config in args.configs:
        times = {"before": [], "after": []}
        dirs = {side: args.out / f"{side}-{config.stem}" for side in times}
        for _ in range(args.repeats):
            for side in ("before", "after"):
                times[side].append(run_once(config, dirs[side], args.before_src if side == "before" else None))
        med = {side: [statistics.median(t[i] for t in times[side]) for i in range(3)] for side in times}
        rows.append((config.stem, med["before"], med["after"]))
        a, b = dirs["before"], dirs["after"]
        same = {
            f.name: (f.read_bytes() == (b / f.name).read_bytes())
            for f in sorted(a.iterdir())
            if f.suffix in (".csv", ".png", ".h5", ".json")
        }
        reports.append((config.stem, same, compare_json(a / "meanfield.json", b / "meanfield.json"),
                        compare_h5(a / "meanfield.h5", b / "meanfield.h5")))

    load = os.getloadavg()
    print(f"load average before/after the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"medians of {args.repeats} alternating runs; python {sys.version.split()[0]}\n")
    print("| run | before wall (s) | after wall (s) | before user+sys (s) | after user+sys (s) | speed-up (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, bef, aft in rows:
        print(f"| {name} | {bef[0]:.2f} | {aft[0]:.2f} | {bef[1] + bef[2]:.2f} | {aft[1] + aft[2]:.2f} | "
              f"{bef[0] / aft[0]:.2f}x |")
    for name, same, jdiff, hdiff in reports:
        print(f"\n{name}: byte-identical: {', '.join(k for k, v in same.items() if v) or '-'}; "
              f"differ: {', '.join(k for k, v in same.items() if not v) or '-'}")
        num = [d for d in jdiff if isinstance(d[1], float)]
        other = [d for d in jdiff if not isinstance(d[1], float)]
        print(f"  meanfield.json (timings aside): {len(num)} number(s) differ"
              + (f", largest relative {max(d[1] for d in num):.1e} at {max(num, key=lambda d: d[1])[0]}" if num else "")
              + (f"; NON-NUMERIC differences: {other[:5]}" if other else ""))
        if hdiff:
            for k, v in hdiff.items():
                print(f"  meanfield.h5 {k}: {v}")
        else:
            print("  meanfield.h5: every dataset identical")


if __name__ == "__main__":
    main()
