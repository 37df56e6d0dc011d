"""TrainingConfig: a training run's config for notebook users, and the checks ``spikeflow train`` adds.

``TrainingConfig(neuron_model="iaf_cond_exp", synapse_model="stdp_triplet_synapse", n_epochs=5)``
takes the keys of the ``params`` block (see ``schemas/training.params.schema.yaml``) and of the
``simulation`` block (seed, threads, ranks, resolution, t_presim, progress_interval) as keyword
arguments; ``simulation.t_sim`` follows from ``n_epochs x epoch_ms``. Familiar names of the
original NESTConfig are accepted too: ``num_neurons``, ``connectivity_density``, ``num_threads``,
``output_dir``. Everything is validated like a study config, before any NEST call.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from spikeflow.config import ConfigError, dump_yaml, load_yaml, resolve_run, simulation_part
from spikeflow.models.training.params import TrainingParams

SIMULATION_KEYS = ("t_presim", "resolution", "seed", "threads", "ranks", "progress_interval")
ALIASES = {"num_neurons": "n_neurons", "connectivity_density": "density", "num_threads": "threads", "warmup_ms": "t_presim"}
PARAM_KEYS = tuple(f.name for f in fields(TrainingParams))


def check_training_run(cfg: Mapping[str, Any]) -> None:
    """Checks of a resolved ``model: training`` run config beyond the schema.

    Raises:
        ConfigError: ``simulation.t_sim`` is not ``n_epochs x epoch_ms``, or a length is not a
            multiple of the resolution, or the delay is shorter than one step.
    """
    if cfg.get("model") != "training":
        raise ConfigError(f"config has model {cfg.get('model')!r}; `spikeflow train` runs model: training")
    p, sim = cfg["params"], cfg["simulation"]
    total = p["n_epochs"] * p["epoch_ms"]
    if abs(float(sim["t_sim"]) - total) > 1e-9 * max(1.0, total):
        raise ConfigError(
            f"config key 'simulation.t_sim' is {sim['t_sim']} ms but params.n_epochs x params.epoch_ms is {total} ms; "
            "set simulation.t_sim to the trained time"
        )
    res = float(sim["resolution"])
    for key in ("epoch_ms", "pattern_ms", "delay"):
        steps = float(p[key]) / res
        if abs(steps - round(steps)) > 1e-6:
            raise ConfigError(f"config key 'params.{key}' is {p[key]} ms, not a multiple of the resolution {res} ms")
    if float(p["delay"]) < res:
        raise ConfigError(f"config key 'params.delay' is {p['delay']} ms, shorter than the resolution {res} ms")


class TrainingConfig:
    """A validated training run config.

    Attributes:
        run_config: the resolved run config (``model``, ``params``, ``simulation``, ...), as
            ``spikeflow resolve`` writes it.
        output_dir: where :meth:`spikeflow.models.training.Trainer.write_outputs` writes by default (or None).
    """

    def __init__(self, study: str = "training", output_dir: str | Path | None = None, **kwargs: Any) -> None:
        params: dict[str, Any] = {}
        simulation: dict[str, Any] = {"t_presim": 0.0, "progress_interval": 0.0}
        for key, value in kwargs.items():
            key = ALIASES.get(key, key)
            if key in PARAM_KEYS:
                params[key] = value
            elif key in SIMULATION_KEYS:
                simulation[key] = value
            else:
                allowed = ", ".join(sorted(PARAM_KEYS + SIMULATION_KEYS + tuple(ALIASES)))
                raise ConfigError(f"unknown TrainingConfig key {key!r} (allowed: {allowed})")
        if isinstance(params.get("plastic"), str):
            params["plastic"] = [params["plastic"]]
        defaults = TrainingParams()
        n = params.get("n_epochs", defaults.n_epochs)
        ms = params.get("epoch_ms", defaults.epoch_ms)
        simulation["t_sim"] = float(n) * float(ms)
        raw = {"study": study, "model": "training", "params": params, "simulation": simulation}
        self._set(raw)
        self.output_dir = Path(output_dir) if output_dir is not None else None

    def _set(self, raw: Mapping[str, Any]) -> None:
        run = resolve_run(dict(raw))
        check_training_run(run.config)
        self.run_config = simulation_part(run.config) | {k: v for k, v in run.config.items() if k not in simulation_part(run.config)}

    @classmethod
    def from_run_config(cls, cfg: Mapping[str, Any]) -> "TrainingConfig":
        """From a (resolved or raw) run config mapping without a sweep."""
        if cfg.get("sweep"):
            raise ConfigError("the config has a sweep, so it describes several runs; choose one with `spikeflow resolve`")
        self = cls.__new__(cls)
        self._set(copy.deepcopy(dict(cfg)))
        self.output_dir = None
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainingConfig":
        """From a YAML run or study config (``model: training``, no sweep)."""
        return cls.from_run_config(load_yaml(path))

    def to_yaml(self, path: str | Path) -> Path:
        """Write the resolved run config as YAML (what ``spikeflow train --config`` reads), atomically."""
        from spikeflow.io.atomic import atomic_path

        text = dump_yaml(simulation_part(self.run_config))
        with atomic_path(path) as tmp:
            tmp.write_text(text)
        return Path(path)

    def with_epochs(self, n_epochs: int) -> "TrainingConfig":
        """The same config trained for ``n_epochs`` epochs (t_sim adjusted)."""
        raw = copy.deepcopy(self.run_config)
        raw["params"]["n_epochs"] = int(n_epochs)
        raw["simulation"]["t_sim"] = float(n_epochs) * float(raw["params"]["epoch_ms"])
        other = TrainingConfig.from_run_config(raw)
        other.output_dir = self.output_dir
        return other

    @property
    def params(self) -> dict[str, Any]:
        return self.run_config["params"]

    @property
    def simulation(self) -> dict[str, Any]:
        return self.run_config["simulation"]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("run_config", "output_dir"):
            raise AttributeError(name)
        key = ALIASES.get(name, name)
        if key in self.run_config.get("params", {}):
            return self.run_config["params"][key]
        if key in self.run_config.get("simulation", {}):
            return self.run_config["simulation"][key]
        raise AttributeError(f"TrainingConfig has no {name!r}")

    def __repr__(self) -> str:
        p = self.params
        return (
            f"TrainingConfig({p['neuron_model']} x {p['synapse_model']}, {p['n_neurons']} neurons, "
            f"{p['n_epochs']} epochs x {p['epoch_ms']} ms, seed {self.simulation['seed']})"
        )
