"""Label rule, column checks and dm-dt stacking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope.errors import DataError
from scope.training.dataset import check_columns, count_positives, select_examples, stack_dmdt


def test_labels_between_half_and_threshold_are_left_out():
    df = pd.DataFrame({"RR Lyrae": [1.0, 0.75, 0.7, 0.6, 0.5, 0.25, 0.0, np.nan]})
    ex = select_examples(df, "RR Lyrae", 0.7)
    # 0.7 and 0.6 are "maybe": neither trained as positives nor as negatives (the reference
    # trained them as negatives); NaN is unknown
    assert ex.rows.tolist() == [0, 1, 4, 5, 6]
    assert ex.target.tolist() == [1, 1, 0, 0, 0]
    assert ex.n_ambiguous == 2


def test_low_threshold_moves_the_negative_bound():
    df = pd.DataFrame({"EA": [0.5, 0.4, 0.3, 0.1]})
    ex = select_examples(df, "EA", 0.3)
    assert ex.rows.tolist() == [0, 1, 2, 3]
    assert ex.target.tolist() == [1, 1, 0, 0]


def test_variable_negatives_need_a_non_variable_label():
    df = pd.DataFrame({"variable": [1.0, 0.0, 0.0, 0.25, 1.0, 0.6],
                       "non-variable": [0.0, 1.0, 0.0, 0.75, 1.0, 0.0]})
    ex = select_examples(df, "variable", 0.7)
    # row 2: nobody called it non-variable -> not a negative; row 4: contradictory -> out
    assert ex.rows.tolist() == [0, 1, 3]
    assert ex.target.tolist() == [1, 0, 0]


def test_count_positives_is_strictly_above_threshold():
    df = pd.DataFrame({"periodic": [0.7, 0.71, 1.0, 0.2]})
    assert count_positives(df, "periodic", 0.7) == 2


@pytest.fixture
def frame():
    return pd.DataFrame({"variable": [1.0, 0.0], "a": [1.0, 2.0], "b": ["1.5", "2"], "c": ["x", "y"]})


def test_missing_label_column_names_class_and_column(frame):
    with pytest.raises(DataError, match=r"no label column 'periodic' \(needed by class 'pnp'\)"):
        check_columns(frame, tag="pnp", label="periodic", features=["a"])


def test_missing_feature_names_the_column(frame):
    with pytest.raises(DataError, match=r"lacks feature column\(s\) 'f1_power_X' needed by class 'vnv'"):
        check_columns(frame, tag="vnv", label="variable", features=["a", "f1_power_X"], period_suffix="X")


def test_non_numeric_feature_names_the_column(frame):
    check_columns(frame, tag="vnv", label="variable", features=["a", "b"])  # numbers stored as text pass
    with pytest.raises(DataError, match="feature column 'c' .* is not numeric"):
        check_columns(frame, tag="vnv", label="variable", features=["a", "c"])


def test_stack_dmdt_shapes_and_fills_missing_with_zeros():
    col = pd.Series([np.ones((26, 26)), None, np.full(676, 2.0)], dtype=object)
    out = stack_dmdt(col, 3)
    assert out.shape == (3, 26, 26, 1) and out.dtype == np.float32
    assert out[0].sum() == 676 and out[1].sum() == 0 and out[2].max() == 2.0
    with pytest.raises(DataError, match="row 0"):
        stack_dmdt(pd.Series([np.ones(10)], dtype=object), 1)


@pytest.mark.parametrize("ext", ["csv", "h5"])
def test_every_format_gives_the_same_arrays(project, synthetic, ext):
    from scope.schema import feature_names
    from scope.tables import write_table
    from scope.training.dataset import load_training_set
    from scope.training.options import class_spec, resolve_options
    from scope.training.prepare import prepare

    folder, cfg = project
    df = synthetic(cfg, n=200).drop(columns=["latent_type"])
    write_table(df, folder / "ts.parquet")
    write_table(df, folder / f"ts.{ext}")
    spec = class_spec(cfg, "vnv")
    opts = resolve_options(cfg, spec)
    feats = feature_names(cfg, "phenomenological", "ELS_ECE_EAOV")
    a, b = (prepare(load_training_set(folder / name), cfg, tag="vnv", label="variable", features=feats, opts=opts,
                    period_suffix="ELS_ECE_EAOV", source=name, use_dmdt=True)
            for name in ("ts.parquet", f"ts.{ext}"))
    np.testing.assert_allclose(a.X, b.X, rtol=1e-6)
    np.testing.assert_allclose(a.dmdt, b.dmdt, rtol=1e-6)
    assert a.dmdt.shape == (len(a.X), 26, 26, 1) and a.dmdt.any()
    np.testing.assert_array_equal(a.target, b.target)
