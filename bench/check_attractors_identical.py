"""Whether two ``spikeflow analyze attractors`` output directories hold the same results.

Compared: every dataset and attribute of ``attractors.h5`` (the analysed file's name excepted),
``states.csv`` and the three PNGs byte for byte, ``attractors.json`` key by key (the analysed
file's name excepted). Usage: ``python bench/check_attractors_identical.py DIR_A DIR_B
[--tolerance T]`` (exit status 1 if they differ). With ``--tolerance T`` floating-point numbers
may differ by ``T`` times the largest absolute value of their dataset (attractors.h5) or by
``T * max(1, |a|, |b|)`` (states.csv cells, attractors.json numbers); everything else, integers,
booleans and the PNGs included, must still be equal.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

FIGURES = ("cluster_rates.png", "state_sequence.png", "transition_matrix.png")


def _close(x: object, y: object, tolerance: float) -> bool:
    """JSON values or CSV cells equal, numbers within ``tolerance * max(1, |x|, |y|)``."""
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k], tolerance) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(u, v, tolerance) for u, v in zip(x, y))
    if isinstance(x, str) and isinstance(y, str):
        try:
            x, y = float(x), float(y)
        except ValueError:
            return x == y
    if isinstance(x, float) or isinstance(y, float):
        if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or isinstance(x, bool) or isinstance(y, bool):
            return False
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return abs(x - y) <= tolerance * max(1.0, abs(x), abs(y))
    return x == y


def compare(a: Path, b: Path, tolerance: float = 0.0) -> list[str]:
    """What differs between the output directories ``a`` and ``b`` (empty: the same)."""
    import h5py
    import numpy as np

    problems = []
    with h5py.File(a / "attractors.h5", "r") as fa, h5py.File(b / "attractors.h5", "r") as fb:
        names_a: list[str] = []
        names_b: list[str] = []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        if names_a != names_b:
            problems.append("attractors.h5 holds other objects")
        for name in names_a:
            if isinstance(fa[name], h5py.Dataset) and name in fb:
                x, y = fa[name][()], fb[name][()]
                floating = np.asarray(x).dtype.kind in "fc"
                if np.shape(x) != np.shape(y) or np.asarray(x).dtype.kind != np.asarray(y).dtype.kind:
                    problems.append(f"attractors.h5 dataset {name} differs")
                elif floating and tolerance > 0:
                    scale = float(np.nanmax(np.abs(x))) if np.size(x) and not np.all(np.isnan(x)) else 0.0
                    if not np.allclose(x, y, rtol=0.0, atol=tolerance * scale, equal_nan=True):
                        problems.append(f"attractors.h5 dataset {name} differs by more than {tolerance:g} of its largest value")
                elif not np.array_equal(x, y, equal_nan=floating):
                    problems.append(f"attractors.h5 dataset {name} differs")
        for key in set(fa.attrs) | set(fb.attrs):
            if key != "spikes_file" and not np.array_equal(fa.attrs.get(key), fb.attrs.get(key)):
                problems.append(f"attractors.h5 attribute {key} differs")
    for name in FIGURES:
        if (a / name).read_bytes() != (b / name).read_bytes():
            problems.append(f"{name} differs")
    rows_a, rows_b = (list(csv.reader((d / "states.csv").read_text().splitlines())) for d in (a, b))
    if not (rows_a == rows_b or (tolerance > 0 and _close(rows_a, rows_b, tolerance))):
        problems.append("states.csv differs")
    doc_a, doc_b = (json.loads((d / "attractors.json").read_text()) for d in (a, b))
    for doc in (doc_a, doc_b):
        doc.pop("spikes_file", None)
    problems += [
        f"attractors.json key {k} differs"
        for k in sorted(set(doc_a) | set(doc_b))
        if not _close(doc_a.get(k), doc_b.get(k), tolerance)
    ]
    return problems


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.0, help="relative tolerance of floating-point numbers (default 0: equal)")
    args = parser.parse_args()
    found = compare(args.a, args.b, args.tolerance)
    same = "the same results" if not args.tolerance else f"the same results (numbers within {args.tolerance:g})"
    print(same if not found else "DIFFER: " + "; ".join(found))
    raise SystemExit(1 if found else 0)
