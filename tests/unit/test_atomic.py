"""Atomic writes against real kills: a writer process killed with SIGKILL or SIGTERM in the
middle of writing a large spikes file leaves no file that looks finished, and what it leaves
is removed (at once for SIGTERM, by the next write of the same output for SIGKILL).

These tests kill a real process while its temporary file grows, so an in-place writer, a
writer without the SIGTERM handler and a writer without the clean-up each fail one of them.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikeflow.io.atomic import atomic_path, os_error_sentence, pid_running, stale_temp_files, temp_name
from spikeflow.io.spikes import PopulationSpikes, read_spikes, write_spikes

#: A writer of 20 M synthetic spikes in 8 populations (as PD14 has), ~320 MB of datasets.
WRITER = r"""
import sys
import numpy as np
from spikeflow.io.spikes import PopulationSpikes, write_spikes

out, n_total = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
n_pops, n_nodes = 8, 10_000
per = n_total // n_pops
pops = [
    PopulationSpikes(f"P{k}", n_nodes, rng.integers(0, n_nodes, per).astype(np.uint64), rng.uniform(0.0, 1000.0, per))
    for k in range(n_pops)
]
meta = {"t_presim_ms": 0.0, "t_sim_ms": 1000.0, "spike_counts": {p.name: per for p in pops}}
print("writing", flush=True)
write_spikes(out, pops, meta)
print("done", flush=True)
"""

N_SPIKES = 20_000_000


def small_pops():
    return [PopulationSpikes("E", 4, np.array([0, 3, 1], np.uint64), np.array([1.0, 2.0, 3.0]))]


def small_meta():
    return {"t_presim_ms": 0.0, "t_sim_ms": 10.0, "spike_counts": {"E": 3}}


def start_writer(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), str(N_SPIKES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_growing(proc: subprocess.Popen, out: Path, timeout: float = 120.0) -> int:
    """Wait until the file being written (the temporary name, or ``out`` for an in-place writer)
    exists and has grown between two looks; return its size then."""
    tmp = temp_name(out, proc.pid)
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the writer ended (status {proc.returncode}) before it could be killed: {proc.stderr.read()}")
        sizes = [p.stat().st_size for p in (tmp, out) if p.exists()]
        size = max(sizes) if sizes else -1
        if last > 0 and size > last:
            return size
        last = size
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the writer's file {tmp} did not appear and grow within {timeout} s")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_sigkill_mid_write_leaves_no_file_and_the_next_write_cleans_up(tmp_path):
    out = tmp_path / "spikes.h5"
    proc = start_writer(out)
    tmp = temp_name(out, proc.pid)
    size = wait_until_growing(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "a writer killed mid-write left a file that looks finished"
    # SIGKILL runs nothing: the partial temporary file is there, from a process that is gone
    assert tmp.exists() and tmp.stat().st_size >= size
    assert not pid_running(proc.pid)
    assert stale_temp_files(out) == [tmp]
    # the next write of that output removes it and writes the output
    write_spikes(out, small_pops(), small_meta())
    assert leftovers(tmp_path) == ["spikes.h5"]
    assert read_spikes(out).populations["E"].n_spikes == 3


def test_sigterm_mid_write_leaves_nothing_and_still_dies_of_sigterm(tmp_path):
    out = tmp_path / "spikes.h5"
    proc = start_writer(out)
    wait_until_growing(proc, out)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGTERM, "the SIGTERM handler must let the process die of SIGTERM"
    assert leftovers(tmp_path) == [], "a writer stopped by SIGTERM left files behind"
    write_spikes(out, small_pops(), small_meta())
    assert leftovers(tmp_path) == ["spikes.h5"]


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    out = tmp_path / "rates.csv"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = temp_name(out, sleeper.pid)
        live.write_text("being written")
        with atomic_path(out) as tmp:
            tmp.write_text("mine")
        assert live.exists() and out.read_text() == "mine"
    finally:
        sleeper.kill()
        sleeper.wait()
    # now it is gone: the next write removes its file
    with atomic_path(out) as tmp:
        tmp.write_text("again")
    assert leftovers(tmp_path) == ["rates.csv"]


def test_a_zombie_writer_counts_as_gone_and_other_outputs_are_not_touched(tmp_path):
    out = tmp_path / "rates.csv"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while pid_running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert Path(f"/proc/{child.pid}").exists(), "the child should be a zombie (exited, not reaped)"
        stale = temp_name(out, child.pid)
        stale.write_text("x")
        other = temp_name(tmp_path / "rates.json", 999_999_999)  # another output's: not ours to remove
        other.write_text("y")
        assert not pid_running(child.pid)
        with atomic_path(out) as tmp:
            tmp.write_text("z")
        assert leftovers(tmp_path) == [other.name, "rates.csv"]
    finally:
        child.wait()


def test_failed_block_leaves_nothing_and_handler_is_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "x.txt") as tmp:
            tmp.write_text("half")
            assert signal.getsignal(signal.SIGTERM) is not before  # cleaning up on SIGTERM while writing
            raise RuntimeError("boom")
    assert leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_oserror_without_a_file_name_is_reraised_naming_the_output(tmp_path):
    target = tmp_path / "rates.csv"
    with pytest.raises(OSError) as info:
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert os_error_sentence(info.value) == f"{target}: No space left on device"
    # HDF5's long messages are reduced to their reason
    with pytest.raises(OSError) as info:
        with atomic_path(target):
            raise OSError("Can't write data (file write failed: time = x, errno = 28, error message = 'No space left on device', buf = 0x1)")
    assert os_error_sentence(info.value) == f"{target}: No space left on device"
    assert leftovers(tmp_path) == []


def test_a_python_sigterm_handler_installed_before_still_decides(tmp_path):
    """Over a handler of the application's own (which exits), SIGTERM still reaches it and nothing is left."""
    calls = []

    def handler(signum, frame):
        calls.append(signum)
        raise SystemExit(3)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(SystemExit):
            with atomic_path(tmp_path / "x.txt") as tmp:
                tmp.write_text("half")
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)  # the handler runs in the main thread at the next bytecode
        assert calls == [signal.SIGTERM]
        assert leftovers(tmp_path) == []
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
