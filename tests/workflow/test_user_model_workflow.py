"""A user's own model, defined only in a temporary folder, through the whole pipeline.

Snakemake runs a sweep over two seeds and a parameter (rates, report); bad parameters are refused
before any job; under MPI, 2 ranks x 1 thread give the same spikes as 1 rank x 2 threads.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from spikeflow.io.spikes import read_spikes
from tests.conftest import REPO
from tests.workflow.mpi_env import MPI_ENV, assert_same_spikes, require_mpi_nest
from tests.workflow.snakemake_run import run_snakemake

STUDY = """\
study: mynet
model: brunel.py
params: {order: 100, eta: 2.0}
simulation: {t_presim: 100.0, t_sim: 500.0, threads: 2, progress_interval: 250.0}
sweep:
  params.g: [4.0, 6.0]
  simulation.seed: [1, 2]
"""


@pytest.fixture
def user_study(workdir):
    """The workflow in a scratch folder, and beside it a study folder with the user's model file."""
    folder = workdir / "mystudy"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "brunel" / "brunel.py", folder / "brunel.py")
    (folder / "study.yaml").write_text(STUDY)
    return workdir


@pytest.mark.workflow
def test_user_model_sweep_end_to_end_with_report(user_study):
    run_snakemake("--cores", "2", "--configfile", "mystudy/study.yaml", cwd=user_study)
    results = user_study / "results" / "mynet"
    runs = sorted(p.name for p in results.iterdir() if (p / "spikes.h5").exists())
    assert runs == ["g4.0_seed1", "g4.0_seed2", "g6.0_seed1", "g6.0_seed2"]
    rates = {}
    for run in runs:
        data = read_spikes(results / run / "spikes.h5")
        meta = data.metadata
        assert meta["model"].endswith("mystudy/brunel.py") and meta["run_id"] == run
        assert {p["name"]: p["size"] for p in meta["populations"]} == {"E": 400, "I": 100}
        assert set(meta["per_rank"][0]["phases"]) == {"create", "connect", "presimulate", "simulate"}
        doc = json.loads((results / run / "rates" / "rates.json").read_text())
        rows = {row["population"]: row for row in doc["populations"]}
        rates[run] = data.populations["E"].n_spikes / 400 / 0.6  # spikes/s over presim + sim
        assert (results / run / "rates" / "raster.png").stat().st_size > 1000
        assert set(rows) == {"E", "I"} and all(np.isfinite(rows[p]["mean_rate_hz"]) for p in rows), rows
    # more inhibition, less activity (Brunel 2000, Fig. 8: rates fall with g in the inhibition-dominated regime)
    assert rates["g6.0_seed1"] < rates["g4.0_seed1"] and rates["g6.0_seed2"] < rates["g4.0_seed2"]
    # seeds differ, same g: different spikes
    a = read_spikes(results / "g4.0_seed1" / "spikes.h5").populations["E"]
    b = read_spikes(results / "g4.0_seed2" / "spikes.h5").populations["E"]
    assert not (a.n_spikes == b.n_spikes and np.array_equal(a.times, b.times))
    run_snakemake("--configfile", "mystudy/study.yaml", "--report", "report.html", cwd=user_study)
    html = (user_study / "report.html").read_text()
    assert "raster.png" in html and "rates.csv" in html


@pytest.mark.workflow
@pytest.mark.parametrize(
    "params, message",
    [
        ("{order: 100, gg: 5.0}", "unknown config key 'params.gg'"),
        ("{order: 100, eta: -1.0}", "'params.eta'"),
        ("{order: 0}", "'params.order'"),
    ],
)
def test_bad_user_parameters_are_refused_before_any_job(user_study, params, message):
    (user_study / "mystudy" / "study.yaml").write_text(STUDY.replace("{order: 100, eta: 2.0}", params))
    proc = run_snakemake("--cores", "2", "--configfile", "mystudy/study.yaml", cwd=user_study, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "invalid config" in text and message in text, text
    assert not (user_study / "results").exists()  # nothing ran, nothing written


MPI_STUDY = """\
study: mynet-mpi
model: {model}
params: {{order: 100}}
simulation: {{t_presim: 100.0, t_sim: 400.0, threads: {threads}, ranks: {ranks}, seed: 3}}
"""


@pytest.mark.workflow
def test_user_model_two_ranks_equal_two_threads(tmp_path):
    require_mpi_nest()
    model = tmp_path / "brunel.py"
    shutil.copy(REPO / "examples" / "brunel" / "brunel.py", model)
    out = {}
    for ranks, threads in ((2, 1), (1, 2)):
        cfg = tmp_path / f"r{ranks}.yaml"
        cfg.write_text(MPI_STUDY.format(model=model, ranks=ranks, threads=threads))
        spikes = tmp_path / f"r{ranks}" / "spikes.h5"
        launch = ["mpirun", "--oversubscribe", "--bind-to", "none", "-n", "2"] if ranks == 2 else []
        subprocess.run([*launch, "spikeflow", "simulate", "--config", str(cfg), "--out", str(spikes)], env=MPI_ENV, check=True, capture_output=True)
        out[ranks] = read_spikes(spikes)
    assert out[2].metadata["num_ranks"] == 2 and out[1].metadata["threads_per_rank"] == 2
    assert_same_spikes(out[2], out[1], at_least=100)
