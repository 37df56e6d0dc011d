"""The scaling study runs on one machine as Snakemake jobs, and its analysis finds the strong
and the weak series with their speed-ups and efficiencies."""

import json
import math
import shutil
import subprocess

import pytest

from tests.conftest import REPO
from tests.workflow.mpi_env import MPI_ENV, require_mpi_nest

pytestmark = pytest.mark.slow


def test_scaling_study_on_one_machine(tmp_path):
    require_mpi_nest()
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    proc = subprocess.run(
        ["snakemake", "--cores", "2", "--configfile", "workflow/config/scaling.yaml"],
        cwd=tmp_path, env=MPI_ENV, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for series in ("strong", "weak"):
        out = tmp_path / "results" / "scaling" / "scaling" / series
        doc = json.loads((out / "scaling.json").read_text())
        assert doc["series"] == series, doc["reason"]
        rows = doc["rows"]
        assert sorted({r["vps"] for r in rows}) == [1, 2]
        assert all(r["n_seeds"] == 2 for r in rows)
        reference = [r for r in rows if r["vps"] == 1]
        assert reference and all(r["efficiency"] == pytest.approx(1.0) for r in reference)
        for r in rows:
            assert r["real_time_factor"] > 0 and math.isfinite(r["efficiency"])
        for fig in ("scaling_phases.png", "scaling_rtf.png", "scaling_efficiency.png"):
            assert (out / fig).stat().st_size > 1000
    report = subprocess.run(
        ["snakemake", "--configfile", "workflow/config/scaling.yaml", "--report", "report.html"],
        cwd=tmp_path, env=MPI_ENV, capture_output=True, text=True,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    html = (tmp_path / "report.html").read_text()
    assert all(name in html for name in ("scaling_phases.png", "scaling_rtf.png", "scaling_efficiency.png"))
