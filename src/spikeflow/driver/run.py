"""The one simulation driver: config -> kernel -> network -> protocol -> spikes file.

A model only says how to build its network and, if it needs more than presimulate +
simulate, its protocol (see :mod:`spikeflow.models`); this module does the rest for every
family and for users' own models: pre-flight checks, kernel setup, timed construction,
phases with progress, plasticity switches and hooks, per-rank timers, memory and spike counts,
the MPI gather, the family's side outputs and the atomic write of the spikes file.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

import spikeflow
from spikeflow.driver import provenance
from spikeflow.driver.gather import gather_objects
from spikeflow.driver.phases import recorded_windows, standard_protocol, timeline
from spikeflow.driver.session import Session, SimulationError
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.models import get_model
from spikeflow.preflight import SINGLETON_ENV, check_run


#: Variables of a process started by an MPI launcher (mpirun, srun, hydra): NEST then joins the
#: launcher's MPI job, whose security settings are the launcher's to choose.
LAUNCHED_BY = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMIX_NAMESPACE", "PMI_RANK", "PMI_SIZE", "PMI_FD", "SLURM_STEP_ID")


def prepare_nest_process(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set what a process that is about to import NEST for one run needs, unless already set.

    ``PYNEST_QUIET`` (no banner), and :data:`SINGLETON_ENV` when no MPI launcher started the
    process (none of :data:`LAUNCHED_BY` is set); a value the user set is kept. Call it before
    ``import nest``; afterwards it changes nothing.

    Args:
        environ: the environment to change (default: ``os.environ``).

    Returns:
        The variables that were set.
    """
    env = os.environ if environ is None else environ
    wanted = {"PYNEST_QUIET": "1"}
    if not any(name in env for name in LAUNCHED_BY):
        wanted.update(SINGLETON_ENV)
    done = {k: v for k, v in wanted.items() if k not in env}
    env.update(done)
    return done


def simulate(
    cfg: Mapping[str, Any],
    out: str | Path,
    *,
    run_id: str = "run",
    log: Callable[[str], None] | None = None,
    sources: Mapping[str, Any] | None = None,
    process: Mapping[str, Any] | None = None,
) -> Path | None:
    """Run one resolved run config and write its spikes file (and the model's side outputs).

    Args:
        cfg: a run's resolved config (see :func:`spikeflow.config.resolve_run`).
        out: the spikes file to write (``.h5``); side outputs of the model go beside it.
        run_id: the run's name, stored in the metadata.
        log: where progress lines go (default: stdout of rank 0).
        sources: the config files this run came from (``run_config_path``, ``study_config_path``),
            recorded with their hashes in the metadata's ``provenance``.
        process: for a run that is not the first in its process (:func:`run_many`), what the
            metadata's ``process`` entry says about it (runs before it, whether the peak
            resident set was reset); None for a run in a process of its own.

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
        extra={
            **extra,
            "provenance": provenance.collect(session.nest, session.num_ranks, **dict(sources or {})),
            **({"process": dict(process)} if process else {}),
        },
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
    process: Mapping[str, Any] | None = None,
) -> int:
    """One run into its directory: ``out_dir/spikes.h5`` (written last) and the model's side outputs.

    A family whose run is more than one pass of the driver says so with an ``execute`` hook
    (training: epochs, checkpoints, resume); every other model goes through :func:`simulate`
    (``process``: see there).
    """
    model = get_model(cfg["model"])
    execute = getattr(model, "execute", None)
    if execute is not None:
        return int(execute(cfg, Path(out_dir), run_id, sources=sources) or 0)
    simulate(cfg, Path(out_dir) / "spikes.h5", run_id=run_id, log=log, sources=sources, process=process)
    return 0


@dataclass(frozen=True)
class RunSpec:
    """One run of :func:`run_many`.

    Attributes:
        cfg: the run's resolved config.
        out_dir: its directory (``spikes.h5`` written last).
        run_id: its name in the metadata.
        sources: its config files (see :func:`simulate`).
        log_path: a file that gets the run's progress lines (besides stdout), or None.
    """

    cfg: Mapping[str, Any]
    out_dir: Path
    run_id: str
    sources: Mapping[str, Any] = field(default_factory=dict)
    log_path: Path | None = None


def run_many(
    specs: Sequence[RunSpec],
    *,
    log: Callable[[str], None] | None = None,
    after: Callable[[int, RunSpec], None] | None = None,
) -> int:
    """Several runs one after another in this process: NEST, h5py and the models are loaded once.

    Every run gets a fresh kernel (:class:`~spikeflow.driver.session.Session` resets it), so a
    run's spikes are bit-identical to those of the same config and seed in a process of its own
    (tested by checksum of the spike datasets). Before every run after the first, the previous
    network is freed (``ResetKernel``), freed heap memory is handed back to the system
    (``malloc_trim``) and the process's peak resident set is reset (Linux ``clear_refs``), so
    that the memory probes of a run are its own as far as the OS allows; its metadata says so
    (``process``: runs before it in the process, whether the peak was reset). The runs
    share no state besides that: a run that fails stops the batch with its error.

    Args:
        specs: the runs, in order (none of them an MPI run: a batch runs in one process).
        log: where progress lines go besides each run's log file (default: stdout).
        after: called with a run's index and spec right after it finished (its spikes file
            written), before the next run starts; an error in it fails that run.

    Returns:
        0 when every run finished.
    """
    for index, spec in enumerate(specs):
        process = None
        if index:
            process = {"runs_before": index, "peak_rss_reset": _fresh_memory()}
        say = _RunPrinter(spec.run_id, spec.log_path, log, batch=len(specs) > 1)
        try:
            run(spec.cfg, spec.out_dir, run_id=spec.run_id, log=say, sources=spec.sources, process=process)
            if after is not None:
                after(index, spec)
        except BaseException:
            if len(specs) > 1:  # the error itself follows from the caller; say which run it was
                print(f"spikeflow: run {spec.run_id} ({index + 1} of {len(specs)} in this process) failed", file=sys.stderr)
            raise
        finally:
            say.close()
    return 0


def process_rank() -> int:
    """This process's MPI rank in NEST's job: 0 without MPI, and before NEST is imported."""
    nest = sys.modules.get("nest")
    return int(nest.Rank()) if nest is not None else 0


def _fresh_memory() -> bool:
    """Free the previous run's network and reset the peak resident set; True if the peak was reset."""
    import nest

    from spikeflow.allocator import give_back_freed_memory

    nest.ResetKernel()
    give_back_freed_memory()  # glibc: so that the next run starts near a fresh process's size
    try:  # Linux >= 4.0: "5" resets the peak resident set (VmHWM, which getrusage's ru_maxrss reports)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class _RunPrinter:
    """Progress lines of one run: to its log file (if any) and to ``log`` or stdout.

    Args:
        run_id: the run's name (prefixed to its lines on stdout in a batch).
        path: the run's log file (written afresh, line-buffered), or None.
        log: where lines go besides the file (default: stdout with a ``[spikeflow]`` prefix).
        batch: whether the run shares its process with others.
    """

    def __init__(self, run_id: str, path: Path | None, log: Callable[[str], None] | None, batch: bool) -> None:
        self.prefix = f"[{run_id}] " if batch else ""
        self.log = log
        self.file = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w", encoding="utf-8", buffering=1)

    def __call__(self, message: str) -> None:
        if self.file is not None:
            self.file.write(f"[spikeflow] {message}\n")
        if self.log is not None:
            self.log(self.prefix + message)
        else:
            print(f"[spikeflow] {self.prefix}{message}", flush=True)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


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
