"""Self-consistent stationary rates: the fixed points ``nu = Phi(nu)``.

The search is generic: ``phi`` is any map from rates (N,) in Hz to rates (N,) in Hz, e.g.
``functools.partial(rate_map, network=net)`` (:func:`spikeflow.meanfield.transfer.rate_map`).
``Phi(nu) - nu = 0`` is solved with :func:`scipy.optimize.root` (MINPACK ``hybr``) from
many random initial rate vectors; converged, non-negative solutions with a small residual
are kept, de-duplicated and sorted.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import optimize

__all__ = ["FixedPoints", "initial_rates", "find_fixed_points"]

RateMap = Callable[[np.ndarray], np.ndarray]


class FixedPoints(NamedTuple):
    """Distinct fixed points, sorted by mean rate (ties: lexicographically).

    Attributes:
        rates: Rates in Hz, shape (n_fixed_points, N).
        residuals: ``max_a |Phi(nu)_a - nu_a|`` in Hz, shape (n_fixed_points,).
    """

    rates: np.ndarray
    residuals: np.ndarray


def initial_rates(
    n_pop: int,
    n_init: int = 50,
    seed: int | np.random.Generator | None = 0,
    max_rate: float = 1.0,
    boost: float = 10.0,
    boost_fraction: float = 0.5,
) -> np.ndarray:
    """Random initial rate vectors for the fixed-point search.

    Every entry is drawn from ``U[0, max_rate]`` Hz; a random subset of the entries (each
    with probability ``boost_fraction``) is multiplied by ``boost``.

    Args:
        n_pop: Number of populations N.
        n_init: Number of initial vectors.
        seed: Seed or generator (reproducible search).
        max_rate: Upper end of the uniform distribution in Hz.
        boost: Factor for the boosted entries.
        boost_fraction: Probability that an entry is boosted.

    Returns:
        Rates in Hz, shape (n_init, N).
    """
    rng = np.random.default_rng(seed)
    nu0 = rng.uniform(0.0, max_rate, size=(n_init, n_pop))
    boosted = rng.random((n_init, n_pop)) < boost_fraction
    return np.where(boosted, nu0 * boost, nu0)


def _deduplicate(rates: np.ndarray, residuals: np.ndarray, tol: float) -> FixedPoints:
    order = np.lexsort(rates.T[::-1])  # lexicographic, then keep the best of each cluster
    kept_rates: list[np.ndarray] = []
    kept_res: list[float] = []
    for i in order:
        for k, r in enumerate(kept_rates):
            if np.max(np.abs(r - rates[i])) <= tol:
                if residuals[i] < kept_res[k]:
                    kept_rates[k], kept_res[k] = rates[i], residuals[i]
                break
        else:
            kept_rates.append(rates[i])
            kept_res.append(residuals[i])
    n_pop = rates.shape[1]
    out = np.array(kept_rates, dtype=float).reshape(-1, n_pop)
    res = np.array(kept_res, dtype=float)
    order = np.lexsort(tuple(out.T[::-1]) + (out.mean(axis=1),)) if len(out) else []
    return FixedPoints(out[order], res[order])


def find_fixed_points(
    phi: RateMap,
    n_pop: int,
    n_init: int = 50,
    seed: int | np.random.Generator | None = 0,
    nu0: np.ndarray | None = None,
    tol: float = 1e-12,
    residual_tol: float = 1e-7,
    dedup_tol: float = 1e-3,
    max_rate: float = 1.0,
    boost: float = 10.0,
) -> FixedPoints:
    """All fixed points ``nu = phi(nu)`` reached from many initial rate vectors.

    Args:
        phi: Rate map, rates (N,) in Hz to rates (N,) in Hz. It should accept negative
            entries (a root finder may try them), e.g. by treating them as 0 like
            :func:`spikeflow.meanfield.transfer.rate_map`.
        n_pop: Number of populations N.
        n_init: Number of random initial vectors (ignored if ``nu0`` is given).
        seed: Seed or generator for :func:`initial_rates`.
        nu0: Explicit initial rates in Hz, shape (n_init, N); overrides the random ones.
        tol: ``tol`` of :func:`scipy.optimize.root` (relative step tolerance of ``hybr``).
        residual_tol: A solution is kept if ``max |phi(nu) - nu| <= residual_tol`` (Hz).
        dedup_tol: Solutions within this max-norm distance (Hz) count as one.
        max_rate: See :func:`initial_rates` (Hz).
        boost: See :func:`initial_rates`.

    Returns:
        :class:`FixedPoints` (rates (n_fp, N) in Hz, residuals (n_fp,) in Hz), sorted by
        mean rate; empty arrays if nothing converged.
    """
    if nu0 is None:
        nu0 = initial_rates(n_pop, n_init, seed, max_rate=max_rate, boost=boost)
    nu0 = np.atleast_2d(np.asarray(nu0, dtype=float))
    if nu0.shape[1] != n_pop:
        raise ValueError(f"nu0 must have shape (n_init, {n_pop}), got {nu0.shape}")

    def residual(nu: np.ndarray) -> np.ndarray:
        return np.asarray(phi(nu), dtype=float) - nu

    found, res = [], []
    for start in nu0:
        sol = optimize.root(residual, start, method="hybr", tol=tol)
        nu = sol.x
        if not np.all(np.isfinite(nu)) or np.any(nu < 0.0):
            continue
        r = float(np.max(np.abs(residual(nu))))
        if r <= residual_tol:
            found.append(nu)
            res.append(r)
    if not found:
        return FixedPoints(np.empty((0, n_pop)), np.empty(0))
    return _deduplicate(np.array(found), np.array(res), dedup_tol)
