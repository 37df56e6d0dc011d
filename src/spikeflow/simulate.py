"""The one simulation driver: kernel, model build, presimulation, simulation, spikes to HDF5.

A model only says how to build its network (see :mod:`spikeflow.models`); the driver owns the
NEST kernel (threads, ranks, seed, resolution), the phase timers and memory probes, progress
output, spike recording and gathering, and the atomic write of the spikes file.
"""

from __future__ import annotations

import datetime as dt
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

import spikeflow
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.kernel import PhaseLog, kernel_timers, memory_now, setup_kernel
from spikeflow.models import get_model
from spikeflow.preflight import check_run

# The phases the driver times, in order (analyses and benchmarks read them by these names).
PHASES = ("create", "connect", "presimulate", "simulate")


class SimulationError(RuntimeError):
    """A run that cannot go on as configured (wrong launch, NEST limits, inconsistent counts)."""


def simulate(
    cfg: Mapping[str, Any],
    out: str | Path,
    *,
    run_id: str = "run",
    log: Callable[[str], None] | None = None,
) -> Path | None:
    """Run one resolved run config and write its spikes file.

    Args:
        cfg: a run's resolved config (see :func:`spikeflow.config.resolve_run`).
        out: the spikes file to write (``.h5``).
        run_id: the run's name, stored in the metadata.
        log: where progress lines go (default: stdout of rank 0).

    Returns:
        The spikes file on rank 0, None on other ranks.
    """
    sim = cfg["simulation"]
    model = get_model(cfg["model"])
    derived = model.params_from_config(cfg["params"])
    description = model.describe(derived)
    try:
        check_run(description, cfg)  # before any time is spent
    except ValueError as err:
        raise SimulationError(str(err)) from None

    import nest

    kernel = setup_kernel(nest, resolution=sim["resolution"], threads=sim["threads"], seed=sim["seed"])
    if kernel["num_ranks"] != sim["ranks"]:
        raise SimulationError(
            f"the config asks for {sim['ranks']} MPI ranks but NEST runs with {kernel['num_ranks']} "
            f"(launch with mpirun -n {sim['ranks']}, with NEST built with MPI)"
        )
    say = printer(log, kernel["rank"])
    say(
        f"{cfg['model']} run {run_id}: {sum(p['size'] for p in description['populations']):,} neurons, "
        f"{kernel['num_ranks']} rank(s) x {kernel['threads_per_rank']} thread(s), seed {kernel['seed']}"
    )
    memory = {"start": memory_now(nest)}
    phases = PhaseLog(nest)

    with phases.phase("create"):
        net = model.create(derived)
        recorders = {name: nest.Create("spike_recorder", params={"record_to": "memory"}) for name in net.populations}
    say(f"created in {phases.phases['create']['wall_s']:.1f} s")

    with phases.phase("connect"):
        model.connect(net, derived)
        for name, pop in net.populations.items():
            nest.Connect(pop, recorders[name])
        nest.Prepare()  # builds the presynaptic infrastructure, so "connect" holds all of construction
        nest.Cleanup()
    say(f"connected {nest.num_connections:,} synapses in {phases.phases['connect']['wall_s']:.1f} s")

    nest_spikes = {}
    t_start = 0.0
    for phase, key in (("presimulate", "t_presim"), ("simulate", "t_sim")):
        with phases.phase(phase):
            nest_spikes[phase] = run_in_chunks(
                nest, phase, float(sim[key]), float(sim["progress_interval"]), say, t_start=t_start, events=net.events
            )
        t_start += float(sim[key])

    collect_start = time.perf_counter()
    local = {name: local_spikes(rec, net.populations[name]) for name, rec in recorders.items()}
    rank_info = {
        "rank": kernel["rank"],
        "host": socket.gethostname(),
        "phases": phases.phases,
        "memory_start": memory["start"],
        "kernel": kernel_timers(nest),
        "spike_counts": {name: int(rec.n_events) for name, rec in recorders.items()},
        # NEST's own count of spikes emitted on this rank (all neurons, parrots included)
        "nest_spike_counter": nest_spikes,
    }
    gathered, per_rank = gather(local, rank_info, kernel["num_ranks"])
    if kernel["rank"] != 0:
        return None
    collect_s = time.perf_counter() - collect_start

    sizes = {p["name"]: p["size"] for p in description["populations"]}
    populations = [
        PopulationSpikes(name, sizes[name], ids.astype(np.uint64), times) for name, (ids, times) in gathered.items()
    ]
    counts = {p.name: p.n_spikes for p in populations}
    recorded = {name: sum(r["spike_counts"][name] for r in per_rank) for name in counts}
    if counts != recorded:
        raise SimulationError(f"gathered spike counts {counts} differ from the recorders' counts {recorded}")
    metadata = {
        "spikeflow_version": spikeflow.__version__,
        "nest_version": kernel["nest_version"],
        "python_version": platform.python_version(),
        "model": cfg["model"],
        "study": cfg.get("study", ""),
        "run_id": run_id,
        "seed": int(sim["seed"]),
        "num_ranks": kernel["num_ranks"],
        "threads_per_rank": kernel["threads_per_rank"],
        "virtual_processes": kernel["virtual_processes"],
        "resolution_ms": float(sim["resolution"]),
        "t_presim_ms": float(sim["t_presim"]),
        "t_sim_ms": float(sim["t_sim"]),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "populations": description["populations"],
        "reference_rates_hz": description.get("reference_rates_hz", {}),
        "spike_counts": counts,
        "num_connections": sum(int(r["kernel"].get("num_connections", 0)) for r in per_rank),
        "collect_s": collect_s,  # reading the recorders and gathering all ranks' spikes on rank 0
        "config": dict(cfg),
        "model_description": description,
        "per_rank": per_rank,
    }
    path = write_spikes(out, populations, metadata)
    total = sum(counts.values())
    say(f"wrote {total:,} spikes of {len(populations)} populations to {path} (collected in {collect_s:.2f} s)")
    return path


