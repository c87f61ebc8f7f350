"""Playbook steps as HubSpot tasks (reverse_etl.crm_tasks) against the simulated HubSpot: each due
step once, associated and assigned, never again after a rerun, a lost answer, a completed or
deleted task; bad inputs isolated; a dry run and a backfill send nothing."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import psycopg
import pytest
import requests

from reverse_etl import crm_tasks
from reverse_etl.task_mapping import COLUMNS, KEY_PROPERTY
from tests.conftest import TEST_AS_OF
from tests.reverse_etl.conftest import AUTH, validate, write_table

MART_DDL = """
create schema if not exists marts;
drop table if exists marts.mart_crm_tasks;
create table marts.mart_crm_tasks (
    task_key text primary key, as_of_date date, due_date date, company_id text, owner_id text,
    task_type text, task_priority text, task_subject text, task_body text
);
"""


@pytest.fixture
def owner_ids(sim) -> list[str]:
    body = requests.get(f"{sim.url('hubspot')}/crm/v3/owners", params={"limit": 100}, headers=AUTH).json()
    return [o["id"] for o in body["results"]]


def task_rows(company_ids: list[str], owners: list[str], n: int, day: date = TEST_AS_OF) -> list[dict]:
    rows = []
    for i in range(n):
        company = company_ids[i % len(company_ids)]
        due = day - timedelta(days=i % 3)
        key = hashlib.md5(f"{company}|playbook|{i}|{due}".encode()).hexdigest()
        rows.append(
            {
                "task_key": key,
                "as_of_date": day,
                "due_date": due,
                "company_id": company,
                "owner_id": owners[i % len(owners)] if i % 4 else None,
                "task_type": ("EMAIL", "CALL", "TODO")[i % 3],
                "task_priority": ("LOW", "MEDIUM", "HIGH")[i % 3],
                "task_subject": f"Dormant Reengagement: survey for {i % 5 + 1} users",
                "task_body": f"Why: step {i}.\nWhat to do: ask them.",
            }
        )
    return rows


def publish(url: str, rows: list[dict]) -> None:
    write_table(url, MART_DDL, "marts.mart_crm_tasks", COLUMNS, rows)
    validate(url)


def hubspot_tasks(sim) -> dict[str, dict]:
    """Live tasks carrying our key, by key, with their company associations."""
    out, after = {}, None
    while True:
        params = {
            "limit": 100,
            "properties": f"{KEY_PROPERTY},hubspot_owner_id,hs_timestamp,hs_task_subject,"
            "hs_task_status,hs_task_type,hs_task_priority",
            "associations": "companies",
        }
        if after:
            params["after"] = after
        body = requests.get(f"{sim.url('hubspot')}/crm/v3/objects/tasks", params=params, headers=AUTH).json()
        for t in body["results"]:
            key = t["properties"].get(KEY_PROPERTY)
            if key:
                assert key not in out, f"duplicate task for key {key}"
                out[key] = t
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return out


def state_keys(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select task_key, how from audit.crm_task_state").fetchall())


def test_each_due_step_becomes_one_task_once(sim, client, company_ids, owner_ids, fresh_warehouse_url, settings):
    rows = task_rows(company_ids, owner_ids, 150)
    publish(fresh_warehouse_url, rows)

    first = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert first["status"] == "succeeded", first
    assert (first["new"], first["succeeded"], first["failed"], first["batches"]) == (150, 150, 0, 2)
    # Properties read, group checked and created, key property created, then two batches of ≤ 100.
    assert first["requests"] in (5, 6), first  # 5 when the group exists already

    tasks = hubspot_tasks(sim)
    assert set(tasks) == {r["task_key"] for r in rows}
    for r in rows[:10]:
        t = tasks[r["task_key"]]
        p = t["properties"]
        assert p["hs_task_subject"] == r["task_subject"] and p["hs_task_status"] == "NOT_STARTED"
        assert p["hs_task_type"] == r["task_type"] and p["hs_task_priority"] == r["task_priority"]
        assert (p.get("hubspot_owner_id") or None) == r["owner_id"]
        assert p["hs_timestamp"].startswith(r["due_date"].isoformat() + "T12:00")
        linked = [a["id"] for a in t["associations"]["companies"]["results"]]
        assert linked == [r["company_id"]]

    validate(fresh_warehouse_url)
    again = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert (again["status"], again["new"], again["sent"], again["requests"]) == ("succeeded", 0, 0, 0)
    assert len(hubspot_tasks(sim)) == 150


def test_completed_and_deleted_tasks_are_not_recreated(
    sim, client, company_ids, owner_ids, fresh_warehouse_url, settings
):
    rows = task_rows(company_ids, owner_ids, 5)
    publish(fresh_warehouse_url, rows)
    crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    tasks = hubspot_tasks(sim)
    assert sim.complete_task(tasks[rows[0]["task_key"]]["id"])
    assert sim.delete_task(tasks[rows[1]["task_key"]]["id"])
    assert sim.delete_task(tasks[rows[2]["task_key"]]["id"], purge=True)

    more = task_rows(company_ids, owner_ids, 7)  # the same five, and two new steps
    publish(fresh_warehouse_url, more)
    res = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert (res["new"], res["succeeded"], res["already_created"]) == (2, 2, 5)
    now = hubspot_tasks(sim)
    assert rows[1]["task_key"] not in now and rows[2]["task_key"] not in now
    assert now[rows[0]["task_key"]]["properties"]["hs_task_status"] == "COMPLETED"


def test_a_lost_answer_or_a_lost_state_never_duplicates(
    sim, client, company_ids, owner_ids, fresh_warehouse_url, settings
):
    rows = task_rows(company_ids, owner_ids, 40)
    publish(fresh_warehouse_url, rows)
    # HubSpot creates the tasks but its answer is unreadable: the run cannot know they exist.
    sim.set_faults([{"kind": "malformed", "vendor": "hubspot", "path": "/objects/tasks/batch/create"}])
    with pytest.raises(crm_tasks.TooManyFailures):
        crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    sim.set_faults([])
    assert len(hubspot_tasks(sim)) == 40
    assert state_keys(fresh_warehouse_url) == {}

    validate(fresh_warehouse_url)
    waits = []  # a retry right away waits for HubSpot's search index to catch up first
    retry = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF, sleep=waits.append)
    assert (retry["found_in_hubspot"], retry["sent"], retry["status"]) == (40, 0, "succeeded")
    assert len(waits) == 1 and 50 < waits[0] <= crm_tasks.SEARCH_SETTLE_SECONDS
    assert set(state_keys(fresh_warehouse_url).values()) == {"found"}
    assert len(hubspot_tasks(sim)) == 40

    # The audit schema is lost (or a second warehouse writes to the portal): every key is looked up.
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("truncate audit.crm_task_state, audit.crm_sync_log")
    validate(fresh_warehouse_url)
    lost = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF, sleep=waits.append)
    assert (lost["found_in_hubspot"], lost["sent"]) == (40, 0)
    assert len(hubspot_tasks(sim)) == 40


def test_a_bad_input_fails_alone_and_is_retried(sim, client, company_ids, owner_ids, fresh_warehouse_url, settings):
    rows = task_rows(company_ids, owner_ids, 30)
    rows[7]["owner_id"] = "999999999"  # no such owner: HubSpot rejects this input only
    publish(fresh_warehouse_url, rows)
    res = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert (res["status"], res["succeeded"], res["failed"]) == ("partial", 29, 1)
    with psycopg.connect(fresh_warehouse_url) as conn:
        failed = conn.execute(
            "select object_id, error from audit.crm_sync_log where run_id = %s and status = 'failed'", (res["run_id"],)
        ).fetchall()
    assert [k for k, _ in failed] == [rows[7]["task_key"]] and "hubspot_owner_id" in str(failed[0][1])

    validate(fresh_warehouse_url)
    again = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF, sleep=lambda _s: None)
    assert (again["new"], again["sent"], again["failed"], again["found_in_hubspot"]) == (1, 1, 1, 0)
    assert len(hubspot_tasks(sim)) == 29


def test_dry_run_and_backfill_send_nothing(sim, client, company_ids, owner_ids, fresh_warehouse_url, settings):
    from dataclasses import replace

    rows = task_rows(company_ids, owner_ids, 12)
    publish(fresh_warehouse_url, rows)
    dry = crm_tasks.run(fresh_warehouse_url, None, replace(settings, dry_run=True), TEST_AS_OF)
    assert (dry["status"], dry["new"], dry["requests"]) == ("dry_run", 12, 0)
    assert len(dry["sample"]) == settings.sample_size

    # The warehouse has scored a later day: this run is a backfill of a past day.
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("create table marts.fct_account_health_daily (calendar_date date)")
        conn.execute("insert into marts.fct_account_health_daily values (%s)", (TEST_AS_OF + timedelta(days=3),))
    before = client.counters.requests
    res = crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert res["status"] == "skipped_backfill" and "backfill of" in res["reason"]
    assert client.counters.requests == before and hubspot_tasks(sim) == {}
    with psycopg.connect(fresh_warehouse_url) as conn:
        status, day = conn.execute(
            "select status, as_of_date from audit.crm_sync_runs where run_id = %s", (res["run_id"],)
        ).fetchone()
    assert (status, day) == ("skipped_backfill", TEST_AS_OF)


def test_a_mart_built_for_another_day_is_refused(sim, client, company_ids, owner_ids, fresh_warehouse_url, settings):
    publish(fresh_warehouse_url, task_rows(company_ids, owner_ids, 3, day=TEST_AS_OF - timedelta(days=1)))
    with pytest.raises(crm_tasks.MartContractError, match="not for this run's day"):
        crm_tasks.run(fresh_warehouse_url, client, settings, TEST_AS_OF)
    assert hubspot_tasks(sim) == {}
