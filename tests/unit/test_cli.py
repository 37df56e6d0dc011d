"""The command line: listings, written files, and one-sentence errors with exit status 2."""

import yaml

from spikeflow.cli import main


def _write(tmp_path, text, name="study.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_validate_lists_runs(tmp_path, capsys):
    cfg = _write(tmp_path, "model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsweep: {simulation.seed: [1, 2]}\n")
    assert main(["validate", cfg]) == 0
    out = capsys.readouterr().out
    assert "2 run(s), all valid" in out and "seed1:" in out and "1,544 neurons" in out


def test_errors_are_one_sentence_with_status_2(tmp_path, capsys):
    cfg = _write(tmp_path, "model: pd14\nsimulation: {threads: 0}\n")
    assert main(["validate", cfg]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spikeflow: error: ") and "simulation.threads" in err and "\n" not in err
    assert main(["info", str(tmp_path / "missing.h5")]) == 2
    assert "no spikes file" in capsys.readouterr().err


def test_resolve_writes_the_simulation_part_of_one_run(tmp_path):
    cfg = _write(tmp_path, "model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsweep: {simulation.seed: [1, 2]}\n")
    out = tmp_path / "run.yaml"
    assert main(["resolve", cfg, "--run", "seed2", "--out", str(out)]) == 0
    run = yaml.safe_load(out.read_text())
    assert set(run) == {"study", "model", "params", "simulation", "recording"}
    assert run["simulation"]["seed"] == 2 and run["params"]["g"] == -4.0
    assert main(["resolve", cfg, "--out", str(tmp_path / "x.yaml")]) == 2  # two runs: --run needed
    assert not (tmp_path / "x.yaml").exists()


def test_simulate_refuses_before_starting_nest(tmp_path, capsys):
    sweep = _write(tmp_path, "model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsweep: {simulation.seed: [1, 2]}\n")
    assert main(["simulate", "--config", sweep, "--out", str(tmp_path / "s.h5")]) == 2
    assert "has a sweep" in capsys.readouterr().err
    # full scale on 1 virtual process: over NEST's per-VP connection limit, refused before NEST starts
    full = _write(tmp_path, "model: pd14\nsimulation: {threads: 1}\n", "full.yaml")
    assert main(["simulate", "--config", full, "--out", str(tmp_path / "s.h5")]) == 2
    assert "at least 2 virtual processes" in capsys.readouterr().err
    assert not (tmp_path / "s.h5").exists()