def run_in_chunks(
    nest: Any,
    label: str,
    duration: float,
    interval: float,
    say: Callable[[str], None],
    *,
    t_start: float = 0.0,
    events: Sequence[tuple[float, Callable[[], None]]] = (),
) -> int:
    """Advance the simulation by ``duration`` ms, printing progress every ``interval`` ms of model time.

    Args:
        nest: the NEST module.
        label: phase name for the progress lines.
        duration: model time to simulate, ms.
        interval: model time between progress lines, ms (0: no progress lines, one chunk).
        say: where progress lines go.
        t_start: model time at the start of this phase, ms.
        events: (model time in ms, action) pairs; an action runs when the simulation has
            reached its time (e.g. a parameter switched by a model); those outside
            ``(t_start, t_start + duration]`` are ignored.

    Returns:
        The spikes NEST counted on this rank over the whole duration (``local_spike_counter``
        covers only the last ``Run``, so it is summed over chunks).
    """
    if duration <= 0:
        return 0
    chunk = duration if interval <= 0 else min(interval, duration)
    ends = {min(chunk * k, duration) for k in range(1, int(np.ceil(duration / chunk - 1e-9)) + 1)} | {duration}
    pending = sorted(
        ((t - t_start, action) for t, action in events if 0.0 < t - t_start <= duration + 1e-9), key=lambda e: e[0]
    )
    ends |= {t for t, _ in pending}
    start = time.perf_counter()
    done = 0.0
    counted = 0
    nest.Prepare()
    try:
        for end in sorted(ends):
            step = end - done
            if step < 1e-9:
                continue
            nest.Run(step)
            counted += int(nest.local_spike_counter)
            done = end
            if pending and pending[0][0] <= done + 1e-9:
                # parameters set between Run calls reach devices and propagators only at the
                # next Prepare (measured: a poisson_generator keeps its old rate otherwise)
                nest.Cleanup()
                while pending and pending[0][0] <= done + 1e-9:
                    pending.pop(0)[1]()
                nest.Prepare()
            if interval > 0 and (abs(done / chunk - round(done / chunk)) < 1e-9 or done >= duration - 1e-9):
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (duration - done)
                say(
                    f"{label}: {done:8.1f} / {duration:.1f} ms ({100 * done / duration:3.0f} %), "
                    f"{elapsed:7.1f} s elapsed, {eta:7.1f} s to go, real-time factor {elapsed / done * 1000:.2f}"
                )
    finally:
        nest.Cleanup()
    return counted


def local_spikes(recorder: Any, population: Any) -> tuple[np.ndarray, np.ndarray]:
    """This rank's spikes of one population as (0-based node ids, times in ms)."""
    events = recorder.get("events")
    first = population[0].global_id
    senders = np.asarray(events["senders"], dtype=np.int64)
    return senders - first, np.asarray(events["times"], dtype=np.float64)


def gather(
    local: dict[str, tuple[np.ndarray, np.ndarray]], rank_info: dict[str, Any], num_ranks: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[dict[str, Any]]]:
    """Collect every rank's spikes and metadata on rank 0 (mpi4py); trivial on one rank."""
    if num_ranks == 1:
        return local, [rank_info]
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    all_local = comm.gather(local, root=0)
    all_info = comm.gather(rank_info, root=0)
    if comm.Get_rank() != 0:
        return {}, []
    merged = {
        name: (
            np.concatenate([part[name][0] for part in all_local]),
            np.concatenate([part[name][1] for part in all_local]),
        )
        for name in local
    }
    return merged, all_info


def printer(log: Callable[[str], None] | None, rank: int) -> Callable[[str], None]:
    def say(message: str) -> None:
        if rank != 0:
            return
        if log is not None:
            log(message)
        else:
            print(f"[spikeflow] {message}", file=sys.stdout, flush=True)

    return say
