"""The events loader's fast path loads exactly what a plain row-by-row insert would.

``loader.append_new`` COPYs new keys straight into the table after probing a sample of the
page's keys, and falls back to a full probe and to the buffer when a key is already there;
``Events.to_record`` builds ``EventRecord``s whose cursor is formatted for COPY from the epoch
seconds. Here every path is compared, column by column, with a reference that inserts each
record with bound parameters and ``on conflict do nothing``: first load, a rerun, re-reads
that overlap part of a page, keys the sample misses, odd keys and JSON, and the deleted flag.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from benchmarks import loader as bench
from connectors import loader, nul, schema
from connectors.mixpanel.streams import EventRecord, Events
from connectors.stream import Page, Record

TABLE = "mixpanel__events"
T0 = 1_748_951_708  # 2025-06-03 11:55:08 UTC


def _line(i: int, **props) -> bytes:
    p = {"time": T0 + 7 * i, "distinct_id": f"user{i % 13}@example.com", "$insert_id": f"{i:032x}", **props}
    return json.dumps({"event": f"Event {i % 5}", "properties": p}, ensure_ascii=False).encode()


def _lines(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        extra: dict = {}
        if i % 17 == 3:  # backslashes, quotes, a tab and a newline inside strings
            extra["note"] = 'C:\\path\\to "x"\tand\nmore'
        if i % 23 == 5:
            extra["name"] = "Zoë 🚀 ünïcode"
        if i % 29 == 7:
            extra["nul"] = "a\u0000b"  # jsonb rejects \u0000: the loader drops it
        if i % 31 == 11:
            extra["time"] = T0 + 7 * i + 0.25  # fractional seconds: the plain Record path
        if i % 37 == 13:
            extra["$insert_id"] = f"odd key\t{i}\\x"  # needs COPY escaping
        out.append(_line(i, **extra))
    return out


def _reference_row(rec: Record) -> tuple:
    text = rec.raw if rec.raw is not None else json.dumps(rec.data, separators=(",", ":"), ensure_ascii=False)
    # jsonb cannot hold U+0000: dropped from the decoded strings (tests/connectors/test_nul_handling.py)
    return rec.pk, rec.cursor, nul.drop_nul(json.loads(text)), rec.deleted


def _load_reference(conn: psycopg.Connection, sync_id: str, records: list[Record]) -> int:
    inserted = 0
    with conn.cursor() as cur:
        for rec in records:
            pk, cursor, record, deleted = _reference_row(rec)
            cur.execute(
                "insert into raw.mixpanel__events (_pk, _cursor, record, _deleted, _sync_id) "
                "values (%s, %s, %s, %s, %s) on conflict (_pk) do nothing",
                (pk, cursor, Jsonb(record), deleted, sync_id),
            )
            inserted += cur.rowcount
    return inserted


def _table(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select _pk, _cursor, record, _deleted, _sync_id::text from raw.mixpanel__events order by _pk"
    ).fetchall()


def _load_ours(conn: psycopg.Connection, sync_id: str, records: list[Record], streamed: bool) -> int:
    if not streamed:
        return loader.append_new(conn, TABLE, sync_id, records)
    read, inserted = loader.append_streamed(conn, TABLE, sync_id, iter(records), lambda: iter(records))
    assert read == len(records)
    return inserted


def _run_both(
    url: str, runs: list[list[bytes]], page_lines: int, streamed: bool = False
) -> tuple[list[int], list[int], list, list]:
    """Load ``runs`` (each a list of export lines, one sync each) with the loader (``append_new``,
    or ``append_streamed``) and with the reference into two fresh copies of the table; returns
    inserted counts and both tables."""
    ours, ref = [], []
    tables = []
    for mode in ("ours", "reference"):
        with psycopg.connect(url) as conn:
            schema.ensure_meta_tables(conn)
            schema.ensure_stream_tables(conn, TABLE, "append_dedupe")
            conn.execute("truncate raw.mixpanel__events")
            conn.commit()
            stream = Events(client=None)  # type: ignore[arg-type]
            for n, lines in enumerate(runs):
                sync_id = str(uuid.UUID(int=n + 1))
                total = 0
                for s in range(0, len(lines), page_lines):
                    page = Page(lines[s : s + page_lines], "test")
                    records = [stream.to_record(item, page) for item in page.items]
                    if mode == "ours":
                        total += _load_ours(conn, sync_id, records, streamed)
                    else:
                        total += _load_reference(conn, sync_id, records)
                conn.commit()
                (ours if mode == "ours" else ref).append(total)
            tables.append(_table(conn))
    return ours, ref, tables[0], tables[1]


@pytest.mark.parametrize("streamed", [False, True], ids=["append_new", "append_streamed"])
@pytest.mark.parametrize("page_lines", [40, 5000])
def test_append_new_loads_what_a_row_by_row_insert_loads(fresh_warehouse_url, page_lines, streamed):
    lines = _lines(2000)
    # First run: 60 %. Second: a re-read starting mid-page (pages part loaded, part new) with
    # a repeated line in it. Third: everything again (nothing new).
    second = lines[1000:1337] + lines[1100:1101] + lines[1337:]
    runs = [lines[:1200], second, lines]
    ours, ref, got, want = _run_both(fresh_warehouse_url, runs, page_lines, streamed)
    assert ours == ref == [1200, 800, 0]
    assert len(got) == 2000
    assert got == want  # key, cursor, JSON, deleted flag and which sync loaded it
    # the odd content made it in as sent
    by_pk = {r[0]: r for r in got}
    assert by_pk[f"{3:032x}"][2]["properties"]["note"] == 'C:\\path\\to "x"\tand\nmore'
    assert by_pk[f"{7:032x}"][2]["properties"]["nul"] == "ab"
    assert by_pk[f"{11:032x}"][1] == datetime.fromtimestamp(T0 + 77.25, tz=UTC)
    assert by_pk["odd key\t13\\x"][1] == datetime.fromtimestamp(T0 + 91, tz=UTC)


@pytest.mark.parametrize("streamed", [False, True], ids=["append_new", "append_streamed"])
def test_a_loaded_key_the_sample_misses_falls_back_without_loss_or_duplicate(fresh_warehouse_url, streamed):
    lines = _lines(300)
    # Only keys that the sample (every len//16-th key and the last; append_streamed: the
    # first 16) does not look at are loaded first, so the second run's first COPY hits the
    # primary key and must fall back.
    misses = [line for i, line in enumerate(lines) if i % 18 == 5 and i > 16]
    ours, ref, got, want = _run_both(fresh_warehouse_url, [misses, lines], page_lines=300, streamed=streamed)
    assert ours == ref == [len(misses), 300 - len(misses)]
    assert got == want


def test_keys_with_newlines_and_deleted_records(fresh_warehouse_url):
    """Generic records (not export lines): keys holding newlines take the array probe, the
    deleted flag and a missing cursor are loaded as given."""
    with psycopg.connect(fresh_warehouse_url) as conn:
        schema.ensure_meta_tables(conn)
        schema.ensure_stream_tables(conn, TABLE, "append_dedupe")
        conn.commit()
        when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        recs = [
            Record("a\nb", when, {"k": "v\\w"}, deleted=True),
            Record("plain", None, {"k": 1}),
            Record("plain", when, {"k": 2}),  # a repeat within the page: the first one wins
            Record("tab\there", when, {"k": "\u0000x"}, raw='{"k":"\\u0000x"}'),
        ]
        sid = str(uuid.uuid4())
        assert loader.append_new(conn, TABLE, sid, recs) == 3
        assert loader.append_new(conn, TABLE, sid, recs) == 0
        conn.commit()
        got = {r[0]: r[1:4] for r in _table(conn)}
    assert got == {
        "a\nb": (when, {"k": "v\\w"}, True),
        "plain": (None, {"k": 1}, False),
        "tab\there": (when, {"k": "x"}, False),
    }


def test_copy_records_into_a_loads_table_keeps_the_batch_and_the_flags(fresh_warehouse_url):
    """The merge streams' path through the same COPY formatting."""
    with psycopg.connect(fresh_warehouse_url) as conn:
        schema.ensure_meta_tables(conn)
        schema.ensure_stream_tables(conn, "hubspot__things", "merge")
        when = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
        recs = [Record("1", when, {"a": "x\ty"}), Record("2\\", None, {"a": None}, deleted=True)]
        sid = str(uuid.uuid4())
        assert loader.copy_records(conn, loader.loads_table("hubspot__things"), sid, 7, recs) == 2
        got = conn.execute(
            sql.SQL("select _pk, _cursor, record, _deleted, _sync_id::text, _batch from {} order by _pk").format(
                loader.loads_table("hubspot__things")
            )
        ).fetchall()
    assert got == [("1", when, {"a": "x\ty"}, False, sid, 7), ("2\\", None, {"a": None}, True, sid, 7)]


