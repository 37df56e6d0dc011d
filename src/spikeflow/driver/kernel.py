"""NEST kernel setup and the probes the driver reads between phases: wall time, memory, kernel timers."""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

# Kernel status entries kept in the run metadata besides every "time_*" timer.
KERNEL_COUNTERS = ("num_connections", "network_size", "local_spike_counter", "biological_time", "min_delay", "max_delay")


def setup_kernel(nest: Any, *, resolution: float, threads: int, seed: int) -> dict[str, Any]:
    """Reset NEST and set resolution (ms), threads per rank and the RNG seed.

    Returns:
        What the kernel reports back: ranks, threads, virtual processes, seed, build info.
    """
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    else:
        nest.set_verbosity("M_WARNING")
    nest.ResetKernel()
    nest.SetKernelStatus(
        {"resolution": resolution, "local_num_threads": threads, "rng_seed": seed, "print_time": False}
    )
    build = nest.GetKernelStatus("build_info")
    return {
        "num_ranks": nest.NumProcesses(),
        "rank": nest.Rank(),
        "threads_per_rank": nest.local_num_threads,
        "virtual_processes": nest.total_num_virtual_procs,
        "seed": nest.rng_seed,
        "have_mpi": bool(build.get("have_mpi", False)),
        "nest_version": build.get("version", getattr(nest, "__version__", "unknown")),
    }


def memory_now(nest: Any) -> dict[str, int]:
    """Memory of this process, kB: NEST's VmSize (``memory_size``) and the peak resident set."""
    try:
        vmsize = int(nest.memory_size)
    except Exception:  # NEST < 3.10 has no memory_size
        vmsize = -1
    return {"vmsize_kb": vmsize, "peak_rss_kb": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


def kernel_timers(nest: Any) -> dict[str, Any]:
    """All ``time_*`` kernel timers (scalars, or per-thread lists since NEST 3.9) and a few counters."""
    status = nest.GetKernelStatus()
    keep = {k: v for k, v in status.items() if k.startswith("time_") or k in KERNEL_COUNTERS}
    return {k: (list(v) if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else v) for k, v in keep.items()}


@dataclass
class PhaseLog:
    """Wall-clock time and memory at the end of each phase of one rank.

    A name used again (several phases of one kind, e.g. the three simulated phases of a
    sequence run) adds its wall time; the memory is that at the end of the latest.

    Attributes:
        phases: phase name -> {"wall_s": seconds, "vmsize_kb": ..., "peak_rss_kb": ...}.
    """

    nest: Any
    phases: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        before = self.phases.get(name, {}).get("wall_s", 0.0)
        self.phases[name] = {"wall_s": before + time.perf_counter() - start, **memory_now(self.nest)}
