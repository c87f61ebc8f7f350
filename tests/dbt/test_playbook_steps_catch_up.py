"""fct_playbook_steps_due catches up missed runs: a run lists every step that fell due since the
newest run in the table (var playbook_catch_up_max_days back at most), each with its due date,
so a day whose run never happened loses no step. Re-runs and backfills list nothing twice.

Runs only the playbook model for days up to the warehouse's as-of day (its inputs stay as
built), drops the table it builds first (that resets its state: a first run lists its own day
only) and rebuilds it for the as-of day at the end."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg

from tests.dbt.conftest import dbt, query

MODEL = "fct_playbook_steps_due"
TABLE = f"marts.{MODEL}"
COLUMNS = (
    "playbook_step_due_id, due_date, playbook, step_number, step_name, step_condition, day_offset, "
    "triggered_date, user_id, account_id, company_id, feature_key, is_high_value_account"
)
FINGERPRINT = f"select count(*), md5(string_agg(t::text, '|' order by t.playbook_step_due_id)) from {TABLE} as t"


def run_for(url, target, day, full_refresh=False, **extra_vars) -> None:
    args = ["run", "--select", MODEL, "--vars", json.dumps({"as_of_date": day.isoformat(), **extra_vars})]
    dbt([*args, "--full-refresh"] if full_refresh else args, url, target)


def due_on(url, day) -> set[tuple]:
    return set(query(url, f"select {COLUMNS} from {TABLE} where due_date = %s", (day,)))


def test_a_missed_days_steps_show_up_on_the_next_run(built_warehouse, dbt_target):
    url = built_warehouse
    (base,) = query(url, "select max(calendar_date) from marts.fct_account_health_daily")[0]
    try:
        # A run after ten missed days lists the steps due on each of them (bounded catch-up).
        run_for(url, dbt_target, base - timedelta(days=10), full_refresh=True)
        run_for(url, dbt_target, base, playbook_catch_up_max_days=10)
        per_day = dict(query(url, f"select due_date, count(*) from {TABLE} where as_of_date = %s group by 1", (base,)))
        assert set(per_day) <= {base - timedelta(days=n) for n in range(10)}
        assert len(per_day) > 1, per_day
        # The missed day of the scenario below: the busiest one with a day either side.
        candidates = {day: n for day, n in per_day.items() if base - timedelta(days=8) <= day <= base - timedelta(2)}
        missed = max(candidates, key=candidates.get)
        before, after = missed - timedelta(days=1), missed + timedelta(days=1)

        # What the daily run of the missed day would have listed.
        run_for(url, dbt_target, missed, full_refresh=True)
        listed_that_day = due_on(url, missed)
        assert listed_that_day

        # The day before runs, the missed day does not, the day after catches up.
        run_for(url, dbt_target, before, full_refresh=True)
        listed_before = set(query(url, f"select {COLUMNS}, as_of_date from {TABLE}"))
        run_for(url, dbt_target, after)
        assert due_on(url, missed) == listed_that_day
        as_of_by_due = dict(query(url, f"select due_date, max(as_of_date) from {TABLE} group by 1"))
        assert as_of_by_due[missed] == after
        (min_as_of,) = query(url, f"select min(as_of_date) from {TABLE} where due_date >= %s", (missed,))[0]
        assert min_as_of == after
        # The earlier run's rows are kept as they were (and the key forbids a second listing).
        assert listed_before <= set(query(url, f"select {COLUMNS}, as_of_date from {TABLE}"))

        # A re-run of the same day lists nothing new.
        caught_up = query(url, FINGERPRINT)[0]
        run_for(url, dbt_target, after)
        assert query(url, FINGERPRINT)[0] == caught_up

        # A backfill of the missed day lists nothing twice and does not move the catch-up back:
        # the next run lists only its own day.
        run_for(url, dbt_target, missed)
        assert query(url, FINGERPRINT)[0] == caught_up
        next_day = after + timedelta(days=1)
        run_for(url, dbt_target, next_day)
        new = query(url, f"select distinct due_date from {TABLE} where as_of_date = %s", (next_day,))
        assert {d for (d,) in new} <= {next_day}
    finally:
        run_for(url, dbt_target, base, full_refresh=True)


def test_the_table_is_created_with_its_contract(built_warehouse):
    with psycopg.connect(built_warehouse) as conn:
        (pk,) = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint where conrelid = %s::regclass and contype = 'p'",
            (TABLE,),
        ).fetchone()
    assert pk == "PRIMARY KEY (playbook_step_due_id)"
