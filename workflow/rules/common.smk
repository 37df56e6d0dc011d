# Config validation (before any job starts) and the small lookups the rules need.
import json
import os
import re

from snakemake.exceptions import WorkflowError

from spikeflow.config import ConfigError, load_study, simulation_part
from spikeflow.models import get_model
from spikeflow.preflight import nest_has_mpi
from spikeflow.resources import analysis_flags, rates_flags, study_resources

try:
    STUDY = load_study(config)
    RESOURCES = study_resources(STUDY)  # run id -> mem_mb, runtime; refuses runs that cannot fit
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

RESULTS = f"results/{STUDY.name}"
RUNS = {run.run_id: run for run in STUDY.runs}
SERIES = STUDY.series()
ANALYSIS = STUDY.runs[0].config["analysis"]  # study-level analyses use the first run's options
MODEL = STUDY.runs[0].config["model"]
# which command produces a run's spikes.h5: `spikeflow simulate` (the driver), or a family's own
# (e.g. `spikeflow train`), named by the model module's DRIVER
DRIVER = getattr(get_model(MODEL), "DRIVER", "simulate")
# each family's rules file appends a function returning its extra targets
FAMILY_OUTPUTS = []


onstart:
    # before any job, not on dry runs: MPI runs need a NEST built with MPI
    mpi_runs = [run_id for run_id, run in RUNS.items() if run.ranks > 1]
    if mpi_runs and nest_has_mpi() is False:
        raise WorkflowError(
            f"run {mpi_runs[0]} asks for {RUNS[mpi_runs[0]].ranks} MPI ranks, but the NEST installed "
            "here has no MPI; build it with containers/build-nest.sh (or run inside the Apptainer image)"
        )


wildcard_constraints:
    run="|".join(map(re.escape, RUNS)),
    series="|".join(map(re.escape, SERIES)),


def runs_pattern(mpi, driver="simulate"):
    """Regex of the run ids made by ``driver`` with (mpi=True) or without MPI; never matches if none."""
    ids = [run_id for run_id, run in RUNS.items() if (run.ranks > 1) == mpi and driver == DRIVER]
    return "|".join(map(re.escape, ids)) if ids else "(?!)"


def run_config_json(wildcards):
    """The run's resolved config as JSON: a change to it (and only to it) reruns the run."""
    return json.dumps(simulation_part(RUNS[wildcards.run].config))


def spikes_of(run_ids):
    return [f"{RESULTS}/{run_id}/spikes.h5" for run_id in run_ids]


def all_outputs():
    outputs = expand(f"{RESULTS}/{{run}}/rates/rates.json", run=RUNS)
    if ANALYSIS["scaling"]["enabled"]:
        outputs += expand(f"{RESULTS}/scaling/{{series}}/scaling.json", series=SERIES)
    if ANALYSIS["memory"]["enabled"]:
        outputs.append(f"{RESULTS}/memory/memory.json")
    for family_outputs in FAMILY_OUTPUTS:
        outputs += family_outputs()
    return outputs
