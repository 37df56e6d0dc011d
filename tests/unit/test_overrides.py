"""Command-line overrides: strings turned into the schema's types only where they are exact
literals; run selection; the shipped profiles installed under their bare names."""

import pytest

from spikeflow.config import ConfigError, load_study
from spikeflow.overrides import coerce, coerce_overrides, selected_runs

TINY = {
    "study": "tiny",
    "model": "pd14",
    "params": {"N_scaling": 0.02, "K_scaling": 0.02},
    "simulation": {"t_presim": 100.0, "t_sim": 200.0, "threads": 2},
    "sweep": {"simulation.seed": [1, 2]},
}


def _merged(base, overrides):
    """What Snakemake holds: the config file, then --config merged over it."""
    import copy

    cfg = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


def test_nested_key_from_the_command_line_gets_its_schema_type():
    overrides = {"simulation": {"seed": "7", "t_sim": "2000", "resolution": "0.05", "progress_interval": "1e2"}}
    cfg = coerce_overrides(_merged(TINY, overrides), overrides)
    sim = cfg["simulation"]
    assert sim["seed"] == 7 and type(sim["seed"]) is int
    assert sim["t_sim"] == 2000 and sim["resolution"] == 0.05 and sim["progress_interval"] == 100.0
    assert sim["threads"] == 2 and sim["t_presim"] == 100.0  # the study's own keys kept
    assert cfg["sweep"] == {"simulation.seed": [1, 2]}
    load_study(cfg)  # and the schema accepts it


def test_only_exact_literals_are_converted():
    cfg = {"model": "pd14", "simulation": {"seed": "seven", "threads": "2.0", "t_sim": "nan"}, "study": "123"}
    out = coerce_overrides(cfg, cfg)
    assert out["simulation"] == {"seed": "seven", "threads": "2.0", "t_sim": "nan"}
    assert out["study"] == "123"  # a string key stays a string
    with pytest.raises(ConfigError, match="simulation.seed"):
        load_study(out)


def test_booleans_null_enums_and_model_parameters():
    overrides = {
        "params": {"thalamic_input": "true", "bg_input": "dc", "N_scaling": "0.05", "g": "-4.5"},
        "analysis": {"memory": {"enabled": "false"}, "attractors": {"threshold_method": "midpoint"}},
    }
    out = coerce_overrides(_merged(TINY, overrides), overrides)
    assert out["params"] == {"N_scaling": 0.05, "K_scaling": 0.02, "thalamic_input": True, "bg_input": "dc", "g": -4.5}
    assert out["analysis"]["memory"]["enabled"] is False
    assert out["analysis"]["attractors"]["threshold_method"] == "midpoint"
    assert coerce("yes", {"type": "boolean"}) == "yes"  # YAML 1.1 words are not boolean literals
    assert coerce("null", {"type": ["number", "null"]}) is None
    assert coerce("null", {"type": "number"}) == "null"


def test_sweep_values_take_the_type_of_the_key_they_set():
    overrides = {"sweep": {"simulation.seed": ["3", "4"], "params": [{"N_scaling": "0.02", "K_scaling": "0.02"}]}}
    out = coerce_overrides(_merged(TINY, overrides), overrides)
    assert out["sweep"]["simulation.seed"] == [3, 4]
    assert out["sweep"]["params"] == [{"N_scaling": 0.02, "K_scaling": 0.02}]
    cases = {"sweep": {"cases": [{"series": "1", "simulation": {"ranks": "1", "threads": "2"}, "params": {"N_scaling": "0.01"}}]}}
    out = coerce_overrides(_merged(TINY, cases), cases)
    assert out["sweep"]["cases"] == [{"series": "1", "simulation": {"ranks": 1, "threads": 2}, "params": {"N_scaling": 0.01}}]
    study = load_study(coerce_overrides(_merged(TINY, {"sweep": {"simulation.seed": ["3", "4"]}}), {"sweep": {"simulation.seed": ["3", "4"]}}))
    assert [r.run_id for r in study.runs] == ["seed3", "seed4"]


