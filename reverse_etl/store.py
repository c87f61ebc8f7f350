"""Reverse ETL's warehouse tables: runs, per-company sync state (fingerprints) and the sync log.

``audit.crm_sync_state`` holds, per company, the fingerprint and the properties of the last
values HubSpot *accepted*. Only accepted records advance it, so a record HubSpot rejected (or a
batch that never got an answer) differs again on the next run and is retried.
``audit.crm_sync_log`` keeps one row per company per run that was sent or rejected: the
properties sent and what HubSpot answered: a batch is logged ``sent`` before its request goes
out, and those rows are replaced by the outcomes once the answer is parsed, so a run that dies
in between still shows what it sent. ``audit.crm_sync_runs`` keeps one row per run, refused
ones included; a ``running`` row whose process died (kill -9) is marked ``abandoned`` by the
next run of its target, which can only start once that process's advisory lock is gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

import psycopg
from psycopg.types.json import Jsonb

DDL = """
create schema if not exists audit;
create table if not exists audit.crm_sync_runs (
    run_id       text primary key,
    target       text not null,
    started_at   timestamptz not null default clock_timestamp(),
    finished_at  timestamptz,
    status       text not null,
    dry_run      boolean not null,
    forced       boolean not null,
    mart_rows    integer,
    changed      integer,
    sent         integer,
    succeeded    integer,
    failed       integer,
    rejected     integer,
    requests     integer,
    retries      integer,
    detail       jsonb
);
-- The day a run was for (its as_of_date): backfill safety compares a new run's day with it.
alter table audit.crm_sync_runs add column if not exists as_of_date date;
create table if not exists audit.crm_sync_state (
    object_type  text not null,
    object_id    text not null,
    fingerprint  text not null,
    properties   jsonb not null,
    synced_at    timestamptz not null default clock_timestamp(),
    run_id       text not null,
    primary key (object_type, object_id)
);
create table if not exists audit.crm_sync_log (
    run_id       text not null,
    object_type  text not null,
    object_id    text not null,
    batch        integer,
    status       text not null,
    properties   jsonb not null,
    error        jsonb,
    logged_at    timestamptz not null default clock_timestamp()
);
create index if not exists crm_sync_log_object_idx on audit.crm_sync_log (object_type, object_id, logged_at);
create index if not exists crm_sync_log_run_idx on audit.crm_sync_log (run_id);
"""

# One sync per target at a time: two overlapping runs would both see the same diff and send it twice.
_LOCK_SQL = "select pg_try_advisory_lock(hashtext('postsale.reverse_etl.' || %s))"


class SyncAlreadyRunning(RuntimeError):
    """Another reverse ETL run for the same target holds the lock."""


def ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


@contextlib.contextmanager
def run_lock(url: str, target: str) -> Iterator[None]:
    """Hold a session-level advisory lock for the run; the lock dies with the connection."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute(_LOCK_SQL, (target,)).fetchone()[0]:
            raise SyncAlreadyRunning(f"reverse ETL for {target} is already running (advisory lock held)")
        yield


