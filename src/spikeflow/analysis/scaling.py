"""Scaling analysis: how wall time and real-time factor change with the virtual processes.

From the :func:`spikeflow.analysis.costs.run_costs` records of several runs,
:func:`group_repeats` merges repeats of one configuration (runs that differ only in the
seed) into mean and standard deviation, as beNNch reports them (Albers et al. 2022,
doi:10.3389/fninf.2022.837549). :func:`classify_series` decides from the data what the
configurations form:

* **strong** scaling: the same network (same neurons, connections within 1 %) on
  different numbers of virtual processes (VPs). Speed-up ``S = T_ref / T`` relative to the
  smallest VP count, parallel efficiency ``S / (vps / vps_ref)`` (:func:`strong_scaling`);
* **weak** scaling: networks that grow with the VPs, neurons per VP constant within 5 %.
  Efficiency ``T_ref / T`` (:func:`weak_scaling`);
* **mixed**: several networks, each of which on several VP counts forms its own strong
  series; **none**: a single VP count (or no rule fits), efficiency 1 for a single
  configuration and NaN otherwise.

``T`` is the real-time factor: wall time of the simulate phase (mean over ranks, then over
seeds) per second of model time, so runs of different lengths compare; the same ratios
for the total wall time (all phases, not normalised) are in the ``*_total`` columns.
:func:`scaling_csv` and :func:`scaling_document` shape the table for scaling.csv and
scaling.json; :mod:`spikeflow.tasks.scaling` reads the runs, writes those files and draws the
figures (:mod:`spikeflow.plots.scaling`).
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spikeflow.analysis.costs import PHASES, THREAD_REDUCTION

__all__ = [
    "CONFIG_KEYS",
    "COLUMNS",
    "WEAK_TOLERANCE",
    "CONNECTIONS_TOLERANCE",
    "group_repeats",
    "classify_series",
    "strong_scaling",
    "weak_scaling",
    "scaling_table",
    "scaling_csv",
    "scaling_document",
]

#: Fields that identify a configuration; runs equal in all of them are repeats (seeds).
CONFIG_KEYS = ("model", "network_key", "n_neurons", "ranks", "threads", "vps", "t_presim_s", "t_sim_s")
#: Neurons per VP may vary by this fraction (max / min - 1) in a weak-scaling series.
WEAK_TOLERANCE = 0.05
#: Connection counts of "the same network" may differ by this fraction (seed-dependent rules).
CONNECTIONS_TOLERANCE = 0.01

#: Fields copied from the records without averaging (constant within a configuration).
_IDENTITY = CONFIG_KEYS + ("study", "N_scaling", "K_scaling")
#: Fields never averaged.
_SKIP = set(_IDENTITY) | {"run_id", "seed", "nest_version"}

#: Columns of scaling.csv, in order (``*_sd``: standard deviation over seeds, ddof=1).
COLUMNS = [
    "series",
    "series_label",
    "reference",
    "model",
    "n_neurons",
    "n_connections",
    "N_scaling",
    "K_scaling",
    "ranks",
    "threads",
    "vps",
    "vps_ref",
    "neurons_per_vp",
    "n_seeds",
    "seeds",
    "run_ids",
    "t_sim_s",
    *[c for p in PHASES for c in (f"wall_{p}_s", f"wall_{p}_s_sd")],
    "wall_total_s",
    "wall_total_s_sd",
    "real_time_factor",
    "real_time_factor_sd",
    "speedup",
    "speedup_sd",
    "efficiency",
    "efficiency_sd",
    "speedup_total",
    "efficiency_total",
    "peak_rss_mb_max",
    "peak_rss_mb_sum",
    "nest_time_simulate_s",
    "nest_time_simulate_s_sd",
]


def _sd(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def group_repeats(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Merge runs of the same configuration (differing only in the seed).

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records.

    Returns:
        One dict per configuration (equal :data:`CONFIG_KEYS`), sorted by model, network
        size, VPs and ranks, with the identity fields, ``n_seeds``, ``seeds`` and
        ``run_ids`` (lists), ``nest_versions`` (sorted list), and for every other numeric
        field of the records its mean over the repeats under the same name and the sample
        standard deviation (ddof=1; NaN for a single run) as ``<name>_sd``. NaN values are
        left out of both.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(tuple(record.get(k) for k in CONFIG_KEYS), []).append(record)
    rows = []
    for members in groups.values():
        row: dict[str, Any] = {key: members[0].get(key) for key in _IDENTITY}
        row["n_seeds"] = len(members)
        row["seeds"] = [m.get("seed") for m in members]
        row["run_ids"] = [m.get("run_id") for m in members]
        row["nest_versions"] = sorted({str(m.get("nest_version", "")) for m in members})
        keys = dict.fromkeys(k for m in members for k in m)  # union, in first-seen order
        numeric = [k for k in keys if k not in _SKIP and all(_is_number(m.get(k)) or m.get(k) is None for m in members)]
        for key in numeric:
            values = np.array(
                [m.get(key) if _is_number(m.get(key)) else np.nan for m in members], dtype=float
            )
            row[key] = _mean(values)
            row[f"{key}_sd"] = _sd(values)
        if math.isfinite(row.get("n_connections", math.nan)) and float(row["n_connections"]).is_integer():
            row["n_connections"] = int(row["n_connections"])
        rows.append(row)
    rows.sort(key=lambda r: (r["model"], r["n_neurons"], r["vps"], r["ranks"]))
    return rows


def _spread(values: Sequence[float]) -> float:
    """max / min - 1 of positive values (inf if any is 0)."""
    values = np.asarray(values, dtype=float)
    return float(values.max() / values.min() - 1.0) if values.min() > 0 else math.inf


def _same_network(rows: Sequence[Mapping[str, Any]]) -> bool:
    if len({r["n_neurons"] for r in rows}) != 1:
        return False
    return _spread([max(float(r["n_connections"]), 1.0) for r in rows]) <= CONNECTIONS_TOLERANCE


def classify_series(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """What series a set of runs (or of :func:`group_repeats` rows) forms, and why.

    Args:
        rows: records or grouped rows; uses ``n_neurons``, ``n_connections`` and ``vps``.

    Returns:
        ``(kind, reason)``: kind is ``"strong"`` (same network, at least two VP counts),
        ``"weak"`` (at least two VP counts, neurons per VP within :data:`WEAK_TOLERANCE`,
        network size varying), ``"mixed"`` (several networks, none of the above for all
        together) or ``"none"`` (a single VP count); reason is one sentence for humans.

    Raises:
        ValueError: without rows.
    """
    if not rows:
        raise ValueError("no runs to classify")
    vps = sorted({int(r["vps"]) for r in rows})
    neurons = sorted({int(r["n_neurons"]) for r in rows})
    vps_text = ", ".join(map(str, vps))
    if len(vps) < 2:
        what = "one configuration" if len(rows) == 1 else f"{len(rows)} configurations"
        return "none", f"{what} on a single VP count ({vps_text} VP{'s' if vps[0] > 1 else ''}): no scaling series"
    if _same_network(rows):
        connections = max(int(round(float(r["n_connections"]))) for r in rows)
        return "strong", (
            f"the same network ({neurons[0]:,} neurons, {connections:,} connections) on {vps_text} VPs: "
            "strong scaling"
        )
    per_vp = [r["n_neurons"] / r["vps"] for r in rows]
    spread = _spread(per_vp)
    if len(neurons) > 1 and spread <= WEAK_TOLERANCE:
        reason = (
            f"{np.mean(per_vp):,.0f} neurons per VP (within {100 * spread:.1f} %) while the network grows "
            f"from {neurons[0]:,} to {neurons[-1]:,} neurons on {vps_text} VPs: weak scaling"
        )
        conn_spread = _spread([max(float(r["n_connections"]), 1.0) / r["vps"] for r in rows])
        if conn_spread > WEAK_TOLERANCE:
            reason += f" (connections per VP vary by {100 * conn_spread:.0f} %)"
        return "weak", reason
    return "mixed", (
        f"{len(neurons)} network sizes on {vps_text} VPs, neither one network nor constant neurons per VP "
        f"(neurons per VP vary by {100 * spread:.0f} %)"
    )


def _reference(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The configuration with the fewest VPs (ties: the fewest ranks)."""
    return min(rows, key=lambda r: (r["vps"], r["ranks"]))


