"""``audit.alert_deliveries``: one row per business alert, so each is sent once across runs.

An alert is ``sent`` once the webhook accepted a message carrying it; ``superseded`` when an
alert of the same episode was sent already (``same_episode``); ``failed`` ones are tried again
by the next run (the mart lists events for ``alert_lookback_days``). Rows are written as
soon as each message's answer is known, so a run that dies part-way keeps what it sent.
"""

from __future__ import annotations

import psycopg

DDL = """
create schema if not exists audit;
create table if not exists audit.alert_deliveries (
    alert_id        text primary key,
    event_type      text not null,
    company_id      text not null,
    event_date      date not null,
    as_of_date      date not null,
    status          text not null,
    attempts        integer not null default 0,
    first_tried_at  timestamptz not null default clock_timestamp(),
    sent_at         timestamptz,
    run_id          text not null,
    last_error      text
);
"""


def ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def sent_ids(conn: psycopg.Connection) -> set[str]:
    """Alerts never to send again: delivered, or superseded by an earlier alert of the same episode."""
    return {
        a for (a,) in conn.execute("select alert_id from audit.alert_deliveries where status in ('sent', 'superseded')")
    }


def same_episode(conn: psycopg.Connection, alerts: list[dict], types: tuple[str, ...], days: int) -> set[str]:
    """Ids of ``alerts`` whose account had an alert of the same type sent within ``days`` days of it."""
    rows = [
        (a["alert_id"], a["event_type"], a["company_id"], a["event_date"]) for a in alerts if a["event_type"] in types
    ]
    if not rows:
        return set()
    found = conn.execute(
        """
        select distinct n.alert_id
        from unnest(%s::text[], %s::text[], %s::text[], %s::date[]) as n (alert_id, event_type, company_id, event_date)
        join audit.alert_deliveries d
            on d.event_type = n.event_type and d.company_id = n.company_id and d.status = 'sent'
            and abs(d.event_date - n.event_date) < %s
        """,
        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], days),
    )
    return {a for (a,) in found}


def supersede(conn: psycopg.Connection, run_id: str, alerts: list[dict]) -> None:
    """Record alerts of an episode already alerted, so they are neither sent nor considered again."""
    if alerts:
        record(conn, run_id, alerts, sent=False, attempts=0, error=None, status="superseded")


def record(
    conn: psycopg.Connection,
    run_id: str,
    alerts: list[dict],
    sent: bool,
    attempts: int,
    error: str | None,
    status: str | None = None,
) -> None:
    """The outcome of one message for the alerts it carried; commits."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.alert_deliveries
                (alert_id, event_type, company_id, event_date, as_of_date, status, attempts, sent_at, run_id,
                 last_error)
            values (%(alert_id)s, %(event_type)s, %(company_id)s, %(event_date)s, %(as_of_date)s, %(status)s,
                    %(attempts)s, case when %(sent)s then clock_timestamp() end, %(run_id)s, %(error)s)
            on conflict (alert_id) do update set
                status = excluded.status, attempts = audit.alert_deliveries.attempts + excluded.attempts,
                sent_at = excluded.sent_at, run_id = excluded.run_id, last_error = excluded.last_error
            """,
            [
                {
                    **{k: a[k] for k in ("alert_id", "event_type", "company_id", "event_date", "as_of_date")},
                    "status": status or ("sent" if sent else "failed"),
                    "attempts": attempts,
                    "sent": sent,
                    "run_id": run_id,
                    "error": error,
                }
                for a in alerts
            ],
        )
