"""U+0000 (NUL) in source records: PostgreSQL's jsonb and text cannot hold it.

The loader drops the character from decoded strings (keys and values), never from the JSON
text, where ``\\u0000`` may be an escaped backslash followed by ``u0000``. A record that
dropping cannot make whole (a NUL in its primary key, two keys that become one) is malformed:
rejected to ``raw._rejected_records`` under ``reject_malformed``, else the stream stops with
one line. No error quotes a record's contents.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from connectors import loader, schema
from connectors.http_client import RequestCounters
from connectors.mixpanel.streams import Events
from connectors.stream import Checkpoint, Page, Record
from connectors.sync import StreamSyncError, sync_stream
from tests.connectors.conftest import rows

T0 = 1_748_951_708
EMAIL = "bob.secret@example.com"  # must never show up in an error

# JSON text -> the value PostgreSQL holds. Python literals: "\\" is one backslash, "\u0000" a NUL.
CASES = {
    # a backslash followed by the six characters u0000n: no NUL at all
    r'{"k":"\\u0000n"}': {"k": "\\u0000n"},
    # a backslash followed by u0000 at the end of a string
    r'{"k":"\\u0000"}': {"k": "\\u0000"},
    # a NUL: dropped
    r'{"k":"a\u0000b"}': {"k": "ab"},
    # a backslash, then a NUL
    r'{"k":"\\\u0000x"}': {"k": "\\x"},
    # NULs in keys and nested values
    r'{"a\u0000b":{"c":["\u0000",1.5,null,true]}}': {"ab": {"c": ["", 1.5, None, True]}},
}


@pytest.fixture
def events_table(fresh_warehouse_url):
    with psycopg.connect(fresh_warehouse_url) as conn:
        schema.ensure_meta_tables(conn)
        schema.ensure_stream_tables(conn, "mixpanel__events", "append_dedupe")
    return fresh_warehouse_url


def test_loader_drops_nul_from_decoded_values_never_from_the_text(events_table):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    recs = [Record(f"k{i}", when, {}, raw=text) for i, text in enumerate(CASES)]
    recs.append(Record("from-data", when, {"k": "\\u0000n", "n\u0000": "x\u0000"}))
    with psycopg.connect(events_table) as conn:
        assert loader.append_new(conn, "mixpanel__events", str(uuid.uuid4()), recs) == len(recs)
    got = dict(rows(events_table, "select _pk, record from raw.mixpanel__events"))
    assert got == {**{f"k{i}": want for i, want in enumerate(CASES.values())}, "from-data": {"k": "\\u0000n", "n": "x"}}


def _line(insert_id: str, i: int, **props) -> bytes:
    p = {"time": T0 + i, "distinct_id": EMAIL, "$insert_id": insert_id, **props}
    return json.dumps({"event": "Signed up", "properties": p}).encode()


class _Client:
    counters = RequestCounters()


class _Lines(Events):
    """Mixpanel events read from a fixed list of export lines, in pages of two."""

    def __init__(self, lines: list[bytes]) -> None:
        super().__init__(_Client())  # type: ignore[arg-type]
        self.lines = lines

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        for s in range(0, len(self.lines), 2):
            yield Page(self.lines[s : s + 2], f"test lines {s + 1}..{s + 2}")
        yield Checkpoint({"done": True})


# A backslash then u0000 and a quote (broke the COPY), and a NUL in a value (dropped).
GOOD = [_line("ok1", 1, note='\\u0000"'), _line("ok2", 2, note="a\u0000b")]
BAD = [
    _line("nul\u0000key", 3),  # PostgreSQL cannot store the key, and dropping the NUL could merge two events
    _line("ok3", 4, **{"a\u0000": 1, "a": 2}),  # two keys that become one
]


def test_bad_nul_records_are_rejected_and_the_rest_loads(events_table):
    res = sync_stream(events_table, _Lines(GOOD + BAD), reject_malformed=True)
    assert (res.records, res.rejected) == (2, 2)
    got = dict(rows(events_table, "select _pk, record->'properties'->>'note' from raw.mixpanel__events"))
    assert got == {"ok1": '\\u0000"', "ok2": "ab"}
    rejected = rows(events_table, "select location, reason, payload from raw._rejected_records order by location")
    assert [r[0] for r in rejected] == ["record #0 at test lines 3..4", "record #1 at test lines 3..4"]
    assert "primary key" in rejected[0][1] and "U+0000" in rejected[0][1]
    assert "U+0000" in rejected[1][1]
    assert all(EMAIL not in r[1] for r in rejected)
    assert all(EMAIL in r[2] for r in rejected), "the payload keeps the record for inspection"
    # a rerun loads nothing twice and fails on nothing
    res = sync_stream(events_table, _Lines(GOOD + BAD), reject_malformed=True)
    assert res.records == 2 and rows(events_table, "select count(*) from raw.mixpanel__events") == [(2,)]


@pytest.mark.parametrize("bad", BAD + [b'{"event":"x","properties":{"distinct_id":"' + EMAIL.encode() + b'"'])
def test_a_bad_record_stops_the_stream_with_one_line_that_quotes_nothing(events_table, bad):
    with pytest.raises(StreamSyncError) as err:
        sync_stream(events_table, _Lines([*GOOD, bad]))
    msg = str(err.value)
    assert "mixpanel.events" in msg and "record #0 at test lines 3..4" in msg
    assert "\n" not in msg and EMAIL not in msg and "nul\u0000key" not in msg and "nulkey" not in msg
    (error,) = rows(events_table, "select error from raw._sync_runs")[0]
    assert EMAIL not in error


def test_a_failed_copy_quotes_no_record_contents(events_table):
    # A number beyond PostgreSQL's numeric range is valid JSON that jsonb refuses: the COPY
    # fails, and PostgreSQL's message quotes the row (its CONTEXT); the stream's error must not.
    line = _line("s1", 1).replace(b'"s1"', b'"s1", "big": 1e200000')
    with pytest.raises(StreamSyncError) as err:
        sync_stream(events_table, _Lines([line]))
    msg = str(err.value)
    assert "mixpanel.events" in msg and "numeric" in msg
    assert "\n" not in msg and EMAIL not in msg
    (error,) = rows(events_table, "select error from raw._sync_runs")[0]
    assert EMAIL not in error


class _OnePage(_Lines):
    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        yield Page(self.lines, "test page")
        yield Checkpoint({"done": True})


def test_a_page_parsed_again_after_its_copy_failed_rejects_once(events_table):
    """A key past the probed head is loaded already: the COPY fails, the page is parsed again
    for the probed path, and its malformed line is rejected once, not twice."""
    good = [_line(f"k{i:02}", i) for i in range(20)]
    sync_stream(events_table, _OnePage([good[18]]))
    res = sync_stream(events_table, _OnePage([*good[:10], BAD[0], *good[10:]]), reject_malformed=True)
    assert (res.records, res.rejected) == (20, 1)
    assert rows(events_table, "select count(*) from raw.mixpanel__events") == [(20,)]
    assert rows(events_table, "select count(*) from raw._rejected_records") == [(1,)]
