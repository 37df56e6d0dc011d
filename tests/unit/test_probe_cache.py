"""The NEST build probe's cache across processes (spikeflow.probe_cache).

A hit returns what the probe returned without running it again; a rebuilt NEST (its kernel
module's size or mtime, its RECORD), another probe text or interpreter is another key; a
corrupt or foreign cache file is re-probed and overwritten; a cache that cannot be written
falls back to probing every time. Every test runs with HOME and XDG_CACHE_HOME in tmp_path,
so no developer's cache is read or written.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading

import pytest

from spikeflow import preflight, probe_cache
from tests.conftest import require

BUILD = {"version": "3.10.0", "have_mpi": True, "threads_model": "openmp", "mpiexec": "/usr/bin/mpiexec", "test_exitcodes": {"abort": 134}}


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """A cache home of this test's own; the in-process lru_cache is emptied before and after."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(probe_cache.NO_CACHE_ENV, raising=False)
    preflight.nest_build_info.cache_clear()
    yield tmp_path / "xdg" / "spikeflow" / "nest-build-info"
    preflight.nest_build_info.cache_clear()


def fake_nest(root, kernel=b"\x7fELF kernel", record="nest/__init__.py,,\n"):
    """A ``site-packages`` with a ``nest`` package: a compiled kernel module and a dist-info RECORD."""
    site = root / "site-packages"
    (site / "nest").mkdir(parents=True)
    (site / "nest" / "__init__.py").write_text("")
    (site / "nest" / "nestkernel_api.so").write_bytes(kernel)
    (site / "nest_simulator-3.10.0.dist-info").mkdir()
    (site / "nest_simulator-3.10.0.dist-info" / "RECORD").write_text(record)
    return site / "nest"


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """The fake NEST as the importable one, and a subprocess.run that answers BUILD and counts calls."""
    package = fake_nest(tmp_path)
    monkeypatch.setattr(probe_cache, "nest_package_dir", lambda: package)
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, probe.returncode, stdout=json.dumps(BUILD) + "\n", stderr="")

    probe.returncode = 0
    monkeypatch.setattr(subprocess, "run", run)
    probe.calls = calls
    probe.package = package
    return probe


def fresh_info():
    """nest_build_info() as a new process would see it (the in-process lru_cache emptied)."""
    preflight.nest_build_info.cache_clear()
    return preflight.nest_build_info()


def the_key(package):
    return probe_cache.build_key(package, preflight.NEST_BUILD_PROBE)


# ------------------------------------------------------------------ hits, misses, keys


def test_a_hit_after_a_miss_returns_the_probed_dict_without_probing(probe, isolated_cache):
    first = fresh_info()
    assert first == BUILD and len(probe.calls) == 1
    files = list(isolated_cache.iterdir())
    assert [f.name for f in files] == [probe_cache.cache_path(the_key(probe.package)).name]
    second = fresh_info()
    assert second == BUILD and len(probe.calls) == 1  # from the file, no subprocess
    second["version"] = "changed"  # a caller's edits do not reach the cache
    assert fresh_info() == BUILD and len(probe.calls) == 1


