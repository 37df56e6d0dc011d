"""spikeflow.allocator: glibc's malloc set to keep freed memory, where there is glibc."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from spikeflow import allocator


@pytest.fixture(autouse=True)
def _fresh_libc_lookup():
    """Each test finds the C library anew (it is looked up once per process), and leaves no fake behind."""
    allocator.libc.cache_clear()
    yield
    allocator.libc.cache_clear()


def test_takes_effect_with_glibc():
    if not sys.platform.startswith("linux") or "glibc" not in " ".join(map(str, __import__("platform").libc_ver())):
        pytest.skip("glibc's malloc only (this is not Linux with glibc)")
    # in a fresh process: the settings stay for the rest of the process
    code = "from spikeflow.allocator import retain_freed_memory as r; print(r())"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"


def test_a_threshold_glibc_refuses_changes_nothing_and_says_so(monkeypatch):
    calls = []

    def mallopt(param, value):
        calls.append((param, value))
        return 0  # glibc's answer to a value out of range

    class Libc:
        pass

    libc = Libc()
    libc.mallopt = mallopt
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: libc)
    monkeypatch.setattr(allocator.sys, "platform", "linux")
    assert allocator.retain_freed_memory() is False
    assert calls == [(allocator.M_MMAP_THRESHOLD, allocator.MMAP_THRESHOLD)]  # the second setting not tried


def test_without_a_c_library_nothing_happens(monkeypatch):
    def missing(name):
        raise OSError("no libc")

    monkeypatch.setattr(allocator.ctypes, "CDLL", missing)
    monkeypatch.setattr(allocator.sys, "platform", "linux")
    assert allocator.retain_freed_memory() is False
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.retain_freed_memory() is False


def test_the_thresholds_are_within_glibcs_limits():
    assert 0 < allocator.MMAP_THRESHOLD <= 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)  # DEFAULT_MMAP_THRESHOLD_MAX
    assert 0 < allocator.TRIM_THRESHOLD <= 2**31 - 1  # an int
