"""What a run asks of the machine or the scheduler, and the per-run options the rules pass on.

Estimates are deliberately simple first-order models (refined by the memory analysis of
issue 4); they set Snakemake's ``mem_mb`` and ``runtime`` so that Slurm gets realistic
requests and a run that cannot fit is refused before it is queued.
"""

from __future__ import annotations

import math
from typing import Any

from spikeflow.models import get_model

# First-order memory model of NEST 3.10 (measured on PD14, see bench/README.md):
BASE_MB = 400.0  # Python + NEST kernel per rank
BYTES_PER_CONNECTION = 48.0  # static_synapse with target and delay bookkeeping, incl. construction peak
BYTES_PER_NEURON = 1500.0  # iaf_psc_exp state, buffers and recorder events


def describe_run(run_config: dict[str, Any]) -> dict[str, Any]:
    """The model's description (sizes, connection counts) of a resolved run config."""
    model = get_model(run_config["model"])
    return model.describe(model.params_from_config(run_config["params"]))


def estimate_memory_mb(description: dict[str, Any], ranks: int) -> int:
    """Peak memory of the whole job (all ranks), MB."""
    neurons = sum(p["size"] for p in description["populations"])
    connections = sum(description["connections"].values()) + neurons  # + recorder connections
    return int(math.ceil(ranks * BASE_MB + (connections * BYTES_PER_CONNECTION + neurons * BYTES_PER_NEURON) / 1e6))


def estimate_runtime_min(description: dict[str, Any], sim: dict[str, Any]) -> int:
    """Generous wall-time estimate in minutes: construction plus simulation, at least 10."""
    connections = sum(description["connections"].values())
    vps = int(sim["ranks"]) * int(sim["threads"])
    model_seconds = (float(sim["t_presim"]) + float(sim["t_sim"])) / 1000.0
    build_min = connections / 2e6 / vps / 60.0
    sim_min = model_seconds * connections / 1e6 / vps / 60.0
    return int(max(10, math.ceil(2 * (build_min + sim_min))))


def run_resources(run: Any) -> dict[str, int]:
    """Snakemake resources of one run's simulate job: ``mem_mb`` and ``runtime`` (minutes)."""
    description = describe_run(run.config)
    sim = run.config["simulation"]
    return {
        "mem_mb": estimate_memory_mb(description, int(sim["ranks"])),
        "runtime": estimate_runtime_min(description, sim),
    }


def rates_flags(run: Any) -> str:
    """Command-line flags of ``spikeflow analyze rates`` from the run's ``analysis.rates`` options."""
    options = run.config.get("analysis", {}).get("rates", {})
    return " ".join(f"--{key.replace('_', '-')} {value}" for key, value in options.items())
