"""The tasks reverse ETL created in HubSpot: one row per stable task key, never deleted.

``audit.crm_task_state`` is what makes task creation idempotent: a key in it is never created
again, whatever became of its task in HubSpot since (done, deleted, reassigned: the CSM's call).
Every attempt is also in ``audit.crm_sync_log`` (object type ``tasks``, object id the task key),
so a key logged without an answer, or with a failure whose effect is unknown, is looked up in
HubSpot before it is created again (``reverse_etl.crm_tasks``).
"""

from __future__ import annotations

import psycopg

DDL = """
create schema if not exists audit;
create table if not exists audit.crm_task_state (
    task_key         text primary key,
    hubspot_task_id  text not null,
    company_id       text not null,
    due_date         date not null,
    how              text not null,
    run_id           text not null,
    recorded_at      timestamptz not null default clock_timestamp()
);
"""

OBJECT_TYPE = "tasks"


def ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def known_keys(conn: psycopg.Connection) -> set[str]:
    return {k for (k,) in conn.execute("select task_key from audit.crm_task_state")}


def attempted_keys(conn: psycopg.Connection, keys: list[str]) -> set[str]:
    """Keys an earlier run logged as sent or failed: HubSpot may hold their task already."""
    if not keys:
        return set()
    rows = conn.execute(
        "select distinct object_id from audit.crm_sync_log "
        "where object_type = %s and object_id = any(%s) and status in ('sent', 'failed')",
        (OBJECT_TYPE, keys),
    )
    return {k for (k,) in rows}


def last_attempt_age(conn: psycopg.Connection, keys: list[str]) -> float | None:
    """Seconds since the newest logged attempt of any of ``keys`` (None: never attempted)."""
    return conn.execute(
        "select extract(epoch from clock_timestamp() - max(logged_at))::float from audit.crm_sync_log "
        "where object_type = %s and object_id = any(%s)",
        (OBJECT_TYPE, keys),
    ).fetchone()[0]


def remember(conn: psycopg.Connection, run_id: str, created: list[dict], how: str) -> None:
    """Record tasks HubSpot holds (``how``: created by this run, or found there); commits."""
    if not created:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.crm_task_state (task_key, hubspot_task_id, company_id, due_date, how, run_id)
            values (%(task_key)s, %(hubspot_task_id)s, %(company_id)s, %(due_date)s, %(how)s, %(run_id)s)
            on conflict (task_key) do nothing
            """,
            [{**c, "how": how, "run_id": run_id} for c in created],
        )
