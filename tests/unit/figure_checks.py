"""What the figure tests measure after drawing: texts that leave the figure or run into the data."""

from __future__ import annotations


def kept_figures(monkeypatch, module) -> list:
    """The figures ``module`` draws, drawn and kept open instead of saved (its ``save_figure`` replaced)."""
    drawn = []

    def keep(fig, path):
        fig.canvas.draw()
        drawn.append(fig)
        return path

    monkeypatch.setattr(module, "save_figure", keep)
    return drawn


def _drawn_texts(fig):
    """The texts of a drawn figure that matplotlib draws: not the labels of ticks outside the axes' view."""
    tick_labels, shown = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    tick_labels.add(id(label))
                    if low - span <= tick.get_loc() <= high + span and label.get_visible() and label.get_text():
                        shown.append(label)
    from matplotlib.text import Text

    others = fig.findobj(lambda a: isinstance(a, Text) and id(a) not in tick_labels)
    return shown + [t for t in others if t.get_visible() and t.get_text()]


def texts_outside(fig, tolerance_px: float = 1.0) -> list[str]:
    """The drawn texts of a drawn figure that reach beyond its edges."""
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    outside = []
    for text in _drawn_texts(fig):
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - tolerance_px
            or extent.x1 > box.x1 + tolerance_px
            or extent.y0 < box.y0 - tolerance_px
            or extent.y1 > box.y1 + tolerance_px
        ):
            outside.append(text.get_text())
    return outside


def y_labels_into_the_data(ax) -> list[str]:
    """The y tick labels of ``ax`` that reach into its data area."""
    left = ax.get_window_extent().x0
    return [label.get_text() for label in ax.get_yticklabels() if label.get_text() and label.get_window_extent().x1 > left]
