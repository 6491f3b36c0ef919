"""Bright-star exclusion (§4.2), closest cross-match (§4.12) and alert statistics (§4.11)."""

import numpy as np
import pytest

from scope.errors import DataError
from scope.features.alerts import alert_stats
from scope.features.brightstars import (
    bright_star_keep_mask,
    exclusion_radius_arcsec,
    separation_arcsec,
    tycho_bv_from_gaia,
)
from scope.features.xmatch import closest_match_index, xmatch_columns

ARCSEC = 1 / 3600


def test_drake_radius_examples_from_the_spec():
    # the spec's examples (B - V = 0.5): B = 12 -> ~16", B = 6 -> ~127", B = 2 -> ~285"
    assert exclusion_radius_arcsec(12.0, 11.5) == pytest.approx(16.3, abs=0.3)
    assert exclusion_radius_arcsec(6.0, 5.5) == pytest.approx(127, abs=1)
    assert exclusion_radius_arcsec(2.0, 1.5) == pytest.approx(285, abs=1)
    assert exclusion_radius_arcsec(13.5, 13.0) == 0.0
    b, v = tycho_bv_from_gaia(10.0, 0.0)
    assert b == pytest.approx(10.004288) and v == pytest.approx(10.01077)


def test_bright_star_cut():
    dec0 = 30.0
    cosd = np.cos(np.radians(dec0))
    # sources: near a G=8 star, far from it, on a bright star itself, near a colourless star
    ra = np.array([100.0 + 20 * ARCSEC / cosd, 100.0 + 250 * ARCSEC / cosd, 120.0, 140.0 + 10 * ARCSEC / cosd])
    dec = np.full(4, dec0)
    star_ra = np.array([100.0, 120.0 + 1 * ARCSEC / cosd, 140.0, 100.0 + 60 * ARCSEC / cosd])
    star_dec = np.full(4, dec0)
    star_g = np.array([8.0, 12.9, 8.0, 14.0])
    star_bprp = np.array([0.8, 0.8, np.nan, 0.5])
    keep = bright_star_keep_mask(ra, dec, star_ra, star_dec, star_g, star_bprp)
    # radius of a G=8, BP-RP=0.8 star is ~90": 20" is inside, 250" outside; the G=12.9 star
    # at 1" is the source itself; a star without colour never excludes; G=14 is too faint
    assert keep.tolist() == [False, True, True, True]


def test_self_match_moves_the_reference_position():
    # the source's own Gaia counterpart lies 1.5" west; another bright star lies 1" inside its
    # exclusion radius from the Gaia position but 0.5" outside it from the ZTF position
    star_g = np.array([12.5, 12.0])
    bprp = np.array([0.5, 0.9])
    radius = float(exclusion_radius_arcsec(*tycho_bv_from_gaia(star_g[1], bprp[1])))
    gaia_ra = -1.5 * ARCSEC
    other_ra = gaia_ra - (radius - 1.0) * ARCSEC
    assert separation_arcsec(0.0, 0.0, other_ra, 0.0) == pytest.approx(radius + 0.5)
    star_ra = np.array([gaia_ra, other_ra]) % 360
    keep = bright_star_keep_mask([0.0], [0.0], star_ra, [0.0, 0.0], star_g, bprp)
    assert keep.tolist() == [False]
    # without the counterpart (too faint to be a candidate) the ZTF position is the reference
    keep = bright_star_keep_mask([0.0], [0.0], star_ra, [0.0, 0.0], np.array([14.0, 12.0]), bprp)
    assert keep.tolist() == [True]


def test_no_stars_or_no_sources():
    assert bright_star_keep_mask([1.0], [2.0], [], [], [], []).tolist() == [True]
    assert bright_star_keep_mask([], [], [1.0], [2.0], [5.0], [0.5]).tolist() == []
    with pytest.raises(DataError):
        bright_star_keep_mask([1.0, 2.0], [1.0], [], [], [], [])


def test_closest_match_not_first():
    q = np.array([0, 0, 0, 2, 2])
    sep = np.array([1.5, 0.4, 0.9, 1.0, 1.0])
    assert closest_match_index(3, q, sep).tolist() == [1, -1, 3]


def test_xmatch_columns_names_and_missing_values():
    q = np.array([0, 0, 2])
    sep = np.array([1.0, 0.2, 1.9])
    fields = {
        "_id": np.array([4295806720, 6917528997577384320, 7]),
        "w1mpro": np.array([12.0, 11.0, np.nan]),
        "ph_qual": np.array(["AAA", "BBU", "CCC"], dtype=object),
    }
    cols, matched = xmatch_columns("AllWISE", 3, q, sep, fields, ["_id", "w1mpro", "ph_qual", "w4mpro"])
    assert list(cols) == ["AllWISE___id", "AllWISE__w1mpro", "AllWISE__ph_qual", "AllWISE__w4mpro"]
    assert matched.tolist() == [True, False, True]
    assert cols["AllWISE___id"].dtype == np.int64
    assert cols["AllWISE___id"][0] == 6917528997577384320  # 19 digits survive
    np.testing.assert_array_equal(cols["AllWISE__w1mpro"], [11.0, np.nan, np.nan])
    assert cols["AllWISE__ph_qual"].tolist() == ["BBU", None, "CCC"]
    assert np.all(np.isnan(cols["AllWISE__w4mpro"]))


def test_alert_stats():
    n, mean = alert_stats(4, np.array([0, 0, 2, 3]), np.array([0.9, 0.5, np.nan, 0.2]))
    assert n.tolist() == [2, 0, 1, 1]
    np.testing.assert_allclose(mean, [0.7, 0.0, np.nan, 0.2])
    n, mean = alert_stats(2, np.array([], dtype=int), np.array([]))
    assert n.tolist() == [0, 0] and mean.tolist() == [0.0, 0.0]
