"""Mixpanel mock: export JSONL per the spec, gzip, date handling, errors; Engage profiles."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import requests
import yaml

from simulator.world.catalog import FEATURES
from tests.conftest import MIXPANEL_USER
from tests.vendor_specs import SPECS_DIR

SPEC_FILE = SPECS_DIR / "mixpanel" / "export.openapi.yaml"
EVENT_NAMES = {f.event for f in FEATURES} | {"Logged In"}


def _export(mixpanel, **params):
    return mixpanel.get(mixpanel.base + "/api/2.0/export", params=params)


def test_export_matches_spec_and_dates_are_inclusive(mixpanel):
    spec = yaml.safe_load(open(SPEC_FILE))
    ok = spec["paths"]["/export"]["get"]["responses"]["200"]["content"]
    r = _export(mixpanel, from_date="2026-06-01", to_date="2026-06-03")
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] in ok
    lines = r.text.splitlines()
    assert len(lines) > 100
    days = set()
    for line in lines:
        ev = json.loads(line)
        p = ev["properties"]
        assert isinstance(ev["event"], str) and ev["event"] in EVENT_NAMES
        assert (
            isinstance(p["time"], int)
            and isinstance(p["$insert_id"], str)
            and isinstance(p["mp_processing_time_ms"], int)
        )
        assert p["distinct_id"] and p["account_id"].startswith("acct_")
        days.add(datetime.fromtimestamp(p["time"], UTC).date().isoformat())
    assert days == {"2026-06-01", "2026-06-02", "2026-06-03"}
    assert len({json.loads(x)["properties"]["$insert_id"] for x in lines}) == len(lines)


def test_export_is_deterministic_and_gzip(mixpanel):
    plain = _export(mixpanel, from_date="2026-06-10", to_date="2026-06-10").content
    raw = mixpanel.get(
        mixpanel.base + "/api/2.0/export",
        params={"from_date": "2026-06-10", "to_date": "2026-06-10"},
        headers={"Accept-Encoding": "gzip"},
        stream=True,
    )
    assert raw.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw.raw.read()) == plain
    assert _export(mixpanel, from_date="2026-06-10", to_date="2026-06-10").content == plain


def test_export_filters_and_limit(mixpanel):
    r = _export(mixpanel, from_date="2026-06-01", to_date="2026-06-05", event=json.dumps(["Logged In"]), limit=50)
    lines = r.text.splitlines()
    assert len(lines) == 50 and all(json.loads(x)["event"] == "Logged In" for x in lines)


def test_export_errors(mixpanel, server, monkeypatch):
    for params in (
        {"from_date": "2026-13-01", "to_date": "2026-06-01"},
        {"to_date": "2026-06-01"},
        {"from_date": "2026-06-05", "to_date": "2026-06-01"},
    ):
        r = _export(mixpanel, **params)
        assert r.status_code == 400 and r.json()["status"] == "error" and r.json()["error"]
    url = server.url("mixpanel") + "/api/2.0/export"
    for auth in (None, (MIXPANEL_USER, "wrong")):
        r = requests.get(url, params={"from_date": "2026-06-01", "to_date": "2026-06-01"}, auth=auth)
        assert r.status_code == 401 and r.json()["status"] == "error"
    monkeypatch.setenv("SIMULATOR_MIXPANEL_RPS", "2")
    codes = [_export(mixpanel, from_date="2026-06-01", to_date="2026-06-01", limit=1).status_code for _ in range(4)]
    assert 429 in codes


def test_future_days_are_empty_until_time_travel(mixpanel, server):
    clock = server.clock.isoformat()
    r = _export(mixpanel, from_date=clock, to_date="2026-12-01")
    last = max(json.loads(x)["properties"]["time"] for x in r.text.splitlines())
    assert datetime.fromtimestamp(last, UTC).date().isoformat() <= clock


def test_engage_pages_every_profile_once(mixpanel):
    first = mixpanel.get(mixpanel.base + "/api/2.0/engage").json()
    assert first["status"] == "ok" and first["page"] == 0 and first["page_size"] == 1000
    seen = [p["$distinct_id"] for p in first["results"]]
    page = 0
    while len(seen) < first["total"]:
        page += 1
        nxt = mixpanel.post(
            mixpanel.base + "/api/2.0/engage", data={"page": page, "session_id": first["session_id"]}
        ).json()
        assert nxt["results"]
        seen += [p["$distinct_id"] for p in nxt["results"]]
    assert len(seen) == len(set(seen)) == first["total"]
    props = first["results"][0]["$properties"]
    assert props["account_id"].startswith("acct_") and props["role"] in ("admin", "end_user", "manager", "executive")
    assert props["$created"]
    assert mixpanel.get(mixpanel.base + "/api/2.0/engage", params={"page": 1, "session_id": "nope"}).status_code == 400
