"""Checks that refuse a run before any time is spent on it.

NEST stores at most 2**27 - 2 connections per virtual process and synapse model; a network
that exceeds this aborts after minutes of connecting ("at most 134217726 connections supported
per virtual process and synapse model"). Full-scale PD14 (about 3e8 synapses) therefore needs
at least 3 virtual processes. These checks compute the load per virtual process from the
model's own counts and refuse with the number of virtual processes that would work.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

MAX_CONNECTIONS_PER_VP = 134_217_726  # per synapse model, NEST 3.x (2**27 - 2)


def max_connections_per_vp(total: int, n_vp: int) -> float:
    """A high estimate of the largest per-VP share of ``total`` connections.

    Neurons are dealt to virtual processes round-robin and connections live with their target,
    so each VP holds about ``total / n_vp``; random wiring adds binomial scatter, covered
    here by six standard deviations.
    """
    mean = total / n_vp
    return mean + 6.0 * math.sqrt(mean * (1.0 - 1.0 / n_vp)) if n_vp > 1 else float(total)


def min_virtual_processes(total: int) -> int:
    """Smallest number of virtual processes whose per-VP share stays under NEST's limit."""
    n_vp = max(1, math.ceil(total / MAX_CONNECTIONS_PER_VP))
    while max_connections_per_vp(total, n_vp) > MAX_CONNECTIONS_PER_VP:
        n_vp += 1
    return n_vp


def check_run(description: Mapping[str, Any], cfg: Mapping[str, Any]) -> None:
    """Refuse a run that NEST cannot complete as configured.

    Args:
        description: the model's ``describe()`` output (populations, connections per synapse model).
        cfg: the run's resolved config.

    Raises:
        ValueError: one sentence saying what is wrong and what would work.
    """
    sim = cfg["simulation"]
    n_vp = int(sim["ranks"]) * int(sim["threads"])
    empty = [p["name"] for p in description["populations"] if int(p["size"]) < 1]
    if empty:
        raise ValueError(
            f"population {empty[0]} has no neurons with these parameters (e.g. a scale too small); "
            "every population needs at least one"
        )
    n_neurons = sum(p["size"] for p in description["populations"])
    connections = dict(description["connections"])
    # one spike_recorder connection per neuron, static_synapse
    connections["static_synapse"] = connections.get("static_synapse", 0) + n_neurons
    for synapse_model, total in connections.items():
        if max_connections_per_vp(total, n_vp) > MAX_CONNECTIONS_PER_VP:
            need = min_virtual_processes(total)
            raise ValueError(
                f"{total:,} {synapse_model} connections need at least {need} virtual processes "
                f"(ranks x threads) to stay under NEST's limit of {MAX_CONNECTIONS_PER_VP:,} per "
                f"virtual process, but simulation.ranks x simulation.threads is {n_vp}"
            )
    resolution = float(sim["resolution"])
    tics = resolution / NEST_TIC_MS
    if resolution < NEST_TIC_MS or abs(tics - round(tics)) > 1e-6:
        raise ValueError(
            f"config key 'simulation.resolution' is {resolution} ms; NEST needs a multiple of its time step "
            f"(tic) of {NEST_TIC_MS} ms"
        )
    interval = float(sim["progress_interval"])
    chunks = (float(sim["t_presim"]) + float(sim["t_sim"])) / interval if interval > 0 else 1
    if chunks > MAX_CHUNKS:
        raise ValueError(
            f"config key 'simulation.progress_interval' ({sim['progress_interval']} ms) splits the run into "
            f"{chunks:,.0f} chunks (more than {MAX_CHUNKS:,}); choose a longer interval (or 0 for none)"
        )
    for key in ("t_presim", "t_sim", "progress_interval"):
        value = float(sim[key])
        steps = value / resolution
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(
                f"config key 'simulation.{key}' is {value} ms, not a multiple of the resolution {resolution} ms"
            )
    check_recording(description, cfg)


# NEST's default time step of its clock (ms_per_tic): every time is a whole number of tics.
NEST_TIC_MS = 0.001
# A run is advanced in at most this many chunks (progress lines, hooks, events).
MAX_CHUNKS = 1_000_000

# State recordings are held in memory (on the recording rank and once more gathered on rank 0).
MAX_STATE_BYTES = 2 * 1024**3


