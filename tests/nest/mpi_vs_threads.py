"""Run one script as 2 MPI ranks x 1 thread and as 1 rank x 2 threads (the same 2 virtual processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require


def run_both_ways(nest, tmp_path: Path, script_text: str, mpi_out: Path, threads_out: Path) -> None:
    """Write ``script_text`` and run it as ``script RANKS THREADS OUT``: under mpirun -np 2 with
    (2, 1, ``mpi_out``), then as one process with (1, 2, ``threads_out``); skips without mpirun or
    without a NEST built with MPI."""
    mpirun = shutil.which("mpirun")
    require(mpirun is not None and nest.GetKernelStatus("build_info")["have_mpi"], "needs mpirun and NEST with MPI (containers/build-nest.sh)")
    script = tmp_path / "run.py"
    script.write_text(script_text)
    env = {**os.environ, "PYNEST_QUIET": "1"}
    flags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    subprocess.run([mpirun, *flags, "-np", "2", sys.executable, str(script), "2", "1", str(mpi_out)], check=True, env=env, capture_output=True)
    subprocess.run([sys.executable, str(script), "1", "2", str(threads_out)], check=True, env=env, capture_output=True)
