"""Resource estimates and the flags the rules pass on."""

import json

import pytest

from spikeflow import resources as res
from spikeflow.analysis.memory import MemoryModel, ResourceModel, RuntimeModel
from spikeflow.config import ConfigError, load_study
from spikeflow.resources import estimate_memory_mb, rates_flags, run_resources, describe_run


def _run(scale, **sim):
    return load_study({"model": "pd14", "params": {"N_scaling": scale, "K_scaling": scale}, "simulation": {"threads": 4, **sim}}).runs[0]


def test_memory_grows_with_the_network_and_the_ranks():
    small, full = run_resources(_run(0.1)), run_resources(_run(1.0))
    assert small["mem_mb"] < full["mem_mb"]
    desc = describe_run(_run(0.1).config)
    assert estimate_memory_mb(desc, 2) > estimate_memory_mb(desc, 1)


def test_runtime_is_at_least_ten_minutes_and_grows_with_model_time():
    short, long = run_resources(_run(1.0, t_sim=1000.0)), run_resources(_run(1.0, t_sim=100000.0))
    assert 10 <= short["runtime"] < long["runtime"]


def test_rates_flags_follow_the_config():
    run = load_study({"model": "pd14", "params": {"N_scaling": 0.1, "K_scaling": 0.1}, "analysis": {"rates": {"corr_sample": 20}}}).runs[0]
    flags = " ".join(rates_flags(run))
    assert "--corr-sample 20" in flags and "--synchrony-bin-ms 3.0" in flags


# --- which memory model, its NEST build, families, runtime (issue 11, item 10) ---


BUILD = {"version": "3.10.0", "have_mpi": True, "threads_model": "openmp", "have_gsl": True}


def _model_file(path, base_mb, build=BUILD):
    fitted_on = {"models": ["pd14"], "nest_builds": [build], "hosts": [{"cpu": "x", "cores": 2}]}
    model = ResourceModel(MemoryModel(base_mb, 0.0, 1e-5, fitted_on=fitted_on),
                          {"clustered": MemoryModel(base_mb, 0.0, 1e-4, fitted_on=fitted_on)},
                          RuntimeModel(1.0, 1e-6, 0.0, 1e-6, fitted_on=fitted_on))
    path.write_text(json.dumps(model.to_dict()))
    return path


