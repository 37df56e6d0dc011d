"""PD14 derived quantities against the reference implementation's published numbers."""

import numpy as np
import pytest

from spikeflow.models.pd14.params import (
    CONN_PROBS,
    FULL_NUM_NEURONS,
    Pd14Params,
    derive,
    psc_over_psp,
    rheobase,
    subthreshold_populations,
    synapses_from_probabilities,
)


def test_full_scale_counts():
    d = derive(Pd14Params())
    assert d.total_neurons == 77169
    assert d.total_synapses == 298_880_968  # num_connections of a device-free NEST run
    in_degrees = d.num_synapses.sum(axis=1) / d.num_neurons
    np.testing.assert_allclose(in_degrees, [4995, 5285, 2806, 5888, 4944, 2736, 2564, 2434], atol=1)


@pytest.mark.parametrize(
    "scale, neurons, synapses",
    [(0.1, 7_717, 2_988_807), (0.2, 15_435, 11_955_239), (0.5, 38_586, 74_720_239)],
)
def test_downscaled_counts(scale, neurons, synapses):
    d = derive(Pd14Params(N_scaling=scale, K_scaling=scale))
    assert (d.total_neurons, d.total_synapses) == (neurons, synapses)


def test_psc_conversion_and_weights():
    assert psc_over_psp(250.0, 10.0, 0.5) == pytest.approx(585.39, abs=0.01)
    d = derive(Pd14Params())
    assert d.weight_ext == pytest.approx(87.81, abs=0.01)
    assert d.weights[0, 0] == pytest.approx(87.81, abs=0.01)
    assert d.weights[0, 2] == pytest.approx(2 * 87.81, abs=0.02)  # L4E -> L23E doubled
    assert d.weights[0, 1] == pytest.approx(-4 * 87.81, abs=0.05)  # g = -4
    assert np.all(d.weights[:, 1::2] < 0) and np.all(d.weights[:, 0::2] > 0)


def test_full_scale_dc_background():
    d = derive(Pd14Params(bg_input="dc"))
    np.testing.assert_allclose(d.dc_amp, [561.97, 526.85, 737.59, 667.34, 702.47, 667.34, 1018.58, 737.59], atol=0.01)
    assert np.all(d.poisson_rates == 0)


def test_poisson_background_needs_no_dc_at_full_scale():
    d = derive(Pd14Params())
    assert np.all(d.dc_amp == 0)
    np.testing.assert_allclose(d.poisson_rates, 8.0 * np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]))


def test_downscaling_rescales_weights_and_compensates_mean_input():
    k = 0.1
    full, scaled = derive(Pd14Params()), derive(Pd14Params(N_scaling=k, K_scaling=k))
    np.testing.assert_allclose(scaled.weights, full.weights / np.sqrt(k))
    np.testing.assert_allclose(scaled.poisson_rates, 8.0 * np.round(np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]) * k))
    # Independent check of the compensation: mean input current per target (pA) at full scale
    # = tau_syn * sum_x J_x K_x nu_x; the scaled network delivers sqrt(k) of it through synapses,
    # the DC supplies the rest.
    tau = 0.5e-3
    rates = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
    n_full = np.array(FULL_NUM_NEURONS, float)
    k_full = synapses_from_probabilities(np.array(CONN_PROBS), n_full, n_full) / n_full[:, None]
    recurrent = tau * (full.weights * k_full * rates).sum(axis=1)
    external = tau * full.weight_ext * 8.0 * np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
    np.testing.assert_allclose(scaled.dc_amp, (1 - np.sqrt(k)) * (recurrent + external), rtol=1e-12)


def test_dc_background_at_scale_0_1_leaves_populations_below_rheobase():
    # the trap found with the reference implementation: 7 of 8 populations never fire
    assert rheobase(Pd14Params()) == 375.0
    assert len(subthreshold_populations(derive(Pd14Params(N_scaling=0.1, K_scaling=0.1, bg_input="dc")))) == 7
    assert subthreshold_populations(derive(Pd14Params(N_scaling=0.1, K_scaling=0.1))) == []


def test_thalamic_synapses():
    d = derive(Pd14Params(thalamic_input=True, N_scaling=0.1, K_scaling=0.1))
    assert list(np.nonzero(d.num_th_synapses)[0]) == [2, 3, 6, 7]
    # fixed_total_number formula with 902 thalamic neurons, times K_scaling
    expected = np.log(1 - 0.0983) / np.log(1 - 1 / (902 * 21915)) * 0.1
    assert d.num_th_synapses[2] == round(expected)
    assert np.all(derive(Pd14Params()).num_th_synapses == 0)


def test_synapse_formula_gives_the_connection_probability():
    # with N_syn synapses placed uniformly among n*m pairs, P(pair connected) = 1 - (1 - 1/nm)^N_syn = C
    n, m, c = 300, 200, 0.1
    n_syn = synapses_from_probabilities(np.array([[c]]), np.array([n]), np.array([m]))[0, 0]
    assert 1 - (1 - 1 / (n * m)) ** n_syn == pytest.approx(c, rel=1e-12)


def test_unknown_parameter_is_refused():
    with pytest.raises(KeyError, match="bogus"):
        Pd14Params.from_config({"bogus": 1})
