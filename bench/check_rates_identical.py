"""Check that two ``spikeflow analyze rates`` output directories hold the same numbers.

Compares ``rates.json`` (every value of every population row, the window, the options and the
flags) and ``rates.csv`` (cell by cell) of directory A with directory B, numbers to a
relative and absolute tolerance (default 1e-12); prints the largest difference and exits 1 if
anything differs. Used to check a faster implementation against the outputs of the previous one:

    spikeflow analyze rates FILE --out-dir /tmp/rates_old/X     # before the change
    spikeflow analyze rates FILE --out-dir /tmp/rates_new/X     # after
    python bench/check_rates_identical.py /tmp/rates_old/X /tmp/rates_new/X
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path


def _close(a, b, tol: float) -> tuple[bool, float]:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True, 0.0
        diff = abs(a - b)
        return diff <= tol * max(1.0, abs(a), abs(b)), diff
    return a == b, 0.0 if a == b else math.inf


def _cell(text: str):
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def compare(a: Path, b: Path, tol: float = 1e-12) -> list[str]:
    problems = []
    worst = 0.0
    ja, jb = (json.loads((d / "rates.json").read_text()) for d in (a, b))
    for key in ("window_ms", "options", "flags", "model", "run_id"):
        if ja.get(key) != jb.get(key):
            problems.append(f"rates.json {key}: {ja.get(key)!r} != {jb.get(key)!r}")
    if len(ja["populations"]) != len(jb["populations"]):
        problems.append("rates.json: different numbers of populations")
    for ra, rb in zip(ja["populations"], jb["populations"]):
        if ra.keys() != rb.keys():
            problems.append(f"rates.json {ra.get('population')}: different columns")
        for key in ra:
            ok, diff = _close(ra[key], rb.get(key), tol)
            worst = max(worst, diff if math.isfinite(diff) else worst)
            if not ok:
                problems.append(f"rates.json {ra['population']} {key}: {ra[key]!r} != {rb.get(key)!r}")
    ca, cb = (list(csv.reader((d / "rates.csv").open())) for d in (a, b))
    if ca[0] != cb[0] or len(ca) != len(cb):
        problems.append("rates.csv: different header or number of lines")
    for la, lb in zip(ca[1:], cb[1:]):
        for name, x, y in zip(ca[0], la, lb):
            ok, diff = _close(_cell(x), _cell(y), tol)
            if not ok:
                problems.append(f"rates.csv {la[0]} {name}: {x} != {y}")
    identical = (a / "rates.csv").read_bytes() == (b / "rates.csv").read_bytes()
    print(f"{a} vs {b}: largest difference {worst:.3g}; rates.csv byte-identical: {identical}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--tol", type=float, default=1e-12)
    args = parser.parse_args()
    problems = compare(args.a, args.b, args.tol)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