def check_recording(description: Mapping[str, Any], cfg: Mapping[str, Any]) -> None:
    """Refuse a state recording that names an unknown population or would not fit in memory."""
    rec = cfg.get("recording") or {}
    variables = rec.get("variables") or []
    if not variables:
        return
    sizes = {p["name"]: int(p["size"]) for p in description["populations"]}
    for name in rec.get("populations") or []:
        if name not in sizes:
            raise ValueError(f"config key 'recording.populations' names {name!r}, which is not a population ({', '.join(sizes)})")
    sim = cfg["simulation"]
    interval = float(rec.get("interval_ms", 1.0))
    steps = interval / float(sim["resolution"])
    if abs(steps - round(steps)) > 1e-6:
        raise ValueError(
            f"config key 'recording.interval_ms' is {interval} ms, not a multiple of the resolution {sim['resolution']} ms"
        )
    names = rec.get("populations") or list(sizes)
    neurons = sum(min(int(rec.get("neurons", 10)), sizes[n]) for n in names)
    samples = (float(sim["t_presim"]) + float(sim["t_sim"])) / interval
    need = 2 * 8 * samples * neurons * len(variables)
    if need > MAX_STATE_BYTES:
        raise ValueError(
            f"recording {len(variables)} variable(s) of {neurons:,} neurons every {interval} ms needs about "
            f"{need / 1024**3:.1f} GiB, more than the {MAX_STATE_BYTES / 1024**3:.0f} GiB allowed; record fewer neurons "
            "(recording.neurons) or a longer recording.interval_ms"
        )


# What a NEST probe asks (in a subprocess, so that the caller neither loads NEST nor initialises MPI).
NEST_BUILD_PROBE = "import json, nest; print(json.dumps(dict(nest.GetKernelStatus('build_info')), default=str))"
# Variables of an MPI launch or a Slurm job step that a probe must not inherit: a probe that
# initialises MPI with them takes the step's one PMI connection, and the job's own NEST then fails
# in MPI_Init ("Local abort before MPI_INIT completed"), as measured under srun.
LAUNCH_ENV_PREFIXES = ("PMI_", "PMIX_", "SLURM_", "OMPI_COMM_WORLD_", "OMPI_UNIVERSE_", "OMPI_FILE_LOCATION", "OMPI_MCA_ess", "OMPI_MCA_orte", "OMPI_MCA_pmix", "HYDRA_", "I_MPI_")


#: What a NEST process that no launcher started gets before ``import nest``. NEST built with MPI
#: starts MPI when it is imported; Open MPI then runs as a "singleton" with its own local PMIx
#: server, whose security component "munge" is tried first and, with no munge daemon running,
#: retried with back-off for 2.25 s before the built-in "native" one is taken (measured with
#: strace on this machine: ``import nest`` 3.02 s, with native at once 0.77 s). A singleton's
#: server and client are one user's processes on one host, which is what "native" checks.
SINGLETON_ENV = {"PMIX_MCA_psec": "native"}


def probe_env() -> dict[str, str]:
    """This process's environment without the MPI launcher's and the Slurm step's variables.

    The probe is a singleton that no launcher started, so it gets :data:`SINGLETON_ENV` (a value
    the user set is kept): 0.8 s instead of 3.1 s on a machine without a munge daemon.
    """
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(LAUNCH_ENV_PREFIXES)}
    env["PYNEST_QUIET"] = "1"
    for name, value in SINGLETON_ENV.items():
        env[name] = os.environ.get(name, value)
    return env


@lru_cache(maxsize=1)
def nest_build_info() -> dict[str, Any] | None:
    """NEST's ``build_info`` of the NEST importable here, or None if it cannot be imported.

    Asked in a subprocess with a clean environment (:func:`probe_env`), about a second, so that
    the caller (Snakemake building its DAG, ``spikeflow validate``, a job's own Snakemake under
    srun) neither loads NEST nor initialises MPI; once per process, and once per NEST build
    across processes through :mod:`spikeflow.probe_cache` (a few ms on a hit).
    """
    from spikeflow import probe_cache

    package = probe_cache.nest_package_dir()
    if package is None:
        return None
    key = probe_cache.build_key(package, NEST_BUILD_PROBE)
    info = probe_cache.load(key)
    if info is None:
        info = _probe_nest_build()
        probe_cache.store(key, info)
    return info


def _probe_nest_build() -> dict[str, Any] | None:
    """Run :data:`NEST_BUILD_PROBE` in a subprocess; its answer, or None if it fails."""
    import json
    import subprocess
    import sys

    try:
        proc = subprocess.run(
            [sys.executable, "-P", "-c", NEST_BUILD_PROBE], capture_output=True, text=True, timeout=120, check=False, env=probe_env()
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except ValueError:
        return None


def nest_has_mpi() -> bool | None:
    """Whether the NEST importable here was built with MPI (None if NEST cannot be imported)."""
    info = nest_build_info()
    return None if info is None else bool(info.get("have_mpi"))
