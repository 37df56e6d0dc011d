"""Build the ``spikeflow_wta`` NEST extension module against the active NEST, cache it, load it.

The module is compiled with CMake + Ninja from the C++ sources shipped in ``cpp/`` against the
headers of the *installed* NEST Python package (``site-packages/nest/include/nest``; MPI headers
found by CMake when NEST was built with MPI). ``nest-config`` is not used: NEST built as a
Python wheel reports a temporary build prefix there. The result is cached under
``$XDG_CACHE_HOME/spikeflow/nestext/<nest-version>-<source-hash>/`` (default ``~/.cache``), where
the hash covers the C++ sources and NEST's ``config.h``, so a change of either rebuilds.

The PyPI *binary* wheel of NEST cannot load extension modules (an undefined kernel symbol at
``nest.Install``); it is recognised before anything is compiled or loaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

MODULE_NAME = "spikeflow_wta"
SOURCE_DIR = Path(__file__).resolve().parent / "cpp"
# Models the module registers (checked after loading).
NEURON_MODEL = "wta_neuron"
SYNAPSE_MODEL = "wta_stp_synapse"

BINARY_WHEEL_MESSAGE = (
    "the installed NEST is the PyPI binary wheel, which cannot load C++ extension modules; the sequence "
    "family needs NEST built from the sdist with containers/build-nest.sh"
)


class NestExtensionError(RuntimeError):
    """The extension module cannot be built or loaded with the active NEST."""


def nest_package_dir() -> Path:
    """Directory of the installed ``nest`` Python package (found without importing it)."""
    spec = importlib.util.find_spec("nest")
    if spec is None or not spec.submodule_search_locations:
        raise NestExtensionError("NEST is not installed (no `nest` Python package found)")
    return Path(list(spec.submodule_search_locations)[0])


def nest_include_dir() -> Path:
    """NEST's C++ headers as installed with its Python package."""
    inc = nest_package_dir() / "include" / "nest"
    if not (inc / "nest_extension_interface.h").is_file():
        raise NestExtensionError(
            f"NEST's C++ headers are missing ({inc} has no nest_extension_interface.h); "
            "the sequence family needs NEST built from the sdist with containers/build-nest.sh"
        )
    return inc


def nest_version() -> str:
    """Version of the installed NEST distribution (``nest-simulator``)."""
    try:
        return importlib.metadata.version("nest-simulator")
    except importlib.metadata.PackageNotFoundError:
        header = nest_package_dir() / "include" / "nest" / "config.h"
        for line in header.read_text().splitlines() if header.is_file() else []:
            if line.startswith("#define NEST_VERSION"):
                return line.split('"')[1]
        raise NestExtensionError("cannot tell the installed NEST version") from None


def wheel_tags() -> list[str]:
    """Platform tags of the installed NEST distribution's wheel (empty if unknown)."""
    try:
        text = importlib.metadata.distribution("nest-simulator").read_text("WHEEL") or ""
    except importlib.metadata.PackageNotFoundError:
        return []
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def is_binary_wheel(tags: list[str] | None = None) -> bool:
    """True if NEST is the PyPI binary wheel (a manylinux/musllinux/macOS-tagged wheel).

    A wheel built locally from the sdist (containers/build-nest.sh) carries a plain
    ``linux_x86_64``-style tag.
    """
    tags = wheel_tags() if tags is None else tags
    return any(("manylinux" in t) or ("musllinux" in t) or ("macosx" in t) for t in tags)


def check_nest_supports_extensions() -> None:
    """Raise :class:`NestExtensionError` (one sentence) if the active NEST cannot load modules."""
    if is_binary_wheel():
        raise NestExtensionError(BINARY_WHEEL_MESSAGE)
    nest_include_dir()


def nest_has_mpi(include_dir: Path | None = None) -> bool:
    """Whether the installed NEST was built with MPI (its headers then include ``mpi.h``)."""
    config = (include_dir or nest_include_dir()) / "config.h"
    return any(line.strip() == "#define HAVE_MPI 1" for line in config.read_text().splitlines())


def source_hash(include_dir: Path | None = None) -> str:
    """SHA-256 (first 12 hex digits) of the C++ sources and NEST's ``config.h``."""
    h = hashlib.sha256()
    for path in sorted(SOURCE_DIR.iterdir()):
        if path.is_file() and path.suffix in {".h", ".cpp", ".txt"}:
            h.update(path.name.encode())
            h.update(path.read_bytes())
    h.update(((include_dir or nest_include_dir()) / "config.h").read_bytes())
    return h.hexdigest()[:12]


def cache_root() -> Path:
    """Root of spikeflow's extension-module cache."""
    from spikeflow.user_cache import user_cache_dir

    return user_cache_dir("nestext")


