"""What the MPI and Slurm tiers need, and how they say so when it is missing."""

import os

from spikeflow.preflight import nest_has_mpi
from tests.conftest import require, require_module, require_program

# OpenMPI refuses to run as root (CI and containers are root) unless told it is fine.
MPI_ENV = {
    **os.environ,
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "PYNEST_QUIET": "1",
}


def require_mpi_nest() -> None:
    """Skip (fail in CI) unless mpirun, mpi4py and a NEST with MPI are all here."""
    require_program("mpirun", "OpenMPI is missing: apt-get install openmpi-bin libopenmpi-dev")
    require(
        nest_has_mpi() is True,
        "NEST has no MPI: bash containers/build-nest.sh --apt --models reduced (builds and installs it)",
    )
    require_module("mpi4py", "mpi4py is missing: bash containers/build-nest.sh (builds it against the same MPI)")


def assert_same_spikes(a, b, at_least: int = 100) -> int:
    """Spike data ``a`` and ``b`` hold the same spikes, population by population; returns the total."""
    import numpy as np

    total = 0
    for name, pop in b.populations.items():
        np.testing.assert_array_equal(a.populations[name].times, pop.times)
        np.testing.assert_array_equal(a.populations[name].node_ids, pop.node_ids)
        total += pop.n_spikes
    assert total > at_least
    return total
