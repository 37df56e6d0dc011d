"""Stationary transfer function of the leaky integrate-and-fire (LIF) neuron.

Current-based LIF neurons with exponentially filtered synaptic currents in the diffusion
approximation. Per population ``a`` (vectors over populations, matrices indexed
``[post a, pre b]``)::

    mu_a     = tau_m,a * sum_b K_ab J_ab   nu_b + tau_m,a * j_ext,a   * c_ext,a * nu_ext,a
    sigma2_a = tau_m,a * sum_b K_ab J_ab^2 nu_b + tau_m,a * j_ext,a^2 * c_ext,a * nu_ext,a

and the stationary rate is the Siegert formula (Amit & Brunel 1997; Brunel 2000)::

    1 / nu = tau_ref + tau_m * sqrt(pi) * integral_{y_r}^{y_th} exp(u^2) (1 + erf(u)) du
    y_th = (theta - mu) / sigma + b_s,     y_r = (V_r - mu) / sigma + b_s

with the shift of the boundaries by synaptic filtering (Fourcaud & Brunel 2002)::

    b_s = |zeta(1/2)| / sqrt(2) * sqrt(tau_s / tau_m)     (0 for delta synapses)

Units (one convention for the whole subpackage): times in s, rates in Hz (spikes/s),
voltages in mV (relative to the resting potential), weights ``J`` in mV per spike,
in-degrees ``K`` dimensionless. So ``tau_m * K * J * nu`` is in mV and ``sigma`` in mV.

Numerics: the integrand is ``exp(u^2) (1 + erf(u)) = erfcx(-u)``. The integral is split
at ``u = 0``: on ``u < 0`` it is ``int erfcx(v) dv`` (bounded, decays like 1/v), done by
Gauss-Legendre panels in ``s = log(1 + v)``, where the integrand is smooth and bounded
however long the interval (the ``sigma -> 0`` limit); on ``u > 0``,
``erfcx(-u) = 2 exp(u^2) - erfcx(u)`` and ``int_0^x exp(u^2) du = exp(x^2) D(x)`` with
Dawson's function ``D``, and everything is scaled by ``exp(-y_th^2)`` so that strongly
subthreshold inputs give rates that underflow smoothly to 0 instead of overflowing. All
of it is vectorised over populations (no per-population quadrature).

Two quadrature rules for ``int erfcx``, both exact to rounding:

* ``"reference"`` (what :func:`siegert` and :func:`rate_map` use): 8 panels x 10 nodes on
  every interval, exact to rounding up to ``b ~ 1e4`` (mpmath, 30 digits), 3e-13 relative at
  ``b = 1e8`` and 2e-12 at ``b = 1e10`` (nearly noiseless input).
* ``"adaptive"`` (the mean-field study's fixed-point search and reduced landscape,
  :mod:`spikeflow.meanfield.study`, whose results do not depend on the last bit of ``Phi``):
  ``ceil(L / 1.0)`` panels of 10 nodes on an interval of length ``L`` in ``s``,
  none on an empty one. Against 30-digit mpmath quadrature a 10-node panel of length
  <= 1.25 anywhere in ``0 <= s <= 25`` (``v`` up to 7e10) is exact to 4e-16 relative, so
  this rule is as exact as the reference one at 10-20 nodes instead of 80 where the
  clustered studies' intervals are (``L < 1.6``); the two agree to 8e-16 relative there,
  and on ``[0, 1e10]`` the adaptive rule is exact to 3e-17.

Both evaluate every rate vector on its own (batched rows are bit-identical to single
evaluations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

__all__ = [
    "ZETA_HALF_ABS",
    "colored_noise_shift",
    "deterministic_rate",
    "siegert",
    "mean_input",
    "std_input",
    "LIFNetwork",
    "rate_map",
]

#: |zeta(1/2)|, the Riemann zeta function at 1/2 (Fourcaud & Brunel 2002).
ZETA_HALF_ABS = 1.4603545088095868

# Composite Gauss-Legendre rule on [0, 1]: _N_PANELS equal panels of _N_NODES nodes each.
_N_PANELS = 8
_N_NODES = 10
_x, _w = np.polynomial.legendre.leggauss(_N_NODES)
_QX = ((np.arange(_N_PANELS)[:, None] + (_x[None, :] + 1.0) / 2.0) / _N_PANELS).ravel()
_QW = (np.broadcast_to(_w / 2.0, (_N_PANELS, _N_NODES)) / _N_PANELS).ravel()
del _x, _w

# The adaptive rule: _N_NODES nodes on [0, 1] per panel, panels of length <= _PANEL_WIDTH.
_PANEL_WIDTH = 1.0
_x, _w = np.polynomial.legendre.leggauss(_N_NODES)
_NODES01 = (_x + 1.0) / 2.0
_WEIGHTS01 = _w / 2.0
del _x, _w

# Below this sigma (relative to theta - V_r) the deterministic limit is used.
_SIGMA_REL_MIN = 1e-10
_SQRT_PI = np.sqrt(np.pi)


def colored_noise_shift(tau_s: ArrayLike, tau_m: ArrayLike) -> np.ndarray:
    """Boundary shift ``b_s`` for exponentially filtered synaptic currents.

    Args:
        tau_s: Synaptic time constant(s) in s; 0 means delta synapses.
        tau_m: Membrane time constant(s) in s (same unit as ``tau_s``).

    Returns:
        ``|zeta(1/2)| / sqrt(2) * sqrt(tau_s / tau_m)`` (dimensionless), broadcast shape of
        the inputs; about 0.516 for 5 ms / 20 ms, exactly 0 for ``tau_s = 0``.
    """
    tau_s = np.asarray(tau_s, dtype=float)
    tau_m = np.asarray(tau_m, dtype=float)
    return ZETA_HALF_ABS / np.sqrt(2.0) * np.sqrt(tau_s / tau_m)


def deterministic_rate(
    mu: ArrayLike, tau_m: ArrayLike, tau_ref: ArrayLike, theta: ArrayLike, V_r: ArrayLike
) -> np.ndarray:
    """Rate of a noiseless LIF neuron with constant input (the ``sigma -> 0`` limit).

    Args:
        mu: Mean input in mV (stationary free membrane potential above rest).
        tau_m: Membrane time constant in s.
        tau_ref: Refractory period in s.
        theta: Threshold in mV.
        V_r: Reset potential in mV (``V_r < theta``).

    Returns:
        Rate in Hz, broadcast shape of the inputs:
        ``1 / (tau_ref + tau_m ln((mu - V_r) / (mu - theta)))`` if ``mu > theta`` else 0.
    """
    mu, tau_m, tau_ref, theta, V_r = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (mu, tau_m, tau_ref, theta, V_r))
    )
    supra = mu > theta
    safe_mu = np.where(supra, mu, theta + 1.0)
    period = tau_ref + tau_m * np.log((safe_mu - V_r) / (safe_mu - theta))
    return np.where(supra, 1.0 / period, 0.0)


def _erfcx_integral(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``int_a^b erfcx(v) dv`` for ``0 <= a <= b`` elementwise (``b`` may be large): the reference rule.

    Substitutes ``v = exp(s) - 1``: the integrand ``erfcx(exp(s) - 1) exp(s)`` is entire,
    goes from 1 at ``s = 0`` to ``1/sqrt(pi)`` for large ``s``, so a fixed composite
    Gauss-Legendre rule is accurate (to rounding up to ``b ~ 1e4``, 2e-12 relative at ``b = 1e10``).
    """
    sa = np.log1p(a)
    sb = np.log1p(b)
    length = sb - sa
    s = sa[..., None] + length[..., None] * _QX
    h = special.erfcx(np.expm1(s)) * np.exp(s)
    return length * (h @ _QW)