def module_dir() -> Path:
    """Cache directory of the module for the active NEST and the shipped sources."""
    return cache_root() / f"{nest_version()}-{source_hash()}"


def module_path() -> Path:
    """Path of the built shared library (whether or not it exists yet)."""
    return module_dir() / f"{MODULE_NAME}.so"


def build(force: bool = False, *, jobs: int | None = None, verbose: bool = False) -> Path:
    """Build the extension module into the cache (if not cached yet) and return its path.

    Args:
        force: rebuild even if a cached module exists.
        jobs: parallel compile jobs (default: Ninja's choice, at most 2).
        verbose: print CMake's and Ninja's output.

    Returns:
        Path of ``spikeflow_wta.so``.

    Raises:
        NestExtensionError: binary-wheel NEST, missing headers/tools, or a failed compile.
    """
    check_nest_supports_extensions()
    include_dir = nest_include_dir()
    target = module_path()
    if target.is_file() and not force:
        return target
    for tool in ("cmake", "ninja"):
        if shutil.which(tool) is None:
            raise NestExtensionError(f"building the NEST extension module needs `{tool}` on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent builds (e.g. MPI ranks) wait for the first
        if target.is_file() and not force:
            return target
        # Build in a directory of this process's own, then move the module into place with one
        # rename: a killed build leaves neither a half-written module nor a half-configured build
        # directory that the next build would reuse (what killed builds left is removed first).
        from spikeflow.io.atomic import atomic_path, remove_stale_temp_files, temp_name

        remove_stale_temp_files(target.parent / "build")
        shutil.rmtree(target.parent / "build", ignore_errors=True)  # the shared build dir of earlier versions
        build_dir = temp_name(target.parent / "build")
        shutil.rmtree(build_dir, ignore_errors=True)
        configure = [
            "cmake",
            "-G",
            "Ninja",
            "-S",
            str(SOURCE_DIR),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DNEST_INCLUDE_DIRS={include_dir}",
            f"-DWITH_MPI={'ON' if nest_has_mpi(include_dir) else 'OFF'}",
        ]
        compile_ = ["ninja", "-C", str(build_dir), "-j", str(jobs or min(2, os.cpu_count() or 1))]
        try:
            for cmd in (configure, compile_):
                _run(["nice", "-n", "5", *cmd] if shutil.which("nice") else cmd, verbose)
            built = build_dir / f"{MODULE_NAME}.so"
            if not built.is_file():
                raise NestExtensionError(f"the build finished but {built} is missing")
            with atomic_path(target) as tmp:
                shutil.copy2(built, tmp)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
    return target


def _run(cmd: list[str], verbose: bool) -> None:
    proc = subprocess.run(cmd, capture_output=not verbose, text=True)
    if proc.returncode != 0:
        tail = "" if verbose else "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise NestExtensionError(f"building the NEST extension module failed: {' '.join(cmd)}\n{tail}")


def load(nest: Any, *, build_if_missing: bool = True) -> Path:
    """Install the extension module into the running NEST kernel (once per kernel).

    Args:
        nest: the imported ``nest`` module.
        build_if_missing: compile it first if it is not cached (else raise).

    Returns:
        Path of the loaded library.
    """
    check_nest_supports_extensions()
    path = module_path()
    if not path.is_file():
        if not build_if_missing:
            raise NestExtensionError(f"the NEST extension module is not built ({path}); run `spikeflow build-ext`")
        path = build()
    if NEURON_MODEL in nest.node_models:
        return path  # already installed in this kernel
    try:
        nest.Install(str(path.with_suffix("")))
    except Exception as err:  # NEST raises its own exception types
        raise NestExtensionError(f"NEST could not load the extension module {path}: {err}") from err
    missing = [m for m in (NEURON_MODEL,) if m not in nest.node_models]
    missing += [m for m in (SYNAPSE_MODEL,) if m not in nest.synapse_models]
    if missing:
        raise NestExtensionError(f"the extension module {path} loaded but does not provide {', '.join(missing)}")
    return path


def main_build(force: bool = False, verbose: bool = False, out: str | os.PathLike | None = None) -> int:
    """Build (or find cached) and print the module path; 0 on success, 2 with a message on error.

    With ``out`` the path is also written to that file, atomically (what the ``build_nestext``
    rule should use instead of redirecting stdout into its output, which a killed or failed
    build leaves empty or half-written).
    """
    try:
        path = build(force=force, verbose=verbose)
    except NestExtensionError as err:
        print(f"spikeflow: error: {err}", file=sys.stderr)
        return 2
    if out is not None:
        from spikeflow.io.atomic import atomic_path

        with atomic_path(out) as tmp:
            Path(tmp).write_text(f"{path}\n")
    print(path)
    return 0
