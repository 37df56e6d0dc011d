"""What every figure module shares: matplotlib on the Agg backend and atomic PNG saving.

Figures are drawn without a display (Agg backend) and saved as PNG at :data:`DPI` dots per
inch through :func:`spikeflow.io.atomic.atomic_path` (temporary name beside the target,
then ``os.replace``), so a killed job never leaves a half-written figure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spikeflow.io.atomic import atomic_path

__all__ = ["DPI", "pyplot", "save_figure"]

#: Resolution of the saved PNG files, dots per inch.
DPI = 150


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend selected.

    Returns:
        The ``matplotlib.pyplot`` module.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Save ``fig`` as a PNG at :data:`DPI` dpi atomically to ``path``, then close it.

    The figure is closed whether or not saving succeeds; parent directories are created.

    Args:
        fig: a matplotlib figure.
        path: the PNG file to write.

    Returns:
        The path written.
    """
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png")
    finally:
        pyplot().close(fig)
    return Path(path)
