"""Incremental state per stream, kept in ``raw._stream_state`` and written in the data's transaction."""

from __future__ import annotations

from psycopg import Connection
from psycopg.types.json import Jsonb


def load_state(conn: Connection, source: str, stream: str) -> dict:
    row = conn.execute(
        "select state from raw._stream_state where source = %s and stream = %s", (source, stream)
    ).fetchone()
    return dict(row[0]) if row else {}


def save_state(conn: Connection, source: str, stream: str, state: dict, sync_id: str) -> None:
    conn.execute(
        """
        insert into raw._stream_state (source, stream, state, sync_id) values (%s, %s, %s, %s)
        on conflict (source, stream) do update
            set state = excluded.state, sync_id = excluded.sync_id, updated_at = clock_timestamp()
        """,
        (source, stream, Jsonb(state), sync_id),
    )
