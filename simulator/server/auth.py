"""Credentials accepted by the mock vendors and their exact 401 responses.

Defaults are demo values; environment variables override them (read per request so tests
and operators can change them without restarting).
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid

from simulator.server.http import Request, Response

DEFAULT_STRIPE_KEY = "sk_test_postsale_demo"
DEFAULT_HUBSPOT_TOKEN = "demo-hubspot-token"
DEFAULT_MIXPANEL_USER = "demo-sa"
DEFAULT_MIXPANEL_SECRET = "demo-sa-secret"


def stripe_key() -> str:
    return os.environ.get("SIMULATOR_STRIPE_API_KEY", DEFAULT_STRIPE_KEY)


def hubspot_token() -> str:
    return os.environ.get("SIMULATOR_HUBSPOT_TOKEN", DEFAULT_HUBSPOT_TOKEN)


def mixpanel_credentials() -> tuple[str, str]:
    return (
        os.environ.get("SIMULATOR_MIXPANEL_USER", DEFAULT_MIXPANEL_USER),
        os.environ.get("SIMULATOR_MIXPANEL_SECRET", DEFAULT_MIXPANEL_SECRET),
    )


def _bearer(req: Request) -> str | None:
    value = req.header("authorization") or ""
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def _basic(req: Request) -> tuple[str, str] | None:
    value = req.header("authorization") or ""
    if value[:6].lower() != "basic ":
        return None
    try:
        user, _, secret = base64.b64decode(value[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, secret


def check_stripe(req: Request) -> Response | None:
    """None when authorised, else Stripe's 401. Stripe accepts Bearer or Basic (key as user)."""
    key = _bearer(req)
    if key is None and (basic := _basic(req)):
        key = basic[0]
    if key == stripe_key():
        return None
    if not key:
        message = (
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
            "authentication for details, or we can help at https://support.stripe.com/."
        )
    else:
        masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        message = f"Invalid API Key provided: {masked}"
    return Response.json(
        401,
        {"error": {"message": message, "type": "invalid_request_error"}},
        {"WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def check_hubspot(req: Request) -> Response | None:
    """None when authorised, else HubSpot's 401 (category INVALID_AUTHENTICATION)."""
    token = _bearer(req)
    if token == hubspot_token():
        return None
    message = (
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
        "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    )
    if token is not None:
        message = "The OAuth token used to make this call expired or is invalid. " + message
    return Response.json(
        401,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": "INVALID_AUTHENTICATION",
        },
    )


def check_mixpanel(req: Request) -> Response | None:
    """None when authorised, else Mixpanel's 401 (`{"error": ..., "status": "error"}`)."""
    creds = _basic(req)
    if creds is not None and creds == mixpanel_credentials():
        return None
    return Response.json(
        401,
        {"error": "Unable to authenticate request", "status": "error"},
        {"WWW-Authenticate": 'Basic realm="Mixpanel"'},
    )
