"""The interface of a user's own model: declare parameters, name populations, build the network.

A model that is not part of spikeflow is a subclass of :class:`Model` in a Python file or an
importable module (see ``docs/your-model.md``)::

    from spikeflow import Model, Param

    class Brunel(Model):
        params = {
            "N_E": Param(8000, "excitatory neurons", minimum=1),
            "g": Param(5.0, "relative strength of inhibition", minimum=0),
            "J": Param(0.1, "EPSP amplitude", unit="mV", minimum=0),
        }

        def populations(self, p):          # name -> size
            return {"E": p.N_E, "I": p.N_E // 4}

        def connections(self, p):          # synapse model -> expected count
            return {"static_synapse": ...}

        def create(self, p):               # NEST calls: neurons and devices
            ...
            return Network(populations={"E": e, "I": i}, devices={"noise": noise})

        def connect(self, net, p):         # NEST calls: connections
            ...

and a study names it: ``model: models/brunel.py`` (the file's only :class:`Model` subclass),
``model: models/brunel.py:Brunel``, ``model: mylab.models:Brunel``, or the name an installed
package registers under the ``spikeflow.models`` entry-point group. spikeflow then validates its
parameters before any job (types, ranges; unknown keys refused), sweeps them, runs it threaded or
under MPI through the one driver, sizes Slurm jobs from its connection counts, writes SONATA
spikes with full metadata and analyses them like a built-in family's.

:class:`UserModel` adapts such a class to the interface the driver and the config code use for
every family (``params_from_config``, ``describe``, ``create``, ``connect``, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from spikeflow.models.network import Network


@dataclass(frozen=True)
class Param:
    """One declared parameter of a user's model.

    Attributes:
        default: its value when the study does not set it; its type (int, float, bool, str, or a
            list of numbers) is the parameter's type (an int default also accepts no float).
        description: what it is, in a few words.
        unit: its unit (ms, mV, pA, Hz, ...), shown in the schema and the docs.
        minimum, maximum: inclusive bounds of a number.
        exclusive_minimum: exclusive lower bound of a number (e.g. 0 for a time constant).
        choices: the allowed values of a string (or number).
    """

    default: Any
    description: str = ""
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    choices: Sequence[Any] | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON schema of this parameter (numbers finite; see :mod:`spikeflow.config`)."""
        d = self.default
        if isinstance(d, bool):
            out: dict[str, Any] = {"type": "boolean"}
        elif isinstance(d, int):
            out = {"type": "integer"}
        elif isinstance(d, float):
            out = {"type": "number"}
        elif isinstance(d, str):
            out = {"type": "string"}
        elif isinstance(d, (list, tuple)) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in d):
            out = {"type": "array", "items": {"type": "number"}}
        else:
            raise TypeError(f"parameter default {d!r} must be an int, float, bool, str or a list of numbers")
        for key, value in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("exclusiveMinimum", self.exclusive_minimum),
        ):
            if value is not None:
                (out["items"] if out["type"] == "array" else out)[key] = value
        if self.choices is not None:
            out["enum"] = list(self.choices)
        out["default"] = list(d) if isinstance(d, tuple) else d
        text = self.description + (f" ({self.unit})" if self.unit else "")
        if text:
            out["description"] = text
        return out


