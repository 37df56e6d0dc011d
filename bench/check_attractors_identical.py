"""Whether two ``spikeflow analyze attractors`` output directories hold the same results.

Compared: every dataset and attribute of ``attractors.h5`` (the analysed file's name excepted),
``states.csv`` and the three PNGs byte for byte, ``attractors.json`` key by key (the analysed
file's name excepted). Usage: ``python bench/check_attractors_identical.py DIR_A DIR_B``
(exit status 1 if they differ).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIGURES = ("cluster_rates.png", "state_sequence.png", "transition_matrix.png")


def compare(a: Path, b: Path) -> list[str]:
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
                if np.shape(x) != np.shape(y) or not np.array_equal(x, y, equal_nan=np.asarray(x).dtype.kind in "fc"):
                    problems.append(f"attractors.h5 dataset {name} differs")
        for key in set(fa.attrs) | set(fb.attrs):
            if key != "spikes_file" and not np.array_equal(fa.attrs.get(key), fb.attrs.get(key)):
                problems.append(f"attractors.h5 attribute {key} differs")
    for name in ("states.csv", *FIGURES):
        if (a / name).read_bytes() != (b / name).read_bytes():
            problems.append(f"{name} differs")
    doc_a, doc_b = (json.loads((d / "attractors.json").read_text()) for d in (a, b))
    for doc in (doc_a, doc_b):
        doc.pop("spikes_file", None)
    problems += [f"attractors.json key {k} differs" for k in sorted(set(doc_a) | set(doc_b)) if doc_a.get(k) != doc_b.get(k)]
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("the same results" if not found else "DIFFER: " + "; ".join(found))
    sys.exit(1 if found else 0)
