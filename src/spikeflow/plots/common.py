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

__all__ = ["DPI", "pyplot", "save_figure", "text_width", "wrapped", "fixed_layout"]

#: Resolution of the saved PNG files, dots per inch.
DPI = 150
#: Width of a character of label text in ems, a generous average for DejaVu Sans (about 0.55-0.6).
CHAR_EM = 0.62


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend selected.

    Returns:
        The ``matplotlib.pyplot`` module.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def text_width(labels: Any, fontsize: Any = "medium") -> float:
    """Estimated width in inches of the longest of ``labels`` (from its length, not by drawing it).

    Args:
        labels: strings (or anything with ``str``); an empty sequence is 0 wide.
        fontsize: points, or a matplotlib size name ("small", "medium", ...).
    """
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=fontsize).get_size_in_points()
    longest = max((len(str(label)) for label in labels), default=0)
    return longest * CHAR_EM * points / 72.0


def wrapped(text: str, width: float, fontsize: Any = "large") -> str:
    """``text`` broken into lines (at spaces) that fit ``width`` inches at ``fontsize``.

    For titles that name populations or runs, whose length the user decides.
    """
    import textwrap

    per_char = text_width(["x"], fontsize)
    return textwrap.fill(text, width=max(10, int(width / per_char)), break_long_words=False, break_on_hyphens=False)


def fixed_layout(
    fig: Any, left: float, right: float, bottom: float, top: float, hspace: float = 0.0, wspace: float = 0.0
) -> None:
    """Place a figure's grid of subplots with margins given in inches.

    A fixed layout in place of matplotlib's constrained layout, whose extra drawing pass
    (to measure every text) is about 40 % of the time of a figure; the margins are made
    from :func:`text_width` of the labels that need room.

    Args:
        fig: the figure.
        left, right, bottom, top: margins in inches (the space outside the subplots).
        hspace: vertical gap between rows of subplots, in inches.
        wspace: horizontal gap between columns of subplots, in inches.
    """
    width, height = fig.get_size_inches()
    left, right = min(left, 0.45 * width), min(right, 0.45 * width)
    bottom, top = min(bottom, 0.45 * height), min(top, 0.45 * height)
    rows, columns = fig.axes[0].get_gridspec().get_geometry() if fig.axes else (1, 1)
    inner_height = max(height - bottom - top - hspace * (rows - 1), 0.1)
    inner_width = max(width - left - right - wspace * (columns - 1), 0.1)
    fig.subplots_adjust(
        left=left / width, right=1.0 - right / width, bottom=bottom / height, top=1.0 - top / height,
        hspace=hspace * rows / inner_height, wspace=wspace * columns / inner_width,
    )


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
