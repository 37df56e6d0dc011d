# Config validation (before any job starts) and the lookups the rules need: all of it is decided
# in spikeflow.plan.Plan (plain Python, unit-tested); this file only hands it to the rules.
import os
import re

from snakemake.exceptions import WorkflowError

from spikeflow.config import ConfigError
from spikeflow.plan import Plan, local_cores
from spikeflow.preflight import nest_has_mpi
from spikeflow.resources import analysis_flags, group_by_flags
from spikeflow.workflow_hooks import cancel_scheduler_timers

try:
    # --config values arrive as strings; `--config run=ID` asks for one run (the default target),
    # `--config batch=N|auto` runs several runs per job (auto: only where the jobs run here)
    PLAN = Plan(
        config,
        overrides=getattr(getattr(workflow, "config_settings", None), "config", None),
        configfiles=[str(f) for f in getattr(workflow, "configfiles", [])],
        cores=local_cores(workflow),
    )
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

STUDY = PLAN.study
RESULTS = PLAN.results
RUNS = PLAN.runs
RESOURCES = PLAN.resources
SERIES = PLAN.series
MEANFIELD_SETS = PLAN.meanfield_sets
ANALYSIS = PLAN.analysis


onstart:
    # before any job, not on dry runs: MPI runs need a NEST built with MPI
    mpi_runs = PLAN.mpi_runs()
    if mpi_runs and nest_has_mpi() is False:
        raise WorkflowError(
            f"run {mpi_runs[0]} asks for {RUNS[mpi_runs[0]].ranks} MPI ranks, but the NEST installed "
            "here has no MPI; build it with containers/build-nest.sh (or run inside the Apptainer image)"
        )


# the workflow has ended: nothing left to schedule, so the process need not wait for the
# scheduler's last re-evaluation timer (about 1 s; spikeflow.workflow_hooks)
onsuccess:
    cancel_scheduler_timers()


onerror:
    cancel_scheduler_timers()


wildcard_constraints:
    run="|".join(map(re.escape, RUNS)),
    mfset="|".join(map(re.escape, MEANFIELD_SETS)) or "(?!)",
    series="|".join(map(re.escape, SERIES)),


def as_outputs(outputs):
    """Snakemake outputs of spikeflow.plan.Output entries (report() where they have a caption)."""
    return {
        name: report(o.path, caption=o.caption, category=o.category, subcategory=o.subcategory) if o.caption else o.path
        for name, o in outputs.items()
    }
