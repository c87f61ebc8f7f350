"""Mock Stripe API (`/stripe/v1/...`): list endpoints with Stripe's cursor paging.

Lists are newest first (created desc, id desc as tiebreak), `limit` 1-100 (default 10),
`starting_after` / `ending_before` cursors, `created[gte|gt|lte|lt]` filters (or an exact
`created=`); errors use Stripe's `{"error": {...}}` body. Deleted customers are omitted
from lists and show only as `customer.deleted` events; events are kept 30 days.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from simulator.server import stripe_render as render
from simulator.server.auth import check_stripe
from simulator.server.http import Request, Response
from simulator.server.state import WorldState

_CREATED = re.compile(r"^created\[(gte|gt|lte|lt)\]$")


class StripeError(Exception):
    """Raised by handlers; rendered as Stripe's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        type_: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type_

    def response(self) -> Response:
        err: dict = {"message": self.message, "type": self.type}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        err["request_log_url"] = "https://dashboard.stripe.com/test/logs"
        return Response.json(self.status, {"error": err})


def stripe_headers() -> dict[str, str]:
    return {"Stripe-Version": render.STRIPE_API_VERSION, "Request-Id": "req_" + uuid.uuid4().hex[:14]}


def _int_param(req: Request, name: str) -> int | None:
    raw = req.arg(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise StripeError(400, f"Invalid integer: {raw}", name, "parameter_invalid_integer") from None


def parse_limit(req: Request) -> int:
    limit = _int_param(req, "limit")
    if limit is None:
        return 10
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", "limit", "parameter_invalid_integer")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", "limit", "parameter_invalid_integer")
    return limit


def created_filter(req: Request) -> tuple[list[str], list[int]]:
    """SQL conditions on `created` (ms in the store) from Stripe's created filters (seconds)."""
    conds: list[str] = []
    args: list[int] = []
    ops = {"gte": (">=", 0), "gt": (">=", 1000), "lte": ("<", 1000), "lt": ("<", 0)}
    for name in req.query:
        m = _CREATED.match(name)
        if m:
            v = _int_param(req, name)
            if v is None:
                continue
            op, shift = ops[m.group(1)]
            conds.append(f"created {op} ?")
            args.append(v * 1000 + shift)
    exact = _int_param(req, "created")
    if exact is not None:
        conds.append("created >= ? AND created < ?")
        args += [exact * 1000, exact * 1000 + 1000]
    return conds, args


