"""COPY records into the warehouse and fold them into the current-state tables.

Merge streams COPY each batch into the append-only ``raw.<table>__loads`` and then upsert it
into ``raw.<table>`` (per key the latest cursor wins; a deletion is a soft-delete flag).
Append streams (immutable events) COPY only keys the table does not hold yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from queue import Queue

import psycopg
from psycopg import Connection, sql
from psycopg.copy import QueuedLibpqWriter

from connectors.nul import NUL, storable_text
from connectors.schema import RAW_SCHEMA
from connectors.stream import Record

_COLUMNS = "(_pk, _cursor, record, _deleted, _sync_id, _batch)"


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_NULL = "\\N"
# Writes (of up to 1,000 lines each) the COPY may queue ahead of the server. psycopg's default
# is 1,024: ~400 MB of events when the server is the slower side (peak RSS went from 55 to
# 355 MB in `make bench`); a few writes keep client and server overlapping.
_QUEUED_WRITES = 8


class _BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with a short queue, so memory stays flat."""

    def __init__(self, cursor) -> None:
        super().__init__(cursor)
        self._queue = Queue(maxsize=_QUEUED_WRITES)  # replaces psycopg's 1,024-slot queue


def copy_records(
    conn: Connection, target: sql.Composable, sync_id: str, batch: int | None, records: Iterable[Record]
) -> int:
    """Stream ``records`` into ``target`` with COPY (text format, formatted here: it is the hot
    path for millions of events, and psycopg's per-value adaptation costs more than this).
    ``batch=None`` targets a current-state table, which has no batch column.

    The rows go through psycopg's queued writer: a thread hands them to libpq while this one
    formats the next lines, so the client's formatting and the server's COPY overlap."""
    columns = _COLUMNS if batch is not None else "(_pk, _cursor, record, _deleted, _sync_id)"
    stmt = sql.SQL("copy {} " + columns + " from stdin").format(target)
    tail = f"\t{sync_id}\t{batch}\n" if batch is not None else f"\t{sync_id}\n"
    n = 0
    with conn.cursor() as cur, cur.copy(stmt, writer=_BoundedQueuedWriter(cur)) as copy:
        lines: list[str] = []
        append = lines.append
        for rec in records:
            pk, text = rec.pk, rec.raw
            # A record may carry its cursor already formatted for COPY (Mixpanel events do).
            cursor = getattr(rec, "cursor_text", None)
            if cursor is None:
                cursor = rec.cursor.isoformat() if rec.cursor is not None else _NULL
            if not pk.isalnum():  # ids are nearly always plain: skip the escaping
                if NUL in pk:  # the sync rejects these before; a COPY would fail on the whole batch
                    raise ValueError("a primary key holds U+0000 (NUL), which PostgreSQL cannot store")
                pk = pk.translate(_ESCAPES)
            if text is None:
                text = json.dumps(rec.data, separators=(",", ":"), ensure_ascii=False)
            if "\\" in text:
                # jsonb cannot hold U+0000: drop it from the decoded strings (connectors.nul), a
                # no-op for records the sync already cleaned.
                text = storable_text(text)
                # JSON text has no raw tabs or newlines: only backslashes need escaping for COPY.
                text = text.replace("\\", "\\\\")
            append(f"{pk}\t{cursor}\t{text}\t{'t' if rec.deleted else 'f'}{tail}")
            if len(lines) >= 1000:
                n += len(lines)
                copy.write("".join(lines))
                lines.clear()
        if lines:
            n += len(lines)
            copy.write("".join(lines))
    return n


def loads_table(table: str) -> sql.Composable:
    return sql.Identifier(RAW_SCHEMA, f"{table}__loads")


def merge_batch(conn: Connection, table: str, sync_id: str, batch: int) -> int:
    """Upsert one batch of this sync into ``raw.<table>``: per key the latest cursor wins."""
    stmt = sql.SQL(
        """
        insert into {current} as cur (_pk, _cursor, record, _loaded_at, _sync_id, _deleted)
        select distinct on (_pk) _pk, _cursor, record, _loaded_at, _sync_id, _deleted
        from {loads}
        where _sync_id = %(sync_id)s and _batch = %(batch)s
        order by _pk, _cursor desc nulls last, _loaded_at desc
        on conflict (_pk) do update
            set _cursor = excluded._cursor,
                record = excluded.record,
                _loaded_at = excluded._loaded_at,
                _sync_id = excluded._sync_id,
                _deleted = excluded._deleted
            where cur._cursor is null or excluded._cursor is null or excluded._cursor >= cur._cursor
        """
    ).format(current=sql.Identifier(RAW_SCHEMA, table), loads=loads_table(table))
    return conn.execute(stmt, {"sync_id": sync_id, "batch": batch}).rowcount


