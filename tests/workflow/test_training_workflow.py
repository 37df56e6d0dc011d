"""The training workflow: a tiny training study end to end with snakemake --cores 2 (per-epoch
outputs, figures, rates analysis of spikes.h5, report), and `spikeflow train --stop-after/--resume`."""

import json
import shutil
import subprocess

import h5py
import numpy as np

from tests.conftest import REPO, require, require_program
from tests.workflow.snakemake_run import run_snakemake

TINY = """study: trainwf
model: training
params: {n_neurons: 40, n_epochs: 2, epoch_ms: 100.0, n_patterns: 2, pattern_inputs: 10, pattern_ms: 50.0,
         pattern_rate_hz: 30.0, plastic: ["E->E", "X->E"]}
simulation: {t_presim: 50.0, t_sim: 200.0, seed: 3, threads: 1, progress_interval: 0}
"""


def _workdir(tmp_path):
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow", symlinks=False)
    (tmp_path / "tiny.yaml").write_text(TINY)
    return tmp_path


def test_shipped_training_config_dry_run(tmp_path):
    wd = _workdir(tmp_path)
    out = run_snakemake("-n", "--cores", "2", "--configfile", "workflow/config/training.yaml", cwd=wd).stdout
    assert "rule run:" in out and "analyze_rates" in out


def test_t_sim_mismatch_is_refused_before_any_job(tmp_path):
    wd = _workdir(tmp_path)
    (wd / "bad.yaml").write_text(TINY.replace("t_sim: 200.0", "t_sim: 300.0"))
    exe = require_program("snakemake", "Snakemake is not installed")
    proc = subprocess.run([exe, "--cores", "2", "--configfile", "bad.yaml"], cwd=wd, capture_output=True, text=True)
    assert proc.returncode != 0 and "simulation.t_sim" in proc.stdout + proc.stderr
    assert not (wd / "results").exists()


def test_tiny_training_study_end_to_end(tmp_path):
    exe = require_program("spikeflow", "the spikeflow console script is not installed: pip install -e .")
    has_train = subprocess.run([exe, "train", "--help"], capture_output=True).returncode == 0
    require(has_train, "the spikeflow CLI has no train command yet (src/spikeflow/cli.py must call add_train_parser)")
    wd = _workdir(tmp_path)
    run_snakemake("--cores", "2", "--configfile", "tiny.yaml", cwd=wd)
    run = wd / "results" / "trainwf" / "seed3"
    with h5py.File(run / "spikes.h5") as f:
        assert set(f["spikes"]) == {"E", "I", "X"}
    rates = json.loads((run / "rates" / "rates.json").read_text())
    assert rates["window_ms"] == [50.0, 250.0]
    doc = json.loads((run / "epochs.json").read_text())
    assert [r["epoch"] for r in doc["training_results"]] == [1, 2]
    assert set(doc) >= {"training_results", "performance_metrics", "neural_state", "model_configuration"}
    assert doc["model_configuration"]["nest_models"]["synapses"]["E->E"]["model"] == "stdp_synapse"
    assert (run / "epochs.csv").read_text().count("\n") == 3
    with h5py.File(run / "epochs.h5") as f:
        assert f["weights/EE/histogram"].shape == (3, 20)
        assert f["weights/XE/samples"].shape[0] == 3
    with h5py.File(run / "patterns.h5") as f:
        assert f["presentations/pattern"][()].tolist() == [0, 1, 0, 1]
    for fig in ("weights_over_epochs", "rates_over_epochs", "weight_change"):
        assert (run / "figures" / f"{fig}.png").stat().st_size > 1000
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_0001.h5", "epoch_0002.h5"]
    run_snakemake("--configfile", "tiny.yaml", "--report", "report.html", cwd=wd)
    assert "weights_over_epochs.png" in (wd / "report.html").read_text()


def test_train_command_stop_and_resume(tmp_path):
    from spikeflow.models.training.cli import add_train_parser

    import argparse

    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers())
    cfg = tmp_path / "run.yaml"
    cfg.write_text(TINY)
    full, part = tmp_path / "full", tmp_path / "part"
    for argv in (
        ["train", "--config", str(cfg), "--out-dir", str(full), "--no-figures"],
        ["train", "--config", str(cfg), "--out-dir", str(part), "--stop-after", "1", "--no-figures"],
    ):
        args = parser.parse_args(argv)
        args.func(args)
    assert not (part / "spikes.h5").exists() and (part / "checkpoints" / "epoch_0001.h5").exists()
    args = parser.parse_args(["train", "--config", str(cfg), "--out-dir", str(part), "--resume", "--no-figures"])
    args.func(args)
    with h5py.File(full / "spikes.h5") as a, h5py.File(part / "spikes.h5") as b:
        for pop in ("E", "I", "X"):
            np.testing.assert_array_equal(a[f"spikes/{pop}/timestamps"][()], b[f"spikes/{pop}/timestamps"][()])
            np.testing.assert_array_equal(a[f"spikes/{pop}/node_ids"][()], b[f"spikes/{pop}/node_ids"][()])
