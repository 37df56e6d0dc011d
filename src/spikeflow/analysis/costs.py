"""What one run cost: wall time per phase, real-time factor, NEST timers and memory.

:func:`run_costs` turns the metadata of one spikes file (see :mod:`spikeflow.driver.run`)
into one flat record, the unit of the scaling and memory analyses. Reductions across MPI
ranks follow beNNch (Albers et al. 2022, doi:10.3389/fninf.2022.837549): times are
averaged over ranks (the maximum over ranks is kept beside the mean), memory and counts
are summed over ranks (the largest rank is kept beside the sum).

The driver's phase wall times (``time.perf_counter`` around create, connect, presimulate
and simulate) are the primary numbers. NEST's own ``time_*`` timers are extra detail:
``time_simulate`` covers only the last ``nest.Run`` of a chunked simulation, and since
NEST 3.9 several timers are per-thread lists, which :func:`reduce_timer` reduces by their
maximum, the thread on the critical path, before averaging over ranks.

Units: times in s (wall clock, except ``t_*_s``, which are model time), memory in MB
(``kB / 1024``; :data:`KB_PER_MB`).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np

from spikeflow.driver.phases import PHASES

__all__ = [
    "PHASES",
    "MEMORY_POINTS",
    "KB_PER_MB",
    "THREAD_REDUCTION",
    "reduce_timer",
    "run_costs",
    "kb_to_mb",
    "memory_probe",
]

#: The driver's phases, in order.
#: Points at which memory is probed: before the network ("start"), then after each phase.
MEMORY_POINTS = ("start",) + PHASES
#: Memory in the metadata is in kB; records are in MB = kB / KB_PER_MB.
KB_PER_MB = 1024.0
#: How per-thread NEST timers are reduced to one number per rank (then averaged over ranks).
THREAD_REDUCTION = "max over threads (the critical path), then mean over ranks"


def reduce_timer(value: Any) -> float:
    """One number (s) from a NEST timer that is a scalar or a per-thread list.

    Since NEST 3.9 some timers (``time_update``, ``time_deliver_spike_data``,
    ``time_communicate_prepare``, ...) hold one value per thread. Threads wait for each
    other at every synchronisation point, so the slowest thread sets the pace: lists are
    reduced by their maximum.

    Args:
        value: a number, a sequence of numbers (one per thread), or None.

    Returns:
        The value (scalar), the maximum (list), or NaN for None, an empty list or a value
        that is not a number.
    """
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value, dtype=float).ravel()
        return float(values.max()) if values.size else math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _mean(values: Sequence[float]) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.mean()) if values.size else math.nan


def _max(values: Sequence[float]) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.max()) if values.size else math.nan


def _sum(values: Sequence[float]) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.sum()) if values.size else math.nan


def kb_to_mb(value: Any) -> float:
    """A memory probe in kB as MB (``kB / KB_PER_MB``).

    Args:
        value: the probe in kB (number or None).

    Returns:
        The value in MB; NaN for a missing (None) or negative probe (NEST < 3.10 has no
        VmSize and reports it as negative).
    """
    if value is None:
        return math.nan
    value = float(value)
    return value / KB_PER_MB if value >= 0 else math.nan


def network_key(metadata: Mapping[str, Any]) -> str:
    """A short fingerprint of the network a run simulated: model and model parameters.

    Runs with the same key simulate the same network (up to the seed), whatever their
    ranks, threads, seed or simulated time. Without a config in the metadata the key falls
    back to the model name and population sizes.
    """
    params = (metadata.get("config") or {}).get("params")
    if params is None:
        params = {"populations": metadata.get("populations", [])}
    text = json.dumps([metadata.get("model", ""), params], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _n_connections(metadata: Mapping[str, Any], n_neurons: int) -> int:
    """Total synapses incl. devices, summed over ranks (``num_connections``), with fallbacks."""
    if metadata.get("num_connections") is not None:
        return int(metadata["num_connections"])
    per_rank = [r.get("kernel", {}).get("num_connections") for r in metadata.get("per_rank", [])]
    if per_rank and all(v is not None for v in per_rank):
        return int(sum(per_rank))
    description = metadata.get("model_description") or {}
    if description.get("connections"):
        return int(sum(description["connections"].values())) + n_neurons  # + recorders
    return 0


def run_costs(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """One flat record of what a run cost, from the metadata of its spikes file.

    Args:
        metadata: the run metadata (:func:`spikeflow.io.spikes.read_metadata`).

    Returns:
        A flat dict (scalars only) with:

        * identity: ``run_id``, ``model``, ``study``, ``seed``, ``nest_version``,
          ``network_key`` (see :func:`network_key`);
        * parallelism: ``ranks``, ``threads`` (per rank), ``vps`` (virtual processes);
        * size: ``n_neurons`` (sum of population sizes, devices excluded),
          ``n_connections`` (all synapses incl. device connections, summed over ranks),
          ``neurons_per_vp``, ``connections_per_vp``, ``neurons_per_rank``,
          ``connections_per_rank``, ``N_scaling``, ``K_scaling`` (None unless the config's
          params have them);
        * model time: ``t_presim_s``, ``t_sim_s`` (s of model time);
        * wall time: ``wall_<phase>_s`` (mean over ranks) and ``wall_<phase>_s_max`` (max
          over ranks) for every phase in :data:`PHASES`, ``wall_total_s`` (sum of the phase
          means), ``wall_construction_s`` (create + connect), ``wall_collect_s`` and
          ``wall_write_s`` (gathering the spikes on rank 0 and writing the file, from the
          metadata's ``collect_s`` / ``write_s``; NaN if absent);
        * ``real_time_factor``: ``wall_simulate_s / t_sim_s`` (NaN if ``t_sim_s`` is 0),
          ``real_time_factor_max`` from ``wall_simulate_s_max``, and
          ``presim_real_time_factor``: ``wall_presimulate_s / t_presim_s``;
        * NEST timers: ``nest_<timer>_s`` for every ``time_*`` key of any rank, each reduced
          over threads by :func:`reduce_timer` (maximum, see :data:`THREAD_REDUCTION`) and
          then averaged over ranks (ranks without the timer are left out);
        * counts: ``n_spikes`` (spikes in the file), ``nest_spikes_simulate`` and
          ``nest_spikes_presimulate`` (NEST's spike counters, summed over ranks),
          ``nest_num_connections`` (sum over ranks);
        * memory (MB) at each point of :data:`MEMORY_POINTS`:
          ``mem_<point>_peak_rss_mb_sum`` / ``_max`` and ``mem_<point>_vmsize_mb_sum`` /
          ``_max`` (sum over ranks / largest rank; NaN where a rank has no probe), and
          overall ``peak_rss_mb_max`` (the largest peak resident set of any rank),
          ``peak_rss_mb_sum`` (sum over ranks of each rank's peak), ``peak_rss_mb_mean``
          (``peak_rss_mb_sum / ranks``), ``vmsize_mb_max``, ``vmsize_mb_sum`` likewise.
    """
    config = metadata.get("config") or {}
    params = config.get("params") or {}
    per_rank = list(metadata.get("per_rank") or [])
    ranks = int(metadata.get("num_ranks") or len(per_rank) or 1)
    threads = int(metadata.get("threads_per_rank") or 1)
    vps = int(metadata.get("virtual_processes") or ranks * threads)
    n_neurons = int(sum(int(p["size"]) for p in metadata.get("populations", [])))
    n_connections = _n_connections(metadata, n_neurons)
    t_presim_s = float(metadata.get("t_presim_ms", 0.0)) / 1000.0
    t_sim_s = float(metadata.get("t_sim_ms", 0.0)) / 1000.0

    record: dict[str, Any] = {
        "run_id": str(metadata.get("run_id", "")),
        "model": str(metadata.get("model", "")),
        "study": str(metadata.get("study", "")),
        "seed": None if metadata.get("seed") is None else int(metadata["seed"]),
        "nest_version": str(metadata.get("nest_version", "")),
        "network_key": network_key(metadata),
        "ranks": ranks,
        "threads": threads,
        "vps": vps,
        "n_neurons": n_neurons,
        "n_connections": n_connections,
        "neurons_per_vp": n_neurons / vps,
        "connections_per_vp": n_connections / vps,
        "neurons_per_rank": n_neurons / ranks,
        "connections_per_rank": n_connections / ranks,
        "N_scaling": None if params.get("N_scaling") is None else float(params["N_scaling"]),
        "K_scaling": None if params.get("K_scaling") is None else float(params["K_scaling"]),
        "t_presim_s": t_presim_s,
        "t_sim_s": t_sim_s,
    }

    for phase in PHASES:
        walls = [r["phases"][phase]["wall_s"] for r in per_rank if phase in r.get("phases", {})]
        record[f"wall_{phase}_s"] = _mean(walls)
        record[f"wall_{phase}_s_max"] = _max(walls)
    record["wall_total_s"] = float(sum(record[f"wall_{p}_s"] for p in PHASES))
    record["wall_construction_s"] = record["wall_create_s"] + record["wall_connect_s"]
    for key in ("collect_s", "write_s"):  # rank 0 only, after the phases; absent in older files
        record[f"wall_{key}"] = float(metadata[key]) if metadata.get(key) is not None else math.nan
    record["real_time_factor"] = record["wall_simulate_s"] / t_sim_s if t_sim_s > 0 else math.nan
    record["real_time_factor_max"] = record["wall_simulate_s_max"] / t_sim_s if t_sim_s > 0 else math.nan
    record["presim_real_time_factor"] = (
        record["wall_presimulate_s"] / t_presim_s if t_presim_s > 0 else math.nan
    )

    timers = sorted({k for r in per_rank for k in r.get("kernel", {}) if k.startswith("time_")})
    for timer in timers:
        values = [reduce_timer(r["kernel"][timer]) for r in per_rank if timer in r.get("kernel", {})]
        record[f"nest_{timer}_s"] = _mean(values)

    record["n_spikes"] = int(sum((metadata.get("spike_counts") or {}).values()))
    for phase in ("presimulate", "simulate"):
        counts = [r.get("nest_spike_counter", {}).get(phase) for r in per_rank]
        counts = [c for c in counts if c is not None]
        record[f"nest_spikes_{phase}"] = int(sum(counts)) if counts else None
    kernel_connections = [r.get("kernel", {}).get("num_connections") for r in per_rank]
    kernel_connections = [c for c in kernel_connections if c is not None]
    record["nest_num_connections"] = int(sum(kernel_connections)) if kernel_connections else None

    record.update(_memory(per_rank, ranks))
    return record


def _memory(per_rank: list[Mapping[str, Any]], ranks: int) -> dict[str, float]:
    """Memory columns of :func:`run_costs` (MB)."""
    out: dict[str, float] = {}
    for kind in ("peak_rss", "vmsize"):
        # table[rank, point] in MB, NaN where a probe is missing or negative
        table = np.array(
            [[kb_to_mb(memory_probe(rank, point).get(f"{kind}_kb")) for point in MEMORY_POINTS] for rank in per_rank],
            dtype=float,
        ).reshape(len(per_rank), len(MEMORY_POINTS))
        for j, point in enumerate(MEMORY_POINTS):
            out[f"mem_{point}_{kind}_mb_sum"] = _sum(table[:, j])
            out[f"mem_{point}_{kind}_mb_max"] = _max(table[:, j])
        # each rank's peak over its probes (NaN only if the rank has no probe at all)
        peaks = [float(np.nanmax(row)) if np.isfinite(row).any() else math.nan for row in table]
        out[f"{kind}_mb_max"] = _max(peaks)
        out[f"{kind}_mb_sum"] = _sum(peaks)
    out["peak_rss_mb_mean"] = out["peak_rss_mb_sum"] / ranks if per_rank else math.nan
    return out


def memory_probe(rank: Mapping[str, Any], point: str) -> Mapping[str, Any]:
    """The memory probe of one rank at one point.

    Args:
        rank: one entry of the metadata's ``per_rank`` list.
        point: one of :data:`MEMORY_POINTS`: "start" (``memory_start``, before the
            network) or a phase (its entry in ``phases``, after the phase).

    Returns:
        The probe (keys ``peak_rss_kb``, ``vmsize_kb``, in kB), empty if missing.
    """
    if point == "start":
        return rank.get("memory_start") or {}
    return (rank.get("phases") or {}).get(point) or {}

