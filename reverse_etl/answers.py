"""Parse a HubSpot answer without trusting it: a body of the wrong shape is one clear error."""

from __future__ import annotations

import requests

from connectors.http_client import SourceHttpError


def json_object(resp: requests.Response, method: str, path: str) -> dict:
    """The answer's JSON object, or SourceHttpError naming the request (never the body's content)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SourceHttpError("hubspot", method, path, resp.status_code, "malformed answer (not a JSON object)")
    return body


def records(body: dict, key: str, method: str, path: str, status: int | None) -> list[dict]:
    """``body[key]`` as a list of objects (missing: empty), or SourceHttpError."""
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SourceHttpError("hubspot", method, path, status, f"malformed answer ({key!r} is not a list of objects)")
    return value