def test_event_records_are_records_with_the_same_cursor():
    stream = Events(client=None)  # type: ignore[arg-type]
    page = Page([], "test")
    for t in (0, 86_399, 86_400, T0, 253_402_300_799):
        rec = stream.to_record(_line(0, time=t), page)
        assert isinstance(rec, EventRecord) and isinstance(rec, Record)
        assert rec.cursor == datetime.fromtimestamp(t, tz=UTC)
        assert datetime.fromisoformat(rec.cursor_text + ":00") == rec.cursor
        assert rec == EventRecord.of(rec.pk, t, rec.raw)
        assert (rec.pk, rec.data, rec.deleted, rec.raw) == (f"{0:032x}", {}, False, _line(0, time=t).decode())
    rec = stream.to_record(_line(0, time=T0 + 0.5), page)
    assert type(rec) is Record and rec.cursor == datetime.fromtimestamp(T0 + 0.5, tz=UTC)
    with pytest.raises(ValueError, match="insert_id"):
        stream.to_record(_line(0, **{"$insert_id": ""}), page)
    with pytest.raises(ValueError, match="not a valid export line"):
        stream.to_record(b'{"event": "x"', page)


def test_the_benchmark_loads_like_the_sync(fresh_warehouse_url, tmp_path):
    """``bench.load_ours`` (what the loader ratio measures) loads what the reference loads."""
    lines = _lines(700)
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_bytes(b"".join(line + b"\n" for line in lines + lines[:50]))
    bench._reset(fresh_warehouse_url)
    bench.load_ours(fresh_warehouse_url, jsonl, page_lines=64)
    with psycopg.connect(fresh_warehouse_url) as conn:
        got = sorted(r[:4] for r in _table(conn))
    stream = Events(client=None)  # type: ignore[arg-type]
    want = sorted(_reference_row(stream.to_record(line, Page([], "t"))) for line in lines)
    assert len(got) == 700
    assert got == want
