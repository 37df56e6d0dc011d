"""The Snakemake workflow: dry runs and lint of every shipped config, config errors before any
job, a tiny end-to-end run with its HTML report."""

import re
import json

import h5py
import pytest

from tests.conftest import CONFIGS, REPO
from tests.workflow.snakemake_run import run_snakemake


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_dry_run_of_every_shipped_config(workdir, config):
    proc = run_snakemake("-n", "--cores", "2", "--configfile", str(config), cwd=workdir)
    # one run rule for every family (run_mpi: the same rule, launched with MPI)
    assert re.search(r"^(run|run_mpi)\s+\d+", proc.stdout, re.M) and "analyze_rates" in proc.stdout, proc.stdout


def test_default_study_is_pd14_at_scale_0_1(workdir):
    proc = run_snakemake("-n", "--cores", "2", cwd=workdir)
    assert "results/default/seed55/spikes.h5" in proc.stdout


@pytest.mark.parametrize("config", [None, *CONFIGS, REPO / "examples" / "brunel" / "study.yaml"], ids=lambda p: p.name if p else "default")
def test_lint_is_clean(config):
    args = ["--lint"] + (["--configfile", str(config)] if config else [])
    proc = run_snakemake(*args, cwd=REPO, check=False)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_run_that_does_not_fit_the_node_is_refused_before_any_job(workdir):
    study = workdir / "big.yaml"
    study.write_text("study: big\nmodel: pd14\nparams: {N_scaling: 0.1, K_scaling: 0.1}\nresources: {node_memory_mb: 200}\n")
    proc = run_snakemake("--cores", "2", "--configfile", str(study), cwd=workdir, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "invalid config" in text and "more than its 1 node(s) of 200 MB" in text, text
    assert not (workdir / "results").exists()


def test_bad_config_is_refused_before_any_job(workdir):
    bad = workdir / "bad.yaml"
    bad.write_text("study: bad\nmodel: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsimulation: {threads: 0}\n")
    proc = run_snakemake("--cores", "2", "--configfile", str(bad), cwd=workdir, check=False)
    assert proc.returncode != 0
    assert "simulation.threads" in proc.stdout + proc.stderr
    assert not (workdir / "results").exists()


def test_tiny_study_end_to_end_with_report(workdir):
    run_snakemake("--cores", "2", "--configfile", "workflow/config/tiny.yaml", cwd=workdir)
    for run in ("seed1", "seed2"):
        out = workdir / "results" / "tiny" / run
        with h5py.File(out / "spikes.h5") as f:
            assert set(f["spikes"]) == {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}
        rates = json.loads((out / "rates" / "rates.json").read_text())
        assert len(rates["populations"]) == 8
        assert rates["window_ms"] == [100.0, 300.0]
        for fig in ("raster.png", "rate_boxplot.png", "rates_vs_reference.png"):
            assert (out / "rates" / fig).stat().st_size > 1000
        assert "wrote" in (out / "logs" / "run.log").read_text()
    # nothing left to do
    assert "Nothing to be done" in run_snakemake("-n", "--configfile", "workflow/config/tiny.yaml", cwd=workdir).stdout
    run_snakemake("--configfile", "workflow/config/tiny.yaml", "--report", "report.html", cwd=workdir)
    html = (workdir / "report.html").read_text()
    assert "raster.png" in html and "rates_vs_reference.png" in html


@pytest.mark.parametrize("batch", [[], ["--config", "batch=auto"]], ids=["per-run", "batched"])
def test_study_without_per_run_figures(workdir, batch):
    # analysis.rates.figures: false - the tables and JSON of every run, no PNG, nothing missing
    text = (REPO / "workflow" / "config" / "tiny.yaml").read_text().replace("study: tiny", "study: nofigs")
    (workdir / "nofigs.yaml").write_text(text + "analysis:\n  rates:\n    figures: false\n")
    run_snakemake("--cores", "2", "--configfile", "nofigs.yaml", *batch, cwd=workdir)
    for run in ("seed1", "seed2"):
        rates_dir = workdir / "results" / "nofigs" / run / "rates"
        assert sorted(p.name for p in rates_dir.iterdir()) == ["rates.csv", "rates.json"]
        assert len(json.loads((rates_dir / "rates.json").read_text())["populations"]) == 8
    assert "Nothing to be done" in run_snakemake("-n", "--cores", "2", "--configfile", "nofigs.yaml", *batch, cwd=workdir).stdout
