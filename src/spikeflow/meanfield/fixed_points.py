"""Self-consistent stationary rates: the fixed points ``nu = Phi(nu)``.

The search is generic: ``phi`` is any map from rates (N,) in Hz to rates (N,) in Hz, e.g.
``functools.partial(rate_map, network=net)`` (:func:`spikeflow.meanfield.transfer.rate_map`).
``Phi(nu) - nu = 0`` is solved with :func:`scipy.optimize.root` (MINPACK ``hybr``) from
many random initial rate vectors; converged, non-negative solutions with a small residual
are kept, de-duplicated and sorted.

Given the analytic Jacobian (``phi_and_jacobian``, e.g.
:meth:`spikeflow.meanfield.landscape.RateModel.phi_and_jacobian`), ``hybr`` uses it instead of
forward differences, and every root is polished by Newton's method (:func:`polish`) to a residual
at the level of rounding. That makes the search insensitive to the last bit of ``Phi``: forward
differences with steps ``sqrt(eps) |nu|`` turn a change of ``Phi`` by 1 ulp into a change of the
Jacobian by ~1e-8, which decides where some starts converge; an analytic Jacobian changes by
~1e-16 only.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import optimize

__all__ = ["FixedPoints", "initial_rates", "find_fixed_points", "polish"]

RateMap = Callable[[np.ndarray], np.ndarray]
RateMapJacobian = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


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


def polish(phi_and_jacobian: RateMapJacobian, nu: np.ndarray, max_iter: int = 8) -> tuple[np.ndarray, float]:
    """Newton's method on ``Phi(nu) - nu`` from a root ``nu`` until the residual stops decreasing.

    Args:
        phi_and_jacobian: ``nu -> (Phi(nu), dPhi/dnu)``, rates (N,) in Hz and (N, N).
        nu: A (nearly converged) fixed point, rates in Hz, (N,).
        max_iter: Newton steps at most.

    Returns:
        ``(nu, residual)``: the iterate with the smallest ``max |Phi(nu) - nu|`` (Hz), and that residual.
    """
    best = np.asarray(nu, dtype=float)
    rate, dphi = phi_and_jacobian(best)
    best_res = float(np.max(np.abs(rate - best)))
    x = best
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(dphi - np.eye(x.size), rate - x)
        except np.linalg.LinAlgError:
            break
        x = np.maximum(x - step, 0.0)
        rate, dphi = phi_and_jacobian(x)
        res = float(np.max(np.abs(rate - x)))
        if not res < best_res:
            break
        best, best_res = x, res
    return best, best_res


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
    phi_and_jacobian: RateMapJacobian | None = None,
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
        phi_and_jacobian: ``nu -> (phi(nu), dphi/dnu)`` with the Jacobian (N, N); if given,
            hybr uses it and every root is polished by :func:`polish` (see the module doc).

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

    def residual_and_jacobian(nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rate, dphi = phi_and_jacobian(nu)
        return rate - nu, dphi - np.eye(n_pop)

    found, res = [], []
    for start in nu0:
        if phi_and_jacobian is None:
            sol = optimize.root(residual, start, method="hybr", tol=tol)
        else:
            sol = optimize.root(residual_and_jacobian, start, method="hybr", jac=True, tol=tol)
        nu = sol.x
        if not np.all(np.isfinite(nu)) or np.any(nu < 0.0):
            continue
        if phi_and_jacobian is None:
            r = float(np.max(np.abs(residual(nu))))
        else:
            nu, r = polish(phi_and_jacobian, nu)
        if r <= residual_tol:
            found.append(nu)
            res.append(r)
    if not found:
        return FixedPoints(np.empty((0, n_pop)), np.empty(0))
    return _deduplicate(np.array(found), np.array(res), dedup_tol)
