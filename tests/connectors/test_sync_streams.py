"""Every stream against the simulator: complete, idempotent, incremental after the clock moves."""

from __future__ import annotations

import pytest
import requests

from connectors.registry import STREAMS
from connectors.sync import run_stream
from tests.connectors.conftest import configs, current_state, rows

ALL = [(src, name) for src, streams in STREAMS.items() for name in streams]


def sync_all(url: str, srv, full_refresh: bool = False, **settings) -> dict:
    cfgs = configs(srv, **settings)
    return {(s, n): run_stream(url, cfgs[s], n, full_refresh) for s, n in ALL}


def test_every_stream_loads_and_a_second_run_changes_nothing(sim, fresh_warehouse_url):
    first = sync_all(fresh_warehouse_url, sim)
    for key, res in first.items():
        assert res.rejected == 0, key
    for src, name in [
        ("stripe", "customers"),
        ("hubspot", "companies"),
        ("hubspot", "contacts"),
        ("hubspot", "associations"),
        ("mixpanel", "events"),
        ("mixpanel", "profiles"),
    ]:
        assert first[(src, name)].records > 0, (src, name)
    before = {f"{s}__{n}": current_state(fresh_warehouse_url, f"{s}__{n}") for s, n in ALL}
    sync_all(fresh_warehouse_url, sim)
    after = {f"{s}__{n}": current_state(fresh_warehouse_url, f"{s}__{n}") for s, n in ALL}
    assert after == before
    statuses = rows(fresh_warehouse_url, "select status, count(*) from raw._sync_runs group by status")
    assert statuses == [("success", 2 * len(ALL))]


def test_a_sync_leaves_planner_statistics_for_the_transform(sim, fresh_warehouse_url):
    """dbt runs right after a sync, before autovacuum's ANALYZE (or with autovacuum off, as on
    the benchmark machine): each sync analyzes the table it wrote, so the planner sees how few
    events a day's `_cursor` range holds and reads them through the index."""
    synced = sync_all(fresh_warehouse_url, sim)
    written = {f"{s}__{n}" for (s, n), res in synced.items() if res.records}
    analyzed = {
        r[0]
        for r in rows(
            fresh_warehouse_url, "select tablename from pg_stats where schemaname = 'raw' and attname = '_pk'"
        )
    }
    assert written - analyzed == set()
    (since,) = rows(fresh_warehouse_url, "select max(_cursor) - interval '1 day' from raw.mixpanel__events")[0]
    (actual,) = rows(fresh_warehouse_url, "select count(*) from raw.mixpanel__events where _cursor >= %s", (since,))[0]
    (plan,) = rows(
        fresh_warehouse_url,
        "explain (format json) select * from raw.mixpanel__events where _cursor >= %s",
        (since,),
    )[0]
    assert actual > 0 and actual / 3 <= plan[0]["Plan"]["Plan Rows"] <= actual * 3, (actual, plan[0]["Plan"])


def test_stripe_customers_match_the_api_exactly(sim, fresh_warehouse_url):
    cfg = configs(sim)["stripe"]
    run_stream(fresh_warehouse_url, cfg, "customers")
    served, params = set(), {"limit": 100}
    while True:
        body = requests.get(
            f"{cfg.base_url}/v1/customers", params=params, headers={"Authorization": f"Bearer {cfg.secret}"}, timeout=30
        ).json()
        served |= {c["id"] for c in body["data"]}
        if not body["has_more"]:
            break
        params["starting_after"] = body["data"][-1]["id"]
    loaded = {pk for (pk,) in rows(fresh_warehouse_url, "select _pk from raw.stripe__customers where not _deleted")}
    assert loaded == served


@pytest.mark.parametrize(
    ("obj", "server_cap"),
    [("companies", None), ("contacts", None), ("contacts", 30)],
    ids=["companies", "contacts", "contacts-server-cap"],
)
def test_hubspot_keyset_walk_past_a_small_cap_has_no_gap_and_no_duplicate(
    sim, fresh_warehouse_url, obj, server_cap, monkeypatch
):
    """Pages of 10 walk across shared timestamps, each request a fresh query from the position.

    With ``server_cap`` the simulated HubSpot caps a search at 30 results and, like HubSpot, drops
    ``paging.next`` on the page that reaches it: the walk never pages a query that far.
    """
    from simulator.server import hubspot as hubspot_api

    if server_cap:
        monkeypatch.setattr(hubspot_api, "SEARCH_MAX_RESULTS", server_cap)
    cfg = configs(sim, hubspot={"page_size": 10})["hubspot"]
    res = run_stream(fresh_warehouse_url, cfg, obj)
    ids = [pk for (pk,) in rows(fresh_warehouse_url, f"select _pk from raw.hubspot__{obj}__loads")]
    assert len(ids) == len(set(ids)), "a record was loaded twice in one run"
    listed, after = set(), None
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        body = requests.get(
            f"{cfg.base_url}/crm/v3/objects/{obj}",
            params=params,
            headers={"Authorization": f"Bearer {cfg.secret}"},
            timeout=30,
        ).json()
        listed |= {o["id"] for o in body["results"]}
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
    assert set(ids) == listed
    assert res.checkpoints > 2  # the walk committed along the way
    shared = rows(
        fresh_warehouse_url,
        f"select count(*) from (select _cursor from raw.hubspot__{obj} group by _cursor having count(*) > 1) t",
    )[0][0]
    assert shared > 0, "the world should have records sharing a modified timestamp"


def test_clock_advance_incremental_equals_full_refresh(sim, warehouse_admin_url, fresh_warehouse_url):
    from tests.conftest import _create_db, _drop_db

    sync_all(fresh_warehouse_url, sim)
    sim.advance(days=3)
    incremental = sync_all(fresh_warehouse_url, sim)
    assert incremental[("mixpanel", "events")].records > 0
    assert sum(r.records for (s, _), r in incremental.items() if s == "hubspot") > 0
    fresh = _create_db(warehouse_admin_url, "postsale_full")
    try:
        sync_all(fresh, sim, full_refresh=True)
        for s, n in ALL:
            if n in ("events",) and s == "stripe":
                continue  # the events log itself keeps what it saw; a full re-read sees 30 days only
            inc = current_state(fresh_warehouse_url, f"{s}__{n}")
            full = current_state(fresh, f"{s}__{n}")
            live_inc = {k: v for k, v in inc.items() if not v[1]}
            live_full = {k: v for k, v in full.items() if not v[1]}
            assert live_inc.keys() == live_full.keys(), f"{s}.{n}"
            if s != "mixpanel":  # profiles carry no change timestamps to compare; keys suffice
                assert live_inc == live_full, f"{s}.{n}"
    finally:
        _drop_db(warehouse_admin_url, fresh)
