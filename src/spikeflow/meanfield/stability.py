"""Linear stability of fixed points of the rate dynamics ``tau dnu/dt = -nu + Phi(nu)``.

The Jacobian ``-I + dPhi/dnu`` (in units of 1/tau) is built by finite differences, with a
fresh perturbation vector for every column (re-using one vector would make column ``i``
the derivative along ``e_0 + ... + e_i``, i.e. the sum of columns 0..i). Its eigenvalues
classify the fixed point.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["VERDICTS", "Stability", "jacobian", "classify", "stability"]

RateMap = Callable[[np.ndarray], np.ndarray]

#: The possible verdicts of :func:`classify`.
VERDICTS = (
    "stable node",
    "stable focus",
    "unstable node",
    "unstable focus",
    "saddle",
    "marginal",
)


class Stability(NamedTuple):
    """Result of :func:`stability`.

    Attributes:
        jacobian: ``-I + dPhi/dnu`` (divided row-wise by ``tau`` if given), (N, N).
        eigenvalues: Its eigenvalues, complex (N,), sorted by decreasing real part.
        verdict: One of :data:`VERDICTS`.
    """

    jacobian: np.ndarray
    eigenvalues: np.ndarray
    verdict: str


def jacobian(
    phi: RateMap,
    nu: ArrayLike,
    rel_step: float = 1e-5,
    tau: ArrayLike | None = None,
) -> np.ndarray:
    """Jacobian ``-I + dPhi/dnu`` of the rate dynamics at ``nu`` by finite differences.

    Column ``j`` is ``(phi(nu + h_j e_j) - phi(nu - h_j e_j)) / (2 h_j)`` with a new unit
    vector ``e_j`` for every column and ``h_j = rel_step * max(nu_j, 1 Hz)``; where
    ``nu_j < h_j`` (rates must not go negative) a one-sided forward difference is used.

    Args:
        phi: Rate map, rates (N,) in Hz to rates (N,) in Hz.
        nu: Point (usually a fixed point), rates in Hz, shape (N,).
        rel_step: Relative step size.
        tau: Optional rate time constants in s, scalar or (N,); if given, row ``a`` is
            divided by ``tau_a`` (Jacobian in 1/s). Otherwise the result is in units of 1/tau.

    Returns:
        Jacobian, shape (N, N), ``[a, b] = d(-nu_a + Phi_a)/d nu_b``.
    """
    nu = np.asarray(nu, dtype=float).ravel()
    n = nu.size
    dphi = np.empty((n, n))
    phi0 = None
    for j in range(n):
        h = rel_step * max(abs(nu[j]), 1.0)
        step = np.zeros(n)  # fresh for every column
        step[j] = h
        if nu[j] >= h:
            dphi[:, j] = (np.asarray(phi(nu + step)) - np.asarray(phi(nu - step))) / (2.0 * h)
        else:
            if phi0 is None:
                phi0 = np.asarray(phi(nu), dtype=float)
            # second-order forward difference
            f1 = np.asarray(phi(nu + step))
            f2 = np.asarray(phi(nu + 2.0 * step))
            dphi[:, j] = (-3.0 * phi0 + 4.0 * f1 - f2) / (2.0 * h)
    jac = dphi - np.eye(n)
    if tau is not None:
        jac = jac / np.broadcast_to(np.asarray(tau, dtype=float), (n,))[:, None]
    return jac


def classify(eigenvalues: ArrayLike, tol: float = 1e-6) -> str:
    """Verdict on a fixed point from the eigenvalues of its Jacobian.

    With ``re``/``im`` the real/imaginary parts and ``tol`` the tolerance:

    * some ``re > tol`` and some ``re < -tol``: ``"saddle"``;
    * else some ``re > tol``: ``"unstable focus"`` if one of those has ``|im| > tol``,
      otherwise ``"unstable node"`` (also when other eigenvalues are ~0);
    * else all ``re < -tol``: ``"stable focus"`` if any ``|im| > tol``, else ``"stable node"``;
    * else (the largest real part is within ``tol`` of 0): ``"marginal"``.

    Args:
        eigenvalues: Eigenvalues, shape (N,), real or complex.
        tol: Tolerance on real and imaginary parts (same unit as the eigenvalues).

    Returns:
        One of :data:`VERDICTS`.
    """
    ev = np.asarray(eigenvalues, dtype=complex).ravel()
    re, im = ev.real, ev.imag
    pos, neg = re > tol, re < -tol
    if pos.any() and neg.any():
        return "saddle"
    if pos.any():
        return "unstable focus" if np.any(np.abs(im[pos]) > tol) else "unstable node"
    if neg.all():
        return "stable focus" if np.any(np.abs(im) > tol) else "stable node"
    return "marginal"


def stability(
    phi: RateMap,
    nu: ArrayLike,
    rel_step: float = 1e-5,
    tau: ArrayLike | None = None,
    tol: float = 1e-6,
) -> Stability:
    """Jacobian, eigenvalues and verdict at ``nu`` (see :func:`jacobian`, :func:`classify`).

    Args:
        phi: Rate map, rates (N,) in Hz to rates (N,) in Hz.
        nu: Fixed point, rates in Hz, shape (N,).
        rel_step: Relative finite-difference step.
        tau: Optional rate time constants in s, scalar or (N,).
        tol: Tolerance of :func:`classify`.

    Returns:
        :class:`Stability`.
    """
    jac = jacobian(phi, nu, rel_step=rel_step, tau=tau)
    ev = np.linalg.eigvals(jac)
    ev = ev[np.argsort(-ev.real, kind="stable")]
    return Stability(jac, ev, classify(ev, tol=tol))
