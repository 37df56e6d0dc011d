"""Slurm, for real: a controller and a node daemon on localhost, Snakemake's Slurm executor with
the shipped profile as users type it (`spikeflow profiles install`, then `snakemake --profile
slurm`; the profiles go to a temporary XDG_CONFIG_HOME, never the real home), an MPI job with 2
tasks, and a job cancelled mid-run."""

import json
import os
import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from spikeflow.io.spikes import read_spikes
from tests.conftest import REPO, require, require_program
from tests.workflow.mpi_env import MPI_ENV, require_mpi_nest

pytestmark = pytest.mark.slow
SLURM_HOW = "no Slurm here: as root, apt-get install slurm-wlm munge (tests/cluster/local-slurm.sh starts a one-node cluster)"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running one-node Slurm cluster; yields the environment that points at it."""
    require_program("slurmctld", SLURM_HOW)
    require_program("sbatch", SLURM_HOW)
    require(os.geteuid() == 0, "the local Slurm test cluster needs root (daemons run as root here)")
    conf_dir = tmp_path_factory.mktemp("slurm")
    script = REPO / "tests" / "cluster" / "local-slurm.sh"
    env = {**MPI_ENV, "SLURM_CONF": str(conf_dir / "slurm.conf"), "XDG_CONFIG_HOME": str(conf_dir / "xdg")}
    try:
        subprocess.run(["bash", str(script), "start", str(conf_dir)], check=True)
        # what the README tells a user to type once, so that `--profile slurm` is found
        installed = subprocess.run(["spikeflow", "profiles", "install", "slurm"], cwd=REPO, env=env, capture_output=True, text=True)
        assert installed.returncode == 0 and "--profile slurm" in installed.stdout, installed.stdout + installed.stderr
        yield env
    finally:  # also when the set-up failed half-way: no daemons left for the next session to trip over
        subprocess.run(["scancel", "--user", "root"], env=env, capture_output=True)
        subprocess.run(["bash", str(script), "stop", str(conf_dir)], check=False)


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    return tmp_path


def _snakemake_slurm(workdir, env, *args, **kwargs):
    cmd = [
        "snakemake", "--profile", "slurm",  # found in $XDG_CONFIG_HOME/snakemake (the fixture installed it)
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2",
        *args,
    ]
    return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def test_profile_runs_a_study_with_an_mpi_job_through_slurm(slurm, workdir):
    require_mpi_nest()
    proc = _snakemake_slurm(workdir, slurm, "--configfile", "workflow/config/tiny-mpi.yaml")
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    results = workdir / "results" / "tiny-mpi"
    mpi, threads = read_spikes(results / "ranks2-threads1" / "spikes.h5"), read_spikes(results / "ranks1-threads2" / "spikes.h5")
    assert mpi.metadata["num_ranks"] == 2 and threads.metadata["num_ranks"] == 1
    for name, pop in threads.populations.items():
        np.testing.assert_array_equal(mpi.populations[name].times, pop.times)
    for run in ("ranks2-threads1", "ranks1-threads2"):
        assert (results / run / "rates" / "rates.json").exists()
    # the jobs really went through Slurm, the MPI simulation among them
    assert re.search(r"submitted with SLURM jobid \d+ \(log: \S*rule_run_mpi/", out), out
    assert re.search(r"submitted with SLURM jobid \d+ \(log: \S*rule_run/", out), out
    assert mpi.metadata["per_rank"][0]["host"] and len(mpi.metadata["per_rank"]) == 2
    # the provenance names the Slurm job, its nodes, the MPI library and the study config
    prov = mpi.metadata["provenance"]
    assert prov["slurm"]["SLURM_JOB_ID"].isdigit() and prov["slurm"]["SLURM_JOB_NODELIST"]
    assert "Open MPI" in prov["mpi"]["library"] and prov["study_config"]["path"].endswith("tiny-mpi.yaml")


def test_cancelled_job_leaves_nothing_that_looks_finished(slurm, workdir):
    study = workdir / "long.yaml"
    study.write_text(
        "study: long\nmodel: pd14\nparams: {N_scaling: 0.05, K_scaling: 0.05}\n"
        "simulation: {t_presim: 100.0, t_sim: 10000.0, threads: 2, progress_interval: 100.0}\n"
    )
    spikes = workdir / "results" / "long" / "seed55" / "spikes.h5"
    proc = _snakemake_slurm(workdir, slurm, "--configfile", str(study), "--retries", "0", start_new_session=True)
    log = workdir / "results" / "long" / "seed55" / "logs" / "run.log"
    deadline = time.time() + 300
    while time.time() < deadline and not (log.exists() and "simulate:" in log.read_text()):
        time.sleep(1)
    assert log.exists(), "the simulation never started"
    jobs = subprocess.run(["squeue", "-h", "-o", "%i %j"], env=slurm, capture_output=True, text=True).stdout.split()
    assert jobs, "no job in the queue"
    subprocess.run(["scancel", jobs[0]], env=slurm, check=True)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode != 0
    assert not spikes.exists()
    assert not any(p.name == "spikes.h5" for p in spikes.parent.rglob("*")), "a finished-looking file was left"
    # the same command again completes the run
    rerun = _snakemake_slurm(workdir, slurm, "--configfile", str(study))
    out, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, out
    assert read_spikes(spikes).metadata["t_sim_ms"] == 10000.0


def test_scaling_study_through_slurm(slurm, workdir):
    require_mpi_nest()
    study = workdir / "scaling-small.yaml"
    study.write_text(
        "study: scaling-small\nmodel: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\n"
        "simulation: {t_presim: 50.0, t_sim: 200.0, progress_interval: 0.0}\n"
        "sweep:\n  cases:\n"
        "    - {series: strong, simulation: {ranks: 1, threads: 1}}\n"
        "    - {series: strong, simulation: {ranks: 2, threads: 1}}\n"
        "    - {series: weak, simulation: {ranks: 1, threads: 1}, params: {N_scaling: 0.01}}\n"
        "    - {series: weak, simulation: {ranks: 1, threads: 2}}\n"
        "analysis: {scaling: {enabled: true}}\n"
    )
    proc = _snakemake_slurm(workdir, slurm, "--configfile", str(study))
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    for series in ("strong", "weak"):
        doc = json.loads((workdir / "results" / "scaling-small" / "scaling" / series / "scaling.json").read_text())
        assert doc["series"] == series, doc["reason"]
        assert sorted(r["vps"] for r in doc["rows"]) == [1, 2]
