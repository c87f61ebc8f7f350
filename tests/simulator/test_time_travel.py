"""Time travel: moving the clock reveals new customers, events, record updates and churn."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import requests

from simulator.server.auth import DEFAULT_STRIPE_KEY
from tests.conftest import HUBSPOT_TOKEN, MIXPANEL_SECRET, MIXPANEL_USER

STRIPE = {"Authorization": f"Bearer {DEFAULT_STRIPE_KEY}"}
HUBSPOT = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}


def _customers(srv):
    return {
        c["id"]
        for c in requests.get(srv.url("stripe") + "/v1/customers", params={"limit": 100}, headers=STRIPE).json()["data"]
    }


def _modified_since(srv, ms):
    body = {
        "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(ms)}]}],
        "limit": 1,
    }
    return requests.post(srv.url("hubspot") + "/crm/v3/objects/companies/search", headers=HUBSPOT, json=body).json()[
        "total"
    ]


def test_advance_reveals_new_data(fresh_server):
    srv = fresh_server
    before_customers = _customers(srv)
    cutoff = srv.app.state.cutoff_ms
    assert _modified_since(srv, cutoff) == 0
    r = requests.post(srv.base_url + "/_control/advance", json={"days": 90})
    assert r.status_code == 200 and r.json()["clock"] == "2026-09-28"
    after_customers = _customers(srv)
    assert after_customers - before_customers, "new customers sign up after as-of"
    assert _modified_since(srv, cutoff) > 0
    events = requests.get(
        srv.url("mixpanel") + "/api/2.0/export",
        params={"from_date": "2026-09-01", "to_date": "2026-09-01"},
        auth=(MIXPANEL_USER, MIXPANEL_SECRET),
    )
    assert events.text.strip()


def test_cli_advance_moves_a_running_server(fresh_server):
    srv = fresh_server
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "advance", "--days", "3", "--world", str(srv.world_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "2026-07-03" in out.stdout
    assert requests.get(srv.base_url + "/_control/clock").json()["clock"] == "2026-07-03"
    assert str(srv.clock) == "2026-07-03"


def test_cannot_advance_past_horizon(fresh_server):
    r = requests.post(fresh_server.base_url + "/_control/advance", json={"days": 10_000})
    assert r.status_code == 400 and "horizon" in r.json()["error"]


def test_churn_appears_after_advance(fresh_server):
    srv = fresh_server
    truth = [json.loads(x) for x in (srv.world_dir / "ground_truth" / "accounts.jsonl").open()]
    upcoming = sorted(a["churn_date"] for a in truth if a["churn_date"] and a["churn_date"] > "2026-06-30")
    assert upcoming

    def subs() -> dict[str, str]:
        params = {"limit": 100, "status": "all"}
        data = requests.get(srv.url("stripe") + "/v1/subscriptions", params=params, headers=STRIPE).json()["data"]
        return {s["customer"]: s["status"] for s in data}

    churner = next(a for a in truth if a["churn_date"] == upcoming[0])
    assert subs()[churner["stripe_customer_id"]] != "canceled"
    days = (date.fromisoformat(upcoming[0]) - srv.clock).days + 1
    srv.advance(days=days)
    assert subs()[churner["stripe_customer_id"]] == "canceled"


def test_incremental_advance_equals_full_rebuild(fresh_server):
    from simulator.world.store import rebuild_current

    srv = fresh_server
    srv.advance(days=45)
    conn = srv.app.state.conn
    with srv.app.state.lock:
        incremental = conn.execute("SELECT * FROM current ORDER BY vendor, otype, id").fetchall()
        rebuild_current(conn, srv.app.state.cutoff_ms)
        full = conn.execute("SELECT * FROM current ORDER BY vendor, otype, id").fetchall()
    assert incremental == full
