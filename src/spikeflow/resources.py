"""What a run asks of the machine or the scheduler, and the per-run options the rules pass on.

Memory comes from a fitted resource model (``memory_model.json``, written by ``spikeflow analyze
memory``, e.g. by the study ``workflow/config/memory.yaml``): peak memory per rank = a + b x
neurons per rank + c x connections per rank, with terms of the run's model family where the
file has them (else its generic terms), and a calibrated runtime model beside them. They set
Snakemake's ``mem_mb`` and ``runtime`` so that Slurm gets realistic requests and a run that
cannot fit is refused before it is queued.

Which model file is used (:func:`memory_model_source`), first found wins:

1. the study's ``resources.memory_model: PATH`` (relative to the directory Snakemake or
   ``spikeflow validate`` runs in);
2. the environment variable ``SPIKEFLOW_MEMORY_MODEL=PATH``;
3. the user's installed model, ``$XDG_CACHE_HOME/spikeflow/memory_model.json`` (default
   ``~/.cache/spikeflow/memory_model.json``), written by ``spikeflow analyze memory ... --install``
   (:func:`install_memory_model`);
4. the model shipped with spikeflow (``spikeflow/models/memory_model.json``, fitted on the
   project's reference machine).

When the model in use was fitted on another NEST build than the importable one, one warning
line goes to stderr (:func:`check_model_build`).
"""

from __future__ import annotations

import json
import math
import os
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from spikeflow.models import get_model

# First-order memory model of NEST 3.10, used when no fitted model ships:
BASE_MB = 400.0  # Python + NEST kernel per rank
BYTES_PER_CONNECTION = 48.0  # static_synapse with target and delay bookkeeping, incl. construction peak
BYTES_PER_NEURON = 1500.0  # iaf_psc_exp state, buffers and recorder events
HEADROOM = 1.15  # a job asks for 15 % more than the estimate: Slurm kills a job over its --mem
# Threads per node may exceed its cores by at most this factor (one thread per core is fastest;
# full-scale PD14 needs 4 virtual processes, which a 2-core machine runs oversubscribed).
OVERSUBSCRIBE = 2
# Runtime: a job asks for RUNTIME_SAFETY x the calibrated estimate (spikeflow.analysis.memory),
# plus RUNTIME_STARTUP_S for starting Python and NEST and writing the spikes, and at least
# RUNTIME_MIN_MINUTES (a queue slot is cheap; a job killed at its limit is not).
RUNTIME_STARTUP_S = 60.0
RUNTIME_MIN_MINUTES = 10
#: Environment variable naming a memory model file (below the study's resources.memory_model).
MEMORY_MODEL_ENV = "SPIKEFLOW_MEMORY_MODEL"


def user_memory_model_path() -> Path:
    """Where ``spikeflow analyze memory --install`` puts a user's model: ``$XDG_CACHE_HOME/spikeflow/memory_model.json``."""
    from spikeflow.user_cache import user_cache_dir

    return user_cache_dir("memory_model.json")


def shipped_memory_model_path() -> Any:
    """The model file shipped with spikeflow (an importlib resource)."""
    return resources.files("spikeflow").joinpath("models/memory_model.json")


