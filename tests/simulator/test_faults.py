"""Fault injection: every kind fires as configured, scoped by vendor and path."""

from __future__ import annotations

import json
import time

import pytest
import requests

from simulator.server.auth import DEFAULT_STRIPE_KEY
from tests.conftest import HUBSPOT_TOKEN, MIXPANEL_SECRET, MIXPANEL_USER

STRIPE = {"Authorization": f"Bearer {DEFAULT_STRIPE_KEY}"}
HUBSPOT = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
MIX = (MIXPANEL_USER, MIXPANEL_SECRET)


@pytest.fixture()
def srv(server):
    server.clear_faults()
    yield server
    server.clear_faults()


def test_rate_limit_per_vendor_shape(srv):
    srv.set_faults(
        [
            {"kind": "rate_limit", "vendor": "stripe", "path": "^/v1/customers", "max_per_second": 2},
            {"kind": "rate_limit", "vendor": "hubspot", "max_per_second": 1},
        ]
    )
    codes = [requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE).status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[2:] == [429, 429]
    r = requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE)
    assert r.json()["error"]["code"] == "rate_limit" and r.headers["Retry-After"]
    assert requests.get(srv.url("stripe") + "/v1/invoices", headers=STRIPE).status_code == 200  # other path
    url = srv.url("hubspot") + "/crm/v3/objects/companies"
    requests.get(url, headers=HUBSPOT)
    r = requests.get(url, headers=HUBSPOT)
    assert r.status_code == 429
    body = r.json()
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT" and body["policyName"]
    assert r.headers["X-HubSpot-RateLimit-Remaining"] == "0" and r.headers["Retry-After"]
    time.sleep(1.05)
    assert requests.get(url, headers=HUBSPOT).status_code == 200


def test_error_burst_then_recovery(srv):
    requests.post(
        srv.base_url + "/_control/faults",
        json={"faults": [{"kind": "error_burst", "vendor": "stripe", "count": 2, "status": 503}]},
    )
    codes = [requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert requests.get(srv.base_url + "/_control/faults").json()["faults"][0]["remaining"] == 0


def test_delay(srv):
    srv.set_faults([{"kind": "delay", "vendor": "hubspot", "seconds": 0.4}])
    t0 = time.perf_counter()
    assert requests.get(srv.url("hubspot") + "/crm/v3/owners", headers=HUBSPOT).status_code == 200
    assert time.perf_counter() - t0 >= 0.4


def test_truncated_body_and_stream(srv):
    srv.set_faults(
        [{"kind": "truncate", "vendor": "stripe", "count": 1}, {"kind": "truncate", "vendor": "mixpanel", "count": 1}]
    )
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE).json()
    with pytest.raises(requests.exceptions.RequestException):
        _ = requests.get(
            srv.url("mixpanel") + "/api/2.0/export",
            params={"from_date": "2026-06-01", "to_date": "2026-06-02"},
            auth=MIX,
        ).content
    assert requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE).json()["object"] == "list"


def test_malformed_json(srv):
    srv.set_faults([{"kind": "malformed", "vendor": "hubspot", "path": "/owners", "count": 1}])
    r = requests.get(srv.url("hubspot") + "/crm/v3/owners", headers=HUBSPOT)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_schema_drift(srv):
    srv.set_faults(
        [
            {"kind": "schema_drift", "vendor": "stripe", "add_field": {"loyalty_tier": "gold"}, "null_field": "email"},
            {
                "kind": "schema_drift",
                "vendor": "hubspot",
                "add_field": {"properties.new_prop": "x"},
                "null_field": "properties.name",
            },
            {
                "kind": "schema_drift",
                "vendor": "mixpanel",
                "add_field": {"$browser": "Firefox"},
                "null_field": "feature",
            },
        ]
    )
    cust = requests.get(srv.url("stripe") + "/v1/customers", headers=STRIPE).json()["data"]
    assert all(c["loyalty_tier"] == "gold" and c["email"] is None for c in cust)
    comp = requests.get(srv.url("hubspot") + "/crm/v3/objects/companies", headers=HUBSPOT).json()["results"]
    assert all(c["properties"]["new_prop"] == "x" and c["properties"]["name"] is None for c in comp)
    r = requests.get(
        srv.url("mixpanel") + "/api/2.0/export",
        params={"from_date": "2026-06-01", "to_date": "2026-06-01", "limit": 20},
        auth=MIX,
    )
    evs = [json.loads(x) for x in r.text.splitlines()]
    assert evs and all(e["properties"]["$browser"] == "Firefox" and e["properties"]["feature"] is None for e in evs)


def test_concurrent_update_duplicates_across_pages(fresh_server):
    fresh_server.set_faults([{"kind": "concurrent_update", "vendor": "hubspot", "count": 1}])
    body = {"sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 10}
    seen, after = [], None
    while True:
        page = requests.post(
            fresh_server.url("hubspot") + "/crm/v3/objects/companies/search",
            headers=HUBSPOT,
            json={**body, **({"after": after} if after else {})},
        ).json()
        seen += [o["id"] for o in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert len(seen) == len(set(seen)) + 1  # exactly one record came back on a later page


def test_invalid_fault_rejected(srv):
    r = requests.post(srv.base_url + "/_control/faults", json=[{"kind": "explode"}])
    assert r.status_code == 400
    with pytest.raises(ValueError):
        srv.set_faults([{"kind": "delay", "bogus": 1}])
