"""A source's configuration: base URL, credential and settings, from the environment or a Connection.

Settings are a JSON object (``<SOURCE>_SETTINGS`` or the Connection's extra): keys apply to
every stream of the source, ``{"streams": {"<name>": {...}}}`` overrides per stream. Known
keys: ``page_size``, ``lookback_seconds``, ``discover_properties`` (HubSpot),
``window_days``, ``late_arrival_days``, ``start_date``, ``end_date``, ``history_days``,
``project_id``, ``engage_base`` (Mixpanel), ``reject_malformed`` (any stream: send malformed
records to ``raw._rejected_records`` instead of failing), ``max_pages`` (any paged stream: the
pages one read may take, 50,000 by default, before it stops as a server paging without end;
a cursor that repeats stops it at once); per source: ``timeout_seconds``, ``max_retries``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import requests


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
ENV = {
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
    url_var, default_url, secret_var, what = ENV[source]
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
        raise RuntimeError(f"{source.upper()}_SETTINGS is not valid JSON: {exc}") from None
    streams = settings.get("streams") if isinstance(settings, dict) else None
    if (
        not isinstance(settings, dict)
        or not isinstance(streams or {}, dict)
        or not all(isinstance(v, dict) for v in (streams or {}).values())
    ):
        raise RuntimeError(
            f'{source.upper()}_SETTINGS must be a JSON object, with "streams" (if any) an object of objects '
            '({"page_size": 100, "streams": {"<stream>": {...}}})'
        )
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
