"""Physically impossible photometry: dropped and counted, or refused as a corrupt file by name."""

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope.tables import read_table
from tests.generation.conftest import FAST_GRID, QUAD, feature_file
from tools import generate_features

ARGS = [*QUAD, "--doCPU", *FAST_GRID, "--skipCloseSources"]


def _g_file(work):
    return next((work / "ztf_archive").rglob("ztf_000301_zg_c01_q1_*.parquet"))


def _rewrite_mags(path, change):
    """Rewrite an archive file with ``change(row, mags) -> mags`` applied (no page checksums, like a DR file)."""
    table = pq.read_table(path)
    mags = table["mag"].to_pylist()
    new = [change(i, np.asarray(m, dtype=np.float32)).tolist() for i, m in enumerate(mags)]
    table = table.set_column(table.schema.get_field_index("mag"), "mag", pa.array(new, table.schema.field("mag").type))
    pq.write_table(table, path, use_compliant_nested_type=False)


def _summary(err):
    return next(line for line in err.splitlines() if line.startswith("generate-features:"))


def test_a_few_impossible_magnitudes_are_dropped_and_counted(work, capsys):
    def spoil(i, m):
        if i < 5:
            m[:3] = 1e-22  # three impossible epochs in each of five light curves
        return m

    _rewrite_mags(_g_file(work), spoil)
    assert generate_features.main(ARGS) == 0
    line = _summary(capsys.readouterr().err)
    assert "15 implausible magnitude" in line
    df = read_table(feature_file(work))
    assert df["median"].between(10, 25).all()  # no 1e-22 reached a feature


def test_a_mostly_implausible_file_is_refused_as_corrupt(work, capsys):
    path = _g_file(work)
    _rewrite_mags(path, lambda i, m: np.full_like(m, 1.3e-22) if i % 5 else m)
    assert generate_features.main(ARGS) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "looks corrupt" in err[0] and path.name in err[0], err
    assert not list((work / "generated_features").rglob("gen_features_*.parquet")) if (work / "generated_features").exists() else True


def test_a_damaged_page_of_a_checksummed_archive_file_is_refused(work, capsys):
    path = _g_file(work)  # the demo writes its archive with page checksums
    meta = pq.ParquetFile(path).metadata.row_group(0)
    mag = next(meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema.startswith("mag."))
    raw = bytearray(path.read_bytes())
    start = mag.data_page_offset + mag.total_compressed_size // 2  # inside the page, past its header
    for i in range(start, start + 32):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    assert generate_features.main(ARGS) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and path.name in err[0], err


def test_summary_counts_epochs_removed_by_the_time_cut_and_thinning(work, capsys):
    tables = [pq.read_table(p).to_pandas() for p in (work / "ztf_archive").rglob("ztf_000301_z?_c01_q1_*.parquet")]
    tables = [t[t["nepochs"] >= 20] for t in tables]  # the selection (--min-n-lc-points 20)
    hmjd = np.concatenate([np.concatenate(t["hmjd"].to_numpy()) for t in tables]) + 2400000.5
    flags = np.concatenate([np.concatenate(t["catflags"].to_numpy()) for t in tables])
    cut = float(np.median(hmjd))
    expected_late = int(((hmjd > cut) & (flags == 0)).sum())
    assert generate_features.main([*ARGS, "--max-timestamp-hjd", str(cut), "--min-cadence-minutes", "1440",
                                   "--min-n-lc-points", "20"]) == 0
    line = _summary(capsys.readouterr().err)
    late = re.search(r"(\d+) after max_timestamp_hjd", line)
    thinned = re.search(r"(\d+) cadence thinning", line)
    read = re.search(r"epochs: (\d+) read", line)
    assert late and int(late.group(1)) == expected_late, line
    assert thinned and int(thinned.group(1)) > 0, line
    assert read and int(read.group(1)) == len(hmjd), line
