"""Fault injection: make the mock APIs misbehave the way real ones do, on demand.

A fault is a rule `{"kind": ..., "vendor": "stripe"|"hubspot"|"mixpanel"|"*", "path": regex,
"method": optional, "count": optional, ...}` matched against each vendor request (path
without the vendor prefix, e.g. `/v1/customers`). `count` limits how many requests it hits.

kinds:
- `rate_limit` (`max_per_second`): 429 past the rate, with the vendor's body and headers
  (`Retry-After`; HubSpot's RATE_LIMIT body and `X-HubSpot-RateLimit-*`; Stripe `rate_limit`).
- `error_burst` (`count`, `status` = 500): the next `count` requests fail with a 5xx.
- `delay` (`seconds`): sleep before answering.
- `truncate`: the body is cut in half (Content-Length promises more; streams end without
  their final chunk) and the connection closes.
- `malformed`: the JSON body is made unparseable.
- `concurrent_update`: while a client pages a HubSpot search (a request with `after` > 0,
  or a keyset request whose filters start past the beginning), the first record the query
  matches is modified, so with a sort on the modified date it shows up again on a later page
  (and a client paging by offset skips the record that moved into its place).
- `opaque_cursor`: HubSpot's `paging.next.after` becomes an opaque token (base64, as real
  HubSpot's are) and is decoded again when a client sends it back.
- `schema_drift` (`add_field`: {name: value}, `null_field`: name): every returned record
  gains a field and/or has a field turned null (`properties.x` reaches into HubSpot
  properties; Mixpanel lines are edited inside `properties`).

Rules come from `MockApiServer(faults=...)` / `set_faults()`, `POST /_control/faults`, or a
JSON/YAML file named by env `SIMULATOR_FAULTS_FILE` (read at start-up).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from simulator.server.app import AbortStream
from simulator.server.http import Request, Response

KINDS = (
    "rate_limit",
    "error_burst",
    "delay",
    "truncate",
    "malformed",
    "concurrent_update",
    "schema_drift",
    "opaque_cursor",
)


@dataclass
class Fault:
    """One configured fault rule (see module docstring)."""

    kind: str
    vendor: str = "*"
    path: str = ".*"
    method: str | None = None
    count: int | None = None
    status: int = 500
    seconds: float = 0.0
    max_per_second: float = 0.0
    add_field: dict = field(default_factory=dict)
    null_field: str | None = None
    fired: int = 0
    _calls: deque = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")
        if self.kind == "error_burst" and self.count is None:
            self.count = 1
        self._rx = re.compile(self.path)

    @classmethod
    def from_dict(cls, d: dict) -> Fault:
        allowed = {
            "kind",
            "vendor",
            "path",
            "method",
            "count",
            "status",
            "seconds",
            "max_per_second",
            "add_field",
            "null_field",
        }
        unknown = set(d) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**d)

    def matches(self, req: Request) -> bool:
        if self.vendor not in ("*", req.vendor):
            return False
        if self.method and self.method.upper() != req.method:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        return bool(self._rx.search(req.path))

    def describe(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["remaining"] = None if self.count is None else max(0, self.count - self.fired)
        return d


def load_faults_file(path: str | Path) -> list[Fault]:
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return parse_faults(data)


def parse_faults(data: object) -> list[Fault]:
    if isinstance(data, dict):
        data = data.get("faults", [data] if "kind" in data else [])
    if not isinstance(data, list):
        raise ValueError('faults must be a list of rules or {"faults": [...]}')
    return [f if isinstance(f, Fault) else Fault.from_dict(f) for f in data]


class FaultInjector:
    """Holds the active rules and applies them around a vendor request."""

    def __init__(self, faults: list[Fault] | None = None):
        self.lock = threading.Lock()
        self.faults: list[Fault] = list(faults or [])
        env = os.environ.get("SIMULATOR_FAULTS_FILE")
        if env and not faults:
            self.faults = load_faults_file(env)

    def set(self, faults: list[Fault]) -> None:
        with self.lock:
            self.faults = list(faults)

    def clear(self) -> None:
        self.set([])

    def describe(self) -> list[dict]:
        with self.lock:
            return [f.describe() for f in self.faults]

    def _take(self, req: Request) -> list[Fault]:
        """Rules hitting this request; counted faults are consumed here (thread-safe)."""
        hits = []
        with self.lock:
            for f in self.faults:
                if not f.matches(req):
                    continue
                if f.kind == "rate_limit":
                    now = time.monotonic()
                    while f._calls and now - f._calls[0] >= 1:
                        f._calls.popleft()
                    if len(f._calls) < f.max_per_second:
                        f._calls.append(now)
                        continue  # under the rate: no fault
                if f.kind == "concurrent_update" and not _is_later_page(req):
                    continue
                f.fired += 1
                hits.append(f)
        return hits

    def apply(self, req: Request, call) -> Response:
        hits = self._take(req)
        for f in hits:
            if f.kind == "rate_limit":
                return rate_limited(req.vendor)
            if f.kind == "error_burst":
                return server_error(req.vendor, f.status)
        for f in hits:
            if f.kind == "delay":
                time.sleep(f.seconds)
            if f.kind == "concurrent_update":
                req.touch_first_page = True  # type: ignore[attr-defined]
            if f.kind == "opaque_cursor":
                _decode_after(req)
        resp = call(req)
        for f in hits:
            if f.kind == "schema_drift":
                resp = drift(resp, f.add_field, f.null_field)
            elif f.kind == "malformed":
                resp = malformed(resp)
            elif f.kind == "truncate":
                resp = truncated(resp)
            elif f.kind == "opaque_cursor":
                resp = _encode_after(resp)
        return resp


def _is_later_page(req: Request) -> bool:
    """A search page past the first: an ``after`` offset, or a keyset position in the filters
    (a ``GT``/``GTE``/``EQ`` on a positive value, as a client resuming from the last record sends)."""
    if req.vendor != "hubspot" or not req.path.endswith("/search"):
        return False
    try:
        body = req.json() or {}
        if str(body.get("after") or "0") != "0":
            return True
        filters = [f for g in body.get("filterGroups") or [] for f in g.get("filters") or []]
        return any(f.get("operator") in ("GT", "GTE", "EQ") and _positive(f.get("value")) for f in filters)
    except (ValueError, AttributeError, TypeError):
        return False


def _positive(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return True  # an ISO date: a position in time


def _opaque(token: str) -> str:
    return base64.urlsafe_b64encode(f"after:{token}".encode()).decode().rstrip("=")


def _decode_after(req: Request) -> None:
    """Turn an opaque ``after`` (query or search body) back into the offset the handlers read."""

    def plain(token: object) -> object:
        s = str(token)
        try:
            raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return token
        return raw.removeprefix("after:") if raw.startswith("after:") else token

    if req.query.get("after"):
        req.query["after"] = [str(plain(t)) for t in req.query["after"]]
    if req.method == "POST" and req.body:
        try:
            body = req.json()
        except ValueError:
            return
        if isinstance(body, dict) and body.get("after") not in (None, "", "0", 0):
            req.body = json.dumps({**body, "after": plain(body["after"])}).encode()


def _encode_after(resp: Response) -> Response:
    """``paging.next.after`` becomes an opaque token, as HubSpot's are (``NTI1Cg%3D%3D``)."""
    if resp.streaming or resp.status >= 400:
        return resp
    try:
        payload = json.loads(bytes(resp.body))  # type: ignore[arg-type]
        nxt = payload["paging"]["next"]
    except (ValueError, KeyError, TypeError):
        return resp
    nxt["after"] = _opaque(str(nxt["after"]))
    nxt["link"] = f"?after={nxt['after']}"
    headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
    return Response.json(resp.status, payload, headers)


