"""spikeflow.analysis.smoothing: the FFT Gaussian smoother against scipy.ndimage's direct sum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from spikeflow.analysis import smoothing
from spikeflow.analysis.smoothing import GaussianSmoother, gaussian_kernel


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5, 20.0, 37.3])
@pytest.mark.parametrize("truncate", [1.0, 4.0, 6.5])
def test_kernel_is_scipys(sigma, truncate):
    radius = int(truncate * sigma + 0.5)
    delta = np.zeros(4 * radius + 3)
    delta[2 * radius + 1] = 1.0
    response = gaussian_filter1d(delta, sigma, mode="constant", truncate=truncate)
    np.testing.assert_allclose(gaussian_kernel(sigma, truncate), response[radius + 1 : 3 * radius + 2], rtol=1e-14, atol=0)
    assert gaussian_kernel(sigma, truncate).sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 80, 161, 162, 4_000, 4_096, 10_001, 250_003])
def test_equals_scipys_gaussian_filter_to_1e12_of_the_largest_value(n):
    rng = np.random.default_rng(n)
    for sigma in (0.3, 1.0, 20.0, 37.3, 200.0):
        for truncate in (1.0, 4.0):
            if int(truncate * sigma + 0.5) > 4 * n + 8:
                continue
            counts = rng.poisson(rng.uniform(0.1, 5.0), size=n) * rng.uniform(1.0, 50.0)  # rates: nonnegative
            signed = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3)
            for values in (counts, signed):
                direct = gaussian_filter1d(values, sigma, mode="reflect", truncate=truncate)
                smoothed = GaussianSmoother(n, sigma, truncate)(values)
                scale = max(np.abs(values).max(), np.finfo(float).tiny)
                np.testing.assert_allclose(smoothed, direct, rtol=0, atol=1e-12 * scale, err_msg=f"sigma {sigma}, truncate {truncate}")


def test_windows_of_zeros_give_exact_zeros():
    """Where the kernel reaches only zeros the direct sum is 0 exactly; the FFT's residue is cleared."""
    n, sigma = 60_000, 20.0
    values = np.random.default_rng(5).poisson(3.0, size=n) * 8.0
    values[10_000:30_000] = 0.0
    values[-500:] = 0.0  # silence at the mirrored edge too
    direct = gaussian_filter1d(values, sigma, mode="reflect", truncate=4.0)
    smoothed = GaussianSmoother(n, sigma)(values)
    assert np.count_nonzero(direct == 0.0) > 19_000
    np.testing.assert_array_equal(smoothed == 0.0, direct == 0.0)
    assert smoothed.min() >= 0.0  # no negative rounding residue left in the silent stretch
    np.testing.assert_allclose(smoothed, direct, rtol=0, atol=1e-12 * values.max())


def test_never_silent_series_take_the_quick_path_and_keep_their_values():
    n = 50_000
    values = 1.0 + np.random.default_rng(6).poisson(3.0, size=n)
    direct = gaussian_filter1d(values, 20.0, mode="reflect", truncate=4.0)
    smoothed = GaussianSmoother(n, 20.0)(values)
    assert np.count_nonzero(smoothed) == n
    np.testing.assert_allclose(smoothed, direct, rtol=0, atol=1e-12 * values.max())


def test_a_smoother_is_reusable_and_writes_into_out():
    rng = np.random.default_rng(7)
    smoother = GaussianSmoother(9_000, 5.0)
    first, second = rng.random(9_000), rng.random(9_000)
    out = np.empty(9_000)
    assert smoother(first, out=out) is out
    again = smoother(second)
    np.testing.assert_array_equal(smoother(first), out)  # nothing of an earlier series stays in the buffers
    np.testing.assert_array_equal(GaussianSmoother(9_000, 5.0)(second), again)


def test_blocks_do_not_change_the_numbers_beyond_rounding(monkeypatch):
    values = np.random.default_rng(8).poisson(2.0, size=30_000) * 4.0
    reference = GaussianSmoother(30_000, 20.0)(values)
    monkeypatch.setattr(smoothing, "_BATCH_SAMPLES", 1)  # one block per FFT call
    np.testing.assert_array_equal(GaussianSmoother(30_000, 20.0)(values), reference)


@pytest.mark.parametrize(
    "args, message",
    [((0, 1.0), "n must be"), ((10, 0.0), "sigma must be"), ((10, float("nan")), "sigma must be"), ((10, 1.0, -1.0), "truncate must be")],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        GaussianSmoother(*args)


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        GaussianSmoother(10, 1.0)(np.zeros(11))
