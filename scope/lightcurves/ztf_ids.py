"""ZTF light-curve identifiers: the public data-release ``objectid`` and Kowalski's ``_id``.

Both encode where a light curve lives. ``rc`` is the readout channel, ``(ccd - 1) * 4 + (quad - 1)``
(0-63); ``filter`` is 1 = g, 2 = r, 3 = i.

* Public DR ``objectid`` = field * 10^12 + filter * 10^11 + ccd * 10^9 + quad * 10^8 + n, e.g.
  ``202116200000001`` is field 202, g band, CCD 16, quadrant 2 (rc 61), object 1.
* Kowalski ``_id`` = 10^13 + field * 10^9 + rc * 10^7 + filter * 10^6 + matchid, e.g.
  ``10487361000071`` is field 487, rc 36 (CCD 10, quadrant 1), g band, matchid 71.

Converting between them keeps ``n == matchid``; Kowalski's form needs ``matchid < 10^6``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scope.errors import DataError

FILTER_NAMES = {1: "g", 2: "r", 3: "i"}
FILTER_IDS = {"g": 1, "r": 2, "i": 3, "zg": 1, "zr": 2, "zi": 3, "ztfg": 1, "ztfr": 2, "ztfi": 3}


class ZTFId(NamedTuple):
    """A decoded light-curve id."""

    field: int
    ccd: int
    quad: int
    rc: int
    filter: int
    number: int


def rc_from_ccd_quad(ccd, quad):
    """Readout channel ``(ccd - 1) * 4 + (quad - 1)``."""
    return (np.asarray(ccd) - 1) * 4 + (np.asarray(quad) - 1)


def ccd_quad_from_rc(rc):
    """Inverse of :func:`rc_from_ccd_quad`: returns ``(ccd, quad)``."""
    rc = np.asarray(rc)
    return rc // 4 + 1, rc % 4 + 1


def encode_objectid(field, filterid, ccd, quad, n):
    """Public data-release ``objectid`` (vectorised)."""
    return (np.asarray(field, dtype=np.int64) * 10**12 + np.asarray(filterid, dtype=np.int64) * 10**11
            + np.asarray(ccd, dtype=np.int64) * 10**9 + np.asarray(quad, dtype=np.int64) * 10**8
            + np.asarray(n, dtype=np.int64))


def decode_objectid(objectid) -> ZTFId:
    """Decode a public data-release ``objectid`` (scalar or array)."""
    oid = np.asarray(objectid, dtype=np.int64)
    n = oid % 10**8
    quad = (oid // 10**8) % 10
    ccd = (oid // 10**9) % 100
    filt = (oid // 10**11) % 10
    field = oid // 10**12
    return ZTFId(field, ccd, quad, rc_from_ccd_quad(ccd, quad), filt, n)


def encode_kowalski_id(field, filterid, ccd, quad, matchid):
    """Kowalski ``_id`` (vectorised)."""
    matchid = np.asarray(matchid, dtype=np.int64)
    if np.any(matchid >= 10**6):
        raise DataError("object number too large for a Kowalski id (must be below 1,000,000)")
    rc = rc_from_ccd_quad(ccd, quad).astype(np.int64)
    return (10**13 + np.asarray(field, dtype=np.int64) * 10**9 + rc * 10**7
            + np.asarray(filterid, dtype=np.int64) * 10**6 + matchid)


def decode_kowalski_id(_id) -> ZTFId:
    """Decode a Kowalski light-curve ``_id`` (scalar or array)."""
    v = np.asarray(_id, dtype=np.int64) - 10**13
    matchid = v % 10**6
    filt = (v // 10**6) % 10
    rc = (v // 10**7) % 100
    field = v // 10**9
    ccd, quad = ccd_quad_from_rc(rc)
    return ZTFId(field, ccd, quad, rc, filt, matchid)


def is_kowalski_id(_id) -> np.ndarray:
    """True where an id has the Kowalski form (14 digits starting with 1, i.e. >= 10^13 and < 2*10^13)."""
    v = np.asarray(_id, dtype=np.int64)
    return (v >= 10**13) & (v < 2 * 10**13)


def decode_id(_id) -> ZTFId:
    """Decode either id form (scalar)."""
    return decode_kowalski_id(_id) if bool(is_kowalski_id(_id)) else decode_objectid(_id)


def objectid_to_kowalski(objectid):
    """Convert public DR objectids to Kowalski ``_id`` s (vectorised)."""
    d = decode_objectid(objectid)
    return encode_kowalski_id(d.field, d.filter, d.ccd, d.quad, d.number)


def kowalski_to_objectid(_id):
    """Convert Kowalski ``_id`` s to public DR objectids (vectorised)."""
    d = decode_kowalski_id(_id)
    return encode_objectid(d.field, d.filter, d.ccd, d.quad, d.number)
