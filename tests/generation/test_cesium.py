"""--doCesium: the reference's columns and placement, and every problem found before the period search."""

import sys

import numpy as np
import pytest

from scope.config import load_config, update_user_config
from scope.features import periodsearch
from scope.generation import GenerateOptions, RunSummary
from scope.generation.run import fetch_and_clean
from scope.lightcurves.sources import open_source
from scope.tables import read_table
from tests.generation.conftest import FAST_GRID, QUAD, feature_file
from tools import generate_features

ARGS = [*QUAD, "--doCPU", *FAST_GRID, "--skipCloseSources", "--doCesium"]
SMALL = ["--stop-early", "--query-size-limit", "8"]


@pytest.fixture
def no_period_search(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the period search ran before cesium was checked")

    monkeypatch.setattr(periodsearch.search, "find_periods", refuse)
    monkeypatch.setattr("scope.features.find_periods", refuse)


def test_cesium_columns_placement_and_values(work):
    assert generate_features.main([*ARGS, *SMALL]) == 0
    df = read_table(feature_file(work))
    names = list(load_config()["feature_generation"]["cesium_features"])
    assert len(names) == 59
    cols = list(df.columns)
    first = cols.index("filter") + 1
    # the reference: cesium features after `filter`, in config order; `skew` keeps its cesium slot
    # (holding the basic-statistics value), then the other 21 basic statistics
    assert cols[first:first + len(names)] == names
    assert cols[first + len(names):first + len(names) + 3] == ["n", "median", "wmean"]
    assert cols.count("skew") == 1
    assert df[names].dtypes.eq(np.float64).all()
    assert df["amplitude"].notna().all() and df["period_fast"].notna().all()

    # values are cesium's own on the cleaned light curve (absolute HJD, as the reference passes it)
    from cesium import featurize, time_series

    cfg = load_config()
    opts = GenerateOptions(skip_close_sources=True)
    one = fetch_and_clean(open_source(cfg), df["_id"].to_numpy(np.int64)[:1], opts, RunSummary())
    t, m, e = one.get(0)
    direct = featurize.featurize_single_ts(time_series.TimeSeries(t, m, e), names, raise_exceptions=False)
    for name in ("avgt", "amplitude", "max_slope", "period_fast", "qso_log_chi2_qsonu"):
        np.testing.assert_allclose(df[name].iloc[0], direct[(name, 0)], rtol=1e-12)
    # skew is the basic statistic (the reference overwrote cesium's with it)
    from scope.features.stats import STAT_NAMES, basic_stats

    stats = basic_stats(t, m, e, np.array([0, len(t)]))
    np.testing.assert_allclose(df["skew"].iloc[0], stats[0, STAT_NAMES.index("skew")])


def test_misspelt_cesium_feature_is_refused_before_the_period_search(work, no_period_search, capsys):
    update_user_config(work / "config.yaml", {"feature_generation": {"cesium_features": ["amplitude", "amplitud"]}})
    assert generate_features.main(ARGS) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'amplitud'" in err[0] and "did you mean 'amplitude'" in err[0], err
    assert not feature_file(work).exists()


def test_missing_cesium_names_the_extra_before_the_period_search(work, no_period_search, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cesium", None)
    assert generate_features.main(ARGS) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scope-ztf[features]" in err[0] and "cesium" in err[0], err


def test_empty_cesium_list_is_refused(work, no_period_search, capsys):
    update_user_config(work / "config.yaml", {"feature_generation": {"cesium_features": []}})
    assert generate_features.main(ARGS) == 1
    assert "lists no features" in capsys.readouterr().err
