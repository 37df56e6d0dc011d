"""Reduced mean field: effective transfer function, force field and potential of 1-2 populations.

Following Mascaro & Amit (1999), a few *focus* populations ``f`` (one or two, e.g. two
excitatory clusters) are singled out; for every value ``x`` of their rates (Hz) all other
(*ambient*) populations ``a`` are solved self-consistently,

    z*(x):  z = Phi_a(x, z),

and the focus populations' output is the effective transfer function

    Phi_eff(x) = Phi_f(x, z*(x)).

What is computed on a grid of focus rates (default 0-60 Hz):

* ``force`` ``F(x) = Phi_eff(x) - x`` (Hz): the velocity field of the reduced rate dynamics
  ``tau dx/dt = -x + Phi_eff(x)``; its zeros are exactly the fixed points of the full
  network whose focus rates are ``x`` (on the ambient branch that was followed).
* ``fixed_points``: the zeros of ``F``: cells of the grid where every component of ``F``
  changes sign, refined by Newton's method on the *full* network (so they are full fixed
  points, to ~1e-9 Hz), each with the eigenvalues of the reduced Jacobian
  ``dPhi_eff/dx - I = J_ff + J_fa (I - J_aa)^-1 J_af - I`` (implicit-function theorem,
  ``J = dPhi/dnu`` at the fixed point) and a verdict (:func:`spikeflow.meanfield.classify`).
  Note that a fixed point stable in the reduced dynamics may still be unstable in the full
  one (an ambient direction can be unstable); the full verdict is :func:`spikeflow.meanfield.stability`'s.
* ``potential``:

  - one focus population: ``U(x) = -int_{x_0}^{x} F(x') dx'`` (trapezoid rule, ``U(x_0) = 0``
    at the grid start, Hz^2). Its local minima are the stable reduced fixed points, its maxima
    the unstable ones (in 1-D, ``F = -dU/dx`` exactly).
  - two focus populations: ``F`` is not a gradient field in general, so a potential exists only
    along a path. For every pair of reduced-stable fixed points the *minimal-|F| path* between
    them is the path on the 8-connected grid graph (nearest grid nodes to the two fixed points)
    that minimizes ``sum |dx| (|F(u)| + |F(v)|)/2`` over its edges ``u -> v`` (Dijkstra): it
    runs along the valley of slow dynamics through the saddle in between. Along it the
    potential is the line integral ``U(s) = -int_0^s F . dx`` (trapezoid rule per edge,
    ``U = 0`` at the first state, Hz^2); its maximum minus its value at either end is the
    barrier seen from that state.

Speed: the inner solve is Newton's method with an analytic Jacobian (the Siegert formula is
differentiated in ``mu`` and ``sigma``; one Siegert evaluation per iteration), warm-started
from the neighbouring grid point: the first row of the grid is continued point by point, and
every further row is solved for all its points at once (batched Newton) starting from the
row below. Points where the inner solve does not converge get ``NaN``. The Siegert integral
uses the adaptive quadrature (:mod:`spikeflow.meanfield.transfer`: exact to rounding, 10-20
nodes instead of 80) unless a :class:`RateModel` with another rule is passed.

Units: rates in Hz, times in s, voltages in mV, ``F`` in Hz, ``U`` in Hz^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, sparse, special
from scipy.sparse import csgraph

from spikeflow.meanfield.stability import classify
from spikeflow.meanfield.transfer import (
    _SIGMA_REL_MIN,
    QUADRATURES,
    LIFNetwork,
    _siegert_checked,
    colored_noise_shift,
)

__all__ = ["Landscape", "LandscapePath", "RateModel", "rate_grid", "reduced_landscape", "solve_network"]

_SQRT_PI = np.sqrt(np.pi)


class RateModel:
    """The rate map of a :class:`LIFNetwork` with its analytic Jacobian, batched.

    ``mu = A nu + mu_0``, ``sigma^2 = B nu + var_0`` with ``A = tau_m K J``,
    ``B = tau_m K J^2`` (both (N, N) in mV s), and ``Phi = siegert(mu, sigma)``. With the
    reference quadrature the numbers of :func:`spikeflow.meanfield.rate_map` (to rounding: the
    moments are summed in another order); rates may carry leading batch dimensions, shape (..., N).

    Args:
        network: The populations' parameters.
        quadrature: The quadrature rule of the Siegert integral,
            :data:`spikeflow.meanfield.transfer.QUADRATURES`: ``"reference"`` (the rule of
            :func:`~spikeflow.meanfield.siegert`, bit for bit) or ``"adaptive"`` (exact to
            rounding too, 4-8x fewer nodes; :func:`reduced_landscape`'s default).
    """

    def __init__(self, network: LIFNetwork, quadrature: str = "reference") -> None:
        if quadrature not in QUADRATURES:
            raise ValueError(f"quadrature must be one of {', '.join(QUADRATURES)}, got {quadrature!r}")
        net = network
        self.network = net
        self.quadrature = quadrature
        self.n_pop = net.n_pop
        tau = net.tau_m[:, None]
        self.A = tau * net.K * net.J
        self.B = tau * net.K * net.J**2
        self.mu0 = net.tau_m * net.j_ext * net.c_ext * net.nu_ext + net.mu_ext
        self.var0 = net.tau_m * net.j_ext**2 * net.c_ext * net.nu_ext
        self.b_s = colored_noise_shift(net.tau_s, net.tau_m)
        if np.any(net.V_r >= net.theta):
            raise ValueError("the rate model needs V_r < theta in every population")
        self._sigma_min = _SIGMA_REL_MIN * (net.theta - net.V_r)

    def grouped(self, groups: ArrayLike) -> RateModel:
        """The rate model of groups of populations held at one rate each (e.g. symmetric clusters).

        Args:
            groups: Group index 0..G-1 of every population, (N,); each group's first
                population stands for it.

        Returns:
            A :class:`RateModel` of G populations whose rate map is ``Phi`` of the full
            network at ``nu = expand(z)`` (every population at its group's rate), read at each
            group's first population; its Jacobian is ``dPhi/dnu`` summed over each group's
            columns. Its ``network`` holds the first populations' parameters (its ``K``, ``J``
            are theirs among themselves and not used: ``A`` and ``B`` are the group sums).
        """
        groups = np.asarray(groups, dtype=int)
        n_groups = int(groups.max()) + 1
        first = np.array([int(np.flatnonzero(groups == g)[0]) for g in range(n_groups)])
        expand = np.zeros((groups.size, n_groups))
        expand[np.arange(groups.size), groups] = 1.0
        net = self.network
        sub = LIFNetwork(
            K=net.K[np.ix_(first, first)],
            J=net.J[np.ix_(first, first)],
            **{
                name: getattr(net, name)[first]
                for name in ("tau_m", "tau_ref", "theta", "V_r", "tau_s", "j_ext", "c_ext", "nu_ext", "mu_ext")
            },
        )
        out = RateModel(sub, quadrature=self.quadrature)
        out.A, out.B = self.A[first] @ expand, self.B[first] @ expand
        out.mu0, out.var0 = self.mu0[first], self.var0[first]
        return out

    def moments(self, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (mV) and standard deviation (mV) of the input, shape (..., N)."""
        nu = np.maximum(nu, 0.0)
        mu = nu @ self.A.T + self.mu0
        sigma = np.sqrt(np.maximum(nu @ self.B.T + self.var0, 0.0))
        return mu, sigma

    def _siegert(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        net = self.network
        return _siegert_checked(
            mu, sigma, net.tau_m, net.tau_ref, net.theta, net.V_r, self.b_s, self._sigma_min, self.quadrature
        )

    def phi(self, nu: ArrayLike) -> np.ndarray:
        """Output rates in Hz, shape (..., N), for input rates ``nu`` in Hz (negatives as 0)."""
        return self._siegert(*self.moments(np.asarray(nu, dtype=float)))

    def phi_and_jacobian(self, nu: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Output rates (..., N) in Hz and ``dPhi/dnu`` (..., N, N), ``[.., a, b] = dPhi_a/dnu_b``.

        ``dPhi/dmu = Phi^2 tau_m sqrt(pi) (f(y_th) - f(y_r)) / sigma`` and
        ``dPhi/dsigma = Phi^2 tau_m sqrt(pi) (f(y_th)(y_th - b_s) - f(y_r)(y_r - b_s)) / sigma``
        with ``f(u) = exp(u^2)(1 + erf u)``, evaluated as ``exp(2 ln Phi + ln f)`` so that
        strongly subthreshold populations give 0 instead of overflowing; then
        ``dPhi_a/dnu_b = dPhi/dmu_a A_ab + dPhi/dsigma_a B_ab / (2 sigma_a)``. Populations
        without input noise (``sigma = 0``) get a zero row (negative ``nu`` entries count as 0).
        """
        nu = np.asarray(nu, dtype=float)
        mu, sigma = self.moments(nu)
        net = self.network
        rate = self._siegert(mu, sigma)
        noisy = sigma > self._sigma_min
        s = np.where(noisy, sigma, 1.0)
        y_th = (net.theta - mu) / s + self.b_s
        y_r = (net.V_r - mu) / s + self.b_s
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_rate2 = 2.0 * np.log(rate)
            g_th = np.exp(log_rate2 + _log_f(y_th))
            g_r = np.exp(log_rate2 + _log_f(y_r))
        g_th = np.where(rate > 0, g_th, 0.0)
        g_r = np.where(rate > 0, g_r, 0.0)
        scale = net.tau_m * _SQRT_PI / s
        d_mu = np.where(noisy, scale * (g_th - g_r), 0.0)
        d_sigma = np.where(noisy, scale * (g_th * (y_th - self.b_s) - g_r * (y_r - self.b_s)), 0.0)
        jac = d_mu[..., :, None] * self.A + (d_sigma / (2.0 * s))[..., :, None] * self.B
        # derivative w.r.t. negative rates is 0 (they are clipped)
        jac = jac * (nu >= 0.0)[..., None, :]
        return rate, np.nan_to_num(jac, nan=0.0, posinf=0.0, neginf=0.0)


def _log_f(y: np.ndarray) -> np.ndarray:
    """``ln(exp(y^2)(1 + erf y))`` without overflow: ``ln erfcx(-y)`` for y < 5, else asymptotic."""
    small = y < 5.0
    y_small = np.where(small, y, 0.0)
    y_big = np.where(small, 5.0, y)
    return np.where(
        small,
        np.log(special.erfcx(-y_small)),
        y_big * y_big + np.log(2.0 - np.exp(-y_big * y_big) * special.erfcx(y_big)),
    )


def solve_network(
    model: RateModel,
    nu0: ArrayLike,
    fixed: Sequence[int] = (),
    tol: float = 1e-9,
    max_iter: int = 50,
    max_step: float = 20.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``nu_a = Phi_a(nu)`` for the populations not in ``fixed`` (batched damped Newton).

    Args:
        model: The rate model.
        nu0: Initial rates in Hz, shape (..., N); the entries of ``fixed`` stay as given.
        fixed: Indices of populations held at their ``nu0`` value (the focus populations).
        tol: Convergence: ``max |Phi_a - nu_a| <= tol`` (Hz) over the free populations.
        max_iter: Newton iterations at most.
        max_step: Largest change of one rate per iteration (Hz); longer steps are scaled down.

    Returns:
        ``(nu, converged)``: rates (..., N) in Hz and a boolean mask of shape ``(...)``.
    """
    nu = np.array(nu0, dtype=float, copy=True)
    batch = nu.shape[:-1]
    nu = nu.reshape(-1, model.n_pop)
    free = np.setdiff1d(np.arange(model.n_pop), np.asarray(fixed, dtype=int))
    eye = np.eye(free.size)
    converged = np.zeros(nu.shape[0], dtype=bool)
    active = np.arange(nu.shape[0])
    for _ in range(max_iter):
        rate, jac = model.phi_and_jacobian(nu[active])
        resid = rate[:, free] - nu[active][:, free]
        done = np.max(np.abs(resid), axis=1) <= tol
        converged[active[done]] = True
        active, resid, jac = active[~done], resid[~done], jac[~done]
        if active.size == 0:
            break
        g = jac[:, free][:, :, free] - eye
        try:
            step = -np.linalg.solve(g, resid[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([-np.linalg.lstsq(gi, ri, rcond=None)[0] for gi, ri in zip(g, resid)])
        longest = np.max(np.abs(step), axis=1, keepdims=True)
        step = step * np.minimum(1.0, max_step / np.maximum(longest, 1e-300))
        sub = nu[active]
        sub[:, free] = np.maximum(sub[:, free] + step, 0.0)
        nu[active] = sub
    # last check for those still iterating
    if active.size:
        rate = model.phi(nu[active])
        ok = np.max(np.abs(rate[:, free] - nu[active][:, free]), axis=1) <= tol
        converged[active[ok]] = True
    return nu.reshape(*batch, model.n_pop), converged.reshape(batch)


def _solve_point_robust(model: RateModel, nu0: np.ndarray, fixed: np.ndarray, tol: float) -> np.ndarray | None:
    """One point: Newton, then MINPACK hybr as a fallback; None if neither converges."""
    nu, ok = solve_network(model, nu0, fixed, tol=tol)
    if ok:
        return nu
    free = np.setdiff1d(np.arange(model.n_pop), fixed)

    def resid(z: np.ndarray) -> np.ndarray:
        full = nu0.copy()
        full[free] = z
        return model.phi(full)[free] - z

    sol = optimize.root(resid, nu0[free], method="hybr", tol=1e-12)
    if np.all(np.isfinite(sol.x)) and np.all(sol.x >= 0) and np.max(np.abs(resid(sol.x))) <= max(tol, 1e-7):
        out = nu0.copy()
        out[free] = sol.x
        return out
    return None


def rate_grid(rate_max: float = 60.0, step: float = 0.5, rate_min: float = 0.0) -> np.ndarray:
    """Grid of focus rates ``rate_min, rate_min + step, ..., rate_max`` (Hz), shape (n,)."""
    if not step > 0 or not rate_max > rate_min or rate_min < 0:
        raise ValueError(f"rate grid needs 0 <= rate_min < rate_max and step > 0, got {rate_min}, {rate_max}, {step}")
    n = int(np.floor((rate_max - rate_min) / step + 1e-9)) + 1
    return rate_min + step * np.arange(n)


@dataclass
class LandscapePath:
    """Minimal-|F| path between two reduced-stable fixed points and the potential along it.

    Attributes:
        start, end: Indices into :attr:`Landscape.fixed_points` of the two states.
        points: Focus rates along the path in Hz, shape (n, 2) (grid nodes).
        arc_length: Distance along the path in Hz, shape (n,).
        force: ``F`` at the path points in Hz, shape (n, 2).
        potential: ``U(s) = -int F . dx`` in Hz^2, shape (n,), 0 at the start.
        barrier_start, barrier_end: ``max U - U(start)`` and ``max U - U(end)`` (Hz^2).
    """

    start: int
    end: int
    points: np.ndarray
    arc_length: np.ndarray
    force: np.ndarray
    potential: np.ndarray
    barrier_start: float
    barrier_end: float


@dataclass
class Landscape:
    """Result of :func:`reduced_landscape`.

    Attributes:
        focus: Indices of the focus populations, (d,) with d = 1 or 2.
        grid: Focus-rate axis in Hz, (n,); the grid is its d-fold product, axis ``i`` of the
            arrays below belonging to focus population ``i``.
        phi_eff: ``Phi_eff`` in Hz, shape (n,) * d + (d,); NaN where the inner solve failed.
        force: ``F = Phi_eff - x`` in Hz, same shape.
        ambient: Self-consistent rates of all populations at each grid point, (n,) * d + (N,).
        fixed_points: Zeros of F refined on the full network: full rates (m, N) in Hz.
        fixed_point_focus: Their focus rates (m, d) in Hz.
        eigenvalues: Eigenvalues of the reduced Jacobian, (m, d), complex (1/tau units).
        verdicts: Reduced-dynamics verdicts, (m,).
        potential: d = 1 only: ``U(x)`` on the grid in Hz^2, (n,).
        paths: d = 2 only: minimal-|F| paths between reduced-stable fixed points.
    """

    focus: np.ndarray
    grid: np.ndarray
    phi_eff: np.ndarray
    force: np.ndarray
    ambient: np.ndarray
    fixed_points: np.ndarray
    fixed_point_focus: np.ndarray
    eigenvalues: np.ndarray
    verdicts: list[str]
    potential: np.ndarray | None = None
    paths: list[LandscapePath] = field(default_factory=list)

    @property
    def stable(self) -> np.ndarray:
        """Indices of the reduced-stable fixed points."""
        return np.array([i for i, v in enumerate(self.verdicts) if v.startswith("stable")], dtype=int)

    @property
    def grid_step(self) -> float:
        """Grid spacing in Hz."""
        return float(self.grid[1] - self.grid[0]) if self.grid.size > 1 else 0.0


def reduced_landscape(
    network: LIFNetwork | RateModel,
    focus: Sequence[int],
    *,
    grid: ArrayLike | None = None,
    rate_max: float = 60.0,
    step: float | None = None,
    nu_start: ArrayLike | None = None,
    tol: float = 1e-9,
) -> Landscape:
    """Effective transfer function, force field, fixed points and potential of 1-2 focus populations.

    Args:
        network: The network (then its :class:`RateModel` with the ``"adaptive"`` quadrature,
            which agrees with the reference rule to ~1e-15 relative and is 3-4x faster here),
            or a :class:`RateModel` (used as it is).
        focus: One or two population indices.
        grid: Focus-rate axis in Hz (overrides ``rate_max``/``step``); increasing, >= 0.
        rate_max: Upper end of the default axis ``0..rate_max`` (Hz).
        step: Spacing of the default axis (Hz); default 0.5 for one focus population and
            1.0 for two (121 x 121 inner solves of a 38-population network take too long for sweeps).
        nu_start: Rates (N,) in Hz where the continuation of the ambient populations starts
            (at the first grid point); default 5 Hz everywhere. Where several ambient
            solutions exist, the branch connected to this start is followed.
        tol: Convergence of the inner solves (Hz).

    Returns:
        :class:`Landscape`.

    Raises:
        ValueError: for a bad focus or grid.
    """
    model = network if isinstance(network, RateModel) else RateModel(network, quadrature="adaptive")
    n_pop = model.n_pop
    focus = np.asarray(focus, dtype=int).ravel()
    if focus.size not in (1, 2) or len(set(focus.tolist())) != focus.size or np.any((focus < 0) | (focus >= n_pop)):
        raise ValueError(f"focus must be one or two distinct population indices in 0..{n_pop - 1}, got {focus.tolist()}")
    if grid is None:
        grid = rate_grid(rate_max, step if step is not None else (0.5 if focus.size == 1 else 1.0))
    grid = np.asarray(grid, dtype=float).ravel()
    if grid.size < 2 or np.any(np.diff(grid) <= 0) or grid[0] < 0:
        raise ValueError("the landscape grid must be increasing, non-negative and have at least two points")
    start = np.full(n_pop, 5.0) if nu_start is None else np.asarray(nu_start, dtype=float).copy()
    if start.shape != (n_pop,):
        raise ValueError(f"nu_start must have shape ({n_pop},), got {start.shape}")

    d, n = focus.size, grid.size
    ambient = np.full((n,) * d + (n_pop,), np.nan)
    # first row (or the whole 1-D axis): continuation point by point
    guess = start.copy()
    for i, x in enumerate(grid):
        guess[focus[0]] = x
        if d == 2:
            guess[focus[1]] = grid[0]
        sol = _solve_point_robust(model, guess.copy(), focus, tol)
        if sol is not None:
            guess = sol
            ambient[(i, 0) if d == 2 else (i,)] = sol
    if d == 2:
        for j in range(1, n):
            prev = ambient[:, j - 1].copy()
            bad = np.isnan(prev[:, 0])
            if bad.all():
                continue
            if bad.any():  # borrow the nearest good neighbour in the row below
                good = np.flatnonzero(~bad)
                prev[bad] = prev[good[np.abs(good[None, :] - np.flatnonzero(bad)[:, None]).argmin(axis=1)]]
            prev[:, focus[0]] = grid
            prev[:, focus[1]] = grid[j]
            guess_row = prev
            if j >= 2 and not bad.any() and not np.isnan(ambient[:, j - 2, 0]).any():
                # linear predictor from the two rows below (fewer Newton iterations)
                guess_row = np.maximum(2.0 * ambient[:, j - 1] - ambient[:, j - 2], 0.0)
                guess_row[:, focus[0]] = grid
                guess_row[:, focus[1]] = grid[j]
            row, ok = solve_network(model, guess_row, focus, tol=tol)
            for i in np.flatnonzero(~ok):
                sol = _solve_point_robust(model, prev[i], focus, tol)
                if sol is not None:
                    row[i], ok[i] = sol, True
            row[~ok] = np.nan
            ambient[:, j] = row

    valid = ~np.isnan(ambient[..., 0])
    phi_eff = np.full((n,) * d + (d,), np.nan)
    phi_eff[valid] = model.phi(ambient[valid])[:, focus]
    axes = np.meshgrid(*([grid] * d), indexing="ij")
    x = np.stack(axes, axis=-1)
    force = phi_eff - x

    fps = _refine_zeros(model, focus, grid, force, ambient, tol)
    fp_focus = fps[:, focus] if len(fps) else np.empty((0, d))
    eig, verdicts = [], []
    for nu in fps:
        ev = np.linalg.eigvals(_reduced_jacobian(model, nu, focus))
        ev = ev[np.argsort(-ev.real, kind="stable")]
        eig.append(ev)
        verdicts.append(classify(ev))
    land = Landscape(
        focus=focus,
        grid=grid,
        phi_eff=phi_eff,
        force=force,
        ambient=ambient,
        fixed_points=fps,
        fixed_point_focus=fp_focus,
        eigenvalues=np.array(eig, dtype=complex).reshape(len(fps), d),
        verdicts=verdicts,
    )
    if d == 1:
        f = force[:, 0]
        land.potential = np.concatenate([[0.0], -np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))])
    else:
        stable = land.stable
        for a_i, a in enumerate(stable):
            for b in stable[a_i + 1 :]:
                path = _min_force_path(grid, force, fp_focus[a], fp_focus[b])
                if path is not None:
                    land.paths.append(_path_potential(int(a), int(b), path, grid, force))
    return land


def _reduced_jacobian(model: RateModel, nu: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """``dPhi_eff/dx - I`` at a fixed point: ``J_ff + J_fa (I - J_aa)^-1 J_af - I``, (d, d)."""
    _, jac = model.phi_and_jacobian(nu)
    amb = np.setdiff1d(np.arange(model.n_pop), focus)
    j_ff = jac[np.ix_(focus, focus)]
    j_fa = jac[np.ix_(focus, amb)]
    j_af = jac[np.ix_(amb, focus)]
    j_aa = jac[np.ix_(amb, amb)]
    eff = j_ff + j_fa @ np.linalg.solve(np.eye(amb.size) - j_aa, j_af)
    return eff - np.eye(focus.size)


def _refine_zeros(
    model: RateModel, focus: np.ndarray, grid: np.ndarray, force: np.ndarray, ambient: np.ndarray, tol: float
) -> np.ndarray:
    """Fixed points of the full network from the grid cells where every component of F changes sign."""
    d = focus.size
    n = grid.size
    candidates = []
    if d == 1:
        f = force[:, 0]
        for i in range(n - 1):
            if np.isfinite(f[i]) and np.isfinite(f[i + 1]) and (np.sign(f[i]) != np.sign(f[i + 1]) or f[i] == 0):
                candidates.append((i,) if abs(f[i]) <= abs(f[i + 1]) else (i + 1,))
    else:
        for i in range(n - 1):
            for j in range(n - 1):
                cell = force[i : i + 2, j : j + 2].reshape(4, 2)
                if not np.all(np.isfinite(cell)):
                    continue
                if all(cell[:, c].min() <= 0.0 <= cell[:, c].max() for c in range(2)):
                    corners = [(i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1)]
                    norms = np.linalg.norm(cell, axis=1)
                    candidates.append(corners[int(np.argmin(norms))])
    found: list[np.ndarray] = []
    lo, hi = grid[0] - (grid[1] - grid[0]), grid[-1] + (grid[1] - grid[0])
    for idx in candidates:
        nu, ok = solve_network(model, ambient[idx], fixed=(), tol=tol)
        if not ok or np.any(nu[focus] < lo) or np.any(nu[focus] > hi):
            continue
        if any(np.max(np.abs(nu - other)) < 1e-4 for other in found):
            continue
        found.append(nu)
    if not found:
        return np.empty((0, model.n_pop))
    out = np.array(found)
    return out[np.lexsort(tuple(out[:, focus].T[::-1]))]


def _min_force_path(grid: np.ndarray, force: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Grid-node indices (k, 2) of the minimal-|F| path between the nodes nearest to ``a`` and ``b``."""
    n = grid.size
    norm = np.linalg.norm(force, axis=-1)
    finite = np.isfinite(norm)
    eps = 1e-6 * (np.nanmax(norm) if finite.any() else 1.0)
    node = np.arange(n * n).reshape(n, n)
    rows, cols, weights = [], [], []
    for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1)):
        i0 = slice(max(0, -di), n - max(0, di))
        j0 = slice(max(0, -dj), n - max(0, dj))
        i1 = slice(max(0, di), n - max(0, -di))
        j1 = slice(max(0, dj), n - max(0, -dj))
        dx = grid[i1] - grid[i0]
        dy = grid[j1] - grid[j0]
        length = np.sqrt(dx[:, None] ** 2 + dy[None, :] ** 2)
        w = length * (0.5 * (norm[i0, j0] + norm[i1, j1]) + eps)
        ok = finite[i0, j0] & finite[i1, j1]
        rows.append(node[i0, j0][ok])
        cols.append(node[i1, j1][ok])
        weights.append(w[ok])
    graph = sparse.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n, n * n)
    ).tocsr()
    src = node[np.abs(grid - a[0]).argmin(), np.abs(grid - a[1]).argmin()]
    dst = node[np.abs(grid - b[0]).argmin(), np.abs(grid - b[1]).argmin()]
    dist, pred = csgraph.dijkstra(graph, directed=False, indices=src, return_predecessors=True)
    if not np.isfinite(dist[dst]):
        return None
    seq = [dst]
    while seq[-1] != src:
        seq.append(pred[seq[-1]])
    seq = np.array(seq[::-1])
    return np.stack(np.unravel_index(seq, (n, n)), axis=1)


def _path_potential(a: int, b: int, idx: np.ndarray, grid: np.ndarray, force: np.ndarray) -> LandscapePath:
    """Line integral ``U = -int F . dx`` along grid nodes ``idx`` (k, 2)."""
    pts = grid[idx]
    f = force[idx[:, 0], idx[:, 1]]
    dx = np.diff(pts, axis=0)
    dU = -np.sum(0.5 * (f[1:] + f[:-1]) * dx, axis=1)
    potential = np.concatenate([[0.0], np.cumsum(dU)])
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(dx, axis=1))])
    top = float(potential.max())
    return LandscapePath(a, b, pts, arc, f, potential, top - float(potential[0]), top - float(potential[-1]))
