"""The clustered family through Snakemake: simulation, attractors, study summary, mean field, report."""

import json

import h5py

from tests.workflow.snakemake_run import run_snakemake


def test_clustered_tiny_study_end_to_end(workdir):
    run_snakemake("--cores", "2", "--configfile", "workflow/config/clustered-tiny.yaml", cwd=workdir)
    results = workdir / "results" / "clustered-tiny"
    for run in ("seed1", "seed2"):
        out = results / run
        with h5py.File(out / "spikes.h5") as f:
            assert set(f["spikes"]) == {f"{t}{q}" for t in "EI" for q in (0, 1, 2, 3, "bg")}
        attractors = json.loads((out / "attractors" / "attractors.json").read_text())
        assert attractors["populations"] == ["E0", "E1", "E2", "E3"]
        assert abs(sum(attractors["k_active_fraction"]) - 1.0) < 1e-9
        assert attractors["config"]["simulation"]["seed"] == int(run[-1])
        for fig in ("attractors/cluster_rates.png", "attractors/state_sequence.png"):
            assert (out / fig).stat().st_size > 1000
    # the two seeds share one network, so one mean field
    assert [d.name for d in (results / "meanfield").iterdir()] == ["base"]
    meanfield = json.loads((results / "meanfield" / "base" / "meanfield.json").read_text())
    assert meanfield["states"], "no mean-field fixed point found"
    assert (results / "meanfield" / "base" / "meanfield_states.png").stat().st_size > 1000
    summary = json.loads((results / "attractors" / "summary.json").read_text())
    assert sum(group["n_runs"] for group in summary["groups"]) == 2
    run_snakemake("--configfile", "workflow/config/clustered-tiny.yaml", "--report", "report.html", cwd=workdir)
    html = (workdir / "report.html").read_text()
    assert "cluster_rates.png" in html and "metastability.png" in html and "meanfield_states.png" in html


def test_clustered_study_ends_in_its_mean_field_verdict(workdir):
    """analysis.validate in a clustered study: the workflow judges every run at J+ = 1 against its
    mean field, and the verdict carries the rule and the provenance of the runs."""
    study = workdir / "verdict.yaml"
    study.write_text(
        "study: clustered-verdict\nmodel: clustered\n"
        "params: {preset: vnm, potentiate: false}\n"
        "simulation: {t_presim: 200.0, t_sim: 1500.0, threads: 2, seed: 1, progress_interval: 0}\n"
        "analysis: {validate: {enabled: true, tolerance: 0.1}}\n"
    )
    results = workdir / "results" / "clustered-verdict"
    dry = run_snakemake("-n", "--configfile", str(study), cwd=workdir)
    assert "analyze_meanfield_verdict" in dry.stdout and "analyze_validate" not in dry.stdout
    run_snakemake("--cores", "2", "results/clustered-verdict/validation/verdict.json", "--configfile", str(study), cwd=workdir)
    verdict = json.loads((results / "validation" / "verdict.json").read_text())
    assert verdict["verdict"] == "PASS" and verdict["n_runs"] == 1, verdict["summary"]
    assert verdict["tolerance"] == 0.1 and "mean field" in verdict["rule"]
    assert verdict["provenance"]["consistent"] is True
    assert verdict["provenance"]["runs"][0]["study_config_sha256"]
    assert "provenance: 1 runs:" in (results / "validation" / "verdict.txt").read_text()
