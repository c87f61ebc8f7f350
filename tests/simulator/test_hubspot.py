"""HubSpot mock: spec conformance, paging, search limits, batch update, properties, auth."""

from __future__ import annotations

import requests

from tests.conftest import HUBSPOT_TOKEN

SPEC = {
    "companies": "companies.json",
    "contacts": "contacts.json",
    "deals": "deals.json",
    "tickets": "tickets.json",
    "feedback_submissions": "feedbackSubmissions.json",
}
LIST_SCHEMA = "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging"


def _page_all(hubspot, otype, **params):
    ids, after = [], None
    while True:
        p = dict(params, limit=params.get("limit", 7))
        if after:
            p["after"] = after
        r = hubspot.get(hubspot.base + f"/crm/v3/objects/{otype}", params=p)
        assert r.status_code == 200
        body = r.json()
        ids += [o["id"] for o in body["results"]]
        if "paging" not in body:
            return ids
        after = body["paging"]["next"]["after"]


def test_lists_validate_against_spec_and_page_once(hubspot, hubspot_schema):
    for otype, spec in SPEC.items():
        body = hubspot.get(hubspot.base + f"/crm/v3/objects/{otype}", params={"limit": 5}).json()
        hubspot_schema(spec, LIST_SCHEMA, body)
        ids = _page_all(hubspot, otype, limit=13)
        assert ids and len(ids) == len(set(ids)), otype


def test_requested_properties_only_and_defaults(hubspot):
    r = hubspot.get(hubspot.base + "/crm/v3/objects/companies", params={"limit": 3}).json()
    assert set(r["results"][0]["properties"]) == {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}
    r = hubspot.get(
        hubspot.base + "/crm/v3/objects/companies",
        params={"limit": 3, "properties": "customer_segment,onboarding_graduation_date,not_a_property"},
    ).json()
    for o in r["results"]:
        assert set(o["properties"]) == {"customer_segment", "onboarding_graduation_date"}
        assert o["properties"]["customer_segment"] in ("enterprise", "mid_market", "smb", "product_led")


def test_associations_on_list_and_batch_read(hubspot, hubspot_schema):
    body = hubspot.get(
        hubspot.base + "/crm/v3/objects/companies", params={"limit": 5, "associations": "contacts,deals"}
    ).json()
    hubspot_schema("companies.json", LIST_SCHEMA, body)
    company = body["results"][0]
    contact_ids = [a["id"] for a in company["associations"]["contacts"]["results"]]
    assert contact_ids
    r = hubspot.post(
        hubspot.base + "/crm/v3/associations/contacts/companies/batch/read",
        json={"inputs": [{"id": contact_ids[0]}, {"id": "1"}]},
    )
    assert r.status_code == 207
    hubspot_schema("associations.json", "BatchResponsePublicAssociationMultiWithErrors", r.json())
    assert r.json()["results"][0]["to"][0] == {"id": company["id"], "type": "contact_to_company"}


def _search(hubspot, otype, **body):
    return hubspot.post(hubspot.base + f"/crm/v3/objects/{otype}/search", json=body)


def test_search_incremental_by_modified_date(hubspot, hubspot_schema):
    for otype, prop in (
        ("companies", "hs_lastmodifieddate"),
        ("contacts", "lastmodifieddate"),
        ("deals", "hs_lastmodifieddate"),
        ("tickets", "hs_lastmodifieddate"),
    ):
        body = {
            "filterGroups": [{"filters": [{"propertyName": prop, "operator": "GTE", "value": "1700000000000"}]}],
            "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
            "properties": [prop],
            "limit": 50,
        }
        seen, after = [], None
        while True:
            r = _search(hubspot, otype, **body, **({"after": after} if after else {}))
            assert r.status_code == 200, r.text
            page = r.json()
            hubspot_schema(SPEC[otype], "CollectionResponseWithTotalSimplePublicObject", page)
            seen += page["results"]
            if "paging" not in page:
                break
            after = page["paging"]["next"]["after"]
        assert len(seen) == page["total"] == len({o["id"] for o in seen})
        stamps = [o["properties"][prop] for o in seen]
        assert stamps == sorted(stamps)


def test_bulk_updates_share_one_timestamp(hubspot):
    r = _search(
        hubspot,
        "companies",
        filterGroups=[],
        sorts=["hs_lastmodifieddate"],
        properties=["hs_lastmodifieddate"],
        limit=200,
    )
    stamps = [o["properties"]["hs_lastmodifieddate"] for o in r.json()["results"]]
    assert max(stamps.count(s) for s in stamps) >= 5  # quarterly enrichment touches many at once


def test_search_limits(hubspot):
    r = _search(hubspot, "companies", limit=201)
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    r = _search(hubspot, "companies", limit=100, after="9950")
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and "10000" in body["message"] and body["correlationId"]


