"""Study configs: schema defaults, one-sentence errors naming the key, sweeps."""

import pytest
import yaml

from spikeflow.config import ConfigError, load_study, resolve_run
from tests.conftest import CONFIGS


def test_defaults_are_filled_and_params_completed():
    run = resolve_run({"model": "pd14", "params": {"N_scaling": 0.1, "K_scaling": 0.1}})
    sim = run.config["simulation"]
    assert sim == {"t_presim": 500.0, "t_sim": 1000.0, "resolution": 0.1, "seed": 55, "threads": 1, "ranks": 1, "progress_interval": 100.0}
    assert run.config["params"]["g"] == -4.0 and run.config["params"]["N_scaling"] == 0.1
    assert run.config["analysis"]["rates"]["synchrony_bin_ms"] == 3.0
    assert run.run_id == "seed55"


@pytest.mark.parametrize(
    "config, key",
    [
        ({"model": "pd14", "params": {"N_scaling": 0.1, "K_scaling": 0.1}, "simulation": {"threads": 0}}, "simulation.threads"),
        ({"model": "pd14", "params": {"N_scaling": -0.1}}, "params.N_scaling"),
        ({"model": "pd14", "params": {"N_scaling": 0}}, "params.N_scaling"),
        ({"model": "pd14", "params": {"N_scaling": 0.1, "K_scaling": 0.1, "bogus": 1}}, "params.bogus"),
        ({"model": "pd14", "simulaton": {}}, "simulaton"),
        ({"model": "pd14", "simulation": {"t_sim": "long"}}, "simulation.t_sim"),
        ({"model": "pd14", "simulation": {"seed": 1.5}}, "simulation.seed"),
        ({"model": "pd14", "params": {"bg_input": "noise"}}, "params.bg_input"),
        ({"model": "pd99"}, "model"),
        ({"model": "pd14", "sweep": {"simulation.threads": [0, 1]}}, "simulation.threads"),
        ({"model": "pd14", "sweep": {"nowhere.x": [1]}}, "sweep"),
        ({"model": "pd14", "analysis": {"rates": {"corr_sample": 1}}}, "analysis.rates.corr_sample"),
    ],
)
def test_bad_configs_are_refused_naming_the_key(config, key):
    with pytest.raises(ConfigError) as err:
        load_study(config)
    message = str(err.value)
    assert key in message
    assert "\n" not in message


def test_missing_model_is_named():
    with pytest.raises(ConfigError, match="model"):
        load_study({"params": {}})


def test_sweep_is_a_cartesian_product_with_readable_run_ids():
    study = load_study(
        {
            "study": "s",
            "model": "pd14",
            "params": {"N_scaling": 0.05, "K_scaling": 0.05},
            "sweep": {
                "simulation.seed": [1, 2, 3],
                "params": [{"N_scaling": 0.02, "K_scaling": 0.02}, {"N_scaling": 0.05, "K_scaling": 0.1}],
            },
        }
    )
    assert len(study.runs) == 6
    assert study.runs[0].run_id == "seed1_N_scaling0.02-K_scaling0.02"
    last = study.runs[-1].config
    assert last["simulation"]["seed"] == 3 and last["params"]["K_scaling"] == 0.1 and last["params"]["N_scaling"] == 0.05
    assert "sweep" not in last


def test_duplicate_run_ids_are_refused():
    with pytest.raises(ConfigError, match="same name"):
        load_study({"model": "pd14", "params": {"N_scaling": 0.02, "K_scaling": 0.02}, "sweep": {"simulation.seed": [1, 1]}})


def test_times_must_be_multiples_of_the_resolution():
    with pytest.raises(ConfigError, match="simulation.t_sim"):
        load_study({"model": "pd14", "params": {"N_scaling": 0.02, "K_scaling": 0.02}, "simulation": {"t_sim": 100.05}})


def test_yaml_file_errors_are_one_sentence(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_study(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_study(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_is_valid(path):
    study = load_study(path)
    assert study.runs
    assert study.name == yaml.safe_load(path.read_text())["study"]


def test_sweep_cases_vary_several_sections_together_and_carry_a_series():
    study = load_study(
        {
            "model": "pd14",
            "params": {"N_scaling": 0.02, "K_scaling": 0.02},
            "sweep": {
                "simulation.seed": [1, 2],
                "cases": [
                    {"series": "strong", "simulation": {"threads": 1}},
                    {"series": "weak", "simulation": {"threads": 2}, "params": {"N_scaling": 0.04}},
                ],
            },
        }
    )
    assert [(r.run_id, r.series) for r in study.runs] == [
        ("seed1_strong-threads1", "strong"),
        ("seed1_weak-threads2-N_scaling0.04", "weak"),
        ("seed2_strong-threads1", "strong"),
        ("seed2_weak-threads2-N_scaling0.04", "weak"),
    ]
    weak = study.runs[1].config
    assert weak["simulation"]["threads"] == 2 and weak["params"]["N_scaling"] == 0.04 and weak["params"]["K_scaling"] == 0.02


def test_sweep_cases_reject_unknown_sections():
    with pytest.raises(ConfigError, match="sweep.cases.0"):
        load_study({"model": "pd14", "sweep": {"cases": [{"series": "x", "simulaton": {}}]}})


def test_network_sets_group_runs_that_differ_only_in_how_they_are_simulated():
    study = load_study({
        "model": "clustered",
        "params": {"preset": "vnm", "n_neurons": 400, "n_clusters": 4},
        "sweep": {"params.j_potentiated.0": [1.0, 3.0], "simulation.seed": [1, 2]},
    })
    assert study.network_sets() == {"j_potentiated.0-1.0": "j_potentiated.0-1.0_seed1",
                                    "j_potentiated.0-3.0": "j_potentiated.0-3.0_seed1"}
    assert load_study({"model": "pd14", "params": {"N_scaling": 0.02, "K_scaling": 0.02}}).network_sets() == {"base": "seed55"}


def test_select_needs_a_run_id_when_the_study_has_several_runs():
    study = load_study({"model": "pd14", "params": {"N_scaling": 0.02, "K_scaling": 0.02}, "sweep": {"simulation.seed": [1, 2]}})
    assert study.select("seed2").run_id == "seed2"
    with pytest.raises(ConfigError, match="choose one with --run"):
        study.select()
