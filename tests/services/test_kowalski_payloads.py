import json

import numpy as np
import pytest

from scope.errors import DataError
from scope.services import kowalski_payloads as kp


def test_find_has_exact_keys_and_plain_types():
    ids = np.array([10245362000000, 10245362000001], dtype=np.int64)
    body = kp.find("ZTF_sources_20240515", kp.ids_filter(ids), {"_id": 1, "data.hjd": 1},
                   skip=np.int64(10), limit=np.int32(5), sort=[("_id", 1)], max_time_ms=10000)
    assert body == {
        "query_type": "find",
        "query": {"catalog": "ZTF_sources_20240515",
                  "filter": {"_id": {"$in": [10245362000000, 10245362000001]}},
                  "projection": {"_id": 1, "data.hjd": 1}},
        "kwargs": {"skip": 10, "limit": 5, "sort": [["_id", 1]], "max_time_ms": 10000},
    }
    assert all(type(v) is int for v in body["query"]["filter"]["_id"]["$in"])
    json.dumps(body)  # numpy values would make this raise


def test_find_defaults_to_everything():
    assert kp.find("C") == {"query_type": "find", "query": {"catalog": "C", "filter": {}}}


def test_numpy_values_inside_filters_become_python():
    body = kp.find("C", {"nobs": {"$gte": np.int64(20)}, "mag": {"$lt": np.float32(13.5)},
                         "ok": np.bool_(True), "ids": np.arange(3)})
    text = json.dumps(body)
    assert json.loads(text)["query"]["filter"] == {"nobs": {"$gte": 20}, "mag": {"$lt": 13.5}, "ok": True,
                                                    "ids": [0, 1, 2]}


def test_find_one_count_estimated_info():
    assert kp.find_one("C", {"_id": 1}) == {"query_type": "find_one", "query": {"catalog": "C", "filter": {"_id": 1}}}
    assert kp.count_documents("C", {"field": {"$eq": 3}})["query"] == {"catalog": "C", "filter": {"field": {"$eq": 3}}}
    assert kp.estimated_document_count("C") == {"query_type": "estimated_document_count",
                                                "query": {"catalog": "C"}}
    assert kp.info() == {"query_type": "info", "query": {"command": "catalog_names"}}
    assert kp.info("catalog_info", "C")["query"] == {"command": "catalog_info", "catalog": "C"}
    with pytest.raises(DataError, match="unknown Kowalski info command"):
        kp.info("drop_everything")


def test_aggregate_rules():
    body = kp.aggregate("C", [{"$match": {"field": 1}}, {"$count": "n"}])
    assert body["query"]["pipeline"] == [{"$match": {"field": 1}}, {"$count": "n"}]
    assert body["kwargs"] == {"allowDiskUse": True}
    with pytest.raises(DataError, match="at least one stage"):
        kp.aggregate("C", [])
    with pytest.raises(DataError, match=r"\$out"):
        kp.aggregate("C", [{"$match": {}}, {"$out": "other"}])


def test_cone_search_uses_opaque_keys_and_validates():
    body = kp.cone_search([10.5, 20.25], [-5.0, 30.0], 2.0,
                          {"Gaia_EDR3": {"filter": {"phot_g_mean_mag": {"$lt": 13}},
                                         "projection": {"_id": 1}}}, limit=3)
    oc = body["query"]["object_coordinates"]
    assert oc == {"radec": {"q0": [10.5, -5.0], "q1": [20.25, 30.0]}, "cone_search_radius": 2.0,
                  "cone_search_unit": "arcsec"}
    assert body["query"]["catalogs"] == {"Gaia_EDR3": {"filter": {"phot_g_mean_mag": {"$lt": 13}},
                                                       "projection": {"_id": 1}}}
    assert body["kwargs"] == {"limit": 3, "filter_first": False}
    assert "." not in "".join(oc["radec"])  # keys survive Kowalski's '.' -> '_' rewrite
    with pytest.raises(DataError, match="angular unit"):
        kp.cone_search([1], [1], 1, ["C"], unit="furlong")
    with pytest.raises(DataError, match="invalid position #1"):
        kp.cone_search([1, 400], [1, 1], 1, ["C"])
    with pytest.raises(DataError, match="invalid position"):
        kp.cone_search([np.nan], [1], 1, ["C"])
    with pytest.raises(DataError, match="radius"):
        kp.cone_search([1], [1], -1, ["C"])
    with pytest.raises(DataError, match="at least one catalog"):
        kp.cone_search([1], [1], 1, {})


def test_near_always_sends_max_distance():
    body = kp.near([1.0], [2.0], 5.0, ["ZTF_sources_20240515"], limit=1)
    q = body["query"]
    assert q["max_distance"] == 5.0 and q["min_distance"] == 0.0 and q["distance_units"] == "arcsec"
    assert q["radec"] == {"q0": [1.0, 2.0]}
    assert q["catalogs"] == {"ZTF_sources_20240515": {"filter": {}, "projection": {}}}
    assert body["kwargs"] == {"limit": 1}


def test_decode_matches_maps_keys_back_by_position():
    data = {"Gaia_EDR3": {"q1": [{"_id": 7}], "q0": [], "foreign": [{"_id": 9}]}, "AllWISE": {}}
    out = kp.decode_matches(data, 3)
    assert out == {"Gaia_EDR3": [[], [{"_id": 7}], []], "AllWISE": [[], [], []]}
    assert kp.key_index("q12") == 12 and kp.key_index("ZTFJ_1") is None


def test_catalogs_of():
    assert kp.catalogs_of(kp.find("A")) == ["A"]
    assert kp.catalogs_of(kp.cone_search([1], [1], 1, ["A", "B"])) == ["A", "B"]
    assert kp.catalogs_of(kp.info("catalog_info", "A")) == []


def test_bad_paging_arguments():
    with pytest.raises(DataError, match="limit"):
        kp.find("C", limit=-1)
    with pytest.raises(DataError, match="max_time_ms"):
        kp.find("C", max_time_ms=0)
    with pytest.raises(DataError, match="catalog"):
        kp.find("")
