"""Mixpanel streams: raw event export in day windows, and user profiles through Engage.

The export answers JSONL for inclusive UTC days ``from_date``..``to_date``. Events are
immutable and keyed by ``$insert_id``: they are appended and de-duplicated, so re-reading
days is harmless. Each run re-reads ``late_arrival_days`` before the newest day seen (events
can arrive late) and commits after every window. Mixpanel allows 60 export queries an hour,
so a backfill reads several days per query (``window_days``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import msgspec

from connectors.paginators import PagingError
from connectors.stream import Checkpoint, Page, Record, Stream


class MixpanelStream(Stream):
    source = "mixpanel"

    def project_params(self) -> dict:
        pid = self.settings.get("project_id")
        return {"project_id": pid} if pid else {}


class Events(MixpanelStream):
    """``GET /api/2.0/export``: one JSON event per line."""

    name = "events"
    primary_key = "$insert_id"
    cursor_field = "time"
    write_mode = "append_dedupe"
    # Export lines per page, each one COPY: fewer, longer COPYs keep the server busy while the
    # client parses. On 432,862 events the loader reached 0.71 of `psql \copy` with pages of
    # 5,000 and 0.84-0.87 with 50,000 (whose lines take ~20 MB while the page is loaded).
    LINES_PER_PAGE: ClassVar[int] = 50_000
    _newest_time_seen: float = 0.0

    def to_record(self, item: Any, page: Page) -> Record:
        """``item`` is one export line (bytes). Only the key and time are decoded into Python
        objects; the line itself is loaded as is."""
        try:
            ev = _DECODER.decode(item)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
            # msgspec names the position and the field, never the values; the line itself is
            # record content (e-mails): it goes to raw._rejected_records, not into the error.
            raise ValueError(f"not a valid export line ({exc})") from None
        pk = ev.properties.insert_id
        if not pk:
            raise ValueError("event has no $insert_id")
        t = ev.properties.time
        if t > self._newest_time_seen:
            self._newest_time_seen = t
        if type(t) is int and 0 <= t < _MAX_SECONDS:
            return EventRecord.of(pk, t, item.decode("utf-8"))
        return Record(pk, datetime.fromtimestamp(t, tz=UTC), {}, raw=item.decode("utf-8"))

    def _newest_day_seen(self) -> str | None:
        if not self._newest_time_seen:
            return None
        return datetime.fromtimestamp(self._newest_time_seen, tz=UTC).date().isoformat()

    def _windows(self, state: dict, full_refresh: bool) -> Iterator[tuple[date, date]]:
        today = datetime.now(tz=UTC).date()
        end = date.fromisoformat(self.settings["end_date"]) if self.settings.get("end_date") else today
        newest = None if full_refresh else state.get("newest_day")
        if newest:
            start = date.fromisoformat(newest) - timedelta(days=int(self.settings.get("late_arrival_days", 2)))
        elif self.settings.get("start_date"):
            start = date.fromisoformat(self.settings["start_date"])
        else:
            start = end - timedelta(days=int(self.settings.get("history_days", 730)))
        step = max(1, int(self.settings.get("window_days", 31)))
        while start <= end:
            stop = min(end, start + timedelta(days=step - 1))
            yield start, stop
            start = stop + timedelta(days=1)

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        newest = None if full_refresh else state.get("newest_day")
        for start, stop in self._windows(state, full_refresh):
            params = {"from_date": start.isoformat(), "to_date": stop.isoformat(), **self.project_params()}
            resp = self.client.get("/api/2.0/export", params=params, stream=True, headers={"Accept-Encoding": "gzip"})
            window = f"export {start}..{stop}"
            batch: list[Any] = []
            line_no = 0
            try:
                for raw in resp.iter_lines():
                    line_no += 1
                    if not raw:
                        continue
                    self.client.counters.bytes += len(raw) + 1
                    batch.append(raw)
                    if len(batch) >= self.LINES_PER_PAGE:
                        yield Page(batch, f"{window} up to line {line_no}")
                        batch = []
            finally:
                resp.close()
            if batch:
                yield Page(batch, f"{window} up to line {line_no}")
            # The newest day that had events: later days may still be empty because they have not
            # happened yet (or the source's clock is behind ours), so never claim them complete.
            seen = self._newest_day_seen()
            if seen and (newest is None or seen > newest):
                newest = seen
            yield Checkpoint({"newest_day": newest})


_DAY = 86400
_MAX_SECONDS = (date.max.toordinal() + 1 - date(1970, 1, 1).toordinal()) * _DAY  # through 9999-12-31
_EPOCH_DAY = date(1970, 1, 1).toordinal()


class EventRecord(Record):
    """An export event whose time is whole epoch seconds (nearly all of them).

    The hot path of the largest stream builds millions of these: the record is made without the
    dataclass ``__init__``, and ``cursor`` (a UTC ``datetime``, as for any ``Record``) is only
    built when asked for. The loader reads ``cursor_text`` instead: the same instant formatted
    for COPY straight from the seconds, from per-day and per-second tables."""

    seconds: int
    cursor_text: str

    @classmethod
    def of(cls, pk: str, seconds: int, raw: str) -> EventRecord:
        day, second = divmod(seconds, _DAY)
        prefix = _DAY_PREFIX.get(day)
        if prefix is None:
            prefix = _DAY_PREFIX[day] = date.fromordinal(_EPOCH_DAY + day).isoformat() + " "
        rec = _new(cls)
        _set(
            rec,
            "__dict__",
            {
                "pk": pk,
                "seconds": seconds,
                "cursor_text": prefix + (_TIME_OF_DAY or _time_of_day())[second],
                "data": {},
                "deleted": False,
                "raw": raw,
            },
        )
        return rec

    @property
    def cursor(self) -> datetime:  # type: ignore[override]
        return datetime.fromtimestamp(self.seconds, tz=UTC)


_new = object.__new__
_set = object.__setattr__  # Record is frozen: its own __setattr__ refuses
_DAY_PREFIX: dict[int, str] = {}
_TIME_OF_DAY: list[str] = []


def _time_of_day() -> list[str]:
    """``HH:MM:SS+00`` for every second of a day (built once, on first use)."""
    if not _TIME_OF_DAY:
        _TIME_OF_DAY.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(_DAY))
    return _TIME_OF_DAY


# gc=False: decoded per line and dropped at once, they hold no cycles; untracked, they do not
# drive the garbage collector's passes over the page's records.
class _Properties(msgspec.Struct, gc=False):
    time: int | float
    insert_id: str | None = msgspec.field(name="$insert_id", default=None)


class _ExportLine(msgspec.Struct, gc=False):
    """The parts of an export line the loader needs; everything else stays in the raw text."""

    event: str
    properties: _Properties


# msgspec validates and extracts in one pass, several times faster than json.loads + dict
# lookups: this is the hot loop of the largest stream.
_DECODER = msgspec.json.Decoder(_ExportLine)


class Profiles(MixpanelStream):
    """``/api/2.0/engage``: user profiles, re-read in full each run (observation time is the cursor)."""

    name = "profiles"
    primary_key = "$distinct_id"
    cursor_field = None
    snapshot = True

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        self._observed = datetime.now(tz=UTC)
        page, session = 0, None
        while True:
            if page >= self.max_pages():  # Engage says "more" with every full page: cap the walk
                raise PagingError(f"engage page {page}: more than max_pages={self.max_pages()} pages in one read")
            params = {"page": page, **self.project_params()}
            if session:
                params["session_id"] = session
            # Engage lives on mixpanel.com, the export on data.mixpanel.com: an absolute URL
            # overrides the client's base.
            engage = self.settings.get("engage_base", "https://mixpanel.com").rstrip("/") + "/api/2.0/engage"
            body = self.client.request("POST", engage, data=params).json()
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise ValueError(f"engage page {page}: not an Engage response")
            results = body["results"]
            yield Page(results, f"engage page {page}")
            if len(results) < int(body.get("page_size") or 1000) or not results:
                break
            session, page = body.get("session_id"), page + 1
        yield Checkpoint({"last_full_read": self._observed.isoformat()})

    def to_record(self, item: Any, page: Page) -> Record:
        rec = super().to_record(item, page)
        return Record(rec.pk, self._observed, rec.data)