def _erfcx_integral_adaptive(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``int_a^b erfcx(v) dv`` for ``0 <= a <= b`` elementwise (``b`` may be large).

    Substitutes ``v = exp(s) - 1``: the integrand ``erfcx(exp(s) - 1) exp(s)`` is entire,
    goes from 1 at ``s = 0`` to ``1/sqrt(pi)`` for large ``s``. Every interval gets its own
    number of 10-node Gauss-Legendre panels (``ceil(length / 1.0)``, 0 for ``a = b``); the
    panels of all intervals are evaluated together and summed per interval in a fixed order.

    Args:
        a, b: Lower and upper limits, arrays of one shape.

    Returns:
        The integrals, same shape; NaN where a limit is NaN.
    """
    sa = np.log1p(a).ravel()
    length = np.log1p(b).ravel() - sa
    with np.errstate(invalid="ignore"):
        n_panels = np.ceil(length / _PANEL_WIDTH)
    finite = np.isfinite(n_panels)
    if not finite.all():
        n_panels[~finite] = 0.0
    n_panels = n_panels.astype(np.intp)
    owner = np.repeat(np.arange(length.size), n_panels)  # interval of every panel
    width = length[owner] / n_panels[owner]
    first = np.cumsum(n_panels) - n_panels
    lo = sa[owner] + (np.arange(owner.size) - first[owner]) * width
    s = lo + width * _NODES01[:, None]  # (nodes, panels)
    h = special.erfcx(np.expm1(s)) * np.exp(s) * _WEIGHTS01[:, None]
    acc = h[0] + h[1]
    for q in range(2, _N_NODES):  # fixed summation order, independent of the batch
        acc += h[q]
    out = np.bincount(owner, weights=width * acc, minlength=length.size).astype(float)  # (int if no panels)
    out[~finite] = np.nan
    return out.reshape(np.shape(a))


def _siegert_scaled(y_th: np.ndarray, y_r: np.ndarray, tau_m, tau_ref, integral=_erfcx_integral) -> np.ndarray:
    """Siegert rate (Hz) from the boundaries ``y_r < y_th`` (arrays of one shape); ``integral``: the rule."""
    # u < 0 part: int_{min(y_r,0)}^{min(y_th,0)} erfcx(-u) du = int_{a}^{b} erfcx(v) dv.
    # u > 0 part on [c, d]: int erfcx(-u) du = 2 (e^{d^2} D(d) - e^{c^2} D(c)) - int erfcx(u) du.
    c = np.maximum(y_r, 0.0)
    d = np.maximum(y_th, 0.0)
    i_neg, g_pos = integral(  # both in one call: the same numbers as one call each
        np.stack((np.maximum(-y_th, 0.0), c)), np.stack((np.maximum(-y_r, 0.0), d))
    )
    scale = np.exp(-d * d)  # underflows to 0 for d > ~27: rate 0 then
    scaled_integral = 2.0 * (special.dawsn(d) - np.exp((c - d) * (c + d)) * special.dawsn(c))
    scaled_integral = scaled_integral + scale * (i_neg - g_pos)
    return scale / (scale * tau_ref + tau_m * _SQRT_PI * scaled_integral)


#: The quadrature rules of ``int erfcx`` by name (see the module docstring).
QUADRATURES = {"reference": _erfcx_integral, "adaptive": _erfcx_integral_adaptive}


def _siegert_checked(mu, sigma, tau_m, tau_ref, theta, V_r, b_s, sigma_min, quadrature="reference") -> np.ndarray:
    """:func:`siegert` for validated float arrays that broadcast together.

    ``b_s`` is the boundary shift (:func:`colored_noise_shift`) and ``sigma_min`` the
    noise level ``1e-10 (theta - V_r)`` (mV) at or below which the deterministic rate is
    used; :class:`spikeflow.meanfield.landscape.RateModel` passes them precomputed.
    ``quadrature``: a key of :data:`QUADRATURES`.
    """
    noisy = sigma > sigma_min
    safe_sigma = np.where(noisy, sigma, 1.0)
    y_th = np.where(noisy, (theta - mu) / safe_sigma + b_s, 1.0)
    y_r = np.where(noisy, (V_r - mu) / safe_sigma + b_s, 0.0)
    nu = _siegert_scaled(y_th, y_r, tau_m, tau_ref, QUADRATURES[quadrature])
    if not np.all(noisy):
        nu = np.where(noisy, nu, deterministic_rate(mu, tau_m, tau_ref, theta, V_r))
    return nu


def siegert(
    mu: ArrayLike,
    sigma: ArrayLike,
    tau_m: ArrayLike,
    tau_ref: ArrayLike,
    theta: ArrayLike,
    V_r: ArrayLike,
    tau_s: ArrayLike = 0.0,
) -> np.ndarray:
    """Stationary firing rate of the LIF neuron driven by (filtered) white noise.

    ``1/nu = tau_ref + tau_m sqrt(pi) int_{y_r}^{y_th} exp(u^2)(1 + erf u) du`` with
    ``y = (boundary - mu)/sigma + b_s`` and ``b_s`` from :func:`colored_noise_shift`.
    Robust for very sub- and suprathreshold input and for ``sigma -> 0``, where it goes
    over into :func:`deterministic_rate` (used for ``sigma <= 1e-10 (theta - V_r)``).

    Args:
        mu: Mean input in mV, any shape.
        sigma: Standard deviation of the input in mV (>= 0), broadcastable with ``mu``.
        tau_m: Membrane time constant in s.
        tau_ref: Refractory period in s.
        theta: Threshold in mV.
        V_r: Reset potential in mV, ``V_r < theta``.
        tau_s: Synaptic time constant in s (0, the default: delta synapses).

    Returns:
        Rate in Hz, float array of the broadcast shape of all arguments.
    """
    args = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (mu, sigma, tau_m, tau_ref, theta, V_r, tau_s))
    )
    mu, sigma, tau_m, tau_ref, theta, V_r, tau_s = args
    if np.any(sigma < 0) or np.any(V_r >= theta):
        raise ValueError("siegert needs sigma >= 0 and V_r < theta")
    return _siegert_checked(
        mu, sigma, tau_m, tau_ref, theta, V_r, colored_noise_shift(tau_s, tau_m), _SIGMA_REL_MIN * (theta - V_r)
    )


def _input_moment(nu, K, J, tau_m, j_ext, c_ext, nu_ext, power: int) -> np.ndarray:
    """tau_m * (sum_b K_ab J_ab^power nu_b + j_ext^power c_ext nu_ext), shape (N,)."""
    nu = np.asarray(nu, dtype=float)
    recurrent = (np.asarray(K, dtype=float) * np.asarray(J, dtype=float) ** power) @ nu
    external = np.asarray(j_ext, dtype=float) ** power * np.asarray(c_ext, dtype=float) * nu_ext
    return np.asarray(tau_m, dtype=float) * (recurrent + external)


def mean_input(
    nu: ArrayLike,
    K: ArrayLike,
    J: ArrayLike,
    tau_m: ArrayLike,
    j_ext: ArrayLike = 0.0,
    c_ext: ArrayLike = 0.0,
    nu_ext: ArrayLike = 0.0,
) -> np.ndarray:
    """Mean input ``mu`` of every population (diffusion approximation).

    Args:
        nu: Rates of the populations in Hz, shape (N,).
        K: In-degrees, shape (N, N), ``[post, pre]``.
        J: Weights in mV per spike, shape (N, N), ``[post, pre]``.
        tau_m: Membrane time constants in s, scalar or (N,).
        j_ext: External weight in mV, scalar or (N,).
        c_ext: Number of external inputs per neuron, scalar or (N,).
        nu_ext: Rate of each external input in Hz, scalar or (N,).

    Returns:
        ``mu = tau_m (sum_b K J nu_b + j_ext c_ext nu_ext)`` in mV, shape (N,).
    """
    return _input_moment(nu, K, J, tau_m, j_ext, c_ext, nu_ext, power=1)


def std_input(
    nu: ArrayLike,
    K: ArrayLike,
    J: ArrayLike,
    tau_m: ArrayLike,
    j_ext: ArrayLike = 0.0,
    c_ext: ArrayLike = 0.0,
    nu_ext: ArrayLike = 0.0,
) -> np.ndarray:
    """Standard deviation ``sigma`` of the input of every population.

    Same arguments and units as :func:`mean_input`.

    Returns:
        ``sigma = sqrt(tau_m (sum_b K J^2 nu_b + j_ext^2 c_ext nu_ext))`` in mV, shape (N,).
    """
    return np.sqrt(np.maximum(_input_moment(nu, K, J, tau_m, j_ext, c_ext, nu_ext, power=2), 0.0))


@dataclass(frozen=True)
class LIFNetwork:
    """Parameters of N LIF populations (plain container; scalars broadcast to (N,)).

    Attributes:
        K: In-degrees, (N, N), ``[post, pre]``.
        J: Weights in mV per spike, (N, N), ``[post, pre]``.
        tau_m: Membrane time constants in s, (N,).
        tau_ref: Refractory periods in s, (N,).
        theta: Thresholds in mV (relative to rest), (N,).
        V_r: Reset potentials in mV (relative to rest), (N,).
        tau_s: Synaptic time constants in s, (N,); 0 for delta synapses.
        j_ext: External weights in mV, (N,).
        c_ext: External in-degrees, (N,).
        nu_ext: Rate of each external input in Hz, (N,).
        mu_ext: Constant (DC) part of the mean input in mV, (N,): a current I_e contributes
            ``I_e tau_m / C_m``.
    """

    K: np.ndarray
    J: np.ndarray
    tau_m: np.ndarray
    tau_ref: np.ndarray
    theta: np.ndarray
    V_r: np.ndarray
    tau_s: np.ndarray = 0.0
    j_ext: np.ndarray = 0.0
    c_ext: np.ndarray = 0.0
    nu_ext: np.ndarray = 0.0
    mu_ext: np.ndarray = 0.0

    def __post_init__(self) -> None:
        K = np.atleast_2d(np.asarray(self.K, dtype=float))
        n = K.shape[0]
        if K.shape != (n, n):
            raise ValueError(f"K must be square, got shape {K.shape}")
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "J", np.broadcast_to(np.asarray(self.J, float), (n, n)).copy())
        for name in ("tau_m", "tau_ref", "theta", "V_r", "tau_s", "j_ext", "c_ext", "nu_ext", "mu_ext"):
            value = np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (n,)).copy()
            object.__setattr__(self, name, value)

    @property
    def n_pop(self) -> int:
        """Number of populations N."""
        return self.K.shape[0]


def rate_map(nu: ArrayLike, network: LIFNetwork) -> np.ndarray:
    """The self-consistency map ``Phi(nu)``: Siegert rates given presynaptic rates ``nu``.

    Negative entries of ``nu`` (which a root finder may try) are treated as 0, so
    ``Phi(nu) - nu`` has no roots with negative rates.

    Args:
        nu: Rates in Hz, shape (N,).
        network: The populations' parameters.

    Returns:
        Output rates in Hz, shape (N,).
    """
    nu = np.maximum(np.asarray(nu, dtype=float), 0.0)
    net = network
    mu = mean_input(nu, net.K, net.J, net.tau_m, net.j_ext, net.c_ext, net.nu_ext) + net.mu_ext
    sigma = std_input(nu, net.K, net.J, net.tau_m, net.j_ext, net.c_ext, net.nu_ext)
    return siegert(mu, sigma, net.tau_m, net.tau_ref, net.theta, net.V_r, net.tau_s)