def memory_model_source(resources_cfg: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The memory model file in use and where it came from.

    Args:
        resources_cfg: the run's ``resources`` section (its ``memory_model`` key, if any).

    Returns:
        ``(path, source)``: source is ``"resources.memory_model"``, ``MEMORY_MODEL_ENV``,
        ``"installed"`` or ``"shipped"``; path is None if nothing is found.

    Raises:
        ConfigError: if ``resources.memory_model`` or the environment variable names a
            file that does not exist.
    """
    from spikeflow.config import ConfigError

    given = (resources_cfg or {}).get("memory_model")
    if given:
        path = Path(os.path.expanduser(str(given)))
        if not path.is_file():
            raise ConfigError(
                f"config key 'resources.memory_model' names {str(given)!r}, which is not a file (from "
                f"{Path.cwd()}); fit one with the memory study (workflow/config/memory.yaml writes "
                "results/memory/memory/memory_model.json)"
            )
        return path, "resources.memory_model"
    env = os.environ.get(MEMORY_MODEL_ENV)
    if env:
        path = Path(os.path.expanduser(env))
        if not path.is_file():
            raise ConfigError(f"environment variable {MEMORY_MODEL_ENV} names {env!r}, which is not a file")
        return path, MEMORY_MODEL_ENV
    user = user_memory_model_path()
    if user.is_file():
        return user, "installed"
    shipped = shipped_memory_model_path()
    return (shipped, "shipped") if shipped.is_file() else (None, "none")


@lru_cache(maxsize=8)
def _load_model(path: str, mtime: float) -> Any:
    from spikeflow.analysis.memory import ResourceModel

    return ResourceModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def load_resource_model(path: Any, source: str = "") -> Any:
    """The :class:`~spikeflow.analysis.memory.ResourceModel` in a model file (cached per path and mtime).

    Raises:
        ConfigError: one sentence naming the file if it is not a fitted model.
    """
    from spikeflow.config import ConfigError

    try:
        if source == "shipped":
            return _shipped_model()
        return _load_model(str(path), os.stat(path).st_mtime)
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise ConfigError(f"memory model {path} ({source or 'given'}) cannot be used: {err}") from None


@lru_cache(maxsize=1)
def _shipped_model() -> Any:
    from spikeflow.analysis.memory import ResourceModel

    return ResourceModel.from_dict(json.loads(shipped_memory_model_path().read_text(encoding="utf-8")))


def shipped_memory_model() -> Any:
    """The generic memory terms fitted on this project's reference machine, or None if none ships."""
    if not shipped_memory_model_path().is_file():
        return None
    return _shipped_model().memory


def resource_model_in_use(resources_cfg: Mapping[str, Any] | None = None) -> tuple[Any, Any, str]:
    """``(ResourceModel or None, path, source)`` for a run's ``resources`` section (see the module docstring)."""
    path, source = memory_model_source(resources_cfg)
    if path is None:
        return None, None, source
    return load_resource_model(path, source), path, source


def install_memory_model(src: str | os.PathLike, dest: str | os.PathLike | None = None) -> Path:
    """Install a fitted model file as the user's model (what ``spikeflow analyze memory --install`` does).

    The file is checked (it must hold a fitted model) and written atomically to
    :func:`user_memory_model_path` (or ``dest``).

    Returns:
        The path written.

    Raises:
        ValueError: if ``src`` is not a fitted model (the reason).
    """
    from spikeflow.analysis.memory import ResourceModel
    from spikeflow.io.tables import write_json

    data = json.loads(Path(src).read_text(encoding="utf-8"))
    ResourceModel.from_dict(data)  # refuse a failed fit or a file that is no model
    return write_json(dest or user_memory_model_path(), data)


from spikeflow.preflight import nest_build_info  # noqa: E402 - the one NEST probe (a clean subprocess)


def installed_nest_version() -> str | None:
    """The version of the ``nest-simulator`` distribution installed here (no NEST import), or None."""
    from importlib import metadata

    try:
        return metadata.version("nest-simulator")
    except metadata.PackageNotFoundError:
        return None


def check_model_build(model: Any, path: Any = None, installed: Mapping[str, Any] | None = None) -> str | None:
    """A one-line warning if ``model`` was fitted on a NEST build other than the installed one, else None.

    Args:
        model: the :class:`~spikeflow.analysis.memory.ResourceModel` in use.
        path: its file (named in the warning).
        installed: NEST's ``build_info`` to compare with (default: probe the importable NEST;
            only when the installed ``nest-simulator`` version matches, since another version
            is another build without asking NEST).

    Returns:
        The warning text, or None if the builds agree, the model does not say what it was
        fitted on, or no NEST is installed here.
    """
    from spikeflow.analysis.memory import describe_nest_build, nest_build_fingerprint

    fitted = model.nest_builds
    if not fitted:
        return None
    if installed is None:
        version = installed_nest_version()
        if version is None:
            return None
        if version not in {str(b.get("version")) for b in fitted}:
            installed = {"version": version}
        else:
            installed = nest_build_info()
            if installed is None:
                return None
    here = nest_build_fingerprint(installed) or {}
    if any(all(here.get(k) == v for k, v in b.items() if k in here) for b in fitted):
        return None
    what = describe_nest_build(here) if len(here) > 1 else f"NEST {here.get('version', '?')}"
    return (
        f"the memory model in use ({path}) was fitted on {' / '.join(describe_nest_build(b) for b in fitted)}, "
        f"but the NEST here is {what}: memory and runtime estimates may be off by 10 % or more; refit with "
        "workflow/config/memory.yaml and install it (README, \"Memory\")"
    )


_warned: set[str] = set()


def warn_model_build(model: Any, path: Any) -> None:
    """Print :func:`check_model_build`'s warning to stderr, once per model file and process."""
    key = str(path)
    if key in _warned or model is None:
        return
    _warned.add(key)
    message = check_model_build(model, path)
    if message:
        print(f"spikeflow: warning: {message}", file=sys.stderr)


def model_family(run_config: Mapping[str, Any]) -> str:
    """The model family of a run (``pd14``, ``clustered``, ...; a user's model by its file or module)."""
    return str(run_config["model"])


def describe_run(run_config: dict[str, Any]) -> dict[str, Any]:
    """The model's description (sizes, connection counts) of a resolved run config."""
    model = get_model(run_config["model"])
    return model.describe(model.params_from_config(run_config["params"]))


def _sizes(description: Mapping[str, Any]) -> tuple[int, int]:
    neurons = sum(p["size"] for p in description["populations"])
    return neurons, sum(description["connections"].values()) + neurons  # + recorder connections


def estimate_memory_mb(description: dict[str, Any], ranks: int, family: str | None = None, model: Any = None) -> int:
    """Memory to request for the whole job (all ranks), MB: the estimated peak plus headroom.

    Args:
        description: the model's description (sizes, connections).
        ranks: MPI ranks of the job.
        family: the run's model family: its own terms if the model file has them, else the
            generic ones (a user's model always gets the generic, PD14-fitted terms).
        model: the :class:`~spikeflow.analysis.memory.ResourceModel` (default: the one in
            use without a study config, :func:`resource_model_in_use`).

    Without any fitted model, the first-order constants above. Measured: full-scale PD14
    peaks at 14,442 MiB on NEST 3.10 (bench/README.md).
    """
    neurons, connections = _sizes(description)
    if model is None:
        model = resource_model_in_use()[0]
    if model is not None:
        terms, _ = model.memory_for(family)
        peak = ranks * float(terms.predict_mb(neurons, connections, ranks))
    else:
        peak = ranks * BASE_MB + (connections * BYTES_PER_CONNECTION + neurons * BYTES_PER_NEURON) / 1e6
    return int(math.ceil(HEADROOM * peak))


def estimate_runtime_min(
    description: dict[str, Any], sim: dict[str, Any], family: str | None = None, model: Any = None, cores: int | None = None
) -> int:
    """Wall time to request in minutes: the calibrated estimate times a safety factor, at least 10.

    The runtime model fitted beside the memory terms (:class:`~spikeflow.analysis.memory.RuntimeModel`:
    construction per connection and virtual process, simulation per neuron and per
    connection, model second and virtual process; the family's own if fitted, else the
    generic one) predicts the phases; the request is ``RUNTIME_SAFETY`` (2) x (that +
    ``RUNTIME_STARTUP_S``), at least ``RUNTIME_MIN_MINUTES``. Without a fitted runtime model,
    a first-order formula (0.8 us per connection and core to connect, 1.2 us per connection,
    core and model second to simulate; full-scale PD14, NEST 3.10, 2 cores) times 3.
    Virtual processes are taken as cores, at most ``cores`` (all cores of the job's nodes):
    threads beyond the cores do not make a run faster.
    """
    from spikeflow.analysis.memory import RUNTIME_SAFETY

    neurons, connections = _sizes(description)
    vps = int(sim["ranks"]) * int(sim["threads"])
    if cores:
        vps = max(1, min(vps, int(cores)))
    model_seconds = (float(sim["t_presim"]) + float(sim["t_sim"])) / 1000.0
    if model is None:
        model = resource_model_in_use()[0]
    runtime = model.runtime_for(family) if model is not None else None
    if runtime is not None:
        seconds = RUNTIME_SAFETY * (RUNTIME_STARTUP_S + runtime.predict_s(neurons, connections, vps, model_seconds))
    else:
        seconds = 3 * connections * (0.8e-6 + 1.2e-6 * model_seconds) / vps
    return int(max(RUNTIME_MIN_MINUTES, math.ceil(seconds / 60.0)))


def run_resources(run: Any) -> dict[str, int]:
    """Snakemake resources of one run's simulate job: ``mem_mb`` and ``runtime`` (minutes).

    The config's ``resources.mem_mb`` and ``resources.runtime`` replace the estimates.
    """
    description = describe_run(run.config)
    sim = run.config["simulation"]
    given = run.config.get("resources", {})
    family = model_family(run.config)
    model, path, _ = resource_model_in_use(given)
    warn_model_build(model, path)
    return {
        "mem_mb": int(given.get("mem_mb") or estimate_memory_mb(description, int(sim["ranks"]), family, model)),
        "runtime": int(given.get("runtime") or estimate_runtime_min(description, sim, family, model, _job_cores(given))),
    }


def _job_cores(given: Mapping[str, Any]) -> int:
    """Cores of a job's nodes: resources.node_cores (default: this machine's) x resources.nodes."""
    return int(given.get("node_cores") or os.cpu_count() or 1) * int(given.get("nodes", 1))


def model_in_use_line(run: Any) -> str:
    """One line for ``spikeflow validate``: which memory model a run uses, which terms, fitted on what."""
    from spikeflow.analysis.memory import describe_nest_build

    given = run.config.get("resources", {})
    model, path, source = resource_model_in_use(given)
    if model is None:
        return "memory model: none fitted; first-order estimate"
    terms, which = model.memory_for(model_family(run.config))
    hosts = terms.fitted_on.get("hosts") or []
    host = f", {hosts[0].get('cpu')} x {hosts[0].get('cores')} cores" if hosts else ""
    builds = " / ".join(describe_nest_build(b) for b in terms.fitted_on.get("nest_builds") or []) or "an unknown NEST build"
    return f"memory model: {path} ({source}), {which} terms ({terms.fitted_on.get('method', 'fit')}), fitted on {builds}{host}"


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
