import json

import numpy as np
import pandas as pd
import pytest

from scope.errors import DataError
from scope.tables import read_table, update_json, write_table


def _frame(n=5):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "_id": pd.array(np.arange(10**13, 10**13 + n), dtype="Int64"),
        "ra": rng.uniform(0, 360, n),
        "n": np.arange(n, dtype=np.int64),
        "name": [f"ZTF_{i}.x" for i in range(n)],
        "flag": rng.integers(0, 2, n).astype(bool),
    })
    df["dmdt"] = [rng.random((26, 26)) for _ in range(n)]
    df.attrs = {"scope_code_version": "1.0", "ZTF_source_catalog": "ZTF_sources_20240515"}
    return df


@pytest.mark.parametrize("suffix", [".parquet", ".h5", ".csv"])
def test_round_trip_values_and_dmdt(tmp_path, suffix):
    df = _frame()
    path = write_table(df, tmp_path / f"t{suffix}")
    back = read_table(path)
    assert list(back.columns) == list(df.columns)
    np.testing.assert_allclose(back["ra"], df["ra"])
    assert back["name"].tolist() == df["name"].tolist()
    assert np.asarray(back["n"]).tolist() == df["n"].tolist()
    for a, b in zip(back["dmdt"], df["dmdt"]):
        assert a.shape == (26, 26)
        np.testing.assert_allclose(a, b)
    if suffix == ".csv":
        assert back.attrs == {}
    else:
        assert back.attrs == df.attrs
        assert str(back["_id"].dtype) == "Int64"
        assert back["flag"].dtype == bool


def test_parquet_metadata_under_scope_key(tmp_path):
    import pyarrow.parquet as pq

    path = write_table(_frame(), tmp_path / "t.parquet")
    meta = pq.read_schema(path).metadata
    assert json.loads(meta[b"scope"])["ZTF_source_catalog"] == "ZTF_sources_20240515"


def test_hdf_metadata_as_storer_attribute(tmp_path):
    path = write_table(_frame(), tmp_path / "t.h5")
    with pd.HDFStore(path, "r") as store:
        assert store.get_storer("df").attrs.metadata["scope_code_version"] == "1.0"
        assert store.get("dmdt").shape == (5, 676)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unsupported table format '.xlsx'"):
        write_table(_frame(), tmp_path / "t.xlsx")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "absent.parquet")


def test_write_is_atomic_on_failure(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(_frame(), path)
    before = path.read_bytes()
    bad = pd.DataFrame({"x": [object(), object()]})
    with pytest.raises(Exception):
        write_table(bad, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="cannot create output folder"):
        write_table(_frame(), blocker / "sub" / "t.parquet")


def test_update_json_merges(tmp_path):
    path = tmp_path / "meta.json"
    update_json(path, lambda d: d.update(a=1))
    update_json(path, lambda d: d.update(b=2))
    assert json.loads(path.read_text()) == {"a": 1, "b": 2}
