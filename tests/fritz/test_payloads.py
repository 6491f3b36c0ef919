"""Pure Fritz request builders and reply parsers."""

import datetime as dt
import json
import math

import numpy as np
import pytest

from scope.errors import DataError, QueryError
from scope.services import fritz_payloads as fp


def test_lists_go_comma_joined_and_booleans_as_words():
    q = fp.query(group_ids=[360, 361], includeLabellers=True, removeNested=False, skipped=None)
    assert q == {"group_ids": "360,361", "includeLabellers": "true", "removeNested": "false"}
    params = fp.sources_query(group_ids=np.array([1, 2]), page=3, per_page=2000)
    assert params["group_ids"] == "1,2" and params["pageNumber"] == "3" and params["numPerPage"] == "500"
    assert params["sortBy"] == "saved_at" and params["sortOrder"] == "asc"
    with pytest.raises(DataError, match="start at 1"):
        fp.sources_query(page=0)


def test_cone_query_is_in_degrees():
    q = fp.cone_query(10.5, -20.25, 2.0)
    assert float(q["radius"]) == pytest.approx(2 / 3600) and q["ra"] == "10.5"
    with pytest.raises(DataError):
        fp.cone_query(float("nan"), 0, 2)
    with pytest.raises(DataError, match="positive"):
        fp.cone_query(1, 1, 0)


def test_localization_query_has_the_mandatory_dates():
    q = fp.localization_query("2023-05-21T05:30:43", days_range=7, group_ids=[5], per_page=100)
    assert q["localizationDateobs"] == q["startDate"] == "2023-05-21T05:30:43"
    assert q["endDate"] == "2023-05-28T05:30:43" and q["group_ids"] == "5"
    with pytest.raises(DataError, match="dateobs"):
        fp.localization_query("yesterday")


@pytest.mark.parametrize("text, expected", [
    ("2023-05-04T12:34:56.123456", dt.datetime(2023, 5, 4, 12, 34, 56, 123456)),
    ("2023-05-04T12:34:56", dt.datetime(2023, 5, 4, 12, 34, 56)),            # SkyPortal drops a zero fraction
    ("2023-05-04T12:34:56.1", dt.datetime(2023, 5, 4, 12, 34, 56, 100000)),
    ("2023-05-04T12:34:56Z", dt.datetime(2023, 5, 4, 12, 34, 56)),
    ("2023-05-04 14:34:56+02:00", dt.datetime(2023, 5, 4, 12, 34, 56)),
    ("2023-05-04", dt.datetime(2023, 5, 4)),
    ("", None), (None, None), ("not a date", None), (float("nan"), None),
])
def test_timestamps_parse_leniently(text, expected):
    assert fp.parse_timestamp(text) == expected


def test_position_names_round_as_a_whole():
    assert fp.position_name(2.6104292, -22.4325758) == "ZTFJ001026.50-222557.3"
    # 59.999 s of RA and 59.96 arcsec of dec must carry into the next minute, not read 60.00
    ra = (1 + 59.999 / 60) / 60 * 15          # 00h01m59.999s
    dec = -(10 + 59.96 / 3600)                # -10d00m59.96s
    assert fp.position_name(ra, dec) == "ZTFJ000200.00-100100.0"
    assert fp.position_name(359.9999999, 0.0) == "ZTFJ000000.00+000000.0"
    assert fp.position_name(10, -0.00001) == "ZTFJ004000.00+000000.0"  # no "-0"
    with pytest.raises(DataError):
        fp.position_name(10, 95)


def test_plain_sends_nan_as_null_and_numpy_as_python():
    out = fp.plain({"a": np.float32(1.5), "b": [np.nan, np.inf, 2], "c": np.array([1, 2]), "d": np.int64(3),
                    "e": {np.bool_(True)}})
    assert out == {"a": 1.5, "b": [None, None, 2], "c": [1, 2], "d": 3, "e": [True]}
    json.dumps(out, allow_nan=False)


def test_photometry_packet_has_no_fake_limits():
    body = fp.photometry_payload("ZTFJ1", 1, np.array([58000.5, 58001.5]), [18.0, 18.1], [0.05, 0.06],
                                 ["ztfg", "ztfr"], [4])
    assert "limiting_mag" not in body  # the reference sent the 23.9 zero point as a limit
    assert body["magsys"] == ["ab", "ab"] and body["group_ids"] == [4] and body["filter"] == ["ztfg", "ztfr"]
    with pytest.raises(DataError, match="magerr"):
        fp.photometry_payload("ZTFJ1", 1, [1, 2], [1, 2], [1], ["ztfg", "ztfg"], [4])
    big = fp.photometry_payload("ZTFJ1", 1, np.arange(25000.0), np.ones(25000), np.ones(25000), ["ztfg"] * 25000, [4])
    parts = fp.split_photometry(big)
    assert [len(p["mjd"]) for p in parts] == [10000, 10000, 5000] and parts[2]["group_ids"] == [4]
    assert parts[1]["mjd"][0] == 10000.0


