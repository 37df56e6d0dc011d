"""Multi-epoch training of plastic networks in NEST: config, epoch driver, checkpoints, outputs.

Notebook use (familiar to users of the original NESTConfig / NESTTrainer)::

    from spikeflow.training import TrainingConfig, Trainer
    cfg = TrainingConfig(neuron_model="iaf_psc_alpha", synapse_model="stdp_synapse", n_epochs=5)
    tr = Trainer(cfg)
    tr.build()
    tr.train(5)
    tr.results            # one record per epoch: rates, CVs, weight statistics, timers, memory
    tr.save_checkpoint("epoch5.h5")
    tr = Trainer.resume("epoch5.h5")

The workflow runs the same driver through ``spikeflow train`` (:mod:`spikeflow.training.cli`).
"""

from spikeflow.training.config import TrainingConfig, check_training_run

__all__ = ["TrainingConfig", "Trainer", "check_training_run", "write_outputs"]


def __getattr__(name):  # NEST-facing parts are imported on first use
    if name == "Trainer":
        from spikeflow.training.trainer import Trainer

        return Trainer
    if name == "write_outputs":
        from spikeflow.training.outputs import write_outputs

        return write_outputs
    raise AttributeError(name)
