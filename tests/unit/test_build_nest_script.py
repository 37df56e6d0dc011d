"""containers/build-nest.sh: its options, their cache keys, and what it passes to the NEST build.

The script runs against stand-ins on PATH (mpicc, cmake, mpirun, c++) and a stand-in Python that
answers ``-c`` with the real interpreter, fakes ``pip download`` and records the arguments of
``pip wheel`` instead of building, so nothing is compiled and nothing needs MPI or a compiler.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "containers" / "build-nest.sh"
PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"
MPIVER = "mpirunOpenMPI4.1.4"
TARGET_HELP = "  -march=                     \t\tfakelake\n  -mavx2                      \t\t[enabled]\n"

FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$3" = "download" ]; then
    while [ $# -gt 0 ]; do [ "$1" = "-d" ] && touch "$2/nest_simulator-3.10.0.tar.gz"; shift; done
    exit 0
fi
if [ "$1" = "-m" ]; then printf '%s\\n' "$@" > "$FAKE_LOG"; exit 97; fi
exec {python} "$@"
"""

# accepts -march=native and -march=x86-64-v3 only, and reports what native resolves to
FAKE_CXX = """#!/bin/sh
for a in "$@"; do
    case "$a" in
        -march=native|-march=x86-64-v3) ;;
        -march=*) echo "c++: error: bad value for -march" >&2; exit 1 ;;
        -) cat > /dev/null ;;
        --help=target) printf '{target}' ;;
    esac
done
exit 0
"""


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """Environment with the stand-ins first on PATH and an empty cache under ``tmp_path``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = {
        "mpicc": "#!/bin/sh\nexit 0\n",
        "cmake": "#!/bin/sh\nexit 0\n",
        "mpirun": "#!/bin/sh\necho 'mpirun (Open MPI) 4.1.4'\n",
        "c++": FAKE_CXX.replace("{target}", TARGET_HELP.replace("\n", "\\n").replace("\t", "\\t")),
        "python3": FAKE_PYTHON.replace("{python}", sys.executable),
    }
    for name, text in tools.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHON": str(bin_dir / "python3"),
        "CXX": str(bin_dir / "c++"),
        "SPIKEFLOW_CACHE": str(tmp_path / "cache"),
        "FAKE_LOG": str(tmp_path / "pip-wheel-args.txt"),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], check=False, env=env, capture_output=True, text=True, timeout=60)


def wheel_args(env: dict[str, str]) -> list[str]:
    return Path(env["FAKE_LOG"]).read_text().splitlines()


def test_help_lists_the_options(env):
    proc = run(env, "--help")
    assert proc.returncode == 0
    assert "--optimize generic|native|MARCH" in proc.stdout
    for line in ("--optimize generic", "--optimize native", "--optimize MARCH", "--lto", "--no-install"):
        assert line in proc.stdout
    assert "set -euo" not in proc.stdout


def test_default_key_and_flags_are_unchanged(env):
    """The default build keeps the key format CI's cached wheels were stored under, and adds no flags."""
    key = f"nest-3.10.0-mpi-full-py{PYVER}-{MPIVER}"
    proc = run(env, "--no-install")
    assert proc.returncode == 97, proc.stderr
    assert proc.stdout.rstrip().endswith(f"/wheels/{key}")
    args = wheel_args(env)
    assert not any("with-optimize" in a or "INTERPROCEDURAL" in a for a in args)


def test_default_uses_a_cached_wheel(env):
    key = f"nest-3.10.0-mpi-full-py{PYVER}-{MPIVER}"
    wheels = Path(env["SPIKEFLOW_CACHE"]) / "wheels" / key
    wheels.mkdir(parents=True)
    for name in ("nest_simulator-3.10.0-cp311-cp311-linux_x86_64.whl", "mpi4py-4.1.2-cp311-cp311-linux_x86_64.whl"):
        (wheels / name).touch()
    proc = run(env, "--no-install")
    assert proc.returncode == 0, proc.stderr
    assert f"using cached wheels in {wheels}" in proc.stdout
    assert not Path(env["FAKE_LOG"]).exists()


def test_march_and_lto_have_their_own_key_and_flags(env):
    proc = run(env, "--no-install", "--optimize", "x86-64-v3", "--lto")
    assert proc.returncode == 97, proc.stderr
    assert proc.stdout.rstrip().endswith(f"nest-3.10.0-mpi-full-py{PYVER}-{MPIVER}-march.x86-64-v3-lto")
    args = wheel_args(env)
    assert "cmake.define.with-optimize=-O3;-march=x86-64-v3" in args
    assert "cmake.define.CMAKE_INTERPROCEDURAL_OPTIMIZATION=ON" in args


def test_native_key_names_the_resolved_cpu(env):
    proc = run(env, "--no-install", "--optimize", "native")
    assert proc.returncode == 97, proc.stderr
    digest = hashlib.sha256(TARGET_HELP.rstrip("\n").encode()).hexdigest()[:8]
    assert proc.stdout.rstrip().endswith(f"-{MPIVER}-native.fakelake.{digest}")
    assert "cmake.define.with-optimize=-O3;-march=native" in wheel_args(env)


@pytest.mark.parametrize(
    "args",
    [
        ("--optimize", "a;b"),
        ("--optimize", "-O3 -ffast-math"),
        ("--optimize", "nosuchcpu"),
        ("--optimize",),
        ("--frobnicate",),
    ],
)
def test_bad_values_are_refused_before_any_build(env, args):
    proc = run(env, "--no-install", *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("build-nest.sh: ") and proc.stderr.count("\n") == 1
    assert not Path(env["FAKE_LOG"]).exists()
    assert not (Path(env["SPIKEFLOW_CACHE"]) / "wheels").exists()
