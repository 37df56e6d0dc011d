"""MPI for the clustered and training families: 2 ranks x 1 thread give the spikes (and, for
training, the trained weights and checkpoints) of 1 rank x 2 threads."""

import subprocess

import h5py
import numpy as np
import yaml

from spikeflow.config import resolve_run
from spikeflow.io.spikes import read_spikes
from tests.workflow.mpi_env import MPI_ENV, assert_same_spikes, require_mpi_nest

MPIRUN = ["mpirun", "--bind-to", "none", "-n", "2"]


def _write(tmp_path, cfg, ranks, threads, name):
    cfg = dict(cfg, simulation={**cfg["simulation"], "ranks": ranks, "threads": threads})
    path = tmp_path / f"{name}_r{ranks}t{threads}.yaml"
    path.write_text(yaml.safe_dump(resolve_run(cfg).config))
    return path


def test_clustered_two_ranks_equal_two_threads(tmp_path):
    """The numpy-drawn connectivity and timed perturbations give the same network on every rank."""
    require_mpi_nest()
    cfg = {
        "model": "clustered",
        "params": {
            "preset": "vnm", "n_neurons": 400, "n_clusters": 4, "c_ext": [64, 64],
            "perturbation": {"rate": {"vectors": [[1.0]], "involved_clusters": [[1]], "params": [1.0],
                                      "time_dependence": {"shape": "hat", "onset_time": 200.0, "offset_time": 300.0}}},
        },
        "simulation": {"t_presim": 100.0, "t_sim": 300.0, "seed": 4, "progress_interval": 0},
    }
    mpi_cfg, thr_cfg = _write(tmp_path, cfg, 2, 1, "c"), _write(tmp_path, cfg, 1, 2, "c")
    subprocess.run([*MPIRUN, "spikeflow", "simulate", "--config", str(mpi_cfg), "--out", str(tmp_path / "mpi.h5")],
                   env=MPI_ENV, check=True, capture_output=True)
    subprocess.run(["spikeflow", "simulate", "--config", str(thr_cfg), "--out", str(tmp_path / "thr.h5")],
                   env=MPI_ENV, check=True, capture_output=True)
    assert_same_spikes(read_spikes(tmp_path / "mpi.h5"), read_spikes(tmp_path / "thr.h5"))


def test_training_two_ranks_equal_two_threads(tmp_path):
    require_mpi_nest()
    cfg = {
        "model": "training",
        "params": {"n_neurons": 80, "density": 0.2, "synapse_model": "stdp_synapse", "plastic": ["E->E"],
                   "n_epochs": 2, "epoch_ms": 100.0},
        "simulation": {"t_presim": 50.0, "t_sim": 200.0, "seed": 5, "progress_interval": 0},
    }
    mpi_cfg, thr_cfg = _write(tmp_path, cfg, 2, 1, "t"), _write(tmp_path, cfg, 1, 2, "t")
    subprocess.run([*MPIRUN, "spikeflow", "train", "--config", str(mpi_cfg), "--out-dir", str(tmp_path / "mpi"), "--no-figures"],
                   env=MPI_ENV, check=True, capture_output=True)
    subprocess.run(["spikeflow", "train", "--config", str(thr_cfg), "--out-dir", str(tmp_path / "thr"), "--no-figures"],
                   env=MPI_ENV, check=True, capture_output=True)
    mpi, thr = read_spikes(tmp_path / "mpi" / "spikes.h5"), read_spikes(tmp_path / "thr" / "spikes.h5")
    assert_same_spikes(mpi, thr)
    assert mpi.metadata["num_ranks"] == 2 and len(mpi.metadata["per_rank"]) == 2
    with h5py.File(tmp_path / "mpi" / "checkpoints" / "epoch_0002.h5") as a, \
         h5py.File(tmp_path / "thr" / "checkpoints" / "epoch_0002.h5") as b:
        names = []
        a.visit(names.append)
        datasets = [n for n in names if isinstance(a[n], h5py.Dataset)]
        assert any("weight" in n for n in datasets)
        for n in datasets:
            np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=n)
