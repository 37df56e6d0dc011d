"""NumPy reference of the discrete-time WTA equations (Klampfl & Maass 2013; Nessler et al. 2013).

Written from the model description (docs/sequence.md, ../shared/reference/sequence-learning.md),
independently of the C++ module, so that the two can be compared: the EPSP is evaluated here
as an explicit convolution of the arrivals with the sampled double-exponential kernel (the C++
module integrates two decaying traces), the soft-max and the STDP rule are written in array form.

Time is discrete with step ``dt`` (ms); step ``m`` covers (m dt, (m + 1) dt]. A spike emitted in
step m carries the time stamp (m + 1) dt; a spike with stamp T (in steps) and delay d (steps)
arrives in step T + d - 1. In step m, for a circuit of K neurons with n afferents:

- EPSP of afferent i: ``y_i(m) = sum_p A_p [exp(-(m - m_p) dt / tau_decay) - exp(-(m - m_p) dt / tau_rise)]``
  over its arrivals p at steps m_p <= m with amplitudes A_p (so y = 0 in the arrival step);
- membrane potential ``u_k(m) = w0_k + sum_i w_ki y_i(m)`` with the weights before step m's update;
- spike probability ``p_k(m) = (R_max dt / 1000) softmax(u(m))_k``;
- one uniform draw per step picks at most one spiking neuron (neuron k with probability p_k);
- if neuron k spikes in step m and learning is on, for all i (variance tracking):
  ``eta_ki = eta (Q - S^2) / (exp(-S) + 1)``, ``w_ki += eta_ki (y_i - exp(w_ki)) / max(exp(w_ki), eta_ki)``,
  then ``S += eta_ki (w_ki - S)``, ``Q += eta_ki (w_ki^2 - Q)`` with the new w.

Short-term plasticity (:func:`stp_amplitudes`): the n-th spike of a connection has amplitude
``weight u R`` with the state before its own update; then, with the interval Delta to the
previous spike (none for the first), ``R <- 1 + (R - R u - 1) exp(-Delta/tau_d)``,
``u <- U + u (1 - U) exp(-Delta/tau_f)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WtaParams:
    """Parameters of one circuit's neurons (defaults: the reference's).

    Attributes:
        R_max: total circuit rate (Hz).
        tau_rise: EPSP rise time constant (ms).
        tau_decay: EPSP decay time constant (ms).
        eta: base learning rate.
        dt: time step (ms).
        learning: apply STDP at postsynaptic spikes.
        variance_tracking: per-weight learning rates from (S, Q); else the constant ``eta``.
        S_init: initial first moment of each weight.
        Q_init: initial second moment of each weight.
    """

    R_max: float = 100.0
    tau_rise: float = 2.0
    tau_decay: float = 20.0
    eta: float = 0.05
    dt: float = 1.0
    learning: bool = True
    variance_tracking: bool = True
    S_init: float = 0.0
    Q_init: float = 1.0


def epsp_kernel(n_steps: int, params: WtaParams = WtaParams()) -> np.ndarray:
    """The sampled EPSP kernel ``exp(-n dt/tau_decay) - exp(-n dt/tau_rise)``, n = 0..n_steps-1, shape (n_steps,)."""
    n = np.arange(n_steps) * params.dt
    return np.exp(-n / params.tau_decay) - np.exp(-n / params.tau_rise)


def epsps(arrivals: np.ndarray, params: WtaParams = WtaParams()) -> np.ndarray:
    """EPSPs of all afferents by convolution of their arrivals with the kernel.

    Args:
        arrivals: summed amplitudes arriving per step and afferent, shape (n_steps, n_afferents).

    Returns:
        y, shape (n_steps, n_afferents).
    """
    arrivals = np.asarray(arrivals, dtype=float)
    n_steps = arrivals.shape[0]
    kernel = epsp_kernel(n_steps, params)
    y = np.empty_like(arrivals)
    for i in range(arrivals.shape[1]):
        y[:, i] = np.convolve(arrivals[:, i], kernel)[:n_steps]
    return y


def softmax_probabilities(u: np.ndarray, params: WtaParams = WtaParams()) -> np.ndarray:
    """Per-step spike probabilities ``R_max dt/1000 softmax(u)`` along the last axis (u: (..., K))."""
    u = np.asarray(u, dtype=float)
    e = np.exp(u - u.max(axis=-1, keepdims=True))
    return params.R_max * params.dt / 1000.0 * e / e.sum(axis=-1, keepdims=True)


def stdp_update(
    w: np.ndarray, S: np.ndarray, Q: np.ndarray, y: np.ndarray, params: WtaParams = WtaParams()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One postsynaptic spike's update of a neuron's weights and moments (arrays of shape (n_afferents,))."""
    if params.variance_tracking:
        eta = params.eta * (Q - S**2) / (np.exp(-S) + 1.0)
    else:
        eta = np.full_like(w, params.eta)
    ew = np.exp(w)
    w_new = w + eta * (y - ew) / np.maximum(ew, eta)
    if params.variance_tracking:
        S = S + eta * (w_new - S)
        Q = Q + eta * (w_new**2 - Q)
    return w_new, S, Q


