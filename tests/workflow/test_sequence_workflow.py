"""The sequence-learning family through Snakemake: extension module, run, decoding, figures, report."""

import json

import h5py

from tests.conftest import require, require_module
from tests.workflow.snakemake_run import run_snakemake


def test_sequence_tiny_study_end_to_end(workdir):
    require_module("nest", "NEST is not installed: pip install -e '.[test]'")
    from spikeflow import nestext

    require(not nestext.is_binary_wheel(), "the WTA extension needs NEST built from the sdist (containers/build-nest.sh)")
    run_snakemake("--cores", "2", "--configfile", "workflow/config/sequence-tiny.yaml", cwd=workdir)
    out = workdir / "results" / "sequence-tiny" / "seed55"
    with h5py.File(out / "spikes.h5") as f:
        assert set(f["spikes"]) == {"wta", "inputs"}
    decoding = json.loads((out / "sequence" / "decoding.json").read_text())
    assert {"test_before", "test_after"} <= set(decoding)
    for name in ("grid.png", "raster_test_after.png", "decoding.png", "weights.png"):
        assert (out / "sequence" / name).stat().st_size > 1000
    run_snakemake("--configfile", "workflow/config/sequence-tiny.yaml", "--report", "report.html", cwd=workdir)
    html = (workdir / "report.html").read_text()
    assert "decoding.png" in html and "grid.png" in html
