"""Building blocks of the demo sky: classes, shapes, cadence, noise, geometry, bright stars."""

from __future__ import annotations

import numpy as np
import pytest

from scope.demo import CLASS_LABELS, CLASSES, allocate_counts
from scope.demo.brightstars import drake_radius_arcsec, exclusion_radius_arcsec, place_bright_stars, near_bright_star
from scope.demo.cadence import MIN_VISIT_GAP_D, heliocentric_correction, simulate_schedule
from scope.demo.geometry import QUAD_SIZE_DEG, random_positions, separation_arcsec
from scope.demo.photometry import ERROR_FLOOR, magerr_model

PERIODIC = [k for k, c in CLASSES.items() if c.periodic]


def test_class_registry_and_labels_agree():
    assert set(CLASS_LABELS) == set(CLASSES)
    assert CLASS_LABELS["nonvar"] == ("non-variable",)
    for key, labels in CLASS_LABELS.items():
        if key != "nonvar":
            assert "variable" in labels and "non-variable" not in labels
    assert {"EA", "EB", "EW"} <= {lab for k in ("ea", "eb", "ew") for lab in CLASS_LABELS[k]}
    assert all("eclipsing" in CLASS_LABELS[k] for k in ("ea", "eb", "ew"))


@pytest.mark.parametrize("n, fraction", [(0, 0.43), (5, 0.43), (11, 1.0), (30, 0.43), (1200, 0.43), (100, 0.0)])
def test_allocate_counts(n, fraction):
    counts = allocate_counts(n, fraction)
    assert sum(counts.values()) == n
    assert n - counts["nonvar"] == round(n * fraction)
    if n - counts["nonvar"] >= len(CLASSES) - 1:
        assert min(v for k, v in counts.items() if k != "nonvar") >= 1


@pytest.mark.parametrize("key", [k for k in PERIODIC if k != "mira"])
def test_periodic_classes_repeat_after_one_period(key):
    rng = np.random.default_rng(1)
    spec = CLASSES[key]
    params = spec.sample(rng)
    t = np.sort(rng.uniform(58200, 59200, 200))
    a = spec.simulate(params, rng, {1: t, 2: t})
    b = spec.simulate(params, rng, {1: t + params["period"], 2: t + 3 * params["period"]})
    np.testing.assert_allclose(a[1], b[1], atol=1e-6)
    np.testing.assert_allclose(a[2], b[2], atol=1e-6)
    assert np.ptp(a[2]) > 0.01


@pytest.mark.parametrize("key", ["rrab", "rrc", "cep", "agn", "yso"])
def test_g_band_varies_more_than_r(key):
    rng = np.random.default_rng(2)
    spec = CLASSES[key]
    params = spec.sample(rng)
    t = np.sort(rng.uniform(58200, 59300, 400))
    out = spec.simulate(params, rng, {1: t, 2: t})
    assert np.ptp(out[1]) > np.ptp(out[2]) > 0


def test_rrab_is_a_sawtooth_fast_rise_slow_decline():
    rng = np.random.default_rng(3)
    params = CLASSES["rrab"].sample(rng)
    phase = np.linspace(0, 1, 1000, endpoint=False)
    m = CLASSES["rrab"].simulate(params, rng, {2: params["t0"] + phase * params["period"]})[2]
    brightest, faintest = np.argmin(m), np.argmax(m)
    rising = (brightest - faintest) % 1000  # faint -> bright
    assert rising < 300  # the rise takes well under a third of the cycle


def test_flares_brighten_and_mostly_quiet():
    rng = np.random.default_rng(4)
    params = CLASSES["flare"].sample(rng)
    t = np.sort(rng.uniform(58200, 59300, 3000))
    m = CLASSES["flare"].simulate(params, rng, {2: t})[2]
    assert m.max() <= 1e-12 and m.min() < -0.05
    assert np.mean(m < -0.01) < 0.3


