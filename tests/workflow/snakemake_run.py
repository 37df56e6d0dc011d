"""Running Snakemake from the workflow tests."""

import subprocess

from tests.conftest import require_program


def run_snakemake(*args, cwd, check=True, env=None):
    """``snakemake *args`` in ``cwd``; raises with its output when it fails and ``check``."""
    exe = require_program("snakemake", "Snakemake is not installed: pip install -e '.[test]'")
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc
