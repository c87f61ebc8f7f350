"""Stripe mock: list shape, cursor paging, filters, errors, auth."""

from __future__ import annotations

import json
from datetime import date, timedelta

import requests

from simulator.server import MockApiServer
from simulator.server.auth import DEFAULT_STRIPE_KEY as STRIPE_KEY
from simulator.world import generate_world

AS_OF = date(2026, 6, 30)


def _all_ids(stripe, path, **params):
    ids, after = [], None
    while True:
        p = dict(params, limit=params.get("limit", 7))
        if after:
            p["starting_after"] = after
        body = stripe.get(stripe.base + path, params=p).json()
        ids += [o["id"] for o in body["data"]]
        if not body["has_more"]:
            return ids
        after = body["data"][-1]["id"]


def test_customers_list_shape_and_headers(stripe):
    r = stripe.get(stripe.base + "/v1/customers", params={"limit": 3})
    assert r.status_code == 200
    assert r.headers["Stripe-Version"] == "2025-03-31.basil"
    body = r.json()
    assert set(body) == {"object", "url", "has_more", "data"}
    assert body["object"] == "list" and body["url"] == "/v1/customers" and body["has_more"] is True
    assert len(body["data"]) == 3
    created = [(c["created"], c["id"]) for c in body["data"]]
    assert created == sorted(created, reverse=True)


def test_customers_default_limit_is_10(stripe):
    assert len(stripe.get(stripe.base + "/v1/customers").json()["data"]) == 10


def test_customers_paging_returns_each_once_newest_first(stripe):
    ids = _all_ids(stripe, "/v1/customers", limit=7)
    assert len(ids) == len(set(ids)) > 20
    full = stripe.get(stripe.base + "/v1/customers", params={"limit": 100}).json()
    assert [c["id"] for c in full["data"]] == ids
    assert full["has_more"] is False


def test_customers_ending_before(stripe):
    ids = [c["id"] for c in stripe.get(stripe.base + "/v1/customers", params={"limit": 100}).json()["data"]]
    body = stripe.get(stripe.base + "/v1/customers", params={"limit": 3, "ending_before": ids[10]}).json()
    assert [c["id"] for c in body["data"]] == ids[7:10]
    assert body["has_more"] is True