def append_new(conn: Connection, table: str, sync_id: str, records: list[Record]) -> int:
    """Insert the records whose key ``raw.<table>`` does not hold yet; returns rows inserted.

    New rows are COPYed straight into the table: one write instead of a buffer write plus an
    insert, and the primary key is the check. A fresh page (the bulk of any backfill) goes
    straight in after a cheap probe of a few of its keys; only when that probe finds a loaded
    key (a re-read window) are all the keys probed and the loaded ones left out. Should a key
    the probe missed be there already (a partly re-read page, or a manual load between probe
    and COPY), the savepoint undoes the COPY and the batch goes through the buffer and its
    conflict-free insert.
    """
    unique = _first_by_key(records)
    if not unique:
        return 0
    current = sql.Identifier(RAW_SCHEMA, table)
    keys = list(unique)
    sample = keys if len(keys) <= _SAMPLE_KEYS else keys[:: len(keys) // _SAMPLE_KEYS] + keys[-1:]
    existing = _existing(conn, current, sample)
    if not existing:
        try:
            with conn.transaction():  # a savepoint: a duplicate undoes only this COPY
                return copy_records(conn, current, sync_id, None, unique.values())
        except psycopg.errors.UniqueViolation:
            pass  # a key the probe missed is loaded: probe them all
    return _append_unloaded(conn, table, sync_id, unique, existing if existing and sample is keys else None)


def append_streamed(
    conn: Connection,
    table: str,
    sync_id: str,
    records: Iterable[Record],
    again: Callable[[], Iterable[Record]],
) -> tuple[int, int]:
    """``append_new`` for records still being parsed: returns (records read, rows inserted).

    The records are COPYed as they come, so the client's parsing of a page overlaps the
    server's loading of it, where ``append_new`` parses the whole page before its COPY starts
    (the server idles meanwhile: the events loader reached 0.68 of ``psql \\copy``). The
    first few records are probed before the COPY starts; a loaded one (a re-read window) sends
    the page to the probe of every key. Keys repeated within the page are
    skipped as they come. Records are not kept once COPYed (thousands of live objects per page
    cost a third of the client's CPU in garbage collection): should a key the probe missed be
    loaded already, the savepoint undoes the COPY and ``again()`` parses the page anew for the
    probed path, so nothing is lost.
    """
    source = iter(records)
    head: list[Record] = list(islice(source, _SAMPLE_KEYS))
    if not head:
        return 0, 0
    current = sql.Identifier(RAW_SCHEMA, table)
    if _existing(conn, current, [rec.pk for rec in head]):  # a re-read window: probe every key
        page = list(again())
        return len(page), _append_unloaded(conn, table, sync_id, _first_by_key(page))
    read = 0

    def unique() -> Iterator[Record]:
        nonlocal read
        seen: set[str] = set()
        add = seen.add
        for rec in chain(head, source):
            read += 1
            if rec.pk not in seen:
                add(rec.pk)
                yield rec

    try:
        with conn.transaction():  # a savepoint: a loaded key undoes only this COPY
            inserted = copy_records(conn, current, sync_id, None, unique())
        return read, inserted
    except psycopg.errors.UniqueViolation:
        pass
    return read, _append_unloaded(conn, table, sync_id, _first_by_key(again()))


def _first_by_key(records: Iterable[Record]) -> dict[str, Record]:
    """The records by key, the first of each key kept (a key repeated in a page loads once)."""
    first: dict[str, Record] = {}
    for rec in records:
        first.setdefault(rec.pk, rec)
    return first


def _append_unloaded(
    conn: Connection, table: str, sync_id: str, unique: dict[str, Record], existing: set[str] | None = None
) -> int:
    """Insert the records whose key the table does not hold, after probing every key (unless
    ``existing``, the loaded ones among all of them, is known already)."""
    current = sql.Identifier(RAW_SCHEMA, table)
    if existing is None:
        existing = _existing(conn, current, list(unique))
    new = [rec for pk, rec in unique.items() if pk not in existing]
    if not new:
        return 0
    try:
        with conn.transaction():
            return copy_records(conn, current, sync_id, None, new)
    except psycopg.errors.UniqueViolation:
        buf = open_append_buffer(conn, table)
        copy_records(conn, buf, sync_id, 0, new)
        return flush_append_buffer(conn, table)


# Keys of a page probed before its COPY: enough to notice a re-read window, cheap to look up.
_SAMPLE_KEYS = 16


def _existing(conn: Connection, current: sql.Composable, keys: list[str]) -> set[str]:
    """The ``keys`` that ``current`` holds."""
    text = "\n".join(keys)
    if text.count("\n") == len(keys) - 1:  # no key holds a newline: send one text, not an array
        probe = sql.SQL("select _pk from {} where _pk = any(string_to_array(%s, E'\\n'))").format(current)
        return {pk for (pk,) in conn.execute(probe, (text,))}
    probe = sql.SQL("select _pk from {} where _pk = any(%s)").format(current)
    return {pk for (pk,) in conn.execute(probe, (keys,))}


def open_append_buffer(conn: Connection, table: str) -> sql.Composable:
    """A session-temporary table shaped like the load rows, for append streams."""
    buf = sql.Identifier(f"_buf_{table}")
    conn.execute(
        sql.SQL(
            "create temporary table if not exists {} (_pk text, _cursor timestamptz, record jsonb, "
            "_deleted boolean, _sync_id uuid, _batch integer)"
        ).format(buf)
    )
    return buf


def flush_append_buffer(conn: Connection, table: str) -> int:
    """Insert the buffered rows whose key is new; returns rows inserted. Empties the buffer."""
    buf = sql.Identifier(f"_buf_{table}")
    stmt = sql.SQL(
        """
        insert into {current} (_pk, _cursor, record, _loaded_at, _sync_id, _deleted)
        select _pk, _cursor, record, clock_timestamp(), _sync_id, _deleted
        from {buf}
        on conflict (_pk) do nothing  -- also skips a key repeated within the buffer
        """
    ).format(current=sql.Identifier(RAW_SCHEMA, table), buf=buf)
    inserted = conn.execute(stmt).rowcount
    conn.execute(sql.SQL("truncate {}").format(buf))
    return inserted