def test_magerr_grows_with_magnitude_above_a_floor():
    mags = np.linspace(13, 21, 50)
    err = magerr_model(mags, 20.6)
    assert np.all(np.diff(err) > 0)
    assert err.min() >= ERROR_FLOOR
    assert magerr_model(20.6, 20.6) == pytest.approx(1.0857 / 5, rel=0.05)  # 5 sigma at the limit


def test_drake_radius_examples():
    # values quoted in the reference specification
    assert drake_radius_arcsec(12, 0.5) == pytest.approx(16, abs=1)
    assert drake_radius_arcsec(6, 0.5) == pytest.approx(127, abs=1)
    assert drake_radius_arcsec(2, 0.5) == pytest.approx(285, abs=1)
    assert drake_radius_arcsec(13.2, 0.5) == 0


def test_placed_bright_stars_exclude_their_targets():
    rng = np.random.default_rng(5)
    ra, dec = random_positions(rng, 200, 301, 1, 1)
    bright = place_bright_stars(rng, ra, dec, 3)
    assert np.all(bright["g"] < 13)
    assert np.all(exclusion_radius_arcsec(bright["g"], bright["bp_rp"]) >= 8)
    flagged = near_bright_star(ra, dec, bright["ra"], bright["dec"], bright["g"], bright["bp_rp"])
    assert 3 <= flagged.sum() < 20


def test_bright_star_within_two_arcsec_is_the_source_itself():
    star_ra, star_dec, g, bp_rp = np.array([66.0]), np.array([-10.0]), np.array([8.0]), np.array([0.8])
    assert exclusion_radius_arcsec(g, bp_rp)[0] > 30
    src_dec = np.array([-10.0 + 1.5 / 3600, -10.0 + 5.0 / 3600, -10.0 + 200.0 / 3600])
    src_ra = np.full(3, 66.0)
    out = near_bright_star(src_ra, src_dec, star_ra, star_dec, g, bp_rp)
    assert out.tolist() == [False, True, False]


def test_schedule_is_ztf_like():
    s = simulate_schedule(np.random.default_rng(6), 66.7, -9.9, 58194.0, 3.0, (1, 2))
    assert np.all(np.diff(s.hmjd) > 0)
    nights = np.floor(s.hmjd).astype(int)
    per_night = np.bincount(nights - nights.min())
    assert per_night.max() <= 10
    same = np.diff(nights) == 0
    assert np.all(np.diff(s.hmjd)[same] >= MIN_VISIT_GAP_D - 1e-9)
    gaps = np.diff(s.hmjd)
    assert np.sum(gaps > 90) >= 2  # one seasonal gap a year
    g, r = set(nights[s.band == 1]), set(nights[s.band == 2])
    assert 0.45 < len(g & r) / len(g | r) < 0.75
    assert 250 < np.sum(s.band == 2) < 500
    assert np.all((s.limmag > 18) & (s.limmag < 22))


def test_schedule_supports_i_band_and_short_surveys():
    s = simulate_schedule(np.random.default_rng(7), 66.7, -9.9, 58450.0, 0.5, (1, 2, 3))
    assert set(np.unique(s.band)) == {1, 2, 3}
    assert s.hmjd.min() >= 58450.0 and s.hmjd.max() < 58450.0 + 0.5 * 365.25 + 1


def test_heliocentric_correction_is_at_most_light_time_across_one_au():
    mjd = np.linspace(58194, 59300, 500)
    corr = heliocentric_correction(mjd, 66.7, -9.9) * 1440
    assert np.abs(corr).max() < 8.4 and np.ptp(corr) > 10


def test_quadrant_footprints_are_086_deg_and_disjoint():
    rng = np.random.default_rng(8)
    ra1, dec1 = random_positions(rng, 400, 301, 1, 1)
    ra2, dec2 = random_positions(rng, 400, 301, 1, 2)
    within = separation_arcsec(ra1[:, None], dec1[:, None], ra1[None, :], dec1[None, :]).max() / 3600
    assert 0.9 * QUAD_SIZE_DEG < within < QUAD_SIZE_DEG * np.sqrt(2)
    assert ra1.max() < ra2.min()  # quadrant 2 lies east of quadrant 1
