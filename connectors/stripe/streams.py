"""Stripe streams (API version pinned by the client's ``Stripe-Version`` header).

Object streams (customers, subscriptions, invoices, products, prices) read the list endpoint
in full the first time, then follow ``/v1/events`` for changes: each event carries the object
as it was after the change, so an incremental run upserts ``data.object`` with the event time
as its cursor, and ``*.deleted`` events set the soft-delete flag (list calls never show
deleted customers). Stripe keeps events for 30 days: a state older than that (minus a safety
margin) falls back to a full re-read. The ``events`` stream keeps the events themselves.

An object stream checks each event on receipt rather than trusting ``types[]``: an event whose
``type`` or ``data.object.object`` is not the stream's is skipped (counted in a warning), never
loaded as one of its objects.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.paginators import StripeCursorPaginator
from connectors.stream import Checkpoint, Page, Record, Stream

log = logging.getLogger(__name__)

STRIPE_API_VERSION = "2025-03-31.basil"
EVENT_RETENTION_SECONDS = 30 * 86_400


def _epoch_to_utc(value: Any, field: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{field!r} is a {type(value).__name__}, not a Unix timestamp")  # the value is content
    return datetime.fromtimestamp(value, tz=UTC)


class StripeStream(Stream):
    """Common settings of Stripe streams."""

    source = "stripe"
    primary_key = "id"
    cursor_field = "created"
    path: ClassVar[str]

    def page_size(self) -> int:
        return int(self.settings.get("page_size", 100))

    def lookback_seconds(self) -> int:
        return int(self.settings.get("lookback_seconds", 300))

    def parse_cursor(self, value: object) -> datetime | None:
        return None if value is None else _epoch_to_utc(value, self.cursor_field)

    def _pages(self, path: str, params: dict | None = None) -> Iterator[Page]:
        paginator = StripeCursorPaginator(page_size=self.page_size(), max_pages=self.max_pages())
        for n, (data, after) in enumerate(paginator.pages(self.client, path, params), start=1):
            yield Page(data, f"{path} page {n} (starting_after={after})")


class StripeObjectStream(StripeStream):
    """A Stripe object list, kept current through events after the first full read."""

    object_type: ClassVar[str]
    deletable: ClassVar[bool] = False

    def newest_event_time(self) -> int | None:
        """``created`` of the account's newest event: the source's own clock, immune to our skew."""
        body = self.client.get("/v1/events", params={"limit": 1}).json()
        data = body.get("data") if isinstance(body, dict) else None
        return int(data[0]["created"]) if data else None

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        now = self.newest_event_time()
        since = state.get("events_since")
        margin = int(self.settings.get("events_safety_seconds", 3600))
        if full_refresh or since is None or (now is not None and since < now - EVENT_RETENTION_SECONDS + margin):
            # Events newer than the watermark taken before the read are replayed next time, so a
            # change made while we paged is not lost. The watermark, in the source's clock, is
            # also the full read's cursor: any later event then wins the merge.
            watermark = now if now is not None else int(time.time())
            self._mode = "full"
            self._observed = datetime.fromtimestamp(watermark, tz=UTC)
            yield from self._pages(self.path)
            yield Checkpoint({"events_since": watermark, "mode": "full", "last_full_read": watermark})
            return
        self._mode = "events"
        newest = since
        start = since - self.lookback_seconds()
        params = {"created[gte]": start, "types[]": self.event_types()}
        skipped: Counter[str] = Counter()
        for page in self._pages("/v1/events", params):
            page.items = [e for e in page.items if not self._foreign(e, skipped)]
            newest = max([newest, *(e.get("created", 0) for e in page.items if isinstance(e, dict))])
            yield page
        if skipped:
            kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(skipped.items()))
            log.warning(
                "stripe.%s: skipped %d events not of this stream, as if types[] had been ignored: %s",
                self.name,
                skipped.total(),
                kinds,
            )
        yield Checkpoint({**state, "events_since": newest, "mode": "events"})

    def event_types(self) -> list[str]:
        return [f"{self.object_type}.{verb}" for verb in ("created", "updated", "deleted")]

    @property
    def object_name(self) -> str:
        """``data.object.object`` of the stream's events (``subscription`` for ``customer.subscription.*``)."""
        return self.object_type.rsplit(".", 1)[-1]

    def _foreign(self, event: Any, skipped: Counter[str]) -> bool:
        """True (and counted) for an event whose type or object is not this stream's: the server
        may not have applied ``types[]``. Anything malformed is kept for ``to_record`` to name."""
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return False
        etype = event["type"]
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        kind = obj.get("object") if isinstance(obj, dict) else None
        if etype not in self.event_types():
            skipped[etype] += 1
            return True
        if isinstance(kind, str) and kind != self.object_name:
            skipped[f"{etype} of a {kind}"] += 1
            return True
        return False

    def to_record(self, item: Any, page: Page) -> Record:
        if getattr(self, "_mode", "full") == "full":
            rec = super().to_record(item, page)
            # A full read observes every object at the watermark: that is its cursor.
            return Record(rec.pk, self._observed, rec.data)
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            raise ValueError("event has no data object")
        obj = item["data"].get("object")
        if not isinstance(obj, dict) or not obj.get("id"):
            raise ValueError(f"event {item.get('id')} has no data.object.id")
        # read() skipped other streams' events; what is left must say what it is.
        if item.get("type") not in self.event_types() or obj.get("object") != self.object_name:
            raise ValueError(f"event {item.get('id')} is not a {self.object_type} event with a {self.object_name}")
        deleted = self.deletable and str(item.get("type", "")).endswith(".deleted")
        return Record(str(obj["id"]), _epoch_to_utc(item.get("created"), "created"), obj, deleted=deleted)


