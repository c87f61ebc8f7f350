"""Incremental validation of the append-only event tables (``expectations/incremental.py``).

The first run checks every row and records the mark (the dating column's maximum at its start);
the next run checks only rows from mark - late_arrival_days; a run with a critical failure keeps
the old mark; "all rows" checks everything. Proved by planting bad events outside and inside
that window in a copy of the test warehouse.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from expectations.catalog import Catalog
from expectations.incremental import ALL_ROWS_ENV, late_arrival_days
from expectations.rules import BuildEnv
from expectations.runner import LAYERS, ValidationFailed, raise_on_failure, suites_for, validate_layer
from expectations.settings import Settings
from pipeline import cli
from tests.expectations.conftest import execute

EVENTS = "staging.staging.stg_mixpanel__events"  # the suite's name: layer.schema.table


def _mark(url: str, suite: str = EVENTS):
    with psycopg.connect(url) as conn:
        return conn.execute("select mark, run_id from audit.validation_marks where suite = %s", (suite,)).fetchone()


def _scopes(url: str, run_id: str, table: str) -> list[dict]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select distinct kwargs -> 'scope' from audit.validation_results where run_id = %s and table_name = %s",
            (run_id, table),
        ).fetchall()
    return [r[0] for r in rows]


def _break_event(url: str, where: str) -> tuple[str, object]:
    """Remove the account id of one raw event chosen by ``where``; return its key and cursor."""
    with psycopg.connect(url) as conn:
        pk, cursor = conn.execute(
            f"select _pk, _cursor from raw.mixpanel__events where {where} order by _cursor, _pk limit 1"
        ).fetchone()
        conn.execute(
            "update raw.mixpanel__events set record = record #- '{properties,account_id}' where _pk = %s", (pk,)
        )
    return pk, cursor


def _failure_message(outcome) -> str:
    with pytest.raises(ValidationFailed) as err:
        raise_on_failure(outcome)
    return str(err.value)


def test_first_run_checks_every_row_and_records_the_mark(warehouse):
    outcome = validate_layer("staging", warehouse, build_docs=False)
    raise_on_failure(outcome)
    with psycopg.connect(warehouse) as conn:
        newest = conn.execute("select max(cursor_at) from staging.stg_mixpanel__events").fetchone()[0]
    assert _mark(warehouse) == (newest, outcome.run_id)
    assert _scopes(warehouse, outcome.run_id, "staging.stg_mixpanel__events") == [
        {"rows": "all", "column": "cursor_at", "reason": "no mark recorded (first run)"}
    ]
    # Suites without a dating column say so too.
    assert _scopes(warehouse, outcome.run_id, "staging.stg_hubspot__companies") == [{"rows": "all"}]


def test_next_run_checks_only_the_late_arrival_window_and_a_failure_keeps_the_mark(warehouse):
    first = validate_layer("staging", warehouse, build_docs=False)
    raise_on_failure(first)
    mark, _ = _mark(warehouse)
    since = mark - timedelta(days=late_arrival_days())

    # A bad event older than the window: checked on the first run, not again.
    old_pk, old_cursor = _break_event(warehouse, f"_cursor < '{since - timedelta(days=1)}'")
    second = validate_layer("staging", warehouse, build_docs=False)
    raise_on_failure(second)
    assert _scopes(warehouse, second.run_id, "staging.stg_mixpanel__events") == [
        {
            "rows": "incremental",
            "column": "cursor_at",
            "since": since.isoformat(),
            "previous_mark": mark.isoformat(),
            "late_arrival_days": late_arrival_days(),
        }
    ]
    assert old_cursor < since

    # A bad event inside the window fails the gate; a later event arrives before that run.
    new_pk, new_cursor = _break_event(warehouse, f"_cursor >= '{since}'")
    assert new_cursor >= since
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "insert into raw.mixpanel__events (_pk, _cursor, record, _sync_id) "
            "select _pk || '-late', _cursor + interval '1 hour', record, _sync_id "
            "from raw.mixpanel__events where _pk <> %s order by _cursor desc limit 1",
            (new_pk,),
        )
    failed = validate_layer("staging", warehouse, build_docs=False)
    message = _failure_message(failed)
    assert "stg_mixpanel__events: expect_event_complete" in message
    assert new_pk.lower() in message.lower() and old_pk.lower() not in message.lower()
    assert [r["observed_value"] for r in failed.critical_failures] == [1]
    # The failed run leaves the previous mark (not the newer maximum it started with) ...
    assert _mark(warehouse) == (mark, second.run_id)

    # ... so the rerun, once the event is fixed, checks the same rows again and then moves on.
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "update raw.mixpanel__events set record = jsonb_set(record, '{properties,account_id}', '\"fixed\"') "
            "where _pk = %s",
            (new_pk,),
        )
        newest = conn.execute("select max(_cursor) from raw.mixpanel__events").fetchone()[0]
    rerun = validate_layer("staging", warehouse, build_docs=False)
    raise_on_failure(rerun)
    assert _scopes(warehouse, rerun.run_id, "staging.stg_mixpanel__events")[0]["since"] == since.isoformat()
    assert _mark(warehouse) == (newest, rerun.run_id) and newest > mark


def test_all_rows_checks_everything_and_keeps_the_mark_on_failure(warehouse, monkeypatch):
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    mark, first_run = _mark(warehouse)
    old_pk, _ = _break_event(warehouse, f"_cursor < '{mark - timedelta(days=late_arrival_days() + 1)}'")
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))  # outside the window
    _, passing_run = _mark(warehouse)

    for outcome in (
        validate_layer("staging", warehouse, build_docs=False, all_rows=True),
        _with_env(monkeypatch, lambda: validate_layer("staging", warehouse, build_docs=False)),
    ):
        message = _failure_message(outcome)
        assert "stg_mixpanel__events: expect_event_complete" in message and old_pk.lower() in message.lower()
        assert _scopes(warehouse, outcome.run_id, "staging.stg_mixpanel__events") == [
            {"rows": "all", "column": "cursor_at", "reason": "all rows requested"}
        ]
        assert _mark(warehouse) == (mark, passing_run) and passing_run != first_run


def _with_env(monkeypatch, run):
    with monkeypatch.context() as mp:
        mp.setenv(ALL_ROWS_ENV, "1")
        return run()


def test_only_the_staging_events_view_is_dated():
    """raw.mixpanel__events stays whole on purpose: its checks are index probes already (see
    docs/VALIDATION.md), and a restricted batch would only risk a worse plan."""
    env = BuildEnv(Catalog(), Settings())
    dated = {ts.relation: ts.dated_by for layer in LAYERS for ts in suites_for(layer, env) if ts.dated_by}
    assert dated == {"staging.stg_mixpanel__events": "cursor_at"}


def test_cli_all_rows_flag(monkeypatch):
    calls = []

    class _Outcome:
        def summary(self):
            return "ok"

    def fake_validate(layer, url, build_docs=True, all_rows=None):
        calls.append((layer, all_rows))
        return _Outcome()

    import expectations.runner

    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://nowhere/none")
    monkeypatch.setattr(expectations.runner, "validate_layer", fake_validate)
    monkeypatch.setattr(expectations.runner, "raise_on_failure", lambda outcome: None)
    assert cli.main(["validate", "--layer", "staging", "--all-rows"]) == 0
    assert cli.main(["validate", "--layer", "staging"]) == 0
    assert calls == [("staging", True), ("staging", None)]


def test_rows_without_a_date_are_always_checked(warehouse):
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    mark, _ = _mark(warehouse)
    pk, _ = _break_event(warehouse, f"_cursor < '{mark - timedelta(days=late_arrival_days() + 1)}'")
    with psycopg.connect(warehouse) as conn:
        conn.execute("update raw.mixpanel__events set _cursor = null where _pk = %s", (pk,))
    outcome = validate_layer("staging", warehouse, build_docs=False)
    assert _scopes(warehouse, outcome.run_id, "staging.stg_mixpanel__events")[0]["rows"] == "incremental"
    message = _failure_message(outcome)
    assert "stg_mixpanel__events: expect_event_complete" in message and pk.lower() in message.lower()


def test_missing_dating_column_fails_the_catalog_check_not_the_run(warehouse):
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    execute(warehouse, "alter view staging.stg_mixpanel__events rename column cursor_at to cursor_time")
    outcome = validate_layer("staging", warehouse, build_docs=False)
    message = _failure_message(outcome)
    assert "expect_tables_and_key_columns_present" in message and "cursor_at" in message
    assert _scopes(warehouse, outcome.run_id, "staging.stg_mixpanel__events") == [
        {"rows": "all", "column": "cursor_at", "reason": "dating column missing"}
    ]