def test_customers_created_filters(stripe):
    data = stripe.get(stripe.base + "/v1/customers", params={"limit": 100}).json()["data"]
    pivot = sorted(c["created"] for c in data)[len(data) // 2]
    for op, pred in (
        ("gte", lambda c: c >= pivot),
        ("gt", lambda c: c > pivot),
        ("lte", lambda c: c <= pivot),
        ("lt", lambda c: c < pivot),
    ):
        got = stripe.get(stripe.base + "/v1/customers", params={"limit": 100, f"created[{op}]": pivot}).json()
        assert {c["id"] for c in got["data"]} == {c["id"] for c in data if pred(c["created"])}, op


def test_customers_metadata_links(stripe, world_dir):
    data = stripe.get(stripe.base + "/v1/customers", params={"limit": 100}).json()["data"]
    linked = [c for c in data if "hubspot_company_id" in c["metadata"]]
    assert linked and all(c["metadata"]["hubspot_company_id"].isdigit() for c in linked)
    assert any("product_account_id" in c["metadata"] for c in data)


def test_limit_out_of_range_is_stripe_400(stripe):
    for bad in (0, 101):
        r = stripe.get(stripe.base + "/v1/customers", params={"limit": bad})
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["type"] == "invalid_request_error" and err["param"] == "limit" and err["code"]
        assert err["message"]


def test_unknown_cursor_is_resource_missing(stripe):
    r = stripe.get(stripe.base + "/v1/customers", params={"starting_after": "cus_nope"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "resource_missing"


def test_wrong_or_missing_key_is_stripe_401(server):
    url = server.url("stripe") + "/v1/customers"
    for headers in ({}, {"Authorization": "Bearer sk_test_wrong_key_123456"}):
        r = requests.get(url, headers=headers)
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["type"] == "invalid_request_error"
        assert "api key" in err["message"].lower()
    assert requests.get(url, auth=(STRIPE_KEY, "")).status_code == 200


def test_env_overrides_key(server, monkeypatch):
    monkeypatch.setenv("SIMULATOR_STRIPE_API_KEY", "sk_test_other")
    url = server.url("stripe") + "/v1/customers"
    assert requests.get(url, headers={"Authorization": f"Bearer {STRIPE_KEY}"}).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer sk_test_other"}).status_code == 200


RESOURCES = {
    "customers": "customer",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "products": "product",
    "prices": "price",
}


def test_every_object_matches_fixture_shape(stripe, stripe_fixture):
    for coll, resource in RESOURCES.items():
        params = {"limit": 100, **({"status": "all"} if coll == "subscriptions" else {})}
        data = stripe.get(stripe.base + f"/v1/{coll}", params=params).json()["data"]
        assert data, coll
        for obj in data:
            assert obj["object"] == resource
            stripe_fixture(resource, obj)
        one = stripe.get(stripe.base + f"/v1/{coll}/{data[0]['id']}").json()
        assert one == data[0]


def test_subscription_and_invoice_current_shape(stripe):
    sub = stripe.get(stripe.base + "/v1/subscriptions", params={"limit": 1}).json()["data"][0]
    item = sub["items"]["data"][0]
    assert item["current_period_start"] < item["current_period_end"]
    assert "current_period_start" not in sub  # basil: periods live on items
    assert item["quantity"] >= 1 and item["price"]["metadata"]["seat_limit"].isdigit()
    inv = stripe.get(stripe.base + "/v1/invoices", params={"limit": 1, "subscription": sub["id"]}).json()["data"][0]
    assert inv["parent"]["subscription_details"]["subscription"] == sub["id"]
    assert inv["subscription"] is None


def test_events_shape_types_and_30_day_retention(stripe, stripe_fixture, server):
    events, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        page = stripe.get(stripe.base + "/v1/events", params=params).json()
        events += page["data"]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert events
    oldest_allowed = (server.app.state.cutoff_ms // 1000) - 30 * 86400
    assert min(e["created"] for e in events) >= oldest_allowed
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        stripe_fixture("event", {**e, "data": {**e["data"], "object": None}}, {"previous_attributes"})
        obj = e["data"]["object"]
        stripe_fixture(obj["object"], obj)
        assert e["type"].split(".")[0] in ("customer", "invoice")
    types = {e["type"] for e in events}
    assert {"invoice.paid", "invoice.created", "customer.subscription.updated"} <= types
    filtered = stripe.get(stripe.base + "/v1/events", params={"limit": 100, "type": "invoice.paid"}).json()["data"]
    assert filtered and all(e["type"] == "invoice.paid" for e in filtered)


def test_deleted_customers_only_visible_as_events(tmp_path):
    """A customer deleted after churn leaves the list; its deletion shows as an event for 30 days."""
    world = generate_world(tmp_path / "w", accounts=60, seed=5, as_of=AS_OF)
    truth = [json.loads(line) for line in (world / "ground_truth" / "accounts.jsonl").open()]
    deleted = [a for a in truth if a["stripe_customer_deleted"]]
    future = [a for a in deleted if date.fromisoformat(a["churn_date"]) + timedelta(days=30) > AS_OF]
    past = [a for a in deleted if a not in future]
    assert future and past, "seed 5 plans deletions both before and after as-of"
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {STRIPE_KEY}"
    with MockApiServer(world) as srv:
        base = srv.url("stripe")

        def listed() -> set[str]:
            return {c["id"] for c in s.get(base + "/v1/customers", params={"limit": 100}).json()["data"]}

        gone = past[0]["stripe_customer_id"]
        assert gone not in listed()
        assert s.get(base + f"/v1/customers/{gone}").json() == {"deleted": True, "id": gone, "object": "customer"}
        target = future[0]["stripe_customer_id"]
        assert target in listed()
        srv.advance(days=(date.fromisoformat(future[0]["churn_date"]) + timedelta(days=31) - AS_OF).days)
        assert target not in listed()
        events = s.get(base + "/v1/events", params={"type": "customer.deleted", "limit": 100}).json()["data"]
        assert target in {e["data"]["object"]["id"] for e in events}
        assert gone not in {e["data"]["object"]["id"] for e in events}  # older than 30 days


def test_subscriptions_default_excludes_canceled(stripe):
    default = stripe.get(stripe.base + "/v1/subscriptions", params={"limit": 100}).json()["data"]
    everything = stripe.get(stripe.base + "/v1/subscriptions", params={"limit": 100, "status": "all"}).json()["data"]
    assert all(s["status"] != "canceled" for s in default)
    assert len(everything) >= len(default)
