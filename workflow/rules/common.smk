# Config validation (before any job starts) and the small lookups the rules need.
import json
import os

from snakemake.exceptions import WorkflowError

from spikeflow.config import ConfigError, load_study
from spikeflow.resources import rates_flags, run_resources

try:
    STUDY = load_study(config)
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

RESULTS = f"results/{STUDY.name}"
RUNS = {run.run_id: run for run in STUDY.runs}


wildcard_constraints:
    run="|".join(map(str, RUNS)),


def run_config_json(wildcards):
    """The run's resolved config as JSON: a change to it (and only to it) reruns the run."""
    cfg = RUNS[wildcards.run].config
    return json.dumps({key: cfg[key] for key in ("study", "model", "params", "simulation")})


def all_outputs():
    return expand(f"{RESULTS}/{{run}}/rates/rates.json", run=RUNS)
