"""The cluster-permutation symmetry of a clustered network's mean field.

In a network of Q identical clusters (each an E population with its I partner, same sizes,
weights and inputs), permuting the clusters maps fixed points of ``nu = Phi(nu)`` to fixed
points. So every fixed point stands for its whole *orbit*: the distinct fixed points obtained by
permuting its clusters, ``Q! / prod_l m_l!`` of them when its clusters take levels ``l`` with
``m_l`` clusters each (a level: one (E rate, I rate) pair). The functions here

* check that a network has the symmetry (:func:`is_cluster_symmetric`), comparing every
  parameter with its permuted self exactly;
* bring a fixed point into its *canonical* form, clusters ordered by decreasing E rate (then I
  rate), so that any two members of an orbit give the same rates (:func:`canonical_form`);
* count its orbit (:func:`orbit_size`) and list it when small (:func:`orbit`);
* solve ``nu = Phi(nu)`` inside the subspace where the clusters of each level have equal rates
  (:func:`solve_levels`), from which no rounding error can lead away.

Populations are described by ``types`` ("E"/"I", shape (N,)) and ``cluster`` (cluster index,
-1 for background, shape (N,)). Rates in Hz.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy import optimize

from spikeflow.meanfield.landscape import RateModel
from spikeflow.meanfield.transfer import LIFNetwork

__all__ = [
    "LEVEL_RTOL",
    "canonical_form",
    "cluster_levels",
    "cluster_permutation",
    "is_cluster_symmetric",
    "level_groups",
    "orbit",
    "orbit_size",
    "solve_levels",
]

#: Clusters whose E and I rates agree within this, relative to ``max(1 Hz, rate)``, are one level.
LEVEL_RTOL = 1e-6


def _n_clusters(cluster: np.ndarray) -> int:
    return int(cluster.max()) + 1 if cluster.size and cluster.max() >= 0 else 0


def cluster_permutation(types: np.ndarray, cluster: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Population indices ``p`` that move cluster ``order[c]`` to position ``c``: new rates ``nu[p]``.

    Args:
        types: "E"/"I" per population, (N,).
        cluster: Cluster index per population, -1 for background, (N,).
        order: A permutation of the Q cluster indices, (Q,).

    Returns:
        Indices, shape (N,); background populations stay where they are.
    """
    types, cluster = np.asarray(types), np.asarray(cluster)
    order = np.asarray(order, dtype=int)
    p = np.arange(cluster.size)
    for t in ("E", "I"):
        idx = np.flatnonzero((types == t) & (cluster >= 0))
        where = np.full(_n_clusters(cluster), -1)
        where[cluster[idx]] = idx
        for a in idx:
            src = where[order[cluster[a]]]
            if src < 0:
                raise ValueError(f"cluster {order[cluster[a]]} has no {t} population")
            p[a] = src
    return p


def is_cluster_symmetric(network: LIFNetwork, types: np.ndarray, cluster: np.ndarray) -> bool:
    """True if every permutation of the clusters leaves the network's parameters unchanged (exactly).

    Checks the two permutations that generate all others: swapping clusters 0 and 1, and
    the cycle ``c -> c + 1 mod Q``. Every cluster must have one E and one I population.
    """
    types, cluster = np.asarray(types), np.asarray(cluster)
    q = _n_clusters(cluster)
    if q < 2:
        return True
    for t in ("E", "I"):
        if sorted(cluster[(types == t) & (cluster >= 0)].tolist()) != list(range(q)):
            return False
    swap = np.arange(q)
    swap[[0, 1]] = [1, 0]
    for order in (swap, np.roll(np.arange(q), -1)):
        p = cluster_permutation(types, cluster, order)
        if not (np.array_equal(network.K[np.ix_(p, p)], network.K) and np.array_equal(network.J[np.ix_(p, p)], network.J)):
            return False
        for name in ("tau_m", "tau_ref", "theta", "V_r", "tau_s", "j_ext", "c_ext", "nu_ext", "mu_ext"):
            v = getattr(network, name)
            if not np.array_equal(v[p], v):
                return False
    return True


