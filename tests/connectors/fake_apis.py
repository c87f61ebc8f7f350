"""In-process fakes of the vendor endpoints the paginators read, for servers that misbehave in
ways the simulator does not: opaque or repeated tokens, endless paging, edits between pages."""

from __future__ import annotations

import base64
from collections.abc import Callable

from connectors.http_client import RequestCounters


class FakeResponse:
    def __init__(self, body: object) -> None:
        self.body = body

    def json(self) -> object:
        return self.body


class FakeClient:
    """Stands in for ``HttpClient``: ``answer(method, path, params, json)`` builds each body."""

    def __init__(self, answer: Callable[[str, str, dict, dict | None], object]) -> None:
        self.answer, self.calls, self.counters = answer, [], RequestCounters()

    def request(
        self, method: str, path: str, params: dict | None = None, json: dict | None = None, **_
    ) -> FakeResponse:
        self.counters.requests += 1
        self.calls.append((method, path, dict(params or {}), json))
        if len(self.calls) > 2_000:  # a test must end even when the code under test loops
            raise RuntimeError("the fake server gave up after 2,000 requests")
        return FakeResponse(self.answer(method, path, dict(params or {}), json))

    def get(self, path: str, params: dict | None = None, **kw) -> FakeResponse:
        return self.request("GET", path, params=params, **kw)


def opaque(offset: int) -> str:
    """A token shaped like HubSpot's (``NTI1Cg%3D%3D``): not a number."""
    return base64.b64encode(f"offset:{offset}".encode()).decode().replace("=", "%3D")


def offset_of(token: object) -> int:
    if token in (None, "", "0", 0):
        return 0
    if str(token).isdigit():
        return int(token)
    return int(base64.b64decode(str(token).replace("%3D", "=")).decode().split(":")[1])


class FakeSearch:
    """CRM search over ``records`` (id -> modified ms) with HubSpot's paging: offsets behind opaque
    tokens (plain numbers with ``numeric``), and ties on the sort property in an order of its own
    (descending id)."""

    def __init__(self, records: dict[int, int], modified_prop: str = "lastmodifieddate", numeric: bool = False) -> None:
        self.records, self.prop, self.numeric = dict(records), modified_prop, numeric
        self.before_answer: Callable[[int, dict], None] = lambda n, body: None
        self.requests = 0

    def obj(self, oid: int) -> dict:
        ms = self.records[oid]
        return {"id": str(oid), "properties": {"hs_object_id": str(oid), self.prop: str(ms)}}

    def _value(self, oid: int, prop: str) -> int:
        return oid if prop == "hs_object_id" else self.records[oid]

    def _match(self, oid: int, f: dict) -> bool:
        v, x = self._value(oid, f["propertyName"]), int(f["value"])
        return {"EQ": v == x, "GT": v > x, "GTE": v >= x, "LT": v < x, "LTE": v <= x}[f["operator"]]

    def __call__(self, method: str, path: str, params: dict, body: dict | None) -> dict:
        self.requests += 1
        self.before_answer(self.requests, body)
        groups = body.get("filterGroups") or [{"filters": []}]
        hits = [i for i in self.records if any(all(self._match(i, f) for f in g["filters"]) for g in groups)]
        prop = body["sorts"][0]["propertyName"]
        hits.sort(key=lambda i: (self._value(i, prop), -i))
        start, limit = offset_of(body.get("after")), int(body["limit"])
        out: dict = {"total": len(hits), "results": [self.obj(i) for i in hits[start : start + limit]]}
        if start + limit < len(hits):
            nxt = start + limit
            out["paging"] = {"next": {"after": str(nxt) if self.numeric else opaque(nxt)}}
        return out
