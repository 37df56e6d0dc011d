"""Study-level summaries record what made them and what made their runs (pure logic)."""

from __future__ import annotations

import copy

from spikeflow.driver.provenance import study_provenance, study_summary_lines


def _meta(run_id: str, seed: int, commit: str = "a" * 40, nest: str = "3.10.0") -> dict:
    return {
        "run_id": run_id,
        "seed": seed,
        "provenance": {
            "spikeflow": {"version": "0.1.0", "commit": commit, "dirty": False},
            "study_config": {"path": "/s/study.yaml", "sha256": "f" * 64},
            "nest_build": {"version": nest, "have_mpi": True},
            "mpi": {"mpi4py": "4.0.0"},
            "host": {"hostname": "vm", "cpu": "Xeon", "cores": 2},
            "slurm": None,
            "container": None,
        },
    }


def test_runs_of_one_software_are_consistent_and_listed():
    metas = [_meta("seed1", 1), _meta("seed2", 2)]
    prov = study_provenance(metas, ["r/seed1/spikes.h5", "r/seed2/spikes.h5"])
    assert prov["consistent"] is True and prov["runs_without_provenance"] == 0
    assert [r["run_id"] for r in prov["runs"]] == ["seed1", "seed2"]
    assert prov["runs"][1]["path"] == "r/seed2/spikes.h5" and prov["runs"][1]["seed"] == 2
    assert prov["across_runs"]["nest_version"] == ["3.10.0"]
    assert prov["across_runs"]["study_config_sha256"] == ["f" * 64]
    assert prov["across_runs"]["slurm_job"] == []
    assert prov["analysis"]["spikeflow"]["version"]
    lines = study_summary_lines(prov)
    assert lines[0].startswith("2 runs: spikeflow 0.1.0 (commit aaaaaaaaaaaa), NEST 3.10.0")
    assert not any("warning" in line for line in lines)


def test_mixed_software_is_flagged():
    metas = [_meta("seed1", 1), _meta("seed2", 2, commit="b" * 40)]
    prov = study_provenance(metas)
    assert prov["consistent"] is False
    assert prov["across_runs"]["spikeflow_commit"] == ["a" * 40, "b" * 40]
    assert any(line.startswith("warning: the runs were made by different software") for line in study_summary_lines(prov))
    other = copy.deepcopy(metas[0])
    other["provenance"]["nest_build"]["version"] = "3.9.0"
    assert study_provenance([metas[0], other])["consistent"] is False


def test_files_without_provenance_are_counted():
    prov = study_provenance([_meta("seed1", 1), {"run_id": None}], ["a.h5", "bmtk.h5"])
    assert prov["runs_without_provenance"] == 1 and prov["runs"][1]["provenance"] is None
    assert prov["consistent"] is True
    assert "1 runs carry no provenance" in study_summary_lines(prov)[-1]
