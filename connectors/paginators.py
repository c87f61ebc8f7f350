"""Paginators, one per API style. Each yields the list of records of one page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.http_client import HttpClient


class MalformedPageError(ValueError):
    """A page that does not have the vendor's documented shape."""


class StripeCursorPaginator:
    """Stripe list endpoints: ``{"object":"list","has_more":…,"data":[…]}`` paged with ``starting_after``."""

    def __init__(self, page_size: int = 100) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError("Stripe's limit is 1..100")
        self.page_size = page_size

    def pages(
        self, client: HttpClient, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict], str | None]]:
        """Yield ``(records, starting_after)`` per page."""
        params = {**(params or {}), "limit": self.page_size}
        while True:
            where = f"starting_after={params.get('starting_after')}"
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
    """HubSpot list endpoints: ``{"results":[…],"paging":{"next":{"after":…}}}`` paged with ``after``."""

    def __init__(self, page_size: int = 100) -> None:
        self.page_size = page_size

    def pages(
        self, client: HttpClient, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict], str | None]]:
        """Yield ``(results, after)`` per page."""
        params = {**(params or {}), "limit": self.page_size}
        while True:
            resp = client.get(path, params=params)
            body = _json_object(resp, f"after={params.get('after')}")
            results = body.get("results")
            if not isinstance(results, list):
                raise MalformedPageError(f"no results list after={params.get('after')}")
            yield results, params.get("after")
            nxt = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                return
            params["after"] = nxt


def _json_object(resp, where: str) -> dict:
    try:
        body = resp.json()
    except ValueError as exc:
        raise MalformedPageError(f"body is not JSON at {where}") from exc
    if not isinstance(body, dict):
        raise MalformedPageError(f"body is not a JSON object at {where}")
    return body


class HubSpotSearchKeyset:
    """Read every object modified after a (timestamp, id) position through CRM search.

    Search stops at 10,000 results per query and many records can share one modified
    timestamp (bulk updates), so offsets alone can neither reach everything nor resume. This
    walks keyset windows instead:

    A. ``modified == ts and id > last_id``, sorted by id: finishes timestamp ``ts``, restarting
       the query from the last id seen before it can reach the cap;
    B. ``modified > ts``, sorted by modified: reads ahead up to the cap. Every timestamp inside
       the window is then complete except perhaps the last one, which becomes the new ``ts``
       for step A (skipping the ids B already returned).

    Each query moves the position strictly forward: no gap, no duplicate, no endless loop.
    ``read`` yields ``("page", results, where)`` and ``("position", ts_ms, last_id)``; a
    position is safe to commit once the pages before it are loaded.
    """

    CAP = 10_000

    def __init__(
        self, client: HttpClient, object_type: str, modified_prop: str, properties: list[str], page_size: int = 200
    ) -> None:
        self.client, self.object_type, self.modified_prop = client, object_type, modified_prop
        self.properties, self.page_size = properties, page_size
        self.path = f"/crm/v3/objects/{object_type}/search"

    def _search(self, filters: list[dict], sort_prop: str, after: int) -> tuple[list[dict], int | None]:
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort_prop, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": self.page_size,
            "after": after,
        }
        where = f"{self.path} after={after}"
        data = _json_object(self.client.request("POST", self.path, json=body), where)
        results = data.get("results")
        if not isinstance(results, list):
            raise MalformedPageError(f"no results list at {where}")
        nxt = ((data.get("paging") or {}).get("next") or {}).get("after")
        return results, int(nxt) if nxt else None

    def _pages(self, filters: list[dict], sort_prop: str) -> Iterator[tuple[list[dict], int, bool]]:
        """Page one query; yields (results, after, capped) where capped marks the cap was reached."""
        after = 0
        while True:
            if after + self.page_size > self.CAP:
                yield [], after, True
                return
            results, nxt = self._search(filters, sort_prop, after)
            # HubSpot drops ``paging.next`` on the page that reaches the cap, exactly as on the
            # last page: only the position tells "capped" (more may match) from "done".
            capped = nxt is None and bool(results) and after + len(results) >= self.CAP
            yield results, after, capped
            if not results or nxt is None:
                return
            after = nxt

    def read(self, ts_ms: int, last_id: int) -> Iterator[tuple]:
        skip: set[int] = set()
        mod = self.modified_prop
        while True:
            while True:  # A: finish ts_ms
                capped = False
                eq = [
                    {"propertyName": mod, "operator": "EQ", "value": str(ts_ms)},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
                ]
                for results, after, hit_cap in self._pages(eq, "hs_object_id"):
                    capped = hit_cap
                    if results:
                        last_id = int(results[-1]["id"])
                        fresh = [r for r in results if int(r["id"]) not in skip]
                        if fresh:
                            yield "page", fresh, f"search {self.object_type} {mod}={ts_ms} after={after}"
                yield "position", ts_ms, last_id
                if not capped:
                    break
            window_max, at_max, capped = None, set(), False
            gt = [{"propertyName": mod, "operator": "GT", "value": str(ts_ms)}]
            for results, after, hit_cap in self._pages(gt, mod):  # B: read ahead
                capped = hit_cap
                if results:
                    yield "page", results, f"search {self.object_type} {mod}>{ts_ms} after={after}"
                for r in results:
                    m = self.modified_ms(r)
                    if window_max is None or m > window_max:
                        window_max, at_max = m, {int(r["id"])}
                    elif m == window_max:
                        at_max.add(int(r["id"]))
            if window_max is None:
                return
            if not capped:
                yield "position", window_max, max(at_max)
                return
            ts_ms, last_id, skip = window_max, -1, at_max
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