def test_list_entries_follow_local_references():
    overrides = {"params": {"j_potentiated": ["1", "2.5", "3", "4"]}, "sweep": {"params.j_potentiated.0": ["1.0", "10"]}}
    out = coerce_overrides({"model": "clustered", **overrides}, overrides)
    assert out["params"]["j_potentiated"] == [1, 2.5, 3, 4]
    assert out["sweep"]["params.j_potentiated.0"] == [1.0, 10]


def test_only_the_command_line_part_is_touched():
    cfg = {**TINY, "simulation": {**TINY["simulation"], "seed": "5"}, "study": "x"}
    out = coerce_overrides(cfg, {"study": "x"})
    assert out["simulation"]["seed"] == "5"  # a string written in a config file stays what it was
    assert coerce_overrides(cfg)["simulation"]["seed"] == 5  # without the overrides known: everything
    assert cfg["simulation"]["seed"] == "5"  # the input is not changed


def test_a_section_key_at_the_top_level_says_what_to_type():
    with pytest.raises(ConfigError, match=r"--config simulation='\{seed: 7\}'"):
        coerce_overrides({**TINY, "seed": "7"}, {"seed": "7"})
    with pytest.raises(ConfigError, match=r"--config params='\{N_scaling: 0.1\}'"):
        coerce_overrides({**TINY, "N_scaling": 0.1}, {"N_scaling": 0.1})
    coerce_overrides({**TINY, "run": "seed1"}, {"run": "seed1"})  # a study key is fine


def test_selected_runs():
    ids = ["seed1", "seed2"]
    assert selected_runs(ids, "tiny") == ids
    assert selected_runs(ids, "tiny", "seed2") == ["seed2"]
    with pytest.raises(ConfigError) as err:
        selected_runs(ids, "tiny", "seed3")
    message = str(err.value)
    assert "'seed3'" in message and "seed1, seed2" in message and "\n" not in message


def test_profiles_install_is_idempotent_and_never_clobbers(tmp_path):
    from spikeflow import profiles

    dest = tmp_path / "snakemake"
    source = profiles.shipped_dir()
    lines = profiles.install(dest=dest)
    assert len(lines) == 2 and all("linked" in line for line in lines)
    assert (dest / "slurm").resolve() == source / "slurm" and (dest / "slurm" / "profile.yaml").is_file()
    assert all("already installed" in line for line in profiles.install(dest=dest))
    # a copy replaces our link without --force, and is itself recognised as installed
    assert "copied" in profiles.install(("local",), copy=True, dest=dest)[0]
    assert "already installed" in profiles.install(("local",), copy=True, dest=dest)[0]
    # someone else's profile of the same name: refused (nothing changed), or moved aside with force
    other = tmp_path / "other"
    (other / "slurm").mkdir(parents=True)
    (other / "slurm" / "profile.yaml").write_text("jobs: 1\n")
    with pytest.raises(profiles.ProfileError, match="--force"):
        profiles.install(dest=other)
    assert not (other / "local").exists()
    line = profiles.install(("slurm",), force=True, dest=other)[0]
    assert "slurm.bak" in line and (other / "slurm.bak" / "profile.yaml").read_text() == "jobs: 1\n"
    with pytest.raises(profiles.ProfileError, match="local, slurm"):
        profiles.install(("pbs",), dest=dest)


def test_profiles_go_where_snakemake_looks(tmp_path, monkeypatch):
    from snakemake.cli import get_profile_dir

    from spikeflow import profiles

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert profiles.snakemake_profile_dir() == tmp_path / "snakemake"
    profiles.install(("slurm",))
    import snakemake.common

    monkeypatch.setattr(snakemake.common, "APPDIRS", None)  # Snakemake caches its folders per process
    found = get_profile_dir("slurm")
    assert found is not None and found[1].name == "profile.yaml" and found[0] == tmp_path / "snakemake" / "slurm"
