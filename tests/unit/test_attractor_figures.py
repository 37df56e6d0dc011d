"""The attractor figures' fixed layout: every label inside the figure, nothing overlapping the data.

The margins come from the labels' lengths (spikeflow.plots.common.text_width), not from
matplotlib measuring them; these tests measure them with matplotlib after drawing.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.models.clustered import attractor_plots as plots
from spikeflow.models.clustered import attractors as at
from spikeflow.plots.common import fixed_layout, pyplot, text_width
from tests.unit.figure_checks import kept_figures, texts_outside, y_labels_into_the_data


def _result(names, n_bins=40_000, seed=0):
    rng = np.random.default_rng(seed)
    n_pop = len(names)
    high = rng.random((n_pop, n_bins // 400 + 1)) < 0.1
    rates = np.abs(np.where(np.repeat(high, 400, axis=1)[:, :n_bins], 40.0, 3.0) + 2.0 * rng.standard_normal((n_pop, n_bins)))
    options = {"bin_ms": 0.5, "smoothing_ms": 10.0, "populations": "all", "t_start": 0.0, "t_stop": n_bins * 0.5}
    rates = at.ClusterRates(
        populations=list(names), population_sizes=np.full(n_pop, 100), times_ms=0.5 * np.arange(n_bins),
        window_ms=(0.0, n_bins * 0.5), rates_hz=rates, options=options, metadata={"model": "user", "run_id": "r1"},
    )
    return at.attractors_from_rates(rates, spikes_file="spikes.h5", threshold_method="midpoint")


@pytest.mark.parametrize("names", [[f"E{i}" for i in range(20)], [f"L23_excitatory_cluster_{i}" for i in range(30)], ["A", "B"]])
@pytest.mark.parametrize("figure", ["cluster_rates", "state_sequence", "transition_matrix"])
def test_every_label_lies_inside_the_figure(monkeypatch, tmp_path, names, figure):
    drawn = kept_figures(monkeypatch, plots)
    getattr(plots, figure)(_result(names), tmp_path / "f.png")
    (fig,) = drawn
    assert texts_outside(fig) == []
    assert y_labels_into_the_data(fig.axes[0]) == []
    pyplot().close(fig)


def test_text_width_grows_with_the_longest_label_and_the_font():
    assert text_width([]) == 0.0
    assert text_width(["E1", "E10"]) == pytest.approx(text_width(["E10"]))
    assert text_width(["abcdef"]) == pytest.approx(2 * text_width(["abc"]))
    assert text_width(["abc"], fontsize="small") < text_width(["abc"], fontsize="medium")
    fig, ax = pyplot().subplots(figsize=(4, 3))
    ax.set_yticks([0], ["a rather long label"])
    fig.canvas.draw()
    measured = ax.get_yticklabels()[0].get_window_extent().width / fig.dpi
    assert measured <= text_width(["a rather long label"]) <= 1.5 * measured  # generous, not wild
    pyplot().close(fig)


def test_fixed_layout_places_the_margins_in_inches():
    fig, axes = pyplot().subplots(2, 1, figsize=(10, 5), gridspec_kw={"height_ratios": [3, 1]})
    fixed_layout(fig, left=1.0, right=0.5, bottom=0.6, top=0.4, hspace=0.2)
    fig.canvas.draw()
    top, bottom = (ax.get_position() for ax in axes)
    assert top.x0 * 10 == pytest.approx(1.0) and (1 - top.x1) * 10 == pytest.approx(0.5)
    assert bottom.y0 * 5 == pytest.approx(0.6) and (1 - top.y1) * 5 == pytest.approx(0.4)
    assert (top.y0 - bottom.y1) * 5 == pytest.approx(0.2)
    pyplot().close(fig)


def test_the_state_strip_colours_each_pixel_column_by_the_segment_at_its_middle(monkeypatch, tmp_path):
    from matplotlib.colors import to_rgba

    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.append(fig) or path)
    result = _result([f"E{i}" for i in range(6)], n_bins=30_000, seed=4)
    plots.cluster_rates(result, tmp_path / "f.png", top_states=3)
    (fig,) = drawn
    image = fig.axes[1].get_images()[0].get_array()
    seq = result.sequence
    columns = image.shape[1]
    assert image.shape[0] == 1 and 100 < columns <= seq.n_bins
    ranked = [int(s) for s in plots._ranked_states(result, 3)]
    palette = dict(zip(ranked, plots._state_colors(len(ranked))))
    for column in range(0, columns, 7):
        middle = (column + 0.5) * seq.n_bins / columns
        (segment,) = [k for k, (a, b) in enumerate(zip(seq.seg_start, seq.seg_stop)) if a <= middle < b]
        state = int(seq.seg_state[segment])
        colour = plots.DROPPED_COLOR if state < 0 else palette.get(state, plots.OTHER_COLOR)
        assert np.allclose(image[0, column] / 255.0, to_rgba(colour), atol=0.5 / 255), f"column {column}"
    assert len({tuple(c) for c in image[0]}) >= 4  # the ranked states, other and dropped time all show
    pyplot().close(fig)
