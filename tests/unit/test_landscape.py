"""Tests of the reduced mean field (spikeflow.meanfield.landscape). Units: Hz, s, mV.

The two-cluster network is the toolkit's ``2_cluster_mf`` config (reference doc section 1),
whose full mean field has a uniform saddle (21.8 Hz) and two stable one-active states
(51.1 / 2.53 Hz).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from spikeflow.meanfield import find_fixed_points, jacobian, rate_map, stability
from spikeflow.meanfield.landscape import (
    RateModel,
    rate_grid,
    reduced_landscape,
    solve_network,
)
from spikeflow.models.clustered.params import derive, resolve_params

TWO_CLUSTER = {
    "preset": "vnm",
    "n_neurons": 800,
    "n_clusters": 2,
    "background_fraction": 0.75,  # 480 of 640 E; the 160 I split 20/20/120 (J+ 1: same as unclustered I)
    "j_baseline": [0.8, 2.5, -10.6, -9.7],
    "j_potentiated": [20.0, 1.0, 1.0, 1.0],
    "threshold": [4.86, 5.98],
    "j_ext": [14.5, 12.9],
    "c_ext": [128, 128],
    "nu_ext": [7.0, 7.0],
    "arousal": {"level": 0.275},
}


@pytest.fixture(scope="module")
def two():
    """(LIFNetwork, full fixed points with verdicts) of the two-cluster network."""
    lif = derive(resolve_params(TWO_CLUSTER)).lif_network()
    phi = partial(rate_map, network=lif)
    fps = find_fixed_points(phi, lif.n_pop, n_init=20, seed=3, max_rate=50.0)
    verdicts = [stability(phi, nu).verdict for nu in fps.rates]
    return lif, fps.rates, verdicts


@pytest.fixture(scope="module")
def land2(two):
    lif, _, _ = two
    return reduced_landscape(lif, [0, 1], step=1.0)


def test_full_two_cluster_fixed_points(two):
    _, rates, verdicts = two
    assert len(rates) == 3
    stable = sorted(tuple(np.round(nu[:2], 2)) for nu, v in zip(rates, verdicts) if v.startswith("stable"))
    assert stable == [(2.53, 51.09), (51.09, 2.53)]


def test_rate_model_matches_rate_map(two):
    lif, _, _ = two
    model = RateModel(lif)
    nu = np.random.default_rng(0).uniform(0.0, 60.0, (5, lif.n_pop))
    expected = np.array([rate_map(v, lif) for v in nu])
    np.testing.assert_allclose(model.phi(nu), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("preset", ["two", "vnm_meanfield"])
def test_analytic_jacobian_matches_finite_differences(two, preset):
    lif = two[0] if preset == "two" else derive({"preset": preset}).lif_network()
    model = RateModel(lif)
    nu = np.random.default_rng(1).uniform(0.5, 40.0, lif.n_pop)
    rate, jac = model.phi_and_jacobian(nu)
    fd = jacobian(partial(rate_map, network=lif), nu) + np.eye(lif.n_pop)
    np.testing.assert_allclose(rate, rate_map(nu, lif), rtol=1e-13)
    np.testing.assert_allclose(jac, fd, atol=1e-7 * np.abs(fd).max())
    # batched: (2, N) rates give (2, N, N)
    _, jac2 = model.phi_and_jacobian(np.stack([nu, nu]))
    np.testing.assert_allclose(jac2[1], jac)


def test_solve_network_holds_focus_and_solves_the_rest(two):
    lif, _, _ = two
    model = RateModel(lif)
    start = np.full(lif.n_pop, 5.0)
    start[[0, 1]] = [30.0, 10.0]
    nu, ok = solve_network(model, start, fixed=[0, 1])
    assert ok
    assert nu[0] == 30.0 and nu[1] == 10.0
    free = [2, 3, 4, 5]
    np.testing.assert_allclose(model.phi(nu)[free], nu[free], atol=1e-9)
    full, ok = solve_network(model, np.full(lif.n_pop, 20.0))
    assert ok
    np.testing.assert_allclose(model.phi(full), full, atol=1e-9)


def test_landscape_zeros_are_the_full_fixed_points(two, land2):
    _, rates, verdicts = two
    land = land2
    assert not np.isnan(land.force).any()
    assert len(land.fixed_points) == len(rates)
    for nu, verdict in zip(rates, verdicts):
        match = [i for i, fp in enumerate(land.fixed_points) if np.max(np.abs(fp - nu)) < 1e-6]
        assert len(match) == 1
        i = match[0]
        # reduced and full verdicts agree here: stable <-> stable, saddle <-> saddle
        assert land.verdicts[i].startswith("stable") == verdict.startswith("stable")
        # F vanishes at the fixed point within grid resolution: at the nearest node (at most
        # half a grid diagonal away) |F| is of the order |dF/dx| * step
        node = tuple(np.abs(land.grid[:, None] - nu[:2]).argmin(axis=0))
        slope = 1.0 + np.abs(land.eigenvalues[i]).max()
        assert np.linalg.norm(land.force[node]) <= slope * land.grid_step
    saddle = [i for i, v in enumerate(land.verdicts) if v == "saddle"]
    assert len(saddle) == 1
    np.testing.assert_allclose(land.fixed_point_focus[saddle[0]], [21.81, 21.81], atol=0.01)
    assert land.eigenvalues[saddle[0]].real.max() > 0.1


def test_potential_minima_at_stable_states_and_barrier_at_saddle(two, land2):
    land = land2
    assert len(land.stable) == 2 and len(land.paths) == 1
    path = land.paths[0]
    a, b = land.fixed_point_focus[path.start], land.fixed_point_focus[path.end]
    step = land.grid_step
    # path ends at the grid nodes nearest the two stable states
    assert np.max(np.abs(path.points[0] - a)) <= step / 2 + 1e-9
    assert np.max(np.abs(path.points[-1] - b)) <= step / 2 + 1e-9
    u = path.potential
    # minima at both ends, one maximum in between, at the saddle
    assert u[0] == 0.0 and u[1] > u[0] and u[-2] > u[-1]
    top = path.points[np.argmax(u)]
    assert np.max(np.abs(top - 21.81)) <= 1.5 * step
    # symmetric network: equal barriers from both states (Hz^2)
    assert path.barrier_start == pytest.approx(path.barrier_end, rel=1e-6)
    assert 35.0 < path.barrier_start < 50.0
    # along the path |F| stays below the speed away from it
    speed = np.linalg.norm(land.force, axis=-1)
    assert np.linalg.norm(path.force, axis=1).mean() < 0.25 * speed.mean()


def test_one_focus_population_potential(two):
    lif, _, _ = two
    land = reduced_landscape(lif, [0])  # 0..60 Hz, step 0.5
    grid, u, f = land.grid, land.potential, land.force[:, 0]
    assert grid.size == 121 and land.grid_step == 0.5
    np.testing.assert_allclose(land.fixed_point_focus[:, 0], [2.534, 21.808, 51.092], atol=1e-3)
    assert land.verdicts == ["stable node", "unstable node", "stable node"]
    # local minima of U at the grid nodes nearest the stable points, a maximum at the unstable one
    interior = np.flatnonzero((u[1:-1] < u[:-2]) & (u[1:-1] < u[2:])) + 1
    maxima = np.flatnonzero((u[1:-1] > u[:-2]) & (u[1:-1] > u[2:])) + 1
    np.testing.assert_allclose(grid[interior], [2.5, 51.0])
    np.testing.assert_allclose(grid[maxima], [22.0])
    # F = -dU/dx
    np.testing.assert_allclose(np.gradient(-u, grid)[1:-1], f[1:-1], atol=0.05 * np.abs(f).max())


def test_force_vanishes_exactly_at_a_fixed_point_on_the_grid(two):
    lif, rates, verdicts = two
    nu = rates[[v.startswith("stable") for v in verdicts].index(True)]
    grid = np.sort(np.concatenate([[nu[0]], rate_grid(60.0, 2.0)]))
    land = reduced_landscape(lif, [0], grid=grid)
    i = int(np.flatnonzero(grid == nu[0])[0])
    assert abs(land.force[i, 0]) < 1e-6
    np.testing.assert_allclose(land.ambient[i], nu, atol=1e-6)


def test_bad_focus_and_grid(two):
    lif, _, _ = two
    with pytest.raises(ValueError, match="focus"):
        reduced_landscape(lif, [0, 1, 2])
    with pytest.raises(ValueError, match="focus"):
        reduced_landscape(lif, [0, 0])
    with pytest.raises(ValueError, match="focus"):
        reduced_landscape(lif, [9])
    with pytest.raises(ValueError, match="grid"):
        reduced_landscape(lif, [0], grid=[3.0, 1.0])
    with pytest.raises(ValueError, match="rate grid"):
        rate_grid(60.0, 0.0)


def test_grouped_rate_model_is_the_full_map_on_equal_group_rates():
    """RateModel.grouped: Phi and dPhi/dnu of the full network with every group at one rate."""
    from spikeflow.meanfield.symmetry import level_groups, solve_levels

    net = derive(resolve_params({"preset": "vnm"}))
    types, cluster = np.asarray(net.types), np.asarray(net.cluster)
    model = RateModel(net.lif_network(), quadrature="adaptive")
    levels = (np.arange(18) >= 3).astype(int)  # clusters 0-2 one level, 3-17 another
    groups = level_groups(types, cluster, levels)
    assert groups.max() + 1 == 6 and groups[[0, 2, 3, 17, 18, 19, 21, 22, 37]].tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 5]
    reduced = model.grouped(groups)
    z = np.array([40.0, 3.0, 2.5, 20.0, 9.0, 12.0])
    rate, dphi = reduced.phi_and_jacobian(z)
    full_rate, full_dphi = model.phi_and_jacobian(z[groups])
    first = [0, 3, 18, 19, 22, 37]
    np.testing.assert_allclose(rate, full_rate[first], rtol=1e-13)
    summed = np.stack([full_dphi[first][:, groups == g].sum(axis=1) for g in range(6)], axis=1)
    np.testing.assert_allclose(dphi, summed, rtol=1e-12, atol=1e-15)
    # the 3-cluster state solved in its subspace is a fixed point of the full network
    nu = solve_levels(model, z[groups], types, cluster, levels)
    assert np.max(np.abs(model.phi(nu) - nu)) < 1e-10
    assert nu[0] == nu[1] == nu[2] == pytest.approx(45.2, abs=0.1) and nu[3] == nu[17] < 3.0
