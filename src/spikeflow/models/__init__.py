"""Model families, and the lookup of a study's ``model``: a built-in family or a user's own model.

A built-in family is a module that provides, without importing NEST at module level:

- ``params_from_config(params: dict) -> Derived``: validated parameters with everything derived
  from them (counts, weights, drive) as plain numbers;
- ``describe(derived) -> dict``: population sizes, reference rates and connection counts per
  synapse model (used for pre-flight checks, memory estimates and the run metadata);
- ``create(derived) -> Network`` and ``connect(network, derived)``: the NEST calls, split so that
  the driver can time the two construction phases separately;
- optionally ``protocol(network, derived, sim)`` (the run's phases, default presimulate +
  simulate), ``set_plasticity``, ``for_run``, ``check_config``, ``check_environment``,
  ``local_results`` and ``write_outputs`` (see :mod:`spikeflow.driver.run`).

A user's model is a :class:`spikeflow.models.api.Model` subclass, named in the study by a file
(``models/brunel.py``, ``models/brunel.py:Brunel``), a module (``mylab.models:Brunel``) or an
entry point of the ``spikeflow.models`` group; :class:`~spikeflow.models.api.UserModel` gives it
the same interface.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

MODELS = {
    "pd14": "spikeflow.models.pd14",
    "clustered": "spikeflow.models.clustered",
    "training": "spikeflow.models.training",
    "sequence": "spikeflow.models.sequence",
}

#: Entry-point group under which installed packages register models (name -> "module:Class").
ENTRY_POINT_GROUP = "spikeflow.models"

# a file (optionally :Class), or a module path with :Class
_FILE = re.compile(r"^(?P<path>[A-Za-z0-9_./~-]+\.py)(?::(?P<attr>[A-Za-z_][A-Za-z0-9_]*))?$")
_MODULE = re.compile(r"^(?P<module>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):(?P<attr>[A-Za-z_][A-Za-z0-9_]*)$")


class ModelNotFoundError(KeyError, ValueError):
    """A study's ``model`` that names nothing loadable (one sentence)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def is_builtin(name: str) -> bool:
    return name in MODELS


def resolve_model_name(name: str, base_dir: str | Path | None = None) -> str:
    """The canonical form of a study's ``model``: a model file's absolute path (``:Class`` kept).

    A relative file path is taken relative to ``base_dir`` (the study config's folder) when the
    file is there, else relative to the current directory.

    Raises:
        ModelNotFoundError: a model file that does not exist.
    """
    m = _FILE.match(name)
    if not m:
        return name
    path = Path(m.group("path")).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = ([Path(base_dir) / path] if base_dir is not None else []) + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            resolved = str(candidate.resolve())
            return resolved + (f":{m.group('attr')}" if m.group("attr") else "")
    where = " or ".join(str(c.parent) for c in candidates)
    raise ModelNotFoundError(f"model file {m.group('path')} does not exist (looked in {where})")


def get_model(name: str) -> Any:
    """The model ``name`` names: a family module, or a :class:`~spikeflow.models.api.UserModel`.

    Raises:
        ModelNotFoundError: nothing of that name, or its file or module cannot be loaded.
    """
    if name in MODELS:
        return importlib.import_module(MODELS[name])
    m = _FILE.match(name)
    if m:
        path = Path(m.group("path")).expanduser().resolve()
        return _user_model(_load_file(str(path), path.stat().st_mtime_ns if path.is_file() else 0), m.group("attr"), name)
    m = _MODULE.match(name)
    if m:
        try:
            module = importlib.import_module(m.group("module"))
        except ImportError as err:
            raise ModelNotFoundError(f"model {name}: cannot import module {m.group('module')} ({err})") from None
        return _user_model(module, m.group("attr"), name)
    point = _entry_points().get(name)
    if point is not None:
        try:
            obj = point.load()
        except Exception as err:  # noqa: BLE001 - a broken plugin is the user's one-sentence error
            raise ModelNotFoundError(f"model {name}: its entry point {point.value} cannot be loaded ({err})") from None
        return _user_model(obj, None, name)
    known = sorted(MODELS) + sorted(_entry_points())
    raise ModelNotFoundError(
        f"unknown model {name!r}; known models: {', '.join(known)} - or a model file (models/mine.py) "
        "or module (mylab.models:Mine) of your own (docs/your-model.md)"
    )


@lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int) -> Any:
    """Import a model file as a module of its own (reloaded when the file changes)."""
    file = Path(path)
    if not file.is_file():
        raise ModelNotFoundError(f"model file {path} does not exist")
    module_name = "spikeflow_user_model_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - whatever the user's file raises, one sentence
        sys.modules.pop(module_name, None)
        where = ""
        if isinstance(err, SyntaxError):
            where = f" at line {err.lineno}"
        raise ModelNotFoundError(f"model file {path} cannot be loaded{where}: {type(err).__name__}: {err}") from None
    return module


def _user_model(obj: Any, attr: str | None, name: str) -> Any:
    from spikeflow.models.api import Model, UserModel

    if attr is not None:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise ModelNotFoundError(f"model {name}: {attr} is not defined there") from None
    if inspect.ismodule(obj):
        if hasattr(obj, "params_from_config") and hasattr(obj, "create"):
            return obj  # a module with the family interface
        found = [v for v in vars(obj).values() if inspect.isclass(v) and issubclass(v, Model) and v is not Model and v.__module__ == obj.__name__]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)} ({', '.join(c.__name__ for c in found)})"
            raise ModelNotFoundError(
                f"model {name} defines {what} spikeflow Model subclasses; name one as {name.split(':')[0]}:ClassName"
            )
        obj = found[0]
    if inspect.isclass(obj) and issubclass(obj, Model):
        try:
            return UserModel(obj, name)
        except TypeError as err:
            raise ModelNotFoundError(f"model {name}: {err}") from None
    raise ModelNotFoundError(f"model {name} is not a spikeflow Model subclass (see docs/your-model.md)")


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def params_schema(name: str) -> dict[str, Any]:
    """The JSON schema of the ``params`` section of model ``name``."""
    if name in MODELS:
        from spikeflow.config import _schema

        return _schema(f"{name}.params")
    return get_model(name).params_schema()
