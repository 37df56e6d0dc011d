"""The rates figures' fixed layout: every label inside the figure, with short and long population names."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.io.spikes import PopulationSpikes, SpikeData
from spikeflow.plots import rates as plots
from spikeflow.plots.common import pyplot
from tests.unit.figure_checks import kept_figures, texts_outside, y_labels_into_the_data

NAMES = {
    "pd14": ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"],
    "long": ["layer_2_3_pyramidal_excitatory", "layer_2_3_basket_inhibitory", "thalamic_relay_cells"],
    "one": ["A"],
}


def _data(names, seed=0):
    rng = np.random.default_rng(seed)
    pops = {}
    for name in names:
        n_nodes = int(rng.integers(20, 200))
        n_spikes = int(rng.integers(100, 2_000))
        times = np.sort(rng.uniform(100.0, 1_000.0, n_spikes))
        pops[name] = PopulationSpikes(name, n_nodes, rng.integers(0, n_nodes, n_spikes).astype(np.uint64), times)
    return SpikeData(pops, {"t_presim_ms": 100.0, "t_sim_ms": 900.0, "model": "user", "run_id": "seed-55"})


def _rows(names, rng):
    return [
        {"population": n, "mean_rate_hz": float(rng.uniform(0, 30)), "reference_rate_hz": float(rng.uniform(0, 30)),
         "rate_ratio_to_reference": 1.0, "flag": "ok" if k else "runaway"}
        for k, n in enumerate(names)
    ]


@pytest.mark.parametrize("names", list(NAMES.values()), ids=list(NAMES))
@pytest.mark.parametrize("figure", ["raster", "rate_boxplot", "rates_vs_reference"])
def test_every_label_lies_inside_the_figure(monkeypatch, tmp_path, names, figure):
    drawn = kept_figures(monkeypatch, plots)
    data = _data(names)
    rng = np.random.default_rng(1)
    if figure == "raster":
        plots.raster(data, tmp_path / "f.png")
    elif figure == "rate_boxplot":
        plots.rate_boxplot({n: rng.gamma(2.0, 3.0, 100) for n in names}, tmp_path / "f.png", title="user seed-55: rates")
    else:
        plots.rates_vs_reference(_rows(names, rng), tmp_path / "f.png")
    (fig,) = drawn
    assert texts_outside(fig) == []
    assert y_labels_into_the_data(fig.axes[0]) == []
    pyplot().close(fig)
