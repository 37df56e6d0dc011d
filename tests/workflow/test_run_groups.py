"""Study-level cost (issue 13, part 4): several runs in one ``spikeflow run`` process, and
batches of runs in the workflow (``--config batch=N``), with real NEST and real Snakemake.

A run in a batch must give the same spikes, bit for bit, as the same config and seed in a process
of its own: compared by SHA-256 over every spike dataset.
"""

from __future__ import annotations

import hashlib
import re
import shutil
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
        assert (out / "rates" / "rates.json").is_file()
        # written by the run job itself: what `spikeflow info` writes of the same path, byte for byte
        spikeflow("info", f"results/tiny/{run}/spikes.h5", "--out", str(workdir / f"{run}-info.txt"), cwd=workdir)
        assert (out / "provenance.txt").read_bytes() == (workdir / f"{run}-info.txt").read_bytes()
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


def _copy_workflow(src, dest):
    dest.mkdir()
    shutil.copy(src / "Snakefile", dest / "Snakefile")
    shutil.copytree(src / "workflow", dest / "workflow")
    return dest


def _tree(directory):
    """Every file under ``directory`` by relative path: its bytes; of an HDF5 file, every dataset's
    bytes and the attributes, but not the spikes file's metadata it carries (the run's own timings)."""
    return {
        str(p.relative_to(directory)): _h5_content(p) if p.suffix == ".h5" else p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _h5_content(path):
    content = {}
    with h5py.File(path, "r") as f:
        content["/"] = {k: str(v) for k, v in f.attrs.items()}

        def visit(name, node):
            if isinstance(node, h5py.Dataset) and name != "json/metadata":
                value = node[()]
                raw = value.tobytes() if node.shape and node.dtype.kind != "O" else repr(value.tolist() if node.shape else value)
                content[name] = (node.dtype.str, node.shape, raw)

        f.visititems(visit)
    return content


@pytest.mark.workflow
@pytest.mark.nest
@pytest.mark.parametrize(
    "study, name, kinds",
    [(TINY, "tiny", ("rates",)), ("workflow/config/clustered-tiny.yaml", "clustered-tiny", ("rates", "attractors"))],
    ids=["pd14", "clustered"],
)
def test_batched_analyses_write_what_the_per_run_jobs_write(workdir, nest_module, study, name, kinds):
    """Four seeds on 2 cores: one run batch, then per kind two analysis jobs of two runs each; every
    analysis file (tables, JSON, figures; the HDF5 file's datasets) is byte-identical to the study
    without batches."""
    seeds = "sweep={simulation.seed: [1, 2, 3, 4]}"
    runs = [f"seed{i}" for i in (1, 2, 3, 4)]
    targets = [f"results/{name}/{run}/{kind}/{kind}.json" for run in runs for kind in kinds]
    targets += [f"results/{name}/{run}/provenance.txt" for run in runs]
    batched = _copy_workflow(workdir, workdir / "batched")
    proc = run_snakemake(*targets, "--cores", "2", "--configfile", study, "--config", seeds, cwd=workdir)
    assert re.search(r"^analyze_rates\s+4$", proc.stdout + proc.stderr, re.M), proc.stdout + proc.stderr
    proc = run_snakemake(*targets, "--cores", "2", "--configfile", study, "--config", seeds, "batch=auto", cwd=batched)
    text = proc.stdout + proc.stderr
    for kind in kinds:
        assert re.search(rf"^analyze_{kind}_batch1\s+1$", text, re.M) and re.search(rf"^analyze_{kind}_batch2\s+1$", text, re.M), text
        assert not re.search(rf"^analyze_{kind}\s+\d+$", text, re.M), text
    for run in runs:
        alone, together = workdir / "results" / name / run, batched / "results" / name / run
        assert spikes_digest(together / "spikes.h5") == spikes_digest(alone / "spikes.h5"), run
        for kind in kinds:
            files = _tree(together / kind)
            assert any(f.endswith(".png") for f in files) and f"{kind}.json" in files
            assert files == _tree(alone / kind), (run, kind)
            assert (together / "logs" / f"analyze_{kind}.log").read_text() == (alone / "logs" / f"analyze_{kind}.log").read_text()
        # both written by the run jobs: what `spikeflow info` writes of the spikes file in each study
        for d in (alone, together):
            spikeflow("info", f"results/{name}/{run}/spikes.h5", "--out", str(d / "info.txt"), cwd=d.parents[2])
            assert (d / "provenance.txt").read_bytes() == (d / "info.txt").read_bytes()
    assert "Nothing to be done" in run_snakemake(
        *targets, "-n", "--cores", "2", "--configfile", study, "--config", seeds, "batch=auto", cwd=batched
    ).stdout
