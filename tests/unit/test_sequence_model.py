"""The sequence model's config interface and figures (no NEST)."""

import numpy as np
import pytest

from spikeflow.config import ConfigError, resolve_run
from spikeflow.models import get_model
from spikeflow.models.sequence import plots


def test_model_interface_and_schema():
    model = get_model("sequence")
    assert not hasattr(model, "DRIVER")  # the one driver runs it, through its protocol hooks
    assert all(callable(getattr(model, hook)) for hook in ("protocol", "set_plasticity", "local_results", "write_outputs"))
    run = resolve_run({"model": "sequence", "params": {"grid_shape": [3, 3], "n_links": 20}, "simulation": {"t_sim": 9000.0, "resolution": 1.0}})
    assert run.config["params"]["grid_shape"] == [3, 3] and run.config["params"]["R_max"] == 100.0
    d = model.params_from_config(run.config["params"])
    desc = model.describe(d)
    assert desc["populations"][0]["size"] == d.n_neurons
    assert desc["connections"]["wta_stp_synapse"] == d.n_recurrent_synapses
    assert desc["connections"]["static_synapse"] == 100 * d.n_neurons + 200
    with pytest.raises(ConfigError, match="lamda"):
        resolve_run({"model": "sequence", "params": {"lamda": 0.1}})
    with pytest.raises(ConfigError, match="k_min"):
        resolve_run({"model": "sequence", "params": {"k_min": 4, "k_max": 3}})
    # the phases must fit before any job: t_sim holds a test before and after training
    with pytest.raises(ConfigError, match="twice params.t_test"):
        resolve_run({"model": "sequence", "params": {"t_test": 2000.0}, "simulation": {"t_sim": 3000.0, "resolution": 1.0}})


def test_figures_are_written(tmp_path):
    rng = np.random.default_rng(0)
    sizes = rng.integers(2, 11, 50)
    assert plots.plot_grid(sizes, (10, 5), tmp_path / "g.png").stat().st_size > 1000
    ids = rng.integers(0, 20, 500)
    times = np.sort(rng.uniform(0, 3000, 500))
    p = plots.plot_test_raster(ids, times, np.arange(20)[::-1], np.array([500.0, 1500.0]), 300.0, 0.0, 3000.0, tmp_path / "r.png")
    assert p.stat().st_size > 1000
    res = {"test_after": {"delays_ms": [0, 20, 40], "accuracy_at_delay": [0.5, 0.9, 1.0], "accuracy": 0.9, "chance": 0.6}}
    assert plots.plot_decoding(res, 300.0, tmp_path / "d.png").stat().st_size > 1000
    w = {"0": rng.normal(size=(5, 4))}
    s = {"0": np.array([-1, -2, 3, 4])}
    assert plots.plot_weights(np.arange(5) * 1000.0, w, s, tmp_path / "w.png").stat().st_size > 1000