class Values(Mapping[str, Any]):
    """A model's parameter values, read as attributes (``p.N_E``) or keys (``p["N_E"]``); read-only."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"the model has no parameter {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("parameter values are read-only")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Values({dict(self._values)!r})"


class Model:
    """Base class of a user's model. Override :meth:`populations`, :meth:`connections`,
    :meth:`create` and :meth:`connect`; the others are optional.

    Attributes:
        params: parameter name -> :class:`Param` (the model's whole parameter set).
        reference_rates_hz: population -> expected rate (spikes/s), shown beside the measured
            rates in the rates analysis (optional).
    """

    params: Mapping[str, Param] = {}
    reference_rates_hz: Mapping[str, float] = {}

    def derive(self, p: Values) -> Mapping[str, Any]:
        """Quantities computed from the parameters (weights, rates, counts), stored in the metadata."""
        return {}

    def populations(self, p: Values) -> Mapping[str, int]:
        """Population name -> number of neurons, in the order they are created."""
        raise NotImplementedError("a Model must say its populations(p): name -> size")

    def connections(self, p: Values) -> Mapping[str, int]:
        """Synapse model -> expected number of connections (memory estimate, NEST's per-VP limit)."""
        raise NotImplementedError("a Model must say its connections(p): synapse model -> expected count")

    def create(self, p: Values) -> Network | Mapping[str, Any]:
        """Create neurons and devices; return a :class:`Network` (or population name -> NodeCollection)."""
        raise NotImplementedError("a Model must create(p) its neurons")

    def connect(self, net: Network, p: Values) -> None:
        """Connect the network created by :meth:`create`."""
        raise NotImplementedError("a Model must connect(net, p) its network")

    def protocol(self, net: Network, p: Values, sim: Mapping[str, Any]) -> list | None:
        """The run's phases (:class:`spikeflow.driver.Phase`); None: presimulate then simulate."""
        return None

    def check(self, p: Values, sim: Mapping[str, Any]) -> None:
        """Checks across parameters and the ``simulation`` section; raise ValueError (one sentence)."""


@dataclass
class UserDerived:
    """A user's model's parameters (all of them, defaults filled) and what it derives from them."""

    params: Values
    derived: Mapping[str, Any] = field(default_factory=dict)


class UserModel:
    """A :class:`Model` subclass seen through the interface of spikeflow's families.

    Args:
        cls: the model class.
        name: what the study config says (a file, module or entry-point name).
    """

    def __init__(self, cls: type, name: str) -> None:
        self.model = cls()
        self.name = name
        self.label = cls.__name__
        for key, param in dict(cls.params).items():
            if not isinstance(param, Param):
                raise TypeError(f"model {self.label}: params[{key!r}] must be a spikeflow Param, not {type(param).__name__}")

    def params_schema(self) -> dict[str, Any]:
        """The JSON schema of the model's ``params`` section (unknown keys refused)."""
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: param.schema() for key, param in self.model.params.items()},
        }

    def params_from_config(self, params: Mapping[str, Any]) -> UserDerived:
        """All parameters (defaults filled in) and the model's derived quantities.

        Raises:
            ValueError: a key the model does not declare (one sentence).
        """
        unknown = sorted(set(params) - set(self.model.params))
        if unknown:
            raise ValueError(f"model {self.label} has no parameter {unknown[0]!r} (it has: {', '.join(self.model.params)})")
        values = {key: params.get(key, param.default) for key, param in self.model.params.items()}
        p = Values(values)
        return UserDerived(p, dict(self.model.derive(p) or {}))

    def resolved_params(self, d: UserDerived) -> dict[str, Any]:
        return dict(d.params)

    def check_config(self, cfg: Mapping[str, Any]) -> None:
        self.model.check(self.params_from_config(cfg["params"]).params, cfg["simulation"])

    def describe(self, d: UserDerived) -> dict[str, Any]:
        """Populations, connection counts and reference rates, as every family describes itself."""
        pops = [{"name": str(n), "size": int(s)} for n, s in self.model.populations(d.params).items()]
        connections = {str(k): int(v) for k, v in self.model.connections(d.params).items()}
        for pop in pops:
            if pop["size"] < 1:
                raise ValueError(f"model {self.label}: population {pop['name']} has {pop['size']} neurons")
        return {
            "populations": pops,
            "connections": connections,
            "recurrent_synapses": sum(connections.values()),
            "reference_rates_hz": {str(k): float(v) for k, v in dict(self.model.reference_rates_hz).items()},
            "derived": {k: _plain(v) for k, v in d.derived.items()},
        }

    def create(self, d: UserDerived) -> Network:
        made = self.model.create(d.params)
        net = made if isinstance(made, Network) else Network(populations=dict(made))
        expected = [p for p in self.model.populations(d.params)]
        if list(net.populations) != expected:
            raise ValueError(
                f"model {self.label}: create() made populations {list(net.populations)}, but populations() names {expected}"
            )
        for name, size in self.model.populations(d.params).items():
            if len(net.populations[name]) != int(size):
                raise ValueError(
                    f"model {self.label}: population {name} has {len(net.populations[name])} neurons, "
                    f"but populations() says {size}"
                )
        return net

    def connect(self, net: Network, d: UserDerived) -> None:
        self.model.connect(net, d.params)

    def protocol(self, net: Network, d: UserDerived, sim: Mapping[str, Any]) -> list:
        from spikeflow.driver.phases import standard_protocol

        phases = self.model.protocol(net, d.params, sim)
        return list(phases) if phases is not None else standard_protocol(sim)

    def set_plasticity(self, net: Network, on: bool) -> None:
        hook = getattr(self.model, "set_plasticity", None)
        if hook is not None:
            hook(net, on)


def _plain(value: Any) -> Any:
    """A value the metadata (JSON) can hold: numbers, strings, lists, dicts; numpy arrays as lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