def test_batch_update_persists_and_reports_multi_status(fresh_server, hubspot_schema):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {HUBSPOT_TOKEN}"
    base = fresh_server.url("hubspot")
    created = s.post(
        base + "/crm/v3/properties/companies",
        json={
            "name": "health_score",
            "label": "Health score",
            "type": "number",
            "fieldType": "number",
            "groupName": "postsale",
        },
    )
    assert created.status_code == 201
    hubspot_schema("properties.json", "Property", created.json())
    props = s.get(base + "/crm/v3/properties/companies").json()
    hubspot_schema("properties.json", "CollectionResponsePropertyNoPaging", props)
    assert "health_score" in {p["name"] for p in props["results"]}
    assert s.post(base + "/crm/v3/properties/companies", json=created.json()).status_code == 409

    ids = [c["id"] for c in s.get(base + "/crm/v3/objects/companies", params={"limit": 3}).json()["results"]]
    ok = s.post(
        base + "/crm/v3/objects/companies/batch/update",
        json={"inputs": [{"id": i, "properties": {"health_score": "71"}} for i in ids]},
    )
    assert ok.status_code == 200
    hubspot_schema("companies.json", "BatchResponseSimplePublicObject", ok.json())
    mixed = s.post(
        base + "/crm/v3/objects/companies/batch/update",
        json={
            "inputs": [
                {"id": ids[0], "properties": {"health_score": "42"}},
                {"id": "123", "properties": {"health_score": "1"}},
                {"id": ids[1], "properties": {"no_such_prop": "x"}},
            ]
        },
    )
    assert mixed.status_code == 207
    body = mixed.json()
    hubspot_schema("companies.json", "BatchResponseSimplePublicObjectWithErrors", body)
    assert body["numErrors"] == 2 and {e["category"] for e in body["errors"]} == {
        "OBJECT_NOT_FOUND",
        "VALIDATION_ERROR",
    }
    got = s.get(base + f"/crm/v3/objects/companies/{ids[0]}", params={"properties": "health_score"}).json()
    assert got["properties"]["health_score"] == "42"
    assert (
        s.get(base + f"/crm/v3/objects/companies/{ids[1]}", params={"properties": "health_score"}).json()["properties"][
            "health_score"
        ]
        == "71"
    )
    too_many = s.post(
        base + "/crm/v3/objects/companies/batch/update", json={"inputs": [{"id": ids[0], "properties": {}}] * 101}
    )
    assert too_many.status_code == 400
    # The write survives time travel: later generated changes do not erase it.
    fresh_server.advance(days=120)
    again = s.get(base + f"/crm/v3/objects/companies/{ids[0]}", params={"properties": "health_score"}).json()
    assert again["properties"]["health_score"] == "42"
    groups = s.get(base + "/crm/v3/properties/companies/groups").json()
    hubspot_schema("properties.json", "CollectionResponsePropertyGroupNoPaging", groups)


def test_owners_and_single_object(hubspot, hubspot_schema):
    owners = hubspot.get(hubspot.base + "/crm/v3/owners", params={"limit": 5}).json()
    hubspot_schema("crmOwners.json", "CollectionResponsePublicOwnerForwardPaging", owners)
    one = hubspot.get(hubspot.base + f"/crm/v3/owners/{owners['results'][0]['id']}").json()
    hubspot_schema("crmOwners.json", "PublicOwner", one)
    cid = hubspot.get(hubspot.base + "/crm/v3/objects/contacts", params={"limit": 1}).json()["results"][0]["id"]
    contact = hubspot.get(
        hubspot.base + f"/crm/v3/objects/contacts/{cid}", params={"properties": "is_champion,postsale_role"}
    ).json()
    hubspot_schema("contacts.json", "SimplePublicObjectWithAssociations", contact)
    missing = hubspot.get(hubspot.base + "/crm/v3/objects/contacts/1")
    assert missing.status_code == 404
    hubspot_schema("contacts.json", "Error", missing.json())


def test_auth_and_rate_limit_headers(server, hubspot, monkeypatch):
    url = server.url("hubspot") + "/crm/v3/objects/companies"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = requests.get(url, headers=headers)
        assert r.status_code == 401
        assert r.json()["category"] == "INVALID_AUTHENTICATION" and r.json()["status"] == "error"
    r = hubspot.get(url)
    for h in ("Max", "Remaining", "Interval-Milliseconds", "Daily", "Daily-Remaining"):
        assert f"X-HubSpot-RateLimit-{h}" in r.headers
    monkeypatch.setenv("SIMULATOR_HUBSPOT_SEARCH_RPS", "2")
    codes = [hubspot.post(url + "/search", json={"limit": 1}).status_code for _ in range(4)]
    assert 429 in codes
    limited = hubspot.post(url + "/search", json={"limit": 1})
    assert limited.status_code == 429
    assert (
        limited.json()["errorType"] == "RATE_LIMIT" and limited.json()["policyName"] and limited.headers["Retry-After"]
    )
