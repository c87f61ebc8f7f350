"""Mixpanel: its client (service account, export rate limit) and its streams (``streams.py``)."""

from __future__ import annotations

import requests

from connectors.config import SourceConfig
from connectors.http_client import HttpClient, RateLimiter
from connectors.mixpanel.streams import Events, Profiles

NAME = "mixpanel"
STREAMS = (Events, Profiles)


def client(cfg: SourceConfig) -> HttpClient:
    # Mixpanel export: 3 queries/s and 60/hour; the hourly cap is answered with Retry-After.
    return HttpClient(
        "mixpanel",
        cfg.base_url,
        requests.auth.HTTPBasicAuth(cfg.login, cfg.secret),
        rate_limiter=RateLimiter(2, burst=2),
        timeout=(10.0, 600.0),
    )
