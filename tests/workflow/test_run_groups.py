"""Study-level cost (issue 13, part 4): several runs in one ``spikeflow run`` process, and
batches of runs in the workflow (``--config batch=N``), with real NEST and real Snakemake.

A run in a batch must give the same spikes, bit for bit, as the same config and seed in a process
of its own: compared by SHA-256 over every spike dataset.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import h5py
import pytest

from spikeflow.io.spikes import read_metadata
from tests.workflow.snakemake_run import run_snakemake

TINY = "workflow/config/tiny.yaml"
PD14 = "model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsimulation: {t_presim: 50.0, t_sim: 150.0, threads: 2, seed: 3}\n"
CLUSTERED = (
    "model: clustered\nparams: {preset: vnm, n_neurons: 400, n_clusters: 4, c_ext: [64, 64], j_potentiated: [3.0, 2.0, 2.0, 2.0]}\n"
    "simulation: {t_presim: 50.0, t_sim: 300.0, threads: 2, seed: 5, progress_interval: 0}\n"
)


def spikes_digest(path) -> str:
    """SHA-256 over every population's node ids and times, in name order."""
    digest = hashlib.sha256()
    with h5py.File(path, "r") as f:
        for name in sorted(f["spikes"]):
            for dataset in sorted(f["spikes"][name]):
                node = f["spikes"][name][dataset]
                if isinstance(node, h5py.Dataset):
                    digest.update(name.encode() + dataset.encode() + node[()].tobytes())
    return digest.hexdigest()


def spikeflow(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "spikeflow.cli", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.nest
def test_runs_in_one_process_give_the_spikes_of_runs_in_their_own(nest_module, tmp_path):
    configs = {}
    for name, text in (("pd14", PD14), ("clustered", CLUSTERED)):
        configs[name] = tmp_path / f"{name}.yaml"
        configs[name].write_text(text)
        spikeflow("run", "--config", str(configs[name]), "--out-dir", str(tmp_path / "alone" / name))
    # one process, the clustered run first, then PD14, then the clustered run again
    order = ["clustered", "pd14", "clustered"]
    dirs = [tmp_path / "batch" / f"{i}-{name}" for i, name in enumerate(order)]
    logs = [d / "logs" / "run.log" for d in dirs]
    spikeflow(
        "run", "--config", *[str(configs[n]) for n in order], "--out-dir", *map(str, dirs),
        "--run-id", *[f"{n}{i}" for i, n in enumerate(order)], "--log", *map(str, logs),
    )
    for name, d, log in zip(order, dirs, logs):
        assert spikes_digest(d / "spikes.h5") == spikes_digest(tmp_path / "alone" / name / "spikes.h5"), name
        assert "wrote" in log.read_text()
    first, *later = (read_metadata(d / "spikes.h5") for d in dirs)
    assert "process" not in first and first["run_id"] == "clustered0"
    assert [m["process"]["runs_before"] for m in later] == [1, 2]
    if sys.platform == "linux":
        assert all(m["process"]["peak_rss_reset"] for m in later)


def test_several_configs_need_as_many_directories(tmp_path):
    study = tmp_path / "pd14.yaml"
    study.write_text(PD14)
    proc = subprocess.run(
        [sys.executable, "-m", "spikeflow.cli", "run", "--config", str(study), str(study), "--out-dir", str(tmp_path / "a")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2 and "2 config(s) but 1 --out-dir value(s)" in proc.stderr
    assert not (tmp_path / "a").exists()


def test_a_bad_config_in_a_batch_stops_it_before_any_run(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(PD14)
    bad.write_text(PD14.replace("threads: 2", "threads: 0"))
    proc = subprocess.run(
        [sys.executable, "-m", "spikeflow.cli", "run", "--config", str(good), str(bad),
         "--out-dir", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2 and "simulation.threads" in proc.stderr, proc.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.workflow
@pytest.mark.nest
def test_a_batch_of_the_tiny_study_makes_what_separate_runs_make(workdir, nest_module):
    proc = run_snakemake("--cores", "2", "--configfile", TINY, "--config", "batch=auto", cwd=workdir)  # 2 cores, 2 threads: one batch
    text = proc.stdout + proc.stderr
    assert re.search(r"^run_batch1\s+1$", text, re.M) and not re.search(r"^run\s+\d+", text, re.M), text
    results = workdir / "results" / "tiny"
    for run in ("seed1", "seed2"):
        out = results / run
        assert "wrote" in (out / "logs" / "run.log").read_text()
        assert (out / "rates" / "rates.json").is_file() and (out / "provenance.txt").is_file()
        spikeflow("resolve", TINY, "--run", run, "--out", str(workdir / f"{run}.yaml"), cwd=workdir)
        assert (out / "config.yaml").read_bytes() == (workdir / f"{run}.yaml").read_bytes()  # what `spikeflow resolve` writes
        spikeflow("run", "--config", str(out / "config.yaml"), "--out-dir", str(workdir / "alone" / run), "--run-id", run)
        assert spikes_digest(out / "spikes.h5") == spikes_digest(workdir / "alone" / run / "spikes.h5"), run
    assert "wrote" in (results / "logs" / "run_batch1.log").read_text()
    assert "Nothing to be done" in run_snakemake("-n", "--cores", "2", "--configfile", TINY, "--config", "batch=auto", cwd=workdir).stdout


@pytest.mark.workflow
def test_one_run_of_a_batched_study_runs_alone(workdir):
    proc = run_snakemake("-n", "--cores", "2", "--configfile", TINY, "--config", "batch=2", "run=seed2", cwd=workdir)
    assert re.search(r"^run\s+1$", proc.stdout, re.M) and "run_batch" not in proc.stdout, proc.stdout


@pytest.mark.workflow
def test_lint_is_clean_with_batches():
    from tests.conftest import REPO

    proc = run_snakemake("--lint", "--configfile", "workflow/config/pd14-ensemble.yaml", "--config", "batch=10", cwd=REPO, check=False)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
