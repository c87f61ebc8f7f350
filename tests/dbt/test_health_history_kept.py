"""fct_account_health_history keeps each day's health score as it was computed that day, for
var score_history_days, where fct_account_health_daily keeps only its 90-day window.

Builds the health chain for a day 120 days before the warehouse's as-of day, then for the as-of
day: the older days, long gone from the daily mart, survive unchanged. Drops the history table
first (--full-refresh leaves it alone) and rebuilds everything for the as-of day at the end."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg

from tests.dbt.conftest import dbt, query

HISTORY = "marts.fct_account_health_history"
DAYS_SQL = f"select count(distinct calendar_date), min(calendar_date), max(calendar_date) from {HISTORY}"
# The history model and the day-grain models under it (events stay as loaded, as in the backfill
# test of test_dbt_build.py).
CHAIN = ["--select", "+fct_account_health_history", "--exclude", "int_user_days_aggregated"]
SHARED = (
    "account_day_id, company_id, calendar_date, health_score, health_band, components_used, signal_coverage, "
    "usage_score, relationship_score, business_context_score, sentiment_score, top_drivers, "
    "score_change_7d, score_change_30d"
)


def as_of_vars(day, **extra) -> str:
    return json.dumps({"as_of_date": day.isoformat(), **extra})


def drop_history(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop table if exists {HISTORY}")


def fingerprint(url: str, since, until) -> tuple:
    return query(
        url,
        f"""select count(*), md5(string_agg(t::text, '|' order by t.company_id, t.calendar_date))
            from {HISTORY} as t where calendar_date between %s and %s""",
        (since, until),
    )[0]


def test_older_days_survive_a_run_100_days_later(built_warehouse, dbt_target):
    url = built_warehouse
    (base,) = query(url, "select max(calendar_date) from marts.fct_account_health_daily")[0]
    old = base - timedelta(days=120)
    old_window = (old - timedelta(days=89), old)
    try:
        drop_history(url)
        dbt(["run", *CHAIN, "--vars", as_of_vars(old)], url, dbt_target)
        days = query(url, DAYS_SQL)[0]
        assert days == (90, *old_window)
        scored_then = fingerprint(url, *old_window)
        assert scored_then[0] > 0

        # 120 days later: the daily mart has moved on, the history keeps the old days as scored.
        dbt(["run", *CHAIN, "--vars", as_of_vars(base)], url, dbt_target)
        (daily_min,) = query(url, "select min(calendar_date) from marts.fct_account_health_daily")[0]
        assert daily_min == base - timedelta(days=89) > old
        assert fingerprint(url, *old_window) == scored_then
        days = query(url, DAYS_SQL)[0]
        assert days == (180, old_window[0], base)
        by_run = dict(query(url, f"select scored_as_of_date, count(distinct calendar_date) from {HISTORY} group by 1"))
        assert by_run == {old: 90, base: 90}
        # The new days are the daily mart's.
        (differ,) = query(
            url,
            f"""select count(*) from (
                    (select {SHARED} from {HISTORY} where calendar_date > %(old)s
                     except select {SHARED} from marts.fct_account_health_daily)
                    union all
                    (select {SHARED} from marts.fct_account_health_daily
                     except select {SHARED} from {HISTORY} where calendar_date > %(old)s)
                ) as d""",
            {"old": old},
        )[0]
        assert differ == 0

        # A backfill to a day the history has passed rewrites nothing.
        kept = fingerprint(url, old_window[0], base)
        dbt(
            ["run", "--select", "fct_account_health_history", "--vars", as_of_vars(base - timedelta(days=30))],
            url,
            dbt_target,
        )
        assert fingerprint(url, old_window[0], base) == kept

        # The history is trimmed at score_history_days.
        dbt(
            ["run", "--select", "fct_account_health_history", "--vars", as_of_vars(base, score_history_days=150)],
            url,
            dbt_target,
        )
        days = query(url, f"select count(distinct calendar_date), min(calendar_date) from {HISTORY}")[0]
        assert days == (120, base - timedelta(days=149))
    finally:
        # Back to a history built for the as-of day alone (the daily models are back there).
        drop_history(url)
        dbt(["run", *CHAIN, "--vars", as_of_vars(base)], url, dbt_target)
