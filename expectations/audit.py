"""The warehouse audit tables: every validation result, the marks of incremental validation, and
the profiles of accepted marts (``expectations/profiles.py``)."""

from __future__ import annotations

from datetime import date

from psycopg import Connection
from psycopg.types.json import Jsonb

DDL = """
create schema if not exists audit;
create table if not exists audit.validation_results (
    run_id            text not null,
    run_at            timestamptz not null default clock_timestamp(),
    layer             text not null,
    suite             text not null,
    table_name        text not null,
    expectation       text not null,
    column_name       text,
    severity          text not null,
    success           boolean not null,
    observed_value    jsonb,
    unexpected_count  bigint,
    sample_unexpected jsonb,
    kwargs            jsonb not null
);
create index if not exists validation_results_run_idx on audit.validation_results (run_id);
-- The pipeline run's day (its as_of_date), when the run has one: a backfill's results say which day.
alter table audit.validation_results add column if not exists as_of_date date;
-- Per dated suite: its dating column's maximum at the start of its last passing run
-- (expectations/incremental.py); the next run validates from mark - late_arrival_days.
create table if not exists audit.validation_marks (
    suite        text not null,
    column_name  text not null,
    table_name   text not null,
    mark         timestamptz not null,
    run_id       text not null,
    recorded_at  timestamptz not null default clock_timestamp(),
    primary key (suite, column_name)
);
-- Per profiled mart and passing run: its row count, mean score and band shares (expectations/profiles.py).
create table if not exists audit.mart_profiles (
    table_name   text not null,
    run_id       text not null,
    recorded_at  timestamptz not null default clock_timestamp(),
    profile      jsonb not null,
    primary key (table_name, run_id)
);
"""


def write_results(conn: Connection, rows: list[dict], as_of_date: date | None = None) -> None:
    conn.execute(DDL)
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.validation_results
                (run_id, layer, suite, table_name, expectation, column_name, severity, success,
                 observed_value, unexpected_count, sample_unexpected, kwargs, as_of_date)
            values (%(run_id)s, %(layer)s, %(suite)s, %(table_name)s, %(expectation)s, %(column_name)s,
                    %(severity)s, %(success)s, %(observed_value)s, %(unexpected_count)s,
                    %(sample_unexpected)s, %(kwargs)s, %(as_of_date)s)
            """,
            [
                {
                    **r,
                    "observed_value": Jsonb(r["observed_value"]),
                    "sample_unexpected": Jsonb(r["sample_unexpected"]),
                    "kwargs": Jsonb(r["kwargs"]),
                    "as_of_date": as_of_date,
                }
                for r in rows
            ],
        )
