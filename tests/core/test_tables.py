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


def _corrupt_a_data_page(path):
    """Flip bytes inside the first data page (the footer stays intact, as in the review's file)."""
    raw = bytearray(path.read_bytes())
    for i in range(200, 260):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))


def test_parquet_pages_carry_checksums_and_damage_is_refused_by_name(tmp_path):
    import pyarrow.parquet as pq

    df = pd.DataFrame({"mag": np.linspace(14.0, 20.0, 4000)})
    path = write_table(df, tmp_path / "features.parquet")
    _corrupt_a_data_page(path)
    # without verification the damaged page decodes into nonsense without any error
    assert not np.allclose(pq.read_table(path, page_checksum_verification=False)["mag"].to_numpy(), df["mag"])
    with pytest.raises(DataError, match=r"features\.parquet.*checksum.*damaged"):
        read_table(path)


def test_project_parquet_reads_verify_checksums(tmp_path):
    from scope.tables import read_parquet, write_parquet
    import pyarrow as pa

    path = write_parquet(pa.table({"x": np.arange(5000, dtype=np.float64)}), tmp_path / "t.parquet",
                         compression="none")
    assert read_parquet(path)["x"].to_numpy().sum() == np.arange(5000).sum()
    _corrupt_a_data_page(path)
    with pytest.raises(DataError, match=r"t\.parquet"):
        read_parquet(path)


def test_stale_temporary_files_are_removed(tmp_path):
    from scope.tables import remove_stale_temps

    path = tmp_path / "out.parquet"
    left = [tmp_path / ".out.parquet.abc123.tmp.parquet", tmp_path / ".out.parquet.xyz.tmp"]
    others = [tmp_path / ".other.parquet.abc.tmp.parquet", tmp_path / "out.parquet.bak"]
    for p in left + others:
        p.write_text("x")
    assert sorted(remove_stale_temps(path)) == sorted(left)
    assert all(p.exists() for p in others) and not any(p.exists() for p in left)


def test_update_json_removes_an_orphaned_temporary_file(tmp_path):
    path = tmp_path / "meta.json"
    orphan = tmp_path / ".meta.json.k1ll3d.tmp"
    orphan.write_text("{half")
    update_json(path, lambda d: {"a": 1})
    assert not orphan.exists()
    assert json.loads(path.read_text()) == {"a": 1}


def test_parquet_attrs_without_reading_data(tmp_path):
    from scope.tables import parquet_attrs

    path = write_table(_frame(), tmp_path / "t.parquet")
    assert parquet_attrs(path)["ZTF_source_catalog"] == "ZTF_sources_20240515"
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="bad.parquet"):
        parquet_attrs(tmp_path / "bad.parquet")
