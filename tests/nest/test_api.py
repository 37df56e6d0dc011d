"""The Python API of every family, run the way docs/python-api.md shows it."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow import api
from tests.conftest import REPO


@pytest.mark.nest
def test_pd14_from_a_dict_with_state_recording(nest_module, tmp_path):
    result = api.run(
        {
            "model": "pd14",
            "params": {"N_scaling": 0.02, "K_scaling": 0.02},
            "simulation": {"t_presim": 100.0, "t_sim": 300.0, "threads": 2, "seed": 3},
            "recording": {"variables": ["V_m"], "neurons": 2},
        },
        tmp_path / "pd14",
    )
    assert list(result.spikes) == ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
    rates = result.rates_hz()
    assert 0.5 < rates["L4E"] < 30 and all(np.isfinite(list(rates.values())))
    assert result.state["V_m"]["L4E"]["data"].shape == (399, 2)  # every 1 ms over 400 ms, the last step's sample not delivered
    assert result.metadata["seed"] == 3 and (tmp_path / "pd14" / "spikes.h5").is_file()
    again = api.load(tmp_path / "pd14")
    assert np.array_equal(again.spikes["L4E"].times, result.spikes["L4E"].times)


@pytest.mark.nest
def test_clustered_run_of_a_swept_study(nest_module, tmp_path):
    result = api.run(REPO / "workflow" / "config" / "clustered-tiny.yaml", tmp_path / "c", run="seed2")
    assert result.metadata["run_id"] == "seed2" and "E0" in result.spikes
    assert result.rates_hz()["E0"] > 0


@pytest.mark.nest
def test_training_epochs(nest_module, tmp_path):
    result = api.run(REPO / "workflow" / "config" / "training.yaml", tmp_path / "t")
    epochs = result.extra["epochs"]
    assert epochs["n_epochs"] == 3 and len(epochs["training_results"]) == 3
    assert set(result.spikes) >= {"E", "I"}


@pytest.mark.nest
def test_sequence_inputs_and_weights(wta_nest, tmp_path):
    cfg = {
        "model": "sequence",
        "params": {"grid_shape": [3, 3], "n_links": 20, "n_inputs": 10, "t_test": 500.0, "dt_rec": 250.0, "n_record_weights": 2},
        "simulation": {"t_presim": 0.0, "t_sim": 2000.0, "resolution": 1.0, "threads": 2, "seed": 4},
    }
    result = api.run(cfg, tmp_path / "s")
    seq = result.extra["sequence"]
    assert seq["sizes"].size == 9 and seq["weight_times"][0] == 500.0
    assert result.spikes["wta"].n_spikes > 1000


@pytest.mark.nest
def test_user_model_from_python(nest_module, tmp_path):
    import shutil

    shutil.copy(REPO / "examples" / "brunel" / "brunel.py", tmp_path / "brunel.py")
    (tmp_path / "study.yaml").write_text("model: brunel.py\nparams: {order: 50}\nsimulation: {t_sim: 300.0, threads: 2}\n")
    result = api.run(tmp_path / "study.yaml", tmp_path / "out")
    assert {p["name"]: p["size"] for p in result.metadata["populations"]} == {"E": 200, "I": 50}
    assert result.rates_hz()["E"] > 1.0
