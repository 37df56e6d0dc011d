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
