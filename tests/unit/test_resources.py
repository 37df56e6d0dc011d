"""Resource estimates and the flags the rules pass on."""

from spikeflow.config import load_study
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
