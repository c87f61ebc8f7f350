"""Stripe object streams check each event against their ``types[]`` filter on receipt.

A server that ignores the filter (or a proxy that drops the query string) answers every event
of the account: a payment intent must not become a customer, a subscription, an invoice, a
product or a price. Events whose ``type`` is not the stream's, or whose ``data.object.object``
is not the stream's object, are skipped with a count in the log, and never loaded.
"""

from __future__ import annotations

import logging
import uuid

import psycopg
import pytest

from connectors import schema
from connectors.http_client import RequestCounters
from connectors.state import save_state
from connectors.stream import Page
from connectors.stripe import streams
from connectors.sync import sync_stream
from tests.connectors.conftest import rows

T0 = 1_790_000_000


def _event(n: int, etype: str, obj: str, oid: str) -> dict:
    return {
        "id": f"evt_{n}",
        "object": "event",
        "type": etype,
        "created": T0 + n,
        "data": {"object": {"id": oid, "object": obj, "created": T0}},
    }


# Everything an account produced, newest first, whatever types[] asked for.
EVENTS = [
    _event(9, "payment_intent.succeeded", "payment_intent", "pi_1"),
    _event(8, "customer.created", "customer", "cus_1"),
    _event(7, "customer.subscription.updated", "subscription", "sub_1"),
    _event(6, "customer.discount.created", "discount", "di_1"),
    _event(5, "invoice.paid", "invoice", "in_1"),
    _event(4, "product.updated", "product", "prod_1"),
    _event(3, "price.deleted", "price", "price_1"),
    _event(2, "customer.updated", "payment_intent", "pi_2"),  # the type fits, the object does not
    _event(1, "invoice.updated", "invoice_payment", "inpay_1"),
]
# What each stream keeps of EVENTS.
OWN = {
    "customers": {"cus_1"},
    "subscriptions": {"sub_1"},
    "invoices": {"in_1"},
    "products": {"prod_1"},
    "prices": {"price_1"},
}


class _Response:
    def __init__(self, body: dict) -> None:
        self.body = body

    def json(self) -> dict:
        return self.body


class _FilterIgnoringClient:
    """Answers ``/v1/events`` with every event, ignoring ``types[]``."""

    def __init__(self) -> None:
        self.counters = RequestCounters()
        self.asked: list[dict] = []

    def get(self, path: str, params: dict | None = None, **kwargs) -> _Response:
        assert path == "/v1/events"
        self.asked.append(dict(params or {}))
        data = EVENTS[: (params or {}).get("limit", 100)]
        return _Response({"object": "list", "url": path, "has_more": False, "data": data})


def _stream(name: str) -> streams.StripeObjectStream:
    cls = {c.name: c for c in streams.StripeObjectStream.__subclasses__()}[name]
    return cls(_FilterIgnoringClient())  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(OWN))
def test_events_of_other_types_or_objects_are_skipped(name, caplog):
    stream = _stream(name)
    caplog.set_level(logging.INFO, logger="connectors.stripe.streams")
    items = stream.read({"events_since": T0})
    pages = [item for item in items if isinstance(item, Page)]
    assert stream.client.asked[-1]["types[]"] == stream.event_types()  # the filter was asked for
    records = [stream.to_record(e, page) for page in pages for e in page.items]
    assert {r.pk for r in records} == OWN[name]
    with pytest.raises(ValueError, match="is not a"):  # and should one get through, it is not loaded
        stream.to_record(EVENTS[0], pages[0])
    skipped = len(EVENTS) - len(OWN[name])
    assert f"stripe.{name}: skipped {skipped} events" in caplog.text


def test_a_sync_never_loads_another_stream_s_events(fresh_warehouse_url):
    with psycopg.connect(fresh_warehouse_url) as conn:
        schema.ensure_meta_tables(conn)
        save_state(conn, "stripe", "customers", {"events_since": T0, "mode": "events"}, str(uuid.uuid4()))
    res = sync_stream(fresh_warehouse_url, _stream("customers"))
    assert res.records == 1 and res.rejected == 0
    assert rows(fresh_warehouse_url, "select _pk, record->>'object' from raw.stripe__customers") == [
        ("cus_1", "customer")
    ]
    # The cursor moves by the stream's own events only.
    (state,) = rows(fresh_warehouse_url, "select state from raw._stream_state")[0]
    assert state["events_since"] == T0 + 8