@pytest.fixture
def no_user_model(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(res.MEMORY_MODEL_ENV, raising=False)
    return tmp_path


def test_model_source_order(no_user_model, monkeypatch):
    tmp = no_user_model
    assert res.memory_model_source({})[1] == "shipped"
    installed = res.install_memory_model(_model_file(tmp / "fit.json", 100.0))
    assert installed == tmp / "cache" / "spikeflow" / "memory_model.json"
    assert res.memory_model_source({}) == (installed, "installed")
    monkeypatch.setenv(res.MEMORY_MODEL_ENV, str(_model_file(tmp / "env.json", 200.0)))
    assert res.memory_model_source({})[1] == res.MEMORY_MODEL_ENV
    given = _model_file(tmp / "given.json", 300.0)
    path, source = res.memory_model_source({"memory_model": str(given)})
    assert (path, source) == (given, "resources.memory_model")
    assert res.load_resource_model(path, source).memory.base_mb == 300.0
    with pytest.raises(ConfigError, match="'resources.memory_model' names 'nope.json', which is not a file"):
        res.memory_model_source({"memory_model": "nope.json"})
    (tmp / "failed.json").write_text(json.dumps({"fitted": False, "error": "too few sizes"}))
    with pytest.raises(ValueError, match="fit failed"):
        res.install_memory_model(tmp / "failed.json")
    with pytest.raises(ConfigError, match="cannot be used: no memory model: the fit failed"):
        res.load_resource_model(tmp / "failed.json", "resources.memory_model")


def test_the_study_key_sets_the_requests(no_user_model):
    tmp = no_user_model
    given = _model_file(tmp / "given.json", 1000.0)
    study = {"model": "pd14", "params": {"N_scaling": 0.1, "K_scaling": 0.1},
             "resources": {"memory_model": str(given)}}
    run = load_study(study).runs[0]
    desc = describe_run(run.config)
    connections = sum(desc["connections"].values()) + sum(p["size"] for p in desc["populations"])
    assert run_resources(run)["mem_mb"] == int(-(-res.HEADROOM * (1000.0 + 1e-5 * connections) // 1))
    assert "given.json (resources.memory_model), pd14 terms" not in res.model_in_use_line(run)  # no pd14 entry
    assert "generic terms" in res.model_in_use_line(run) and "NEST 3.10.0 (MPI, openmp, GSL)" in res.model_in_use_line(run)


def test_families_use_their_terms_and_users_models_the_generic_ones():
    fitted_on = {"models": ["pd14"]}
    model = ResourceModel(MemoryModel(100.0, 0.0, 1e-5, fitted_on=fitted_on), {"clustered": MemoryModel(100.0, 0.0, 1e-4)})
    desc = {"populations": [{"name": "E", "size": 1000}], "connections": {"static_synapse": 10_000_000}}
    generic = res.estimate_memory_mb(desc, 1, "pd14", model)
    assert res.estimate_memory_mb(desc, 1, "clustered", model) > 5 * generic
    assert res.estimate_memory_mb(desc, 1, "/home/me/brunel.py", model) == generic


def test_runtime_is_calibrated_with_a_safety_factor():
    from spikeflow.analysis.memory import RUNTIME_SAFETY

    rt = RuntimeModel(0.0, 1e-6, 0.0, 1e-6)
    model = ResourceModel(MemoryModel(100.0, 0.0, 1e-5), runtime=rt)
    desc = {"populations": [{"name": "E", "size": 1000}], "connections": {"static_synapse": 1_000_000_000}}
    sim = {"ranks": 1, "threads": 4, "t_presim": 0.0, "t_sim": 1000.0}
    k = 1_000_000_000 + 1000
    expected = RUNTIME_SAFETY * (res.RUNTIME_STARTUP_S + rt.predict_s(1000, k, 4, 1.0)) / 60
    assert res.estimate_runtime_min(desc, sim, "pd14", model) == -(-expected // 1)
    # threads beyond the cores do not make it faster
    assert res.estimate_runtime_min(desc, sim, "pd14", model, cores=2) > res.estimate_runtime_min(desc, sim, "pd14", model)
    small = {"populations": [{"name": "E", "size": 10}], "connections": {"static_synapse": 100}}
    assert res.estimate_runtime_min(small, sim, "pd14", model) == res.RUNTIME_MIN_MINUTES


def test_a_model_from_another_nest_build_is_named(monkeypatch, capsys, tmp_path):
    model = ResourceModel(MemoryModel(100.0, 0.0, 1e-5, fitted_on={"nest_builds": [BUILD]}))
    assert res.check_model_build(model, "m.json", installed={**BUILD, "built": "today", "prefix": "/x"}) is None
    wheel = {**BUILD, "have_mpi": False}
    message = res.check_model_build(model, "m.json", installed=wheel)
    assert "fitted on NEST 3.10.0 (MPI, openmp, GSL)" in message and "NEST here is NEST 3.10.0 (no MPI, openmp, GSL)" in message
    assert "\n" not in message
    # another version: known from the package metadata, without asking NEST
    monkeypatch.setattr(res, "installed_nest_version", lambda: "3.9.0")
    monkeypatch.setattr(res, "nest_build_info", lambda: pytest.fail("NEST probed"))
    assert "but the NEST here is NEST 3.9.0" in res.check_model_build(model, "m.json")
    monkeypatch.setattr(res, "installed_nest_version", lambda: None)
    assert res.check_model_build(model, "m.json") is None  # no NEST here: nothing to compare
    monkeypatch.setattr(res, "installed_nest_version", lambda: "3.9.0")
    res.warn_model_build(model, tmp_path / "once.json")
    res.warn_model_build(model, tmp_path / "once.json")
    err = capsys.readouterr().err
    assert err.count("spikeflow: warning: the memory model in use") == 1 and err.count("\n") == 1
    # a model without provenance (format 1) is not warned about
    assert res.check_model_build(ResourceModel(MemoryModel(1.0, 0.0, 0.0)), "old.json") is None
