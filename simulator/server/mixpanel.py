"""Mock Mixpanel APIs: raw event export (`/mixpanel/api/2.0/export`) and Engage profiles.

Export streams JSONL (one event per line, chunked), gzip-compressed when the client sends
`Accept-Encoding: gzip`. Events are regenerated from the stored usage profiles one account
at a time, so a month of a 10,000-account world streams in bounded memory; the stream is
ordered by account, then time (Mixpanel does not promise a global order either). Dates are
inclusive UTC days; days after the world's clock have no events yet. Rate limits follow
the spec: 3 queries/second and 60/hour (env-configurable), 429 past them.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs

from simulator.server.auth import check_mixpanel
from simulator.server.http import Request, Response
from simulator.server.state import WorldState
from simulator.world.usage import event_lines_for_day

ENGAGE_PAGE_SIZE = 1000
ENGAGE_SESSIONS_KEPT = 4


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json(status, {"error": message, "status": "error"}, headers)


class QueryLimiter:
    """Per-second and per-hour query limits of the export API."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: deque[float] = deque()

    def check(self) -> Response | None:
        per_s = int(os.environ.get("SIMULATOR_MIXPANEL_RPS", "3"))
        per_h = int(os.environ.get("SIMULATOR_MIXPANEL_HOURLY_LIMIT", "60"))
        now = time.monotonic()
        with self.lock:
            while self.calls and now - self.calls[0] >= 3600:
                self.calls.popleft()
            last_second = sum(1 for t in self.calls if now - t < 1)
            if per_s and last_second >= per_s:
                return _error(
                    429, f"Query rate limit exceeded: at most {per_s} queries per second", {"Retry-After": "1"}
                )
            if per_h and len(self.calls) >= per_h:
                retry = int(3600 - (now - self.calls[0])) + 1
                return _error(
                    429, f"Query rate limit exceeded: at most {per_h} queries per hour", {"Retry-After": str(retry)}
                )
            self.calls.append(now)
        return None


