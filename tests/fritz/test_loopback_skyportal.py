"""The loopback SkyPortal keeps SkyPortal's rules (so client tests mean something)."""

import base64

import pytest
import requests

from tests.loopback.skyportal_server import MALFORMED
from tests.loopback.skyportal_state import ALL_ACLS

TOKEN = "loop-token-0123456789"


@pytest.fixture
def api(skyportal_server):
    server = skyportal_server()
    st = server.state
    g = st.add_group("g")
    user = st.add_user("bot", TOKEN, acls=ALL_ACLS, groups=[g])
    st.add_user("other", "other-token-0123", acls=ALL_ACLS, groups=[g])
    st.add_obj("ZTFJ1", 10.0, 1.0)
    st.save("ZTFJ1", g, user)
    st.add_taxonomy("t", "1", {"class": "Time series", "subclasses": [{"class": "variable"}, {"class": "EW"}]},
                    taxonomy_id=7)
    st.add_instrument("ZTF")

    def call(method, path, token=TOKEN, **kw):
        headers = {} if token is None else {"Authorization": f"token {token}"}
        return requests.request(method, server.url + path, headers=headers, timeout=5, **kw)

    call.server, call.group = server, g
    return call


def test_auth_texts_and_envelope(api):
    r = api("GET", "/api/sources", token=None)
    assert r.status_code == 401 and r.json() == {"status": "error", "message": MALFORMED, "data": {},
                                                 "version": "1.4.0"}
    assert api("GET", "/api/sources", token="nope").json()["message"] == "HTTP 401: Unauthorized"
    body = api("GET", "/api/sources/ZTFJ1").json()
    assert body["status"] == "success" and "message" not in body and body["version"] == "1.4.0"
    assert api("GET", "/api/sources/ZTFJnope").status_code == 404
    assert api("HEAD", "/api/sources/ZTFJnope").content == b""


def test_timestamps_come_with_and_without_fractions(api):
    stamps = [g["created_at"] for g in api("GET", "/api/groups").json()["data"]["all_groups"]]
    assert {"." in s for s in stamps} == {True, False}  # "...:56" and "...:56.500000"


def test_nan_goes_out_as_null(api):
    api.server.state.objs["ZTFJ1"]["redshift"] = float("nan")
    assert api("GET", "/api/sources/ZTFJ1").json()["data"]["redshift"] is None


def test_annotation_rules(api):
    assert api("POST", "/api/sources/ZTFJ1/annotations", json={"origin": "p"}).json()["message"] == \
        "data must be specified"
    assert "alphanumeric" in api("POST", "/api/sources/ZTFJ1/annotations",
                                 json={"origin": "-p", "data": {"a": 1}}).json()["message"]
    ok = api("POST", "/api/sources/ZTFJ1/annotations", json={"origin": "p", "data": {"period": 1.0, "a": 2}})
    aid = ok.json()["data"]["annotation_id"]
    again = api("POST", "/api/sources/ZTFJ1/annotations", json={"origin": "p", "data": {"period": 2.0}})
    assert again.status_code == 400 and "Annotation already exists" in again.json()["message"]
    assert api("PUT", f"/api/sources/ZTFJ1/annotations/{aid}", token="other-token-0123",
               json={"data": {"x": 1}}).status_code == 403  # author only
    api("PUT", f"/api/sources/ZTFJ1/annotations/{aid}", json={"data": {"period": 3.0}})
    assert api("GET", "/api/sources/ZTFJ1/annotations").json()["data"][0]["data"] == {"period": 3.0}  # replaced


def test_batch_classifications_commit_until_the_first_bad_item(api):
    g = api.group
    items = [{"obj_id": "ZTFJ1", "classification": "variable", "taxonomy_id": 7, "probability": 0.9,
              "group_ids": [g]},
             {"obj_id": "ZTFJ1", "classification": "nope", "taxonomy_id": 7, "group_ids": [g]},
             {"obj_id": "ZTFJ1", "classification": "EW", "taxonomy_id": 7, "group_ids": [g]}]
    r = api("POST", "/api/classification", json={"classifications": items})
    assert r.status_code == 400 and r.json()["message"].startswith("Error posting classification: That classification")
    full = api("GET", "/api/sources/ZTFJ1").json()["data"]
    assert [c["classification"] for c in full["classifications"]] == ["variable"]
    assert full["classifications"][0]["votes"][0]["vote"] == 1  # vote defaults to true
    listed = api("GET", "/api/sources", params={"includeLabellers": "true"}).json()["data"]["sources"][0]
    assert listed["classifications"][0]["groups"] == [] and listed["classifications"][0]["votes"] == []
    assert listed["labellers"][0]["labeller_id"] == api.server.state.users[1].id  # label defaults to true


def test_comments_photometry_and_groups(api):
    att = {"body": base64.b64encode(b"png").decode(), "name": "a.png"}
    first = api("POST", "/api/sources/ZTFJ1/comments", json={"text": "t", "attachment": att}).json()["data"]
    second = api("POST", "/api/sources/ZTFJ1/comments", json={"text": "t", "attachment": att}).json()["data"]
    assert second == {"comment_id": first["comment_id"], "message": "Same comment already exists."}
    assert api("POST", "/api/sources/ZTFJ1/comments", json={"text": "t", "attachment": {"body": "%%",
               "name": "x"}}).json()["message"] == "Malformed comment attachment"
    packet = {"obj_id": "ZTFJ1", "instrument_id": 1, "mjd": [1.0, 2.0], "mag": [18.0, 18.5], "magerr": [0.1, 0.1],
              "magsys": ["ab", "ab"], "filter": ["ztfg", "ztfr"]}
    ids = api("PUT", "/api/photometry", json=packet).json()["data"]["ids"]
    assert api("PUT", "/api/photometry", json=packet).json()["data"]["ids"] == ids  # upsert: same points
    assert "already exists" in api("POST", "/api/photometry", json=packet).json()["message"]
    bad = dict(packet, filter=["ztfg", "sdssg"])
    assert api("PUT", "/api/photometry", json=bad).json()["message"] == "Instrument ZTF has no filter sdssg."
    assert api("POST", "/api/source_groups", json={"objId": "ZTFJ1", "inviteGroupIds": [api.group]}).json()[
        "message"] == f"Source already saved to group w/ ID {api.group}"


def test_query_rules(api):
    assert api("GET", "/api/sources", params={"numPerPage": "0"}).json()["message"] == "Invalid numPerPage value."
    assert api("GET", "/api/sources", params={"numPerPage": "5000"}).json()["data"]["numPerPage"] == 500
    assert api("GET", "/api/sources", params={"numPerPage": "1", "pageNumber": "2"}).status_code == 400  # 1 of 1
    msg = api("GET", "/api/sources", params={"localizationDateobs": "2023-01-01T00:00:00"}).json()["message"]
    assert msg.startswith("must specify startDate and endDate")
    assert api("GET", "/api/sources", params={"ra": "10"}).status_code == 400
    r = api("POST", "/api/taxonomy", json={"name": "t", "version": "1", "hierarchy": {"class": "x"}})
    assert "already present" in r.json()["message"]
    r = api("POST", "/api/taxonomy", json={"name": "t", "version": "2", "hierarchy": {"class": "x"}, "extra": 1})
    assert "Unknown field" in r.json()["message"]


def test_rate_limiter_answers_html(api):
    api.server.set_rate_limit(1, burst=1)
    statuses = [api("GET", "/api/groups") for _ in range(5)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].headers["Content-Type"] == "text/html" and "Retry-After" not in limited[0].headers
    assert "429 Too Many Requests" in limited[0].text
