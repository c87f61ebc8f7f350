"""Stripe v1: its client (secret key, pinned API version, rate limit) and its streams (``streams.py``)."""

from __future__ import annotations

from connectors.config import BearerAuth, SourceConfig
from connectors.http_client import HttpClient, RateLimiter
from connectors.stripe.streams import STRIPE_API_VERSION, Customers, Events, Invoices, Prices, Products, Subscriptions

NAME = "stripe"
STREAMS = (Customers, Subscriptions, Invoices, Products, Prices, Events)


def client(cfg: SourceConfig) -> HttpClient:
    # Stripe: 100 req/s live, 25 req/s per endpoint by default; stay under the latter.
    return HttpClient(
        "stripe",
        cfg.base_url,
        BearerAuth(cfg.secret),
        rate_limiter=RateLimiter(20, burst=5),
        headers={"Stripe-Version": STRIPE_API_VERSION},
    )