class StripeApi:
    """Route table and handlers for the Stripe mock."""

    # object type in the store -> URL collection name
    LISTS = {
        "customer": "customers",
        "subscription": "subscriptions",
        "invoice": "invoices",
        "product": "products",
        "price": "prices",
        "event": "events",
    }
    EVENT_RETENTION_DAYS = 30

    def __init__(self, state: WorldState):
        self.state = state
        self.renderers: dict[str, Callable[..., dict]] = dict(render.RENDERERS)
        self.renderers["event"] = self._render_event

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        out = []
        for otype, coll in self.LISTS.items():
            out.append(("GET", f"/v1/{coll}", lambda req, o=otype: self.list_objects(req, o, self._filters(req, o))))
            out.append(("GET", f"/v1/{coll}/(?P<id>[^/]+)", lambda req, o=otype: self.get_object(req, o)))
        return out

    # -- per-object list filters -------------------------------------------------------
    def _filters(self, req: Request, otype: str) -> tuple[list[str], list]:
        conds: list[str] = []
        args: list = []

        def eq(param: str, path: str) -> None:
            v = req.arg(param)
            if v:
                conds.append(f"json_extract(body, '$.{path}') = ?")
                args.append(v)

        if otype == "subscription":
            eq("customer", "customer")
            eq("price", "item.price")
            status = req.arg("status")
            valid = {
                "active",
                "past_due",
                "unpaid",
                "canceled",
                "incomplete",
                "incomplete_expired",
                "trialing",
                "paused",
                "all",
                "ended",
            }
            if status and status not in valid:
                raise StripeError(
                    400,
                    f"Invalid status: must be one of {', '.join(sorted(valid))}",
                    "status",
                    "parameter_invalid_string",
                )
            if status in (None, ""):
                conds.append("json_extract(body, '$.status') != 'canceled'")  # Stripe's default
            elif status == "ended":
                conds.append("json_extract(body, '$.status') = 'canceled'")
            elif status != "all":
                conds.append("json_extract(body, '$.status') = ?")
                args.append(status)
        elif otype == "invoice":
            eq("customer", "customer")
            eq("subscription", "subscription")
            eq("status", "status")
        elif otype == "customer":
            eq("email", "email")
        elif otype == "price":
            eq("product", "product")
        elif otype == "event":
            types = req.query.get("types[]") or []
            if req.arg("type"):
                t = req.arg("type")
                if t.endswith("*"):
                    conds.append("json_extract(body, '$.type') LIKE ?")
                    args.append(t[:-1] + "%")
                else:
                    types = [t]
            if types:
                conds.append(f"json_extract(body, '$.type') IN ({','.join('?' * len(types))})")
                args += types
            # Events are retrievable for 30 days only.
            conds.append("created >= ?")
            args.append(self.state.cutoff_ms - self.EVENT_RETENTION_DAYS * 86_400_000)
        return conds, args

    def _render_event(self, f: dict, deleted: bool = False, *, event_id: str = "", created: int = 0) -> dict:
        otype, oid, ts = f["object_type"], f["object_id"], f["object_ts"]
        with self.state.lock:
            rows = self.state.conn.execute(
                "SELECT body FROM versions WHERE vendor='stripe' AND otype=? AND id=? AND ts<=? ORDER BY ts, rowid",
                (otype, oid, ts),
            ).fetchall()
        facts: dict = {}
        for (body,) in rows:
            facts.update(json.loads(body))
        obj = self.renderers[otype](facts, False)
        prev = f.get("previous_attributes") or {}
        # Only attributes that exist on the rendered object are reported as previous values.
        prev = {k: v for k, v in prev.items() if k in obj and not isinstance(v, dict)}
        return render.event({"id": event_id, "created": created, "type": f["type"], "previous_attributes": prev}, obj)

    def handle(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        denied = check_stripe(req)
        if denied:
            resp = denied
        else:
            try:
                self.state.sync()
                resp = handler(req)
            except StripeError as e:
                resp = e.response()
        resp.headers.update(stripe_headers())
        return resp

    # -- generic list/retrieve ---------------------------------------------------------
    def _cursor(self, otype: str, oid: str, param: str) -> tuple[int, str]:
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT created, id FROM current WHERE vendor='stripe' AND otype=? AND id=?", (otype, oid)
            ).fetchone()
        if row is None:
            raise StripeError(400, f"No such {otype}: '{oid}'", param, "resource_missing")
        return row

    def list_objects(
        self, req: Request, otype: str, extra: tuple[list[str], list] = ([], []), url: str | None = None
    ) -> Response:
        limit = parse_limit(req)
        conds, args = created_filter(req)
        conds = ["vendor='stripe'", "otype=?", "deleted=0", *conds, *extra[0]]
        args = [otype, *args, *extra[1]]
        after, before = req.arg("starting_after"), req.arg("ending_before")
        if after and before:
            raise StripeError(400, "You may only specify one of these parameters: ending_before, starting_after.")
        order = "DESC"
        if after:
            c, i = self._cursor(otype, after, "starting_after")
            conds.append("(created < ? OR (created = ? AND id < ?))")
            args += [c, c, i]
        elif before:
            c, i = self._cursor(otype, before, "ending_before")
            conds.append("(created > ? OR (created = ? AND id > ?))")
            args += [c, c, i]
            order = "ASC"
        sql = (
            f"SELECT body, deleted, id, created FROM current WHERE {' AND '.join(conds)} "
            f"ORDER BY created {order}, id {order} LIMIT ?"
        )
        with self.state.lock:
            rows = self.state.conn.execute(sql, [*args, limit + 1]).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        if order == "ASC":
            rows.reverse()  # ending_before pages are still returned newest first
        data = [self._render(otype, body, deleted, oid, created) for body, deleted, oid, created in rows]
        return Response.json(
            200, {"object": "list", "data": data, "has_more": has_more, "url": url or f"/v1/{self.LISTS[otype]}"}
        )

    def get_object(self, req: Request, otype: str) -> Response:
        oid = req.params["id"]
        with self.state.lock:
            row = self.state.conn.execute(
                "SELECT body, deleted, id, created FROM current WHERE vendor='stripe' AND otype=? AND id=?",
                (otype, oid),
            ).fetchone()
        if row is None or (otype == "event" and row[3] < self.state.cutoff_ms - self.EVENT_RETENTION_DAYS * 86_400_000):
            raise StripeError(404, f"No such {otype}: '{oid}'", "id", "resource_missing")
        return Response.json(200, self._render(otype, *row))

    def _render(self, otype: str, body: str, deleted: int, oid: str, created: int) -> dict:
        facts = json.loads(body)
        if otype == "event":
            return self._render_event(facts, event_id=oid, created=created // 1000)
        return self.renderers[otype](facts, bool(deleted))