class Customers(StripeObjectStream):
    """``GET /v1/customers``; deletions arrive only as ``customer.deleted`` events."""

    name = "customers"
    path = "/v1/customers"
    object_type = "customer"
    deletable = True


class Subscriptions(StripeObjectStream):
    """``GET /v1/subscriptions?status=all`` (items carry ``current_period_*`` since 2025-03-31)."""

    name = "subscriptions"
    path = "/v1/subscriptions"
    object_type = "customer.subscription"

    def _pages(self, path: str, params: dict | None = None) -> Iterator[Page]:
        if path == self.path:  # the list hides canceled subscriptions unless asked
            params = {**(params or {}), "status": "all"}
        yield from super()._pages(path, params)

    def event_types(self) -> list[str]:
        verbs = ("created", "updated", "deleted", "paused", "resumed", "trial_will_end")
        return [f"customer.subscription.{v}" for v in verbs]


class Invoices(StripeObjectStream):
    """``GET /v1/invoices``; subscription id under ``parent.subscription_details``."""

    name = "invoices"
    path = "/v1/invoices"
    object_type = "invoice"

    def event_types(self) -> list[str]:
        verbs = (
            "created",
            "updated",
            "deleted",
            "finalized",
            "paid",
            "payment_failed",
            "payment_succeeded",
            "voided",
            "marked_uncollectible",
        )
        return [f"invoice.{v}" for v in verbs]


class Products(StripeObjectStream):
    """``GET /v1/products``: plans, with tier and limits in metadata."""

    name = "products"
    path = "/v1/products"
    object_type = "product"
    deletable = True


class Prices(StripeObjectStream):
    """``GET /v1/prices``."""

    name = "prices"
    path = "/v1/prices"
    object_type = "price"
    deletable = True


class Events(StripeStream):
    """``GET /v1/events``: the change log itself, newest first, incremental on ``created``."""

    name = "events"
    path = "/v1/events"

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        since = None if full_refresh else state.get("created_since")
        newest = since or 0
        params = {"created[gte]": since - self.lookback_seconds()} if since else None
        for page in self._pages(self.path, params):
            newest = max([newest, *(e.get("created", 0) for e in page.items if isinstance(e, dict))])
            yield page
        yield Checkpoint({"created_since": newest or None})