# -- vendor-shaped failures ----------------------------------------------------------------
def rate_limited(vendor: str) -> Response:
    if vendor == "stripe":
        body = {
            "error": {
                "message": "Too many requests hit the API too quickly. We recommend an exponential "
                "backoff of your requests.",
                "type": "invalid_request_error",
                "code": "rate_limit",
            }
        }
        return Response.json(429, body, {"Retry-After": "1", "Stripe-Should-Retry": "true"})
    if vendor == "hubspot":
        from simulator.server.hubspot import rate_limit_response

        headers = {
            "Retry-After": "1",
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": "1000000",
            "X-HubSpot-RateLimit-Daily-Remaining": "999000",
        }
        return rate_limit_response("SECONDLY", 0, headers)
    return Response.json(429, {"error": "Query rate limit exceeded", "status": "error"}, {"Retry-After": "1"})


def server_error(vendor: str, status: int) -> Response:
    if vendor == "stripe":
        body: object = {"error": {"message": "An unknown error occurred", "type": "api_error"}}
        return Response.json(status, body, {"Stripe-Should-Retry": "true"})
    if vendor == "hubspot":
        body = {
            "status": "error",
            "message": "internal error",
            "correlationId": str(uuid.uuid4()),
            "category": "INTERNAL_ERROR",
        }
        return Response.json(status, body)
    return Response.json(status, {"error": "Internal server error", "status": "error"})


