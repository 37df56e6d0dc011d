"""State variables recorded beside the spikes: the driver's multimeter reports against NEST read directly."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.config import ConfigError, resolve_run
from spikeflow.io.reports import load_reports

RECORDING = {"variables": ["V_m", "I_syn_ex"], "interval_ms": 0.5, "neurons": 3, "populations": ["L23E", "L5I"]}


def _cfg(**recording):
    return resolve_run(
        {
            "model": "pd14",
            "params": {"N_scaling": 0.02, "K_scaling": 0.02},
            "simulation": {"t_presim": 50.0, "t_sim": 100.0, "threads": 2, "seed": 5, "progress_interval": 0},
            "recording": {**RECORDING, **recording},
        }
    ).config


@pytest.mark.nest
def test_pd14_membrane_potentials_match_a_multimeter_read_directly(nest_module, tmp_path):
    from spikeflow.driver import simulate
    from spikeflow.driver.kernel import setup_kernel
    from spikeflow.models import get_model

    cfg = _cfg()
    reports = load_reports(simulate(cfg, tmp_path / "spikes.h5", log=lambda m: None))
    assert set(reports) == {"V_m", "I_syn_ex"} and set(reports["V_m"]) == {"L23E", "L5I"}
    rep = reports["V_m"]["L23E"]
    # NEST samples every 0.5 ms; the sample of the very last step (150 ms) is not delivered
    assert rep["data"].shape == (299, 3) and np.all(np.isfinite(rep["data"]))
    np.testing.assert_allclose(rep["times"], np.arange(1, 300) * 0.5)

    # the same network built by hand, a multimeter on the same neurons, NEST's own events
    nest = nest_module
    model = get_model("pd14")
    d = model.params_from_config(cfg["params"])
    setup_kernel(nest, resolution=cfg["simulation"]["resolution"], threads=2, seed=5)
    net = model.create(d)
    model.connect(net, d)
    meters = {}
    for name in ("L23E", "L5I"):
        first = net.populations[name][0].global_id
        ids = reports["V_m"][name]["node_ids"].astype(int)
        meters[name] = nest.Create("multimeter", params={"record_from": ["V_m", "I_syn_ex"], "interval": 0.5})
        nest.Connect(meters[name], nest.NodeCollection((first + ids).tolist()))
    nest.Simulate(150.0)
    for name, meter in meters.items():
        ev = meter.get("events")
        first = net.populations[name][0].global_id
        for var in ("V_m", "I_syn_ex"):
            direct = np.full(reports[var][name]["data"].shape, np.nan)
            row = np.rint(np.asarray(ev["times"]) / 0.5).astype(int) - 1
            col = np.searchsorted(reports[var][name]["node_ids"].astype(int), np.asarray(ev["senders"]) - first)
            direct[row, col] = ev[var]
            np.testing.assert_array_equal(reports[var][name]["data"], direct)
    # the membrane potentials move (the network is active), and stay below threshold + reset range
    v = reports["V_m"]["L23E"]["data"]
    assert np.ptp(v) > 1.0 and v.max() <= -50.0 + 1e-9


@pytest.mark.parametrize(
    "recording, match",
    [
        ({"populations": ["L9E"]}, "recording.populations' names 'L9E'"),
        ({"interval_ms": 0.25}, "recording.interval_ms"),  # not on the 0.1 ms grid? 0.25 / 0.1 = 2.5
        ({"neurons": 100000, "interval_ms": 0.1}, None),  # fits: a small network caps the sample
    ],
)
def test_recording_is_checked_before_any_job(recording, match):
    if match is None:
        assert _cfg(**recording)["recording"]["neurons"] == 100000
        return
    with pytest.raises(ConfigError, match=match):
        _cfg(**recording)


def test_a_recording_too_big_for_memory_is_refused():
    cfg = {
        "model": "pd14",
        "params": {"N_scaling": 0.1, "K_scaling": 0.1},
        "simulation": {"t_presim": 500.0, "t_sim": 100000.0, "threads": 2},
        "recording": {"variables": ["V_m"], "interval_ms": 0.1, "neurons": 1000},
    }
    with pytest.raises(ConfigError, match="GiB, more than the 2 GiB allowed"):
        resolve_run(cfg)


@pytest.mark.nest
def test_unknown_variable_is_one_sentence(nest_module, tmp_path):
    from spikeflow.driver import SimulationError, simulate

    with pytest.raises(SimulationError, match="cannot record 'g_ex'.*recording.variables"):
        simulate(_cfg(variables=["g_ex"]), tmp_path / "s.h5", log=lambda m: None)
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.nest
@pytest.mark.parametrize("boundary", ["restart", "continuous"])
def test_training_records_state_across_epochs_and_a_resume(nest_module, tmp_path, boundary):
    """Training rebuilds its kernel between epochs (restart): the samples still form one time axis,
    and a run stopped after epoch 1 and resumed gives the same recording as one that never stopped."""
    from spikeflow.io.reports import load_reports
    from spikeflow.models.training.cli import train_run

    cfg = resolve_run(
        {
            "model": "training",
            "params": {"n_neurons": 40, "n_epochs": 3, "epoch_ms": 100.0, "epoch_boundary": boundary},
            "simulation": {"t_presim": 50.0, "t_sim": 300.0, "threads": 1, "seed": 2, "progress_interval": 0},
            "recording": {"variables": ["V_m"], "interval_ms": 1.0, "neurons": 4},
        }
    ).config
    train_run(cfg, tmp_path / "whole", "whole", resume=False, figures=False)
    whole = load_reports(tmp_path / "whole" / "spikes.h5")["V_m"]["E"]
    assert whole["data"].shape[1] == 4 and np.all(np.isfinite(whole["data"]))
    # one sample per ms from the warm-up to the end (NEST withholds each kernel's last sample)
    assert whole["times"][0] == 1.0 and whole["times"][-1] < 350.0 and np.all(np.diff(whole["times"]) > 0)
    assert whole["times"].size >= 350 - 4
    if boundary == "restart":
        train_run(cfg, tmp_path / "resumed", "resumed", resume=False, stop_after=1, figures=False)
        train_run(cfg, tmp_path / "resumed", "resumed", resume=True, figures=False)
        resumed = load_reports(tmp_path / "resumed" / "spikes.h5")["V_m"]["E"]
        np.testing.assert_array_equal(resumed["times"], whole["times"])
        np.testing.assert_array_equal(resumed["data"], whole["data"])
