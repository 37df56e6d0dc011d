"""Helpers shared by the models' parameter dataclasses."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping


def check_known_keys(cls: type, params: Mapping[str, Any], family: str) -> None:
    """Raise KeyError naming the first key of ``params`` that is not a field of dataclass ``cls``."""
    unknown = sorted(set(params) - {f.name for f in fields(cls)})
    if unknown:
        raise KeyError(f"unknown {family} parameter {unknown[0]!r}")
