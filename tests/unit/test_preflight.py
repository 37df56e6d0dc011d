"""Refusals before any time is spent: NEST's per-VP connection limit."""

import pytest

from spikeflow.config import ConfigError, load_study
from spikeflow.preflight import MAX_CONNECTIONS_PER_VP, max_connections_per_vp, min_virtual_processes


def test_full_scale_pd14_needs_three_virtual_processes():
    full = {"model": "pd14", "params": {"N_scaling": 1.0, "K_scaling": 1.0}}
    with pytest.raises(ConfigError, match="at least 3 virtual processes"):
        load_study({**full, "simulation": {"threads": 2}})
    with pytest.raises(ConfigError, match="at least 3 virtual processes"):
        load_study({**full, "simulation": {"threads": 1, "ranks": 2}})
    assert load_study({**full, "simulation": {"threads": 3}}).runs


def test_min_virtual_processes_is_the_smallest_that_fits():
    for total in (10, MAX_CONNECTIONS_PER_VP - 1000, 299_035_306, 10**9):
        n = min_virtual_processes(total)
        assert max_connections_per_vp(total, n) <= MAX_CONNECTIONS_PER_VP
        assert n == 1 or max_connections_per_vp(total, n - 1) > MAX_CONNECTIONS_PER_VP


def test_per_vp_estimate_covers_binomial_scatter():
    total, n_vp = 300_000_000, 3
    mean = total / n_vp
    assert mean < max_connections_per_vp(total, n_vp) < mean * 1.001
