"""Every spikes file says what is needed to reproduce it (issue 15, part 3)."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from spikeflow.io.spikes import read_metadata
from tests.conftest import REPO

STUDY = "model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsimulation: {t_presim: 50.0, t_sim: 100.0, threads: 1}\n"


@pytest.mark.nest
def test_spikes_file_carries_its_provenance(nest_module, tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(STUDY)
    env = {**os.environ, "PYNEST_QUIET": "1", "SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "node[1-2]"}
    subprocess.run(
        ["spikeflow", "run", "--config", str(study), "--out-dir", str(tmp_path / "run"), "--study-config", str(study)],
        env=env, check=True, capture_output=True,
    )
    prov = read_metadata(tmp_path / "run" / "spikes.h5")["provenance"]
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert prov["spikeflow"]["commit"] == head and isinstance(prov["spikeflow"]["dirty"], bool)
    digest = hashlib.sha256(study.read_bytes()).hexdigest()
    assert prov["study_config"] == {"path": str(study.resolve()), "sha256": digest}
    assert prov["run_config"]["sha256"] == digest  # the same file was given as run config
    build = nest_module.GetKernelStatus("build_info")
    assert prov["nest_build"]["version"] == build["version"] and prov["nest_build"]["have_mpi"] == build["have_mpi"]
    assert prov["host"]["cpu"] and prov["host"]["cores"] == os.cpu_count()
    assert prov["slurm"] == {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "node[1-2]"}
    assert prov["container"] is None and prov["command"][1:3] == ["run", "--config"]
    info = subprocess.run(["spikeflow", "info", str(tmp_path / "run" / "spikes.h5")], capture_output=True, text=True, check=True).stdout
    assert f"commit {head[:12]}" in info and "Slurm job 4242 on node[1-2]" in info and digest[:16] in info


def test_container_image_and_its_digest(tmp_path, monkeypatch):
    from spikeflow.driver.provenance import container

    image = tmp_path / "spikeflow.sif"
    image.write_bytes(b"not really an image" * 1000)
    monkeypatch.setenv("APPTAINER_CONTAINER", str(image))
    monkeypatch.setenv("APPTAINER_NAME", "spikeflow.sif")
    found = container()
    assert found["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest() and found["APPTAINER_NAME"] == "spikeflow.sif"
    monkeypatch.delenv("APPTAINER_CONTAINER")
    monkeypatch.delenv("APPTAINER_NAME")
    assert container() is None
