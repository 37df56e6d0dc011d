"""SPIKEFLOW_NO_SKIP=1 turns every way of skipping into a failure, not only ``require``.

Runs pytest on a few skipping tests next to a copy of the suite's conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

SKIPPING = '''
import pytest

def test_importorskip():
    pytest.importorskip("spikeflow_no_such_module", reason="the optional thing is absent")

def test_skip_call():
    pytest.skip("skipped by a call")

@pytest.mark.skipif(True, reason="skipped by a mark")
def test_skip_mark():
    pass

@pytest.mark.xfail(reason="expected to fail", strict=True)
def test_xfail():
    assert False

def test_passes():
    pass
'''

MODULE_SKIP = '''
import pytest
pytest.importorskip("spikeflow_no_such_module")

def test_never_collected():
    pass
'''


def run_pytest(tmp_path: Path, files: dict[str, str], no_skip: bool) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "SPIKEFLOW_NO_SKIP"}
    if no_skip:
        env["SPIKEFLOW_NO_SKIP"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )


@pytest.mark.parametrize("no_skip", [False, True])
def test_every_skip_fails_with_no_skip(tmp_path, no_skip):
    proc = run_pytest(tmp_path, {"test_skipping.py": SKIPPING}, no_skip)
    out = proc.stdout
    if not no_skip:
        assert proc.returncode == 0, out
        assert "1 passed, 3 skipped, 1 xfailed" in out, out
        return
    assert proc.returncode == 1, out
    assert "FAILED test_skipping.py::test_importorskip" in out, out
    assert "FAILED test_skipping.py::test_skip_call" in out, out
    assert "test_skipping.py::test_skip_mark" in out and "skipped by a mark" in out, out  # reported at setup
    assert "SPIKEFLOW_NO_SKIP=1 forbids skips: the optional thing is absent" in out, out
    assert "XFAIL test_skipping.py::test_xfail" in out and "PASSED test_skipping.py::test_passes" in out, out
    assert " skipped" not in out.splitlines()[-1], out


def test_a_module_skipped_at_collection_fails_with_no_skip(tmp_path):
    plain = run_pytest(tmp_path, {"test_module_skip.py": MODULE_SKIP}, False)
    assert plain.returncode == 5 and "1 skipped" in plain.stdout, plain.stdout  # 5: no test ran, not a failure
    proc = run_pytest(tmp_path, {"test_module_skip.py": MODULE_SKIP}, True)
    assert proc.returncode == 2, proc.stdout  # a collection error
    assert "skipped at collection, but SPIKEFLOW_NO_SKIP=1 forbids skips" in proc.stdout, proc.stdout