@contextlib.contextmanager
def run_session(
    url: str, run_id: str, target: str, dry_run: bool, forced: bool, as_of_date: date | None = None
) -> Iterator[psycopg.Connection]:
    """One run of ``target``: hold its lock, open the run's connection, sweep runs whose process
    died, and write the ``running`` row. A run the lock refuses still gets its (``refused``) row."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(run_lock(url, target))
        except SyncAlreadyRunning as exc:
            with psycopg.connect(url) as conn:
                ensure_tables(conn)
                record_refused(conn, run_id, target, dry_run, forced, str(exc))
            raise
        conn = stack.enter_context(psycopg.connect(url))
        ensure_tables(conn)
        sweep_abandoned(conn, target)
        start_run(conn, run_id, target, dry_run, forced, as_of_date)
        yield conn


def sweep_abandoned(conn: psycopg.Connection, target: str) -> int:
    """Mark the target's ``running`` rows abandoned; call it holding the target's lock.

    Only the lock holder writes a ``running`` row, and the lock dies with its process: once
    this process holds it, any other ``running`` row belongs to a process that is gone.
    """
    cur = conn.execute(
        """
        update audit.crm_sync_runs set status = 'abandoned', finished_at = clock_timestamp(),
            detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('error',
                'abandoned: the process ended before the run finished (records it logged sent are sent again)')
        where target = %s and status = 'running'
        """,
        (target,),
    )
    conn.commit()
    return cur.rowcount


def record_refused(conn: psycopg.Connection, run_id: str, target: str, dry_run: bool, forced: bool, error: str) -> None:
    """The row of a run refused before it started (another run holds the lock)."""
    conn.execute(
        """
        insert into audit.crm_sync_runs (run_id, target, status, dry_run, forced, finished_at, detail)
        values (%s, %s, 'refused', %s, %s, clock_timestamp(), %s)
        """,
        (run_id, target, dry_run, forced, Jsonb({"run_id": run_id, "error": error})),
    )
    conn.commit()


def load_state(conn: psycopg.Connection, object_type: str) -> dict[str, tuple[str, dict]]:
    """object id -> (fingerprint, properties) of the last accepted values."""
    rows = conn.execute(
        "select object_id, fingerprint, properties from audit.crm_sync_state where object_type = %s",
        (object_type,),
    ).fetchall()
    return {oid: (fp, props) for oid, fp, props in rows}


def start_run(
    conn: psycopg.Connection, run_id: str, target: str, dry_run: bool, forced: bool, as_of_date: date | None = None
) -> None:
    conn.execute(
        "insert into audit.crm_sync_runs (run_id, target, status, dry_run, forced, as_of_date) "
        "values (%s, %s, 'running', %s, %s, %s)",
        (run_id, target, dry_run, forced, as_of_date),
    )
    conn.commit()


def finish_run(conn: psycopg.Connection, run_id: str, status: str, counts: dict, detail: dict) -> None:
    conn.execute(
        """
        update audit.crm_sync_runs set finished_at = clock_timestamp(), status = %(status)s,
            mart_rows = %(mart_rows)s, changed = %(changed)s, sent = %(sent)s, succeeded = %(succeeded)s,
            failed = %(failed)s, rejected = %(rejected)s, requests = %(requests)s, retries = %(retries)s,
            detail = %(detail)s
        where run_id = %(run_id)s
        """,
        {
            "mart_rows": None,
            "changed": None,
            "sent": None,
            "succeeded": None,
            "failed": None,
            "rejected": None,
            "requests": None,
            "retries": None,
            **counts,
            "status": status,
            "detail": Jsonb(detail),
            "run_id": run_id,
        },
    )
    conn.commit()


def outcome_counts(conn: psycopg.Connection, run_id: str) -> tuple[int, int, int]:
    """(sent, failed, failed again): records of the run HubSpot answered for, those that failed, and
    those among them whose previous answer was a failure in a run that ended ``partial`` (a known
    bad record; a failure in a ``failed`` run, an outage, does not make a record known bad)."""
    return conn.execute(
        """
        select count(*), count(*) filter (where m.status = 'failed'),
               count(*) filter (where m.status = 'failed' and p.status = 'failed' and p.run_status = 'partial')
        from audit.crm_sync_log m
        left join lateral (
            select l.status, r.status as run_status
            from audit.crm_sync_log l join audit.crm_sync_runs r on r.run_id = l.run_id
            where l.object_type = m.object_type and l.object_id = m.object_id and l.run_id <> m.run_id
              and l.status in ('succeeded', 'failed')
            order by l.logged_at desc limit 1
        ) p on true
        where m.run_id = %s and m.status in ('succeeded', 'failed')
        """,
        (run_id,),
    ).fetchone()


def log_sent(conn: psycopg.Connection, run_id: str, object_type: str, batch: int, sent: list[tuple[str, dict]]) -> None:
    """Log a batch as ``sent`` (id, properties) before its request goes out; committed at once."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "insert into audit.crm_sync_log (run_id, object_type, object_id, batch, status, properties) "
            "values (%s, %s, %s, %s, 'sent', %s)",
            [(run_id, object_type, oid, batch, Jsonb(props)) for oid, props in sent],
        )


def record_outcomes(
    conn: psycopg.Connection,
    run_id: str,
    object_type: str,
    batch: int | None,
    outcomes: list[dict],
    advance_state: bool = True,
) -> None:
    """Log every outcome and advance the state of the accepted ones, in one transaction.

    An outcome is ``{"id", "status", "properties", "fingerprint", "error"}``; status is
    ``succeeded``, ``failed`` or ``rejected`` (refused locally, never sent). They replace the
    batch's ``sent`` rows.
    """
    with conn.transaction(), conn.cursor() as cur:
        if batch is not None:
            cur.execute(
                "delete from audit.crm_sync_log where run_id = %s and object_type = %s and batch = %s "
                "and status = 'sent'",
                (run_id, object_type, batch),
            )
        cur.executemany(
            """
            insert into audit.crm_sync_log (run_id, object_type, object_id, batch, status, properties, error)
            values (%s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    run_id,
                    object_type,
                    o["id"],
                    batch,
                    o["status"],
                    Jsonb(o["properties"]),
                    Jsonb(o["error"]) if o.get("error") is not None else None,
                )
                for o in outcomes
            ],
        )
        accepted = [o for o in outcomes if o["status"] == "succeeded"] if advance_state else []
        if accepted:
            cur.executemany(
                """
                insert into audit.crm_sync_state (object_type, object_id, fingerprint, properties, run_id)
                values (%s, %s, %s, %s, %s)
                on conflict (object_type, object_id) do update set
                    fingerprint = excluded.fingerprint, properties = excluded.properties,
                    synced_at = clock_timestamp(), run_id = excluded.run_id
                """,
                [(object_type, o["id"], o["fingerprint"], Jsonb(o["properties"]), run_id) for o in accepted],
            )
