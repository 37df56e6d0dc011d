"""Helpers shared by the models' parameter dataclasses."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping


class UnknownParameterError(KeyError, ValueError):
    """A parameter a model does not have (a KeyError for lookups, a ValueError for bad input)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def check_known_keys(cls: type, params: Mapping[str, Any], family: str) -> None:
    """Raise UnknownParameterError naming the first key of ``params`` that is not a field of dataclass ``cls``."""
    unknown = sorted(set(params) - {f.name for f in fields(cls)})
    if unknown:
        raise UnknownParameterError(f"unknown {family} parameter {unknown[0]!r}")
