"""What a user changes on the Snakemake command line: ``--config`` overrides and ``--config run=ID``.

Snakemake reads a nested ``--config`` value with YAML's base loader, so every scalar in it
arrives as a string: ``--config simulation='{seed: 7}'`` gives ``{"simulation": {"seed": "7"}}``.
:func:`coerce_overrides` turns such strings into the type the study schema (or the model's
parameter schema) wants at that key, and only where the string is an exact literal of that
type: ``"7"`` becomes 7 for an integer, ``"0.5"`` 0.5 for a number, ``"true"`` True for a
boolean, ``"null"`` None where null is allowed. Anything else stays a string, so the schema
still names the key and the bad value.

:func:`selected_runs` is the ``run`` key: the run ids ``rule all`` asks for.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Mapping

from spikeflow.config import ConfigError, _schema

# YAML 1.2 core-schema literals (what a YAML file would read as that type)
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"null", "Null", "NULL", "~"}

# study sections whose keys a user may mistake for top-level keys on the command line
_SECTIONS = ("simulation", "resources", "analysis")


def coerce_overrides(
    config: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    schema: Callable[[str], dict[str, Any]] = _schema,
) -> dict[str, Any]:
    """``config`` with the command line's string values converted to their schema types.

    Args:
        config: the merged config as Snakemake holds it (config files, then ``--config``).
        overrides: the ``--config`` part alone (only its values are converted, and only its
            top-level keys are checked for a missing section); None converts all of ``config``.
        schema: schema loader by name (``"study"``, ``"<model>.params"``).

    Returns:
        A new config; ``config`` is not changed.

    Raises:
        ConfigError: an override's top-level key is a key of a section (``--config seed=7``),
            with the form to type instead.
    """
    study_schema = schema("study")
    model = config.get("model")
    try:
        params_schema = schema(f"{model}.params") if isinstance(model, str) else {}
    except (FileNotFoundError, OSError):
        params_schema = {}
    source = config if overrides is None else overrides
    if overrides is not None:
        _check_top_level(overrides, study_schema, params_schema)
    coerced = _coerce_study(copy.deepcopy(dict(source)), study_schema, params_schema)
    if overrides is None:
        return coerced
    result = copy.deepcopy(dict(config))
    _merge(result, coerced)
    return result


def selected_runs(run_ids: list[str], study: str, run: Any = None) -> list[str]:
    """The run ids ``rule all`` asks for: all of them, or the one named by the ``run`` key.

    Raises:
        ConfigError: ``run`` names no run of the study (the message lists the valid ids).
    """
    if run is None or run == "":
        return list(run_ids)
    if run not in run_ids:
        raise ConfigError(
            f"config key 'run' is {run!r}, which is not a run of study {study}; "
            f"its runs are {', '.join(run_ids)} (`spikeflow validate CONFIG` lists them)"
        )
    return [run]


def coerce(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """``value`` with its strings converted to what ``schema`` wants where they are exact literals."""
    root = schema if root is None else root
    schema = _deref(schema, root)
    if isinstance(value, str):
        return _coerce_scalar(value, schema, root)
    if isinstance(value, dict):
        return {key: coerce(item, _property(schema, key, root), root) for key, item in value.items()}
    if isinstance(value, list):
        return [coerce(item, _item(schema, i, root), root) for i, item in enumerate(value)]
    return value


def _coerce_study(cfg: dict[str, Any], study: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in cfg.items():
        if key == "params":
            out[key] = coerce(value, params)
        elif key == "sweep" and isinstance(value, dict):
            out[key] = {path: _coerce_sweep_axis(path, axis, study, params) for path, axis in value.items()}
        else:
            out[key] = coerce(value, study.get("properties", {}).get(key, {}), study)
    return out


def _coerce_sweep_axis(path: str, axis: Any, study: dict[str, Any], params: dict[str, Any]) -> Any:
    """One sweep axis: each value is coerced against the schema of the key it sets."""
    if not isinstance(axis, list):
        return axis
    if path == "cases":
        return [_coerce_study(case, study, params) if isinstance(case, dict) else case for case in axis]
    target, root = _schema_at(path.split("."), study, params)
    return [coerce(value, target, root) for value in axis]


def _schema_at(parts: list[str], study: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema of a dotted config path (``params.*`` in the model's schema) and its root."""
    if parts and parts[0] == "params":
        node, root, parts = params, params, parts[1:]
    else:
        node, root = study, study
    for part in parts:
        node = _deref(node, root)
        if isinstance(node.get("items"), dict) and part.isdigit():
            node = node["items"]
        else:
            node = _property(node, part, root)
    return node, root


def _property(schema: Mapping[str, Any], key: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    schema = _deref(schema, root)
    props = schema.get("properties", {})
    if key in props:
        return props[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def _item(schema: Mapping[str, Any], index: int, root: Mapping[str, Any]) -> Mapping[str, Any]:
    schema = _deref(schema, root)
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return prefix[index]
    items = schema.get("items")
    return items if isinstance(items, dict) else {}


def _deref(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/name``); other references are left unresolved."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/") and seen < 20:
        node: Any = root
        for part in schema["$ref"][2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        schema, seen = node, seen + 1
    return schema if isinstance(schema, Mapping) else {}


def _types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types ``schema`` allows ("" when it does not say)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "enum" in schema:
        kinds = set()
        for value in schema["enum"]:
            if isinstance(value, bool):
                kinds.add("boolean")
            elif isinstance(value, int):
                kinds.add("integer")
            elif isinstance(value, float):
                kinds.add("number")
            elif value is None:
                kinds.add("null")
            else:
                kinds.add("string")
        return kinds
    return set()


def _coerce_scalar(text: str, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    types = _types(schema)
    if not types or "string" in types:  # a string is what is wanted (or nothing is said)
        return text
    if types & {"integer", "number"} and _INT.fullmatch(text):
        return int(text)
    if "number" in types and _FLOAT.fullmatch(text):
        return float(text)
    if "boolean" in types and text in _BOOL:
        return _BOOL[text]
    if "null" in types and text in _NULL:
        return None
    return text


def _merge(target: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Snakemake's ``update_config``: mappings merged key by key, anything else replaced."""
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _check_top_level(overrides: Mapping[str, Any], study: dict[str, Any], params: dict[str, Any]) -> None:
    """Refuse ``--config seed=7`` (a section's key given at the top level) with the form that works."""
    known = study.get("properties", {})
    for key, value in overrides.items():
        if key in known:
            continue
        sections = [name for name in _SECTIONS if key in _deref(known.get(name, {}), study).get("properties", {})]
        if key in params.get("properties", {}):
            sections.append("params")
        if sections:
            raise ConfigError(
                f"--config {key}={value} is not a study key; give it inside its section, "
                f"e.g. --config {sections[0]}='{{{key}: {value}}}'"
            )
