"""Mock HubSpot CRM API (`/hubspot/crm/v3/...`).

Objects (companies, contacts, deals, tickets, feedback_submissions; also by id 0-1, 0-2,
0-3, 0-5, 0-19): list with `limit`/`after`/`properties`/`associations`, read, batch read,
search (filterGroups, sorts, 200 per page, 10,000-result cap), batch update (<= 100 inputs,
207 multi-status for bad inputs; writes persist). Properties and property groups (read and
create), owners, v3 association batch reads. Tasks (`tasks`, `0-27`) are written by clients:
create (single and batch, with associations), upsert, update, archive (see `hubspot_tasks`);
`archived=true` reads archived objects. Every response carries the
`X-HubSpot-RateLimit-*` headers; the 10-second window and search's per-second limit answer
429 with HubSpot's RATE_LIMIT body when exceeded.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable

from simulator.server import hubspot_tasks as tasks
from simulator.server.auth import check_hubspot
from simulator.server.http import Request, Response
from simulator.server.hubspot_errors import HubSpotError, not_found, standard_error
from simulator.server.hubspot_query import (
    DEFAULT_PROPERTIES,
    OBJECT_ALIASES,
    SearchError,
    filters_sql,
    iso_ms,
    render_object,
    sort_sql,
)
from simulator.server.state import WorldState
from simulator.world.crm_schema import definition_rows

SEARCH_MAX_RESULTS = 10_000
BATCH_MAX = 100


class RateLimiter:
    """HubSpot's limits: N requests per 10 s window (default 190) and per-second search limit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window: deque[float] = deque()
        self.search_window: deque[float] = deque()
        self.daily_used = 0

    @staticmethod
    def _limits() -> tuple[int, int, int]:
        return (
            int(os.environ.get("SIMULATOR_HUBSPOT_RATE_LIMIT", "190")),
            int(os.environ.get("SIMULATOR_HUBSPOT_SEARCH_RPS", "5")),
            int(os.environ.get("SIMULATOR_HUBSPOT_DAILY_LIMIT", "1000000")),
        )

    def check(self, search: bool) -> tuple[dict[str, str], Response | None]:
        per_10s, search_rps, daily = self._limits()
        now = time.monotonic()
        with self.lock:
            while self.window and now - self.window[0] >= 10:
                self.window.popleft()
            while self.search_window and now - self.search_window[0] >= 1:
                self.search_window.popleft()
            headers = {
                "X-HubSpot-RateLimit-Max": str(per_10s),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Daily": str(daily),
            }
            if per_10s and len(self.window) >= per_10s:
                retry = max(1, int(10 - (now - self.window[0])) + 1)
                headers |= {
                    "X-HubSpot-RateLimit-Remaining": "0",
                    "Retry-After": str(retry),
                    "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, daily - self.daily_used)),
                }
                return headers, rate_limit_response("TEN_SECONDLY_ROLLING", per_10s, headers)
            if search and search_rps and len(self.search_window) >= search_rps:
                headers |= {
                    "X-HubSpot-RateLimit-Remaining": str(per_10s - len(self.window)),
                    "Retry-After": "1",
                    "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, daily - self.daily_used)),
                }
                return headers, rate_limit_response("SECONDLY", search_rps, headers)
            self.window.append(now)
            if search:
                self.search_window.append(now)
            self.daily_used += 1
            headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, per_10s - len(self.window)))
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, daily - self.daily_used))
            return headers, None


def rate_limit_response(policy: str, limit: int, headers: dict[str, str]) -> Response:
    """HubSpot's 429 body (see specs/README.md)."""
    body = {
        "status": "error",
        "message": f"You have reached your {policy.lower().replace('_', ' ')} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": "publicapi",
    }
    return Response.json(429, body, dict(headers))


