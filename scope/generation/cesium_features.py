"""Optional cesium features (``--doCesium``), one light curve at a time."""

from __future__ import annotations

import logging
import warnings

import numpy as np

from scope.errors import BackendUnavailable
from scope.lightcurves.batch import LightCurveBatch

log = logging.getLogger(__name__)


def cesium_columns(batch: LightCurveBatch, names: list[str]) -> dict:
    """Cesium features named in ``names`` for every light curve (NaN where cesium fails)."""
    try:
        from cesium import featurize
    except ImportError:
        raise BackendUnavailable("--doCesium needs the cesium package: pip install 'scope-ztf[features]'") from None
    out = {name: np.full(len(batch), np.nan) for name in names}
    for i in range(len(batch)):
        t, m, e = batch.get(i)
        if len(t) < 3:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = featurize.featurize_single_ts(t - t[0], m, e, features_to_use=list(names))
        except (ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
            log.debug("cesium failed on %d: %s", batch.ids[i], exc)
            continue
        for key, value in values.items():
            name = key[0] if isinstance(key, tuple) else key
            if name in out:
                out[name][i] = float(value)
    return out
