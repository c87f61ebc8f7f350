"""Paginators, one per API style. Each yields the list of records of one page at a time.

Every paginator stops with ``PagingError`` on a server that pages without end: a cursor that
repeats one it already followed, or more pages than ``max_pages`` (a stream setting) in one read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.http_client import HttpClient

# Pages one read may take: 5M HubSpot search records at 100 per page, 5M Stripe objects.
DEFAULT_MAX_PAGES = 50_000


class MalformedPageError(ValueError):
    """A page that does not have the vendor's documented shape."""


class PagingError(RuntimeError):
    """A server paging without end: a cursor that repeats or does not advance, or too many pages."""


def _show(cursor: Any) -> str:
    """A cursor for an error message: opaque tokens can be long."""
    s = repr(cursor)
    return s if len(s) <= 60 else s[:57] + "..."


def _check_page_cap(n: int, max_pages: int, where: str) -> None:
    """Stop a read at its ``max_pages``-th page plus one: a server paging without end."""
    if n > max_pages:
        raise PagingError(
            f"{where}: more than max_pages={max_pages} pages in one read; "
            "raise the max_pages setting if the source really has more"
        )


class _PageGuard:
    """Counts the pages of one read and refuses a repeated cursor or a page past ``max_pages``."""

    def __init__(self, path: str, cursor_name: str, max_pages: int) -> None:
        self.path, self.cursor_name, self.max_pages = path, cursor_name, int(max_pages)
        self.n = 0
        self.seen: set[str] = set()

    def where(self, cursor: Any) -> str:
        return f"{self.path} page {self.n} ({self.cursor_name}={cursor})"

    def next_page(self, cursor: Any) -> str:
        """Before requesting the next page with ``cursor``: count it, refuse a loop. Returns ``where``."""
        self.n += 1
        if cursor is not None:
            if str(cursor) in self.seen:
                raise PagingError(
                    f"{self.path} page {self.n}: the server repeated the cursor {self.cursor_name}={_show(cursor)} "
                    "of an earlier page; stopped instead of paging in a loop"
                )
            self.seen.add(str(cursor))
        _check_page_cap(self.n, self.max_pages, f"{self.path} page {self.n} ({self.cursor_name}={_show(cursor)})")
        return self.where(cursor)


class StripeCursorPaginator:
    """Stripe list endpoints: ``{"object":"list","has_more":…,"data":[…]}`` paged with ``starting_after``."""

    def __init__(self, page_size: int = 100, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError("Stripe's limit is 1..100")
        self.page_size, self.max_pages = page_size, max_pages

    def pages(
        self, client: HttpClient, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict], str | None]]:
        """Yield ``(records, starting_after)`` per page."""
        params = {**(params or {}), "limit": self.page_size}
        guard = _PageGuard(path, "starting_after", self.max_pages)
        while True:
            where = guard.next_page(params.get("starting_after"))
            body = _json_object(client.get(path, params=params), where)
            if body.get("object") != "list" or not isinstance(body.get("data"), list):
                raise MalformedPageError(f"not a Stripe list object at {where}")
            data = body["data"]
            yield data, params.get("starting_after")
            if not body.get("has_more") or not data:
                return
            last = data[-1]
            if not isinstance(last, dict) or not last.get("id"):
                raise MalformedPageError(f"last record of the page at {where} has no id")
            params["starting_after"] = last["id"]


class HubSpotAfterPaginator:
    """HubSpot list endpoints: ``{"results":[…],"paging":{"next":{"after":…}}}`` paged with ``after``.

    ``after`` is an opaque string token: followed as given, never parsed."""

    def __init__(self, page_size: int = 100, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self.page_size, self.max_pages = page_size, max_pages

    def pages(
        self, client: HttpClient, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict], str | None]]:
        """Yield ``(results, after)`` per page."""
        params = {**(params or {}), "limit": self.page_size}
        guard = _PageGuard(path, "after", self.max_pages)
        while True:
            where = guard.next_page(params.get("after"))
            body = _json_object(client.get(path, params=params), where)
            results = body.get("results")
            if not isinstance(results, list):
                raise MalformedPageError(f"no results list at {where}")
            yield results, params.get("after")
            nxt = ((body.get("paging") or {}).get("next") or {}).get("after")
            if nxt is None or nxt == "":
                return
            params["after"] = str(nxt)


def _json_object(resp, where: str) -> dict:
    try:
        body = resp.json()
    except ValueError as exc:
        raise MalformedPageError(f"body is not JSON at {where}") from exc
    if not isinstance(body, dict):
        raise MalformedPageError(f"body is not a JSON object at {where}")
    return body


