import numpy as np
import pandas as pd
import pytest

from scope.errors import DataError
from scope.lightcurves.sources import LightCurveTableSource


def test_plain_table_with_names_and_bands(tmp_path):
    df = pd.DataFrame({"id": ["ZTF_a.b"] * 4 + ["other"] * 2, "time": [59000.1, 59001.2, 59000.5, 59002.0, 1, 2],
                       "mag": [15.0, 15.1, 14.0, 14.2, 18, 18.1], "magerr": 0.02,
                       "band": ["g", "g", "r", "r", "zr", "zr"]})
    path = tmp_path / "lc.csv"
    df.to_csv(path, index=False)
    src = LightCurveTableSource(path)
    assert len(src.ids) == 3
    ids = src.ids_for_name("ZTF_a.b")
    batch = src.lightcurves(ids)
    assert sorted(batch.band.tolist()) == [1, 2]
    assert batch.t.min() == pytest.approx(59000.1 + 2400000.5)
    assert src.names[ids[0]] == "ZTF_a.b"


def test_irsa_table(tmp_path):
    df = pd.DataFrame({"oid": [101, 101, 102], "hjd": [2459000.1, 2459001.1, 2459000.3], "mag": [16, 16.1, 17],
                       "magerr": [0.02] * 3, "catflags": [0, 32768, 0], "filtercode": ["zg", "zg", "zr"],
                       "ra": [10.0, 10.0, 10.1], "dec": [5.0, 5.0, 5.1]})
    path = tmp_path / "irsa.parquet"
    df.to_parquet(path)
    src = LightCurveTableSource(path)
    assert src.ids.tolist() == [101, 102]
    batch = src.lightcurves([102, 101])
    assert batch.ids.tolist() == [102, 101]
    assert batch.trim(clean_flags=True).lengths().tolist() == [1, 1]
    assert src.near(10.0, 5.0, 1.0)["_id"].tolist() == [101]


def test_unrecognised_columns(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="unrecognised light-curve columns"):
        LightCurveTableSource(path)