@dataclass
class CircuitRun:
    """What :func:`run_circuit` computed, per step.

    Attributes:
        u: membrane potentials, shape (n_steps, K).
        p: spike probabilities, shape (n_steps, K).
        spikes: spikes, bool, shape (n_steps, K).
        weights: weights after each step's update, shape (n_steps, K, n_afferents).
        y: EPSPs, shape (n_steps, n_afferents).
        S, Q: final moments, shape (K, n_afferents).
    """

    u: np.ndarray
    p: np.ndarray
    spikes: np.ndarray
    weights: np.ndarray
    y: np.ndarray
    S: np.ndarray
    Q: np.ndarray


def run_circuit(
    arrivals: np.ndarray,
    w_init: np.ndarray,
    params: WtaParams = WtaParams(),
    *,
    w0: np.ndarray | float = 0.0,
    spikes: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> CircuitRun:
    """Run one circuit whose K neurons share the same afferents.

    Args:
        arrivals: amplitudes arriving per step and afferent, shape (n_steps, n_afferents).
        w_init: initial weights, shape (K, n_afferents).
        params: neuron parameters.
        w0: excitabilities, scalar or shape (K,).
        spikes: if given, bool (n_steps, K): the spikes to use instead of drawing them (to
            compare the deterministic parts with a NEST run's own spikes).
        rng: random generator for drawing spikes when ``spikes`` is None.

    Returns:
        A :class:`CircuitRun`.
    """
    y = epsps(arrivals, params)
    n_steps, n_aff = y.shape
    w = np.array(w_init, dtype=float).reshape(-1, n_aff)
    K = w.shape[0]
    S = np.full((K, n_aff), params.S_init)
    Q = np.full((K, n_aff), params.Q_init)
    w0 = np.broadcast_to(np.asarray(w0, dtype=float), (K,))
    if spikes is None:
        rng = rng or np.random.default_rng()
        draws = rng.random(n_steps)
    out_u = np.empty((n_steps, K))
    out_p = np.empty((n_steps, K))
    out_z = np.zeros((n_steps, K), dtype=bool)
    out_w = np.empty((n_steps, K, n_aff))
    for m in range(n_steps):
        u = w0 + w @ y[m]
        p = softmax_probabilities(u, params)
        if spikes is None:
            k = int(np.searchsorted(np.cumsum(p), draws[m], side="right"))
            if k < K:
                out_z[m, k] = True
        else:
            out_z[m] = spikes[m]
        if params.learning:
            for k in np.flatnonzero(out_z[m]):
                w[k], S[k], Q[k] = stdp_update(w[k], S[k], Q[k], y[m], params)
        out_u[m], out_p[m], out_w[m] = u, p, w
    return CircuitRun(u=out_u, p=out_p, spikes=out_z, weights=out_w, y=y, S=S, Q=Q)


def stp_amplitudes(
    spike_times: np.ndarray, U: float = 0.5, tau_d: float = 110.0, tau_f: float = 5.0, weight: float = 1.0
) -> np.ndarray:
    """EPSP amplitudes of one STP connection for its presynaptic spike times (ms, ascending), shape (n,)."""
    times = np.asarray(spike_times, dtype=float)
    out = np.empty(times.size)
    u, R = U, 1.0
    for n, t in enumerate(times):
        out[n] = weight * u * R
        if n > 0:
            delta = t - times[n - 1]
            u_prev, R_prev = u, R
            R = 1.0 + (R_prev - R_prev * u_prev - 1.0) * np.exp(-delta / tau_d)
            u = U + u_prev * (1.0 - U) * np.exp(-delta / tau_f)
    return out


def arrival_matrix(
    n_steps: int, afferent_times: list[np.ndarray], amplitudes: list[np.ndarray] | None = None, *, delay_steps: int = 1, dt: float = 1.0
) -> np.ndarray:
    """Arrivals (n_steps, n_afferents) from each afferent's presynaptic spike stamps (ms).

    A spike with stamp T arrives in step ``round(T/dt) + delay_steps - 1``; arrivals beyond
    ``n_steps`` are dropped. ``amplitudes[i]`` (default 1) gives each spike's amplitude.
    """
    out = np.zeros((n_steps, len(afferent_times)))
    for i, times in enumerate(afferent_times):
        steps = np.rint(np.asarray(times, dtype=float) / dt).astype(int) + delay_steps - 1
        amp = np.ones(steps.size) if amplitudes is None else np.asarray(amplitudes[i], dtype=float)
        keep = (steps >= 0) & (steps < n_steps)
        np.add.at(out[:, i], steps[keep], amp[keep])
    return out
