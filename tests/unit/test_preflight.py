"""Refusals before any time is spent: NEST's per-VP connection limit."""

import pytest

from spikeflow.config import ConfigError, load_study
from spikeflow.preflight import MAX_CONNECTIONS_PER_VP, max_connections_per_vp, min_virtual_processes


def test_full_scale_pd14_needs_two_virtual_processes_with_synapse_copies():
    full = {"model": "pd14", "params": {"N_scaling": 1.0, "K_scaling": 1.0}}
    with pytest.raises(ConfigError, match="pd14_static_ex connections need at least 2 virtual processes"):
        load_study({**full, "simulation": {"threads": 1}})
    assert load_study({**full, "simulation": {"threads": 2}}).runs
    assert load_study({**full, "simulation": {"threads": 1, "ranks": 2}}).runs
    # one static_synapse for everything: 3 virtual processes, as NEST itself would demand
    never = {"model": "pd14", "params": {"N_scaling": 1.0, "K_scaling": 1.0, "synapse_copies": "never"}}
    with pytest.raises(ConfigError, match="static_synapse connections need at least 3 virtual processes"):
        load_study({**never, "simulation": {"threads": 2}})
    assert load_study({**never, "simulation": {"threads": 3}}).runs


def test_min_virtual_processes_is_the_smallest_that_fits():
    for total in (10, MAX_CONNECTIONS_PER_VP - 1000, 299_035_306, 10**9):
        n = min_virtual_processes(total)
        assert max_connections_per_vp(total, n) <= MAX_CONNECTIONS_PER_VP
        assert n == 1 or max_connections_per_vp(total, n - 1) > MAX_CONNECTIONS_PER_VP


def test_per_vp_estimate_covers_binomial_scatter():
    total, n_vp = 300_000_000, 3
    mean = total / n_vp
    assert mean < max_connections_per_vp(total, n_vp) < mean * 1.001
