"""HubSpot CRM v3: its client (private-app token, rate limit) and its streams (``streams.py``)."""

from __future__ import annotations

from connectors.config import BearerAuth, SourceConfig
from connectors.http_client import HttpClient, RateLimiter
from connectors.hubspot.streams import Associations, Companies, Contacts, Deals, FeedbackSubmissions, Owners, Tickets

NAME = "hubspot"
STREAMS = (Companies, Contacts, Deals, Tickets, FeedbackSubmissions, Owners, Associations)


def client(cfg: SourceConfig) -> HttpClient:
    # HubSpot: 100–190 requests per 10 s by tier, search 4–5 req/s; burst 1 keeps any 1 s window ≤ 5.
    return HttpClient("hubspot", cfg.base_url, BearerAuth(cfg.secret), rate_limiter=RateLimiter(4, burst=1))