def test_classification_item_always_says_vote_and_label():
    item = fp.classification_item("ZTFJ1", "variable", 1017, 0.9, group_ids=[4, 4, 5])
    assert item["vote"] is False and item["label"] is False and item["ml"] is True and item["group_ids"] == [4, 5]
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        fp.classification_item("ZTFJ1", "variable", 1017, 1.2, group_ids=[4])


def test_hierarchy_check_names_the_bad_node():
    good = {"class": "Time series", "subclasses": [{"class": "variable", "tags": ["v"], "subclasses": []}]}
    fp.check_hierarchy(good)
    assert fp.hierarchy_classes(good) == ["Time series", "variable"]
    with pytest.raises(DataError, match=r"Time series\[0\] has unknown keys: name"):
        fp.check_hierarchy({"class": "Time series", "subclasses": [{"name": "variable"}]})
    with pytest.raises(DataError, match="tags"):
        fp.check_hierarchy({"class": "x", "tags": "notalist"})


def test_envelope_errors_become_query_errors():
    assert fp.envelope_data({"status": "success", "data": {"a": 1}}, "x") == {"a": 1}
    with pytest.raises(QueryError, match="x: Cannot find"):
        fp.envelope_data({"status": "error", "message": "Cannot find classification"}, "x")
    with pytest.raises(QueryError, match="not a SkyPortal envelope"):
        fp.envelope_data("<html>", "x")


LIST_SOURCE = {"id": "ZTFJ1", "ra": 1.0, "dec": 2.0, "groups": [{"id": 4, "active": True, "requested": False},
                                                               {"id": 9, "active": False, "requested": True}],
               "classifications": [{"id": 1, "classification": "variable", "probability": 0.9, "groups": [],
                                    "votes": []},
                                   {"id": 2, "classification": "periodic", "probability": None, "groups": [],
                                    "votes": []}],
               "labellers": [{"id": 7, "labeller_id": 12, "group_id": 4}],
               "annotations": [{"origin": "uploadedperiod", "data": {"period": 0.5}},
                               {"origin": "other", "data": {"x": 1}}]}
FULL_SOURCE = {**LIST_SOURCE,
               "classifications": [{"id": 1, "classification": "variable", "probability": 0.9, "groups": [{"id": 4}],
                                    "votes": [{"vote": 1}, {"vote": 1}, {"vote": -1}]}],
               "labellers": [{"id": 12, "username": "scanner"}]}


def test_list_and_full_sources_parse_alike():
    assert fp.lacks_nested_detail(LIST_SOURCE) and not fp.lacks_nested_detail(FULL_SOURCE)
    assert fp.labeller_ids(LIST_SOURCE) == fp.labeller_ids(FULL_SOURCE) == ["12"]
    assert fp.source_group_ids(LIST_SOURCE) == [4]
    rec = fp.source_record(LIST_SOURCE, votes_known=False)
    assert rec["classification"] == "variable;periodic" and rec["probability"] == "0.9;"
    assert rec["sum_votes"] == "" and rec["period_origin"] == "uploadedperiod" and rec["period"] == "0.5"
    assert fp.source_record(FULL_SOURCE)["sum_votes"] == "1"
    assert fp.existing_label_groups(LIST_SOURCE) == {"variable": {-1}, "periodic": {-1}}
    assert fp.existing_label_groups(FULL_SOURCE) == {"variable": {4}}


def test_record_probabilities_first_occurrence_and_votes():
    rec = {"classification": "variable;periodic;variable", "probability": "0.8;;0.3", "sum_votes": "2;0;5"}
    cols = {"variable": "variable", "periodic": "periodic", "EA": "EA"}
    assert fp.record_probabilities(rec, cols) == {"variable": 0.8, "periodic": 1.0, "EA": 0.0}
    assert fp.record_probabilities(rec, cols, min_vote_diff=1) == {"variable": 0.8, "periodic": 0.0, "EA": 0.0}


def test_page_count_has_no_empty_trailing_page():
    assert fp.page_count(1000, 500) == 2 and fp.page_count(1001, 500) == 3 and fp.page_count(0, 500) == 0
    assert math.isclose(fp.page_count(5, 2), 3)