def test_without_xdg_cache_home_the_cache_is_under_home(probe, tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert fresh_info() == BUILD
    assert len(list((tmp_path / "home" / ".cache" / "spikeflow" / "nest-build-info").glob("*.json"))) == 1


def test_a_failed_probe_is_not_cached(probe, isolated_cache):
    probe.returncode = 1
    assert fresh_info() is None and fresh_info() is None
    assert len(probe.calls) == 2 and not isolated_cache.exists()
    probe.returncode = 0
    assert fresh_info() == BUILD and fresh_info() == BUILD and len(probe.calls) == 3


def test_no_cache_env_neither_reads_nor_writes(probe, isolated_cache, monkeypatch):
    monkeypatch.setenv(probe_cache.NO_CACHE_ENV, "1")
    assert fresh_info() == BUILD and fresh_info() == BUILD
    assert len(probe.calls) == 2 and not isolated_cache.exists()
    monkeypatch.delenv(probe_cache.NO_CACHE_ENV)
    fresh_info()
    monkeypatch.setenv(probe_cache.NO_CACHE_ENV, "1")
    assert fresh_info() == BUILD and len(probe.calls) == 4  # a valid file is not read either


def test_the_key_changes_with_the_kernel_module_the_record_the_probe_and_python(tmp_path):
    package = fake_nest(tmp_path)
    kernel = package / "nestkernel_api.so"
    record = package.parent / "nest_simulator-3.10.0.dist-info" / "RECORD"
    key = the_key(package)
    assert key == the_key(package) == json.loads(json.dumps(key))  # stable, and survives JSON
    assert set(key["files"]) == {"nest/nestkernel_api.so", "nest_simulator-3.10.0.dist-info/RECORD"}
    keys = [key]

    st = kernel.stat()
    os.utime(kernel, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # rebuilt: 1 ns newer
    keys.append(the_key(package))
    kernel.write_bytes(kernel.read_bytes() + b"x")  # rebuilt: another size, the same mtime
    os.utime(kernel, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    keys.append(the_key(package))
    st = record.stat()
    record.write_text(record.read_text() + "nest/x.py,,\n")
    os.utime(record, ns=(st.st_atime_ns, st.st_mtime_ns))  # reinstalled: RECORD's size
    keys.append(the_key(package))
    st = record.stat()
    record.write_text(record.read_text().replace("x.py", "y.py"))
    os.utime(record, ns=(st.st_atime_ns, st.st_mtime_ns))  # another wheel: RECORD's content only
    keys.append(the_key(package))
    (package / "pynestkernel.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")  # another module
    keys.append(the_key(package))
    keys.append(probe_cache.build_key(package, preflight.NEST_BUILD_PROBE + " "))  # another probe
    keys.append(probe_cache.build_key(package, preflight.NEST_BUILD_PROBE, python=str(tmp_path / "python")))
    assert all(keys[i] != keys[j] for i in range(len(keys)) for j in range(i))

    # the files that are not the build do not count; without a compiled module there is no key
    (package / "__init__.py").write_text("# edited")
    (package / "README.md").write_text("")
    assert the_key(package) == keys[5]
    for so in package.glob("*.so"):
        so.unlink()
    assert the_key(package) is None
    assert probe_cache.build_key(tmp_path / "missing", "probe") is None


def test_a_rebuilt_nest_is_probed_again(probe, isolated_cache):
    assert fresh_info() == BUILD and fresh_info() == BUILD and len(probe.calls) == 1
    kernel = probe.package / "nestkernel_api.so"
    st = kernel.stat()
    os.utime(kernel, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert fresh_info() == BUILD and len(probe.calls) == 2
    assert fresh_info() == BUILD and len(probe.calls) == 2
    assert len(list(isolated_cache.iterdir())) == 1  # the rebuild overwrote the file


def test_a_real_probe_of_the_installed_nest_is_cached(isolated_cache, monkeypatch):
    package = probe_cache.nest_package_dir()
    require(package is not None, "NEST is not installed: bash containers/build-nest.sh or pip install nest-simulator")
    key = the_key(package)
    assert key is not None and any(name.startswith(package.name + "/") for name in key["files"])  # the kernel module is found
    probed = fresh_info()
    assert isinstance(probed, dict) and probed["version"].startswith("3.")
    assert json.loads(probe_cache.cache_path(key).read_text())["build_info"] == probed
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("probed again"))
    assert fresh_info() == probed


# ------------------------------------------------------------------ a hostile or faulty cache


def valid_entry(package, **changes):
    return {"format": probe_cache.FORMAT, "key": the_key(package), "build_info": {**BUILD, "version": "0.0.0-cached"}, **changes}


def faults(package):
    """Cache file contents that must read as a miss (name -> bytes)."""
    key = the_key(package)
    good = json.dumps(valid_entry(package)).encode()
    other_key = {**key, "files": {**key["files"], "nest/nestkernel_api.so": [1, 2]}}
    return {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "not json": b"\x00\xff\xfe binary \x80",
        "not utf-8 json": good.replace(b"0.0.0-cached", b"\xff"),
        "a list": json.dumps([valid_entry(package)]).encode(),
        "no key": json.dumps({"format": probe_cache.FORMAT, "build_info": BUILD}).encode(),
        "another build's key": json.dumps(valid_entry(package, key=other_key)).encode(),
        "another format": json.dumps(valid_entry(package, format=probe_cache.FORMAT + 1)).encode(),
        "build_info a list": json.dumps(valid_entry(package, build_info=[["version", "x"]])).encode(),
        "build_info a string": json.dumps(valid_entry(package, build_info="3.10.0")).encode(),
        "deeply nested": b"[" * 30_000 + b"]" * 30_000,  # under MAX_BYTES: the parser's recursion
        "oversized": good + b" " * probe_cache.MAX_BYTES,
    }


def test_the_valid_entry_of_the_fault_tests_is_a_hit(probe):
    """The faults below are a valid entry spoilt one way each: unspoilt, it is read."""
    path = probe_cache.cache_path(the_key(probe.package))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(valid_entry(probe.package)))
    assert fresh_info()["version"] == "0.0.0-cached" and probe.calls == []


FAULTS = [
    "empty", "truncated", "not json", "not utf-8 json", "a list", "no key", "another build's key",
    "another format", "build_info a list", "build_info a string", "deeply nested", "oversized",
]


def test_every_fault_is_tested(tmp_path):
    assert sorted(faults(fake_nest(tmp_path))) == sorted(FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_cache_file_is_reprobed_and_overwritten(probe, fault):
    path = probe_cache.cache_path(the_key(probe.package))
    path.parent.mkdir(parents=True)
    path.write_bytes(faults(probe.package)[fault])
    assert fresh_info() == BUILD and len(probe.calls) == 1
    assert json.loads(path.read_text())["build_info"] == BUILD  # overwritten with the probe's answer
    assert fresh_info() == BUILD and len(probe.calls) == 1


def test_a_directory_in_the_cache_files_place_is_a_miss_every_time(probe):
    path = probe_cache.cache_path(the_key(probe.package))
    (path / "child").mkdir(parents=True)  # os.replace cannot put a file there either
    assert fresh_info() == BUILD and fresh_info() == BUILD and len(probe.calls) == 2
    assert path.is_dir()


def test_a_fifo_in_the_cache_files_place_does_not_block(probe):
    path = probe_cache.cache_path(the_key(probe.package))
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    result = []
    reader = threading.Thread(target=lambda: result.append(fresh_info()), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # blocked opening the FIFO: release it, then fail
        with open(path, "wb"):
            pass
        reader.join(timeout=10)
        pytest.fail("reading the cache blocked on a FIFO")
    assert result == [BUILD] and len(probe.calls) == 1
    assert json.loads(path.read_text())["build_info"] == BUILD  # replaced by a regular file


def test_an_unwritable_cache_falls_back_to_probing_every_time(probe, tmp_path, monkeypatch):
    (tmp_path / "xdg").write_text("a file where the cache directory would be")
    assert fresh_info() == BUILD and fresh_info() == BUILD and len(probe.calls) == 2
    assert (tmp_path / "xdg").read_text() == "a file where the cache directory would be"


def test_a_read_only_file_system_falls_back_to_probing_every_time(probe, monkeypatch):
    from spikeflow.io import atomic

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system", str(args[0]))

    monkeypatch.setattr(atomic, "atomic_path", read_only)
    assert fresh_info() == BUILD and fresh_info() == BUILD and len(probe.calls) == 2
    assert probe_cache.store(the_key(probe.package), BUILD) is False
