"""Business alerts (reverse_etl.alerts) to the simulated Slack webhook: one message per event and
never twice, a digest, retries that never block, a refused hook, and the secret URL kept out."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest

from reverse_etl import alerts
from reverse_etl.alerts import AlertSettings
from reverse_etl.settings import Settings
from tests.conftest import TEST_AS_OF
from tests.reverse_etl.conftest import LAYERS, validate, write_table

GATE = Settings(required_layers=LAYERS, fresh_layers=("marts",))

MART_DDL = """
create schema if not exists marts;
drop table if exists marts.fct_account_alerts;
create table marts.fct_account_alerts (
    alert_id text primary key, as_of_date date, event_type text, event_date date, company_id text,
    account_name text, arr_usd numeric, owner_id text, owner_name text, alert_title text, event_detail text,
    drivers text, report_page text
);
"""
TYPES = (
    ("health_red", "Health turned red", "book-of-business"),
    ("renewal_at_risk", "Renewal at risk", "renewals"),
    ("champion_left", "Champion left", "book-of-business"),
    ("payment_failed", "Payment failed", "revenue-retention"),
)


def alert_rows(n: int, day=TEST_AS_OF) -> list[dict]:
    rows = []
    for i in range(n):
        event_type, title, page = TYPES[i % 4]
        rows.append(
            {
                "alert_id": f"a{i:04d}",
                "as_of_date": day,
                "event_type": event_type,
                "event_date": day - timedelta(days=i % 3),
                "company_id": f"c{i}",
                "account_name": f"Acme <{i}> & Co",
                "arr_usd": 12000 + i,
                "owner_id": "o1",
                "owner_name": "Ann Lee",
                "alert_title": title,
                "event_detail": f"health 45 (yellow) → 3{i % 10} (red)",
                "drivers": "usage -32% in 28 days; champion left 2026-10-02" if i % 2 else None,
                "report_page": page,
            }
        )
    return rows


def publish(url: str, rows: list[dict]) -> None:
    write_table(url, MART_DDL, "marts.fct_account_alerts", list(rows[0]) if rows else [], rows)
    validate(url)


def deliveries(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        return {
            a: (s, n)
            for a, s, n in conn.execute("select alert_id, status, attempts from audit.alert_deliveries").fetchall()
        }


@pytest.fixture
def hook(sim) -> AlertSettings:
    return AlertSettings(webhook_url=sim.slack_webhook_url(), reports_url="http://reports.example:8088")


def no_sleep(_seconds: float) -> None:
    pass


def test_one_message_per_event_never_twice(sim, hook, fresh_warehouse_url, caplog):
    publish(fresh_warehouse_url, alert_rows(6))
    caplog.set_level(logging.INFO)  # ours; urllib3's DEBUG lines quote paths, off by default
    first = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert (first["status"], first["events"], first["new"], first["sent"], first["requests"]) == ("sent", 6, 6, 6, 6)
    messages = sim.slack_messages()
    assert len(messages) == 6
    m = next(m for m in messages if "Acme <1>" in m["text"])
    assert m["text"] == "Renewal at risk: Acme <1> & Co (ARR $12,001, owner Ann Lee): health 45 (yellow) → 31 (red)"
    body = str(m["blocks"])
    assert "Acme &lt;1&gt; &amp; Co" in body and "$12,001" in body and "Ann Lee" in body
    assert "usage -32% in 28 days; champion left 2026-10-02" in body
    assert "http://reports.example:8088/superset/dashboard/renewals/" in body
    assert "no driver below target" in str(messages[0]["blocks"])

    again = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert (again["status"], again["new"], again["already_sent"], again["requests"]) == ("sent", 0, 6, 0)
    assert len(sim.slack_messages()) == 6
    token = hook.webhook_url.rsplit("/", 1)[1]
    assert token not in str(first) + str(again) + caplog.text


def test_digest_splits_to_fit_slack(sim, hook, fresh_warehouse_url):
    publish(fresh_warehouse_url, alert_rows(60))
    res = alerts.run(fresh_warehouse_url, TEST_AS_OF, replace(hook, digest=True), gate_settings=GATE, sleep=no_sleep)
    assert (res["status"], res["sent"], res["requests"]) == ("sent", 60, 2)
    first, second = sim.slack_messages()
    assert len(first["blocks"]) == 50 and len(second["blocks"]) == 14
    assert first["text"].startswith(f"postsale: 60 alerts for {TEST_AS_OF} (1 of 2)")
    assert set(s for s, _ in deliveries(fresh_warehouse_url).values()) == {"sent"}


def test_a_rate_limit_is_waited_out(sim, hook, fresh_warehouse_url):
    publish(fresh_warehouse_url, alert_rows(2))
    sim.set_faults([{"kind": "error_burst", "vendor": "slack", "count": 1, "status": 429}])
    waits = []
    res = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=waits.append)
    assert (res["status"], res["sent"], res["requests"]) == ("sent", 2, 3)
    assert len(waits) == 1 and len(sim.slack_messages()) == 2
    assert sorted(deliveries(fresh_warehouse_url).values()) == [("sent", 1), ("sent", 2)]


def test_a_webhook_down_never_blocks_and_is_retried_next_run(sim, hook, fresh_warehouse_url):
    publish(fresh_warehouse_url, alert_rows(3))
    sim.set_faults([{"kind": "error_burst", "vendor": "slack", "count": 100, "status": 503}])
    down = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert (down["status"], down["sent"], down["failed"], down["requests"]) == ("failed", 0, 3, 12)
    assert deliveries(fresh_warehouse_url)["a0001"] == ("failed", 4)

    sim.set_faults([])
    validate(fresh_warehouse_url)
    back = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert (back["status"], back["new"], back["sent"]) == ("sent", 3, 3)
    assert len(sim.slack_messages()) == 3
    assert deliveries(fresh_warehouse_url)["a0001"] == ("sent", 5)


def test_a_refused_hook_stops_at_the_first_message(sim, hook, fresh_warehouse_url):
    publish(fresh_warehouse_url, alert_rows(5))
    dead = replace(hook, webhook_url=hook.webhook_url.rsplit("/", 1)[0] + "/revokedtoken")
    res = alerts.run(fresh_warehouse_url, TEST_AS_OF, dead, gate_settings=GATE, sleep=no_sleep)
    assert (res["status"], res["failed"], res["requests"]) == ("failed", 5, 1)
    with psycopg.connect(fresh_warehouse_url) as conn:
        errors = {e for (e,) in conn.execute("select last_error from audit.alert_deliveries")}
    assert errors == {"hook refused: HTTP 404 no_service"}
    assert "revokedtoken" not in str(res)


def test_nothing_is_sent_unconfigured_dry_or_on_a_backfill(sim, hook, fresh_warehouse_url):
    publish(fresh_warehouse_url, alert_rows(4))
    unset = alerts.run(fresh_warehouse_url, TEST_AS_OF, AlertSettings(), gate_settings=GATE, sleep=no_sleep)
    assert (unset["status"], unset["new"]) == ("not_configured", 4)
    dry = alerts.run(fresh_warehouse_url, TEST_AS_OF, replace(hook, dry_run=True), gate_settings=GATE, sleep=no_sleep)
    assert (dry["status"], dry["messages"], dry["requests"]) == ("dry_run", 4, 0)
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("create table marts.fct_account_health_daily (calendar_date date)")
        conn.execute("insert into marts.fct_account_health_daily values (%s)", (TEST_AS_OF + timedelta(days=1),))
    past = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert past["status"] == "skipped_backfill" and past["requests"] == 0
    assert sim.slack_messages() == [] and deliveries(fresh_warehouse_url) == {}


def test_a_missing_mart_or_closed_gate_fails_without_raising(sim, hook, fresh_warehouse_url):
    validate(fresh_warehouse_url)
    missing = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert missing["status"] == "failed" and "fct_account_alerts does not exist" in missing["error"]
    publish(fresh_warehouse_url, alert_rows(2))
    validate(fresh_warehouse_url, failing={"marts": "expect_scores_0_100"})
    closed = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert closed["status"] == "failed" and "marts: latest run" in closed["error"]
    assert sim.slack_messages() == []


def test_a_rescored_episode_is_not_alerted_twice(sim, hook, fresh_warehouse_url):
    first = alert_rows(1)  # health_red for c0
    publish(fresh_warehouse_url, first)
    assert alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)["sent"] == 1
    # The daily marts rescored their last days: the same red spell now starts a day later, and
    # the account also had a failed payment (a one-off fact, always its own alert).
    moved = {**first[0], "alert_id": "moved", "event_date": first[0]["event_date"] + timedelta(days=1)}
    payment = {**first[0], "alert_id": "pay", "event_type": "payment_failed", "alert_title": "Payment failed"}
    publish(fresh_warehouse_url, [moved, payment])
    res = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert (res["same_episode"], res["new"], res["sent"]) == (1, 1, 1)
    assert deliveries(fresh_warehouse_url)["moved"] == ("superseded", 0)
    assert len(sim.slack_messages()) == 2


def test_a_second_concurrent_run_sends_nothing(sim, hook, fresh_warehouse_url):
    from reverse_etl import store

    publish(fresh_warehouse_url, alert_rows(2))
    with store.run_lock(fresh_warehouse_url, alerts.LOCK_TARGET):
        res = alerts.run(fresh_warehouse_url, TEST_AS_OF, hook, gate_settings=GATE, sleep=no_sleep)
    assert res["status"] == "already_running" and sim.slack_messages() == []
