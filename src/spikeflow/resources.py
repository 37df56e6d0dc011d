"""What a run asks of the machine or the scheduler, and the per-run options the rules pass on.

Memory comes from the memory model fitted by ``spikeflow analyze memory`` on the runs of
``workflow/config/memory.yaml`` (shipped as ``spikeflow/models/memory_model.json``: peak memory
per rank = a + b x neurons per rank + c x connections per rank); runtime from a calibrated
first-order estimate. They set Snakemake's ``mem_mb`` and ``runtime`` so that Slurm gets
realistic requests and a run that cannot fit is refused before it is queued.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from importlib import resources
from typing import Any

from spikeflow.models import get_model

# First-order memory model of NEST 3.10, used when no fitted model ships:
BASE_MB = 400.0  # Python + NEST kernel per rank
BYTES_PER_CONNECTION = 48.0  # static_synapse with target and delay bookkeeping, incl. construction peak
BYTES_PER_NEURON = 1500.0  # iaf_psc_exp state, buffers and recorder events
HEADROOM = 1.15  # a job asks for 15 % more than the estimate: Slurm kills a job over its --mem
# Threads per node may exceed its cores by at most this factor (one thread per core is fastest;
# full-scale PD14 needs 4 virtual processes, which a 2-core machine runs oversubscribed).
OVERSUBSCRIBE = 2


def describe_run(run_config: dict[str, Any]) -> dict[str, Any]:
    """The model's description (sizes, connection counts) of a resolved run config."""
    model = get_model(run_config["model"])
    return model.describe(model.params_from_config(run_config["params"]))


@lru_cache(maxsize=1)
def shipped_memory_model() -> Any:
    """The memory model fitted on this project's reference machine, or None if none ships."""
    path = resources.files("spikeflow").joinpath("models/memory_model.json")
    if not path.is_file():
        return None
    from spikeflow.analysis.memory import MemoryModel

    return MemoryModel.from_dict(json.loads(path.read_text()))


def estimate_memory_mb(description: dict[str, Any], ranks: int) -> int:
    """Memory to request for the whole job (all ranks), MB: the estimated peak plus headroom.

    Uses the shipped fitted memory model (MB per rank, times ranks); without one, the
    first-order constants above. Measured: full-scale PD14 peaks at 14,442 MiB on NEST 3.10
    (bench/README.md).
    """
    neurons = sum(p["size"] for p in description["populations"])
    connections = sum(description["connections"].values()) + neurons  # + recorder connections
    model = shipped_memory_model()
    if model is not None:
        peak = ranks * float(model.predict_mb(neurons, connections, ranks))
    else:
        peak = ranks * BASE_MB + (connections * BYTES_PER_CONNECTION + neurons * BYTES_PER_NEURON) / 1e6
    return int(math.ceil(HEADROOM * peak))


def estimate_runtime_min(description: dict[str, Any], sim: dict[str, Any]) -> int:
    """Generous wall-time estimate in minutes: three times the expected time, at least 10.

    Calibrated on full-scale PD14 with NEST 3.10 on 2 cores (bench/README.md): connecting costs
    about 0.8 us per connection and core, simulating about 1.2 us per connection, core and
    second of model time. Virtual processes are taken as cores.
    """
    connections = sum(description["connections"].values())
    vps = int(sim["ranks"]) * int(sim["threads"])
    model_seconds = (float(sim["t_presim"]) + float(sim["t_sim"])) / 1000.0
    seconds = connections * (0.8e-6 + 1.2e-6 * model_seconds) / vps
    return int(max(10, math.ceil(3 * seconds / 60.0)))


def run_resources(run: Any) -> dict[str, int]:
    """Snakemake resources of one run's simulate job: ``mem_mb`` and ``runtime`` (minutes).

    The config's ``resources.mem_mb`` and ``resources.runtime`` replace the estimates.
    """
    description = describe_run(run.config)
    sim = run.config["simulation"]
    given = run.config.get("resources", {})
    return {
        "mem_mb": int(given.get("mem_mb") or estimate_memory_mb(description, int(sim["ranks"]))),
        "runtime": int(given.get("runtime") or estimate_runtime_min(description, sim)),
    }


def machine_memory_mb() -> int:
    """Physical memory of this machine in MB."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e6)


def check_fits(run: Any, resources: dict[str, int]) -> None:
    """Refuse a run whose memory request or cores exceed what its nodes have.

    Raises:
        ConfigError: one sentence with the estimate, the nodes' memory and what to change.
    """
    from spikeflow.config import ConfigError

    given = run.config.get("resources", {})
    node_mb = int(given.get("node_memory_mb") or machine_memory_mb())
    nodes = int(given.get("nodes", 1))
    if resources["mem_mb"] > node_mb * nodes:
        source = "requests" if given.get("mem_mb") else "needs an estimated"
        raise ConfigError(
            f"run {run.run_id} {source} {resources['mem_mb']:,} MB of memory, more than its "
            f"{nodes} node(s) of {node_mb:,} MB (resources.node_memory_mb); use a smaller network, "
            "more nodes (resources.nodes, with simulation.ranks), or a bigger node"
        )
    cores = int(given.get("node_cores") or os.cpu_count() or 1)
    sim = run.config["simulation"]
    per_node = -(-int(sim["ranks"]) // nodes) * int(sim["threads"])  # ranks spread over the nodes
    if per_node > OVERSUBSCRIBE * cores:
        raise ConfigError(
            f"run {run.run_id} asks for {per_node} threads per node (simulation.ranks x simulation.threads over "
            f"{nodes} node(s)), more than {OVERSUBSCRIBE} x the {cores} cores its nodes have (resources.node_cores); "
            "use fewer threads or ranks, or more nodes"
        )


def analysis_flags(run: Any, analysis: str, exclude: tuple[str, ...] = ("enabled", "group_by")) -> list[str]:
    """Command-line arguments of ``spikeflow analyze <analysis>`` from the run's ``analysis.<analysis>`` options.

    Returns a list (``["--bin-ms", "5.0", ...]``), which a rule passes as ``{params.flags:q}``, so
    Snakemake quotes every element: no config value reaches the shell unquoted.
    """
    options = run.config.get("analysis", {}).get(analysis, {})
    flags: list[str] = []
    for key, value in options.items():
        if key not in exclude:
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


def rates_flags(run: Any) -> list[str]:
    """Command-line arguments of ``spikeflow analyze rates`` from the run's ``analysis.rates`` options."""
    return analysis_flags(run, "rates")


def group_by_flags(group_by: str) -> list[str]:
    """``["--group-by", path]`` for the attractor summary, or nothing when the path is inferred (empty)."""
    return ["--group-by", group_by] if group_by else []


def study_resources(study: Any) -> dict[str, dict[str, int]]:
    """Resources of every run of a study, each checked to fit its nodes.

    Returns:
        run id -> {"mem_mb", "runtime"}.

    Raises:
        ConfigError: for the first run that does not fit.
    """
    planned = {run.run_id: run_resources(run) for run in study.runs}
    for run in study.runs:
        check_fits(run, planned[run.run_id])
    return planned