def _ratio_sd(ratio: float, t_ref: float, sd_ref: float, t: float, sd: float) -> float:
    """First-order SD of a ratio of two independent means."""
    return abs(ratio) * math.sqrt((sd_ref / t_ref) ** 2 + (sd / t) ** 2)


def _scaling_rows(
    rows: Sequence[Mapping[str, Any]], kind: str, label: str, time_key: str = "real_time_factor"
) -> list[dict[str, Any]]:
    ref = _reference(rows)
    out = []
    for original in rows:
        is_ref = original is ref
        row = dict(original)
        ratio_vps = row["vps"] / ref["vps"]
        t_ref, t = ref[time_key], row[time_key]
        sd_ref, sd = ref.get(f"{time_key}_sd", math.nan), row.get(f"{time_key}_sd", math.nan)
        eff_total = ref["wall_total_s"] / row["wall_total_s"]
        if kind == "strong":
            speedup = t_ref / t
            efficiency = speedup / ratio_vps
            row["speedup_total"] = eff_total
            row["efficiency_total"] = eff_total / ratio_vps
        else:  # weak: the work per VP is constant, so ideally T stays constant
            speedup = math.nan
            efficiency = t_ref / t
            row["speedup_total"] = math.nan
            row["efficiency_total"] = eff_total
        row["speedup"] = speedup
        row["efficiency"] = efficiency
        if is_ref:
            row["speedup_sd"] = 0.0 if kind == "strong" else math.nan
            row["efficiency_sd"] = 0.0
        else:
            row["speedup_sd"] = _ratio_sd(speedup, t_ref, sd_ref, t, sd) if kind == "strong" else math.nan
            row["efficiency_sd"] = _ratio_sd(efficiency, t_ref, sd_ref, t, sd)
        row.update(series=kind, series_label=label, reference=bool(is_ref), vps_ref=ref["vps"])
        out.append(row)
    return out