class HubSpotSearchKeyset:
    """Read every object modified since a (timestamp, id) position through CRM search, by keyset.

    Every request is the first page of a query whose filter carries the position; none pages
    by offset (``after``). An offset walk sorted on the modified date skips a record for good
    when another one is edited while it pages: the edited record moves to the end and every
    record behind it moves up one place. Here an edited record only moves later in the walk
    and is read again there. Search sorts on one property and many records can share one
    modified timestamp (bulk updates), so the walk has two steps:

    - by date: ``modified >= ts`` sorted by modified. Every timestamp on the page before its
      last one is complete (nothing can sort between them), so the walk moves ``ts`` to the
      page's last timestamp and reads it again, skipping the ids it already has there;
    - by id: a page holding one timestamp only cannot move ``ts``: ``modified == ts and
      id > last_id`` sorted by id finishes that timestamp, then the walk goes on at
      ``modified > ts``.

    Each request moves the position strictly forward or the read stops (``PagingError``), as
    it does past ``max_pages`` requests. Search's 10,000-result cap never binds: no query is
    read past its first page. ``read`` yields ``("total", n)`` once (the records the window
    held when the read began, for the sync-run log), ``("page", results, where)`` and
    ``("position", ts_ms, last_id)``; a position is safe to commit once the pages before it
    are loaded, and means: every record modified before ``ts_ms`` is read, and those modified
    at ``ts_ms`` with an id up to ``last_id`` (-1: none of them).
    """

    def __init__(
        self,
        client: HttpClient,
        object_type: str,
        modified_prop: str,
        properties: list[str],
        page_size: int = 200,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        self.client, self.object_type, self.modified_prop = client, object_type, modified_prop
        self.properties, self.page_size, self.max_pages = properties, page_size, int(max_pages)
        self.path = f"/crm/v3/objects/{object_type}/search"
        self.n = 0

    def _search(self, groups: list[list[dict]], sort_prop: str, cursor: str, limit: int | None = None):
        """One first page of a query: ``(results, more, total, where)``."""
        self.n += 1
        where = f"{self.path} page {self.n} ({cursor})"
        _check_page_cap(self.n, self.max_pages, where)
        body = {
            "filterGroups": [{"filters": filters} for filters in groups],
            "sorts": [{"propertyName": sort_prop, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": limit or self.page_size,
            "after": "0",  # the spec types the token as a string; "0" is the first page
        }
        data = _json_object(self.client.request("POST", self.path, json=body), where)
        results = data.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise MalformedPageError(f"no results list at {where}")
        more = bool(((data.get("paging") or {}).get("next") or {}).get("after"))
        total = data.get("total")
        return results, more, total if isinstance(total, int) and not isinstance(total, bool) else None, where

    def _id(self, obj: dict, where: str) -> int:
        try:
            return int(obj["id"])
        except (KeyError, TypeError, ValueError):
            raise MalformedPageError(f"a result without a numeric id at {where}") from None

    def _modified(self, obj: dict, where: str) -> int:
        try:
            return self.modified_ms(obj)
        except (TypeError, ValueError) as exc:
            raise MalformedPageError(f"result {obj.get('id')} at {where}: {self.modified_prop}: {exc}") from None

    def _eq(self, ts_ms: int, last_id: int) -> list[dict]:
        return [
            {"propertyName": self.modified_prop, "operator": "EQ", "value": str(ts_ms)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
        ]

    def _by_id(self, ts_ms: int, last_id: int, have: set[int]) -> Iterator[tuple]:
        """Finish timestamp ``ts_ms`` in id order after ``last_id``; ``have``: its ids already read."""
        while True:
            cursor = f"{self.modified_prop} = {ts_ms}, hs_object_id > {last_id}"
            results, more, _, where = self._search([self._eq(ts_ms, last_id)], "hs_object_id", cursor)
            ids = [self._id(r, where) for r in results]
            if ids:
                if min(ids) <= last_id:
                    raise PagingError(f"{where}: the position did not advance (the page starts at id {min(ids)})")
                fresh = [r for r, i in zip(results, ids, strict=True) if i not in have]
                if fresh:
                    yield "page", fresh, where
                last_id = max(ids)
            yield "position", ts_ms, last_id
            if not ids or not more:
                return

    def read(self, ts_ms: int, last_id: int) -> Iterator[tuple]:
        mod = self.modified_prop
        counted = False
        if last_id >= 0:  # part of ts_ms is read: count the window, finish ts_ms, go on after it
            rest = [self._eq(ts_ms, last_id), [{"propertyName": mod, "operator": "GT", "value": str(ts_ms)}]]
            yield "total", self._search(rest, mod, f"count from {mod} = {ts_ms}, hs_object_id > {last_id}", 1)[2]
            counted = True
            yield from self._by_id(ts_ms, last_id, set())
        op = "GT" if last_id >= 0 else "GTE"
        have: set[int] = set()  # ids already read at ts_ms
        while True:
            sign = ">" if op == "GT" else ">="
            flt = [{"propertyName": mod, "operator": op, "value": str(ts_ms)}]
            results, more, total, where = self._search([flt], mod, f"{mod} {sign} {ts_ms}")
            if not counted:
                yield "total", total
                counted = True
            stamped = [(self._modified(r, where), self._id(r, where), r) for r in results]
            if not stamped:
                return
            first_ts, last_ts = min(m for m, _, _ in stamped), max(m for m, _, _ in stamped)
            if first_ts < ts_ms or (op == "GT" and first_ts == ts_ms):
                raise PagingError(f"{where}: the position did not advance (the page starts at {mod} {first_ts})")
            # Only a record still at ts_ms is a repeat: one edited since moved and is new again.
            fresh = [r for m, i, r in stamped if not (m == ts_ms and i in have)]
            if fresh:
                yield "page", fresh, where
            at_last = {i for m, i, _ in stamped if m == last_ts}
            if not more:
                yield "position", last_ts, max(at_last)
                return
            if first_ts == last_ts:  # one timestamp fills the page
                have = at_last | (have if last_ts == ts_ms else set())
                yield "position", last_ts, -1
                yield from self._by_id(last_ts, -1, have)
                ts_ms, op, have = last_ts, "GT", set()
            else:
                ts_ms, op, have = last_ts, "GTE", at_last
                yield "position", ts_ms, -1

    def modified_ms(self, obj: dict) -> int:
        return parse_hubspot_ms((obj.get("properties") or {}).get(self.modified_prop) or obj.get("updatedAt"))


def parse_hubspot_ms(value: Any) -> int:
    """HubSpot timestamps come as ISO 8601 strings or epoch milliseconds."""
    from datetime import datetime

    if value is None or value == "":
        raise ValueError("missing modified timestamp")
    s = str(value)
    if s.isdigit():
        return int(s)
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)
