"""Every family's spikes file carries the driver's metadata, so scaling and memory analyses read them all."""

from __future__ import annotations

import csv
import math

import pytest

from spikeflow.analysis.costs import run_costs
from spikeflow.config import load_yaml, resolve_run
from spikeflow.driver.phases import PHASES
from spikeflow.io.spikes import read_spikes
from tests.conftest import REPO


def _sequence_run(tmp_path, threads):
    from spikeflow.driver import simulate

    cfg = resolve_run(load_yaml(REPO / "workflow" / "config" / "sequence-tiny.yaml")).config
    cfg["simulation"].update(threads=threads, t_sim=2000.0)
    cfg["params"]["t_test"] = 500.0
    return simulate(cfg, tmp_path / f"seq{threads}" / "spikes.h5", log=lambda m: None)


def _training_run(tmp_path, threads):
    from spikeflow.models.training import Trainer, TrainingConfig
    from spikeflow.models.training.outputs import write_outputs

    cfg = TrainingConfig(n_neurons=60, n_epochs=2, epoch_ms=100.0, seed=3, t_presim=50.0, threads=threads)
    trainer = Trainer(cfg, log=lambda m: None)
    trainer.build()
    trainer.train()
    out = tmp_path / f"train{threads}"
    return write_outputs(trainer, out, f"train{threads}", figures=False)["spikes"]


@pytest.mark.nest
@pytest.mark.parametrize("family", ["sequence", "training"])
def test_scaling_and_memory_tables_of_every_family(family, wta_nest, tmp_path):
    from spikeflow.tasks import memory as memory_task
    from spikeflow.tasks import scaling as scaling_task

    make = _sequence_run if family == "sequence" else _training_run
    files = [make(tmp_path, threads) for threads in (1, 2)]
    for path in files:
        meta = read_spikes(path).metadata
        assert meta["model"] == family
        assert [ph["kind"] for ph in meta["protocol"]][0] == "presimulate"
        rank = meta["per_rank"][0]
        assert set(PHASES) <= set(rank["phases"]), rank["phases"].keys()
        assert rank["phases"]["simulate"]["wall_s"] > 0 and rank["phases"]["simulate"]["peak_rss_kb"] > 0
        assert any(k.startswith("time_") for k in rank["kernel"])
        costs = run_costs(meta)
        assert costs["wall_simulate_s"] > 0 and math.isfinite(costs["real_time_factor"])
        assert costs["n_connections"] > 0
    scaling = scaling_task.run(files, tmp_path / "scaling")
    if family == "sequence":  # one network on 1 and 2 VPs (training's Bernoulli draws depend on the VPs)
        assert scaling["series"] == "strong", scaling["reason"]
    rows = list(csv.DictReader(open(tmp_path / "scaling" / "scaling.csv")))
    assert [int(r["vps"]) for r in rows] == [1, 2] and all(float(r["wall_simulate_s"]) > 0 for r in rows)
    memory = memory_task.run(files, tmp_path / "memory")
    assert len(memory["runs"]) == 2 and all(r["peak_rss_mb_max"] > 0 for r in memory["runs"]), memory["runs"]
