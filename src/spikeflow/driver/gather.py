"""Collecting every rank's results on rank 0 (mpi4py); trivial on one rank."""

from __future__ import annotations

from typing import Any

import numpy as np


def gather_objects(obj: Any, num_ranks: int) -> list[Any]:
    """Every rank's ``obj`` on rank 0 (a list in rank order), [] on other ranks; [obj] on one rank."""
    if num_ranks == 1:
        return [obj]
    from mpi4py import MPI

    return MPI.COMM_WORLD.gather(obj, root=0) or []


def broadcast(obj: Any, rank: int, num_ranks: int) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if num_ranks == 1:
        return obj
    from mpi4py import MPI

    return MPI.COMM_WORLD.bcast(obj if rank == 0 else None, root=0)


def gather_spikes(
    local: dict[str, tuple[np.ndarray, np.ndarray]], rank_info: dict[str, Any], num_ranks: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[dict[str, Any]]]:
    """Every rank's spikes (population -> (ids, times)) and metadata on rank 0, ranks in order.

    Returns:
        (merged spikes, per-rank metadata) on rank 0; ({}, []) on other ranks.
    """
    if num_ranks == 1:
        return local, [rank_info]
    parts = gather_objects((local, rank_info), num_ranks)
    if not parts:
        return {}, []
    merged = {
        name: (
            np.concatenate([part[0][name][0] for part in parts]),
            np.concatenate([part[0][name][1] for part in parts]),
        )
        for name in local
    }
    return merged, [part[1] for part in parts]
