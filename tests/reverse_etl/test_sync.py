"""Reverse ETL against the simulated HubSpot: what is written, what is not, and what is logged."""

from __future__ import annotations

import psycopg
import pytest
import requests

from reverse_etl.mapping import PROPERTIES, PROPERTY_GROUP
from reverse_etl.sync import run
from tests.reverse_etl.conftest import AUTH, hubspot_values, log_rows, mart_rows, publish, validate, write_mart


def _expected(row: dict) -> dict:
    """What HubSpot holds: the rendered values, and no value where "" cleared it."""
    return {p.name: p.render(row[p.column]) or None for p in PROPERTIES}


def test_first_sync_creates_properties_and_writes_every_company(
    sim, client, company_ids, settings, fresh_warehouse_url
):
    rows = mart_rows(company_ids)
    publish(fresh_warehouse_url, rows)

    summary = run(fresh_warehouse_url, client, settings)

    assert summary["status"] == "succeeded"
    assert (summary["changed"], summary["sent"], summary["succeeded"]) == (len(rows),) * 3
    assert summary["properties"]["created"] == [p.name for p in PROPERTIES]
    # Read back through the API: every company carries exactly what the mart says.
    held = hubspot_values(sim, company_ids)
    assert held == {r["company_id"]: _expected(r) for r in rows}
    assert held[company_ids[0]]["postsale_health_score"] == "0.5"  # numeric(5,2) 0.50 without trailing zero
    # The definitions sit in our group, with the enumeration options.
    defs = requests.get(f"{sim.url('hubspot')}/crm/v3/properties/companies", headers=AUTH).json()["results"]
    by_name = {d["name"]: d for d in defs}
    band = by_name["postsale_health_band"]
    assert band["groupName"] == PROPERTY_GROUP and band["type"] == "enumeration"
    assert [o["value"] for o in band["options"]] == ["green", "yellow", "red", "unknown"]
    assert [o["value"] for o in by_name["postsale_forecast_category"]["options"]] == ["commit", "likely", "at_risk"]
    assert len(by_name["postsale_primary_stage"]["options"]) == 6
    # One batch per 100 companies; requests: property list, group check, one create per property, batches.
    assert summary["batches"] == -(-len(rows) // 100)
    with psycopg.connect(fresh_warehouse_url) as conn:
        logged = conn.execute(
            "select count(*) filter (where status = 'succeeded'), count(*) from audit.crm_sync_log"
        ).fetchone()
        assert logged == (len(rows), len(rows))
        assert conn.execute("select count(*) from audit.crm_sync_state").fetchone()[0] == len(rows)


def test_second_sync_sends_nothing(sim, client, company_ids, settings, fresh_warehouse_url):
    publish(fresh_warehouse_url, mart_rows(company_ids))
    run(fresh_warehouse_url, client, settings)
    before = client.counters.requests

    summary = run(fresh_warehouse_url, client, settings)

    assert summary["status"] == "succeeded"
    assert (summary["changed"], summary["sent"], summary["requests"]) == (0, 0, 0)
    assert client.counters.requests == before


def test_changed_score_sends_exactly_that_company(sim, client, company_ids, settings, fresh_warehouse_url):
    rows = mart_rows(company_ids)
    publish(fresh_warehouse_url, rows)
    run(fresh_warehouse_url, client, settings)
    changed = mart_rows(company_ids, shifted=frozenset({4}))
    publish(fresh_warehouse_url, changed)

    summary = run(fresh_warehouse_url, client, settings)

    assert (summary["changed"], summary["sent"], summary["succeeded"]) == (1, 1, 1)
    assert summary["requests"] == 2  # the property check and one batch update
    assert [r[:2] for r in log_rows(fresh_warehouse_url, summary["run_id"])] == [(company_ids[4], "succeeded")]
    held = hubspot_values(sim, company_ids)
    assert held[company_ids[4]] == _expected(changed[4])
    assert held[company_ids[4]] != _expected(rows[4])


def test_per_input_errors_are_logged_and_retried_next_run(sim, client, company_ids, settings, fresh_warehouse_url):
    ghost = "999999999"  # no such company in HubSpot: the 207 answer carries an error for it alone
    rows = mart_rows([*company_ids, ghost])
    publish(fresh_warehouse_url, rows)

    first = run(fresh_warehouse_url, client, settings)

    assert first["status"] == "partial"
    assert (first["sent"], first["succeeded"], first["failed"]) == (len(rows), len(rows) - 1, 1)
    failed = [r for r in log_rows(fresh_warehouse_url, first["run_id"]) if r[1] == "failed"]
    assert [(oid, err["category"]) for oid, _, err in failed] == [(ghost, "OBJECT_NOT_FOUND")]
    assert hubspot_values(sim, company_ids) == {r["company_id"]: _expected(r) for r in rows[:-1]}

    second = run(fresh_warehouse_url, client, settings)  # only the failed record is sent again

    assert (second["changed"], second["sent"], second["failed"]) == (1, 1, 1)
    assert [r[:2] for r in log_rows(fresh_warehouse_url, second["run_id"])] == [(ghost, "failed")]


def test_unanswered_batch_is_retried_next_run(sim, client, company_ids, settings, fresh_warehouse_url):
    from reverse_etl.push import PushAborted

    publish(fresh_warehouse_url, mart_rows(company_ids))
    client.max_retries = 1
    sim.set_faults([{"kind": "error_burst", "vendor": "hubspot", "path": "/batch/update", "count": 2, "status": 503}])

    with pytest.raises(PushAborted, match="503"):
        run(fresh_warehouse_url, client, settings)

    with psycopg.connect(fresh_warehouse_url) as conn:
        assert conn.execute("select status from audit.crm_sync_runs").fetchone()[0] == "failed"
        assert conn.execute("select count(*) from audit.crm_sync_state").fetchone()[0] == 0
        assert conn.execute("select count(*) from audit.crm_sync_log where status = 'failed'").fetchone()[0] == len(
            company_ids
        )
    summary = run(fresh_warehouse_url, client, settings)  # the burst is spent: everything goes through
    assert (summary["status"], summary["succeeded"]) == ("succeeded", len(company_ids))


def test_rate_limit_storm_completes(sim, client, company_ids, fresh_warehouse_url):
    from reverse_etl.settings import Settings

    publish(fresh_warehouse_url, mart_rows(company_ids))
    # Small batches make many requests; the fault answers 429 past 1 request/s on every HubSpot path.
    sim.set_faults([{"kind": "rate_limit", "vendor": "hubspot", "max_per_second": 1}])
    settings = Settings(required_layers=("raw", "staging", "marts"), fresh_layers=("marts",), batch_size=3)

    summary = run(fresh_warehouse_url, client, settings)

    assert summary["status"] == "succeeded"
    assert summary["succeeded"] == len(company_ids) and summary["batches"] == -(-len(company_ids) // 3)
    assert summary["retries"] > 0  # the storm really hit us
    sim.clear_faults()  # so the read-back below is not rate limited itself
    rows = mart_rows(company_ids)
    assert hubspot_values(sim, company_ids) == {r["company_id"]: _expected(r) for r in rows}


def test_invalid_values_are_rejected_and_never_sent(sim, client, company_ids, settings, fresh_warehouse_url):
    rows = mart_rows(company_ids)
    rows[0] = {**rows[0], "health_band": "purple"}
    rows[1] = {**rows[1], "health_score": "140"}
    rows.append({**rows[2]})  # a duplicate key: two verdicts for one company
    publish(fresh_warehouse_url, rows)

    summary = run(fresh_warehouse_url, client, settings)

    assert summary["status"] == "partial"
    assert summary["rejected"] == 4 and summary["sent"] == len(company_ids) - 3
    held = hubspot_values(sim, company_ids[:3])
    assert all(v is None for c in company_ids[:3] for v in held[c].values())
    logged = {
        oid: (status, err and err["message"]) for oid, status, err in log_rows(fresh_warehouse_url, summary["run_id"])
    }
    assert logged[company_ids[0]][0] == "rejected" and "purple" in logged[company_ids[0]][1]
    assert "outside" in logged[company_ids[1]][1]
    assert "2 mart rows" in logged[company_ids[2]][1]


def test_mart_missing_a_mapped_column_is_refused(client, company_ids, settings, fresh_warehouse_url):
    from reverse_etl.diff import MartContractError

    write_mart(fresh_warehouse_url, mart_rows(company_ids))
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("alter table marts.mart_crm_sync drop column forecast_category")
    validate(fresh_warehouse_url)

    with pytest.raises(MartContractError, match="forecast_category"):
        run(fresh_warehouse_url, client, settings)
    assert client.counters.requests == 0


REASON_PROPERTIES = {
    "postsale_health_reasons": ("string", "textarea"),
    "postsale_renewal_risk_reasons": ("string", "textarea"),
    "postsale_health_coverage": ("number", "number"),
    "postsale_health_components_used": ("number", "number"),
    "postsale_previous_health_band": ("enumeration", "select"),
    "postsale_health_band_since": ("date", "date"),
}


def test_reasons_are_created_pushed_once_and_shown_on_the_companies(
    sim, client, company_ids, settings, fresh_warehouse_url
):
    rows = mart_rows(company_ids)
    publish(fresh_warehouse_url, rows)

    first = run(fresh_warehouse_url, client, settings)

    assert set(REASON_PROPERTIES) <= set(first["properties"]["created"])
    defs = requests.get(f"{sim.url('hubspot')}/crm/v3/properties/companies", headers=AUTH).json()["results"]
    by_name = {d["name"]: d for d in defs}
    for name, (kind, field) in REASON_PROPERTIES.items():
        assert (by_name[name]["type"], by_name[name]["fieldType"], by_name[name]["groupName"]) == (
            kind,
            field,
            PROPERTY_GROUP,
        )
    assert [o["value"] for o in by_name["postsale_previous_health_band"]["options"]] == [
        "green",
        "yellow",
        "red",
        "unknown",
    ]
    # On the companies, as a CSM reads them (and cleared where the mart has no reason).
    held = hubspot_values(sim, company_ids)
    with_reasons = [r for r in rows if r["health_reasons"]]
    assert with_reasons and any(r["health_reasons"] is None for r in rows)
    for r in rows:
        got = held[r["company_id"]]
        assert got["postsale_health_reasons"] == (r["health_reasons"] or None)
        assert got["postsale_renewal_risk_reasons"] == (r["renewal_risk_reasons"] or None)
        assert got["postsale_health_coverage"] == str(r["health_coverage_percent"])
        assert got["postsale_previous_health_band"] == r["previous_health_band"]
    assert held[with_reasons[0]["company_id"]]["postsale_health_reasons"].startswith("usage -")

    # Unchanged: nothing is sent again.
    again = run(fresh_warehouse_url, client, settings)
    assert (again["changed"], again["sent"], again["requests"]) == (0, 0, 0)

    # One company's reason changes: exactly that company is sent, and it is not a material change.
    target = with_reasons[1]
    reworded = [{**r, "health_reasons": "2 high-severity tickets in 90 days"} if r is target else r for r in rows]
    publish(fresh_warehouse_url, reworded)
    third = run(fresh_warehouse_url, client, settings)
    assert (third["changed"], third["sent"], third["succeeded"], third["material_change_share"]) == (1, 1, 1, 0)
    assert [r[:2] for r in log_rows(fresh_warehouse_url, third["run_id"])] == [(target["company_id"], "succeeded")]
    assert (
        hubspot_values(sim, company_ids)[target["company_id"]]["postsale_health_reasons"]
        == "2 high-severity tickets in 90 days"
    )
