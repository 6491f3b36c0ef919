"""Fourier decomposition (spec §4.9) against a direct NumPy least-squares fit."""

import numpy as np
import pytest

from scope.errors import ConfigError, DataError
from scope.features.fourier import FOURIER_NAMES, fourier_dict, fourier_features

from featsynth import ztf_like


def _lstsq_fit(t, m, e, period, k):
    """Weighted least squares of the legacy model with absolute-time phases (longdouble)."""
    tl = np.asarray(t, dtype=np.longdouble)
    phase = (2 * np.pi * ((tl / period) % 1)).astype(np.float64)
    cols = [np.ones_like(m), t - t.min()]
    for h in range(1, k + 1):
        cols += [np.cos(h * phase), np.sin(h * phase)]
    x = np.column_stack(cols) / e[:, None]
    beta, *_ = np.linalg.lstsq(x, m / e, rcond=None)
    chi2 = np.sum((m / e - x @ beta) ** 2)
    return beta, chi2


def test_matches_numpy_lstsq_with_bic_selection(rng):
    period = 0.8317
    t, m, e = ztf_like(rng, 250, period=period, amp=0.4, shape="sawtooth", noise=0.02)
    e = e * rng.uniform(0.5, 2.0, len(e))
    out = fourier_features(t, m, e, np.array([0, len(t)]), np.array([period]))[0]
    fits = [_lstsq_fit(t, m, e, period, k) for k in range(6)]
    bic = [c + np.log(len(t)) * (2 + 2 * k) for k, (_, c) in enumerate(fits)]
    best = int(np.argmin(bic))
    beta = np.zeros(12)
    beta[: 2 + 2 * best] = fits[best][0]
    assert best >= 2  # a sawtooth needs harmonics
    assert out[0] == pytest.approx((fits[0][1] - fits[best][1]) / fits[0][1], rel=1e-8)
    assert out[1] == pytest.approx(bic[best], rel=1e-8)
    np.testing.assert_allclose(out[2:], beta, rtol=1e-6, atol=1e-9)


def test_reference_unit_case_offset_and_amplitude():
    # the reference's test: 18 + 0.5 cos(2 pi t / P)
    t = np.linspace(0, 30, 200) + 2459000.5
    period = 2.5
    m = 18 + 0.5 * np.cos(2 * np.pi * t / period)
    e = np.full(len(t), 0.01)
    legacy = dict(zip(FOURIER_NAMES, fourier_features(t, m, e, np.array([0, 200]), np.array([period]))[0]))
    assert legacy["f1_a"] == pytest.approx(18, abs=1e-6)
    assert legacy["f1_amp"] == pytest.approx(0.5, abs=1e-6)  # A_1, the cosine coefficient
    assert legacy["f1_phi0"] == pytest.approx(0, abs=1e-6)
    assert legacy["f1_power"] == pytest.approx(1, abs=1e-9)
    ap = dict(zip(FOURIER_NAMES, fourier_features(t, m, e, np.array([0, 200]), np.array([period]),
                                                  form="amplitude_phase")[0]))
    assert ap["f1_amp"] == pytest.approx(0.5, abs=1e-6)
    assert ap["f1_phi0"] == pytest.approx(np.arctan2(0.5, 0.0))


def test_amplitude_phase_form_is_derived_from_the_coefficients(rng):
    period = 1.377
    t, m, e = ztf_like(rng, 300, period=period, amp=0.5, shape="sawtooth", noise=0.01)
    leg = fourier_features(t, m, e, np.array([0, len(t)]), np.array([period]))[0]
    ap = fourier_features(t, m, e, np.array([0, len(t)]), np.array([period]), form="amplitude_phase")[0]
    np.testing.assert_allclose(ap[:4], leg[:4])
    a = leg[4::2]
    b = leg[5::2]
    amp = np.hypot(a, b)
    phi = np.arctan2(a, b)
    assert ap[4] == pytest.approx(amp[0]) and ap[5] == pytest.approx(phi[0])
    for k in range(1, 5):
        if amp[k] == 0:
            assert ap[4 + 2 * k] == 0 and ap[5 + 2 * k] == 0
            continue
        assert ap[4 + 2 * k] == pytest.approx(amp[k] / amp[0])
        h = k + 1
        assert ap[5 + 2 * k] == pytest.approx(((phi[k] / h - phi[0]) / (2 * np.pi / h)) % 1)


def test_phase_uses_absolute_time_without_precision_loss(rng):
    # shifting the time origin by a whole number of periods leaves every coefficient unchanged
    period = 0.3141
    t, m, e = ztf_like(rng, 200, period=period, amp=0.3)
    shifted = t + 1000 * period
    a = fourier_features(t, m, e, np.array([0, 200]), np.array([period]))[0]
    b = fourier_features(shifted, m, e, np.array([0, 200]), np.array([period]))[0]
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_nan_rules_and_names():
    t = np.arange(10.0)
    m = np.sin(t)
    e = np.full(10, 0.1)
    out = fourier_features(t, m, e, np.array([0, 2, 10, 10]), np.array([1.5, np.nan, 2.0]))
    assert np.all(np.isnan(out[0]))  # 2 points
    assert np.all(np.isnan(out[1]))  # no period
    assert np.all(np.isnan(out[2]))  # empty
    out = fourier_features(t, m, e, np.array([0, 10]), np.array([-1.0]))
    assert np.all(np.isnan(out))
    cols = fourier_dict(np.zeros((1, 14)), "ELS_ECE_EAOV")
    assert list(cols)[0] == "f1_power_ELS_ECE_EAOV" and "f1_relphi4_ELS_ECE_EAOV" in cols
    with pytest.raises(ConfigError):
        fourier_features(t, m, e, np.array([0, 10]), np.array([1.0]), form="polar")
    with pytest.raises(DataError):
        fourier_features(t, m, e, np.array([0, 10]), np.array([1.0, 2.0]))
