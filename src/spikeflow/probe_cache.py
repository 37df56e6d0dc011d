"""NEST's ``build_info`` kept across processes, so that a probe runs once per NEST build.

Asking NEST for its ``build_info`` takes a subprocess that imports NEST (about 0.8 s, see
:func:`spikeflow.preflight.nest_build_info`); every Snakemake start and ``spikeflow validate``
asks. The answer is stored in ``$XDG_CACHE_HOME/spikeflow/nest-build-info/`` (default
``~/.cache``), one small JSON file per interpreter and NEST package, under a key that names the
build without importing NEST (:func:`build_key`): the interpreter, the ``nest`` package's
directory, size and modification time (ns) of its compiled kernel module(s), size, mtime and
SHA-256 of its ``nest_simulator-*.dist-info/RECORD`` (which lists every installed file's
SHA-256), and a hash of the probe's own text. Any reinstall or
rebuild of NEST changes the key; a file whose key differs is ignored and overwritten.

The cache never fails a caller: an unreadable, corrupt, oversized, non-regular or foreign file
reads as a miss, and a cache directory that cannot be written is skipped silently (the probe
then runs in every process, as without this cache). ``SPIKEFLOW_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

#: Set to ``1`` to neither read nor write this cache (every process probes NEST).
NO_CACHE_ENV = "SPIKEFLOW_NO_CACHE"
#: Layout of a cache file; another value reads as a miss.
FORMAT = 1
#: A cache file larger than this (bytes) is not read (a build_info is about 1 KiB).
MAX_BYTES = 64 * 1024
#: Directory of NEST's Python distribution metadata beside the package (pip, uv).
DIST_INFO_PREFIX = "nest_simulator-"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/spikeflow/nest-build-info`` (default ``~/.cache/spikeflow/nest-build-info``)."""
    from spikeflow.user_cache import user_cache_dir

    return user_cache_dir("nest-build-info")


def disabled() -> bool:
    """Whether ``SPIKEFLOW_NO_CACHE=1`` asks to bypass the cache."""
    return os.environ.get(NO_CACHE_ENV) == "1"


def nest_package_dir() -> Path | None:
    """Directory of the ``nest`` package importable here (found without importing it), or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("nest")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    return Path(spec.origin).parent if spec.origin else None


def _fingerprint(path: Path) -> list[Any]:
    """``[size in bytes, mtime in ns]`` of ``path``."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def build_key(package_dir: str | os.PathLike, probe: str, python: str | None = None) -> dict[str, Any] | None:
    """What identifies the NEST build in ``package_dir`` and the probe asking it, or None.

    Args:
        package_dir: the ``nest`` package's directory.
        probe: the probe script's text (a changed probe is another key).
        python: the interpreter that runs the probe (default ``sys.executable``).

    Returns:
        A JSON-compatible dict: resolved ``python`` and ``package`` paths, ``probe`` (SHA-256 of
        its text), ``files`` (file name relative to the package's parent -> ``[size, mtime_ns]``)
        for every compiled module at the package's top level, and for the distribution's
        ``RECORD`` (if installed from a wheel) ``[size, mtime_ns, SHA-256 of its content]``.
        None when the package has no compiled module (nothing would show a rebuild) or cannot
        be read.
    """
    import importlib.machinery

    try:
        package = Path(os.path.realpath(package_dir))
        files: dict[str, list[int]] = {}
        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
        with os.scandir(package) as entries:
            for entry in entries:
                if entry.name.endswith(suffixes) and entry.is_file():
                    files[f"{package.name}/{entry.name}"] = _fingerprint(Path(entry.path))
        if not files:
            return None
        with os.scandir(package.parent) as entries:
            for entry in entries:
                if entry.name.lower().startswith(DIST_INFO_PREFIX) and entry.name.endswith(".dist-info"):
                    record = Path(entry.path) / "RECORD"
                    if record.is_file():
                        # its content lists every installed file's SHA-256 (the kernel module's too)
                        digest = hashlib.sha256(record.read_bytes()).hexdigest()
                        files[f"{entry.name}/RECORD"] = [*_fingerprint(record), digest]
    except (OSError, ValueError):
        return None
    return {
        "python": os.path.realpath(python or sys.executable),
        "package": str(package),
        "probe": hashlib.sha256(probe.encode()).hexdigest(),
        "files": dict(sorted(files.items())),
    }


def cache_path(key: dict[str, Any]) -> Path:
    """The cache file of ``key``: one per interpreter and package (a rebuild overwrites it)."""
    where = hashlib.sha256(f"{key['python']}\0{key['package']}".encode()).hexdigest()[:16]
    return cache_dir() / f"{where}.json"


def _read_regular(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path`` if it is a regular file no larger than that, else None."""
    # O_NONBLOCK: opening a FIFO put in the file's place must not wait for a writer
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, limit + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return None if total > limit else b"".join(chunks)
    finally:
        os.close(fd)


def load(key: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored ``build_info`` for ``key``, or None (no key, bypassed, missing or unusable file)."""
    if key is None or disabled():
        return None
    try:
        data = _read_regular(cache_path(key), MAX_BYTES)
        if data is None:
            return None
        entry = json.loads(data.decode("utf-8"))
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        info = entry.get("build_info")
        return dict(info) if isinstance(info, dict) else None
    except Exception:  # noqa: BLE001 - the cache never fails a caller: anything unexpected is a miss
        return None


def store(key: dict[str, Any] | None, info: dict[str, Any] | None) -> bool:
    """Store ``info`` (a successful probe's answer) under ``key`` atomically; whether it was stored.

    Nothing is stored for a failed probe (``info`` None), without a key, when bypassed, or
    when the cache directory cannot be written (no error is raised).
    """
    if key is None or info is None or disabled():
        return False
    try:
        from spikeflow.io.atomic import atomic_path

        text = json.dumps({"format": FORMAT, "key": key, "build_info": info}, sort_keys=True)
        if len(text.encode("utf-8")) > MAX_BYTES:
            return False
        with atomic_path(cache_path(key)) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return True
    except Exception:  # noqa: BLE001 - read-only or full file system, a file where the directory goes, ...
        return False
