"""Source configuration and the registry of streams per source.

A source is a base URL, a credential and optional settings. Outside Airflow they come from
environment variables; inside Airflow from Connections (see ``connectors.runtime``).
Settings are a JSON object (``<SOURCE>_SETTINGS`` or the Connection's extra): keys apply to
every stream of the source, ``{"streams": {"<name>": {...}}}`` overrides per stream. Known
keys: ``page_size``, ``lookback_seconds``, ``discover_properties`` (HubSpot),
``window_days``, ``late_arrival_days``, ``start_date``, ``end_date``, ``history_days``,
``project_id``, ``engage_base`` (Mixpanel), ``reject_malformed`` (any stream: send malformed
records to ``raw._rejected_records`` instead of failing); per source: ``timeout_seconds``,
``max_retries``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import requests

from connectors.http_client import HttpClient, RateLimiter
from connectors.streams import hubspot, mixpanel, stripe
from connectors.streams.base import Stream

STREAMS: dict[str, dict[str, type[Stream]]] = {
    "stripe": {
        s.name: s
        for s in (
            stripe.Customers,
            stripe.Subscriptions,
            stripe.Invoices,
            stripe.Products,
            stripe.Prices,
            stripe.Events,
        )
    },
    "hubspot": {
        s.name: s
        for s in (
            hubspot.Companies,
            hubspot.Contacts,
            hubspot.Deals,
            hubspot.Tickets,
            hubspot.FeedbackSubmissions,
            hubspot.Owners,
            hubspot.Associations,
        )
    },
    "mixpanel": {s.name: s for s in (mixpanel.Events, mixpanel.Profiles)},
}


@dataclass(frozen=True)
class SourceConfig:
    """Where a source lives, how to authenticate to it, and its settings."""

    name: str
    base_url: str
    secret: str
    login: str = ""
    settings: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # never print the secret
        return f"SourceConfig(name={self.name!r}, base_url={self.base_url!r}, secret='***')"

    def stream_settings(self, stream: str) -> dict:
        base = {k: v for k, v in self.settings.items() if k != "streams"}
        return {**base, **(self.settings.get("streams") or {}).get(stream, {})}


# source -> (base URL variable, default base URL, secret variable, what the secret is)
_ENV = {
    "stripe": ("STRIPE_API_BASE", "https://api.stripe.com", "STRIPE_API_KEY", "a secret or restricted key"),
    "hubspot": ("HUBSPOT_API_BASE", "https://api.hubapi.com", "HUBSPOT_ACCESS_TOKEN", "a private-app token"),
    "mixpanel": (
        "MIXPANEL_API_BASE",
        "https://data.mixpanel.com",
        "MIXPANEL_SERVICE_ACCOUNT",
        "service account as username:secret",
    ),
}


def config_from_env(source: str) -> SourceConfig:
    url_var, default_url, secret_var, what = _ENV[source]
    secret = os.environ.get(secret_var, "")
    if not secret:
        raise RuntimeError(f"{source}: set {secret_var} ({what}), and {url_var} for a non-default endpoint")
    login = ""
    if source == "mixpanel":
        login, _, secret = secret.partition(":")
    raw = os.environ.get(f"{source.upper()}_SETTINGS", "")
    try:
        settings = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise RuntimeError(f"{source.upper()}_SETTINGS is not a JSON object: {exc}") from None
    if source == "mixpanel" and os.environ.get("MIXPANEL_PROJECT_ID"):
        settings.setdefault("project_id", os.environ["MIXPANEL_PROJECT_ID"])
    return SourceConfig(source, os.environ.get(url_var, default_url), secret, login, settings)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (Stripe keys, HubSpot private-app tokens)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def build_client(cfg: SourceConfig) -> HttpClient:
    """An HttpClient with the source's auth, a rate limit under its documented limit, and the
    ``timeout_seconds`` / ``max_retries`` settings when given."""
    client = _vendor_client(cfg)
    if "timeout_seconds" in cfg.settings:
        client.timeout = (10.0, float(cfg.settings["timeout_seconds"]))
    if "max_retries" in cfg.settings:
        client.max_retries = int(cfg.settings["max_retries"])
    return client


def _vendor_client(cfg: SourceConfig) -> HttpClient:
    if cfg.name == "stripe":
        # Stripe: 100 req/s live, 25 req/s per endpoint by default; stay under the latter.
        return HttpClient(
            "stripe",
            cfg.base_url,
            BearerAuth(cfg.secret),
            rate_limiter=RateLimiter(20, burst=5),
            headers={"Stripe-Version": stripe.STRIPE_API_VERSION},
        )
    if cfg.name == "hubspot":
        # HubSpot: 100–190 requests per 10 s by tier, search 4–5 req/s; burst 1 keeps any 1 s window ≤ 5.
        return HttpClient("hubspot", cfg.base_url, BearerAuth(cfg.secret), rate_limiter=RateLimiter(4, burst=1))
    if cfg.name == "mixpanel":
        # Mixpanel export: 3 queries/s and 60/hour; the hourly cap is answered with Retry-After.
        return HttpClient(
            "mixpanel",
            cfg.base_url,
            requests.auth.HTTPBasicAuth(cfg.login, cfg.secret),
            rate_limiter=RateLimiter(2, burst=2),
            timeout=(10.0, 600.0),
        )
    raise KeyError(f"unknown source {cfg.name!r}")


def build_stream(cfg: SourceConfig, stream: str) -> Stream:
    try:
        cls = STREAMS[cfg.name][stream]
    except KeyError:
        known = sorted(STREAMS.get(cfg.name, {}))
        raise KeyError(f"unknown stream {cfg.name}.{stream}; known: {known}") from None
    return cls(build_client(cfg), cfg.stream_settings(stream))
