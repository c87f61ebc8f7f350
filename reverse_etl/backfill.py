"""Backfill safety: a run for a day before the newest scored day sends nothing outward.

``airflow dags backfill`` (or a manual run for a past logical date) rebuilds the daily marts as
they stood that day, which is what a backfill is for; but pushing those past-day scores onto
live CRM records, creating that day's tasks or alerting on that day's events would rewrite
today with yesterday. Every outward step (company sync, tasks, alerts) asks ``skip_reason``
first and, when it answers, records the run as ``skipped_backfill`` and sends nothing.

The newest scored day is the later of the health mart's newest day (the daily marts keep every
day they were built for) and the newest day an earlier run sent to the CRM (in case the marts
were rebuilt from scratch for an earlier day since).
"""

from __future__ import annotations

from datetime import date

import psycopg

HEALTH_MART = "marts.fct_account_health_daily"


def newest_scored_date(conn: psycopg.Connection) -> date | None:
    """The newest day the warehouse scored or sent, or None on a warehouse that never did."""
    days = []
    if conn.execute("select to_regclass(%s) is not null", (HEALTH_MART,)).fetchone()[0]:
        days.append(conn.execute(f"select max(calendar_date) from {HEALTH_MART}").fetchone()[0])
    if conn.execute("select to_regclass('audit.crm_sync_runs') is not null").fetchone()[0]:
        days.append(
            conn.execute(
                "select max(as_of_date) from audit.crm_sync_runs where status in ('succeeded', 'partial')"
            ).fetchone()[0]
        )
    known = [d for d in days if d is not None]
    return max(known) if known else None


def skip_reason(conn: psycopg.Connection, as_of_date: date | None, what: str) -> str | None:
    """One line saying why ``what`` must not be sent for ``as_of_date``, or None when it may."""
    if as_of_date is None:
        return None
    newest = newest_scored_date(conn)
    if newest is None or as_of_date >= newest:
        return None
    return (
        f"backfill of {as_of_date} (the warehouse has scored up to {newest}): {what} not sent; "
        "a past day's marts are for the warehouse, the CRM and alerts keep the newest day's values"
    )
