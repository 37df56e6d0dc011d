"""Study configs: load, validate against the JSON Schema (filling defaults), expand sweeps into runs.

Every error is a :class:`ConfigError` whose message is one sentence naming the key, the bad
value and what is allowed, raised before any simulation starts.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from spikeflow.io.yaml_safe import ConfigFileError, check_tree, dump_config_text, load_config_file
from spikeflow.models import ModelNotFoundError, get_model, params_schema, resolve_model_name
from spikeflow.preflight import check_run


class ConfigError(ValueError):
    """A config that spikeflow refuses to run, with a one-sentence reason."""


# Most runs a study's sweep may expand to (the product of its lists' lengths); a larger sweep is
# refused before anything is expanded.
MAX_RUNS = 10_000

# The sections of a run config that determine its spikes (analysis options and resources do not).
SIMULATION_KEYS = ("study", "model", "params", "simulation", "recording")


def simulation_part(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved run config that determines its spikes."""
    return {key: cfg[key] for key in SIMULATION_KEYS if key in cfg}


@dataclass(frozen=True)
class Run:
    """One simulation of a study.

    Attributes:
        run_id: directory name of the run within the study, e.g. ``"seed55"``.
        config: the fully resolved config of this run (defaults filled, sweep applied, full
            model parameters), which is what ``spikeflow simulate`` reads.
    """

    run_id: str
    config: dict[str, Any]
    series: str = ""

    @property
    def threads(self) -> int:
        return int(self.config["simulation"]["threads"])

    @property
    def ranks(self) -> int:
        return int(self.config["simulation"]["ranks"])


