"""The README's everyday commands as a user types them (real snakemake, dry runs): `--profile
slurm` after `spikeflow profiles install`, `--config` overrides of nested keys and sweeps, and
one run of a study with `--config run=ID`, in any argument order."""

import os
import re
import shlex
import subprocess

import pytest

from tests.conftest import REPO, require_program
from tests.workflow.snakemake_run import run_snakemake

pytestmark = pytest.mark.workflow
TINY = "workflow/config/tiny.yaml"


def _runs_in(stdout):
    """Run ids of the simulations a dry run would make."""
    return sorted(set(re.findall(r"results/[^/\s]+/([^/\s]+)/spikes\.h5", stdout)))


def test_nested_config_override_is_typed_and_names_its_run(workdir):
    proc = run_snakemake("-n", "--cores", "2", "--config", "simulation={seed: 7}", cwd=workdir)
    assert _runs_in(proc.stdout) == ["seed7"]


def test_sweep_and_parameter_overrides(workdir):
    proc = run_snakemake(
        "-n", "--cores", "2", "--configfile", TINY,
        "--config", "sweep={simulation.seed: [3, 4, 5]}", "params={N_scaling: 0.03, K_scaling: 0.03}",
        cwd=workdir,
    )
    assert _runs_in(proc.stdout) == ["seed3", "seed4", "seed5"]


def test_a_section_key_at_the_top_level_says_what_to_type(workdir):
    proc = run_snakemake("-n", "--cores", "2", "--config", "seed=7", cwd=workdir, check=False)
    assert proc.returncode != 0
    assert "--config simulation='{seed: 7}'" in proc.stdout + proc.stderr


@pytest.mark.parametrize("order", ["configfile-first", "config-first"])
def test_one_run_of_a_study_in_any_argument_order(workdir, order):
    args = [["--configfile", TINY], ["--config", "run=seed2"]]
    if order == "config-first":
        args.reverse()
    proc = run_snakemake("-n", "--cores", "2", *args[0], *args[1], cwd=workdir)
    assert _runs_in(proc.stdout) == ["seed2"]
    assert "results/tiny/seed2/rates/rates.json" in proc.stdout


def test_unknown_run_lists_the_valid_ones(workdir):
    proc = run_snakemake("-n", "--cores", "2", "--configfile", TINY, "--config", "run=seed3", cwd=workdir, check=False)
    assert proc.returncode != 0
    line = next(line for line in (proc.stdout + proc.stderr).splitlines() if "invalid config" in line)
    assert "'seed3'" in line and "seed1, seed2" in line


def test_validate_prints_the_command_that_runs_each_run_alone(workdir):
    exe = require_program("spikeflow", "spikeflow is not installed: pip install -e '.[test]'")
    out = subprocess.run([exe, "validate", TINY], cwd=workdir, capture_output=True, text=True, check=True).stdout
    commands = [line.strip() for line in out.splitlines() if line.strip().startswith("snakemake ")]
    assert len(commands) == 2 and commands[1].endswith("--config run=seed2")
    proc = run_snakemake(*shlex.split(commands[1])[1:], "-n", cwd=workdir)  # the printed command, as a dry run
    assert _runs_in(proc.stdout) == ["seed2"]


def test_profile_by_name_after_install_and_by_path(workdir, tmp_path):
    exe = require_program("spikeflow", "spikeflow is not installed: pip install -e '.[test]'")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    # not installed: Snakemake's own error; `spikeflow profiles` says what to type
    proc = run_snakemake("--profile", "slurm", "-n", cwd=workdir, env=env, check=False)
    assert proc.returncode != 0 and "no profile.yaml" in proc.stdout + proc.stderr
    status = subprocess.run([exe, "profiles"], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    assert "spikeflow profiles install slurm" in status
    install = subprocess.run([exe, "profiles", "install"], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert len(install.stdout.splitlines()) == 2 and str(tmp_path / "xdg" / "snakemake" / "slurm") in install.stdout
    for profile in ("slurm", "local", str(REPO / "cluster_profiles" / "slurm")):
        proc = run_snakemake("--profile", profile, "-n", "--configfile", TINY, "--config", "run=seed1", cwd=workdir, env=env)
        assert _runs_in(proc.stdout) == ["seed1"]
        assert "Using profile" in proc.stdout + proc.stderr
    again = subprocess.run([exe, "profiles", "install"], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert again.stdout.count("already installed") == 2
