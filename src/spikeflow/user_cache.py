"""spikeflow's per-user cache directory: ``$XDG_CACHE_HOME/spikeflow`` (default ``~/.cache/spikeflow``).

What lives there: the user's installed memory model (``memory_model.json``,
:mod:`spikeflow.resources`), the built C++ extension modules (``nestext/``,
:mod:`spikeflow.nestext.build`) and the NEST build probe's answers (``nest-build-info/``,
:mod:`spikeflow.probe_cache`). ``containers/build-nest.sh`` keeps its wheels under the same root.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["user_cache_dir"]


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/spikeflow/<parts...>`` (``~/.cache`` when ``XDG_CACHE_HOME`` is unset or empty); nothing is created."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "spikeflow", *parts)