def _cluster_rates(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = _n_clusters(cluster)
    e, i = np.zeros(q), np.zeros(q)
    for t, arr in (("E", e), ("I", i)):
        idx = np.flatnonzero((types == t) & (cluster >= 0))
        arr[cluster[idx]] = nu[idx]
    return e, i


def canonical_form(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """The member of ``nu``'s orbit with the clusters ordered by decreasing E rate (then I rate).

    Args:
        nu: Rates in Hz, (N,).
        types, cluster: See the module doc.

    Returns:
        The permuted rates (Hz), (N,): cluster 0 is the most active.
    """
    types, cluster = np.asarray(types), np.asarray(cluster)
    nu = np.asarray(nu, dtype=float)
    if _n_clusters(cluster) < 2:
        return nu.copy()
    e, i = _cluster_rates(nu, types, cluster)
    order = np.lexsort((-i, -e))
    return nu[cluster_permutation(types, cluster, order)]


def cluster_levels(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray, rtol: float = LEVEL_RTOL) -> np.ndarray:
    """Level index of every cluster of a canonical fixed point: consecutive clusters with equal rates share one.

    Two consecutive clusters (in the canonical order) are one level when their E and their I
    rates each differ by at most ``rtol * max(1 Hz, rate)``.

    Returns:
        Integer levels 0, 1, ..., shape (Q,), non-decreasing.
    """
    e, i = _cluster_rates(np.asarray(nu, dtype=float), np.asarray(types), np.asarray(cluster))
    if e.size == 0:
        return np.zeros(0, dtype=int)

    def close(x: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(x)) <= rtol * np.maximum(1.0, np.maximum(np.abs(x[1:]), np.abs(x[:-1])))

    new = ~(close(e) & close(i))
    return np.concatenate([[0], np.cumsum(new)]).astype(int)


def orbit_size(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray, rtol: float = LEVEL_RTOL) -> int:
    """Number of distinct fixed points obtained by permuting the clusters of a canonical fixed point.

    ``Q! / prod_l m_l!`` with ``m_l`` the number of clusters of level ``l`` (:func:`cluster_levels`).
    """
    levels = cluster_levels(nu, types, cluster, rtol)
    size = math.factorial(levels.size)
    for m in np.bincount(levels) if levels.size else []:
        size //= math.factorial(int(m))
    return size


def orbit(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray, limit: int = 1000) -> Iterator[np.ndarray]:
    """The members of a canonical fixed point's orbit (Hz, each (N,)), the canonical one first.

    Raises:
        ValueError: if the orbit has more than ``limit`` members.
    """
    types, cluster = np.asarray(types), np.asarray(cluster)
    levels = cluster_levels(nu, types, cluster)
    n = orbit_size(nu, types, cluster)
    if n > limit:
        raise ValueError(f"the orbit has {n} members, more than limit={limit}")

    def arrangements(counts: list[int]) -> Iterator[list[int]]:
        if not any(counts):
            yield []
            return
        for lv, c in enumerate(counts):
            if c:
                counts[lv] -= 1
                for rest in arrangements(counts):
                    yield [lv, *rest]
                counts[lv] += 1

    first = np.flatnonzero(np.diff(np.concatenate([[-1], levels])))  # first cluster of each level
    for arr in arrangements(np.bincount(levels).tolist() if levels.size else []):
        # cluster c of the new point takes the rates of a canonical cluster of level arr[c]
        used = {lv: 0 for lv in range(len(first))}
        order = np.empty(len(arr), dtype=int)
        for c, lv in enumerate(arr):
            order[c] = first[lv] + used[lv]
            used[lv] += 1
        yield np.asarray(nu, dtype=float)[cluster_permutation(types, cluster, order)]


def level_groups(types: np.ndarray, cluster: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Group index of every population: one group per (type, level) of the clustered ones, every
    background population alone; groups numbered in order of their first population. (N,)."""
    types, cluster = np.asarray(types), np.asarray(cluster)
    levels = np.asarray(levels, dtype=int)
    key = [(str(t), int(levels[c])) if c >= 0 else ("bg", a) for a, (t, c) in enumerate(zip(types, cluster))]
    index = {k: g for g, k in enumerate(dict.fromkeys(key))}
    return np.array([index[k] for k in key])


def solve_levels(
    model: RateModel,
    nu0: np.ndarray,
    types: np.ndarray,
    cluster: np.ndarray,
    levels: np.ndarray,
    tol: float = 1e-12,
) -> np.ndarray | None:
    """Solve ``nu = Phi(nu)`` with the clusters of each level held at one rate (MINPACK hybr).

    The unknowns are one rate per group (:func:`level_groups`), the rate map that of
    :meth:`RateModel.grouped <spikeflow.meanfield.landscape.RateModel.grouped>` with its
    analytic Jacobian: in this subspace the symmetry holds by construction, so rounding cannot
    lead out of it, and each evaluation costs G instead of N Siegert rates.

    Args:
        model: The network's rate model.
        nu0: Initial rates in Hz, (N,); each group starts at the rate of its first population.
        types, cluster: See the module doc.
        levels: Level index of every cluster, (Q,).
        tol: Relative step tolerance of hybr.

    Returns:
        Full rates in Hz, (N,), or None if hybr did not reach a non-negative root.
    """
    groups = level_groups(types, cluster, levels)
    reduced = model.grouped(groups)
    first = np.array([int(np.flatnonzero(groups == g)[0]) for g in range(reduced.n_pop)])
    eye = np.eye(reduced.n_pop)

    def fun(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rate, dphi = reduced.phi_and_jacobian(z)
        return rate - z, dphi - eye

    sol = optimize.root(fun, np.asarray(nu0, dtype=float)[first], method="hybr", jac=True, tol=tol)
    if not np.all(np.isfinite(sol.x)) or np.any(sol.x < 0.0):
        return None
    return sol.x[groups]
