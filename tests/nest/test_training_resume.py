"""Stopping a training run after epoch k and resuming from its checkpoint gives the same spikes
and weights as the uninterrupted run (the epoch protocol of spikeflow.models.training.trainer)."""

import numpy as np
import pytest

from spikeflow.io.tables import to_json_value
from spikeflow.models.training import TrainingConfig
from spikeflow.models.training.checkpoint import read_checkpoint


def _cfg(**kw):
    base = dict(
        n_neurons=60, n_epochs=3, epoch_ms=100.0, seed=7, t_presim=50.0, synapse_model="stdp_synapse",
        plastic=["E->E", "X->E"], n_patterns=2, pattern_inputs=20, pattern_ms=50.0, pattern_rate_hz=30.0,
        synapse_params={"lambda": 0.05},
    )
    base.update(kw)
    return TrainingConfig(**base)


def _train(cfg, stop_after=None, tmp=None):
    from spikeflow.models.training import Trainer

    quiet = dict(log=lambda m: None)
    tr = Trainer(cfg, **quiet)
    tr.build()
    if stop_after is None:
        tr.train()
        return tr
    tr.train(stop_after)
    path = tr.save_checkpoint(tmp / f"after{stop_after}.h5")
    del tr
    resumed = Trainer.resume(path, **quiet)
    assert resumed.epoch == stop_after
    resumed.train()
    return resumed


@pytest.mark.parametrize("synapse", ["stdp_synapse", "stdp_triplet_synapse"])
def test_resume_gives_the_same_spikes_and_weights(nest_module, tmp_path, synapse):
    cfg = _cfg(synapse_model=synapse, synapse_params={"lambda": 0.05} if synapse == "stdp_synapse" else {"Aplus": 0.5, "Aminus": 0.5})
    full = _train(cfg)
    part = _train(cfg, stop_after=1, tmp=tmp_path)
    assert full.epoch == part.epoch == 3
    t1 = full.results[0]["t_stop_ms"]  # end of epoch 1: the resumed run recorded from here
    for name in ("E", "I", "X"):
        ids_f, ts_f = full.spikes[name]
        ids_p, ts_p = part.spikes[name]
        keep = ts_f >= t1
        assert keep.sum() > 20, f"{name} is too quiet for a meaningful comparison"
        np.testing.assert_array_equal(ts_p, ts_f[keep])
        np.testing.assert_array_equal(ids_p, ids_f[keep])
    for pathway in ("E->E", "X->E"):
        wf, wp = full.weights(pathway), part.weights(pathway)
        np.testing.assert_array_equal(wf["source"], wp["source"])
        np.testing.assert_array_equal(wf["weight"], wp["weight"])
        np.testing.assert_array_equal(wf["Kplus"], wp["Kplus"])
        w0 = full.initial[pathway]["mean"]
        assert abs(full.results[-1]["weights"][pathway]["mean"] - w0) > 1e-3  # training changed the weights
    for a, b in zip(full.results, part.results):  # epoch 1's record came through the checkpoint (JSON: NaN as None)
        assert to_json_value(a["populations"]) == to_json_value(b["populations"])
        assert to_json_value(a["weights"]) == to_json_value(b["weights"])


def test_checkpoint_holds_weights_synapse_and_neuron_state(nest_module, tmp_path):
    from spikeflow.models.training import Trainer

    tr = Trainer(_cfg(n_epochs=1), log=lambda m: None)
    tr.build()
    tr.train()
    state = read_checkpoint(tr.save_checkpoint(tmp_path / "c.h5"))
    assert state.epoch == 1 and state.t_ms == pytest.approx(150.0)
    ee = state.plastic["E->E"]
    assert set(ee.values) == {"weight", "Kplus"}
    assert ee.source.size == ee.target.size > 50
    assert np.all(ee.source < 48) and np.all(ee.target < 48) and not np.any(ee.source == ee.target)
    assert state.neurons["E"]["V_m"].shape == (48,) and state.neurons["I"]["V_m"].shape == (12,)
    assert np.all(state.neurons["E"]["V_m"] < -50.0)
    assert state.results[0]["epoch"] == 1 and state.config["params"]["n_epochs"] == 1


def test_a_different_seed_gives_different_spikes(nest_module):
    a, b = _train(_cfg(n_epochs=1)), _train(_cfg(n_epochs=1, seed=8))
    assert not np.array_equal(a.spikes["E"][1], b.spikes["E"][1])


def test_continuous_epochs_run_in_one_kernel(nest_module):
    """epoch_boundary: continuous - one kernel for all epochs: the same first epoch as the restart
    protocol, NEST's clock runs on through the epochs, and the weights keep changing."""
    cont = _train(_cfg(epoch_boundary="continuous"))
    assert nest_module.biological_time == pytest.approx(50.0 + 3 * 100.0)  # never reset: one kernel
    restart = _train(_cfg())
    assert nest_module.biological_time == pytest.approx(100.0)  # rebuilt for the last epoch
    t1 = restart.results[0]["t_stop_ms"]
    for name in ("E", "I", "X"):
        ids_c, ts_c = cont.spikes[name]
        ids_r, ts_r = restart.spikes[name]
        np.testing.assert_array_equal(ts_c[ts_c < t1], ts_r[ts_r < t1])
    means = [r["weights"]["E->E"]["mean"] for r in cont.results]
    assert len(set(np.round(means, 9))) == 3