class MixpanelApi:
    """Route table and handlers for the Mixpanel mock."""

    def __init__(self, state: WorldState):
        self.state = state
        self.limiter = QueryLimiter()
        self._sessions: dict[str, _ProfilePlan] = {}

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        return [
            ("GET", r"/api/2.0/export", self.export),
            ("GET", r"/api/2.0/engage", self.engage),
            ("POST", r"/api/2.0/engage", self.engage),
        ]

    def handle(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        denied = check_mixpanel(req)
        if denied:
            return denied
        self.state.sync()
        return handler(req)

    # -- export ------------------------------------------------------------------------
    def export(self, req: Request) -> Response:
        limited = self.limiter.check()
        if limited:
            return limited
        try:
            start = _parse_date(req.arg("from_date"), "from_date")
            end = _parse_date(req.arg("to_date"), "to_date")
        except ValueError as e:
            return _error(400, str(e))
        if start > end:
            return _error(400, "'from_date' cannot be later than 'to_date'")
        names = None
        if req.arg("event"):
            try:
                names = set(json.loads(req.arg("event") or "[]"))
            except json.JSONDecodeError:
                return _error(400, "'event' must be a JSON array of event names")
        try:
            limit = int(req.arg("limit") or 0)
        except ValueError:
            return _error(400, "'limit' must be an integer")
        if limit < 0 or limit > 100_000:
            return _error(400, "'limit' must be between 1 and 100000")
        last_visible = self.state.clock
        end = min(end, last_visible)
        lines = self._lines(start, end, names, limit or None)
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if "gzip" in (req.header("accept-encoding") or "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(200, _gzip(lines), headers)
        return Response(200, lines, headers)

    def _lines(self, start: date, end: date, names: set[str] | None, limit: int | None) -> Iterator[bytes]:
        """JSONL chunks (~64 KiB) for all accounts and days start..end."""
        seed, conn, lock = self.state.seed, self.state.conn, self.state.lock
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)] if end >= start else []
        sent = 0
        buf: list[str] = []
        size = 0
        last_idx = -1
        while days:
            # Fetch profiles in small batches so the SQLite lock is never held while streaming.
            with lock:
                batch = conn.execute(
                    "SELECT idx, profile FROM usage_accounts WHERE idx > ? ORDER BY idx LIMIT 200", (last_idx,)
                ).fetchall()
            if not batch:
                break
            last_idx = batch[-1][0]
            for _, raw in batch:
                profile = json.loads(raw)
                for d in days:
                    for line in event_lines_for_day(seed, profile, d):
                        if names is not None and _event_name(line) not in names:
                            continue
                        buf.append(line)
                        size += len(line) + 1
                        sent += 1
                        if limit and sent >= limit:
                            yield ("\n".join(buf) + "\n").encode()
                            return
                        if size >= 65536:
                            yield ("\n".join(buf) + "\n").encode()
                            buf, size = [], 0
        if buf:
            yield ("\n".join(buf) + "\n").encode()

    # -- engage ------------------------------------------------------------------------
    def engage(self, req: Request) -> Response:
        params = {k: v[-1] for k, v in req.query.items()}
        if req.method == "POST" and req.body:
            params.update({k: v[-1] for k, v in parse_qs(req.body.decode(), keep_blank_values=True).items()})
        try:
            page = int(params.get("page") or 0)
        except ValueError:
            return _error(400, "'page' must be an integer")
        session = params.get("session_id") or ""
        if page > 0 and session not in self._sessions:
            return _error(400, "Invalid session_id: pages after the first need the session_id of page 0")
        if page == 0:
            # Like Mixpanel, a session fixes the query: page 0 counts the matching profiles per
            # account, later pages decode only the accounts their slice covers. (Re-reading every
            # account per page made a 276k-profile read quadratic; holding the decoded profiles
            # per session cost the server ~300 MB.) Only the latest few sessions are kept.
            session = uuid.uuid4().hex
            self._sessions[session] = self._plan_profiles(params.get("distinct_id"))
            while len(self._sessions) > ENGAGE_SESSIONS_KEPT:
                self._sessions.pop(next(iter(self._sessions)))
        plan = self._sessions[session]
        chunk = self._profiles_slice(plan, page * ENGAGE_PAGE_SIZE, ENGAGE_PAGE_SIZE)
        return Response.json(
            200,
            {
                "page": page,
                "page_size": ENGAGE_PAGE_SIZE,
                "session_id": session,
                "status": "ok",
                "total": plan.total,
                "results": chunk,
            },
        )

    def _visible(self, prof: dict, plan: _ProfilePlan) -> list[dict]:
        return [
            u for u in prof["users"] if u["invited"] <= plan.cutoff_day and (not plan.wanted or u["id"] == plan.wanted)
        ]

    def _plan_profiles(self, wanted: str | None) -> _ProfilePlan:
        plan = _ProfilePlan(cutoff_day=self.state.clock.toordinal(), wanted=wanted)
        with self.state.lock:
            rows = self.state.conn.execute("SELECT idx, profile FROM usage_accounts ORDER BY idx").fetchall()
        for idx, raw in rows:
            n = len(self._visible(json.loads(raw), plan))
            if n:
                plan.accounts.append(idx)
                plan.starts.append(plan.total)
                plan.total += n
        return plan

    def _profiles_slice(self, plan: _ProfilePlan, offset: int, size: int) -> list[dict]:
        first = bisect.bisect_right(plan.starts, offset) - 1
        out: list[dict] = []
        if first < 0 or offset >= plan.total:
            return out
        skip = offset - plan.starts[first]
        k = first
        while len(out) < size and k < len(plan.accounts):
            batch = plan.accounts[k : k + 64]
            marks = ",".join("?" * len(batch))
            with self.state.lock:
                rows = self.state.conn.execute(
                    f"SELECT profile FROM usage_accounts WHERE idx IN ({marks}) ORDER BY idx", batch
                ).fetchall()
            for (raw,) in rows:
                prof = json.loads(raw)
                for u in self._visible(prof, plan)[skip:]:
                    out.append(_profile(prof, u))
                skip = 0
                if len(out) >= size:
                    break
            k += len(batch)
        return out[:size]


@dataclass
class _ProfilePlan:
    """A session's query: which accounts hold matching profiles, and where each one's start."""

    cutoff_day: int
    wanted: str | None
    accounts: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    total: int = 0


def _event_name(line: str) -> str:
    return line[10 : line.index('"', 10)]  # lines start with {"event":"<name>"


def _profile(prof: dict, u: dict) -> dict:
    created = datetime.utcfromtimestamp(u["created"]).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "$distinct_id": u["id"],
        "$properties": {
            "$email": u["id"],
            "$name": u["name"],
            "$created": created,
            "account_id": prof["account_id"],
            "role": u["role"],
            "champion": u["champion"],
            "invited_date": date.fromordinal(u["invited"]).isoformat(),
            "activated_date": date.fromordinal(u["activated"]).isoformat() if u["activated"] > 0 else None,
        },
    }


def _parse_date(value: str | None, name: str) -> date:
    if not value:
        raise ValueError(f"'{name}' is a required parameter")
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(name, value)
    except ValueError:
        _bad(name, value)
    raise AssertionError("unreachable")


def _bad(name: str, value: str) -> date:
    raise ValueError(f"'{name}' is invalid: {value!r} is not a date in yyyy-mm-dd format")


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31 = gzip container
    for c in chunks:
        out = z.compress(c)
        if out:
            yield out
    yield z.flush()
