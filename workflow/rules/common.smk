# Config validation (before any job starts) and the small lookups the rules need.
import json
import os
import re

from snakemake.exceptions import WorkflowError

from spikeflow.config import ConfigError, load_study, simulation_part
from spikeflow.models import get_model
from spikeflow.overrides import coerce_overrides, selected_runs
from spikeflow.preflight import nest_has_mpi
from spikeflow.resources import analysis_flags, group_by_flags, rates_flags, study_resources

try:
    # --config values arrive as strings; `--config run=ID` asks for one run (the default target)
    STUDY_CONFIG = coerce_overrides(config, getattr(getattr(workflow, "config_settings", None), "config", None))
    STUDY = load_study(STUDY_CONFIG)
    ONLY_RUNS = selected_runs([run.run_id for run in STUDY.runs], STUDY.name, STUDY_CONFIG.get("run"))
    RESOURCES = study_resources(STUDY)  # run id -> mem_mb, runtime; refuses runs that cannot fit
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

RESULTS = f"results/{STUDY.name}"
RUNS = {run.run_id: run for run in STUDY.runs}
SERIES = STUDY.series()
MEANFIELD_SETS = STUDY.network_sets("meanfield")  # runs differing only in seed or threads share one mean field
ANALYSIS = STUDY.runs[0].config["analysis"]  # study-level analyses use the first run's options
MODEL = STUDY.runs[0].config["model"]
# which command produces a run's spikes.h5: `spikeflow simulate` (the driver), or a family's own
# (e.g. `spikeflow train`), named by the model module's DRIVER
DRIVER = getattr(get_model(MODEL), "DRIVER", "simulate")


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
    mfset="|".join(map(re.escape, MEANFIELD_SETS)) or "(?!)",
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
    """What `snakemake` makes without a target: every run and the study-level analyses, or with
    `--config run=ID` only that run's own outputs."""
    whole = len(ONLY_RUNS) == len(RUNS)
    outputs = expand(f"{RESULTS}/{{run}}/rates/rates.json", run=ONLY_RUNS)
    if whole and ANALYSIS["scaling"]["enabled"]:
        outputs += expand(f"{RESULTS}/scaling/{{series}}/scaling.json", series=SERIES)
    if whole and ANALYSIS["memory"]["enabled"]:
        outputs.append(f"{RESULTS}/memory/memory.json")
    return outputs + family_outputs(ONLY_RUNS, whole)


def family_outputs(runs, whole=True):
    """Targets of the model family's own rules (beyond spikes and rates) for ``runs``; the
    study-level ones (across runs) only for the ``whole`` study."""
    outputs = []
    if MODEL == "clustered":
        if ANALYSIS["attractors"]["enabled"]:
            outputs += expand(f"{RESULTS}/{{run}}/attractors/attractors.json", run=runs)
            if whole and len(RUNS) > 1:
                outputs.append(f"{RESULTS}/attractors/summary.json")
        if whole and ANALYSIS["meanfield"]["enabled"]:
            outputs += expand(f"{RESULTS}/meanfield/{{mfset}}/meanfield.json", mfset=MEANFIELD_SETS)
    elif MODEL == "training":
        outputs += expand(f"{RESULTS}/{{run}}/epochs.json", run=runs)
        outputs += expand(f"{RESULTS}/{{run}}/figures/{{figure}}.png", run=runs, figure=TRAINING_FIGURES)
    elif MODEL == "sequence":
        outputs += expand(f"{RESULTS}/{{run}}/sequence/decoding.json", run=runs)
    return outputs


# training runs' outputs (their configs are checked by load_study, through the model's check_config)
TRAINING_FIGURES = ("weights_over_epochs", "rates_over_epochs", "weight_change")


def training_run_outputs(run_dir):
    """Outputs of one training run (rules train and train_mpi)."""
    return dict(
        spikes=f"{run_dir}/spikes.h5",
        epochs_json=f"{run_dir}/epochs.json",
        epochs_h5=f"{run_dir}/epochs.h5",
        epochs_csv=report(
            f"{run_dir}/epochs.csv",
            caption="../report/training_epochs.rst",
            category="Training",
            subcategory="{run}",
        ),
        weights=report(
            f"{run_dir}/figures/weights_over_epochs.png",
            caption="../report/training_weights.rst",
            category="Training",
            subcategory="{run}",
        ),
        rates=report(
            f"{run_dir}/figures/rates_over_epochs.png",
            caption="../report/training_rates.rst",
            category="Training",
            subcategory="{run}",
        ),
        change=report(
            f"{run_dir}/figures/weight_change.png",
            caption="../report/training_change.rst",
            category="Training",
            subcategory="{run}",
        ),
    )