class HubSpotApi:
    """Route table and handlers for the HubSpot mock."""

    def __init__(self, state: WorldState):
        self.state = state
        self.limiter = RateLimiter()
        self._backfill_definitions()

    def _backfill_definitions(self) -> None:
        """Worlds generated before an object type existed (tasks) get its property definitions."""
        with self.state.lock:
            ts = self.state.conn.execute(
                "SELECT MIN(created) FROM versions WHERE vendor='hubspot' AND otype='owners'"
            ).fetchone()[0]
            props, groups = definition_rows(ts or 0, tasks.WRITABLE)
            self.state.conn.executemany("INSERT OR IGNORE INTO hubspot_properties VALUES (?,?,?)", props)
            self.state.conn.executemany("INSERT OR IGNORE INTO hubspot_property_groups VALUES (?,?,?)", groups)
            self.state.conn.commit()

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        obj = r"/crm/v3/objects/(?P<type>[\w-]+)"
        task = r"/crm/v3/objects/(?P<type>tasks|task|0-27)"
        return [
            ("GET", r"/crm/v3/owners", self.list_owners),
            ("GET", r"/crm/v3/owners/(?P<id>\d+)", self.get_owner),
            ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)/groups", self.list_groups),
            ("POST", r"/crm/v3/properties/(?P<type>[\w-]+)/groups", self.create_group),
            ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)/groups/(?P<name>[\w-]+)", self.get_group),
            ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)", self.list_properties),
            ("POST", r"/crm/v3/properties/(?P<type>[\w-]+)", self.create_property),
            ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)/(?P<name>[\w-]+)", self.get_property),
            ("POST", r"/crm/v3/associations/(?P<from>[\w-]+)/(?P<to>[\w-]+)/batch/read", self.assoc_batch_read),
            ("POST", task, self.create_object),
            ("POST", task + "/batch/create", self.batch_create),
            ("POST", task + "/batch/upsert", self.batch_upsert),
            ("POST", task + "/batch/archive", self.batch_archive),
            ("PATCH", task + r"/(?P<id>\d+)", self.update_object),
            ("DELETE", task + r"/(?P<id>\d+)", self.archive_object),
            ("POST", obj + "/search", self.search),
            ("POST", obj + "/batch/read", self.batch_read),
            ("POST", obj + "/batch/update", self.batch_update),
            ("GET", obj, self.list_objects),
            ("GET", obj + r"/(?P<id>\d+)", self.get_object),
        ]

    def handle(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        denied = check_hubspot(req)
        if denied:
            return denied
        headers, limited = self.limiter.check(search=req.path.endswith("/search"))
        if limited:
            return limited
        try:
            self.state.sync()
            resp = handler(req)
        except HubSpotError as e:
            resp = e.response()
        except (json.JSONDecodeError, SearchError, ValueError, TypeError, AttributeError) as e:
            resp = HubSpotError(400, f"Invalid input JSON on line 1: {e}").response()
        resp.headers.update(headers)
        return resp

    # -- helpers -----------------------------------------------------------------------
    def _otype(self, req: Request, key: str = "type") -> str:
        raw = req.params[key]
        if raw not in OBJECT_ALIASES:
            raise HubSpotError(400, f"Unable to infer object type from: {raw}")
        return OBJECT_ALIASES[raw]

    def _known(self, otype: str) -> set[str]:
        with self.state.lock:
            return {
                n
                for (n,) in self.state.conn.execute("SELECT name FROM hubspot_properties WHERE object_type=?", (otype,))
            }

    @staticmethod
    def _csv(values: list[str] | None) -> list[str]:
        return [p for v in values or [] for p in v.split(",") if p]

    def _associations(self, otype: str, ids: list[str], targets: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {i: {} for i in ids}
        if not ids or not targets:
            return out
        with self.state.lock:
            for to in targets:
                to_type = OBJECT_ALIASES.get(to)
                if not to_type:
                    continue
                rows = self.state.conn.execute(
                    f"SELECT from_id, to_id, type FROM associations WHERE from_type=? AND to_type=? "
                    f"AND from_id IN ({','.join('?' * len(ids))}) AND ts < ? ORDER BY from_id, to_id",
                    (otype, to_type, *ids, self.state.cutoff_ms),
                ).fetchall()
                for fid, tid, typ in rows:
                    out[fid].setdefault(to_type, {"results": []})["results"].append({"id": tid, "type": typ})
        return out

    def _render_rows(self, otype: str, rows, props: list[str], assoc: list[str], archived: bool = False) -> list[dict]:
        known = self._known(otype)
        links = self._associations(otype, [r[0] for r in rows], assoc)
        out = []
        for oid, created, modified, body in rows:
            o = render_object(otype, oid, created, modified, json.loads(body), props, known, archived)
            if links.get(oid):
                o["associations"] = links[oid]
            out.append(o)
        return out

    # -- objects -----------------------------------------------------------------------
    def list_objects(self, req: Request) -> Response:
        otype = self._otype(req)
        limit = int(req.arg("limit") or 10)
        if not 1 <= limit <= 100:
            raise HubSpotError(400, "limit must be between 1 and 100")
        after = req.arg("after") or ""
        if after and not after.isdigit():
            raise HubSpotError(400, f"Invalid after value: {after}")
        archived = _flag(req, "archived")
        with self.state.lock:
            rows = self.state.conn.execute(
                "SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype=? "
                "AND deleted=? AND CAST(id AS INTEGER) >= ? ORDER BY CAST(id AS INTEGER) LIMIT ?",
                (otype, int(archived), int(after or 0), limit + 1),
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        body: dict = {
            "results": self._render_rows(
                otype,
                rows,
                self._csv(req.query.get("properties")),
                self._csv(req.query.get("associations")),
                archived,
            )
        }
        if more:
            nxt = str(int(rows[-1][0]) + 1)
            body["paging"] = {"next": {"after": nxt, "link": f"{req.path}?after={nxt}&limit={limit}"}}
        return Response.json(200, body)

    def get_object(self, req: Request) -> Response:
        otype = self._otype(req)
        archived = _flag(req, "archived")
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT id, created, modified, body FROM current "
                "WHERE vendor='hubspot' AND otype=? AND id=? AND deleted=?",
                (otype, req.params["id"], int(archived)),
            ).fetchone()
        if not row:
            raise HubSpotError(
                404,
                "Object not found.  objectId are usually numeric.",
                "OBJECT_NOT_FOUND",
                context={"id": [req.params["id"]]},
            )
        obj = self._render_rows(
            otype,
            [row],
            self._csv(req.query.get("properties")),
            self._csv(req.query.get("associations")),
            archived,
        )
        return Response.json(200, obj[0])

    def batch_read(self, req: Request) -> Response:
        otype = self._otype(req)
        body = req.json() or {}
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_MAX:
            raise HubSpotError(400, f"Batch input size must be at most {BATCH_MAX}")
        ids = [str(i.get("id")) for i in inputs]
        archived = _flag(req, "archived")
        started = iso_ms(int(time.time() * 1000))
        with self.state.lock:
            rows = self.state.conn.execute(
                f"SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype=? AND deleted=? "
                f"AND id IN ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY CAST(id AS INTEGER)",
                (otype, int(archived), *ids),
            ).fetchall()
        results = self._render_rows(otype, rows, body.get("properties") or [], [], archived)
        missing = sorted(set(ids) - {r[0] for r in rows})
        return self._batch_response(results, started, [not_found(missing)] if missing else [])

    @staticmethod
    def _batch_response(results: list[dict], started: str, errors: list[dict], ok_status: int = 200) -> Response:
        out: dict = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso_ms(int(time.time() * 1000)),
        }
        if errors:
            out["numErrors"] = len(errors)
            out["errors"] = errors
            return Response.json(207, out)
        return Response.json(ok_status, out)

    def batch_update(self, req: Request) -> Response:
        otype = self._otype(req)
        body = req.json() or {}
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise HubSpotError(400, "inputs must be a non-empty list")
        if len(inputs) > BATCH_MAX:
            raise HubSpotError(400, f"Batch input size must be at most {BATCH_MAX}; got {len(inputs)}")
        started = iso_ms(int(time.time() * 1000))
        errors, updated = [], []
        for inp in inputs:
            oid = str(inp.get("id"))
            error = tasks.update(self.state, otype, oid, inp.get("properties") or {})
            if error:
                errors.append(error)
            else:
                updated.append(oid)
        rows = []
        if updated:
            with self.state.lock:
                rows = self.state.conn.execute(
                    f"SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype=? "
                    f"AND id IN ({','.join('?' * len(updated))}) ORDER BY CAST(id AS INTEGER)",
                    (otype, *updated),
                ).fetchall()
        written = sorted({k for i in inputs for k in (i.get("properties") or {})})
        return self._batch_response(self._render_rows(otype, rows, written, []), started, errors)

    def search(self, req: Request) -> Response:
        otype = self._otype(req)
        body = req.json() or {}
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= 200:
            raise HubSpotError(400, "limit must be between 1 and 200")
        after = int(body.get("after") or 0)
        if after + limit > SEARCH_MAX_RESULTS:
            raise HubSpotError(
                400,
                f"The search API returns at most {SEARCH_MAX_RESULTS} results per query; "
                f"after ({after}) + limit ({limit}) exceeds it. Narrow the query instead of paging further.",
                "VALIDATION_ERROR",
            )
        where, args = filters_sql(otype, body.get("filterGroups") or [], self.state.cutoff_ms)
        query = body.get("query")
        if query:
            where = f"({where}) AND body LIKE ?"
            args.append(f"%{query}%")
        order = sort_sql(otype, body.get("sorts") or [])
        base = f"FROM current WHERE vendor='hubspot' AND otype=? AND deleted=0 AND ({where})"
        if getattr(req, "touch_first_page", False):
            # Fault `concurrent_update`: someone edits a record the client already paged past.
            with self.state.lock:
                first = self.state.conn.execute(
                    f"SELECT id, created FROM current WHERE vendor='hubspot' AND otype=? AND deleted=0 AND ({where}) "
                    f"ORDER BY {order} LIMIT 1",
                    (otype, *args),
                ).fetchone()
            if first:
                self.state.write_version("hubspot", otype, first[0], first[1], {})
        with self.state.lock:
            total = self.state.conn.execute(f"SELECT COUNT(*) {base}", (otype, *args)).fetchone()[0]
            rows = self.state.conn.execute(
                f"SELECT id, created, modified, body {base} ORDER BY {order} LIMIT ? OFFSET ?",
                (otype, *args, limit, after),
            ).fetchall()
        out: dict = {"total": total, "results": self._render_rows(otype, rows, body.get("properties") or [], [])}
        nxt = after + len(rows)
        if nxt < total and nxt < SEARCH_MAX_RESULTS:
            out["paging"] = {"next": {"after": str(nxt), "link": f"?after={nxt}"}}
        return Response.json(200, out)

    # -- client-written objects (tasks) ------------------------------------------------
    def _rows(self, otype: str, ids: list[str]) -> list:
        with self.state.lock:
            found = {
                r[0]: r
                for r in self.state.conn.execute(
                    f"SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype=? "
                    f"AND id IN ({','.join('?' * len(ids)) or 'NULL'})",
                    (otype, *ids),
                )
            }
        return [found[i] for i in ids if i in found]

    def _written(self, otype: str, ids: list[str], names: set[str]) -> list[dict]:
        """Objects as a write answers them: the type's default properties plus those written."""
        return self._render_rows(otype, self._rows(otype, ids), sorted(names | set(DEFAULT_PROPERTIES[otype])), [])

    def _create(self, otype: str, inp: object) -> tuple[str, set[str]]:
        """Validate and store one `SimplePublicObjectInputForCreate`; HubSpotError when invalid."""
        if not isinstance(inp, dict):
            raise HubSpotError(400, "Invalid input JSON: each input must be an object with properties")
        props = inp.get("properties") or {}
        patch, problems = tasks.validate(self.state, otype, props, creating=True)
        tasks.raise_invalid(problems)
        links = tasks.parse_associations(self.state, otype, inp.get("associations"))
        if otype == "tasks":
            patch.setdefault("hs_task_status", "NOT_STARTED")
        patch = tasks.with_derived(otype, patch, {}, self.state.now_ms)
        return tasks.insert(self.state, otype, patch, links), set(patch)

    @staticmethod
    def _inputs(body: object) -> list:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise HubSpotError(400, "inputs must be a non-empty list")
        if len(inputs) > BATCH_MAX:
            raise HubSpotError(400, f"Batch input size must be at most {BATCH_MAX}; got {len(inputs)}")
        return inputs

    def create_object(self, req: Request) -> Response:
        otype = self._otype(req)
        oid, names = self._create(otype, req.json())
        return Response.json(201, self._written(otype, [oid], names)[0])

    def batch_create(self, req: Request) -> Response:
        """201 when every input was created, else 207 with the created ones and an error per failed input."""
        otype = self._otype(req)
        inputs = self._inputs(req.json())
        started = iso_ms(int(time.time() * 1000))
        created, names, errors, traces = [], set(), [], {}
        for i, inp in enumerate(inputs):
            trace = inp.get("objectWriteTraceId") if isinstance(inp, dict) else None
            try:
                oid, written = self._create(otype, inp)
            except HubSpotError as e:
                context = {k: list(v) for k, v in dict(e.extra.get("context") or {}).items()}
                context["objectWriteTraceId" if trace else "inputIndex"] = [str(trace if trace else i)]
                err = standard_error(e.category, e.message, context)
                err["errors"] = list(e.extra.get("errors") or [])
                errors.append(err)
                continue
            created.append(oid)
            names |= written
            if trace:
                traces[oid] = str(trace)
        results = self._written(otype, created, names)
        for r in results:
            if r["id"] in traces:
                r["objectWriteTraceId"] = traces[r["id"]]
        return self._batch_response(results, started, errors, ok_status=201)

    def batch_upsert(self, req: Request) -> Response:
        """Create or update by a unique property (`idProperty`, per input or as a query parameter)."""
        otype = self._otype(req)
        inputs = self._inputs(req.json())
        started = iso_ms(int(time.time() * 1000))
        defs = tasks.definitions(self.state, otype)
        keyed = []
        for inp in inputs:  # checked before any write: a bad idProperty fails the whole batch
            key, value = inp.get("idProperty") or req.arg("idProperty"), str(inp.get("id") or "")
            if not key or not value or not (defs.get(key) or {}).get("hasUniqueValue") or key == "hs_object_id":
                raise HubSpotError(
                    400, f"idProperty {key!r} is not a unique value property of {otype}; upsert needs one and an id"
                )
            keyed.append((key, value, inp))
        results, errors = [], []
        for key, value, inp in keyed:
            props = {**(inp.get("properties") or {}), key: value}
            with self.state.lock:
                row = self.state.conn.execute(
                    "SELECT id FROM current WHERE vendor='hubspot' AND otype=? AND deleted=0 "
                    "AND json_extract(body, '$.\"' || ? || '\"') = ? ORDER BY CAST(id AS INTEGER) LIMIT 1",
                    (otype, key.replace('"', ""), value),
                ).fetchone()
            if row:
                error = tasks.update(self.state, otype, row[0], props)
                if error:
                    errors.append(error)
                    continue
                oid, new = row[0], False
            else:
                try:
                    oid, _ = self._create(otype, {"properties": props})
                except HubSpotError as e:
                    errors.append(standard_error(e.category, e.message, {"id": [value]}))
                    continue
                new = True
            results.append({**self._written(otype, [oid], set(props))[0], "new": new})
        return self._batch_response(results, started, errors)

    def update_object(self, req: Request) -> Response:
        otype, oid = self._otype(req), req.params["id"]
        body = req.json() or {}
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise HubSpotError(400, "Invalid input JSON: properties must be an object")
        error = tasks.update(self.state, otype, oid, props)
        if error and error["category"] == "OBJECT_NOT_FOUND":
            raise HubSpotError(
                404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND", context={"id": [oid]}
            )
        if error:
            raise HubSpotError(400, error["message"], "VALIDATION_ERROR", context=error["context"])
        return Response.json(200, self._written(otype, [oid], set(props))[0])

    def archive_object(self, req: Request) -> Response:
        """204 whether or not the object existed, as HubSpot answers."""
        tasks.archive(self.state, self._otype(req), req.params["id"])
        return Response(204)

    def batch_archive(self, req: Request) -> Response:
        otype = self._otype(req)
        for inp in self._inputs(req.json()):
            tasks.archive(self.state, otype, str((inp or {}).get("id")))
        return Response(204)

    # -- associations ------------------------------------------------------------------
    def assoc_batch_read(self, req: Request) -> Response:
        from_type, to_type = self._otype(req, "from"), self._otype(req, "to")
        inputs = (req.json() or {}).get("inputs") or []
        if len(inputs) > 1000:
            raise HubSpotError(400, "Batch input size must be at most 1000")
        ids = [str(i.get("id")) for i in inputs]
        started = iso_ms(int(time.time() * 1000))
        links = self._associations(from_type, ids, [to_type])
        results, errors = [], []
        for oid in ids:
            found = links.get(oid, {}).get(to_type)
            if found:
                results.append({"from": {"id": oid}, "to": found["results"]})
            else:
                errors.append(
                    standard_error(
                        "OBJECT_NOT_FOUND",
                        f"No {to_type} is associated with {from_type.rstrip('s')} {oid}.",
                        {"fromId": [oid]},
                    )
                )
        return self._batch_response(results, started, errors)

    # -- owners ------------------------------------------------------------------------
    def _owner(self, oid: str, created: int, modified: int, f: dict) -> dict:
        return {
            "id": oid,
            "email": f["email"],
            "firstName": f["firstName"],
            "lastName": f["lastName"],
            "userId": f["userId"],
            "userIdIncludingInactive": f["userId"],
            "type": "PERSON",
            "createdAt": iso_ms(created),
            "updatedAt": iso_ms(modified),
            "archived": False,
            "teams": [{"id": str(zlib.crc32(f["team"][1].encode()) % 10**6), "name": f["team"][0], "primary": True}],
        }

    def list_owners(self, req: Request) -> Response:
        limit = int(req.arg("limit") or 100)
        if not 1 <= limit <= 500:
            raise HubSpotError(400, "limit must be between 1 and 500")
        after = int(req.arg("after") or 0)
        with self.state.lock:
            rows = self.state.conn.execute(
                "SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype='owners' "
                "AND CAST(id AS INTEGER) >= ? ORDER BY CAST(id AS INTEGER) LIMIT ?",
                (after, limit + 1),
            ).fetchall()
        email = req.arg("email")
        owners = [self._owner(i, c, m, json.loads(b)) for i, c, m, b in rows[:limit]]
        if email:
            owners = [o for o in owners if o["email"] == email]
        out: dict = {"results": owners}
        if len(rows) > limit:
            nxt = str(int(rows[limit - 1][0]) + 1)
            out["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return Response.json(200, out)

    def get_owner(self, req: Request) -> Response:
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT id, created, modified, body FROM current WHERE vendor='hubspot' AND otype='owners' AND id=?",
                (req.params["id"],),
            ).fetchone()
        if not row:
            raise HubSpotError(404, f"Owner {req.params['id']} not found", "OBJECT_NOT_FOUND")
        return Response.json(200, self._owner(row[0], row[1], row[2], json.loads(row[3])))

    # -- properties --------------------------------------------------------------------
    def list_properties(self, req: Request) -> Response:
        otype = self._otype(req)
        with self.state.lock:
            rows = self.state.conn.execute(
                "SELECT body FROM hubspot_properties WHERE object_type=? ORDER BY rowid", (otype,)
            ).fetchall()
        return Response.json(200, {"results": [json.loads(b) for (b,) in rows]})

    def get_property(self, req: Request) -> Response:
        otype = self._otype(req)
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT body FROM hubspot_properties WHERE object_type=? AND name=?", (otype, req.params["name"])
            ).fetchone()
        if not row:
            raise HubSpotError(
                404, f"Unable to find property {req.params['name']} for object type {otype}", "OBJECT_NOT_FOUND"
            )
        return Response.json(200, json.loads(row[0]))

    def create_property(self, req: Request) -> Response:
        from simulator.world.crm_schema import property_definition

        otype = self._otype(req)
        body = req.json() or {}
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise HubSpotError(400, f"Missing required fields: {', '.join(missing)}")
        name = body["name"]
        with self.state.lock:
            if self.state.conn.execute(
                "SELECT 1 FROM hubspot_properties WHERE object_type=? AND name=?", (otype, name)
            ).fetchone():
                raise HubSpotError(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
            if not self.state.conn.execute(
                "SELECT 1 FROM hubspot_property_groups WHERE object_type=? AND name=?", (otype, body["groupName"])
            ).fetchone():
                raise HubSpotError(400, f"Property group '{body['groupName']}' does not exist.")
            options = tuple(o.get("value") for o in body.get("options") or [])
            prop = property_definition(
                otype,
                (name, body["label"], body["type"], body["fieldType"], True, options),
                int(body.get("displayOrder", -1)),
                self.state.now_ms,
            )
            prop["groupName"] = body["groupName"]
            prop["hasUniqueValue"] = bool(body.get("hasUniqueValue", False))
            prop["description"] = body.get("description", "")
            if body.get("options"):
                prop["options"] = [{"hidden": False, "displayOrder": i, **o} for i, o in enumerate(body["options"])]
            self.state.conn.execute(
                "INSERT INTO hubspot_properties VALUES (?,?,?)", (otype, name, json.dumps(prop, sort_keys=True))
            )
            self.state.conn.commit()
        return Response.json(201, prop, {"Location": f"/crm/v3/properties/{otype}/{name}"})

    def list_groups(self, req: Request) -> Response:
        otype = self._otype(req)
        with self.state.lock:
            rows = self.state.conn.execute(
                "SELECT body FROM hubspot_property_groups WHERE object_type=? ORDER BY rowid", (otype,)
            ).fetchall()
        return Response.json(200, {"results": [json.loads(b) for (b,) in rows]})

    def get_group(self, req: Request) -> Response:
        otype = self._otype(req)
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT body FROM hubspot_property_groups WHERE object_type=? AND name=?", (otype, req.params["name"])
            ).fetchone()
        if not row:
            raise HubSpotError(404, f"Unable to find property group {req.params['name']}", "OBJECT_NOT_FOUND")
        return Response.json(200, json.loads(row[0]))

    def create_group(self, req: Request) -> Response:
        otype = self._otype(req)
        body = req.json() or {}
        if not body.get("name") or not body.get("label"):
            raise HubSpotError(400, "Missing required fields: name, label")
        group = {
            "name": body["name"],
            "label": body["label"],
            "displayOrder": int(body.get("displayOrder", -1)),
            "archived": False,
        }
        with self.state.lock:
            if self.state.conn.execute(
                "SELECT 1 FROM hubspot_property_groups WHERE object_type=? AND name=?", (otype, body["name"])
            ).fetchone():
                raise HubSpotError(409, f"Property group '{body['name']}' already exists.", "OBJECT_ALREADY_EXISTS")
            self.state.conn.execute(
                "INSERT INTO hubspot_property_groups VALUES (?,?,?)",
                (otype, body["name"], json.dumps(group, sort_keys=True)),
            )
            self.state.conn.commit()
        return Response.json(201, group, {"Location": f"/crm/v3/properties/{otype}/groups/{body['name']}"})


def _flag(req: Request, name: str) -> bool:
    return (req.arg(name) or "false").lower() == "true"
