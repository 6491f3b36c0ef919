"""Optional cesium features (``--doCesium``), one light curve at a time (reference §4.5).

As the reference, cesium sees each cleaned light curve as it is (absolute HJD, magnitude, error),
and its features go into the feature table under their own names, after ``filter`` and before the
basic statistics. Two of the reference's faults are not repeated: a light curve on which a cesium
feature fails gets NaN for that feature (the reference dropped the source and shifted the periods
of the following ones onto the wrong ids), and cesium and the feature list are checked before any
period search, so a missing package or a misspelt name costs seconds, not a quadrant's work.
"""

from __future__ import annotations

import difflib
import logging
import warnings

import numpy as np

from scope.errors import ConfigError, DataError
from scope.lightcurves.batch import LightCurveBatch

log = logging.getLogger(__name__)

#: Shortest light curve cesium is asked about (shorter ones get NaN).
MIN_POINTS = 3


def check_cesium(names: list[str]) -> None:
    """Check that cesium imports, knows every name, and computes them on a small light curve.

    Raises
    ------
    MissingDependency
        cesium is not installed (the message names the pip extra).
    ConfigError
        The list is empty or holds names cesium does not know (closest names suggested).
    DataError
        cesium fails on a well-formed light curve (an incompatible cesium version).
    """
    from scope.optional import require

    require("cesium")
    from cesium.features import dask_feature_graph

    if not names:
        raise ConfigError("--doCesium: feature_generation.cesium_features lists no features")
    known = set(dask_feature_graph)
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"--doCesium: cesium has no feature {', '.join(hints)} "
                          "(feature_generation.cesium_features)")
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(2458200.0, 2458600.0, 40))
    m = 15.0 + 0.2 * np.sin(2 * np.pi * t / 0.7) + rng.normal(0.0, 0.01, len(t))
    try:
        _featurize(t, m, np.full(len(t), 0.01), list(names))
    except Exception as exc:  # any failure here means this cesium cannot serve the run
        raise DataError(f"--doCesium: cesium cannot compute the configured features ({type(exc).__name__}: "
                        f"{exc}); check the installed cesium version") from None


def _featurize(t: np.ndarray, m: np.ndarray, e: np.ndarray, names: list[str]) -> dict[str, float]:
    from cesium import featurize, time_series

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = featurize.featurize_single_ts(time_series.TimeSeries(t, m, e), names, raise_exceptions=False)
    # a Series indexed by (feature, channel); these light curves have one channel
    return {str(feature): float(v) for (feature, _channel), v in values.items()}


def cesium_columns(batch: LightCurveBatch, names: list[str]) -> dict[str, np.ndarray]:
    """Cesium features named in ``names`` for every light curve of ``batch`` (NaN where cesium fails).

    Parameters
    ----------
    batch : LightCurveBatch
        Cleaned light curves.
    names : list of str
        cesium feature names (checked by :func:`check_cesium`).

    Returns
    -------
    dict of str to ndarray of float64
        One column per name, in ``names`` order.
    """
    out = {name: np.full(len(batch), np.nan) for name in names}
    for i in range(len(batch)):
        t, m, e = batch.get(i)
        if len(t) >= MIN_POINTS:
            try:
                values = _featurize(t, m, e, list(names))
            except (ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
                log.debug("cesium failed on %d: %s", batch.ids[i], exc)
                values = {}
            for name, value in values.items():
                if name in out:
                    out[name][i] = value
    return out
