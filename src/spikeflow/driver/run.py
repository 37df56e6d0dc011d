"""The one simulation driver: config -> kernel -> network -> protocol -> spikes file.

A model only says how to build its network and, if it needs more than presimulate +
simulate, its protocol (see :mod:`spikeflow.models`); this module does the rest for every
family and for users' own models: pre-flight checks, kernel setup, timed construction,
phases with progress, plasticity switches and hooks, per-rank timers, memory and spike counts,
the MPI gather, the family's side outputs and the atomic write of the spikes file.
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

import spikeflow
from spikeflow.driver import provenance
from spikeflow.driver.gather import gather_objects
from spikeflow.driver.phases import recorded_windows, standard_protocol, timeline
from spikeflow.driver.session import Session, SimulationError
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.models import get_model
from spikeflow.preflight import check_run


def simulate(
    cfg: Mapping[str, Any],
    out: str | Path,
    *,
    run_id: str = "run",
    log: Callable[[str], None] | None = None,
    sources: Mapping[str, Any] | None = None,
) -> Path | None:
    """Run one resolved run config and write its spikes file (and the model's side outputs).

    Args:
        cfg: a run's resolved config (see :func:`spikeflow.config.resolve_run`).
        out: the spikes file to write (``.h5``); side outputs of the model go beside it.
        run_id: the run's name, stored in the metadata.
        log: where progress lines go (default: stdout of rank 0).
        sources: the config files this run came from (``run_config_path``, ``study_config_path``),
            recorded with their hashes in the metadata's ``provenance``.

    Returns:
        The spikes file on rank 0, None on other ranks.
    """
    sim = cfg["simulation"]
    model = get_model(cfg["model"])
    derived = model.params_from_config(cfg["params"])
    for_run = getattr(model, "for_run", None)  # e.g. a structure drawn from the run's seed
    if for_run is not None:
        derived = for_run(derived, cfg)
    description = model.describe(derived)
    try:
        check_run(description, cfg)  # before any time is spent
    except ValueError as err:
        raise SimulationError(str(err)) from None
    check_environment = getattr(model, "check_environment", None)  # e.g. NEST able to load a module
    if check_environment is not None:
        check_environment()

    session = Session(sim, log=log)
    kernel = session.kernel
    say = session.say
    say(
        f"{cfg['model']} run {run_id}: {sum(p['size'] for p in description['populations']):,} neurons, "
        f"{kernel['num_ranks']} rank(s) x {kernel['threads_per_rank']} thread(s), seed {kernel['seed']}"
    )
    network = session.build(model, derived, recording=cfg.get("recording"))
    say(f"created in {session.phases.phases['create']['wall_s']:.1f} s")
    say(f"connected {session.nest.num_connections:,} synapses in {session.phases.phases['connect']['wall_s']:.1f} s")

    protocol_of = getattr(model, "protocol", None)
    protocol = protocol_of(network, derived, sim) if protocol_of is not None else standard_protocol(sim)
    windows = recorded_windows(protocol)
    leading = windows[0][0] if windows else 0.0
    session.record_from(leading)  # a leading warm-up is not recorded at all
    filtered = windows if len(windows) > 1 else None  # later unrecorded phases are dropped at collection
    session.run_protocol(protocol, set_plasticity=getattr(model, "set_plasticity", None))

    local_results = getattr(model, "local_results", None)
    local = local_results(network, derived) if local_results is not None else None
    gathered, per_rank, collect_s = session.collect(filtered)
    parts = gather_objects(local, session.num_ranks) if local_results is not None else []
    state_parts = gather_objects(session.state.local(), session.num_ranks) if session.state is not None else []
    if session.rank != 0:
        return None
    reports = session.state.assemble(state_parts, windows) if session.state is not None else None

    sizes = {p["name"]: p["size"] for p in description["populations"]}
    populations = [
        PopulationSpikes(name, sizes[name], ids.astype(np.uint64), times) for name, (ids, times) in gathered.items()
    ]
    counts = {p.name: p.n_spikes for p in populations}
    recorded = {name: sum(r["spike_counts"][name] for r in per_rank) for name in counts}
    if counts != recorded:
        raise SimulationError(f"gathered spike counts {counts} differ from the recorders' counts {recorded}")
    extra: dict[str, Any] = {}
    write_outputs = getattr(model, "write_outputs", None)  # side outputs first: spikes.h5 last means done
    if write_outputs is not None:
        extra = write_outputs(network, derived, parts, Path(out)) or {}
    metadata = run_metadata(
        cfg,
        run_id,
        kernel,
        description,
        counts,
        per_rank,
        protocol=timeline(protocol),
        record_start_ms=leading,
        collect_s=collect_s,
        extra={**extra, "provenance": provenance.collect(session.nest, session.num_ranks, **dict(sources or {}))},
    )
    path = write_spikes(out, populations, metadata, reports=reports)
    say(f"wrote {sum(counts.values()):,} spikes of {len(populations)} populations to {path} (collected in {collect_s:.2f} s)")
    return path


def run(
    cfg: Mapping[str, Any],
    out_dir: str | Path,
    *,
    run_id: str = "run",
    log: Callable[[str], None] | None = None,
    sources: Mapping[str, Any] | None = None,
) -> int:
    """One run into its directory: ``out_dir/spikes.h5`` (written last) and the model's side outputs.

    A family whose run is more than one pass of the driver says so with an ``execute`` hook
    (training: epochs, checkpoints, resume); every other model goes through :func:`simulate`.
    """
    model = get_model(cfg["model"])
    execute = getattr(model, "execute", None)
    if execute is not None:
        return int(execute(cfg, Path(out_dir), run_id, sources=sources) or 0)
    simulate(cfg, Path(out_dir) / "spikes.h5", run_id=run_id, log=log, sources=sources)
    return 0


def run_metadata(
    cfg: Mapping[str, Any],
    run_id: str,
    kernel: Mapping[str, Any],
    description: Mapping[str, Any],
    counts: Mapping[str, int],
    per_rank: list[dict[str, Any]],
    *,
    protocol: list[dict[str, Any]],
    record_start_ms: float = 0.0,
    collect_s: float = 0.0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata every spikes file carries (the same keys for every family; ``extra`` adds the family's).

    Args:
        cfg: the run's resolved config.
        run_id: the run's name.
        kernel: what :func:`spikeflow.driver.kernel.setup_kernel` reported.
        description: the model's description (populations, connections, reference rates).
        counts: spikes written per population.
        per_rank: every rank's probes (:meth:`Session.rank_info`), in rank order.
        protocol: the phases as :func:`spikeflow.driver.phases.timeline` lists them.
        record_start_ms: spikes at or before this time are not recorded, ms.
        collect_s: seconds spent reading the recorders and gathering on rank 0.
        extra: family-specific keys.
    """
    sim = cfg["simulation"]
    return {
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
        "record_start_ms": float(record_start_ms),
        "protocol": protocol,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "populations": list(description["populations"]),
        "reference_rates_hz": dict(description.get("reference_rates_hz", {})),
        "spike_counts": dict(counts),
        "num_connections": sum(int(r["kernel"].get("num_connections", 0)) for r in per_rank),
        "collect_s": collect_s,  # reading the recorders and gathering all ranks' spikes on rank 0
        "config": dict(cfg),
        "model_description": dict(description),
        "per_rank": per_rank,
        **(extra or {}),
    }
