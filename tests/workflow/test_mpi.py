"""MPI: spikes from 2 ranks x 1 thread equal those from 1 rank x 2 threads, spike for spike
(NEST's guarantee for equal virtual-process counts), and every rank's counts add up."""

import subprocess

import pytest
import yaml

from spikeflow.config import resolve_run
from spikeflow.io.spikes import read_spikes
from tests.workflow.mpi_env import MPI_ENV, assert_same_spikes, require_mpi_nest


def _config(tmp_path, seed, ranks, threads):
    cfg = resolve_run(
        {
            "model": "pd14",
            "params": {"N_scaling": 0.02, "K_scaling": 0.02},
            "simulation": {"t_presim": 100.0, "t_sim": 200.0, "seed": seed, "ranks": ranks, "threads": threads},
        }
    ).config
    path = tmp_path / f"seed{seed}_r{ranks}t{threads}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_ranks_give_the_spikes_of_two_threads(tmp_path, seed):
    require_mpi_nest()
    mpi_cfg, thr_cfg = _config(tmp_path, seed, 2, 1), _config(tmp_path, seed, 1, 2)
    mpi_out, thr_out = tmp_path / "mpi.h5", tmp_path / "threads.h5"
    subprocess.run(
        ["mpirun", "--bind-to", "none", "-n", "2", "spikeflow", "simulate", "--config", str(mpi_cfg), "--out", str(mpi_out)],
        env=MPI_ENV, check=True, capture_output=True,
    )
    subprocess.run(["spikeflow", "simulate", "--config", str(thr_cfg), "--out", str(thr_out)], env=MPI_ENV, check=True, capture_output=True)
    mpi, thr = read_spikes(mpi_out), read_spikes(thr_out)
    total = assert_same_spikes(mpi, thr)

    meta = mpi.metadata
    assert meta["num_ranks"] == 2 and meta["threads_per_rank"] == 1 and len(meta["per_rank"]) == 2
    assert sorted(r["rank"] for r in meta["per_rank"]) == [0, 1]
    for rank in meta["per_rank"]:
        # each rank's recorders hold exactly the spikes NEST counted on that rank
        assert sum(rank["spike_counts"].values()) == sum(rank["nest_spike_counter"].values())
        assert sum(rank["spike_counts"].values()) > 0
    assert sum(sum(r["spike_counts"].values()) for r in meta["per_rank"]) == total
    assert meta["num_connections"] == thr.metadata["num_connections"]
