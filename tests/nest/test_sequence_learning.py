"""The science of issue 5: with the reference defaults and 100 s of training, pattern-specific
assemblies form - a linear readout decodes the pattern of held-out test presentations with
accuracy >= 0.9 after training, and near chance before it (the shipped sequence.yaml study)."""

from __future__ import annotations

import json
import subprocess

import yaml

from spikeflow.config import load_study
from tests.conftest import REPO, require


def test_trained_network_decodes_the_pattern_and_untrained_does_not(nest_module, tmp_path):
    from spikeflow import nestext

    require(not nestext.is_binary_wheel(), "the WTA extension needs NEST built from the sdist (containers/build-nest.sh)")
    run = load_study(REPO / "workflow" / "config" / "sequence.yaml").runs[0]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(run.config))
    spikes = tmp_path / "spikes.h5"
    subprocess.run(["spikeflow", "sequence", "--config", str(cfg), "--out", str(spikes)], check=True, capture_output=True)
    subprocess.run(["spikeflow", "analyze", "sequence", str(spikes), "--out-dir", str(tmp_path / "seq")],
                   check=True, capture_output=True)
    decoding = json.loads((tmp_path / "seq" / "decoding.json").read_text())
    before, after = decoding["test_before"], decoding["test_after"]
    assert after["accuracy"] >= 0.9, after["accuracy"]
    assert abs(before["accuracy"] - before["chance"]) < 0.1, (before["accuracy"], before["chance"])