def strong_scaling(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Speed-up and parallel efficiency of one network on different numbers of VPs.

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records of one network.

    Returns:
        The :func:`group_repeats` rows sorted by VPs, each with ``speedup = T_ref / T``,
        ``efficiency = speedup / (vps / vps_ref)`` (T: real-time factor, i.e. simulate-phase
        wall time per model second; ref: the fewest VPs, ties by fewest ranks), their first-order SDs ``speedup_sd`` and
        ``efficiency_sd`` (NaN with a single seed), the same for the total wall time
        (``speedup_total``, ``efficiency_total``), and ``series="strong"``,
        ``series_label``, ``reference`` (bool), ``vps_ref``.

    Raises:
        ValueError: if the records are not of one network.
    """
    rows = group_repeats(records)
    if not rows:
        raise ValueError("strong scaling needs at least one run")
    if not _same_network(rows):
        sizes = sorted({(r["n_neurons"], r["n_connections"]) for r in rows})
        raise ValueError(f"strong scaling needs one network, got (neurons, connections) {sizes}")
    return _scaling_rows(rows, "strong", f"{rows[0]['n_neurons']:,} neurons")


def weak_scaling(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Efficiency of networks that grow with the number of VPs.

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records whose neurons per VP
            agree within :data:`WEAK_TOLERANCE`.

    Returns:
        The :func:`group_repeats` rows sorted by VPs, each with ``efficiency = T_ref / T``
        (T: real-time factor; ref: the fewest VPs), ``efficiency_sd``,
        ``efficiency_total`` (from the total wall time), ``speedup`` NaN (undefined for a
        growing problem), and ``series="weak"``, ``series_label``, ``reference``,
        ``vps_ref``.

    Raises:
        ValueError: if neurons per VP vary by more than :data:`WEAK_TOLERANCE`.
    """
    rows = group_repeats(records)
    if not rows:
        raise ValueError("weak scaling needs at least one run")
    spread = _spread([r["n_neurons"] / r["vps"] for r in rows])
    if spread > WEAK_TOLERANCE:
        raise ValueError(
            f"weak scaling needs constant neurons per VP (within {100 * WEAK_TOLERANCE:g} %), "
            f"they vary by {100 * spread:.1f} %"
        )
    per_vp = np.mean([r["n_neurons"] / r["vps"] for r in rows])
    return _scaling_rows(rows, "weak", f"{per_vp:,.0f} neurons/VP")


def _no_series(rows: Sequence[Mapping[str, Any]], single: bool) -> list[dict[str, Any]]:
    """Rows outside any series: efficiency 1 if ``single`` (the only configuration), else NaN."""
    value = 1.0 if single else math.nan
    out = []
    for row in rows:
        row = dict(row)
        row.update(
            series="none",
            series_label="",
            reference=single,
            vps_ref=row["vps"] if single else None,
            speedup=value,
            efficiency=value,
            speedup_sd=math.nan,
            efficiency_sd=math.nan,
            speedup_total=value,
            efficiency_total=value,
        )
        out.append(row)
    return out


def scaling_table(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Classify the runs and compute the matching scaling metrics.

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records.

    Returns:
        ``{"series": kind, "reason": str, "rows": [...]}`` with kind as in
        :func:`classify_series`. For "mixed", every network run on at least two VP counts
        becomes its own strong series (``series_label`` names it) and the other rows get
        series "none" with NaN efficiency.
    """
    rows = group_repeats(records)
    kind, reason = classify_series(rows)
    if kind == "strong":
        table = strong_scaling(records)
    elif kind == "weak":
        table = weak_scaling(records)
    elif kind == "none":
        table = _no_series(rows, single=len(rows) == 1)
    else:
        table = []
        networks: dict[tuple, list[Mapping[str, Any]]] = {}
        for record in records:
            networks.setdefault((record["model"], record["network_key"], record["n_neurons"]), []).append(record)
        strong_sizes = []
        for members in networks.values():
            if len({m["vps"] for m in members}) > 1 and _same_network(group_repeats(members)):
                table.extend(strong_scaling(members))
                strong_sizes.append(members[0]["n_neurons"])
            else:
                table.extend(
                    {**row, "series_label": f"{row['n_neurons']:,} neurons (no series)"}
                    for row in _no_series(group_repeats(members), single=False)
                )
        if strong_sizes:
            sizes = ", ".join(f"{n:,}" for n in sorted(strong_sizes))
            reason += f"; strong scaling per network for {sizes} neurons"
        table.sort(key=lambda r: (r["series"] == "none", r["n_neurons"], r["vps"], r["ranks"]))
    return {"series": kind, "reason": reason, "rows": table}


def _csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("seeds", "run_ids"):
        out[key] = ";".join(str(v) for v in row.get(key, []))
    return out


def scaling_csv(rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows and columns of scaling.csv.

    Args:
        rows: the rows of :func:`scaling_table`.

    Returns:
        ``(rows, columns)``: one row per configuration with lists (seeds, run ids) joined by
        ";"; the columns are :data:`COLUMNS` plus ``<timer>`` and ``<timer>_sd`` for every
        other NEST timer found (``nest_time_*_s``).
    """
    timers = sorted({k for r in rows for k in r if k.startswith("nest_time_") and k.endswith("_s")})
    columns = COLUMNS + [c for t in timers for c in (t, f"{t}_sd") if c not in COLUMNS]
    return [_csv_row(r) for r in rows], columns


def scaling_document(
    table: Mapping[str, Any], records: Sequence[Mapping[str, Any]], spikes_files: Sequence[str | os.PathLike] = ()
) -> dict[str, Any]:
    """The scaling.json document of a scaling analysis.

    Args:
        table: the result of :func:`scaling_table`.
        records: the :func:`spikeflow.analysis.costs.run_costs` records it was computed from.
        spikes_files: the runs' spikes files, as the document names them.

    Returns:
        ``{"series", "reason", "reference": {"vps", "ranks", "threads", "n_neurons"} or
        None, "time_measure", "notes": {...}, "rows": [all grouped fields], "runs":
        [records], "spikes_files": [...]}`` (NaN still NaN; the writer turns it into null).
    """
    rows = table["rows"]
    refs = [r for r in rows if r.get("reference")]
    return {
        "series": table["series"],
        "reason": table["reason"],
        "reference": (
            {k: refs[0][k] for k in ("vps", "ranks", "threads", "n_neurons")} if len(refs) == 1 else None
        ),
        "time_measure": (
            "real_time_factor: wall-clock time of the simulate phase (mean over ranks) per second of model "
            "time, mean over seeds"
        ),
        "notes": {
            "ranks": "times are averaged over MPI ranks, memory and counts summed (beNNch)",
            "seeds": "mean and sample SD (ddof=1, null for a single seed) over repeats of a configuration",
            "nest_timers": THREAD_REDUCTION,
            "time_simulate": "NEST's time_simulate covers only the last nest.Run of a chunked simulation",
            "memory": "MB = kB / 1024",
        },
        "rows": rows,
        "runs": list(records),
        "spikes_files": [str(p) for p in spikes_files],
    }

