"""PD14 activity at 10 % scale, measured: the default study is full-scale-like; the reference's
DC background at this scale falls silent, and the rates analysis flags it."""

import numpy as np
import pytest

from spikeflow.analysis.rates import population_table
from spikeflow.config import load_study, resolve_run
from spikeflow.io.spikes import read_spikes
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _simulate(cfg, path):
    from spikeflow.driver import simulate

    simulate(cfg, path)
    return read_spikes(path)


def test_default_study_is_full_scale_like(nest_module, tmp_path):
    (run,) = load_study(REPO / "workflow" / "config" / "default.yaml").runs
    data = _simulate(run.config, tmp_path / "default.h5")
    rows = population_table(data)
    assert [r["flag"] for r in rows] == ["ok"] * 8
    ratios = np.array([r["rate_ratio_to_reference"] for r in rows])
    # every population within a factor 2 of the full-scale reference rate ...
    assert np.all((ratios > 0.5) & (ratios < 1.5)), ratios
    # ... and the population-weighted mean rate (3.24 spikes/s at full scale) within 25 %
    sizes = np.array([r["n_nodes"] for r in rows])
    rates = np.array([r["mean_rate_hz"] for r in rows])
    assert (sizes @ rates) / sizes.sum() == pytest.approx(3.24, rel=0.25)
    # asynchronous irregular: low pairwise correlations, irregular spiking
    assert all(abs(r["corr_mean"]) < 0.05 for r in rows)
    assert all(0.3 < r["cv_isi_mean"] < 1.5 for r in rows)


def test_dc_background_at_scale_0_1_is_flagged_silent(nest_module, tmp_path):
    cfg = resolve_run(
        {
            "model": "pd14",
            "params": {"N_scaling": 0.1, "K_scaling": 0.1, "bg_input": "dc"},
            "simulation": {"t_presim": 200.0, "t_sim": 500.0, "threads": 2},
        }
    ).config
    rows = population_table(_simulate(cfg, tmp_path / "dc.h5"))
    silent = [r["population"] for r in rows if r["flag"] == "silent"]
    assert len(silent) >= 6, rows
