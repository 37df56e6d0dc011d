"""Mean-field theory of networks of leaky integrate-and-fire populations (no NEST needed).

Plain functions in the style of NNMT "tools":

* :mod:`~spikeflow.meanfield.transfer`: mean and standard deviation of the input, the
  Siegert transfer function (with the colored-noise shift of Fourcaud & Brunel 2002),
  the network rate map ``Phi(nu)``;
* :mod:`~spikeflow.meanfield.fixed_points`: all self-consistent rates ``nu = Phi(nu)``
  from many random initial conditions;
* :mod:`~spikeflow.meanfield.stability`: Jacobian of ``tau dnu/dt = -nu + Phi(nu)``,
  eigenvalues and a verdict (stable/unstable node/focus, saddle, marginal).

Units throughout: times in s, rates in Hz, voltages and weights in mV.

Example::

    from functools import partial
    net = LIFNetwork(K=..., J=..., tau_m=0.02, tau_ref=0.002, theta=20.0, V_r=10.0, ...)
    phi = partial(rate_map, network=net)
    fps = find_fixed_points(phi, net.n_pop, n_init=50, seed=1)
    verdicts = [stability(phi, nu).verdict for nu in fps.rates]
"""

from __future__ import annotations

import importlib

# numpy only, and imported here so that ``spikeflow.meanfield.stability`` stays the function
# (as it always was), whichever is imported first.
from spikeflow.meanfield.stability import (
    VERDICTS,
    Stability,
    classify,
    jacobian,
    stability,
)

#: Where the other public names live. Imported on first use (PEP 562), so that importing
#: a submodule (``spikeflow.meanfield.stability``, say) does not pay for scipy.optimize and
#: scipy.special.
_WHERE = {
    "FixedPoints": "fixed_points",
    "find_fixed_points": "fixed_points",
    "initial_rates": "fixed_points",
    "LIFNetwork": "transfer",
    "colored_noise_shift": "transfer",
    "deterministic_rate": "transfer",
    "mean_input": "transfer",
    "rate_map": "transfer",
    "siegert": "transfer",
    "std_input": "transfer",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"spikeflow.meanfield.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spikeflow.meanfield' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "LIFNetwork",
    "colored_noise_shift",
    "deterministic_rate",
    "mean_input",
    "std_input",
    "siegert",
    "rate_map",
    "FixedPoints",
    "initial_rates",
    "find_fixed_points",
    "VERDICTS",
    "Stability",
    "jacobian",
    "classify",
    "stability",
]