def malformed(resp: Response) -> Response:
    if resp.streaming:

        def bad() -> Iterator[bytes]:
            for i, c in enumerate(resp.chunks()):
                yield c if i else b'{"event":"broken", "properties": {' + c

        return Response(resp.status, bad(), resp.headers)
    body = bytes(resp.body)  # type: ignore[arg-type]
    return Response(resp.status, body[: max(1, len(body) // 2)] + b"<!-- upstream error -->", resp.headers)


def truncated(resp: Response) -> Response:
    if resp.streaming:

        def cut() -> Iterator[bytes]:
            for c in resp.chunks():
                yield c[: max(1, len(c) // 2)]
                raise AbortStream

        return Response(resp.status, cut(), resp.headers)
    body = bytes(resp.body)  # type: ignore[arg-type]
    headers = {**resp.headers, "X-Simulator-Declared-Length": str(len(body))}
    return Response(resp.status, body[: len(body) // 2], headers)


def _edit(record: dict, add: dict, null: str | None) -> None:
    target = record
    for k, v in add.items():
        *parents, leaf = k.split(".")
        t = target
        for p in parents:
            t = t.setdefault(p, {})
        t[leaf] = v
    if null:
        *parents, leaf = null.split(".")
        t = target
        for p in parents:
            t = t.get(p) or {}
        if leaf in t:
            t[leaf] = None


def drift(resp: Response, add: dict, null: str | None) -> Response:
    if resp.status >= 400:
        return resp
    if resp.streaming:
        return Response(resp.status, _drift_lines(resp, add, null), resp.headers)
    try:
        payload = json.loads(bytes(resp.body))  # type: ignore[arg-type]
    except ValueError:
        return resp
    records = payload.get("data") or payload.get("results") if isinstance(payload, dict) else None
    for rec in records if isinstance(records, list) else [payload]:
        if isinstance(rec, dict):
            _edit(rec, add, null)
    headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
    return Response.json(resp.status, payload, headers)


def _drift_lines(resp: Response, add: dict, null: str | None) -> Iterator[bytes]:
    """Edit each JSONL event of a (possibly gzip) stream, re-compressing when needed."""
    gz = resp.headers.get("Content-Encoding") == "gzip"
    unz = zlib.decompressobj(31) if gz else None
    z = zlib.compressobj(6, zlib.DEFLATED, 31) if gz else None
    pending = b""
    for chunk in resp.chunks():
        data = pending + (unz.decompress(chunk) if unz else chunk)
        *complete, pending = data.split(b"\n")
        out = []
        for line in complete:
            if line:
                ev = json.loads(line)
                _edit(ev["properties"], add, null)
                out.append(json.dumps(ev, separators=(",", ":")))
        payload = ("\n".join(out) + "\n").encode() if out else b""
        if z:
            payload = z.compress(payload)
        if payload:
            yield payload
    if z:
        yield z.flush()