@dataclass(frozen=True)
class Study:
    """A validated study: its name and its runs (in sweep order)."""

    name: str
    runs: tuple[Run, ...]

    def series(self) -> dict[str, list[str]]:
        """Scaling series label -> its run ids, in run order ("all" when the sweep names none)."""
        groups: dict[str, list[str]] = {}
        for run in self.runs:
            groups.setdefault(run.series or "all", []).append(run.run_id)
        return groups

    def run(self, run_id: str) -> Run:
        for r in self.runs:
            if r.run_id == run_id:
                return r
        raise KeyError(f"study {self.name} has no run {run_id!r}")

    def select(self, run_id: str | None = None) -> Run:
        """The run ``run_id``, or the only run when ``run_id`` is None.

        Raises:
            ConfigError: no run id given for a study with several runs.
        """
        if run_id is not None:
            return self.run(run_id)
        if len(self.runs) > 1:
            ids = ", ".join(r.run_id for r in self.runs)
            raise ConfigError(f"study {self.name} has {len(self.runs)} runs ({ids}); choose one with --run")
        return self.runs[0]

    def network_sets(self, analysis: str = "meanfield") -> dict[str, str]:
        """One entry per distinct network: set name -> the first run with that network.

        Runs whose ``params`` (and ``analysis.<analysis>`` options) are equal - they differ only
        in how they are simulated (seed, threads, ranks) - share a set, named after the first
        such run without its seed label (``seed55`` alone becomes ``base``).
        """
        sets: dict[str, str] = {}
        seen: set[str] = set()
        for run in self.runs:
            key = json.dumps([run.config["params"], run.config["analysis"].get(analysis)], sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            name = re.sub(r"(^|_)seed\d+(?=_|$)", "", run.run_id).strip("_") or "base"
            sets[run.run_id if name in sets else name] = run.run_id
        return sets


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict with :mod:`spikeflow.io.yaml_safe`'s bounded reader.

    YAML 1.2 numbers (``1e9`` is a float), aliases allowed up to a bounded expanded size, nesting
    bounded, UTF-8 only, string keys only; an empty file or one that is not a mapping is an error.
    """
    try:
        return load_config_file(path)
    except ConfigFileError as err:
        raise ConfigError(str(err)) from None


def load_study(config: Mapping[str, Any] | str | Path, base_dir: str | Path | None = None) -> Study:
    """Validate a study config and expand its sweep into runs.

    Args:
        config: the config mapping (as Snakemake holds it) or a YAML file name.
        base_dir: where a relative model file (``model: models/mine.py``) is looked for first
            (default: the config file's folder; then the current directory).

    Returns:
        The study, each run's config resolved and checked (schema, model parameters, and the
        pre-flight checks of :mod:`spikeflow.preflight`).

    Raises:
        ConfigError: naming the first bad key.
    """
    raw = load_yaml(config) if isinstance(config, (str, Path)) else copy.deepcopy(dict(config))
    if base_dir is None and isinstance(config, (str, Path)):
        base_dir = Path(config).parent
    base = validate(raw, _schema("study"))
    base["model"] = _model_name(base["model"], base_dir)
    complete = getattr(_model(base["model"]), "complete_params", None)
    if complete is not None:  # e.g. a preset filled in, so that sweeps can address any entry
        try:
            base["params"] = complete(base["params"])
        except ValueError as err:
            raise ConfigError(str(err)) from None
    runs = []
    seen: dict[str, str] = {}
    for run_id, series, cfg in _expand_sweep(base):
        if run_id in seen:
            raise ConfigError(f"sweep gives two runs the same name {run_id!r}; make the swept values distinct")
        seen[run_id] = run_id
        check_plain_name(run_id)
        run = resolve_run(cfg, run_id)
        runs.append(Run(run.run_id, run.config, series))
    check_named_keys(runs)
    check_study_wide_keys(runs)
    return Study(name=base["study"], runs=tuple(runs))


# A run's directory name under results/<study>/: no path separator, not "." or "..", not hidden.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")


def check_plain_name(run_id: str) -> None:
    """Refuse a run id that is not a plain directory name (it would write outside its study's folder)."""
    if not PLAIN_NAME.match(run_id):
        raise ConfigError(
            f"the sweep makes the run name {run_id!r}, which is not a plain name of letters, digits, '_', '-' "
            "and '.' that does not start with '.'; change the swept values"
        )


def check_named_keys(runs: list[Run]) -> None:
    """Refuse analysis options that name a config key (``analysis.attractors.group_by``) no run has."""
    for run in runs:
        path = run.config.get("analysis", {}).get("attractors", {}).get("group_by", "")
        if path and not has_path(run.config, path.removeprefix("config.")):
            raise ConfigError(
                f"run {run.run_id}: config key 'analysis.attractors.group_by' names {path!r}, which is not a key "
                "of the run's config (e.g. params.j_potentiated or simulation.seed)"
            )


#: Keys a sweep may not vary: they decide what a study's analysis rules write (one set of files for all runs).
STUDY_WIDE_KEYS = ("analysis.rates.figures", "analysis.attractors.figures")


def check_study_wide_keys(runs: list[Run]) -> None:
    """Refuse a sweep that gives runs of one study different :data:`STUDY_WIDE_KEYS` values."""
    for key in STUDY_WIDE_KEYS:
        values = {repr(path_value(run.config, key, None)) for run in runs}
        if len(values) > 1:
            raise ConfigError(
                f"config key {key!r} differs between the runs of the study ({', '.join(sorted(values))}); "
                "it decides which files every run's analysis writes, so set it once, outside the sweep"
            )


_ABSENT = object()


def path_value(cfg: Mapping[str, Any], dotted: str, default: Any = _ABSENT) -> Any:
    """The value at the dotted path in ``cfg`` (a numeric part indexes a list).

    Raises:
        KeyError: the path names no value and no ``default`` is given.
    """
    node: Any = cfg
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif default is not _ABSENT:
            return default
        else:
            raise KeyError(dotted)
    return node


def has_path(cfg: Mapping[str, Any], dotted: str) -> bool:
    """Whether the dotted path (a numeric part indexes a list) names a value in ``cfg``."""
    try:
        path_value(cfg, dotted)
    except KeyError:
        return False
    return True


def resolve_run(cfg: Mapping[str, Any], run_id: str = "") -> Run:
    """Validate one run's config and fill in the model's full parameter set."""
    where = f"run {run_id}: " if run_id else ""
    cfg = validate(dict(cfg), _schema("study"), prefix=where)
    cfg.pop("sweep", None)
    cfg["model"] = _model_name(cfg["model"], None)
    model = _model(cfg["model"])
    try:
        schema = params_schema(cfg["model"])
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}model {cfg['model']}: {err}") from None
    params = validate(cfg["params"], schema, prefix=where, root="params")
    try:
        derived = model.params_from_config(params)
    except ValueError as err:
        raise ConfigError(f"{where}{err}") from None
    resolved = getattr(model, "resolved_params", None)
    cfg["params"] = resolved(derived) if resolved is not None else derived.params.to_dict()
    family_check = getattr(model, "check_config", None)  # a family's checks across config sections
    if family_check is not None:
        try:
            family_check(cfg)
        except ValueError as err:
            raise ConfigError(f"{where}{err}") from None
    try:
        check_run(model.describe(derived), cfg)
    except ValueError as err:
        raise ConfigError(f"{where}{err}") from None
    return Run(run_id=run_id or f"seed{cfg['simulation']['seed']}", config=cfg)


def _model_name(name: str, base_dir: str | Path | None) -> str:
    """The canonical model name (a model file's absolute path); ConfigError if the file is missing."""
    try:
        return resolve_model_name(name, base_dir)
    except ModelNotFoundError as err:
        raise ConfigError(f"config key 'model': {err}") from None


def _model(name: str) -> Any:
    """The model ``name`` names; ConfigError (one sentence) if it cannot be loaded."""
    try:
        return get_model(name)
    except ModelNotFoundError as err:
        raise ConfigError(f"config key 'model': {err}") from None


def validate(instance: dict[str, Any], schema: dict[str, Any], prefix: str = "", root: str = "") -> dict[str, Any]:
    """Validate ``instance`` against ``schema``, filling defaults; raise ConfigError on the first error.

    Before the schema: the mapping must be bounded in size and depth, with string keys (a config
    read by Snakemake's YAML loader has not been through :mod:`spikeflow.io.yaml_safe`). After it:
    every float must be finite (:func:`_check_finite`).
    """
    try:
        check_tree(instance, name=f"{prefix}config" + (f" section '{root}'" if root else ""))
    except ConfigFileError as err:
        raise ConfigError(str(err)) from None
    instance = copy.deepcopy(instance)
    validator = _default_filling_validator()(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        wanted = err.validator_value if err.validator == "type" else None
        wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
        if isinstance(err.instance, str) and {"number", "integer"} & set(wanted) and _YAML12_FLOAT.match(err.instance):
            # a number YAML 1.1 reads as a string (Snakemake reads --configfile files so): say so
            number = float(err.instance.replace("_", ""))
            written = str(int(number)) if number.is_integer() and "number" not in wanted else repr(number)
            key = ".".join(([root] if root else []) + [str(p) for p in err.absolute_path])
            raise ConfigError(
                f"{prefix}config key '{key}' is the string {err.instance!r}, not a number (a YAML 1.1 reader, "
                f"such as Snakemake's for --configfile, reads {err.instance} as a string); write {written}"
            )
        raise ConfigError(prefix + _describe(err, root))
    _check_finite(instance, schema, prefix, root)
    return instance


_YAML12_FLOAT = re.compile(r"^[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)[eE][-+]?[0-9]+$")


def _check_finite(instance: Any, schema: Mapping[str, Any], prefix: str = "", root: str = "") -> None:
    """Refuse NaN and infinities (JSON Schema's ranges let them through), naming the key.

    Every float of a config must be finite unless the schema of its key (or of a section above
    it) says ``x-allow-nonfinite: true`` (no key does today). Sweep values are checked against
    the schema of the key they set (``cases`` entries against the whole config's).
    """
    stack: list[tuple[Any, Any, tuple[str, ...]]] = [(instance, schema, ())]
    while stack:
        node, sub, path = stack.pop()
        if isinstance(sub, Mapping) and sub.get("x-allow-nonfinite") is True:
            continue
        if isinstance(node, float) and not math.isfinite(node):
            if len(path) >= 3 and path[0] == "sweep" and not root:
                where = f", at '{'.'.join(path[3:])}'" if len(path) > 3 else ""
                raise ConfigError(
                    f"{prefix}sweep key '{path[1]}' has the value {node} (entry {int(path[2]) + 1}{where}); "
                    "it must be a finite number"
                )
            key = ".".join(([root] if root else []) + list(path))
            raise ConfigError(f"{prefix}config key '{key}' is {node}; it must be a finite number")
        if isinstance(node, Mapping):
            for key, value in node.items():
                if path == ("sweep",) and not root:  # a sweep key's values set the key it names
                    target = schema if key == "cases" else _subschema_at(schema, str(key).split("."))
                    stack.extend((item, target, path + (str(key), str(i))) for i, item in enumerate(value or ()))
                else:
                    stack.append((value, _subschema(schema, sub, str(key)), path + (str(key),)))
        elif isinstance(node, list):
            stack.extend((item, _subschema(schema, sub, str(i)), path + (str(i),)) for i, item in enumerate(node))


def _subschema(root: Mapping[str, Any], sub: Any, key: str) -> Any:
    """The schema of ``key`` (a property name or a list index) under ``sub`` ({} when open)."""
    sub = _deref(root, sub)
    if not isinstance(sub, Mapping):
        return {}
    if key in sub.get("properties", {}):
        return _deref(root, sub["properties"][key])
    if key.isdigit():
        prefix_items = sub.get("prefixItems", [])
        if int(key) < len(prefix_items):
            return _deref(root, prefix_items[int(key)])
        if isinstance(sub.get("items"), Mapping):
            return _deref(root, sub["items"])
    return _deref(root, sub["additionalProperties"]) if isinstance(sub.get("additionalProperties"), Mapping) else {}


def _deref(root: Mapping[str, Any], sub: Any) -> Any:
    """Follow local ``$ref``s (``#/$defs/...``) of a schema."""
    for _ in range(16):
        if not (isinstance(sub, Mapping) and isinstance(sub.get("$ref"), str) and sub["$ref"].startswith("#/")):
            break
        target: Any = root
        for part in sub["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        sub = target
    return sub


def _subschema_at(root: Mapping[str, Any], parts: list[str]) -> Any:
    sub: Any = root
    for part in parts:
        sub = _subschema(root, sub, part)
    return sub


def _describe(err: Any, root: str) -> str:  # a jsonschema.ValidationError
    path = [root] if root else []
    path += [str(p) for p in err.absolute_path]
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        key = ".".join(path + [extra[0]]) if extra else ".".join(path)
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown config key '{key}' (allowed here: {allowed})"
    if err.validator == "required":
        return f"config is missing the required key {err.message.split()[0]}"
    key = ".".join(path) or "<top level>"
    if err.validator == "pattern" and "x-message" in err.schema:
        return f"config key '{key}' is {err.instance!r}; it {err.schema['x-message']}"
    if err.validator == "enum":
        return f"config key '{key}' is {err.instance!r}; allowed values: {', '.join(map(str, err.validator_value))}"
    return f"config key '{key}': {err.message}"


def _extend_with_default(validator_class: type) -> type:
    import jsonschema

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # noqa: ANN001 - jsonschema's signature
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


@lru_cache(maxsize=1)
def _default_filling_validator() -> type:
    """jsonschema's Draft 2020-12 validator that also fills in the schema's defaults.

    Made on first use: jsonschema is imported only by commands that check a config (an
    analysis of a spikes file does not, and starts 0.05 s sooner).
    """
    import jsonschema

    return _extend_with_default(jsonschema.Draft202012Validator)


@lru_cache(maxsize=None)
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("spikeflow").joinpath(f"schemas/{name}.schema.yaml").read_text()
    return yaml.safe_load(text)


def _expand_sweep(base: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (run id, series label, config) for every combination of the sweep."""
    sweep = base.get("sweep") or {}
    if not sweep:
        yield f"seed{base['simulation']['seed']}", "", base
        return
    keys = list(sweep)
    sizes = [len(sweep[k]) for k in keys]
    count = math.prod(sizes)
    if count > MAX_RUNS:  # before expanding anything
        product = " x ".join(f"{n:,}" for n in sizes)
        raise ConfigError(
            f"the sweep gives {count:,} runs ({product}), more than the {MAX_RUNS:,} a study may have; "
            "sweep fewer values, or split it into several studies"
        )
    for values in itertools.product(*(sweep[k] for k in keys)):
        cfg = copy.deepcopy(base)
        labels, series = [], ""
        for key, value in zip(keys, values):
            if key == "cases":
                case = dict(value)
                series = case.pop("series", "")
                for section, part in case.items():
                    _set_path(cfg, section, part)
                labels.append("-".join([series] * bool(series) + [_label(s, v) for s, v in case.items()]))
            else:
                _set_path(cfg, key, value)
                labels.append(_label(key, value))
        yield "_".join(labels), series, cfg


def _set_path(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``value`` at a dotted path; a numeric part indexes a list (``params.j_ext.0``)."""
    *parents, leaf = dotted.split(".")
    node = cfg
    for part in parents:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"sweep key '{dotted}' goes through '{part}', which is not a mapping")
    if isinstance(node, list):
        if not (leaf.isdigit() and int(leaf) < len(node)):
            raise ConfigError(f"sweep key '{dotted}': '{leaf}' is not an index of a list of {len(node)} entries")
        node[int(leaf)] = copy.deepcopy(value)
        return
    if isinstance(value, dict):
        target = node.setdefault(leaf, {})
        if not isinstance(target, dict):
            raise ConfigError(f"sweep key '{dotted}' merges a mapping into a non-mapping value")
        target.update(copy.deepcopy(value))
    else:
        node[leaf] = value


def _label(key: str, value: Any) -> str:
    parts = key.split(".")
    if isinstance(value, dict):
        text = "-".join(f"{k}{v}" for k, v in value.items())
    elif isinstance(value, list):
        text = f"{parts[-1]}" + "-".join(map(str, value))
    elif parts[-1].isdigit() and len(parts) > 1:  # a list entry: name.index-value
        text = f"{parts[-2]}.{parts[-1]}-{value}"
    else:
        text = f"{parts[-1]}{value}"
    return re.sub(r"[^A-Za-z0-9_.-]", "", text)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML text of a resolved config (key order kept), read back the same by YAML 1.1 and 1.2 readers."""
    return dump_config_text(dict(data))
