"""A full (or read-only) disk during an analysis: the reason reaches the log in one sentence.

The analysis writes into a tiny tmpfs mounted for the test (needs root); its stderr, which the
workflow's rules redirect to the job's log, goes to a file on another file system.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeflow.io.spikes import PopulationSpikes, write_spikes
from tests.conftest import require

HOW = "needs root and tmpfs to mount a tiny file system (run the tests as root, as .ci/run does)"


@pytest.fixture
def tiny_fs(tmp_path):
    """Mount a 256 KiB tmpfs in ``tmp_path``; yield a function that mounts it (options) and returns it."""
    mounted = []

    def mount(options: str) -> Path:
        mnt = tmp_path / f"fs{len(mounted)}"
        mnt.mkdir()
        ok = False
        if os.geteuid() == 0 and shutil.which("mount"):
            proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=256k,{options}", "tmpfs", str(mnt)],
                                  capture_output=True, text=True)
            ok = proc.returncode == 0
        require(ok, f"cannot mount a tmpfs at {mnt}: {HOW}")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory: Path) -> None:
    """Write into ``directory`` until its file system is full."""
    with open(directory / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    assert shutil.disk_usage(directory).free < 4096


def spikes_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    counts = rng.poisson(8.0 * 1.5, 100)
    pop = PopulationSpikes("E", 100, np.repeat(np.arange(100, dtype=np.uint64), counts), rng.uniform(0.0, 1500.0, counts.sum()))
    meta = {"t_presim_ms": 500.0, "t_sim_ms": 1000.0, "model": "toy", "run_id": "toy",
            "populations": [{"name": "E", "size": 100}], "spike_counts": {"E": pop.n_spikes}}
    return write_spikes(tmp_path / "spikes.h5", [pop], meta)


def spikeflow_cmd() -> list[str]:
    return [sys.executable, "-c", "import sys; from spikeflow.cli import main; sys.exit(main(sys.argv[1:]))"]


@pytest.mark.parametrize("kind, options, reason", [
    ("full", "rw", "No space left on device"),
    ("read-only", "ro", "Read-only file system"),
])
def test_analysis_on_a_full_or_read_only_disk_says_why_in_the_log(tmp_path, tiny_fs, kind, options, reason):
    spikes = spikes_file(tmp_path)
    mnt = tiny_fs(options)
    if kind == "full":
        fill(mnt)
    out_dir = mnt / "rates"
    log = tmp_path / "rates.log"
    with open(log, "w") as err:
        proc = subprocess.run([*spikeflow_cmd(), "analyze", "rates", str(spikes), "--out-dir", str(out_dir)],
                              stdout=subprocess.DEVNULL, stderr=err)
    text = log.read_text()
    lines = text.strip().splitlines()
    assert proc.returncode == 1, text
    assert len(lines) == 1, f"expected one sentence in the log, got:\n{text}"
    assert lines[0].startswith("spikeflow: error: ") and reason in lines[0] and str(mnt) in lines[0], text
    if out_dir.exists():
        assert [p.name for p in out_dir.iterdir() if ".tmp-" in p.name] == []
