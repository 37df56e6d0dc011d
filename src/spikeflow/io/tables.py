"""Write analysis tables: CSV and strict JSON, each file atomically.

One implementation for every analysis (rates, scaling, memory):

* :func:`to_json_value` turns numpy scalars and arrays into Python values and NaN/inf into
  None, so that the result is strict JSON;
* :func:`rows_to_csv` renders rows (mappings) as CSV text under a given header, with
  empty cells for None and NaN and floats written by ``repr`` (round-trip exact);
* :func:`write_csv` and :func:`write_json` write those to a file through
  :func:`spikeflow.io.atomic.atomic_path` (temporary name beside the target, then
  ``os.replace``), so a killed job never leaves a half-written table.

Values keep their units; the column names say them (``*_s``, ``*_mb``, ``*_hz``, ...).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spikeflow.io.atomic import atomic_path

__all__ = ["to_json_value", "rows_to_csv", "write_csv", "write_json"]


def to_json_value(value: Any) -> Any:
    """Recursively convert numpy scalars/arrays to Python and NaN/inf to None.

    Args:
        value: a scalar, mapping, list, tuple or numpy array, nested to any depth.

    Returns:
        The same structure with mappings as dicts (keys as str), sequences and arrays as
        lists, numpy scalars as Python scalars and non-finite floats as None.
    """
    kind = type(value)  # exact types first: a large table is millions of these calls
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int or kind is str or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [to_json_value(v) for v in value]
    if kind is np.ndarray and value.dtype.kind in "iub":
        return value.tolist()  # integers and booleans are finite: Python scalars directly
    if kind is np.ndarray and value.dtype.kind == "f" and value.size and bool(np.isfinite(value).all()):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_cell(value: Any) -> Any:
    """One CSV cell: "" for None and NaN/inf, ``repr`` of floats, numpy scalars as Python."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(value) else ""
    if isinstance(value, np.generic):
        return value.item()
    return value


def rows_to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text with header ``columns``.

    Args:
        rows: one mapping per line; keys missing from a row give empty cells, keys not in
            ``columns`` are left out.
        columns: the header, in order.

    Returns:
        The CSV text (``\\n`` line ends, trailing newline); None and NaN are empty cells,
        floats are written by ``repr``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key in columns])
    return buffer.getvalue()


def write_csv(
    path: str | os.PathLike, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]
) -> Path:
    """Write :func:`rows_to_csv` atomically to ``path`` (UTF-8; parent directories created).

    Returns:
        The path written.
    """
    text = rows_to_csv(rows, columns)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, document: Any) -> Path:
    """Write ``document`` as strict JSON atomically to ``path``.

    The document goes through :func:`to_json_value` (NaN and inf as null, numpy as
    Python) and is written with ``allow_nan=False``, an indent of 2 and a trailing
    newline (UTF-8; parent directories created).

    Returns:
        The path written.
    """
    text = json.dumps(to_json_value(document), indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def format_cell(value: Any, spec: str, missing: str = "-") -> str:
    """``format(value, spec)`` for a table cell; ``missing`` for None, NaN and infinities."""
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return missing
    return format(value, spec)
